/* Freestanding driver for the 82576 virtual function: mailbox, reset handshake, one TX and
 * one RX queue with buffers in the caller's memory, MSI-X routing. Every wait is bounded by
 * the caller's clock; errors are logged through the caller's log hook where they arise. */
#include <stdarg.h>
#include <moat/errno.h>
#include <moat/igbvf.h>
#include <moat/string.h>

static u32 rd(struct igbvf *vf, u32 reg)
{
	return vf->ops->rd(vf->ctx, reg);
}

static void wr(struct igbvf *vf, u32 reg, u32 val)
{
	vf->ops->wr(vf->ctx, reg, val);
}

static int __printf(3, 4) fail(struct igbvf *vf, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(vf->last_error, sizeof(vf->last_error), "error: ");
	va_start(ap, fmt);
	vsnprintf(vf->last_error + n, sizeof(vf->last_error) - (size_t)n, fmt, ap);
	va_end(ap);
	if (vf->ops->log)
		vf->ops->log(vf->ctx, vf->last_error);
	return err;
}

/* Polls the mailbox register until one of `bits` is seen. PFSTS, PFACK and RSTD clear on
 * read, so every bit seen is remembered in *seen. */
static bool mbx_wait(struct igbvf *vf, u32 bits, u32 *seen, u64 timeout_us)
{
	u64 deadline = vf->ops->now_us(vf->ctx) + timeout_us;

	for (;;) {
		*seen |= rd(vf, IGB_VF_MAILBOX);
		if (*seen & bits)
			return true;
		if (vf->ops->now_us(vf->ctx) > deadline)
			return false;
		vf->ops->idle(vf->ctx);
	}
}

int igbvf_init(struct igbvf *vf, const struct igbvf_ops *ops, void *ctx, void *mem)
{
	u8 *m = mem;

	memset(vf, 0, sizeof(*vf));
	vf->ops = ops;
	vf->ctx = ctx;
	if (!mem || ((uintptr_t)mem & (IGBVF_MEM_ALIGN - 1)))
		return fail(vf, -EINVAL, "driver memory %p not %u-byte aligned\n", mem,
			    IGBVF_MEM_ALIGN);
	vf->mem = m;
	vf->tx_ring = (volatile struct igb_tx_desc *)m;
	vf->rx_ring = (volatile union igb_rx_desc *)(m + 2048);
	vf->tx_buf = m + 4096;
	vf->rx_buf = vf->tx_buf + IGBVF_RING_LEN * IGBVF_BUF_SIZE;
	return 0;
}

/* Send: take the buffer (VFU), write the words, raise REQ; the reply follows with PFSTS. */
static int mbx_send(struct igbvf *vf, const u32 *msg, unsigned words)
{
	u64 deadline = vf->ops->now_us(vf->ctx) + IGBVF_MBX_TIMEOUT_US;

	for (;;) {
		wr(vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_VFU);
		if (rd(vf, IGB_VF_MAILBOX) & IGB_VF_MAILBOX_VFU)
			break;
		if (vf->ops->now_us(vf->ctx) > deadline)
			return fail(vf, -ETIMEDOUT, "mailbox held by the PF for %u us\n",
				    IGBVF_MBX_TIMEOUT_US);
		vf->ops->idle(vf->ctx);
	}
	for (unsigned i = 0; i < words; i++)
		wr(vf, IGB_VF_MBMEM + 4 * i, msg[i]);
	wr(vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_REQ);
	vf->stats.mbx_msgs++;
	return 0;
}

static int mbx_receive(struct igbvf *vf, u32 *reply, unsigned words, u32 type)
{
	u32 seen = 0;

	if (!mbx_wait(vf, IGB_VF_MAILBOX_PFSTS, &seen, IGBVF_MBX_TIMEOUT_US))
		return fail(vf, -ETIMEDOUT, "no PF reply to message %#x in %u us (mailbox %#x)\n",
			    type, IGBVF_MBX_TIMEOUT_US, seen);
	for (unsigned i = 0; i < words; i++)
		reply[i] = rd(vf, IGB_VF_MBMEM + 4 * i);
	wr(vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	return 0;
}

int igbvf_mbx_request(struct igbvf *vf, const u32 *msg, unsigned words, u32 *reply,
		      unsigned reply_words)
{
	u32 type = (u32)FIELD_GET(IGB_MSG_TYPE, msg[0]);
	int err;

	if (!words || words > IGB_MBX_WORDS || !reply_words || reply_words > IGB_MBX_WORDS)
		return fail(vf, -EINVAL, "mailbox message of %u words, reply of %u\n", words,
			    reply_words);
	err = mbx_send(vf, msg, words);
	if (!err)
		err = mbx_receive(vf, reply, reply_words, type);
	if (err)
		return err;
	if (FIELD_GET(IGB_MSG_TYPE, reply[0]) != type)
		return fail(vf, -EBADMSG, "PF answered message %#x with %#x\n", type, reply[0]);
	if (reply[0] & IGB_MSG_NACK) {
		vf->stats.mbx_nacks++;
		return -EPERM;
	}
	if (!(reply[0] & IGB_MSG_ACK))
		return fail(vf, -EBADMSG, "PF reply %#x neither ACK nor NACK\n", reply[0]);
	return 0;
}

/* The PF sees the function reset (VFLRE), then serves the reset message: it restores the
 * VF's pool and queue enables and hands back the MAC it assigned. */
int igbvf_reset(struct igbvf *vf)
{
	u32 msg = IGB_VF_RESET, reply[IGB_RESET_REPLY_WORDS] = {0}, seen = 0;
	u64 deadline;
	int err;

	vf->up = false;
	wr(vf, IGB_VF_CTRL, IGB_VF_CTRL_RST);
	/* The PF must not be in reset (RSTI) before it can serve the handshake. */
	deadline = vf->ops->now_us(vf->ctx) + IGBVF_RESET_TIMEOUT_US;
	while ((seen = rd(vf, IGB_VF_MAILBOX)) & IGB_VF_MAILBOX_RSTI) {
		if (vf->ops->now_us(vf->ctx) > deadline)
			return fail(vf, -ETIMEDOUT, "PF still in reset after %u us (mailbox %#x)\n",
				    IGBVF_RESET_TIMEOUT_US, seen);
		vf->ops->idle(vf->ctx);
	}
	err = igbvf_mbx_request(vf, &msg, 1, reply, IGB_RESET_REPLY_WORDS);
	if (err == -EPERM)
		return fail(vf, -EPERM, "PF refused the reset request (%#x)\n", reply[0]);
	if (err)
		return err;
	igb_msg_get_mac(reply, vf->mac);
	if ((vf->mac[0] & 1) ||
	    !(vf->mac[0] | vf->mac[1] | vf->mac[2] | vf->mac[3] | vf->mac[4] | vf->mac[5]))
		return fail(vf, -EBADMSG, "PF assigned no valid unicast MAC (%#x %#x)\n", reply[1],
			    reply[2]);
	return 0;
}

int igbvf_set_mac(struct igbvf *vf, const u8 mac[ETH_ALEN])
{
	u32 msg[3] = {IGB_VF_SET_MAC_ADDR}, reply = 0;
	int err;

	igb_msg_put_mac(msg, mac);
	err = igbvf_mbx_request(vf, msg, 3, &reply, 1);
	if (!err)
		memcpy(vf->mac, mac, ETH_ALEN);
	return err;
}

static void rx_give(struct igbvf *vf, unsigned slot)
{
	volatile union igb_rx_desc *d = &vf->rx_ring[slot];

	d->read.pkt_addr = vf->ops->dma_addr(vf->ctx, vf->rx_buf + slot * IGBVF_BUF_SIZE);
	d->read.hdr_addr = 0;
}

static int queue_enable(struct igbvf *vf, u32 reg, u32 bit, const char *what)
{
	u64 deadline = vf->ops->now_us(vf->ctx) + IGBVF_RESET_TIMEOUT_US;

	wr(vf, reg, bit);
	while (!(rd(vf, reg) & bit)) {
		if (vf->ops->now_us(vf->ctx) > deadline)
			return fail(vf, -ETIMEDOUT, "%s queue does not enable (%#x)\n", what,
				    rd(vf, reg));
		vf->ops->idle(vf->ctx);
	}
	return 0;
}

static int tx_setup(struct igbvf *vf)
{
	u64 ring = vf->ops->dma_addr(vf->ctx, (const void *)vf->tx_ring);

	memset((void *)vf->tx_ring, 0, IGBVF_RING_LEN * sizeof(struct igb_tx_desc));
	wr(vf, IGB_VF_TXDCTL, 0);
	wr(vf, IGB_VF_TDBAL, (u32)ring);
	wr(vf, IGB_VF_TDBAH, (u32)(ring >> 32));
	wr(vf, IGB_VF_TDLEN, IGBVF_RING_LEN * sizeof(struct igb_tx_desc));
	wr(vf, IGB_VF_TDH, 0);
	wr(vf, IGB_VF_TDT, 0);
	vf->tx_tail = vf->tx_clean = 0;
	return queue_enable(vf, IGB_VF_TXDCTL, IGB_TXDCTL_ENABLE, "TX");
}

static int rx_setup(struct igbvf *vf)
{
	u64 ring = vf->ops->dma_addr(vf->ctx, (const void *)vf->rx_ring);
	int err;

	for (unsigned i = 0; i < IGBVF_RING_LEN; i++)
		rx_give(vf, i);
	wr(vf, IGB_VF_RXDCTL, 0);
	wr(vf, IGB_VF_RDBAL, (u32)ring);
	wr(vf, IGB_VF_RDBAH, (u32)(ring >> 32));
	wr(vf, IGB_VF_RDLEN, IGBVF_RING_LEN * sizeof(union igb_rx_desc));
	wr(vf, IGB_VF_SRRCTL,
	   (u32)(FIELD_PREP(IGB_SRRCTL_BSIZEPKT, IGBVF_BUF_SIZE / 1024) |
		 FIELD_PREP(IGB_SRRCTL_DESCTYPE, IGB_SRRCTL_DESCTYPE_ADV_ONEBUF) |
		 IGB_SRRCTL_DROP_EN));
	wr(vf, IGB_VF_RDH, 0);
	wr(vf, IGB_VF_RDT, 0);
	vf->rx_next = 0;
	err = queue_enable(vf, IGB_VF_RXDCTL, IGB_RXDCTL_ENABLE, "RX");
	if (err)
		return err;
	/* Every descriptor but one is the device's: head == tail means the ring is empty. */
	__asm__ volatile("sfence" ::: "memory");
	wr(vf, IGB_VF_RDT, IGBVF_RING_LEN - 1);
	return 0;
}

int igbvf_up(struct igbvf *vf)
{
	int err;

	if (!vf->mem)
		return fail(vf, -EINVAL, "driver not initialised\n");
	err = tx_setup(vf);
	if (!err)
		err = rx_setup(vf);
	if (err)
		return err;
	vf->up = true;
	return 0;
}

void igbvf_down(struct igbvf *vf)
{
	wr(vf, IGB_VF_RXDCTL, 0);
	wr(vf, IGB_VF_TXDCTL, 0);
	wr(vf, IGB_VF_EIMC, IGB_VF_EICR_VECTORS);
	wr(vf, IGB_VF_CTRL, IGB_VF_CTRL_RST);
	vf->up = false;
}

int igbvf_xmit(struct igbvf *vf, const u8 dst[ETH_ALEN], u16 ethertype, const void *payload,
	       unsigned len)
{
	unsigned slot = vf->tx_tail, next = (slot + 1) % IGBVF_RING_LEN;
	unsigned frame = ETH_HLEN + len;
	u8 *buf = vf->tx_buf + slot * IGBVF_BUF_SIZE;

	if (!vf->up)
		return fail(vf, -ENODEV, "transmit on a VF that is not up\n");
	if (frame > ETH_FRAME_MAX)
		return fail(vf, -EINVAL, "frame of %u bytes is longer than %u\n", frame,
			    ETH_FRAME_MAX);
	if (next == vf->tx_clean)
		return -EBUSY;
	memcpy(buf, dst, ETH_ALEN);
	memcpy(buf + ETH_ALEN, vf->mac, ETH_ALEN);
	buf[12] = (u8)(ethertype >> 8);
	buf[13] = (u8)ethertype;
	memcpy(buf + ETH_HLEN, payload, len);
	if (frame < ETH_ZLEN) {
		memset(buf + frame, 0, ETH_ZLEN - frame);
		frame = ETH_ZLEN;
	}
	igb_tx_desc_fill(&vf->tx_ring[slot], vf->ops->dma_addr(vf->ctx, buf), frame);
	vf->tx_tail = next;
	/* Descriptor and buffer must be in memory before the tail moves. */
	__asm__ volatile("sfence" ::: "memory");
	wr(vf, IGB_VF_TDT, next);
	return 0;
}

unsigned igbvf_tx_clean(struct igbvf *vf)
{
	unsigned n = 0;

	while (vf->tx_clean != vf->tx_tail &&
	       (vf->tx_ring[vf->tx_clean].status & IGB_TXD_STAT_DD)) {
		vf->tx_clean = (vf->tx_clean + 1) % IGBVF_RING_LEN;
		n++;
	}
	vf->stats.tx_frames += n;
	return n;
}

int igbvf_tx_wait(struct igbvf *vf)
{
	u64 deadline = vf->ops->now_us(vf->ctx) + IGBVF_TX_TIMEOUT_US;

	for (;;) {
		igbvf_tx_clean(vf);
		if (vf->tx_clean == vf->tx_tail)
			return 0;
		if (vf->ops->now_us(vf->ctx) > deadline)
			return fail(vf, -ETIMEDOUT,
				    "descriptor %u not written back in %u us (TDH %u TDT %u)\n",
				    vf->tx_clean, IGBVF_TX_TIMEOUT_US, rd(vf, IGB_VF_TDH),
				    rd(vf, IGB_VF_TDT));
		vf->ops->idle(vf->ctx);
	}
}

int igbvf_recv(struct igbvf *vf, void *buf, unsigned size)
{
	unsigned slot = vf->rx_next;
	volatile union igb_rx_desc *d = &vf->rx_ring[slot];
	u32 staterr = d->wb.staterr;
	unsigned len;
	int ret;

	if (!(staterr & IGB_RXD_STAT_DD))
		return 0;
	__asm__ volatile("lfence" ::: "memory");
	len = d->wb.length;
	if (!(staterr & IGB_RXD_STAT_EOP) || (staterr & IGB_RXD_ERR_MASK) || len > IGBVF_BUF_SIZE) {
		vf->stats.rx_errors++;
		ret = fail(vf, -EIO, "receive descriptor %u: status %#x, length %u\n", slot,
			   staterr, len);
	} else {
		memcpy(buf, vf->rx_buf + slot * IGBVF_BUF_SIZE, MIN(len, size));
		vf->stats.rx_frames++;
		ret = (int)len;
	}
	rx_give(vf, slot);
	vf->rx_next = (slot + 1) % IGBVF_RING_LEN;
	__asm__ volatile("sfence" ::: "memory");
	wr(vf, IGB_VF_RDT, slot);
	return ret;
}

void igbvf_irq_enable(struct igbvf *vf)
{
	wr(vf, IGB_VF_IVAR0,
	   (u32)(FIELD_PREP(IGB_VF_IVAR0_RX, IGBVF_VEC_RX) | IGB_VF_IVAR0_RX_VALID |
		 FIELD_PREP(IGB_VF_IVAR0_TX, IGBVF_VEC_TX) | IGB_VF_IVAR0_TX_VALID));
	wr(vf, IGB_VF_IVAR_MISC,
	   (u32)(FIELD_PREP(IGB_VF_IVAR_MISC_MBX, IGBVF_VEC_MBX) | IGB_VF_IVAR_MISC_VALID));
	wr(vf, IGB_VF_EIAC, IGB_VF_EICR_VECTORS);
	wr(vf, IGB_VF_EIAM, IGB_VF_EICR_VECTORS);
	wr(vf, IGB_VF_EIMS, IGB_VF_EICR_VECTORS);
}

static u8 payload_byte(u32 seq, unsigned i)
{
	return (u8)(seq * 31u + i * 7u + (i >> 8));
}

void igbvf_payload_fill(u8 *p, unsigned len, u32 seq)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = i < 4 ? (u8)(seq >> (8 * i)) : payload_byte(seq, i);
}

long igbvf_payload_check(const u8 *p, unsigned len)
{
	u32 seq;

	if (len < 4)
		return -1;
	seq = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
	for (unsigned i = 4; i < len; i++)
		if (p[i] != payload_byte(seq, i))
			return -1;
	return seq;
}
