/* Hypervisor-side verdicts on the guests: isolation attacks failed, canaries intact, the
 * test guests completed. They run after vmm_run() returned. */
#define LOG_TAG "vmm"
#include <moat/bits.h>
#include "arch/x86/irq_drain.h"
#include "arch/x86/trap.h"
#include "tests/hv/guest_state.h"
#include "tests/hv/selftest.h"
#include "tests/hv/transient.h"
#include <moat/string.h>
#include "vmm/guest.h"
#include "vmm/msix.h"
#include "vmm/vmm.h"

static bool is_attacker(const struct guest *g)
{
	return !strcmp(g->cfg.image, "attacker");
}

/* A guest that announced an access past its RAM (EXPECT_STOP) and was stopped there. */
static bool stopped_as_announced(const struct guest *g)
{
	const struct test_guest_state *t = test_state(g);

	return t->expect_stop && g->state == GUEST_STOPPED && g->stop_exit == VMM_EXIT_NPF &&
	       g->stop_gpa == t->expect_stop_gpa && g->stop_gpa >= g->ram_size;
}

SELFTEST(vmm_guests_ran, "vmm", "guests-ran")
{
	if (!vmm_be) {
		st_skip(ctx, "no virtualization backend on this CPU");
		return;
	}
	CHECK(ctx, vmm_nr_failed == 0, "%u configured guests could not be built", vmm_nr_failed);
	if (!vmm_nr_guests && !vmm_nr_failed) {
		st_skip(ctx,
			"no guest to run: %u with a bad configuration, %u whose CPU is not online",
			vmm_nr_bad_config, vmm_nr_no_cpu);
		return;
	}
	CHECK(ctx, vmm_nr_guests > 0, "no guest was started");
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];

		/* an operating system reports nothing to moat: the host reads its console */
		if (g->cfg.kernel[0])
			continue;
		CHECK(ctx, g->results[0] + g->results[1] + g->results[2] > 0,
		      "guest %s reported no test result", g->cfg.name);
		if (!is_attacker(g) && !stopped_as_announced(g))
			CHECK(ctx, g->state == GUEST_DONE, "guest %s did not shut down: %s",
			      g->cfg.name, g->stop_reason);
	}
}

SELFTEST(vmm_attacker_stopped, "vmm", "attacker-stopped")
{
	unsigned seen = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];
		const struct test_guest_state *t = test_state(g);

		if (!is_attacker(g))
			continue;
		seen++;
		CHECK(ctx, t->expect_stop, "attacker %s never announced its access past its RAM",
		      g->cfg.name);
		CHECK(ctx, g->state == GUEST_STOPPED && g->stop_exit == VMM_EXIT_NPF,
		      "attacker %s was not stopped by a nested page fault (state %d, %s)",
		      g->cfg.name, g->state, g->stop_reason);
		CHECK(ctx, g->stop_gpa == t->expect_stop_gpa && g->stop_gpa >= g->ram_size,
		      "attacker %s stopped at GPA %#llx, announced %#llx (RAM %#llx)", g->cfg.name,
		      (unsigned long long)g->stop_gpa, (unsigned long long)t->expect_stop_gpa,
		      (unsigned long long)g->ram_size);
	}
	if (!seen)
		st_skip(ctx, "no attacker guest configured and started");
}

SELFTEST(vmm_attacker_io_denied, "vmm", "attacker-io-denied")
{
	unsigned seen = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];

		if (!is_attacker(g))
			continue;
		seen++;
		CHECK(ctx, g->io_denied >= 2, "attacker %s: %llu port accesses denied, expected 2",
		      g->cfg.name, (unsigned long long)g->io_denied);
	}
	if (!seen)
		st_skip(ctx, "no attacker guest configured and started");
}

/* Vectors of the pool the test image took while the guests ran, until their end: the one
 * each attacker's forged compatibility-format message names (tests/hv/irq_forge.c). */
static unsigned forge_vectors(void)
{
	unsigned n = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		u8 v = test_state(&vmm_guests[i])->forge_vector;

		n += v >= IRQ_POOL_FIRST && v <= IRQ_POOL_LAST;
	}
	return n;
}

/* Every host vector the MSI-X entries of guests' devices took is free again once the guests
 * have ended: drained and freed on the CPU its entry targeted (an SMP OS guest's entries
 * target several), wherever the device was released; none left in quarantine, and as many
 * vectors free as before the guests. */
SELFTEST(vmm_host_vectors_returned, "vmm", "host-vectors-returned")
{
	u32 taken, back;

	msix_host_vectors(&taken, &back);
	if (!taken) {
		st_skip(ctx, "no guest's device took a host vector");
		return;
	}
	CHECK(ctx, irq_drain_pending() == 0, "%u host vectors still queued for their CPUs",
	      irq_drain_pending());
	CHECK(ctx, back == taken, "%u of the %u host vectors guests' devices took are not free",
	      taken - back, taken);
	CHECK(ctx, vmm_vectors_free[1] + forge_vectors() == vmm_vectors_free[0],
	      "%u host vectors free after the guests (%u held by the test), %u before",
	      vmm_vectors_free[1], forge_vectors(), vmm_vectors_free[0]);
}

SELFTEST(vmm_canaries_intact, "vmm", "canaries-intact")
{
	char why[160];

	if (!vmm_nr_guests) {
		st_skip(ctx, "no guest was started");
		return;
	}
	for (u32 i = 0; i < vmm_nr_guests; i++)
		CHECK(ctx, guest_canaries_check(&vmm_guests[i], why, sizeof(why)) == 0, "%s", why);
}

/* Runs a short-lived misbehaving guest (image misbehave, behaviour chosen by `name`) on
 * CPU 0 and checks that it was stopped by `want` alone; false if it could not be judged. */
static bool run_misbehaver(struct st_ctx *ctx, const char *name, u64 watchdog_us,
			   void (*tweak)(struct vcpu *v), enum vmm_exit_reason want,
			   struct guest *g)
{
	int err;

	if (!vmm_be) {
		st_skip(ctx, "no virtualization backend on this CPU");
		return false;
	}
	test_state_reset(vmm_nr_guests + 1);
	err = vmm_run_transient(name, "misbehave", watchdog_us, tweak, g);
	CHECK(ctx, err == 0, "running guest %s failed (%d)", name, err);
	if (err)
		return false;
	CHECK(ctx, g->state == GUEST_STOPPED && g->stop_exit == want,
	      "guest %s state %d, stopped by %s: %s", name, g->state, vmm_exit_name(g->stop_exit),
	      g->stop_reason);
	return true;
}

/* A guest spinning without exits is stopped by the watchdog and the hypervisor goes on. */
SELFTEST(vmm_watchdog, "vmm", "watchdog-stops-spinner")
{
	struct guest g;

	if (!run_misbehaver(ctx, "spin", 300 * 1000, NULL, VMM_EXIT_WATCHDOG, &g))
		return;
	CHECK(ctx, guest_exits(&g, VMM_EXIT_WATCHDOG) == 1, "%llu watchdog exits",
	      (unsigned long long)guest_exits(&g, VMM_EXIT_WATCHDOG));
}

/* A triple fault stops only that guest. */
SELFTEST(vmm_triple_fault, "vmm", "triple-fault-stops-guest")
{
	struct guest g;

	run_misbehaver(ctx, "triple", 2000 * 1000, NULL, VMM_EXIT_SHUTDOWN, &g);
}

/* CR0 bits 63:32 are reserved: entry must fail, be reported, and stop only this guest. */
static void corrupt_cr0(struct vcpu *v)
{
	vmm_be->set_reg(v, VMM_REG_CR0, vmm_be->get_reg(v, VMM_REG_CR0) | BIT(32));
}

SELFTEST(vmm_invalid_state, "vmm", "invalid-state-stops-guest")
{
	struct guest g;

	if (!run_misbehaver(ctx, "broken", 2000 * 1000, corrupt_cr0, VMM_EXIT_INVALID, &g))
		return;
	CHECK(ctx, guest_exits(&g, VMM_EXIT_INVALID) == 1 && g.hypercalls == 0,
	      "%llu invalid entries, %llu hypercalls",
	      (unsigned long long)guest_exits(&g, VMM_EXIT_INVALID),
	      (unsigned long long)g.hypercalls);
}

/* Every guest's nested map covers its own RAM and nothing else; no two guests' RAM (with
 * its guard) overlap, nor the hypervisor's image. */
SELFTEST(vmm_nested_maps, "vmm", "nested-maps-disjoint")
{
	extern char __image_start[], __image_end[];
	u64 img_lo = (u64)(uintptr_t)__image_start, img_hi = (u64)(uintptr_t)__image_end;

	if (!vmm_nr_guests) {
		st_skip(ctx, "no guest was started");
		return;
	}
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];
		u64 lo = g->ram_hpa, hi = g->ram_hpa + g->ram_size, pa;
		/* GPAs just outside RAM, far above it, and other guests' host addresses. */
		u64 outside[3 + VMM_MAX_GUESTS];
		unsigned n = 0;

		for (u64 gpa = 0; gpa < g->ram_size; gpa += 2 * MiB) {
			int err = pt_lookup(&g->npt, gpa, &pa, NULL, NULL);

			CHECK(ctx, err == 0 && pa == lo + gpa, "guest %s: GPA %#llx -> %#llx (%d)",
			      g->cfg.name, (unsigned long long)gpa, (unsigned long long)pa, err);
		}
		outside[n++] = g->ram_size;
		outside[n++] = g->ram_size + 2 * MiB;
		outside[n++] = 4 * GiB;
		for (u32 j = 0; j < vmm_nr_guests; j++) {
			const struct guest *o = &vmm_guests[j];

			if (j != i)
				outside[n++] = o->ram_hpa;
			CHECK(ctx,
			      j == i || hi + 2 * MiB <= o->ram_hpa ||
				      o->ram_hpa + o->ram_size + 2 * MiB <= lo,
			      "guests %s and %s overlap", g->cfg.name, o->cfg.name);
		}
		for (unsigned k = 0; k < n; k++)
			if (outside[k] >= g->ram_size)
				CHECK(ctx, pt_lookup(&g->npt, outside[k], NULL, NULL, NULL) != 0,
				      "guest %s: GPA %#llx outside its RAM is mapped", g->cfg.name,
				      (unsigned long long)outside[k]);
		CHECK(ctx, hi <= img_lo || lo >= img_hi, "guest %s RAM overlaps moat's image",
		      g->cfg.name);
	}
}

/* HLT with no interrupt source to wake the guest: reported and stopped, not a hang. */
SELFTEST(vmm_hlt, "vmm", "hlt-stops-guest")
{
	struct guest g;

	run_misbehaver(ctx, "halt", 2000 * 1000, NULL, VMM_EXIT_HLT, &g);
}

/* The power-off and reset requests a guest makes on its platform's ports (vmm/platform.c)
 * end it as done, not stopped: the misbehave guest halts with interrupts off right after
 * the request, so without the emulation it would be stopped on HLT. */
static void run_ender(struct st_ctx *ctx, const char *name, const char *by)
{
	struct guest g;
	int err;

	if (!vmm_be) {
		st_skip(ctx, "no virtualization backend on this CPU");
		return;
	}
	test_state_reset(vmm_nr_guests + 1);
	err = vmm_run_transient(name, "misbehave", 2000 * 1000, NULL, &g);
	CHECK(ctx, err == 0, "running guest %s failed (%d)", name, err);
	if (err)
		return;
	CHECK(ctx, g.state == GUEST_DONE && g.ended_by && !strcmp(g.ended_by, by),
	      "guest %s state %d (stopped by %s: %s), ended by %s, not %s", name, g.state,
	      vmm_exit_name(g.stop_exit), g.stop_reason, g.ended_by ? g.ended_by : "nothing", by);
	CHECK(ctx, g.vcpu[0].exits[VMM_EXIT_HLT] == 0, "guest %s reached its HLT", name);
}

SELFTEST(vmm_poweroff_s5, "vmm", "guest-poweroff-s5")
{
	run_ender(ctx, "poweroff", "ACPI S5");
}

SELFTEST(vmm_reset_cf9, "vmm", "guest-reset-cf9")
{
	run_ender(ctx, "reset-cf9", "reset register 0xcf9");
}

SELFTEST(vmm_reset_kbc, "vmm", "guest-reset-kbc")
{
	run_ender(ctx, "reset-kbc", "keyboard controller 0x64");
}
