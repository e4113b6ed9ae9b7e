/* The virtual I/O APIC (vmm/vioapic.c) against a fake local APIC bus that records each
 * message: registers through IOREGSEL/IOWIN (ID, version, arbitration, redirection entries
 * and their read-only bits), masking, edge pins against level pins with remote IRR and its
 * EOI (from the local APIC and through the EOI register), polarity, the message fields a
 * vCPU receives, and what is dropped. Written from the 82093AA datasheet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "vmm/vioapic.h"
#include "vmm/vmm.h"
#include "host_shim.h"

static struct guest g;

/* ---- fake local APIC bus: the guest has vCPUs with APIC IDs 0..nr_vcpus-1 */
#define MSGS 16
static struct vlapic_msg msgs[MSGS];
static unsigned nr_msgs;

int vlapic_deliver(struct guest *gst, const struct vlapic_msg *m)
{
	assert_ptr_equal(gst, &g);
	assert_true(nr_msgs < MSGS);
	if (!m->logical && !m->broadcast && m->dest >= gst->nr_vcpus)
		return -ENOENT;
	msgs[nr_msgs++] = *m;
	return 0;
}

static int setup(void **state)
{
	memset(&g, 0, sizeof(g));
	strcpy(g.cfg.name, "gst");
	g.nr_vcpus = 2;
	vioapic_init(&g);
	nr_msgs = 0;
	return 0;
}

static u32 reg_read(u32 reg)
{
	u32 v = 0xdeadbeef;

	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_IOREGSEL, reg), 0);
	assert_int_equal(vioapic_mmio_read(&g, IOAPIC_IOWIN, &v), 0);
	return v;
}

static void reg_write(u32 reg, u32 val)
{
	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_IOREGSEL, reg), 0);
	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_IOWIN, val), 0);
}

/* Linux's order (ioapic_write_entry): high dword first, then the low one. */
static void rte_set(unsigned pin, u64 rte)
{
	reg_write(IOAPIC_REG_RTE0 + 2 * pin + 1, (u32)(rte >> 32));
	reg_write(IOAPIC_REG_RTE0 + 2 * pin, (u32)rte);
}

static u64 rte_get(unsigned pin)
{
	return reg_read(IOAPIC_REG_RTE0 + 2 * pin) | (u64)reg_read(IOAPIC_REG_RTE0 + 2 * pin + 1)
							     << 32;
}

static void test_registers(void **state)
{
	u32 v;

	assert_true(vioapic_owns(&g, VIOAPIC_BASE));
	assert_true(vioapic_owns(&g, VIOAPIC_BASE + 0xfff));
	assert_false(vioapic_owns(&g, VIOAPIC_BASE + 0x1000));
	assert_false(vioapic_owns(&g, VIOAPIC_BASE - 4));
	/* version 0x20, 24 entries (maximum redirection entry 23) */
	assert_int_equal(reg_read(IOAPIC_REG_VER), 0x00170020);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	/* the ID is bits 27:24, the rest reads 0; arbitration follows the ID, read-only */
	reg_write(IOAPIC_REG_ID, 0xffffffff);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(reg_read(IOAPIC_REG_ARB), 0x0f000000);
	reg_write(IOAPIC_REG_ARB, 0);
	reg_write(IOAPIC_REG_VER, 0);
	assert_int_equal(reg_read(IOAPIC_REG_ARB), 0x0f000000);
	assert_int_equal(reg_read(IOAPIC_REG_VER), 0x00170020);
	/* IOREGSEL holds 8 bits; registers past the table read 0 and ignore writes */
	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_IOREGSEL, 0x1234), 0);
	assert_int_equal(vioapic_mmio_read(&g, IOAPIC_IOREGSEL, &v), 0);
	assert_int_equal(v, 0x34);
	reg_write(IOAPIC_REG_RTE0 + 2 * VIOAPIC_PINS, 0x55);
	assert_int_equal(reg_read(IOAPIC_REG_RTE0 + 2 * VIOAPIC_PINS), 0);
	assert_int_equal(reg_read(0x03), 0);
	/* the EOI register is write-only, reserved offsets read 0; unaligned is refused */
	assert_int_equal(vioapic_mmio_read(&g, IOAPIC_EOI, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vioapic_mmio_read(&g, 0x20, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vioapic_mmio_read(&g, 0x12, &v), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&g, 0x01, 0), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&g, 0x1000, 0), -EINVAL);
}

static void test_rte_fields(void **state)
{
	/* after reset every pin is masked and everything else zero */
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		assert_int_equal(rte_get(pin), RTE_MASKED);
	/* every writable field keeps what was written; delivery status, remote IRR and the
	 * reserved bits stay 0 */
	rte_set(7, ~0ULL);
	assert_int_equal(rte_get(7), RTE_WRITABLE);
	assert_int_equal(rte_get(7),
			 0xff000000000000ffULL | (7 << 8) | BIT(11) | BIT(13) | BIT(15) | BIT(16));
	rte_set(7,
		0x0300000000000000ULL | RTE_DESTMODE_LOGICAL | FIELD_PREP(RTE_DELMODE, 1) | 0x41);
	assert_int_equal(rte_get(7), 0x0300000000000941ULL);
	/* the halves are independent registers */
	reg_write(IOAPIC_REG_RTE0 + 2 * 7 + 1, 0x01000000);
	assert_int_equal(rte_get(7), 0x0100000000000941ULL);
	assert_int_equal(rte_get(6), RTE_MASKED);
	assert_int_equal(rte_get(8), RTE_MASKED);
	assert_int_equal(nr_msgs, 0);
}

static void test_edge(void **state)
{
	/* masked: an edge is lost, and unmasking later sends nothing */
	rte_set(4, RTE_MASKED | 0x34);
	vioapic_set_irq(&g, 4, true);
	vioapic_set_irq(&g, 4, false);
	rte_set(4, FIELD_PREP(RTE_DEST, 1) | 0x34);
	assert_int_equal(nr_msgs, 0);
	/* unmasked: one message per rising edge, none while the line stays high */
	vioapic_set_irq(&g, 4, true);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(msgs[0].vector, 0x34);
	assert_int_equal(msgs[0].dest, 1);
	assert_false(msgs[0].logical);
	assert_false(msgs[0].broadcast);
	assert_int_equal(msgs[0].mode, VLAPIC_DM_FIXED);
	assert_false(msgs[0].level);
	vioapic_set_irq(&g, 4, true);
	assert_int_equal(nr_msgs, 1);
	vioapic_set_irq(&g, 4, false);
	assert_int_equal(nr_msgs, 1);
	vioapic_set_irq(&g, 4, true);
	assert_int_equal(nr_msgs, 2);
	/* an edge pin has no remote IRR: nothing waits for an EOI */
	assert_int_equal(rte_get(4) & RTE_REMOTE_IRR, 0);
	vioapic_eoi(&g, 0x34);
	assert_int_equal(nr_msgs, 2);
	/* active low: the falling edge is the assertion */
	rte_set(4, RTE_POLARITY_LOW | 0x35);
	vioapic_set_irq(&g, 4, false);
	assert_int_equal(nr_msgs, 3);
	assert_int_equal(msgs[2].vector, 0x35);
	vioapic_set_irq(&g, 4, true);
	assert_int_equal(nr_msgs, 3);
	/* masking again stops it */
	rte_set(4, RTE_MASKED | 0x35);
	vioapic_set_irq(&g, 4, false);
	vioapic_set_irq(&g, 4, true);
	assert_int_equal(nr_msgs, 3);
	assert_int_equal(g.ioapic.delivered, 3);
}

static void test_level(void **state)
{
	rte_set(9, RTE_TRIGGER_LEVEL | 0x49);
	/* asserted: sent once, remote IRR set until the EOI */
	vioapic_set_irq(&g, 9, true);
	assert_int_equal(nr_msgs, 1);
	assert_true(msgs[0].level);
	assert_int_equal(msgs[0].vector, 0x49);
	assert_true(rte_get(9) & RTE_REMOTE_IRR);
	/* remote IRR is read-only: writing the entry keeps it */
	rte_set(9, RTE_TRIGGER_LEVEL | 0x49);
	assert_true(rte_get(9) & RTE_REMOTE_IRR);
	vioapic_set_irq(&g, 9, true);
	assert_int_equal(nr_msgs, 1);
	/* the EOI of another vector does nothing; of this one, sends again (still asserted) */
	vioapic_eoi(&g, 0x48);
	assert_int_equal(nr_msgs, 1);
	assert_true(rte_get(9) & RTE_REMOTE_IRR);
	vioapic_eoi(&g, 0x49);
	assert_int_equal(nr_msgs, 2);
	assert_true(rte_get(9) & RTE_REMOTE_IRR);
	/* deasserted before the EOI: the EOI only clears remote IRR */
	vioapic_set_irq(&g, 9, false);
	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_EOI, 0x49), 0);
	assert_int_equal(nr_msgs, 2);
	assert_false(rte_get(9) & RTE_REMOTE_IRR);
	/* masked while asserted: held, sent when unmasked */
	rte_set(9, RTE_MASKED | RTE_TRIGGER_LEVEL | 0x49);
	vioapic_set_irq(&g, 9, true);
	assert_int_equal(nr_msgs, 2);
	rte_set(9, RTE_TRIGGER_LEVEL | 0x49);
	assert_int_equal(nr_msgs, 3);
	/* the EOI register as Linux uses it (version 0x20), by vector */
	assert_int_equal(vioapic_mmio_write(&g, IOAPIC_EOI, 0x49), 0);
	assert_int_equal(nr_msgs, 4);
	/* switching the pin to edge drops remote IRR (it means nothing for edge) */
	rte_set(9, 0x49);
	assert_false(rte_get(9) & RTE_REMOTE_IRR);
	/* active-low level: a low line is asserted */
	vioapic_set_irq(&g, 9, false);
	rte_set(10, RTE_POLARITY_LOW | RTE_TRIGGER_LEVEL | 0x4a);
	assert_int_equal(nr_msgs, 5);
	assert_int_equal(msgs[4].vector, 0x4a);
}

static void test_destinations(void **state)
{
	/* physical: the vCPU with that APIC ID; one that is not the guest's is dropped and a
	 * level pin does not wait for an EOI that cannot come */
	rte_set(5, FIELD_PREP(RTE_DEST, 0) | 0x50);
	rte_set(6, FIELD_PREP(RTE_DEST, 1) | FIELD_PREP(RTE_DELMODE, 1) | 0x51);
	rte_set(11, FIELD_PREP(RTE_DEST, 5) | RTE_TRIGGER_LEVEL | 0x52);
	vioapic_set_irq(&g, 5, true);
	vioapic_set_irq(&g, 6, true);
	vioapic_set_irq(&g, 11, true);
	assert_int_equal(nr_msgs, 2);
	assert_int_equal(msgs[0].dest, 0);
	assert_int_equal(msgs[1].dest, 1);
	assert_int_equal(msgs[1].mode, VLAPIC_DM_LOWEST);
	assert_false(rte_get(11) & RTE_REMOTE_IRR);
	assert_int_equal(g.ioapic.dropped, 1);
	assert_true(shim_log_seen("IOAPIC pin 11"));
	/* logical (flat: a bit mask of LDRs) and the physical broadcast */
	rte_set(12, FIELD_PREP(RTE_DEST, 0x03) | RTE_DESTMODE_LOGICAL | 0x53);
	rte_set(13, FIELD_PREP(RTE_DEST, 0xff) | 0x54);
	vioapic_set_irq(&g, 12, true);
	vioapic_set_irq(&g, 13, true);
	assert_int_equal(nr_msgs, 4);
	assert_true(msgs[2].logical);
	assert_int_equal(msgs[2].dest, 3);
	assert_false(msgs[2].broadcast);
	assert_true(msgs[3].broadcast);
	/* NMI goes out; SMI, ExtINT (no 8259) and vectors below 16 do not */
	rte_set(14, FIELD_PREP(RTE_DELMODE, VLAPIC_DM_NMI));
	rte_set(15, FIELD_PREP(RTE_DELMODE, VLAPIC_DM_SMI));
	rte_set(16, FIELD_PREP(RTE_DELMODE, VLAPIC_DM_EXTINT) | 0x30);
	rte_set(17, 0x0f);
	for (unsigned pin = 14; pin <= 17; pin++)
		vioapic_set_irq(&g, pin, true);
	assert_int_equal(nr_msgs, 5);
	assert_int_equal(msgs[4].mode, VLAPIC_DM_NMI);
	assert_int_equal(g.ioapic.dropped, 4);
	/* a pin past the last does nothing */
	vioapic_set_irq(&g, VIOAPIC_PINS, true);
	assert_int_equal(nr_msgs, 5);
}

/* moat's own guests have no IOAPIC: their devices' lines reach nothing. */
static void test_absent(void **state)
{
	memset(&g.ioapic, 0, sizeof(g.ioapic));
	g.ioapic.rte[4] = 0x34;
	assert_false(vioapic_owns(&g, VIOAPIC_BASE));
	vioapic_set_irq(&g, 4, true);
	vioapic_eoi(&g, 0x34);
	assert_int_equal(nr_msgs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registers, setup),
		cmocka_unit_test_setup(test_rte_fields, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level, setup),
		cmocka_unit_test_setup(test_destinations, setup),
		cmocka_unit_test_setup(test_absent, setup),
	};

	return cmocka_run_group_tests_name("vioapic", tests, NULL, NULL);
}
