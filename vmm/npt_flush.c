/* Nested TLB flushes across a guest's vCPUs. A generation count per guest: removing a
 * translation bumps it; a vCPU flushes on its own CPU when it enters with a generation it
 * has not flushed for. The store of in_guest before the vCPU reads the generation, and the
 * bump before the remover reads in_guest, are sequentially consistent: either the vCPU
 * sees the new generation, or the remover sees it in the guest and kicks it out. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "vmm/npt_flush.h"

void npt_flush_owed(struct vcpu *v, u32 gen)
{
	vmm_be->flush_nested_tlb(v);
	__atomic_store_n(&v->npt_gen_seen, gen, __ATOMIC_RELEASE);
}

/* Whether v may still run guest code with a translation older than generation `gen`. */
static bool stale_in_guest(struct vcpu *v, u32 gen)
{
	return __atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&v->npt_gen_seen, __ATOMIC_ACQUIRE) != gen;
}

int npt_flush_guest(struct guest *g)
{
	u32 gen = __atomic_add_fetch(&g->npt_gen, 1, __ATOMIC_SEQ_CST);
	int err = 0;

	for (u32 i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpu[i];
		u64 deadline;

		if (!stale_in_guest(v, gen))
			continue;
		vcpu_kick(v);
		deadline = time_us() + NPT_FLUSH_WAIT_US;
		while (stale_in_guest(v, gen) && time_us() < deadline)
			__builtin_ia32_pause();
		if (!stale_in_guest(v, gen))
			continue;
		g->npt_flush_timeouts++;
		err = pr_err(-ETIMEDOUT,
			     "guest %s: vCPU %u on cpu %u did not leave the guest within %u us "
			     "for a nested TLB flush\n",
			     g->cfg.name, v->index, v->cpu, NPT_FLUSH_WAIT_US);
	}
	return err;
}
