/* The UEFI application that loads moat.elf: state shared by its steps. Each step prints
 * its own progress and errors with boot-services Print, prefixed "efi: ". */
#ifndef BOOT_EFI_LOADER_H
#define BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <moat/boot_info.h>
#include <moat/errno.h>
#include "boot/efi/convert.h"
#include "boot/efi/elf_image.h"

/* Loader allocations moat keeps: image, boot_info, modules, trampoline. */
#define LOADER_MAX_KEEP (BOOT_MAX_MODULES + 3)

struct loader {
	EFI_HANDLE image_handle;
	EFI_SYSTEM_TABLE *st;
	EFI_LOADED_IMAGE *loaded;
	struct boot_info *bi;
	struct moat_image img;
	struct efi_keep keep[LOADER_MAX_KEEP];
	unsigned nr_keep;
};

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

/* Where the test image's loader (tests/hv/efi) reaches into the loader: NULL in the
 * product's moat.efi (an empty weak definition in test_hooks.c, a file of its own so that no
 * user sees its NULL and folds it), set by tests/hv/efi/hooks.c in moat-test.efi. */
struct efi_test_hooks {
	/* image.c: before moat's image range is allocated. */
	void (*before_image_placed)(struct loader *ld);
	/* memmap.c: before ExitBootServices attempt `attempt` (1..), with the map key just
	 * read; cmdline_len: the length of moat's command line before any note. Memory
	 * writes and allocations only after the first attempt. */
	void (*before_exit_attempt)(struct loader *ld, int attempt, size_t cmdline_len);
	/* main.c: moat was not started (after the loader released its memory). */
	void (*not_started)(struct loader *ld);
};
extern const struct efi_test_hooks *const efi_test_hooks;
#define EFI_TEST_HOOK(name, ...)                                                                   \
	do {                                                                                       \
		if (efi_test_hooks && efi_test_hooks->name)                                        \
			efi_test_hooks->name(__VA_ARGS__);                                         \
	} while (0)

void loader_keep(struct loader *ld, u64 base, u64 length);
/* Pages of LoaderData below 4 GiB (moat's early identity map covers them), zeroed. */
EFI_STATUS loader_alloc_pages(u64 bytes, u64 *pa);

/* image.c: places the embedded moat.elf's segments at their physical addresses. */
EFI_STATUS image_load(struct loader *ld);

/* files.c: command line (load options, else moat.cmd) and moat.conf as module "config". */
void files_load_cmdline(struct loader *ld);
void files_load_config(struct loader *ld);
void files_load_guest_images(struct loader *ld);
void files_load_acpi_overrides(struct loader *ld);
void files_load_linux_files(struct loader *ld);

/* firmware.c: RSDP, GOP framebuffer, AP trampoline page. */
void firmware_find_rsdp(struct loader *ld);
void firmware_find_framebuffer(struct loader *ld);
void firmware_reserve_trampoline(struct loader *ld);

/* busmaster.c: every PCI endpoint's bus mastering off before the hand-over. */
void firmware_stop_bus_masters(struct loader *ld);

/* memmap.c: the memory map report and the exit from boot services. */
void memmap_print_overlapping(u64 base, u64 end);
EFI_STATUS memmap_preview(struct loader *ld);
EFI_STATUS exit_boot_services(struct loader *ld);

#endif
