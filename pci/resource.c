/* Memory address space below the host bridges: what is taken (BARs, bridge windows, VF BAR
 * ranges), and allocation inside a bridge's window, growing windows up the hierarchy. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"

struct aperture {
	u16 seg;
	u64 base, limit;
};

static struct aperture apertures[PCI_MAX_APERTURES];
static unsigned nr_apertures;

void pci_root_apertures_reset(void)
{
	nr_apertures = 0;
}

int pci_root_aperture_add(u16 seg, u64 base, u64 limit)
{
	if (limit < base)
		return pr_err(-EINVAL, "root aperture %#llx-%#llx is empty\n",
			      (unsigned long long)base, (unsigned long long)limit);
	if (nr_apertures == PCI_MAX_APERTURES)
		return pr_err(-ENOSPC, "more than %u root apertures\n", PCI_MAX_APERTURES);
	apertures[nr_apertures++] = (struct aperture){seg, base, limit};
	return 0;
}

static bool overlaps(u64 a, u64 asize, u64 b, u64 bsize)
{
	return asize && bsize && a < b + bsize && b < a + asize;
}

/* Whether [base, base+size) collides with anything decoded on the secondary side of `br`
 * (the root buses of every segment when NULL): BARs and VF BAR ranges of the functions there (those
 * of `self`'s VFs excepted) and the windows of the bridges there. Returns the end (exclusive) of
 * the highest colliding range, or 0 when the range is free. */
static u64 collision(u16 seg, const struct pci_dev *br, const struct pci_dev *self, u64 base,
		     u64 size, u64 *first_start)
{
	u64 end = 0, start = ~0ULL;

#define TAKEN(b, sz)                                                                               \
	do {                                                                                       \
		if (overlaps(base, size, (b), (sz))) {                                             \
			end = MAX(end, (b) + (sz));                                                \
			start = MIN(start, (u64)(b));                                              \
		}                                                                                  \
	} while (0)
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		const struct pci_dev *d = pci_dev_at(i);

		/* Root buses of all segments decode the one CPU address space. */
		if (!d->present || (br && d->seg != seg) || d->parent != br || d->is_vf)
			continue;
		for (unsigned b = 0; b < PCI_NR_BARS; b++)
			if (d->bar[b].type != PCI_BAR_NONE && d->bar[b].type != PCI_BAR_IO &&
			    d->bar[b].base)
				TAKEN(d->bar[b].base, d->bar[b].size);
		if (d->header_type == 1) {
			if (pci_window_open(&d->mem_window))
				TAKEN(d->mem_window.base,
				      d->mem_window.limit - d->mem_window.base + 1);
			if (pci_window_open(&d->pref_window))
				TAKEN(d->pref_window.base,
				      d->pref_window.limit - d->pref_window.base + 1);
		}
		if (d->sriov && d != self)
			for (unsigned b = 0; b < PCI_NR_VF_BARS; b++) {
				const struct pci_bar *vb = &d->sriov->vf_bar[b];

				if (vb->type != PCI_BAR_NONE && vb->base)
					TAKEN(vb->base, vb->size * d->sriov->total_vfs);
			}
	}
#undef TAKEN
	if (first_start)
		*first_start = start;
	return end;
}

static u64 collision_end(u16 seg, const struct pci_dev *br, const struct pci_dev *self, u64 base,
			 u64 size)
{
	return collision(seg, br, self, base, size, NULL);
}

static bool range_taken(u16 seg, const struct pci_dev *br, const struct pci_dev *self, u64 base,
			u64 size)
{
	return collision_end(seg, br, self, base, size) != 0;
}

/* The windows of `br` an allocation of this kind may use, best first: a prefetchable
 * request prefers the prefetchable window unless that one lies beyond `max`. */
static unsigned candidate_windows(struct pci_dev *br, bool pref, u64 max, struct pci_window *ws[2])
{
	unsigned n = 0;
	bool pref_ok = !pci_window_open(&br->pref_window) || br->pref_window.limit <= max;

	if (pref && pref_ok)
		ws[n++] = &br->pref_window;
	ws[n++] = &br->mem_window;
	return n;
}

static bool inside_root(u16 seg, u64 base, u64 size)
{
	for (unsigned i = 0; i < nr_apertures; i++)
		if (apertures[i].seg == seg && base >= apertures[i].base &&
		    base + size - 1 <= apertures[i].limit)
			return true;
	return false;
}

bool pci_mmio_range_usable(u16 seg, struct pci_dev *br, const struct pci_dev *self, u64 base,
			   u64 size, bool pref)
{
	if (!size || base + size < base)
		return false;
	if (br) {
		const struct pci_window *w = &br->mem_window;

		if (pref && pci_window_open(&br->pref_window) && base >= br->pref_window.base &&
		    base + size - 1 <= br->pref_window.limit)
			w = &br->pref_window;
		if (!pci_window_open(w) || base < w->base || base + size - 1 > w->limit)
			return false;
	} else if (!inside_root(seg, base, size)) {
		return false;
	}
	return !range_taken(seg, br, self, base, size);
}

/* Lowest aligned place for `size` bytes in [lo, hi] that nothing on br's bus uses. */
static bool find_gap(u16 seg, const struct pci_dev *br, u64 lo, u64 hi, u64 size, u64 align,
		     u64 *out)
{
	u64 cand = ALIGN_UP(lo, align);

	while (cand >= lo && cand + size > cand && cand + size - 1 <= hi) {
		u64 end = collision_end(seg, br, NULL, cand, size);

		if (!end) {
			*out = cand;
			return true;
		}
		cand = ALIGN_UP(end, align);
	}
	return false;
}

/* Highest aligned place for `size` bytes in [lo, hi]: on the root bus, allocations go top
 * down like firmware's, away from the top of RAM. */
static bool find_gap_top(u16 seg, u64 lo, u64 hi, u64 size, u64 align, u64 *out)
{
	u64 cand, start;

	if (hi - lo + 1 < size)
		return false;
	cand = ALIGN_DOWN(hi - size + 1, align);
	while (cand >= lo && cand + size - 1 <= hi) {
		if (!collision(seg, NULL, NULL, cand, size, &start)) {
			*out = cand;
			return true;
		}
		if (start < lo + size)
			return false;
		cand = ALIGN_DOWN(start - size, align);
	}
	return false;
}

static int ensure_forwarded(u16 seg, struct pci_dev *br, u64 base, u64 limit, bool pref, u64 max);
static int alloc_mmio(u16 seg, struct pci_dev *br, u64 size, u64 align, u64 max, bool pref,
		      u64 *out);

/* Makes `br` forward [base, limit] in the window `w`: the window opens there or grows to
 * cover it, after the parent is made to forward the new part. */
static int grow_window(u16 seg, struct pci_dev *br, struct pci_window *w, u64 base, u64 limit,
		       u64 max)
{
	bool pref = w == &br->pref_window;
	u64 nb = base, nl = limit;
	int err;

	if (pci_window_open(w)) {
		nb = MIN(w->base, base);
		nl = MAX(w->limit, limit);
	}
	if (pci_window_open(w)) {
		if (nb < w->base) {
			if (range_taken(seg, br->parent, br, nb, w->base - nb))
				return -ENOSPC;
			err = ensure_forwarded(seg, br->parent, nb, w->base - 1, pref, max);
			if (err)
				return err;
		}
		if (nl > w->limit) {
			if (range_taken(seg, br->parent, br, w->limit + 1, nl - w->limit))
				return -ENOSPC;
			err = ensure_forwarded(seg, br->parent, w->limit + 1, nl, pref, max);
			if (err)
				return err;
		}
	} else {
		if (range_taken(seg, br->parent, br, nb, nl - nb + 1))
			return -ENOSPC;
		err = ensure_forwarded(seg, br->parent, nb, nl, pref, max);
		if (err)
			return err;
	}
	err = pci_write_mem_window(br, pref, nb, nl);
	if (!err)
		pr_info("%04x:%02x:%02x.%x: %s window now %#llx-%#llx\n", br->seg, br->bus, br->dev,
			br->fn, pref ? "prefetchable" : "memory", (unsigned long long)nb,
			(unsigned long long)nl);
	return err;
}

/* [base, limit] must reach the secondary side of `br` (NULL: be inside a root aperture). */
static int ensure_forwarded(u16 seg, struct pci_dev *br, u64 base, u64 limit, bool pref, u64 max)
{
	struct pci_window *ws[2];
	unsigned n;

	if (!br)
		return inside_root(seg, base, limit - base + 1) ? 0 : -ENOSPC;
	n = candidate_windows(br, pref, max, ws);
	for (unsigned i = 0; i < n; i++)
		if (pci_window_open(ws[i]) && base >= ws[i]->base && limit <= ws[i]->limit)
			return 0;
	for (unsigned i = 0; i < n; i++)
		if (!grow_window(seg, br, ws[i], base, limit, max))
			return 0;
	return -ENOSPC;
}

/* Where a window of `br` could grow to hold `size` more bytes: just above what is used at
 * its top, or anywhere in the parent when the window is closed. */
static int alloc_by_growing(u16 seg, struct pci_dev *br, struct pci_window *w, u64 size, u64 align,
			    u64 max, bool pref, u64 *out)
{
	u64 wa = MAX(align, PCI_WINDOW_MEM_ALIGN), start, limit;
	int err;

	if (pci_window_open(w)) {
		/* Past the last used byte of the window. */
		u64 end;

		start = ALIGN_UP(w->base, align);
		while (start <= w->limit &&
		       (end = collision_end(seg, br, NULL, start, w->limit - start + 1)))
			start = ALIGN_UP(end, align);
		limit = ALIGN_UP(start + size, PCI_WINDOW_MEM_ALIGN) - 1;
		if (limit <= max && !grow_window(seg, br, w, w->base, limit, max)) {
			*out = start;
			return 0;
		}
	}
	/* A fresh window (or a moved one, when nothing of the old window is in use). */
	if (pci_window_open(w) && range_taken(seg, br, NULL, w->base, w->limit - w->base + 1))
		return -ENOSPC;
	if (alloc_mmio(seg, br->parent, ALIGN_UP(size, PCI_WINDOW_MEM_ALIGN), wa, max, pref,
		       &start))
		return -ENOSPC;
	*w = (struct pci_window){1, 0};
	err = pci_write_mem_window(br, w == &br->pref_window, start,
				   start + ALIGN_UP(size, PCI_WINDOW_MEM_ALIGN) - 1);
	if (err)
		return err;
	pr_info("%04x:%02x:%02x.%x: %s window opened at %#llx-%#llx\n", br->seg, br->bus, br->dev,
		br->fn, w == &br->pref_window ? "prefetchable" : "memory",
		(unsigned long long)w->base, (unsigned long long)w->limit);
	*out = start;
	return 0;
}

static int alloc_mmio(u16 seg, struct pci_dev *br, u64 size, u64 align, u64 max, bool pref,
		      u64 *out)
{
	struct pci_window *ws[2];
	unsigned n;

	if (!br) {
		for (unsigned i = nr_apertures; i-- > 0;) {
			const struct aperture *a = &apertures[i];

			if (a->seg == seg && a->base <= max &&
			    find_gap_top(seg, a->base, MIN(a->limit, max), size, align, out))
				return 0;
		}
		return -ENOSPC;
	}
	n = candidate_windows(br, pref, max, ws);
	for (unsigned i = 0; i < n; i++)
		if (pci_window_open(ws[i]) && ws[i]->base <= max &&
		    find_gap(seg, br, ws[i]->base, MIN(ws[i]->limit, max), size, align, out))
			return 0;
	for (unsigned i = 0; i < n; i++)
		if (alloc_by_growing(seg, br, ws[i], size, align, max, pref, out) == 0)
			return 0;
	return -ENOSPC;
}

int pci_alloc_mmio(u16 seg, struct pci_dev *br, u64 size, u64 align, u64 max, bool pref, u64 *out)
{
	if (!size || !align || (align & (align - 1)))
		return pr_err(-EINVAL, "allocation of %#llx bytes with alignment %#llx\n",
			      (unsigned long long)size, (unsigned long long)align);
	if (alloc_mmio(seg, br, size, align, max, pref, out) == 0)
		return 0;
	if (!br)
		return pr_err(-ENOSPC,
			      "no room for %#llx bytes (aligned %#llx, below %#llx) on the root "
			      "bus of segment %u\n",
			      (unsigned long long)size, (unsigned long long)align,
			      (unsigned long long)max + 1, seg);
	return pr_err(
		-ENOSPC,
		"no room for %#llx bytes (aligned %#llx, below %#llx) behind %04x:%02x:%02x.%x, "
		"even growing the windows above it\n",
		(unsigned long long)size, (unsigned long long)align, (unsigned long long)max + 1,
		br->seg, br->bus, br->dev, br->fn);
}
