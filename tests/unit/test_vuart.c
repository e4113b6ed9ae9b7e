/* The guest's 16550A (vmm/vuart.c) driven as Linux's 8250 driver drives it
 * (drivers/tty/serial/8250/8250_port.c: autoconfig(), autoconfig_16550a(), size_fifo(),
 * serial8250_do_startup()'s THRE tests, the THRE-interrupt transmit path) and as the 16550
 * datasheet describes it (IIR priorities, THRE interrupt set and cleared, MCR.OUT2 gating,
 * loopback), with its IRQ 4 through the real vIOAPIC to a fake local APIC bus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/console.h>
#include <moat/errno.h>
#include "vmm/exits.h"
#include "vmm/vioapic.h"
#include "vmm/vuart.h"
#include "host_shim.h"

static struct guest g;
static char console[4096];
static size_t console_len;
static unsigned irqs; /* messages the IOAPIC sent for pin 4 */

#define VEC 0x24

void console_write(const char *s, size_t n)
{
	assert_true(console_len + n < sizeof(console));
	memcpy(console + console_len, s, n);
	console_len += n;
	console[console_len] = 0;
}

int vlapic_deliver(struct guest *gst, const struct vlapic_msg *m)
{
	assert_ptr_equal(gst, &g);
	assert_int_equal(m->vector, VEC);
	assert_false(m->level);
	irqs++;
	return 0;
}

/* An OS guest whose IOAPIC routes pin 4 as Linux does for ISA IRQ 4: edge, active high. */
static int setup(void **state)
{
	memset(&g, 0, sizeof(g));
	strcpy(g.cfg.name, "gst");
	g.nr_vcpus = 1;
	vioapic_init(&g);
	g.ioapic.rte[VUART_IRQ] = VEC;
	console_len = 0;
	console[0] = 0;
	irqs = 0;
	return 0;
}

/* Register offsets and bits as Linux's include/uapi/linux/serial_reg.h names them. */
enum {
	RX = 0,
	TX = 0,
	DLL = 0,
	IER = 1,
	DLM = 1,
	IIR = 2,
	FCR = 2,
	EFR = 2,
	LCR = 3,
	MCR = 4,
	LSR = 5,
	MSR = 6,
	SCR = 7
};
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_MSI 0x00
#define IIR_ID 0x0e
#define IER_THRI 0x02
#define IER_MSI 0x08
#define IER_UUE 0x40
#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR 0x06
#define FCR7_64BYTE 0x20
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LCR_DLAB 0x80
#define LCR_CONF_MODE_A 0x80
#define LCR_CONF_MODE_B 0xbf
#define LCR_WLEN8 0x03

static u8 in(unsigned reg)
{
	u32 v = 0xffffffff;

	assert_true(vuart_io(&g, (u16)(VUART_BASE + reg), true, 1, &v));
	assert_true(v <= 0xff);
	return (u8)v;
}

static void out(unsigned reg, u8 val)
{
	u32 v = val;

	assert_true(vuart_io(&g, (u16)(VUART_BASE + reg), false, 1, &v));
}

enum port_type {
	PORT_UNKNOWN,
	PORT_8250,
	PORT_16550,
	PORT_16550A,
	PORT_16650,
	PORT_16750,
	PORT_NS16550A,
	PORT_XSCALE,
	PORT_U6_16550A
};

/* size_fifo(): in loopback, 256 bytes to THR, then count what the receiver got. */
static int size_fifo(void)
{
	u8 old_lcr = in(LCR), old_fcr, old_mcr;
	int count;

	out(LCR, 0);
	old_fcr = in(IIR); /* Linux reads "FCR" at IIR's offset */
	old_mcr = in(MCR);
	out(FCR, FCR_ENABLE_FIFO | FCR_CLEAR);
	out(MCR, MCR_LOOP);
	out(LCR, LCR_CONF_MODE_A);
	out(DLL, 1);
	out(DLM, 0);
	out(LCR, LCR_WLEN8);
	for (count = 0; count < 256; count++)
		out(TX, (u8)count);
	for (count = 0; (in(LSR)&LSR_DR) && count < 256; count++)
		in(RX);
	out(FCR, old_fcr);
	out(MCR, old_mcr);
	out(LCR, old_lcr);
	return count;
}

/* autoconfig() and autoconfig_16550a() of Linux 6.1 with the 16550A variants probed, on a
 * port without UPF_SKIP_TEST (so the loopback test runs too). */
static enum port_type autoconfig(void)
{
	u8 scratch, scratch2, scratch3, save_mcr, save_lcr, status1, status2, iersave;
	enum port_type type;

	scratch = in(IER);
	out(IER, 0);
	scratch2 = in(IER)&0x0f;
	out(IER, 0x0f);
	scratch3 = in(IER)&0x0f;
	out(IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return PORT_UNKNOWN; /* "IER test failed" */
	save_mcr = in(MCR);
	save_lcr = in(LCR);
	out(MCR, MCR_LOOP | 0x0a);
	status1 = in(MSR)&0xf0;
	out(MCR, save_mcr);
	if (status1 != 0x90)
		return PORT_UNKNOWN; /* "LOOP test failed" */
	out(LCR, LCR_CONF_MODE_B);
	out(EFR, 0);
	out(LCR, 0);
	out(FCR, FCR_ENABLE_FIFO);
	scratch = in(IIR);
	if (scratch >> 6 != 3)
		return scratch >> 6 == 2 ? PORT_16550 : scratch >> 6 ? PORT_UNKNOWN : PORT_8250;
	type = PORT_16550A;
	/* EFR under DLAB (ST16C650V1), then under 0xBF (ST16C650V2, TI16C752) */
	out(LCR, LCR_CONF_MODE_A);
	if (in(EFR) == 0)
		return PORT_16650;
	out(LCR, LCR_CONF_MODE_B);
	if (in(EFR) == 0)
		return PORT_16650;
	/* National Semiconductor SuperIO: MCR.LOOP visible in EXCR1 of bank 2 */
	out(LCR, 0);
	status1 = in(MCR);
	out(LCR, 0xe0);
	status2 = in(0x02);
	if (!((status2 ^ status1) & MCR_LOOP)) {
		out(LCR, 0);
		out(MCR, status1 ^ MCR_LOOP);
		out(LCR, 0xe0);
		status2 = in(0x02);
		out(LCR, 0);
		out(MCR, status1);
		if ((status2 ^ status1) & MCR_LOOP)
			return PORT_NS16550A;
	}
	/* TI16750: IIR bit 5 with the 64-byte FIFO under DLAB only */
	out(LCR, 0);
	out(FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
	status1 = in(IIR)&0xe0;
	out(FCR, FCR_ENABLE_FIFO);
	out(LCR, LCR_CONF_MODE_A);
	out(FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
	status2 = in(IIR)&0xe0;
	out(FCR, FCR_ENABLE_FIFO);
	out(LCR, 0);
	if (status1 == 0xc0 && status2 == 0xe0)
		return PORT_16750;
	/* XScale: IER bit 6 (UUE) */
	iersave = in(IER);
	out(IER, iersave & ~IER_UUE);
	if (!(in(IER)&IER_UUE)) {
		out(IER, iersave | IER_UUE);
		if (in(IER)&IER_UUE)
			return PORT_XSCALE;
	}
	out(IER, iersave);
	if (size_fifo() == 64)
		type = PORT_U6_16550A;
	out(LCR, save_lcr);
	/* reset: MCR back, FIFOs cleared, RX read, IER cleared */
	out(MCR, save_mcr);
	out(FCR, FCR_ENABLE_FIFO);
	out(FCR, FCR_ENABLE_FIFO | FCR_CLEAR);
	out(FCR, 0);
	in(RX);
	out(IER, 0);
	return type;
}

static void test_autoconfig_16550a(void **state)
{
	assert_int_equal(autoconfig(), PORT_16550A);
	/* the loopback bytes of size_fifo() went nowhere: not to the console, not received */
	assert_int_equal(console_len, 0);
	assert_int_equal(irqs, 0);
	/* the divisor latch and the scratch register hold what was written */
	out(LCR, LCR_DLAB);
	out(DLL, 0x01);
	out(DLM, 0x02);
	assert_int_equal(in(DLL), 0x01);
	assert_int_equal(in(DLM), 0x02);
	out(LCR, LCR_WLEN8);
	assert_int_equal(in(LCR), LCR_WLEN8);
	assert_int_equal(in(IER), 0);
	out(SCR, 0x5a);
	assert_int_equal(in(SCR), 0x5a);
	/* FIFO bits of IIR follow FCR bit 0 */
	assert_int_equal(in(IIR), IIR_NO_INT);
	out(FCR, FCR_ENABLE_FIFO);
	assert_int_equal(in(IIR), 0xc0 | IIR_NO_INT);
	out(FCR, 0);
	assert_int_equal(in(IIR), IIR_NO_INT);
	/* nothing is ever received; only a byte-wide access is the UART's */
	assert_int_equal(in(RX), 0);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	{
		u32 v = 0;

		assert_false(vuart_io(&g, VUART_BASE, true, 2, &v));
		assert_false(vuart_io(&g, VUART_BASE + 8, true, 1, &v));
	}
}

/* The loopback test and modem status: MCR's outputs wired to MSR's inputs, deltas, and the
 * modem status interrupt (lowest priority). Outside loopback a terminal is there. */
static void test_loopback_and_modem_status(void **state)
{
	assert_int_equal(in(MSR), 0xb0); /* DCD, DSR, CTS */
	out(MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
	assert_int_equal(in(MSR), 0x90 | 0x02); /* DCD, CTS; DSR fell: DDSR */
	assert_int_equal(in(MSR), 0x90);	/* deltas cleared by the read */
	out(MCR, MCR_LOOP | MCR_OUT1);
	assert_int_equal(in(MSR), 0x40 | 0x01 | 0x08); /* RI; CTS and DCD fell */
	out(IER, IER_MSI);
	assert_int_equal(in(IIR), IIR_NO_INT);
	/* RI's trailing edge (TERI) and DCD rising (DDCD): a modem status interrupt, which
	 * reading IIR does not clear */
	out(MCR, MCR_LOOP | MCR_OUT2);
	assert_int_equal(in(IIR)&IIR_ID, IIR_MSI);
	assert_int_equal(in(IIR)&IIR_NO_INT, 0);
	/* in loopback the PC's line stays quiet even with OUT2 set (held inactive) */
	assert_int_equal(irqs, 0);
	assert_int_equal(in(MSR), 0x80 | 0x04 | 0x08);
	assert_int_equal(in(IIR), IIR_NO_INT);
	/* a byte written in loopback is not transmitted */
	out(TX, 'x');
	out(TX, '\n');
	assert_int_equal(console_len, 0);
	out(MCR, 0);
	out(IER, 0);
}

/* serial8250_do_startup(): the THRE re-assertion test and the TX-enable test. */
static void test_startup_thre_tests(void **state)
{
	u8 iir1, iir, lsr;

	/* clear and disable the FIFOs, clear the interrupt registers */
	out(FCR, FCR_ENABLE_FIFO);
	out(FCR, FCR_ENABLE_FIFO | FCR_CLEAR);
	out(FCR, 0);
	in(LSR);
	in(RX);
	in(IIR);
	in(MSR);
	assert_true(in(LSR) != 0xff);
	/* UART_BUG_THRE test: THRE must be re-asserted when ETBEI is enabled again */
	assert_true(in(LSR)&LSR_THRE);
	out(IER, IER_THRI);
	iir1 = in(IIR);
	out(IER, 0);
	out(IER, IER_THRI);
	iir = in(IIR);
	out(IER, 0);
	assert_int_equal(iir1, IIR_THRI);
	assert_int_equal(iir, IIR_THRI);
	/* OUT2 still clear: nothing on the line */
	assert_int_equal(irqs, 0);
	/* now initialize: 8N1, OUT2 for the interrupt (and DTR/RTS) */
	out(LCR, LCR_WLEN8);
	out(MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	/* UART_BUG_TXEN test: enabling ETBEI with TEMT set must show a pending interrupt */
	out(IER, IER_THRI);
	lsr = in(LSR);
	iir = in(IIR);
	out(IER, 0);
	assert_true(lsr & LSR_TEMT);
	assert_false(iir & IIR_NO_INT);
	/* that interrupt reached the IOAPIC as one edge on pin 4 */
	assert_int_equal(irqs, 1);
	/* reading IIR cleared it */
	assert_int_equal(in(IIR), IIR_NO_INT);
}

/* The transmit path: start_tx sets ETBEI, the interrupt comes, the handler reads IIR and
 * LSR and fills THR, and stops with ETBEI clear when done. */
static void test_thre_interrupt_transmit(void **state)
{
	const char *msg = "Run /init as init process\n";

	out(LCR, LCR_WLEN8);
	out(MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	out(FCR, FCR_ENABLE_FIFO);
	assert_int_equal(irqs, 0);
	out(IER, 0x05 | IER_THRI); /* RLSI | RDI | THRI */
	assert_int_equal(irqs, 1);
	/* writing IER again with ETBEI still set is no new interrupt */
	out(IER, 0x05 | IER_THRI);
	assert_int_equal(irqs, 1);
	/* the handler */
	assert_int_equal(in(IIR), 0xc0 | IIR_THRI);
	assert_int_equal(in(IIR), 0xc0 | IIR_NO_INT); /* read: cleared */
	assert_true(in(LSR)&LSR_THRE);
	for (const char *p = msg; *p; p++)
		out(TX, (u8)*p);
	/* each byte left at once and THR emptied again: one new edge each */
	assert_int_equal(irqs, 1 + strlen(msg));
	assert_string_equal(console, "[gst] Run /init as init process\n");
	/* THR is empty and ETBEI set: pending until read or ETBEI goes */
	assert_int_equal(in(IIR), 0xc0 | IIR_THRI);
	assert_int_equal(in(IIR), 0xc0 | IIR_NO_INT);
	out(TX, 'x');
	out(IER, 0x05); /* __stop_tx */
	assert_int_equal(in(IIR), 0xc0 | IIR_NO_INT);
	/* OUT2 clear: pending in IIR, but the ISA line stays low */
	out(MCR, MCR_DTR | MCR_RTS);
	irqs = 0;
	out(IER, IER_THRI);
	assert_int_equal(in(IIR)&IIR_ID, IIR_THRI);
	out(TX, 'y');
	assert_int_equal(irqs, 0);
	/* raising OUT2 with an interrupt pending puts it on the line */
	out(MCR, MCR_OUT2);
	assert_int_equal(irqs, 1);
}

/* moat's own guests: no IOAPIC, no interrupt enabled; bytes out, line by line, sanitized. */
static void test_polled_guest(void **state)
{
	memset(&g.ioapic, 0, sizeof(g.ioapic));
	for (const char *p = "hello\r\nwor\x1bld\n"; *p; p++) {
		assert_true(in(LSR)&LSR_THRE);
		out(TX, (u8)*p);
	}
	assert_string_equal(console, "[gst] hello\n[gst] wor?ld\n");
	out(MCR, MCR_OUT2);
	out(IER, IER_THRI);
	out(TX, 'z');
	assert_int_equal(irqs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_autoconfig_16550a, setup),
		cmocka_unit_test_setup(test_loopback_and_modem_status, setup),
		cmocka_unit_test_setup(test_startup_thre_tests, setup),
		cmocka_unit_test_setup(test_thre_interrupt_transmit, setup),
		cmocka_unit_test_setup(test_polled_guest, setup),
	};

	return cmocka_run_group_tests_name("vuart", tests, NULL, NULL);
}
