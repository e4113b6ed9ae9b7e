/* VT-d driver internals: capability decoding, entry and descriptor encoders (all
 * host-compilable and unit-tested), and the per-unit state of the driver. */
#ifndef IOMMU_VTD_H
#define IOMMU_VTD_H

#include <moat/acpi.h>
#include <moat/pgtable.h>
#include <moat/spinlock.h>
#include "iommu/dmar.h"
#include "iommu/vtd_regs.h"

/* Capabilities of one unit, decoded from CAP and ECAP. */
struct vtd_caps {
	u64 cap, ecap;
	u32 nr_domains; /* 2^(4 + 2 * ND) */
	u8 sagaw;	/* supported adjusted guest address widths (bit 1: 3-level, ...) */
	u8 mgaw;	/* maximum guest address width in bits */
	u8 sllps;	/* superpages: bit 0 2 MiB, bit 1 1 GiB */
	u16 nr_frcd;
	u32 frcd_off;  /* byte offset of the first fault recording register */
	u32 iotlb_off; /* byte offset of the IOTLB registers */
	u8 mamv;
	bool coherent, qi, ir, eim, pt, psi, cm, rwbf;
};

/* What every unit supports: the domain tables are shared by all units. */
struct vtd_common {
	u8 sagaw, sllps;
	unsigned levels;	 /* second-level table levels chosen: 3, 4 or 5 */
	unsigned max_leaf_level; /* 0: 4 KiB, 1: 2 MiB, 2: 1 GiB */
	u32 nr_domains;
	bool qi, ir, eim, coherent;
};

void vtd_caps_decode(u64 cap, u64 ecap, struct vtd_caps *c);
/* Combines n units' capabilities; -ENODEV if they share no usable table depth. */
int vtd_caps_common(const struct vtd_caps *units, unsigned n, struct vtd_common *out);
/* Context-entry AW value for a table of `levels` levels (1: 3-level ...), 0 if none. */
unsigned vtd_aw_for_levels(unsigned levels);

/* A 128-bit root, context or interrupt remapping entry, or an invalidation descriptor. */
struct vtd_qword2 {
	u64 lo, hi;
};
SIZE_CHECK(struct vtd_qword2, 16);

struct vtd_qword2 vtd_root_entry(u64 context_table);

struct vtd_context_cfg {
	u64 slptptr; /* second-level table root */
	u16 did;
	u8 aw; /* VTD_CTX_HI_AW value */
	u8 tt; /* VTD_CTX_TT_* */
	bool fpd;
};
struct vtd_qword2 vtd_context_entry(const struct vtd_context_cfg *cfg);

enum vtd_delivery {
	VTD_DLM_FIXED = 0,
	VTD_DLM_LOWPRI = 1,
	VTD_DLM_SMI = 2,
	VTD_DLM_NMI = 4,
	VTD_DLM_INIT = 5,
	VTD_DLM_EXTINT = 7
};

struct vtd_irte_cfg {
	u32 dest; /* APIC ID (8-bit unless x2apic) */
	u8 vector;
	u8 delivery; /* enum vtd_delivery */
	bool x2apic; /* EIM: 32-bit destination */
	bool logical, redir_hint, level, fpd;
	u8 svt, sq; /* VTD_SVT_*, SID qualifier */
	u16 sid;
};
/* -EINVAL (and a zero entry) for a destination the mode cannot address. */
int vtd_irte_encode(const struct vtd_irte_cfg *cfg, struct vtd_qword2 *e);
/* Remappable-format MSI address and data for interrupt `handle`. */
void vtd_msi_remappable(u16 handle, u32 *addr, u32 *data);

/* IOAPIC redirection entry in remappable format for interrupt `handle`. */
u64 vtd_ioapic_rte(u16 handle, u8 vector, bool level, bool active_low, bool masked);

/* Invalidation descriptors (6.5.2) */
struct vtd_qword2 vtd_desc_cc_global(void);
struct vtd_qword2 vtd_desc_cc_domain(u16 did);
struct vtd_qword2 vtd_desc_cc_device(u16 did, u16 sid, u8 fm);
struct vtd_qword2 vtd_desc_iotlb_global(void);
struct vtd_qword2 vtd_desc_iotlb_domain(u16 did);
/* 2^am pages at addr (aligned to that size). */
struct vtd_qword2 vtd_desc_iotlb_page(u16 did, u64 addr, u8 am, bool ih);
struct vtd_qword2 vtd_desc_iec_global(void);
struct vtd_qword2 vtd_desc_iec_index(u16 index, u8 im);
/* Wait descriptor writing `data` to `status_addr` (4-byte aligned) when it completes. */
struct vtd_qword2 vtd_desc_wait(u64 status_addr, u32 data);
/* Smallest address mask covering [addr, addr+size) in one page-selective invalidation,
 * with *base the aligned start. */
u8 vtd_iotlb_mask(u64 addr, u64 size, u64 *base);

/* Second-level page-table format (9.8) for the generic page-table engine. */
extern const struct pt_format vtd_sl_format;
/* Table memory from the page allocator; `coherent` false flushes each write (ECAP.C=0). */
const struct pt_ops *vtd_pt_ops(bool coherent);
void vtd_flush_cache(const void *p, size_t len);

/* Fault reasons (Appendix A) */
const char *vtd_fault_reason_name(u8 reason);

#endif
