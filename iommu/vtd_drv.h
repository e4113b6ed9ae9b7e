/* VT-d driver state and the functions the driver's files share. Not host-compiled. */
#ifndef IOMMU_VTD_DRV_H
#define IOMMU_VTD_DRV_H

#include <moat/ratelimit.h>
#include "arch/x86/io.h"
#include "iommu/iommu_priv.h"
#include "iommu/vtd.h"

#define VTD_MAX_UNITS DMAR_MAX_DRHD
#define VTD_MAX_DOMAINS 64
#define VTD_QI_ENTRIES 256  /* one page of 128-bit descriptors (IQA.QS = 0) */
#define VTD_IRT_ENTRIES 256 /* IRTA.S = 7 */
#define VTD_IRT_S 7
#define VTD_WAIT_US 100000 /* every hardware wait: 100 ms */

struct vtd_domain {
	struct iommu_domain common; /* first: the neutral layer's view */
	bool used;
	u16 did;
	struct pgtable pt;
	spinlock_t lock;
};

struct vtd_unit {
	bool present;
	bool dead; /* nothing answers at its register base */
	unsigned idx;
	u64 base;
	u16 segment;
	u32 version;
	struct vtd_caps caps;
	u32 gcmd;     /* persistent GCMD state last written */
	u64 root;     /* root table (physical) */
	u64 ctx[256]; /* context table per bus, 0 if none */
	spinlock_t lock;
	/* queued invalidation */
	bool qi_on;
	u64 iq;	     /* queue page */
	u32 iq_tail; /* next free descriptor */
	volatile u32 *wait_status;
	u32 wait_seq;
	spinlock_t qi_lock;
	/* interrupt remapping */
	bool ir_on;
	u64 irt;      /* table (physical) */
	bool irt_eim; /* x2APIC destinations */
	u8 irt_used[VTD_IRT_ENTRIES];
	/* faults */
	int fault_vector;
	u64 faults_total;
	u64 faults_unlogged; /* counted but not logged (rate limit) */
	u64 fault_overflows; /* primary fault overflows (FSTS.PFO) seen */
	struct ratelimit fault_log;
};

extern struct vtd_unit vtd_units[VTD_MAX_UNITS];
extern unsigned vtd_nr_units;
extern struct vtd_common vtd_common_caps;
extern struct dmar_info vtd_dmar;

static inline u32 vtd_read32(const struct vtd_unit *u, u32 reg)
{
	return mmio_read32(u->base + reg);
}
static inline u64 vtd_read64(const struct vtd_unit *u, u32 reg)
{
	return mmio_read64(u->base + reg);
}
static inline void vtd_write32(const struct vtd_unit *u, u32 reg, u32 v)
{
	mmio_write32(u->base + reg, v);
}
static inline void vtd_write64(const struct vtd_unit *u, u32 reg, u64 v)
{
	mmio_write64(u->base + reg, v);
}

/* vtd.c */
/* Everything off (translation, remapping, queue, PMR): moat hands the unit back. */
int vtd_unit_quiesce(struct vtd_unit *u);
/* Tables (kept if present), queue, faults, remapping, translation on; a unit found
 * translating goes through vtd_unit_takeover instead. */
int vtd_unit_enable(struct vtd_unit *u);
/* A translating unit switched to u->root (and u->irt) with translation kept on. */
int vtd_unit_takeover(struct vtd_unit *u);
int vtd_gcmd_update(struct vtd_unit *u, u32 set, u32 clear);
int vtd_gcmd_oneshot(struct vtd_unit *u, u32 cmd);
struct vtd_domain *vtd_domain_of_sid(const struct vtd_unit *u, u16 sid);
int vtd_unit_of(u16 seg, u16 sid, u16 pf_sid);
/* Bridge bus numbers from the PCI device list, for DMAR scope paths. */
const struct dmar_pci_ops *vtd_pci_ops(void);

/* vtd_qi.c: each returns after the hardware completed the invalidation. */
int vtd_qi_enable(struct vtd_unit *u);
int vtd_qi_disable(struct vtd_unit *u);
int vtd_inv_context_global(struct vtd_unit *u);
int vtd_inv_context_device(struct vtd_unit *u, u16 did, u16 sid);
int vtd_inv_iotlb_global(struct vtd_unit *u);
int vtd_inv_iotlb_domain(struct vtd_unit *u, u16 did);
int vtd_inv_iotlb_range(struct vtd_unit *u, u16 did, u64 addr, u64 size);
int vtd_inv_iec_global(struct vtd_unit *u);
int vtd_inv_iec_index(struct vtd_unit *u, u16 index);
void vtd_write_buffer_flush(struct vtd_unit *u);

/* vtd_fault.c */
int vtd_fault_init(struct vtd_unit *u);
/* Decodes and clears every pending fault record; returns how many. */
unsigned vtd_fault_drain(struct vtd_unit *u);
struct iommu_fault;
/* The last fault seen (for self-tests); false if none since vtd_fault_last_clear(). */
bool vtd_fault_last(struct iommu_fault *f);
void vtd_fault_last_clear(void);
u64 vtd_fault_interrupts(void);

/* vtd_ir.c */
int vtd_ir_enable(struct vtd_unit *u);
int vtd_ir_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq);
int vtd_ir_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg);
void vtd_ir_free(struct iommu_irq *irq);
int vtd_ir_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid);
u64 vtd_ir_ioapic_rte(const struct iommu_irq *irq, const struct iommu_irq_cfg *cfg, bool active_low,
		      bool masked);

/* vtd_rmrr.c: every RMRR range withheld from the page allocator (and so from guests). */
void vtd_rmrr_reserve(const struct boot_info *bi);

#endif
