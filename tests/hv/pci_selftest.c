/* Boot self-tests of pci/ and SR-IOV on the machine moat runs on (TAP suites pci, sriov). */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include "tests/hv/selftest.h"
#include "pci/internal.h"

SELFTEST(st_pci_found, "pci", "enumerated")
{
	struct pci_dev *hb = pci_find_bdf(0, 0, 0, 0);

	CHECK(ctx, pci_dev_count() > 0, "no PCI function found");
	CHECK(ctx, hb && (hb->class >> 16) == 0x06, "no host bridge at 00:00.0");
}

SELFTEST(st_pci_cfg_bounds, "pci", "config-access-bounded")
{
	struct pci_dev *hb = pci_find_bdf(0, 0, 0, 0);
	u32 v = 0;

	if (!hb) {
		st_skip(ctx, "no function at 00:00.0");
		return;
	}
	CHECK(ctx, pci_cfg_read(hb->seg, hb->rid, PCI_CFG_SIZE, 4, &v) == -ERANGE,
	      "offset 4096 not refused");
	CHECK(ctx, v == 0xffffffffu, "refused read gave %#x, not all ones", v);
	CHECK(ctx, pci_cfg_read(hb->seg, hb->rid, 0x2, 4, &v) == -ERANGE,
	      "misaligned dword not refused");
	CHECK(ctx, pci_cfg_write(hb->seg, hb->rid, 0xfff, 2, 0) == -ERANGE,
	      "write across the end not refused");
	CHECK(ctx, pci_cfg_read(hb->seg, hb->rid, 0, 4, &v) == 0 && (v & 0xffff) == hb->vendor,
	      "in-range read failed (%#x)", v);
}

/* Sizing put every BAR back: the registers still hold the recorded addresses. */
SELFTEST(st_pci_bars_restored, "pci", "bar-sizing-restores")
{
	struct pci_dev *d;
	unsigned checked = 0;

	pci_for_each_dev(d)
	{
		if (!d->present || d->is_vf || d->header_type > 1)
			continue;
		for (unsigned b = 0; b < PCI_NR_BARS; b++) {
			const struct pci_bar *bar = &d->bar[b];
			u64 now;

			if (bar->type == PCI_BAR_NONE)
				continue;
			now = pci_read32(d, PCI_BAR0 + 4 * b) &
			      (bar->type == PCI_BAR_IO ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK);
			if (bar->type == PCI_BAR_MEM64)
				now |= (u64)pci_read32(d, PCI_BAR0 + 4 * b + 4) << 32;
			CHECK(ctx, now == bar->base, "%02x:%02x.%x bar%u is %#llx, recorded %#llx",
			      d->bus, d->dev, d->fn, b, (unsigned long long)now,
			      (unsigned long long)bar->base);
			checked++;
		}
	}
	CHECK(ctx, checked > 0, "no BAR to check");
}

SELFTEST(st_pci_caps, "pci", "capabilities-decoded")
{
	struct pci_dev *d;

	pci_for_each_dev(d)
	{
		if (!d->present)
			continue;
		CHECK(ctx, !d->cap_list_broken, "%02x:%02x.%x capability list malformed", d->bus,
		      d->dev, d->fn);
		CHECK(ctx, pci_cap_find(d, PCI_CAP_PCIE) == d->cap_pcie,
		      "%02x:%02x.%x PCIe capability lookup disagrees", d->bus, d->dev, d->fn);
		if (d->cap_msix)
			CHECK(ctx,
			      d->msix.table_bir < PCI_NR_BARS &&
				      d->bar[d->msix.table_bir].type != PCI_BAR_NONE &&
				      d->msix.table_offset < d->bar[d->msix.table_bir].size,
			      "%02x:%02x.%x MSI-X table %u:%#x is outside its BAR", d->bus, d->dev,
			      d->fn, d->msix.table_bir, d->msix.table_offset);
	}
}

SELFTEST(st_pci_owner, "pci", "owner-exclusive")
{
	struct pci_dev *d = NULL;

	pci_for_each_dev(d) if (d->present && d->owner.kind == PCI_OWNER_NONE) break;
	if (!d || d->owner.kind != PCI_OWNER_NONE) {
		st_skip(ctx, "no unowned function to try");
		return;
	}
	CHECK(ctx, pci_set_owner(d, PCI_OWNER_GUEST, 1) == 0, "first owner refused");
	CHECK(ctx, pci_set_owner(d, PCI_OWNER_GUEST, 2) == -EBUSY, "second guest not refused");
	CHECK(ctx, pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0) == -EBUSY,
	      "hypervisor took a guest's function");
	pci_release(d);
	CHECK(ctx, d->owner.kind == PCI_OWNER_NONE, "release did not clear the owner");
}

static struct pci_dev *first_sriov_pf(void)
{
	struct pci_dev *d;

	pci_for_each_dev(d) if (d->present && d->sriov) return d;
	return NULL;
}

SELFTEST(st_sriov_enabled, "sriov", "vfs-enabled")
{
	struct pci_dev *pf = first_sriov_pf();
	unsigned pfs = 0;

	if (!pf) {
		st_skip(ctx, "no SR-IOV capable function on this machine");
		return;
	}
	pci_for_each_dev(pf)
	{
		const struct pci_sriov *iov = pf->sriov;
		u16 ctrl;

		if (!pf->present || !iov)
			continue;
		pfs++;
		ctrl = pci_read16(pf, iov->pos + SRIOV_CTRL);
		CHECK(ctx, iov->enabled && (ctrl & SRIOV_CTRL_VFE) && (ctrl & SRIOV_CTRL_MSE),
		      "%02x:%02x.%x VF Enable/MSE not set (ctrl %#x)", pf->bus, pf->dev, pf->fn,
		      ctrl);
		if (pf->fn == 0)
			CHECK(ctx, !!(ctrl & SRIOV_CTRL_ARI) == pci_sriov_ari_hierarchy(pf),
			      "%02x:%02x.%x ARI Capable Hierarchy %s, port above %s ARI", pf->bus,
			      pf->dev, pf->fn, ctrl & SRIOV_CTRL_ARI ? "set" : "clear",
			      pci_sriov_ari_hierarchy(pf) ? "forwards" : "does not forward");
		CHECK(ctx, iov->num_vfs == pci_sriov_configured_vfs(pf),
		      "%02x:%02x.%x has %u VFs, configuration asks %u", pf->bus, pf->dev, pf->fn,
		      iov->num_vfs, pci_sriov_configured_vfs(pf));
		for (unsigned i = 0; i < iov->num_vfs; i++)
			CHECK(ctx,
			      pci_sriov_vf(pf, i) &&
				      pci_find_rid(pf->seg, pci_sriov_vf(pf, i)->rid),
			      "VF %u of %02x:%02x.%x not in the device list", i, pf->bus, pf->dev,
			      pf->fn);
	}
	CHECK(ctx, pfs > 0, "no PF");
}

/* VF config space answers: vendor/device read FFFF as SR-IOV requires, the class and the
 * capability list are the VF's own. */
SELFTEST(st_sriov_vf_config, "sriov", "vf-config-reachable")
{
	struct pci_dev *pf = first_sriov_pf();

	if (!pf || !pf->sriov->num_vfs) {
		st_skip(ctx, "no VF enabled");
		return;
	}
	pci_for_each_dev(pf)
	{
		if (!pf->present || !pf->sriov)
			continue;
		for (unsigned i = 0; i < pf->sriov->num_vfs; i++) {
			struct pci_dev *vf = pci_sriov_vf(pf, i);
			u32 cr = pci_read32(vf, PCI_CLASS_REVISION);

			CHECK(ctx, pci_read32(vf, PCI_VENDOR_ID) == 0xffffffffu,
			      "VF %02x:%02x.%x vendor/device read %#x", vf->bus, vf->dev, vf->fn,
			      pci_read32(vf, PCI_VENDOR_ID));
			CHECK(ctx, cr != 0xffffffffu && FIELD_GET(PCI_CLASS_MASK, cr) == pf->class,
			      "VF %02x:%02x.%x class/revision %#x (PF class %06x)", vf->bus,
			      vf->dev, vf->fn, cr, pf->class);
			CHECK(ctx, vf->cap_msix && pci_cap_find(vf, PCI_CAP_MSIX) == vf->cap_msix,
			      "VF %02x:%02x.%x has no MSI-X capability", vf->bus, vf->dev, vf->fn);
		}
	}
}

SELFTEST(st_sriov_vf_bars, "sriov", "vf-bars-placed")
{
	struct pci_dev *pf = first_sriov_pf();

	if (!pf || !pf->sriov->num_vfs) {
		st_skip(ctx, "no VF enabled");
		return;
	}
	pci_for_each_dev(pf)
	{
		const struct pci_sriov *iov = pf->sriov;

		if (!pf->present || !iov)
			continue;
		for (unsigned b = 0; b < PCI_NR_VF_BARS; b++) {
			const struct pci_bar *vb = &iov->vf_bar[b];
			u64 end = vb->base + vb->size * iov->num_vfs - 1;
			u64 reg;

			if (vb->type == PCI_BAR_NONE)
				continue;
			reg = pci_read32(pf, iov->pos + SRIOV_BAR0 + 4 * b) & PCI_BAR_MEM_MASK;
			if (vb->type == PCI_BAR_MEM64)
				reg |= (u64)pci_read32(pf, iov->pos + SRIOV_BAR0 + 4 * b + 4) << 32;
			CHECK(ctx, reg == vb->base && vb->base,
			      "VF BAR%u register %#llx, placed %#llx", b, (unsigned long long)reg,
			      (unsigned long long)vb->base);
			CHECK(ctx, !pci_sriov_vf_bars_below_4g(pf) || end <= 0xffffffffu,
			      "VF BAR%u ends at %#llx, above 4 GiB, on a device that needs it "
			      "below",
			      b, (unsigned long long)end);
			if (pf->parent) {
				const struct pci_window *m = &pf->parent->mem_window;
				const struct pci_window *p = &pf->parent->pref_window;
				bool in = (pci_window_open(m) && vb->base >= m->base &&
					   end <= m->limit) ||
					  (pci_window_open(p) && vb->base >= p->base &&
					   end <= p->limit);

				CHECK(ctx, in, "VF BAR%u %#llx-%#llx outside the bridge's windows",
				      b, (unsigned long long)vb->base, (unsigned long long)end);
			}
		}
	}
}

/* VF Enable off (and the 1 s wait), then on again: the same VFs come back at the same
 * places. */
SELFTEST_ORDER(st_sriov_cycle, "sriov", "disable-enable", 60)
{
	struct pci_dev *pf = first_sriov_pf();
	unsigned n;
	u64 bar0;
	u16 rid0;

	if (!pf || !pf->sriov->num_vfs) {
		st_skip(ctx, "no VF enabled");
		return;
	}
	n = pf->sriov->num_vfs;
	bar0 = pci_sriov_vf(pf, 0)->bar[0].base;
	rid0 = pci_sriov_vf(pf, 0)->rid;
	CHECK(ctx, pci_sriov_disable(pf) == 0, "disable failed");
	CHECK(ctx, !(pci_read16(pf, pf->sriov->pos + SRIOV_CTRL) & SRIOV_CTRL_VFE),
	      "VF Enable still set");
	CHECK(ctx, !pci_find_rid(pf->seg, rid0), "VF 0 still listed after disable");
	CHECK(ctx, pci_sriov_enable(pf, pf->sriov->total_vfs + 1) == -EINVAL,
	      "NumVFs > TotalVFs accepted");
	CHECK(ctx, pci_sriov_enable(pf, n) == 0, "re-enable failed");
	CHECK(ctx,
	      pci_sriov_vf(pf, 0) && pci_sriov_vf(pf, 0)->rid == rid0 &&
		      pci_sriov_vf(pf, 0)->bar[0].base == bar0,
	      "VF 0 came back elsewhere");
	CHECK(ctx, pci_read32(pci_sriov_vf(pf, 0), PCI_CLASS_REVISION) != 0xffffffffu,
	      "VF 0 config space not reachable after re-enable");
}

/* FLR of a VF: it comes back answering config requests, with its Command register reset. */
SELFTEST(st_pci_flr, "pci", "vf-flr")
{
	struct pci_dev *pf = first_sriov_pf(), *vf;
	int err;

	if (!pf || !pf->sriov->num_vfs) {
		st_skip(ctx, "no VF enabled");
		return;
	}
	vf = pci_sriov_vf(pf, pf->sriov->num_vfs - 1);
	if (!vf->cap_pcie || !(pci_read32(vf, vf->cap_pcie + 4) & BIT(28))) {
		st_skip(ctx, "VF %02x:%02x.%x has no FLR capability", vf->bus, vf->dev, vf->fn);
		return;
	}
	pci_write16(vf, PCI_COMMAND, pci_read16(vf, PCI_COMMAND) | PCI_COMMAND_MEMORY);
	CHECK(ctx, pci_read16(vf, PCI_COMMAND) & PCI_COMMAND_MEMORY, "VF Command not writable");
	err = pci_flr(vf);
	CHECK(ctx, err == 0, "FLR failed (%d)", err);
	CHECK(ctx, !(pci_read16(vf, PCI_COMMAND) & PCI_COMMAND_MEMORY),
	      "Command register survived FLR (%#x)", pci_read16(vf, PCI_COMMAND));
	CHECK(ctx, FIELD_GET(PCI_CLASS_MASK, pci_read32(vf, PCI_CLASS_REVISION)) == vf->class,
	      "VF class changed after FLR");
	CHECK(ctx, pci_flr(pci_find_bdf(0, 0, 0, 0)) == -ENOTSUP,
	      "FLR of the host bridge not refused");
}
