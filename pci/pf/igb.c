/* 82576 (igb) PF driver for SR-IOV: reset, link, VMDq pools and switching, one MAC per VF,
 * VF mailboxes released; then the mailbox protocol the igbvf driver speaks (reset, set
 * MAC, multicast, LPE), with every request checked against the VF's rights. Mailboxes are
 * polled from the hypervisor CPU; every handshake is bounded. */
#define LOG_TAG "igb"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/io.h"
#include "pci/internal.h"
#include "pci/pf/igb.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE_PF 0x10c9
#define IGB_MAX_PFS 4
#define IGB_NR_POOLS 8

/* Device control. */
#define IGB_CTRL 0x0000
#define  IGB_CTRL_SLU BIT(6)
#define  IGB_CTRL_RST BIT(26)
/* Device status. */
#define IGB_STATUS 0x0008
#define  IGB_STATUS_LU BIT(1)
/* Extended device control. */
#define IGB_CTRL_EXT 0x0018
#define  IGB_CTRL_EXT_PFRSTD BIT(14)   /* PF reset done: releases the VF mailboxes */
/* MDI control: PHY register access. */
#define IGB_MDIC 0x0020
#define  IGB_MDIC_DATA GENMASK(15, 0)
#define  IGB_MDIC_REG GENMASK(20, 16)
#define  IGB_MDIC_PHY GENMASK(25, 21)
#define  IGB_MDIC_OP GENMASK(27, 26)
#define   IGB_MDIC_OP_WRITE 1
#define   IGB_MDIC_OP_READ 2
#define  IGB_MDIC_READY BIT(28)
#define  IGB_MDIC_ERROR BIT(30)
#define IGB_PHY_ADDR 1
#define PHY_BMCR 0
#define  PHY_BMCR_ANRESTART BIT(9)
#define  PHY_BMCR_ANENABLE BIT(12)
/* Interrupt mask clear. */
#define IGB_IMC 0x00d8
/* Receive control. */
#define IGB_RCTL 0x0100
#define  IGB_RCTL_EN BIT(1)
#define  IGB_RCTL_BAM BIT(15)
/* Transmit control. */
#define IGB_TCTL 0x0400
#define  IGB_TCTL_EN BIT(1)
#define  IGB_TCTL_PSP BIT(3)
/* Mailbox memory, PF side: 16 dwords per VF. */
#define IGB_VMBMEM(vf) (0x0800 + 0x40 * (vf))
#define IGB_MBX_WORDS 16
/* PF-to-VF mailbox control. */
#define IGB_P2VMAILBOX(vf) (0x0c00 + 4 * (vf))
#define  IGB_P2VMAILBOX_STS BIT(0)  /* message for the VF */
#define  IGB_P2VMAILBOX_ACK BIT(1)  /* VF's message received */
#define  IGB_P2VMAILBOX_VFU BIT(2)
#define  IGB_P2VMAILBOX_PFU BIT(3)  /* PF owns the buffer */
/* Mailbox VF interrupt cause. */
#define IGB_MBVFICR 0x0c80
#define  IGB_MBVFICR_VFREQ GENMASK(7, 0)
#define  IGB_MBVFICR_VFACK GENMASK(23, 16)
#define IGB_VFLRE 0x0c88              /* VF function-level reset events */
#define IGB_VFRE 0x0c8c               /* VF receive enables */
#define IGB_VFTE 0x0c90               /* VF transmit enables */
/* Multicast table array. */
#define IGB_MTA(n) (0x5200 + 4 * (n))
#define  IGB_MTA_WORDS 128
/* Receive address table. */
#define IGB_RAL(n) (0x5400 + 8 * (n))
#define IGB_RAH(n) (0x5404 + 8 * (n))
#define  IGB_RAH_ADDR GENMASK(15, 0)
#define  IGB_RAH_POOL GENMASK(25, 18)
#define  IGB_RAH_AV BIT(31)
#define IGB_RAR_ENTRIES 16
/* Multiple receive queues: VMDq. */
#define IGB_MRQC 0x5818
#define  IGB_MRQC_MODE GENMASK(2, 0)
#define   IGB_MRQC_MODE_VMDQ 3
#define IGB_VT_CTL 0x581c
#define  IGB_VT_CTL_DEF_POOL GENMASK(9, 7)
/* Per-pool receive offload control. */
#define IGB_VMOLR(n) (0x5ad0 + 4 * (n))
#define  IGB_VMOLR_RLPML GENMASK(13, 0)
#define  IGB_VMOLR_LPE BIT(16)
#define  IGB_VMOLR_AUPE BIT(24)        /* accept untagged */
#define  IGB_VMOLR_ROMPE BIT(25)       /* accept multicast table matches */
#define  IGB_VMOLR_BAM BIT(27)         /* accept broadcast */
/* DMA TX switch control. */
#define IGB_DTXSWC 0x3500
#define  IGB_DTXSWC_LOOPBACK_EN BIT(31)
/* Transmit queue n. */
#define IGB_TDBAL(q) (0xe000 + 0x40 * (q))
#define IGB_TDBAH(q) (0xe004 + 0x40 * (q))
#define IGB_TDLEN(q) (0xe008 + 0x40 * (q))
#define IGB_TDH(q) (0xe010 + 0x40 * (q))
#define IGB_TDT(q) (0xe018 + 0x40 * (q))
#define IGB_TXDCTL(q) (0xe028 + 0x40 * (q))
#define  IGB_TXDCTL_ENABLE BIT(25)

/* Legacy transmit descriptor. */
struct igb_tx_desc {
	u64 addr;
	u32 cmd_len;
	u32 status;
} __packed;
SIZE_CHECK(struct igb_tx_desc, 16);
#define IGB_TXD_LEN GENMASK(15, 0)
#define IGB_TXD_CMD_EOP BIT(24)
#define IGB_TXD_CMD_IFCS BIT(25)
#define IGB_TXD_CMD_RS BIT(27)
#define IGB_TXD_STAT_DD BIT(0)
#define IGB_TX_RING_LEN 8

/* Mailbox messages (word 0). */
#define IGB_MSG_TYPE GENMASK(15, 0)
#define IGB_MSG_INFO GENMASK(23, 16)
#define IGB_MSG_CTS BIT(29)
#define IGB_MSG_NACK BIT(30)
#define IGB_MSG_ACK BIT(31)
enum igb_vf_msg {
	IGB_VF_RESET = 0x01,
	IGB_VF_SET_MAC_ADDR = 0x02,
	IGB_VF_SET_MULTICAST = 0x03,
	IGB_VF_SET_VLAN = 0x04,
	IGB_VF_SET_LPE = 0x05,
	IGB_VF_SET_PROMISC = 0x06,
};
#define IGB_MAX_FRAME 9018

#define IGB_RESET_TIMEOUT_US 100000
#define IGB_MDIC_TIMEOUT_US 10000
#define IGB_LINK_TIMEOUT_US 3000000
#define IGB_MBX_LOCK_TIMEOUT_US 1000
#define IGB_TX_TIMEOUT_US 100000

static struct igb_pf pfs[IGB_MAX_PFS];
static unsigned nr_pfs;

static u32 rd(const struct igb_pf *pf, u32 reg)
{
	return mmio_read32(pf->regs + reg);
}

static void wr(const struct igb_pf *pf, u32 reg, u32 v)
{
	mmio_write32(pf->regs + reg, v);
}

static int igb_reset(struct igb_pf *pf)
{
	wr(pf, IGB_IMC, 0xffffffffu);
	wr(pf, IGB_CTRL, rd(pf, IGB_CTRL) | IGB_CTRL_RST);
	if (!WAIT_US(!(rd(pf, IGB_CTRL) & IGB_CTRL_RST), IGB_RESET_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "%02x:%02x.%x: CTRL.RST still set after %u us\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn, IGB_RESET_TIMEOUT_US);
	wr(pf, IGB_IMC, 0xffffffffu);
	return 0;
}

static int igb_phy_write(struct igb_pf *pf, u8 reg, u16 val)
{
	u32 mdic = 0;

	wr(pf, IGB_MDIC, (u32)(FIELD_PREP(IGB_MDIC_DATA, val) | FIELD_PREP(IGB_MDIC_REG, reg) |
			       FIELD_PREP(IGB_MDIC_PHY, IGB_PHY_ADDR) |
			       FIELD_PREP(IGB_MDIC_OP, IGB_MDIC_OP_WRITE)));
	if (!WAIT_US((mdic = rd(pf, IGB_MDIC)) & IGB_MDIC_READY, IGB_MDIC_TIMEOUT_US))
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
	wr(pf, IGB_CTRL, rd(pf, IGB_CTRL) | IGB_CTRL_SLU);
	pf->link_up = WAIT_US(rd(pf, IGB_STATUS) & IGB_STATUS_LU, IGB_LINK_TIMEOUT_US);
	if (!pf->link_up)
		return pr_err(-ETIMEDOUT, "%02x:%02x.%x: no link %u ms after auto-negotiation\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn, IGB_LINK_TIMEOUT_US / 1000);
	return 0;
}

static void igb_set_rar(struct igb_pf *pf, unsigned idx, const u8 mac[ETH_ALEN], unsigned pool)
{
	u32 lo = (u32)mac[0] | (u32)mac[1] << 8 | (u32)mac[2] << 16 | (u32)mac[3] << 24;
	u32 hi = (u32)mac[4] | (u32)mac[5] << 8;

	/* Invalidate first so the device never matches half an address. */
	wr(pf, IGB_RAH(idx), 0);
	wr(pf, IGB_RAL(idx), lo);
	wr(pf, IGB_RAH(idx), (u32)(FIELD_PREP(IGB_RAH_ADDR, hi) | IGB_RAH_AV |
				   FIELD_PREP(IGB_RAH_POOL, BIT(pool))));
}

static int igb_read_mac(struct igb_pf *pf)
{
	u32 lo = rd(pf, IGB_RAL(0)), hi = rd(pf, IGB_RAH(0));

	if (!(hi & IGB_RAH_AV))
		return pr_err(-ENODATA, "%02x:%02x.%x: no valid MAC in RAR[0] after reset\n",
			      pf->pdev->bus, pf->pdev->dev, pf->pdev->fn);
	for (unsigned i = 0; i < 4; i++)
		pf->mac[i] = (u8)(lo >> (8 * i));
	pf->mac[4] = (u8)FIELD_GET(IGB_RAH_ADDR, hi);
	pf->mac[5] = (u8)(FIELD_GET(IGB_RAH_ADDR, hi) >> 8);
	return 0;
}

/* RAR entry of VF n (entry 0 is the PF's). */
static unsigned vf_rar(unsigned vf)
{
	return 1 + vf;
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

static void igb_enable_pool(struct igb_pf *pf, unsigned pool)
{
	wr(pf, IGB_VMOLR(pool), IGB_VMOLR_BAM | IGB_VMOLR_AUPE);
	wr(pf, IGB_VFRE, rd(pf, IGB_VFRE) | (u32)BIT(pool));
	wr(pf, IGB_VFTE, rd(pf, IGB_VFTE) | (u32)BIT(pool));
}

static int igb_setup_tx(struct igb_pf *pf)
{
	unsigned q = pf->pf_pool;

	pf->tx_ring = page_alloc();
	pf->tx_buf = page_alloc();
	if (!pf->tx_ring || !pf->tx_buf)
		return pr_err(-ENOMEM, "no page for the PF transmit ring\n");
	wr(pf, IGB_TXDCTL(q), 0);
	wr(pf, IGB_TDBAL(q), (u32)pf->tx_ring);
	wr(pf, IGB_TDBAH(q), (u32)(pf->tx_ring >> 32));
	wr(pf, IGB_TDLEN(q), IGB_TX_RING_LEN * sizeof(struct igb_tx_desc));
	wr(pf, IGB_TDH(q), 0);
	wr(pf, IGB_TDT(q), 0);
	pf->tx_tail = 0;
	wr(pf, IGB_TXDCTL(q), IGB_TXDCTL_ENABLE);
	if (!WAIT_US(rd(pf, IGB_TXDCTL(q)) & IGB_TXDCTL_ENABLE, 10000))
		return pr_err(-ETIMEDOUT, "TX queue %u does not enable\n", q);
	return 0;
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
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY |
					    PCI_COMMAND_MASTER);
	err = igb_reset(pf);
	if (!err)
		err = igb_read_mac(pf);
	if (!err)
		err = igb_link_up(pf);
	if (err)
		return err;
	wr(pf, IGB_MRQC, (u32)FIELD_PREP(IGB_MRQC_MODE, IGB_MRQC_MODE_VMDQ));
	wr(pf, IGB_VT_CTL, (u32)FIELD_PREP(IGB_VT_CTL_DEF_POOL, pf->pf_pool));
	wr(pf, IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	igb_set_rar(pf, 0, pf->mac, pf->pf_pool);
	igb_enable_pool(pf, pf->pf_pool);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		default_vf_mac(pf, vf, pf->vf[vf].mac);
		igb_set_rar(pf, vf_rar(vf), pf->vf[vf].mac, vf);
		igb_enable_pool(pf, vf);
	}
	wr(pf, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM);
	wr(pf, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	err = igb_setup_tx(pf);
	if (err)
		return err;
	/* VFs may talk to the PF only once it says its reset is done. */
	wr(pf, IGB_CTRL_EXT, rd(pf, IGB_CTRL_EXT) | IGB_CTRL_EXT_PFRSTD);
	pr_info("%02x:%02x.%x: up, link %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %u VFs, PF pool %u\n",
		d->bus, d->dev, d->fn, pf->link_up ? "up" : "down", pf->mac[0], pf->mac[1],
		pf->mac[2], pf->mac[3], pf->mac[4], pf->mac[5], pf->num_vfs, pf->pf_pool);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		const u8 *m = pf->vf[vf].mac;

		pr_info("  vf%u MAC %02x:%02x:%02x:%02x:%02x:%02x (RAR %u, pool %u)\n", vf, m[0],
			m[1], m[2], m[3], m[4], m[5], vf_rar(vf), vf);
	}
	return 0;
}

void igb_pf_init_all(void)
{
	struct pci_dev *d = NULL;

	while ((d = pci_find_device(IGB_VENDOR, IGB_DEVICE_PF, d))) {
		struct igb_pf *pf;

		if (nr_pfs == IGB_MAX_PFS) {
			pr_warn("more than %u 82576 PFs; %02x:%02x.%x left alone\n", IGB_MAX_PFS,
				d->bus, d->dev, d->fn);
			continue;
		}
		pf = &pfs[nr_pfs];
		memset(pf, 0, sizeof(*pf));
		pf->pdev = d;
		if (igb_pf_bring_up(pf)) {
			pr_err(-EIO, "%02x:%02x.%x: PF not brought up; its VFs will not get a PF service\n",
			       d->bus, d->dev, d->fn);
			continue;
		}
		pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0);
		nr_pfs++;
	}
}

struct igb_pf *igb_pf_of(const struct pci_dev *d)
{
	for (unsigned i = 0; i < nr_pfs; i++)
		if (pfs[i].pdev == d)
			return &pfs[i];
	return NULL;
}

/* ---- mailbox ---- */

/* Takes the VF's mailbox buffer for the PF; the VF may hold it (VFU) for a moment. */
static int mbx_lock(struct igb_pf *pf, unsigned vf)
{
	if (!WAIT_US((wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_PFU),
		      rd(pf, IGB_P2VMAILBOX(vf)) & IGB_P2VMAILBOX_PFU),
		     IGB_MBX_LOCK_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "vf%u holds its mailbox (P2VMAILBOX %#x)\n", vf,
			      rd(pf, IGB_P2VMAILBOX(vf)));
	return 0;
}

static int mbx_read(struct igb_pf *pf, unsigned vf, u32 *msg)
{
	int err = mbx_lock(pf, vf);

	if (err)
		return err;
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		msg[i] = rd(pf, IGB_VMBMEM(vf) + 4 * i);
	/* ACK the VF's message; writing without PFU also releases the buffer. */
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_ACK);
	return 0;
}

static int mbx_write(struct igb_pf *pf, unsigned vf, const u32 *msg, unsigned words)
{
	int err = mbx_lock(pf, vf);

	if (err)
		return err;
	for (unsigned i = 0; i < words; i++)
		wr(pf, IGB_VMBMEM(vf) + 4 * i, msg[i]);
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_STS);
	return 0;
}

static bool mac_is_valid_unicast(const u8 *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* Which function of this NIC holds mac: -1 the PF, 0.. a VF, -2 nobody. */
static int mac_holder(const struct igb_pf *pf, const u8 *mac)
{
	if (!memcmp(mac, pf->mac, ETH_ALEN))
		return -1;
	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		if (!memcmp(mac, pf->vf[vf].mac, ETH_ALEN))
			return (int)vf;
	return -2;
}

static void msg_mac(const u32 *msg, u8 *mac)
{
	for (unsigned i = 0; i < ETH_ALEN; i++)
		mac[i] = (u8)(msg[1 + i / 4] >> (8 * (i % 4)));
}

/* VF reset request: the VF's pool, MAC and queues come back; reply ACK + its MAC. */
static int handle_reset(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 reply[4] = { IGB_VF_RESET | IGB_MSG_ACK, 0, 0, 0 };

	igb_set_rar(pf, vf_rar(vf), s->mac, vf);
	igb_enable_pool(pf, vf);
	s->clear_to_send = true;
	for (unsigned i = 0; i < ETH_ALEN; i++)
		reply[1 + i / 4] |= (u32)s->mac[i] << (8 * (i % 4));
	pr_info("vf%u reset: MAC %02x:%02x:%02x:%02x:%02x:%02x, queues enabled\n", vf, s->mac[0],
		s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
	return mbx_write(pf, vf, reply, 4);
}

/* Set-MAC: only a valid unicast address that no other function of this NIC holds. */
static bool handle_set_mac(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	u8 mac[ETH_ALEN];
	int holder;

	msg_mac(msg, mac);
	holder = mac_holder(pf, mac);
	if (!mac_is_valid_unicast(mac)) {
		pr_warn("vf%u: set-MAC %02x:%02x:%02x:%02x:%02x:%02x refused: not a unicast address\n",
			vf, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return false;
	}
	if (holder == -1) {
		pr_warn("vf%u: set-MAC %02x:%02x:%02x:%02x:%02x:%02x refused: it is the PF's\n", vf,
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return false;
	}
	if (holder >= 0 && holder != (int)vf) {
		pr_warn("vf%u: set-MAC %02x:%02x:%02x:%02x:%02x:%02x refused: it belongs to vf%d\n",
			vf, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], holder);
		return false;
	}
	memcpy(pf->vf[vf].mac, mac, ETH_ALEN);
	igb_set_rar(pf, vf_rar(vf), mac, vf);
	return true;
}

static bool handle_set_multicast(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	unsigned n = (unsigned)FIELD_GET(IGB_MSG_INFO, msg[0]);
	const u16 *hashes = (const u16 *)&msg[1];

	if (n > 2 * (IGB_MBX_WORDS - 1))
		return false;
	for (unsigned i = 0; i < n; i++) {
		unsigned h = hashes[i] & 0xfff;

		wr(pf, IGB_MTA(h >> 5), rd(pf, IGB_MTA(h >> 5)) | (u32)BIT(h & 0x1f));
	}
	wr(pf, IGB_VMOLR(vf), rd(pf, IGB_VMOLR(vf)) | (n ? IGB_VMOLR_ROMPE : 0));
	return true;
}

static bool handle_set_lpe(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	u32 max = msg[1];

	if (max > IGB_MAX_FRAME || max < 64)
		return false;
	wr(pf, IGB_VMOLR(vf), (u32)((rd(pf, IGB_VMOLR(vf)) & ~IGB_VMOLR_RLPML) |
				    FIELD_PREP(IGB_VMOLR_RLPML, max) | IGB_VMOLR_LPE));
	return true;
}

static int handle_msg(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 type = (u32)FIELD_GET(IGB_MSG_TYPE, msg[0]);
	u32 reply;
	bool ok;

	s->msgs++;
	if (type == IGB_VF_RESET)
		return handle_reset(pf, vf);
	if (!s->clear_to_send) {
		pr_warn("vf%u: message %#x before the reset handshake; refused\n", vf, type);
		ok = false;
	} else {
		switch (type) {
		case IGB_VF_SET_MAC_ADDR:
			ok = handle_set_mac(pf, vf, msg);
			break;
		case IGB_VF_SET_MULTICAST:
			ok = handle_set_multicast(pf, vf, msg);
			break;
		case IGB_VF_SET_LPE:
			ok = handle_set_lpe(pf, vf, msg);
			break;
		case IGB_VF_SET_VLAN:
		case IGB_VF_SET_PROMISC:
			pr_warn("vf%u: %s refused: guests get no VLAN or promiscuous mode\n", vf,
				type == IGB_VF_SET_VLAN ? "VLAN" : "promiscuous mode");
			ok = false;
			break;
		default:
			pr_warn("vf%u: unknown message %#x refused\n", vf, type);
			ok = false;
			break;
		}
	}
	if (!ok)
		s->nacks++;
	reply = (msg[0] & (IGB_MSG_TYPE | IGB_MSG_INFO)) | (ok ? IGB_MSG_ACK : IGB_MSG_NACK) |
		(s->clear_to_send ? IGB_MSG_CTS : 0);
	return mbx_write(pf, vf, &reply, 1);
}

/* A VF reset itself (VF CTRL.RST or FLR): the device cleared its enables; the VF must do
 * the reset handshake again before anything else is served. */
static unsigned handle_vflr(struct igb_pf *pf)
{
	u32 vflre = rd(pf, IGB_VFLRE);
	unsigned n = 0;

	if (!vflre)
		return 0;
	wr(pf, IGB_VFLRE, vflre);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		if (vflre & BIT(vf)) {
			pf->vf[vf].clear_to_send = false;
			pr_info("vf%u: function reset seen\n", vf);
			n++;
		}
	return n;
}

static unsigned igb_pf_poll(struct igb_pf *pf)
{
	unsigned n = handle_vflr(pf);
	u32 icr = rd(pf, IGB_MBVFICR);
	u32 req = (u32)FIELD_GET(IGB_MBVFICR_VFREQ, icr);
	u32 ack = (u32)FIELD_GET(IGB_MBVFICR_VFACK, icr);

	if (ack)
		wr(pf, IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFACK, ack));
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		u32 msg[IGB_MBX_WORDS];

		if (!(req & BIT(vf)))
			continue;
		wr(pf, IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFREQ, BIT(vf)));
		if (mbx_read(pf, vf, msg) == 0)
			handle_msg(pf, vf, msg);
		n++;
	}
	return n;
}

unsigned igb_pf_poll_all(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr_pfs; i++)
		n += igb_pf_poll(&pfs[i]);
	return n;
}

/* ---- PF transmit ---- */

int igb_pf_send_frame(struct igb_pf *pf, const u8 dst[ETH_ALEN], u16 ethertype,
		      const void *payload, unsigned len)
{
	volatile struct igb_tx_desc *ring = (volatile struct igb_tx_desc *)(uintptr_t)pf->tx_ring;
	u8 *buf = (u8 *)(uintptr_t)pf->tx_buf;
	unsigned frame = 14 + len, slot = pf->tx_tail;

	if (pf->num_vfs >= IGB_NR_POOLS)
		return pr_err(-EBUSY, "every pool belongs to a VF; the PF has no queue of its own\n");
	if (frame > PAGE_SIZE || frame > 1514)
		return pr_err(-EINVAL, "frame of %u bytes is too long\n", frame);
	memcpy(buf, dst, ETH_ALEN);
	memcpy(buf + 6, pf->mac, ETH_ALEN);
	buf[12] = (u8)(ethertype >> 8);
	buf[13] = (u8)ethertype;
	memcpy(buf + 14, payload, len);
	if (frame < 60) {
		memset(buf + frame, 0, 60 - frame);
		frame = 60;
	}
	ring[slot].addr = pf->tx_buf;
	ring[slot].cmd_len = (u32)(FIELD_PREP(IGB_TXD_LEN, frame) | IGB_TXD_CMD_EOP |
				   IGB_TXD_CMD_IFCS | IGB_TXD_CMD_RS);
	ring[slot].status = 0;
	pf->tx_tail = (slot + 1) % IGB_TX_RING_LEN;
	__asm__ volatile("sfence" ::: "memory");
	wr(pf, IGB_TDT(pf->pf_pool), pf->tx_tail);
	if (!WAIT_US(ring[slot].status & IGB_TXD_STAT_DD, IGB_TX_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "frame on queue %u not written back (TDH %u TDT %u)\n",
			      pf->pf_pool, rd(pf, IGB_TDH(pf->pf_pool)),
			      rd(pf, IGB_TDT(pf->pf_pool)));
	return 0;
}
