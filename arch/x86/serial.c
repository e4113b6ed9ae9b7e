/* 16550-compatible UART on an I/O port. */
#include <moat/errno.h>
#include "arch/x86/io.h"
#include "arch/x86/serial.h"

/* Registers (offset from the base port) */
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define   FCR_ENABLE 0x01
#define   FCR_CLEAR_RX 0x02
#define   FCR_CLEAR_TX 0x04
#define UART_LCR 3
#define   LCR_8N1 0x03
#define   LCR_DLAB 0x80
#define UART_MCR 4
#define   MCR_DTR 0x01
#define   MCR_RTS 0x02
#define   MCR_OUT2 0x08
#define   MCR_LOOP 0x10
#define UART_LSR 5
#define   LSR_THRE 0x20
#define UART_SCR 7

#define UART_CLOCK 115200u
#define TX_SPIN_LIMIT 100000

int uart16550_init(struct uart16550 *u, u16 port, u32 baud)
{
	u32 div = baud ? UART_CLOCK / baud : 1;

	u->port = port;
	u->baud = baud;
	/* The scratch register must hold what we write if a UART is there. */
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a) {
		u->present = false;
		return -ENODEV;
	}
	if (div == 0)
		div = 1;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, div & 0xff);
	outb(port + UART_DLM, (div >> 8) & 0xff);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	outb(port + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	u->present = true;
	return 0;
}

static void put_raw(struct uart16550 *u, char c)
{
	/* Bounded: a UART that never drains must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT; i++)
		if (inb(u->port + UART_LSR) & LSR_THRE)
			break;
	outb(u->port + UART_THR, (u8)c);
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
