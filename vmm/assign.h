/* Devices given to guests: which ones a configuration may name (vmm/assign.c) and what
 * giving one to a guest and taking it back does to the hardware (vmm/assign_hw.c). */
#ifndef VMM_ASSIGN_H
#define VMM_ASSIGN_H

#include "vmm/vmm.h"

#define ASSIGN_WHY_MAX 200

/* The function a configured device names: a BDF, or VF n of a PF. NULL with `why`
 * explaining what is missing. */
struct pci_dev *assign_resolve(const struct cfg_device *c, char *why, size_t size);

/* Checks every device of guest `g` (index `gidx` in the device owners) and, when all may
 * go to it, makes the guest their owner and fills g->dev[].pdev. Refuses (-ENODEV unknown,
 * -EPERM not assignable, -EBUSY owned elsewhere or a split isolation group) with `why`
 * naming the device and the reason; nothing is claimed then. */
int assign_claim(struct guest *g, int gidx, char *why, size_t size);
/* Gives back what assign_claim took (ownership only). */
void assign_unclaim(struct guest *g);

/* Lays the claimed devices' BARs out in the guest-physical window above VDEV_MMIO_BASE,
 * each aligned to its size. -ENOSPC when the window would reach past 4 GiB or the guest's
 * RAM reaches into it. */
int assign_layout(struct guest *g);

/* The hardware side, in the order the isolation needs: FLR, the guest's IOMMU domain with
 * exactly its RAM, the device's requester IDs moved into it, the BARs (without the MSI-X
 * table and PBA pages) in the nested tables. Bus mastering stays off until the guest turns
 * it on through its virtual config space. */
int assign_attach(struct guest *g);
/* Bus master off, FLR, DMA blocked, BARs out of the nested tables, domain destroyed,
 * ownership given back. Safe on a partly attached guest. */
void assign_release(struct guest *g);

/* One line per device: BDF, domain, faults attributed, refusals counted. */
void assign_report(const struct guest *g);

#endif
