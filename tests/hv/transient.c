/* Transient guests for the self-tests of misbehaving guests (tests/hv/vmm_selftest.c): one
 * short-lived guest at a time on the CPU that runs the self-tests. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/percpu.h"
#include "core/boot_report.h"
#include "tests/hv/transient.h"
#include "vmm/guest.h"

/* Runs a short-lived guest on this CPU (for the hypervisor's self-tests of misbehaving
 * guests) and destroys it; *out receives its final state. `tweak` may change the vCPU
 * before the first entry. */
int vmm_run_transient(const char *name, const char *image, u64 watchdog_us,
		      void (*tweak)(struct vcpu *v), struct guest *out)
{
	static struct guest g;
	char why[160];
	int err;

	if (!vmm_be)
		return -ENODEV;
	memset(&g, 0, sizeof(g));
	strlcpy(g.cfg.name, name, sizeof(g.cfg.name));
	strlcpy(g.cfg.image, image, sizeof(g.cfg.image));
	g.cfg.memory = 4 * MiB;
	g.cfg.cpus[0] = this_cpu()->index;
	g.cfg.nr_cpus = 1;
	g.cfg.valid = true;
	g.id = vmm_nr_guests + 1;
	if (g.id > vmm_caps.max_guests)
		return pr_err(-ENOSPC, "no tag left for transient guest %s\n", name);
	err = guest_create(boot_info_get(), &g);
	if (err)
		return err;
	g.watchdog_us = watchdog_us;
	vmm_be->set_watchdog(&g.vcpu[0], watchdog_us);
	if (tweak)
		tweak(&g.vcpu[0]);
	vcpu_loop(&g.vcpu[0]);
	guest_stats(&g);
	err = guest_canaries_check(&g, why, sizeof(why));
	if (err)
		pr_err(err, "%s\n", why);
	*out = g;
	guest_destroy(&g);
	return err;
}
