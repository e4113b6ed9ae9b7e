/* I/O APICs (82093AA datasheet; ACPI MADT): every pin masked at boot; a pin moat uses is
 * routed through an interrupt-remapping entry when remapping hardware is present, and in
 * compatibility format only where there is none. */
#ifndef ARCH_X86_IOAPIC_H
#define ARCH_X86_IOAPIC_H

#include <moat/iommu.h>

struct ioapic_route {
	u32 gsi;
	bool remapped;
	struct iommu_irq irq; /* when remapped */
};

/* Finds the I/O APICs of the MADT and masks every pin. */
int ioapic_init(void);
unsigned ioapic_count(void);
/* The GSI an ISA IRQ arrives at (MADT interrupt source overrides), and its polarity and
 * trigger; ISA defaults (edge, active high, gsi = irq) without an override. */
u32 ioapic_isa_gsi(u8 isa_irq, bool *active_low, bool *level);
/* Routes `gsi` to `vector` on the CPU with APIC ID `dest`, unmasked. Through an IRTE whose
 * source ID is the I/O APIC's (from the DMAR) when remapping is on; `irte_sid` overrides
 * that source ID (self-tests: an entry the I/O APIC must not be able to use). */
int ioapic_route_gsi(u32 gsi, u8 vector, u32 dest, bool level, bool active_low,
		     struct ioapic_route *r, const u16 *irte_sid);
void ioapic_mask_gsi(u32 gsi);
/* Masks the pin and frees its remapping entry. */
void ioapic_unroute(struct ioapic_route *r);

#endif
