/* XCR0, the extended-state enable register (SDM Vol. 1 13.3): neither VMX nor SVM switches
 * it, so a guest's XSETBV (emulated by the core, vmm/exit.c) sets the CPU's own, which stays
 * the guest's while it runs; moat uses no extended state itself (-mgeneral-regs-only) and
 * puts the reset value back before and after each guest (guest_cpu_reset()). */
#ifndef ARCH_X86_XCR0_H
#define ARCH_X86_XCR0_H

#include <moat/types.h>

/* On each CPU that runs guests (the backends' cpu_init): CR4.OSXSAVE on when the CPU has
 * XSAVE, so that moat can execute XSETBV for its guests. */
void xcr0_cpu_init(void);
/* The XCR0 bits this CPU supports (CPUID 0Dh.0 EDX:EAX); 0 without XSAVE enabled. */
u64 xcr0_supported(void);
/* XSETBV of XCR0 on this CPU; the value was checked (vmm_xcr0_check()). */
void xcr0_write(u64 val);
/* XCR0 back to its reset value (x87 only), where XSAVE is enabled. */
void xcr0_reset(void);

#endif
