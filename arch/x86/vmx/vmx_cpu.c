/* VMX detection (SDM Vol. 3C 23.6-23.7, Appendix A) and VMXON on each CPU that runs a
 * guest. Detection reads CPUID and the capability MSRs only: no instruction is ever tried
 * to see whether it faults (QEMU TCG hangs on CR4.VMXE). */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/percpu.h"
#include "arch/x86/xcr0.h"
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

struct vmx_config vmx_cfg;

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* clang-format off */
static const struct vmx_ctl_req ctl_req[VMX_CTL_NR] = {
	[VMX_CTL_PIN] = {
		.want = PIN_EXT_INTR | PIN_NMI,
		/* virtual NMIs: the guest's NMI blocking for inject_nmi() (24.4.2) */
		.optional = PIN_PREEMPT_TIMER | PIN_VIRT_NMI,
		.forbid = PIN_POSTED_INTR,
	},
	[VMX_CTL_PROC] = {
		/* MOV CR8 goes to the TPR shadow (the virtual-APIC page), never to the local
		 * APIC: a guest TPR of 15 would block every host interrupt on its CPU. MWAIT,
		 * MONITOR and RDPMC exit (the core refuses them) */
		.want = PROC_HLT | PROC_MWAIT | PROC_RDPMC | PROC_TPR_SHADOW | PROC_MONITOR |
			PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY,
		/* with EPT the guest owns CR3; these would stop it at its first MOV CR3 */
		.forbid = PROC_CR3_LOAD | PROC_CR3_STORE | PROC_CR8_LOAD | PROC_CR8_STORE |
			  PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_MTF,
	},
	[VMX_CTL_PROC2] = {
		.want = PROC2_EPT | PROC2_WBINVD,
		.optional = PROC2_VPID | PROC2_UNRESTRICTED | PROC2_INVPCID,
		/* without "enable RDTSCP", RDTSCP and RDPID raise #UD: they would read the
		 * host's TSC_AUX */
		.forbid = PROC2_VIRT_APIC | PROC2_VIRT_X2APIC | PROC2_RDTSCP,
	},
	[VMX_CTL_EXIT] = {
		/* the guest's DR7 and DEBUGCTL are saved on exit and loaded on entry (the host
		 * gets DR7 0x400 at every exit): its breakpoints survive exits, and a reflected
		 * #DB sees the DR7 it was raised under */
		.want = EXIT_HOST_64 | EXIT_SAVE_DEBUG | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
		.optional = EXIT_SAVE_PAT | EXIT_LOAD_PAT,
		/* the host takes a pending interrupt itself, after the exit */
		.forbid = EXIT_ACK_INTR | EXIT_SAVE_PREEMPT,
	},
	[VMX_CTL_ENTRY] = {
		.want = ENTRY_IA32E | ENTRY_LOAD_DEBUG | ENTRY_LOAD_EFER,
		.optional = ENTRY_LOAD_PAT,
		.forbid = ENTRY_SMM | ENTRY_DUAL_MONITOR,
	},
};

static const u32 ctl_msr[VMX_CTL_NR] = {
	MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS2,
	MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS,
};

static const u32 true_ctl_msr[VMX_CTL_NR] = {
	MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
	MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
};
/* clang-format on */

static bool cpu_has_vmx(void)
{
	return cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_VMX;
}

/* IA32_FEATURE_CONTROL (23.7): written only while unlocked (firmware usually locks it). */
static int feature_control_enable(void)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCK) {
		if (!(fc & FEATURE_CONTROL_VMXON))
			return pr_err(-ENODEV,
				      "VMX is disabled and locked by firmware "
				      "(IA32_FEATURE_CONTROL %#llx)\n",
				      (unsigned long long)fc);
		return 0;
	}
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMXON | FEATURE_CONTROL_LOCK);
	return 0;
}

static void read_caps(struct vmx_caps *c)
{
	bool true_ctls;

	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
	for (int i = 0; i < VMX_CTL_NR; i++) {
		if (i == VMX_CTL_PROC2)
			continue;
		c->ctl[i] = rdmsr(true_ctls ? true_ctl_msr[i] : ctl_msr[i]);
	}
	c->ctl[VMX_CTL_PROC2] = 0;
	if (FIELD_GET(VMX_CTL_ALLOWED1, c->ctl[VMX_CTL_PROC]) & PROC_SECONDARY)
		c->ctl[VMX_CTL_PROC2] = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->ept_vpid = 0;
	if (FIELD_GET(VMX_CTL_ALLOWED1, c->ctl[VMX_CTL_PROC2]) & (PROC2_EPT | PROC2_VPID))
		c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

static int check_basic(u64 basic)
{
	if (FIELD_GET(VMX_BASIC_REGION_SIZE, basic) > PAGE_SIZE)
		return pr_err(-ENODEV, "VMCS region of %llu bytes does not fit a page\n",
			      (unsigned long long)FIELD_GET(VMX_BASIC_REGION_SIZE, basic));
	if (FIELD_GET(VMX_BASIC_MEMTYPE, basic) != EPT_MT_WB)
		return pr_err(-ENODEV, "VMCS memory type %llu is not write-back\n",
			      (unsigned long long)FIELD_GET(VMX_BASIC_MEMTYPE, basic));
	return 0;
}

static int compute_controls(struct vmx_config *cfg)
{
	int err;

	for (int i = 0; i < VMX_CTL_NR; i++) {
		err = vmx_ctl_compute(i, cfg->caps.ctl[i], &ctl_req[i], &cfg->ctl[i]);
		if (err)
			return err;
	}
	return 0;
}

int vmx_probe(struct vmm_caps *caps)
{
	struct vmx_config *cfg = &vmx_cfg;
	u64 ev;
	int err;

	if (!cpu_has_vmx()) {
		pr_info("no VMX on this CPU (CPUID.1:ECX.VMX = 0)\n");
		return -ENODEV;
	}
	err = feature_control_enable();
	if (err)
		return err;
	memset(cfg, 0, sizeof(*cfg));
	read_caps(&cfg->caps);
	err = check_basic(cfg->caps.basic);
	if (err)
		return err;
	err = compute_controls(cfg);
	if (err)
		return err;
	ev = cfg->caps.ept_vpid;
	err = ept_check_caps(ev);
	if (err)
		return err;
	cfg->revision = (u32)FIELD_GET(VMX_BASIC_REVISION, cfg->caps.basic);
	cfg->vpid = (cfg->ctl[VMX_CTL_PROC2] & PROC2_VPID) && (ev & VPID_CAP_INVVPID);
	if (!cfg->vpid)
		cfg->ctl[VMX_CTL_PROC2] &= ~(u32)PROC2_VPID;
	cfg->unrestricted = cfg->ctl[VMX_CTL_PROC2] & PROC2_UNRESTRICTED;
	cfg->invept_single = (ev & EPT_CAP_INVEPT) && (ev & EPT_CAP_INVEPT_SINGLE);
	cfg->invvpid_single = cfg->vpid && (ev & VPID_CAP_INVVPID_SINGLE);
	cfg->load_pat = (cfg->ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT) &&
			(cfg->ctl[VMX_CTL_EXIT] & EXIT_LOAD_PAT) &&
			(cfg->ctl[VMX_CTL_EXIT] & EXIT_SAVE_PAT);
	cfg->ept_max_leaf = ept_max_leaf(ev);
	cfg->max_msr_list = 512 * ((u32)FIELD_GET(VMX_MISC_MSR_LIST, cfg->caps.misc) + 1);
	if (!(ev & EPT_CAP_INVEPT) || !(ev & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		return pr_err(-ENODEV, "no INVEPT (EPT/VPID cap %#llx)\n", (unsigned long long)ev);

	caps->name = "vmx";
	caps->npt_fmt = &pt_format_ept;
	caps->npt_levels = 4;
	caps->npt_max_leaf = cfg->ept_max_leaf;
	caps->nr_asids = cfg->vpid ? 0xffff : 0;
	caps->max_guests = 0xffff;
	caps->hypercall_insn = VMM_HC_VMCALL;
	/* CR4.PCIDE is the guest's where CR4_FIXED1 allows it (vmx_cr4_write); without "enable
	 * INVPCID" INVPCID raises #UD (SDM Vol. 3C 26.3, 25.3 in older editions) */
	caps->guest_features = VMM_GUEST_PCID;
	/* XSETBV exits unconditionally (25.1.2) and the core checks it */
	if (cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_XSAVE)
		caps->guest_features |= VMM_GUEST_XSAVE;
	if (cfg->ctl[VMX_CTL_PROC2] & PROC2_INVPCID)
		caps->guest_features |= VMM_GUEST_INVPCID;
	pr_info("VMX revision %#x, %s controls, EPT (largest page %s)%s%s%s, "
		"preemption timer %s (TSC/%u)\n",
		cfg->revision, cfg->caps.basic & VMX_BASIC_TRUE_CTLS ? "true" : "default",
		cfg->ept_max_leaf == 2	 ? "1G"
		: cfg->ept_max_leaf == 1 ? "2M"
					 : "4K",
		cfg->vpid ? ", VPID" : "", cfg->unrestricted ? ", unrestricted guest" : "",
		cfg->load_pat ? ", PAT switching" : "",
		cfg->ctl[VMX_CTL_PIN] & PIN_PREEMPT_TIMER ? "yes" : "no",
		1u << FIELD_GET(VMX_MISC_PREEMPT_RATE, cfg->caps.misc));
	pr_info("controls: pin %#x proc %#x proc2 %#x exit %#x entry %#x\n", cfg->ctl[VMX_CTL_PIN],
		cfg->ctl[VMX_CTL_PROC], cfg->ctl[VMX_CTL_PROC2], cfg->ctl[VMX_CTL_EXIT],
		cfg->ctl[VMX_CTL_ENTRY]);
	pr_info("capabilities: basic %#llx misc %#llx EPT/VPID %#llx CR0 fixed %#llx/%#llx "
		"CR4 fixed %#llx/%#llx\n",
		(unsigned long long)cfg->caps.basic, (unsigned long long)cfg->caps.misc,
		(unsigned long long)ev, (unsigned long long)cfg->caps.cr0_fixed0,
		(unsigned long long)cfg->caps.cr0_fixed1, (unsigned long long)cfg->caps.cr4_fixed0,
		(unsigned long long)cfg->caps.cr4_fixed1);
	return 0;
}

/* VMXON on the calling CPU (23.7-23.8): fixed CR0/CR4 bits, a VMXON region with the
 * revision identifier, then VMXON. */
int vmx_cpu_init(void)
{
	struct percpu *pc = this_cpu();
	struct vmx_cpu *vc = pc->arch_virt;
	u64 cr0, cr4;
	int err;

	if (vc)
		return 0;
	/* before any VMCS takes this CPU's CR4 as its host state */
	xcr0_cpu_init();
	if (!vmx_cfg.revision)
		return pr_err(-ENODEV, "cpu %u: VMX was not probed\n", pc->index);
	if (!cpu_has_vmx())
		return pr_err(-ENODEV, "cpu %u has no VMX\n", pc->index);
	err = feature_control_enable();
	if (err)
		return err;
	vc = (void *)(uintptr_t)page_alloc();
	if (!vc)
		return pr_err(-ENOMEM, "cpu %u: no page for the VMX per-CPU state\n", pc->index);
	vc->vmxon_pa = page_alloc();
	if (!vc->vmxon_pa) {
		err = pr_err(-ENOMEM, "cpu %u: no page for the VMXON region\n", pc->index);
		goto free_vc;
	}
	*(u32 *)(uintptr_t)vc->vmxon_pa = vmx_cfg.revision;

	cr0 = read_cr0();
	if (vmx_fix_cr0(&vmx_cfg.caps, cr0, false) != (cr0 | vmx_cfg.caps.cr0_fixed0)) {
		err = pr_err(-ENODEV, "cpu %u: CR0 %#llx has bits VMX operation forbids\n",
			     pc->index, (unsigned long long)cr0);
		goto free_region;
	}
	write_cr0(vmx_fix_cr0(&vmx_cfg.caps, cr0, false));
	cr4 = read_cr4();
	write_cr4(vmx_fix_cr4(&vmx_cfg.caps, cr4 | CR4_VMXE));
	if (!vmx_on(vc->vmxon_pa)) {
		write_cr4(cr4);
		err = pr_err(-EIO, "cpu %u: VMXON failed (CR0 %#llx CR4 %#llx)\n", pc->index,
			     (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
		goto free_region;
	}
	pc->arch_virt = vc;
	/* moat takes no legacy PIC interrupt: a masked 8259 cannot exit a guest (its vectors
	 * would collide with exceptions once taken after an external-interrupt exit) */
	if (pc->index == 0) {
		outb(PIC1_DATA, 0xff);
		outb(PIC2_DATA, 0xff);
	}
	pr_info("cpu %u: VMX on\n", pc->index);
	return 0;

free_region:
	page_free(vc->vmxon_pa);
free_vc:
	page_free((u64)(uintptr_t)vc);
	return err;
}
