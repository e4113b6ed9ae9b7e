/* Subsystem bring-up order after memory is set up. */
#define LOG_TAG "moat"
#include <moat/acpi.h>
#include <moat/log.h>
#include <moat/time.h>
#include <moat/vmm.h>
#include "arch/x86/apic.h"
#include "arch/x86/smp.h"
#include "core/boot_report.h"

void boot_subsystems_init(const struct boot_info *bi)
{
	time_init();
	acpi_init(bi);
	if (apic_init() == 0)
		smp_init(bi);
	/* Guests run to their end here: their results precede the self-tests and the summary. */
	if (vmm_init(bi) == 0)
		vmm_run();
}
