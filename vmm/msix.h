/* MSI-X virtualization of assigned devices (vmm/msix.c) and the guest's virtual
 * interrupts (vmm/guest_irq.c). The MSI-X table and PBA pages are not in the nested tables: the
 * guest's accesses arrive as nested page faults and are emulated here. */
#ifndef VMM_MSIX_H
#define VMM_MSIX_H

#include "vmm/vmm.h"

/* MSI address (Intel SDM 11.11.1, compatibility format) */
#define MSI_ADDR_BASE GENMASK(31, 20)
#define MSI_ADDR_BASE_VAL 0xfee
#define MSI_ADDR_DEST_ID GENMASK(19, 12)
#define MSI_ADDR_IF_REMAP BIT(4) /* VT-d remappable format */
#define MSI_ADDR_RH BIT(3)
#define MSI_ADDR_DM_LOGICAL BIT(2)
/* MSI data */
#define MSI_DATA_VECTOR GENMASK(7, 0)
#define MSI_DATA_DELIVERY GENMASK(10, 8) /* 0: fixed */
#define MSI_DATA_LEVEL BIT(14)
#define MSI_DATA_TRIGGER_LEVEL BIT(15)
/* MSI-X table entry (PCI 3.0, 6.8.2.6-9), dword index */
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3
#define MSIX_ENTRY_CTRL_MASKED BIT(0)
#define MSIX_ENTRY_SIZE 16
/* MSI-X Message Control (capability + 2) */
#define MSIX_CTRL_ENABLE BIT(15)
#define MSIX_CTRL_FMASK BIT(14)
#define MSIX_CTRL_SIZE GENMASK(10, 0)

#define VIRQ_VECTOR_MIN 0x20
#define VIRQ_VECTOR_MAX 0xfe

/* Whether an entry the guest unmasks may be used: fixed delivery, edge, physical
 * destination `apic_id` (the guest's own vCPU), vector 0x20..0xfe, compatibility format.
 * -EINVAL with `why` otherwise. */
int msix_entry_check(const u32 entry[4], u32 apic_id, char *why, size_t size);

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
/* Masks every physical entry, frees the IRTEs and host vectors. */
void msix_release(struct vdev *v);
/* IRTEs in use by g's devices. */
unsigned msix_irtes(const struct guest *g);

/* Virtual interrupts (vmm/guest_irq.c). */
void virq_raise(struct guest *g, u8 vector);
/* Before each entry: injects the highest pending vector when the guest can take it. */
void virq_deliver(struct vcpu *v);
/* A HLT with interrupts on and a device interrupt source: waits (bounded by the watchdog)
 * for one, then lets the guest go on after the HLT. -ENOENT without a source. */
int virq_halt(struct vcpu *v, const struct vmm_exit *e);

#endif
