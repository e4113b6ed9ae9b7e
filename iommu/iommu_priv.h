/* What the vendor-neutral front end (iommu/iommu.c) knows of its hardware drivers: their
 * entries in its probe table, and what every driver's domain starts with. */
#ifndef IOMMU_IOMMU_PRIV_H
#define IOMMU_IOMMU_PRIV_H

#include <moat/iommu.h>

struct iommu_domain {
	char name[24];
	u32 id; /* the hardware's tag for it (VT-d: the domain ID) */
	u64 faults;
};

/* One hardware driver in the front end's probe table. */
struct iommu_driver {
	const char *name;
	/* Right after ACPI, before memory is handed out: finds the firmware's description of
	 * this kind of hardware and withholds the memory it reserves for device DMA from the
	 * page allocator. -ENODEV when the machine has none. */
	int (*probe)(const struct boot_info *bi);
	/* After PCI: takes the hardware over and registers its ops (iommu_register). */
	int (*init)(const struct boot_info *bi);
};

extern const struct iommu_driver vtd_iommu_driver;

#endif
