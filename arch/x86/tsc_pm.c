/* The TSC against the ACPI PM timer (3.579545 MHz, ACPI 6.5 4.8.3.3): the second clock moat
 * reads. The boot calibrates against it when PIT channel 2 gave no usable window (an
 * emulator descheduled past the PIT's 16-bit wrap again and again), and the test image's
 * tsc-frequency check compares the two. */
#include <moat/acpi.h>
#include <moat/bits.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define MEASURE_PM_TICKS (ACPI_PM_TIMER_HZ / 40) /* 25 ms */
#define MAX_PM_READS 100000000u
#define PAIR_TRIES 8
#define PM_WINDOWS 5

/* One (TSC, PM timer) pair read close together: a pair whose two TSC reads around the
 * port read lie far apart (the emulator thread was descheduled in between) is read again. */
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

/* TSC ticks per second over MEASURE_PM_TICKS of the PM timer, or 0 if it does not advance. */
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

u64 tsc_hz_from_pm_timer(void)
{
	u64 w[PM_WINDOWS];
	unsigned bits;
	u16 port;

	if (acpi_pm_timer(&port, &bits))
		return 0;
	/* The median of five windows: one disturbed despite the close pairs is ignored. */
	for (unsigned i = 0; i < PM_WINDOWS; i++) {
		w[i] = tsc_per_pm_window(port, bits);
		for (unsigned k = i; k > 0 && w[k] < w[k - 1]; k--) {
			u64 t = w[k];

			w[k] = w[k - 1];
			w[k - 1] = t;
		}
	}
	return w[PM_WINDOWS / 2];
}
