/* The CPUID TSC claim against the PIT measurement (arch/x86/tsc_check.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "arch/x86/tsc_check.h"
#include "host_shim.h"

#define MHZ 1000000ull

/* Bochs (corei7_skylake_x): CPUID 0x16 claims 3,500 MHz, the TSC runs at the 50 MHz ips. */
static void test_base_frequency_claim_refused(void **state)
{
	assert_int_equal(tsc_cross_check(3500 * MHZ, 50002 * 1000), TSC_USE_MEASUREMENT);
	/* the review's case: 70x off the other way round is refused as well */
	assert_int_equal(tsc_cross_check(50 * MHZ, 3500 * MHZ), TSC_USE_MEASUREMENT);
}

/* A claim within the tolerance is kept: it is exact, the measurement is not. */
static void test_agreeing_claim_used(void **state)
{
	assert_int_equal(tsc_cross_check(2694 * MHZ, 2695 * MHZ), TSC_USE_CLAIM);
	assert_int_equal(tsc_cross_check(2000 * MHZ, 2000 * MHZ * 104 / 100), TSC_USE_CLAIM);
	assert_int_equal(tsc_cross_check(2000 * MHZ * 96 / 100, 2000 * MHZ), TSC_USE_CLAIM);
}

/* Just past the tolerance, either side. */
static void test_tolerance_edges(void **state)
{
	assert_int_equal(tsc_cross_check(2000 * MHZ * 106 / 100, 2000 * MHZ), TSC_USE_MEASUREMENT);
	assert_int_equal(tsc_cross_check(2000 * MHZ * 94 / 100, 2000 * MHZ), TSC_USE_MEASUREMENT);
}

/* One source missing: the other one; none: nothing. */
static void test_missing_sources(void **state)
{
	assert_int_equal(tsc_cross_check(0, 50 * MHZ), TSC_USE_MEASUREMENT);
	assert_int_equal(tsc_cross_check(3500 * MHZ, 0), TSC_USE_CLAIM);
	assert_int_equal(tsc_cross_check(0, 0), TSC_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_frequency_claim_refused),
		cmocka_unit_test(test_agreeing_claim_used),
		cmocka_unit_test(test_tolerance_edges),
		cmocka_unit_test(test_missing_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
