/* What moat takes from the firmware besides memory: the RSDP from the configuration
 * table, the GOP framebuffer, and a page below 1 MiB for starting the other CPUs. */
#include "boot/efi/loader.h"

/* The AP start-up page must lie in conventional memory below the EBDA. */
#define TRAMPOLINE_LIMIT 0x9f000ULL

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

static u64 config_table_find(const EFI_SYSTEM_TABLE *st, EFI_GUID *guid)
{
	for (UINTN i = 0; i < st->NumberOfTableEntries; i++)
		if (!CompareGuid(&st->ConfigurationTable[i].VendorGuid, guid))
			return (u64)(UINTN)st->ConfigurationTable[i].VendorTable;
	return 0;
}

void firmware_find_rsdp(struct loader *ld)
{
	u64 rsdp = config_table_find(ld->st, &acpi20_guid);

	if (rsdp) {
		Print(L"efi: RSDP (ACPI 2.0+) at %lx\n", rsdp);
	} else {
		rsdp = config_table_find(ld->st, &acpi10_guid);
		if (rsdp)
			Print(L"efi: RSDP (ACPI 1.0 only) at %lx\n", rsdp);
		else
			Print(L"efi: no ACPI table in the configuration table\n");
	}
	ld->bi->rsdp = rsdp;
}

void firmware_find_framebuffer(struct loader *ld)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	struct boot_fb *fb = &ld->bi->fb;
	u32 masks[4];
	EFI_STATUS status;
	int err;

	status = LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop);
	if (EFI_ERROR(status) || !gop || !gop->Mode || !gop->Mode->Info) {
		Print(L"efi: no graphics output: no framebuffer\n");
		return;
	}
	info = gop->Mode->Info;
	masks[0] = info->PixelInformation.RedMask;
	masks[1] = info->PixelInformation.GreenMask;
	masks[2] = info->PixelInformation.BlueMask;
	masks[3] = info->PixelInformation.ReservedMask;
	err = efi_fb_pixel_format(info->PixelFormat, masks, fb);
	if (err) {
		Print(L"efi: GOP pixel format %d has no usable linear framebuffer\n",
		      (int)info->PixelFormat);
		*fb = (struct boot_fb){0};
		return;
	}
	fb->base = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->pitch = info->PixelsPerScanLine * (u32)ALIGN_UP(fb->bpp, 8) / 8;
	Print(L"efi: framebuffer %lx (%ld bytes) %dx%d pitch %d bpp %d, red/green/blue at bits "
	      L"%d/%d/%d\n",
	      fb->base, (u64)gop->Mode->FrameBufferSize, fb->width, fb->height, fb->pitch, fb->bpp,
	      fb->red_pos, fb->green_pos, fb->blue_pos);
}

void firmware_reserve_trampoline(struct loader *ld)
{
	EFI_PHYSICAL_ADDRESS addr = TRAMPOLINE_LIMIT - 1;
	EFI_STATUS status;

	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, 1,
				   &addr);
	if (EFI_ERROR(status)) {
		Print(L"efi: no free page below %lx for the AP trampoline (%r): moat picks one\n",
		      TRAMPOLINE_LIMIT, status);
		return;
	}
	if (!addr) {
		/* Page 0 stays allocated (and unused); ask again for a page above it. */
		addr = TRAMPOLINE_LIMIT - 1;
		status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData,
					   1, &addr);
		if (EFI_ERROR(status) || !addr) {
			Print(L"efi: only page 0 is free below %lx: moat picks the AP trampoline\n",
			      TRAMPOLINE_LIMIT);
			return;
		}
	}
	ld->bi->trampoline = addr;
	loader_keep(ld, addr, EFI_PAGE_BYTES);
	Print(L"efi: AP trampoline page at %lx\n", addr);
}
