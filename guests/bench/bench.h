/* The bench guest's shared pieces: the timing code and the report line (guests/bench). */
#ifndef GUESTS_BENCH_BENCH_H
#define GUESTS_BENCH_BENCH_H

#include "guests/lib/guest.h"

#define BENCH_N 1000

/* The TSC into %rax (%rdx clobbered): the same instructions before and after what is timed. */
#define RDTSC_RAX "rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax\n\t"

/* rdtsc into %r8, `what`, rdtsc: the ticks between, with the same timing code around. */
#define TIMED(what, ...)                                                                           \
	({                                                                                         \
		u64 t1;                                                                            \
		__asm__ volatile(RDTSC_RAX "mov %%rax, %%r8\n\t" what "\n\t" RDTSC_RAX             \
					   "sub %%r8, %%rax"                                       \
				 : "=a"(t1)                                                        \
				 :                                                                 \
				 : "rbx", "rcx", "rdx", "rdi", "r8", "memory", ##__VA_ARGS__);     \
		t1;                                                                                \
	})

/* The line of one kind: the samples `r` less the median of the baseline samples `b`
 * (both BENCH_N long, sorted here). */
void bench_report(const char *kind, u64 *r, u64 *b);
void bench_sort(u64 *a, unsigned n);
/* Linked as an OS guest: the local APIC's exits and the exit counter port (apic.c). */
void bench_os_guest(void);
/* The local APIC's page (xAPIC mode, as Linux on moat uses it): mapped uncached, software
 * enabled with its spurious vector (apic.c). */
#define LAPIC_BASE 0xfee00000ULL
#define LAPIC_EOI 0x0b0
void bench_lapic_enable(void);
/* Linked as an OS guest and given a VF: what one MSI-X interrupt of the VF costs
 * (vf_irq.c). */
void bench_vf_irq(void);

#endif
