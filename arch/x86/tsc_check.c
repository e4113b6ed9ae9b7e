/* CPUID frequency leaves are claims: leaf 0x16 is the nominal base frequency, which some CPU
 * models and emulators report for a TSC running at another rate entirely. */
#include "arch/x86/tsc_check.h"

enum tsc_pick tsc_cross_check(u64 claimed_hz, u64 measured_hz)
{
	u64 diff;

	if (!claimed_hz)
		return measured_hz ? TSC_USE_MEASUREMENT : TSC_NONE;
	if (!measured_hz)
		return TSC_USE_CLAIM;
	diff = claimed_hz > measured_hz ? claimed_hz - measured_hz : measured_hz - claimed_hz;
	if (diff > measured_hz / 100 * TSC_CLAIM_TOLERANCE_PERCENT)
		return TSC_USE_MEASUREMENT;
	return TSC_USE_CLAIM;
}
