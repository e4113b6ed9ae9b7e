/* Invalidation queue descriptors (VT-d spec 6.5.2): context-cache, IOTLB, interrupt entry
 * cache and invalidation wait, 128 bits each. */
#include "iommu/vtd.h"

static struct vtd_qword2 desc(u64 lo, u64 hi)
{
	return (struct vtd_qword2){.lo = lo, .hi = hi};
}

struct vtd_qword2 vtd_desc_cc_global(void)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_CC) | FIELD_PREP(VTD_CC_G, VTD_INV_GLOBAL),
		    0);
}

struct vtd_qword2 vtd_desc_cc_domain(u16 did)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_CC) | FIELD_PREP(VTD_CC_G, VTD_INV_DOMAIN) |
			    FIELD_PREP(VTD_CC_DID, did),
		    0);
}

struct vtd_qword2 vtd_desc_cc_device(u16 did, u16 sid, u8 fm)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_CC) | FIELD_PREP(VTD_CC_G, VTD_INV_DEVICE) |
			    FIELD_PREP(VTD_CC_DID, did) | FIELD_PREP(VTD_CC_SID, sid) |
			    FIELD_PREP(VTD_CC_FM, fm),
		    0);
}

/* Drain reads and writes so no request translated by the old entries is still in flight. */
#define IOTLB_DRAIN (VTD_IOTLB_DESC_DR | VTD_IOTLB_DESC_DW)

struct vtd_qword2 vtd_desc_iotlb_global(void)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_IOTLB) |
			    FIELD_PREP(VTD_IOTLB_G, VTD_INV_GLOBAL) | IOTLB_DRAIN,
		    0);
}

struct vtd_qword2 vtd_desc_iotlb_domain(u16 did)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_IOTLB) |
			    FIELD_PREP(VTD_IOTLB_G, VTD_INV_DOMAIN) | IOTLB_DRAIN |
			    FIELD_PREP(VTD_IOTLB_DESC_DID, did),
		    0);
}

struct vtd_qword2 vtd_desc_iotlb_page(u16 did, u64 addr, u8 am, bool ih)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_IOTLB) |
			    FIELD_PREP(VTD_IOTLB_G, VTD_INV_PAGE) | IOTLB_DRAIN |
			    FIELD_PREP(VTD_IOTLB_DESC_DID, did),
		    FIELD_PREP(VTD_IOTLB_HI_AM, am) | (ih ? VTD_IOTLB_HI_IH : 0) |
			    (addr & VTD_IOTLB_HI_ADDR));
}

struct vtd_qword2 vtd_desc_iec_global(void)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_IEC), 0);
}

struct vtd_qword2 vtd_desc_iec_index(u16 index, u8 im)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_IEC) | VTD_IEC_G |
			    FIELD_PREP(VTD_IEC_IM, im) | FIELD_PREP(VTD_IEC_IIDX, index),
		    0);
}

/* Status write only: QEMU aborts on a wait descriptor with both SW and IF. */
struct vtd_qword2 vtd_desc_wait(u64 status_addr, u32 data)
{
	return desc(FIELD_PREP(VTD_DESC_TYPE, VTD_DESC_WAIT) | VTD_WAIT_SW |
			    FIELD_PREP(VTD_WAIT_STATDATA, data),
		    status_addr & VTD_WAIT_HI_STATADDR);
}

u8 vtd_iotlb_mask(u64 addr, u64 size, u64 *base)
{
	u64 first = addr >> PAGE_SHIFT, last = (addr + size - 1) >> PAGE_SHIFT;
	u8 am = 0;

	/* Grow the naturally aligned block until it holds the last page too. */
	while ((first >> am) != (last >> am))
		am++;
	*base = (first >> am) << am << PAGE_SHIFT;
	return am;
}
