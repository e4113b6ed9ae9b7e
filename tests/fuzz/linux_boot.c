/* The Linux boot protocol (vmm/linux_boot.c) on a fuzzed bzImage: the first input bytes pick
 * the guest's RAM (16..1039 MiB), the initrd's size and the command line's length; the rest
 * is the image. What linux_check accepts is placed and a zero page written; the placement
 * must keep kernel, initrd and moat's canary pages apart. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "vmm/linux_boot.h"
#include "fuzz.h"

static void check_layout(const struct linux_image *li, const struct linux_layout *lay, u64 ram,
			 u64 initrd)
{
	if (lay->kernel_gpa < LINUX_HIGH_RAM_START || lay->kernel_end > ram - 4096 ||
	    lay->kernel_end - lay->kernel_gpa != li->init_size ||
	    lay->entry != lay->kernel_gpa + LINUX_ENTRY64_OFFSET)
		abort();
	if (initrd && (lay->initrd_gpa < lay->kernel_end || lay->initrd_gpa % 4096 ||
		       lay->initrd_gpa + initrd > ram - 4096 || lay->initrd_size != initrd))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = {data, size};
	u64 ram = (16ULL + fin_u16(&in) % 1024) << 20;
	u64 initrd = fin_u32(&in) & 0x3ffffff;
	size_t cmdline = fin_u16(&in) & 0xfff;
	static u8 zp[LINUX_ZP_SIZE];
	struct linux_image li;
	struct linux_layout lay;
	char why[200];
	u8 *image = malloc(in.n ? in.n : 1);
	int err;

	memcpy(image, in.p, in.n);
	why[0] = 0;
	err = linux_check(image, in.n, &li, why, sizeof(why));
	if (!err)
		err = linux_layout(&li, ram, initrd, cmdline, &lay, why, sizeof(why));
	if (err) {
		if (err != -ENOEXEC || !why[0] || strnlen(why, sizeof(why)) == sizeof(why))
			abort();
	} else {
		if (li.setup_size + li.pm_size != in.n)
			abort();
		check_layout(&li, &lay, ram, initrd);
		linux_zero_page(zp, image, &li, &lay, 0xe0000);
		if (zp[LINUX_ZP_E820_ENTRIES] == 0 || zp[LINUX_ZP_E820_ENTRIES] > LINUX_E820_MAX)
			abort();
	}
	free(image);
	return 0;
}
