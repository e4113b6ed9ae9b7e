/* What the firmware's tables say about leaving the machine: the PM1 control blocks and the
 * \_S5 sleep type for power-off, the FADT reset register for reboot (ACPI 6.5 4.8.3.2,
 * 5.2.9, 7.4.2). moat has no AML interpreter: \_S5 is the one object it reads, a Name with
 * a constant Package, the form every firmware uses. */
#define LOG_TAG "acpi"
#include <moat/acpi.h>
#include <moat/errno.h>
#include <moat/string.h>

/* FADT (5.2.9) */
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_FLAGS 112
#define FADT_FLAGS_RESET_REG_SUP BIT(10)
#define FADT_RESET_REG 116 /* Generic Address Structure */
#define FADT_RESET_VALUE 128
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
/* Generic Address Structure (5.2.3.2) */
#define GAS_SPACE 0
#define GAS_ADDRESS 4
#define GAS_SIZE 12
/* AML (20.2) */
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_PKGLEN_FOLLOWING GENMASK(7, 6)
#define SLP_TYP_MAX 7

static bool fadt_has(const struct acpi_sdt_header *fadt, u32 off, u32 len)
{
	return fadt->length >= off + len;
}

static u64 fadt_read(const struct acpi_sdt_header *fadt, u32 off, u32 len)
{
	u64 v = 0;

	if (fadt_has(fadt, off, len))
		memcpy(&v, (const u8 *)fadt + off, len);
	return v;
}

/* A PM1 control block: the X_ GAS (system I/O only) when set, else the 32-bit port. */
static u16 pm1_port(const struct acpi_sdt_header *fadt, u32 legacy_off, u32 x_off)
{
	const u8 *f = (const u8 *)fadt;
	u64 x = fadt_read(fadt, x_off + GAS_ADDRESS, 8);

	if (x && fadt_has(fadt, x_off, GAS_SIZE) && f[x_off + GAS_SPACE] == ACPI_GAS_IO &&
	    x <= 0xffff)
		return (u16)x;
	return (u16)fadt_read(fadt, legacy_off, 4);
}

/* One package element that is an integer constant; advances *p. */
static int aml_int(const u8 **p, const u8 *end, u64 *v)
{
	const u8 *q = *p;
	unsigned n;

	if (q >= end)
		return -EINVAL;
	switch (*q) {
	case AML_ZERO_OP:
		*v = 0;
		*p = q + 1;
		return 0;
	case AML_ONE_OP:
		*v = 1;
		*p = q + 1;
		return 0;
	case AML_BYTE_PREFIX: n = 1; break;
	case AML_WORD_PREFIX: n = 2; break;
	case AML_DWORD_PREFIX: n = 4; break;
	default: return -EINVAL;
	}
	if (end - q < 1 + (long)n)
		return -EINVAL;
	*v = 0;
	memcpy(v, q + 1, n);
	*p = q + 1 + n;
	return 0;
}

/* Name(_S5_, Package(){a, b, ...}): its first two integers. */
static int s5_from_dsdt(const struct acpi_sdt_header *dsdt, u8 *typ_a, u8 *typ_b)
{
	const u8 *start = (const u8 *)dsdt + sizeof(*dsdt), *end = (const u8 *)dsdt + dsdt->length;

	for (const u8 *p = start; p + 4 <= end; p++) {
		const u8 *q = p + 4;
		unsigned follow;
		u64 a, b;

		if (memcmp(p, "_S5_", 4) || p == start ||
		    !(p[-1] == AML_NAME_OP ||
		      (p[-1] == '\\' && p - 1 > start && p[-2] == AML_NAME_OP)))
			continue;
		if (q + 2 > end || *q++ != AML_PACKAGE_OP)
			continue;
		follow = (unsigned)FIELD_GET(AML_PKGLEN_FOLLOWING, *q);
		q += 1 + follow + 1; /* PkgLength, NumElements */
		if (q > end || aml_int(&q, end, &a) || aml_int(&q, end, &b))
			continue;
		if (a > SLP_TYP_MAX || b > SLP_TYP_MAX)
			return -ERANGE;
		*typ_a = (u8)a;
		*typ_b = (u8)b;
		return 0;
	}
	return -ENOENT;
}

int acpi_power_parse(const struct acpi_sdt_header *fadt, const struct acpi_sdt_header *dsdt,
		     struct acpi_power *pw)
{
	memset(pw, 0, sizeof(*pw));
	if (!fadt)
		return -ENODEV;
	pw->pm1a_cnt = pm1_port(fadt, FADT_PM1A_CNT_BLK, FADT_X_PM1A_CNT_BLK);
	pw->pm1b_cnt = pm1_port(fadt, FADT_PM1B_CNT_BLK, FADT_X_PM1B_CNT_BLK);
	pw->have_s5 = dsdt && dsdt->length > sizeof(*dsdt) && pw->pm1a_cnt &&
		      !s5_from_dsdt(dsdt, &pw->s5_typ_a, &pw->s5_typ_b);
	if ((fadt_read(fadt, FADT_FLAGS, 4) & FADT_FLAGS_RESET_REG_SUP) &&
	    fadt_has(fadt, FADT_RESET_VALUE, 1)) {
		pw->reset_space = (u8)fadt_read(fadt, FADT_RESET_REG + GAS_SPACE, 1);
		pw->reset_addr = fadt_read(fadt, FADT_RESET_REG + GAS_ADDRESS, 8);
		pw->reset_value = (u8)fadt_read(fadt, FADT_RESET_VALUE, 1);
		pw->have_reset = pw->reset_addr && (pw->reset_space == ACPI_GAS_IO ||
						    pw->reset_space == ACPI_GAS_MEMORY);
	}
	return 0;
}

int acpi_power(struct acpi_power *pw)
{
	return acpi_power_parse(acpi_find_table("FACP", 0), acpi_find_table("DSDT", 0), pw);
}
