/* The guest's platform devices on I/O ports, bound to the guest, to the TSC they count
 * from and to the guest's end: each handler serves the ports vmm/port_io.c's table gives
 * it and returns false for an access its device does not have (then denied as usual). */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include "vmm/vmm.h"

/* The clocks the devices count from: the TSC now and its rate, and the host's wall clock
 * (seconds since 1970) at TSC wall_tsc. */
struct platform_time {
	u64 tsc, hz;
	u64 wall_epoch, wall_tsc;
};

/* At guest creation: every device reset, its clocks from `t`. */
void platform_init(struct guest *g, const struct platform_time *t);

bool platform_pit_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_pm_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_cf9_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_rtc_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_kbc_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);

#endif
