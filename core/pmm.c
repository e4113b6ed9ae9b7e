/* Physical memory allocator (see include/moat/pmm.h). */
#include <moat/errno.h>
#include <moat/pmm.h>
#include <moat/string.h>

/* Removes [base, end) from the sorted free list, splitting ranges as needed. */
static int carve(struct pmm *p, u64 base, u64 end)
{
	for (unsigned i = 0; i < p->nr_free; i++) {
		struct pmm_range *r = &p->free[i];

		if (end <= r->base || base >= r->end)
			continue;
		if (base > r->base && end < r->end) {
			if (p->nr_free >= PMM_MAX_RANGES)
				return -ENOSPC;
			memmove(&p->free[i + 2], &p->free[i + 1],
				(p->nr_free - i - 1) * sizeof(*r));
			p->free[i + 1] = (struct pmm_range){end, r->end};
			r->end = base;
			p->nr_free++;
			return 0;
		}
		if (base <= r->base && end >= r->end) {
			memmove(r, r + 1, (p->nr_free - i - 1) * sizeof(*r));
			p->nr_free--;
			i--;
			continue;
		}
		if (base <= r->base)
			r->base = end;
		else
			r->end = base;
	}
	return 0;
}

/* Inserts [base, end) into the sorted list, merging neighbours. The caller guarantees
 * it overlaps nothing already free. */
static int insert(struct pmm *p, u64 base, u64 end)
{
	unsigned i = 0;

	while (i < p->nr_free && p->free[i].base < base)
		i++;
	if (i > 0 && p->free[i - 1].end == base) {
		p->free[i - 1].end = end;
		if (i < p->nr_free && p->free[i].base == end) {
			p->free[i - 1].end = p->free[i].end;
			memmove(&p->free[i], &p->free[i + 1],
				(p->nr_free - i - 1) * sizeof(p->free[0]));
			p->nr_free--;
		}
		return 0;
	}
	if (i < p->nr_free && p->free[i].base == end) {
		p->free[i].base = base;
		return 0;
	}
	if (p->nr_free >= PMM_MAX_RANGES)
		return -ENOSPC;
	memmove(&p->free[i + 1], &p->free[i], (p->nr_free - i) * sizeof(p->free[0]));
	p->free[i] = (struct pmm_range){base, end};
	p->nr_free++;
	return 0;
}

static bool overlaps_free(const struct pmm *p, u64 base, u64 end)
{
	for (unsigned i = 0; i < p->nr_free; i++)
		if (base < p->free[i].end && end > p->free[i].base)
			return true;
	return false;
}

int pmm_init(struct pmm *p, const struct mem_range *map, unsigned nr_map,
	     const struct pmm_range *holes, unsigned nr_holes, u64 min_addr)
{
	int err;

	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < nr_map; i++) {
		u64 base, end;

		if (map[i].type != MEM_USABLE || map[i].length == 0)
			continue;
		base = ALIGN_UP(map[i].base, PAGE_SIZE);
		end = map[i].base + map[i].length < map[i].base ? ~0ULL
								: map[i].base + map[i].length;
		end = ALIGN_DOWN(end, PAGE_SIZE);
		if (end <= base)
			continue;
		/* Usable ranges may overlap each other in broken maps: carve first. */
		err = carve(p, base, end);
		if (!err)
			err = insert(p, base, end);
		if (err)
			return err;
	}
	/* Anything firmware calls non-usable wins over a usable overlap. */
	for (unsigned i = 0; i < nr_map; i++) {
		if (map[i].type == MEM_USABLE || map[i].length == 0)
			continue;
		err = carve(p, ALIGN_DOWN(map[i].base, PAGE_SIZE),
			    ALIGN_UP(map[i].base + map[i].length, PAGE_SIZE));
		if (err)
			return err;
	}
	for (unsigned i = 0; i < nr_holes; i++) {
		err = carve(p, ALIGN_DOWN(holes[i].base, PAGE_SIZE),
			    ALIGN_UP(holes[i].end, PAGE_SIZE));
		if (err)
			return err;
	}
	if (min_addr) {
		err = carve(p, 0, ALIGN_UP(min_addr, PAGE_SIZE));
		if (err)
			return err;
	}
	for (unsigned i = 0; i < p->nr_free; i++)
		p->usable_bytes += p->free[i].end - p->free[i].base;
	p->free_bytes = p->usable_bytes;
	return 0;
}

u64 pmm_alloc_range(struct pmm *p, u64 size, u64 align, u64 max_addr)
{
	u64 got = 0;

	if (!size || !IS_ALIGNED(size, PAGE_SIZE) || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	spin_lock(&p->lock);
	for (unsigned i = p->nr_free; i-- > 0;) {
		struct pmm_range *r = &p->free[i];
		u64 top = max_addr && max_addr < r->end ? max_addr : r->end;
		u64 base;

		if (top < size || top - size < r->base)
			continue;
		base = ALIGN_DOWN(top - size, align);
		if (base < r->base)
			continue;
		if (carve(p, base, base + size) == 0) {
			got = base;
			p->free_bytes -= size;
		}
		break;
	}
	spin_unlock(&p->lock);
	return got;
}

bool pmm_is_free(struct pmm *p, u64 base, u64 size)
{
	bool ok = false;

	spin_lock(&p->lock);
	for (unsigned i = 0; i < p->nr_free; i++)
		if (base >= p->free[i].base && base + size <= p->free[i].end)
			ok = true;
	spin_unlock(&p->lock);
	return ok;
}

int pmm_claim(struct pmm *p, u64 base, u64 size)
{
	int err = -EBUSY;

	if (!IS_ALIGNED(base | size, PAGE_SIZE) || !size)
		return -EINVAL;
	spin_lock(&p->lock);
	for (unsigned i = 0; i < p->nr_free; i++) {
		if (base >= p->free[i].base && base + size <= p->free[i].end) {
			err = carve(p, base, base + size);
			if (!err)
				p->free_bytes -= size;
			break;
		}
	}
	spin_unlock(&p->lock);
	return err;
}

int pmm_free_range(struct pmm *p, u64 base, u64 size)
{
	int err;

	if (!IS_ALIGNED(base | size, PAGE_SIZE) || !size || base + size < base)
		return -EINVAL;
	spin_lock(&p->lock);
	if (overlaps_free(p, base, base + size)) {
		err = -EINVAL;
	} else {
		err = insert(p, base, base + size);
		if (!err)
			p->free_bytes += size;
	}
	spin_unlock(&p->lock);
	return err;
}

int pmm_withhold(struct pmm *p, u64 base, u64 size, u64 *removed)
{
	u64 end = base + size, got = 0;
	int err;

	*removed = 0;
	if (!IS_ALIGNED(base | size, PAGE_SIZE) || !size || end < base)
		return -EINVAL;
	spin_lock(&p->lock);
	for (unsigned i = 0; i < p->nr_free; i++)
		if (base < p->free[i].end && end > p->free[i].base)
			got += MIN(end, p->free[i].end) - MAX(base, p->free[i].base);
	err = carve(p, base, end);
	if (!err) {
		p->free_bytes -= got;
		p->usable_bytes -= got;
		*removed = got;
	}
	spin_unlock(&p->lock);
	return err;
}

bool pmm_any_free(struct pmm *p, u64 base, u64 size)
{
	bool hit;

	spin_lock(&p->lock);
	hit = overlaps_free(p, base, base + size);
	spin_unlock(&p->lock);
	return hit;
}
