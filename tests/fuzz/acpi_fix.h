/* Checksum repair for the ACPI fuzz targets: with it, mutated tables reach the parsers
 * behind the checksum gate; without it (the input's choice) the gate itself is fuzzed. */
#ifndef TESTS_FUZZ_ACPI_FIX_H
#define TESTS_FUZZ_ACPI_FIX_H

#include <moat/types.h>

/* Makes the `len` bytes at p sum to zero by adjusting the byte at p[at]. */
static inline void acpi_fix_sum(u8 *p, u64 len, u64 at)
{
	u8 s = 0;

	if (at >= len)
		return;
	p[at] = 0;
	for (u64 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	p[at] = (u8)-s;
}

/* A table header at p with `avail` bytes there: its checksum over min(length, avail). */
static inline void acpi_fix_table(u8 *p, u64 avail)
{
	u32 len;

	if (avail < 36)
		return;
	memcpy(&len, p + 4, 4);
	acpi_fix_sum(p, len < avail ? len : avail, 9);
}

#endif
