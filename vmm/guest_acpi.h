/* The ACPI tables moat builds for an operating-system guest (ACPI 6.5 chapter 5): RSDP,
 * XSDT, FADT with FACS and DSDT, MADT (local APICs, I/O APIC, interrupt source overrides).
 * Pure: host unit tests parse them back with moat's own ACPI parser. */
#ifndef VMM_GUEST_ACPI_H
#define VMM_GUEST_ACPI_H

#include <moat/types.h>

/* Guest-physical home of the tables: the BIOS area where an OS also looks for the RSDP. */
#define GUEST_ACPI_GPA 0xe0000ULL
#define GUEST_ACPI_SIZE 0x10000ULL

/* The fixed ACPI hardware moat emulates at these ports (FADT PM1a event and control blocks,
 * PM timer; the reset register). */
#define GUEST_PM1A_EVT_PORT 0x600
#define GUEST_PM1A_CNT_PORT 0x604
#define GUEST_PM_TMR_PORT 0x608
#define GUEST_RESET_PORT 0xcf9
#define GUEST_RESET_VALUE 0x06
#define GUEST_SCI_IRQ 9
/* The CMOS RTC's century byte (vmm/vrtc.c), as the FADT's CENTURY field names it. */
#define GUEST_RTC_CENTURY 0x32
/* The sleep type the DSDT's \_S5 names: PM1a_CNT.SLP_TYP = 5 with SLP_EN is power-off. */
#define GUEST_SLP_TYP_S5 5

/* The PCI host bridge the DSDT names (\_SB.PCI0, PNP0A03): bus 0 through configuration
 * mechanism #1 (ports 0xCF8-0xCFF) and this memory window, where the guest's device BARs are
 * (vmm/assign.c), below the I/O APIC's page. Linux scans PCI only below the host bridges
 * ACPI names. */
#define GUEST_PCI_MEM_BASE 0xc0000000ULL
#define GUEST_PCI_MEM_END 0xfebfffffULL /* inclusive */

#define GUEST_ACPI_MAX_CPUS 64
#define GUEST_LAPIC_BASE 0xfee00000ULL /* where the guest finds its local APIC */

/* With an I/O APIC (GSIs 0-23 from pin 0), the MADT routes the ISA IRQs as a PC's firmware
 * does: IRQ n on pin n, except IRQ 0 on pin 2 and the SCI level-triggered, active-high. */
#define GUEST_IOAPIC_PIN_IRQ0 2
#define GUEST_IOAPIC_ID_MAX 15 /* the 82093AA's ID register holds 4 bits */

struct guest_acpi_cfg {
	unsigned nr_cpus;
	u8 apic_ids[GUEST_ACPI_MAX_CPUS]; /* the local APIC ID of each vCPU */
	u64 lapic_base;
	u64 ioapic_base; /* 0: no I/O APIC (nor interrupt source overrides) */
	u8 ioapic_id;
};

/* Writes the tables into buf (the guest's memory at gpa, `cap` bytes), the RSDP first.
 * Returns the bytes used, or 0 if they do not fit or the configuration is out of range
 * (no vCPU or too many, an APIC ID repeated or 0xFF, gpa 0, an I/O APIC above 4 GiB or with
 * an ID past 15). */
size_t guest_acpi_build(u8 *buf, u64 gpa, size_t cap, const struct guest_acpi_cfg *c);

#endif
