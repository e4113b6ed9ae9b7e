/* The guest's own VF at 00:01.0 of moat's virtual config space (CF8/CFC), and the hooks
 * through which lib/igbvf.c drives it from a guest: BAR0 mapped uncached, DMA addresses =
 * guest-physical (moat's IOMMU domain for the guest maps exactly its RAM), time from the
 * TSC at the rate moat reports. */
#ifndef GUESTS_LIB_VF_DEV_H
#define GUESTS_LIB_VF_DEV_H

#include <moat/igbvf.h>
#include "guests/lib/guest.h"

/* PCI configuration mechanism #1 (ports 0xcf8/0xcfc). */
#define PCI_CFG_ADDR 0xcf8
#define PCI_CFG_DATA 0xcfc
#define CFG_ENABLE BIT(31)
#define CFG_BUS GENMASK(23, 16)
#define CFG_DEV GENMASK(15, 11)
#define CFG_FN GENMASK(10, 8)
#define CFG_REG GENMASK(7, 2)
#define VF_DEV 1 /* the guest's first device: 00:01.0 */
/* Type 0 header and capabilities (PCI 3.0, 6.1, 6.7, 6.8.2). */
#define CFG_ID 0x00
#define CFG_COMMAND 0x04
#define CFG_COMMAND_MEMORY BIT(1)
#define CFG_COMMAND_MASTER BIT(2)
#define CFG_STATUS_CAP_LIST BIT(20)
#define CFG_CLASS_REV 0x08
#define CFG_CLASS GENMASK(31, 8)
#define CLASS_ETHERNET 0x020000
#define CFG_BAR(n) (0x10 + 4 * (n))
#define BAR_IO BIT(0)
#define BAR_TYPE GENMASK(2, 1)
#define BAR_TYPE_64 2
#define BAR_ADDR GENMASK(31, 4)
#define CFG_CAP_PTR 0x34
#define CAP_ID GENMASK(7, 0)
#define CAP_NEXT GENMASK(15, 8)
#define CAP_ID_PCIE 0x10
#define CAP_ID_MSIX 0x11
#define MSIX_CTRL_SIZE GENMASK(26, 16) /* table size - 1, in the capability's first dword */
#define MSIX_TABLE_BIR GENMASK(2, 0)   /* second dword */
#define VF_BAR0_SIZE 0x4000
#define VF_MSIX_BAR 3
/* MSI-X (PCI 3.0, 6.8.2): Message Control in the capability's dword 0, the table entries. */
#define MSIX_ENABLE BIT(31) /* Message Control bit 15 */
#define MSIX_FUNC_MASK BIT(30)
#define MSIX_TABLE_OFFSET GENMASK(31, 3)
#define MSIX_ENTRY_SIZE 16
#define MSIX_ADDR_LO 0x0
#define MSIX_ADDR_HI 0x4
#define MSIX_DATA 0x8
#define MSIX_VECTOR_CTRL 0xc
#define MSIX_VECTOR_MASKED BIT(0)
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_DEST GENMASK(19, 12)

struct vf_dev {
	u64 bar0;
	u64 tsc_per_us;
	u8 slot; /* the device number of the VF in use; 0: VF_DEV */
};
extern struct vf_dev vf_dev;
extern const struct igbvf_ops vf_dev_ops;

u32 vf_cfg_read(u16 reg);
void vf_cfg_write(u16 reg, u32 v);
/* Offset of capability `id` in the list, 0 if absent. */
u8 vf_find_cap(u8 id);
/* BAR n's address (64-bit BARs: both registers), 0 if not a memory BAR. */
u64 vf_bar_address(unsigned n);
/* BAR n's size by the all-ones protocol; the address is written back. */
u32 vf_bar_size(unsigned n);
/* BAR0 found and mapped, memory decode and bus mastering on; -ENODEV without a VF at
 * 00:01.0, -EINVAL when moat gave no TSC rate. */
int vf_dev_enable(void);
u64 vf_now_us(void);
/* One 32-bit store of the form moat's MMIO emulation decodes (mov r/m32, r32). */
void vf_mmio_write32(u64 addr, u32 v);
/* The MSI-X table's address (mapped) for the capability at `cap`, 0 if there is none. */
u64 vf_msix_table(u8 cap);
/* MSI-X table entry `entry` -> `vector` on this CPU (its APIC ID from CPUID), unmasked;
 * MSI-X on, the function unmasked. Returns the table's address, 0 if there is none. */
u64 vf_msix_route(unsigned entry, u8 vector);

#endif
