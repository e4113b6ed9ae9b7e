/* 82576 (igb) physical-function driver: brings the PF up for SR-IOV and serves the VF
 * mailboxes. */
#ifndef PCI_PF_IGB_H
#define PCI_PF_IGB_H

#include <moat/igbvf.h>
#include <moat/pci.h>
#include <moat/ratelimit.h>

#define IGB_MAX_VFS 8
#define IGB_VF_MC_HASHES 30 /* what one mailbox message carries: 2 per word after the first */

struct igb_vf_state {
	u8 default_mac[ETH_ALEN]; /* the one the PF gave it; back after a function reset */
	u8 mac[ETH_ALEN];
	u16 mc_hash[IGB_VF_MC_HASHES]; /* its multicast list (12-bit MTA hashes) */
	unsigned nr_mc;
	unsigned owner_changes; /* accepted set-MAC (not its own) and set-multicast requests */
	bool clear_to_send;	/* reset handshake done: other requests are served */
	unsigned msgs, nacks;
	unsigned stale;		      /* requests that were a reply already answered */
	struct ratelimit refusal_log; /* its refusals' warnings */
	unsigned resets;	      /* function resets seen (VFLRE: CTRL.RST or FLR) */
	struct ratelimit reset_log;   /* their log lines */
	/* a VF without CTS that reads its buffer is told NACK, at most every IGB_NOCTS_NACK_US
	 * after the last NACK it got without CTS (a refused request's too) or its last reset */
	bool nocts_nack_sent;
	u64 nocts_nack_us;
	unsigned nocts_nacks; /* the unsolicited ones */
	/* rate limit (igb_mbx.c) */
	u64 window_start_us;
	unsigned window_msgs;
	unsigned throttled;	/* windows in which the VF asked for more than the budget */
	unsigned lock_timeouts; /* waits for a buffer the VF held, each charged a window */
	/* anti-spoofing (igb_spoof.c) */
	unsigned spoofed;    /* frames the device dropped for a source MAC not the VF's */
	u64 spoof_warned_us; /* when the last warning was logged */
};

struct igb_pf {
	struct pci_dev *pdev;
	u64 regs; /* BAR0 */
	unsigned num_vfs;
	unsigned pf_pool; /* first pool no VF uses; PF traffic goes through it */
	u8 mac[ETH_ALEN];
	bool link_up;
	struct igb_vf_state vf[IGB_MAX_VFS];
	u32 mbx_pending;   /* VFs whose request waits for the rate limit (igb_mbx.c) */
	u32 mbx_window_us; /* the rate limit's window; 0: IGB_MBX_WINDOW_US */
};

/* Serves pending VF mailbox messages and VF resets of every PF; never blocks longer than
 * the bounded mailbox handshakes. Returns the number of events handled. */
unsigned igb_pf_poll_all(void);
struct igb_pf *igb_pf_of(const struct pci_dev *pf);
/* Frames from VF `vf` of `pf` that the device dropped as spoofed (0 for no such VF). */
unsigned igb_vf_spoofed(const struct igb_pf *pf, unsigned vf);

#endif
