/* x86-64 and AMD NPT entry formats for the page-table engine. Memory types use the
 * power-on PAT: entry 0 WB, 1 WT, 3 UC (WC has no slot there and is mapped UC). */
#include "arch/x86/pt_x86.h"

static u64 addr_mask(unsigned level)
{
	return level == 0 ? X86_PTE_ADDR_4K : level == 1 ? X86_PTE_ADDR_2M : X86_PTE_ADDR_1G;
}

static u64 mt_bits(u32 flags)
{
	switch (FIELD_GET(PT_MT, flags)) {
	case PT_MT_WT: return X86_PTE_PWT;
	case PT_MT_UC:
	case PT_MT_WC: return X86_PTE_PCD | X86_PTE_PWT;
	default: return 0;
	}
}

static u64 leaf_common(u64 pa, unsigned level, u32 flags, bool user)
{
	u64 e = X86_PTE_P | (pa & addr_mask(level)) | mt_bits(flags);

	if (flags & PT_W)
		e |= X86_PTE_RW;
	if (user || (flags & PT_USER))
		e |= X86_PTE_US;
	if (!(flags & PT_X))
		e |= X86_PTE_NX;
	if (flags & PT_GLOBAL)
		e |= X86_PTE_G;
	if (level > 0)
		e |= X86_PTE_PS;
	return e;
}

static u64 x86_leaf(u64 pa, unsigned level, u32 flags)
{
	return leaf_common(pa, level, flags, false);
}
static u64 npt_leaf(u64 pa, unsigned level, u32 flags)
{
	return leaf_common(pa, level, flags, true);
}
static u64 x86_table(u64 pa)
{
	return (pa & X86_PTE_ADDR_4K) | X86_PTE_P | X86_PTE_RW;
}
static u64 npt_table(u64 pa)
{
	return (pa & X86_PTE_ADDR_4K) | X86_PTE_P | X86_PTE_RW | X86_PTE_US;
}
static bool x86_present(u64 e)
{
	return e & X86_PTE_P;
}
static bool x86_is_leaf(u64 e, unsigned level)
{
	return level == 0 || (e & X86_PTE_PS);
}

static u64 x86_addr(u64 e, unsigned level)
{
	/* A table pointer always uses the 4 KiB address field. */
	return e & (x86_is_leaf(e, level) ? addr_mask(level) : X86_PTE_ADDR_4K);
}

static u32 x86_flags(u64 e, unsigned level)
{
	u32 f = PT_R;
	bool pcd = e & X86_PTE_PCD, pwt = e & X86_PTE_PWT;

	if (e & X86_PTE_RW)
		f |= PT_W;
	if (!(e & X86_PTE_NX))
		f |= PT_X;
	if (e & X86_PTE_US)
		f |= PT_USER;
	if (e & X86_PTE_G)
		f |= PT_GLOBAL;
	f |= FIELD_PREP(PT_MT, pcd ? PT_MT_UC : pwt ? PT_MT_WT : PT_MT_WB);
	(void)level;
	return f;
}

/* The bits of a large page's address field below its alignment (SDM Vol. 3A 4.5,
 * tables 4-15 and 4-17). */
static bool x86_reserved(u64 e, unsigned level)
{
	if (level == 0 || !(e & X86_PTE_PS))
		return false;
	return e & (level == 1 ? X86_PTE_RSVD_2M : X86_PTE_RSVD_1G);
}

const struct pt_format pt_format_x86 = {
	.name = "x86-64",
	.leaf = x86_leaf,
	.table = x86_table,
	.present = x86_present,
	.is_leaf = x86_is_leaf,
	.addr = x86_addr,
	.flags = x86_flags,
	.reserved = x86_reserved,
};

const struct pt_format pt_format_npt = {
	.name = "npt",
	.leaf = npt_leaf,
	.table = npt_table,
	.present = x86_present,
	.is_leaf = x86_is_leaf,
	.addr = x86_addr,
	.flags = x86_flags,
	.reserved = x86_reserved,
};
