/* The VMM core: picks a backend, reads the configuration, builds the guests and runs each
 * vCPU of each guest on its own CPU. */
#define LOG_TAG "vmm"
#include <moat/boot_info.h>
#include <moat/boot_steps.h>
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pci_driver.h>
#include <moat/pmm.h>
#include <moat/console.h>
#include <moat/tap.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include <moat/vmm.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/rtc.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"
#include "arch/x86/xcr0.h"
#include "core/boot_report.h"
#include "vmm/elf.h"
#include "vmm/exits.h"
#include "vmm/assign.h"
#include "vmm/guest.h"
#include "vmm/linux_guest.h"
#include "vmm/msix.h"
#include "vmm/npt_flush.h"
#include "vmm/vcpu_run.h"
#include "vmm/platform.h"

/* How long a guest's CPU may take from the guest's end to its thread's return. */
#define VCPU_EXIT_WAIT_US (1000 * 1000ULL)
/* How long the CPUs of ended guests have to drain their devices' host vectors. */
#define VECTOR_DRAIN_WAIT_US (1000 * 1000ULL)

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
	pr_info("no usable virtualization backend on this CPU (SVM with nested paging or VMX "
		"with EPT): no guest can start\n");
	return -ENODEV;
}

/* The first SR-IOV PF moat drives (its PF driver bound it) with a VF for each demo guest. */
static const struct pci_dev *builtin_pf(void)
{
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		const struct pci_dev *d = pci_dev_at(i);

		if (d->sriov && d->sriov->enabled && d->owner.kind == PCI_OWNER_HYPERVISOR &&
		    d->sriov->num_vfs >= CFG_BUILTIN_GUESTS &&
		    pci_sriov_vf(d, CFG_BUILTIN_GUESTS - 1))
			return d;
	}
	return NULL;
}

/* The built-in demo, derived from the machine: its guests on the first online CPUs after
 * CPU 0, with VFs of the first PF moat drives when all of them fit (the two that exchange
 * frames must find each other). */
static const char *builtin_config(char *text, size_t size, char *src, size_t src_size)
{
	const struct pci_dev *pf = builtin_pf();
	u32 cpus[CFG_BUILTIN_GUESTS];
	unsigned nr = 0;
	struct cfg_device dev = {0};
	bool with_vfs;
	int n;

	for (unsigned c = 1; c < MAX_CPUS && nr < CFG_BUILTIN_GUESTS; c++)
		if (cpu_data[c].online)
			cpus[nr++] = c;
	with_vfs = pf && nr == CFG_BUILTIN_GUESTS;
	if (with_vfs)
		dev = (struct cfg_device){CFG_DEV_BDF, pf->seg, pf->bus, pf->dev, pf->fn, 0};
	config_builtin(text, size, cpus, nr, with_vfs ? &dev : NULL);
	n = snprintf(src, src_size, "built-in (%u guests on the CPUs after CPU 0", nr);
	if (with_vfs)
		snprintf(src + n, src_size - (size_t)n, ", VFs 0-%u of %04x:%02x:%02x.%x)",
			 CFG_BUILTIN_GUESTS - 1, pf->seg, pf->bus, pf->dev, pf->fn);
	else
		snprintf(src + n, src_size - (size_t)n, "; without devices: %s)",
			 pf ? "fewer than 3 CPUs besides CPU 0"
			    : "no SR-IOV PF driven by moat with 3 VFs");
	return text;
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
	static char builtin[CFG_BUILTIN_GUESTS * 96], builtin_src[160];
	const char *text;

	if (!cfg_src) {
		text = builtin_config(builtin, sizeof(builtin), builtin_src, sizeof(builtin_src));
		cfg_src = builtin_src;
		config_parse(&vmm_cfg, cfg_src, text, strlen(text));
	}
	pr_info("configuration from %s: %u guests, %u errors\n", cfg_src, vmm_cfg.nr_guests,
		vmm_cfg.nr_errors);
}

/* A configured guest that could not be started is a failure of the run (the summary line
 * counts it), never a pass: its one result, in the form of a guest's own report. */
static void guest_not_started(const struct guest_config *c, u32 *counter, const char *fmt, ...)
	__printf(3, 4);

static void guest_not_started(const struct guest_config *c, u32 *counter, const char *fmt, ...)
{
	char why[ASSIGN_WHY_MAX], line[ASSIGN_WHY_MAX + 2 * CFG_NAME_MAX + 40];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->valid)
		pr_info("guest %s not started: %s\n", c->name, why);
	else
		pr_info("guest %s (line %u) not started: %s\n", c->name, c->line, why);
	(*counter)++;
	n = snprintf(line, sizeof(line), "[%s] not ok 1 - guest: not-started\n[%s] # %s\n", c->name,
		     c->name, why);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	tap_count(TAP_FAIL);
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

void guest_destroy(struct guest *g)
{
	assign_release(g);
	for (u32 i = 0; i < CFG_MAX_VCPUS; i++)
		if (g->vcpu[i].arch)
			vmm_be->vcpu_destroy(&g->vcpu[i]);
	guest_memory_free(g);
}

/* "cpu 1" for one vCPU, "cpus 1,2" for several. */
static const char *guest_cpus_str(const struct guest *g, char *buf, size_t size)
{
	int n = snprintf(buf, size, "cpu%s", g->nr_vcpus > 1 ? "s" : "");

	for (u32 i = 0; i < g->nr_vcpus && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, "%c%u", i ? ',' : ' ', g->vcpu[i].cpu);
	return buf;
}

/* vCPU i runs on the i-th CPU of the guest's line; vCPU 0 boots, an OS guest's others wait
 * for the start-up IPI its boot vCPU sends them (Linux brings them up itself). */
static void vcpus_init(struct guest *g)
{
	g->nr_vcpus = MAX(g->cfg.nr_cpus, 1u);
	for (u32 i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpu[i];

		v->guest = g;
		v->index = i;
		v->cpu = g->cfg.cpus[i];
		v->run_state = i ? VCPU_WAIT_SIPI : VCPU_RUN;
	}
}

/* The control blocks are built here, on the boot CPU: an SVM VMCB is plain memory, and
 * the VMX backend clears a VMCS it made here so that the vCPU's own CPU loads it at its
 * first entry (vmx_vcpu_put()). */
static int vcpus_create(struct guest *g, const struct vcpu_boot_state *bs)
{
	for (u32 i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpu[i];
		int err = vmm_be->vcpu_create(v);

		if (err)
			return pr_err(err, "guest %s: vCPU %u could not be created\n", g->cfg.name,
				      i);
		/* Every I/O port stays intercepted: a guest owns no port directly. */
		vmm_msr_setup(v);
		/* A guest runs until it ends; the no-exit watchdog only where its line asks
		 * for it. */
		vmm_be->set_watchdog(v, g->watchdog_us);
		if (i)
			continue;
		err = vmm_be->vcpu_reset(v, bs);
		if (err)
			return pr_err(err, "guest %s: vCPU reset failed\n", g->cfg.name);
	}
	return 0;
}

/* A moat guest image (ELF) or a Linux kernel: found and checked before memory is set
 * aside, loaded after. */
static int guest_find_image(const struct boot_info *bi, struct guest *g, const void **img,
			    u64 *size)
{
	int err;

	if (g->cfg.kernel[0])
		return linux_guest_check(g, bi, size);
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

int guest_create(const struct boot_info *bi, struct guest *g)
{
	struct platform_time pt = {.tsc = rdtsc(), .hz = tsc_hz()};
	struct vcpu_boot_state bs = {0};
	char cpus[8 * CFG_MAX_VCPUS];
	const void *img = NULL;
	u64 size = 0;
	int err;

	vcpus_init(g);
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
	g->watchdog_us = g->cfg.watchdog_us;
	err = vcpus_create(g, &bs);
	if (err)
		goto fail;
	if (guest_is_os(g))
		vcpu_os_init(g);
	host_rtc_get(&pt.wall_epoch, &pt.wall_tsc);
	platform_init(g, &pt);
	guest_memory_report(g);
	pr_info("guest %s: %s %s (%llu bytes), entry %#llx, %s\n", g->cfg.name,
		g->cfg.kernel[0] ? "kernel" : "image",
		g->cfg.kernel[0] ? g->cfg.kernel : g->cfg.image, (unsigned long long)size,
		(unsigned long long)bs.rip, guest_cpus_str(g, cpus, sizeof(cpus)));
	return 0;

fail:
	guest_destroy(g);
	return err;
}

/* Whether a CPU of the guest's line is not online (*cpu: the first such). */
static bool cpu_offline(const struct guest_config *c, u32 *cpu)
{
	for (u32 i = 0; i < c->nr_cpus; i++) {
		*cpu = c->cpus[i];
		if (*cpu >= MAX_CPUS || !cpu_data[*cpu].online)
			return true;
	}
	return false;
}

int vmm_init(const struct boot_info *bi)
{
	int err = pick_backend();

	if (!err) {
		err = vmm_be->cpu_init();
		if (err)
			pr_err(err, "enabling %s on the boot CPU failed\n", vmm_be->name);
	}
	load_config();
	/* the guests' RTCs count from it (vmm/vrtc.c); a failure is logged and they start at
	 * 2000-01-01 */
	host_rtc_init();
	for (u32 i = 0; i < vmm_cfg.nr_guests; i++) {
		struct guest_config *c = &vmm_cfg.guests[i];
		char why[ASSIGN_WHY_MAX];
		struct guest *g;
		u32 cpu;

		if (!c->valid) {
			guest_not_started(c, &vmm_nr_bad_config, "bad configuration");
			continue;
		}
		if (err) {
			guest_not_started(c, &vmm_nr_failed,
					  vmm_be ? "%s could not be enabled on the boot CPU"
						 : "no usable virtualization backend (SVM with "
						   "nested paging or VMX with EPT)",
					  vmm_be ? vmm_be->name : "");
			continue;
		}
		if (cpu_offline(c, &cpu)) {
			guest_not_started(c, &vmm_nr_no_cpu,
					  "cpu %u is not online (%u CPUs online)", cpu,
					  nr_cpus_online);
			continue;
		}
		if (vmm_nr_guests >= vmm_caps.max_guests) {
			guest_not_started(c, &vmm_nr_failed, "the backend has tags for %u guests",
					  vmm_caps.max_guests);
			continue;
		}
		if (boot_guest_allowed(c->nr_devices > 0, why, sizeof(why))) {
			guest_not_started(c, &vmm_nr_refused, "%s", why);
			continue;
		}
		g = &vmm_guests[vmm_nr_guests];
		memset(g, 0, sizeof(*g));
		g->cfg = *c;
		g->id = vmm_nr_guests + 1;
		if (assign_claim(g, (int)g->id, why, sizeof(why))) {
			guest_not_started(c, &vmm_nr_refused, "%s", why);
			continue;
		}
		if (guest_create(bi, g)) {
			guest_not_started(c, &vmm_nr_failed, "building it failed (see above)");
			continue;
		}
		g->state = GUEST_CREATED;
		vmm_nr_guests++;
	}
	return err;
}

/* CPU state neither VMX nor SVM switches, reset on the guest's CPU before and after it runs
 * (docs/vmm.md, "what a guest cannot do"): its debug registers, XCR0, and TSC_AUX, which RDPID
 * reads under SVM (not interceptable there; RDTSCP is not offered). */
static void guest_cpu_reset(void)
{
	debug_regs_reset();
	xcr0_reset();
	if (cpu_has_tsc_aux())
		wrmsr(MSR_TSC_AUX, 0);
}

static int wake_vector = -1; /* a guest's CPU tells CPU 0 that its guest has ended */
static int kick_vector = -1; /* makes a guest's CPU leave the guest (vcpu_kick()) */
static u32 guests_ended;

static void guest_ended_irq(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
}

/* The interrupt itself is the point: it ends the guest's run (an external-interrupt exit)
 * or its host-side wait. */
static void kick_irq(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
}

void vcpu_kick(struct vcpu *v)
{
	int vec = __atomic_load_n(&kick_vector, __ATOMIC_ACQUIRE);

	if (vec >= 0 && v->cpu != this_cpu()->index)
		apic_send_ipi(cpu_data[v->cpu].apic_id, (u8)vec);
}

static bool guest_running(const struct guest *g)
{
	return __atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == GUEST_RUNNING;
}

void vcpu_loop(struct vcpu *v)
{
	struct guest *g = v->guest;
	enum guest_state created = GUEST_CREATED;
	u64 start = time_us();
	struct vmm_exit e;

	/* The first of the guest's vCPUs to get here starts it; one that ended it stays so. */
	__atomic_compare_exchange_n(&g->state, &created, GUEST_RUNNING, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	guest_cpu_reset();
	/* here, on its own CPU: the host CPUID its answers start from is this CPU's */
	vcpu_cpuid_init(v);
	if (v->index == 0)
		pr_info("guest %s: running on cpu %u\n", g->cfg.name, this_cpu()->index);
	else
		pr_info("guest %s: vCPU %u on cpu %u waits for its start-up IPI\n", g->cfg.name,
			v->index, this_cpu()->index);
	if (guest_is_os(g))
		vcpu_os_loop(v);
	while (guest_running(g)) {
		if (virq_pending(g))
			virq_deliver(v);
		npt_flush_enter(v);
		vmm_be->run(v, &e);
		npt_flush_exit(v);
		vmm_handle_exit(v, &e);
	}
	if (v->index == 0)
		g->run_us = time_us() - start;
	guest_cpu_reset();
}

/* A guest with several vCPUs: each one's exits on a line of its own. */
static void vcpu_stats(const struct vcpu *v)
{
	char buf[300];
	int n = 0;

	for (unsigned r = 1; r < VMM_EXIT_NR; r++)
		if (v->exits[r])
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      vmm_exit_name(r), (unsigned long long)v->exits[r]);
	pr_info("stats %s: vcpu %u on cpu %u: %s; halts waited %llu; exits:%s\n",
		v->guest->cfg.name, v->index, v->cpu,
		v->run_state == VCPU_WAIT_SIPI ? "never started" : "started",
		(unsigned long long)v->halts_blocked, n ? buf : " none");
}

/* IPIs the guest's vCPUs sent to destinations that name none of its vCPUs (vmm/vlapic.c). */
static u64 guest_ipis_nowhere(const struct guest *g)
{
	u64 n = 0;

	for (u32 i = 0; i < g->nr_vcpus && i < CFG_MAX_VCPUS; i++)
		n += g->vcpu[i].lapic.ipi_nowhere;
	return n;
}

/* Its nested page faults by what they hit, when it had any. */
static void npf_stats(const struct guest *g)
{
	char buf[200];
	int n = 0;

	for (unsigned t = 0; t < NPF_TARGET_NR; t++) {
		u64 nr = guest_npfs(g, (enum npf_target)t);

		if (nr)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      npf_target_name((enum npf_target)t), (unsigned long long)nr);
	}
	if (n)
		pr_info("stats %s: nested page faults by target:%s\n", g->cfg.name, buf);
}

void guest_stats(const struct guest *g)
{
	char buf[300];
	int n = 0;

	char cpus[8 * CFG_MAX_VCPUS];

	for (unsigned r = 1; r < VMM_EXIT_NR; r++) {
		u64 nr = guest_exits(g, (enum vmm_exit_reason)r);

		if (nr)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      vmm_exit_name(r), (unsigned long long)nr);
	}
	pr_info("stats %s: %s; %s, %llu ms; exits:%s; io denied %llu, msr refused %llu, "
		"hypercalls %llu; results %llu passed, %llu failed, %llu skipped\n",
		g->cfg.name, g->state == GUEST_DONE ? "shut down" : "stopped",
		guest_cpus_str(g, cpus, sizeof(cpus)), (unsigned long long)(g->run_us / 1000),
		n ? buf : " none", (unsigned long long)g->io_denied,
		(unsigned long long)g->msr_denied, (unsigned long long)g->hypercalls,
		(unsigned long long)g->results[0], (unsigned long long)g->results[1],
		(unsigned long long)g->results[2]);
	pr_info("stats %s: hypercalls refused at CPL > 0: %llu\n", g->cfg.name,
		(unsigned long long)g->hc_refused_cpl);
	npf_stats(g);
	if (g->ioapic.g)
		pr_info("stats %s: I/O APIC messages %llu delivered, %llu dropped\n", g->cfg.name,
			(unsigned long long)g->ioapic.delivered,
			(unsigned long long)g->ioapic.dropped);
	if (guest_is_os(g))
		pr_info("stats %s: IPIs naming no vCPU of the guest: %llu dropped\n", g->cfg.name,
			(unsigned long long)guest_ipis_nowhere(g));
	for (u32 i = 0; g->nr_vcpus > 1 && i < g->nr_vcpus; i++)
		vcpu_stats(&g->vcpu[i]);
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

/* An OS guest reports no results of its own: its end is its one result in the summary, a
 * pass when it powered off, reset or shut down by itself, a failure when moat stopped it. */
static void os_guest_verdict(const struct guest *g)
{
	char line[sizeof(g->stop_reason) + 2 * CFG_NAME_MAX + 64];
	bool done = g->state == GUEST_DONE;
	int n;

	if (!guest_is_os(g))
		return;
	if (done)
		n = snprintf(line, sizeof(line), "[%s] ok 1 - guest: ended\n[%s] # %s\n",
			     g->cfg.name, g->cfg.name, g->ended_by ? g->ended_by : "shut down");
	else
		n = snprintf(line, sizeof(line),
			     "[%s] not ok 1 - guest: ended\n[%s] # stopped: %s\n", g->cfg.name,
			     g->cfg.name, g->stop_reason);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	tap_count(done ? TAP_PASS : TAP_FAIL);
}

/* The end of a vCPU's thread: the guest has ended (or never started here), so its other
 * vCPUs leave their loops now; the last one out gives the guest's devices back (reset,
 * their DMA blocked) and tells CPU 0. */
static void vcpu_done(struct vcpu *v)
{
	struct guest *g = v->guest;

	for (u32 i = 0; i < g->nr_vcpus; i++)
		if (i != v->index)
			vcpu_kick(&g->vcpu[i]);
	if (__atomic_sub_fetch(&g->vcpus_left, 1, __ATOMIC_ACQ_REL))
		return;
	assign_report(g);
	assign_release(g);
	os_guest_verdict(g);
	__atomic_fetch_add(&guests_ended, 1, __ATOMIC_RELEASE);
	if (wake_vector >= 0 && this_cpu()->index != 0)
		apic_send_ipi(cpu_data[0].apic_id, (u8)wake_vector);
}

/* Runs on the vCPU's own CPU for as long as its guest lives. */
static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	int err = vmm_be->cpu_init();

	if (err)
		guest_stop(v->guest, VMM_EXIT_INVALID, "%s could not be enabled on cpu %u (%d)",
			   vmm_be->name, this_cpu()->index, err);
	else
		vcpu_loop(v);
	vcpu_done(v);
}

/* CPU 0 sleeps until an interrupt: its PF drivers' events (the VF drivers in the guests
 * depend on them), IOMMU fault events (taken while the guest still owns its device, so a
 * fault is attributed to it), a timer a PF driver needs, or a guest's end. No time limit:
 * a guest runs until it ends. Counts guests, whatever their vCPUs. */
static void wait_guests(bool launched[][CFG_MAX_VCPUS])
{
	pci_drivers_wait_begin();
	for (;;) {
		pci_drivers_service();
		if (__atomic_load_n(&guests_ended, __ATOMIC_ACQUIRE) >= vmm_nr_guests)
			break;
		irq_drain_queued();
		cpu_wait_for_interrupt();
	}
	pci_drivers_wait_end();
	/* Each vCPU's CPU is past its last access to the guest; its work slot frees now. */
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct guest *g = &vmm_guests[i];

		for (u32 j = 0; j < g->nr_vcpus; j++)
			if (launched[i][j] && smp_call_wait(g->vcpu[j].cpu, VCPU_EXIT_WAIT_US))
				pr_err(-ETIMEDOUT, "cpu %u did not return from guest %s's thread\n",
				       g->vcpu[j].cpu, g->cfg.name);
	}
}

unsigned vmm_vectors_free[2];

/* The host vectors the guests' devices held are drained and freed on the CPUs their
 * entries targeted, idle now: waits for the last of them (bounded), then reports. */
static void vectors_report(void)
{
	u32 taken, back;

	if (!WAIT_US((irq_drain_queued(), irq_drain_pending() == 0), VECTOR_DRAIN_WAIT_US))
		pr_warn("%u host vectors not drained on their CPUs within %llu ms\n",
			irq_drain_pending(), VECTOR_DRAIN_WAIT_US / 1000);
	msix_host_vectors(&taken, &back);
	vmm_vectors_free[1] = irq_vectors_free();
	pr_info("host vectors: %u free before the guests, %u after; guests' devices took %u, "
		"%u freed again (%u by another CPU than the one releasing them)\n",
		vmm_vectors_free[0], vmm_vectors_free[1], taken, back, irq_drain_freed_queued());
}

/* Every vCPU of every guest runs on its own CPU, all at once; the boot CPU waits for the
 * guests' ends. A vCPU that cannot start stops its guest. */
void vmm_run(void)
{
	static bool launched[VMM_MAX_GUESTS][CFG_MAX_VCPUS];

	wake_vector = irq_alloc_vector(guest_ended_irq, NULL);
	if (wake_vector < 0)
		pr_err(wake_vector, "no vector for guests' ends: CPU 0 notices them on its next "
				    "event\n");
	__atomic_store_n(&kick_vector, irq_alloc_vector(kick_irq, NULL), __ATOMIC_RELEASE);
	if (kick_vector < 0)
		pr_err(kick_vector, "no vector to kick vCPUs: interrupts between vCPUs wait for "
				    "their next exit\n");
	/* After the test image's interrupt canary, which must hold IRTE 0 (tests/hv). */
	TEST_HOOK(guests_start);
	pci_drivers_irq_init(); /* moat's own vectors taken before the count */
	vmm_vectors_free[0] = irq_vectors_free();
	for (u32 i = 0; i < vmm_nr_guests; i++)
		vmm_guests[i].vcpus_left = vmm_guests[i].nr_vcpus;
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct guest *g = &vmm_guests[i];

		for (u32 j = 0; j < g->nr_vcpus; j++) {
			struct vcpu *v = &g->vcpu[j];
			int err = smp_call_on(v->cpu, vcpu_thread, v);

			launched[i][j] = !err;
			if (!err)
				continue;
			guest_stop(g, VMM_EXIT_NONE, "vCPU %u cannot start on cpu %u (%d)", j,
				   v->cpu, err);
			vcpu_done(v);
		}
	}
	wait_guests(launched);
	vectors_report();
	TEST_HOOK(guests_end);
	for (u32 i = 0; i < vmm_nr_guests; i++)
		guest_stats(&vmm_guests[i]);
	memory_report();
}
