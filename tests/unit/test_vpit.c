/* The guest's 8254 (vmm/vpit.c) against a clock-by-clock model of the datasheet's modes
 * (Intel 8254, 231164: the counting element loads the count on the first CLK pulse after
 * it is written and then counts one CLK pulse at a time), and against what Linux does with
 * it: quick_pit_calibrate's MSB polling and pit_calibrate_tsc's wait for OUT2 on port 0x61. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vpit.h"

/* 3 TSC ticks per PIT clock: PIT clock k spans TSC [T0 + 3k, T0 + 3k + 3). */
#define HZ (3ULL * VPIT_HZ)
#define T0 1000ULL
#define AT(k) (T0 + 3 * (u64)(k) + 1)

static struct vpit pit;

static void out8(u64 k, u16 port, u8 v)
{
	u32 val = v;

	assert_true(vpit_io(&pit, AT(k), port, false, 1, &val));
}

static u8 in8(u64 k, u16 port)
{
	u32 val = 0xdead;

	assert_true(vpit_io(&pit, AT(k), port, true, 1, &val));
	assert_true(val <= 0xff);
	return (u8)val;
}

static u16 latched(u64 k, unsigned ch)
{
	u16 v;

	out8(k, 0x43, (u8)(ch << 6)); /* counter latch */
	v = in8(k, (u16)(0x40 + ch));
	return (u16)(v | in8(k, (u16)(0x40 + ch)) << 8);
}

static u8 status(u64 k, unsigned ch)
{
	out8(k, 0x43, (u8)(0xc0 | PIT_RB_NO_COUNT | BIT(1 + ch)));
	return in8(k, (u16)(0x40 + ch));
}

/* The datasheet's counting element, one CLK pulse at a time (gate high). */
struct model {
	unsigned mode;
	u32 n, ce;
	bool loaded, out, fired;
};

static void model_start(struct model *m, unsigned mode, u32 n)
{
	*m = (struct model){.mode = mode, .n = n ? n : 65536, .out = mode != 0};
}

static void model_clock(struct model *m)
{
	if (!m->loaded) {
		m->loaded = true;
		m->ce = m->n;
		return;
	}
	switch (m->mode) {
	case 0:
		m->ce = (m->ce - 1) & 0xffff;
		if (!m->ce)
			m->out = true;
		break;
	case 2:
		if (m->ce == 1) {
			m->ce = m->n;
			m->out = true;
		} else if (--m->ce == 1) {
			m->out = false;
		}
		break;
	case 3:
		/* odd counts: the first pulse after a reload takes 1 (OUT high) or 3 (OUT low) */
		if ((m->n & 1) && m->ce == m->n)
			m->ce -= m->out ? 1 : 3;
		else
			m->ce -= 2;
		if (!m->ce) {
			m->out = !m->out;
			m->ce = m->n;
		}
		break;
	case 4:
		m->ce = (m->ce - 1) & 0xffff;
		m->out = !(m->ce == 0 && !m->fired);
		if (!m->ce)
			m->fired = true;
		break;
	}
}

/* Channel 2 (gate high) in `mode` with count n, checked at every clock against the model:
 * the latched count, OUT on port 0x61 and in the read-back status. */
static void check_mode(unsigned mode, u32 n, unsigned clocks)
{
	struct model m;
	u64 w = 20;

	vpit_init(&pit, T0, HZ);
	out8(w, 0x61, P61_GATE2);
	out8(w, 0x43, (u8)(0x80 | 0x30 | mode << 1));
	out8(w, 0x42, (u8)n);
	out8(w, 0x42, (u8)(n >> 8));
	model_start(&m, mode, n);
	assert_int_equal(!!(status(w, 2) & PIT_ST_NULL_COUNT), 1);
	for (u64 k = w + 1; k < w + 1 + clocks; k++) {
		model_clock(&m);
		if (latched(k, 2) != (m.ce & 0xffff) || !!(in8(k, 0x61) & P61_OUT2) != m.out ||
		    !!(status(k, 2) & PIT_ST_OUT) != m.out)
			fail_msg("mode %u count %u, clock %llu after the write: count %#x OUT %d, "
				 "the datasheet's %#x OUT %d",
				 mode, n, (unsigned long long)(k - w), latched(k, 2),
				 !!(in8(k, 0x61) & P61_OUT2), m.ce & 0xffff, m.out);
		assert_int_equal(status(k, 2) & PIT_ST_NULL_COUNT, 0);
	}
}

static void test_modes_against_datasheet(void **state)
{
	check_mode(0, 5, 30);
	check_mode(0, 1, 10);
	check_mode(0, 0, 40); /* 0 is 65536 */
	check_mode(2, 5, 30);
	check_mode(2, 2, 12);
	check_mode(3, 6, 40);
	check_mode(3, 7, 40);
	check_mode(3, 5, 40);
	check_mode(3, 3, 20);
	check_mode(4, 4, 30);
	(void)state;
}

/* arch/x86/kernel/tsc.c quick_pit_calibrate: gate on, speaker off, channel 2 mode 0 with
 * 0xffff, then LSB/MSB read pairs without latching; the MSB falls once every 256 clocks. */
static void test_linux_quick_calibrate(void **state)
{
	u64 w = 1000;

	vpit_init(&pit, T0, HZ);
	out8(w, 0x61, (in8(w, 0x61) & ~P61_SPEAKER) | P61_GATE2);
	out8(w, 0x43, 0xb0);
	out8(w, 0x42, 0xff);
	out8(w, 0x42, 0xff);
	for (u64 k = w + 1; k < w + 1 + 256 * 20; k += 37) {
		u16 want = (u16)(0xffff - (k - w - 1));

		assert_int_equal(in8(k, 0x42), want & 0xff);
		assert_int_equal(in8(k, 0x42), want >> 8);
	}
	(void)state;
}

/* pit_calibrate_tsc: mode 0 with latch N, then poll port 0x61 until OUT2 rises, which the
 * datasheet puts N + 1 clocks after the count is written. */
static void test_linux_calibrate_out2(void **state)
{
	const u32 latch = 1193182 / 20; /* 50 ms */
	u64 w = 77;

	vpit_init(&pit, T0, HZ);
	out8(w, 0x61, (in8(w, 0x61) & ~P61_SPEAKER) | P61_GATE2);
	out8(w, 0x43, 0xb0);
	out8(w, 0x42, latch & 0xff);
	out8(w, 0x42, latch >> 8);
	assert_int_equal(in8(w + latch, 0x61) & P61_OUT2, 0);
	assert_int_equal(in8(w + latch + 1, 0x61) & P61_OUT2, P61_OUT2);
	assert_int_equal(in8(w + 3 * latch, 0x61) & P61_OUT2, P61_OUT2);
	(void)state;
}

/* The count follows the TSC at 1.193182 MHz on a real TSC rate. */
static void test_rate(void **state)
{
	const u64 hz = 2500000000ULL;

	vpit_init(&pit, 0, hz);
	assert_true(vpit_io(&pit, 10, 0x43, false, 1, &(u32){0x34})); /* ch0 mode 2 */
	assert_true(vpit_io(&pit, 10, 0x40, false, 1, &(u32){0}));
	assert_true(vpit_io(&pit, 10, 0x40, false, 1, &(u32){0})); /* 65536 */
	for (u64 t = hz / 1000; t < 3 * hz; t += hz / 7 + 12345) {
		u64 k = (u64)((unsigned __int128)t * VPIT_HZ / hz), e = k - 0;
		u32 lo, hi;

		assert_true(vpit_io(&pit, t, 0x43, false, 1, &(u32){0x00}));
		assert_true(vpit_io(&pit, t, 0x40, true, 1, &lo));
		assert_true(vpit_io(&pit, t, 0x40, true, 1, &hi));
		assert_int_equal(lo | hi << 8, (65536 - (e - 1) % 65536) & 0xffff);
	}
	(void)state;
}

static void test_gate(void **state)
{
	vpit_init(&pit, T0, HZ);
	/* mode 0 on channel 2 with the gate low: loaded, not counting */
	out8(10, 0x43, 0xb0);
	out8(10, 0x42, 100);
	out8(10, 0x42, 0);
	assert_int_equal(latched(50, 2), 100);
	out8(50, 0x61, P61_GATE2);
	assert_int_equal(latched(51, 2), 100);
	assert_int_equal(latched(60, 2), 91);
	out8(60, 0x61, 0); /* paused */
	assert_int_equal(latched(90, 2), 91);
	assert_int_equal(in8(90, 0x61) & P61_OUT2, 0);
	out8(90, 0x61, P61_GATE2);
	assert_int_equal(latched(100, 2), 81);
	assert_int_equal(in8(180, 0x61) & P61_OUT2, 0);
	assert_int_equal(in8(181, 0x61) & P61_OUT2, P61_OUT2);
	/* mode 2: gate low holds OUT high and the count; its rising edge reloads */
	out8(200, 0x43, 0xb4);
	out8(200, 0x42, 10);
	out8(200, 0x42, 0);
	assert_int_equal(latched(205, 2), 6);
	assert_int_equal(in8(210, 0x61) & P61_OUT2, 0); /* count 1: OUT low */
	out8(210, 0x61, 0);
	assert_int_equal(in8(211, 0x61) & P61_OUT2, P61_OUT2);
	assert_int_equal(latched(230, 2), 1);
	out8(230, 0x61, P61_GATE2);
	assert_int_equal(latched(231, 2), 10);
	assert_int_equal(latched(235, 2), 6);
	/* mode 1: the count starts on the gate's rising edge; OUT low until it expires */
	out8(300, 0x61, 0);
	out8(300, 0x43, 0xb2);
	out8(300, 0x42, 5);
	out8(300, 0x42, 0);
	assert_int_equal(in8(310, 0x61) & P61_OUT2, P61_OUT2);
	out8(310, 0x61, P61_GATE2);
	assert_int_equal(in8(311, 0x61) & P61_OUT2, 0);
	assert_int_equal(latched(311, 2), 5);
	assert_int_equal(latched(315, 2), 1);
	assert_int_equal(in8(315, 0x61) & P61_OUT2, 0);
	assert_int_equal(in8(316, 0x61) & P61_OUT2, P61_OUT2);
	/* port 0x61: bits 3:0 as written, the refresh bit toggling every 18 clocks */
	out8(400, 0x61, 0xff);
	assert_int_equal(in8(400, 0x61) & 0x0f, 0x0f);
	assert_int_not_equal(in8(18 * 30, 0x61) & P61_REFRESH, in8(18 * 31, 0x61) & P61_REFRESH);
	assert_int_equal(in8(18 * 30, 0x61) & P61_REFRESH, in8(18 * 30 + 17, 0x61) & P61_REFRESH);
	(void)state;
}

static void test_latch_readback_access(void **state)
{
	u32 v;

	vpit_init(&pit, T0, HZ);
	/* a latched count stays until read; a second latch before that is ignored */
	out8(10, 0x43, 0x30); /* ch0, LSB/MSB, mode 0 */
	out8(10, 0x40, 0x00);
	out8(10, 0x40, 0x10); /* 0x1000 */
	out8(20, 0x43, 0x00);
	out8(40, 0x43, 0x00);
	assert_int_equal(in8(60, 0x40), 0xf7); /* 0x1000 - 9 */
	assert_int_equal(in8(70, 0x40), 0x0f);
	assert_int_equal(latched(70, 0), 0x1000 - 59);
	/* read-back: status and count; the status comes first */
	out8(80, 0x43, 0xc2);
	assert_int_equal(in8(90, 0x40), 0x30); /* OUT low, count loaded, RW 3 mode 0 */
	assert_int_equal(in8(90, 0x40), (0x1000 - 69) & 0xff);
	assert_int_equal(in8(90, 0x40), (0x1000 - 69) >> 8);
	/* null count right after a control word and a count, clear a clock later */
	out8(100, 0x43, 0x34);
	assert_int_equal(status(100, 0), PIT_ST_OUT | PIT_ST_NULL_COUNT | 0x34);
	out8(100, 0x40, 0x20);
	out8(100, 0x40, 0x00);
	assert_int_equal(status(100, 0) & PIT_ST_NULL_COUNT, PIT_ST_NULL_COUNT);
	assert_int_equal(status(101, 0) & PIT_ST_NULL_COUNT, 0);
	/* mode 2: a new count while counting takes over at the end of the period */
	out8(102, 0x40, 0x05);
	out8(102, 0x40, 0x00);
	assert_int_equal(status(102, 0) & PIT_ST_NULL_COUNT, PIT_ST_NULL_COUNT);
	assert_int_equal(latched(132, 0), 1);
	assert_int_equal(latched(133, 0), 5);
	assert_int_equal(latched(137, 0), 1);
	assert_int_equal(latched(138, 0), 5);
	/* LSB only and MSB only */
	out8(200, 0x43, 0x10); /* ch0, LSB, mode 0 */
	out8(200, 0x40, 0x80);
	assert_int_equal(in8(201, 0x40), 0x80);
	assert_int_equal(in8(211, 0x40), 0x76);
	out8(300, 0x43, 0x20); /* ch0, MSB, mode 0 */
	out8(300, 0x40, 0x02);
	assert_int_equal(in8(301, 0x40), 0x02);
	assert_int_equal(in8(302, 0x40), 0x01); /* 0x01ff */
	/* mode 0: the first byte of two stops the count, OUT low */
	out8(400, 0x43, 0x30);
	out8(400, 0x40, 0x00);
	out8(400, 0x40, 0x01);
	out8(420, 0x40, 0x50);
	assert_int_equal(latched(440, 0), 0x100 - 19);
	out8(450, 0x40, 0x00);
	assert_int_equal(latched(451, 0), 0x50);
	/* BCD: 1000 counts down to 0999 */
	out8(500, 0x43, 0x31);
	out8(500, 0x40, 0x00);
	out8(500, 0x40, 0x10);
	assert_int_equal(latched(501, 0), 0x1000);
	assert_int_equal(latched(502, 0), 0x0999);
	assert_int_equal(latched(1501, 0), 0x0000);
	assert_int_equal(latched(1502, 0), 0x9999);
	/* what the 8254 does not answer */
	assert_false(vpit_io(&pit, AT(600), 0x43, true, 1, &v));
	assert_false(vpit_io(&pit, AT(600), 0x40, true, 2, &v));
	(void)state;
}

/* The IRQ0 hook: OUT0's next rising edge. */
static void test_irq0_next(void **state)
{
	vpit_init(&pit, T0, HZ);
	assert_int_equal(vpit_irq0_next(&pit, AT(5)), 0);
	out8(10, 0x43, 0x34); /* mode 2 */
	out8(10, 0x40, 100);
	out8(10, 0x40, 0);
	/* OUT low at count 1 (clock 110), high again with the reload at clock 111 */
	assert_int_equal(vpit_irq0_next(&pit, AT(10)), T0 + 3 * 111);
	assert_int_equal(vpit_irq0_next(&pit, AT(110)), T0 + 3 * 111);
	assert_int_equal(vpit_irq0_next(&pit, AT(111)), T0 + 3 * 211);
	out8(300, 0x43, 0x30); /* mode 0: one edge at N + 1 */
	out8(300, 0x40, 50);
	out8(300, 0x40, 0);
	assert_int_equal(vpit_irq0_next(&pit, AT(320)), T0 + 3 * 351);
	assert_int_equal(vpit_irq0_next(&pit, AT(351)), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes_against_datasheet),
		cmocka_unit_test(test_linux_quick_calibrate),
		cmocka_unit_test(test_linux_calibrate_out2),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_latch_readback_access),
		cmocka_unit_test(test_irq0_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
