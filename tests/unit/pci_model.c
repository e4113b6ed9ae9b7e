/* See pci_model.h. */
#include <string.h>
#include <moat/bits.h>
#include <moat/pci.h>
#include "pci/internal.h"
#include "pci_model.h"

struct model model;

/* The fast path: which function answers at each RID of segments 0..MAP_SEGS-1, rebuilt
 * on the first access after anything that can move a function (a builder, model_set, a
 * write that changes a bridge's bus numbers or a PF's SR-IOV control or NumVFs). Without
 * it every access walks every function and every VF (the PCI fuzz target needs speed). */
#define MAP_SEGS 4
#define MAP_NONE (-1)
#define MAP_VF (-2)
/* An entry counts only when its generation is the map's (a rebuild clears nothing). */
static struct {
	u16 gen;
	s8 idx;
} rid_map[MAP_SEGS][65536];
static u16 rid_map_gen;
static bool rid_map_valid;

void model_changed(void)
{
	rid_map_valid = false;
}

void model_set(int idx, u16 off, unsigned width, u32 val)
{
	for (unsigned i = 0; i < width; i++)
		model.fn[idx].cfg[off + i] = (u8)(val >> (8 * i));
	model_changed();
}

u32 model_get(int idx, u16 off, unsigned width)
{
	u32 v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (u32)model.fn[idx].cfg[off + i] << (8 * i);
	return v;
}

static void set_wmask(int idx, u16 off, unsigned width, u32 mask)
{
	for (unsigned i = 0; i < width; i++)
		model.fn[idx].wmask[off + i] = (u8)(mask >> (8 * i));
}

int model_bus_of(int idx)
{
	const struct model_fn *f = &model.fn[idx];
	int pbus;
	u8 sec, sub;

	if (f->parent < 0)
		return f->root_bus;
	pbus = model_bus_of(f->parent);
	sec = (u8)model_get(f->parent, PCI_SECONDARY_BUS, 1);
	sub = (u8)model_get(f->parent, PCI_SUBORDINATE_BUS, 1);
	if (pbus < 0 || sec == 0 || sec <= pbus || sub < sec)
		return -1;
	return sec;
}

static int find_fn_slow(u16 seg, u16 rid)
{
	for (int i = 0; i < MODEL_MAX_FNS; i++)
		if (model.fn[i].used && model.fn[i].seg == seg &&
		    model_bus_of(i) == PCI_RID_BUS(rid) && model.fn[i].dev == PCI_RID_DEV(rid) &&
		    model.fn[i].fn == PCI_RID_FN(rid))
			return i;
	return -1;
}

/* A VF of an enabled PF at this RID. */
static bool is_vf_rid_slow(u16 seg, u16 rid)
{
	for (int i = 0; i < MODEL_MAX_FNS; i++) {
		const struct model_fn *f = &model.fn[i];
		int bus = model_bus_of(i);
		u16 pos = f->sriov_pos, numvfs, offset, stride;

		if (!f->used || f->seg != seg || !pos || bus < 0 ||
		    !(model_get(i, pos + 0x08, 2) & 1))
			continue;
		numvfs = (u16)model_get(i, pos + 0x10, 2);
		offset = (u16)model_get(i, pos + 0x14, 2);
		stride = (u16)model_get(i, pos + 0x16, 2);
		for (unsigned v = 0; v < numvfs; v++)
			if (PCI_RID(bus, f->dev, f->fn) + offset + stride * v == rid)
				return true;
	}
	return false;
}

/* VFs first, functions over them (a function wins over a VF at the same RID, the lowest
 * index over a higher one: what the slow lookups answer). */
static void rid_map_set(u16 seg, u16 rid, s8 idx)
{
	rid_map[seg][rid].gen = rid_map_gen;
	rid_map[seg][rid].idx = idx;
}

static s8 rid_map_get(u16 seg, u16 rid)
{
	return rid_map[seg][rid].gen == rid_map_gen ? rid_map[seg][rid].idx : MAP_NONE;
}

static void rid_map_build(void)
{
	if (++rid_map_gen == 0) {
		memset(rid_map, 0, sizeof(rid_map));
		rid_map_gen = 1;
	}
	for (int i = 0; i < MODEL_MAX_FNS; i++) {
		const struct model_fn *f = &model.fn[i];
		int bus = f->used && f->seg < MAP_SEGS ? model_bus_of(i) : -1;
		u16 pos = f->sriov_pos, numvfs, offset, stride;

		if (bus < 0 || !pos || !(model_get(i, pos + 0x08, 2) & 1))
			continue;
		numvfs = (u16)model_get(i, pos + 0x10, 2);
		offset = (u16)model_get(i, pos + 0x14, 2);
		stride = (u16)model_get(i, pos + 0x16, 2);
		for (unsigned v = 0; v < numvfs; v++)
			rid_map_set(f->seg,
				    (u16)(PCI_RID(bus, f->dev, f->fn) + offset + stride * v),
				    MAP_VF);
	}
	for (int i = MODEL_MAX_FNS - 1; i >= 0; i--) {
		const struct model_fn *f = &model.fn[i];
		int bus = f->used && f->seg < MAP_SEGS ? model_bus_of(i) : -1;

		if (bus >= 0)
			rid_map_set(f->seg, PCI_RID(bus, f->dev, f->fn), (s8)i);
	}
	rid_map_valid = true;
}

static int find_fn(u16 seg, u16 rid)
{
	if (seg >= MAP_SEGS)
		return find_fn_slow(seg, rid);
	if (!rid_map_valid)
		rid_map_build();
	return rid_map_get(seg, rid) >= 0 ? rid_map_get(seg, rid) : -1;
}

static bool is_vf_rid(u16 seg, u16 rid)
{
	if (seg >= MAP_SEGS)
		return is_vf_rid_slow(seg, rid);
	if (!rid_map_valid)
		rid_map_build();
	return rid_map_get(seg, rid) == MAP_VF;
}

/* A write there can move functions: bus numbers of a bridge, a PF's SR-IOV control and
 * NumVFs. */
static bool has_children(const struct model_fn *f)
{
	for (int i = 0; i < MODEL_MAX_FNS; i++)
		if (model.fn[i].used && model.fn[i].parent >= 0 &&
		    &model.fn[model.fn[i].parent] == f)
			return true;
	return false;
}

static bool moves_functions(const struct model_fn *f, u16 off)
{
	return (off >= PCI_PRIMARY_BUS && off <= PCI_SUBORDINATE_BUS && has_children(f)) ||
	       (f->sriov_pos && off >= f->sriov_pos + 0x08 && off < f->sriov_pos + 0x18);
}

static u32 m_read(void *ctx, u16 seg, u16 rid, u16 off, unsigned width)
{
	int i = find_fn(seg, rid);
	u32 v = 0;

	if (seg < ARRAY_SIZE(model.seg_reads))
		model.seg_reads[seg]++;
	if (i < 0) {
		if (!is_vf_rid(seg, rid))
			return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
		for (unsigned b = 0; b < width; b++)
			v |= (u32)model.vf_cfg[off + b] << (8 * b);
		return v;
	}
	return model_get(i, off, width);
}

static void m_write(void *ctx, u16 seg, u16 rid, u16 off, unsigned width, u32 val)
{
	int i = find_fn(seg, rid);
	struct model_fn *f;

	model.writes++;
	if (i < 0)
		return;
	f = &model.fn[i];
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24 && val == 0xffffffffu &&
	    (model_get(i, PCI_COMMAND, 2) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
		f->sized_with_decode_on = true;
	for (unsigned b = 0; b < width; b++) {
		u8 m = f->wmask[off + b], old = f->cfg[off + b];

		f->cfg[off + b] = (u8)((old & ~m) | ((val >> (8 * b)) & m));
		if (f->cfg[off + b] != old && moves_functions(f, (u16)(off + b)))
			model_changed();
	}
}

static u16 m_space(void *ctx, u16 seg, u8 bus)
{
	return seg < 32 && (model.segments & BIT(seg)) ? 4096 : 0;
}

static const struct pci_cfg_ops model_ops = {"model", m_read, m_write, m_space};

void model_install(void)
{
	pci_cfg_set_backend(&model_ops, NULL);
}

static int new_fn(int parent, u8 bus, u8 dev, u8 fn, u16 vendor, u16 device, u32 class, u8 header)
{
	for (int i = 0; i < MODEL_MAX_FNS; i++) {
		struct model_fn *f = &model.fn[i];

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		model_changed();
		f->used = true;
		f->parent = parent;
		f->seg = parent >= 0 ? model.fn[parent].seg : model.build_seg;
		f->root_bus = bus;
		f->dev = dev;
		f->fn = fn;
		model_set(i, PCI_VENDOR_ID, 2, vendor);
		model_set(i, PCI_DEVICE_ID, 2, device);
		model_set(i, PCI_CLASS_REVISION, 4, class << 8 | 1);
		model_set(i, PCI_HEADER_TYPE, 1, header);
		set_wmask(i, PCI_COMMAND, 2, 0x0547);
		set_wmask(i, PCI_INTERRUPT_LINE, 1, 0xff);
		return i;
	}
	return -1;
}

static void cap(int idx, u8 pos, u8 id, u8 next)
{
	model_set(idx, pos, 1, id);
	model_set(idx, pos + 1, 1, next);
	model_set(idx, PCI_STATUS, 2, model_get(idx, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
}

static void ecap(int idx, u16 pos, u16 id, u16 next)
{
	model_set(idx, pos, 4, (u32)id | 1u << 16 | (u32)next << 20);
}

void model_bar(int idx, u16 reg, u64 size, u32 type_bits, u64 addr)
{
	u64 mask = ~(size - 1);

	model_set(idx, reg, 4, (u32)addr | type_bits);
	if (type_bits & PCI_BAR_SPACE_IO) {
		set_wmask(idx, reg, 4, (u32)mask & 0xfffffffcu);
		return;
	}
	set_wmask(idx, reg, 4, (u32)mask & 0xfffffff0u);
	if (FIELD_GET(PCI_BAR_MEM_TYPE, type_bits) == PCI_BAR_MEM_TYPE_64) {
		model_set(idx, reg + 4, 4, (u32)(addr >> 32));
		set_wmask(idx, reg + 4, 4, (u32)(mask >> 32));
	}
}

void model_window(int idx, bool pref, u64 base, u64 limit)
{
	u16 rb = pref ? PCI_PREF_BASE : PCI_MEM_BASE, rl = pref ? PCI_PREF_LIMIT : PCI_MEM_LIMIT;
	u16 type = pref ? (model_get(idx, rb, 2) & 0xf) : 0;

	model_set(idx, rb, 2, (u32)(((base >> 16) & 0xfff0) | type));
	model_set(idx, rl, 2, (u32)(((limit >> 16) & 0xfff0) | type));
	if (pref && type) {
		model_set(idx, PCI_PREF_BASE_UPPER, 4, (u32)(base >> 32));
		model_set(idx, PCI_PREF_LIMIT_UPPER, 4, (u32)(limit >> 32));
	}
}

int model_host_bridge(void)
{
	int i = new_fn(-1, 0, 0, 0, 0x8086, 0x29c0, 0x060000, 0);

	model_set(i, PCI_SUBSYS_VENDOR, 2, 0x1af4);
	model_set(i, PCI_SUBSYS_ID, 2, 0x1100);
	/* PCIEXBAR: 256 buses at 0xb0000000, enabled. */
	model_set(i, 0x60, 4, 0xb0000001);
	return i;
}

static void bridge_common(int i, u8 sec, u8 sub, u8 pcie_type, bool ari_fwd, u8 pcie_pos)
{
	set_wmask(i, PCI_PRIMARY_BUS, 1, 0xff);
	set_wmask(i, PCI_SECONDARY_BUS, 1, 0xff);
	set_wmask(i, PCI_SUBORDINATE_BUS, 1, 0xff);
	set_wmask(i, PCI_IO_BASE, 2, 0xf0f0);
	set_wmask(i, PCI_MEM_BASE, 4, 0xfff0fff0);
	set_wmask(i, PCI_PREF_BASE, 4, 0xfff0fff0);
	set_wmask(i, PCI_PREF_BASE_UPPER, 4, 0xffffffff);
	set_wmask(i, PCI_PREF_LIMIT_UPPER, 4, 0xffffffff);
	model_set(i, PCI_IO_BASE, 2, 0x0101);
	model_set(i, PCI_PREF_BASE, 2, 0x0001);
	model_set(i, PCI_PREF_LIMIT, 2, 0x0001);
	model_set(i, PCI_SECONDARY_BUS, 1, sec);
	model_set(i, PCI_SUBORDINATE_BUS, 1, sub);
	model_window(i, false, 0xfff00000, 0x000fffff);
	model_window(i, true, 0xfff00000, 0x000fffff);
	cap(i, pcie_pos, PCI_CAP_PCIE, 0);
	model_set(i, pcie_pos + 2, 2, 0x0002 | (u32)pcie_type << 4 | 1u << 8);
	model_set(i, pcie_pos + 0x0c, 4, 0x00000201 | 32 << 4);
	model_set(i, pcie_pos + 0x12, 2, 0x0011);
	model_set(i, pcie_pos + 0x24, 4, ari_fwd ? BIT(5) : 0);
	set_wmask(i, pcie_pos + 0x28, 2, 0xffff);
}

int model_root_port(int parent, u8 dev, u8 sec, u8 sub)
{
	int i = new_fn(parent, 0, dev, 0, 0x1b36, 0x000c, 0x060400, 1);

	bridge_common(i, sec, sub, PCIE_TYPE_ROOT_PORT, true, 0x54);
	model_bar(i, PCI_BAR0, 0x1000, 0, 0);
	/* msix@48 -> pcie@54; aer@100 -> acs@148 */
	model_set(i, PCI_CAP_PTR, 1, 0x48);
	cap(i, 0x48, PCI_CAP_MSIX, 0x54);
	model_set(i, 0x4a, 2, 0);
	model_set(i, 0x50, 4, 0x800);
	ecap(i, 0x100, PCI_ECAP_AER, 0x148);
	ecap(i, 0x148, PCI_ECAP_ACS, 0);
	model_set(i, 0x14c, 2, 0x5f);
	model_set(i, PCI_INTERRUPT_PIN, 1, 1);
	return i;
}

int model_switch_up(int parent, u8 sec, u8 sub)
{
	int i = new_fn(parent, 0, 0, 0, 0x104c, 0x8232, 0x060400, 1);

	bridge_common(i, sec, sub, PCIE_TYPE_UPSTREAM, false, 0x90);
	model_set(i, PCI_CAP_PTR, 1, 0x90);
	ecap(i, 0x100, PCI_ECAP_AER, 0);
	return i;
}

int model_switch_down(int parent, u8 dev, u8 sec, u8 sub)
{
	int i = new_fn(parent, 0, dev, 0, 0x104c, 0x8233, 0x060400, 1);

	bridge_common(i, sec, sub, PCIE_TYPE_DOWNSTREAM, true, 0x90);
	model_set(i, PCI_CAP_PTR, 1, 0x90);
	ecap(i, 0x100, PCI_ECAP_AER, 0);
	return i;
}

static void igb_vf_template(void)
{
	u8 *c = model.vf_cfg;

	memset(c, 0, sizeof(model.vf_cfg));
	memset(c, 0xff, 4); /* vendor/device read FFFF on a VF */
	c[PCI_CLASS_REVISION] = 1;
	c[PCI_CLASS_REVISION + 2] = 0x00;
	c[PCI_CLASS_REVISION + 3] = 0x02;
	c[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	c[PCI_CAP_PTR] = 0x70;
	c[0x70] = PCI_CAP_MSIX;
	c[0x71] = 0xa0;
	c[0x72] = 2; /* 3 vectors */
	c[0x74] = 3;
	c[0x78] = 3;
	c[0x79] = 0x20;
	c[0xa0] = PCI_CAP_PCIE;
	c[0xa2] = 0x02;
	c[0x100] = PCI_ECAP_ARI;
	c[0x102] = 1;
}

int model_igb(int parent, u8 bus, u8 dev)
{
	int i = new_fn(parent, bus, dev, 0, 0x8086, 0x10c9, 0x020000, 0);
	u16 s = 0x160;

	model_set(i, PCI_SUBSYS_VENDOR, 2, 0x1af4);
	model_set(i, PCI_SUBSYS_ID, 2, 0x1100);
	model_set(i, PCI_INTERRUPT_PIN, 1, 1);
	model_bar(i, 0x10, 0x20000, 0, 0);
	model_bar(i, 0x14, 0x20000, 0, 0);
	model_bar(i, 0x18, 0x20, PCI_BAR_SPACE_IO, 0);
	model_bar(i, 0x1c, 0x4000, FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64), 0);
	/* pm@40 -> msi@50 -> msix@70 -> pcie@a0; aer@100 -> ari@150 -> sriov@160 */
	model_set(i, PCI_CAP_PTR, 1, 0x40);
	cap(i, 0x40, PCI_CAP_PM, 0x50);
	cap(i, 0x50, PCI_CAP_MSI, 0x70);
	model_set(i, 0x52, 2, 0x0080);
	cap(i, 0x70, PCI_CAP_MSIX, 0xa0);
	model_set(i, 0x72, 2, 9);
	model_set(i, 0x74, 4, 3);
	model_set(i, 0x78, 4, 0x2003);
	cap(i, 0xa0, PCI_CAP_PCIE, 0);
	model_set(i, 0xa2, 2, 0x0002);
	ecap(i, 0x100, PCI_ECAP_AER, 0x150);
	ecap(i, 0x150, PCI_ECAP_ARI, 0x160);
	ecap(i, s, PCI_ECAP_SRIOV, 0);
	model.fn[i].sriov_pos = s;
	model_set(i, s + 0x0c, 2, 8);	   /* InitialVFs */
	model_set(i, s + 0x0e, 2, 8);	   /* TotalVFs */
	model_set(i, s + 0x14, 2, 0x80);   /* First VF Offset */
	model_set(i, s + 0x16, 2, 2);	   /* VF Stride */
	model_set(i, s + 0x1a, 2, 0x10ca); /* VF Device ID */
	model_set(i, s + 0x1c, 4, 0x553);  /* supported page sizes */
	model_set(i, s + 0x20, 4, 1);
	set_wmask(i, s + 0x08, 2, 0x001f);
	set_wmask(i, s + 0x10, 2, 0xffff);
	set_wmask(i, s + 0x20, 4, 0xffffffff);
	model_bar(i, s + 0x24, 0x4000,
		  FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64) | PCI_BAR_PREFETCH, 0);
	model_bar(i, s + 0x30, 0x4000,
		  FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64) | PCI_BAR_PREFETCH, 0);
	igb_vf_template();
	return i;
}

int model_edu(u8 dev)
{
	int i = new_fn(-1, 0, dev, 0, 0x1234, 0x11e8, 0x00ff00, 0);

	model_bar(i, 0x10, 0x100000, 0, 0);
	model_set(i, PCI_CAP_PTR, 1, 0x40);
	cap(i, 0x40, PCI_CAP_MSI, 0);
	model_set(i, PCI_INTERRUPT_PIN, 1, 1);
	return i;
}

void model_reset(void)
{
	memset(&model, 0, sizeof(model));
	model_changed();
	model.segments = BIT(0);
	pci_devlist_reset();
	pci_root_apertures_reset();
	model_install();
}

void model_segment(u16 seg)
{
	model.build_seg = seg;
	model.segments |= (u32)BIT(seg);
	model_changed();
}
