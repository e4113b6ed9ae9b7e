/* The EPT entry format (arch/x86/vmx/ept.c) through the shared page-table engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pgtable.h>
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/vmx_regs.h"
#include "host_shim.h"

static int live_tables;

static u64 t_alloc(void *ctx)
{
	live_tables++;
	return (u64)(uintptr_t)aligned_alloc(4096, 4096);
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
	assert_int_equal(pt_init(pt, &pt_format_ept, &ops, 4, 2), 0);
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

/* The raw entry that maps va at `level` (walks the tables by hand, not through the engine). */
static u64 raw_entry(const struct pgtable *pt, u64 va, unsigned want_level)
{
	u64 *t = (u64 *)(uintptr_t)pt->root;

	for (unsigned l = pt->levels - 1;; l--) {
		u64 e = t[(va >> PT_LEVEL_SHIFT(l)) & 511];

		if (l == want_level)
			return e;
		assert_true(e & EPT_RWX);
		assert_false(e & EPT_LARGE);
		/* a table pointer: full permissions, no memory type, no ignore-PAT */
		assert_int_equal(e & ~EPT_ADDR_4K, EPT_RWX);
		t = (u64 *)(uintptr_t)(e & EPT_ADDR_4K);
	}
}

static void test_leaf_bits_4k(void **state)
{
	struct pgtable *pt = *state;
	u64 e;

	assert_int_equal(pt_map(pt, 0x5000, 0x123456000ull, 0x1000, PT_RWX), 0);
	e = raw_entry(pt, 0x5000, 0);
	assert_int_equal(e & EPT_ADDR_4K, 0x123456000ull);
	assert_true(e & EPT_R);
	assert_true(e & EPT_W);
	assert_true(e & EPT_X);
	assert_int_equal(FIELD_GET(EPT_MT, e), EPT_MT_WB);
	assert_true(e & EPT_IGNORE_PAT);
	assert_false(e & EPT_LARGE);
	assert_false(e & (EPT_A | EPT_D | EPT_SUPPRESS_VE));
	/* exactly these bits */
	assert_int_equal(e, 0x123456000ull | EPT_RWX | FIELD_PREP(EPT_MT, 6) | BIT(6));
}

static void test_permissions(void **state)
{
	struct pgtable *pt = *state;
	u32 flags;

	assert_int_equal(pt_map(pt, 0x1000, 0x1000, 0x1000, PT_R), 0);
	assert_int_equal(pt_map(pt, 0x2000, 0x2000, 0x1000, PT_R | PT_X), 0);
	assert_int_equal(pt_map(pt, 0x3000, 0x3000, 0x1000, PT_W), 0);
	assert_int_equal(raw_entry(pt, 0x1000, 0) & EPT_RWX, EPT_R);
	assert_int_equal(raw_entry(pt, 0x2000, 0) & EPT_RWX, EPT_R | EPT_X);
	/* write-only would be an EPT misconfiguration: W implies R */
	assert_int_equal(raw_entry(pt, 0x3000, 0) & EPT_RWX, EPT_R | EPT_W);
	assert_int_equal(pt_lookup(pt, 0x2000, NULL, &flags, NULL), 0);
	assert_int_equal(flags & PT_RWX, PT_R | PT_X);
	assert_int_equal(pt_lookup(pt, 0x4000, NULL, NULL, NULL), -ENOENT);
}

static void test_memory_types(void **state)
{
	struct pgtable *pt = *state;
	u32 flags;

	assert_int_equal(pt_map(pt, 0xfee00000ull, 0xfee00000ull, 0x1000,
				PT_RW | FIELD_PREP(PT_MT, PT_MT_UC)),
			 0);
	assert_int_equal(pt_map(pt, 0xfd000000ull, 0xfd000000ull, 0x1000,
				PT_RW | FIELD_PREP(PT_MT, PT_MT_WC)),
			 0);
	assert_int_equal(pt_map(pt, 0xfc000000ull, 0xfc000000ull, 0x1000,
				PT_RW | FIELD_PREP(PT_MT, PT_MT_WT)),
			 0);
	assert_int_equal(FIELD_GET(EPT_MT, raw_entry(pt, 0xfee00000ull, 0)), EPT_MT_UC);
	assert_int_equal(FIELD_GET(EPT_MT, raw_entry(pt, 0xfd000000ull, 0)), EPT_MT_WC);
	assert_int_equal(FIELD_GET(EPT_MT, raw_entry(pt, 0xfc000000ull, 0)), EPT_MT_WT);
	assert_true(raw_entry(pt, 0xfee00000ull, 0) & EPT_IGNORE_PAT);
	assert_int_equal(pt_lookup(pt, 0xfee00000ull, NULL, &flags, NULL), 0);
	assert_int_equal(FIELD_GET(PT_MT, flags), PT_MT_UC);
	assert_int_equal(pt_lookup(pt, 0xfc000000ull, NULL, &flags, NULL), 0);
	assert_int_equal(FIELD_GET(PT_MT, flags), PT_MT_WT);
}

static void test_large_pages(void **state)
{
	struct pgtable *pt = *state;
	unsigned counts[4], level;
	u64 e, pa;

	/* 1 GiB at 1 GiB, then 2 MiB at 2 GiB, then 4 KiB */
	assert_int_equal(pt_map(pt, GiB, 5 * GiB, GiB + 2 * MiB + 4 * KiB, PT_RWX), 0);
	pt_count_leaves(pt, counts);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[0], 1);
	e = raw_entry(pt, GiB, 2);
	assert_int_equal(e, 5 * GiB | EPT_RWX | FIELD_PREP(EPT_MT, EPT_MT_WB) | EPT_IGNORE_PAT |
				    EPT_LARGE);
	e = raw_entry(pt, 2 * GiB, 1);
	assert_int_equal(e & EPT_ADDR_2M, 6 * GiB);
	assert_true(e & EPT_LARGE);
	assert_int_equal(pt_lookup(pt, GiB + 0x12345, &pa, NULL, &level), 0);
	assert_int_equal(pa, 5 * GiB + 0x12345);
	assert_int_equal(level, 2);
}

static void test_split_keeps_type(void **state)
{
	struct pgtable *pt = *state;
	u64 e;

	assert_int_equal(
		pt_map(pt, 0, 0x40000000ull, 2 * MiB, PT_R | PT_X | FIELD_PREP(PT_MT, PT_MT_UC)),
		0);
	assert_int_equal(raw_entry(pt, 0, 1) & EPT_LARGE, EPT_LARGE);
	assert_int_equal(pt_unmap(pt, 0x1000, 0x1000), 0);
	e = raw_entry(pt, 0x2000, 0);
	assert_int_equal(e, (0x40000000ull + 0x2000) | EPT_R | EPT_X |
				    FIELD_PREP(EPT_MT, EPT_MT_UC) | EPT_IGNORE_PAT);
	assert_int_equal(raw_entry(pt, 0x1000, 0), 0);
}

static void test_caps(void **state)
{
	u64 cap = EPT_CAP_PWL4 | EPT_CAP_MT_WB;

	assert_int_equal(ept_max_leaf(cap), 0);
	assert_int_equal(ept_max_leaf(cap | EPT_CAP_2M), 1);
	assert_int_equal(ept_max_leaf(cap | EPT_CAP_2M | EPT_CAP_1G), 2);
	assert_int_equal(ept_max_leaf(cap | EPT_CAP_1G), 0); /* 1G without 2M: not used */
	assert_int_equal(ept_check_caps(cap), 0);
	assert_int_equal(ept_check_caps(EPT_CAP_MT_WB), -ENODEV);
	assert_int_equal(ept_check_caps(EPT_CAP_PWL4), -ENODEV);
	/* WB, walk length 4 (encoded 3), no A/D */
	assert_int_equal(ept_pointer(0x12345000ull), 0x12345000ull | 6 | (3 << 3));
	assert_int_equal(FIELD_GET(EPTP_PWL, ept_pointer(0)), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leaf_bits_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_keeps_type, setup, teardown),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
