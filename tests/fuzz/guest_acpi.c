/* The ACPI tables moat builds for an OS guest (vmm/guest_acpi.c), with fuzzed vCPU counts,
 * APIC IDs, room and address, parsed back by moat's own firmware-table parser: whatever
 * moat builds must be what a firmware parser accepts, with the CPUs it was given. */
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
	return 0;
}
