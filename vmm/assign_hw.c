/* Giving a device to a guest and taking it back: reset, DMA confined to the guest's RAM by
 * its own IOMMU domain, BARs in its nested tables once the guest turns memory decode on
 * (vmm/vbar.c; MSI-X table and PBA left out). */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci_group.h>
#include <moat/string.h>
#include "vmm/assign.h"
#include "vmm/msix.h"
#include "vmm/vbar.h"
#include "vmm/vflr.h"

#define PCI_BAR_REG(b) ((u16)(0x10 + 4 * (b)))

static u16 pf_sid_of(const struct pci_dev *d)
{
	return d->is_vf ? d->pf->rid : d->rid;
}

/* FLR clears the BARs of a function that owns its BAR registers; a VF's live in its PF. */
static void restore_bars(const struct pci_dev *d)
{
	if (d->is_vf)
		return;
	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		if (d->bar[b].type == PCI_BAR_NONE)
			continue;
		pci_write32(d, PCI_BAR_REG(b),
			    (pci_read32(d, PCI_BAR_REG(b)) & 0xf) | (u32)d->bar[b].base);
		if (d->bar[b].type == PCI_BAR_MEM64)
			pci_write32(d, PCI_BAR_REG(b + 1), (u32)(d->bar[b].base >> 32));
	}
}

/* Whether every function on the bus below `bridge` goes to guest g. */
static bool bus_all_guests(const struct guest *g, const struct pci_dev *bridge)
{
	struct pci_dev *d;

	pci_for_each_dev(d)
	{
		bool mine = false;

		if (!d->present || d->parent != bridge)
			continue;
		for (u32 i = 0; i < g->nr_dev; i++)
			mine |= g->dev[i].pdev == d;
		if (!mine)
			return false;
	}
	return true;
}

/* FLR where the function has it; otherwise, when the whole bus below its bridge goes to
 * this guest (an isolation group behind a PCIe-to-PCI bridge), a secondary bus reset. */
static int reset_device(struct guest *g, const struct pci_dev *d)
{
	int err;

	if (!pci_has_flr(d) && d->parent && bus_all_guests(g, d->parent)) {
		err = pci_secondary_bus_reset(d->parent);
		if (err)
			return pr_err(err, "guest %s: bus reset for %04x:%02x:%02x.%x failed\n",
				      g->cfg.name, d->seg, d->bus, d->dev, d->fn);
		return 0;
	}
	err = pci_flr((struct pci_dev *)d);
	if (err)
		return pr_err(err, "guest %s: FLR of %04x:%02x:%02x.%x failed\n", g->cfg.name,
			      d->seg, d->bus, d->dev, d->fn);
	restore_bars(d);
	return 0;
}

static int create_domain(struct guest *g)
{
	char name[24];
	int err;

	snprintf(name, sizeof(name), "guest-%s", g->cfg.name);
	g->domain = iommu_domain_create(name);
	if (!g->domain)
		return pr_err(-ENOMEM, "guest %s: no IOMMU domain\n", g->cfg.name);
	/* The same GPA -> HPA map as the nested tables: exactly the guest's RAM. */
	err = iommu_map(g->domain, 0, g->ram_hpa, g->ram_size, IOMMU_RW);
	if (err)
		return pr_err(err, "guest %s: mapping its RAM in its IOMMU domain failed\n",
			      g->cfg.name);
	return 0;
}

static int attach_device(struct guest *g, struct vdev *v)
{
	const struct pci_dev *d = v->pdev;

	v->nr_rids = pci_dma_aliases(d, v->rids, VDEV_MAX_RIDS);
	if (!v->nr_rids)
		return pr_err(-EINVAL, "guest %s: no requester ID for %04x:%02x:%02x.%x\n",
			      g->cfg.name, d->seg, d->bus, d->dev, d->fn);
	v->attached = true;
	/* Attaching replaces the hypervisor's identity domain in the context entry. */
	for (unsigned i = 0; i < v->nr_rids; i++) {
		int err = iommu_attach(g->domain, d->seg, v->rids[i],
				       v->rids[i] == d->rid ? pf_sid_of(d) : v->rids[i]);

		if (err)
			return pr_err(err, "guest %s: attaching source %04x to its domain failed\n",
				      g->cfg.name, v->rids[i]);
	}
	return 0;
}

static void log_assigned(const struct guest *g, const struct vdev *v, unsigned slot)
{
	const struct pci_dev *d = v->pdev;
	char bars[96];
	int n = 0;

	bars[0] = 0;
	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		if (v->bar_gpa[b])
			n += snprintf(bars + n, sizeof(bars) - (size_t)n, " BAR%u at %#llx", b,
				      (unsigned long long)v->bar_gpa[b]);
	pr_info("guest %s: 00:%02x.0 is %04x:%02x:%02x.%x: reset, %u DMA source(s) from %04x in "
		"domain %s (its RAM only),%s\n",
		g->cfg.name, slot, d->seg, d->bus, d->dev, d->fn, v->nr_rids, v->rids[0],
		iommu_domain_name(g->domain), bars);
}

int assign_attach(struct guest *g)
{
	int err;

	if (!g->nr_dev)
		return 0;
	if (!iommu_present())
		return pr_err(-ENODEV,
			      "guest %s: no IOMMU, its devices' DMA could not be confined\n",
			      g->cfg.name);
	err = assign_layout(g);
	if (err)
		return err;
	for (u32 i = 0; i < g->nr_dev; i++)
		msix_init(&g->dev[i]);
	for (u32 i = 0; i < g->nr_dev; i++) {
		pci_write16(g->dev[i].pdev, PCI_COMMAND, 0);
		err = reset_device(g, g->dev[i].pdev);
		if (err)
			return err;
	}
	err = create_domain(g);
	if (err)
		return err;
	for (u32 i = 0; i < g->nr_dev; i++) {
		err = attach_device(g, &g->dev[i]);
		if (err)
			return err;
		err = vbar_check(g, &g->dev[i]);
		if (err)
			return err;
		log_assigned(g, &g->dev[i], i + 1);
	}
	return 0;
}

static void release_device(struct guest *g, struct vdev *v)
{
	struct pci_dev *d = v->pdev;

	/* A reset the guest initiated is over before moat's own begins. */
	vflr_settle(g, v);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~(u16)PCI_COMMAND_MASTER);
	if (d->cap_msix && v->attached)
		msix_release(v);
	reset_device(g, d);
	/* The reset (100 ms) let any message in flight land; each vector is drained and freed
	 * on the guest's CPU its entry targeted. */
	if (d->cap_msix && v->attached)
		msix_free_vectors(v);
	/* Detached sources have no context entry: their DMA is blocked, not identity-mapped. */
	for (unsigned i = 0; v->attached && i < v->nr_rids; i++)
		iommu_detach(g->domain, d->seg, v->rids[i]);
	v->attached = false;
	vbar_release(g, v);
}

void assign_release(struct guest *g)
{
	for (u32 i = 0; i < g->nr_dev; i++)
		if (g->dev[i].pdev)
			release_device(g, &g->dev[i]);
	if (g->domain) {
		g->dma_faults = iommu_domain_faults(g->domain);
		iommu_domain_destroy(g->domain);
		g->domain = NULL;
	}
	assign_unclaim(g);
}

void assign_report(const struct guest *g)
{
	for (u32 i = 0; i < g->nr_dev; i++) {
		const struct pci_dev *d = g->dev[i].pdev;

		pr_info("guest %s: device 00:%02x.0 = %04x:%02x:%02x.%x (%04x:%04x), domain %u "
			"(%s), "
			"faults %llu, IRTEs %u, interrupts injected %llu, MSI-X entries refused "
			"%llu, BAR writes refused %llu, foreign config writes %llu, MSI-X messages "
			"%llu (%llu naming none of its vCPUs)\n",
			g->cfg.name, i + 1, d->seg, d->bus, d->dev, d->fn, d->vendor, d->device,
			g->domain ? iommu_domain_id(g->domain) : 0,
			g->domain ? iommu_domain_name(g->domain) : "none",
			g->domain ? (unsigned long long)iommu_domain_faults(g->domain) : 0ULL,
			msix_irtes(g), (unsigned long long)g->irqs_injected,
			(unsigned long long)g->msix_refused, (unsigned long long)g->bar_refused,
			(unsigned long long)g->cfg_refused,
			(unsigned long long)msix_messages(&g->dev[i]),
			(unsigned long long)__atomic_load_n(&g->msix_nowhere, __ATOMIC_RELAXED));
		if (g->dev[i].flrs)
			pr_info("guest %s: device 00:%02x.0: %u function level resets by the "
				"guest, "
				"%u failed\n",
				g->cfg.name, i + 1, g->dev[i].flrs, g->dev[i].flrs_failed);
		if (g->dev[i].bar_off_reads || g->dev[i].bar_off_writes)
			pr_info("guest %s: device 00:%02x.0: %llu reads and %llu writes of its "
				"BARs "
				"answered by moat (memory decode off or in its reset)\n",
				g->cfg.name, i + 1, (unsigned long long)g->dev[i].bar_off_reads,
				(unsigned long long)g->dev[i].bar_off_writes);
	}
	if (g->npt_flush_timeouts)
		pr_info("guest %s: %llu nested TLB flushes timed out waiting for a vCPU\n",
			g->cfg.name, (unsigned long long)g->npt_flush_timeouts);
}
