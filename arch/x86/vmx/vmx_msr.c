/* Guest MSR access: the MSR bitmap, and for MSRs the core passes through that the VMCS
 * does not hold, the VM-entry load / VM-exit store and load areas (SDM Vol. 3C 24.7.2,
 * 24.8.2) that give each guest its own value and the host its own back. */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

#define MSR_IA32_DEBUGCTL 0x1d9
#define VMX_MSR_AREA_MAX (PAGE_SIZE / sizeof(struct vmx_msr_entry))

static void bitmap_set(u8 *map, u32 bit, bool set)
{
	if (set)
		map[bit / 8] |= (u8)(1u << (bit % 8));
	else
		map[bit / 8] &= (u8) ~(1u << (bit % 8));
}

void vmx_io_intercept(struct vcpu *v, u16 port, bool intercept)
{
	/* bitmap A covers ports 0-0x7fff and B 0x8000-0xffff, contiguous here */
	bitmap_set(to_vmx(v)->io_bitmap, port, intercept);
}

/* MSRs whose guest value lives in the VMCS guest-state area (24.4.1) */
static bool vmcs_holds(u32 msr)
{
	return msr == MSR_FS_BASE || msr == MSR_GS_BASE || msr == MSR_EFER ||
	       msr == MSR_IA32_DEBUGCTL ||
	       (msr >= MSR_IA32_SYSENTER_CS && msr <= MSR_IA32_SYSENTER_EIP) ||
	       (msr == MSR_IA32_PAT && vmx_cfg.load_pat);
}

static bool rdmsr_safe(u32 msr, u64 *val)
{
	struct percpu *pc = this_cpu();
	u64 traps = pc->recovered_traps;
	u32 lo = 0, hi = 0;

	__asm__ volatile("1: rdmsr\n\t2:\n\t" EXTABLE_ENTRY("1b", "2b")
			 : "+a"(lo), "+d"(hi)
			 : "c"(msr)
			 : "memory");
	*val = ((u64)hi << 32) | lo;
	return pc->recovered_traps == traps;
}

static bool switched(const struct vmx_vcpu *vv, u32 msr)
{
	for (u32 i = 0; i < vv->nr_msr_switch; i++)
		if (vv->msr_guest[i].index == msr)
			return true;
	return false;
}

/* Adds msr to the areas: the guest starts from 0 (its reset value), the host value is the
 * one this CPU has now (moat never changes these MSRs). */
static int switch_msr(struct vcpu *v, u32 msr)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u32 n = vv->nr_msr_switch;
	u64 host;
	int err;

	if (switched(vv, msr))
		return 0;
	/* 26.4: these may not be loaded from an MSR area */
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return pr_err(-EINVAL, "x2APIC MSR %#x cannot be given to a guest\n", msr);
	if (n >= VMX_MSR_AREA_MAX || n >= vmx_cfg.max_msr_list)
		return pr_err(-ENOSPC, "no room to switch MSR %#x (%u switched)\n", msr, n);
	if (!rdmsr_safe(msr, &host))
		return pr_err(-EINVAL, "MSR %#x does not exist on this CPU\n", msr);
	err = vmx_vcpu_load(vv);
	if (err)
		return err;
	vv->msr_guest[n] = (struct vmx_msr_entry){.index = msr, .value = 0};
	vv->msr_host[n] = (struct vmx_msr_entry){.index = msr, .value = host};
	vv->nr_msr_switch = n + 1;
	if (!vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, n + 1) ||
	    !vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, n + 1) ||
	    !vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, n + 1))
		err = pr_err(-EIO, "VMWRITE of the MSR area counts failed\n");
	vmx_vcpu_put(v);
	return err;
}

void vmx_msr_intercept(struct vcpu *v, u32 msr, bool read, bool write)
{
	struct vmx_vcpu *vv = to_vmx(v);
	u32 rd, wr, bit;

	if (msr < MSR_RANGE_LO_END) {
		rd = MSR_BITMAP_READ_LO;
		wr = MSR_BITMAP_WRITE_LO;
		bit = msr;
	} else if (msr >= MSR_RANGE_HI_BASE && msr < MSR_RANGE_HI_END) {
		rd = MSR_BITMAP_READ_HI;
		wr = MSR_BITMAP_WRITE_HI;
		bit = msr - MSR_RANGE_HI_BASE;
	} else {
		/* 24.6.9: MSRs outside both ranges always exit */
		if (!read || !write)
			pr_warn("MSR %#x is outside the bitmap: it always exits\n", msr);
		return;
	}
	/* a guest touching the real MSR must have its own copy of it */
	if ((!read || !write) && !vmcs_holds(msr) && switch_msr(v, msr)) {
		pr_warn("MSR %#x stays intercepted\n", msr);
		return;
	}
	bitmap_set(vv->msr_bitmap + rd, bit, read);
	bitmap_set(vv->msr_bitmap + wr, bit, write);
}
