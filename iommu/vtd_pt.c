/* VT-d second-level paging entries (spec 9.8) as a format of the generic page-table engine.
 * An entry is present when it grants read or write. */
#include <moat/pmm.h>
#include "arch/x86/cpu.h"
#include "iommu/vtd.h"

#define CACHE_LINE 64

static u64 sl_addr_mask(unsigned level)
{
	return level == 0 ? VTD_SL_ADDR_4K : level == 1 ? VTD_SL_ADDR_2M : VTD_SL_ADDR_1G;
}

static u64 sl_leaf(u64 pa, unsigned level, u32 flags)
{
	u64 e = pa & sl_addr_mask(level);

	if (flags & PT_R)
		e |= VTD_SL_R;
	if (flags & PT_W)
		e |= VTD_SL_W;
	if (level > 0)
		e |= VTD_SL_PS;
	return e;
}

static u64 sl_table(u64 pa)
{
	return (pa & VTD_SL_ADDR_4K) | VTD_SL_R | VTD_SL_W;
}
static bool sl_present(u64 e)
{
	return e & (VTD_SL_R | VTD_SL_W);
}
static bool sl_is_leaf(u64 e, unsigned level)
{
	return level == 0 || (e & VTD_SL_PS);
}

static u64 sl_addr(u64 e, unsigned level)
{
	return e & (sl_is_leaf(e, level) ? sl_addr_mask(level) : VTD_SL_ADDR_4K);
}

static u32 sl_flags(u64 e, unsigned level)
{
	(void)level;
	return (e & VTD_SL_R ? PT_R : 0) | (e & VTD_SL_W ? PT_W : 0);
}

const struct pt_format vtd_sl_format = {
	.name = "vtd-second-level",
	.leaf = sl_leaf,
	.table = sl_table,
	.present = sl_present,
	.is_leaf = sl_is_leaf,
	.addr = sl_addr,
	.flags = sl_flags,
};

void vtd_flush_cache(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1);

	for (; a < (uintptr_t)p + len; a += CACHE_LINE)
		clflush((const void *)a);
	mfence();
}

static void pt_sync(void *ctx, void *p, size_t len)
{
	(void)ctx;
	vtd_flush_cache(p, len);
}

static const struct pt_ops ops_coherent = PT_OPS_PAGES(NULL);
static const struct pt_ops ops_flush = PT_OPS_PAGES(pt_sync);

const struct pt_ops *vtd_pt_ops(bool coherent)
{
	return coherent ? &ops_coherent : &ops_flush;
}
