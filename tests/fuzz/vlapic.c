/* The virtual local APIC's register interface (vmm/vlapic.c) under a hostile guest: a guest
 * of four vCPUs drives its APICs through the xAPIC page and the MSRs, its devices send it
 * messages, time passes and the run loop takes interrupts, while a second guest sits beside
 * it. The input is a sequence of events, each an opcode byte and its operands:
 *   0: xAPIC page write: vCPU, offset (16 bits: unaligned and outside the page included),
 *      value (32)        1: xAPIC page read: vCPU, offset
 *   2: MSR write: vCPU, which (0: APIC_BASE, 1: TSC_DEADLINE, else 0x800 + byte), value (64)
 *   3: MSR read: vCPU, which
 *   4: time passes: TSC ticks (24 bits)
 *   5: the run loop's step on a vCPU: the pending vector taken (IRR to ISR)
 *   6: a device interrupt: vCPU, vector, level
 *   7: a message (MSI / I/O APIC): destination (32), flags (logical, broadcast), mode, vector
 *   8: the run loop takes a vCPU's events
 * After each event: no vector below 16 is pending, requested or in service; a pending vector
 * beats PPR's class; the ICR's delivery status reads idle; the APIC page never moves; an
 * x2APIC-mode APIC is enabled; and nothing ever reaches the other guest. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "vmm/guest_acpi.h"
#include "vmm/vlapic_regs.h"
#include "vmm/vmm.h"
#include "fuzz.h"

#define NR_VCPUS CFG_MAX_VCPUS

static struct guest g, other;
static u64 fake_tsc, fake_us;

u64 vlapic_now(void)
{
	return fake_tsc;
}

u64 tsc_hz(void)
{
	return 2500000000ULL;
}

u64 time_us(void)
{
	return fake_us += 10;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->guest != &g)
		abort(); /* only the sender's own guest may be kicked */
}

static void guest_init(struct guest *gst, const char *name)
{
	memset(gst, 0, sizeof(*gst));
	memcpy(gst->cfg.name, name, strlen(name) + 1);
	memcpy(gst->cfg.kernel, "vmlinuz", 8);
	gst->nr_vcpus = NR_VCPUS;
	for (u32 i = 0; i < NR_VCPUS; i++) {
		gst->vcpu[i].guest = gst;
		gst->vcpu[i].index = i;
		vlapic_reset(&gst->vcpu[i].lapic, &gst->vcpu[i], i, i == 0);
	}
}

static u32 msr_of(u8 which)
{
	if (which == 0)
		return MSR_IA32_APIC_BASE;
	if (which == 1)
		return MSR_IA32_TSC_DEADLINE;
	return X2APIC_MSR_FIRST + which;
}

/* A register as the guest reads it in the APIC's current mode; false if it cannot. */
static bool reg(struct vlapic *l, u32 off, u64 *val)
{
	u32 v32;

	if (vlapic_x2apic(l))
		return !vlapic_msr_read(l, X2APIC_MSR(off), val);
	if (!vlapic_hw_enabled(l) || vlapic_mmio_read(l, off, &v32))
		return false;
	*val = v32;
	return true;
}

static void check(struct vlapic *l)
{
	u64 icr, ppr;
	int v;

	if ((l->irr[0] | l->isr[0]) & 0xffff)
		abort(); /* SDM 11.5.2: never an IRR or ISR bit for vectors 0-15 */
	if ((l->apic_base & APIC_BASE_ADDR) != GUEST_LAPIC_BASE)
		abort();
	if ((l->apic_base & APIC_BASE_X2APIC) && !vlapic_hw_enabled(l))
		abort(); /* the invalid state of SDM Figure 11-27 */
	if (reg(l, APIC_ICR_LO, &icr) && (icr & APIC_ICR_BUSY))
		abort();
	v = vlapic_pending_vector(l, fake_tsc);
	if (v >= 0 && (v < 16 || !reg(l, APIC_PPR, &ppr) || (u32)v >> 4 <= (ppr & 0xff) >> 4))
		abort();
}

static void untouched(struct guest *gst)
{
	for (u32 i = 0; i < NR_VCPUS; i++) {
		const struct vlapic *l = &gst->vcpu[i].lapic;

		for (unsigned w = 0; w < 8; w++)
			if (l->irr[w] || l->isr[w])
				abort();
		if (l->events || l->esr_pending)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};

	fake_tsc = 1000000;
	fake_us = 0;
	guest_init(&g, "victim");
	guest_init(&other, "other");
	while (f.n) {
		u8 op = fin_u8(&f) % 9;
		struct vlapic *l = &g.vcpu[fin_u8(&f) % NR_VCPUS].lapic;
		u32 val32;
		u64 val64;
		int v;

		switch (op) {
		case 0: {
			u32 off = fin_u16(&f);

			vlapic_mmio_write(l, off, fin_u32(&f));
			break;
		}
		case 1: vlapic_mmio_read(l, fin_u16(&f), &val32); break;
		case 2: {
			u32 msr = msr_of(fin_u8(&f));

			vlapic_msr_write(l, msr, fin_take(&f, 8));
			break;
		}
		case 3: vlapic_msr_read(l, msr_of(fin_u8(&f)), &val64); break;
		case 4: fake_tsc += fin_take(&f, 3); break;
		case 5:
			v = vlapic_pending_vector(l, fake_tsc);
			if (v >= 0)
				vlapic_accept(l, (u8)v);
			break;
		case 6: {
			u8 vec = fin_u8(&f);

			vlapic_set_irq(l, vec, fin_u8(&f) & 1);
			break;
		}
		case 7: {
			struct vlapic_msg m = {.dest = fin_u32(&f)};
			u8 flags = fin_u8(&f);

			m.logical = flags & 1;
			m.broadcast = flags & 2;
			m.mode = (enum vlapic_delivery)(fin_u8(&f) & 7);
			m.vector = fin_u8(&f);
			vlapic_deliver(&g, &m);
			break;
		}
		case 8: vlapic_take_events(l, NULL); break;
		}
		for (u32 i = 0; i < NR_VCPUS; i++)
			check(&g.vcpu[i].lapic);
	}
	untouched(&other);
	return 0;
}
