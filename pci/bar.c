/* Base address registers and bridge windows: sizing, reading, programming. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"

const char *pci_bar_type_name(const struct pci_bar *b)
{
	switch (b->type) {
	case PCI_BAR_IO: return "io";
	case PCI_BAR_MEM32: return b->prefetchable ? "mem32-pref" : "mem32";
	case PCI_BAR_MEM64: return b->prefetchable ? "mem64-pref" : "mem64";
	default: return "none";
	}
}

/* Sizes one BAR (two registers if 64-bit) by writing all ones and reading the mask back;
 * the original value is restored. Returns the number of registers used. */
static unsigned size_one_bar(const struct pci_dev *d, u16 reg, bool last, struct pci_bar *bar)
{
	u32 orig = pci_read32(d, reg), mask, orig_hi = 0, mask_hi = 0;
	bool is64 = FIELD_GET(PCI_BAR_MEM_TYPE, orig) == PCI_BAR_MEM_TYPE_64 && !last;
	u64 addr_mask;

	memset(bar, 0, sizeof(*bar));
	pci_write32(d, reg, 0xffffffffu);
	mask = pci_read32(d, reg);
	pci_write32(d, reg, orig);
	if (orig & PCI_BAR_SPACE_IO) {
		addr_mask = FIELD_PREP(PCI_BAR_IO_MASK, FIELD_GET(PCI_BAR_IO_MASK, mask));
		/* Devices may leave the upper 16 bits of an I/O BAR zero. */
		if (!(addr_mask & GENMASK(31, 16)))
			addr_mask |= GENMASK(31, 16);
		if (!FIELD_GET(PCI_BAR_IO_MASK, mask))
			return 1;
		bar->type = PCI_BAR_IO;
		bar->base = orig & PCI_BAR_IO_MASK;
		bar->size = (~addr_mask & 0xffffffffu) + 1;
		return 1;
	}
	if (is64) {
		orig_hi = pci_read32(d, reg + 4);
		pci_write32(d, reg + 4, 0xffffffffu);
		mask_hi = pci_read32(d, reg + 4);
		pci_write32(d, reg + 4, orig_hi);
		bar->type = PCI_BAR_MEM64;
	} else {
		bar->type = PCI_BAR_MEM32;
		mask_hi = 0xffffffffu; /* 32-bit BAR: sizes are below 4 GiB */
	}
	addr_mask = ((u64)mask_hi << 32) | (mask & PCI_BAR_MEM_MASK);
	bar->prefetchable = orig & PCI_BAR_PREFETCH;
	if (!(mask & PCI_BAR_MEM_MASK) && !(bar->type == PCI_BAR_MEM64 && mask_hi)) {
		bar->type = PCI_BAR_NONE;
		bar->prefetchable = false;
	} else {
		bar->base = ((u64)orig_hi << 32) | (orig & PCI_BAR_MEM_MASK);
		bar->size = ~addr_mask + 1;
	}
	return is64 ? 2 : 1;
}

int pci_size_bar_regs(const struct pci_dev *d, u16 first, unsigned count, struct pci_bar *bars,
		      u16 decode_bits)
{
	u16 cmd = pci_read16(d, PCI_COMMAND);

	/* Decode off while a BAR holds the sizing pattern, so an active device never
	 * answers at a bogus address. */
	if (cmd & decode_bits)
		pci_write16(d, PCI_COMMAND, cmd & (u16)~decode_bits);
	for (unsigned i = 0; i < count;) {
		unsigned used = size_one_bar(d, (u16)(first + 4 * i), i + 1 == count, &bars[i]);

		if (used == 2)
			memset(&bars[i + 1], 0, sizeof(bars[i + 1]));
		i += used;
	}
	if (cmd & decode_bits)
		pci_write16(d, PCI_COMMAND, cmd);
	for (unsigned i = 0; i < count; i++)
		if (bars[i].type != PCI_BAR_NONE && (bars[i].size & (bars[i].size - 1)))
			return pr_err(-EINVAL,
				      "%04x:%02x:%02x.%x: BAR at %#x has size %#llx, not a power "
				      "of two\n",
				      d->seg, d->bus, d->dev, d->fn, first + 4 * i,
				      (unsigned long long)bars[i].size);
	return 0;
}

int pci_read_bars(struct pci_dev *d)
{
	unsigned n = d->header_type == 1 ? PCI_BRIDGE_NR_BARS : PCI_NR_BARS;

	return pci_size_bar_regs(d, PCI_BAR0, n, d->bar, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

void pci_write_bar(const struct pci_dev *d, u16 reg, const struct pci_bar *bar, u64 base)
{
	pci_write32(d, reg, (u32)base | (pci_read32(d, reg) & ~PCI_BAR_MEM_MASK & 0xf));
	if (bar->type == PCI_BAR_MEM64)
		pci_write32(d, reg + 4, (u32)(base >> 32));
}

static void read_io_window(struct pci_dev *d)
{
	u8 b = pci_read8(d, PCI_IO_BASE), l = pci_read8(d, PCI_IO_LIMIT);
	u64 base = FIELD_GET(PCI_IO_RANGE_ADDR, b) << 12;
	u64 limit = (FIELD_GET(PCI_IO_RANGE_ADDR, l) << 12) | 0xfff;

	if (!b && !l) {
		/* Either closed at 0 or not implemented: read as closed. */
		d->io_window = (struct pci_window){1, 0};
		return;
	}
	if (FIELD_GET(PCI_IO_RANGE_TYPE, b) == PCI_IO_RANGE_TYPE_32) {
		base |= (u64)pci_read16(d, PCI_IO_BASE_UPPER) << 16;
		limit |= (u64)pci_read16(d, PCI_IO_LIMIT_UPPER) << 16;
	}
	d->io_window = (struct pci_window){base, limit};
}

void pci_read_bridge_windows(struct pci_dev *d)
{
	u16 mb = pci_read16(d, PCI_MEM_BASE), ml = pci_read16(d, PCI_MEM_LIMIT);
	u16 pb = pci_read16(d, PCI_PREF_BASE), pl = pci_read16(d, PCI_PREF_LIMIT);
	u64 base, limit;

	read_io_window(d);
	d->mem_window.base = FIELD_GET(PCI_MEM_RANGE_ADDR, mb) << 20;
	d->mem_window.limit = (FIELD_GET(PCI_MEM_RANGE_ADDR, ml) << 20) | 0xfffff;
	base = FIELD_GET(PCI_PREF_RANGE_ADDR, pb) << 20;
	limit = (FIELD_GET(PCI_PREF_RANGE_ADDR, pl) << 20) | 0xfffff;
	d->pref_64bit = FIELD_GET(PCI_PREF_RANGE_TYPE, pb) == PCI_PREF_RANGE_TYPE_64;
	if (d->pref_64bit) {
		base |= (u64)pci_read32(d, PCI_PREF_BASE_UPPER) << 32;
		limit |= (u64)pci_read32(d, PCI_PREF_LIMIT_UPPER) << 32;
	}
	d->pref_window = (struct pci_window){base, limit};
	/* Firmware leaves unused windows at 0/0 (or base > limit); address 0 is RAM on every
	 * machine moat runs on, so a window based there is read as closed. */
	if (!d->mem_window.base)
		d->mem_window = (struct pci_window){1, 0};
	if (!d->pref_window.base)
		d->pref_window = (struct pci_window){1, 0};
}

int pci_write_mem_window(struct pci_dev *br, bool pref, u64 base, u64 limit)
{
	u16 reg_base = pref ? PCI_PREF_BASE : PCI_MEM_BASE;
	u16 reg_limit = pref ? PCI_PREF_LIMIT : PCI_MEM_LIMIT;
	u16 keep = pref ? pci_read16(br, PCI_PREF_BASE) & PCI_PREF_RANGE_TYPE : 0;

	if (!IS_ALIGNED(base, PCI_WINDOW_MEM_ALIGN) ||
	    !IS_ALIGNED(limit + 1, PCI_WINDOW_MEM_ALIGN) || limit < base)
		return pr_err(-EINVAL,
			      "%04x:%02x:%02x.%x: window %#llx-%#llx is not 1 MiB granular\n",
			      br->seg, br->bus, br->dev, br->fn, (unsigned long long)base,
			      (unsigned long long)limit);
	if (limit > 0xffffffffu && !(pref && br->pref_64bit))
		return pr_err(
			-ERANGE,
			"%04x:%02x:%02x.%x: window %#llx-%#llx above 4 GiB on a 32-bit window\n",
			br->seg, br->bus, br->dev, br->fn, (unsigned long long)base,
			(unsigned long long)limit);
	if (pref && br->pref_64bit) {
		pci_write32(br, PCI_PREF_BASE_UPPER, (u32)(base >> 32));
		pci_write32(br, PCI_PREF_LIMIT_UPPER, (u32)(limit >> 32));
	}
	pci_write16(br, reg_base,
		    (u16)(FIELD_PREP(PCI_MEM_RANGE_ADDR, (base >> 20) & 0xfff) | keep));
	pci_write16(br, reg_limit,
		    (u16)(FIELD_PREP(PCI_MEM_RANGE_ADDR, (limit >> 20) & 0xfff) | keep));
	if (pref)
		br->pref_window = (struct pci_window){base, limit};
	else
		br->mem_window = (struct pci_window){base, limit};
	return 0;
}
