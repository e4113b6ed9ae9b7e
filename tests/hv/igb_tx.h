/* The PF's own transmit queue (tests/hv/igb_tx.c), for the test image. */
#ifndef TESTS_HV_IGB_TX_H
#define TESTS_HV_IGB_TX_H

#include "pci/pf/igb.h"

/* Sends one frame (dst, ethertype, payload) from the PF's own pool; waits for write-back.
 * The queue is set up on the first frame. */
int igb_pf_send_frame(struct igb_pf *pf, const u8 dst[ETH_ALEN], u16 ethertype, const void *payload,
		      unsigned len);
/* The ring's address, 0 before the first frame. */
u64 igb_pf_tx_ring(const struct igb_pf *pf);

#endif
