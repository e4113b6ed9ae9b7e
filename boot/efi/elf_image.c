/* Validation of the embedded moat.elf and discovery of its moat_header. */
#include <moat/errno.h>
#include "boot/efi/elf_image.h"

#define PAGE_BYTES 4096ULL

static int fail(const char **why, const char *msg, int err)
{
	*why = msg;
	return err;
}

/* The shared validator (lib/elf.c) checked the segment itself. */
static int add_segment(struct moat_image *img, const struct elf64_phdr *ph, const char **why)
{
	struct moat_segment *s;

	if (ph->paddr + ph->memsz > ~0ULL - PAGE_BYTES)
		return fail(why, "segment past the end of the address space", -ENOEXEC);
	if (img->nr_segs == MOAT_MAX_SEGMENTS)
		return fail(why, "too many PT_LOAD segments", -E2BIG);
	s = &img->segs[img->nr_segs++];
	s->paddr = ph->paddr;
	s->filesz = ph->filesz;
	s->memsz = ph->memsz;
	s->offset = ph->offset;
	return 0;
}

/* The header sits 8-byte aligned in the file-backed part of a segment. */
static bool find_header(const u8 *elf, struct moat_image *img)
{
	for (unsigned i = 0; i < img->nr_segs; i++) {
		const struct moat_segment *s = &img->segs[i];

		for (u64 off = ALIGN_UP(s->paddr, 8) - s->paddr;
		     off + sizeof(img->hdr) <= s->filesz; off += 8) {
			__builtin_memcpy(&img->hdr, elf + s->offset + off, sizeof(img->hdr));
			if (!__builtin_memcmp(img->hdr.magic, MOAT_HEADER_MAGIC, 8))
				return true;
		}
	}
	return false;
}

static bool inside_segment(const struct moat_image *img, u64 addr)
{
	for (unsigned i = 0; i < img->nr_segs; i++)
		if (addr >= img->segs[i].paddr && addr - img->segs[i].paddr < img->segs[i].filesz)
			return true;
	return false;
}

int moat_elf_parse(const void *elf, size_t size, struct moat_image *img, const char **why)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph;
	int err, seg;

	*img = (struct moat_image){0};
	err = elf64_validate(elf, size, why, &seg);
	if (err)
		return err;
	elf64_ehdr_read(elf, &eh);
	for (unsigned i = 0; i < eh.phnum; i++) {
		elf64_phdr_read(elf, i, &ph);
		if (ph.type != ELF_PT_LOAD)
			continue;
		err = add_segment(img, &ph, why);
		if (err)
			return err;
	}
	img->load_start = ~0ULL;
	for (unsigned i = 0; i < img->nr_segs; i++) {
		img->load_start = MIN(img->load_start, ALIGN_DOWN(img->segs[i].paddr, PAGE_BYTES));
		img->load_end = MAX(img->load_end,
				    ALIGN_UP(img->segs[i].paddr + img->segs[i].memsz, PAGE_BYTES));
	}
	if (!find_header(elf, img))
		return fail(why, "no moat_header (MOATHDR1) in the loaded segments", -ENOEXEC);
	if (img->hdr.image_start < img->load_start || img->hdr.image_end > img->load_end ||
	    img->hdr.image_start >= img->hdr.image_end)
		return fail(why, "moat_header image range does not match the segments", -ENOEXEC);
	if (!inside_segment(img, img->hdr.entry64))
		return fail(why, "moat_header entry64 is not inside a loaded segment", -ENOEXEC);
	return 0;
}
