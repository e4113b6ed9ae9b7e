/* The `cpu` test guest: runs suites `cpu` and `platform`, and suite `vf` when moat gave
 * it a VF, then shuts down. */
#include "guests/lib/guest.h"

void guest_main(void)
{
	cpu_suite();
	platform_suite();
	if (guest_info.nr_devices && guest_info.devices[0].is_vf)
		vf_suite();
}
