/* EPT entry format for the page-table engine. Leaves carry an explicit memory type with
 * ignore-PAT set, so the guest's PAT cannot turn device MMIO cacheable or RAM uncached;
 * tables carry full R/W/X so permissions are decided at the leaf alone. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/vmx_regs.h"

static u64 ept_addr_mask(unsigned level)
{
	return level == 0 ? EPT_ADDR_4K : level == 1 ? EPT_ADDR_2M : EPT_ADDR_1G;
}

static u64 ept_mt(u32 flags)
{
	switch (FIELD_GET(PT_MT, flags)) {
	case PT_MT_UC: return EPT_MT_UC;
	case PT_MT_WC: return EPT_MT_WC;
	case PT_MT_WT: return EPT_MT_WT;
	default: return EPT_MT_WB;
	}
}

static u32 pt_mt(u64 e)
{
	switch (FIELD_GET(EPT_MT, e)) {
	case EPT_MT_UC: return PT_MT_UC;
	case EPT_MT_WC: return PT_MT_WC;
	case EPT_MT_WT: return PT_MT_WT;
	default: return PT_MT_WB;
	}
}

static u64 ept_leaf(u64 pa, unsigned level, u32 flags)
{
	u64 e = (pa & ept_addr_mask(level)) | FIELD_PREP(EPT_MT, ept_mt(flags)) | EPT_IGNORE_PAT;

	/* Write without read is an EPT misconfiguration (29.3.3.1): W implies R. */
	if (flags & (PT_R | PT_W))
		e |= EPT_R;
	if (flags & PT_W)
		e |= EPT_W;
	if (flags & PT_X)
		e |= EPT_X;
	if (level > 0)
		e |= EPT_LARGE;
	return e;
}

static u64 ept_table(u64 pa)
{
	return (pa & EPT_ADDR_4K) | EPT_RWX;
}
static bool ept_present(u64 e)
{
	return e & EPT_RWX;
}
static bool ept_is_leaf(u64 e, unsigned level)
{
	return level == 0 || (e & EPT_LARGE);
}

static u64 ept_addr(u64 e, unsigned level)
{
	return e & (ept_is_leaf(e, level) ? ept_addr_mask(level) : EPT_ADDR_4K);
}

static u32 ept_flags(u64 e, unsigned level)
{
	u32 f = 0;

	if (e & EPT_R)
		f |= PT_R;
	if (e & EPT_W)
		f |= PT_W;
	if (e & EPT_X)
		f |= PT_X;
	if (ept_is_leaf(e, level))
		f |= FIELD_PREP(PT_MT, pt_mt(e));
	return f;
}

const struct pt_format pt_format_ept = {
	.name = "ept",
	.leaf = ept_leaf,
	.table = ept_table,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.addr = ept_addr,
	.flags = ept_flags,
};

unsigned ept_max_leaf(u64 cap)
{
	if (cap & EPT_CAP_2M)
		return cap & EPT_CAP_1G ? 2 : 1;
	return 0;
}

int ept_check_caps(u64 cap)
{
	if (!(cap & EPT_CAP_PWL4))
		return pr_err(-ENODEV, "EPT lacks the 4-level page walk (EPT/VPID cap %#llx)\n",
			      (unsigned long long)cap);
	if (!(cap & EPT_CAP_MT_WB))
		return pr_err(-ENODEV, "EPT tables cannot be write-back (EPT/VPID cap %#llx)\n",
			      (unsigned long long)cap);
	return 0;
}

u64 ept_pointer(u64 root_pa)
{
	return FIELD_PREP(EPTP_MT, EPT_MT_WB) | FIELD_PREP(EPTP_PWL, 4 - 1) | (root_pa & EPTP_ADDR);
}
