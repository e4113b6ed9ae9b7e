/* VMCB, I/O permission map and MSR permission map set-up (APM Vol. 2, 15.10-15.11). Pure
 * data: host unit tests link this file. */
#include <moat/string.h>
#include <moat/x86_regs.h>
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
		iopm[port / 8] &= (u8) ~(1u << (port % 8));
}

void svm_vmcb_init(struct vmcb *vmcb, u64 iopm_pa, u64 msrpm_pa, u32 asid, u64 ncr3)
{
	struct vmcb_control *c = &vmcb->control;

	memset(vmcb, 0, sizeof(*vmcb));
	/* #DB and #AC are intercepted and reflected into the guest: a #DB or #AC raised while
	 * delivering itself (CVE-2015-8104, CVE-2015-5307) would otherwise loop inside the
	 * CPU with no instruction boundary, so no host interrupt and no watchdog. The guest
	 * handles every other exception itself. */
	c->exceptions = SVM_EXCP_INTERCEPTS;
	/* RDPMC would read the host's performance counters, INVD would drop the host's dirty
	 * cache lines: the core answers both (#GP, a NOP), as it does WBINVD, MONITOR/MWAIT
	 * (#UD: not offered, a deep C-state would stop the watchdog's timer) and RDTSCP (#UD:
	 * not offered, it reads TSC_AUX). */
	c->intercept3 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			SVM_INTERCEPT_INIT | SVM_INTERCEPT_RDPMC | SVM_INTERCEPT_CPUID |
			SVM_INTERCEPT_INVD | SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA |
			SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH |
			SVM_INTERCEPT_SHUTDOWN;
	/* VMRUN must be intercepted (APM 15.5.1 consistency checks); the other SVM
	 * instructions would let the guest reach host state. ICEBP is left to the guest (its
	 * #DB, as under VMX): it runs at any CPL, and an exit for it would stop the guest. */
	c->intercept4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_XSETBV | SVM_INTERCEPT_RDTSCP |
			SVM_INTERCEPT_WBINVD | SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
			SVM_INTERCEPT_MWAIT_COND;
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

void svm_entry_capture(const struct vmcb *vmcb, struct svm_entry_state *st)
{
	st->efer = vmcb->save.efer;
	st->cr0 = vmcb->save.cr0;
	st->cr3 = vmcb->save.cr3;
	st->cr4 = vmcb->save.cr4;
	st->dr6 = vmcb->save.dr6;
	st->dr7 = vmcb->save.dr7;
	st->ncr3 = vmcb->control.ncr3;
	st->eventinj = vmcb->control.eventinj;
	st->intercept4 = vmcb->control.intercept4;
	st->asid = vmcb->control.asid;
	st->cs_attrib = vmcb->save.cs.attrib;
}

/* EFER and CR4 bits the VMRUN checks require to be zero (APM Vol. 2 15.5.1). */
#define EFER_MBZ GENMASK(63, 16)
#define CR4_MBZ GENMASK(63, 23)

unsigned svm_entry_problems(const struct svm_entry_state *st, u64 phys_mask, char *buf, size_t size)
{
	bool long_paging = (st->efer & EFER_LME) && (st->cr0 & CR0_PG);
	unsigned n = 0;
	size_t len = 0;

	buf[0] = 0;
#define PROBLEM(cond, text)                                                                        \
	do {                                                                                       \
		if (cond) {                                                                        \
			n++;                                                                       \
			if (len < size)                                                            \
				len += (size_t)snprintf(buf + len, size - len, "%s%s",             \
							len ? " " : "", text);                     \
		}                                                                                  \
	} while (0)
	PROBLEM(!(st->efer & EFER_SVME), "EFER.SVME=0");
	PROBLEM(st->efer & EFER_MBZ, "EFER reserved bits");
	PROBLEM((st->cr0 & CR0_NW) && !(st->cr0 & CR0_CD), "CR0.NW without CR0.CD");
	PROBLEM(st->cr0 & CR0_RESERVED, "CR0[63:32]");
	PROBLEM(st->cr3 & ~phys_mask & ~GENMASK(11, 0), "CR3 reserved bits");
	PROBLEM(st->cr4 & CR4_MBZ, "CR4 reserved bits");
	PROBLEM(st->dr6 >> 32 || st->dr7 >> 32, "DR6/DR7[63:32]");
	PROBLEM(long_paging && !(st->cr4 & CR4_PAE), "long mode without CR4.PAE");
	PROBLEM(long_paging && !(st->cr0 & CR0_PE), "long mode without CR0.PE");
	PROBLEM(long_paging && (st->cs_attrib & SVM_SEG_L) && (st->cs_attrib & SVM_SEG_DB),
		"CS.L and CS.D");
	PROBLEM(!(st->intercept4 & SVM_INTERCEPT_VMRUN), "VMRUN not intercepted");
	PROBLEM(st->asid == 0, "ASID 0");
	PROBLEM(st->ncr3 & ~phys_mask & ~GENMASK(11, 0), "nested CR3 beyond the physical width");
	PROBLEM((st->eventinj & SVM_EVT_VALID) &&
			FIELD_GET(SVM_EVT_TYPE, st->eventinj) == SVM_EVT_TYPE_EXCEPTION &&
			FIELD_GET(SVM_EVT_VECTOR, st->eventinj) == 2,
		"event injection of vector 2 as an exception");
#undef PROBLEM
	return n;
}
