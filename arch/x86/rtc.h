/* The host's wall clock: its CMOS RTC read once at boot, with the TSC of that moment. */
#ifndef ARCH_X86_RTC_H
#define ARCH_X86_RTC_H

#include <moat/types.h>

/* Reads the CMOS RTC (boot CPU, before the guests start). 0, or a negative errno when it
 * gives no valid time: then the wall clock is 2000-01-01 00:00:00 at this moment. */
int host_rtc_init(void);
/* Seconds since 1970-01-01 00:00:00 in the RTC's zone, at TSC `*tsc`. */
void host_rtc_get(u64 *epoch, u64 *tsc);

#endif
