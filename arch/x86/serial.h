#ifndef ARCH_X86_SERIAL_H
#define ARCH_X86_SERIAL_H

#include <moat/types.h>

/* 16550 UART at an I/O port base. */
struct uart16550 {
	u16 port;
	u32 baud;
	bool present;
};

/* Programs 8N1 at `baud`; present=false (and -ENODEV) if no UART answers at `port`. */
int uart16550_init(struct uart16550 *u, u16 port, u32 baud);
void uart16550_write(struct uart16550 *u, const char *s, size_t n);

#endif
