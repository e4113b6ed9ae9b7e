/* Boot fails closed: every step of the bring-up records its result here, and a guest
 * starts only if nothing its isolation depends on failed. */
#ifndef MOAT_BOOT_STEPS_H
#define MOAT_BOOT_STEPS_H

#include <moat/types.h>

enum boot_step {
	BOOT_STEP_ENTRY,  /* the loader's hand-over (multiboot2 magic) */
	BOOT_STEP_MEMORY, /* memory map, page allocator, moat's own page tables */
	BOOT_STEP_TIME,	  /* TSC frequency: every bounded wait and watchdog */
	BOOT_STEP_ACPI,	  /* the firmware's tables: CPUs, I/O APICs, ECAM, DMAR */
	BOOT_STEP_APIC,	  /* the local APIC of the boot CPU */
	BOOT_STEP_IOAPIC, /* every I/O APIC pin masked */
	BOOT_STEP_PCI,	  /* enumeration, SR-IOV, PF drivers */
	BOOT_STEP_GROUPS, /* isolation groups */
	BOOT_STEP_IOMMU,  /* DMA and interrupt remapping, DMA default-deny */
	BOOT_STEP_NR
};

/* Records a step's result (0 or a negative errno) and returns it. For BOOT_STEP_IOMMU,
 * -ENODEV means the machine has no remapping hardware, which is not a failure (guests
 * with devices are refused for it elsewhere). */
int boot_step_done(enum boot_step s, int err);
int boot_step_error(enum boot_step s);
const char *boot_step_name(enum boot_step s);

/* 0 if a guest (with devices or without) may start after this boot; otherwise a negative
 * errno and, in why, the step that failed and what it means for the guest. */
int boot_guest_allowed(bool has_devices, char *why, size_t size);

/* Forgets every result (host unit tests). */
void boot_steps_reset(void);

#endif
