/* The virtual PCI configuration space: the host bridge, an assigned VF with its real IDs,
 * BAR sizing and refused BAR moves, Command filtering, the capability list with only PCIe
 * and MSI-X, foreign BDFs; the BARs in the nested tables only while memory decode is on and
 * no reset is in progress, and the nested TLB flush on every vCPU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/pt_x86.h"
#include "arch/x86/trap.h"
#include "vmm/msix.h"
#include "vmm/npt_flush.h"
#include "vmm/vbar.h"
#include "vmm/vflr.h"
#include "vmm/vpci.h"
#include "host_shim.h"

/* The host side MSI-X needs: CPUs, host vectors, interrupt remapping entries. */
struct percpu cpu_data[MAX_CPUS];
static irq_handler_t vec_fn;
static void *vec_ctx;
static int vectors_in_use, irtes_in_use, raised = -1;
static struct iommu_irq_cfg last_cfg;
static u32 phys_bar3[0x4000 / 4]
	__attribute__((aligned(4096))); /* the VF's MSI-X BAR: table at 0, PBA at 0x2000 */

int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	vec_fn = fn;
	vec_ctx = ctx;
	vectors_in_use++;
	return 0x40 + vectors_in_use;
}

/* What happened to the device's interrupt, in order: the physical entry masked, its
 * IRTE freed, its host vector handed to the quarantine, drained on its CPU, freed. */
enum { EV_IRTE_FREE = 1, EV_QUARANTINE, EV_DRAIN, EV_VECTOR_FREE, EV_FLR_START, EV_FLR_READY };
static int events[16], nr_events;
static u32 ctrl_when_irte_freed;
static unsigned drain_fails;		  /* the drain times out this many times */
static unsigned drain_cpus[8], nr_drains; /* the CPU each vector was drained on */

static void event(int e)
{
	if (nr_events < 16)
		events[nr_events++] = e;
}

/* arch/x86/irq_drain.c (its own test: test_irq_drain): drained on `cpu`, then freed. */
int irq_free_drained(u8 vector, unsigned cpu, u32 *freed)
{
	event(EV_DRAIN);
	if (nr_drains < 8)
		drain_cpus[nr_drains++] = cpu;
	if (drain_fails) {
		drain_fails--;
		return -ETIMEDOUT;
	}
	event(EV_VECTOR_FREE);
	vec_fn = NULL;
	vectors_in_use--;
	__atomic_fetch_add(freed, 1, __ATOMIC_RELAXED);
	return 0;
}

int irq_set_handler(u8 vector, irq_handler_t fn, void *ctx)
{
	event(EV_QUARANTINE);
	vec_fn = fn;
	vec_ctx = ctx;
	return 0;
}

int iommu_irq_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq)
{
	assert_int_equal(sid, 0x0180); /* the VF's own requester ID, verified by the IRTE */
	assert_int_equal(pf_sid, 0x0100);
	irq->index = (u16)irtes_in_use++;
	irq->msi_addr = 0xfee00010u | (u32)irq->index << 5; /* remappable format */
	irq->msi_data = 0;
	return 0;
}

int iommu_irq_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg)
{
	last_cfg = *cfg;
	return 0;
}

void iommu_irq_free(struct iommu_irq *irq)
{
	event(EV_IRTE_FREE);
	ctrl_when_irte_freed = phys_bar3[3];
	irtes_in_use--;
}

void virq_raise(struct guest *gst, u8 vector)
{
	raised = vector;
}

/* OS guests' device interrupts go to the guest's virtual local APICs. */
static struct vlapic_msg delivered;
static int deliveries, deliver_result;

int vlapic_deliver(struct guest *gst, const struct vlapic_msg *m)
{
	delivered = *m;
	deliveries++;
	return deliver_result;
}

/* The vLAPICs as Linux sets them up: APIC ID = index, flat LDR = 1 << index. */
int vlapic_msg_target(const struct guest *gst, const struct vlapic_msg *m)
{
	for (u32 i = 0; i < gst->nr_vcpus; i++)
		if (m->logical ? (m->dest & (1u << i)) != 0 : m->dest == i)
			return (int)i;
	return -1;
}

/* Time: each look at the clock takes 10 us. */
static u64 fake_us;

u64 time_us(void)
{
	return fake_us += 10;
}

/* The nested tables (real, lib/pgtable.c) and the backend's TLB flush; vCPUs in the guest
 * leave it when kicked, unless a test says one does not. */
static void *t_p2v(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}
static u64 t_alloc(void *ctx)
{
	return (u64)(uintptr_t)aligned_alloc(4096, 4096);
}
static void t_free(void *ctx, u64 pa)
{
	free((void *)(uintptr_t)pa);
}
static const struct pt_ops npt_ops = {t_alloc, t_free, t_p2v, NULL, NULL};
static unsigned tlb_flushes[2], kicks[2];
static bool kick_ignored;

static void f_flush_nested_tlb(struct vcpu *v)
{
	tlb_flushes[v->index]++;
}
static const struct vmm_backend fake_be = {.name = "fake", .flush_nested_tlb = f_flush_nested_tlb};
const struct vmm_backend *vmm_be = &fake_be;

void vcpu_kick(struct vcpu *v)
{
	kicks[v->index]++;
	if (!kick_ignored)
		npt_flush_exit(v); /* the IPI's exit */
}

/* pci/reset.c: the function's FLR, started and waited for. */
static int flr_start_result, flr_ready_result;
static unsigned flr_starts, flr_readies;
static u16 cmd_at_flr;	       /* the hardware Command register when the reset began */
static bool bar_mapped_at_flr; /* BAR0's first page in the nested tables then */
static struct guest g;
static u64 flr_start_us, flr_ready_us; /* when the last reset began, and was waited for */
static u8 cfg[4096];

bool pci_has_flr(const struct pci_dev *d)
{
	return d->cap_pcie && (cfg[d->cap_pcie + 4 + 3] & 0x10); /* DEVCAP bit 28 */
}

int pci_flr_start(struct pci_dev *d)
{
	event(EV_FLR_START);
	flr_starts++;
	cmd_at_flr = (u16)(cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8);
	flr_start_us = fake_us;
	bar_mapped_at_flr = pt_lookup(&g.npt, 0xc0000000, NULL, NULL, NULL) == 0;
	if (flr_start_result)
		return flr_start_result;
	/* What the reset does to the function (QEMU: pci_do_device_reset, msix_reset). */
	cfg[PCI_COMMAND] = cfg[PCI_COMMAND + 1] = 0;
	cfg[0x73] &= (u8)~0xc0;
	for (unsigned i = 0; i < 3; i++) {
		memset(&phys_bar3[4 * i], 0, 12);
		phys_bar3[4 * i + 3] = MSIX_ENTRY_CTRL_MASKED;
	}
	return 0;
}

int pci_flr_ready(struct pci_dev *d)
{
	event(EV_FLR_READY);
	flr_readies++;
	flr_ready_us = fake_us;
	return flr_ready_result;
}

/* The VF's real config space as QEMU's igbvf has it: PCIe at 0xa0, MSI-X at 0x70, the
 * standard list starting at 0x70 (0x70 -> 0xa0 -> 0). */
static unsigned hw_writes;
static struct pci_dev pf, vf;
static struct guest g;

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	assert_ptr_equal(d, &vf);
	return (u16)(cfg[off] | cfg[off + 1] << 8);
}

u32 pci_read32(const struct pci_dev *d, u16 off)
{
	assert_ptr_equal(d, &vf);
	return pci_read16(d, off) | (u32)pci_read16(d, off + 2) << 16;
}

void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	assert_ptr_equal(d, &vf);
	/* The only registers a guest reaches: Command and MSI-X Message Control. */
	assert_true(off == PCI_COMMAND || off == 0x72);
	cfg[off] = (u8)v;
	cfg[off + 1] = (u8)(v >> 8);
	hw_writes++;
}

static void put32(u16 off, u32 v)
{
	memcpy(&cfg[off], &v, 4);
}

static int setup(void **state)
{
	memset(cfg, 0, sizeof(cfg));
	put32(0x00, 0xffffffff); /* a VF reads FFFF:FFFF */
	put32(0x04, 0x00100000 | PCI_COMMAND_INTX_DISABLE);
	cfg[0x34] = 0x70;
	put32(0x70, 0x0002a011); /* MSI-X, next 0xa0, 3 entries */
	put32(0x74, 0x00000003); /* table in BAR3 at 0 */
	put32(0x78, 0x00002003); /* PBA in BAR3 at 0x2000 */
	put32(0xa0, 0x00020010); /* PCIe v2 endpoint, next 0 */
	put32(0xa4, 0x10008000); /* DEVCAP: FLR */
	put32(0x50, 0x00000001); /* something hidden (PM-like) outside the list */
	hw_writes = 0;
	memset(&pf, 0, sizeof(pf));
	memset(&vf, 0, sizeof(vf));
	vf.vendor = 0x8086;
	vf.device = 0x10ca;
	vf.class = 0x020000;
	vf.revision = 1;
	vf.subsys_vendor = 0x8086;
	vf.subsys_id = 0x0000;
	vf.is_vf = true;
	vf.pf = &pf;
	vf.cap_pcie = 0xa0;
	vf.cap_msix = 0x70;
	vf.bar[0] = (struct pci_bar){
		.base = 0xfe000000, .size = 0x4000, .type = PCI_BAR_MEM64, .prefetchable = true};
	vf.bar[3] = (struct pci_bar){.base = (u64)(uintptr_t)phys_bar3,
				     .size = 0x4000,
				     .type = PCI_BAR_MEM64,
				     .prefetchable = true};
	vf.rid = 0x0180;
	pf.rid = 0x0100;
	vf.msix = (struct pci_msix_info){
		.table_size = 3, .table_bir = 3, .pba_bir = 3, .pba_offset = 0x2000};
	memset(phys_bar3, 0, sizeof(phys_bar3));
	for (unsigned i = 0; i < 3; i++)
		phys_bar3[4 * i + 3] = MSIX_ENTRY_CTRL_MASKED;
	cpu_data[1].apic_id = 1;
	cpu_data[2].apic_id = 6;
	memset(&delivered, 0, sizeof(delivered));
	deliveries = deliver_result = 0;
	vectors_in_use = irtes_in_use = 0;
	raised = -1;
	nr_events = 0;
	drain_fails = 0;
	ctrl_when_irte_freed = 0;
	flr_start_result = flr_ready_result = 0;
	flr_starts = flr_readies = 0;
	if (g.npt.root)
		pt_destroy(&g.npt);
	memset(&g, 0, sizeof(g));
	assert_int_equal(pt_init(&g.npt, &pt_format_npt, &npt_ops, 4, 2), 0);
	memset(tlb_flushes, 0, sizeof(tlb_flushes));
	memset(kicks, 0, sizeof(kicks));
	kick_ignored = false;
	strcpy(g.cfg.name, "t");
	g.nr_dev = 1;
	g.dev[0].pdev = &vf;
	g.dev[0].bar_gpa[0] = 0xc0000000;
	g.dev[0].bar_gpa[3] = 0xc0004000;
	g.vcpu[0].cpu = 1;
	g.vcpu[0].guest = &g;
	g.vcpu[1].index = 1;
	g.vcpu[1].guest = &g;
	g.nr_vcpus = 1;
	msix_init(&g.dev[0]);
	(void)state;
	return 0;
}

#define DEV1 PCI_RID(0, 1, 0)

static void test_host_bridge_and_ids(void **state)
{
	assert_int_equal(vpci_read(&g, 0, 0, 4), 0x29c08086);
	assert_int_equal(vpci_read(&g, DEV1, 0, 4), 0x10ca8086);
	assert_int_equal(vpci_read(&g, DEV1, 2, 2), 0x10ca);
	assert_int_equal(vpci_read(&g, DEV1, 0x08, 4), 0x02000001);
	assert_int_equal(vpci_read(&g, DEV1, 0x0e, 1), 0); /* header type 0 */
	assert_int_equal(vpci_read(&g, DEV1, 0x2c, 4), 0x00008086);
	assert_int_equal(vpci_read(&g, DEV1, 0x3d, 1), 0); /* no INTx pin */
	(void)state;
}

static void test_foreign_bdfs(void **state)
{
	assert_int_equal(vpci_read(&g, PCI_RID(0, 2, 0), 0, 4), 0xffffffff);
	assert_int_equal(vpci_read(&g, PCI_RID(0, 1, 1), 0, 4), 0xffffffff);
	assert_int_equal(vpci_read(&g, PCI_RID(1, 0, 0), 0, 2), 0xffff);
	assert_int_equal(vpci_read(&g, PCI_RID(1, 0x10, 0), 0, 4), 0xffffffff);
	vpci_write(&g, PCI_RID(1, 0, 0), 0x04, 2, 0x6);
	vpci_write(&g, PCI_RID(0, 2, 0), 0x10, 4, 0);
	assert_int_equal(g.cfg_refused, 2);
	assert_int_equal(hw_writes, 0);
	/* Misaligned and out-of-range accesses. */
	assert_int_equal(vpci_read(&g, DEV1, 0x01, 2), 0xffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x100, 4), 0xffffffff);
	(void)state;
}

static void test_capability_list(void **state)
{
	u8 ptr = (u8)vpci_read(&g, DEV1, 0x34, 1);
	unsigned seen = 0;

	assert_true(vpci_read(&g, DEV1, 0x06, 2) & BIT(4)); /* capability list */
	assert_int_equal(ptr, 0xa0);
	assert_int_equal(vpci_read(&g, DEV1, ptr, 1), 0x10);
	ptr = (u8)vpci_read(&g, DEV1, ptr + 1, 1);
	assert_int_equal(ptr, 0x70);
	assert_int_equal(vpci_read(&g, DEV1, ptr, 1), 0x11);
	assert_int_equal(vpci_read(&g, DEV1, ptr + 2, 2), 0x0002); /* 3 entries */
	assert_int_equal(vpci_read(&g, DEV1, ptr + 4, 4), 0x3);	   /* table BIR 3, offset 0 */
	assert_int_equal(vpci_read(&g, DEV1, ptr + 8, 4), 0x2003);
	assert_int_equal(vpci_read(&g, DEV1, ptr + 1, 1), 0); /* end of list */
	/* DEVCAP with FLR, as the VF has it: moat emulates it (test_flr_*) */
	assert_int_equal(vpci_read(&g, DEV1, 0xa4, 4), 0x10008000);
	/* Not in the shown list: reads 0. */
	assert_int_equal(vpci_read(&g, DEV1, 0x50, 4), 0);
	for (u16 r = 0x40; r < 0x100; r += 4)
		seen += vpci_read(&g, DEV1, r, 4) != 0;
	assert_int_equal(seen, 5); /* 3 MSI-X dwords, the PCIe header and DEVCAP */
	/* Capabilities are read-only but for MSI-X Enable / Function Mask and Initiate FLR:
	 * the table location, the rest of PCIe Device Control and the list pointers. */
	vpci_write(&g, DEV1, 0x74, 4, 0x1003);
	vpci_write(&g, DEV1, 0xa8, 2, 0x7fff);
	vpci_write(&g, DEV1, 0xa0, 4, 0x00005010);
	assert_int_equal(vpci_read(&g, DEV1, 0x74, 4), 0x3);
	assert_int_equal(vpci_read(&g, DEV1, 0xa8, 2), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0xa1, 1), 0x70);
	assert_int_equal(hw_writes, 0);
	assert_int_equal(flr_starts, 0);
	(void)state;
}

static void test_bar_sizing(void **state)
{
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x18, 4), 0); /* not implemented */
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	vpci_write(&g, DEV1, 0x10, 4, 0xffffffff);
	vpci_write(&g, DEV1, 0x14, 4, 0xffffffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xffffc00c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0xffffffff);
	vpci_write(&g, DEV1, 0x18, 4, 0xffffffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x18, 4), 0);
	/* Restoring the address ends sizing and is not a refusal. */
	vpci_write(&g, DEV1, 0x10, 4, 0xc000000c);
	vpci_write(&g, DEV1, 0x14, 4, 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(g.bar_refused, 0);
	(void)state;
}

static void test_bar_moves_refused(void **state)
{
	/* Onto its own RAM, onto another VF's window, into the host's MMIO, high half. */
	vpci_write(&g, DEV1, 0x10, 4, 0x00100000);
	vpci_write(&g, DEV1, 0x10, 4, 0xc0004000);
	vpci_write(&g, DEV1, 0x1c, 4, 0xfe000000);
	vpci_write(&g, DEV1, 0x14, 4, 0x1);
	vpci_write(&g, DEV1, 0x12, 2, 0x1234);
	assert_int_equal(g.bar_refused, 5);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	assert_int_equal(hw_writes, 0);
	(void)state;
}

static void test_command_filtered(void **state)
{
	assert_int_equal(vpci_read(&g, DEV1, 0x04, 2), 0);
	vpci_write(&g, DEV1, 0x04, 2, 0xffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x04, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* Hardware: memory + master from the guest, INTx disable kept as moat set it. */
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	vpci_write(&g, DEV1, 0x04, 1, 0x2);
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	/* A dword write carrying status bits changes only the command half. */
	vpci_write(&g, DEV1, 0x04, 4, 0xffff0004);
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(cfg[6] | cfg[7] << 8, 0x0010);
	/* IDs are not writable. */
	vpci_write(&g, DEV1, 0x00, 4, 0);
	assert_int_equal(vpci_read(&g, DEV1, 0, 4), 0x10ca8086);
	assert_int_equal(g.cfg_refused, 0);
	(void)state;
}

#define TABLE 0xc0004000ULL
#define PBA (TABLE + 0x2000)

static void guest_entry(unsigned idx, u32 addr, u32 data, u32 ctrl)
{
	msix_mmio_write(&g, &g.dev[0], TABLE + 16 * idx, addr);
	msix_mmio_write(&g, &g.dev[0], TABLE + 16 * idx + 4, 0);
	msix_mmio_write(&g, &g.dev[0], TABLE + 16 * idx + 8, data);
	msix_mmio_write(&g, &g.dev[0], TABLE + 16 * idx + 12, ctrl);
}

static void test_msix_entry_check(void **state)
{
	char why[96];
	u32 ok[4] = {0xfee01000, 0, 0x41, 0};
	u32 e[4];

	assert_int_equal(msix_entry_check(ok, 1, why, sizeof(why)), 0);
	memcpy(e, ok, sizeof(e));
	e[2] = 0x1f;
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "vector 0x1f"));
	e[2] = 0xff;
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	e[2] = 0xfe;
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), 0);
	e[0] = 0xfee02000; /* another CPU */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "destination APIC 2"));
	e[0] = 0xfee01010; /* remappable format, forged */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	e[0] = 0xfee01004; /* logical destination */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	e[0] = 0x00101000; /* a DMA write into RAM dressed as an MSI */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	memcpy(e, ok, sizeof(e));
	e[1] = 1;
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	memcpy(e, ok, sizeof(e));
	e[2] = 0x41 | 0x200; /* NMI delivery */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	e[2] = 0x41 | 0x8000; /* level */
	assert_int_equal(msix_entry_check(e, 1, why, sizeof(why)), -EINVAL);
	(void)state;
}

static void test_msix_table_emulated(void **state)
{
	assert_ptr_equal(msix_region(&g, TABLE), &g.dev[0]);
	assert_ptr_equal(msix_region(&g, TABLE + 0xffc), &g.dev[0]);
	assert_ptr_equal(msix_region(&g, PBA), &g.dev[0]);
	assert_null(msix_region(&g, TABLE + 0x1000)); /* mapped through to the device */
	assert_null(msix_region(&g, 0xc0000000));
	/* Reset state: every entry masked. */
	assert_int_equal(msix_mmio_read(&g, &g.dev[0], TABLE + 12), MSIX_ENTRY_CTRL_MASKED);
	guest_entry(0, 0xfee01000, 0x41, MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(msix_mmio_read(&g, &g.dev[0], TABLE), 0xfee01000);
	assert_int_equal(msix_mmio_read(&g, &g.dev[0], TABLE + 8), 0x41);
	/* The physical entry never saw the guest's message. */
	assert_int_equal(phys_bar3[0], 0);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	(void)state;
}

static void test_msix_unmask_routes(void **state)
{
	guest_entry(0, 0xfee01000, 0x41, 0);
	/* MSI-X not enabled yet: nothing live. */
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2) & MSIX_CTRL_ENABLE, 0);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2), MSIX_CTRL_ENABLE | 0x0002);
	assert_true(cfg[0x73] & 0x80);		    /* enabled in hardware */
	assert_int_equal(phys_bar3[0], 0xfee00010); /* IRTE 0, remappable format */
	assert_int_equal(phys_bar3[3], 0);
	assert_int_equal(last_cfg.dest_apic_id, 1);
	assert_int_equal(last_cfg.vector, 0x41);
	assert_int_equal(msix_irtes(&g), 1);
	/* The host vector fires: the guest's vector is raised, the message counted. */
	assert_int_equal(msix_messages(&g.dev[0]), 0);
	vec_fn(NULL, vec_ctx);
	assert_int_equal(raised, 0x41);
	assert_int_equal(msix_messages(&g.dev[0]), 1);
	/* Per-vector mask, then function mask. */
	msix_mmio_write(&g, &g.dev[0], TABLE + 12, 1);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	msix_mmio_write(&g, &g.dev[0], TABLE + 12, 0);
	assert_int_equal(phys_bar3[3], 0);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2) & MSIX_CTRL_FMASK, MSIX_CTRL_FMASK);
	assert_false(cfg[0x73] & 0x40); /* the function itself stays unmasked */
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	assert_int_equal(phys_bar3[3], 0);
	/* One IRTE per entry, reused. */
	assert_int_equal(msix_irtes(&g), 1);
	msix_release(&g.dev[0]);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(irtes_in_use, 0);
	msix_free_vectors(&g.dev[0]);
	assert_int_equal(vectors_in_use, 0);
	(void)state;
}

/* A released device's interrupt may still be in flight or pending in its CPU's IRR: its
 * host vector is not handed out again (first fit would give it to the next owner, during
 * the function reset) until it is drained there. Order: entry masked, IRTE freed, vector to
 * the quarantine (an interrupt arriving now raises nothing in the old guest's or anyone's
 * vectors), and only after the reset, drained and freed. */
static void test_msix_release_quarantine(void **state)
{
	static const int order[] = {EV_IRTE_FREE, EV_QUARANTINE, EV_DRAIN, EV_VECTOR_FREE};
	u64 strays = msix_quarantine_strays();

	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee01000, 0x41, 0);
	assert_int_equal(vectors_in_use, 1);
	nr_events = 0;
	msix_release(&g.dev[0]);
	assert_int_equal(ctrl_when_irte_freed, MSIX_ENTRY_CTRL_MASKED); /* masked first */
	assert_int_equal(irtes_in_use, 0);
	/* the function reset runs now: the vector is still taken, so nobody else gets it */
	assert_int_equal(vectors_in_use, 1);
	assert_non_null(vec_fn);
	vec_fn(NULL, vec_ctx); /* the late interrupt */
	assert_int_equal(raised, -1);
	assert_int_equal(msix_quarantine_strays(), strays + 1);
	assert_int_equal(msix_messages(&g.dev[0]), 0); /* not the guest's */
	msix_free_vectors(&g.dev[0]);
	assert_int_equal(vectors_in_use, 0);
	assert_int_equal(nr_events, 4);
	assert_memory_equal(events, order, sizeof(order));
	(void)state;
}

/* A vector that does not drain leaves the vector in quarantine for good rather than
 * reusing it. */
static void test_msix_quarantine_kept(void **state)
{
	u32 taken, back, taken0, back0;

	msix_host_vectors(&taken0, &back0);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee01000, 0x41, 0);
	guest_entry(1, 0xfee01000, 0x42, 0);
	assert_int_equal(vectors_in_use, 2);
	msix_release(&g.dev[0]);
	drain_fails = 1;
	shim_warnings_logged = 0;
	msix_free_vectors(&g.dev[0]);
	assert_int_equal(vectors_in_use, 1); /* entry 0 stayed, entry 1 drained and freed */
	assert_int_equal(shim_warnings_logged, 1);
	assert_non_null(strstr(shim_last_log, "stays in quarantine"));
	msix_host_vectors(&taken, &back);
	assert_int_equal(taken - taken0, 2);
	assert_int_equal(back - back0, 1);
	(void)state;
}

/* An SMP OS guest's entries target the CPUs of the vCPUs they name: each vector is drained
 * (that CPU's IRR and ISR) and freed on the CPU its entry targeted, wherever the device is
 * released, so none is checked on the wrong CPU and none stays held. */
static void test_msix_free_on_each_cpu(void **state)
{
	static const int order[] = {EV_DRAIN, EV_VECTOR_FREE, EV_DRAIN, EV_VECTOR_FREE};
	u32 taken, back, taken0, back0;

	msix_host_vectors(&taken0, &back0);
	strcpy(g.cfg.kernel, "vmlinuz");
	g.nr_vcpus = 2;
	g.vcpu[1].cpu = 2;
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee00000, 0x41, 0); /* vCPU 0: CPU 1 */
	guest_entry(1, 0xfee01000, 0x42, 0); /* vCPU 1: CPU 2 */
	assert_int_equal(last_cfg.dest_apic_id, 6);
	assert_int_equal(vectors_in_use, 2);
	msix_release(&g.dev[0]);
	nr_events = 0;
	nr_drains = 0;
	msix_free_vectors(&g.dev[0]);
	assert_int_equal(nr_events, 4);
	assert_memory_equal(events, order, sizeof(order));
	assert_int_equal(nr_drains, 2);
	assert_int_equal(drain_cpus[0], 1);
	assert_int_equal(drain_cpus[1], 2);
	assert_int_equal(vectors_in_use, 0);
	msix_host_vectors(&taken, &back);
	assert_int_equal(taken - taken0, 2);
	assert_int_equal(back - back0, 2);
	(void)state;
}

/* Linux without interrupt remapping writes logical flat destinations (1 << cpu): the IRTE
 * targets the CPU of the vCPU named, not the boot vCPU's, so the interrupt is taken where
 * it lands (no kick from vCPU 0's CPU); the message itself is delivered as written. */
static void test_msix_logical_target_cpu(void **state)
{
	strcpy(g.cfg.kernel, "vmlinuz");
	g.nr_vcpus = 2;
	g.vcpu[1].cpu = 2;
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee02004, 0x41, 0); /* logical, flat: CPU 1 */
	assert_int_equal(last_cfg.dest_apic_id, 6);
	guest_entry(1, 0xfee01004, 0x42, 0); /* logical, flat: CPU 0 */
	assert_int_equal(last_cfg.dest_apic_id, 1);
	guest_entry(2, 0xfee03004, 0x43, 0); /* both: the first */
	assert_int_equal(last_cfg.dest_apic_id, 1);
	vec_fn(NULL, vec_ctx);
	assert_true(delivered.logical);
	assert_int_equal(delivered.dest, 3);
	(void)state;
}

static void test_msix_bad_entry_refused(void **state)
{
	vpci_write(&g, DEV1, 0x70, 4, (u32)MSIX_CTRL_ENABLE << 16);
	guest_entry(1, 0xfee02000, 0x41, 0); /* another CPU */
	guest_entry(2, 0xfee01000, 0x10, 0); /* an exception vector */
	assert_int_equal(g.msix_refused, 2);
	assert_int_equal(phys_bar3[4 + 3], MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(phys_bar3[8 + 3], MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(irtes_in_use, 0);
	(void)state;
}

/* Table writes made while memory decode was off never reached the device: turning decode
 * on writes the physical entries again. */
static void test_msix_refresh_on_decode(void **state)
{
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee01000, 0x41, 0);
	memset(phys_bar3, 0, 16); /* what a device without decode kept */
	phys_bar3[3] = MSIX_ENTRY_CTRL_MASKED;
	vpci_write(&g, DEV1, 0x04, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(phys_bar3[0], 0xfee00010);
	assert_int_equal(phys_bar3[3], 0);
	/* Only the off-to-on change rewrites. */
	phys_bar3[0] = 0;
	vpci_write(&g, DEV1, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(phys_bar3[0], 0);
	(void)state;
}

/* The host vector stands for the vector the entry had when moat checked it and made it
 * live: rewriting the entry afterwards (masked, or unmasked and refused) while the device's
 * message is in flight must not make moat inject an unchecked vector (NMI, exceptions). */
static void test_msix_vector_fixed_when_live(void **state)
{
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee01000, 0x41, 0);
	assert_int_equal(phys_bar3[3], 0);
	/* Unmasked rewrite to vector 2: refused, masked in hardware, the old message lands. */
	msix_mmio_write(&g, &g.dev[0], TABLE + 8, 0x02);
	assert_int_equal(g.msix_refused, 1);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	vec_fn(NULL, vec_ctx);
	assert_int_equal(raised, 0x41);
	/* Masked, then rewritten (masked entries are not checked). */
	guest_entry(0, 0xfee01000, 0x42, 0);
	msix_mmio_write(&g, &g.dev[0], TABLE + 12, MSIX_ENTRY_CTRL_MASKED);
	msix_mmio_write(&g, &g.dev[0], TABLE + 8, 0x0e);
	raised = -1;
	vec_fn(NULL, vec_ctx);
	assert_int_equal(raised, 0x42);
	(void)state;
}

static void test_msix_pba(void **state)
{
	phys_bar3[0x2000 / 4] = 0x4;
	assert_int_equal(msix_mmio_read(&g, &g.dev[0], PBA), 0x4);
	msix_mmio_write(&g, &g.dev[0], PBA, 0);
	assert_int_equal(phys_bar3[0x2000 / 4], 0x4); /* read-only */
	/* Entries past the table read as masked, empty. */
	assert_int_equal(msix_mmio_read(&g, &g.dev[0], TABLE + 0x100), 0);
	(void)state;
}

/* An OS guest (Linux) addresses its vCPUs by their virtual APIC IDs (0..nr_vcpus-1), in
 * physical or logical mode (Linux's xAPIC "flat" driver: logical, 1 << cpu), fixed or
 * lowest-priority; nothing else. */
static void test_msix_entry_check_os(void **state)
{
	struct vlapic_msg m;
	char why[96];
	u32 e[4] = {0xfee01000, 0, 0x41, 0};

	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), 0);
	assert_int_equal(m.dest, 1);
	assert_false(m.logical);
	assert_int_equal(m.vector, 0x41);
	assert_int_equal(m.mode, VLAPIC_DM_FIXED);
	e[0] = 0xfee02000; /* APIC ID 2: no such vCPU */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "destination APIC 2 is none of its 2 vCPUs"));
	e[0] = 0xfee02004; /* logical, flat: CPU 1 */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), 0);
	assert_true(m.logical);
	assert_int_equal(m.dest, 2);
	e[0] = 0xfee0200c; /* logical with redirection hint */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), 0);
	e[0] = 0xfee00004; /* logical, nobody */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[0] = 0xfee00010; /* remappable format: the host's IRTEs are not the guest's */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[0] = 0xfee00000;
	e[2] = 0x141; /* lowest priority */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), 0);
	assert_int_equal(m.mode, VLAPIC_DM_LOWEST);
	e[2] = 0x441; /* NMI */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[2] = 0x541; /* INIT */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[2] = 0x8041; /* level */
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[2] = 0x1f;
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	e[2] = 0x41;
	e[1] = 1;
	assert_int_equal(msix_entry_check_os(e, 2, &m, why, sizeof(why)), -EINVAL);
	(void)state;
}

/* What Linux's PCI core and igbvf do to the VF, in order (6.1: __pci_read_base,
 * pci_enable_device_mem, pci_set_master, msix_capability_init, request_irq's unmask,
 * free_irq, pci_disable_msix), twice (rmmod; modprobe): the BARs size and stay, the vectors
 * arrive at the guest's vLAPICs with the message's destination, the IRTE targets the
 * physical CPU of the vCPU named. */
static void linux_size_bar(unsigned reg, bool mem64)
{
	u32 lo = vpci_read(&g, DEV1, reg, 4), hi = mem64 ? vpci_read(&g, DEV1, reg + 4, 4) : 0;

	vpci_write(&g, DEV1, reg, 4, 0xffffffff);
	assert_int_equal(vpci_read(&g, DEV1, reg, 4), 0xffffc00c);
	vpci_write(&g, DEV1, reg, 4, lo);
	if (mem64) {
		vpci_write(&g, DEV1, reg + 4, 4, 0xffffffff);
		assert_int_equal(vpci_read(&g, DEV1, reg + 4, 4), 0xffffffff);
		vpci_write(&g, DEV1, reg + 4, 4, hi);
	}
}

static void linux_probe_and_open(void)
{
	u16 cmd = (u16)vpci_read(&g, DEV1, PCI_COMMAND, 2), ctrl;

	vpci_write(&g, DEV1, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	linux_size_bar(0x10, true);
	linux_size_bar(0x1c, true);
	vpci_write(&g, DEV1, PCI_COMMAND, 2, cmd);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	/* pci_enable_device_mem, pci_set_master */
	vpci_write(&g, DEV1, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
	vpci_write(&g, DEV1, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* msix_capability_init: disabled, size read, enabled with the function masked, each
	 * entry's control read and masked, the function unmasked */
	ctrl = (u16)vpci_read(&g, DEV1, 0x72, 2);
	vpci_write(&g, DEV1, 0x72, 2, ctrl & ~MSIX_CTRL_ENABLE);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2) & MSIX_CTRL_SIZE, 2);
	vpci_write(&g, DEV1, 0x72, 2, ctrl | MSIX_CTRL_FMASK | MSIX_CTRL_ENABLE);
	for (unsigned i = 0; i < 3; i++) {
		u32 c = msix_mmio_read(&g, &g.dev[0], TABLE + 16 * i + 12);

		assert_true(c & MSIX_ENTRY_CTRL_MASKED);
		msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 12, c | MSIX_ENTRY_CTRL_MASKED);
	}
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	/* request_irq: each message written while masked (read back), then unmasked: RX and
	 * TX to vCPU 1 by APIC ID, the mailbox in logical mode to CPU 0 (flat: bit 0) */
	for (unsigned i = 0; i < 3; i++) {
		u32 addr = i < 2 ? 0xfee01000 : 0xfee01004;

		msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i, addr);
		msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 4, 0);
		msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 8, 0x41 + i);
		assert_int_equal(msix_mmio_read(&g, &g.dev[0], TABLE + 16 * i + 8), 0x41 + i);
		assert_int_equal(phys_bar3[4 * i + 3], MSIX_ENTRY_CTRL_MASKED);
		msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 12, 0);
		assert_int_equal(phys_bar3[4 * i + 3], 0);
		assert_int_equal(last_cfg.dest_apic_id, i < 2 ? 6 : 1);
	}
}

static void test_msix_linux_guest(void **state)
{
	strcpy(g.cfg.kernel, "vmlinuz");
	g.nr_vcpus = 2;
	g.vcpu[1].cpu = 2;
	for (unsigned round = 0; round < 2; round++) {
		linux_probe_and_open();
		assert_int_equal(msix_irtes(&g), 3);
		assert_int_equal(vectors_in_use, 3);
		/* The RX entry's host vector fires: vCPU 1's vLAPIC gets vector 0x41. */
		vec_fn(NULL, vec_ctx); /* the last allocated: entry 2, the mailbox */
		assert_int_equal(deliveries, 1);
		assert_true(delivered.logical);
		assert_int_equal(delivered.dest, 1);
		assert_int_equal(delivered.vector, 0x43);
		assert_int_equal(raised, -1); /* not moat's own guests' path */
		deliver_result = -ENOENT;     /* the guest's LDRs name nobody */
		vec_fn(NULL, vec_ctx);
		assert_int_equal(g.msix_nowhere, 1);
		/* both messages arrived: counted per device, across the driver's reload */
		assert_int_equal(msix_messages(&g.dev[0]), 2 * (round + 1));
		deliver_result = 0;
		deliveries = 0;
		g.msix_nowhere = 0;
		/* free_irq masks each entry; pci_disable_msix masks them all and disables */
		for (unsigned i = 0; i < 3; i++) {
			msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 12, MSIX_ENTRY_CTRL_MASKED);
			assert_int_equal(phys_bar3[4 * i + 3], MSIX_ENTRY_CTRL_MASKED);
		}
		vpci_write(&g, DEV1, 0x72, 2, 0);
		assert_false(cfg[0x73] & 0x80);
	}
	assert_int_equal(g.msix_refused, 0);
	assert_int_equal(g.bar_refused, 0);
	/* A message Linux would never write for it: refused, the entry stays masked. */
	msix_mmio_write(&g, &g.dev[0], TABLE + 12, MSIX_ENTRY_CTRL_MASKED);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	msix_mmio_write(&g, &g.dev[0], TABLE, 0xfee05000);
	msix_mmio_write(&g, &g.dev[0], TABLE + 12, 0);
	assert_int_equal(g.msix_refused, 1);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED);
	(void)state;
}

/* ---- function level reset from inside the guest (vmm/vflr.c) */
#define DEVCTL 0xa8
#define FLR_WAIT_US (PCI_FLR_WAIT_MS * 1000ull)

/* What Linux's pcie_flr does: Device Control read, Initiate FLR or'ed in, written back. */
static void guest_flr(void)
{
	u16 ctl = (u16)vpci_read(&g, DEV1, DEVCTL, 2);

	vpci_write(&g, DEV1, DEVCTL, 2, ctl | 0x8000);
}

/* The driver's state before the reset: decode and bus master on, MSI-X on with entry 0
 * live (vector 0x41) and entry 1 written but masked, BAR0 being sized. */
static void driver_running(void)
{
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	guest_entry(0, 0xfee01000, 0x41, 0);
	guest_entry(1, 0xfee01000, 0x42, MSIX_ENTRY_CTRL_MASKED);
	vpci_write(&g, DEV1, 0x10, 4, 0xffffffff);
	assert_int_equal(phys_bar3[3], 0);
	assert_int_equal(irtes_in_use, 1);
	assert_int_equal(vectors_in_use, 1);
}

/* Initiate FLR: the interrupt is cut first (physical entry masked, then its IRTE freed),
 * then DMA (bus master off in hardware), then the function is reset; the guest sees the
 * state a reset function has: Command 0, MSI-X disabled and unmasked, every entry masked
 * and empty, the BAR at its address (not sizing). moat's placement stays. */
static void test_flr_resets_guest_state(void **state)
{
	static const int order[] = {EV_IRTE_FREE, EV_FLR_START};
	struct vdev *v = &g.dev[0];

	driver_running();
	nr_events = 0;
	guest_flr();
	assert_int_equal(flr_starts, 1);
	assert_int_equal(nr_events, 2);
	assert_memory_equal(events, order, sizeof(order));
	assert_int_equal(ctrl_when_irte_freed, MSIX_ENTRY_CTRL_MASKED);
	assert_int_equal(cmd_at_flr & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(irtes_in_use, 0);
	assert_int_equal(msix_irtes(&g), 0);
	assert_int_equal(v->flr_state, VFLR_RESETTING);
	/* The guest's view (these reads wait the reset out: see test_flr_wait) */
	assert_int_equal(vpci_read(&g, DEV1, PCI_COMMAND, 2), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2), 0x0002); /* size only */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(msix_mmio_read(&g, v, TABLE + 16 * i), 0);
		assert_int_equal(msix_mmio_read(&g, v, TABLE + 16 * i + 8), 0);
		assert_int_equal(msix_mmio_read(&g, v, TABLE + 16 * i + 12),
				 MSIX_ENTRY_CTRL_MASKED);
	}
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	assert_int_equal(v->bar_gpa[0], 0xc0000000);
	/* The host vector stays the guest's: a message already past the IOMMU raises the
	 * guest's own vector, nobody else's. */
	assert_int_equal(vectors_in_use, 1);
	vec_fn(NULL, vec_ctx);
	assert_int_equal(raised, 0x41);
	assert_int_equal(g.msix_refused, 0);
}

/* Until the guest programs an entry again nothing is routed; then a new IRTE carries it,
 * on the same host vector (re-probe after the reset, as Linux's restore or a new driver
 * does it). */
static void test_flr_reprogram(void **state)
{
	driver_running();
	guest_flr();
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(pci_read16(&vf, PCI_COMMAND), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	guest_entry(0, 0xfee01000, 0x45, 0);
	assert_int_equal(phys_bar3[3], MSIX_ENTRY_CTRL_MASKED); /* MSI-X still disabled */
	assert_int_equal(irtes_in_use, 0);
	vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
	assert_true(cfg[0x73] & 0x80);
	assert_int_equal(phys_bar3[0], 0xfee00010); /* a new IRTE (the mock reuses index 0) */
	assert_true(g.dev[0].msix.have_irq[0]);
	assert_int_equal(phys_bar3[3], 0);
	assert_int_equal(irtes_in_use, 1);
	assert_int_equal(vectors_in_use, 1);
	assert_int_equal(last_cfg.vector, 0x41); /* the host vector it had */
	vec_fn(NULL, vec_ctx);
	assert_int_equal(raised, 0x45);
}

/* The guest's vCPU does not wait for the reset when it initiates it: the 100 ms are waited
 * out by its next access to the device that reaches moat (config space, MSI-X table), and
 * only for what is left of them; then moat waits until the function answers. */
static void test_flr_wait(void **state)
{
	struct vdev *v = &g.dev[0];
	u64 t;

	driver_running();
	t = fake_us;
	guest_flr();
	assert_true(fake_us - t < 1000);
	assert_int_equal(flr_readies, 0);
	fake_us += 30000; /* the guest ran 30 ms */
	t = fake_us;
	vdev_lock(&g, v); /* an MSI-X table access (vmm/mmio.c) */
	vdev_unlock(v);
	assert_true(fake_us >= flr_start_us + FLR_WAIT_US);
	assert_true(fake_us - t < FLR_WAIT_US - 30000 + 1000);
	assert_int_equal(flr_readies, 1);
	assert_true(flr_ready_us >= flr_start_us + FLR_WAIT_US);
	assert_int_equal(v->flr_state, VFLR_IDLE);
	/* Past the 100 ms nothing waits. */
	guest_flr();
	fake_us += 2 * FLR_WAIT_US;
	t = fake_us;
	assert_int_equal(vpci_read(&g, DEV1, 0, 4), 0x10ca8086);
	assert_true(fake_us - t < 1000);
	assert_int_equal(flr_readies, 2);
	/* A function that does not come back is logged; the guest sees the reset state. */
	flr_ready_result = -ETIMEDOUT;
	shim_errors_logged = 0;
	guest_flr();
	vpci_read(&g, DEV1, 0, 4);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "guest t: 00:01.0 does not answer"));
	assert_int_equal(v->flrs_failed, 1);
	assert_int_equal(v->flr_state, VFLR_IDLE);
}

/* A guest that resets its VF in a loop: every reset is real and costs that guest's vCPU
 * its 100 ms (the next one waits for the last), nothing leaks (IRTEs, host vectors), the
 * log says it a few times a second. */
#define FLR_STORM 50

static void test_flr_storm(void **state)
{
	struct vdev *v = &g.dev[0];
	u64 t0;

	driver_running();
	t0 = fake_us;
	for (unsigned i = 0; i < FLR_STORM; i++) {
		guest_flr();
		vpci_write(&g, DEV1, 0x72, 2, MSIX_CTRL_ENABLE);
		guest_entry(0, 0xfee01000, 0x41, 0);
		assert_int_equal(irtes_in_use, 1);
	}
	assert_int_equal(flr_starts, FLR_STORM);
	assert_int_equal(flr_readies, FLR_STORM); /* each waited out by the next access */
	assert_true(fake_us - t0 >= FLR_STORM * FLR_WAIT_US);
	assert_int_equal(vectors_in_use, 1);
	assert_int_equal(v->flrs, FLR_STORM);
	assert_true(v->flr_log.suppressed + v->flr_log.used <= FLR_STORM);
	assert_true(v->flr_log.used <= VFLR_LOG_BURST);
	/* Released in the middle of one: the reset is over before moat's own begins. */
	guest_flr();
	vflr_settle(&g, v);
	assert_int_equal(flr_readies, FLR_STORM + 1);
}

/* FLR is offered and done only where the hardware has it, and only on a VF: another
 * function's reset would clear BARs moat placed. A function that refuses the reset stays
 * as it is. */
static void test_flr_not_offered(void **state)
{
	cfg[0xa7] &= (u8)~0x10; /* the hardware has no FLR */
	assert_int_equal(vpci_read(&g, DEV1, 0xa4, 4), 0x00008000);
	guest_flr();
	assert_int_equal(flr_starts, 0);
	cfg[0xa7] |= 0x10;
	vf.is_vf = false; /* a physical function with FLR */
	assert_int_equal(vpci_read(&g, DEV1, 0xa4, 4), 0x00008000);
	guest_flr();
	assert_int_equal(flr_starts, 0);
	vf.is_vf = true;
	flr_start_result = -ENOTSUP;
	guest_flr();
	assert_int_equal(flr_starts, 1);
	assert_int_equal(g.dev[0].flrs_failed, 1);
	assert_int_equal(g.dev[0].flr_state, VFLR_IDLE);
	/* Bits other than Initiate FLR, in a dword write with Device Status: no reset. */
	vpci_write(&g, DEV1, DEVCTL, 4, 0xffff7fff);
	assert_int_equal(flr_starts, 1);
	/* A byte write to the upper byte of Device Control carries it. */
	flr_start_result = 0;
	vpci_write(&g, DEV1, DEVCTL + 1, 1, 0x80);
	assert_int_equal(flr_starts, 2);
}

/* `echo 1 > /sys/bus/pci/devices/<vf>/reset` in a Linux guest with igbvf loaded (6.1:
 * pci_reset_function -> pci_dev_save_and_disable, pcie_flr, pci_dev_restore): the config
 * header and the MSI-X state saved, Command set to INTx disable only, the FLR, 100 ms and
 * the wait for the function (Command read), then the header written back where it differs,
 * Device Control restored (without Initiate FLR), and MSI-X restored: enabled with the
 * function masked, every entry's message and mask written, the function unmasked. The
 * driver's interrupts come back through new IRTEs on the same host vectors. */
static unsigned bar_pages_mapped(void);

static void test_flr_linux_sysfs_reset(void **state)
{
	u32 hdr[16], entry[3][4];
	u16 mctl, devctl;
	unsigned flrs;

	strcpy(g.cfg.kernel, "vmlinuz");
	g.nr_vcpus = 2;
	g.vcpu[1].cpu = 2;
	linux_probe_and_open();
	for (unsigned round = 0; round < 3; round++) {
		/* pci_save_state */
		for (unsigned i = 0; i < 16; i++)
			hdr[i] = vpci_read(&g, DEV1, (u16)(4 * i), 4);
		devctl = (u16)vpci_read(&g, DEV1, DEVCTL, 2);
		mctl = (u16)vpci_read(&g, DEV1, 0x72, 2);
		for (unsigned i = 0; i < 3; i++)
			for (unsigned w = 0; w < 4; w++)
				entry[i][w] = msix_mmio_read(&g, &g.dev[0], TABLE + 16 * i + 4 * w);
		assert_int_equal(bar_pages_mapped(), 6);
		vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
		assert_int_equal(bar_pages_mapped(), 0); /* decode off: vmm/vbar.c */
		/* pcie_flr */
		flrs = flr_starts;
		assert_int_equal(vpci_read(&g, DEV1, 0xaa, 2) & BIT(5), 0); /* no TRPND */
		guest_flr();
		assert_int_equal(flr_starts, flrs + 1);
		fake_us += FLR_WAIT_US; /* msleep(100) */
		assert_int_not_equal(vpci_read(&g, DEV1, PCI_COMMAND, 4), 0xffffffff);
		assert_int_equal(msix_irtes(&g), 0);
		/* pci_restore_state: PCIe, then the header from the top where it differs */
		vpci_write(&g, DEV1, DEVCTL, 2, devctl);
		assert_int_equal(flr_starts, flrs + 1);
		for (int i = 15; i >= 0; i--)
			if (vpci_read(&g, DEV1, (u16)(4 * i), 4) != hdr[i])
				vpci_write(&g, DEV1, (u16)(4 * i), 4, hdr[i]);
		assert_int_equal(vpci_read(&g, DEV1, PCI_COMMAND, 2),
				 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		assert_int_equal(bar_pages_mapped(), 6);
		/* pci_restore_msix_state */
		vpci_write(&g, DEV1, 0x72, 2, mctl | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
		for (unsigned i = 0; i < 3; i++) {
			for (unsigned w = 0; w < 3; w++)
				msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 4 * w, entry[i][w]);
			msix_mmio_write(&g, &g.dev[0], TABLE + 16 * i + 12, entry[i][3]);
			assert_int_equal(phys_bar3[4 * i + 3], MSIX_ENTRY_CTRL_MASKED);
		}
		vpci_write(&g, DEV1, 0x72, 2, mctl & ~MSIX_CTRL_FMASK);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(phys_bar3[4 * i + 3], 0);
		assert_int_equal(msix_irtes(&g), 3);
		assert_int_equal(vectors_in_use, 3);
		assert_int_equal(last_cfg.dest_apic_id, 1); /* entry 2: logical, the boot vCPU */
		vec_fn(NULL, vec_ctx);
		assert_int_equal(delivered.vector, 0x43);
	}
	assert_int_equal(g.msix_refused, 0);
	assert_int_equal(g.bar_refused, 0);
}

/* BAR pages in the guest's nested tables: none before the guest turns memory decode on,
 * every page of BAR0 and the BAR3 pages without MSI-X table or PBA once it has, uncached
 * and pointing at the function; none again once it turns decode off, and then every vCPU
 * flushes its nested TLB before it runs guest code again. */
static bool npt_has(u64 gpa, u64 *hpa)
{
	u32 flags = 0;
	u64 pa = 0;

	if (pt_lookup(&g.npt, gpa, &pa, &flags, NULL))
		return false;
	assert_int_equal(FIELD_GET(PT_MT, flags), PT_MT_UC);
	if (hpa)
		*hpa = pa;
	return true;
}

static unsigned bar_pages_mapped(void)
{
	unsigned n = 0;

	for (u64 off = 0; off < 0x8000; off += 0x1000)
		n += npt_has(0xc0000000 + off, NULL);
	return n;
}

static void test_bars_follow_decode(void **state)
{
	struct vdev *v = &g.dev[0];
	u64 hpa;
	u32 val = 0;

	assert_int_equal(bar_pages_mapped(), 0);
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(bar_pages_mapped(), 0);
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_true(v->bars_mapped);
	assert_int_equal(bar_pages_mapped(), 6); /* BAR0's 4, BAR3's 2 of 4 */
	assert_true(npt_has(0xc0003008, &hpa));
	assert_int_equal(hpa, 0xfe003008);
	assert_false(npt_has(TABLE, NULL));
	assert_false(npt_has(PBA, NULL));
	assert_true(npt_has(TABLE + 0x1000, &hpa));
	assert_int_equal(hpa, (u64)(uintptr_t)phys_bar3 + 0x1000);
	/* Off: out of the tables, the TLB flush owed by the vCPU at its next entry. */
	npt_flush_enter(&g.vcpu[0]);
	npt_flush_exit(&g.vcpu[0]);
	assert_int_equal(tlb_flushes[0], 0);
	vpci_write(&g, DEV1, PCI_COMMAND, 1, PCI_COMMAND_MASTER);
	assert_false(v->bars_mapped);
	assert_int_equal(bar_pages_mapped(), 0);
	assert_int_equal(kicks[0], 0); /* this vCPU is not in the guest: it is here */
	npt_flush_enter(&g.vcpu[0]);
	npt_flush_exit(&g.vcpu[0]);
	assert_int_equal(tlb_flushes[0], 1);
	npt_flush_enter(&g.vcpu[0]); /* once */
	assert_int_equal(tlb_flushes[0], 1);
	/* What the guest's access gets meanwhile (vmm/mmio.c sends it here). */
	assert_ptr_equal(vbar_region(&g, 0xc0000008, NULL), v);
	assert_ptr_equal(vbar_region(&g, TABLE + 0x1000, NULL), v);
	assert_null(vbar_region(&g, TABLE + 8, NULL)); /* the MSI-X table: vmm/msix.c */
	assert_null(vbar_region(&g, 0xc0008000, NULL));
	vbar_off_access(&g, v, 0xc0000008, false, &val);
	assert_int_equal(val, 0xffffffff);
	vbar_off_access(&g, v, 0xc0000008, true, &val);
	assert_int_equal(v->bar_off_reads, 1);
	assert_int_equal(v->bar_off_writes, 1);
	/* On again: the same pages back. */
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(bar_pages_mapped(), 6);
	/* The guest's log lines per device are limited: 4 a second. */
	for (unsigned i = 0; i < 100; i++)
		vbar_off_access(&g, v, 0xc0000000, false, &val);
	assert_int_equal(v->bar_off_log.used, VBAR_LOG_BURST);
	(void)state;
}

/* Initiate FLR: the BAR pages are out of the nested tables (and every vCPU's TLB) before
 * the reset reaches the function, and stay out through the 100 ms; an access meanwhile is
 * answered all ones and logged as in the reset. Decode on after the reset maps them back. */
static void test_bars_unmapped_in_flr(void **state)
{
	struct vdev *v = &g.dev[0];
	u32 val = 0;

	driver_running();
	assert_int_equal(bar_pages_mapped(), 6);
	g.nr_vcpus = 2;
	g.vcpu[1].cpu = 2;
	npt_flush_enter(&g.vcpu[1]); /* vCPU 1 runs guest code on CPU 2 */
	shim_log_clear();
	guest_flr();
	assert_int_equal(flr_starts, 1);
	assert_false(bar_mapped_at_flr);
	assert_int_equal(kicks[1], 1);
	assert_int_equal(bar_pages_mapped(), 0);
	vbar_off_access(&g, v, 0xc0000000, false, &val);
	assert_int_equal(val, 0xffffffff);
	assert_true(shim_log_seen("guest t: read of BAR0+0 of 00:01.0 in its function level "
				  "reset: all ones (1 so far)"));
	/* Its next entry flushes. */
	npt_flush_enter(&g.vcpu[1]);
	assert_int_equal(tlb_flushes[1], 1);
	npt_flush_exit(&g.vcpu[1]);
	/* The reset is over (the config read waited): decode is still off (Command 0). */
	assert_int_equal(vpci_read(&g, DEV1, PCI_COMMAND, 2), 0);
	assert_int_equal(v->flr_state, VFLR_IDLE);
	assert_int_equal(bar_pages_mapped(), 0);
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(bar_pages_mapped(), 6);
	/* Decode turned on in the middle of a reset waits the reset out first. */
	guest_flr();
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(fake_us >= flr_start_us + FLR_WAIT_US);
	assert_int_equal(bar_pages_mapped(), 6);
	(void)state;
}

/* A vCPU that does not leave the guest when kicked: the wait is bounded, logged, counted;
 * the vCPU still flushes at its next entry. */
static void test_npt_flush_timeout(void **state)
{
	vpci_write(&g, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	g.nr_vcpus = 2;
	npt_flush_enter(&g.vcpu[1]);
	kick_ignored = true;
	shim_errors_logged = 0;
	vpci_write(&g, DEV1, PCI_COMMAND, 2, 0);
	assert_int_equal(bar_pages_mapped(), 0);
	assert_int_equal(kicks[1], 1);
	assert_int_equal(g.npt_flush_timeouts, 1);
	assert_int_equal(shim_errors_logged, 1);
	assert_non_null(strstr(shim_last_log, "vCPU 1 on cpu 0 did not leave the guest"));
	npt_flush_exit(&g.vcpu[1]);
	npt_flush_enter(&g.vcpu[1]);
	assert_int_equal(tlb_flushes[1], 1);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_host_bridge_and_ids, setup),
		cmocka_unit_test_setup(test_foreign_bdfs, setup),
		cmocka_unit_test_setup(test_capability_list, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_bar_moves_refused, setup),
		cmocka_unit_test_setup(test_command_filtered, setup),
		cmocka_unit_test_setup(test_msix_entry_check, setup),
		cmocka_unit_test_setup(test_msix_table_emulated, setup),
		cmocka_unit_test_setup(test_msix_unmask_routes, setup),
		cmocka_unit_test_setup(test_msix_release_quarantine, setup),
		cmocka_unit_test_setup(test_msix_quarantine_kept, setup),
		cmocka_unit_test_setup(test_msix_free_on_each_cpu, setup),
		cmocka_unit_test_setup(test_msix_logical_target_cpu, setup),
		cmocka_unit_test_setup(test_msix_bad_entry_refused, setup),
		cmocka_unit_test_setup(test_msix_refresh_on_decode, setup),
		cmocka_unit_test_setup(test_msix_vector_fixed_when_live, setup),
		cmocka_unit_test_setup(test_msix_pba, setup),
		cmocka_unit_test_setup(test_msix_entry_check_os, setup),
		cmocka_unit_test_setup(test_msix_linux_guest, setup),
		cmocka_unit_test_setup(test_flr_resets_guest_state, setup),
		cmocka_unit_test_setup(test_flr_reprogram, setup),
		cmocka_unit_test_setup(test_flr_wait, setup),
		cmocka_unit_test_setup(test_flr_storm, setup),
		cmocka_unit_test_setup(test_flr_not_offered, setup),
		cmocka_unit_test_setup(test_flr_linux_sysfs_reset, setup),
		cmocka_unit_test_setup(test_bars_follow_decode, setup),
		cmocka_unit_test_setup(test_bars_unmapped_in_flr, setup),
		cmocka_unit_test_setup(test_npt_flush_timeout, setup),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	pt_destroy(&g.npt);
	return failed;
}
