/* VM-exit decoding (arch/x86/vmx/vmx_decode.c): exit information fields as the CPU reports
 * them, to the core's normalized exits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "arch/x86/vmx/vmx_decode.h"
#include "arch/x86/vmx/vmx_regs.h"
#include "host_shim.h"

static u64 gprs[16];

static struct vmm_exit decode(u32 reason, u64 qual)
{
	struct vmx_exit_info x = {.reason = reason, .qual = qual, .rip = 0x1000, .insn_len = 2};
	struct vmm_exit e;

	vmx_exit_decode(&x, gprs, &e);
	return e;
}

static void test_io_out_imm8(void **state)
{
	/* out 0x80, al: size 1 (0), out, not string, immediate operand, port 0x80 */
	struct vmm_exit e = decode(VMX_EXIT_IO, 0x00800040);

	assert_int_equal(e.reason, VMM_EXIT_IO);
	assert_int_equal(e.io.port, 0x80);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	assert_false(e.io.rep);
	assert_int_equal(e.raw, VMX_EXIT_IO);
	assert_int_equal(e.info1, 0x00800040);
	assert_int_equal(e.rip, 0x1000);
	assert_int_equal(e.insn_len, 2);
}

static void test_io_in_dword_and_rep_string(void **state)
{
	/* in eax, dx with dx = 0xcfc: size 4 (3), in */
	struct vmm_exit e = decode(VMX_EXIT_IO, FIELD_PREP(IO_QUAL_PORT, 0xcfc) |
							FIELD_PREP(IO_QUAL_SIZE, 3) | IO_QUAL_IN);

	assert_int_equal(e.io.port, 0xcfc);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in);
	/* rep outsw to 0x3f8 */
	e = decode(VMX_EXIT_IO, FIELD_PREP(IO_QUAL_PORT, 0x3f8) | FIELD_PREP(IO_QUAL_SIZE, 1) |
					IO_QUAL_STRING | IO_QUAL_REP);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 2);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	/* the highest port */
	e = decode(VMX_EXIT_IO, FIELD_PREP(IO_QUAL_PORT, 0xffff));
	assert_int_equal(e.io.port, 0xffff);
}

static void test_ept_violation_access_bits(void **state)
{
	struct vmx_exit_info x = {.reason = VMX_EXIT_EPT_VIOLATION, .gpa = 0x1000000};
	struct vmm_exit e;

	/* a read of an unmapped GPA, linear address valid and final */
	x.qual = EPT_QUAL_READ | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_FINAL;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.reason, VMM_EXIT_NPF);
	assert_int_equal(e.npf.gpa, 0x1000000);
	assert_int_equal(e.info2, 0x1000000);
	assert_int_equal(e.npf.access, VMM_NPF_READ);
	/* a write to a read/execute page */
	x.qual = EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_EXECUTABLE | EPT_QUAL_GLA_VALID |
		 EPT_QUAL_GLA_FINAL;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.npf.access, VMM_NPF_WRITE | VMM_NPF_PRESENT);
	/* a fetch */
	x.qual = EPT_QUAL_FETCH | EPT_QUAL_READABLE;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.npf.access, VMM_NPF_EXEC | VMM_NPF_PRESENT);
	/* during the guest's own page walk (linear address valid, not the final one) */
	x.qual = EPT_QUAL_READ | EPT_QUAL_GLA_VALID;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.npf.access, VMM_NPF_READ | VMM_NPF_WALK);
	/* no linear address at all (e.g. a guest-physical access of the walk itself): no WALK */
	x.qual = EPT_QUAL_WRITE;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.npf.access, VMM_NPF_WRITE);
}

static void test_registers_feed_cpuid_and_msr(void **state)
{
	struct vmm_exit e;

	gprs[VMM_REG_RAX] = 0xffffffff4d4f4154ull;
	gprs[VMM_REG_RCX] = 0xdead000000000007ull;
	e = decode(VMX_EXIT_CPUID, 0);
	assert_int_equal(e.reason, VMM_EXIT_CPUID);
	assert_int_equal(e.cpuid.leaf, 0x4d4f4154);
	assert_int_equal(e.cpuid.subleaf, 7);

	gprs[VMM_REG_RCX] = 0xffffffffc0000080ull;
	gprs[VMM_REG_RAX] = 0xaaaaaaaa00000d01ull; /* upper halves ignored (WRMSR uses EDX:EAX) */
	gprs[VMM_REG_RDX] = 0xbbbbbbbb00000001ull;
	e = decode(VMX_EXIT_WRMSR, 0);
	assert_int_equal(e.reason, VMM_EXIT_MSR_WRITE);
	assert_int_equal(e.msr.index, 0xc0000080);
	assert_int_equal(e.msr.value, 0x0000000100000d01ull);
	e = decode(VMX_EXIT_RDMSR, 0);
	assert_int_equal(e.reason, VMM_EXIT_MSR_READ);
	assert_int_equal(e.msr.index, 0xc0000080);
}

static void test_exception_and_nmi(void **state)
{
	struct vmx_exit_info x = {.reason = VMX_EXIT_EXCEPTION_NMI, .qual = 0xdeadb000};
	struct vmm_exit e;

	/* #PF with error code 2: qualification is the faulting address */
	x.intr_info = INTR_INFO_VALID | INTR_INFO_HAS_ERROR |
		      FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC) | 14;
	x.intr_error = 2;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.reason, VMM_EXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, 14);
	assert_true(e.exc.has_error);
	assert_int_equal(e.exc.error, 2);
	assert_int_equal(e.exc.cr2, 0xdeadb000);
	/* #UD: no error code, no CR2 */
	x.intr_info = INTR_INFO_VALID | FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC) | 6;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.exc.vector, 6);
	assert_false(e.exc.has_error);
	assert_int_equal(e.exc.error, 0);
	assert_int_equal(e.exc.cr2, 0);
	/* an NMI */
	x.intr_info = INTR_INFO_VALID | FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_NMI) | 2;
	vmx_exit_decode(&x, gprs, &e);
	assert_int_equal(e.reason, VMM_EXIT_NMI);
}

static void test_simple_reasons(void **state)
{
	static const struct {
		u32 vmx;
		enum vmm_exit_reason core;
	} map[] = {
		{VMX_EXIT_EXT_INTR, VMM_EXIT_EXT_INTR},
		{VMX_EXIT_TRIPLE_FAULT, VMM_EXIT_SHUTDOWN},
		{VMX_EXIT_HLT, VMM_EXIT_HLT},
		{VMX_EXIT_VMCALL, VMM_EXIT_HYPERCALL},
		{VMX_EXIT_PREEMPT_TIMER, VMM_EXIT_WATCHDOG},
		{VMX_EXIT_XSETBV, VMM_EXIT_XSETBV},
		{VMX_EXIT_INTR_WINDOW, VMM_EXIT_IRQ_WINDOW},
		{VMX_EXIT_NMI_WINDOW, VMM_EXIT_UNHANDLED},
		{VMX_EXIT_EPT_MISCONFIG, VMM_EXIT_UNHANDLED},
		{VMX_EXIT_VMXON, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_VMLAUNCH, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_VMREAD, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_INVEPT, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_INVVPID, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_VMFUNC, VMM_EXIT_VIRT_INSN},
		{VMX_EXIT_GETSEC, VMM_EXIT_UNHANDLED},
		{0xffff, VMM_EXIT_UNHANDLED},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		assert_int_equal(decode(map[i].vmx, 0).reason, map[i].core);
}

/* The instructions the core answers by policy, one normalized reason with the instruction. */
static void test_policy_insns(void **state)
{
	static const struct {
		u32 vmx;
		enum vmm_insn insn;
	} map[] = {
		{VMX_EXIT_WBINVD, VMM_INSN_WBINVD},   {VMX_EXIT_INVD, VMM_INSN_INVD},
		{VMX_EXIT_MONITOR, VMM_INSN_MONITOR}, {VMX_EXIT_MWAIT, VMM_INSN_MWAIT},
		{VMX_EXIT_RDPMC, VMM_INSN_RDPMC},     {VMX_EXIT_RDTSCP, VMM_INSN_RDTSCP},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct vmm_exit e = decode(map[i].vmx, 0);

		assert_int_equal(e.reason, VMM_EXIT_INSN);
		assert_int_equal(e.insn, map[i].insn);
		assert_int_equal(e.insn_len, 2);
	}
}

/* MOV to CR0/CR4 becomes the core's CR_WRITE (register and CR from the qualification);
 * MOV from a CR, CLTS, LMSW and other CRs stay unhandled. */
static void test_cr_access(void **state)
{
	struct vmm_exit e = decode(VMX_EXIT_CR_ACCESS, 0x0904); /* mov cr4, r9 */

	assert_int_equal(e.reason, VMM_EXIT_CR_WRITE);
	assert_int_equal(e.cr.nr, 4);
	assert_int_equal(e.cr.gpr, VMM_REG_R9);
	e = decode(VMX_EXIT_CR_ACCESS, 0x0400); /* mov cr0, rsp */
	assert_int_equal(e.reason, VMM_EXIT_CR_WRITE);
	assert_int_equal(e.cr.nr, 0);
	assert_int_equal(e.cr.gpr, VMM_REG_RSP);
	assert_int_equal(decode(VMX_EXIT_CR_ACCESS, 0x0010).reason,
			 VMM_EXIT_UNHANDLED); /* mov from */
	assert_int_equal(decode(VMX_EXIT_CR_ACCESS, 0x0020).reason, VMM_EXIT_UNHANDLED); /* clts */
	assert_int_equal(decode(VMX_EXIT_CR_ACCESS, 0x0030).reason, VMM_EXIT_UNHANDLED); /* lmsw */
	assert_int_equal(decode(VMX_EXIT_CR_ACCESS, 0x0003).reason, VMM_EXIT_UNHANDLED); /* cr3 */
	assert_int_equal(decode(VMX_EXIT_CR_ACCESS, 0x0008).reason, VMM_EXIT_UNHANDLED); /* cr8 */
	(void)state;
}

static void test_entry_failure(void **state)
{
	/* invalid guest state, with the entry-failure bit: whatever the basic reason says */
	struct vmm_exit e = decode(EXIT_REASON_ENTRY_FAIL | VMX_EXIT_INVALID_STATE, 0);

	assert_int_equal(e.reason, VMM_EXIT_INVALID);
	assert_int_equal(e.raw, 0x80000021u);
	e = decode(EXIT_REASON_ENTRY_FAIL | VMX_EXIT_MSR_LOAD_FAIL, 4);
	assert_int_equal(e.reason, VMM_EXIT_INVALID);
	assert_int_equal(e.info1, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_out_imm8),
		cmocka_unit_test(test_io_in_dword_and_rep_string),
		cmocka_unit_test(test_ept_violation_access_bits),
		cmocka_unit_test(test_registers_feed_cpuid_and_msr),
		cmocka_unit_test(test_exception_and_nmi),
		cmocka_unit_test(test_simple_reasons),
		cmocka_unit_test(test_cr_access),
		cmocka_unit_test(test_entry_failure),
		cmocka_unit_test(test_policy_insns),
	};

	return cmocka_run_group_tests_name("vmx_decode", tests, NULL, NULL);
}
