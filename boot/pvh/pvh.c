/* Converts Xen's PVH start information (QEMU's -kernel of an ELF with the PVH note) into
 * struct boot_info. Nothing in it is trusted: every address is checked against the
 * readable window before use, and what is wrong is described in bi->boot_problem. */
#include <moat/boot_info.h>
#include <moat/errno.h>
#include <moat/string.h>
#include <stdarg.h>
#include "fw_cfg.h"
#include "pvh.h"

extern char __image_start[], __image_end[];

void pvh_problem(struct boot_info *bi, const char *fmt, ...)
{
	size_t used = strlen(bi->boot_problem);
	va_list ap;

	if (used && used + 2 < sizeof(bi->boot_problem)) {
		memcpy(bi->boot_problem + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(bi->boot_problem + used, sizeof(bi->boot_problem) - used, fmt, ap);
	va_end(ap);
}

/* The host address of [pa, pa + len), or NULL when any of it lies outside the window. */
static const void *pvh_ptr(const struct pvh_window *w, u64 pa, u64 len)
{
	if (pa < w->base || pa > w->limit || len > w->limit - pa)
		return NULL;
	return (const void *)(uintptr_t)(pa + w->delta);
}

/* A NUL-terminated string at pa of at most `max` bytes with its NUL, or NULL. */
static const char *pvh_string(const struct pvh_window *w, u64 pa, u64 max)
{
	const char *s;
	u64 room;

	if (pa < w->base || pa >= w->limit)
		return NULL;
	room = MIN(max, w->limit - pa);
	s = pvh_ptr(w, pa, room);
	if (!s || strnlen(s, room) == room)
		return NULL;
	return s;
}

static void add_mem(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	if (bi->nr_mem < BOOT_MAX_MEM_RANGES && len)
		bi->mem[bi->nr_mem++] =
			(struct mem_range){.base = base, .length = len, .type = type};
}

static void add_boot_data(struct boot_info *bi, u64 start, u64 end)
{
	add_mem(bi, ALIGN_DOWN(start, PAGE_SIZE),
		ALIGN_UP(end, PAGE_SIZE) - ALIGN_DOWN(start, PAGE_SIZE), MEM_BOOT_DATA);
}

u32 pvh_mem_type(u32 t)
{
	switch (t) {
	case HVM_MEMMAP_RAM: return MEM_USABLE;
	case HVM_MEMMAP_ACPI: return MEM_ACPI_RECLAIM;
	case HVM_MEMMAP_NVS: return MEM_ACPI_NVS;
	case HVM_MEMMAP_UNUSABLE: return MEM_BAD;
	case HVM_MEMMAP_PMEM: return MEM_PERSISTENT;
	default: return MEM_RESERVED;
	}
}

static void memmap_from_fw_cfg(struct boot_info *bi, const struct hvm_start_info *si,
			       const struct fw_cfg_io *fw)
{
	int n = fw ? fw_cfg_e820(bi, fw) : -ENODEV;

	if (n > 0)
		pvh_problem(bi,
			    "no memory map (start info version %u, %u entries): %d ranges "
			    "from QEMU's fw_cfg etc/e820 instead",
			    si->version, si->memmap_entries, n);
	else
		pvh_problem(bi,
			    "no memory map (start info version %u, %u entries) and none from "
			    "fw_cfg etc/e820 (%d)",
			    si->version, si->memmap_entries, n);
}

static void parse_memmap(struct boot_info *bi, const struct hvm_start_info *si,
			 const struct pvh_window *w, const struct fw_cfg_io *fw)
{
	const struct hvm_memmap_entry *e;
	u32 n = si->memmap_entries, skipped = 0;

	if (si->version < 1 || !n) {
		memmap_from_fw_cfg(bi, si, fw);
		return;
	}
	if (n > PVH_MAX_MEMMAP) {
		pvh_problem(bi, "memory map of %u entries: only the first %u read", n,
			    PVH_MAX_MEMMAP);
		n = PVH_MAX_MEMMAP;
	}
	e = pvh_ptr(w, si->memmap_paddr, (u64)n * sizeof(*e));
	if (!e) {
		pvh_problem(bi, "memory map (%u entries at %#llx) outside readable memory", n,
			    (unsigned long long)si->memmap_paddr);
		return;
	}
	for (u32 i = 0; i < n; i++) {
		if (e[i].addr + e[i].size < e[i].addr) {
			skipped++;
			continue;
		}
		add_mem(bi, e[i].addr, e[i].size, pvh_mem_type(e[i].type));
	}
	if (skipped)
		pvh_problem(bi, "%u memory map entries wrap around the address space: left out",
			    skipped);
}

static void parse_cmdline(struct boot_info *bi, const struct hvm_start_info *si,
			  const struct pvh_window *w)
{
	const char *s;

	if (!si->cmdline_paddr)
		return;
	s = pvh_string(w, si->cmdline_paddr, PVH_CMDLINE_SCAN);
	if (!s) {
		pvh_problem(bi, "command line at %#llx has no NUL within %u bytes: ignored",
			    (unsigned long long)si->cmdline_paddr, PVH_CMDLINE_SCAN);
		return;
	}
	if (strlcpy(bi->cmdline, s, sizeof(bi->cmdline)) >= sizeof(bi->cmdline))
		pvh_problem(bi, "command line of %zu bytes cut at %zu", strlen(s),
			    sizeof(bi->cmdline) - 1);
}

/* A module's name is the first word of its command line; a module without one that is
 * not an archive is the configuration (QEMU passes one -initrd file and no name). */
static void module_name(char *name, size_t size, const char *cmdline)
{
	size_t n = 0;

	while (cmdline && *cmdline == ' ')
		cmdline++;
	while (cmdline && cmdline[n] && cmdline[n] != ' ' && n + 1 < size)
		n++;
	if (!n) {
		strlcpy(name, "config", size);
		return;
	}
	memcpy(name, cmdline, n);
	name[n] = 0;
}

static void parse_modules(struct boot_info *bi, const struct hvm_start_info *si,
			  const struct pvh_window *w)
{
	const struct hvm_modlist_entry *m;
	u32 n = si->nr_modules;

	if (!n)
		return;
	if (n > PVH_MAX_MODULES) {
		pvh_problem(bi, "%u modules: only the first %u read", n, PVH_MAX_MODULES);
		n = PVH_MAX_MODULES;
	}
	m = pvh_ptr(w, si->modlist_paddr, (u64)n * sizeof(*m));
	if (!m) {
		pvh_problem(bi, "module list (%u entries at %#llx) outside readable memory", n,
			    (unsigned long long)si->modlist_paddr);
		return;
	}
	for (u32 i = 0; i < n; i++) {
		const u8 *data = pvh_ptr(w, m[i].paddr, m[i].size);
		const char *cmd = NULL;
		struct boot_module *bm;

		if (!data || !m[i].size) {
			pvh_problem(bi,
				    "module %u (%#llx, %llu bytes) outside readable memory: "
				    "left out",
				    i, (unsigned long long)m[i].paddr,
				    (unsigned long long)m[i].size);
			continue;
		}
		add_boot_data(bi, m[i].paddr, m[i].paddr + m[i].size);
		if (m[i].cmdline_paddr) {
			cmd = pvh_string(w, m[i].cmdline_paddr, PVH_CMDLINE_SCAN);
			if (!cmd)
				pvh_problem(bi, "module %u: command line has no NUL: unnamed", i);
		}
		if ((!cmd || !*cmd) && pvh_is_archive(data, m[i].size)) {
			pvh_add_archive(bi, m[i].paddr, data, m[i].size);
			continue;
		}
		if (bi->nr_modules >= BOOT_MAX_MODULES) {
			pvh_problem(bi, "module %u: more than %u modules: left out", i,
				    BOOT_MAX_MODULES);
			continue;
		}
		bm = &bi->modules[bi->nr_modules++];
		bm->start = m[i].paddr;
		bm->end = m[i].paddr + m[i].size;
		module_name(bm->name, sizeof(bm->name), cmd);
	}
}

int pvh_parse(struct boot_info *bi, u64 start_info_pa, const struct pvh_window *w,
	      const struct fw_cfg_io *fw)
{
	const struct hvm_start_info *si = pvh_ptr(w, start_info_pa, HVM_START_INFO_V0_SIZE);
	struct hvm_start_info copy = {0};
	bool full;

	bi->method = BOOT_PVH;
	bi->image_start = (uintptr_t)__image_start;
	bi->image_end = (uintptr_t)__image_end;
	if (!si) {
		pvh_problem(bi, "start info at %#llx outside readable memory",
			    (unsigned long long)start_info_pa);
		return -EINVAL;
	}
	if (si->magic != HVM_START_MAGIC) {
		pvh_problem(bi, "start info at %#llx: magic %#x, expected %#x",
			    (unsigned long long)start_info_pa, si->magic, HVM_START_MAGIC);
		return -EINVAL;
	}
	/* Version 0 ends before the memory map fields. */
	full = si->version >= 1 && pvh_ptr(w, start_info_pa, sizeof(copy));
	memcpy(&copy, si, full ? sizeof(copy) : HVM_START_INFO_V0_SIZE);
	parse_memmap(bi, &copy, w, fw);
	parse_cmdline(bi, &copy, w);
	parse_modules(bi, &copy, w);
	bi->rsdp = copy.rsdp_paddr;
	add_boot_data(bi, start_info_pa, start_info_pa + sizeof(copy));
	return 0;
}
