/* The CPUID policy (vmm/cpuid.c) against fake hosts: a host that offers every bit of every
 * leaf shows exactly what the table lets through; every table leaf is checked; topology
 * describes the guest's vCPUs; gated features appear only with their support; leaves outside
 * the table or past the highest offered read as zero. The bit lists here are written out
 * independently of the table's macros, so a bit added there by mistake fails here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/cpuid.c"

/* ---- fake hosts */
static u32 host_max_basic = 0x1f, host_max_ext = 0x8000001e;

/* Every bit set, except the fields a CPU defines: highest leaves, cache type/level. */
static struct cpuid_regs host_all(u32 leaf, u32 sub)
{
	struct cpuid_regs r = {ALL, ALL, ALL, ALL};

	if (leaf == 0)
		r.eax = host_max_basic;
	else if (leaf == 0x80000000)
		r.eax = host_max_ext;
	else if ((leaf == 4 || leaf == 0x8000001d) && sub < 3)
		/* data cache level 1, 2, 3 */
		r.eax = (r.eax & ~0xffu) | 1 | ((sub + 1) << 5);
	else if ((leaf == 4 || leaf == 0x8000001d))
		r.eax &= ~0x1fu; /* no more caches */
	else if (leaf == 0xd && sub == 2)
		r = (struct cpuid_regs){256, 576, 0, 0};
	else if (leaf == 1)
		r.ebx = 0x00ffffff | (9u << 24); /* APIC ID 9 */
	else if (leaf == 0xb)
		r.edx = 0x109; /* x2APIC ID */
	else if (leaf == 0x8000001e)
		r.eax = 0x109;
	return r;
}

static struct cpuid_regs host_zero(u32 leaf, u32 sub)
{
	struct cpuid_regs r = {0, 0, 0, 0};

	if (leaf == 0)
		r.eax = host_max_basic;
	else if (leaf == 0x80000000)
		r.eax = host_max_ext;
	return r;
}

static struct cpuid_ctx ctx(void)
{
	return (struct cpuid_ctx){.vcpu_index = 0,
				  .nr_vcpus = 1,
				  .guest_id = 5,
				  .cpu = 3,
				  .hc_insn = MOAT_HC_INSN_VMCALL,
				  .tsc_hz = 2400000000ull,
				  .host = host_all};
}

static int setup(void **state)
{
	host_max_basic = 0x1f;
	host_max_ext = 0x8000001e;
	return 0;
}

/* The context prepared again for each query: the tests change its fields between them. */
static struct cpuid_regs query(struct cpuid_ctx *c, u32 leaf, u32 sub)
{
	vmm_cpuid_prepare(c);
	return vmm_cpuid(c, leaf, sub);
}

#define Q(leaf, sub) query(&c, leaf, sub)

/* Leaf 1 ECX: SSE3 0, PCLMULQDQ 1, SSSE3 9, CX16 13, SSE4.1 19, SSE4.2 20, MOVBE 22,
 * POPCNT 23, AES 25, RDRAND 30, hypervisor 31. EDX: everything but MCE 7, MCA 14, PSN 18,
 * DS 21, ACPI 22, TM 29, PBE 31 and the reserved 10, 20, 30 (HTT 28 only with 2+ vCPUs). */
#define WANT_1_ECX 0xc2d82203u
#define WANT_1_EDX 0x0f8bbb7fu
/* Leaf 7.0 EBX: FSGSBASE 0, BMI1 3, FDP_EXCPTN 6, SMEP 7, BMI2 8, ERMS 9, FCS_FDS 13,
 * RDSEED 18, ADX 19, SMAP 20, CLFLUSHOPT 23, CLWB 24, SHA 29. ECX: UMIP 2, GFNI 8,
 * CLDEMOTE 25, MOVDIRI 27, MOVDIR64B 28. EDX: FSRM 4, MD_CLEAR 10, SERIALIZE 14. */
#define WANT_7_EBX 0x219c23c9u
#define WANT_7_ECX 0x1a000104u
#define WANT_7_EDX 0x00004410u
/* 8000_0001h ECX: LAHF 0, CMP_LEGACY 1, CR8_LEGACY 4, ABM 5, SSE4A 6, MISALIGNSSE 7,
 * PREFETCHW 8, TOPOEXT 22. EDX: leaf-1 mirrors (0-6, 8, 9, 12, 13, 15-17, 23, 24), SYSCALL
 * 11, NX 20, MMXEXT 22, 1G 26, LM 29, 3DNOWEXT 30, 3DNOW 31. */
#define WANT_E1_ECX 0x004001f3u
#define WANT_E1_EDX 0xe5d3bb7fu

static void test_offers_exactly_the_table(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r;

	r = Q(0, 0);
	assert_int_equal(r.eax, 0x1f);
	assert_int_equal(r.ebx, ALL); /* vendor */
	r = Q(1, 0);
	assert_int_equal(r.eax, ALL);
	assert_int_equal(r.ebx, 0x0000ffff | (1u << 16)); /* APIC ID 0, one logical CPU */
	assert_int_equal(r.ecx, WANT_1_ECX);
	assert_int_equal(r.edx, WANT_1_EDX);
	r = Q(2, 0);
	assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, ALL);
	r = Q(6, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0); /* no ARAT without the vlapic */
	r = Q(7, 0);
	assert_int_equal(r.eax, 0); /* no subleaf past 0 */
	assert_int_equal(r.ebx, WANT_7_EBX);
	assert_int_equal(r.ecx, WANT_7_ECX);
	assert_int_equal(r.edx, WANT_7_EDX);
	r = Q(0x80000000, 0);
	assert_int_equal(r.eax, 0x8000001e);
	r = Q(0x80000001, 0);
	assert_int_equal(r.eax, ALL);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, WANT_E1_ECX);
	assert_int_equal(r.edx, WANT_E1_EDX);
	for (u32 leaf = 0x80000002; leaf <= 0x80000006; leaf++) {
		r = Q(leaf, 0);
		assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, ALL);
	}
	r = Q(0x80000007, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx, 0);
	assert_int_equal(r.edx, BIT(8)); /* invariant TSC only */
	r = Q(0x80000008, 0);
	assert_int_equal(r.eax, ALL);
	assert_int_equal(r.ebx, BIT(0) | BIT(2)); /* CLZERO, XSaveErPtr */
	assert_int_equal(r.ecx, 0);		  /* one core */
	assert_int_equal(r.edx, 0);
}

/* What must stay hidden whatever the host has, named one by one. */
static void test_hidden_features(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r = Q(1, 0);

	assert_false(r.edx & (BIT(7) | BIT(14)));	     /* MCE, MCA */
	assert_true(r.edx & BIT(12));			     /* MTRR: emulated */
	assert_false(r.ecx & (BIT(3) | BIT(5) | BIT(15)));   /* MONITOR, VMX, PDCM */
	assert_false(r.ecx & (BIT(17) | BIT(21) | BIT(24))); /* PCID, x2APIC, TSC-deadline */
	assert_false(r.ecx & (BIT(26) | BIT(27) | BIT(28))); /* XSAVE, OSXSAVE, AVX */
	r = Q(7, 0);
	assert_false(r.ebx & (BIT(1) | BIT(5) | BIT(10))); /* TSC_ADJUST, AVX2, INVPCID */
	assert_false(r.ecx & BIT(22));			   /* RDPID */
	assert_false(r.edx &
		     (BIT(26) | BIT(27) | BIT(29) | BIT(31))); /* IBRS, STIBP, ARCH_CAP, SSBD */
	r = Q(0x80000001, 0);
	assert_false(r.ecx & (BIT(2) | BIT(23) | BIT(29))); /* SVM, PERFCTR_CORE, MONITORX */
	assert_false(r.edx & (BIT(7) | BIT(14) | BIT(27))); /* MCE, MCA mirrors, RDTSCP */
	/* leaves not offered at all */
	static const u32 zero_leaves[] = {3,	5,    8,	  9,	      0xa,
					  0xc,	0xd,  0xe,	  0xf,	      0x10,
					  0x12, 0x14, 0x8000000a, 0x8000001f, 0x80000019};
	for (unsigned i = 0; i < ARRAY_SIZE(zero_leaves); i++) {
		r = Q(zero_leaves[i], 0);
		assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
	r = Q(7, 1);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_gated_features(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r;

	c.features = VMM_GUEST_XSAVE;
	r = Q(1, 0);
	assert_true(r.ecx & BIT(26));  /* XSAVE */
	assert_true(r.ecx & BIT(28));  /* AVX */
	assert_false(r.ecx & BIT(27)); /* OSXSAVE follows the guest's CR4 */
	c.osxsave = true;
	assert_true(Q(1, 0).ecx & BIT(27));
	/* prepared once: OSXSAVE still follows each query's CR4 (the answers computed in
	 * advance leave it out), in both forms of the answer */
	c.osxsave = false;
	assert_false(vmm_cpuid(&c, 1, 0).ecx & BIT(27));
	c.osxsave = true;
	assert_true(vmm_cpuid(&c, 1, 0).ecx & BIT(27));
	{
		u64 gpr[VMM_NR_GPRS] = {0};

		assert_true(vmm_cpuid_gprs_ready(&c, 1, gpr));
		assert_true(gpr[VMM_REG_RCX] & BIT(27));
		assert_int_equal(gpr[VMM_REG_RDX], Q(1, 0).edx);
		c.osxsave = false;
		assert_true(vmm_cpuid_gprs_ready(&c, 1, gpr));
		assert_false(gpr[VMM_REG_RCX] & BIT(27));
		/* leaf 7 depends on the subleaf: computed at the query */
		assert_false(vmm_cpuid_gprs_ready(&c, 7, gpr));
		vmm_cpuid_gprs(&c, 7, 0, gpr);
		assert_int_equal(gpr[VMM_REG_RBX], Q(7, 0).ebx);
		c.osxsave = true;
	}
	assert_true(Q(7, 0).ebx & BIT(5)); /* AVX2 */
	r = Q(0xd, 0);
	assert_int_equal(r.eax, 7); /* x87, SSE, AVX */
	assert_int_equal(r.ebx, 832);
	assert_int_equal(r.ecx, 832);
	assert_int_equal(r.edx, 0);
	assert_int_equal(Q(0xd, 1).eax, 1); /* XSAVEOPT only: no XSAVES, XSAVEC */
	r = Q(0xd, 2);
	assert_int_equal(r.eax, 256);
	assert_int_equal(r.ebx, 576);
	r = Q(0xd, 3);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* what XSETBV may enable: no more than CPUID offers, whatever the host has */
	assert_int_equal(vmm_guest_xcr0(host_all), 7);
	assert_int_equal(vmm_guest_xcr0(host_zero), 0);

	c = ctx();
	c.features = VMM_GUEST_PCID | VMM_GUEST_INVPCID;
	assert_true(Q(1, 0).ecx & BIT(17));
	assert_true(Q(7, 0).ebx & BIT(10));
	assert_false(Q(7, 1).ebx & BIT(10));
	c.features = VMM_GUEST_PCID;
	assert_false(Q(7, 0).ebx & BIT(10));

	c.features = VMM_GUEST_X2APIC | VMM_GUEST_TSC_DEADLINE | VMM_GUEST_ARAT;
	assert_int_equal(Q(1, 0).ecx & (BIT(21) | BIT(24)), BIT(21) | BIT(24));
	assert_int_equal(Q(6, 0).eax, BIT(2));
	/* a gate never offers what the host lacks, unless moat emulates it (the vlapic's) */
	c.host = host_zero;
	c.features = ~0u & ~(u32)(VMM_GUEST_X2APIC | VMM_GUEST_TSC_DEADLINE | VMM_GUEST_ARAT);
	assert_int_equal(Q(1, 0).ecx, BIT(31));
	c.features = ~0u;
	assert_int_equal(Q(1, 0).ecx, BIT(31) | BIT(21) | BIT(24));
	assert_int_equal(Q(6, 0).eax, BIT(2));
	assert_int_equal(Q(0xd, 0).eax, 0);
}

/* Three vCPUs, the third asking: APIC ID 2 everywhere, three cores of one package. */
static void test_topology(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r;

	c.nr_vcpus = 3;
	c.vcpu_index = 2;
	r = Q(1, 0);
	assert_int_equal(FIELD_GET(CPUID_1_EBX_APIC_ID, r.ebx), 2);
	assert_int_equal(FIELD_GET(CPUID_1_EBX_NR_LOGICAL, r.ebx), 4);
	assert_true(r.edx & CPUID_1_EDX_HTT);
	for (u32 leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
		r = Q(leaf, 0);
		assert_int_equal(r.eax, 0);
		assert_int_equal(r.ebx, 1);
		assert_int_equal(r.ecx, 0x100); /* SMT, level 0 */
		assert_int_equal(r.edx, 2);
		r = Q(leaf, 1);
		assert_int_equal(r.eax, 2);
		assert_int_equal(r.ebx, 3);
		assert_int_equal(r.ecx, 0x201); /* core, level 1 */
		assert_int_equal(r.edx, 2);
		r = Q(leaf, 2);
		assert_int_equal(r.eax | r.ebx, 0);
		assert_int_equal(r.ecx, 2); /* invalid level */
		assert_int_equal(r.edx, 2);
	}
	for (u32 leaf = 4; leaf; leaf = leaf == 4 ? 0x8000001d : 0) {
		r = Q(leaf, 0); /* level 1: one vCPU */
		assert_int_equal(FIELD_GET(CPUID_4_EAX_SHARING, r.eax), 0);
		r = Q(leaf, 2); /* level 3: all of them */
		assert_int_equal(FIELD_GET(CPUID_4_EAX_SHARING, r.eax), 2);
		assert_int_equal(Q(leaf, 3).eax & 0x1f, 0);
	}
	assert_int_equal(FIELD_GET(CPUID_4_EAX_CORES, Q(4, 0).eax), 3);
	r = Q(0x80000008, 0);
	assert_int_equal(r.ecx, 2 | (2 << 12));
	r = Q(0x8000001e, 0);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 2); /* core 2, one thread per core */
	assert_int_equal(r.ecx | r.edx, 0);

	/* one vCPU: no HTT, one logical processor */
	c = ctx();
	r = Q(1, 0);
	assert_false(r.edx & CPUID_1_EDX_HTT);
	assert_int_equal(FIELD_GET(CPUID_1_EBX_NR_LOGICAL, r.ebx), 1);
	assert_int_equal(Q(0xb, 1).ebx, 1);

	/* moat's own guests keep the host CPU's APIC IDs */
	c.host_apic_id = true;
	assert_int_equal(FIELD_GET(CPUID_1_EBX_APIC_ID, Q(1, 0).ebx), 9);
	assert_int_equal(Q(0xb, 0).edx, 0x109);
	assert_int_equal(Q(0x8000001e, 0).eax, 0x109);
}

static void test_moat_leaves(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r = Q(0x40000000, 0);
	char sig[13] = {0};

	assert_int_equal(r.eax, 0x40000010);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_string_equal(sig, "moatmoatmoat");
	r = Q(0x40000001, 0);
	assert_int_equal(r.eax, 5);
	assert_int_equal(r.ebx, 3);
	assert_int_equal(r.ecx, MOAT_HC_INSN_VMCALL);
	assert_int_equal(r.edx, 0);
	r = Q(0x40000010, 0);
	assert_int_equal(r.eax, 2400000);
	assert_int_equal(r.ebx | r.ecx | r.edx, 0);
	for (u32 leaf = 0x40000002; leaf < 0x40000010; leaf++)
		assert_int_equal(Q(leaf, 0).eax, 0);
	assert_int_equal(Q(0x40000011, 0).eax, 0);
	assert_int_equal(Q(0x40000100, 0).eax, 0);
}

/* Leaves 15h and 16h from moat's TSC measurement, whatever the host claims: the crystal is
 * the virtual LAPIC's timer clock (the TSC over round(TSC / 100 MHz)). */
static void test_tsc_leaves(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r = Q(0x15, 0);

	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 24);
	assert_int_equal(r.ecx, 100000000);
	assert_int_equal(r.edx, 0);
	r = Q(0x16, 0);
	assert_int_equal(r.eax, 2400);
	assert_int_equal(r.ebx, 2400);
	assert_int_equal(r.ecx, 100);
	assert_int_equal(r.edx, 0);
	/* Bochs: the TSC at its 50 MHz ips, the crystal is the TSC itself */
	c.tsc_hz = 50002000;
	r = Q(0x15, 0);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 50002000);
	assert_int_equal(Q(0x16, 0).eax, 50);
	assert_int_equal(Q(0x40000010, 0).eax, 50002);
	/* a TSC of 2,394,567,000 Hz: 24 ticks per crystal tick, within 1 Hz * 24 */
	c.tsc_hz = 2394567000ull;
	r = Q(0x15, 0);
	assert_int_equal(r.ebx, 24);
	assert_true((u64)r.ecx * r.ebx <= c.tsc_hz && (u64)r.ecx * r.ebx > c.tsc_hz - 24);
	c.tsc_hz = 0;
	r = Q(0x15, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = Q(0x16, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* not offered past the host's highest leaf */
	c = ctx();
	host_max_basic = 0xd;
	r = Q(0x15, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

/* Leaves past the host's or the table's highest, and ranges nobody names, read as zero. */
static void test_leaf_ranges(void **state)
{
	struct cpuid_ctx c = ctx();
	struct cpuid_regs r;

	host_max_basic = 0xa;
	host_max_ext = 0x80000008;
	assert_int_equal(Q(0, 0).eax, 0xa);
	r = Q(0xb, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	assert_int_equal(Q(0x80000000, 0).eax, 0x80000008);
	r = Q(0x8000001e, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	host_max_basic = 0x24;
	host_max_ext = 0x80000026;
	assert_int_equal(Q(0, 0).eax, 0x1f);
	assert_int_equal(Q(0x80000000, 0).eax, 0x8000001e);
	static const u32 beyond[] = {0x20,	 0x24,	     0x80000021, 0x80000026,
				     0xc0000000, 0x50000000, 0xffffffff, 0x1000};
	for (unsigned i = 0; i < ARRAY_SIZE(beyond); i++) {
		r = Q(beyond[i], 0);
		assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
}

/* Every leaf of the table is exercised by the tests above. */
static void test_every_table_leaf_checked(void **state)
{
	static const u32 checked[] = {0,	  1,	      2,	  4,	      6,
				      7,	  0xb,	      0xd,	  0x15,	      0x16,
				      0x1f,	  0x40000000, 0x40000001, 0x40000010, 0x80000000,
				      0x80000001, 0x80000002, 0x80000003, 0x80000004, 0x80000005,
				      0x80000006, 0x80000007, 0x80000008, 0x8000001d, 0x8000001e};

	for (unsigned i = 0; i < ARRAY_SIZE(policy); i++) {
		bool found = false;

		for (unsigned j = 0; j < ARRAY_SIZE(checked); j++)
			found |= checked[j] == policy[i].leaf;
		if (!found)
			fail_msg("leaf %#x of the table is not checked", policy[i].leaf);
	}
	assert_int_equal(ARRAY_SIZE(policy), ARRAY_SIZE(checked));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_offers_exactly_the_table, setup),
		cmocka_unit_test_setup(test_hidden_features, setup),
		cmocka_unit_test_setup(test_gated_features, setup),
		cmocka_unit_test_setup(test_topology, setup),
		cmocka_unit_test_setup(test_moat_leaves, setup),
		cmocka_unit_test_setup(test_tsc_leaves, setup),
		cmocka_unit_test_setup(test_leaf_ranges, setup),
		cmocka_unit_test_setup(test_every_table_leaf_checked, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
