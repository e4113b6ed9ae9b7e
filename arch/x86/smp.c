/* AP bring-up (SDM Vol. 3A 8.4.4: INIT-SIPI-SIPI) and the per-CPU work slot. */
#define LOG_TAG "smp"
#include <moat/acpi.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trampoline.h"
#include "arch/x86/trap.h"

/* Delays of the start-up sequence (SDM Vol. 3A 8.4.4.1). */
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
/* Highest end of the trampoline page: below the EBDA, never page 0. */
#define TRAMPOLINE_MAX 0x9f000

enum slot_state { SLOT_FREE, SLOT_CLAIMED, SLOT_QUEUED, SLOT_RUNNING };

struct work_slot {
	smp_fn_t fn;
	void *arg;
	u32 state; /* enum slot_state, accessed atomically */
	u64 completed;
};

static struct work_slot slots[MAX_CPUS];
static u64 ist_base[MAX_CPUS];
static u64 tramp_page;
static u64 bsp_cr0, bsp_cr4;
static int wake_vector = -1;

/* The wake-up IPI only ends the target's HLT; its EOI is sent by trap_dispatch. */
static void wake_handler(struct trap_frame *f, void *ctx) {}

static u32 slot_state(const struct work_slot *w)
{
	return __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
}

static void __noreturn ap_idle(struct percpu *c)
{
	struct work_slot *w = &slots[c->index];

	for (;;) {
		irq_disable();
		if (slot_state(w) == SLOT_QUEUED) {
			__atomic_store_n(&w->state, SLOT_RUNNING, __ATOMIC_RELEASE);
			w->fn(w->arg);
			irq_disable();
			w->completed++;
			__atomic_store_n(&w->state, SLOT_FREE, __ATOMIC_RELEASE);
			continue;
		}
		irq_drain_queued();
		/* STI's one-instruction shadow: a wake-up arriving after the checks above is
		 * taken by this HLT, never lost. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

void ap_main(struct percpu *c)
{
	cpu_local_init(c, ist_base[c->index]);
	idt_load();
	write_cr4(bsp_cr4);
	write_cr0(bsp_cr0);
	apic_init_ap();
	if (apic_id() != c->apic_id)
		pr_warn("cpu %u: started as APIC ID %u but reads APIC ID %u\n", c->index,
			c->apic_id, apic_id());
	pr_info("cpu %u (APIC ID %u) online\n", c->index, c->apic_id);
	__atomic_add_fetch(&nr_cpus_online, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	ap_idle(c);
}

/* Offset of a symbol of the trampoline blob, and where it lives in the copied page. */
static u64 tramp_offset(const u8 *sym)
{
	return (u64)((uintptr_t)sym - (uintptr_t)trampoline_start);
}

static void *tramp_addr(const u8 *sym)
{
	return (void *)(uintptr_t)(tramp_page + tramp_offset(sym));
}

static int trampoline_setup(const struct boot_info *bi)
{
	u64 size = tramp_offset(trampoline_end);
	u64 cr3 = read_cr3();

	tramp_page = bi->trampoline;
	if (!tramp_page)
		tramp_page = pmm_alloc_range(&hv_pmm, PAGE_SIZE, PAGE_SIZE, TRAMPOLINE_MAX);
	if (!tramp_page)
		return pr_err(-ENOMEM, "no free page below %#x for the AP trampoline\n",
			      TRAMPOLINE_MAX);
	if (tramp_page >= MiB || !IS_ALIGNED(tramp_page, PAGE_SIZE))
		return pr_err(-EINVAL, "trampoline page %#llx is not a page below 1 MiB\n",
			      (unsigned long long)tramp_page);
	if (cr3 >= 4 * GiB)
		return pr_err(-EINVAL,
			      "page tables at %#llx: the trampoline needs them below 4 GiB\n",
			      (unsigned long long)cr3);
	memcpy((void *)(uintptr_t)tramp_page, trampoline_start, size);
	*(u32 *)tramp_addr(trampoline_gdtr_base) = (u32)(uintptr_t)tramp_addr(trampoline_gdt);
	bsp_cr0 = read_cr0();
	bsp_cr4 = read_cr4();
	return 0;
}

static void tramp_prepare(struct trampoline_params *p, const struct percpu *c)
{
	p->cr3 = (u32)read_cr3();
	p->efer = (u32)(EFER_LME | (rdmsr(MSR_EFER) & EFER_NXE));
	p->stack_top = c->stack_top;
	p->percpu = (u64)(uintptr_t)c;
	p->alive = 0;
	mfence();
}

static bool ap_alive(const struct trampoline_params *p)
{
	return __atomic_load_n(&p->alive, __ATOMIC_ACQUIRE);
}

static bool ap_online(const struct percpu *c)
{
	return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

/* INIT, 10 ms, SIPI, 200 us, and a second SIPI only if the first was not taken. */
static int send_startup(u32 apic_id, const struct trampoline_params *p)
{
	int err = apic_send_init(apic_id);

	if (err)
		return err;
	udelay(INIT_DELAY_US);
	err = apic_send_sipi(apic_id, tramp_page);
	if (err)
		return err;
	udelay(SIPI_DELAY_US);
	if (!ap_alive(p))
		err = apic_send_sipi(apic_id, tramp_page);
	return err;
}

static int alloc_stacks(unsigned idx, struct percpu *c)
{
	u64 stack = pages_alloc(CPU_STACK_SIZE, PAGE_SIZE);
	u64 ist = pages_alloc(3 * IST_STACK_SIZE, PAGE_SIZE);

	if (!stack || !ist) {
		if (stack)
			pages_free(stack, CPU_STACK_SIZE);
		if (ist)
			pages_free(ist, 3 * IST_STACK_SIZE);
		return pr_err(-ENOMEM, "no memory for the stacks of cpu %u\n", idx);
	}
	c->stack_top = stack + CPU_STACK_SIZE;
	ist_base[idx] = ist;
	return 0;
}

static void free_stacks(unsigned idx, struct percpu *c)
{
	pages_free(c->stack_top - CPU_STACK_SIZE, CPU_STACK_SIZE);
	pages_free(ist_base[idx], 3 * IST_STACK_SIZE);
	c->stack_top = 0;
	ist_base[idx] = 0;
}

static int start_ap(unsigned idx, u32 apic_id)
{
	struct percpu *c = &cpu_data[idx];
	struct trampoline_params *p = tramp_addr(trampoline_params);
	int err;

	memset(c, 0, sizeof(*c));
	c->index = idx;
	c->apic_id = apic_id;
	err = alloc_stacks(idx, c);
	if (err)
		return err;
	tramp_prepare(p, c);
	err = send_startup(apic_id, p);
	if (!err && !WAIT_US(ap_online(c), SMP_AP_CALLIN_US))
		err = pr_err(
			-ETIMEDOUT, "cpu %u (APIC ID %u) %s within %u ms; left out\n", idx, apic_id,
			ap_alive(p) ? "reached 64-bit mode but did not report in" : "never started",
			SMP_AP_CALLIN_US / 1000);
	if (err) {
		/* Park it in wait-for-SIPI so it cannot run later on a reused stack. */
		apic_send_init(apic_id);
		udelay(INIT_DELAY_US);
		free_stacks(idx, c);
		memset(c, 0, sizeof(*c));
	}
	return err;
}

static void report_online(void)
{
	char ids[8 * MAX_CPUS];
	unsigned n = 0;

	ids[0] = 0;
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (cpu_data[i].online)
			n += (unsigned)snprintf(ids + n, sizeof(ids) - n, "%s%u", n ? " " : "",
						cpu_data[i].apic_id);
	pr_info("%u CPUs online, APIC IDs %s\n", nr_cpus_online, ids);
}

/* Whether this MADT CPU can be started here; says why not. */
static bool startable(const struct acpi_cpu *cpu, unsigned next_idx)
{
	if (!cpu->enabled)
		return false;
	if (next_idx >= MAX_CPUS) {
		pr_warn("APIC ID %u left out: moat supports %u CPUs\n", cpu->apic_id, MAX_CPUS);
		return false;
	}
	if (!apic_x2apic_mode() && cpu->apic_id > 0xfe) {
		pr_warn("APIC ID %u left out: it needs x2APIC mode\n", cpu->apic_id);
		return false;
	}
	return true;
}

unsigned smp_init(const struct boot_info *bi)
{
	const struct acpi_cpu *cpus;
	unsigned n = acpi_cpus(&cpus), next = 1;
	u32 bsp = apic_id();
	int err;

	cpu_data[0].apic_id = bsp;
	err = irq_alloc_vector(wake_handler, NULL);
	if (err < 0) {
		pr_err(err, "no interrupt vector for wake-ups; APs stay off\n");
		goto out;
	}
	wake_vector = err;
	if (n > 1) {
		err = trampoline_setup(bi);
		if (err) {
			pr_err(err, "no AP trampoline; APs stay off\n");
			goto out;
		}
		pr_info("trampoline at %#llx (%s), %u CPUs in the MADT\n",
			(unsigned long long)tramp_page,
			bi->trampoline ? "reserved by the loader" : "from the allocator",
			acpi_cpus_enabled());
	}
	for (unsigned i = 0; i < n; i++) {
		if (cpus[i].apic_id == bsp || !startable(&cpus[i], next))
			continue;
		if (start_ap(next, cpus[i].apic_id) == 0)
			next++;
	}
out:
	report_online();
	return nr_cpus_online;
}

int smp_call_on(unsigned cpu, smp_fn_t fn, void *arg)
{
	struct work_slot *w;
	u32 expected = SLOT_FREE;

	if (cpu >= MAX_CPUS || !ap_online(&cpu_data[cpu]))
		return -ENODEV;
	if (cpu == this_cpu()->index)
		return pr_err(-EINVAL, "cpu %u asked to queue work on itself\n", cpu);
	w = &slots[cpu];
	if (!__atomic_compare_exchange_n(&w->state, &expected, SLOT_CLAIMED, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	w->fn = fn;
	w->arg = arg;
	__atomic_store_n(&w->state, SLOT_QUEUED, __ATOMIC_RELEASE);
	return apic_send_ipi(cpu_data[cpu].apic_id, (u8)wake_vector);
}

int smp_wake(unsigned cpu)
{
	if (cpu >= MAX_CPUS || wake_vector < 0)
		return -ENODEV;
	return apic_send_ipi(cpu_data[cpu].apic_id, (u8)wake_vector);
}

bool smp_cpu_busy(unsigned cpu)
{
	return cpu < MAX_CPUS && slot_state(&slots[cpu]) != SLOT_FREE;
}

int smp_call_wait(unsigned cpu, u64 timeout_us)
{
	if (cpu >= MAX_CPUS)
		return -ENODEV;
	if (!WAIT_US(slot_state(&slots[cpu]) == SLOT_FREE, timeout_us))
		return -ETIMEDOUT;
	return 0;
}

int smp_call_sync(unsigned cpu, smp_fn_t fn, void *arg, u64 timeout_us)
{
	int err = smp_call_on(cpu, fn, arg);

	if (err)
		return err;
	err = smp_call_wait(cpu, timeout_us);
	if (err)
		return pr_err(err, "cpu %u did not finish its function within %llu us\n", cpu,
			      (unsigned long long)timeout_us);
	return 0;
}

int smp_cpu_by_apic_id(u32 id)
{
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (ap_online(&cpu_data[i]) && cpu_data[i].apic_id == id)
			return (int)i;
	return -ENODEV;
}
