/* The VMX backend behind struct vmm_backend: entry/exit, registers, event injection, TLB
 * maintenance and the preemption-timer watchdog. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx.h"

static int entry_failed(struct vmx_vcpu *vv, u64 flags, struct vmm_exit *e)
{
	const char *insn = vv->launched ? "VMRESUME" : "VMLAUNCH";
	u32 err;

	e->reason = VMM_EXIT_INVALID;
	if (flags & BIT(0)) {
		e->raw = 0;
		return pr_err(-EIO, "%s failed: VMfailInvalid (no current VMCS)\n", insn);
	}
	err = (u32)vmcs_read(VMCS_INSN_ERROR);
	e->raw = err;
	return pr_err(-EIO, "%s failed: VM-instruction error %u (%s)\n", insn, err,
		      vmx_insn_error_name(err));
}

static bool have_preempt_timer(void)
{
	return vmx_cfg.ctl[VMX_CTL_PIN] & PIN_PREEMPT_TIMER;
}

/* One preemption timer serves the watchdog and the TSC deadline: every entry starts it from
 * the VMCS's value field (26.7.4), which the exit leaves alone (no "save preemption timer
 * value"), so the field is written only when the earlier of the two changes. */
static int arm_timer(struct vmx_vcpu *vv)
{
	u32 ticks = vv->watchdog_ticks, dl;
	bool on = ticks != 0;
	u64 now;

	vv->timer_is_deadline = false;
	if (vv->deadline && have_preempt_timer()) {
		now = rdtsc();
		dl = vmx_preempt_ticks_tsc(&vmx_cfg.caps,
					   vv->deadline > now ? vv->deadline - now : 0);
		if (!on || dl <= ticks) {
			ticks = dl;
			on = true;
			vv->timer_is_deadline = true;
		}
	}
	if (on != vv->timer_on) {
		u32 pin = vmx_cfg.ctl[VMX_CTL_PIN] & ~(u32)PIN_PREEMPT_TIMER;

		if (!vmcs_write(VMCS_PIN_CTLS, on ? pin | PIN_PREEMPT_TIMER : pin))
			return pr_err(-EIO, "VMWRITE of the pin-based controls failed\n");
		vv->timer_on = on;
	}
	if (!on || ticks == vv->timer_value)
		return 0;
	if (!vmcs_write(VMCS_PREEMPT_TIMER, ticks)) {
		vv->timer_value = VMX_TIMER_UNSET;
		return pr_err(-EIO, "VMWRITE of the preemption timer failed\n");
	}
	vv->timer_value = ticks;
	return 0;
}

/* A preemption-timer exit: the deadline's once the TSC reached it (it fires once), the
 * watchdog's if it was the one loaded; otherwise early, an exit the core resumes from. */
static enum vmm_exit_reason timer_exit(struct vmx_vcpu *vv)
{
	if (vv->deadline && rdtsc() >= vv->deadline) {
		vv->deadline = 0;
		return VMM_EXIT_TIMER;
	}
	return vv->timer_is_deadline ? VMM_EXIT_EXT_INTR : VMM_EXIT_WATCHDOG;
}

static void window_off(void)
{
	u64 proc = vmcs_read(VMCS_PROC_CTLS);

	if (proc & PROC_INTR_WINDOW)
		vmcs_write(VMCS_PROC_CTLS, proc & ~(u64)PROC_INTR_WINDOW);
}

/* The exits enter_once() has more to do for; the others go to the core as decoded. */
#define VMX_EXITS_OWN                                                                              \
	(BIT(VMM_EXIT_EXT_INTR) | BIT(VMM_EXIT_NMI) | BIT(VMM_EXIT_WATCHDOG) |                     \
	 BIT(VMM_EXIT_IRQ_WINDOW) | BIT(VMM_EXIT_INVALID))
STATIC_ASSERT(VMM_EXIT_NR <= 64, "VMX_EXITS_OWN: one bit per exit reason");

/* Enters the guest once and decodes the exit. */
static int enter_once(struct vmx_vcpu *vv, struct vmm_exit *e)
{
	u64 flags;
	int err;

	err = arm_timer(vv);
	if (err) {
		e->reason = VMM_EXIT_INVALID;
		return err;
	}
	if (vv->flush_pending) {
		vv->flush_pending = false;
		vmx_vcpu_flush(vv);
	}
	/* CR2 is not part of the VMCS: the guest's value is loaded around the entry */
	if (read_cr2() != vv->cr2)
		write_cr2(vv->cr2);
	flags = vmx_enter(&vv->gprs, vv->launched);
	vv->cr2 = read_cr2();
	if (flags)
		return entry_failed(vv, flags, e);
	vv->launched = true;
	vv->exits++;
	vmx_decode_exit(vv, e);
	if (!(BIT(e->reason) & VMX_EXITS_OWN))
		return 0;
	/* without "acknowledge interrupt on exit" the interrupt is still pending: the host
	 * takes it through its own IDT now */
	if (e->reason == VMM_EXIT_EXT_INTR)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	/* an NMI that exited the guest is consumed by the exit (27.2.2): hand it to the host's
	 * own handler, as the core expects */
	if (e->reason == VMM_EXIT_NMI)
		__asm__ volatile("int $2" ::: "memory");
	if (e->reason == VMM_EXIT_WATCHDOG)
		e->reason = timer_exit(vv);
	/* one exit per request: the core asks again while it still has an interrupt */
	if (e->reason == VMM_EXIT_IRQ_WINDOW)
		window_off();
	if (e->reason == VMM_EXIT_INVALID) {
		/* 26.7: the VM entry failed while loading guest state; the qualification says
		 * which check (0 none, 2 PDPTE, 3 NMI injection, 4 link pointer) */
		vmx_vcpu_unload(vv);
		return pr_err(-EIO, "VM entry failed: %s (exit reason %#llx), qualification %llu\n",
			      vmx_exit_name((u32)e->raw), (unsigned long long)e->raw,
			      (unsigned long long)e->info1);
	}
	return 0;
}

static int vmx_run(struct vcpu *v, struct vmm_exit *e)
{
	struct vmx_vcpu *vv = to_vmx(v);
	int err = vmx_vcpu_load(vv);

	if (err) {
		e->reason = VMM_EXIT_INVALID;
		return err;
	}
	return enter_once(vv, e);
}

static u64 guest_cr(enum vmcs_field real, enum vmcs_field mask, enum vmcs_field shadow)
{
	u64 m = vmcs_read(mask);

	return (vmcs_read(real) & ~m) | (vmcs_read(shadow) & m);
}

static u64 vmcs_reg(enum vmm_reg r)
{
	switch (r) {
	case VMM_REG_RSP: return vmcs_read(VMCS_GUEST_RSP);
	case VMM_REG_RIP: return vmcs_read(VMCS_GUEST_RIP);
	case VMM_REG_RFLAGS: return vmcs_read(VMCS_GUEST_RFLAGS);
	case VMM_REG_CR0: return guest_cr(VMCS_GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW);
	case VMM_REG_CR3: return vmcs_read(VMCS_GUEST_CR3);
	case VMM_REG_CR4: return guest_cr(VMCS_GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
	case VMM_REG_EFER: return vmcs_read(VMCS_GUEST_EFER);
	case VMM_REG_PAT: return vmx_cfg.load_pat ? vmcs_read(VMCS_GUEST_PAT) : PAT_POWER_ON;
	default: return 0;
	}
}

static u64 vmx_get_reg(struct vcpu *v, enum vmm_reg r)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u64 val;

	if (r < VMM_REG_RIP && r != VMM_REG_RSP)
		return vv->gprs.r[r];
	if (r == VMM_REG_CR2)
		return vv->cr2;
	if (vmx_vcpu_load(vv))
		return 0;
	val = vmcs_reg(r);
	vmx_vcpu_put(v);
	return val;
}

/* SDM Vol. 3C 25.4.1 (24.4.1 in older editions), Guest Register State: the DPL of SS is
 * the CPL, saved on every exit, also while SS is unusable. */
static unsigned vmx_get_cpl(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u64 ar;

	if (vmx_vcpu_load(vv))
		return 3;
	ar = vmcs_read(VMCS_GUEST_SS_AR);
	vmx_vcpu_put(v);
	return (unsigned)FIELD_GET(SEG_AR_DPL, ar);
}

/* CR0/CR4 as the guest sees them go to the read shadows; the real registers get the bits
 * VMX operation fixes to 1 (bits the guest may not set are left for the entry checks). */
static bool set_cr(enum vmcs_field real, enum vmcs_field shadow, u64 val, u64 force1)
{
	return vmcs_write(shadow, val) && vmcs_write(real, val | force1);
}

static bool set_efer(u64 efer)
{
	u64 entry = vmcs_read(VMCS_ENTRY_CTLS) & ~(u64)ENTRY_IA32E;

	/* 26.2.4: IA-32e mode guest must match EFER.LMA */
	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E;
	return vmcs_write(VMCS_GUEST_EFER, efer) && vmcs_write(VMCS_ENTRY_CTLS, entry);
}

static bool set_vmcs_reg(enum vmm_reg r, u64 val)
{
	u64 cr0_force1 = vmx_cfg.caps.cr0_fixed0;

	if (vmx_cfg.unrestricted)
		cr0_force1 &= ~(u64)(CR0_PE | CR0_PG);
	switch (r) {
	case VMM_REG_RSP: return vmcs_write(VMCS_GUEST_RSP, val);
	case VMM_REG_RIP: return vmcs_write(VMCS_GUEST_RIP, val);
	case VMM_REG_RFLAGS: return vmcs_write(VMCS_GUEST_RFLAGS, val);
	case VMM_REG_CR3: return vmcs_write(VMCS_GUEST_CR3, val);
	case VMM_REG_CR0:
		return vmcs_write(VMCS_CR0_SHADOW, val) &&
		       vmcs_write(VMCS_GUEST_CR0, (val | cr0_force1) & ~(u64)VMX_CR0_SHADOW_ONLY);
	case VMM_REG_CR4:
		return set_cr(VMCS_GUEST_CR4, VMCS_CR4_SHADOW, val, vmx_cfg.caps.cr4_fixed0);
	case VMM_REG_EFER: return set_efer(val);
	/* without PAT switching the guest runs on the host's PAT, which EPT's ignore-PAT makes
	 * irrelevant: its memory types are EPT's (ept.c) */
	case VMM_REG_PAT: return !vmx_cfg.load_pat || vmcs_write(VMCS_GUEST_PAT, val);
	default: return false;
	}
}

static void vmx_set_reg(struct vcpu *v, enum vmm_reg r, u64 val)
{
	struct vmx_vcpu *vv = to_vmx(v);

	if (r < VMM_REG_RIP && r != VMM_REG_RSP) {
		vv->gprs.r[r] = val;
		return;
	}
	if (r == VMM_REG_CR2) {
		vv->cr2 = val;
		return;
	}
	if (r >= VMM_REG_NR) {
		pr_warn("no register %d\n", (int)r);
		return;
	}
	if (vmx_vcpu_load(vv))
		return;
	if (!set_vmcs_reg(r, val))
		pr_err(-EIO, "VMWRITE of guest %s = %#llx failed\n", vmm_reg_name(r),
		       (unsigned long long)val);
	vmx_vcpu_put(v);
}

/* Queues an event for the next entry, never over one already queued: the event an exit
 * interrupted is redelivered first, and the caller's waits (an interrupt stays pending in
 * the core) or is dropped in favour of it (a reflected exception the redelivery raises
 * again if it still applies). */
static int inject(struct vmx_vcpu *vv, u32 info, u32 error, u32 insn_len)
{
	bool interrupt = FIELD_GET(INTR_INFO_TYPE, info) == INTR_TYPE_EXT_INTR;
	int err = vmx_event_check((u32)vmcs_read(VMCS_ENTRY_INTR_INFO), interrupt,
				  vmcs_read(VMCS_GUEST_RFLAGS),
				  (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));

	if (err)
		return err;
	if (!vmcs_write(VMCS_ENTRY_INTR_INFO, info) ||
	    ((info & INTR_INFO_HAS_ERROR) && !vmcs_write(VMCS_ENTRY_EXC_ERROR, error)) ||
	    (insn_len && !vmcs_write(VMCS_ENTRY_INSN_LEN, insn_len)))
		return pr_err(-EIO, "VMWRITE of the entry interruption info failed\n");
	return 0;
}

static bool last_exit_was_db(const struct vmx_vcpu *vv)
{
	return FIELD_GET(EXIT_REASON_BASIC, vv->exit_reason) == VMX_EXIT_EXCEPTION_NMI &&
	       (vv->exit_intr_info & INTR_INFO_VALID) &&
	       FIELD_GET(INTR_INFO_VECTOR, vv->exit_intr_info) == VEC_DB;
}

/* A #DB the last exit intercepted, given back as the CPU would have delivered it: DR6 from
 * the qualification, ICEBP as a privileged software exception, a pending single step kept
 * across STI / MOV SS blocking (vmx_db_reflect). */
static int reflect_db(struct vmx_vcpu *vv)
{
	struct vmx_db_exit x = {
		.intr_info = vv->exit_intr_info,
		.qual = vv->exit_qual,
		.insn_len = vv->exit_insn_len,
		.dr6 = read_dr6(),
		.dr7 = vmcs_read(VMCS_GUEST_DR7),
		.rflags = vmcs_read(VMCS_GUEST_RFLAGS),
		.interruptibility = (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY),
		.pending_dbg = vmcs_read(VMCS_GUEST_PENDING_DBG),
	};
	struct vmx_db_event ev;
	int err;

	vmx_db_reflect(&x, &ev);
	err = inject(vv, ev.entry_info, 0, ev.insn_len);
	if (err)
		return err;
	/* DR6 is not part of the VMCS: the guest's is the register itself */
	write_dr6(ev.dr6);
	if ((ev.pending_dbg != x.pending_dbg &&
	     !vmcs_write(VMCS_GUEST_PENDING_DBG, ev.pending_dbg)) ||
	    (ev.set_rf && !vmcs_write(VMCS_GUEST_RFLAGS, x.rflags | RFLAGS_RF)))
		return pr_err(-EIO, "VMWRITE of the guest debug state failed\n");
	return 0;
}

static int vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u32 info = FIELD_PREP(INTR_INFO_VECTOR, vector) | INTR_INFO_VALID |
		   FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC);
	int err;

	if (vector >= VEC_FIRST_IRQ || vector == VEC_NMI)
		return pr_err(-EINVAL, "vector %u is not an exception\n", vector);
	if (has_error)
		info |= INTR_INFO_HAS_ERROR;
	err = vmx_vcpu_load(vv);
	if (err)
		return err;
	if (vector == VEC_DB && last_exit_was_db(vv))
		err = reflect_db(vv);
	else
		err = inject(vv, info, error, 0);
	vmx_vcpu_put(v);
	return err;
}

static int vmx_inject_interrupt(struct vcpu *v, u8 vector)
{
	struct vmx_vcpu *vv = to_vmx(v);
	int err;

	if (vector < VEC_FIRST_IRQ)
		return pr_err(-EINVAL, "vector %u is reserved for exceptions\n", vector);
	err = vmx_vcpu_load(vv);
	if (err)
		return err;
	err = inject(vv,
		     FIELD_PREP(INTR_INFO_VECTOR, vector) | INTR_INFO_VALID |
			     FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_EXT_INTR),
		     0, 0);
	vmx_vcpu_put(v);
	return err;
}

static void vmx_skip_instruction(struct vcpu *v, const struct vmm_exit *e)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u64 intr;

	if (vmx_vcpu_load(vv))
		return;
	vmcs_write(VMCS_GUEST_RIP, e->rip + e->insn_len);
	/* the instruction retired: STI / MOV SS blocking ends with it */
	intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   intr & ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
	vmx_vcpu_put(v);
}

/* INVEPT/INVVPID act on the executing CPU only: a vCPU whose VMCS is active elsewhere is
 * flushed there before its next entry; an inactive one is flushed when it is loaded. */
static void vmx_flush_nested_tlb(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);

	if (vv->active_cpu == this_cpu()->index)
		vmx_vcpu_flush(vv);
	else if (vv->active_cpu != VMX_CPU_NONE)
		vv->flush_pending = true;
}

static void vmx_set_watchdog(struct vcpu *v, u64 budget_us)
{
	struct vmx_vcpu *vv = to_vmx(v);

	if (budget_us && !have_preempt_timer()) {
		pr_warn("no VMX-preemption timer: watchdog not armed\n");
		budget_us = 0;
	}
	vv->watchdog_ticks = budget_us ? vmx_preempt_ticks(&vmx_cfg.caps, tsc_hz(), budget_us) : 0;
}

static void vmx_set_deadline(struct vcpu *v, u64 tsc)
{
	static bool warned;

	if (tsc && !have_preempt_timer() && !warned) {
		warned = true;
		pr_warn("no VMX-preemption timer: TSC deadlines end no guest run\n");
	}
	to_vmx(v)->deadline = tsc;
}

/* Interrupt-window exiting (24.6.2): an exit before any instruction at which RFLAGS.IF is
 * set and there is no STI / MOV SS blocking (26.7.5). */
static void vmx_irq_window(struct vcpu *v, bool on)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u64 proc;

	if (on && !vmx_ctl_allows(&vmx_cfg.caps, VMX_CTL_PROC, PROC_INTR_WINDOW)) {
		pr_warn("no interrupt-window exiting on this CPU\n");
		return;
	}
	if (vmx_vcpu_load(vv))
		return;
	proc = vmcs_read(VMCS_PROC_CTLS);
	proc = on ? proc | PROC_INTR_WINDOW : proc & ~(u64)PROC_INTR_WINDOW;
	if (!vmcs_write(VMCS_PROC_CTLS, proc))
		pr_err(-EIO, "VMWRITE of the processor-based controls failed\n");
	vmx_vcpu_put(v);
}

static bool vmx_can_inject(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);
	bool ok;

	if (vmx_vcpu_load(vv))
		return false;
	ok = !vmx_event_check((u32)vmcs_read(VMCS_ENTRY_INTR_INFO), true,
			      vmcs_read(VMCS_GUEST_RFLAGS),
			      (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
	vmx_vcpu_put(v);
	return ok;
}

/* With virtual NMIs the CPU keeps the guest's NMI blocking from the injection to the
 * handler's IRET (24.4.2, 26.6.1.2); another NMI waits for it. */
static int vmx_inject_nmi(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);
	int err;

	if (!(vmx_cfg.ctl[VMX_CTL_PIN] & PIN_VIRT_NMI))
		return pr_err(-ENOTSUP, "no virtual NMIs on this CPU: NMI not injected\n");
	err = vmx_vcpu_load(vv);
	if (err)
		return err;
	err = vmx_nmi_check((u32)vmcs_read(VMCS_ENTRY_INTR_INFO),
			    (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
	if (!err && !vmcs_write(VMCS_ENTRY_INTR_INFO,
				FIELD_PREP(INTR_INFO_VECTOR, VEC_NMI) | INTR_INFO_VALID |
					FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_NMI)))
		err = pr_err(-EIO, "VMWRITE of the entry interruption info failed\n");
	vmx_vcpu_put(v);
	return err;
}

const struct vmm_backend vmx_backend = {
	.name = "vmx",
	.probe = vmx_probe,
	.cpu_init = vmx_cpu_init,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_reset = vmx_vcpu_reset,
	.run = vmx_run,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.get_cpl = vmx_get_cpl,
	.inject_exception = vmx_inject_exception,
	.inject_interrupt = vmx_inject_interrupt,
	.irq_window = vmx_irq_window,
	.can_inject = vmx_can_inject,
	.inject_nmi = vmx_inject_nmi,
	.set_deadline = vmx_set_deadline,
	.write_cr = vmx_write_cr,
	.skip_instruction = vmx_skip_instruction,
	.flush_nested_tlb = vmx_flush_nested_tlb,
	.set_watchdog = vmx_set_watchdog,
	.msr_intercept = vmx_msr_intercept,
	.io_intercept = vmx_io_intercept,
	.dump = vmx_dump,
};
