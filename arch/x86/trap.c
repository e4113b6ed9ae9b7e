/* IDT, exception reports and interrupt dispatch. */
#define LOG_TAG "trap"
#include <moat/bits.h>
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"

extern const u64 isr_stub_table[256];
extern const struct extable_entry __extable_start[], __extable_end[];

static struct idt_gate idt[256] __aligned(16);
void (*irq_eoi_hook)(void);

void trap_dispatch(struct trap_frame *f);

static const char *const exception_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualization",
	"#CP control protection",
	"reserved 22",
	"reserved 23",
	"reserved 24",
	"reserved 25",
	"reserved 26",
	"reserved 27",
	"#HV hypervisor injection",
	"#VC VMM communication",
	"#SX security",
	"reserved 31",
};

static void set_gate(unsigned v, u64 handler, u8 ist)
{
	idt[v] = idt_gate_make(handler, SEL_CODE64, ist, GATE_INTERRUPT);
}

void idt_load(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed p = {sizeof(idt) - 1, (u64)(uintptr_t)idt};

	__asm__ volatile("lidt %0" ::"m"(p));
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);
	set_gate(VEC_DF, isr_stub_table[VEC_DF], IST_DOUBLE_FAULT);
	set_gate(VEC_NMI, isr_stub_table[VEC_NMI], IST_NMI);
	set_gate(VEC_MC, isr_stub_table[VEC_MC], IST_MACHINE_CHECK);
	idt_load();
}

static void dump_line(const char *fmt, ...) __printf(1, 2);
static void dump_line(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write_unlocked(buf, strlen(buf));
}

void trap_dump(const struct trap_frame *f, const char *why)
{
	unsigned cpu = this_cpu() ? this_cpu()->index : 0;

	dump_line("trap: cpu %u: %s: vector %llu error %#llx\n", cpu, why,
		  (unsigned long long)f->vector, (unsigned long long)f->error_code);
	dump_line("trap:  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx\n",
		  (unsigned long long)f->rip, (unsigned long long)f->cs,
		  (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		  (unsigned long long)f->ss);
	dump_line("trap:  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
		  (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		  (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	dump_line("trap:  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
		  (unsigned long long)f->rax, (unsigned long long)f->rbx,
		  (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	dump_line("trap:  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
		  (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		  (unsigned long long)f->rbp, (unsigned long long)f->r8);
	dump_line("trap:  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n",
		  (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11,
		  (unsigned long long)f->r12);
	dump_line("trap:  r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
		  (unsigned long long)f->r14, (unsigned long long)f->r15);
}

static bool try_fixup(struct trap_frame *f)
{
	size_t n = LINKER_ARRAY_COUNT(__extable_start, __extable_end);

	for (size_t i = 0; i < n; i++) {
		const struct extable_entry *e = &__extable_start[i];

		if (e->fault_rip == f->rip) {
			struct percpu *c = this_cpu();

			c->last_trap_vector = (u32)f->vector;
			c->last_trap_rip = f->rip;
			c->recovered_traps++;
			f->rip = e->fixup_rip;
			return true;
		}
	}
	return false;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector < VEC_FIRST_IRQ) {
		if (f->vector != VEC_NMI && try_fixup(f))
			return;
		trap_dump(f, exception_names[f->vector]);
		dump_line("trap: cpu halted\n");
		cpu_halt_forever();
	}
	if (!irq_call(f) && f->vector != VEC_SPURIOUS)
		pr_warn("unexpected interrupt vector %llu on cpu %u\n",
			(unsigned long long)f->vector, this_cpu()->index);
	if (f->vector != VEC_SPURIOUS && irq_eoi_hook)
		irq_eoi_hook();
}

void cpu_halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

bool cpu_has_1g_pages(void)
{
	return cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_EXT_FEATURES &&
	       (cpuid(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_80000001_EDX_1G);
}

bool cpu_has_nx(void)
{
	return cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_EXT_FEATURES &&
	       (cpuid(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_80000001_EDX_NX);
}

unsigned cpu_phys_addr_bits(void)
{
	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_ADDR_SIZES)
		return FIELD_GET(CPUID_80000008_EAX_PA_BITS, cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax);
	return 36;
}
