/* CPU instructions, control registers and MSRs. */
#ifndef ARCH_X86_CPU_H
#define ARCH_X86_CPU_H

#include <moat/bits.h>
#include <moat/x86_regs.h>

/* An instruction breakpoint is a fault: the CPU delivering it sets RF in the pushed RFLAGS
 * so that the return re-executes the instruction without hitting the breakpoint again (SDM
 * Vol. 3B 17.3.1.1); an injected #DB does not, so a hypervisor reflecting one does it. */
static inline bool db_is_insn_breakpoint(u64 dr6, u64 dr7)
{
	for (unsigned n = 0; n < 4; n++)
		if ((dr6 & DR6_B(n)) && !(dr7 & DR7_RW(n)))
			return true;
	return false;
}

/* MSRs */
#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR GENMASK(51, 12)
#define MSR_IA32_FEATURE_CONTROL 0x3a

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

#define DEFINE_CR(n)                                                                               \
	static inline u64 read_cr##n(void)                                                         \
	{                                                                                          \
		u64 v;                                                                             \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(u64 v)                                                      \
	{                                                                                          \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                           \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

#define DEFINE_DR(n)                                                                               \
	static inline u64 read_dr##n(void)                                                         \
	{                                                                                          \
		u64 v;                                                                             \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_dr##n(u64 v)                                                      \
	{                                                                                          \
		__asm__ volatile("mov %0, %%db" #n ::"r"(v) : "memory");                           \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

/* IA32_TSC_AUX exists with RDTSCP (CPUID 8000_0001h EDX bit 27) or RDPID (7.0 ECX bit 22) */
static inline bool cpu_has_tsc_aux(void)
{
	return (cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_EXT_FEATURES &&
		(cpuid(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_80000001_EDX_RDTSCP)) ||
	       (cpuid(0, 0).eax >= CPUID_LEAF_EXT_FEATURES_7 &&
		(cpuid(CPUID_LEAF_EXT_FEATURES_7, 0).ecx & CPUID_7_ECX_RDPID));
}

/* DR0-DR3 and DR6 are switched by neither VMX nor SVM (SVM: DR6 is): a guest owns them on
 * its CPU while it runs, and they are reset before and after it, so that it sees neither
 * the host's nor an earlier guest's breakpoints, and leaves none behind. */
static inline void debug_regs_reset(void)
{
	write_dr0(0);
	write_dr1(0);
	write_dr2(0);
	write_dr3(0);
	write_dr6(DR6_INIT);
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline void halt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}
/* Sleeps until an interrupt (handled before this returns, with interrupts off again). STI
 * holds interrupts off for one more instruction (SDM Vol. 2B STI), so one that became
 * pending while the caller checked for work with interrupts off wakes the HLT. */
static inline void cpu_wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}
/* Lets an interrupt that is pending be taken, then interrupts are off again. */
static inline void irq_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}
static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}
static inline void invlpg(u64 va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}
static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}
static inline void clflush(const volatile void *p)
{
	__asm__ volatile("clflush (%0)" ::"r"(p) : "memory");
}
static inline void mfence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline u64 read_rflags(void)
{
	u64 f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline u64 irq_save(void)
{
	u64 f = read_rflags();

	irq_disable();
	return f;
}

static inline void irq_restore(u64 f)
{
	if (f & RFLAGS_IF)
		irq_enable();
}

void __noreturn cpu_halt_forever(void);
bool cpu_has_1g_pages(void);
bool cpu_has_nx(void);
/* Physical address width from CPUID 0x80000008. */
unsigned cpu_phys_addr_bits(void);

#endif
