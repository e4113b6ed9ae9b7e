/* The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst): header
 * checks, placement and the zero page. Pure: host unit tests link this file. */
#include <moat/bits.h>
#include <moat/errno.h>
#include <moat/string.h>
#include <moat/x86_desc.h>
#include "vmm/linux_boot.h"

#define PAGE 4096ULL
#define SECTOR 512ULL
#define DEFAULT_SETUP_SECTS 4 /* setup_sects 0 means 4 (boot.rst, "setup_sects") */
#define DESC_LIMIT_HI GENMASK(51, 48)
#define DESC_DB BIT(54)
#define DESC_G BIT(55)

static bool is_pow2(u64 v)
{
	return v && !(v & (v - 1));
}

int linux_check(const void *image, u64 size, struct linux_image *li, char *why, size_t why_size)
{
	struct linux_setup_header h;
	u64 sects;

	memset(li, 0, sizeof(*li));
	if (size < LINUX_HDR_OFFSET + sizeof(h))
		return refuse(-ENOEXEC, why, why_size,
			      "%llu bytes are too short for a bzImage setup header",
			      (unsigned long long)size);
	memcpy(&h, (const u8 *)image + LINUX_HDR_OFFSET, sizeof(h));
	if (h.boot_flag != LINUX_BOOT_FLAG || h.header != LINUX_HDR_MAGIC)
		return refuse(-ENOEXEC, why, why_size,
			      "not a bzImage (boot flag %#x, header magic %#x)", h.boot_flag,
			      h.header);
	if (h.version < LINUX_MIN_VERSION)
		return refuse(-ENOEXEC, why, why_size,
			      "boot protocol %u.%02u is older than 2.12 (no 64-bit entry)",
			      h.version >> 8, h.version & 0xff);
	if (!(h.xloadflags & LINUX_XLF_KERNEL_64))
		return refuse(-ENOEXEC, why, why_size,
			      "the kernel has no 64-bit entry (xloadflags %#x)", h.xloadflags);
	if (!(h.loadflags & LINUX_LOADED_HIGH))
		return refuse(-ENOEXEC, why, why_size,
			      "the kernel does not load at 1 MiB or above");
	sects = h.setup_sects ? h.setup_sects : DEFAULT_SETUP_SECTS;
	li->setup_size = (sects + 1) * SECTOR;
	if (li->setup_size >= size)
		return refuse(-ENOEXEC, why, why_size,
			      "setup code of %llu bytes leaves no kernel in %llu bytes",
			      (unsigned long long)li->setup_size, (unsigned long long)size);
	li->pm_size = size - li->setup_size;
	if ((u64)h.syssize * 16 > li->pm_size)
		return refuse(
			-ENOEXEC, why, why_size,
			"the header claims %llu bytes of kernel, the file has %llu (truncated?)",
			(unsigned long long)h.syssize * 16, (unsigned long long)li->pm_size);
	li->relocatable = h.relocatable_kernel != 0;
	li->alignment = h.kernel_alignment;
	if (li->relocatable && (!is_pow2(li->alignment) || li->alignment < PAGE))
		return refuse(-ENOEXEC, why, why_size,
			      "kernel alignment %#llx is not a power of two >= 4 KiB",
			      (unsigned long long)li->alignment);
	li->init_size = h.init_size;
	if (li->init_size < li->pm_size)
		return refuse(-ENOEXEC, why, why_size,
			      "init_size %#llx is smaller than the kernel (%#llx)",
			      (unsigned long long)li->init_size, (unsigned long long)li->pm_size);
	li->pref_address = h.pref_address;
	if (!li->relocatable &&
	    (li->pref_address < LINUX_HIGH_RAM_START || !IS_ALIGNED(li->pref_address, PAGE)))
		return refuse(-ENOEXEC, why, why_size,
			      "a kernel that cannot be relocated wants %#llx, not a page at or "
			      "above 1 MiB",
			      (unsigned long long)li->pref_address);
	li->initrd_addr_max = h.initrd_addr_max;
	li->cmdline_size = h.cmdline_size;
	li->version = h.version;
	return 0;
}

int linux_layout(const struct linux_image *li, u64 ram_size, u64 initrd_size, size_t cmdline_len,
		 struct linux_layout *lay, char *why, size_t why_size)
{
	u64 top = ram_size - PAGE; /* the last page is moat's canary */
	u64 initrd_top;

	memset(lay, 0, sizeof(*lay));
	lay->ram_size = ram_size;
	if (cmdline_len > li->cmdline_size || cmdline_len >= LINUX_CMDLINE_ROOM)
		return refuse(-ENOEXEC, why, why_size,
			      "command line of %zu characters, the kernel takes %u", cmdline_len,
			      li->cmdline_size);
	if (ram_size <= LINUX_HIGH_RAM_START + PAGE)
		return refuse(-ENOEXEC, why, why_size, "%llu KiB of RAM leave nothing above 1 MiB",
			      (unsigned long long)(ram_size / 1024));
	if (li->relocatable) {
		lay->kernel_gpa = li->pref_address;
		if (!IS_ALIGNED(lay->kernel_gpa, li->alignment) ||
		    lay->kernel_gpa < LINUX_HIGH_RAM_START)
			lay->kernel_gpa = ALIGN_UP(LINUX_HIGH_RAM_START, li->alignment);
	} else {
		lay->kernel_gpa = li->pref_address;
	}
	lay->kernel_end = lay->kernel_gpa + li->init_size;
	if (lay->kernel_end < lay->kernel_gpa || lay->kernel_end > top)
		return refuse(-ENOEXEC, why, why_size,
			      "the kernel needs [%#llx, %#llx) and the guest's RAM ends at %#llx: "
			      "give it more memory",
			      (unsigned long long)lay->kernel_gpa,
			      (unsigned long long)lay->kernel_end, (unsigned long long)top);
	lay->entry = lay->kernel_gpa + LINUX_ENTRY64_OFFSET;
	if (!initrd_size)
		return 0;
	initrd_top = MIN(top, (u64)li->initrd_addr_max + 1);
	if (initrd_size > initrd_top)
		return refuse(-ENOEXEC, why, why_size,
			      "an initrd of %llu bytes does not fit below %#llx",
			      (unsigned long long)initrd_size, (unsigned long long)initrd_top);
	lay->initrd_gpa = ALIGN_DOWN(initrd_top - initrd_size, PAGE);
	lay->initrd_size = initrd_size;
	if (lay->initrd_gpa < lay->kernel_end)
		return refuse(-ENOEXEC, why, why_size,
			      "the kernel ([%#llx, %#llx)) and an initrd of %llu bytes do not fit "
			      "in %llu MiB below %#llx: give the guest more memory",
			      (unsigned long long)lay->kernel_gpa,
			      (unsigned long long)lay->kernel_end, (unsigned long long)initrd_size,
			      (unsigned long long)(ram_size >> 20), (unsigned long long)initrd_top);
	return 0;
}

static unsigned e820_add(struct e820_entry *map, unsigned n, unsigned max, u64 start, u64 end,
			 u32 type)
{
	if (n < max && end > start)
		map[n++] = (struct e820_entry){start, end - start, type};
	return n;
}

/* The first page is reserved as on a PC (the real-mode IVT and BIOS data area), the last one
 * holds moat's canary; below 1 MiB the legacy hole is reserved as on a PC (Linux looks for
 * firmware tables there). */
unsigned linux_e820(const struct linux_layout *lay, struct e820_entry *map, unsigned max)
{
	unsigned n = 0;

	n = e820_add(map, n, max, 0, PAGE, E820_RESERVED);
	n = e820_add(map, n, max, PAGE, LINUX_LOW_RAM_END, E820_RAM);
	n = e820_add(map, n, max, LINUX_LOW_RAM_END, LINUX_HIGH_RAM_START, E820_RESERVED);
	n = e820_add(map, n, max, LINUX_HIGH_RAM_START, lay->ram_size - PAGE, E820_RAM);
	n = e820_add(map, n, max, lay->ram_size - PAGE, lay->ram_size, E820_RESERVED);
	return n;
}

void linux_zero_page(u8 *zp, const void *image, const struct linux_image *li,
		     const struct linux_layout *lay, u64 rsdp)
{
	const u8 *img = image;
	struct linux_setup_header h;
	struct e820_entry map[LINUX_E820_MAX];
	u64 hdr_len = 0x202 + (u64)img[0x201] - LINUX_HDR_OFFSET;
	unsigned n;

	memset(zp, 0, LINUX_ZP_SIZE);
	/* The header as the image has it, up to its own end (boot.rst: "the setup header"). */
	hdr_len = MIN(hdr_len, (u64)(LINUX_ZP_HDR_END - LINUX_HDR_OFFSET));
	hdr_len = MIN(hdr_len, li->setup_size - LINUX_HDR_OFFSET);
	memcpy(zp + LINUX_HDR_OFFSET, img + LINUX_HDR_OFFSET, hdr_len);
	memcpy(&h, zp + LINUX_HDR_OFFSET, sizeof(h));
	h.vid_mode = 0xffff; /* "normal" */
	h.type_of_loader = LINUX_LOADER_UNDEFINED;
	h.code32_start = (u32)lay->kernel_gpa;
	h.cmd_line_ptr = (u32)LINUX_CMDLINE_GPA;
	h.ramdisk_image = (u32)lay->initrd_gpa;
	h.ramdisk_size = (u32)lay->initrd_size;
	memcpy(zp + LINUX_HDR_OFFSET, &h, sizeof(h));
	memcpy(zp + LINUX_ZP_ACPI_RSDP, &rsdp, sizeof(rsdp));
	n = linux_e820(lay, map, LINUX_E820_MAX);
	zp[LINUX_ZP_E820_ENTRIES] = (u8)n;
	memcpy(zp + LINUX_ZP_E820_TABLE, map, n * sizeof(map[0]));
}

static u64 flat_desc(u32 type, bool code)
{
	return FIELD_PREP(DESC_LIMIT_LO, 0xffff) | FIELD_PREP(DESC_TYPE, type) | DESC_S | DESC_P |
	       FIELD_PREP(DESC_LIMIT_HI, 0xf) | (code ? DESC_L : DESC_DB) | DESC_G;
}

void linux_boot_gdt(u64 gdt[LINUX_GDT_ENTRIES])
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[LINUX_BOOT_CS / 8] = flat_desc(TYPE_CODE_XR, true);
	gdt[LINUX_BOOT_DS / 8] = flat_desc(TYPE_DATA_RW, false);
}

static bool has_word(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, prefix, n))
			return true;
	return false;
}

size_t linux_cmdline(char *out, size_t size, const char *configured, u64 tsc_khz)
{
	int n;

	if (!tsc_khz || has_word(configured, "tsc_early_khz="))
		n = snprintf(out, size, "%s", configured);
	else
		n = snprintf(out, size, "%s%stsc_early_khz=%llu", configured,
			     configured[0] ? " " : "", (unsigned long long)tsc_khz);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}
