/* Event injection decisions of the VMX backend (SDM Vol. 3C 26.6, 27.2.4), as pure functions
 * of the VMCS fields, so the host unit tests can feed them recorded values. */
#ifndef ARCH_X86_VMX_VMX_EVENT_H
#define ARCH_X86_VMX_VMX_EVENT_H

#include <moat/types.h>

/* The VM-entry interruption information that redelivers the event whose delivery an exit
 * interrupted (IDT-vectoring information), or 0 when there was none. */
u32 vmx_redeliver_info(u32 idt_vec_info);

/* Whether a new event may be queued for the next entry: never over one already queued (the
 * event redelivered after an exit goes first; -EBUSY), and an external interrupt only while
 * the guest accepts one (RFLAGS.IF, no STI / MOV SS blocking). */
int vmx_event_check(u32 entry_info, bool interrupt, u64 rflags, u32 interruptibility);

/* Whether an NMI may be queued for the next entry (virtual NMIs): never over a queued
 * event, nor while the guest blocks NMIs (its handler runs until IRET) or sits in an STI /
 * MOV SS shadow (26.3.1.5 refuses the entry, or the NMI would nest). 0 or -EBUSY. */
int vmx_nmi_check(u32 entry_info, u32 interruptibility);

/* Whether an exit came from a fault of an IRET that had already unblocked NMIs (27.2.3:
 * exception exits and EPT violations report it in bit 12), with no event being delivered:
 * the VMM then blocks NMIs again, so that the repeated IRET unblocks them. */
bool vmx_nmi_unblocked_by_iret(u32 basic_reason, u32 intr_info, u64 qual, u32 idt_vec_info);

/* A #DB exit as the CPU reported it, and the guest state it is reflected into. */
struct vmx_db_exit {
	u32 intr_info;	      /* VM-exit interruption information */
	u64 qual;	      /* exit qualification: the DR6 bits of the #DB */
	u32 insn_len;	      /* VM-exit instruction length (ICEBP) */
	u64 dr6, dr7;	      /* the guest's DR6 (the register) and DR7 (the VMCS) */
	u64 rflags;	      /* guest RFLAGS */
	u32 interruptibility; /* guest interruptibility state */
	u64 pending_dbg;      /* guest pending debug exceptions */
};

struct vmx_db_event {
	u32 entry_info; /* VM-entry interruption information */
	u32 insn_len;	/* VM-entry instruction length (0: not needed) */
	u64 dr6;
	u64 pending_dbg;
	bool set_rf; /* an instruction breakpoint: RF set in the guest's RFLAGS */
};

/* How a #DB exit is given back to the guest as the CPU would have delivered it. */
void vmx_db_reflect(const struct vmx_db_exit *x, struct vmx_db_event *ev);

#endif
