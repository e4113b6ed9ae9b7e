/* A VT-d register model for host tests: several remapping units, each a register file at
 * its own fake base address, answering moat's driver (compiled for the host with its MMIO
 * accessors routed here, tests/unit/vtd_io/arch/x86/io.h). It implements what the driver
 * uses: VER/CAP/ECAP, GCMD->GSTS with persistent and one-shot commands (VT-d spec
 * 11.4.4), RTADDR, register-based context and IOTLB invalidation, the invalidation queue
 * (descriptors processed on an IQT write, wait descriptors writing their status), fault
 * status/control and fault recording registers, PMEN and IRTA. Physical addresses are
 * host pointers (the driver's tables come from aligned_alloc). Everything a unit is told
 * is kept in an ordered event log, so a test can assert which unit got which command and
 * in what order; commands the spec forbids are counted as violations. Addresses where no
 * unit lives read as all ones, as an absent device does. */
#ifndef TESTS_VTD_MODEL_H
#define TESTS_VTD_MODEL_H

#include <moat/types.h>

#define VM_MAX_UNITS 4
#define VM_MAX_EVENTS 512
#define VM_NR_FRCD 4
#define VM_FRCD_OFF 0x200  /* CAP.FRO = 0x20 */
#define VM_IOTLB_OFF 0x100 /* ECAP.IRO = 0x10 */

enum vm_event_kind {
	VM_EV_TE_ON = 1,
	VM_EV_TE_OFF,
	VM_EV_QIE_ON,
	VM_EV_QIE_OFF,
	VM_EV_IRE_ON,
	VM_EV_IRE_OFF,
	VM_EV_CFI_ON,
	VM_EV_CFI_OFF,
	VM_EV_SRTP,  /* root table pointer latched (a = RTADDR, b = 1 if translation was on) */
	VM_EV_SIRTP, /* interrupt remapping table pointer latched (a = IRTA, b = 1 if IRE on) */
	VM_EV_WBF,
	VM_EV_PMEN_OFF,	 /* protected memory regions off (a = 1 if translation was on) */
	VM_EV_DESC,	 /* a queued descriptor (lo, hi) processed */
	VM_EV_REG_CC,	 /* register-based context invalidation (a = CCMD) */
	VM_EV_REG_IOTLB, /* register-based IOTLB invalidation (a = IOTLB reg, b = IVA) */
};

struct vm_event {
	enum vm_event_kind kind;
	u64 a, b;
	unsigned seq; /* order across all units */
};

struct vm_unit_cfg {
	u64 base;
	u64 cap, ecap;
	u32 gsts;	     /* at reset: what firmware left enabled */
	bool pmen;	     /* protected memory regions enabled at reset */
	bool fail_queue;     /* every queued descriptor but the wait reports IQE */
	bool fw_queue_stuck; /* firmware's queue (QIE at reset) holds work that never completes */
};

struct vm_unit {
	bool used;
	struct vm_unit_cfg cfg;
	u32 gsts, pmen, fsts, fectl, fedata, feaddr, feuaddr, ics;
	u64 rtaddr, rtaddr_latched, irta, irta_latched;
	u64 ccmd, iotlb, iva;
	u64 iqh, iqt, iqa;
	u64 frcd[VM_NR_FRCD][2];
	struct vm_event ev[VM_MAX_EVENTS];
	unsigned nr_ev;
	/* 10.4.4/10.4.5: after SRTP the context cache and IOTLB must be invalidated globally
	 * before the new table is relied on (translation turned on, PMRs turned off); after
	 * SIRTP with remapping on, the interrupt entry cache. */
	bool srtp_cc_pending, srtp_iotlb_pending, sirtp_iec_pending;
	unsigned violations; /* spec rules broken (see vm_last_violation) */
	unsigned accesses;
};

struct vm_state {
	struct vm_unit unit[VM_MAX_UNITS];
	unsigned nr_units;
	unsigned stray_reads, stray_writes; /* where no unit lives */
	unsigned seq;
	char last_violation[160];
};

extern struct vm_state vm;

void vm_reset(void);
/* Adds a unit; returns its index (-1 when VM_MAX_UNITS are in use). */
int vm_unit_add(const struct vm_unit_cfg *cfg);
/* Spec-like CAP/ECAP values: ND (domains 2^(4+2nd)), SAGAW bits, SLLPS bits, flags. */
u64 vm_cap(unsigned nd, unsigned sagaw, unsigned sllps, u64 extra);
u64 vm_ecap(u64 extra);
/* Puts a fault record into the unit's recording register `rec` (F set, PPF/FRI updated). */
void vm_inject_fault(int unit, unsigned rec, u16 sid, u8 reason, u64 addr, bool write);
/* Events of one kind (or of one descriptor type, for VM_EV_DESC with desc_type >= 0). */
unsigned vm_count(int unit, enum vm_event_kind kind, int desc_type);
/* Index of the first event of a kind at or after `from` (-1 if none). */
int vm_find(int unit, enum vm_event_kind kind, int desc_type, unsigned from);
void vm_clear_events(void);

/* The MMIO accessors the driver's code calls (io.h override). */
u32 vm_read32(u64 a);
u64 vm_read64(u64 a);
void vm_write32(u64 a, u32 v);
void vm_write64(u64 a, u64 v);

#endif
