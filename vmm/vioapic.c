/* The virtual I/O APIC of an OS guest (82093AA datasheet; version 0x20 adds the EOI
 * register): registers through IOREGSEL/IOWIN, the redirection table, pins driven by moat's
 * virtual devices, messages to the guest's local APICs. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "vmm/vioapic.h"
#include "vmm/vlapic.h"
#include "vmm/vmm.h"

void vioapic_init(struct guest *g)
{
	struct vioapic *io = &g->ioapic;

	memset(io, 0, sizeof(*io));
	io->g = g;
	io->id = VIOAPIC_ID;
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
}

bool vioapic_owns(const struct guest *g, u64 gpa)
{
	return g->ioapic.g && gpa >= VIOAPIC_BASE && gpa - VIOAPIC_BASE < VIOAPIC_SIZE;
}

static bool asserted(const struct vioapic *io, unsigned pin)
{
	bool high = io->line & BIT(pin);

	return io->rte[pin] & RTE_POLARITY_LOW ? !high : high;
}

static void dropped(struct vioapic *io, unsigned pin, const char *why)
{
	io->dropped++;
	if (io->warned)
		return;
	io->warned = true;
	pr_warn("guest %s: IOAPIC pin %u: message dropped (%s); later ones are only counted\n",
		io->g->cfg.name, pin, why);
}

/* Sends pin's message (SDM Vol. 3 11.6.2 for its fields); true if a vCPU took it. */
static bool send(struct vioapic *io, unsigned pin)
{
	u64 rte = io->rte[pin];
	struct vlapic_msg m = {
		.dest = (u32)FIELD_GET(RTE_DEST, rte),
		.logical = rte & RTE_DESTMODE_LOGICAL,
		.mode = (enum vlapic_delivery)FIELD_GET(RTE_DELMODE, rte),
		.vector = (u8)FIELD_GET(RTE_VECTOR, rte),
		.level = rte & RTE_TRIGGER_LEVEL,
	};

	m.broadcast = !m.logical && m.dest == 0xff;
	switch (m.mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		/* vectors 0-15 are illegal for these modes (SDM Vol. 3 11.5.2) */
		if (m.vector < 16) {
			dropped(io, pin, "vector below 16");
			return false;
		}
		break;
	case VLAPIC_DM_NMI:
	case VLAPIC_DM_INIT: break;
	default:
		/* SMI, ExtINT (no 8259 behind it) and the reserved modes */
		dropped(io, pin, "delivery mode moat does not deliver");
		return false;
	}
	if (vlapic_deliver(io->g, &m)) {
		dropped(io, pin, "its destination names no vCPU of the guest");
		return false;
	}
	io->delivered++;
	return true;
}

/* A level-triggered pin that is asserted, unmasked and not waiting for its EOI sends;
 * remote IRR then holds it until the EOI (fixed and lowest-priority messages only: the
 * others carry no vector to end them). */
static void service_level(struct vioapic *io, unsigned pin)
{
	u64 rte = io->rte[pin];

	if (!(rte & RTE_TRIGGER_LEVEL) || rte & (RTE_MASKED | RTE_REMOTE_IRR) || !asserted(io, pin))
		return;
	if (send(io, pin) && FIELD_GET(RTE_DELMODE, rte) <= VLAPIC_DM_LOWEST)
		io->rte[pin] |= RTE_REMOTE_IRR;
}

void vioapic_set_irq(struct guest *g, unsigned pin, bool high)
{
	struct vioapic *io = &g->ioapic;
	bool was;

	if (!io->g || pin >= VIOAPIC_PINS)
		return;
	spin_lock(&io->lock);
	was = asserted(io, pin);
	if (high)
		io->line |= BIT(pin);
	else
		io->line &= ~BIT(pin);
	if (io->rte[pin] & RTE_TRIGGER_LEVEL)
		service_level(io, pin);
	else if (!was && asserted(io, pin) && !(io->rte[pin] & RTE_MASKED))
		send(io, pin); /* an edge while masked is lost (82093AA 3.2.4) */
	spin_unlock(&io->lock);
}

static void eoi_locked(struct vioapic *io, u8 vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 rte = io->rte[pin];

		if (!(rte & RTE_REMOTE_IRR) || FIELD_GET(RTE_VECTOR, rte) != vector)
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		service_level(io, pin);
	}
}

void vioapic_eoi(struct guest *g, u8 vector)
{
	struct vioapic *io = &g->ioapic;

	if (!io->g)
		return;
	spin_lock(&io->lock);
	eoi_locked(io, vector);
	spin_unlock(&io->lock);
}

static u32 reg_read(const struct vioapic *io, u32 reg)
{
	unsigned pin = (reg - IOAPIC_REG_RTE0) / 2;

	switch (reg) {
	case IOAPIC_REG_ID: return (u32)FIELD_PREP(IOAPIC_ID_ID, io->id);
	case IOAPIC_REG_VER:
		return (u32)(FIELD_PREP(IOAPIC_VER_VERSION, VIOAPIC_VERSION) |
			     FIELD_PREP(IOAPIC_VER_MAX_RTE, VIOAPIC_PINS - 1));
	case IOAPIC_REG_ARB: return (u32)FIELD_PREP(IOAPIC_ARB_ID, io->id);
	default: break;
	}
	if (reg < IOAPIC_REG_RTE0 || pin >= VIOAPIC_PINS)
		return 0;
	return reg & 1 ? (u32)(io->rte[pin] >> 32) : (u32)io->rte[pin];
}

static void rte_write(struct vioapic *io, unsigned pin, bool high_half, u32 val)
{
	u64 rte = io->rte[pin];

	if (high_half)
		rte = (rte & GENMASK(31, 0)) | ((u64)val << 32);
	else
		rte = (rte & GENMASK(63, 32)) | val;
	rte = (rte & RTE_WRITABLE) | (io->rte[pin] & RTE_REMOTE_IRR);
	/* remote IRR belongs to level-triggered interrupts only */
	if (!(rte & RTE_TRIGGER_LEVEL))
		rte &= ~RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	service_level(io, pin);
}

static void reg_write(struct vioapic *io, u32 reg, u32 val)
{
	unsigned pin = (reg - IOAPIC_REG_RTE0) / 2;

	if (reg == IOAPIC_REG_ID)
		io->id = (u32)FIELD_GET(IOAPIC_ID_ID, val);
	else if (reg >= IOAPIC_REG_RTE0 && pin < VIOAPIC_PINS)
		rte_write(io, pin, reg & 1, val);
	/* version, arbitration and unimplemented registers are read-only */
}

int vioapic_mmio_read(struct guest *g, u32 offset, u32 *val)
{
	struct vioapic *io = &g->ioapic;

	if (offset & 3 || offset >= VIOAPIC_SIZE)
		return -EINVAL;
	spin_lock(&io->lock);
	if (offset == IOAPIC_IOREGSEL)
		*val = io->regsel;
	else if (offset == IOAPIC_IOWIN)
		*val = reg_read(io, io->regsel);
	else
		*val = 0; /* the EOI register is write-only; the rest reserved */
	spin_unlock(&io->lock);
	return 0;
}

int vioapic_mmio_write(struct guest *g, u32 offset, u32 val)
{
	struct vioapic *io = &g->ioapic;

	if (offset & 3 || offset >= VIOAPIC_SIZE)
		return -EINVAL;
	spin_lock(&io->lock);
	if (offset == IOAPIC_IOREGSEL)
		io->regsel = val & 0xff;
	else if (offset == IOAPIC_IOWIN)
		reg_write(io, io->regsel, val);
	else if (offset == IOAPIC_EOI)
		eoi_locked(io, (u8)val);
	spin_unlock(&io->lock);
	return 0;
}
