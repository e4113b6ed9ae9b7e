/* Vendor-neutral IOMMU layer: picks its hardware driver from a probe table (the first
 * whose probe finds hardware) and forwards to the ops it registers. */
#define LOG_TAG "iommu"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/pci_group.h>
#include "core/boot_report.h"
#include "iommu/iommu_priv.h"

static const struct iommu_driver *const drivers[] = {
	&vtd_iommu_driver,
};

static const struct iommu_driver *driver; /* the one whose probe found hardware */
static const struct iommu_ops *iommu;

/* A function no working unit translates (its unit does not answer) could DMA anywhere:
 * its bus mastering is stopped, and assignment refuses it (vmm/assign.c). */
static void stop_uncovered(struct pci_dev *d)
{
	u16 cmd = pci_read16(d, PCI_COMMAND);

	if (cmd & PCI_COMMAND_MASTER)
		pci_write16(d, PCI_COMMAND, cmd & ~(u16)PCI_COMMAND_MASTER);
	pr_err(-ENODEV,
	       "%04x:%02x:%02x.%x: no remapping unit covers it: bus mastering stopped (it was "
	       "%s), given to no guest\n",
	       d->seg, d->bus, d->dev, d->fn, cmd & PCI_COMMAND_MASTER ? "on" : "off");
}

/* Functions the hypervisor drives (PFs, bridges) or has not given to anyone keep reaching
 * RAM through the hypervisor's identity domain; giving one to a guest moves it into the
 * guest's domain (iommu_attach). */
static void attach_hypervisor_devices(void)
{
	struct iommu_domain *hv = iommu_hypervisor_domain();
	struct pci_dev *d;
	unsigned n = 0;

	if (!hv)
		return;
	pci_for_each_dev(d)
	{
		if (!d->present || d->owner.kind == PCI_OWNER_GUEST)
			continue;
		if (!iommu_pci_covered(d)) {
			stop_uncovered(d);
			continue;
		}
		if (iommu_attach_pci(hv, d) == 0)
			n++;
	}
	pr_info("%u PCI functions in the hypervisor domain\n", n);
}

#define MAX_ALIASES 8

int iommu_attach_pci(struct iommu_domain *d, const struct pci_dev *dev)
{
	u16 rids[MAX_ALIASES];
	unsigned n = pci_dma_aliases(dev, rids, MAX_ALIASES);
	int err;

	err = iommu_attach(d, dev->seg, dev->rid, dev->is_vf && dev->pf ? dev->pf->rid : dev->rid);
	for (unsigned i = 1; i < n && !err; i++)
		err = iommu_attach(d, dev->seg, rids[i], rids[i]);
	return err;
}

bool iommu_pci_covered(const struct pci_dev *dev)
{
	return iommu && iommu->covers &&
	       iommu->covers(dev->seg, dev->rid, dev->is_vf && dev->pf ? dev->pf->rid : dev->rid);
}

int iommu_pci_reserved_region(const struct pci_dev *dev, u64 *base, u64 *limit)
{
	if (!iommu || !iommu->reserved_region)
		return -ENOENT;
	return iommu->reserved_region(dev->seg, dev->rid, base, limit);
}

void iommu_early_init(const struct boot_info *bi)
{
	for (unsigned i = 0; i < ARRAY_SIZE(drivers); i++) {
		if (drivers[i]->probe(bi) == 0) {
			driver = drivers[i];
			pr_info("%s: the firmware describes its remapping hardware\n",
				driver->name);
			return;
		}
	}
}

int iommu_init(const struct boot_info *bi)
{
	int err;

	if (!driver)
		return -ENODEV;
	err = driver->init(bi);
	if (!err)
		attach_hypervisor_devices();
	return err;
}

static iommu_fault_cb fault_cb;
static void *fault_ctx;

void iommu_register(const struct iommu_ops *ops)
{
	iommu = ops;
	pr_info("%s remapping hardware registered\n", ops->name);
}

bool iommu_present(void)
{
	return iommu != NULL;
}

const char *iommu_name(void)
{
	return iommu ? iommu->name : "none";
}

struct iommu_domain *iommu_domain_create(const char *name)
{
	return iommu ? iommu->domain_create(name) : NULL;
}

void iommu_domain_destroy(struct iommu_domain *d)
{
	if (iommu && d)
		iommu->domain_destroy(d);
}

int iommu_map(struct iommu_domain *d, u64 iova, u64 pa, u64 size, u32 prot)
{
	return iommu ? iommu->map(d, iova, pa, size, prot) : -ENODEV;
}

int iommu_unmap(struct iommu_domain *d, u64 iova, u64 size)
{
	return iommu ? iommu->unmap(d, iova, size) : -ENODEV;
}

int iommu_lookup(struct iommu_domain *d, u64 iova, u64 *pa, u32 *prot)
{
	return iommu ? iommu->lookup(d, iova, pa, prot) : -ENODEV;
}

int iommu_attach(struct iommu_domain *d, u16 seg, u16 sid, u16 pf_sid)
{
	return iommu ? iommu->attach(d, seg, sid, pf_sid) : -ENODEV;
}

int iommu_detach(struct iommu_domain *d, u16 seg, u16 sid)
{
	return iommu ? iommu->detach(d, seg, sid) : -ENODEV;
}

int iommu_irq_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq)
{
	return iommu && iommu->irq_alloc ? iommu->irq_alloc(seg, sid, pf_sid, irq) : -ENODEV;
}

int iommu_irq_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg)
{
	return iommu && iommu->irq_program ? iommu->irq_program(irq, cfg) : -ENODEV;
}

void iommu_irq_free(struct iommu_irq *irq)
{
	if (iommu && iommu->irq_free)
		iommu->irq_free(irq);
}

int iommu_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid)
{
	return iommu && iommu->ioapic_sid ? iommu->ioapic_sid(ioapic_id, seg, sid) : -ENODEV;
}

u64 iommu_ioapic_rte(const struct iommu_irq *irq, const struct iommu_irq_cfg *cfg, bool active_low,
		     bool masked)
{
	return iommu && iommu->ioapic_rte ? iommu->ioapic_rte(irq, cfg, active_low, masked) : 0;
}

void iommu_domain_report(struct iommu_domain *d)
{
	unsigned counts[5] = {0}, tables = 0;

	if (!iommu || !iommu->table_stats || !d)
		return;
	iommu->table_stats(d, counts, &tables);
	pr_info("domain %s: %u tables, leaves %u x 1G, %u x 2M, %u x 4K\n", iommu_domain_name(d),
		tables, counts[2], counts[1], counts[0]);
}

bool iommu_irq_remapping(void)
{
	return iommu && iommu->irq_remapping && iommu->irq_remapping();
}

struct iommu_domain *iommu_hypervisor_domain(void)
{
	static struct iommu_domain *hv;
	const struct boot_info *bi = boot_info_get();

	if (hv || !iommu)
		return hv;
	hv = iommu_domain_create("hypervisor");
	if (!hv)
		return NULL;
	for (unsigned i = 0; i < bi->nr_mem; i++) {
		const struct mem_range *m = &bi->mem[i];
		u64 base = ALIGN_UP(m->base, PAGE_SIZE),
		    end = ALIGN_DOWN(m->base + m->length, PAGE_SIZE);
		int err;

		if (m->type != MEM_USABLE || end <= base)
			continue;
		err = iommu_map(hv, base, base, end - base, IOMMU_RW);
		if (err && err != -EEXIST)
			pr_err(err, "hypervisor domain: RAM %#llx-%#llx not mapped\n",
			       (unsigned long long)base, (unsigned long long)end);
		else
			pr_info("domain hypervisor: maps %#llx-%#llx\n", (unsigned long long)base,
				(unsigned long long)end);
	}
	iommu_domain_report(hv);
	return hv;
}

void iommu_set_fault_callback(iommu_fault_cb cb, void *ctx)
{
	fault_ctx = ctx;
	fault_cb = cb;
}

void iommu_report_fault(struct iommu_fault *f)
{
	if (f->domain)
		iommu_domain_count_fault(f->domain);
	if (fault_cb)
		fault_cb(f, fault_ctx);
}

const char *iommu_domain_name(const struct iommu_domain *d)
{
	return d ? d->name : "none";
}

u32 iommu_domain_id(const struct iommu_domain *d)
{
	return d->id;
}

u64 iommu_domain_faults(const struct iommu_domain *d)
{
	return __atomic_load_n(&d->faults, __ATOMIC_RELAXED);
}

void iommu_domain_count_fault(struct iommu_domain *d)
{
	__atomic_fetch_add(&d->faults, 1, __ATOMIC_RELAXED);
}
