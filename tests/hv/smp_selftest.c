/* Boot self-tests of the local APIC and SMP: every AP runs work and reports its own
 * identity, work is asynchronous, IPIs travel both ways and are acknowledged. */
#define LOG_TAG "smp"
#include <moat/acpi.h>
#include <moat/errno.h>
#include "tests/hv/selftest.h"
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"

#define CALL_TIMEOUT_US 1000000
#define IPI_TIMEOUT_US 200000
#define HOLD_LIMIT_US 5000000

/* CPUID leaf 1 EBX and leaf 0xB EDX: the APIC ID the CPU reports for itself. */

static u32 cpuid_apic_id(void)
{
	if (apic_x2apic_mode() && cpuid(0, 0).eax >= 0xb)
		return cpuid(0xb, 0).edx;
	return (u32)FIELD_GET(CPUID_1_EBX_APIC_ID, cpuid(CPUID_LEAF_FEATURES, 0).ebx);
}

struct whoami {
	u32 apic_id, cpuid_id, index;
	u64 apic_base;
	bool ran;
};

/* The local APIC is enabled, in the mode the BSP chose. */
static bool apic_mode_ok(u64 base)
{
	return (base & APIC_BASE_ENABLE) && !!(base & APIC_BASE_X2APIC) == apic_x2apic_mode();
}

static void whoami(void *arg)
{
	struct whoami *w = arg;

	w->apic_id = apic_id();
	w->cpuid_id = cpuid_apic_id();
	w->index = this_cpu()->index;
	w->apic_base = rdmsr(MSR_IA32_APIC_BASE);
	w->ran = true;
}

static bool in_madt(u32 id)
{
	const struct acpi_cpu *cpus;
	unsigned n = acpi_cpus(&cpus);

	for (unsigned i = 0; i < n; i++)
		if (cpus[i].enabled && cpus[i].apic_id == id)
			return true;
	return false;
}

SELFTEST_ORDER(st_cpus_online, "boot", "cpus-online", 20)
{
	unsigned expect = MIN(acpi_cpus_enabled(), (unsigned)MAX_CPUS), counted = 0;

	if (!acpi_cpus_enabled())
		expect = 1;
	CHECK(ctx, nr_cpus_online == expect, "%u CPUs online, MADT has %u enabled", nr_cpus_online,
	      acpi_cpus_enabled());
	CHECK(ctx, cpu_data[0].apic_id == apic_id() && in_madt(apic_id()),
	      "BSP APIC ID %u (MADT: %d)", apic_id(), in_madt(apic_id()));
	CHECK(ctx, apic_mode_ok(rdmsr(MSR_IA32_APIC_BASE)), "BSP IA32_APIC_BASE %#llx",
	      (unsigned long long)rdmsr(MSR_IA32_APIC_BASE));
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		struct whoami w = {0};
		int err;

		if (!cpu_data[i].online)
			continue;
		counted++;
		if (i == 0)
			continue;
		err = smp_call_sync(i, whoami, &w, CALL_TIMEOUT_US);
		CHECK(ctx, err == 0 && w.ran, "cpu %u: smp_call_sync %s", i, err_name(err));
		CHECK(ctx, w.apic_id == cpu_data[i].apic_id && w.cpuid_id == w.apic_id,
		      "cpu %u: APIC ID %u, runs on %u, CPUID says %u", i, cpu_data[i].apic_id,
		      w.apic_id, w.cpuid_id);
		CHECK(ctx, w.index == i, "cpu %u: this_cpu() says %u", i, w.index);
		CHECK(ctx, apic_mode_ok(w.apic_base), "cpu %u: IA32_APIC_BASE %#llx", i,
		      (unsigned long long)w.apic_base);
		CHECK(ctx, in_madt(w.apic_id), "cpu %u: APIC ID %u not in the MADT", i, w.apic_id);
		CHECK(ctx, smp_cpu_by_apic_id(w.apic_id) == (int)i, "lookup of APIC ID %u",
		      w.apic_id);
	}
	CHECK(ctx, counted == nr_cpus_online, "%u cpu_data entries online, nr_cpus_online %u",
	      counted, nr_cpus_online);
}

struct hold {
	volatile bool release;
	volatile u32 started;
	volatile u32 timed_out;
};

/* Stays busy until released, as a vCPU would. */
static void hold_cpu(void *arg)
{
	struct hold *h = arg;

	__atomic_add_fetch(&h->started, 1, __ATOMIC_RELEASE);
	if (!WAIT_US(h->release, HOLD_LIMIT_US))
		__atomic_add_fetch(&h->timed_out, 1, __ATOMIC_RELEASE);
}

static void nop(void *arg) {}

SELFTEST_ORDER(st_smp_call_async, "boot", "smp-call-async", 20)
{
	struct hold h = {0};
	unsigned aps = nr_cpus_online - 1;

	if (!aps) {
		st_skip(ctx, "only one CPU online");
		return;
	}
	for (unsigned i = 1; i < MAX_CPUS; i++)
		if (cpu_data[i].online)
			CHECK(ctx, smp_call_on(i, hold_cpu, &h) == 0, "queueing on cpu %u", i);
	/* All APs hold at the same time: the calls returned before the work finished. */
	CHECK(ctx, WAIT_US(h.started == aps, CALL_TIMEOUT_US), "%u of %u APs started", h.started,
	      aps);
	for (unsigned i = 1; i < MAX_CPUS; i++) {
		if (!cpu_data[i].online)
			continue;
		CHECK(ctx, smp_cpu_busy(i), "cpu %u not busy", i);
		CHECK(ctx, smp_call_on(i, nop, NULL) == -EBUSY, "second call on busy cpu %u", i);
		CHECK(ctx, smp_call_wait(i, 1000) == -ETIMEDOUT, "wait on busy cpu %u", i);
	}
	CHECK(ctx, smp_call_on(0, nop, NULL) == -EINVAL, "call on the calling CPU accepted");
	CHECK(ctx, smp_call_on(MAX_CPUS, nop, NULL) == -ENODEV, "call on a missing CPU");
	h.release = true;
	for (unsigned i = 1; i < MAX_CPUS; i++) {
		if (!cpu_data[i].online)
			continue;
		CHECK(ctx, smp_call_wait(i, CALL_TIMEOUT_US) == 0, "cpu %u never finished", i);
		CHECK(ctx, !smp_cpu_busy(i), "cpu %u still busy", i);
	}
	CHECK(ctx, h.timed_out == 0, "%u APs were never released", h.timed_out);
}

static volatile u32 pings[MAX_CPUS], pongs;
static int ping_vec = -1, pong_vec = -1;

/* On the target: count, and answer the BSP. */
static void ping_handler(struct trap_frame *f, void *ctx)
{
	pings[this_cpu()->index]++;
	if (this_cpu()->index != 0)
		apic_send_ipi(cpu_data[0].apic_id, (u8)pong_vec);
}

static void pong_handler(struct trap_frame *f, void *ctx)
{
	pongs++;
}

/* Waits with interrupts on until cond holds. */
#define WAIT_IRQ(cond, us)                                                                         \
	({                                                                                         \
		bool __r;                                                                          \
		irq_enable();                                                                      \
		__r = WAIT_US(cond, us);                                                           \
		irq_disable();                                                                     \
		__r;                                                                               \
	})

SELFTEST_ORDER(st_ipi_roundtrip, "boot", "ipi-roundtrip", 20)
{
	u32 before;

	if (ping_vec < 0)
		ping_vec = irq_alloc_vector(ping_handler, NULL);
	if (pong_vec < 0)
		pong_vec = irq_alloc_vector(pong_handler, NULL);
	CHECK(ctx, ping_vec > 0 && pong_vec > 0, "no vectors (%d, %d)", ping_vec, pong_vec);
	if (ping_vec < 0 || pong_vec < 0)
		return;
	/* Two self-IPIs of one vector: the second arrives only if the first was EOI'd. */
	for (unsigned k = 0; k < 2; k++) {
		before = pings[0];
		CHECK(ctx, apic_send_ipi(apic_id(), (u8)ping_vec) == 0, "self-IPI %u", k);
		CHECK(ctx, WAIT_IRQ(pings[0] == before + 1, IPI_TIMEOUT_US),
		      "self-IPI %u not received", k);
	}
	for (unsigned i = 1; i < MAX_CPUS; i++) {
		if (!cpu_data[i].online)
			continue;
		before = pongs;
		CHECK(ctx, apic_send_ipi(cpu_data[i].apic_id, (u8)ping_vec) == 0, "IPI to cpu %u",
		      i);
		CHECK(ctx, WAIT_IRQ(pongs == before + 1, IPI_TIMEOUT_US),
		      "no answer from cpu %u (it saw %u pings)", i, pings[i]);
		CHECK(ctx, pings[i] == 1, "cpu %u saw %u pings", i, pings[i]);
	}
	CHECK(ctx, apic_read_esr() == 0, "APIC error status %#x", apic_read_esr());
}
