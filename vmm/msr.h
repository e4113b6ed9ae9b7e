/* The MSR policy (vmm/msr.c): each MSR a guest may touch is passed through (the backend
 * switches it per guest), emulated, or refused with #GP, which is the default for every
 * MSR the table does not name. docs/vmm.md, "MSRs", lists them. */
#ifndef VMM_MSR_H
#define VMM_MSR_H

#include <moat/types.h>

struct vcpu;
struct vmm_exit;

/* What an emulated MSR keeps per vCPU. */
struct vcpu_msrs {
	u64 pat;	   /* IA32_PAT, also in the backend (VMM_REG_PAT) */
	u64 mtrr_def_type; /* IA32_MTRR_DEF_TYPE: recorded, no effect (moat's tables decide) */
};

/* Whether the host (and so the guest) is an AMD CPU, for vendor-specific MSRs: -1 until
 * read from CPUID on first use. */
extern int vmm_msr_amd;

/* The reset values (SDM Vol. 3A 11.12.4, 11.11.2.1: PAT's power-on value; MTRRs enabled
 * with write-back as the default type, none variable or fixed). */
void vmm_msr_reset(struct vcpu *v);
/* Opens the passed-through MSRs in the backend's intercepts. */
void vmm_msr_setup(struct vcpu *v);
/* A RDMSR or WRMSR exit: answered, or #GP injected. */
int vmm_handle_msr(struct vcpu *v, const struct vmm_exit *e);

#endif
