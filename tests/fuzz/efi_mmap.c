/* The UEFI memory map conversion (boot/efi/efi_mmap.c): a GetMemoryMap() buffer with a
 * descriptor size and keep ranges taken from the input, into an output array of the size
 * the input asks for. The result must be sorted, non-overlapping and within max_out. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "boot/efi/convert.h"
#include "fuzz.h"

#define MAX_KEEP 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};
	struct efi_keep keep[MAX_KEEP];
	struct efi_mmap_stats st;
	struct mem_range *out;
	u32 max_out, nr = 0;
	size_t desc_size;
	unsigned nr_keep;
	u8 *map;
	int err;

	desc_size = fin_u8(&f) + 24; /* around sizeof(struct efi_mem_desc) = 40 */
	max_out = fin_u8(&f) % 80;   /* BOOT_MAX_MEM_RANGES and below */
	nr_keep = fin_u8(&f) % (MAX_KEEP + 1);
	for (unsigned i = 0; i < nr_keep; i++) {
		keep[i].base = fin_u64(&f);
		keep[i].length = fin_u64(&f);
	}
	map = malloc(f.n ? f.n : 1);
	memcpy(map, f.p, f.n);
	out = malloc(sizeof(*out) * (max_out ? max_out : 1));
	err = efi_mmap_convert(map, f.n, desc_size, keep, nr_keep, out, max_out, &nr, &st);
	if (err && err != -ENOSPC && err != -EINVAL)
		abort();
	if (nr > max_out)
		abort();
	for (u32 i = 0; i < nr; i++) {
		if (!out[i].length || out[i].base + out[i].length < out[i].base)
			abort();
		if (i && out[i].base < out[i - 1].base + out[i - 1].length)
			abort();
	}
	free(out);
	free(map);
	return 0;
}
