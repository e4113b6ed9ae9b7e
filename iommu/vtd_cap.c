/* CAP/ECAP decoding and the capabilities common to all units. */
#include <moat/errno.h>
#include "iommu/vtd.h"

void vtd_caps_decode(u64 cap, u64 ecap, struct vtd_caps *c)
{
	c->cap = cap;
	c->ecap = ecap;
	c->nr_domains = 1u << (4 + 2 * FIELD_GET(VTD_CAP_ND, cap));
	c->sagaw = (u8)FIELD_GET(VTD_CAP_SAGAW, cap);
	c->mgaw = (u8)(FIELD_GET(VTD_CAP_MGAW, cap) + 1);
	c->sllps = (u8)FIELD_GET(VTD_CAP_SLLPS, cap);
	c->nr_frcd = (u16)(FIELD_GET(VTD_CAP_NFR, cap) + 1);
	c->frcd_off = (u32)FIELD_GET(VTD_CAP_FRO, cap) * 16;
	c->iotlb_off = (u32)FIELD_GET(VTD_ECAP_IRO, ecap) * 16;
	c->mamv = (u8)FIELD_GET(VTD_CAP_MAMV, cap);
	c->coherent = ecap & VTD_ECAP_C;
	c->qi = ecap & VTD_ECAP_QI;
	c->ir = ecap & VTD_ECAP_IR;
	c->eim = ecap & VTD_ECAP_EIM;
	c->pt = ecap & VTD_ECAP_PT;
	c->psi = cap & VTD_CAP_PSI;
	c->cm = cap & VTD_CAP_CM;
	c->rwbf = cap & VTD_CAP_RWBF;
}

unsigned vtd_aw_for_levels(unsigned levels)
{
	return levels >= 3 && levels <= 5 ? levels - 2 : 0;
}

/* SAGAW bit n means an (n + 2)-level table. */
static bool sagaw_has(u8 sagaw, unsigned levels)
{
	return sagaw & BIT(vtd_aw_for_levels(levels));
}

int vtd_caps_common(const struct vtd_caps *units, unsigned n, struct vtd_common *out)
{
	static const unsigned preference[] = {4, 3, 5};
	u8 min_mgaw = 64;

	if (!n)
		return -ENODEV;
	out->sagaw = 0x1f;
	out->sllps = 0xf;
	out->nr_domains = ~0u;
	out->qi = out->ir = out->eim = out->coherent = true;
	for (unsigned i = 0; i < n; i++) {
		out->sagaw &= units[i].sagaw;
		out->sllps &= units[i].sllps;
		out->nr_domains = MIN(out->nr_domains, units[i].nr_domains);
		out->qi &= units[i].qi;
		out->ir &= units[i].ir && units[i].qi;
		out->eim &= units[i].eim;
		out->coherent &= units[i].coherent;
		min_mgaw = MIN(min_mgaw, units[i].mgaw);
	}
	out->levels = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(preference); i++)
		if (sagaw_has(out->sagaw, preference[i])) {
			out->levels = preference[i];
			break;
		}
	if (!out->levels)
		return -ENODEV;
	/* A table deeper than MGAW allows still works; addresses above MGAW are never mapped. */
	(void)min_mgaw;
	out->max_leaf_level = out->sllps & BIT(1) && out->sllps & BIT(0) ? 2
			      : out->sllps & BIT(0)			 ? 1
									 : 0;
	return 0;
}
