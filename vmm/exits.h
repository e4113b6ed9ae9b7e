/* Exit handlers of the core (vmm/exit.c dispatches to them). Each returns 0 when the guest
 * may go on, or a negative errno after it stopped the guest with guest_stop(). */
#ifndef VMM_EXITS_H
#define VMM_EXITS_H

#include "vmm/vmm.h"

int vmm_handle_exit(struct vcpu *v, const struct vmm_exit *e);
/* The vCPU's CPUID context (struct vcpu.cpuid), on the vCPU's own CPU before its first
 * entry. */
void vcpu_cpuid_init(struct vcpu *v);
int vmm_handle_io(struct vcpu *v, const struct vmm_exit *e);
int vmm_handle_hypercall(struct vcpu *v, const struct vmm_exit *e);
/* Flushes a partial console line of the guest. */
void vmm_console_flush(struct guest *g);
void vmm_console_putc(struct guest *g, char c);

/* Ends the guest (GUEST_DONE or GUEST_STOPPED) unless it has already ended: true for the
 * one caller that ended it. Any vCPU of the guest; the others leave their loops (their
 * threads kick them, see vmm/vmm.c). */
bool guest_end(struct guest *g, enum guest_state how);
/* Stops the guest and records why (printf-style); a guest that already ended keeps its
 * first reason. */
int guest_stop(struct guest *g, enum vmm_exit_reason why, const char *fmt, ...) __printf(3, 4);

#endif
