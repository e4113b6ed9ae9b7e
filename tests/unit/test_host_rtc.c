/* The host RTC's registers to a time (arch/x86/rtc_decode.c): BCD and binary, 24- and
 * 12-hour forms, the century byte where it holds one, garbage refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/rtc.h"

static void want(const struct cmos_clock *c, unsigned y, unsigned mo, unsigned d, unsigned h,
		 unsigned mi, unsigned s)
{
	struct cal_time t;

	assert_true(cmos_clock_decode(c, &t));
	assert_int_equal(t.year, y);
	assert_int_equal(t.month, mo);
	assert_int_equal(t.day, d);
	assert_int_equal(t.hour, h);
	assert_int_equal(t.min, mi);
	assert_int_equal(t.sec, s);
}

static void test_forms(void **state)
{
	struct cal_time t;

	/* BCD, 24-hour, century byte 0x20 */
	want(&(struct cmos_clock){0x59, 0x58, 0x23, 0x31, 0x12, 0x26, 0x20, 0x02}, 2026, 12, 31, 23,
	     58, 59);
	/* binary, 24-hour */
	want(&(struct cmos_clock){59, 58, 23, 31, 12, 26, 20, 0x06}, 2026, 12, 31, 23, 58, 59);
	/* BCD, 12-hour: 12 AM is 0, 12 PM is 12, 11 PM is 23 */
	want(&(struct cmos_clock){0, 0, 0x12, 1, 1, 0x27, 0x20, 0x00}, 2027, 1, 1, 0, 0, 0);
	want(&(struct cmos_clock){0, 0, 0x92, 1, 1, 0x27, 0x20, 0x00}, 2027, 1, 1, 12, 0, 0);
	want(&(struct cmos_clock){0, 0, 0x91, 1, 1, 0x27, 0x20, 0x00}, 2027, 1, 1, 23, 0, 0);
	/* binary, 12-hour */
	want(&(struct cmos_clock){0, 0, 0x80 | 11, 1, 1, 27, 20, 0x04}, 2027, 1, 1, 23, 0, 0);
	/* no century byte (0 or 0xff): 70-99 are 19xx, the rest 20xx */
	want(&(struct cmos_clock){0, 0, 0, 1, 1, 0x99, 0xff, 0x02}, 1999, 1, 1, 0, 0, 0);
	want(&(struct cmos_clock){0, 0, 0, 1, 1, 0x26, 0x00, 0x02}, 2026, 1, 1, 0, 0, 0);
	/* refused: a nibble above 9, an hour 0 in 12-hour form, 29 February 2026, all-ones */
	assert_false(cmos_clock_decode(&(struct cmos_clock){0x5a, 0, 0, 1, 1, 0x26, 0x20, 2}, &t));
	assert_false(cmos_clock_decode(&(struct cmos_clock){0, 0, 0x00, 1, 1, 0x26, 0x20, 0}, &t));
	assert_false(
		cmos_clock_decode(&(struct cmos_clock){0, 0, 0, 0x29, 0x02, 0x26, 0x20, 2}, &t));
	assert_false(cmos_clock_decode(
		&(struct cmos_clock){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, &t));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
