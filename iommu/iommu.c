/* Vendor-neutral IOMMU layer: picks its hardware driver from a probe table (the first
 * whose probe finds hardware) and forwards to the ops it registers. */
#define LOG_TAG "iommu"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/pci_group.h>
#include <moat/string.h>
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

/* ---- moat's own DMA: each function in a domain that maps only its driver's buffers ---- */

#define OWN_DMA_DEVS 8
#define OWN_DMA_BUFS 8

struct own_dma {
	const struct pci_dev *dev;
	struct iommu_domain *dom;
	unsigned nr;
	struct {
		u64 pa, size;
	} buf[OWN_DMA_BUFS];
};

static struct own_dma own_dma[OWN_DMA_DEVS];
static bool enforcing; /* iommu_init done: the buffers are mapped as they are given */

static struct own_dma *own_dma_of(const struct pci_dev *dev, bool create)
{
	struct own_dma *free = NULL;

	for (unsigned i = 0; i < OWN_DMA_DEVS; i++) {
		if (own_dma[i].dev == dev)
			return &own_dma[i];
		if (!own_dma[i].dev && !free)
			free = &own_dma[i];
	}
	if (create && free) {
		free->dev = dev;
		free->nr = 0;
		free->dom = NULL;
	}
	return create ? free : NULL;
}

static int own_dma_map_buf(struct own_dma *o, unsigned i)
{
	int err = iommu_map(o->dom, o->buf[i].pa, o->buf[i].pa, o->buf[i].size, IOMMU_RW);

	return err == -EEXIST ? 0 : err;
}

/* The function's domain "own-SSSS:BB:DD.F": its buffers identity-mapped, then attached. */
static int own_dma_domain(struct own_dma *o)
{
	const struct pci_dev *d = o->dev;
	char name[24];
	int err = 0;

	snprintf(name, sizeof(name), "own-%04x:%02x:%02x.%x", d->seg, d->bus, d->dev, d->fn);
	o->dom = iommu_domain_create(name);
	if (!o->dom)
		return pr_err(-ENOMEM, "%s: no domain for moat's own DMA\n", name);
	for (unsigned i = 0; i < o->nr && !err; i++)
		err = own_dma_map_buf(o, i);
	if (!err)
		err = iommu_attach_pci(o->dom, d);
	if (err)
		return pr_err(err, "%s: moat's own DMA not set up: the function stays blocked\n",
			      name);
	return 0;
}

int iommu_own_dma_map(const struct pci_dev *dev, u64 pa, u64 size)
{
	struct own_dma *o = own_dma_of(dev, true);
	u64 base = ALIGN_DOWN(pa, PAGE_SIZE), end = ALIGN_UP(pa + size, PAGE_SIZE);

	if (!o || o->nr >= OWN_DMA_BUFS)
		return pr_err(-ENOSPC, "%04x:%02x:%02x.%x: no room for another DMA buffer\n",
			      dev->seg, dev->bus, dev->dev, dev->fn);
	o->buf[o->nr].pa = base;
	o->buf[o->nr].size = end - base;
	o->nr++;
	if (!enforcing)
		return 0;
	if (!o->dom)
		return own_dma_domain(o);
	return own_dma_map_buf(o, o->nr - 1);
}

void iommu_own_dma_release(const struct pci_dev *dev)
{
	struct own_dma *o = own_dma_of(dev, false);

	if (!o)
		return;
	/* Destroying the domain detaches every requester ID still in it. */
	if (o->dom)
		iommu_domain_destroy(o->dom);
	memset(o, 0, sizeof(*o));
}

/* DMA default-deny: a function reaches memory only through a domain its owner was given.
 * Nobody's functions and moat's own without buffers get no context entry: their DMA is
 * blocked and each request faults with their source ID (rate-limited log, counted per
 * function). A function the firmware keeps reaching memory through (RMRR) gets a domain
 * that maps only those ranges. */
static void default_deny(void)
{
	unsigned blocked = 0, own = 0, rmrr = 0;
	struct iommu_domain *fw = NULL;
	struct pci_dev *d;
	u64 base, limit;

	enforcing = true;
	for (unsigned i = 0; i < OWN_DMA_DEVS; i++)
		if (own_dma[i].dev && own_dma_domain(&own_dma[i]) == 0)
			own++;
	pci_for_each_dev(d)
	{
		if (!d->present || d->owner.kind == PCI_OWNER_GUEST || own_dma_of(d, false))
			continue;
		if (!iommu_pci_covered(d)) {
			stop_uncovered(d);
			continue;
		}
		if (iommu_pci_reserved_region(d, &base, &limit) == 0) {
			if (!fw)
				fw = iommu_domain_create("firmware-rmrr");
			if (fw && iommu_attach_pci(fw, d) == 0) {
				rmrr++;
				continue;
			}
		}
		blocked++;
	}
	pr_info("DMA default-deny: %u PCI functions blocked (no domain), %u in domains of moat's "
		"own buffers, %u with their firmware-reserved ranges only\n",
		blocked, own, rmrr);
}

int iommu_early_init(const struct boot_info *bi)
{
	int err = -ENODEV;

	for (unsigned i = 0; i < ARRAY_SIZE(drivers); i++) {
		int e = drivers[i]->probe(bi);

		if (e == 0) {
			driver = drivers[i];
			pr_info("%s: the firmware describes its remapping hardware\n",
				driver->name);
			return 0;
		}
		/* Described but unusable (a DMAR that does not parse): a failure. */
		if (e != -ENODEV)
			err = e;
	}
	return err;
}

/* Without working remapping hardware the only way to keep a device from memory is to
 * stop its bus mastering: every endpoint nobody owns (moat's own drivers keep theirs). */
static void stop_unowned_masters(int err)
{
	unsigned n = 0;
	struct pci_dev *d;

	pci_for_each_dev(d)
	{
		u16 cmd;

		if (!d->present || d->owner.kind != PCI_OWNER_NONE || d->header_type == 1)
			continue;
		cmd = pci_read16(d, PCI_COMMAND);
		if (!(cmd & PCI_COMMAND_MASTER))
			continue;
		pci_write16(d, PCI_COMMAND, cmd & ~(u16)PCI_COMMAND_MASTER);
		n++;
	}
	pr_info("%s: bus mastering stopped on %u functions nobody owns\n",
		err == -ENODEV ? "no remapping hardware" : "remapping hardware not set up", n);
}

int iommu_init(const struct boot_info *bi)
{
	int err;

	err = driver ? driver->init(bi) : -ENODEV;
	if (!err)
		default_deny();
	else
		stop_unowned_masters(err);
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

void iommu_set_fault_callback(iommu_fault_cb cb, void *ctx)
{
	fault_ctx = ctx;
	fault_cb = cb;
}

void iommu_report_fault(struct iommu_fault *f)
{
	struct pci_dev *d = pci_find_rid(f->segment, f->sid);

	if (d)
		__atomic_fetch_add(&d->dma_faults, 1, __ATOMIC_RELAXED);
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
