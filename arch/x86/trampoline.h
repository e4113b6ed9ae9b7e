/* The AP start-up trampoline (arch/x86/trampoline.asm): a real-mode blob copied to a page
 * below 1 MiB, entered through SIPI. It switches to 32-bit protected mode, jumps into the
 * image (ap_start32), turns on long mode with the BSP's page tables and calls ap_main()
 * on the stack given in its parameter block. */
#ifndef ARCH_X86_TRAMPOLINE_H
#define ARCH_X86_TRAMPOLINE_H

#include <moat/types.h>

struct percpu;

/* Filled by the BSP before each SIPI; offsets are fixed by trampoline.asm (TP_*). */
struct trampoline_params {
	u32 cr3;  /* page-table root, below 4 GiB */
	u32 efer; /* EFER to load before paging (LME, NXE) */
	u64 stack_top;
	u64 percpu;	    /* struct percpu * for ap_main */
	volatile u32 alive; /* set to 1 by the AP once in 64-bit mode */
	u32 reserved;
} __packed;
SIZE_CHECK(struct trampoline_params, 32);
STATIC_ASSERT(offsetof(struct trampoline_params, efer) == 4, "TP_EFER");
STATIC_ASSERT(offsetof(struct trampoline_params, stack_top) == 8, "TP_STACK");
STATIC_ASSERT(offsetof(struct trampoline_params, percpu) == 16, "TP_PERCPU");
STATIC_ASSERT(offsetof(struct trampoline_params, alive) == 24, "TP_ALIVE");

extern const u8 trampoline_start[], trampoline_end[];
extern const u8 trampoline_gdt[], trampoline_gdtr_base[], trampoline_params[];

void ap_main(struct percpu *c) __noreturn;

#endif
