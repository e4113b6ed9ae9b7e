/* Local APIC driver (SDM Vol. 3A chapter 10): xAPIC MMIO and x2APIC MSR access, EOI,
 * IPIs through the ICR. */
#define LOG_TAG "apic"
#include <moat/acpi.h>
#include <moat/bits.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/paging.h"
#include "arch/x86/trap.h"

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define X2APIC_MSR_BASE 0x800
#define APIC_ID 0x20
#define XAPIC_ID GENMASK(31, 24)
#define APIC_VERSION 0x30
#define APIC_VERSION_VER GENMASK(7, 0)
#define APIC_VERSION_MAX_LVT GENMASK(23, 16)
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define SVR_VECTOR GENMASK(7, 0)
#define SVR_ENABLE BIT(8)
#define APIC_ISR(v) (0x100 + 0x10 * ((v) / 32)) /* In-Service, 32 vectors a register */
#define APIC_IRR(v) (0x200 + 0x10 * ((v) / 32)) /* Interrupt Request */
#define APIC_VEC_BIT(v) BIT((v) % 32)
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_VECTOR GENMASK(7, 0)
#define ICR_DELIVERY GENMASK(10, 8)
#define DELIVERY_FIXED 0
#define DELIVERY_INIT 5
#define DELIVERY_STARTUP 6
#define ICR_DEST_LOGICAL BIT(11)
#define ICR_BUSY BIT(12)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_SHORTHAND GENMASK(19, 18)
#define XAPIC_ICR_HI_DEST GENMASK(31, 24)
#define X2APIC_ICR_DEST GENMASK(63, 32) /* the 64-bit ICR MSR */
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define LVT_VECTOR GENMASK(7, 0)
#define LVT_MASKED BIT(16)
#define LVT_TIMER_PERIODIC BIT(17)
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define TIMER_DIV_16 0x3

#define XAPIC_MAX_ID 0xfe

/* 8259 PIC data ports: all lines masked, moat routes nothing through them. */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

static bool x2apic;
static bool apic_up; /* apic_init() succeeded */
static u64 xapic_base;
static int halt_vector = -1; /* the timer's vector while cpu_halt_until() waits */

static u32 apic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(X2APIC_MSR_BASE + reg / 16);
	return mmio_read32(xapic_base + reg);
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR_BASE + reg / 16, v);
	else
		mmio_write32(xapic_base + reg, v);
}

bool apic_x2apic_mode(void)
{
	return x2apic;
}

u32 apic_id(void)
{
	u32 id = apic_read(APIC_ID);

	return x2apic ? id : (u32)FIELD_GET(XAPIC_ID, id);
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

u32 apic_read_esr(void)
{
	/* The ESR is updated by a write (SDM 10.5.3). */
	apic_write(APIC_ESR, 0);
	return apic_read(APIC_ESR);
}

u32 apic_tpr(void)
{
	return apic_read(APIC_TPR);
}

bool apic_enabled(void)
{
	return apic_up && (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ENABLE);
}

void apic_timer_setup(u8 vector)
{
	apic_write(APIC_LVT_TIMER, (u32)(LVT_MASKED | FIELD_PREP(LVT_VECTOR, vector)));
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
}

u64 apic_timer_count_for(u32 us)
{
	u32 left;

	apic_write(APIC_TIMER_INIT, 0xffffffff);
	udelay(us);
	left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	return 0xffffffffULL - left;
}

void apic_timer_oneshot(u8 vector, u32 ticks)
{
	apic_write(APIC_LVT_TIMER, (u32)FIELD_PREP(LVT_VECTOR, vector));
	apic_write(APIC_TIMER_INIT, ticks);
}

void apic_timer_stop(u8 vector)
{
	apic_write(APIC_TIMER_INIT, 0);
	apic_write(APIC_LVT_TIMER, (u32)(LVT_MASKED | FIELD_PREP(LVT_VECTOR, vector)));
}

static int icr_send(u32 dest, u32 lo)
{
	u64 flags;
	int err = 0;

	if (!x2apic && dest > XAPIC_MAX_ID)
		return pr_err(-EINVAL, "APIC ID %u cannot be addressed in xAPIC mode\n", dest);
	flags = irq_save();
	if (x2apic) {
		/* One 64-bit MSR write; there is no delivery status in x2APIC mode. */
		wrmsr(X2APIC_MSR_BASE + APIC_ICR_LO / 16, FIELD_PREP(X2APIC_ICR_DEST, dest) | lo);
	} else if (!WAIT_US(!(apic_read(APIC_ICR_LO) & ICR_BUSY), APIC_ICR_TIMEOUT_US)) {
		err = -ETIMEDOUT;
	} else {
		apic_write(APIC_ICR_HI, (u32)FIELD_PREP(XAPIC_ICR_HI_DEST, dest));
		apic_write(APIC_ICR_LO, lo);
		if (!WAIT_US(!(apic_read(APIC_ICR_LO) & ICR_BUSY), APIC_ICR_TIMEOUT_US))
			err = -ETIMEDOUT;
	}
	irq_restore(flags);
	if (err)
		return pr_err(err, "ICR still busy after %u us (IPI %#x to APIC ID %u)\n",
			      APIC_ICR_TIMEOUT_US, lo, dest);
	return 0;
}

int apic_send_ipi(u32 dest, u8 vector)
{
	return icr_send(dest, (u32)(FIELD_PREP(ICR_VECTOR, vector) |
				    FIELD_PREP(ICR_DELIVERY, DELIVERY_FIXED) | ICR_LEVEL_ASSERT));
}

int apic_send_init(u32 dest)
{
	return icr_send(dest, (u32)(FIELD_PREP(ICR_DELIVERY, DELIVERY_INIT) | ICR_LEVEL_ASSERT));
}

int apic_send_sipi(u32 dest, u64 start_page)
{
	if (start_page & (PAGE_SIZE - 1) || start_page >= MiB)
		return pr_err(-EINVAL, "start-up page %#llx is not a page below 1 MiB\n",
			      (unsigned long long)start_page);
	return icr_send(dest, (u32)(FIELD_PREP(ICR_VECTOR, start_page >> PAGE_SHIFT) |
				    FIELD_PREP(ICR_DELIVERY, DELIVERY_STARTUP) | ICR_LEVEL_ASSERT));
}

/* The interrupt only ends the HLT; the EOI comes from the hook. */
static void halt_irq(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
}

/* Enables the APIC in the chosen mode: xAPIC first, then x2APIC (SDM 10.12.5). */
static void enable_mode(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	if (x2apic && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
}

/* The same state on every CPU: all LVT entries masked, TPR 0, spurious vector set. */
static void local_setup(void)
{
	unsigned max_lvt = (unsigned)FIELD_GET(APIC_VERSION_MAX_LVT, apic_read(APIC_VERSION));

	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
	apic_write(APIC_LVT_ERROR, LVT_MASKED);
	if (max_lvt >= 4)
		apic_write(APIC_LVT_PERF, LVT_MASKED);
	if (max_lvt >= 5)
		apic_write(APIC_LVT_THERMAL, LVT_MASKED);
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, (u32)(SVR_ENABLE | FIELD_PREP(SVR_VECTOR, VEC_SPURIOUS)));
	apic_read_esr();
	apic_eoi();
}

/* x2APIC when the CPU has it, and required when an APIC ID does not fit xAPIC's 8 bits. */
static void choose_mode(void)
{
	const struct acpi_cpu *cpus;
	unsigned n = acpi_cpus(&cpus);
	u32 max_id = 0;
	bool has_x2 = cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_X2APIC;

	for (unsigned i = 0; i < n; i++)
		max_id = MAX(max_id, cpus[i].apic_id);
	x2apic = has_x2 || (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC);
	if (!x2apic && max_id > XAPIC_MAX_ID)
		pr_warn("APIC ID %u needs x2APIC, which this CPU lacks: such CPUs stay off\n",
			max_id);
}

int apic_init(void)
{
	u64 madt_base = acpi_lapic_address();
	int err;

	if (!(cpuid(CPUID_LEAF_FEATURES, 0).edx & CPUID_1_EDX_APIC))
		return pr_err(-ENODEV, "CPU has no local APIC: one CPU, no IPIs\n");
	choose_mode();
	xapic_base = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR;
	if (madt_base && madt_base != xapic_base)
		pr_warn("MADT puts the local APIC at %#llx, IA32_APIC_BASE at %#llx; using the "
			"MSR\n",
			(unsigned long long)madt_base, (unsigned long long)xapic_base);
	if (!x2apic) {
		err = paging_map_mmio(xapic_base, PAGE_SIZE);
		if (err)
			return pr_err(err, "cannot map the local APIC page at %#llx\n",
				      (unsigned long long)xapic_base);
	}
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	enable_mode();
	local_setup();
	irq_eoi_hook = apic_eoi;
	halt_vector = irq_alloc_vector(halt_irq, NULL);
	if (halt_vector < 0)
		pr_warn("no vector for cpu_halt_until(): halted CPUs wait for another interrupt\n");
	apic_up = true;
	pr_info("%s mode, BSP APIC ID %u, version %#llx\n", x2apic ? "x2APIC" : "xAPIC", apic_id(),
		(unsigned long long)FIELD_GET(APIC_VERSION_VER, apic_read(APIC_VERSION)));
	return 0;
}

void apic_init_ap(void)
{
	enable_mode();
	local_setup();
}

#define APIC_TIMER_CALIBRATE_US 10000
#define APIC_TIMER_MAX_TSC_DELTA BIT(40) /* longer waits are cut (callers re-check) */

static u64 timer_per_ms; /* ticks at divide-by-16, measured once against the TSC */

u64 apic_timer_ticks_per_ms(void)
{
	u64 per_ms = __atomic_load_n(&timer_per_ms, __ATOMIC_RELAXED);

	if (!per_ms) {
		apic_write(APIC_LVT_TIMER, LVT_MASKED);
		apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
		per_ms = apic_timer_count_for(APIC_TIMER_CALIBRATE_US) /
			 (APIC_TIMER_CALIBRATE_US / 1000);
		__atomic_store_n(&timer_per_ms, per_ms, __ATOMIC_RELAXED);
	}
	return per_ms;
}

u32 apic_timer_ticks_for_tsc(u64 delta)
{
	u64 tsc_per_ms = tsc_hz() / 1000, per_ms = apic_timer_ticks_per_ms(), ticks;

	if (!tsc_per_ms || !per_ms)
		return 1;
	delta = MIN(delta, APIC_TIMER_MAX_TSC_DELTA);
	/* rounded up, plus one tick for the phase of the count: never before `delta` */
	ticks = (delta * per_ms + tsc_per_ms - 1) / tsc_per_ms + 1;
	return (u32)MIN(ticks, 0xffffffffULL);
}

bool cpu_halt_until(u64 tsc)
{
	u64 now = rdtsc(), limit = tsc_hz() / 1000000 * CPU_HALT_MAX_US;

	if (tsc && now >= tsc)
		return true;
	if (halt_vector >= 0)
		apic_timer_oneshot((u8)halt_vector,
				   apic_timer_ticks_for_tsc(tsc ? MIN(tsc - now, limit) : limit));
	/* STI's shadow covers the HLT: an interrupt already pending ends it at once */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	if (halt_vector >= 0)
		apic_timer_stop((u8)halt_vector);
	return tsc && rdtsc() >= tsc;
}

int apic_timer_periodic(u8 vector, u64 period_us)
{
	u64 per_ms = apic_timer_ticks_per_ms(), ticks;

	apic_timer_setup(vector);
	if (!per_ms)
		return pr_err(-EIO, "the local APIC timer does not count\n");
	ticks = period_us * per_ms / 1000;
	apic_write(APIC_LVT_TIMER, (u32)(LVT_TIMER_PERIODIC | FIELD_PREP(LVT_VECTOR, vector)));
	apic_write(APIC_TIMER_INIT, (u32)MIN(MAX(ticks, 1ULL), 0xffffffffULL));
	return 0;
}

static bool vector_pending(u8 vector)
{
	return (apic_read(APIC_IRR(vector)) | apic_read(APIC_ISR(vector))) & APIC_VEC_BIT(vector);
}

/* STI's one-instruction shadow ends at the NOP: a requested vector is taken there through
 * the IDT (its handler runs), and the next check sees its bits clear. */
static bool drained(u8 vector)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return !vector_pending(vector);
}

int apic_drain_vector(u8 vector, u64 timeout_us)
{
	if (!WAIT_US(drained(vector), timeout_us))
		return pr_err(-ETIMEDOUT,
			      "vector %#x still requested or in service after %llu us\n", vector,
			      (unsigned long long)timeout_us);
	return 0;
}
