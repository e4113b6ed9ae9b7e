/* The boot report and the boot self-tests that need no particular subsystem. */
#define LOG_TAG "moat"
#include <moat/cmdline.h>
#include <moat/log.h>
#include <moat/pmm.h>
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
