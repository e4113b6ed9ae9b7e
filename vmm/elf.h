/* ELF64 guest images: validation and loading into guest RAM. */
#ifndef VMM_ELF_H
#define VMM_ELF_H

#include <moat/types.h>

/* Guest-physical layout every guest shares (docs/hypercalls.md, "Entry"). */
#define GUEST_BOOT_PML4 0x1000ULL /* boot page tables built by moat */
#define GUEST_BOOT_END 0x10000ULL
#define GUEST_LOAD_MIN 0x100000ULL /* images load at or above 1 MiB */

/* Checks that `image` is an ELF64 x86-64 executable whose every loadable segment lies in
 * [GUEST_LOAD_MIN, load_limit) and whose entry point is inside an executable segment.
 * Returns 0 and the entry point, or a negative errno with `why` naming the problem. */
int elf_check(const void *image, u64 size, u64 load_limit, u64 *entry, char *why, size_t why_size);
/* Copies the segments into `ram` (the guest's RAM at GPA 0) and zeroes their bss.
 * Call only after elf_check() succeeded with the same limit. */
void elf_load(const void *image, u8 *ram);

#endif
