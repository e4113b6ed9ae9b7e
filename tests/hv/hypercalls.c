/* The test range of the hypercall ABI (include/moat/hypercall.h, docs/hypercalls.md):
 * served only in the test image, through the hypercall hook. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/hypercall.h>
#include <moat/log.h>
#include <moat/string.h>
#include "tests/hv/guest_state.h"
#include "tests/hv/irq_forge.h"

static struct test_guest_state states[VMM_MAX_GUESTS + 2];
static struct test_guest_state no_state; /* for an ID out of range: written, never read */

struct test_guest_state *test_state(const struct guest *g)
{
	if (g->id >= ARRAY_SIZE(states)) {
		memset(&no_state, 0, sizeof(no_state));
		return &no_state;
	}
	return &states[g->id];
}

void test_state_reset(u32 id)
{
	if (id < ARRAY_SIZE(states))
		memset(&states[id], 0, sizeof(states[id]));
}

/* The ABI's exit reasons (MOAT_EXIT_*) for moat's internal ones: an explicit map, so the
 * internal enum can change without changing what guests read. */
static const u8 abi_exit_reason[VMM_EXIT_NR] = {
	[VMM_EXIT_NONE] = MOAT_EXIT_OTHER,
	[VMM_EXIT_CPUID] = MOAT_EXIT_CPUID,
	[VMM_EXIT_IO] = MOAT_EXIT_IO,
	[VMM_EXIT_MSR_READ] = MOAT_EXIT_MSR_READ,
	[VMM_EXIT_MSR_WRITE] = MOAT_EXIT_MSR_WRITE,
	[VMM_EXIT_HLT] = MOAT_EXIT_HLT,
	[VMM_EXIT_HYPERCALL] = MOAT_EXIT_HYPERCALL,
	[VMM_EXIT_NPF] = MOAT_EXIT_NPF,
	[VMM_EXIT_EXT_INTR] = MOAT_EXIT_EXT_INTR,
	[VMM_EXIT_NMI] = MOAT_EXIT_NMI,
	[VMM_EXIT_EXCEPTION] = MOAT_EXIT_EXCEPTION,
	[VMM_EXIT_SHUTDOWN] = MOAT_EXIT_SHUTDOWN,
	[VMM_EXIT_WATCHDOG] = MOAT_EXIT_WATCHDOG,
	[VMM_EXIT_INVALID] = MOAT_EXIT_INVALID,
	[VMM_EXIT_UNHANDLED] = MOAT_EXIT_OTHER,
	[VMM_EXIT_VIRT_INSN] = MOAT_EXIT_VIRT_INSN,
	[VMM_EXIT_CR_WRITE] = MOAT_EXIT_CR_WRITE,
	[VMM_EXIT_INSN] = MOAT_EXIT_INSN,
};

/* The ABI puts no alignment on the guest's buffer: built here and copied. */
static s64 hc_get_exits(struct guest *g, u64 gpa)
{
	void *dst = guest_ptr(g, gpa, sizeof(struct moat_guest_exits));
	struct moat_guest_exits x;

	if (!dst)
		return -EFAULT;
	memset(&x, 0, sizeof(x));
	for (unsigned i = 0; i < VMM_EXIT_NR; i++) {
		x.by_reason[abi_exit_reason[i]] += guest_exits(g, (enum vmm_exit_reason)i);
		x.total += guest_exits(g, (enum vmm_exit_reason)i);
	}
	memcpy(dst, &x, sizeof(x));
	return 0;
}

s64 test_hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2)
{
	struct guest *g = v->guest;
	struct test_guest_state *t = test_state(g);

	(void)a2;
	switch (nr) {
	case HC_ECHO: return (s64)(a0 ^ HC_ECHO_MAGIC);
	case HC_EXPECT_STOP:
		t->expect_stop_gpa = a0;
		t->expect_stop_stamp = a1;
		t->expect_stop = true;
		return 0;
	case HC_EXPECT_DMA_FAULT:
		t->expect_dma_faults += !a0;
		return !g->nr_dev ? -ENODEV : a0 ? irq_forge_expect(g, a0, a1) : 0;
	case HC_GET_EXITS: return hc_get_exits(g, a0);
	default: return -ENOSYS;
	}
}

/* Under QEMU -icount shift=0 the ticks are the instructions of the exit path
 * (docs/performance.md). */
void test_npf_ticks(struct guest *g, u64 gpa, u64 now)
{
	const struct test_guest_state *t = test_state(g);
	const void *p;
	u64 stamp = 0;

	if (!t->expect_stop || !t->expect_stop_stamp || gpa != t->expect_stop_gpa)
		return;
	p = guest_ptr(g, t->expect_stop_stamp, sizeof(stamp));
	if (p)
		memcpy(&stamp, p, sizeof(stamp)); /* any alignment the guest chose */
	if (stamp && now > stamp)
		pr_info("guest %s: npf-ticks %llu (from the guest's TSC stamp to the fault "
			"handler)\n",
			g->cfg.name, (unsigned long long)(now - stamp));
}
