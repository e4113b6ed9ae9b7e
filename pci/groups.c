/* Isolation groups (see include/moat/pci_group.h). The rules are Linux's
 * pci_device_group(): the same machine gives the same groups. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pci_group.h>
#include <moat/string.h>

/* Devices known to issue DMA with another function's requester ID (the same quirks
 * Linux applies: Marvell SATA controllers use function 1, some Ricoh card readers 0). */
static const struct dma_alias_quirk {
	u16 vendor, device;
	u8 alias_fn;
} dma_alias_quirks[] = {
	{0x1b4b, 0x9120, 1}, {0x1b4b, 0x9123, 1}, {0x1b4b, 0x9125, 1}, {0x1b4b, 0x9128, 1},
	{0x1b4b, 0x9130, 1}, {0x1b4b, 0x9170, 1}, {0x1b4b, 0x9172, 1}, {0x1b4b, 0x917a, 1},
	{0x1b4b, 0x9182, 1}, {0x1b4b, 0x91a0, 1}, {0x1b4b, 0x9220, 1}, {0x1b4b, 0x9230, 1},
	{0x1180, 0xe832, 0}, {0x1180, 0xe476, 0},
};

static struct {
	u16 parent[PCI_MAX_DEVS]; /* union-find over device-list indices */
	u16 group_of[PCI_MAX_DEVS];
	char reason[PCI_MAX_DEVS][PCI_GROUP_REASON_MAX]; /* at union-find roots */
	struct pci_group groups[PCI_MAX_DEVS];
	unsigned nr_devs, nr_groups;
	bool valid;
} g;

static bool is_bridge(const struct pci_dev *d)
{
	return d->header_type == 1;
}

static bool is_pcie(const struct pci_dev *d)
{
	return d->cap_pcie != 0;
}

static bool is_multifunction(const struct pci_dev *d)
{
	return d->multifunction && !d->is_vf;
}

static void fmt_bdf(const struct pci_dev *d, char *buf, size_t size)
{
	snprintf(buf, size, "%04x:%02x:%02x.%x", d->seg, d->bus, d->dev, d->fn);
}

static int index_of(const struct pci_dev *d)
{
	for (unsigned i = 0; i < g.nr_devs; i++)
		if (pci_dev_at(i) == d)
			return (int)i;
	return -1;
}

static unsigned find_root(unsigned i)
{
	while (g.parent[i] != i) {
		g.parent[i] = g.parent[g.parent[i]];
		i = g.parent[i];
	}
	return i;
}

static void join(const struct pci_dev *a, const struct pci_dev *b, const char *fmt,
		 const struct pci_dev *culprit)
{
	int ia = index_of(a), ib = index_of(b);
	unsigned ra, rb;
	char bdf[16];

	if (ia < 0 || ib < 0)
		return;
	ra = find_root((unsigned)ia);
	rb = find_root((unsigned)ib);
	if (ra == rb)
		return;
	if (rb < ra) {
		unsigned t = ra;

		ra = rb;
		rb = t;
	}
	g.parent[rb] = (u16)ra;
	if (!g.reason[ra][0]) {
		if (g.reason[rb][0]) {
			memcpy(g.reason[ra], g.reason[rb], sizeof(g.reason[ra]));
		} else {
			fmt_bdf(culprit, bdf, sizeof(bdf));
			snprintf(g.reason[ra], sizeof(g.reason[ra]), fmt, bdf);
		}
	}
}

static bool acs_flags_enabled(const struct pci_dev *d)
{
	/* Capabilities a port does not implement are hard-wired enabled (PCIe Base Spec
	 * 6.12.1.1), except egress control. */
	u16 want = PCI_ACS_ISOLATION & (d->acs.cap | PCI_ACS_EC);

	return d->ecap_acs && (d->acs.ctrl & want) == want;
}

bool pci_acs_isolated(const struct pci_dev *d)
{
	if (!is_pcie(d))
		return false; /* conventional PCI: a shared bus */
	switch (d->pcie.port_type) {
	case PCIE_TYPE_PCI_TO_PCIE:
	case PCIE_TYPE_PCIE_TO_PCI:
	case PCIE_TYPE_RC_EVENT_COLLECTOR: return false;
	case PCIE_TYPE_DOWNSTREAM:
	case PCIE_TYPE_ROOT_PORT: return acs_flags_enabled(d);
	case PCIE_TYPE_ENDPOINT:
	case PCIE_TYPE_UPSTREAM:
	case PCIE_TYPE_LEGACY_ENDPOINT:
	case PCIE_TYPE_RC_INTEGRATED:
		/* ACS matters for peers only inside a multi-function device (6.12.1.2). */
		return is_multifunction(d) ? acs_flags_enabled(d) : true;
	default: return true;
	}
}

/* Whether every port from `b` up to the root complex isolates with ACS. */
static bool acs_path_isolated(const struct pci_dev *b)
{
	for (; b; b = b->parent)
		if (!pci_acs_isolated(b))
			return false;
	return true;
}

/* The first bridge on the way up that takes over d's requester ID, and the RID it uses. */
static const struct pci_dev *alias_bridge(const struct pci_dev *d, u16 *rid)
{
	for (const struct pci_dev *b = d->parent; b; b = b->parent) {
		if (!is_pcie(b)) {
			*rid = b->rid;
			return b;
		}
		if (b->pcie.port_type == PCIE_TYPE_PCIE_TO_PCI) {
			/* PCIe-to-PCI/X Bridge Spec 2.3: requests from below carry the
			 * secondary bus number with device and function 0. */
			*rid = PCI_RID(b->secondary, 0, 0);
			return b;
		}
		if (b->pcie.port_type == PCIE_TYPE_PCI_TO_PCIE) {
			*rid = b->rid;
			return b;
		}
	}
	return NULL;
}

static const struct dma_alias_quirk *alias_quirk(const struct pci_dev *d)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dma_alias_quirks); i++)
		if (dma_alias_quirks[i].vendor == d->vendor &&
		    dma_alias_quirks[i].device == d->device)
			return &dma_alias_quirks[i];
	return NULL;
}

/* Without ACS Request Redirect and Upstream Forwarding, a switch downstream port lets the
 * requests of the devices below it go straight to the devices below its sibling ports,
 * never reaching the IOMMU: everything under that switch is one group. (Stricter than
 * Linux's classic pci_device_group(), which grouped per downstream port; the same as its
 * reachable-set rework.) */
static void join_sibling_ports(struct pci_dev *d)
{
	for (unsigned i = 0; i < g.nr_devs; i++) {
		struct pci_dev *t = pci_dev_at(i);

		if (t != d && t->present && t->parent == d->parent && is_pcie(t) &&
		    t->pcie.port_type == PCIE_TYPE_DOWNSTREAM)
			join(d, t,
			     "switch downstream port %s without ACS reaches its sibling ports", d);
	}
}

static void group_device(struct pci_dev *d)
{
	const struct dma_alias_quirk *q;
	const struct pci_dev *b;
	u16 rid;

	b = alias_bridge(d, &rid);
	if (b) {
		join(d, b,
		     is_pcie(b) ? "requester ID aliased by PCIe-to-PCI bridge %s"
				: "requester ID aliased by conventional PCI bridge %s",
		     b);
		return;
	}
	for (b = d->parent; b; b = b->parent) {
		if (acs_path_isolated(b))
			break;
		join(d, b, "no ACS isolation (SV/RR/CR/UF) at or above %s", b);
		return;
	}
	if (is_pcie(d) && d->pcie.port_type == PCIE_TYPE_DOWNSTREAM && !pci_acs_isolated(d))
		join_sibling_ports(d);
	q = alias_quirk(d);
	if (q) {
		struct pci_dev *t = pci_find_bdf(d->seg, d->bus, d->dev, q->alias_fn);

		if (t && t != d)
			join(d, t, "known DMA alias quirk of %s", d);
	}
	if (is_multifunction(d) && !pci_acs_isolated(d)) {
		for (unsigned i = 0; i < g.nr_devs; i++) {
			struct pci_dev *t = pci_dev_at(i);

			if (t != d && t->present && t->seg == d->seg && t->bus == d->bus &&
			    t->dev == d->dev && !pci_acs_isolated(t))
				join(d, t, "multi-function device %s without ACS isolation", d);
		}
	}
}

int pci_groups_compute(void)
{
	g.nr_devs = pci_dev_count();
	g.nr_groups = 0;
	g.valid = false;
	if (g.nr_devs > PCI_MAX_DEVS)
		return pr_err(-E2BIG, "%u functions, more than the %u groups can track\n",
			      g.nr_devs, PCI_MAX_DEVS);
	for (unsigned i = 0; i < g.nr_devs; i++) {
		g.parent[i] = (u16)i;
		g.reason[i][0] = 0;
	}
	for (unsigned i = 0; i < g.nr_devs; i++)
		if (pci_dev_at(i)->present)
			group_device(pci_dev_at(i));
	/* A set's root is its lowest index, so groups are numbered in device-list order of
	 * their first member and a member's root is always numbered before it. */
	for (unsigned i = 0; i < g.nr_devs; i++) {
		unsigned r = find_root(i);
		struct pci_group *grp;

		if (!pci_dev_at(i)->present)
			continue;
		if (r == i) {
			grp = &g.groups[g.nr_groups];
			memset(grp, 0, sizeof(*grp));
			grp->id = g.nr_groups;
			memcpy(grp->reason, g.reason[i], sizeof(grp->reason));
			g.group_of[i] = (u16)g.nr_groups++;
		} else {
			g.group_of[i] = g.group_of[r];
		}
		grp = &g.groups[g.group_of[i]];
		grp->nr++;
		if (!is_bridge(pci_dev_at(i)))
			grp->nr_endpoints++;
	}
	g.valid = true;
	return 0;
}

unsigned pci_group_count(void)
{
	return g.valid ? g.nr_groups : 0;
}

const struct pci_group *pci_group_at(unsigned idx)
{
	return g.valid && idx < g.nr_groups ? &g.groups[idx] : NULL;
}

const struct pci_group *pci_group_of(const struct pci_dev *d)
{
	int i = g.valid ? index_of(d) : -1;

	if (i < 0 || !d->present)
		return NULL;
	return &g.groups[g.group_of[i]];
}

unsigned pci_group_members(const struct pci_group *grp, struct pci_dev **out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g.nr_devs && n < max; i++)
		if (pci_dev_at(i)->present && g.group_of[i] == grp->id)
			out[n++] = pci_dev_at(i);
	return n;
}

unsigned pci_dma_aliases(const struct pci_dev *d, u16 *rids, unsigned max)
{
	const struct dma_alias_quirk *q = alias_quirk(d);
	unsigned n = 0;
	u16 rid;

	if (n < max)
		rids[n++] = d->rid;
	if (q && n < max)
		rids[n++] = PCI_RID(d->bus, d->dev, q->alias_fn);
	for (const struct pci_dev *b = alias_bridge(d, &rid); b && n < max;
	     b = alias_bridge(b, &rid)) {
		rids[n++] = rid;
		if (rid != b->rid && n < max)
			rids[n++] = b->rid;
	}
	return n;
}

static bool in_set(struct pci_dev *const *devs, unsigned n, const struct pci_dev *d)
{
	for (unsigned i = 0; i < n; i++)
		if (devs[i] == d)
			return true;
	return false;
}

int pci_group_check_assignment(struct pci_dev *const *devs, unsigned n, char *why, size_t size)
{
	char bdf[16], mbdf[16], owner[32];

	if (!g.valid)
		return pr_err(-ENODEV, "isolation groups were not computed\n");
	for (unsigned i = 0; i < n; i++) {
		const struct pci_group *grp = pci_group_of(devs[i]);

		fmt_bdf(devs[i], bdf, sizeof(bdf));
		if (!grp) {
			snprintf(why, size, "%s is not in the device list", bdf);
			return -ENODEV;
		}
		if (is_bridge(devs[i])) {
			snprintf(why, size, "%s is a bridge; bridges stay with the hypervisor",
				 bdf);
			return -EPERM;
		}
		for (unsigned k = 0; k < g.nr_devs; k++) {
			struct pci_dev *m = pci_dev_at(k);

			if (!m->present || g.group_of[k] != grp->id || is_bridge(m) ||
			    in_set(devs, n, m))
				continue;
			fmt_bdf(m, mbdf, sizeof(mbdf));
			snprintf(why, size,
				 "%s is in isolation group %u with %s (owned by %s), which would "
				 "not "
				 "go along: %s",
				 bdf, grp->id, mbdf,
				 pci_owner_name(&m->owner, owner, sizeof(owner)),
				 grp->reason[0] ? grp->reason : "same group");
			return -EBUSY;
		}
	}
	return 0;
}

void pci_acs_enable(struct pci_dev *d)
{
	u16 want;

	if (!d->ecap_acs)
		return;
	want = d->acs.cap & PCI_ACS_ISOLATION;
	if ((d->acs.ctrl & want) == want)
		return;
	pci_write16(d, d->ecap_acs + PCI_ACS_CTRL, d->acs.ctrl | want);
	d->acs.ctrl = pci_read16(d, d->ecap_acs + PCI_ACS_CTRL);
	if ((d->acs.ctrl & want) != want) {
		char bdf[16];

		fmt_bdf(d, bdf, sizeof(bdf));
		pr_warn("%s: ACS control %#x did not take (wanted %#x)\n", bdf, d->acs.ctrl, want);
	}
}

static void print_groups(void)
{
	char line[400], bdf[16];

	for (unsigned k = 0; k < g.nr_groups; k++) {
		int n = snprintf(line, sizeof(line), "group %u:", k);

		for (unsigned i = 0; i < g.nr_devs && n < (int)sizeof(line) - 16; i++) {
			if (!pci_dev_at(i)->present || g.group_of[i] != k)
				continue;
			fmt_bdf(pci_dev_at(i), bdf, sizeof(bdf));
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", bdf);
		}
		if (g.groups[k].nr > 1)
			pr_info("%s (%s)\n", line, g.groups[k].reason);
		else
			pr_info("%s\n", line);
	}
}

int pci_groups_build(void)
{
	struct pci_dev *d;
	int err;

	pci_for_each_dev(d) if (d->present) pci_acs_enable(d);
	err = pci_groups_compute();
	if (err)
		return err;
	pr_info("%u isolation groups\n", g.nr_groups);
	print_groups();
	return 0;
}
