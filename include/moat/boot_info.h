/* The one hand-off structure from boot/ to the rest of moat. Every entry path (GNU-EFI
 * application, multiboot2, PVH) fills it; nothing after boot/ knows which path was taken
 * except through `method`, which is only reported. */
#ifndef MOAT_BOOT_INFO_H
#define MOAT_BOOT_INFO_H

#include <moat/types.h>

enum boot_method { BOOT_MULTIBOOT2 = 1, BOOT_UEFI = 2, BOOT_PVH = 3 };

enum mem_type {
	MEM_USABLE = 1,	      /* free RAM */
	MEM_RESERVED = 2,     /* firmware reserved, never touched */
	MEM_ACPI_RECLAIM = 3, /* ACPI tables: kept, read-only use */
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
	MEM_MMIO = 6, /* memory-mapped I/O reported by firmware */
	MEM_PERSISTENT = 7,
	MEM_BOOT_DATA = 8, /* RAM holding boot-time data still needed (modules, tables) */
};

struct mem_range {
	u64 base;
	u64 length;
	u32 type; /* enum mem_type */
	u32 pad;
};

struct boot_module {
	u64 start; /* physical */
	u64 end;   /* physical, exclusive */
	char name[64];
};

#define BOOT_MAX_MEM_RANGES 256
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 512
#define BOOT_PROBLEM_MAX 256

/* Framebuffer handed over by firmware (UEFI GOP or multiboot2 framebuffer tag). */
struct boot_fb {
	u64 base;
	u32 width, height, pitch; /* pitch in bytes */
	u8 bpp;
	u8 red_pos, green_pos, blue_pos;
};

struct boot_info {
	u32 method; /* enum boot_method */
	u32 nr_mem;
	struct mem_range mem[BOOT_MAX_MEM_RANGES];
	u64 rsdp;	   /* physical address of the RSDP, 0 if none */
	u64 rsdp_copy_len; /* when non-zero, rsdp_copy holds the RSDP bytes (multiboot2 tags) */
	u8 rsdp_copy[36];
	u8 pad0[4];
	char cmdline[BOOT_CMDLINE_MAX];
	u32 nr_modules;
	u32 pad1;
	struct boot_module modules[BOOT_MAX_MODULES];
	u64 efi_system_table; /* physical, 0 if not booted through UEFI */
	u64 trampoline;	      /* page below 1 MiB reserved for AP start-up, 0 = let core pick */
	u64 image_start, image_end; /* the hypervisor image as loaded (physical) */
	struct boot_fb fb;	    /* base 0 = none */
	/* What the entry path found wrong with what its loader handed over, before any console
	 * existed ("" = nothing); kmain reports it as an error. */
	char boot_problem[BOOT_PROBLEM_MAX];
	u32 entry_errors; /* BOOT_ENTRY_* bits: what the entry path found wrong */
	u32 entry_magic;  /* with BOOT_ENTRY_BAD_MAGIC: the value the loader passed */
};

/* boot_info.entry_errors: the hand-over cannot be trusted (kmain reports it and runs no
 * guest). */
#define BOOT_ENTRY_BAD_MAGIC (1u << 0) /* multiboot2 entry without the bootloader's magic */

/* The module of that name (a boot module, or a file next to the EFI application), or NULL. */
const struct boot_module *boot_module_find(const struct boot_info *bi, const char *name);

static inline const char *boot_method_name(u32 method)
{
	switch (method) {
	case BOOT_UEFI: return "UEFI";
	case BOOT_MULTIBOOT2: return "multiboot2";
	case BOOT_PVH: return "PVH";
	default: return "unknown";
	}
}

/* The common C entry. Called in 64-bit mode with paging on (identity mapping covering at
 * least the image, the stack and boot_info), interrupts off, on the boot CPU. */
void kmain(const struct boot_info *bi) __noreturn;

#endif
