/* The Linux boot protocol (vmm/linux_boot.c): header checks, placement of kernel, initrd
 * and command line, the e820 map and the zero page, against boot.rst's field offsets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "vmm/linux_boot.h"
#include "host_shim.h"

#define MiB_ (1024ULL * 1024)
#define SETUP_SECTS 3
#define PM_SIZE 8192
#define IMG_SIZE ((SETUP_SECTS + 1) * 512 + PM_SIZE)

static u8 img[IMG_SIZE];
static char why[200];
static struct linux_image li;
static struct linux_layout lay;

/* Writes `v` (n bytes, little endian) at offset `off` of the image, as boot.rst places it. */
static void put(unsigned off, u64 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		img[off + i] = (u8)(v >> (8 * i));
}

static u64 get(const u8 *p, unsigned off, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[off + i] << (8 * i);
	return v;
}

/* A relocatable 64-bit kernel as Debian's is shaped: protocol 2.15, 16 MiB preferred. */
static void make_image(void)
{
	memset(img, 0, sizeof(img));
	put(0x1f1, SETUP_SECTS, 1);
	put(0x1f4, PM_SIZE / 16, 4);	       /* syssize */
	put(0x1fe, 0xaa55, 2);		       /* boot_flag */
	put(0x200, 0xeb, 1);		       /* jmp */
	put(0x201, 0x6a, 1);		       /* header end: 0x26c */
	put(0x202, 0x53726448, 4);	       /* "HdrS" */
	put(0x206, 0x020f, 2);		       /* version */
	put(0x211, 0x01, 1);		       /* loadflags: LOADED_HIGH */
	put(0x22c, 0x7fffffff, 4);	       /* initrd_addr_max */
	put(0x230, 0x200000, 4);	       /* kernel_alignment */
	put(0x234, 1, 1);		       /* relocatable_kernel */
	put(0x236, 0x3, 2);		       /* xloadflags: 64-bit, above 4G */
	put(0x238, 2047, 4);		       /* cmdline_size */
	put(0x258, 0x1000000, 8);	       /* pref_address */
	put(0x260, 0x2000000, 4);	       /* init_size: 32 MiB */
	put((SETUP_SECTS + 1) * 512, 0x90, 1); /* first byte of the kernel */
}

static int check(void)
{
	return linux_check(img, sizeof(img), &li, why, sizeof(why));
}

static void test_valid_kernel(void **state)
{
	make_image();
	assert_int_equal(check(), 0);
	assert_int_equal(li.setup_size, (SETUP_SECTS + 1) * 512);
	assert_int_equal(li.pm_size, PM_SIZE);
	assert_int_equal(li.init_size, 0x2000000);
	assert_int_equal(li.pref_address, 0x1000000);
	assert_int_equal(li.alignment, 0x200000);
	assert_true(li.relocatable);
	assert_int_equal(li.cmdline_size, 2047);
	assert_int_equal(li.version, 0x020f);
}

static void test_setup_sects_zero_means_four(void **state)
{
	make_image();
	put(0x1f1, 0, 1);
	put(0x1f4, (PM_SIZE - 512) / 16, 4);
	assert_int_equal(check(), 0);
	assert_int_equal(li.setup_size, 5 * 512);
}

static void expect_refused(const char *what)
{
	assert_int_equal(check(), -ENOEXEC);
	assert_non_null(strstr(why, what));
}

static void test_malformed_headers(void **state)
{
	make_image();
	assert_int_equal(linux_check(img, 0x200, &li, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "too short"));
	make_image();
	put(0x1fe, 0x55aa, 2);
	expect_refused("not a bzImage");
	make_image();
	put(0x202, 0x53726449, 4);
	expect_refused("not a bzImage");
	make_image();
	put(0x206, 0x020b, 2);
	expect_refused("older than 2.12");
	make_image();
	put(0x236, 0x2, 2);
	expect_refused("no 64-bit entry");
	make_image();
	put(0x211, 0, 1);
	expect_refused("1 MiB");
	make_image();
	put(0x1f1, 60, 1); /* setup larger than the file */
	expect_refused("leaves no kernel");
	make_image();
	put(0x1f4, PM_SIZE / 16 + 1, 4); /* truncated file */
	expect_refused("truncated");
	make_image();
	put(0x260, PM_SIZE - 16, 4);
	expect_refused("init_size");
	make_image();
	put(0x230, 0x300000, 4);
	expect_refused("power of two");
	make_image();
	put(0x234, 0, 1);
	put(0x258, 0x1001, 8);
	expect_refused("cannot be relocated");
}

static void test_layout_reference(void **state)
{
	make_image();
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 5 * MiB_ + 123, 40, &lay, why, sizeof(why)),
			 0);
	assert_int_equal(lay.kernel_gpa, 0x1000000);
	assert_int_equal(lay.kernel_end, 0x3000000);
	assert_int_equal(lay.entry, 0x1000200);
	/* the initrd ends below the last page (moat's canary), page-aligned */
	assert_int_equal(lay.initrd_gpa % 4096, 0);
	assert_true(lay.initrd_gpa + lay.initrd_size <= 256 * MiB_ - 4096);
	assert_true(lay.initrd_gpa + lay.initrd_size > 256 * MiB_ - 2 * 4096);
	assert_true(lay.initrd_gpa >= lay.kernel_end);
}

static void test_layout_initrd_addr_max(void **state)
{
	make_image();
	put(0x22c, 0x07ffffff, 4); /* 128 MiB - 1 */
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 512 * MiB_, MiB_, 0, &lay, why, sizeof(why)), 0);
	assert_int_equal(lay.initrd_gpa + lay.initrd_size, 128 * MiB_);
}

static void test_layout_misaligned_preference(void **state)
{
	make_image();
	put(0x258, 0x1100000, 8); /* not 2 MiB aligned: the first aligned address instead */
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 0, 0, &lay, why, sizeof(why)), 0);
	assert_int_equal(lay.kernel_gpa, 0x200000);
}

static void test_layout_too_small(void **state)
{
	make_image();
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 32 * MiB_, 0, 0, &lay, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "more memory"));
	assert_int_equal(linux_layout(&li, 64 * MiB_, 40 * MiB_, 0, &lay, why, sizeof(why)),
			 -ENOEXEC);
	assert_non_null(strstr(why, "do not fit"));
	assert_int_equal(linux_layout(&li, 1 * MiB_, 0, 0, &lay, why, sizeof(why)), -ENOEXEC);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 0, 2048, &lay, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "command line"));
	assert_int_equal(linux_layout(&li, 256 * MiB_, 0, 2047, &lay, why, sizeof(why)), 0);
}

static void test_e820(void **state)
{
	struct e820_entry map[8];
	u64 ram = 0;
	unsigned n;

	make_image();
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 0, 0, &lay, why, sizeof(why)), 0);
	n = linux_e820(&lay, map, 8);
	assert_int_equal(n, 5);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			assert_int_equal(map[i].addr, map[i - 1].addr + map[i - 1].size);
		if (map[i].type == E820_RAM)
			ram += map[i].size;
	}
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].type, E820_RESERVED); /* first page: canary */
	assert_int_equal(map[n - 1].addr + map[n - 1].size, 256 * MiB_);
	assert_int_equal(map[n - 1].type, E820_RESERVED); /* last page: canary */
	assert_int_equal(map[2].addr, 0x9f000);
	assert_int_equal(map[2].type, E820_RESERVED);
	assert_int_equal(ram, 256 * MiB_ - 0x61000 - 4096 - 4096);
	assert_int_equal(linux_e820(&lay, map, 2), 2); /* bounded by the room given */
}

static void test_zero_page(void **state)
{
	static u8 zp[LINUX_ZP_SIZE];
	unsigned n;

	make_image();
	put(0x210, 0x42, 1);
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 3 * MiB_, 10, &lay, why, sizeof(why)), 0);
	memset(zp, 0xcc, sizeof(zp));
	linux_zero_page(zp, img, &li, &lay, 0xe0000);
	assert_int_equal(get(zp, 0x1fe, 2), 0xaa55);
	assert_int_equal(get(zp, 0x202, 4), 0x53726448);
	assert_int_equal(get(zp, 0x1f1, 1), SETUP_SECTS);
	assert_int_equal(get(zp, 0x210, 1), 0xff);		/* type_of_loader */
	assert_int_equal(get(zp, 0x1fa, 2), 0xffff);		/* vid_mode */
	assert_int_equal(get(zp, 0x228, 4), LINUX_CMDLINE_GPA); /* cmd_line_ptr */
	assert_int_equal(get(zp, 0x218, 4), lay.initrd_gpa);	/* ramdisk_image */
	assert_int_equal(get(zp, 0x21c, 4), 3 * MiB_);		/* ramdisk_size */
	assert_int_equal(get(zp, 0x258, 8), 0x1000000);		/* pref_address kept */
	assert_int_equal(get(zp, 0x070, 8), 0xe0000);		/* acpi_rsdp_addr */
	n = zp[0x1e8];
	assert_int_equal(n, 5);
	assert_int_equal(get(zp, 0x2d0 + 20 * 3, 8), 0x100000);	     /* addr */
	assert_int_equal(get(zp, 0x2d0 + 20 * 3 + 16, 4), E820_RAM); /* type */
	/* nothing outside the header, the e820 map and the RSDP field */
	assert_int_equal(zp[0x1e0], 0);
	assert_int_equal(zp[0x2d0 + 20 * n], 0);
	assert_int_equal(zp[LINUX_ZP_SIZE - 1], 0);
}

static void test_zero_page_header_length(void **state)
{
	static u8 zp[LINUX_ZP_SIZE];

	/* an image whose header (jump byte) claims more than the zero page has room for */
	make_image();
	put(0x201, 0xff, 1);
	put(0x28f, 0x77, 1);
	put(0x290, 0x99, 1);
	assert_int_equal(check(), 0);
	assert_int_equal(linux_layout(&li, 256 * MiB_, 0, 0, &lay, why, sizeof(why)), 0);
	linux_zero_page(zp, img, &li, &lay, 0);
	assert_int_equal(zp[0x28f], 0x77);
	assert_int_equal(zp[0x290], 0);
}

/* SDM Vol. 3A 3.4.5: the flat 64-bit code and data descriptors Linux's own GDT holds for
 * __BOOT_CS and __BOOT_DS (less the accessed bit). */
static void test_boot_gdt(void **state)
{
	u64 gdt[LINUX_GDT_ENTRIES];

	linux_boot_gdt(gdt);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[LINUX_BOOT_CS / 8], 0x00af9a000000ffffULL);
	assert_int_equal(gdt[LINUX_BOOT_DS / 8], 0x00cf92000000ffffULL);
}

static void test_cmdline_tsc(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(linux_cmdline(out, sizeof(out), "console=ttyS0", 2500000), 35);
	assert_string_equal(out, "console=ttyS0 tsc_early_khz=2500000");
	assert_int_equal(linux_cmdline(out, sizeof(out), "", 1000), 18);
	assert_string_equal(out, "tsc_early_khz=1000");
	/* the user's own value wins; a word that merely ends the same way does not count */
	linux_cmdline(out, sizeof(out), "tsc_early_khz=5 quiet", 2500000);
	assert_string_equal(out, "tsc_early_khz=5 quiet");
	linux_cmdline(out, sizeof(out), "xtsc_early_khz=5", 7);
	assert_string_equal(out, "xtsc_early_khz=5 tsc_early_khz=7");
	/* unknown TSC rate: nothing added */
	linux_cmdline(out, sizeof(out), "quiet", 0);
	assert_string_equal(out, "quiet");
	/* too long for the buffer: 0 */
	assert_int_equal(linux_cmdline(out, 20, "console=ttyS0", 2500000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kernel),
		cmocka_unit_test(test_setup_sects_zero_means_four),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_layout_reference),
		cmocka_unit_test(test_layout_initrd_addr_max),
		cmocka_unit_test(test_layout_misaligned_preference),
		cmocka_unit_test(test_layout_too_small),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_zero_page),
		cmocka_unit_test(test_zero_page_header_length),
		cmocka_unit_test(test_boot_gdt),
		cmocka_unit_test(test_cmdline_tsc),
	};

	return cmocka_run_group_tests_name("linux_boot", tests, NULL, NULL);
}
