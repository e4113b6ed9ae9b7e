/* Isolation groups on synthetic topologies: aliasing bridges, switches with and without
 * ACS, multi-function devices with and without ACS, SR-IOV VFs under an ACS root port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pci_group.h>
#include "host_devlist.h"
#include "host_shim.h"

/* The device list the code under test sees. */
static u16 acs_ctrl_written[32];

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	assert_int_equal(off, d->ecap_acs + PCI_ACS_CTRL);
	return acs_ctrl_written[d - host_devs];
}

void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	assert_int_equal(off, d->ecap_acs + PCI_ACS_CTRL);
	/* The control register keeps only bits the capability implements. */
	acs_ctrl_written[d - host_devs] = v & (d->acs.cap | PCI_ACS_EC);
}

const char *pci_owner_name(const struct pci_owner *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->kind == PCI_OWNER_HYPERVISOR ? "hypervisor" : "nobody");
	return buf;
}

enum { CONVENTIONAL = 0xff };

static struct pci_dev *add(u8 bus, u8 dev, u8 fn, int type, struct pci_dev *parent)
{
	struct pci_dev *d = &host_devs[host_nr_devs++];

	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->rid = PCI_RID(bus, dev, fn);
	d->present = true;
	d->parent = parent;
	if (type != CONVENTIONAL) {
		d->cap_pcie = 0x40;
		d->pcie.port_type = (u8)type;
	}
	if (type == PCIE_TYPE_ROOT_PORT || type == PCIE_TYPE_UPSTREAM ||
	    type == PCIE_TYPE_DOWNSTREAM || type == PCIE_TYPE_PCIE_TO_PCI)
		d->header_type = 1;
	return d;
}

static struct pci_dev *bridge(u8 bus, u8 dev, u8 fn, int type, struct pci_dev *parent, u8 sec)
{
	struct pci_dev *d = add(bus, dev, fn, type, parent);

	d->header_type = 1;
	d->secondary = sec;
	d->subordinate = sec;
	return d;
}

static void acs(struct pci_dev *d, u16 cap, u16 ctrl)
{
	d->ecap_acs = 0x148;
	d->acs.cap = cap;
	d->acs.ctrl = ctrl;
	acs_ctrl_written[d - host_devs] = ctrl;
}

static int reset(void **state)
{
	host_nr_devs = 0;
	memset(acs_ctrl_written, 0, sizeof(acs_ctrl_written));
	(void)state;
	return 0;
}

static bool same_group(const struct pci_dev *a, const struct pci_dev *b)
{
	return pci_group_of(a) && pci_group_of(a) == pci_group_of(b);
}

/* pcie-pci-bridge with two conventional devices behind it: one group with the bridge. */
static void test_pcie_to_pci_bridge_aliases(void **state)
{
	struct pci_dev *rp = bridge(0, 0x1c, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *br, *a, *b, *other;
	struct pci_dev *set[2];
	u16 rids[8];
	char why[256];

	acs(rp, 0x1f, PCI_ACS_ISOLATION);
	br = bridge(1, 0, 0, PCIE_TYPE_PCIE_TO_PCI, rp, 2);
	a = add(2, 1, 0, CONVENTIONAL, br);
	b = add(2, 2, 0, CONVENTIONAL, br);
	other = add(0, 5, 0, PCIE_TYPE_RC_INTEGRATED, NULL);
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(a, b));
	assert_true(same_group(a, br));
	assert_false(same_group(a, rp));
	assert_false(same_group(a, other));
	assert_int_equal(pci_group_of(a)->nr, 3);
	assert_int_equal(pci_group_of(a)->nr_endpoints, 2);
	assert_non_null(strstr(pci_group_of(a)->reason, "PCIe-to-PCI bridge 0000:01:00.0"));
	assert_int_equal(pci_group_count(), 3);

	/* Requests from behind the bridge carry (secondary bus, 00.0). */
	assert_int_equal(pci_dma_aliases(a, rids, 8), 3);
	assert_int_equal(rids[0], PCI_RID(2, 1, 0));
	assert_int_equal(rids[1], PCI_RID(2, 0, 0));
	assert_int_equal(rids[2], PCI_RID(1, 0, 0));

	set[0] = a;
	assert_int_equal(pci_group_check_assignment(set, 1, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "0000:02:02.0"));
	assert_non_null(strstr(why, "group"));
	set[1] = b;
	assert_int_equal(pci_group_check_assignment(set, 2, why, sizeof(why)), 0);
	set[0] = br;
	assert_int_equal(pci_group_check_assignment(set, 1, why, sizeof(why)), -EPERM);
	(void)state;
}

/* Conventional PCI-PCI bridge: devices alias to the bridge's own requester ID. */
static void test_conventional_bridge_aliases(void **state)
{
	struct pci_dev *br = bridge(0, 0x1e, 0, CONVENTIONAL, NULL, 4);
	struct pci_dev *a = add(4, 0, 0, CONVENTIONAL, br);
	u16 rids[4];

	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(a, br));
	assert_int_equal(pci_dma_aliases(a, rids, 4), 2);
	assert_int_equal(rids[1], PCI_RID(0, 0x1e, 0));
	assert_non_null(strstr(pci_group_of(a)->reason, "conventional PCI bridge"));
	(void)state;
}

/* x3130-like switch whose downstream ports have no ACS, under an ACS root port. */
static void test_switch_without_acs(void **state)
{
	struct pci_dev *rp = bridge(0, 2, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *up, *dp0, *dp1, *pf, *vf0, *vf1, *nic2;
	struct pci_dev *set[2];
	char why[256];

	acs(rp, 0x1f, PCI_ACS_ISOLATION);
	up = bridge(1, 0, 0, PCIE_TYPE_UPSTREAM, rp, 2);
	dp0 = bridge(2, 0, 0, PCIE_TYPE_DOWNSTREAM, up, 3);
	dp1 = bridge(2, 1, 0, PCIE_TYPE_DOWNSTREAM, up, 4);
	pf = add(3, 0, 0, PCIE_TYPE_ENDPOINT, dp0);
	pf->owner.kind = PCI_OWNER_HYPERVISOR;
	vf0 = add(3, 0x10, 0, PCIE_TYPE_ENDPOINT, dp0);
	vf0->is_vf = true;
	vf0->pf = pf;
	vf1 = add(3, 0x10, 2, PCIE_TYPE_ENDPOINT, dp0);
	vf1->is_vf = true;
	vf1->pf = pf;
	nic2 = add(4, 0, 0, PCIE_TYPE_ENDPOINT, dp1);
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(pf, dp0));
	assert_true(same_group(vf0, pf));
	assert_true(same_group(vf1, pf));
	/* Peers below sibling downstream ports reach each other without ACS. */
	assert_true(same_group(nic2, pf));
	assert_true(same_group(dp1, dp0));
	assert_false(same_group(up, dp0));
	assert_false(same_group(rp, up));

	set[0] = vf0;
	assert_int_equal(pci_group_check_assignment(set, 1, why, sizeof(why)), -EBUSY);
	set[1] = vf1;
	assert_int_equal(pci_group_check_assignment(set, 2, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "hypervisor")); /* the PF would stay behind */
	(void)state;
}

/* The same switch with ACS on its downstream ports: one group per port's subtree, and each
 * VF alone. */
static void test_switch_with_acs(void **state)
{
	struct pci_dev *rp = bridge(0, 2, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *up, *dp0, *dp1, *pf, *vf0, *nic2;

	acs(rp, 0x1f, PCI_ACS_ISOLATION);
	up = bridge(1, 0, 0, PCIE_TYPE_UPSTREAM, rp, 2);
	dp0 = bridge(2, 0, 0, PCIE_TYPE_DOWNSTREAM, up, 3);
	dp1 = bridge(2, 1, 0, PCIE_TYPE_DOWNSTREAM, up, 4);
	acs(dp0, 0x5f, PCI_ACS_ISOLATION);
	acs(dp1, 0x5f, PCI_ACS_ISOLATION);
	pf = add(3, 0, 0, PCIE_TYPE_ENDPOINT, dp0);
	vf0 = add(3, 0x10, 0, PCIE_TYPE_ENDPOINT, dp0);
	vf0->is_vf = true;
	nic2 = add(4, 0, 0, PCIE_TYPE_ENDPOINT, dp1);
	assert_int_equal(pci_groups_compute(), 0);
	assert_int_equal(pci_group_count(), 7);
	assert_false(same_group(pf, vf0));
	assert_false(same_group(pf, nic2));
	assert_false(same_group(dp0, dp1));
	assert_string_equal(pci_group_of(vf0)->reason, "");
	(void)state;
}

/* Root port without ACS: its subtree joins it. */
static void test_root_port_without_acs(void **state)
{
	struct pci_dev *rp = bridge(0, 3, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *ep = add(1, 0, 0, PCIE_TYPE_ENDPOINT, rp);
	struct pci_dev *vf = add(1, 0, 1, PCIE_TYPE_ENDPOINT, rp);

	vf->is_vf = true;
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(ep, rp));
	assert_true(same_group(vf, rp));
	assert_non_null(strstr(pci_group_of(ep)->reason, "no ACS"));
	(void)state;
}

/* Multi-function endpoint on the root bus: without ACS one group, with ACS separate. */
static void test_multifunction(void **state)
{
	struct pci_dev *f0 = add(0, 0x1f, 0, PCIE_TYPE_RC_INTEGRATED, NULL);
	struct pci_dev *f2 = add(0, 0x1f, 2, PCIE_TYPE_RC_INTEGRATED, NULL);
	struct pci_dev *f3 = add(0, 0x1f, 3, PCIE_TYPE_RC_INTEGRATED, NULL);
	struct pci_dev *lone = add(0, 0x1e, 0, PCIE_TYPE_RC_INTEGRATED, NULL);

	f0->multifunction = f2->multifunction = f3->multifunction = true;
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(f0, f2));
	assert_true(same_group(f0, f3));
	assert_false(same_group(f0, lone));
	assert_non_null(strstr(pci_group_of(f3)->reason, "multi-function"));

	acs(f0, 0x1f, 0);
	acs(f2, 0x1f, 0);
	acs(f3, 0x1f, 0);
	/* Capabilities are there but not enabled: still one group until moat enables them. */
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(f0, f2));
	pci_acs_enable(f0);
	pci_acs_enable(f2);
	pci_acs_enable(f3);
	assert_int_equal(f0->acs.ctrl, PCI_ACS_ISOLATION);
	assert_int_equal(pci_groups_compute(), 0);
	assert_false(same_group(f0, f2));
	assert_false(same_group(f2, f3));
	(void)state;
}

/* Missing ACS capability bits count as hard-wired on (PCIe 6.12.1.1). */
static void test_acs_capability_bits_hardwired(void **state)
{
	struct pci_dev *rp = bridge(0, 2, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);

	acs(rp, PCI_ACS_SV | PCI_ACS_UF, PCI_ACS_SV | PCI_ACS_UF);
	assert_true(pci_acs_isolated(rp));
	acs(rp, PCI_ACS_SV | PCI_ACS_UF, PCI_ACS_SV);
	assert_false(pci_acs_isolated(rp));
	rp->ecap_acs = 0;
	assert_false(pci_acs_isolated(rp));
	(void)state;
}

/* SR-IOV under an ACS root port: PF and every VF alone. */
static void test_vfs_under_acs_root_port(void **state)
{
	struct pci_dev *rp = bridge(0, 1, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *pf, *vf[3];
	struct pci_dev *set[1];
	char why[200];

	acs(rp, 0x1f, PCI_ACS_ISOLATION);
	pf = add(1, 0, 0, PCIE_TYPE_ENDPOINT, rp);
	pf->owner.kind = PCI_OWNER_HYPERVISOR;
	for (int i = 0; i < 3; i++) {
		vf[i] = add(1, 0x10, (u8)(2 * i), PCIE_TYPE_ENDPOINT, rp);
		vf[i]->is_vf = true;
		vf[i]->pf = pf;
		vf[i]->multifunction = true; /* a VF is never treated as multi-function */
	}
	assert_int_equal(pci_groups_compute(), 0);
	assert_int_equal(pci_group_count(), 5);
	for (int i = 0; i < 3; i++) {
		assert_false(same_group(vf[i], pf));
		assert_int_equal(pci_group_of(vf[i])->nr, 1);
		set[0] = vf[i];
		assert_int_equal(pci_group_check_assignment(set, 1, why, sizeof(why)), 0);
	}
	assert_false(same_group(vf[0], vf[1]));
	(void)state;
}

static void test_dma_alias_quirk(void **state)
{
	struct pci_dev *f0 = add(5, 0, 0, PCIE_TYPE_ENDPOINT, NULL);
	struct pci_dev *f1 = add(5, 0, 1, PCIE_TYPE_ENDPOINT, NULL);
	u16 rids[4];

	f0->vendor = 0x1b4b;
	f0->device = 0x9123;
	assert_int_equal(pci_groups_compute(), 0);
	assert_true(same_group(f0, f1));
	assert_int_equal(pci_dma_aliases(f0, rids, 4), 2);
	assert_int_equal(rids[1], PCI_RID(5, 0, 1));
	(void)state;
}

static void test_absent_vfs_ignored(void **state)
{
	struct pci_dev *rp = bridge(0, 1, 0, PCIE_TYPE_ROOT_PORT, NULL, 1);
	struct pci_dev *vf = add(1, 0x10, 0, PCIE_TYPE_ENDPOINT, rp);

	vf->is_vf = true;
	vf->present = false;
	assert_int_equal(pci_groups_compute(), 0);
	assert_int_equal(pci_group_count(), 1);
	assert_null(pci_group_of(vf));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pcie_to_pci_bridge_aliases, reset),
		cmocka_unit_test_setup(test_conventional_bridge_aliases, reset),
		cmocka_unit_test_setup(test_switch_without_acs, reset),
		cmocka_unit_test_setup(test_switch_with_acs, reset),
		cmocka_unit_test_setup(test_root_port_without_acs, reset),
		cmocka_unit_test_setup(test_multifunction, reset),
		cmocka_unit_test_setup(test_acs_capability_bits_hardwired, reset),
		cmocka_unit_test_setup(test_vfs_under_acs_root_port, reset),
		cmocka_unit_test_setup(test_dma_alias_quirk, reset),
		cmocka_unit_test_setup(test_absent_vfs_ignored, reset),
	};
	return cmocka_run_group_tests_name("pci_groups", tests, NULL, NULL);
}
