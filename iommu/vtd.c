/* Intel VT-d driver: units, global command, root and context tables, domains and their
 * second-level tables, and the vendor-neutral iommu_ops. */
#define LOG_TAG "vtd"
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include "iommu/vtd_drv.h"

struct vtd_unit vtd_units[VTD_MAX_UNITS];
unsigned vtd_nr_units;
struct vtd_common vtd_common_caps;
struct dmar_info vtd_dmar;
static struct vtd_domain domains[VTD_MAX_DOMAINS];
static spinlock_t domains_lock = SPINLOCK_INIT;

static void sync_entry(const void *p, size_t len)
{
	if (!vtd_common_caps.coherent)
		vtd_flush_cache(p, len);
}

/* ---- global command (10.4.4): the persistent enables are written in full each time ---- */

/* Each status bit of `set` must read 1 and each of `clear` 0 before the next command. */
int vtd_gcmd_update(struct vtd_unit *u, u32 set, u32 clear)
{
	u->gcmd = (u32)(((u->gcmd | set) & ~clear) & VTD_GCMD_PERSISTENT);
	vtd_write32(u, VTD_GCMD, u->gcmd);
	if (!WAIT_US((vtd_read32(u, VTD_GSTS) & (set | clear)) == set, VTD_WAIT_US))
		return pr_err(-ETIMEDOUT, "unit %u: GSTS %#x after GCMD %#x (set %#x clear %#x)\n",
			      u->idx, vtd_read32(u, VTD_GSTS), u->gcmd, set, clear);
	return 0;
}

int vtd_gcmd_oneshot(struct vtd_unit *u, u32 cmd)
{
	bool ok;

	vtd_write32(u, VTD_GCMD, u->gcmd | cmd);
	/* WBF status is set while the flush runs; the pointer commands set theirs when done. */
	if (cmd == VTD_GCMD_WBF)
		ok = WAIT_US(!(vtd_read32(u, VTD_GSTS) & VTD_GCMD_WBF), VTD_WAIT_US);
	else
		ok = WAIT_US(vtd_read32(u, VTD_GSTS) & cmd, VTD_WAIT_US);
	if (!ok)
		return pr_err(-ETIMEDOUT, "unit %u: GSTS %#x after one-shot command %#x\n", u->idx,
			      vtd_read32(u, VTD_GSTS), cmd);
	return 0;
}

/* ---- handing a unit back, and taking one over ---- */

/* Interrupt remapping, compatibility format and the queue off; translation untouched. */
static int unit_stop_remap_and_queue(struct vtd_unit *u, u32 gsts)
{
	int err = 0;

	if (gsts & VTD_GCMD_IRE) {
		pr_info("unit %u: interrupt remapping found enabled: turning it off\n", u->idx);
		err = vtd_gcmd_update(u, 0, VTD_GCMD_IRE);
	}
	/* 11.4.4: one field per GCMD write, so compatibility format goes in a write of its own. */
	if (!err && gsts & VTD_GCMD_CFI)
		err = vtd_gcmd_update(u, 0, VTD_GCMD_CFI);
	if (!err && gsts & VTD_GCMD_QIE) {
		pr_info("unit %u: queued invalidation found enabled: turning it off\n", u->idx);
		err = vtd_qi_disable(u);
	}
	return err;
}

/* Protected memory regions off: only once translation through moat's tables is live, or
 * (quiesce) when the unit is handed back. */
static int unit_pmr_off(struct vtd_unit *u)
{
	if (!(vtd_read32(u, VTD_PMEN) & VTD_PMEN_PRS))
		return 0;
	pr_info("unit %u: protected memory regions found enabled: turning them off\n", u->idx);
	vtd_write32(u, VTD_PMEN, 0);
	if (!WAIT_US(!(vtd_read32(u, VTD_PMEN) & VTD_PMEN_PRS), VTD_WAIT_US))
		return pr_err(-ETIMEDOUT, "unit %u: PMEN %#x stays set\n", u->idx,
			      vtd_read32(u, VTD_PMEN));
	return 0;
}

int vtd_unit_quiesce(struct vtd_unit *u)
{
	u32 gsts = vtd_read32(u, VTD_GSTS);
	int err = 0;

	u->gcmd = gsts & VTD_GCMD_PERSISTENT;
	if (gsts & VTD_GCMD_TE) {
		pr_info("unit %u: turning DMA translation off\n", u->idx);
		err = vtd_gcmd_update(u, 0, VTD_GCMD_TE);
	}
	if (!err)
		err = unit_stop_remap_and_queue(u, gsts);
	if (!err)
		err = unit_pmr_off(u);
	return err;
}

static int unit_set_root(struct vtd_unit *u)
{
	if (!u->root) {
		u->root = page_alloc();
		if (!u->root)
			return pr_err(-ENOMEM, "unit %u: no page for the root table\n", u->idx);
		sync_entry((void *)(uintptr_t)u->root, PAGE_SIZE);
	}
	vtd_write64(u, VTD_RTADDR, FIELD_PREP(VTD_RTADDR_TTM, 0) | (u->root & VTD_RTADDR_RTA));
	return vtd_gcmd_oneshot(u, VTD_GCMD_SRTP);
}

/* The queue someone else left on: its pending descriptors complete (IQH reaches IQT)
 * before it stops; moat never writes to it. */
static int takeover_queue_stop(struct vtd_unit *u)
{
	if (!WAIT_US(vtd_read64(u, VTD_IQH) == vtd_read64(u, VTD_IQT), VTD_WAIT_US))
		return pr_err(
			-ETIMEDOUT,
			"unit %u: the invalidation queue found enabled does not drain (IQH "
			"%#llx, IQT %#llx, FSTS %#x): it stays on, the unit stays translating "
			"through moat's root table with its caches not invalidated, and is "
			"not used\n",
			u->idx, (unsigned long long)vtd_read64(u, VTD_IQH),
			(unsigned long long)vtd_read64(u, VTD_IQT), vtd_read32(u, VTD_FSTS));
	return vtd_gcmd_update(u, 0, VTD_GCMD_QIE);
}

/* Interrupt remapping found on: moat's table goes in while remapping stays on (10.4.4
 * SIRTP, then a global interrupt entry cache invalidation); where moat does not remap
 * interrupts it is turned off after translation is moat's. */
static int takeover_remap(struct vtd_unit *u, u32 gsts)
{
	if (vtd_common_caps.ir)
		return vtd_ir_enable(u);
	if (!(gsts & VTD_GCMD_IRE))
		return 0;
	pr_info("unit %u: interrupt remapping found enabled, not used by moat: turning it off\n",
		u->idx);
	return vtd_gcmd_update(u, 0, VTD_GCMD_IRE);
}

/* A unit found translating (pre-boot DMA protection, an earlier kernel, or moat's own
 * tables being replaced) changes tables without turning translation off, so no device
 * behind it reaches memory untranslated at any moment (10.4.4/10.4.5: the root table
 * pointer may be set while TES=1; the context cache and IOTLB are then invalidated
 * globally). Until moat's queue is on the invalidations go through the registers. */
int vtd_unit_takeover(struct vtd_unit *u)
{
	u32 gsts = vtd_read32(u, VTD_GSTS);
	int err = 0;

	u->gcmd = gsts & VTD_GCMD_PERSISTENT;
	u->qi_on = false;
	u->ir_on = false;
	pr_info("unit %u: translation found enabled (GSTS %#x): switching to moat's tables without "
		"turning it off\n",
		u->idx, gsts);
	/* Compatibility-format interrupts bypass remapping: blocked first, in a write of its own.
	 */
	if (gsts & VTD_GCMD_CFI)
		err = vtd_gcmd_update(u, 0, VTD_GCMD_CFI);
	if (!err)
		err = unit_set_root(u);
	if (!err && gsts & VTD_GCMD_QIE)
		err = takeover_queue_stop(u);
	if (!err)
		err = vtd_inv_context_global(u);
	if (!err)
		err = vtd_inv_iotlb_global(u);
	if (!err && !(vtd_read32(u, VTD_GSTS) & VTD_GCMD_TE))
		err = pr_err(-EIO, "unit %u: translation went off during the switch (GSTS %#x)\n",
			     u->idx, vtd_read32(u, VTD_GSTS));
	if (!err && vtd_common_caps.qi)
		err = vtd_qi_enable(u);
	if (!err)
		err = vtd_fault_init(u);
	if (!err)
		err = takeover_remap(u, gsts);
	if (!err)
		err = unit_pmr_off(u);
	if (err)
		return pr_err(err, "unit %u: not taken over\n", u->idx);
	pr_info("unit %u: taken over: translation stayed on, root table %#llx, queued invalidation "
		"%s, interrupt remapping %s, GSTS %#x\n",
		u->idx, (unsigned long long)u->root, u->qi_on ? "on" : "off",
		u->ir_on ? "on" : "off", vtd_read32(u, VTD_GSTS));
	return 0;
}

static void unit_report(const struct vtd_unit *u)
{
	const struct vtd_caps *c = &u->caps;

	pr_info("unit %u at %#llx (segment %u): version %u.%u, cap %#llx, ecap %#llx\n", u->idx,
		(unsigned long long)u->base, u->segment,
		(unsigned)FIELD_GET(VTD_VER_MAX, u->version),
		(unsigned)FIELD_GET(VTD_VER_MIN, u->version), (unsigned long long)c->cap,
		(unsigned long long)c->ecap);
	pr_info("unit %u: sagaw %#x (agaw%s%s%s), mgaw %u bits, superpages%s%s%s, qi %s, ir %s, "
		"eim %s, coherent %s, %u domains, %u fault records, caching mode %s\n",
		u->idx, c->sagaw, c->sagaw & BIT(1) ? " 39-bit/3-level" : "",
		c->sagaw & BIT(2) ? " 48-bit/4-level" : "",
		c->sagaw & BIT(3) ? " 57-bit/5-level" : "", c->mgaw, c->sllps & BIT(0) ? " 2M" : "",
		c->sllps & BIT(1) ? " 1G" : "", c->sllps ? "" : " none", c->qi ? "yes" : "no",
		c->ir ? "yes" : "no", c->eim ? "yes" : "no", c->coherent ? "yes" : "no",
		c->nr_domains, c->nr_frcd, c->cm ? "yes" : "no");
}

static int unit_probe(struct vtd_unit *u, unsigned idx, const struct dmar_drhd *d)
{
	u64 cap, ecap;
	u32 gsts;
	int err;

	u->idx = idx;
	u->base = d->base;
	u->segment = d->segment;
	u->version = vtd_read32(u, VTD_VER);
	cap = vtd_read64(u, VTD_CAP);
	ecap = vtd_read64(u, VTD_ECAP);
	/* Nothing behind the address reads all-ones (a master abort) or, in some chipsets
	 * and emulators, zeros; no real unit has major version 0 or no table depth. */
	if (u->version == 0xffffffffu || !FIELD_GET(VTD_VER_MAX, u->version) || cap == ~0ull ||
	    ecap == ~0ull || !FIELD_GET(VTD_CAP_SAGAW, cap)) {
		u->dead = true;
		return pr_err(-ENODEV,
			      "unit %u at %#llx does not answer (VER %#x, CAP %#llx, ECAP %#llx): "
			      "the devices in its scope get no DMA remapping, so moat stops their "
			      "bus mastering and gives them to no guest\n",
			      idx, (unsigned long long)d->base, u->version, (unsigned long long)cap,
			      (unsigned long long)ecap);
	}
	vtd_caps_decode(cap, ecap, &u->caps);
	unit_report(u);
	gsts = vtd_read32(u, VTD_GSTS);
	u->gcmd = gsts & VTD_GCMD_PERSISTENT;
	/* A translating unit keeps translating: vtd_unit_enable switches its tables. */
	if (!(gsts & VTD_GCMD_TE)) {
		err = unit_stop_remap_and_queue(u, gsts);
		if (err)
			return err;
	}
	u->present = true;
	return 0;
}

/* Root table, invalidation, faults, interrupt remapping, then translation on: every
 * device without a context entry is blocked from then on. Tables a unit already has are
 * kept, so a quiesced unit comes back with its domains. A unit found translating is
 * taken over without turning translation off. */
int vtd_unit_enable(struct vtd_unit *u)
{
	int err;

	if (vtd_read32(u, VTD_GSTS) & VTD_GCMD_TE)
		return vtd_unit_takeover(u);
	err = unit_set_root(u);
	if (!err && vtd_common_caps.qi)
		err = vtd_qi_enable(u);
	if (!err)
		err = vtd_inv_context_global(u);
	if (!err)
		err = vtd_inv_iotlb_global(u);
	if (!err)
		err = vtd_fault_init(u);
	if (!err && vtd_common_caps.ir)
		err = vtd_ir_enable(u);
	if (!err)
		err = vtd_gcmd_update(u, VTD_GCMD_TE, 0);
	if (!err)
		err = unit_pmr_off(u);
	if (err)
		return pr_err(err, "unit %u: not enabled\n", u->idx);
	pr_info("unit %u: enabled: translation on, queued invalidation %s, interrupt remapping %s, "
		"GSTS %#x\n",
		u->idx, u->qi_on ? "on" : "off", u->ir_on ? "on" : "off", vtd_read32(u, VTD_GSTS));
	return 0;
}

/* ---- domains ---- */

static struct vtd_domain *vtd_domain_by_did(u16 did)
{
	if (did == 0 || did > VTD_MAX_DOMAINS || !domains[did - 1].used)
		return NULL;
	return &domains[did - 1];
}

static struct iommu_domain *vtd_domain_create(const char *name)
{
	struct vtd_domain *d = NULL;
	int err;

	spin_lock(&domains_lock);
	/* Domain ID 0 stays unused: with caching mode it tags not-present entries. */
	for (unsigned i = 0; i < VTD_MAX_DOMAINS && i + 1 < vtd_common_caps.nr_domains; i++)
		if (!domains[i].used) {
			d = &domains[i];
			d->used = true;
			d->did = (u16)(i + 1);
			break;
		}
	spin_unlock(&domains_lock);
	if (!d) {
		pr_err(-ENOSPC, "no free domain for %s\n", name);
		return NULL;
	}
	strlcpy(d->common.name, name, sizeof(d->common.name));
	d->common.id = d->did;
	d->common.faults = 0;
	d->lock = (spinlock_t)SPINLOCK_INIT;
	err = pt_init(&d->pt, &vtd_sl_format, vtd_pt_ops(vtd_common_caps.coherent),
		      vtd_common_caps.levels, vtd_common_caps.max_leaf_level);
	if (err) {
		d->used = false;
		pr_err(err, "domain %s: no page for its table\n", name);
		return NULL;
	}
	pr_info("domain %u (%s) created: %u-level tables\n", d->did, name, d->pt.levels);
	return &d->common;
}

static struct vtd_domain *to_vtd(struct iommu_domain *d)
{
	return container_of(d, struct vtd_domain, common);
}

static int vtd_map(struct iommu_domain *dom, u64 iova, u64 pa, u64 size, u32 prot)
{
	struct vtd_domain *d = to_vtd(dom);
	int err;

	if (!(prot & IOMMU_RW))
		return pr_err(-EINVAL, "domain %u: mapping without read or write\n", d->did);
	spin_lock(&d->lock);
	err = pt_map(&d->pt, iova, pa, size, prot & IOMMU_RW);
	spin_unlock(&d->lock);
	if (err)
		return pr_err(err, "domain %u: map %#llx+%#llx -> %#llx failed\n", d->did,
			      (unsigned long long)iova, (unsigned long long)size,
			      (unsigned long long)pa);
	/* Not-present entries may be cached only in caching mode; buffered writes need RWBF. */
	for (unsigned i = 0; i < vtd_nr_units; i++) {
		struct vtd_unit *u = &vtd_units[i];
		int ret = 0;

		if (!u->present)
			continue;
		if (u->caps.cm)
			ret = vtd_inv_iotlb_range(u, d->did, iova, size);
		else if (u->caps.rwbf)
			vtd_write_buffer_flush(u);
		if (ret && !err)
			err = ret; /* a later unit's success must not hide it */
	}
	return err;
}

static int vtd_unmap(struct iommu_domain *dom, u64 iova, u64 size)
{
	struct vtd_domain *d = to_vtd(dom);
	int err, ret;

	spin_lock(&d->lock);
	err = pt_unmap(&d->pt, iova, size);
	spin_unlock(&d->lock);
	if (err)
		return pr_err(err, "domain %u: unmap %#llx+%#llx failed\n", d->did,
			      (unsigned long long)iova, (unsigned long long)size);
	for (unsigned i = 0; i < vtd_nr_units; i++) {
		if (!vtd_units[i].present)
			continue;
		ret = vtd_inv_iotlb_range(&vtd_units[i], d->did, iova, size);
		if (ret)
			err = ret;
	}
	return err;
}

static void vtd_table_stats(struct iommu_domain *dom, unsigned counts[5], unsigned *tables)
{
	struct vtd_domain *d = to_vtd(dom);

	spin_lock(&d->lock);
	pt_count_leaves(&d->pt, counts);
	*tables = d->pt.nr_tables;
	spin_unlock(&d->lock);
}

static int vtd_lookup(struct iommu_domain *dom, u64 iova, u64 *pa, u32 *prot)
{
	return pt_lookup(&to_vtd(dom)->pt, iova, pa, prot, NULL);
}

/* ---- context entries ---- */

/* The DMAR scope walk needs the bus numbers behind each bridge on a path. */
static int bridge_buses(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	const struct pci_dev *d = pci_find_bdf(seg, bus, dev, fn);

	(void)ctx;
	if (!d || d->header_type != 1)
		return -ENODEV;
	*sec = d->secondary;
	*sub = d->subordinate;
	return 0;
}

static const struct dmar_pci_ops pci_ops = {bridge_buses, NULL};

const struct dmar_pci_ops *vtd_pci_ops(void)
{
	return &pci_ops;
}

/* -ENODEV without a message when no working unit translates the function. */
static int vtd_unit_covering(u16 seg, u16 sid, u16 pf_sid)
{
	int idx = dmar_unit_for_pci(&vtd_dmar, seg, sid, pf_sid, vtd_pci_ops());

	return idx < 0 || !vtd_units[idx].present ? -ENODEV : idx;
}

int vtd_unit_of(u16 seg, u16 sid, u16 pf_sid)
{
	int idx = vtd_unit_covering(seg, sid, pf_sid);

	if (idx < 0)
		return pr_err(-ENODEV, "no remapping unit covers %04x:%02x:%02x.%x\n", seg,
			      sid >> 8, (sid >> 3) & 31, sid & 7);
	return idx;
}

static struct vtd_qword2 *context_slot(struct vtd_unit *u, u16 sid, bool create)
{
	unsigned bus = sid >> 8;
	struct vtd_qword2 *root = (void *)(uintptr_t)u->root;

	if (!u->ctx[bus]) {
		if (!create)
			return NULL;
		u->ctx[bus] = page_alloc();
		if (!u->ctx[bus])
			return NULL;
		sync_entry((void *)(uintptr_t)u->ctx[bus], PAGE_SIZE);
		root[bus].hi = 0;
		__atomic_store_n(&root[bus].lo, vtd_root_entry(u->ctx[bus]).lo, __ATOMIC_RELEASE);
		sync_entry(&root[bus], sizeof(root[bus]));
	}
	return (struct vtd_qword2 *)(uintptr_t)u->ctx[bus] + (sid & 0xff);
}

struct vtd_domain *vtd_domain_of_sid(const struct vtd_unit *u, u16 sid)
{
	const struct vtd_qword2 *e;

	if (!u->ctx[sid >> 8])
		return NULL;
	e = (const struct vtd_qword2 *)(uintptr_t)u->ctx[sid >> 8] + (sid & 0xff);
	if (!(e->lo & VTD_CTX_LO_P))
		return NULL;
	return vtd_domain_by_did((u16)FIELD_GET(VTD_CTX_HI_DID, e->hi));
}

/* Clears a present context entry: Present goes first so the hardware never sees a
 * half-cleared entry as present; then the caches that may hold it. */
static int context_clear(struct vtd_unit *u, struct vtd_qword2 *e, u16 sid)
{
	u16 old_did = (u16)FIELD_GET(VTD_CTX_HI_DID, e->hi);
	int err;

	__atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE);
	sync_entry(e, sizeof(*e));
	e->hi = 0;
	sync_entry(e, sizeof(*e));
	err = vtd_inv_context_device(u, old_did, sid);
	if (!err)
		err = vtd_inv_iotlb_domain(u, old_did);
	return err;
}

/* A domain that maps RAM identity (the hypervisor's) already covers an RMRR; one that
 * maps something else there must not be silently left that way. */
static int rmrr_already_identity(struct vtd_domain *d, const struct dmar_rmrr *r)
{
	for (u64 a = r->base; a < r->limit; a += PAGE_SIZE) {
		u64 pa;

		if (pt_lookup(&d->pt, a, &pa, NULL, NULL) || pa != a)
			return pr_err(-EEXIST,
				      "domain %u: %#llx of RMRR %#llx-%#llx is mapped, "
				      "not to itself\n",
				      d->did, (unsigned long long)a, (unsigned long long)r->base,
				      (unsigned long long)r->limit);
	}
	return 0;
}

/* 8.4: firmware-reserved ranges (RMRR) stay reachable, identity-mapped, for their device. */
static int map_rmrrs(struct vtd_domain *d, u16 seg, u16 sid)
{
	unsigned idx[DMAR_MAX_RMRR];
	unsigned n = dmar_rmrrs_for_pci(&vtd_dmar, seg, sid, vtd_pci_ops(), idx, DMAR_MAX_RMRR);

	for (unsigned i = 0; i < n; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrr[idx[i]];
		u64 size = r->limit + 1 - r->base;
		int err;

		spin_lock(&d->lock);
		err = pt_map(&d->pt, r->base, r->base, size, IOMMU_RW);
		spin_unlock(&d->lock);
		if (err == -EEXIST)
			err = rmrr_already_identity(d, r);
		if (err)
			return pr_err(
				err,
				"domain %u: RMRR %#llx-%#llx for %04x:%02x:%02x.%x not mapped\n",
				d->did, (unsigned long long)r->base, (unsigned long long)r->limit,
				seg, sid >> 8, (sid >> 3) & 31, sid & 7);
		pr_info("domain %u: RMRR %#llx-%#llx identity-mapped for %04x:%02x:%02x.%x\n",
			d->did, (unsigned long long)r->base, (unsigned long long)r->limit, seg,
			sid >> 8, (sid >> 3) & 31, sid & 7);
	}
	return 0;
}

static int vtd_attach(struct iommu_domain *dom, u16 seg, u16 sid, u16 pf_sid)
{
	struct vtd_domain *d = to_vtd(dom);
	struct vtd_context_cfg cfg = {
		.slptptr = d->pt.root,
		.did = d->did,
		.aw = (u8)vtd_aw_for_levels(d->pt.levels),
		.tt = VTD_CTX_TT_UNTRANSLATED,
	};
	struct vtd_qword2 ce = vtd_context_entry(&cfg), *e;
	int idx = vtd_unit_of(seg, sid, pf_sid), err = 0;
	struct vtd_unit *u;

	if (idx < 0)
		return idx;
	err = map_rmrrs(d, seg, sid);
	if (err)
		return err;
	u = &vtd_units[idx];
	spin_lock(&u->lock);
	e = context_slot(u, sid, true);
	if (!e) {
		err = pr_err(-ENOMEM, "unit %u: no page for bus %u's context table\n", u->idx,
			     sid >> 8);
		goto out;
	}
	if (e->lo & VTD_CTX_LO_P)
		err = context_clear(u, e, sid);
	if (err)
		goto out;
	/* 9.3/6.5: the upper half (domain ID, address width) must be in place before the
	 * hardware can see Present in the lower half. */
	e->hi = ce.hi;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->lo, ce.lo, __ATOMIC_RELEASE);
	sync_entry(e, sizeof(*e));
	err = vtd_inv_context_device(u, d->did, sid);
	if (!err)
		err = vtd_inv_iotlb_domain(u, d->did);
out:
	spin_unlock(&u->lock);
	if (!err)
		pr_info("%04x:%02x:%02x.%x attached to domain %u (%s) on unit %u\n", seg, sid >> 8,
			(sid >> 3) & 31, sid & 7, d->did, d->common.name, u->idx);
	return err;
}

static int vtd_detach(struct iommu_domain *dom, u16 seg, u16 sid)
{
	struct vtd_domain *d = to_vtd(dom);
	int err = -ENOENT;

	/* The entry is on the unit chosen at attach, which for a VF is its PF's scope's unit;
	 * the source ID alone may resolve elsewhere, so every unit of the segment is looked at. */
	for (unsigned i = 0; i < vtd_nr_units && err == -ENOENT; i++) {
		struct vtd_unit *u = &vtd_units[i];
		struct vtd_qword2 *e;

		if (!u->present || u->segment != seg)
			continue;
		spin_lock(&u->lock);
		e = context_slot(u, sid, false);
		if (e && e->lo & VTD_CTX_LO_P && FIELD_GET(VTD_CTX_HI_DID, e->hi) == d->did)
			err = context_clear(u, e, sid);
		spin_unlock(&u->lock);
	}
	return err;
}

static void vtd_domain_destroy(struct iommu_domain *dom)
{
	struct vtd_domain *d = to_vtd(dom);

	for (unsigned i = 0; i < vtd_nr_units; i++) {
		struct vtd_unit *u = &vtd_units[i];

		if (!u->present)
			continue;
		for (unsigned sid = 0; sid < 0x10000; sid++)
			if (vtd_domain_of_sid(u, (u16)sid) == d)
				vtd_detach(dom, u->segment, (u16)sid);
	}
	pt_destroy(&d->pt);
	spin_lock(&domains_lock);
	d->used = false;
	spin_unlock(&domains_lock);
}

static bool vtd_irq_remapping(void)
{
	unsigned on = 0, present = 0;

	for (unsigned i = 0; i < vtd_nr_units; i++) {
		if (!vtd_units[i].present)
			continue;
		present++;
		on += vtd_units[i].ir_on;
	}
	return present && on == present;
}

static bool vtd_covers(u16 seg, u16 sid, u16 pf_sid)
{
	return vtd_unit_covering(seg, sid, pf_sid) >= 0;
}

static int vtd_reserved_region(u16 seg, u16 sid, u64 *base, u64 *limit)
{
	unsigned idx;

	if (!dmar_rmrrs_for_pci(&vtd_dmar, seg, sid, vtd_pci_ops(), &idx, 1))
		return -ENOENT;
	*base = vtd_dmar.rmrr[idx].base;
	*limit = vtd_dmar.rmrr[idx].limit;
	return 0;
}

static const struct iommu_ops vtd_ops = {
	.name = "Intel VT-d",
	.domain_create = vtd_domain_create,
	.domain_destroy = vtd_domain_destroy,
	.map = vtd_map,
	.unmap = vtd_unmap,
	.attach = vtd_attach,
	.detach = vtd_detach,
	.irq_alloc = vtd_ir_alloc,
	.irq_remapping = vtd_irq_remapping,
	.irq_program = vtd_ir_program,
	.irq_free = vtd_ir_free,
	.lookup = vtd_lookup,
	.ioapic_sid = vtd_ir_ioapic_sid,
	.ioapic_rte = vtd_ir_ioapic_rte,
	.table_stats = vtd_table_stats,
	.covers = vtd_covers,
	.reserved_region = vtd_reserved_region,
};

/* ---- bring-up ---- */

static void dump_dmar(const struct acpi_sdt_header *h)
{
	const u8 *p = (const u8 *)h;
	char line[80];

	pr_info("DMAR table, %u bytes:\n", h->length);
	for (u32 off = 0; off < h->length; off += 16) {
		int n = snprintf(line, sizeof(line), "%04x:", off);

		for (u32 i = off; i < off + 16 && i < h->length; i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %02x", p[i]);
		pr_info("%s\n", line);
	}
}

static void report_common(void)
{
	const struct vtd_common *c = &vtd_common_caps;

	pr_info("common: %u-level second-level tables (agaw %u bits), largest page %s, %u domains, "
		"qi %s, ir %s, eim %s, coherent %s\n",
		c->levels, 12 + 9 * c->levels,
		c->max_leaf_level == 2 ? "1G"
		: c->max_leaf_level    ? "2M"
				       : "4K",
		c->nr_domains, c->qi ? "yes" : "no", c->ir ? "yes" : "no", c->eim ? "yes" : "no",
		c->coherent ? "yes" : "no");
}

static bool dmar_parsed;

/* Parses the DMAR (right after ACPI, before memory is handed out). */
static int vtd_dmar_init(void)
{
	const struct acpi_sdt_header *dmar = acpi_find_table("DMAR", 0);
	int err;

	if (!dmar) {
		pr_info("dmar-absent: no ACPI DMAR table: this machine has no VT-d remapping "
			"hardware\n");
		return -ENODEV;
	}
	if (cmdline_has("vtd_dump_dmar"))
		dump_dmar(dmar);
	err = dmar_parse(dmar, dmar->length, &vtd_dmar);
	if (err)
		return err;
	pr_info("DMAR: host address width %u, flags %#x, %u DRHD, %u RMRR, %u ATSR, %u SATC, %u "
		"RHSA, %u bad structures\n",
		vtd_dmar.host_addr_width, vtd_dmar.flags, vtd_dmar.nr_drhd, vtd_dmar.nr_rmrr,
		vtd_dmar.nr_atsr, vtd_dmar.nr_satc, vtd_dmar.nr_rhsa, vtd_dmar.nr_bad);
	dmar_parsed = true;
	return 0;
}

/* Takes over every unit of the DMAR. */
static int vtd_init(const struct boot_info *bi)
{
	struct vtd_caps caps[VTD_MAX_UNITS];
	unsigned n = 0, dead = 0;
	int err;

	(void)bi;
	if (!dmar_parsed)
		return -ENODEV;
	vtd_nr_units = vtd_dmar.nr_drhd;
	for (unsigned i = 0; i < vtd_nr_units; i++)
		TEST_HOOK(vtd_before_takeover, i, &vtd_dmar.drhd[i]);
	for (unsigned i = 0; i < vtd_nr_units; i++) {
		if (unit_probe(&vtd_units[i], i, &vtd_dmar.drhd[i]) == 0)
			caps[n++] = vtd_units[i].caps;
		dead += vtd_units[i].dead;
	}
	if (dead)
		pr_warn("%u of %u remapping units answer\n", vtd_nr_units - dead, vtd_nr_units);
	if (!n)
		return pr_err(-EIO, "none of the %u remapping units answers\n", vtd_nr_units);
	err = vtd_caps_common(caps, n, &vtd_common_caps);
	if (err)
		return pr_err(err, "no table depth common to all %u units\n", n);
	report_common();
	n = 0;
	for (unsigned i = 0; i < vtd_nr_units; i++) {
		if (vtd_units[i].present && vtd_unit_enable(&vtd_units[i]))
			vtd_units[i].present = false;
		n += vtd_units[i].present;
	}
	if (!n)
		return pr_err(-EIO, "none of the %u remapping units could be enabled\n",
			      vtd_nr_units);
	iommu_register(&vtd_ops);
	return 0;
}

static int vtd_probe(const struct boot_info *bi)
{
	int err = vtd_dmar_init();

	if (!err)
		vtd_rmrr_reserve(bi);
	return err;
}

const struct iommu_driver vtd_iommu_driver = {
	.name = "VT-d",
	.probe = vtd_probe,
	.init = vtd_init,
};
