/* Synthetic ACPI tables for host tests: a DMAR built structure by structure (DRHD, RMRR and
 * their device scopes) and an MCFG with several segments. Lengths and the checksum are
 * filled in as the firmware would. */
#ifndef TESTS_ACPI_BUILDER_H
#define TESTS_ACPI_BUILDER_H

#include <moat/acpi.h>
#include <moat/types.h>

struct acpi_builder {
	u8 buf[2048];
	size_t len;
	size_t open; /* offset of the structure scopes are added to */
};

/* DMAR header with host address width `haw` bits and `flags`. */
void ab_dmar(struct acpi_builder *b, u8 haw, u8 flags);
/* A DRHD (flags bit 0: INCLUDE_PCI_ALL) for `seg` at `base`; scopes follow. */
void ab_drhd(struct acpi_builder *b, u8 flags, u16 seg, u64 base);
/* An RMRR [base, limit] for `seg`; scopes follow. */
void ab_rmrr(struct acpi_builder *b, u16 seg, u64 base, u64 limit);
/* A one-hop device scope bus:dev.fn of `type` (enum dmar_scope_type) in the open structure. */
void ab_scope(struct acpi_builder *b, u8 type, u8 enum_id, u8 bus, u8 dev, u8 fn);

/* MCFG header; then one ab_mcfg_seg per ECAM window. */
void ab_mcfg(struct acpi_builder *b);
void ab_mcfg_seg(struct acpi_builder *b, u64 base, u16 seg, u8 start_bus, u8 end_bus);

/* Length and checksum; returns the table. */
const struct acpi_sdt_header *ab_finish(struct acpi_builder *b);

#endif
