/* The PVH start information parser (boot/pvh/): hvm_start_info as QEMU's -kernel writes
 * it, the cpio module archive, and malformed input that must not be trusted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <moat/boot_info.h>
#include <moat/errno.h>
#include "boot/pvh/fw_cfg.h"
#include "boot/pvh/pvh.h"

char __image_start[16], __image_end[16];

void kmain(const struct boot_info *bi)
{
	(void)bi;
	abort();
}

/* Guest-physical [BASE, BASE + sizeof(mem)) is the test buffer. */
#define BASE 0x100000ull
static u8 mem[64 * 1024] __attribute__((aligned(16)));
static struct pvh_window win;
static struct boot_info bi;

#define SI_PA (BASE + 0x0)
#define MEMMAP_PA (BASE + 0x100)
#define MODLIST_PA (BASE + 0x400)
#define CMDLINE_PA (BASE + 0x800)
#define MODCMD_PA (BASE + 0xc00)
#define MOD_PA (BASE + 0x1000)

static void *at(u64 pa)
{
	return mem + (pa - BASE);
}

static struct hvm_start_info *start_info(void)
{
	struct hvm_start_info *si = at(SI_PA);
	struct hvm_memmap_entry *e = at(MEMMAP_PA);

	memset(mem, 0, sizeof(mem));
	memset(&bi, 0, sizeof(bi));
	win = (struct pvh_window){
		.base = BASE, .limit = BASE + sizeof(mem), .delta = (uintptr_t)mem - BASE};
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->rsdp_paddr = 0xf5a40;
	si->memmap_paddr = MEMMAP_PA;
	si->memmap_entries = 3;
	e[0] = (struct hvm_memmap_entry){0, 0x9fc00, HVM_MEMMAP_RAM, 0};
	e[1] = (struct hvm_memmap_entry){0x100000, 0x1fee0000, HVM_MEMMAP_RAM, 0};
	e[2] = (struct hvm_memmap_entry){0xfffc0000, 0x40000, HVM_MEMMAP_RESERVED, 0};
	strcpy(at(CMDLINE_PA), "loglevel=debug exit=halt");
	si->cmdline_paddr = CMDLINE_PA;
	return si;
}

static u64 sum_type(u32 type)
{
	u64 s = 0;

	for (u32 i = 0; i < bi.nr_mem; i++)
		if (bi.mem[i].type == type)
			s += bi.mem[i].length;
	return s;
}

/* A newc entry; returns the bytes written. */
static size_t cpio_entry(u8 *p, const char *name, const void *data, size_t len, unsigned mode)
{
	size_t n = (size_t)sprintf(
		(char *)p, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u, mode,
		0u, 0u, 1u, 0u, len, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);

	memcpy(p + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	n = (n + 3) & ~(size_t)3;
	memcpy(p + n, data, len);
	return (n + len + 3) & ~(size_t)3;
}

static size_t archive(u8 *p)
{
	size_t n = 0;

	n += cpio_entry(p + n, "boot", "", 0, 040755);
	n += cpio_entry(p + n, "boot/moat.conf", "guest,a\n", 8, 0100644);
	n += cpio_entry(p + n, "mycpu.elf",
			"\x7f"
			"ELF",
			4, 0100644);
	n += cpio_entry(p + n, "dmar.bin", "DMAR", 4, 0100644);
	n += cpio_entry(p + n, "TRAILER!!!", "", 0, 0);
	return n;
}

static void one_module(struct hvm_start_info *si, u64 pa, u64 size, u64 cmdline)
{
	struct hvm_modlist_entry *m = at(MODLIST_PA);

	si->nr_modules = 1;
	si->modlist_paddr = MODLIST_PA;
	m->paddr = pa;
	m->size = size;
	m->cmdline_paddr = cmdline;
}

static void test_good_start_info(void **state)
{
	struct hvm_start_info *si = start_info();
	size_t n = archive(at(MOD_PA));

	one_module(si, MOD_PA, n, 0);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.method, BOOT_PVH);
	assert_string_equal(bi.boot_problem, "");
	assert_string_equal(bi.cmdline, "loglevel=debug exit=halt");
	assert_int_equal(bi.rsdp, 0xf5a40);
	assert_int_equal(sum_type(MEM_USABLE), 0x9fc00 + 0x1fee0000);
	assert_int_equal(sum_type(MEM_RESERVED), 0x40000);
	/* the start info page and the archive's page stay out of the allocator's reach */
	assert_int_equal(sum_type(MEM_BOOT_DATA), 0x2000);
	assert_int_equal(bi.nr_modules, 3);
	assert_string_equal(bi.modules[0].name, "config");
	assert_int_equal(bi.modules[0].end - bi.modules[0].start, 8);
	assert_memory_equal(at(bi.modules[0].start), "guest,a\n", 8);
	assert_string_equal(bi.modules[1].name, "mycpu");
	assert_memory_equal(at(bi.modules[1].start),
			    "\x7f"
			    "ELF",
			    4);
	assert_string_equal(bi.modules[2].name, "dmar.bin");
	(void)state;
}

static void test_named_and_unnamed_modules(void **state)
{
	struct hvm_start_info *si = start_info();
	struct hvm_modlist_entry *m = at(MODLIST_PA);

	si->nr_modules = 2;
	si->modlist_paddr = MODLIST_PA;
	m[0] = (struct hvm_modlist_entry){MOD_PA, 100, 0, 0};
	m[1] = (struct hvm_modlist_entry){MOD_PA + 0x1000, 50, MODCMD_PA, 0};
	strcpy(at(MODCMD_PA), " guestimg extra words");
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.nr_modules, 2);
	assert_string_equal(bi.modules[0].name, "config");
	assert_string_equal(bi.modules[1].name, "guestimg");
	assert_int_equal(bi.modules[1].end, MOD_PA + 0x1000 + 50);
	(void)state;
}

static void test_bad_magic(void **state)
{
	struct hvm_start_info *si = start_info();

	si->magic = 0x336ec579;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), -EINVAL);
	assert_int_equal(bi.nr_mem, 0);
	assert_string_equal(bi.cmdline, "");
	assert_non_null(strstr(bi.boot_problem, "magic 0x336ec579, expected 0x336ec578"));
	(void)state;
}

static void test_start_info_outside(void **state)
{
	start_info();
	assert_int_equal(pvh_parse(&bi, BASE + sizeof(mem) - 8, &win, NULL), -EINVAL);
	assert_non_null(strstr(bi.boot_problem, "outside readable memory"));
	assert_int_equal(pvh_parse(&bi, 0x1000, &win, NULL), -EINVAL);
	(void)state;
}

static void test_memmap_out_of_range(void **state)
{
	struct hvm_start_info *si = start_info();

	/* the table's last entry would end past readable memory */
	si->memmap_paddr = BASE + sizeof(mem) - 2 * sizeof(struct hvm_memmap_entry);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0);
	assert_non_null(strstr(bi.boot_problem, "memory map (3 entries at "));
	/* an entry count whose byte size overflows 32 bits is bounded, not wrapped: the
	 * first 1024 entries are read (the three set, then empty ones) */
	si = start_info();
	si->memmap_entries = 0xffffffffu;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0x9fc00 + 0x1fee0000);
	assert_non_null(strstr(bi.boot_problem, "memory map of 4294967295 entries: only the first "
						"1024 read"));
	(void)state;
}

static void test_memmap_entry_wraps(void **state)
{
	struct hvm_start_info *si = start_info();
	struct hvm_memmap_entry *e = at(MEMMAP_PA);

	e[2] = (struct hvm_memmap_entry){0xfffffffffffff000ull, 0x2000, HVM_MEMMAP_RAM, 0};
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0x9fc00 + 0x1fee0000);
	assert_non_null(strstr(bi.boot_problem, "1 memory map entries wrap"));
	(void)si;
	(void)state;
}

static void test_version0_has_no_memmap(void **state)
{
	struct hvm_start_info *si = start_info();

	si->version = 0;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0);
	assert_non_null(strstr(bi.boot_problem, "no memory map (start info version 0, 0 entries) "
						"and none from fw_cfg etc/e820 (-19)"));
	assert_string_equal(bi.cmdline, "loglevel=debug exit=halt");
	(void)state;
}

/* A model of QEMU's fw_cfg: the signature, a file directory, one file. */
static struct {
	u8 sig[4];
	u8 dir[4 + 2 * sizeof(struct fw_cfg_file)];
	u8 e820[4 * sizeof(struct fw_cfg_e820_entry) + 7];
	u32 e820_size;
	const u8 *cur;
	size_t left;
} fw;

static void fw_select(void *ctx, u16 key)
{
	(void)ctx;
	fw.cur = key == FW_CFG_KEY_SIGNATURE  ? fw.sig
		 : key == FW_CFG_KEY_FILE_DIR ? fw.dir
		 : key == 0x20		      ? fw.e820
					      : NULL;
	fw.left = key == FW_CFG_KEY_SIGNATURE  ? 4
		  : key == FW_CFG_KEY_FILE_DIR ? sizeof(fw.dir)
		  : key == 0x20		       ? fw.e820_size
					       : 0;
}

static u8 fw_read8(void *ctx)
{
	(void)ctx;
	if (!fw.left)
		return 0;
	fw.left--;
	return *fw.cur++;
}

static const struct fw_cfg_io fw_io = {.select = fw_select, .read8 = fw_read8};

static void fw_model(void)
{
	struct fw_cfg_file f[2] = {
		{.size_be = __builtin_bswap32(100),
		 .select_be = __builtin_bswap16(0x21),
		 .name = "etc/acpi/tables"},
		{.select_be = __builtin_bswap16(0x20), .name = "etc/e820"},
	};
	struct fw_cfg_e820_entry e[4] = {
		{0, 0x9fc00, HVM_MEMMAP_RAM},
		{0x100000, 0x7ff00000, HVM_MEMMAP_RAM},
		{0xfeffc000, 0x4000, HVM_MEMMAP_RESERVED},
		{0x100000000ull, 0x40000000ull, HVM_MEMMAP_RAM},
	};
	u32 count = __builtin_bswap32(2);

	memcpy(fw.sig, "QEMU", 4);
	fw.e820_size = sizeof(e);
	f[1].size_be = __builtin_bswap32(fw.e820_size);
	memcpy(fw.dir, &count, 4);
	memcpy(fw.dir + 4, f, sizeof(f));
	memcpy(fw.e820, e, sizeof(e));
}

static void test_version0_memmap_from_fw_cfg(void **state)
{
	struct hvm_start_info *si = start_info();

	si->version = 0;
	fw_model();
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, &fw_io), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0x9fc00ull + 0x7ff00000ull + 0x40000000ull);
	assert_int_equal(sum_type(MEM_RESERVED), 0x4000);
	assert_non_null(strstr(bi.boot_problem, "4 ranges from QEMU's fw_cfg etc/e820 instead"));
	/* no fw_cfg (no signature): named, no map */
	si = start_info();
	si->version = 0;
	fw_model();
	memcpy(fw.sig, "XXXX", 4);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, &fw_io), 0);
	assert_int_equal(bi.nr_mem, 1); /* the start info page only */
	assert_non_null(strstr(bi.boot_problem, "and none from fw_cfg etc/e820 (-19)"));
	/* a file that is not whole entries */
	si = start_info();
	si->memmap_entries = 0;
	fw_model();
	fw.e820_size = sizeof(fw.e820);
	((struct fw_cfg_file *)(fw.dir + 4))[1].size_be = __builtin_bswap32(fw.e820_size);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, &fw_io), 0);
	assert_int_equal(sum_type(MEM_USABLE), 0);
	assert_non_null(strstr(bi.boot_problem, "(start info version 1, 0 entries) and none from "
						"fw_cfg etc/e820 (-22)"));
	(void)state;
}

static void test_cmdline_without_nul(void **state)
{
	struct hvm_start_info *si = start_info();
	u64 pa = BASE + sizeof(mem) - 100;

	/* runs to the end of readable memory without a NUL */
	memset(at(pa), 'a', 100);
	si->cmdline_paddr = pa;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_string_equal(bi.cmdline, "");
	assert_non_null(strstr(bi.boot_problem, "has no NUL within 4096 bytes: ignored"));
	/* longer than the scan, NUL beyond it */
	si = start_info();
	memset(at(MOD_PA), 'b', 5000);
	si->cmdline_paddr = MOD_PA;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_string_equal(bi.cmdline, "");
	/* longer than boot_info holds: cut, with a note */
	si = start_info();
	memset(at(MOD_PA), 'c', 1000);
	si->cmdline_paddr = MOD_PA;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	assert_non_null(strstr(bi.boot_problem, "command line of 1000 bytes cut at 511"));
	(void)state;
}

static void test_module_out_of_range(void **state)
{
	struct hvm_start_info *si = start_info();

	one_module(si, BASE + sizeof(mem) - 10, 11, 0);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.nr_modules, 0);
	assert_non_null(strstr(bi.boot_problem, "module 0 ("));
	/* the module list itself outside */
	si = start_info();
	one_module(si, MOD_PA, 10, 0);
	si->modlist_paddr = BASE + sizeof(mem) - 16;
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.nr_modules, 0);
	assert_non_null(strstr(bi.boot_problem, "module list (1 entries at "));
	(void)state;
}

static void test_archive_truncated(void **state)
{
	struct hvm_start_info *si = start_info();
	size_t n = archive(at(MOD_PA));

	/* cut inside the second file's data: the first is kept, the rest refused */
	one_module(si, MOD_PA, n - 0x100, 0);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].name, "config");
	assert_non_null(strstr(bi.boot_problem, "module archive: "));
	/* a header with a non-hex field */
	si = start_info();
	n = archive(at(MOD_PA));
	((u8 *)at(MOD_PA))[6 + 8 + 3] = 'x';
	one_module(si, MOD_PA, n, 0);
	assert_int_equal(pvh_parse(&bi, SI_PA, &win, NULL), 0);
	assert_int_equal(bi.nr_modules, 0);
	assert_non_null(strstr(bi.boot_problem, "module archive: bad header at offset 0"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_start_info),
		cmocka_unit_test(test_named_and_unnamed_modules),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_start_info_outside),
		cmocka_unit_test(test_memmap_out_of_range),
		cmocka_unit_test(test_memmap_entry_wraps),
		cmocka_unit_test(test_version0_has_no_memmap),
		cmocka_unit_test(test_version0_memmap_from_fw_cfg),
		cmocka_unit_test(test_cmdline_without_nul),
		cmocka_unit_test(test_module_out_of_range),
		cmocka_unit_test(test_archive_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
