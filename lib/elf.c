/* The ELF64 executable validator (include/moat/elf.h). */
#include <moat/elf.h>
#include <moat/errno.h>

void elf64_ehdr_read(const void *elf, struct elf64_ehdr *eh)
{
	__builtin_memcpy(eh, elf, sizeof(*eh));
}

void elf64_phdr_read(const void *elf, unsigned i, struct elf64_phdr *ph)
{
	struct elf64_ehdr eh;

	elf64_ehdr_read(elf, &eh);
	__builtin_memcpy(ph, (const u8 *)elf + eh.phoff + (u64)i * sizeof(*ph), sizeof(*ph));
}

static int fail(const char **why, int *seg, const char *msg, int idx)
{
	*why = msg;
	*seg = idx;
	return -ENOEXEC;
}

static int check_header(const struct elf64_ehdr *eh, u64 size, const char **why, int *seg)
{
	if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' ||
	    eh->ident[3] != 'F')
		return fail(why, seg, "no ELF magic", -1);
	if (eh->ident[4] != ELF_CLASS64 || eh->ident[5] != ELF_DATA_LSB)
		return fail(why, seg, "not a little-endian ELF64 file", -1);
	if (eh->type != ELF_ET_EXEC || eh->machine != ELF_MACHINE_X86_64)
		return fail(why, seg, "not an x86-64 executable", -1);
	if (eh->phentsize != sizeof(struct elf64_phdr) || !eh->phnum || eh->phnum > ELF_MAX_PHDRS)
		return fail(why, seg, "bad program header table (entry size or count)", -1);
	if (eh->phoff > size || (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
		return fail(why, seg, "program header table beyond the end of the file", -1);
	return 0;
}

static int check_segment(const struct elf64_phdr *ph, u64 size, const char **why, int *seg, int i)
{
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return fail(why, seg, "file bytes beyond the end of the file", i);
	if (ph->filesz > ph->memsz)
		return fail(why, seg, "file size larger than memory size", i);
	if (!ph->memsz || ph->paddr > ~0ULL - ph->memsz)
		return fail(why, seg, "zero size or past the end of the address space", i);
	return 0;
}

static bool overlap(const struct elf64_phdr *a, const struct elf64_phdr *b)
{
	return a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz;
}

int elf64_validate(const void *elf, u64 size, const char **why, int *seg)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph, other;
	unsigned loads = 0;
	int err;

	if (size < sizeof(eh))
		return fail(why, seg, "file shorter than an ELF header", -1);
	elf64_ehdr_read(elf, &eh);
	err = check_header(&eh, size, why, seg);
	if (err)
		return err;
	for (unsigned i = 0; i < eh.phnum; i++) {
		elf64_phdr_read(elf, i, &ph);
		if (ph.type != ELF_PT_LOAD)
			continue;
		loads++;
		err = check_segment(&ph, size, why, seg, (int)i);
		if (err)
			return err;
		for (unsigned j = 0; j < i; j++) {
			elf64_phdr_read(elf, j, &other);
			if (other.type == ELF_PT_LOAD && overlap(&ph, &other))
				return fail(why, seg, "segments overlap", (int)i);
		}
	}
	if (!loads)
		return fail(why, seg, "no PT_LOAD segment", -1);
	return 0;
}
