/* Boot self-tests that need no particular subsystem: the memory map and allocator, the
 * exception table, the ACPI tables kept, the hypervisor's own page attributes. */
#define LOG_TAG "moat"
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "boot/pvh/fw_cfg.h"
#include "core/boot_report.h"
#include "core/end.h"
#include "tests/hv/selftest.h"

/* RAM the emulator was given, from CMOS (QEMU and Bochs both fill it the same way):
 * 0x34/0x35 = 64 KiB blocks above 16 MiB (below 4 GiB), 0x5b-0x5d = 64 KiB blocks above
 * 4 GiB. */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static u64 emulator_ram_bytes(void)
{
	u64 low = ((u64)cmos_read(0x35) << 8 | cmos_read(0x34)) * 64 * KiB + 16 * MiB;
	u64 high = ((u64)cmos_read(0x5d) << 16 | (u64)cmos_read(0x5c) << 8 | cmos_read(0x5b)) * 64 *
		   KiB;

	return low + high;
}

/* Bytes of r that no usable range covers: the multiboot2 loader reports the modules and its
 * own information as boot data on top of the usable ranges that hold them. */
static u64 outside_usable(const struct boot_info *bi, const struct mem_range *r)
{
	u64 inside = 0;

	for (u32 i = 0; i < bi->nr_mem; i++) {
		const struct mem_range *u = &bi->mem[i];
		u64 lo = MAX(u->base, r->base), hi = MIN(u->base + u->length, r->base + r->length);

		if (u->type == MEM_USABLE && hi > lo)
			inside += hi - lo;
	}
	return r->length > inside ? r->length - inside : 0;
}

static u64 usable_ram(const struct boot_info *bi)
{
	u64 sum = 0;

	for (u32 i = 0; i < bi->nr_mem; i++) {
		if (bi->mem[i].type == MEM_USABLE)
			sum += bi->mem[i].length;
		else if (bi->mem[i].type == MEM_BOOT_DATA)
			sum += outside_usable(bi, &bi->mem[i]);
	}
	return sum;
}

SELFTEST_ORDER(st_memory_map, "boot", "memory-map", 10)
{
	const struct boot_info *bi = boot_info_get();
	char arg[24];
	u64 given = 0, usable = usable_ram(bi);

	CHECK(ctx, bi->nr_mem > 0, "no memory map");
	CHECK(ctx, hv_pmm.free_bytes > 16 * MiB, "allocator has only %llu KiB",
	      (unsigned long long)(hv_pmm.free_bytes / KiB));
	if (cmdline_get("expect_mem", arg, sizeof(arg)) >= 0) {
		const char *p = arg;

		parse_u64(&p, &given, true);
	} else if (emulator_name()) {
		given = emulator_ram_bytes();
	} else {
		st_skip(ctx, "RAM size unknown on this machine (give expect_mem=)");
		return;
	}
	CHECK(ctx, usable * 100 >= given * 95 && usable <= given,
	      "usable %llu MiB, machine has %llu MiB", (unsigned long long)(usable / MiB),
	      (unsigned long long)(given / MiB));
}

/* The PVH path's fallback memory map (QEMU's etc/e820 through fw_cfg, used when the start
 * info has none) agrees with the map the start info gave: every usable range of the one
 * lies inside a RAM range of the other. */
static bool inside_ram(const struct boot_info *map, const struct mem_range *r)
{
	for (u32 i = 0; i < map->nr_mem; i++)
		if (map->mem[i].type == MEM_USABLE && map->mem[i].base <= r->base &&
		    r->base + r->length <= map->mem[i].base + map->mem[i].length)
			return true;
	return false;
}

SELFTEST_ORDER(st_pvh_fw_cfg_e820, "boot", "pvh-fw-cfg-e820", 10)
{
	static struct boot_info fw_map;
	const struct boot_info *bi = boot_info_get();
	int n;

	if (bi->method != BOOT_PVH) {
		st_skip(ctx, "booted through %s, not PVH", boot_method_name(bi->method));
		return;
	}
	n = fw_cfg_e820(&fw_map, &fw_cfg_ports);
	CHECK(ctx, n > 0, "fw_cfg etc/e820 gave %d", n);
	for (u32 i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == MEM_USABLE)
			CHECK(ctx, inside_ram(&fw_map, &bi->mem[i]),
			      "usable %#llx-%#llx of the start info is not RAM in etc/e820 (%d "
			      "ranges)",
			      (unsigned long long)bi->mem[i].base,
			      (unsigned long long)(bi->mem[i].base + bi->mem[i].length - 1), n);
}

SELFTEST_ORDER(st_allocator, "boot", "allocator", 10)
{
	u64 a[16];
	u64 big;

	for (unsigned i = 0; i < ARRAY_SIZE(a); i++) {
		a[i] = page_alloc();
		CHECK(ctx, a[i] && IS_ALIGNED(a[i], PAGE_SIZE), "allocation %u failed", i);
		for (unsigned j = 0; j < i; j++)
			CHECK(ctx, a[i] != a[j], "page %#llx handed out twice",
			      (unsigned long long)a[i]);
		CHECK(ctx,
		      a[i] >= boot_info_get()->image_end ||
			      a[i] + PAGE_SIZE <= boot_info_get()->image_start,
		      "page %#llx inside the image", (unsigned long long)a[i]);
		if (a[i])
			memset((void *)(uintptr_t)a[i], 0xa5, PAGE_SIZE);
	}
	big = pages_alloc(2 * MiB, 2 * MiB);
	CHECK(ctx, big && IS_ALIGNED(big, 2 * MiB), "2 MiB aligned allocation failed");
	for (unsigned i = 0; i < ARRAY_SIZE(a); i++)
		CHECK(ctx, a[i] < big || a[i] >= big + 2 * MiB, "overlap with the 2 MiB block");
	for (unsigned i = 0; i < ARRAY_SIZE(a); i++)
		if (a[i])
			page_free(a[i]);
	if (big)
		pages_free(big, 2 * MiB);
	CHECK(ctx, pmm_free_range(&hv_pmm, a[0], PAGE_SIZE) != 0, "double free accepted");
}

SELFTEST_ORDER(st_exception_ud, "boot", "exception-ud-caught", 10)
{
	u64 before = this_cpu()->recovered_traps;

	__asm__ volatile("1: ud2\n\t2:\n\t" EXTABLE_ENTRY("1b", "2b")::: "memory");
	CHECK(ctx, this_cpu()->recovered_traps == before + 1, "ud2 was not trapped");
	CHECK(ctx, this_cpu()->last_trap_vector == VEC_UD, "vector %u",
	      this_cpu()->last_trap_vector);
}

SELFTEST_ORDER(st_exception_gp, "boot", "exception-gp-caught", 10)
{
	u64 before = this_cpu()->recovered_traps;

	/* A non-canonical address faults with #GP. */
	__asm__ volatile("1: movq (%0), %%rax\n\t2:\n\t" EXTABLE_ENTRY("1b", "2b")::"r"(
				 0x8000000000000000ULL)
			 : "rax", "memory");
	CHECK(ctx, this_cpu()->recovered_traps == before + 1, "non-canonical load not trapped");
	CHECK(ctx, this_cpu()->last_trap_vector == VEC_GP, "vector %u",
	      this_cpu()->last_trap_vector);
}

SELFTEST_ORDER(st_acpi_checksums, "boot", "acpi-checksums", 20)
{
	const struct acpi_info *a = acpi_state();

	CHECK(ctx, a->seen > 0, "no ACPI table was found");
	CHECK(ctx, a->rejected == 0, "%u of %u tables rejected", a->rejected, a->seen);
	CHECK(ctx, a->nr_tables + 1 == a->seen + a->added,
	      "%u tables kept of %u seen (root included) and %u added by acpi.override",
	      a->nr_tables, a->seen, a->added);
	/* Independently of the parser: every kept table still sums to zero. */
	for (unsigned i = 0; i < a->nr_tables; i++)
		CHECK(ctx, acpi_checksum(a->tables[i].hdr, a->tables[i].hdr->length) == 0,
		      "%.4s at %#llx does not sum to 0", a->tables[i].hdr->signature,
		      (unsigned long long)a->tables[i].pa);
	CHECK(ctx, acpi_find_table("APIC", 0) != NULL, "no MADT");
	CHECK(ctx, acpi_find_table("FACP", 0) != NULL, "no FADT");
}

SELFTEST(st_text_readonly, "paging", "text-write-protected")
{
	volatile u8 *text = (volatile u8 *)(uintptr_t)&paging_init;
	u64 before = this_cpu()->recovered_traps;
	u8 old = *text;

	/* The write must fault (#PF, CR0.WP) and be recovered through the exception table. */
	__asm__ volatile("1: movb %1, (%0)\n\t"
			 "2:\n\t" EXTABLE_ENTRY("1b", "2b")
			 :
			 : "r"(text), "r"((u8)(old ^ 0xff))
			 : "memory");
	CHECK(ctx, this_cpu()->recovered_traps == before + 1, "no fault on a text write");
	CHECK(ctx, this_cpu()->last_trap_vector == VEC_PF, "vector %u",
	      this_cpu()->last_trap_vector);
	CHECK(ctx, *text == old, "text byte changed");
}

SELFTEST(st_page_attrs, "paging", "image-attributes")
{
	u64 pa;
	u32 f;

	CHECK(ctx, pt_lookup(&hv_pt, (u64)(uintptr_t)&paging_init, &pa, &f, NULL) == 0,
	      "text unmapped");
	CHECK(ctx, (f & (PT_W | PT_X)) == PT_X, "text flags %#x", f);
	CHECK(ctx, pt_lookup(&hv_pt, (u64)(uintptr_t)&hv_pt, &pa, &f, NULL) == 0, "data unmapped");
	CHECK(ctx, (f & (PT_W | PT_X)) == PT_W || !cpu_has_nx(), "data flags %#x", f);
	CHECK(ctx, pt_lookup(&hv_pt, 0, &pa, &f, NULL) == -ENOENT, "page 0 is mapped");
}
