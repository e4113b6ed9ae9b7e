/* The ACPI tables moat builds for an OS guest (vmm/guest_acpi.c), parsed back by moat's own
 * firmware-table parser (acpi/tables.c, madt.c) as a firmware's tables would be. With
 * GUEST_ACPI_DUMP=<dir> the tables are also written there, one file per signature, for
 * ACPICA's disassembler (tests/unit/test_guest_acpi_iasl.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "acpi/acpi_parse.h"
#include "vmm/guest_acpi.h"
#include "host_shim.h"

static u8 mem[GUEST_ACPI_SIZE];
static struct acpi_info ai;

/* Guest-physical [GUEST_ACPI_GPA, + size) is `mem`; nothing else is readable. */
static const void *guest_map(void *ctx, u64 pa, u64 len)
{
	if (pa < GUEST_ACPI_GPA || len > GUEST_ACPI_SIZE ||
	    pa - GUEST_ACPI_GPA > GUEST_ACPI_SIZE - len)
		return NULL;
	return mem + (pa - GUEST_ACPI_GPA);
}

static const struct acpi_access acc = {guest_map, NULL};

static size_t build(unsigned nr_cpus)
{
	struct guest_acpi_cfg c = {.nr_cpus = nr_cpus,
				   .lapic_base = 0xfee00000,
				   .ioapic_base = 0xfec00000,
				   .ioapic_id = 3};

	for (unsigned i = 0; i < nr_cpus && i < GUEST_ACPI_MAX_CPUS; i++)
		c.apic_ids[i] = (u8)(i * 2);
	memset(mem, 0xa5, sizeof(mem));
	return guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c);
}

static u64 get(const void *p, unsigned off, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (u64)((const u8 *)p)[off + i] << (8 * i);
	return v;
}

static void dump(const char *sig, const void *p, size_t len)
{
	const char *dir = getenv("GUEST_ACPI_DUMP");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

static void test_parsed_back(void **state)
{
	const struct acpi_sdt_header *fadt, *dsdt, *madt;
	u64 rsdp;

	assert_true(build(2) > 0);
	/* found where an OS scans for it (ACPI 6.5 5.2.5.1: the BIOS area, 16-byte aligned) */
	rsdp = acpi_rsdp_scan(&acc);
	assert_int_equal(rsdp, GUEST_ACPI_GPA);
	assert_int_equal(acpi_parse(&ai, &acc, rsdp, NULL, 0), 0);
	assert_int_equal(ai.rsdp_revision, 2);
	assert_string_equal(ai.root_sig, "XSDT");
	assert_int_equal(ai.rejected, 0);
	fadt = acpi_info_find(&ai, "FACP", 0);
	dsdt = acpi_info_find(&ai, "DSDT", 0);
	madt = acpi_info_find(&ai, "APIC", 0);
	assert_non_null(fadt);
	assert_non_null(dsdt);
	assert_non_null(madt);
	assert_true(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 2);
	assert_int_equal(ai.nr_cpus_enabled, 2);
	assert_int_equal(ai.cpus[0].apic_id, 0);
	assert_int_equal(ai.cpus[1].apic_id, 2);
	assert_int_equal(ai.lapic_addr, 0xfee00000);
	/* one I/O APIC from GSI 0; no 8259 (PCAT_COMPAT clear) */
	assert_int_equal(ai.nr_ioapics, 1);
	assert_int_equal(ai.ioapics[0].id, 3);
	assert_int_equal(ai.ioapics[0].address, 0xfec00000);
	assert_int_equal(ai.ioapics[0].gsi_base, 0);
	assert_int_equal(get(madt, 40, 4) & 1, 0);
	/* overrides as a PC has them: IRQ 0 on GSI 2 conforming to the ISA bus, the SCI on
	 * GSI 9 level-triggered active-high (MPS INTI flags 0b1101); IRQ 4 is not overridden */
	assert_int_equal(ai.nr_isos, 2);
	assert_int_equal(ai.isos[0].bus, 0);
	assert_int_equal(ai.isos[0].source, 0);
	assert_int_equal(ai.isos[0].gsi, 2);
	assert_int_equal(ai.isos[0].flags, 0);
	assert_int_equal(ai.isos[1].bus, 0);
	assert_int_equal(ai.isos[1].source, 9);
	assert_int_equal(ai.isos[1].source, get(fadt, 46, 2)); /* FADT.SCI_INT */
	assert_int_equal(ai.isos[1].gsi, 9);
	assert_int_equal(ai.isos[1].flags, 0xd);
	assert_int_equal(madt->length, 44 + 2 * 8 + 12 + 2 * 10);
	/* FADT (5.2.9): PM1a event/control and the PM timer at moat's ports, 32-bit timer */
	assert_int_equal(fadt->length, 276);
	assert_int_equal(fadt->revision, 6);
	assert_int_equal(get(fadt, 56, 4), GUEST_PM1A_EVT_PORT);
	assert_int_equal(get(fadt, 64, 4), GUEST_PM1A_CNT_PORT);
	assert_int_equal(get(fadt, 76, 4), GUEST_PM_TMR_PORT);
	assert_int_equal(get(fadt, 91, 1), 4);	    /* PM_TMR_LEN */
	assert_true(get(fadt, 112, 4) & (1u << 8)); /* TMR_VAL_EXT */
	assert_int_equal(get(fadt, 140, 8), (u64)((const u8 *)dsdt - mem) + GUEST_ACPI_GPA);
	assert_int_equal(get(fadt, 40, 4), get(fadt, 140, 8)); /* DSDT == X_DSDT */
	assert_int_equal(get(fadt, 132, 8), 0); /* X_FIRMWARE_CTRL only above 4 GiB */
	assert_memory_equal(mem + get(fadt, 36, 4) - GUEST_ACPI_GPA, "FACS", 4);
	assert_int_equal(get(fadt, 36, 4) % 64, 0); /* FACS 64-byte aligned */
	assert_int_equal(get(fadt, 116, 1), 1);	    /* reset register: I/O */
	assert_int_equal(get(fadt, 120, 8), GUEST_RESET_PORT);
	assert_int_equal(get(fadt, 128, 1), GUEST_RESET_VALUE);
	/* a CMOS RTC (IAPC_BOOT_ARCH bit 5 clear) with its century byte; no VGA, no 8042 */
	assert_int_equal(get(fadt, 108, 1), 0x32);
	assert_int_equal(get(fadt, 109, 2), 1u << 2);
	/* \_S5 in the DSDT: what an OS writes to PM1a_CNT.SLP_TYP to power off */
	assert_int_equal(dsdt->length, 36 + 106);
	assert_memory_equal((const u8 *)dsdt + 36, "\x08_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00",
			    14);
	/* \_SB.PCI0, the host bridge of bus 0: its memory window holds the device BARs (the
	 * rest is read back by iasl: test_guest_acpi_iasl.py) */
	assert_memory_equal((const u8 *)dsdt + 36 + 14, "\x10\x4b\x05_SB_\x5b\x82\x43\x05PCI0", 15);
	assert_int_equal(get(dsdt, 36 + 106 - 2 - 16, 4), GUEST_PCI_MEM_BASE);
	assert_int_equal(get(dsdt, 36 + 106 - 2 - 12, 4), GUEST_PCI_MEM_END);
	dump("RSDP", mem, 36);
	dump("FACP", fadt, fadt->length);
	dump("DSDT", dsdt, dsdt->length);
	dump("APIC", madt, madt->length);
	dump("XSDT", mem + ai.root_pa - GUEST_ACPI_GPA, 36 + 16);
}

static void test_one_and_many_cpus(void **state)
{
	assert_true(build(1) > 0);
	assert_int_equal(acpi_parse(&ai, &acc, GUEST_ACPI_GPA, NULL, 0), 0);
	assert_int_equal(ai.nr_cpus, 1);
	assert_true(build(GUEST_ACPI_MAX_CPUS) > 0);
	assert_int_equal(acpi_parse(&ai, &acc, GUEST_ACPI_GPA, NULL, 0), 0);
	assert_int_equal(ai.nr_cpus, GUEST_ACPI_MAX_CPUS);
	assert_int_equal(ai.cpus[GUEST_ACPI_MAX_CPUS - 1].apic_id, 2 * (GUEST_ACPI_MAX_CPUS - 1));
	/* the I/O APIC after every local APIC */
	assert_int_equal(ai.nr_ioapics, 1);
	assert_int_equal(ai.nr_isos, 2);
}

/* Without an I/O APIC: neither it nor the overrides that would name its pins. */
static void test_no_ioapic(void **state)
{
	struct guest_acpi_cfg c = {.nr_cpus = 1, .lapic_base = 0xfee00000};

	memset(mem, 0xa5, sizeof(mem));
	assert_true(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c) > 0);
	assert_int_equal(acpi_parse(&ai, &acc, GUEST_ACPI_GPA, NULL, 0), 0);
	assert_true(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 1);
	assert_int_equal(ai.nr_ioapics, 0);
	assert_int_equal(ai.nr_isos, 0);
}

static void test_refused(void **state)
{
	struct guest_acpi_cfg c = {.nr_cpus = 1, .lapic_base = 0xfee00000};

	assert_int_equal(build(0), 0);
	assert_int_equal(build(GUEST_ACPI_MAX_CPUS + 1), 0);
	/* too little room: nothing written past it */
	memset(mem, 0xa5, sizeof(mem));
	assert_int_equal(guest_acpi_build(mem, GUEST_ACPI_GPA, 200, &c), 0);
	assert_int_equal(mem[0], 0xa5);
	/* each vCPU's APIC ID its own, none the broadcast ID */
	c.nr_cpus = 2;
	c.apic_ids[1] = 0;
	assert_int_equal(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c), 0);
	c.apic_ids[1] = 0xff;
	assert_int_equal(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c), 0);
	c.apic_ids[1] = 1;
	assert_true(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c) > 0);
	c.nr_cpus = 1;
	assert_int_equal(guest_acpi_build(mem, 0, sizeof(mem), &c), 0);
	/* the 32-bit pointers of the FADT must reach the tables */
	assert_int_equal(guest_acpi_build(mem, 0xfffff000ULL, sizeof(mem), &c), 0);
	/* the MADT's I/O APIC address has 32 bits, its ID register 4 */
	c.ioapic_base = 0x100000000ULL;
	assert_int_equal(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c), 0);
	c.ioapic_base = 0xfec00000;
	c.ioapic_id = 16;
	assert_int_equal(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c), 0);
	c.ioapic_id = 15;
	assert_true(guest_acpi_build(mem, GUEST_ACPI_GPA, sizeof(mem), &c) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsed_back),
		cmocka_unit_test(test_one_and_many_cpus),
		cmocka_unit_test(test_no_ioapic),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("guest_acpi", tests, NULL, NULL);
}
