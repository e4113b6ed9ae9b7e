/* Subsystem bring-up order after memory is set up. */
#define LOG_TAG "moat"
#include <moat/acpi.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/pci_group.h>
#include <moat/time.h>
#include <moat/vmm.h>
#include "arch/x86/apic.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/smp.h"
#include "core/boot_report.h"
#include "core/console_pci.h"

void boot_subsystems_init(const struct boot_info *bi)
{
	const struct acpi_mcfg_segment *mcfg = NULL;
	unsigned nr_mcfg;

	time_init();
	acpi_init(bi);
	iommu_early_init(bi);
	if (apic_init() == 0)
		smp_init(bi);
	ioapic_init();
	/* ECAM from MCFG; without it pci/ asks the chipset or falls back to CF8/CFC. */
	nr_mcfg = acpi_mcfg(&mcfg);
	pci_init(mcfg, nr_mcfg, bi->mem, bi->nr_mem);
	console_pci_init();
	pci_groups_build();
	iommu_init(bi);
	/* Guests run to their end here: their results precede the self-tests and the summary. */
	if (vmm_init(bi) == 0)
		vmm_run();
}
