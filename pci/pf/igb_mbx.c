/* The PF side of the 82576 VF mailbox, answering as Linux's igb PF does when the
 * administrator assigned each VF its MAC (docs/igbvf.md lists every message): the reset
 * handshake, set-MAC of the assigned address only, multicast lists, the longest frame and
 * VLAN 0 granted; other VLANs, unicast filters and promiscuous mode refused with NACK,
 * logged with the guest's name, rate-limited. What an owner set is forgotten at the VF's
 * function reset. The hypervisor CPU polls (igb_pf_serve on its interrupt,
 * igb_pf_poll_all); every handshake is bounded. */
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

/* Which function of any NIC moat drives holds mac, to name it when a VF asks for it. */
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

/* Who has the VF, for the log: "guest web", "guest2", "moat", "nobody". */
static void vf_owner(const struct igb_pf *pf, unsigned vf, char *buf, size_t size)
{
	const struct pci_dev *d = pf->pdev ? pci_sriov_vf(pf->pdev, vf) : NULL;

	if (d && d->owner.kind == PCI_OWNER_GUEST && d->owner.name)
		snprintf(buf, size, "guest %s", d->owner.name);
	else if (d && d->owner.kind == PCI_OWNER_GUEST)
		snprintf(buf, size, "guest%d", d->owner.guest);
	else
		snprintf(buf, size, "%s",
			 d && d->owner.kind == PCI_OWNER_HYPERVISOR ? "moat" : "nobody");
}

/* A VF's log lines of one kind: at most `burst` per `window_us` (set up on first use, the
 * state being zeroed with the PF's). */
static bool log_allow(struct ratelimit *rl, u64 window_us, unsigned burst, unsigned *dropped)
{
	if (!rl->window_us) {
		rl->window_us = window_us;
		rl->burst = burst;
	}
	return ratelimit_allow(rl, time_us(), dropped);
}

/* A refused request is logged with the VF and its guest; a guest that sends refused
 * requests in a loop gets at most IGB_REFUSAL_LOG_BURST lines per IGB_REFUSAL_LOG_US, the
 * rest counted and announced with the next line. */
static void __printf(3, 4) refusal(struct igb_pf *pf, unsigned vf, const char *fmt, ...)
{
	struct igb_vf_state *s = &pf->vf[vf];
	char what[160], owner[40];
	unsigned dropped;
	va_list ap;

	s->nacks++;
	if (!log_allow(&s->refusal_log, IGB_REFUSAL_LOG_US, IGB_REFUSAL_LOG_BURST, &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vf_owner(pf, vf, owner, sizeof(owner));
	if (dropped)
		pr_warn("vf%u (%s): %u refusals not logged\n", vf, owner, dropped);
	pr_warn("vf%u (%s): %s\n", vf, owner, what);
}

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

/* The VF's mailbox state goes back to what the PF gave it: its own MAC, no multicast list.
 * Linux's PF clears the same at a reset message (igb_vf_reset). */
static void vf_state_clear(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];

	s->nr_mc = 0;
	/* Linux's igb_vf_reset sets last_nack: an ACK left over from before the reset draws
	 * no unsolicited NACK for IGB_NOCTS_NACK_US. Sent between igbvf's CTRL.RST and its
	 * reset request, that NACK took the mailbox (igbvf tries VFU once) or stood in the
	 * buffer as the reply to the reset request: "PF still in reset state". */
	s->nocts_nack_sent = true;
	s->nocts_nack_us = time_us();
	igb_wr(pf, IGB_VMOLR(vf), igb_rd(pf, IGB_VMOLR(vf)) & ~(u32)IGB_VMOLR_ROMPE);
	memcpy(s->mac, s->default_mac, ETH_ALEN);
	igb_set_rar(pf, igb_vf_rar(vf), s->mac, vf);
}

static void mta_rebuild(struct igb_pf *pf);

/* VF reset request: the VF's pool, MAC and queues come back; reply ACK + its MAC, three
 * words, no CTS (Linux's igbvf compares word 0 with RESET | ACK exactly). */
static int handle_reset(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 reply[IGB_RESET_REPLY_WORDS] = {IGB_VF_RESET | IGB_MSG_ACK, 0, 0};

	vf_state_clear(pf, vf);
	mta_rebuild(pf);
	igb_enable_pool(pf, vf);
	s->clear_to_send = true;
	igb_msg_put_mac(reply, s->mac);
	pr_info("vf%u reset: MAC " MAC_FMT ", queues enabled\n", vf, MAC_ARGS(s->mac));
	return mbx_write(pf, vf, reply, IGB_RESET_REPLY_WORDS);
}

/* Set-MAC. moat assigns every VF its MAC, as an administrator does with Linux's PF
 * (`ip link set ... vf N mac`): the VF may set that address and no other, and gets no
 * further unicast filters. A clear of its filter list is granted (it has none). */
static bool handle_set_mac(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	u32 info = (u32)FIELD_GET(IGB_MSG_INFO, msg[0]);
	struct mac_holder h;
	u8 mac[ETH_ALEN];
	char who[96], holder[80];

	igb_msg_get_mac(msg, mac);
	if (info == IGB_MAC_FILTER_CLR)
		return true;
	if (info == IGB_MAC_FILTER_ADD) {
		refusal(pf, vf, "unicast filter " MAC_FMT " refused: moat assigned the VF its MAC",
			MAC_ARGS(mac));
		return false;
	}
	if (info != IGB_MAC_FILTER_NONE) {
		refusal(pf, vf, "set-MAC with INFO %#x refused: unknown", info);
		return false;
	}
	if (!memcmp(mac, pf->vf[vf].default_mac, ETH_ALEN))
		return true;
	h = mac_holder(mac);
	if (!mac_is_valid_unicast(mac))
		snprintf(who, sizeof(who), "not a unicast address");
	else if (h.pf) {
		holder_name(&h, pf, holder, sizeof(holder));
		snprintf(who, sizeof(who), "it belongs to %s", holder);
	} else
		snprintf(who, sizeof(who), "moat assigned it " MAC_FMT,
			 MAC_ARGS(pf->vf[vf].default_mac));
	refusal(pf, vf, "set-MAC " MAC_FMT " refused: %s", MAC_ARGS(mac), who);
	return false;
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

/* The message carries the VF's whole list (at most 30 hashes: Linux's igbvf sends the
 * first 30): it replaces the previous one. More would need multicast promiscuous mode,
 * which guests do not get. */
static bool handle_set_multicast(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	struct igb_vf_state *s = &pf->vf[vf];
	unsigned n = (unsigned)FIELD_GET(IGB_MSG_INFO, msg[0]);
	const u16 *hashes = (const u16 *)&msg[1];

	if (n > IGB_VF_MC_HASHES) {
		refusal(pf, vf, "multicast list of %u hashes refused: at most %u", n,
			IGB_VF_MC_HASHES);
		return false;
	}
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

/* The longest frame the VF's pool receives. Like Linux's PF, a larger request is cut to
 * the device's longest frame and granted; one below the shortest frame is refused. */
static bool handle_set_lpe(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	u32 max = msg[1];

	if (max < IGB_MIN_FRAME) {
		refusal(pf, vf, "longest frame %u bytes refused: at least %u", max, IGB_MIN_FRAME);
		return false;
	}
	if (max > IGB_MAX_FRAME)
		max = IGB_MAX_FRAME;
	igb_wr(pf, IGB_VMOLR(vf),
	       (u32)((igb_rd(pf, IGB_VMOLR(vf)) & ~IGB_VMOLR_RLPML) |
		     FIELD_PREP(IGB_VMOLR_RLPML, max) | IGB_VMOLR_LPE));
	return true;
}

/* VLAN filters: guests get none. VID 0 (priority-tagged frames, which the pool receives
 * as untagged ones) is granted, added or removed, without a filter: Linux's igbvf adds it
 * every time it configures its rings. */
static bool handle_set_vlan(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	bool add = FIELD_GET(IGB_MSG_INFO, msg[0]) == IGB_MSG_VLAN_ADD;
	u32 vid = (u32)FIELD_GET(IGB_MSG_VLAN_VID, msg[1]);

	if (vid == 0)
		return true;
	refusal(pf, vf, "VLAN %u %s refused: guests get no VLAN filters", vid,
		add ? "add" : "remove");
	return false;
}

/* A request is answered in one word: the request's type and INFO, ACK or NACK, and CTS
 * once the reset handshake is done (Linux's igb_rcv_msg_from_vf). */
static int handle_msg(struct igb_pf *pf, unsigned vf, const u32 *msg)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 type = (u32)FIELD_GET(IGB_MSG_TYPE, msg[0]);
	u32 reply;
	bool ok;

	s->msgs++;
	/* A word 0 with ACK or NACK is a reply the VF left in the buffer when it raised REQ
	 * without writing a request: nothing to serve (a reset reply must not become a
	 * reset request). */
	if (msg[0] & (IGB_MSG_ACK | IGB_MSG_NACK)) {
		s->stale++;
		return 0;
	}
	if (type == IGB_VF_RESET)
		return handle_reset(pf, vf);
	if (!s->clear_to_send) {
		refusal(pf, vf, "message %#x refused: before the reset handshake", msg[0]);
		s->nocts_nack_sent = true;
		s->nocts_nack_us = time_us();
		ok = false;
	} else {
		switch (type) {
		case IGB_VF_SET_MAC_ADDR: ok = handle_set_mac(pf, vf, msg); break;
		case IGB_VF_SET_MULTICAST: ok = handle_set_multicast(pf, vf, msg); break;
		case IGB_VF_SET_LPE: ok = handle_set_lpe(pf, vf, msg); break;
		case IGB_VF_SET_VLAN: ok = handle_set_vlan(pf, vf, msg); break;
		case IGB_VF_SET_PROMISC:
			refusal(pf, vf, "promiscuous mode %#x refused: guests get none",
				(u32)FIELD_GET(IGB_MSG_INFO, msg[0]));
			ok = false;
			break;
		default:
			refusal(pf, vf, "unknown message %#x refused", msg[0]);
			ok = false;
			break;
		}
	}
	reply = (msg[0] & (IGB_MSG_TYPE | IGB_MSG_INFO)) | (ok ? IGB_MSG_ACK : IGB_MSG_NACK) |
		(s->clear_to_send ? IGB_MSG_CTS : 0);
	return mbx_write(pf, vf, &reply, 1);
}

/* What the VF's owner set through the mailbox goes with the reset (the next owner, after
 * moat's FLR, must not receive the old owner's groups): its multicast list is emptied and
 * its own MAC is in its receive address entry. */
static void forget_owner_state(struct igb_pf *pf, unsigned vf)
{
	pf->vf[vf].clear_to_send = false;
	vf_state_clear(pf, vf);
}

/* A guest that resets its VF in a loop (CTRL.RST is a register of its own BAR) gets at most
 * IGB_RESET_LOG_BURST lines a second. */
static void log_reset(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	char owner[40];
	unsigned dropped;

	s->resets++;
	if (!log_allow(&s->reset_log, IGB_RESET_LOG_US, IGB_RESET_LOG_BURST, &dropped))
		return;
	vf_owner(pf, vf, owner, sizeof(owner));
	pr_info("vf%u (%s): function reset seen (%u so far%s)\n", vf, owner, s->resets,
		dropped ? ", some not logged" : "");
}

/* A VF reset itself (VF CTRL.RST or FLR): the device cleared its enables; the VF must do
 * the reset handshake again before anything else is served. The shared multicast table is
 * rewritten only when a VF's list went with its reset: a reset storm costs CPU 0 a few
 * register accesses per reset. */
static unsigned handle_vflr(struct igb_pf *pf)
{
	u32 vflre = igb_rd(pf, IGB_VFLRE);
	bool lists_dropped = false;
	unsigned n = 0;

	if (!vflre)
		return 0;
	igb_wr(pf, IGB_VFLRE, vflre);
	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		if (vflre & BIT(vf)) {
			lists_dropped |= pf->vf[vf].nr_mc > 0;
			forget_owner_state(pf, vf);
			log_reset(pf, vf);
			n++;
		}
	if (lists_dropped)
		mta_rebuild(pf);
	return n;
}

/* A VF without CTS read its buffer and ACKed (igbvf's link check after a reset
 * indication): like Linux's PF (igb_rcv_ack_from_vf) the PF answers NACK, at most every
 * IGB_NOCTS_NACK_US after the last NACK the VF got without CTS (a refused request's reply
 * counts: it is never overwritten this way), so the driver sees NACK without CTS and
 * resets itself. Not while the VF has a request outstanding: with the buffer taken (PFU),
 * MBVFICR is read once more, and a request that completed meanwhile is served instead of
 * overwritten. */
static void nack_without_cts(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u32 nack = IGB_MSG_NACK;
	u64 now = time_us();

	if (s->clear_to_send || (pf->mbx_pending & BIT(vf)) ||
	    (s->nocts_nack_sent && now - s->nocts_nack_us < IGB_NOCTS_NACK_US))
		return;
	if (mbx_lock(pf, vf))
		return;
	pf->mbx_pending |= (u32)FIELD_GET(IGB_MBVFICR_VFREQ, igb_rd(pf, IGB_MBVFICR));
	if (pf->mbx_pending & BIT(vf)) {
		igb_wr(pf, IGB_P2VMAILBOX(vf), 0); /* the buffer back to the VF, untouched */
		return;
	}
	s->nocts_nack_sent = true;
	s->nocts_nack_us = now;
	s->nocts_nacks++;
	igb_wr(pf, IGB_VMBMEM(vf), nack);
	igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2VMAILBOX_STS);
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
	if (s->window_msgs++ == IGB_MBX_BUDGET && s->throttled++ == 0) {
		char owner[40];

		vf_owner(pf, vf, owner, sizeof(owner));
		pr_warn("vf%u (%s): more than %u mailbox messages in %u ms; the rest wait (warned "
			"once)\n",
			vf, owner, IGB_MBX_BUDGET, window / 1000);
	}
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
	for (unsigned vf = 0; vf < pf->num_vfs; vf++)
		if (ack & BIT(vf))
			nack_without_cts(pf, vf);
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
