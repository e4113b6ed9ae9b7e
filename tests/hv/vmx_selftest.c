/* Self-tests of the VMX backend on its own, before any core guest runs: a small guest
 * (vmx_testguest.asm) is driven through every exit kind the backend decodes, with EPT
 * faults resolved by mapping and INVEPT, an exception kept inside the guest, an injected
 * one, the watchdog, a triple fault, a diagnosed VM-entry failure, two guests with their
 * own EPT and VPID on one CPU, and an unrestricted real-mode start. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include "tests/hv/selftest.h"
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/pt_x86.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"
#include "vmm/exits.h"

/* Test guest layout (guest-physical) */
#define TG_RAM_SIZE (2 * MiB)
#define TG_PML4 0x1000
#define TG_PDPT 0x2000
#define TG_PD 0x3000
#define TG_GDT 0x5000
#define TG_IDT 0x6000
#define TG_REAL_CODE 0x7000
#define TG_SCRATCH 0x8000
#define TG_STACK_TOP 0xf000
#define TG_CODE 0x10000
#define TG_MISSING 0x200010ull /* vmx_testguest.asm */
#define TG_WATCHDOG_US 500000
/* guest ids (and VPIDs) apart from the core's guests 1.. */
#define TG_ID_MAIN 0xff01
#define TG_ID_OTHER 0xff02

#define TG_INTR_VECTOR 0x40
#define TG_MAGIC 0x5afe5afe0c0ffeeull

/* 64-bit interrupt gate (SDM Vol. 3A 6.14.1) */
#define GATE_OFF_LO GENMASK(15, 0)
#define GATE_SEL GENMASK(31, 16)
#define GATE_TYPE_ATTR GENMASK(47, 40)
#define GATE_OFF_MID GENMASK(63, 48)
#define GATE_INTR_PRESENT 0x8e
#define GDT_CODE64_DESC 0x00af9b000000ffffull
#define GDT_DATA_DESC 0x00cf93000000ffffull

extern const u8 vmx_tg_start[], vmx_tg_end[], vmx_tg_isolation[], vmx_tg_triple[], vmx_tg_real[],
	vmx_tg_spin[], vmx_tg_ud_handler[], vmx_tg_gp_handler[], vmx_tg_msr[], vmx_tg_cr[],
	vmx_tg_intr[], vmx_tg_intr_handler[], vmx_tg_vmxon[], vmx_tg_fetch[];

struct tguest {
	struct guest g;
	u8 *ram;
	u64 extra_page; /* host page mapped at TG_MISSING by the EPT-violation test */
	bool created;
};

static struct {
	int probe_err; /* 0 when the backend can run guests */
	char why[96];  /* reason the tests skip */
	struct tguest main, other;
	bool main_broken;    /* a step of the main guest failed: later steps skip */
	u64 host_intr_exits; /* external-interrupt exits run_expect() resumed from */
} st;

/* Offset of a label in the guest code (symbols of one assembly section, compared as
 * addresses). */
static u64 tg_offset(const u8 *label)
{
	return (u64)((uintptr_t)label - (uintptr_t)vmx_tg_start);
}

static u64 gpa_of(const u8 *label)
{
	return TG_CODE + tg_offset(label);
}

static const struct pt_ops ept_ops = PT_OPS_PAGES(NULL);

static void *gptr(struct tguest *t, u64 gpa)
{
	return t->ram + gpa;
}

static void set_gate(struct tguest *t, u8 vec, u64 handler_gpa)
{
	u64 *gate = gptr(t, TG_IDT + 16ull * vec);

	gate[0] = FIELD_PREP(GATE_OFF_LO, handler_gpa) | FIELD_PREP(GATE_SEL, SEL_CODE64) |
		  FIELD_PREP(GATE_TYPE_ATTR, GATE_INTR_PRESENT) |
		  FIELD_PREP(GATE_OFF_MID, handler_gpa >> 16);
	gate[1] = handler_gpa >> 32;
}

/* Guest RAM: identity page tables for 0-8 MiB (2 MiB pages), a GDT, an IDT with #UD and
 * #GP handlers, the test code. EPT maps only the 2 MiB of RAM. */
static void tg_fill(struct tguest *t, u64 scratch)
{
	u64 *pml4 = gptr(t, TG_PML4), *pdpt = gptr(t, TG_PDPT), *pd = gptr(t, TG_PD);
	u64 *gdt = gptr(t, TG_GDT);

	pml4[0] = TG_PDPT | X86_PTE_P | X86_PTE_RW;
	pdpt[0] = TG_PD | X86_PTE_P | X86_PTE_RW;
	for (u64 i = 0; i < 4; i++)
		pd[i] = i * 2 * MiB | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
	gdt[1] = GDT_CODE64_DESC;
	gdt[2] = GDT_DATA_DESC;
	set_gate(t, VEC_UD, gpa_of(vmx_tg_ud_handler));
	set_gate(t, VEC_GP, gpa_of(vmx_tg_gp_handler));
	set_gate(t, TG_INTR_VECTOR, gpa_of(vmx_tg_intr_handler));
	memcpy(gptr(t, TG_CODE), vmx_tg_start, (size_t)tg_offset(vmx_tg_end));
	memcpy(gptr(t, TG_REAL_CODE), vmx_tg_real,
	       (size_t)(tg_offset(vmx_tg_end) - tg_offset(vmx_tg_real)));
	*(u64 *)gptr(t, TG_SCRATCH) = scratch;
}

static void tg_destroy(struct tguest *t)
{
	if (!t->created)
		return;
	vmx_backend.vcpu_destroy(&t->g.vcpu[0]);
	pt_destroy(&t->g.npt);
	pages_free((u64)(uintptr_t)t->ram, TG_RAM_SIZE);
	if (t->extra_page)
		page_free(t->extra_page);
	memset(t, 0, sizeof(*t));
}

static int tg_create(struct tguest *t, u32 id, u64 scratch)
{
	u64 ram = pages_alloc(TG_RAM_SIZE, TG_RAM_SIZE);
	int err;

	memset(t, 0, sizeof(*t));
	if (!ram)
		return pr_err(-ENOMEM, "no memory for a test guest\n");
	t->ram = (u8 *)(uintptr_t)ram;
	t->g.id = id;
	t->g.ram_hpa = ram;
	t->g.ram_size = TG_RAM_SIZE;
	t->g.vcpu[0].guest = &t->g;
	t->g.vcpu[0].cpu = this_cpu()->index;
	vcpu_cpuid_init(&t->g.vcpu[0]);
	tg_fill(t, scratch);
	err = pt_init(&t->g.npt, &pt_format_ept, &ept_ops, 4, vmx_cfg.ept_max_leaf);
	if (err)
		goto free_ram;
	err = pt_map(&t->g.npt, 0, ram, TG_RAM_SIZE, PT_RWX | FIELD_PREP(PT_MT, PT_MT_WB));
	if (err)
		goto free_pt;
	err = vmx_backend.vcpu_create(&t->g.vcpu[0]);
	if (err)
		goto free_pt;
	vmx_backend.set_watchdog(&t->g.vcpu[0], TG_WATCHDOG_US);
	t->created = true;
	return 0;

free_pt:
	pt_destroy(&t->g.npt);
free_ram:
	pages_free(ram, TG_RAM_SIZE);
	return err;
}

/* 64-bit entry at rip with the guest's own GDT and IDT loaded. */
static int tg_reset(struct tguest *t, u64 rip)
{
	struct vcpu_boot_state s = {.rip = rip, .rsp = TG_STACK_TOP, .cr3 = TG_PML4};
	int err = vmx_backend.vcpu_reset(&t->g.vcpu[0], &s);

	if (err)
		return err;
	if (!vmcs_write(VMCS_GUEST_GDTR_BASE, TG_GDT) || !vmcs_write(VMCS_GUEST_GDTR_LIMIT, 23) ||
	    !vmcs_write(VMCS_GUEST_IDTR_BASE, TG_IDT) ||
	    !vmcs_write(VMCS_GUEST_IDTR_LIMIT, 16 * 256 - 1))
		return pr_err(-EIO, "VMWRITE of the test guest's GDTR/IDTR failed\n");
	return 0;
}

static u64 reg(struct tguest *t, enum vmm_reg r)
{
	return vmx_backend.get_reg(&t->g.vcpu[0], r);
}

/* Runs until the next exit other than a host interrupt (those the core too just resumes
 * from); a failed entry or an exit other than `want` fails the test and dumps the vCPU. */
static bool run_expect(struct st_ctx *ctx, struct tguest *t, enum vmm_exit_reason want,
		       struct vmm_exit *e)
{
	int err, n = 0;

	do
		err = vmx_backend.run(&t->g.vcpu[0], e);
	while (!err && e->reason == VMM_EXIT_EXT_INTR && want != VMM_EXIT_EXT_INTR &&
	       (st.host_intr_exits++, ++n < 1000));

	CHECK(ctx, err == 0 && e->reason == want, "run %d, exit %s (VMX %s, %#llx), expected %s",
	      err, vmm_exit_name(e->reason), vmx_exit_name((u32)e->raw), (unsigned long long)e->raw,
	      vmm_exit_name(want));
	if (err == 0 && e->reason == want)
		return true;
	vmx_backend.dump(&t->g.vcpu[0]);
	return false;
}

static void skip_insn(struct tguest *t, const struct vmm_exit *e)
{
	vmx_backend.skip_instruction(&t->g.vcpu[0], e);
}

/* Whether the shared main guest can take the next step. */
static bool main_ready(struct st_ctx *ctx)
{
	if (st.probe_err) {
		st_skip(ctx, "%s", st.why);
		return false;
	}
	if (st.main_broken || !st.main.created) {
		st_skip(ctx, "the main test guest stopped at an earlier step");
		return false;
	}
	return true;
}

static void step_done(struct st_ctx *ctx)
{
	if (ctx->failed)
		st.main_broken = true;
}

SELFTEST_ORDER(vmx_detect, "vmx", "detect", 60)
{
	struct vmm_caps caps;
	bool cpuid_vmx = cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_VMX;
	u64 fc;

	memset(&caps, 0, sizeof(caps));
	fc = cpuid_vmx ? rdmsr(MSR_IA32_FEATURE_CONTROL) : 0;
	st.probe_err = vmx_backend.probe(&caps);
	if (!cpuid_vmx) {
		CHECK(ctx, st.probe_err == -ENODEV, "probe %d without CPUID VMX", st.probe_err);
		snprintf(st.why, sizeof(st.why), "no VMX on this CPU (CPUID.1:ECX.VMX = 0)");
		st.probe_err = -ENODEV;
		st_skip(ctx, "%s", st.why);
		return;
	}
	CHECK(ctx, st.probe_err == 0, "probe failed: %s", err_name(st.probe_err));
	if (st.probe_err) {
		snprintf(st.why, sizeof(st.why), "VMX probe failed (%s)", err_name(st.probe_err));
		return;
	}
	CHECK(ctx, caps.npt_fmt == &pt_format_ept && caps.npt_levels == 4, "caps %s/%u",
	      caps.npt_fmt ? caps.npt_fmt->name : "none", caps.npt_levels);
	CHECK(ctx, vmx_cfg.revision != 0, "VMCS revision 0");
	/* a locked IA32_FEATURE_CONTROL is never written */
	if (fc & FEATURE_CONTROL_LOCK)
		CHECK(ctx, rdmsr(MSR_IA32_FEATURE_CONTROL) == fc,
		      "IA32_FEATURE_CONTROL %#llx -> %#llx", (unsigned long long)fc,
		      (unsigned long long)rdmsr(MSR_IA32_FEATURE_CONTROL));
	CHECK(ctx, vmx_cfg.ctl[VMX_CTL_PROC2] & PROC2_EPT, "EPT not enabled: %#x",
	      vmx_cfg.ctl[VMX_CTL_PROC2]);
}

SELFTEST_ORDER(vmx_vmxon, "vmx", "vmxon", 61)
{
	int err;

	if (st.probe_err) {
		st_skip(ctx, "%s", st.why);
		return;
	}
	err = vmx_backend.cpu_init();
	CHECK(ctx, err == 0, "VMXON failed: %s", err_name(err));
	CHECK(ctx, read_cr4() & CR4_VMXE, "CR4.VMXE clear after VMXON");
	CHECK(ctx, vmx_backend.cpu_init() == 0, "second cpu_init not idempotent");
	if (err) {
		st.probe_err = err;
		snprintf(st.why, sizeof(st.why), "VMXON failed (%s)", err_name(err));
		return;
	}
	err = tg_create(&st.main, TG_ID_MAIN, 0x1111);
	if (!err)
		err = tg_reset(&st.main, TG_CODE);
	CHECK(ctx, err == 0, "creating the test guest failed: %s", err_name(err));
	if (err) {
		st.main_broken = true;
		tg_destroy(&st.main);
	}
}

SELFTEST_ORDER(vmx_exit_cpuid, "vmx", "exit-cpuid", 62)
{
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, &st.main, VMM_EXIT_CPUID, &e)) {
		CHECK(ctx, e.cpuid.leaf == 0x4d4f4154 && e.cpuid.subleaf == 7, "leaf %#x/%u",
		      e.cpuid.leaf, e.cpuid.subleaf);
		CHECK(ctx, e.rip == TG_CODE + 10 && e.insn_len == 2, "rip %#llx len %u",
		      (unsigned long long)e.rip, e.insn_len);
		vmx_backend.set_reg(&st.main.g.vcpu[0], VMM_REG_RBX, 0x1234abcd);
		skip_insn(&st.main, &e);
		CHECK(ctx, reg(&st.main, VMM_REG_RIP) == TG_CODE + 12, "rip after skip %#llx",
		      (unsigned long long)reg(&st.main, VMM_REG_RIP));
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_exit_hypercall, "vmx", "exit-vmcall", 63)
{
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, &st.main, VMM_EXIT_HYPERCALL, &e)) {
		CHECK(ctx, reg(&st.main, VMM_REG_RAX) == 0x1234abcd, "rax %#llx (RBX not set?)",
		      (unsigned long long)reg(&st.main, VMM_REG_RAX));
		CHECK(ctx, e.insn_len == 3, "VMCALL length %u", e.insn_len);
		skip_insn(&st.main, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_exit_io, "vmx", "exit-io", 64)
{
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, &st.main, VMM_EXIT_IO, &e)) {
		CHECK(ctx, e.io.port == 0x80 && e.io.size == 1 && !e.io.in && !e.io.string,
		      "out: port %#x size %u in %d string %d", e.io.port, e.io.size, e.io.in,
		      e.io.string);
		CHECK(ctx, (reg(&st.main, VMM_REG_RAX) & 0xff) == 0x5a, "al %#llx",
		      (unsigned long long)reg(&st.main, VMM_REG_RAX));
		skip_insn(&st.main, &e);
	}
	if (!ctx->failed && run_expect(ctx, &st.main, VMM_EXIT_IO, &e)) {
		CHECK(ctx, e.io.port == 0x3fd && e.io.size == 2 && e.io.in && !e.io.rep,
		      "in: port %#x size %u in %d", e.io.port, e.io.size, e.io.in);
		skip_insn(&st.main, &e);
	}
	if (!ctx->failed && run_expect(ctx, &st.main, VMM_EXIT_IO, &e)) {
		CHECK(ctx, e.io.port == 0x80 && e.io.string && e.io.rep && !e.io.in,
		      "rep outsb: port %#x string %d rep %d", e.io.port, e.io.string, e.io.rep);
		skip_insn(&st.main, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_exit_msr, "vmx", "exit-msr", 65)
{
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, &st.main, VMM_EXIT_MSR_READ, &e)) {
		CHECK(ctx, e.msr.index == 0x277, "rdmsr index %#x", e.msr.index);
		skip_insn(&st.main, &e);
	}
	if (!ctx->failed && run_expect(ctx, &st.main, VMM_EXIT_MSR_WRITE, &e)) {
		CHECK(ctx, e.msr.index == 0xc0000081 && e.msr.value == 0x1111111122222222ull,
		      "wrmsr %#x = %#llx", e.msr.index, (unsigned long long)e.msr.value);
		skip_insn(&st.main, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_ept_violation, "vmx", "ept-violation-map-invept", 66)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, t, VMM_EXIT_NPF, &e)) {
		CHECK(ctx, e.npf.gpa == TG_MISSING, "gpa %#llx", (unsigned long long)e.npf.gpa);
		CHECK(ctx, e.npf.access == VMM_NPF_READ, "access %#x (expected read, not present)",
		      e.npf.access);
		/* map the page read-only with a value the guest then reports */
		t->extra_page = page_alloc();
		CHECK(ctx, t->extra_page, "no page");
		if (!t->extra_page)
			goto out;
		*(u64 *)(uintptr_t)(t->extra_page + (TG_MISSING & 0xfff)) = TG_MAGIC;
		err = pt_map(&t->g.npt, TG_MISSING & ~0xfffull, t->extra_page, PAGE_SIZE,
			     PT_R | PT_X);
		CHECK(ctx, err == 0, "pt_map %s", err_name(err));
		vmx_backend.flush_nested_tlb(&t->g.vcpu[0]);
	}
	if (!ctx->failed && run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e)) {
		CHECK(ctx, reg(t, VMM_REG_RAX) == 2 && reg(t, VMM_REG_RBX) == TG_MAGIC,
		      "guest read %#llx (step %llu)", (unsigned long long)reg(t, VMM_REG_RBX),
		      (unsigned long long)reg(t, VMM_REG_RAX));
		skip_insn(t, &e);
	}
out:
	step_done(ctx);
}

SELFTEST_ORDER(vmx_ept_write_protect, "vmx", "ept-write-protect", 67)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;
	u64 *host = (u64 *)(uintptr_t)(t->extra_page + ((TG_MISSING + 8) & 0xfff));
	int err;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, t, VMM_EXIT_NPF, &e)) {
		CHECK(ctx, e.npf.gpa == TG_MISSING + 8, "gpa %#llx", (unsigned long long)e.npf.gpa);
		CHECK(ctx, e.npf.access == (VMM_NPF_WRITE | VMM_NPF_PRESENT), "access %#x",
		      e.npf.access);
		CHECK(ctx, *host == 0, "the write went through: %#llx", (unsigned long long)*host);
		err = pt_unmap(&t->g.npt, TG_MISSING & ~0xfffull, PAGE_SIZE);
		if (!err)
			err = pt_map(&t->g.npt, TG_MISSING & ~0xfffull, t->extra_page, PAGE_SIZE,
				     PT_RW);
		CHECK(ctx, err == 0, "remap %s", err_name(err));
		vmx_backend.flush_nested_tlb(&t->g.vcpu[0]);
	}
	if (!ctx->failed && run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e)) {
		CHECK(ctx, reg(t, VMM_REG_RAX) == 3 && reg(t, VMM_REG_RBX) == 0x77 && *host == 0x77,
		      "guest read back %#llx, host sees %#llx",
		      (unsigned long long)reg(t, VMM_REG_RBX), (unsigned long long)*host);
		skip_insn(t, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_guest_exception, "vmx", "guest-exception-stays-inside", 68)
{
	struct tguest *t = &st.main;
	struct vmx_vcpu *vv;
	struct vmm_exit e;
	u64 exits, intrs;

	if (!main_ready(ctx))
		return;
	vv = to_vmx(&t->g.vcpu[0]);
	exits = vv->exits;
	intrs = st.host_intr_exits;
	/* ud2 raises #UD in the guest, its own handler reports through VMCALL */
	if (run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e)) {
		CHECK(ctx, reg(t, VMM_REG_RAX) == 6, "rax %llu, expected the #UD handler's 6",
		      (unsigned long long)reg(t, VMM_REG_RAX));
		exits = vv->exits - exits - (st.host_intr_exits - intrs);
		CHECK(ctx, exits == 1, "%llu exits besides host interrupts for one VMCALL",
		      (unsigned long long)exits);
		CHECK(ctx, e.rip == gpa_of(vmx_tg_ud_handler) + 5, "rip %#llx",
		      (unsigned long long)e.rip);
		skip_insn(t, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_exit_hlt, "vmx", "exit-hlt", 69)
{
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (run_expect(ctx, &st.main, VMM_EXIT_HLT, &e)) {
		CHECK(ctx, e.rip == gpa_of(vmx_tg_spin) - 1 && e.insn_len == 1, "rip %#llx len %u",
		      (unsigned long long)e.rip, e.insn_len);
		skip_insn(&st.main, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_inject, "vmx", "inject-exception", 70)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	pr_info("a refused injection follows, on purpose:\n");
	CHECK(ctx, vmx_backend.inject_exception(&t->g.vcpu[0], 40, false, 0) == -EINVAL,
	      "vector 40 accepted as an exception");
	err = vmx_backend.inject_exception(&t->g.vcpu[0], VEC_GP, true, 0x1234);
	CHECK(ctx, err == 0, "inject %s", err_name(err));
	if (!err && run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e)) {
		CHECK(ctx, reg(t, VMM_REG_RAX) == 13 && reg(t, VMM_REG_RBX) == 0x1234,
		      "handler %llu saw error code %#llx", (unsigned long long)reg(t, VMM_REG_RAX),
		      (unsigned long long)reg(t, VMM_REG_RBX));
		skip_insn(t, &e);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_watchdog, "vmx", "watchdog-preemption-timer", 71)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;

	if (!main_ready(ctx))
		return;
	if (!(vmx_cfg.ctl[VMX_CTL_PIN] & PIN_PREEMPT_TIMER)) {
		st_skip(ctx, "this CPU has no VMX-preemption timer");
		return;
	}
	/* the guest now spins in "jmp ." after the #GP handler's IRET */
	vmx_backend.set_watchdog(&t->g.vcpu[0], 20000);
	if (run_expect(ctx, t, VMM_EXIT_WATCHDOG, &e))
		CHECK(ctx, e.rip == gpa_of(vmx_tg_spin), "stopped at %#llx, spin loop at %#llx",
		      (unsigned long long)e.rip, (unsigned long long)gpa_of(vmx_tg_spin));
	vmx_backend.set_watchdog(&t->g.vcpu[0], TG_WATCHDOG_US);
	step_done(ctx);
}

/* An instruction fetch from a page EPT maps readable and writable but not executable. */
SELFTEST_ORDER(vmx_ept_no_exec, "vmx", "ept-no-execute", 72)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	err = tg_reset(t, gpa_of(vmx_tg_fetch));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (!err && run_expect(ctx, t, VMM_EXIT_NPF, &e)) {
		CHECK(ctx, e.npf.gpa == (TG_MISSING & ~0xfffull) && e.rip == e.npf.gpa,
		      "gpa %#llx rip %#llx", (unsigned long long)e.npf.gpa,
		      (unsigned long long)e.rip);
		CHECK(ctx, e.npf.access == (VMM_NPF_EXEC | VMM_NPF_PRESENT), "access %#x",
		      e.npf.access);
	}
	step_done(ctx);
}

SELFTEST_ORDER(vmx_triple_fault, "vmx", "triple-fault", 73)
{
	struct tguest *t = &st.main;
	struct vcpu_boot_state s = {
		.rip = gpa_of(vmx_tg_triple), .rsp = TG_STACK_TOP, .cr3 = TG_PML4};
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	/* the architectural entry state: no IDT */
	err = vmx_backend.vcpu_reset(&t->g.vcpu[0], &s);
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (!err)
		run_expect(ctx, t, VMM_EXIT_SHUTDOWN, &e);
	step_done(ctx);
}

SELFTEST_ORDER(vmx_entry_failure, "vmx", "entry-failure-diagnosed", 74)
{
	struct tguest *t = &st.main;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	err = tg_reset(t, gpa_of(vmx_tg_isolation));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (err)
		goto out;
	/* an unusable TR is invalid guest state (26.3.1.2) */
	vmcs_write(VMCS_GUEST_TR_AR, SEG_AR_UNUSABLE);
	pr_info("an entry failure follows, on purpose:\n");
	err = vmx_backend.run(&t->g.vcpu[0], &e);
	CHECK(ctx, err == -EIO && e.reason == VMM_EXIT_INVALID, "run %d, exit %s", err,
	      vmm_exit_name(e.reason));
	CHECK(ctx, e.raw == (EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_STATE), "raw %#llx",
	      (unsigned long long)e.raw);
	/* the vCPU is usable again after a reset */
	err = tg_reset(t, gpa_of(vmx_tg_isolation));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (!err && run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
		CHECK(ctx, reg(t, VMM_REG_RAX) == 0x1111, "rax %#llx",
		      (unsigned long long)reg(t, VMM_REG_RAX));
out:
	step_done(ctx);
}

SELFTEST_ORDER(vmx_two_guests, "vmx", "two-guests-own-ept-vpid", 75)
{
	struct tguest *a = &st.main, *b = &st.other;
	struct vmm_exit e;
	u64 pa_a = 0, pa_b = 0;
	int err;

	if (!main_ready(ctx))
		return;
	err = tg_create(b, TG_ID_OTHER, 0x2222);
	if (!err)
		err = tg_reset(b, gpa_of(vmx_tg_isolation));
	CHECK(ctx, err == 0, "second guest: %s", err_name(err));
	if (err)
		return;
	pt_lookup(&a->g.npt, TG_SCRATCH, &pa_a, NULL, NULL);
	pt_lookup(&b->g.npt, TG_SCRATCH, &pa_b, NULL, NULL);
	CHECK(ctx, pa_a != pa_b && pa_a && pa_b, "same GPA maps %#llx and %#llx",
	      (unsigned long long)pa_a, (unsigned long long)pa_b);
	CHECK(ctx, !vmx_cfg.vpid || to_vmx(&a->g.vcpu[0])->vpid != to_vmx(&b->g.vcpu[0])->vpid,
	      "shared VPID");
	/* alternate: every run switches the current VMCS */
	for (int round = 0; round < 3 && !ctx->failed; round++) {
		struct tguest *t = round % 2 ? a : b;
		u64 want = t == a ? 0x1111 : 0x2222;

		if (!run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
			break;
		CHECK(ctx, reg(t, VMM_REG_RAX) == want, "guest %u read %#llx at GPA %#x", t->g.id,
		      (unsigned long long)reg(t, VMM_REG_RAX), TG_SCRATCH);
		skip_insn(t, &e);
	}
	if (!ctx->failed)
		CHECK(ctx,
		      run_expect(ctx, a, VMM_EXIT_HYPERCALL, &e) && reg(a, VMM_REG_RAX) == 0x1111,
		      "guest 1 after the switches");
}

/* STAR, passed through, is switched by the MSR areas: the guest keeps its value across
 * exits, the host's is back after every exit. */
SELFTEST_ORDER(vmx_msr_switch, "vmx", "passthrough-msr-switched", 76)
{
	struct tguest *t = &st.other;
	struct vmm_exit e;
	u64 host_star = rdmsr(MSR_STAR);
	int err;

	if (!main_ready(ctx))
		return;
	if (!t->created) {
		st_skip(ctx, "the second guest was not created");
		return;
	}
	vmx_backend.msr_intercept(&t->g.vcpu[0], MSR_STAR, false, false);
	CHECK(ctx, to_vmx(&t->g.vcpu[0])->nr_msr_switch == 1, "%u MSRs switched",
	      to_vmx(&t->g.vcpu[0])->nr_msr_switch);
	err = tg_reset(t, gpa_of(vmx_tg_msr));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (err || !run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx, rdmsr(MSR_STAR) == host_star, "host STAR %#llx after the guest wrote its own",
	      (unsigned long long)rdmsr(MSR_STAR));
	CHECK(ctx, to_vmx(&t->g.vcpu[0])->msr_guest[0].value == 0x0023001012345678ull,
	      "stored guest STAR %#llx",
	      (unsigned long long)to_vmx(&t->g.vcpu[0])->msr_guest[0].value);
	skip_insn(t, &e);
	if (!run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx, reg(t, VMM_REG_RAX) == 0x12345678 && reg(t, VMM_REG_RDX) == 0x00230010,
	      "guest read back edx:eax %#llx:%#llx", (unsigned long long)reg(t, VMM_REG_RDX),
	      (unsigned long long)reg(t, VMM_REG_RAX));
	CHECK(ctx, rdmsr(MSR_STAR) == host_star, "host STAR %#llx",
	      (unsigned long long)rdmsr(MSR_STAR));
	skip_insn(t, &e);
}

/* Runs the test guest to the exit `want`, handing every CR_WRITE exit on the way to the
 * core's dispatch (vmm/exit.c) as the vCPU loop does. */
static bool run_via_core(struct st_ctx *ctx, struct tguest *t, enum vmm_exit_reason want,
			 struct vmm_exit *e)
{
	int err = 0, n = 0;

	for (;;) {
		err = vmx_backend.run(&t->g.vcpu[0], e);
		if (err || ++n > 1000)
			break;
		if (e->reason == VMM_EXIT_EXT_INTR && want != VMM_EXIT_EXT_INTR) {
			st.host_intr_exits++;
			continue;
		}
		if (e->reason != VMM_EXIT_CR_WRITE || want == VMM_EXIT_CR_WRITE)
			break;
		err = vmm_handle_exit(&t->g.vcpu[0], e);
		if (err)
			break;
	}
	CHECK(ctx, err == 0 && e->reason == want, "run %d, exit %s (VMX %s, %#llx), expected %s",
	      err, vmm_exit_name(e->reason), vmx_exit_name((u32)e->raw), (unsigned long long)e->raw,
	      vmm_exit_name(want));
	if (err == 0 && e->reason == want)
		return true;
	vmx_backend.dump(&t->g.vcpu[0]);
	return false;
}

/* MOV to CR0/CR4 touching host-owned bits: a CR_WRITE exit through the core's dispatch,
 * counted there, applied by the backend as the architecture defines it for the guest or
 * turned into #GP(0). */
SELFTEST_ORDER(vmx_cr_access, "vmx", "cr-write-emulated", 77)
{
	struct tguest *t = &st.other;
	struct vmx_vcpu *vv;
	struct vmm_exit e;
	u64 exits, cr_exits, cr0;
	int err;

	if (!main_ready(ctx))
		return;
	if (!t->created) {
		st_skip(ctx, "the second guest was not created");
		return;
	}
	if (vmm_be != &vmx_backend) {
		st_skip(ctx, "the core's dispatch does not run on the VMX backend");
		return;
	}
	vv = to_vmx(&t->g.vcpu[0]);
	err = tg_reset(t, gpa_of(vmx_tg_cr));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	exits = vv->exits;
	cr_exits = guest_exits(&t->g, VMM_EXIT_CR_WRITE);
	if (err || !run_via_core(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx, !(reg(t, VMM_REG_RBX) & CR0_NE), "guest read CR0 %#llx after clearing NE",
	      (unsigned long long)reg(t, VMM_REG_RBX));
	CHECK(ctx, !(reg(t, VMM_REG_CR0) & CR0_NE), "core sees guest CR0 %#llx",
	      (unsigned long long)reg(t, VMM_REG_CR0));
	vmx_vcpu_load(vv);
	cr0 = vmcs_read(VMCS_GUEST_CR0);
	CHECK(ctx, (cr0 & vmx_cfg.caps.cr0_fixed0) == vmx_cfg.caps.cr0_fixed0,
	      "real CR0 %#llx lost a bit VMX fixes", (unsigned long long)cr0);
	if (vmx_cfg.caps.cr0_fixed0 & CR0_NE) {
		CHECK(ctx, vv->exits - exits >= 2, "%llu exits: the CR0 write did not exit",
		      (unsigned long long)(vv->exits - exits));
		CHECK(ctx, guest_exits(&t->g, VMM_EXIT_CR_WRITE) - cr_exits == 1,
		      "%llu CR-write exits counted by the core, expected 1 (the CR0 write)",
		      (unsigned long long)(guest_exits(&t->g, VMM_EXIT_CR_WRITE) - cr_exits));
	}
	skip_insn(t, &e);
	cr_exits = guest_exits(&t->g, VMM_EXIT_CR_WRITE);
	if (!run_via_core(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx, guest_exits(&t->g, VMM_EXIT_CR_WRITE) - cr_exits == 1,
	      "%llu CR-write exits counted by the core for the CR4.VMXE write, expected 1",
	      (unsigned long long)(guest_exits(&t->g, VMM_EXIT_CR_WRITE) - cr_exits));
	CHECK(ctx, reg(t, VMM_REG_RAX) == 13 && reg(t, VMM_REG_RBX) == 0,
	      "setting CR4.VMXE: handler %llu error %#llx, expected #GP(0)",
	      (unsigned long long)reg(t, VMM_REG_RAX), (unsigned long long)reg(t, VMM_REG_RBX));
	CHECK(ctx, !(reg(t, VMM_REG_CR4) & CR4_VMXE), "guest CR4 %#llx",
	      (unsigned long long)reg(t, VMM_REG_CR4));
}

/* An external interrupt injected while the guest has IF=1 reaches its IDT; with IF=0 the
 * injection is refused. */
SELFTEST_ORDER(vmx_inject_intr, "vmx", "inject-interrupt", 78)
{
	struct tguest *t = &st.other;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	if (!t->created) {
		st_skip(ctx, "the second guest was not created");
		return;
	}
	err = tg_reset(t, gpa_of(vmx_tg_intr));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (err)
		return;
	err = vmx_backend.inject_interrupt(&t->g.vcpu[0], TG_INTR_VECTOR);
	CHECK(ctx, err == -EBUSY, "injection with IF=0: %s", err_name(err));
	if (!run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx, reg(t, VMM_REG_RAX) == 5 && (reg(t, VMM_REG_RFLAGS) & RFLAGS_IF),
	      "rax %llu rflags %#llx", (unsigned long long)reg(t, VMM_REG_RAX),
	      (unsigned long long)reg(t, VMM_REG_RFLAGS));
	skip_insn(t, &e);
	err = vmx_backend.inject_interrupt(&t->g.vcpu[0], TG_INTR_VECTOR);
	CHECK(ctx, err == 0, "injection with IF=1: %s", err_name(err));
	if (err || !run_expect(ctx, t, VMM_EXIT_HYPERCALL, &e))
		return;
	CHECK(ctx,
	      reg(t, VMM_REG_RAX) == TG_INTR_VECTOR && e.rip == gpa_of(vmx_tg_intr_handler) + 5,
	      "rax %#llx at rip %#llx: the handler did not run",
	      (unsigned long long)reg(t, VMM_REG_RAX), (unsigned long long)e.rip);
	skip_insn(t, &e);
}

/* A VMX instruction in a guest is reported as such (the core answers #UD). */
SELFTEST_ORDER(vmx_virt_insn, "vmx", "guest-vmxon-reported", 79)
{
	struct tguest *t = &st.other;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	if (!t->created) {
		st_skip(ctx, "the second guest was not created");
		return;
	}
	err = tg_reset(t, gpa_of(vmx_tg_vmxon));
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (!err && run_expect(ctx, t, VMM_EXIT_VIRT_INSN, &e))
		CHECK(ctx, e.raw == VMX_EXIT_VMXON && e.rip == gpa_of(vmx_tg_vmxon),
		      "raw %#llx rip %#llx", (unsigned long long)e.raw, (unsigned long long)e.rip);
}

SELFTEST_ORDER(vmx_real_mode, "vmx", "unrestricted-real-mode-start", 80)
{
	struct tguest *t = &st.other;
	struct vmm_exit e;
	int err;

	if (!main_ready(ctx))
		return;
	if (!t->created) {
		st_skip(ctx, "the second guest was not created");
		return;
	}
	if (!vmx_cfg.unrestricted) {
		st_skip(ctx, "this CPU has no unrestricted guest");
		return;
	}
	err = vmx_backend.vcpu_reset(
		&t->g.vcpu[0],
		&(struct vcpu_boot_state){.mode = VCPU_BOOT_REAL, .cs = TG_REAL_CODE >> 4});
	CHECK(ctx, err == 0, "reset %s", err_name(err));
	if (!err && run_expect(ctx, t, VMM_EXIT_IO, &e)) {
		CHECK(ctx, e.io.port == 0x80 && (reg(t, VMM_REG_RAX) & 0xff) == 'R',
		      "port %#x al %#llx", e.io.port, (unsigned long long)reg(t, VMM_REG_RAX));
		CHECK(ctx, !(reg(t, VMM_REG_CR0) & CR0_PE), "CR0 %#llx in real mode",
		      (unsigned long long)reg(t, VMM_REG_CR0));
		CHECK(ctx, e.rip == 2, "ip %#llx", (unsigned long long)e.rip);
		skip_insn(t, &e);
		run_expect(ctx, t, VMM_EXIT_HLT, &e);
	}
}

SELFTEST_ORDER(vmx_cleanup, "vmx", "teardown", 81)
{
	u64 before;

	if (st.probe_err) {
		st_skip(ctx, "%s", st.why);
		return;
	}
	before = hv_pmm.free_bytes;
	tg_destroy(&st.other);
	tg_destroy(&st.main);
	CHECK(ctx, hv_pmm.free_bytes > before, "nothing returned to the allocator");
	CHECK(ctx, ((struct vmx_cpu *)this_cpu()->arch_virt)->current_vmcs == 0,
	      "a destroyed VMCS is still current");
}
