/* SVM backend data structures: VMCB intercept set-up, MSR and I/O permission maps, and the
 * NPT entry encoding through the shared page-table engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pgtable.h>
#include <stdio.h>
#include "arch/x86/pt_x86.h"
#include "arch/x86/svm/vmcb.h"
#include "host_shim.h"

static void test_vmcb_intercepts(void **state)
{
	struct vmcb *v = aligned_alloc(4096, sizeof(*v));
	const u32 need3 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_CPUID |
			  SVM_INTERCEPT_HLT | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
			  SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INIT | SVM_INTERCEPT_RDPMC |
			  SVM_INTERCEPT_INVD;
	const u32 need4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			  SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			  SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_RDTSCP | SVM_INTERCEPT_WBINVD |
			  SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_MWAIT_COND;

	memset(v, 0xcc, sizeof(*v));
	svm_vmcb_init(v, 0x11000, 0x22000, 5, 0x33000);
	assert_int_equal(v->control.intercept3 & need3, need3);
	assert_int_equal(v->control.intercept4 & need4, need4);
	/* #DB and #AC only (the benign-exception loops); the guest handles the rest. */
	assert_int_equal(v->control.exceptions, BIT(1) | BIT(17));
	assert_int_equal(v->control.iopm_pa, 0x11000);
	assert_int_equal(v->control.msrpm_pa, 0x22000);
	assert_int_equal(v->control.asid, 5);
	assert_int_equal(v->control.ncr3, 0x33000);
	assert_int_equal(v->control.np_control, SVM_NP_ENABLE);
	assert_true(v->control.vintr & SVM_VINTR_MASKING);
	assert_int_equal(v->control.tlb_control, SVM_TLB_FLUSH_ALL);
	assert_int_equal(v->control.eventinj, 0);
	assert_int_equal(v->save.g_pat, 0x0007040600070406ULL);
	assert_int_equal(v->save.rflags, 2);
	/* The layout itself: offsets the APM gives, through the raw bytes. */
	assert_int_equal(*(u64 *)((u8 *)v + 0x0b0), 0x33000);
	assert_int_equal(*(u32 *)((u8 *)v + 0x058), 5);
	assert_int_equal(*(u64 *)((u8 *)v + 0x668), 0x0007040600070406ULL);
	free(v);
}

static void test_msrpm(void **state)
{
	u8 *pm = malloc(SVM_MSRPM_SIZE);

	memset(pm, 0xff, SVM_MSRPM_SIZE);
	svm_msrpm_set(pm, 0, false, false);
	assert_int_equal(pm[0], 0xfc);
	svm_msrpm_set(pm, 0xc0000080, true, false); /* EFER: byte 0x820, bits 0-1 */
	assert_int_equal(pm[0x820], 0xfd);
	svm_msrpm_set(pm, 0xc0000100, false, false); /* FS_BASE: byte 0x840, bits 0-1 */
	assert_int_equal(pm[0x840], 0xfc);
	svm_msrpm_set(pm, 0xc0010117, false, true); /* HSAVE_PA: byte 0x1045, bits 6-7 */
	assert_int_equal(pm[0x1045], 0xbf);
	assert_false(svm_msrpm_get(pm, 0xc0000100, false));
	assert_false(svm_msrpm_get(pm, 0xc0000100, true));
	assert_true(svm_msrpm_get(pm, 0xc0000080, false));
	assert_false(svm_msrpm_get(pm, 0xc0000080, true));
	assert_true(svm_msrpm_get(pm, 0xc0000101, false));
	/* MSRs outside the three ranges are always intercepted and cannot be opened. */
	svm_msrpm_set(pm, 0x40000000, false, false);
	assert_true(svm_msrpm_get(pm, 0x40000000, false));
	for (size_t i = 0x1800; i < SVM_MSRPM_SIZE; i++)
		assert_int_equal(pm[i], 0xff);
	free(pm);
}

static void test_iopm(void **state)
{
	u8 *pm = malloc(SVM_IOPM_SIZE);

	memset(pm, 0xff, SVM_IOPM_SIZE);
	svm_iopm_set(pm, 0x3f8, false);
	assert_int_equal(pm[0x3f8 / 8], 0xfe);
	svm_iopm_set(pm, 0xffff, false);
	assert_int_equal(pm[0x1fff], 0x7f);
	svm_iopm_set(pm, 0x3f8, true);
	assert_int_equal(pm[0x3f8 / 8], 0xff);
	free(pm);
}

static u64 t_alloc(void *ctx)
{
	return (u64)(uintptr_t)aligned_alloc(4096, 4096);
}
static void t_free(void *ctx, u64 pa)
{
	free((void *)(uintptr_t)pa);
}
static void *t_p2v(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}
static const struct pt_ops ops = {t_alloc, t_free, t_p2v, NULL, NULL};

/* Every entry on the walk to va: U=1 at every level (NPT requires it), P and RW. */
static void assert_walk_user(const struct pgtable *pt, u64 va, unsigned want_level, u64 want_pa,
			     bool exec)
{
	u64 *t = (u64 *)(uintptr_t)pt->root;

	for (unsigned l = pt->levels - 1;; l--) {
		u64 e = t[(va >> PT_LEVEL_SHIFT(l)) & 511];

		assert_true(e & X86_PTE_P);
		assert_true(e & X86_PTE_US);
		assert_true(e & X86_PTE_RW);
		if (l == want_level) {
			if (l > 0)
				assert_true(e & X86_PTE_PS);
			assert_int_equal(e & X86_PTE_ADDR_4K & ~(PT_LEVEL_SIZE(l) - 1), want_pa);
			assert_int_equal(!!(e & X86_PTE_NX), !exec);
			return;
		}
		assert_false(e & X86_PTE_PS);
		t = (u64 *)(uintptr_t)(e & X86_PTE_ADDR_4K);
	}
}

static void test_npt_encoding(void **state)
{
	struct pgtable pt;
	unsigned counts[4];

	assert_int_equal(pt_init(&pt, &pt_format_npt, &ops, 4, 2), 0);
	/* 16 MiB of guest RAM at a 2 MiB aligned host address: 8 x 2M. */
	assert_int_equal(pt_map(&pt, 0, 0x3ec00000, 16 << 20, PT_RWX), 0);
	pt_count_leaves(&pt, counts);
	assert_int_equal(counts[1], 8);
	assert_int_equal(counts[0], 0);
	assert_walk_user(&pt, 0, 1, 0x3ec00000, true);
	assert_walk_user(&pt, (16 << 20) - 1, 1, 0x3ec00000 + (14 << 20), true);
	/* 1 GiB aligned on both sides: one 1G leaf. */
	assert_int_equal(pt_map(&pt, 1ULL << 30, 2ULL << 30, 1ULL << 30, PT_RW), 0);
	assert_walk_user(&pt, (1ULL << 30) + 5, 2, 2ULL << 30, false);
	/* Unaligned: 4K pages. */
	assert_int_equal(pt_map(&pt, 0x40000000ULL * 3, 0x1000, 0x3000, PT_RW), 0);
	assert_walk_user(&pt, 0x40000000ULL * 3 + 0x2000, 0, 0x3000, false);
	/* Nothing beyond the RAM. */
	assert_int_equal(pt_lookup(&pt, 16 << 20, NULL, NULL, NULL), -ENOENT);
	pt_destroy(&pt);
}

static void test_entry_checks(void **state)
{
	struct vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct svm_entry_state st;
	const u64 mask = (1ULL << 48) - 1;
	char why[240];

	svm_vmcb_init(v, 0x11000, 0x22000, 1, 0x33000);
	v->save.efer = BIT(12) | BIT(10) | BIT(8); /* SVME LMA LME */
	v->save.cr0 = 0x80010033;
	v->save.cr4 = BIT(5);
	v->save.cr3 = 0x1000;
	v->save.cs.attrib = SVM_SEG_P | SVM_SEG_S | 0xb | SVM_SEG_L | SVM_SEG_G;
	svm_entry_capture(v, &st);
	assert_int_equal(svm_entry_problems(&st, mask, why, sizeof(why)), 0);
	assert_string_equal(why, "");

	st.cr0 |= BIT(32);
	assert_int_equal(svm_entry_problems(&st, mask, why, sizeof(why)), 1);
	assert_string_equal(why, "CR0[63:32]");
	svm_entry_capture(v, &st);
	st.efer &= ~BIT(12);
	st.cr4 = 0;
	st.cs_attrib |= SVM_SEG_DB;
	st.asid = 0;
	st.intercept4 = 0;
	assert_int_equal(svm_entry_problems(&st, mask, why, sizeof(why)), 5);
	assert_non_null(strstr(why, "EFER.SVME=0"));
	assert_non_null(strstr(why, "long mode without CR4.PAE"));
	assert_non_null(strstr(why, "CS.L and CS.D"));
	assert_non_null(strstr(why, "ASID 0"));
	assert_non_null(strstr(why, "VMRUN not intercepted"));
	/* A short buffer truncates, never overflows. */
	assert_int_equal(svm_entry_problems(&st, mask, why, 8), 5);
	assert_true(strlen(why) < 8);
	svm_entry_capture(v, &st);
	st.ncr3 = 1ULL << 52;
	st.cr0 |= BIT(29);
	st.cr0 &= ~BIT(30);
	assert_int_equal(svm_entry_problems(&st, mask, why, sizeof(why)), 2);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmcb_intercepts),
		cmocka_unit_test(test_msrpm),
		cmocka_unit_test(test_iopm),
		cmocka_unit_test(test_npt_encoding),
		cmocka_unit_test(test_entry_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
