/* The MSR policy (vmm/msr.c) against a fake backend: every table entry read and written as
 * the table says, on Intel and on AMD; #GP(0) for everything else (a list of MSRs Linux
 * touches that must stay refused); PAT and MTRR_DEF_TYPE kept per vCPU and PAT given to
 * the backend; the passed-through MSRs opened at set-up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/msr.c"

/* ---- fake backend */
static u64 regs[2][VMM_REG_NR];
static int skipped, injected_vector, injected_error, pat_sets;
static u8 opened[0x2000]; /* MSRs opened in both directions: low range and 0xc0000000.. */

static unsigned vi(struct vcpu *v)
{
	return v->index;
}
static u64 f_get(struct vcpu *v, enum vmm_reg r)
{
	return regs[vi(v)][r];
}
static void f_set(struct vcpu *v, enum vmm_reg r, u64 val)
{
	regs[vi(v)][r] = val;
	pat_sets += r == VMM_REG_PAT;
}
static void f_skip(struct vcpu *v, const struct vmm_exit *e)
{
	skipped++;
}
static int f_inject(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	injected_vector = vector;
	injected_error = has_error ? (int)error : -1;
	return 0;
}
static void f_msr_intercept(struct vcpu *v, u32 msr, bool read, bool write)
{
	u32 slot = msr >= 0xc0000000 ? 0x1000 + (msr - 0xc0000000) : msr;

	assert_true(slot < sizeof(opened));
	opened[slot] = !read && !write;
}

static const struct vmm_backend fake = {
	.name = "fake",
	.get_reg = f_get,
	.set_reg = f_set,
	.skip_instruction = f_skip,
	.inject_exception = f_inject,
	.msr_intercept = f_msr_intercept,
};
const struct vmm_backend *vmm_be = &fake;

/* ---- a fake virtual LAPIC: what the table hands it */
static u32 vlapic_last_msr;
static u64 vlapic_last_val;
static int vlapic_result;

bool vlapic_msr_owned(u32 msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}
int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *val)
{
	vlapic_last_msr = msr;
	*val = 0x1234500000000ull | msr;
	return vlapic_result;
}
int vlapic_msr_write(struct vlapic *l, u32 msr, u64 val)
{
	vlapic_last_msr = msr;
	vlapic_last_val = val;
	return vlapic_result;
}

static struct guest g;
static struct vcpu *v0 = &g.vcpu[0], *v1 = &g.vcpu[1];

static int setup(void **state)
{
	memset(&g, 0, sizeof(g));
	memset(regs, 0, sizeof(regs));
	memset(opened, 0, sizeof(opened));
	strcpy(g.cfg.name, "gst");
	g.nr_vcpus = 2;
	for (unsigned i = 0; i < 2; i++) {
		g.vcpu[i].guest = &g;
		g.vcpu[i].index = i;
		g.vcpu[i].gpr = regs[i];
		regs[i][VMM_REG_EFER] = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
		vmm_msr_setup(&g.vcpu[i]);
	}
	pat_sets = 0;
	vmm_msr_amd = 0;
	vlapic_last_msr = 0;
	vlapic_result = 0;
	return 0;
}

/* -1: #GP(0); else 0 and *val (reads). The instruction is skipped exactly when it succeeded. */
static int access(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	struct vmm_exit e = {.reason = write ? VMM_EXIT_MSR_WRITE : VMM_EXIT_MSR_READ};
	int before = skipped;

	e.msr.index = msr;
	e.msr.value = write ? *val : 0;
	injected_vector = -1;
	regs[vi(v)][VMM_REG_RAX] = 0xdead;
	regs[vi(v)][VMM_REG_RDX] = 0xbeef;
	assert_int_equal(vmm_handle_msr(v, &e), 0);
	if (injected_vector >= 0) {
		assert_int_equal(injected_vector, 13);
		assert_int_equal(injected_error, 0);
		assert_int_equal(skipped, before);
		return -1;
	}
	assert_int_equal(skipped, before + 1);
	if (!write)
		*val = (regs[vi(v)][VMM_REG_RDX] << 32) | regs[vi(v)][VMM_REG_RAX];
	return 0;
}

static u64 rd(struct vcpu *v, u32 msr)
{
	u64 val = 0;

	if (access(v, msr, false, &val))
		fail_msg("read of MSR %#x refused", msr);
	return val;
}
static bool rd_gp(struct vcpu *v, u32 msr)
{
	u64 val;

	return access(v, msr, false, &val) == -1;
}
static bool wr_ok(struct vcpu *v, u32 msr, u64 val)
{
	return access(v, msr, true, &val) == 0;
}

static void test_emulated_both_vendors(void **state)
{
	for (int amd = 0; amd < 2; amd++) {
		vmm_msr_amd = amd;
		regs[0][VMM_REG_EFER] = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
		u64 t0 = rdtsc(), tsc = rd(v0, MSR_IA32_TSC), t1 = rdtsc();

		assert_true(tsc >= t0 && tsc <= t1);
		assert_false(wr_ok(v0, MSR_IA32_TSC, 0));
		assert_int_equal(rd(v0, MSR_IA32_UCODE_REV), BIT(32));
		assert_true(wr_ok(v0, MSR_IA32_UCODE_REV, 0));
		assert_int_equal(rd(v0, MSR_MTRR_CAP), 0); /* no variable, fixed, WC */
		assert_false(wr_ok(v0, MSR_MTRR_CAP, 0));
		/* EFER: SVME never shows; leaving long mode (LME cleared under paging) or
		 * unknown bits #GP; LMA is the CPU's (vmm/reg_rules.c) */
		regs[0][VMM_REG_CR0] = CR0_PE | CR0_PG;
		assert_int_equal(rd(v0, MSR_EFER), EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
		assert_true(wr_ok(v0, MSR_EFER, EFER_LME | EFER_LMA | EFER_NXE));
		assert_int_equal(regs[0][VMM_REG_EFER], EFER_LME | EFER_LMA | EFER_NXE);
		assert_false(wr_ok(v0, MSR_EFER, EFER_NXE));
		assert_true(wr_ok(v0, MSR_EFER, EFER_LME));
		assert_int_equal(regs[0][VMM_REG_EFER], EFER_LME | EFER_LMA);
		assert_false(wr_ok(v0, MSR_EFER, EFER_LME | EFER_LMA | EFER_SVME));
		assert_false(wr_ok(v0, MSR_EFER, EFER_LME | EFER_LMA | BIT(14))); /* FFXSR */
		/* until the virtual LAPIC: the APIC base is the xAPIC's default, BSP on vCPU 0 */
		assert_int_equal(rd(v0, MSR_IA32_APIC_BASE), 0xfee00000 | BIT(11) | BIT(8));
		assert_int_equal(rd(v1, MSR_IA32_APIC_BASE), 0xfee00000 | BIT(11));
		assert_true(wr_ok(v0, MSR_IA32_APIC_BASE, 0xfee00000 | BIT(11)));
		assert_true(rd_gp(v0, MSR_IA32_TSC_DEADLINE));
		assert_false(wr_ok(v0, MSR_IA32_TSC_DEADLINE, 1));
		assert_true(rd_gp(v0, MSR_X2APIC_FIRST + 2));
		assert_true(rd_gp(v0, MSR_X2APIC_LAST));
		assert_false(wr_ok(v0, 0x830, 0));
	}
}

static void test_emulated_intel(void **state)
{
	vmm_msr_amd = 0;
	assert_int_equal(rd(v0, MSR_IA32_FEATURE_CONTROL), BIT(0)); /* locked, VMX off */
	assert_false(wr_ok(v0, MSR_IA32_FEATURE_CONTROL, BIT(0) | BIT(2)));
	assert_int_equal(rd(v0, MSR_PLATFORM_INFO), 0);
	assert_false(wr_ok(v0, MSR_PLATFORM_INFO, 0));
	assert_int_equal(rd(v0, MSR_IA32_MISC_ENABLE), BIT(0) | BIT(11) | BIT(12));
	assert_true(wr_ok(v0, MSR_IA32_MISC_ENABLE, BIT(0) | BIT(11) | BIT(12)));
	assert_false(wr_ok(v0, MSR_IA32_MISC_ENABLE, BIT(0) | BIT(11) | BIT(12) | BIT(18)));
	assert_int_equal(rd(v0, MSR_IA32_MISC_ENABLE), BIT(0) | BIT(11) | BIT(12));
	/* AMD's are absent */
	assert_true(rd_gp(v0, MSR_AMD_HWCR));
	assert_true(rd_gp(v0, MSR_AMD_INT_PENDING_MSG));
}

static void test_emulated_amd(void **state)
{
	vmm_msr_amd = 1;
	assert_int_equal(rd(v0, MSR_AMD_HWCR), BIT(24));
	assert_true(wr_ok(v0, MSR_AMD_HWCR, BIT(24)));
	assert_false(wr_ok(v0, MSR_AMD_HWCR, BIT(24) | BIT(6))); /* K8's FFDIS: stays as it is */
	assert_int_equal(rd(v0, MSR_AMD_INT_PENDING_MSG), 0);
	assert_false(wr_ok(v0, MSR_AMD_INT_PENDING_MSG, 0));
	/* Intel's are absent */
	assert_true(rd_gp(v0, MSR_IA32_FEATURE_CONTROL));
	assert_true(rd_gp(v0, MSR_PLATFORM_INFO));
	assert_true(rd_gp(v0, MSR_IA32_MISC_ENABLE));
}

/* An OS guest whose virtual LAPIC is set up: every MSR it owns goes to it, its #GP too. */
static void test_vlapic_routing(void **state)
{
	static const u32 owned[] = {MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE, MSR_X2APIC_FIRST,
				    0x80b /* EOI */,	0x830 /* ICR */,       MSR_X2APIC_LAST};
	u64 val;

	strcpy(g.cfg.kernel, "vmlinuz");
	g.vcpu[1].lapic.vcpu = &g.vcpu[1];
	for (unsigned i = 0; i < ARRAY_SIZE(owned); i++) {
		vlapic_result = 0;
		assert_int_equal(rd(v1, owned[i]), 0x1234500000000ull | owned[i]);
		assert_int_equal(vlapic_last_msr, owned[i]);
		assert_true(wr_ok(v1, owned[i], 0x77));
		assert_int_equal(vlapic_last_val, 0x77);
		vlapic_result = -EINVAL;
		assert_true(rd_gp(v1, owned[i]));
		assert_false(wr_ok(v1, owned[i], 0x77));
	}
	/* not the LAPIC's, or no LAPIC set up yet (vCPU 0): never handed to it */
	vlapic_last_msr = 0;
	vlapic_result = 0;
	assert_true(rd_gp(v1, 0x7ff));
	assert_true(rd_gp(v1, 0x900));
	assert_int_equal(rd(v0, MSR_IA32_APIC_BASE), 0xfee00000 | BIT(11) | BIT(8));
	assert_true(access(v0, MSR_X2APIC_FIRST + 3, false, &val) == -1);
	assert_int_equal(vlapic_last_msr, 0);
}

/* PAT: power-on value, each vCPU its own, kept across accesses and given to the backend;
 * reserved types and bits #GP and change nothing. */
static void test_pat_per_vcpu(void **state)
{
	const u64 linux_pat = 0x0007010600070106ull; /* WB, WC, UC-, UC, WB, WC, UC-, UC */

	assert_int_equal(rd(v0, MSR_IA32_PAT), PAT_POWER_ON);
	assert_true(wr_ok(v0, MSR_IA32_PAT, linux_pat));
	assert_int_equal(pat_sets, 1);
	assert_int_equal(regs[0][VMM_REG_PAT], linux_pat);
	assert_int_equal(rd(v0, MSR_IA32_PAT), linux_pat);
	assert_int_equal(rd(v0, MSR_IA32_PAT), linux_pat);
	assert_int_equal(rd(v1, MSR_IA32_PAT), PAT_POWER_ON);
	assert_int_equal(regs[1][VMM_REG_PAT], 0);
	assert_false(wr_ok(v0, MSR_IA32_PAT, linux_pat | (2ull << 24))); /* type 2 */
	assert_false(wr_ok(v0, MSR_IA32_PAT, linux_pat | (3ull << 24))); /* type 3 */
	assert_false(wr_ok(v0, MSR_IA32_PAT, linux_pat | (8ull << 56))); /* bit 59 */
	assert_int_equal(rd(v0, MSR_IA32_PAT), linux_pat);
	assert_int_equal(pat_sets, 1);
	vmm_msr_reset(v0);
	assert_int_equal(rd(v0, MSR_IA32_PAT), PAT_POWER_ON);
}

/* MTRR_DEF_TYPE: enabled, write-back at reset; Linux's disable / re-enable around a PAT
 * change kept per vCPU; reserved bits, FE (no fixed ranges) and undefined types #GP. */
static void test_mtrr_def_type(void **state)
{
	assert_int_equal(rd(v0, MSR_MTRR_DEF_TYPE), BIT(11) | 6);
	assert_true(wr_ok(v0, MSR_MTRR_DEF_TYPE, 0));
	assert_int_equal(rd(v0, MSR_MTRR_DEF_TYPE), 0);
	assert_int_equal(rd(v1, MSR_MTRR_DEF_TYPE), BIT(11) | 6);
	assert_true(wr_ok(v0, MSR_MTRR_DEF_TYPE, BIT(11) | 6));
	assert_false(wr_ok(v0, MSR_MTRR_DEF_TYPE, BIT(11) | BIT(10) | 6)); /* FE */
	assert_false(wr_ok(v0, MSR_MTRR_DEF_TYPE, BIT(11) | 2));	   /* type 2 */
	assert_false(wr_ok(v0, MSR_MTRR_DEF_TYPE, BIT(11) | 7));	   /* UC- is PAT's */
	assert_false(wr_ok(v0, MSR_MTRR_DEF_TYPE, BIT(12) | 6));
	assert_int_equal(rd(v0, MSR_MTRR_DEF_TYPE), BIT(11) | 6);
}

/* Passed through: opened at set-up; an exit for one (the backend could not open it) #GPs. */
static void test_passed_through(void **state)
{
	static const u32 pass[] = {MSR_IA32_SYSENTER_CS,
				   MSR_IA32_SYSENTER_ESP,
				   MSR_IA32_SYSENTER_EIP,
				   MSR_STAR,
				   MSR_LSTAR,
				   MSR_CSTAR,
				   MSR_SFMASK,
				   MSR_FS_BASE,
				   MSR_GS_BASE,
				   MSR_KERNEL_GS_BASE};
	unsigned n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(pass); i++) {
		u32 m = pass[i], slot = m >= 0xc0000000 ? 0x1000 + (m - 0xc0000000) : m;

		assert_true(opened[slot]);
		assert_true(rd_gp(v0, m));
	}
	for (unsigned i = 0; i < sizeof(opened); i++)
		n += opened[i];
	assert_int_equal(n, ARRAY_SIZE(pass));
}

/* Everything the table does not name: #GP(0), counted. These are MSRs Linux 6.1 touches
 * (with its safe accessors, or behind a CPUID bit moat hides). */
static void test_default_gp(void **state)
{
	static const u32 refused[] = {
		MSR_IA32_SPEC_CTRL,
		MSR_IA32_PRED_CMD,
		MSR_IA32_ARCH_CAPABILITIES,
		MSR_IA32_MCG_CAP,
		MSR_IA32_MCG_STATUS,
		0x400 /* MC0_CTL */,
		MSR_MTRR_PHYS_BASE0,
		0x20f,
		0x250 /* MTRRfix64K */,
		0x3b /* TSC_ADJUST */,
		0x17 /* PLATFORM_ID */,
		0x140 /* MISC_FEATURES */,
		0x33 /* TEST_CTRL */,
		0xcf /* CORE_CAPS */,
		0x199 /* PERF_CTL */,
		0xe7 /* MPERF */,
		0xe8 /* APERF */,
		0x1d9 /* DEBUGCTL */,
		0x186 /* PERFEVTSEL0 */,
		0x38f /* PERF_GLOBAL_CTRL */,
		0x606 /* RAPL_POWER_UNIT */,
		0x770 /* PM_ENABLE */,
		MSR_TSC_AUX,
		MSR_AMD_SYSCFG,
		MSR_AMD_DE_CFG,
		MSR_AMD_VIRT_SPEC_CTRL,
		MSR_AMD_PERF_CTL0,
		0xc0010114 /* VM_CR */,
		0xc0010117 /* VM_HSAVE_PA */,
		0xc0011020 /* LS_CFG */,
		0xc001100c /* NODE_ID */,
		0xc0010112 /* TSEG */,
		0xc0010140 /* OSVW_ID_LENGTH */,
		0x4b564d00 /* kvmclock */,
		0x40000000 /* Hyper-V */,
		0xffffffff,
	};

	for (int amd = 0; amd < 2; amd++) {
		vmm_msr_amd = amd;
		g.msr_denied = 0;
		for (unsigned i = 0; i < ARRAY_SIZE(refused); i++) {
			if (!rd_gp(v0, refused[i]))
				fail_msg("read of MSR %#x not refused", refused[i]);
			if (wr_ok(v0, refused[i], 0))
				fail_msg("write of MSR %#x not refused", refused[i]);
		}
		assert_int_equal(g.msr_denied, 2 * ARRAY_SIZE(refused));
	}
}

/* Every table entry is one of those checked above. */
static void test_every_table_entry_checked(void **state)
{
	static const char *const checked[] = {
		"TSC",
		"local APIC",
		"FEATURE_CONTROL",
		"UCODE_REV",
		"PLATFORM_INFO",
		"MTRRCAP",
		"SYSENTER",
		"MISC_ENABLE",
		"PAT",
		"MTRR_DEF_TYPE",
		"EFER",
		"STAR/LSTAR/CSTAR/SFMASK",
		"FS/GS/KERNEL_GS_BASE",
		"HWCR",
		"INT_PENDING_MSG",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++) {
		bool found = false;

		for (unsigned j = 0; j < ARRAY_SIZE(checked); j++)
			found |= !strcmp(checked[j], policy[i].name);
		if (!found)
			fail_msg("table entry %s is not checked", policy[i].name);
	}
	assert_int_equal(ARRAY_SIZE(policy), ARRAY_SIZE(checked));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_emulated_both_vendors, setup),
		cmocka_unit_test_setup(test_emulated_intel, setup),
		cmocka_unit_test_setup(test_emulated_amd, setup),
		cmocka_unit_test_setup(test_vlapic_routing, setup),
		cmocka_unit_test_setup(test_pat_per_vcpu, setup),
		cmocka_unit_test_setup(test_mtrr_def_type, setup),
		cmocka_unit_test_setup(test_passed_through, setup),
		cmocka_unit_test_setup(test_default_gp, setup),
		cmocka_unit_test_setup(test_every_table_entry_checked, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
