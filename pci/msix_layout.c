/* Where a function's MSI-X table and PBA are (PCI 3.0, 6.8.2.4-5): BIR and offset come from
 * the device, which may lie. moat writes the physical table itself (vmm/msix.c) at
 * bar[BIR].base + offset + 16 x entry, so both structures must lie whole inside one of the
 * function's implemented, assigned memory BARs before the function can go to a guest. */
#include <moat/errno.h>
#include <moat/pci.h>
#include <moat/string.h>

#define MSIX_ENTRY_BYTES 16

/* Whether [offset, offset + len) lies in memory BAR `bir` of d; `why` otherwise. */
static bool in_memory_bar(const struct pci_dev *d, const char *what, unsigned bir, u64 offset,
			  u64 len, char *why, size_t size)
{
	const struct pci_bar *bar;

	if (bir >= PCI_NR_BARS) {
		snprintf(why, size, "MSI-X %s BIR %u names no BAR", what, bir);
		return false;
	}
	bar = &d->bar[bir];
	if (bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64) {
		snprintf(why, size, "MSI-X %s in BAR %u, which is %s", what, bir,
			 bar->type == PCI_BAR_IO ? "an I/O BAR" : "not implemented");
		return false;
	}
	if (!bar->base || !bar->size) {
		snprintf(why, size, "MSI-X %s in BAR %u, which has no address", what, bir);
		return false;
	}
	if (offset + len > bar->size) {
		snprintf(why, size, "MSI-X %s at %#llx+%#llx reaches past BAR %u (%#llx bytes)",
			 what, (unsigned long long)offset, (unsigned long long)len, bir,
			 (unsigned long long)bar->size);
		return false;
	}
	return true;
}

int pci_msix_layout_check(const struct pci_dev *d, char *why, size_t size)
{
	const struct pci_msix_info *m = &d->msix;

	if (!d->cap_msix)
		return 0;
	if (!in_memory_bar(d, "table", m->table_bir, m->table_offset,
			   (u64)m->table_size * MSIX_ENTRY_BYTES, why, size) ||
	    !in_memory_bar(d, "PBA", m->pba_bir, m->pba_offset,
			   ALIGN_UP((u64)m->table_size, 64) / 8, why, size))
		return -EINVAL;
	return 0;
}
