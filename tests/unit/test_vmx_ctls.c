/* VMX control computation and fixed-bit handling (arch/x86/vmx/vmx_ctls.c) on capability
 * MSR values. The Bochs values are the ones corei7_haswell_4770 reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/vmx_regs.h"
#include "host_shim.h"

static u64 allowed(u32 must1, u32 may1)
{
	return FIELD_PREP(VMX_CTL_ALLOWED0, must1) | FIELD_PREP(VMX_CTL_ALLOWED1, may1);
}

static void test_required_bits_forced_on(void **state)
{
	struct vmx_ctl_req req = {.want = PIN_EXT_INTR | PIN_NMI};
	u32 v = 0;

	/* bits 1, 2, 4 are default1 in the non-true pin-based MSR */
	assert_int_equal(vmx_ctl_compute(VMX_CTL_PIN, allowed(0x16, 0x7f), &req, &v), 0);
	assert_int_equal(v, 0x16 | PIN_EXT_INTR | PIN_NMI);
}

static void test_unsupported_optional_dropped(void **state)
{
	struct vmx_ctl_req req = {.want = PROC_HLT, .optional = PROC_MSR_BITMAPS | PROC_PAUSE};
	u32 v = 0;

	assert_int_equal(
		vmx_ctl_compute(VMX_CTL_PROC, allowed(0, PROC_HLT | PROC_MSR_BITMAPS), &req, &v),
		0);
	assert_int_equal(v, PROC_HLT | PROC_MSR_BITMAPS);
}

static void test_unsupported_wanted_is_error_naming_it(void **state)
{
	struct vmx_ctl_req req = {.want = PROC2_EPT | PROC2_UNRESTRICTED};
	u32 v = 0xdead;
	int before = shim_errors_logged;

	assert_int_equal(vmx_ctl_compute(VMX_CTL_PROC2, allowed(0, PROC2_EPT), &req, &v), -ENOTSUP);
	assert_int_equal(v, 0xdead);
	assert_int_equal(shim_errors_logged, before + 1);
	assert_non_null(strstr(shim_last_log, "secondary processor-based"));
	assert_non_null(strstr(shim_last_log, "unrestricted guest"));
	assert_non_null(strstr(shim_last_log, "bit 7"));
}

static void test_forbidden_forced_on_is_error(void **state)
{
	struct vmx_ctl_req req = {.want = PROC_HLT, .forbid = PROC_UNCOND_IO};
	u32 v = 0;

	assert_int_equal(vmx_ctl_compute(VMX_CTL_PROC, allowed(PROC_UNCOND_IO, ~0u), &req, &v),
			 -ENOTSUP);
	assert_non_null(strstr(shim_last_log, "unconditional I/O exiting"));
	assert_non_null(strstr(shim_last_log, "forced on"));
	/* allowed but not forced: stays off even when also listed as optional */
	req.optional = PROC_UNCOND_IO | PROC_IO_BITMAPS;
	assert_int_equal(vmx_ctl_compute(VMX_CTL_PROC, allowed(0, ~0u), &req, &v), 0);
	assert_int_equal(v, PROC_HLT | PROC_IO_BITMAPS);
}

static void test_true_controls_clear_default1(void **state)
{
	/* Non-true primary controls force CR3-load/store exiting (bits 15, 16); the true MSR
	 * lets them be 0. */
	struct vmx_ctl_req req = {.want = PROC_HLT | PROC_SECONDARY, .forbid = 0};
	u32 v;

	assert_int_equal(vmx_ctl_compute(VMX_CTL_PROC, allowed(0x0401e172, ~0u), &req, &v), 0);
	assert_true(v & PROC_CR3_LOAD);
	assert_int_equal(vmx_ctl_compute(VMX_CTL_PROC, allowed(0x04006172, ~0u), &req, &v), 0);
	assert_false(v & PROC_CR3_LOAD);
	assert_true(v & PROC_HLT);
}

static void test_bad_field(void **state)
{
	struct vmx_ctl_req req = {0};
	u32 v;

	assert_int_equal(vmx_ctl_compute(VMX_CTL_NR, allowed(0, ~0u), &req, &v), -EINVAL);
	assert_string_equal(vmx_ctl_name(VMX_CTL_ENTRY), "VM-entry");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_EXIT, 9), "host address-space size");
	assert_null(vmx_ctl_bit_name(VMX_CTL_EXIT, 1));
	assert_null(vmx_ctl_bit_name(VMX_CTL_EXIT, 32));
}

static void test_allows(void **state)
{
	struct vmx_caps c = {0};

	c.ctl[VMX_CTL_PROC2] = allowed(0, PROC2_EPT | PROC2_VPID);
	assert_true(vmx_ctl_allows(&c, VMX_CTL_PROC2, PROC2_EPT | PROC2_VPID));
	assert_false(vmx_ctl_allows(&c, VMX_CTL_PROC2, PROC2_EPT | PROC2_UNRESTRICTED));
}

static void test_cr_fixed(void **state)
{
	struct vmx_caps c = {0};

	c.cr0_fixed0 = CR0_PE | CR0_NE | CR0_PG;
	c.cr0_fixed1 = 0xffffffffull & ~(u64)(CR0_NW | CR0_CD);
	c.cr4_fixed0 = CR4_VMXE;
	c.cr4_fixed1 = 0x3727ff;
	assert_int_equal(vmx_fix_cr0(&c, CR0_ET | CR0_CD, false),
			 CR0_PE | CR0_NE | CR0_PG | CR0_ET);
	/* unrestricted guest: PE/PG may stay 0, NE still forced */
	assert_int_equal(vmx_fix_cr0(&c, CR0_ET, true), CR0_ET | CR0_NE);
	assert_int_equal(vmx_fix_cr0(&c, CR0_ET | CR0_PE | CR0_PG, true),
			 CR0_ET | CR0_NE | CR0_PE | CR0_PG);
	assert_int_equal(vmx_fix_cr4(&c, CR4_PAE | BIT(40)), CR4_PAE | CR4_VMXE);
}

static void test_cr0_write(void **state)
{
	struct vmx_caps c = {0};
	u64 cur = CR0_PE | CR0_NE | CR0_PG | CR0_ET | CR0_WP, real = 0;

	c.cr0_fixed0 = CR0_PE | CR0_NE | CR0_PG;
	c.cr0_fixed1 = 0xffffffffull;
	/* clearing NE: the guest's value goes to the shadow, the real register keeps NE */
	assert_int_equal(vmx_cr0_write(&c, false, cur, cur & ~(u64)CR0_NE, &real), VMX_CR_APPLY);
	assert_int_equal(real, cur);
	/* architectural #GP cases */
	assert_int_equal(vmx_cr0_write(&c, false, cur, cur | BIT(32), &real), VMX_CR_FAULT);
	assert_int_equal(vmx_cr0_write(&c, true, 0, CR0_PG, &real), VMX_CR_FAULT);
	assert_int_equal(vmx_cr0_write(&c, false, cur, cur | CR0_NW, &real), VMX_CR_FAULT);
	/* leaving paging: only an unrestricted guest can */
	assert_int_equal(vmx_cr0_write(&c, false, cur, cur & ~(u64)CR0_PG, &real),
			 VMX_CR_UNSUPPORTED);
	assert_int_equal(vmx_cr0_write(&c, true, cur, cur & ~(u64)CR0_PG, &real), VMX_CR_APPLY);
	assert_int_equal(real, (cur & ~(u64)CR0_PG));
	/* a real-mode guest entering protected mode */
	assert_int_equal(vmx_cr0_write(&c, true, CR0_NE | CR0_ET, CR0_PE | CR0_ET, &real),
			 VMX_CR_APPLY);
	assert_int_equal(real, CR0_PE | CR0_ET | CR0_NE);
	/* CD and NW where the CPU does not allow them: cleared in the real register */
	c.cr0_fixed1 = 0xffffffffull & ~(u64)(CR0_CD | CR0_NW);
	assert_int_equal(vmx_cr0_write(&c, false, cur, cur | CR0_CD, &real), VMX_CR_APPLY);
	assert_int_equal(real, cur);
	/* and where it does: still only the guest's (the shadow), never the CPU's */
	c.cr0_fixed1 = 0xffffffffull;
	assert_int_equal(vmx_cr0_write(&c, true, CR0_NE | CR0_ET, CR0_INIT, &real), VMX_CR_APPLY);
	assert_int_equal(real, CR0_ET | CR0_NE);
}

/* The INIT state's CR0 (CD, NW, ET): CD and NW go to the shadow, the guest's writes of them
 * exit; PE and PG are the guest's with unrestricted guest. */
static void test_guest_cr0(void **state)
{
	struct vmx_caps c = {0};

	c.cr0_fixed0 = CR0_PE | CR0_NE | CR0_PG;
	c.cr0_fixed1 = 0xffffffffull;
	assert_int_equal(vmx_guest_cr0_real(&c, CR0_INIT, true), CR0_ET | CR0_NE);
	assert_int_equal(vmx_guest_cr0_real(&c, CR0_INIT, false),
			 CR0_ET | CR0_NE | CR0_PE | CR0_PG);
	assert_int_equal(vmx_guest_cr0_mask(&c, true), CR0_NE | CR0_CD | CR0_NW);
	assert_int_equal(vmx_guest_cr0_mask(&c, false), CR0_NE | CR0_CD | CR0_NW | CR0_PE | CR0_PG);
}

static void test_cr4_write(void **state)
{
	struct vmx_caps c = {0};
	u64 real = 0;

	c.cr4_fixed0 = CR4_VMXE;
	c.cr4_fixed1 = 0x1727ff;
	assert_int_equal(vmx_cr4_write(&c, CR4_PAE | CR4_OSFXSR, &real), VMX_CR_APPLY);
	assert_int_equal(real, CR4_PAE | CR4_OSFXSR | CR4_VMXE);
	assert_int_equal(vmx_cr4_write(&c, CR4_PAE | CR4_VMXE, &real), VMX_CR_FAULT);
	assert_int_equal(vmx_cr4_write(&c, CR4_PAE | BIT(23), &real), VMX_CR_FAULT);
	assert_int_equal(vmx_cr4_write(&c, CR4_PAE | BIT(40), &real), VMX_CR_FAULT);
}

static void test_preempt_ticks(void **state)
{
	struct vmx_caps c = {0};

	c.misc = FIELD_PREP(VMX_MISC_PREEMPT_RATE, 5);
	/* 1 ms at 1 GHz = 1e6 TSC ticks, / 32 */
	assert_int_equal(vmx_preempt_ticks(&c, 1000000000ull, 1000), 1000000 / 32);
	/* 10 s at 4 GHz: 4e10 >> 5 = 1.25e9 fits */
	assert_int_equal(vmx_preempt_ticks(&c, 4000000000ull, 10000000), 1250000000u);
	/* saturates */
	assert_int_equal(vmx_preempt_ticks(&c, 4000000000ull, 3600ull * 1000000), 0xffffffffu);
	/* never 0 (0 would exit before the first instruction) */
	assert_int_equal(vmx_preempt_ticks(&c, 1000000ull, 1), 1);
}

/* A TSC deadline in preemption-timer counts: never short of the delta whatever the phase of
 * the divided TSC, 0 for a deadline reached, saturated. */
static void test_preempt_ticks_tsc(void **state)
{
	struct vmx_caps c = {0};

	c.misc = FIELD_PREP(VMX_MISC_PREEMPT_RATE, 5);
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 0), 0);
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 1), 2);
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 32), 2);
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 33), 3);
	for (u64 d = 1; d < 5000; d += 7) {
		u64 n = vmx_preempt_ticks_tsc(&c, d);

		/* the first count may end one TSC tick after the entry */
		assert_true((n - 1) * 32 + 1 >= d);
		assert_true(n <= d / 32 + 2);
	}
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 1ull << 60), 0xffffffffu);
	c.misc = 0;
	assert_int_equal(vmx_preempt_ticks_tsc(&c, 100), 101);
}

/* EFER.LMA follows CR0.PG while LME is set: entering and leaving IA-32e mode. */
static void test_efer_for_cr0(void **state)
{
	assert_int_equal(vmx_efer_for_cr0(EFER_LME, CR0_PE | CR0_PG), EFER_LME | EFER_LMA);
	assert_int_equal(vmx_efer_for_cr0(EFER_LME | EFER_LMA | EFER_NXE, CR0_PE),
			 EFER_LME | EFER_NXE);
	assert_int_equal(vmx_efer_for_cr0(EFER_NXE, CR0_PE | CR0_PG), EFER_NXE);
	assert_int_equal(vmx_efer_for_cr0(EFER_LME, CR0_PE), EFER_LME);
}

static void test_names(void **state)
{
	assert_string_equal(vmx_exit_name(VMX_EXIT_EPT_VIOLATION), "EPT violation");
	assert_string_equal(vmx_exit_name(EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_STATE),
			    "VM-entry failure: invalid guest state");
	assert_string_equal(vmx_exit_name(35), "unknown exit reason");
	assert_string_equal(vmx_exit_name(9999), "unknown exit reason");
	assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_insn_error_name(14), "unknown VM-instruction error");
	assert_string_equal(vmx_insn_error_name(0xffffffffu), "unknown VM-instruction error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_bits_forced_on),
		cmocka_unit_test(test_unsupported_optional_dropped),
		cmocka_unit_test(test_unsupported_wanted_is_error_naming_it),
		cmocka_unit_test(test_forbidden_forced_on_is_error),
		cmocka_unit_test(test_true_controls_clear_default1),
		cmocka_unit_test(test_bad_field),
		cmocka_unit_test(test_allows),
		cmocka_unit_test(test_cr_fixed),
		cmocka_unit_test(test_cr0_write),
		cmocka_unit_test(test_guest_cr0),
		cmocka_unit_test(test_cr4_write),
		cmocka_unit_test(test_preempt_ticks),
		cmocka_unit_test(test_preempt_ticks_tsc),
		cmocka_unit_test(test_efer_for_cr0),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("vmx_ctls", tests, NULL, NULL);
}
