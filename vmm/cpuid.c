/* CPUID policy: what a guest may see of its CPU. Every leaf a guest can read is named in
 * policy[] with the bits it is offered from the host per register (an allow-list: a feature
 * the table does not name, present or future, stays hidden) and the bits forced on; a few
 * leaves are then computed (fix_*): topology from the guest's own vCPUs, XSAVE sizes, moat's
 * leaves. Leaves not in the table, and leaves past the highest one offered, read as zero.
 *
 * Rules (docs/vmm.md, "CPUID"): a feature is offered only if the guest can use it without
 * reaching host state, and without an exit moat does not handle; state the backends do not
 * switch per guest (performance counters, machine check banks, speculation control MSRs,
 * TSC_AUX) is hidden with the feature; power management (MWAIT, P-states, thermal) is the
 * host's. */
#include <moat/hypercall.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "vmm/cpuid.h"
#include "vmm/vlapic.h"

enum { EAX, EBX, ECX, EDX };

/* What the leaf needs computed after masking. */
enum cpuid_fix {
	FIX_NONE,
	FIX_MAX_BASIC,
	FIX_FEATURES,
	FIX_CACHE_PARAMS,
	FIX_EXT7,
	FIX_TOPOLOGY,
	FIX_XSAVE,
	FIX_TSC,
	FIX_HV_SIGNATURE,
	FIX_HV_INFO,
	FIX_HV_TSC,
	FIX_MAX_EXT,
	FIX_ADDR_SIZES,
	FIX_AMD_CACHE_TOPO,
	FIX_AMD_TOPOLOGY,
};

struct cpuid_leaf_policy {
	u32 leaf;
	u32 offer[4]; /* EAX, EBX, ECX, EDX: bits passed from the host */
	u32 force[4]; /* bits set whatever the host has */
	enum cpuid_fix fix;
};

#define ALL 0xffffffffu

#define MAX_BASIC_LEAF VMM_CPUID_MAX_BASIC
#define MAX_EXT_LEAF VMM_CPUID_MAX_EXT

/* Leaf 1. Hidden: DTES64, MONITOR (MWAIT sleeps past the watchdog), DS-CPL, VMX, SMX, EST,
 * TM2, CNXT-ID, SDBG, xTPR, PDCM (IA32_PERF_CAPABILITIES), DCA; MCE/MCA (no machine check
 * banks), PSN, DS, ACPI thermal, TM, PBE. PCID, x2APIC, TSC-deadline and the XSAVE family
 * are in gates[]. HTT and the APIC ID are computed; MTRR is emulated (vmm/msr.c). */
#define LEAF1_ECX                                                                                  \
	(CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 |         \
	 CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSE42 | CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT |          \
	 CPUID_1_ECX_AES | CPUID_1_ECX_RDRAND)
#define LEAF1_EDX                                                                                  \
	(CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE | CPUID_1_EDX_TSC |  \
	 CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_CX8 | CPUID_1_EDX_APIC |                  \
	 CPUID_1_EDX_SEP | CPUID_1_EDX_MTRR | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV |                 \
	 CPUID_1_EDX_PAT | CPUID_1_EDX_PSE36 | CPUID_1_EDX_CLFSH | CPUID_1_EDX_MMX |               \
	 CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2 | CPUID_1_EDX_SS)

/* Leaf 7.0. Hidden: TSC_ADJUST (writes the TSC), SGX, HLE/RTM (TSX_CTRL is not emulated),
 * MPX, PQM/PQE (resource monitoring MSRs), AVX-512, Intel PT, PKU/OSPKE (PKRU is XSAVE
 * state), WAITPKG (UMWAIT sleeps), LA57, TME, RDPID (reads TSC_AUX), KL, ENQCMD, SGX_LC,
 * SRBDS_CTRL, TSX_FORCE_ABORT, HYBRID, PCONFIG, ARCH_LBR, CET, AMX, and the speculation
 * control bits (SPEC_CTRL / PRED_CMD / ARCH_CAPABILITIES / CORE_CAPABILITIES are not
 * switched per guest). */
#define LEAF7_EBX                                                                                  \
	(CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_BMI1 | CPUID_7_EBX_FDP_EXCPTN | CPUID_7_EBX_SMEP |     \
	 CPUID_7_EBX_BMI2 | CPUID_7_EBX_ERMS | CPUID_7_EBX_FCS_FDS_DEP | CPUID_7_EBX_RDSEED |      \
	 CPUID_7_EBX_ADX | CPUID_7_EBX_SMAP | CPUID_7_EBX_CLFLUSHOPT | CPUID_7_EBX_CLWB |          \
	 CPUID_7_EBX_SHA)
#define LEAF7_ECX                                                                                  \
	(CPUID_7_ECX_UMIP | CPUID_7_ECX_GFNI | CPUID_7_ECX_CLDEMOTE | CPUID_7_ECX_MOVDIRI |        \
	 CPUID_7_ECX_MOVDIR64B)
#define LEAF7_EDX (CPUID_7_EDX_FSRM | CPUID_7_EDX_MD_CLEAR | CPUID_7_EDX_SERIALIZE)

/* Leaf 8000_0001h. Hidden: SVM, ExtApicSpace, OSVW (its MSRs), IBS, SKINIT, WDT, LWP, TCE
 * (an EFER bit), NodeId MSR, TBM, the core/northbridge/LLC counters, DR address masks,
 * PTSC, MONITORX; FFXSR (an EFER bit), RDTSCP (reads TSC_AUX); the mirrors of leaf 1's
 * MCE/MCA bits (AMD mirrors EDX bits 0-17, 23 and 24). */
#define EXT1_ECX                                                                                   \
	(CPUID_80000001_ECX_LAHF | CPUID_80000001_ECX_CMP_LEGACY | CPUID_80000001_ECX_CR8_LEGACY | \
	 CPUID_80000001_ECX_ABM | CPUID_80000001_ECX_SSE4A | CPUID_80000001_ECX_MISALIGNSSE |      \
	 CPUID_80000001_ECX_PREFETCHW | CPUID_80000001_ECX_TOPOEXT)
#define EXT1_EDX                                                                                   \
	((LEAF1_EDX & (GENMASK(17, 0) | CPUID_1_EDX_MMX | CPUID_1_EDX_FXSR)) |                     \
	 CPUID_80000001_EDX_SYSCALL | CPUID_80000001_EDX_NX | CPUID_80000001_EDX_MMXEXT |          \
	 CPUID_80000001_EDX_1G | CPUID_80000001_EDX_LM | CPUID_80000001_EDX_3DNOWEXT |             \
	 CPUID_80000001_EDX_3DNOW)

/* clang-format off */
static const struct cpuid_leaf_policy policy[] = {
	/* highest basic leaf and vendor */
	{CPUID_LEAF_MAX, {ALL, ALL, ALL, ALL}, {0}, FIX_MAX_BASIC},
	/* signature; brand index and CLFLUSH size (APIC ID and CPU count computed) */
	{CPUID_LEAF_FEATURES, {ALL, CPUID_1_EBX_CLFLUSH, LEAF1_ECX, LEAF1_EDX},
	 {0, 0, CPUID_1_ECX_HYPERVISOR, 0}, FIX_FEATURES},
	{CPUID_LEAF_CACHE_DESC, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	{CPUID_LEAF_CACHE_PARAMS, {ALL, ALL, ALL, ALL}, {0}, FIX_CACHE_PARAMS},
	/* MONITOR/MWAIT: not offered (leaf 5 zero) */
	/* thermal and power: nothing but ARAT (gates[]) */
	{CPUID_LEAF_POWER, {0, 0, 0, 0}, {0}, FIX_NONE},
	{CPUID_LEAF_EXT_FEATURES_7, {0, LEAF7_EBX, LEAF7_ECX, LEAF7_EDX}, {0}, FIX_EXT7},
	/* performance monitoring: not offered (leaf 0Ah zero) */
	{CPUID_LEAF_TOPOLOGY, {0}, {0}, FIX_TOPOLOGY},
	{CPUID_LEAF_XSAVE, {0}, {0}, FIX_XSAVE},
	/* the TSC's ratio to the crystal and the CPU's frequencies: from moat's measurement of
	 * the TSC (an emulator's claims can be far off), the crystal being the local APIC's
	 * timer clock */
	{CPUID_LEAF_TSC, {0}, {0}, FIX_TSC},
	{CPUID_LEAF_FREQ, {0}, {0}, FIX_TSC},
	{CPUID_LEAF_TOPOLOGY_V2, {0}, {0}, FIX_TOPOLOGY},
	{MOAT_CPUID_LEAF, {0}, {0}, FIX_HV_SIGNATURE},
	{MOAT_CPUID_INFO, {0}, {0}, FIX_HV_INFO},
	{MOAT_CPUID_TSC, {0}, {0}, FIX_HV_TSC},
	{CPUID_LEAF_EXT_MAX, {ALL, ALL, ALL, ALL}, {0}, FIX_MAX_EXT},
	{CPUID_LEAF_EXT_FEATURES, {ALL, 0, EXT1_ECX, EXT1_EDX}, {0}, FIX_NONE},
	{CPUID_LEAF_BRAND0, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	{CPUID_LEAF_BRAND0 + 1, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	{CPUID_LEAF_BRAND2, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	{CPUID_LEAF_L1_CACHE, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	{CPUID_LEAF_L2_CACHE, {ALL, ALL, ALL, ALL}, {0}, FIX_NONE},
	/* power management: only the invariant TSC (AMD's RAS and P-state bits hidden) */
	{CPUID_LEAF_EXT_POWER, {0, 0, 0, CPUID_80000007_EDX_INVARIANT_TSC}, {0}, FIX_NONE},
	/* address sizes; CLZERO, XSaveErPtr (IRPERF, RDPRU, WBNOINVD, INVLPGB, PPIN and the
	 * speculation control bits hidden); core count computed */
	{CPUID_LEAF_ADDR_SIZES,
	 {ALL, CPUID_80000008_EBX_CLZERO | CPUID_80000008_EBX_XSAVEERPTR, 0, 0}, {0},
	 FIX_ADDR_SIZES},
	/* SVM (8000_000Ah), SEV/SME (8000_001Fh): not offered */
	{CPUID_LEAF_AMD_CACHE_TOPO, {ALL, ALL, ALL, ALL}, {0}, FIX_AMD_CACHE_TOPO},
	{CPUID_LEAF_AMD_TOPOLOGY, {0}, {0}, FIX_AMD_TOPOLOGY},
};

/* Bits offered only when part of moat supports them (struct cpuid_ctx.features): where the
 * host has them, or always where moat emulates the feature itself (`emulated`). */
static const struct {
	u32 leaf;
	unsigned reg;
	u32 bits;
	u32 needs; /* VMM_GUEST_* */
	bool emulated;
} gates[] = {
	/* XSAVE and the AVX family, whose state XSAVE switches: the XSETBV exit must exist */
	{CPUID_LEAF_FEATURES, ECX, CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX | CPUID_1_ECX_FMA |
				   CPUID_1_ECX_F16C, VMM_GUEST_XSAVE, false},
	{CPUID_LEAF_EXT_FEATURES_7, EBX, CPUID_7_EBX_AVX2, VMM_GUEST_XSAVE, false},
	{CPUID_LEAF_EXT_FEATURES_7, ECX, CPUID_7_ECX_VAES | CPUID_7_ECX_VPCLMULQDQ,
	 VMM_GUEST_XSAVE, false},
	{CPUID_LEAF_EXT_FEATURES, ECX, CPUID_80000001_ECX_XOP | CPUID_80000001_ECX_FMA4,
	 VMM_GUEST_XSAVE, false},
	{CPUID_LEAF_FEATURES, ECX, CPUID_1_ECX_PCID, VMM_GUEST_PCID, false},
	{CPUID_LEAF_EXT_FEATURES_7, EBX, CPUID_7_EBX_INVPCID, VMM_GUEST_INVPCID, false},
	/* the virtual local APIC's (VMM_VLAPIC_FEATURES): vmm/vlapic.c emulates them on any
	 * host (QEMU's TCG CPU has no TSC-deadline timer of its own) */
	{CPUID_LEAF_FEATURES, ECX, CPUID_1_ECX_X2APIC, VMM_GUEST_X2APIC, true},
	{CPUID_LEAF_FEATURES, ECX, CPUID_1_ECX_TSC_DEADLINE, VMM_GUEST_TSC_DEADLINE, true},
	{CPUID_LEAF_POWER, EAX, CPUID_6_EAX_ARAT, VMM_GUEST_ARAT, true},
};
/* clang-format on */

/* Bits needed for an ID of each of n things (0 for one). */
static u32 id_bits(u32 n)
{
	u32 b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static u32 nr_vcpus(const struct cpuid_ctx *c)
{
	return c->nr_vcpus ? c->nr_vcpus : 1;
}

/* A cache shared by the whole package (level 3) is shared by every vCPU; the others by one
 * (one thread per core). */
static u32 sharing_minus_one(const struct cpuid_ctx *c, u32 level)
{
	return level >= 3 ? nr_vcpus(c) - 1 : 0;
}

static void fix_features(const struct cpuid_ctx *c, struct cpuid_regs *r, struct cpuid_regs host)
{
	u32 n = nr_vcpus(c);
	u32 apic_id =
		c->host_apic_id ? (u32)FIELD_GET(CPUID_1_EBX_APIC_ID, host.ebx) : c->vcpu_index;

	r->ebx |= (u32)(FIELD_PREP(CPUID_1_EBX_APIC_ID, apic_id) |
			FIELD_PREP(CPUID_1_EBX_NR_LOGICAL, 1u << id_bits(n)));
	if (n > 1)
		r->edx |= CPUID_1_EDX_HTT;
}

/* Leaves whose answer depends on the subleaf: computed at each query. The others are
 * computed once by vmm_cpuid_prepare(). */
static bool by_subleaf(enum cpuid_fix fix)
{
	return fix == FIX_CACHE_PARAMS || fix == FIX_EXT7 || fix == FIX_TOPOLOGY ||
	       fix == FIX_XSAVE || fix == FIX_AMD_CACHE_TOPO;
}

/* Intel's deterministic cache parameters (AMD: zero). */
static void fix_cache_params(const struct cpuid_ctx *c, struct cpuid_regs *r)
{
	u32 level = (u32)FIELD_GET(CPUID_4_EAX_LEVEL, r->eax);

	if (!FIELD_GET(CPUID_4_EAX_TYPE, r->eax))
		return;
	r->eax &= ~(u32)(CPUID_4_EAX_SHARING | CPUID_4_EAX_CORES);
	r->eax |= (u32)(FIELD_PREP(CPUID_4_EAX_SHARING, sharing_minus_one(c, level)) |
			FIELD_PREP(CPUID_4_EAX_CORES, (1u << id_bits(nr_vcpus(c))) - 1));
}

/* Leaves 0Bh and 1Fh: one thread per core, every vCPU a core of one package. */
static void fix_topology(const struct cpuid_ctx *c, u32 sub, struct cpuid_regs *r,
			 struct cpuid_regs host)
{
	u32 n = nr_vcpus(c);

	*r = (struct cpuid_regs){0, 0, (u32)FIELD_PREP(CPUID_TOPO_ECX_LEVEL, sub & 0xff),
				 c->host_apic_id ? host.edx : c->vcpu_index};
	if (sub == 0) {
		r->ebx = 1;
		r->ecx |= (u32)FIELD_PREP(CPUID_TOPO_ECX_TYPE, CPUID_TOPO_TYPE_SMT);
	} else if (sub == 1) {
		r->eax = (u32)FIELD_PREP(CPUID_TOPO_EAX_SHIFT, id_bits(n));
		r->ebx = (u32)FIELD_PREP(CPUID_TOPO_EBX_COUNT, n);
		r->ecx |= (u32)FIELD_PREP(CPUID_TOPO_ECX_TYPE, CPUID_TOPO_TYPE_CORE);
	}
}

u64 vmm_guest_xcr0(struct cpuid_regs (*host)(u32 leaf, u32 subleaf))
{
	u64 xcr0 = XFEATURE_X87 | XFEATURE_SSE;

	if (!(host(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_XSAVE))
		return 0;
	if ((host(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_AVX) && host(CPUID_LEAF_XSAVE, 2).eax)
		xcr0 |= XFEATURE_AVX;
	return xcr0 & host(CPUID_LEAF_XSAVE, 0).eax;
}

/* XSAVE (only once offered): the x87, SSE and AVX state components, sizes for all of them
 * (Linux enables every component offered, so the size of the enabled ones is the same). */
static void fix_xsave(const struct cpuid_ctx *c, u32 sub, struct cpuid_regs *r)
{
	struct cpuid_regs avx = c->host(CPUID_LEAF_XSAVE, 2);
	u64 xcr0 = vmm_guest_xcr0(c->host);
	u32 size = xcr0 & XFEATURE_AVX ? avx.ebx + avx.eax : 512 + 64;

	*r = (struct cpuid_regs){0, 0, 0, 0};
	if (!(c->features & VMM_GUEST_XSAVE) || !xcr0)
		return;
	if (sub == 0)
		*r = (struct cpuid_regs){(u32)xcr0, size, size, 0};
	else if (sub == 1)
		r->eax = c->host(CPUID_LEAF_XSAVE, 1).eax & CPUID_D1_EAX_XSAVEOPT;
	else if (sub == 2 && (xcr0 & XFEATURE_AVX))
		*r = (struct cpuid_regs){avx.eax, avx.ebx, 0, 0};
}

/* Leaf 15h: the crystal is the virtual LAPIC's timer clock, the TSC divided by the integer
 * nearest to TSC Hz / VLAPIC_BUS_HZ (vlapic_reset()): Linux takes the crystal as that clock
 * and calibrates neither. Leaf 16h: base and maximum MHz = the TSC's (it runs at the base
 * frequency), bus MHz = the crystal's. Zero while the TSC's frequency is unknown. */
static void fix_tsc(const struct cpuid_ctx *c, u32 leaf, struct cpuid_regs *r)
{
	u64 hz = c->tsc_hz, ratio = MAX((hz + VLAPIC_BUS_HZ / 2) / VLAPIC_BUS_HZ, 1);
	u64 crystal = hz / ratio;

	*r = (struct cpuid_regs){0, 0, 0, 0};
	if (!hz || crystal > 0xffffffffu)
		return;
	if (leaf == CPUID_LEAF_TSC)
		*r = (struct cpuid_regs){1, (u32)ratio, (u32)crystal, 0};
	else
		*r = (struct cpuid_regs){(u32)(hz / 1000000), (u32)(hz / 1000000),
					 (u32)(crystal / 1000000), 0};
}

static void fix_hv(const struct cpuid_ctx *c, enum cpuid_fix fix, struct cpuid_regs *r)
{
	switch (fix) {
	case FIX_HV_SIGNATURE:
		r->eax = MOAT_CPUID_MAX;
		memcpy(&r->ebx, MOAT_CPUID_SIGNATURE, 4);
		memcpy(&r->ecx, MOAT_CPUID_SIGNATURE + 4, 4);
		memcpy(&r->edx, MOAT_CPUID_SIGNATURE + 8, 4);
		break;
	case FIX_HV_INFO: *r = (struct cpuid_regs){c->guest_id, c->cpu, c->hc_insn, 0}; break;
	case FIX_HV_TSC: r->eax = (u32)(c->tsc_hz / 1000); break;
	default: break;
	}
}

/* AMD's cache topology (with TOPOEXT) and its node/core IDs. */
static void fix_amd_topology(const struct cpuid_ctx *c, enum cpuid_fix fix, struct cpuid_regs *r,
			     struct cpuid_regs host)
{
	if (fix == FIX_AMD_CACHE_TOPO) {
		if (!FIELD_GET(CPUID_4_EAX_TYPE, r->eax))
			return;
		r->eax &= ~(u32)CPUID_8000001D_EAX_SHARING;
		r->eax |= (u32)FIELD_PREP(
			CPUID_8000001D_EAX_SHARING,
			sharing_minus_one(c, (u32)FIELD_GET(CPUID_4_EAX_LEVEL, r->eax)));
		return;
	}
	r->eax = c->host_apic_id ? host.eax : c->vcpu_index;
	r->ebx = (u32)FIELD_PREP(CPUID_8000001E_EBX_CORE_ID, c->vcpu_index & 0xff);
}

static void fix_leaf(const struct cpuid_ctx *c, const struct cpuid_leaf_policy *p, u32 sub,
		     struct cpuid_regs *r, struct cpuid_regs host)
{
	u32 n = nr_vcpus(c);

	switch (p->fix) {
	case FIX_MAX_BASIC: r->eax = MIN(host.eax, (u32)MAX_BASIC_LEAF); break;
	case FIX_MAX_EXT: r->eax = MIN(host.eax, (u32)MAX_EXT_LEAF); break;
	case FIX_FEATURES: fix_features(c, r, host); break;
	case FIX_CACHE_PARAMS: fix_cache_params(c, r); break;
	case FIX_EXT7:
		/* subleaf 0 only: the others hold features not offered */
		if (sub != 0)
			*r = (struct cpuid_regs){0, 0, 0, 0};
		break;
	case FIX_TOPOLOGY: fix_topology(c, sub, r, host); break;
	case FIX_XSAVE: fix_xsave(c, sub, r); break;
	case FIX_TSC: fix_tsc(c, p->leaf, r); break;
	case FIX_ADDR_SIZES:
		r->ecx = (u32)(FIELD_PREP(CPUID_80000008_ECX_NC, n - 1) |
			       FIELD_PREP(CPUID_80000008_ECX_APIC_ID_SIZE, id_bits(n)));
		break;
	case FIX_AMD_CACHE_TOPO:
	case FIX_AMD_TOPOLOGY: fix_amd_topology(c, p->fix, r, host); break;
	case FIX_HV_SIGNATURE:
	case FIX_HV_INFO:
	case FIX_HV_TSC: fix_hv(c, p->fix, r); break;
	case FIX_NONE: break;
	}
}

STATIC_ASSERT(ARRAY_SIZE(policy) == VMM_CPUID_NR_RULES, "VMM_CPUID_NR_RULES counts policy[]");

/* Whether the leaf exists for the guest: up to the highest basic / extended leaf offered,
 * and moat's own range. */
static bool leaf_offered(u32 leaf, u32 max_basic, u32 max_ext)
{
	if (leaf < MOAT_CPUID_LEAF)
		return leaf <= MIN(max_basic, (u32)MAX_BASIC_LEAF);
	if (leaf < CPUID_LEAF_EXT_MAX)
		return leaf <= MOAT_CPUID_MAX;
	return leaf <= MIN(max_ext, (u32)MAX_EXT_LEAF);
}

/* The answer of policy entry i for `leaf`, from the host's and the context's masks,
 * without OSXSAVE. */
static struct cpuid_regs compute(const struct cpuid_ctx *c, unsigned i, u32 leaf, u32 sub)
{
	const struct cpuid_masks *m = &c->mask[i];
	struct cpuid_regs host = {0, 0, 0, 0}, r;

	if (leaf < MOAT_CPUID_LEAF || leaf >= CPUID_LEAF_EXT_MAX)
		host = c->host(leaf, sub);
	r.eax = (host.eax & m->offer[EAX]) | m->force[EAX];
	r.ebx = (host.ebx & m->offer[EBX]) | m->force[EBX];
	r.ecx = (host.ecx & m->offer[ECX]) | m->force[ECX];
	r.edx = (host.edx & m->offer[EDX]) | m->force[EDX];
	fix_leaf(c, &policy[i], sub, &r, host);
	return r;
}

void vmm_cpuid_prepare(struct cpuid_ctx *c)
{
	u32 max_basic = c->host(CPUID_LEAF_MAX, 0).eax;
	u32 max_ext = c->host(CPUID_LEAF_EXT_MAX, 0).eax;

	STATIC_ASSERT(VMM_CPUID_NR_RULES <= 32, "struct cpuid_ctx.ready has a bit per entry");
	memset(c->rule, VMM_CPUID_NO_RULE, sizeof(c->rule));
	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++) {
		int at = vmm_cpuid_leaf_index(policy[i].leaf);

		for (unsigned r = 0; r < 4; r++) {
			c->mask[i].offer[r] = policy[i].offer[r];
			c->mask[i].force[r] = policy[i].force[r];
		}
		if (at >= 0 && leaf_offered(policy[i].leaf, max_basic, max_ext))
			c->rule[at] = (u8)i;
	}
	/* A gated bit is forced where moat emulates the feature, else passed from the host. On
	 * leaf 7 only subleaf 0 has them: FIX_EXT7 clears the others. */
	for (unsigned i = 0; i < ARRAY_SIZE(gates); i++) {
		int at = vmm_cpuid_leaf_index(gates[i].leaf);
		u8 rule = at >= 0 ? c->rule[at] : VMM_CPUID_NO_RULE;

		if (rule == VMM_CPUID_NO_RULE || !(c->features & gates[i].needs))
			continue;
		if (gates[i].emulated)
			c->mask[rule].force[gates[i].reg] |= gates[i].bits;
		else
			c->mask[rule].offer[gates[i].reg] |= gates[i].bits;
	}
	c->ready = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++) {
		int at = vmm_cpuid_leaf_index(policy[i].leaf);
		struct cpuid_regs r;

		if (at < 0 || c->rule[at] != i || by_subleaf(policy[i].fix))
			continue;
		r = compute(c, i, policy[i].leaf, 0);
		c->answer[i][EAX] = r.eax;
		c->answer[i][EBX] = r.ebx;
		c->answer[i][ECX] = r.ecx;
		c->answer[i][EDX] = r.edx;
		c->ready |= BIT(i);
	}
}

struct cpuid_regs vmm_cpuid(const struct cpuid_ctx *c, u32 leaf, u32 sub)
{
	struct cpuid_regs r = {0, 0, 0, 0};
	unsigned i = vmm_cpuid_rule(c, leaf);

	if (i == VMM_CPUID_NO_RULE)
		return r;
	if (c->ready & BIT(i))
		r = (struct cpuid_regs){c->answer[i][EAX], c->answer[i][EBX], c->answer[i][ECX],
					c->answer[i][EDX]};
	else
		r = compute(c, i, leaf, sub);
	r.ecx = vmm_cpuid_osxsave(c, leaf, r.ecx);
	return r;
}

void vmm_cpuid_gprs(const struct cpuid_ctx *c, u32 leaf, u32 sub, u64 *gpr)
{
	struct cpuid_regs r = vmm_cpuid(c, leaf, sub);

	gpr[VMM_REG_RAX] = r.eax;
	gpr[VMM_REG_RBX] = r.ebx;
	gpr[VMM_REG_RCX] = r.ecx;
	gpr[VMM_REG_RDX] = r.edx;
}
