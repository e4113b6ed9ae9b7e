/* Which devices a guest may have: the configuration's names resolved to functions, and the
 * refusals (unknown, not assignable, owned elsewhere, an isolation group split). */
#define LOG_TAG "vmm"
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci_group.h>
#include <moat/string.h>
#include "vmm/assign.h"

#define PCI_CLASS_BASE_SUB GENMASK(23, 8) /* base class and subclass of pci_dev.class */
#define PCI_CLASS_HOST_BRIDGE 0x0600

struct pci_dev *assign_resolve(const struct cfg_device *c, char *why, size_t size)
{
	struct pci_dev *d = pci_find_bdf(c->segment, c->bus, c->dev, c->fn);

	if (!d) {
		snprintf(why, size, "no such %s",
			 c->kind == CFG_DEV_VF ? "physical function" : "device");
		return NULL;
	}
	if (c->kind != CFG_DEV_VF)
		return d;
	if (!d->sriov) {
		snprintf(why, size, "%04x:%02x:%02x.%x has no SR-IOV capability", d->seg, d->bus,
			 d->dev, d->fn);
		return NULL;
	}
	d = pci_sriov_vf(d, c->vf);
	if (!d)
		snprintf(why, size, "VF %u is not enabled (%u VFs)", c->vf,
			 pci_find_bdf(c->segment, c->bus, c->dev, c->fn)->sriov->num_vfs);
	return d;
}

/* Why `d` can never go to a guest, or NULL. */
static const char *not_assignable(const struct pci_dev *d)
{
	if (d->sriov)
		return "a physical function with SR-IOV (its VFs can be assigned, it cannot)";
	if (d->header_type == 1)
		return "a bridge";
	if (FIELD_GET(PCI_CLASS_BASE_SUB, d->class) == PCI_CLASS_HOST_BRIDGE)
		return "a host bridge";
	if (d->owner.kind == PCI_OWNER_HYPERVISOR)
		return "used by the hypervisor";
	return NULL;
}

/* What the remapping hardware must give before a function can go to a guest: a working
 * unit translating its DMA, and no firmware-reserved range (RMRR) it keeps using. The
 * policy on RMRRs is Linux's: the firmware may DMA there at any time behind the OS's back
 * (USB legacy keyboard emulation, graphics stolen memory), which a guest's domain cannot
 * honour without giving the guest a window onto host memory, so such a device stays
 * moat's. */
static int check_remapping(const struct pci_dev *d, const char *name, char *why, size_t size)
{
	u64 base, limit;

	if (!iommu_pci_covered(d)) {
		snprintf(why, size,
			 "device %s: no remapping unit covers %04x:%02x:%02x.%x (its unit does "
			 "not answer), so its DMA could reach any memory",
			 name, d->seg, d->bus, d->dev, d->fn);
		return -ENODEV;
	}
	if (!iommu_pci_reserved_region(d, &base, &limit)) {
		snprintf(why, size,
			 "device %s: the firmware reserves %#llx-%#llx for its DMA (RMRR); a "
			 "device the firmware uses behind the OS's back is not assignable",
			 name, (unsigned long long)base, (unsigned long long)limit);
		return -EPERM;
	}
	return 0;
}

static int check_device(struct guest *g, int gidx, u32 i, char *why, size_t size)
{
	char name[32], owner[32], what[ASSIGN_WHY_MAX];
	struct pci_dev *d;
	const char *bad;
	int err;

	config_device_str(&g->cfg.devices[i], name, sizeof(name));
	d = assign_resolve(&g->cfg.devices[i], why, size);
	if (!d) {
		strlcpy(what, why, sizeof(what));
		snprintf(why, size, "device %s: %s", name, what);
		return -ENODEV;
	}
	bad = not_assignable(d);
	if (bad) {
		snprintf(why, size, "device %s: %s", name, bad);
		return -EPERM;
	}
	err = iommu_present() ? check_remapping(d, name, why, size) : 0;
	if (!err && d->is_vf && d->pf && d->pf->owner.kind != PCI_OWNER_HYPERVISOR) {
		snprintf(why, size,
			 "device %s: its physical function %04x:%02x:%02x.%x has no working "
			 "driver in moat (not brought up), so the VF gets no PF service",
			 name, d->pf->seg, d->pf->bus, d->pf->dev, d->pf->fn);
		err = -ENODEV;
	}
	if (err)
		return err;
	if (pci_msix_layout_check(d, what, sizeof(what))) {
		snprintf(why, size, "device %s: %s", name, what);
		return -EINVAL;
	}
	if (d->owner.kind == PCI_OWNER_GUEST && d->owner.guest != gidx) {
		snprintf(why, size, "device %s: already given to %s", name,
			 pci_owner_name(&d->owner, owner, sizeof(owner)));
		return -EBUSY;
	}
	for (u32 j = 0; j < i; j++)
		if (g->dev[j].pdev == d) {
			snprintf(why, size, "device %s: named twice", name);
			return -EINVAL;
		}
	g->dev[i].pdev = d;
	return 0;
}

int assign_claim(struct guest *g, int gidx, char *why, size_t size)
{
	struct pci_dev *devs[CFG_MAX_DEVICES];
	char what[ASSIGN_WHY_MAX];
	u32 i;
	int err;

	memset(g->dev, 0, sizeof(g->dev));
	g->nr_dev = 0;
	for (i = 0; i < g->cfg.nr_devices; i++) {
		err = check_device(g, gidx, i, why, size);
		if (err)
			goto fail;
		devs[i] = g->dev[i].pdev;
	}
	if (!i)
		return 0;
	if (!iommu_present()) {
		snprintf(why, size,
			 "no IOMMU: its devices' DMA and interrupts could not be confined");
		err = -ENODEV;
		goto fail;
	}
	if (!iommu_irq_remapping() && !cmdline_has("iommu.unsafe_interrupts")) {
		snprintf(why, size,
			 "the IOMMU does not remap interrupts, so its devices could send "
			 "any interrupt to any CPU (iommu.unsafe_interrupts on the command "
			 "line accepts that)");
		err = -EPERM;
		goto fail;
	}
	err = pci_group_check_assignment(devs, i, what, sizeof(what));
	if (err) {
		snprintf(why, size, "isolation group split: %s", what);
		goto fail;
	}
	for (u32 j = 0; j < i; j++) {
		err = pci_set_owner(devs[j], PCI_OWNER_GUEST, gidx);
		if (err) {
			snprintf(why, size, "device %04x:%02x:%02x.%x: ownership refused (%d)",
				 devs[j]->seg, devs[j]->bus, devs[j]->dev, devs[j]->fn, err);
			g->nr_dev = j;
			assign_unclaim(g);
			return err;
		}
		devs[j]->owner.name = g->cfg.name;
	}
	g->nr_dev = i;
	return 0;

fail:
	memset(g->dev, 0, sizeof(g->dev));
	return err;
}

void assign_unclaim(struct guest *g)
{
	for (u32 i = 0; i < g->nr_dev; i++)
		if (g->dev[i].pdev)
			pci_release(g->dev[i].pdev);
	memset(g->dev, 0, sizeof(g->dev));
	g->nr_dev = 0;
}

int assign_layout(struct guest *g)
{
	u64 next = VDEV_MMIO_BASE;

	if (g->ram_size > VDEV_MMIO_BASE)
		return pr_err(-ENOSPC, "guest %s: RAM reaches into the device window at %#llx\n",
			      g->cfg.name, VDEV_MMIO_BASE);
	for (u32 i = 0; i < g->nr_dev; i++) {
		struct vdev *v = &g->dev[i];

		for (unsigned b = 0; b < PCI_NR_BARS; b++) {
			const struct pci_bar *bar = &v->pdev->bar[b];
			u64 size = MAX(bar->size, (u64)PAGE_SIZE);

			v->bar_gpa[b] = 0;
			if (bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64)
				continue;
			next = ALIGN_UP(next, size);
			if (next + size > VDEV_MMIO_END)
				return pr_err(-ENOSPC,
					      "guest %s: device BARs do not fit below %#llx\n",
					      g->cfg.name, VDEV_MMIO_END);
			v->bar_gpa[b] = next;
			next += size;
		}
	}
	return 0;
}
