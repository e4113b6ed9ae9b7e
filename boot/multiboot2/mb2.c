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

static void parse_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const u8 *p = (const u8 *)(t + 1), *end = (const u8 *)t + t->size;

	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		return;
	for (; p + t->entry_size <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;

		add_mem(bi, e->addr, e->len, mem_type_from_mb2(e->type));
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
		const struct mb2_efi_desc *d = (const void *)p;

		if (d->num_pages > (~0ULL >> PAGE_SHIFT))
			continue;
		add_mem(bi, d->phys_start, d->num_pages << PAGE_SHIFT, mem_type_from_efi(d->type));
	}
}

static void parse_module(struct boot_info *bi, const struct mb2_tag_module *t)
{
	struct boot_module *m;

	if (bi->nr_modules >= BOOT_MAX_MODULES)
		return;
	m = &bi->modules[bi->nr_modules++];
	m->start = t->mod_start;
	m->end = t->mod_end;
	strlcpy(m->name, t->cmdline, sizeof(m->name));
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
	bi->fb.base = t->addr;
	bi->fb.width = t->width;
	bi->fb.height = t->height;
	bi->fb.pitch = t->pitch;
	bi->fb.bpp = t->bpp;
	bi->fb.red_pos = t->red_pos;
	bi->fb.green_pos = t->green_pos;
	bi->fb.blue_pos = t->blue_pos;
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
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			strlcpy(bi->cmdline, (const char *)(t + 1),
				MIN(sizeof(bi->cmdline), t->size - sizeof(*t)));
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
