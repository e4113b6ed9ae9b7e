/* Suite `platform`: the devices moat emulates on ports for every guest, judged against the
 * TSC, whose rate moat reports (guest_info.tsc_khz) and which the guest reads unchanged:
 * PIT channel 2 counting down and raising OUT2 as Linux's TSC calibrations use it, the ACPI
 * PM timer's rate, and the CMOS RTC's time and second. Each reading is bracketed by two
 * TSC reads, so a device off by a fraction of a percent fails. */
#include "guests/lib/guest.h"

#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LATCH 0x80
#define PIT_CMD_CH2_MODE0_LOHI 0xb0
#define PORT61 0x61
#define PORT61_GATE2 BIT(0)
#define PORT61_SPEAKER BIT(1)
#define PORT61_OUT2 BIT(5)
#define PIT_HZ 1193182u
#define PM_TMR 0x608
#define PM1_CNT 0x604
#define PM1_CNT_SCI_EN BIT(0)
#define PM_TMR_HZ 3579545u
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32
#define RTC_NVRAM_BYTE 0x40
#define RTC_A_UIP BIT(7)
#define RTC_B_DM_BINARY BIT(2)
#define RTC_B_24H BIT(1)
#define RTC_D_VRT BIT(7)
#define RTC_D_RESERVED6 BIT(6) /* Linux's mc146818_get_time insists on 0 */

#define WINDOW_MS 30 /* PIT channel 2 wraps after 55 ms */
#define SAMPLE_TRIES 8
#define RATE_TRIES 5

static u64 tsc_hz(void)
{
	return (u64)guest_info.tsc_khz * 1000;
}

/* Device ticks in `tsc` TSC ticks (windows of at most a few seconds: no overflow). */
static u64 dev_ticks(u64 tsc, u32 rate)
{
	return tsc * rate / tsc_hz();
}

static void spin_tsc(u64 ticks)
{
	u64 end = guest_rdtsc() + ticks;

	while (guest_rdtsc() < end)
		__asm__ volatile("pause");
}

struct sample {
	u64 before, after; /* the device was read between these TSC values */
	u32 value;
};

static struct sample pit_ch2_latched(void)
{
	struct sample s;

	s.before = guest_rdtsc();
	guest_outb(PIT_CMD, PIT_CMD_CH2_LATCH);
	s.value = guest_inb(PIT_CH2);
	s.value |= (u32)guest_inb(PIT_CH2) << 8;
	s.after = guest_rdtsc();
	return s;
}

static struct sample pm_timer(void)
{
	struct sample s;

	s.before = guest_rdtsc();
	s.value = guest_inl(PM_TMR);
	s.after = guest_rdtsc();
	return s;
}

/* The narrowest of a few reads (an emulator may deschedule the vCPU during any of them). */
static struct sample best(struct sample (*read)(void))
{
	struct sample s = read();

	for (unsigned i = 1; i < SAMPLE_TRIES; i++) {
		struct sample t = read();

		if (t.after - t.before < s.after - s.before)
			s = t;
	}
	return s;
}

/* A counter of `rate` Hz (counting down when `down`, wrapping at `wrap`) read twice
 * WINDOW_MS of TSC time apart must have advanced as the TSC says, to within the TSC time
 * its two reads took. That holds however long the reads took; to make the check sharp the
 * attempt whose reads took least is judged (an emulator may deschedule the vCPU). */
static void check_rate(const char *what, struct sample (*read)(void), u32 rate, u64 wrap, bool down)
{
	u64 window = tsc_hz() / 1000 * WINDOW_MS, got, least, most, width = ~0ULL;
	struct sample a = {0}, b = {0};

	for (unsigned i = 0; i < RATE_TRIES && width > window / 200; i++) {
		struct sample x = best(read), y;

		spin_tsc(window);
		y = best(read);
		if ((x.after - x.before) + (y.after - y.before) < width) {
			a = x;
			b = y;
			width = (x.after - x.before) + (y.after - y.before);
		}
	}
	least = dev_ticks(b.before - a.after, rate);
	most = dev_ticks(b.after - a.before, rate);
	if (most - least >= wrap / 2) {
		test_skip("every pair of reads took too long to judge the count modulo its wrap");
		return;
	}
	got = (down ? a.value - b.value : b.value - a.value) & (wrap - 1);
	/* the advance with this remainder modulo `wrap` that is at least least - 1 */
	if (got + 1 < least)
		got += (least - 1 - got + wrap - 1) / wrap * wrap;
	guest_printf("platform: %s advanced %llu ticks in %llu-%llu TSC ticks\n", what,
		     (unsigned long long)got, (unsigned long long)(b.before - a.after),
		     (unsigned long long)(b.after - a.before));
	check(got + 1 >= least && got <= most + 1,
	      "%s advanced %llu ticks (mod %llu) where the TSC allows %llu-%llu at %u Hz", what,
	      (unsigned long long)got, (unsigned long long)wrap, (unsigned long long)least,
	      (unsigned long long)most, rate);
}

static void test_pit_countdown(void)
{
	test_begin("platform", "pit-ch2-countdown");
	if (!tsc_hz()) {
		test_skip("moat reported no TSC rate");
		test_end();
		return;
	}
	/* as Linux's quick_pit_calibrate: gate on, speaker off, mode 0 from 0xffff (mode 0
	 * counts on through 0: the drop is known modulo 65536) */
	guest_outb(PORT61, (u8)((guest_inb(PORT61) & ~PORT61_SPEAKER) | PORT61_GATE2));
	guest_outb(PIT_CMD, PIT_CMD_CH2_MODE0_LOHI);
	guest_outb(PIT_CH2, 0xff);
	guest_outb(PIT_CH2, 0xff);
	check_rate("PIT channel 2", pit_ch2_latched, PIT_HZ, 1ULL << 16, true);
	test_end();
}

/* As Linux's pit_calibrate_tsc: mode 0 with count N, then OUT2 on port 0x61 rises N + 1
 * PIT clocks after the write. The rise lies between the last read that saw OUT2 low and
 * the first that saw it high: attempts where those are more than 0.5 % of the count apart
 * are made again. */
static void test_pit_out2(void)
{
	const u32 n = PIT_HZ / 20; /* 50 ms, Linux's longer calibration */
	u64 hz = tsc_hz(), w0 = 0, w1 = 0, prev = 0, seen = 0, width = ~0ULL;
	bool early = false, missed = false;

	test_begin("platform", "pit-ch2-out2");
	if (!hz) {
		test_skip("moat reported no TSC rate");
		test_end();
		return;
	}
	guest_outb(PORT61, (u8)((guest_inb(PORT61) & ~PORT61_SPEAKER) | PORT61_GATE2));
	for (unsigned i = 0; i < RATE_TRIES && width > hz / 20 / 200 && !missed; i++) {
		u64 x0 = guest_rdtsc(), x1, low, high = 0, limit;

		guest_outb(PIT_CMD, PIT_CMD_CH2_MODE0_LOHI);
		guest_outb(PIT_CH2, (u8)n);
		guest_outb(PIT_CH2, (u8)(n >> 8));
		x1 = guest_rdtsc();
		early |= !!(guest_inb(PORT61) & PORT61_OUT2);
		low = x1;
		limit = x1 + hz / 10;
		/* Missed only when a read made at or past the limit still sees OUT2 low: a vCPU
		 * descheduled past the limit before its first read has not missed anything. */
		for (u64 t = guest_rdtsc();; t = guest_rdtsc()) {
			if (guest_inb(PORT61) & PORT61_OUT2) {
				high = guest_rdtsc();
				break;
			}
			if (t >= limit)
				break;
			low = t;
		}
		missed = !high;
		if (high && (high - low) + (x1 - x0) < width) {
			w0 = x0;
			w1 = x1;
			prev = low;
			seen = high;
			width = (high - low) + (x1 - x0);
		}
	}
	check(!early, "OUT2 high right after the count was written");
	check(!missed, "OUT2 still low 100 ms after a count of %u", n);
	if (!missed) {
		guest_printf("platform: OUT2 rose %llu-%llu TSC ticks after a count of %u\n",
			     (unsigned long long)(prev - w1), (unsigned long long)(seen - w0), n);
		check(seen >= w0 + (n + 1) * hz / PIT_HZ,
		      "OUT2 high %llu TSC ticks after the write, before %u clocks",
		      (unsigned long long)(seen - w0), n + 1);
		check(prev <= w1 + (n + 2) * hz / PIT_HZ,
		      "OUT2 still low %llu TSC ticks after the write, past %u clocks",
		      (unsigned long long)(prev - w1), n + 2);
	}
	test_end();
}

static void test_pm_timer(void)
{
	test_begin("platform", "pm-timer-rate");
	if (!tsc_hz()) {
		test_skip("moat reported no TSC rate");
		test_end();
		return;
	}
	check(guest_inw(PM1_CNT) & PM1_CNT_SCI_EN, "PM1_CNT %#x: SCI_EN clear", guest_inw(PM1_CNT));
	check_rate("the PM timer", pm_timer, PM_TMR_HZ, 1ULL << 32, false);
	test_end();
}

static u8 cmos(u8 reg)
{
	guest_outb(CMOS_INDEX, reg);
	return guest_inb(CMOS_DATA);
}

static void cmos_write(u8 reg, u8 v)
{
	guest_outb(CMOS_INDEX, reg);
	guest_outb(CMOS_DATA, v);
}

static bool bcd_ok(u8 v, unsigned lo, unsigned hi)
{
	unsigned d = (v >> 4) * 10 + (v & 0xf);

	return (v & 0xf) <= 9 && (v >> 4) <= 9 && d >= lo && d <= hi;
}

static u8 from_bcd(u8 v)
{
	return (u8)((v >> 4) * 10 + (v & 0xf));
}

/* What Linux's mc146818_get_time checks and reads, in BCD and in binary. */
static void test_rtc_time(void)
{
	u8 b = cmos(RTC_REG_B), sec, min, hour, day, mon, year, cent, bsec, bmin;

	test_begin("platform", "rtc-time");
	check((cmos(RTC_REG_D) & (RTC_D_VRT | RTC_D_RESERVED6)) == RTC_D_VRT, "register D %#x",
	      cmos(RTC_REG_D));
	check(!(cmos(RTC_REG_A) & RTC_A_UIP), "register A %#x: update in progress",
	      cmos(RTC_REG_A));
	check(b == RTC_B_24H, "register B %#x at reset, not BCD 24-hour", b);
	do {
		sec = cmos(RTC_SECONDS);
		min = cmos(RTC_MINUTES);
		hour = cmos(RTC_HOURS);
		day = cmos(RTC_DAY);
		mon = cmos(RTC_MONTH);
		year = cmos(RTC_YEAR);
		cent = cmos(RTC_CENTURY);
	} while (sec != cmos(RTC_SECONDS));
	guest_printf("platform: RTC reads %02x%02x-%02x-%02x %02x:%02x:%02x\n", cent, year, mon,
		     day, hour, min, sec);
	check(bcd_ok(sec, 0, 59) && bcd_ok(min, 0, 59) && bcd_ok(hour, 0, 23) &&
		      bcd_ok(day, 1, 31) && bcd_ok(mon, 1, 12) && bcd_ok(year, 0, 99),
	      "not a BCD time: %02x-%02x-%02x %02x:%02x:%02x", year, mon, day, hour, min, sec);
	check(cent == 0x20 || cent == 0x21, "century byte %#x", cent);
	/* binary, as the guest selects in register B: the same time */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	bsec = cmos(RTC_SECONDS);
	bmin = cmos(RTC_MINUTES);
	check((bmin * 60u + bsec + 3600 - (from_bcd(min) * 60u + from_bcd(sec))) % 3600 <= 2,
	      "binary %u:%u after BCD %02x:%02x", bmin, bsec, min, sec);
	check(cmos(RTC_YEAR) == from_bcd(year), "binary year %u, BCD %02x", cmos(RTC_YEAR), year);
	cmos_write(RTC_REG_B, b);
	/* the clock is not the guest's to set; its NVRAM is */
	cmos_write(RTC_YEAR, (u8)(year ^ 0x11));
	check(cmos(RTC_YEAR) == year, "year %#x after writing %#x", cmos(RTC_YEAR), year ^ 0x11);
	cmos_write(RTC_NVRAM_BYTE, (u8)(0x5a ^ guest_info.id));
	check(cmos(RTC_NVRAM_BYTE) == (u8)(0x5a ^ guest_info.id), "NVRAM byte %#x",
	      cmos(RTC_NVRAM_BYTE));
	test_end();
}

/* When the RTC's seconds register next changes: after `*lo`, at or before `*hi` (the TSC
 * around the last read that saw the old value and the first that saw the new one); false
 * if it did not change within 1.5 s. */
static bool rtc_next_second(u64 *lo, u64 *hi)
{
	u64 limit = (*lo = guest_rdtsc()) + tsc_hz() * 3 / 2;
	u8 s = cmos(RTC_SECONDS);

	for (u64 t = guest_rdtsc(); t < limit;) {
		u8 now = cmos(RTC_SECONDS);
		u64 after = guest_rdtsc();

		if (now != s) {
			*hi = after;
			return true;
		}
		*lo = t;
		t = after;
	}
	return false;
}

/* Two changes of the seconds register one TSC second apart: the second lies between the
 * TSC brackets of the two changes, however wide an emulator makes them; of three tries the
 * sharpest is judged. */
static void test_rtc_second(void)
{
	u64 hz = tsc_hz(), lo1, hi1, lo2, hi2, least = 0, most = ~0ULL;
	bool ok = true;

	test_begin("platform", "rtc-second-is-tsc-second");
	if (!hz) {
		test_skip("moat reported no TSC rate");
		test_end();
		return;
	}
	for (unsigned i = 0; i < 3 && ok && most - least > hz / 100; i++) {
		ok = rtc_next_second(&lo1, &hi1) && rtc_next_second(&lo2, &hi2);
		if (ok && (hi2 - lo1) - (lo2 - hi1) < most - least) {
			least = lo2 - hi1;
			most = hi2 - lo1;
		}
	}
	check(ok, "the RTC's seconds did not change within 1.5 s");
	if (ok) {
		guest_printf("platform: an RTC second lasted %llu-%llu TSC ticks\n",
			     (unsigned long long)least, (unsigned long long)most);
		check(least <= hz && most >= hz,
		      "an RTC second lasted %llu-%llu TSC ticks at %llu Hz",
		      (unsigned long long)least, (unsigned long long)most, (unsigned long long)hz);
	}
	test_end();
}

void platform_suite(void)
{
	test_pit_countdown();
	test_pit_out2();
	test_pm_timer();
	test_rtc_time();
	test_rtc_second();
}
