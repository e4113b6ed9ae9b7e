/* The virtual local APIC of an OS guest's vCPU (vmm/vlapic.c; SDM Vol. 3 ch. 11): the xAPIC
 * register page at GUEST_LAPIC_BASE (emulated through nested page faults) and the x2APIC
 * MSRs 0x800-0x8ff, IA32_APIC_BASE and IA32_TSC_DEADLINE; its timer in one-shot, periodic
 * and TSC-deadline modes, counted in the host's TSC; interrupts from the guest's own virtual
 * devices and IPIs from its own vCPUs only.
 *
 * Threading: every function runs on the vCPU's own physical CPU except vlapic_set_irq(),
 * vlapic_post_event() and vlapic_deliver(), which any CPU may call (they only set bits
 * atomically and kick the target vCPU). */
#ifndef VMM_VLAPIC_H
#define VMM_VLAPIC_H

#include <moat/ratelimit.h>
#include <moat/types.h>

struct vcpu;
struct guest;

#define VLAPIC_NR_LVT 7 /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
enum vlapic_lvt {
	VLAPIC_LVT_CMCI,
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
};

/* The timer's input clock ("bus clock", divided by the divide configuration): the TSC
 * divided by the integer nearest to TSC Hz / VLAPIC_BUS_HZ, at least 1 (docs/linux-guest.md). */
#define VLAPIC_BUS_HZ 100000000ULL

/* Events from other vCPUs, consumed by the target vCPU's run loop. */
#define VLAPIC_EV_INIT BIT(0)
#define VLAPIC_EV_SIPI BIT(1)
#define VLAPIC_EV_NMI BIT(2)

struct vlapic {
	struct vcpu *vcpu;
	u32 id;	       /* APIC ID: the vCPU's index in its guest */
	u64 apic_base; /* IA32_APIC_BASE as the guest sees it */
	u32 tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
	u32 lvt[VLAPIC_NR_LVT];
	u32 timer_initial, timer_divide;
	u64 timer_start;    /* TSC when the count was loaded */
	u64 timer_deadline; /* TSC of the next expiry, 0 if none */
	u64 tsc_deadline;   /* IA32_TSC_DEADLINE as the guest wrote it */
	u32 isr[8], tmr[8];
	u32 irr[8];	  /* also set by other CPUs: atomic */
	u32 events;	  /* VLAPIC_EV_*, set by other CPUs: atomic */
	u8 sipi_vector;	  /* of the last start-up IPI */
	u32 esr_pending;  /* errors since the last ESR write (SDM 11.5.3): atomic */
	u32 tsc_per_tick; /* TSC ticks per tick of the timer's input clock */
	u64 timer_period; /* TSC ticks of one period (initial count x divide x tsc_per_tick) */
	/* Messages this vCPU sent (ICR, self IPI) that named no vCPU of its guest: dropped. */
	u64 ipi_nowhere;
	struct ratelimit log_limit; /* its guest's refused requests, logged */
	/* Told about the EOI of a level-triggered vector (vlapic_set_eoi_hook). */
	void (*eoi_level)(struct guest *g, u8 vector);
};

/* The architectural state after RESET (bsp: the BSP flag of IA32_APIC_BASE). */
void vlapic_reset(struct vlapic *l, struct vcpu *v, u32 id, bool bsp);

/* An INIT signal (SDM Vol. 3 9.1, 11.4.7.3): the state after RESET except the APIC ID and
 * IA32_APIC_BASE (so x2APIC mode stays). */
void vlapic_init_signal(struct vlapic *l);

/* Who is told when the guest's vCPUs EOI a level-triggered vector (the vIOAPIC's remote
 * IRR); NULL: nobody. Survives reset and INIT. */
void vlapic_set_eoi_hook(struct guest *g, void (*fn)(struct guest *g, u8 vector));

/* Whether the xAPIC page (at its architectural base) is what guest-physical `gpa` hits. */
bool vlapic_mmio_owned(u64 gpa);

/* The xAPIC page: `offset` within it, 32-bit aligned accesses. 0, or a negative errno for an
 * access the guest may not make (the caller stops the guest). */
int vlapic_mmio_read(struct vlapic *l, u32 offset, u32 *val);
int vlapic_mmio_write(struct vlapic *l, u32 offset, u32 val);

/* MSRs the virtual LAPIC answers: IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8ff. */
bool vlapic_msr_owned(u32 msr);
/* 0, or -EINVAL when the architecture raises #GP (the caller injects it). */
int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *val);
int vlapic_msr_write(struct vlapic *l, u32 msr, u64 val);

/* An interrupt for this vCPU (fixed delivery): IRR set, the vCPU kicked. Any CPU. */
void vlapic_set_irq(struct vlapic *l, u8 vector, bool level);
/* INIT, SIPI (with its vector) or NMI for this vCPU. Any CPU. */
void vlapic_post_event(struct vlapic *l, u32 event, u8 vector);

/* An interrupt message to a guest's vCPUs, as an MSI's address/data, an IOAPIC redirection
 * entry or an ICR names it (SDM Vol. 3 11.6, 11.11). */
enum vlapic_delivery {
	VLAPIC_DM_FIXED = 0,
	VLAPIC_DM_LOWEST = 1,
	VLAPIC_DM_SMI = 2,
	VLAPIC_DM_NMI = 4,
	VLAPIC_DM_INIT = 5,
	VLAPIC_DM_SIPI = 6,
	VLAPIC_DM_EXTINT = 7,
};
struct vlapic_msg {
	u32 dest;     /* APIC ID, or logical destination when `logical` */
	bool logical; /* flat or cluster model, from each target's DFR/LDR */
	bool broadcast;
	enum vlapic_delivery mode;
	u8 vector;
	bool level;
};
/* Delivers to every vCPU of guest g the message names (lowest priority: the first of them).
 * 0, or -ENOENT when it names no vCPU of the guest. Any CPU. */
int vlapic_deliver(struct guest *g, const struct vlapic_msg *m);
/* The first vCPU of g (its index) the message names as the vLAPICs stand now, or -1. */
int vlapic_msg_target(const struct guest *g, const struct vlapic_msg *m);

/* On the vCPU's CPU before entry: a timer that expired by TSC `now` raises its vector
 * (periodic ones re-arm); then the highest vector the guest may take now (above the
 * processor priority), or -1. */
int vlapic_pending_vector(struct vlapic *l, u64 now);
/* The vector was injected: IRR to ISR. */
void vlapic_accept(struct vlapic *l, u8 vector);
/* TSC of the timer's next expiry, 0 if it is not armed. */
u64 vlapic_next_deadline(const struct vlapic *l);
/* Pending VLAPIC_EV_* (cleared), with the last SIPI's vector. */
u32 vlapic_take_events(struct vlapic *l, u8 *sipi_vector);

/* Whether the APIC is enabled in IA32_APIC_BASE, and in x2APIC mode. */
bool vlapic_hw_enabled(const struct vlapic *l);
bool vlapic_x2apic(const struct vlapic *l);
/* The TSC the vlapic reads (rdtsc(); a host test supplies its own). */
u64 vlapic_now(void);

#endif
