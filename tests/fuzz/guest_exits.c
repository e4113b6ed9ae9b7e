/* What a guest can make moat do through its exits (vmm/exit.c and the handlers behind it:
 * vmm/port_io.c port I/O with the UART of vmm/vuart.c and CF8/CFC, the IOAPIC of
 * vmm/vioapic.c behind its page and the UART's IRQ 4, vmm/vpci.c the virtual config
 * space, vmm/msix.c the MSI-X table and PBA, vmm/mmio.c the MOV emulation, vmm/hypercall.c
 * the hypercalls, with the test image's range of tests/hv/hypercalls.c when byte 0 bit 7
 * of the patch count says so): a guest with 64 KiB of RAM and one assigned VF (the igbvf layout of
 * the unit tests: MSI-X table in BAR3 at 0, PBA at 0x2000) takes a sequence of exits from the
 * input. Config space reads and writes go to the VF's real config space (which the input
 * may first patch: a device can lie); the only registers a guest may reach there are
 * Command and MSI-X Message Control.
 *   byte 0: patches of the VF's config space (count), then count x (offset 2, value 1)
 *   then exits until the input ends, an opcode byte each:
 *     0 port I/O    1 CF8 address + CFC data access    2 nested page fault (MSI-X pages
 *     or anywhere) with the instruction bytes at RIP    3 hypercall with a buffer in RAM
 *     4 CPUID    5 MSR read or write    6 any other exit reason
 * A stopped guest takes no more exits (as in moat). */
#include <stdlib.h>
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/hypercall.h>
#include <moat/string.h>
#include <moat/tap.h>
#include <moat/test_hooks.h>
#include "tests/hv/guest_state.h"
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/pt_x86.h"
#include "arch/x86/trap.h"
#include "vmm/exits.h"
#include "vmm/mmio.h"
#include "vmm/msix.h"
#include "vmm/vioapic.h"
#include "vmm/vpci.h"
#include "fuzz.h"

#define RAM_SIZE 0x10000
#define CODE_GPA 0x8000
#define BUF_GPA 0x9000
#define PT_GPA 0x1000
#define BAR0_GPA 0xc0000000ULL
#define BAR3_GPA 0xc0004000ULL
#define MSIX_BAR_SIZE 0x4000

/* ---- the host side: CPUs, vectors, interrupt remapping, the VF's config space */
struct percpu cpu_data[MAX_CPUS];
static u8 vf_cfg[4096];
static u32 *phys_bar3;
static struct pci_dev pf, vf;
static struct guest g;
static u8 *ram;
static u64 regs[VMM_REG_NR];
static unsigned cpl;
static u64 now_us;

int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	return 0x40;
}

int irq_free_drained(u8 vector, unsigned cpu, u32 *freed)
{
	return 0;
}

int irq_set_handler(u8 vector, irq_handler_t fn, void *ctx)
{
	return 0;
}

int iommu_irq_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq)
{
	if (sid != vf.rid)
		abort(); /* an IRTE for a requester ID that is not the guest's VF */
	irq->index = 1;
	irq->msi_addr = 0xfee00010u | 1u << 5;
	irq->msi_data = 0;
	return 0;
}

int iommu_irq_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg)
{
	return 0;
}

void iommu_irq_free(struct iommu_irq *irq) {}

void virq_raise(struct guest *gst, u8 vector) {}

int virq_halt(struct vcpu *v, const struct vmm_exit *e)
{
	return -ENOENT;
}

/* the virtual LAPIC (vmm/vlapic.c, reached through the MSR table) kicks no vCPU here */
void vcpu_kick(struct vcpu *v) {}

int irq_forge_expect(struct guest *gst, u64 addr, u64 data)
{
	return 0;
}

/* arch/x86/xcr0.c: the fuzzed guest's XSETBV reaches no CPU */
u64 xcr0_supported(void)
{
	return 0x7;
}
void xcr0_write(u64 val) {}

u64 tsc_hz(void)
{
	return 2000000000ULL;
}

u64 time_us(void)
{
	return now_us += 10;
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			abort(); /* a NUL reached the console */
}

void tap_count(enum tap_status st) {}

/* The test image's hooks (the hypercall range HC_TEST_FIRST..), or the product's none. */
static struct test_hooks hooks;
const struct test_hooks *const test_hooks = &hooks;

static void check_vf(const struct pci_dev *d, u16 off, unsigned width)
{
	if (d != &vf || off + width > sizeof(vf_cfg))
		abort();
}

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	check_vf(d, off, 2);
	return (u16)(vf_cfg[off] | vf_cfg[off + 1] << 8);
}

u32 pci_read32(const struct pci_dev *d, u16 off)
{
	check_vf(d, off, 4);
	return pci_read16(d, off) | (u32)pci_read16(d, off + 2) << 16;
}

void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	check_vf(d, off, 2);
	if (off != PCI_COMMAND && off != vf.cap_msix + 2)
		abort(); /* the guest reached a register that is not its own to write */
	vf_cfg[off] = (u8)v;
	vf_cfg[off + 1] = (u8)(v >> 8);
}

/* pci/reset.c: the VF's function level reset (the guest's, vmm/vflr.c) */
bool pci_has_flr(const struct pci_dev *d)
{
	check_vf(d, 0, 4);
	return d->cap_pcie && (pci_read32(d, d->cap_pcie + 4) & BIT(28));
}

int pci_flr_start(struct pci_dev *d)
{
	check_vf(d, 0, 4);
	vf_cfg[PCI_COMMAND] = vf_cfg[PCI_COMMAND + 1] = 0;
	return 0;
}

int pci_flr_ready(struct pci_dev *d)
{
	check_vf(d, 0, 4);
	return 0;
}

/* ---- the backend */
static u64 f_get(struct vcpu *v, enum vmm_reg r)
{
	if ((unsigned)r >= VMM_REG_NR)
		abort();
	return regs[r];
}

static void f_set(struct vcpu *v, enum vmm_reg r, u64 val)
{
	if ((unsigned)r >= VMM_REG_NR)
		abort();
	regs[r] = val;
}

static unsigned f_cpl(struct vcpu *v)
{
	return cpl;
}

static void f_skip(struct vcpu *v, const struct vmm_exit *e)
{
	regs[VMM_REG_RIP] = e->rip + e->insn_len;
}

static int f_inject(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	return 0;
}

static void f_dump(struct vcpu *v) {}

static void f_flush_nested_tlb(struct vcpu *v) {}

/* The guest's nested tables, where its BAR pages come and go with memory decode
 * (vmm/vbar.c): tables from libc, freed after each input. */
static void *npt_p2v(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}
static u64 npt_alloc(void *ctx)
{
	void *p = aligned_alloc(4096, 4096);

	return (u64)(uintptr_t)p;
}
static void npt_free(void *ctx, u64 pa)
{
	free((void *)(uintptr_t)pa);
}
static const struct pt_ops npt_ops = {npt_alloc, npt_free, npt_p2v, NULL, NULL};

static const struct vmm_backend fake = {
	.name = "fake",
	.get_reg = f_get,
	.set_reg = f_set,
	.get_cpl = f_cpl,
	.skip_instruction = f_skip,
	.inject_exception = f_inject,
	.dump = f_dump,
	.flush_nested_tlb = f_flush_nested_tlb,
};
const struct vmm_backend *vmm_be = &fake;
struct vmm_caps vmm_caps = {.hypercall_insn = VMM_HC_VMMCALL};

static void put32(u16 off, u32 v)
{
	memcpy(&vf_cfg[off], &v, 4);
}

static void put_ram64(u64 gpa, u64 v)
{
	memcpy(ram + gpa, &v, 8);
}

static void setup(void)
{
	memset(vf_cfg, 0, sizeof(vf_cfg));
	put32(0x00, 0xffffffff);
	put32(0x04, 0x00100000 | PCI_COMMAND_INTX_DISABLE);
	vf_cfg[0x34] = 0x70;
	put32(0x70, 0x0002a011);
	put32(0x74, 0x00000003);
	put32(0x78, 0x00002003);
	put32(0xa0, 0x00020010);
	put32(0xa4, 0x10008000);
	memset(&pf, 0, sizeof(pf));
	memset(&vf, 0, sizeof(vf));
	vf.vendor = 0x8086;
	vf.device = 0x10ca;
	vf.class = 0x020000;
	vf.revision = 1;
	vf.subsys_vendor = 0x8086;
	vf.is_vf = true;
	vf.pf = &pf;
	vf.cap_pcie = 0xa0;
	vf.cap_msix = 0x70;
	vf.bar[0] = (struct pci_bar){
		.base = 0xfe000000, .size = 0x4000, .type = PCI_BAR_MEM64, .prefetchable = true};
	vf.bar[3] = (struct pci_bar){.base = (u64)(uintptr_t)phys_bar3,
				     .size = MSIX_BAR_SIZE,
				     .type = PCI_BAR_MEM64,
				     .prefetchable = true};
	vf.rid = 0x0180;
	pf.rid = 0x0100;
	vf.msix = (struct pci_msix_info){
		.table_size = 3, .table_bir = 3, .pba_bir = 3, .pba_offset = 0x2000};
	memset(phys_bar3, 0, MSIX_BAR_SIZE);
	for (unsigned i = 0; i < 3; i++)
		phys_bar3[4 * i + 3] = MSIX_ENTRY_CTRL_MASKED;
	cpu_data[1].apic_id = 1;

	memset(ram, 0, RAM_SIZE);
	/* Identity map of the first 2 MiB: PML4 -> PDPT -> one 2 MiB page. */
	put_ram64(PT_GPA, (PT_GPA + 0x1000) | 3);
	put_ram64(PT_GPA + 0x1000, (PT_GPA + 0x2000) | 3);
	put_ram64(PT_GPA + 0x2000, 0x83);
	memset(regs, 0, sizeof(regs));
	regs[VMM_REG_CR3] = PT_GPA;
	regs[VMM_REG_RIP] = CODE_GPA;
	cpl = 0;

	memset(&g, 0, sizeof(g));
	memcpy(g.cfg.name, "fz", 3);
	g.id = 1;
	g.ram_hpa = (u64)(uintptr_t)ram;
	g.ram_size = RAM_SIZE;
	if (pt_init(&g.npt, &pt_format_npt, &npt_ops, 4, 2))
		abort();
	g.state = GUEST_RUNNING;
	g.vcpu[0].guest = &g;
	g.vcpu[0].cpu = 1;
	g.vcpu[0].gpr = regs;
	vcpu_cpuid_init(&g.vcpu[0]);
	g.nr_dev = 1;
	g.dev[0].pdev = &vf;
	g.dev[0].bar_gpa[0] = BAR0_GPA;
	g.dev[0].bar_gpa[3] = BAR3_GPA;
	msix_init(&g.dev[0]);
	vioapic_init(&g);
}

static const u16 ports[] = {0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x3f8, 0x3f9, 0x3fa, 0x3fb,
			    0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x80,  0x20,  0x21,  0x70,  0x71};
static const u8 sizes[] = {1, 2, 4};

static void io(u16 port, u8 size, bool in, u32 val, u8 flags)
{
	struct vmm_exit e = {.reason = VMM_EXIT_IO, .rip = regs[VMM_REG_RIP], .insn_len = 1};

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	e.io.string = flags & 1;
	e.io.rep = flags & 2;
	regs[VMM_REG_RAX] = val;
	vmm_handle_exit(&g.vcpu[0], &e);
}

static void one_exit(struct fin *f)
{
	struct vmm_exit e;
	u8 op = fin_u8(f);

	memset(&e, 0, sizeof(e));
	e.rip = regs[VMM_REG_RIP];
	switch (op % 7) {
	case 0: {
		u8 sel = fin_u8(f), how = fin_u8(f);
		u16 port =
			sel < 0x80 ? ports[sel % (sizeof(ports) / sizeof(ports[0]))] : fin_u16(f);

		io(port, sizes[how % 3], how & 4, fin_u32(f), how >> 3);
		return;
	}
	case 1: {
		u32 addr = fin_u32(f);
		u8 how = fin_u8(f);

		io(0xcf8, 4, false, addr, 0);
		if (g.state == GUEST_RUNNING)
			io((u16)(0xcfc + (how >> 4) % 4), sizes[how % 3], how & 4, fin_u32(f), 0);
		return;
	}
	case 2: {
		u8 code[MMIO_INSN_MAX], where = fin_u8(f);

		e.reason = VMM_EXIT_NPF;
		e.npf.gpa = where < 0xb0   ? BAR3_GPA + fin_u16(f) % MSIX_BAR_SIZE
			    : where < 0xe0 ? VIOAPIC_BASE + fin_u16(f) % VIOAPIC_SIZE
					   : fin_u64(f);
		e.npf.access = fin_u8(f) & 0x1f;
		memset(code, 0x90, sizeof(code));
		fin_bytes(f, code, sizeof(code));
		memcpy(ram + CODE_GPA, code, sizeof(code));
		e.rip = CODE_GPA;
		for (unsigned r = 0; r < 8; r++)
			regs[r] = fin_u32(f);
		break;
	}
	case 3: {
		u8 len = fin_u8(f);

		e.reason = VMM_EXIT_HYPERCALL;
		e.insn_len = 3;
		regs[VMM_REG_RAX] = fin_u8(f);
		if (regs[VMM_REG_RAX] >= 0x80) /* the test range: HC_TEST_FIRST + 0..0x7f */
			regs[VMM_REG_RAX] += HC_TEST_FIRST - 0x80;
		regs[VMM_REG_RDI] = fin_u64(f);
		regs[VMM_REG_RSI] = fin_u64(f);
		regs[VMM_REG_RDX] = fin_u64(f);
		cpl = fin_u8(f) % 4 == 3 ? 3 : 0;
		fin_bytes(f, ram + BUF_GPA, len);
		break;
	}
	case 4:
		e.reason = VMM_EXIT_CPUID;
		e.insn_len = 2;
		e.cpuid.leaf = fin_u32(f);
		e.cpuid.subleaf = fin_u32(f);
		break;
	case 5:
		e.reason = fin_u8(f) & 1 ? VMM_EXIT_MSR_WRITE : VMM_EXIT_MSR_READ;
		e.insn_len = 2;
		e.msr.index = fin_u32(f);
		e.msr.value = fin_u64(f);
		break;
	default: {
		/* The reasons without an I/O, CPUID, MSR or NPF payload (the decoders fill those
		 * for the reasons above, never with what is left in the union). */
		static const enum vmm_exit_reason others[] = {
			VMM_EXIT_NONE,	    VMM_EXIT_HLT,      VMM_EXIT_EXT_INTR, VMM_EXIT_NMI,
			VMM_EXIT_EXCEPTION, VMM_EXIT_SHUTDOWN, VMM_EXIT_WATCHDOG, VMM_EXIT_INVALID,
			VMM_EXIT_UNHANDLED, VMM_EXIT_VIRT_INSN};

		e.reason = others[fin_u8(f) % (sizeof(others) / sizeof(others[0]))];
		e.insn_len = fin_u8(f) % 16;
		e.raw = fin_u64(f);
		e.exc.vector = fin_u8(f);
		e.exc.has_error = e.exc.vector & 0x80;
		e.exc.error = fin_u32(f);
		break;
	}
	}
	vmm_handle_exit(&g.vcpu[0], &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};
	unsigned patches;

	if (!ram) {
		ram = malloc(RAM_SIZE);
		phys_bar3 = aligned_alloc(4096, MSIX_BAR_SIZE);
	}
	now_us = 0;
	setup();
	patches = fin_u8(&f);
	hooks.hypercall = patches & 0x80 ? test_hypercall : NULL;
	hooks.guest_npf = patches & 0x80 ? test_npf_ticks : NULL;
	test_state_reset(g.id);
	patches &= 0x7f;
	for (unsigned i = 0; i < patches; i++) {
		u16 off = fin_u16(&f) % sizeof(vf_cfg);

		vf_cfg[off] = fin_u8(&f);
	}
	while (f.n && g.state == GUEST_RUNNING)
		one_exit(&f);
	msix_release(&g.dev[0]);
	pt_destroy(&g.npt);
	return 0;
}
