/* Generic multi-level page-table engine (see include/moat/pgtable.h). */
#include <moat/errno.h>
#include <moat/pgtable.h>
#include <moat/string.h>

static u64 *table_ptr(const struct pgtable *pt, u64 pa)
{
	return pt->ops->p2v(pt->ops->ctx, pa);
}

static unsigned index_at(u64 va, unsigned level)
{
	return (unsigned)((va >> PT_LEVEL_SHIFT(level)) & (PT_ENTRIES - 1));
}

static void write_entry(struct pgtable *pt, u64 *slot, u64 val)
{
	*(volatile u64 *)slot = val;
	if (pt->ops->sync)
		pt->ops->sync(pt->ops->ctx, slot, sizeof(*slot));
}

static u64 new_table(struct pgtable *pt)
{
	u64 pa = pt->ops->alloc_table(pt->ops->ctx);

	if (!pa)
		return 0;
	memset(table_ptr(pt, pa), 0, PAGE_SIZE);
	if (pt->ops->sync)
		pt->ops->sync(pt->ops->ctx, table_ptr(pt, pa), PAGE_SIZE);
	pt->nr_tables++;
	return pa;
}

int pt_init(struct pgtable *pt, const struct pt_format *fmt, const struct pt_ops *ops,
	    unsigned levels, unsigned max_leaf_level)
{
	if (levels < 2 || levels > 5 || max_leaf_level >= levels)
		return -EINVAL;
	pt->fmt = fmt;
	pt->ops = ops;
	pt->levels = levels;
	pt->max_leaf_level = max_leaf_level;
	pt->nr_tables = 0;
	pt->root = new_table(pt);
	return pt->root ? 0 : -ENOMEM;
}

static bool is_leaf_entry(const struct pgtable *pt, u64 e, unsigned level)
{
	return level == 0 || pt->fmt->is_leaf(e, level);
}

/* Replaces the large page in *slot (at level > 0) by a table of pages one level down
 * mapping the same range with the same attributes. */
static int split_leaf(struct pgtable *pt, u64 *slot, unsigned level)
{
	u64 e = *slot, base = pt->fmt->addr(e, level);
	u32 flags = pt->fmt->flags(e, level);
	u64 tpa = new_table(pt);
	u64 *t;

	if (!tpa)
		return -ENOMEM;
	t = table_ptr(pt, tpa);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = pt->fmt->leaf(base + i * PT_LEVEL_SIZE(level - 1), level - 1, flags);
	if (pt->ops->sync)
		pt->ops->sync(pt->ops->ctx, t, PAGE_SIZE);
	write_entry(pt, slot, pt->fmt->table(tpa));
	return 0;
}

/* Returns the slot for va at `target` level, creating or splitting tables above it. */
static u64 *walk_create(struct pgtable *pt, u64 va, unsigned target, int *err)
{
	u64 *t = table_ptr(pt, pt->root);

	for (unsigned level = pt->levels - 1; level > target; level--) {
		u64 *slot = &t[index_at(va, level)];

		if (!pt->fmt->present(*slot)) {
			u64 tpa = new_table(pt);

			if (!tpa) {
				*err = -ENOMEM;
				return NULL;
			}
			write_entry(pt, slot, pt->fmt->table(tpa));
		} else if (is_leaf_entry(pt, *slot, level)) {
			*err = -EEXIST;
			return NULL;
		}
		t = table_ptr(pt, pt->fmt->addr(*slot, level));
	}
	return &t[index_at(va, target)];
}

static unsigned best_level(const struct pgtable *pt, u64 va, u64 pa, u64 left)
{
	unsigned l = pt->max_leaf_level;

	while (l > 0 && (!IS_ALIGNED(va | pa, PT_LEVEL_SIZE(l)) || left < PT_LEVEL_SIZE(l)))
		l--;
	return l;
}

int pt_map(struct pgtable *pt, u64 va, u64 pa, u64 size, u32 flags)
{
	u64 limit = PT_LEVEL_SIZE(pt->levels);
	int err = 0;

	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE) || size == 0)
		return -EINVAL;
	if (va >= limit || size > limit - va)
		return -ERANGE;
	while (size) {
		unsigned level = best_level(pt, va, pa, size);
		u64 *slot = walk_create(pt, va, level, &err);

		if (!slot)
			return err;
		if (pt->fmt->present(*slot))
			return -EEXIST;
		write_entry(pt, slot, pt->fmt->leaf(pa, level, flags));
		va += PT_LEVEL_SIZE(level);
		pa += PT_LEVEL_SIZE(level);
		size -= PT_LEVEL_SIZE(level);
	}
	return 0;
}

static int unmap_in(struct pgtable *pt, u64 tpa, unsigned level, u64 va, u64 end)
{
	u64 *t = table_ptr(pt, tpa);

	while (va < end) {
		u64 *slot = &t[index_at(va, level)];
		u64 span = PT_LEVEL_SIZE(level);
		u64 next = ALIGN_DOWN(va, span) + span;
		u64 stop = next < end || next == 0 ? next : end;
		bool whole = IS_ALIGNED(va, span) && stop - va == span;
		int err;

		if (!pt->fmt->present(*slot)) {
			/* nothing mapped here */
		} else if (is_leaf_entry(pt, *slot, level)) {
			if (whole) {
				write_entry(pt, slot, 0);
			} else {
				err = split_leaf(pt, slot, level);
				if (err)
					return err;
				err = unmap_in(pt, pt->fmt->addr(*slot, level), level - 1, va,
					       stop);
				if (err)
					return err;
			}
		} else {
			err = unmap_in(pt, pt->fmt->addr(*slot, level), level - 1, va, stop);
			if (err)
				return err;
		}
		if (next == 0)
			break;
		va = next;
	}
	return 0;
}

int pt_unmap(struct pgtable *pt, u64 va, u64 size)
{
	u64 limit = PT_LEVEL_SIZE(pt->levels);

	if (!IS_ALIGNED(va | size, PAGE_SIZE) || size == 0)
		return -EINVAL;
	if (va >= limit || size > limit - va)
		return -ERANGE;
	return unmap_in(pt, pt->root, pt->levels - 1, va, va + size);
}

void pt_view(struct pgtable *pt, const struct pt_format *fmt, const struct pt_ops *ops,
	     unsigned levels, unsigned max_leaf_level, u64 root)
{
	*pt = (struct pgtable){.fmt = fmt,
			       .ops = ops,
			       .levels = levels,
			       .max_leaf_level = max_leaf_level,
			       .root = root};
}

static bool reserved_entry(const struct pgtable *pt, u64 e, unsigned level)
{
	if (pt->fmt->reserved && pt->fmt->reserved(e, level))
		return true;
	return level > pt->max_leaf_level && is_leaf_entry(pt, e, level);
}

int pt_lookup(const struct pgtable *pt, u64 va, u64 *pa, u32 *flags, unsigned *level)
{
	u64 *t = table_ptr(pt, pt->root);

	if (va >= PT_LEVEL_SIZE(pt->levels))
		return -ENOENT;
	for (unsigned l = pt->levels - 1;; l--) {
		u64 e;

		if (!t)
			return -EFAULT;
		e = t[index_at(va, l)];
		if (!pt->fmt->present(e))
			return -ENOENT;
		if (reserved_entry(pt, e, l))
			return -EINVAL;
		if (is_leaf_entry(pt, e, l)) {
			if (pa)
				*pa = pt->fmt->addr(e, l) + (va & (PT_LEVEL_SIZE(l) - 1));
			if (flags)
				*flags = pt->fmt->flags(e, l);
			if (level)
				*level = l;
			return 0;
		}
		t = table_ptr(pt, pt->fmt->addr(e, l));
	}
}

static void walk_tables(const struct pgtable *pt, u64 tpa, unsigned level, unsigned *counts,
			bool free_them)
{
	u64 *t = table_ptr(pt, tpa);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (!pt->fmt->present(t[i]))
			continue;
		if (is_leaf_entry(pt, t[i], level)) {
			if (counts)
				counts[level]++;
		} else {
			walk_tables(pt, pt->fmt->addr(t[i], level), level - 1, counts, free_them);
		}
	}
	if (free_them)
		pt->ops->free_table(pt->ops->ctx, tpa);
}

void pt_count_leaves(const struct pgtable *pt, unsigned *counts)
{
	memset(counts, 0, sizeof(*counts) * pt->levels);
	walk_tables(pt, pt->root, pt->levels - 1, counts, false);
}

void pt_destroy(struct pgtable *pt)
{
	if (!pt->root)
		return;
	walk_tables(pt, pt->root, pt->levels - 1, NULL, true);
	pt->root = 0;
	pt->nr_tables = 0;
}
