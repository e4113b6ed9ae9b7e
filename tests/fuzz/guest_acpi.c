/* The ACPI tables moat builds for an OS guest (vmm/guest_acpi.c), with fuzzed vCPU counts,
 * APIC IDs, I/O APIC, room and address, parsed back by moat's own firmware-table parser:
 * whatever moat builds must be what a firmware parser accepts, with the CPUs and the I/O
 * APIC it was given and a PC's interrupt source overrides. */
#include <stdlib.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "vmm/guest_acpi.h"
#include "fuzz.h"

static u8 mem[GUEST_ACPI_SIZE];
static struct acpi_info ai;
static u64 base;

static const void *map(void *ctx, u64 pa, u64 len)
{
	if (pa < base || len > sizeof(mem) || pa - base > sizeof(mem) - len)
		return NULL;
	return mem + (pa - base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = {data, size};
	struct guest_acpi_cfg c = {.nr_cpus = fin_u8(&in), .lapic_base = fin_u32(&in)};
	size_t cap = fin_u16(&in) % (sizeof(mem) + 1);
	struct acpi_access acc = {map, NULL};
	size_t n;

	base = (u64)fin_u32(&in) << 4;
	for (unsigned i = 0; i < GUEST_ACPI_MAX_CPUS; i++)
		c.apic_ids[i] = fin_u8(&in);
	c.ioapic_base = fin_u32(&in);
	c.ioapic_id = fin_u8(&in);
	n = guest_acpi_build(mem, base, cap, &c);
	if (!n)
		return 0;
	if (n > cap || !c.nr_cpus || c.nr_cpus > GUEST_ACPI_MAX_CPUS)
		abort();
	if (acpi_parse(&ai, &acc, base, NULL, 0) || ai.rejected || !ai.madt_ok ||
	    ai.nr_cpus != c.nr_cpus || ai.lapic_addr != (u32)c.lapic_base ||
	    !acpi_info_find(&ai, "FACP", 0) || !acpi_info_find(&ai, "DSDT", 0))
		abort();
	for (unsigned i = 0; i < c.nr_cpus; i++)
		if (ai.cpus[i].apic_id != c.apic_ids[i] || !ai.cpus[i].enabled)
			abort();
	if (!c.ioapic_base) {
		if (ai.nr_ioapics || ai.nr_isos)
			abort();
		return 0;
	}
	if (c.ioapic_id > GUEST_IOAPIC_ID_MAX || ai.nr_ioapics != 1 ||
	    ai.ioapics[0].id != c.ioapic_id || ai.ioapics[0].address != c.ioapic_base ||
	    ai.ioapics[0].gsi_base || ai.nr_isos != 2)
		abort();
	/* IRQ 0 on pin 2 conforming; the SCI the FADT names on its own pin, level, high */
	if (ai.isos[0].bus || ai.isos[0].source || ai.isos[0].gsi != GUEST_IOAPIC_PIN_IRQ0 ||
	    ai.isos[0].flags || ai.isos[1].bus || ai.isos[1].source != GUEST_SCI_IRQ ||
	    ai.isos[1].gsi != GUEST_SCI_IRQ || ai.isos[1].flags != 0xd)
		abort();
	return 0;
}
