/* The virtual PCI configuration space of a guest (vmm/vpci.c): a host bridge at 00:00.0
 * and the guest's assigned devices at 00:01.0, 00:02.0, ... */
#ifndef VMM_VPCI_H
#define VMM_VPCI_H

#include <moat/bits.h>
#include "vmm/vmm.h"

/* Configuration mechanism #1 address register (port 0xcf8). */
#define PCI_ADDR_ENABLE BIT(31)
#define PCI_ADDR_BDF GENMASK(23, 8)
#define PCI_ADDR_REG GENMASK(7, 2)

#define VPCI_HOST_VENDOR 0x8086 /* the q35 MCH's IDs */
#define VPCI_HOST_DEVICE 0x29c0
#define VPCI_CLASS_HOST_BRIDGE 0x060000

static inline u16 vpci_addr_bdf(u32 addr)
{
	return (u16)FIELD_GET(PCI_ADDR_BDF, addr);
}

static inline u16 vpci_addr_reg(u32 addr)
{
	return (u16)(FIELD_GET(PCI_ADDR_REG, addr) * 4);
}

/* Reads `size` (1, 2, 4) bytes at `reg` of function `bdf` (bus << 8 | dev << 3 | fn) as
 * the guest sees it: all-ones where nothing is. */
u32 vpci_read(struct guest *g, u16 bdf, u16 reg, u8 size);
/* Writes reach only the Command register's memory decode and bus master bits, the BARs
 * (sizing, or their own address), MSI-X Enable and Function Mask and a VF's Initiate FLR;
 * writes to absent functions are counted in cfg_refused. */
void vpci_write(struct guest *g, u16 bdf, u16 reg, u8 size, u32 val);

#endif
