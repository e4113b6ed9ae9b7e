/* The VF driver (lib/igbvf.c) against a model of the 82576 VF's registers and a scripted PF:
 * the mailbox (buffer lock, read-to-clear bits, replies, NACKs, silence), the reset
 * handshake, ring programming, descriptor encoding, receive write-back and every bounded
 * wait timing out on the fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include <moat/igbvf.h>
#include "host_shim.h"

static u32 regs[0x4000 / 4];
static u8 mem[IGBVF_MEM_SIZE] __aligned(IGBVF_MEM_ALIGN);
static struct igbvf vf;
static u64 fake_us;
static char last_log[256];

/* The scripted PF. */
enum pf_mode { PF_ACK, PF_NACK, PF_SILENT, PF_WRONG_TYPE, PF_IN_RESET };
static struct {
	enum pf_mode mode;
	u8 mac[ETH_ALEN];
	u32 msg[IGB_MBX_WORDS];
	unsigned msgs, vf_resets, lock_taken_before_req;
	bool locked;
	bool device_writes_back; /* TX descriptors get DD */
} pf;

static void pf_answer(void)
{
	u32 type = (u32)FIELD_GET(IGB_MSG_TYPE, regs[IGB_VF_MBMEM / 4]);

	memcpy(pf.msg, &regs[IGB_VF_MBMEM / 4], sizeof(pf.msg));
	pf.msgs++;
	pf.lock_taken_before_req += pf.locked;
	regs[IGB_VF_MAILBOX / 4] |= IGB_VF_MAILBOX_PFACK;
	if (pf.mode == PF_SILENT)
		return;
	memset(&regs[IGB_VF_MBMEM / 4], 0, IGB_MBX_WORDS * 4);
	regs[IGB_VF_MBMEM / 4] = (pf.mode == PF_WRONG_TYPE ? type + 1 : type) |
				 (pf.mode == PF_NACK ? IGB_MSG_NACK : IGB_MSG_ACK);
	if (type == IGB_VF_RESET)
		igb_msg_put_mac(&regs[IGB_VF_MBMEM / 4], pf.mac);
	regs[IGB_VF_MAILBOX / 4] |= IGB_VF_MAILBOX_PFSTS;
}

static void device_transmit(void)
{
	volatile struct igb_tx_desc *ring = vf.tx_ring;

	while (regs[IGB_VF_TDH / 4] != regs[IGB_VF_TDT / 4]) {
		if (pf.device_writes_back)
			ring[regs[IGB_VF_TDH / 4]].status |= IGB_TXD_STAT_DD;
		regs[IGB_VF_TDH / 4] = (regs[IGB_VF_TDH / 4] + 1) % IGBVF_RING_LEN;
	}
}

static u32 model_rd(void *ctx, u32 reg)
{
	u32 v = regs[reg / 4];

	if (reg == IGB_VF_MAILBOX)
		regs[reg / 4] &=
			~(IGB_VF_MAILBOX_PFSTS | IGB_VF_MAILBOX_PFACK | IGB_VF_MAILBOX_RSTD);
	return v;
}

static void model_wr(void *ctx, u32 reg, u32 val)
{
	switch (reg) {
	case IGB_VF_MAILBOX:
		pf.locked = val & IGB_VF_MAILBOX_VFU;
		regs[reg / 4] = (regs[reg / 4] & ~IGB_VF_MAILBOX_VFU) | (val & IGB_VF_MAILBOX_VFU);
		if (val & IGB_VF_MAILBOX_REQ)
			pf_answer();
		return;
	case IGB_VF_CTRL:
		if (val & IGB_VF_CTRL_RST) {
			pf.vf_resets++;
			regs[IGB_VF_TXDCTL / 4] = regs[IGB_VF_RXDCTL / 4] = 0;
			regs[IGB_VF_MAILBOX / 4] |=
				pf.mode == PF_IN_RESET ? IGB_VF_MAILBOX_RSTI : 0;
		}
		return;
	case IGB_VF_TDT:
		regs[reg / 4] = val;
		device_transmit();
		return;
	default: regs[reg / 4] = val;
	}
}

static u64 model_dma(void *ctx, const void *p)
{
	return (u64)(uintptr_t)p;
}

static u64 model_now(void *ctx)
{
	return fake_us += 7;
}

static void model_idle(void *ctx) {}

static void model_log(void *ctx, const char *msg)
{
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static const struct igbvf_ops ops = {
	model_rd, model_wr, model_dma, model_now, model_idle, model_log,
};

static int setup(void **state)
{
	static const u8 mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x56, 0x11};

	memset(regs, 0, sizeof(regs));
	memset(mem, 0xa5, sizeof(mem));
	memset(&pf, 0, sizeof(pf));
	memcpy(pf.mac, mac, ETH_ALEN);
	pf.device_writes_back = true;
	last_log[0] = 0;
	assert_int_equal(igbvf_init(&vf, &ops, NULL, mem), 0);
	return 0;
}

static void test_init_alignment(void **state)
{
	struct igbvf v;

	assert_int_equal(igbvf_init(&v, &ops, NULL, mem + 64), -EINVAL);
	assert_non_null(strstr(last_log, "aligned"));
	assert_int_equal(igbvf_init(&v, &ops, NULL, NULL), -EINVAL);
}

static void test_reset_handshake(void **state)
{
	assert_int_equal(igbvf_reset(&vf), 0);
	assert_int_equal(pf.vf_resets, 1);
	assert_int_equal(pf.msgs, 1);
	assert_int_equal(pf.msg[0], IGB_VF_RESET);
	assert_int_equal(pf.lock_taken_before_req, 0); /* REQ written without VFU: released */
	assert_memory_equal(vf.mac, pf.mac, ETH_ALEN);
	/* The PF's message was acknowledged. */
	assert_true(regs[IGB_VF_MAILBOX / 4] == 0 ||
		    !(regs[IGB_VF_MAILBOX / 4] & IGB_VF_MAILBOX_VFU));
}

static void test_reset_refused_or_silent(void **state)
{
	u64 t0;

	pf.mode = PF_NACK;
	assert_int_equal(igbvf_reset(&vf), -EPERM);
	assert_non_null(strstr(last_log, "refused"));
	pf.mode = PF_WRONG_TYPE;
	assert_int_equal(igbvf_reset(&vf), -EBADMSG);
	pf.mode = PF_SILENT;
	t0 = fake_us;
	assert_int_equal(igbvf_reset(&vf), -ETIMEDOUT);
	assert_true(fake_us - t0 >= IGBVF_MBX_TIMEOUT_US &&
		    fake_us - t0 < 2 * IGBVF_MBX_TIMEOUT_US);
	assert_non_null(strstr(last_log, "no PF reply"));
	pf.mode = PF_IN_RESET;
	assert_int_equal(igbvf_reset(&vf), -ETIMEDOUT);
	assert_non_null(strstr(last_log, "still in reset"));
	assert_int_equal(pf.msgs, 3); /* nothing sent while the PF was in reset */
}

static void test_reset_bad_mac(void **state)
{
	static const u8 mcast[ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 1}, zero[ETH_ALEN];

	memcpy(pf.mac, mcast, ETH_ALEN);
	assert_int_equal(igbvf_reset(&vf), -EBADMSG);
	memcpy(pf.mac, zero, ETH_ALEN);
	assert_int_equal(igbvf_reset(&vf), -EBADMSG);
}

static void test_set_mac(void **state)
{
	static const u8 other[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x56, 0x10};

	assert_int_equal(igbvf_reset(&vf), 0);
	pf.mode = PF_NACK;
	assert_int_equal(igbvf_set_mac(&vf, other), -EPERM);
	assert_memory_equal(vf.mac, pf.mac, ETH_ALEN);
	assert_int_equal(vf.stats.mbx_nacks, 1);
	assert_int_equal(pf.msg[0], IGB_VF_SET_MAC_ADDR);
	assert_int_equal(pf.msg[1], 0x12005452u);
	assert_int_equal(pf.msg[2], 0x1056u);
	pf.mode = PF_ACK;
	assert_int_equal(igbvf_set_mac(&vf, other), 0);
	assert_memory_equal(vf.mac, other, ETH_ALEN);
}

static void test_mbx_bad_sizes(void **state)
{
	u32 msg[IGB_MBX_WORDS + 1] = {IGB_VF_SET_LPE}, reply[IGB_MBX_WORDS];

	assert_int_equal(igbvf_mbx_request(&vf, msg, 0, reply, 1), -EINVAL);
	assert_int_equal(igbvf_mbx_request(&vf, msg, IGB_MBX_WORDS + 1, reply, 1), -EINVAL);
	assert_int_equal(pf.msgs, 0);
}

static void test_up_programs_rings(void **state)
{
	u32 srrctl;

	assert_int_equal(igbvf_reset(&vf), 0);
	assert_int_equal(igbvf_up(&vf), 0);
	assert_int_equal(regs[IGB_VF_TDBAL / 4], (u32)(uintptr_t)vf.tx_ring);
	assert_int_equal(regs[IGB_VF_TDBAH / 4], (u32)((u64)(uintptr_t)vf.tx_ring >> 32));
	assert_int_equal(regs[IGB_VF_TDLEN / 4], IGBVF_RING_LEN * 16);
	assert_int_equal(regs[IGB_VF_RDBAL / 4], (u32)(uintptr_t)vf.rx_ring);
	assert_int_equal(regs[IGB_VF_RDLEN / 4], IGBVF_RING_LEN * 16);
	assert_int_equal(regs[IGB_VF_TDLEN / 4] % 128, 0);
	srrctl = regs[IGB_VF_SRRCTL / 4];
	assert_int_equal(FIELD_GET(IGB_SRRCTL_BSIZEPKT, srrctl), IGBVF_BUF_SIZE / 1024);
	assert_int_equal(FIELD_GET(IGB_SRRCTL_DESCTYPE, srrctl), IGB_SRRCTL_DESCTYPE_ADV_ONEBUF);
	assert_true(regs[IGB_VF_TXDCTL / 4] & IGB_TXDCTL_ENABLE);
	assert_true(regs[IGB_VF_RXDCTL / 4] & IGB_RXDCTL_ENABLE);
	assert_int_equal(regs[IGB_VF_RDT / 4], IGBVF_RING_LEN - 1);
	for (unsigned i = 0; i < IGBVF_RING_LEN; i++)
		assert_int_equal(vf.rx_ring[i].read.pkt_addr,
				 (u64)(uintptr_t)(vf.rx_buf + i * IGBVF_BUF_SIZE));
	/* Rings and buffers inside the caller's memory, not overlapping. */
	assert_true((u8 *)vf.rx_ring >= (u8 *)vf.tx_ring + IGBVF_RING_LEN * 16);
	assert_true(vf.rx_buf + IGBVF_RING_LEN * IGBVF_BUF_SIZE <= mem + sizeof(mem));
}

static void test_xmit_encoding(void **state)
{
	static const u8 dst[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	volatile struct igb_tx_desc *d = &vf.tx_ring[0];
	const u8 *buf;

	assert_int_equal(igbvf_reset(&vf), 0);
	assert_int_equal(igbvf_up(&vf), 0);
	assert_int_equal(igbvf_xmit(&vf, dst, 0x88b5, "hi", 2), 0);
	buf = (const u8 *)(uintptr_t)d->addr;
	assert_ptr_equal(buf, vf.tx_buf);
	assert_int_equal(FIELD_GET(IGB_TXD_LEN, d->cmd_len), ETH_ZLEN); /* padded */
	assert_int_equal(d->cmd_len & ~IGB_TXD_LEN,
			 IGB_TXD_CMD_EOP | IGB_TXD_CMD_IFCS | IGB_TXD_CMD_RS);
	assert_memory_equal(buf, dst, ETH_ALEN);
	assert_memory_equal(buf + 6, pf.mac, ETH_ALEN);
	assert_int_equal(buf[12], 0x88);
	assert_int_equal(buf[13], 0xb5);
	assert_memory_equal(buf + 14, "hi", 2);
	for (unsigned i = 16; i < ETH_ZLEN; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(regs[IGB_VF_TDT / 4], 1);
	assert_int_equal(igbvf_tx_wait(&vf), 0);
	assert_int_equal(vf.stats.tx_frames, 1);
	assert_int_equal(igbvf_xmit(&vf, dst, 0x88b5, mem, ETH_FRAME_MAX - ETH_HLEN + 1), -EINVAL);
}

static void test_xmit_ring_full_and_timeout(void **state)
{
	static const u8 dst[ETH_ALEN] = {2, 0, 0, 0, 0, 1};
	unsigned n = 0;

	assert_int_equal(igbvf_reset(&vf), 0);
	assert_int_equal(igbvf_up(&vf), 0);
	pf.device_writes_back = false;
	while (igbvf_xmit(&vf, dst, 0x88b5, "x", 1) == 0)
		n++;
	assert_int_equal(n, IGBVF_RING_LEN - 1);
	assert_int_equal(igbvf_xmit(&vf, dst, 0x88b5, "x", 1), -EBUSY);
	assert_int_equal(igbvf_tx_clean(&vf), 0);
	assert_int_equal(igbvf_tx_wait(&vf), -ETIMEDOUT);
	assert_non_null(strstr(last_log, "not written back"));
}

/* The device writes a frame back into slot `slot` as the advanced write-back format. */
static void device_receive(unsigned slot, const void *frame, u16 len, u32 staterr)
{
	volatile union igb_rx_desc *d = &vf.rx_ring[slot];

	memcpy((void *)(uintptr_t)d->read.pkt_addr, frame, len);
	d->wb.info = 0;
	d->wb.rss = 0;
	d->wb.length = len;
	d->wb.vlan = 0;
	d->wb.staterr = staterr;
}

static void test_recv(void **state)
{
	u8 frame[ETH_ZLEN], out[IGBVF_BUF_SIZE];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (u8)(i * 3);
	assert_int_equal(igbvf_reset(&vf), 0);
	assert_int_equal(igbvf_up(&vf), 0);
	memset((void *)vf.rx_ring, 0, 16); /* slot 0 not written yet: DD clear */
	vf.rx_ring[0].read.pkt_addr = (u64)(uintptr_t)vf.rx_buf;
	assert_int_equal(igbvf_recv(&vf, out, sizeof(out)), 0);
	device_receive(0, frame, sizeof(frame), IGB_RXD_STAT_DD | IGB_RXD_STAT_EOP);
	assert_int_equal(igbvf_recv(&vf, out, sizeof(out)), sizeof(frame));
	assert_memory_equal(out, frame, sizeof(frame));
	/* Slot 0 given back: buffer address restored, tail moved onto it. */
	assert_int_equal(vf.rx_ring[0].read.pkt_addr, (u64)(uintptr_t)vf.rx_buf);
	assert_int_equal(vf.rx_ring[0].read.hdr_addr, 0);
	assert_int_equal(regs[IGB_VF_RDT / 4], 0);
	assert_int_equal(vf.rx_next, 1);
	/* A frame with an error bit: reported, its buffer still given back. */
	device_receive(1, frame, sizeof(frame), IGB_RXD_STAT_DD | IGB_RXD_STAT_EOP | BIT(29));
	assert_int_equal(igbvf_recv(&vf, out, sizeof(out)), -EIO);
	assert_int_equal(vf.stats.rx_errors, 1);
	assert_int_equal(regs[IGB_VF_RDT / 4], 1);
	/* Without EOP (a frame spread over buffers, never set up here): an error too. */
	device_receive(2, frame, sizeof(frame), IGB_RXD_STAT_DD);
	assert_int_equal(igbvf_recv(&vf, out, sizeof(out)), -EIO);
	/* A copy never exceeds the caller's buffer. */
	memset(out, 0x77, sizeof(out));
	device_receive(3, frame, sizeof(frame), IGB_RXD_STAT_DD | IGB_RXD_STAT_EOP);
	assert_int_equal(igbvf_recv(&vf, out, 10), sizeof(frame));
	assert_int_equal(out[10], 0x77);
}

static void test_xmit_when_down(void **state)
{
	static const u8 dst[ETH_ALEN] = {2, 0, 0, 0, 0, 1};

	assert_int_equal(igbvf_xmit(&vf, dst, 0x88b5, "x", 1), -ENODEV);
}

static void test_irq_routing(void **state)
{
	igbvf_irq_enable(&vf);
	assert_int_equal(regs[IGB_VF_IVAR0 / 4], IGBVF_VEC_RX | IGB_VF_IVAR0_RX_VALID |
							 IGBVF_VEC_TX << 8 | IGB_VF_IVAR0_TX_VALID);
	assert_int_equal(regs[IGB_VF_IVAR_MISC / 4], IGBVF_VEC_MBX | IGB_VF_IVAR_MISC_VALID);
	assert_int_equal(regs[IGB_VF_EIMS / 4], 7);
	assert_int_equal(regs[IGB_VF_EIAC / 4], 7);
}

static void test_payload(void **state)
{
	u8 p[1500];

	igbvf_payload_fill(p, sizeof(p), 0x01020304);
	assert_int_equal(p[0], 0x04);
	assert_int_equal(p[3], 0x01);
	assert_int_equal(igbvf_payload_check(p, sizeof(p)), 0x01020304);
	p[777] ^= 1;
	assert_int_equal(igbvf_payload_check(p, sizeof(p)), -1);
	igbvf_payload_fill(p, 46, 5);
	assert_int_equal(igbvf_payload_check(p, 46), 5);
	igbvf_payload_fill(p, 46, 6);
	assert_int_equal(igbvf_payload_check(p, 46), 6);
	assert_int_equal(igbvf_payload_check(p, 3), -1);
}

static void test_mac_words(void **state)
{
	static const u8 mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	u32 msg[3] = {0};
	u8 back[ETH_ALEN];

	igb_msg_put_mac(msg, mac);
	assert_int_equal(msg[1], 0x12005452u);
	assert_int_equal(msg[2], 0x5634u);
	igb_msg_get_mac(msg, back);
	assert_memory_equal(back, mac, ETH_ALEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_alignment, setup),
		cmocka_unit_test_setup(test_reset_handshake, setup),
		cmocka_unit_test_setup(test_reset_refused_or_silent, setup),
		cmocka_unit_test_setup(test_reset_bad_mac, setup),
		cmocka_unit_test_setup(test_set_mac, setup),
		cmocka_unit_test_setup(test_mbx_bad_sizes, setup),
		cmocka_unit_test_setup(test_up_programs_rings, setup),
		cmocka_unit_test_setup(test_xmit_encoding, setup),
		cmocka_unit_test_setup(test_xmit_ring_full_and_timeout, setup),
		cmocka_unit_test_setup(test_recv, setup),
		cmocka_unit_test_setup(test_xmit_when_down, setup),
		cmocka_unit_test_setup(test_irq_routing, setup),
		cmocka_unit_test_setup(test_payload, setup),
		cmocka_unit_test_setup(test_mac_words, setup),
	};

	return cmocka_run_group_tests_name("igbvf", tests, NULL, NULL);
}
