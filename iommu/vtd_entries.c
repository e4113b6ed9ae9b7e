/* Root, context and interrupt remapping table entries (VT-d spec 9.1, 9.3, 9.10) and the
 * remappable MSI format (5.1.5.2). */
#include <moat/errno.h>
#include "iommu/vtd.h"

struct vtd_qword2 vtd_root_entry(u64 context_table)
{
	return (struct vtd_qword2){
		.lo = VTD_ROOT_LO_P | (context_table & VTD_ROOT_LO_CTP),
		.hi = 0,
	};
}

struct vtd_qword2 vtd_context_entry(const struct vtd_context_cfg *cfg)
{
	struct vtd_qword2 e;

	e.lo = VTD_CTX_LO_P | FIELD_PREP(VTD_CTX_LO_TT, cfg->tt) |
	       (cfg->slptptr & VTD_CTX_LO_SLPTPTR);
	if (cfg->fpd)
		e.lo |= VTD_CTX_LO_FPD;
	e.hi = FIELD_PREP(VTD_CTX_HI_AW, cfg->aw) | FIELD_PREP(VTD_CTX_HI_DID, cfg->did);
	return e;
}

int vtd_irte_encode(const struct vtd_irte_cfg *cfg, struct vtd_qword2 *e)
{
	e->lo = e->hi = 0;
	if (!cfg->x2apic && cfg->dest > 0xff)
		return -EINVAL;
	if (!FIELD_FITS(VTD_IRTE_HI_SVT, cfg->svt) || !FIELD_FITS(VTD_IRTE_HI_SQ, cfg->sq) ||
	    !FIELD_FITS(VTD_IRTE_LO_DLM, cfg->delivery))
		return -EINVAL;
	e->lo = VTD_IRTE_LO_P | FIELD_PREP(VTD_IRTE_LO_DLM, cfg->delivery) |
		FIELD_PREP(VTD_IRTE_LO_V, cfg->vector) |
		(cfg->x2apic ? FIELD_PREP(VTD_IRTE_LO_DST, cfg->dest)
			     : FIELD_PREP(VTD_IRTE_LO_DST_XAPIC, cfg->dest));
	if (cfg->fpd)
		e->lo |= VTD_IRTE_LO_FPD;
	if (cfg->logical)
		e->lo |= VTD_IRTE_LO_DM;
	if (cfg->redir_hint)
		e->lo |= VTD_IRTE_LO_RH;
	if (cfg->level)
		e->lo |= VTD_IRTE_LO_TM;
	e->hi = FIELD_PREP(VTD_IRTE_HI_SID, cfg->sid) | FIELD_PREP(VTD_IRTE_HI_SQ, cfg->sq) |
		FIELD_PREP(VTD_IRTE_HI_SVT, cfg->svt);
	return 0;
}

void vtd_msi_remappable(u16 handle, u32 *addr, u32 *data)
{
	*addr = VTD_MSI_ADDR_BASE | VTD_MSI_ADDR_IF |
		(u32)FIELD_PREP(VTD_MSI_ADDR_HANDLE, handle & 0x7fff) |
		(handle & 0x8000 ? VTD_MSI_ADDR_HANDLE15 : 0);
	*data = 0; /* SHV clear: the handle alone selects the entry */
}

u64 vtd_ioapic_rte(u16 handle, u8 vector, bool level, bool active_low, bool masked)
{
	return VTD_RTE_IF | FIELD_PREP(VTD_RTE_HANDLE, handle & 0x7fff) |
	       (handle & 0x8000 ? VTD_RTE_HANDLE15 : 0) | FIELD_PREP(VTD_RTE_VECTOR, vector) |
	       (level ? VTD_RTE_TRIGGER_LEVEL : 0) | (active_low ? VTD_RTE_POLARITY_LOW : 0) |
	       (masked ? VTD_RTE_MASK : 0);
}

static const char *const fault_reasons[] = {
	[0x1] = "root entry not present",
	[0x2] = "context entry not present",
	[0x3] = "invalid context entry",
	[0x4] = "address beyond the guest address width",
	[0x5] = "write to a page without write permission",
	[0x6] = "read of a page without read permission",
	[0x7] = "second-level table entry not accessible",
	[0x8] = "root table not accessible",
	[0x9] = "context table not accessible",
	[0xa] = "reserved field set in root entry",
	[0xb] = "reserved field set in context entry",
	[0xc] = "reserved field set in second-level entry",
	[0xd] = "translation type blocked by context entry",
	[0x20] = "reserved field set in interrupt request",
	[0x21] = "interrupt index beyond the table",
	[0x22] = "interrupt remapping entry not present",
	[0x23] = "interrupt remapping table not accessible",
	[0x24] = "reserved field set in interrupt remapping entry",
	[0x25] = "compatibility-format interrupt blocked",
	[0x26] = "interrupt source-id verification failed",
	[0x27] = "posted interrupt entry used for remapping",
};

const char *vtd_fault_reason_name(u8 reason)
{
	if (reason < ARRAY_SIZE(fault_reasons) && fault_reasons[reason])
		return fault_reasons[reason];
	return "unknown fault reason";
}
