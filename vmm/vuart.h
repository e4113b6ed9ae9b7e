/* The guest's COM1 (vmm/vuart.c): a 16550A at 0x3F8 as Linux's 8250 driver probes and
 * drives it, with its interrupt on IRQ 4 (IOAPIC pin 4, gated by MCR.OUT2 as on a PC).
 * Output only: each byte written to THR is relayed at once (line by line under the guest's
 * prefix, vmm_console_putc()), so THR is always empty; nothing is ever received (RBR reads
 * 0, LSR.DR stays clear). moat's own guests use it without interrupts. */
#ifndef VMM_VUART_H
#define VMM_VUART_H

#include <moat/spinlock.h>
#include <moat/types.h>

struct guest;

#define VUART_BASE 0x3f8
#define VUART_PORTS 8
#define VUART_IRQ 4 /* ISA IRQ and IOAPIC pin (no override in the MADT) */

struct vuart {
	spinlock_t lock; /* the guest's vCPUs share the UART */
	u8 ier, lcr, mcr, scr, fcr;
	u16 dl;		   /* divisor latch */
	u8 msr_delta;	   /* MSR bits 3:0, set by loopback line changes, cleared by reading */
	bool thre_pending; /* THR-empty interrupt: cleared by reading it in IIR or writing THR */
	bool irq;	   /* the interrupt line as the IOAPIC last saw it */
};

/* An access to ports VUART_BASE..+7: false for one the UART does not answer (not a single
 * byte), which the caller denies. Any vCPU of the guest. */
bool vuart_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);

#endif
