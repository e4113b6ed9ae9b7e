/* Synthetic ACPI tables (see acpi_builder.h); layouts from the VT-d spec (8.1-8.4) and the
 * PCI Firmware spec (MCFG), little-endian byte by byte. */
#include <string.h>
#include "acpi_builder.h"

static void put(u8 *p, u64 v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u8 *grow(struct acpi_builder *b, size_t n)
{
	u8 *p = b->buf + b->len;

	memset(p, 0, n);
	b->len += n;
	return p;
}

static void header(struct acpi_builder *b, const char *sig, u8 rev, size_t len)
{
	memset(b->buf, 0, sizeof(b->buf));
	memcpy(b->buf, sig, 4);
	b->buf[8] = rev;
	memcpy(b->buf + 10, "MOATTS", 6);
	b->len = len;
	b->open = 0;
}

void ab_dmar(struct acpi_builder *b, u8 haw, u8 flags)
{
	header(b, "DMAR", 1, 48);
	b->buf[36] = (u8)(haw - 1);
	b->buf[37] = flags;
}

static void dmar_struct(struct acpi_builder *b, u16 type, size_t len)
{
	u8 *p;

	b->open = b->len;
	p = grow(b, len);
	put(p, type, 2);
	put(p + 2, len, 2);
}

void ab_drhd(struct acpi_builder *b, u8 flags, u16 seg, u64 base)
{
	u8 *p;

	dmar_struct(b, 0, 16);
	p = b->buf + b->open;
	p[4] = flags;
	put(p + 6, seg, 2);
	put(p + 8, base, 8);
}

void ab_rmrr(struct acpi_builder *b, u16 seg, u64 base, u64 limit)
{
	u8 *p;

	dmar_struct(b, 1, 24);
	p = b->buf + b->open;
	put(p + 6, seg, 2);
	put(p + 8, base, 8);
	put(p + 16, limit, 8);
}

void ab_scope(struct acpi_builder *b, u8 type, u8 enum_id, u8 bus, u8 dev, u8 fn)
{
	u8 *p = grow(b, 8), *s = b->buf + b->open;

	p[0] = type;
	p[1] = 8;
	p[4] = enum_id;
	p[5] = bus;
	p[6] = dev;
	p[7] = fn;
	put(s + 2, (u16)(s[2] | s[3] << 8) + 8, 2);
}

void ab_mcfg(struct acpi_builder *b)
{
	header(b, "MCFG", 1, 44);
}

void ab_mcfg_seg(struct acpi_builder *b, u64 base, u16 seg, u8 start_bus, u8 end_bus)
{
	u8 *p = grow(b, 16);

	put(p, base, 8);
	put(p + 8, seg, 2);
	p[10] = start_bus;
	p[11] = end_bus;
}

const struct acpi_sdt_header *ab_finish(struct acpi_builder *b)
{
	u8 sum = 0;

	put(b->buf + 4, b->len, 4);
	b->buf[9] = 0;
	for (size_t i = 0; i < b->len; i++)
		sum = (u8)(sum + b->buf[i]);
	b->buf[9] = (u8)-sum;
	return (const struct acpi_sdt_header *)b->buf;
}
