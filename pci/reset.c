/* Function Level Reset. */
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

#define FLR_PENDING_TIMEOUT_US 100000
#define FLR_WAIT_MS 100
#define FLR_READY_TIMEOUT_US 1000000

int pci_flr(struct pci_dev *d)
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
	/* No config request to the function for 100 ms after FLR. */
	mdelay(FLR_WAIT_MS);
	/* VFs read FFFF as vendor: the class/revision dword tells whether it answers. */
	if (!WAIT_US(pci_read32(d, PCI_CLASS_REVISION) != 0xffffffffu, FLR_READY_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "%04x:%02x:%02x.%x does not answer %u ms after FLR\n",
			      d->seg, d->bus, d->dev, d->fn,
			      FLR_WAIT_MS + FLR_READY_TIMEOUT_US / 1000);
	return 0;
}
