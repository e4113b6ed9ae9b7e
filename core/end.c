/* The end of a run: the summary line of the serial contract, then leave the machine the
 * way the command line asks (exit=auto|qemu|bochs|halt|reboot). */
#define LOG_TAG "moat"
#include <moat/cmdline.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/tap.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "core/end.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900
#define KBC_STATUS 0x64
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

const char *exit_method(void)
{
	static char method[16];

	if (cmdline_get("exit", method, sizeof(method)) < 0 || !strcmp(method, "auto"))
		return emulator_name() ? emulator_name() : "halt";
	return method;
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

void moat_finish(void)
{
	unsigned pass, fail, skip;
	const char *how = exit_method();

	memory_report();
	tap_totals(&pass, &fail, &skip);
	pr_info("%u passed, %u failed, %u skipped\n", pass, fail, skip);
	if (!strcmp(how, "qemu")) {
		/* isa-debug-exit: QEMU exits with status (v << 1) | 1. */
		outl(QEMU_DEBUG_EXIT_PORT, fail ? 1 : 0);
	} else if (!strcmp(how, "bochs")) {
		for (const char *s = "Shutdown"; *s; s++)
			outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
	} else if (!strcmp(how, "reboot")) {
		for (int i = 0; i < 100000 && (inb(KBC_STATUS) & 2); i++)
			cpu_relax();
		outb(KBC_STATUS, KBC_RESET_CMD);
	}
	pr_info("halted (exit method \"%s\")\n", how);
	cpu_halt_forever();
}
