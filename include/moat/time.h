/* Time from the TSC. Every hardware wait in moat is bounded with these. */
#ifndef MOAT_TIME_H
#define MOAT_TIME_H

#include <moat/types.h>

/* Calibrates the TSC against the PIT (a CPUID 0x15/0x16 claim is used only if the PIT
 * agrees). -ETIMEDOUT when the PIT gave no usable window: then, once ACPI is known, */
int time_init(void);
/* calibrates against the ACPI PM timer instead. 0, or -ENODEV without a PM timer that
 * counts. */
int time_init_pm_timer(void);
/* TSC ticks per second measured against the ACPI PM timer (median of five 25 ms windows),
 * 0 if there is none or it does not count. */
u64 tsc_hz_from_pm_timer(void);
/* Which clock the TSC was calibrated against ("PIT", "CPUID 0x15", "ACPI PM timer"). */
const char *tsc_source(void);
u64 tsc_hz(void);
u64 time_us(void); /* microseconds since an arbitrary point */
void udelay(u64 us);
void mdelay(u64 ms);

/* Polls `cond` until true or `us` microseconds pass; evaluates to true on success.
 *   if (!WAIT_US(mmio_read32(r) & READY, 1000)) return pr_err(-ETIMEDOUT, ...); */
#define WAIT_US(cond, us)                                                                          \
	({                                                                                         \
		u64 __deadline = time_us() + (us);                                                 \
		bool __ok;                                                                         \
		for (;;) {                                                                         \
			if ((cond)) {                                                              \
				__ok = true;                                                       \
				break;                                                             \
			}                                                                          \
			if (time_us() > __deadline) {                                              \
				__ok = (cond);                                                     \
				break;                                                             \
			}                                                                          \
			__builtin_ia32_pause();                                                    \
		}                                                                                  \
		__ok;                                                                              \
	})

#endif
