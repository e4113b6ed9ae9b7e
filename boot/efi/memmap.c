/* The firmware memory map: retrieval, the report before the exit, and ExitBootServices
 * with the stale-map-key retry. */
#include "boot/efi/loader.h"

/* A map key goes stale whenever firmware changes the map between GetMemoryMap and
 * ExitBootServices (timer events may allocate); a few retries always suffice. */
#define EXIT_ATTEMPTS 8
#define GET_MAP_ATTEMPTS 4
/* Our own buffer allocation adds descriptors to the map it is meant to hold. */
#define MAP_SLACK_DESCS 32

static struct {
	void *buf;
	UINTN cap;
} map_buf;

static EFI_STATUS map_buffer_grow(UINTN need, UINTN desc_size)
{
	UINTN want = ALIGN_UP(need + MAP_SLACK_DESCS * desc_size, EFI_PAGE_BYTES);
	EFI_STATUS status;
	u64 pa;

	if (map_buf.buf)
		uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)(UINTN)map_buf.buf,
				  map_buf.cap / EFI_PAGE_BYTES);
	map_buf.buf = NULL;
	map_buf.cap = 0;
	status = loader_alloc_pages(want, &pa);
	if (EFI_ERROR(status))
		return status;
	map_buf.buf = (void *)(UINTN)pa;
	map_buf.cap = want;
	return EFI_SUCCESS;
}

/* Only memory services are called here: it is also used between ExitBootServices tries. */
static EFI_STATUS memmap_get(void **map, UINTN *size, UINTN *desc_size, UINTN *key)
{
	EFI_STATUS status = EFI_BUFFER_TOO_SMALL;
	UINT32 version;

	for (int i = 0; i < GET_MAP_ATTEMPTS; i++) {
		UINTN sz = map_buf.cap;

		*desc_size = 0;
		status = uefi_call_wrapper(BS->GetMemoryMap, 5, &sz, map_buf.buf, key, desc_size,
					   &version);
		if (status == EFI_BUFFER_TOO_SMALL) {
			status = map_buffer_grow(sz, MAX(*desc_size, sizeof(struct efi_mem_desc)));
			if (EFI_ERROR(status))
				return status;
			continue;
		}
		if (EFI_ERROR(status))
			return status;
		*map = map_buf.buf;
		*size = sz;
		return EFI_SUCCESS;
	}
	return status;
}

static const CHAR16 *efi_type_name(u32 type)
{
	static const CHAR16 *const names[] = {
		L"Reserved",
		L"LoaderCode",
		L"LoaderData",
		L"BootServicesCode",
		L"BootServicesData",
		L"RuntimeServicesCode",
		L"RuntimeServicesData",
		L"Conventional",
		L"Unusable",
		L"ACPIReclaim",
		L"ACPINVS",
		L"MMIO",
		L"MMIOPortSpace",
		L"PalCode",
		L"Persistent",
		L"Unaccepted",
	};

	return type < ARRAY_SIZE(names) ? names[type] : L"OEM/OS-defined";
}

static void print_descriptors(const void *map, UINTN size, UINTN desc_size, u64 base, u64 end)
{
	struct efi_mem_desc d;

	for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
		u64 d_end;

		__builtin_memcpy(&d, (const u8 *)map + off, sizeof(d));
		d_end = d.phys_start + d.nr_pages * EFI_PAGE_BYTES;
		if (d.phys_start < end && base < d_end)
			Print(L"efi:   %lx-%lx %s attr %lx\n", d.phys_start, d_end - 1,
			      efi_type_name(d.type), d.attribute);
	}
}

void memmap_print_overlapping(u64 base, u64 end)
{
	UINTN size, desc_size, key;
	EFI_STATUS status;
	void *map;

	status = memmap_get(&map, &size, &desc_size, &key);
	if (EFI_ERROR(status) || desc_size < sizeof(struct efi_mem_desc)) {
		Print(L"efi: GetMemoryMap failed: %r\n", status);
		return;
	}
	print_descriptors(map, size, desc_size, base, end);
}

static void report_stats(const struct efi_mmap_stats *st, UINTN desc_size)
{
	if (st->nr_invalid)
		Print(L"efi: memory map: %d descriptors unaligned or past 2^64: ignored\n",
		      st->nr_invalid);
	if (st->nr_overlaps)
		Print(L"efi: memory map: %d pairs of descriptors overlap: the stricter type kept\n",
		      st->nr_overlaps);
	if (st->trailing)
		Print(L"efi: memory map: %d bytes after the last %d-byte descriptor: ignored\n",
		      st->trailing, (int)desc_size);
	if (st->dropped_bytes)
		Print(L"efi: memory map needs %d ranges, boot_info holds %d: %ld KiB from %lx up "
		      L"left out\n",
		      st->nr_needed, BOOT_MAX_MEM_RANGES, st->dropped_bytes / 1024,
		      st->first_dropped);
}

EFI_STATUS memmap_preview(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	struct efi_mmap_stats st;
	UINTN size, desc_size, key;
	EFI_STATUS status;
	u64 usable = 0;
	void *map;
	int err;

	status = memmap_get(&map, &size, &desc_size, &key);
	if (EFI_ERROR(status)) {
		Print(L"efi: GetMemoryMap failed: %r\n", status);
		return status;
	}
	err = efi_mmap_convert(map, size, desc_size, ld->keep, ld->nr_keep, bi->mem,
			       BOOT_MAX_MEM_RANGES, &bi->nr_mem, &st);
	if (err == -EINVAL) {
		Print(L"efi: memory map descriptor size %d is smaller than %d bytes\n",
		      (int)desc_size, (int)sizeof(struct efi_mem_desc));
		return EFI_UNSUPPORTED;
	}
	report_stats(&st, desc_size);
	if (efi_cmdline_has(bi->cmdline, "loglevel=debug")) {
		Print(L"efi: firmware memory map:\n");
		print_descriptors(map, size, desc_size, 0, ~0ULL);
	}
	for (u32 i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == MEM_USABLE || bi->mem[i].type == MEM_BOOT_DATA)
			usable += bi->mem[i].length;
	Print(L"efi: memory map: %d descriptors of %d bytes -> %d ranges, %ld MiB usable\n",
	      st.nr_desc, (int)desc_size, bi->nr_mem, usable >> 20);
	return EFI_SUCCESS;
}

/* After the first ExitBootServices call only memory services may be used: no Print until
 * the exit succeeded or was given up. */
EFI_STATUS exit_boot_services(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	size_t base_len = 0;
	struct efi_mmap_stats st;
	UINTN size, desc_size, key;
	EFI_STATUS status;
	void *map;
	int attempt;

	while (bi->cmdline[base_len])
		base_len++;
	Print(L"efi: leaving boot services, entering moat at %lx\n", ld->img.hdr.entry64);
	for (attempt = 1; attempt <= EXIT_ATTEMPTS; attempt++) {
		status = memmap_get(&map, &size, &desc_size, &key);
		if (EFI_ERROR(status))
			break;
		efi_mmap_convert(map, size, desc_size, ld->keep, ld->nr_keep, bi->mem,
				 BOOT_MAX_MEM_RANGES, &bi->nr_mem, &st);
		EFI_TEST_HOOK(before_exit_attempt, ld, attempt, base_len);
		status = uefi_call_wrapper(BS->ExitBootServices, 2, ld->image_handle, key);
		if (!EFI_ERROR(status))
			return EFI_SUCCESS;
		if (status != EFI_INVALID_PARAMETER)
			break;
	}
	Print(L"efi: ExitBootServices failed (attempt %d of %d): %r\n", attempt, EXIT_ATTEMPTS,
	      status);
	return status;
}
