/* VT-d encoders checked bit by bit against the spec's layouts: capabilities, root and
 * context entries, second-level entries through the page-table engine, IRTEs, the
 * remappable MSI, and every invalidation descriptor. Expected values are written out as
 * the spec's bit positions, not through the driver's own masks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pmm.h>
#include <moat/ratelimit.h>
#include "iommu/vtd.h"
#include "host_shim.h"

#define B(n) (1ULL << (n))

/* ---- capabilities ---- */

#define QEMU_CAP 0x00d2008c222f0606ull
#define QEMU_ECAP 0x0000000000f00f4aull

static void test_caps_qemu(void **state)
{
	struct vtd_caps c;

	(void)state;
	vtd_caps_decode(QEMU_CAP, QEMU_ECAP, &c);
	assert_int_equal(c.nr_domains, 65536); /* ND = 6 */
	assert_int_equal(c.sagaw, 0x6);	       /* 39-bit and 48-bit */
	assert_int_equal(c.mgaw, 48);
	assert_int_equal(c.sllps, 0x3); /* 2 MiB and 1 GiB */
	assert_int_equal(c.nr_frcd, 1);
	assert_int_equal(c.frcd_off, 0x220);
	assert_int_equal(c.iotlb_off, 0xf0);
	assert_true(c.psi);
	assert_int_equal(c.mamv, 0x12);
	assert_false(c.cm);
	assert_false(c.rwbf);
	assert_false(c.coherent);
	assert_true(c.qi);
	assert_true(c.ir);
	assert_false(c.eim);
	assert_true(c.pt);
	vtd_caps_decode(0, B(4) | B(0), &c); /* EIM, C */
	assert_true(c.eim);
	assert_true(c.coherent);
	assert_int_equal(c.nr_domains, 16);
	assert_int_equal(c.nr_frcd, 1);
	vtd_caps_decode(B(7) | B(4) | (0xfull << 40), 0, &c);
	assert_true(c.cm);
	assert_true(c.rwbf);
	assert_int_equal(c.nr_frcd, 16);
}

static void test_caps_common(void **state)
{
	struct vtd_caps u[2];
	struct vtd_common c;

	(void)state;
	vtd_caps_decode(QEMU_CAP, QEMU_ECAP, &u[0]);
	assert_int_equal(vtd_caps_common(u, 1, &c), 0);
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.max_leaf_level, 2);
	assert_int_equal(c.nr_domains, 65536);
	assert_true(c.qi && c.ir);
	assert_false(c.eim || c.coherent);
	/* second unit: 3-level only, 2 MiB only, 256 domains, no IR, coherent, EIM */
	vtd_caps_decode((2ull << 8) | (1ull << 34) | 2, B(0) | B(1) | B(4), &u[1]);
	assert_int_equal(vtd_caps_common(u, 2, &c), 0);
	assert_int_equal(c.sagaw, 0x2);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.max_leaf_level, 1);
	assert_int_equal(c.nr_domains, 256);
	assert_false(c.ir);
	assert_false(c.eim);
	assert_false(c.coherent);
	/* no common depth */
	vtd_caps_decode(4ull << 8, 0, &u[1]);
	u[0].sagaw = 0x2;
	assert_int_equal(vtd_caps_common(u, 2, &c), -ENODEV);
	/* 5-level only */
	vtd_caps_decode(8ull << 8, 0, &u[0]);
	assert_int_equal(vtd_caps_common(u, 1, &c), 0);
	assert_int_equal(c.levels, 5);
	assert_int_equal(c.max_leaf_level, 0);
	assert_int_equal(vtd_caps_common(u, 0, &c), -ENODEV);
	/* 1 GiB without 2 MiB is not usable as a superpage ladder */
	vtd_caps_decode((4ull << 8) | (2ull << 34), 0, &u[0]);
	assert_int_equal(vtd_caps_common(u, 1, &c), 0);
	assert_int_equal(c.max_leaf_level, 0);
	assert_int_equal(vtd_aw_for_levels(3), 1);
	assert_int_equal(vtd_aw_for_levels(4), 2);
	assert_int_equal(vtd_aw_for_levels(5), 3);
	assert_int_equal(vtd_aw_for_levels(2), 0);
}

/* ---- root and context entries ---- */

static void test_root_entry(void **state)
{
	struct vtd_qword2 e = vtd_root_entry(0x123456789000ull);

	(void)state;
	assert_int_equal(e.lo, 0x123456789000ull | B(0));
	assert_int_equal(e.hi, 0);
	e = vtd_root_entry(0x5fff); /* low bits never leak into flags */
	assert_int_equal(e.lo, 0x5000 | B(0));
}

static void test_context_entry(void **state)
{
	struct vtd_context_cfg cfg = {
		.slptptr = 0xabcdef000ull, .did = 0x1234, .aw = 2, .tt = VTD_CTX_TT_UNTRANSLATED};
	struct vtd_qword2 e = vtd_context_entry(&cfg);

	(void)state;
	/* lo: P bit 0, FPD bit 1, TT bits 3:2, SLPTPTR 63:12 */
	assert_int_equal(e.lo, 0xabcdef000ull | B(0));
	/* hi: AW bits 2:0, DID bits 23:8 */
	assert_int_equal(e.hi, 2 | (0x1234ull << 8));
	cfg.fpd = true;
	cfg.tt = VTD_CTX_TT_PASSTHROUGH;
	cfg.aw = 1;
	cfg.did = 0xffff;
	cfg.slptptr = 0xabcdef123ull;
	e = vtd_context_entry(&cfg);
	assert_int_equal(e.lo, 0xabcdef000ull | B(0) | B(1) | (2ull << 2));
	assert_int_equal(e.hi, 1 | (0xffffull << 8));
	cfg.aw = 9; /* does not fit AW: must not spill into DID */
	cfg.did = 0;
	e = vtd_context_entry(&cfg);
	assert_int_equal(e.hi & ~7ull, 0);
}

/* ---- second-level tables ---- */

static struct pgtable pt;

static u64 *slot(u64 table, unsigned idx)
{
	return (u64 *)(uintptr_t)table + idx;
}

static void test_sl_entries(void **state)
{
	const struct pt_ops *ops = vtd_pt_ops(true);
	u64 pa, l3, l2, l1;
	u32 flags;
	unsigned level;

	(void)state;
	assert_null(ops->sync);
	assert_non_null(vtd_pt_ops(false)->sync);
	host_live_pages = 0;
	assert_int_equal(pt_init(&pt, &vtd_sl_format, ops, 4, 2), 0);
	/* 4 KiB read-only page at 0x40201000 -> 0x1234000 */
	assert_int_equal(pt_map(&pt, 0x40201000, 0x1234000, 0x1000, PT_R), 0);
	l3 = *slot(pt.root, 0);
	/* non-leaf: R|W, address, no PS */
	assert_int_equal(l3 & 0xfff, B(0) | B(1));
	l2 = *slot(l3 & ~0xfffull, 1);
	assert_int_equal(l2 & 0xfff, B(0) | B(1));
	l1 = *slot(l2 & ~0xfffull, 1);
	assert_int_equal(*slot(l1 & ~0xfffull, 1), 0x1234000ull | B(0));
	assert_int_equal(pt_lookup(&pt, 0x40201abc, &pa, &flags, &level), 0);
	assert_int_equal(pa, 0x1234abc);
	assert_int_equal(flags, PT_R);
	assert_int_equal(level, 0);
	/* 2 MiB write-only superpage: PS bit 7 */
	assert_int_equal(pt_map(&pt, 0x80000000ull + 0x200000, 0x40000000, 0x200000, PT_W), 0);
	l2 = *slot(*slot(pt.root, 0) & ~0xfffull, 2);
	assert_int_equal(*slot(l2 & ~0xfffull, 1), 0x40000000ull | B(1) | B(7));
	/* 1 GiB superpage */
	assert_int_equal(pt_map(&pt, 0x100000000ull, 0x80000000ull, 0x40000000, PT_RW), 0);
	assert_int_equal(*slot(*slot(pt.root, 0) & ~0xfffull, 4),
			 0x80000000ull | B(0) | B(1) | B(7));
	assert_int_equal(pt_lookup(&pt, 0x100000000ull + 0x12345, &pa, &flags, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(pa, 0x80012345ull);
	/* unmapping 4 KiB out of the 1 GiB page splits it; the rest stays mapped */
	assert_int_equal(pt_unmap(&pt, 0x100000000ull + 0x1000, 0x1000), 0);
	assert_int_equal(pt_lookup(&pt, 0x100000000ull + 0x1000, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(pt_lookup(&pt, 0x100000000ull + 0x2000, &pa, NULL, &level), 0);
	assert_int_equal(pa, 0x80002000ull);
	assert_int_equal(level, 0);
	assert_int_equal(pt_lookup(&pt, 0x100000000ull + 0x400000, NULL, NULL, &level), 0);
	assert_int_equal(level, 1);
	/* 4-level tables stop at 2^48 */
	assert_int_equal(pt_map(&pt, 1ull << 48, 0, 0x1000, PT_R), -ERANGE);
	pt_destroy(&pt);
	assert_int_equal(host_live_pages, 0);
	/* 3-level (39-bit) tables with 2 MiB pages only */
	assert_int_equal(pt_init(&pt, &vtd_sl_format, ops, 3, 1), 0);
	assert_int_equal(pt_map(&pt, 0, 0, 0x40000000, PT_RW), 0);
	assert_int_equal(pt_lookup(&pt, 0x3fffffff, &pa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(pt_map(&pt, 1ull << 39, 0, 0x1000, PT_R), -ERANGE);
	pt_destroy(&pt);
	assert_int_equal(host_live_pages, 0);
}

/* ---- interrupt remapping entries ---- */

static void test_irte_xapic(void **state)
{
	struct vtd_irte_cfg c = {.dest = 0x12,
				 .vector = 0x45,
				 .delivery = VTD_DLM_FIXED,
				 .svt = VTD_SVT_SID,
				 .sid = 0x0528};
	struct vtd_qword2 e;

	(void)state;
	assert_int_equal(vtd_irte_encode(&c, &e), 0);
	/* P bit 0, vector 23:16, xAPIC destination 47:40 */
	assert_int_equal(e.lo, B(0) | (0x45ull << 16) | (0x12ull << 40));
	/* SID 15:0, SQ 17:16, SVT 19:18 */
	assert_int_equal(e.hi, 0x0528 | (1ull << 18));
	c.fpd = c.logical = c.redir_hint = c.level = true;
	c.delivery = VTD_DLM_LOWPRI;
	c.svt = VTD_SVT_BUS;
	c.sq = 3;
	assert_int_equal(vtd_irte_encode(&c, &e), 0);
	assert_int_equal(e.lo, B(0) | B(1) | B(2) | B(3) | B(4) | (1ull << 5) | (0x45ull << 16) |
				       (0x12ull << 40));
	assert_int_equal(e.hi, 0x0528 | (3ull << 16) | (2ull << 18));
	c.delivery = VTD_DLM_EXTINT;
	assert_int_equal(vtd_irte_encode(&c, &e), 0);
	assert_int_equal((e.lo >> 5) & 7, 7);
	/* posted (IM, bit 15) never set by this encoder */
	assert_int_equal(e.lo & B(15), 0);
	/* an xAPIC entry cannot address APIC 256 */
	c.dest = 256;
	assert_int_equal(vtd_irte_encode(&c, &e), -EINVAL);
	assert_int_equal(e.lo, 0);
	c.dest = 1;
	c.svt = 4;
	assert_int_equal(vtd_irte_encode(&c, &e), -EINVAL);
}

static void test_irte_x2apic(void **state)
{
	struct vtd_irte_cfg c = {.dest = 0x12345678,
				 .vector = 0xef,
				 .x2apic = true,
				 .svt = VTD_SVT_SID,
				 .sid = 0xff00};
	struct vtd_qword2 e;

	(void)state;
	assert_int_equal(vtd_irte_encode(&c, &e), 0);
	/* EIM: destination 63:32 */
	assert_int_equal(e.lo, B(0) | (0xefull << 16) | (0x12345678ull << 32));
	assert_int_equal(e.hi, 0xff00 | (1ull << 18));
}

static void test_msi_remappable(void **state)
{
	u32 addr, data;

	(void)state;
	/* 0xFEE, handle[14:0] in 19:5, SHV 3, interrupt format 4, handle[15] in 2 */
	vtd_msi_remappable(5, &addr, &data);
	assert_int_equal(addr, 0xfee00000u | (5u << 5) | B(4));
	assert_int_equal(data, 0);
	vtd_msi_remappable(0x8001, &addr, &data);
	assert_int_equal(addr, 0xfee00000u | (1u << 5) | B(4) | B(2));
	vtd_msi_remappable(0x7fff, &addr, &data);
	assert_int_equal(addr, 0xfee00000u | (0x7fffu << 5) | B(4));
}

static void test_ioapic_rte(void **state)
{
	(void)state;
	/* handle[14:0] 63:49, format 48, mask 16, trigger 15, polarity 13, handle[15] 11,
	 * vector 7:0 */
	assert_int_equal(vtd_ioapic_rte(3, 0x41, false, false, false), (3ull << 49) | B(48) | 0x41);
	assert_int_equal(vtd_ioapic_rte(0x8002, 0x42, true, true, true),
			 (2ull << 49) | B(48) | B(16) | B(15) | B(13) | B(11) | 0x42);
}

/* ---- invalidation descriptors ---- */

static void test_desc_context_cache(void **state)
{
	struct vtd_qword2 d;

	(void)state;
	/* type 3:0 = 1, granularity 5:4, DID 31:16, SID 47:32, FM 49:48 */
	d = vtd_desc_cc_global();
	assert_int_equal(d.lo, 0x1 | (1 << 4));
	assert_int_equal(d.hi, 0);
	d = vtd_desc_cc_domain(0x42);
	assert_int_equal(d.lo, 0x1 | (2 << 4) | (0x42ull << 16));
	d = vtd_desc_cc_device(7, 0x0528, 1);
	assert_int_equal(d.lo, 0x1 | (3 << 4) | (7ull << 16) | (0x0528ull << 32) | (1ull << 48));
	assert_int_equal(d.hi, 0);
}

static void test_desc_iotlb(void **state)
{
	struct vtd_qword2 d;

	(void)state;
	/* type 2, granularity 5:4, DW 6, DR 7 (drain), DID 31:16; hi: AM 5:0, IH 6, ADDR 63:12 */
	d = vtd_desc_iotlb_global();
	assert_int_equal(d.lo, 0x2 | (1 << 4) | B(6) | B(7));
	assert_int_equal(d.hi, 0);
	d = vtd_desc_iotlb_domain(0xbeef);
	assert_int_equal(d.lo, 0x2 | (2 << 4) | B(6) | B(7) | (0xbeefull << 16));
	d = vtd_desc_iotlb_page(3, 0x7e004000, 2, false);
	assert_int_equal(d.lo, 0x2 | (3 << 4) | B(6) | B(7) | (3ull << 16));
	assert_int_equal(d.hi, 0x7e004000ull | 2);
	d = vtd_desc_iotlb_page(3, 0x123456789abcull, 0, true);
	assert_int_equal(d.hi, 0x123456789000ull | B(6));
}

static void test_desc_iec(void **state)
{
	struct vtd_qword2 d;

	(void)state;
	/* type 4, G bit 4 (1 = index), IM 31:27, IIDX 47:32 */
	d = vtd_desc_iec_global();
	assert_int_equal(d.lo, 0x4);
	assert_int_equal(d.hi, 0);
	d = vtd_desc_iec_index(0x1234, 0);
	assert_int_equal(d.lo, 0x4 | B(4) | (0x1234ull << 32));
	d = vtd_desc_iec_index(8, 3);
	assert_int_equal(d.lo, 0x4 | B(4) | (3ull << 27) | (8ull << 32));
}

static void test_desc_wait(void **state)
{
	struct vtd_qword2 d;

	(void)state;
	/* type 5, IF 4, SW 5, FN 6, status data 63:32; hi: status address 63:2 */
	d = vtd_desc_wait(0x12345678, 0xcafe);
	assert_int_equal(d.lo, 0x5 | B(5) | (0xcafeull << 32));
	assert_int_equal(d.hi, 0x12345678);
	/* never SW together with IF: QEMU aborts on that */
	assert_int_equal(d.lo & B(4), 0);
	d = vtd_desc_wait(0x1003, 1);
	assert_int_equal(d.hi, 0x1000);
}

static void test_iotlb_mask(void **state)
{
	u64 base;

	(void)state;
	assert_int_equal(vtd_iotlb_mask(0x5000, 0x1000, &base), 0);
	assert_int_equal(base, 0x5000);
	assert_int_equal(vtd_iotlb_mask(0x4000, 0x4000, &base), 2);
	assert_int_equal(base, 0x4000);
	/* pages 5 and 6 straddle an order-1 block: order 2 from page 4 covers both */
	assert_int_equal(vtd_iotlb_mask(0x5000, 0x2000, &base), 2);
	assert_int_equal(base, 0x4000);
	assert_int_equal(vtd_iotlb_mask(0x200000, 0x200000, &base), 9);
	assert_int_equal(base, 0x200000);
	assert_int_equal(vtd_iotlb_mask(0x1ff000, 0x2000, &base), 10);
	assert_int_equal(base, 0);
}

static void test_fault_reason_names(void **state)
{
	(void)state;
	assert_string_equal(vtd_fault_reason_name(5), "write to a page without write permission");
	assert_string_equal(vtd_fault_reason_name(6), "read of a page without read permission");
	assert_string_equal(vtd_fault_reason_name(0x26), "interrupt source-id verification failed");
	assert_string_equal(vtd_fault_reason_name(0x25), "compatibility-format interrupt blocked");
	assert_string_equal(vtd_fault_reason_name(0), "unknown fault reason");
	assert_string_equal(vtd_fault_reason_name(0xff), "unknown fault reason");
}

static void test_fault_log_ratelimit(void **state)
{
	struct ratelimit r = {.window_us = 1000, .burst = 3};
	unsigned dropped, allowed = 0;

	(void)state;
	/* a storm of 10 in one window: 3 reported, 7 counted as suppressed */
	for (unsigned i = 0; i < 10; i++) {
		allowed += ratelimit_allow(&r, 5000 + i, &dropped);
		assert_int_equal(dropped, 0);
	}
	assert_int_equal(allowed, 3);
	/* the next window announces the 7 and reports again */
	assert_true(ratelimit_allow(&r, 6000, &dropped));
	assert_int_equal(dropped, 7);
	assert_true(ratelimit_allow(&r, 6001, &dropped));
	assert_int_equal(dropped, 0);
	/* a quiet window closes with nothing to announce */
	assert_true(ratelimit_allow(&r, 9000, &dropped));
	assert_int_equal(dropped, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_qemu),
		cmocka_unit_test(test_caps_common),
		cmocka_unit_test(test_root_entry),
		cmocka_unit_test(test_context_entry),
		cmocka_unit_test(test_sl_entries),
		cmocka_unit_test(test_irte_xapic),
		cmocka_unit_test(test_irte_x2apic),
		cmocka_unit_test(test_msi_remappable),
		cmocka_unit_test(test_ioapic_rte),
		cmocka_unit_test(test_desc_context_cache),
		cmocka_unit_test(test_desc_iotlb),
		cmocka_unit_test(test_desc_iec),
		cmocka_unit_test(test_desc_wait),
		cmocka_unit_test(test_iotlb_mask),
		cmocka_unit_test(test_fault_reason_names),
		cmocka_unit_test(test_fault_log_ratelimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
