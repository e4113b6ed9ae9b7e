/* Device clocks derived from the TSC: a counter of `rate` Hz whose time base is the TSC
 * running at `hz` ticks per second. Exact (floor) conversions without a 128-bit product:
 * the remainders times the rates stay below 2^64 for any rate below 2^30 and hz below 2^34. */
#ifndef VMM_VCLOCK_H
#define VMM_VCLOCK_H

#include <moat/types.h>

/* Device ticks in `tsc` TSC ticks: floor(tsc * rate / hz); 0 without a TSC rate. */
static inline u64 vclock_ticks(u64 tsc, u64 hz, u64 rate)
{
	if (!hz)
		return 0;
	return tsc / hz * rate + tsc % hz * rate / hz;
}

/* TSC ticks until `ticks` device ticks have passed: ceil(ticks * hz / rate). */
static inline u64 vclock_tsc(u64 ticks, u64 hz, u64 rate)
{
	return ticks / rate * hz + (ticks % rate * hz + rate - 1) / rate;
}

#endif
