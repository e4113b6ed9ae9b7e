#ifndef CORE_BOOT_REPORT_H
#define CORE_BOOT_REPORT_H

#include <moat/boot_info.h>

const struct boot_info *boot_info_get(void);
/* Brings up everything after memory: ACPI, APIC, SMP, PCI, IOMMU, guests. */
void boot_subsystems_init(const struct boot_info *bi);
void boot_report(const struct boot_info *bi);

#endif
