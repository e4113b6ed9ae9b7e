/* The bench guest linked as an OS guest and given a VF (kernel=bench.bz device=...): what
 * one MSI-X interrupt of the VF costs, the way Linux's igbvf takes it on moat.
 *
 * The guest routes the VF's MSI-X entry IGBVF_VEC_RX to VF_IRQ_VECTOR through moat's virtual
 * table (vf_msix_route) and raises that vector itself: a store of its bit to the VF's
 * interrupt cause set register (82576 VTEICS). The device sends the message, VT-d remaps it
 * (source-verified IRTE) to moat's host vector on this CPU, the guest exits, moat raises the
 * vector in the guest's local APIC and injects it, and the handler runs; it ends the
 * interrupt with an EOI through the xAPIC page, as Linux does. Under QEMU -icount shift=0
 * the TSC counts instructions (main.c). Lines (bench_report), each BENCH_N samples against
 * a baseline with a `nop` in place of the store or the EOI:
 *   vf-irq         from before the store to the handler's RDTSC (its third instruction,
 *                  after two pushes)
 *   vf-irq-eoi     the handler's EOI through the xAPIC page (a 32-bit MOV)
 *   vf-irq-return  from before the store to the instruction after it, back from the
 *                  handler's IRETQ: the whole interrupt, the handler's own 21
 *                  instructions and its EOI included
 * and the test image's exit counter port around the BENCH_N interrupts (marks 3 and 4),
 * so moat's two lines give the exits per interrupt by reason. A kind the guest cannot
 * measure prints `bench: exit=<kind> unavailable: <reason>`. */
#include <moat/errno.h>
#include <moat/igbvf.h>
#include "guests/bench/bench.h"
#include "guests/lib/vf_dev.h"

#define VF_IRQ_VECTOR GUEST_IRQ_BASE
#define VF_IRQ_BIT BIT(IGBVF_VEC_RX) /* the entry's bit in VTEICS, VTEIMS, VTEIAC */
#define EXITS_MARK_START 3
#define EXITS_MARK_END 4

/* Written by the handler: the TSC at its entry, around its EOI, and how many it took. */
volatile u64 bench_vf_irq_tsc, bench_vf_eoi_t0, bench_vf_eoi_t1, bench_vf_irq_count;
void bench_vf_irq_entry(void);

__asm__(".pushsection .text\n"
	".globl bench_vf_irq_entry\n"
	"bench_vf_irq_entry:\n\t"
	"push %rax\n\t"
	"push %rdx\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, bench_vf_irq_tsc(%rip)\n\t"
	"incq bench_vf_irq_count(%rip)\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, bench_vf_eoi_t0(%rip)\n\t"
	"mov $0xfee000b0, %edx\n\t"
	"xor %eax, %eax\n\t"
	"movl %eax, (%rdx)\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, bench_vf_eoi_t1(%rip)\n\t"
	"pop %rdx\n\t"
	"pop %rax\n\t"
	"iretq\n"
	".popsection");

static u64 raw_irq[BENCH_N], raw_eoi[BENCH_N], raw_ret[BENCH_N], base[BENCH_N], base_eoi[BENCH_N];

/* The store of `bit` to VTEICS at `eics` (or a `nop` in its place), timed to the
 * instruction after it; *t0 is the TSC before the store. */
#define EICS_TIMED(what)                                                                           \
	__asm__ volatile(RDTSC_RAX "mov %%rax, %%r8\n\t" what "\n\t" RDTSC_RAX                     \
				   "mov %%r8, %[start]"                                            \
			 : "=a"(t1), [start] "=r"(start)                                           \
			 : [eics] "r"(eics), [bit] "r"(bit)                                        \
			 : "rdx", "r8", "memory")

static u64 eics_to_return(u64 eics, u32 bit, bool real, u64 *t0)
{
	u64 t1, start;

	if (real)
		EICS_TIMED("movl %k[bit], (%[eics])");
	else
		EICS_TIMED("nop");
	*t0 = start;
	return t1 - start;
}

/* Every kind's line, and the test's failure (the first one recorded stays). */
static void unavailable(const char *why)
{
	static const char *const kinds[] = {"vf-irq", "vf-irq-eoi", "vf-irq-return"};

	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
		guest_printf("bench: exit=%s unavailable: %s\n", kinds[i], why);
	test_fail(__LINE__, "%s", why);
}

/* BENCH_N interrupts, each raised by a store to VTEICS and timed. False (the test failed)
 * if one did not arrive between the store and the instruction after it. */
static bool take_irqs(u64 eics)
{
	u64 t0, total;

	for (unsigned i = 0; i < BENCH_N; i++) {
		u64 before = bench_vf_irq_count;

		total = eics_to_return(eics, VF_IRQ_BIT, true, &t0);
		if (bench_vf_irq_count != before + 1 || bench_vf_irq_tsc < t0 ||
		    bench_vf_irq_tsc > t0 + total) {
			test_fail(__LINE__,
				  "interrupt %u of %u: %llu taken between the VTEICS store and the "
				  "next instruction (1 expected), the handler at TSC %+lld from "
				  "before the store, the store's next instruction at %llu",
				  i, BENCH_N, (unsigned long long)(bench_vf_irq_count - before),
				  (long long)(bench_vf_irq_tsc - t0), (unsigned long long)total);
			return false;
		}
		raw_irq[i] = bench_vf_irq_tsc - t0;
		raw_ret[i] = total;
		raw_eoi[i] = bench_vf_eoi_t1 - bench_vf_eoi_t0;
		base[i] = eics_to_return(eics, VF_IRQ_BIT, false, &t0);
		base_eoi[i] = TIMED("mov $0xfee000b0, %%edx\n\txor %%eax, %%eax\n\tnop");
	}
	return true;
}

static void report(void)
{
	static u64 base2[BENCH_N];

	/* bench_report sorts both arrays: each kind gets its own copy of the baseline. */
	memcpy(base2, base, sizeof(base));
	bench_report("vf-irq-return", raw_ret, base2);
	bench_report("vf-irq", raw_irq, base);
	bench_report("vf-irq-eoi", raw_eoi, base_eoi);
}

void bench_vf_irq(void)
{
	u64 eics;
	bool ok;
	int err;

	test_begin("bench", "vf-irq-costs");
	err = vf_dev_enable();
	if (err) {
		unavailable(err == -ENODEV ? "no VF at 00:01.0" : "no TSC rate from moat");
		test_end();
		return;
	}
	bench_lapic_enable();
	guest_set_irq_gate(VF_IRQ_VECTOR, bench_vf_irq_entry);
	if (!vf_msix_route(IGBVF_VEC_RX, VF_IRQ_VECTOR)) {
		unavailable("the VF has no MSI-X table");
		test_end();
		return;
	}
	eics = vf_dev.bar0 + IGB_VF_EICS;
	/* The cause clears itself when the message is sent (auto clear), so every store
	 * raises a new one. */
	vf_dev_ops.wr(NULL, IGB_VF_EIAC, VF_IRQ_BIT);
	vf_dev_ops.wr(NULL, IGB_VF_EIMS, VF_IRQ_BIT);
	__asm__ volatile("sti" ::: "memory");
	guest_exits_mark(EXITS_MARK_START);
	ok = take_irqs(eics);
	guest_exits_mark(EXITS_MARK_END);
	__asm__ volatile("cli" ::: "memory");
	vf_dev_ops.wr(NULL, IGB_VF_EIMC, VF_IRQ_BIT);
	guest_printf("bench: vf-irq exits-marks %u and %u around %u interrupts, %llu taken\n",
		     EXITS_MARK_START, EXITS_MARK_END, BENCH_N,
		     (unsigned long long)bench_vf_irq_count);
	if (ok)
		report();
	else
		unavailable("an interrupt was not taken as raised (the test's failure line)");
	test_end();
}
