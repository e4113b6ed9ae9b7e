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
#define OP_MOV_LOAD 0x8b
#define OP_MOV_STORE 0x89
#define OP_MOV_STORE_IMM 0xc7

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
	unsigned i = 0, mlen;
	u8 rex = 0, op;

	memset(out, 0, sizeof(*out));
	if (n && (code[0] & REX_MASK) == REX_VAL)
		rex = code[i++];
	if (rex & REX_W || n < i + 2)
		return -ENOTSUP;
	op = code[i++];
	if (op != OP_MOV_LOAD && op != OP_MOV_STORE && op != OP_MOV_STORE_IMM)
		return -ENOTSUP;
	mlen = modrm_len(code + i, n - i);
	if (!mlen)
		return -ENOTSUP;
	out->reg = (u8)(FIELD_GET(MODRM_REG, code[i]) + (rex & REX_R ? 8 : 0));
	out->write = op != OP_MOV_LOAD;
	if (op == OP_MOV_STORE_IMM) {
		if (FIELD_GET(MODRM_REG, code[i]) != 0 || n < i + mlen + 4)
			return -ENOTSUP;
		out->imm = true;
		memcpy(&out->value, code + i + mlen, 4);
		mlen += 4;
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
	if (mmio_decode(code, fetch(v, e->rip, code), &in) || (e->npf.gpa & 3))
		return guest_stop(g, VMM_EXIT_NPF,
				  "%s access at GPA %#llx (rip %#llx) is not an aligned 32-bit "
				  "MOV (docs/vmm.md)",
				  what, (unsigned long long)e->npf.gpa, (unsigned long long)e->rip);
	if (in.write)
		val = in.imm ? in.value : (u32)vmm_be->get_reg(v, (enum vmm_reg)in.reg);
	if (bar_dev)
		vbar_off_access(g, bar_dev, e->npf.gpa, in.write, &val);
	else if (mmio_access(v, t, e->npf.gpa, in.write, &val))
		return guest_stop(g, VMM_EXIT_NPF, "%s %s at GPA %#llx refused (rip %#llx)", what,
				  in.write ? "write" : "read", (unsigned long long)e->npf.gpa,
				  (unsigned long long)e->rip);
	if (!in.write)
		vmm_be->set_reg(v, (enum vmm_reg)in.reg, val);
	vmm_be->set_reg(v, VMM_REG_RIP, e->rip + in.len);
	return 0;
}
