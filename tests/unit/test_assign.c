/* Assignment refusals on a fake device list: unknown devices and VFs, PFs with SR-IOV,
 * bridges, hypervisor-owned functions, devices given to another guest, split isolation
 * groups; the guest-physical BAR layout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pci_group.h>
#include "vmm/assign.h"
#include "host_devlist.h"
#include "host_shim.h"

static bool fake_ir = true, fake_unsafe;

bool iommu_present(void)
{
	return true;
}
bool iommu_irq_remapping(void)
{
	return fake_ir;
}
/* Functions under a unit that does not answer, and the one with an RMRR. */
static const struct pci_dev *fake_uncovered, *fake_rmrr_dev;

bool iommu_pci_covered(const struct pci_dev *dev)
{
	return dev != fake_uncovered;
}
int iommu_pci_reserved_region(const struct pci_dev *dev, u64 *base, u64 *limit)
{
	if (dev != fake_rmrr_dev)
		return -ENOENT;
	*base = 0x6000000;
	*limit = 0x600ffff;
	return 0;
}
bool cmdline_has(const char *key)
{
	return fake_unsafe && !strcmp(key, "iommu.unsafe_interrupts");
}

static struct pci_sriov sriov;
static struct guest ga, gb;

struct pci_dev *pci_sriov_vf(const struct pci_dev *pf, unsigned idx)
{
	return pf->sriov && idx < pf->sriov->num_vfs ? pf->sriov->vf[idx] : NULL;
}

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	return d->acs.ctrl;
}
void pci_write16(const struct pci_dev *d, u16 off, u16 v) {}

int pci_set_owner(struct pci_dev *d, enum pci_owner_kind kind, int guest)
{
	if (d->owner.kind != PCI_OWNER_NONE && (d->owner.kind != kind || d->owner.guest != guest))
		return -EBUSY;
	d->owner.kind = (u8)kind;
	d->owner.guest = guest;
	return 0;
}

void pci_release(struct pci_dev *d)
{
	d->owner.kind = PCI_OWNER_NONE;
}

const char *pci_owner_name(const struct pci_owner *o, char *buf, size_t size)
{
	if (o->kind == PCI_OWNER_GUEST)
		snprintf(buf, size, "guest %d", o->guest);
	else
		snprintf(buf, size, "%s",
			 o->kind == PCI_OWNER_HYPERVISOR ? "hypervisor" : "nobody");
	return buf;
}

static struct pci_dev *add(u8 bus, u8 dev, u8 fn, u8 type, struct pci_dev *parent)
{
	struct pci_dev *d = &host_devs[host_nr_devs++];

	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->rid = PCI_RID(bus, dev, fn);
	d->present = true;
	d->parent = parent;
	d->cap_pcie = 0xa0;
	d->pcie.port_type = type;
	d->class = 0x020000;
	if (type == PCIE_TYPE_ROOT_PORT || type == PCIE_TYPE_DOWNSTREAM ||
	    type == PCIE_TYPE_UPSTREAM) {
		d->header_type = 1;
		d->class = 0x060400;
	}
	return d;
}

static void bar64(struct pci_dev *d, unsigned b, u64 base, u64 size)
{
	d->bar[b] = (struct pci_bar){
		.base = base, .size = size, .type = PCI_BAR_MEM64, .prefetchable = true};
}

/* q35 host bridge, an ACS root port with an igb PF and 3 VFs, a second root port with a
 * switch (no ACS below it) and an edu behind it. */
static struct pci_dev *pf, *vf[3], *rp, *edu;

static int setup(void **state)
{
	struct pci_dev *hb, *up, *dp;

	host_nr_devs = 0;
	memset(&sriov, 0, sizeof(sriov));
	hb = add(0, 0, 0, PCIE_TYPE_RC_INTEGRATED, NULL);
	hb->class = 0x060000;
	hb->owner.kind = PCI_OWNER_HYPERVISOR;
	rp = add(0, 1, 0, PCIE_TYPE_ROOT_PORT, NULL);
	rp->secondary = rp->subordinate = 1;
	rp->ecap_acs = 0x148;
	rp->acs.cap = 0x1f;
	rp->acs.ctrl = PCI_ACS_ISOLATION;
	rp->owner.kind = PCI_OWNER_HYPERVISOR;
	pf = add(1, 0, 0, PCIE_TYPE_ENDPOINT, rp);
	pf->sriov = &sriov;
	pf->owner.kind = PCI_OWNER_HYPERVISOR;
	sriov.num_vfs = 3;
	for (unsigned i = 0; i < 3; i++) {
		vf[i] = add(1, 0x10, (u8)(2 * i), PCIE_TYPE_ENDPOINT, rp);
		vf[i]->is_vf = true;
		vf[i]->pf = pf;
		vf[i]->vf_index = (u16)i;
		bar64(vf[i], 0, 0xfe000000 + i * 0x4000, 0x4000);
		bar64(vf[i], 3, 0xfe100000 + i * 0x4000, 0x4000);
		/* QEMU's 82576 VF: 3 vectors, table at 0 and PBA at 0x2000 of BAR 3 */
		vf[i]->cap_msix = 0x70;
		vf[i]->msix = (struct pci_msix_info){
			.table_size = 3, .table_bir = 3, .pba_bir = 3, .pba_offset = 0x2000};
		sriov.vf[i] = vf[i];
	}
	up = add(2, 0, 0, PCIE_TYPE_UPSTREAM, NULL);
	up->secondary = up->subordinate = 3;
	dp = add(3, 0, 0, PCIE_TYPE_DOWNSTREAM, up);
	dp->secondary = dp->subordinate = 4;
	edu = add(4, 0, 0, PCIE_TYPE_ENDPOINT, dp);
	edu->bar[0] = (struct pci_bar){.base = 0xfea00000, .size = 0x100000, .type = PCI_BAR_MEM32};
	assert_int_equal(pci_groups_compute(), 0);
	memset(&ga, 0, sizeof(ga));
	memset(&gb, 0, sizeof(gb));
	strcpy(ga.cfg.name, "a");
	strcpy(gb.cfg.name, "b");
	ga.ram_size = gb.ram_size = 16 << 20;
	(void)state;
	return 0;
}

static void dev_vf(struct guest *g, u8 bus, u8 dev, u8 fn, u16 idx)
{
	g->cfg.devices[g->cfg.nr_devices++] = (struct cfg_device){
		.kind = CFG_DEV_VF, .bus = bus, .dev = dev, .fn = fn, .vf = idx};
}

static void dev_bdf(struct guest *g, u8 bus, u8 dev, u8 fn)
{
	g->cfg.devices[g->cfg.nr_devices++] =
		(struct cfg_device){.kind = CFG_DEV_BDF, .bus = bus, .dev = dev, .fn = fn};
}

static void refused(struct guest *g, int gidx, int err, const char *what)
{
	char why[ASSIGN_WHY_MAX];

	assert_int_equal(assign_claim(g, gidx, why, sizeof(why)), err);
	if (!strstr(why, what))
		fail_msg("refusal \"%s\" lacks \"%s\"", why, what);
	assert_int_equal(g->nr_dev, 0);
}

static void test_vf_claimed(void **state)
{
	char why[ASSIGN_WHY_MAX];

	dev_vf(&ga, 1, 0, 0, 1);
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	assert_int_equal(ga.nr_dev, 1);
	assert_ptr_equal(ga.dev[0].pdev, vf[1]);
	assert_int_equal(vf[1]->owner.kind, PCI_OWNER_GUEST);
	assert_int_equal(vf[1]->owner.guest, 1);
	assign_unclaim(&ga);
	assert_int_equal(vf[1]->owner.kind, PCI_OWNER_NONE);
	(void)state;
}

/* A device that states its MSI-X table or PBA outside its memory BARs is refused: moat
 * would write the physical table at bar[BIR].base + offset, past bar[5] for BIR 6/7, at
 * host address 0 + offset for an unimplemented BAR, or past the BAR's end. */
static void test_msix_layout_lies(void **state)
{
	static const struct {
		struct pci_msix_info m;
		const char *what;
	} lies[] = {
		{{3, 6, 3, 0, 0x2000}, "table BIR 6 names no BAR"},
		{{3, 3, 7, 0, 0x2000}, "PBA BIR 7 names no BAR"},
		{{3, 1, 3, 0, 0x2000}, "table in BAR 1, which is not implemented"},
		{{3, 4, 3, 0, 0x2000},
		 "table in BAR 4, which is not implemented"}, /* BAR 3's upper half */
		{{3, 2, 3, 0, 0x2000}, "table in BAR 2, which is an I/O BAR"},
		{{3, 3, 3, 0x4000, 0x2000}, "table at 0x4000+0x30 reaches past BAR 3"},
		{{3, 3, 3, 0, 0x3ffc}, "PBA at 0x3ffc+0x8 reaches past BAR 3"},
		{{2048, 3, 3, 0, 0x2000}, "table at 0+0x8000 reaches past BAR 3"},
		{{3, 5, 3, 0, 0x2000}, "table in BAR 5, which has no address"},
	};
	char why[ASSIGN_WHY_MAX];

	vf[1]->bar[2] = (struct pci_bar){.base = 0xc000, .size = 0x20, .type = PCI_BAR_IO};
	vf[1]->bar[5] = (struct pci_bar){.size = 0x1000, .type = PCI_BAR_MEM32};
	for (unsigned i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		vf[1]->msix = lies[i].m;
		memset(&ga, 0, sizeof(ga));
		dev_vf(&ga, 1, 0, 0, 1);
		refused(&ga, 1, -EINVAL, lies[i].what);
		assert_int_equal(vf[1]->owner.kind, PCI_OWNER_NONE);
	}
	/* the truth is accepted: table and PBA each ending exactly at the BAR's end */
	vf[1]->msix = (struct pci_msix_info){3, 3, 3, 0x3fd0, 0x3ff8};
	memset(&ga, 0, sizeof(ga));
	dev_vf(&ga, 1, 0, 0, 1);
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	assign_unclaim(&ga);
	(void)state;
}

/* Without interrupt remapping a device could send any interrupt anywhere: refused unless
 * the command line accepts it. */
static void test_no_interrupt_remapping(void **state)
{
	char why[ASSIGN_WHY_MAX];

	fake_ir = false;
	dev_vf(&ga, 1, 0, 0, 1);
	refused(&ga, 1, -EPERM, "does not remap interrupts");
	assert_int_equal(vf[1]->owner.kind, PCI_OWNER_NONE);
	fake_unsafe = true;
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	assign_unclaim(&ga);
	fake_ir = true;
	fake_unsafe = false;
	(void)state;
}

static void test_unknown(void **state)
{
	dev_bdf(&ga, 5, 0, 0);
	refused(&ga, 1, -ENODEV, "0000:05:00.0: no such device");
	memset(&ga.cfg, 0, sizeof(ga.cfg));
	dev_vf(&ga, 1, 0, 0, 3);
	refused(&ga, 1, -ENODEV, "VF 3 is not enabled (3 VFs)");
	memset(&ga.cfg, 0, sizeof(ga.cfg));
	dev_vf(&ga, 4, 0, 0, 0);
	refused(&ga, 1, -ENODEV, "no SR-IOV capability");
	(void)state;
}

static void test_not_assignable(void **state)
{
	dev_bdf(&ga, 1, 0, 0);
	refused(&ga, 1, -EPERM, "physical function with SR-IOV");
	memset(&ga.cfg, 0, sizeof(ga.cfg));
	dev_bdf(&ga, 0, 1, 0);
	refused(&ga, 1, -EPERM, "a bridge");
	memset(&ga.cfg, 0, sizeof(ga.cfg));
	dev_bdf(&ga, 0, 0, 0);
	refused(&ga, 1, -EPERM, "host bridge");
	memset(&ga.cfg, 0, sizeof(ga.cfg));
	edu->owner.kind = PCI_OWNER_HYPERVISOR;
	dev_bdf(&ga, 4, 0, 0);
	refused(&ga, 1, -EPERM, "used by the hypervisor");
	(void)state;
}

static void test_owned_by_other_guest(void **state)
{
	char why[ASSIGN_WHY_MAX];

	dev_vf(&ga, 1, 0, 0, 0);
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	dev_vf(&gb, 1, 0, 0, 2);
	dev_vf(&gb, 1, 0, 0, 0);
	refused(&gb, 2, -EBUSY, "01:00.0/vf0: already given to guest 1");
	/* Nothing of the refused guest stays claimed. */
	assert_int_equal(vf[2]->owner.kind, PCI_OWNER_NONE);
	(void)state;
}

static void test_named_twice(void **state)
{
	dev_vf(&ga, 1, 0, 0, 0);
	dev_vf(&ga, 1, 0, 0, 0);
	refused(&ga, 1, -EINVAL, "named twice");
	assert_int_equal(vf[0]->owner.kind, PCI_OWNER_NONE);
	(void)state;
}

/* edu below a switch without ACS shares its group with the downstream port only: fine
 * alone; a second endpoint there left to another guest splits the group. */
static void test_split_group(void **state)
{
	struct pci_dev *edu2 = add(4, 1, 0, PCIE_TYPE_ENDPOINT, edu->parent);
	char why[ASSIGN_WHY_MAX];

	assert_int_equal(pci_groups_compute(), 0);
	dev_bdf(&ga, 4, 0, 0);
	refused(&ga, 1, -EBUSY, "isolation group split");
	assert_int_equal(edu->owner.kind, PCI_OWNER_NONE);
	dev_bdf(&ga, 4, 1, 0);
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	assert_int_equal(edu2->owner.guest, 1);
	(void)state;
}

static void test_layout(void **state)
{
	char why[ASSIGN_WHY_MAX];

	dev_vf(&ga, 1, 0, 0, 0);
	dev_bdf(&ga, 4, 0, 0);
	assert_int_equal(assign_claim(&ga, 1, why, sizeof(why)), 0);
	assert_int_equal(assign_layout(&ga), 0);
	assert_int_equal(ga.dev[0].bar_gpa[0], VDEV_MMIO_BASE);
	assert_int_equal(ga.dev[0].bar_gpa[1], 0);
	assert_int_equal(ga.dev[0].bar_gpa[3], VDEV_MMIO_BASE + 0x4000);
	/* 1 MiB BAR aligned to its size, after the VF's. */
	assert_int_equal(ga.dev[1].bar_gpa[0], VDEV_MMIO_BASE + 0x100000);
	ga.ram_size = VDEV_MMIO_BASE + (2 << 20);
	assert_int_equal(assign_layout(&ga), -ENOSPC);
	(void)state;
}

/* A function the firmware DMAs to behind the OS's back (RMRR) stays moat's, and one no
 * working remapping unit covers could reach any memory: both refused, naming why. */
static void test_remapping_refusals(void **state)
{
	char why[ASSIGN_WHY_MAX];

	fake_rmrr_dev = edu;
	dev_bdf(&ga, 4, 0, 0);
	refused(&ga, 1, -EPERM,
		"device 0000:04:00.0: the firmware reserves 0x6000000-0x600ffff for its "
		"DMA (RMRR)");
	assert_int_equal(edu->owner.kind, PCI_OWNER_NONE);
	fake_rmrr_dev = NULL;
	fake_uncovered = vf[2];
	dev_vf(&gb, 1, 0, 0, 2);
	refused(&gb, 2, -ENODEV, "no remapping unit covers 0000:01:10.4");
	assert_int_equal(vf[2]->owner.kind, PCI_OWNER_NONE);
	/* Others are unaffected. */
	memset(&gb.cfg, 0, sizeof(gb.cfg));
	dev_vf(&gb, 1, 0, 0, 1);
	assert_int_equal(assign_claim(&gb, 2, why, sizeof(why)), 0);
	assign_unclaim(&gb);
	fake_uncovered = NULL;
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vf_claimed, setup),
		cmocka_unit_test_setup(test_msix_layout_lies, setup),
		cmocka_unit_test_setup(test_unknown, setup),
		cmocka_unit_test_setup(test_no_interrupt_remapping, setup),
		cmocka_unit_test_setup(test_not_assignable, setup),
		cmocka_unit_test_setup(test_owned_by_other_guest, setup),
		cmocka_unit_test_setup(test_named_twice, setup),
		cmocka_unit_test_setup(test_split_group, setup),
		cmocka_unit_test_setup(test_layout, setup),
		cmocka_unit_test_setup(test_remapping_refusals, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
