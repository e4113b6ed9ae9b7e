/* Boot fails closed (core/boot_steps.c): which failed step refuses which guests, and the
 * reason a refused guest is given. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <moat/boot_steps.h>
#include <moat/errno.h>
#include "host_shim.h"

static int reset(void **state)
{
	(void)state;
	boot_steps_reset();
	shim_errors_logged = 0;
	return 0;
}

static void test_clean_boot_allows_every_guest(void **state)
{
	char why[160] = "";

	(void)state;
	for (unsigned s = 0; s < BOOT_STEP_NR; s++)
		boot_step_done(s, 0);
	assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), 0);
	assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), 0);
	assert_int_equal(shim_errors_logged, 0);
}

/* A machine without remapping hardware is not a failed step: guests without devices run
 * (the ones with devices are refused by the assignment's own check). */
static void test_no_iommu_is_not_a_failure(void **state)
{
	char why[160] = "";

	(void)state;
	assert_int_equal(boot_step_done(BOOT_STEP_IOMMU, -ENODEV), -ENODEV);
	assert_int_equal(shim_errors_logged, 0);
	assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), 0);
	assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), 0);
}

/* A broken IOMMU refuses every guest with a device, with the reason; the others run. */
static void test_broken_iommu_refuses_guests_with_devices(void **state)
{
	char why[160] = "";

	(void)state;
	boot_step_done(BOOT_STEP_IOMMU, -EIO);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "boot step failed: IOMMU bring-up"));
	assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), 0);
	assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), -EIO);
	assert_non_null(strstr(why, "IOMMU bring-up (-5)"));
	assert_non_null(strstr(why, "cannot be confined"));
}

static void test_pci_and_groups_refuse_guests_with_devices(void **state)
{
	static const enum boot_step steps[] = {BOOT_STEP_PCI, BOOT_STEP_GROUPS};
	char why[160];

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		boot_steps_reset();
		boot_step_done(steps[i], -ENODEV);
		assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), 0);
		assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), -ENODEV);
		assert_non_null(strstr(why, boot_step_name(steps[i])));
	}
}

/* Steps without which the machine is not set up refuse every guest. */
static void test_machine_steps_refuse_every_guest(void **state)
{
	static const enum boot_step steps[] = {BOOT_STEP_ENTRY, BOOT_STEP_MEMORY, BOOT_STEP_TIME,
					       BOOT_STEP_ACPI,	BOOT_STEP_APIC,	  BOOT_STEP_IOAPIC};
	char why[160];

	(void)state;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		boot_steps_reset();
		shim_errors_logged = 0;
		boot_step_done(steps[i], -ETIMEDOUT);
		assert_int_equal(shim_errors_logged, 1);
		assert_non_null(strstr(shim_last_log, "no guest will run"));
		assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), -ETIMEDOUT);
		assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), -ETIMEDOUT);
		assert_non_null(strstr(why, boot_step_name(steps[i])));
	}
}

/* The first failed step (in bring-up order) is the reason given. */
static void test_first_failure_is_the_reason(void **state)
{
	char why[160];

	(void)state;
	boot_step_done(BOOT_STEP_IOMMU, -EIO);
	boot_step_done(BOOT_STEP_MEMORY, -ENOMEM);
	assert_int_equal(boot_guest_allowed(true, why, sizeof(why)), -ENOMEM);
	assert_non_null(strstr(why, "memory set-up"));
	/* a step that succeeds when retried clears its failure */
	boot_step_done(BOOT_STEP_MEMORY, 0);
	assert_int_equal(boot_guest_allowed(false, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_clean_boot_allows_every_guest, reset),
		cmocka_unit_test_setup(test_no_iommu_is_not_a_failure, reset),
		cmocka_unit_test_setup(test_broken_iommu_refuses_guests_with_devices, reset),
		cmocka_unit_test_setup(test_pci_and_groups_refuse_guests_with_devices, reset),
		cmocka_unit_test_setup(test_machine_steps_refuse_every_guest, reset),
		cmocka_unit_test_setup(test_first_failure_is_the_reason, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
