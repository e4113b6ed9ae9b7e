/* Self-tests of the isolation groups on the machine moat runs on. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/pci_group.h>
#include "tests/hv/selftest.h"
#include <moat/string.h>

#define MAX_MEMBERS 64

static bool is_bridge(const struct pci_dev *d)
{
	return d->header_type == 1;
}

static unsigned endpoints_of(const struct pci_group *g, struct pci_dev **out)
{
	struct pci_dev *m[MAX_MEMBERS];
	unsigned n = pci_group_members(g, m, MAX_MEMBERS), k = 0;

	for (unsigned i = 0; i < n; i++)
		if (!is_bridge(m[i]))
			out[k++] = m[i];
	return k;
}

SELFTEST_ORDER(st_groups_cover, "pci", "groups-cover-every-function", 60)
{
	struct pci_dev *d;
	unsigned present = 0, in_groups = 0;

	pci_for_each_dev(d)
	{
		if (!d->present)
			continue;
		present++;
		CHECK(ctx, pci_group_of(d), "%02x:%02x.%x has no group", d->bus, d->dev, d->fn);
		if (d->ecap_acs)
			CHECK(ctx,
			      (d->acs.ctrl & (d->acs.cap & PCI_ACS_ISOLATION)) ==
				      (d->acs.cap & PCI_ACS_ISOLATION),
			      "%02x:%02x.%x ACS control %#x lacks offered bits of %#x", d->bus,
			      d->dev, d->fn, d->acs.ctrl, d->acs.cap);
	}
	for (unsigned i = 0; i < pci_group_count(); i++)
		in_groups += pci_group_at(i)->nr;
	CHECK(ctx, present == in_groups, "%u functions, %u group members", present, in_groups);
	if (!present)
		st_skip(ctx, "no PCI function found");
}

/* A VF whose every upstream port isolates with ACS is alone in its group. */
SELFTEST_ORDER(st_groups_vfs_alone, "pci", "groups-vf-alone-under-acs", 60)
{
	struct pci_dev *d;
	unsigned checked = 0;

	pci_for_each_dev(d)
	{
		bool isolated = true;

		if (!d->present || !d->is_vf)
			continue;
		for (const struct pci_dev *b = d->parent; b; b = b->parent)
			isolated = isolated && pci_acs_isolated(b);
		if (!isolated)
			continue;
		checked++;
		CHECK(ctx, pci_group_of(d) && pci_group_of(d)->nr == 1,
		      "VF %02x:%02x.%x shares group %u (%s)", d->bus, d->dev, d->fn,
		      pci_group_of(d) ? pci_group_of(d)->id : 0,
		      pci_group_of(d) ? pci_group_of(d)->reason : "none");
	}
	if (!checked)
		st_skip(ctx, "no VF below ports that isolate with ACS on this machine");
}

/* Giving a guest part of a group is refused naming the group; the whole group is not. */
SELFTEST_ORDER(st_groups_split_refused, "pci", "group-split-refused", 60)
{
	unsigned multi = 0;

	for (unsigned i = 0; i < pci_group_count(); i++) {
		const struct pci_group *g = pci_group_at(i);
		struct pci_dev *ep[MAX_MEMBERS];
		unsigned n = endpoints_of(g, ep);
		char why[200] = "";
		bool hv_member = false;
		int err;

		for (unsigned k = 0; k < n; k++)
			hv_member |= ep[k]->owner.kind == PCI_OWNER_HYPERVISOR;
		if (n < 2)
			continue;
		multi++;
		err = pci_group_check_assignment(ep, 1, why, sizeof(why));
		CHECK(ctx, err == -EBUSY, "one member of group %u accepted (%d)", g->id, err);
		CHECK(ctx, strstr(why, "group") != NULL, "refusal does not name the group: %s",
		      why);
		err = pci_group_check_assignment(ep, n, why, sizeof(why));
		CHECK(ctx, err == 0, "whole group %u refused: %s", g->id, why);
		(void)hv_member;
	}
	if (!multi)
		st_skip(ctx, "no group with more than one device on this machine");
}
