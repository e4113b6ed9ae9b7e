/* The bench guest linked as an OS guest (build/guests/bench.bz, moat's kernel=): the exits
 * of its virtual local APIC as Linux uses them, and the test image's exit counter port.
 *
 * Debian's Linux on moat keeps its APIC in xAPIC mode (moat offers x2APIC, but without
 * interrupt remapping Linux says "x2apic: IRQ remapping doesn't support X2APIC mode") and
 * takes the TSC-deadline timer moat offers: it arms the timer with one WRMSR of
 * IA32_TSC_DEADLINE and ends each interrupt with an EOI written to the xAPIC page. Lines
 * (bench_report), each against a baseline with a `nop` in place of the exiting instruction:
 *   apic-timer       WRMSR IA32_TSC_DEADLINE, deadline far ahead: the arming, no interrupt
 *   apic-timer-irq   WRMSR IA32_TSC_DEADLINE, deadline passed: from before the WRMSR to the
 *                    timer handler's RDTSC (its first instructions: two pushes, then RDTSC)
 *   apic-eoi         EOI of that interrupt, in service, through the xAPIC page (MMIO)
 *   apic-eoi-x2apic  the same through the x2APIC EOI MSR, after switching to x2APIC mode
 * A kind the guest cannot measure prints `bench: exit=<kind> unavailable: <reason>`. */
#include "guests/bench/bench.h"

#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE BIT(8)
#define LAPIC_SVR_VECTOR GENMASK(7, 0)
#define LAPIC_LVT_TIMER 0x320
#define LVT_VECTOR GENMASK(7, 0)
#define LVT_TIMER_MODE GENMASK(18, 17)
#define LVT_TIMER_TSC_DEADLINE 2

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_EN BIT(11)
#define MSR_TSC_DEADLINE 0x6e0

#define CPUID_1_ECX_X2APIC BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)

#define TIMER_VECTOR (GUEST_IRQ_BASE + GUEST_NR_IRQS - 1)
#define SPURIOUS_VECTOR 0xff
#define EXITS_MARK_CPUIDS 100

/* Written by the timer's handler: the TSC at its entry, and how many it took. */
volatile u64 bench_irq_tsc, bench_irq_count;
void bench_timer_entry(void);

__asm__(".pushsection .text\n"
	".globl bench_timer_entry\n"
	"bench_timer_entry:\n\t"
	"push %rax\n\t"
	"push %rdx\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, bench_irq_tsc(%rip)\n\t"
	"incq bench_irq_count(%rip)\n\t"
	"pop %rdx\n\t"
	"pop %rax\n\t"
	"iretq\n"
	".popsection");

static u64 raw[BENCH_N], base[BENCH_N], raw_eoi[BENCH_N], base_eoi[BENCH_N];

/* A 32-bit MOV through a register, as Linux writes the APIC page. */
static void lapic_write(u32 off, u32 v)
{
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(LAPIC_BASE + off) : "memory");
}

/* From before the WRMSR of a deadline long passed (1) to the handler's RDTSC. */
static u64 arm_to_handler(void)
{
	u64 t0;

	__asm__ volatile("rdtsc\n\t"
			 "shl $32, %%rdx\n\t"
			 "or %%rdx, %%rax\n\t"
			 "mov %%rax, %%r8\n\t"
			 "mov $0x6e0, %%ecx\n\t"
			 "mov $1, %%eax\n\t"
			 "xor %%edx, %%edx\n\t"
			 "wrmsr\n\t"
			 "nop\n\t"
			 "mov %%r8, %0"
			 : "=r"(t0)
			 :
			 : "rax", "rcx", "rdx", "r8", "memory");
	return bench_irq_tsc - t0;
}

static u64 eoi_sample(bool x2apic, bool real)
{
	if (x2apic)
		return real ? TIMED("mov $0x80b, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, "
				    "%%edx\n\twrmsr")
			    : TIMED("mov $0x80b, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, "
				    "%%edx\n\tnop");
	return real ? TIMED("mov $0xfee000b0, %%edi\n\txor %%eax, %%eax\n\tmovl %%eax, (%%rdi)")
		    : TIMED("mov $0xfee000b0, %%edi\n\txor %%eax, %%eax\n\tnop");
}

/* BENCH_N timer interrupts, each armed with a deadline passed and ended by a timed EOI.
 * False (the test failed) if one did not arrive: then nothing is reported. */
static bool irq_and_eoi(bool x2apic)
{
	for (unsigned i = 0; i < BENCH_N; i++) {
		u64 before = bench_irq_count;

		raw[i] = arm_to_handler();
		if (bench_irq_count != before + 1) {
			test_fail(__LINE__, "timer interrupt %u of %u: %llu taken after its WRMSR",
				  i, BENCH_N, (unsigned long long)(bench_irq_count - before));
			return false;
		}
		raw_eoi[i] = eoi_sample(x2apic, true);
		base[i] = TIMED("mov $0x6e0, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\tnop");
		base_eoi[i] = eoi_sample(x2apic, false);
	}
	return true;
}

static void arm_far(void)
{
	for (unsigned i = 0; i < BENCH_N; i++) {
		raw[i] = TIMED("mov $0x6e0, %%ecx\n\tmov $0xffffffff, %%eax\n\tmov $0x7fffffff, "
			       "%%edx\n\twrmsr");
		base[i] = TIMED("mov $0x6e0, %%ecx\n\tmov $0xffffffff, %%eax\n\tmov $0x7fffffff, "
				"%%edx\n\tnop");
	}
	guest_wrmsr(MSR_TSC_DEADLINE, 0);
	bench_report("apic-timer", raw, base);
}

void bench_lapic_enable(void)
{
	guest_map_mmio(LAPIC_BASE, PAGE_SIZE);
	lapic_write(LAPIC_SVR,
		    LAPIC_SVR_ENABLE | (u32)FIELD_PREP(LAPIC_SVR_VECTOR, SPURIOUS_VECTOR));
}

static void unavailable(const char *kind, const char *why)
{
	guest_printf("bench: exit=%s unavailable: %s\n", kind, why);
}

static void apic_exit_costs(void)
{
	static const char *const kinds[] = {"apic-timer", "apic-timer-irq", "apic-eoi",
					    "apic-eoi-x2apic"};
	u32 r[4];

	test_begin("bench", "apic-exit-costs");
	guest_cpuid(1, 0, r);
	if (!(r[2] & CPUID_1_ECX_TSC_DEADLINE) || !(guest_rdmsr(MSR_APIC_BASE) & APIC_BASE_EN)) {
		for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
			unavailable(kinds[i], "no TSC-deadline timer or the local APIC disabled");
		test_skip("no TSC-deadline timer or the local APIC disabled");
		test_end();
		return;
	}
	bench_lapic_enable();
	guest_set_irq_gate(TIMER_VECTOR, bench_timer_entry);
	lapic_write(LAPIC_LVT_TIMER, (u32)(FIELD_PREP(LVT_TIMER_MODE, LVT_TIMER_TSC_DEADLINE) |
					   FIELD_PREP(LVT_VECTOR, TIMER_VECTOR)));
	__asm__ volatile("sti" ::: "memory");
	arm_far();
	if (irq_and_eoi(false)) {
		bench_report("apic-timer-irq", raw, base);
		bench_report("apic-eoi", raw_eoi, base_eoi);
	}
	if (!(r[2] & CPUID_1_ECX_X2APIC)) {
		unavailable("apic-eoi-x2apic", "CPUID offers no x2APIC");
	} else {
		guest_wrmsr(MSR_APIC_BASE, guest_rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
		if (irq_and_eoi(true))
			bench_report("apic-eoi-x2apic", raw_eoi, base_eoi);
	}
	__asm__ volatile("cli" ::: "memory");
	guest_wrmsr(MSR_TSC_DEADLINE, 0);
	guest_printf("bench: %llu timer interrupts taken\n", (unsigned long long)bench_irq_count);
	test_end();
}

/* The exit counter port (test image): marks 1 and 2 around EXITS_MARK_CPUIDS CPUIDs, so
 * moat's two lines differ by exactly that many cpuid exits and one I/O exit (the second
 * mark's write); tests/emu/matrix.py's run qemu-uefi-bench-os checks it. */
static void exits_marks(void)
{
	u32 r[4];

	guest_exits_mark(1);
	for (unsigned i = 0; i < EXITS_MARK_CPUIDS; i++)
		guest_cpuid(0, 0, r);
	guest_exits_mark(2);
	guest_printf("bench: exits-port marks 1 and 2 around %u CPUIDs\n", EXITS_MARK_CPUIDS);
}

void bench_os_guest(void)
{
	exits_marks();
	apic_exit_costs();
}
