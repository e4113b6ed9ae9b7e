/* The guest's CMOS RTC (MC146818A) at 0x70/0x71: a clock the guest reads but does not set,
 * whose time is the host's RTC as read at moat's boot plus the TSC time since, in BCD or
 * binary and in 24- or 12-hour form as the guest selects in register B; and 128 bytes of
 * NVRAM of the guest's own. Pure: host unit tests drive it with TSC values of their own. */
#ifndef VMM_VRTC_H
#define VMM_VRTC_H

#include <moat/bits.h>
#include <moat/types.h>
#include "vmm/guest_acpi.h"

#define VRTC_INDEX_PORT 0x70
#define VRTC_DATA_PORT 0x71

/* Index register (0x70): bit 7 gates NMI on a PC, bits 6:0 select the register. */
#define CMOS_INDEX_REG GENMASK(6, 0)

/* Registers (MC146818A datasheet; the century byte where IBM's AT put it, as the FADT's
 * CENTURY field names it) */
#define CMOS_SECONDS 0x00
#define CMOS_SECONDS_ALARM 0x01
#define CMOS_MINUTES 0x02
#define CMOS_MINUTES_ALARM 0x03
#define CMOS_HOURS 0x04
#define CMOS_HOURS_ALARM 0x05
#define CMOS_WEEKDAY 0x06 /* 1 = Sunday */
#define CMOS_DAY 0x07
#define CMOS_MONTH 0x08
#define CMOS_YEAR 0x09
#define CMOS_REG_A 0x0a
#define CMOS_REG_B 0x0b
#define CMOS_REG_C 0x0c
#define CMOS_REG_D 0x0d
#define CMOS_CENTURY GUEST_RTC_CENTURY
#define CMOS_NR_REGS 128

/* Register A */
#define RTC_A_UIP BIT(7) /* update in progress: never, the clock is computed */
#define RTC_A_DV GENMASK(6, 4)
#define RTC_A_RS GENMASK(3, 0)
#define RTC_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz periodic rate */
/* Register B */
#define RTC_B_SET BIT(7)
#define RTC_B_PIE BIT(6)
#define RTC_B_AIE BIT(5)
#define RTC_B_UIE BIT(4)
#define RTC_B_SQWE BIT(3)
#define RTC_B_DM_BINARY BIT(2)
#define RTC_B_24H BIT(1)
#define RTC_B_DSE BIT(0)
#define RTC_B_DEFAULT RTC_B_24H /* BCD, 24-hour */
/* Register C: interrupt flags, none ever raised */
/* Register D */
#define RTC_D_VRT BIT(7) /* valid RAM and time */
/* Hours in 12-hour form */
#define RTC_HOURS_PM BIT(7)

struct vrtc {
	u64 hz;	    /* TSC ticks per second */
	u64 tsc0;   /* the TSC when the clock read epoch0 */
	u64 epoch0; /* seconds since 1970-01-01 00:00:00 */
	u8 index;
	u8 ram[CMOS_NR_REGS]; /* registers A and B, the alarms, the NVRAM bytes */
};

void vrtc_init(struct vrtc *r, u64 epoch0, u64 tsc0, u64 hz);
/* 0x70 write: selects a register. */
void vrtc_select(struct vrtc *r, u8 index);
/* 0x71: the selected register at TSC `now`. */
u8 vrtc_read(struct vrtc *r, u64 now);
void vrtc_write(struct vrtc *r, u8 val);

#endif
