/* The VMM as the rest of moat starts it. */
#ifndef MOAT_VMM_H
#define MOAT_VMM_H

#include <moat/boot_info.h>

/* Picks the backend, reads the configuration, builds the guests. */
int vmm_init(const struct boot_info *bi);
/* Runs every guest to its end (shutdown, or stopped by the hypervisor). */
void vmm_run(void);

#endif
