/* The guest's ACPI fixed hardware (vmm/vpm.c) against ACPI 6.5 4.8: the PM timer's rate and
 * 32-bit wrap, TMR_STS on the top bit's toggle, PM1 status write-1-to-clear, enable bits,
 * PM1 control with SCI_EN fixed and SLP_EN starting the sleep state SLP_TYP names; and the
 * reset requests (vmm/vreset.c): RST_CNT's RST_CPU edge, the 8042 reset pulse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vpm.h"
#include "vmm/vreset.h"

#define HZ 2100000000ULL /* a 2.1 GHz TSC */
#define T0 123456789ULL

/* The spec's timer: 3.579545 MHz, 32 bits wide, computed independently in 128 bits. */
static u32 model_timer(u64 tsc_since_t0)
{
	return (u32)((unsigned __int128)tsc_since_t0 * 3579545 / HZ);
}

static u32 rd(struct vpm *pm, u64 now, u16 port, u8 size)
{
	u32 v = 0xdeadbeef;

	assert_true(vpm_read(pm, now, port, size, &v));
	return v;
}

static enum vpm_event wr(struct vpm *pm, u64 now, u16 port, u8 size, u32 val)
{
	enum vpm_event ev;

	assert_true(vpm_write(pm, now, port, size, val, &ev));
	return ev;
}

static void test_timer_rate(void **state)
{
	struct vpm pm;
	const u64 at[] = {0, 1, 586, 587, HZ / 1000, HZ, 7 * HZ + 12345, 1199 * HZ + 99};

	vpm_init(&pm, T0, HZ);
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
		assert_int_equal(rd(&pm, T0 + at[i], 0x608, 4), model_timer(at[i]));
	/* one second is 3579545 ticks, exactly */
	assert_int_equal(rd(&pm, T0 + HZ, 0x608, 4), 3579545);
	/* byte and word reads see the same counter */
	assert_int_equal(rd(&pm, T0 + HZ, 0x608, 1), 3579545 & 0xff);
	assert_int_equal(rd(&pm, T0 + HZ, 0x609, 2), (3579545 >> 8) & 0xffff);
	assert_int_equal(rd(&pm, T0 + HZ, 0x60b, 1), 3579545 >> 24);
	/* read-only: a write changes nothing */
	assert_int_equal(wr(&pm, T0 + HZ, 0x608, 4, 0), VPM_NONE);
	assert_int_equal(rd(&pm, T0 + HZ, 0x608, 4), 3579545);
	(void)state;
}

static void test_timer_wrap_and_status(void **state)
{
	struct vpm pm;
	/* TSC offsets where the 64-bit tick count is just below and above 2^31 and 2^32 */
	u64 t31 = ((1ULL << 31) * HZ + 3579544) / 3579545, t32 = ((1ULL << 32) * HZ) / 3579545;

	vpm_init(&pm, T0, HZ);
	assert_int_equal(model_timer(t31), 1u << 31);
	assert_int_equal(model_timer(t31 - HZ / 3579545 - 1), (1u << 31) - 1);
	assert_int_equal(rd(&pm, T0 + t31 - 1000, 0x600, 2) & PM1_STS_TMR, 0);
	assert_int_equal(rd(&pm, T0 + t31, 0x600, 2) & PM1_STS_TMR, PM1_STS_TMR);
	/* write 1 clears; writing 0 does not */
	wr(&pm, T0 + t31 + 10, 0x600, 2, 0);
	assert_int_equal(rd(&pm, T0 + t31 + 20, 0x600, 2) & PM1_STS_TMR, PM1_STS_TMR);
	wr(&pm, T0 + t31 + 10, 0x600, 2, PM1_STS_TMR | PM1_STS_WAK);
	assert_int_equal(rd(&pm, T0 + t31 + 20, 0x600, 2) & PM1_STS_TMR, 0);
	assert_int_equal(rd(&pm, T0 + t32 - 1000, 0x600, 2) & PM1_STS_TMR, 0);
	/* the wrap: bit 31 toggles again (1 -> 0), the value starts over */
	assert_int_equal(rd(&pm, T0 + t32 + 1000, 0x600, 2) & PM1_STS_TMR, PM1_STS_TMR);
	assert_true(rd(&pm, T0 + t32 - 1000, 0x608, 4) > 0xfffff000u);
	assert_true(rd(&pm, T0 + t32 + 1000, 0x608, 4) < 0x1000u);
	assert_int_equal(rd(&pm, T0 + t32 + HZ, 0x608, 4), model_timer(t32 + HZ));
	(void)state;
}

static void test_enable_and_layout(void **state)
{
	struct vpm pm;
	u32 v;
	enum vpm_event ev;

	vpm_init(&pm, T0, HZ);
	assert_int_equal(rd(&pm, T0, 0x602, 2), 0);
	wr(&pm, T0, 0x602, 2, 0xffff);
	assert_int_equal(rd(&pm, T0, 0x602, 2), PM1_EN_MASK);
	wr(&pm, T0, 0x603, 1, 0);
	assert_int_equal(rd(&pm, T0, 0x602, 2), PM1_EN_MASK & 0xff);
	/* the event block read as one dword: status low, enable high */
	assert_int_equal(rd(&pm, T0, 0x600, 4), (PM1_EN_MASK & 0xff) << 16);
	/* 0x606/0x607 are reserved: zeros, writes ignored */
	assert_int_equal(rd(&pm, T0, 0x606, 2), 0);
	assert_int_equal(rd(&pm, T0, 0x604, 4), PM1_CNT_SCI_EN);
	assert_int_equal(wr(&pm, T0, 0x606, 2, 0xffff), VPM_NONE);
	assert_int_equal(rd(&pm, T0, 0x606, 2), 0);
	assert_true(vpm_write(&pm, T0, 0x605, 2, 0x0034, &ev));
	assert_int_equal(ev, VPM_POWER_OFF);
	/* past the timer: not the block's */
	assert_false(vpm_read(&pm, T0, 0x60a, 4, &v));
	assert_false(vpm_read(&pm, T0, 0x60c, 1, &v));
	(void)state;
}

/* ACPICA's acpi_hw_legacy_sleep for S5: read PM1_CNT, clear SLP_TYP and SLP_EN, write the
 * type, then write type | SLP_EN. */
static void test_s5(void **state)
{
	struct vpm pm;
	u32 cnt;

	vpm_init(&pm, T0, HZ);
	cnt = rd(&pm, T0, 0x604, 2);
	assert_int_equal(cnt, PM1_CNT_SCI_EN);
	cnt &= ~(u32)(PM1_CNT_SLP_TYP | PM1_CNT_SLP_EN);
	cnt |= 5 << 10;
	assert_int_equal(wr(&pm, T0, 0x604, 2, cnt), VPM_NONE);
	assert_int_equal(rd(&pm, T0, 0x604, 2), PM1_CNT_SCI_EN | (5 << 10));
	assert_int_equal(wr(&pm, T0, 0x604, 2, cnt | PM1_CNT_SLP_EN), VPM_POWER_OFF);
	/* SLP_EN and GBL_RLS are write-only; SCI_EN cannot be cleared */
	wr(&pm, T0, 0x604, 2, PM1_CNT_GBL_RLS);
	assert_int_equal(rd(&pm, T0, 0x604, 2), PM1_CNT_SCI_EN);
	/* the high byte alone: SLP_EN | SLP_TYP 5 */
	assert_int_equal(wr(&pm, T0, 0x605, 1, 0x34), VPM_POWER_OFF);
	/* the high byte carries SLP_TYP too: SLP_EN alone there asks for type 0 */
	assert_int_equal(wr(&pm, T0, 0x605, 1, 0x20), VPM_SLEEP_UNSUPPORTED);
	/* a type the DSDT does not declare: no power-off */
	assert_int_equal(wr(&pm, T0, 0x604, 2, PM1_CNT_SLP_EN | (3 << 10)), VPM_SLEEP_UNSUPPORTED);
	assert_int_equal(wr(&pm, T0, 0x604, 2, PM1_CNT_SLP_EN), VPM_SLEEP_UNSUPPORTED);
	/* the low byte alone cannot hold SLP_EN */
	assert_int_equal(wr(&pm, T0, 0x604, 1, 0xff), VPM_NONE);
	(void)state;
}

static void test_reset_requests(void **state)
{
	struct vreset r = {0};

	assert_int_equal(vreset_cf9_read(&r), 0);
	/* the FADT's reset value 6 (SYS_RST | RST_CPU) from 0 */
	assert_true(vreset_cf9_write(&r, 6));
	/* RST_CPU already set: no edge */
	assert_false(vreset_cf9_write(&r, 6));
	/* Linux's "cf9" fallback: SYS_RST first, then SYS_RST | RST_CPU */
	assert_false(vreset_cf9_write(&r, 2));
	assert_int_equal(vreset_cf9_read(&r), 2);
	assert_true(vreset_cf9_write(&r, 6));
	assert_false(vreset_cf9_write(&r, 0x08));
	assert_true(vreset_cf9_write(&r, 0x0e));
	assert_int_equal(vreset_cf9_read(&r), 0x0e);
	assert_false(vreset_cf9_write(&r, 0xf1));
	assert_int_equal(vreset_cf9_read(&r), 0);
	/* 8042: 0xFE pulses line 0 (reset); 0xF0-0xFF with bit 0 clear pulse it too */
	assert_true(vreset_kbc_command(0xfe));
	assert_true(vreset_kbc_command(0xf0));
	assert_false(vreset_kbc_command(0xff));
	assert_false(vreset_kbc_command(0xd1));
	assert_false(vreset_kbc_command(0xee));
	assert_false(vreset_kbc_command(0x60));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_rate),
		cmocka_unit_test(test_timer_wrap_and_status),
		cmocka_unit_test(test_enable_and_layout),
		cmocka_unit_test(test_s5),
		cmocka_unit_test(test_reset_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
