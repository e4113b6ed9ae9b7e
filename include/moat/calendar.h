/* Civil time (proleptic Gregorian, UTC or whatever zone the clock keeps) <-> seconds since
 * 1970-01-01 00:00:00. Pure: the host's RTC reader and the guests' virtual RTC share it. */
#ifndef MOAT_CALENDAR_H
#define MOAT_CALENDAR_H

#include <moat/types.h>

struct cal_time {
	u16 year; /* 1970.. */
	u8 month; /* 1..12 */
	u8 day;	  /* 1..31 */
	u8 hour, min, sec;
	u8 wday; /* 0 = Sunday (output of calendar_from_epoch only) */
};

/* Whether each field is in range for its month (leap years included), year 1970-9999. */
bool calendar_valid(const struct cal_time *t);
u64 calendar_to_epoch(const struct cal_time *t);
void calendar_from_epoch(u64 secs, struct cal_time *t);

#endif
