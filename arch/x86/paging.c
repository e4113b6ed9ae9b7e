/* The hypervisor's own identity page tables. */
#define LOG_TAG "paging"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/pt_x86.h"
#include "arch/x86/trap.h"

/* Tables come from a pool inside the image until the switch: firmware's own page tables
 * may sit in memory the allocator considers free. */
#define POOL_PAGES 512
static u8 pool[POOL_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static unsigned pool_used;
static bool switched;

struct pgtable hv_pt;

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

static u64 hv_alloc_table(void *ctx)
{
	if (pool_used < POOL_PAGES)
		return (u64)(uintptr_t)pool[pool_used++];
	return switched ? page_alloc() : 0;
}

static void hv_free_table(void *ctx, u64 pa)
{
	if (pa >= (u64)(uintptr_t)pool && pa < (u64)(uintptr_t)pool + sizeof(pool))
		return;
	page_free(pa);
}

static void *hv_p2v(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

static const struct pt_ops hv_pt_ops = {
	.alloc_table = hv_alloc_table,
	.free_table = hv_free_table,
	.p2v = hv_p2v,
};

static bool is_ram_type(u32 t)
{
	return t == MEM_USABLE || t == MEM_ACPI_RECLAIM || t == MEM_ACPI_NVS ||
	       t == MEM_BOOT_DATA || t == MEM_PERSISTENT;
}

/* Whether any RAM range of the map covers addr. */
static bool addr_is_ram(const struct boot_info *bi, u64 addr)
{
	for (u32 i = 0; i < bi->nr_mem; i++)
		if (is_ram_type(bi->mem[i].type) && addr >= bi->mem[i].base &&
		    addr - bi->mem[i].base < bi->mem[i].length)
			return true;
	return false;
}

/* The next address after `addr` where the RAM/non-RAM answer may change. */
static u64 next_boundary(const struct boot_info *bi, u64 addr, u64 limit)
{
	u64 next = limit;

	for (u32 i = 0; i < bi->nr_mem; i++) {
		u64 b = ALIGN_DOWN(bi->mem[i].base, PAGE_SIZE);
		u64 e = ALIGN_UP(bi->mem[i].base + bi->mem[i].length, PAGE_SIZE);

		if (b > addr && b < next)
			next = b;
		if (e > addr && e < next)
			next = e;
	}
	return next;
}

static int map_span(u64 base, u64 end, u32 flags)
{
	if (end <= base)
		return 0;
	return pt_map(&hv_pt, base, base, end - base, flags);
}

/* Maps [base, end) with RAM write-back and the rest uncached, skipping the image. */
static int map_identity(const struct boot_info *bi, u64 base, u64 end)
{
	u64 img_lo = (u64)(uintptr_t)__image_start, img_hi = (u64)(uintptr_t)__image_end;
	int err;

	while (base < end) {
		u64 next = next_boundary(bi, base, end);
		u32 flags = PT_RW | (addr_is_ram(bi, base) ? FIELD_PREP(PT_MT, PT_MT_WB)
							   : FIELD_PREP(PT_MT, PT_MT_UC));

		if (base < img_hi && next > img_lo) {
			err = map_span(base, img_lo, flags);
			if (!err)
				err = map_span(img_hi, next, flags);
		} else {
			err = map_span(base, next, flags);
		}
		if (err)
			return err;
		base = next;
	}
	return 0;
}

static int map_image(void)
{
	u64 text = (u64)(uintptr_t)__image_start, text_end = (u64)(uintptr_t)__text_end;
	u64 ro_end = (u64)(uintptr_t)__rodata_end, end = (u64)(uintptr_t)__image_end;
	int err;

	err = map_span(text, text_end, PT_R | PT_X | PT_GLOBAL);
	if (!err)
		err = map_span(text_end, ro_end, PT_R | PT_GLOBAL);
	if (!err)
		err = map_span(ro_end, end, PT_RW | PT_GLOBAL);
	return err;
}

int paging_init(const struct boot_info *bi)
{
	unsigned phys_bits = cpu_phys_addr_bits();
	u64 limit = 4 * GiB, top = 0;
	int err;

	/* What moat may touch: a reserved range far above it (QEMU's e820 reserves the
	 * HyperTransport hole below 1 TiB for AMD CPUs) would cost 2 MiB tables for nothing
	 * without 1 GiB pages (-cpu qemu64: the pool ran out, no guest started). */
	for (u32 i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type != MEM_RESERVED && bi->mem[i].type != MEM_BAD)
			top = MAX(top, bi->mem[i].base + bi->mem[i].length);
	limit = MAX(limit, ALIGN_UP(top, GiB));
	/* With 1 GiB pages the whole physical address space (up to 1 TiB) costs almost
	 * nothing, and covers 64-bit BARs wherever firmware put them. */
	if (cpu_has_1g_pages())
		limit = MAX(limit, 1ULL << MIN(phys_bits, 40u));
	if (cpu_has_nx())
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	else
		pr_warn("CPU has no NX: data pages stay executable\n");

	err = pt_init(&hv_pt, &pt_format_x86, &hv_pt_ops, 4, cpu_has_1g_pages() ? 2 : 1);
	if (!err)
		err = map_image();
	/* Page 0 stays unmapped so that a NULL dereference faults. */
	if (!err)
		err = map_identity(bi, PAGE_SIZE, limit);
	if (err)
		return pr_err(err,
			      "building the identity map up to %#llx failed (%u pool pages used)\n",
			      (unsigned long long)limit, pool_used);
	write_cr0(read_cr0() | CR0_WP);
	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(hv_pt.root);
	switched = true;
	pr_info("identity map up to %#llx, %u table pages, %s pages\n", (unsigned long long)limit,
		hv_pt.nr_tables, cpu_has_1g_pages() ? "1G/2M/4K" : "2M/4K");
	return 0;
}

int paging_map_mmio(u64 base, u64 size)
{
	u64 b = ALIGN_DOWN(base, PAGE_SIZE), e = ALIGN_UP(base + size, PAGE_SIZE);
	int err;

	for (u64 a = b; a < e; a += PAGE_SIZE) {
		u64 pa;

		if (pt_lookup(&hv_pt, a, &pa, NULL, NULL) == 0)
			continue;
		err = pt_map(&hv_pt, a, a, PAGE_SIZE, PT_RW | FIELD_PREP(PT_MT, PT_MT_UC));
		if (err)
			return pr_err(err, "cannot map MMIO page %#llx\n", (unsigned long long)a);
		invlpg(a);
	}
	return 0;
}
