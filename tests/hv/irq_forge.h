/* Forged interrupt messages: a device's DMA write to 0xFEEx_xxxx that names an interrupt
 * remapping entry of another source (remappable format) or a vector and APIC directly
 * (compatibility format). The IOMMU must block both; what moat keeps to judge that:
 *  - the canary, a present entry of a function no guest has (the PF of the first VF given
 *    to a guest), whose vector on the hypervisor's CPU counts every message that got
 *    through it; moat allocates entries first-fit and arms it before any guest runs;
 *  - the interrupt faults the IOMMU attributed to each guest's devices;
 *  - the forgeries a guest announced (HC_EXPECT_DMA_FAULT with the message's address and
 *    data), with a counter on the vector a compatibility-format one names. */
#ifndef VMM_IRQ_FORGE_H
#define VMM_IRQ_FORGE_H

#include <moat/iommu.h>
#include "vmm/vmm.h"

#define MSI_WINDOW_BASE 0xfee00000u
#define MSI_WINDOW_ADDR GENMASK(31, 20) /* 0xFEE */
#define MSI_ADDR_IF_REMAPPABLE BIT(4)	/* VT-d 5.1.2.2: interrupt format */
#define MSI_ADDR_SHV BIT(3)		/* sub-handle valid */
#define MSI_ADDR_HANDLE15 BIT(2)
#define MSI_ADDR_HANDLE_LO GENMASK(19, 5)
#define MSI_ADDR_DEST GENMASK(19, 12) /* compatibility format: APIC ID */
#define MSI_DATA_VEC GENMASK(7, 0)

/* Interrupt fault reasons in guest.irq_faults[]: VT-d's 0x20..0x27 (Appendix A). */
#define IRQ_FAULT_FIRST 0x20
#define IRQ_FAULT_SID 0x26    /* source-id verification failed */
#define IRQ_FAULT_COMPAT 0x25 /* compatibility format blocked */

struct irq_canary {
	bool armed;
	struct iommu_irq irq; /* index and source ID stay after disarming, for the verdict */
	u8 vector;
	u32 apic_id;
	u64 hits; /* messages delivered through the entry */
};
extern struct irq_canary irq_canary;

/* Before the guests run: the canary entry and the fault attribution. 0 when there is no
 * VF to aim from (no canary then). */
int irq_forge_arm(void);
/* After the guests: entry and vectors freed; the counts stay. */
void irq_forge_disarm(void);

/* HC_EXPECT_DMA_FAULT with an interrupt message: records it for the verdict. -EINVAL for an
 * address outside the interrupt window, -EBUSY when the vector a compatibility-format
 * message names is the hypervisor's. */
int irq_forge_expect(struct guest *g, u64 addr, u64 data);

/* Interrupt handle a remappable-format address names. */
u16 irq_forge_handle(u32 addr);
/* Deliveries at the vector of the guest's compatibility-format forgery since it was
 * announced. */
u64 irq_forge_compat_hits(const struct guest *g);

#endif
