/* The `cpu` test guest: runs suite `cpu` and shuts down. */
#include "guests/lib/guest.h"

void guest_main(void)
{
	cpu_suite();
}
