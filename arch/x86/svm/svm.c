/* AMD SVM backend: detection, per-CPU enable, vCPU life cycle and the run loop. */
#define LOG_TAG "svm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/xcr0.h"
#include "arch/x86/pt_x86.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/trap.h"
#include "vmm/vmm.h"

struct svm_features svm_feat;

static int svm_probe(struct vmm_caps *caps)
{
	struct cpuid_regs r;

	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax < CPUID_LEAF_SVM ||
	    !(cpuid(CPUID_LEAF_EXT_FEATURES, 0).ecx & CPUID_80000001_ECX_SVM)) {
		pr_info("no SVM (CPUID 8000_0001h ECX.SVM=0)\n");
		return -ENODEV;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		pr_info("SVM disabled by firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	r = cpuid(CPUID_LEAF_SVM, 0);
	svm_feat.np = r.edx & SVM_FEAT_NP;
	svm_feat.nrips = r.edx & SVM_FEAT_NRIPS;
	svm_feat.decode_assists = r.edx & SVM_FEAT_DECODE_ASSISTS;
	svm_feat.flush_by_asid = r.edx & SVM_FEAT_FLUSH_BY_ASID;
	svm_feat.vmcb_clean = r.edx & SVM_FEAT_VMCB_CLEAN;
	svm_feat.nr_asids = r.ebx;
	pr_info("SVM revision %u, %u ASIDs, nested paging %s, NRIP save %s, decode assists %s, "
		"flush by ASID %s\n",
		r.eax & 0xff, r.ebx, svm_feat.np ? "yes" : "no", svm_feat.nrips ? "yes" : "no",
		svm_feat.decode_assists ? "yes" : "no", svm_feat.flush_by_asid ? "yes" : "no");
	if (!svm_feat.np) {
		pr_info("no nested paging (CPUID 8000_000Ah EDX.NP=0): guests cannot be "
			"isolated\n");
		return -ENODEV;
	}
	if (svm_feat.nr_asids < 2) {
		pr_info("fewer than 2 ASIDs\n");
		return -ENODEV;
	}
	caps->name = "svm";
	caps->npt_fmt = &pt_format_npt;
	caps->npt_levels = 4;
	caps->npt_max_leaf = cpu_has_1g_pages() ? 2 : 1;
	caps->nr_asids = svm_feat.nr_asids;
	caps->max_guests = svm_feat.nr_asids - 1; /* ASID 0 is the host's */
	caps->hypercall_insn = VMM_HC_VMMCALL;
	/* the VMCB intercepts neither CR4.PCIDE nor INVPCID */
	caps->guest_features = VMM_GUEST_PCID | VMM_GUEST_INVPCID;
	/* XSETBV exits (the VMCB intercepts it) and the core checks it */
	if (cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_XSAVE)
		caps->guest_features |= VMM_GUEST_XSAVE;
	return 0;
}

static int svm_cpu_init(void)
{
	struct percpu *c = this_cpu();
	u64 hsave, host_area;

	xcr0_cpu_init();
	if (c->arch_virt)
		return 0;
	hsave = page_alloc();
	host_area = page_alloc();
	if (!hsave || !host_area) {
		if (hsave)
			page_free(hsave);
		return pr_err(-ENOMEM, "no memory for the host save areas of cpu %u\n", c->index);
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	c->arch_virt = (void *)(uintptr_t)host_area;
	pr_info("cpu %u: EFER.SVME set, host save area %#llx\n", c->index,
		(unsigned long long)hsave);
	return svm_watchdog_init();
}

static struct svm_vcpu *to_svm(struct vcpu *v)
{
	return v->arch;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);

	if (!s)
		return;
	if (s->vmcb)
		page_free((u64)(uintptr_t)s->vmcb);
	if (s->iopm)
		pages_free((u64)(uintptr_t)s->iopm, SVM_IOPM_SIZE);
	if (s->msrpm)
		pages_free((u64)(uintptr_t)s->msrpm, SVM_MSRPM_SIZE);
	page_free((u64)(uintptr_t)s);
	v->arch = NULL;
	v->gpr = NULL;
}

static int svm_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *s;

	STATIC_ASSERT(sizeof(struct svm_vcpu) <= PAGE_SIZE, "svm_vcpu fits a page");
	STATIC_ASSERT(ARRAY_SIZE(s->gpr) == VMM_NR_GPRS, "one slot per enum vmm_reg GPR");
	if (v->guest->id == 0 || v->guest->id >= svm_feat.nr_asids)
		return pr_err(-ENOSPC, "guest id %u has no ASID (%u available)\n", v->guest->id,
			      svm_feat.nr_asids);
	s = (struct svm_vcpu *)(uintptr_t)page_alloc();
	if (!s)
		return pr_err(-ENOMEM, "no memory for a vCPU\n");
	v->arch = s;
	s->vmcb = (struct vmcb *)(uintptr_t)page_alloc();
	s->iopm = (u8 *)(uintptr_t)pages_alloc(SVM_IOPM_SIZE, PAGE_SIZE);
	s->msrpm = (u8 *)(uintptr_t)pages_alloc(SVM_MSRPM_SIZE, PAGE_SIZE);
	if (!s->vmcb || !s->iopm || !s->msrpm) {
		svm_vcpu_destroy(v);
		return pr_err(-ENOMEM, "no memory for a VMCB and its permission maps\n");
	}
	v->gpr = s->gpr;
	memset(s->iopm, 0xff, SVM_IOPM_SIZE);
	memset(s->msrpm, 0xff, SVM_MSRPM_SIZE);
	svm_vmcb_init(s->vmcb, (u64)(uintptr_t)s->iopm, (u64)(uintptr_t)s->msrpm, v->guest->id,
		      v->guest->npt.root);
	return 0;
}

static void set_seg(struct vmcb_seg *seg, u16 sel, u16 attrib, u32 limit, u64 base)
{
	seg->selector = sel;
	seg->attrib = attrib;
	seg->limit = limit;
	seg->base = base;
}

/* Event state an entry state starts without: nothing queued, no shadow, no window. */
static void reset_events(struct svm_vcpu *s)
{
	struct vmcb_control *c = &s->vmcb->control;

	c->eventinj = 0;
	c->interrupt_shadow = 0;
	c->vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | SVM_VINTR_PRIO | SVM_VINTR_TPR);
	c->intercept3 &= ~(u32)(SVM_INTERCEPT_VINTR | SVM_INTERCEPT_IRET);
	s->nmi_masked = false;
	s->vmcb->save.dr6 = 0xffff0ff0;
	s->vmcb->save.dr7 = 0x400;
}

/* After INIT and a start-up IPI (SDM Vol. 3 9.1.1 Table 9-1, APM Vol. 2 14.1.3): real
 * mode at cs:rip, 64 KiB segments, EDX the processor signature. Nested paging runs it as
 * it is. */
static void reset_real(struct svm_vcpu *s, const struct vcpu_boot_state *bs)
{
	struct vmcb_save *st = &s->vmcb->save;
	u16 code = SVM_SEG_P | SVM_SEG_S | 0xb, data = SVM_SEG_P | SVM_SEG_S | 0x3;

	set_seg(&st->cs, bs->cs, code, 0xffff, (u64)bs->cs << 4);
	set_seg(&st->ds, 0, data, 0xffff, 0);
	set_seg(&st->es, 0, data, 0xffff, 0);
	set_seg(&st->ss, 0, data, 0xffff, 0);
	set_seg(&st->fs, 0, data, 0xffff, 0);
	set_seg(&st->gs, 0, data, 0xffff, 0);
	set_seg(&st->gdtr, 0, 0, 0xffff, 0);
	set_seg(&st->idtr, 0, 0, 0xffff, 0);
	set_seg(&st->ldtr, 0, SVM_SEG_P | 0x2, 0xffff, 0);
	set_seg(&st->tr, 0, SVM_SEG_P | 0x3, 0xffff, 0);
	st->cpl = 0;
	st->efer = EFER_SVME;
	st->cr0 = CR0_INIT;
	st->cr4 = 0;
	st->cr3 = 0;
	st->cr2 = 0;
	st->rflags = 2;
	st->rip = bs->rip;
	st->rsp = 0;
	s->gpr[VMM_REG_RDX] = cpuid(CPUID_LEAF_FEATURES, 0).eax;
}

static int svm_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb_save *st = &s->vmcb->save;
	u16 code = SVM_SEG_P | SVM_SEG_S | 0xb | SVM_SEG_L | SVM_SEG_G;
	u16 data = SVM_SEG_P | SVM_SEG_S | 0x3 | SVM_SEG_DB | SVM_SEG_G;

	u16 cs = bs->gdt_limit ? bs->cs : 0x08, ds = bs->gdt_limit ? bs->ds : 0x10;

	memset(s->gpr, 0, sizeof(s->gpr));
	reset_events(s);
	s->vmcb->control.tlb_control = SVM_TLB_FLUSH_ALL;
	if (bs->mode == VCPU_BOOT_REAL) {
		reset_real(s, bs);
		return 0;
	}
	if (bs->mode != VCPU_BOOT_LONG)
		return pr_err(-EINVAL, "unknown entry mode %d\n", (int)bs->mode);
	set_seg(&st->cs, cs, code, 0xffffffff, 0);
	set_seg(&st->ds, ds, data, 0xffffffff, 0);
	set_seg(&st->es, ds, data, 0xffffffff, 0);
	set_seg(&st->ss, ds, data, 0xffffffff, 0);
	set_seg(&st->fs, ds, data, 0xffffffff, 0);
	set_seg(&st->gs, ds, data, 0xffffffff, 0);
	set_seg(&st->gdtr, 0, 0, bs->gdt_limit, bs->gdt_base);
	set_seg(&st->idtr, 0, 0, 0, 0);
	set_seg(&st->ldtr, 0, SVM_SEG_P | 0x2, 0xffff, 0);
	set_seg(&st->tr, 0, SVM_SEG_P | 0xb, 0xffff, 0);
	st->cpl = 0;
	st->efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE;
	st->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	st->cr4 = CR4_PAE;
	st->cr3 = bs->cr3;
	st->rflags = 2;
	st->rip = bs->rip;
	st->rsp = bs->rsp;
	s->gpr[VMM_REG_RDI] = bs->rdi;
	s->gpr[VMM_REG_RSI] = bs->rsi;
	return 0;
}

static u64 *gpr_slot(struct svm_vcpu *s, enum vmm_reg r)
{
	switch (r) {
	case VMM_REG_RSP: return &s->vmcb->save.rsp;
	case VMM_REG_RIP: return &s->vmcb->save.rip;
	case VMM_REG_RFLAGS: return &s->vmcb->save.rflags;
	case VMM_REG_CR0: return &s->vmcb->save.cr0;
	case VMM_REG_CR2: return &s->vmcb->save.cr2;
	case VMM_REG_CR3: return &s->vmcb->save.cr3;
	case VMM_REG_CR4: return &s->vmcb->save.cr4;
	case VMM_REG_EFER: return &s->vmcb->save.efer;
	case VMM_REG_PAT: return &s->vmcb->save.g_pat;
	default: return (unsigned)r < VMM_NR_GPRS ? &s->gpr[r] : NULL;
	}
}

static u64 svm_get_reg(struct vcpu *v, enum vmm_reg r)
{
	u64 *p = gpr_slot(to_svm(v), r);

	return p ? *p : 0;
}

static void svm_set_reg(struct vcpu *v, enum vmm_reg r, u64 val)
{
	u64 *p = gpr_slot(to_svm(v), r);

	if (!p)
		return;
	/* The guest-visible EFER keeps SVME: VMRUN refuses a guest EFER without it. */
	if (r == VMM_REG_EFER)
		val |= EFER_SVME;
	*p = val;
}

/* APM Vol. 2, 15.5.1: VMRUN and #VMEXIT keep the CPL in the save area's CPL field. */
static unsigned svm_get_cpl(struct vcpu *v)
{
	return to_svm(v)->vmcb->save.cpl & 3;
}

/* The local APIC timer fired during the run: the deadline's exit once the TSC reached it
 * (it fires once), the watchdog's if it was the one armed; otherwise an early tick, an
 * exit the core just resumes from. */
static enum vmm_exit_reason timer_exit(struct svm_vcpu *s, enum svm_timer armed)
{
	if (s->deadline && rdtsc() >= s->deadline) {
		s->deadline = 0;
		return VMM_EXIT_TIMER;
	}
	return armed == SVM_TIMER_WATCHDOG ? VMM_EXIT_WATCHDOG : VMM_EXIT_EXT_INTR;
}

static void window_off(struct vmcb_control *c)
{
	c->vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | SVM_VINTR_PRIO);
	c->intercept3 &= ~(u32)SVM_INTERCEPT_VINTR;
}

/* The IRET of an injected NMI's handler exits before it executes: NMIs are open again
 * once it has, so the entry that runs it is the backend's own (APM Vol. 2 15.21.4). */
static void nmi_iret(struct svm_vcpu *s)
{
	s->nmi_masked = false;
	s->vmcb->control.intercept3 &= ~(u32)SVM_INTERCEPT_IRET;
}

#define SVM_MAX_OWN_EXITS 4
/* The exits svm_run() has more to do for; the others go to the core as decoded. */
#define SVM_EXITS_OWN                                                                              \
	(BIT(VMM_EXIT_NONE) | BIT(VMM_EXIT_EXT_INTR) | BIT(VMM_EXIT_IRQ_WINDOW) |                  \
	 BIT(VMM_EXIT_INVALID))

static int svm_run(struct vcpu *v, struct vmm_exit *e)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb *vmcb = s->vmcb;
	enum svm_timer armed;
	unsigned own = 0;

again:
	svm_entry_capture(vmcb, &s->entry);
	armed = s->watchdog_us || s->deadline ? svm_timer_arm(s->watchdog_us, s->deadline)
					      : SVM_TIMER_NONE;
	svm_vmrun((u64)(uintptr_t)vmcb, s->gpr, (u64)(uintptr_t)this_cpu()->arch_virt);
	if (armed != SVM_TIMER_NONE)
		svm_watchdog_disarm();
	vmcb->control.tlb_control = SVM_TLB_NOTHING;
	/* An event whose delivery the exit interrupted (APM 15.7.2, EXITINTINFO) is delivered
	 * again on the next entry. */
	vmcb->control.eventinj =
		vmcb->control.exitintinfo & SVM_EVT_VALID ? vmcb->control.exitintinfo : 0;
	svm_decode_exit(v, s, e);
	if (armed == SVM_TIMER_NONE && !(BIT(e->reason) & SVM_EXITS_OWN))
		return 0;
	/* Drained after every entry that armed the timer, so that one that expired just after
	 * another exit does not count against the next entry; after any other entry it was
	 * stopped and drained at the end of the one that armed it. */
	if ((armed != SVM_TIMER_NONE || e->reason == VMM_EXIT_EXT_INTR) && svm_watchdog_service() &&
	    e->reason == VMM_EXIT_EXT_INTR)
		e->reason = timer_exit(s, armed);
	/* one exit per request: the core asks again while it still has an interrupt */
	if (e->reason == VMM_EXIT_IRQ_WINDOW)
		window_off(&vmcb->control);
	if (e->reason == VMM_EXIT_NONE) {
		nmi_iret(s);
		if (++own < SVM_MAX_OWN_EXITS)
			goto again;
		e->reason = VMM_EXIT_EXT_INTR;
	}
	if (e->reason == VMM_EXIT_INVALID)
		return -EINVAL;
	return 0;
}

static int svm_inject(struct vcpu *v, u8 vector, u32 type, bool has_error, u32 error)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;

	if (vmcb->control.eventinj & SVM_EVT_VALID)
		return -EBUSY;
	vmcb->control.eventinj = FIELD_PREP(SVM_EVT_VECTOR, vector) |
				 FIELD_PREP(SVM_EVT_TYPE, type) | SVM_EVT_VALID |
				 (has_error ? SVM_EVT_EV | FIELD_PREP(SVM_EVT_ERROR, error) : 0);
	return 0;
}

static int svm_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;

	if (vector >= 32 || vector == 2)
		return -EINVAL;
	if (vector == VEC_DB && !(vmcb->control.eventinj & SVM_EVT_VALID) &&
	    db_is_insn_breakpoint(vmcb->save.dr6, vmcb->save.dr7))
		vmcb->save.rflags |= RFLAGS_RF;
	return svm_inject(v, vector, SVM_EVT_TYPE_EXCEPTION, has_error, error);
}

/* EVENTINJ delivers whatever RFLAGS.IF and the shadow say: an external interrupt is queued
 * only while the guest accepts one, as under VMX (26.3.1.4). */
static int svm_inject_interrupt(struct vcpu *v, u8 vector)
{
	const struct vmcb *vmcb = to_svm(v)->vmcb;

	if (vector < 32)
		return -EINVAL;
	if (!(vmcb->save.rflags & RFLAGS_IF) || (vmcb->control.interrupt_shadow & SVM_INT_SHADOW))
		return -EBUSY;
	return svm_inject(v, vector, SVM_EVT_TYPE_INTR, false, 0);
}

static void svm_skip_instruction(struct vcpu *v, const struct vmm_exit *e)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;

	vmcb->save.rip = e->rip + e->insn_len;
	vmcb->control.interrupt_shadow = 0;
}

/* V_IRQ with the VINTR intercept: the exit comes when the guest would take a virtual
 * interrupt (RFLAGS.IF set, no interrupt shadow; APM Vol. 2 15.21.4); the guest's TPR is
 * ignored, the virtual LAPIC's priorities are the core's business. */
static void svm_irq_window(struct vcpu *v, bool on)
{
	struct vmcb_control *c = &to_svm(v)->vmcb->control;

	if (!on) {
		window_off(c);
		return;
	}
	c->vintr |= SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | FIELD_PREP(SVM_VINTR_PRIO, 0xf);
	c->intercept3 |= SVM_INTERCEPT_VINTR;
}

static bool svm_can_inject(struct vcpu *v)
{
	const struct vmcb *vmcb = to_svm(v)->vmcb;

	return (vmcb->save.rflags & RFLAGS_IF) &&
	       !(vmcb->control.interrupt_shadow & SVM_INT_SHADOW) &&
	       !(vmcb->control.eventinj & SVM_EVT_VALID);
}

/* SVM keeps no NMI-blocked state for an injected NMI: the backend does, from the injection
 * to the handler's IRET (intercepted), and refuses another NMI meanwhile. */
static int svm_inject_nmi(struct vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	int err;

	if (s->nmi_masked || (s->vmcb->control.interrupt_shadow & SVM_INT_SHADOW))
		return -EBUSY;
	err = svm_inject(v, VEC_NMI, SVM_EVT_TYPE_NMI, false, 0);
	if (err)
		return err;
	s->nmi_masked = true;
	s->vmcb->control.intercept3 |= SVM_INTERCEPT_IRET;
	return 0;
}

static void svm_set_deadline(struct vcpu *v, u64 tsc)
{
	to_svm(v)->deadline = tsc;
}

static void svm_flush_nested_tlb(struct vcpu *v)
{
	to_svm(v)->vmcb->control.tlb_control =
		svm_feat.flush_by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
}

static void svm_set_watchdog(struct vcpu *v, u64 budget_us)
{
	to_svm(v)->watchdog_us = budget_us;
}

static void svm_msr_intercept(struct vcpu *v, u32 msr, bool read, bool write)
{
	svm_msrpm_set(to_svm(v)->msrpm, msr, read, write);
}

static void svm_io_intercept(struct vcpu *v, u16 port, bool intercept)
{
	svm_iopm_set(to_svm(v)->iopm, port, intercept);
}

static void svm_dump(struct vcpu *v)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct vmcb_save *st = &vmcb->save;

	pr_info("VMCB: exitcode %#llx exitinfo1 %#llx exitinfo2 %#llx exitintinfo %#llx "
		"next_rip %#llx\n",
		(unsigned long long)c->exitcode, (unsigned long long)c->exitinfo1,
		(unsigned long long)c->exitinfo2, (unsigned long long)c->exitintinfo,
		(unsigned long long)c->next_rip);
	if ((u32)c->exitcode == SVM_EXIT_INVALID)
		pr_info("VMCB: after a failed VMRUN the save area may hold the host's state "
			"(QEMU writes it there); the checked fields were captured before\n");
	pr_info("VMCB: cs %04x/%04x ss %04x/%04x cpl %u efer %#llx cr0 %#llx cr3 %#llx "
		"cr4 %#llx\n",
		st->cs.selector, st->cs.attrib, st->ss.selector, st->ss.attrib, st->cpl,
		(unsigned long long)st->efer, (unsigned long long)st->cr0,
		(unsigned long long)st->cr3, (unsigned long long)st->cr4);
	pr_info("VMCB: asid %u ncr3 %#llx np %#llx gdtr %#llx/%#x idtr %#llx/%#x\n", c->asid,
		(unsigned long long)c->ncr3, (unsigned long long)c->np_control,
		(unsigned long long)st->gdtr.base, st->gdtr.limit,
		(unsigned long long)st->idtr.base, st->idtr.limit);
}

const struct vmm_backend svm_backend = {
	.name = "svm",
	.probe = svm_probe,
	.cpu_init = svm_cpu_init,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_reset = svm_vcpu_reset,
	.run = svm_run,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.get_cpl = svm_get_cpl,
	.inject_exception = svm_inject_exception,
	.inject_interrupt = svm_inject_interrupt,
	.irq_window = svm_irq_window,
	.can_inject = svm_can_inject,
	.inject_nmi = svm_inject_nmi,
	.set_deadline = svm_set_deadline,
	.skip_instruction = svm_skip_instruction,
	.flush_nested_tlb = svm_flush_nested_tlb,
	.set_watchdog = svm_set_watchdog,
	.msr_intercept = svm_msr_intercept,
	.io_intercept = svm_io_intercept,
	.dump = svm_dump,
};
