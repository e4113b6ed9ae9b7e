/* The architecture's rules for a guest's writes to EFER and XCR0, which the core emulates
 * (vmm/exit.c). Pure: the host unit tests call them. */
#ifndef VMM_REG_RULES_H
#define VMM_REG_RULES_H

#include <moat/types.h>

/* EFER bits a guest may write: SCE, LME, NXE (LMA is the CPU's, kept as it is). */
/* A WRMSR to EFER given the current EFER and CR0 (SDM Vol. 3A 10.8.5, APM Vol. 2 3.1.7):
 * 0 with the EFER to apply in *out, or -EINVAL for #GP(0): unknown or refused bits (SVME),
 * or LME changed while paging is on. */
int vmm_efer_write(u64 cur, u64 cr0, u64 val, u64 *out);

/* XSETBV of XCR `index` to `val` on a CPU supporting the XCR0 bits `supported` (SDM Vol. 2C
 * XSETBV): 0, or -EINVAL for #GP(0): an index other than 0, x87 clear, an unsupported bit,
 * AVX without SSE, half of MPX, AVX-512 partial or without AVX, half of AMX. */
int vmm_xcr0_check(u32 index, u64 val, u64 supported);

#endif
