/* The host's CMOS RTC (MC146818A and compatibles), read once. The time registers are
 * read only while no update cycle is in progress (register A's UIP clear: an update starts
 * at most 244 us after UIP rises and takes at most 2 ms), twice until two reads agree. */
#define LOG_TAG "rtc"
#include <moat/calendar.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/rtc.h"
#include "vmm/vrtc.h"

#define UIP_WAIT_US 10000u
#define READ_TRIES 5
#define EPOCH_2000 946684800ULL

static u64 wall_epoch = EPOCH_2000, wall_tsc;

static u8 cmos_read(u8 reg)
{
	outb(VRTC_INDEX_PORT, reg);
	return inb(VRTC_DATA_PORT);
}

static int read_clock(struct cmos_clock *c)
{
	if (!WAIT_US(!(cmos_read(CMOS_REG_A) & RTC_A_UIP), UIP_WAIT_US))
		return pr_err(-ETIMEDOUT, "CMOS RTC: update in progress for more than %u us\n",
			      UIP_WAIT_US);
	c->sec = cmos_read(CMOS_SECONDS);
	c->min = cmos_read(CMOS_MINUTES);
	c->hour = cmos_read(CMOS_HOURS);
	c->day = cmos_read(CMOS_DAY);
	c->month = cmos_read(CMOS_MONTH);
	c->year = cmos_read(CMOS_YEAR);
	c->century = cmos_read(CMOS_CENTURY);
	c->b = cmos_read(CMOS_REG_B);
	return 0;
}

int host_rtc_init(void)
{
	struct cmos_clock a, b;
	struct cal_time t;
	int err = -EIO;

	wall_tsc = rdtsc();
	for (unsigned i = 0; i < READ_TRIES; i++) {
		err = read_clock(&a);
		if (!err)
			err = read_clock(&b);
		if (err)
			break;
		if (!memcmp(&a, &b, sizeof(a))) {
			err = 0;
			break;
		}
		err = -EAGAIN;
	}
	if (!err && !cmos_clock_decode(&b, &t))
		err = pr_err(-EINVAL,
			     "CMOS RTC: no valid time (%02x:%02x:%02x %02x.%02x.%02x, register B "
			     "%#x)\n",
			     b.hour, b.min, b.sec, b.day, b.month, b.year, b.b);
	else if (err == -EAGAIN)
		pr_err(err, "CMOS RTC: %u pairs of reads disagreed\n", READ_TRIES);
	if (err) {
		pr_warn("guests' RTCs start at 2000-01-01 00:00:00\n");
		return err;
	}
	wall_tsc = rdtsc();
	wall_epoch = calendar_to_epoch(&t);
	pr_info("host clock %04u-%02u-%02u %02u:%02u:%02u (CMOS RTC, %s, %s)\n", t.year, t.month,
		t.day, t.hour, t.min, t.sec, b.b & RTC_B_DM_BINARY ? "binary" : "BCD",
		b.b & RTC_B_24H ? "24-hour" : "12-hour");
	return 0;
}

void host_rtc_get(u64 *epoch, u64 *tsc)
{
	*epoch = wall_epoch;
	*tsc = wall_tsc;
}
