/* Validation of the embedded moat.elf and discovery of its moat_header. */
#include <moat/errno.h>
#include "boot/efi/elf_image.h"

#define PAGE_BYTES 4096ULL

static int fail(const char **why, const char *msg, int err)
{
	*why = msg;
	return err;
}

static int check_ident(const struct elf64_ehdr *eh, size_t size, const char **why)
{
	if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' ||
	    eh->ident[3] != 'F')
		return fail(why, "no ELF magic", -ENOEXEC);
	if (eh->ident[4] != ELF_CLASS64 || eh->ident[5] != ELF_DATA_LSB ||
	    eh->machine != ELF_MACHINE_X86_64)
		return fail(why, "not a little-endian x86-64 ELF64 file", -ENOEXEC);
	if (eh->phentsize < sizeof(struct elf64_phdr) || !eh->phnum)
		return fail(why, "no program headers", -ENOEXEC);
	if (eh->phoff > size || (size - eh->phoff) / eh->phentsize < eh->phnum)
		return fail(why, "program headers beyond the end of the file", -ENOEXEC);
	return 0;
}

static int add_segment(struct moat_image *img, const struct elf64_phdr *ph, size_t size,
		       const char **why)
{
	struct moat_segment *s;

	if (ph->filesz > ph->memsz)
		return fail(why, "segment file size larger than its memory size", -ENOEXEC);
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return fail(why, "segment data beyond the end of the file", -ENOEXEC);
	if (!ph->memsz || ph->memsz > ~0ULL - PAGE_BYTES ||
	    ph->paddr > ~0ULL - PAGE_BYTES - ph->memsz)
		return fail(why, "segment of zero size or past the end of the address space",
			    -ENOEXEC);
	for (unsigned i = 0; i < img->nr_segs; i++)
		if (ph->paddr < img->segs[i].paddr + img->segs[i].memsz &&
		    img->segs[i].paddr < ph->paddr + ph->memsz)
			return fail(why, "segments overlap", -ENOEXEC);
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
	int err;

	*img = (struct moat_image){0};
	if (size < sizeof(eh))
		return fail(why, "file shorter than an ELF header", -ENOEXEC);
	__builtin_memcpy(&eh, elf, sizeof(eh));
	err = check_ident(&eh, size, why);
	if (err)
		return err;
	for (unsigned i = 0; i < eh.phnum; i++) {
		__builtin_memcpy(&ph, (const u8 *)elf + eh.phoff + (u64)i * eh.phentsize,
				 sizeof(ph));
		if (ph.type != ELF_PT_LOAD)
			continue;
		err = add_segment(img, &ph, size, why);
		if (err)
			return err;
	}
	if (!img->nr_segs)
		return fail(why, "no PT_LOAD segment", -ENOEXEC);
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
