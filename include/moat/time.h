/* Time from the TSC. Every hardware wait in moat is bounded with these. */
#ifndef MOAT_TIME_H
#define MOAT_TIME_H

#include <moat/types.h>

/* Calibrates the TSC (CPUID leaf 0x15/0x16 where given, otherwise against the PIT). */
int time_init(void);
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
