/* 16550-compatible UARTs: the legacy COM ports (I/O space), memory-mapped UARTs (SoC and
 * server BMC style, registers `1 << regshift` bytes apart) and PCI/PCIe serial cards
 * (16550 at a BAR, I/O or memory). */
#ifndef ARCH_X86_SERIAL_H
#define ARCH_X86_SERIAL_H

#include <moat/types.h>

enum uart_space { UART_PIO = 1, UART_MMIO = 2 };

struct uart16550 {
	u8 space;    /* enum uart_space */
	u8 regshift; /* MMIO: register n at base + (n << regshift) */
	u64 base;    /* I/O port or physical address */
	u32 baud;
	bool present;
};

/* Programs 8N1 at `baud`; present=false (and -ENODEV) if no UART answers there. */
int uart16550_init(struct uart16550 *u, u8 space, u64 base, u8 regshift, u32 baud);
void uart16550_write(struct uart16550 *u, const char *s, size_t n);

/* Parses a console specification:
 *   <port>                 I/O port (0x3f8)
 *   mmio:<addr>[:<shift>]  memory-mapped 16550, registers 1 << shift bytes apart (default 0)
 * followed by an optional ",<baud>". -EINVAL names nothing: the caller reports the text. */
int uart_parse_spec(const char *spec, u8 *space, u64 *base, u8 *regshift, u32 *baud);

#endif
