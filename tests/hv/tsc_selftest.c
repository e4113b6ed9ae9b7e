/* The calibrated TSC frequency checked against a second clock, the ACPI PM timer. */
#define LOG_TAG "tsc"
#include <moat/acpi.h>
#include <moat/bits.h>
#include "tests/hv/selftest.h"
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define MEASURE_PM_TICKS (ACPI_PM_TIMER_HZ / 40) /* 25 ms */
#define MAX_PM_READS 100000000u
#define TOLERANCE_PERCENT 5
/* Bochs' TSC runs at its configured ips (50 MHz in the harness). */
#define MIN_PLAUSIBLE_HZ (10 * 1000 * 1000ULL)
#define MAX_PLAUSIBLE_HZ (10 * 1000 * 1000 * 1000ULL)

/* One (TSC, PM timer) pair read close together: a pair whose two TSC reads around the
 * port read lie far apart (the emulator thread was descheduled in between) is read again. */
#define PAIR_TRIES 8
static void pm_pair(u16 port, u64 *tsc, u32 *pm)
{
	u64 best = ~0ULL;

	*tsc = 0;
	*pm = 0;
	for (unsigned i = 0; i < PAIR_TRIES; i++) {
		u64 a = rdtsc();
		u32 v = inl(port);
		u64 b = rdtsc();

		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*pm = v;
		}
	}
}

/* TSC ticks over MEASURE_PM_TICKS of the PM timer, or 0 if it does not advance. */
static u64 tsc_per_pm_window(u16 port, unsigned bits)
{
	u64 mask = GENMASK(bits - 1, 0), t0, t1;
	u32 start, now;

	pm_pair(port, &t0, &start);
	for (u32 reads = 0; reads < MAX_PM_READS; reads++) {
		if (((inl(port) - start) & mask) < MEASURE_PM_TICKS)
			continue;
		pm_pair(port, &t1, &now);
		return (t1 - t0) * ACPI_PM_TIMER_HZ / ((now - start) & mask);
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
	/* The median of five windows: a window disturbed by a descheduled emulator thread
	 * despite the close pairs is ignored. */
	{
		u64 w[5];

		for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
			w[i] = tsc_per_pm_window(port, bits);
			for (unsigned k = i; k > 0 && w[k] < w[k - 1]; k--) {
				u64 t = w[k];

				w[k] = w[k - 1];
				w[k - 1] = t;
			}
		}
		measured = w[ARRAY_SIZE(w) / 2];
	}
	CHECK(ctx, measured, "ACPI PM timer at port %#x does not count", port);
	diff = measured > hz ? measured - hz : hz - measured;
	CHECK(ctx, diff * 100 <= hz * TOLERANCE_PERCENT,
	      "TSC calibrated at %llu kHz, PM timer says %llu kHz", (unsigned long long)(hz / 1000),
	      (unsigned long long)(measured / 1000));
}
