/* ACPI in the hypervisor: tables read through the identity map, the boot report, the
 * acpi.dump command-line flag (hex dump of every table, for capturing unit-test data), the
 * acpi.override option (tables from boot modules in place of the firmware's) and the
 * accessors of include/moat/acpi.h. */
#define LOG_TAG "acpi"
#include <moat/bits.h>
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "arch/x86/paging.h"

#define DUMP_BYTES_PER_LINE 16
#define OVERRIDE_ARG_MAX 160

/* FADT fields (ACPI 6.5 5.2.9) */
#define FADT_PM_TMR_BLK 76
#define FADT_FLAGS 112
#define FADT_TMR_VAL_EXT BIT(8)
#define FADT_X_PM_TMR_BLK 208 /* Generic Address Structure */
#define GAS_SPACE_IO 1
#define GAS_ADDRESS_OFF 4

static struct acpi_info acpi;

/* Readable when every page of the range is present in moat's identity map. */
static const void *hv_map(void *ctx, u64 pa, u64 len)
{
	u64 end = pa + len;

	if (!len || end < pa)
		return NULL;
	for (u64 a = ALIGN_DOWN(pa, PAGE_SIZE); a < end; a += PAGE_SIZE)
		if (hv_pt.root ? pt_lookup(&hv_pt, a, NULL, NULL, NULL) != 0 : a >= 4 * GiB || !a)
			return NULL;
	return (const void *)(uintptr_t)pa;
}

static const struct acpi_access hv_access = {hv_map, NULL};

static void dump_bytes(const char *what, u64 pa, const void *p, u32 len)
{
	const u8 *b = p;

	pr_info("dump %.4s at %#llx length %u\n", what, (unsigned long long)pa, len);
	for (u32 off = 0; off < len; off += DUMP_BYTES_PER_LINE) {
		char line[3 * DUMP_BYTES_PER_LINE + 1];
		unsigned n = 0;

		for (u32 i = off; i < len && i < off + DUMP_BYTES_PER_LINE; i++)
			n += (unsigned)snprintf(line + n, sizeof(line) - n, " %02x", b[i]);
		pr_info("dump +%04x%s\n", off, line);
	}
}

static void dump_tables(const struct boot_info *bi)
{
	const struct acpi_sdt_header *root = acpi_table_map(&hv_access, acpi.root_pa, NULL);

	if (bi->rsdp_copy_len)
		dump_bytes("RSDP", 0, bi->rsdp_copy, (u32)bi->rsdp_copy_len);
	else if (acpi.rsdp_pa)
		dump_bytes("RSDP", acpi.rsdp_pa, (const void *)(uintptr_t)acpi.rsdp_pa,
			   acpi.rsdp_revision >= 2 ? sizeof(struct acpi_rsdp) : ACPI_RSDP_V1_LEN);
	if (root)
		dump_bytes(root->signature, acpi.root_pa, root, root->length);
	for (unsigned i = 0; i < acpi.nr_tables; i++)
		dump_bytes(acpi.tables[i].hdr->signature, acpi.tables[i].pa, acpi.tables[i].hdr,
			   acpi.tables[i].hdr->length);
}

static void report(void)
{
	char sigs[5 * ACPI_MAX_TABLES + 1];
	unsigned n = 0;

	pr_info("RSDP revision %u %s, %s at %#llx\n", acpi.rsdp_revision,
		acpi.rsdp_pa ? "in memory" : "copied by the loader", acpi.root_sig,
		(unsigned long long)acpi.root_pa);
	sigs[0] = 0;
	for (unsigned i = 0; i < acpi.nr_tables; i++)
		n += (unsigned)snprintf(sigs + n, sizeof(sigs) - n, " %.4s",
					acpi.tables[i].hdr->signature);
	pr_info("tables:%s (%u seen, %u rejected, %u overridden and %u added by acpi.override)\n",
		sigs, acpi.seen, acpi.rejected, acpi.overridden, acpi.added);
	pr_info("MADT: %u CPUs (%u enabled), %u IOAPICs, %u interrupt overrides, LAPIC at %#llx\n",
		acpi.nr_cpus, acpi.nr_cpus_enabled, acpi.nr_ioapics, acpi.nr_isos,
		(unsigned long long)acpi.lapic_addr);
	for (unsigned i = 0; i < acpi.nr_mcfg; i++)
		pr_info("MCFG segment %u buses %u-%u at %#llx\n", acpi.mcfg[i].segment,
			acpi.mcfg[i].bus_start, acpi.mcfg[i].bus_end,
			(unsigned long long)acpi.mcfg[i].base);
	if (!acpi.nr_mcfg)
		pr_info("no MCFG: PCI configuration space only through ports 0xcf8/0xcfc\n");
}

/* acpi.override=<module>[,<module>...]: each module holds one whole ACPI table that
 * replaces the firmware's table of the same signature (like Linux's table upgrade from
 * the initrd); a bad one is refused and the firmware's table stays. */
static void apply_overrides(const struct boot_info *bi)
{
	char arg[OVERRIDE_ARG_MAX], *name = arg;

	if (cmdline_get("acpi.override", arg, sizeof(arg)) < 0)
		return;
	while (*name) {
		char *comma = strchr(name, ',');
		const struct boot_module *m;

		if (comma)
			*comma = 0;
		m = *name ? boot_module_find(bi, name) : NULL;
		if (!*name)
			pr_err(-EINVAL, "acpi.override: empty module name\n");
		else if (!m)
			pr_err(-ENOENT,
			       "acpi.override: no boot module named %s: the firmware's "
			       "tables stay\n",
			       name);
		else
			acpi_info_override(&acpi, (const void *)(uintptr_t)m->start,
					   m->end - m->start, m->start, name);
		if (!comma)
			break;
		name = comma + 1;
	}
}

int acpi_init(const struct boot_info *bi)
{
	int err = acpi_parse_tables(&acpi, &hv_access, bi->rsdp, bi->rsdp_copy, bi->rsdp_copy_len);

	if (err)
		return pr_err(err, "no usable ACPI tables: one CPU, no MCFG\n");
	apply_overrides(bi);
	acpi_parse_summaries(&acpi);
	report();
	if (cmdline_has("acpi.dump"))
		dump_tables(bi);
	return 0;
}

const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned idx)
{
	return acpi_info_find(&acpi, sig, idx);
}

unsigned acpi_cpus(const struct acpi_cpu **cpus)
{
	*cpus = acpi.cpus;
	return acpi.nr_cpus;
}

unsigned acpi_cpus_enabled(void)
{
	return acpi.nr_cpus_enabled;
}

unsigned acpi_ioapics(const struct acpi_ioapic **ioapics)
{
	*ioapics = acpi.ioapics;
	return acpi.nr_ioapics;
}

unsigned acpi_irq_overrides(const struct acpi_irq_override **isos)
{
	*isos = acpi.isos;
	return acpi.nr_isos;
}

u64 acpi_lapic_address(void)
{
	return acpi.lapic_addr;
}

unsigned acpi_mcfg(const struct acpi_mcfg_segment **segs)
{
	*segs = acpi.mcfg;
	return acpi.nr_mcfg;
}

static u32 fadt_u32(const struct acpi_sdt_header *fadt, u32 off)
{
	u32 v = 0;

	if (fadt->length >= off + 4)
		memcpy(&v, (const u8 *)fadt + off, 4);
	return v;
}

int acpi_pm_timer(u16 *port, unsigned *bits)
{
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
	const u8 *f = (const u8 *)fadt;
	u64 x_port = 0;

	if (!fadt)
		return -ENODEV;
	*port = (u16)fadt_u32(fadt, FADT_PM_TMR_BLK);
	if (!*port && fadt->length >= FADT_X_PM_TMR_BLK + 12 &&
	    f[FADT_X_PM_TMR_BLK] == GAS_SPACE_IO) {
		memcpy(&x_port, f + FADT_X_PM_TMR_BLK + GAS_ADDRESS_OFF, 8);
		*port = (u16)x_port;
	}
	*bits = fadt_u32(fadt, FADT_FLAGS) & FADT_TMR_VAL_EXT ? 32 : 24;
	return *port ? 0 : -ENODEV;
}

const struct acpi_info *acpi_state(void)
{
	return &acpi;
}
