/* The guest's user space against moat: the attacker drops to ring 3 (user segments and a
 * TSS in a GDT of its own, a DPL-3 gate to come back through, one user-accessible code
 * page) and makes every hypercall there. moat must refuse each with -EPERM and do nothing:
 * no console text (tests/emu/matrix.py checks the serial log for the marker below), no
 * result, no guest state written, no shutdown. Port I/O and ICEBP from ring 3 must stay
 * inside the guest (#GP, #DB): neither reaches moat nor stops the guest. */
#include <moat/errno.h>
#include <moat/x86_desc.h>
#include "guests/attacker/attacker.h"

/* Written from ring 3 through HC_CONSOLE_WRITE: must never reach the serial line. */
#define RING3_CONSOLE_MARKER "moat-ring3-console-leak\n"
#define RING3_REPORT_TEXT "attack: ring3-forged-report"

/* Page-table entry bits */
#define PTE_P BIT(0)
#define PTE_US BIT(2)
#define PTE_ADDR GENMASK(51, 12)

/* The lib's GDT holds the null descriptor, code 0x08 and data 0x10; these follow. */
#define GDT_LIB 3
#define GDT_USER_CODE 3
#define GDT_USER_DATA 4
#define GDT_TSS 5 /* two slots */
#define GDT_NR 7
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE (GDT_USER_CODE * 8 | 3)
#define SEL_USER_DATA (GDT_USER_DATA * 8 | 3)
#define SEL_TSS (GDT_TSS * 8)
/* An unused vector of the lib's IDT (between the exceptions and the device interrupts). */
#define RING3_RETURN_VECTOR 0x30
#define QEMU_DEBUG_EXIT 0xf4 /* would end the whole machine if it reached the hardware */
#define OUT_IMM8_LEN 2
#define VEC_DB 1
#define VEC_GP 13

#define STR_(x) #x
#define STR(x) STR_(x)

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

static u64 gdt[GDT_NR] __aligned(16);
static struct tss64 tss __aligned(16);
static u8 kernel_stack[8192] __aligned(16);	   /* RSP0: for the gate and ring-3 exceptions */
static u8 user_stack[4096] __aligned(4096);	   /* RSP in ring 3 (the stubs push nothing) */
static u8 user_buf[4096] __aligned(4096);	   /* what GET_INFO/GET_EXITS would write */
static char console_text[] = RING3_CONSOLE_MARKER; /* hypercall arguments: guest-physical */
static char report_text[] = RING3_REPORT_TEXT;

/* long ring3_call(const u8 *stub, u64 user_rsp, u64 rax, u64 rdi, u64 rsi, u64 rdx): runs
 * the stub at CPL 3 with those registers; the stub ends with INT RING3_RETURN_VECTOR, whose
 * handler (ring3_return) records the CS it came from in ring3_from_cs and returns the
 * stub's RAX from ring3_call. The user page holds the stubs only. */
u64 ring3_kernel_rsp, ring3_from_cs;
long ring3_call(const u8 *stub, u64 user_rsp, u64 rax, u64 rdi, u64 rsi, u64 rdx);
void ring3_return(void);
extern const u8 ring3_page[], ring3_vmmcall[], ring3_vmcall[], ring3_out[], ring3_icebp[];
/* clang-format off */
__asm__(".pushsection .text\n"
	".globl ring3_call, ring3_return\n"
	"ring3_call:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, ring3_kernel_rsp(%rip)\n"
	"	mov %rdi, %r10\n"
	"	mov %rsi, %r11\n"
	"	mov %rdx, %rax\n"
	"	mov %rcx, %rdi\n"
	"	mov %r8, %rsi\n"
	"	mov %r9, %rdx\n"
	"	pushq $" STR(SEL_USER_DATA) "\n"
	"	push %r11\n"
	"	pushq $2\n" /* RFLAGS: interrupts off, IOPL 0 */
	"	pushq $" STR(SEL_USER_CODE) "\n"
	"	push %r10\n"
	"	iretq\n"
	"ring3_return:\n"
	"	mov 8(%rsp), %rcx\n"
	"	mov %rcx, ring3_from_cs(%rip)\n"
	"	mov ring3_kernel_rsp(%rip), %rsp\n"
	"	mov $" STR(SEL_KERNEL_DATA) ", %ecx\n"
	"	mov %ecx, %ss\n"
	"	mov %ecx, %ds\n"
	"	mov %ecx, %es\n"
	"	mov %ecx, %fs\n"
	"	mov %ecx, %gs\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".pushsection .text.ring3, \"ax\", @progbits\n"
	".balign 4096\n"
	".globl ring3_page, ring3_vmmcall, ring3_vmcall, ring3_out, ring3_icebp\n"
	"ring3_page:\n"
	"ring3_vmmcall:\n"
	"	vmmcall\n"
	"	int $" STR(RING3_RETURN_VECTOR) "\n"
	"	ud2\n"
	"ring3_vmcall:\n"
	"	vmcall\n"
	"	int $" STR(RING3_RETURN_VECTOR) "\n"
	"	ud2\n"
	"ring3_out:\n"
	"	out %al, $" STR(QEMU_DEBUG_EXIT) "\n"
	"	int $" STR(RING3_RETURN_VECTOR) "\n"
	"	ud2\n"
	"ring3_icebp:\n"
	"	.byte 0xf1\n" /* ICEBP (INT1) */
	"	int $" STR(RING3_RETURN_VECTOR) "\n"
	"	ud2\n"
	".balign 4096\n"
	".popsection\n"
	".popsection\n");
/* clang-format on */

/* What the test changes and puts back. */
static struct {
	struct desc_ptr gdtr, idtr;
	struct idt_gate gate;
	u64 *walk[3]; /* PML4, PDPT and PD entries on the way to the first 2 MiB */
	u64 walk_old[3];
	u64 *pte[2]; /* the stub page and the user stack */
	u64 pte_old[2];
} saved;

static u64 read_cr3(void)
{
	u64 v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void flush_tlb(void)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(read_cr3()) : "memory");
}

/* Sets U/S on the stub page and the user stack and on every level above them. */
static int map_user_pages(void)
{
	u64 pages[2] = {(u64)(uintptr_t)ring3_page, (u64)(uintptr_t)user_stack};
	u64 *table = (u64 *)(uintptr_t)(read_cr3() & PTE_ADDR);

	for (unsigned lvl = 0; lvl < 3; lvl++) {
		u64 *e = &table[(pages[0] >> (39 - 9 * lvl)) & 511];

		if (!(*e & PTE_P) || (pages[0] >> 21) != (pages[1] >> 21))
			return -EFAULT;
		saved.walk[lvl] = e;
		saved.walk_old[lvl] = *e;
		table = (u64 *)(uintptr_t)(*e & PTE_ADDR);
	}
	for (unsigned i = 0; i < 2; i++) {
		saved.pte[i] = guest_pte_4k(pages[i]);
		if (!saved.pte[i])
			return -EFAULT;
		saved.pte_old[i] = *saved.pte[i];
	}
	for (unsigned lvl = 0; lvl < 3; lvl++)
		*saved.walk[lvl] |= PTE_US;
	for (unsigned i = 0; i < 2; i++)
		*saved.pte[i] |= PTE_US;
	flush_tlb();
	return 0;
}

static void unmap_user_pages(void)
{
	for (unsigned i = 0; i < 2; i++)
		if (saved.pte[i])
			*saved.pte[i] = saved.pte_old[i];
	for (unsigned lvl = 0; lvl < 3; lvl++)
		if (saved.walk[lvl])
			*saved.walk[lvl] = saved.walk_old[lvl];
	flush_tlb();
}

/* A GDT of the lib's descriptors plus user code and data (DPL 3) and a TSS whose RSP0 is
 * the stack the return gate runs on; and that gate, DPL 3, in the lib's IDT. */
static int enter_user_tables(void)
{
	u64 t = (u64)(uintptr_t)&tss, r = (u64)(uintptr_t)ring3_return;
	struct desc_ptr gdtr = {sizeof(gdt) - 1, (u64)(uintptr_t)gdt};
	struct idt_gate *idt;

	__asm__ volatile("sgdt %0" : "=m"(saved.gdtr));
	__asm__ volatile("sidt %0" : "=m"(saved.idtr));
	if ((u64)saved.gdtr.limit + 1 < GDT_LIB * 8 ||
	    (u64)saved.idtr.limit + 1 < (RING3_RETURN_VECTOR + 1) * sizeof(*idt))
		return -ERANGE;
	memcpy(gdt, (void *)(uintptr_t)saved.gdtr.base, GDT_LIB * 8);
	gdt[GDT_USER_CODE] = FIELD_PREP(DESC_TYPE, TYPE_CODE_XR) | DESC_S | DESC_P | DESC_L |
			     FIELD_PREP(DESC_DPL, 3);
	gdt[GDT_USER_DATA] =
		FIELD_PREP(DESC_TYPE, TYPE_DATA_RW) | DESC_S | DESC_P | FIELD_PREP(DESC_DPL, 3);
	memset(&tss, 0, sizeof(tss));
	tss.rsp[0] = (u64)(uintptr_t)(kernel_stack + sizeof(kernel_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports */
	gdt[GDT_TSS] = tss_desc_lo(t, sizeof(tss) - 1);
	gdt[GDT_TSS + 1] = tss_desc_hi(t);

	idt = (struct idt_gate *)(uintptr_t)saved.idtr.base;
	saved.gate = idt[RING3_RETURN_VECTOR];
	idt[RING3_RETURN_VECTOR] = idt_gate_make(
		r, SEL_KERNEL_CODE, 0, (u8)(GATE_P | FIELD_PREP(GATE_DPL, 3) | GATE_TYPE_INTR));
	__asm__ volatile("lgdt %0\n\t"
			 "ltr %w1" ::"m"(gdtr),
			 "r"((u16)SEL_TSS)
			 : "memory");
	return 0;
}

/* The lib's GDT and IDT gate again. TR keeps this file's TSS (static, still valid): the
 * lib's GDT has no TSS descriptor to load instead. */
static void leave_user_tables(void)
{
	struct idt_gate *idt = (struct idt_gate *)(uintptr_t)saved.idtr.base;

	idt[RING3_RETURN_VECTOR] = saved.gate;
	__asm__ volatile("lgdt %0" ::"m"(saved.gdtr) : "memory");
}

static const u8 *hypercall_stub(void)
{
	u32 r[4];

	guest_cpuid(MOAT_CPUID_INFO, 0, r);
	return r[2] == MOAT_HC_INSN_VMCALL ? ring3_vmcall : ring3_vmmcall;
}

static long user_run(const u8 *stub, u64 rax, u64 rdi, u64 rsi, u64 rdx)
{
	long r;

	ring3_from_cs = 0;
	r = ring3_call(stub, (u64)(uintptr_t)(user_stack + sizeof(user_stack)), rax, rdi, rsi, rdx);
	check((ring3_from_cs & 3) == 3, "stub at %p came back from CS %#llx, not ring 3", stub,
	      (unsigned long long)ring3_from_cs);
	return r;
}

static u64 exits_by_reason(unsigned reason)
{
	static struct moat_guest_exits x;

	if (hypercall(HC_GET_EXITS, (u64)(uintptr_t)&x, 0, 0))
		return 0;
	return x.by_reason[reason];
}

/* Every number, with arguments that would show if the call were carried out. */
static void test_hypercalls(void)
{
	static const struct {
		u64 nr;
		const char *name;
	} calls[] = {
		{HC_CONSOLE_WRITE, "console-write"},
		{HC_REPORT, "report"},
		{HC_GET_INFO, "get-info"},
		{HC_GET_CMDLINE, "get-cmdline"},
		{HC_GET_EXITS, "get-exits"},
		{HC_ECHO, "echo"},
		{HC_EXPECT_STOP, "expect-stop"},
		{HC_EXPECT_DMA_FAULT, "expect-dma-fault"},
		{0x7fff, "unknown (-ENOSYS at CPL 0)"},
		{HC_SHUTDOWN, "shutdown"},
	};
	u64 exits = exits_by_reason(MOAT_EXIT_HYPERCALL);
	unsigned written;

	memset(user_buf, 0xa5, sizeof(user_buf));
	for (unsigned i = 0; i < ARRAY_SIZE(calls); i++) {
		u64 nr = calls[i].nr, a0 = 0, a1 = 0, a2 = 0;
		long r;

		switch (nr) {
		case HC_CONSOLE_WRITE:
			a0 = (u64)(uintptr_t)console_text;
			a1 = strlen(console_text);
			break;
		case HC_REPORT:
			a0 = HC_TEST_PASS;
			a1 = (u64)(uintptr_t)report_text;
			a2 = strlen(report_text);
			break;
		case HC_GET_INFO:
		case HC_GET_EXITS: a0 = (u64)(uintptr_t)user_buf; break;
		case HC_GET_CMDLINE:
			a0 = (u64)(uintptr_t)user_buf;
			a1 = sizeof(user_buf);
			break;
		case HC_ECHO: a0 = 1; break;
		case HC_EXPECT_STOP: a0 = guest_info.ram_size; break;
		case HC_SHUTDOWN: a0 = 0; break;
		}
		r = user_run(hypercall_stub(), nr, a0, a1, a2);
		check(r == -EPERM, "%s from ring 3 returned %ld, not -EPERM", calls[i].name, r);
	}
	for (written = 0; written < sizeof(user_buf) && user_buf[written] == 0xa5; written++)
		;
	check(written == sizeof(user_buf),
	      "get-info/get-cmdline/get-exits from ring 3 wrote byte %u (%#x)", written,
	      user_buf[written]);
	/* Each call exited to moat (refused there, not a #UD in the guest); the count includes
	 * the GET_EXITS that reads it. The product cannot count: the -EPERMs are the test. */
	if (!guest_test_hypercalls())
		return;
	exits = exits_by_reason(MOAT_EXIT_HYPERCALL) - exits - 1;
	check(exits == ARRAY_SIZE(calls), "%llu hypercall exits from ring 3, expected %zu",
	      (unsigned long long)exits, ARRAY_SIZE(calls));
}

/* Port I/O at CPL 3 with IOPL 0 and no I/O bitmap in the TSS: the CPU raises #GP in the
 * guest before any intercept (SDM Vol. 3C 26.1.1, 25.1.1 in older editions; APM Vol. 2
 * 15.9), so moat's port handling, which does not look at the CPL, never sees it. */
static void test_io(void)
{
	u64 io = exits_by_reason(MOAT_EXIT_IO);

	guest_expect = (struct expected_exception){.vector = VEC_GP, .skip = OUT_IMM8_LEN};
	user_run(ring3_out, 0x21, 0, 0, 0);
	guest_expect.vector = -1;
	check(guest_expect.seen == 1, "OUT to port %#x from ring 3: #GP taken %d times",
	      QEMU_DEBUG_EXIT, guest_expect.seen);
	check(guest_expect.rip == (u64)(uintptr_t)ring3_out, "#GP at rip %#llx, the OUT is at %p",
	      (unsigned long long)guest_expect.rip, ring3_out);
	io = exits_by_reason(MOAT_EXIT_IO) - io;
	/* The exit count needs the test image; the product checks the #GP alone. */
	if (guest_test_hypercalls())
		check(io == 0, "%llu I/O exits from ring 3", (unsigned long long)io);
}

/* ICEBP (INT1) is allowed at any CPL and raises #DB in the guest. An intercept of it that
 * stopped the guest would let its user space stop it. */
static void test_icebp(void)
{
	guest_expect = (struct expected_exception){.vector = VEC_DB};
	user_run(ring3_icebp, 0, 0, 0, 0);
	guest_expect.vector = -1;
	check(guest_expect.seen == 1, "ICEBP from ring 3: #DB taken %d times", guest_expect.seen);
	check(guest_expect.rip == (u64)(uintptr_t)ring3_icebp + 1,
	      "#DB with rip %#llx, expected right after the ICEBP at %p",
	      (unsigned long long)guest_expect.rip, ring3_icebp);
}

static void ring3_test(const char *id, int setup_err, void (*run)(void))
{
	test_begin("attack", id);
	check(!setup_err,
	      "ring 3 set-up failed (%d): stub page %p, stack %p, GDT limit %#x, "
	      "IDT limit %#x",
	      setup_err, ring3_page, user_stack, saved.gdtr.limit, saved.idtr.limit);
	if (!setup_err)
		run();
	test_end();
}

void attack_ring3(void)
{
	int err = map_user_pages();

	if (!err)
		err = enter_user_tables();
	ring3_test("hypercall-from-ring3", err, test_hypercalls);
	ring3_test("io-from-ring3-faults", err, test_io);
	ring3_test("icebp-from-ring3", err, test_icebp);
	if (!err)
		leave_user_tables();
	unmap_user_pages();
}
