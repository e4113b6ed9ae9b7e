/* The virtual local APIC (vmm/vlapic.c) against the SDM (Vol. 3 ch. 11): reset state,
 * priority (TPR/PPR/APR), IRR/ISR/EOI sequences, error reporting, the timer in its three
 * modes on a fake TSC, the divide values, LVT masks and reserved bits, x2APIC MSRs and their
 * #GP cases, IA32_APIC_BASE transitions, and IPIs to a guest's own vCPUs only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/cpu.h"
#include "vmm/guest_acpi.h"
#include "vmm/vlapic_regs.h"
#include "vmm/vmm.h"
#include "host_shim.h"

/* A 2.5 GHz TSC: the timer's input clock is TSC / 25 (VLAPIC_BUS_HZ). */
#define FAKE_TSC_HZ 2500000000ULL
#define TPT 25

static u64 fake_tsc = 1000000;
static u64 fake_us;
static unsigned kicks[CFG_MAX_VCPUS];

u64 vlapic_now(void)
{
	return fake_tsc;
}

u64 tsc_hz(void)
{
	return FAKE_TSC_HZ;
}

u64 time_us(void)
{
	return fake_us;
}

void vcpu_kick(struct vcpu *v)
{
	kicks[v->index]++;
}

static struct guest g1, g2;
static struct guest *eoi_guest;
static int eoi_vector = -1, eoi_calls;

static void eoi_hook(struct guest *g, u8 vector)
{
	eoi_guest = g;
	eoi_vector = vector;
	eoi_calls++;
}

static void guest_init(struct guest *g, const char *name, u32 nr)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->cfg.name, sizeof(g->cfg.name), "%s", name);
	g->nr_vcpus = nr;
	for (u32 i = 0; i < nr; i++) {
		g->vcpu[i].guest = g;
		g->vcpu[i].index = i;
		vlapic_reset(&g->vcpu[i].lapic, &g->vcpu[i], i, i == 0);
	}
}

static int setup(void **state)
{
	fake_tsc = 1000000;
	fake_us = 0;
	memset(kicks, 0, sizeof(kicks));
	eoi_guest = NULL;
	eoi_vector = -1;
	eoi_calls = 0;
	guest_init(&g1, "linux1", 4);
	guest_init(&g2, "linux2", 4);
	shim_log_clear();
	return 0;
}

static struct vlapic *lap(struct guest *g, unsigned i)
{
	return &g->vcpu[i].lapic;
}

static u32 rd(struct vlapic *l, u32 off)
{
	u32 v = 0xdeadbeef;

	assert_int_equal(vlapic_mmio_read(l, off, &v), 0);
	return v;
}

static void wr(struct vlapic *l, u32 off, u32 val)
{
	assert_int_equal(vlapic_mmio_write(l, off, val), 0);
}

/* Software-enabled with spurious vector 0xff, as Linux's setup_local_APIC leaves it. */
static void enable(struct vlapic *l)
{
	wr(l, APIC_SVR, APIC_SVR_ENABLE | APIC_SVR_FOCUS_OFF | 0xff);
}

static u64 msr_rd(struct vlapic *l, u32 msr)
{
	u64 v = 0;

	assert_int_equal(vlapic_msr_read(l, msr, &v), 0);
	return v;
}

static void to_x2apic(struct vlapic *l)
{
	u64 base = msr_rd(l, MSR_IA32_APIC_BASE);

	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC), 0);
	assert_true(vlapic_x2apic(l));
}

static bool irr(struct vlapic *l, unsigned v)
{
	return rd(l, APIC_IRR + (v / 32) * 16) & (1U << (v % 32));
}

static bool isr(struct vlapic *l, unsigned v)
{
	return rd(l, APIC_ISR + (v / 32) * 16) & (1U << (v % 32));
}

/* The run loop's step: the pending vector taken (IRR to ISR), or -1. */
static int take(struct vlapic *l)
{
	int v = vlapic_pending_vector(l, fake_tsc);

	if (v >= 0)
		vlapic_accept(l, (u8)v);
	return v;
}

static u32 read_esr(struct vlapic *l)
{
	wr(l, APIC_ESR, 0);
	return rd(l, APIC_ESR);
}

static void test_reset_state(void **state)
{
	struct vlapic *bsp = lap(&g1, 0), *ap = lap(&g1, 2);

	assert_int_equal(rd(ap, APIC_ID), 2U << 24);
	assert_int_equal(rd(bsp, APIC_VERSION), 0x60014); /* 7 LVTs, no EOI suppression */
	assert_int_equal(rd(bsp, APIC_SVR), 0xff);
	assert_int_equal(rd(bsp, APIC_DFR), 0xffffffff);
	assert_int_equal(rd(bsp, APIC_LDR), 0);
	assert_int_equal(rd(bsp, APIC_TPR), 0);
	for (u32 off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 16)
		assert_int_equal(rd(bsp, off), APIC_LVT_MASKED);
	assert_int_equal(rd(bsp, APIC_LVT_CMCI), APIC_LVT_MASKED);
	assert_int_equal(msr_rd(bsp, MSR_IA32_APIC_BASE),
			 GUEST_LAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP);
	assert_int_equal(msr_rd(ap, MSR_IA32_APIC_BASE), GUEST_LAPIC_BASE | APIC_BASE_ENABLE);
	assert_true(vlapic_mmio_owned(GUEST_LAPIC_BASE + 0x300));
	assert_false(vlapic_mmio_owned(GUEST_LAPIC_BASE + 0x1000));
	/* Unaligned accesses are not register accesses: the caller stops the guest. */
	u32 v;
	assert_int_equal(vlapic_mmio_read(bsp, 0x302, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_write(bsp, 0x1000, 0), -EINVAL);
	/* Software disabled: no fixed interrupt is accepted. */
	vlapic_set_irq(bsp, 0x40, false);
	assert_false(irr(bsp, 0x40));
	assert_int_equal(vlapic_pending_vector(bsp, fake_tsc), -1);
}

static void test_priority(void **state)
{
	struct vlapic *l = lap(&g1, 0);

	enable(l);
	/* TPR 0x50: a class-5 vector waits, a class-6 one is taken. */
	wr(l, APIC_TPR, 0x55);
	assert_int_equal(rd(l, APIC_PPR), 0x55);
	vlapic_set_irq(l, 0x5f, false);
	assert_int_equal(vlapic_pending_vector(l, fake_tsc), -1);
	vlapic_set_irq(l, 0x61, false);
	assert_int_equal(take(l), 0x61);
	/* In service 0x61: PPR is its class, a second class-6 vector waits. */
	assert_int_equal(rd(l, APIC_PPR), 0x60);
	wr(l, APIC_TPR, 0x65); /* same class as in service: TPR with its low bits */
	assert_int_equal(rd(l, APIC_PPR), 0x65);
	wr(l, APIC_TPR, 0x55);
	vlapic_set_irq(l, 0x6a, false);
	assert_int_equal(vlapic_pending_vector(l, fake_tsc), -1);
	/* APR: the highest of TPR, ISR and IRR classes (SDM Figure 11-15). */
	assert_int_equal(rd(l, APIC_APR), 0x60);
	vlapic_set_irq(l, 0x71, false);
	assert_int_equal(take(l), 0x71); /* nests above 0x61 */
	assert_int_equal(rd(l, APIC_PPR), 0x70);
	/* TPR above the ISR class wins PPR, with its low bits. */
	wr(l, APIC_TPR, 0x83);
	assert_int_equal(rd(l, APIC_PPR), 0x83);
	wr(l, APIC_TPR, 0);
	/* EOI retires the highest in service first. */
	wr(l, APIC_EOI, 0);
	assert_false(isr(l, 0x71));
	assert_true(isr(l, 0x61));
	assert_int_equal(vlapic_pending_vector(l, fake_tsc), -1); /* 0x6a still blocked */
	wr(l, APIC_EOI, 0);
	assert_int_equal(rd(l, APIC_PPR), 0);
	assert_int_equal(take(l), 0x6a);
	wr(l, APIC_EOI, 0);
	assert_int_equal(take(l), 0x5f);
	wr(l, APIC_EOI, 0);
	assert_int_equal(take(l), -1);
	/* An EOI with nothing in service does nothing. */
	wr(l, APIC_EOI, 0);
	assert_int_equal(rd(l, APIC_ISR + 0x30), 0);
}

static void test_level_eoi_hook(void **state)
{
	struct vlapic *l = lap(&g1, 1);

	vlapic_set_eoi_hook(&g1, eoi_hook);
	enable(l);
	vlapic_set_irq(l, 0x30, true);
	vlapic_set_irq(l, 0x40, false);
	assert_true(rd(l, APIC_TMR + 0x10) & BIT(16)); /* vector 0x30 level: TMR bit */
	assert_false(rd(l, APIC_TMR + 0x20));
	assert_int_equal(take(l), 0x40);
	wr(l, APIC_EOI, 0);
	assert_int_equal(eoi_calls, 0); /* edge: nobody told */
	assert_int_equal(take(l), 0x30);
	wr(l, APIC_EOI, 0);
	assert_int_equal(eoi_calls, 1);
	assert_ptr_equal(eoi_guest, &g1);
	assert_int_equal(eoi_vector, 0x30);
	/* The hook survives INIT. */
	vlapic_init_signal(l);
	enable(l);
	vlapic_set_irq(l, 0x31, true);
	assert_int_equal(take(l), 0x31);
	wr(l, APIC_EOI, 0);
	assert_int_equal(eoi_calls, 2);
	assert_true(kicks[1] >= 3);
}

static void test_errors(void **state)
{
	struct vlapic *l = lap(&g1, 0);

	enable(l);
	/* ESR: written, then read (SDM 11.5.3); errors latch until the next write. */
	vlapic_set_irq(l, 7, false);
	assert_false(irr(l, 7));
	assert_int_equal(rd(l, APIC_ESR), 0);
	assert_int_equal(read_esr(l), APIC_ESR_RECV_ILLEGAL);
	assert_int_equal(read_esr(l), 0);
	/* An IPI with an illegal vector is not sent: send illegal vector. */
	wr(l, APIC_ICR_HI, 1U << 24);
	wr(l, APIC_ICR_LO, 0x0003);
	assert_false(irr(lap(&g1, 1), 3));
	assert_int_equal(read_esr(l), APIC_ESR_SEND_ILLEGAL);
	/* With the error LVT unmasked, the error raises its vector. */
	wr(l, APIC_LVT_ERROR, 0xfe);
	assert_int_equal(rd(l, APIC_LVT_ERROR), 0xfe);
	wr(l, 0x3a0, 1); /* a reserved register */
	assert_int_equal(take(l), 0xfe);
	assert_int_equal(read_esr(l), APIC_ESR_ILLEGAL_REG);
	/* A timer with an illegal vector: received illegal vector, nothing in IRR. */
	wr(l, APIC_TIMER_DIVIDE, 0xb);
	wr(l, APIC_LVT_TIMER, 0x05);
	wr(l, APIC_TIMER_INITIAL, 10);
	fake_tsc += 10 * TPT;
	wr(l, APIC_EOI, 0);
	assert_int_equal(take(l), 0xfe);
	assert_false(irr(l, 5));
	assert_int_equal(read_esr(l), APIC_ESR_RECV_ILLEGAL);
}

static void test_lvt_masks(void **state)
{
	struct vlapic *l = lap(&g1, 0);

	/* Software disabled: the mask cannot be cleared (SDM 11.4.7.2). */
	wr(l, APIC_LVT_LINT0, 0x700);
	assert_int_equal(rd(l, APIC_LVT_LINT0), APIC_LVT_MASKED | 0x700);
	enable(l);
	/* Reserved and read-only bits read back as zero. */
	wr(l, APIC_LVT_LINT0, 0xffffffff);
	assert_int_equal(rd(l, APIC_LVT_LINT0), 0x1a7ff);
	wr(l, APIC_LVT_TIMER, 0xffffffff);
	assert_int_equal(rd(l, APIC_LVT_TIMER), 0x100ff); /* mode 3 is reserved: kept */
	wr(l, APIC_LVT_ERROR, 0xffffffff);
	assert_int_equal(rd(l, APIC_LVT_ERROR), 0x100ff);
	wr(l, APIC_LVT_PERF, 0xffffffff);
	assert_int_equal(rd(l, APIC_LVT_PERF), 0x107ff);
	wr(l, APIC_LVT_LINT1, APIC_LVT_MASKED | 0x400);
	assert_int_equal(rd(l, APIC_LVT_LINT1), APIC_LVT_MASKED | 0x400);
	wr(l, APIC_TPR, 0x1ff);
	assert_int_equal(rd(l, APIC_TPR), 0xff);
	wr(l, APIC_SVR, 0xffffffff);
	assert_int_equal(rd(l, APIC_SVR), 0x3ff);
	wr(l, APIC_DFR, 0x0fffffff);
	assert_int_equal(rd(l, APIC_DFR), 0x0fffffff);
	wr(l, APIC_LDR, 0xffffffff);
	assert_int_equal(rd(l, APIC_LDR), 0xff000000);
	wr(l, APIC_ICR_HI, 0xffffffff);
	assert_int_equal(rd(l, APIC_ICR_HI), 0xff000000);
	/* The ID is read-only; the delivery status always reads idle. */
	wr(l, APIC_ID, 5U << 24);
	assert_int_equal(rd(l, APIC_ID), 0);
	/* Software disable masks every LVT. */
	wr(l, APIC_LVT_ERROR, 0xf0);
	wr(l, APIC_SVR, 0xff);
	assert_int_equal(rd(l, APIC_LVT_ERROR), APIC_LVT_MASKED | 0xf0);
}

/* One-shot: initial 1000 at divide 16 -> 16000 bus ticks. */
static void test_timer_oneshot(void **state)
{
	struct vlapic *l = lap(&g1, 0);
	u64 t0 = fake_tsc, period = 1000ULL * 16 * TPT;

	enable(l);
	wr(l, APIC_TIMER_DIVIDE, 3);
	wr(l, APIC_LVT_TIMER, 0xec);
	assert_int_equal(vlapic_next_deadline(l), 0);
	wr(l, APIC_TIMER_INITIAL, 1000);
	assert_int_equal(rd(l, APIC_TIMER_INITIAL), 1000);
	assert_int_equal(vlapic_next_deadline(l), t0 + period);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 1000);
	fake_tsc = t0 + 250 * 16 * TPT;
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 750);
	assert_int_equal(take(l), -1);
	fake_tsc = t0 + period - 1;
	assert_int_equal(take(l), -1);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 0); /* less than one tick left */
	fake_tsc = t0 + period;
	assert_int_equal(take(l), 0xec);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 0);
	assert_int_equal(vlapic_next_deadline(l), 0);
	fake_tsc += 10 * period;
	wr(l, APIC_EOI, 0);
	assert_int_equal(take(l), -1); /* once */
	/* A new count re-arms; 0 stops it. */
	wr(l, APIC_TIMER_INITIAL, 10);
	assert_int_equal(vlapic_next_deadline(l), fake_tsc + 10 * 16 * TPT);
	wr(l, APIC_TIMER_INITIAL, 0);
	assert_int_equal(vlapic_next_deadline(l), 0);
	fake_tsc += period;
	assert_int_equal(take(l), -1);
}

static void test_timer_periodic(void **state)
{
	struct vlapic *l = lap(&g1, 0);
	u64 t0 = fake_tsc, period = 100ULL * 1 * TPT;

	enable(l);
	wr(l, APIC_TIMER_DIVIDE, 0xb); /* divide by 1 */
	wr(l, APIC_LVT_TIMER, (APIC_TIMER_PERIODIC << 17) | 0xef);
	wr(l, APIC_TIMER_INITIAL, 100);
	/* Taken late (by 37 TSC ticks): the next deadline stays on the grid. */
	fake_tsc = t0 + period + 37;
	assert_int_equal(take(l), 0xef);
	wr(l, APIC_EOI, 0);
	assert_int_equal(vlapic_next_deadline(l), t0 + 2 * period);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), (period - 37) / TPT);
	/* Five periods unseen: one interrupt, the grid kept. */
	fake_tsc = t0 + 7 * period + 3;
	assert_int_equal(take(l), 0xef);
	wr(l, APIC_EOI, 0);
	assert_int_equal(take(l), -1);
	assert_int_equal(vlapic_next_deadline(l), t0 + 8 * period);
	/* Masked: it keeps counting but raises nothing, and asks for no exit. */
	wr(l, APIC_LVT_TIMER, (APIC_TIMER_PERIODIC << 17) | APIC_LVT_MASKED | 0xef);
	assert_int_equal(vlapic_next_deadline(l), 0);
	fake_tsc = t0 + 9 * period;
	assert_int_equal(take(l), -1);
	wr(l, APIC_LVT_TIMER, (APIC_TIMER_PERIODIC << 17) | 0xef);
	assert_int_equal(vlapic_next_deadline(l), t0 + 10 * period);
	assert_int_equal(take(l), -1);
	/* A mode change disarms the timer (SDM 11.5.4.1). */
	wr(l, APIC_LVT_TIMER, 0xef);
	assert_int_equal(vlapic_next_deadline(l), 0);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 0);
	assert_int_equal(rd(l, APIC_TIMER_INITIAL), 0);
}

static void test_timer_divide(void **state)
{
	static const struct {
		u32 dcr, div;
	} table[] = {{0x0, 2},	{0x1, 4},  {0x2, 8},   {0x3, 16},
		     {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1}};
	struct vlapic *l = lap(&g1, 0);

	enable(l);
	wr(l, APIC_LVT_TIMER, 0x40);
	for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
		wr(l, APIC_TIMER_DIVIDE, table[i].dcr | 0xf4); /* reserved bits ignored */
		assert_int_equal(rd(l, APIC_TIMER_DIVIDE), table[i].dcr);
		wr(l, APIC_TIMER_INITIAL, 7);
		assert_int_equal(vlapic_next_deadline(l), fake_tsc + 7ULL * table[i].div * TPT);
	}
	/* A new divisor applies to what is left: 7 at divide 1, half gone, then divide 2. */
	wr(l, APIC_TIMER_DIVIDE, 0xb);
	wr(l, APIC_TIMER_INITIAL, 8);
	fake_tsc += 4 * TPT;
	wr(l, APIC_TIMER_DIVIDE, 0x0);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 4);
	assert_int_equal(vlapic_next_deadline(l), fake_tsc + 4 * 2 * TPT);
}

static void test_timer_tsc_deadline(void **state)
{
	struct vlapic *l = lap(&g1, 0);

	enable(l);
	/* Outside TSC-deadline mode the MSR ignores writes and reads 0. */
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, fake_tsc + 500), 0);
	assert_int_equal(msr_rd(l, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_next_deadline(l), 0);
	wr(l, APIC_LVT_TIMER, (APIC_TIMER_TSC_DEADLINE << 17) | 0xec);
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, fake_tsc + 500), 0);
	assert_int_equal(msr_rd(l, MSR_IA32_TSC_DEADLINE), fake_tsc + 500);
	assert_int_equal(vlapic_next_deadline(l), fake_tsc + 500);
	/* The initial count is ignored, the current count reads 0. */
	wr(l, APIC_TIMER_INITIAL, 1);
	assert_int_equal(vlapic_next_deadline(l), fake_tsc + 500);
	assert_int_equal(rd(l, APIC_TIMER_CURRENT), 0);
	fake_tsc += 499;
	assert_int_equal(take(l), -1);
	fake_tsc += 1;
	assert_int_equal(take(l), 0xec);
	assert_int_equal(msr_rd(l, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_next_deadline(l), 0);
	wr(l, APIC_EOI, 0);
	/* A deadline already past fires at the next check; 0 disarms. */
	vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 1);
	assert_int_equal(take(l), 0xec);
	wr(l, APIC_EOI, 0);
	vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, fake_tsc + 10);
	vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 0);
	fake_tsc += 20;
	assert_int_equal(take(l), -1);
	/* Leaving the mode disarms it. */
	vlapic_msr_write(l, MSR_IA32_TSC_DEADLINE, fake_tsc + 10);
	wr(l, APIC_LVT_TIMER, 0xec);
	fake_tsc += 20;
	assert_int_equal(take(l), -1);
	/* Mode 3 is reserved: the mode stays. */
	wr(l, APIC_LVT_TIMER, (3 << 17) | 0xec);
	assert_int_equal(rd(l, APIC_LVT_TIMER), 0xec);
}

static void test_x2apic_msrs(void **state)
{
	struct vlapic *l = lap(&g1, 3);
	u64 v;

	/* Not in x2APIC mode: every x2APIC MSR raises #GP. */
	assert_int_equal(vlapic_msr_read(l, X2APIC_MSR(APIC_ID), &v), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_TPR), 0), -EINVAL);
	to_x2apic(l);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_ID)), 3);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_VERSION)), 0x60014);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_LDR)), 0x8); /* cluster 0, bit 3 */
	/* The page is gone in x2APIC mode: all-ones, writes ignored. */
	assert_int_equal(rd(l, APIC_ID), 0xffffffff);
	wr(l, APIC_TPR, 0x20);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_TPR)), 0);
	/* Registers that do not exist, and write-only ones read: #GP (SDM 11.12.1.2). */
	static const u32 no_read[] = {APIC_EOI, APIC_SELF_IPI, APIC_APR, APIC_RRD,
				      APIC_DFR, APIC_ICR_HI,   0x040,	 0x3f0 + 0x10};
	for (unsigned i = 0; i < ARRAY_SIZE(no_read); i++)
		assert_int_equal(vlapic_msr_read(l, X2APIC_MSR(no_read[i]), &v), -EINVAL);
	/* Read-only and absent registers written, reserved bits, non-zero EOI/ESR: #GP. */
	static const u32 no_write[] = {APIC_ID,	 APIC_VERSION,	     APIC_PPR, APIC_LDR,
				       APIC_DFR, APIC_TIMER_CURRENT, APIC_ISR, APIC_IRR + 0x70,
				       APIC_TMR, APIC_ICR_HI,	     APIC_APR};
	for (unsigned i = 0; i < ARRAY_SIZE(no_write); i++)
		assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(no_write[i]), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_EOI), 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_ESR), 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_TPR), 1ULL << 32), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_TPR), 0x100), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_SVR), 0x11ff), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_LVT_TIMER), 3 << 17), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_TIMER_DIVIDE), 0x10), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_SELF_IPI), 0x140), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_ICR_LO), 1U << 20 | 0x40), -EINVAL);
	/* What works: SVR, ESR, SELF IPI, EOI, the 64-bit ICR. */
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_SVR), 0x1ff), 0);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_SELF_IPI), 0x44), 0);
	assert_int_equal(take(l), 0x44);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_ISR + 0x20)), 0x10);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_EOI), 0), 0);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_SELF_IPI), 0x4), 0);
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_ESR), 0), 0);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_ESR)), APIC_ESR_SEND_ILLEGAL);
	enable(lap(&g1, 1));
	assert_int_equal(vlapic_msr_write(l, X2APIC_MSR(APIC_ICR_LO), 1ULL << 32 | 0x4051), 0);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_ICR_LO)), 1ULL << 32 | 0x4051);
	assert_true(irr(lap(&g1, 1), 0x51));
}

static void test_apic_base(void **state)
{
	struct vlapic *l = lap(&g1, 1);
	u64 base = GUEST_LAPIC_BASE | APIC_BASE_ENABLE;

	/* Relocation, reserved bits, EXTD without EN: #GP; the guest's name is logged. */
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, 0xfed00000 | APIC_BASE_ENABLE),
			 -EINVAL);
	assert_true(shim_log_seen("guest linux1: vCPU 1: IA32_APIC_BASE moving the APIC page"));
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base | BIT(9)), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, GUEST_LAPIC_BASE | BIT(10)),
			 -EINVAL);
	/* The BSP flag is read-only. */
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base | APIC_BASE_BSP), 0);
	assert_int_equal(msr_rd(l, MSR_IA32_APIC_BASE), base);
	/* xAPIC -> x2APIC -> xAPIC is refused; x2APIC -> disabled -> xAPIC works and resets. */
	enable(l);
	wr(l, APIC_TPR, 0x30);
	to_x2apic(l);
	assert_int_equal(msr_rd(l, X2APIC_MSR(APIC_TPR)), 0x30); /* state kept */
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, GUEST_LAPIC_BASE), 0);
	assert_false(vlapic_hw_enabled(l));
	assert_int_equal(rd(l, APIC_ID), 0xffffffff);
	vlapic_set_irq(l, 0x50, false);
	assert_int_equal(vlapic_pending_vector(l, fake_tsc), -1);
	/* Disabled -> x2APIC directly is refused. */
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC), -EINVAL);
	assert_int_equal(vlapic_msr_write(l, MSR_IA32_APIC_BASE, base), 0);
	assert_int_equal(rd(l, APIC_TPR), 0);
	assert_int_equal(rd(l, APIC_SVR), 0xff);
	assert_int_equal(rd(l, APIC_ID), 1U << 24);
	assert_true(vlapic_msr_owned(MSR_IA32_APIC_BASE));
	assert_true(vlapic_msr_owned(MSR_IA32_TSC_DEADLINE));
	assert_true(vlapic_msr_owned(0x8ff));
	assert_false(vlapic_msr_owned(0x900));
}

static void enable_all(struct guest *g)
{
	for (u32 i = 0; i < g->nr_vcpus; i++)
		enable(lap(g, i));
}

static void ipi(struct vlapic *l, u32 dest, u32 icr)
{
	wr(l, APIC_ICR_HI, dest << 24);
	wr(l, APIC_ICR_LO, icr);
	assert_int_equal(rd(l, APIC_ICR_LO) & APIC_ICR_BUSY, 0);
}

static unsigned count_irr(struct guest *g, unsigned v)
{
	unsigned n = 0;

	for (u32 i = 0; i < g->nr_vcpus; i++)
		n += irr(lap(g, i), v);
	return n;
}

static void test_ipi_destinations(void **state)
{
	enable_all(&g1);
	enable_all(&g2);
	/* Physical: exactly the named vCPU, kicked. */
	ipi(lap(&g1, 0), 2, 0x4041);
	assert_true(irr(lap(&g1, 2), 0x41));
	assert_int_equal(count_irr(&g1, 0x41), 1);
	assert_int_equal(kicks[2], 1);
	/* Logical flat: LDRs 1, 2, 4, 8; destination 0x5 names vCPUs 0 and 2. */
	for (u32 i = 0; i < 4; i++)
		wr(lap(&g1, i), APIC_LDR, (1U << i) << 24);
	ipi(lap(&g1, 1), 0x5, APIC_ICR_LOGICAL | 0x42);
	assert_true(irr(lap(&g1, 0), 0x42) && irr(lap(&g1, 2), 0x42));
	assert_int_equal(count_irr(&g1, 0x42), 2);
	/* Logical cluster: cluster 1 bits 0-1 on vCPUs 0,1, cluster 2 bit 0 on vCPU 2. */
	for (u32 i = 0; i < 4; i++)
		wr(lap(&g1, i), APIC_DFR, 0x0fffffff);
	wr(lap(&g1, 0), APIC_LDR, 0x11U << 24);
	wr(lap(&g1, 1), APIC_LDR, 0x12U << 24);
	wr(lap(&g1, 2), APIC_LDR, 0x21U << 24);
	wr(lap(&g1, 3), APIC_LDR, 0x22U << 24);
	ipi(lap(&g1, 3), 0x13, APIC_ICR_LOGICAL | 0x43);
	assert_true(irr(lap(&g1, 0), 0x43) && irr(lap(&g1, 1), 0x43));
	assert_int_equal(count_irr(&g1, 0x43), 2);
	ipi(lap(&g1, 3), 0x21, APIC_ICR_LOGICAL | 0x44);
	assert_true(irr(lap(&g1, 2), 0x44));
	assert_int_equal(count_irr(&g1, 0x44), 1);
	/* Lowest priority: one of them. */
	ipi(lap(&g1, 3), 0x13, APIC_ICR_LOGICAL | 0x100 | 0x45);
	assert_int_equal(count_irr(&g1, 0x45), 1);
	/* Physical broadcast 0xff: everyone, the sender too. */
	ipi(lap(&g1, 0), 0xff, 0x46);
	assert_int_equal(count_irr(&g1, 0x46), 4);
	/* Shorthands: self, all including self, all excluding self. */
	ipi(lap(&g1, 1), 0, (APIC_SH_SELF << 18) | 0x47);
	assert_true(irr(lap(&g1, 1), 0x47));
	assert_int_equal(count_irr(&g1, 0x47), 1);
	ipi(lap(&g1, 1), 0, (APIC_SH_ALL << 18) | 0x48);
	assert_int_equal(count_irr(&g1, 0x48), 4);
	ipi(lap(&g1, 1), 0, (APIC_SH_OTHERS << 18) | 0x49);
	assert_int_equal(count_irr(&g1, 0x49), 3);
	assert_false(irr(lap(&g1, 1), 0x49));
	/* None of it reached the other guest. */
	for (unsigned v = 0x41; v <= 0x49; v++)
		assert_int_equal(count_irr(&g2, v), 0);
	assert_int_equal(
		lap(&g1, 0)->ipi_nowhere + lap(&g1, 1)->ipi_nowhere + lap(&g1, 3)->ipi_nowhere, 0);
}

static void test_ipi_nowhere(void **state)
{
	struct vlapic *l = lap(&g1, 0);

	guest_init(&g1, "linux1", 2);
	enable_all(&g1);
	enable_all(&g2);
	/* APIC ID 3 is a vCPU of linux2 (and some host CPU), not one of linux1's two. */
	ipi(l, 3, 0x4050);
	ipi(l, 3, APIC_ICR_ASSERT | 0x500);
	assert_int_equal(count_irr(&g2, 0x50), 0);
	assert_int_equal(vlapic_take_events(lap(&g2, 3), NULL), 0);
	assert_int_equal(kicks[3], 0);
	assert_int_equal(l->ipi_nowhere, 2);
	assert_true(shim_log_seen("guest linux1: vCPU 0 sent IPI (ICR 0x4050) to physical "
				  "destination 0x3, which names none of its vCPUs"));
	/* A logical destination no LDR matches. */
	wr(lap(&g1, 1), APIC_LDR, 0x02U << 24);
	ipi(l, 0x80, APIC_ICR_LOGICAL | 0x51);
	assert_int_equal(l->ipi_nowhere, 3);
	/* Rate limited: a storm is counted, only the first few logged in a window. */
	for (int i = 0; i < 100; i++)
		ipi(l, 9, 0x52);
	assert_int_equal(l->ipi_nowhere, 103);
	shim_log_clear();
	ipi(l, 9, 0x52);
	assert_false(shim_log_seen("linux1"));
	fake_us += 2000000;
	ipi(l, 9, 0x52);
	assert_true(shim_log_seen("(105 so far, 99 not logged)"));
	/* vlapic_deliver (device interrupts) says so too. */
	struct vlapic_msg m = {.dest = 9, .mode = VLAPIC_DM_FIXED, .vector = 0x60};
	assert_int_equal(vlapic_deliver(&g1, &m), -ENOENT);
	m.dest = 1;
	assert_int_equal(vlapic_deliver(&g1, &m), 0);
	assert_true(irr(lap(&g1, 1), 0x60));
	assert_int_equal(count_irr(&g2, 0x60), 0);
	/* vlapic_msg_target: the first vCPU named (where an MSI-X entry's IRTE points). */
	assert_int_equal(vlapic_msg_target(&g1, &m), 1);
	m.dest = 9;
	assert_int_equal(vlapic_msg_target(&g1, &m), -1);
	m.logical = true;
	m.dest = 0x02; /* vCPU 1's LDR above */
	assert_int_equal(vlapic_msg_target(&g1, &m), 1);
	m.dest = 0x80;
	assert_int_equal(vlapic_msg_target(&g1, &m), -1);
}

static void test_ipi_init_sipi_nmi(void **state)
{
	struct vlapic *bsp = lap(&g1, 0), *ap = lap(&g1, 1);
	u8 vec = 0;

	enable(bsp);
	/* Linux's wakeup sequence: INIT assert, INIT de-assert, SIPI twice. */
	ipi(bsp, 1, APIC_ICR_LEVEL | APIC_ICR_ASSERT | 0x500);
	assert_int_equal(vlapic_take_events(ap, &vec), VLAPIC_EV_INIT);
	ipi(bsp, 1, APIC_ICR_LEVEL | 0x500);
	assert_int_equal(vlapic_take_events(ap, &vec), 0);
	ipi(bsp, 1, 0x600 | 0x9a);
	assert_int_equal(vlapic_take_events(ap, &vec), VLAPIC_EV_SIPI);
	assert_int_equal(vec, 0x9a);
	assert_int_equal(kicks[1], 2);
	/* NMI to all others: no IRR bit, an event each; not to the sender. */
	ipi(bsp, 0, (APIC_SH_OTHERS << 18) | 0x400);
	for (u32 i = 1; i < 4; i++)
		assert_int_equal(vlapic_take_events(lap(&g1, i), NULL), VLAPIC_EV_NMI);
	assert_int_equal(vlapic_take_events(bsp, NULL), 0);
	/* INIT to everyone else in the guest, none to the other guest. */
	ipi(bsp, 0, (APIC_SH_OTHERS << 18) | APIC_ICR_ASSERT | 0x500);
	assert_int_equal(vlapic_take_events(lap(&g1, 3), NULL), VLAPIC_EV_INIT);
	for (u32 i = 0; i < g2.nr_vcpus; i++)
		assert_int_equal(vlapic_take_events(lap(&g2, i), NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_priority, setup),
		cmocka_unit_test_setup(test_level_eoi_hook, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_lvt_masks, setup),
		cmocka_unit_test_setup(test_timer_oneshot, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_divide, setup),
		cmocka_unit_test_setup(test_timer_tsc_deadline, setup),
		cmocka_unit_test_setup(test_x2apic_msrs, setup),
		cmocka_unit_test_setup(test_apic_base, setup),
		cmocka_unit_test_setup(test_ipi_destinations, setup),
		cmocka_unit_test_setup(test_ipi_nowhere, setup),
		cmocka_unit_test_setup(test_ipi_init_sipi_nmi, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
