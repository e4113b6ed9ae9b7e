/* Xen's PVH start information (xen/include/public/arch-x86/hvm/start_info.h), as QEMU's
 * -kernel (pc-bios/optionrom/pvh_main.c) and other VMMs hand it over in EBX. */
#ifndef BOOT_PVH_H
#define BOOT_PVH_H

#include <moat/types.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr; /* array of struct hvm_modlist_entry */
	u64 cmdline_paddr; /* NUL-terminated */
	u64 rsdp_paddr;
	/* version >= 1 */
	u64 memmap_paddr; /* array of struct hvm_memmap_entry */
	u32 memmap_entries;
	u32 reserved;
};
SIZE_CHECK(struct hvm_start_info, 56);
#define HVM_START_INFO_V0_SIZE 40

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
};
SIZE_CHECK(struct hvm_modlist_entry, 32);

/* The types are the E820 ones. */
enum {
	HVM_MEMMAP_RAM = 1,
	HVM_MEMMAP_RESERVED = 2,
	HVM_MEMMAP_ACPI = 3,
	HVM_MEMMAP_NVS = 4,
	HVM_MEMMAP_UNUSABLE = 5,
	HVM_MEMMAP_DISABLED = 6,
	HVM_MEMMAP_PMEM = 7,
};

struct hvm_memmap_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
};
SIZE_CHECK(struct hvm_memmap_entry, 24);

/* Physical memory the parser may read: [base, limit) is at host address pa + delta (moat's
 * boot stub maps the first 4 GiB 1:1, delta 0; unit tests point it at a buffer). */
struct pvh_window {
	u64 base, limit;
	uintptr_t delta;
};

/* At most this many memory map entries and modules are looked at. */
#define PVH_MAX_MEMMAP 1024
#define PVH_MAX_MODULES 64
/* A command line (moat's or a module's) must end within this many bytes. */
#define PVH_CMDLINE_SCAN 4096

struct boot_info;
struct fw_cfg_io;
/* 0, or -EINVAL when nothing can be trusted (start info outside the window, bad magic).
 * Whatever else is wrong is described in bi->boot_problem and left out. Without a memory
 * map in the start info, QEMU's etc/e820 is read through `fw` (if not NULL). */
int pvh_parse(struct boot_info *bi, u64 start_info_pa, const struct pvh_window *w,
	      const struct fw_cfg_io *fw);
/* E820 / hvm_memmap type -> enum mem_type */
u32 pvh_mem_type(u32 e820_type);
/* Adds the files of a cpio "newc" archive as modules (named by their file names). */
void pvh_add_archive(struct boot_info *bi, u64 pa, const u8 *data, u64 size);
bool pvh_is_archive(const u8 *data, u64 size);
void pvh_problem(struct boot_info *bi, const char *fmt, ...) __printf(2, 3);

#endif
