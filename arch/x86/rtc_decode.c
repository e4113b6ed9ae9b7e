/* The CMOS RTC's registers to a civil time (MC146818A: BCD or binary per register B's DM
 * bit, 12-hour form with bit 7 of the hours for PM unless register B's 24/12 bit is set). */
#include "arch/x86/rtc.h"
#include "vmm/vrtc.h"

static bool from_bcd(u8 v, u8 *out)
{
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		return false;
	*out = (u8)((v >> 4) * 10 + (v & 0xf));
	return true;
}

bool cmos_clock_decode(const struct cmos_clock *c, struct cal_time *t)
{
	bool bin = c->b & RTC_B_DM_BINARY, pm = !(c->b & RTC_B_24H) && (c->hour & RTC_HOURS_PM);
	u8 f[6] = {c->sec, c->min,   (u8)(c->hour & ~(pm ? RTC_HOURS_PM : 0)),
		   c->day, c->month, c->year};
	u8 century = c->century;

	for (unsigned i = 0; i < 6 && !bin; i++)
		if (!from_bcd(f[i], &f[i]))
			return false;
	if (!(c->b & RTC_B_24H)) {
		if (!f[2] || f[2] > 12)
			return false;
		f[2] = (u8)(f[2] % 12 + (pm ? 12 : 0));
	}
	/* the century byte only where it holds one */
	if (!bin && !from_bcd(c->century, &century))
		century = 0;
	if (century < 19 || century > 21)
		century = f[5] < 70 ? 20 : 19;
	if (f[5] > 99)
		return false;
	*t = (struct cal_time){.year = (u16)(century * 100 + f[5]),
			       .month = f[4],
			       .day = f[3],
			       .hour = f[2],
			       .min = f[1],
			       .sec = f[0]};
	return calendar_valid(t);
}
