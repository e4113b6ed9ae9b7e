/* Subsystem bring-up order after memory is set up. */
#define LOG_TAG "moat"
#include <moat/log.h>
#include <moat/time.h>
#include <moat/vmm.h>
#include "core/boot_report.h"

void boot_subsystems_init(const struct boot_info *bi)
{
	time_init();
	/* Guests run to their end here: their results precede the self-tests and the summary. */
	if (vmm_init(bi) == 0)
		vmm_run();
}
