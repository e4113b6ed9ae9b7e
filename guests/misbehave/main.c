/* The `misbehave` guest: it does what its name says.
 *   spin    loops without any exit (the watchdog must stop it)
 *   triple  faults with no usable IDT (a triple fault: shutdown, the hypervisor stops it)
 *   halt    halts with interrupts off (nothing can wake it: the hypervisor stops it)
 *   compute-<N>  computes for N seconds of TSC time without any exit, then reports that it
 *           got there and shuts down (a guest without watchdog= is never stopped for it)
 * Only compute-<N> reports a result.
 */
#include "guests/lib/guest.h"

/* RDTSC does not exit; nothing else in the loop touches anything moat intercepts. */
static void compute(const char *secs_text)
{
	u64 secs = 0, hz = (u64)guest_info.tsc_khz * 1000, start, end, x = 1, loops = 0;
	char id[40];

	for (const char *p = secs_text; *p >= '0' && *p <= '9' && secs < 100000; p++)
		secs = secs * 10 + (u64)(*p - '0');
	snprintf(id, sizeof(id), "computed-%llus-without-exits", (unsigned long long)secs);
	guest_printf("misbehave: computing for %llu s without an exit\n", (unsigned long long)secs);
	start = guest_rdtsc();
	end = start + secs * hz;
	while (guest_rdtsc() < end) {
		for (unsigned i = 0; i < 4096; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		loops++;
	}
	test_begin("misbehave", id);
	check(secs && hz, "no duration (%s) or no TSC rate (%u kHz)", secs_text,
	      guest_info.tsc_khz);
	check(loops && x, "the loop did not run");
	test_end();
	guest_printf("misbehave: %llu rounds in %llu ms\n", (unsigned long long)loops,
		     (unsigned long long)((guest_rdtsc() - start) / (hz / 1000 ? hz / 1000 : 1)));
}

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
	if (!strncmp(guest_info.name, "compute-", 8)) {
		compute(guest_info.name + 8);
		return;
	}
	guest_printf("misbehave: unknown behaviour '%s'\n", guest_info.name);
}
