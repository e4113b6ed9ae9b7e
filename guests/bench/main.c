/* The `bench` guest: instructions the hypervisor spends per exit, read from the TSC.
 *
 * Under QEMU's -icount shift=0 the TSC advances one tick per executed instruction, so
 * rdtsc; <exiting instruction>; rdtsc measures the instructions of the exit path, exactly
 * and repeatably. Each figure is taken N times with the exiting instruction and N times with
 * a `nop` in its place (the bare instruction's own cost, one instruction, and the timing
 * code around it); the difference is the hypervisor's share. One line per exit kind:
 *
 *   bench: exit=<kind> n=<N> min=<a> median=<b> max=<c> raw-median=<d> baseline=<e>
 *
 * The last measurement is a nested page fault: moat stops a guest at every one, so the
 * guest announces the access (EXPECT_STOP with a stamp address) and moat prints how many
 * ticks after the guest's stamp its fault handler ran (tests/bench/bench.py reads both).
 *
 * Given a VF, the guest measures the data path instead (vf_dataplane_bench in
 * guests/lib/vf_suite.c): two bench guests with VFs, one sending, one receiving. */
#include "guests/lib/guest.h"

#define N 1000
#define COM1_SCR 0x3ff
#define DENIED_PORT 0x80

/* rdtsc into %r8, `what`, rdtsc: the ticks between, with the same timing code around. */
#define TIMED(what, ...)                                                                           \
	({                                                                                         \
		u64 t1;                                                                            \
		__asm__ volatile("rdtsc\n\t"                                                       \
				 "shl $32, %%rdx\n\t"                                              \
				 "or %%rdx, %%rax\n\t"                                             \
				 "mov %%rax, %%r8\n\t" what "\n\t"                                 \
				 "rdtsc\n\t"                                                       \
				 "shl $32, %%rdx\n\t"                                              \
				 "or %%rdx, %%rax\n\t"                                             \
				 "sub %%r8, %%rax"                                                 \
				 : "=a"(t1)                                                        \
				 :                                                                 \
				 : "rbx", "rcx", "rdx", "rdi", "r8", "memory", ##__VA_ARGS__);     \
		t1;                                                                                \
	})

/* The local APIC in x2APIC mode (SDM Vol. 3 11.12): its timer's initial count (arming it,
 * with the LVT masked: no interrupt follows) and EOI, each one WRMSR. */
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_EN BIT(11)
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_EOI 0x80b
#define LVT_MASKED BIT(16)

enum kind { K_CPUID, K_IO_COM1, K_IO_DENIED, K_HYPERCALL, K_APIC_TIMER, K_APIC_EOI, K_NR };

static const char *const kind_name[K_NR] = {"cpuid",	 "io-com1",    "io-denied",
					    "hypercall", "apic-timer", "apic-eoi"};
static bool use_vmcall;
static u64 raw[N], base[N], diff[N];
static volatile u64 stamp;
static volatile u8 mapped_byte;

static u64 sample(enum kind k, bool real)
{
	switch (k) {
	case K_CPUID:
		return real ? TIMED("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\tcpuid")
			    : TIMED("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\tnop");
	case K_IO_COM1:
		return real ? TIMED("mov $0x3ff, %%edx\n\tinb %%dx, %%al")
			    : TIMED("mov $0x3ff, %%edx\n\tnop");
	case K_IO_DENIED:
		return real ? TIMED("mov $0x80, %%edx\n\tinb %%dx, %%al")
			    : TIMED("mov $0x80, %%edx\n\tnop");
	case K_HYPERCALL:
		/* HC_ECHO (test image only): no side effect, returns RDI ^ "moat" in RAX. */
		if (!real)
			return TIMED("mov $0x1000, %%eax\n\txor %%edi, %%edi\n\tnop");
		if (use_vmcall)
			return TIMED("mov $0x1000, %%eax\n\txor %%edi, %%edi\n\tvmcall");
		return TIMED("mov $0x1000, %%eax\n\txor %%edi, %%edi\n\tvmmcall");
	case K_APIC_TIMER:
		return real ? TIMED("mov $0x838, %%ecx\n\tmov $0x7fffffff, %%eax\n\txor %%edx, "
				    "%%edx\n\t"
				    "wrmsr")
			    : TIMED("mov $0x838, %%ecx\n\tmov $0x7fffffff, %%eax\n\txor %%edx, "
				    "%%edx\n\t"
				    "nop");
	case K_APIC_EOI:
		return real ? TIMED("mov $0x80b, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, "
				    "%%edx\n\twrmsr")
			    : TIMED("mov $0x80b, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, "
				    "%%edx\n\tnop");
	default: return 0;
	}
}

static void sort(u64 *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		u64 x = a[i];
		unsigned j = i;

		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

static void measure(enum kind k)
{
	u64 b, *d = diff;

	for (unsigned i = 0; i < N; i++) {
		raw[i] = sample(k, true);
		base[i] = sample(k, false);
	}
	sort(raw, N);
	sort(base, N);
	b = base[N / 2];
	for (unsigned i = 0; i < N; i++)
		d[i] = raw[i] > b ? raw[i] - b : 0;
	guest_printf("bench: exit=%s n=%u min=%llu median=%llu max=%llu raw-median=%llu "
		     "baseline=%llu baseline-spread=%llu\n",
		     kind_name[k], N, (unsigned long long)d[0], (unsigned long long)d[N / 2],
		     (unsigned long long)d[N - 1], (unsigned long long)raw[N / 2],
		     (unsigned long long)b, (unsigned long long)(base[N - 1] - base[0]));
}

static u64 rdmsr(u32 msr)
{
	u32 lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	return ((u64)hi << 32) | lo;
}

static void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

/* Turns the guest's local APIC to x2APIC mode with its timer masked, and tries one write of
 * each measured register: NULL, or the step that raised #GP (rdmsr/wrmsr are 2 bytes: the
 * handler resumes after it). */
static const char *x2apic_ready(void)
{
	static const struct {
		const char *what;
		u32 msr;
		u64 val;
	} steps[] = {
		{"writing IA32_APIC_BASE (x2APIC enable)", MSR_APIC_BASE, 0},
		{"writing the x2APIC LVT timer (masked)", MSR_X2APIC_LVT_TIMER,
		 LVT_MASKED | GUEST_IRQ_BASE},
		{"writing the x2APIC timer's initial count", MSR_X2APIC_TMICT, 0},
		{"writing the x2APIC EOI", MSR_X2APIC_EOI, 0},
	};
	const char *bad = NULL;
	u64 apic_base;

	guest_expect = (struct expected_exception){.vector = 13, .skip = 2};
	__asm__ volatile("" ::: "memory");
	apic_base = rdmsr(MSR_APIC_BASE);
	if (guest_expect.seen)
		bad = "reading IA32_APIC_BASE";
	for (unsigned i = 0; !bad && i < sizeof(steps) / sizeof(steps[0]); i++) {
		wrmsr(steps[i].msr,
		      i == 0 ? apic_base | APIC_BASE_EN | APIC_BASE_EXTD : steps[i].val);
		if (guest_expect.seen)
			bad = steps[i].what;
	}
	guest_expect.vector = -1;
	return bad;
}

/* The same timing code as the real access below, with a load the nested tables map. */
static u64 npf_baseline(void)
{
	u64 t1;

	__asm__ volatile("rdtsc\n\t"
			 "shl $32, %%rdx\n\t"
			 "or %%rdx, %%rax\n\t"
			 "mov %%rax, (%1)\n\t"
			 "movb (%2), %%cl\n\t"
			 "rdtsc\n\t"
			 "shl $32, %%rdx\n\t"
			 "or %%rdx, %%rax\n\t"
			 "sub (%1), %%rax"
			 : "=a"(t1)
			 : "r"(&stamp), "r"(&mapped_byte)
			 : "rcx", "rdx", "memory");
	return t1;
}

static void __noreturn npf_stop(void)
{
	u64 gpa = guest_info.ram_size, *b = base;
	long r;

	for (unsigned i = 0; i < N; i++)
		b[i] = npf_baseline();
	sort(b, N);
	guest_printf("bench: npf-baseline n=%u median=%llu spread=%llu\n", N,
		     (unsigned long long)b[N / 2], (unsigned long long)(b[N - 1] - b[0]));
	guest_map_2m(gpa);
	r = hypercall(HC_EXPECT_STOP, gpa, (u64)(uintptr_t)&stamp, 0);
	guest_printf("bench: npf at GPA %#llx, stamp at %#llx (announce %ld)\n",
		     (unsigned long long)gpa, (unsigned long long)(uintptr_t)&stamp, r);
	__asm__ volatile("rdtsc\n\t"
			 "shl $32, %%rdx\n\t"
			 "or %%rdx, %%rax\n\t"
			 "mov %%rax, (%0)\n\t"
			 "movb (%1), %%cl"
			 :
			 : "r"(&stamp), "r"(gpa)
			 : "rax", "rcx", "rdx", "memory");
	test_begin("bench", "npf-stopped");
	test_fail(__LINE__, "read GPA %#llx past the RAM and was not stopped",
		  (unsigned long long)gpa);
	test_end();
	guest_shutdown(1);
}

void guest_main(void)
{
	const char *apic_bad;
	u32 r[4];

	if (guest_info.nr_devices && guest_info.devices[0].is_vf) {
		vf_dataplane_bench();
		guest_shutdown(0);
	}
	guest_cpuid(MOAT_CPUID_INFO, 0, r);
	if (r[2] == MOAT_HC_INSN_VMCALL)
		use_vmcall = true;
	test_begin("bench", "exit-costs");
	for (unsigned k = 0; k < K_APIC_TIMER; k++)
		measure(k);
	apic_bad = x2apic_ready();
	for (unsigned k = K_APIC_TIMER; k < K_NR; k++) {
		if (apic_bad)
			guest_printf("bench: exit=%s unavailable: %s raised #GP (no virtual "
				     "local APIC for this guest)\n",
				     kind_name[k], apic_bad);
		else
			measure(k);
	}
	test_end();
	npf_stop();
}
