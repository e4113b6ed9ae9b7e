/* The calibrated TSC frequency checked against a second clock, the ACPI PM timer. */
#define LOG_TAG "tsc"
#include <moat/acpi.h>
#include <moat/bits.h>
#include <moat/selftest.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define MEASURE_PM_TICKS (ACPI_PM_TIMER_HZ / 20) /* 50 ms */
#define MAX_PM_READS 100000000u
#define TOLERANCE_PERCENT 5
/* Bochs' TSC runs at its configured ips (50 MHz in the harness). */
#define MIN_PLAUSIBLE_HZ (10 * 1000 * 1000ULL)
#define MAX_PLAUSIBLE_HZ (10 * 1000 * 1000 * 1000ULL)

/* TSC ticks over MEASURE_PM_TICKS of the PM timer, or 0 if it does not advance. */
static u64 tsc_per_pm_window(u16 port, unsigned bits)
{
	u64 mask = GENMASK(bits - 1, 0);
	u32 start = inl(port), now = start;
	u64 t0 = rdtsc();

	for (u32 reads = 0; reads < MAX_PM_READS; reads++) {
		now = inl(port);
		if (((now - start) & mask) >= MEASURE_PM_TICKS)
			return (rdtsc() - t0) * ACPI_PM_TIMER_HZ / ((now - start) & mask);
	}
	return 0;
}

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
	/* The median of three windows: one stretched by a descheduled emulator is ignored. */
	{
		u64 a = tsc_per_pm_window(port, bits), b = tsc_per_pm_window(port, bits);
		u64 c = tsc_per_pm_window(port, bits);

		measured = MAX(MIN(a, b), MIN(MAX(a, b), c));
	}
	CHECK(ctx, measured, "ACPI PM timer at port %#x does not count", port);
	diff = measured > hz ? measured - hz : hz - measured;
	CHECK(ctx, diff * 100 <= hz * TOLERANCE_PERCENT,
	      "TSC calibrated at %llu kHz, PM timer says %llu kHz", (unsigned long long)(hz / 1000),
	      (unsigned long long)(measured / 1000));
}
