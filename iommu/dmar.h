/* ACPI DMA Remapping table (VT-d spec chapter 8): parsed into plain structures, and the
 * lookup of the remapping unit (DRHD) that translates a PCI function. Host-compilable. */
#ifndef IOMMU_DMAR_H
#define IOMMU_DMAR_H

#include <moat/bits.h>
#include <moat/pci.h>

#define DMAR_MAX_DRHD 8
#define DMAR_MAX_RMRR 16
#define DMAR_MAX_ATSR 8
#define DMAR_MAX_SATC 8
#define DMAR_MAX_RHSA 8
#define DMAR_MAX_SCOPES 128
#define DMAR_MAX_PATH 8

/* Remapping structure types (8.2) */
enum dmar_struct_type {
	DMAR_TYPE_DRHD = 0,
	DMAR_TYPE_RMRR = 1,
	DMAR_TYPE_ATSR = 2,
	DMAR_TYPE_RHSA = 3,
	DMAR_TYPE_ANDD = 4,
	DMAR_TYPE_SATC = 5,
};

/* Device scope types (8.3.1) */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,
	DMAR_SCOPE_BRIDGE = 2, /* the bridge and every bus below it */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI = 5,
};

struct dmar_scope {
	u8 type;
	u8 enum_id; /* IOAPIC ID / HPET number */
	u8 start_bus;
	u8 depth; /* path entries */
	struct {
		u8 dev, fn;
	} path[DMAR_MAX_PATH];
};

/* A range of dmar_info.scopes. */
struct dmar_scope_list {
	u16 first, count;
};

struct dmar_drhd {
	u64 base;
	u16 segment;
	bool include_pci_all;
	u8 size_log2; /* register set: 2^size_log2 pages */
	bool has_rhsa;
	u32 proximity; /* from a matching RHSA */
	struct dmar_scope_list scopes;
};

struct dmar_rmrr {
	u16 segment;
	u64 base, limit; /* limit inclusive */
	struct dmar_scope_list scopes;
};

struct dmar_atsr {
	u16 segment;
	bool all_ports;
	struct dmar_scope_list scopes;
};

struct dmar_satc {
	u16 segment;
	bool atc_required;
	struct dmar_scope_list scopes;
};

struct dmar_rhsa {
	u64 base;
	u32 proximity;
};

struct dmar_info {
	u8 host_addr_width; /* HAW + 1: DMA physical address bits */
	u8 flags;
	unsigned nr_drhd, nr_rmrr, nr_atsr, nr_satc, nr_rhsa, nr_scopes;
	unsigned nr_bad; /* structures reported and skipped */
	struct dmar_drhd drhd[DMAR_MAX_DRHD];
	struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
	struct dmar_atsr atsr[DMAR_MAX_ATSR];
	struct dmar_satc satc[DMAR_MAX_SATC];
	struct dmar_rhsa rhsa[DMAR_MAX_RHSA];
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

/* DMAR flags */
#define DMAR_FLAG_INTR_REMAP BIT(0)
#define DMAR_FLAG_X2APIC_OPT_OUT BIT(1)
#define DMAR_FLAG_DMA_CTRL_OPT_IN BIT(2)

/* Parses `len` bytes of a DMAR table (header included). A structure that is malformed is
 * reported and skipped; -EINVAL only if the table itself is unusable (bad signature,
 * header, or length). */
int dmar_parse(const void *table, size_t len, struct dmar_info *info);

/* What the unit lookup needs from PCI config space: a bridge's secondary and subordinate
 * bus numbers. Return -ENODEV when no bridge answers there. */
struct dmar_pci_ops {
	int (*bridge_buses)(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *secondary,
			    u8 *subordinate);
	void *ctx;
};

/* Resolves a scope's path to the bus/device/function it names (through the bridges on
 * the path). For a bridge scope also gives the bus range below it. */
int dmar_scope_resolve(const struct dmar_scope *s, u16 seg, const struct dmar_pci_ops *ops,
		       u16 *bdf, u8 *sec, u8 *sub);

/* Index of the DRHD translating `bdf` in `seg`: an explicit endpoint or bridge scope first,
 * else the INCLUDE_PCI_ALL unit of the segment. A virtual function passes its physical
 * function as `pf_bdf` (or bdf itself): a scope naming the PF or a bridge above the VF
 * covers the VF. -ENODEV if no unit does. */
int dmar_unit_for_pci(const struct dmar_info *info, u16 seg, u16 bdf, u16 pf_bdf,
		      const struct dmar_pci_ops *ops);

/* Index of the DRHD with an IOAPIC or HPET scope whose source ID is `sid`. */
int dmar_unit_for_non_pci(const struct dmar_info *info, u16 seg, u16 sid,
			  const struct dmar_pci_ops *ops);

/* Indices (up to max) of the RMRRs whose endpoint scopes name `bdf`: ranges the firmware
 * expects that device to keep reaching. Returns how many were found. */
unsigned dmar_rmrrs_for_pci(const struct dmar_info *info, u16 seg, u16 bdf,
			    const struct dmar_pci_ops *ops, unsigned *idx, unsigned max);

/* Index of the DRHD with an IOAPIC scope for `ioapic_id`, and the IOAPIC's source ID. */
int dmar_unit_for_ioapic(const struct dmar_info *info, u8 ioapic_id, u16 *sid,
			 const struct dmar_pci_ops *ops);

#endif
