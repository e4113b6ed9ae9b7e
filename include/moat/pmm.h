/* Physical memory allocator: a sorted list of free ranges built from the firmware memory
 * map. Only usable RAM is ever handed out; reserved/ACPI/MMIO ranges, the hypervisor image
 * and boot data are carved out, and where firmware ranges overlap the reserved type wins. */
#ifndef MOAT_PMM_H
#define MOAT_PMM_H

#include <moat/boot_info.h>
#include <moat/pgtable.h>
#include <moat/spinlock.h>

#define PMM_MAX_RANGES 256

struct pmm_range {
	u64 base, end; /* [base, end), page aligned */
};

struct pmm {
	struct pmm_range free[PMM_MAX_RANGES];
	unsigned nr_free;
	u64 usable_bytes; /* usable RAM after carving, at init */
	u64 free_bytes;
	spinlock_t lock;
};

/* Builds the free list from `map`, then removes each of `holes` (e.g. the image). Pages
 * below `min_addr` are never used (page 0 and friends). */
int pmm_init(struct pmm *p, const struct mem_range *map, unsigned nr_map,
	     const struct pmm_range *holes, unsigned nr_holes, u64 min_addr);
/* Allocates `size` bytes (page multiple) aligned to `align` (power of two >= 4 KiB),
 * ending at or below `max_addr` (0 = no limit), from the highest fitting address.
 * Returns the physical address or 0. */
u64 pmm_alloc_range(struct pmm *p, u64 size, u64 align, u64 max_addr);
/* Takes exactly [base, base+size) if all of it is free; -EBUSY otherwise. */
int pmm_claim(struct pmm *p, u64 base, u64 size);
/* Returns [base, base+size) to the free list. -EINVAL if any part is already free. */
int pmm_free_range(struct pmm *p, u64 base, u64 size);
bool pmm_is_free(struct pmm *p, u64 base, u64 size);
/* Removes whatever part of [base, base+size) is free, for good (it is no longer usable
 * RAM either): *removed says how many bytes that was. -ENOSPC if the free list is full. */
int pmm_withhold(struct pmm *p, u64 base, u64 size, u64 *removed);
/* Whether any byte of [base, base+size) is free. */
bool pmm_any_free(struct pmm *p, u64 base, u64 size);

/* The hypervisor's allocator and shorthands for it. */
extern struct pmm hv_pmm;
u64 page_alloc(void); /* one zeroed 4 KiB page, or 0 */
void page_free(u64 pa);
u64 pages_alloc(u64 size, u64 align); /* zeroed, or 0 */
void pages_free(u64 pa, u64 size);

/* Page tables whose pages come from the hypervisor's allocator (identity-mapped, so a
 * physical address is a pointer): `static const struct pt_ops ops = PT_OPS_PAGES(sync);` */
static inline u64 pt_page_alloc(void *ctx)
{
	(void)ctx;
	return page_alloc();
}
static inline void pt_page_free(void *ctx, u64 pa)
{
	(void)ctx;
	page_free(pa);
}
static inline void *pt_page_p2v(void *ctx, u64 pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}
#define PT_OPS_PAGES(sync_fn)                                                                      \
	{                                                                                          \
		pt_page_alloc, pt_page_free, pt_page_p2v, sync_fn, NULL                            \
	}

#endif
