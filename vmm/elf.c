/* ELF64 loader for guest images (System V gABI, x86-64 psABI). Pure: host unit tests link
 * this file. */
#include <moat/errno.h>
#include <moat/string.h>
#include "vmm/elf.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1
#define MAX_PHDRS 64

struct elf64_ehdr {
	u8 ident[EI_NIDENT];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
SIZE_CHECK(struct elf64_ehdr, 64);

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};
SIZE_CHECK(struct elf64_phdr, 56);

static int fail(char *why, size_t size, const char *fmt, ...) __printf(3, 4);

static int fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

/* A copy of program header i: e_phoff need not be aligned (the gABI does not require
 * it), so the table is never read through a struct pointer. */
static struct elf64_phdr phdr(const void *image, unsigned i)
{
	const struct elf64_ehdr *eh = image;
	struct elf64_phdr ph;

	memcpy(&ph, (const u8 *)image + eh->phoff + (u64)i * sizeof(ph), sizeof(ph));
	return ph;
}

int elf_check(const void *image, u64 size, u64 load_limit, u64 *entry, char *why, size_t why_size)
{
	const struct elf64_ehdr *eh = image;
	bool entry_ok = false;
	unsigned loads = 0;

	if (size < sizeof(*eh))
		return fail(why, why_size, "image of %llu bytes is shorter than an ELF header",
			    (unsigned long long)size);
	if (memcmp(eh->ident, "\177ELF", 4))
		return fail(why, why_size, "no ELF magic");
	if (eh->ident[4] != ELFCLASS64 || eh->ident[5] != ELFDATA2LSB)
		return fail(why, why_size, "not a little-endian ELF64 file");
	if (eh->type != ET_EXEC || eh->machine != EM_X86_64)
		return fail(why, why_size, "not an x86-64 executable (type %u, machine %u)",
			    eh->type, eh->machine);
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 || eh->phnum > MAX_PHDRS)
		return fail(why, why_size, "bad program header table (%u entries of %u bytes)",
			    eh->phnum, eh->phentsize);
	if (eh->phoff > size || (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
		return fail(why, why_size, "program header table at %#llx beyond the image",
			    (unsigned long long)eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr p = phdr(image, i), *ph = &p;

		if (ph->type != PT_LOAD)
			continue;
		loads++;
		if (ph->offset > size || ph->filesz > size - ph->offset)
			return fail(why, why_size, "segment %u: file bytes beyond the image", i);
		if (ph->filesz > ph->memsz)
			return fail(why, why_size, "segment %u: file size above memory size", i);
		if (ph->paddr < GUEST_LOAD_MIN || ph->paddr >= load_limit ||
		    ph->memsz > load_limit - ph->paddr)
			return fail(why, why_size,
				    "segment %u [%#llx, +%#llx) outside guest RAM [%#llx, %#llx)",
				    i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz,
				    (unsigned long long)GUEST_LOAD_MIN,
				    (unsigned long long)load_limit);
		if ((ph->flags & PF_X) && eh->entry >= ph->paddr &&
		    eh->entry - ph->paddr < ph->memsz)
			entry_ok = true;
	}
	if (!loads)
		return fail(why, why_size, "no loadable segment");
	if (!entry_ok)
		return fail(why, why_size, "entry point %#llx is not in an executable segment",
			    (unsigned long long)eh->entry);
	*entry = eh->entry;
	return 0;
}

void elf_load(const void *image, u8 *ram)
{
	const struct elf64_ehdr *eh = image;

	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr p = phdr(image, i), *ph = &p;

		if (ph->type != PT_LOAD)
			continue;
		memcpy(ram + ph->paddr, (const u8 *)image + ph->offset, ph->filesz);
		memset(ram + ph->paddr + ph->filesz, 0, ph->memsz - ph->filesz);
	}
}
