/* TSC frequency: measured against PIT channel 2 (the median of several 10 ms windows), and
 * CPUID 0x15 (crystal ratio) or 0x16 (base MHz) where the CPU reports them, used only when
 * the measurement agrees (checked against the ACPI PM timer by the tsc-frequency
 * self-test). */
#define LOG_TAG "tsc"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/tsc_check.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xb0
#define PIT_CMD_LATCH_CH2 0x80
#define PIT_GATE 0x61
#define GATE_CH2_ENABLE BIT(0)
#define GATE_SPEAKER BIT(1)
#define GATE_CH2_OUT BIT(5)

#define CALIBRATE_MS 10u
#define CALIBRATE_WINDOWS 5
#define CALIBRATE_TRIES 20
#define SAMPLE_TRIES 4
#define MAX_SPINS 10000000u

static u64 hz;
static const char *source = "none";

static u64 tsc_from_cpuid(void)
{
	struct cpuid_regs r;

	if (cpuid(0, 0).eax < 0x15)
		return 0;
	r = cpuid(0x15, 0);
	if (r.eax && r.ebx && r.ecx) {
		source = "CPUID 0x15";
		return (u64)r.ecx * r.ebx / r.eax;
	}
	if (cpuid(0, 0).eax >= 0x16 && (cpuid(0x16, 0).eax & 0xffff)) {
		source = "CPUID 0x16";
		return (u64)(cpuid(0x16, 0).eax & 0xffff) * 1000000;
	}
	return 0;
}

/* One (TSC, PIT channel 2 count) pair: the best of a few tries, so that a pause of the
 * CPU (an emulator thread descheduled) between the two reads is not taken as time. */
static void pit_sample(u64 *tsc, u16 *count)
{
	u64 best = ~0ULL;

	for (unsigned i = 0; i < SAMPLE_TRIES; i++) {
		u64 a = rdtsc(), b;
		u16 c;

		outb(PIT_CMD, PIT_CMD_LATCH_CH2);
		c = inb(PIT_CH2);
		c |= (u16)(inb(PIT_CH2) << 8);
		b = rdtsc();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*count = c;
		}
	}
}

/* TSC ticks per PIT tick over about CALIBRATE_MS, from the counts actually elapsed (not
 * from when the loop noticed the end, which a descheduled emulator thread delays), or 0.
 * The 16-bit count wraps after 55 ms, and a window stretched past that by a descheduled
 * emulator thread would read far too fast: in mode 0 OUT rises at the terminal count and
 * stays high until the channel is reprogrammed, so such a window is recognised and
 * dropped. */
static u64 tsc_pit_window(bool stall)
{
	u32 target = PIT_HZ * CALIBRATE_MS / 1000;
	u64 t0, t1;
	u16 c0, c1;
	u8 gate = inb(PIT_GATE);
	u32 spins = 0;
	bool wrapped;

	/* Gate channel 2 on, speaker off; mode 0 counts down from 0xffff. */
	outb(PIT_GATE, (gate & ~GATE_SPEAKER) | GATE_CH2_ENABLE);
	outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2, 0xff);
	outb(PIT_CH2, 0xff);
	pit_sample(&t0, &c0);
	/* Test hook: a stall past the terminal count and on below the start count, as a
	 * descheduled emulator thread makes: the count alone then shows less than a window. */
	while (stall && !(inb(PIT_GATE) & GATE_CH2_OUT) && ++spins < MAX_SPINS)
		;
	while (stall && ++spins < MAX_SPINS) {
		pit_sample(&t1, &c1);
		if ((u16)(c0 - c1) < target)
			break;
	}
	spins = 0;
	do {
		pit_sample(&t1, &c1);
	} while ((u16)(c0 - c1) < target && ++spins < MAX_SPINS);
	wrapped = inb(PIT_GATE) & GATE_CH2_OUT;
	outb(PIT_GATE, gate);
	if (spins >= MAX_SPINS || c0 == c1 || wrapped)
		return 0;
	return (t1 - t0) * PIT_HZ / (u16)(c0 - c1);
}

static u64 tsc_from_pit(void)
{
	unsigned stalled =
		TEST_HOOK_PRESENT(tsc_stalled_windows) ? test_hooks->tsc_stalled_windows() : 0;
	u64 w[CALIBRATE_WINDOWS];
	unsigned i = 0, tries = 0;

	while (i < CALIBRATE_WINDOWS && tries++ < CALIBRATE_TRIES) {
		w[i] = tsc_pit_window(tries <= stalled);
		if (!w[i])
			continue;
		/* insertion sort */
		for (unsigned k = i++; k > 0 && w[k] < w[k - 1]; k--) {
			u64 t = w[k];

			w[k] = w[k - 1];
			w[k - 1] = t;
		}
	}
	if (tries > CALIBRATE_WINDOWS)
		pr_info("PIT calibration: %u of %u windows dropped (wrapped or stalled)\n",
			tries - i, tries);
	if (i < CALIBRATE_WINDOWS)
		return 0;
	source = "PIT";
	return w[CALIBRATE_WINDOWS / 2];
}

static void log_mhz(char *buf, size_t size, u64 v)
{
	snprintf(buf, size, "%llu.%03llu MHz", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v / 1000 % 1000));
}

/* The CPUID claim is used only when the PIT agrees with it (tsc_cross_check). */
int time_init(void)
{
	u64 claimed = tsc_from_cpuid(), measured;
	const char *claim_source = source;
	char c[32], m[32];

	measured = tsc_from_pit();
	log_mhz(c, sizeof(c), claimed);
	log_mhz(m, sizeof(m), measured);
	switch (tsc_cross_check(claimed, measured)) {
	case TSC_USE_CLAIM:
		hz = claimed;
		source = claim_source;
		if (measured)
			pr_info("%s claims %s, the PIT measures %s: the claim is used\n",
				claim_source, c, m);
		else
			pr_warn("%s claims %s, not checked: no usable PIT windows\n", claim_source,
				c);
		break;
	case TSC_USE_MEASUREMENT:
		hz = measured;
		if (claimed)
			pr_warn("%s claims %s but the PIT measures %s (more than %u%% apart): the "
				"measurement is used\n",
				claim_source, c, m, TSC_CLAIM_TOLERANCE_PERCENT);
		break;
	case TSC_NONE:
		hz = 1000000000ULL;
		return pr_err(-ETIMEDOUT,
			      "no %u usable PIT channel 2 windows in %u tries; assuming a 1 GHz "
			      "TSC\n",
			      CALIBRATE_WINDOWS, CALIBRATE_TRIES);
	}
	log_mhz(c, sizeof(c), hz);
	pr_info("TSC %s (%s)\n", c, source);
	return 0;
}

int time_init_pm_timer(void)
{
	u64 measured = tsc_hz_from_pm_timer();
	char m[32];

	if (!measured)
		return pr_err(-ENODEV,
			      "no ACPI PM timer that counts: the TSC stays uncalibrated\n");
	hz = measured;
	source = "ACPI PM timer";
	log_mhz(m, sizeof(m), hz);
	pr_warn("the PIT gave no usable window: TSC %s from the ACPI PM timer\n", m);
	return 0;
}

const char *tsc_source(void)
{
	return source;
}

u64 tsc_hz(void)
{
	return hz;
}

u64 time_us(void)
{
	u64 t = rdtsc();

	return hz ? t / (hz / 1000000 ? hz / 1000000 : 1) : t / 1000;
}

void udelay(u64 us)
{
	u64 end = time_us() + us;

	while (time_us() < end)
		cpu_relax();
}

void mdelay(u64 ms)
{
	udelay(ms * 1000);
}
