/* MOV to CR0/CR4 that touches a bit the host owns (the guest/host masks cover the bits VMX
 * fixes): emulated here as the architecture defines it for the guest, so that the core
 * never sees a control-register exit (SDM Vol. 3C 25.3, 28.2.1 Table 28-3). */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

static int inject_gp(void)
{
	u32 info = FIELD_PREP(INTR_INFO_VECTOR, VEC_GP) | INTR_INFO_VALID | INTR_INFO_HAS_ERROR |
		   FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC);

	if (!vmcs_write(VMCS_ENTRY_INTR_INFO, info) || !vmcs_write(VMCS_ENTRY_EXC_ERROR, 0))
		return pr_err(-EIO, "VMWRITE of a #GP injection failed\n");
	return 0;
}

/* Returns 1 when the write raised #GP in the guest, 0 when it took effect, a negative
 * errno when it cannot be emulated. */
static int guest_write_cr(unsigned cr, u64 val)
{
	enum vmx_cr_write w;
	u64 real = 0;

	if (cr == 0)
		w = vmx_cr0_write(&vmx_cfg.caps, vmx_cfg.unrestricted, vmcs_read(VMCS_GUEST_CR0),
				  val, &real);
	else
		w = vmx_cr4_write(&vmx_cfg.caps, val, &real);
	if (w == VMX_CR_FAULT)
		return inject_gp() ?: 1;
	if (w == VMX_CR_UNSUPPORTED)
		return -ENOTSUP;
	if (!vmcs_write(cr == 0 ? VMCS_CR0_SHADOW : VMCS_CR4_SHADOW, val) ||
	    !vmcs_write(cr == 0 ? VMCS_GUEST_CR0 : VMCS_GUEST_CR4, real))
		return pr_err(-EIO, "VMWRITE of guest CR%u failed\n", cr);
	return 0;
}

bool vmx_handle_cr_access(struct vmx_vcpu *vv, u64 qual, u32 insn_len)
{
	unsigned cr = (unsigned)FIELD_GET(CR_QUAL_NR, qual);
	unsigned gpr = (unsigned)FIELD_GET(CR_QUAL_GPR, qual);
	u64 val;
	int r;

	if (FIELD_GET(CR_QUAL_TYPE, qual) != CR_TYPE_MOV_TO || (cr != 0 && cr != 4))
		return false;
	val = gpr == VMM_REG_RSP ? vmcs_read(VMCS_GUEST_RSP) : vv->gprs.r[gpr];
	r = guest_write_cr(cr, val);
	if (r < 0)
		return false;
	/* a faulting MOV does not retire: RIP stays on it for the #GP */
	if (r == 0)
		vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + insn_len);
	return true;
}
