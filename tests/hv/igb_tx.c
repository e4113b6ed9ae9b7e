/* The PF's own transmit queue, for the test image's igb: pf-frame-sent: queue `pf_pool`, a
 * pool no VF uses, so the PF's DMA carries the PF's requester ID. Set up on the first frame;
 * legacy descriptors, one frame at a time. The product never sends from the PF. */
#define LOG_TAG "igb"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/time.h>
#include "pci/internal.h"
#include "pci/pf/igb_regs.h"
#include "tests/hv/igb_tx.h"

#define MAX_PFS 4

static struct pf_tx {
	const struct igb_pf *pf;
	u64 ring, buf;
	unsigned tail;
} pf_tx[MAX_PFS];

static int setup_tx(struct igb_pf *pf, struct pf_tx *t)
{
	unsigned q = pf->pf_pool;

	t->ring = page_alloc();
	t->buf = page_alloc();
	if (!t->ring || !t->buf)
		return pr_err(-ENOMEM, "no page for the PF transmit ring\n");
	/* DMA default-deny: the PF's domain maps these two pages and nothing else. */
	if (iommu_own_dma_map(pf->pdev, t->ring, PAGE_SIZE) ||
	    iommu_own_dma_map(pf->pdev, t->buf, PAGE_SIZE))
		return pr_err(-ENOMEM, "the PF transmit ring cannot be given to its DMA\n");
	igb_wr(pf, IGB_TXDCTL(q), 0);
	igb_wr(pf, IGB_TDBAL(q), (u32)t->ring);
	igb_wr(pf, IGB_TDBAH(q), (u32)(t->ring >> 32));
	igb_wr(pf, IGB_TDLEN(q), IGB_TX_RING_LEN * sizeof(struct igb_tx_desc));
	igb_wr(pf, IGB_TDH(q), 0);
	igb_wr(pf, IGB_TDT(q), 0);
	t->tail = 0;
	igb_wr(pf, IGB_TXDCTL(q), IGB_TXDCTL_ENABLE);
	if (!WAIT_US(igb_rd(pf, IGB_TXDCTL(q)) & IGB_TXDCTL_ENABLE, 10000))
		return pr_err(-ETIMEDOUT, "TX queue %u does not enable\n", q);
	t->pf = pf;
	return 0;
}

static struct pf_tx *tx_of(const struct igb_pf *pf)
{
	for (unsigned i = 0; i < MAX_PFS; i++)
		if (pf_tx[i].pf == pf)
			return &pf_tx[i];
	return NULL;
}

u64 igb_pf_tx_ring(const struct igb_pf *pf)
{
	const struct pf_tx *t = tx_of(pf);

	return t ? t->ring : 0;
}

int igb_pf_send_frame(struct igb_pf *pf, const u8 dst[ETH_ALEN], u16 ethertype, const void *payload,
		      unsigned len)
{
	struct pf_tx *t = tx_of(pf);
	volatile struct igb_tx_desc *ring;
	unsigned frame = 14 + len, slot;
	u8 *buf;
	int err;

	if (pf->num_vfs >= IGB_NR_POOLS)
		return pr_err(-EBUSY,
			      "every pool belongs to a VF; the PF has no queue of its own\n");
	if (!t) {
		t = tx_of(NULL);
		if (!t)
			return pr_err(-ENOSPC, "more than %u PFs send frames\n", MAX_PFS);
		err = setup_tx(pf, t);
		if (err)
			return err;
	}
	ring = (volatile struct igb_tx_desc *)(uintptr_t)t->ring;
	buf = (u8 *)(uintptr_t)t->buf;
	slot = t->tail;
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
	ring[slot].addr = t->buf;
	ring[slot].cmd_len = (u32)(FIELD_PREP(IGB_TXD_LEN, frame) | IGB_TXD_CMD_EOP |
				   IGB_TXD_CMD_IFCS | IGB_TXD_CMD_RS);
	ring[slot].status = 0;
	t->tail = (slot + 1) % IGB_TX_RING_LEN;
	__asm__ volatile("sfence" ::: "memory");
	igb_wr(pf, IGB_TDT(pf->pf_pool), t->tail);
	if (!WAIT_US(ring[slot].status & IGB_TXD_STAT_DD, IGB_TX_TIMEOUT_US))
		return pr_err(-ETIMEDOUT, "frame on queue %u not written back (TDH %u TDT %u)\n",
			      pf->pf_pool, igb_rd(pf, IGB_TDH(pf->pf_pool)),
			      igb_rd(pf, IGB_TDT(pf->pf_pool)));
	return 0;
}
