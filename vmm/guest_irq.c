/* A guest's virtual interrupts: vectors its devices raised (on its own CPU, from the host
 * vector's handler), injected when the guest has interrupts on. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "vmm/exits.h"
#include "vmm/msix.h"

void virq_raise(struct guest *g, u8 vector)
{
	__atomic_fetch_or(&g->irq_pending[vector / 64], BIT(vector % 64), __ATOMIC_SEQ_CST);
}

static int highest_pending(struct guest *g)
{
	for (int w = 3; w >= 0; w--) {
		u64 bits = __atomic_load_n(&g->irq_pending[w], __ATOMIC_SEQ_CST);

		if (bits)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

void virq_deliver(struct vcpu *v)
{
	struct guest *g = v->guest;
	int vec;

	vec = highest_pending(g);
	if (vec < 0 || !(vmm_be->get_reg(v, VMM_REG_RFLAGS) & RFLAGS_IF))
		return;
	if (vmm_be->inject_interrupt(v, (u8)vec))
		return; /* another event goes first; this one waits for the next entry */
	__atomic_fetch_and(&g->irq_pending[vec / 64], ~BIT(vec % 64), __ATOMIC_SEQ_CST);
	g->irqs_injected++;
}

static bool has_source(const struct guest *g)
{
	for (u32 i = 0; i < g->nr_dev; i++)
		for (unsigned j = 0; j < g->dev[i].msix.nr; j++)
			if (g->dev[i].msix.live[j])
				return true;
	return false;
}

int virq_halt(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	u64 start = time_us();

	if (!has_source(g) || !(vmm_be->get_reg(v, VMM_REG_RFLAGS) & RFLAGS_IF))
		return -ENOENT;
	/* Host interrupts on while waiting: the device's host vector sets the pending bit. */
	while (highest_pending(g) < 0) {
		if (g->watchdog_us && time_us() - start > g->watchdog_us)
			return guest_stop(g, VMM_EXIT_HLT,
					  "halted and no interrupt came in %llu ms",
					  (unsigned long long)(g->watchdog_us / 1000));
		__asm__ volatile("sti; pause; cli" ::: "memory");
	}
	vmm_be->skip_instruction(v, e);
	return 0;
}
