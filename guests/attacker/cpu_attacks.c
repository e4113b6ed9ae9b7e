/* The attacker against the CPU the hypervisor shares with it: instructions that reach the
 * host's caches, power states, counters and TSC_AUX, and registers neither VMX nor SVM
 * switches (DR0-DR3, the local APIC's TPR through CR8). The last two are left set when the
 * attacker stops: the hypervisor's `vmm: guest-cpus-clean` judges what its CPU kept. */
#include <moat/errno.h>
#include <moat/string.h>
#include <moat/x86_regs.h>
#include "guests/attacker/attacker.h"

#define VEC_UD 6
#define VEC_GP 13

static u64 insn_exits(void)
{
	static struct moat_guest_exits x;

	return hypercall(HC_GET_EXITS, (u64)(uintptr_t)&x, 0, 0) ? 0 : x.by_reason[MOAT_EXIT_INSN];
}

/* One faulting instruction: the exception taken once, RIP past it. */
/* MWAIT could take the CPU into a C-state where the watchdog's timer stops. Not offered:
 * #UD, and CPUID says so. MWAIT comes first, with no monitor armed: left to the CPU it would
 * return at once, so even a hypervisor that lets it through cannot hang here. */
static void test_mwait(void)
{
	static volatile u64 line __aligned(64);
	u32 r[4];
	int mwait, monitor;

	test_begin("attack", "mwait-refused");
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r);
	check(!(r[2] & CPUID_1_ECX_MONITOR), "CPUID.1:ECX %#x offers MONITOR/MWAIT", r[2]);
	guest_cpuid(CPUID_LEAF_MWAIT, 0, r);
	check(!r[0] && !r[1] && !r[2] && !r[3], "CPUID.5 %#x %#x %#x %#x describes MWAIT", r[0],
	      r[1], r[2], r[3]);
	expect_fault(VEC_UD, 3);
	__asm__ volatile("mwait" ::"a"(0), "c"(0) : "memory");
	mwait = fault_seen();
	expect_fault(VEC_UD, 3);
	__asm__ volatile("monitor" ::"a"(&line), "c"(0), "d"(0) : "memory");
	monitor = fault_seen();
	check(mwait == 1, "MWAIT: #UD taken %d times", mwait);
	check(monitor == 1, "MONITOR: #UD taken %d times", monitor);
	test_end();
}

/* INVD would drop the host's dirty cache lines with the guest's; WBINVD stalls every CPU
 * sharing the cache. Both exit, are counted, and return as NOPs (memory is coherent). */
static void test_cache_flush(void)
{
	u64 before, after;

	test_begin("attack", "cache-flush-exits");
	if (!guest_test_hypercalls()) {
		test_skip(NO_TEST_HYPERCALLS " (HC_GET_EXITS)");
		test_end();
		return;
	}
	before = insn_exits();
	__asm__ volatile("wbinvd" ::: "memory");
	__asm__ volatile("invd" ::: "memory");
	after = insn_exits();
	check(after - before == 2, "%llu policy exits for WBINVD and INVD, want 2",
	      (unsigned long long)(after - before));
	test_end();
}

/* RDPMC would read the host's performance counters: #GP, as on a CPU without them. */
static void test_rdpmc(void)
{
	u32 r[4], lo = 0, hi = 0;
	int gp;

	test_begin("attack", "rdpmc-refused");
	guest_cpuid(0, 0, r);
	if (r[0] >= CPUID_LEAF_PMU) {
		guest_cpuid(CPUID_LEAF_PMU, 0, r);
		check(!r[0] && !r[1] && !r[2] && !r[3], "CPUID.0Ah %#x %#x %#x %#x offers counters",
		      r[0], r[1], r[2], r[3]);
	}
	expect_fault(VEC_GP, 2);
	__asm__ volatile("rdpmc" : "+a"(lo), "+d"(hi) : "c"(0) : "memory");
	gp = fault_seen();
	check(gp == 1, "RDPMC of counter 0: #GP taken %d times (read %#x:%#x)", gp, hi, lo);
	test_end();
}

/* QEMU's TCG checks the RDTSC intercept for RDTSCP, not RDTSCP's own (target/i386/tcg:
 * helper_rdtscp calls helper_rdtsc): under its SVM, RDTSCP cannot be intercepted. */
static bool cpu_is_qemu_tcg(void)
{
	static char brand[49];
	u32 r[4];

	guest_cpuid(CPUID_LEAF_EXT_MAX, 0, r);
	if (r[0] < 0x80000004)
		return false;
	for (unsigned i = 0; i < 3; i++) {
		guest_cpuid(0x80000002 + i, 0, r);
		memcpy(brand + 16 * i, r, 16);
	}
	return strstr(brand, "QEMU TCG") != NULL;
}

/* RDTSCP and RDPID read IA32_TSC_AUX, the host's: not offered. RDTSCP gives #UD; RDPID,
 * which SVM cannot intercept, gives #UD or the guest's own TSC_AUX, 0 (moat resets it on
 * the guest's CPU). */
static void test_tsc_aux(void)
{
	u32 r[4], lo = 0, hi = 0, aux = 0x5a5a;
	u64 pid = 0x5a5a;
	bool skip = false;
	int ud;

	test_begin("attack", "tsc-aux-hidden");
	guest_cpuid(CPUID_LEAF_EXT_FEATURES, 0, r);
	check(!(r[3] & CPUID_80000001_EDX_RDTSCP), "CPUID 8000_0001h EDX %#x offers RDTSCP", r[3]);
	guest_cpuid(CPUID_LEAF_EXT_FEATURES_7, 0, r);
	check(!(r[2] & CPUID_7_ECX_RDPID), "CPUID.7:ECX %#x offers RDPID", r[2]);
	expect_fault(VEC_UD, 3);
	__asm__ volatile("rdtscp" : "+a"(lo), "+d"(hi), "+c"(aux)::"memory");
	ud = fault_seen();
	if (ud != 1 && cpu_is_qemu_tcg() && aux == 0)
		skip = true;
	else
		check(ud == 1, "RDTSCP: #UD taken %d times (TSC_AUX %#x)", ud, aux);
	expect_fault(VEC_UD, 4);
	__asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0xf8" /* rdpid %rax */ : "+a"(pid)::"memory");
	ud = fault_seen();
	check(ud == 1 || pid == 0, "RDPID: no #UD and TSC_AUX %#llx", (unsigned long long)pid);
	if (skip)
		test_skip("QEMU TCG does not intercept RDTSCP; TSC_AUX read 0 (reset)");
	test_end();
}

void attack_cpu_insns(void)
{
	test_mwait();
	test_cache_flush();
	test_rdpmc();
	test_tsc_aux();
}

static u64 read_dr(unsigned n)
{
	u64 v = 0;

	switch (n) {
	case 0: __asm__ volatile("mov %%db0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%db1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%db2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%db3, %0" : "=r"(v)); break;
	}
	return v;
}

static void write_dr(unsigned n, u64 v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%db0" ::"r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%db1" ::"r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%db2" ::"r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%db3" ::"r"(v)); break;
	}
}

/* Left set (breakpoints disabled in DR7): the CPU's next user must not find them. */
void attack_cpu_leftovers(void)
{
	u64 cr8 = 0, dr7 = 0;
	u32 r[4];

	test_begin("attack", "debug-regs-own");
	for (unsigned n = 0; n < 4; n++)
		check(read_dr(n) == 0, "DR%u %#llx at the start: the host's or an earlier guest's",
		      n, (unsigned long long)read_dr(n));
	for (unsigned n = 0; n < 4; n++)
		write_dr(n, 0x5a5a0000ull + n * 0x1000);
	/* DR7 with no breakpoint enabled but GE set: still the guest's after an exit */
	__asm__ volatile("mov %0, %%db7" ::"r"(DR7_INIT | DR7_GE));
	guest_cpuid(CPUID_LEAF_FEATURES, 0, r);
	__asm__ volatile("mov %%db7, %0" : "=r"(dr7));
	for (unsigned n = 0; n < 4; n++)
		check(read_dr(n) == 0x5a5a0000ull + n * 0x1000, "DR%u reads back %#llx", n,
		      (unsigned long long)read_dr(n));
	check(dr7 == (DR7_INIT | DR7_GE), "DR7 %#llx after an exit, wrote %#llx",
	      (unsigned long long)dr7, (unsigned long long)(DR7_INIT | DR7_GE));
	test_end();

	/* The guest's TPR is its own (a shadow under VMX, V_TPR under SVM): 15 masks every
	 * interrupt class, which on the local APIC would cut the host CPU off. */
	test_begin("attack", "cr8-own");
	__asm__ volatile("mov %0, %%cr8" ::"r"(15ull) : "memory");
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	check(cr8 == 15, "CR8 reads %#llx after writing 15", (unsigned long long)cr8);
	test_end();
}
