/* The DMAR table (iommu/dmar.c): the input is the whole table (its length field is the
 * parser's to check), then every lookup moat does with the result, with bridges below
 * the root bus answering from a small fake config space. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/pci.h>
#include <moat/string.h>
#include "iommu/dmar.h"
#include "fuzz.h"

/* Bridge at bus b, device d: secondary bus b + d + 1, subordinate b + d + 2 (for d < 4). */
static int fake_bridge_buses(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	if (dev >= 4 || fn || bus > 0xf0)
		return -ENODEV;
	*sec = (u8)(bus + dev + 1);
	*sub = (u8)(bus + dev + 2);
	return 0;
}

static const struct dmar_pci_ops pci = {fake_bridge_buses, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dmar_info info;
	static const u16 rids[] = {PCI_RID(0, 0, 0), PCI_RID(0, 1, 0),	  PCI_RID(0, 2, 0),
				   PCI_RID(0, 5, 0), PCI_RID(1, 0, 0),	  PCI_RID(1, 0x10, 2),
				   PCI_RID(2, 3, 0), PCI_RID(0, 0x1f, 2), PCI_RID(0xff, 0, 0)};
	u8 *t = malloc(size ? size : 1);

	memcpy(t, data, size);
	memset(&info, 0, sizeof(info));
	if (dmar_parse(t, size, &info) == 0) {
		unsigned idx[DMAR_MAX_RMRR];
		u16 sid;

		for (u16 seg = 0; seg < 2; seg++)
			for (unsigned i = 0; i < sizeof(rids) / sizeof(rids[0]); i++) {
				dmar_unit_for_pci(&info, seg, rids[i], rids[i], &pci);
				dmar_unit_for_pci(&info, seg, rids[i], PCI_RID(1, 0, 0), &pci);
				dmar_unit_for_non_pci(&info, seg, rids[i], &pci);
				if (dmar_rmrrs_for_pci(&info, seg, rids[i], &pci, idx,
						       DMAR_MAX_RMRR) > DMAR_MAX_RMRR)
					abort();
			}
		for (unsigned id = 0; id < 4; id++)
			dmar_unit_for_ioapic(&info, (u8)id, &sid, &pci);
		if (info.nr_drhd > DMAR_MAX_DRHD || info.nr_rmrr > DMAR_MAX_RMRR ||
		    info.nr_scopes > DMAR_MAX_SCOPES)
			abort();
		for (unsigned d = 0; d < info.nr_drhd; d++) {
			const struct dmar_scope_list *l = &info.drhd[d].scopes;

			if (l->first + l->count > info.nr_scopes)
				abort();
			for (unsigned s = l->first; s < l->first + l->count; s++) {
				u16 bdf;
				u8 sec, sub;

				dmar_scope_resolve(&info.scopes[s], info.drhd[d].segment, &pci,
						   &bdf, &sec, &sub);
			}
		}
	}
	free(t);
	return 0;
}
