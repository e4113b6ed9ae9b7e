/* Subsystem bring-up order after memory is set up. Every step's result is recorded
 * (include/moat/boot_steps.h): a guest starts only if what its isolation needs worked. */
#define LOG_TAG "moat"
#include <moat/acpi.h>
#include <moat/boot_steps.h>
#include <moat/errno.h>
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
	int dmar_err, err;

	err = time_init();
	boot_step_done(BOOT_STEP_ACPI, acpi_init(bi));
	/* A PIT that never gave a usable window: the ACPI PM timer, now that ACPI names it. */
	if (err == -ETIMEDOUT)
		err = time_init_pm_timer();
	boot_step_done(BOOT_STEP_TIME, err);
	/* -ENODEV: the firmware describes no remapping hardware; other errors: a DMAR that
	 * cannot be used, a failure of the IOMMU step below. */
	dmar_err = iommu_early_init(bi);
	if (boot_step_done(BOOT_STEP_APIC, apic_init()) == 0)
		smp_init(bi);
	boot_step_done(BOOT_STEP_IOAPIC, ioapic_init());
	/* ECAM from MCFG; without it pci/ asks the chipset or falls back to CF8/CFC. */
	nr_mcfg = acpi_mcfg(&mcfg);
	/* The configuration decides how many VFs each PF gets: read before SR-IOV. */
	vmm_config_early(bi);
	boot_step_done(BOOT_STEP_PCI, pci_init(mcfg, nr_mcfg, bi->mem, bi->nr_mem));
	/* A console that does not come up is reported; nothing depends on it. */
	console_pci_init();
	boot_step_done(BOOT_STEP_GROUPS, pci_groups_build());
	err = iommu_init(bi);
	boot_step_done(BOOT_STEP_IOMMU, dmar_err && dmar_err != -ENODEV ? dmar_err : err);
	/* Guests run to their end here: their results precede the self-tests and the summary. */
	if (vmm_init(bi) == 0)
		vmm_run();
}
