/* Configuration-space access, bounded to each function's space. The backend (ECAM, CF8/CFC,
 * or a model in the host tests) sits behind struct pci_cfg_ops. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include "pci/internal.h"

static const struct pci_cfg_ops *cfg_ops;
static void *cfg_ctx;

void pci_cfg_set_backend(const struct pci_cfg_ops *ops, void *ctx)
{
	cfg_ops = ops;
	cfg_ctx = ctx;
}

const char *pci_cfg_backend_name(void)
{
	return cfg_ops ? cfg_ops->name : "none";
}

u16 pci_cfg_space_size(u16 seg, u8 bus)
{
	return cfg_ops ? cfg_ops->space_size(cfg_ctx, seg, bus) : 0;
}

static int cfg_check(u16 seg, u16 rid, u16 off, unsigned width)
{
	u16 size = pci_cfg_space_size(seg, PCI_RID_BUS(rid));

	if (width != 1 && width != 2 && width != 4)
		return pr_err(-EINVAL, "%04x:%02x:%02x.%x: config access of width %u\n", seg,
			      PCI_RID_BUS(rid), PCI_RID_DEV(rid), PCI_RID_FN(rid), width);
	if (!size)
		return pr_err(-ENODEV, "%04x:%02x: no config access to this segment/bus\n", seg,
			      PCI_RID_BUS(rid));
	if ((u32)off + width > size || off % width)
		return pr_err(-ERANGE,
			      "%04x:%02x:%02x.%x: config offset %#x width %u refused (space is %u "
			      "bytes)\n",
			      seg, PCI_RID_BUS(rid), PCI_RID_DEV(rid), PCI_RID_FN(rid), off, width,
			      size);
	return 0;
}

int pci_cfg_read(u16 seg, u16 rid, u16 off, unsigned width, u32 *val)
{
	int err = cfg_check(seg, rid, off, width);

	if (err) {
		*val = width == 4 ? 0xffffffffu : (1u << (width * 8)) - 1;
		return err;
	}
	*val = cfg_ops->read(cfg_ctx, seg, rid, off, width);
	return 0;
}

int pci_cfg_write(u16 seg, u16 rid, u16 off, unsigned width, u32 val)
{
	int err = cfg_check(seg, rid, off, width);

	if (err)
		return err;
	cfg_ops->write(cfg_ctx, seg, rid, off, width, val);
	return 0;
}

u32 pci_cfg_read32_at(u16 seg, u16 rid, u16 off)
{
	u32 v;

	pci_cfg_read(seg, rid, off, 4, &v);
	return v;
}

u16 pci_cfg_read16_at(u16 seg, u16 rid, u16 off)
{
	u32 v;

	pci_cfg_read(seg, rid, off, 2, &v);
	return (u16)v;
}

u8 pci_cfg_read8_at(u16 seg, u16 rid, u16 off)
{
	u32 v;

	pci_cfg_read(seg, rid, off, 1, &v);
	return (u8)v;
}

u8 pci_read8(const struct pci_dev *d, u16 off)
{
	return pci_cfg_read8_at(d->seg, d->rid, off);
}

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	return pci_cfg_read16_at(d->seg, d->rid, off);
}

u32 pci_read32(const struct pci_dev *d, u16 off)
{
	return pci_cfg_read32_at(d->seg, d->rid, off);
}

void pci_write8(const struct pci_dev *d, u16 off, u8 v)
{
	pci_cfg_write(d->seg, d->rid, off, 1, v);
}

void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	pci_cfg_write(d->seg, d->rid, off, 2, v);
}

void pci_write32(const struct pci_dev *d, u16 off, u32 v)
{
	pci_cfg_write(d->seg, d->rid, off, 4, v);
}
