/* The guest's ACPI fixed hardware: PM1a status/enable, PM1a control with the sleep request
 * that powers the guest off (\_S5), and the PM timer counting at 3.579545 MHz from the TSC.
 * Registers are byte-addressed as on a chipset: an access of any width is the bytes it
 * covers (ACPICA reads PM1 status 16 bits wide, the timer 32 bits). */
#include <moat/string.h>
#include "vmm/vclock.h"
#include "vmm/vpm.h"

#define PM1_STS_PORT GUEST_PM1A_EVT_PORT
#define PM1_EN_PORT (GUEST_PM1A_EVT_PORT + 2)
#define PM1_CNT_PORT GUEST_PM1A_CNT_PORT
#define PM_TMR_PORT GUEST_PM_TMR_PORT

/* SCI_EN is fixed at 1: the FADT names no SMI command port, so the guest is always in ACPI
 * mode (ACPI 6.5 4.8.4.2.1, 5.2.9: SMI_CMD zero). */
#define PM1_CNT_RW (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP)

void vpm_init(struct vpm *pm, u64 now, u64 hz)
{
	memset(pm, 0, sizeof(*pm));
	pm->hz = hz;
	pm->tsc0 = now;
	pm->cnt = PM1_CNT_SCI_EN;
}

static u64 timer_ticks(const struct vpm *pm, u64 now)
{
	return vclock_ticks(now - pm->tsc0, pm->hz, VPM_TIMER_HZ);
}

u32 vpm_timer(const struct vpm *pm, u64 now)
{
	return (u32)timer_ticks(pm, now);
}

static u16 status(const struct vpm *pm, u64 now)
{
	bool toggled = timer_ticks(pm, now) >> PM_TMR_TOGGLE_SHIFT > pm->tmr_sts_ticks >>
		       PM_TMR_TOGGLE_SHIFT;

	return (u16)(pm->sts | (toggled ? PM1_STS_TMR : 0));
}

/* The block decodes 0x600-0x60B; 0x606 and 0x607, between PM1a_CNT and the timer, are
 * reserved: they read 0 (a 32-bit access at PM1a_CNT sees the register and zeros). */
static bool covered(u16 port, u8 size)
{
	return size && size <= 4 && port >= VPM_PORT_FIRST && port + size - 1 <= VPM_PORT_LAST;
}

static u8 reg_byte(const struct vpm *pm, u64 now, u16 port)
{
	u32 reg;
	u16 base;

	if (port >= PM_TMR_PORT) {
		reg = vpm_timer(pm, now);
		base = PM_TMR_PORT;
	} else if (port >= PM1_CNT_PORT + 2) {
		return 0;
	} else if (port >= PM1_CNT_PORT) {
		reg = pm->cnt;
		base = PM1_CNT_PORT;
	} else if (port >= PM1_EN_PORT) {
		reg = pm->en;
		base = PM1_EN_PORT;
	} else {
		reg = status(pm, now);
		base = PM1_STS_PORT;
	}
	return (u8)(reg >> (8 * (port - base)));
}

bool vpm_read(struct vpm *pm, u64 now, u16 port, u8 size, u32 *val)
{
	u32 v = 0;

	if (!covered(port, size))
		return false;
	for (u8 i = 0; i < size; i++)
		v |= (u32)reg_byte(pm, now, (u16)(port + i)) << (8 * i);
	*val = v;
	return true;
}

/* A write's bytes, placed in a 16-bit register at `base`: *mask gets the bits written. */
static u16 reg_bits(u16 base, u16 port, u8 size, u32 val, u16 *mask)
{
	u16 v = 0;

	*mask = 0;
	for (u8 i = 0; i < size; i++) {
		int off = port + i - base;

		if (off == 0 || off == 1) {
			v |= (u16)(((val >> (8 * i)) & 0xff) << (8 * off));
			*mask |= (u16)(0xff << (8 * off));
		}
	}
	return v;
}

bool vpm_write(struct vpm *pm, u64 now, u16 port, u8 size, u32 val, enum vpm_event *ev)
{
	u16 v, mask;

	*ev = VPM_NONE;
	if (!covered(port, size))
		return false;
	/* status: write 1 to clear (4.8.4.1.1) */
	v = reg_bits(PM1_STS_PORT, port, size, val, &mask) & mask;
	if (v & PM1_STS_TMR)
		pm->tmr_sts_ticks = timer_ticks(pm, now);
	pm->sts &= (u16)~v;
	v = reg_bits(PM1_EN_PORT, port, size, val, &mask);
	pm->en = (u16)((pm->en & ~mask) | (v & mask & PM1_EN_MASK));
	v = reg_bits(PM1_CNT_PORT, port, size, val, &mask);
	pm->cnt = (u16)((pm->cnt & ~(mask & PM1_CNT_RW)) | (v & mask & PM1_CNT_RW));
	/* The timer is read-only; writes to it are ignored. SLP_EN starts the transition into
	 * the sleep state SLP_TYP names (4.8.4.2.1). */
	if (mask & PM1_CNT_SLP_EN && v & PM1_CNT_SLP_EN) {
		pm->slp_typ = (u8)FIELD_GET(PM1_CNT_SLP_TYP, pm->cnt);
		*ev = pm->slp_typ == GUEST_SLP_TYP_S5 ? VPM_POWER_OFF : VPM_SLEEP_UNSUPPORTED;
	}
	return true;
}
