/* MSI and MSI-X message and table formats, for every user of device interrupts (the PF
 * drivers' own vectors in pci/, the guests' MSI-X in vmm/). */
#ifndef MOAT_MSI_H
#define MOAT_MSI_H

#include <moat/bits.h>

/* MSI address (Intel SDM 11.11.1, compatibility format) */
#define MSI_ADDR_BASE GENMASK(31, 20)
#define MSI_ADDR_BASE_VAL 0xfee
#define MSI_ADDR_DEST_ID GENMASK(19, 12)
#define MSI_ADDR_IF_REMAP BIT(4) /* VT-d remappable format */
#define MSI_ADDR_RH BIT(3)
#define MSI_ADDR_DM_LOGICAL BIT(2)
/* MSI data */
#define MSI_DATA_VECTOR GENMASK(7, 0)
#define MSI_DATA_DELIVERY GENMASK(10, 8) /* 0: fixed */
#define MSI_DATA_LEVEL BIT(14)
#define MSI_DATA_TRIGGER_LEVEL BIT(15)
/* MSI-X table entry (PCI 3.0, 6.8.2.6-9), dword index */
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3
#define MSIX_ENTRY_CTRL_MASKED BIT(0)
#define MSIX_ENTRY_SIZE 16
/* MSI-X Message Control (capability + 2) */
#define MSIX_CTRL_ENABLE BIT(15)
#define MSIX_CTRL_FMASK BIT(14)
#define MSIX_CTRL_SIZE GENMASK(10, 0)
/* MSI Message Control (capability + 2) and message registers */
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_CTRL_MME GENMASK(6, 4)
#define MSI_CTRL_64BIT BIT(7)
#define MSI_REG_ADDR_LO 0x4
#define MSI_REG_ADDR_HI 0x8
#define MSI_REG_DATA_32 0x8
#define MSI_REG_DATA_64 0xc

#endif
