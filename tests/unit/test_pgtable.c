/* The page-table engine with the x86-64 and NPT formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pgtable.h>
#include "arch/x86/pt_x86.h"
#include "host_shim.h"

static int live_tables;
static int fail_after = -1;

static u64 t_alloc(void *ctx)
{
	void *p;

	if (fail_after == 0)
		return 0;
	if (fail_after > 0)
		fail_after--;
	p = aligned_alloc(4096, 4096);
	live_tables++;
	return (u64)(uintptr_t)p;
}

static void t_free(void *ctx, u64 pa)
{
	live_tables--;
	free((void *)(uintptr_t)pa);
}

static void *t_p2v(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

static const struct pt_ops ops = {t_alloc, t_free, t_p2v, NULL, NULL};

static int setup(void **state)
{
	struct pgtable *pt = calloc(1, sizeof(*pt));

	live_tables = 0;
	fail_after = -1;
	assert_int_equal(pt_init(pt, &pt_format_x86, &ops, 4, 2), 0);
	*state = pt;
	return 0;
}

static int teardown(void **state)
{
	struct pgtable *pt = *state;

	pt_destroy(pt);
	assert_int_equal(live_tables, 0);
	free(pt);
	return 0;
}

static void test_largest_pages_chosen(void **state)
{
	struct pgtable *pt = *state;
	unsigned counts[4];
	u64 pa;
	unsigned level;

	/* 4K at 1G-4K, a 2M run up to 1G... : [1G-8K, 3G+2M+4K) */
	assert_int_equal(
		pt_map(pt, GiB - 8 * KiB, GiB - 8 * KiB, 2 * GiB + 2 * MiB + 12 * KiB, PT_RW), 0);
	pt_count_leaves(pt, counts);
	assert_int_equal(counts[2], 2); /* 1G..3G */
	assert_int_equal(counts[1], 1); /* 3G..3G+2M */
	assert_int_equal(counts[0], 3); /* 2 below 1G, 1 above */
	assert_int_equal(pt_lookup(pt, GiB + 12345, &pa, NULL, &level), 0);
	assert_int_equal(pa, GiB + 12345);
	assert_int_equal(level, 2);
}

static void test_misaligned_pa_uses_small_pages(void **state)
{
	struct pgtable *pt = *state;
	unsigned counts[4];

	/* va 2M-aligned but pa only 4K-aligned: no large page possible. */
	assert_int_equal(pt_map(pt, 2 * MiB, 2 * MiB + 4096, 2 * MiB, PT_RW), 0);
	pt_count_leaves(pt, counts);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[0], 512);
}

static void test_no_large_pages_when_disallowed(void **state)
{
	struct pgtable pt;
	unsigned counts[4];

	assert_int_equal(pt_init(&pt, &pt_format_x86, &ops, 4, 0), 0);
	assert_int_equal(pt_map(&pt, 0, 0, 4 * MiB, PT_RW), 0);
	pt_count_leaves(&pt, counts);
	assert_int_equal(counts[0], 1024);
	assert_int_equal(counts[1], 0);
	pt_destroy(&pt);
	(void)state;
}

static void test_double_map_refused(void **state)
{
	struct pgtable *pt = *state;

	assert_int_equal(pt_map(pt, 0x200000, 0x200000, 0x200000, PT_RW), 0);
	assert_int_equal(pt_map(pt, 0x201000, 0x900000, 0x1000, PT_RW), -EEXIST);
	assert_int_equal(pt_map(pt, 0, 0x100000000, GiB, PT_RW), -EEXIST);
}

static void test_bad_arguments(void **state)
{
	struct pgtable *pt = *state;

	assert_int_equal(pt_map(pt, 0x1001, 0, 0x1000, PT_RW), -EINVAL);
	assert_int_equal(pt_map(pt, 0, 0, 0, PT_RW), -EINVAL);
	assert_int_equal(pt_map(pt, 1ULL << 48, 0, 0x1000, PT_RW), -ERANGE);
	assert_int_equal(pt_map(pt, (1ULL << 48) - 0x1000, 0, 0x2000, PT_RW), -ERANGE);
	assert_int_equal(pt_unmap(pt, 0x800, 0x1000), -EINVAL);
}

static void test_unmap_splits_large_page(void **state)
{
	struct pgtable *pt = *state;
	u64 pa;
	u32 flags;
	unsigned level;
	unsigned counts[4];

	assert_int_equal(pt_map(pt, GiB, 5 * GiB, GiB, PT_R | PT_X), 0);
	assert_int_equal(pt_unmap(pt, GiB + 2 * MiB + 4096, 4096), 0);
	assert_int_equal(pt_lookup(pt, GiB + 2 * MiB + 4096, &pa, NULL, NULL), -ENOENT);
	assert_int_equal(pt_lookup(pt, GiB + 2 * MiB, &pa, &flags, &level), 0);
	assert_int_equal(pa, 5 * GiB + 2 * MiB);
	assert_int_equal(level, 0);
	assert_true(flags & PT_X);
	assert_false(flags & PT_W);
	assert_int_equal(pt_lookup(pt, GiB + 100 * MiB, &pa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(pa, 5 * GiB + 100 * MiB);
	pt_count_leaves(pt, counts);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[1], 511);
	assert_int_equal(counts[0], 511);
}

static void test_unmap_whole_and_holes(void **state)
{
	struct pgtable *pt = *state;
	u64 pa;

	assert_int_equal(pt_map(pt, 0x10000, 0x10000, 0x3000, PT_RW), 0);
	assert_int_equal(pt_unmap(pt, 0, 4 * GiB), 0);
	assert_int_equal(pt_lookup(pt, 0x10000, &pa, NULL, NULL), -ENOENT);
	assert_int_equal(pt_map(pt, 0x10000, 0x10000, 0x3000, PT_RW), 0);
}

static void test_x86_entry_bits(void **state)
{
	u64 e = pt_format_x86.leaf(0x40000000, 2, PT_R | PT_W | FIELD_PREP(PT_MT, PT_MT_UC));

	assert_int_equal(e & X86_PTE_P, X86_PTE_P);
	assert_int_equal(e & X86_PTE_RW, X86_PTE_RW);
	assert_int_equal(e & X86_PTE_PS, X86_PTE_PS);
	assert_int_equal(e & (X86_PTE_PCD | X86_PTE_PWT), X86_PTE_PCD | X86_PTE_PWT);
	assert_int_equal(e & X86_PTE_NX, X86_PTE_NX);
	assert_int_equal(e & X86_PTE_US, 0);
	assert_int_equal(e & X86_PTE_ADDR_4K, 0x40000000);
	e = pt_format_x86.leaf(0x1000, 0, PT_R | PT_X);
	assert_int_equal(e, 0x1000 | X86_PTE_P);
	(void)state;
}

static void test_npt_user_bit_everywhere(void **state)
{
	struct pgtable pt;
	u64 *t;
	u32 flags;

	assert_int_equal(pt_init(&pt, &pt_format_npt, &ops, 4, 2), 0);
	assert_int_equal(pt_map(&pt, 0x3000, 0x7000, 0x1000, PT_RW), 0);
	t = (u64 *)(uintptr_t)pt.root;
	for (int level = 3; level > 0; level--) {
		assert_true(t[0] & X86_PTE_US);
		assert_true(t[0] & X86_PTE_P);
		t = (u64 *)(uintptr_t)(t[0] & X86_PTE_ADDR_4K);
	}
	assert_true(t[3] & X86_PTE_US);
	assert_int_equal(pt_lookup(&pt, 0x3abc, NULL, &flags, NULL), 0);
	assert_true(flags & PT_USER);
	pt_destroy(&pt);
	(void)state;
}

static void test_out_of_memory(void **state)
{
	struct pgtable pt;

	assert_int_equal(pt_init(&pt, &pt_format_x86, &ops, 4, 2), 0);
	fail_after = 1;
	assert_int_equal(pt_map(&pt, 0, 0, 0x1000, PT_RW), -ENOMEM);
	fail_after = -1;
	pt_destroy(&pt);
	(void)state;
}

/* p2v for a viewed table: only pages inside `ctx`'s 64 KiB window exist. */
static void *window_p2v(void *ctx, u64 pa)
{
	u8 *base = ctx;

	return pa < 0x10000 ? base + pa : NULL;
}

/* A table built elsewhere (a guest's own), walked with pt_view + pt_lookup: 4-level, 4 KiB,
 * 2 MiB and 1 GiB leaves, not present, reserved bits, a table outside what p2v reaches. */
static void test_view_walks_foreign_table(void **state)
{
	u8 *mem = aligned_alloc(4096, 0x10000);
	u64 *l3 = (u64 *)(mem + 0x1000), *l2 = (u64 *)(mem + 0x2000), *l1 = (u64 *)(mem + 0x3000),
	    *l0 = (u64 *)(mem + 0x4000);
	const struct pt_ops view_ops = {.p2v = window_p2v, .ctx = mem};
	struct pgtable pt;
	unsigned level;
	u64 pa;

	memset(mem, 0, 0x10000);
	l3[0] = 0x2000 | X86_PTE_P;
	l2[0] = 0x3000 | X86_PTE_P;
	l2[1] = 0x140000000ULL | X86_PTE_P | X86_PTE_PS; /* VA 1 GiB -> 5 GiB */
	l1[0] = 0x4000 | X86_PTE_P;
	l1[1] = 0x600000 | X86_PTE_P | X86_PTE_PS; /* VA 2 MiB -> 6 MiB */
	l1[2] = 0x20000 | X86_PTE_P;		   /* a table p2v cannot reach */
	l0[5] = 0x7000 | X86_PTE_P;
	pt_view(&pt, &pt_format_x86, &view_ops, 4, 2, 0x1000);
	assert_int_equal(pt_lookup(&pt, 0x5123, &pa, NULL, &level), 0);
	assert_int_equal(pa, 0x7123);
	assert_int_equal(level, 0);
	assert_int_equal(pt_lookup(&pt, 0x212345, &pa, NULL, &level), 0);
	assert_int_equal(pa, 0x612345);
	assert_int_equal(level, 1);
	assert_int_equal(pt_lookup(&pt, 0x40012345, &pa, NULL, &level), 0);
	assert_int_equal(pa, 0x140012345ULL);
	assert_int_equal(level, 2);
	assert_int_equal(pt_lookup(&pt, 0x6000, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(pt_lookup(&pt, 0x8000000000ULL, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(pt_lookup(&pt, 0x400000, NULL, NULL, NULL), -EFAULT);
	l1[1] |= BIT(20); /* below a 2 MiB page's address */
	assert_int_equal(pt_lookup(&pt, 0x212345, NULL, NULL, NULL), -EINVAL);
	l2[1] |= BIT(13); /* below a 1 GiB page's address */
	assert_int_equal(pt_lookup(&pt, 0x40012345, NULL, NULL, NULL), -EINVAL);
	l3[1] = X86_PTE_P | X86_PTE_PS; /* no 512 GiB pages */
	assert_int_equal(pt_lookup(&pt, 0x8000000000ULL, NULL, NULL, NULL), -EINVAL);
	pt_view(&pt, &pt_format_x86, &view_ops, 4, 1, 0x1000); /* no 1 GiB pages either */
	l2[1] &= ~BIT(13);
	assert_int_equal(pt_lookup(&pt, 0x40012345, NULL, NULL, NULL), -EINVAL);
	free(mem);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_largest_pages_chosen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misaligned_pa_uses_small_pages, setup,
						teardown),
		cmocka_unit_test(test_no_large_pages_when_disallowed),
		cmocka_unit_test_setup_teardown(test_double_map_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_splits_large_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_whole_and_holes, setup, teardown),
		cmocka_unit_test(test_x86_entry_bits),
		cmocka_unit_test(test_npt_user_bit_everywhere),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_view_walks_foreign_table),
	};
	return cmocka_run_group_tests_name("pgtable", tests, NULL, NULL);
}
