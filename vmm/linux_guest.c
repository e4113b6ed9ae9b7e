/* A Linux guest's start: its bzImage and initrd from boot modules, placed in its RAM by the
 * boot protocol (vmm/linux_boot.c) with the zero page, command line and boot GDT, and the
 * 64-bit entry state the protocol asks for. */
#define LOG_TAG "vmm"
#include <moat/boot_info.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "vmm/elf.h"
#include "vmm/guest_acpi.h"
#include "vmm/linux_boot.h"
#include "vmm/linux_guest.h"

/* The DSDT's host bridge window is where vmm/assign.c places the device BARs. */
STATIC_ASSERT(GUEST_PCI_MEM_BASE == VDEV_MMIO_BASE && GUEST_PCI_MEM_END + 1 == VDEV_MMIO_END,
	      "the guest's PCI window");

static int module_get(struct guest *g, const struct boot_info *bi, const char *what,
		      const char *name, const struct boot_module **m)
{
	*m = boot_module_find(bi, name);
	if (!*m)
		return pr_err(-ENOENT, "guest %s: no %s '%s' (boot module or file next to moat)\n",
			      g->cfg.name, what, name);
	return 0;
}

static u64 module_size(const struct boot_module *m)
{
	return m ? m->end - m->start : 0;
}

static const void *module_data(const struct boot_module *m)
{
	return (const void *)(uintptr_t)m->start;
}

/* Whether the kernel and initrd files exist and the kernel is a bzImage moat can start:
 * checked before any memory is set aside for the guest. *size: the kernel file's size. */
int linux_guest_check(struct guest *g, const struct boot_info *bi, u64 *size)
{
	const struct boot_module *k, *rd = NULL;
	struct linux_image li;
	char why[160];
	int err;

	err = module_get(g, bi, "kernel", g->cfg.kernel, &k);
	if (!err && g->cfg.initrd[0])
		err = module_get(g, bi, "initrd", g->cfg.initrd, &rd);
	if (err)
		return err;
	err = linux_check(module_data(k), module_size(k), &li, why, sizeof(why));
	if (err)
		return pr_err(err, "guest %s: kernel '%s' refused: %s\n", g->cfg.name,
			      g->cfg.kernel, why);
	if (rd && !module_size(rd))
		return pr_err(-ENOEXEC, "guest %s: initrd '%s' is empty\n", g->cfg.name,
			      g->cfg.initrd);
	*size = module_size(k);
	return 0;
}

/* The guest's ACPI tables in the BIOS area, which the e820 map reserves. */
static int linux_guest_acpi(struct guest *g, u8 *ram)
{
	struct guest_acpi_cfg c = {.nr_cpus = g->nr_vcpus,
				   .lapic_base = GUEST_LAPIC_BASE,
				   .ioapic_base = VIOAPIC_BASE,
				   .ioapic_id = VIOAPIC_ID};
	size_t n;

	/* one local APIC per vCPU, its ID the vCPU's index (the boot vCPU first) */
	for (u32 i = 0; i < g->nr_vcpus; i++)
		c.apic_ids[i] = (u8)g->vcpu[i].index;
	n = guest_acpi_build(ram + GUEST_ACPI_GPA, GUEST_ACPI_GPA, GUEST_ACPI_SIZE, &c);

	if (!n)
		return pr_err(-ENOSPC, "guest %s: its ACPI tables do not fit at %#llx\n",
			      g->cfg.name, (unsigned long long)GUEST_ACPI_GPA);
	pr_info("guest %s: ACPI tables at %#llx (%zu bytes): RSDP, XSDT, FADT, FACS, DSDT, MADT "
		"(%u CPU%s, I/O APIC)\n",
		g->cfg.name, (unsigned long long)GUEST_ACPI_GPA, n, c.nr_cpus,
		c.nr_cpus > 1 ? "s" : "");
	return 0;
}

int linux_guest_load(struct guest *g, const struct boot_info *bi, struct vcpu_boot_state *bs)
{
	const struct boot_module *k = boot_module_find(bi, g->cfg.kernel);
	const struct boot_module *rd =
		g->cfg.initrd[0] ? boot_module_find(bi, g->cfg.initrd) : NULL;
	static char cmdline[CFG_CMDLINE_MAX + 32]; /* guests are built one at a time, on CPU 0 */
	size_t cmdline_len =
		linux_cmdline(cmdline, sizeof(cmdline), g->cfg.cmdline, tsc_hz() / 1000);
	struct linux_layout lay;
	struct linux_image li;
	char why[200];
	u8 *ram = guest_ptr(g, 0, g->ram_size);
	int err;

	if (!k || (g->cfg.initrd[0] && !rd))
		return pr_err(-ENOENT, "guest %s: kernel or initrd module gone\n", g->cfg.name);
	if (!cmdline_len && g->cfg.cmdline[0])
		return pr_err(-E2BIG,
			      "guest %s: its command line with tsc_early_khz= is too long\n",
			      g->cfg.name);
	err = linux_check(module_data(k), module_size(k), &li, why, sizeof(why));
	if (!err)
		err = linux_layout(&li, g->ram_size, module_size(rd), cmdline_len, &lay, why,
				   sizeof(why));
	if (err)
		return pr_err(err, "guest %s: kernel '%s' refused: %s\n", g->cfg.name,
			      g->cfg.kernel, why);
	memcpy(ram + lay.kernel_gpa, (const u8 *)module_data(k) + li.setup_size, li.pm_size);
	if (rd)
		memcpy(ram + lay.initrd_gpa, module_data(rd), lay.initrd_size);
	memcpy(ram + LINUX_CMDLINE_GPA, cmdline, cmdline_len + 1);
	err = linux_guest_acpi(g, ram);
	if (err)
		return err;
	/* its I/O APIC, told by the local APICs when a level-triggered vector ends */
	vioapic_init(g);
	vlapic_set_eoi_hook(g, vioapic_eoi);
	linux_zero_page(ram + LINUX_ZERO_PAGE_GPA, module_data(k), &li, &lay, GUEST_ACPI_GPA);
	linux_boot_gdt((u64 *)(ram + LINUX_GDT_GPA));
	*bs = (struct vcpu_boot_state){
		.rip = lay.entry,
		.cr3 = GUEST_BOOT_PML4,
		.rsi = LINUX_ZERO_PAGE_GPA,
		.gdt_base = LINUX_GDT_GPA,
		.gdt_limit = LINUX_GDT_ENTRIES * 8 - 1,
		.cs = LINUX_BOOT_CS,
		.ds = LINUX_BOOT_DS,
	};
	pr_info("guest %s: Linux boot protocol %u.%02u, kernel %llu KiB at %#llx (needs %llu MiB), "
		"initrd %llu KiB at %#llx, entry %#llx\n",
		g->cfg.name, li.version >> 8, li.version & 0xff,
		(unsigned long long)(li.pm_size >> 10), (unsigned long long)lay.kernel_gpa,
		(unsigned long long)(li.init_size >> 20),
		(unsigned long long)(lay.initrd_size >> 10), (unsigned long long)lay.initrd_gpa,
		(unsigned long long)lay.entry);
	return 0;
}
