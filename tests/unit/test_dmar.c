/* DMAR parsing: QEMU's real table, a synthetic table with every structure type, and
 * malformed variants (each bad structure reported and skipped, lengths never trusted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "iommu/dmar.h"
#include "acpi_builder.h"
#include "host_shim.h"
#include "data/qemu_dmar.h"

static struct dmar_info info;

/* A fake PCI topology: 00:01.0 is a bridge to bus 1..2, 01:00.0 a bridge to bus 2. */
static int fake_bridge_buses(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	(void)ctx;
	if (seg == 0 && bus == 0 && dev == 1 && fn == 0) {
		*sec = 1;
		*sub = 2;
		return 0;
	}
	if (seg == 0 && bus == 1 && dev == 0 && fn == 0) {
		*sec = 2;
		*sub = 2;
		return 0;
	}
	return -ENODEV;
}

static const struct dmar_pci_ops pci = {fake_bridge_buses, NULL};

static void fix_checksum(u8 *t, size_t len)
{
	u8 sum = 0;

	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + t[i]);
	t[9] = (u8)-sum;
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}
static void put32(u8 *p, u32 v)
{
	put16(p, (u16)v);
	put16(p + 2, (u16)(v >> 16));
}
static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

/* ---- the real QEMU table ---- */

static void test_qemu_table(void **state)
{
	(void)state;
	shim_errors_logged = 0;
	assert_int_equal(dmar_parse(qemu_dmar, sizeof(qemu_dmar), &info), 0);
	assert_int_equal(shim_errors_logged, 0);
	assert_int_equal(info.host_addr_width, 48);
	assert_int_equal(info.flags, DMAR_FLAG_INTR_REMAP);
	assert_int_equal(info.nr_drhd, 1);
	assert_int_equal(info.nr_rmrr, 0);
	assert_int_equal(info.nr_bad, 0);
	assert_int_equal(info.drhd[0].base, 0xfed90000);
	assert_int_equal(info.drhd[0].segment, 0);
	assert_false(info.drhd[0].include_pci_all);
	assert_int_equal(info.drhd[0].scopes.count, 7);
	assert_int_equal(info.scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(info.scopes[0].enum_id, 0);
	assert_int_equal(info.scopes[0].start_bus, 0xff);
	assert_int_equal(info.scopes[1].type, DMAR_SCOPE_ENDPOINT);
	assert_int_equal(info.scopes[2].type, DMAR_SCOPE_BRIDGE);
	assert_int_equal(info.scopes[2].path[0].dev, 1);
	assert_int_equal(info.scopes[3].path[0].dev, 5);
	assert_int_equal(info.scopes[4].path[0].dev, 0x1f);
	assert_int_equal(info.scopes[6].path[0].dev, 0x1f);
	assert_int_equal(info.scopes[6].path[0].fn, 3);
	for (unsigned i = 1; i < 7; i++) {
		assert_int_equal(info.scopes[i].start_bus, 0);
		assert_int_equal(info.scopes[i].depth, 1);
	}
}

static void test_qemu_unit_lookup(void **state)
{
	u16 sid = 0;

	(void)state;
	assert_int_equal(dmar_parse(qemu_dmar, sizeof(qemu_dmar), &info), 0);
	/* endpoint scope */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 5, 0), PCI_RID(0, 5, 0), &pci), 0);
	/* behind the bridge scope 00:01.0 (buses 1..2), a VF too */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(1, 0, 0), PCI_RID(1, 0, 0), &pci), 0);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(1, 0x10, 2), PCI_RID(1, 0, 0), &pci),
			 0);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(2, 3, 0), PCI_RID(2, 3, 0), &pci), 0);
	/* the bridge itself */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 1, 0), PCI_RID(0, 1, 0), &pci), 0);
	/* not in any scope, no INCLUDE_PCI_ALL unit */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 7, 0), PCI_RID(0, 7, 0), &pci),
			 -ENODEV);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(3, 0, 0), PCI_RID(3, 0, 0), &pci),
			 -ENODEV);
	assert_int_equal(dmar_unit_for_pci(&info, 1, PCI_RID(0, 5, 0), PCI_RID(0, 5, 0), &pci),
			 -ENODEV);
	/* without config access a bridge scope covers only exact matches it can resolve */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(1, 0, 0), PCI_RID(1, 0, 0), NULL),
			 -ENODEV);
	/* the IOAPIC's source ID from its scope */
	assert_int_equal(dmar_unit_for_ioapic(&info, 0, &sid, &pci), 0);
	assert_int_equal(sid, PCI_RID(0xff, 0, 0));
	assert_int_equal(dmar_unit_for_ioapic(&info, 1, &sid, &pci), -ENODEV);
	assert_int_equal(dmar_unit_for_non_pci(&info, 0, PCI_RID(0xff, 0, 0), &pci), 0);
	assert_int_equal(dmar_unit_for_non_pci(&info, 0, PCI_RID(0, 5, 0), &pci), -ENODEV);
	assert_int_equal(dmar_unit_for_non_pci(&info, 1, PCI_RID(0xff, 0, 0), &pci), -ENODEV);
}

/* ---- a synthetic table with every structure type ---- */

static size_t build_full(u8 *t)
{
	size_t o = 48;

	memset(t, 0, 512);
	memcpy(t, "DMAR", 4);
	t[8] = 1;
	t[36] = 38; /* HAW 39 */
	t[37] = DMAR_FLAG_INTR_REMAP | DMAR_FLAG_X2APIC_OPT_OUT;
	/* DRHD 1: explicit, segment 0, bridge scope with a two-hop path 00:01.0 -> 01:00.0 */
	put16(t + o, 0);
	put16(t + o + 2, 16 + 10 + 8);
	t[o + 5] = 1;
	put16(t + o + 6, 0);
	put64(t + o + 8, 0xfed91000);
	t[o + 16] = DMAR_SCOPE_BRIDGE;
	t[o + 17] = 10;
	t[o + 21] = 0;
	t[o + 22] = 1;
	t[o + 23] = 0;
	t[o + 24] = 0;
	t[o + 25] = 0;
	t[o + 26] = DMAR_SCOPE_HPET;
	t[o + 27] = 8;
	t[o + 30] = 3;
	t[o + 31] = 0;
	t[o + 32] = 0x1f;
	t[o + 33] = 0;
	o += 34;
	/* DRHD 2: INCLUDE_PCI_ALL, segment 0 */
	put16(t + o, 0);
	put16(t + o + 2, 16 + 8);
	t[o + 4] = 1;
	put64(t + o + 8, 0xfed90000);
	t[o + 16] = DMAR_SCOPE_IOAPIC;
	t[o + 17] = 8;
	t[o + 20] = 2;
	t[o + 21] = 0xf0;
	t[o + 22] = 0x1f;
	t[o + 23] = 0;
	o += 24;
	/* RMRR 0x000e0000-0x000fffff for 00:1d.0 */
	put16(t + o, 1);
	put16(t + o + 2, 24 + 8);
	put64(t + o + 8, 0xe0000);
	put64(t + o + 16, 0xfffff);
	t[o + 24] = DMAR_SCOPE_ENDPOINT;
	t[o + 25] = 8;
	t[o + 30] = 0x1d;
	t[o + 31] = 0;
	o += 32;
	/* ATSR all ports */
	put16(t + o, 2);
	put16(t + o + 2, 8);
	t[o + 4] = 1;
	o += 8;
	/* RHSA for DRHD 2 */
	put16(t + o, 3);
	put16(t + o + 2, 20);
	put64(t + o + 8, 0xfed90000);
	put32(t + o + 16, 7);
	o += 20;
	/* ANDD: ignored */
	put16(t + o, 4);
	put16(t + o + 2, 12);
	memcpy(t + o + 8, "\\_SB", 4);
	o += 12;
	/* SATC, ATC required, one endpoint */
	put16(t + o, 5);
	put16(t + o + 2, 8 + 8);
	t[o + 4] = 1;
	t[o + 8] = DMAR_SCOPE_ENDPOINT;
	t[o + 9] = 8;
	t[o + 13] = 0;
	t[o + 14] = 4;
	t[o + 15] = 0;
	o += 16;
	put32(t + 4, (u32)o);
	fix_checksum(t, o);
	return o;
}

static void test_full_table(void **state)
{
	u8 t[512];
	size_t len = build_full(t);
	u8 sec, sub;
	u16 bdf;

	(void)state;
	shim_errors_logged = shim_warnings_logged = 0;
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(shim_errors_logged + shim_warnings_logged, 0);
	assert_int_equal(info.host_addr_width, 39);
	assert_int_equal(info.nr_drhd, 2);
	assert_int_equal(info.nr_rmrr, 1);
	assert_int_equal(info.nr_atsr, 1);
	assert_int_equal(info.nr_rhsa, 1);
	assert_int_equal(info.nr_satc, 1);
	assert_int_equal(info.nr_bad, 0);
	assert_int_equal(info.drhd[0].size_log2, 1);
	assert_true(info.drhd[1].include_pci_all);
	assert_true(info.drhd[1].has_rhsa);
	assert_int_equal(info.drhd[1].proximity, 7);
	assert_false(info.drhd[0].has_rhsa);
	assert_int_equal(info.rmrr[0].base, 0xe0000);
	assert_int_equal(info.rmrr[0].limit, 0xfffff);
	assert_int_equal(info.rmrr[0].scopes.count, 1);
	assert_true(info.atsr[0].all_ports);
	assert_true(info.satc[0].atc_required);
	assert_int_equal(info.scopes[info.satc[0].scopes.first].path[0].dev, 4);
	/* two-hop path: 00:01.0 (secondary 1) -> 01:00.0, which bridges to bus 2 */
	assert_int_equal(info.scopes[0].depth, 2);
	assert_int_equal(dmar_scope_resolve(&info.scopes[0], 0, &pci, &bdf, &sec, &sub), 0);
	assert_int_equal(bdf, PCI_RID(1, 0, 0));
	assert_int_equal(sec, 2);
	assert_int_equal(sub, 2);
	/* bus 2 belongs to DRHD 0 through the bridge; bus 1 devices other than the bridge
	 * and everything else fall to the INCLUDE_PCI_ALL unit */
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(2, 0, 0), PCI_RID(2, 0, 0), &pci), 0);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(1, 0, 0), PCI_RID(1, 0, 0), &pci), 0);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(1, 1, 0), PCI_RID(1, 1, 0), &pci), 1);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 3, 0), PCI_RID(0, 3, 0), &pci), 1);
	assert_int_equal(dmar_unit_for_pci(&info, 1, PCI_RID(0, 3, 0), PCI_RID(0, 3, 0), &pci),
			 -ENODEV);
	{
		unsigned idx[4];

		assert_int_equal(dmar_rmrrs_for_pci(&info, 0, PCI_RID(0, 0x1d, 0), &pci, idx, 4),
				 1);
		assert_int_equal(idx[0], 0);
		assert_int_equal(dmar_rmrrs_for_pci(&info, 0, PCI_RID(0, 0x1d, 1), &pci, idx, 4),
				 0);
		assert_int_equal(dmar_rmrrs_for_pci(&info, 1, PCI_RID(0, 0x1d, 0), &pci, idx, 4),
				 0);
	}
	assert_int_equal(info.scopes[1].type, DMAR_SCOPE_HPET);
	assert_int_equal(info.scopes[1].enum_id, 3);
	{
		u16 sid;

		assert_int_equal(dmar_unit_for_ioapic(&info, 2, &sid, &pci), 1);
		assert_int_equal(sid, PCI_RID(0xf0, 0x1f, 0));
		/* the HPET (DRHD 0, bus 0, 1f.0) */
		assert_int_equal(dmar_unit_for_non_pci(&info, 0, PCI_RID(0, 0x1f, 0), &pci), 0);
	}
}

/* ---- malformed tables ---- */

static void test_not_a_dmar(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	assert_int_equal(dmar_parse(t, 20, &info), -EINVAL);
	t[0] = 'X';
	assert_int_equal(dmar_parse(t, len, &info), -EINVAL);
	assert_int_equal(info.nr_drhd, 0);
}

static void test_table_length_past_buffer(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	shim_errors_logged = 0;
	assert_int_equal(dmar_parse(t, len - 1, &info), -EINVAL);
	assert_true(shim_errors_logged > 0);
	put32(t + 4, 40);
	assert_int_equal(dmar_parse(t, len, &info), -EINVAL);
}

static void test_bad_checksum_warns(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	t[9] ^= 0x55;
	shim_warnings_logged = 0;
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_true(shim_warnings_logged > 0);
	assert_int_equal(info.nr_drhd, 2);
}

static void test_struct_length_zero_stops(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	/* the second DRHD at offset 48 + 34 claims length 0: nothing after it is findable */
	put16(t + 48 + 34 + 2, 0);
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_drhd, 1);
	assert_int_equal(info.nr_rmrr, 0);
	assert_int_equal(info.nr_bad, 1);
}

static void test_struct_length_past_table(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	/* the last structure (SATC, 16 bytes) claims 200 */
	put16(t + len - 16 + 2, 200);
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_satc, 0);
	assert_int_equal(info.nr_drhd, 2);
	assert_int_equal(info.nr_bad, 1);
}

static void test_scope_past_struct_skips_struct(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	/* DRHD 1's second scope (HPET) claims 12 bytes; only 8 remain in the DRHD */
	t[48 + 27] = 12;
	shim_errors_logged = 0;
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_true(shim_errors_logged > 0);
	assert_int_equal(info.nr_bad, 1);
	/* the bad DRHD is dropped with its scopes; the following structures survive */
	assert_int_equal(info.nr_drhd, 1);
	assert_int_equal(info.drhd[0].base, 0xfed90000);
	assert_int_equal(info.drhd[0].scopes.first, 0);
	assert_int_equal(info.scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(info.nr_rmrr, 1);
	assert_int_equal(info.nr_satc, 1);
}

static void test_scope_bad_lengths(void **state)
{
	static const u8 bad_len[] = {0, 5, 7, 6};
	u8 t[512];

	(void)state;
	for (unsigned i = 0; i < sizeof(bad_len); i++) {
		size_t len = build_full(t);

		/* RMRR's scope at 48 + 34 + 24 + 24 */
		t[48 + 58 + 25] = bad_len[i];
		assert_int_equal(dmar_parse(t, len, &info), 0);
		assert_int_equal(info.nr_rmrr, 0);
		assert_int_equal(info.nr_bad, 1);
		assert_int_equal(info.nr_drhd, 2);
	}
}

static void test_scope_bad_type_and_path(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	t[48 + 58 + 24] = 9; /* RMRR scope type 9 */
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_rmrr, 0);
	len = build_full(t);
	t[48 + 58 + 30] = 40; /* device 40 */
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_rmrr, 0);
	assert_int_equal(info.nr_bad, 1);
}

static void test_bad_fields(void **state)
{
	u8 t[512];
	size_t len;

	(void)state;
	len = build_full(t);
	put64(t + 48 + 58 + 16, 0xdffff); /* RMRR limit below base */
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_rmrr, 0);
	len = build_full(t);
	put64(t + 48 + 8, 0xfed91800); /* DRHD base not page aligned */
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_drhd, 1);
	len = build_full(t);
	put16(t + 48 + 2, 12); /* DRHD shorter than its fixed part: skipped, walk continues */
	assert_int_equal(dmar_parse(t, len, &info), 0);
	assert_int_equal(info.nr_bad, 2); /* the DRHD, then the garbage its length pointed at */
}

static void test_trailing_bytes(void **state)
{
	u8 t[512];
	size_t len = build_full(t);

	(void)state;
	put32(t + 4, (u32)len + 3);
	assert_int_equal(dmar_parse(t, len + 3, &info), 0);
	assert_int_equal(info.nr_satc, 1);
	assert_int_equal(info.nr_bad, 1);
}

static void test_too_many_structures(void **state)
{
	static u8 t[48 + 12 * 24];
	size_t o = 48;

	(void)state;
	memset(t, 0, sizeof(t));
	memcpy(t, "DMAR", 4);
	t[36] = 47;
	/* 12 DRHDs, each with one endpoint scope: the 9th and later do not fit */
	for (unsigned i = 0; i < 12; i++, o += 24) {
		put16(t + o, 0);
		put16(t + o + 2, 24);
		put64(t + o + 8, 0xfed00000ull + i * 0x1000);
		t[o + 16] = DMAR_SCOPE_ENDPOINT;
		t[o + 17] = 8;
		t[o + 22] = (u8)i;
	}
	put32(t + 4, (u32)o);
	fix_checksum(t, o);
	shim_errors_logged = 0;
	assert_int_equal(dmar_parse(t, o, &info), 0);
	assert_int_equal(info.nr_drhd, DMAR_MAX_DRHD);
	assert_int_equal(info.nr_bad, 12 - DMAR_MAX_DRHD);
	assert_int_equal(info.nr_scopes, DMAR_MAX_DRHD);
	assert_true(shim_errors_logged >= 12 - DMAR_MAX_DRHD);
	assert_int_equal(info.drhd[7].base, 0xfed07000);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 7, 0), PCI_RID(0, 7, 0), &pci), 7);
	assert_int_equal(dmar_unit_for_pci(&info, 0, PCI_RID(0, 9, 0), PCI_RID(0, 9, 0), &pci),
			 -ENODEV);
}

/* ---- several segments: each segment's units and RMRRs, same BDFs apart ---- */

static void test_two_segments(void **state)
{
	struct acpi_builder b;
	unsigned idx[4];
	const u16 gfx = PCI_RID(0, 2, 0), nic = PCI_RID(0, 3, 0), usb = PCI_RID(0, 0x14, 0);

	(void)state;
	ab_dmar(&b, 46, DMAR_FLAG_INTR_REMAP);
	ab_drhd(&b, 1, 1, 0xfed92000); /* segment 1, INCLUDE_PCI_ALL, listed first */
	ab_drhd(&b, 0, 0, 0xfed90000); /* segment 0 graphics */
	ab_scope(&b, DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0);
	ab_drhd(&b, 1, 0, 0xfed91000); /* segment 0, INCLUDE_PCI_ALL */
	ab_scope(&b, DMAR_SCOPE_IOAPIC, 2, 0xf0, 0x1f, 0);
	ab_rmrr(&b, 0, 0x3e000000, 0x3e0fffff); /* segment 0 USB */
	ab_scope(&b, DMAR_SCOPE_ENDPOINT, 0, 0, 0x14, 0);
	ab_rmrr(&b, 1, 0x3f000000, 0x3f7fffff); /* segment 1 USB, same BDF */
	ab_scope(&b, DMAR_SCOPE_ENDPOINT, 0, 0, 0x14, 0);
	ab_finish(&b);
	shim_errors_logged = 0;
	assert_int_equal(dmar_parse(b.buf, b.len, &info), 0);
	assert_int_equal(shim_errors_logged, 0);
	assert_int_equal(info.nr_drhd, 3);
	assert_int_equal(info.drhd[0].segment, 1);
	assert_int_equal(info.nr_rmrr, 2);
	assert_int_equal(info.rmrr[1].segment, 1);

	assert_int_equal(dmar_unit_for_pci(&info, 0, gfx, gfx, &pci), 1);
	assert_int_equal(dmar_unit_for_pci(&info, 0, nic, nic, &pci), 2);
	assert_int_equal(dmar_unit_for_pci(&info, 1, gfx, gfx, &pci), 0);
	assert_int_equal(dmar_unit_for_pci(&info, 1, nic, nic, &pci), 0);
	assert_int_equal(dmar_unit_for_pci(&info, 2, nic, nic, &pci), -ENODEV);
	/* the IOAPIC scope is segment 0's */
	assert_int_equal(dmar_unit_for_non_pci(&info, 0, PCI_RID(0xf0, 0x1f, 0), &pci), 2);
	assert_int_equal(dmar_unit_for_non_pci(&info, 1, PCI_RID(0xf0, 0x1f, 0), &pci), -ENODEV);

	assert_int_equal(dmar_rmrrs_for_pci(&info, 0, usb, &pci, idx, 4), 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(dmar_rmrrs_for_pci(&info, 1, usb, &pci, idx, 4), 1);
	assert_int_equal(idx[0], 1);
	assert_int_equal(dmar_rmrrs_for_pci(&info, 1, gfx, &pci, idx, 4), 0);
	assert_int_equal(dmar_rmrrs_for_pci(&info, 2, usb, &pci, idx, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_table),
		cmocka_unit_test(test_two_segments),
		cmocka_unit_test(test_qemu_unit_lookup),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_not_a_dmar),
		cmocka_unit_test(test_table_length_past_buffer),
		cmocka_unit_test(test_bad_checksum_warns),
		cmocka_unit_test(test_struct_length_zero_stops),
		cmocka_unit_test(test_struct_length_past_table),
		cmocka_unit_test(test_scope_past_struct_skips_struct),
		cmocka_unit_test(test_scope_bad_lengths),
		cmocka_unit_test(test_scope_bad_type_and_path),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_too_many_structures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
