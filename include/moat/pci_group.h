/* Isolation groups: sets of PCI functions the IOMMU cannot tell apart or that can reach
 * each other without passing it (Linux calls them IOMMU groups, and moat computes the same
 * ones). A group goes to one guest whole, or not at all.
 *
 * A function joins the group of
 *  - the bridges its DMA is aliased to (PCIe-to-PCI and conventional PCI bridges take over
 *    the requester ID of everything behind them),
 *  - every upstream bridge up to the first one from which the path to the root complex has
 *    ACS Source Validation, Request/Completion Redirect and Upstream Forwarding enabled,
 *  - the other functions of its slot when it is a multi-function device without ACS,
 *  - the functions a known DMA alias quirk names. */
#ifndef MOAT_PCI_GROUP_H
#define MOAT_PCI_GROUP_H

#include <moat/pci.h>

#define PCI_GROUP_REASON_MAX 120

struct pci_group {
	unsigned id;
	unsigned nr;			   /* members */
	unsigned nr_endpoints;		   /* members that are not bridges */
	char reason[PCI_GROUP_REASON_MAX]; /* why it has more than one member ("" if alone) */
};

/* PCI ACS Capability and Control registers (PCIe Base Spec 7.7.8) */
#define PCI_ACS_CAP 0x04
#define PCI_ACS_CTRL 0x06
#define PCI_ACS_SV BIT(0) /* source validation */
#define PCI_ACS_TB BIT(1) /* translation blocking */
#define PCI_ACS_RR BIT(2) /* P2P request redirect */
#define PCI_ACS_CR BIT(3) /* P2P completion redirect */
#define PCI_ACS_UF BIT(4) /* upstream forwarding */
#define PCI_ACS_EC BIT(5) /* P2P egress control */
#define PCI_ACS_DT BIT(6) /* direct translated P2P */
#define PCI_ACS_ISOLATION (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

/* Turns on the ACS isolation controls every function's capability offers, then computes
 * the groups over the whole device list and prints them (`pci: group N: <BDFs> (reason)`). */
int pci_groups_build(void);
/* Computes the groups without touching hardware (what pci_groups_build does after ACS). */
int pci_groups_compute(void);
unsigned pci_group_count(void);
const struct pci_group *pci_group_at(unsigned idx);
const struct pci_group *pci_group_of(const struct pci_dev *d);
/* The members of group g, in device-list order; returns how many were stored. */
unsigned pci_group_members(const struct pci_group *g, struct pci_dev **out, unsigned max);
/* The requester IDs a function's DMA can carry: its own first, then its aliases. */
unsigned pci_dma_aliases(const struct pci_dev *d, u16 *rids, unsigned max);
/* Whether the set `devs` may go to one guest: every non-bridge member of every group it
 * touches must be in the set. -EBUSY otherwise, with `why` naming the group, the member
 * left out and the group's reason. */
int pci_group_check_assignment(struct pci_dev *const *devs, unsigned n, char *why, size_t size);
/* Enables the ACS isolation controls a function's capability offers (read back). */
void pci_acs_enable(struct pci_dev *d);
/* Whether d's ACS isolation is in effect, as Linux's pci_acs_enabled() judges it. */
bool pci_acs_isolated(const struct pci_dev *d);

#endif
