/* Function Level Reset, and the secondary bus reset of a bridge for functions without FLR. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/time.h>
#include "pci/internal.h"

/* PCI Express capability: Device Capabilities, Control, Status. */
#define PCI_EXP_DEVCAP 0x04
#define PCI_EXP_DEVCAP_FLR BIT(28)
#define PCI_EXP_DEVCTL 0x08
#define PCI_EXP_DEVCTL_BCR_FLR BIT(15)
#define PCI_EXP_DEVSTA 0x0a
#define PCI_EXP_DEVSTA_TRPND BIT(5)

/* Type 1 header: Bridge Control */
#define PCI_BRIDGE_CONTROL 0x3e
#define PCI_BRIDGE_CTL_BUS_RESET BIT(6)

/* What a reset clears and moat set up: restored after a secondary bus reset. */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_BAR0 0x10
#define PCI_BAR5 0x24

#define SBR_ASSERT_MS 2 /* Trst: at least 1 ms (PCI Local Bus 3.0, 4.3.2) */
#define SBR_SETTLE_MS 100

#define FLR_PENDING_TIMEOUT_US 100000
#define FLR_READY_TIMEOUT_US 1000000

int pci_flr_start(struct pci_dev *d)
{
	u16 pos = d->cap_pcie;

	if (!pos || !(pci_read32(d, pos + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR))
		return pr_err(-ENOTSUP, "%04x:%02x:%02x.%x cannot do a function level reset\n",
			      d->seg, d->bus, d->dev, d->fn);
	if (!WAIT_US(!(pci_read16(d, pos + PCI_EXP_DEVSTA) & PCI_EXP_DEVSTA_TRPND),
		     FLR_PENDING_TIMEOUT_US))
		pr_warn("%04x:%02x:%02x.%x: transactions still pending after %u ms; resetting "
			"anyway\n",
			d->seg, d->bus, d->dev, d->fn, FLR_PENDING_TIMEOUT_US / 1000);
	pci_write16(d, pos + PCI_EXP_DEVCTL,
		    pci_read16(d, pos + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_BCR_FLR);
	return 0;
}

int pci_flr_ready(struct pci_dev *d)
{
	/* VFs read FFFF as vendor: the class/revision dword tells whether it answers. */
	if (!WAIT_US(pci_read32(d, PCI_CLASS_REVISION) != 0xffffffffu, FLR_READY_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "%04x:%02x:%02x.%x does not answer %u ms after FLR\n",
			      d->seg, d->bus, d->dev, d->fn,
			      PCI_FLR_WAIT_MS + FLR_READY_TIMEOUT_US / 1000);
	return 0;
}

int pci_flr(struct pci_dev *d)
{
	int err = pci_flr_start(d);

	if (err)
		return err;
	/* No config request to the function for 100 ms after FLR. */
	mdelay(PCI_FLR_WAIT_MS);
	return pci_flr_ready(d);
}

bool pci_has_flr(const struct pci_dev *d)
{
	return d->cap_pcie && (pci_read32(d, d->cap_pcie + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR);
}

struct saved_header {
	struct pci_dev *d;
	u32 dw[(PCI_BAR5 - PCI_CACHE_LINE_SIZE) / 4 + 1];
	u32 irq;
	u16 cmd;
};

#define MAX_BELOW 32

int pci_secondary_bus_reset(struct pci_dev *bridge)
{
	struct saved_header saved[MAX_BELOW];
	unsigned n = 0;
	struct pci_dev *d;
	u16 ctl;

	if (bridge->header_type != 1)
		return pr_err(-EINVAL, "%04x:%02x:%02x.%x is not a bridge\n", bridge->seg,
			      bridge->bus, bridge->dev, bridge->fn);
	pci_for_each_dev(d)
	{
		if (!d->present || d->parent != bridge)
			continue;
		if (d->header_type == 1 || n == MAX_BELOW)
			return pr_err(
				-ENOTSUP,
				"%04x:%02x:%02x.%x: a bridge or more than %u functions below; "
				"no bus reset\n",
				bridge->seg, bridge->bus, bridge->dev, bridge->fn, MAX_BELOW);
		saved[n].d = d;
		saved[n].cmd = pci_read16(d, PCI_COMMAND);
		saved[n].irq = pci_read32(d, PCI_INTERRUPT_LINE);
		for (unsigned i = 0; i < ARRAY_SIZE(saved[n].dw); i++)
			saved[n].dw[i] = pci_read32(d, (u16)(PCI_CACHE_LINE_SIZE + 4 * i));
		pci_write16(d, PCI_COMMAND, 0);
		n++;
	}
	ctl = pci_read16(bridge, PCI_BRIDGE_CONTROL);
	pci_write16(bridge, PCI_BRIDGE_CONTROL, ctl | PCI_BRIDGE_CTL_BUS_RESET);
	mdelay(SBR_ASSERT_MS);
	pci_write16(bridge, PCI_BRIDGE_CONTROL, ctl & (u16)~PCI_BRIDGE_CTL_BUS_RESET);
	/* No configuration request below the bridge for 100 ms after the reset ends. */
	mdelay(SBR_SETTLE_MS);
	for (unsigned k = 0; k < n; k++) {
		struct saved_header *h = &saved[k];

		if (!WAIT_US(pci_read32(h->d, PCI_CLASS_REVISION) != 0xffffffffu,
			     FLR_READY_TIMEOUT_US))
			return pr_err(-ETIMEDOUT,
				      "%04x:%02x:%02x.%x does not answer after the bus reset\n",
				      h->d->seg, h->d->bus, h->d->dev, h->d->fn);
		for (unsigned i = 0; i < ARRAY_SIZE(h->dw); i++)
			pci_write32(h->d, (u16)(PCI_CACHE_LINE_SIZE + 4 * i), h->dw[i]);
		pci_write32(h->d, PCI_INTERRUPT_LINE, h->irq);
		pci_write16(h->d, PCI_COMMAND, h->cmd);
	}
	pr_info("%04x:%02x:%02x.%x: secondary bus reset (%u functions below)\n", bridge->seg,
		bridge->bus, bridge->dev, bridge->fn, n);
	return 0;
}
