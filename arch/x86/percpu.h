/* Per-CPU data, reached through GS base (gs:0 holds the pointer to itself). */
#ifndef ARCH_X86_PERCPU_H
#define ARCH_X86_PERCPU_H

#include <moat/types.h>
#include <moat/x86_desc.h>

#define MAX_CPUS 64
#define CPU_STACK_SIZE (32 * KiB)
#define IST_STACK_SIZE (8 * KiB)

/* GDT layout, the same on every CPU. */
#define GDT_NULL 0
#define GDT_CODE64 1
#define GDT_DATA 2
#define GDT_TSS 3 /* two slots */
#define GDT_ENTRIES 5
#define SEL_CODE64 (GDT_CODE64 * 8)
#define SEL_DATA (GDT_DATA * 8)
#define SEL_TSS (GDT_TSS * 8)

/* IST slots */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

struct percpu {
	struct percpu *self; /* must stay first: gs:0 */
	u32 index;	     /* 0 = boot CPU */
	u32 apic_id;
	bool online;
	u64 stack_top;
	u64 gdt[GDT_ENTRIES] __aligned(16);
	struct tss64 tss __aligned(16);
	/* Exception recovery (see arch/x86/trap.c): the last vector recovered through the
	 * exception table, and how many times that happened on this CPU. */
	volatile u32 last_trap_vector;
	volatile u64 last_trap_rip;
	volatile u64 recovered_traps;
	void *vcpu;	 /* the vCPU this CPU runs, if any (vmm/) */
	void *arch_virt; /* backend per-CPU state (VMXON region / host save area) */
};

extern struct percpu cpu_data[MAX_CPUS];
extern unsigned nr_cpus_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Loads this CPU's GDT, TSS (with IST stacks from ist_base, 3 x IST_STACK_SIZE) and GS. */
void cpu_local_init(struct percpu *c, u64 ist_base);

#endif
