/* A guest's virtual PCI configuration space: a host bridge at 00:00.0 and the guest's own
 * devices at 00:01.0, 00:02.0, ... Everything else reads all-ones and ignores writes.
 *
 * A device shows its real IDs (a VF's from its PF: the VF itself reads FFFF:FFFF), class,
 * revision and subsystem, BARs at the guest-physical window moat chose (sizing with
 * all-ones works; any other address is refused and counted), a Command register of which
 * only memory decode and bus master reach the hardware, and a capability list holding only
 * the PCI Express and MSI-X capabilities, read-only but for MSI-X Enable and Function Mask
 * (vmm/msix.c) and, on a VF, Initiate Function Level Reset (vmm/vflr.c). */
#define LOG_TAG "vmm"
#include <moat/log.h>
#include "vmm/msix.h"
#include "vmm/vbar.h"
#include "vmm/vflr.h"
#include "vmm/vpci.h"

/* Type 0 header registers (PCI 3.0, 6.1). */
#define VPCI_ID 0x00
#define VPCI_ID_VENDOR GENMASK(15, 0)
#define VPCI_ID_DEVICE GENMASK(31, 16)
#define VPCI_COMMAND 0x04
#define VPCI_COMMAND_PASSED (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
#define VPCI_STATUS_CAP_LIST BIT(20) /* in the Command/Status dword */
#define VPCI_CLASS_REV 0x08
#define VPCI_REVISION GENMASK(7, 0)
#define VPCI_CLASS GENMASK(31, 8)
#define VPCI_BAR0 0x10
#define VPCI_BAR5 0x24
#define VPCI_SUBSYS 0x2c
#define VPCI_SUBSYS_VENDOR GENMASK(15, 0)
#define VPCI_SUBSYS_ID GENMASK(31, 16)
#define VPCI_CAP_PTR 0x34
#define VPCI_CAP_NEXT GENMASK(15, 8)
#define VPCI_CAP_ID GENMASK(7, 0)
#define VPCI_MSIX_CTRL GENMASK(31, 16) /* Message Control in the capability's first dword */
/* BAR register bits (PCI 3.0, 6.2.5.1) */
#define VPCI_BAR_MEM64 BIT(2)
#define VPCI_BAR_PREFETCH BIT(3)
#define VPCI_BAR_ADDR GENMASK(31, 4)

#define VPCI_PCIE_CAP_LEN 0x3c
/* PCI Express Device Capabilities (PCIe 5.0, 7.5.3.3) */
#define VPCI_PCIE_DEVCAP 0x04
#define VPCI_PCIE_DEVCAP_FLR BIT(28)
#define VPCI_PCIE_DEVCTL 0x08 /* Device Control, Device Status above it */
#define VPCI_PCIE_DEVCTL_BCR_FLR BIT(15)
#define VPCI_MSIX_CAP_LEN 0x0c

/* Type 0 header registers of the host bridge. */
static u32 host_bridge_dword(u16 reg)
{
	switch (reg) {
	case VPCI_ID:
		return (u32)(FIELD_PREP(VPCI_ID_VENDOR, VPCI_HOST_VENDOR) |
			     FIELD_PREP(VPCI_ID_DEVICE, VPCI_HOST_DEVICE));
	case VPCI_CLASS_REV: return (u32)FIELD_PREP(VPCI_CLASS, VPCI_CLASS_HOST_BRIDGE);
	default: return 0; /* command, status, header type 0, no BARs, no capabilities */
	}
}

/* The assigned device the guest sees at `bdf`, or NULL. */
static struct vdev *vpci_dev_at(struct guest *g, u16 bdf)
{
	unsigned slot = PCI_RID_DEV(bdf);

	if (PCI_RID_BUS(bdf) || PCI_RID_FN(bdf) || slot == 0 || slot > g->nr_dev)
		return NULL;
	return &g->dev[slot - 1];
}

/* The capabilities shown, in list order: offsets in the real config space. */
static unsigned shown_caps(const struct pci_dev *d, u8 caps[2], u8 lens[2])
{
	unsigned n = 0;

	if (d->cap_pcie) {
		caps[n] = d->cap_pcie;
		lens[n++] = VPCI_PCIE_CAP_LEN;
	}
	if (d->cap_msix) {
		caps[n] = d->cap_msix;
		lens[n++] = VPCI_MSIX_CAP_LEN;
	}
	return n;
}

static u32 cap_dword(const struct vdev *vd, u16 reg)
{
	const struct pci_dev *d = vd->pdev;
	u8 caps[2], lens[2];
	unsigned n = shown_caps(d, caps, lens);

	for (unsigned i = 0; i < n; i++) {
		u32 v;

		if (reg < caps[i] || reg >= caps[i] + lens[i])
			continue;
		v = pci_read32(d, reg);
		/* FLR is offered where moat emulates it: on VFs (vmm/vflr.c). Another
		 * function's reset would clear the BARs moat placed. */
		if (caps[i] == d->cap_pcie && reg == caps[i] + VPCI_PCIE_DEVCAP && !d->is_vf)
			v &= ~(u32)VPCI_PCIE_DEVCAP_FLR;
		if (reg == caps[i]) {
			v &= ~VPCI_CAP_NEXT;
			v |= FIELD_PREP(VPCI_CAP_NEXT, i + 1 < n ? caps[i + 1] : 0);
			if (caps[i] == d->cap_msix)
				v = (v & ~(u32)VPCI_MSIX_CTRL) |
				    (u32)FIELD_PREP(
					    VPCI_MSIX_CTRL,
					    msix_ctrl_read(vd, (u16)FIELD_GET(VPCI_MSIX_CTRL, v)));
		}
		return v;
	}
	return 0; /* hidden capabilities and reserved space */
}

/* The guest's view of BAR register `idx` (0..5). */
static u32 bar_dword(const struct vdev *v, unsigned idx)
{
	const struct pci_bar *bar;
	bool upper = idx > 0 && v->pdev->bar[idx - 1].type == PCI_BAR_MEM64 && v->bar_gpa[idx - 1];
	unsigned b = upper ? idx - 1 : idx;
	u64 addr, mask;
	u32 flags;

	bar = &v->pdev->bar[b];
	if (!v->bar_gpa[b])
		return 0;
	mask = ~(bar->size - 1);
	addr = v->bar_sizing[idx] ? mask : v->bar_gpa[b];
	if (upper)
		return bar->type == PCI_BAR_MEM64 ? (u32)(addr >> 32) : 0;
	flags = (bar->type == PCI_BAR_MEM64 ? VPCI_BAR_MEM64 : 0) |
		(bar->prefetchable ? VPCI_BAR_PREFETCH : 0);
	return ((u32)addr & VPCI_BAR_ADDR) | flags;
}

static u32 dev_dword(const struct vdev *v, u16 reg)
{
	const struct pci_dev *d = v->pdev;
	u8 caps[2], lens[2];

	switch (reg) {
	case VPCI_ID:
		return (u32)(FIELD_PREP(VPCI_ID_VENDOR, d->vendor) |
			     FIELD_PREP(VPCI_ID_DEVICE, d->device));
	case VPCI_COMMAND:
		return v->command | (shown_caps(d, caps, lens) ? VPCI_STATUS_CAP_LIST : 0);
	case VPCI_CLASS_REV:
		return (u32)(FIELD_PREP(VPCI_CLASS, d->class) |
			     FIELD_PREP(VPCI_REVISION, d->revision));
	case VPCI_SUBSYS:
		return (u32)(FIELD_PREP(VPCI_SUBSYS_VENDOR, d->subsys_vendor) |
			     FIELD_PREP(VPCI_SUBSYS_ID, d->subsys_id));
	case VPCI_CAP_PTR: return shown_caps(d, caps, lens) ? caps[0] : 0;
	default: break;
	}
	if (reg >= VPCI_BAR0 && reg <= VPCI_BAR5)
		return bar_dword(v, (reg - VPCI_BAR0) / 4);
	if (reg >= 0x40)
		return cap_dword(v, reg);
	return 0; /* header type 0, no expansion ROM, no INTx pin */
}

static u32 read_dword(struct guest *g, u16 bdf, u16 reg)
{
	struct vdev *v;
	u32 dw;

	if (bdf == 0)
		return host_bridge_dword(reg);
	v = vpci_dev_at(g, bdf);
	if (!v)
		return 0xffffffff;
	vdev_lock(g, v);
	dw = dev_dword(v, reg);
	vdev_unlock(v);
	return dw;
}

u32 vpci_read(struct guest *g, u16 bdf, u16 reg, u8 size)
{
	u32 ones = size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;

	if (reg >= 256 || (reg & (size - 1)))
		return ones;
	return (read_dword(g, bdf, reg & ~3u) >> ((reg & 3) * 8)) & ones;
}

static void write_command(struct guest *g, struct vdev *v, u16 val)
{
	u16 hw = pci_read16(v->pdev, PCI_COMMAND);
	bool decode_on = !(v->command & PCI_COMMAND_MEMORY) && (val & PCI_COMMAND_MEMORY);

	v->command = val & VPCI_COMMAND_PASSED;
	pci_write16(v->pdev, PCI_COMMAND, (u16)((hw & ~VPCI_COMMAND_PASSED) | v->command));
	/* Memory decode is the guest's BAR pages in its nested tables (vmm/vbar.c). */
	vbar_sync(g, v);
	if (decode_on && v->pdev->cap_msix)
		msix_refresh(g, v);
}

/* Accepts all-ones (sizing) and the BAR's own window address; refuses anything else. */
static void write_bar(struct guest *g, struct vdev *v, unsigned idx, u32 val)
{
	bool upper = idx > 0 && v->pdev->bar[idx - 1].type == PCI_BAR_MEM64 && v->bar_gpa[idx - 1];
	unsigned b = upper ? idx - 1 : idx;
	u32 own;

	if (!v->bar_gpa[b])
		return; /* not implemented: reads 0 */
	if (val == 0xffffffff || (!upper && (val & VPCI_BAR_ADDR) == VPCI_BAR_ADDR)) {
		v->bar_sizing[idx] = true;
		return;
	}
	own = upper ? (u32)(v->bar_gpa[b] >> 32) : (u32)v->bar_gpa[b];
	if ((upper ? val : val & VPCI_BAR_ADDR) == own) {
		v->bar_sizing[idx] = false;
		return;
	}
	g->bar_refused++;
	pr_info("guest %s: BAR%u of 00:%02x.0 moved to %#x refused (stays at %#llx)\n", g->cfg.name,
		idx, (unsigned)(v - g->dev) + 1, val, (unsigned long long)v->bar_gpa[b]);
}

void vpci_write(struct guest *g, u16 bdf, u16 reg, u8 size, u32 val)
{
	unsigned shift = (reg & 3) * 8;
	u32 mask = size == 4 ? 0xffffffff : ((1u << (size * 8)) - 1) << shift;
	u16 dreg = reg & ~3u;
	struct vdev *v;
	u32 dw;

	if (reg >= 256 || (reg & (size - 1)))
		return;
	if (bdf == 0)
		return; /* the host bridge has nothing writable */
	v = vpci_dev_at(g, bdf);
	if (!v) {
		if (g->cfg_refused++ == 0)
			pr_info("guest %s: config write to %02x:%02x.%x (no such device) refused\n",
				g->cfg.name, PCI_RID_BUS(bdf), PCI_RID_DEV(bdf), PCI_RID_FN(bdf));
		return;
	}
	vdev_lock(g, v);
	dw = (dev_dword(v, dreg) & ~mask) | ((val << shift) & mask);
	if (dreg == VPCI_COMMAND && (mask & 0xffff))
		write_command(g, v, (u16)dw);
	else if (dreg >= VPCI_BAR0 && dreg <= VPCI_BAR5)
		write_bar(g, v, (dreg - VPCI_BAR0) / 4, dw);
	else if (v->pdev->cap_msix && dreg == v->pdev->cap_msix && (mask & VPCI_MSIX_CTRL))
		msix_ctrl_write(g, v, (u16)FIELD_GET(VPCI_MSIX_CTRL, dw));
	else if (v->pdev->cap_pcie && dreg == v->pdev->cap_pcie + VPCI_PCIE_DEVCTL &&
		 (mask & dw & VPCI_PCIE_DEVCTL_BCR_FLR) && vflr_offered(v))
		vflr_start(g, v);
	/* Everything else (status, other capability registers, IDs) is read-only. */
	vdev_unlock(v);
}
