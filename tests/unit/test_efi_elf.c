/* The UEFI loader's check of the embedded moat.elf: segments and the moat_header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "boot/efi/elf_image.h"
#include "host_shim.h"

/* A small image shaped like moat.elf: text at 0x200000 holding the header at +0x40,
 * rodata, and data whose memory size covers a .bss. */
#define F_SIZE 0x4000
#define PH_OFF 64

struct elf_file {
	u8 *buf;
	size_t size;
};

static struct elf64_ehdr *ehdr(struct elf_file *f)
{
	return (struct elf64_ehdr *)f->buf;
}

static struct elf64_phdr *phdr(struct elf_file *f, unsigned i)
{
	return (struct elf64_phdr *)(f->buf + PH_OFF + i * sizeof(struct elf64_phdr));
}

static void set_header(struct elf_file *f, u64 file_off, u64 entry, u64 start, u64 end)
{
	struct moat_header h = {.entry64 = entry, .image_start = start, .image_end = end};

	memcpy(h.magic, MOAT_HEADER_MAGIC, 8);
	memcpy(f->buf + file_off, &h, sizeof(h));
}

static int setup(void **state)
{
	struct elf_file *f = calloc(1, sizeof(*f));
	struct elf64_ehdr *eh;

	f->size = F_SIZE;
	f->buf = calloc(1, F_SIZE);
	eh = ehdr(f);
	memcpy(eh->ident,
	       "\x7f"
	       "ELF",
	       4);
	eh->ident[4] = ELF_CLASS64;
	eh->ident[5] = ELF_DATA_LSB;
	eh->type = ELF_ET_EXEC;
	eh->machine = ELF_MACHINE_X86_64;
	eh->phoff = PH_OFF;
	eh->phentsize = sizeof(struct elf64_phdr);
	eh->phnum = 4;
	*phdr(f, 0) = (struct elf64_phdr){.type = ELF_PT_LOAD,
					  .flags = 5,
					  .offset = 0x1000,
					  .paddr = 0x200000,
					  .filesz = 0x1000,
					  .memsz = 0x1000};
	*phdr(f, 1) = (struct elf64_phdr){.type = 4 /* PT_NOTE: skipped */};
	*phdr(f, 2) = (struct elf64_phdr){.type = ELF_PT_LOAD,
					  .flags = 4,
					  .offset = 0x2000,
					  .paddr = 0x201000,
					  .filesz = 0x800,
					  .memsz = 0x800};
	*phdr(f, 3) = (struct elf64_phdr){.type = ELF_PT_LOAD,
					  .flags = 6,
					  .offset = 0x3000,
					  .paddr = 0x202000,
					  .filesz = 0x100,
					  .memsz = 0x20000};
	set_header(f, 0x1040, 0x200100, 0x200000, 0x222000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct elf_file *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

static int parse(struct elf_file *f, struct moat_image *img, const char **why)
{
	return moat_elf_parse(f->buf, f->size, img, why);
}

static void test_valid_image(void **state)
{
	struct elf_file *f = *state;
	struct moat_image img;
	const char *why = NULL;

	assert_int_equal(parse(f, &img, &why), 0);
	assert_int_equal(img.nr_segs, 3);
	assert_int_equal(img.load_start, 0x200000);
	assert_int_equal(img.load_end, 0x222000);
	assert_int_equal(img.hdr.entry64, 0x200100);
	assert_int_equal(img.segs[2].memsz, 0x20000);
	assert_int_equal(img.segs[2].offset, 0x3000);
}

static void expect_error(struct elf_file *f, int err, const char *why_part)
{
	struct moat_image img;
	const char *why = NULL;

	assert_int_equal(parse(f, &img, &why), err);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
}

static void test_bad_ident(void **state)
{
	struct elf_file *f = *state;

	f->buf[1] = 'X';
	expect_error(f, -ENOEXEC, "ELF magic");
	f->buf[1] = 'E';
	f->buf[4] = 1; /* ELFCLASS32 */
	expect_error(f, -ENOEXEC, "ELF64");
	f->buf[4] = ELF_CLASS64;
	ehdr(f)->machine = 3;
	expect_error(f, -ENOEXEC, "x86-64");
	ehdr(f)->machine = ELF_MACHINE_X86_64;
	ehdr(f)->type = 3; /* ET_DYN */
	expect_error(f, -ENOEXEC, "executable");
}

static void test_short_file(void **state)
{
	struct elf_file *f = *state;

	f->size = 63;
	expect_error(f, -ENOEXEC, "shorter");
	f->size = PH_OFF + 2 * sizeof(struct elf64_phdr);
	expect_error(f, -ENOEXEC, "program header table");
}

static void test_program_header_overflow(void **state)
{
	struct elf_file *f = *state;

	ehdr(f)->phoff = ~0ULL - 8;
	expect_error(f, -ENOEXEC, "program header table");
	ehdr(f)->phoff = PH_OFF;
	ehdr(f)->phnum = 0xffff;
	expect_error(f, -ENOEXEC, "program header table");
	ehdr(f)->phnum = 4;
	ehdr(f)->phentsize = 32;
	expect_error(f, -ENOEXEC, "program header table");
}

static void test_segment_checks(void **state)
{
	struct elf_file *f = *state;

	phdr(f, 2)->filesz = 0x900;
	phdr(f, 2)->memsz = 0x800;
	expect_error(f, -ENOEXEC, "file size larger");
	phdr(f, 2)->memsz = 0x900;
	phdr(f, 2)->offset = F_SIZE - 0x100;
	expect_error(f, -ENOEXEC, "beyond the end of the file");
	phdr(f, 2)->offset = 0x2000;
	phdr(f, 2)->paddr = 0x200800; /* into the text segment */
	expect_error(f, -ENOEXEC, "overlap");
	phdr(f, 2)->paddr = ~0ULL - 0x100;
	expect_error(f, -ENOEXEC, "address space");
}

static void test_no_load_segments(void **state)
{
	struct elf_file *f = *state;

	for (unsigned i = 0; i < 4; i++)
		phdr(f, i)->type = 6;
	expect_error(f, -ENOEXEC, "no PT_LOAD");
}

static void test_too_many_segments(void **state)
{
	struct elf_file *f = *state;

	ehdr(f)->phnum = MOAT_MAX_SEGMENTS + 1;
	for (unsigned i = 0; i < MOAT_MAX_SEGMENTS + 1; i++)
		*phdr(f, i) = (struct elf64_phdr){.type = ELF_PT_LOAD,
						  .offset = 0x1000,
						  .paddr = 0x200000 + i * 0x1000,
						  .filesz = 0x1000,
						  .memsz = 0x1000};
	expect_error(f, -E2BIG, "too many");
}

static void test_header_checks(void **state)
{
	struct elf_file *f = *state;

	memset(f->buf + 0x1040, 0, 8);
	expect_error(f, -ENOEXEC, "no moat_header");
	/* in the .bss part (beyond filesz) it is not data the loader copies */
	set_header(f, 0x3100, 0x200100, 0x200000, 0x222000);
	expect_error(f, -ENOEXEC, "no moat_header");
	memset(f->buf + 0x3100, 0, 32);
	set_header(f, 0x1040, 0x300000, 0x200000, 0x222000);
	expect_error(f, -ENOEXEC, "entry64");
	set_header(f, 0x1040, 0x202200, 0x200000, 0x222000); /* in .bss: not code */
	expect_error(f, -ENOEXEC, "entry64");
	set_header(f, 0x1040, 0x200100, 0x200000, 0x400000);
	expect_error(f, -ENOEXEC, "image range");
	set_header(f, 0x1040, 0x200100, 0x222000, 0x200000);
	expect_error(f, -ENOEXEC, "image range");
	/* found in a later segment too, at an 8-byte aligned address */
	memset(f->buf + 0x1040, 0, 32);
	set_header(f, 0x2008, 0x200100, 0x200000, 0x222000);
	assert_int_equal(parse(f, &(struct moat_image){0}, &(const char *){NULL}), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_header_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_load_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
