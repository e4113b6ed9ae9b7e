/* The CF8/CFC configuration backend (pci/cf8.c) used by two CPUs at once, as on a machine
 * without ECAM (Bochs) where moat and every guest's virtual configuration space go through
 * it. Threads stand for CPUs, a port model (tests/unit/cf8_io) for the chipset: between
 * CPU A's address and data accesses the model asks CPU B to make a whole access of its
 * own and waits (bounded) for it. Without mutual exclusion B's address write lands in
 * between and A's data access reaches B's register: counted. With it, B waits for the lock
 * and A's wait times out. The model also counts port accesses made with interrupts on (a
 * handler on the same CPU could come in between the two ports). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include <moat/pci.h>
#include "pci/internal.h"
#include "host_shim.h"

#define CF8_PORT 0xcf8
#define CFC_PORT 0xcfc
#define PROBES 5
#define B_WAIT_MS 20 /* how long A waits between its ports for B's access */
#define RID_A PCI_RID(0, 1, 0)
#define RID_B PCI_RID(0, 2, 0)

/* ---- the chipset: one address register for all CPUs ---- */
static volatile u32 addr_reg;
static __thread u32 my_addr;
static __thread bool irqs_off, is_cpu_a;
static unsigned interleaved, irqs_on;

/* CPU B's work: one access when asked. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned b_asked, b_done;
static bool b_quit;

u64 irq_save(void)
{
	u64 was = irqs_off;

	irqs_off = true;
	return was;
}

void irq_restore(u64 flags)
{
	irqs_off = flags;
}

/* What the register at config address `a` reads: a value only that address gives. */
static u32 reg_value(u32 a)
{
	return a ^ 0x5a5a5a5au;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

/* CPU A, between its ports: B makes an access now, if it can. */
static void let_cpu_b_in(void)
{
	struct timespec ts;
	unsigned want;

	pthread_mutex_lock(&mu);
	want = ++b_asked;
	pthread_cond_broadcast(&cv);
	deadline_in(&ts, B_WAIT_MS);
	while (b_done != want)
		if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&mu);
}

void cf8_model_out(u16 port, unsigned width, u32 v)
{
	if (!irqs_off)
		__atomic_fetch_add(&irqs_on, 1, __ATOMIC_RELAXED);
	if (port == CF8_PORT && width == 4) {
		addr_reg = v;
		my_addr = v;
		if (is_cpu_a)
			let_cpu_b_in();
		return;
	}
	if (addr_reg != my_addr)
		__atomic_fetch_add(&interleaved, 1, __ATOMIC_RELAXED);
}

u32 cf8_model_in(u16 port, unsigned width)
{
	u32 v;

	if (!irqs_off)
		__atomic_fetch_add(&irqs_on, 1, __ATOMIC_RELAXED);
	if (port < CFC_PORT || port >= CFC_PORT + 4)
		return 0xffffffffu;
	if (addr_reg != my_addr)
		__atomic_fetch_add(&interleaved, 1, __ATOMIC_RELAXED);
	v = reg_value(addr_reg) >> (8 * (port - CFC_PORT));
	return width == 4 ? v : v & ((1u << (8 * width)) - 1);
}

static u32 expected(u16 rid, u16 off)
{
	return reg_value(0x80000000u | (u32)rid << 8 | off);
}

static void *cpu_b(void *arg)
{
	unsigned served = 0;

	pthread_mutex_lock(&mu);
	for (;;) {
		u32 v = 0;

		while (b_asked == served && !b_quit)
			pthread_cond_wait(&cv, &mu);
		if (b_quit)
			break;
		served = b_asked;
		pthread_mutex_unlock(&mu);
		pci_cfg_read(0, RID_B, 0x10, 4, &v);
		if (v != expected(RID_B, 0x10))
			__atomic_fetch_add((unsigned *)arg, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&mu);
		b_done = served;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void test_cf8_two_cpus(void **state)
{
	unsigned wrong_a = 0, wrong_b = 0;
	pthread_t b;

	pci_cfg_set_backend(&pci_cf8_ops, NULL);
	is_cpu_a = true;
	assert_int_equal(pthread_create(&b, NULL, cpu_b, &wrong_b), 0);
	for (unsigned i = 0; i < PROBES; i++) {
		u16 off = (u16)(4 * i);
		u32 v = 0;

		pci_cfg_read(0, RID_A, off, 4, &v);
		wrong_a += v != expected(RID_A, off);
		pci_cfg_write(0, RID_A, (u16)(off + 2), 2, (u16)i);
		/* B finishes its access before the next probe */
		pthread_mutex_lock(&mu);
		while (b_done != b_asked)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	b_quit = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(b, NULL);
	assert_int_equal(b_done, 2 * PROBES); /* B was asked at every address write of A */
	if (interleaved || irqs_on || wrong_a || wrong_b)
		fail_msg("%u data-port accesses after another CPU's address write, %u port "
			 "accesses with interrupts on, %u/%u reads of another register (A/B)",
			 interleaved, irqs_on, wrong_a, wrong_b);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cf8_two_cpus),
	};

	return cmocka_run_group_tests_name("cf8", tests, NULL, NULL);
}
