/* Pure conversions of what UEFI firmware hands over (memory map, load options, GOP pixel
 * format) into struct boot_info terms. No firmware calls: compiled into the UEFI
 * application and into the host unit tests. */
#ifndef BOOT_EFI_CONVERT_H
#define BOOT_EFI_CONVERT_H

#include <moat/bits.h>
#include <moat/boot_info.h>
#include <moat/types.h>

/* EFI_MEMORY_TYPE (UEFI 2.10 section 7.2.1). */
enum efi_mem_kind {
	EFI_KIND_RESERVED = 0,
	EFI_KIND_LOADER_CODE = 1,
	EFI_KIND_LOADER_DATA = 2,
	EFI_KIND_BS_CODE = 3,
	EFI_KIND_BS_DATA = 4,
	EFI_KIND_RT_CODE = 5,
	EFI_KIND_RT_DATA = 6,
	EFI_KIND_CONVENTIONAL = 7,
	EFI_KIND_UNUSABLE = 8,
	EFI_KIND_ACPI_RECLAIM = 9,
	EFI_KIND_ACPI_NVS = 10,
	EFI_KIND_MMIO = 11,
	EFI_KIND_MMIO_PORT = 12,
	EFI_KIND_PAL_CODE = 13,
	EFI_KIND_PERSISTENT = 14,
	EFI_KIND_UNACCEPTED = 15,
};

/* EFI_MEMORY_DESCRIPTOR. GetMemoryMap() reports its own descriptor size, which may be
 * larger than this structure: always step by the reported size. */
struct efi_mem_desc {
	u32 type;
	u32 pad;
	u64 phys_start;
	u64 virt_start;
	u64 nr_pages;
	u64 attribute;
};
SIZE_CHECK(struct efi_mem_desc, 40);

/* Attribute bits */
#define EFI_MEM_ATTR_SP BIT(18) /* specific-purpose memory: not general-purpose RAM */

#define EFI_PAGE_BYTES 4096ULL

/* A range the loader allocated that moat still needs after the jump (image, boot_info,
 * modules, AP trampoline): reported as MEM_BOOT_DATA whatever the firmware type. */
struct efi_keep {
	u64 base, length;
};

/* What the conversion met, for the loader to report before ExitBootServices. */
struct efi_mmap_stats {
	u32 nr_desc;	   /* whole descriptors in the buffer */
	u32 nr_empty;	   /* descriptors of zero pages (ignored) */
	u32 nr_invalid;	   /* unaligned start or end past 2^64 (ignored) */
	u32 nr_overlaps;   /* pairs of descriptors that overlap (the stricter type wins) */
	u32 nr_needed;	   /* ranges the converted map needs */
	u32 trailing;	   /* bytes after the last whole descriptor (ignored) */
	u64 dropped_bytes; /* bytes left out because the output was full */
	u64 first_dropped; /* lowest address left out */
};

u32 efi_mem_type_to_moat(u32 efi_type, u64 attribute);

/* Converts a GetMemoryMap() buffer into sorted, non-overlapping mem_ranges with adjacent
 * same-type ranges merged. Where descriptors overlap the stricter type wins (reserved
 * over ACPI over boot data over usable), so overlap never makes memory usable. When more
 * than max_out ranges are needed, the lowest max_out are kept, the rest is only counted
 * in stats, and -ENOSPC is returned: leaving ranges out only loses memory. -EINVAL if
 * desc_size is smaller than struct efi_mem_desc. Does not allocate. */
int efi_mmap_convert(const void *map, size_t map_size, size_t desc_size,
		     const struct efi_keep *keep, unsigned nr_keep, struct mem_range *out,
		     u32 max_out, u32 *nr_out, struct efi_mmap_stats *stats);

/* The image's LoadOptions (UCS-2, size in bytes) as an ASCII command line in out. A
 * leading image name ending in ".efi" (the UEFI shell passes argv[0]) is dropped and
 * blanks are collapsed. Returns the length; -EILSEQ if the options are not printable
 * ASCII text (binary OptionalData of a boot entry), nothing written then; -E2BIG if the
 * line was cut to fit cap. */
int efi_cmdline_from_ucs2(const void *opts, size_t size, char *out, size_t cap);

/* The contents of moat.cmd as one command line: line breaks and tabs become blanks,
 * lines starting with '#' are dropped, blanks collapse. Same returns as above. */
int efi_cmdline_from_text(const char *text, size_t len, char *out, size_t cap);

/* Whether the command line holds word as a whole blank-separated word. */
bool efi_cmdline_has(const char *cmdline, const char *word);
/* The value of the first word `key=value` in out (NUL-terminated). Returns its length,
 * -ENOENT if there is no such word, -E2BIG if the value does not fit cap. */
int efi_cmdline_value(const char *cmdline, const char *key, char *out, size_t cap);
/* The n-th (from 0) file a configuration text names with kernel= or initrd= (a Linux
 * guest's files, which the loader reads next to the application): its length, with the
 * name in out; -ENOENT past the last, -E2BIG if it does not fit in cap. */
int efi_config_file(const char *text, size_t len, unsigned n, char *out, size_t cap);

/* EFI_GRAPHICS_PIXEL_FORMAT (UEFI 2.10 section 12.9) */
enum gop_pixel_format {
	GOP_PIXEL_RGBX8 = 0,
	GOP_PIXEL_BGRX8 = 1,
	GOP_PIXEL_BITMASK = 2,
	GOP_PIXEL_BLT_ONLY = 3,
};

/* Fills fb's bpp and colour positions from a GOP pixel format (masks: red, green, blue,
 * reserved; used for GOP_PIXEL_BITMASK). -ENODEV if there is no linear framebuffer
 * (BLT only), -EINVAL for an unknown format or a colour mask that is empty or not one
 * contiguous run of bits. */
int efi_fb_pixel_format(u32 format, const u32 masks[4], struct boot_fb *fb);

#endif
