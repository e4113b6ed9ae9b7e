/* The guest image checks (vmm/elf.c on the shared validator, lib/elf.c) with well-formed
 * and malformed ELF files, at any alignment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "vmm/elf.h"
#include "host_shim.h"

#define RAM (4 << 20)

/* A misaligned access is a failure here, not a message (the file's headers may sit at any
 * address: a boot module, or a program header table at an odd offset). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

struct ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

static struct {
	struct ehdr eh;
	struct phdr ph[2];
	u8 code[64];
	u8 data[32];
} img;

static char why[160];
static u64 entry;

/* A valid image: text at 1 MiB (entry there), data + bss at 1 MiB + 4 KiB. */
static void make_image(void)
{
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.ident, "\177ELF\2\1\1", 7);
	img.eh.type = 2;
	img.eh.machine = 62;
	img.eh.version = 1;
	img.eh.entry = 0x100010;
	img.eh.phoff = offsetof(typeof(img), ph);
	img.eh.ehsize = sizeof(img.eh);
	img.eh.phentsize = sizeof(struct phdr);
	img.eh.phnum = 2;
	img.ph[0] =
		(struct phdr){1, 5, offsetof(typeof(img), code), 0x100000, 0x100000, 64, 64, 4096};
	img.ph[1] = (struct phdr){1,	6,   offsetof(typeof(img), data), 0x101000, 0x101000, 32,
				  8192, 4096};
	memset(img.code, 0x90, sizeof(img.code));
	memset(img.data, 0x5a, sizeof(img.data));
}

static int check_img(void)
{
	return elf_check(&img, sizeof(img), RAM, &entry, why, sizeof(why));
}

static void expect_refused(const char *needle)
{
	int err = check_img();

	assert_int_equal(err, -ENOEXEC);
	if (!strstr(why, needle))
		fail_msg("reason '%s' should mention '%s'", why, needle);
	make_image();
}

static void test_valid_and_load(void **state)
{
	u8 *ram = calloc(1, RAM);

	make_image();
	assert_int_equal(check_img(), 0);
	assert_int_equal(entry, 0x100010);
	memset(ram + 0x101000, 0xee, 8192);
	elf_load(&img, ram);
	assert_int_equal(ram[0x100000], 0x90);
	assert_int_equal(ram[0x101000 + 31], 0x5a);
	assert_int_equal(ram[0x101000 + 32], 0); /* bss zeroed */
	assert_int_equal(ram[0x101000 + 8191], 0);
	assert_int_equal(ram[0x101000 + 8192], 0); /* untouched beyond memsz (calloc) */
	free(ram);
}

static void test_malformed_headers(void **state)
{
	make_image();
	assert_int_equal(elf_check(&img, 10, RAM, &entry, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "shorter than an ELF header"));

	img.eh.ident[1] = 'X';
	expect_refused("no ELF magic");
	img.eh.ident[4] = 1;
	expect_refused("ELF64");
	img.eh.ident[5] = 2;
	expect_refused("little-endian");
	img.eh.type = 3;
	expect_refused("not an x86-64 executable");
	img.eh.machine = 3;
	expect_refused("machine 3");
	img.eh.phentsize = 32;
	expect_refused("program header table");
	img.eh.phnum = 0;
	expect_refused("program header table");
	img.eh.phnum = 1000;
	expect_refused("program header table");
	img.eh.phoff = sizeof(img) - 10;
	expect_refused("program header table beyond the end of the file");
	img.eh.phoff = ~0ULL - 8;
	expect_refused("program header table beyond the end of the file");
}

static void test_bad_segments(void **state)
{
	make_image();
	img.ph[0].offset = sizeof(img) + 1;
	expect_refused("segment 0: file bytes beyond the end of the file");
	img.ph[1].filesz = ~0ULL;
	expect_refused("segment 1: file bytes beyond the end of the file");
	img.ph[1].memsz = 16;
	expect_refused("segment 1: file size larger than memory size");
	img.ph[0].paddr = 0x1000; /* over moat's boot tables */
	expect_refused("outside guest RAM");
	img.ph[1].paddr = RAM - 4096; /* bss runs past the end */
	expect_refused("outside guest RAM");
	img.ph[1].paddr = RAM;
	expect_refused("outside guest RAM");
	img.ph[1].paddr = 0xfffffffffffff000ULL; /* wraps around */
	expect_refused("segment 1: zero size or past the end of the address space");
	img.ph[1].memsz = ~0ULL;
	expect_refused("segment 1: zero size or past the end of the address space");
	img.ph[0].type = 4;
	img.ph[1].type = 4;
	expect_refused("no PT_LOAD segment");
	img.eh.entry = 0x101000; /* data, not executable */
	expect_refused("entry point");
	img.eh.entry = 0x100040; /* just past the text */
	expect_refused("entry point");
}

static void test_overlap_and_empty_segments(void **state)
{
	make_image();
	img.ph[1].paddr = 0x100020; /* into the text */
	expect_refused("segment 1: segments overlap");
	img.ph[0].memsz = img.ph[0].filesz = 0;
	expect_refused("segment 0: zero size");
}

/* The headers read at an odd address (the whole file) and at an odd offset (the program
 * header table): checked and loaded the same as aligned. */
static void test_unaligned_headers(void **state)
{
	static u64 buf[128];
	u8 *odd = (u8 *)buf + 1, *ram = calloc(1, RAM);
	struct ehdr eh;
	size_t ph_off = sizeof(eh) + 1, code_off = 256, data_off = 320, size = 400;

	make_image();
	memcpy(odd, &img, sizeof(img));
	assert_int_equal(elf_check(odd, sizeof(img), RAM, &entry, why, sizeof(why)), 0);
	assert_int_equal(entry, 0x100010);
	elf_load(odd, ram);
	assert_int_equal(ram[0x100000], 0x90);
	assert_int_equal(ram[0x101000 + 31], 0x5a);

	memset(buf, 0, sizeof(buf));
	memset(ram, 0, RAM);
	eh = img.eh;
	eh.phoff = ph_off;
	img.ph[0].offset = code_off;
	img.ph[1].offset = data_off;
	memcpy(buf, &eh, sizeof(eh));
	memcpy((u8 *)buf + ph_off, img.ph, sizeof(img.ph));
	memcpy((u8 *)buf + code_off, img.code, sizeof(img.code));
	memcpy((u8 *)buf + data_off, img.data, sizeof(img.data));
	assert_int_equal(elf_check(buf, size, RAM, &entry, why, sizeof(why)), 0);
	elf_load(buf, ram);
	assert_int_equal(ram[0x100000 + 63], 0x90);
	assert_int_equal(ram[0x101000], 0x5a);
	free(ram);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_load),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_bad_segments),
		cmocka_unit_test(test_overlap_and_empty_segments),
		cmocka_unit_test(test_unaligned_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
