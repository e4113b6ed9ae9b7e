/* Fault reporting (VT-d spec 7.2): the fault event interrupt goes to the hypervisor CPU;
 * each fault recording register is decoded, counted against the owning domain, logged
 * (rate-limited) and cleared at once (QEMU drops a source's next fault while F is set). */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/trap.h"
#include "iommu/vtd_drv.h"

#define LOG_WINDOW_US 1000000
#define LOG_PER_WINDOW 8
#define FI_IR_INDEX GENMASK(63, 48) /* interrupt faults: the interrupt index */
#define IR_FAULT_FIRST 0x20

static struct iommu_fault last_fault;
static bool last_valid;
static u64 fault_irqs;

/* Whether a fault report may go to the console: one budget per unit for fault records and
 * overflows alike, so a device's fault storm cannot flood it from CPU 0's interrupt. */
static bool fault_log_allow(struct vtd_unit *u)
{
	unsigned dropped;
	bool allow = ratelimit_allow(&u->fault_log, time_us(), &dropped);

	if (dropped)
		pr_warn("unit %u: %u fault reports suppressed\n", u->idx, dropped);
	if (!allow)
		u->faults_unlogged++;
	return allow;
}

static void log_fault(struct vtd_unit *u, const struct iommu_fault *f)
{
	if (!fault_log_allow(u))
		return;
	pr_warn("unit %u: fault: %s by %04x:%02x:%02x.%x (domain %s%s) at %s %#llx: reason %#x, "
		"%s\n",
		u->idx,
		f->interrupt ? "interrupt"
		: f->write   ? "write"
			     : "read",
		f->segment, f->sid >> 8, (f->sid >> 3) & 31, f->sid & 7,
		iommu_domain_name(f->domain),
		f->domain || f->interrupt ? "" : ": nobody gave it DMA, blocked",
		f->interrupt ? "index" : "address", (unsigned long long)f->addr, f->reason,
		f->reason_name);
}

static void decode_fault(const struct vtd_unit *u, u64 lo, u64 hi, struct iommu_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->segment = u->segment;
	f->sid = (u16)FIELD_GET(VTD_FRCD_HI_SID, hi);
	f->reason = (u8)FIELD_GET(VTD_FRCD_HI_FR, hi);
	f->reason_name = vtd_fault_reason_name(f->reason);
	f->interrupt = f->reason >= IR_FAULT_FIRST;
	f->write = !f->interrupt && !(hi & VTD_FRCD_HI_T);
	f->addr = f->interrupt ? FIELD_GET(FI_IR_INDEX, lo) : lo & VTD_FRCD_LO_FI;
	f->domain = (struct iommu_domain *)vtd_domain_of_sid(u, f->sid);
}

unsigned vtd_fault_drain(struct vtd_unit *u)
{
	u32 fsts = vtd_read32(u, VTD_FSTS);
	unsigned idx = (unsigned)FIELD_GET(VTD_FSTS_FRI, fsts), n = 0;

	for (unsigned i = 0; i < u->caps.nr_frcd; i++, idx = (idx + 1) % u->caps.nr_frcd) {
		u32 reg = u->caps.frcd_off + idx * VTD_FRCD_SIZE;
		u64 hi = vtd_read64(u, reg + VTD_FRCD_HI), lo;
		struct iommu_fault f;

		if (!(hi & VTD_FRCD_HI_F))
			continue;
		lo = vtd_read64(u, reg + VTD_FRCD_LO);
		/* F is write-1-to-clear in the record's top dword: a 32-bit write. */
		vtd_write32(u, reg + VTD_FRCD_HI_DW3, (u32)VTD_FRCD_DW3_F);
		decode_fault(u, lo, hi, &f);
		u->faults_total++;
		n++;
		last_fault = f;
		__atomic_store_n(&last_valid, true, __ATOMIC_RELEASE);
		log_fault(u, &f);
		iommu_report_fault(&f);
	}
	if (fsts & VTD_FSTS_PFO) {
		u->fault_overflows++;
		if (fault_log_allow(u))
			pr_warn("unit %u: fault records overflowed: some faults were not "
				"recorded\n",
				u->idx);
		vtd_write32(u, VTD_FSTS, VTD_FSTS_PFO);
	}
	return n;
}

static void fault_irq(struct trap_frame *tf, void *ctx)
{
	(void)tf;
	__atomic_fetch_add(&fault_irqs, 1, __ATOMIC_RELAXED);
	vtd_fault_drain(ctx);
}

int vtd_fault_init(struct vtd_unit *u)
{
	u32 apic = apic_id(); /* the BSP: the hypervisor CPU takes fault events */
	int vec;

	u->fault_log = (struct ratelimit){.window_us = LOG_WINDOW_US, .burst = LOG_PER_WINDOW};
	vtd_write32(u, VTD_FECTL, VTD_FECTL_IM);
	vtd_fault_drain(u);
	vtd_write32(u, VTD_FSTS, VTD_FSTS_RW1C);
	vec = u->fault_vector > 0 ? u->fault_vector : irq_alloc_vector(fault_irq, u);
	if (vec < 0)
		return pr_err(vec, "unit %u: no vector for fault events\n", u->idx);
	u->fault_vector = vec;
	vtd_write32(u, VTD_FEDATA, (u32)FIELD_PREP(MSI_DATA_VECTOR, vec));
	vtd_write32(u, VTD_FEADDR,
		    VTD_MSI_ADDR_BASE | (u32)FIELD_PREP(MSI_ADDR_DEST_ID, apic & 0xff));
	/* With EIM the upper 24 bits of an x2APIC ID go into the upper address register. */
	vtd_write32(u, VTD_FEUADDR, u->caps.eim ? apic & ~0xffu : 0);
	vtd_write32(u, VTD_FECTL, 0);
	pr_info("unit %u: fault events on vector %#x to APIC %u\n", u->idx, vec, apic);
	return 0;
}

bool vtd_fault_last(struct iommu_fault *f)
{
	if (!__atomic_load_n(&last_valid, __ATOMIC_ACQUIRE))
		return false;
	*f = last_fault;
	return true;
}

void vtd_fault_last_clear(void)
{
	__atomic_store_n(&last_valid, false, __ATOMIC_RELEASE);
}

u64 vtd_fault_interrupts(void)
{
	return __atomic_load_n(&fault_irqs, __ATOMIC_RELAXED);
}
