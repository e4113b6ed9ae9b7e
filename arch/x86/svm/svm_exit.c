/* #VMEXIT decoding into the core's normalized exits (APM Vol. 2, 15.6-15.9, appendix C). */
#define LOG_TAG "svm"
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/trap.h"
#include "vmm/vmm.h"

/* Instruction lengths when the CPU saves no next RIP (QEMU TCG offers no NRIP save). */
#define LEN_CPUID 2
#define LEN_HLT 1
#define LEN_VMMCALL 3
#define LEN_MSR 2
#define LEN_CACHE 2 /* INVD 0f 08, WBINVD 0f 09 */
#define LEN_XSETBV 3

static u32 svm_insn_len(const struct svm_vcpu *s, const struct vmm_exit *e)
{
	const struct vmcb_control *c = &s->vmcb->control;

	if (svm_feat.nrips && c->next_rip > e->rip && c->next_rip - e->rip <= 15)
		return (u32)(c->next_rip - e->rip);
	switch (e->reason) {
	case VMM_EXIT_IO:
		/* EXITINFO2 holds the RIP of the next instruction for IOIO. */
		return (u32)(c->exitinfo2 - e->rip);
	case VMM_EXIT_CPUID: return LEN_CPUID;
	case VMM_EXIT_HLT: return LEN_HLT;
	case VMM_EXIT_HYPERCALL: return LEN_VMMCALL;
	case VMM_EXIT_MSR_READ:
	case VMM_EXIT_MSR_WRITE: return LEN_MSR;
	case VMM_EXIT_XSETBV: return LEN_XSETBV;
	case VMM_EXIT_INSN:
		return e->insn == VMM_INSN_WBINVD || e->insn == VMM_INSN_INVD ? LEN_CACHE : 0;
	default: return 0;
	}
}

static void decode_io(struct vmm_exit *e, u64 info1)
{
	e->reason = VMM_EXIT_IO;
	e->io.port = (u16)FIELD_GET(SVM_IOIO_PORT, info1);
	e->io.in = info1 & SVM_IOIO_IN;
	e->io.string = info1 & SVM_IOIO_STR;
	e->io.rep = info1 & SVM_IOIO_REP;
	switch (FIELD_GET(SVM_IOIO_SIZE, info1)) {
	case 1: e->io.size = 1; break;
	case 2: e->io.size = 2; break;
	default: e->io.size = 4; break;
	}
}

static void decode_npf(struct vmm_exit *e, u64 info1, u64 gpa)
{
	e->reason = VMM_EXIT_NPF;
	e->npf.gpa = gpa;
	e->npf.access = info1 & SVM_NPF_ID   ? VMM_NPF_EXEC
			: info1 & SVM_NPF_RW ? VMM_NPF_WRITE
					     : VMM_NPF_READ;
	if (info1 & SVM_NPF_P)
		e->npf.access |= VMM_NPF_PRESENT;
	if (info1 & SVM_NPF_WALK)
		e->npf.access |= VMM_NPF_WALK;
}

static void set_insn(struct vmm_exit *e, enum vmm_insn insn)
{
	e->reason = VMM_EXIT_INSN;
	e->insn = insn;
}

static __noinline void report_invalid(const struct svm_vcpu *s)
{
	char why[240];
	u64 phys_mask = GENMASK(cpu_phys_addr_bits() - 1, 0);

	if (svm_entry_problems(&s->entry, phys_mask, why, sizeof(why)))
		pr_info("VMRUN refused the VMCB (VMEXIT_INVALID); failing checks: %s\n", why);
	else
		pr_info("VMRUN refused the VMCB (VMEXIT_INVALID); EFER %#llx CR0 %#llx CR3 %#llx "
			"CR4 %#llx pass the checks moat knows\n",
			(unsigned long long)s->entry.efer, (unsigned long long)s->entry.cr0,
			(unsigned long long)s->entry.cr3, (unsigned long long)s->entry.cr4);
}

/* moat intercepts no CR write on SVM (the VMCB's own checks guard CR0/CR4); one that
 * arrives takes the core's path all the same. Without decode assists the register is
 * unknown: unhandled. */
static void decode_cr_write(struct vmm_exit *e, unsigned cr, u64 info1)
{
	if (!(info1 & SVM_CR_INFO_MOV)) {
		e->reason = VMM_EXIT_UNHANDLED;
		return;
	}
	e->reason = VMM_EXIT_CR_WRITE;
	e->cr.nr = (u8)cr;
	e->cr.gpr = (u8)FIELD_GET(SVM_CR_INFO_GPR, info1);
}

void svm_decode_exit(struct vcpu *v, struct svm_vcpu *s, struct vmm_exit *e)
{
	const struct vmcb *vmcb = s->vmcb;
	u64 code = vmcb->control.exitcode, info1 = vmcb->control.exitinfo1;
	u64 info2 = vmcb->control.exitinfo2;

	e->reason = VMM_EXIT_NONE;
	e->insn_len = 0;
	e->raw = code;
	e->info1 = info1;
	e->info2 = info2;
	e->rip = vmcb->save.rip;
	e->words[0] = e->words[1] = 0;
	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = VMM_EXIT_INVALID;
		report_invalid(s);
		return;
	}
	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = VMM_EXIT_CPUID;
		e->cpuid.leaf = (u32)s->gpr[VMM_REG_RAX];
		e->cpuid.subleaf = (u32)s->gpr[VMM_REG_RCX];
		break;
	case SVM_EXIT_IOIO: decode_io(e, info1); break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? VMM_EXIT_MSR_WRITE : VMM_EXIT_MSR_READ;
		e->msr.index = (u32)s->gpr[VMM_REG_RCX];
		e->msr.value = ((s->gpr[VMM_REG_RDX] & 0xffffffff) << 32) |
			       (s->gpr[VMM_REG_RAX] & 0xffffffff);
		break;
	case SVM_EXIT_HLT: e->reason = VMM_EXIT_HLT; break;
	case SVM_EXIT_VMMCALL: e->reason = VMM_EXIT_HYPERCALL; break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA: e->reason = VMM_EXIT_VIRT_INSN; break;
	case SVM_EXIT_WBINVD: set_insn(e, VMM_INSN_WBINVD); break;
	case SVM_EXIT_INVD: set_insn(e, VMM_INSN_INVD); break;
	case SVM_EXIT_MONITOR: set_insn(e, VMM_INSN_MONITOR); break;
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND: set_insn(e, VMM_INSN_MWAIT); break;
	case SVM_EXIT_RDPMC: set_insn(e, VMM_INSN_RDPMC); break;
	case SVM_EXIT_RDTSCP: set_insn(e, VMM_INSN_RDTSCP); break;
	case SVM_EXIT_NPF: decode_npf(e, info1, info2); break;
	/* An intercepted SMI stays pending and is taken once the host runs with GIF set (APM
	 * Vol. 2 15.13.3): firmware's business, like a host interrupt, not the guest's fault. */
	case SVM_EXIT_INTR:
	case SVM_EXIT_SMI: e->reason = VMM_EXIT_EXT_INTR; break;
	case SVM_EXIT_NMI: e->reason = VMM_EXIT_NMI; break;
	case SVM_EXIT_VINTR: e->reason = VMM_EXIT_IRQ_WINDOW; break;
	case SVM_EXIT_XSETBV: e->reason = VMM_EXIT_XSETBV; break;
	/* the end of an injected NMI's handler: the backend's own (svm_run) */
	case SVM_EXIT_IRET: e->reason = VMM_EXIT_NONE; break;
	case SVM_EXIT_SHUTDOWN: e->reason = VMM_EXIT_SHUTDOWN; break;
	default:
		if (code >= SVM_EXIT_CR0_WRITE && code < SVM_EXIT_CR0_WRITE + 16) {
			decode_cr_write(e, (unsigned)(code - SVM_EXIT_CR0_WRITE), info1);
		} else if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = VMM_EXIT_EXCEPTION;
			e->exc.vector = (u8)(code - SVM_EXIT_EXCP_BASE);
			e->exc.has_error = VEC_HAS_ERROR_CODE & BIT(e->exc.vector);
			e->exc.error = e->exc.has_error ? (u32)info1 : 0;
			e->exc.cr2 = info2;
		} else {
			e->reason = VMM_EXIT_UNHANDLED;
		}
		break;
	}
	e->insn_len = svm_insn_len(s, e);
	(void)v;
}
