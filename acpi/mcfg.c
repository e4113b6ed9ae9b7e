/* MCFG (PCI Firmware Specification 3.2, 4.1.2): ECAM windows per segment. */
#define LOG_TAG "acpi"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"

struct mcfg {
	struct acpi_sdt_header hdr;
	u64 reserved;
} __packed;
SIZE_CHECK(struct mcfg, 44);

struct mcfg_alloc {
	u64 base;
	u16 segment;
	u8 bus_start;
	u8 bus_end;
	u32 reserved;
} __packed;
SIZE_CHECK(struct mcfg_alloc, 16);

#define ECAM_BUS_SIZE MiB

static bool mcfg_entry_ok(const struct mcfg_alloc *a, unsigned i)
{
	if (a->bus_start > a->bus_end) {
		pr_err(-EINVAL, "MCFG entry %u: bus range %u-%u is reversed; ignored\n", i,
		       a->bus_start, a->bus_end);
		return false;
	}
	if (!a->base || !IS_ALIGNED(a->base, ECAM_BUS_SIZE)) {
		pr_err(-EINVAL, "MCFG entry %u: ECAM base %#llx is not 1 MiB aligned; ignored\n", i,
		       (unsigned long long)a->base);
		return false;
	}
	return true;
}

int acpi_parse_mcfg(struct acpi_info *ai, const struct acpi_sdt_header *hdr)
{
	const struct mcfg_alloc *a = (const void *)((const u8 *)hdr + sizeof(struct mcfg));
	unsigned n;

	if (hdr->length < sizeof(struct mcfg))
		return pr_err(-EINVAL, "MCFG length %u is shorter than its header\n", hdr->length);
	n = (hdr->length - sizeof(struct mcfg)) / sizeof(*a);
	if ((hdr->length - sizeof(struct mcfg)) % sizeof(*a))
		pr_warn("MCFG length %u leaves a partial entry; ignored\n", hdr->length);
	for (unsigned i = 0; i < n; i++) {
		struct acpi_mcfg_segment s;

		if (!mcfg_entry_ok(&a[i], i))
			continue;
		if (ai->nr_mcfg == ACPI_MAX_MCFG) {
			pr_warn("MCFG has more than %u entries; the rest are ignored\n",
				ACPI_MAX_MCFG);
			break;
		}
		s = (struct acpi_mcfg_segment){a[i].base, a[i].segment, a[i].bus_start,
					       a[i].bus_end};
		ai->mcfg[ai->nr_mcfg++] = s;
	}
	return 0;
}
