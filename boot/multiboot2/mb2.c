/* Converts the multiboot2 boot information into struct boot_info. */
#define LOG_TAG "boot"
#include <moat/boot_info.h>
#include <moat/string.h>
#include "mb2.h"

static struct boot_info mb2_boot_info;

extern char __image_start[], __image_end[];

static u32 mem_type_from_mb2(u32 t)
{
	switch (t) {
	case MB2_MEM_AVAILABLE: return MEM_USABLE;
	case MB2_MEM_ACPI_RECLAIMABLE: return MEM_ACPI_RECLAIM;
	case MB2_MEM_NVS: return MEM_ACPI_NVS;
	case MB2_MEM_BADRAM: return MEM_BAD;
	default: return MEM_RESERVED;
	}
}

static void add_mem(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	if (bi->nr_mem < BOOT_MAX_MEM_RANGES && len)
		bi->mem[bi->nr_mem++] =
			(struct mem_range){.base = base, .length = len, .type = type};
}

/* Nothing can be logged yet (no console): kmain reports bi->boot_problem. The first bad
 * tag is named; the tag is ignored. */
static void note_bad_tag(struct boot_info *bi, const void *tag)
{
	const struct mb2_tag *t = tag;

	if (!bi->boot_problem[0])
		snprintf(bi->boot_problem, sizeof(bi->boot_problem),
			 "multiboot2 tag type %u of %u bytes is shorter than its type needs; "
			 "ignored",
			 t->type, t->size);
}

static void parse_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const u8 *p = (const u8 *)(t + 1), *end = (const u8 *)t + t->size;

	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		return;
	/* entry_size need not keep the entries 8-byte aligned: each one is copied. */
	for (; p + t->entry_size <= end; p += t->entry_size) {
		struct mb2_mmap_entry e;

		memcpy(&e, p, sizeof(e));
		add_mem(bi, e.addr, e.len, mem_type_from_mb2(e.type));
	}
}

/* UEFI memory types (UEFI spec 7.2, EFI_MEMORY_TYPE) */
enum {
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BS_CODE = 3,
	EFI_BS_DATA = 4,
	EFI_CONVENTIONAL = 7,
	EFI_UNUSABLE = 8,
	EFI_ACPI_RECLAIM = 9,
	EFI_ACPI_NVS = 10,
	EFI_MMIO = 11,
	EFI_MMIO_PORT = 12,
	EFI_PERSISTENT = 14,
};

static u32 mem_type_from_efi(u32 t)
{
	switch (t) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BS_CODE:
	case EFI_BS_DATA:
	case EFI_CONVENTIONAL: return MEM_USABLE;
	case EFI_UNUSABLE: return MEM_BAD;
	case EFI_ACPI_RECLAIM: return MEM_ACPI_RECLAIM;
	case EFI_ACPI_NVS: return MEM_ACPI_NVS;
	case EFI_MMIO:
	case EFI_MMIO_PORT: return MEM_MMIO;
	case EFI_PERSISTENT: return MEM_PERSISTENT;
	default: return MEM_RESERVED;
	}
}

/* Used only when the loader gave no multiboot2 memory map (tag 6): GRUB on UEFI passes
 * the firmware's map as tag 17 as well. */
static void parse_efi_mmap(struct boot_info *bi, const struct mb2_tag_efi_mmap *t)
{
	const u8 *p = (const u8 *)(t + 1), *end = (const u8 *)t + t->size;

	if (t->descr_size < sizeof(struct mb2_efi_desc))
		return;
	for (; p + t->descr_size <= end; p += t->descr_size) {
		struct mb2_efi_desc d;

		memcpy(&d, p, sizeof(d));
		if (d.num_pages > (~0ULL >> PAGE_SHIFT))
			continue;
		add_mem(bi, d.phys_start, d.num_pages << PAGE_SHIFT, mem_type_from_efi(d.type));
	}
}

/* A string field that ends with its tag: `avail` bytes, NUL-terminated or not. */
static void copy_tag_string(char *dst, size_t size, const char *src, size_t avail)
{
	size_t n = MIN(strnlen(src, avail), size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void parse_module(struct boot_info *bi, const struct mb2_tag_module *t)
{
	struct boot_module *m;

	if (bi->nr_modules >= BOOT_MAX_MODULES)
		return;
	m = &bi->modules[bi->nr_modules++];
	m->start = t->mod_start;
	m->end = t->mod_end;
	copy_tag_string(m->name, sizeof(m->name), t->cmdline, t->size - sizeof(*t));
}

static void copy_rsdp(struct boot_info *bi, const struct mb2_tag *t)
{
	u32 len = t->size - sizeof(*t);

	/* The tag holds a copy of the RSDP; the original address is not given, so keep the
	 * bytes and let ACPI parse the copy. A v2 (new) tag wins over v1 (old). */
	if (bi->rsdp_copy_len > 20 && t->type == MB2_TAG_ACPI_OLD)
		return;
	if (len > sizeof(bi->rsdp_copy))
		len = sizeof(bi->rsdp_copy);
	memcpy(bi->rsdp_copy, t + 1, len);
	bi->rsdp_copy_len = len;
}

static void parse_framebuffer(struct boot_info *bi, const struct mb2_tag_framebuffer *t)
{
	if (t->fb_type != MB2_FB_TYPE_RGB)
		return;
	if (t->size < sizeof(*t)) {
		note_bad_tag(bi, &t->type);
		return;
	}
	bi->fb.base = t->addr;
	bi->fb.width = t->width;
	bi->fb.height = t->height;
	bi->fb.pitch = t->pitch;
	bi->fb.bpp = t->bpp;
	bi->fb.red_pos = t->red_pos;
	bi->fb.green_pos = t->green_pos;
	bi->fb.blue_pos = t->blue_pos;
}

/* The fixed part every tag of this type has; a shorter tag is ignored (and counted). */
static u32 tag_min_size(u32 type)
{
	switch (type) {
	case MB2_TAG_MODULE: return sizeof(struct mb2_tag_module);
	case MB2_TAG_MMAP: return sizeof(struct mb2_tag_mmap);
	case MB2_TAG_EFI_MMAP: return sizeof(struct mb2_tag_efi_mmap);
	case MB2_TAG_FRAMEBUFFER: return offsetof(struct mb2_tag_framebuffer, red_pos);
	case MB2_TAG_EFI64: return sizeof(struct mb2_tag_efi64);
	default: return sizeof(struct mb2_tag);
	}
}

void mb2_parse(struct boot_info *bi, const void *info_ptr)
{
	const u8 *info = info_ptr;
	u64 info_pa = (uintptr_t)info_ptr;
	u32 total = *(const u32 *)info;
	const u8 *p = info + 8, *end = info + total;
	const struct mb2_tag_efi_mmap *efi_mmap = NULL;
	bool have_mmap = false;

	bi->method = BOOT_MULTIBOOT2;
	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *t = (const void *)p;

		if (t->type == MB2_TAG_END || t->size < sizeof(*t) || p + t->size > end)
			break;
		if (t->size < tag_min_size(t->type)) {
			note_bad_tag(bi, t);
			p += ALIGN_UP(t->size, 8);
			continue;
		}
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			copy_tag_string(bi->cmdline, sizeof(bi->cmdline), (const char *)(t + 1),
					t->size - sizeof(*t));
			break;
		case MB2_TAG_MODULE: parse_module(bi, (const void *)t); break;
		case MB2_TAG_MMAP:
			parse_mmap(bi, (const void *)t);
			have_mmap = true;
			break;
		case MB2_TAG_EFI_MMAP: efi_mmap = (const void *)t; break;
		case MB2_TAG_FRAMEBUFFER: parse_framebuffer(bi, (const void *)t); break;
		case MB2_TAG_EFI64:
			bi->efi_system_table = ((const struct mb2_tag_efi64 *)t)->pointer;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: copy_rsdp(bi, t); break;
		default: break;
		}
		p += ALIGN_UP(t->size, 8);
	}
	if (!have_mmap && efi_mmap)
		parse_efi_mmap(bi, efi_mmap);
	/* The boot information itself and the modules stay needed until moat has copied
	 * what it keeps; mark them so the allocator does not hand them out. */
	add_mem(bi, ALIGN_DOWN(info_pa, PAGE_SIZE),
		ALIGN_UP(info_pa + total, PAGE_SIZE) - ALIGN_DOWN(info_pa, PAGE_SIZE),
		MEM_BOOT_DATA);
	for (u32 i = 0; i < bi->nr_modules; i++)
		add_mem(bi, ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
			ALIGN_UP(bi->modules[i].end, PAGE_SIZE) -
				ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
			MEM_BOOT_DATA);
	bi->image_start = (uintptr_t)__image_start;
	bi->image_end = (uintptr_t)__image_end;
}

void mb2_entry(u32 magic, u32 info_pa)
{
	struct boot_info *bi = &mb2_boot_info;

	if (magic != MB2_BOOTLOADER_MAGIC) {
		/* Not started by a multiboot2 loader: nothing to trust, no memory map, no
		 * command line. kmain reports it. */
		bi->method = BOOT_MULTIBOOT2;
		bi->entry_errors |= BOOT_ENTRY_BAD_MAGIC;
		bi->entry_magic = magic;
		kmain(bi);
	}
	mb2_parse(bi, (const void *)(uintptr_t)info_pa);
	kmain(bi);
}
