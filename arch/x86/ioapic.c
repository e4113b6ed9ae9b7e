/* I/O APIC driver. */
#define LOG_TAG "ioapic"
#include <moat/acpi.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/spinlock.h>
#include "arch/x86/io.h"
#include "arch/x86/ioapic.h"

/* Indirect access: select a register in IOREGSEL, read or write it through IOWIN. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10

/* IOAPICID */
#define IOAPIC_REG_ID 0x00
/* IOAPICVER */
#define IOAPIC_REG_VER 0x01
#define IOAPIC_VER_MAX_REDIR GENMASK(23, 16)
/* Redirection table entry n: low dword at 0x10 + 2n, high at 0x11 + 2n */
#define IOAPIC_REG_RTE(n) (0x10 + 2 * (n))
#define RTE_VECTOR GENMASK(7, 0)
#define RTE_ACTIVE_LOW BIT(13)
#define RTE_LEVEL BIT(15)
#define RTE_MASKED BIT(16)
#define RTE_DEST_XAPIC GENMASK(63, 56)

#define MAX_IOAPICS 8

struct ioapic {
	u8 id;
	u64 base;
	u32 gsi_base;
	unsigned pins;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nr_ioapics;
static spinlock_t ioapic_lock = SPINLOCK_INIT;

static u32 reg_read(const struct ioapic *io, u8 reg)
{
	mmio_write32(io->base + IOAPIC_IOREGSEL, reg);
	return mmio_read32(io->base + IOAPIC_IOWIN);
}

static void reg_write(const struct ioapic *io, u8 reg, u32 v)
{
	mmio_write32(io->base + IOAPIC_IOREGSEL, reg);
	mmio_write32(io->base + IOAPIC_IOWIN, v);
}

/* Masks first, then writes the high half, then the low half with the final mask bit, so the
 * pin never fires with a half-written entry. */
static void rte_write(const struct ioapic *io, unsigned pin, u64 rte)
{
	reg_write(io, IOAPIC_REG_RTE(pin), RTE_MASKED);
	reg_write(io, IOAPIC_REG_RTE(pin) + 1, (u32)(rte >> 32));
	reg_write(io, IOAPIC_REG_RTE(pin), (u32)rte);
}

static struct ioapic *ioapic_for_gsi(u32 gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nr_ioapics; i++) {
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].pins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	}
	return NULL;
}

int ioapic_init(void)
{
	const struct acpi_ioapic *madt;
	unsigned n = acpi_ioapics(&madt);

	for (unsigned i = 0; i < n && nr_ioapics < MAX_IOAPICS; i++) {
		struct ioapic *io = &ioapics[nr_ioapics];
		u32 ver;

		io->id = madt[i].id;
		io->base = madt[i].address;
		io->gsi_base = madt[i].gsi_base;
		ver = reg_read(io, IOAPIC_REG_VER);
		if (ver == 0xffffffffu) {
			pr_err(-ENODEV, "I/O APIC %u at %#llx does not answer\n", io->id,
			       (unsigned long long)io->base);
			continue;
		}
		io->pins = (unsigned)FIELD_GET(IOAPIC_VER_MAX_REDIR, ver) + 1;
		for (unsigned pin = 0; pin < io->pins; pin++)
			rte_write(io, pin, RTE_MASKED);
		nr_ioapics++;
		pr_info("I/O APIC %u at %#llx: GSIs %u-%u, all masked\n", io->id,
			(unsigned long long)io->base, io->gsi_base, io->gsi_base + io->pins - 1);
	}
	if (n > MAX_IOAPICS)
		pr_warn("%u I/O APICs, only the first %u are used\n", n, MAX_IOAPICS);
	return nr_ioapics ? 0 : -ENODEV;
}

unsigned ioapic_count(void)
{
	return nr_ioapics;
}

/* MPS INTI flags (ACPI MADT 5.2.12.5): polarity bits 1:0 (3 = active low), trigger
 * mode bits 3:2 (3 = level); 0 means "conforms to the bus" (ISA: high, edge). */
#define INTI_POLARITY GENMASK(1, 0)
#define INTI_TRIGGER GENMASK(3, 2)
#define INTI_ACTIVE_LOW 3
#define INTI_LEVEL 3

u32 ioapic_isa_gsi(u8 isa_irq, bool *active_low, bool *level)
{
	const struct acpi_irq_override *iso;
	unsigned n = acpi_irq_overrides(&iso);

	*active_low = false;
	*level = false;
	for (unsigned i = 0; i < n; i++) {
		if (iso[i].source != isa_irq)
			continue;
		*active_low = FIELD_GET(INTI_POLARITY, iso[i].flags) == INTI_ACTIVE_LOW;
		*level = FIELD_GET(INTI_TRIGGER, iso[i].flags) == INTI_LEVEL;
		return iso[i].gsi;
	}
	return isa_irq;
}

int ioapic_route_gsi(u32 gsi, u8 vector, u32 dest, bool level, bool active_low,
		     struct ioapic_route *r, const u16 *irte_sid)
{
	struct iommu_irq_cfg cfg = {.dest_apic_id = dest, .vector = vector, .level = level};
	unsigned pin;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	u16 seg, sid;
	u64 rte;
	int err;

	if (!io)
		return pr_err(-ENOENT, "no I/O APIC serves GSI %u\n", gsi);
	r->gsi = gsi;
	r->remapped = iommu_present();
	if (r->remapped) {
		err = iommu_ioapic_sid(io->id, &seg, &sid);
		if (err)
			return pr_err(
				err,
				"I/O APIC %u has no source ID in the DMAR: GSI %u not routed\n",
				io->id, gsi);
		if (irte_sid)
			sid = *irte_sid;
		err = iommu_irq_alloc(seg, sid, sid, &r->irq);
		if (!err)
			err = iommu_irq_program(&r->irq, &cfg);
		if (err)
			return pr_err(err, "no remapping entry for GSI %u\n", gsi);
		rte = iommu_ioapic_rte(&r->irq, &cfg, active_low, false);
	} else {
		if (dest > 0xff)
			return pr_err(-ERANGE, "GSI %u: APIC ID %u needs interrupt remapping\n",
				      gsi, dest);
		rte = FIELD_PREP(RTE_VECTOR, vector) | (active_low ? RTE_ACTIVE_LOW : 0) |
		      (level ? RTE_LEVEL : 0) | FIELD_PREP(RTE_DEST_XAPIC, dest);
	}
	spin_lock(&ioapic_lock);
	rte_write(io, pin, rte);
	spin_unlock(&ioapic_lock);
	return 0;
}

void ioapic_mask_gsi(u32 gsi)
{
	unsigned pin;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);

	if (!io)
		return;
	spin_lock(&ioapic_lock);
	rte_write(io, pin, RTE_MASKED);
	spin_unlock(&ioapic_lock);
}

void ioapic_unroute(struct ioapic_route *r)
{
	ioapic_mask_gsi(r->gsi);
	if (r->remapped)
		iommu_irq_free(&r->irq);
	r->remapped = false;
}
