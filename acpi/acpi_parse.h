/* The ACPI parsers behind include/moat/acpi.h. They reach firmware memory only through
 * acpi_map_fn, so host unit tests can feed them captured or corrupted table bytes. */
#ifndef ACPI_ACPI_PARSE_H
#define ACPI_ACPI_PARSE_H

#include <moat/acpi.h>

/* A pointer through which [pa, pa + len) can be read, or NULL if that range is not
 * memory moat can read. */
typedef const void *(*acpi_map_fn)(void *ctx, u64 pa, u64 len);

struct acpi_access {
	acpi_map_fn map;
	void *ctx;
};

/* No real table comes near this; a larger length is a corrupt header. */
#define ACPI_MAX_TABLE_LEN (4 * MiB)

struct acpi_table {
	u64 pa;
	const struct acpi_sdt_header *hdr;
};

struct acpi_info {
	u64 rsdp_pa; /* 0 when parsed from a copy */
	u8 rsdp_revision;
	char root_sig[5]; /* "XSDT" or "RSDT" */
	u64 root_pa;

	struct acpi_table tables[ACPI_MAX_TABLES];
	unsigned nr_tables;
	unsigned seen, rejected;
	unsigned overridden, added; /* tables replaced or added by boot modules */

	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned nr_cpus, nr_cpus_enabled, cpus_dropped;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nr_ioapics;
	struct acpi_irq_override isos[ACPI_MAX_OVERRIDES];
	unsigned nr_isos;
	u64 lapic_addr;
	bool madt_ok;

	struct acpi_mcfg_segment mcfg[ACPI_MAX_MCFG];
	unsigned nr_mcfg;
};

/* RSDP (ACPI 6.5 5.2.5.3) */
struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt;
	/* revision >= 2 */
	u32 length;
	u64 xsdt;
	u8 ext_checksum;
	u8 reserved[3];
} __packed;
SIZE_CHECK(struct acpi_rsdp, 36);
#define ACPI_RSDP_V1_LEN 20

u8 acpi_checksum(const void *p, u64 len);
/* Validates an RSDP's bytes (`len` available). 0, or -EINVAL with the reason logged.
 * *use_xsdt says whether the v2 part is valid. */
int acpi_rsdp_check(const struct acpi_rsdp *r, u64 len, bool *use_xsdt);
/* Finds the RSDP in the BIOS area 0xE0000-0xFFFFF; returns its address or 0. */
u64 acpi_rsdp_scan(const struct acpi_access *acc);
/* Maps and validates the table at pa (signature `sig` if non-NULL). NULL if bad (logged). */
const struct acpi_sdt_header *acpi_table_map(const struct acpi_access *acc, u64 pa,
					     const char *sig);

/* Validates a table given as `size` bytes at p (a boot module): printable signature,
 * sane length within `size`, checksum. 0, or -EINVAL with the reason logged; `where`
 * names the table in messages. */
int acpi_table_check(const void *p, u64 size, const char *where);
/* Puts the table at p (`size` bytes, physical address pa, from boot module `name`) in
 * place of the first table with its signature, or adds it when there is none. A table
 * that fails acpi_table_check is refused (-EINVAL) and the firmware's stays. */
int acpi_info_override(struct acpi_info *ai, const void *p, u64 size, u64 pa, const char *name);

/* RSDP (at rsdp_pa, or rsdp_copy when copy_len != 0) -> root -> tables. Returns 0 or a
 * negative errno when there is no usable ACPI. */
int acpi_parse_tables(struct acpi_info *ai, const struct acpi_access *acc, u64 rsdp_pa,
		      const void *rsdp_copy, u64 copy_len);
/* MADT and MCFG summaries of the tables found (after any override). */
void acpi_parse_summaries(struct acpi_info *ai);
/* Whole parse: RSDP (at rsdp_pa, or rsdp_copy when copy_len != 0) -> root -> tables ->
 * MADT and MCFG summaries. Returns 0 or a negative errno when there is no usable ACPI. */
int acpi_parse(struct acpi_info *ai, const struct acpi_access *acc, u64 rsdp_pa,
	       const void *rsdp_copy, u64 copy_len);
const struct acpi_sdt_header *acpi_info_find(const struct acpi_info *ai, const char *sig,
					     unsigned idx);

/* What acpi_init found (for the test image's checks). */
const struct acpi_info *acpi_state(void);

int acpi_parse_madt(struct acpi_info *ai, const struct acpi_sdt_header *madt);
int acpi_parse_mcfg(struct acpi_info *ai, const struct acpi_sdt_header *mcfg);

#endif
