/* RSDP, XSDT/RSDT and per-table validation (ACPI 6.5 section 5.2). */
#define LOG_TAG "acpi"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"

#define RSDP_SIG "RSD PTR "
#define RSDP_SCAN_START 0xe0000
#define RSDP_SCAN_END 0x100000
#define RSDP_SCAN_STEP 16

/* FADT (5.2.9): where the DSDT is. */
#define FADT_DSDT_OFF 40
#define FADT_X_DSDT_OFF 140

u8 acpi_checksum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum = (u8)(sum + *b++);
	return sum;
}

int acpi_rsdp_check(const struct acpi_rsdp *r, u64 len, bool *use_xsdt)
{
	*use_xsdt = false;
	if (len < ACPI_RSDP_V1_LEN)
		return pr_err(-EINVAL, "RSDP: only %llu bytes given\n", (unsigned long long)len);
	if (memcmp(r->signature, RSDP_SIG, 8))
		return pr_err(-EINVAL, "RSDP: bad signature\n");
	if (acpi_checksum(r, ACPI_RSDP_V1_LEN))
		return pr_err(-EINVAL, "RSDP: ACPI 1.0 checksum over 20 bytes is wrong\n");
	if (r->revision < 2)
		return 0;
	if (len < sizeof(*r)) {
		pr_warn("RSDP: revision %u but only %llu bytes given; using the RSDT\n",
			r->revision, (unsigned long long)len);
		return 0;
	}
	if (r->length < sizeof(*r) || r->length > len) {
		pr_warn("RSDP: revision %u with bad length %u; using the RSDT\n", r->revision,
			r->length);
		return 0;
	}
	if (acpi_checksum(r, r->length)) {
		pr_warn("RSDP: extended checksum is wrong; using the RSDT\n");
		return 0;
	}
	*use_xsdt = r->xsdt != 0;
	return 0;
}

u64 acpi_rsdp_scan(const struct acpi_access *acc)
{
	for (u64 pa = RSDP_SCAN_START; pa < RSDP_SCAN_END; pa += RSDP_SCAN_STEP) {
		const struct acpi_rsdp *r = acc->map(acc->ctx, pa, ACPI_RSDP_V1_LEN);

		if (r && !memcmp(r->signature, RSDP_SIG, 8) && !acpi_checksum(r, ACPI_RSDP_V1_LEN))
			return pa;
	}
	return 0;
}

static void sig_string(char out[5], const void *sig)
{
	memcpy(out, sig, 4);
	for (unsigned i = 0; i < 4; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
	out[4] = 0;
}

/* Signature and length sanity of a table header; `where` names the table in messages. */
static int check_header(const struct acpi_sdt_header *h, const char *sig, const char *where)
{
	char s[5];

	sig_string(s, h->signature);
	if (sig && memcmp(h->signature, sig, 4))
		return pr_err(-EINVAL, "table %s: signature \"%s\", expected \"%s\"\n", where, s,
			      sig);
	if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE_LEN)
		return pr_err(-EINVAL, "table %s %s: length %u is not sane\n", s, where, h->length);
	return 0;
}

static int check_sum(const struct acpi_sdt_header *h, const char *where)
{
	char s[5];

	sig_string(s, h->signature);
	if (acpi_checksum(h, h->length))
		return pr_err(-EINVAL, "table %s %s (length %u): bad checksum\n", s, where,
			      h->length);
	return 0;
}

const struct acpi_sdt_header *acpi_table_map(const struct acpi_access *acc, u64 pa, const char *sig)
{
	const struct acpi_sdt_header *h;
	char where[32], s[5];
	u32 len;

	if (!pa) {
		pr_err(-EINVAL, "table pointer is 0\n");
		return NULL;
	}
	snprintf(where, sizeof(where), "at %#llx", (unsigned long long)pa);
	h = acc->map(acc->ctx, pa, sizeof(*h));
	if (!h) {
		pr_err(-EFAULT, "table %s is not in readable memory\n", where);
		return NULL;
	}
	if (check_header(h, sig, where))
		return NULL;
	len = h->length;
	sig_string(s, h->signature);
	h = acc->map(acc->ctx, pa, len);
	if (!h) {
		pr_err(-EFAULT, "table %s %s: length %u runs past readable memory\n", s, where,
		       len);
		return NULL;
	}
	return check_sum(h, where) ? NULL : h;
}

/* A table handed over whole (a boot module): the firmware checks, and the header must
 * lie inside the `size` bytes given. */
int acpi_table_check(const void *p, u64 size, const char *where)
{
	const struct acpi_sdt_header *h = p;
	int err;

	if (size < sizeof(*h))
		return pr_err(-EINVAL, "table %s: %llu bytes, shorter than an ACPI header (%zu)\n",
			      where, (unsigned long long)size, sizeof(*h));
	for (unsigned i = 0; i < 4; i++)
		if (!((h->signature[i] >= 'A' && h->signature[i] <= 'Z') ||
		      (h->signature[i] >= '0' && h->signature[i] <= '9') || h->signature[i] == '_'))
			return pr_err(-EINVAL,
				      "table %s: signature is not four of A-Z, 0-9, _ (byte %u is "
				      "%#x)\n",
				      where, i, (u8)h->signature[i]);
	err = check_header(h, NULL, where);
	if (err)
		return err;
	if (h->length > size)
		return pr_err(-EINVAL, "table %.4s %s: header says %u bytes, only %llu given\n",
			      h->signature, where, h->length, (unsigned long long)size);
	return check_sum(h, where);
}

int acpi_info_override(struct acpi_info *ai, const void *p, u64 size, u64 pa, const char *name)
{
	const struct acpi_sdt_header *h = p;
	char where[80];

	snprintf(where, sizeof(where), "in module %s", name);
	if (acpi_table_check(p, size, where))
		return pr_err(-EINVAL, "override %s refused: the firmware's table stays\n", name);
	for (unsigned i = 0; i < ai->nr_tables; i++) {
		if (memcmp(ai->tables[i].hdr->signature, h->signature, 4))
			continue;
		pr_warn("%.4s overridden by module %s, %u bytes (firmware's at %#llx, %u "
			"bytes)\n",
			h->signature, name, h->length, (unsigned long long)ai->tables[i].pa,
			ai->tables[i].hdr->length);
		ai->tables[i] = (struct acpi_table){pa, h};
		ai->overridden++;
		return 0;
	}
	if (ai->nr_tables == ACPI_MAX_TABLES)
		return pr_err(-ENOSPC, "override %s refused: already %u tables\n", name,
			      ACPI_MAX_TABLES);
	pr_warn("%.4s added from module %s, %u bytes (the firmware has none)\n", h->signature, name,
		h->length);
	ai->tables[ai->nr_tables++] = (struct acpi_table){pa, h};
	ai->added++;
	return 0;
}

/* Validates one table and records it; a bad one is counted as rejected. */
static void add_table(struct acpi_info *ai, const struct acpi_access *acc, u64 pa, const char *sig)
{
	const struct acpi_sdt_header *h;

	ai->seen++;
	h = acpi_table_map(acc, pa, sig);
	if (!h) {
		ai->rejected++;
		return;
	}
	if (ai->nr_tables == ACPI_MAX_TABLES) {
		pr_warn("more than %u tables; ignoring the one at %#llx\n", ACPI_MAX_TABLES,
			(unsigned long long)pa);
		return;
	}
	ai->tables[ai->nr_tables++] = (struct acpi_table){pa, h};
}

static u64 root_entry(const struct acpi_sdt_header *root, unsigned i, unsigned esize)
{
	const u8 *p = (const u8 *)root + sizeof(*root) + (u64)i * esize;
	u64 v = 0;

	memcpy(&v, p, esize); /* entries are not naturally aligned in the XSDT */
	return v;
}

static void walk_root(struct acpi_info *ai, const struct acpi_access *acc,
		      const struct acpi_sdt_header *root, unsigned esize)
{
	unsigned n = (root->length - sizeof(*root)) / esize;

	if ((root->length - sizeof(*root)) % esize)
		pr_warn("%.4s length %u leaves a partial entry; ignored\n", root->signature,
			root->length);
	for (unsigned i = 0; i < n; i++)
		add_table(ai, acc, root_entry(root, i, esize), NULL);
}

/* The DSDT is reached through the FADT, not the root table. */
static void add_dsdt(struct acpi_info *ai, const struct acpi_access *acc)
{
	const struct acpi_sdt_header *fadt = acpi_info_find(ai, "FACP", 0);
	const u8 *f = (const u8 *)fadt;
	u64 dsdt = 0;
	u32 dsdt32 = 0;

	if (!fadt)
		return;
	if (fadt->length >= FADT_X_DSDT_OFF + 8)
		memcpy(&dsdt, f + FADT_X_DSDT_OFF, 8);
	if (!dsdt && fadt->length >= FADT_DSDT_OFF + 4) {
		memcpy(&dsdt32, f + FADT_DSDT_OFF, 4);
		dsdt = dsdt32;
	}
	if (dsdt)
		add_table(ai, acc, dsdt, "DSDT");
}

static const struct acpi_sdt_header *map_root(struct acpi_info *ai, const struct acpi_access *acc,
					      const struct acpi_rsdp *r, bool use_xsdt)
{
	const struct acpi_sdt_header *root = NULL;

	if (use_xsdt) {
		ai->seen++;
		root = acpi_table_map(acc, r->xsdt, "XSDT");
		if (root) {
			memcpy(ai->root_sig, "XSDT", 5);
			ai->root_pa = r->xsdt;
			return root;
		}
		ai->rejected++;
		pr_warn("XSDT at %#llx unusable; falling back to the RSDT\n",
			(unsigned long long)r->xsdt);
	}
	if (!r->rsdt) {
		pr_err(-ENODEV, "no RSDT either\n");
		return NULL;
	}
	ai->seen++;
	root = acpi_table_map(acc, r->rsdt, "RSDT");
	if (!root) {
		ai->rejected++;
		return NULL;
	}
	memcpy(ai->root_sig, "RSDT", 5);
	ai->root_pa = r->rsdt;
	return root;
}

int acpi_parse_tables(struct acpi_info *ai, const struct acpi_access *acc, u64 rsdp_pa,
		      const void *rsdp_copy, u64 copy_len)
{
	const struct acpi_sdt_header *root;
	const struct acpi_rsdp *r;
	bool use_xsdt;
	u64 len = copy_len;
	int err;

	memset(ai, 0, sizeof(*ai));
	if (copy_len) {
		r = rsdp_copy;
	} else {
		if (!rsdp_pa)
			rsdp_pa = acpi_rsdp_scan(acc);
		if (!rsdp_pa)
			return pr_err(-ENODEV, "no RSDP from the loader or in the BIOS area\n");
		len = sizeof(*r);
		r = acc->map(acc->ctx, rsdp_pa, len);
		if (!r) {
			len = ACPI_RSDP_V1_LEN;
			r = acc->map(acc->ctx, rsdp_pa, len);
		}
		if (!r)
			return pr_err(-EFAULT, "RSDP at %#llx is not in readable memory\n",
				      (unsigned long long)rsdp_pa);
	}
	err = acpi_rsdp_check(r, len, &use_xsdt);
	if (err)
		return err;
	ai->rsdp_pa = rsdp_pa;
	ai->rsdp_revision = r->revision;
	root = map_root(ai, acc, r, use_xsdt);
	if (!root)
		return pr_err(-ENODEV, "neither XSDT nor RSDT is valid\n");
	walk_root(ai, acc, root, ai->root_sig[0] == 'X' ? 8 : 4);
	add_dsdt(ai, acc);
	return 0;
}

void acpi_parse_summaries(struct acpi_info *ai)
{
	const struct acpi_sdt_header *t = acpi_info_find(ai, "APIC", 0);

	if (t)
		ai->madt_ok = acpi_parse_madt(ai, t) == 0;
	else
		pr_warn("no MADT: only the boot CPU will run\n");
	t = acpi_info_find(ai, "MCFG", 0);
	if (t)
		acpi_parse_mcfg(ai, t);
}

int acpi_parse(struct acpi_info *ai, const struct acpi_access *acc, u64 rsdp_pa,
	       const void *rsdp_copy, u64 copy_len)
{
	int err = acpi_parse_tables(ai, acc, rsdp_pa, rsdp_copy, copy_len);

	if (!err)
		acpi_parse_summaries(ai);
	return err;
}

const struct acpi_sdt_header *acpi_info_find(const struct acpi_info *ai, const char *sig,
					     unsigned idx)
{
	for (unsigned i = 0; i < ai->nr_tables; i++)
		if (!memcmp(ai->tables[i].hdr->signature, sig, 4) && idx-- == 0)
			return ai->tables[i].hdr;
	return NULL;
}
