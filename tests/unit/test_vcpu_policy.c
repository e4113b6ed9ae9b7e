/* The run loop's decisions for OS guests (vmm/vcpu_policy.c): injection before an entry,
 * HLT, INIT and start-up IPIs, a guest that can never run again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/vcpu_policy.h"

/* A pending vector is injected when the guest can take it, else an interrupt window is
 * asked for; nothing pending asks for neither. */
static void test_irq_action(void **state)
{
	assert_int_equal(vcpu_irq_action(-1, false), VCPU_IRQ_NONE);
	assert_int_equal(vcpu_irq_action(-1, true), VCPU_IRQ_NONE);
	assert_int_equal(vcpu_irq_action(0xec, true), VCPU_IRQ_INJECT);
	assert_int_equal(vcpu_irq_action(0xec, false), VCPU_IRQ_WINDOW);
	assert_int_equal(vcpu_irq_action(0, true), VCPU_IRQ_INJECT);
	assert_int_equal(vcpu_irq_action(255, false), VCPU_IRQ_WINDOW);
}

static enum vcpu_halt_action halt(bool if_set, int pending, u32 events, u64 deadline, u32 others,
				  bool dev)
{
	struct vcpu_halt_view h = {if_set, pending, events, deadline, others, dev};

	return vcpu_halt_action(&h);
}

static void test_halt_action(void **state)
{
	/* a deliverable interrupt, or an NMI / INIT / SIPI whatever IF is: resume */
	assert_int_equal(halt(true, 0x30, 0, 0, 0, false), VCPU_HALT_RESUME);
	assert_int_equal(halt(false, -1, VLAPIC_EV_NMI, 0, 0, false), VCPU_HALT_RESUME);
	assert_int_equal(halt(false, 0x30, VLAPIC_EV_INIT, 0, 0, false), VCPU_HALT_RESUME);
	assert_int_equal(halt(true, -1, VLAPIC_EV_SIPI, 0, 0, false), VCPU_HALT_RESUME);
	/* interrupts off: an interrupt, a timer or other vCPUs do not wake it */
	assert_int_equal(halt(false, 0x30, 0, 1000, 1, true), VCPU_HALT_STUCK);
	assert_int_equal(halt(false, -1, 0, 0, 0, false), VCPU_HALT_STUCK);
	/* interrupts on, something armed that may raise one: wait host-side */
	assert_int_equal(halt(true, -1, 0, 123456, 0, false), VCPU_HALT_WAIT);
	assert_int_equal(halt(true, -1, 0, 0, 1, false), VCPU_HALT_WAIT);
	assert_int_equal(halt(true, -1, 0, 0, 0, true), VCPU_HALT_WAIT);
	/* nothing at all: stopped */
	assert_int_equal(halt(true, -1, 0, 0, 0, false), VCPU_HALT_STOP);
}

static void test_event_action(void **state)
{
	/* Linux's start of an AP: INIT, then SIPI (taken together or apart), the second SIPI
	 * ignored */
	assert_int_equal(vcpu_event_action(VCPU_WAIT_SIPI, 1, VLAPIC_EV_INIT), VCPU_EV_INIT);
	assert_int_equal(vcpu_event_action(VCPU_WAIT_SIPI, 1, VLAPIC_EV_SIPI), VCPU_EV_START);
	assert_int_equal(vcpu_event_action(VCPU_WAIT_SIPI, 1, VLAPIC_EV_INIT | VLAPIC_EV_SIPI),
			 VCPU_EV_START);
	assert_int_equal(vcpu_event_action(VCPU_RUN, 1, VLAPIC_EV_SIPI), VCPU_EV_NONE);
	/* INIT resets a running AP to wait-for-SIPI; with a SIPI after it, it starts again */
	assert_int_equal(vcpu_event_action(VCPU_RUN, 2, VLAPIC_EV_INIT), VCPU_EV_INIT);
	assert_int_equal(vcpu_event_action(VCPU_RUN, 2, VLAPIC_EV_INIT | VLAPIC_EV_SIPI),
			 VCPU_EV_START);
	/* INIT to the boot vCPU is a reset of the guest */
	assert_int_equal(vcpu_event_action(VCPU_RUN, 0, VLAPIC_EV_INIT), VCPU_EV_RESET_BSP);
	assert_int_equal(vcpu_event_action(VCPU_RUN, 0, VLAPIC_EV_INIT | VLAPIC_EV_SIPI),
			 VCPU_EV_RESET_BSP);
	assert_int_equal(vcpu_event_action(VCPU_RUN, 0, VLAPIC_EV_SIPI), VCPU_EV_NONE);
	/* an NMI alone changes nothing here (the loop injects it) */
	assert_int_equal(vcpu_event_action(VCPU_RUN, 1, VLAPIC_EV_NMI), VCPU_EV_NONE);
	assert_int_equal(vcpu_event_action(VCPU_WAIT_SIPI, 1, VLAPIC_EV_NMI), VCPU_EV_NONE);
	assert_int_equal(vcpu_event_action(VCPU_RUN, 1, 0), VCPU_EV_NONE);
}

static void test_guest_stuck(void **state)
{
	assert_true(vcpu_guest_stuck(1, 1, false));
	assert_true(vcpu_guest_stuck(2, 2, false));
	assert_false(vcpu_guest_stuck(1, 2, false));
	assert_false(vcpu_guest_stuck(2, 2, true));
	assert_false(vcpu_guest_stuck(0, 0, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irq_action),
		cmocka_unit_test(test_halt_action),
		cmocka_unit_test(test_event_action),
		cmocka_unit_test(test_guest_stuck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
