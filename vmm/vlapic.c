/* The virtual local APIC of an OS guest's vCPU (SDM Vol. 3 ch. 11; API in vmm/vlapic.h):
 * registers as the xAPIC page and the x2APIC MSRs present them, the timer counted in the
 * host's TSC, interrupt acceptance by priority, and IPIs to the guest's own vCPUs. */
#define LOG_TAG "vlapic"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "vmm/guest_acpi.h"
#include "vmm/vlapic_regs.h"
#include "vmm/vmm.h"

#define VLAPIC_VERSION                                                                             \
	((u32)(APIC_VERSION_INTEGRATED | FIELD_PREP(APIC_VERSION_MAX_LVT, VLAPIC_NR_LVT - 1)))
#define VEC_FIRST_LEGAL 16 /* vectors 0-15 are illegal in any APIC message (SDM 11.5.2) */
#define LOG_WINDOW_US 1000000
#define LOG_BURST 5

#define LVT_COMMON (APIC_LVT_VECTOR | APIC_LVT_MASKED)
#define LVT_WITH_MODE (LVT_COMMON | APIC_LVT_MODE)
#define LVT_LINT (LVT_WITH_MODE | APIC_LVT_POLARITY | APIC_LVT_LEVEL)
#define LVT_READ_ONLY (APIC_LVT_PENDING | APIC_LVT_REMOTE_IRR)

/* The bits a guest can write in each LVT (SDM Figure 11-8). */
static const u32 lvt_writable[VLAPIC_NR_LVT] = {
	[VLAPIC_LVT_CMCI] = LVT_WITH_MODE,    [VLAPIC_LVT_TIMER] = LVT_COMMON | APIC_LVT_TIMER_MODE,
	[VLAPIC_LVT_THERMAL] = LVT_WITH_MODE, [VLAPIC_LVT_PERF] = LVT_WITH_MODE,
	[VLAPIC_LVT_LINT0] = LVT_LINT,	      [VLAPIC_LVT_LINT1] = LVT_LINT,
	[VLAPIC_LVT_ERROR] = LVT_COMMON,
};

#define SVR_WRITABLE (APIC_SVR_VECTOR | APIC_SVR_ENABLE | APIC_SVR_FOCUS_OFF)
#define DIVIDE_WRITABLE (APIC_DIVIDE_LOW | APIC_DIVIDE_HIGH)
#define BASE_WRITABLE (APIC_BASE_BSP | APIC_BASE_X2APIC | APIC_BASE_ENABLE | APIC_BASE_ADDR)

__weak u64 vlapic_now(void)
{
	return rdtsc();
}

/* 256-bit vector registers (ISR, TMR, IRR): 8 words of 32 vectors. */
static bool vec_test(const u32 *r, unsigned v)
{
	return __atomic_load_n(&r[v / 32], __ATOMIC_ACQUIRE) & (1U << (v % 32));
}

static void vec_set(u32 *r, unsigned v)
{
	__atomic_fetch_or(&r[v / 32], 1U << (v % 32), __ATOMIC_ACQ_REL);
}

static void vec_clear(u32 *r, unsigned v)
{
	__atomic_fetch_and(&r[v / 32], ~(1U << (v % 32)), __ATOMIC_ACQ_REL);
}

static int vec_highest(const u32 *r)
{
	/* mostly empty: one pass of plain loads says so */
	STATIC_ASSERT(APIC_VEC_REGS == 8, "eight 32-bit words");
	if (!(__atomic_load_n(&r[0], __ATOMIC_RELAXED) | __atomic_load_n(&r[1], __ATOMIC_RELAXED) |
	      __atomic_load_n(&r[2], __ATOMIC_RELAXED) | __atomic_load_n(&r[3], __ATOMIC_RELAXED) |
	      __atomic_load_n(&r[4], __ATOMIC_RELAXED) | __atomic_load_n(&r[5], __ATOMIC_RELAXED) |
	      __atomic_load_n(&r[6], __ATOMIC_RELAXED) | __atomic_load_n(&r[7], __ATOMIC_RELAXED)))
		return -1;
	for (int i = APIC_VEC_REGS - 1; i >= 0; i--) {
		u32 w = __atomic_load_n(&r[i], __ATOMIC_ACQUIRE);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static u32 prio_class(int vector)
{
	return vector < 0 ? 0 : (u32)FIELD_GET(APIC_PRIO_CLASS, (u32)vector);
}

bool vlapic_hw_enabled(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_ENABLE;
}

bool vlapic_x2apic(const struct vlapic *l)
{
	return (l->apic_base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

static bool sw_enabled(const struct vlapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

/* SDM 11.8.3.1 */
static u32 ppr(const struct vlapic *l)
{
	u32 isr_class = prio_class(vec_highest(l->isr));

	if (FIELD_GET(APIC_PRIO_CLASS, l->tpr) >= isr_class)
		return l->tpr;
	return (u32)FIELD_PREP(APIC_PRIO_CLASS, isr_class);
}

/* SDM 11.6.2.4 (Figure 11-15): the arbitration priority. */
static u32 apr(const struct vlapic *l)
{
	u32 tpr_class = (u32)FIELD_GET(APIC_PRIO_CLASS, l->tpr);
	u32 irr_class = prio_class(vec_highest(l->irr));
	u32 isr_class = prio_class(vec_highest(l->isr));

	if (tpr_class >= irr_class && tpr_class > isr_class)
		return l->tpr;
	return (u32)FIELD_PREP(APIC_PRIO_CLASS, MAX(tpr_class, MAX(isr_class, irr_class)));
}

/* x2APIC mode: the logical ID follows from the x2APIC ID (SDM 11.12.10.2). */
static u32 ldr(const struct vlapic *l)
{
	if (vlapic_x2apic(l))
		return (u32)(FIELD_PREP(APIC_LDR_X2_CLUSTER, l->id >> 4) |
			     FIELD_PREP(APIC_LDR_X2_BITS, 1U << (l->id & 0xf)));
	return l->ldr;
}

static void raise_error(struct vlapic *l, u32 esr_bit);

/* An interrupt from this APIC's own LVT or self IPI, edge-triggered. */
static void local_irq(struct vlapic *l, u8 vector)
{
	if (vector < VEC_FIRST_LEGAL) {
		raise_error(l, APIC_ESR_RECV_ILLEGAL);
		return;
	}
	vec_clear(l->tmr, vector);
	vec_set(l->irr, vector);
}

/* SDM 11.5.3: the error is latched until the next ESR write; an unmasked error LVT raises
 * its vector. */
static void raise_error(struct vlapic *l, u32 esr_bit)
{
	u32 lvt = __atomic_load_n(&l->lvt[VLAPIC_LVT_ERROR], __ATOMIC_ACQUIRE);
	u8 vector = (u8)FIELD_GET(APIC_LVT_VECTOR, lvt);

	__atomic_fetch_or(&l->esr_pending, esr_bit, __ATOMIC_ACQ_REL);
	if (lvt & APIC_LVT_MASKED || vector < VEC_FIRST_LEGAL)
		return;
	vec_clear(l->tmr, vector);
	vec_set(l->irr, vector);
	vcpu_kick(l->vcpu);
}

/* ---- timer (SDM 11.5.4) ---- */

static enum apic_timer_mode timer_mode(const struct vlapic *l)
{
	return (enum apic_timer_mode)FIELD_GET(APIC_LVT_TIMER_MODE, l->lvt[VLAPIC_LVT_TIMER]);
}

/* Divide configuration: bits 3,1:0 = 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1. */
static u32 timer_divisor(const struct vlapic *l)
{
	u32 v = (u32)(FIELD_GET(APIC_DIVIDE_LOW, l->timer_divide) |
		      FIELD_GET(APIC_DIVIDE_HIGH, l->timer_divide) << 2);

	return 1U << ((v + 1) & 7);
}

static u64 tick_tsc(const struct vlapic *l)
{
	return (u64)timer_divisor(l) * l->tsc_per_tick;
}

static void timer_stop(struct vlapic *l)
{
	l->timer_deadline = 0;
	l->timer_period = 0;
	l->tsc_deadline = 0;
}

/* A count written to the initial-count register starts the count down from `now`. */
static void timer_load(struct vlapic *l, u32 count, u64 now)
{
	l->timer_initial = count;
	l->timer_start = now;
	l->timer_period = (u64)count * tick_tsc(l);
	l->timer_deadline = count ? now + l->timer_period : 0;
}

static u32 timer_current(const struct vlapic *l, u64 now)
{
	u64 left;

	if (!l->timer_deadline || timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
		return 0;
	if (now < l->timer_deadline)
		left = l->timer_deadline - now;
	else if (timer_mode(l) == APIC_TIMER_PERIODIC && l->timer_period)
		left = l->timer_period - (now - l->timer_deadline) % l->timer_period;
	else
		return 0;
	return (u32)(left / tick_tsc(l));
}

/* The timer reached its deadline by `now`: its vector unless masked; a periodic timer
 * re-arms from the deadline, not from `now`, so it does not drift; periods that went by
 * unseen (the vCPU was not running) raise one interrupt, as a busy IRR bit would. */
static void timer_expire(struct vlapic *l, u64 now)
{
	u64 d = l->timer_deadline;
	u32 lvt = l->lvt[VLAPIC_LVT_TIMER];

	if (!d || now < d)
		return;
	if (!(lvt & APIC_LVT_MASKED))
		local_irq(l, (u8)FIELD_GET(APIC_LVT_VECTOR, lvt));
	if (timer_mode(l) == APIC_TIMER_PERIODIC && l->timer_period) {
		l->timer_deadline = d + ((now - d) / l->timer_period + 1) * l->timer_period;
		l->timer_start = l->timer_deadline - l->timer_period;
		return;
	}
	l->timer_deadline = 0;
	l->tsc_deadline = 0;
}

static void timer_lvt_write(struct vlapic *l, u32 val)
{
	u32 old = l->lvt[VLAPIC_LVT_TIMER];

	timer_expire(l, vlapic_now());
	if (FIELD_GET(APIC_LVT_TIMER_MODE, val) > APIC_TIMER_TSC_DEADLINE)
		val = (u32)((val & ~APIC_LVT_TIMER_MODE) | (old & APIC_LVT_TIMER_MODE));
	__atomic_store_n(&l->lvt[VLAPIC_LVT_TIMER], val, __ATOMIC_RELEASE);
	/* "A write to the LVT Timer Register that changes the timer mode disarms the local
	 * APIC timer" (SDM 11.5.4.1). */
	if ((old ^ val) & APIC_LVT_TIMER_MODE) {
		l->timer_initial = 0;
		timer_stop(l);
	}
}

/* A new divisor applies from now on to what is left of the count. */
static void timer_divide_write(struct vlapic *l, u32 val)
{
	u64 now = vlapic_now();
	u32 left;

	timer_expire(l, now);
	left = timer_current(l, now);
	l->timer_divide = val & (u32)DIVIDE_WRITABLE;
	if (!l->timer_deadline || timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
		return;
	l->timer_period = (u64)l->timer_initial * tick_tsc(l);
	l->timer_deadline = now + (u64)left * tick_tsc(l);
	l->timer_start = l->timer_deadline - l->timer_period;
}

static void timer_initial_write(struct vlapic *l, u32 val)
{
	if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
		return; /* ignored in TSC-deadline mode (SDM 11.5.4.1) */
	timer_load(l, val, vlapic_now());
}

/* ---- reset ---- */

static void reset_regs(struct vlapic *l)
{
	l->tpr = l->ldr = l->esr = l->icr_lo = l->icr_hi = 0;
	l->dfr = (u32)APIC_DFR_MODEL | (u32)APIC_DFR_ONES;
	l->svr = APIC_SVR_VECTOR; /* 0xff, software disabled */
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = (u32)APIC_LVT_MASKED;
	l->timer_initial = l->timer_divide = 0;
	l->timer_start = 0;
	timer_stop(l);
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	l->esr_pending = 0;
}

void vlapic_reset(struct vlapic *l, struct vcpu *v, u32 id, bool bsp)
{
	void (*eoi_level)(struct guest *, u8) = l->eoi_level;
	u64 hz = tsc_hz();

	memset(l, 0, sizeof(*l));
	l->eoi_level = eoi_level;
	l->vcpu = v;
	l->id = id;
	l->apic_base = GUEST_LAPIC_BASE | APIC_BASE_ENABLE | (bsp ? APIC_BASE_BSP : 0);
	l->tsc_per_tick = (u32)MAX((hz + VLAPIC_BUS_HZ / 2) / VLAPIC_BUS_HZ, 1);
	l->log_limit = (struct ratelimit){.window_us = LOG_WINDOW_US, .burst = LOG_BURST};
	reset_regs(l);
}

void vlapic_init_signal(struct vlapic *l)
{
	reset_regs(l);
}

void vlapic_set_eoi_hook(struct guest *g, void (*fn)(struct guest *g, u8 vector))
{
	for (unsigned i = 0; i < CFG_MAX_VCPUS; i++)
		g->vcpu[i].lapic.eoi_level = fn;
}

/* ---- delivery ---- */

void vlapic_set_irq(struct vlapic *l, u8 vector, bool level)
{
	if (!vlapic_hw_enabled(l) || !sw_enabled(l))
		return; /* a disabled APIC accepts no fixed interrupt */
	if (vector < VEC_FIRST_LEGAL) {
		raise_error(l, APIC_ESR_RECV_ILLEGAL);
		return;
	}
	if (level)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	vec_set(l->irr, vector);
	vcpu_kick(l->vcpu);
}

void vlapic_post_event(struct vlapic *l, u32 event, u8 vector)
{
	if (event & VLAPIC_EV_SIPI)
		__atomic_store_n(&l->sipi_vector, vector, __ATOMIC_RELEASE);
	__atomic_fetch_or(&l->events, event, __ATOMIC_ACQ_REL);
	vcpu_kick(l->vcpu);
}

u32 vlapic_take_events(struct vlapic *l, u8 *sipi_vector)
{
	u32 ev = __atomic_exchange_n(&l->events, 0, __ATOMIC_ACQ_REL);

	if (sipi_vector)
		*sipi_vector = __atomic_load_n(&l->sipi_vector, __ATOMIC_ACQUIRE);
	return ev;
}

/* Whether a message's destination names APIC t (SDM 11.6.2, 11.12.10). */
static bool dest_match(const struct vlapic *t, u32 dest, bool logical)
{
	u32 l = ldr(t);

	if (vlapic_x2apic(t)) {
		if (dest == X2APIC_BROADCAST)
			return true;
		if (!logical)
			return dest == t->id;
		return FIELD_GET(APIC_LDR_X2_CLUSTER, dest) == FIELD_GET(APIC_LDR_X2_CLUSTER, l) &&
		       (dest & l & APIC_LDR_X2_BITS);
	}
	if (dest == XAPIC_BROADCAST)
		return true;
	if (dest > XAPIC_BROADCAST)
		return false;
	if (!logical)
		return dest == t->id;
	l = (u32)FIELD_GET(APIC_LDR_XAPIC, l);
	if (FIELD_GET(APIC_DFR_MODEL, t->dfr) == APIC_DFR_FLAT)
		return l & dest;
	return (l >> 4) == (dest >> 4) && (l & dest & 0xf);
}

static void deliver_one(struct vlapic *t, const struct vlapic_msg *m)
{
	switch (m->mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST: vlapic_set_irq(t, m->vector, m->level); break;
	case VLAPIC_DM_NMI: vlapic_post_event(t, VLAPIC_EV_NMI, 0); break;
	case VLAPIC_DM_INIT: vlapic_post_event(t, VLAPIC_EV_INIT, 0); break;
	case VLAPIC_DM_SIPI: vlapic_post_event(t, VLAPIC_EV_SIPI, m->vector); break;
	default: break; /* SMI, ExtINT: no such sources in a guest */
	}
}

/* Every vCPU of g the message names, `skip` excepted; lowest priority: the first. The
 * number reached. */
static unsigned deliver(struct guest *g, const struct vlapic_msg *m, const struct vlapic *skip)
{
	unsigned n = 0;

	for (u32 i = 0; i < g->nr_vcpus && i < CFG_MAX_VCPUS; i++) {
		struct vlapic *t = &g->vcpu[i].lapic;

		if (t == skip || !(m->broadcast || dest_match(t, m->dest, m->logical)))
			continue;
		deliver_one(t, m);
		n++;
		if (m->mode == VLAPIC_DM_LOWEST)
			break;
	}
	return n;
}

int vlapic_deliver(struct guest *g, const struct vlapic_msg *m)
{
	return deliver(g, m, NULL) ? 0 : -ENOENT;
}

int vlapic_msg_target(const struct guest *g, const struct vlapic_msg *m)
{
	for (u32 i = 0; i < g->nr_vcpus && i < CFG_MAX_VCPUS; i++)
		if (m->broadcast || dest_match(&g->vcpu[i].lapic, m->dest, m->logical))
			return (int)i;
	return -1;
}

static void log_nowhere(struct vlapic *l, u32 icr, u32 dest)
{
	unsigned dropped;

	l->ipi_nowhere++;
	if (!ratelimit_allow(&l->log_limit, time_us(), &dropped))
		return;
	pr_info("guest %s: vCPU %u sent IPI (ICR %#x) to %s destination %#x, which names none of "
		"its vCPUs: dropped (%llu so far, %u not logged)\n",
		l->vcpu->guest->cfg.name, l->id, icr,
		icr & APIC_ICR_LOGICAL ? "logical" : "physical", dest,
		(unsigned long long)l->ipi_nowhere, dropped);
}

/* A write to the ICR (SDM 11.6.1): sent at once, the delivery status stays idle. */
static void send_ipi(struct vlapic *l, u32 icr, u32 dest)
{
	struct guest *g = l->vcpu->guest;
	struct vlapic_msg m = {
		.dest = dest,
		.logical = icr & APIC_ICR_LOGICAL,
		.mode = (enum vlapic_delivery)FIELD_GET(APIC_ICR_MODE, icr),
		.vector = (u8)FIELD_GET(APIC_ICR_VECTOR, icr),
		.level = icr & APIC_ICR_LEVEL,
	};
	unsigned n = 0;

	if ((m.mode == VLAPIC_DM_FIXED || m.mode == VLAPIC_DM_LOWEST) &&
	    m.vector < VEC_FIRST_LEGAL) {
		raise_error(l, APIC_ESR_SEND_ILLEGAL);
		return;
	}
	/* INIT level de-assert: no action on Pentium 4 and later (SDM 11.6.1). */
	if (m.mode == VLAPIC_DM_INIT && (icr & APIC_ICR_LEVEL) && !(icr & APIC_ICR_ASSERT))
		return;
	switch ((enum apic_shorthand)FIELD_GET(APIC_ICR_SHORTHAND, icr)) {
	case APIC_SH_SELF:
		/* Only fixed delivery is valid with the self shorthand (SDM 11.6.1, the ICR's valid
		 * combinations). */
		if (m.mode == VLAPIC_DM_FIXED)
			local_irq(l, m.vector);
		return;
	case APIC_SH_ALL:
		m.broadcast = true;
		n = deliver(g, &m, NULL);
		break;
	case APIC_SH_OTHERS:
		m.broadcast = true;
		deliver(g, &m, l);
		return; /* a guest with one vCPU has no others: not an error */
	case APIC_SH_NONE: n = deliver(g, &m, NULL); break;
	}
	if (!n)
		log_nowhere(l, icr, dest);
}

/* ---- registers ---- */

static void eoi(struct vlapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0)
		return;
	vec_clear(l->isr, (unsigned)v);
	if (vec_test(l->tmr, (unsigned)v) && l->eoi_level)
		l->eoi_level(l->vcpu->guest, (u8)v);
}

static int lvt_index(u32 off)
{
	if (off == APIC_LVT_CMCI)
		return VLAPIC_LVT_CMCI;
	if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR)
		return (int)((off - APIC_LVT_TIMER) >> 4) + VLAPIC_LVT_TIMER;
	return -1;
}

/* One of the 256-bit registers (ISR, TMR, IRR) at off, or NULL. */
static const u32 *vec_reg(const struct vlapic *l, u32 off)
{
	if (off >= APIC_ISR && off < APIC_ISR + APIC_VEC_REGS * 16)
		return &l->isr[(off - APIC_ISR) >> 4];
	if (off >= APIC_TMR && off < APIC_TMR + APIC_VEC_REGS * 16)
		return &l->tmr[(off - APIC_TMR) >> 4];
	if (off >= APIC_IRR && off < APIC_IRR + APIC_VEC_REGS * 16)
		return &l->irr[(off - APIC_IRR) >> 4];
	return NULL;
}

/* A register that does not exist in the current mode: #GP for an x2APIC MSR (SDM
 * 11.12.1.2), an illegal register address for the xAPIC page (SDM 11.5.3). */
static int no_register(struct vlapic *l)
{
	if (vlapic_x2apic(l))
		return -EINVAL;
	raise_error(l, APIC_ESR_ILLEGAL_REG);
	return 0;
}

/* Reads of the register at `off` (16-byte aligned) in the current mode; the x2APIC ICR is
 * read as one MSR by the caller. */
static int reg_read(struct vlapic *l, u32 off, u32 *val)
{
	bool x2 = vlapic_x2apic(l);
	const u32 *vr = vec_reg(l, off);
	int lvt = lvt_index(off);

	*val = 0;
	if (vr) {
		*val = __atomic_load_n(vr, __ATOMIC_ACQUIRE);
		return 0;
	}
	if (lvt >= 0) {
		*val = l->lvt[lvt];
		return 0;
	}
	switch (off) {
	case APIC_ID: *val = x2 ? l->id : (u32)FIELD_PREP(APIC_ID_XAPIC, l->id); return 0;
	case APIC_VERSION: *val = VLAPIC_VERSION; return 0;
	case APIC_TPR: *val = l->tpr; return 0;
	case APIC_PPR: *val = ppr(l); return 0;
	case APIC_LDR: *val = ldr(l); return 0;
	case APIC_SVR: *val = l->svr; return 0;
	case APIC_ESR: *val = l->esr; return 0;
	case APIC_TIMER_INITIAL: *val = l->timer_initial; return 0;
	case APIC_TIMER_CURRENT: *val = timer_current(l, vlapic_now()); return 0;
	case APIC_TIMER_DIVIDE: *val = l->timer_divide; return 0;
	}
	if (x2)
		return -EINVAL; /* EOI and SELF IPI are write-only; APR, DFR, ICR high are gone */
	switch (off) {
	case APIC_APR: *val = apr(l); return 0;
	case APIC_DFR: *val = l->dfr | (u32)APIC_DFR_ONES; return 0;
	case APIC_ICR_LO: *val = l->icr_lo; return 0;
	case APIC_ICR_HI: *val = l->icr_hi; return 0;
	case APIC_EOI:
	case APIC_RRD: return 0;
	}
	return no_register(l);
}

/* In x2APIC mode a write that sets reserved bits raises #GP (SDM 11.12.1.2); the xAPIC page
 * ignores them. */
static bool reserved(const struct vlapic *l, u32 val, u32 writable)
{
	return vlapic_x2apic(l) && (val & ~writable);
}

static void svr_write(struct vlapic *l, u32 val)
{
	l->svr = val & (u32)SVR_WRITABLE;
	if (sw_enabled(l))
		return;
	/* Software disabled: every LVT masked (SDM 11.4.7.2). */
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		__atomic_fetch_or(&l->lvt[i], (u32)APIC_LVT_MASKED, __ATOMIC_ACQ_REL);
}

static int lvt_write(struct vlapic *l, int i, u32 val)
{
	if (reserved(l, val, lvt_writable[i] | (u32)LVT_READ_ONLY) ||
	    (vlapic_x2apic(l) && i == VLAPIC_LVT_TIMER &&
	     FIELD_GET(APIC_LVT_TIMER_MODE, val) > APIC_TIMER_TSC_DEADLINE))
		return -EINVAL;
	val &= lvt_writable[i];
	if (!sw_enabled(l))
		val |= (u32)APIC_LVT_MASKED;
	if (i == VLAPIC_LVT_TIMER)
		timer_lvt_write(l, val);
	else
		__atomic_store_n(&l->lvt[i], val, __ATOMIC_RELEASE);
	return 0;
}

static int reg_write(struct vlapic *l, u32 off, u32 val)
{
	bool x2 = vlapic_x2apic(l);
	int lvt = lvt_index(off);

	if (lvt >= 0)
		return lvt_write(l, lvt, val);
	switch (off) {
	case APIC_TPR:
		if (reserved(l, val, APIC_PRIO_MASK))
			return -EINVAL;
		l->tpr = val & (u32)APIC_PRIO_MASK;
		return 0;
	case APIC_EOI:
		if (x2 && val)
			return -EINVAL;
		eoi(l);
		return 0;
	case APIC_SVR:
		if (reserved(l, val, SVR_WRITABLE))
			return -EINVAL;
		svr_write(l, val);
		return 0;
	case APIC_ESR:
		if (x2 && val)
			return -EINVAL;
		l->esr = __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_ACQ_REL);
		return 0;
	case APIC_TIMER_INITIAL: timer_initial_write(l, val); return 0;
	case APIC_TIMER_DIVIDE:
		if (reserved(l, val, DIVIDE_WRITABLE))
			return -EINVAL;
		timer_divide_write(l, val);
		return 0;
	}
	if (x2) {
		if (off != APIC_SELF_IPI || val & ~(u32)APIC_ICR_VECTOR)
			return -EINVAL; /* read-only, absent, or reserved bits */
		/* SDM 11.12.11: a fixed, edge-triggered interrupt to this APIC. */
		if (val < VEC_FIRST_LEGAL)
			raise_error(l, APIC_ESR_SEND_ILLEGAL);
		else
			local_irq(l, (u8)val);
		return 0;
	}
	switch (off) {
	case APIC_LDR: l->ldr = val & (u32)APIC_LDR_XAPIC; return 0;
	case APIC_DFR: l->dfr = val & (u32)APIC_DFR_MODEL; return 0;
	case APIC_ICR_HI: l->icr_hi = val & (u32)APIC_ICR_DEST_XAPIC; return 0;
	case APIC_ICR_LO:
		l->icr_lo = val & (u32)APIC_ICR_WRITABLE;
		send_ipi(l, l->icr_lo, (u32)FIELD_GET(APIC_ICR_DEST_XAPIC, l->icr_hi));
		return 0;
	case APIC_ID:
	case APIC_VERSION:
	case APIC_APR:
	case APIC_PPR:
	case APIC_RRD:
	case APIC_TIMER_CURRENT: return 0; /* read-only (the ID too: see docs/linux-guest.md) */
	}
	if (vec_reg(l, off))
		return 0;
	return no_register(l);
}

/* ---- the xAPIC page ---- */

bool vlapic_mmio_owned(u64 gpa)
{
	return gpa >> PAGE_SHIFT == GUEST_LAPIC_BASE >> PAGE_SHIFT;
}

/* The page decodes while the APIC is enabled in xAPIC mode; otherwise (disabled, or in
 * x2APIC mode, SDM 11.12.2) it reads all-ones and ignores writes, like unbacked memory. */
static bool page_live(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && !vlapic_x2apic(l);
}

int vlapic_mmio_read(struct vlapic *l, u32 offset, u32 *val)
{
	if (offset >= PAGE_SIZE || offset & 3)
		return -EINVAL;
	*val = ~0U;
	if (!page_live(l))
		return 0;
	*val = 0;
	if (offset & 0xf)
		return 0; /* bytes 4-15 of each register's 16 are reserved */
	return reg_read(l, offset, val);
}

int vlapic_mmio_write(struct vlapic *l, u32 offset, u32 val)
{
	if (offset >= PAGE_SIZE || offset & 3)
		return -EINVAL;
	if (!page_live(l) || offset & 0xf)
		return 0;
	return reg_write(l, offset, val);
}

/* ---- MSRs ---- */

bool vlapic_msr_owned(u32 msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

static void log_refusal(struct vlapic *l, const char *what, u64 val)
{
	unsigned dropped;

	if (ratelimit_allow(&l->log_limit, time_us(), &dropped))
		pr_info("guest %s: vCPU %u: %s (%#llx) refused: #GP (%u not logged)\n",
			l->vcpu->guest->cfg.name, l->id, what, (unsigned long long)val, dropped);
}

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.5): the base stays at GUEST_LAPIC_BASE (moat does not
 * move the page: Linux never does), the BSP flag is read-only, and only the mode
 * transitions of SDM Figure 11-27 are allowed; disabling the APIC resets it. */
static int base_write(struct vlapic *l, u64 val)
{
	bool was_en = vlapic_hw_enabled(l), was_x2 = vlapic_x2apic(l);
	bool en = val & APIC_BASE_ENABLE, x2 = val & APIC_BASE_X2APIC;

	if (val & ~BASE_WRITABLE)
		return -EINVAL;
	if ((val & APIC_BASE_ADDR) != GUEST_LAPIC_BASE) {
		log_refusal(l, "IA32_APIC_BASE moving the APIC page", val);
		return -EINVAL;
	}
	if ((x2 && !en) || (was_x2 && en && !x2) || (!was_en && x2))
		return -EINVAL;
	l->apic_base = (l->apic_base & APIC_BASE_BSP) | GUEST_LAPIC_BASE |
		       (val & (APIC_BASE_ENABLE | APIC_BASE_X2APIC));
	if (was_en && !en)
		reset_regs(l);
	return 0;
}

int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *val)
{
	u32 v;
	int err;

	*val = 0;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = l->apic_base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
			*val = l->tsc_deadline;
		return 0;
	}
	if (!vlapic_x2apic(l) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -EINVAL;
	if (msr == X2APIC_MSR(APIC_ICR_LO)) {
		*val = (u64)l->icr_hi << 32 | l->icr_lo;
		return 0;
	}
	err = reg_read(l, X2APIC_OFFSET(msr), &v);
	*val = v;
	return err;
}

int vlapic_msr_write(struct vlapic *l, u32 msr, u64 val)
{
	if (msr == MSR_IA32_APIC_BASE)
		return base_write(l, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		/* Ignored outside TSC-deadline mode (SDM 11.5.4.1); 0 disarms. */
		if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE && vlapic_hw_enabled(l)) {
			l->tsc_deadline = val;
			l->timer_deadline = val;
		}
		return 0;
	}
	if (!vlapic_x2apic(l) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -EINVAL;
	if (msr == X2APIC_MSR(APIC_ICR_LO)) {
		if ((u32)val & ~(u32)(APIC_ICR_WRITABLE | APIC_ICR_BUSY))
			return -EINVAL;
		l->icr_lo = (u32)val & (u32)APIC_ICR_WRITABLE;
		l->icr_hi = (u32)(val >> 32);
		send_ipi(l, l->icr_lo, l->icr_hi);
		return 0;
	}
	if (val >> 32)
		return -EINVAL; /* the upper half of every other x2APIC MSR is reserved */
	return reg_write(l, X2APIC_OFFSET(msr), (u32)val);
}

/* ---- the run loop's side ---- */

int vlapic_pending_vector(struct vlapic *l, u64 now)
{
	int v;

	if (!vlapic_hw_enabled(l))
		return -1;
	timer_expire(l, now);
	if (!sw_enabled(l))
		return -1;
	v = vec_highest(l->irr);
	if (v < 0 || prio_class(v) <= FIELD_GET(APIC_PRIO_CLASS, ppr(l)))
		return -1;
	return v;
}

void vlapic_accept(struct vlapic *l, u8 vector)
{
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
}

/* A masked timer needs no exit: its expiry is accounted for at the next LVT write or
 * pending-vector check. */
u64 vlapic_next_deadline(const struct vlapic *l)
{
	if (!vlapic_hw_enabled(l) || l->lvt[VLAPIC_LVT_TIMER] & APIC_LVT_MASKED)
		return 0;
	return l->timer_deadline;
}
