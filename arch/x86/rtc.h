/* The host's wall clock: its CMOS RTC read once at boot, with the TSC of that moment. */
#ifndef ARCH_X86_RTC_H
#define ARCH_X86_RTC_H

#include <moat/calendar.h>
#include <moat/types.h>

/* The host RTC's registers as read (arch/x86/rtc.c). */
struct cmos_clock {
	u8 sec, min, hour, day, month, year, century, b;
};

/* The time they hold, by register B's data mode and hour form; the century byte counts
 * only when it holds 19-21 (else years 70-99 are 19xx, the others 20xx). False when a field
 * is not a valid BCD digit pair or the date is not one. Pure (arch/x86/rtc_decode.c). */
bool cmos_clock_decode(const struct cmos_clock *c, struct cal_time *t);

/* Reads the CMOS RTC (boot CPU, before the guests start). 0, or a negative errno when it
 * gives no valid time: then the wall clock is 2000-01-01 00:00:00 at this moment. */
int host_rtc_init(void);
/* Seconds since 1970-01-01 00:00:00 in the RTC's zone, at TSC `*tsc`. */
void host_rtc_get(u64 *epoch, u64 *tsc);

#endif
