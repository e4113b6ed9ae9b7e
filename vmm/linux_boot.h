/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the bzImage setup header,
 * where moat puts the kernel, its initrd and command line in the guest's RAM, and the zero
 * page (struct boot_params) with the e820 map. Pure: host unit tests link this file. */
#ifndef VMM_LINUX_BOOT_H
#define VMM_LINUX_BOOT_H

#include <moat/types.h>

/* The setup header, at offset 0x1f1 of the bzImage and of the zero page. */
struct linux_setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize; /* protected-mode code, in 16-byte units */
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag; /* 0xaa55 */
	u16 jump;      /* its second byte: the header's end, relative to 0x202 */
	u32 header;    /* "HdrS" */
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} __packed;
SIZE_CHECK(struct linux_setup_header, 0x26c - 0x1f1);

#define LINUX_HDR_OFFSET 0x1f1
#define LINUX_BOOT_FLAG 0xaa55
#define LINUX_HDR_MAGIC 0x53726448 /* "HdrS" */
#define LINUX_MIN_VERSION 0x020c   /* 2.12: xloadflags, the 64-bit entry */

/* loadflags */
#define LINUX_LOADED_HIGH BIT(0)
/* xloadflags */
#define LINUX_XLF_KERNEL_64 BIT(0)
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G BIT(1)

#define LINUX_LOADER_UNDEFINED 0xff /* type_of_loader: a boot loader without an ID */
#define LINUX_ENTRY64_OFFSET 0x200  /* the 64-bit entry, from the protected-mode code */

/* struct boot_params: the fields moat fills (the rest stays zero). */
#define LINUX_ZP_SIZE 4096
#define LINUX_ZP_ACPI_RSDP 0x070
#define LINUX_ZP_E820_ENTRIES 0x1e8
#define LINUX_ZP_HDR_END 0x290 /* the header's room in the zero page ends here */
#define LINUX_ZP_E820_TABLE 0x2d0
#define LINUX_E820_MAX 128

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_entry {
	u64 addr, size;
	u32 type;
} __packed;
SIZE_CHECK(struct e820_entry, 20);

/* Guest-physical layout of a Linux guest (below 1 MiB; the kernel and initrd go higher). */
#define LINUX_GDT_GPA 0x10000ULL
#define LINUX_ZERO_PAGE_GPA 0x11000ULL
#define LINUX_CMDLINE_GPA 0x12000ULL
#define LINUX_CMDLINE_ROOM 0x2000ULL /* up to 0x14000 */
#define LINUX_LOW_RAM_END 0x9f000ULL /* then the legacy EBDA/VGA/BIOS hole */
#define LINUX_HIGH_RAM_START 0x100000ULL

/* The GDT the protocol asks for: __BOOT_CS (0x10) and __BOOT_DS (0x18), flat. */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18
#define LINUX_GDT_ENTRIES 4

/* What the header says about a kernel that passed linux_check(). */
struct linux_image {
	u64 setup_size; /* bytes before the protected-mode code */
	u64 pm_size;	/* protected-mode code in the file */
	u64 init_size;	/* memory it needs from its load address */
	u64 pref_address;
	u64 alignment;
	bool relocatable;
	u32 initrd_addr_max;
	u32 cmdline_size; /* longest command line it takes, without the NUL */
	u16 version;
};

/* Where a kernel, its initrd and command line go in a guest of ram_size bytes whose first
 * page is reserved as on a PC and whose last page moat keeps (its canary). */
struct linux_layout {
	u64 kernel_gpa, kernel_end; /* [kernel_gpa, kernel_gpa + init_size) */
	u64 initrd_gpa, initrd_size;
	u64 ram_size;
	u64 entry;
};

int linux_check(const void *image, u64 size, struct linux_image *li, char *why, size_t why_size);
int linux_layout(const struct linux_image *li, u64 ram_size, u64 initrd_size, size_t cmdline_len,
		 struct linux_layout *lay, char *why, size_t why_size);
/* The command line the kernel gets: the configured one, plus `tsc_early_khz=<tsc_khz>` unless
 * it names one already (or tsc_khz is 0): Linux on AMD CPUs calibrates its TSC only against
 * the PIT or the PM timer, a loop of port reads each of which is an exit here, and it gives
 * up when the reads take too long (they do under emulation, or on a loaded host). Returns
 * the length written (without the NUL), or 0 if it does not fit in `size`. */
size_t linux_cmdline(char *out, size_t size, const char *configured, u64 tsc_khz);
/* The e820 map of such a guest; returns the number of entries (at most max). */
unsigned linux_e820(const struct linux_layout *lay, struct e820_entry *map, unsigned max);
/* Fills the zero page (LINUX_ZP_SIZE bytes): header copied from the image, then what the
 * loader must set; `rsdp` is the guest-physical RSDP or 0. */
void linux_zero_page(u8 *zp, const void *image, const struct linux_image *li,
		     const struct linux_layout *lay, u64 rsdp);
/* The boot GDT (LINUX_GDT_ENTRIES descriptors). */
void linux_boot_gdt(u64 gdt[LINUX_GDT_ENTRIES]);

#endif
