/* Boot fails closed: the results of the bring-up steps and what a guest needs of them. */
#define LOG_TAG "moat"
#include <moat/boot_steps.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>

/* What a failed step takes away. */
enum step_scope {
	SCOPE_ALL,     /* the machine is not set up: no guest runs */
	SCOPE_DEVICES, /* guests with devices are refused; guests without run */
};

static const struct {
	const char *name;
	enum step_scope scope;
	const char *consequence;
} steps[BOOT_STEP_NR] = {
	[BOOT_STEP_ENTRY] = {"the loader's hand-over", SCOPE_ALL,
			     "nothing it handed over (memory map, tables) can be trusted"},
	[BOOT_STEP_MEMORY] = {"memory set-up", SCOPE_ALL,
			      "moat does not know which memory is free"},
	[BOOT_STEP_TIME] = {"TSC calibration", SCOPE_ALL,
			    "no bounded wait or watchdog can be trusted"},
	[BOOT_STEP_ACPI] = {"ACPI tables", SCOPE_ALL,
			    "the CPUs, interrupt controllers and IOMMU are unknown"},
	[BOOT_STEP_APIC] = {"local APIC", SCOPE_ALL, "no CPU can be started or interrupted"},
	[BOOT_STEP_IOAPIC] = {"I/O APICs", SCOPE_ALL,
			      "interrupt pins moat could not mask may reach any CPU"},
	[BOOT_STEP_PCI] = {"PCI bring-up", SCOPE_DEVICES, "no device is known to be set up"},
	[BOOT_STEP_GROUPS] = {"isolation groups", SCOPE_DEVICES,
			      "which devices can reach each other is unknown"},
	[BOOT_STEP_IOMMU] = {"IOMMU bring-up", SCOPE_DEVICES,
			     "a device's DMA and interrupts cannot be confined"},
};

static int results[BOOT_STEP_NR];

const char *boot_step_name(enum boot_step s)
{
	return s < BOOT_STEP_NR ? steps[s].name : "?";
}

/* No remapping hardware at all is what the machine is, not a failed step. */
static bool failed(enum boot_step s)
{
	return results[s] && !(s == BOOT_STEP_IOMMU && results[s] == -ENODEV);
}

int boot_step_done(enum boot_step s, int err)
{
	if (s >= BOOT_STEP_NR)
		return err;
	results[s] = err;
	if (failed(s))
		pr_err(err, "boot step failed: %s (%d): %s; %s\n", steps[s].name, err,
		       steps[s].consequence,
		       steps[s].scope == SCOPE_ALL ? "no guest will run"
						   : "no guest with a device will run");
	return err;
}

int boot_step_error(enum boot_step s)
{
	return s < BOOT_STEP_NR ? results[s] : 0;
}

int boot_guest_allowed(bool has_devices, char *why, size_t size)
{
	for (unsigned s = 0; s < BOOT_STEP_NR; s++) {
		if (!failed(s) || (steps[s].scope == SCOPE_DEVICES && !has_devices))
			continue;
		snprintf(why, size, "boot step failed: %s (%d): %s", steps[s].name, results[s],
			 steps[s].consequence);
		return results[s] < 0 ? results[s] : -EIO;
	}
	return 0;
}

void boot_steps_reset(void)
{
	memset(results, 0, sizeof(results));
}
