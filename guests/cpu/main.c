/* The `cpu` test guest: runs suites `cpu` and `platform`, and suite `vf` when moat gave
 * it a VF (with the word vf.ip= on its command line: the VF answers ARP and ping there
 * instead of meeting a partner guest), then shuts down. */
#include "guests/lib/guest.h"

void guest_main(void)
{
	cpu_suite();
	platform_suite();
	if (guest_info.nr_devices && guest_info.devices[0].is_vf) {
		if (vf_ping_configured())
			vf_ping_suite();
		else
			vf_suite();
	}
}
