/* Host vectors: the allocator (arch/x86/irq_vectors.c) and their release on the CPU they
 * target (arch/x86/irq_drain.c). A vector freed away from its CPU is queued for that CPU
 * and freed only once drained there; a sequence of guests whose devices' vectors target
 * other CPUs than the one that releases them never runs the pool dry. The CPU the code runs
 * on is cpu_data[n], reached through GS as on the hypervisor (arch_prctl). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"
#include "host_shim.h"

#define POOL (0xef - 0x30 + 1)

struct percpu cpu_data[MAX_CPUS];
unsigned nr_cpus_online;

static unsigned drained_on[256]; /* the CPU each vector was last drained on, plus one */
static unsigned drain_fails;	 /* apic_drain_vector times out this many times */
static unsigned wakes[MAX_CPUS];
/* Queued by apic_drain_vector's interrupt window: another CPU releases a vector meanwhile. */
static int queue_in_window = -1;
static u32 window_freed;

static void set_cpu(unsigned n)
{
	cpu_data[n].self = &cpu_data[n];
	cpu_data[n].index = n;
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&cpu_data[n]), 0);
}

int apic_drain_vector(u8 vector, u64 timeout_us)
{
	unsigned me = this_cpu()->index;

	drained_on[vector] = me + 1;
	if (queue_in_window >= 0) {
		u8 v = (u8)queue_in_window;

		queue_in_window = -1;
		set_cpu(1);
		assert_int_equal(irq_free_drained(v, me, &window_freed), 0);
		set_cpu(me);
	}
	if (drain_fails) {
		drain_fails--;
		return -ETIMEDOUT;
	}
	return 0;
}

int smp_wake(unsigned cpu)
{
	wakes[cpu]++;
	return 0;
}

static void handler(struct trap_frame *f, void *ctx) {}

static int setup(void **state)
{
	memset(drained_on, 0, sizeof(drained_on));
	memset(wakes, 0, sizeof(wakes));
	drain_fails = 0;
	queue_in_window = -1;
	for (unsigned c = 0; c < 4; c++)
		cpu_data[c].online = true;
	set_cpu(1);
	shim_warnings_logged = 0;
	shim_errors_logged = 0;
	return 0;
}

static u8 alloc(void)
{
	int v = irq_alloc_vector(handler, NULL);

	assert_true(v >= 0x30 && v <= 0xef);
	return (u8)v;
}

/* First fit in [0x30, 0xef], every vector once, then -ENOSPC; freeing gives it back. */
static void test_pool(void **state)
{
	u8 v[POOL];

	assert_int_equal(irq_vectors_free(), POOL);
	for (unsigned i = 0; i < POOL; i++)
		v[i] = alloc();
	assert_int_equal(v[0], 0x30);
	assert_int_equal(v[POOL - 1], 0xef);
	assert_int_equal(irq_vectors_free(), 0);
	assert_int_equal(irq_alloc_vector(handler, NULL), -ENOSPC);
	irq_free_vector(0x40);
	assert_int_equal(irq_set_handler(0x40, handler, NULL), -ENOENT);
	assert_int_equal(irq_vectors_free(), 1);
	assert_int_equal(alloc(), 0x40);
	for (unsigned i = 0; i < POOL; i++)
		irq_free_vector(v[i]);
	assert_int_equal(irq_vectors_free(), POOL);
	(void)state;
}

/* On its own CPU the vector is drained and freed at once; nobody is woken. */
static void test_free_here(void **state)
{
	u32 freed = 0;
	u8 v = alloc();

	assert_int_equal(irq_free_drained(v, 1, &freed), 0);
	assert_int_equal(drained_on[v], 1 + 1);
	assert_int_equal(freed, 1);
	assert_int_equal(irq_vectors_free(), POOL);
	assert_int_equal(wakes[2], 0);
	assert_int_equal(irq_drain_pending(), 0);
	(void)state;
}

/* Another CPU's vector stays allocated (its IRR is not visible here) until that CPU, woken,
 * drains it in its idle loop; other CPUs' loops leave it alone. */
static void test_free_on_its_cpu(void **state)
{
	u32 freed = 0;
	u8 v = alloc();

	assert_int_equal(irq_free_drained(v, 2, &freed), 0);
	assert_int_equal(wakes[2], 1);
	assert_int_equal(irq_drain_pending(), 1);
	assert_int_equal(irq_vectors_free(), POOL - 1);
	assert_int_equal(irq_drain_queued(), 0); /* CPU 1's loop */
	set_cpu(3);
	assert_int_equal(irq_drain_queued(), 0);
	assert_int_equal(drained_on[v], 0);
	set_cpu(2);
	assert_int_equal(irq_drain_queued(), 1);
	assert_int_equal(drained_on[v], 2 + 1);
	assert_int_equal(freed, 1);
	assert_int_equal(irq_drain_pending(), 0);
	assert_int_equal(irq_vectors_free(), POOL);
	assert_int_equal(irq_drain_queued(), 0); /* once */
	(void)state;
}

/* A vector still pending on its CPU after the bounded drain stays allocated, reported, and
 * is not counted as freed; here or there. */
static void test_not_drained_stays(void **state)
{
	u32 freed = 0;
	u8 a = alloc(), b = alloc();

	drain_fails = 1;
	assert_int_equal(irq_free_drained(a, 1, &freed), -ETIMEDOUT);
	assert_int_equal(irq_free_drained(b, 2, &freed), 0);
	set_cpu(2);
	drain_fails = 1;
	assert_int_equal(irq_drain_queued(), 0);
	assert_int_equal(shim_warnings_logged, 1);
	assert_true(shim_log_seen("stays allocated"));
	assert_int_equal(freed, 0);
	assert_int_equal(irq_drain_pending(), 0);
	assert_int_equal(irq_vectors_free(), POOL - 2);
	irq_free_vector(a);
	irq_free_vector(b);
	(void)state;
}

/* A CPU that is not online could never drain it: the vector stays allocated. */
static void test_offline_cpu(void **state)
{
	u32 freed = 0;
	u8 v = alloc();

	assert_int_equal(irq_free_drained(v, 5, &freed), -ENODEV);
	assert_int_equal(irq_free_drained(v, MAX_CPUS, &freed), -ENODEV);
	assert_int_equal(irq_drain_pending(), 0);
	assert_int_equal(irq_vectors_free(), POOL - 1);
	irq_free_vector(v);
	(void)state;
}

/* Draining opens an interrupt window, where the wake-up of a vector queued meanwhile is
 * taken: that vector is drained in the same pass, not left for a wake-up already used. */
static void test_queued_while_draining(void **state)
{
	u32 freed = 0;
	u8 a = alloc(), b = alloc();

	window_freed = 0;
	assert_int_equal(irq_free_drained(a, 2, &freed), 0);
	queue_in_window = b;
	set_cpu(2);
	assert_int_equal(irq_drain_queued(), 2);
	assert_int_equal(drained_on[b], 2 + 1);
	assert_int_equal(freed + window_freed, 2);
	assert_int_equal(irq_vectors_free(), POOL);
	(void)state;
}

/* Guest after guest, each an OS guest on CPUs 1 and 2 whose three MSI-X vectors target
 * both, ended on CPU 1: the pool is whole after each, and far more guests run than it has
 * vectors. */
static void test_guest_sequence(void **state)
{
	static const unsigned target[] = {1, 2, 2};
	unsigned queued_freed = irq_drain_freed_queued();
	u32 freed = 0;

	for (unsigned guest = 0; guest < 4 * POOL; guest++) {
		u8 v[3];

		for (unsigned i = 0; i < 3; i++)
			v[i] = alloc();
		set_cpu(1);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(irq_free_drained(v[i], target[i], &freed), 0);
		set_cpu(2); /* its idle loop, woken */
		assert_int_equal(irq_drain_queued(), 2);
		assert_int_equal(irq_vectors_free(), POOL);
	}
	assert_int_equal(freed, 3 * 4 * POOL);
	assert_int_equal(wakes[2], 2 * 4 * POOL);
	assert_int_equal(irq_drain_freed_queued() - queued_freed, 2 * 4 * POOL);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pool, setup),
		cmocka_unit_test_setup(test_free_here, setup),
		cmocka_unit_test_setup(test_free_on_its_cpu, setup),
		cmocka_unit_test_setup(test_not_drained_stays, setup),
		cmocka_unit_test_setup(test_offline_cpu, setup),
		cmocka_unit_test_setup(test_queued_while_draining, setup),
		cmocka_unit_test_setup(test_guest_sequence, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
