/* The boot report and the boot self-tests that need no particular subsystem. */
#define LOG_TAG "moat"
#include <moat/cmdline.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/selftest.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "core/boot_report.h"
#include "core/end.h"

static const char *mem_type_name(u32 t)
{
	switch (t) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI_RECLAIM: return "ACPI";
	case MEM_ACPI_NVS: return "ACPI NVS";
	case MEM_BAD: return "bad";
	case MEM_MMIO: return "MMIO";
	case MEM_PERSISTENT: return "persistent";
	case MEM_BOOT_DATA: return "boot data";
	default: return "unknown";
	}
}

static u64 boot_usable_ram(const struct boot_info *bi)
{
	u64 sum = 0;

	for (u32 i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == MEM_USABLE || bi->mem[i].type == MEM_BOOT_DATA)
			sum += bi->mem[i].length;
	return sum;
}

void boot_report(const struct boot_info *bi)
{
	u64 by_type[9] = {0};

	for (u32 i = 0; i < bi->nr_mem; i++) {
		if (bi->mem[i].type < ARRAY_SIZE(by_type))
			by_type[bi->mem[i].type] += bi->mem[i].length;
		pr_debug("mem: %016llx-%016llx %s\n", (unsigned long long)bi->mem[i].base,
			 (unsigned long long)(bi->mem[i].base + bi->mem[i].length - 1),
			 mem_type_name(bi->mem[i].type));
	}
	pr_info("boot method: %s\n", boot_method_name(bi->method));
	pr_info("memory: %u ranges, usable %llu MiB, reserved %llu KiB, ACPI %llu KiB, "
		"allocator free %llu MiB\n",
		bi->nr_mem, (unsigned long long)(boot_usable_ram(bi) / MiB),
		(unsigned long long)(by_type[MEM_RESERVED] / KiB),
		(unsigned long long)((by_type[MEM_ACPI_RECLAIM] + by_type[MEM_ACPI_NVS]) / KiB),
		(unsigned long long)(hv_pmm.free_bytes / MiB));
	pr_info("image: %#llx-%#llx (%llu KiB)\n", (unsigned long long)bi->image_start,
		(unsigned long long)bi->image_end,
		(unsigned long long)((bi->image_end - bi->image_start) / KiB));
	for (u32 i = 0; i < bi->nr_modules; i++)
		pr_info("module %u: %#llx-%#llx \"%s\"\n", i,
			(unsigned long long)bi->modules[i].start,
			(unsigned long long)bi->modules[i].end, bi->modules[i].name);
}

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

SELFTEST_ORDER(st_memory_map, "boot", "memory-map", 10)
{
	const struct boot_info *bi = boot_info_get();
	char arg[24];
	u64 given = 0, usable = boot_usable_ram(bi);

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
