/* The virtual I/O APIC of an OS guest (vmm/vioapic.c): an 82093AA-style IOAPIC, version
 * 0x20 with the EOI register, 24 pins, at VIOAPIC_BASE in the guest's physical address
 * space (emulated through nested page faults and the MMIO decoder). Its inputs are moat's
 * virtual devices only (the UART on pin 4, ...): no physical IOAPIC pin reaches a guest.
 * What it sends goes to the guest's own vCPUs through vlapic_deliver().
 *
 * Threading: every function may run on any vCPU of the guest (a per-guest lock); none may
 * be called from an interrupt handler. */
#ifndef VMM_VIOAPIC_H
#define VMM_VIOAPIC_H

#include <moat/bits.h>
#include <moat/spinlock.h>
#include <moat/types.h>

struct guest;

#define VIOAPIC_BASE 0xfec00000ULL
#define VIOAPIC_SIZE 0x1000ULL
#define VIOAPIC_PINS 24
#define VIOAPIC_VERSION 0x20
#define VIOAPIC_ID 0 /* the ID the MADT gives it, as a PC's firmware does */

/* Pins of the ISA interrupts as the MADT routes them (IRQ n on pin n, IRQ 0 on pin 2). */
#define VIOAPIC_PIN_TIMER 2
#define VIOAPIC_PIN_COM1 4
#define VIOAPIC_PIN_SCI 9

/* Memory-mapped registers (82093AA datasheet 3.0; the EOI register of version 0x20) */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Indirect registers (through IOREGSEL/IOWIN) */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_ID_ID GENMASK(27, 24)
#define IOAPIC_REG_VER 0x01
#define IOAPIC_VER_VERSION GENMASK(7, 0)
#define IOAPIC_VER_MAX_RTE GENMASK(23, 16)
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_ARB_ID GENMASK(27, 24)
#define IOAPIC_REG_RTE0 0x10 /* pin n: low dword at 0x10 + 2n, high dword at 0x11 + 2n */

/* Redirection table entry (64 bits) */
#define RTE_VECTOR GENMASK(7, 0)
#define RTE_DELMODE GENMASK(10, 8)
#define RTE_DESTMODE_LOGICAL BIT(11)
#define RTE_DELIVS BIT(12) /* delivery status: read-only, always idle here */
#define RTE_POLARITY_LOW BIT(13)
#define RTE_REMOTE_IRR BIT(14) /* read-only */
#define RTE_TRIGGER_LEVEL BIT(15)
#define RTE_MASKED BIT(16)
#define RTE_DEST GENMASK(63, 56)
#define RTE_WRITABLE                                                                               \
	(RTE_VECTOR | RTE_DELMODE | RTE_DESTMODE_LOGICAL | RTE_POLARITY_LOW | RTE_TRIGGER_LEVEL |  \
	 RTE_MASKED | RTE_DEST)

struct vioapic {
	spinlock_t lock;
	struct guest *g; /* NULL: the guest has none (moat's own guests) */
	u32 id;
	u32 regsel;
	u64 rte[VIOAPIC_PINS];
	u32 line;      /* each pin's input as its device drives it (1 = high) */
	u64 delivered; /* messages sent to the guest's local APICs */
	u64 dropped;   /* messages no vCPU took, or of a mode moat does not deliver */
	bool warned;   /* the first dropped message was reported */
};

/* An OS guest's IOAPIC after reset: every pin masked, edge, active high, vector 0. */
void vioapic_init(struct guest *g);

/* Whether guest-physical `gpa` is in the IOAPIC's page (false for a guest without one). */
bool vioapic_owns(const struct guest *g, u64 gpa);

/* A 32-bit access at `offset` in the page: 0, or -EINVAL for one not 32-bit aligned (the
 * caller stops the guest). Reserved offsets read 0 and ignore writes. */
int vioapic_mmio_read(struct guest *g, u32 offset, u32 *val);
int vioapic_mmio_write(struct guest *g, u32 offset, u32 val);

/* A device drives `pin` high or low. An edge-triggered pin sends its message on the
 * transition to asserted (high, or low for an active-low pin) when it is unmasked; a
 * level-triggered pin sends it whenever it is asserted, unmasked and its remote IRR is clear,
 * and sets remote IRR. Nothing for a guest without an IOAPIC. */
void vioapic_set_irq(struct guest *g, unsigned pin, bool high);

/* The local APIC's EOI of a level-triggered `vector` (also the EOI register): every
 * level-triggered pin with that vector and remote IRR set has it cleared, and sends again
 * if it is still asserted. The vLAPIC calls it for vectors whose TMR bit was set. */
void vioapic_eoi(struct guest *g, u8 vector);

#endif
