/* pci/: config access bounds, BAR sizing, enumeration, capability walks (malformed chains
 * included), SR-IOV arithmetic and enable, window allocation; on the config-space model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/boot_info.h>
#include <moat/errno.h>
#include <moat/pci.h>
#include "pci/internal.h"
#include "host_shim.h"
#include "pci_model.h"

/* ---- what pci/ needs from the rest of moat ---- */
static u64 slept_ms;
static const char *fake_cmdline_numvfs;

void mdelay(u64 ms)
{
	slept_ms += ms;
}

int cmdline_get(const char *key, char *buf, size_t size)
{
	if (strcmp(key, "sriov.numvfs") || !fake_cmdline_numvfs)
		return -ENOENT;
	snprintf(buf, size, "%s", fake_cmdline_numvfs);
	return (int)strlen(fake_cmdline_numvfs);
}

/* pci_init() binds PF drivers; the unit tests never run it, the kernel links pci/pf/. */
void pci_drivers_probe(void) {}

int parse_u64(const char **s, u64 *out, bool allow_suffix)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	*out = strtoull(*s, &end, 0);
	*s = end;
	return 0;
}

/* ---- topologies ---- */
struct ref {
	int hb, rp, igb, edu;
};

/* The reference machine as SeaBIOS leaves it: root port 00:01.0 -> igb 01:00.0, edu 00:05.0. */
static struct ref build_reference(void)
{
	struct ref r;

	model_reset();
	r.hb = model_host_bridge();
	r.rp = model_root_port(-1, 1, 1, 1);
	model_window(r.rp, false, 0xfe600000, 0xfe7fffff);
	model_window(r.rp, true, 0xfea00000, 0xfebfffff);
	model_bar(r.rp, PCI_BAR0, 0x1000, 0, 0xfe900000);
	r.igb = model_igb(r.rp, 0, 0);
	model_bar(r.igb, 0x10, 0x20000, 0, 0xfe600000);
	model_bar(r.igb, 0x14, 0x20000, 0, 0xfe620000);
	model_bar(r.igb, 0x18, 0x20, PCI_BAR_SPACE_IO, 0xc000);
	model_bar(r.igb, 0x1c, 0x4000, FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64),
		  0xfe640000);
	model_set(r.igb, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	r.edu = model_edu(5);
	model_bar(r.edu, 0x10, 0x100000, 0, 0xfe800000);
	model_set(r.edu, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	pci_root_aperture_add(0, 0xc0000000, 0xfebfffff);
	return r;
}

static int setup(void **state)
{
	slept_ms = 0;
	fake_cmdline_numvfs = NULL;
	shim_errors_logged = 0;
	model_reset();
	return 0;
}

/* ---- config access ---- */
static void test_cfg_bounds(void **state)
{
	u32 v = 0;

	model_host_bridge();
	assert_int_equal(pci_cfg_read(0, 0, 0, 4, &v), 0);
	assert_int_equal(v, 0x29c08086);
	assert_int_equal(pci_cfg_read(0, 0, 4096, 1, &v), -ERANGE);
	assert_int_equal(v, 0xff);
	assert_int_equal(pci_cfg_read(0, 0, 4094, 4, &v), -ERANGE);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(pci_cfg_read(0, 0, 0x41, 2, &v), -ERANGE);
	assert_int_equal(pci_cfg_read(0, 0, 0x40, 3, &v), -EINVAL);
	assert_int_equal(pci_cfg_read(1, 0, 0, 4, &v), -ENODEV);
	model.writes = 0;
	assert_int_equal(pci_cfg_write(0, 0, 4095, 2, 0), -ERANGE);
	assert_int_equal(model.writes, 0);
	assert_int_equal(pci_cfg_read(0, 0, 4092, 4, &v), 0);
	assert_true(shim_errors_logged >= 5);
}

static void test_q35_pciexbar(void **state)
{
	struct ecam_region r;

	model_host_bridge();
	assert_int_equal(pci_ecam_from_q35_mch(&r), 0);
	assert_int_equal(r.base, 0xb0000000);
	assert_int_equal(r.bus_end, 0xff);
	model_set(0, 0x60, 4, 0xe0000004 | 1); /* 64 buses at 0xe0000000 */
	assert_int_equal(pci_ecam_from_q35_mch(&r), 0);
	assert_int_equal(r.base, 0xe0000000);
	assert_int_equal(r.bus_end, 63);
	model_set(0, 0x60, 4, 0xe0000000); /* disabled */
	assert_int_equal(pci_ecam_from_q35_mch(&r), -ENODEV);
	model_set(0, 0x60, 4, 0xe0000007); /* reserved length */
	assert_int_equal(pci_ecam_from_q35_mch(&r), -EINVAL);
}

/* ---- BARs ---- */
static void test_bar_sizing(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *d;

	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 4);
	d = pci_find_bdf(0, 1, 0, 0);
	assert_non_null(d);
	assert_int_equal(d->bar[0].type, PCI_BAR_MEM32);
	assert_int_equal(d->bar[0].size, 0x20000);
	assert_int_equal(d->bar[0].base, 0xfe600000);
	assert_int_equal(d->bar[1].size, 0x20000);
	assert_int_equal(d->bar[2].type, PCI_BAR_IO);
	assert_int_equal(d->bar[2].size, 0x20);
	assert_int_equal(d->bar[2].base, 0xc000);
	assert_int_equal(d->bar[3].type, PCI_BAR_MEM64);
	assert_int_equal(d->bar[3].size, 0x4000);
	assert_int_equal(d->bar[3].base, 0xfe640000);
	assert_int_equal(d->bar[4].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[5].type, PCI_BAR_NONE);
	/* Registers and decode restored, and decode was off while the all-ones were in. */
	assert_int_equal(model_get(r.igb, 0x10, 4), 0xfe600000);
	assert_int_equal(model_get(r.igb, 0x18, 4), 0xc001);
	assert_int_equal(model_get(r.igb, 0x1c, 4), 0xfe640004);
	assert_int_equal(model_get(r.igb, 0x20, 4), 0);
	assert_int_equal(model_get(r.igb, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	for (int i = 0; i < MODEL_MAX_FNS; i++)
		assert_false(model.fn[i].sized_with_decode_on);
	d = pci_find_bdf(0, 0, 1, 0);
	assert_int_equal(d->bar[0].size, 0x1000);
	assert_int_equal(d->bar[1].type, PCI_BAR_NONE);
}

static void test_bar_64bit_high(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *d;

	model_bar(r.igb, 0x1c, 0x4000, FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64),
		  0x380000000000ULL);
	pci_enumerate_segment(0, 0, 0xff);
	d = pci_find_bdf(0, 1, 0, 0);
	assert_int_equal(d->bar[3].base, 0x380000000000ULL);
	assert_int_equal(d->bar[3].size, 0x4000);
	assert_int_equal(model_get(r.igb, 0x20, 4), 0x3800);
}

/* ---- enumeration ---- */
static void test_enumerate_reference(void **state)
{
	struct pci_dev *rp, *nic, *edu;

	build_reference();
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 4);
	rp = pci_find_bdf(0, 0, 1, 0);
	nic = pci_find_bdf(0, 1, 0, 0);
	edu = pci_find_bdf(0, 0, 5, 0);
	assert_non_null(rp);
	assert_non_null(nic);
	assert_non_null(edu);
	assert_int_equal(rp->header_type, 1);
	assert_int_equal(rp->secondary, 1);
	assert_int_equal(rp->subordinate, 1);
	assert_int_equal(rp->mem_window.base, 0xfe600000);
	assert_int_equal(rp->mem_window.limit, 0xfe7fffff);
	assert_int_equal(rp->pref_window.base, 0xfea00000);
	assert_true(rp->pref_64bit);
	assert_int_equal(rp->pcie.port_type, PCIE_TYPE_ROOT_PORT);
	assert_true(rp->pcie.ari_forwarding);
	assert_int_equal(rp->ecap_acs, 0x148);
	assert_int_equal(rp->acs.cap, 0x5f);
	assert_ptr_equal(nic->parent, rp);
	assert_null(rp->parent);
	assert_int_equal(nic->class, 0x020000);
	assert_int_equal(nic->subsys_vendor, 0x1af4);
	assert_int_equal(nic->irq_pin, 1);
	assert_int_equal(edu->class, 0x00ff00);
	assert_ptr_equal(pci_find_class(0x020000, 0xffff00, NULL), nic);
	assert_null(pci_find_class(0x020000, 0xffff00, nic));
	assert_ptr_equal(pci_find_ecap(PCI_ECAP_SRIOV, NULL), nic);
	assert_ptr_equal(pci_find_cap(PCI_CAP_MSI, NULL), nic);
	assert_ptr_equal(pci_find_cap(PCI_CAP_MSI, nic), edu);
	assert_ptr_equal(pci_find_device(0x1234, 0x11e8, NULL), edu);
	assert_null(pci_find_bdf(0, 2, 0, 0));
	assert_null(pci_find_bdf(0, 0, 32, 0));
}

static void test_enumerate_switch(void **state)
{
	int rp, up, dp1, dp2;
	struct pci_dev *nic;

	model_host_bridge();
	rp = model_root_port(-1, 1, 1, 4);
	up = model_switch_up(rp, 2, 4);
	dp1 = model_switch_down(up, 0, 3, 3);
	dp2 = model_switch_down(up, 1, 4, 4);
	model_igb(dp1, 0, 0);
	(void)dp2;
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 6);
	nic = pci_find_bdf(0, 3, 0, 0);
	assert_non_null(nic);
	assert_int_equal(nic->parent->pcie.port_type, PCIE_TYPE_DOWNSTREAM);
	assert_int_equal(nic->parent->parent->pcie.port_type, PCIE_TYPE_UPSTREAM);
	assert_int_equal(nic->parent->parent->parent->pcie.port_type, PCIE_TYPE_ROOT_PORT);
	assert_non_null(pci_find_bdf(0, 2, 1, 0));
}

/* A bridge firmware left without bus numbers gets the next free one, and the range is
 * closed at the highest bus found below it. */
static void test_enumerate_assigns_buses(void **state)
{
	int rp1, rp2, up, dp;
	struct pci_dev *d;

	model_host_bridge();
	rp1 = model_root_port(-1, 1, 1, 1);
	model_igb(rp1, 0, 0);
	rp2 = model_root_port(-1, 2, 0, 0); /* unconfigured */
	up = model_switch_up(rp2, 0, 0);    /* unconfigured */
	dp = model_switch_down(up, 0, 0, 0);
	model_igb(dp, 0, 0);
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 7);
	d = pci_find_bdf(0, 0, 2, 0);
	assert_int_equal(d->secondary, 2);
	assert_int_equal(d->subordinate, 4);
	assert_int_equal(model_get(rp2, PCI_SECONDARY_BUS, 1), 2);
	assert_int_equal(model_get(rp2, PCI_SUBORDINATE_BUS, 1), 4);
	assert_int_equal(model_get(up, PCI_SECONDARY_BUS, 1), 3);
	assert_int_equal(model_get(up, PCI_PRIMARY_BUS, 1), 2);
	assert_non_null(pci_find_bdf(0, 4, 0, 0));
	assert_int_equal(pci_find_bdf(0, 4, 0, 0)->device, 0x10c9);
}

/* A second host bridge's root bus (no bridge forwards to it) is found by probing. */
static void test_enumerate_peer_root_bus(void **state)
{
	int rp;
	struct pci_dev *d;

	model_host_bridge();
	rp = model_root_port(-1, 1, 1, 2);
	model_igb(rp, 0, 0);
	model_edu(4);
	model.fn[model_edu(3)].root_bus = 0x40;
	model_changed();
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 5);
	d = pci_find_bdf(0, 0x40, 3, 0);
	assert_non_null(d);
	assert_null(d->parent);
	assert_int_equal(d->device, 0x11e8);
	/* Bus 2 is inside the root port's range although empty: never probed as a peer. */
	assert_null(pci_find_bdf(0, 2, 0, 0));
}

static void test_enumerate_multifunction(void **state)
{
	int a, b, c, single, phantom;

	model_host_bridge();
	a = model_edu(3);
	model_set(a, PCI_HEADER_TYPE, 1, 0x80);
	b = model_edu(3);
	model.fn[b].fn = 2;
	c = model_edu(3);
	model.fn[c].fn = 7;
	single = model_edu(4);
	phantom = model_edu(4);
	model.fn[phantom].fn = 1; /* fn 0 is not multi-function: must not be scanned */
	(void)single;
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 5);
	assert_true(pci_find_bdf(0, 0, 3, 0)->multifunction);
	assert_non_null(pci_find_bdf(0, 0, 3, 2));
	assert_non_null(pci_find_bdf(0, 0, 3, 7));
	assert_null(pci_find_bdf(0, 0, 3, 1));
	assert_non_null(pci_find_bdf(0, 0, 4, 0));
	assert_null(pci_find_bdf(0, 0, 4, 1));
}

/* ---- capabilities ---- */
static void test_caps_decoded(void **state)
{
	struct pci_dev *d;

	build_reference();
	pci_enumerate_segment(0, 0, 0xff);
	d = pci_find_bdf(0, 1, 0, 0);
	assert_int_equal(d->cap_pm, 0x40);
	assert_int_equal(d->cap_msi, 0x50);
	assert_true(d->msi_64bit);
	assert_int_equal(d->cap_msix, 0x70);
	assert_int_equal(d->msix.table_size, 10);
	assert_int_equal(d->msix.table_bir, 3);
	assert_int_equal(d->msix.table_offset, 0);
	assert_int_equal(d->msix.pba_bir, 3);
	assert_int_equal(d->msix.pba_offset, 0x2000);
	assert_int_equal(d->cap_pcie, 0xa0);
	assert_int_equal(d->pcie.port_type, PCIE_TYPE_ENDPOINT);
	assert_int_equal(d->ecap_aer, 0x100);
	assert_int_equal(d->ecap_ari, 0x150);
	assert_int_equal(d->ecap_sriov, 0x160);
	assert_false(d->cap_list_broken);
	assert_int_equal(pci_cap_find(d, PCI_CAP_MSIX), 0x70);
	assert_int_equal(pci_cap_find(d, PCI_CAP_VENDOR), 0);
	assert_int_equal(pci_ecap_find(d, PCI_ECAP_SRIOV), 0x160);
	assert_int_equal(pci_ecap_find(d, PCI_ECAP_ACS), 0);
}

static struct pci_dev *probe_igb_with(void (*mangle)(int idx))
{
	struct ref r = build_reference();
	struct pci_dev *d;

	mangle(r.igb);
	d = pci_dev_alloc(0, PCI_RID(1, 0, 0));
	shim_errors_logged = 0;
	pci_probe_function(d);
	return d;
}

static void mangle_cycle(int i)
{
	model_set(i, 0x71, 1, 0x40); /* msix -> pm: loops */
}

static void mangle_into_header(int i)
{
	model_set(i, 0x51, 1, 0x20); /* msi -> 0x20 */
}

static void mangle_first_ptr(int i)
{
	model_set(i, PCI_CAP_PTR, 1, 0x3c);
}

static void mangle_ecap_cycle(int i)
{
	model_set(i, 0x160, 4, PCI_ECAP_SRIOV | 1u << 16 | 0x150u << 20);
}

static void mangle_ecap_into_header(int i)
{
	model_set(i, 0x150, 4, PCI_ECAP_ARI | 1u << 16 | 0x40u << 20);
}

static void mangle_ecap_dead(int i)
{
	model_set(i, 0x100, 4, PCI_ECAP_AER | 1u << 16 | 0x800u << 20); /* 0x800 reads 0 */
}

static void test_caps_cycle(void **state)
{
	struct pci_dev *d = probe_igb_with(mangle_cycle);

	assert_true(d->cap_list_broken);
	assert_int_equal(d->cap_pm, 0x40);
	assert_int_equal(d->cap_msi, 0x50);
	assert_int_equal(d->cap_msix, 0x70);
	assert_int_equal(d->cap_pcie, 0);
	assert_true(shim_errors_logged >= 1);
	assert_non_null(strstr(shim_last_log, "loops"));
	assert_int_equal(pci_cap_find(d, PCI_CAP_PCIE), 0); /* terminates */
}

static void test_caps_pointer_into_header(void **state)
{
	struct pci_dev *d = probe_igb_with(mangle_into_header);

	assert_true(d->cap_list_broken);
	assert_int_equal(d->cap_msi, 0x50);
	assert_int_equal(d->cap_msix, 0);
	assert_non_null(strstr(shim_last_log, "into the header"));

	d = probe_igb_with(mangle_first_ptr);
	assert_true(d->cap_list_broken);
	assert_int_equal(d->cap_pm, 0);
}

static void test_ecaps_malformed(void **state)
{
	struct pci_dev *d = probe_igb_with(mangle_ecap_cycle);

	assert_true(d->cap_list_broken);
	assert_int_equal(d->ecap_sriov, 0x160);
	assert_non_null(strstr(shim_last_log, "loops"));

	d = probe_igb_with(mangle_ecap_into_header);
	assert_true(d->cap_list_broken);
	assert_int_equal(d->ecap_ari, 0x150);
	assert_int_equal(d->ecap_sriov, 0);
	assert_non_null(strstr(shim_last_log, "out of range"));

	d = probe_igb_with(mangle_ecap_dead);
	assert_true(d->cap_list_broken);
	assert_int_equal(d->ecap_aer, 0x100);
	assert_int_equal(d->ecap_ari, 0);
	/* The standard list is unharmed. */
	assert_int_equal(d->cap_pcie, 0xa0);
}

/* A lying MSI-X capability (the reference igb's at 0x70: BAR0/1 memory, BAR2 I/O, BAR3 64-bit
 * memory of 16 KiB, BAR5 not implemented): BIR 6 or 7, a BIR naming the I/O BAR, an
 * unimplemented BAR or the upper half of a 64-bit BAR, an offset past the BAR's end, a
 * table too large for its BAR. The layout check refuses each, naming what is wrong; the
 * truth passes. */
static u32 lie_ctrl, lie_table, lie_pba;

static void mangle_msix(int i)
{
	model_set(i, 0x72, 2, lie_ctrl);
	model_set(i, 0x74, 4, lie_table);
	model_set(i, 0x78, 4, lie_pba);
}

static void test_msix_layout_lies(void **state)
{
	static const struct {
		u32 ctrl, table, pba;
		const char *what;
	} lies[] = {
		{9, 6, 0x2003, "table BIR 6 names no BAR"},
		{9, 7, 0x2003, "table BIR 7 names no BAR"},
		{9, 3, 0x2006, "PBA BIR 6 names no BAR"},
		{9, 2, 0x2003, "table in BAR 2, which is an I/O BAR"},
		{9, 3, 0x2002, "PBA in BAR 2, which is an I/O BAR"},
		{9, 4, 0x2003, "table in BAR 4, which is not implemented"},
		{9, 5, 0x2003, "table in BAR 5, which is not implemented"},
		{9, 0x4003, 0x2003, "table at 0x4000+0xa0 reaches past BAR 3"},
		{9, 0x3f83, 0x2003, "table at 0x3f80+0xa0 reaches past BAR 3"},
		{9, 3, 0x8003, "PBA at 0x8000+0x8 reaches past BAR 3"},
		{0x7ff, 3, 0x2003, "table at 0+0x8000 reaches past BAR 3"},
	};
	char why[128];
	struct pci_dev *d;

	for (unsigned i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		lie_ctrl = lies[i].ctrl;
		lie_table = lies[i].table;
		lie_pba = lies[i].pba;
		d = probe_igb_with(mangle_msix);
		assert_int_equal(d->cap_msix, 0x70);
		why[0] = 0;
		assert_int_equal(pci_msix_layout_check(d, why, sizeof(why)), -EINVAL);
		if (!strstr(why, lies[i].what))
			fail_msg("lie %u: \"%s\" lacks \"%s\"", i, why, lies[i].what);
	}
	lie_ctrl = 9;
	lie_table = 3;
	lie_pba = 0x2003;
	d = probe_igb_with(mangle_msix);
	assert_int_equal(pci_msix_layout_check(d, why, sizeof(why)), 0);
	(void)state;
}

/* ---- SR-IOV ---- */
static void test_sriov_rid_arithmetic(void **state)
{
	u16 rid;

	assert_int_equal(pci_sriov_vf_rid(PCI_RID(1, 0, 0), 0x80, 2, 0, &rid), 0);
	assert_int_equal(rid, PCI_RID(1, 0x10, 0));
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(1, 0, 0), 0x80, 2, 7, &rid), 0);
	assert_int_equal(rid, PCI_RID(1, 0x11, 6));
	/* Across a bus boundary: PF 01:1f.0, offset 0x80 -> bus 2. */
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(1, 0x1f, 0), 0x80, 2, 0, &rid), 0);
	assert_int_equal(rid, PCI_RID(2, 0x0f, 0));
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(1, 0x1f, 7), 0x1, 1, 0, &rid), 0);
	assert_int_equal(rid, PCI_RID(2, 0, 0));
	/* Stride 0 (single VF) and a large stride. */
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(3, 0, 0), 1, 0, 0, &rid), 0);
	assert_int_equal(rid, PCI_RID(3, 0, 1));
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(3, 0, 0), 0x100, 0x100, 2, &rid), 0);
	assert_int_equal(rid, PCI_RID(6, 0, 0));
	/* Past bus 255. */
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(0xff, 0x1f, 0), 0x80, 2, 0, &rid), -ERANGE);
	assert_int_equal(pci_sriov_vf_rid(PCI_RID(0xfe, 0, 0), 0x100, 0x100, 2, &rid), -ERANGE);
}

static struct pci_dev *enumerate_ref_pf(struct ref *out)
{
	struct ref r = build_reference();
	struct pci_dev *pf;

	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	assert_int_equal(pci_sriov_probe(pf), 0);
	if (out)
		*out = r;
	return pf;
}

static void test_sriov_enable(void **state)
{
	struct ref r;
	struct pci_dev *pf = enumerate_ref_pf(&r), *vf;
	u16 s = 0x160;

	assert_int_equal(pf->sriov->total_vfs, 8);
	assert_int_equal(pf->sriov->vf_device, 0x10ca);
	assert_int_equal(pci_sriov_enable(pf, 3), 0);
	assert_int_equal(model_get(r.igb, s + SRIOV_NUM_VFS, 2), 3);
	assert_int_equal(model_get(r.igb, s + SRIOV_CTRL, 2) & 0x19,
			 0x19); /* VFE, MSE, ARI hier. */
	assert_int_equal(model_get(r.rp, 0x54 + 0x28, 2) & BIT(5), BIT(5)); /* ARI fwd enable */
	assert_int_equal(model_get(r.igb, s + SRIOV_SYS_PGSIZE, 4), 1);
	assert_true(slept_ms >= 100);
	for (unsigned i = 0; i < 3; i++) {
		vf = pci_sriov_vf(pf, i);
		assert_non_null(vf);
		assert_ptr_equal(pci_find_bdf(0, 1, 0x10, (u8)(2 * i)), vf);
		assert_true(vf->is_vf);
		assert_ptr_equal(vf->pf, pf);
		assert_int_equal(vf->vendor, 0x8086);
		assert_int_equal(vf->device, 0x10ca);
		assert_int_equal(vf->class, 0x020000);
		assert_int_equal(vf->cap_msix, 0x70);
		assert_int_equal(vf->msix.table_size, 3);
		assert_int_equal(vf->bar[0].size, 0x4000);
		assert_int_equal(vf->bar[0].base, pf->sriov->vf_bar[0].base + 0x4000 * i);
		assert_int_equal(vf->bar[3].base, pf->sriov->vf_bar[3].base + 0x4000 * i);
		assert_ptr_equal(vf->parent, pf->parent);
	}
	assert_null(pci_sriov_vf(pf, 3));
	/* Placed in the root port's prefetchable window, below 4 GiB, not overlapping. */
	for (unsigned b = 0; b < 6; b += 3) {
		u64 base = pf->sriov->vf_bar[b].base;

		assert_true(base >= 0xfea00000 && base + 3 * 0x4000 - 1 <= 0xfebfffff);
		assert_int_equal(model_get(r.igb, s + SRIOV_BAR0 + 4 * b, 4), (u32)base | 0xc);
		assert_int_equal(model_get(r.igb, s + SRIOV_BAR0 + 4 + 4 * b, 4), 0);
	}
	assert_true(pf->sriov->vf_bar[0].base + 3 * 0x4000 <= pf->sriov->vf_bar[3].base ||
		    pf->sriov->vf_bar[3].base + 3 * 0x4000 <= pf->sriov->vf_bar[0].base);
	assert_int_equal(pci_sriov_enable(pf, 2), -EBUSY);
}

static void test_sriov_too_many(void **state)
{
	struct ref r;
	struct pci_dev *pf = enumerate_ref_pf(&r);

	shim_errors_logged = 0;
	assert_int_equal(pci_sriov_enable(pf, 9), -EINVAL);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "TotalVFs"));
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_NUM_VFS, 2), 0);
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_CTRL, 2) & 1, 0);
	assert_false(pf->sriov->enabled);
	assert_int_equal(pci_sriov_enable(pf, 8), 0);
	assert_int_equal(pf->sriov->num_vfs, 8);
	assert_non_null(pci_find_bdf(0, 1, 0x11, 6));
}

/* VFs whose bus is beyond the bridge's subordinate bus are refused before VF Enable. */
static void test_sriov_vf_bus_beyond_bridge(void **state)
{
	struct ref r;
	struct pci_dev *pf = enumerate_ref_pf(&r);

	model_set(r.igb, 0x160 + SRIOV_VF_OFFSET, 2, 0x100); /* VFs on bus 2 */
	assert_int_equal(pci_sriov_enable(pf, 2), -ERANGE);
	assert_non_null(strstr(shim_last_log, "outside 01-01"));
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_CTRL, 2) & 1, 0);
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_NUM_VFS, 2), 0);
	assert_null(pci_find_bdf(0, 2, 0, 0));

	/* With the bridge reaching bus 2, the same VFs are fine. */
	model_reset();
	r = build_reference();
	model_set(r.rp, PCI_SUBORDINATE_BUS, 1, 2);
	model_set(r.igb, 0x160 + SRIOV_VF_OFFSET, 2, 0x100);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 2), 0);
	assert_non_null(pci_find_bdf(0, 2, 0, 0));
	assert_non_null(pci_find_bdf(0, 2, 0, 2));
}

/* A PF on a root bus (RC integrated): its VFs must stay on that bus, and without a port
 * above there is no ARI hierarchy to declare. */
static void test_sriov_root_bus_pf(void **state)
{
	struct pci_dev *pf;
	int nic;

	model_host_bridge();
	nic = model_igb(-1, 0, 3);
	pci_root_aperture_add(0, 0xc0000000, 0xfebfffff);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 0, 3, 0);
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 3), 0);
	assert_non_null(pci_find_bdf(0, 0, 0x13, 4));
	assert_int_equal(model_get(nic, 0x160 + SRIOV_CTRL, 2) & BIT(4), 0);
	assert_true(pf->sriov->vf_bar[0].base >= 0xc0000000 &&
		    pf->sriov->vf_bar[0].base + 3 * 0x4000 - 1 <= 0xfebfffff);
	pci_sriov_disable(pf);

	model_reset();
	model_host_bridge();
	model_igb(-1, 0, 0x1f);
	pci_root_aperture_add(0, 0xc0000000, 0xfebfffff);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 0, 0x1f, 0);
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 1), -ERANGE);
	assert_non_null(strstr(shim_last_log, "root bus"));
}

static void test_sriov_zero_offset(void **state)
{
	struct ref r;
	struct pci_dev *pf = enumerate_ref_pf(&r);

	model_set(r.igb, 0x160 + SRIOV_VF_OFFSET, 2, 0);
	assert_int_equal(pci_sriov_enable(pf, 1), -EINVAL);
	model_set(r.igb, 0x160 + SRIOV_VF_OFFSET, 2, 0x80);
	model_set(r.igb, 0x160 + SRIOV_VF_STRIDE, 2, 0);
	assert_int_equal(pci_sriov_enable(pf, 2), -EINVAL);
	assert_int_equal(pci_sriov_enable(pf, 1), 0); /* stride is unused for one VF */
}

/* OVMF-style: VF BARs above 4 GiB in a 64-bit prefetchable window. The 82576's must move
 * below 4 GiB, into the bridge's 32-bit memory window. */
static void test_sriov_moves_high_vf_bars(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *pf, *rp;
	u64 t = FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64) | PCI_BAR_PREFETCH;

	model_window(r.rp, true, 0x380000000000ULL, 0x3800001fffffULL);
	model_window(r.rp, false, 0xfe600000, 0xfe6fffff); /* just the PF's BARs */
	model_bar(r.igb, 0x160 + SRIOV_BAR0, 0x4000, (u32)t, 0x380000000000ULL);
	model_bar(r.igb, 0x160 + SRIOV_BAR0 + 12, 0x4000, (u32)t, 0x380000100000ULL);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	rp = pf->parent;
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 3), 0);
	for (unsigned b = 0; b < 6; b += 3) {
		u64 base = pf->sriov->vf_bar[b].base;

		assert_true(base + 3 * 0x4000 - 1 <= 0xffffffffu);
		assert_true(base >= rp->mem_window.base &&
			    base + 3 * 0x4000 - 1 <= rp->mem_window.limit);
		assert_int_equal(model_get(r.igb, 0x160 + SRIOV_BAR0 + 4 + 4 * b, 4), 0);
	}
	/* Room after the PF's BARs in the memory window: no growth needed. */
	assert_int_equal(rp->mem_window.limit, 0xfe6fffff);
	assert_true(pf->sriov->vf_bar[0].base >= 0xfe644000);
}

/* The below-4 GiB rule is QEMU's igb model's alone (its subsystem 1af4:1100 and revision 1):
 * a real 82576 (a board maker's subsystem IDs) keeps its 64-bit placement above 4 GiB, and
 * the log says which rule applied. */
static void test_sriov_real_82576_keeps_high_vf_bars(void **state)
{
	static const struct {
		u16 subsys_vendor, subsys_id;
		u8 revision;
	} real[] = {{0x8086, 0xa03c, 1}, {0x8086, 0x0000, 1}, {0x1af4, 0x1100, 2}};
	u64 t = FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64) | PCI_BAR_PREFETCH;

	for (unsigned i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		struct ref r = build_reference();
		struct pci_dev *pf;
		bool said;

		shim_log_clear();
		model_set(r.igb, PCI_SUBSYS_VENDOR, 2, real[i].subsys_vendor);
		model_set(r.igb, PCI_SUBSYS_ID, 2, real[i].subsys_id);
		model_set(r.igb, PCI_CLASS_REVISION, 1, real[i].revision);
		model_window(r.rp, true, 0x380000000000ULL, 0x3800001fffffULL);
		model_bar(r.igb, 0x160 + SRIOV_BAR0, 0x4000, (u32)t, 0x380000000000ULL);
		model_bar(r.igb, 0x160 + SRIOV_BAR0 + 12, 0x4000, (u32)t, 0x380000100000ULL);
		pci_enumerate_segment(0, 0, 0xff);
		pf = pci_find_bdf(0, 1, 0, 0);
		assert_false(pci_sriov_vf_bars_below_4g(pf));
		pci_sriov_probe(pf);
		assert_int_equal(pci_sriov_enable(pf, 3), 0);
		assert_int_equal(pf->sriov->vf_bar[0].base, 0x380000000000ULL);
		assert_int_equal(pf->sriov->vf_bar[3].base, 0x380000100000ULL);
		assert_int_equal(model_get(r.igb, 0x160 + SRIOV_BAR0 + 4, 4), 0x3800);
		said = shim_log_seen(
			"VF BARs wherever the bridge windows allow (no placement quirk");
		assert_true(said);
	}
	/* QEMU's model: the rule applies and is named */
	{
		struct ref r = build_reference();
		struct pci_dev *pf;

		shim_log_clear();
		pci_enumerate_segment(0, 0, 0xff);
		pf = pci_find_bdf(0, 1, 0, 0);
		assert_true(pci_sriov_vf_bars_below_4g(pf));
		pci_sriov_probe(pf);
		assert_int_equal(pci_sriov_enable(pf, 3), 0);
		assert_true(shim_log_seen("VF BARs below 4 GiB: QEMU's igb model"));
		(void)r;
	}
}

/* Firmware's VF BAR placement is kept when it is usable. */
static void test_sriov_keeps_firmware_bars(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *pf;
	u64 t = FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64) | PCI_BAR_PREFETCH;

	model_bar(r.igb, 0x160 + SRIOV_BAR0, 0x4000, (u32)t, 0xfeb00000);
	model_bar(r.igb, 0x160 + SRIOV_BAR0 + 12, 0x4000, (u32)t, 0xfeb80000);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 3), 0);
	assert_int_equal(pf->sriov->vf_bar[0].base, 0xfeb00000);
	assert_int_equal(pf->sriov->vf_bar[3].base, 0xfeb80000);

	/* Overlapping the PF's own BAR0: moved. */
	model_reset();
	r = build_reference();
	model_bar(r.igb, 0x160 + SRIOV_BAR0, 0x4000, (u32)t, 0xfe600000);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 3), 0);
	assert_true(pf->sriov->vf_bar[0].base >= 0xfea00000);
}

static void test_sriov_disable(void **state)
{
	struct ref r;
	struct pci_dev *pf = enumerate_ref_pf(&r), *vf;

	assert_int_equal(pci_sriov_enable(pf, 2), 0);
	vf = pci_sriov_vf(pf, 1);
	assert_int_equal(pci_set_owner(vf, PCI_OWNER_GUEST, 4), 0);
	assert_int_equal(pci_sriov_disable(pf), -EBUSY);
	pci_release(vf);
	slept_ms = 0;
	assert_int_equal(pci_sriov_disable(pf), 0);
	assert_true(slept_ms >= 1000);
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_CTRL, 2) & 0x9, 0);
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_NUM_VFS, 2), 0);
	assert_null(pci_find_bdf(0, 1, 0x10, 2));
	assert_null(pci_sriov_vf(pf, 0));
	assert_int_equal(pci_sriov_enable(pf, 2), 0);
	assert_ptr_equal(pci_find_bdf(0, 1, 0x10, 2), vf); /* same entry comes back */
}

static void test_sriov_configured_vfs(void **state)
{
	struct pci_dev *pf = enumerate_ref_pf(NULL);

	assert_int_equal(pci_sriov_configured_vfs(pf), 3);
	fake_cmdline_numvfs = "5";
	assert_int_equal(pci_sriov_configured_vfs(pf), 5);
	fake_cmdline_numvfs = "12";
	assert_int_equal(pci_sriov_configured_vfs(pf), 12); /* enable refuses it, loudly */
	fake_cmdline_numvfs = "x";
	assert_int_equal(pci_sriov_configured_vfs(pf), 3);
	pf->sriov->total_vfs = 2;
	fake_cmdline_numvfs = NULL;
	assert_int_equal(pci_sriov_configured_vfs(pf), 2);
}

/* The configuration decides: a PF gets at least the VFs the configuration names on it (its
 * highest VF + 1), up to TotalVFs; other PFs keep the default; sriov.numvfs= overrides. */
static void test_sriov_vfs_from_configuration(void **state)
{
	struct pci_dev *pf = enumerate_ref_pf(NULL);

	pci_sriov_demand_clear();
	pci_sriov_demand(0, 1, 0, 0, 7); /* a guest names 01:00.0/vf6 */
	pci_sriov_demand(0, 1, 0, 0, 4); /* another vf3: the larger demand stays */
	pci_sriov_demand(0, 2, 0, 0, 8); /* another PF */
	assert_int_equal(pci_sriov_configured_vfs(pf), 7);
	assert_int_equal(pci_sriov_enable(pf, pci_sriov_configured_vfs(pf)), 0);
	assert_non_null(pci_sriov_vf(pf, 6));
	assert_null(pci_sriov_vf(pf, 7));
	assert_int_equal(pci_sriov_disable(pf), 0);
	/* the override decides, even below the demand */
	fake_cmdline_numvfs = "2";
	assert_int_equal(pci_sriov_configured_vfs(pf), 2);
	fake_cmdline_numvfs = NULL;
	/* a demand past TotalVFs is capped there, and said */
	pci_sriov_demand(0, 1, 0, 0, 20);
	shim_warnings_logged = 0;
	assert_int_equal(pci_sriov_configured_vfs(pf), pf->sriov->total_vfs);
	assert_int_equal(shim_warnings_logged, 1);
	/* a demand below the default keeps the default */
	pci_sriov_demand_clear();
	pci_sriov_demand(0, 1, 0, 0, 1);
	assert_int_equal(pci_sriov_configured_vfs(pf), 3);
	pci_sriov_demand_clear();
}

/* ---- windows ---- */
static void test_alloc_fits_in_window(void **state)
{
	struct pci_dev *rp;
	u64 a, b;

	build_reference();
	pci_enumerate_segment(0, 0, 0xff);
	rp = pci_find_bdf(0, 0, 1, 0);
	assert_int_equal(pci_alloc_mmio(0, rp, 0x10000, 0x10000, ~0ULL, false, &a), 0);
	/* Not over the PF's BARs 0xfe600000-0xfe643fff. */
	assert_true(a >= 0xfe650000 && a + 0x10000 - 1 <= 0xfe7fffff);
	assert_true(pci_mmio_range_usable(0, rp, NULL, 0xfe700000, 0x1000, false));
	assert_false(pci_mmio_range_usable(0, rp, NULL, 0xfe610000, 0x1000, false));
	assert_false(pci_mmio_range_usable(0, rp, NULL, 0xfe7ff000, 0x2000, false));
	/* Root bus: top down, clear of the root port's windows and the edu BAR. */
	assert_int_equal(pci_alloc_mmio(0, NULL, 0x100000, 0x100000, ~0ULL, false, &b), 0);
	assert_true(b + 0x100000 - 1 <= 0xfebfffff);
	assert_false(b < 0xfe800000 + 0x100000 && b + 0x100000 > 0xfe600000);
}

static void test_alloc_grows_window(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *rp;
	u64 a;

	model_window(r.rp, false, 0xfe600000, 0xfe6fffff);
	model_window(r.rp, true, 0xfff00000, 0x000fffff); /* closed */
	pci_enumerate_segment(0, 0, 0xff);
	rp = pci_find_bdf(0, 0, 1, 0);
	assert_false(pci_window_open(&rp->pref_window));
	assert_int_equal(pci_alloc_mmio(0, rp, 0x100000, 0x4000, 0xffffffffULL, false, &a), 0);
	assert_int_equal(a, 0xfe644000); /* right after the PF's BAR3 */
	assert_int_equal(rp->mem_window.base, 0xfe600000);
	assert_int_equal(rp->mem_window.limit, 0xfe7fffff);
	assert_int_equal(model_get(r.rp, PCI_MEM_LIMIT, 2), 0xfe70);
	/* Another 2 MiB cannot grow into the edu BAR at 0xfe800000, and the window is in use,
	 * so it cannot move either. */
	assert_int_equal(pci_alloc_mmio(0, rp, 0x200000, 0x4000, 0xffffffffULL, false, &a),
			 -ENOSPC);
	assert_int_equal(rp->mem_window.limit, 0xfe7fffff);
}

static void test_alloc_opens_closed_window(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *rp;
	u64 a;

	/* Memory window boxed in by edu right above it; prefetchable window closed. */
	model_window(r.rp, false, 0xfe700000, 0xfe7fffff);
	model_bar(r.igb, 0x10, 0x20000, 0, 0xfe700000);
	model_bar(r.igb, 0x14, 0x20000, 0, 0xfe720000);
	model_bar(r.igb, 0x1c, 0x4000, FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64),
		  0xfe740000);
	model_bar(r.rp, PCI_BAR0, 0x1000, 0, 0xfe6ff000);
	model_window(r.rp, true, 0xfff00000, 0x000fffff);
	pci_enumerate_segment(0, 0, 0xff);
	rp = pci_find_bdf(0, 0, 1, 0);
	assert_int_equal(pci_alloc_mmio(0, rp, 0x300000, 0x4000, 0xffffffffULL, true, &a), 0);
	assert_true(pci_window_open(&rp->pref_window));
	assert_true(a >= rp->pref_window.base && a + 0x300000 - 1 <= rp->pref_window.limit);
	assert_true(rp->pref_window.limit <= 0xffffffffULL);
	assert_true(rp->pref_window.limit < 0xfe6ff000 || rp->pref_window.base > 0xfe8fffff);
	assert_int_equal(model_get(r.rp, PCI_PREF_BASE, 2) & 0xfff0,
			 (rp->pref_window.base >> 16) & 0xfff0);
}

/* Behind a switch the windows of the downstream port, the upstream port and the root port
 * all grow so the new range reaches the device. */
static void test_alloc_through_switch(void **state)
{
	int rp, up, dp, nic, idx;
	struct pci_dev *pf, *d;
	u64 a;

	model_host_bridge();
	rp = model_root_port(-1, 1, 1, 3);
	up = model_switch_up(rp, 2, 3);
	dp = model_switch_down(up, 0, 3, 3);
	nic = model_igb(dp, 0, 0);
	model_window(rp, false, 0xfe000000, 0xfe0fffff);
	model_window(up, false, 0xfe000000, 0xfe0fffff);
	model_window(dp, false, 0xfe000000, 0xfe0fffff);
	model_bar(nic, 0x10, 0x20000, 0, 0xfe000000);
	pci_root_aperture_add(0, 0xc0000000, 0xfebfffff);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 3, 0, 0);
	assert_non_null(pf);
	assert_int_equal(pci_alloc_mmio(0, pf->parent, 0x200000, 0x4000, 0xffffffffULL, false, &a),
			 0);
	for (d = pf->parent, idx = dp; d; d = d->parent, idx = idx == dp ? up : rp) {
		assert_true(a >= d->mem_window.base && a + 0x200000 - 1 <= d->mem_window.limit);
		assert_int_equal(model_get(idx, PCI_MEM_LIMIT, 2),
				 (d->mem_window.limit >> 16) & 0xfff0);
	}
	assert_true(pf->parent->parent->parent->mem_window.limit <= 0xfebfffff);
}

static void test_alloc_no_room(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *rp;
	u64 a = 0;
	unsigned before;

	pci_root_apertures_reset();
	pci_root_aperture_add(0, 0xfe600000, 0xfe9fffff); /* nothing free around rp1 */
	model_window(r.rp, true, 0xfff00000, 0x000fffff);
	pci_enumerate_segment(0, 0, 0xff);
	rp = pci_find_bdf(0, 0, 1, 0);
	before = model.writes;
	shim_errors_logged = 0;
	assert_int_equal(pci_alloc_mmio(0, rp, 0x1000000, 0x4000, 0xffffffffULL, true, &a),
			 -ENOSPC);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "no room"));
	assert_int_equal(model.writes, before);
	assert_int_equal(a, 0);
	assert_int_equal(pci_alloc_mmio(0, rp, 0x1000, 0x3000, ~0ULL, false, &a), -EINVAL);
}

/* The SR-IOV enable refuses cleanly when VF BARs have no room; nothing is enabled. */
static void test_sriov_no_room(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *pf;

	pci_root_apertures_reset();
	pci_root_aperture_add(0, 0xfe600000, 0xfe9fffff);
	model_window(r.rp, true, 0xfff00000, 0x000fffff);
	model_window(r.rp, false, 0xfe600000, 0xfe6fffff);
	model_bar(r.igb, 0x14, 0x20000, 0, 0xfe6c0000);
	model_bar(r.igb, 0x10, 0x20000, 0, 0xfe6e0000);
	model_bar(r.igb, 0x1c, 0x4000, FIELD_PREP(PCI_BAR_MEM_TYPE, PCI_BAR_MEM_TYPE_64),
		  0xfe600000);
	model_bar(r.edu, 0x10, 0x100000, 0, 0xfe800000);
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	pci_sriov_probe(pf);
	/* 8 x 16 KiB twice = 256 KiB; room left in the window is 0xfe604000-0xfe6bffff. */
	assert_int_equal(pci_sriov_enable(pf, 8), 0);
	pci_sriov_disable(pf);
	/* Fill the gap: now nothing fits and the window cannot grow (edu above, aperture). */
	model_bar(r.igb, 0x14, 0x20000, 0, 0xfe620000);
	model_bar(r.igb, 0x10, 0x20000, 0, 0xfe640000);
	model_window(r.rp, false, 0xfe600000, 0xfe6fffff);
	pci_devlist_reset();
	pci_enumerate_segment(0, 0, 0xff);
	pf = pci_find_bdf(0, 1, 0, 0);
	/* Block the rest of the window with edu-like BARs on the root port's bus. */
	pf->bar[4] = (struct pci_bar){0xfe660000, 0x20000, PCI_BAR_MEM32, false};
	pf->bar[5] = (struct pci_bar){0xfe680000, 0x80000, PCI_BAR_MEM32, false};
	pci_find_bdf(0, 0, 5, 0)->bar[1] =
		(struct pci_bar){0xfe700000, 0x100000, PCI_BAR_MEM32, false};
	pci_find_bdf(0, 0, 5, 0)->bar[2] =
		(struct pci_bar){0xfe900000, 0x100000, PCI_BAR_MEM32, false};
	pci_sriov_probe(pf);
	assert_int_equal(pci_sriov_enable(pf, 8), -ENOSPC);
	assert_non_null(strstr(shim_last_log, "no room for VF BAR"));
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_CTRL, 2) & 1, 0);
	assert_int_equal(model_get(r.igb, 0x160 + SRIOV_NUM_VFS, 2), 0);
	assert_false(pf->sriov->enabled);
}

static void test_write_window_checks(void **state)
{
	struct ref r = build_reference();
	struct pci_dev *rp;

	pci_enumerate_segment(0, 0, 0xff);
	rp = pci_find_bdf(0, 0, 1, 0);
	assert_int_equal(pci_write_mem_window(rp, false, 0xfe600000, 0xfe6fffff), 0);
	assert_int_equal(model_get(r.rp, PCI_MEM_BASE, 2), 0xfe60);
	assert_int_equal(model_get(r.rp, PCI_MEM_LIMIT, 2), 0xfe60);
	/* Not 1 MiB granular, inverted, or above 4 GiB in the 32-bit window: refused. */
	assert_int_equal(pci_write_mem_window(rp, false, 0xfe680000, 0xfe6fffff), -EINVAL);
	assert_int_equal(pci_write_mem_window(rp, false, 0xfe700000, 0xfe5fffff), -EINVAL);
	assert_int_equal(pci_write_mem_window(rp, false, 0x100000000ULL, 0x1000fffffULL), -ERANGE);
	assert_int_equal(model_get(r.rp, PCI_MEM_BASE, 2), 0xfe60);
	/* The 64-bit prefetchable window takes it, upper halves included. */
	assert_int_equal(pci_write_mem_window(rp, true, 0x800000000ULL, 0x8001fffffULL), 0);
	assert_int_equal(model_get(r.rp, PCI_PREF_BASE_UPPER, 4), 8);
	assert_int_equal(model_get(r.rp, PCI_PREF_LIMIT_UPPER, 4), 8);
	assert_int_equal(model_get(r.rp, PCI_PREF_LIMIT, 2), 0x0011);
	pci_read_bridge_windows(rp);
	assert_int_equal(rp->pref_window.base, 0x800000000ULL);
	assert_int_equal(rp->pref_window.limit, 0x8001fffffULL);
}

static void test_apertures_from_memmap(void **state)
{
	struct mem_range mem[] = {
		{0, 0x9fc00, MEM_USABLE, 0},
		{0x100000, 0x3fedf000, MEM_USABLE, 0},
		{0x3ffdf000, 0x21000, MEM_RESERVED, 0},
		{0xb0000000, 0x10000000, MEM_RESERVED, 0},
		{0xfed1c000, 0x4000, MEM_RESERVED, 0},
		{0x100000000ULL, 0x40000000, MEM_USABLE, 0},
	};
	struct ecam_region ecam = {0xb0000000, 0, 0, 0xff};
	u64 a;

	assert_int_equal(pci_apertures_from_memmap(mem, 6, &ecam, 1), 0);
	assert_int_equal(pci_alloc_mmio(0, NULL, 0x1000, 0x1000, ~0ULL, false, &a), 0);
	assert_int_equal(a, 0xfebff000);
	assert_int_equal(pci_alloc_mmio(0, NULL, 0x10000000, 0x10000000, ~0ULL, false, &a), 0);
	assert_int_equal(a, 0xe0000000);
	/* 1 GiB only fits below ECAM, between the top of RAM and 0xb0000000. */
	assert_int_equal(pci_alloc_mmio(0, NULL, 0x40000000, 0x1000000, ~0ULL, false, &a), 0);
	assert_int_equal(a, 0x70000000);
	assert_int_equal(pci_alloc_mmio(0, NULL, 0x80000000, 0x1000, ~0ULL, false, &a), -ENOSPC);
}

/* ---- several PCI segments ---- */

/* Segment 0: the reference machine. Segment 1: its own host bridge, root port 00:01.0 with
 * no bus numbers yet and an igb behind it, and an edu at 00:05.0 with a 2 MiB BAR (segment
 * 0's has 1 MiB): the same bus/device/function numbers as segment 0's, different devices. */
static void build_two_segments(struct ref *r0, struct ref *r1)
{
	*r0 = build_reference();
	model_segment(1);
	r1->hb = model_host_bridge();
	r1->rp = model_root_port(-1, 1, 0, 0);
	r1->igb = model_igb(r1->rp, 0, 0);
	r1->edu = model_edu(5);
	model_bar(r1->edu, 0x10, 0x200000, 0, 0xd0000000);
	model_set(r1->edu, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	model_segment(0);
	pci_root_aperture_add(1, 0xc0000000, 0xfebfffff);
}

static void test_two_segments_enumerate(void **state)
{
	struct ref r0, r1;
	struct pci_dev *e0, *e1, *rp0, *rp1, *nic1;
	unsigned reads0;

	build_two_segments(&r0, &r1);
	assert_int_equal(pci_enumerate_segment(0, 0, 0xff), 4);
	reads0 = model.seg_reads[0];
	assert_int_equal(pci_enumerate_segment(1, 0, 0xff), 4);
	assert_int_equal(model.seg_reads[0], reads0); /* segment 1's scan stays in segment 1 */
	assert_int_equal(pci_dev_count(), 8);

	e0 = pci_find_bdf(0, 0, 5, 0);
	e1 = pci_find_bdf(1, 0, 5, 0);
	assert_non_null(e0);
	assert_non_null(e1);
	assert_ptr_not_equal(e0, e1);
	assert_int_equal(e0->seg, 0);
	assert_int_equal(e1->seg, 1);
	assert_int_equal(e0->bar[0].size, 0x100000);
	assert_int_equal(e1->bar[0].size, 0x200000);
	assert_int_equal(e1->bar[0].base, 0xd0000000);
	assert_ptr_equal(pci_find_rid(1, PCI_RID(0, 5, 0)), e1);

	/* bus numbers are per segment: segment 1's root port gets bus 1 of its own */
	rp0 = pci_find_bdf(0, 0, 1, 0);
	rp1 = pci_find_bdf(1, 0, 1, 0);
	assert_int_equal(rp0->secondary, 1);
	assert_int_equal(rp1->secondary, 1);
	assert_int_equal(rp1->subordinate, 1);
	assert_int_equal(model_get(r1.rp, PCI_SECONDARY_BUS, 1), 1);
	nic1 = pci_find_bdf(1, 1, 0, 0);
	assert_non_null(nic1);
	assert_int_equal(nic1->seg, 1);
	assert_ptr_equal(nic1->parent, rp1);
	assert_ptr_not_equal(nic1, pci_find_bdf(0, 1, 0, 0));
	assert_null(pci_find_bdf(1, 2, 0, 0));
	assert_null(pci_find_bdf(2, 0, 5, 0));
}

/* The root buses of all segments decode one CPU address space: a root-bus allocation on
 * segment 1 must not land on segment 0's BARs (both get the same apertures from the memory
 * map when moat has no per-bridge windows). */
static void test_two_segments_share_address_space(void **state)
{
	struct ref r0, r1;
	u64 a;

	build_two_segments(&r0, &r1);
	model_bar(r0.edu, 0x10, 0x100000, 0, 0xfeb00000); /* the top of the aperture */
	pci_enumerate_segment(0, 0, 0xff);
	pci_enumerate_segment(1, 0, 0xff);
	assert_int_equal(pci_alloc_mmio(1, NULL, 0x100000, 0x100000, ~0ULL, false, &a), 0);
	assert_int_not_equal(a, 0xfeb00000);
	/* free as segment 0's root bus sees it too: no BAR or bridge window of segment 0 */
	assert_true(pci_mmio_range_usable(0, NULL, NULL, a, 0x100000, false));
	assert_false(pci_mmio_range_usable(1, NULL, NULL, 0xfeb00000, 0x1000, false));
}

/* CF8/CFC reaches segment 0 only: other segments are refused before any port access (a
 * port access would fault in this host process). */
static void test_cf8_segment0_only(void **state)
{
	u32 v = 0;

	pci_cfg_set_backend(&pci_cf8_ops, NULL);
	assert_int_equal(pci_cfg_space_size(0, 0), 256);
	assert_int_equal(pci_cfg_space_size(1, 0), 0);
	shim_errors_logged = 0;
	assert_int_equal(pci_cfg_read(1, PCI_RID(0, 2, 0), 0, 4, &v), -ENODEV);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(pci_cfg_write(1, PCI_RID(0, 2, 0), 4, 2, 0), -ENODEV);
	assert_int_equal(shim_errors_logged, 2);
	assert_non_null(strstr(shim_last_log, "0001:00"));
	model_install();
}

/* The real ECAM backend with two MCFG windows over host memory: each segment's accesses
 * land in its own window; buses and segments without a window are refused. */
static void test_ecam_two_segments(void **state)
{
	u8 *w0 = aligned_alloc(1 << 20, 2 << 20), *w1 = aligned_alloc(1 << 20, 2 << 20);
	struct ecam_region r0 = {(u64)(uintptr_t)w0, 0, 0, 1}, r1 = {(u64)(uintptr_t)w1, 1, 0, 1};
	struct ecam_region dup = {(u64)(uintptr_t)w1, 1, 1, 1};
	u16 gfx = PCI_RID(0, 2, 0);
	u32 v = 0;

	memset(w0, 0xff, 2 << 20);
	memset(w1, 0xff, 2 << 20);
	memcpy(w0 + ((u32)gfx << 12), "\x86\x80\x00\x01", 4);
	memcpy(w1 + ((u32)gfx << 12), "\x86\x80\x00\x02", 4);
	pci_ecam_reset();
	assert_int_equal(pci_ecam_add(&r0), 0);
	assert_int_equal(pci_ecam_add(&r1), 0); /* same buses, other segment: no overlap */
	assert_int_equal(pci_ecam_add(&dup), -EEXIST);
	pci_cfg_set_backend(&pci_ecam_ops, NULL);
	assert_int_equal(pci_cfg_read(0, gfx, 0, 4, &v), 0);
	assert_int_equal(v, 0x01008086);
	assert_int_equal(pci_cfg_read(1, gfx, 0, 4, &v), 0);
	assert_int_equal(v, 0x02008086);
	assert_int_equal(pci_cfg_write(1, PCI_RID(1, 0, 0), 0x40, 4, 0x12345678), 0);
	assert_int_equal(*(u32 *)(w1 + (1u << 20) + 0x40), 0x12345678);
	assert_int_equal(*(u32 *)(w0 + (1u << 20) + 0x40), 0xffffffffu);
	assert_int_equal(pci_cfg_space_size(1, 2), 0);
	assert_int_equal(pci_cfg_space_size(2, 0), 0);
	assert_int_equal(pci_cfg_read(2, gfx, 0, 4, &v), -ENODEV);
	pci_ecam_reset();
	model_install();
	free(w0);
	free(w1);
}

static void test_owner(void **state)
{
	struct pci_dev *d;
	char buf[16];

	build_reference();
	pci_enumerate_segment(0, 0, 0xff);
	d = pci_find_bdf(0, 0, 5, 0);
	assert_int_equal(d->owner.kind, PCI_OWNER_NONE);
	assert_int_equal(pci_set_owner(d, PCI_OWNER_GUEST, 2), 0);
	assert_int_equal(pci_set_owner(d, PCI_OWNER_GUEST, 2), 0);
	assert_int_equal(pci_set_owner(d, PCI_OWNER_GUEST, 3), -EBUSY);
	assert_int_equal(pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0), -EBUSY);
	assert_string_equal(pci_owner_name(&d->owner, buf, sizeof(buf)), "guest2");
	pci_release(d);
	assert_int_equal(pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0), 0);
	assert_string_equal(pci_owner_name(&d->owner, buf, sizeof(buf)), "hypervisor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cfg_bounds, setup),
		cmocka_unit_test_setup(test_q35_pciexbar, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_bar_64bit_high, setup),
		cmocka_unit_test_setup(test_enumerate_reference, setup),
		cmocka_unit_test_setup(test_enumerate_switch, setup),
		cmocka_unit_test_setup(test_enumerate_assigns_buses, setup),
		cmocka_unit_test_setup(test_enumerate_multifunction, setup),
		cmocka_unit_test_setup(test_enumerate_peer_root_bus, setup),
		cmocka_unit_test_setup(test_caps_decoded, setup),
		cmocka_unit_test_setup(test_msix_layout_lies, setup),
		cmocka_unit_test_setup(test_caps_cycle, setup),
		cmocka_unit_test_setup(test_caps_pointer_into_header, setup),
		cmocka_unit_test_setup(test_ecaps_malformed, setup),
		cmocka_unit_test_setup(test_sriov_rid_arithmetic, setup),
		cmocka_unit_test_setup(test_sriov_enable, setup),
		cmocka_unit_test_setup(test_sriov_too_many, setup),
		cmocka_unit_test_setup(test_sriov_vf_bus_beyond_bridge, setup),
		cmocka_unit_test_setup(test_sriov_root_bus_pf, setup),
		cmocka_unit_test_setup(test_sriov_zero_offset, setup),
		cmocka_unit_test_setup(test_sriov_moves_high_vf_bars, setup),
		cmocka_unit_test_setup(test_sriov_keeps_firmware_bars, setup),
		cmocka_unit_test_setup(test_sriov_real_82576_keeps_high_vf_bars, setup),
		cmocka_unit_test_setup(test_sriov_disable, setup),
		cmocka_unit_test_setup(test_sriov_configured_vfs, setup),
		cmocka_unit_test_setup(test_sriov_vfs_from_configuration, setup),
		cmocka_unit_test_setup(test_alloc_fits_in_window, setup),
		cmocka_unit_test_setup(test_alloc_grows_window, setup),
		cmocka_unit_test_setup(test_alloc_opens_closed_window, setup),
		cmocka_unit_test_setup(test_alloc_through_switch, setup),
		cmocka_unit_test_setup(test_alloc_no_room, setup),
		cmocka_unit_test_setup(test_sriov_no_room, setup),
		cmocka_unit_test_setup(test_write_window_checks, setup),
		cmocka_unit_test_setup(test_apertures_from_memmap, setup),
		cmocka_unit_test_setup(test_owner, setup),
		cmocka_unit_test_setup(test_two_segments_enumerate, setup),
		cmocka_unit_test_setup(test_two_segments_share_address_space, setup),
		cmocka_unit_test_setup(test_cf8_segment0_only, setup),
		cmocka_unit_test_setup(test_ecam_two_segments, setup),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
