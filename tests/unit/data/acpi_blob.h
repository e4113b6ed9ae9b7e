/* One captured ACPI structure: its signature, physical address (0 = the RSDP copy a
 * multiboot2 loader hands over) and bytes. */
#ifndef TESTS_UNIT_DATA_ACPI_BLOB_H
#define TESTS_UNIT_DATA_ACPI_BLOB_H

#include <moat/types.h>

struct acpi_blob {
	const char *sig;
	u64 pa;
	u32 len;
	const u8 *bytes;
};

#endif
