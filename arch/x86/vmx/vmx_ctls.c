/* VMX execution-control computation from the capability MSRs (SDM Vol. 3D A.3-A.5). */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/vmx_regs.h"

static const char *const ctl_names[VMX_CTL_NR] = {
	[VMX_CTL_PIN] = "pin-based",
	[VMX_CTL_PROC] = "primary processor-based",
	[VMX_CTL_PROC2] = "secondary processor-based",
	[VMX_CTL_EXIT] = "VM-exit",
	[VMX_CTL_ENTRY] = "VM-entry",
};

static const char *const pin_bits[32] = {
	[0] = "external-interrupt exiting", [3] = "NMI exiting",       [5] = "virtual NMIs",
	[6] = "VMX-preemption timer",	    [7] = "posted interrupts",
};

static const char *const proc_bits[32] = {
	[2] = "interrupt-window exiting",
	[3] = "TSC offsetting",
	[7] = "HLT exiting",
	[9] = "INVLPG exiting",
	[10] = "MWAIT exiting",
	[11] = "RDPMC exiting",
	[12] = "RDTSC exiting",
	[15] = "CR3-load exiting",
	[16] = "CR3-store exiting",
	[19] = "CR8-load exiting",
	[20] = "CR8-store exiting",
	[21] = "TPR shadow",
	[22] = "NMI-window exiting",
	[23] = "MOV-DR exiting",
	[24] = "unconditional I/O exiting",
	[25] = "I/O bitmaps",
	[27] = "monitor trap flag",
	[28] = "MSR bitmaps",
	[29] = "MONITOR exiting",
	[30] = "PAUSE exiting",
	[31] = "secondary controls",
};

static const char *const proc2_bits[32] = {
	[0] = "virtualize APIC accesses", [1] = "enable EPT",
	[2] = "descriptor-table exiting", [3] = "enable RDTSCP",
	[4] = "virtualize x2APIC mode",	  [5] = "enable VPID",
	[6] = "WBINVD exiting",		  [7] = "unrestricted guest",
	[12] = "enable INVPCID",	  [20] = "enable XSAVES/XRSTORS",
};

static const char *const exit_bits[32] = {
	[2] = "save debug controls",
	[9] = "host address-space size",
	[12] = "load IA32_PERF_GLOBAL_CTRL",
	[15] = "acknowledge interrupt on exit",
	[18] = "save IA32_PAT",
	[19] = "load IA32_PAT",
	[20] = "save IA32_EFER",
	[21] = "load IA32_EFER",
	[22] = "save VMX-preemption timer value",
};

static const char *const entry_bits[32] = {
	[2] = "load debug controls",
	[9] = "IA-32e mode guest",
	[10] = "entry to SMM",
	[11] = "deactivate dual-monitor treatment",
	[13] = "load IA32_PERF_GLOBAL_CTRL",
	[14] = "load IA32_PAT",
	[15] = "load IA32_EFER",
};

static const char *const *const bit_names[VMX_CTL_NR] = {
	pin_bits, proc_bits, proc2_bits, exit_bits, entry_bits,
};

const char *vmx_ctl_name(enum vmx_ctl c)
{
	return c < VMX_CTL_NR ? ctl_names[c] : "?";
}

const char *vmx_ctl_bit_name(enum vmx_ctl c, unsigned bit)
{
	return c < VMX_CTL_NR && bit < 32 ? bit_names[c][bit] : NULL;
}

static int ctl_error(enum vmx_ctl c, u32 bits, const char *what)
{
	unsigned bit = (unsigned)__builtin_ctz(bits);
	const char *name = vmx_ctl_bit_name(c, bit);

	return pr_err(-ENOTSUP, "%s control \"%s\" (bit %u) %s\n", vmx_ctl_name(c),
		      name ? name : "unnamed", bit, what);
}

int vmx_ctl_compute(enum vmx_ctl c, u64 allowed, const struct vmx_ctl_req *req, u32 *out)
{
	u32 must1 = (u32)FIELD_GET(VMX_CTL_ALLOWED0, allowed);
	u32 may1 = (u32)FIELD_GET(VMX_CTL_ALLOWED1, allowed);
	u32 v;

	if (c >= VMX_CTL_NR)
		return pr_err(-EINVAL, "control field %d does not exist\n", (int)c);
	if (req->want & ~may1)
		return ctl_error(c, req->want & ~may1, "is not supported by this CPU");
	if (req->forbid & must1)
		return ctl_error(c, req->forbid & must1, "is forced on by this CPU");
	v = (must1 | req->want | (req->optional & ~req->forbid)) & may1;
	*out = v;
	return 0;
}

bool vmx_ctl_allows(const struct vmx_caps *caps, enum vmx_ctl c, u32 bits)
{
	return c < VMX_CTL_NR && (FIELD_GET(VMX_CTL_ALLOWED1, caps->ctl[c]) & bits) == bits;
}

u64 vmx_fix_cr0(const struct vmx_caps *caps, u64 cr0, bool unrestricted)
{
	u64 fixed0 = caps->cr0_fixed0;

	if (unrestricted)
		fixed0 &= ~(u64)(CR0_PE | CR0_PG);
	return (cr0 | fixed0) & caps->cr0_fixed1;
}

u64 vmx_guest_cr0_mask(const struct vmx_caps *caps, bool unrestricted)
{
	u64 mask = (caps->cr0_fixed0 | ~caps->cr0_fixed1 | VMX_CR0_SHADOW_ONLY) & GENMASK(31, 0);

	return unrestricted ? mask & ~(u64)(CR0_PE | CR0_PG) : mask;
}

u64 vmx_guest_cr0_real(const struct vmx_caps *caps, u64 cr0, bool unrestricted)
{
	return vmx_fix_cr0(caps, cr0, unrestricted) & ~(u64)VMX_CR0_SHADOW_ONLY;
}

u64 vmx_fix_cr4(const struct vmx_caps *caps, u64 cr4)
{
	return (cr4 | caps->cr4_fixed0) & caps->cr4_fixed1;
}

enum vmx_cr_write vmx_cr0_write(const struct vmx_caps *caps, bool unrestricted, u64 cur, u64 val,
				u64 *real)
{
	u64 forced = caps->cr0_fixed0;

	if (unrestricted)
		forced &= ~(u64)(CR0_PE | CR0_PG);
	/* SDM Vol. 3A 2.5 / MOV CR: the architectural #GP(0) cases */
	if ((val & CR0_RESERVED) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return VMX_CR_FAULT;
	/* leaving protected mode or paging while VMX keeps them on would put the guest in a
	 * mode it did not ask for */
	if ((cur & ~val) & forced & (CR0_PE | CR0_PG))
		return VMX_CR_UNSUPPORTED;
	*real = (val | forced) & caps->cr0_fixed1 & ~(u64)VMX_CR0_SHADOW_ONLY;
	return VMX_CR_APPLY;
}

enum vmx_cr_write vmx_cr4_write(const struct vmx_caps *caps, u64 val, u64 *real)
{
	/* VMX is hidden from guests: CR4.VMXE is reserved for them, like every bit the CPU
	 * does not offer */
	if ((val & ~caps->cr4_fixed1) || (val & CR4_VMXE))
		return VMX_CR_FAULT;
	*real = val | caps->cr4_fixed0;
	return VMX_CR_APPLY;
}

u32 vmx_preempt_ticks(const struct vmx_caps *caps, u64 tsc_hz, u64 us)
{
	unsigned rate = (unsigned)FIELD_GET(VMX_MISC_PREEMPT_RATE, caps->misc);
	u64 ticks;

	/* us * tsc_hz / 1e6 without overflowing for budgets up to hours at GHz rates */
	ticks = (us / 1000000) * tsc_hz + (us % 1000000) * tsc_hz / 1000000;
	ticks >>= rate;
	if (ticks > 0xffffffffull)
		return 0xffffffffu;
	return ticks ? (u32)ticks : 1;
}

u32 vmx_preempt_ticks_tsc(const struct vmx_caps *caps, u64 delta)
{
	unsigned rate = (unsigned)FIELD_GET(VMX_MISC_PREEMPT_RATE, caps->misc);
	u64 ticks;

	if (!delta)
		return 0;
	ticks = ((delta - 1) >> rate) + 2;
	return ticks > 0xffffffffull ? 0xffffffffu : (u32)ticks;
}

u64 vmx_efer_for_cr0(u64 efer, u64 cr0)
{
	if ((efer & EFER_LME) && (cr0 & CR0_PG))
		return efer | EFER_LMA;
	return efer & ~(u64)EFER_LMA;
}
