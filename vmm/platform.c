/* The guest's platform devices (docs/linux-guest.md, "what the guest sees"): the models
 * (vmm/vpit.c, vmm/vpm.c, vmm/vreset.c, vmm/vrtc.c) are pure; this file gives them the TSC at each
 * access and turns their events into the guest's end. A power-off or reset request ends the guest
 * as if it had shut down: the product's policy is that a guest which resets has ended. */
#define LOG_TAG "vmm"
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "vmm/exits.h"
#include "vmm/platform.h"

void platform_init(struct guest *g, const struct platform_time *t)
{
	vpit_init(&g->pit, t->tsc, t->hz);
	vpm_init(&g->pm, t->tsc, t->hz);
	vrtc_init(&g->rtc, t->wall_epoch, t->wall_tsc, t->hz);
	g->reset = (struct vreset){0};
	g->platform_tsc = t->tsc;
}

/* The TSC for a device access (under the lock): the vCPUs of a guest run on different CPUs,
 * whose TSCs may differ by a little; the devices' clocks must not run backwards. */
static u64 platform_now(struct guest *g)
{
	u64 t = rdtsc();

	if (t > g->platform_tsc)
		g->platform_tsc = t;
	return g->platform_tsc;
}

static void guest_ends(struct guest *g, const char *what, const char *by)
{
	vmm_console_flush(g);
	/* another vCPU may have ended it first: its end stands */
	if (!guest_end(g, GUEST_DONE))
		return;
	g->ended_by = by;
	pr_info("guest %s %s (%s)\n", g->cfg.name, what, by);
}

bool platform_pm_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	enum vpm_event ev = VPM_NONE;
	bool ok;

	spin_lock(&g->platform_lock);
	if (in)
		ok = vpm_read(&g->pm, platform_now(g), port, size, val);
	else
		ok = vpm_write(&g->pm, platform_now(g), port, size, *val, &ev);
	spin_unlock(&g->platform_lock);
	if (!ok)
		return false;
	if (ev == VPM_POWER_OFF)
		guest_ends(g, "powered off", "ACPI S5");
	else if (ev == VPM_SLEEP_UNSUPPORTED && !g->pm.sleep_refused_logged) {
		g->pm.sleep_refused_logged = true;
		pr_warn("guest %s: sleep type %u requested, which its DSDT does not declare: "
			"ignored\n",
			g->cfg.name, g->pm.slp_typ);
	}
	return true;
}

bool platform_cf9_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	bool reset = false;

	if (size != 1)
		return false;
	spin_lock(&g->platform_lock);
	if (in)
		*val = vreset_cf9_read(&g->reset);
	else
		reset = vreset_cf9_write(&g->reset, (u8)*val);
	spin_unlock(&g->platform_lock);
	if (reset)
		guest_ends(g, "reset requested", "reset register 0xcf9");
	return true;
}

/* Channel 0's OUT drives no interrupt yet: vpit_irq0_next() is the hook for the interrupt
 * controller to come. */
bool platform_pit_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	bool ok;

	spin_lock(&g->platform_lock);
	ok = vpit_io(&g->pit, platform_now(g), port, in, size, val);
	spin_unlock(&g->platform_lock);
	return ok;
}

/* 0x70 selects (reads of it are denied: write-only on a PC), 0x71 reads or writes. */
bool platform_rtc_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	if (size != 1 || (in && port == VRTC_INDEX_PORT))
		return false;
	spin_lock(&g->platform_lock);
	if (port == VRTC_INDEX_PORT)
		vrtc_select(&g->rtc, (u8)*val);
	else if (in)
		*val = vrtc_read(&g->rtc, platform_now(g));
	else
		vrtc_write(&g->rtc, (u8)*val);
	spin_unlock(&g->platform_lock);
	return true;
}

/* No keyboard controller: reads stay denied (all-ones, as the FADT's "no 8042" says); of
 * the commands only the reset pulse does anything. */
bool platform_kbc_io(struct guest *g, u16 port, bool in, u8 size, u32 *val)
{
	if (in || size != 1)
		return false;
	if (vreset_kbc_command((u8)*val))
		guest_ends(g, "reset requested", "keyboard controller 0x64");
	return true;
}
