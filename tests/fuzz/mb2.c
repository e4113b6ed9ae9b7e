/* The multiboot2 boot information (boot/multiboot2/mb2.c): the input is the whole
 * structure, at an 8-byte aligned address as the loader leaves it. Its first word (total
 * size) is set to the input's length: the loader's structure is that long. */
#include <stdlib.h>
#include <moat/boot_info.h>
#include <moat/string.h>
#include "boot/multiboot2/mb2.h"
#include "fuzz.h"

char __image_start[16], __image_end[16];

void kmain(const struct boot_info *bi)
{
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	u8 *info;

	if (size < 8 || size > 1 << 20)
		return 0;
	info = malloc(size);
	memcpy(info, data, size);
	*(u32 *)info = (u32)size;
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	/* Everything it kept must be readable text and sane counts. */
	if (bi.nr_mem > BOOT_MAX_MEM_RANGES || bi.nr_modules > BOOT_MAX_MODULES ||
	    strnlen(bi.cmdline, sizeof(bi.cmdline)) == sizeof(bi.cmdline) ||
	    bi.rsdp_copy_len > sizeof(bi.rsdp_copy))
		abort();
	for (u32 i = 0; i < bi.nr_modules; i++)
		if (strnlen(bi.modules[i].name, sizeof(bi.modules[i].name)) ==
		    sizeof(bi.modules[i].name))
			abort();
	free(info);
	return 0;
}
