/* The UEFI loader's pure conversions: memory map -> mem_ranges, load options and moat.cmd
 * -> command line, GOP pixel format -> boot_fb. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "boot/efi/convert.h"
#include "host_shim.h"

#define PG 4096ULL

/* A firmware map buffer with descriptors of any size; extra bytes are filled with junk. */
struct fw_map {
	u8 *buf;
	size_t desc_size, nr, cap;
};

static void map_init(struct fw_map *m, size_t desc_size, size_t cap)
{
	m->buf = malloc(desc_size * cap);
	memset(m->buf, 0xee, desc_size * cap);
	m->desc_size = desc_size;
	m->nr = 0;
	m->cap = cap;
}

static void map_add_attr(struct fw_map *m, u32 type, u64 start, u64 pages, u64 attr)
{
	struct efi_mem_desc d = {.type = type,
				 .pad = 0xdeadbeef,
				 .phys_start = start,
				 .virt_start = 0x1234,
				 .nr_pages = pages,
				 .attribute = attr};

	assert_true(m->nr < m->cap);
	memcpy(m->buf + m->nr++ * m->desc_size, &d, sizeof(d));
}

static void map_add(struct fw_map *m, u32 type, u64 start, u64 pages)
{
	map_add_attr(m, type, start, pages, 0xf);
}

static int convert(struct fw_map *m, const struct efi_keep *keep, unsigned nr_keep,
		   struct mem_range *out, u32 max, u32 *nr, struct efi_mmap_stats *st)
{
	return efi_mmap_convert(m->buf, m->nr * m->desc_size, m->desc_size, keep, nr_keep, out, max,
				nr, st);
}

static void assert_range(const struct mem_range *r, u64 base, u64 length, u32 type)
{
	assert_int_equal(r->base, base);
	assert_int_equal(r->length, length);
	assert_int_equal(r->type, type);
}

static void test_type_mapping(void **state)
{
	static const struct {
		u32 efi, moat;
	} table[] = {
		{EFI_KIND_RESERVED, MEM_RESERVED},
		{EFI_KIND_LOADER_CODE, MEM_USABLE},
		{EFI_KIND_LOADER_DATA, MEM_USABLE},
		{EFI_KIND_BS_CODE, MEM_USABLE},
		{EFI_KIND_BS_DATA, MEM_USABLE},
		{EFI_KIND_RT_CODE, MEM_RESERVED},
		{EFI_KIND_RT_DATA, MEM_RESERVED},
		{EFI_KIND_CONVENTIONAL, MEM_USABLE},
		{EFI_KIND_UNUSABLE, MEM_BAD},
		{EFI_KIND_ACPI_RECLAIM, MEM_ACPI_RECLAIM},
		{EFI_KIND_ACPI_NVS, MEM_ACPI_NVS},
		{EFI_KIND_MMIO, MEM_MMIO},
		{EFI_KIND_MMIO_PORT, MEM_MMIO},
		{EFI_KIND_PAL_CODE, MEM_RESERVED},
		{EFI_KIND_PERSISTENT, MEM_PERSISTENT},
		{EFI_KIND_UNACCEPTED, MEM_RESERVED},
		{16, MEM_RESERVED},
		{0x70000000, MEM_RESERVED},
		{0x80000001, MEM_RESERVED},
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		assert_int_equal(efi_mem_type_to_moat(table[i].efi, 0xf), table[i].moat);
	/* Specific-purpose memory is not general RAM even when conventional. */
	assert_int_equal(efi_mem_type_to_moat(EFI_KIND_CONVENTIONAL, EFI_MEM_ATTR_SP),
			 MEM_RESERVED);
	(void)state;
}

/* The shape of OVMF's map: usable kinds interleaved, merged into one range each run. */
static void test_merge_and_gaps(void **state)
{
	struct mem_range out[16];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 16);
	map_add(&m, EFI_KIND_BS_CODE, 0, 1);
	map_add(&m, EFI_KIND_CONVENTIONAL, PG, 0x9f);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 0x100);
	map_add(&m, EFI_KIND_LOADER_CODE, 0x200000, 0x10);
	map_add(&m, EFI_KIND_BS_DATA, 0x210000, 0x5f0);
	map_add(&m, EFI_KIND_ACPI_NVS, 0x800000, 8);
	map_add(&m, EFI_KIND_RT_DATA, 0x808000, 8);
	map_add(&m, EFI_KIND_RESERVED, 0x810000, 0xf0);
	map_add(&m, EFI_KIND_ACPI_RECLAIM, 0x3f77d000, 1);
	map_add(&m, EFI_KIND_MMIO, 0xffc00000, 0x400);
	assert_int_equal(convert(&m, NULL, 0, out, 16, &nr, &st), 0);
	assert_int_equal(nr, 6);
	assert_range(&out[0], 0, 0xa0000, MEM_USABLE);
	assert_range(&out[1], 0x100000, 0x700000, MEM_USABLE);
	assert_range(&out[2], 0x800000, 0x8000, MEM_ACPI_NVS);
	assert_range(&out[3], 0x808000, 0x8000 + 0xf0000, MEM_RESERVED);
	assert_range(&out[4], 0x3f77d000, PG, MEM_ACPI_RECLAIM);
	assert_range(&out[5], 0xffc00000, 0x400000, MEM_MMIO);
	assert_int_equal(st.nr_desc, 10);
	assert_int_equal(st.nr_needed, 6);
	assert_int_equal(st.nr_overlaps, 0);
	assert_int_equal(st.dropped_bytes, 0);
	free(m.buf);
	(void)state;
}

/* Descriptor sizes other than 40 bytes: step by the reported size, read unaligned. */
static void test_descriptor_sizes(void **state)
{
	static const size_t sizes[] = {40, 41, 48, 56, 136};
	struct mem_range out[4];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		map_init(&m, sizes[i], 4);
		map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 0x100);
		map_add(&m, EFI_KIND_RESERVED, 0x200000, 0x10);
		map_add(&m, EFI_KIND_BS_DATA, 0x300000, 0x10);
		assert_int_equal(convert(&m, NULL, 0, out, 4, &nr, &st), 0);
		assert_int_equal(nr, 3);
		assert_range(&out[0], 0x100000, 0x100000, MEM_USABLE);
		assert_range(&out[1], 0x200000, 0x10000, MEM_RESERVED);
		assert_range(&out[2], 0x300000, 0x10000, MEM_USABLE);
		free(m.buf);
	}
	(void)state;
}

static void test_descriptor_too_small(void **state)
{
	u8 buf[64] = {0};
	struct mem_range out[2] = {{1, 1, 1, 0}};
	struct efi_mmap_stats st;
	u32 nr = 99;

	assert_int_equal(efi_mmap_convert(buf, sizeof(buf), 32, NULL, 0, out, 2, &nr, &st),
			 -EINVAL);
	assert_int_equal(nr, 0);
	assert_int_equal(efi_mmap_convert(buf, sizeof(buf), 0, NULL, 0, out, 2, &nr, &st), -EINVAL);
	assert_int_equal(out[0].base, 1); /* untouched */
	(void)state;
}

static void test_empty_map_and_trailing_bytes(void **state)
{
	struct mem_range out[2];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr = 7;

	map_init(&m, 48, 2);
	assert_int_equal(convert(&m, NULL, 0, out, 2, &nr, &st), 0);
	assert_int_equal(nr, 0);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 1);
	/* 20 bytes of a second, partial descriptor */
	assert_int_equal(efi_mmap_convert(m.buf, 48 + 20, 48, NULL, 0, out, 2, &nr, &st), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(st.nr_desc, 1);
	assert_int_equal(st.trailing, 20);
	free(m.buf);
	(void)state;
}

/* Zero-length descriptors are ignored and do not split a merge. */
static void test_zero_length(void **state)
{
	struct mem_range out[4];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 40, 4);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 0x10);
	map_add(&m, EFI_KIND_RESERVED, 0x110000, 0);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x110000, 0x10);
	map_add(&m, EFI_KIND_MMIO, 0, 0);
	assert_int_equal(convert(&m, NULL, 0, out, 4, &nr, &st), 0);
	assert_int_equal(nr, 1);
	assert_range(&out[0], 0x100000, 0x20000, MEM_USABLE);
	assert_int_equal(st.nr_empty, 2);
	free(m.buf);
	(void)state;
}

/* Overlaps never make memory more usable than the strictest descriptor says. */
static void test_overlaps(void **state)
{
	struct mem_range out[8];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 8);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 0x10); /* 1M .. 1M+64K */
	map_add(&m, EFI_KIND_RESERVED, 0x104000, 4);	    /* inside it */
	map_add(&m, EFI_KIND_ACPI_RECLAIM, 0x200000, 4);
	map_add(&m, EFI_KIND_ACPI_NVS, 0x202000, 4); /* straddles the end */
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x300000, 4);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x300000, 4); /* exact duplicate */
	assert_int_equal(convert(&m, NULL, 0, out, 8, &nr, &st), 0);
	assert_int_equal(nr, 6);
	assert_range(&out[0], 0x100000, 0x4000, MEM_USABLE);
	assert_range(&out[1], 0x104000, 0x4000, MEM_RESERVED);
	assert_range(&out[2], 0x108000, 0x8000, MEM_USABLE);
	assert_range(&out[3], 0x200000, 0x2000, MEM_ACPI_RECLAIM);
	assert_range(&out[4], 0x202000, 0x4000, MEM_ACPI_NVS);
	assert_range(&out[5], 0x300000, 0x4000, MEM_USABLE);
	assert_int_equal(st.nr_overlaps, 3);
	free(m.buf);
	(void)state;
}

static void test_unsorted_input(void **state)
{
	struct mem_range out[4];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 4);
	map_add(&m, EFI_KIND_MMIO, 0xfec00000, 1);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 0x100);
	map_add(&m, EFI_KIND_BS_DATA, 0, 0xa0);
	map_add(&m, EFI_KIND_LOADER_DATA, 0x200000, 0x100);
	assert_int_equal(convert(&m, NULL, 0, out, 4, &nr, &st), 0);
	assert_int_equal(nr, 3);
	assert_range(&out[0], 0, 0xa0000, MEM_USABLE);
	assert_range(&out[1], 0x100000, 0x200000, MEM_USABLE);
	assert_range(&out[2], 0xfec00000, PG, MEM_MMIO);
	free(m.buf);
	(void)state;
}

static void test_invalid_descriptors(void **state)
{
	struct mem_range out[4];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 4);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100800, 1);		  /* unaligned */
	map_add(&m, EFI_KIND_CONVENTIONAL, 0xfffffffffff00000ULL, 0x200); /* wraps past 2^64 */
	map_add(&m, EFI_KIND_RESERVED, 0xffffffffffff0000ULL, 0xf);	  /* ends at 2^64 - 4K */
	map_add(&m, EFI_KIND_CONVENTIONAL, 0, ~0ULL);			  /* absurd page count */
	assert_int_equal(convert(&m, NULL, 0, out, 4, &nr, &st), 0);
	assert_int_equal(nr, 1);
	assert_range(&out[0], 0xffffffffffff0000ULL, 0xf000, MEM_RESERVED);
	assert_int_equal(st.nr_invalid, 3);
	free(m.buf);
	(void)state;
}

/* Loader allocations moat keeps become boot data; partial pages round outwards; a kept
 * range over reserved memory stays reserved. */
static void test_keep_ranges(void **state)
{
	const struct efi_keep keep[] = {
		{0x200000, 0x231000}, /* the image */
		{0x9e000, PG},	      /* trampoline */
		{0x7000100, 0x20},    /* boot_info, unaligned */
		{0xfee00000, PG},     /* over MMIO: stays MMIO */
		{0x5000000, 0},	      /* empty: ignored */
	};
	struct mem_range out[16];
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 4);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0, 0x9f);
	map_add(&m, EFI_KIND_LOADER_CODE, 0x100000, 0x7f00);
	map_add(&m, EFI_KIND_MMIO, 0xfee00000, 1);
	assert_int_equal(convert(&m, keep, ARRAY_SIZE(keep), out, 16, &nr, &st), 0);
	assert_int_equal(nr, 8);
	assert_range(&out[0], 0, 0x9e000, MEM_USABLE);
	assert_range(&out[1], 0x9e000, PG, MEM_BOOT_DATA);
	assert_range(&out[2], 0x100000, 0x100000, MEM_USABLE);
	assert_range(&out[3], 0x200000, 0x231000, MEM_BOOT_DATA);
	assert_range(&out[4], 0x431000, 0x7000000 - 0x431000, MEM_USABLE);
	assert_range(&out[5], 0x7000000, PG, MEM_BOOT_DATA);
	assert_range(&out[6], 0x7001000, 0x8000000 - 0x7001000, MEM_USABLE);
	assert_range(&out[7], 0xfee00000, PG, MEM_MMIO);
	free(m.buf);
	(void)state;
}

/* More ranges than fit: the lowest are kept, the rest counted, nothing written past the
 * end (out is exactly max_out entries on the heap, so ASan sees any overflow). */
static void test_overflow_reported(void **state)
{
	const u32 max = BOOT_MAX_MEM_RANGES, n = 300;
	struct mem_range *out = malloc(max * sizeof(*out));
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, n);
	/* alternating types, adjacent: nothing merges */
	for (u32 i = 0; i < n; i++)
		map_add(&m, i % 2 ? EFI_KIND_RESERVED : EFI_KIND_CONVENTIONAL, (u64)i * 2 * PG, 2);
	assert_int_equal(convert(&m, NULL, 0, out, max, &nr, &st), -ENOSPC);
	assert_int_equal(nr, max);
	assert_int_equal(st.nr_needed, n);
	assert_int_equal(st.first_dropped, (u64)max * 2 * PG);
	assert_int_equal(st.dropped_bytes, (u64)(n - max) * 2 * PG);
	assert_range(&out[max - 1], (u64)(max - 1) * 2 * PG, 2 * PG, MEM_RESERVED);
	/* merging first: the same amount of memory in few descriptors fits */
	m.nr = 0;
	for (u32 i = 0; i < n; i++)
		map_add(&m, EFI_KIND_CONVENTIONAL, (u64)i * 2 * PG, 2);
	assert_int_equal(convert(&m, NULL, 0, out, max, &nr, &st), 0);
	assert_int_equal(nr, 1);
	assert_range(&out[0], 0, (u64)n * 2 * PG, MEM_USABLE);
	free(m.buf);
	free(out);
	(void)state;
}

static void test_overflow_zero_capacity(void **state)
{
	struct efi_mmap_stats st;
	struct fw_map m;
	u32 nr;

	map_init(&m, 48, 1);
	map_add(&m, EFI_KIND_CONVENTIONAL, 0x100000, 1);
	assert_int_equal(convert(&m, NULL, 0, NULL, 0, &nr, &st), -ENOSPC);
	assert_int_equal(nr, 0);
	assert_int_equal(st.dropped_bytes, PG);
	free(m.buf);
	(void)state;
}

/* ---- command lines ------------------------------------------------------------------ */
static size_t to_ucs2(const char *s, u8 *buf)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = (u8)s[i];
		buf[2 * i + 1] = 0;
	}
	return 2 * n;
}

static int ucs2_line(const char *s, char *out, size_t cap)
{
	u8 buf[2048];

	return efi_cmdline_from_ucs2(buf, to_ucs2(s, buf), out, cap);
}

static void test_ucs2_plain(void **state)
{
	char out[BOOT_CMDLINE_MAX];

	assert_int_equal(ucs2_line("loglevel=debug serial=0x3f8", out, sizeof(out)), 27);
	assert_string_equal(out, "loglevel=debug serial=0x3f8");
	assert_int_equal(ucs2_line("  a\t\tb  c \r\n", out, sizeof(out)), 5);
	assert_string_equal(out, "a b c");
	assert_int_equal(ucs2_line("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	(void)state;
}

/* The UEFI shell passes the image name first. */
static void test_ucs2_shell_argv0(void **state)
{
	char out[BOOT_CMDLINE_MAX];

	assert_int_equal(ucs2_line("\\EFI\\BOOT\\BOOTX64.EFI loglevel=debug", out, sizeof(out)),
			 14);
	assert_string_equal(out, "loglevel=debug");
	assert_int_equal(ucs2_line("moat.efi", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(ucs2_line("efi=1 x.efi", out, sizeof(out)), 11);
	assert_string_equal(out, "efi=1 x.efi");
	(void)state;
}

static void test_ucs2_nul_terminated(void **state)
{
	u8 buf[64];
	char out[32];
	size_t n = to_ucs2("ab", buf);

	/* NUL, then binary junk that must not be looked at */
	buf[n] = 0;
	buf[n + 1] = 0;
	buf[n + 2] = 0xff;
	buf[n + 3] = 0xfe;
	assert_int_equal(efi_cmdline_from_ucs2(buf, n + 4, out, sizeof(out)), 2);
	assert_string_equal(out, "ab");
	(void)state;
}

/* Binary OptionalData of a boot entry, odd sizes and non-ASCII text are refused. */
static void test_ucs2_not_text(void **state)
{
	static const u8 guid[16] = {0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
				    0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d};
	static const u8 accent[] = {'a', 0, 0xe9, 0, 'b', 0};
	char out[32];

	memset(out, 'x', sizeof(out));
	assert_int_equal(efi_cmdline_from_ucs2(guid, sizeof(guid), out, sizeof(out)), -EILSEQ);
	assert_string_equal(out, "");
	assert_int_equal(efi_cmdline_from_ucs2(guid, 5, out, sizeof(out)), -EILSEQ);
	assert_int_equal(efi_cmdline_from_ucs2(accent, sizeof(accent), out, sizeof(out)), -EILSEQ);
	assert_string_equal(out, "");
	(void)state;
}

static void test_ucs2_truncated(void **state)
{
	char line[700], *out = malloc(BOOT_CMDLINE_MAX);

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(ucs2_line(line, out, BOOT_CMDLINE_MAX), -E2BIG);
	assert_int_equal(strlen(out), BOOT_CMDLINE_MAX - 1);
	assert_int_equal(ucs2_line("abc", out, 0), -E2BIG);
	assert_int_equal(ucs2_line("abc d", out, 4), -E2BIG);
	assert_string_equal(out, "abc");
	free(out);
	(void)state;
}

static void test_cmd_file(void **state)
{
	static const char text[] = "# moat.cmd for the lab box\r\nloglevel=debug\r\n"
				   "   expect_mem=1G\t serial=0x2f8\n#x=1\n  # y=2\n";
	char out[BOOT_CMDLINE_MAX];

	assert_int_equal(efi_cmdline_from_text(text, strlen(text), out, sizeof(out)), 41);
	assert_string_equal(out, "loglevel=debug expect_mem=1G serial=0x2f8");
	/* length-bounded, no NUL needed */
	assert_int_equal(efi_cmdline_from_text("abcdef", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(efi_cmdline_from_text("a\x01"
					       "b",
					       3, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(efi_cmdline_from_text("\xef\xbb\xbf"
					       "a",
					       4, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(efi_cmdline_from_text("", 0, out, sizeof(out)), 0);
	(void)state;
}

static void test_cmdline_has(void **state)
{
	assert_true(efi_cmdline_has("loglevel=debug", "loglevel=debug"));
	assert_true(efi_cmdline_has("a loglevel=debug b", "loglevel=debug"));
	assert_true(efi_cmdline_has("a b", "b"));
	assert_false(efi_cmdline_has("loglevel=debugx", "loglevel=debug"));
	assert_false(efi_cmdline_has("xloglevel=debug", "loglevel=debug"));
	assert_false(efi_cmdline_has("loglevel=deb", "loglevel=debug"));
	assert_false(efi_cmdline_has("", "a"));
	(void)state;
}

/* The loader reads acpi.override=<files> itself, to load them next to the application. */
static void test_cmdline_value(void **state)
{
	char out[16];

	assert_int_equal(
		efi_cmdline_value("acpi.override=dmar.bin", "acpi.override", out, sizeof(out)), 8);
	assert_string_equal(out, "dmar.bin");
	assert_int_equal(efi_cmdline_value("x acpi.override=a.bin,b.bin y", "acpi.override", out,
					   sizeof(out)),
			 11);
	assert_string_equal(out, "a.bin,b.bin");
	assert_int_equal(efi_cmdline_value("acpi.override", "acpi.override", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(efi_cmdline_value("xacpi.override=a", "acpi.override", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(efi_cmdline_value("acpi.overrides=a", "acpi.override", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(efi_cmdline_value("acpi.override=", "acpi.override", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(efi_cmdline_value("acpi.override=0123456789abcdef", "acpi.override", out,
					   sizeof(out)),
			 -E2BIG);
	(void)state;
}

static void test_config_files(void **state)
{
	const char *conf = "# a Linux guest\nguest web memory=256M cpu=1 kernel=vmlinuz "
			   "initrd=initrd.gz cmdline=\"x initrd=no\";guest,b,kernel=bz2,"
			   "xkernel=no\n";
	char out[16];

	assert_int_equal(efi_config_file(conf, strlen(conf), 0, out, sizeof(out)), 7);
	assert_string_equal(out, "vmlinuz");
	assert_int_equal(efi_config_file(conf, strlen(conf), 1, out, sizeof(out)), 9);
	assert_string_equal(out, "initrd.gz");
	/* not inside a quoted command line, not in another key (xkernel=) */
	assert_int_equal(efi_config_file(conf, strlen(conf), 2, out, sizeof(out)), 3);
	assert_string_equal(out, "bz2");
	assert_int_equal(efi_config_file(conf, strlen(conf), 3, out, sizeof(out)), -ENOENT);
	/* bounded by len, not by a NUL */
	assert_int_equal(efi_config_file("kernel=abcdef", 10, 0, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(efi_config_file("kernel=0123456789abcdefgh", 25, 0, out, sizeof(out)),
			 -E2BIG);
	(void)state;
}

/* ---- framebuffer --------------------------------------------------------------------- */
static void test_fb_formats(void **state)
{
	const u32 none[4] = {0};
	const u32 rgb565[4] = {0xf800, 0x07e0, 0x001f, 0};
	const u32 x2r10[4] = {0x3ff00000, 0x000ffc00, 0x000003ff, 0xc0000000};
	const u32 holes[4] = {0xf0f0, 0x0f00, 0x000f, 0};
	struct boot_fb fb = {0};

	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_RGBX8, none, &fb), 0);
	assert_int_equal(fb.red_pos, 0);
	assert_int_equal(fb.green_pos, 8);
	assert_int_equal(fb.blue_pos, 16);
	assert_int_equal(fb.bpp, 32);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BGRX8, none, &fb), 0);
	assert_int_equal(fb.red_pos, 16);
	assert_int_equal(fb.blue_pos, 0);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BITMASK, rgb565, &fb), 0);
	assert_int_equal(fb.red_pos, 11);
	assert_int_equal(fb.green_pos, 5);
	assert_int_equal(fb.blue_pos, 0);
	assert_int_equal(fb.bpp, 16);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BITMASK, x2r10, &fb), 0);
	assert_int_equal(fb.red_pos, 20);
	assert_int_equal(fb.bpp, 32);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BITMASK, holes, &fb), -EINVAL);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BITMASK, none, &fb), -EINVAL);
	assert_int_equal(efi_fb_pixel_format(GOP_PIXEL_BLT_ONLY, none, &fb), -ENODEV);
	assert_int_equal(efi_fb_pixel_format(7, none, &fb), -EINVAL);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_mapping),
		cmocka_unit_test(test_merge_and_gaps),
		cmocka_unit_test(test_descriptor_sizes),
		cmocka_unit_test(test_descriptor_too_small),
		cmocka_unit_test(test_empty_map_and_trailing_bytes),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_unsorted_input),
		cmocka_unit_test(test_invalid_descriptors),
		cmocka_unit_test(test_keep_ranges),
		cmocka_unit_test(test_overflow_reported),
		cmocka_unit_test(test_overflow_zero_capacity),
		cmocka_unit_test(test_ucs2_plain),
		cmocka_unit_test(test_ucs2_shell_argv0),
		cmocka_unit_test(test_ucs2_nul_terminated),
		cmocka_unit_test(test_ucs2_not_text),
		cmocka_unit_test(test_ucs2_truncated),
		cmocka_unit_test(test_cmd_file),
		cmocka_unit_test(test_cmdline_has),
		cmocka_unit_test(test_cmdline_value),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_fb_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
