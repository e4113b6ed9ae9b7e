/* VMCB, I/O permission map and MSR permission map set-up (APM Vol. 2, 15.10-15.11). Pure
 * data: host unit tests link this file. */
#include <moat/string.h>
#include "arch/x86/svm/vmcb.h"

/* MSRPM: two bits per MSR (read, write) for three 8 KiB-bit ranges. */
static long msrpm_bit(u32 msr)
{
	if (msr <= 0x1fff)
		return (long)msr * 2;
	if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		return 0x800 * 8 + (long)(msr - 0xc0000000) * 2;
	if (msr >= 0xc0010000 && msr <= 0xc0011fff)
		return 0x1000 * 8 + (long)(msr - 0xc0010000) * 2;
	return -1; /* outside the map: always intercepted */
}

void svm_msrpm_set(u8 *msrpm, u32 msr, bool read, bool write)
{
	long bit = msrpm_bit(msr);

	if (bit < 0)
		return;
	msrpm[bit / 8] = (u8)((msrpm[bit / 8] & ~(3u << (bit % 8))) |
			      ((read ? 1u : 0u) << (bit % 8)) | ((write ? 2u : 0u) << (bit % 8)));
}

bool svm_msrpm_get(const u8 *msrpm, u32 msr, bool write)
{
	long bit = msrpm_bit(msr);

	if (bit < 0)
		return true;
	return msrpm[bit / 8] & (1u << (bit % 8 + (write ? 1 : 0)));
}

void svm_iopm_set(u8 *iopm, u16 port, bool intercept)
{
	if (intercept)
		iopm[port / 8] |= (u8)(1u << (port % 8));
	else
		iopm[port / 8] &= (u8)~(1u << (port % 8));
}

void svm_vmcb_init(struct vmcb *vmcb, u64 iopm_pa, u64 msrpm_pa, u32 asid, u64 ncr3)
{
	struct vmcb_control *c = &vmcb->control;

	memset(vmcb, 0, sizeof(*vmcb));
	/* No guest exception is intercepted: the guest handles its own. */
	c->exceptions = 0;
	c->intercept3 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
			SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH | SVM_INTERCEPT_SHUTDOWN;
	/* VMRUN must be intercepted (APM 15.5.1 consistency checks); the other SVM
	 * instructions would let the guest reach host state. */
	c->intercept4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_ICEBP | SVM_INTERCEPT_XSETBV;
	c->iopm_pa = iopm_pa;
	c->msrpm_pa = msrpm_pa;
	c->asid = asid;
	c->tlb_control = SVM_TLB_FLUSH_ALL;
	c->vintr = SVM_VINTR_MASKING;
	c->np_control = SVM_NP_ENABLE;
	c->ncr3 = ncr3;
	/* Power-on PAT: WB, WT, UC-, UC repeated. */
	vmcb->save.g_pat = 0x0007040600070406ULL;
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	vmcb->save.rflags = 2;
}
