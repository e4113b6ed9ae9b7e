/* Nested TLB flushes across a guest's vCPUs after a translation left its nested tables
 * (vmm/npt_flush.c). The backends' flush_nested_tlb acts on the CPU that runs it (INVEPT)
 * or at the vCPU's next entry (the VMCB's TLB control), and a guest's ASID/VPID tags its
 * translations on every CPU it ran on: each vCPU flushes on its own CPU before it enters
 * again, and one in the guest now is made to leave it first. */
#ifndef VMM_NPT_FLUSH_H
#define VMM_NPT_FLUSH_H

#include "vmm/vmm.h"

#define NPT_FLUSH_WAIT_US 10000 /* for a kicked vCPU to leave the guest */

/* After entries were removed from g's nested tables: when this returns, no vCPU of g runs
 * guest code with a translation from before the call. vCPUs outside the guest flush at
 * their next entry; those inside are kicked and waited for (bounded: -ETIMEDOUT, logged
 * and counted, the late vCPU flushes at its next entry). Any CPU, any lock that no vCPU
 * takes between its exit and its next entry. */
int npt_flush_guest(struct guest *g);

/* The flush owed to v on its CPU (npt_flush_enter's slow path). */
void npt_flush_owed(struct vcpu *v, u32 gen);

/* On v's CPU right before each entry (interrupts off): v marked in the guest, then the
 * flush owed since its last entry. Inline: it runs at every entry of every guest. */
static inline void npt_flush_enter(struct vcpu *v)
{
	u32 gen;

	__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
	gen = __atomic_load_n(&v->guest->npt_gen, __ATOMIC_SEQ_CST);
	if (__builtin_expect(gen != v->npt_gen_seen, 0))
		npt_flush_owed(v, gen);
}

/* On v's CPU right after each exit. */
static inline void npt_flush_exit(struct vcpu *v)
{
	__atomic_store_n(&v->in_guest, false, __ATOMIC_RELEASE);
}

#endif
