/* The SVM guest timer: SVM has no preemption timer, so a one-shot local APIC timer interrupt
 * forces an INTR #VMEXIT (V_INTR_MASKING with host IF=1 while the guest runs, see
 * svm_entry.asm). It serves the watchdog (a guest that runs longer than its budget without
 * exiting) and the TSC deadline of set_deadline(), whichever comes first. */
#define LOG_TAG "svm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/trap.h"

static int wd_vector = -1;
static volatile bool wd_fired[MAX_CPUS];

/* The EOI comes from the APIC driver's hook after the handler. */
static void wd_irq(struct trap_frame *f, void *ctx)
{
	wd_fired[this_cpu()->index] = true;
}

/* On each CPU that runs guests, after apic_init()/apic_init_ap() enabled its local APIC. */
int svm_watchdog_init(void)
{
	static bool reported;

	if (!apic_enabled())
		return pr_err(-ENODEV, "local APIC disabled: no watchdog for guests\n");
	if (wd_vector < 0) {
		wd_vector = irq_alloc_vector(wd_irq, NULL);
		if (wd_vector < 0)
			return pr_err(wd_vector, "no interrupt vector for the watchdog\n");
	}
	apic_timer_setup((u8)wd_vector);
	if (!apic_timer_ticks_per_ms())
		return pr_err(-EIO, "local APIC timer does not count\n");
	if (!reported) {
		reported = true;
		pr_info("watchdog: local APIC timer vector %#x, %llu ticks/ms\n", wd_vector,
			(unsigned long long)apic_timer_ticks_per_ms());
	}
	return 0;
}

enum svm_timer svm_timer_arm(u64 watchdog_us, u64 deadline)
{
	u64 wd, dl = 0, now;
	enum svm_timer which = SVM_TIMER_WATCHDOG;

	if (!watchdog_us && !deadline)
		return SVM_TIMER_NONE;
	wd = watchdog_us / 1000 * apic_timer_ticks_per_ms();
	if (watchdog_us)
		wd = MIN(MAX(wd, 1ULL), 0xffffffffULL);
	if (deadline) {
		now = rdtsc();
		dl = deadline > now ? apic_timer_ticks_for_tsc(deadline - now) : 1;
		if (!watchdog_us || dl <= wd) {
			wd = dl;
			which = SVM_TIMER_DEADLINE;
		}
	}
	wd_fired[this_cpu()->index] = false;
	apic_timer_oneshot((u8)wd_vector, (u32)wd);
	return which;
}

void svm_watchdog_disarm(void)
{
	apic_timer_stop((u8)wd_vector);
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
