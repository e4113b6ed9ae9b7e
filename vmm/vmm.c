/* The VMM core: picks a backend, reads the configuration, builds the guests and runs one
 * vCPU per guest on its CPU. */
#define LOG_TAG "vmm"
#include <moat/boot_info.h>
#include <moat/boot_steps.h>
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include <moat/vmm.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "core/boot_report.h"
#include "vmm/elf.h"
#include "vmm/exits.h"
#include "vmm/assign.h"
#include "vmm/guest.h"
#include "vmm/linux_guest.h"
#include "vmm/msix.h"
#include "pci/pf/igb.h"

/* Longest run without any exit. Generous: the pattern test over a guest's RAM runs without
 * exits, and emulators on a loaded host run slowly. */
#define WATCHDOG_US (10 * 1000 * 1000ULL)
#define GUEST_TIME_LIMIT_US (120 * 1000 * 1000ULL)
#define GUEST_WAIT_MARGIN_US (10 * 1000 * 1000ULL)

const struct vmm_backend *vmm_be;
struct vmm_caps vmm_caps;
struct guest vmm_guests[VMM_MAX_GUESTS];
u32 vmm_nr_guests;
u32 vmm_nr_bad_config; /* guests left out: bad configuration lines */
u32 vmm_nr_no_cpu;     /* valid guests left out: their CPU is not online */
u32 vmm_nr_failed;     /* valid guests that could not be built */
u32 vmm_nr_refused;    /* valid guests refused their devices */
static struct vmm_config vmm_cfg;
static char cmdline_cfg[BOOT_CMDLINE_MAX];

static int pick_backend(void)
{
	const struct vmm_backend *candidates[] = {&svm_backend, &vmx_backend};

	for (unsigned i = 0; i < ARRAY_SIZE(candidates); i++) {
		if (!candidates[i])
			continue;
		memset(&vmm_caps, 0, sizeof(vmm_caps));
		if (candidates[i]->probe(&vmm_caps) == 0) {
			vmm_be = candidates[i];
			pr_info("backend %s: nested tables %s, %u levels, pages up to %s, %u "
				"guests\n",
				vmm_be->name, vmm_caps.npt_fmt->name, vmm_caps.npt_levels,
				vmm_caps.npt_max_leaf >= 2 ? "1G" : "2M", vmm_caps.max_guests);
			return 0;
		}
	}
	pr_info("no usable virtualization backend on this CPU: no guests\n");
	return -ENODEV;
}

/* Whether this is the reference machine the built-in default is for: the VFs it names
 * (01:00.0/vf0..vf2) exist and CPUs 1-3 are online, so that all three guests run and the
 * two that exchange frames find each other. */
static bool reference_machine(void)
{
	struct pci_dev *pf = pci_find_bdf(0, 1, 0, 0);

	for (unsigned cpu = 1; cpu <= 3; cpu++)
		if (!cpu_data[cpu].online)
			return false;
	return pf && pf->sriov && pci_sriov_vf(pf, 2);
}

/* An explicit configuration: config= on the command line, else a boot module named
 * "config". NULL if there is none (the built-in default applies). */
static const char *explicit_config(const struct boot_info *bi, const char **text, size_t *len)
{
	const char *src = NULL;

	for (u32 i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].name, "config")) {
			src = "module config";
			*text = (const char *)(uintptr_t)bi->modules[i].start;
			*len = (size_t)(bi->modules[i].end - bi->modules[i].start);
		}
	if (cmdline_get("config", cmdline_cfg, sizeof(cmdline_cfg)) > 0) {
		src = "command line";
		*text = cmdline_cfg;
		*len = strlen(cmdline_cfg);
	}
	return src;
}

static const char *cfg_src; /* set once the configuration is parsed */

/* Before PCI: the VFs a PF must have are the ones the configuration names on it. */
void vmm_config_early(const struct boot_info *bi)
{
	const char *text;
	size_t len;

	cfg_src = explicit_config(bi, &text, &len);
	if (!cfg_src)
		return;
	config_parse(&vmm_cfg, cfg_src, text, len);
	for (u32 i = 0; i < vmm_cfg.nr_guests; i++) {
		const struct guest_config *c = &vmm_cfg.guests[i];

		for (u32 j = 0; c->valid && j < c->nr_devices; j++) {
			const struct cfg_device *d = &c->devices[j];

			if (d->kind == CFG_DEV_VF)
				pci_sriov_demand(d->segment, d->bus, d->dev, d->fn, d->vf + 1u);
		}
	}
}

/* The explicit configuration read before PCI, else the built-in default (chosen by what
 * PCI found). */
static void load_config(void)
{
	const char *text = config_default;

	if (!cfg_src) {
		cfg_src = "built-in";
		if (!reference_machine()) {
			text = config_default_no_nic;
			cfg_src = "built-in (not the reference machine: no VFs 0-2 at 0000:01:00.0 "
				  "or no CPUs 1-3; guests without devices)";
		}
		config_parse(&vmm_cfg, cfg_src, text, strlen(text));
	}
	pr_info("configuration from %s: %u guests, %u errors\n", cfg_src, vmm_cfg.nr_guests,
		vmm_cfg.nr_errors);
}

static int find_image(const struct boot_info *bi, const char *name, const void **img, u64 *size)
{
	for (u32 i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].name, name)) {
			*img = (const void *)(uintptr_t)bi->modules[i].start;
			*size = bi->modules[i].end - bi->modules[i].start;
			return 0;
		}
	return -ENOENT;
}

static void guest_destroy(struct guest *g)
{
	assign_release(g);
	if (g->vcpu.arch)
		vmm_be->vcpu_destroy(&g->vcpu);
	guest_memory_free(g);
}

/* A moat guest image (ELF) or a Linux kernel: found and checked before memory is set
 * aside, loaded after. */
static int guest_find_image(const struct boot_info *bi, struct guest *g, const void **img,
			    u64 *size)
{
	int err;

	if (g->cfg.kernel[0])
		return linux_guest_check(g, bi);
	err = find_image(bi, g->cfg.image, img, size);
	if (err)
		return pr_err(err,
			      "guest %s: no image named '%s' (a boot module or <name>.elf next to "
			      "the UEFI application)\n",
			      g->cfg.name, g->cfg.image);
	return 0;
}

static int guest_load(const struct boot_info *bi, struct guest *g, const void *img, u64 size,
		      struct vcpu_boot_state *bs)
{
	u64 entry;
	int err;

	if (g->cfg.kernel[0])
		return linux_guest_load(g, bi, bs);
	err = guest_load_image(g, img, size, &entry);
	bs->rip = entry;
	bs->cr3 = GUEST_BOOT_PML4;
	bs->rdi = g->id;
	return err;
}

static int guest_create(const struct boot_info *bi, struct guest *g)
{
	struct vcpu_boot_state bs = {0};
	const void *img = NULL;
	u64 size = 0;
	int err;

	err = guest_find_image(bi, g, &img, &size);
	if (err)
		return err;
	err = guest_memory_init(g, &vmm_caps);
	if (err)
		return err;
	err = guest_load(bi, g, img, size, &bs);
	if (err)
		goto fail;
	err = assign_attach(g);
	if (err)
		goto fail;
	g->vcpu.guest = g;
	g->vcpu.cpu = g->cfg.cpu;
	err = vmm_be->vcpu_create(&g->vcpu);
	if (err)
		goto fail;
	/* Every I/O port stays intercepted: a guest owns no port directly. */
	vmm_msr_setup(&g->vcpu);
	err = vmm_be->vcpu_reset(&g->vcpu, &bs);
	if (err) {
		pr_err(err, "guest %s: vCPU reset failed\n", g->cfg.name);
		goto fail;
	}
	/* An operating system computes for long stretches without an exit. */
	g->watchdog_us = g->cfg.kernel[0] ? 0 : WATCHDOG_US;
	vmm_be->set_watchdog(&g->vcpu, g->watchdog_us);
	guest_memory_report(g);
	pr_info("guest %s: %s %s (%llu bytes), entry %#llx, cpu %u\n", g->cfg.name,
		g->cfg.kernel[0] ? "kernel" : "image",
		g->cfg.kernel[0] ? g->cfg.kernel : g->cfg.image, (unsigned long long)size,
		(unsigned long long)bs.rip, g->vcpu.cpu);
	return 0;

fail:
	guest_destroy(g);
	return err;
}

int vmm_init(const struct boot_info *bi)
{
	int err;

	err = pick_backend();
	if (err)
		return err;
	err = vmm_be->cpu_init();
	if (err)
		return pr_err(err, "enabling %s on the boot CPU failed\n", vmm_be->name);
	load_config();
	for (u32 i = 0; i < vmm_cfg.nr_guests; i++) {
		struct guest_config *c = &vmm_cfg.guests[i];
		char why[ASSIGN_WHY_MAX];
		struct guest *g;

		if (!c->valid) {
			pr_info("guest %s (line %u) not started: bad configuration\n", c->name,
				c->line);
			vmm_nr_bad_config++;
			continue;
		}
		if (c->cpu >= MAX_CPUS || !cpu_data[c->cpu].online) {
			pr_info("guest %s not started: cpu %u is not online (%u CPUs online)\n",
				c->name, c->cpu, nr_cpus_online);
			vmm_nr_no_cpu++;
			continue;
		}
		if (vmm_nr_guests >= vmm_caps.max_guests) {
			pr_info("guest %s not started: the backend has tags for %u guests\n",
				c->name, vmm_caps.max_guests);
			vmm_nr_failed++;
			continue;
		}
		if (boot_guest_allowed(c->nr_devices > 0, why, sizeof(why))) {
			pr_info("guest %s not started: %s\n", c->name, why);
			vmm_nr_refused++;
			continue;
		}
		g = &vmm_guests[vmm_nr_guests];
		memset(g, 0, sizeof(*g));
		g->cfg = *c;
		g->id = vmm_nr_guests + 1;
		if (assign_claim(g, (int)g->id, why, sizeof(why))) {
			pr_info("guest %s not started: %s\n", c->name, why);
			vmm_nr_refused++;
			continue;
		}
		if (guest_create(bi, g)) {
			pr_info("guest %s not started\n", c->name);
			vmm_nr_failed++;
			continue;
		}
		g->state = GUEST_CREATED;
		vmm_nr_guests++;
	}
	return 0;
}

static void vcpu_loop(struct vcpu *v)
{
	struct guest *g = v->guest;
	u64 start = time_us();

	struct vmm_exit e;

	g->state = GUEST_RUNNING;
	pr_info("guest %s: running on cpu %u\n", g->cfg.name, this_cpu()->index);
	while (g->state == GUEST_RUNNING) {
		virq_deliver(v);
		vmm_be->run(v, &e);
		vmm_handle_exit(v, &e);
		if (g->state == GUEST_RUNNING && time_us() - start > GUEST_TIME_LIMIT_US)
			guest_stop(g, VMM_EXIT_WATCHDOG, "still running after %llu s",
				   (unsigned long long)(GUEST_TIME_LIMIT_US / 1000000));
	}
	g->run_us = time_us() - start;
}

static void guest_stats(const struct guest *g)
{
	char buf[300];
	int n = 0;

	for (unsigned r = 1; r < VMM_EXIT_NR; r++)
		if (g->exits[r])
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      vmm_exit_name(r), (unsigned long long)g->exits[r]);
	pr_info("stats %s: %s; cpu %u, %llu ms; exits:%s; io denied %llu, msr refused %llu, "
		"hypercalls %llu; results %llu passed, %llu failed, %llu skipped\n",
		g->cfg.name, g->state == GUEST_DONE ? "shut down" : "stopped", g->vcpu.cpu,
		(unsigned long long)(g->run_us / 1000), n ? buf : " none",
		(unsigned long long)g->io_denied, (unsigned long long)g->msr_denied,
		(unsigned long long)g->hypercalls, (unsigned long long)g->results[0],
		(unsigned long long)g->results[1], (unsigned long long)g->results[2]);
	pr_info("stats %s: hypercalls refused at CPL > 0: %llu\n", g->cfg.name,
		(unsigned long long)g->hc_refused_cpl);
}

/* Memory the guests hold: RAM with its guard, and nested table pages. */
static void memory_report(void)
{
	u64 ram = 0, tables = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		ram += vmm_guests[i].ram_size + GUEST_GUARD_SIZE;
		tables += vmm_guests[i].npt.nr_tables;
	}
	pr_info("memory: %u guests hold %llu bytes of RAM and guards, %llu nested table pages\n",
		vmm_nr_guests, (unsigned long long)ram, (unsigned long long)tables);
}

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
	g.cfg.cpu = this_cpu()->index;
	g.cfg.valid = true;
	g.id = vmm_nr_guests + 1;
	if (g.id > vmm_caps.max_guests)
		return pr_err(-ENOSPC, "no tag left for transient guest %s\n", name);
	err = guest_create(boot_info_get(), &g);
	if (err)
		return err;
	g.watchdog_us = watchdog_us;
	vmm_be->set_watchdog(&g.vcpu, watchdog_us);
	if (tweak)
		tweak(&g.vcpu);
	vcpu_loop(&g.vcpu);
	guest_stats(&g);
	err = guest_canaries_check(&g, why, sizeof(why));
	if (err)
		pr_err(err, "%s\n", why);
	*out = g;
	guest_destroy(&g);
	return err;
}

/* Runs on the guest's own CPU for as long as the guest lives. */
static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	int err = vmm_be->cpu_init();

	if (err)
		guest_stop(v->guest, VMM_EXIT_INVALID, "%s could not be enabled on cpu %u (%d)",
			   vmm_be->name, this_cpu()->index, err);
	else
		vcpu_loop(v);
	/* The guest has stopped (shut down or stopped by moat): its devices go back at once,
	 * reset and with their DMA blocked. */
	assign_report(v->guest);
	assign_release(v->guest);
}

/* The boot CPU serves the PF mailboxes and the IOMMU's fault events while the guests run:
 * the VF drivers in the guests depend on it. Bounded by the guests' time limit. */
static void wait_guests(const bool *launched)
{
	u64 start = time_us();
	bool busy = true;

	while (busy && time_us() - start < GUEST_TIME_LIMIT_US + GUEST_WAIT_MARGIN_US) {
		igb_pf_poll_all();
		/* IOMMU fault events (a guest's device DMAing outside its RAM) are taken here,
		 * while that guest still owns the device, so the fault is attributed to it. No
		 * lock is held at this point. */
		irq_enable();
		cpu_relax();
		irq_disable();
		busy = false;
		for (u32 i = 0; i < vmm_nr_guests; i++)
			busy |= launched[i] && smp_cpu_busy(vmm_guests[i].vcpu.cpu);
		cpu_relax();
	}
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct guest *g = &vmm_guests[i];

		if (launched[i] && smp_call_wait(g->vcpu.cpu, 0))
			pr_err(-ETIMEDOUT, "guest %s on cpu %u has not finished after %llu s\n",
			       g->cfg.name, g->vcpu.cpu,
			       (unsigned long long)(GUEST_TIME_LIMIT_US / 1000000));
	}
}

/* Every guest runs on its own CPU, all at once; the boot CPU waits for them. */
void vmm_run(void)
{
	bool launched[VMM_MAX_GUESTS] = {false};

	TEST_HOOK(guests_start);
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct guest *g = &vmm_guests[i];
		int err = smp_call_on(g->vcpu.cpu, vcpu_thread, &g->vcpu);

		if (err)
			guest_stop(g, VMM_EXIT_NONE, "cannot start on cpu %u (%d)", g->vcpu.cpu,
				   err);
		launched[i] = !err;
	}
	wait_guests(launched);
	/* A guest that never ran still has its devices: they go back too, before anything
	 * reuses its memory. */
	for (u32 i = 0; i < vmm_nr_guests; i++)
		if (!launched[i]) {
			assign_report(&vmm_guests[i]);
			assign_release(&vmm_guests[i]);
		}
	TEST_HOOK(guests_end);
	for (u32 i = 0; i < vmm_nr_guests; i++)
		guest_stats(&vmm_guests[i]);
	memory_report();
}
