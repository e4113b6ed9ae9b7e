/* VM-exit information fields to the core's normalized exit (SDM Vol. 3C 28.2), as a pure
 * function of the fields, so the host unit tests can feed it recorded values. */
#ifndef ARCH_X86_VMX_VMX_DECODE_H
#define ARCH_X86_VMX_VMX_DECODE_H

#include <moat/types.h>
#include "vmm/backend.h"

struct vmx_exit_info {
	u32 reason;	/* exit reason field */
	u64 qual;	/* exit qualification */
	u64 gpa;	/* guest-physical address (EPT exits) */
	u32 intr_info;	/* VM-exit interruption information */
	u32 intr_error; /* VM-exit interruption error code */
	u64 rip;
	u32 insn_len;
};

/* gprs: the guest's RAX..R15 in enum vmm_reg order. */
void vmx_exit_decode(const struct vmx_exit_info *x, const u64 *gprs, struct vmm_exit *e);

#endif
