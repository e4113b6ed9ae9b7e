/* A guest's devices' memory BARs in its nested tables (vmm/vbar.c). As vfio-pci zaps a
 * device's BAR mappings while its memory decode is off and during a reset, moat maps a
 * device's BAR pages only while the guest's virtual Command register has Memory Space
 * Enable on and no function level reset the guest initiated is in progress; meanwhile an
 * access exits and moat answers it as a function that does not decode it: reads all
 * ones, writes dropped, counted and logged rate-limited. The MSI-X table and PBA pages are
 * never mapped (vmm/msix.c). */
#ifndef VMM_VBAR_H
#define VMM_VBAR_H

#include "vmm/vmm.h"

#define VBAR_LOG_BURST 4 /* log lines per device per VBAR_LOG_US */
#define VBAR_LOG_US 1000000

/* Whether page `off` of BAR b of d holds the MSI-X table or PBA (those stay trapped). */
bool vbar_msix_page(const struct pci_dev *d, unsigned b, u64 off);

/* At assignment: every BAR the guest sees can be mapped page by page (-EINVAL, logged,
 * otherwise). Nothing is mapped until the guest turns memory decode on. */
int vbar_check(struct guest *g, const struct vdev *v);

/* Whether v's BARs belong in the guest's nested tables now. */
bool vbar_decoding(const struct vdev *v);

/* After a change of v's command or reset state: maps its BAR pages, or unmaps them and
 * flushes every vCPU's nested TLB before returning (vmm/npt_flush.h), as vbar_decoding()
 * says. Caller holds v->lock (or the guest no longer runs). */
int vbar_sync(struct guest *g, struct vdev *v);

/* At release: every BAR page out of the nested tables (the guest no longer runs). */
void vbar_release(struct guest *g, struct vdev *v);

/* The device with a BAR page (not its MSI-X table or PBA) at gpa, NULL if none; its BAR
 * index in *bar (may be NULL). */
struct vdev *vbar_region(struct guest *g, u64 gpa, unsigned *bar);

/* A 32-bit access to v's BAR at gpa that exited because its pages are not mapped: a read
 * gets all ones, a write goes nowhere. Counted per device, logged rate-limited with the
 * guest's name. */
void vbar_off_access(struct guest *g, struct vdev *v, u64 gpa, bool write, u32 *val);

#endif
