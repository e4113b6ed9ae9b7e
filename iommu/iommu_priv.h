/* What every IOMMU driver's domain starts with; the rest is the driver's. */
#ifndef IOMMU_IOMMU_PRIV_H
#define IOMMU_IOMMU_PRIV_H

#include <moat/iommu.h>

struct iommu_domain {
	char name[24];
	u32 id; /* the hardware's tag for it (VT-d: the domain ID) */
	u64 faults;
};

#endif
