/* MOV to CR0/CR4 that touches a bit the host owns (the guest/host masks cover the bits VMX
 * fixes): emulated here as the architecture defines it for the guest, so that the core
 * never sees a control-register exit (SDM Vol. 3C 25.3, 28.2.1 Table 28-3). */
#define LOG_TAG "vmx"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"

/* Exit qualification: control-register access */
#define CR_QUAL_NR GENMASK(3, 0)
#define CR_QUAL_TYPE GENMASK(5, 4)
#define CR_QUAL_GPR GENMASK(11, 8)
#define CR_TYPE_MOV_TO 0

#define VEC_GP 13
#define CR0_RESERVED GENMASK(63, 32)

static int inject_gp(void)
{
	u32 info = FIELD_PREP(INTR_INFO_VECTOR, VEC_GP) | INTR_INFO_VALID | INTR_INFO_HAS_ERROR |
		   FIELD_PREP(INTR_INFO_TYPE, INTR_TYPE_HW_EXC);

	if (!vmcs_write(VMCS_ENTRY_INTR_INFO, info) || !vmcs_write(VMCS_ENTRY_EXC_ERROR, 0))
		return pr_err(-EIO, "VMWRITE of a #GP injection failed\n");
	return 0;
}

/* The bits of the real CR0 VMX forces to 1; PE and PG belong to an unrestricted guest. */
static u64 cr0_forced(void)
{
	u64 f = vmx_cfg.caps.cr0_fixed0;

	if (vmx_cfg.unrestricted)
		f &= ~(u64)(CR0_PE | CR0_PG);
	return f;
}

/* Returns 1 when the write raised #GP in the guest, 0 when it took effect, a negative
 * errno when it cannot be emulated. */
static int guest_write_cr0(u64 val)
{
	u64 cur = vmcs_read(VMCS_GUEST_CR0);

	if ((val & CR0_RESERVED) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return inject_gp() ?: 1;
	/* clearing PE or PG while VMX keeps them set would leave the guest in a mode it did
	 * not ask for */
	if ((cur & ~val) & cr0_forced() & (CR0_PE | CR0_PG))
		return -ENOTSUP;
	if (!vmcs_write(VMCS_CR0_SHADOW, val) ||
	    !vmcs_write(VMCS_GUEST_CR0, (val | cr0_forced()) & vmx_cfg.caps.cr0_fixed1))
		return -EIO;
	return 0;
}

static int guest_write_cr4(u64 val)
{
	/* VMX is hidden from guests: CR4.VMXE is reserved for them, like every bit the CPU
	 * does not offer */
	if ((val & ~vmx_cfg.caps.cr4_fixed1) || (val & CR4_VMXE))
		return inject_gp() ?: 1;
	if (!vmcs_write(VMCS_CR4_SHADOW, val) ||
	    !vmcs_write(VMCS_GUEST_CR4, val | vmx_cfg.caps.cr4_fixed0))
		return -EIO;
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
	r = cr == 0 ? guest_write_cr0(val) : guest_write_cr4(val);
	if (r < 0)
		return false;
	/* a faulting MOV does not retire: RIP stays on it for the #GP */
	if (r == 0)
		vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + insn_len);
	return true;
}
