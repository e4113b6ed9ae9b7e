/* Places the embedded moat.elf (build/moat.elf, see payload.S) at its physical addresses. */
#include "boot/efi/loader.h"

extern const u8 moat_elf_start[];
extern const u64 moat_elf_size;

/* LoaderCode: firmware may map LoaderData no-execute until ExitBootServices. */
static EFI_STATUS allocate_at(u64 start, u64 end)
{
	EFI_PHYSICAL_ADDRESS addr = start;
	EFI_STATUS status;

	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderCode,
				   (UINTN)((end - start) / EFI_PAGE_BYTES), &addr);
	if (EFI_ERROR(status)) {
		Print(L"efi: the range %lx-%lx for moat's image is not free (%r); firmware map "
		      L"there:\n",
		      start, end - 1, status);
		memmap_print_overlapping(start, end);
		Print(L"efi: move moat's link address (arch/x86/moat.ld) to free memory\n");
	}
	return status;
}

EFI_STATUS image_load(struct loader *ld)
{
	size_t size = (size_t)moat_elf_size;
	struct moat_image *img = &ld->img;
	const char *why = "";
	EFI_STATUS status;
	int err;

	err = moat_elf_parse(moat_elf_start, size, img, &why);
	if (err) {
		Print(L"efi: embedded moat.elf (%d bytes) is unusable: %a\n", (int)size, why);
		return EFI_LOAD_ERROR;
	}
	EFI_TEST_HOOK(before_image_placed, ld);
	status = allocate_at(img->load_start, img->load_end);
	if (EFI_ERROR(status))
		return status;
	for (unsigned i = 0; i < img->nr_segs; i++) {
		const struct moat_segment *s = &img->segs[i];
		u8 *dst = (u8 *)(UINTN)s->paddr;

		__builtin_memcpy(dst, moat_elf_start + s->offset, s->filesz);
		__builtin_memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	loader_keep(ld, img->load_start, img->load_end - img->load_start);
	ld->bi->image_start = img->hdr.image_start;
	ld->bi->image_end = img->hdr.image_end;
	Print(L"efi: moat.elf loaded at %lx-%lx (%d segments), entry64 %lx\n", img->load_start,
	      img->load_end - 1, img->nr_segs, img->hdr.entry64);
	return EFI_SUCCESS;
}
