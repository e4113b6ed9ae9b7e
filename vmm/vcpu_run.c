/* The run loop of an OS guest's vCPU, on its own CPU: INIT and start-up IPIs from the
 * guest's other vCPUs, the virtual LAPIC's interrupts injected when the guest can take
 * them (else an interrupt window), its timer as a forced exit, NMIs, and HLT as a
 * host-side wait until something can wake the vCPU. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "vmm/exits.h"
#include "vmm/npt_flush.h"
#include "vmm/vcpu_policy.h"
#include "vmm/vcpu_run.h"

void vcpu_os_init(struct guest *g)
{
	for (u32 i = 0; i < g->nr_vcpus; i++)
		vlapic_reset(&g->vcpu[i].lapic, &g->vcpu[i], g->vcpu[i].index, i == 0);
	/* the vCPUs that wait for their start-up IPI cannot wake themselves */
	g->vcpus_stuck = g->nr_vcpus - 1;
}

static bool running(const struct guest *g)
{
	return __atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == GUEST_RUNNING;
}

static bool events_pending(const struct vcpu *v)
{
	return __atomic_load_n(&v->lapic.events, __ATOMIC_ACQUIRE) || v->nmi_pending;
}

/* One more vCPU that only another one can wake; when that makes all of them, and nothing
 * is on its way to any, the guest is stopped: it can never run again. */
static void stuck_enter(struct vcpu *v, const char *how)
{
	struct guest *g = v->guest;
	u32 stuck = __atomic_add_fetch(&g->vcpus_stuck, 1, __ATOMIC_ACQ_REL);
	bool pending = false;

	for (u32 i = 0; i < g->nr_vcpus; i++)
		pending |= events_pending(&g->vcpu[i]);
	if (vcpu_guest_stuck(stuck, g->nr_vcpus, pending))
		guest_stop(g, VMM_EXIT_HLT,
			   "every vCPU halted with interrupts off or waits for a start-up IPI "
			   "(vCPU %u %s): nothing can wake the guest",
			   v->index, how);
}

/* Before the wake-up's events are taken: at any moment either the events are visible or
 * the count is below the number of vCPUs (stuck_enter()'s check relies on it). */
static void stuck_leave(struct vcpu *v)
{
	__atomic_sub_fetch(&v->guest->vcpus_stuck, 1, __ATOMIC_ACQ_REL);
}

/* The start-up IPI's state (SDM Vol. 3 9.1.1): real mode at vector << 12. */
static int start_at_sipi(struct vcpu *v, u8 vector)
{
	struct vcpu_boot_state bs = {.mode = VCPU_BOOT_REAL, .cs = (u16)(vector << 8), .rip = 0};
	int err = vmm_be->vcpu_reset(v, &bs);

	if (err)
		return guest_stop(v->guest, VMM_EXIT_INVALID,
				  "vCPU %u could not start at its start-up IPI's vector %#x (%d)",
				  v->index, vector, err);
	pr_info("guest %s: vCPU %u started by its start-up IPI at %04x:0000\n", v->guest->cfg.name,
		v->index, (unsigned)vector << 8);
	v->nmi_pending = false;
	v->run_state = VCPU_RUN;
	return 0;
}

/* INIT, SIPI and NMI sent to this vCPU by the guest's vCPUs. */
static int take_events(struct vcpu *v)
{
	u8 sipi = 0;
	u32 ev = vlapic_take_events(&v->lapic, &sipi);

	if (!ev)
		return 0;
	if ((ev & VLAPIC_EV_NMI) && v->run_state == VCPU_RUN)
		v->nmi_pending = true;
	switch (vcpu_event_action(v->run_state, v->index, ev)) {
	case VCPU_EV_RESET_BSP:
		return guest_stop(v->guest, VMM_EXIT_NONE,
				  "INIT to its boot vCPU: a reset, which ends the guest");
	case VCPU_EV_INIT:
		vlapic_init_signal(&v->lapic);
		v->nmi_pending = false;
		if (v->run_state == VCPU_RUN) {
			v->run_state = VCPU_WAIT_SIPI;
			stuck_enter(v, "was sent INIT");
		}
		return 0;
	case VCPU_EV_START:
		/* a vCPU that waited left the stuck count before taking its events */
		if (ev & VLAPIC_EV_INIT)
			vlapic_init_signal(&v->lapic);
		return start_at_sipi(v, sipi);
	case VCPU_EV_NONE:
	default: return 0;
	}
}

/* Waiting for a start-up IPI: the CPU halts until a kick (vlapic_post_event() sends one).
 * The vCPU counts as stuck meanwhile, except while it takes its events. */
static void wait_sipi(struct vcpu *v)
{
	while (running(v->guest) && v->run_state == VCPU_WAIT_SIPI) {
		if (!events_pending(v)) {
			cpu_halt_until(0);
			continue;
		}
		stuck_leave(v);
		take_events(v);
		if (v->run_state == VCPU_WAIT_SIPI)
			stuck_enter(v, "waits for a start-up IPI");
	}
}

/* The backend operations for OS guests, where a backend lacks one: an interrupt is
 * injected when the guest has interrupts on, no window, no deadline, no NMI. */
static bool can_inject(struct vcpu *v)
{
	if (vmm_be->can_inject)
		return vmm_be->can_inject(v);
	return vmm_be->get_reg(v, VMM_REG_RFLAGS) & RFLAGS_IF;
}

/* Off only where it may be on: the backend withdraws a window at its exit, and the core
 * asks for none between its own requests. */
static void want_window(struct vcpu *v, bool on)
{
	if (!vmm_be->irq_window || (!on && !v->window_asked))
		return;
	vmm_be->irq_window(v, on);
	v->window_asked = on;
}

static void set_deadline(struct vcpu *v, u64 tsc)
{
	if (vmm_be->set_deadline)
		vmm_be->set_deadline(v, tsc);
}

static int inject_nmi(struct vcpu *v)
{
	return vmm_be->inject_nmi ? vmm_be->inject_nmi(v) : -ENOTSUP;
}

/* Before an entry: an NMI, then the highest interrupt the guest may take, else a window
 * to take it in; the timer's next expiry as a forced exit. */
static void prepare_entry(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	int vec;

	if (v->nmi_pending && !inject_nmi(v))
		v->nmi_pending = false;
	vec = vlapic_pending_vector(l, rdtsc());
	switch (vcpu_irq_action(vec, vec >= 0 && can_inject(v))) {
	case VCPU_IRQ_INJECT:
		if (!vmm_be->inject_interrupt(v, (u8)vec)) {
			vlapic_accept(l, (u8)vec);
			v->irqs_injected++;
			want_window(v, false);
			break;
		}
		want_window(v, true);
		break;
	case VCPU_IRQ_WINDOW: want_window(v, true); break;
	case VCPU_IRQ_NONE:
	default: want_window(v, false); break;
	}
	set_deadline(v, vlapic_next_deadline(l));
}

/* HLT (SDM Vol. 3 9.7.5): the vCPU's CPU halts host-side until the virtual LAPIC has an
 * interrupt the guest may take (its timer included), an NMI, INIT or SIPI comes, or the
 * guest ends; the guest goes on after the HLT. */
static int os_halt(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	bool stuck = false;

	vmm_be->skip_instruction(v, e);
	while (running(g)) {
		struct vcpu_halt_view h = {
			.if_set = vmm_be->get_reg(v, VMM_REG_RFLAGS) & RFLAGS_IF,
			.pending = vlapic_pending_vector(&v->lapic, rdtsc()),
			.events = __atomic_load_n(&v->lapic.events, __ATOMIC_ACQUIRE) |
				  v->nmi_pending,
			.deadline = vlapic_next_deadline(&v->lapic),
			.other_vcpus = g->nr_vcpus - 1,
			.device_source = g->nr_dev > 0,
		};

		switch (vcpu_halt_action(&h)) {
		case VCPU_HALT_RESUME:
			if (stuck)
				stuck_leave(v);
			return 0;
		case VCPU_HALT_STOP:
			return guest_stop(g, VMM_EXIT_HLT,
					  "halted with interrupts on but nothing to wake it: no "
					  "timer armed, no device, no other vCPU (rip %#llx)",
					  (unsigned long long)e->rip);
		case VCPU_HALT_STUCK:
			if (!stuck) {
				stuck = true;
				stuck_enter(v, "halted with interrupts off");
				continue;
			}
			cpu_halt_until(0);
			break;
		case VCPU_HALT_WAIT:
		default:
			v->halts_blocked++;
			cpu_halt_until(h.deadline);
			break;
		}
	}
	if (stuck)
		stuck_leave(v);
	return -EFAULT;
}

void vcpu_os_loop(struct vcpu *v)
{
	struct vmm_exit e;

	while (running(v->guest)) {
		if (v->run_state == VCPU_WAIT_SIPI) {
			wait_sipi(v);
			continue;
		}
		if (__atomic_load_n(&v->lapic.events, __ATOMIC_ACQUIRE))
			take_events(v);
		if (v->run_state != VCPU_RUN || !running(v->guest))
			continue;
		prepare_entry(v);
		npt_flush_enter(v);
		vmm_be->run(v, &e);
		npt_flush_exit(v);
		switch (e.reason) {
		case VMM_EXIT_IRQ_WINDOW:
		case VMM_EXIT_TIMER:
			/* the next entry's preparation injects what became deliverable */
			v->exits[e.reason]++;
			break;
		case VMM_EXIT_HLT:
			v->exits[e.reason]++;
			os_halt(v, &e);
			break;
		/* the LAPIC's page and MSRs too: vmm/mmio.c, vmm/msr.c */
		default: vmm_handle_exit(v, &e); break;
		}
	}
	set_deadline(v, 0);
	want_window(v, false);
}
