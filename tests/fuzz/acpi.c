/* ACPI discovery (acpi/tables.c, madt.c, mcfg.c): RSDP -> XSDT or RSDT -> tables (and the
 * DSDT through the FADT) -> MADT and MCFG summaries, over a fake physical memory that is
 * the input placed at ACPI_FUZZ_BASE (the BIOS area the RSDP scan searches). The first
 * byte chooses: bit 0 repair checksums, bits 1-2 the RSDP: in memory at the base, a
 * 20- or 36-byte copy of the first bytes (as from a multiboot2 tag), or found by the scan. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "acpi_fix.h"
#include "fuzz.h"

#define ACPI_FUZZ_BASE 0xe0000ULL

struct fake_mem {
	u8 *buf;
	u64 len;
};

static const void *fake_map(void *ctx, u64 pa, u64 len)
{
	const struct fake_mem *m = ctx;

	if (pa < ACPI_FUZZ_BASE || pa - ACPI_FUZZ_BASE > m->len ||
	    len > m->len - (pa - ACPI_FUZZ_BASE))
		return NULL;
	return m->buf + (pa - ACPI_FUZZ_BASE);
}

static u8 *at(struct fake_mem *m, u64 pa, u64 *avail)
{
	if (pa < ACPI_FUZZ_BASE || pa - ACPI_FUZZ_BASE >= m->len)
		return NULL;
	*avail = m->len - (pa - ACPI_FUZZ_BASE);
	return m->buf + (pa - ACPI_FUZZ_BASE);
}

static void fix_table_at(struct fake_mem *m, u64 pa)
{
	u64 avail;
	u8 *p = at(m, pa, &avail);

	if (p)
		acpi_fix_table(p, avail);
}

/* RSDP at the start, root, every entry, the FADT's DSDT. */
static void fix_checksums(struct fake_mem *m)
{
	struct acpi_rsdp r;
	u64 avail, root;
	bool x;
	u8 *p;

	if (m->len < sizeof(r))
		return;
	acpi_fix_sum(m->buf, ACPI_RSDP_V1_LEN, 8);
	acpi_fix_sum(m->buf, sizeof(r), 32);
	memcpy(&r, m->buf, sizeof(r));
	x = r.revision >= 2 && r.xsdt;
	root = x ? r.xsdt : r.rsdt;
	p = at(m, root, &avail);
	if (!p || avail < 36)
		return;
	for (u64 off = 36; off + (x ? 8 : 4) <= avail; off += x ? 8 : 4) {
		u64 pa = 0;
		u32 rl;

		memcpy(&rl, p + 4, 4);
		if (off + (x ? 8 : 4) > rl)
			break;
		memcpy(&pa, p + off, x ? 8 : 4);
		fix_table_at(m, pa);
		if (at(m, pa, &avail) && avail >= 148 &&
		    !memcmp(m->buf + (pa - ACPI_FUZZ_BASE), "FACP", 4)) {
			const u8 *f = m->buf + (pa - ACPI_FUZZ_BASE);
			u64 dsdt = 0;
			u32 d32;

			memcpy(&dsdt, f + 140, 8);
			memcpy(&d32, f + 40, 4);
			fix_table_at(m, dsdt ? dsdt : d32);
			fix_table_at(m, pa);
		}
		p = at(m, root, &avail);
	}
	fix_table_at(m, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi_info ai;
	struct fake_mem m;
	struct acpi_access acc = {fake_map, &m};
	u8 flags, copy[36];
	u64 copy_len = 0, rsdp_pa = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	m.len = size - 1;
	m.buf = malloc(m.len ? m.len : 1);
	memcpy(m.buf, data + 1, m.len);
	if (flags & 1)
		fix_checksums(&m);
	switch ((flags >> 1) & 3) {
	case 0: rsdp_pa = ACPI_FUZZ_BASE; break;
	case 1: copy_len = ACPI_RSDP_V1_LEN; break;
	case 2: copy_len = sizeof(struct acpi_rsdp); break;
	default: break; /* neither: the scan */
	}
	if (copy_len > m.len)
		copy_len = m.len; /* the loader's copy is what it had: never more than exists */
	memcpy(copy, m.buf, copy_len);
	memset(&ai, 0, sizeof(ai));
	if (acpi_parse(&ai, &acc, rsdp_pa, copy_len ? copy : NULL, copy_len) == 0) {
		if (ai.nr_tables > ACPI_MAX_TABLES || ai.nr_cpus > ACPI_MAX_CPUS ||
		    ai.nr_ioapics > ACPI_MAX_IOAPICS || ai.nr_isos > ACPI_MAX_OVERRIDES ||
		    ai.nr_mcfg > ACPI_MAX_MCFG)
			abort();
		for (unsigned i = 0; i < ai.nr_tables; i++)
			if (acpi_checksum(ai.tables[i].hdr, ai.tables[i].hdr->length))
				abort(); /* a table kept that does not sum to zero */
		acpi_info_find(&ai, "APIC", 0);
	}
	free(m.buf);
	return 0;
}
