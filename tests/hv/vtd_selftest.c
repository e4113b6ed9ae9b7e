/* VT-d self-tests (suite "vtd") with QEMU's edu devices (FACTS.md section 7): DMA through
 * moat's own tables, isolation between domains, unmap, interrupt remapping with source-ID
 * verification. Every isolation claim is an attack that must fail. */
#define LOG_TAG "vtd"
#include <moat/boot_steps.h>
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/pci_group.h>
#include <moat/pmm.h>
#include "tests/hv/selftest.h"
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "iommu/vtd_drv.h"
#include "core/end.h"
#include "vmm/guest.h"
#include "vmm/vmm.h"
#include "tests/hv/transient.h"

/* edu (QEMU hw/misc/edu.c) */
#define EDU_RAISE_IRQ 0x60
#define EDU_ACK_IRQ 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START BIT(0)
#define EDU_CMD_TO_RAM BIT(1)
#define EDU_DMA_BUF 0x40000 /* device-side address of its 4 KiB buffer */
#define EDU_DMA_US 2000000

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

/* MSI capability */
#define MSI_CTRL 0x2
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_ADDR_LO 0x4
#define MSI_ADDR_HI 0x8
#define MSI_DATA_32 0x8
#define MSI_DATA_64 0xc

#define IOVA_BASE 0x7e000000ull /* far from any RAM page address the tests use */
#define PATTERN_PAGES 6

struct edu {
	struct pci_dev *pdev;
	u16 sid; /* the requester ID its DMA carries (a bridge's alias behind one) */
	u64 bar;
	u8 msi_cap;
	struct iommu_domain *dom;
};

static struct {
	bool tried, ok;
	bool shared_group; /* both edus in one isolation group: one domain for both */
	unsigned nr_edu;
	struct edu edu[2];
	u64 page[PATTERN_PAGES];
	volatile u64 irq_count;
	volatile u64 irq_vector;
} st;

/* ---- interrupts ---- */

/* Waits with interrupts open (fault events and MSIs are taken meanwhile). */
#define WAIT_IRQ_ON(cond, us)                                                                      \
	({                                                                                         \
		bool __r;                                                                          \
		irq_enable();                                                                      \
		__r = WAIT_US(cond, us);                                                           \
		irq_disable();                                                                     \
		__r;                                                                               \
	})

static void test_irq(struct trap_frame *f, void *ctx)
{
	(void)ctx;
	st.irq_vector = f->vector;
	st.irq_count++;
}

static u32 bsp_apic_id(void)
{
	return apic_id();
}

/* ---- edu ---- */

static void edu_dma_start(const struct edu *e, u64 iova, bool to_ram, u32 len)
{
	u64 b = e->bar;

	mmio_write64(b + EDU_DMA_SRC, to_ram ? EDU_DMA_BUF : iova);
	mmio_write64(b + EDU_DMA_DST, to_ram ? iova : EDU_DMA_BUF);
	mmio_write64(b + EDU_DMA_COUNT, len);
	mmio_write64(b + EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
}

static bool edu_dma_busy(const struct edu *e)
{
	return mmio_read64(e->bar + EDU_DMA_CMD) & EDU_CMD_START;
}

static int edu_dma_timeout(const struct edu *e)
{
	return pr_err(-ETIMEDOUT, "edu %02x:%02x.%x: DMA did not finish\n", PCI_RID_BUS(e->sid),
		      PCI_RID_DEV(e->sid), PCI_RID_FN(e->sid));
}

/* One DMA with interrupts open, so its fault event (if any) is handled before return. */
static int edu_dma(const struct edu *e, u64 iova, bool to_ram, u32 len)
{
	edu_dma_start(e, iova, to_ram, len);
	if (!WAIT_IRQ_ON(!edu_dma_busy(e), EDU_DMA_US))
		return edu_dma_timeout(e);
	/* Let a fault event raised by the DMA arrive. */
	WAIT_IRQ_ON(false, 2000);
	return 0;
}

/* One DMA with interrupts closed: a fault stays in its recording register. */
static int edu_dma_irqs_off(const struct edu *e, u64 iova, bool to_ram, u32 len)
{
	edu_dma_start(e, iova, to_ram, len);
	return WAIT_US(!edu_dma_busy(e), EDU_DMA_US) ? 0 : edu_dma_timeout(e);
}

static void edu_msi_program(const struct edu *e, u32 addr, u32 data)
{
	u16 ctrl = pci_read16(e->pdev, e->msi_cap + MSI_CTRL);

	pci_write16(e->pdev, e->msi_cap + MSI_CTRL, ctrl & ~(u16)MSI_CTRL_ENABLE);
	pci_write32(e->pdev, e->msi_cap + MSI_ADDR_LO, addr);
	if (e->pdev->msi_64bit) {
		pci_write32(e->pdev, e->msi_cap + MSI_ADDR_HI, 0);
		pci_write16(e->pdev, e->msi_cap + MSI_DATA_64, (u16)data);
	} else {
		pci_write16(e->pdev, e->msi_cap + MSI_DATA_32, (u16)data);
	}
	pci_write16(e->pdev, e->msi_cap + MSI_CTRL, ctrl | MSI_CTRL_ENABLE);
}

static void edu_raise(const struct edu *e)
{
	mmio_write32(e->bar + EDU_RAISE_IRQ, 1);
	WAIT_IRQ_ON(false, 5000);
	mmio_write32(e->bar + EDU_ACK_IRQ, 1);
}

/* The requester ID a function's DMA arrives with: behind a PCIe-to-PCI or conventional
 * bridge the first alias (pci_dma_aliases), otherwise its own. */
static u16 wire_sid(const struct pci_dev *d)
{
	u16 rids[4];

	return pci_dma_aliases(d, rids, 4) > 1 ? rids[1] : d->rid;
}

/* The edu devices become the hypervisor's test devices. */
static void find_edus(void)
{
	struct pci_dev *d = NULL;

	while (st.nr_edu < 2 && (d = pci_find_device(EDU_VENDOR, EDU_DEVICE, d))) {
		struct edu *e = &st.edu[st.nr_edu];

		/* One under a unit that does not answer stays stopped (vtd: dead-unit-isolated). */
		if (!d->bar[0].base || d->bar[0].type != PCI_BAR_MEM32 || !iommu_pci_covered(d) ||
		    pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0))
			continue;
		e->pdev = d;
		e->sid = wire_sid(d);
		e->bar = d->bar[0].base;
		e->msi_cap = d->cap_msi;
		pci_write16(d, PCI_COMMAND,
			    pci_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				    PCI_COMMAND_INTX_DISABLE);
		st.nr_edu++;
	}
}

static bool setup(struct st_ctx *ctx, unsigned need_edu)
{
	static const char *const names[] = {"edu-a", "edu-b"};

	if (!iommu_present()) {
		st_skip(ctx, "no VT-d remapping hardware (no DMAR table)");
		return false;
	}
	if (!st.tried) {
		st.tried = true;
		/* Faults left by earlier activity would occupy the recording registers. */
		for (unsigned i = 0; i < vtd_nr_units; i++)
			if (vtd_units[i].present)
				vtd_fault_drain(&vtd_units[i]);
		find_edus();
		for (unsigned i = 0; i < PATTERN_PAGES; i++)
			if (!(st.page[i] = page_alloc()))
				return false;
		st.shared_group = st.nr_edu == 2 &&
				  pci_group_of(st.edu[0].pdev) == pci_group_of(st.edu[1].pdev);
		for (unsigned i = 0; i < st.nr_edu; i++) {
			st.edu[i].dom = st.shared_group && i ? st.edu[0].dom
							     : iommu_domain_create(names[i]);
			if (!st.edu[i].dom || iommu_attach_pci(st.edu[i].dom, st.edu[i].pdev))
				return false;
		}
		st.ok = true;
	}
	if (!st.ok) {
		CHECK(ctx, st.ok, "edu test setup failed");
		return false;
	}
	if (st.nr_edu < need_edu) {
		st_skip(ctx, "needs %u edu devices, this machine has %u (topology two-edu)",
			need_edu, st.nr_edu);
		return false;
	}
	if (need_edu == 2 && st.shared_group) {
		st_skip(ctx,
			"the two edu devices share isolation group %u (%s): one domain serves "
			"both (vtd: group-domain-confines-dma)",
			pci_group_of(st.edu[0].pdev)->id, pci_group_of(st.edu[0].pdev)->reason);
		return false;
	}
	return true;
}

static void fill(u64 pa, u8 v)
{
	memset((void *)(uintptr_t)pa, v, PAGE_SIZE);
}

static bool page_is(u64 pa, u8 v)
{
	const u8 *p = (const u8 *)(uintptr_t)pa;

	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Expects exactly one new DMA fault of `reason` from `e` at `addr`, counted against e's
 * domain and announced by a fault event interrupt. */
static void check_dma_fault(struct st_ctx *ctx, const struct edu *e, u64 faults_before,
			    u64 irqs_before, u8 reason, u64 addr)
{
	struct iommu_fault f;
	bool got = vtd_fault_last(&f);

	CHECK(ctx, got, "no fault recorded");
	if (got) {
		CHECK(ctx, f.reason == reason, "reason %#x (%s), expected %#x", f.reason,
		      f.reason_name, reason);
		CHECK(ctx, f.sid == e->sid, "source %04x, expected %04x", f.sid, e->sid);
		CHECK(ctx, f.addr == addr, "address %#llx, expected %#llx",
		      (unsigned long long)f.addr, (unsigned long long)addr);
		CHECK(ctx, f.domain == e->dom, "owner %s, expected %s", iommu_domain_name(f.domain),
		      iommu_domain_name(e->dom));
	}
	CHECK(ctx, iommu_domain_faults(e->dom) == faults_before + 1,
	      "domain fault count %llu, expected %llu",
	      (unsigned long long)iommu_domain_faults(e->dom),
	      (unsigned long long)faults_before + 1);
	CHECK(ctx, vtd_fault_interrupts() > irqs_before, "no fault event interrupt arrived");
}

/* ---- DMA default-deny: a function moat keeps without giving it DMA reaches nothing ---- */

/* A page of moat's own image that no device may write. */
static u8 image_canary[PAGE_SIZE] __aligned(PAGE_SIZE);

static struct {
	const struct edu *e;
	u64 target;
} deny;

static u64 dma_faults_of(const struct pci_dev *d)
{
	return __atomic_load_n(&d->dma_faults, __ATOMIC_RELAXED);
}

/* Before the guest's first instruction: the edu's write into its last RAM page (one of its
 * canaries) starts, and lands (or not) while the guest runs. */
static void deny_dma_into_guest(struct vcpu *v)
{
	deny.target = v->guest->ram_hpa + v->guest->ram_size - PAGE_SIZE;
	edu_dma_start(deny.e, deny.target, true, PAGE_SIZE);
}

/* Faults raised while the guest ran on this CPU wait in the recording registers. */
static void deny_drain_faults(void)
{
	WAIT_IRQ_ON(false, 2000);
	for (unsigned i = 0; i < vtd_nr_units; i++)
		if (vtd_units[i].present)
			vtd_fault_drain(&vtd_units[i]);
}

/* The edu, as firmware may leave a device (memory decode and bus mastering on) and owned
 * by nobody, writes into moat's image and into a running guest's RAM: both blocked, both
 * reported against the edu's source ID, the image's and the guest's canaries intact. */
SELFTEST_ORDER(vtd_unowned_dma_blocked, "vtd", "unowned-dma-blocked", 60)
{
	struct edu e = {0};
	struct guest g;
	u64 before;
	int err;

	if (!iommu_present()) {
		st_skip(ctx, "no VT-d remapping hardware (no DMAR table)");
		return;
	}
	if (!vmm_be) {
		st_skip(ctx, "no virtualization backend on this CPU");
		return;
	}
	for (struct pci_dev *d = NULL; (d = pci_find_device(EDU_VENDOR, EDU_DEVICE, d));)
		if (d->bar[0].base && d->bar[0].type == PCI_BAR_MEM32 && iommu_pci_covered(d) &&
		    d->owner.kind == PCI_OWNER_NONE && !d->parent) {
			e.pdev = d;
			break;
		}
	if (!e.pdev) {
		st_skip(ctx, "no edu device on a root bus owned by nobody");
		return;
	}
	e.sid = e.pdev->rid;
	e.bar = e.pdev->bar[0].base;
	deny.e = &e;
	pci_write16(e.pdev, PCI_COMMAND,
		    pci_read16(e.pdev, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			    PCI_COMMAND_INTX_DISABLE);
	deny_drain_faults();

	memset(image_canary, 0xc5, sizeof(image_canary));
	before = dma_faults_of(e.pdev);
	CHECK(ctx, !edu_dma(&e, (u64)(uintptr_t)image_canary, true, PAGE_SIZE),
	      "device -> moat's image");
	deny_drain_faults();
	CHECK(ctx, page_is((u64)(uintptr_t)image_canary, 0xc5),
	      "the edu wrote into moat's image at %#llx",
	      (unsigned long long)(uintptr_t)image_canary);
	CHECK(ctx, dma_faults_of(e.pdev) > before,
	      "no fault reported against %04x:%02x:%02x.%x for its write into moat's image",
	      e.pdev->seg, e.pdev->bus, e.pdev->dev, e.pdev->fn);

	before = dma_faults_of(e.pdev);
	err = vmm_run_transient("spin", "misbehave", 1000 * 1000, deny_dma_into_guest, &g);
	CHECK(ctx, WAIT_US(!edu_dma_busy(&e), EDU_DMA_US),
	      "the DMA during the guest's run did "
	      "not finish");
	deny_drain_faults();
	/* vmm_run_transient checks the guest's canaries (its last RAM page among them). */
	CHECK(ctx, err == 0, "guest spin (RAM %#llx): %d: the edu's write reached its RAM at %#llx",
	      (unsigned long long)g.ram_hpa, err, (unsigned long long)deny.target);
	CHECK(ctx, g.state == GUEST_STOPPED && g.stop_exit == VMM_EXIT_WATCHDOG,
	      "guest spin did not run until its watchdog: %s", g.stop_reason);
	CHECK(ctx, dma_faults_of(e.pdev) > before,
	      "no fault reported against %04x:%02x:%02x.%x for its write into guest RAM",
	      e.pdev->seg, e.pdev->bus, e.pdev->dev, e.pdev->fn);
	pci_write16(e.pdev, PCI_COMMAND,
		    pci_read16(e.pdev, PCI_COMMAND) & (u16) ~(PCI_COMMAND_MASTER));
}

/* A DMAR whose units could not be set up at all (qemu-uefi-iommu-broken) is a failed boot
 * step, judged by the refusals it causes: the tests of working units skip, saying so. */
static bool iommu_step_failed(struct st_ctx *ctx)
{
	int err = boot_step_error(BOOT_STEP_IOMMU);

	if (!err || err == -ENODEV)
		return false;
	st_skip(ctx, "the IOMMU boot step failed (%d): guests with devices are refused for it",
		err);
	return true;
}

SELFTEST_ORDER(vtd_dmar_present, "vtd", "dmar-present", 61)
{
	if (!vtd_dmar.nr_drhd) {
		st_skip(ctx, "no ACPI DMAR table: this machine has no VT-d (Bochs; QEMU without "
			     "intel-iommu)");
		return;
	}
	if (iommu_step_failed(ctx))
		return;
	CHECK(ctx, iommu_present(), "DMAR has %u DRHDs but no unit was enabled", vtd_dmar.nr_drhd);
	CHECK(ctx, vtd_dmar.nr_bad == 0, "%u malformed DMAR structures", vtd_dmar.nr_bad);
}

SELFTEST_ORDER(vtd_units_enabled, "vtd", "units-enabled", 62)
{
	/* Interrupt remapping only where every unit offers it (ECAP.IR). */
	const u32 want = VTD_GCMD_TE | VTD_GCMD_SRTP | VTD_GCMD_QIE |
			 (vtd_common_caps.ir ? VTD_GCMD_IRE | VTD_GCMD_SIRTP : 0);

	if (!iommu_present()) {
		st_skip(ctx, "no VT-d remapping hardware (no DMAR table)");
		return;
	}
	for (unsigned i = 0; i < vtd_nr_units; i++) {
		const struct vtd_unit *u = &vtd_units[i];
		u32 gsts;

		/* A unit nothing answers for is reported at boot (vtd: dead-unit-isolated). */
		if (u->dead)
			continue;
		gsts = vtd_read32(u, VTD_GSTS);
		CHECK(ctx, u->present, "unit %u not enabled", i);
		CHECK(ctx, (gsts & want) == want, "unit %u: GSTS %#x lacks %#x", i, gsts,
		      want & ~gsts);
		CHECK(ctx, !(gsts & VTD_GCMD_CFI), "unit %u: compatibility format allowed", i);
		CHECK(ctx, (vtd_read64(u, VTD_RTADDR) & VTD_RTADDR_RTA) == u->root,
		      "unit %u: RTADDR %#llx", i, (unsigned long long)vtd_read64(u, VTD_RTADDR));
	}
}

SELFTEST_ORDER(vtd_dma_roundtrip, "vtd", "dma-ram-device-ram", 63)
{
	struct edu *a = &st.edu[0];
	u64 src = IOVA_BASE, dst = IOVA_BASE + PAGE_SIZE, faults;

	if (!setup(ctx, 1))
		return;
	faults = iommu_domain_faults(a->dom);
	fill(st.page[0], 0x5a);
	fill(st.page[1], 0x00);
	CHECK(ctx, !iommu_map(a->dom, src, st.page[0], PAGE_SIZE, IOMMU_READ), "map source");
	CHECK(ctx, !iommu_map(a->dom, dst, st.page[1], PAGE_SIZE, IOMMU_WRITE), "map destination");
	/* The IOVAs are not the pages' addresses: only translation can make this work. */
	CHECK(ctx, src != st.page[0] && dst != st.page[1], "IOVA equals physical address");
	CHECK(ctx, !edu_dma(a, src, false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, page_is(st.page[1], 0x5a), "data did not arrive (first byte %#x)",
	      *(u8 *)(uintptr_t)st.page[1]);
	CHECK(ctx, iommu_domain_faults(a->dom) == faults, "unexpected fault");
	iommu_unmap(a->dom, src, 2 * PAGE_SIZE);
}

SELFTEST_ORDER(vtd_dma_unmapped_write, "vtd", "dma-write-unmapped-blocked", 64)
{
	struct edu *a = &st.edu[0];
	u64 canary = st.page[2], faults, irqs;

	if (!setup(ctx, 1))
		return;
	fill(canary, 0xcc);
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	/* Aimed at the canary's physical address: without remapping it would land there. */
	CHECK(ctx, !edu_dma(a, canary, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, page_is(canary, 0xcc), "canary page was overwritten");
	check_dma_fault(ctx, a, faults, irqs, 0x5, canary);
}

SELFTEST_ORDER(vtd_dma_unmapped_read, "vtd", "dma-read-unmapped-blocked", 65)
{
	struct edu *a = &st.edu[0];
	u64 secret = st.page[2], out = IOVA_BASE + 2 * PAGE_SIZE, faults, irqs;

	if (!setup(ctx, 1))
		return;
	fill(secret, 0x3c);
	fill(st.page[3], 0x00);
	CHECK(ctx, !iommu_map(a->dom, out, st.page[3], PAGE_SIZE, IOMMU_WRITE), "map");
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	CHECK(ctx, !edu_dma(a, secret, false, PAGE_SIZE), "RAM -> device");
	check_dma_fault(ctx, a, faults, irqs, 0x6, secret);
	/* What the device got instead of the secret, copied out where we can see it. */
	CHECK(ctx, !edu_dma(a, out, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, *(u8 *)(uintptr_t)st.page[3] != 0x3c && !page_is(st.page[3], 0x3c),
	      "the device read the unmapped secret page");
	iommu_unmap(a->dom, out, PAGE_SIZE);
}

SELFTEST_ORDER(vtd_cross_domain, "vtd", "cross-domain-isolation", 66)
{
	struct edu *a = &st.edu[0], *b = &st.edu[1];
	u64 iova = IOVA_BASE + 3 * PAGE_SIZE, bpage = st.page[4], faults, irqs;

	if (!setup(ctx, 2))
		return;
	fill(bpage, 0xbb);
	CHECK(ctx, !iommu_map(b->dom, iova, bpage, PAGE_SIZE, IOMMU_RW), "map in B");
	/* B's own device reaches it: the page is mapped and the path works. */
	CHECK(ctx, !edu_dma(b, iova, false, PAGE_SIZE), "B: RAM -> device");
	/* A aims at the same IOVA: its domain does not map it. */
	fill(st.page[5], 0xaa);
	CHECK(ctx, !iommu_map(a->dom, IOVA_BASE, st.page[5], PAGE_SIZE, IOMMU_READ), "map A src");
	CHECK(ctx, !edu_dma(a, IOVA_BASE, false, PAGE_SIZE), "A: RAM -> device");
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	CHECK(ctx, !edu_dma(a, iova, true, PAGE_SIZE), "A: device -> RAM");
	CHECK(ctx, page_is(bpage, 0xbb), "edu A wrote into domain B's page");
	check_dma_fault(ctx, a, faults, irqs, 0x5, iova);
	/* Once A's domain maps the page, the same DMA lands. */
	CHECK(ctx, !iommu_map(a->dom, iova, bpage, PAGE_SIZE, IOMMU_WRITE), "map in A");
	CHECK(ctx, !edu_dma(a, iova, true, PAGE_SIZE), "A: device -> RAM after map");
	CHECK(ctx, page_is(bpage, 0xaa), "edu A's data did not arrive after mapping");
	iommu_unmap(a->dom, iova, PAGE_SIZE);
	iommu_unmap(a->dom, IOVA_BASE, PAGE_SIZE);
	iommu_unmap(b->dom, iova, PAGE_SIZE);
}

SELFTEST_ORDER(vtd_unmap_blocks, "vtd", "unmap-blocks-next-dma", 67)
{
	struct edu *a = &st.edu[0];
	u64 src = IOVA_BASE, dst = IOVA_BASE + PAGE_SIZE, faults, irqs;

	if (!setup(ctx, 1))
		return;
	fill(st.page[0], 0x11);
	fill(st.page[1], 0x00);
	CHECK(ctx, !iommu_map(a->dom, src, st.page[0], PAGE_SIZE, IOMMU_READ), "map source");
	CHECK(ctx, !iommu_map(a->dom, dst, st.page[1], PAGE_SIZE, IOMMU_WRITE), "map destination");
	CHECK(ctx, !edu_dma(a, src, false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM (mapped)");
	CHECK(ctx, page_is(st.page[1], 0x11), "first DMA did not arrive");
	/* The translation is now cached in the IOTLB; unmap must invalidate it. */
	fill(st.page[0], 0x22);
	CHECK(ctx, !edu_dma(a, src, false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !iommu_unmap(a->dom, dst, PAGE_SIZE), "unmap");
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM (unmapped)");
	CHECK(ctx, page_is(st.page[1], 0x11), "DMA after unmap reached the page");
	check_dma_fault(ctx, a, faults, irqs, 0x5, dst);
	iommu_unmap(a->dom, src, PAGE_SIZE);
}

SELFTEST_ORDER(vtd_reattach, "vtd", "reattach-moves-device", 68)
{
	struct edu *a = &st.edu[0];
	struct iommu_domain *id;
	u64 target = st.page[2], faults, irqs, pa = 0;

	if (!setup(ctx, 1))
		return;
	/* A domain of the test's own that maps the target page at its physical address. */
	id = iommu_domain_create("edu-identity");
	CHECK(ctx, id != NULL, "no identity domain");
	if (!id)
		return;
	CHECK(ctx, !iommu_map(id, target, target, PAGE_SIZE, IOMMU_WRITE), "identity map");
	CHECK(ctx, !iommu_map(id, st.page[5], st.page[5], PAGE_SIZE, IOMMU_READ), "identity map");
	CHECK(ctx, !iommu_lookup(id, target, &pa, NULL) && pa == target,
	      "identity domain does not map RAM page %#llx", (unsigned long long)target);
	/* In the identity domain the device reaches the page at its physical address. */
	CHECK(ctx, !iommu_attach(id, 0, a->sid, a->sid), "attach to the identity domain");
	fill(target, 0x00);
	fill(st.page[5], 0x77);
	CHECK(ctx, !edu_dma(a, st.page[5], false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !edu_dma(a, target, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, page_is(target, 0x77), "DMA through the identity domain did not arrive");
	/* Back in its own domain the same DMA is an attack again. */
	CHECK(ctx, !iommu_attach(a->dom, 0, a->sid, a->sid), "attach back");
	fill(target, 0x00);
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	CHECK(ctx, !edu_dma(a, target, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, page_is(target, 0x00), "stale context entry: DMA still identity-mapped");
	check_dma_fault(ctx, a, faults, irqs, 0x5, target);
	iommu_domain_destroy(id);
}

SELFTEST_ORDER(vtd_ioapic_scope, "vtd", "ioapic-remappable-entry", 72)
{
	struct iommu_irq irq;
	u16 seg = 0xffff, sid = 0;
	u64 rte;

	if (!iommu_present()) {
		st_skip(ctx, "no VT-d remapping hardware (no DMAR table)");
		return;
	}
	if (!iommu_irq_remapping()) {
		st_skip(ctx, "the VT-d units do not remap interrupts (ECAP.IR = 0)");
		return;
	}
	/* QEMU's DMAR names IOAPIC 0 at ff:00.0. */
	CHECK(ctx, !iommu_ioapic_sid(0, &seg, &sid), "IOAPIC 0 has no DMAR scope");
	CHECK(ctx, seg == 0 && sid == PCI_RID(0xff, 0, 0), "IOAPIC 0 source %04x:%04x", seg, sid);
	CHECK(ctx, !iommu_irq_alloc(seg, sid, sid, &irq), "IRTE for the IOAPIC");
	if (ctx->failed)
		return;
	CHECK(ctx, !iommu_irq_program(&irq, &(struct iommu_irq_cfg){bsp_apic_id(), 0x40, true}),
	      "program");
	rte = iommu_ioapic_rte(&irq, &(struct iommu_irq_cfg){bsp_apic_id(), 0x40, true}, true,
			       true);
	CHECK(ctx,
	      rte & VTD_RTE_IF && FIELD_GET(VTD_RTE_HANDLE, rte) == irq.index &&
		      FIELD_GET(VTD_RTE_VECTOR, rte) == 0x40 && rte & VTD_RTE_TRIGGER_LEVEL,
	      "RTE %#llx for entry %u", (unsigned long long)rte, irq.index);
	{
		const struct vtd_qword2 *e =
			(const struct vtd_qword2 *)(uintptr_t)vtd_units[irq.unit].irt + irq.index;

		CHECK(ctx,
		      e->lo & VTD_IRTE_LO_P && e->lo & VTD_IRTE_LO_TM &&
			      FIELD_GET(VTD_IRTE_HI_SID, e->hi) == sid &&
			      FIELD_GET(VTD_IRTE_HI_SVT, e->hi) == VTD_SVT_SID,
		      "IRTE %#llx:%#llx", (unsigned long long)e->hi, (unsigned long long)e->lo);
	}
	iommu_irq_free(&irq);
}

/* With the queue off every invalidation goes through CCMD and the IOTLB registers (the
 * path for units without ECAP.QI): an unmap must still block the next DMA. */
SELFTEST_ORDER(vtd_register_inval, "vtd", "register-invalidation-blocks", 73)
{
	struct edu *a = &st.edu[0];
	struct vtd_unit *u;
	u64 src = IOVA_BASE, dst = IOVA_BASE + PAGE_SIZE, faults, irqs;
	int idx;

	if (!setup(ctx, 1))
		return;
	idx = vtd_unit_of(0, a->sid, a->sid);
	CHECK(ctx, idx >= 0, "no unit for edu");
	if (idx < 0)
		return;
	u = &vtd_units[idx];
	CHECK(ctx, !vtd_qi_disable(u), "queue not disabled");
	CHECK(ctx, !(vtd_read32(u, VTD_GSTS) & VTD_GCMD_QIE), "GSTS.QIES still set");
	/* The re-attach invalidates the context cache through CCMD. */
	CHECK(ctx, !iommu_attach(a->dom, 0, a->sid, a->sid), "attach with register invalidation");
	fill(st.page[0], 0x44);
	fill(st.page[1], 0x00);
	CHECK(ctx, !iommu_map(a->dom, src, st.page[0], PAGE_SIZE, IOMMU_READ), "map source");
	CHECK(ctx, !iommu_map(a->dom, dst, st.page[1], PAGE_SIZE, IOMMU_WRITE), "map destination");
	CHECK(ctx, !edu_dma(a, src, false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM");
	CHECK(ctx, page_is(st.page[1], 0x44), "DMA did not arrive");
	fill(st.page[0], 0x55);
	CHECK(ctx, !edu_dma(a, src, false, PAGE_SIZE), "RAM -> device");
	CHECK(ctx, !iommu_unmap(a->dom, dst, PAGE_SIZE), "unmap (page-selective IOTLB register)");
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM after unmap");
	CHECK(ctx, page_is(st.page[1], 0x44), "DMA after a register-invalidated unmap landed");
	check_dma_fault(ctx, a, faults, irqs, 0x5, dst);
	iommu_unmap(a->dom, src, PAGE_SIZE);
	CHECK(ctx, !vtd_qi_enable(u), "queue not re-enabled");
}

/* A copy of a table page at *pa becomes the table; the old page is returned (0 if none). */
static u64 table_fresh_copy(u64 *pa)
{
	u64 old = *pa, n = page_alloc();

	if (!n)
		return 0;
	memcpy((void *)(uintptr_t)n, (const void *)(uintptr_t)old, PAGE_SIZE);
	vtd_flush_cache((const void *)(uintptr_t)n, PAGE_SIZE);
	*pa = n;
	return old;
}

/* The unit, translating with moat's domains, is taken over as from firmware onto a fresh
 * root table and interrupt table (copies, so the domains stay): translation and interrupt
 * remapping stay on, the hardware uses the new tables, and DMAs in flight across the switch
 * (edu performs a DMA on a 100 ms timer, long after the switch's microseconds) go where
 * the tables say: the mapped one lands, the unmapped one is blocked and reported. */
static void takeover_live(struct st_ctx *ctx, struct vtd_unit *u, u64 dst, u64 faults, u64 irqs)
{
	const u32 on = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE;
	struct edu *a = &st.edu[0], *b = st.nr_edu > 1 ? &st.edu[1] : NULL;
	u64 old_root = table_fresh_copy(&u->root), old_irt = table_fresh_copy(&u->irt);
	u64 blocked = IOVA_BASE + 5 * PAGE_SIZE;
	int err;

	CHECK(ctx, old_root && old_irt, "no pages for fresh tables");
	if (!old_root || !old_irt)
		return;
	fill(st.page[1], 0x00);
	fill(st.page[2], 0x00);
	CHECK(ctx, !iommu_map(a->dom, dst, st.page[1], PAGE_SIZE, IOMMU_WRITE), "map");
	edu_dma_start(a, dst, true, PAGE_SIZE);
	if (b)
		edu_dma_start(b, blocked, true, PAGE_SIZE);
	err = vtd_unit_takeover(u);
	CHECK(ctx, !err, "takeover");
	CHECK(ctx, (vtd_read32(u, VTD_GSTS) & (on | VTD_GCMD_CFI)) == on, "GSTS %#x after takeover",
	      vtd_read32(u, VTD_GSTS));
	CHECK(ctx, (vtd_read64(u, VTD_RTADDR) & VTD_RTADDR_RTA) == u->root,
	      "RTADDR %#llx, moat's fresh root %#llx",
	      (unsigned long long)vtd_read64(u, VTD_RTADDR), (unsigned long long)u->root);
	CHECK(ctx, (vtd_read64(u, VTD_IRTA) & VTD_IRTA_IRTA) == u->irt,
	      "IRTA %#llx, moat's fresh table %#llx", (unsigned long long)vtd_read64(u, VTD_IRTA),
	      (unsigned long long)u->irt);
	CHECK(ctx, WAIT_IRQ_ON(!edu_dma_busy(a) && (!b || !edu_dma_busy(b)), EDU_DMA_US),
	      "DMAs in flight across the switch did not finish");
	WAIT_IRQ_ON(false, 2000);
	CHECK(ctx, !page_is(st.page[1], 0x00), "mapped DMA across the switch did not land");
	if (b)
		check_dma_fault(ctx, b, faults, irqs, 0x5, blocked);
	if (!err) {
		page_free(old_root);
		page_free(old_irt);
	}
	CHECK(ctx, !iommu_unmap(a->dom, dst, PAGE_SIZE), "unmap");
}

/* moat hands a unit back (quiesce: everything off) and brings it back with its domains;
 * then takes it over while it translates, as from firmware. Isolation holds after both. */
SELFTEST_ORDER(vtd_takeover, "vtd", "takeover-from-enabled", 74)
{
	struct edu *a = &st.edu[0];
	struct vtd_unit *u;
	u64 dst = IOVA_BASE + PAGE_SIZE, faults, irqs;
	const u32 on = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE;
	int idx;

	if (!setup(ctx, 1))
		return;
	idx = vtd_unit_of(0, a->sid, a->sid);
	if (idx < 0)
		return;
	u = &vtd_units[idx];
	CHECK(ctx, (vtd_read32(u, VTD_GSTS) & on) == on, "unit not fully on before the test");
	CHECK(ctx, !vtd_unit_quiesce(u), "quiesce");
	CHECK(ctx, !(vtd_read32(u, VTD_GSTS) & on), "GSTS %#x after quiesce",
	      vtd_read32(u, VTD_GSTS));
	CHECK(ctx, !vtd_unit_enable(u), "enable again");
	CHECK(ctx, (vtd_read32(u, VTD_GSTS) & on) == on, "GSTS %#x after enable",
	      vtd_read32(u, VTD_GSTS));
	CHECK(ctx, !(vtd_read32(u, VTD_GSTS) & VTD_GCMD_CFI), "compatibility format allowed");
	vtd_fault_last_clear();
	faults = iommu_domain_faults(st.nr_edu > 1 ? st.edu[1].dom : a->dom);
	irqs = vtd_fault_interrupts();
	takeover_live(ctx, u, dst, faults, irqs);
	/* after the takeover: an unmapped DMA is blocked and reported */
	vtd_fault_last_clear();
	faults = iommu_domain_faults(a->dom);
	irqs = vtd_fault_interrupts();
	fill(st.page[1], 0x00);
	CHECK(ctx, !edu_dma(a, dst, true, PAGE_SIZE), "device -> RAM after unmap");
	CHECK(ctx, page_is(st.page[1], 0x00), "DMA after unmap landed");
	check_dma_fault(ctx, a, faults, irqs, 0x5, dst);
}

/* A burst of faults beyond what the log allows: every one is counted against the domain
 * (the record is cleared each time, so none is lost), only the first few are logged. The
 * test narrows the unit's log window to 3 reports a minute so timing cannot matter. */
SELFTEST_ORDER(vtd_fault_storm, "vtd", "fault-storm-counted", 75)
{
	enum { BURST = 6, LOGGED = 3 };
	struct edu *a = &st.edu[0];
	struct vtd_unit *u;
	struct ratelimit saved;
	u64 faults, total, unlogged, target = st.page[2];
	int idx;

	if (!setup(ctx, 1))
		return;
	idx = vtd_unit_of(0, a->sid, a->sid);
	if (idx < 0)
		return;
	u = &vtd_units[idx];
	fill(target, 0xcc);
	faults = iommu_domain_faults(a->dom);
	total = u->faults_total;
	unlogged = u->faults_unlogged;
	saved = u->fault_log;
	u->fault_log = (struct ratelimit){.window_us = 60000000, .burst = LOGGED};
	for (unsigned i = 0; i < BURST; i++)
		CHECK(ctx, !edu_dma(a, target, true, PAGE_SIZE), "DMA %u", i);
	u->fault_log = saved;
	CHECK(ctx, page_is(target, 0xcc), "a DMA of the burst landed");
	CHECK(ctx, iommu_domain_faults(a->dom) == faults + BURST, "domain counted %llu of %u",
	      (unsigned long long)(iommu_domain_faults(a->dom) - faults), BURST);
	CHECK(ctx, u->faults_total == total + BURST, "unit recorded %llu of %u",
	      (unsigned long long)(u->faults_total - total), BURST);
	CHECK(ctx, u->faults_unlogged == unlogged + BURST - LOGGED, "%llu of %u faults not logged",
	      (unsigned long long)(u->faults_unlogged - unlogged), BURST);
}

/* A device detached from every domain reaches nothing (context entry not present), and a
 * destroyed domain leaves no device behind that could still use its tables. */
SELFTEST_ORDER(vtd_detach_destroy, "vtd", "detach-and-destroy-block", 76)
{
	struct edu *b = &st.edu[1];
	struct iommu_domain *tmp;
	struct iommu_fault f;
	u64 iova = IOVA_BASE + 4 * PAGE_SIZE, page = st.page[3];

	if (!setup(ctx, 2))
		return;
	tmp = iommu_domain_create("edu-b-tmp");
	CHECK(ctx, tmp != NULL, "domain");
	if (!tmp)
		return;
	fill(page, 0x00);
	CHECK(ctx, !iommu_map(tmp, iova, page, PAGE_SIZE, IOMMU_WRITE), "map");
	CHECK(ctx, !iommu_attach(tmp, 0, b->sid, b->sid), "attach");
	CHECK(ctx, !edu_dma(b, iova, true, PAGE_SIZE), "DMA in the new domain");
	CHECK(ctx, !page_is(page, 0x00), "DMA in the new domain did not arrive");
	/* Destroying the domain detaches edu B. */
	iommu_domain_destroy(tmp);
	fill(page, 0x00);
	vtd_fault_last_clear();
	CHECK(ctx, !edu_dma(b, iova, true, PAGE_SIZE), "DMA after destroy");
	CHECK(ctx, page_is(page, 0x00), "DMA through a destroyed domain landed");
	CHECK(ctx, vtd_fault_last(&f), "no fault recorded");
	CHECK(ctx, f.reason == 0x2 && f.sid == b->sid && f.domain == NULL,
	      "fault reason %#x source %04x owner %s", f.reason, f.sid,
	      iommu_domain_name(f.domain));
	/* Detach of B from its own domain blocks it the same way; attach restores it. */
	CHECK(ctx, !iommu_attach(b->dom, 0, b->sid, b->sid), "attach back");
	CHECK(ctx, !iommu_detach(b->dom, 0, b->sid), "detach");
	CHECK(ctx, iommu_detach(b->dom, 0, b->sid) == -ENOENT, "second detach not refused");
	vtd_fault_last_clear();
	CHECK(ctx, !iommu_map(b->dom, iova, page, PAGE_SIZE, IOMMU_WRITE), "map in B");
	CHECK(ctx, !edu_dma(b, iova, true, PAGE_SIZE), "DMA while detached");
	CHECK(ctx, page_is(page, 0x00), "DMA of a detached device landed");
	CHECK(ctx, vtd_fault_last(&f) && f.reason == 0x2, "no context-not-present fault");
	CHECK(ctx, !iommu_attach(b->dom, 0, b->sid, b->sid), "attach back");
	CHECK(ctx, !edu_dma(b, iova, true, PAGE_SIZE), "DMA after re-attach");
	CHECK(ctx, !page_is(page, 0x00), "DMA after re-attach did not arrive");
	iommu_unmap(b->dom, iova, PAGE_SIZE);
}

/* QEMU has one fault recording register: a second fault while it is full sets PFO and is
 * lost. Once the fault event is handled, F and PFO are clear and the next fault of either
 * source is recorded again. */
SELFTEST_ORDER(vtd_fault_overflow, "vtd", "fault-overflow-recovers", 77)
{
	struct edu *a = &st.edu[0], *b = &st.edu[1];
	struct vtd_unit *u;
	struct iommu_fault f;
	u64 fa, fb, target = st.page[2];
	u32 fsts;
	int idx;

	if (!setup(ctx, 2))
		return;
	idx = vtd_unit_of(0, a->sid, a->sid);
	if (idx < 0 || vtd_unit_of(0, b->sid, b->sid) != idx) {
		st_skip(ctx, "the two edu devices are behind different units");
		return;
	}
	u = &vtd_units[idx];
	if (u->caps.nr_frcd > 1) {
		st_skip(ctx, "unit %u has %u fault recording registers: two faults do not overflow",
			u->idx, u->caps.nr_frcd);
		return;
	}
	fill(target, 0xcc);
	fa = iommu_domain_faults(a->dom);
	fb = iommu_domain_faults(b->dom);
	CHECK(ctx, !edu_dma_irqs_off(a, target, true, PAGE_SIZE), "A: DMA");
	CHECK(ctx, !edu_dma_irqs_off(b, target, true, PAGE_SIZE), "B: DMA");
	fsts = vtd_read32(u, VTD_FSTS);
	CHECK(ctx, fsts & VTD_FSTS_PPF, "no pending fault: FSTS %#x", fsts);
	CHECK(ctx, fsts & VTD_FSTS_PFO, "second fault did not overflow: FSTS %#x", fsts);
	/* The pending fault event is taken now. */
	CHECK(ctx, WAIT_IRQ_ON(!(vtd_read32(u, VTD_FSTS) & (VTD_FSTS_PPF | VTD_FSTS_PFO)), 100000),
	      "FSTS %#x after the fault event", vtd_read32(u, VTD_FSTS));
	CHECK(ctx, iommu_domain_faults(a->dom) == fa + 1, "A's recorded fault not counted");
	CHECK(ctx, iommu_domain_faults(b->dom) == fb, "B's lost fault counted");
	vtd_fault_last_clear();
	CHECK(ctx, !edu_dma(b, target, true, PAGE_SIZE), "B: DMA again");
	CHECK(ctx, vtd_fault_last(&f) && f.sid == b->sid && f.reason == 0x5,
	      "B's next fault was not recorded");
	CHECK(ctx, iommu_domain_faults(b->dom) == fb + 1, "B's next fault not counted");
	CHECK(ctx, page_is(target, 0xcc), "a blocked DMA landed");
}

SELFTEST_ORDER(vtd_msi_irte, "vtd", "msi-through-irte", 69)
{
	struct edu *a = &st.edu[0];
	struct iommu_irq irq;
	int vec;
	u64 before;

	if (!setup(ctx, 1))
		return;
	CHECK(ctx, a->msi_cap, "edu has no MSI capability");
	vec = irq_alloc_vector(test_irq, NULL);
	CHECK(ctx, vec > 0, "no vector");
	if (vec <= 0 || !a->msi_cap)
		return;
	CHECK(ctx, !iommu_irq_alloc(0, a->sid, a->sid, &irq), "IRTE allocation");
	if (ctx->failed) {
		irq_free_vector((u8)vec);
		return;
	}
	CHECK(ctx, !iommu_irq_program(&irq, &(struct iommu_irq_cfg){bsp_apic_id(), (u8)vec, false}),
	      "IRTE programming");
	edu_msi_program(a, irq.msi_addr, irq.msi_data);
	before = st.irq_count;
	st.irq_vector = 0;
	edu_raise(a);
	CHECK(ctx, WAIT_IRQ_ON(st.irq_count != before, 100000), "no interrupt arrived");
	CHECK(ctx, st.irq_vector == (u64)vec, "arrived on vector %#llx, programmed %#x",
	      (unsigned long long)st.irq_vector, vec);
	/* A freed entry is not present: the same message is blocked. */
	iommu_irq_free(&irq);
	before = st.irq_count;
	edu_raise(a);
	CHECK(ctx, !WAIT_IRQ_ON(st.irq_count != before, 100000), "interrupt through a freed entry");
	irq_free_vector((u8)vec);
}

SELFTEST_ORDER(vtd_irte_wrong_source, "vtd", "irte-wrong-source-blocked", 70)
{
	struct edu *a = &st.edu[0], *b = &st.edu[1];
	struct iommu_irq irq;
	struct iommu_fault f;
	int vec;
	u64 before;

	if (!setup(ctx, 2))
		return;
	vec = irq_alloc_vector(test_irq, NULL);
	CHECK(ctx, vec > 0 && a->msi_cap && b->msi_cap, "no vector or no MSI capability");
	if (vec <= 0 || !a->msi_cap || !b->msi_cap)
		return;
	CHECK(ctx, !iommu_irq_alloc(0, a->sid, a->sid, &irq), "IRTE allocation");
	if (ctx->failed) {
		irq_free_vector((u8)vec);
		return;
	}
	CHECK(ctx, !iommu_irq_program(&irq, &(struct iommu_irq_cfg){bsp_apic_id(), (u8)vec, false}),
	      "IRTE programming");
	/* B sends the message of A's entry. */
	edu_msi_program(b, irq.msi_addr, irq.msi_data);
	vtd_fault_last_clear();
	before = st.irq_count;
	edu_raise(b);
	CHECK(ctx, !WAIT_IRQ_ON(st.irq_count != before, 100000),
	      "edu B's interrupt was delivered through edu A's entry");
	if (vtd_fault_last(&f)) {
		CHECK(ctx, f.reason == 0x26 && f.sid == b->sid && f.interrupt,
		      "fault reason %#x source %04x", f.reason, f.sid);
		CHECK(ctx, f.addr == irq.index, "fault index %llu, entry %u",
		      (unsigned long long)f.addr, irq.index);
	} else {
		pr_info("irte-wrong-source: blocked without a fault record\n");
	}
	/* The rightful owner still gets through: the entry itself works. */
	edu_msi_program(a, irq.msi_addr, irq.msi_data);
	before = st.irq_count;
	edu_raise(a);
	CHECK(ctx, WAIT_IRQ_ON(st.irq_count != before, 100000), "edu A's own interrupt lost");
	iommu_irq_free(&irq);
	irq_free_vector((u8)vec);
}

SELFTEST_ORDER(vtd_compat_msi, "vtd", "compat-msi-blocked", 71)
{
	struct edu *a = &st.edu[0];
	int vec;
	u64 before;
	bool arrived;

	if (!setup(ctx, 1))
		return;
	vec = irq_alloc_vector(test_irq, NULL);
	CHECK(ctx, vec > 0 && a->msi_cap, "no vector or no MSI capability");
	if (vec <= 0 || !a->msi_cap)
		return;
	edu_msi_program(a, VTD_MSI_ADDR_BASE | (u32)FIELD_PREP(MSI_ADDR_DEST_ID, bsp_apic_id()),
			(u32)FIELD_PREP(MSI_DATA_VECTOR, vec));
	before = st.irq_count;
	edu_raise(a);
	arrived = WAIT_IRQ_ON(st.irq_count != before, 100000);
	edu_msi_program(a, 0, 0);
	irq_free_vector((u8)vec);
	if (arrived && emulator_name() && !strcmp(emulator_name(), "qemu")) {
		st_skip(ctx, "QEMU does not model CFI: compatibility-format MSIs pass with "
			     "GCMD.CFI clear");
		return;
	}
	CHECK(ctx, !arrived, "compatibility-format MSI delivered with interrupt remapping on");
}

/* Isolation groups (topology edu-pci-bridge): two edu devices behind a PCIe-to-PCI bridge
 * share the bridge's requester ID, so they share one domain; the context entries of their
 * own and their aliased requester IDs all point at it, and it confines both. */
SELFTEST_ORDER(vtd_group_domain, "vtd", "group-domain-confines-dma", 79)
{
	struct edu *a = &st.edu[0], *b = &st.edu[1];
	u64 win = IOVA_BASE + 8 * PAGE_SIZE, canary = st.page[5], faults, irqs;

	if (!setup(ctx, 1))
		return;
	if (!st.shared_group) {
		st_skip(ctx,
			"no two edu devices sharing an isolation group (topology edu-pci-bridge)");
		return;
	}
	CHECK(ctx, a->dom == b->dom, "group members in different domains");
	CHECK(ctx, a->sid == b->sid && a->sid != a->pdev->rid,
	      "edu requester IDs %04x/%04x are not the bridge's alias", a->sid, b->sid);
	CHECK(ctx, !iommu_map(a->dom, win, st.page[4], PAGE_SIZE, IOMMU_RW), "map");
	for (unsigned i = 0; i < 2; i++) {
		struct edu *e = &st.edu[i];

		fill(st.page[4], (u8)(0x30 + i));
		CHECK(ctx, !edu_dma(e, win, false, PAGE_SIZE), "edu %u: RAM -> device", i);
		fill(st.page[4], 0);
		CHECK(ctx, !edu_dma(e, win, true, PAGE_SIZE), "edu %u: device -> RAM", i);
		CHECK(ctx, page_is(st.page[4], (u8)(0x30 + i)), "edu %u: data did not round-trip",
		      i);
	}
	/* Outside the domain: blocked and attributed to the group's domain, for each member. */
	for (unsigned i = 0; i < 2; i++) {
		fill(canary, 0xcc);
		vtd_fault_last_clear();
		faults = iommu_domain_faults(a->dom);
		irqs = vtd_fault_interrupts();
		CHECK(ctx, !edu_dma(&st.edu[i], canary, true, PAGE_SIZE), "edu %u: device -> RAM",
		      i);
		CHECK(ctx, page_is(canary, 0xcc), "edu %u wrote outside the group's domain", i);
		check_dma_fault(ctx, &st.edu[i], faults, irqs, 0x5, canary);
	}
	iommu_unmap(a->dom, win, PAGE_SIZE);
}

/* ---- firmware shapes (docs/hardware.md): RMRRs and units that do not answer ---- */

static struct edu *edu_with_rmrr(u64 *base, u64 *limit)
{
	for (unsigned i = 0; i < st.nr_edu; i++)
		if (!iommu_pci_reserved_region(st.edu[i].pdev, base, limit))
			return &st.edu[i];
	return NULL;
}

/* Every RMRR range is out of the page allocator, so neither moat nor a guest (whose RAM
 * comes from it) gets it, even where the firmware's map calls it usable RAM. */
SELFTEST_ORDER(vtd_rmrr_withheld, "vtd", "rmrr-withheld", 79)
{
	if (!vtd_dmar.nr_rmrr) {
		st_skip(ctx, "the DMAR has no RMRR (QEMU's never does: run qemu-uefi-rmrr, "
			     "acpi.override)");
		return;
	}
	for (unsigned i = 0; i < vtd_dmar.nr_rmrr; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrr[i];

		CHECK(ctx, !pmm_any_free(&hv_pmm, r->base, r->limit + 1 - r->base),
		      "RMRR %#llx-%#llx is partly free in the page allocator",
		      (unsigned long long)r->base, (unsigned long long)r->limit);
	}
}

/* One DMA outside the RMRR from the device in the test domain: blocked, the memory there
 * untouched, the fault counted against that domain. */
static void rmrr_outside_blocked(struct st_ctx *ctx, struct edu *t, u64 addr)
{
	u64 faults = iommu_domain_faults(t->dom), irqs = vtd_fault_interrupts();
	u8 before[64];

	memcpy(before, (const void *)(uintptr_t)addr, sizeof(before));
	vtd_fault_last_clear();
	CHECK(ctx, !edu_dma(t, addr, true, sizeof(before)), "device -> %#llx",
	      (unsigned long long)addr);
	CHECK(ctx, !memcmp(before, (const void *)(uintptr_t)addr, sizeof(before)),
	      "DMA outside the RMRR landed at %#llx", (unsigned long long)addr);
	check_dma_fault(ctx, t, faults, irqs, 0x5, addr);
}

/* A device with an RMRR put into a fresh, non-identity domain still reaches its RMRR at
 * the same addresses (host physical = device address), and nothing next to it. */
SELFTEST_ORDER(vtd_rmrr_identity, "vtd", "rmrr-identity-mapped", 79)
{
	struct edu *e, t;
	u64 base = 0, limit = 0, last, pa = 0;

	if (!setup(ctx, 1))
		return;
	e = edu_with_rmrr(&base, &limit);
	if (!e) {
		st_skip(ctx, "no RMRR names an edu device (QEMU's DMAR has none: run "
			     "qemu-uefi-rmrr, acpi.override)");
		return;
	}
	last = limit + 1 - PAGE_SIZE;
	t = *e;
	t.dom = iommu_domain_create("rmrr-test");
	CHECK(ctx, t.dom != NULL, "no domain");
	if (!t.dom)
		return;
	CHECK(ctx, !iommu_attach_pci(t.dom, t.pdev), "attach to a fresh domain");
	CHECK(ctx, !iommu_lookup(t.dom, base, &pa, NULL) && pa == base,
	      "RMRR start %#llx not identity-mapped (-> %#llx)", (unsigned long long)base,
	      (unsigned long long)pa);
	/* Read from the RMRR's first page, write into its last: both at host physical. */
	fill(base, 0x6d);
	if (last != base)
		fill(last, 0x00);
	CHECK(ctx, !edu_dma(&t, base, false, PAGE_SIZE), "RMRR -> device");
	fill(base, 0x00);
	CHECK(ctx, !edu_dma(&t, last, true, PAGE_SIZE), "device -> RMRR");
	CHECK(ctx, page_is(last, 0x6d), "DMA into the RMRR did not land at %#llx",
	      (unsigned long long)last);
	CHECK(ctx, iommu_domain_faults(t.dom) == 0, "a DMA inside the RMRR faulted");
	/* Just past either end is not mapped. */
	rmrr_outside_blocked(ctx, &t, limit + 1);
	rmrr_outside_blocked(ctx, &t, base - PAGE_SIZE);
	CHECK(ctx, !iommu_attach_pci(e->dom, e->pdev), "attach back");
	iommu_domain_destroy(t.dom);
}

/* A unit nothing answers for: the working ones run, and every function in its scope is
 * stopped (no bus mastering), in no domain, and can be given to nobody. */
SELFTEST_ORDER(vtd_dead_unit, "vtd", "dead-unit-isolated", 78)
{
	struct iommu_domain *tmp = NULL;
	unsigned dead = 0, working = 0, stopped = 0;
	struct pci_dev *d;

	for (unsigned i = 0; i < vtd_nr_units; i++) {
		dead += vtd_units[i].dead;
		working += vtd_units[i].present;
	}
	if (!dead) {
		st_skip(ctx, "every remapping unit of the DMAR answers (run qemu-uefi-dead-unit, "
			     "acpi.override)");
		return;
	}
	if (iommu_step_failed(ctx))
		return;
	CHECK(ctx, working > 0 && iommu_present(), "no working unit beside %u dead ones", dead);
	if (!iommu_present())
		return;
	tmp = iommu_domain_create("dead-unit-test");
	pci_for_each_dev(d)
	{
		int u = d->present ? dmar_unit_for_pci(&vtd_dmar, d->seg, d->rid, d->rid,
						       vtd_pci_ops())
				   : -ENODEV;

		if (u < 0 || !vtd_units[u].dead)
			continue;
		stopped++;
		CHECK(ctx, !(pci_read16(d, PCI_COMMAND) & PCI_COMMAND_MASTER),
		      "%02x:%02x.%x under dead unit %d is a bus master", d->bus, d->dev, d->fn, u);
		CHECK(ctx, !iommu_pci_covered(d), "%02x:%02x.%x counted as covered", d->bus, d->dev,
		      d->fn);
		CHECK(ctx, d->owner.kind != PCI_OWNER_GUEST, "%02x:%02x.%x given to a guest",
		      d->bus, d->dev, d->fn);
		CHECK(ctx, tmp && iommu_attach_pci(tmp, d) == -ENODEV,
		      "%02x:%02x.%x attached to a domain", d->bus, d->dev, d->fn);
	}
	pr_info("dead-unit-isolated: %u dead unit(s), %u working, %u function(s) stopped\n", dead,
		working, stopped);
	iommu_domain_destroy(tmp);
}
