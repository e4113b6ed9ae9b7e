/* The `misbehave` guest, started by the hypervisor's own self-tests: it does what its name
 * says and never reports a result.
 *   spin    loops without any exit (the watchdog must stop it)
 *   triple  faults with no usable IDT (a triple fault: shutdown, the hypervisor stops it)
 *   halt    halts with interrupts off (nothing can wake it: the hypervisor stops it)
 */
#include "guests/lib/guest.h"

void guest_main(void)
{
	static const struct {
		u16 limit;
		u64 base;
	} __packed no_idt = {0, 0};

	if (!strcmp(guest_info.name, "spin")) {
		for (;;)
			__asm__ volatile("pause");
	}
	if (!strcmp(guest_info.name, "halt"))
		__asm__ volatile("cli; hlt");
	if (!strcmp(guest_info.name, "triple")) {
		__asm__ volatile("lidt %0; ud2" ::"m"(no_idt));
	}
	guest_printf("misbehave: unknown behaviour '%s'\n", guest_info.name);
}
