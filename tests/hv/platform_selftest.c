/* The platform devices moat emulates on ports are each guest's own: what guests wrote to
 * them (the attacker programs the PIT and overwrites every NVRAM byte) must not have reached
 * the host's CMOS or PIT. Snapshot when the guests start, compared after they ended. */
#define LOG_TAG "vmm"
#include <moat/string.h>
#include "arch/x86/io.h"
#include "tests/hv/hv.h"
#include "tests/hv/selftest.h"
#include "vmm/vpit.h"
#include "vmm/vrtc.h"
#include "vmm/vmm.h"

struct host_platform {
	u8 cmos[CMOS_NR_REGS];	  /* register B and the NVRAM; the clock registers left 0 */
	u8 pit_cw[VPIT_CHANNELS]; /* each counter's programmed RW, mode and BCD */
};

static struct host_platform at_start;
static bool snapped;

static u8 host_cmos(u8 reg)
{
	outb(VRTC_INDEX_PORT, reg);
	return inb(VRTC_DATA_PORT);
}

static void host_snapshot(struct host_platform *h)
{
	memset(h, 0, sizeof(*h));
	h->cmos[CMOS_REG_B] = host_cmos(CMOS_REG_B);
	for (u8 r = CMOS_REG_D + 1; r < CMOS_NR_REGS; r++)
		if (r != CMOS_CENTURY)
			h->cmos[r] = host_cmos(r);
	for (unsigned n = 0; n < VPIT_CHANNELS; n++) {
		/* read-back of the status alone: no count latched, nothing reprogrammed */
		outb(VPIT_PORT_CW, (u8)(FIELD_PREP(PIT_CW_SC, PIT_SC_READBACK) | PIT_RB_NO_COUNT |
					FIELD_PREP(PIT_RB_COUNTERS, BIT(n))));
		h->pit_cw[n] = (u8)FIELD_GET(PIT_ST_CW, inb((u16)(VPIT_PORT_FIRST + n)));
	}
}

void platform_test_snapshot(void)
{
	host_snapshot(&at_start);
	snapped = true;
}

/* First of all self-tests: later ones program the host's PIT themselves (vtd_ioapic). */
SELFTEST_ORDER(vmm_host_platform, "vmm", "host-platform-untouched", 10)
{
	struct host_platform now;

	if (!snapped) {
		st_skip(ctx, "no guest was started");
		return;
	}
	host_snapshot(&now);
	for (unsigned r = 0; r < CMOS_NR_REGS; r++)
		CHECK(ctx, now.cmos[r] == at_start.cmos[r],
		      "host CMOS register %#x went from %#x to %#x while the guests ran", r,
		      at_start.cmos[r], now.cmos[r]);
	for (unsigned n = 0; n < VPIT_CHANNELS; n++)
		CHECK(ctx, now.pit_cw[n] == at_start.pit_cw[n],
		      "host PIT counter %u reprogrammed from %#x to %#x while the guests ran", n,
		      at_start.pit_cw[n], now.pit_cw[n]);
}
