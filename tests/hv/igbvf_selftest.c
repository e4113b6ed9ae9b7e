/* Self-tests of the VF driver (lib/igbvf.c) driven natively by moat on CPU 0 (TAP suite
 * igbvf). They run after the guests have ended (core/init.c runs guests first), on the
 * first two VFs nobody owns, and give them back reset and unowned. */
#define LOG_TAG "igbvf"
#include <moat/errno.h>
#include <moat/log.h>
#include "tests/hv/selftest.h"
#include <moat/string.h>
#include <moat/time.h>
#include "pci/internal.h"
#include "pci/pf/igb_regs.h"
#include "tests/hv/igbvf_native.h"

static const unsigned bulk_sizes[] = {IGBVF_BENCH_SIZES};
static const char hello[] = "moat-igbvf-native-hello";

static struct {
	struct igb_pf *pf;
	struct igbvf_native vf[2];
	unsigned index[2];
	bool open, up;
	const char *why; /* skip reason when not open */
} t;

static struct igb_pf *first_pf_with_vfs(void)
{
	for (unsigned i = 0; i < igb_pf_count(); i++)
		if (igb_pf_at(i)->num_vfs >= 2)
			return igb_pf_at(i);
	return NULL;
}

/* The first two VFs of the PF that nobody owns. */
static int pick_free_vfs(struct igb_pf *pf)
{
	unsigned found = 0;

	for (unsigned i = 0; i < pf->num_vfs && found < 2; i++) {
		struct pci_dev *d = pci_sriov_vf(pf->pdev, i);

		if (d && d->owner.kind == PCI_OWNER_NONE)
			t.index[found++] = i;
	}
	return found == 2 ? 0 : -EBUSY;
}

static void skip_unless_open(struct st_ctx *ctx, bool need_up)
{
	if (!t.open)
		st_skip(ctx, "%s", t.why ? t.why : "VFs not opened");
	else if (need_up && !t.up)
		st_skip(ctx, "VF queues not up (see native-dma-tx)");
}

SELFTEST_ORDER(st_igbvf_reset, "igbvf", "native-reset-mailbox", 56)
{
	int err;

	t.pf = first_pf_with_vfs();
	if (!t.pf) {
		t.why = "no 82576 PF with 2 VFs";
		st_skip(ctx, "%s", t.why);
		return;
	}
	if (pick_free_vfs(t.pf)) {
		t.why = "fewer than 2 VFs free (owned by guests)";
		st_skip(ctx, "%s", t.why);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		unsigned idx = t.index[i];

		err = igbvf_native_open(&t.vf[i], t.pf, idx);
		CHECK(ctx, err == 0, "VF %u: open/reset failed (%d): %s", idx, err,
		      t.vf[i].drv.last_error);
		if (err) {
			t.why = "reset handshake failed (see native-reset-mailbox)";
			if (i)
				igbvf_native_close(&t.vf[0]);
			return;
		}
		CHECK(ctx, !memcmp(t.vf[i].drv.mac, t.pf->vf[idx].mac, ETH_ALEN),
		      "VF %u got MAC ..:%02x:%02x, PF assigned ..:%02x:%02x", idx,
		      t.vf[i].drv.mac[4], t.vf[i].drv.mac[5], t.pf->vf[idx].mac[4],
		      t.pf->vf[idx].mac[5]);
		CHECK(ctx, t.pf->vf[idx].clear_to_send, "PF did not record VF %u's handshake", idx);
		CHECK(ctx, igb_rd(t.pf, IGB_VFRE) & igb_rd(t.pf, IGB_VFTE) & BIT(idx),
		      "VF %u queues not enabled by the PF", idx);
	}
	t.open = true;
	pr_info("native VFs %u and %u: MACs %02x:%02x:%02x:%02x:%02x:%02x and ..:%02x:%02x\n",
		t.index[0], t.index[1], t.vf[0].drv.mac[0], t.vf[0].drv.mac[1], t.vf[0].drv.mac[2],
		t.vf[0].drv.mac[3], t.vf[0].drv.mac[4], t.vf[0].drv.mac[5], t.vf[1].drv.mac[4],
		t.vf[1].drv.mac[5]);
}

/* A frame queued on VF A: the device fetches the descriptor and buffer by DMA and writes
 * the descriptor back (DD) into host memory. */
SELFTEST_ORDER(st_igbvf_tx, "igbvf", "native-dma-tx", 57)
{
	struct igbvf *a = &t.vf[0].drv, *b = &t.vf[1].drv;
	unsigned slot;
	int err;

	skip_unless_open(ctx, false);
	if (ctx->skipped)
		return;
	err = igbvf_up(a);
	if (!err)
		err = igbvf_up(b);
	CHECK(ctx, err == 0, "queues not up (%d): %s / %s", err, a->last_error, b->last_error);
	if (err)
		return;
	t.up = true;
	slot = a->tx_tail;
	CHECK(ctx, a->tx_ring[slot].status == 0, "descriptor %u status %#x before send", slot,
	      a->tx_ring[slot].status);
	err = igbvf_xmit(a, b->mac, IGBVF_BENCH_ETHERTYPE, hello, sizeof(hello) - 1);
	CHECK(ctx, err == 0, "xmit failed (%d)", err);
	err = igbvf_tx_wait(a);
	CHECK(ctx, err == 0, "not written back (%d): %s", err, a->last_error);
	CHECK(ctx, a->tx_ring[slot].status & IGB_TXD_STAT_DD, "DD not set (%#x)",
	      a->tx_ring[slot].status);
	CHECK(ctx, igb_rd(t.pf, IGB_TDH(t.index[0])) == a->tx_tail,
	      "device head %u, driver tail %u", igb_rd(t.pf, IGB_TDH(t.index[0])), a->tx_tail);
}

/* The frame arrives at VF B through the NIC's internal switch, DMAed into B's buffer. */
SELFTEST_ORDER(st_igbvf_rx, "igbvf", "native-dma-rx", 58)
{
	struct igbvf *a = &t.vf[0].drv, *b = &t.vf[1].drv;
	static u8 frame[IGBVF_BUF_SIZE];
	int len = 0;

	skip_unless_open(ctx, true);
	if (ctx->skipped)
		return;
	memset(frame, 0, sizeof(frame));
	WAIT_US((len = igbvf_recv(b, frame, sizeof(frame))) != 0, 100000);
	CHECK(ctx, len >= ETH_ZLEN, "no frame at VF %u (%d): %s", t.index[1], len, b->last_error);
	if (len < ETH_ZLEN)
		return;
	CHECK(ctx, !memcmp(frame, b->mac, ETH_ALEN), "destination ..:%02x:%02x", frame[4],
	      frame[5]);
	CHECK(ctx, !memcmp(frame + ETH_ALEN, a->mac, ETH_ALEN), "source ..:%02x:%02x", frame[10],
	      frame[11]);
	CHECK(ctx, !memcmp(frame + ETH_HLEN, hello, sizeof(hello) - 1), "payload \"%.23s\"",
	      (const char *)frame + ETH_HLEN);
	CHECK(ctx, igbvf_recv(b, frame, sizeof(frame)) == 0, "a second frame arrived");
}

/* Bulk VF A -> VF B, three frame sizes: none lost, every payload checked; the figures are
 * the native side of make bench. */
SELFTEST_ORDER(st_igbvf_bulk, "igbvf", "native-bulk", 59)
{
	skip_unless_open(ctx, true);
	if (ctx->skipped)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(bulk_sizes); i++) {
		struct igbvf_bench_result r;
		int err = igbvf_bench(&t.vf[0].drv, &t.vf[1].drv, IGBVF_BENCH_FRAMES, bulk_sizes[i],
				      &r);

		CHECK(ctx, err == 0 && r.received == IGBVF_BENCH_FRAMES && !r.bad,
		      "%u-byte frames: %d, sent %u received %u bad %u", bulk_sizes[i], err, r.sent,
		      r.received, r.bad);
		pr_info("bench native: %u frames of %u bytes VF%u->VF%u in %llu us: %llu frames/s, "
			"%llu bytes/s\n",
			r.received, bulk_sizes[i], t.index[0], t.index[1], (unsigned long long)r.us,
			(unsigned long long)r.frames_per_s, (unsigned long long)r.bytes_per_s);
	}
}

/* A storm from one VF is served IGB_MBX_BUDGET messages per window: 2 x budget + 1
 * requests back to back span at least one whole window and are throttled in at least two;
 * every request is still answered. The test widens the window so that a loaded emulator,
 * slower than the budget's rate, still sends faster than the limit. */
#define FLOOD_WINDOW_US 200000
SELFTEST_ORDER(st_igbvf_flood, "igbvf", "native-mailbox-rate-limited", 60)
{
	u32 msg[2] = {IGB_VF_SET_LPE, ETH_FRAME_MAX + 4}, reply = 0;
	struct igbvf *a = &t.vf[0].drv;
	unsigned before, answered = 0;
	u64 start, elapsed;

	skip_unless_open(ctx, false);
	if (ctx->skipped)
		return;
	before = t.pf->vf[t.index[0]].throttled;
	t.pf->mbx_window_us = FLOOD_WINDOW_US;
	start = time_us();
	for (unsigned i = 0; i < 2 * IGB_MBX_BUDGET + 1; i++)
		answered += igbvf_mbx_request(a, msg, 2, &reply, 1) == 0;
	elapsed = time_us() - start;
	t.pf->mbx_window_us = 0;
	CHECK(ctx, answered == 2 * IGB_MBX_BUDGET + 1, "%u of %u answered: %s", answered,
	      2 * IGB_MBX_BUDGET + 1, a->last_error);
	CHECK(ctx, elapsed >= FLOOD_WINDOW_US, "%u requests served in %llu us", answered,
	      (unsigned long long)elapsed);
	CHECK(ctx, t.pf->vf[t.index[0]].throttled >= before + 2, "throttled %u -> %u", before,
	      t.pf->vf[t.index[0]].throttled);
	pr_info("mailbox: %u requests of VF %u answered in %llu ms (budget %u per %u ms)\n",
		answered, t.index[0], (unsigned long long)elapsed / 1000, IGB_MBX_BUDGET,
		FLOOD_WINDOW_US / 1000);
}

/* Both VFs go back reset and unowned: memory decode and bus mastering off, the PF saw the
 * function reset (the next owner must shake hands again). */
SELFTEST_ORDER(st_igbvf_release, "igbvf", "native-released", 61)
{
	skip_unless_open(ctx, false);
	if (ctx->skipped)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct pci_dev *d = t.vf[i].pdev;

		igbvf_native_close(&t.vf[i]);
		CHECK(ctx, d->owner.kind == PCI_OWNER_NONE, "VF %u still owned", t.index[i]);
		CHECK(ctx,
		      !(pci_read16(d, PCI_COMMAND) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)),
		      "VF %u command %#x", t.index[i], pci_read16(d, PCI_COMMAND));
		CHECK(ctx, !t.pf->vf[t.index[i]].clear_to_send,
		      "PF did not see VF %u's function reset", t.index[i]);
		CHECK(ctx, !(igb_rd(t.pf, IGB_VFRE) & BIT(t.index[i])),
		      "VF %u receive still enabled after its reset", t.index[i]);
	}
	t.open = t.up = false;
}
