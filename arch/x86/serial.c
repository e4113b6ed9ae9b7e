/* 16550-compatible UART in I/O or memory space. */
#include <moat/errno.h>
#include <moat/string.h>
#include "arch/x86/io.h"
#include "arch/x86/serial.h"

/* Registers (index; byte offset = index << regshift) */
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define UART_LCR 3
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define UART_MCR 4
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT2 0x08
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_SCR 7

#define UART_CLOCK 115200u
#define TX_SPIN_LIMIT 100000

static u8 reg_read(const struct uart16550 *u, unsigned reg)
{
	if (u->space == UART_MMIO)
		return mmio_read8(u->base + ((u64)reg << u->regshift));
#ifndef MOAT_HOST_TEST
	return inb((u16)(u->base + reg));
#else
	return 0xff;
#endif
}

static void reg_write(const struct uart16550 *u, unsigned reg, u8 v)
{
	if (u->space == UART_MMIO) {
		mmio_write8(u->base + ((u64)reg << u->regshift), v);
		return;
	}
#ifndef MOAT_HOST_TEST
	outb((u16)(u->base + reg), v);
#endif
}

int uart16550_init(struct uart16550 *u, u8 space, u64 base, u8 regshift, u32 baud)
{
	u32 div = baud ? UART_CLOCK / baud : 1;

	u->space = space;
	u->base = base;
	u->regshift = regshift;
	u->baud = baud;
	/* The scratch register must hold what we write if a UART is there. */
	reg_write(u, UART_SCR, 0x5a);
	if (reg_read(u, UART_SCR) != 0x5a) {
		u->present = false;
		return -ENODEV;
	}
	if (div == 0)
		div = 1;
	reg_write(u, UART_IER, 0);
	reg_write(u, UART_LCR, LCR_DLAB);
	reg_write(u, UART_DLL, div & 0xff);
	reg_write(u, UART_DLM, (div >> 8) & 0xff);
	reg_write(u, UART_LCR, LCR_8N1);
	reg_write(u, UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	reg_write(u, UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	u->present = true;
	return 0;
}

static void put_raw(struct uart16550 *u, char c)
{
	/* Bounded: a UART that never drains must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT; i++)
		if (reg_read(u, UART_LSR) & LSR_THRE)
			break;
	reg_write(u, UART_THR, (u8)c);
}

void uart16550_write(struct uart16550 *u, const char *s, size_t n)
{
	if (!u->present)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put_raw(u, '\r');
		put_raw(u, s[i]);
	}
}

int uart_parse_spec(const char *spec, u8 *space, u64 *base, u8 *regshift, u32 *baud)
{
	const char *p = spec;
	u64 v;

	*regshift = 0;
	*baud = 115200;
	if (!strncmp(p, "mmio:", 5)) {
		p += 5;
		*space = UART_MMIO;
		if (parse_u64(&p, base, false) || !*base)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (parse_u64(&p, &v, false) || v > 3)
				return -EINVAL;
			*regshift = (u8)v;
		}
	} else {
		*space = UART_PIO;
		if (parse_u64(&p, base, false) || *base > 0xfff8 || !*base)
			return -EINVAL;
	}
	if (*p == ',') {
		p++;
		if (parse_u64(&p, &v, false) || !v || v > UART_CLOCK || UART_CLOCK % v)
			return -EINVAL;
		*baud = (u32)v;
	}
	return *p ? -EINVAL : 0;
}
