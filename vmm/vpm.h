/* The guest's ACPI fixed hardware (ACPI 6.5 4.8: PM1a event block, PM1a control block, PM
 * timer) at the ports the FADT names (vmm/guest_acpi.h). Pure: host unit tests drive it
 * with TSC values of their own. */
#ifndef VMM_VPM_H
#define VMM_VPM_H

#include <moat/bits.h>
#include <moat/types.h>
#include "vmm/guest_acpi.h"

#define VPM_PORT_FIRST GUEST_PM1A_EVT_PORT
#define VPM_PORT_LAST (GUEST_PM_TMR_PORT + 3)

#define VPM_TIMER_HZ 3579545u /* ACPI 6.5 4.8.3.3: the PM timer's 3.579545 MHz */

/* PM1 status register (ACPI 6.5 4.8.4.1.1), the first half of the PM1a event block */
#define PM1_STS_TMR BIT(0)
#define PM1_STS_BM BIT(4)
#define PM1_STS_GBL BIT(5)
#define PM1_STS_PWRBTN BIT(8)
#define PM1_STS_SLPBTN BIT(9)
#define PM1_STS_RTC BIT(10)
#define PM1_STS_PCIEXP_WAKE BIT(14)
#define PM1_STS_WAK BIT(15)
/* PM1 enable register (4.8.4.1.2), the second half */
#define PM1_EN_TMR BIT(0)
#define PM1_EN_GBL BIT(5)
#define PM1_EN_PWRBTN BIT(8)
#define PM1_EN_SLPBTN BIT(9)
#define PM1_EN_RTC BIT(10)
#define PM1_EN_PCIEXP_WAKE_DIS BIT(14)
#define PM1_EN_MASK                                                                                \
	(PM1_EN_TMR | PM1_EN_GBL | PM1_EN_PWRBTN | PM1_EN_SLPBTN | PM1_EN_RTC |                    \
	 PM1_EN_PCIEXP_WAKE_DIS)
/* PM1 control register (4.8.4.2.1) */
#define PM1_CNT_SCI_EN BIT(0)
#define PM1_CNT_BM_RLD BIT(1)
#define PM1_CNT_GBL_RLS BIT(2) /* write-only */
#define PM1_CNT_SLP_TYP GENMASK(12, 10)
#define PM1_CNT_SLP_EN BIT(13) /* write-only */
/* The PM timer's value: 32 bits (FADT TMR_VAL_EXT); TMR_STS is set when its top bit
 * toggles (4.8.3.3). */
#define PM_TMR_TOGGLE_SHIFT 31

enum vpm_event {
	VPM_NONE,
	VPM_POWER_OFF,	       /* SLP_EN with the \_S5 sleep type */
	VPM_SLEEP_UNSUPPORTED, /* SLP_EN with a sleep type the DSDT does not declare */
};

struct vpm {
	u64 hz;		   /* TSC ticks per second */
	u64 tsc0;	   /* the TSC when the timer read 0 */
	u64 tmr_sts_ticks; /* timer ticks (64-bit) when TMR_STS was last cleared */
	u16 sts;	   /* status bits other than TMR_STS (none is ever raised today) */
	u16 en;
	u16 cnt;    /* SCI_EN, BM_RLD, SLP_TYP: what reads back */
	u8 slp_typ; /* the sleep type of the last SLP_EN write, for the event */
	bool sleep_refused_logged;
};

void vpm_init(struct vpm *pm, u64 now, u64 hz);
/* The timer's 32-bit value at TSC `now`. */
u32 vpm_timer(const struct vpm *pm, u64 now);
/* A port access inside [VPM_PORT_FIRST, VPM_PORT_LAST] (false for one reaching past it).
 * A write may ask for a sleep state: *ev says which. */
bool vpm_read(struct vpm *pm, u64 now, u16 port, u8 size, u32 *val);
bool vpm_write(struct vpm *pm, u64 now, u16 port, u8 size, u32 val, enum vpm_event *ev);

#endif
