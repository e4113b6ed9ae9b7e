#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include <moat/boot_info.h>
#include <moat/pgtable.h>

/* Builds moat's own identity map (RAM write-back, everything else uncached, 1 GiB / 2 MiB
 * pages where a range allows, the image's text read-only+executable, rodata read-only,
 * data non-executable, page 0 unmapped) and switches to it. */
int paging_init(const struct boot_info *bi);
/* Maps an MMIO range that lies beyond the initial map (uncached). */
int paging_map_mmio(u64 base, u64 size);
extern struct pgtable hv_pt;

#endif
