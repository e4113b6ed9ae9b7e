/* 82576 (igb) PF driver, bring-up for SR-IOV: reset, link through the PHY, VMDq pools and
 * VF-to-VF switching, one MAC and pool per VF, VF queues enabled, VF mailboxes released.
 * The mailbox protocol is in igb_mbx.c. */
#define LOG_TAG "igb"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/time.h>
#include <moat/pci_driver.h>
#include "pci/internal.h"
#include "pci/pf/igb_regs.h"

static struct igb_pf pfs[IGB_MAX_PFS];
static unsigned nr_pfs;

static int igb_reset(struct igb_pf *pf)
{
	igb_wr(pf, IGB_IMC, 0xffffffffu);
	igb_wr(pf, IGB_CTRL, igb_rd(pf, IGB_CTRL) | IGB_CTRL_RST);
	if (!WAIT_US(!(igb_rd(pf, IGB_CTRL) & IGB_CTRL_RST), IGB_RESET_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "%02x:%02x.%x: CTRL.RST still set after %u us\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn, IGB_RESET_TIMEOUT_US);
	igb_wr(pf, IGB_IMC, 0xffffffffu);
	return 0;
}

static int igb_phy_write(struct igb_pf *pf, u8 reg, u16 val)
{
	u32 mdic = 0;

	igb_wr(pf, IGB_MDIC,
	       (u32)(FIELD_PREP(IGB_MDIC_DATA, val) | FIELD_PREP(IGB_MDIC_REG, reg) |
		     FIELD_PREP(IGB_MDIC_PHY, IGB_PHY_ADDR) |
		     FIELD_PREP(IGB_MDIC_OP, IGB_MDIC_OP_WRITE)));
	if (!WAIT_US((mdic = igb_rd(pf, IGB_MDIC)) & IGB_MDIC_READY, IGB_MDIC_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "MDIC write of PHY register %u not done\n", reg);
	if (mdic & IGB_MDIC_ERROR)
		return pr_err(-EIO, "MDIC write of PHY register %u failed (%#x)\n", reg, mdic);
	return 0;
}

/* Auto-negotiation restart through the PHY, then Set Link Up; the link comes up when
 * negotiation finishes (about 500 ms of virtual time under QEMU). */
static int igb_link_up(struct igb_pf *pf)
{
	int err = igb_phy_write(pf, PHY_BMCR, PHY_BMCR_ANENABLE | PHY_BMCR_ANRESTART);

	if (err)
		return err;
	igb_wr(pf, IGB_CTRL, igb_rd(pf, IGB_CTRL) | IGB_CTRL_SLU);
	pf->link_up = WAIT_US(igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU, IGB_LINK_TIMEOUT_US);
	if (!pf->link_up)
		return pr_err(-ETIMEDOUT, "%02x:%02x.%x: no link %u ms after auto-negotiation\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn,
			      IGB_LINK_TIMEOUT_US / 1000);
	return 0;
}

static int igb_read_mac(struct igb_pf *pf)
{
	u32 lo = igb_rd(pf, IGB_RAL(0)), hi = igb_rd(pf, IGB_RAH(0));

	if (!(hi & IGB_RAH_AV))
		return pr_err(-ENODATA, "%02x:%02x.%x: no valid MAC in RAR[0] after reset\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn);
	for (unsigned i = 0; i < 4; i++)
		pf->mac[i] = (u8)(lo >> (8 * i));
	pf->mac[4] = (u8)FIELD_GET(IGB_RAH_ADDR, hi);
	pf->mac[5] = (u8)(FIELD_GET(IGB_RAH_ADDR, hi) >> 8);
	return 0;
}

/* A locally administered MAC per VF, derived from the PF's so two NICs never collide. */
static void default_vf_mac(const struct igb_pf *pf, unsigned vf, u8 mac[ETH_ALEN])
{
	mac[0] = (u8)((pf->mac[0] | 0x02) & ~0x01);
	mac[1] = pf->mac[1];
	mac[2] = pf->mac[2];
	mac[3] = pf->mac[3];
	mac[4] = pf->mac[5];
	mac[5] = (u8)(0x10 + vf);
}

static int igb_pf_bring_up(struct igb_pf *pf)
{
	struct pci_dev *d = pf->pdev;
	int err;

	if (d->bar[0].type == PCI_BAR_NONE || !d->bar[0].base)
		return pr_err(-ENODEV, "%02x:%02x.%x: BAR0 not assigned\n", d->bus, d->dev, d->fn);
	pf->regs = d->bar[0].base;
	pf->num_vfs = d->sriov && d->sriov->enabled ? d->sriov->num_vfs : 0;
	if (pf->num_vfs >= IGB_NR_POOLS)
		pr_warn("%02x:%02x.%x: all %u pools belong to VFs; the PF cannot send on its own\n",
			d->bus, d->dev, d->fn, IGB_NR_POOLS);
	pf->pf_pool = MIN(pf->num_vfs, IGB_NR_POOLS - 1);
	pci_write16(d, PCI_COMMAND,
		    pci_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	err = igb_reset(pf);
	if (!err)
		err = igb_read_mac(pf);
	if (!err)
		err = igb_link_up(pf);
	if (err)
		return err;
	igb_wr(pf, IGB_MRQC, (u32)FIELD_PREP(IGB_MRQC_MODE, IGB_MRQC_MODE_VMDQ));
	igb_wr(pf, IGB_VT_CTL, (u32)FIELD_PREP(IGB_VT_CTL_DEF_POOL, pf->pf_pool));
	igb_wr(pf, IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	igb_enable_anti_spoof(pf);
	/* VF queue and mailbox events reach the VFs' MSI-X vectors only in MSI-X mode; the
	 * PF's own interrupts stay masked (it polls). */
	igb_wr(pf, IGB_GPIE, IGB_GPIE_MSIX_MODE);
	igb_set_rar(pf, 0, pf->mac, pf->pf_pool);
	igb_enable_pool(pf, pf->pf_pool);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		default_vf_mac(pf, vf, pf->vf[vf].default_mac);
		memcpy(pf->vf[vf].mac, pf->vf[vf].default_mac, ETH_ALEN);
		igb_set_rar(pf, igb_vf_rar(vf), pf->vf[vf].mac, vf);
		igb_enable_pool(pf, vf);
	}
	igb_rx_enable(pf);
	igb_wr(pf, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	/* VFs may talk to the PF only once it says its reset is done. */
	igb_wr(pf, IGB_CTRL_EXT, igb_rd(pf, IGB_CTRL_EXT) | IGB_CTRL_EXT_PFRSTD);
	pr_info("%02x:%02x.%x: up, link %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %u VFs, PF pool "
		"%u\n",
		d->bus, d->dev, d->fn, pf->link_up ? "up" : "down", pf->mac[0], pf->mac[1],
		pf->mac[2], pf->mac[3], pf->mac[4], pf->mac[5], pf->num_vfs, pf->pf_pool);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		const u8 *m = pf->vf[vf].mac;

		pr_info("  vf%u MAC %02x:%02x:%02x:%02x:%02x:%02x (RAR %u, pool %u)\n", vf, m[0],
			m[1], m[2], m[3], m[4], m[5], igb_vf_rar(vf), vf);
	}
	return 0;
}

static int igb_pf_probe(struct pci_dev *d)
{
	struct igb_pf *pf;

	if (nr_pfs == IGB_MAX_PFS) {
		pr_warn("more than %u 82576 PFs; %02x:%02x.%x left alone\n", IGB_MAX_PFS, d->bus,
			d->dev, d->fn);
		return -ENOSPC;
	}
	pf = &pfs[nr_pfs];
	memset(pf, 0, sizeof(*pf));
	pf->pdev = d;
	if (igb_pf_bring_up(pf))
		return pr_err(-EIO,
			      "%02x:%02x.%x: PF not brought up; its VFs will not get a PF "
			      "service\n",
			      d->bus, d->dev, d->fn);
	pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0);
	nr_pfs++;
	return 0;
}

/* VF mailbox messages and VF resets raise ICR.VMMB, an "other" cause: in MSI-X mode it goes
 * to the vector IVAR_MISC names (8.8.16 of the 82576 datasheet); auto-cleared in EICR so
 * that the next cause raises it again. */
static int igb_pf_irq_enable(struct pci_dev *d, bool msix)
{
	struct igb_pf *pf = igb_pf_of(d);

	if (!pf || !msix)
		return -ENOTSUP; /* MSI would take the VFs' MSI-X mode away (GPIE) */
	igb_wr(pf, IGB_GPIE, igb_rd(pf, IGB_GPIE) | IGB_GPIE_MSIX_MODE | IGB_GPIE_NSICR);
	igb_wr(pf, IGB_IVAR_MISC,
	       (u32)FIELD_PREP(IGB_IVAR_MISC_OTHER, IGB_PF_MSIX_ENTRY | IGB_IVAR_VALID));
	igb_wr(pf, IGB_EIAC, igb_rd(pf, IGB_EIAC) | (u32)BIT(IGB_PF_MSIX_ENTRY));
	igb_rd(pf, IGB_ICR);
	igb_wr(pf, IGB_EICR, (u32)BIT(IGB_PF_MSIX_ENTRY));
	igb_wr(pf, IGB_IMS, IGB_ICR_VMMB);
	igb_wr(pf, IGB_EIMS, (u32)BIT(IGB_PF_MSIX_ENTRY));
	return 0;
}

static void igb_pf_irq_test(struct pci_dev *d)
{
	struct igb_pf *pf = igb_pf_of(d);

	if (pf)
		igb_wr(pf, IGB_ICS, IGB_ICR_VMMB);
}

/* The causes are cleared before the mailboxes are read: a message that comes later raises
 * the interrupt again. */
static unsigned igb_pf_service(struct pci_dev *d)
{
	struct igb_pf *pf = igb_pf_of(d);

	if (!pf)
		return 0;
	igb_rd(pf, IGB_ICR);
	return igb_pf_serve(pf);
}

/* Requests the mailbox rate limit held back wait for the end of their window. */
static bool igb_pf_deferred(struct pci_dev *d)
{
	struct igb_pf *pf = igb_pf_of(d);

	return pf && pf->mbx_pending;
}

const struct pci_driver igb_pf_driver = {
	.name = "igb-pf",
	.vendor = IGB_VENDOR,
	.device = IGB_DEVICE_PF,
	.probe = igb_pf_probe,
	.irq_enable = igb_pf_irq_enable,
	.irq_test = igb_pf_irq_test,
	.service = igb_pf_service,
	.deferred = igb_pf_deferred,
	.poll_us = IGB_POLL_US,
};

struct igb_pf *igb_pf_of(const struct pci_dev *d)
{
	for (unsigned i = 0; i < nr_pfs; i++)
		if (pfs[i].pdev == d)
			return &pfs[i];
	return NULL;
}

unsigned igb_pf_count(void)
{
	return nr_pfs;
}

struct igb_pf *igb_pf_at(unsigned idx)
{
	return idx < nr_pfs ? &pfs[idx] : NULL;
}
