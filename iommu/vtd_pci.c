/* The PCI config reads the DMAR scope lookup needs (a bridge's bus numbers), through the
 * legacy 0xCF8/0xCFC mechanism on segment 0 until the PCI layer's accessors are merged. */
#include <moat/errno.h>
#include "arch/x86/io.h"
#include "iommu/vtd_hw.h"

#define PCI_CFG_ADDR 0xcf8
#define PCI_CFG_DATA 0xcfc
#define PCI_CFG_ENABLE BIT(31)
#define PCI_CFG_BUS GENMASK(23, 16)
#define PCI_CFG_DEV GENMASK(15, 11)
#define PCI_CFG_FN GENMASK(10, 8)
#define PCI_CFG_REG GENMASK(7, 2)

#define PCI_HEADER_TYPE_DW 0x0c  /* header type is byte 2 of this dword */
#define   PCI_HEADER_TYPE GENMASK(22, 16)
#define   PCI_HEADER_BRIDGE 1u
#define PCI_BUS_NUMBERS 0x18     /* primary, secondary, subordinate */
#define   PCI_SECONDARY GENMASK(15, 8)
#define   PCI_SUBORDINATE GENMASK(23, 16)

u32 vtd_pci_read32(u8 bus, u8 dev, u8 fn, u8 reg);
void vtd_pci_write32(u8 bus, u8 dev, u8 fn, u8 reg, u32 v);

static u32 cfg_address(u8 bus, u8 dev, u8 fn, u8 reg)
{
	return (u32)(PCI_CFG_ENABLE | FIELD_PREP(PCI_CFG_BUS, bus) | FIELD_PREP(PCI_CFG_DEV, dev) |
		     FIELD_PREP(PCI_CFG_FN, fn) | FIELD_PREP(PCI_CFG_REG, reg >> 2));
}

u32 vtd_pci_read32(u8 bus, u8 dev, u8 fn, u8 reg)
{
	outl(PCI_CFG_ADDR, cfg_address(bus, dev, fn, reg));
	return inl(PCI_CFG_DATA);
}

void vtd_pci_write32(u8 bus, u8 dev, u8 fn, u8 reg, u32 v)
{
	outl(PCI_CFG_ADDR, cfg_address(bus, dev, fn, reg));
	outl(PCI_CFG_DATA, v);
}

static int bridge_buses(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	u32 v;

	(void)ctx;
	if (seg != 0 || (vtd_pci_read32(bus, dev, fn, 0) & 0xffff) == 0xffff)
		return -ENODEV;
	if (FIELD_GET(PCI_HEADER_TYPE, vtd_pci_read32(bus, dev, fn, PCI_HEADER_TYPE_DW)) !=
	    PCI_HEADER_BRIDGE)
		return -ENODEV;
	v = vtd_pci_read32(bus, dev, fn, PCI_BUS_NUMBERS);
	*sec = (u8)FIELD_GET(PCI_SECONDARY, v);
	*sub = (u8)FIELD_GET(PCI_SUBORDINATE, v);
	return 0;
}

static const struct dmar_pci_ops pci_ops = { bridge_buses, NULL };

const struct dmar_pci_ops *vtd_pci_ops(void)
{
	return &pci_ops;
}
