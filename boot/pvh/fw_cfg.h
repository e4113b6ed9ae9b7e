/* QEMU's firmware configuration interface (docs/specs/fw_cfg.rst in QEMU): the PVH path's
 * fallback memory map when the start info has none (version 0), from the file
 * "etc/e820". */
#ifndef BOOT_PVH_FW_CFG_H
#define BOOT_PVH_FW_CFG_H

#include <moat/types.h>

/* I/O ports of the x86 interface: a 16-bit selector, an 8-bit data port. */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511

#define FW_CFG_KEY_SIGNATURE 0x0000
#define FW_CFG_KEY_FILE_DIR 0x0019
#define FW_CFG_MAX_FILES 4096
#define FW_CFG_E820_MAX 128

/* A file directory entry: big-endian size and key. */
struct fw_cfg_file {
	u32 size_be;
	u16 select_be;
	u16 reserved;
	char name[56];
};
SIZE_CHECK(struct fw_cfg_file, 64);

/* The etc/e820 entries: little-endian, E820 types. */
struct fw_cfg_e820_entry {
	u64 address;
	u64 length;
	u32 type;
} __packed;
SIZE_CHECK(struct fw_cfg_e820_entry, 20);

/* How the interface is reached: the ports in moat, a model in the unit tests. */
struct fw_cfg_io {
	void (*select)(void *ctx, u16 key);
	u8 (*read8)(void *ctx);
	void *ctx;
};

/* The x86 ports (boot/pvh/pvh_entry.c). */
extern const struct fw_cfg_io fw_cfg_ports;

struct boot_info;
/* Adds the ranges of etc/e820 to bi->mem: their number, or -ENODEV (no fw_cfg signature),
 * -ENOENT (no etc/e820), -EINVAL (a size that is not whole entries). */
int fw_cfg_e820(struct boot_info *bi, const struct fw_cfg_io *io);

#endif
