/* The exit dispatch: one switch over the normalized reasons, counted per guest. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/hypercall.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/xcr0.h"
#include "vmm/cpuid.h"
#include "vmm/exits.h"
#include "vmm/mmio.h"
#include "vmm/msix.h"
#include "vmm/reg_rules.h"

const char *vmm_exit_name(enum vmm_exit_reason r)
{
	static const char *const names[VMM_EXIT_NR] = {
		"none",	      "cpuid",	 "io",	      "msr-read",  "msr-write", "hlt",
		"hypercall",  "npf",	 "ext-intr",  "nmi",	   "exception", "shutdown",
		"watchdog",   "invalid", "unhandled", "virt-insn", "cr-write",	"insn",
		"irq-window", "timer",	 "xsetbv",
	};

	return (unsigned)r < VMM_EXIT_NR ? names[r] : "?";
}

const char *vmm_reg_name(enum vmm_reg r)
{
	static const char *const names[VMM_REG_NR] = {
		"rax", "rcx",	 "rdx", "rbx", "rsp", "rbp", "rsi",  "rdi",
		"r8",  "r9",	 "r10", "r11", "r12", "r13", "r14",  "r15",
		"rip", "rflags", "cr0", "cr2", "cr3", "cr4", "efer", "pat",
	};

	return (unsigned)r < VMM_REG_NR ? names[r] : "?";
}

bool guest_end(struct guest *g, enum guest_state how)
{
	enum guest_state s = __atomic_load_n(&g->state, __ATOMIC_ACQUIRE);

	while (s == GUEST_CREATED || s == GUEST_RUNNING)
		if (__atomic_compare_exchange_n(&g->state, &s, how, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	return false;
}

int guest_stop(struct guest *g, enum vmm_exit_reason why, const char *fmt, ...)
{
	va_list ap;

	/* Another vCPU ended the guest first: its reason stands. */
	if (!guest_end(g, GUEST_STOPPED))
		return -EFAULT;
	va_start(ap, fmt);
	vsnprintf(g->stop_reason, sizeof(g->stop_reason), fmt, ap);
	va_end(ap);
	g->stop_exit = why;
	vmm_console_flush(g);
	pr_info("guest %s stopped: %s\n", g->cfg.name, g->stop_reason);
	return -EFAULT;
}

static void dump_guest(struct vcpu *v, const struct vmm_exit *e)
{
	u64 r[VMM_REG_NR];

	for (unsigned i = 0; i < VMM_REG_NR; i++)
		r[i] = vmm_be->get_reg(v, (enum vmm_reg)i);
	pr_info("guest %s: exit %s (raw %#llx) info1 %#llx info2 %#llx rip %#llx\n",
		v->guest->cfg.name, vmm_exit_name(e->reason), (unsigned long long)e->raw,
		(unsigned long long)e->info1, (unsigned long long)e->info2,
		(unsigned long long)e->rip);
	for (unsigned i = 0; i < VMM_REG_NR; i += 4) {
		char line[128];
		int n = 0;

		for (unsigned j = i; j < i + 4 && j < VMM_REG_NR; j++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %-6s %016llx",
				      vmm_reg_name(j), (unsigned long long)r[j]);
		pr_info(" %s\n", line);
	}
	if (vmm_be->dump)
		vmm_be->dump(v);
}

static struct cpuid_regs host_cpuid(u32 leaf, u32 subleaf)
{
	return cpuid(leaf, subleaf);
}

void vcpu_cpuid_init(struct vcpu *v)
{
	struct guest *g = v->guest;

	v->cpuid = (struct cpuid_ctx){
		.vcpu_index = v->index,
		.nr_vcpus = g->nr_vcpus,
		.host_apic_id = !guest_is_os(g),
		.guest_id = g->id,
		.cpu = v->cpu,
		.hc_insn = vmm_caps.hypercall_insn,
		.tsc_hz = tsc_hz(),
		.features = vmm_caps.guest_features | (guest_is_os(g) ? VMM_VLAPIC_FEATURES : 0),
		.host = host_cpuid,
	};
	vmm_cpuid_prepare(&v->cpuid);
}

/* CR4.OSXSAVE shows in leaf 1 only: read for it alone. */
static void cpuid_osxsave(struct vcpu *v, u32 leaf)
{
	if (leaf == CPUID_LEAF_FEATURES && (v->cpuid.features & VMM_GUEST_XSAVE))
		v->cpuid.osxsave = vmm_be->get_reg(v, VMM_REG_CR4) & CR4_OSXSAVE;
}

/* CPUID as vCPU v sees it. */
static struct cpuid_regs guest_cpuid(struct vcpu *v, u32 leaf, u32 subleaf)
{
	cpuid_osxsave(v, leaf);
	return vmm_cpuid(&v->cpuid, leaf, subleaf);
}

static __noinline int handle_cpuid(struct vcpu *v, const struct vmm_exit *e)
{
	cpuid_osxsave(v, e->cpuid.leaf);
	if (!vmm_cpuid_gprs_ready(&v->cpuid, e->cpuid.leaf, v->gpr))
		vmm_cpuid_gprs(&v->cpuid, e->cpuid.leaf, e->cpuid.subleaf, v->gpr);
	vmm_be->skip_instruction(v, e);
	return 0;
}

static int handle_npf(struct vcpu *v, const struct vmm_exit *e)
{
	u64 now = rdtsc();
	struct guest *g = v->guest;
	u32 a = e->npf.access;
	int err = vmm_mmio_npf(v, e);

	if (err != -ENOENT)
		return err;

	TEST_HOOK(guest_npf, g, e->npf.gpa, now);
	g->stop_gpa = e->npf.gpa;
	return guest_stop(g, VMM_EXIT_NPF,
			  "nested page fault at GPA %#llx (%s%s%s) rip %#llx: outside its RAM "
			  "[0, %#llx) and devices",
			  (unsigned long long)e->npf.gpa,
			  a & VMM_NPF_EXEC    ? "exec"
			  : a & VMM_NPF_WRITE ? "write"
					      : "read",
			  a & VMM_NPF_PRESENT ? ", mapped" : "",
			  a & VMM_NPF_WALK ? ", guest page walk" : "", (unsigned long long)e->rip,
			  (unsigned long long)g->ram_size);
}

/* #DB and #AC are intercepted only so that each one is an exit (a host instruction boundary);
 * the guest gets it back as if nothing had intercepted it. One that interrupted the delivery of
 * another event is dropped in favour of redelivering that event, which raises it again if it
 * still applies. */
static int reflect_exception(struct vcpu *v, const struct vmm_exit *e)
{
	int err = vmm_be->inject_exception(v, e->exc.vector, e->exc.has_error, e->exc.error);

	return err == -EBUSY ? 0 : err;
}

/* Instructions that reach the host or its power states, answered by policy (docs/vmm.md,
 * "what a guest cannot do"). WBINVD and INVD are NOPs: guest memory is write-back and
 * device DMA snooped, so no flush is owed to anyone, and INVD would drop the host's own
 * dirty lines. MONITOR/MWAIT are not offered (#UD): a deep C-state can stop the timer the
 * watchdog rests on. RDTSCP is not offered (#UD): it reads TSC_AUX. RDPMC gets #GP as on a
 * CPU without counters: none are offered, and the host's would leak. */
static int handle_insn(struct vcpu *v, const struct vmm_exit *e)
{
	switch (e->insn) {
	case VMM_INSN_WBINVD:
	case VMM_INSN_INVD: vmm_be->skip_instruction(v, e); return 0;
	case VMM_INSN_RDPMC: return vmm_be->inject_exception(v, VEC_GP, true, 0);
	case VMM_INSN_MONITOR:
	case VMM_INSN_MWAIT:
	case VMM_INSN_RDTSCP:
	default: return vmm_be->inject_exception(v, VEC_UD, false, 0);
	}
}

static int stop_unhandled(struct vcpu *v, const struct vmm_exit *e)
{
	dump_guest(v, e);
	return guest_stop(v->guest, e->reason, "unhandled exit %s (raw %#llx)",
			  vmm_exit_name(e->reason), (unsigned long long)e->raw);
}

/* MOV to a control register whose bits the backend owns (VMX's fixed CR0/CR4 bits): the
 * backend applies it as the architecture defines it for the guest, or it faults. */
static int handle_cr_write(struct vcpu *v, const struct vmm_exit *e)
{
	u64 val = vmm_be->get_reg(v, (enum vmm_reg)e->cr.gpr);
	int r = vmm_be->write_cr ? vmm_be->write_cr(v, e->cr.nr, val) : -ENOTSUP;

	if (r == VMM_CR_FAULT)
		return vmm_be->inject_exception(v, VEC_GP, true, 0);
	if (r < 0)
		return stop_unhandled(v, e);
	vmm_be->skip_instruction(v, e);
	return 0;
}

/* XSETBV (both backends exit on it): checked against the architecture, the components
 * the guest's CPUID leaf 0Dh offers it and what this CPU supports, then applied to the
 * CPU's XCR0, which is the guest's while it runs (see arch/x86/xcr0.h). */
static int handle_xsetbv(struct vcpu *v, const struct vmm_exit *e)
{
	u32 index = (u32)vmm_be->get_reg(v, VMM_REG_RCX);
	u64 val = ((vmm_be->get_reg(v, VMM_REG_RDX) & 0xffffffff) << 32) |
		  (vmm_be->get_reg(v, VMM_REG_RAX) & 0xffffffff);
	struct cpuid_regs offered;

	if (!(vmm_be->get_reg(v, VMM_REG_CR4) & CR4_OSXSAVE))
		return vmm_be->inject_exception(v, VEC_UD, false, 0);
	offered = guest_cpuid(v, CPUID_LEAF_XSAVE, 0);
	if (vmm_be->get_cpl(v) != 0 ||
	    vmm_xcr0_check(index, val,
			   xcr0_supported() & (((u64)offered.edx << 32) | offered.eax))) {
		pr_debug("guest %s: XSETBV %u = %#llx refused (#GP)\n", v->guest->cfg.name, index,
			 (unsigned long long)val);
		return vmm_be->inject_exception(v, VEC_GP, true, 0);
	}
	xcr0_write(val);
	vmm_be->skip_instruction(v, e);
	return 0;
}

/* Only a device interrupt can wake a halted guest. */
static int handle_hlt(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;

	if (virq_halt(v, e) != -ENOENT)
		return g->state == GUEST_RUNNING ? 0 : -EFAULT;
	return guest_stop(g, VMM_EXIT_HLT, "halted with no interrupt source (rip %#llx)",
			  (unsigned long long)e->rip);
}

/* The exits every guest does not take all the time. */
static __noinline int handle_other(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;

	switch (e->reason) {
	case VMM_EXIT_HLT: return handle_hlt(v, e);
	case VMM_EXIT_VIRT_INSN:
		/* Virtualization is hidden from guests: as on a CPU without it, #UD. */
		return vmm_be->inject_exception(v, VEC_UD, false, 0);
	case VMM_EXIT_INSN: return handle_insn(v, e);
	case VMM_EXIT_NPF: return handle_npf(v, e);
	case VMM_EXIT_CR_WRITE: return handle_cr_write(v, e);
	case VMM_EXIT_XSETBV: return handle_xsetbv(v, e);
	case VMM_EXIT_SHUTDOWN:
		dump_guest(v, e);
		return guest_stop(g, VMM_EXIT_SHUTDOWN, "shutdown (triple fault) at rip %#llx",
				  (unsigned long long)e->rip);
	case VMM_EXIT_WATCHDOG:
		dump_guest(v, e);
		return guest_stop(
			g, VMM_EXIT_WATCHDOG, "watchdog: ran %llu ms without an exit (rip %#llx)",
			(unsigned long long)(g->watchdog_us / 1000), (unsigned long long)e->rip);
	case VMM_EXIT_INVALID:
		dump_guest(v, e);
		return guest_stop(g, VMM_EXIT_INVALID, "the CPU refused to enter the guest");
	case VMM_EXIT_EXCEPTION:
		if (e->exc.vector == VEC_DB || e->exc.vector == VEC_AC)
			return reflect_exception(v, e);
		return stop_unhandled(v, e);
	case VMM_EXIT_UNHANDLED:
	default: return stop_unhandled(v, e);
	}
}

/* The frequent exits go straight to their handlers (tail calls: no frame here). */
int vmm_handle_exit(struct vcpu *v, const struct vmm_exit *e)
{
	v->exits[e->reason < VMM_EXIT_NR ? e->reason : VMM_EXIT_UNHANDLED]++;
	switch (e->reason) {
	case VMM_EXIT_CPUID: return handle_cpuid(v, e);
	case VMM_EXIT_IO: return vmm_handle_io(v, e);
	case VMM_EXIT_MSR_READ:
	case VMM_EXIT_MSR_WRITE: return vmm_handle_msr(v, e);
	case VMM_EXIT_HYPERCALL: return vmm_handle_hypercall(v, e);
	case VMM_EXIT_EXT_INTR:
	case VMM_EXIT_NMI:
		/* Delivered to the hypervisor by the backend; the guest simply goes on. */
		return 0;
	case VMM_EXIT_IRQ_WINDOW:
	case VMM_EXIT_TIMER:
		/* The run loop injects what is pending before the next entry. */
		return 0;
	default: return handle_other(v, e);
	}
}
