/* SR-IOV: moat enables the virtual functions itself. Per PF: ARI hierarchy, page size,
 * NumVFs, VF BAR sizing and placement, VF Enable, then the VFs join the device list. */
#define LOG_TAG "sriov"
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "pci/internal.h"

/* PCI Express Device Control 2, in the upstream port. */
#define PCI_EXP_DEVCTL2 0x28
#define PCI_EXP_DEVCTL2_ARI BIT(5)

#define SRIOV_DEFAULT_NUMVFS 3
#define SRIOV_ENABLE_WAIT_MS 100   /* VF Enable -> first VF config request */
#define SRIOV_DISABLE_WAIT_MS 1000 /* VF Enable off -> VFs gone */

/* Devices whose VF BARs must stay below 4 GiB, known precisely: QEMU's igb model (its VFs
 * drop accesses above 4 GiB, FACTS.md section 6) is an 82576 with QEMU's default subsystem
 * IDs (1af4:1100: hw/net/igb.c sets none of its own) and revision 1. A real 82576 carries
 * its board maker's subsystem IDs and keeps a 64-bit placement. */
static const struct vf_bar_quirk {
	u16 vendor, device, subsys_vendor, subsys_id;
	u8 revision;
	const char *what;
} vf_bars_below_4g[] = {
	{0x8086, 0x10c9, 0x1af4, 0x1100, 0x01,
	 "QEMU's igb model (8086:10c9 subsystem 1af4:1100 rev 01): its VFs drop accesses above "
	 "4 GiB"},
};

static const struct vf_bar_quirk *vf_bar_quirk(const struct pci_dev *pf)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vf_bars_below_4g); i++) {
		const struct vf_bar_quirk *q = &vf_bars_below_4g[i];

		if (pf->vendor == q->vendor && pf->device == q->device &&
		    pf->subsys_vendor == q->subsys_vendor && pf->subsys_id == q->subsys_id &&
		    pf->revision == q->revision)
			return q;
	}
	return NULL;
}

bool pci_sriov_vf_bars_below_4g(const struct pci_dev *pf)
{
	return vf_bar_quirk(pf) != NULL;
}

int pci_sriov_vf_rid(u16 pf_rid, u16 offset, u16 stride, unsigned idx, u16 *rid)
{
	u32 r = (u32)pf_rid + offset + (u32)stride * idx;

	if (r > 0xffff)
		return -ERANGE;
	*rid = (u16)r;
	return 0;
}

/* VFs the configuration names, per PF address (pci_sriov_demand, before enumeration). */
#define SRIOV_MAX_DEMANDS 16

struct vf_demand {
	u16 seg;
	u8 bus, dev, fn;
	u16 num_vfs;
};

static struct vf_demand demands[SRIOV_MAX_DEMANDS];
static unsigned nr_demands;

void pci_sriov_demand(u16 seg, u8 bus, u8 dev, u8 fn, unsigned num_vfs)
{
	unsigned i;

	for (i = 0; i < nr_demands; i++)
		if (demands[i].seg == seg && demands[i].bus == bus && demands[i].dev == dev &&
		    demands[i].fn == fn)
			break;
	if (i == SRIOV_MAX_DEMANDS) {
		pr_warn("%04x:%02x:%02x.%x: more than %u PFs named by the configuration; its "
			"%u VFs are not asked for\n",
			seg, bus, dev, fn, SRIOV_MAX_DEMANDS, num_vfs);
		return;
	}
	if (i == nr_demands)
		demands[nr_demands++] = (struct vf_demand){seg, bus, dev, fn, 0};
	demands[i].num_vfs = (u16)MAX(demands[i].num_vfs, MIN(num_vfs, 0xffffu));
}

void pci_sriov_demand_clear(void)
{
	nr_demands = 0;
}

static unsigned demanded_vfs(const struct pci_dev *pf)
{
	for (unsigned i = 0; i < nr_demands; i++)
		if (demands[i].seg == pf->seg && demands[i].bus == pf->bus &&
		    demands[i].dev == pf->dev && demands[i].fn == pf->fn)
			return demands[i].num_vfs;
	return 0;
}

/* sriov.numvfs= decides when given; otherwise the default, raised to what the configuration
 * names on this PF, both up to TotalVFs. */
unsigned pci_sriov_configured_vfs(const struct pci_dev *pf)
{
	unsigned total = pf->sriov ? pf->sriov->total_vfs : 0, want;
	char buf[16];
	const char *p = buf;
	u64 v;

	if (cmdline_get("sriov.numvfs", buf, sizeof(buf)) >= 0) {
		if (!parse_u64(&p, &v, false) && !*p && v <= 0xffff)
			return (unsigned)v;
		pr_warn("sriov.numvfs=%s is not a number; the configuration decides\n", buf);
	}
	want = MAX(SRIOV_DEFAULT_NUMVFS, demanded_vfs(pf));
	if (demanded_vfs(pf) > total)
		pr_warn("%04x:%02x:%02x.%x: the configuration names VF %u, the device has %u "
			"(TotalVFs)\n",
			pf->seg, pf->bus, pf->dev, pf->fn, demanded_vfs(pf) - 1, total);
	return MIN(want, total);
}

int pci_sriov_probe(struct pci_dev *pf)
{
	struct pci_sriov *iov;
	u16 pos = pf->ecap_sriov;

	if (!pos || pf->sriov)
		return 0;
	iov = pci_zalloc_sriov();
	if (!iov)
		return -ENOSPC;
	iov->pos = pos;
	iov->total_vfs = pci_read16(pf, pos + SRIOV_TOTAL_VFS);
	iov->initial_vfs = pci_read16(pf, pos + SRIOV_INITIAL_VFS);
	iov->num_vfs = pci_read16(pf, pos + SRIOV_NUM_VFS);
	iov->offset = pci_read16(pf, pos + SRIOV_VF_OFFSET);
	iov->stride = pci_read16(pf, pos + SRIOV_VF_STRIDE);
	iov->vf_device = pci_read16(pf, pos + SRIOV_VF_DID);
	iov->supported_page_sizes = pci_read32(pf, pos + SRIOV_SUP_PGSIZE);
	iov->page_size = pci_read32(pf, pos + SRIOV_SYS_PGSIZE);
	iov->enabled = pci_read16(pf, pos + SRIOV_CTRL) & SRIOV_CTRL_VFE;
	pf->sriov = iov;
	if (iov->enabled)
		pr_warn("%02x:%02x.%x: VFs already enabled by firmware (%u); they are disabled and "
			"set up again\n",
			pf->bus, pf->dev, pf->fn, iov->num_vfs);
	return 0;
}

bool pci_sriov_ari_hierarchy(const struct pci_dev *pf)
{
	const struct pci_dev *up = pf->parent;

	return pf->ecap_ari && up && up->cap_pcie && up->pcie.ari_forwarding;
}

/* ARI Capable Hierarchy must be set before First VF Offset and VF Stride are read: both may
 * change with it. Only meaningful when the port above forwards ARI requests, and only in
 * the device's lowest-numbered PF (RsvdP in the others). */
static void sriov_set_ari(struct pci_dev *pf)
{
	struct pci_dev *up = pf->parent;
	bool ari = pci_sriov_ari_hierarchy(pf);
	u16 ctrl;

	if (ari)
		pci_write16(up, up->cap_pcie + PCI_EXP_DEVCTL2,
			    pci_read16(up, up->cap_pcie + PCI_EXP_DEVCTL2) | PCI_EXP_DEVCTL2_ARI);
	if (pf->fn != 0)
		return;
	ctrl = pci_read16(pf, pf->sriov->pos + SRIOV_CTRL);
	if (ari)
		ctrl |= SRIOV_CTRL_ARI;
	else
		ctrl &= (u16)~SRIOV_CTRL_ARI;
	pci_write16(pf, pf->sriov->pos + SRIOV_CTRL, ctrl);
}

static int sriov_set_page_size(struct pci_dev *pf)
{
	struct pci_sriov *iov = pf->sriov;

	if (!(iov->supported_page_sizes & SRIOV_PGSIZE_4K))
		return pr_err(-ENOTSUP, "%04x:%02x:%02x.%x: supported page sizes %#x lack 4 KiB\n",
			      pf->seg, pf->bus, pf->dev, pf->fn, iov->supported_page_sizes);
	pci_write32(pf, iov->pos + SRIOV_SYS_PGSIZE, SRIOV_PGSIZE_4K);
	iov->page_size = SRIOV_PGSIZE_4K;
	return 0;
}

/* Checks that every VF's requester ID exists and that its bus is one the PF's upstream
 * bridge forwards (on a root bus: the PF's own bus). */
static int sriov_check_vf_buses(const struct pci_dev *pf, unsigned num_vfs)
{
	const struct pci_sriov *iov = pf->sriov;

	if (num_vfs && !iov->offset)
		return pr_err(-EINVAL, "%04x:%02x:%02x.%x: First VF Offset is 0\n", pf->seg,
			      pf->bus, pf->dev, pf->fn);
	if (num_vfs > 1 && !iov->stride)
		return pr_err(-EINVAL, "%04x:%02x:%02x.%x: VF Stride is 0 with %u VFs\n", pf->seg,
			      pf->bus, pf->dev, pf->fn, num_vfs);
	for (unsigned i = 0; i < num_vfs; i++) {
		u16 rid;
		u8 bus;

		if (pci_sriov_vf_rid(pf->rid, iov->offset, iov->stride, i, &rid))
			return pr_err(-ERANGE,
				      "%04x:%02x:%02x.%x: VF %u lies beyond bus 255 (offset %#x "
				      "stride %u)\n",
				      pf->seg, pf->bus, pf->dev, pf->fn, i, iov->offset,
				      iov->stride);
		bus = PCI_RID_BUS(rid);
		if (pf->parent && (bus < pf->parent->secondary || bus > pf->parent->subordinate))
			return pr_err(
				-ERANGE,
				"%04x:%02x:%02x.%x: VF %u on bus %02x is outside %02x-%02x of the "
				"bridge above\n",
				pf->seg, pf->bus, pf->dev, pf->fn, i, bus, pf->parent->secondary,
				pf->parent->subordinate);
		if (!pf->parent && bus != pf->bus)
			return pr_err(
				-ERANGE,
				"%04x:%02x:%02x.%x: VF %u on bus %02x, but the PF sits on root "
				"bus %02x\n",
				pf->seg, pf->bus, pf->dev, pf->fn, i, bus, pf->bus);
	}
	return 0;
}

static bool vf_range_ok(struct pci_dev *pf, unsigned b, u64 max)
{
	struct pci_sriov *iov = pf->sriov;
	struct pci_bar *vb = &iov->vf_bar[b];
	u64 span = vb->size * iov->num_vfs;

	if (!vb->base || vb->base + span - 1 > max || !IS_ALIGNED(vb->base, vb->size))
		return false;
	if (!pci_mmio_range_usable(pf->seg, pf->parent, pf, vb->base, span, vb->prefetchable))
		return false;
	for (unsigned o = 0; o < b; o++) {
		const struct pci_bar *ob = &iov->vf_bar[o];

		if (ob->type != PCI_BAR_NONE && ob->base &&
		    vb->base < ob->base + ob->size * iov->num_vfs && ob->base < vb->base + span)
			return false;
	}
	return true;
}

/* Sizes the VF BARs (per-VF size, at the System Page Size just set), keeps the firmware's
 * placement where usable and allocates the rest inside the upstream bridge's windows. */
static int sriov_place_vf_bars(struct pci_dev *pf)
{
	struct pci_sriov *iov = pf->sriov;
	const struct vf_bar_quirk *q = vf_bar_quirk(pf);
	u64 max = q ? 0xffffffffULL : ~0ULL;
	int err;

	if (q)
		pr_info("%04x:%02x:%02x.%x: VF BARs below 4 GiB: %s\n", pf->seg, pf->bus, pf->dev,
			pf->fn, q->what);
	else
		pr_info("%04x:%02x:%02x.%x: VF BARs wherever the bridge windows allow (no "
			"placement quirk for %04x:%04x subsystem %04x:%04x rev %02x)\n",
			pf->seg, pf->bus, pf->dev, pf->fn, pf->vendor, pf->device,
			pf->subsys_vendor, pf->subsys_id, pf->revision);
	err = pci_size_bar_regs(pf, iov->pos + SRIOV_BAR0, PCI_NR_VF_BARS, iov->vf_bar, 0);
	if (err)
		return err;
	for (unsigned b = 0; b < PCI_NR_VF_BARS; b++) {
		struct pci_bar *vb = &iov->vf_bar[b];

		if (vb->type == PCI_BAR_NONE)
			continue;
		if (vb->type == PCI_BAR_IO)
			return pr_err(
				-EINVAL,
				"%04x:%02x:%02x.%x: VF BAR%u is an I/O BAR, which SR-IOV forbids\n",
				pf->seg, pf->bus, pf->dev, pf->fn, b);
		if (vb->base && !vf_range_ok(pf, b, max)) {
			pr_info("%02x:%02x.%x: VF BAR%u at %#llx (x%u VFs) is not usable here; "
				"moving it\n",
				pf->bus, pf->dev, pf->fn, b, (unsigned long long)vb->base,
				iov->num_vfs);
			vb->base = 0;
		} else if (vb->base) {
			pr_info("%04x:%02x:%02x.%x: VF BAR%u keeps firmware's %#llx\n", pf->seg,
				pf->bus, pf->dev, pf->fn, b, (unsigned long long)vb->base);
		}
	}
	for (unsigned b = 0; b < PCI_NR_VF_BARS; b++) {
		struct pci_bar *vb = &iov->vf_bar[b];
		u64 base;

		if (vb->type == PCI_BAR_NONE || vb->base)
			continue;
		err = pci_alloc_mmio(pf->seg, pf->parent, vb->size * iov->num_vfs, vb->size, max,
				     vb->prefetchable, &base);
		if (err)
			return pr_err(
				err, "%04x:%02x:%02x.%x: no room for VF BAR%u (%u x %#llx bytes)\n",
				pf->seg, pf->bus, pf->dev, pf->fn, b, iov->num_vfs,
				(unsigned long long)vb->size);
		vb->base = base;
		pr_info("%04x:%02x:%02x.%x: VF BAR%u placed at %#llx (%u x %#llx)\n", pf->seg,
			pf->bus, pf->dev, pf->fn, b, (unsigned long long)base, iov->num_vfs,
			(unsigned long long)vb->size);
	}
	for (unsigned b = 0; b < PCI_NR_VF_BARS; b++)
		if (iov->vf_bar[b].type != PCI_BAR_NONE)
			pci_write_bar(pf, iov->pos + SRIOV_BAR0 + 4 * b, &iov->vf_bar[b],
				      iov->vf_bar[b].base);
	return 0;
}

static struct pci_dev *vf_entry(struct pci_dev *pf, unsigned idx, u16 rid)
{
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		struct pci_dev *d = pci_dev_at(i);

		if (d->is_vf && d->pf == pf && d->vf_index == idx) {
			d->present = true;
			return d;
		}
	}
	return pci_dev_alloc(pf->seg, rid);
}

/* Adds VF idx to the device list. Its vendor/device registers read FFFF (SR-IOV): the IDs
 * come from the PF and its VF Device ID. */
static int sriov_add_vf(struct pci_dev *pf, unsigned idx)
{
	struct pci_sriov *iov = pf->sriov;
	struct pci_dev *vf;
	u16 rid = 0;

	/* Checked for every VF by sriov_check_vf_buses() before VF Enable. */
	pci_sriov_vf_rid(pf->rid, iov->offset, iov->stride, idx, &rid);
	vf = vf_entry(pf, idx, rid);
	if (!vf)
		return -ENOSPC;
	memset(vf, 0, sizeof(*vf));
	vf->seg = pf->seg;
	vf->rid = rid;
	vf->bus = PCI_RID_BUS(rid);
	vf->dev = PCI_RID_DEV(rid);
	vf->fn = PCI_RID_FN(rid);
	vf->vendor = pf->vendor;
	vf->device = iov->vf_device;
	vf->class = (u32)FIELD_GET(PCI_CLASS_MASK, pci_read32(vf, PCI_CLASS_REVISION));
	vf->revision = (u8)FIELD_GET(PCI_REVISION_MASK, pci_read32(vf, PCI_CLASS_REVISION));
	vf->subsys_vendor = pci_read16(vf, PCI_SUBSYS_VENDOR);
	vf->subsys_id = pci_read16(vf, PCI_SUBSYS_ID);
	vf->irq_pin = 0;
	vf->parent = pf->parent;
	vf->pf = pf;
	vf->is_vf = true;
	vf->vf_index = (u16)idx;
	vf->present = true;
	for (unsigned b = 0; b < PCI_NR_VF_BARS; b++) {
		vf->bar[b] = iov->vf_bar[b];
		if (vf->bar[b].type != PCI_BAR_NONE)
			vf->bar[b].base += vf->bar[b].size * idx;
	}
	pci_walk_caps(vf);
	iov->vf[idx] = vf;
	return 0;
}

static void sriov_report(const struct pci_dev *pf)
{
	const struct pci_sriov *iov = pf->sriov;

	pr_info("%04x:%02x:%02x.%x total_vfs=%u num_vfs=%u offset=%#x stride=%u vf_id=%04x\n",
		pf->seg, pf->bus, pf->dev, pf->fn, iov->total_vfs, iov->num_vfs, iov->offset,
		iov->stride, iov->vf_device);
	for (unsigned i = 0; i < iov->num_vfs; i++) {
		const struct pci_dev *vf = iov->vf[i];
		char bars[160];
		int n = 0;

		bars[0] = 0;
		for (unsigned b = 0; b < PCI_NR_VF_BARS; b++)
			if (vf->bar[b].type != PCI_BAR_NONE && n < (int)sizeof(bars))
				n += snprintf(bars + n, sizeof(bars) - (size_t)n,
					      " bar%u=%#llx+%#llx", b,
					      (unsigned long long)vf->bar[b].base,
					      (unsigned long long)vf->bar[b].size);
		pr_info("  vf%u %04x:%02x:%02x.%x%s\n", i, vf->seg, vf->bus, vf->dev, vf->fn, bars);
	}
}

int pci_sriov_enable(struct pci_dev *pf, unsigned num_vfs)
{
	struct pci_sriov *iov = pf->sriov;
	u16 ctrl;
	int err;

	if (!iov)
		return pr_err(-ENODEV, "%04x:%02x:%02x.%x: no SR-IOV capability\n", pf->seg,
			      pf->bus, pf->dev, pf->fn);
	if (iov->enabled)
		return pr_err(-EBUSY, "%04x:%02x:%02x.%x: VFs already enabled\n", pf->seg, pf->bus,
			      pf->dev, pf->fn);
	if (num_vfs == 0)
		return 0;
	if (num_vfs > iov->total_vfs)
		return pr_err(-EINVAL,
			      "%04x:%02x:%02x.%x: %u VFs asked for, the device has %u (TotalVFs)\n",
			      pf->seg, pf->bus, pf->dev, pf->fn, num_vfs, iov->total_vfs);
	if (num_vfs > ARRAY_SIZE(iov->vf))
		return pr_err(-EINVAL,
			      "%04x:%02x:%02x.%x: %u VFs is more than moat tracks per PF (%zu)\n",
			      pf->seg, pf->bus, pf->dev, pf->fn, num_vfs, ARRAY_SIZE(iov->vf));
	sriov_set_ari(pf);
	err = sriov_set_page_size(pf);
	if (err)
		return err;
	/* NumVFs before reading offset and stride (they may depend on it), and before VF Enable. */
	pci_write16(pf, iov->pos + SRIOV_NUM_VFS, (u16)num_vfs);
	iov->num_vfs = (u16)num_vfs;
	iov->offset = pci_read16(pf, iov->pos + SRIOV_VF_OFFSET);
	iov->stride = pci_read16(pf, iov->pos + SRIOV_VF_STRIDE);
	err = sriov_check_vf_buses(pf, num_vfs);
	if (err)
		goto undo;
	err = sriov_place_vf_bars(pf);
	if (err)
		goto undo;
	ctrl = pci_read16(pf, iov->pos + SRIOV_CTRL);
	pci_write16(pf, iov->pos + SRIOV_CTRL, ctrl | SRIOV_CTRL_VFE | SRIOV_CTRL_MSE);
	/* The VFs may not be accessed for 100 ms after VF Enable. */
	mdelay(SRIOV_ENABLE_WAIT_MS);
	iov->enabled = true;
	for (unsigned i = 0; i < num_vfs; i++) {
		err = sriov_add_vf(pf, i);
		if (err) {
			pci_sriov_disable(pf);
			return pr_err(err,
				      "%04x:%02x:%02x.%x: VF %u could not join the device list\n",
				      pf->seg, pf->bus, pf->dev, pf->fn, i);
		}
	}
	sriov_report(pf);
	return 0;
undo:
	pci_write16(pf, iov->pos + SRIOV_NUM_VFS, 0);
	iov->num_vfs = 0;
	return err;
}

int pci_sriov_disable(struct pci_dev *pf)
{
	struct pci_sriov *iov = pf->sriov;
	u16 ctrl;

	if (!iov)
		return pr_err(-ENODEV, "%04x:%02x:%02x.%x: no SR-IOV capability\n", pf->seg,
			      pf->bus, pf->dev, pf->fn);
	for (unsigned i = 0; iov->enabled && i < iov->num_vfs; i++)
		if (iov->vf[i] && iov->vf[i]->owner.kind == PCI_OWNER_GUEST)
			return pr_err(-EBUSY, "%04x:%02x:%02x.%x: VF %u still belongs to guest%d\n",
				      pf->seg, pf->bus, pf->dev, pf->fn, i,
				      iov->vf[i]->owner.guest);
	ctrl = pci_read16(pf, iov->pos + SRIOV_CTRL);
	pci_write16(pf, iov->pos + SRIOV_CTRL, ctrl & (u16) ~(SRIOV_CTRL_VFE | SRIOV_CTRL_MSE));
	/* VFs need up to 1 s to go away after VF Enable is cleared. */
	mdelay(SRIOV_DISABLE_WAIT_MS);
	pci_write16(pf, iov->pos + SRIOV_NUM_VFS, 0);
	for (unsigned i = 0; i < iov->num_vfs; i++)
		if (iov->vf[i]) {
			iov->vf[i]->present = false;
			pci_release(iov->vf[i]);
			iov->vf[i] = NULL;
		}
	iov->num_vfs = 0;
	iov->enabled = false;
	pr_info("%04x:%02x:%02x.%x: VFs disabled\n", pf->seg, pf->bus, pf->dev, pf->fn);
	return 0;
}
