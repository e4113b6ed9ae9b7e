/* Shared between the files of pci/: register layout of the configuration header, config
 * access backends, and the steps of bring-up. Nothing outside pci/ includes this. */
#ifndef PCI_INTERNAL_H
#define PCI_INTERNAL_H

#include <moat/bits.h>
#include <moat/pci.h>

/* Type 0/1 common header. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_REVISION 0x08
#define PCI_CLASS_REVISION 0x08
#define PCI_CLASS_MASK GENMASK(31, 8)
#define PCI_REVISION_MASK GENMASK(7, 0)
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MASK GENMASK(6, 0)
#define PCI_HEADER_MULTIFUNCTION BIT(7)
#define PCI_BAR0 0x10
#define PCI_BAR_SPACE_IO BIT(0)
#define PCI_BAR_MEM_TYPE GENMASK(2, 1)
#define PCI_BAR_MEM_TYPE_32 0
#define PCI_BAR_MEM_TYPE_64 2
#define PCI_BAR_PREFETCH BIT(3)
#define PCI_BAR_IO_MASK GENMASK(31, 2)
#define PCI_BAR_MEM_MASK GENMASK(31, 4)
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_STD_HEADER_END 0x40

/* Type 1 (PCI-PCI bridge) header. */
#define PCI_BRIDGE_NR_BARS 2
#define PCI_PRIMARY_BUS 0x18
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_IO_BASE 0x1c
#define PCI_IO_LIMIT 0x1d
#define PCI_IO_RANGE_TYPE GENMASK(3, 0)
#define PCI_IO_RANGE_TYPE_32 0x1
#define PCI_IO_RANGE_ADDR GENMASK(7, 4) /* address bits 15:12 */
#define PCI_MEM_BASE 0x20
#define PCI_MEM_LIMIT 0x22
#define PCI_MEM_RANGE_ADDR GENMASK(15, 4) /* address bits 31:20 */
#define PCI_PREF_BASE 0x24
#define PCI_PREF_LIMIT 0x26
#define PCI_PREF_RANGE_TYPE GENMASK(3, 0)
#define PCI_PREF_RANGE_TYPE_64 0x1
#define PCI_PREF_RANGE_ADDR GENMASK(15, 4) /* address bits 31:20 */
#define PCI_PREF_BASE_UPPER 0x28
#define PCI_PREF_LIMIT_UPPER 0x2c
#define PCI_IO_BASE_UPPER 0x30
#define PCI_IO_LIMIT_UPPER 0x32

/* SR-IOV extended capability, registers relative to its offset. */
#define SRIOV_CAP 0x04
#define SRIOV_CAP_VF_MIGRATION BIT(0)
#define SRIOV_CAP_ARI_PRESERVED BIT(1)
#define SRIOV_CTRL 0x08
#define SRIOV_CTRL_VFE BIT(0) /* VF Enable */
#define SRIOV_CTRL_VFM BIT(1) /* VF Migration Enable */
#define SRIOV_CTRL_INTR BIT(2)
#define SRIOV_CTRL_MSE BIT(3) /* VF Memory Space Enable */
#define SRIOV_CTRL_ARI BIT(4) /* ARI Capable Hierarchy */
#define SRIOV_STATUS 0x0a
#define SRIOV_INITIAL_VFS 0x0c
#define SRIOV_TOTAL_VFS 0x0e
#define SRIOV_NUM_VFS 0x10
#define SRIOV_FN_LINK 0x12
#define SRIOV_VF_OFFSET 0x14
#define SRIOV_VF_STRIDE 0x16
#define SRIOV_VF_DID 0x1a
#define SRIOV_SUP_PGSIZE 0x1c
#define SRIOV_SYS_PGSIZE 0x20
#define SRIOV_PGSIZE_4K BIT(0) /* bit n: page size 2^(n+12) */
#define SRIOV_BAR0 0x24

#define PCI_WINDOW_MEM_ALIGN (1 * MiB)
#define PCI_WINDOW_IO_ALIGN (4 * KiB)

/* ---- config access (config.c, ecam.c, cf8.c) ---- */

/* A config-space backend. Offsets reaching it are checked already: inside its config
 * space size, naturally aligned, width 1, 2 or 4. */
struct pci_cfg_ops {
	const char *name;
	u32 (*read)(void *ctx, u16 seg, u16 rid, u16 off, unsigned width);
	void (*write)(void *ctx, u16 seg, u16 rid, u16 off, unsigned width, u32 val);
	/* 4096 (ECAM) or 256 (CF8/CFC); 0 when the backend cannot reach seg/bus. */
	u16 (*space_size)(void *ctx, u16 seg, u8 bus);
};

void pci_cfg_set_backend(const struct pci_cfg_ops *ops, void *ctx);
const char *pci_cfg_backend_name(void);
/* Bounded accesses by address: an offset outside the function's space, a misaligned one or a
 * bad width is refused with -ERANGE (reads then give all ones). */
int pci_cfg_read(u16 seg, u16 rid, u16 off, unsigned width, u32 *val);
int pci_cfg_write(u16 seg, u16 rid, u16 off, unsigned width, u32 val);
u16 pci_cfg_space_size(u16 seg, u8 bus);
u32 pci_cfg_read32_at(u16 seg, u16 rid, u16 off);
u16 pci_cfg_read16_at(u16 seg, u16 rid, u16 off);
u8 pci_cfg_read8_at(u16 seg, u16 rid, u16 off);

struct ecam_region {
	u64 base; /* address of bus 0 of this segment */
	u16 seg;
	u8 bus_start, bus_end;
};

#define PCI_MAX_ECAM 8
extern const struct pci_cfg_ops pci_ecam_ops;
extern const struct pci_cfg_ops pci_cf8_ops;
/* Registers an ECAM region for pci_ecam_ops (and maps it). */
int pci_ecam_add(const struct ecam_region *r);
void pci_ecam_reset(void);
/* Without MCFG: ECAM from the Intel Q35 MCH's PCIEXBAR, read through CF8/CFC. */
int pci_ecam_from_q35_mch(struct ecam_region *r);

/* ---- device list (devlist.c) ---- */
struct pci_dev *pci_dev_alloc(u16 seg, u16 rid);
void *pci_zalloc_sriov(void);
/* Forgets every function (host tests start each case from an empty list). */
void pci_devlist_reset(void);

/* ---- enumeration (enum.c) ---- */
/* Scans the segment's root bus and everything below it; returns functions found or < 0. */
int pci_enumerate_segment(u16 seg, u8 bus_start, u8 bus_end);
/* Reads header fields, BARs and capabilities of one function into d. */
int pci_probe_function(struct pci_dev *d);

/* ---- BARs and windows (bar.c) ---- */
int pci_read_bars(struct pci_dev *d);
/* Sizes the BAR registers at [first, first + 4*count) with decode off around the probing. */
int pci_size_bar_regs(const struct pci_dev *d, u16 first, unsigned count, struct pci_bar *bars,
		      u16 decode_bits);
void pci_read_bridge_windows(struct pci_dev *d);
int pci_write_mem_window(struct pci_dev *br, bool pref, u64 base, u64 limit);
void pci_write_bar(const struct pci_dev *d, u16 reg, const struct pci_bar *bar, u64 base);
const char *pci_bar_type_name(const struct pci_bar *b);

/* ---- capabilities (caps.c) ---- */
int pci_walk_caps(struct pci_dev *d);

/* ---- address space (resource.c) ---- */
/* The root complex's memory apertures (from the platform; below 4 GiB on PC machines). */
#define PCI_MAX_APERTURES 8
int pci_root_aperture_add(u16 seg, u64 base, u64 limit);
void pci_root_apertures_reset(void);
/* A [base, base+size) range inside the memory (or prefetchable, if pref) window of `br`
 * (NULL = root bus of seg), aligned, below `max` + 1; windows grow up the hierarchy when
 * there is no room. Returns 0 and *out, -ENOSPC with a message when nothing fits. */
int pci_alloc_mmio(u16 seg, struct pci_dev *br, u64 size, u64 align, u64 max, bool pref, u64 *out);
/* Whether [base, base+size) lies inside what `br` forwards and overlaps no BAR or window
 * of any other function (`self` is ignored: its VF BARs are being placed). */
bool pci_mmio_range_usable(u16 seg, struct pci_dev *br, const struct pci_dev *self, u64 base,
			   u64 size, bool pref);

/* Root apertures: the hole between the top of RAM below 4 GiB and 0xFEC00000, minus every
 * memory-map entry and ECAM region inside it. */
struct mem_range;
int pci_apertures_from_memmap(const struct mem_range *mem, unsigned nr_mem,
			      const struct ecam_region *ecam, unsigned nr_ecam);

/* ---- SR-IOV (sriov.c) ---- */
int pci_sriov_probe(struct pci_dev *pf);
/* RID of VF `idx` (0-based): PF RID + First VF Offset + idx * VF Stride, -ERANGE past
 * bus 255. */
int pci_sriov_vf_rid(u16 pf_rid, u16 offset, u16 stride, unsigned idx, u16 *rid);
/* Whether the device's VF BARs only work below 4 GiB (QEMU's 82576 model). */
bool pci_sriov_vf_bars_below_4g(const struct pci_dev *pf);
/* Whether the PF sits in an ARI hierarchy (it has ARI and the port above forwards it). */
bool pci_sriov_ari_hierarchy(const struct pci_dev *pf);
/* How many VFs the configuration wants for this PF (sriov.numvfs=, default 3). */
unsigned pci_sriov_configured_vfs(const struct pci_dev *pf);

#endif
