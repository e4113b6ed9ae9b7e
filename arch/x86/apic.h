/* Local APIC, in x2APIC (MSR) mode when the CPU has it or an APIC ID needs it, otherwise
 * in xAPIC (MMIO) mode. The BSP chooses the mode; every AP follows it. */
#ifndef ARCH_X86_APIC_H
#define ARCH_X86_APIC_H

#include <moat/types.h>

/* Maximum time an xAPIC ICR may stay busy (delivery status pending). */
#define APIC_ICR_TIMEOUT_US 10000

/* On the BSP: chooses the mode, enables and sets up the local APIC, masks the 8259 PICs,
 * installs the EOI hook. */
int apic_init(void);
/* On an AP: enables its local APIC in the BSP's mode and sets it up the same way. */
void apic_init_ap(void);
bool apic_x2apic_mode(void);
u32 apic_id(void);
void apic_eoi(void);
/* A fixed-delivery interrupt to one CPU (physical destination). -ETIMEDOUT if the ICR
 * did not accept it. */
int apic_send_ipi(u32 apic_id, u8 vector);
/* The start-up pair of the SDM (Vol. 3A 8.4.4.1): INIT, and SIPI with the start page. */
int apic_send_init(u32 apic_id);
int apic_send_sipi(u32 apic_id, u64 start_page);
/* The task-priority register: 0 while moat runs (no interrupt class is blocked). */
u32 apic_tpr(void);
/* On the CPU a vector targets, with interrupts off: lets interrupts in until the local
 * APIC neither requests nor services `vector` (IRR and ISR clear), bounded. Whatever was
 * pending on it has then gone through its handler. -ETIMEDOUT otherwise. */
int apic_drain_vector(u8 vector, u64 timeout_us);
/* Error status (ESR) after clearing it, for diagnostics. */
u32 apic_read_esr(void);
/* Whether this CPU's local APIC is set up and enabled. */
bool apic_enabled(void);

/* The local APIC timer, one-shot, counting down at the bus clock divided by 16. */
/* Programs the timer's vector (masked) and divider on this CPU. */
void apic_timer_setup(u8 vector);
/* Runs the timer from its maximum for `us` microseconds: the ticks it counted. */
u64 apic_timer_count_for(u32 us);
/* Fires `vector` once after `ticks` (unmasks the timer). */
void apic_timer_oneshot(u8 vector, u32 ticks);
/* Fires `vector` every period_us (the rate measured against the TSC on first use). */
int apic_timer_periodic(u8 vector, u64 period_us);
/* Stops the count and masks the timer. */
void apic_timer_stop(u8 vector);
/* Timer ticks per millisecond (divide-by-16), measured against the TSC on first use; 0 if
 * the timer does not count. */
u64 apic_timer_ticks_per_ms(void);
/* Ticks that take at least `delta` TSC ticks (rounded up; saturated at the 32-bit count). */
u32 apic_timer_ticks_for_tsc(u64 delta);

/* The longest cpu_halt_until() waits, deadline or not: a wake-up the caller missed costs
 * at most this. */
#define CPU_HALT_MAX_US 100000
/* Halts this CPU until the TSC reaches `tsc` (0: no deadline), any interrupt arrives, or
 * CPU_HALT_MAX_US passed, whichever comes first; takes this CPU's local APIC timer. Call
 * with interrupts disabled, after checking what should wake it: an interrupt that arrived
 * since (vcpu_kick()'s IPI) is pending and ends the halt at once. Returns with interrupts
 * disabled; true when the TSC reached `tsc`. */
bool cpu_halt_until(u64 tsc);

#endif
