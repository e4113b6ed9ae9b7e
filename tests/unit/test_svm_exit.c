/* #VMEXIT decoding (arch/x86/svm/svm_exit.c) from synthesized VMCBs: exit codes to the
 * core's reasons, IOIO and NPF information, instruction lengths with and without NRIP
 * save, and the VMRUN failure report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/svm/svm.h"
#include "vmm/vmm.h"
#include "host_shim.h"

struct svm_features svm_feat;

unsigned cpu_phys_addr_bits(void)
{
	return 48;
}

static struct vmcb *vmcb;
static struct svm_vcpu s;
static struct guest g;

static int setup(void **state)
{
	vmcb = aligned_alloc(4096, sizeof(*vmcb));
	svm_vmcb_init(vmcb, 0x1000, 0x4000, 1, 0x8000);
	memset(&s, 0, sizeof(s));
	s.vmcb = vmcb;
	g.vcpu[0].guest = &g;
	g.vcpu[0].arch = &s;
	svm_feat.nrips = false;
	return 0;
}

static int teardown(void **state)
{
	free(vmcb);
	return 0;
}

static struct vmm_exit decode(u64 code, u64 info1, u64 info2, u64 rip)
{
	struct vmm_exit e;

	memset(&e, 0, sizeof(e));
	vmcb->control.exitcode = code;
	vmcb->control.exitinfo1 = info1;
	vmcb->control.exitinfo2 = info2;
	vmcb->save.rip = rip;
	svm_decode_exit(&g.vcpu[0], &s, &e);
	return e;
}

static void test_simple_reasons(void **state)
{
	static const struct {
		u64 code;
		enum vmm_exit_reason reason;
		u32 len;
	} map[] = {
		{0x72, VMM_EXIT_CPUID, 2},	{0x78, VMM_EXIT_HLT, 1},
		{0x81, VMM_EXIT_HYPERCALL, 3},	{0x60, VMM_EXIT_EXT_INTR, 0},
		{0x61, VMM_EXIT_NMI, 0},	{0x7f, VMM_EXIT_SHUTDOWN, 0},
		{0x80, VMM_EXIT_VIRT_INSN, 0},	{0x82, VMM_EXIT_VIRT_INSN, 0},
		{0x83, VMM_EXIT_VIRT_INSN, 0},	{0x84, VMM_EXIT_VIRT_INSN, 0},
		{0x85, VMM_EXIT_VIRT_INSN, 0},	{0x86, VMM_EXIT_VIRT_INSN, 0},
		{0x7a, VMM_EXIT_VIRT_INSN, 0},	{0x8d, VMM_EXIT_XSETBV, 3},
		{0x7e, VMM_EXIT_UNHANDLED, 0},	{0x62, VMM_EXIT_EXT_INTR, 0},
		{0x64, VMM_EXIT_IRQ_WINDOW, 0}, {0x74, VMM_EXIT_NONE, 0},
		{0x89, VMM_EXIT_INSN, 2},	{0x76, VMM_EXIT_INSN, 2},
		{0x8a, VMM_EXIT_INSN, 0},	{0x8b, VMM_EXIT_INSN, 0},
		{0x8c, VMM_EXIT_INSN, 0},	{0x6f, VMM_EXIT_INSN, 0},
		{0x87, VMM_EXIT_INSN, 0},
	};
	static const enum vmm_insn insn[] = {VMM_INSN_WBINVD, VMM_INSN_INVD,  VMM_INSN_MONITOR,
					     VMM_INSN_MWAIT,  VMM_INSN_MWAIT, VMM_INSN_RDPMC,
					     VMM_INSN_RDTSCP};
	unsigned first_insn = ARRAY_SIZE(map) - ARRAY_SIZE(insn);

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		struct vmm_exit e = decode(map[i].code, 0, 0, 0x1000);

		assert_int_equal(e.reason, map[i].reason);
		assert_int_equal(e.raw, map[i].code);
		assert_int_equal(e.rip, 0x1000);
		assert_int_equal(e.insn_len, map[i].len);
		if (i >= first_insn)
			assert_int_equal(e.insn, insn[i - first_insn]);
	}
}

/* A CRn write exit (decode assists) takes the core's CR_WRITE path; LMSW/CLTS (no MOV bit)
 * stays unhandled. */
static void test_cr_write(void **state)
{
	struct vmm_exit e = decode(0x14, BIT(63) | 9, 0, 0x1000); /* mov cr4, r9 */

	assert_int_equal(e.reason, VMM_EXIT_CR_WRITE);
	assert_int_equal(e.cr.nr, 4);
	assert_int_equal(e.cr.gpr, VMM_REG_R9);
	e = decode(0x10, BIT(63) | 4, 0, 0x1000); /* mov cr0, rsp */
	assert_int_equal(e.reason, VMM_EXIT_CR_WRITE);
	assert_int_equal(e.cr.nr, 0);
	assert_int_equal(e.cr.gpr, VMM_REG_RSP);
	assert_int_equal(decode(0x10, 0, 0, 0x1000).reason, VMM_EXIT_UNHANDLED);
	(void)state;
}

static void test_cpuid_msr(void **state)
{
	struct vmm_exit e;

	s.gpr[VMM_REG_RAX] = 0x40000000;
	s.gpr[VMM_REG_RCX] = 7;
	e = decode(0x72, 0, 0, 0);
	assert_int_equal(e.cpuid.leaf, 0x40000000);
	assert_int_equal(e.cpuid.subleaf, 7);
	s.gpr[VMM_REG_RAX] = 0xffffffff11223344ULL;
	s.gpr[VMM_REG_RDX] = 0xffffffff55667788ULL;
	s.gpr[VMM_REG_RCX] = 0xc0000080;
	e = decode(0x7c, 1, 0, 0);
	assert_int_equal(e.reason, VMM_EXIT_MSR_WRITE);
	assert_int_equal(e.msr.index, 0xc0000080);
	assert_int_equal(e.msr.value, 0x5566778811223344ULL); /* EDX:EAX, high halves dropped */
	assert_int_equal(e.insn_len, 2);
	e = decode(0x7c, 0, 0, 0);
	assert_int_equal(e.reason, VMM_EXIT_MSR_READ);
}

static void test_ioio(void **state)
{
	/* in al, dx with dx=0x3fd: TYPE=1, SZ8, port 0x3fd; EXITINFO2 = next RIP. */
	struct vmm_exit e = decode(0x7b, (0x3fdULL << 16) | BIT(4) | 1, 0x2001, 0x2000);

	assert_int_equal(e.reason, VMM_EXIT_IO);
	assert_int_equal(e.io.port, 0x3fd);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_false(e.io.string);
	assert_int_equal(e.insn_len, 1);
	/* rep outsw to 0x80 with an address-size prefix: 3 bytes. */
	e = decode(0x7b, (0x80ULL << 16) | BIT(5) | BIT(3) | BIT(2), 0x3003, 0x3000);
	assert_int_equal(e.io.port, 0x80);
	assert_int_equal(e.io.size, 2);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_int_equal(e.insn_len, 3);
	e = decode(0x7b, (0xcfcULL << 16) | BIT(6), 0x4002, 0x4000);
	assert_int_equal(e.io.size, 4);
}

static void test_npf(void **state)
{
	struct vmm_exit e = decode(0x400, BIT(32) | BIT(2), 0x1000000, 0x100394);

	assert_int_equal(e.reason, VMM_EXIT_NPF);
	assert_int_equal(e.npf.gpa, 0x1000000);
	assert_int_equal(e.npf.access, VMM_NPF_READ);
	e = decode(0x400, BIT(32) | BIT(1) | BIT(0), 0x5000, 0);
	assert_int_equal(e.npf.access, VMM_NPF_WRITE | VMM_NPF_PRESENT);
	e = decode(0x400, BIT(32) | BIT(4), 0x600000, 0);
	assert_int_equal(e.npf.access, VMM_NPF_EXEC);
	e = decode(0x400, BIT(33), 0x800000, 0);
	assert_int_equal(e.npf.access, VMM_NPF_READ | VMM_NPF_WALK);
}

static void test_exceptions(void **state)
{
	struct vmm_exit e = decode(0x40 + 14, 2, 0xdead000, 0);

	assert_int_equal(e.reason, VMM_EXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, 14);
	assert_int_equal(e.exc.error, 2);
	assert_int_equal(e.exc.cr2, 0xdead000);
}

/* The intercepted #DB and #AC: only #AC carries an error code. */
static void test_benign_exception_intercepts(void **state)
{
	struct vmm_exit e;

	e = decode(0x40 + 1, 0xdead, 0, 0x5000);
	assert_int_equal(e.reason, VMM_EXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, 1);
	assert_false(e.exc.has_error);
	e = decode(0x40 + 17, 0, 0, 0x5000);
	assert_int_equal(e.exc.vector, 17);
	assert_true(e.exc.has_error);
	assert_int_equal(e.exc.error, 0);
}

static void test_nrip(void **state)
{
	struct vmm_exit e;

	svm_feat.nrips = true;
	vmcb->control.next_rip = 0x5005;
	e = decode(0x81, 0, 0, 0x5000);
	assert_int_equal(e.insn_len, 5); /* what the CPU says wins (e.g. prefixes) */
	vmcb->control.next_rip = 0;	 /* not saved for this exit: fall back */
	e = decode(0x81, 0, 0, 0x5000);
	assert_int_equal(e.insn_len, 3);
}

static void test_invalid(void **state)
{
	struct vmm_exit e;

	s.entry.efer = BIT(12) | BIT(10) | BIT(8);
	s.entry.cr0 = 0x80010033 | BIT(32);
	s.entry.cr4 = BIT(5);
	s.entry.intercept4 = 1;
	s.entry.asid = 1;
	e = decode(0xffffffffffffffffULL, 0, 0, 0);
	assert_int_equal(e.reason, VMM_EXIT_INVALID);
	assert_non_null(strstr(shim_last_log, "failing checks: CR0[63:32]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cr_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuid_msr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exceptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_benign_exception_intercepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
