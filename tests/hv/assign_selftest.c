/* Hypervisor self-tests of device assignment: one whole assign/release cycle on a free VF
 * checked against the IOMMU and nested tables, and the verdicts on the attacker's device
 * attacks. They run after vmm_run(), when the guests' VFs are free again. */
#define LOG_TAG "vmm"
#include <moat/iommu.h>
#include <moat/pci_group.h>
#include "tests/hv/selftest.h"
#include <moat/string.h>
#include "core/end.h"
#include "vmm/assign.h"
#include "tests/hv/guest_state.h"
#include "tests/hv/irq_forge.h"
#include "vmm/guest.h"
#include "vmm/msix.h"
#include "vmm/vpci.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/percpu.h"
#include <moat/time.h>

#define CYCLE_GUEST_IDX (VMM_MAX_GUESTS + 1) /* an owner index no real guest has */
#define CYCLE_VECTOR 0x41
#define DEV1 PCI_RID(0, 1, 0)

/* 82576 VF registers in BAR0 (datasheet 8.28): interrupt mask set, cause set. */
#define IGBVF_VTEICS 0x1520
#define IGBVF_VTEIMS 0x1524
#define IGBVF_MSIX_VEC0 BIT(0)

static struct guest cycle;

/* A VF nobody owns that may go to a guest alone (its isolation group allows it). */
static struct pci_dev *free_vf(void)
{
	char why[ASSIGN_WHY_MAX];
	struct pci_dev *d;

	pci_for_each_dev(d) if (d->is_vf && d->owner.kind == PCI_OWNER_NONE && d->bar[0].size &&
				!pci_group_check_assignment(&d, 1, why, sizeof(why))) return d;
	return NULL;
}

/* The domain maps every 2 MiB step of the RAM to its HPA, and nothing past it. */
static void check_domain(struct st_ctx *ctx, struct guest *g)
{
	u64 pa;
	u32 prot;

	for (u64 gpa = 0; gpa < g->ram_size; gpa += 2 * MiB) {
		int err = iommu_lookup(g->domain, gpa + 0x123, &pa, &prot);

		CHECK(ctx, !err && pa == g->ram_hpa + gpa + 0x123 && (prot & IOMMU_RW) == IOMMU_RW,
		      "IOVA %#llx: err %d pa %#llx prot %#x", (unsigned long long)gpa + 0x123, err,
		      (unsigned long long)pa, prot);
	}
	CHECK(ctx, iommu_lookup(g->domain, g->ram_size, &pa, &prot) != 0,
	      "IOVA %#llx past the RAM is mapped", (unsigned long long)g->ram_size);
	CHECK(ctx, iommu_lookup(g->domain, g->dev[0].bar_gpa[0], &pa, &prot) != 0,
	      "the device's own BAR window is in its DMA domain");
}

/* BAR0 in the nested tables, uncached; the MSI-X table page absent. */
static void check_nested(struct st_ctx *ctx, struct guest *g)
{
	const struct pci_dev *d = g->dev[0].pdev;
	const struct pci_msix_info *m = &d->msix;
	u64 pa;
	u32 flags;
	unsigned level;
	int err = pt_lookup(&g->npt, g->dev[0].bar_gpa[0], &pa, &flags, &level);

	CHECK(ctx, !err && pa == d->bar[0].base && FIELD_GET(PT_MT, flags) == PT_MT_UC,
	      "BAR0 GPA %#llx: err %d pa %#llx flags %#x", (unsigned long long)g->dev[0].bar_gpa[0],
	      err, (unsigned long long)pa, flags);
	if (d->cap_msix && g->dev[0].bar_gpa[m->table_bir])
		CHECK(ctx,
		      pt_lookup(&g->npt, g->dev[0].bar_gpa[m->table_bir] + m->table_offset, &pa,
				&flags, &level) != 0,
		      "the MSI-X table page is mapped for the guest");
}

/* The guest's MSI-X entry 0 (vector CYCLE_VECTOR to this CPU) through the emulated table;
 * the VF raises it (VTEICS): it must come back as the guest's pending vector, through an
 * IRTE that verifies the VF's source ID. */
static void check_msix_delivery(struct st_ctx *ctx, struct guest *g, struct pci_dev *vf)
{
	struct vdev *v = &g->dev[0];
	u64 tab = v->bar_gpa[vf->msix.table_bir] + vf->msix.table_offset;
	u64 phys = vf->bar[vf->msix.table_bir].base + vf->msix.table_offset;
	u16 ctl = (u16)vpci_read(g, DEV1, vf->cap_msix + 2, 2);
	bool fired;

	vpci_write(g, DEV1, vf->cap_msix + 2, 2, ctl | MSIX_CTRL_ENABLE);
	msix_mmio_write(g, v, tab,
			(u32)(FIELD_PREP(MSI_ADDR_BASE, MSI_ADDR_BASE_VAL) |
			      FIELD_PREP(MSI_ADDR_DEST_ID, cpu_data[0].apic_id)));
	msix_mmio_write(g, v, tab + 4, 0);
	msix_mmio_write(g, v, tab + 8, CYCLE_VECTOR);
	msix_mmio_write(g, v, tab + 12, 0);
	CHECK(ctx,
	      v->msix.live[0] && (mmio_read32(phys) & MSI_ADDR_IF_REMAP) &&
		      !(mmio_read32(phys + 12) & MSIX_ENTRY_CTRL_MASKED),
	      "physical MSI-X entry 0: %#x ctrl %#x (refused %llu)", mmio_read32(phys),
	      mmio_read32(phys + 12), (unsigned long long)g->msix_refused);
	CHECK(ctx, msix_irtes(g) == 1, "%u IRTEs in use", msix_irtes(g));
	if (vf->vendor != 0x8086 || vf->device != 0x10ca)
		return; /* only the 82576 VF has a known way to raise a vector by itself */
	mmio_write32(vf->bar[0].base + IGBVF_VTEIMS, IGBVF_MSIX_VEC0);
	mmio_write32(vf->bar[0].base + IGBVF_VTEICS, IGBVF_MSIX_VEC0);
	irq_enable();
	fired = WAIT_US(g->irq_pending[CYCLE_VECTOR / 64] & BIT(CYCLE_VECTOR % 64), 500000);
	irq_disable();
	CHECK(ctx, fired, "the VF's MSI-X vector 0 never reached the guest's vector %#x",
	      CYCLE_VECTOR);
}

SELFTEST(assign_cycle, "assign", "attach-release-cycle")
{
	struct guest *g = &cycle;
	char why[ASSIGN_WHY_MAX];
	struct pci_dev *vf = free_vf();
	u64 pa;
	u32 flags;
	unsigned level;

	if (!vmm_be || !iommu_present() || !iommu_irq_remapping() || !vf) {
		st_skip(ctx, !vmm_be		? "no virtualization backend"
			     : !iommu_present() ? "no IOMMU"
			     : !iommu_irq_remapping()
				     ? "the IOMMU does not remap interrupts: devices "
				       "are not given to guests"
				     : "no free VF that may go to a guest alone (SR-IOV "
				       "off, or groups)");
		return;
	}
	memset(g, 0, sizeof(*g));
	strlcpy(g->cfg.name, "cycle", sizeof(g->cfg.name));
	g->vcpu[0].cpu = this_cpu()->index;
	g->cfg.memory = 4 * MiB;
	g->cfg.nr_devices = 1;
	g->cfg.devices[0] = (struct cfg_device){.kind = CFG_DEV_BDF,
						.segment = vf->seg,
						.bus = vf->bus,
						.dev = vf->dev,
						.fn = vf->fn};
	if (assign_claim(g, CYCLE_GUEST_IDX, why, sizeof(why))) {
		st_fail(ctx, __FILE__, __LINE__, "claim refused: %s", why);
		return;
	}
	if (guest_memory_init(g, &vmm_caps)) {
		st_fail(ctx, __FILE__, __LINE__, "no memory for the test guest");
		assign_unclaim(g);
		return;
	}
	if (assign_attach(g)) {
		st_fail(ctx, __FILE__, __LINE__, "attaching %02x:%02x.%x failed", vf->bus, vf->dev,
			vf->fn);
		goto out;
	}
	CHECK(ctx, !(pci_read16(vf, PCI_COMMAND) & PCI_COMMAND_MASTER),
	      "bus master is on before the guest asked");
	CHECK(ctx, vpci_read(g, PCI_RID(0, 1, 0), 0, 4) == (vf->vendor | (u32)vf->device << 16),
	      "the guest reads %#x at 00:01.0", vpci_read(g, PCI_RID(0, 1, 0), 0, 4));
	check_domain(ctx, g);
	/* Memory decode off (Command 0): no BAR page in the nested tables (vmm/vbar.c). */
	CHECK(ctx, pt_lookup(&g->npt, g->dev[0].bar_gpa[0], &pa, &flags, &level) != 0,
	      "BAR0 in the nested tables before the guest turned memory decode on");
	vpci_write(g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	check_nested(ctx, g);
	if (vf->cap_msix)
		check_msix_delivery(ctx, g, vf);
	CHECK(ctx, pci_read16(vf, PCI_COMMAND) & PCI_COMMAND_MASTER,
	      "the guest's bus master did not reach the device");
	assign_release(g);
	CHECK(ctx, !(pci_read16(vf, PCI_COMMAND) & PCI_COMMAND_MASTER),
	      "bus master still on after release");
	CHECK(ctx, !g->domain && vf->owner.kind == PCI_OWNER_NONE, "domain or ownership left over");
	CHECK(ctx, pt_lookup(&g->npt, VDEV_MMIO_BASE, &pa, &flags, &level) != 0,
	      "BAR0 still in the nested tables after release");
out:
	assign_release(g);
	guest_memory_free(g);
}

static bool is_attacker(const struct guest *g)
{
	return !strcmp(g->cfg.image, "attacker");
}

static struct guest *attacker_with_device(void)
{
	for (u32 i = 0; i < vmm_nr_guests; i++)
		if (is_attacker(&vmm_guests[i]) && vmm_guests[i].cfg.nr_devices)
			return &vmm_guests[i];
	return NULL;
}

SELFTEST(assign_attacker_dma, "assign", "attacker-dma-fault")
{
	struct guest *g = attacker_with_device();

	if (!g || !test_state(g)->expect_dma_faults) {
		st_skip(ctx, !g ? "no attacker guest with a device"
				: "the attacker announced no DMA attack (HC_EXPECT_DMA_FAULT)");
		return;
	}
	CHECK(ctx, g->dma_faults > 0,
	      "attacker %s announced %llu DMA attacks and its domain recorded no fault",
	      g->cfg.name, (unsigned long long)test_state(g)->expect_dma_faults);
}

static bool under_qemu(void)
{
	return emulator_name() && !strcmp(emulator_name(), "qemu");
}

/* The attacker's VF wrote a remappable-format message naming the canary entry, which only
 * the PF may use: the IOMMU must refuse it on the source ID (VT-d reason 0x26) and the
 * canary's vector must stay silent. */
SELFTEST(assign_attacker_forge_remap, "assign", "attacker-msix-forge-remappable")
{
	struct guest *g = attacker_with_device();
	u64 hits = __atomic_load_n(&irq_canary.hits, __ATOMIC_RELAXED), sid_faults;
	const struct test_guest_state *t;
	u16 handle;

	if (!g || !test_state(g)->forge_addr[0]) {
		st_skip(ctx, !g ? "no attacker guest with a device"
				: "the attacker announced no remappable-format message");
		return;
	}
	t = test_state(g);
	handle = irq_forge_handle(t->forge_addr[0]);
	sid_faults = t->irq_faults[IRQ_FAULT_SID - IRQ_FAULT_FIRST];
	CHECK(ctx, irq_canary.vector && handle == irq_canary.irq.index,
	      "the attacker named IRTE %u, not another device's present entry (canary IRTE %u%s)",
	      handle, irq_canary.irq.index, irq_canary.vector ? "" : ", not armed");
	if (ctx->failed)
		return;
	if (hits && !sid_faults && under_qemu()) {
		st_skip(ctx,
			"QEMU: a device's DMA write carries no requester ID, so intel-iommu skips "
			"source-ID verification: the message went through IRTE %u to vector %#x",
			handle, irq_canary.vector);
		return;
	}
	CHECK(ctx, !hits, "the forged message was delivered %llu times through IRTE %u",
	      (unsigned long long)hits, handle);
	CHECK(ctx, sid_faults && t->irq_fault_index[IRQ_FAULT_SID - IRQ_FAULT_FIRST] == handle,
	      "no source-id verification fault (reason %#x) at IRTE %u attributed to %s "
	      "(interrupt faults: %llu not present, %llu compatibility)",
	      IRQ_FAULT_SID, handle, g->cfg.name, (unsigned long long)t->irq_faults[2],
	      (unsigned long long)t->irq_faults[IRQ_FAULT_COMPAT - IRQ_FAULT_FIRST]);
}

/* A compatibility-format message from the attacker's VF to its own CPU: with interrupt
 * remapping on and CFI clear the IOMMU blocks it (VT-d reason 0x25). */
SELFTEST(assign_attacker_forge_compat, "assign", "attacker-msix-forge-compat")
{
	struct guest *g = attacker_with_device();
	const struct test_guest_state *t;
	u64 hits, faults;

	if (!g || !test_state(g)->forge_addr[1]) {
		st_skip(ctx, !g ? "no attacker guest with a device"
				: "the attacker announced no compatibility-format message");
		return;
	}
	t = test_state(g);
	hits = irq_forge_compat_hits(g);
	faults = t->irq_faults[IRQ_FAULT_COMPAT - IRQ_FAULT_FIRST];
	if (hits && under_qemu()) {
		st_skip(ctx,
			"QEMU does not model CFI: the VF's compatibility-format message to APIC %u "
			"vector %#x was delivered with GCMD.CFI clear",
			(unsigned)FIELD_GET(MSI_ADDR_DEST, t->forge_addr[1]), t->forge_vector);
		return;
	}
	CHECK(ctx, !hits,
	      "compatibility-format message delivered %llu times with interrupt "
	      "remapping on",
	      (unsigned long long)hits);
	/* Without the fault nothing shows the device wrote the message at all. */
	CHECK(ctx, faults > 0, "no compatibility-format fault (reason %#x) attributed to %s",
	      IRQ_FAULT_COMPAT, g->cfg.name);
}

SELFTEST(assign_attacker_bar, "assign", "attacker-bar-remap")
{
	struct guest *g = attacker_with_device();

	if (!g) {
		st_skip(ctx, "no attacker guest with a device");
		return;
	}
	CHECK(ctx, g->bar_refused > 0, "attacker %s: no BAR move was refused", g->cfg.name);
}

SELFTEST(assign_attacker_cfg, "assign", "attacker-cfg-foreign")
{
	unsigned seen = 0;

	for (u32 i = 0; i < vmm_nr_guests; i++) {
		const struct guest *g = &vmm_guests[i];

		if (!is_attacker(g))
			continue;
		seen++;
		CHECK(ctx, g->cfg_refused > 0, "attacker %s: no foreign config write was refused",
		      g->cfg.name);
	}
	if (!seen)
		st_skip(ctx, "no attacker guest");
}
