/* The guest's platform devices on I/O ports, bound to the guest, to the TSC they count
 * from and to the guest's end: each handler serves the ports vmm/port_io.c's table gives
 * it and returns false for an access its device does not have (then denied as usual). */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include "vmm/vmm.h"

/* At guest creation: every device reset, clocks starting at TSC `now` (`hz` ticks/s). */
void platform_init(struct guest *g, u64 now, u64 hz);

bool platform_pm_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_cf9_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);
bool platform_kbc_io(struct guest *g, u16 port, bool in, u8 size, u32 *val);

#endif
