/* The test image's UEFI loader hooks (boot/efi/loader.h: struct efi_test_hooks), linked
 * into moat-test.efi only. Each is selected by a word on moat's command line. */
#include "boot/efi/loader.h"

static bool image_busy_test; /* efi_test_image_busy was on the command line */

/* efi_test_image_busy: firmware-owned memory inside the image range, as a firmware that
 * occupies moat's link address would have it. */
static void occupy_image_range(struct loader *ld)
{
	EFI_PHYSICAL_ADDRESS page = ld->img.load_start + EFI_PAGE_BYTES;

	image_busy_test = efi_cmdline_has(ld->bi->cmdline, "efi_test_image_busy");
	if (!image_busy_test)
		return;
	Print(L"efi: test: page %lx taken before the image is placed\n", page);
	uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiBootServicesData, 1, &page);
}

/* efi_test_stale_key: the first ExitBootServices gets a map key made stale by an
 * allocation, and each attempt is noted as efi_exit_attempt=N on moat's command line, so
 * a run proves the retry. After the first attempt: memory writes only. */
static void stale_map_key(struct loader *ld, int attempt, size_t base_len)
{
	char *c = ld->bi->cmdline;
	static const char note[] = " efi_exit_attempt=";
	EFI_PHYSICAL_ADDRESS pa;

	if (!efi_cmdline_has(c, "efi_test_stale_key") ||
	    base_len + sizeof(note) + 1 > BOOT_CMDLINE_MAX)
		return;
	if (attempt == 1)
		Print(L"efi: test: the first ExitBootServices gets a stale map key\n");
	__builtin_memcpy(c + base_len, note, sizeof(note) - 1);
	c[base_len + sizeof(note) - 1] = (char)('0' + attempt);
	c[base_len + sizeof(note)] = '\0';
	if (attempt == 1)
		uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, 1, &pa);
}

/* efi_test_image_busy makes the loader refuse to start moat: the machine is powered off
 * instead of returning to the firmware's boot menu, so that the emulator run ends. */
static void power_off_after_refusal(struct loader *ld)
{
	(void)ld;
	if (!image_busy_test)
		return;
	Print(L"efi: test: powering off\n");
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
}

static const struct efi_test_hooks hooks = {
	.before_image_placed = occupy_image_range,
	.before_exit_attempt = stale_map_key,
	.not_started = power_off_after_refusal,
};

const struct efi_test_hooks *const efi_test_hooks = &hooks;
