/* ELF64 executables (System V gABI, x86-64 psABI): the one validator that the guest image
 * loader (vmm/elf.c) and the UEFI loader of moat.elf (boot/efi/elf_image.c) share. Pure:
 * built into the hypervisor, the UEFI application and the host unit tests. */
#ifndef MOAT_ELF_H
#define MOAT_ELF_H

#include <moat/types.h>

/* ELF-64 file header */
struct elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
SIZE_CHECK(struct elf64_ehdr, 64);

#define ELF_CLASS64 2  /* ident[4] */
#define ELF_DATA_LSB 1 /* ident[5] */
#define ELF_ET_EXEC 2  /* type */
#define ELF_MACHINE_X86_64 62
#define ELF_MAX_PHDRS 64 /* moat's limit, not the format's */

/* ELF-64 program header */
struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};
SIZE_CHECK(struct elf64_phdr, 56);

#define ELF_PT_LOAD 1 /* type */
#define ELF_PF_X 1    /* flags */

/* Checks that `elf` (`size` bytes, any alignment) is a little-endian x86-64 ELF64
 * executable whose program header table lies in the file and whose PT_LOAD segments (at
 * least one) have their file bytes in the file, a file size no larger than their memory
 * size, a non-empty physical range that does not wrap, and do not overlap each other.
 * Returns 0, or a negative errno with *why naming the problem and *seg the index of the
 * program header it concerns (-1 for the file header). */
int elf64_validate(const void *elf, u64 size, const char **why, int *seg);
/* Copies of the file header and program header i (the file may be unaligned). */
void elf64_ehdr_read(const void *elf, struct elf64_ehdr *eh);
void elf64_phdr_read(const void *elf, unsigned i, struct elf64_phdr *ph);

#endif
