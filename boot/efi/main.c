/* efi_main: loads the embedded moat.elf, fills struct boot_info, leaves boot services and
 * jumps to moat's 64-bit entry with RDI = boot_info. */
#include "boot/efi/loader.h"

typedef void (*moat_entry64)(struct boot_info *bi);

void loader_keep(struct loader *ld, u64 base, u64 length)
{
	if (ld->nr_keep < LOADER_MAX_KEEP)
		ld->keep[ld->nr_keep++] = (struct efi_keep){.base = base, .length = length};
}

EFI_STATUS loader_alloc_pages(u64 bytes, u64 *pa)
{
	EFI_PHYSICAL_ADDRESS addr = 0xffffffffULL;
	UINTN pages = (UINTN)(ALIGN_UP(bytes, EFI_PAGE_BYTES) / EFI_PAGE_BYTES);
	EFI_STATUS status;

	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, pages,
				   &addr);
	if (EFI_ERROR(status))
		return status;
	__builtin_memset((void *)(UINTN)addr, 0, pages * EFI_PAGE_BYTES);
	*pa = addr;
	return EFI_SUCCESS;
}

static EFI_STATUS boot_info_alloc(struct loader *ld)
{
	EFI_STATUS status;
	u64 pa;

	status = loader_alloc_pages(sizeof(*ld->bi), &pa);
	if (EFI_ERROR(status)) {
		Print(L"efi: cannot allocate %d bytes for boot_info: %r\n", (int)sizeof(*ld->bi),
		      status);
		return status;
	}
	ld->bi = (struct boot_info *)(UINTN)pa;
	ld->bi->method = BOOT_UEFI;
	ld->bi->efi_system_table = (u64)(UINTN)ld->st;
	loader_keep(ld, pa, sizeof(*ld->bi));
	return EFI_SUCCESS;
}

static void jump_to_moat(struct loader *ld) __attribute__((noreturn));
static void jump_to_moat(struct loader *ld)
{
	moat_entry64 entry = (moat_entry64)(UINTN)ld->img.hdr.entry64;

	__asm__ volatile("cli" ::: "memory");
	entry(ld->bi);
	__builtin_unreachable();
}

/* Gives back what the loader allocated and moat would have kept, before returning to the
 * firmware (FreePages is a memory service: allowed even after a failed exit). */
static void loader_release(struct loader *ld)
{
	for (unsigned i = 0; i < ld->nr_keep; i++) {
		u64 base = ALIGN_DOWN(ld->keep[i].base, EFI_PAGE_BYTES);
		u64 end = ALIGN_UP(ld->keep[i].base + ld->keep[i].length, EFI_PAGE_BYTES);

		uefi_call_wrapper(BS->FreePages, 2, base, (UINTN)((end - base) / EFI_PAGE_BYTES));
	}
	ld->nr_keep = 0;
	ld->bi = NULL;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static struct loader ld;
	EFI_STATUS status;

	InitializeLib(image, st);
	ld.image_handle = image;
	ld.st = st;
	Print(L"efi: moat UEFI loader\n");
	status = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
				   (void **)&ld.loaded);
	if (EFI_ERROR(status)) {
		Print(L"efi: no loaded-image protocol on our own handle: %r\n", status);
		return status;
	}
	/* For gdb (docs/debugging.md): the loader's .so is linked at 0, so its symbols are at
	 * this offset; moat.elf itself is placed at its link addresses. */
	Print(L"efi: loader image base 0x%lx\n", (u64)(UINTN)ld.loaded->ImageBase);
	status = boot_info_alloc(&ld);
	if (EFI_ERROR(status))
		return status;
	files_load_cmdline(&ld);
	status = image_load(&ld);
	if (EFI_ERROR(status))
		goto refused;
	files_load_config(&ld);
	files_load_guest_images(&ld);
	files_load_acpi_overrides(&ld);
	files_load_linux_files(&ld);
	firmware_find_rsdp(&ld);
	firmware_find_framebuffer(&ld);
	firmware_reserve_trampoline(&ld);
	firmware_stop_bus_masters(&ld);
	status = memmap_preview(&ld);
	if (!EFI_ERROR(status))
		status = exit_boot_services(&ld);
	if (!EFI_ERROR(status))
		jump_to_moat(&ld);
refused:
	loader_release(&ld);
	Print(L"efi: moat not started: %r\n", status);
	EFI_TEST_HOOK(not_started, &ld);
	return status;
}
