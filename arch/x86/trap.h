/* Exceptions, interrupts and the exception table. */
#ifndef ARCH_X86_TRAP_H
#define ARCH_X86_TRAP_H

#include <moat/types.h>

/* Layout pushed by arch/x86/isr.asm. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;
};
SIZE_CHECK(struct trap_frame, 22 * 8);

#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14
#define VEC_AC 17
#define VEC_MC 18
#define VEC_FIRST_IRQ 32
/* Exceptions that push an error code (SDM Vol. 3A 6.15): #DF #TS #NP #SS #GP #PF #AC #CP
 * #VC #SX */
#define VEC_HAS_ERROR_CODE                                                                         \
	(BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(17) | BIT(21) | BIT(29) |  \
	 BIT(30))
#define VEC_SPURIOUS 0xff

/* An instruction that may fault and where to resume if it does.  Used by self-tests and by
 * accessors that must survive a fault (never to probe features the CPU reports). */
struct extable_entry {
	u64 fault_rip;
	u64 fixup_rip;
};

/* Inline-asm fragment recording that a fault at label `from` resumes at label `to`:
 *   asm("1: ud2\n2:\n" EXTABLE_ENTRY("1b", "2b"));
 * The vector is then in this_cpu()->last_trap_vector. */
#define EXTABLE_ENTRY(from, to)                                                                    \
	".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad " from ", " to "\n\t.popsection\n\t"

typedef void (*irq_handler_t)(struct trap_frame *f, void *ctx);

void idt_init(void);
void idt_load(void);
/* Vector >= 32 only; -EBUSY if taken. */
int irq_register(unsigned vector, irq_handler_t fn, void *ctx);
/* The vectors irq_alloc_vector() hands out. */
#define IRQ_POOL_FIRST 0x30
#define IRQ_POOL_LAST 0xef
/* A free vector in [0x30, 0xef], or -ENOSPC. */
int irq_alloc_vector(irq_handler_t fn, void *ctx);
void irq_free_vector(u8 vector);
/* Hands an allocated vector to another handler (it stays allocated); -ENOENT if free. */
int irq_set_handler(u8 vector, irq_handler_t fn, void *ctx);
/* Vectors of [0x30, 0xef] nobody holds. */
unsigned irq_vectors_free(void);
/* Runs the handler of f->vector (arch/x86/irq_vectors.c); false if it has none. */
bool irq_call(struct trap_frame *f);
void trap_dump(const struct trap_frame *f, const char *why);

/* Set by the APIC driver: acknowledges the current interrupt. */
extern void (*irq_eoi_hook)(void);

#endif
