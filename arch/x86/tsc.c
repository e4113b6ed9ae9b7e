/* TSC frequency: CPUID 0x15 (crystal ratio) or 0x16 (base MHz) when the CPU reports them,
 * otherwise measured against PIT channel 2 over 20 ms. */
#define LOG_TAG "tsc"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define   PIT_CMD_CH2_LOHI_MODE0 0xb0
#define PIT_GATE 0x61
#define   GATE_CH2_ENABLE BIT(0)
#define   GATE_SPEAKER BIT(1)
#define   GATE_CH2_OUT BIT(5)

#define CALIBRATE_MS 20u

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

static u64 tsc_from_pit(void)
{
	u32 ticks = PIT_HZ * CALIBRATE_MS / 1000;
	u64 start, end, spins = 0;
	u8 gate = inb(PIT_GATE);

	/* Gate channel 2 on, speaker off; one-shot count-down, OUT goes high at zero. */
	outb(PIT_GATE, (gate & ~GATE_SPEAKER) | GATE_CH2_ENABLE);
	outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2, ticks & 0xff);
	outb(PIT_CH2, (ticks >> 8) & 0xff);
	start = rdtsc();
	while (!(inb(PIT_GATE) & GATE_CH2_OUT) && ++spins < 100000000ULL)
		;
	end = rdtsc();
	outb(PIT_GATE, gate);
	if (spins >= 100000000ULL)
		return 0;
	source = "PIT";
	return (end - start) * 1000 / CALIBRATE_MS;
}

int time_init(void)
{
	hz = tsc_from_cpuid();
	if (!hz)
		hz = tsc_from_pit();
	if (!hz) {
		hz = 1000000000ULL;
		return pr_err(-ETIMEDOUT, "PIT channel 2 never counted down; assuming a 1 GHz TSC\n");
	}
	pr_info("TSC %llu.%03llu MHz (%s)\n", (unsigned long long)(hz / 1000000),
		(unsigned long long)(hz / 1000 % 1000), source);
	return 0;
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
