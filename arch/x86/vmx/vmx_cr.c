/* MOV to CR0/CR4 that touches a bit the host owns (the guest/host masks cover the bits VMX
 * fixes): the core's VMM_EXIT_CR_WRITE, applied here as the architecture defines it for
 * the guest (SDM Vol. 3C 25.3, 28.2.1 Table 28-3). */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

/* A CR0 write that turns paging on or off with EFER.LME set enters or leaves IA-32e mode
 * (SDM Vol. 3A 10.8.5): EFER.LMA and the "IA-32e mode guest" entry control follow it. Paging
 * on in long mode needs CR4.PAE, else #GP(0). */
static int cr0_long_mode(u64 val, u64 *efer_out)
{
	/* PG and PAE are outside the guest/host masks: the real registers hold the guest's */
	u64 efer = vmcs_read(VMCS_GUEST_EFER), cr0 = vmcs_read(VMCS_GUEST_CR0);
	u64 cr4 = vmcs_read(VMCS_GUEST_CR4);

	if ((efer & EFER_LME) && (val & CR0_PG) && !(cr0 & CR0_PG) && !(cr4 & CR4_PAE))
		return VMM_CR_FAULT;
	*efer_out = vmx_efer_for_cr0(efer, val);
	return VMM_CR_APPLIED;
}

static bool set_efer_lma(u64 efer)
{
	u64 entry = vmcs_read(VMCS_ENTRY_CTLS) & ~(u64)ENTRY_IA32E;

	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E;
	return vmcs_write(VMCS_GUEST_EFER, efer) && vmcs_write(VMCS_ENTRY_CTLS, entry);
}

static int write_loaded(unsigned cr, u64 val)
{
	enum vmx_cr_write w;
	u64 real = 0, efer = 0;

	if (cr == 0 && cr0_long_mode(val, &efer) == VMM_CR_FAULT)
		return VMM_CR_FAULT;
	if (cr == 0)
		w = vmx_cr0_write(&vmx_cfg.caps, vmx_cfg.unrestricted, vmcs_read(VMCS_GUEST_CR0),
				  val, &real);
	else if (cr == 4)
		w = vmx_cr4_write(&vmx_cfg.caps, val, &real);
	else
		w = VMX_CR_UNSUPPORTED;
	if (w == VMX_CR_FAULT)
		return VMM_CR_FAULT;
	if (w == VMX_CR_UNSUPPORTED)
		return -ENOTSUP;
	if (!vmcs_write(cr == 0 ? VMCS_CR0_SHADOW : VMCS_CR4_SHADOW, val) ||
	    !vmcs_write(cr == 0 ? VMCS_GUEST_CR0 : VMCS_GUEST_CR4, real))
		return pr_err(-EIO, "VMWRITE of guest CR%u failed\n", cr);
	if (cr == 0 && efer != vmcs_read(VMCS_GUEST_EFER) && !set_efer_lma(efer))
		return pr_err(-EIO, "VMWRITE of guest EFER failed\n");
	return VMM_CR_APPLIED;
}

int vmx_write_cr(struct vcpu *v, unsigned cr, u64 val)
{
	int r = vmx_vcpu_load(to_vmx(v));

	if (r)
		return r;
	r = write_loaded(cr, val);
	vmx_vcpu_put(v);
	return r;
}
