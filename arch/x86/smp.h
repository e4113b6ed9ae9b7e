/* Application processors: started at boot (INIT-SIPI-SIPI through the trampoline), then
 * each waits, halted, for a function to run.
 *
 * One function at a time per CPU. smp_call_on() queues it and returns at once (the VMM
 * runs a vCPU this way for as long as the guest lives); smp_call_wait() waits for it with
 * a timeout; smp_call_sync() does both. The function runs with interrupts off on the
 * target CPU's own stack; it may enable them. Between functions an AP drains and frees the
 * host vectors queued for it (arch/x86/irq_drain.h), then halts. */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include <moat/boot_info.h>

/* How long an AP has to report in after its SIPI. */
#define SMP_AP_CALLIN_US 2000000

typedef void (*smp_fn_t)(void *arg);

/* Starts every enabled CPU of the MADT; one that does not report in is reported and left
 * out. Returns the number of CPUs online. */
unsigned smp_init(const struct boot_info *bi);
/* Queues fn(arg) on `cpu` (an index into cpu_data[], not the caller). 0, -ENODEV if the
 * CPU is not online, -EBUSY if it still runs or has queued an earlier function, -EINVAL
 * for the calling CPU itself. */
int smp_call_on(unsigned cpu, smp_fn_t fn, void *arg);
/* Waits until `cpu` has finished its function: 0, or -ETIMEDOUT. */
int smp_call_wait(unsigned cpu, u64 timeout_us);
/* smp_call_on + smp_call_wait. */
int smp_call_sync(unsigned cpu, smp_fn_t fn, void *arg, u64 timeout_us);
/* Sends `cpu` the wake-up IPI: a halted CPU runs its idle loop once more (queued work,
 * vectors to drain: arch/x86/irq_drain.h). 0, or -ENODEV. */
int smp_wake(unsigned cpu);
/* Whether `cpu` has a function queued or running. */
bool smp_cpu_busy(unsigned cpu);
/* The cpu_data[] index of the CPU with this APIC ID, or -ENODEV. */
int smp_cpu_by_apic_id(u32 apic_id);

#endif
