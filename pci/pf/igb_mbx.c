/* The PF side of the 82576 VF mailbox: a VF's reset request, set-MAC (never another
 * function's address), multicast and LPE requests; VLAN and promiscuous mode refused; what
 * an owner set is forgotten at the VF's function reset. The hypervisor CPU polls
 * (igb_pf_serve on its interrupt, igb_pf_poll_all); every handshake is bounded. */
#define LOG_TAG "igb"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/spinlock.h>
#include <moat/string.h>
#include <moat/time.h>
#include "pci/internal.h"
#include "pci/pf/igb_regs.h"

/* A wait for the buffer that timed out costs CPU 0 as much as a window's worth of
 * requests: it spends the VF's budget, so a VF that holds its buffer is waited for at most
 * once per window. */
static void mbx_charge_timeout(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];

	if (s->window_msgs < IGB_MBX_BUDGET)
		s->window_msgs = IGB_MBX_BUDGET;
	if (s->lock_timeouts++ == 0)
		pr_err(-ETIMEDOUT,
		       "vf%u holds its mailbox (P2VMAILBOX %#x); its budget is spent until the "
		       "next window (further timeouts counted, not logged)\n",
		       vf, igb_rd(pf, IGB_P2VMAILBOX(vf)));
}

/* Takes the VF's mailbox buffer for the PF; the VF may hold it (VFU) for a moment. */
static int mbx_lock(struct igb_pf *pf, unsigned vf)
{
	if (!WAIT_US((igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_PFU),
		      igb_rd(pf, IGB_P2VMAILBOX(vf)) & IGB_P2VMAILBOX_PFU),
		     IGB_MBX_LOCK_TIMEOUT_US)) {
		mbx_charge_timeout(pf, vf);
		return -ETIMEDOUT;
	}
	return 0;
}

static int mbx_read(struct igb_pf *pf, unsigned vf, u32 *msg)
{
	int err = mbx_lock(pf, vf);

	if (err)
		return err;
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		msg[i] = igb_rd(pf, IGB_VMBMEM(vf) + 4 * i);
	/* ACK the VF's message; writing without PFU also releases the buffer. */
	igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_ACK);
	return 0;
}

static int mbx_write(struct igb_pf *pf, unsigned vf, const u32 *msg, unsigned words)
{
	int err = mbx_lock(pf, vf);

	if (err)
		return err;
	for (unsigned i = 0; i < words; i++)
		igb_wr(pf, IGB_VMBMEM(vf) + 4 * i, msg[i]);
	igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_STS);
	return 0;
}

static bool mac_is_valid_unicast(const u8 *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* A function holding a MAC: a PF moat drives (vf < 0) or one of its VFs. */
struct mac_holder {
	const struct igb_pf *pf; /* NULL: nobody */
	int vf;
};

/* Which function of any NIC moat drives holds mac: a MAC is unique across all of them, or
 * a guest on one NIC could take a function's address on another and send as it there. A
 * VF's own address stays reserved for it while it uses another: a function reset brings
 * it back. */
static struct mac_holder mac_holder(const u8 *mac)
{
	for (unsigned i = 0; i < igb_pf_count(); i++) {
		const struct igb_pf *pf = igb_pf_at(i);

		if (!memcmp(mac, pf->mac, ETH_ALEN))
			return (struct mac_holder){pf, -1};
		for (unsigned vf = 0; vf < pf->num_vfs; vf++)
			if (!memcmp(mac, pf->vf[vf].mac, ETH_ALEN) ||
			    !memcmp(mac, pf->vf[vf].default_mac, ETH_ALEN))
				return (struct mac_holder){pf, (int)vf};
	}
	return (struct mac_holder){NULL, 0};
}

/* VF reset request: the VF's pool, MAC and queues come back; reply ACK + its MAC. */
static int handle_reset(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 reply[4] = {IGB_VF_RESET | IGB_MSG_ACK, 0, 0, 0};

	igb_set_rar(pf, igb_vf_rar(vf), s->mac, vf);
	igb_enable_pool(pf, vf);
	s->clear_to_send = true;
	igb_msg_put_mac(reply, s->mac);
	pr_info("vf%u reset: MAC %02x:%02x:%02x:%02x:%02x:%02x, queues enabled\n", vf, s->mac[0],
		s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
	return mbx_write(pf, vf, reply, 4);
}

/* "vf2 of the PF 0000:02:00.0 (another NIC)", "the PF 0000:01:00.0 (this NIC)". */
static void holder_name(const struct mac_holder *h, const struct igb_pf *asker, char *buf,
			size_t size)
{
	const struct pci_dev *d = h->pf->pdev;
	char vf[24] = "";

	if (h->vf >= 0)
		snprintf(vf, sizeof(vf), "vf%d of ", h->vf);
	snprintf(buf, size, "%sthe PF %04x:%02x:%02x.%x (%s NIC)", vf, d ? d->seg : 0,
		 d ? d->bus : 0, d ? d->dev : 0, d ? d->fn : 0,
		 h->pf == asker ? "this" : "another");
}

/* Set-MAC: only a valid unicast address that no other function of any NIC moat drives
 * holds. */
static bool handle_set_mac(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	struct mac_holder h;
	u8 mac[ETH_ALEN];
	char who[64];

	igb_msg_get_mac(msg, mac);
	h = mac_holder(mac);
	if (!mac_is_valid_unicast(mac)) {
		pr_warn("vf%u: set-MAC %02x:%02x:%02x:%02x:%02x:%02x refused: not a unicast "
			"address\n",
			vf, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return false;
	}
	if (h.pf && (h.pf != pf || h.vf != (int)vf)) {
		holder_name(&h, pf, who, sizeof(who));
		pr_warn("vf%u: set-MAC %02x:%02x:%02x:%02x:%02x:%02x refused: it belongs to %s\n",
			vf, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], who);
		return false;
	}
	memcpy(pf->vf[vf].mac, mac, ETH_ALEN);
	igb_set_rar(pf, igb_vf_rar(vf), mac, vf);
	if (memcmp(mac, pf->vf[vf].default_mac, ETH_ALEN))
		pf->vf[vf].owner_changes++;
	return true;
}

STATIC_ASSERT(IGB_VF_MC_HASHES == 2 * (IGB_MBX_WORDS - 1), "a set-multicast message's hashes");

/* The multicast table is shared by all pools: it holds the union of every VF's list. */
static void mta_rebuild(struct igb_pf *pf)
{
	u32 mta[IGB_MTA_WORDS] = {0};

	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		for (unsigned i = 0; i < pf->vf[vf].nr_mc; i++) {
			unsigned h = pf->vf[vf].mc_hash[i];

			mta[h >> 5] |= (u32)BIT(h & 0x1f);
		}
	for (unsigned w = 0; w < IGB_MTA_WORDS; w++)
		igb_wr(pf, IGB_MTA(w), mta[w]);
}

/* The message carries the VF's whole list: it replaces the previous one. */
static bool handle_set_multicast(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	struct igb_vf_state *s = &pf->vf[vf];
	unsigned n = (unsigned)FIELD_GET(IGB_MSG_INFO, msg[0]);
	const u16 *hashes = (const u16 *)&msg[1];

	if (n > IGB_VF_MC_HASHES)
		return false;
	for (unsigned i = 0; i < n; i++)
		s->mc_hash[i] = hashes[i] & 0xfff;
	s->nr_mc = n;
	s->owner_changes += n > 0;
	mta_rebuild(pf);
	igb_wr(pf, IGB_VMOLR(vf),
	       n ? igb_rd(pf, IGB_VMOLR(vf)) | IGB_VMOLR_ROMPE
		 : igb_rd(pf, IGB_VMOLR(vf)) & ~(u32)IGB_VMOLR_ROMPE);
	return true;
}

static bool handle_set_lpe(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	u32 max = msg[1];

	if (max > IGB_MAX_FRAME || max < 64)
		return false;
	igb_wr(pf, IGB_VMOLR(vf),
	       (u32)((igb_rd(pf, IGB_VMOLR(vf)) & ~IGB_VMOLR_RLPML) |
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
		case IGB_VF_SET_MAC_ADDR: ok = handle_set_mac(pf, vf, msg); break;
		case IGB_VF_SET_MULTICAST: ok = handle_set_multicast(pf, vf, msg); break;
		case IGB_VF_SET_LPE: ok = handle_set_lpe(pf, vf, msg); break;
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

/* What the VF's owner set through the mailbox goes with the reset (the next owner, after
 * moat's FLR, must not receive the old owner's address or groups): its own MAC comes
 * back, its multicast list is emptied. */
static void forget_owner_state(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];

	s->clear_to_send = false;
	s->nr_mc = 0;
	igb_wr(pf, IGB_VMOLR(vf), igb_rd(pf, IGB_VMOLR(vf)) & ~(u32)IGB_VMOLR_ROMPE);
	if (memcmp(s->mac, s->default_mac, ETH_ALEN)) {
		memcpy(s->mac, s->default_mac, ETH_ALEN);
		igb_set_rar(pf, igb_vf_rar(vf), s->mac, vf);
	}
}

/* A VF reset itself (VF CTRL.RST or FLR): the device cleared its enables; the VF must do
 * the reset handshake again before anything else is served. */
static unsigned handle_vflr(struct igb_pf *pf)
{
	u32 vflre = igb_rd(pf, IGB_VFLRE);
	unsigned n = 0;

	if (!vflre)
		return 0;
	igb_wr(pf, IGB_VFLRE, vflre);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		if (vflre & BIT(vf)) {
			forget_owner_state(pf, vf);
			pr_info("vf%u: function reset seen\n", vf);
			n++;
		}
	if (n)
		mta_rebuild(pf);
	return n;
}

/* A mailbox storm from one VF costs CPU 0 at most IGB_MBX_BUDGET messages per window; the
 * other VFs are served as usual. */
static bool mbx_over_budget(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 window = pf->mbx_window_us ? pf->mbx_window_us : IGB_MBX_WINDOW_US;
	u64 now = time_us();

	if (now - s->window_start_us >= window) {
		s->window_start_us = now;
		s->window_msgs = 0;
	}
	if (s->window_msgs < IGB_MBX_BUDGET) {
		s->window_msgs++;
		return false;
	}
	if (s->window_msgs++ == IGB_MBX_BUDGET && s->throttled++ == 0)
		pr_warn("vf%u: more than %u mailbox messages in %u ms; the rest wait (warned "
			"once)\n",
			vf, IGB_MBX_BUDGET, window / 1000);
	return true;
}

static unsigned igb_pf_poll(struct igb_pf *pf)
{
	/* Requests first, resets second: a VF resets itself before it sends the reset
	 * request, so every reset that precedes a request read here is seen before that
	 * request is served (never after, which would undo its handshake). */
	u32 icr = igb_rd(pf, IGB_MBVFICR);
	unsigned n = handle_vflr(pf) + igb_service_spoof(pf);
	u32 req = (u32)FIELD_GET(IGB_MBVFICR_VFREQ, icr);
	u32 ack = (u32)FIELD_GET(IGB_MBVFICR_VFACK, icr);

	if (ack)
		igb_wr(pf, IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFACK, ack));
	/* QEMU clears MBVFICR when it is read: a request held back by the rate limit is
	 * remembered here until it is served. */
	pf->mbx_pending |= req;
	for (unsigned vf = 0; vf < pf->num_vfs; vf++) {
		u32 msg[IGB_MBX_WORDS];

		if (!(pf->mbx_pending & BIT(vf)) || mbx_over_budget(pf, vf))
			continue;
		pf->mbx_pending &= ~(u32)BIT(vf);
		igb_wr(pf, IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFREQ, BIT(vf)));
		if (mbx_read(pf, vf, msg) == 0) {
			/* A request held back by the rate limit may be served after the VF
			 * reset itself and wrote a new one: the VF sets VFLRE before it writes
			 * its message, so a reset is visible now and is taken first. */
			n += handle_vflr(pf);
			handle_msg(pf, vf, msg);
		}
		n++;
	}
	return n;
}

/* One CPU serves the mailboxes at a time; a holder never waits longer than the bounded
 * handshakes. */
static spinlock_t mbx_service_lock = SPINLOCK_INIT;

unsigned igb_pf_serve(struct igb_pf *pf)
{
	unsigned n;

	spin_lock(&mbx_service_lock);
	n = igb_pf_poll(pf);
	spin_unlock(&mbx_service_lock);
	return n;
}

unsigned igb_pf_poll_all(void)
{
	unsigned n = 0;

	spin_lock(&mbx_service_lock);
	for (unsigned i = 0; i < igb_pf_count(); i++)
		n += igb_pf_poll(igb_pf_at(i));
	spin_unlock(&mbx_service_lock);
	return n;
}
