/* UEFI memory map -> boot_info memory ranges. */
#include <moat/errno.h>
#include "boot/efi/convert.h"

u32 efi_mem_type_to_moat(u32 efi_type, u64 attribute)
{
	switch (efi_type) {
	case EFI_KIND_LOADER_CODE:
	case EFI_KIND_LOADER_DATA:
	case EFI_KIND_BS_CODE:
	case EFI_KIND_BS_DATA:
	case EFI_KIND_CONVENTIONAL:
		return (attribute & EFI_MEM_ATTR_SP) ? MEM_RESERVED : MEM_USABLE;
	case EFI_KIND_UNUSABLE: return MEM_BAD;
	case EFI_KIND_ACPI_RECLAIM: return MEM_ACPI_RECLAIM;
	case EFI_KIND_ACPI_NVS: return MEM_ACPI_NVS;
	case EFI_KIND_MMIO:
	case EFI_KIND_MMIO_PORT: return MEM_MMIO;
	case EFI_KIND_PERSISTENT: return MEM_PERSISTENT;
	default: return MEM_RESERVED; /* reserved, runtime services, PAL, unaccepted, OEM */
	}
}

/* Which type wins where ranges overlap: never the more permissive one. */
static unsigned type_rank(u32 type)
{
	switch (type) {
	case MEM_USABLE: return 1;
	case MEM_BOOT_DATA: return 2;
	case MEM_PERSISTENT: return 3;
	case MEM_ACPI_RECLAIM: return 4;
	case MEM_ACPI_NVS: return 5;
	case MEM_MMIO: return 6;
	case MEM_BAD: return 8;
	default: return 7; /* reserved */
	}
}

/* One source range of the sweep: a descriptor or a kept loader allocation. */
struct span {
	u64 base, end; /* [base, end), end > base */
	u32 type;
};

struct sweep {
	const u8 *map;
	size_t nr_desc, desc_size;
	const struct efi_keep *keep;
	unsigned nr_keep;
};

/* Reads descriptor i; false if it is empty or invalid (counted by the caller once). */
static bool desc_span(const struct sweep *sw, size_t i, struct span *s, bool *invalid)
{
	struct efi_mem_desc d;

	__builtin_memcpy(&d, sw->map + i * sw->desc_size, sizeof(d));
	*invalid = false;
	if (!d.nr_pages)
		return false;
	if (!IS_ALIGNED(d.phys_start, EFI_PAGE_BYTES) ||
	    d.nr_pages > (~0ULL - d.phys_start) / EFI_PAGE_BYTES) {
		*invalid = true;
		return false;
	}
	s->base = d.phys_start;
	s->end = d.phys_start + d.nr_pages * EFI_PAGE_BYTES;
	s->type = efi_mem_type_to_moat(d.type, d.attribute);
	return true;
}

static bool keep_span(const struct sweep *sw, unsigned i, struct span *s)
{
	const struct efi_keep *k = &sw->keep[i];

	if (!k->length || k->base > ~0ULL - k->length ||
	    k->base + k->length > ~0ULL - (EFI_PAGE_BYTES - 1))
		return false;
	s->base = ALIGN_DOWN(k->base, EFI_PAGE_BYTES);
	s->end = ALIGN_UP(k->base + k->length, EFI_PAGE_BYTES);
	s->type = MEM_BOOT_DATA;
	return true;
}

/* Source n of the sweep: descriptors first, then kept ranges. */
static bool source_span(const struct sweep *sw, size_t n, struct span *s)
{
	bool invalid;

	if (n < sw->nr_desc)
		return desc_span(sw, n, s, &invalid);
	return keep_span(sw, (unsigned)(n - sw->nr_desc), s);
}

/* The smallest source edge above addr; false when there is none. */
static bool next_edge(const struct sweep *sw, u64 addr, u64 *edge)
{
	bool found = false;
	struct span s;

	for (size_t n = 0; n < sw->nr_desc + sw->nr_keep; n++) {
		if (!source_span(sw, n, &s))
			continue;
		if (s.base > addr && (!found || s.base < *edge)) {
			*edge = s.base;
			found = true;
		}
		if (s.end > addr && (!found || s.end < *edge)) {
			*edge = s.end;
			found = true;
		}
	}
	return found;
}

/* The winning type at addr, 0 where no source covers it. */
static u32 type_at(const struct sweep *sw, u64 addr)
{
	u32 best = 0;
	struct span s;

	for (size_t n = 0; n < sw->nr_desc + sw->nr_keep; n++)
		if (source_span(sw, n, &s) && addr >= s.base && addr < s.end &&
		    (!best || type_rank(s.type) > type_rank(best)))
			best = s.type;
	return best;
}

struct emitter {
	struct mem_range *out;
	u32 max, nr;
	u64 last_end;
	u32 last_type;
	bool last_stored, have_last;
	struct efi_mmap_stats *st;
};

static void emit(struct emitter *e, u64 base, u64 end, u32 type)
{
	if (e->have_last && e->last_end == base && e->last_type == type) {
		if (e->last_stored)
			e->out[e->nr - 1].length += end - base;
		else
			e->st->dropped_bytes += end - base;
		e->last_end = end;
		return;
	}
	e->st->nr_needed++;
	e->have_last = true;
	e->last_end = end;
	e->last_type = type;
	e->last_stored = e->nr < e->max;
	if (e->last_stored) {
		e->out[e->nr++] =
			(struct mem_range){.base = base, .length = end - base, .type = type};
	} else {
		if (!e->st->dropped_bytes)
			e->st->first_dropped = base;
		e->st->dropped_bytes += end - base;
	}
}

static void count_inputs(const struct sweep *sw, struct efi_mmap_stats *st)
{
	struct span a, b;
	bool invalid;

	for (size_t i = 0; i < sw->nr_desc; i++) {
		if (desc_span(sw, i, &a, &invalid)) {
			for (size_t j = i + 1; j < sw->nr_desc; j++)
				if (desc_span(sw, j, &b, &invalid) && a.base < b.end &&
				    b.base < a.end)
					st->nr_overlaps++;
		} else if (invalid) {
			st->nr_invalid++;
		} else {
			st->nr_empty++;
		}
	}
}

int efi_mmap_convert(const void *map, size_t map_size, size_t desc_size,
		     const struct efi_keep *keep, unsigned nr_keep, struct mem_range *out,
		     u32 max_out, u32 *nr_out, struct efi_mmap_stats *stats)
{
	struct sweep sw = {.map = map, .keep = keep, .nr_keep = nr_keep};
	struct emitter em = {.out = out, .max = max_out, .st = stats};
	struct span s;
	u64 cur = 0, next = 0;
	bool any = false;

	*stats = (struct efi_mmap_stats){0};
	*nr_out = 0;
	if (desc_size < sizeof(struct efi_mem_desc))
		return -EINVAL;
	sw.desc_size = desc_size;
	sw.nr_desc = map_size / desc_size;
	stats->nr_desc = (u32)sw.nr_desc;
	stats->trailing = (u32)(map_size % desc_size);
	count_inputs(&sw, stats);

	for (size_t n = 0; n < sw.nr_desc + sw.nr_keep; n++)
		if (source_span(&sw, n, &s) && (!any || s.base < cur)) {
			cur = s.base;
			any = true;
		}
	/* Between two consecutive edges no source starts or ends, so one type holds. */
	while (any && next_edge(&sw, cur, &next)) {
		u32 type = type_at(&sw, cur);

		if (type)
			emit(&em, cur, next, type);
		cur = next;
	}
	*nr_out = em.nr;
	return stats->dropped_bytes ? -ENOSPC : 0;
}
