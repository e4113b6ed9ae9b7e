/* The test image's hooks into the hypervisor (include/moat/test_hooks.h). Linking this
 * file is what makes an image the test image; the command-line words below select a test
 * path only here. */
#include <moat/cmdline.h>
#include <moat/test_hooks.h>
#include "tests/hv/guest_state.h"
#include "tests/hv/hv.h"
#include "tests/hv/irq_forge.h"
#include "tests/hv/selftest.h"

/* PIT windows tsc_test_wrap stalls past the counter's wrap: a majority, so that only
 * dropping them keeps the median right. */
#define TSC_TEST_STALLED_WINDOWS 3

/* tsc_test_no_pit: every window, so that the boot falls back to the ACPI PM timer. */
#define TSC_TEST_ALL_WINDOWS 1000u

static unsigned tsc_stalled_windows(void)
{
	if (cmdline_has("tsc_test_no_pit"))
		return TSC_TEST_ALL_WINDOWS;
	return cmdline_has("tsc_test_wrap") ? TSC_TEST_STALLED_WINDOWS : 0;
}

static bool memory_set_up_fails(void)
{
	return cmdline_has("boot_test_memory_fails");
}

static void vtd_before_takeover(unsigned idx, const struct dmar_drhd *d)
{
	if (cmdline_has("vtd_test_fw_enabled"))
		vtd_test_leave_enabled(idx, d);
}

static bool pci_irq_withheld(void)
{
	return cmdline_has("pci_test_no_pf_irq");
}

static void guests_start(void)
{
	for (u32 id = 0; id <= VMM_MAX_GUESTS + 1; id++)
		test_state_reset(id);
	irq_forge_arm();
	platform_test_snapshot();
}

static const struct test_hooks hv_test_hooks = {
	.memory_set_up_fails = memory_set_up_fails,
	.tsc_stalled_windows = tsc_stalled_windows,
	.vtd_before_takeover = vtd_before_takeover,
	.guests_start = guests_start,
	.guests_end = irq_forge_disarm,
	.hypercall = test_hypercall,
	.guest_npf = test_npf_ticks,
	.pci_irq_withheld = pci_irq_withheld,
	.after_guests = selftest_run_all,
	.guest_port_io = test_exits_port,
};

const struct test_hooks *const test_hooks = &hv_test_hooks;
