/* 82576 (igb) virtual function: the VF's register file (its own BAR0), the PF/VF mailbox
 * message formats, the descriptors, and a freestanding VF driver (lib/igbvf.c) that the
 * hypervisor (natively, on CPU 0) and test guests (through passthrough) both link.
 * Register access, DMA addresses, time and logging come from the caller's igbvf_ops. */
#ifndef MOAT_IGBVF_H
#define MOAT_IGBVF_H

#include <moat/bits.h>
#include <moat/types.h>

#define IGB_VENDOR 0x8086
#define IGB_DEVICE_VF 0x10ca
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60	   /* shortest frame without FCS */
#define ETH_FRAME_MAX 1514 /* longest frame without FCS (no jumbo frames) */

/* ---- VF register file (BAR0, 16 KiB) ---- */
/* Device control (the VF's own). */
#define IGB_VF_CTRL 0x0000
#define IGB_VF_CTRL_RST BIT(26)
/* Device status (the device's, read-only). */
#define IGB_VF_STATUS 0x0008
#define IGB_VF_STATUS_LU BIT(1)
/* Extended interrupt cause, set, mask set/clear, auto clear, auto mask: one bit per MSI-X
 * vector (0-2). */
#define IGB_VF_EICS 0x1520
#define IGB_VF_EIMS 0x1524
#define IGB_VF_EIMC 0x1528
#define IGB_VF_EIAC 0x152c
#define IGB_VF_EIAM 0x1530
#define IGB_VF_EICR 0x1580
#define IGB_VF_EICR_VECTORS GENMASK(2, 0)
/* Interrupt vector allocation: which MSI-X vector a queue's events raise. */
#define IGB_VF_IVAR0 0x1700
#define IGB_VF_IVAR0_RX GENMASK(1, 0)
#define IGB_VF_IVAR0_RX_VALID BIT(7)
#define IGB_VF_IVAR0_TX GENMASK(9, 8)
#define IGB_VF_IVAR0_TX_VALID BIT(15)
#define IGB_VF_IVAR_MISC 0x1740
#define IGB_VF_IVAR_MISC_MBX GENMASK(1, 0)
#define IGB_VF_IVAR_MISC_VALID BIT(7)
/* Mailbox memory: 16 dwords shared with the PF. */
#define IGB_VF_MBMEM 0x0800
#define IGB_MBX_WORDS 16
/* VF-to-PF mailbox control. PFSTS, PFACK and RSTD clear when read. */
#define IGB_VF_MAILBOX 0x0c40
#define IGB_VF_MAILBOX_REQ BIT(0)   /* message for the PF */
#define IGB_VF_MAILBOX_ACK BIT(1)   /* PF's message received */
#define IGB_VF_MAILBOX_VFU BIT(2)   /* VF owns the buffer */
#define IGB_VF_MAILBOX_PFU BIT(3)   /* PF owns the buffer */
#define IGB_VF_MAILBOX_PFSTS BIT(4) /* PF wrote a message */
#define IGB_VF_MAILBOX_PFACK BIT(5) /* PF took the VF's message */
#define IGB_VF_MAILBOX_RSTI BIT(6)  /* PF in reset */
#define IGB_VF_MAILBOX_RSTD BIT(7)  /* PF reset done */
/* Receive queue 0 of the VF. */
#define IGB_VF_RDBAL 0x2800
#define IGB_VF_RDBAH 0x2804
#define IGB_VF_RDLEN 0x2808
#define IGB_VF_SRRCTL 0x280c
#define IGB_SRRCTL_BSIZEPKT GENMASK(6, 0) /* buffer size, 1 KiB units */
#define IGB_SRRCTL_DESCTYPE GENMASK(27, 25)
#define IGB_SRRCTL_DESCTYPE_ADV_ONEBUF 1
#define IGB_SRRCTL_DROP_EN BIT(31)
#define IGB_VF_RDH 0x2810
#define IGB_VF_RDT 0x2818
#define IGB_VF_RXDCTL 0x2828
#define IGB_RXDCTL_ENABLE BIT(25)
/* Transmit queue 0 of the VF. */
#define IGB_VF_TDBAL 0x3800
#define IGB_VF_TDBAH 0x3804
#define IGB_VF_TDLEN 0x3808
#define IGB_VF_TDH 0x3810
#define IGB_VF_TDT 0x3818
#define IGB_VF_TXDCTL 0x3828
#define IGB_TXDCTL_ENABLE BIT(25)
/* Head write-back: with HEAD_WB_EN the device stores the 4-byte head index at this
 * dword-aligned address after each descriptor with RS, instead of writing DD back. */
#define IGB_VF_TDWBAL 0x3838
#define IGB_TDWBAL_HEAD_WB_EN BIT(0)
#define IGB_TDWBAL_ADDR GENMASK(31, 2)
#define IGB_VF_TDWBAH 0x383c

/* MSI-X vectors the driver uses (the VF has 3). */
#define IGBVF_VEC_RX 0
#define IGBVF_VEC_TX 1
#define IGBVF_VEC_MBX 2
#define IGBVF_NR_VECTORS 3

/* ---- mailbox messages (word 0), both directions ---- */
#define IGB_MSG_TYPE GENMASK(15, 0)
#define IGB_MSG_INFO GENMASK(23, 16)
#define IGB_MSG_CTS BIT(29) /* reset handshake done: other requests are served */
#define IGB_MSG_NACK BIT(30)
#define IGB_MSG_ACK BIT(31)
enum igb_vf_msg {
	IGB_VF_RESET = 0x01,	     /* reply: ACK, MAC in words 1-2 */
	IGB_VF_SET_MAC_ADDR = 0x02,  /* MAC in words 1-2; INFO: enum igb_mac_filter */
	IGB_VF_SET_MULTICAST = 0x03, /* INFO = count, 16-bit hashes from word 1 */
	IGB_VF_SET_VLAN = 0x04,	     /* INFO 1 = add, 0 = remove; VID in word 1 */
	IGB_VF_SET_LPE = 0x05,	     /* word 1 = longest frame */
	IGB_VF_SET_PROMISC = 0x06,
};
/* Set-MAC's INFO: 0 sets the VF's address; Linux's igbvf (since 4.11) also sends its
 * unicast filter list: a clear, then one add per address. */
enum igb_mac_filter {
	IGB_MAC_FILTER_NONE = 0,
	IGB_MAC_FILTER_CLR = 1,
	IGB_MAC_FILTER_ADD = 2,
};
#define IGB_MSG_VLAN_ADD 1		/* INFO of IGB_VF_SET_VLAN */
#define IGB_MSG_VLAN_VID GENMASK(11, 0) /* word 1 of IGB_VF_SET_VLAN */
#define IGB_RESET_REPLY_WORDS 3
/* moat's PF serves at most IGB_MBX_BUDGET messages of one VF per IGB_MBX_WINDOW_US; the
 * rest wait (their request stays pending) for the next window, well inside a VF driver's
 * reply timeout (IGBVF_MBX_TIMEOUT_US). */
#define IGB_MBX_BUDGET 8
#define IGB_MBX_WINDOW_US 20000

/* A MAC in mailbox words 1-2: bytes in order from the low byte of word 1. */
static inline void igb_msg_put_mac(u32 *msg, const u8 mac[ETH_ALEN])
{
	msg[1] = (u32)mac[0] | (u32)mac[1] << 8 | (u32)mac[2] << 16 | (u32)mac[3] << 24;
	msg[2] = (u32)mac[4] | (u32)mac[5] << 8;
}

static inline void igb_msg_get_mac(const u32 *msg, u8 mac[ETH_ALEN])
{
	for (unsigned i = 0; i < ETH_ALEN; i++)
		mac[i] = (u8)(msg[1 + i / 4] >> (8 * (i % 4)));
}

/* ---- descriptors ---- */
/* Legacy transmit descriptor (the device writes DD back into status). */
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

/* Advanced receive descriptor, one buffer: the driver writes the read format, the device
 * overwrites the whole descriptor with the write-back format. */
union igb_rx_desc {
	struct {
		u64 pkt_addr;
		u64 hdr_addr;
	} read;
	struct {
		u32 info;
		u32 rss;
		u32 staterr;
		u16 length;
		u16 vlan;
	} wb;
} __packed;
SIZE_CHECK(union igb_rx_desc, 16);
#define IGB_RXD_STAT_DD BIT(0)
#define IGB_RXD_STAT_EOP BIT(1)
#define IGB_RXD_ERR_MASK GENMASK(31, 20)

/* Transmit descriptor for one whole frame of len bytes at bus address addr. */
static inline void igb_tx_desc_fill(volatile struct igb_tx_desc *d, u64 addr, unsigned len)
{
	d->addr = addr;
	d->cmd_len = (u32)(FIELD_PREP(IGB_TXD_LEN, len) | IGB_TXD_CMD_EOP | IGB_TXD_CMD_IFCS |
			   IGB_TXD_CMD_RS);
	d->status = 0;
}

/* ---- the driver ---- */
struct igbvf_ops {
	u32 (*rd)(void *ctx, u32 reg);
	void (*wr)(void *ctx, u32 reg, u32 val);
	/* Bus address the device must use for the driver's memory at p. */
	u64 (*dma_addr)(void *ctx, const void *p);
	u64 (*now_us)(void *ctx);
	/* Called while waiting on the PF (natively: serve the PF's mailbox; in a guest: pause). */
	void (*idle)(void *ctx);
	void (*log)(void *ctx, const char *msg);
};

#define IGBVF_RING_LEN 32 /* descriptors per ring (multiple of 8) */
#define IGBVF_BUF_SIZE 2048
#define IGBVF_MEM_SIZE (4096 + 2 * IGBVF_RING_LEN * IGBVF_BUF_SIZE)
#define IGBVF_MEM_ALIGN 4096
#define IGBVF_MBX_TIMEOUT_US 1000000
#define IGBVF_RESET_TIMEOUT_US 100000
#define IGBVF_TX_TIMEOUT_US 200000

struct igbvf_stats {
	u64 tx_frames, rx_frames, rx_errors, mbx_msgs, mbx_nacks;
};

struct igbvf {
	const struct igbvf_ops *ops;
	void *ctx;
	u8 mac[ETH_ALEN];
	bool up;
	/* Rings and buffers inside the caller's IGBVF_MEM_SIZE area. */
	u8 *mem;
	volatile struct igb_tx_desc *tx_ring;
	volatile union igb_rx_desc *rx_ring;
	u8 *tx_buf, *rx_buf;
	unsigned tx_tail, tx_clean, rx_next;
	struct igbvf_stats stats;
	char last_error[160];
};

/* Binds the driver to a VF and its memory (IGBVF_MEM_SIZE bytes, IGBVF_MEM_ALIGN aligned). */
int igbvf_init(struct igbvf *vf, const struct igbvf_ops *ops, void *ctx, void *mem);
/* VF reset (CTRL.RST), then the reset handshake with the PF: the MAC it assigned. */
int igbvf_reset(struct igbvf *vf);
/* One request to the PF and its reply; -EPERM when the PF refused (NACK). */
int igbvf_mbx_request(struct igbvf *vf, const u32 *msg, unsigned words, u32 *reply,
		      unsigned reply_words);
int igbvf_set_mac(struct igbvf *vf, const u8 mac[ETH_ALEN]);
/* Rings programmed and queues enabled (after igbvf_reset). */
int igbvf_up(struct igbvf *vf);
/* Stops both queues and resets the VF (the PF sees the function reset). */
void igbvf_down(struct igbvf *vf);
/* Queues one frame: dst, the VF's own MAC, ethertype, payload (padded to ETH_ZLEN).
 * -EBUSY when the ring is full (call igbvf_tx_clean). */
int igbvf_xmit(struct igbvf *vf, const u8 dst[ETH_ALEN], u16 ethertype, const void *payload,
	       unsigned len);
/* Frames the device has written back since the last call (descriptors with DD). */
unsigned igbvf_tx_clean(struct igbvf *vf);
/* Waits until every queued frame is written back (bounded). */
int igbvf_tx_wait(struct igbvf *vf);
/* The next received frame: its length (frame copied into buf, at most size bytes), 0 when
 * none is there, negative on a receive error. The buffer goes back to the device. */
int igbvf_recv(struct igbvf *vf, void *buf, unsigned size);
/* Interrupt routing: RX, TX and mailbox events to MSI-X vectors 0, 1, 2, unmasked and
 * auto-cleared (the VF's EICR is not set by queue events under QEMU: only the MSI-X message
 * tells that an interrupt happened). */
void igbvf_irq_enable(struct igbvf *vf);

/* The data path benchmark, the same natively (pci/pf/igbvf_native.c, self-test igbvf:
 * native-bulk) and between two guests (guests/lib/vf_suite.c, the bench guest): frames per
 * size, the sizes (Ethernet header included, FCS not), and the most frames sent but not yet
 * known received (below what the receive ring holds, so none is dropped for want of a
 * buffer). */
#define IGBVF_BENCH_ETHERTYPE 0x88b5 /* IEEE local experimental */
#define IGBVF_BENCH_FRAMES 1000
#define IGBVF_BENCH_SIZES 64, 512, 1514 /* an initializer list */
#define IGBVF_BENCH_IN_FLIGHT (IGBVF_RING_LEN - 8)

/* Test traffic (native bench, guests' bulk test): a 4-byte little-endian sequence number,
 * then bytes that depend on it and on their position. */
void igbvf_payload_fill(u8 *p, unsigned len, u32 seq);
/* The sequence number of a well-formed payload of len bytes, or -1. */
long igbvf_payload_check(const u8 *p, unsigned len);

#endif
