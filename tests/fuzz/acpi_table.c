/* One whole ACPI table as acpi.override hands it over (acpi/tables.c acpi_table_check and
 * acpi_info_override, then the MADT and MCFG summaries of the result), on top of the
 * tables of QEMU's q35 as moat found them there. The first byte: bit 0 repair the
 * checksum. Also each of the MADT and MCFG parsers directly on the table. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "acpi_fix.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi_info ai;
	u8 *t;
	u64 n;

	if (size < 1)
		return 0;
	n = size - 1;
	t = malloc(n ? n : 1);
	memcpy(t, data + 1, n);
	if (data[0] & 1)
		acpi_fix_table(t, n);
	memset(&ai, 0, sizeof(ai));
	if (acpi_info_override(&ai, t, n, 0x5000000, "fuzz.bin") == 0) {
		const struct acpi_sdt_header *h = (const void *)t;

		if (h->length > n || acpi_checksum(t, h->length))
			abort(); /* accepted a table that is not whole or does not sum */
		acpi_parse_summaries(&ai);
		memset(&ai, 0, sizeof(ai));
		acpi_parse_madt(&ai, h);
		acpi_parse_mcfg(&ai, h);
	}
	free(t);
	return 0;
}
