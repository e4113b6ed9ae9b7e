/* Interrupt remapping (VT-d spec 5.1, 9.10): one table per unit, remappable-format entries
 * that only their device's source ID may use, compatibility format blocked. */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include "arch/x86/apic.h"
#include "iommu/vtd_drv.h"

int vtd_ir_enable(struct vtd_unit *u)
{
	bool eim = apic_x2apic_mode();
	int err;

	if (eim && !u->caps.eim)
		pr_warn("unit %u: CPUs use x2APIC but the unit has no EIM: only APIC IDs below 256 "
			"reachable\n",
			u->idx);
	eim = eim && u->caps.eim;
	if (!u->irt)
		u->irt = page_alloc();
	if (!u->irt)
		return pr_err(-ENOMEM, "unit %u: no page for the interrupt remapping table\n",
			      u->idx);
	vtd_write64(u, VTD_IRTA,
		    (u->irt & VTD_IRTA_IRTA) | FIELD_PREP(VTD_IRTA_S, VTD_IRT_S) |
			    (eim ? VTD_IRTA_EIME : 0));
	err = vtd_gcmd_oneshot(u, VTD_GCMD_SIRTP);
	if (!err)
		err = vtd_inv_iec_global(u);
	/* Remapping on with compatibility-format interrupts blocked (CFI clear). */
	if (!err)
		err = vtd_gcmd_update(u, VTD_GCMD_IRE, VTD_GCMD_CFI);
	if (err)
		return pr_err(err, "unit %u: interrupt remapping not enabled\n", u->idx);
	u->ir_on = true;
	u->irt_eim = eim;
	pr_info("unit %u: interrupt remapping: %u entries, %s destinations, compatibility format "
		"blocked\n",
		u->idx, VTD_IRT_ENTRIES, eim ? "x2APIC (EIM)" : "xAPIC");
	return 0;
}

/* PCI functions through their scopes; IOAPICs and HPETs by the source ID their scope names. */
static int ir_unit_of(u16 seg, u16 sid, u16 pf_sid)
{
	int idx = dmar_unit_for_non_pci(&vtd_dmar, seg, sid, vtd_pci_ops());

	if (idx >= 0 && vtd_units[idx].present)
		return idx;
	return vtd_unit_of(seg, sid, pf_sid);
}

int vtd_ir_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq)
{
	int idx = ir_unit_of(seg, sid, pf_sid);
	struct vtd_unit *u;

	if (idx < 0)
		return idx;
	u = &vtd_units[idx];
	if (!u->ir_on)
		return pr_err(-ENODEV, "unit %u: interrupt remapping is off\n", u->idx);
	spin_lock(&u->lock);
	for (unsigned i = 0; i < VTD_IRT_ENTRIES; i++)
		if (!u->irt_used[i]) {
			u->irt_used[i] = 1;
			spin_unlock(&u->lock);
			irq->segment = seg;
			irq->sid = sid;
			irq->unit = (unsigned)idx;
			irq->index = (u16)i;
			vtd_msi_remappable(irq->index, &irq->msi_addr, &irq->msi_data);
			return 0;
		}
	spin_unlock(&u->lock);
	return pr_err(-ENOSPC, "unit %u: interrupt remapping table full\n", u->idx);
}

static struct vtd_qword2 *irte_slot(const struct vtd_unit *u, u16 index)
{
	return (struct vtd_qword2 *)(uintptr_t)u->irt + index;
}

static void irte_sync(const struct vtd_qword2 *e)
{
	if (!vtd_common_caps.coherent)
		vtd_flush_cache(e, sizeof(*e));
}

/* Clears Present first, then the rest, then the cached copy. */
static int irte_clear(struct vtd_unit *u, u16 index)
{
	struct vtd_qword2 *e = irte_slot(u, index);

	__atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE);
	irte_sync(e);
	e->hi = 0;
	irte_sync(e);
	return vtd_inv_iec_index(u, index);
}

int vtd_ir_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg)
{
	struct vtd_unit *u = &vtd_units[irq->unit];
	struct vtd_irte_cfg ic = {
		.dest = cfg->dest_apic_id,
		.vector = cfg->vector,
		.delivery = VTD_DLM_FIXED,
		.x2apic = u->irt_eim,
		.level = cfg->level,
		.svt = VTD_SVT_SID,
		.sq = 0,
		.sid = irq->sid,
	};
	struct vtd_qword2 ne, *e = irte_slot(u, irq->index);
	int err;

	err = vtd_irte_encode(&ic, &ne);
	if (err)
		return pr_err(err, "unit %u: APIC %u not reachable without EIM\n", u->idx,
			      cfg->dest_apic_id);
	spin_lock(&u->lock);
	err = e->lo & VTD_IRTE_LO_P ? irte_clear(u, irq->index) : 0;
	if (!err) {
		/* 9.10: the upper half (source-ID check) is in place before Present is seen. */
		e->hi = ne.hi;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&e->lo, ne.lo, __ATOMIC_RELEASE);
		irte_sync(e);
		err = vtd_inv_iec_index(u, irq->index);
	}
	spin_unlock(&u->lock);
	return err;
}

int vtd_ir_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid)
{
	int idx = dmar_unit_for_ioapic(&vtd_dmar, ioapic_id, sid, vtd_pci_ops());

	if (idx < 0)
		return pr_err(idx, "IOAPIC %u has no DMAR scope: its pins cannot be remapped\n",
			      ioapic_id);
	*seg = vtd_dmar.drhd[idx].segment;
	return 0;
}

u64 vtd_ir_ioapic_rte(const struct iommu_irq *irq, const struct iommu_irq_cfg *cfg, bool active_low,
		      bool masked)
{
	return vtd_ioapic_rte(irq->index, cfg->vector, cfg->level, active_low, masked);
}

void vtd_ir_free(struct iommu_irq *irq)
{
	struct vtd_unit *u = &vtd_units[irq->unit];

	spin_lock(&u->lock);
	irte_clear(u, irq->index);
	u->irt_used[irq->index] = 0;
	spin_unlock(&u->lock);
}
