/* One page-table engine for the hypervisor's own tables, EPT, NPT, VT-d second-level
 * tables and the walk of a guest's own tables: the formats differ in bits (struct
 * pt_format), not in walking.
 *
 * Levels count from the leaf: level 0 maps 4 KiB, level 1 2 MiB, level 2 1 GiB, ...
 * A table of `levels` levels translates addresses below 2^(12 + 9 * levels). */
#ifndef MOAT_PGTABLE_H
#define MOAT_PGTABLE_H

#include <moat/bits.h>

#define PT_LEVEL_SHIFT(l) (12u + 9u * (l))
#define PT_LEVEL_SIZE(l) (1ULL << PT_LEVEL_SHIFT(l))
#define PT_ENTRIES 512

/* Format-independent mapping attributes. */
#define PT_R BIT(0)
#define PT_W BIT(1)
#define PT_X BIT(2)
#define PT_USER BIT(3)
#define PT_GLOBAL BIT(4)
#define PT_MT GENMASK(7, 5) /* memory type */
#define PT_MT_WB 0u
#define PT_MT_UC 1u
#define PT_MT_WC 2u
#define PT_MT_WT 3u
#define PT_RW (PT_R | PT_W)
#define PT_RWX (PT_R | PT_W | PT_X)

struct pt_format {
	const char *name;
	/* Entry mapping `pa` at `level` (level > 0: a large page). */
	u64 (*leaf)(u64 pa, unsigned level, u32 flags);
	/* Entry pointing at the next-level table at `pa`. */
	u64 (*table)(u64 pa);
	bool (*present)(u64 pte);
	/* Whether a present entry at level > 0 maps a large page rather than a table. */
	bool (*is_leaf)(u64 pte, unsigned level);
	u64 (*addr)(u64 pte, unsigned level);
	u32 (*flags)(u64 pte, unsigned level);
	/* Whether a present entry sets bits the format reserves at `level` (may be NULL). */
	bool (*reserved)(u64 pte, unsigned level);
};

/* Where tables come from. Tables are 4 KiB, zeroed by the engine. */
struct pt_ops {
	u64 (*alloc_table)(void *ctx); /* physical address, 0 on failure */
	void (*free_table)(void *ctx, u64 pa);
	void *(*p2v)(void *ctx, u64 pa);	      /* physical -> pointer the engine may use */
	void (*sync)(void *ctx, void *p, size_t len); /* after an entry write (may be NULL) */
	void *ctx;
};

struct pgtable {
	const struct pt_format *fmt;
	const struct pt_ops *ops;
	unsigned levels;	 /* 3, 4 or 5 */
	unsigned max_leaf_level; /* 0: 4K only, 1: up to 2M, 2: up to 1G */
	u64 root;		 /* physical address of the top table */
	unsigned nr_tables;	 /* tables currently allocated, root included */
};

int pt_init(struct pgtable *pt, const struct pt_format *fmt, const struct pt_ops *ops,
	    unsigned levels, unsigned max_leaf_level);
/* Maps [va, va+size) to [pa, pa+size) with the largest pages alignment allows.
 * -EEXIST if any part is already mapped; nothing is changed for that part. */
int pt_map(struct pgtable *pt, u64 va, u64 pa, u64 size, u32 flags);
/* Unmaps [va, va+size), splitting large pages that straddle the range. Unmapped holes
 * inside the range are fine. */
int pt_unmap(struct pgtable *pt, u64 va, u64 size);
/* A table someone else built (a guest's own), rooted at `root`, for pt_lookup only. */
void pt_view(struct pgtable *pt, const struct pt_format *fmt, const struct pt_ops *ops,
	     unsigned levels, unsigned max_leaf_level, u64 root);
/* Translates va. Returns 0 and fills pa/flags/level (any may be NULL); -ENOENT if va is
 * not mapped, -EFAULT if a table is where ops->p2v gives no pointer, -EINVAL if an entry
 * on the way sets reserved bits or maps a page larger than max_leaf_level allows. */
int pt_lookup(const struct pgtable *pt, u64 va, u64 *pa, u32 *flags, unsigned *level);
/* Frees every table. */
void pt_destroy(struct pgtable *pt);
/* Number of leaf entries at each level (counts[0..levels-1]) - for reports and benches. */
void pt_count_leaves(const struct pgtable *pt, unsigned *counts);

#endif
