/* The physical page allocator: built from firmware maps (including broken ones), never
 * handing out what is not usable RAM, never handing out a page twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pmm.h>
#include "host_shim.h"

static struct pmm p;

/* A q35-like map: low RAM, a hole, RAM to 2 GiB with a reserved tail, MMIO, RAM above 4G. */
static const struct mem_range q35_map[] = {
	{0x0, 0x9fc00, MEM_USABLE, 0},
	{0x9fc00, 0x400, MEM_RESERVED, 0},
	{0xf0000, 0x10000, MEM_RESERVED, 0},
	{0x100000, 0x7fedf000, MEM_USABLE, 0},
	{0x7ffdf000, 0x21000, MEM_RESERVED, 0},
	{0xb0000000, 0x10000000, MEM_RESERVED, 0},
	{0x100000000ULL, 0x40000000ULL, MEM_USABLE, 0},
};

static bool in_free(u64 a)
{
	for (unsigned i = 0; i < p.nr_free; i++)
		if (a >= p.free[i].base && a < p.free[i].end)
			return true;
	return false;
}

static void test_q35_map_and_holes(void **state)
{
	struct pmm_range holes[] = {{0x200000, 0x431000}};

	assert_int_equal(pmm_init(&p, q35_map, 7, holes, 1, 0x1000), 0);
	assert_false(in_free(0)); /* below min_addr */
	assert_true(in_free(0x1000));
	assert_false(in_free(0x9f000));	 /* partial page before the reserved 0x9fc00 */
	assert_false(in_free(0x200000)); /* the image */
	assert_false(in_free(0x430fff));
	assert_true(in_free(0x431000));
	assert_false(in_free(0x7ffdf000)); /* reserved tail */
	assert_false(in_free(0xb0000000)); /* MMIO */
	assert_true(in_free(0x100000000ULL));
	assert_int_equal(p.usable_bytes, p.free_bytes);
	assert_int_equal(p.usable_bytes,
			 0x9e000 + (0x7ffdf000 - 0x100000) - (0x431000 - 0x200000) + 0x40000000ULL);
	(void)state;
}

static void test_reserved_wins_over_overlapping_usable(void **state)
{
	const struct mem_range broken[] = {
		{0x100000, 0x1000000, MEM_USABLE, 0},
		{0x800000, 0x1000000, MEM_USABLE, 0}, /* overlaps the first */
		{0x400000, 0x2000, MEM_ACPI_NVS, 0},  /* inside usable */
		{0x1100, 0x10, MEM_USABLE, 0},	      /* less than a page */
	};

	assert_int_equal(pmm_init(&p, broken, 4, NULL, 0, 0), 0);
	assert_false(in_free(0x1000));
	assert_false(in_free(0x400000));
	assert_false(in_free(0x401000));
	assert_true(in_free(0x402000));
	assert_true(in_free(0x17ff000));
	assert_false(in_free(0x1800000));
	assert_int_equal(p.usable_bytes, 0x1700000 - 0x2000);
	(void)state;
}

static void test_alloc_free_no_overlap(void **state)
{
	u64 got[64];

	assert_int_equal(pmm_init(&p, q35_map, 7, NULL, 0, 0x1000), 0);
	for (int i = 0; i < 64; i++) {
		u64 size = (u64)(i % 5 + 1) * 4096;

		got[i] = pmm_alloc_range(&p, size, 4096, 0);
		assert_true(got[i] != 0);
		assert_false(pmm_is_free(&p, got[i], size));
		for (int j = 0; j < i; j++) {
			u64 sj = (u64)(j % 5 + 1) * 4096;

			assert_true(got[i] + size <= got[j] || got[j] + sj <= got[i]);
		}
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(pmm_free_range(&p, got[i], (u64)(i % 5 + 1) * 4096), 0);
	assert_int_equal(p.free_bytes, p.usable_bytes);
	/* Freeing merges back into the original ranges. */
	assert_int_equal(p.nr_free, 3);
	(void)state;
}

static void test_alignment_and_limit(void **state)
{
	u64 a;

	assert_int_equal(pmm_init(&p, q35_map, 7, NULL, 0, 0x1000), 0);
	a = pmm_alloc_range(&p, 2 * MiB, GiB, 0);
	assert_int_equal(a % GiB, 0);
	a = pmm_alloc_range(&p, 4096, 4096, 0x9f000);
	assert_true(a > 0 && a + 4096 <= 0x9f000);
	assert_int_equal(pmm_alloc_range(&p, 4096, 4096, 0x1000), 0); /* nothing below 4K */
	assert_int_equal(pmm_alloc_range(&p, 3000, 4096, 0), 0);      /* not a page multiple */
	assert_int_equal(pmm_alloc_range(&p, 4096, 3 * 4096, 0), 0);  /* align not a power of 2 */
	assert_int_equal(pmm_alloc_range(&p, 64 * GiB, 4096, 0), 0);  /* too big */
	(void)state;
}

static void test_double_free_and_claim(void **state)
{
	u64 a;

	assert_int_equal(pmm_init(&p, q35_map, 7, NULL, 0, 0x1000), 0);
	a = pmm_alloc_range(&p, 8192, 4096, 0);
	assert_int_equal(pmm_free_range(&p, a, 8192), 0);
	assert_int_equal(pmm_free_range(&p, a, 4096), -EINVAL);
	assert_int_equal(pmm_free_range(&p, a + 1, 4096), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x8000, 0x1000), 0);
	assert_int_equal(pmm_claim(&p, 0x8000, 0x1000), -EBUSY);
	assert_int_equal(pmm_claim(&p, 0xb0000000, 0x1000), -EBUSY); /* MMIO never claimable */
	(void)state;
}

static void test_fragmentation_limit(void **state)
{
	struct mem_range many[PMM_MAX_RANGES + 4];

	/* More disjoint usable ranges than the list holds: reported, not overflowed. */
	for (unsigned i = 0; i < PMM_MAX_RANGES + 4; i++)
		many[i] = (struct mem_range){(u64)i * 0x2000 + 0x100000, 0x1000, MEM_USABLE, 0};
	assert_int_equal(pmm_init(&p, many, PMM_MAX_RANGES + 4, NULL, 0, 0), -ENOSPC);
	assert_true(p.nr_free <= PMM_MAX_RANGES);
	(void)state;
}

/* A firmware-reserved DMA range (VT-d RMRR) in what the map calls usable RAM: withheld for
 * good, never allocated, and only its free part counted. */
static void test_withhold_rmrr(void **state)
{
	struct pmm_range holes[] = {{0x200000, 0x431000}};
	u64 removed, a, usable;

	assert_int_equal(pmm_init(&p, q35_map, 7, holes, 1, 0x1000), 0);
	usable = p.usable_bytes;

	assert_int_equal(pmm_withhold(&p, 0x6000000, 0x10000, &removed), 0);
	assert_int_equal(removed, 0x10000);
	assert_false(in_free(0x6000000));
	assert_false(in_free(0x600f000));
	assert_true(in_free(0x5fff000));
	assert_true(in_free(0x6010000));
	assert_false(pmm_any_free(&p, 0x6000000, 0x10000));
	assert_true(pmm_any_free(&p, 0x5fff000, 0x2000));
	assert_int_equal(p.usable_bytes, usable - 0x10000);
	assert_int_equal(p.free_bytes, usable - 0x10000);
	/* Straddling the image (not free) and free RAM: only the free part counts. */
	assert_int_equal(pmm_withhold(&p, 0x42f000, 0x4000, &removed), 0);
	assert_int_equal(removed, 0x2000);
	/* Entirely reserved by firmware: nothing to take. */
	assert_int_equal(pmm_withhold(&p, 0x7ffdf000, 0x1000, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(pmm_withhold(&p, 0x6000800, 0x1000, &removed), -EINVAL);
	/* Allocate everything below 256 MiB: nothing comes from the withheld ranges. */
	while ((a = pmm_alloc_range(&p, 0x1000, 0x1000, 0x10000000)) != 0)
		assert_false((a >= 0x6000000 && a < 0x6010000) || (a >= 0x42f000 && a < 0x433000));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q35_map_and_holes),
		cmocka_unit_test(test_reserved_wins_over_overlapping_usable),
		cmocka_unit_test(test_alloc_free_no_overlap),
		cmocka_unit_test(test_alignment_and_limit),
		cmocka_unit_test(test_double_free_and_claim),
		cmocka_unit_test(test_fragmentation_limit),
		cmocka_unit_test(test_withhold_rmrr),
	};
	return cmocka_run_group_tests_name("pmm", tests, NULL, NULL);
}
