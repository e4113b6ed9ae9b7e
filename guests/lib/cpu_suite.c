/* Suite `cpu`, run in every guest. */
#include <moat/errno.h>
#include <moat/x86_regs.h>
#include "guests/lib/guest.h"

extern char guest_stack_bottom[], guest_stack_top[];
extern u64 guest_boot_id;

static void test_cpuid_leaf(void)
{
	u32 r[4];
	char sig[13];

	test_begin("cpu", "cpuid-moat-leaf");
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r);
	check(r[2] & CPUID_1_ECX_HYPERVISOR, "CPUID.1:ECX %#x", r[2]);
	guest_cpuid(MOAT_CPUID_LEAF, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	check(!strcmp(sig, MOAT_CPUID_SIGNATURE), "signature '%s'", sig);
	check(r[0] >= MOAT_CPUID_INFO, "max hypervisor leaf %#x", r[0]);
	guest_cpuid(MOAT_CPUID_INFO, 0, r);
	check(r[0] == guest_info.id, "leaf 0x40000001 id %u, info id %u", r[0], guest_info.id);
	check(r[2] == MOAT_HC_INSN_VMMCALL || r[2] == MOAT_HC_INSN_VMCALL,
	      "hypercall instruction %u", r[2]);
	test_end();
}

static void test_cpuid_hidden(void)
{
	u32 r[4];

	test_begin("cpu", "cpuid-no-vmx-svm");
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r);
	check(!(r[2] & CPUID_1_ECX_VMX), "CPUID.1:ECX.VMX set (%#x)", r[2]);
	guest_cpuid(CPUID_LEAF_EXT_MAX, 0, r);
	if (r[0] >= CPUID_LEAF_EXT_FEATURES) {
		guest_cpuid(CPUID_LEAF_EXT_FEATURES, 0, r);
		check(!(r[2] & CPUID_80000001_ECX_SVM), "CPUID.80000001:ECX.SVM set (%#x)", r[2]);
	}
	test_end();
}

static void test_hypercalls(void)
{
	static char cmdline[GUEST_CMDLINE_MAX];
	struct moat_guest_info info;
	long r, len;

	test_begin("cpu", "hypercall-roundtrip");
	/* The product has no test range: echo is an unknown number there. */
	for (u64 x = 1; x < (1ULL << 40); x = x * 7 + 3) {
		r = hypercall(HC_ECHO, x, 0, 0);
		if (guest_test_hypercalls())
			check((u64)r == (x ^ HC_ECHO_MAGIC), "echo %#llx returned %#lx",
			      (unsigned long long)x, r);
		else
			check(r == -ENOSYS, "echo in the product returned %ld", r);
	}
	memset(&info, 0xa5, sizeof(info));
	r = hypercall(HC_GET_INFO, (u64)(uintptr_t)&info, 0, 0);
	check(r == 0, "get-info returned %ld", r);
	check(info.id == guest_boot_id && info.id != 0, "id %u, entry said %llu", info.id,
	      (unsigned long long)guest_boot_id);
	check(info.ram_size >= (u64)(uintptr_t)__image_end && (info.ram_size & (2 * MiB - 1)) == 0,
	      "RAM size %#llx", (unsigned long long)info.ram_size);
	check(info.name[0] && strnlen(info.name, sizeof(info.name)) < sizeof(info.name),
	      "name not terminated");
	/* GET_CMDLINE: the configured line with its NUL, or -ERANGE and nothing written when
	 * the buffer has no room for the NUL, -EFAULT outside RAM */
	memset(cmdline, 0xa5, sizeof(cmdline));
	r = hypercall(HC_GET_CMDLINE, (u64)(uintptr_t)cmdline, sizeof(cmdline), 0);
	check(r >= 0 && r < (long)sizeof(cmdline) && !cmdline[r] && strlen(cmdline) == (size_t)r,
	      "get-cmdline returned %ld", r);
	if (r >= 0 && r < (long)sizeof(cmdline)) {
		len = r;
		memset(cmdline, 0xa5, sizeof(cmdline));
		r = hypercall(HC_GET_CMDLINE, (u64)(uintptr_t)cmdline, (u64)len, 0);
		check(r == -ERANGE && (u8)cmdline[0] == 0xa5,
		      "get-cmdline into %ld bytes (no room for the NUL) returned %ld", len, r);
		r = hypercall(HC_GET_CMDLINE, info.ram_size, sizeof(cmdline), 0);
		check(r == -EFAULT, "get-cmdline outside RAM returned %ld", r);
	}
	test_end();

	test_begin("cpu", "hypercall-bad-number");
	r = hypercall(0x7fff, 1, 2, 3);
	check(r == -ENOSYS, "unknown hypercall returned %ld", r);
	r = hypercall(HC_REPORT, 7, (u64)(uintptr_t) "cpu: x", 6);
	check(r == -EINVAL, "report with status 7 returned %ld", r);
	test_end();
}

/* Writes two patterns to every word and restores it (moat's canaries at the RAM edges must
 * survive), except the image itself: it holds this code, its stack and its page tables. */
static u64 pattern_range(u64 start, u64 end, u64 *bad_at)
{
	u64 errors = 0;

	for (volatile u64 *p = (u64 *)(uintptr_t)start; p < (u64 *)(uintptr_t)end; p++) {
		u64 old = *p, a = 0x5555aaaa0000ffffULL ^ (u64)(uintptr_t)p, b = ~a;

		*p = a;
		if (*p != a)
			errors++, *bad_at = (u64)(uintptr_t)p;
		*p = b;
		if (*p != b)
			errors++, *bad_at = (u64)(uintptr_t)p;
		*p = old;
	}
	return errors;
}

static void test_ram_pattern(void)
{
	u64 bad = 0, errors;
	u64 *pte0 = guest_pte_4k(0);

	test_begin("cpu", "ram-pattern");
	/* Page 0 is unmapped in the guest's tables; map it for the test. */
	*pte0 = 0 | BIT(0) | BIT(1);
	guest_invlpg(0);
	errors = pattern_range(0, (u64)(uintptr_t)__image_start, &bad);
	errors += pattern_range((u64)(uintptr_t)__image_end, guest_info.ram_size, &bad);
	*pte0 = 0;
	guest_invlpg(0);
	check(errors == 0, "%llu mismatches, last at %#llx", (unsigned long long)errors,
	      (unsigned long long)bad);
	test_end();
}

static void test_ud(void)
{
	test_begin("cpu", "exception-ud");
	guest_expect = (struct expected_exception){.vector = 6, .skip = 2};
	__asm__ volatile("ud2" ::: "memory");
	check(guest_expect.seen == 1, "#UD taken %d times", guest_expect.seen);
	guest_expect.vector = -1;
	test_end();
}

static u64 pf_page_gpa;

static void pf_fix(struct guest_frame *f)
{
	*guest_pte_4k(pf_page_gpa) |= BIT(0);
	guest_invlpg(pf_page_gpa);
}

static u8 pf_page[4096] __aligned(4096);

static void test_pf(void)
{
	volatile u64 *p = (u64 *)pf_page;
	u64 *pte;

	test_begin("cpu", "exception-pf");
	pf_page_gpa = (u64)(uintptr_t)pf_page;
	pte = guest_pte_4k(pf_page_gpa);
	if (!pte) {
		test_skip("the test page is above the 4 KiB-mapped first 2 MiB");
		test_end();
		return;
	}
	p[1] = 0x1234;
	*pte &= ~BIT(0);
	guest_invlpg(pf_page_gpa);
	guest_expect = (struct expected_exception){.vector = 14, .fix = pf_fix};
	__asm__ volatile("" ::: "memory"); /* the handler reads guest_expect */
	p[1] = 0x5678; /* faults once; the handler maps the page back and the write retries */
	check(guest_expect.seen == 1, "#PF taken %d times", guest_expect.seen);
	check(guest_expect.cr2 == pf_page_gpa + 8, "CR2 %#llx, expected %#llx",
	      (unsigned long long)guest_expect.cr2, (unsigned long long)pf_page_gpa + 8);
	check((guest_expect.error & 3) == 2, "error code %#llx (want write, not present)",
	      (unsigned long long)guest_expect.error);
	check(p[1] == 0x5678, "value after retry %#llx", (unsigned long long)p[1]);
	guest_expect.vector = -1;
	test_end();
}

/* rdmsr/wrmsr are 2 bytes: a #GP resumes after the instruction. */
static int msr_faults(u32 msr, bool write)
{
	guest_expect = (struct expected_exception){.vector = 13, .skip = 2};
	__asm__ volatile("" ::: "memory");
	if (write)
		guest_wrmsr(msr, 0);
	else
		(void)guest_rdmsr(msr);
	guest_expect.vector = -1;
	return guest_expect.seen;
}

static void test_msrs(void)
{
	u64 efer, fs;

	test_begin("cpu", "msr-filter");
	efer = guest_rdmsr(MSR_EFER);
	check((efer & EFER_LMA) && !(efer & EFER_SVME), "EFER %#llx", (unsigned long long)efer);
	/* The host save area and SVM control stay the hypervisor's. */
	check(msr_faults(0xc0010117, false) == 1, "reading VM_HSAVE_PA did not #GP");
	check(msr_faults(0xc0010117, true) == 1, "writing VM_HSAVE_PA did not #GP");
	check(msr_faults(0xc0010114, true) == 1, "writing VM_CR did not #GP");
	check(msr_faults(0x3a, true) == 1, "writing IA32_FEATURE_CONTROL did not #GP");
	/* FS_BASE is the guest's own (passed through, switched by the backend). */
	guest_wrmsr(MSR_FS_BASE, 0x123456789000ULL);
	fs = guest_rdmsr(MSR_FS_BASE);
	check(fs == 0x123456789000ULL, "FS_BASE read back %#llx", (unsigned long long)fs);
	guest_wrmsr(MSR_FS_BASE, 0);
	test_end();
}

/* CPUID as moat's policy says (docs/vmm.md, "CPUID and MSRs"): hidden features stay hidden
 * on this host, the topology is one vCPU, moat's TSC leaf agrees with the hypercall. */
static void test_cpuid_policy(void)
{
	u32 r[4], max, ext;

	test_begin("cpu", "cpuid-policy");
	guest_cpuid(CPUID_LEAF_MAX, 0, r);
	max = r[0];
	check(max <= CPUID_LEAF_TOPOLOGY_V2, "highest basic leaf %#x", max);
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r);
	check(!(r[3] & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA | CPUID_1_EDX_DS | CPUID_1_EDX_ACPI)),
	      "leaf 1 EDX %#x offers MCE/MCA/DS/ACPI", r[3]);
	check(r[3] & CPUID_1_EDX_MTRR, "leaf 1 EDX %#x: no MTRR", r[3]);
	check(!(r[2] & (CPUID_1_ECX_MONITOR | CPUID_1_ECX_VMX | CPUID_1_ECX_PDCM)),
	      "leaf 1 ECX %#x offers MONITOR/VMX/PDCM", r[2]);
	check(!(r[3] & CPUID_1_EDX_HTT), "one vCPU, HTT set (EDX %#x)", r[3]);
	check(FIELD_GET(CPUID_1_EBX_NR_LOGICAL, r[1]) == 1, "leaf 1 EBX %#x: logical CPUs", r[1]);
	if (!(r[2] & CPUID_1_ECX_XSAVE)) {
		check(!(r[2] & (CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX)), "leaf 1 ECX %#x", r[2]);
		if (max >= CPUID_LEAF_XSAVE) {
			guest_cpuid(CPUID_LEAF_XSAVE, 0, r);
			check(!(r[0] | r[1] | r[2] | r[3]), "leaf 0Dh %#x %#x without XSAVE", r[0],
			      r[1]);
		}
	}
	guest_cpuid(CPUID_LEAF_PMU, 0, r);
	check(!(r[0] | r[1] | r[2] | r[3]), "leaf 0Ah %#x offers counters", r[0]);
	guest_cpuid(CPUID_LEAF_POWER, 0, r);
	check(!(r[0] & ~(u32)CPUID_6_EAX_ARAT) && !(r[1] | r[2] | r[3]), "leaf 6 %#x %#x", r[0],
	      r[2]);
	guest_cpuid(CPUID_LEAF_EXT_FEATURES_7, 0, r);
	check(!r[0], "leaf 7 offers subleaves up to %u", r[0]);
	check(!(r[3] & (CPUID_7_EDX_SPEC_CTRL | CPUID_7_EDX_STIBP | CPUID_7_EDX_ARCH_CAPS |
			CPUID_7_EDX_SSBD)),
	      "leaf 7 EDX %#x offers speculation control", r[3]);
	check(!(r[1] & CPUID_7_EBX_TSC_ADJUST), "leaf 7 EBX %#x offers TSC_ADJUST", r[1]);
	if (max >= CPUID_LEAF_TOPOLOGY) {
		guest_cpuid(CPUID_LEAF_TOPOLOGY, 1, r);
		check(r[1] == 1 && FIELD_GET(CPUID_TOPO_ECX_TYPE, r[2]) == CPUID_TOPO_TYPE_CORE,
		      "leaf 0Bh.1 EBX %#x ECX %#x: one core", r[1], r[2]);
	}
	guest_cpuid(CPUID_LEAF_EXT_MAX, 0, r);
	ext = r[0];
	check(ext <= CPUID_LEAF_AMD_TOPOLOGY, "highest extended leaf %#x", ext);
	if (ext >= CPUID_LEAF_ADDR_SIZES) {
		guest_cpuid(CPUID_LEAF_ADDR_SIZES, 0, r);
		check(FIELD_GET(CPUID_80000008_ECX_NC, r[2]) == 0, "8000_0008h ECX %#x", r[2]);
	}
	if (max >= CPUID_LEAF_TSC) {
		u64 khz;

		guest_cpuid(CPUID_LEAF_TSC, 0, r);
		khz = r[0] ? (u64)r[2] * r[1] / r[0] / 1000 : 0;
		check(khz + 1 >= guest_info.tsc_khz && khz <= guest_info.tsc_khz,
		      "leaf 15h: %u * %u / %u Hz, the TSC runs at %u kHz", r[2], r[1], r[0],
		      guest_info.tsc_khz);
	}
	guest_cpuid(MOAT_CPUID_LEAF, 0, r);
	check(r[0] == MOAT_CPUID_TSC, "highest moat leaf %#x", r[0]);
	guest_cpuid(MOAT_CPUID_TSC, 0, r);
	check(r[0] == guest_info.tsc_khz && r[0] >= 1000, "TSC leaf %u kHz, get-info %u kHz", r[0],
	      guest_info.tsc_khz);
	test_end();
}

static bool cpu_is_amd(void)
{
	u32 r[4];

	guest_cpuid(CPUID_LEAF_MAX, 0, r);
	return r[1] == CPUID_VENDOR_AMD_EBX;
}

/* The MSR table from inside: emulated MSRs answer and keep what they must, passed-through
 * ones are the guest's, the rest #GP. */
static void test_msr_policy(void)
{
	const u64 linux_pat = 0x0007010600070106ull;
	u64 t0, t1, v;

	test_begin("cpu", "msr-policy");
	check(guest_rdmsr(MSR_IA32_PAT) == PAT_POWER_ON, "PAT %#llx",
	      (unsigned long long)guest_rdmsr(0x277));
	guest_wrmsr(MSR_IA32_PAT, linux_pat);
	check(guest_rdmsr(MSR_IA32_PAT) == linux_pat, "PAT reads back %#llx",
	      (unsigned long long)guest_rdmsr(MSR_IA32_PAT));
	guest_expect = (struct expected_exception){.vector = 13, .skip = 2};
	__asm__ volatile("" ::: "memory");
	guest_wrmsr(MSR_IA32_PAT, linux_pat | (2ull << 24)); /* reserved type */
	guest_expect.vector = -1;
	check(guest_expect.seen == 1, "PAT with type 2: #GP taken %d times", guest_expect.seen);
	check(guest_rdmsr(MSR_IA32_PAT) == linux_pat, "PAT after the refused write %#llx",
	      (unsigned long long)guest_rdmsr(MSR_IA32_PAT));
	guest_wrmsr(MSR_IA32_PAT, PAT_POWER_ON);
	check(guest_rdmsr(MSR_MTRR_CAP) == 0, "MTRRCAP %#llx",
	      (unsigned long long)guest_rdmsr(MSR_MTRR_CAP));
	v = guest_rdmsr(MSR_MTRR_DEF_TYPE);
	check(v == (MTRR_DEF_TYPE_E | MEMTYPE_WB), "MTRR_DEF_TYPE %#llx", (unsigned long long)v);
	guest_wrmsr(MSR_MTRR_DEF_TYPE, MEMTYPE_WB);
	check(guest_rdmsr(MSR_MTRR_DEF_TYPE) == MEMTYPE_WB, "MTRR_DEF_TYPE kept %#llx",
	      (unsigned long long)guest_rdmsr(MSR_MTRR_DEF_TYPE));
	guest_wrmsr(MSR_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MEMTYPE_WB);
	guest_wrmsr(MSR_IA32_SYSENTER_CS, 0x10);
	check(guest_rdmsr(MSR_IA32_SYSENTER_CS) == 0x10, "SYSENTER_CS reads back %#llx",
	      (unsigned long long)guest_rdmsr(MSR_IA32_SYSENTER_CS));
	guest_wrmsr(MSR_IA32_SYSENTER_CS, 0);
	t0 = guest_rdtsc();
	v = guest_rdmsr(MSR_IA32_TSC);
	t1 = guest_rdtsc();
	check(v >= t0 && v <= t1, "TSC MSR %#llx outside [%#llx, %#llx]", (unsigned long long)v,
	      (unsigned long long)t0, (unsigned long long)t1);
	guest_wrmsr(MSR_IA32_UCODE_REV, 0);
	check(guest_rdmsr(MSR_IA32_UCODE_REV) == BIT(32), "microcode revision %#llx",
	      (unsigned long long)guest_rdmsr(MSR_IA32_UCODE_REV));
	if (cpu_is_amd())
		check(guest_rdmsr(MSR_AMD_HWCR) == HWCR_TSC_FREQ_SEL, "HWCR %#llx",
		      (unsigned long long)guest_rdmsr(MSR_AMD_HWCR));
	else
		check(guest_rdmsr(MSR_IA32_MISC_ENABLE) ==
			      (MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL |
			       MISC_ENABLE_PEBS_UNAVAIL),
		      "MISC_ENABLE %#llx", (unsigned long long)guest_rdmsr(MSR_IA32_MISC_ENABLE));
	static const u32 refused[] = {MSR_IA32_SPEC_CTRL, MSR_IA32_ARCH_CAPABILITIES,
				      MSR_IA32_MCG_CAP,	  MSR_MTRR_PHYS_BASE0,
				      MSR_TSC_AUX,	  MSR_AMD_DE_CFG,
				      MSR_AMD_PERF_CTL0,  0x3b /* TSC_ADJUST */};
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++)
		check(msr_faults(refused[i], false) == 1, "reading MSR %#x did not #GP",
		      refused[i]);
	check(msr_faults(MSR_IA32_PRED_CMD, true) == 1, "writing PRED_CMD did not #GP");
	check(msr_faults(MSR_IA32_TSC, true) == 1, "writing the TSC did not #GP");
	test_end();
}

static u64 read_cr4(void)
{
	u64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* 3 bytes (0f 22 e0): a #GP resumes after it */
static void write_cr4(u64 v)
{
	__asm__ volatile("mov %0, %%cr4" ::"a"(v) : "memory");
}

/* What CPUID offers works: each instruction or control bit runs without a fault. */
static void test_offered_usable(void)
{
	u32 r1[4], r7[4], max;
	u64 cr4 = read_cr4(), v;

	test_begin("cpu", "offered-features-usable");
	guest_cpuid(CPUID_LEAF_MAX, 0, r1);
	max = r1[0];
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r1);
	if (max >= CPUID_LEAF_EXT_FEATURES_7)
		guest_cpuid(CPUID_LEAF_EXT_FEATURES_7, 0, r7);
	else
		memset(r7, 0, sizeof(r7));
	guest_expect = (struct expected_exception){.vector = 13, .skip = 3};
	if (r1[2] & CPUID_1_ECX_PCID) {
		u64 cr3;

		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		if (!(cr3 & 0xfff)) {
			write_cr4(cr4 | CR4_PCIDE);
			check(read_cr4() & CR4_PCIDE, "CR4.PCIDE did not stick");
			write_cr4(cr4);
		}
	}
	if (r7[1] & CPUID_7_EBX_FSGSBASE) {
		write_cr4(cr4 | CR4_FSGSBASE);
		__asm__ volatile("wrfsbase %1; rdfsbase %0" : "=r"(v) : "r"(0x12345000ull));
		check(v == 0x12345000ull, "RDFSBASE %#llx", (unsigned long long)v);
		__asm__ volatile("wrfsbase %0" ::"r"(0ull));
		write_cr4(cr4);
	}
	guest_expect.vector = -1;
	check(guest_expect.seen == 0, "a CR4 bit offered faulted (%d #GP)", guest_expect.seen);
	guest_expect = (struct expected_exception){.vector = 6, .skip = 5};
	if (r7[1] & CPUID_7_EBX_INVPCID) {
		static const u64 desc[2];

		/* invpcid (%rax), %rcx with type 2: every context, globals included */
		__asm__ volatile(".byte 0x66, 0x0f, 0x38, 0x82, 0x08" ::"a"(desc), "c"(2ull)
				 : "memory");
	}
	guest_expect.vector = -1;
	check(guest_expect.seen == 0, "INVPCID offered but #UD");
	guest_expect = (struct expected_exception){.vector = 6, .skip = 3};
	if (r1[2] & CPUID_1_ECX_RDRAND)
		__asm__ volatile("rdrand %%eax" ::: "rax", "cc");
	if (r7[1] & CPUID_7_EBX_RDSEED)
		__asm__ volatile("rdseed %%eax" ::: "rax", "cc");
	guest_expect.vector = -1;
	check(guest_expect.seen == 0, "RDRAND/RDSEED offered but #UD");
	if (r1[2] & CPUID_1_ECX_XSAVE) {
		u32 d[4], lo, hi;

		/* OSXSAVE mirrors CR4; XSETBV takes every component leaf 0Dh offers */
		guest_cpuid(CPUID_LEAF_XSAVE, 0, d);
		guest_expect = (struct expected_exception){.vector = 13, .skip = 3};
		write_cr4(cr4 | CR4_OSXSAVE);
		guest_cpuid(CPUID_LEAF_FEATURES, 0, r1);
		check(r1[2] & CPUID_1_ECX_OSXSAVE, "CR4.OSXSAVE set, CPUID.1:ECX %#x", r1[2]);
		__asm__ volatile("xsetbv" ::"c"(0), "a"(d[0]), "d"(d[3]));
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		check(lo == d[0] && hi == d[3], "XCR0 %#x:%#x after XSETBV of %#x:%#x", hi, lo,
		      d[3], d[0]);
		__asm__ volatile("xsetbv" ::"c"(0), "a"(XFEATURE_X87), "d"(0));
		write_cr4(cr4);
		guest_expect.vector = -1;
		check(guest_expect.seen == 0, "XSAVE offered, XSETBV of leaf 0Dh's %#x faulted",
		      d[0]);
		guest_cpuid(CPUID_LEAF_FEATURES, 0, r1);
		check(!(r1[2] & CPUID_1_ECX_OSXSAVE), "CR4.OSXSAVE clear, CPUID.1:ECX %#x", r1[2]);
	}
	guest_printf("# offered and used:%s%s%s%s%s%s\n", r1[2] & CPUID_1_ECX_XSAVE ? " XSAVE" : "",
		     r1[2] & CPUID_1_ECX_PCID ? " PCID" : "",
		     r7[1] & CPUID_7_EBX_FSGSBASE ? " FSGSBASE" : "",
		     r7[1] & CPUID_7_EBX_INVPCID ? " INVPCID" : "",
		     r1[2] & CPUID_1_ECX_RDRAND ? " RDRAND" : "",
		     r7[1] & CPUID_7_EBX_RDSEED ? " RDSEED" : "");
	test_end();
}

void cpu_suite(void)
{
	test_cpuid_leaf();
	test_cpuid_hidden();
	test_hypercalls();
	test_ram_pattern();
	test_ud();
	test_pf();
	test_msrs();
	test_cpuid_policy();
	test_msr_policy();
	test_offered_usable();
}
