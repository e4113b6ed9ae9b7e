/* Multiboot2 boot information layout (Multiboot2 specification, section 3.6). */
#ifndef BOOT_MB2_H
#define BOOT_MB2_H

#include <moat/types.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

enum {
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_RESERVED = 2,
	MB2_MEM_ACPI_RECLAIMABLE = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BADRAM = 5,
};

#define MB2_FB_TYPE_RGB 1

struct mb2_tag {
	u32 type;
	u32 size;
};

struct mb2_tag_module {
	u32 type, size;
	u32 mod_start, mod_end;
	char cmdline[];
};

struct mb2_mmap_entry {
	u64 addr, len;
	u32 type, zero;
};
SIZE_CHECK(struct mb2_mmap_entry, 24);

struct mb2_tag_mmap {
	u32 type, size;
	u32 entry_size, entry_version;
};

struct mb2_tag_framebuffer {
	u32 type, size;
	u64 addr;
	u32 pitch, width, height;
	u8 bpp, fb_type;
	u16 reserved;
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
} __packed;

struct mb2_tag_efi_mmap {
	u32 type, size;
	u32 descr_size, descr_vers;
};

/* UEFI memory descriptor (UEFI 2.x, EFI_MEMORY_DESCRIPTOR) as GRUB copies it. */
struct mb2_efi_desc {
	u32 type, pad;
	u64 phys_start, virt_start, num_pages, attribute;
};
SIZE_CHECK(struct mb2_efi_desc, 40);

struct mb2_tag_efi64 {
	u32 type, size;
	u64 pointer;
};

struct boot_info;
void mb2_parse(struct boot_info *bi, const void *info);
/* The C entry from entry.asm: a start without the bootloader's magic is flagged in
 * boot_info.entry_errors; either way it ends in kmain. */
void mb2_entry(u32 magic, u32 info_pa) __noreturn;

#endif
