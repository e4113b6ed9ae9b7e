/* Vendor-neutral IOMMU interface: DMA domains, device attachment by source ID, interrupt
 * remapping entries and fault reporting. iommu/iommu.c picks the hardware driver from its
 * probe table (iommu/iommu_priv.h); the VT-d driver (iommu/vtd*.c) is its one entry, an
 * AMD-Vi driver would sit beside it behind the same struct iommu_ops.
 *
 * A source ID is the PCI requester ID: bus << 8 | device << 3 | function. */
#ifndef MOAT_IOMMU_H
#define MOAT_IOMMU_H

#include <moat/boot_info.h>
#include <moat/pgtable.h>

#define IOMMU_READ PT_R
#define IOMMU_WRITE PT_W
#define IOMMU_RW PT_RW

struct iommu_domain;

/* One translation or interrupt fault, decoded. */
struct iommu_fault {
	u16 segment, sid;
	u8 reason; /* vendor fault reason code */
	const char *reason_name;
	bool write;	/* the faulting request was a write */
	bool interrupt; /* an interrupt request (addr holds the interrupt index) */
	u64 addr;
	struct iommu_domain *domain; /* owner of the source ID, NULL if none */
};

typedef void (*iommu_fault_cb)(const struct iommu_fault *f, void *ctx);

/* An allocated interrupt remapping entry and the MSI a device must send to use it. */
struct iommu_irq {
	u16 segment, sid;
	unsigned unit;
	u16 index;
	u32 msi_addr, msi_data; /* remappable-format message */
};

struct iommu_irq_cfg {
	u32 dest_apic_id;
	u8 vector;
	bool level; /* level-triggered (IOAPIC); MSIs are edge */
};

struct iommu_ops {
	const char *name;
	struct iommu_domain *(*domain_create)(const char *name);
	void (*domain_destroy)(struct iommu_domain *d);
	int (*map)(struct iommu_domain *d, u64 iova, u64 pa, u64 size, u32 prot);
	int (*unmap)(struct iommu_domain *d, u64 iova, u64 size);
	int (*attach)(struct iommu_domain *d, u16 seg, u16 sid, u16 pf_sid);
	int (*detach)(struct iommu_domain *d, u16 seg, u16 sid);
	int (*irq_alloc)(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq);
	int (*irq_program)(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg);
	void (*irq_free)(struct iommu_irq *irq);
	int (*lookup)(struct iommu_domain *d, u64 iova, u64 *pa, u32 *prot);
	/* Whether every unit remaps interrupts (a device cannot reach a vector it was not
	 * given an entry for). */
	bool (*irq_remapping)(void);
	int (*ioapic_sid)(u8 ioapic_id, u16 *seg, u16 *sid);
	u64 (*ioapic_rte)(const struct iommu_irq *irq, const struct iommu_irq_cfg *cfg,
			  bool active_low, bool masked);
	/* Leaves per level (counts[0] 4K, [1] 2M, [2] 1G) and table pages of a domain. */
	void (*table_stats)(struct iommu_domain *d, unsigned counts[5], unsigned *tables);
	/* Whether a working unit translates this requester ID. */
	bool (*covers)(u16 seg, u16 sid, u16 pf_sid);
	/* A range the firmware reserves for this device's DMA (VT-d RMRR); -ENOENT if none. */
	int (*reserved_region)(u16 seg, u16 sid, u64 *base, u64 *limit);
};

/* Reads the firmware's description of the remapping hardware right after ACPI, before
 * memory is handed out: ranges the firmware reserves for device DMA (RMRR) are withheld
 * from the page allocator, so neither moat nor a guest ever gets them as RAM. -ENODEV if
 * the firmware describes no remapping hardware; another error if its description is
 * unusable. */
int iommu_early_init(const struct boot_info *bi);
/* Finds the remapping hardware (after ACPI and PCI) and takes it over: translation on,
 * DMA default-deny: every function blocked (no domain) until its owner gets one; moat's
 * own DMA users in domains of their buffers (iommu_own_dma_map); devices no working unit
 * covers get their bus mastering stopped. -ENODEV if there is none; another error if
 * there is but it could not be set up. */
int iommu_init(const struct boot_info *bi);

/* Set by the driver that found hardware; NULL if none. */
void iommu_register(const struct iommu_ops *ops);
bool iommu_present(void);
const char *iommu_name(void);

/* Domains: an address space for devices. */
struct iommu_domain *iommu_domain_create(const char *name);
void iommu_domain_destroy(struct iommu_domain *d);
const char *iommu_domain_name(const struct iommu_domain *d);
/* The hardware's tag for the domain (VT-d: the domain ID in its context entries). */
u32 iommu_domain_id(const struct iommu_domain *d);
/* Faults recorded against this domain's devices since it was created. */
u64 iommu_domain_faults(const struct iommu_domain *d);
/* Prints "iommu: domain <name>: <T> tables, leaves <a> x 1G, <b> x 2M, <c> x 4K" (the
 * memory its tables take; docs/performance.md). */
void iommu_domain_report(struct iommu_domain *d);

/* Maps [iova, iova+size) to [pa, pa+size) with the largest pages both allow.
 * unmap returns only after the IOTLB no longer holds the range. */
int iommu_map(struct iommu_domain *d, u64 iova, u64 pa, u64 size, u32 prot);
int iommu_unmap(struct iommu_domain *d, u64 iova, u64 size);
int iommu_lookup(struct iommu_domain *d, u64 iova, u64 *pa, u32 *prot);

/* Puts a device into a domain (replacing any previous one) / blocks all its DMA.
 * A virtual function passes its physical function as pf_sid (else pf_sid = sid). */
int iommu_attach(struct iommu_domain *d, u16 seg, u16 sid, u16 pf_sid);
int iommu_detach(struct iommu_domain *d, u16 seg, u16 sid);

/* A PCI function with every requester ID its DMA can carry (its own and the aliases its
 * bridges give it, pci_dma_aliases): an aliased requester ID points at the same domain. */
struct pci_dev;
int iommu_attach_pci(struct iommu_domain *d, const struct pci_dev *dev);
/* Whether a working remapping unit translates the function's DMA (false without an
 * IOMMU). */
bool iommu_pci_covered(const struct pci_dev *dev);
/* A range the firmware expects the function to keep reaching by DMA behind the OS's back
 * (VT-d RMRR), inclusive limit: 0, or -ENOENT if there is none. */
int iommu_pci_reserved_region(const struct pci_dev *dev, u64 *base, u64 *limit);

/* Whether interrupts are remapped on every unit; without it an assigned device could send
 * any interrupt to any CPU. */
bool iommu_irq_remapping(void);

/* Interrupt entries usable only by source `sid`. */
int iommu_irq_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq);
int iommu_irq_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg);
void iommu_irq_free(struct iommu_irq *irq);

/* IOAPIC pins through remapping: the IOAPIC's source ID (from the firmware's tables) for
 * iommu_irq_alloc, and the redirection entry that sends a pin through an entry programmed
 * with cfg (level-triggered pins: cfg->level). */
int iommu_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid);
u64 iommu_ioapic_rte(const struct iommu_irq *irq, const struct iommu_irq_cfg *cfg, bool active_low,
		     bool masked);

/* moat's own DMA (a driver moat runs, e.g. the PF's transmit ring): the function gets a
 * domain of its own, "own-SSSS:BB:DD.F", that maps exactly the buffers given here at their
 * physical addresses (IOVA = PA), and nothing else. Buffers given before iommu_init are
 * mapped there; later ones at once. Without an IOMMU it only records them. */
int iommu_own_dma_map(const struct pci_dev *dev, u64 pa, u64 size);
/* The function's DMA blocked again (detached) and its domain destroyed. */
void iommu_own_dma_release(const struct pci_dev *dev);

/* Called (in interrupt context) for each fault, after it is counted and logged. */
void iommu_set_fault_callback(iommu_fault_cb cb, void *ctx);
/* Used by drivers: counts the fault, logs it (rate-limited) and calls the callback. */
void iommu_report_fault(struct iommu_fault *f);
void iommu_domain_count_fault(struct iommu_domain *d);

#endif
