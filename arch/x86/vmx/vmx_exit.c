/* The exit information read from the VMCS for the decoder, events re-queued after an exit,
 * and the dump of a vCPU for exits nobody handles. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_decode.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx.h"

/* An event that was being delivered when the exit happened is delivered again at the next
 * entry (27.2.4); the core's own events wait behind it (vmx_event_check). */
static void requeue_vectoring(u32 idt_vec_info)
{
	u32 info = vmx_redeliver_info(idt_vec_info);

	if (!info)
		return;
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	if (info & INTR_INFO_HAS_ERROR)
		vmcs_write(VMCS_ENTRY_EXC_ERROR, vmcs_read(VMCS_IDT_VEC_ERROR));
	vmcs_write(VMCS_ENTRY_INSN_LEN, vmcs_read(VMCS_EXIT_INSN_LEN));
}

/* The exit information fields an exit of this basic reason defines (SDM Vol. 3C 28.2.1-2)
 * and the decoder reads: the guest-physical address for EPT violations and
 * misconfigurations, the interruption information for exceptions and NMIs. */
void vmx_decode_exit(struct vmx_vcpu *vv, struct vmm_exit *e)
{
	struct vmx_exit_info x;
	u32 basic, idt_vec_info;

	/* each field assigned (no zeroing of the whole record before) */
	x.reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	x.qual = vmcs_read(VMCS_EXIT_QUAL);
	x.rip = vmcs_read(VMCS_GUEST_RIP);
	x.insn_len = (u32)vmcs_read(VMCS_EXIT_INSN_LEN);
	x.gpa = 0;
	x.intr_info = 0;
	x.intr_error = 0;
	basic = (u32)FIELD_GET(EXIT_REASON_BASIC, x.reason);
	if (basic == VMX_EXIT_EPT_VIOLATION || basic == VMX_EXIT_EPT_MISCONFIG)
		x.gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	if (basic == VMX_EXIT_EXCEPTION_NMI) {
		x.intr_info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
		x.intr_error = (u32)vmcs_read(VMCS_EXIT_INTR_ERROR);
	}
	vv->exit_reason = x.reason;
	vv->exit_intr_info = x.intr_info;
	vv->exit_qual = x.qual;
	vv->exit_insn_len = x.insn_len;
	vmx_exit_decode(&x, vv->gprs.r, e);
	if (e->reason == VMM_EXIT_INVALID)
		return;
	/* vmx_nmi_unblocked_by_iret() is false while an event was being delivered and for
	 * exits other than exceptions and EPT violations; vmx_redeliver_info() redelivers only
	 * a valid event: the two are called only where they may act */
	idt_vec_info = (u32)vmcs_read(VMCS_IDT_VEC_INFO);
	if (idt_vec_info & INTR_INFO_VALID)
		requeue_vectoring(idt_vec_info);
	else if ((basic == VMX_EXIT_EXCEPTION_NMI || basic == VMX_EXIT_EPT_VIOLATION) &&
		 (vmx_cfg.ctl[VMX_CTL_PIN] & PIN_VIRT_NMI) &&
		 vmx_nmi_unblocked_by_iret(basic, x.intr_info, x.qual, idt_vec_info))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) | INTR_BLOCK_NMI);
	if (basic == VMX_EXIT_EPT_MISCONFIG)
		pr_err(-EIO, "EPT misconfiguration at GPA %#llx\n", (unsigned long long)x.gpa);
}

static void dump_seg(const char *name, enum vmcs_field sel, enum vmcs_field base,
		     enum vmcs_field limit, enum vmcs_field ar)
{
	pr_info("  %-4s sel %04llx base %016llx limit %08llx ar %05llx\n", name,
		(unsigned long long)vmcs_read(sel), (unsigned long long)vmcs_read(base),
		(unsigned long long)vmcs_read(limit), (unsigned long long)vmcs_read(ar));
}

void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);
	const u64 *r = vv->gprs.r;
	u32 reason;

	if (vmx_vcpu_load(vv))
		return;
	reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	pr_info("vCPU of guest %u on cpu %u, %llu exits\n", v->guest->id, vv->active_cpu,
		(unsigned long long)vv->exits);
	pr_info("  exit reason %u (%s)%s, qualification %#llx, GPA %#llx, GLA %#llx\n",
		(unsigned)FIELD_GET(EXIT_REASON_BASIC, reason), vmx_exit_name(reason),
		reason & EXIT_REASON_ENTRY_FAIL ? " [VM-entry failure]" : "",
		(unsigned long long)vmcs_read(VMCS_EXIT_QUAL),
		(unsigned long long)vmcs_read(VMCS_GUEST_PHYS_ADDR),
		(unsigned long long)vmcs_read(VMCS_GUEST_LINEAR_ADDR));
	pr_info("  interruption info %#llx error %#llx, IDT vectoring %#llx error %#llx, "
		"insn len %llu, VM-instruction error %llu\n",
		(unsigned long long)vmcs_read(VMCS_EXIT_INTR_INFO),
		(unsigned long long)vmcs_read(VMCS_EXIT_INTR_ERROR),
		(unsigned long long)vmcs_read(VMCS_IDT_VEC_INFO),
		(unsigned long long)vmcs_read(VMCS_IDT_VEC_ERROR),
		(unsigned long long)vmcs_read(VMCS_EXIT_INSN_LEN),
		(unsigned long long)vmcs_read(VMCS_INSN_ERROR));
	pr_info("  rip %016llx rsp %016llx rflags %08llx activity %llu interruptibility %#llx\n",
		(unsigned long long)vmcs_read(VMCS_GUEST_RIP),
		(unsigned long long)vmcs_read(VMCS_GUEST_RSP),
		(unsigned long long)vmcs_read(VMCS_GUEST_RFLAGS),
		(unsigned long long)vmcs_read(VMCS_GUEST_ACTIVITY),
		(unsigned long long)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
	pr_info("  cr0 %016llx cr3 %016llx cr4 %016llx cr2 %016llx efer %llx\n",
		(unsigned long long)vmcs_read(VMCS_GUEST_CR0),
		(unsigned long long)vmcs_read(VMCS_GUEST_CR3),
		(unsigned long long)vmcs_read(VMCS_GUEST_CR4), (unsigned long long)vv->cr2,
		(unsigned long long)vmcs_read(VMCS_GUEST_EFER));
	pr_info("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
		(unsigned long long)r[VMM_REG_RAX], (unsigned long long)r[VMM_REG_RBX],
		(unsigned long long)r[VMM_REG_RCX], (unsigned long long)r[VMM_REG_RDX]);
	pr_info("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
		(unsigned long long)r[VMM_REG_RSI], (unsigned long long)r[VMM_REG_RDI],
		(unsigned long long)r[VMM_REG_RBP], (unsigned long long)r[VMM_REG_R8]);
	dump_seg("cs", VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT,
		 VMCS_GUEST_CS_AR);
	dump_seg("ss", VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT,
		 VMCS_GUEST_SS_AR);
	dump_seg("ds", VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT,
		 VMCS_GUEST_DS_AR);
	dump_seg("tr", VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT,
		 VMCS_GUEST_TR_AR);
	pr_info("  gdtr %016llx/%llx idtr %016llx/%llx\n",
		(unsigned long long)vmcs_read(VMCS_GUEST_GDTR_BASE),
		(unsigned long long)vmcs_read(VMCS_GUEST_GDTR_LIMIT),
		(unsigned long long)vmcs_read(VMCS_GUEST_IDTR_BASE),
		(unsigned long long)vmcs_read(VMCS_GUEST_IDTR_LIMIT));
	pr_info("  controls pin %#llx proc %#llx proc2 %#llx exit %#llx entry %#llx eptp %#llx "
		"vpid %u\n",
		(unsigned long long)vmcs_read(VMCS_PIN_CTLS),
		(unsigned long long)vmcs_read(VMCS_PROC_CTLS),
		(unsigned long long)vmcs_read(VMCS_PROC2_CTLS),
		(unsigned long long)vmcs_read(VMCS_EXIT_CTLS),
		(unsigned long long)vmcs_read(VMCS_ENTRY_CTLS), (unsigned long long)vv->eptp,
		vv->vpid);
	vmx_vcpu_put(v);
}
