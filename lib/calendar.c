/* Days from and to civil dates by eras of 400 years (146097 days), March-based years so
 * that the leap day ends the year. */
#include <moat/calendar.h>

#define SECS_PER_DAY 86400u
#define DAYS_PER_ERA 146097u
#define DAYS_1970 719468u /* 1970-03-01 based day number of 1970-01-01 */

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const u8 days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool calendar_valid(const struct cal_time *t)
{
	return t->year >= 1970 && t->year <= 9999 && t->month >= 1 && t->month <= 12 &&
	       t->day >= 1 && t->day <= month_days(t->year, t->month) && t->hour < 24 &&
	       t->min < 60 && t->sec < 60;
}

u64 calendar_to_epoch(const struct cal_time *t)
{
	unsigned y = t->year - (t->month <= 2), era = y / 400, yoe = y - era * 400;
	unsigned mp = (t->month + 9) % 12; /* March = 0 */
	unsigned doy = (153 * mp + 2) / 5 + t->day - 1;
	u64 days = (u64)era * DAYS_PER_ERA + yoe * 365 + yoe / 4 - yoe / 100 + doy - DAYS_1970;

	return days * SECS_PER_DAY + t->hour * 3600u + t->min * 60u + t->sec;
}

void calendar_from_epoch(u64 secs, struct cal_time *t)
{
	u64 days = secs / SECS_PER_DAY, z = days + DAYS_1970;
	unsigned rem = (unsigned)(secs % SECS_PER_DAY);
	unsigned era = (unsigned)(z / DAYS_PER_ERA), doe = (unsigned)(z - (u64)era * DAYS_PER_ERA);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned month = mp < 10 ? mp + 3 : mp - 9;

	t->year = (u16)(era * 400 + yoe + (month <= 2));
	t->month = (u8)month;
	t->day = (u8)(doy - (153 * mp + 2) / 5 + 1);
	t->hour = (u8)(rem / 3600);
	t->min = (u8)(rem / 60 % 60);
	t->sec = (u8)(rem % 60);
	t->wday = (u8)((days + 4) % 7); /* 1970-01-01 was a Thursday */
}
