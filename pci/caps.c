/* Capability lists: the standard list from 0x34 and the extended list from 0x100, walked
 * with range and loop protection, and the decoders of the capabilities moat uses. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/pci_group.h>
#include "pci/internal.h"

/* Standard capability header. */
#define PCI_CAP_ID 0x00
#define PCI_CAP_NEXT 0x01
#define PCI_CAP_NEXT_MASK GENMASK(7, 2)
#define PCI_STD_CAP_SLOTS ((256 - PCI_STD_HEADER_END) / 4)

/* Extended capability header (32 bits). */
#define PCI_ECAP_START 0x100
#define PCI_ECAP_HDR_ID GENMASK(15, 0)
#define PCI_ECAP_HDR_VER GENMASK(19, 16)
#define PCI_ECAP_HDR_NEXT GENMASK(31, 20)
#define PCI_ECAP_NEXT_MASK 0xffc
#define PCI_ECAP_SLOTS ((PCI_CFG_SIZE - PCI_ECAP_START) / 4)

/* MSI. */
#define PCI_MSI_CTRL 0x02
#define PCI_MSI_CTRL_MMC GENMASK(3, 1)
#define PCI_MSI_CTRL_64BIT BIT(7)

/* MSI-X. */
#define PCI_MSIX_CTRL 0x02
#define PCI_MSIX_CTRL_TABLE_SIZE GENMASK(10, 0)
#define PCI_MSIX_TABLE 0x04
#define PCI_MSIX_PBA 0x08
#define PCI_MSIX_BIR GENMASK(2, 0)
#define PCI_MSIX_OFFSET GENMASK(31, 3)

/* PCI Express capability. */
#define PCI_EXP_FLAGS 0x02
#define PCI_EXP_FLAGS_VERS GENMASK(3, 0)
#define PCI_EXP_FLAGS_TYPE GENMASK(7, 4)
#define PCI_EXP_FLAGS_SLOT BIT(8)
#define PCI_EXP_DEVCAP 0x04
#define PCI_EXP_LNKCAP 0x0c
#define PCI_EXP_LNKCAP_SPEED GENMASK(3, 0)
#define PCI_EXP_LNKCAP_WIDTH GENMASK(9, 4)
#define PCI_EXP_LNKSTA 0x12
#define PCI_EXP_LNKSTA_SPEED GENMASK(3, 0)
#define PCI_EXP_LNKSTA_WIDTH GENMASK(9, 4)
#define PCI_EXP_DEVCAP2 0x24
#define PCI_EXP_DEVCAP2_ARI BIT(5)

/* ACS. */

static void decode_msi(struct pci_dev *d, u8 pos)
{
	u16 ctrl = pci_read16(d, pos + PCI_MSI_CTRL);

	d->msi_vectors = (u8)(1u << FIELD_GET(PCI_MSI_CTRL_MMC, ctrl));
	d->msi_64bit = ctrl & PCI_MSI_CTRL_64BIT;
}

static void decode_msix(struct pci_dev *d, u8 pos)
{
	u16 ctrl = pci_read16(d, pos + PCI_MSIX_CTRL);
	u32 table = pci_read32(d, pos + PCI_MSIX_TABLE), pba = pci_read32(d, pos + PCI_MSIX_PBA);

	d->msix.table_size = (u16)(FIELD_GET(PCI_MSIX_CTRL_TABLE_SIZE, ctrl) + 1);
	d->msix.table_bir = (u8)FIELD_GET(PCI_MSIX_BIR, table);
	d->msix.table_offset = table & PCI_MSIX_OFFSET;
	d->msix.pba_bir = (u8)FIELD_GET(PCI_MSIX_BIR, pba);
	d->msix.pba_offset = pba & PCI_MSIX_OFFSET;
}

static void decode_pcie(struct pci_dev *d, u8 pos)
{
	u16 flags = pci_read16(d, pos + PCI_EXP_FLAGS);
	u32 lnkcap = pci_read32(d, pos + PCI_EXP_LNKCAP);
	u16 lnksta = pci_read16(d, pos + PCI_EXP_LNKSTA);

	d->pcie.version = (u8)FIELD_GET(PCI_EXP_FLAGS_VERS, flags);
	d->pcie.port_type = (u8)FIELD_GET(PCI_EXP_FLAGS_TYPE, flags);
	d->pcie.slot = flags & PCI_EXP_FLAGS_SLOT;
	d->pcie.devcap = pci_read32(d, pos + PCI_EXP_DEVCAP);
	d->pcie.max_link_speed = (u8)FIELD_GET(PCI_EXP_LNKCAP_SPEED, lnkcap);
	d->pcie.max_link_width = (u8)FIELD_GET(PCI_EXP_LNKCAP_WIDTH, lnkcap);
	d->pcie.link_speed = (u8)FIELD_GET(PCI_EXP_LNKSTA_SPEED, lnksta);
	d->pcie.link_width = (u8)FIELD_GET(PCI_EXP_LNKSTA_WIDTH, lnksta);
	if (d->pcie.version >= 2) {
		d->pcie.devcap2 = pci_read32(d, pos + PCI_EXP_DEVCAP2);
		d->pcie.ari_forwarding = d->pcie.devcap2 & PCI_EXP_DEVCAP2_ARI;
	}
}

static void record_cap(struct pci_dev *d, u8 id, u8 pos)
{
	switch (id) {
	case PCI_CAP_PM: d->cap_pm = d->cap_pm ? d->cap_pm : pos; break;
	case PCI_CAP_MSI:
		if (!d->cap_msi) {
			d->cap_msi = pos;
			decode_msi(d, pos);
		}
		break;
	case PCI_CAP_MSIX:
		if (!d->cap_msix) {
			d->cap_msix = pos;
			decode_msix(d, pos);
		}
		break;
	case PCI_CAP_PCIE:
		if (!d->cap_pcie) {
			d->cap_pcie = pos;
			decode_pcie(d, pos);
		}
		break;
	default: break;
	}
}

static void record_ecap(struct pci_dev *d, u16 id, u16 pos)
{
	switch (id) {
	case PCI_ECAP_AER: d->ecap_aer = d->ecap_aer ? d->ecap_aer : pos; break;
	case PCI_ECAP_ACS:
		if (!d->ecap_acs) {
			d->ecap_acs = pos;
			d->acs.cap = pci_read16(d, pos + PCI_ACS_CAP);
			d->acs.ctrl = pci_read16(d, pos + PCI_ACS_CTRL);
		}
		break;
	case PCI_ECAP_ARI: d->ecap_ari = d->ecap_ari ? d->ecap_ari : pos; break;
	case PCI_ECAP_SRIOV: d->ecap_sriov = d->ecap_sriov ? d->ecap_sriov : pos; break;
	default: break;
	}
}

/* Visits the standard list; visit() returning true stops the walk early. Returns 0, or
 * -ELOOP / -ERANGE after reporting a malformed list (the capabilities before the bad pointer
 * have been visited). */
static int walk_std(const struct pci_dev *d, bool (*visit)(const struct pci_dev *, u8, u8, void *),
		    void *arg)
{
	u8 seen[PCI_STD_CAP_SLOTS] = {0};
	u8 pos;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_read8(d, PCI_CAP_PTR) & PCI_CAP_NEXT_MASK;
	while (pos) {
		u8 id, next;

		if (pos < PCI_STD_HEADER_END)
			return pr_err(-ERANGE,
				      "%04x:%02x:%02x.%x: capability pointer %#x points into the "
				      "header; list cut\n",
				      d->seg, d->bus, d->dev, d->fn, pos);
		if (seen[(pos - PCI_STD_HEADER_END) / 4]++)
			return pr_err(
				-ELOOP,
				"%04x:%02x:%02x.%x: capability list loops back to %#x; list cut\n",
				d->seg, d->bus, d->dev, d->fn, pos);
		id = pci_read8(d, pos + PCI_CAP_ID);
		next = pci_read8(d, pos + PCI_CAP_NEXT) & PCI_CAP_NEXT_MASK;
		if (id == 0xff)
			return pr_err(
				-ERANGE,
				"%04x:%02x:%02x.%x: capability at %#x reads all ones; list cut\n",
				d->seg, d->bus, d->dev, d->fn, pos);
		if (visit(d, id, pos, arg))
			return 0;
		pos = next;
	}
	return 0;
}

static int walk_ext(const struct pci_dev *d,
		    bool (*visit)(const struct pci_dev *, u16, u16, void *), void *arg)
{
	u8 seen[PCI_ECAP_SLOTS] = {0};
	u16 pos = PCI_ECAP_START;

	if (pci_cfg_space_size(d->seg, d->bus) < PCI_CFG_SIZE || !d->cap_pcie)
		return 0;
	while (pos) {
		u32 hdr;

		if (pos < PCI_ECAP_START || pos > PCI_CFG_SIZE - 4)
			return pr_err(-ERANGE,
				      "%04x:%02x:%02x.%x: extended capability pointer %#x out of "
				      "range; list cut\n",
				      d->seg, d->bus, d->dev, d->fn, pos);
		if (seen[(pos - PCI_ECAP_START) / 4]++)
			return pr_err(-ELOOP,
				      "%04x:%02x:%02x.%x: extended capability list loops back to "
				      "%#x; list cut\n",
				      d->seg, d->bus, d->dev, d->fn, pos);
		hdr = pci_read32(d, pos);
		if (hdr == 0 || hdr == 0xffffffffu) {
			if (pos == PCI_ECAP_START)
				return 0; /* no extended capabilities */
			return pr_err(-ERANGE,
				      "%04x:%02x:%02x.%x: extended capability at %#x reads %#x; "
				      "list cut\n",
				      d->seg, d->bus, d->dev, d->fn, pos, hdr);
		}
		if (visit(d, (u16)FIELD_GET(PCI_ECAP_HDR_ID, hdr), pos, arg))
			return 0;
		pos = (u16)(FIELD_GET(PCI_ECAP_HDR_NEXT, hdr) & PCI_ECAP_NEXT_MASK);
	}
	return 0;
}

static bool record_std_visit(const struct pci_dev *cd, u8 id, u8 pos, void *arg)
{
	record_cap(arg, id, pos);
	return false;
}

static bool record_ext_visit(const struct pci_dev *cd, u16 id, u16 pos, void *arg)
{
	record_ecap(arg, id, pos);
	return false;
}

int pci_walk_caps(struct pci_dev *d)
{
	int err = walk_std(d, record_std_visit, d);
	int err2 = walk_ext(d, record_ext_visit, d);

	d->cap_list_broken = err || err2;
	return err ? err : err2;
}

struct find_arg {
	unsigned id;
	unsigned pos;
};

static bool find_std_visit(const struct pci_dev *d, u8 id, u8 pos, void *arg)
{
	struct find_arg *f = arg;

	if (id != f->id)
		return false;
	f->pos = pos;
	return true;
}

static bool find_ext_visit(const struct pci_dev *d, u16 id, u16 pos, void *arg)
{
	struct find_arg *f = arg;

	if (id != f->id)
		return false;
	f->pos = pos;
	return true;
}

u8 pci_cap_find(const struct pci_dev *d, u8 id)
{
	struct find_arg f = {id, 0};

	walk_std(d, find_std_visit, &f);
	return (u8)f.pos;
}

u16 pci_ecap_find(const struct pci_dev *d, u16 id)
{
	struct find_arg f = {id, 0};

	walk_ext(d, find_ext_visit, &f);
	return (u16)f.pos;
}
