/* Per-CPU GDT, TSS and GS base. */
#include <moat/bits.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"

struct percpu cpu_data[MAX_CPUS];
unsigned nr_cpus_online;

struct gdt_ptr {
	u16 limit;
	u64 base;
} __packed;

static void load_gdt_tss(struct percpu *c)
{
	struct gdt_ptr p = {sizeof(c->gdt) - 1, (u64)(uintptr_t)c->gdt};

	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\t"
			 "mov %1, %%es\n\t"
			 "mov %1, %%ss\n\t"
			 "pushq %2\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "ltr %w3"
			 :
			 : "m"(p), "r"((u64)SEL_DATA), "i"(SEL_CODE64), "r"((u16)SEL_TSS)
			 : "rax", "memory");
}

void cpu_local_init(struct percpu *c, u64 ist_base)
{
	u64 tss = (u64)(uintptr_t)&c->tss;

	c->self = c;
	memset(&c->tss, 0, sizeof(c->tss));
	c->tss.ist[IST_DOUBLE_FAULT - 1] = ist_base + 1 * IST_STACK_SIZE;
	c->tss.ist[IST_NMI - 1] = ist_base + 2 * IST_STACK_SIZE;
	c->tss.ist[IST_MACHINE_CHECK - 1] = ist_base + 3 * IST_STACK_SIZE;
	c->tss.iomap_base = sizeof(c->tss);
	c->gdt[GDT_NULL] = 0;
	c->gdt[GDT_CODE64] = FIELD_PREP(DESC_TYPE, TYPE_CODE_XR) | DESC_S | DESC_P | DESC_L;
	c->gdt[GDT_DATA] = FIELD_PREP(DESC_TYPE, TYPE_DATA_RW) | DESC_S | DESC_P;
	c->gdt[GDT_TSS] = tss_desc_lo(tss, sizeof(c->tss) - 1);
	c->gdt[GDT_TSS + 1] = tss_desc_hi(tss);
	load_gdt_tss(c);
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}
