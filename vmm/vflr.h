/* Function level reset of an assigned VF from inside its guest (vmm/vflr.c): the guest
 * sets Initiate FLR in its virtual PCIe Device Control; moat resets the function for real
 * and the guest-visible state with it. */
#ifndef VMM_VFLR_H
#define VMM_VFLR_H

#include "vmm/vmm.h"

#define VFLR_LOG_BURST 4 /* log lines per guest device per VFLR_LOG_US */
#define VFLR_LOG_US 1000000

/* Whether the guest sees FLR in Device Capabilities: a VF whose hardware has it (a VF's
 * BARs live in its PF, so nothing moat placed is lost with the reset). */
bool vflr_offered(const struct vdev *v);

/* The guest wrote Initiate FLR. In this order: the physical MSI-X entries masked and their
 * interrupt remapping entries freed (nothing the device sends can reach a vector until the
 * guest programs an entry again), memory decode and bus mastering off, the guest's view
 * reset (Command 0, MSI-X disabled and unmasked, every table entry masked and empty, no
 * BAR sizing), then the reset initiated in hardware (bounded wait for pending
 * transactions). What moat owns stays: the BARs' guest-physical addresses, the IOMMU
 * domain (DMA still in flight lands in the guest's own RAM) and the host vectors (a late
 * message raises the guest's own vector). The PF learns of it from the device (VFLRE).
 * The 100 ms the spec requires are not waited here: see vflr_settle. Caller holds v->lock. */
void vflr_start(struct guest *g, struct vdev *v);

/* Before any request moat sends the function on the guest's behalf: while a reset is in
 * progress, waits out the rest of its 100 ms (this vCPU only; bounded), then until the
 * function answers again (bounded). Caller holds v->lock. */
void vflr_settle(struct guest *g, struct vdev *v);

/* The guest's config or MSI-X table access to v: one vCPU at a time, after a reset in
 * progress is over. */
static inline void vdev_lock(struct guest *g, struct vdev *v)
{
	spin_lock(&v->lock);
	vflr_settle(g, v);
}

static inline void vdev_unlock(struct vdev *v)
{
	spin_unlock(&v->lock);
}

#endif
