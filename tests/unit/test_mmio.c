/* Emulated MMIO: the MOV forms decoded (lengths, registers, immediates, refusals), nested
 * page faults on an MSI-X page, on a BAR with memory decode off and on the IOAPIC's emulated
 * end to end through a guest page walk, and the guest walk itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "vmm/exits.h"
#include "vmm/mmio.h"
#include "vmm/guest_acpi.h"
#include "vmm/msix.h"
#include "vmm/vbar.h"
#include "vmm/vioapic.h"
#include "host_shim.h"

static struct guest g;

/* What vmm/vlapic.c needs from the rest of moat. */
void vcpu_kick(struct vcpu *v) {}
u64 tsc_hz(void)
{
	return 1000000000ULL;
}
u64 time_us(void)
{
	return 0;
}
static struct vdev dev;
static u64 regs[VMM_REG_NR];
static u64 last_gpa;
static u32 last_val, read_val = 0xfee01000;
static int writes, stops;

struct vdev *msix_region(struct guest *gst, u64 gpa)
{
	return gpa >= 0xc0004000 && gpa < 0xc0005000 ? &dev : NULL;
}

u32 msix_mmio_read(struct guest *gst, struct vdev *v, u64 gpa)
{
	last_gpa = gpa;
	return read_val;
}

void msix_mmio_write(struct guest *gst, struct vdev *v, u64 gpa, u32 val)
{
	last_gpa = gpa;
	last_val = val;
	writes++;
}

/* vmm/vflr.c: a function reset the guest started is over before its MSI-X table is
 * touched. */
static int settled;

void vflr_settle(struct guest *gst, struct vdev *v)
{
	assert_ptr_equal(v, &dev);
	assert_int_equal(dev.lock.next, dev.lock.owner + 1); /* under the device's lock */
	settled++;
}

int guest_stop(struct guest *gst, enum vmm_exit_reason why, const char *fmt, ...)
{
	stops++;
	gst->state = GUEST_STOPPED;
	return -EFAULT;
}

static u64 f_get(struct vcpu *v, enum vmm_reg r)
{
	return regs[r];
}
static void f_set(struct vcpu *v, enum vmm_reg r, u64 val)
{
	regs[r] = val;
}
static const struct vmm_backend fake = {.name = "fake", .get_reg = f_get, .set_reg = f_set};
const struct vmm_backend *vmm_be = &fake;

static void decodes_sized(const u8 *code, unsigned n, unsigned len, bool write, u8 reg, u8 size)
{
	struct mmio_insn in;

	assert_int_equal(mmio_decode(code, n, &in), 0);
	assert_int_equal(in.len, len);
	assert_int_equal(in.write, write);
	assert_int_equal(in.reg, reg);
	assert_int_equal(in.size, size);
}

static void decodes(const u8 *code, unsigned n, unsigned len, bool write, u8 reg)
{
	decodes_sized(code, n, len, write, reg, 4);
}

static void refused(const u8 *code, unsigned n)
{
	struct mmio_insn in;

	assert_int_equal(mmio_decode(code, n, &in), -ENOTSUP);
}

static void test_decode_forms(void **state)
{
	struct mmio_insn in;
	static const u8 load[] = {0x8b, 0x07};		       /* mov eax, [rdi] */
	static const u8 store[] = {0x89, 0x0e};		       /* mov [rsi], ecx */
	static const u8 store_r8[] = {0x44, 0x89, 0x46, 0x0c}; /* mov [rsi+12], r8d */
	static const u8 sib[] = {0x8b, 0x44, 0x24, 0x08};      /* mov eax, [rsp+8] */
	static const u8 rip_rel[] = {0x8b, 0x15, 1, 2, 3, 4};  /* mov edx, [rip+x] */
	static const u8 disp32[] = {0x41, 0x8b, 0x9c, 0x24,
				    0,	  0x10, 0,    0}; /* mov ebx, [r12+0x1000] */
	static const u8 imm[] = {0xc7, 0x87, 0x0c, 0, 0, 0, 0x01, 0, 0, 0}; /* movl [rdi+12], 1 */

	decodes(load, sizeof(load), 2, false, VMM_REG_RAX);
	decodes(store, sizeof(store), 2, true, VMM_REG_RCX);
	decodes(store_r8, sizeof(store_r8), 4, true, VMM_REG_R8);
	decodes(sib, sizeof(sib), 4, false, VMM_REG_RAX);
	decodes(rip_rel, sizeof(rip_rel), 6, false, VMM_REG_RDX);
	decodes(disp32, sizeof(disp32), 8, false, VMM_REG_RBX);
	assert_int_equal(mmio_decode(imm, sizeof(imm), &in), 0);
	assert_int_equal(in.len, 10);
	assert_true(in.write && in.imm);
	assert_int_equal(in.value, 1);
	assert_int_equal(in.size, 4);
	(void)state;
}

/* Other sizes (answered only for a BAR whose decode is off: vmm/vbar.c). */
static void test_decode_sizes(void **state)
{
	struct mmio_insn in;
	static const u8 rex_w[] = {0x48, 0x89, 0x07};		  /* mov [rdi], rax */
	static const u8 load64[] = {0x4c, 0x8b, 0x47, 0x08};	  /* mov r8, [rdi+8] */
	static const u8 load16[] = {0x66, 0x8b, 0x0e};		  /* mov cx, [rsi] */
	static const u8 store8[] = {0x88, 0x07};		  /* mov [rdi], al */
	static const u8 load_ah[] = {0x8a, 0x27};		  /* mov ah, [rdi] */
	static const u8 load_spl[] = {0x40, 0x8a, 0x27};	  /* mov spl, [rdi] */
	static const u8 imm8[] = {0xc6, 0x47, 0x04, 0x5a};	  /* movb [rdi+4], 0x5a */
	static const u8 imm16[] = {0x66, 0xc7, 0x07, 0x34, 0x12}; /* movw [rdi], 0x1234 */
	static const u8 imm64[] = {0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}; /* movq [rdi], -1 */

	decodes_sized(rex_w, sizeof(rex_w), 3, true, VMM_REG_RAX, 8);
	decodes_sized(load64, sizeof(load64), 4, false, VMM_REG_R8, 8);
	decodes_sized(load16, sizeof(load16), 3, false, VMM_REG_RCX, 2);
	decodes_sized(store8, sizeof(store8), 2, true, VMM_REG_RAX, 1);
	decodes_sized(load_ah, sizeof(load_ah), 2, false, VMM_REG_RAX, 1);
	assert_int_equal(mmio_decode(load_ah, sizeof(load_ah), &in), 0);
	assert_true(in.high_byte);
	decodes_sized(load_spl, sizeof(load_spl), 3, false, VMM_REG_RSP, 1);
	assert_int_equal(mmio_decode(load_spl, sizeof(load_spl), &in), 0);
	assert_false(in.high_byte);
	assert_int_equal(mmio_decode(imm8, sizeof(imm8), &in), 0);
	assert_true(in.imm && in.size == 1 && in.value == 0x5a && in.len == 4);
	assert_int_equal(mmio_decode(imm16, sizeof(imm16), &in), 0);
	assert_true(in.imm && in.size == 2 && in.value == 0x1234 && in.len == 5);
	assert_int_equal(mmio_decode(imm64, sizeof(imm64), &in), 0);
	assert_true(in.imm && in.size == 8 && in.value == 0xffffffff && in.len == 7);
	(void)state;
}

static void test_decode_refusals(void **state)
{
	static const u8 opsize_byte[] = {0x66, 0x88, 0x07};	/* 66 on a byte store */
	static const u8 movzx[] = {0x0f, 0xb6, 0x07};		/* movzx eax, byte [rdi] */
	static const u8 c6_reg1[] = {0xc6, 0x0f, 0};		/* C6 /1 is not a MOV */
	static const u8 imm16_cut[] = {0x66, 0xc7, 0x07, 0x34}; /* imm16 cut off */
	static const u8 reg_form[] = {0x8b, 0xc0};		/* mov eax, eax */
	static const u8 truncated[] = {0x8b, 0x80, 0x00};	/* disp32 cut off */
	static const u8 c7_reg1[] = {0xc7, 0x0f, 0, 0, 0, 0};	/* C7 /1 is not a MOV */
	static const u8 movs[] = {0xa5};			/* movsd */

	refused(opsize_byte, sizeof(opsize_byte));
	refused(movzx, sizeof(movzx));
	refused(c6_reg1, sizeof(c6_reg1));
	refused(imm16_cut, sizeof(imm16_cut));
	refused(reg_form, sizeof(reg_form));
	refused(truncated, sizeof(truncated));
	refused(c7_reg1, sizeof(c7_reg1));
	refused(movs, sizeof(movs));
	refused(movs, 0);
	(void)state;
}

#define RAM (4u << 20)

/* Guest page tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD): VA 0x40000000 + x ->
 * GPA x through one 2 MiB page, so the fetch must really walk. Code at GPA 0x5000. */
static u8 *setup_guest(void)
{
	u8 *ram = aligned_alloc(4096, RAM);
	u64 *pml4 = (u64 *)(ram + 0x1000), *pdpt = (u64 *)(ram + 0x2000),
	    *pd = (u64 *)(ram + 0x3000);

	memset(ram, 0, RAM);
	memset(&g, 0, sizeof(g));
	g.ram_hpa = (u64)(uintptr_t)ram;
	g.ram_size = RAM;
	g.state = GUEST_RUNNING;
	pml4[0] = 0x2000 | 3;
	pdpt[1] = 0x3000 | 3;
	pd[0] = 0 | 0x83;
	memset(regs, 0, sizeof(regs));
	regs[VMM_REG_CR3] = 0x1000;
	writes = stops = settled = 0;
	return ram;
}

static void test_npf_emulated(void **state)
{
	u8 *ram = setup_guest();
	struct vcpu v = {.guest = &g};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x40005000};

	/* mov [rdi+12], r9d */
	memcpy(ram + 0x5000, (u8[]){0x44, 0x89, 0x4f, 0x0c}, 4);
	regs[VMM_REG_R9] = 0xffffffff00000001ULL;
	e.npf.gpa = 0xc000400c;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(writes, 1);
	assert_int_equal(settled, 1);
	assert_int_equal(dev.lock.next, dev.lock.owner); /* released */
	assert_int_equal(last_val, 1);			 /* 32 bits of r9 */
	assert_int_equal(last_gpa, 0xc000400c);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005004);
	/* mov eax, [rdi]: zero-extends into rax */
	memcpy(ram + 0x5000, (u8[]){0x8b, 0x07}, 2);
	regs[VMM_REG_RAX] = ~0ULL;
	e.npf.gpa = 0xc0004000;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0xfee01000);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005002);
	/* Not a trapped page: left to the caller. */
	e.npf.gpa = 0x1000000;
	assert_int_equal(vmm_mmio_npf(&v, &e), -ENOENT);
	/* A form moat does not emulate, and a misaligned access: the guest is stopped. */
	memcpy(ram + 0x5000, (u8[]){0x48, 0x89, 0x07}, 3);
	e.npf.gpa = 0xc0004000;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	memcpy(ram + 0x5000, (u8[]){0x89, 0x07}, 2);
	e.npf.gpa = 0xc0004002;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	assert_int_equal(stops, 2);
	/* Code the guest's tables do not map cannot be fetched. */
	e.rip = 0x80000000;
	e.npf.gpa = 0xc0004000;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	/* Every fault counted by what it hit, the refused ones too. */
	assert_int_equal(v.npfs[NPF_MSIX], 5);
	assert_int_equal(v.npfs[NPF_UNMAPPED], 1);
	assert_int_equal(v.npfs[NPF_BAR] + v.npfs[NPF_LOCAL_APIC] + v.npfs[NPF_IOAPIC], 0);
	assert_string_equal(npf_target_name(NPF_MSIX), "msix");
	free(ram);
	(void)state;
}

/* A BAR whose pages are out of the nested tables (memory decode off, or the guest's reset of
 * its VF in progress: vmm/vbar.c): its accesses are answered by moat as a function that
 * does not decode them. A page mapped again since the fault is retried, not emulated. */
static void test_npf_bar_decode_off(void **state)
{
	u8 *ram = setup_guest();
	struct vcpu v = {.guest = &g};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x40005000};
	struct pci_dev pdev = {
		.bar[0] = {.base = 0xfe000000, .size = 0x4000, .type = PCI_BAR_MEM32}};
	struct vdev *bd = &g.dev[0];

	strcpy(g.cfg.name, "t");
	g.nr_dev = 1;
	bd->pdev = &pdev;
	bd->bar_gpa[0] = 0xc0010000;
	/* mov eax, [rdi]: all ones, zero-extended into rax */
	memcpy(ram + 0x5000, (u8[]){0x8b, 0x07}, 2);
	regs[VMM_REG_RAX] = 0x1234;
	e.npf.gpa = 0xc0010008;
	shim_log_clear();
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0xffffffffULL);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005002);
	assert_int_equal(bd->bar_off_reads, 1);
	assert_true(shim_log_seen("guest t: read of BAR0+0x8 of 00:01.0 with memory decode off: "
				  "all ones (1 so far)"));
	/* mov dword [rdi+0x3ffc], 5: dropped, counted; nothing else is touched */
	memcpy(ram + 0x5000, (u8[]){0xc7, 0x87, 0xfc, 0x3f, 0, 0, 5, 0, 0, 0}, 10);
	e.npf.gpa = 0xc0013ffc;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(bd->bar_off_writes, 1);
	assert_int_equal(writes, 0);
	assert_int_equal(regs[VMM_REG_RIP], 0x4000500a);
	assert_int_equal(bd->lock.next, bd->lock.owner); /* released */
	/* Past the BAR: nothing moat emulates. */
	e.npf.gpa = 0xc0014000;
	assert_int_equal(vmm_mmio_npf(&v, &e), -ENOENT);
	/* Other sizes, as a function that does not decode answers them: a 64-bit load all
	 * ones, a 16-bit one only its half, AH only bits 15:8, a byte store dropped. */
	memcpy(ram + 0x5000, (u8[]){0x48, 0x8b, 0x07}, 3);
	regs[VMM_REG_RAX] = 0;
	e.npf.gpa = 0xc0010008;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], ~0ULL);
	memcpy(ram + 0x5000, (u8[]){0x66, 0x8b, 0x0f}, 3);
	regs[VMM_REG_RCX] = 0x1122334455667788ULL;
	e.npf.gpa = 0xc0010002;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RCX], 0x112233445566ffffULL);
	memcpy(ram + 0x5000, (u8[]){0x8a, 0x27}, 2);
	regs[VMM_REG_RAX] = 0x1234;
	e.npf.gpa = 0xc0010003;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0xff34);
	memcpy(ram + 0x5000, (u8[]){0xc6, 0x07, 0x5a}, 3);
	e.npf.gpa = 0xc0010001;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005003);
	assert_int_equal(bd->bar_off_reads, 4);
	assert_int_equal(bd->bar_off_writes, 2);
	/* Misaligned, or not a MOV: the guest is stopped, naming the BAR. */
	memcpy(ram + 0x5000, (u8[]){0x48, 0x8b, 0x07}, 3);
	e.npf.gpa = 0xc0010004;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	g.state = GUEST_RUNNING;
	memcpy(ram + 0x5000, (u8[]){0x0f, 0xb6, 0x07}, 3);
	e.npf.gpa = 0xc0010000;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	assert_int_equal(stops, 2);
	/* Mapped again meanwhile: the access is retried where it was (RIP unchanged). */
	g.state = GUEST_RUNNING;
	bd->bars_mapped = true;
	regs[VMM_REG_RIP] = 0;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RIP], 0);
	assert_int_equal(bd->bar_off_reads, 4);
	assert_int_equal(v.npfs[NPF_BAR], 9);
	assert_int_equal(v.npfs[NPF_UNMAPPED], 1);
	assert_int_equal(v.npfs[NPF_MSIX], 0);
	free(ram);
	(void)state;
}

/* An instruction across a page boundary whose two pages are not adjacent in the guest's
 * RAM: each page's bytes come from its own translation (VA 0x40201ffe -> GPA 0x9ffe, VA
 * 0x40202000 -> GPA 0xb000); an unmapped second page leaves the instruction truncated. */
static void test_npf_fetch_across_pages(void **state)
{
	u8 *ram = setup_guest();
	u64 *pd = (u64 *)(ram + 0x3000), *pt = (u64 *)(ram + 0x6000);
	struct vcpu v = {.guest = &g};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x40201ffe};

	pd[1] = 0x6000 | 3; /* VA 0x40200000: a table of 4 KiB pages */
	pt[1] = 0x9000 | 3;
	pt[2] = 0xb000 | 3;
	/* mov [rdi+12], r9d: 44 89 | 4f 0c */
	memcpy(ram + 0x9ffe, (u8[]){0x44, 0x89}, 2);
	memcpy(ram + 0xa000, (u8[]){0xff, 0xff}, 2); /* GPA-adjacent bytes: not the code */
	memcpy(ram + 0xb000, (u8[]){0x4f, 0x0c}, 2);
	regs[VMM_REG_R9] = 7;
	e.npf.gpa = 0xc000400c;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(last_val, 7);
	assert_int_equal(last_gpa, 0xc000400c);
	assert_int_equal(regs[VMM_REG_RIP], 0x40202002);
	pt[2] = 0;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	assert_int_equal(stops, 1);
	free(ram);
	(void)state;
}

/* Linux's io_apic_read(): writel(reg, &index); readl(&data), on the guest's IOAPIC. */
static void test_npf_ioapic(void **state)
{
	u8 *ram = setup_guest();
	struct vcpu v = {.guest = &g};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x40005000};

	/* a guest without an IOAPIC (moat's own): its page is nothing moat emulates */
	e.npf.gpa = VIOAPIC_BASE;
	assert_int_equal(vmm_mmio_npf(&v, &e), -ENOENT);
	vioapic_init(&g);
	/* mov [rdi], esi (IOREGSEL = 1), then mov eax, [rdi+0x10] (IOWIN: the version) */
	memcpy(ram + 0x5000, (u8[]){0x89, 0x37}, 2);
	regs[VMM_REG_RSI] = 1;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005002);
	memcpy(ram + 0x5000, (u8[]){0x8b, 0x47, 0x10}, 3);
	regs[VMM_REG_RAX] = ~0ULL;
	e.npf.gpa = VIOAPIC_BASE + IOAPIC_IOWIN;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0x00170020);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005003);
	/* a misaligned or 64-bit access stops the guest, naming the IOAPIC */
	e.npf.gpa = VIOAPIC_BASE + 2;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	memcpy(ram + 0x5000, (u8[]){0x48, 0x8b, 0x07}, 3);
	e.npf.gpa = VIOAPIC_BASE;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	assert_int_equal(stops, 2);
	assert_int_equal(writes, 0); /* nothing reached the MSI-X table */
	assert_int_equal(v.npfs[NPF_IOAPIC], 4);
	assert_int_equal(v.npfs[NPF_UNMAPPED], 1);
	free(ram);
	(void)state;
}

/* An OS guest's local APIC page, with the forms Debian's 6.1 kernel emits in
 * native_apic_mem_read/write and its inlined ICR writes. */
static void test_npf_lapic(void **state)
{
	u8 *ram = setup_guest();
	struct vcpu v = {.guest = &g, .index = 1};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x40005000};
	u32 val;

	strcpy(g.cfg.kernel, "vmlinuz");
	vlapic_reset(&v.lapic, &v, 1, false);
	/* mov -0xa03000(%rdi),%eax: the APIC ID, zero-extended into rax */
	memcpy(ram + 0x5000, (u8[]){0x8b, 0x87, 0x00, 0xd0, 0x5f, 0xff}, 6);
	regs[VMM_REG_RAX] = ~0ULL;
	e.npf.gpa = GUEST_LAPIC_BASE + 0x20;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 1U << 24);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005006);
	/* mov %esi,-0xa03000(%rdi): the spurious-interrupt vector register */
	memcpy(ram + 0x5000, (u8[]){0x89, 0xb7, 0x00, 0xd0, 0x5f, 0xff}, 6);
	regs[VMM_REG_RSI] = 0x1ff;
	e.npf.gpa = GUEST_LAPIC_BASE + 0xf0;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(vlapic_mmio_read(&v.lapic, 0xf0, &val), 0);
	assert_int_equal(val, 0x1ff);
	/* mov %edi,0xffffffffff5fd310: ICR high */
	memcpy(ram + 0x5000, (u8[]){0x89, 0x3c, 0x25, 0x10, 0xd3, 0x5f, 0xff}, 7);
	regs[VMM_REG_RDI] = 0x03000000;
	e.npf.gpa = GUEST_LAPIC_BASE + 0x310;
	assert_int_equal(vmm_mmio_npf(&v, &e), 0);
	assert_int_equal(v.lapic.icr_hi, 0x03000000);
	assert_int_equal(regs[VMM_REG_RIP], 0x40005007);
	/* An unaligned access stops the guest; a guest without a kernel has no LAPIC page. */
	e.npf.gpa = GUEST_LAPIC_BASE + 0x312;
	assert_int_equal(vmm_mmio_npf(&v, &e), -EFAULT);
	assert_int_equal(stops, 1);
	g.cfg.kernel[0] = 0;
	e.npf.gpa = GUEST_LAPIC_BASE + 0x310;
	assert_int_equal(vmm_mmio_npf(&v, &e), -ENOENT);
	assert_int_equal(writes, 0);
	assert_int_equal(v.npfs[NPF_LOCAL_APIC], 4);
	assert_int_equal(v.npfs[NPF_UNMAPPED], 1);
	free(ram);
	(void)state;
}

/* The guest walk (the page-table engine on the guest's own tables): 4 KiB, 2 MiB and 1 GiB
 * leaves, the upper half, and every way a walk must fail. */
static void test_guest_walk(void **state)
{
	u8 *ram = setup_guest();
	u64 *pml4 = (u64 *)(ram + 0x1000), *pdpt = (u64 *)(ram + 0x2000),
	    *pd = (u64 *)(ram + 0x3000), *pt = (u64 *)(ram + 0x6000),
	    *pdpt_hi = (u64 *)(ram + 0x7000);
	u64 gpa = 0;

	pd[1] = 0x6000 | 3;		     /* VA 0x40200000: a table of 4 KiB pages */
	pt[3] = 0x9000 | 3;		     /* VA 0x40203000 -> GPA 0x9000 */
	pdpt[2] = 0x80000000ULL | 0x83;	     /* VA 0x80000000: a 1 GiB page */
	pml4[511] = 0x7000 | 3;		     /* the upper half */
	pdpt_hi[510] = 0x40000000ULL | 0x83; /* VA 0xffffffff80000000: 1 GiB page at 1 GiB */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40203abc, &gpa), 0);
	assert_int_equal(gpa, 0x9abc);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40012345, &gpa), 0);
	assert_int_equal(gpa, 0x12345); /* 2 MiB */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x80123456, &gpa), 0);
	assert_int_equal(gpa, 0x80123456); /* 1 GiB */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000 | 0x18, 0xffffffff80001234ULL, &gpa), 0);
	assert_int_equal(gpa, 0x40001234); /* CR3's PWT/PCD bits are not address */
	/* Not present at the PML4E, the PDPTE, the PDE and the PTE. */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x8000000000ULL, &gpa), -EFAULT);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0xc0000000ULL, &gpa), -EFAULT);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40400000, &gpa), -EFAULT);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40204000, &gpa), -EFAULT);
	/* Not canonical. */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x0000800000000000ULL, &gpa), -EFAULT);
	/* Reserved bits: in a 2 MiB leaf, in a 1 GiB leaf, PS in a PML4E. */
	pd[0] |= BIT(13);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40012345, &gpa), -EFAULT);
	pd[0] &= ~BIT(13);
	pdpt[2] |= BIT(21);
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x80123456, &gpa), -EFAULT);
	pdpt[2] &= ~BIT(21);
	pml4[1] = 0 | 0x83;
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x8000000000ULL, &gpa), -EFAULT);
	/* A table outside the guest's RAM, and a CR3 outside it. */
	pd[2] = 0x10000000ULL | 3;
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40400000, &gpa), -EFAULT);
	assert_int_equal(guest_va_to_gpa(&g, 0x40000000, 0x40012345, &gpa), -EFAULT);
	/* Still intact after the failures. */
	assert_int_equal(guest_va_to_gpa(&g, 0x1000, 0x40012345, &gpa), 0);
	assert_int_equal(gpa, 0x12345);
	free(ram);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_forms),
		cmocka_unit_test(test_decode_sizes),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_npf_emulated),
		cmocka_unit_test(test_npf_bar_decode_off),
		cmocka_unit_test(test_npf_lapic),
		cmocka_unit_test(test_npf_ioapic),
		cmocka_unit_test(test_guest_walk),
		cmocka_unit_test(test_npf_fetch_across_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
