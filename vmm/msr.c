/* MSR policy: one table, each entry a range of MSRs passed through to the guest (the
 * backend switches them per guest), or emulated by a read and a write function (NULL: #GP
 * for that direction). Every other MSR raises #GP(0), as on a CPU without it: Linux's safe
 * accessors take that as "absent" silently; its unchecked ones are kept away by hiding the
 * feature in CPUID (vmm/cpuid.c) or by an entry here. An emulated MSR never reaches the
 * host's: what must persist is kept per vCPU (struct vcpu_msrs). */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "vmm/msr.h"
#include "vmm/reg_rules.h"
#include "vmm/vmm.h"

/* The microcode revision reported (bits 63:32): none loaded by the guest, as KVM says. */
#define GUEST_UCODE_REV BIT(32)
/* Refused MSRs logged per OS guest (then only counted): where Linux looks for a feature. */
#define MSR_LOG_MAX 16

enum msr_vendor { ANY_VENDOR, INTEL_ONLY, AMD_ONLY };

struct msr_policy {
	u32 first, last;
	bool (*owns)(u32 msr); /* instead of first..last when set */
	const char *name;
	enum msr_vendor vendor;
	bool pass; /* guest accesses go to the CPU; the backend switches the MSR */
	/* 0, or -EINVAL for #GP(0) */
	int (*read)(struct vcpu *v, u32 msr, u64 *val);
	int (*write)(struct vcpu *v, u32 msr, u64 val);
};

static int read_tsc(struct vcpu *v, u32 msr, u64 *val)
{
	*val = rdtsc();
	return 0;
}

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs (vlapic_msr_owned()) are the
 * virtual LAPIC's once vlapic_reset() made it the vCPU's (OS guests). Without one (moat's
 * own guests): the APIC base reads as the xAPIC at its default address, enabled, and
 * ignores writes; the others raise #GP. */
static bool vlapic_live(struct vcpu *v)
{
	return guest_is_os(v->guest) && v->lapic.vcpu == v;
}

static int read_apic(struct vcpu *v, u32 msr, u64 *val)
{
	if (vlapic_live(v))
		return vlapic_msr_read(&v->lapic, msr, val);
	if (msr != MSR_IA32_APIC_BASE)
		return -EINVAL;
	*val = 0xfee00000ull | APIC_BASE_ENABLE | (v->index == 0 ? APIC_BASE_BSP : 0);
	return 0;
}

static int write_apic(struct vcpu *v, u32 msr, u64 val)
{
	if (vlapic_live(v))
		return vlapic_msr_write(&v->lapic, msr, val);
	return msr == MSR_IA32_APIC_BASE ? 0 : -EINVAL;
}

/* IA32_FEATURE_CONTROL: locked, VMX and SMX off (VMX is hidden); writes to it #GP. */
static int read_feature_control(struct vcpu *v, u32 msr, u64 *val)
{
	*val = BIT(0);
	return 0;
}

static int read_ucode_rev(struct vcpu *v, u32 msr, u64 *val)
{
	*val = GUEST_UCODE_REV;
	return 0;
}

/* Linux writes 0 before CPUID to have the revision loaded (SDM Vol. 3A 10.11.7.1). */
static int write_ucode_rev(struct vcpu *v, u32 msr, u64 val)
{
	return 0;
}

/* No variable or fixed-range MTRRs, no write-combining type: the guest's memory types are
 * moat's nested tables' (VMX: EPT with ignore-PAT; SVM: NPT combined with the guest's PAT). */
static int read_zero(struct vcpu *v, u32 msr, u64 *val)
{
	*val = 0;
	return 0;
}

static int read_mtrr_def_type(struct vcpu *v, u32 msr, u64 *val)
{
	*val = v->msrs.mtrr_def_type;
	return 0;
}

static bool mtrr_type_valid(u64 t)
{
	return t == MEMTYPE_UC || t == MEMTYPE_WC || t == MEMTYPE_WT || t == MEMTYPE_WP ||
	       t == MEMTYPE_WB;
}

/* SDM Vol. 3A 11.11.2.1: reserved bits and an undefined type #GP; FE #GPs without fixed
 * ranges (MTRRCAP.FIX = 0). */
static int write_mtrr_def_type(struct vcpu *v, u32 msr, u64 val)
{
	if ((val & ~(u64)(MTRR_DEF_TYPE_TYPE | MTRR_DEF_TYPE_E)) ||
	    !mtrr_type_valid(FIELD_GET(MTRR_DEF_TYPE_TYPE, val)))
		return -EINVAL;
	v->msrs.mtrr_def_type = val;
	return 0;
}

static int read_pat(struct vcpu *v, u32 msr, u64 *val)
{
	*val = v->msrs.pat;
	return 0;
}

/* SDM Vol. 3A 11.12.2: each entry a defined type (2 and 3 are reserved), bits 7:3 zero. */
static int write_pat(struct vcpu *v, u32 msr, u64 val)
{
	for (unsigned i = 0; i < 8; i++) {
		u64 t = (val >> (8 * i)) & 0xff;

		if (t > MEMTYPE_UC_MINUS || t == 2 || t == 3)
			return -EINVAL;
	}
	v->msrs.pat = val;
	vmm_be->set_reg(v, VMM_REG_PAT, val);
	return 0;
}

/* IA32_MISC_ENABLE: fast strings on, no BTS or PEBS (no debug store), no MONITOR/MWAIT,
 * CPUID not limited, XD not disabled. Read-only: a write must leave it as it is. */
#define GUEST_MISC_ENABLE                                                                          \
	(MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

static int read_misc_enable(struct vcpu *v, u32 msr, u64 *val)
{
	*val = GUEST_MISC_ENABLE;
	return 0;
}

static int write_misc_enable(struct vcpu *v, u32 msr, u64 val)
{
	return val == GUEST_MISC_ENABLE ? 0 : -EINVAL;
}

/* AMD HWCR: only TscFreqSel (the TSC counts at P0's rate, which Linux checks on family
 * 10h and later when the TSC is invariant). Read-only like MISC_ENABLE. */
static int read_hwcr(struct vcpu *v, u32 msr, u64 *val)
{
	*val = HWCR_TSC_FREQ_SEL;
	return 0;
}

static int write_hwcr(struct vcpu *v, u32 msr, u64 val)
{
	return val == HWCR_TSC_FREQ_SEL ? 0 : -EINVAL;
}

static int read_efer(struct vcpu *v, u32 msr, u64 *val)
{
	*val = vmm_be->get_reg(v, VMM_REG_EFER) & ~(u64)EFER_SVME;
	return 0;
}

/* By the architecture's rules (vmm/reg_rules.c): the way into long mode an application
 * processor takes (LME with paging off, then CR0.PG) works; LME changed under paging or
 * bits not offered (SVME, FFXSR, TCE, ...): #GP. */
static int write_efer(struct vcpu *v, u32 msr, u64 val)
{
	u64 efer;

	if (vmm_efer_write(vmm_be->get_reg(v, VMM_REG_EFER), vmm_be->get_reg(v, VMM_REG_CR0), val,
			   &efer))
		return -EINVAL;
	vmm_be->set_reg(v, VMM_REG_EFER, efer);
	return 0;
}

/* clang-format off */
static const struct msr_policy policy[] = {
	{MSR_IA32_TSC, MSR_IA32_TSC, NULL, "TSC", ANY_VENDOR, false, read_tsc, NULL},
	/* IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8ff */
	{0, 0, vlapic_msr_owned, "local APIC", ANY_VENDOR, false, read_apic, write_apic},
	{MSR_IA32_FEATURE_CONTROL, MSR_IA32_FEATURE_CONTROL, NULL, "FEATURE_CONTROL", INTEL_ONLY,
	 false, read_feature_control, NULL},
	{MSR_IA32_UCODE_REV, MSR_IA32_UCODE_REV, NULL, "UCODE_REV", ANY_VENDOR, false, read_ucode_rev,
	 write_ucode_rev},
	/* no P-state ratios: Linux's intel_pstate finds "invalid MSRs" and stays off */
	{MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, NULL, "PLATFORM_INFO", INTEL_ONLY, false, read_zero,
	 NULL},
	{MSR_MTRR_CAP, MSR_MTRR_CAP, NULL, "MTRRCAP", ANY_VENDOR, false, read_zero, NULL},
	{MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_EIP, NULL, "SYSENTER", ANY_VENDOR, true, NULL, NULL},
	{MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, NULL, "MISC_ENABLE", INTEL_ONLY, false,
	 read_misc_enable, write_misc_enable},
	{MSR_IA32_PAT, MSR_IA32_PAT, NULL, "PAT", ANY_VENDOR, false, read_pat, write_pat},
	{MSR_MTRR_DEF_TYPE, MSR_MTRR_DEF_TYPE, NULL, "MTRR_DEF_TYPE", ANY_VENDOR, false,
	 read_mtrr_def_type, write_mtrr_def_type},
	{MSR_EFER, MSR_EFER, NULL, "EFER", ANY_VENDOR, false, read_efer, write_efer},
	{MSR_STAR, MSR_SFMASK, NULL, "STAR/LSTAR/CSTAR/SFMASK", ANY_VENDOR, true, NULL, NULL},
	{MSR_FS_BASE, MSR_KERNEL_GS_BASE, NULL, "FS/GS/KERNEL_GS_BASE", ANY_VENDOR, true, NULL, NULL},
	{MSR_AMD_HWCR, MSR_AMD_HWCR, NULL, "HWCR", AMD_ONLY, false, read_hwcr, write_hwcr},
	/* K8 erratum 400 (C1E): Linux reads it unchecked on family 0Fh; no C1E here */
	{MSR_AMD_INT_PENDING_MSG, MSR_AMD_INT_PENDING_MSG, NULL, "INT_PENDING_MSG", AMD_ONLY, false,
	 read_zero, NULL},
};
/* clang-format on */

static bool host_is_amd(void)
{
	return cpuid(CPUID_LEAF_MAX, 0).ebx == CPUID_VENDOR_AMD_EBX;
}

int vmm_msr_amd = -1;

static const struct msr_policy *find_policy(u32 msr)
{
	bool amd;

	if (vmm_msr_amd < 0)
		vmm_msr_amd = host_is_amd();
	amd = vmm_msr_amd;
	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++) {
		const struct msr_policy *p = &policy[i];

		if (p->owns ? !p->owns(msr) : msr < p->first || msr > p->last)
			continue;
		if ((p->vendor == INTEL_ONLY && amd) || (p->vendor == AMD_ONLY && !amd))
			return NULL;
		return p;
	}
	return NULL;
}

void vmm_msr_reset(struct vcpu *v)
{
	v->msrs.pat = PAT_POWER_ON;
	v->msrs.mtrr_def_type = MTRR_DEF_TYPE_E | MEMTYPE_WB;
}

void vmm_msr_setup(struct vcpu *v)
{
	vmm_msr_reset(v);
	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++)
		if (policy[i].pass && !policy[i].owns)
			for (u32 msr = policy[i].first; msr <= policy[i].last; msr++)
				vmm_be->msr_intercept(v, msr, false, false);
}

static int refuse(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;

	if (__atomic_fetch_add(&g->msr_denied, 1, __ATOMIC_RELAXED) < MSR_LOG_MAX && guest_is_os(g))
		pr_info("guest %s: %s of MSR %#x refused (#GP)\n", g->cfg.name,
			e->reason == VMM_EXIT_MSR_READ ? "read" : "write", e->msr.index);
	return vmm_be->inject_exception(v, VEC_GP, true, 0);
}

int vmm_handle_msr(struct vcpu *v, const struct vmm_exit *e)
{
	const struct msr_policy *p = find_policy(e->msr.index);
	u64 val = 0;

	/* a passed-through MSR exits only where the backend could not open it */
	if (!p || p->pass)
		return refuse(v, e);
	if (e->reason == VMM_EXIT_MSR_READ) {
		if (!p->read || p->read(v, e->msr.index, &val))
			return refuse(v, e);
		v->gpr[VMM_REG_RAX] = val & 0xffffffff;
		v->gpr[VMM_REG_RDX] = val >> 32;
	} else if (!p->write || p->write(v, e->msr.index, e->msr.value)) {
		return refuse(v, e);
	}
	vmm_be->skip_instruction(v, e);
	return 0;
}
