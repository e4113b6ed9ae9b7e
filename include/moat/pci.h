/* PCI Express: the device list the rest of moat uses.
 *
 * pci_init() finds every function below the host bridges (ECAM per MCFG segment, CF8/CFC
 * without MCFG), records what each one is, decodes its capabilities, enables SR-IOV on the
 * physical functions the configuration asks for and adds their virtual functions. After
 * that the list only changes through pci_sriov_enable()/pci_sriov_disable(); entries are
 * never freed, so a `struct pci_dev *` stays valid for the life of the hypervisor.
 *
 * Every function has an owner: nobody (free), the hypervisor (bridges, PFs it drives, the
 * IOMMU's own devices), or one guest. pci_set_owner() refuses to hand a function that
 * already belongs to someone to someone else.
 */
#ifndef MOAT_PCI_H
#define MOAT_PCI_H

#include <moat/bits.h>
#include <moat/types.h>

/* A requester ID: bus in bits 15:8, device 7:3, function 2:0. With ARI the device number is
 * always 0 and the function number is bits 7:0. */
#define PCI_RID(bus, dev, fn) ((u16)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_RID_BUS(rid) ((u8)((rid) >> 8))
#define PCI_RID_DEV(rid) ((u8)(((rid) >> 3) & 0x1f))
#define PCI_RID_FN(rid) ((u8)((rid)&0x7))
#define PCI_RID_DEVFN(rid) ((u8)((rid)&0xff))

#define PCI_CFG_SIZE 4096 /* one function's configuration space (PCIe) */
#define PCI_MAX_DEVS 512  /* functions in the device list, VFs included */
#define PCI_NR_BARS 6
#define PCI_NR_VF_BARS 6

/* Standard capability IDs (config space list from 0x34). */
enum pci_cap_id {
	PCI_CAP_PM = 0x01,
	PCI_CAP_MSI = 0x05,
	PCI_CAP_VENDOR = 0x09,
	PCI_CAP_SSVID = 0x0d,
	PCI_CAP_PCIE = 0x10,
	PCI_CAP_MSIX = 0x11,
};

/* Extended capability IDs (list from 0x100). */
enum pci_ecap_id {
	PCI_ECAP_AER = 0x0001,
	PCI_ECAP_ACS = 0x000d,
	PCI_ECAP_ARI = 0x000e,
	PCI_ECAP_SRIOV = 0x0010,
};

/* PCIe Capabilities register, Device/Port Type field. */
enum pcie_port_type {
	PCIE_TYPE_ENDPOINT = 0x0,
	PCIE_TYPE_LEGACY_ENDPOINT = 0x1,
	PCIE_TYPE_RC_INTEGRATED = 0x9,
	PCIE_TYPE_RC_EVENT_COLLECTOR = 0xa,
	PCIE_TYPE_ROOT_PORT = 0x4,
	PCIE_TYPE_UPSTREAM = 0x5,
	PCIE_TYPE_DOWNSTREAM = 0x6,
	PCIE_TYPE_PCIE_TO_PCI = 0x7,
	PCIE_TYPE_PCI_TO_PCIE = 0x8,
};

enum pci_bar_type {
	PCI_BAR_NONE = 0, /* not implemented, or the upper half of a 64-bit BAR */
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
};

struct pci_bar {
	u64 base; /* address as programmed (0 = unassigned) */
	u64 size; /* 0 when the BAR is not implemented */
	u8 type;  /* enum pci_bar_type */
	bool prefetchable;
};

/* A bridge's forwarding window [base, limit]; closed when base > limit. */
struct pci_window {
	u64 base, limit;
};

static inline bool pci_window_open(const struct pci_window *w)
{
	return w->base <= w->limit;
}

struct pci_msix_info {
	u16 table_size; /* entries */
	u8 table_bir, pba_bir;
	u32 table_offset, pba_offset;
};

struct pci_pcie_info {
	u8 version;
	u8 port_type; /* enum pcie_port_type */
	bool slot;
	u32 devcap, devcap2;
	u8 link_speed, link_width;	   /* negotiated (Link Status) */
	u8 max_link_speed, max_link_width; /* Link Capabilities */
	bool ari_forwarding;		   /* DEVCAP2: ARI Forwarding Supported (ports) */
};

struct pci_acs_info {
	u16 cap, ctrl;
};

/* SR-IOV state of a physical function (see pci/sriov.c). */
struct pci_sriov {
	u16 pos; /* extended capability offset */
	u16 total_vfs, initial_vfs, num_vfs;
	u16 offset, stride, vf_device;
	u32 supported_page_sizes, page_size;
	bool enabled;
	struct pci_bar vf_bar[PCI_NR_VF_BARS]; /* base of VF 0 and the per-VF size */
	struct pci_dev *vf[256];	       /* in VF order, num_vfs of them */
};

enum pci_owner_kind {
	PCI_OWNER_NONE = 0,
	PCI_OWNER_HYPERVISOR,
	PCI_OWNER_GUEST,
};

struct pci_owner {
	u8 kind;	  /* enum pci_owner_kind */
	int guest;	  /* guest index when kind == PCI_OWNER_GUEST */
	const char *name; /* the guest's configured name, for logs (NULL: guest<index>) */
};

struct pci_dev {
	u16 seg;
	u16 rid;
	u8 bus, dev, fn;
	u16 vendor, device;
	u32 class; /* base class 23:16, subclass 15:8, programming interface 7:0 */
	u8 revision;
	u8 header_type; /* 0 or 1, without the multi-function bit */
	bool multifunction;
	u16 subsys_vendor, subsys_id;
	u8 irq_pin; /* 0 none, 1..4 INTA..INTD */
	u8 irq_line;
	struct pci_bar bar[PCI_NR_BARS];

	/* Header type 1 only. */
	u8 primary, secondary, subordinate;
	struct pci_window io_window, mem_window, pref_window;
	bool pref_64bit;

	/* Capability offsets, 0 when absent. */
	u8 cap_pm, cap_msi, cap_msix, cap_pcie;
	u16 ecap_aer, ecap_acs, ecap_ari, ecap_sriov;
	bool cap_list_broken; /* the standard or extended walk stopped on a bad pointer */
	struct pci_msix_info msix;
	struct pci_pcie_info pcie;
	struct pci_acs_info acs;
	u8 msi_vectors; /* MSI Multiple Message Capable, as a count */
	bool msi_64bit;

	struct pci_dev *parent;	 /* upstream bridge; NULL on a root bus */
	struct pci_sriov *sriov; /* physical functions with SR-IOV */
	struct pci_dev *pf;	 /* virtual functions: their PF */
	u16 vf_index;		 /* virtual functions: 0-based VF number */
	bool is_vf;
	bool present; /* false for a VF whose PF has SR-IOV disabled again */

	struct pci_owner owner;
	/* Faults the IOMMU reported with this function's requester ID (DMA default-deny:
	 * a function nobody owns faults on every request). */
	u64 dma_faults;
};

struct acpi_mcfg_segment;
struct mem_range;

/* Brings PCI up: config access (ECAM for each MCFG segment; without MCFG the chipset's ECAM
 * register or CF8/CFC), enumeration, SR-IOV per configuration, the listing. The memory map
 * tells which addresses below 4 GiB are free for BARs moat must place. */
int pci_init(const struct acpi_mcfg_segment *mcfg, unsigned nr_mcfg, const struct mem_range *mem,
	     unsigned nr_mem);

/* The device list, in discovery order (VFs after the functions found by the scan). The
 * iterators and finders skip VFs that are no longer present. */
unsigned pci_dev_count(void);
struct pci_dev *pci_dev_at(unsigned idx);
/* Loops over every present function (VFs whose PF has SR-IOV disabled again are skipped):
 *   struct pci_dev *d;
 *   pci_for_each_dev(d) { ... }                                                        */
#define pci_for_each_dev(d)                                                                        \
	for (unsigned __i = 0; __i < pci_dev_count(); __i++)                                       \
		if (!((d) = pci_dev_at(__i))->present) {                                           \
		} else

struct pci_dev *pci_find_bdf(u16 seg, u8 bus, u8 dev, u8 fn);
struct pci_dev *pci_find_rid(u16 seg, u16 rid);
/* Next function after `from` (NULL = first) whose class matches under `mask`
 * (e.g. 0x020000, 0xffff00 for Ethernet). */
struct pci_dev *pci_find_class(u32 class, u32 mask, struct pci_dev *from);
/* Next function after `from` with standard capability `id` / extended capability `id`. */
struct pci_dev *pci_find_cap(u8 id, struct pci_dev *from);
struct pci_dev *pci_find_ecap(u16 id, struct pci_dev *from);
struct pci_dev *pci_find_device(u16 vendor, u16 device, struct pci_dev *from);
/* The idx-th VF of a PF with SR-IOV enabled, or NULL. */
struct pci_dev *pci_sriov_vf(const struct pci_dev *pf, unsigned idx);

/* Capability offsets by walking the (validated) lists; 0 when absent. */
u8 pci_cap_find(const struct pci_dev *d, u8 id);
u16 pci_ecap_find(const struct pci_dev *d, u16 id);

/* Ownership. Fails with -EBUSY if `d` already belongs to someone else. */
int pci_set_owner(struct pci_dev *d, enum pci_owner_kind kind, int guest);
void pci_release(struct pci_dev *d);
const char *pci_owner_name(const struct pci_owner *o, char *buf, size_t size);

/* Config space of a listed function. Accesses outside the function's 4 KiB or not
 * naturally aligned are refused: reads give all ones, writes are dropped, both logged. */
u8 pci_read8(const struct pci_dev *d, u16 off);
u16 pci_read16(const struct pci_dev *d, u16 off);
u32 pci_read32(const struct pci_dev *d, u16 off);
void pci_write8(const struct pci_dev *d, u16 off, u8 v);
void pci_write16(const struct pci_dev *d, u16 off, u16 v);
void pci_write32(const struct pci_dev *d, u16 off, u32 v);

/* Command register helpers. */
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO BIT(0)
#define PCI_COMMAND_MEMORY BIT(1)
#define PCI_COMMAND_MASTER BIT(2)
#define PCI_COMMAND_INTX_DISABLE BIT(10)

/* SR-IOV on a PF: NumVFs, VF BAR placement, VF Enable; VFs join the device list. */
int pci_sriov_enable(struct pci_dev *pf, unsigned num_vfs);
/* The configuration's demand, handed to pci/ before pci_init: the PF at seg:bus:dev.fn
 * must have at least num_vfs VFs (its highest VF named + 1). At SR-IOV enable each PF gets
 * max(3, demand) VFs up to TotalVFs, unless sriov.numvfs= on the command line says how
 * many. */
void pci_sriov_demand(u16 seg, u8 bus, u8 dev, u8 fn, unsigned num_vfs);
void pci_sriov_demand_clear(void);
/* VF Enable off (the 1 s wait included); the VFs leave the device list's live set. */
int pci_sriov_disable(struct pci_dev *pf);

/* Function Level Reset (PCIe, Device Capabilities FLR bit): waits for pending transactions,
 * resets, waits the 100 ms the spec requires and until the function answers config
 * requests again. Everything in the function is lost (Command register included): the
 * caller restores what it needs. -ENOTSUP when the function cannot do FLR. */
int pci_flr(struct pci_dev *d);
/* The two halves of pci_flr for a caller that cannot spend the 100 ms waiting (a guest's
 * FLR): pci_flr_start waits for pending transactions (bounded) and initiates the reset;
 * the caller sends the function no request for PCI_FLR_WAIT_MS, then pci_flr_ready waits
 * (bounded) until it answers config requests again. */
#define PCI_FLR_WAIT_MS 100
int pci_flr_start(struct pci_dev *d);
int pci_flr_ready(struct pci_dev *d);
bool pci_has_flr(const struct pci_dev *d);
/* Resets every function below `bridge` (Bridge Control SBR), restoring the headers moat
 * set up (BARs, Command, interrupt line). Refused with a bridge below it. */
int pci_secondary_bus_reset(struct pci_dev *bridge);

/* Whether the function's MSI-X table and PBA (BIR and offset as the device states them)
 * lie whole inside one of its implemented, assigned memory BARs, with room for every
 * entry: -EINVAL with `why` otherwise (such a function is not given to a guest). 0 without
 * MSI-X. */
int pci_msix_layout_check(const struct pci_dev *d, char *why, size_t size);

/* The lspci-like listing on the console. */
void pci_print_devices(void);

#endif
