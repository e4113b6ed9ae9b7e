/* moat's VT-d driver (iommu/vtd*.c, compiled for the host) against the register model of
 * vtd_model.c, with synthetic DMAR tables of several remapping units: a dedicated unit for
 * graphics (00:02.0) beside an INCLUDE_PCI_ALL unit, units of a second PCI segment, a unit
 * that does not answer, and one firmware left enabled. QEMU has one intel-iommu and one
 * PCI segment, so these firmware shapes are proven here (docs/testing.md).
 *
 * What the hardware sees is read back the way the hardware would: root and context
 * entries through the root table pointer the unit latched, interrupt entries through the
 * latched IRTA, invalidations from the unit's own queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/pci.h>
#include <moat/pmm.h>
#include "arch/x86/trap.h"
#include <moat/test_hooks.h>
#include "iommu/vtd_drv.h"
#include "tests/hv/hv.h"
#include "acpi_builder.h"
#include "host_shim.h"
#include "vtd_model.h"

#define B(n) (1ULL << (n))
#define GFX_BASE 0xfed90000ull
#define ALL_BASE 0xfed91000ull
#define SEG1_BASE 0xfed92000ull
#define GFX PCI_RID(0, 2, 0)
#define NIC PCI_RID(0, 3, 0)

/* CAP/ECAP bits by the spec's positions */
#define CAP_RWBF B(4)
#define CAP_CM B(7)
#define ECAP_C B(0)
#define ECAP_QI B(1)
#define ECAP_IR B(3)
#define ECAP_EIM B(4)
#define SAGAW_3L 0x2
#define SAGAW_4L 0x4
#define SAGAW_5L 0x8
#define SLLPS_2M 0x1
#define SLLPS_1G 0x2

/* descriptor types (6.5.2) and what they carry */
#define D_CC 1
#define D_IOTLB 2
#define D_IEC 4
#define D_WAIT 5
#define DESC_G(lo) (((lo) >> 4) & 3)
#define DESC_DID(lo) ((u16)((lo) >> 16))
#define DESC_SID(lo) ((u16)((lo) >> 32))

/* ---- the hypervisor's surroundings ---- */

static int pages_before;

static u64 now_us;
u64 time_us(void)
{
	return now_us += 50;
}

static const char *cmdline_word; /* the one command-line word a test turns on */

bool cmdline_has(const char *key)
{
	return cmdline_word && !strcmp(key, cmdline_word);
}

/* The test image's hook (tests/hv/hooks.c) for vtd_test_fw_enabled. */
static void vtd_before_takeover(unsigned idx, const struct dmar_drhd *d)
{
	if (cmdline_has("vtd_test_fw_enabled"))
		vtd_test_leave_enabled(idx, d);
}
static const struct test_hooks hooks = {.vtd_before_takeover = vtd_before_takeover};
const struct test_hooks *const test_hooks = &hooks;

static const struct acpi_sdt_header *dmar_table;
const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned idx)
{
	return idx == 0 && !memcmp(sig, "DMAR", 4) ? dmar_table : NULL;
}

struct pci_dev *pci_find_bdf(u16 seg, u8 bus, u8 dev, u8 fn)
{
	(void)seg, (void)bus, (void)dev, (void)fn;
	return NULL; /* no bridges: every scope here is one hop on its root bus */
}

u32 apic_id(void)
{
	return 0;
}

bool apic_x2apic_mode(void)
{
	return false;
}

static struct {
	irq_handler_t fn;
	void *ctx;
} vectors[256];
static unsigned next_vector = 0x40;
int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	vectors[next_vector].fn = fn;
	vectors[next_vector].ctx = ctx;
	return (int)next_vector++;
}

static const struct iommu_ops *ops;
void iommu_register(const struct iommu_ops *o)
{
	ops = o;
}

const char *iommu_domain_name(const struct iommu_domain *d)
{
	return d ? d->name : "(none)";
}

/* The RMRR ranges are withheld from the page allocator (vtd_rmrr.c, not linked here): the
 * probe's call is counted. */
static unsigned rmrr_reserves;
void vtd_rmrr_reserve(const struct boot_info *bi)
{
	rmrr_reserves++;
}

static struct iommu_fault faults[8];
static unsigned nr_faults;
void iommu_report_fault(struct iommu_fault *f)
{
	if (nr_faults < 8)
		faults[nr_faults] = *f;
	nr_faults++;
}

/* ---- setup ---- */

/* Where a unit lives and what firmware left on; its CAP/ECAP are given when it is added. */
struct unit_shape {
	u64 base;
	u32 gsts;
	bool pmen, dead;
};

static const struct unit_shape gfx_unit = {GFX_BASE, 0, false, false};
static const struct unit_shape all_unit = {ALL_BASE, 0, false, false};

/* The graphics unit: 4-level tables only, 2M and 1G pages, 256 domains. */
static u64 gfx_cap(u64 extra)
{
	return vm_cap(2, SAGAW_4L, SLLPS_2M | SLLPS_1G, extra);
}
/* The INCLUDE_PCI_ALL unit: 3- or 4-level tables, 2M pages only, 64 domains. */
static u64 all_cap(u64 extra)
{
	return vm_cap(1, SAGAW_3L | SAGAW_4L, SLLPS_2M, extra);
}

static struct acpi_builder table;

/* DMAR: DRHD 0 for 00:02.0 on segment 0, DRHD 1 INCLUDE_PCI_ALL on segment 0 with the
 * IOAPIC, and (seg1) DRHD 2 INCLUDE_PCI_ALL on segment 1. */
static void build_dmar(bool seg1)
{
	ab_dmar(&table, 46, 1);
	ab_drhd(&table, 0, 0, GFX_BASE);
	ab_scope(&table, DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0);
	ab_drhd(&table, 1, 0, ALL_BASE);
	ab_scope(&table, DMAR_SCOPE_IOAPIC, 2, 0xf0, 0x1f, 0);
	if (seg1)
		ab_drhd(&table, 1, 1, SEG1_BASE);
	dmar_table = ab_finish(&table);
}

static void add_unit(const struct unit_shape *s, u64 cap, u64 ecap)
{
	struct vm_unit_cfg c = {
		.base = s->base, .cap = cap, .ecap = ecap, .gsts = s->gsts, .pmen = s->pmen};

	if (!s->dead)
		assert_true(vm_unit_add(&c) >= 0);
}

static void free_units(void)
{
	for (unsigned i = 0; i < VTD_MAX_UNITS; i++) {
		struct vtd_unit *u = &vtd_units[i];

		if (u->root)
			page_free(u->root);
		for (unsigned b = 0; b < 256; b++)
			if (u->ctx[b])
				page_free(u->ctx[b]);
		if (u->iq)
			page_free(u->iq);
		if (u->wait_status)
			page_free((u64)(uintptr_t)u->wait_status);
		if (u->irt)
			page_free(u->irt);
	}
	memset(vtd_units, 0, sizeof(vtd_units));
	vtd_nr_units = 0;
}

/* moat's boot order through the front end's probe-table entry: the DMAR is read early
 * (iommu_early_init: probe, which withholds the RMRR ranges), the units started later
 * (iommu_init: init). */
static int vtd_bringup(void)
{
	unsigned reserves = rmrr_reserves;
	int err = vtd_iommu_driver.probe(NULL);

	assert_int_equal(rmrr_reserves - reserves, err ? 0 : 1);
	return err ? err : vtd_iommu_driver.init(NULL);
}

static int setup(void **state)
{
	(void)state;
	vm_reset();
	free_units();
	memset(&vtd_common_caps, 0, sizeof(vtd_common_caps));
	ops = NULL;
	cmdline_word = NULL;
	nr_faults = 0;
	shim_errors_logged = 0;
	build_dmar(false);
	pages_before = host_live_pages;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_units();
	assert_int_equal(host_live_pages, pages_before); /* every table freed */
	return 0;
}

/* The usual pair, both with queued invalidation and interrupt remapping. */
static void two_units(u64 gfx_extra, u64 all_extra)
{
	add_unit(&gfx_unit, gfx_cap(gfx_extra), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	add_unit(&all_unit, all_cap(all_extra), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), 0);
	assert_non_null(ops);
}

static void no_violations(void)
{
	for (unsigned i = 0; i < vm.nr_units; i++)
		if (vm.unit[i].violations)
			fail_msg("model: %s", vm.last_violation);
}

/* The context entry the unit's hardware would use for `sid`: root table pointer -> root
 * entry -> context table. NULL if the root entry is not present. */
static const struct vtd_qword2 *hw_context(int unit, u16 sid)
{
	const u64 *root = (const u64 *)(uintptr_t)(vm.unit[unit].rtaddr_latched & ~0xfffull);
	u64 re = root[2 * (sid >> 8)];

	if (!(re & 1))
		return NULL;
	return (const struct vtd_qword2 *)(uintptr_t)(re & ~0xfffull) + (sid & 0xff);
}

static u64 to_vtd_root(struct iommu_domain *d)
{
	return ((struct vtd_domain *)d)->pt.root;
}

static u16 domain_did(struct iommu_domain *d)
{
	return ((struct vtd_domain *)d)->did;
}

static bool hw_context_present(int unit, u16 sid)
{
	const struct vtd_qword2 *e = hw_context(unit, sid);

	return e && (e->lo & 1);
}

static unsigned descs_for_sid(int unit, unsigned type, u16 sid)
{
	unsigned n = 0;

	for (int i = vm_find(unit, VM_EV_DESC, (int)type, 0); i >= 0;
	     i = vm_find(unit, VM_EV_DESC, (int)type, (unsigned)i + 1))
		n += DESC_SID(vm.unit[unit].ev[i].a) == sid;
	return n;
}

/* ---- bring-up ---- */

/* Each unit: root table pointer, queue, global context and IOTLB invalidation through the
 * queue, fault events, interrupt table pointer, IEC invalidation, remapping on, then
 * translation on (VT-d spec 6.5, 9.1, 10.4.4); each unit its own tables. */
static void test_bringup_order(void **state)
{
	(void)state;
	two_units(0, 0);
	no_violations();
	for (int u = 0; u < 2; u++) {
		const struct vm_unit *m = &vm.unit[u];
		int srtp = vm_find(u, VM_EV_SRTP, -1, 0), qie = vm_find(u, VM_EV_QIE_ON, -1, 0);
		int cc = vm_find(u, VM_EV_DESC, D_CC, 0),
		    iotlb = vm_find(u, VM_EV_DESC, D_IOTLB, 0);
		int sirtp = vm_find(u, VM_EV_SIRTP, -1, 0), iec = vm_find(u, VM_EV_DESC, D_IEC, 0);
		int ire = vm_find(u, VM_EV_IRE_ON, -1, 0), te = vm_find(u, VM_EV_TE_ON, -1, 0);

		assert_true(srtp >= 0 && qie > srtp && cc > qie && iotlb > cc);
		assert_int_equal(DESC_G(m->ev[cc].a), 1);    /* global */
		assert_int_equal(DESC_G(m->ev[iotlb].a), 1); /* global */
		assert_true(sirtp > iotlb && iec > sirtp && ire > iec && te > ire);
		assert_int_equal(m->gsts & (B(31) | B(26) | B(25) | B(23)), B(31) | B(26) | B(25));
		assert_int_equal(m->rtaddr_latched, vtd_units[u].root);
		assert_int_equal(m->irta_latched & ~0xfffull, vtd_units[u].irt);
		assert_int_equal(m->fectl, 0); /* fault events unmasked */
		assert_int_equal(vm_count(u, VM_EV_REG_CC, -1) + vm_count(u, VM_EV_REG_IOTLB, -1),
				 0);
		assert_true(vtd_units[u].present);
	}
	assert_int_not_equal(vtd_units[0].root, vtd_units[1].root);
	assert_int_not_equal(vtd_units[0].irt, vtd_units[1].irt);
	assert_int_equal(vm.stray_reads + vm.stray_writes, 0);
	assert_true(ops->irq_remapping());
}

/* The shared domain tables are walked by both units: a depth both support (4 levels: the
 * graphics unit has no 3-level), 2M leaves only (the other unit has no 1G), the smaller
 * domain count, EIM only if both have it. */
static void test_common_caps(void **state)
{
	struct iommu_domain *d;
	unsigned counts[5], tables, n = 0;
	struct iommu_domain *all[64];

	(void)state;
	two_units(0, 0);
	assert_int_equal(vtd_common_caps.levels, 4);
	assert_int_equal(vtd_common_caps.max_leaf_level, 1);
	assert_int_equal(vtd_common_caps.nr_domains, 64);
	assert_true(vtd_common_caps.qi);
	assert_true(vtd_common_caps.ir);
	assert_false(vtd_common_caps.eim);

	d = ops->domain_create("shared");
	assert_non_null(d);
	assert_int_equal(ops->map(d, 1ull << 30, 1ull << 30, 1ull << 30, IOMMU_RW), 0);
	ops->table_stats(d, counts, &tables);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[1], 512);
	assert_int_equal(ops->attach(d, 0, GFX, GFX), 0);
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);
	for (int u = 0; u < 2; u++) {
		const struct vtd_qword2 *e = hw_context(u, u ? NIC : GFX);

		assert_non_null(e);
		assert_int_equal(e->hi & 7, 2); /* AW: 48-bit, 4-level */
		assert_int_equal(e->lo & ~0xfffull, to_vtd_root(d));
	}
	ops->domain_destroy(d);

	/* domain IDs: 1..63 of the smaller unit's 64 (0 stays unused) */
	while (n < 64 && (all[n] = ops->domain_create("many")) != NULL)
		n++;
	assert_int_equal(n, 63);
	while (n)
		ops->domain_destroy(all[--n]);
	no_violations();
}

/* ---- attaching: the device's own unit, and only it ---- */

static void test_attach_picks_unit(void **state)
{
	struct iommu_domain *d;
	u16 did;

	(void)state;
	two_units(0, 0);
	d = ops->domain_create("gfx");
	did = domain_did(d);
	vm_clear_events();

	assert_int_equal(ops->attach(d, 0, GFX, GFX), 0);
	assert_true(hw_context_present(0, GFX));
	assert_false(hw_context_present(1, GFX));
	assert_int_equal((u16)(hw_context(0, GFX)->hi >> 8), did); /* DID: bits 87:72 */
	assert_int_equal(descs_for_sid(0, D_CC, GFX), 1);
	assert_int_equal(DESC_G(vm.unit[0].ev[vm_find(0, VM_EV_DESC, D_CC, 0)].a), 3); /* device */
	assert_int_equal(vm_count(0, VM_EV_DESC, D_IOTLB), 1);
	assert_int_equal(vm_count(1, VM_EV_DESC, -1), 0); /* nothing on the other unit */

	vm_clear_events();
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);
	assert_true(hw_context_present(1, NIC));
	assert_false(hw_context_present(0, NIC));
	assert_int_equal(descs_for_sid(1, D_CC, NIC), 1);
	assert_int_equal(vm_count(0, VM_EV_DESC, -1), 0);

	/* detaching clears the entry on that unit and invalidates there */
	vm_clear_events();
	assert_int_equal(ops->detach(d, 0, GFX), 0);
	assert_false(hw_context_present(0, GFX));
	assert_true(hw_context_present(1, NIC));
	assert_int_equal(descs_for_sid(0, D_CC, GFX), 1);
	assert_int_equal(vm_count(1, VM_EV_DESC, -1), 0);
	ops->domain_destroy(d);
	assert_false(hw_context_present(1, NIC));
	no_violations();
}

/* ---- map and unmap: every unit whose caches may hold the range ---- */

static void test_map_unmap_invalidate(void **state)
{
	struct iommu_domain *d;
	int i;

	(void)state;
	/* graphics unit in caching mode (caches not-present entries), the other unit
	 * needing write-buffer flushes */
	two_units(CAP_CM, CAP_RWBF);
	d = ops->domain_create("dma");
	assert_int_equal(ops->attach(d, 0, GFX, GFX), 0);
	vm_clear_events();

	assert_int_equal(ops->map(d, 0x200000, 0x40000000, 0x4000, IOMMU_RW), 0);
	i = vm_find(0, VM_EV_DESC, D_IOTLB, 0);
	assert_true(i >= 0);
	assert_int_equal(DESC_G(vm.unit[0].ev[i].a), 3); /* page-selective */
	assert_int_equal(DESC_DID(vm.unit[0].ev[i].a), domain_did(d));
	assert_int_equal(vm.unit[0].ev[i].b & ~0xfffull, 0x200000);
	assert_int_equal(vm_count(0, VM_EV_WBF, -1), 0);
	assert_int_equal(vm_count(1, VM_EV_WBF, -1), 1);
	assert_int_equal(vm_count(1, VM_EV_DESC, D_IOTLB), 0);

	vm_clear_events();
	assert_int_equal(ops->unmap(d, 0x200000, 0x4000), 0);
	for (int u = 0; u < 2; u++) {
		i = vm_find(u, VM_EV_DESC, D_IOTLB, 0);
		assert_true(i >= 0);
		assert_int_equal(DESC_DID(vm.unit[u].ev[i].a), domain_did(d));
		assert_int_equal(vm.unit[u].ev[i].b & ~0xfffull, 0x200000);
	}
	ops->domain_destroy(d);
	no_violations();
}

/* An invalidation that fails on one unit fails the map, whatever the other units did. */
static void test_map_reports_any_unit_failure(void **state)
{
	struct iommu_domain *d;

	(void)state;
	two_units(CAP_CM, CAP_CM);
	d = ops->domain_create("dma");
	vm.unit[0].cfg.fail_queue = true;
	vm_clear_events();
	shim_errors_logged = 0;
	assert_int_equal(ops->map(d, 0x200000, 0x40000000, 0x1000, IOMMU_RW), -EIO);
	assert_true(shim_errors_logged > 0);
	assert_int_equal(vm_count(1, VM_EV_DESC, D_IOTLB), 1); /* the other unit still got it */
	vm.unit[0].cfg.fail_queue = false;
	assert_int_equal(ops->unmap(d, 0x200000, 0x1000), 0);
	vm.unit[1].cfg.fail_queue = true;
	assert_int_equal(ops->map(d, 0x200000, 0x40000000, 0x1000, IOMMU_RW), -EIO);
	vm.unit[1].cfg.fail_queue = false;
	ops->domain_destroy(d);
}

/* ---- faults: decoded from the recording unit, with its segment and its domains ---- */

static void fault_event(int unit)
{
	u8 vec = (u8)(vm.unit[unit].fedata & 0xff);

	assert_non_null(vectors[vec].fn);
	vectors[vec].fn(NULL, vectors[vec].ctx);
}

static void test_fault_attributed_to_unit(void **state)
{
	struct iommu_domain *d;

	(void)state;
	two_units(0, 0);
	assert_int_not_equal(vm.unit[0].fedata & 0xff, vm.unit[1].fedata & 0xff);
	d = ops->domain_create("nic");
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);

	vm_inject_fault(1, 2, NIC, 0x5, 0x12345000, true);
	fault_event(1);
	assert_int_equal(nr_faults, 1);
	assert_int_equal(faults[0].segment, 0);
	assert_int_equal(faults[0].sid, NIC);
	assert_int_equal(faults[0].reason, 5);
	assert_true(faults[0].write);
	assert_false(faults[0].interrupt);
	assert_int_equal(faults[0].addr, 0x12345000);
	assert_ptr_equal(faults[0].domain, d);
	assert_false(vm.unit[1].frcd[2][1] & B(63)); /* cleared */
	assert_int_equal(vtd_units[1].faults_total, 1);
	assert_int_equal(vtd_units[0].faults_total, 0);

	/* the same source ID recorded by the graphics unit: no domain there */
	vm_inject_fault(0, 0, NIC, 0x6, 0x1000, false);
	fault_event(0);
	assert_int_equal(nr_faults, 2);
	assert_null(faults[1].domain);
	assert_false(faults[1].write);
	assert_int_equal(vtd_units[0].faults_total, 1);
	assert_int_equal(vtd_units[1].faults_total, 1);
	ops->domain_destroy(d);
	no_violations();
}

/* A fault-record overflow storm (FSTS.PFO at every event) is logged within the unit's
 * fault-log budget like the fault records themselves: a device cannot flood the console
 * from CPU 0's interrupt. Every overflow is still counted and cleared. */
#define FSTS_PFO_BIT 0x1u
#define OVERFLOW_STORM 200

static void test_fault_overflow_rate_limited(void **state)
{
	int warned;

	(void)state;
	two_units(0, 0);
	shim_warnings_logged = 0;
	for (unsigned i = 0; i < OVERFLOW_STORM; i++) {
		vm.unit[1].fsts |= FSTS_PFO_BIT;
		fault_event(1);
		assert_false(vm.unit[1].fsts & FSTS_PFO_BIT); /* cleared at once */
	}
	warned = shim_warnings_logged;
	assert_int_equal(vtd_units[1].fault_overflows, OVERFLOW_STORM);
	assert_true(warned >= 1);
	assert_true(warned <= 8); /* LOG_PER_WINDOW of vtd_fault.c */
	assert_int_equal(vtd_units[1].faults_unlogged, OVERFLOW_STORM - warned);
	/* the next window says how many were dropped */
	now_us += 2000000;
	vm.unit[1].fsts |= FSTS_PFO_BIT;
	fault_event(1);
	assert_int_equal(shim_warnings_logged, warned + 2);
	assert_non_null(strstr(shim_last_log, "overflowed"));
	assert_int_equal(vtd_units[0].fault_overflows, 0);
	no_violations();
}

/* ---- a unit that does not answer ---- */

static void test_dead_unit(void **state)
{
	struct unit_shape dead = gfx_unit;
	struct iommu_domain *d;
	struct iommu_irq irq;

	(void)state;
	dead.dead = true;
	add_unit(&dead, 0, 0);
	add_unit(&all_unit, all_cap(0), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), 0);
	assert_true(shim_errors_logged > 0);
	assert_false(vtd_units[0].present);
	assert_true(vtd_units[1].present);
	assert_int_equal(vm.stray_writes, 0); /* nothing written where the unit should be */
	/* common capabilities from the live unit alone */
	assert_int_equal(vtd_common_caps.sllps, SLLPS_2M);
	assert_int_equal(vtd_common_caps.nr_domains, 64);

	d = ops->domain_create("gfx");
	assert_non_null(d);
	shim_errors_logged = 0;
	assert_int_equal(ops->attach(d, 0, GFX, GFX), -ENODEV);
	assert_non_null(strstr(shim_last_log, "no remapping unit covers 0000:00:02.0"));
	assert_false(hw_context_present(0 /* model index 0 is the live unit */, GFX));
	assert_int_equal(ops->irq_alloc(0, GFX, GFX, &irq), -ENODEV);
	/* the live unit works */
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);
	assert_true(hw_context_present(0, NIC));
	assert_int_equal(ops->irq_alloc(0, NIC, NIC, &irq), 0);
	assert_int_equal(irq.unit, 1);
	ops->irq_free(&irq);
	ops->domain_destroy(d);
	assert_int_equal(vm.stray_writes, 0);
	no_violations();
}

/* Every unit dead: VT-d is not registered, with a message saying why, and the result is a
 * failure (-EIO), not "no remapping hardware" (-ENODEV): boot fails closed on it. */
static void test_all_units_dead(void **state)
{
	(void)state;
	assert_int_equal(vtd_bringup(), -EIO);
	assert_non_null(strstr(shim_last_log, "none of the 2 remapping units answers"));
	assert_null(ops);
	assert_int_equal(vm.stray_writes, 0);
}

/* No table depth both units can walk: nothing is turned on anywhere. */
static void test_no_common_depth(void **state)
{
	(void)state;
	add_unit(&gfx_unit, vm_cap(2, SAGAW_5L, 0, 0), vm_ecap(ECAP_QI | ECAP_IR));
	add_unit(&all_unit, vm_cap(2, SAGAW_3L, 0, 0), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), -ENODEV);
	assert_int_equal(vm_count(0, VM_EV_TE_ON, -1) + vm_count(1, VM_EV_TE_ON, -1), 0);
	no_violations();
}

/* ---- taking over a unit firmware left on (pre-boot DMA protection) ---- */

/* Firmware left unit 1 translating with its own tables, queue, interrupt remapping (with
 * compatibility format allowed) and PMRs. Translation never goes off: the root table
 * pointer moves to moat's table while TES=1, the context cache and IOTLB are invalidated
 * globally through the registers (firmware's queue is not moat's to use) after the
 * firmware's queue drained and stopped, then moat's queue starts, moat's interrupt table
 * goes in while remapping stays on, and only then do the PMRs go off. */
static void test_takeover_firmware_enabled(void **state)
{
	struct unit_shape fw = all_unit;
	const struct vm_unit *m = &vm.unit[1];
	int srtp, qie_off, reg_cc, reg_iotlb, qie_on, sirtp, iec, pmen_off;

	(void)state;
	fw.gsts = (u32)(B(31) | B(30) | B(26) | B(25) | B(24) | B(23));
	fw.pmen = true;
	add_unit(&gfx_unit, gfx_cap(0), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	add_unit(&fw, all_cap(0), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), 0);
	no_violations(); /* one field per GCMD write, queue drained, switch invalidated */
	assert_non_null(ops);
	assert_true(vtd_units[1].present);

	/* translation and interrupt remapping never went off, and were never turned on anew */
	assert_int_equal(vm_count(1, VM_EV_TE_OFF, -1), 0);
	assert_int_equal(vm_count(1, VM_EV_TE_ON, -1), 0);
	assert_int_equal(vm_count(1, VM_EV_IRE_OFF, -1), 0);
	assert_int_equal(vm_count(1, VM_EV_CFI_ON, -1), 0);
	assert_int_equal(vm_find(1, VM_EV_CFI_OFF, -1, 0), 0); /* compatibility format first */

	/* the root table pointer switched with translation on ... */
	srtp = vm_find(1, VM_EV_SRTP, -1, 0);
	assert_true(srtp >= 0);
	assert_int_equal(m->ev[srtp].b, 1);
	assert_int_equal(m->ev[srtp].a & ~0xfffull, vtd_units[1].root);
	assert_int_equal(vm_count(1, VM_EV_SRTP, -1), 1);
	/* ... then firmware's queue stopped (drained: the model checks), and global context
	 * and IOTLB invalidations through the registers, before moat's queue starts */
	qie_off = vm_find(1, VM_EV_QIE_OFF, -1, 0);
	reg_cc = vm_find(1, VM_EV_REG_CC, -1, 0);
	reg_iotlb = vm_find(1, VM_EV_REG_IOTLB, -1, 0);
	qie_on = vm_find(1, VM_EV_QIE_ON, -1, 0);
	assert_true(qie_off > srtp && reg_cc > qie_off && reg_iotlb > reg_cc && qie_on > reg_iotlb);
	assert_int_equal((m->ev[reg_cc].a >> 61) & 3, 1);    /* CCMD.CIRG global */
	assert_int_equal((m->ev[reg_iotlb].a >> 60) & 3, 1); /* IOTLB.IIRG global */
	assert_int_equal(m->ev[qie_on].a & ~0xfffull, vtd_units[1].iq);
	/* moat's interrupt table while remapping stays on, then the entry cache */
	sirtp = vm_find(1, VM_EV_SIRTP, -1, 0);
	iec = vm_find(1, VM_EV_DESC, D_IEC, 0);
	assert_true(sirtp > qie_on && iec > sirtp);
	assert_int_equal(m->ev[sirtp].b, 1);
	assert_int_equal(m->ev[iec].a & B(4), 0); /* global */
	assert_false(m->sirtp_iec_pending);
	/* PMRs off last, with translation on through moat's tables */
	pmen_off = vm_find(1, VM_EV_PMEN_OFF, -1, 0);
	assert_true(pmen_off > iec && pmen_off > reg_iotlb);
	assert_int_equal(m->ev[pmen_off].a, 1);

	assert_int_equal(m->gsts & (B(31) | B(26) | B(25) | B(23)), B(31) | B(26) | B(25));
	assert_int_equal(m->pmen, 0);
	assert_int_equal(m->rtaddr_latched, vtd_units[1].root);
	assert_int_equal(m->irta_latched & ~0xfffull, vtd_units[1].irt);
	assert_false(m->srtp_cc_pending || m->srtp_iotlb_pending);
	/* the unit firmware left off came up the usual way */
	assert_int_equal(vm_count(0, VM_EV_TE_ON, -1), 1);
	assert_true(ops->irq_remapping());
}

/* Firmware's queue holds work that never completes: moat waits a bounded time, says so,
 * and does not use the unit; translation stays on (through moat's empty root table, so
 * nothing behind it is let through), and the queue is not stopped under the hardware. */
static void test_takeover_queue_never_drains(void **state)
{
	struct unit_shape fw = all_unit;
	struct vm_unit_cfg c;
	struct iommu_domain *d;
	u64 t0;

	(void)state;
	fw.gsts = (u32)(B(31) | B(30) | B(26));
	add_unit(&gfx_unit, gfx_cap(0), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	c = (struct vm_unit_cfg){.base = fw.base,
				 .cap = all_cap(0),
				 .ecap = vm_ecap(ECAP_QI | ECAP_IR),
				 .gsts = fw.gsts,
				 .fw_queue_stuck = true};
	assert_true(vm_unit_add(&c) >= 0);
	t0 = now_us;
	shim_errors_logged = 0;
	assert_int_equal(vtd_bringup(), 0); /* the other unit works */
	assert_true(now_us - t0 >= VTD_WAIT_US);
	assert_true(now_us - t0 < 4 * VTD_WAIT_US);
	assert_true(shim_errors_logged >= 1);
	assert_non_null(strstr(shim_first_error,
			       "unit 1: the invalidation queue found enabled does "
			       "not drain (IQH 0, IQT 0x10"));
	assert_false(vtd_units[1].present);
	assert_true(vtd_units[0].present);
	assert_int_equal(vm_count(1, VM_EV_TE_OFF, -1), 0);
	assert_int_equal(vm_count(1, VM_EV_QIE_OFF, -1), 0);
	assert_true(vm.unit[1].gsts & B(31));
	assert_true(vm.unit[1].gsts & B(26));
	assert_int_equal(vm.unit[1].rtaddr_latched, vtd_units[1].root);
	/* a device behind it is not given a domain there */
	d = ops->domain_create("nic");
	assert_int_equal(ops->attach(d, 0, NIC, NIC), -ENODEV);
	ops->domain_destroy(d);
	no_violations();
}

/* The test hook moat's emulator runs use (vtd_test_fw_enabled): both units are left
 * translating through an empty root table with a queue and interrupt remapping, as
 * pre-boot DMA protection would; bring-up then takes each over without translation ever
 * going off, onto a root table of its own. */
static void test_takeover_from_test_hook(void **state)
{
	(void)state;
	cmdline_word = "vtd_test_fw_enabled";
	two_units(0, 0);
	no_violations();
	for (int u = 0; u < 2; u++) {
		const struct vm_unit *m = &vm.unit[u];
		int te = vm_find(u, VM_EV_TE_ON, -1, 0), hook_srtp = vm_find(u, VM_EV_SRTP, -1, 0);
		int srtp = vm_find(u, VM_EV_SRTP, -1, (unsigned)te + 1);

		assert_true(hook_srtp >= 0 && te > hook_srtp);
		assert_int_equal(m->ev[hook_srtp].b, 0);
		assert_int_equal(vm_count(u, VM_EV_TE_ON, -1), 1); /* the hook's, never again */
		assert_int_equal(vm_count(u, VM_EV_TE_OFF, -1), 0);
		assert_int_equal(vm_count(u, VM_EV_IRE_ON, -1), 1);
		assert_int_equal(vm_count(u, VM_EV_IRE_OFF, -1), 0);
		assert_int_equal(vm_count(u, VM_EV_QIE_ON, -1), 2); /* the hook's, then moat's */
		assert_true(srtp > te);
		assert_int_equal(m->ev[srtp].b, 1);
		assert_int_equal(m->ev[srtp].a & ~0xfffull, vtd_units[u].root);
		assert_int_not_equal(m->ev[hook_srtp].a & ~0xfffull, vtd_units[u].root);
		assert_int_equal(m->gsts & (B(31) | B(26) | B(25) | B(23)), B(31) | B(26) | B(25));
		assert_int_equal(m->irta_latched & ~0xfffull, vtd_units[u].irt);
		assert_true(vtd_units[u].present);
	}
	assert_true(ops->irq_remapping());
	/* the hook's pages stay allocated, as firmware's would: the test frees them */
	for (int u = 0; u < 2; u++) {
		const struct vm_event *ev = vm.unit[u].ev;

		page_free(ev[vm_find(u, VM_EV_SRTP, -1, 0)].a & ~0xfffull);
		page_free(ev[vm_find(u, VM_EV_QIE_ON, -1, 0)].a & ~0xfffull);
		page_free(ev[vm_find(u, VM_EV_DESC, D_WAIT, 0)].b & ~0xfffull);
		page_free(ev[vm_find(u, VM_EV_SIRTP, -1, 0)].a & ~0xfffull);
	}
}

/* PMRs firmware left on without translation stay on until translation through moat's
 * tables is on: turning them off first would open the protected range. */
static void test_pmr_off_after_translation(void **state)
{
	struct unit_shape fw = all_unit;
	int te, pmen_off;

	(void)state;
	fw.pmen = true;
	add_unit(&gfx_unit, gfx_cap(0), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	add_unit(&fw, all_cap(0), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), 0);
	te = vm_find(1, VM_EV_TE_ON, -1, 0);
	pmen_off = vm_find(1, VM_EV_PMEN_OFF, -1, 0);
	assert_true(te >= 0 && pmen_off > te);
	assert_int_equal(vm.unit[1].ev[pmen_off].a, 1);
	assert_int_equal(vm.unit[1].pmen, 0);
	no_violations();
}

/* ---- interrupt remapping: the entry lives in the device's unit's table ---- */

static void test_irte_in_device_unit(void **state)
{
	struct iommu_irq_cfg cfg = {.dest_apic_id = 1, .vector = 0x55};
	struct iommu_irq gi, ni;
	const struct vtd_qword2 *irt;
	u16 seg = 0xffff, sid;

	(void)state;
	two_units(0, 0);
	assert_int_equal(ops->irq_alloc(0, GFX, GFX, &gi), 0);
	assert_int_equal(ops->irq_alloc(0, NIC, NIC, &ni), 0);
	assert_int_equal(gi.unit, 0);
	assert_int_equal(ni.unit, 1);
	vm_clear_events();
	assert_int_equal(ops->irq_program(&gi, &cfg), 0);
	irt = (const struct vtd_qword2 *)(uintptr_t)(vm.unit[0].irta_latched & ~0xfffull);
	assert_true(irt[gi.index].lo & 1);
	assert_int_equal((irt[gi.index].lo >> 16) & 0xff, 0x55);
	assert_int_equal(irt[gi.index].hi & 0xffff, GFX);
	assert_int_equal(vm_count(0, VM_EV_DESC, D_IEC), 1);
	assert_int_equal(vm_count(1, VM_EV_DESC, -1), 0);
	irt = (const struct vtd_qword2 *)(uintptr_t)(vm.unit[1].irta_latched & ~0xfffull);
	for (unsigned i = 0; i < 256; i++)
		assert_false(irt[i].lo & 1);

	vm_clear_events();
	assert_int_equal(ops->irq_program(&ni, &cfg), 0);
	assert_int_equal(irt[ni.index].hi & 0xffff, NIC);
	assert_int_equal(vm_count(1, VM_EV_DESC, D_IEC), 1);
	assert_int_equal(vm_count(0, VM_EV_DESC, -1), 0);

	/* the IOAPIC in the INCLUDE_PCI_ALL unit's scope */
	assert_int_equal(ops->ioapic_sid(2, &seg, &sid), 0);
	assert_int_equal(seg, 0);
	assert_int_equal(sid, PCI_RID(0xf0, 0x1f, 0));
	ops->irq_free(&gi);
	ops->irq_free(&ni);
	no_violations();
}

/* ---- a second PCI segment with its own INCLUDE_PCI_ALL unit ---- */

static void test_second_segment(void **state)
{
	const struct unit_shape seg1 = {SEG1_BASE, 0, false, false};
	struct iommu_domain *d;
	struct iommu_irq irq;

	(void)state;
	build_dmar(true);
	add_unit(&gfx_unit, gfx_cap(0), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	add_unit(&all_unit, all_cap(0), vm_ecap(ECAP_QI | ECAP_IR));
	add_unit(&seg1, all_cap(0), vm_ecap(ECAP_QI | ECAP_IR));
	assert_int_equal(vtd_bringup(), 0);
	assert_int_equal(vtd_units[2].segment, 1);
	assert_true(vtd_units[2].present);
	d = ops->domain_create("seg1");
	vm_clear_events();
	/* 0001:00:02.0 is not the graphics device of segment 0 */
	assert_int_equal(ops->attach(d, 1, GFX, GFX), 0);
	assert_non_null(strstr(shim_last_log, "0001:00:02.0 attached")); /* not ambiguous */
	assert_true(hw_context_present(2, GFX));
	assert_false(hw_context_present(0, GFX));
	assert_false(hw_context_present(1, GFX));
	assert_int_equal(vm_count(0, VM_EV_DESC, -1) + vm_count(1, VM_EV_DESC, -1), 0);
	assert_int_equal(descs_for_sid(2, D_CC, GFX), 1);
	assert_int_equal(ops->irq_alloc(1, NIC, NIC, &irq), 0);
	assert_int_equal(irq.unit, 2);
	ops->irq_free(&irq);

	/* a fault on segment 1's unit carries segment 1 and segment 1's domain */
	vm_inject_fault(2, 0, GFX, 0x5, 0x2000, true);
	fault_event(2);
	assert_non_null(strstr(shim_last_log, "write by 0001:00:02.0 (domain seg1)"));
	assert_int_equal(nr_faults, 1);
	assert_int_equal(faults[0].segment, 1);
	assert_ptr_equal(faults[0].domain, d);
	assert_int_equal(ops->detach(d, 1, GFX), 0);
	assert_false(hw_context_present(2, GFX));
	/* segment 0's 00:02.0 was never attached */
	assert_int_equal(ops->detach(d, 0, GFX), -ENOENT);
	ops->domain_destroy(d);
	no_violations();
}

/* ---- a unit without queued invalidation: register-based invalidation on every unit ---- */

static void test_register_invalidation(void **state)
{
	struct iommu_domain *d;
	int i;

	(void)state;
	add_unit(&gfx_unit, gfx_cap(0), vm_ecap(ECAP_QI | ECAP_IR | ECAP_EIM));
	add_unit(&all_unit, all_cap(0), vm_ecap(0)); /* no QI, so no IR either */
	assert_int_equal(vtd_bringup(), 0);
	assert_false(vtd_common_caps.qi);
	assert_false(vtd_common_caps.ir);
	assert_false(ops->irq_remapping());
	for (int u = 0; u < 2; u++) {
		assert_int_equal(vm_count(u, VM_EV_QIE_ON, -1) + vm_count(u, VM_EV_IRE_ON, -1), 0);
		assert_true(vm_find(u, VM_EV_REG_IOTLB, -1, 0) < vm_find(u, VM_EV_TE_ON, -1, 0));
		assert_true(vm_find(u, VM_EV_REG_CC, -1, 0) >= 0);
	}
	d = ops->domain_create("reg");
	vm_clear_events();
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);
	assert_true(hw_context_present(1, NIC));
	i = vm_find(1, VM_EV_REG_CC, -1, 0);
	assert_true(i >= 0);
	/* CCMD: device-selective (CIRG 3), the source ID and domain */
	assert_int_equal((vm.unit[1].ev[i].a >> 61) & 3, 3);
	assert_int_equal((u16)(vm.unit[1].ev[i].a >> 16), NIC);
	assert_int_equal((u16)vm.unit[1].ev[i].a, domain_did(d));
	assert_int_equal(vm_count(1, VM_EV_REG_IOTLB, -1), 1);
	assert_int_equal(vm.unit[0].nr_ev, 0);
	assert_int_equal(ops->map(d, 0x200000, 0x40000000, 0x1000, IOMMU_RW), 0);
	vm_clear_events();
	assert_int_equal(ops->unmap(d, 0x200000, 0x1000), 0);
	for (int u = 0; u < 2; u++) {
		/* IOTLB register at ECAP.IRO: page-selective (IIRG 3), the domain, IVA = page */
		i = vm_find(u, VM_EV_REG_IOTLB, -1, 0);
		assert_true(i >= 0);
		assert_int_equal((vm.unit[u].ev[i].a >> 60) & 3, 3);
		assert_int_equal((u16)(vm.unit[u].ev[i].a >> 32), domain_did(d));
		assert_int_equal(vm.unit[u].ev[i].b & ~0xfffull, 0x200000);
	}
	ops->domain_destroy(d);
	no_violations();
}

/* ---- RMRR of the graphics device, under the graphics unit ---- */

static void test_rmrr_on_dedicated_unit(void **state)
{
	struct iommu_domain *d;
	u64 pa;
	u32 prot;

	(void)state;
	ab_dmar(&table, 46, 1);
	ab_drhd(&table, 0, 0, GFX_BASE);
	ab_scope(&table, DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0);
	ab_drhd(&table, 1, 0, ALL_BASE);
	ab_rmrr(&table, 0, 0x3c000000, 0x3c3fffff); /* graphics stolen memory */
	ab_scope(&table, DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0);
	dmar_table = ab_finish(&table);
	two_units(0, 0);
	d = ops->domain_create("gfx");
	assert_int_equal(ops->attach(d, 0, GFX, GFX), 0);
	assert_true(hw_context_present(0, GFX));
	assert_int_equal(ops->lookup(d, 0x3c200000, &pa, &prot), 0);
	assert_int_equal(pa, 0x3c200000);
	/* a device without the RMRR gets nothing there */
	ops->domain_destroy(d);
	d = ops->domain_create("nic");
	assert_int_equal(ops->attach(d, 0, NIC, NIC), 0);
	assert_int_not_equal(ops->lookup(d, 0x3c200000, &pa, &prot), 0);
	ops->domain_destroy(d);
	no_violations();
}

/* ---- a VF covered through its PF's scope on a dedicated unit ---- */

/* DRHD 0 names the PF 01:00.0 (its VFs come with it, VT-d 8.3.1); DRHD 1 is INCLUDE_PCI_ALL.
 * The VF 01:10.0 is attached on the PF's unit; detaching it (which knows only the VF's
 * source ID) and destroying the domain must clear that unit's entry, not look on the
 * INCLUDE_PCI_ALL unit, or the hardware keeps walking freed tables. */
static void test_vf_on_pf_unit_detach(void **state)
{
	const u16 pf = PCI_RID(1, 0, 0), vf = PCI_RID(1, 0x10, 0);
	struct iommu_domain *d;

	(void)state;
	ab_dmar(&table, 46, 1);
	ab_drhd(&table, 0, 0, GFX_BASE);
	ab_scope(&table, DMAR_SCOPE_ENDPOINT, 0, 1, 0, 0);
	ab_drhd(&table, 1, 0, ALL_BASE);
	dmar_table = ab_finish(&table);
	two_units(0, 0);
	d = ops->domain_create("vf");
	assert_int_equal(ops->attach(d, 0, vf, pf), 0);
	assert_true(hw_context_present(0, vf));
	assert_false(hw_context_present(1, vf));
	vm_clear_events();
	assert_int_equal(ops->detach(d, 0, vf), 0);
	assert_false(hw_context_present(0, vf));
	assert_int_equal(descs_for_sid(0, D_CC, vf), 1);
	assert_int_equal(ops->detach(d, 0, vf), -ENOENT);

	assert_int_equal(ops->attach(d, 0, vf, pf), 0);
	ops->domain_destroy(d);
	assert_false(hw_context_present(0, vf));
	no_violations();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bringup_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_common_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_picks_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_unmap_invalidate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_reports_any_unit_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_attributed_to_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_overflow_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_units_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_common_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_firmware_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_queue_never_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmr_off_after_translation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_from_test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irte_in_device_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmrr_on_dedicated_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vf_on_pf_unit_detach, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
