/* The guest's MC146818A: the time registers are computed at each read from the TSC, so no
 * update cycle is ever in progress (register A's UIP reads 0) and every read is of a
 * consistent time; writes to them are ignored (the guest cannot set moat's clock, nor
 * another guest's). */
#include <moat/calendar.h>
#include <moat/string.h>
#include "vmm/vrtc.h"

void vrtc_init(struct vrtc *r, u64 epoch0, u64 tsc0, u64 hz)
{
	memset(r, 0, sizeof(*r));
	r->hz = hz;
	r->tsc0 = tsc0;
	r->epoch0 = epoch0;
	r->ram[CMOS_REG_A] = RTC_A_DEFAULT;
	r->ram[CMOS_REG_B] = RTC_B_DEFAULT;
}

void vrtc_select(struct vrtc *r, u8 index)
{
	r->index = (u8)FIELD_GET(CMOS_INDEX_REG, index);
}

static u8 bcd(u8 v)
{
	return (u8)((v / 10) << 4 | v % 10);
}

/* A time field as register B's data mode wants it. */
static u8 field(const struct vrtc *r, unsigned v)
{
	return r->ram[CMOS_REG_B] & RTC_B_DM_BINARY ? (u8)v : bcd((u8)v);
}

static u8 hours(const struct vrtc *r, unsigned h)
{
	unsigned h12 = h % 12 ? h % 12 : 12;

	if (r->ram[CMOS_REG_B] & RTC_B_24H)
		return field(r, h);
	return (u8)(field(r, h12) | (h >= 12 ? RTC_HOURS_PM : 0));
}

/* The registers that read the running clock. */
static bool is_clock_reg(u8 idx)
{
	switch (idx) {
	case CMOS_SECONDS:
	case CMOS_MINUTES:
	case CMOS_HOURS:
	case CMOS_WEEKDAY:
	case CMOS_DAY:
	case CMOS_MONTH:
	case CMOS_YEAR:
	case CMOS_CENTURY: return true;
	default: return false;
	}
}

static void now_time(const struct vrtc *r, u64 now, struct cal_time *t)
{
	u64 secs = r->hz && now > r->tsc0 ? (now - r->tsc0) / r->hz : 0;

	calendar_from_epoch(r->epoch0 + secs, t);
}

u8 vrtc_read(struct vrtc *r, u64 now)
{
	struct cal_time t;

	switch (r->index) {
	case CMOS_REG_A: return r->ram[CMOS_REG_A] & (u8)~RTC_A_UIP;
	case CMOS_REG_C: return 0;
	case CMOS_REG_D: return RTC_D_VRT;
	}
	if (!is_clock_reg(r->index))
		return r->ram[r->index];
	now_time(r, now, &t);
	switch (r->index) {
	case CMOS_SECONDS: return field(r, t.sec);
	case CMOS_MINUTES: return field(r, t.min);
	case CMOS_HOURS: return hours(r, t.hour);
	case CMOS_WEEKDAY: return field(r, t.wday + 1u);
	case CMOS_DAY: return field(r, t.day);
	case CMOS_MONTH: return field(r, t.month);
	case CMOS_YEAR: return field(r, t.year % 100u);
	default: return field(r, t.year / 100u);
	}
}

void vrtc_write(struct vrtc *r, u8 val)
{
	/* the clock and the flags are not the guest's to set */
	if (is_clock_reg(r->index) || r->index == CMOS_REG_C || r->index == CMOS_REG_D)
		return;
	if (r->index == CMOS_REG_A)
		r->ram[CMOS_REG_A] = val & (u8)~RTC_A_UIP;
	else
		r->ram[r->index] = val;
}
