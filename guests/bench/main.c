/* The `bench` guest: instructions the hypervisor spends per exit, read from the TSC.
 *
 * Under QEMU's -icount shift=0 the TSC advances one tick per executed instruction, so
 * rdtsc; <exiting instruction>; rdtsc measures the instructions of the exit path, exactly
 * and repeatably. Each figure is taken BENCH_N times with the exiting instruction and as
 * often with a `nop` in its place (the bare instruction's own cost, one instruction, and the
 * timing code around it); the difference is the hypervisor's share. One line per exit kind:
 *
 *   bench: exit=<kind> n=<BENCH_N> min=<a> median=<b> max=<c> raw-median=<d> baseline=<e>
 *
 * The last measurement is a nested page fault: moat stops a guest at every one, so the
 * guest announces the access (EXPECT_STOP with a stamp address) and moat prints how many
 * ticks after the guest's stamp its fault handler ran (tests/bench/bench.py reads both).
 *
 * Given a VF, the guest measures the data path instead (vf_dataplane_bench in
 * guests/lib/vf_suite.c): two bench guests with VFs, one sending, one receiving. Linked as
 * an OS guest (build/guests/bench.bz, moat's kernel=), it measures what only an OS guest
 * has, its virtual local APIC, instead (guests/bench/apic.c), and given a VF as an OS guest,
 * what one MSI-X interrupt of the VF costs (guests/bench/vf_irq.c). */
#include "guests/bench/bench.h"

#define COM1_SCR 0x3ff
#define DENIED_PORT 0x80

enum kind { K_CPUID, K_IO_COM1, K_IO_DENIED, K_HYPERCALL, K_NR };

static const char *const kind_name[K_NR] = {"cpuid", "io-com1", "io-denied", "hypercall"};
static bool use_vmcall;
static u64 raw[BENCH_N], base[BENCH_N];
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
	default: return 0;
	}
}

void bench_sort(u64 *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		u64 x = a[i];
		unsigned j = i;

		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

void bench_report(const char *kind, u64 *r, u64 *b)
{
	u64 med, *d = r;

	bench_sort(r, BENCH_N);
	bench_sort(b, BENCH_N);
	med = b[BENCH_N / 2];
	guest_printf("bench: exit=%s n=%u min=%llu median=%llu max=%llu raw-median=%llu "
		     "baseline=%llu baseline-spread=%llu\n",
		     kind, BENCH_N, (unsigned long long)(d[0] > med ? d[0] - med : 0),
		     (unsigned long long)(d[BENCH_N / 2] > med ? d[BENCH_N / 2] - med : 0),
		     (unsigned long long)(d[BENCH_N - 1] > med ? d[BENCH_N - 1] - med : 0),
		     (unsigned long long)r[BENCH_N / 2], (unsigned long long)med,
		     (unsigned long long)(b[BENCH_N - 1] - b[0]));
}

static void measure(enum kind k)
{
	for (unsigned i = 0; i < BENCH_N; i++) {
		raw[i] = sample(k, true);
		base[i] = sample(k, false);
	}
	bench_report(kind_name[k], raw, base);
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

	for (unsigned i = 0; i < BENCH_N; i++)
		b[i] = npf_baseline();
	bench_sort(b, BENCH_N);
	guest_printf("bench: npf-baseline n=%u median=%llu spread=%llu\n", BENCH_N,
		     (unsigned long long)b[BENCH_N / 2],
		     (unsigned long long)(b[BENCH_N - 1] - b[0]));
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
	u32 r[4];

	if (guest_is_os_image()) {
		if (guest_info.nr_devices && guest_info.devices[0].is_vf)
			bench_vf_irq();
		else
			bench_os_guest();
		guest_shutdown(0);
	}
	if (guest_info.nr_devices && guest_info.devices[0].is_vf) {
		vf_dataplane_bench();
		guest_shutdown(0);
	}
	guest_cpuid(MOAT_CPUID_INFO, 0, r);
	if (r[2] == MOAT_HC_INSN_VMCALL)
		use_vmcall = true;
	test_begin("bench", "exit-costs");
	for (unsigned k = 0; k < K_NR; k++)
		measure(k);
	test_end();
	npf_stop();
}
