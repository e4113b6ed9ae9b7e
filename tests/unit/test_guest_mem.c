/* Guest memory set-up (vmm/guest.c): RAM and guard from the allocator, the nested map
 * covering exactly the RAM, moat's boot page tables, and the canaries catching a write
 * into the guard or the RAM edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pmm.h>
#include "arch/x86/pt_x86.h"
#include "vmm/elf.h"
#include "vmm/guest.h"
#include "host_shim.h"

/* The allocator, on the host heap (identity: pointer == address). */
static int live_allocs, fail_big;
static u64 last_align; /* of the last multi-page allocation */

u64 pages_alloc(u64 size, u64 align)
{
	void *p;

	if (size > PAGE_SIZE)
		last_align = align;
	if (fail_big && size > PAGE_SIZE)
		return 0;
	p = aligned_alloc(align, size);
	memset(p, 0, size);
	live_allocs++;
	return (u64)(uintptr_t)p;
}

void pages_free(u64 pa, u64 size)
{
	live_allocs--;
	free((void *)(uintptr_t)pa);
}

u64 page_alloc(void)
{
	return pages_alloc(PAGE_SIZE, PAGE_SIZE);
}

void page_free(u64 pa)
{
	pages_free(pa, PAGE_SIZE);
}

static const struct vmm_caps caps = {.name = "test",
				     .npt_fmt = &pt_format_npt,
				     .npt_levels = 4,
				     .npt_max_leaf = 1,
				     .nr_asids = 16,
				     .max_guests = 15,
				     .hypercall_insn = VMM_HC_VMMCALL};

static void make_guest(struct guest *g, u64 mem)
{
	memset(g, 0, sizeof(*g));
	strcpy(g->cfg.name, "t");
	strcpy(g->cfg.image, "img");
	g->cfg.memory = mem;
	assert_int_equal(guest_memory_init(g, &caps), 0);
}

static void test_layout(void **state)
{
	struct guest g;
	u64 pa;
	unsigned level, counts[4];
	char why[160];

	make_guest(&g, 4 * MiB);
	assert_int_equal(last_align, 2 * MiB);
	assert_true(IS_ALIGNED(g.ram_hpa, 2 * MiB));
	assert_int_equal(g.ram_size, 4 * MiB);
	assert_int_equal(pt_lookup(&g.npt, 0, &pa, NULL, &level), 0);
	assert_int_equal(pa, g.ram_hpa);
	assert_int_equal(level, 1);
	assert_int_equal(pt_lookup(&g.npt, 4 * MiB - 1, &pa, NULL, NULL), 0);
	assert_int_equal(pa, g.ram_hpa + 4 * MiB - 1);
	/* Nothing past the RAM: not the guard, not anything else. */
	assert_int_equal(pt_lookup(&g.npt, 4 * MiB, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(pt_lookup(&g.npt, 1ULL << 40, NULL, NULL, NULL), -ENOENT);
	pt_count_leaves(&g.npt, counts);
	assert_int_equal(counts[1], 2);
	assert_int_equal(counts[0] + counts[2], 0);
	/* Boot tables: PML4 at 0x1000 -> PDPT at 0x2000 -> PD at 0x3000 with 2 MiB pages. */
	u64 *pml4 = guest_ptr(&g, GUEST_BOOT_PML4, PAGE_SIZE);
	u64 *pd = guest_ptr(&g, GUEST_BOOT_PML4 + 2 * PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(pml4[0], 0x2000 | 3);
	assert_int_equal(pd[0], 0x000000 | 0x83);
	assert_int_equal(pd[1], 0x200000 | 0x83);
	assert_int_equal(pd[2], 0);
	assert_int_equal(guest_canaries_check(&g, why, sizeof(why)), 0);
	guest_memory_free(&g);
	assert_int_equal(live_allocs, 0);
}

static void test_canaries_detect(void **state)
{
	static const struct {
		u64 offset; /* from the RAM base */
		const char *where;
	} hits[] = {
		{8, "first RAM page"},
		{4 * MiB - 8, "last RAM page"},
		{4 * MiB, "guard after RAM"},
		{5 * MiB + 8, "guard after RAM"},
		{6 * MiB - 8, "guard after RAM"},
	};
	struct guest g;
	char why[160];

	for (unsigned i = 0; i < ARRAY_SIZE(hits); i++) {
		u8 *p;

		make_guest(&g, 4 * MiB);
		p = (u8 *)(uintptr_t)(g.ram_hpa + hits[i].offset);
		*p ^= 1;
		assert_int_equal(guest_canaries_check(&g, why, sizeof(why)), -EIO);
		if (!strstr(why, hits[i].where))
			fail_msg("'%s' should name '%s'", why, hits[i].where);
		*p ^= 1;
		assert_int_equal(guest_canaries_check(&g, why, sizeof(why)), 0);
		guest_memory_free(&g);
	}
	assert_int_equal(live_allocs, 0);
}

/* An OS guest owns its first page (Linux writes the warm-reset vector at 0x467 to start its
 * APs); its last page and the guard stay watched. */
static void test_canaries_os_guest(void **state)
{
	struct guest g;
	char why[160];
	u8 *p;

	memset(&g, 0, sizeof(g));
	strcpy(g.cfg.name, "linux");
	strcpy(g.cfg.kernel, "vmlinuz");
	g.cfg.memory = 4 * MiB;
	assert_int_equal(guest_memory_init(&g, &caps), 0);
	p = (u8 *)(uintptr_t)(g.ram_hpa + 0x467);
	*p ^= 1;
	assert_int_equal(guest_canaries_check(&g, why, sizeof(why)), 0);
	p = (u8 *)(uintptr_t)(g.ram_hpa + 4 * MiB - 8);
	*p ^= 1;
	assert_int_equal(guest_canaries_check(&g, why, sizeof(why)), -EIO);
	if (!strstr(why, "last RAM page"))
		fail_msg("'%s' should name the last RAM page", why);
	*p ^= 1;
	guest_memory_free(&g);
	assert_int_equal(live_allocs, 0);
}

static void test_out_of_memory(void **state)
{
	struct guest g;

	memset(&g, 0, sizeof(g));
	strcpy(g.cfg.name, "t");
	g.cfg.memory = 4 * MiB;
	fail_big = 1;
	assert_int_equal(guest_memory_init(&g, &caps), -ENOMEM);
	fail_big = 0;
	assert_int_equal(g.ram_hpa, 0);
	assert_int_equal(live_allocs, 0);
}

static void test_image_refused(void **state)
{
	static const u8 junk[64] = "not an elf";
	struct guest g;
	u64 entry;

	make_guest(&g, 2 * MiB);
	assert_int_equal(guest_load_image(&g, junk, sizeof(junk), &entry), -ENOEXEC);
	assert_non_null(strstr(shim_last_log, "no ELF magic"));
	guest_memory_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_canaries_detect),
		cmocka_unit_test(test_canaries_os_guest),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_image_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
