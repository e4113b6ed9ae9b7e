/* CPUID as a guest sees it (vmm/cpuid.c): the host's answer filtered by a policy table,
 * per leaf and register the bits offered and the bits forced; leaves the table does not
 * name read as zero. docs/vmm.md, "CPUID", lists what is offered and why. */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <moat/hypercall.h>
#include <moat/types.h>
#include <moat/x86_regs.h>
#include "vmm/backend.h"

/* The virtual LAPIC's features, offered to OS guests (vmm/vlapic.c emulates them): x2APIC
 * mode, the TSC-deadline timer (CPUID.1:ECX[24]) and a timer that runs in every C-state
 * (ARAT, CPUID.6:EAX[2]). */
#define VMM_VLAPIC_FEATURES (VMM_GUEST_X2APIC | VMM_GUEST_TSC_DEADLINE | VMM_GUEST_ARAT)

/* Highest leaves the policy can offer: the topology leaf 1Fh; AMD's topology leaf
 * 8000_001Eh; moat's own MOAT_CPUID_LEAF..MOAT_CPUID_MAX. */
#define VMM_CPUID_MAX_BASIC CPUID_LEAF_TOPOLOGY_V2
#define VMM_CPUID_MAX_EXT CPUID_LEAF_AMD_TOPOLOGY
#define VMM_CPUID_NR_HV (MOAT_CPUID_MAX - MOAT_CPUID_LEAF + 1)
#define VMM_CPUID_NR_EXT (VMM_CPUID_MAX_EXT - CPUID_LEAF_EXT_MAX + 1)
#define VMM_CPUID_NR_LEAVES (VMM_CPUID_MAX_BASIC + 1 + VMM_CPUID_NR_HV + VMM_CPUID_NR_EXT)
/* Leaves in vmm/cpuid.c's policy table. */
#define VMM_CPUID_NR_RULES 25
#define VMM_CPUID_NO_RULE 0xff

struct cpuid_regs; /* arch/x86/cpu.h */

struct cpuid_ctx {
	u32 vcpu_index; /* also its APIC ID */
	u32 nr_vcpus;
	bool host_apic_id; /* moat's own guests: APIC IDs are the host CPU's (their MSIs name it) */
	u32 guest_id, cpu, hc_insn;
	u64 tsc_hz;   /* the TSC the guest reads (0: unknown) */
	u32 features; /* VMM_GUEST_* */
	bool osxsave; /* the guest's CR4.OSXSAVE (read for leaf 1 only) */
	struct cpuid_regs (*host)(u32 leaf, u32 subleaf);
	/* Derived by vmm_cpuid_prepare() from the fields above and the host's highest leaves:
	 * per leaf the policy entry that answers it (VMM_CPUID_NO_RULE: none, or past the
	 * highest leaf offered), and per entry the bits offered and forced with the gated
	 * features this context supports folded in. */
	u8 rule[VMM_CPUID_NR_LEAVES];
	struct cpuid_masks {
		u32 offer[4], force[4];
	} mask[VMM_CPUID_NR_RULES];
	/* The answers of the entries that do not depend on the subleaf (bit i of `ready`),
	 * computed once, without OSXSAVE: the host's CPUID of the CPU that prepared them, so
	 * prepared on the vCPU's own CPU (its APIC ID shows in leaf 1 for moat's guests). */
	u32 ready;
	u32 answer[VMM_CPUID_NR_RULES][4]; /* EAX, EBX, ECX, EDX */
};

/* The XCR0 components a guest is offered once XSAVE is (VMM_GUEST_XSAVE): x87, SSE and, with
 * the host's AVX, AVX; 0 without XSAVE on the host. The XSETBV check must allow no more. */
u64 vmm_guest_xcr0(struct cpuid_regs (*host)(u32 leaf, u32 subleaf));

/* Fills in the derived part of c: once its other fields are set, and again after any of
 * them (but osxsave) changed, on the CPU whose CPUID c->host reads. */
void vmm_cpuid_prepare(struct cpuid_ctx *c);

/* The index of `leaf` in struct cpuid_ctx.rule (the basic leaves, moat's, the extended
 * ones), or -1 for a leaf no policy entry can answer. */
static inline int vmm_cpuid_leaf_index(u32 leaf)
{
	if (leaf <= VMM_CPUID_MAX_BASIC)
		return (int)leaf;
	if (leaf - MOAT_CPUID_LEAF < VMM_CPUID_NR_HV)
		return VMM_CPUID_MAX_BASIC + 1 + (int)(leaf - MOAT_CPUID_LEAF);
	if (leaf - CPUID_LEAF_EXT_MAX < VMM_CPUID_NR_EXT)
		return VMM_CPUID_MAX_BASIC + 1 + VMM_CPUID_NR_HV + (int)(leaf - CPUID_LEAF_EXT_MAX);
	return -1;
}

/* The policy entry that answers `leaf`, or VMM_CPUID_NO_RULE (the leaf reads as zero). */
static inline unsigned vmm_cpuid_rule(const struct cpuid_ctx *c, u32 leaf)
{
	int at = vmm_cpuid_leaf_index(leaf);

	return at < 0 ? VMM_CPUID_NO_RULE : c->rule[at];
}

/* Leaf 1's ECX with OSXSAVE as the guest's CR4 has it now (SDM Vol. 2A, CPUID). */
static inline u32 vmm_cpuid_osxsave(const struct cpuid_ctx *c, u32 leaf, u32 ecx)
{
	if (leaf == CPUID_LEAF_FEATURES && (ecx & CPUID_1_ECX_XSAVE) && c->osxsave)
		ecx |= CPUID_1_ECX_OSXSAVE;
	return ecx;
}

/* The answer to CPUID(leaf, any subleaf) into the guest's RAX, RBX, RCX and RDX (gpr
 * indexed by enum vmm_reg) where vmm_cpuid_prepare() computed it; false for a leaf whose
 * answer depends on the subleaf (vmm_cpuid_gprs() computes those). */
static inline bool vmm_cpuid_gprs_ready(const struct cpuid_ctx *c, u32 leaf, u64 *gpr)
{
	unsigned i = vmm_cpuid_rule(c, leaf);
	const u32 *a;

	if (i == VMM_CPUID_NO_RULE || !(c->ready & BIT(i)))
		return false;
	a = c->answer[i];
	gpr[VMM_REG_RAX] = a[0];
	gpr[VMM_REG_RBX] = a[1];
	gpr[VMM_REG_RCX] = vmm_cpuid_osxsave(c, leaf, a[2]);
	gpr[VMM_REG_RDX] = a[3];
	return true;
}

/* The guest's answer to CPUID(leaf, subleaf); c prepared. */
struct cpuid_regs vmm_cpuid(const struct cpuid_ctx *c, u32 leaf, u32 subleaf);
/* The same into the guest's RAX, RBX, RCX and RDX (zero-extended), gpr indexed by enum
 * vmm_reg. */
void vmm_cpuid_gprs(const struct cpuid_ctx *c, u32 leaf, u32 subleaf, u64 *gpr);

#endif
