/* Finds the DMAR table for the VT-d driver: through acpi_find_table() once the ACPI layer
 * provides it; until then by a minimal checksum-checked RSDP -> XSDT/RSDT walk of its own. */
#define LOG_TAG "vtd"
#include <moat/acpi.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "iommu/vtd_hw.h"

#define RSDP_V1_LEN 20
#define RSDP_RSDT 16
#define RSDP_REVISION 15
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

static bool checksum_ok(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + b[i]);
	return sum == 0;
}

static const u8 *rsdp_bytes(const struct boot_info *bi)
{
	if (bi->rsdp_copy_len >= RSDP_V1_LEN)
		return bi->rsdp_copy;
	if (bi->rsdp)
		return (const u8 *)(uintptr_t)bi->rsdp;
	return NULL;
}

static const struct acpi_sdt_header *table_at(u64 pa)
{
	const struct acpi_sdt_header *h = (const void *)(uintptr_t)pa;

	if (!pa || h->length < sizeof(*h) || h->length > 16 * MiB || !checksum_ok(h, h->length))
		return NULL;
	return h;
}

const struct acpi_sdt_header *vtd_find_dmar(const struct boot_info *bi)
{
	const u8 *rsdp = rsdp_bytes(bi);
	const struct acpi_sdt_header *root;
	unsigned entry_size;
	u64 root_pa;
	u32 n;

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) || !checksum_ok(rsdp, RSDP_V1_LEN))
		return NULL;
	if (rsdp[RSDP_REVISION] >= 2 && bi->rsdp_copy_len != RSDP_V1_LEN) {
		memcpy(&root_pa, rsdp + RSDP_XSDT, 8);
		entry_size = 8;
	} else {
		u32 rsdt;

		memcpy(&rsdt, rsdp + RSDP_RSDT, 4);
		root_pa = rsdt;
		entry_size = 4;
	}
	root = table_at(root_pa);
	if (!root)
		return NULL;
	n = (root->length - sizeof(*root)) / entry_size;
	for (u32 i = 0; i < n; i++) {
		u64 pa = 0;
		const struct acpi_sdt_header *t;

		memcpy(&pa, (const u8 *)(root + 1) + i * entry_size, entry_size);
		t = table_at(pa);
		if (t && !memcmp(t->signature, "DMAR", 4))
			return t;
	}
	return NULL;
}
