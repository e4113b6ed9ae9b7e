/* The run loop of an OS guest's vCPU (vmm/vcpu_run.c). */
#ifndef VMM_VCPU_RUN_H
#define VMM_VCPU_RUN_H

#include "vmm/vmm.h"

/* Sets up the vCPUs' virtual LAPICs at the guest's creation: the boot vCPU runs, the others
 * wait for a start-up IPI. */
void vcpu_os_init(struct guest *g);
/* An exit for the vCPU's virtual LAPIC (its xAPIC page, its MSRs): 0 when handled (or
 * the guest stopped for it), -ENOENT when it is not the LAPIC's. Counted by the caller. */
int vlapic_exit(struct vcpu *v, const struct vmm_exit *e);
/* On v's own CPU, interrupts off, until the guest ends. */
void vcpu_os_loop(struct vcpu *v);

#endif
