/* Event injection decisions of the VMX backend (arch/x86/vmx/vmx_event.c): an event the exit
 * path re-queued for redelivery is never overwritten, and an intercepted #DB goes back to
 * the guest as the CPU would have delivered it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_regs.h"
#include "host_shim.h"

#define INFO(vec, type) (INTR_INFO_VALID | FIELD_PREP(INTR_INFO_TYPE, type) | (vec))

/* A #PF whose delivery hit an EPT violation (IDT-vectoring information, with the undefined
 * bit 12 set) is redelivered as it was, bit 12 cleared; no vectoring, nothing to redeliver. */
static void test_redeliver(void **state)
{
	u32 pf = INFO(14, INTR_TYPE_HW_EXC) | INTR_INFO_HAS_ERROR;

	assert_int_equal(vmx_redeliver_info(pf | INTR_INFO_NMI_UNBLOCK), pf);
	assert_int_equal(vmx_redeliver_info(INFO(0x30, INTR_TYPE_EXT_INTR)),
			 INFO(0x30, INTR_TYPE_EXT_INTR));
	assert_int_equal(vmx_redeliver_info(0x30), 0);
}

/* The lost-event bug: with the redelivered event in the entry field, a device interrupt or
 * an exception must wait (-EBUSY), not replace it. */
static void test_never_overwrite(void **state)
{
	u32 queued = vmx_redeliver_info(INFO(14, INTR_TYPE_HW_EXC) | INTR_INFO_HAS_ERROR);

	assert_int_equal(vmx_event_check(queued, true, RFLAGS_IF, 0), -EBUSY);
	assert_int_equal(vmx_event_check(queued, false, RFLAGS_IF, 0), -EBUSY);
	assert_int_equal(vmx_event_check(INFO(0x41, INTR_TYPE_EXT_INTR), true, RFLAGS_IF, 0),
			 -EBUSY);
	/* the slot free: an exception goes in whatever the guest's interrupt state */
	assert_int_equal(vmx_event_check(0, false, 0, INTR_BLOCK_STI), 0);
	assert_int_equal(vmx_event_check(0, true, RFLAGS_IF, 0), 0);
}

/* An interrupt only while the guest takes one (26.3.1.4). */
static void test_interrupt_window(void **state)
{
	assert_int_equal(vmx_event_check(0, true, 0, 0), -EBUSY);
	assert_int_equal(vmx_event_check(0, true, RFLAGS_IF, INTR_BLOCK_STI), -EBUSY);
	assert_int_equal(vmx_event_check(0, true, RFLAGS_IF, INTR_BLOCK_MOV_SS), -EBUSY);
	assert_int_equal(vmx_event_check(0, true, RFLAGS_IF, INTR_BLOCK_NMI), 0);
}

/* A single step: DR6.BS from the qualification, the stale breakpoint bit dropped, a
 * hardware exception, no RF. */
/* An NMI waits for a queued event, for the guest's NMI blocking (its handler has not
 * returned) and for an STI / MOV SS shadow. */
static void test_nmi_check(void **state)
{
	assert_int_equal(vmx_nmi_check(0, 0), 0);
	assert_int_equal(vmx_nmi_check(INFO(14, INTR_TYPE_HW_EXC), 0), -EBUSY);
	assert_int_equal(vmx_nmi_check(INFO(2, INTR_TYPE_NMI), 0), -EBUSY);
	assert_int_equal(vmx_nmi_check(0, INTR_BLOCK_NMI), -EBUSY);
	assert_int_equal(vmx_nmi_check(0, INTR_BLOCK_STI), -EBUSY);
	assert_int_equal(vmx_nmi_check(0, INTR_BLOCK_MOV_SS), -EBUSY);
}

/* 27.2.3: an IRET that unblocked NMIs and then faulted (exception bit 12, EPT violation
 * qualification bit 12) needs the blocking back; not while an event was being delivered. */
static void test_nmi_unblocked_by_iret(void **state)
{
	u32 gp = INFO(13, INTR_TYPE_HW_EXC) | INTR_INFO_HAS_ERROR;

	assert_true(vmx_nmi_unblocked_by_iret(VMX_EXIT_EXCEPTION_NMI, gp | INTR_INFO_NMI_UNBLOCK, 0,
					      0));
	assert_false(vmx_nmi_unblocked_by_iret(VMX_EXIT_EXCEPTION_NMI, gp, 0, 0));
	assert_true(vmx_nmi_unblocked_by_iret(VMX_EXIT_EPT_VIOLATION, 0,
					      EPT_QUAL_NMI_UNBLOCK | EPT_QUAL_READ, 0));
	assert_false(vmx_nmi_unblocked_by_iret(VMX_EXIT_EPT_VIOLATION, 0, EPT_QUAL_READ, 0));
	assert_false(vmx_nmi_unblocked_by_iret(VMX_EXIT_EPT_VIOLATION, 0, EPT_QUAL_NMI_UNBLOCK,
					       INFO(14, INTR_TYPE_HW_EXC)));
	assert_false(vmx_nmi_unblocked_by_iret(VMX_EXIT_CPUID, 0, BIT(12), 0));
}

static void test_db_single_step(void **state)
{
	struct vmx_db_exit x = {
		.intr_info = INFO(1, INTR_TYPE_HW_EXC),
		.qual = DB_QUAL_BS,
		.dr6 = DR6_INIT | DR6_B(2),
		.dr7 = DR7_INIT,
		.rflags = RFLAGS_TF | 2,
	};
	struct vmx_db_event ev;

	vmx_db_reflect(&x, &ev);
	assert_int_equal(ev.entry_info, INFO(1, INTR_TYPE_HW_EXC));
	assert_int_equal(ev.insn_len, 0);
	assert_int_equal(ev.dr6, DR6_INIT | DR6_BS);
	assert_int_equal(ev.pending_dbg, 0);
	assert_false(ev.set_rf);
}

/* A single step out of STI / MOV SS blocking: the entry requires BS pending (26.3.1.5). */
static void test_db_blocking_keeps_bs(void **state)
{
	struct vmx_db_exit x = {
		.intr_info = INFO(1, INTR_TYPE_HW_EXC),
		.qual = DB_QUAL_B & BIT(0),
		.dr6 = DR6_INIT,
		.dr7 = DR7_INIT | FIELD_PREP(DR7_RW(0), 1),
		.rflags = RFLAGS_TF | 2,
		.interruptibility = INTR_BLOCK_MOV_SS,
	};
	struct vmx_db_event ev;

	vmx_db_reflect(&x, &ev);
	assert_int_equal(ev.pending_dbg, PENDING_DBG_BS);
	assert_int_equal(ev.dr6, DR6_INIT | DR6_B(0));
	assert_false(ev.set_rf); /* a data breakpoint is a trap */
	x.interruptibility = INTR_BLOCK_STI;
	vmx_db_reflect(&x, &ev);
	assert_int_equal(ev.pending_dbg, PENDING_DBG_BS);
	x.rflags = 2;
	vmx_db_reflect(&x, &ev);
	assert_int_equal(ev.pending_dbg, 0);
}

/* An instruction breakpoint is a fault: RF set so that the return does not hit it again. */
static void test_db_insn_breakpoint(void **state)
{
	struct vmx_db_exit x = {
		.intr_info = INFO(1, INTR_TYPE_HW_EXC),
		.qual = BIT(1),
		.dr6 = DR6_INIT,
		.dr7 = DR7_INIT | BIT(2) /* L1, RW1 = 00 */,
		.rflags = 2,
	};
	struct vmx_db_event ev;

	vmx_db_reflect(&x, &ev);
	assert_true(ev.set_rf);
	assert_int_equal(ev.dr6, DR6_INIT | DR6_B(1));
}

/* ICEBP exits before it executes: given back as a privileged software exception with its
 * length, DR6 untouched. */
static void test_db_icebp(void **state)
{
	struct vmx_db_exit x = {
		.intr_info = INFO(1, INTR_TYPE_PRIV_SW_EXC),
		.insn_len = 1,
		.dr6 = DR6_INIT | DR6_BS,
		.dr7 = DR7_INIT,
		.rflags = 2,
	};
	struct vmx_db_event ev;

	vmx_db_reflect(&x, &ev);
	assert_int_equal(ev.entry_info, INFO(1, INTR_TYPE_PRIV_SW_EXC));
	assert_int_equal(ev.insn_len, 1);
	assert_int_equal(ev.dr6, DR6_INIT | DR6_BS);
	assert_false(ev.set_rf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redeliver),
		cmocka_unit_test(test_never_overwrite),
		cmocka_unit_test(test_interrupt_window),
		cmocka_unit_test(test_nmi_check),
		cmocka_unit_test(test_nmi_unblocked_by_iret),
		cmocka_unit_test(test_db_single_step),
		cmocka_unit_test(test_db_blocking_keeps_bs),
		cmocka_unit_test(test_db_insn_breakpoint),
		cmocka_unit_test(test_db_icebp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
