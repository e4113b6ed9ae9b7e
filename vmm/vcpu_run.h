/* The run loop of an OS guest's vCPU (vmm/vcpu_run.c). */
#ifndef VMM_VCPU_RUN_H
#define VMM_VCPU_RUN_H

#include "vmm/vmm.h"

/* Sets up the vCPUs' virtual LAPICs at the guest's creation: the boot vCPU runs, the others
 * wait for a start-up IPI. */
void vcpu_os_init(struct guest *g);
/* On v's own CPU, interrupts off, until the guest ends. */
void vcpu_os_loop(struct vcpu *v);

#endif
