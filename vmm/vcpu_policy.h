/* What the run loop of an OS guest's vCPU decides (vmm/vcpu_run.c), as pure functions of
 * what it observed: host unit tests check every case (tests/unit/test_vcpu_policy.c). */
#ifndef VMM_VCPU_POLICY_H
#define VMM_VCPU_POLICY_H

#include <moat/types.h>
#include "vmm/vmm.h"

/* Before an entry, about the interrupt the virtual LAPIC has pending. */
enum vcpu_irq_action {
	VCPU_IRQ_NONE,	 /* nothing pending: no interrupt window either */
	VCPU_IRQ_INJECT, /* inject it now */
	VCPU_IRQ_WINDOW, /* the guest cannot take it yet: exit when it can */
};

/* pending: the vector vlapic_pending_vector() gave, or -1; can_inject: the backend's
 * can_inject(). */
enum vcpu_irq_action vcpu_irq_action(int pending, bool can_inject);

/* A HLT of an OS guest's vCPU, as its CPU waits host-side. */
enum vcpu_halt_action {
	VCPU_HALT_RESUME, /* something can be delivered now: back into the guest */
	VCPU_HALT_WAIT,	  /* interrupts on: until an interrupt, the deadline or a kick */
	VCPU_HALT_STUCK,  /* interrupts off: only an NMI, INIT or start-up IPI wakes it */
	VCPU_HALT_STOP,	  /* interrupts on and nothing that could ever raise one */
};

struct vcpu_halt_view {
	bool if_set;	    /* the guest's RFLAGS.IF */
	int pending;	    /* vlapic_pending_vector(), -1 if none */
	u32 events;	    /* VLAPIC_EV_* not yet taken, or an NMI not yet injected */
	u64 deadline;	    /* vlapic_next_deadline(), 0 if its timer is not armed */
	u32 other_vcpus;    /* the guest's other vCPUs (any of them may send an IPI) */
	bool device_source; /* the guest has devices whose interrupts may come */
};

enum vcpu_halt_action vcpu_halt_action(const struct vcpu_halt_view *h);

/* What INIT and start-up IPIs (VLAPIC_EV_*) do to a vCPU in state s (SDM Vol. 3 9.4.4,
 * 11.6.1): INIT puts it in wait-for-SIPI, a SIPI starts only a vCPU that waits for one,
 * later ones are ignored. */
enum vcpu_event_action {
	VCPU_EV_NONE,
	VCPU_EV_INIT,	   /* now waits for a start-up IPI */
	VCPU_EV_START,	   /* start in real mode at the SIPI's vector (after an INIT, if any) */
	VCPU_EV_RESET_BSP, /* INIT to the boot vCPU: a reset of the guest, which ends it */
};

enum vcpu_event_action vcpu_event_action(enum vcpu_run_state s, u32 index, u32 events);

/* Whether a guest is stuck for good: every one of its nr_vcpus vCPUs halted with interrupts
 * off or waits for a start-up IPI (stuck of them), and no NMI, INIT or SIPI is on its way to
 * any of them (events_pending). */
bool vcpu_guest_stuck(u32 stuck, u32 nr_vcpus, bool events_pending);

#endif
