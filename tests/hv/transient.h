/* Transient guests of the test image (tests/hv/transient.c). */
#ifndef TESTS_HV_TRANSIENT_H
#define TESTS_HV_TRANSIENT_H

#include "vmm/vmm.h"

/* Runs a short-lived guest on this CPU and destroys it; *out receives its final state.
 * `tweak` may change the vCPU before the first entry. */
int vmm_run_transient(const char *name, const char *image, u64 watchdog_us,
		      void (*tweak)(struct vcpu *v), struct guest *out);

#endif
