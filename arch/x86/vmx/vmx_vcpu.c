/* VMCS per vCPU: controls, bitmaps, EPT pointer, host state (SDM Vol. 3C 24-26) and the
 * guest entry states. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

#define GUEST_PAT_DEFAULT 0x0007040600070406ull
#define VMCS_LINK_NONE (~0ull)
#define VMX_REMOTE_CLEAR_US 100000

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

static int write_host_state(void);

/* VMCLEAR (24.11.3): the VMCS goes back to memory, inactive and not launched. Runs on the
 * CPU where it is active. */
void vmx_vcpu_unload(struct vmx_vcpu *vv)
{
	struct vmx_cpu *vc = this_cpu()->arch_virt;

	if (vv->active_cpu == VMX_CPU_NONE)
		return;
	if (!vmx_clear(vv->vmcs_pa))
		pr_warn("VMCLEAR of the VMCS at %#llx failed\n", (unsigned long long)vv->vmcs_pa);
	if (vc && vc->current_vmcs == vv->vmcs_pa)
		vc->current_vmcs = 0;
	vv->active_cpu = VMX_CPU_NONE;
	vv->launched = false;
}

static void unload_fn(void *arg)
{
	vmx_vcpu_unload(arg);
}

/* A VMCS active on another CPU is cleared there: its data may be cached in that CPU. */
static int release_remote(struct vmx_vcpu *vv)
{
	unsigned cpu = vv->active_cpu;
	int err = smp_call_sync(cpu, unload_fn, vv, VMX_REMOTE_CLEAR_US);

	if (err)
		return pr_err(err,
			      "the VMCS at %#llx is active on cpu %u, which did not release it\n",
			      (unsigned long long)vv->vmcs_pa, cpu);
	return 0;
}

/* Makes vv's VMCS current on this CPU. A VMCS that becomes active here gets this CPU's
 * host state, and the translations cached for its EPTP and VPID are dropped (an earlier
 * owner of the VPID or of the table pages may have left some). */
int vmx_vcpu_load_slow(struct vmx_vcpu *vv)
{
	struct vmx_cpu *vc = this_cpu()->arch_virt;
	unsigned me = this_cpu()->index;
	bool activate;
	int err;

	if (!vc)
		return pr_err(-ENODEV, "cpu %u: VMX is not on\n", me);
	if (vv->active_cpu != VMX_CPU_NONE && vv->active_cpu != me) {
		err = release_remote(vv);
		if (err)
			return err;
	}
	if (vc->current_vmcs == vv->vmcs_pa)
		return 0;
	activate = vv->active_cpu == VMX_CPU_NONE;
	if (!vmx_ptrld(vv->vmcs_pa))
		return pr_err(-EIO, "VMPTRLD %#llx failed: VM-instruction error %llu (%s)\n",
			      (unsigned long long)vv->vmcs_pa,
			      (unsigned long long)vmcs_read(VMCS_INSN_ERROR),
			      vmx_insn_error_name((u32)vmcs_read(VMCS_INSN_ERROR)));
	vc->current_vmcs = vv->vmcs_pa;
	vv->active_cpu = me;
	if (!activate)
		return 0;
	vv->launched = false;
	err = write_host_state();
	if (err) {
		vmx_vcpu_unload(vv);
		return err;
	}
	vmx_vcpu_flush(vv);
	return 0;
}

/* After an operation from a CPU other than the vCPU's own (the core creates vCPUs on the
 * boot CPU): the VMCS is released so that the owning CPU can load it. */
void vmx_vcpu_put_slow(struct vmx_vcpu *vv)
{
	if (vv && vv->active_cpu == this_cpu()->index)
		vmx_vcpu_unload(vv);
}

/* 29.4.3.1: after a change to the EPT tables, drop what was derived from them for this
 * EPTP, and the VPID-tagged linear translations combined with them. */
void vmx_vcpu_flush(struct vmx_vcpu *vv)
{
	bool ok;

	ok = vmx_cfg.invept_single ? vmx_invept(INVEPT_SINGLE, vv->eptp)
				   : vmx_invept(INVEPT_ALL, 0);
	if (!ok)
		pr_err(-EIO, "INVEPT for EPTP %#llx failed\n", (unsigned long long)vv->eptp);
	if (!vv->vpid)
		return;
	ok = vmx_cfg.invvpid_single ? vmx_invvpid(INVVPID_SINGLE, vv->vpid, 0)
				    : vmx_invvpid(INVVPID_ALL, 0, 0);
	if (!ok)
		pr_err(-EIO, "INVVPID for VPID %u failed\n", vv->vpid);
}

/* Writes a list of fields; the first failure is logged with its encoding. */
struct vmcs_init {
	enum vmcs_field field;
	u64 value;
};

static int vmcs_write_all(const struct vmcs_init *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!vmcs_write(w[i].field, w[i].value))
			return pr_err(-EIO,
				      "VMWRITE of field %#x = %#llx failed: error %llu (%s)\n",
				      w[i].field, (unsigned long long)w[i].value,
				      (unsigned long long)vmcs_read(VMCS_INSN_ERROR),
				      vmx_insn_error_name((u32)vmcs_read(VMCS_INSN_ERROR)));
	return 0;
}

static int write_controls(struct vmx_vcpu *vv)
{
	const u32 *ctl = vmx_cfg.ctl;
	struct vmcs_init w[] = {
		{VMCS_PIN_CTLS, ctl[VMX_CTL_PIN] & ~(u32)PIN_PREEMPT_TIMER},
		{VMCS_PROC_CTLS, ctl[VMX_CTL_PROC]},
		{VMCS_PROC2_CTLS, ctl[VMX_CTL_PROC2]},
		{VMCS_EXIT_CTLS, ctl[VMX_CTL_EXIT]},
		{VMCS_ENTRY_CTLS, ctl[VMX_CTL_ENTRY]},
		/* #DB and #AC exit so that each is an instruction boundary for the host: one
		 * raised while delivering itself (CVE-2015-8104, CVE-2015-5307) would
		 * otherwise loop inside the CPU. The core reflects them into the guest. */
		{VMCS_EXCEPTION_BITMAP, BIT(VEC_DB) | BIT(VEC_AC)},
		{VMCS_PF_ERR_MASK, 0},
		{VMCS_PF_ERR_MATCH, 0},
		{VMCS_CR3_TARGET_COUNT, 0},
		{VMCS_EXIT_MSR_STORE_COUNT, 0},
		{VMCS_EXIT_MSR_LOAD_COUNT, 0},
		{VMCS_ENTRY_MSR_LOAD_COUNT, 0},
		{VMCS_ENTRY_INTR_INFO, 0},
		{VMCS_IO_BITMAP_A, (u64)(uintptr_t)vv->io_bitmap},
		{VMCS_IO_BITMAP_B, (u64)(uintptr_t)vv->io_bitmap + PAGE_SIZE},
		{VMCS_MSR_BITMAP, (u64)(uintptr_t)vv->msr_bitmap},
		{VMCS_EXIT_MSR_STORE, (u64)(uintptr_t)vv->msr_guest},
		{VMCS_ENTRY_MSR_LOAD, (u64)(uintptr_t)vv->msr_guest},
		{VMCS_EXIT_MSR_LOAD, (u64)(uintptr_t)vv->msr_host},
		{VMCS_EPTP, vv->eptp},
		/* 29.1.2: threshold 0, so no TPR-below-threshold exit */
		{VMCS_VIRT_APIC_ADDR, (u64)(uintptr_t)vv->vapic},
		{VMCS_TPR_THRESHOLD, 0},
		{VMCS_TSC_OFFSET, 0},
	};
	int err = vmcs_write_all(w, ARRAY_SIZE(w));

	if (!err && vv->vpid && !vmcs_write(VMCS_VPID, vv->vpid))
		err = pr_err(-EIO, "VMWRITE of the VPID failed\n");
	return err;
}

static u64 host_idt_base(void)
{
	struct desc_ptr idt;

	__asm__ volatile("sidt %0" : "=m"(idt));
	return idt.base;
}

/* Host state (26.5 / 27.5): this CPU's GDT, TSS, IDT, GS base and page tables. */
static int write_host_state(void)
{
	struct percpu *pc = this_cpu();
	struct vmcs_init w[] = {
		{VMCS_HOST_CR0, read_cr0()},
		{VMCS_HOST_CR3, read_cr3()},
		{VMCS_HOST_CR4, read_cr4()},
		{VMCS_HOST_CS_SEL, SEL_CODE64},
		{VMCS_HOST_SS_SEL, SEL_DATA},
		{VMCS_HOST_DS_SEL, SEL_DATA},
		{VMCS_HOST_ES_SEL, SEL_DATA},
		{VMCS_HOST_FS_SEL, 0},
		{VMCS_HOST_GS_SEL, 0},
		{VMCS_HOST_TR_SEL, SEL_TSS},
		{VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE)},
		{VMCS_HOST_GS_BASE, (u64)(uintptr_t)pc},
		{VMCS_HOST_TR_BASE, (u64)(uintptr_t)&pc->tss},
		{VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)pc->gdt},
		{VMCS_HOST_IDTR_BASE, host_idt_base()},
		{VMCS_HOST_SYSENTER_CS, 0},
		{VMCS_HOST_SYSENTER_ESP, 0},
		{VMCS_HOST_SYSENTER_EIP, 0},
		{VMCS_HOST_EFER, rdmsr(MSR_EFER)},
		{VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_stub},
	};
	int err;

	err = vmcs_write_all(w, ARRAY_SIZE(w));
	if (!err && vmx_cfg.load_pat && !vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT)))
		err = pr_err(-EIO, "VMWRITE of the host PAT failed\n");
	return err;
}

_Static_assert(sizeof(struct vmx_vcpu) <= PAGE_SIZE, "the vCPU state takes one page");

static void free_vcpu(struct vmx_vcpu *vv)
{
	if (vv->vmcs_pa)
		page_free(vv->vmcs_pa);
	if (vv->msr_bitmap)
		page_free((u64)(uintptr_t)vv->msr_bitmap);
	if (vv->io_bitmap)
		pages_free((u64)(uintptr_t)vv->io_bitmap, 2 * PAGE_SIZE);
	if (vv->msr_guest)
		page_free((u64)(uintptr_t)vv->msr_guest);
	if (vv->msr_host)
		page_free((u64)(uintptr_t)vv->msr_host);
	if (vv->vapic)
		page_free((u64)(uintptr_t)vv->vapic);
	page_free((u64)(uintptr_t)vv);
}

int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *vv;
	int err;

	if (!this_cpu()->arch_virt)
		return pr_err(-ENODEV, "cpu %u: vCPU created before VMXON\n", this_cpu()->index);
	vv = (void *)(uintptr_t)page_alloc();
	if (!vv)
		return pr_err(-ENOMEM, "no page for the vCPU state\n");
	vv->active_cpu = VMX_CPU_NONE;
	vv->timer_value = VMX_TIMER_UNSET;
	vv->vmcs_pa = page_alloc();
	vv->msr_bitmap = (void *)(uintptr_t)page_alloc();
	vv->io_bitmap = (void *)(uintptr_t)pages_alloc(2 * PAGE_SIZE, PAGE_SIZE);
	vv->msr_guest = (void *)(uintptr_t)page_alloc();
	vv->msr_host = (void *)(uintptr_t)page_alloc();
	vv->vapic = (void *)(uintptr_t)page_alloc();
	if (!vv->vmcs_pa || !vv->msr_bitmap || !vv->io_bitmap || !vv->msr_guest || !vv->msr_host ||
	    !vv->vapic) {
		err = pr_err(-ENOMEM, "no memory for the VMCS and its bitmaps\n");
		goto fail;
	}
	/* every MSR and I/O port exits until the core opens it */
	memset(vv->msr_bitmap, 0xff, PAGE_SIZE);
	memset(vv->io_bitmap, 0xff, 2 * PAGE_SIZE);
	memset(vv->vapic, 0, PAGE_SIZE);
	*(u32 *)(uintptr_t)vv->vmcs_pa = vmx_cfg.revision;
	vv->eptp = ept_pointer(v->guest->npt.root);
	vv->vpid = vmx_cfg.vpid ? (u16)v->guest->id : 0;
	if (vmx_cfg.vpid && (v->guest->id == 0 || v->guest->id > 0xffff)) {
		err = pr_err(-EINVAL, "guest id %u is not a valid VPID\n", v->guest->id);
		goto fail;
	}
	/* VMCLEAR initializes the new region's launch state (24.11.3) */
	if (!vmx_clear(vv->vmcs_pa)) {
		err = pr_err(-EIO, "VMCLEAR of a new VMCS failed\n");
		goto fail;
	}
	err = vmx_vcpu_load(vv);
	if (err)
		goto fail;
	err = write_controls(vv);
	if (err)
		goto fail_clear;
	v->arch = vv;
	v->gpr = vv->gprs.r;
	vmx_vcpu_put(v);
	return 0;

fail_clear:
	vmx_vcpu_unload(vv);
fail:
	free_vcpu(vv);
	return err;
}

void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *vv = to_vmx(v);

	if (!vv)
		return;
	if (vv->active_cpu != VMX_CPU_NONE && vv->active_cpu != this_cpu()->index &&
	    release_remote(vv)) {
		pr_warn("the vCPU's memory is kept: its VMCS may still be cached on cpu %u\n",
			vv->active_cpu);
		v->arch = NULL;
		v->gpr = NULL;
		return;
	}
	vmx_vcpu_unload(vv);
	free_vcpu(vv);
	v->arch = NULL;
	v->gpr = NULL;
}

/* Segment state for the entry states: base, limit, access rights (24.4.1). */
#define AR_CODE64                                                                                  \
	(FIELD_PREP(SEG_AR_TYPE, SEG_TYPE_CODE_XRA) | SEG_AR_S | SEG_AR_P | SEG_AR_L | SEG_AR_G)
#define AR_DATA32                                                                                  \
	(FIELD_PREP(SEG_AR_TYPE, SEG_TYPE_DATA_RWA) | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_CODE16 (FIELD_PREP(SEG_AR_TYPE, SEG_TYPE_CODE_XRA) | SEG_AR_S | SEG_AR_P)
#define AR_DATA16 (FIELD_PREP(SEG_AR_TYPE, SEG_TYPE_DATA_RWA) | SEG_AR_S | SEG_AR_P)
#define AR_TSS_BUSY (FIELD_PREP(SEG_AR_TYPE, SEG_TYPE_TSS64_BUSY) | SEG_AR_P)

static const enum vmcs_field seg_sel[] = {
	VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL,
	VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL,
};

static int write_segments(u16 cs, u16 ds, u64 cs_base, u64 ds_base, u32 limit, u32 cs_ar, u32 ds_ar)
{
	int err = 0;

	/* selector, base, limit and AR fields of ES..GS are at fixed strides from ES */
	for (unsigned i = 0; i < ARRAY_SIZE(seg_sel) && !err; i++) {
		bool is_cs = seg_sel[i] == VMCS_GUEST_CS_SEL;
		struct vmcs_init w[] = {
			{seg_sel[i], is_cs ? cs : ds},
			{VMCS_GUEST_ES_BASE + 2 * i, is_cs ? cs_base : ds_base},
			{VMCS_GUEST_ES_LIMIT + 2 * i, limit},
			{VMCS_GUEST_ES_AR + 2 * i, is_cs ? cs_ar : ds_ar},
		};

		err = vmcs_write_all(w, ARRAY_SIZE(w));
	}
	return err;
}

static int write_common_guest_state(struct vmx_vcpu *vv, u64 cr0, u64 cr4, bool unrestricted)
{
	const struct vmx_caps *c = &vmx_cfg.caps;
	u64 cr4_mask = (c->cr4_fixed0 | ~c->cr4_fixed1) & GENMASK(31, 0);
	struct vmcs_init w[] = {
		{VMCS_GUEST_CR0, vmx_guest_cr0_real(c, cr0, unrestricted)},
		{VMCS_GUEST_CR4, vmx_fix_cr4(c, cr4)},
		/* the guest sees its own CR0/CR4; changing a bit VMX fixes exits */
		{VMCS_CR0_MASK, vmx_guest_cr0_mask(c, unrestricted)},
		{VMCS_CR4_MASK, cr4_mask},
		{VMCS_CR0_SHADOW, cr0},
		{VMCS_CR4_SHADOW, cr4},
		{VMCS_GUEST_LDTR_SEL, 0},
		{VMCS_GUEST_LDTR_BASE, 0},
		{VMCS_GUEST_LDTR_LIMIT, 0},
		{VMCS_GUEST_LDTR_AR, SEG_AR_UNUSABLE},
		{VMCS_GUEST_TR_SEL, 0},
		{VMCS_GUEST_TR_BASE, 0},
		{VMCS_GUEST_TR_LIMIT, 0x67},
		{VMCS_GUEST_TR_AR, AR_TSS_BUSY},
		{VMCS_GUEST_DR7, 0x400},
		{VMCS_GUEST_DEBUGCTL, 0},
		{VMCS_GUEST_SYSENTER_CS, 0},
		{VMCS_GUEST_SYSENTER_ESP, 0},
		{VMCS_GUEST_SYSENTER_EIP, 0},
		{VMCS_GUEST_PENDING_DBG, 0},
		{VMCS_GUEST_INTERRUPTIBILITY, 0},
		{VMCS_GUEST_ACTIVITY, GUEST_ACTIVITY_ACTIVE},
		{VMCS_LINK_PTR, VMCS_LINK_NONE},
		{VMCS_ENTRY_INTR_INFO, 0},
		{VMCS_GUEST_RFLAGS, 0x2},
	};
	int err = vmcs_write_all(w, ARRAY_SIZE(w));

	if (!err && vmx_cfg.load_pat && !vmcs_write(VMCS_GUEST_PAT, GUEST_PAT_DEFAULT))
		err = pr_err(-EIO, "VMWRITE of the guest PAT failed\n");
	memset(&vv->gprs, 0, sizeof(vv->gprs));
	vv->cr2 = 0;
	vv->vapic[VAPIC_TPR] = 0;
	return err;
}

/* The 64-bit entry state of backend.h. */
static int reset_long(struct vmx_vcpu *vv, const struct vcpu_boot_state *s)
{
	u64 cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	u16 cs = s->gdt_limit ? s->cs : 0x08, ds = s->gdt_limit ? s->ds : 0x10;
	int err = write_common_guest_state(vv, cr0, CR4_PAE, false);

	if (!err)
		err = write_segments(cs, ds, 0, 0, 0xffffffffu, AR_CODE64, AR_DATA32);
	if (err)
		return err;
	{
		struct vmcs_init w[] = {
			{VMCS_GUEST_CR3, s->cr3},
			{VMCS_GUEST_EFER, EFER_LME | EFER_LMA | EFER_NXE},
			{VMCS_ENTRY_CTLS, vmx_cfg.ctl[VMX_CTL_ENTRY] | ENTRY_IA32E},
			{VMCS_GUEST_GDTR_BASE, s->gdt_base},
			{VMCS_GUEST_GDTR_LIMIT, s->gdt_limit},
			{VMCS_GUEST_IDTR_BASE, 0},
			{VMCS_GUEST_IDTR_LIMIT, 0},
			{VMCS_GUEST_RIP, s->rip},
			{VMCS_GUEST_RSP, s->rsp},
		};

		err = vmcs_write_all(w, ARRAY_SIZE(w));
	}
	vv->gprs.r[VMM_REG_RDI] = s->rdi;
	vv->gprs.r[VMM_REG_RSI] = s->rsi;
	return err;
}

/* After INIT and a start-up IPI (SDM Vol. 3 9.1.1 Table 9-1): real mode at cs:rip with
 * 64 KiB segments, CR0 0x60000010, EDX the processor signature; unrestricted guest runs it
 * with paging off (25.6.2, 26.3.1.1). */
static int reset_real(struct vmx_vcpu *vv, const struct vcpu_boot_state *s)
{
	int err;

	if (!vmx_cfg.unrestricted)
		return pr_err(-ENOTSUP, "a real-mode start needs unrestricted guest\n");
	err = write_common_guest_state(vv, CR0_INIT, 0, true);
	if (!err)
		err = write_segments(s->cs, 0, (u64)s->cs << 4, 0, 0xffff, AR_CODE16, AR_DATA16);
	if (err)
		return err;
	{
		struct vmcs_init w[] = {
			{VMCS_GUEST_CR3, 0},
			{VMCS_GUEST_EFER, 0},
			{VMCS_ENTRY_CTLS, vmx_cfg.ctl[VMX_CTL_ENTRY] & ~(u32)ENTRY_IA32E},
			{VMCS_GUEST_GDTR_BASE, 0},
			{VMCS_GUEST_GDTR_LIMIT, 0xffff},
			{VMCS_GUEST_IDTR_BASE, 0},
			{VMCS_GUEST_IDTR_LIMIT, 0xffff},
			{VMCS_GUEST_RIP, s->rip},
			{VMCS_GUEST_RSP, 0},
		};

		err = vmcs_write_all(w, ARRAY_SIZE(w));
	}
	vv->gprs.r[VMM_REG_RDX] = cpuid(CPUID_LEAF_FEATURES, 0).eax;
	return err;
}

int vmx_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *s)
{
	struct vmx_vcpu *vv = to_vmx(v);
	int err = vmx_vcpu_load(vv);

	if (err)
		return err;
	switch (s->mode) {
	case VCPU_BOOT_LONG: err = reset_long(vv, s); break;
	case VCPU_BOOT_REAL: err = reset_real(vv, s); break;
	default: err = pr_err(-EINVAL, "unknown entry mode %d\n", (int)s->mode); break;
	}
	/* no interrupt window asked for from an earlier life */
	if (!err && !vmcs_write(VMCS_PROC_CTLS, vmx_cfg.ctl[VMX_CTL_PROC]))
		err = pr_err(-EIO, "VMWRITE of the processor-based controls failed\n");
	vmx_vcpu_put(v);
	return err;
}
