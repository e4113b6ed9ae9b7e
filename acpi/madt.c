/* MADT (ACPI 6.5 5.2.12): CPUs, IOAPICs, interrupt source overrides, LAPIC address. */
#define LOG_TAG "acpi"
#include <moat/bits.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"

struct madt {
	struct acpi_sdt_header hdr;
	u32 lapic_addr;
	u32 flags;
} __packed;
SIZE_CHECK(struct madt, 44);

struct madt_entry {
	u8 type;
	u8 length;
} __packed;

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_ADDR 5
#define MADT_X2APIC 9

/* Local APIC / Local x2APIC flags */
#define MADT_CPU_ENABLED BIT(0)
#define MADT_CPU_ONLINE_CAPABLE BIT(1)

#define XAPIC_ID_NONE 0xff

struct madt_lapic {
	struct madt_entry e;
	u8 uid;
	u8 apic_id;
	u32 flags;
} __packed;
SIZE_CHECK(struct madt_lapic, 8);

struct madt_ioapic {
	struct madt_entry e;
	u8 id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;
SIZE_CHECK(struct madt_ioapic, 12);

struct madt_iso {
	struct madt_entry e;
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
} __packed;
SIZE_CHECK(struct madt_iso, 10);

struct madt_lapic_addr {
	struct madt_entry e;
	u16 reserved;
	u64 address;
} __packed;
SIZE_CHECK(struct madt_lapic_addr, 12);

struct madt_x2apic {
	struct madt_entry e;
	u16 reserved;
	u32 x2apic_id;
	u32 flags;
	u32 uid;
} __packed;
SIZE_CHECK(struct madt_x2apic, 16);

static void add_cpu(struct acpi_info *ai, u32 apic_id, u32 uid, u32 flags, bool x2apic)
{
	if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)))
		return;
	for (unsigned i = 0; i < ai->nr_cpus; i++) {
		if (ai->cpus[i].apic_id == apic_id) {
			pr_warn("MADT lists APIC ID %u twice; the second entry is ignored\n",
				apic_id);
			return;
		}
	}
	if (ai->nr_cpus == ACPI_MAX_CPUS) {
		if (!ai->cpus_dropped++)
			pr_warn("MADT lists more than %u CPUs; APIC ID %u and later are ignored\n",
				ACPI_MAX_CPUS, apic_id);
		return;
	}
	ai->cpus[ai->nr_cpus++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.x2apic = x2apic,
		.enabled = flags & MADT_CPU_ENABLED,
	};
	if (flags & MADT_CPU_ENABLED)
		ai->nr_cpus_enabled++;
}

static void add_ioapic(struct acpi_info *ai, const struct madt_ioapic *io)
{
	if (ai->nr_ioapics == ACPI_MAX_IOAPICS) {
		pr_warn("more than %u IOAPICs; IOAPIC %u ignored\n", ACPI_MAX_IOAPICS, io->id);
		return;
	}
	ai->ioapics[ai->nr_ioapics++] = (struct acpi_ioapic){io->id, io->address, io->gsi_base};
}

static void add_iso(struct acpi_info *ai, const struct madt_iso *iso)
{
	if (ai->nr_isos == ACPI_MAX_OVERRIDES) {
		pr_warn("more than %u interrupt source overrides; IRQ %u ignored\n",
			ACPI_MAX_OVERRIDES, iso->source);
		return;
	}
	ai->isos[ai->nr_isos++] =
		(struct acpi_irq_override){iso->bus, iso->source, iso->flags, iso->gsi};
}

/* The smallest length each known entry type may have. */
static unsigned min_entry_len(u8 type)
{
	switch (type) {
	case MADT_LAPIC: return sizeof(struct madt_lapic);
	case MADT_IOAPIC: return sizeof(struct madt_ioapic);
	case MADT_ISO: return sizeof(struct madt_iso);
	case MADT_LAPIC_ADDR: return sizeof(struct madt_lapic_addr);
	case MADT_X2APIC: return sizeof(struct madt_x2apic);
	default: return sizeof(struct madt_entry);
	}
}

static void parse_entry(struct acpi_info *ai, const struct madt_entry *e)
{
	const struct madt_lapic *l = (const void *)e;
	const struct madt_x2apic *x = (const void *)e;
	const struct madt_lapic_addr *a = (const void *)e;

	switch (e->type) {
	case MADT_LAPIC:
		if (l->apic_id != XAPIC_ID_NONE)
			add_cpu(ai, l->apic_id, l->uid, l->flags, false);
		break;
	case MADT_X2APIC: add_cpu(ai, x->x2apic_id, x->uid, x->flags, true); break;
	case MADT_IOAPIC: add_ioapic(ai, (const void *)e); break;
	case MADT_ISO: add_iso(ai, (const void *)e); break;
	case MADT_LAPIC_ADDR: ai->lapic_addr = a->address; break;
	default: break;
	}
}

int acpi_parse_madt(struct acpi_info *ai, const struct acpi_sdt_header *hdr)
{
	const struct madt *m = (const void *)hdr;
	const u8 *base = (const u8 *)hdr;
	u32 off = sizeof(*m);

	if (hdr->length < sizeof(*m))
		return pr_err(-EINVAL, "MADT length %u is shorter than its %zu-byte header\n",
			      hdr->length, sizeof(*m));
	ai->lapic_addr = m->lapic_addr;
	while (off < hdr->length) {
		const struct madt_entry *e = (const void *)(base + off);

		if (hdr->length - off < sizeof(*e))
			return pr_err(-EINVAL, "MADT: %u stray bytes at offset %u; walk stopped\n",
				      hdr->length - off, off);
		if (e->length < min_entry_len(e->type) || e->length > hdr->length - off)
			return pr_err(-EINVAL,
				      "MADT entry type %u at offset %u has length %u (table ends "
				      "at %u); walk stopped\n",
				      e->type, off, e->length, hdr->length);
		parse_entry(ai, e);
		off += e->length;
	}
	if (!ai->nr_cpus_enabled)
		pr_warn("MADT lists no enabled CPU\n");
	return 0;
}
