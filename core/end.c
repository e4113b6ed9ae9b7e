/* The end of a run: the summary line of the serial contract, then leave the machine the
 * way the command line asks (exit=halt|poweroff|reboot|auto). */
#define LOG_TAG "moat"
#include <moat/acpi.h>
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/tap.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "core/end.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900
#define KBC_STATUS 0x64
#define KBC_STATUS_INPUT_FULL BIT(1)
#define KBC_RESET_CMD 0xfe

/* QEMU under TCG or KVM names itself in the hypervisor CPUID leaf. */
static bool running_on_qemu(void)
{
	struct cpuid_regs r;
	char sig[13];

	if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	r = cpuid(CPUID_LEAF_HV, 0);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	return !strcmp(sig, "TCGTCGTCGTCG") || !strcmp(sig, "KVMKVMKVM\0\0\0");
}

/* Bochs with port_e9_hack answers 0xe9 on reads of port 0xe9; hardware floats (0xff). */
static bool running_on_bochs(void)
{
	return !(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_HYPERVISOR) && inb(0xe9) == 0xe9;
}

const char *emulator_name(void)
{
	if (running_on_qemu())
		return "qemu";
	if (running_on_bochs())
		return "bochs";
	return NULL;
}

/* exit=halt|poweroff|reboot (qemu and bochs: power-off, the names of earlier versions);
 * auto or absent: power-off under a recognised emulator (whose debug-exit device turns the
 * verdict into its exit status), halt on hardware. */
const char *exit_method(void)
{
	static const char *const words[][2] = {
		{"halt", "halt"},     {"poweroff", "poweroff"}, {"reboot", "reboot"},
		{"qemu", "poweroff"}, {"bochs", "poweroff"},	{"auto", NULL},
	};
	char arg[16];

	if (cmdline_get("exit", arg, sizeof(arg)) >= 0) {
		for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
			if (!strcmp(arg, words[i][0]) && words[i][1])
				return words[i][1];
		if (strcmp(arg, "auto"))
			pr_err(-EINVAL, "exit=%s is not halt, poweroff, reboot or auto: auto\n",
			       arg);
	}
	return emulator_name() ? "poweroff" : "halt";
}

extern char __image_start[], __image_end[];

/* What moat holds at the end: its image (with .bss) and what its allocator handed out
 * (guest RAM included; the vmm's "memory" line says how much of it that is). */
static void memory_report(void)
{
	u64 image = (u64)(uintptr_t)__image_end - (u64)(uintptr_t)__image_start;

	pr_info("memory: image %llu bytes, allocator handed out %llu of %llu bytes\n",
		(unsigned long long)image,
		(unsigned long long)(hv_pmm.usable_bytes - hv_pmm.free_bytes),
		(unsigned long long)hv_pmm.usable_bytes);
}

/* Bounded: whatever a method does takes effect within this, or the next one is tried. */
#define END_WAIT_US (500 * 1000)
#define KBC_WAIT_US (100 * 1000)
#define CF9_PORT 0xcf9
#define CF9_SYS_RST BIT(1)
#define CF9_RST_CPU BIT(2)

static void power_off(bool failed)
{
	struct acpi_power pw;

	if (running_on_qemu()) {
		/* isa-debug-exit: QEMU exits with status (v << 1) | 1. */
		pr_info("powering off: QEMU debug exit (port %#x <- %u)\n", QEMU_DEBUG_EXIT_PORT,
			failed);
		outl(QEMU_DEBUG_EXIT_PORT, failed ? 1 : 0);
		udelay(END_WAIT_US);
		pr_info("no QEMU debug-exit device answered\n");
	}
	if (running_on_bochs()) {
		pr_info("powering off: Bochs shutdown port %#x\n", BOCHS_SHUTDOWN_PORT);
		for (const char *s = "Shutdown"; *s; s++)
			outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
		udelay(END_WAIT_US);
	}
	if (acpi_power(&pw) || !pw.have_s5) {
		pr_err(-ENODEV,
		       "power-off failed: no ACPI \\_S5 sleep type or PM1 control block\n");
		return;
	}
	pr_info("powering off: ACPI S5 (PM1a_CNT %#x <- SLP_TYP %u | SLP_EN)\n", pw.pm1a_cnt,
		pw.s5_typ_a);
	/* ACPI 6.5 7.4.2: SLP_TYPa to PM1a, SLP_TYPb to PM1b, then SLP_EN. */
	outw(pw.pm1a_cnt,
	     (u16)((inw(pw.pm1a_cnt) & ~ACPI_PM1_CNT_SLP_TYP) |
		   FIELD_PREP(ACPI_PM1_CNT_SLP_TYP, pw.s5_typ_a) | ACPI_PM1_CNT_SLP_EN));
	if (pw.pm1b_cnt)
		outw(pw.pm1b_cnt,
		     (u16)((inw(pw.pm1b_cnt) & ~ACPI_PM1_CNT_SLP_TYP) |
			   FIELD_PREP(ACPI_PM1_CNT_SLP_TYP, pw.s5_typ_b) | ACPI_PM1_CNT_SLP_EN));
	udelay(END_WAIT_US);
	pr_err(-ETIMEDOUT, "power-off failed: still running %u ms after S5\n", END_WAIT_US / 1000);
}

/* The FADT's reset register, then the chipset's reset control port, then the keyboard
 * controller: each given END_WAIT_US. */
static void reboot(void)
{
	struct acpi_power pw;

	if (!acpi_power(&pw) && pw.have_reset) {
		pr_info("rebooting: ACPI reset register (%s %#llx <- %#x)\n",
			pw.reset_space == ACPI_GAS_IO ? "I/O" : "memory",
			(unsigned long long)pw.reset_addr, pw.reset_value);
		if (pw.reset_space == ACPI_GAS_IO)
			outb((u16)pw.reset_addr, pw.reset_value);
		else
			mmio_write8(pw.reset_addr, pw.reset_value);
		udelay(END_WAIT_US);
	}
	pr_info("rebooting: reset control port %#x\n", CF9_PORT);
	outb(CF9_PORT, CF9_SYS_RST);
	udelay(10);
	outb(CF9_PORT, CF9_SYS_RST | CF9_RST_CPU);
	udelay(END_WAIT_US);
	pr_info("rebooting: keyboard controller reset\n");
	if (!WAIT_US(!(inb(KBC_STATUS) & KBC_STATUS_INPUT_FULL), KBC_WAIT_US))
		pr_err(-ETIMEDOUT, "keyboard controller busy for %u ms\n", KBC_WAIT_US / 1000);
	outb(KBC_STATUS, KBC_RESET_CMD);
	udelay(END_WAIT_US);
	pr_err(-ETIMEDOUT, "reboot failed: every reset method left the machine running\n");
}

void moat_finish(void)
{
	unsigned pass, fail, skip;
	const char *how = exit_method();

	memory_report();
	tap_totals(&pass, &fail, &skip);
	pr_info("%u passed, %u failed, %u skipped\n", pass, fail, skip);
	if (!strcmp(how, "poweroff"))
		power_off(fail != 0);
	else if (!strcmp(how, "reboot"))
		reboot();
	pr_info("halted (exit=%s)\n", how);
	cpu_halt_forever();
}
