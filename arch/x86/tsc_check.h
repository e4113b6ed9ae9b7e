/* The TSC rate CPUID claims, checked against the one measured (arch/x86/tsc.c). Pure: the
 * host unit tests link it. */
#ifndef ARCH_X86_TSC_CHECK_H
#define ARCH_X86_TSC_CHECK_H

#include <moat/types.h>

/* Claimed and measured rates may differ by this much before the claim is refused: more
 * than a measurement over a few PIT windows errs, far less than a base frequency that is
 * not the TSC's (Bochs: 3,500 MHz claimed, 50 MHz measured). */
#define TSC_CLAIM_TOLERANCE_PERCENT 5

enum tsc_pick {
	TSC_USE_CLAIM,	     /* the claim agrees with the measurement (or nothing measured) */
	TSC_USE_MEASUREMENT, /* the claim disagrees, or there is none */
	TSC_NONE,	     /* neither */
};

enum tsc_pick tsc_cross_check(u64 claimed_hz, u64 measured_hz);

#endif
