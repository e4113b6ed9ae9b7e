/* A guest's devices' memory BARs in its nested tables: mapped while the guest's Memory
 * Space Enable is on and no reset of its own is in progress, answered by moat otherwise
 * (docs/passthrough.md, "Memory decode and resets"). On a VF the Command register's Memory
 * Space Enable is not what the hardware obeys (SR-IOV: the PF's VF MSE is), so the
 * guest's is emulated here, per guest. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "vmm/npt_flush.h"
#include "vmm/vbar.h"

#define NPT_MMIO_FLAGS (PT_RW | PT_USER | FIELD_PREP(PT_MT, PT_MT_UC))

static unsigned slot_of(const struct guest *g, const struct vdev *v)
{
	return (unsigned)(v - g->dev) + 1;
}

bool vbar_msix_page(const struct pci_dev *d, unsigned b, u64 off)
{
	const struct pci_msix_info *m = &d->msix;
	u64 tab_end = m->table_offset + (u64)m->table_size * 16;
	u64 pba_end = m->pba_offset + ALIGN_UP((u64)m->table_size, 64) / 8;

	if (!d->cap_msix)
		return false;
	if (m->table_bir == b && off + PAGE_SIZE > ALIGN_DOWN((u64)m->table_offset, PAGE_SIZE) &&
	    off < tab_end)
		return true;
	return m->pba_bir == b && off + PAGE_SIZE > ALIGN_DOWN((u64)m->pba_offset, PAGE_SIZE) &&
	       off < pba_end;
}

int vbar_check(struct guest *g, const struct vdev *v)
{
	const struct pci_dev *d = v->pdev;

	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		if (v->bar_gpa[b] && d->bar[b].size < PAGE_SIZE)
			return pr_err(-EINVAL,
				      "guest %s: BAR%u of %04x:%02x:%02x.%x is smaller than a "
				      "page\n",
				      g->cfg.name, b, d->seg, d->bus, d->dev, d->fn);
	return 0;
}

bool vbar_decoding(const struct vdev *v)
{
	return (v->command & PCI_COMMAND_MEMORY) && v->flr_state != VFLR_RESETTING;
}

static int map_bars(struct guest *g, struct vdev *v)
{
	const struct pci_dev *d = v->pdev;

	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		if (!v->bar_gpa[b])
			continue;
		for (u64 off = 0; off < d->bar[b].size; off += PAGE_SIZE) {
			int err;

			if (vbar_msix_page(d, b, off))
				continue;
			err = pt_map(&g->npt, v->bar_gpa[b] + off, d->bar[b].base + off, PAGE_SIZE,
				     NPT_MMIO_FLAGS);
			if (err)
				return pr_err(err,
					      "guest %s: mapping BAR%u of 00:%02x.0 in the nested "
					      "tables failed\n",
					      g->cfg.name, b, slot_of(g, v));
		}
	}
	return 0;
}

static void unmap_bars(struct guest *g, struct vdev *v)
{
	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		if (v->bar_gpa[b])
			for (u64 off = 0; off < v->pdev->bar[b].size; off += PAGE_SIZE)
				if (!vbar_msix_page(v->pdev, b, off))
					pt_unmap(&g->npt, v->bar_gpa[b] + off, PAGE_SIZE);
}

int vbar_sync(struct guest *g, struct vdev *v)
{
	bool want = vbar_decoding(v);
	int err;

	if (want == v->bars_mapped)
		return 0;
	if (want) {
		err = map_bars(g, v);
		if (err) {
			unmap_bars(g, v);
			return err;
		}
		__atomic_store_n(&v->bars_mapped, true, __ATOMIC_RELEASE);
		return 0;
	}
	/* Out of the tables, then out of every CPU's TLB, before the caller goes on (a reset
	 * starts after this). */
	__atomic_store_n(&v->bars_mapped, false, __ATOMIC_RELEASE);
	unmap_bars(g, v);
	return npt_flush_guest(g);
}

void vbar_release(struct guest *g, struct vdev *v)
{
	unmap_bars(g, v);
	v->bars_mapped = false;
}

struct vdev *vbar_region(struct guest *g, u64 gpa, unsigned *bar)
{
	for (u32 i = 0; i < g->nr_dev; i++) {
		struct vdev *v = &g->dev[i];

		for (unsigned b = 0; b < PCI_NR_BARS; b++) {
			u64 off = gpa - v->bar_gpa[b];

			if (!v->bar_gpa[b] || gpa < v->bar_gpa[b] || off >= v->pdev->bar[b].size ||
			    vbar_msix_page(v->pdev, b, ALIGN_DOWN(off, PAGE_SIZE)))
				continue;
			if (bar)
				*bar = b;
			return v;
		}
	}
	return NULL;
}

void vbar_off_access(struct guest *g, struct vdev *v, u64 gpa, bool write, u32 *val)
{
	unsigned b = 0, dropped;
	const char *why;
	u64 n;

	vbar_region(g, gpa, &b);
	spin_lock(&v->lock);
	why = v->flr_state == VFLR_RESETTING && time_us() < v->flr_done_us
		      ? "in its function level reset"
		      : "with memory decode off";
	n = write ? ++v->bar_off_writes : ++v->bar_off_reads;
	if (!write)
		*val = 0xffffffff;
	if (!v->bar_off_log.window_us) {
		v->bar_off_log.window_us = VBAR_LOG_US;
		v->bar_off_log.burst = VBAR_LOG_BURST;
	}
	if (ratelimit_allow(&v->bar_off_log, time_us(), &dropped))
		pr_info("guest %s: %s BAR%u+%#llx of 00:%02x.0 %s: %s (%llu so far)%s\n",
			g->cfg.name, write ? "write to" : "read of", b,
			(unsigned long long)(gpa - v->bar_gpa[b]), slot_of(g, v), why,
			write ? "dropped" : "all ones", (unsigned long long)n,
			dropped ? " (some not logged)" : "");
	spin_unlock(&v->lock);
}
