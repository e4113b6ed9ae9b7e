/* ELF64 loader for guest images: the shared validator (lib/elf.c) and the guest's rules on
 * top of it. Pure: host unit tests link this file. */
#include <moat/elf.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "vmm/elf.h"

/* The shared validator's reason, with the numbers behind it. */
static int invalid(const void *image, const char *what, int seg, char *why, size_t why_size)
{
	struct elf64_ehdr eh;

	if (seg >= 0)
		return refuse(-ENOEXEC, why, why_size, "segment %d: %s", seg, what);
	elf64_ehdr_read(image, &eh);
	return refuse(-ENOEXEC, why, why_size,
		      "%s (type %u, machine %u, %u program headers of %u bytes at %#llx)", what,
		      eh.type, eh.machine, eh.phnum, eh.phentsize, (unsigned long long)eh.phoff);
}

int elf_check(const void *image, u64 size, u64 load_limit, u64 *entry, char *why, size_t why_size)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph;
	const char *what;
	bool entry_ok = false;
	int seg;

	if (size < sizeof(eh))
		return refuse(-ENOEXEC, why, why_size,
			      "image of %llu bytes is shorter than an ELF header",
			      (unsigned long long)size);
	if (elf64_validate(image, size, &what, &seg))
		return invalid(image, what, seg, why, why_size);
	elf64_ehdr_read(image, &eh);
	for (unsigned i = 0; i < eh.phnum; i++) {
		elf64_phdr_read(image, i, &ph);
		if (ph.type != ELF_PT_LOAD)
			continue;
		if (ph.paddr < GUEST_LOAD_MIN || ph.paddr >= load_limit ||
		    ph.memsz > load_limit - ph.paddr)
			return refuse(-ENOEXEC, why, why_size,
				      "segment %u [%#llx, +%#llx) outside guest RAM [%#llx, %#llx)",
				      i, (unsigned long long)ph.paddr, (unsigned long long)ph.memsz,
				      (unsigned long long)GUEST_LOAD_MIN,
				      (unsigned long long)load_limit);
		if ((ph.flags & ELF_PF_X) && eh.entry >= ph.paddr && eh.entry - ph.paddr < ph.memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return refuse(-ENOEXEC, why, why_size,
			      "entry point %#llx is not in an executable segment",
			      (unsigned long long)eh.entry);
	*entry = eh.entry;
	return 0;
}

void elf_load(const void *image, u8 *ram)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph;

	elf64_ehdr_read(image, &eh);
	for (unsigned i = 0; i < eh.phnum; i++) {
		elf64_phdr_read(image, i, &ph);
		if (ph.type != ELF_PT_LOAD)
			continue;
		memcpy(ram + ph.paddr, (const u8 *)image + ph.offset, ph.filesz);
		memset(ram + ph.paddr + ph.filesz, 0, ph.memsz - ph.filesz);
	}
}
