/* The `misbehave` guest: it does what its name says.
 *   spin    loops without any exit (the watchdog must stop it)
 *   triple  faults with no usable IDT (a triple fault: shutdown, the hypervisor stops it)
 *   halt    halts with interrupts off (nothing can wake it: the hypervisor stops it)
 *   compute-<N>  computes for N seconds of TSC time without any exit, then reports that it
 *           got there and shuts down (a guest without watchdog= is never stopped for it)
 *   poweroff   powers off as Linux's poweroff -f does (ACPICA's S5 sequence on PM1a)
 *   reset-cf9  resets as Linux's reboot -f does first (the FADT's reset register, 0xCF9 = 6)
 *   reset-kbc  resets through the keyboard controller (0xFE to port 0x64)
 *   each of the last three then halts with interrupts off: only the hypervisor's emulation
 *   of that request ends it as done rather than stopped
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

#define PM1_STS 0x600
#define PM1_STS_WAK BIT(15)
#define PM1_STS_ALL_FIXED 0x8731 /* ACPICA's ACPI_BITMASK_ALL_FIXED_STATUS */
#define PM1_CNT 0x604
#define PM1_CNT_SLP_TYP GENMASK(12, 10)
#define PM1_CNT_SLP_EN BIT(13)
#define SLP_TYP_S5 5 /* the DSDT's \_S5 */
#define RESET_REG 0xcf9
#define RESET_VALUE 6
#define KBC_CMD 0x64
#define KBC_PULSE_RESET 0xfe

/* acpi_hw_legacy_sleep: clear WAK_STS and the fixed status bits, then PM1_CNT with the
 * sleep type, then with the type and SLP_EN. */
static void poweroff_s5(void)
{
	u16 cnt;

	guest_outw(PM1_STS, PM1_STS_WAK);
	guest_outw(PM1_STS, PM1_STS_ALL_FIXED);
	cnt = guest_inw(PM1_CNT) & (u16) ~(PM1_CNT_SLP_TYP | PM1_CNT_SLP_EN);
	cnt |= (u16)FIELD_PREP(PM1_CNT_SLP_TYP, SLP_TYP_S5);
	guest_outw(PM1_CNT, cnt);
	guest_outw(PM1_CNT, cnt | PM1_CNT_SLP_EN);
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
	if (!strcmp(guest_info.name, "poweroff"))
		poweroff_s5();
	if (!strcmp(guest_info.name, "reset-cf9"))
		guest_outb(RESET_REG, RESET_VALUE);
	if (!strcmp(guest_info.name, "reset-kbc")) {
		(void)guest_inb(KBC_CMD); /* Linux's kb_wait: no 8042, so all-ones */
		guest_outb(KBC_CMD, KBC_PULSE_RESET);
	}
	if (!strcmp(guest_info.name, "poweroff") || !strncmp(guest_info.name, "reset-", 6))
		__asm__ volatile("cli; hlt");
	if (!strncmp(guest_info.name, "compute-", 8)) {
		compute(guest_info.name + 8);
		return;
	}
	guest_printf("misbehave: unknown behaviour '%s'\n", guest_info.name);
}
