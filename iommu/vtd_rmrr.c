/* RMRR ranges (VT-d spec 8.4): memory the firmware expects some devices to keep reaching
 * by DMA (USB legacy emulation, graphics stolen memory). Firmware normally marks them
 * reserved in the memory map; moat does not rely on that and withholds every RMRR range
 * from its page allocator, which is also where guest RAM comes from. */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include "iommu/vtd_drv.h"

/* Bytes of [base, end) the firmware's map calls usable RAM. */
static u64 usable_overlap(const struct boot_info *bi, u64 base, u64 end)
{
	u64 n = 0;

	for (u32 i = 0; i < bi->nr_mem; i++) {
		const struct mem_range *m = &bi->mem[i];
		u64 lo = MAX(base, m->base), hi = MIN(end, m->base + m->length);

		if (m->type == MEM_USABLE && hi > lo)
			n += hi - lo;
	}
	return n;
}

void vtd_rmrr_reserve(const struct boot_info *bi)
{
	for (unsigned i = 0; i < vtd_dmar.nr_rmrr; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrr[i];
		u64 end = r->limit + 1, usable = usable_overlap(bi, r->base, end), removed;
		int err = pmm_withhold(&hv_pmm, r->base, end - r->base, &removed);

		if (err) {
			pr_err(err, "RMRR %#llx-%#llx not withheld from the allocator\n",
			       (unsigned long long)r->base, (unsigned long long)r->limit);
			continue;
		}
		if (!usable)
			pr_info("RMRR %#llx-%#llx: reserved in the firmware's memory map\n",
				(unsigned long long)r->base, (unsigned long long)r->limit);
		else
			pr_warn("RMRR %#llx-%#llx: %llu KiB the firmware's memory map calls usable "
				"RAM, %llu KiB of it withheld from the allocator and from guests\n",
				(unsigned long long)r->base, (unsigned long long)r->limit,
				(unsigned long long)(usable / 1024),
				(unsigned long long)(removed / 1024));
		if (removed < usable)
			pr_err(-EBUSY,
			       "RMRR %#llx-%#llx: %llu KiB of it were already in use (moat's "
			       "image, "
			       "boot modules or early allocations): its device may overwrite "
			       "them\n",
			       (unsigned long long)r->base, (unsigned long long)r->limit,
			       (unsigned long long)((usable - removed) / 1024));
	}
}
