/* The architecture's rules for guest writes to EFER and XCR0 (vmm/reg_rules.c): the way
 * into long mode an application processor takes, the ways out refused, and XSETBV's
 * dependencies between state components. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/x86_regs.h>
#include "vmm/reg_rules.h"
#include "host_shim.h"

static u64 efer_after(u64 cur, u64 cr0, u64 val)
{
	u64 out = 0xbad;

	assert_int_equal(vmm_efer_write(cur, cr0, val, &out), 0);
	return out;
}

/* Linux's trampoline: EFER.LME (with SCE, NXE) while paging is off; CR0.PG sets LMA. */
static void test_efer_into_long_mode(void **state)
{
	assert_int_equal(efer_after(0, CR0_PE, EFER_SCE | EFER_LME | EFER_NXE),
			 EFER_SCE | EFER_LME | EFER_NXE);
	/* LMA written while paging is off: the CPU's (clear) stays */
	assert_int_equal(efer_after(0, CR0_PE, EFER_LME | EFER_LMA), EFER_LME);
	/* in long mode: NXE toggled, LMA kept even when written as 0 */
	assert_int_equal(efer_after(EFER_LME | EFER_LMA, CR0_PE | CR0_PG, EFER_LME | EFER_NXE),
			 EFER_LME | EFER_LMA | EFER_NXE);
	/* the SVME the backend keeps in the guest's EFER is not the guest's to write */
	assert_int_equal(
		efer_after(EFER_SVME | EFER_LME | EFER_LMA, CR0_PG | CR0_PE, EFER_LME | EFER_LMA),
		EFER_LME | EFER_LMA);
}

static void test_efer_refused(void **state)
{
	u64 out = 0x1234;

	/* LME cleared or set under paging */
	assert_int_equal(vmm_efer_write(EFER_LME | EFER_LMA, CR0_PE | CR0_PG, EFER_NXE, &out),
			 -EINVAL);
	assert_int_equal(vmm_efer_write(0, CR0_PE | CR0_PG, EFER_LME, &out), -EINVAL);
	/* SVME, LMSLE, FFXSR, unknown bits */
	assert_int_equal(vmm_efer_write(0, 0, EFER_SVME, &out), -EINVAL);
	assert_int_equal(vmm_efer_write(0, 0, BIT(13), &out), -EINVAL);
	assert_int_equal(vmm_efer_write(0, 0, BIT(14), &out), -EINVAL);
	assert_int_equal(vmm_efer_write(0, 0, BIT(63), &out), -EINVAL);
	assert_int_equal(out, 0x1234);
	/* leaving long mode the architectural way: paging off first, then LME */
	assert_int_equal(vmm_efer_write(EFER_LME, CR0_PE, 0, &out), 0);
	assert_int_equal(out, 0);
}

static void test_xcr0(void **state)
{
	const u64 sup = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_MPX | XCR0_AVX512 | XCR0_TILE;

	assert_int_equal(vmm_xcr0_check(0, XCR0_X87, sup), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE, sup), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE | XCR0_AVX, sup), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512, sup), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_MPX, sup), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_TILE, sup), 0);
	/* index, x87, support */
	assert_int_equal(vmm_xcr0_check(1, XCR0_X87, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, 0, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_SSE, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE | XCR0_AVX, XCR0_X87 | XCR0_SSE),
			 -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | BIT(9), sup | BIT(9)), 0);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | BIT(9), sup), -EINVAL);
	/* dependencies */
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_AVX, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_BNDREGS, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_BNDCSR, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE | XCR0_AVX | BIT(5), sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | XCR0_SSE | XCR0_AVX512, sup), -EINVAL);
	assert_int_equal(vmm_xcr0_check(0, XCR0_X87 | BIT(17), sup), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_efer_into_long_mode),
		cmocka_unit_test(test_efer_refused),
		cmocka_unit_test(test_xcr0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
