/* Host vectors drained and freed on the CPU they target (arch/x86/irq_drain.h). Each CPU
 * has a bitmap of the vectors queued for it; the CPU that queues one sets its bit, then
 * sends the wake-up IPI, and the owner takes the whole bitmap at once (an atomic exchange)
 * in its idle loop. */
#define LOG_TAG "irq"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/apic.h"
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"

#define VECTOR_WORDS (256 / 64)

static u64 queued[MAX_CPUS][VECTOR_WORDS];
/* The counter to increment when the queued vector is freed: written before its bit is set
 * (release), read after the bitmap was taken (acquire). */
static u32 *freed_count[256];
static u32 freed_queued;

static void free_counted(u8 vector, u32 *freed)
{
	irq_free_vector(vector);
	if (freed)
		__atomic_fetch_add(freed, 1, __ATOMIC_RELAXED);
}

static bool cpu_online(unsigned cpu)
{
	return cpu < MAX_CPUS && __atomic_load_n(&cpu_data[cpu].online, __ATOMIC_ACQUIRE);
}

int irq_free_drained(u8 vector, unsigned cpu, u32 *freed)
{
	int err;

	if (cpu == this_cpu()->index) {
		err = apic_drain_vector(vector, IRQ_DRAIN_TIMEOUT_US);
		if (err)
			return err;
		free_counted(vector, freed);
		return 0;
	}
	if (!cpu_online(cpu))
		return pr_err(-ENODEV, "vector %#x: cpu %u is not online to drain it\n", vector,
			      cpu);
	freed_count[vector] = freed;
	__atomic_fetch_or(&queued[cpu][vector / 64], BIT(vector % 64), __ATOMIC_SEQ_CST);
	/* Without the IPI the vector still drains at the CPU's next pass of its idle loop. */
	err = smp_wake(cpu);
	if (err)
		pr_warn("vector %#x queued for cpu %u, which could not be woken (%d)\n", vector,
			cpu, err);
	return 0;
}

/* Drains and frees the vectors of `bits` (word `w` of the bitmap); returns how many. */
static unsigned drain_word(unsigned w, u64 bits)
{
	unsigned n = 0;

	while (bits) {
		u8 vector = (u8)(w * 64 + (unsigned)__builtin_ctzll(bits));

		bits &= bits - 1;
		if (apic_drain_vector(vector, IRQ_DRAIN_TIMEOUT_US)) {
			pr_warn("host vector %#x stays allocated: still pending on cpu %u\n",
				vector, this_cpu()->index);
			continue;
		}
		free_counted(vector, freed_count[vector]);
		__atomic_fetch_add(&freed_queued, 1, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

unsigned irq_drain_queued(void)
{
	u64 *q = queued[this_cpu()->index];
	unsigned n = 0;
	bool more;

	/* Draining opens an interrupt window: the wake-up IPI of a vector queued meanwhile is
	 * taken there, so the bitmap is read again until it is empty. */
	do {
		more = false;
		for (unsigned w = 0; w < VECTOR_WORDS; w++) {
			u64 bits;

			if (!__atomic_load_n(&q[w], __ATOMIC_RELAXED))
				continue;
			bits = __atomic_exchange_n(&q[w], 0, __ATOMIC_ACQUIRE);
			more = more || bits;
			n += drain_word(w, bits);
		}
	} while (more);
	return n;
}

unsigned irq_drain_pending(void)
{
	unsigned n = 0;

	for (unsigned c = 0; c < MAX_CPUS; c++)
		for (unsigned w = 0; w < VECTOR_WORDS; w++)
			for (u64 bits = __atomic_load_n(&queued[c][w], __ATOMIC_RELAXED); bits;
			     bits &= bits - 1)
				n++;
	return n;
}

unsigned irq_drain_freed_queued(void)
{
	return __atomic_load_n(&freed_queued, __ATOMIC_RELAXED);
}
