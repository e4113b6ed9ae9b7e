/* A guest's function level reset of its VF. The guest's vCPU initiates the reset and goes
 * on, its VF's BARs unmapped (vmm/vbar.c: its accesses read all ones); the 100 ms in which the
 * function must receive no request are waited out only by an access of the same guest to the same
 * device that comes earlier (config space or MSI-X table: vdev_lock), on that vCPU's own CPU. Other
 * guests and CPU 0, which serves the PF mailbox, never wait for it; a guest that resets in a loop
 * pays 100 ms of its own CPU per reset. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "vmm/msix.h"
#include "vmm/vbar.h"
#include "vmm/vflr.h"

#define VDEV_COMMAND_PASSED (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

bool vflr_offered(const struct vdev *v)
{
	return v->pdev->is_vf && pci_has_flr(v->pdev);
}

static unsigned slot_of(const struct guest *g, const struct vdev *v)
{
	return (unsigned)(v - g->dev) + 1;
}

void vflr_start(struct guest *g, struct vdev *v)
{
	struct pci_dev *d = v->pdev;
	unsigned dropped;

	vflr_settle(g, v);
	/* No interrupt from the device reaches a vector any more, then no DMA. */
	if (d->cap_msix)
		msix_flr(v);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & (u16)~VDEV_COMMAND_PASSED);
	v->command = 0;
	memset(v->bar_sizing, 0, sizeof(v->bar_sizing));
	/* No request of the guest's reaches the function from here until the guest turns
	 * memory decode on again after the reset: its BAR pages out of the nested tables and
	 * every CPU's TLB (vmm/vbar.c). */
	vbar_sync(g, v);
	v->flrs++;
	if (!v->flr_log.window_us) {
		v->flr_log.window_us = VFLR_LOG_US;
		v->flr_log.burst = VFLR_LOG_BURST;
	}
	if (ratelimit_allow(&v->flr_log, time_us(), &dropped))
		pr_info("guest %s: function level reset of 00:%02x.0 (%04x:%02x:%02x.%x), %u so "
			"far%s\n",
			g->cfg.name, slot_of(g, v), d->seg, d->bus, d->dev, d->fn, v->flrs,
			dropped ? " (earlier ones not logged)" : "");
	if (pci_flr_start(d)) {
		v->flrs_failed++;
		return;
	}
	v->flr_state = VFLR_RESETTING;
	v->flr_done_us = time_us() + PCI_FLR_WAIT_MS * 1000ull;
}

void vflr_settle(struct guest *g, struct vdev *v)
{
	if (v->flr_state != VFLR_RESETTING)
		return;
	/* Bounded: flr_done_us is at most PCI_FLR_WAIT_MS after the reset began. */
	while (time_us() < v->flr_done_us)
		__builtin_ia32_pause();
	v->flr_state = VFLR_IDLE;
	vbar_sync(g, v);
	if (pci_flr_ready(v->pdev)) {
		v->flrs_failed++;
		pr_err(-ETIMEDOUT, "guest %s: 00:%02x.0 does not answer after its reset\n",
		       g->cfg.name, slot_of(g, v));
	}
}
