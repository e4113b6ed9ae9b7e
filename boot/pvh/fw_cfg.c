/* Reads QEMU's etc/e820 through fw_cfg: the PVH path's memory map when the start info
 * carries none. */
#include <moat/boot_info.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "fw_cfg.h"
#include "pvh.h"

static void fw_read(const struct fw_cfg_io *io, void *buf, u32 len)
{
	u8 *p = buf;

	for (u32 i = 0; i < len; i++)
		p[i] = io->read8(io->ctx);
}

static u32 be32(u32 v)
{
	return __builtin_bswap32(v);
}

static int find_file(const struct fw_cfg_io *io, const char *name, u16 *key, u32 *size)
{
	u32 count;

	io->select(io->ctx, FW_CFG_KEY_FILE_DIR);
	fw_read(io, &count, sizeof(count));
	count = MIN(be32(count), (u32)FW_CFG_MAX_FILES);
	for (u32 i = 0; i < count; i++) {
		struct fw_cfg_file f;

		fw_read(io, &f, sizeof(f));
		if (strnlen(f.name, sizeof(f.name)) < sizeof(f.name) && !strcmp(f.name, name)) {
			*key = __builtin_bswap16(f.select_be);
			*size = be32(f.size_be);
			return 0;
		}
	}
	return -ENOENT;
}

int fw_cfg_e820(struct boot_info *bi, const struct fw_cfg_io *io)
{
	char sig[4];
	u32 size, n;
	u16 key;
	int added = 0;

	io->select(io->ctx, FW_CFG_KEY_SIGNATURE);
	fw_read(io, sig, sizeof(sig));
	if (memcmp(sig, "QEMU", 4))
		return -ENODEV;
	if (find_file(io, "etc/e820", &key, &size))
		return -ENOENT;
	if (!size || size % sizeof(struct fw_cfg_e820_entry))
		return -EINVAL;
	n = MIN(size / (u32)sizeof(struct fw_cfg_e820_entry), (u32)FW_CFG_E820_MAX);
	io->select(io->ctx, key);
	for (u32 i = 0; i < n; i++) {
		struct fw_cfg_e820_entry e;

		fw_read(io, &e, sizeof(e));
		if (!e.length || e.address + e.length < e.address ||
		    bi->nr_mem >= BOOT_MAX_MEM_RANGES)
			continue;
		bi->mem[bi->nr_mem++] = (struct mem_range){
			.base = e.address, .length = e.length, .type = pvh_mem_type(e.type)};
		added++;
	}
	return added;
}
