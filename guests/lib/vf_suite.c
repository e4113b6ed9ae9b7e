/* The `vf` suite: the guest's own 82576 VF, seen through moat's virtual config space at
 * 00:01.0 and driven by lib/igbvf.c with DMA to guest-physical addresses (moat's IOMMU
 * domain for the guest maps exactly its RAM). Two guests find each other with broadcast
 * hellos, then exchange frames both ways with a window and acknowledgements, so no frame
 * can be dropped for want of a receive buffer: every loss is a failure.
 *
 * The bench guest uses the same setup for the data path measurement (vf_dataplane_bench):
 * one direction, fixed sizes, as moat's native bench does it. */
#include <moat/errno.h>
#include <moat/igbvf.h>
#include "guests/lib/guest.h"
#include "guests/lib/vf_dev.h"

#define HELLO_ETHERTYPE 0x88b6 /* control frames: hello and ack */
#define DATA_ETHERTYPE IGBVF_BENCH_ETHERTYPE
#define HELLO_INTERVAL_US 20000
/* Partners reach this test up to seconds apart on a loaded host (4 s was seen to be too
 * short at load 7); a guest without one pays the wait once. */
#define HELLO_TIMEOUT_S 12
#define HELLO_TIMEOUT_US (HELLO_TIMEOUT_S * 1000000ull)
#define STR_(x) #x
#define STR(x) STR_(x)
/* Once the peer's hello arrived it runs: waiting longer for it to hear ours costs nothing
 * where there is no partner, and a loaded host can hold its vCPU off for seconds. */
#define HELLO_HEARD_TIMEOUT_US 20000000
#define BULK_FRAMES 2000
#define BULK_WINDOW 16
#define BULK_ACK_EVERY 8
#define BULK_STALL_US                                                                              \
	10000000 /* no progress for this long: the peer is gone (a loaded host stalls vCPUs for    \
		    seconds) */

static const u8 broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const char hello_magic[8] = "moatHELO";
static const char ack_magic[8] = "moatACK.";
static const char ping_magic[8] = "moatPING";
static const char ready_magic[8] = "moatRDY.";
static const char bench_ack_magic[8] = "moatBACK";
static const char flr_magic[8] = "moatFLR.";
static const char ping2_magic[8] = "moatPNG2";

struct ctl_frame {
	char magic[8];
	u32 value; /* hello: 1 when the sender has heard us; ack: frames received */
	u32 id;	   /* the sender's guest id; bench ack: bad frames */
	char name[24];
} __packed;

static u8 vf_mem[IGBVF_MEM_SIZE] __aligned(IGBVF_MEM_ALIGN);
static u8 rx_frame[IGBVF_BUF_SIZE], tx_payload[ETH_FRAME_MAX];

static struct {
	struct igbvf drv;
	bool probed, reset, up;
	/* the peer */
	bool peer_known, peer_heard_us;
	u8 peer[ETH_ALEN];
	char peer_name[24];
	/* vf-msix: the peer has taken its interrupt */
	bool peer_got_irq;
	/* vf-flr: the peer's frame after its reset arrived, it heard ours, it took an
	 * interrupt again */
	bool flr_peer_seen, flr_peer_heard_us, peer_got_irq2;
	/* bulk */
	u32 sent, acked, received, bad, last_bad_seq;
	/* dataplane bench: frame size of the batch under way (0: none), the size the receiver
	 * said it is ready for, and the bad frames its last acknowledgement counted */
	unsigned dp_size, dp_ready;
	u32 dp_peer_bad;
	/* what arrived at all, for a vf-dma-rx that found no partner: frames, our own
	 * broadcasts looped back, hellos, and the last hello's sender id */
	u32 rx_frames, rx_own, rx_hellos, rx_last_hello_id;
} vf;

static void test_probe(void)
{
	u32 id, class, msix0 = 0, msix1 = 0;
	u8 msix, pcie;

	test_begin("vf", "vf-probe");
	id = vf_cfg_read(CFG_ID);
	class = (u32)FIELD_GET(CFG_CLASS, vf_cfg_read(CFG_CLASS_REV));
	check(id == (IGB_VENDOR | (u32)IGB_DEVICE_VF << 16), "00:01.0 ID %#x", id);
	check(class == CLASS_ETHERNET, "class %#x", class);
	check(vf_cfg_read(CFG_COMMAND) & CFG_STATUS_CAP_LIST, "no capability list");
	vf_dev.bar0 = vf_bar_address(0);
	check(vf_dev.bar0 && vf_dev.bar0 + VF_BAR0_SIZE <= 4 * GiB &&
		      !(vf_dev.bar0 & (VF_BAR0_SIZE - 1)),
	      "BAR0 at %#llx", (unsigned long long)vf_dev.bar0);
	check(vf_bar_size(0) == VF_BAR0_SIZE, "BAR0 size %#x", vf_bar_size(0));
	check(vf_bar_address(0) == vf_dev.bar0, "BAR0 moved by sizing: %#llx",
	      (unsigned long long)vf_bar_address(0));
	check(vf_bar_address(VF_MSIX_BAR) != 0, "no MSI-X BAR%u", VF_MSIX_BAR);
	pcie = vf_find_cap(CAP_ID_PCIE);
	msix = vf_find_cap(CAP_ID_MSIX);
	check(pcie, "no PCI Express capability");
	check(msix, "no MSI-X capability");
	if (msix) {
		msix0 = vf_cfg_read(msix);
		msix1 = vf_cfg_read((u16)(msix + 4));
	}
	check(FIELD_GET(MSIX_CTRL_SIZE, msix0) + 1 == IGBVF_NR_VECTORS, "MSI-X table of %llu",
	      (unsigned long long)FIELD_GET(MSIX_CTRL_SIZE, msix0) + 1);
	check(FIELD_GET(MSIX_TABLE_BIR, msix1) == VF_MSIX_BAR, "MSI-X table in BAR%llu",
	      (unsigned long long)FIELD_GET(MSIX_TABLE_BIR, msix1));
	check(guest_info.tsc_khz >= 1000, "TSC frequency unknown (%u kHz)", guest_info.tsc_khz);
	vf.probed = vf_dev_enable() == 0;
	if (vf.probed) {
		check((vf_cfg_read(CFG_COMMAND) & (CFG_COMMAND_MEMORY | CFG_COMMAND_MASTER)) ==
			      (CFG_COMMAND_MEMORY | CFG_COMMAND_MASTER),
		      "memory decode / bus master not on (%#x)", vf_cfg_read(CFG_COMMAND));
	}
	test_end();
}

static void test_reset(void)
{
	int err;

	test_begin("vf", "vf-reset-mailbox");
	if (!vf.probed) {
		test_skip("VF not probed");
		test_end();
		return;
	}
	err = igbvf_init(&vf.drv, &vf_dev_ops, NULL, vf_mem);
	if (!err)
		err = igbvf_reset(&vf.drv);
	check(err == 0, "reset handshake failed (%d): %s", err, vf.drv.last_error);
	if (!err) {
		const u8 *m = vf.drv.mac;

		check(!(m[0] & 1) && (m[0] & 2),
		      "MAC %02x:%02x:%02x:%02x:%02x:%02x not a locally administered unicast "
		      "address",
		      m[0], m[1], m[2], m[3], m[4], m[5]);
		guest_printf("VF MAC %02x:%02x:%02x:%02x:%02x:%02x from the PF\n", m[0], m[1], m[2],
			     m[3], m[4], m[5]);
		vf.reset = true;
	}
	test_end();
}

/* ---- frames */
static int send_ctl_id(const u8 *dst, const char magic[8], u32 value, u32 id)
{
	struct ctl_frame c;
	u64 deadline = vf_now_us() + IGBVF_TX_TIMEOUT_US;
	int err;

	memset(&c, 0, sizeof(c));
	memcpy(c.magic, magic, sizeof(c.magic));
	c.value = value;
	c.id = id;
	memcpy(c.name, guest_info.name, sizeof(c.name));
	while ((err = igbvf_xmit(&vf.drv, dst, HELLO_ETHERTYPE, &c, sizeof(c))) == -EBUSY) {
		igbvf_tx_clean(&vf.drv);
		if (vf_now_us() > deadline)
			return -ETIMEDOUT;
	}
	return err;
}

static int send_ctl(const u8 *dst, const char magic[8], u32 value)
{
	return send_ctl_id(dst, magic, value, guest_info.id);
}

/* Guests pair up by id: 1 with 2, 3 with 4, ... whichever of them run suite vf. */
static u32 partner_id(void)
{
	return guest_info.id & 1 ? guest_info.id + 1 : guest_info.id - 1;
}

static void on_ctl(const u8 *f, unsigned len)
{
	const struct ctl_frame *c = (const void *)(f + ETH_HLEN);

	if (len < ETH_HLEN + sizeof(*c))
		return;
	if (!memcmp(c->magic, hello_magic, sizeof(c->magic))) {
		if (!vf.peer_known && c->id == partner_id()) {
			memcpy(vf.peer, f + ETH_ALEN, ETH_ALEN);
			memcpy(vf.peer_name, c->name, sizeof(vf.peer_name));
			vf.peer_name[sizeof(vf.peer_name) - 1] = 0;
			vf.peer_known = true;
		}
		if (!memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN) && c->value)
			vf.peer_heard_us = true;
	} else if (!memcmp(c->magic, ping_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN)) {
		vf.peer_got_irq |= c->value != 0;
	} else if (!memcmp(c->magic, flr_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN)) {
		vf.flr_peer_seen = true;
		vf.flr_peer_heard_us |= c->value != 0;
	} else if (!memcmp(c->magic, ping2_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN)) {
		vf.peer_got_irq2 |= c->value != 0;
	} else if (!memcmp(c->magic, ack_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN) && c->value > vf.acked) {
		vf.acked = c->value;
	} else if (!memcmp(c->magic, ready_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN)) {
		vf.dp_ready = c->value;
	} else if (!memcmp(c->magic, bench_ack_magic, sizeof(c->magic)) &&
		   !memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN) && c->value > vf.acked) {
		vf.acked = c->value;
		vf.dp_peer_bad = c->id;
	}
}

static unsigned bulk_size(u32 seq)
{
	return ETH_ZLEN + (seq * 97u) % (ETH_FRAME_MAX - ETH_ZLEN + 1);
}

/* The next data frame must be number `received`, of its size (the device may append the
 * 4-byte FCS), with its payload intact. */
static void on_data(const u8 *f, int len)
{
	unsigned size = bulk_size(vf.received);

	vf.peer_heard_us = true; /* it has left its hello phase */
	if (len < (int)size || len > (int)size + 4 ||
	    igbvf_payload_check(f + ETH_HLEN, size - ETH_HLEN) != (long)vf.received) {
		vf.bad++;
		vf.last_bad_seq = vf.received;
	}
	vf.received++;
	if (vf.received % BULK_ACK_EVERY == 0 || vf.received == BULK_FRAMES)
		send_ctl(vf.peer, ack_magic, vf.received);
}

/* A dataplane bench frame, checked as the native bench checks it (pci/pf/igbvf_native.c):
 * addressed to us from the peer, the bench ethertype, the batch's size (the device may
 * append the 4-byte FCS), the payload intact and in sequence. Acknowledged every
 * BULK_ACK_EVERY frames and at the last, with the bad frames counted so far. */
static void on_bench_data(const u8 *f, int len)
{
	unsigned size = vf.dp_size;

	if (len < (int)size || len > (int)size + 4 || memcmp(f, vf.drv.mac, ETH_ALEN) ||
	    memcmp(f + ETH_ALEN, vf.peer, ETH_ALEN) ||
	    igbvf_payload_check(f + ETH_HLEN, size - ETH_HLEN) != (long)vf.received) {
		if (!vf.bad)
			vf.last_bad_seq = vf.received;
		vf.bad++;
	}
	vf.received++;
	if (vf.received % BULK_ACK_EVERY == 0 || vf.received == IGBVF_BENCH_FRAMES)
		send_ctl_id(vf.peer, bench_ack_magic, vf.received, vf.bad);
}

/* Everything that arrived: hellos, acks and data from the peer; our own broadcasts and
 * strangers' frames are dropped. */
static void poll_rx(void)
{
	int len;

	while ((len = igbvf_recv(&vf.drv, rx_frame, sizeof(rx_frame))) != 0) {
		u16 type;

		if (len < 0) {
			vf.bad++;
			continue;
		}
		vf.rx_frames++;
		if (len < ETH_ZLEN || !memcmp(rx_frame + ETH_ALEN, vf.drv.mac, ETH_ALEN)) {
			vf.rx_own++;
			continue;
		}
		type = (u16)(rx_frame[12] << 8 | rx_frame[13]);
		if (type == HELLO_ETHERTYPE) {
			vf.rx_hellos++;
			if ((unsigned)len >= ETH_HLEN + sizeof(struct ctl_frame))
				vf.rx_last_hello_id =
					((const struct ctl_frame *)(rx_frame + ETH_HLEN))->id;
			on_ctl(rx_frame, (unsigned)len);
		} else if (type == DATA_ETHERTYPE && vf.dp_size)
			on_bench_data(rx_frame, len);
		else if (type == DATA_ETHERTYPE && vf.peer_known &&
			 !memcmp(rx_frame, vf.drv.mac, ETH_ALEN) &&
			 !memcmp(rx_frame + ETH_ALEN, vf.peer, ETH_ALEN))
			on_data(rx_frame, len);
	}
	igbvf_tx_clean(&vf.drv);
}

/* The first hello goes out: the device fetched it by DMA from guest RAM and wrote its
 * descriptor back (DD) into guest RAM, both through moat's IOMMU domain for this guest. */
static void test_dma_tx(void)
{
	unsigned slot;
	int err;

	test_begin("vf", "vf-dma-tx");
	if (!vf.reset) {
		test_skip("VF reset handshake failed");
		test_end();
		return;
	}
	err = igbvf_up(&vf.drv);
	check(err == 0, "queues not up (%d): %s", err, vf.drv.last_error);
	if (err) {
		test_end();
		return;
	}
	vf.up = true;
	slot = vf.drv.tx_tail;
	err = send_ctl(broadcast, hello_magic, 0);
	check(err == 0, "hello not queued (%d)", err);
	err = igbvf_tx_wait(&vf.drv);
	check(err == 0, "hello not written back (%d): %s", err, vf.drv.last_error);
	check(vf.drv.tx_ring[slot].status & IGB_TXD_STAT_DD, "descriptor %u status %#x", slot,
	      vf.drv.tx_ring[slot].status);
	test_end();
}

/* Hellos until the peer's hello arrives (DMA into guest RAM through the NIC's switch) and
 * it has heard ours. */
static void test_dma_rx(void)
{
	u64 start, last = 0;

	test_begin("vf", "vf-dma-rx");
	if (!vf.up) {
		test_skip("VF queues not up");
		test_end();
		return;
	}
	start = vf_now_us();
	while (!(vf.peer_known && vf.peer_heard_us) &&
	       vf_now_us() - start < (vf.peer_known ? HELLO_HEARD_TIMEOUT_US : HELLO_TIMEOUT_US)) {
		if (vf_now_us() - last > HELLO_INTERVAL_US) {
			send_ctl(broadcast, hello_magic, vf.peer_known);
			last = vf_now_us();
		}
		poll_rx();
	}
	if (!vf.peer_known) {
		/* Whether a partner runs depends on the configuration; the reference runs
		 * require this test to pass (tests/emu/matrix.py). */
		guest_printf("vf-dma-rx: %u frames arrived (%u our own, %u hellos, the last from "
			     "id %u), %u bad; partner id %u\n",
			     vf.rx_frames, vf.rx_own, vf.rx_hellos, vf.rx_last_hello_id, vf.bad,
			     partner_id());
		test_skip("no hello from a partner guest (id pairs 1-2, 3-4, ...) in " STR(
			HELLO_TIMEOUT_S) " s");
		test_end();
		return;
	}
	check(vf.peer_heard_us, "peer %s never heard our hello", vf.peer_name);
	check(vf.peer_known && vf.peer_name[0] && strcmp(vf.peer_name, guest_info.name),
	      "hello payload names \"%s\"", vf.peer_name);
	if (vf.peer_known) {
		/* The peer may still wait for a hello that says we heard it. */
		send_ctl(vf.peer, hello_magic, 1);
		guest_printf("peer %s at %02x:%02x:%02x:%02x:%02x:%02x\n", vf.peer_name, vf.peer[0],
			     vf.peer[1], vf.peer[2], vf.peer[3], vf.peer[4], vf.peer[5]);
	}
	test_end();
}

/* Both ways at once, BULK_WINDOW frames ahead of the peer's acks. */
static int bulk_exchange(void)
{
	u64 last_progress = vf_now_us();

	while (vf.acked < BULK_FRAMES || vf.received < BULK_FRAMES) {
		u32 before = vf.sent + vf.acked + vf.received;

		if (vf.sent < BULK_FRAMES && vf.sent - vf.acked < BULK_WINDOW) {
			unsigned plen = bulk_size(vf.sent) - ETH_HLEN;

			igbvf_payload_fill(tx_payload, plen, vf.sent);
			if (igbvf_xmit(&vf.drv, vf.peer, DATA_ETHERTYPE, tx_payload, plen) == 0)
				vf.sent++;
		}
		poll_rx();
		if (vf.sent + vf.acked + vf.received != before)
			last_progress = vf_now_us();
		else if (vf_now_us() - last_progress > BULK_STALL_US)
			return -ETIMEDOUT;
	}
	return igbvf_tx_wait(&vf.drv);
}

static void test_bulk(struct moat_guest_exits *before, struct moat_guest_exits *after,
		      bool *counted)
{
	u64 t0, us;
	int err;

	test_begin("vf", "vf-bulk");
	if (!vf.peer_known || !vf.peer_heard_us) {
		test_skip("no peer guest found (see vf-dma-rx)");
		test_end();
		return;
	}
	*counted = hypercall(HC_GET_EXITS, (u64)(uintptr_t)before, 0, 0) == 0;
	t0 = vf_now_us();
	err = bulk_exchange();
	us = vf_now_us() - t0;
	*counted = *counted && hypercall(HC_GET_EXITS, (u64)(uintptr_t)after, 0, 0) == 0;
	check(err == 0, "stalled (%d): sent %u acked %u received %u", err, vf.sent, vf.acked,
	      vf.received);
	check(vf.received == BULK_FRAMES && vf.acked == BULK_FRAMES,
	      "received %u of %u, %u acknowledged", vf.received, BULK_FRAMES, vf.acked);
	check(vf.bad == 0, "%u frames bad (first at %u)", vf.bad, vf.last_bad_seq);
	guest_printf("bench guest: %u frames each way (60..1514 bytes) with %s in %llu us\n",
		     BULK_FRAMES, vf.peer_name, (unsigned long long)us);
	test_end();
}

/* Between the two counts lies only the bulk transfer (and the second hypercall itself):
 * no exit of any other reason, and no nested page faults (MSI-X table writes would be the
 * only allowed ones; the bulk transfer polls and writes none). */
static void test_no_exits(const struct moat_guest_exits *before,
			  const struct moat_guest_exits *after, bool counted)
{
	test_begin("vf", "no-exits-datapath");
	if (!vf.peer_known || !vf.peer_heard_us) {
		test_skip("no bulk transfer ran (see vf-dma-rx)");
		test_end();
		return;
	}
	if (!guest_test_hypercalls()) {
		test_skip(NO_TEST_HYPERCALLS " (HC_GET_EXITS)");
		test_end();
		return;
	}
	check(counted, "HC_GET_EXITS failed");
	for (unsigned r = 0; counted && r < MOAT_EXIT_REASONS; r++) {
		u64 d = after->by_reason[r] - before->by_reason[r];
		u64 allowed = r == MOAT_EXIT_HYPERCALL ? 1 : 0;

		check(d == allowed, "%llu exits of reason %u during the transfer",
		      (unsigned long long)d, r);
	}
	test_end();
}

/* ---- the data path measurement (the bench guest; tests/bench/bench.py)
 *
 * One direction, the guest with the odd id sending to its partner, IGBVF_BENCH_FRAMES frames
 * of each of IGBVF_BENCH_SIZES, never more than IGBVF_BENCH_IN_FLIGHT frames ahead of the
 * receiver's acknowledgements, every frame checked: what moat's native bench does on CPU 0
 * (pci/pf/igbvf_native.c), except that a guest learns what its peer received from the
 * peer's acknowledgements (one frame back per BULK_ACK_EVERY) instead of from memory.
 * Each batch starts when the receiver says it is ready for that size and ends with the
 * acknowledgement of the last frame; the sender's TSC times it. Both read their exit
 * counters around their part of the batch. Lines for tests/bench/bench.py:
 *
 *   bench guest: role=send size=<bytes> frames=<n> ticks=<TSC ticks> tsc_khz=<kHz>
 *   bench guest: role=receive size=<bytes> frames=<n> received=<n> bad=<n>
 *   bench guest exits: role=<send|receive> size=<bytes> by-reason=<n0>,<n1>,...
 *
 * The sender prints its line only for a whole, clean batch. */
#define DP_READY_TIMEOUT_US 4000000

static bool dp_sender(void)
{
	return guest_info.id < partner_id();
}

static bool dp_read_exits(struct moat_guest_exits *x)
{
	return hypercall(HC_GET_EXITS, (u64)(uintptr_t)x, 0, 0) == 0;
}

/* The exits between the two readings by reason (index = MOAT_EXIT_*), without the
 * HC_GET_EXITS that took the second reading. */
static void dp_print_exits(const char *role, unsigned size, const struct moat_guest_exits *b,
			   const struct moat_guest_exits *a)
{
	char list[MOAT_EXIT_REASONS * 21 + 1];
	unsigned n = 0;

	for (unsigned r = 0; r < MOAT_EXIT_REASONS && n < sizeof(list); r++) {
		u64 d = a->by_reason[r] - b->by_reason[r] - (r == MOAT_EXIT_HYPERCALL);

		n += (unsigned)snprintf(list + n, sizeof(list) - n, "%s%llu", r ? "," : "",
					(unsigned long long)d);
	}
	guest_printf("bench guest exits: role=%s size=%u by-reason=%s\n", role, size, list);
}

static int dp_send(unsigned size, u64 *ticks)
{
	unsigned plen = size - ETH_HLEN;
	u64 t0, start = vf_now_us(), last_progress;

	vf.sent = vf.acked = vf.dp_peer_bad = 0;
	while (vf.dp_ready != size) {
		poll_rx();
		if (vf_now_us() - start > DP_READY_TIMEOUT_US)
			return -ETIMEDOUT;
	}
	vf.dp_ready = 0;
	t0 = guest_rdtsc();
	last_progress = vf_now_us();
	while (vf.acked < IGBVF_BENCH_FRAMES) {
		u32 before = vf.sent + vf.acked;

		if (vf.sent < IGBVF_BENCH_FRAMES && vf.sent - vf.acked < IGBVF_BENCH_IN_FLIGHT) {
			igbvf_payload_fill(tx_payload, plen, vf.sent);
			if (igbvf_xmit(&vf.drv, vf.peer, DATA_ETHERTYPE, tx_payload, plen) == 0)
				vf.sent++;
		}
		poll_rx();
		if (vf.sent + vf.acked != before)
			last_progress = vf_now_us();
		else if (vf_now_us() - last_progress > BULK_STALL_US)
			return -ETIMEDOUT;
	}
	*ticks = guest_rdtsc() - t0;
	return igbvf_tx_wait(&vf.drv);
}

static int dp_receive(unsigned size)
{
	u64 last_progress = vf_now_us();
	int err;

	vf.received = vf.bad = vf.last_bad_seq = 0;
	vf.dp_size = size;
	err = send_ctl(vf.peer, ready_magic, size);
	while (!err && vf.received < IGBVF_BENCH_FRAMES) {
		u32 before = vf.received;

		poll_rx();
		if (vf.received != before)
			last_progress = vf_now_us();
		else if (vf_now_us() - last_progress > BULK_STALL_US)
			err = -ETIMEDOUT;
	}
	vf.dp_size = 0;
	return err ? err : igbvf_tx_wait(&vf.drv);
}

static void test_dataplane(unsigned size)
{
	static struct moat_guest_exits before, after;
	char id[24];
	bool counted;
	u64 ticks = 0;
	int err;

	snprintf(id, sizeof(id), "dataplane-%u", size);
	test_begin("bench", id);
	if (!vf.peer_known || !vf.peer_heard_us) {
		test_skip("no peer guest found (see vf-dma-rx)");
		test_end();
		return;
	}
	counted = dp_read_exits(&before);
	err = dp_sender() ? dp_send(size, &ticks) : dp_receive(size);
	counted = dp_read_exits(&after) && counted;
	check(counted, "HC_GET_EXITS failed");
	check(err == 0, "%u-byte batch stalled (%d): sent %u acknowledged %u received %u", size,
	      err, vf.sent, vf.acked, vf.received);
	if (dp_sender()) {
		check(vf.acked == IGBVF_BENCH_FRAMES && vf.dp_peer_bad == 0,
		      "peer %s received %u of %u, %u bad", vf.peer_name, vf.acked,
		      IGBVF_BENCH_FRAMES, vf.dp_peer_bad);
		if (!err && vf.acked == IGBVF_BENCH_FRAMES && !vf.dp_peer_bad)
			guest_printf("bench guest: role=send size=%u frames=%u ticks=%llu "
				     "tsc_khz=%u\n",
				     size, vf.acked, (unsigned long long)ticks, guest_info.tsc_khz);
	} else {
		check(vf.received == IGBVF_BENCH_FRAMES && vf.bad == 0,
		      "received %u of %u, %u bad (first at %u)", vf.received, IGBVF_BENCH_FRAMES,
		      vf.bad, vf.last_bad_seq);
		guest_printf("bench guest: role=receive size=%u frames=%u received=%u bad=%u\n",
			     size, IGBVF_BENCH_FRAMES, vf.received, vf.bad);
	}
	if (counted)
		dp_print_exits(dp_sender() ? "send" : "receive", size, &before, &after);
	test_end();
}

void vf_dataplane_bench(void)
{
	static const unsigned sizes[] = {IGBVF_BENCH_SIZES};

	test_probe();
	test_reset();
	test_dma_tx();
	test_dma_rx();
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++)
		test_dataplane(sizes[i]);
	if (vf.up)
		igbvf_down(&vf.drv);
}

/* ---- vf-msix: the MSI-X table through moat's emulation */
#define MSIX_TIMEOUT_US 3000000
#define PING_INTERVAL_US 20000

/* Entry IGBVF_VEC_RX -> vector GUEST_IRQ_BASE on this CPU, unmasked; MSI-X on; the VF's
 * receive queue routed to that entry. Returns the table's address, 0 if there is none. */
static u64 msix_setup(void)
{
	u64 table = vf_msix_route(IGBVF_VEC_RX, GUEST_IRQ_BASE);

	if (table)
		igbvf_irq_enable(&vf.drv);
	return table;
}

/* Pings to the peer until its ping arrives as an interrupt at the vector programmed in the
 * table, and the peer says it has taken one too. Interrupts are on only here. */
static void test_msix(void)
{
	u64 start, last = 0, table;
	bool got = false;

	test_begin("vf", "vf-msix");
	if (!vf.up || !vf.peer_known) {
		test_skip("no peer guest (see vf-dma-rx)");
		test_end();
		return;
	}
	table = msix_setup();
	check(table, "no MSI-X table found");
	start = vf_now_us();
	while (table && !(got && vf.peer_got_irq) && vf_now_us() - start < MSIX_TIMEOUT_US) {
		if (vf_now_us() - last > PING_INTERVAL_US) {
			send_ctl(vf.peer, ping_magic, got);
			last = vf_now_us();
		}
		__asm__ volatile("sti; pause; cli" ::: "memory");
		got = guest_irq_count[0] > 0;
		poll_rx();
	}
	if (got)
		send_ctl(vf.peer, ping_magic, 1); /* the peer may still wait for this */
	check(guest_irq_count[0] > 0, "no interrupt at vector %#x in %u ms", GUEST_IRQ_BASE,
	      MSIX_TIMEOUT_US / 1000);
	for (unsigned i = 1; i < GUEST_NR_IRQS; i++)
		check(guest_irq_count[i] == 0, "%llu interrupts at vector %#x, never programmed",
		      (unsigned long long)guest_irq_count[i], GUEST_IRQ_BASE + i);
	check(vf.peer_got_irq, "peer %s never took its interrupt", vf.peer_name);
	guest_printf("MSI-X: %llu interrupt(s) at vector %#x\n",
		     (unsigned long long)guest_irq_count[0], GUEST_IRQ_BASE);
	test_end();
}

struct igbvf *vf_suite_open(void)
{
	test_probe();
	test_reset();
	test_dma_tx();
	return vf.up ? &vf.drv : NULL;
}

/* ---- vf-flr: function level reset through the virtual config space (vmm/vflr.c) */
#define PCIE_DEVCAP 0x04
#define PCIE_DEVCAP_FLR BIT(28)
#define PCIE_DEVCTL 0x08 /* Device Control; Device Status in the upper half */
#define PCIE_DEVCTL_BCR_FLR BIT(15)
#define FLR_WAIT_US 100000 /* PCIe 5.0, 6.6.2: no request to the function for 100 ms */
#define FLR_PEER_TIMEOUT_US 20000000

static u32 mmio_read32(u64 addr)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

/* Interrupts the guest has taken at vector GUEST_IRQ_BASE, after a window in which any
 * pending one is delivered. */
static u64 irqs_taken(void)
{
	__asm__ volatile("sti; pause; pause; cli" ::: "memory");
	return guest_irq_count[0];
}

/* The reset as the guest's driver sees it: Initiate FLR; its BAR reads all ones in the reset
 * and after it until decode is on again; the function comes back with Command 0, MSI-X
 * disabled and unmasked, every entry masked and empty, its BARs where they were; moat
 * answers no config request before the 100 ms are over. */
static bool flr_and_check(u8 pcie, u8 msix)
{
	u64 t0, waited, table = vf_msix_table(msix);
	u32 ctl = vf_cfg_read((u16)(pcie + PCIE_DEVCTL)), cmd, mctl, st, st_after;
	bool ok = true;

#define FLR_CHECK(cond, ...)                                                                       \
	do {                                                                                       \
		bool c_ = (cond);                                                                  \
		ok &= c_;                                                                          \
		check(c_, __VA_ARGS__);                                                            \
	} while (0)
	check(vf_cfg_read((u16)(pcie + PCIE_DEVCAP)) & PCIE_DEVCAP_FLR,
	      "Device Capabilities without FLR (%#x)", vf_cfg_read((u16)(pcie + PCIE_DEVCAP)));
	t0 = vf_now_us();
	vf_cfg_write((u16)(pcie + PCIE_DEVCTL), (ctl & 0xffff) | PCIE_DEVCTL_BCR_FLR);
	/* Its BAR in the reset: moat unmapped it, nothing reaches the function (vmm/vbar.c). */
	st = mmio_read32(vf_dev.bar0 + IGB_VF_STATUS);
	cmd = vf_cfg_read(CFG_COMMAND);
	waited = vf_now_us() - t0;
	st_after = mmio_read32(vf_dev.bar0 + IGB_VF_STATUS);
	FLR_CHECK(st == 0xffffffff, "STATUS read %#x in the reset: the BAR reached the function",
		  st);
	FLR_CHECK(st_after == 0xffffffff, "STATUS read %#x after the reset with decode off",
		  st_after);
	/* 1% for the two clocks' rounding */
	FLR_CHECK(waited >= FLR_WAIT_US - FLR_WAIT_US / 100,
		  "config read answered %llu us after Initiate FLR", (unsigned long long)waited);
	FLR_CHECK(!(cmd & (CFG_COMMAND_MEMORY | CFG_COMMAND_MASTER)), "Command %#x after the reset",
		  cmd);
	mctl = vf_cfg_read(msix);
	FLR_CHECK(!(mctl & (MSIX_ENABLE | MSIX_FUNC_MASK)), "MSI-X control %#x after the reset",
		  mctl >> 16);
	FLR_CHECK(table != 0, "no MSI-X table");
	for (unsigned i = 0; table && i < IGBVF_NR_VECTORS; i++) {
		u64 e = table + i * MSIX_ENTRY_SIZE;

		FLR_CHECK(mmio_read32(e + MSIX_VECTOR_CTRL) & MSIX_VECTOR_MASKED,
			  "MSI-X entry %u not masked after the reset", i);
		FLR_CHECK(!mmio_read32(e + MSIX_ADDR_LO) && !mmio_read32(e + MSIX_DATA),
			  "MSI-X entry %u kept its message", i);
	}
	FLR_CHECK(vf_bar_address(0) == vf_dev.bar0, "BAR0 at %#llx after the reset (was %#llx)",
		  (unsigned long long)vf_bar_address(0), (unsigned long long)vf_dev.bar0);
	return ok;
#undef FLR_CHECK
}

/* Frames both ways after both guests reset their VFs: "moatFLR." with whether the
 * sender has heard the other, until each has heard the other. */
static void flr_exchange(void)
{
	u64 start = vf_now_us(), last = 0;

	while (!(vf.flr_peer_seen && vf.flr_peer_heard_us) &&
	       vf_now_us() - start < FLR_PEER_TIMEOUT_US) {
		if (vf_now_us() - last > HELLO_INTERVAL_US) {
			send_ctl(vf.peer, flr_magic, vf.flr_peer_seen);
			last = vf_now_us();
		}
		poll_rx();
	}
	if (vf.flr_peer_seen)
		send_ctl(vf.peer, flr_magic, 1); /* the peer may still wait for this */
}

/* Its interrupt again: the entry programmed anew goes live through a new remapping entry. */
static bool flr_msix_again(void)
{
	u64 start = vf_now_us(), last = 0, base = irqs_taken();
	bool got = false;

	if (!msix_setup())
		return false;
	while (!(got && vf.peer_got_irq2) && vf_now_us() - start < MSIX_TIMEOUT_US) {
		if (vf_now_us() - last > PING_INTERVAL_US) {
			send_ctl(vf.peer, ping2_magic, got);
			last = vf_now_us();
		}
		got = irqs_taken() > base;
		poll_rx();
	}
	if (got)
		send_ctl(vf.peer, ping2_magic, 1);
	return got;
}

/* After vf-msix (interrupt live, queues up, the peer doing the same): reset the VF through
 * config space, check what the reset cleared, probe it again with lib/igbvf.c (reset
 * handshake: the same MAC), move frames both ways with no interrupt from the reset entry,
 * then program the entry again and take an interrupt. */
static void test_flr(void)
{
	u8 pcie = vf_find_cap(CAP_ID_PCIE), msix = vf_find_cap(CAP_ID_MSIX);
	u8 mac[ETH_ALEN];
	u64 irqs;
	int err;

	test_begin("vf", "vf-flr");
	if (!vf.up || !pcie || !msix) {
		test_skip("VF queues not up");
		test_end();
		return;
	}
	memcpy(mac, vf.drv.mac, ETH_ALEN);
	if (!flr_and_check(pcie, msix)) {
		test_end();
		return;
	}
	irqs = irqs_taken();
	vf.up = false;
	err = vf_dev_enable();
	if (!err)
		err = igbvf_init(&vf.drv, &vf_dev_ops, NULL, vf_mem);
	if (!err)
		err = igbvf_reset(&vf.drv);
	check(err == 0, "reset handshake after the FLR failed (%d): %s", err, vf.drv.last_error);
	check(!memcmp(mac, vf.drv.mac, ETH_ALEN),
	      "MAC %02x:%02x:%02x:%02x:%02x:%02x after the FLR, was %02x:%02x:%02x:%02x:%02x:%02x",
	      vf.drv.mac[0], vf.drv.mac[1], vf.drv.mac[2], vf.drv.mac[3], vf.drv.mac[4],
	      vf.drv.mac[5], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (!err)
		err = igbvf_up(&vf.drv);
	check(err == 0, "queues not up after the FLR (%d): %s", err, vf.drv.last_error);
	if (err) {
		test_end();
		return;
	}
	vf.up = true;
	if (!vf.peer_known) {
		test_skip("no peer guest for frames after the reset (see vf-dma-rx)");
		test_end();
		return;
	}
	flr_exchange();
	check(vf.flr_peer_seen, "no frame from %s after the reset", vf.peer_name);
	check(vf.flr_peer_heard_us, "%s never heard our frames after the reset", vf.peer_name);
	check(irqs_taken() == irqs, "%llu interrupts from the reset function (MSI-X disabled)",
	      (unsigned long long)(irqs_taken() - irqs));
	check(flr_msix_again(), "no interrupt at vector %#x after programming the entry again",
	      GUEST_IRQ_BASE);
	check(vf.peer_got_irq2, "peer %s never took its interrupt after its reset", vf.peer_name);
	guest_printf("FLR: reset handshake, frames and the interrupt again with %s\n",
		     vf.peer_name);
	test_end();
}

void vf_suite(void)
{
	static struct moat_guest_exits before, after;
	bool counted = false;

	test_probe();
	test_reset();
	test_dma_tx();
	test_dma_rx();
	test_bulk(&before, &after, &counted);
	test_no_exits(&before, &after, counted);
	/* Last: once its interrupt is live, every received frame would be an exit. */
	test_msix();
	test_flr();
	if (vf.up)
		igbvf_down(&vf.drv);
}
