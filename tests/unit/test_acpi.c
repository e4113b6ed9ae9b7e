/* ACPI parsers on tables captured from QEMU q35 and Bochs, and on corrupted variants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "acpi/acpi_parse.h"
#include "host_shim.h"
#include "data/acpi_blob.h"
#include "data/acpi_qemu_q35.h"
#include "data/acpi_bochs.h"
#include "data/acpi_qemu_q35_ovmf.h"

/* A fake physical memory: writable copies of the captured tables at their addresses. */
#define MAX_REGIONS 32
struct region {
	u64 pa;
	u32 len;
	u8 *buf;
};

struct fake_mem {
	struct region r[MAX_REGIONS];
	unsigned n;
	u8 rsdp[36];
	u64 rsdp_len;
	u64 rsdp_pa; /* an RSDP in memory rather than a copy */
	unsigned maps;
};

static const void *fake_map(void *ctx, u64 pa, u64 len)
{
	struct fake_mem *m = ctx;

	m->maps++;
	for (unsigned i = 0; i < m->n; i++)
		if (pa >= m->r[i].pa && pa + len <= m->r[i].pa + m->r[i].len)
			return m->r[i].buf + (pa - m->r[i].pa);
	return NULL;
}

static struct region *add_region(struct fake_mem *m, u64 pa, const void *bytes, u32 len)
{
	struct region *r = &m->r[m->n++];

	assert_true(m->n <= MAX_REGIONS);
	r->pa = pa;
	r->len = len;
	r->buf = calloc(1, len);
	if (bytes)
		memcpy(r->buf, bytes, len);
	return r;
}

static void load(struct fake_mem *m, const struct acpi_blob *b, size_t n)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		if (!b[i].pa) {
			memcpy(m->rsdp, b[i].bytes, b[i].len);
			m->rsdp_len = b[i].len;
		} else {
			add_region(m, b[i].pa, b[i].bytes, b[i].len);
			if (!strcmp(b[i].sig, "RSDP"))
				m->rsdp_pa = b[i].pa;
		}
	}
}

static void unload(struct fake_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->r[i].buf);
}

static u8 *table(struct fake_mem *m, const char *sig)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->r[i].len >= 4 && !memcmp(m->r[i].buf, sig, 4))
			return m->r[i].buf;
	fail_msg("no %s in the fake memory", sig);
	return NULL;
}

static void fix_checksum(u8 *t)
{
	struct acpi_sdt_header *h = (void *)t;

	h->checksum = 0;
	h->checksum = (u8)(0x100 - acpi_checksum(t, h->length));
}

static int parse(struct acpi_info *ai, struct fake_mem *m)
{
	struct acpi_access acc = {fake_map, m};

	shim_errors_logged = shim_warnings_logged = 0;
	return acpi_parse(ai, &acc, m->rsdp_pa, m->rsdp, m->rsdp_len);
}

static struct acpi_info ai;
static struct fake_mem mem;

static int setup_q35(void **state)
{
	load(&mem, acpi_qemu_q35, ARRAY_SIZE(acpi_qemu_q35));
	return 0;
}

static int setup_bochs(void **state)
{
	load(&mem, acpi_bochs, ARRAY_SIZE(acpi_bochs));
	return 0;
}

static int setup_ovmf(void **state)
{
	load(&mem, acpi_qemu_q35_ovmf, ARRAY_SIZE(acpi_qemu_q35_ovmf));
	return 0;
}

static int teardown(void **state)
{
	unload(&mem);
	return 0;
}

static void q35_tables(void **state)
{
	const char *want[] = {"FACP", "APIC", "HPET", "MCFG", "DMAR", "WAET", "DSDT"};

	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(shim_errors_logged, 0);
	assert_string_equal(ai.root_sig, "RSDT");
	assert_int_equal(ai.root_pa, 0x3ffe2918);
	assert_int_equal(ai.nr_tables, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		assert_memory_equal(ai.tables[i].hdr->signature, want[i], 4);
	assert_int_equal(ai.seen, 8);
	assert_int_equal(ai.rejected, 0);
	assert_non_null(acpi_info_find(&ai, "DMAR", 0));
	assert_null(acpi_info_find(&ai, "DMAR", 1));
	assert_null(acpi_info_find(&ai, "SRAT", 0));
}

static void q35_madt_mcfg(void **state)
{
	assert_int_equal(parse(&ai, &mem), 0);
	assert_true(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 4);
	assert_int_equal(ai.nr_cpus_enabled, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ai.cpus[i].apic_id, i);
		assert_int_equal(ai.cpus[i].uid, i);
		assert_false(ai.cpus[i].x2apic);
		assert_true(ai.cpus[i].enabled);
	}
	assert_int_equal(ai.lapic_addr, 0xfee00000);
	assert_int_equal(ai.nr_ioapics, 1);
	assert_int_equal(ai.ioapics[0].id, 0);
	assert_int_equal(ai.ioapics[0].address, 0xfec00000);
	assert_int_equal(ai.ioapics[0].gsi_base, 0);
	assert_int_equal(ai.nr_isos, 5);
	assert_int_equal(ai.isos[0].source, 0);
	assert_int_equal(ai.isos[0].gsi, 2);
	assert_int_equal(ai.isos[1].source, 5);
	assert_int_equal(ai.isos[1].flags, 0xd);
	assert_int_equal(ai.nr_mcfg, 1);
	assert_int_equal(ai.mcfg[0].base, 0xb0000000);
	assert_int_equal(ai.mcfg[0].segment, 0);
	assert_int_equal(ai.mcfg[0].bus_start, 0);
	assert_int_equal(ai.mcfg[0].bus_end, 255);
}

static void bochs_tables(void **state)
{
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(shim_errors_logged, 0);
	assert_string_equal(ai.root_sig, "RSDT");
	assert_int_equal(ai.nr_tables, 5);
	assert_int_equal(ai.rejected, 0);
	assert_int_equal(ai.nr_cpus, 3);
	assert_int_equal(ai.nr_cpus_enabled, 3);
	assert_int_equal(ai.cpus[2].apic_id, 2);
	assert_int_equal(ai.nr_ioapics, 1);
	assert_int_equal(ai.ioapics[0].id, 3);
	assert_int_equal(ai.ioapics[0].address, 0xfec00000);
	assert_int_equal(ai.nr_isos, 1);
	assert_int_equal(ai.nr_mcfg, 0);
	assert_null(acpi_info_find(&ai, "MCFG", 0));
}

/* OVMF: RSDP revision 2 in memory, XSDT. */
static void ovmf_xsdt(void **state)
{
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(shim_errors_logged, 0);
	assert_int_equal(ai.rsdp_pa, 0x3f77d014);
	assert_int_equal(ai.rsdp_revision, 2);
	assert_string_equal(ai.root_sig, "XSDT");
	assert_int_equal(ai.root_pa, 0x3f77c0e8);
	assert_int_equal(ai.nr_tables, 7);
	assert_int_equal(ai.rejected, 0);
	assert_int_equal(ai.nr_cpus_enabled, 4);
	assert_int_equal(ai.nr_mcfg, 1);
	assert_int_equal(ai.mcfg[0].base, 0xb0000000);
	assert_non_null(acpi_info_find(&ai, "DMAR", 0));
	assert_non_null(acpi_info_find(&ai, "DSDT", 0));
}

/* The RSDP in memory, with a corrupt extended checksum and no RSDT captured: the XSDT
 * is not trusted, and without an RSDT there are no tables. */
static void ovmf_rsdp_ext_checksum_bad(void **state)
{
	u8 *r = table(&mem, "RSD ");

	r[32] ^= 0x10;
	assert_int_equal(parse(&ai, &mem), -ENODEV);
	assert_true(shim_warnings_logged >= 1);
}

static void bad_checksum_rejected(void **state)
{
	u8 *hpet = table(&mem, "HPET");

	hpet[40] ^= 0x5a;
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(ai.rejected, 1);
	assert_int_equal(ai.seen, 8);
	assert_null(acpi_info_find(&ai, "HPET", 0));
	assert_non_null(acpi_info_find(&ai, "APIC", 0));
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "HPET"));
	assert_non_null(strstr(shim_last_log, "checksum"));
	assert_non_null(strstr(shim_last_log, "0x3ffe2804"));
}

static void length_past_memory_rejected(void **state)
{
	u8 *madt = table(&mem, "APIC");

	((struct acpi_sdt_header *)madt)->length = 0x10000; /* runs past the capture */
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(ai.rejected, 1);
	assert_null(acpi_info_find(&ai, "APIC", 0));
	assert_int_equal(ai.nr_cpus, 0);
	assert_int_equal(shim_errors_logged, 1);
	assert_null(acpi_table_map(&(struct acpi_access){fake_map, &mem}, 0x3ffe2774, NULL));
	assert_non_null(strstr(shim_last_log, "APIC at 0x3ffe2774: length 65536 runs past"));
}

static void length_insane_rejected(void **state)
{
	u8 *waet = table(&mem, "WAET");
	u8 *mcfg = table(&mem, "MCFG");

	((struct acpi_sdt_header *)waet)->length = 0x80000000u;
	((struct acpi_sdt_header *)mcfg)->length = 20; /* shorter than a header */
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(ai.rejected, 2);
	assert_null(acpi_info_find(&ai, "WAET", 0));
	assert_null(acpi_info_find(&ai, "MCFG", 0));
	assert_int_equal(ai.nr_mcfg, 0);
	assert_int_equal(ai.nr_tables, 5);
}

static void rsdp_bad(void **state)
{
	mem.rsdp[8] ^= 1; /* v1 checksum */
	assert_int_equal(parse(&ai, &mem), -EINVAL);
	assert_non_null(strstr(shim_last_log, "checksum"));
	mem.rsdp[8] ^= 1;
	mem.rsdp[0] = 'X';
	assert_int_equal(parse(&ai, &mem), -EINVAL);
	assert_non_null(strstr(shim_last_log, "signature"));
	mem.rsdp_len = 8;
	assert_int_equal(parse(&ai, &mem), -EINVAL);
}

/* Makes the RSDP a revision-2 one pointing at `xsdt`. */
static void rsdp_v2(struct fake_mem *m, u64 xsdt)
{
	struct acpi_rsdp *r = (void *)m->rsdp;

	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = xsdt;
	r->checksum = 0;
	r->checksum = (u8)(0x100 - acpi_checksum(r, ACPI_RSDP_V1_LEN));
	r->ext_checksum = 0;
	r->ext_checksum = (u8)(0x100 - acpi_checksum(r, sizeof(*r)));
	m->rsdp_len = sizeof(*r);
}

/* An XSDT with the RSDT's entries as 64-bit pointers. */
static u64 build_xsdt(struct fake_mem *m, u64 pa)
{
	const struct acpi_sdt_header *rsdt = fake_map(m, 0x3ffe2918, 36);
	unsigned n = (rsdt->length - 36) / 4;
	struct region *x = add_region(m, pa, NULL, 36 + 8 * n);
	struct acpi_sdt_header *h = (void *)x->buf;

	memcpy(h, rsdt, 36);
	memcpy(h->signature, "XSDT", 4);
	h->length = 36 + 8 * n;
	for (unsigned i = 0; i < n; i++) {
		u32 e;
		u64 e64;

		memcpy(&e, (const u8 *)rsdt + 36 + 4 * i, 4);
		e64 = e;
		memcpy(x->buf + 36 + 8 * i, &e64, 8);
	}
	fix_checksum(x->buf);
	return pa;
}

static void xsdt_used(void **state)
{
	rsdp_v2(&mem, build_xsdt(&mem, 0x7f000004));
	assert_int_equal(parse(&ai, &mem), 0);
	assert_string_equal(ai.root_sig, "XSDT");
	assert_int_equal(ai.root_pa, 0x7f000004);
	assert_int_equal(ai.nr_tables, 7);
	assert_int_equal(ai.rejected, 0);
	assert_int_equal(ai.nr_cpus, 4);
}

static void xsdt_garbage_falls_back(void **state)
{
	u8 junk[64];

	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (u8)(i * 37 + 11);
	add_region(&mem, 0x50000000, junk, sizeof(junk));
	rsdp_v2(&mem, 0x50000000);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_string_equal(ai.root_sig, "RSDT");
	assert_int_equal(ai.rejected, 1);
	assert_int_equal(ai.nr_tables, 7);
	assert_int_equal(ai.nr_cpus, 4);
	assert_true(shim_warnings_logged >= 1);

	rsdp_v2(&mem, 0xdead0000000ULL); /* not memory at all */
	assert_int_equal(parse(&ai, &mem), 0);
	assert_string_equal(ai.root_sig, "RSDT");
	assert_int_equal(ai.rejected, 1);
}

static void rsdp_v2_bad_ext_checksum_uses_rsdt(void **state)
{
	struct acpi_rsdp *r = (void *)mem.rsdp;

	rsdp_v2(&mem, build_xsdt(&mem, 0x7f000004));
	r->ext_checksum ^= 0xff;
	assert_int_equal(parse(&ai, &mem), 0);
	assert_string_equal(ai.root_sig, "RSDT");
	assert_int_equal(shim_warnings_logged, 1);
	assert_non_null(strstr(shim_last_log, "extended checksum"));
}

static void rsdt_bad_is_fatal(void **state)
{
	u8 *rsdt = table(&mem, "RSDT");

	rsdt[20] ^= 1;
	assert_int_equal(parse(&ai, &mem), -ENODEV);
	assert_int_equal(ai.rejected, 1);
	assert_int_equal(ai.nr_tables, 0);
}

static void rsdt_entry_garbage(void **state)
{
	u8 *rsdt = table(&mem, "RSDT");
	u32 bad = 0x12345678;

	memcpy(rsdt + 36 + 4 * 2, &bad, 4); /* the HPET entry */
	fix_checksum(rsdt);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(ai.rejected, 1);
	assert_int_equal(ai.nr_tables, 6);
	assert_non_null(strstr(shim_last_log, "0x12345678"));
}

/* MADT entry at offset 44 + 8 (second Local APIC) gets a bad length. */
static void madt_entry_len_zero(void **state)
{
	u8 *madt = table(&mem, "APIC");

	madt[44 + 8 + 1] = 0;
	fix_checksum(madt);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_false(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 1); /* the walk stopped at the bad entry */
	assert_int_equal(ai.nr_ioapics, 0);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "walk stopped"));
	assert_non_null(strstr(shim_last_log, "length 0"));
}

static void madt_entry_past_end(void **state)
{
	u8 *madt = table(&mem, "APIC");
	u32 len = ((struct acpi_sdt_header *)madt)->length;

	madt[len - 6 + 1] = 12; /* the last entry (LAPIC NMI, 6 bytes) claims 12 */
	fix_checksum(madt);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_false(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 4);
	assert_int_equal(ai.nr_isos, 5);
	assert_non_null(strstr(shim_last_log, "table ends at"));
}

static void madt_entry_too_short_for_type(void **state)
{
	u8 *madt = table(&mem, "APIC");

	madt[44 + 4 * 8 + 1] = 8; /* IOAPIC entry needs 12 */
	fix_checksum(madt);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_false(ai.madt_ok);
	assert_int_equal(ai.nr_cpus, 4);
	assert_int_equal(ai.nr_ioapics, 0);
}

/* A synthetic MADT with `n` Local x2APIC entries. */
static u8 *x2apic_madt(unsigned n, u32 flags)
{
	u32 len = 44 + 16 * n;
	u8 *t = calloc(1, len);
	struct acpi_sdt_header *h = (void *)t;

	memcpy(h->signature, "APIC", 4);
	h->length = len;
	h->revision = 5;
	t[36 + 1] = 0xe0; /* 0xfee00000 little endian */
	t[36 + 2] = 0xe0;
	t[36 + 3] = 0xfe;
	for (unsigned i = 0; i < n; i++) {
		u8 *e = t + 44 + 16 * i;
		u32 id = 0x100 + i, uid = i;

		e[0] = 9;
		e[1] = 16;
		memcpy(e + 4, &id, 4);
		memcpy(e + 8, &flags, 4);
		memcpy(e + 12, &uid, 4);
	}
	fix_checksum(t);
	return t;
}

static void madt_too_many_cpus(void **state)
{
	u8 *t = x2apic_madt(ACPI_MAX_CPUS + 44, 1);

	memset(&ai, 0, sizeof(ai));
	shim_warnings_logged = 0;
	assert_int_equal(acpi_parse_madt(&ai, (void *)t), 0);
	assert_int_equal(ai.nr_cpus, ACPI_MAX_CPUS);
	assert_int_equal(ai.nr_cpus_enabled, ACPI_MAX_CPUS);
	assert_int_equal(ai.cpus_dropped, 44);
	assert_int_equal(shim_warnings_logged, 1);
	assert_true(ai.cpus[ACPI_MAX_CPUS - 1].x2apic);
	assert_int_equal(ai.cpus[ACPI_MAX_CPUS - 1].apic_id, 0x100 + ACPI_MAX_CPUS - 1);
	free(t);
}

static void madt_cpu_flags(void **state)
{
	u8 *t = x2apic_madt(4, 0);
	u32 online_capable = 2, enabled = 1, dup_id = 0x100;

	memcpy(t + 44 + 16 * 1 + 8, &online_capable, 4);
	memcpy(t + 44 + 16 * 2 + 8, &enabled, 4);
	memcpy(t + 44 + 16 * 3 + 8, &enabled, 4);
	memcpy(t + 44 + 16 * 3 + 4, &dup_id, 4);
	memcpy(t + 44 + 16 * 2 + 4, &dup_id, 4); /* entry 3 duplicates entry 2 */
	fix_checksum(t);
	memset(&ai, 0, sizeof(ai));
	assert_int_equal(acpi_parse_madt(&ai, (void *)t), 0);
	assert_int_equal(ai.nr_cpus, 2); /* disabled one skipped, duplicate skipped */
	assert_false(ai.cpus[0].enabled);
	assert_true(ai.cpus[1].enabled);
	assert_int_equal(ai.nr_cpus_enabled, 1);
	free(t);
}

static void madt_lapic_override(void **state)
{
	u8 *t = calloc(1, 44 + 12);
	struct acpi_sdt_header *h = (void *)t;
	u64 addr = 0x1234567000ULL;

	memcpy(h->signature, "APIC", 4);
	h->length = 44 + 12;
	t[44] = 5;
	t[45] = 12;
	memcpy(t + 48, &addr, 8);
	fix_checksum(t);
	memset(&ai, 0, sizeof(ai));
	assert_int_equal(acpi_parse_madt(&ai, (void *)t), 0);
	assert_int_equal(ai.lapic_addr, addr);
	free(t);
}

static void mcfg_bad_entries(void **state)
{
	u8 *mcfg = table(&mem, "MCFG");

	mcfg[44 + 10] = 200; /* bus range 200-100 */
	mcfg[44 + 11] = 100;
	fix_checksum(mcfg);
	assert_int_equal(parse(&ai, &mem), 0);
	assert_int_equal(ai.nr_mcfg, 0);
	assert_non_null(strstr(shim_last_log, "reversed"));
}

static void rsdp_scan(void **state)
{
	u8 bios[0x20000];
	struct acpi_access acc = {fake_map, &mem};

	memset(bios, 0xff, sizeof(bios));
	memcpy(bios + 0x15a30, mem.rsdp, 20);
	add_region(&mem, 0xe0000, bios, sizeof(bios));
	assert_int_equal(acpi_rsdp_scan(&acc), 0xf5a30);
	assert_int_equal(acpi_parse(&ai, &acc, 0, NULL, 0), 0);
	assert_int_equal(ai.rsdp_pa, 0xf5a30);
	assert_int_equal(ai.nr_tables, 7);
}

static void no_rsdp(void **state)
{
	struct acpi_access acc = {fake_map, &mem};

	assert_int_equal(acpi_parse(&ai, &acc, 0, NULL, 0), -ENODEV);
}

/* acpi.override: a copy of the firmware's DMAR with one byte changed (and the checksum
 * fixed) stands in for the firmware's. */
static u8 *dmar_copy(u32 extra)
{
	const struct acpi_sdt_header *fw = acpi_info_find(&ai, "DMAR", 0);
	u8 *t;

	assert_non_null(fw);
	t = calloc(1, fw->length + extra);
	memcpy(t, fw, fw->length);
	t[37] ^= 1; /* DMAR flags */
	fix_checksum(t);
	return t;
}

static void override_replaces_table(void **state)
{
	const struct acpi_sdt_header *fw;
	u8 *t;

	assert_int_equal(parse(&ai, &mem), 0);
	fw = acpi_info_find(&ai, "DMAR", 0);
	t = dmar_copy(0);
	assert_int_equal(acpi_info_override(&ai, t, fw->length, 0x5000000, "dmar.bin"), 0);
	assert_ptr_equal(acpi_info_find(&ai, "DMAR", 0), t);
	assert_null(acpi_info_find(&ai, "DMAR", 1));
	assert_int_equal(ai.overridden, 1);
	assert_int_equal(ai.added, 0);
	assert_int_equal(ai.nr_tables, 7);
	assert_non_null(strstr(shim_last_log, "DMAR overridden by module dmar.bin"));
	free(t);
}

static void override_adds_missing_table(void **state)
{
	u8 *t;

	assert_int_equal(parse(&ai, &mem), 0);
	t = dmar_copy(0);
	memcpy(t, "SRAT", 4);
	fix_checksum(t);
	assert_int_equal(acpi_info_override(&ai, t, ((struct acpi_sdt_header *)t)->length,
					    0x5000000, "srat.bin"),
			 0);
	assert_ptr_equal(acpi_info_find(&ai, "SRAT", 0), t);
	assert_int_equal(ai.nr_tables, 8);
	assert_int_equal(ai.added, 1);
	free(t);
}

/* Every bad module is refused with a message, and the firmware's table stays. */
static void override_bad_refused(void **state)
{
	const struct acpi_sdt_header *fw;
	struct acpi_sdt_header *h;
	u32 len;
	u8 *t;

	assert_int_equal(parse(&ai, &mem), 0);
	fw = acpi_info_find(&ai, "DMAR", 0);
	len = fw->length;
	t = dmar_copy(16);
	h = (struct acpi_sdt_header *)t;

	shim_errors_logged = 0;
	t[40] ^= 0xff; /* checksum no longer 0 */
	assert_int_equal(acpi_info_override(&ai, t, len, 0x5000000, "sum.bin"), -EINVAL);
	assert_non_null(strstr(shim_last_log, "override sum.bin refused"));
	assert_int_equal(shim_errors_logged, 2);
	t[40] ^= 0xff;

	/* Shorter than the header says: the module was truncated. */
	assert_int_equal(acpi_info_override(&ai, t, len - 1, 0x5000000, "short.bin"), -EINVAL);
	assert_int_equal(acpi_info_override(&ai, t, 20, 0x5000000, "tiny.bin"), -EINVAL);
	/* A length below the header's own size, or beyond any real table. */
	h->length = 30;
	fix_checksum(t);
	assert_int_equal(acpi_info_override(&ai, t, len, 0x5000000, "len.bin"), -EINVAL);
	h->length = 8 * 1024 * 1024;
	assert_int_equal(acpi_info_override(&ai, t, len, 0x5000000, "huge.bin"), -EINVAL);
	h->length = len;
	/* Not a signature: a text file or random bytes. */
	memcpy(t, "dm\nr", 4);
	fix_checksum(t);
	assert_int_equal(acpi_info_override(&ai, t, len, 0x5000000, "text.bin"), -EINVAL);
	memcpy(t, "DMAR", 4);
	fix_checksum(t);

	assert_ptr_equal(acpi_info_find(&ai, "DMAR", 0), fw);
	assert_int_equal(ai.overridden, 0);
	assert_int_equal(ai.nr_tables, 7);
	/* The same bytes, intact, are taken (a module may carry padding behind the table). */
	assert_int_equal(acpi_info_override(&ai, t, len + 16, 0x5000000, "good.bin"), 0);
	assert_ptr_equal(acpi_info_find(&ai, "DMAR", 0), t);
	free(t);
}

#define Q35(t) cmocka_unit_test_setup_teardown(t, setup_q35, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		Q35(q35_tables),
		Q35(q35_madt_mcfg),
		cmocka_unit_test_setup_teardown(bochs_tables, setup_bochs, teardown),
		cmocka_unit_test_setup_teardown(ovmf_xsdt, setup_ovmf, teardown),
		cmocka_unit_test_setup_teardown(ovmf_rsdp_ext_checksum_bad, setup_ovmf, teardown),
		Q35(bad_checksum_rejected),
		Q35(length_past_memory_rejected),
		Q35(length_insane_rejected),
		Q35(rsdp_bad),
		Q35(xsdt_used),
		Q35(xsdt_garbage_falls_back),
		Q35(rsdp_v2_bad_ext_checksum_uses_rsdt),
		Q35(rsdt_bad_is_fatal),
		Q35(rsdt_entry_garbage),
		Q35(madt_entry_len_zero),
		Q35(madt_entry_past_end),
		Q35(madt_entry_too_short_for_type),
		cmocka_unit_test(madt_too_many_cpus),
		cmocka_unit_test(madt_cpu_flags),
		cmocka_unit_test(madt_lapic_override),
		Q35(mcfg_bad_entries),
		Q35(rsdp_scan),
		Q35(no_rsdp),
		Q35(override_replaces_table),
		Q35(override_adds_missing_table),
		Q35(override_bad_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
