/* Self-tests of the 82576 PF driver (TAP suite igb). The VF side of the mailbox is played
 * through a VF's own BAR0, exactly as a guest's igbvf driver would. */
#define LOG_TAG "igb"
#include <moat/errno.h>
#include <moat/log.h>
#include "tests/hv/igb_tx.h"
#include "tests/hv/selftest.h"
#include <moat/string.h>
#include <moat/time.h>
#include "core/end.h"
#include "pci/internal.h"
#include "pci/pf/igb_regs.h"

#define MBX_TIMEOUT_US 100000

#define PF_FRAME_ETHERTYPE 0x88b5 /* IEEE local experimental */
static const char pf_frame_payload[] = "moat-pf-selftest";

static struct igb_pf *first_pf(void)
{
	struct pci_dev *d = pci_find_device(IGB_VENDOR, IGB_DEVICE_PF, NULL);

	return d ? igb_pf_of(d) : NULL;
}

/* The VF side of one mailbox exchange: message out, PF served (by polling it as the
 * hypervisor CPU does), reply in. */
static int vf_exchange(struct pci_dev *vf, const u32 *msg, unsigned n, u32 *reply, unsigned rn)
{
	u64 regs = vf->bar[0].base;
	u32 mb;

	for (unsigned i = 0; i < n; i++)
		mmio_write32(regs + IGB_VF_MBMEM + 4 * i, msg[i]);
	mmio_write32(regs + IGB_VF_MAILBOX, IGB_VF_MAILBOX_REQ);
	if (!WAIT_US((igb_pf_poll_all(),
		      (mb = mmio_read32(regs + IGB_VF_MAILBOX)) & IGB_VF_MAILBOX_PFSTS),
		     MBX_TIMEOUT_US))
		return -ETIMEDOUT;
	for (unsigned i = 0; i < rn; i++)
		reply[i] = mmio_read32(regs + IGB_VF_MBMEM + 4 * i);
	mmio_write32(regs + IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	igb_pf_poll_all();
	return 0;
}

static void vf_mmio_on(struct pci_dev *vf)
{
	pci_write16(vf, PCI_COMMAND, pci_read16(vf, PCI_COMMAND) | PCI_COMMAND_MEMORY);
}

static void vf_mmio_off(struct pci_dev *vf)
{
	pci_write16(vf, PCI_COMMAND, pci_read16(vf, PCI_COMMAND) & (u16)~PCI_COMMAND_MEMORY);
}

static int vf_reset(struct pci_dev *vf, u32 *reply)
{
	u32 msg = IGB_VF_RESET;

	mmio_write32(vf->bar[0].base + IGB_VF_CTRL, IGB_VF_CTRL_RST);
	igb_pf_poll_all();
	return vf_exchange(vf, &msg, 1, reply, 3);
}

/* A VF register read through the placed BAR returns the device's value: on the 82576 the
 * VF's STATUS register is the device's STATUS, as the PF sees it. The VF's own Memory Space
 * Enable gates it: off (as moat leaves a VF until its owner takes it), the read must not
 * return the device's value. */
SELFTEST_ORDER(st_sriov_vf_mmio, "sriov", "vf-bar-mmio", 55)
{
	struct pci_dev *pf = pci_find_device(IGB_VENDOR, IGB_DEVICE_PF, NULL);
	unsigned tried = 0;

	if (!pf || !pf->sriov || !pf->sriov->num_vfs) {
		st_skip(ctx, "no 82576 with VFs enabled");
		return;
	}
	for (; pf; pf = pci_find_device(IGB_VENDOR, IGB_DEVICE_PF, pf)) {
		u64 pf_regs = pf->bar[0].base;

		if (!pf->sriov || !(pci_read16(pf, PCI_COMMAND) & PCI_COMMAND_MEMORY))
			continue;
		for (unsigned i = 0; i < pf->sriov->num_vfs; i++) {
			struct pci_dev *vf = pci_sriov_vf(pf, i);
			u16 cmd = pci_read16(vf, PCI_COMMAND);
			u32 before, v, after, off;

			pci_write16(vf, PCI_COMMAND, cmd & (u16)~PCI_COMMAND_MEMORY);
			off = mmio_read32(vf->bar[0].base + IGB_STATUS);
			pci_write16(vf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
			before = mmio_read32(pf_regs + IGB_STATUS);
			v = mmio_read32(vf->bar[0].base + IGB_STATUS);
			after = mmio_read32(pf_regs + IGB_STATUS);
			pci_write16(vf, PCI_COMMAND, cmd);
			CHECK(ctx, v != 0xffffffffu && (v == before || v == after),
			      "VF %u STATUS %#x, PF STATUS %#x/%#x", i, v, before, after);
			CHECK(ctx, off != v, "VF %u answered %#x with its memory decode off", i,
			      off);
			tried++;
		}
	}
	CHECK(ctx, tried > 0, "no VF MMIO read done");
}

SELFTEST_ORDER(st_igb_up, "igb", "pf-up", 55)
{
	struct igb_pf *pf = first_pf();

	if (!pf) {
		st_skip(ctx, "no 82576 PF brought up");
		return;
	}
	CHECK(ctx, igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU, "link down");
	CHECK(ctx, FIELD_GET(IGB_MRQC_MODE, igb_rd(pf, IGB_MRQC)) == IGB_MRQC_MODE_VMDQ,
	      "VMDq off");
	CHECK(ctx, igb_rd(pf, IGB_DTXSWC) & IGB_DTXSWC_LOOPBACK_EN, "VF-to-VF switching off");
	CHECK(ctx, igb_rd(pf, IGB_CTRL_EXT) & IGB_CTRL_EXT_PFRSTD,
	      "VF mailboxes not released (PFRSTD)");
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		u32 rah = igb_rd(pf, IGB_RAH(igb_vf_rar(vf)));

		CHECK(ctx, (rah & IGB_RAH_AV) && FIELD_GET(IGB_RAH_POOL, rah) == BIT(vf),
		      "vf%u RAR entry %#x", vf, rah);
	}
}

static bool rar_holds(const struct igb_pf *pf, unsigned vf, const u8 *mac)
{
	u32 lo = (u32)mac[0] | (u32)mac[1] << 8 | (u32)mac[2] << 16 | (u32)mac[3] << 24;
	u32 hi = (u32)mac[4] | (u32)mac[5] << 8;

	return igb_rd(pf, IGB_RAL(igb_vf_rar(vf))) == lo &&
	       igb_rd(pf, IGB_RAH(igb_vf_rar(vf))) ==
		       (u32)(FIELD_PREP(IGB_RAH_ADDR, hi) | IGB_RAH_AV |
			     FIELD_PREP(IGB_RAH_POOL, BIT(vf)));
}

/* Runs after the guests gave their VFs back (FLR): what an owner set through the mailbox
 * (the attacker's attack: owner-state-left sets a multicast list and stops) is
 * gone once the PF has served the function resets (VFLRE, which CPU 0 polls while guests
 * run; polled here once more for the resets of the release): every VF has its own MAC in
 * its receive address entry, no multicast list and no multicast acceptance, and the shared
 * multicast table is empty. Before the igb tests below, which play VFs themselves. */
SELFTEST_ORDER(st_igb_owner_state, "igb", "vf-owner-state-forgotten", 54)
{
	unsigned changed = 0;

	for (unsigned i = 0; i < igb_pf_count(); i++)
		for (unsigned vf = 0; vf < igb_pf_at(i)->num_vfs; vf++)
			changed += igb_pf_at(i)->vf[vf].owner_changes;
	if (!changed) {
		st_skip(ctx, "no VF's owner set a multicast list");
		return;
	}
	igb_pf_poll_all();
	for (unsigned i = 0; i < igb_pf_count(); i++) {
		struct igb_pf *pf = igb_pf_at(i);

		for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
			const struct igb_vf_state *s = &pf->vf[vf];
			const u8 *m = s->mac;

			CHECK(ctx, !memcmp(m, s->default_mac, ETH_ALEN) && rar_holds(pf, vf, m),
			      "PF %u vf%u kept MAC %02x:%02x:%02x:%02x:%02x:%02x (RAH %#x)", i, vf,
			      m[0], m[1], m[2], m[3], m[4], m[5],
			      igb_rd(pf, IGB_RAH(igb_vf_rar(vf))));
			CHECK(ctx, !s->nr_mc && !(igb_rd(pf, IGB_VMOLR(vf)) & IGB_VMOLR_ROMPE),
			      "PF %u vf%u kept %u multicast hashes (VMOLR %#x)", i, vf, s->nr_mc,
			      igb_rd(pf, IGB_VMOLR(vf)));
		}
		for (unsigned w = 0; w < IGB_MTA_WORDS; w++)
			CHECK(ctx, !igb_rd(pf, IGB_MTA(w)), "PF %u multicast table word %u is %#x",
			      i, w, igb_rd(pf, IGB_MTA(w)));
	}
}

/* Runs after the guests stopped. The device's transmit anti-spoofing is on for every VF
 * pool and off for the PF's own (DTXSWC 7:0, set at bring-up), and frames a guest sent as
 * another function (the attacker's attack: tx-mac-spoof) were dropped and counted for its
 * VF from WVBR (polled here once more for drops not yet seen). QEMU 10's igb does not model
 * the check: without drops there the verdict is # SKIP, saying so. */
SELFTEST_ORDER(st_igb_tx_spoof, "igb", "vf-tx-spoof-dropped", 54)
{
	unsigned dropped = 0, vfs = 0;

	igb_pf_poll_all();
	for (unsigned i = 0; i < igb_pf_count(); i++) {
		struct igb_pf *pf = igb_pf_at(i);
		u32 dtxswc = igb_rd(pf, IGB_DTXSWC);
		u32 mac_spoof = (u32)FIELD_GET(IGB_DTXSWC_MAC_SPOOF, dtxswc);

		for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
			vfs++;
			dropped += igb_vf_spoofed(pf, vf);
			if (igb_vf_spoofed(pf, vf))
				pr_info("PF %u vf%u: %u frames with a spoofed source MAC dropped\n",
					i, vf, igb_vf_spoofed(pf, vf));
			CHECK(ctx, mac_spoof & BIT(vf),
			      "PF %u vf%u: MAC anti-spoofing off (DTXSWC %#x)", i, vf, dtxswc);
		}
		CHECK(ctx, pf->pf_pool < pf->num_vfs || !(mac_spoof & BIT(pf->pf_pool)),
		      "PF %u: anti-spoofing on for the PF's own pool %u (DTXSWC %#x)", i,
		      pf->pf_pool, dtxswc);
	}
	if (!vfs)
		st_skip(ctx, "no 82576 with VFs enabled");
	else if (!ctx->failed && !dropped)
		st_skip(ctx,
			emulator_name() && !strcmp(emulator_name(), "qemu")
				? "QEMU: its igb does not model transmit anti-spoofing (DTXSWC "
				  "7:0 set for every VF pool; WVBR never records a drop)"
				: "no VF sent a frame with a source MAC not its own");
}

/* A VF's reset request is answered with ACK and the MAC the PF gave it, and its queues are
 * enabled again (the device cleared them at the VF reset). */
SELFTEST_ORDER(st_igb_mbx_reset, "igb", "mailbox-reset", 55)
{
	struct igb_pf *pf = first_pf();
	struct pci_dev *vf;
	u32 reply[3] = {0};
	u8 mac[6];
	int err;

	if (!pf || !pf->num_vfs) {
		st_skip(ctx, "no 82576 PF with VFs");
		return;
	}
	vf = pci_sriov_vf(pf->pdev, 0);
	vf_mmio_on(vf);
	CHECK(ctx, mmio_read32(vf->bar[0].base + IGB_VF_MAILBOX) != 0xffffffffu,
	      "VF mailbox unreadable");
	err = vf_reset(vf, reply);
	vf_mmio_off(vf);
	CHECK(ctx, err == 0, "no reply from the PF (%d)", err);
	CHECK(ctx, reply[0] == (IGB_VF_RESET | IGB_MSG_ACK), "reply word 0 %#x", reply[0]);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (u8)(reply[1 + i / 4] >> (8 * (i % 4)));
	CHECK(ctx, !memcmp(mac, pf->vf[0].mac, 6),
	      "MAC in reply %02x:..:%02x, assigned %02x:..:%02x", mac[0], mac[5], pf->vf[0].mac[0],
	      pf->vf[0].mac[5]);
	CHECK(ctx, igb_rd(pf, IGB_VFRE) & BIT(0), "VF 0 receive not re-enabled");
	CHECK(ctx, igb_rd(pf, IGB_VFTE) & BIT(0), "VF 0 transmit not re-enabled");
}

/* A VF may set only the MAC moat assigned it: not another VF's, the PF's or a free one;
 * and it gets nothing before its reset handshake. */
SELFTEST_ORDER(st_igb_mbx_mac, "igb", "mailbox-mac-validated", 55)
{
	struct igb_pf *pf = first_pf();
	struct pci_dev *vf;
	u32 reply[3] = {0}, msg[3];
	u8 own[6], fresh[6] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0x01};

	if (!pf || pf->num_vfs < 2) {
		st_skip(ctx, "no 82576 PF with 2 VFs");
		return;
	}
	vf = pci_sriov_vf(pf->pdev, 1);
	memcpy(own, pf->vf[1].mac, 6);
	vf_mmio_on(vf);
	/* Before the handshake: refused. */
	mmio_write32(vf->bar[0].base + IGB_VF_CTRL, IGB_VF_CTRL_RST);
	igb_pf_poll_all();
	msg[0] = IGB_VF_SET_MAC_ADDR;
	msg[1] = (u32)fresh[0] | (u32)fresh[1] << 8 | (u32)fresh[2] << 16 | (u32)fresh[3] << 24;
	msg[2] = (u32)fresh[4] | (u32)fresh[5] << 8;
	CHECK(ctx, vf_exchange(vf, msg, 3, reply, 1) == 0 && (reply[0] & IGB_MSG_NACK),
	      "set-MAC before reset not refused (%#x)", reply[0]);
	CHECK(ctx, vf_reset(vf, reply) == 0 && reply[0] == (IGB_VF_RESET | IGB_MSG_ACK),
	      "reset failed");
	/* VF 0's MAC: refused. */
	msg[1] = (u32)pf->vf[0].mac[0] | (u32)pf->vf[0].mac[1] << 8 | (u32)pf->vf[0].mac[2] << 16 |
		 (u32)pf->vf[0].mac[3] << 24;
	msg[2] = (u32)pf->vf[0].mac[4] | (u32)pf->vf[0].mac[5] << 8;
	CHECK(ctx,
	      vf_exchange(vf, msg, 3, reply, 1) == 0 && (reply[0] & IGB_MSG_NACK) &&
		      !(reply[0] & IGB_MSG_ACK),
	      "VF 0's MAC not refused (%#x)", reply[0]);
	CHECK(ctx, !memcmp(pf->vf[1].mac, own, 6), "VF 1's MAC changed by a refused request");
	/* The PF's MAC: refused. */
	msg[1] = (u32)pf->mac[0] | (u32)pf->mac[1] << 8 | (u32)pf->mac[2] << 16 |
		 (u32)pf->mac[3] << 24;
	msg[2] = (u32)pf->mac[4] | (u32)pf->mac[5] << 8;
	CHECK(ctx, vf_exchange(vf, msg, 3, reply, 1) == 0 && (reply[0] & IGB_MSG_NACK),
	      "PF's MAC not refused (%#x)", reply[0]);
	/* VLAN: refused. */
	msg[0] = IGB_VF_SET_VLAN;
	CHECK(ctx, vf_exchange(vf, msg, 2, reply, 1) == 0 && (reply[0] & IGB_MSG_NACK),
	      "VLAN request not refused (%#x)", reply[0]);
	/* A free MAC: refused too; its own: granted. */
	msg[0] = IGB_VF_SET_MAC_ADDR;
	msg[1] = (u32)fresh[0] | (u32)fresh[1] << 8 | (u32)fresh[2] << 16 | (u32)fresh[3] << 24;
	msg[2] = (u32)fresh[4] | (u32)fresh[5] << 8;
	CHECK(ctx,
	      vf_exchange(vf, msg, 3, reply, 1) == 0 &&
		      reply[0] == (IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS),
	      "free MAC not refused (%#x)", reply[0]);
	CHECK(ctx, !memcmp(pf->vf[1].mac, own, 6), "VF 1's MAC changed by a refused request");
	msg[1] = (u32)own[0] | (u32)own[1] << 8 | (u32)own[2] << 16 | (u32)own[3] << 24;
	msg[2] = (u32)own[4] | (u32)own[5] << 8;
	CHECK(ctx,
	      vf_exchange(vf, msg, 3, reply, 1) == 0 &&
		      reply[0] == (IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS),
	      "own MAC not granted (%#x)", reply[0]);
	vf_mmio_off(vf);
}

/* The PF sends a broadcast frame from its own pool (>= NumVFs); tests/emu/matrix.py finds
 * it in the run's pcap of the NIC's backend. */
SELFTEST_ORDER(st_igb_tx, "igb", "pf-frame-sent", 55)
{
	static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct igb_pf *pf = first_pf();
	int err;

	if (!pf) {
		st_skip(ctx, "no 82576 PF brought up");
		return;
	}
	if (pf->num_vfs >= 8) {
		st_skip(ctx, "all 8 pools belong to VFs");
		return;
	}
	err = igb_pf_send_frame(pf, bcast, PF_FRAME_ETHERTYPE, pf_frame_payload,
				sizeof(pf_frame_payload) - 1);
	CHECK(ctx, err == 0, "send failed (%d)", err);
	if (!err)
		pr_info("%02x:%02x.%x: PF frame sent on pool %u (ring %#llx), ethertype %#x, "
			"payload \"%s\"\n",
			pf->pdev->bus, pf->pdev->dev, pf->pdev->fn, pf->pf_pool,
			(unsigned long long)igb_pf_tx_ring(pf), PF_FRAME_ETHERTYPE,
			pf_frame_payload);
}
