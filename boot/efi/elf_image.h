/* moat.elf as the UEFI loader sees it: PT_LOAD segments to place at their physical
 * addresses, and the moat_header (arch/x86/entry64.asm) naming the 64-bit entry. Pure:
 * also compiled into the host unit tests. */
#ifndef BOOT_EFI_ELF_IMAGE_H
#define BOOT_EFI_ELF_IMAGE_H

#include <moat/elf.h>
#include <moat/types.h>

#define MOAT_HEADER_MAGIC "MOATHDR1"

struct moat_header {
	char magic[8];
	u64 entry64;
	u64 image_start, image_end;
};
SIZE_CHECK(struct moat_header, 32);

#define MOAT_MAX_SEGMENTS 8

struct moat_segment {
	u64 paddr, filesz, memsz, offset;
};

struct moat_image {
	unsigned nr_segs;
	struct moat_segment segs[MOAT_MAX_SEGMENTS];
	u64 load_start, load_end; /* page-aligned span of all segments */
	struct moat_header hdr;
};

/* Validates the ELF file (the shared validator, lib/elf.c, then moat's layout) and fills
 * img. On error returns a negative errno and points
 * *why at a sentence naming what was wrong. */
int moat_elf_parse(const void *elf, size_t size, struct moat_image *img, const char **why);

#endif
