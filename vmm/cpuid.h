/* CPUID as a guest sees it (vmm/cpuid.c): the host's answer filtered by a policy table,
 * per leaf and register the bits offered and the bits forced; leaves the table does not
 * name read as zero. docs/vmm.md, "CPUID", lists what is offered and why. */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <moat/types.h>
#include "arch/x86/cpu.h"
#include "vmm/backend.h"

/* The virtual LAPIC's features, offered to OS guests (vmm/vlapic.c emulates them): x2APIC
 * mode, the TSC-deadline timer (CPUID.1:ECX[24]) and a timer that runs in every C-state
 * (ARAT, CPUID.6:EAX[2]). */
#define VMM_VLAPIC_FEATURES (VMM_GUEST_X2APIC | VMM_GUEST_TSC_DEADLINE | VMM_GUEST_ARAT)

struct cpuid_ctx {
	u32 vcpu_index; /* also its APIC ID */
	u32 nr_vcpus;
	bool host_apic_id; /* moat's own guests: APIC IDs are the host CPU's (their MSIs name it) */
	u32 guest_id, cpu, hc_insn;
	u64 tsc_hz;   /* the TSC the guest reads (0: unknown) */
	u32 features; /* VMM_GUEST_* */
	bool osxsave; /* the guest's CR4.OSXSAVE */
	struct cpuid_regs (*host)(u32 leaf, u32 subleaf);
};

/* The XCR0 components a guest is offered once XSAVE is (VMM_GUEST_XSAVE): x87, SSE and, with
 * the host's AVX, AVX; 0 without XSAVE on the host. The XSETBV check must allow no more. */
u64 vmm_guest_xcr0(struct cpuid_regs (*host)(u32 leaf, u32 subleaf));

/* The guest's answer to CPUID(leaf, subleaf). */
struct cpuid_regs vmm_cpuid(const struct cpuid_ctx *c, u32 leaf, u32 subleaf);

#endif
