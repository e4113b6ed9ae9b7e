/* The VT-d register model (see vtd_model.h). Register offsets and bit positions are written
 * here from the spec (chapter 11) on their own, not taken from the driver's vtd_regs.h, so a
 * wrong definition in the driver shows up as a test failure instead of being mirrored. */
#include <stdio.h>
#include <string.h>
#include "vtd_model.h"

#define B(n) (1ULL << (n))

/* register offsets (11.4) */
enum {
	R_VER = 0x00,
	R_CAP = 0x08,
	R_ECAP = 0x10,
	R_GCMD = 0x18,
	R_GSTS = 0x1c,
	R_RTADDR = 0x20,
	R_CCMD = 0x28,
	R_FSTS = 0x34,
	R_FECTL = 0x38,
	R_FEDATA = 0x3c,
	R_FEADDR = 0x40,
	R_FEUADDR = 0x44,
	R_PMEN = 0x64,
	R_IQH = 0x80,
	R_IQT = 0x88,
	R_IQA = 0x90,
	R_ICS = 0x9c,
	R_IRTA = 0xb8,
};

/* GCMD / GSTS bits (11.4.4, 11.4.5) */
#define G_TE B(31)
#define G_SRTP B(30) /* GSTS: RTPS */
#define G_SFL B(29)
#define G_EAFL B(28)
#define G_WBF B(27)
#define G_QIE B(26)
#define G_IRE B(25)
#define G_SIRTP B(24) /* GSTS: IRTPS */
#define G_CFI B(23)
#define G_PERSISTENT (G_TE | G_QIE | G_IRE | G_CFI | G_EAFL)
#define G_ONESHOT (G_SRTP | G_SFL | G_WBF | G_SIRTP)

#define CCMD_ICC B(63)
#define IOTLB_IVT B(63)
#define FSTS_PFO B(0)
#define FSTS_PPF B(1)
#define FSTS_IQE B(4)
#define FSTS_RW1C 0x7dull /* PFO AFO APF IQE ICE ITE */
#define FECTL_IM B(31)
#define PMEN_EPM B(31)
#define PMEN_PRS B(0)
#define FRCD_F B(63)
#define IQ_INDEX_MASK 0x7fff0ull /* bits 18:4 */

struct vm_state vm;

void vm_reset(void)
{
	memset(&vm, 0, sizeof(vm));
}

u64 vm_cap(unsigned nd, unsigned sagaw, unsigned sllps, u64 extra)
{
	return (u64)nd | (u64)sagaw << 8 | 47ull << 16 | (u64)(VM_FRCD_OFF / 16) << 24 |
	       (u64)sllps << 34 | B(39) /* PSI */ | (u64)(VM_NR_FRCD - 1) << 40 |
	       9ull << 48 /* MAMV */ | extra;
}

u64 vm_ecap(u64 extra)
{
	return (u64)(VM_IOTLB_OFF / 16) << 8 | extra;
}

int vm_unit_add(const struct vm_unit_cfg *cfg)
{
	struct vm_unit *u;

	if (vm.nr_units == VM_MAX_UNITS)
		return -1;
	u = &vm.unit[vm.nr_units];
	memset(u, 0, sizeof(*u));
	u->used = true;
	u->cfg = *cfg;
	u->gsts = cfg->gsts;
	u->pmen = cfg->pmen ? PMEN_EPM | PMEN_PRS : 0;
	if (cfg->fw_queue_stuck)
		u->iqt = 0x10; /* one descriptor the hardware never gets through */
	return (int)vm.nr_units++;
}

static void event(struct vm_unit *u, enum vm_event_kind k, u64 a, u64 b)
{
	if (u->nr_ev < VM_MAX_EVENTS)
		u->ev[u->nr_ev++] = (struct vm_event){k, a, b, ++vm.seq};
}

static void violation(struct vm_unit *u, const char *what, u64 v)
{
	u->violations++;
	snprintf(vm.last_violation, sizeof(vm.last_violation), "unit at %#llx: %s (%#llx)",
		 (unsigned long long)u->cfg.base, what, (unsigned long long)v);
	fprintf(stderr, "vtd model: %s\n", vm.last_violation);
}

static struct vm_unit *unit_at(u64 a, u32 *off)
{
	for (unsigned i = 0; i < vm.nr_units; i++) {
		struct vm_unit *u = &vm.unit[i];

		if (a >= u->cfg.base && a < u->cfg.base + 0x1000) {
			*off = (u32)(a - u->cfg.base);
			u->accesses++;
			return u;
		}
	}
	return NULL;
}

unsigned vm_count(int unit, enum vm_event_kind kind, int desc_type)
{
	unsigned n = 0;

	for (int i = vm_find(unit, kind, desc_type, 0); i >= 0;
	     i = vm_find(unit, kind, desc_type, (unsigned)i + 1))
		n++;
	return n;
}

int vm_find(int unit, enum vm_event_kind kind, int desc_type, unsigned from)
{
	const struct vm_unit *u = &vm.unit[unit];

	for (unsigned i = from; i < u->nr_ev; i++)
		if (u->ev[i].kind == kind &&
		    (desc_type < 0 || kind != VM_EV_DESC || (int)(u->ev[i].a & 0xf) == desc_type))
			return (int)i;
	return -1;
}

void vm_clear_events(void)
{
	for (unsigned i = 0; i < vm.nr_units; i++)
		vm.unit[i].nr_ev = 0;
}

void vm_inject_fault(int unit, unsigned rec, u16 sid, u8 reason, u64 addr, bool write)
{
	struct vm_unit *u = &vm.unit[unit];

	u->frcd[rec][0] = addr & ~0xfffull;
	u->frcd[rec][1] = FRCD_F | (write ? 0 : B(62)) | (u64)reason << 32 | sid;
	u->fsts = (u->fsts & ~0xff00u) | rec << 8;
}

/* ---- global command (11.4.4): one field per write; persistent fields are levels,
 * one-shot fields act when written as 1 ---- */

static void gcmd_write(struct vm_unit *u, u32 v)
{
	u32 changed = (v ^ u->gsts) & G_PERSISTENT;
	u32 on = changed & v, off = changed & ~v;

	if (__builtin_popcount(changed) + __builtin_popcount(v & G_ONESHOT) > 1)
		violation(u, "GCMD write changes several fields at once", v);
	if (v & G_SRTP) {
		/* allowed with translation on (the caches must be invalidated after it) */
		event(u, VM_EV_SRTP, u->rtaddr, !!(u->gsts & G_TE));
		u->rtaddr_latched = u->rtaddr;
		u->srtp_cc_pending = u->srtp_iotlb_pending = true;
		u->gsts |= G_SRTP;
	}
	if (v & G_SIRTP) {
		u->irta_latched = u->irta;
		u->gsts |= G_SIRTP;
		u->sirtp_iec_pending = !!(u->gsts & G_IRE);
		event(u, VM_EV_SIRTP, u->irta, !!(u->gsts & G_IRE));
	}
	if (v & G_WBF) {
		if (!(u->cfg.cap & B(4)))
			violation(u, "write-buffer flush on a unit without CAP.RWBF", v);
		event(u, VM_EV_WBF, 0, 0); /* done at once: WBFS reads 0 */
	}
	if (on & G_TE) {
		if (!(u->gsts & G_SRTP))
			violation(u, "translation enabled without a root table pointer", v);
		if (u->srtp_cc_pending || u->srtp_iotlb_pending)
			violation(
				u,
				"translation enabled before the root table switch was invalidated",
				v);
		event(u, VM_EV_TE_ON, u->rtaddr_latched, 0);
	}
	if (off & G_TE)
		event(u, VM_EV_TE_OFF, 0, 0);
	if (on & G_QIE) {
		if (!(u->cfg.ecap & B(1)))
			violation(u, "queued invalidation enabled on a unit without ECAP.QI", v);
		if (u->iqt)
			violation(u, "queue enabled with a non-zero tail", u->iqt);
		u->iqh = 0; /* 10.4.22: the head is reset when the queue is enabled */
		event(u, VM_EV_QIE_ON, u->iqa, 0);
	}
	if (off & G_QIE) {
		if (u->iqh != u->iqt)
			violation(u, "queue disabled before it drained", u->iqt);
		u->iqh = 0;
		event(u, VM_EV_QIE_OFF, 0, 0);
	}
	if (on & G_IRE) {
		if (!(u->gsts & G_SIRTP))
			violation(u, "interrupt remapping enabled without a table pointer", v);
		event(u, VM_EV_IRE_ON, u->irta_latched, 0);
	}
	if (off & G_IRE)
		event(u, VM_EV_IRE_OFF, 0, 0);
	if (on & G_CFI)
		event(u, VM_EV_CFI_ON, 0, 0);
	if (off & G_CFI)
		event(u, VM_EV_CFI_OFF, 0, 0);
	u->gsts = (u->gsts & ~G_PERSISTENT) | (v & G_PERSISTENT);
}

/* ---- invalidation queue (6.5.2): processed when the tail moves ---- */

static void queue_run(struct vm_unit *u)
{
	u64 qsize = 4096ull << (u->iqa & 7);
	u64 *q = (u64 *)(uintptr_t)(u->iqa & ~0xfffull);

	if (!(u->gsts & G_QIE))
		return;
	while (u->iqh != u->iqt) {
		u64 lo = q[u->iqh / 8], hi = q[u->iqh / 8 + 1];
		unsigned type = lo & 0xf;

		event(u, VM_EV_DESC, lo, hi);
		if (type != 1 && type != 2 && type != 4 && type != 5) {
			u->fsts |= FSTS_IQE; /* head stays on the bad descriptor */
			violation(u, "unknown descriptor type", lo);
			return;
		}
		if (type == 1 && ((lo >> 4) & 3) == 1)
			u->srtp_cc_pending = false; /* global context invalidation */
		if (type == 2 && ((lo >> 4) & 3) == 1)
			u->srtp_iotlb_pending = false; /* global IOTLB invalidation */
		if (type == 4 && !(lo & B(4)))
			u->sirtp_iec_pending = false; /* global interrupt entry cache */
		if (u->cfg.fail_queue && type != 5) {
			u->fsts |= FSTS_IQE;
			u->iqh = u->iqt; /* the model drops the rest of the batch */
			return;
		}
		if (type == 5 && (lo & B(5)))
			*(volatile u32 *)(uintptr_t)(hi & ~3ull) = (u32)(lo >> 32);
		if (type == 5 && (lo & B(4)))
			u->ics |= 1;
		u->iqh = (u->iqh + 16) % qsize;
	}
}

/* ---- accessors ---- */

static u64 reg_read(struct vm_unit *u, u32 off, unsigned width)
{
	u32 frcd_end = VM_FRCD_OFF + VM_NR_FRCD * 16;

	if (off >= VM_FRCD_OFF && off < frcd_end && width == 8 && !(off & 7))
		return u->frcd[(off - VM_FRCD_OFF) / 16][(off & 8) ? 1 : 0];
	if (off == VM_IOTLB_OFF && width == 8)
		return u->iva;
	if (off == VM_IOTLB_OFF + 8 && width == 8)
		return u->iotlb;
	switch (off) {
	case R_VER: return 0x10; /* 1.0 */
	case R_CAP: return u->cfg.cap;
	case R_ECAP: return u->cfg.ecap;
	case R_GSTS: return u->gsts;
	case R_GCMD: return 0; /* reads as zero (11.4.4) */
	case R_RTADDR: return u->rtaddr;
	case R_CCMD: return u->ccmd;
	case R_FSTS: {
		u64 v = u->fsts;

		for (unsigned i = 0; i < VM_NR_FRCD; i++)
			if (u->frcd[i][1] & FRCD_F)
				v |= FSTS_PPF;
		return v;
	}
	case R_FECTL: return u->fectl;
	case R_FEDATA: return u->fedata;
	case R_FEADDR: return u->feaddr;
	case R_FEUADDR: return u->feuaddr;
	case R_PMEN: return u->pmen;
	case R_IQH: return u->iqh;
	case R_IQT: return u->iqt;
	case R_IQA: return u->iqa;
	case R_ICS: return u->ics;
	case R_IRTA: return u->irta;
	}
	violation(u, "read of an unmodelled register", off);
	return 0;
}

static void reg_write(struct vm_unit *u, u32 off, u64 v)
{
	u32 frcd_end = VM_FRCD_OFF + VM_NR_FRCD * 16;

	if (off >= VM_FRCD_OFF && off < frcd_end) {
		unsigned rec = (off - VM_FRCD_OFF) / 16, dw = (off & 0xf) / 4;

		/* F is RW1C in the record's top dword (bit 127). */
		if (dw == 3 && (v & B(31)))
			u->frcd[rec][1] &= ~FRCD_F;
		else if (dw != 3)
			violation(u, "write to a read-only part of a fault record", off);
		return;
	}
	if (off == VM_IOTLB_OFF) {
		u->iva = v;
		return;
	}
	if (off == VM_IOTLB_OFF + 8) {
		if (v & IOTLB_IVT) {
			event(u, VM_EV_REG_IOTLB, v, u->iva);
			if (((v >> 60) & 3) == 1)
				u->srtp_iotlb_pending = false;
			/* done at once: IVT clear, IAIG = IIRG */
			v = (v & ~IOTLB_IVT & ~(3ull << 57)) | ((v >> 60) & 3) << 57;
		}
		u->iotlb = v;
		return;
	}
	switch (off) {
	case R_GCMD: gcmd_write(u, (u32)v); return;
	case R_RTADDR: u->rtaddr = v; return;
	case R_CCMD:
		if (v & CCMD_ICC) {
			if (u->gsts & G_QIE)
				violation(u, "register invalidation while the queue is on", v);
			event(u, VM_EV_REG_CC, v, 0);
			if (((v >> 61) & 3) == 1)
				u->srtp_cc_pending = false;
			v = (v & ~CCMD_ICC & ~(3ull << 59)) | ((v >> 61) & 3) << 59;
		}
		u->ccmd = v;
		return;
	case R_FSTS: u->fsts &= ~(v & FSTS_RW1C); return;
	case R_FECTL: u->fectl = (u32)v & FECTL_IM; return;
	case R_FEDATA: u->fedata = (u32)v; return;
	case R_FEADDR: u->feaddr = (u32)v; return;
	case R_FEUADDR: u->feuaddr = (u32)v; return;
	case R_PMEN:
		if ((u->pmen & PMEN_EPM) && !(v & PMEN_EPM)) {
			if (u->srtp_cc_pending || u->srtp_iotlb_pending)
				violation(u,
					  "PMRs off before the root table switch was invalidated",
					  v);
			event(u, VM_EV_PMEN_OFF, !!(u->gsts & G_TE), 0);
		}
		u->pmen = (v & PMEN_EPM) ? PMEN_EPM | PMEN_PRS : 0;
		return;
	case R_IQT:
		u->iqt = v & IQ_INDEX_MASK;
		queue_run(u);
		return;
	case R_IQA:
		if (u->gsts & G_QIE)
			violation(u, "queue address written while the queue is on", v);
		u->iqa = v;
		return;
	case R_ICS: u->ics &= ~((u32)v & 1); return;
	case R_IRTA: u->irta = v; return;
	}
	violation(u, "write of an unmodelled register", off);
}

/* Each register has one width (11.4); the fault record's F dword is written alone. */
static unsigned reg_width(u32 off)
{
	if (off >= VM_FRCD_OFF && off < VM_FRCD_OFF + VM_NR_FRCD * 16)
		return (off & 0xf) == 0xc ? 4 : 8;
	if (off == VM_IOTLB_OFF || off == VM_IOTLB_OFF + 8)
		return 8;
	switch (off) {
	case R_CAP:
	case R_ECAP:
	case R_RTADDR:
	case R_CCMD:
	case R_IQH:
	case R_IQT:
	case R_IQA:
	case R_IRTA: return 8;
	}
	return 4;
}

static u64 access_read(u64 a, unsigned width)
{
	u32 off;
	struct vm_unit *u = unit_at(a, &off);

	if (!u) {
		vm.stray_reads++;
		return ~0ull;
	}
	if (reg_width(off) != width && !(width == 8 && off >= VM_FRCD_OFF &&
					 off < VM_FRCD_OFF + VM_NR_FRCD * 16 && !(off & 7)))
		violation(u, "read with the wrong width", off);
	return reg_read(u, off, width);
}

static void access_write(u64 a, u64 v, unsigned width)
{
	u32 off;
	struct vm_unit *u = unit_at(a, &off);

	if (!u) {
		vm.stray_writes++;
		return;
	}
	if (reg_width(off) != width)
		violation(u, "write with the wrong width", off);
	reg_write(u, off, v);
}

u32 vm_read32(u64 a)
{
	return (u32)access_read(a, 4);
}
u64 vm_read64(u64 a)
{
	return access_read(a, 8);
}
void vm_write32(u64 a, u32 v)
{
	access_write(a, v, 4);
}
void vm_write64(u64 a, u64 v)
{
	access_write(a, v, 8);
}
