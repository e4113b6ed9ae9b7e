/* The guest's COM1: a 16550A (National Semiconductor PC16550D datasheet, 8.6 registers,
 * table IV interrupt control) that transmits each byte the moment it is written and never
 * receives. Linux's 8250 driver finds a 16550A (scratch, IER, FIFO bits of IIR), passes
 * its THRE interrupt tests and transmits on THRE interrupts through IRQ 4. */
#define LOG_TAG "vmm"
#include <moat/bits.h>
#include "vmm/exits.h"
#include "vmm/vioapic.h"
#include "vmm/vuart.h"

/* Register offsets from VUART_BASE */
#define UART_RBR 0 /* read, DLAB = 0 */
#define UART_THR 0 /* write, DLAB = 0 */
#define UART_DLL 0 /* DLAB = 1 */
#define UART_IER 1 /* DLAB = 0 */
#define UART_DLM 1 /* DLAB = 1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

/* IER */
#define IER_ERBFI BIT(0) /* received data available */
#define IER_ETBEI BIT(1) /* transmitter holding register empty */
#define IER_ELSI BIT(2)	 /* receiver line status */
#define IER_EDSSI BIT(3) /* modem status */
#define IER_MASK GENMASK(3, 0)

/* IIR */
#define IIR_NO_INT BIT(0)
#define IIR_ID GENMASK(3, 1)
#define IIR_ID_MSR 0  /* modem status: lowest priority */
#define IIR_ID_THRE 1 /* THR empty */
#define IIR_FIFO GENMASK(7, 6)
#define IIR_FIFO_ON 3

/* FCR */
#define FCR_ENABLE BIT(0)
#define FCR_CLEAR_RX BIT(1) /* self-clearing */
#define FCR_CLEAR_TX BIT(2) /* self-clearing */
#define FCR_DMA BIT(3)
#define FCR_TRIGGER GENMASK(7, 6)

/* LCR */
#define LCR_DLAB BIT(7)

/* MCR */
#define MCR_DTR BIT(0)
#define MCR_RTS BIT(1)
#define MCR_OUT1 BIT(2)
#define MCR_OUT2 BIT(3) /* on a PC: enables the UART's interrupt onto the ISA line */
#define MCR_LOOP BIT(4)
#define MCR_MASK GENMASK(4, 0)

/* LSR */
#define LSR_THRE BIT(5)
#define LSR_TEMT BIT(6)

/* MSR */
#define MSR_DCTS BIT(0)
#define MSR_DDSR BIT(1)
#define MSR_TERI BIT(2)
#define MSR_DDCD BIT(3)
#define MSR_DELTA GENMASK(3, 0)
#define MSR_CTS BIT(4)
#define MSR_DSR BIT(5)
#define MSR_RI BIT(6)
#define MSR_DCD BIT(7)

/* The modem inputs: a terminal that is always there (carrier, DSR, CTS), or in loopback
 * the MCR's outputs wired back (datasheet 8.6.5: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD). */
static u8 modem_lines(u8 mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (u8)((mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
		    (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0));
}

/* The highest-priority pending interrupt as IIR's ID field, or -1. Nothing is received, so
 * the line status, received data and timeout interrupts never occur. */
static int pending(const struct vuart *u)
{
	if (u->ier & IER_ETBEI && u->thre_pending)
		return IIR_ID_THRE;
	if (u->ier & IER_EDSSI && u->msr_delta)
		return IIR_ID_MSR;
	return -1;
}

/* The ISA line: INTR through the buffer OUT2 enables on a PC; in loopback the chip holds
 * OUT2 inactive, so nothing reaches the line (datasheet 8.6.5). */
static void update_irq(struct guest *g, struct vuart *u)
{
	bool line = pending(u) >= 0 && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (line == u->irq)
		return;
	u->irq = line;
	vioapic_set_irq(g, VUART_IRQ, line);
}

static u8 uart_read(struct guest *g, struct vuart *u, u16 reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	int id;
	u8 v;

	switch (reg) {
	case UART_RBR: return dlab ? (u8)u->dl : 0;
	case UART_IER: return dlab ? (u8)(u->dl >> 8) : u->ier;
	case UART_IIR:
		id = pending(u);
		v = (u8)(u->fcr & FCR_ENABLE ? FIELD_PREP(IIR_FIFO, IIR_FIFO_ON) : 0);
		if (id < 0)
			return v | IIR_NO_INT;
		/* reading IIR with the THRE interrupt as its source clears it */
		if (id == IIR_ID_THRE) {
			u->thre_pending = false;
			update_irq(g, u);
		}
		return (u8)(v | FIELD_PREP(IIR_ID, id));
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: return LSR_THRE | LSR_TEMT;
	case UART_MSR:
		v = (u8)(modem_lines(u->mcr) | u->msr_delta);
		u->msr_delta = 0;
		update_irq(g, u);
		return v;
	default: return u->scr;
	}
}

static void thr_write(struct guest *g, struct vuart *u, u8 c)
{
	/* writing THR clears its interrupt ... */
	u->thre_pending = false;
	update_irq(g, u);
	/* ... the byte leaves at once (in loopback it would go to the receiver, which moat
	 * does not have), and THR is empty again: a new THRE interrupt, a new edge */
	if (!(u->mcr & MCR_LOOP))
		vmm_console_putc(g, (char)c);
	u->thre_pending = true;
	update_irq(g, u);
}

static void ier_write(struct vuart *u, u8 val)
{
	u8 ier = val & IER_MASK;

	/* Enabling ETBEI with THR empty raises the THRE interrupt, even after reading IIR had
	 * cleared it: Linux's 8250 driver tests exactly that (serial8250_do_startup). */
	if (ier & IER_ETBEI && !(u->ier & IER_ETBEI))
		u->thre_pending = true;
	else if (!(ier & IER_ETBEI))
		u->thre_pending = false;
	u->ier = ier;
}

static void mcr_write(struct vuart *u, u8 val)
{
	u8 before = modem_lines(u->mcr), after;

	u->mcr = val & MCR_MASK;
	after = modem_lines(u->mcr);
	if ((before ^ after) & MSR_CTS)
		u->msr_delta |= MSR_DCTS;
	if ((before ^ after) & MSR_DSR)
		u->msr_delta |= MSR_DDSR;
	if (before & MSR_RI && !(after & MSR_RI))
		u->msr_delta |= MSR_TERI;
	if ((before ^ after) & MSR_DCD)
		u->msr_delta |= MSR_DDCD;
}

static void uart_write(struct guest *g, struct vuart *u, u16 reg, u8 val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dl = (u16)((u->dl & 0xff00) | val);
		else
			thr_write(g, u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dl = (u16)((u->dl & 0xff) | (val << 8));
		else
			ier_write(u, val);
		break;
	case UART_FCR:
		/* the other bits are written only with FIFO enable set (datasheet 8.6.3) */
		u->fcr = val & FCR_ENABLE ? (u8)(val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER)) : 0;
		break;
	case UART_LCR: u->lcr = val; break;
	case UART_MCR: mcr_write(u, val); break;
	case UART_SCR: u->scr = val; break;
	default: break; /* LSR and MSR: read-only here (factory test on the real part) */
	}
	update_irq(g, u);
}

bool vuart_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	struct vuart *u = &g->uart;
	u16 reg = (u16)(port - VUART_BASE);

	if (size != 1 || reg >= VUART_PORTS)
		return false;
	spin_lock(&u->lock);
	if (in)
		*val = uart_read(g, u, reg);
	else
		uart_write(g, u, reg, (u8)*val);
	spin_unlock(&u->lock);
	return true;
}
