/* The PVH path's C entry, called by boot32_to_long (arch/x86/boot32.asm) in long mode. */
#include <moat/boot_info.h>
#include "arch/x86/io.h"
#include "fw_cfg.h"
#include "pvh.h"

static struct boot_info pvh_boot_info;

void pvh_entry(u32 eax, u32 start_info_pa) __noreturn;

static void fw_cfg_port_select(void *ctx, u16 key)
{
	(void)ctx;
	outw(FW_CFG_PORT_SEL, key);
}

static u8 fw_cfg_port_read8(void *ctx)
{
	(void)ctx;
	return inb(FW_CFG_PORT_DATA);
}

/* QEMU's fw_cfg ports; only used when the start info has no memory map. */
const struct fw_cfg_io fw_cfg_ports = {.select = fw_cfg_port_select, .read8 = fw_cfg_port_read8};

void pvh_entry(u32 eax, u32 start_info_pa)
{
	/* boot32_to_long maps the first 4 GiB 1:1. QEMU's option ROM keeps the memory map in
	 * page 0 (measured: 0x5a8), so that page is readable too; only address 0 itself
	 * reads as "outside" (pvh_ptr gives NULL for it). */
	static const struct pvh_window identity = {.base = 0, .limit = 4 * GiB};

	(void)eax;
	pvh_parse(&pvh_boot_info, start_info_pa, &identity, &fw_cfg_ports);
	kmain(&pvh_boot_info);
}
