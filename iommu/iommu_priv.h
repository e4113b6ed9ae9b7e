/* What every IOMMU driver's domain starts with; the rest is the driver's. */
#ifndef IOMMU_IOMMU_PRIV_H
#define IOMMU_IOMMU_PRIV_H

#include <moat/iommu.h>

struct iommu_domain {
	char name[24];
	u64 faults;
};

#endif
