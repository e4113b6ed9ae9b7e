/* A cpio "newc" archive as the PVH path's module container: QEMU's -kernel passes one
 * -initrd file, so the guest images and moat.conf travel in one archive and each regular
 * file becomes a module, named as the UEFI loader names the files next to it: moat.conf is
 * `config`, <name>.elf is <name>, anything else keeps its file name (directories are
 * skipped). Format: a
 * 110-byte ASCII header ("070701", then 13 fields of 8 hex digits), the NUL-terminated
 * name, padding to 4 bytes, the data, padding to 4 bytes; "TRAILER!!!" ends it. */
#include <moat/boot_info.h>
#include <moat/string.h>
#include "pvh.h"

#define CPIO_HEADER_SIZE 110
#define CPIO_MODE_TYPE 0170000u
#define CPIO_MODE_FILE 0100000u

enum { CPIO_F_MODE = 1, CPIO_F_FILESIZE = 6, CPIO_F_NAMESIZE = 11 };

bool pvh_is_archive(const u8 *data, u64 size)
{
	return size >= CPIO_HEADER_SIZE &&
	       (!memcmp(data, "070701", 6) || !memcmp(data, "070702", 6));
}

static bool cpio_field(const u8 *hdr, unsigned idx, u32 *val)
{
	const u8 *p = hdr + 6 + idx * 8;
	u32 v = 0;

	for (unsigned i = 0; i < 8; i++) {
		u8 c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (u32)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (u32)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (u32)(c - 'A' + 10);
		else
			return false;
	}
	*val = v;
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = strchr(path, '/');

	while (slash) {
		path = slash + 1;
		slash = strchr(path, '/');
	}
	return path;
}

static void module_name(char *out, size_t size, const char *path)
{
	const char *name = base_name(path);
	size_t len = strlen(name);

	if (!strcmp(name, "moat.conf")) {
		strlcpy(out, "config", size);
		return;
	}
	if (len > 4 && !strcmp(name + len - 4, ".elf"))
		len -= 4;
	strlcpy(out, name, MIN(size, len + 1));
}

void pvh_add_archive(struct boot_info *bi, u64 pa, const u8 *data, u64 size)
{
	u64 off = 0;

	while (off + CPIO_HEADER_SIZE <= size) {
		const u8 *hdr = data + off;
		u32 mode, filesize, namesize;
		const char *name;
		u64 data_off;
		struct boot_module *m;

		if (!pvh_is_archive(hdr, size - off) || !cpio_field(hdr, CPIO_F_MODE, &mode) ||
		    !cpio_field(hdr, CPIO_F_FILESIZE, &filesize) ||
		    !cpio_field(hdr, CPIO_F_NAMESIZE, &namesize) || !namesize ||
		    namesize > size - off - CPIO_HEADER_SIZE) {
			pvh_problem(bi, "module archive: bad header at offset %llu: rest ignored",
				    (unsigned long long)off);
			return;
		}
		name = (const char *)hdr + CPIO_HEADER_SIZE;
		if (name[namesize - 1]) {
			pvh_problem(bi, "module archive: name at offset %llu not NUL-terminated",
				    (unsigned long long)off);
			return;
		}
		if (!strcmp(name, "TRAILER!!!"))
			return;
		data_off = ALIGN_UP(off + CPIO_HEADER_SIZE + namesize, 4);
		if (data_off > size || filesize > size - data_off) {
			pvh_problem(bi, "module archive: %s (%u bytes) runs past its end", name,
				    filesize);
			return;
		}
		off = ALIGN_UP(data_off + filesize, 4);
		if ((mode & CPIO_MODE_TYPE) != CPIO_MODE_FILE || !*base_name(name))
			continue;
		if (bi->nr_modules >= BOOT_MAX_MODULES) {
			pvh_problem(bi, "module archive: %s: more than %u modules: left out", name,
				    BOOT_MAX_MODULES);
			continue;
		}
		m = &bi->modules[bi->nr_modules++];
		m->start = pa + data_off;
		m->end = m->start + filesize;
		module_name(m->name, sizeof(m->name), name);
	}
	pvh_problem(bi, "module archive: no TRAILER!!! entry");
}
