/* The guest's CMOS RTC (vmm/vrtc.c) against the MC146818A datasheet: time registers in BCD
 * or binary as register B selects, 24- and 12-hour forms, UIP never set, VRT set, register
 * C read as no flags, writes to the clock ignored, NVRAM kept per RTC; the clock advancing
 * with the TSC. And the calendar (lib/calendar.c) against dates worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <moat/calendar.h>
#include "vmm/vrtc.h"

#define HZ 3000000000ULL
#define TSC0 5000000ULL

static const struct {
	u64 epoch;
	struct cal_time t; /* wday 0 = Sunday */
} dates[] = {
	{0, {1970, 1, 1, 0, 0, 0, 4}},
	{951825600, {2000, 2, 29, 12, 0, 0, 2}},
	{1709251199, {2024, 2, 29, 23, 59, 59, 4}},
	{1798761599, {2026, 12, 31, 23, 59, 59, 4}},
	{1798761600, {2027, 1, 1, 0, 0, 0, 5}},
	{4102444799, {2099, 12, 31, 23, 59, 59, 4}},
	{253402300799, {9999, 12, 31, 23, 59, 59, 5}},
};

static void test_calendar(void **state)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dates); i++) {
		struct cal_time t;

		calendar_from_epoch(dates[i].epoch, &t);
		assert_memory_equal(&t, &dates[i].t, sizeof(t));
		assert_true(calendar_valid(&t));
		assert_int_equal(calendar_to_epoch(&t), dates[i].epoch);
	}
	assert_false(calendar_valid(&(struct cal_time){2023, 2, 29, 0, 0, 0, 0}));
	assert_true(calendar_valid(&(struct cal_time){2000, 2, 29, 0, 0, 0, 0}));
	assert_false(calendar_valid(&(struct cal_time){2100, 2, 29, 0, 0, 0, 0}));
	assert_false(calendar_valid(&(struct cal_time){2024, 4, 31, 0, 0, 0, 0}));
	assert_false(calendar_valid(&(struct cal_time){2024, 13, 1, 0, 0, 0, 0}));
	assert_false(calendar_valid(&(struct cal_time){2024, 1, 1, 24, 0, 0, 0}));
	assert_false(calendar_valid(&(struct cal_time){1969, 12, 31, 0, 0, 0, 0}));
	(void)state;
}

static u8 rd(struct vrtc *r, u64 now, u8 reg)
{
	vrtc_select(r, reg);
	return vrtc_read(r, now);
}

static void wr(struct vrtc *r, u8 reg, u8 val)
{
	vrtc_select(r, reg);
	vrtc_write(r, val);
}

/* 2026-12-31 23:59:59, a Thursday, in BCD then binary; one second later a new year */
static void test_bcd_binary(void **state)
{
	struct vrtc r;

	vrtc_init(&r, 1798761599, TSC0, HZ);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_B), 0x02); /* BCD, 24-hour */
	assert_int_equal(rd(&r, TSC0, CMOS_SECONDS), 0x59);
	assert_int_equal(rd(&r, TSC0, CMOS_MINUTES), 0x59);
	assert_int_equal(rd(&r, TSC0, CMOS_HOURS), 0x23);
	assert_int_equal(rd(&r, TSC0, CMOS_WEEKDAY), 5);
	assert_int_equal(rd(&r, TSC0, CMOS_DAY), 0x31);
	assert_int_equal(rd(&r, TSC0, CMOS_MONTH), 0x12);
	assert_int_equal(rd(&r, TSC0, CMOS_YEAR), 0x26);
	assert_int_equal(rd(&r, TSC0, 0x32), 0x20);
	assert_int_equal(rd(&r, TSC0 + HZ - 1, CMOS_SECONDS), 0x59);
	assert_int_equal(rd(&r, TSC0 + HZ, CMOS_SECONDS), 0x00);
	assert_int_equal(rd(&r, TSC0 + HZ, CMOS_YEAR), 0x27);
	assert_int_equal(rd(&r, TSC0 + HZ, CMOS_MONTH), 0x01);
	assert_int_equal(rd(&r, TSC0 + HZ, CMOS_WEEKDAY), 6);
	wr(&r, CMOS_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rd(&r, TSC0, CMOS_SECONDS), 59);
	assert_int_equal(rd(&r, TSC0, CMOS_HOURS), 23);
	assert_int_equal(rd(&r, TSC0, CMOS_DAY), 31);
	assert_int_equal(rd(&r, TSC0, CMOS_YEAR), 26);
	assert_int_equal(rd(&r, TSC0, 0x32), 20);
	/* 61 minutes and 2 seconds later */
	assert_int_equal(rd(&r, TSC0 + 3662 * HZ, CMOS_MINUTES), 1);
	assert_int_equal(rd(&r, TSC0 + 3662 * HZ, CMOS_SECONDS), 1);
	assert_int_equal(rd(&r, TSC0 + 3662 * HZ, CMOS_HOURS), 1);
	(void)state;
}

static void test_12_hour(void **state)
{
	struct vrtc r;

	vrtc_init(&r, 1798761600, TSC0, HZ); /* midnight */
	wr(&r, CMOS_REG_B, 0);		     /* BCD, 12-hour */
	assert_int_equal(rd(&r, TSC0, CMOS_HOURS), 0x12);
	assert_int_equal(rd(&r, TSC0 + 3600 * HZ, CMOS_HOURS), 0x01);
	assert_int_equal(rd(&r, TSC0 + 12 * 3600 * HZ, CMOS_HOURS), 0x80 | 0x12);
	assert_int_equal(rd(&r, TSC0 + 13 * 3600 * HZ, CMOS_HOURS), 0x80 | 0x01);
	assert_int_equal(rd(&r, TSC0 + 23 * 3600 * HZ, CMOS_HOURS), 0x80 | 0x11);
	wr(&r, CMOS_REG_B, RTC_B_DM_BINARY); /* binary, 12-hour */
	assert_int_equal(rd(&r, TSC0 + 23 * 3600 * HZ, CMOS_HOURS), 0x80 | 11);
	(void)state;
}

static void test_status_and_nvram(void **state)
{
	struct vrtc r, other;

	vrtc_init(&r, 951825600, TSC0, HZ);
	vrtc_init(&other, 951825600, TSC0, HZ);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_A), 0x26);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_D), 0x80);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_C), 0);
	/* UIP cannot be set; the divider and rate bits are the guest's */
	wr(&r, CMOS_REG_A, 0xff);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_A), 0x7f);
	wr(&r, CMOS_REG_C, 0xff);
	wr(&r, CMOS_REG_D, 0);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_C), 0);
	assert_int_equal(rd(&r, TSC0, CMOS_REG_D), 0x80);
	/* the clock is not the guest's to set: SET, then new time, then SET clear */
	wr(&r, CMOS_REG_B, RTC_B_SET | RTC_B_24H);
	wr(&r, CMOS_SECONDS, 0x30);
	wr(&r, CMOS_HOURS, 0x05);
	wr(&r, CMOS_YEAR, 0x99);
	wr(&r, 0x32, 0x19);
	wr(&r, CMOS_REG_B, RTC_B_24H);
	assert_int_equal(rd(&r, TSC0, CMOS_SECONDS), 0x00);
	assert_int_equal(rd(&r, TSC0, CMOS_HOURS), 0x12);
	assert_int_equal(rd(&r, TSC0, CMOS_YEAR), 0x00);
	assert_int_equal(rd(&r, TSC0, 0x32), 0x20);
	/* alarms and NVRAM keep what is written, in this RTC only; bit 7 of the index (NMI
	 * mask on a PC) selects nothing */
	wr(&r, CMOS_SECONDS_ALARM, 0x45);
	wr(&r, 0x0e, 0xa5);
	wr(&r, 0x7f, 0x5a);
	assert_int_equal(rd(&r, TSC0, CMOS_SECONDS_ALARM), 0x45);
	assert_int_equal(rd(&r, TSC0, 0x0e), 0xa5);
	assert_int_equal(rd(&r, TSC0, 0x80 | 0x7f), 0x5a);
	assert_int_equal(rd(&other, TSC0, 0x0e), 0);
	assert_int_equal(rd(&other, TSC0, 0x7f), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_bcd_binary),
		cmocka_unit_test(test_12_hour),
		cmocka_unit_test(test_status_and_nvram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
