/* VM exits decoded into the core's normalized reasons (SDM Vol. 3C 28.2, Appendix C). */
#include <moat/string.h>
#include "arch/x86/trap.h"
#include "arch/x86/vmx/vmx_decode.h"
#include "arch/x86/vmx/vmx_regs.h"

/* Size of access (SDM Vol. 3C 28.2.1, exit qualification for I/O instructions): 0, 1 and 3
 * for 1, 2 and 4 bytes; 2 is not used, and is taken as 4 like SVM's decoder does, so the
 * core never sees a 3-byte access. */
static u8 io_size(u64 qual)
{
	switch (FIELD_GET(IO_QUAL_SIZE, qual)) {
	case 0: return 1;
	case 1: return 2;
	default: return 4;
	}
}

static void decode_io(u64 qual, struct vmm_exit *e)
{
	e->reason = VMM_EXIT_IO;
	e->io.port = (u16)FIELD_GET(IO_QUAL_PORT, qual);
	e->io.size = io_size(qual);
	e->io.in = qual & IO_QUAL_IN;
	e->io.string = qual & IO_QUAL_STRING;
	e->io.rep = qual & IO_QUAL_REP;
}

static void decode_ept_violation(const struct vmx_exit_info *x, struct vmm_exit *e)
{
	u64 qual = x->qual;
	u32 a = 0;

	if (qual & EPT_QUAL_READ)
		a |= VMM_NPF_READ;
	if (qual & EPT_QUAL_WRITE)
		a |= VMM_NPF_WRITE;
	if (qual & EPT_QUAL_FETCH)
		a |= VMM_NPF_EXEC;
	if (qual & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE))
		a |= VMM_NPF_PRESENT;
	if ((qual & EPT_QUAL_GLA_VALID) && !(qual & EPT_QUAL_GLA_FINAL))
		a |= VMM_NPF_WALK;
	e->reason = VMM_EXIT_NPF;
	e->npf.gpa = x->gpa;
	e->npf.access = a;
	e->info2 = x->gpa;
}

static void decode_exception(const struct vmx_exit_info *x, struct vmm_exit *e)
{
	u32 info = x->intr_info;

	e->info2 = info;
	if (FIELD_GET(INTR_INFO_TYPE, info) == INTR_TYPE_NMI) {
		e->reason = VMM_EXIT_NMI;
		return;
	}
	e->reason = VMM_EXIT_EXCEPTION;
	e->exc.vector = (u8)FIELD_GET(INTR_INFO_VECTOR, info);
	e->exc.has_error = info & INTR_INFO_HAS_ERROR;
	e->exc.error = e->exc.has_error ? x->intr_error : 0;
	/* 28.2.1: the qualification of a #PF exit is the faulting linear address */
	e->exc.cr2 = e->exc.vector == VEC_PF ? x->qual : 0;
}

static void decode_msr(u32 basic, const u64 *r, struct vmm_exit *e)
{
	e->reason = basic == VMX_EXIT_RDMSR ? VMM_EXIT_MSR_READ : VMM_EXIT_MSR_WRITE;
	e->msr.index = (u32)r[VMM_REG_RCX];
	e->msr.value = ((u64)(u32)r[VMM_REG_RDX] << 32) | (u32)r[VMM_REG_RAX];
}

static void set_insn(struct vmm_exit *e, enum vmm_insn insn)
{
	e->reason = VMM_EXIT_INSN;
	e->insn = insn;
}

/* Only MOV to CR0/CR4 exits (the guest/host masks cover VMX's fixed bits); MOV from a CR,
 * CLTS and LMSW stay unhandled. */
static void decode_cr_access(u64 qual, struct vmm_exit *e)
{
	unsigned cr = (unsigned)FIELD_GET(CR_QUAL_NR, qual);

	if (FIELD_GET(CR_QUAL_TYPE, qual) != CR_TYPE_MOV_TO || (cr != 0 && cr != 4)) {
		e->reason = VMM_EXIT_UNHANDLED;
		return;
	}
	e->reason = VMM_EXIT_CR_WRITE;
	e->cr.nr = (u8)cr;
	e->cr.gpr = (u8)FIELD_GET(CR_QUAL_GPR, qual);
}

void vmx_exit_decode(const struct vmx_exit_info *x, const u64 *r, struct vmm_exit *e)
{
	u32 basic = (u32)FIELD_GET(EXIT_REASON_BASIC, x->reason);

	e->reason = VMM_EXIT_NONE;
	e->insn_len = x->insn_len;
	e->raw = x->reason;
	e->info1 = x->qual;
	e->info2 = 0;
	e->rip = x->rip;
	e->words[0] = e->words[1] = 0;
	if (x->reason & EXIT_REASON_ENTRY_FAIL) {
		e->reason = VMM_EXIT_INVALID;
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI: decode_exception(x, e); break;
	case VMX_EXIT_EXT_INTR: e->reason = VMM_EXIT_EXT_INTR; break;
	case VMX_EXIT_TRIPLE_FAULT: e->reason = VMM_EXIT_SHUTDOWN; break;
	case VMX_EXIT_CPUID:
		e->reason = VMM_EXIT_CPUID;
		e->cpuid.leaf = (u32)r[VMM_REG_RAX];
		e->cpuid.subleaf = (u32)r[VMM_REG_RCX];
		break;
	case VMX_EXIT_HLT: e->reason = VMM_EXIT_HLT; break;
	case VMX_EXIT_CR_ACCESS: decode_cr_access(x->qual, e); break;
	case VMX_EXIT_VMCALL: e->reason = VMM_EXIT_HYPERCALL; break;
	case VMX_EXIT_IO: decode_io(x->qual, e); break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR: decode_msr(basic, r, e); break;
	case VMX_EXIT_WBINVD: set_insn(e, VMM_INSN_WBINVD); break;
	case VMX_EXIT_INVD: set_insn(e, VMM_INSN_INVD); break;
	case VMX_EXIT_MONITOR: set_insn(e, VMM_INSN_MONITOR); break;
	case VMX_EXIT_MWAIT: set_insn(e, VMM_INSN_MWAIT); break;
	case VMX_EXIT_RDPMC: set_insn(e, VMM_INSN_RDPMC); break;
	case VMX_EXIT_RDTSCP: set_insn(e, VMM_INSN_RDTSCP); break;
	case VMX_EXIT_EPT_VIOLATION: decode_ept_violation(x, e); break;
	/* the backend tells the watchdog from the deadline (vmx_backend.c) */
	case VMX_EXIT_PREEMPT_TIMER: e->reason = VMM_EXIT_WATCHDOG; break;
	case VMX_EXIT_INTR_WINDOW: e->reason = VMM_EXIT_IRQ_WINDOW; break;
	case VMX_EXIT_XSETBV: e->reason = VMM_EXIT_XSETBV; break;
	case VMX_EXIT_VMCLEAR:
	case VMX_EXIT_VMLAUNCH:
	case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST:
	case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE:
	case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC: e->reason = VMM_EXIT_VIRT_INSN; break;
	case VMX_EXIT_EPT_MISCONFIG:
		/* moat's own tables are wrong, not the guest: reported with the GPA */
		e->info2 = x->gpa;
		e->reason = VMM_EXIT_UNHANDLED;
		break;
	default: e->reason = VMM_EXIT_UNHANDLED; break;
	}
}
