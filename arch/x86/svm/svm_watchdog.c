/* The SVM watchdog: SVM has no preemption timer, so a one-shot local APIC timer interrupt
 * forces an INTR #VMEXIT (V_INTR_MASKING with host IF=1 while the guest runs, see
 * svm_entry.asm) when a guest runs longer than its budget without exiting. */
#define LOG_TAG "svm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/trap.h"

/* Local APIC registers (SDM Vol. 3A 11.4.1); x2APIC MSR = 0x800 + offset / 16. */
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_MASKED BIT(16)
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define APIC_TIMER_DIV_16 0x3
#define X2APIC_MSR_BASE 0x800
#define CALIBRATE_US 10000

static int wd_vector = -1;
static u64 wd_ticks_per_ms;
static volatile bool wd_fired[MAX_CPUS];

static u32 apic_read(u32 reg)
{
	if (apic_x2apic_mode())
		return (u32)rdmsr(X2APIC_MSR_BASE + reg / 16);
	return *(volatile u32 *)(uintptr_t)((rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR) + reg);
}

static void apic_write(u32 reg, u32 val)
{
	if (apic_x2apic_mode())
		wrmsr(X2APIC_MSR_BASE + reg / 16, val);
	else
		*(volatile u32 *)(uintptr_t)((rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR) + reg) =
			val;
}

/* The EOI comes from the APIC driver's hook after the handler. */
static void wd_irq(struct trap_frame *f, void *ctx)
{
	wd_fired[this_cpu()->index] = true;
}

/* On each CPU that runs guests, after apic_init()/apic_init_ap() enabled its local APIC. */
int svm_watchdog_init(void)
{
	u32 left;

	if (!(rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ENABLE))
		return pr_err(-ENODEV, "local APIC disabled: no watchdog for guests\n");
	if (wd_vector < 0) {
		wd_vector = irq_alloc_vector(wd_irq, NULL);
		if (wd_vector < 0)
			return pr_err(wd_vector, "no interrupt vector for the watchdog\n");
	}
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | (u32)wd_vector);
	apic_write(APIC_TIMER_DIV, APIC_TIMER_DIV_16);
	if (!wd_ticks_per_ms) {
		apic_write(APIC_TIMER_INIT, 0xffffffff);
		udelay(CALIBRATE_US);
		left = apic_read(APIC_TIMER_CUR);
		apic_write(APIC_TIMER_INIT, 0);
		wd_ticks_per_ms = (0xffffffffULL - left) / (CALIBRATE_US / 1000);
		if (!wd_ticks_per_ms)
			return pr_err(-EIO, "local APIC timer does not count\n");
		pr_info("watchdog: local APIC timer vector %#x, %llu ticks/ms\n", wd_vector,
			(unsigned long long)wd_ticks_per_ms);
	}
	return 0;
}

void svm_watchdog_arm(u64 us)
{
	u64 ticks = us / 1000 * wd_ticks_per_ms;

	wd_fired[this_cpu()->index] = false;
	apic_write(APIC_LVT_TIMER, (u32)wd_vector);
	apic_write(APIC_TIMER_INIT, (u32)MIN(MAX(ticks, 1ULL), 0xffffffffULL));
}

void svm_watchdog_disarm(void)
{
	apic_write(APIC_TIMER_INIT, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | (u32)wd_vector);
}

bool svm_watchdog_service(void)
{
	u32 cpu = this_cpu()->index;
	bool fired;

	/* Lets an interrupt held pending since the #VMEXIT be delivered now. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	fired = wd_fired[cpu];
	wd_fired[cpu] = false;
	return fired;
}
