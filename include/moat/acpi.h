/* ACPI tables: discovery (RSDP -> XSDT, RSDT fallback), checksum and length validation,
 * and the summaries the rest of moat needs (MADT CPUs and IOAPICs, MCFG segments).
 * A table whose checksum or length is bad is reported and never returned. */
#ifndef MOAT_ACPI_H
#define MOAT_ACPI_H

#include <moat/bits.h>
#include <moat/boot_info.h>

struct acpi_sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
SIZE_CHECK(struct acpi_sdt_header, 36);

struct acpi_cpu {
	u32 apic_id;
	u32 uid;
	bool x2apic;  /* from a Local x2APIC structure */
	bool enabled; /* usable now; false = online-capable only (may be hot-added) */
};

struct acpi_ioapic {
	u8 id;
	u32 address;
	u32 gsi_base;
};

/* Interrupt source override: ISA IRQ `source` arrives at `gsi`. */
struct acpi_irq_override {
	u8 bus, source;
	u16 flags; /* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 */
	u32 gsi;
};

struct acpi_mcfg_segment {
	u64 base; /* ECAM base for bus 0 of this segment, even when bus_start > 0 */
	u16 segment;
	u8 bus_start, bus_end;
};

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_TABLES 64

/* Parses the tables from boot_info's RSDP. Returns 0, or -ENODEV without usable ACPI. */
int acpi_init(const struct boot_info *bi);
/* The idx-th valid table with this signature, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned idx);
/* Enabled and online-capable CPUs from the MADT (check acpi_cpu.enabled). */
unsigned acpi_cpus(const struct acpi_cpu **cpus);
/* How many of those are enabled. */
unsigned acpi_cpus_enabled(void);
unsigned acpi_ioapics(const struct acpi_ioapic **ioapics);
unsigned acpi_irq_overrides(const struct acpi_irq_override **isos);
u64 acpi_lapic_address(void);
unsigned acpi_mcfg(const struct acpi_mcfg_segment **segs);
/* The ACPI PM timer (3.579545 MHz) from the FADT: its I/O port and counter width (24 or
 * 32 bits). -ENODEV if there is none. */
#define ACPI_PM_TIMER_HZ 3579545u
int acpi_pm_timer(u16 *port, unsigned *bits);
/* Leaving the machine (acpi/power.c): the PM1 control ports and the \_S5 sleep types for
 * power-off (SLP_TYP << 10 | SLP_EN), the FADT reset register for reboot. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1
#define ACPI_PM1_CNT_SLP_TYP GENMASK(12, 10)
#define ACPI_PM1_CNT_SLP_EN BIT(13)
struct acpi_power {
	u16 pm1a_cnt, pm1b_cnt; /* I/O ports, 0 = none */
	bool have_s5;
	u8 s5_typ_a, s5_typ_b;
	bool have_reset;
	u8 reset_space; /* ACPI_GAS_IO or ACPI_GAS_MEMORY */
	u64 reset_addr;
	u8 reset_value;
};
/* From a FADT and DSDT (either may be NULL: what is missing stays 0/false). */
int acpi_power_parse(const struct acpi_sdt_header *fadt, const struct acpi_sdt_header *dsdt,
		     struct acpi_power *pw);
/* From the tables found at boot; -ENODEV without a FADT. */
int acpi_power(struct acpi_power *pw);

#endif
