/* The multiboot2 boot information parser: tags as GRUB writes them, the EFI memory map
 * fallback, and malformed tags that must not be trusted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include <moat/boot_info.h>
#include "boot/multiboot2/mb2.h"

char __image_start[16], __image_end[16];

/* mb2_entry ends in kmain: the tests that call it come back through kmain_return. */
static jmp_buf kmain_return;
static bool kmain_expected;
static struct boot_info kmain_bi;

void kmain(const struct boot_info *bi)
{
	if (!kmain_expected)
		abort();
	kmain_bi = *bi;
	longjmp(kmain_return, 1);
}

static u8 info[4096] __attribute__((aligned(8)));
static size_t pos;

static void *tag(u32 type, u32 size)
{
	struct mb2_tag *t = (void *)(info + pos);

	t->type = type;
	t->size = size;
	pos += (size + 7) & ~7u;
	return t;
}

static void begin(void)
{
	memset(info, 0, sizeof(info));
	pos = 8;
}

static void end(void)
{
	tag(MB2_TAG_END, 8);
	((u32 *)info)[0] = (u32)pos;
}

static u64 sum_type(const struct boot_info *bi, u32 type)
{
	u64 s = 0;

	for (u32 i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == type)
			s += bi->mem[i].length;
	return s;
}

static void test_cmdline_modules_mmap(void **state)
{
	static struct boot_info bi;
	struct mb2_tag_mmap *mm;
	struct mb2_mmap_entry *e;
	struct mb2_tag_module *m;

	begin();
	memcpy((char *)tag(MB2_TAG_CMDLINE, 8 + 13) + 8, "exit=bochs a", 13);
	m = tag(MB2_TAG_MODULE, sizeof(*m) + 7);
	m->mod_start = 0x800000;
	m->mod_end = 0x800123;
	memcpy(m->cmdline, "config", 7);
	mm = tag(MB2_TAG_MMAP, sizeof(*mm) + 3 * sizeof(*e));
	mm->entry_size = sizeof(*e);
	e = (void *)(mm + 1);
	e[0] = (struct mb2_mmap_entry){0, 0x9fc00, MB2_MEM_AVAILABLE, 0};
	e[1] = (struct mb2_mmap_entry){0x100000, 0x3ff00000, MB2_MEM_AVAILABLE, 0};
	e[2] = (struct mb2_mmap_entry){0xfffc0000, 0x40000, MB2_MEM_RESERVED, 0};
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(bi.method, BOOT_MULTIBOOT2);
	assert_string_equal(bi.cmdline, "exit=bochs a");
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].name, "config");
	assert_int_equal(bi.modules[0].end, 0x800123);
	assert_int_equal(sum_type(&bi, MEM_USABLE), 0x9fc00 + 0x3ff00000);
	assert_int_equal(sum_type(&bi, MEM_RESERVED), 0x40000);
	/* The boot information and the module are kept out of the allocator's reach. */
	assert_true(sum_type(&bi, MEM_BOOT_DATA) >= 0x2000);
	assert_true(sum_type(&bi, MEM_BOOT_DATA) <= 0x3000);
	(void)state;
}

static void test_efi_mmap_fallback(void **state)
{
	static struct boot_info bi;
	struct mb2_tag_efi_mmap *t;
	u8 *d;
	const u32 dsz = 48; /* firmware descriptors larger than the structure */

	begin();
	t = tag(MB2_TAG_EFI_MMAP, sizeof(*t) + 3 * dsz);
	t->descr_size = dsz;
	d = (u8 *)(t + 1);
	*(struct mb2_efi_desc *)d = (struct mb2_efi_desc){7, 0, 0x100000, 0, 0x100, 0};
	*(struct mb2_efi_desc *)(d + dsz) = (struct mb2_efi_desc){9, 0, 0x200000, 0, 4, 0};
	*(struct mb2_efi_desc *)(d + 2 * dsz) = (struct mb2_efi_desc){4, 0, 0x300000, 0, 2, 0};
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(sum_type(&bi, MEM_USABLE), 0x102000);
	assert_int_equal(sum_type(&bi, MEM_ACPI_RECLAIM), 0x4000);
	(void)state;
}

static void test_mmap_tag_wins_over_efi(void **state)
{
	static struct boot_info bi;
	struct mb2_tag_efi_mmap *t;
	struct mb2_tag_mmap *mm;

	begin();
	t = tag(MB2_TAG_EFI_MMAP, sizeof(*t) + 40);
	t->descr_size = 40;
	*(struct mb2_efi_desc *)(t + 1) = (struct mb2_efi_desc){7, 0, 0x100000, 0, 0x100, 0};
	mm = tag(MB2_TAG_MMAP, sizeof(*mm) + sizeof(struct mb2_mmap_entry));
	mm->entry_size = sizeof(struct mb2_mmap_entry);
	*(struct mb2_mmap_entry *)(mm + 1) = (struct mb2_mmap_entry){0x100000, 0x1000, 1, 0};
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(sum_type(&bi, MEM_USABLE), 0x1000);
	(void)state;
}

static void test_malformed_tags_stop_the_walk(void **state)
{
	static struct boot_info bi;
	struct mb2_tag_mmap *mm;

	/* A tag shorter than its header, then one running past the total size. */
	begin();
	memcpy((char *)tag(MB2_TAG_CMDLINE, 8 + 3) + 8, "ok", 3);
	tag(MB2_TAG_MODULE, 4);
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_string_equal(bi.cmdline, "ok");
	assert_int_equal(bi.nr_modules, 0);

	begin();
	mm = tag(MB2_TAG_MMAP, sizeof(*mm) + 24);
	mm->entry_size = 24;
	mm->size = 4000; /* claims more than the information holds */
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(sum_type(&bi, MEM_USABLE), 0);

	/* An entry size smaller than an entry: ignored, not misread. */
	begin();
	mm = tag(MB2_TAG_MMAP, sizeof(*mm) + 24);
	mm->entry_size = 8;
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(sum_type(&bi, MEM_USABLE), 0);
	(void)state;
}

/* Found by tests/fuzz/mb2: a tag shorter than its type's fixed part is ignored (not read
 * past, not read from the next tag) and named in boot_problem; a command line or module
 * name without a NUL ends with its tag. */
static void test_short_tags_and_unterminated_strings(void **state)
{
	static struct boot_info bi;
	struct mb2_tag_module *m;

	begin();
	memcpy((char *)tag(MB2_TAG_CMDLINE, 8 + 4) + 8, "abcd", 4);
	tag(MB2_TAG_EFI64, 8);
	m = tag(MB2_TAG_MODULE, sizeof(*m) + 3);
	memcpy(m->cmdline, "xyz", 3);
	tag(MB2_TAG_MMAP, 12);
	memset((char *)tag(0x99, 64), 0x5a, 64);
	end();
	memset(&bi, 0xff, sizeof(bi));
	bi.boot_problem[0] = 0;
	bi.nr_mem = bi.nr_modules = 0;
	bi.efi_system_table = 0;
	mb2_parse(&bi, info);
	assert_string_equal(bi.cmdline, "abcd");
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].name, "xyz");
	assert_int_equal(bi.efi_system_table, 0);
	assert_string_equal(
		bi.boot_problem,
		"multiboot2 tag type 12 of 8 bytes is shorter than its type needs; ignored");
	(void)state;
}

static void test_rsdp_new_wins(void **state)
{
	static struct boot_info bi;
	u8 *p;

	begin();
	p = tag(MB2_TAG_ACPI_NEW, 8 + 36);
	memcpy(p + 8, "RSD PTR v2", 10);
	p = tag(MB2_TAG_ACPI_OLD, 8 + 20);
	memcpy(p + 8, "RSD PTR v1", 10);
	end();
	memset(&bi, 0, sizeof(bi));
	mb2_parse(&bi, info);
	assert_int_equal(bi.rsdp_copy_len, 36);
	assert_memory_equal(bi.rsdp_copy, "RSD PTR v2", 10);
	(void)state;
}

/* A start without the bootloader's magic is an error of its own in the hand-over, with the
 * value found, not a word slipped into the command line. */
static void test_bad_magic_flagged(void **state)
{
	(void)state;
	kmain_expected = true;
	if (!setjmp(kmain_return))
		mb2_entry(0x2badb002u, 0);
	kmain_expected = false;
	assert_int_equal(kmain_bi.method, BOOT_MULTIBOOT2);
	assert_true(kmain_bi.entry_errors & BOOT_ENTRY_BAD_MAGIC);
	assert_int_equal(kmain_bi.entry_magic, 0x2badb002u);
	assert_string_equal(kmain_bi.cmdline, "");
	assert_int_equal(kmain_bi.nr_mem, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_modules_mmap),
		cmocka_unit_test(test_bad_magic_flagged),
		cmocka_unit_test(test_efi_mmap_fallback),
		cmocka_unit_test(test_mmap_tag_wins_over_efi),
		cmocka_unit_test(test_malformed_tags_stop_the_walk),
		cmocka_unit_test(test_rsdp_new_wins),
		cmocka_unit_test(test_short_tags_and_unterminated_strings),
	};
	return cmocka_run_group_tests_name("mb2", tests, NULL, NULL);
}
