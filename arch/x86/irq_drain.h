/* Host vectors given back on the CPU they target. A vector taken back from its owner (the
 * MSI-X entries of a released device, vmm/msix.c) may still be requested in the IRR of the
 * CPU its messages went to, or in service there: handed out again at once, its next owner
 * would receive that interrupt. Only that CPU's local APIC shows it, so the vector is
 * drained there (IRR and ISR clear, bounded) and only then freed; until then its handler
 * must be one that raises nothing (vmm/msix.c's quarantine). */
#ifndef ARCH_X86_IRQ_DRAIN_H
#define ARCH_X86_IRQ_DRAIN_H

#include <moat/types.h>

#define IRQ_DRAIN_TIMEOUT_US 1000

/* Frees `vector` once it drained on `cpu`: at once when that is this CPU; otherwise queued
 * for `cpu`, which is woken (smp_wake) and drains it in its idle loop (irq_drain_queued).
 * When the vector is freed, *freed (if not NULL) is incremented atomically. 0 when freed or
 * queued; -ETIMEDOUT (it did not drain here) or -ENODEV (`cpu` is not online): the vector
 * stays allocated for good, reaching nobody. */
int irq_free_drained(u8 vector, unsigned cpu, u32 *freed);
/* On this CPU, with interrupts off: drains and frees the vectors queued for it, until none
 * is left (one queued meanwhile too). A vector that does not drain stays allocated and is
 * reported. Returns how many were freed. */
unsigned irq_drain_queued(void);
/* Vectors queued for their CPUs (all of them) and not drained yet. */
unsigned irq_drain_pending(void);
/* Vectors freed by the CPU they were queued for, since boot. */
unsigned irq_drain_freed_queued(void);

#endif
