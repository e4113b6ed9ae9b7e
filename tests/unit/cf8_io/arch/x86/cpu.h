/* Host-test stand-in for arch/x86/cpu.h (cf8.cflags): interrupts "off" is a per-thread flag
 * the CF8/CFC model of test_cf8.c checks at every port access. */
#ifndef ARCH_X86_CPU_H
#define ARCH_X86_CPU_H

#include <moat/types.h>

u64 irq_save(void);
void irq_restore(u64 flags);

#endif
