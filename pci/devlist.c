/* The device list: a fixed pool of functions, looked up by address, class or capability,
 * each with its owner. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"

#define PCI_MAX_SRIOV_PFS 16

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned nr_devs;
static struct pci_sriov sriov_pool[PCI_MAX_SRIOV_PFS];
static unsigned nr_sriov;

void pci_devlist_reset(void)
{
	memset(devs, 0, sizeof(devs));
	memset(sriov_pool, 0, sizeof(sriov_pool));
	nr_devs = 0;
	nr_sriov = 0;
}

struct pci_dev *pci_dev_alloc(u16 seg, u16 rid)
{
	struct pci_dev *d;

	if (nr_devs == PCI_MAX_DEVS) {
		pr_err(-ENOSPC, "device list full (%u functions); %04x:%02x:%02x.%x not added\n",
		       PCI_MAX_DEVS, seg, PCI_RID_BUS(rid), PCI_RID_DEV(rid), PCI_RID_FN(rid));
		return NULL;
	}
	d = &devs[nr_devs++];
	d->seg = seg;
	d->rid = rid;
	d->bus = PCI_RID_BUS(rid);
	d->dev = PCI_RID_DEV(rid);
	d->fn = PCI_RID_FN(rid);
	d->present = true;
	return d;
}

void *pci_zalloc_sriov(void)
{
	if (nr_sriov == PCI_MAX_SRIOV_PFS) {
		pr_err(-ENOSPC, "more than %u SR-IOV physical functions\n", PCI_MAX_SRIOV_PFS);
		return NULL;
	}
	return &sriov_pool[nr_sriov++];
}

unsigned pci_dev_count(void)
{
	return nr_devs;
}

struct pci_dev *pci_dev_at(unsigned idx)
{
	return idx < nr_devs ? &devs[idx] : NULL;
}

/* The present function after `from` (NULL = first) for which match() holds. */
static struct pci_dev *next_matching(struct pci_dev *from,
				     bool (*match)(const struct pci_dev *, u64, u64), u64 a, u64 b)
{
	unsigned i = from ? (unsigned)(from - devs) + 1 : 0;

	for (; i < nr_devs; i++)
		if (devs[i].present && match(&devs[i], a, b))
			return &devs[i];
	return NULL;
}

static bool match_rid(const struct pci_dev *d, u64 seg, u64 rid)
{
	return d->seg == seg && d->rid == rid;
}

static bool match_class(const struct pci_dev *d, u64 class, u64 mask)
{
	return (d->class & mask) == (class & mask);
}

static bool match_cap(const struct pci_dev *d, u64 id, u64 unused)
{
	switch (id) {
	case PCI_CAP_PM: return d->cap_pm;
	case PCI_CAP_MSI: return d->cap_msi;
	case PCI_CAP_MSIX: return d->cap_msix;
	case PCI_CAP_PCIE: return d->cap_pcie;
	default: return pci_cap_find(d, (u8)id);
	}
}

static bool match_ecap(const struct pci_dev *d, u64 id, u64 unused)
{
	switch (id) {
	case PCI_ECAP_AER: return d->ecap_aer;
	case PCI_ECAP_ACS: return d->ecap_acs;
	case PCI_ECAP_ARI: return d->ecap_ari;
	case PCI_ECAP_SRIOV: return d->ecap_sriov;
	default: return pci_ecap_find(d, (u16)id);
	}
}

static bool match_ids(const struct pci_dev *d, u64 vendor, u64 device)
{
	return d->vendor == vendor && d->device == device;
}

struct pci_dev *pci_find_rid(u16 seg, u16 rid)
{
	return next_matching(NULL, match_rid, seg, rid);
}

struct pci_dev *pci_find_bdf(u16 seg, u8 bus, u8 dev, u8 fn)
{
	if (dev > 31 || fn > 7)
		return NULL;
	return pci_find_rid(seg, PCI_RID(bus, dev, fn));
}

struct pci_dev *pci_find_class(u32 class, u32 mask, struct pci_dev *from)
{
	return next_matching(from, match_class, class, mask);
}

struct pci_dev *pci_find_cap(u8 id, struct pci_dev *from)
{
	return next_matching(from, match_cap, id, 0);
}

struct pci_dev *pci_find_ecap(u16 id, struct pci_dev *from)
{
	return next_matching(from, match_ecap, id, 0);
}

struct pci_dev *pci_find_device(u16 vendor, u16 device, struct pci_dev *from)
{
	return next_matching(from, match_ids, vendor, device);
}

struct pci_dev *pci_sriov_vf(const struct pci_dev *pf, unsigned idx)
{
	if (!pf->sriov || !pf->sriov->enabled || idx >= pf->sriov->num_vfs)
		return NULL;
	return pf->sriov->vf[idx];
}

const char *pci_owner_name(const struct pci_owner *o, char *buf, size_t size)
{
	switch (o->kind) {
	case PCI_OWNER_HYPERVISOR: return "hypervisor";
	case PCI_OWNER_GUEST: snprintf(buf, size, "guest%d", o->guest); return buf;
	default: return "none";
	}
}

int pci_set_owner(struct pci_dev *d, enum pci_owner_kind kind, int guest)
{
	char a[16], b[16];
	struct pci_owner want = {(u8)kind, kind == PCI_OWNER_GUEST ? guest : 0, NULL};

	if (kind == PCI_OWNER_NONE) {
		pci_release(d);
		return 0;
	}
	if (!d->present)
		return pr_err(-ENODEV, "%04x:%02x:%02x.%x is not present\n", d->seg, d->bus, d->dev,
			      d->fn);
	if (d->owner.kind != PCI_OWNER_NONE &&
	    (d->owner.kind != want.kind || d->owner.guest != want.guest))
		return pr_err(-EBUSY, "%04x:%02x:%02x.%x belongs to %s, not given to %s\n", d->seg,
			      d->bus, d->dev, d->fn, pci_owner_name(&d->owner, a, sizeof(a)),
			      pci_owner_name(&want, b, sizeof(b)));
	d->owner = want;
	return 0;
}

void pci_release(struct pci_dev *d)
{
	d->owner.kind = PCI_OWNER_NONE;
	d->owner.guest = 0;
	d->owner.name = NULL;
}
