/* The VMM as the rest of moat starts it. */
#ifndef MOAT_VMM_H
#define MOAT_VMM_H

#include <moat/boot_info.h>

/* Before PCI: reads an explicit configuration (config=, module "config") and tells pci/
 * how many VFs each PF it names must have (pci_sriov_demand). */
void vmm_config_early(const struct boot_info *bi);
/* Picks the backend, reads the configuration (if not read early), builds the guests. */
int vmm_init(const struct boot_info *bi);
/* Runs every guest to its end (shutdown, or stopped by the hypervisor). */
void vmm_run(void);

#endif
