/* MSI-X virtualization of assigned devices (vmm/msix.c) and the guest's virtual
 * interrupts (vmm/guest_irq.c). The MSI-X table and PBA pages are not in the nested tables: the
 * guest's accesses arrive as nested page faults and are emulated here. */
#ifndef VMM_MSIX_H
#define VMM_MSIX_H

#include <moat/msi.h>
#include "vmm/vmm.h"

#define VIRQ_VECTOR_MIN 0x20
#define VIRQ_VECTOR_MAX 0xfe

/* Whether an entry the guest unmasks may be used: fixed delivery, edge, physical
 * destination `apic_id` (the guest's own vCPU), vector 0x20..0xfe, compatibility format.
 * -EINVAL with `why` otherwise. */
int msix_entry_check(const u32 entry[4], u32 apic_id, char *why, size_t size);

/* The same for an OS guest (Linux programs its entries as for bare metal): compatibility
 * format, fixed or lowest-priority delivery, edge, vector 0x20..0xfe, to a vCPU of the guest
 * by its APIC ID (0..nr_vcpus-1) or in logical mode (flat or cluster, resolved against the
 * vCPUs' LDR/DFR when the interrupt arrives). Fills *msg for vlapic_deliver(). */
int msix_entry_check_os(const u32 entry[4], u32 nr_vcpus, struct vlapic_msg *msg, char *why,
			size_t size);

/* The device's MSI-X state from its table size, all entries masked. */
void msix_init(struct vdev *v);
/* The guest's Message Control (capability + 2) and a write to it. */
u16 msix_ctrl_read(const struct vdev *v, u16 hw);
void msix_ctrl_write(struct guest *g, struct vdev *v, u16 val);
/* Rewrites every physical entry from the guest's (after memory decode came on: entries
 * written while it was off never reached the device). */
void msix_refresh(struct guest *g, struct vdev *v);
/* Whether `gpa` lies in a trapped page of one of g's devices (MSI-X table or PBA). */
struct vdev *msix_region(struct guest *g, u64 gpa);
/* A 32-bit guest access at `gpa` inside such a page. */
u32 msix_mmio_read(struct guest *g, struct vdev *v, u64 gpa);
void msix_mmio_write(struct guest *g, struct vdev *v, u64 gpa, u32 val);
/* Masks every physical entry, frees the IRTEs and puts the host vectors in quarantine
 * (still allocated, given to nobody: a late interrupt is swallowed and counted). */
void msix_release(struct vdev *v);
/* The guest reset the function (vmm/vflr.c): every physical entry masked and its IRTE
 * freed (invalidated before this returns), the guest's table back to its reset state
 * (entries masked and empty, MSI-X disabled, function unmasked). The host vectors stay the
 * guest's: a message already past the IOMMU raises the guest's own vector. */
void msix_flr(struct vdev *v);
/* After the function reset: each host vector is drained (IRR and ISR clear) and freed on
 * the CPU its entry targeted (an OS guest's entries target the CPUs of the vCPUs they
 * name): at once on this CPU, in its idle loop on another (arch/x86/irq_drain.h). One that
 * does not drain stays in quarantine. */
void msix_free_vectors(struct vdev *v);
/* Interrupts that arrived on a vector in quarantine. */
u64 msix_quarantine_strays(void);
/* Host vectors the MSI-X entries of guests' devices took, and those freed again. */
void msix_host_vectors(u32 *taken, u32 *back);
/* IRTEs in use by g's devices. */
unsigned msix_irtes(const struct guest *g);
/* The device's interrupt messages that reached the guest's host vectors (all entries). */
u64 msix_messages(const struct vdev *v);

/* Virtual interrupts (vmm/guest_irq.c). */
void virq_raise(struct guest *g, u8 vector);
/* Before each entry: injects the highest pending vector when the guest can take it. */
void virq_deliver(struct vcpu *v);
/* Whether any vector is pending: the run loop's cheap test before virq_deliver(). */
static inline bool virq_pending(const struct guest *g)
{
	return (__atomic_load_n(&g->irq_pending[0], __ATOMIC_RELAXED) |
		__atomic_load_n(&g->irq_pending[1], __ATOMIC_RELAXED) |
		__atomic_load_n(&g->irq_pending[2], __ATOMIC_RELAXED) |
		__atomic_load_n(&g->irq_pending[3], __ATOMIC_RELAXED)) != 0;
}
/* A HLT with interrupts on and a device interrupt source: waits (bounded by the watchdog)
 * for one, then lets the guest go on after the HLT. -ENOENT without a source. */
int virq_halt(struct vcpu *v, const struct vmm_exit *e);

#endif
