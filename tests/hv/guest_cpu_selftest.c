/* Hypervisor-side verdict on the CPUs the guests ran on, after vmm_run() returned: a guest
 * leaves no state there that the host or a later guest would inherit. The attacker writes
 * CR8 = 15 and DR0-DR3 and stops with them set (guests/attacker/cpu_attacks.c). */
#define LOG_TAG "vmm"
#include "tests/hv/selftest.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "vmm/vmm.h"

#define CALL_TIMEOUT_US 1000000

struct cpu_left {
	u32 tpr;
	u64 dr[4], dr6;
};

static void read_left(void *arg)
{
	struct cpu_left *l = arg;

	l->tpr = apic_tpr();
	l->dr[0] = read_dr0();
	l->dr[1] = read_dr1();
	l->dr[2] = read_dr2();
	l->dr[3] = read_dr3();
	l->dr6 = read_dr6();
}

/* A TPR left at 15 blocks every interrupt, the call's IPI too: such a CPU does not answer. */
SELFTEST(vmm_guest_cpus_clean, "vmm", "guest-cpus-clean")
{
	unsigned seen = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];
		struct cpu_left l = {0};
		int err;

		if (g->state != GUEST_DONE && g->state != GUEST_STOPPED)
			continue;
		seen++;
		err = smp_call_sync(g->vcpu[0].cpu, read_left, &l, CALL_TIMEOUT_US);
		CHECK(ctx, !err, "cpu %u, where guest %s ran, takes no interrupt (call: %d)",
		      g->vcpu[0].cpu, g->cfg.name, err);
		if (err)
			continue;
		CHECK(ctx, l.tpr == 0, "cpu %u: task priority %#x after guest %s", g->vcpu[0].cpu,
		      l.tpr, g->cfg.name);
		for (unsigned n = 0; n < 4; n++)
			CHECK(ctx, l.dr[n] == 0, "cpu %u: DR%u %#llx after guest %s",
			      g->vcpu[0].cpu, n, (unsigned long long)l.dr[n], g->cfg.name);
		CHECK(ctx, (l.dr6 & (DR6_B_ALL | DR6_BD | DR6_BS)) == 0,
		      "cpu %u: DR6 %#llx after guest %s", g->vcpu[0].cpu, (unsigned long long)l.dr6,
		      g->cfg.name);
	}
	if (!seen)
		st_skip(ctx, "no guest ran");
}
