/* The calibrated TSC frequency checked against a second clock, the ACPI PM timer. */
#define LOG_TAG "tsc"
#include <moat/acpi.h>
#include <moat/bits.h>
#include <moat/string.h>
#include "tests/hv/selftest.h"
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define TOLERANCE_PERCENT 5
/* Bochs' TSC runs at its configured ips (50 MHz in the harness). */
#define MIN_PLAUSIBLE_HZ (10 * 1000 * 1000ULL)
#define MAX_PLAUSIBLE_HZ (10 * 1000 * 1000 * 1000ULL)

SELFTEST_ORDER(st_tsc_frequency, "boot", "tsc-frequency", 20)
{
	u64 hz = tsc_hz(), measured, diff;
	unsigned bits;
	u16 port;

	CHECK(ctx, hz >= MIN_PLAUSIBLE_HZ && hz <= MAX_PLAUSIBLE_HZ, "TSC %llu Hz is implausible",
	      (unsigned long long)hz);
	if (acpi_pm_timer(&port, &bits)) {
		st_skip(ctx, "no ACPI PM timer to compare the TSC with");
		return;
	}
	if (!strcmp(tsc_source(), "ACPI PM timer")) {
		st_skip(ctx, "the TSC was calibrated against the PM timer itself: the PIT gave no "
			     "usable window");
		return;
	}
	measured = tsc_hz_from_pm_timer();
	CHECK(ctx, measured, "ACPI PM timer at port %#x does not count", port);
	diff = measured > hz ? measured - hz : hz - measured;
	CHECK(ctx, diff * 100 <= hz * TOLERANCE_PERCENT,
	      "TSC calibrated at %llu kHz, PM timer says %llu kHz", (unsigned long long)(hz / 1000),
	      (unsigned long long)(measured / 1000));
}
