/* Emulated MMIO accesses: fetch the faulting instruction through the guest's own page
 * tables (walked by the page-table engine, lib/pgtable.c), decode the MOV, perform it on
 * the emulated register. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/pgtable.h>
#include "arch/x86/pt_x86.h"
#include "vmm/exits.h"
#include "vmm/guest_acpi.h"
#include "vmm/mmio.h"
#include "vmm/msix.h"
#include "vmm/vbar.h"
#include "vmm/vflr.h"
#include "vmm/vioapic.h"

/* x86 instruction fields (Intel SDM vol. 2, 2.1) */
#define REX_MASK 0xf0
#define REX_VAL 0x40
#define REX_W BIT(3)
#define REX_R BIT(2)
#define MODRM_MOD GENMASK(7, 6)
#define MODRM_REG GENMASK(5, 3)
#define MODRM_RM GENMASK(2, 0)
#define SIB_BASE GENMASK(2, 0)
#define PREFIX_OPSIZE 0x66
#define OP_MOV_LOAD 0x8b
#define OP_MOV_STORE 0x89
#define OP_MOV_STORE_IMM 0xc7
#define OP_MOV_LOAD8 0x8a
#define OP_MOV_STORE8 0x88
#define OP_MOV_STORE8_IMM 0xc6
#define MODRM_REG_AH 4 /* AH, CH, DH, BH without REX: bits 15:8 of RAX..RBX */

/* Bytes of ModRM + SIB + displacement starting at code[0]; 0 if it names a register. */
static unsigned modrm_len(const u8 *code, unsigned n)
{
	unsigned mod = (unsigned)FIELD_GET(MODRM_MOD, code[0]);
	unsigned rm = (unsigned)FIELD_GET(MODRM_RM, code[0]);
	unsigned len = 1;

	if (mod == 3)
		return 0;
	if (rm == 4) {
		if (n < 2)
			return 0;
		len++;
		if (mod == 0 && FIELD_GET(SIB_BASE, code[1]) == 5)
			len += 4;
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

int mmio_decode(const u8 *code, unsigned n, struct mmio_insn *out)
{
	unsigned i = 0, mlen, imm_len;
	bool opsize16 = false;
	u8 rex = 0, op, reg;

	memset(out, 0, sizeof(*out));
	if (n && code[0] == PREFIX_OPSIZE) {
		opsize16 = true;
		i++;
	}
	if (n > i && (code[i] & REX_MASK) == REX_VAL)
		rex = code[i++];
	if (n < i + 2)
		return -ENOTSUP;
	op = code[i++];
	switch (op) {
	case OP_MOV_LOAD:
	case OP_MOV_STORE:
	case OP_MOV_STORE_IMM: out->size = rex & REX_W ? 8 : opsize16 ? 2 : 4; break;
	case OP_MOV_LOAD8:
	case OP_MOV_STORE8:
	case OP_MOV_STORE8_IMM:
		if (opsize16)
			return -ENOTSUP;
		out->size = 1;
		break;
	default: return -ENOTSUP;
	}
	mlen = modrm_len(code + i, n - i);
	if (!mlen)
		return -ENOTSUP;
	reg = (u8)FIELD_GET(MODRM_REG, code[i]);
	out->reg = (u8)(reg + (rex & REX_R ? 8 : 0));
	if (out->size == 1 && !rex && reg >= MODRM_REG_AH) {
		out->high_byte = true;
		out->reg = (u8)(reg - MODRM_REG_AH);
	}
	out->write = op != OP_MOV_LOAD && op != OP_MOV_LOAD8;
	if (op == OP_MOV_STORE_IMM || op == OP_MOV_STORE8_IMM) {
		imm_len = out->size == 8 ? 4 : out->size; /* imm32 sign-extended for REX.W */
		if (reg != 0 || n < i + mlen + imm_len)
			return -ENOTSUP;
		out->imm = true;
		out->reg = 0;
		out->high_byte = false;
		memcpy(&out->value, code + i + mlen, imm_len);
		mlen += imm_len;
	}
	out->len = i + mlen;
	return out->len <= n ? 0 : -ENOTSUP;
}

static void *guest_table(void *ctx, u64 gpa)
{
	return guest_ptr(ctx, gpa, PAGE_SIZE);
}

int guest_va_to_gpa(struct guest *g, u64 cr3, u64 va, u64 *gpa)
{
	const struct pt_ops ops = {.p2v = guest_table, .ctx = g};
	struct pgtable pt;

	/* Canonical: bits 63:47 all equal (SDM Vol. 1 3.3.7.1). */
	if ((u64)((s64)(va << 16) >> 16) != va)
		return -EFAULT;
	pt_view(&pt, &pt_format_x86, &ops, 4, 2, cr3 & X86_PTE_ADDR_4K);
	return pt_lookup(&pt, va & GUEST_VA_MASK, gpa, NULL, NULL) ? -EFAULT : 0;
}

/* Up to MMIO_INSN_MAX bytes at rip, one walk of the guest's tables per 4 KiB page they lie
 * on (a walk per byte cost about 6,000 instructions per emulated access: Linux's xAPIC EOI
 * on every interrupt); stops at the first byte that does not translate to RAM. */
static unsigned fetch(struct vcpu *v, u64 rip, u8 *code)
{
	struct guest *g = v->guest;
	u64 cr3 = vmm_be->get_reg(v, VMM_REG_CR3), gpa;
	unsigned n = 0;

	while (n < MMIO_INSN_MAX) {
		u64 va = rip + n;
		unsigned chunk =
			(unsigned)MIN((u64)(MMIO_INSN_MAX - n), PAGE_SIZE - (va & (PAGE_SIZE - 1)));
		const u8 *p;

		if (guest_va_to_gpa(g, cr3, va, &gpa))
			break;
		p = guest_ptr(g, gpa, chunk);
		if (!p)
			break;
		memcpy(code + n, p, chunk);
		n += chunk;
	}
	return n;
}

static const char *const npf_names[NPF_TARGET_NR] = {
	[NPF_LOCAL_APIC] = "local-apic", [NPF_MSIX] = "msix",
	[NPF_IOAPIC] = "ioapic",	 [NPF_BAR] = "bar",
	[NPF_UNMAPPED] = "unmapped",
};

const char *npf_target_name(enum npf_target t)
{
	return t < NPF_TARGET_NR ? npf_names[t] : "?";
}

/* What an emulated page at gpa belongs to: an OS guest's local APIC page, an assigned
 * device's MSI-X table or the guest's IOAPIC, a BAR page unmapped while its decode is off
 * (*bar_dev set); NPF_UNMAPPED for anything else. Linux reaches the APICs with exactly the
 * MOV forms above (native_apic_mem_read/write, readl/writel). */
static enum npf_target npf_target(struct guest *g, u64 gpa, struct vdev **bar_dev)
{
	if (guest_is_os(g) && vlapic_mmio_owned(gpa))
		return NPF_LOCAL_APIC;
	if (msix_region(g, gpa))
		return NPF_MSIX;
	if (vioapic_owns(g, gpa))
		return NPF_IOAPIC;
	*bar_dev = vbar_region(g, gpa, NULL);
	return *bar_dev ? NPF_BAR : NPF_UNMAPPED;
}

static const char *const npf_what[NPF_TARGET_NR] = {
	[NPF_LOCAL_APIC] = "local APIC",
	[NPF_MSIX] = "MSI-X",
	[NPF_IOAPIC] = "IOAPIC",
	[NPF_BAR] = "BAR with memory decode off",
};

/* 0, or a negative errno for an access the device refuses. */
static int mmio_access(struct vcpu *v, enum npf_target t, u64 gpa, bool write, u32 *val)
{
	struct guest *g = v->guest;
	struct vdev *dev;

	switch (t) {
	case NPF_LOCAL_APIC:
		return write ? vlapic_mmio_write(&v->lapic, (u32)(gpa - GUEST_LAPIC_BASE), *val)
			     : vlapic_mmio_read(&v->lapic, (u32)(gpa - GUEST_LAPIC_BASE), val);
	case NPF_MSIX:
		dev = msix_region(g, gpa);
		vdev_lock(g, dev);
		if (write)
			msix_mmio_write(g, dev, gpa, *val);
		else
			*val = msix_mmio_read(g, dev, gpa);
		vdev_unlock(dev);
		return 0;
	case NPF_IOAPIC:
		return write ? vioapic_mmio_write(g, (u32)(gpa - VIOAPIC_BASE), *val)
			     : vioapic_mmio_read(g, (u32)(gpa - VIOAPIC_BASE), val);
	default: return -ENOENT;
	}
}

/* A load's result into its register as the CPU writes it: a 32-bit load zero-extends, a
 * 16- or 8-bit one leaves the rest (AH..BH: bits 15:8), a 64-bit one gets `val` sign-
 * extended (all ones stays all ones; the only 64-bit loads answered are a BAR's). */
static void load_result(struct vcpu *v, const struct mmio_insn *in, u32 val)
{
	enum vmm_reg r = (enum vmm_reg)in->reg;
	u64 old = in->size == 1 || in->size == 2 ? vmm_be->get_reg(v, r) : 0;
	u64 x;

	switch (in->size) {
	case 1:
		x = in->high_byte ? (old & ~0xff00ull) | (u64)(val & 0xff) << 8
				  : (old & ~0xffull) | (val & 0xff);
		break;
	case 2: x = (old & ~0xffffull) | (val & 0xffff); break;
	case 8: x = (u64)(s64)(s32)val; break;
	default: x = val; break;
	}
	vmm_be->set_reg(v, r, x);
}

int vmm_mmio_npf(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	struct vdev *bar_dev = NULL;
	enum npf_target t = npf_target(g, e->npf.gpa, &bar_dev);
	const char *what = npf_what[t];
	u8 code[MMIO_INSN_MAX] = {0};
	struct mmio_insn in;
	u32 val = 0;

	v->npfs[t]++;
	if (t == NPF_UNMAPPED)
		return -ENOENT;
	/* Mapped again since the fault (another vCPU turned decode on): retried. */
	if (bar_dev && __atomic_load_n(&bar_dev->bars_mapped, __ATOMIC_ACQUIRE))
		return 0;
	if (mmio_decode(code, fetch(v, e->rip, code), &in) || (e->npf.gpa & (in.size - 1)) ||
	    (!bar_dev && in.size != 4))
		return guest_stop(g, VMM_EXIT_NPF,
				  "%s access at GPA %#llx (rip %#llx) is not an aligned %sMOV "
				  "(docs/vmm.md)",
				  what, (unsigned long long)e->npf.gpa, (unsigned long long)e->rip,
				  bar_dev ? "" : "32-bit ");
	if (in.write)
		val = in.imm ? in.value : (u32)vmm_be->get_reg(v, (enum vmm_reg)in.reg);
	if (bar_dev)
		vbar_off_access(g, bar_dev, e->npf.gpa, in.write, &val);
	else if (mmio_access(v, t, e->npf.gpa, in.write, &val))
		return guest_stop(g, VMM_EXIT_NPF, "%s %s at GPA %#llx refused (rip %#llx)", what,
				  in.write ? "write" : "read", (unsigned long long)e->npf.gpa,
				  (unsigned long long)e->rip);
	if (!in.write)
		load_result(v, &in, val);
	vmm_be->set_reg(v, VMM_REG_RIP, e->rip + in.len);
	return 0;
}
