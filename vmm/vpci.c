/* A guest's virtual PCI configuration space: a host bridge at 00:00.0 and nothing else. */
#include "vmm/vpci.h"

/* Type 0 header registers of the host bridge (PCI 3.0, 6.1). */
static u32 host_bridge_dword(u16 reg)
{
	switch (reg) {
	case 0x00: return VPCI_HOST_VENDOR | (VPCI_HOST_DEVICE << 16);
	case 0x08: return VPCI_CLASS_HOST_BRIDGE << 8; /* revision 0 */
	default: return 0; /* command, status, header type 0, no BARs, no capabilities */
	}
}

u32 vpci_read(struct guest *g, u16 bdf, u16 reg, u8 size)
{
	u32 ones = size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;
	u32 v;

	(void)g;
	if (bdf != 0 || reg >= 256 || (reg & (size - 1)))
		return ones;
	v = host_bridge_dword(reg & ~3u) >> ((reg & 3) * 8);
	return v & ones;
}

void vpci_write(struct guest *g, u16 bdf, u16 reg, u8 size, u32 val)
{
	/* The host bridge has nothing writable. */
	(void)g, (void)bdf, (void)reg, (void)size, (void)val;
}
