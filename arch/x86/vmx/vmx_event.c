/* Event injection decisions of the VMX backend. Pure: the host unit tests link this file. */
#include <moat/bits.h>
#include <moat/errno.h>
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_regs.h"

/* 27.2.4: the IDT-vectoring information has the format of the VM-entry interruption
 * information; bit 12 is undefined there and must be 0 on entry. */
u32 vmx_redeliver_info(u32 idt_vec_info)
{
	if (!(idt_vec_info & INTR_INFO_VALID))
		return 0;
	return idt_vec_info & ~(u32)INTR_INFO_NMI_UNBLOCK;
}

int vmx_event_check(u32 entry_info, bool interrupt, u64 rflags, u32 interruptibility)
{
	if (entry_info & INTR_INFO_VALID)
		return -EBUSY;
	/* 26.3.1.4: an external interrupt is injectable only while the guest accepts it */
	if (interrupt &&
	    (!(rflags & RFLAGS_IF) || (interruptibility & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))))
		return -EBUSY;
	return 0;
}

int vmx_nmi_check(u32 entry_info, u32 interruptibility)
{
	if (entry_info & INTR_INFO_VALID)
		return -EBUSY;
	if (interruptibility & (INTR_BLOCK_NMI | INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))
		return -EBUSY;
	return 0;
}

bool vmx_nmi_unblocked_by_iret(u32 basic_reason, u32 intr_info, u64 qual, u32 idt_vec_info)
{
	if (idt_vec_info & INTR_INFO_VALID)
		return false;
	if (basic_reason == VMX_EXIT_EXCEPTION_NMI)
		return (intr_info & INTR_INFO_VALID) && (intr_info & INTR_INFO_NMI_UNBLOCK);
	if (basic_reason == VMX_EXIT_EPT_VIOLATION)
		return qual & EPT_QUAL_NMI_UNBLOCK;
	return false;
}

void vmx_db_reflect(const struct vmx_db_exit *x, struct vmx_db_event *ev)
{
	u64 bits = x->qual & (DB_QUAL_B | DB_QUAL_BD | DB_QUAL_BS);

	ev->dr6 = x->dr6;
	ev->pending_dbg = x->pending_dbg;
	ev->set_rf = false;
	ev->insn_len = 0;
	/* ICEBP (INT1) exits as a privileged software exception before it executes: given back
	 * as one, with its length, so that the guest sees the #DB after it (26.6.1.1). It
	 * reports no DR6 bits. */
	if (FIELD_GET(INTR_INFO_TYPE, x->intr_info) == INTR_TYPE_PRIV_SW_EXC) {
		ev->entry_info = FIELD_PREP(INTR_INFO_VECTOR, VEC_DB) | INTR_INFO_VALID |
				 FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_PRIV_SW_EXC);
		ev->insn_len = x->insn_len;
		return;
	}
	ev->entry_info = FIELD_PREP(INTR_INFO_VECTOR, VEC_DB) | INTR_INFO_VALID |
			 FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC);
	/* 27.1: an intercepted #DB leaves DR6 alone and reports its bits in the qualification;
	 * the breakpoint conditions are replaced, BD and BS accumulate as the CPU does. */
	ev->dr6 = (x->dr6 & ~(u64)DR6_B_ALL) | bits;
	ev->set_rf = db_is_insn_breakpoint(bits, x->dr7);
	/* 26.3.1.5: with STI or MOV SS blocking and RFLAGS.TF an entry requires the single
	 * step pending (BS); the CPU does not set it on an exit for an intercepted #DB. */
	if ((x->rflags & RFLAGS_TF) && (x->interruptibility & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)))
		ev->pending_dbg |= PENDING_DBG_BS;
}
