/* Guest images (vmm/elf.c): elf_check on the input, then elf_load into a guest RAM of
 * the size elf_check was given (the first input byte picks it: 2..17 MiB). */
#include <stdlib.h>
#include <moat/string.h>
#include "vmm/elf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u64 ram_size, entry = 0;
	char why[160];
	u8 *image, *ram;

	if (size < 1)
		return 0;
	ram_size = (u64)(2 + (data[0] & 15)) << 20;
	data++;
	size--;
	image = malloc(size ? size : 1);
	memcpy(image, data, size);
	if (elf_check(image, size, ram_size, &entry, why, sizeof(why)) == 0) {
		if (entry < GUEST_LOAD_MIN || entry >= ram_size)
			abort();
		ram = malloc(ram_size);
		elf_load(image, ram);
		free(ram);
	} else if (!why[0] || strnlen(why, sizeof(why)) == sizeof(why)) {
		abort();
	}
	free(image);
	return 0;
}
