/* moat driving 82576 VFs itself (CPU 0): register access through the VF's placed BAR0,
 * DMA to host-physical addresses (the VF's own domain maps its driver memory there), waits that
 * serve the PF's mailbox, and the VF0 -> VF1 bench. */
#define LOG_TAG "igbvf"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/time.h>
#include "arch/x86/io.h"
#include "pci/internal.h"
#include "tests/hv/igbvf_native.h"

#define BENCH_STALL_US 500000

static u32 native_rd(void *ctx, u32 reg)
{
	struct igbvf_native *n = ctx;

	return mmio_read32(n->pdev->bar[0].base + reg);
}

static void native_wr(void *ctx, u32 reg, u32 val)
{
	struct igbvf_native *n = ctx;

	mmio_write32(n->pdev->bar[0].base + reg, val);
}

static u64 native_dma_addr(void *ctx, const void *p)
{
	return (u64)(uintptr_t)p; /* its domain maps the driver memory at IOVA = PA */
}

static u64 native_now_us(void *ctx)
{
	return time_us();
}

/* The PF's mailbox is polled on this CPU: serve it while waiting for its answer. */
static void native_idle(void *ctx)
{
	igb_pf_poll_all();
}

static void native_log(void *ctx, const char *msg)
{
	struct igbvf_native *n = ctx;

	log_printf(LOG_ERR, LOG_TAG, "%02x:%02x.%x: %s", n->pdev->bus, n->pdev->dev, n->pdev->fn,
		   msg);
}

static const struct igbvf_ops native_ops = {
	.rd = native_rd,
	.wr = native_wr,
	.dma_addr = native_dma_addr,
	.now_us = native_now_us,
	.idle = native_idle,
	.log = native_log,
};

/* The VF's DMA reaches its driver memory and nothing else (a domain of moat's own that
 * maps that area at its physical addresses); a VF a guest had was detached (blocked) when
 * the guest gave it back. */
static int give_dma(struct igbvf_native *n, void *mem)
{
	int err = iommu_own_dma_map(n->pdev, (u64)(uintptr_t)mem, IGBVF_MEM_SIZE);

	if (err)
		return pr_err(err, "%02x:%02x.%x: its rings cannot be given to its DMA\n",
			      n->pdev->bus, n->pdev->dev, n->pdev->fn);
	n->attached = true;
	return 0;
}

/* Driver memory: one area per VF index, kept across uses (the pages are never reused for
 * anything else, so a late DMA of a closed VF cannot land in someone's memory). */
static void *native_mem(unsigned vf_index)
{
	static u64 mem[IGB_MAX_VFS];

	if (!mem[vf_index])
		mem[vf_index] = pages_alloc(IGBVF_MEM_SIZE, IGBVF_MEM_ALIGN);
	return (void *)(uintptr_t)mem[vf_index];
}

int igbvf_native_open(struct igbvf_native *n, struct igb_pf *pf, unsigned vf_index)
{
	struct pci_dev *d = vf_index < pf->num_vfs ? pci_sriov_vf(pf->pdev, vf_index) : NULL;
	void *mem;
	int err;

	memset(n, 0, sizeof(*n));
	if (!d)
		return pr_err(-ENODEV, "PF has no VF %u\n", vf_index);
	if (d->bar[0].type == PCI_BAR_NONE || !d->bar[0].base)
		return pr_err(-ENODEV, "VF %u has no BAR0\n", vf_index);
	mem = native_mem(vf_index);
	if (!mem)
		return pr_err(-ENOMEM, "no memory for VF %u's rings\n", vf_index);
	err = pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0);
	if (err)
		return err;
	n->pdev = d;
	n->saved_command = pci_read16(d, PCI_COMMAND);
	err = give_dma(n, mem);
	if (err)
		goto fail;
	pci_write16(d, PCI_COMMAND, n->saved_command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	err = igbvf_init(&n->drv, &native_ops, n, mem);
	if (!err)
		err = igbvf_reset(&n->drv);
	if (err)
		goto fail;
	return 0;
fail:
	igbvf_native_close(n);
	return err;
}

void igbvf_native_close(struct igbvf_native *n)
{
	if (!n->pdev)
		return;
	if (n->drv.ops)
		igbvf_down(&n->drv);
	/* The PF sees the function reset: the VF must shake hands again, whoever gets it. */
	igb_pf_poll_all();
	pci_write16(n->pdev, PCI_COMMAND,
		    n->saved_command & (u16) ~(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	/* Released functions are blocked, as vmm/assign_hw.c leaves them. */
	if (n->attached)
		iommu_own_dma_release(n->pdev);
	n->attached = false;
	pci_release(n->pdev);
	n->pdev = NULL;
}

/* One received frame checked against what the bench sent: addresses, ethertype, length
 * (the device may append the 4-byte FCS) and payload in sequence. */
static bool bench_frame_ok(const struct igbvf *tx, const struct igbvf *rx, const u8 *f, int len,
			   unsigned size, u32 expect_seq)
{
	unsigned plen = size - ETH_HLEN;

	if (len < (int)size || len > (int)size + 4)
		return false;
	if (memcmp(f, rx->mac, ETH_ALEN) || memcmp(f + ETH_ALEN, tx->mac, ETH_ALEN))
		return false;
	if (f[12] != (u8)(IGBVF_BENCH_ETHERTYPE >> 8) || f[13] != (u8)IGBVF_BENCH_ETHERTYPE)
		return false;
	return igbvf_payload_check(f + ETH_HLEN, plen) == (long)expect_seq;
}

static void bench_receive(struct igbvf *tx, struct igbvf *rx, unsigned size,
			  struct igbvf_bench_result *res, u8 *frame)
{
	int len;

	while ((len = igbvf_recv(rx, frame, IGBVF_BUF_SIZE)) != 0) {
		if (len < 0 || !bench_frame_ok(tx, rx, frame, len, size, res->received))
			res->bad++;
		res->received++;
	}
}

int igbvf_bench(struct igbvf *tx, struct igbvf *rx, unsigned frames, unsigned size,
		struct igbvf_bench_result *res)
{
	static u8 payload[ETH_FRAME_MAX], frame[IGBVF_BUF_SIZE];
	u64 start, last_progress;

	memset(res, 0, sizeof(*res));
	if (size < ETH_ZLEN || size > ETH_FRAME_MAX)
		return pr_err(-EINVAL, "bench frame size %u outside %u..%u\n", size, ETH_ZLEN,
			      ETH_FRAME_MAX);
	start = last_progress = time_us();
	while (res->received < frames) {
		unsigned before = res->received + res->sent;

		if (res->sent < frames && res->sent - res->received < IGBVF_BENCH_IN_FLIGHT) {
			igbvf_payload_fill(payload, size - ETH_HLEN, res->sent);
			if (igbvf_xmit(tx, rx->mac, IGBVF_BENCH_ETHERTYPE, payload,
				       size - ETH_HLEN) == 0)
				res->sent++;
		}
		igbvf_tx_clean(tx);
		bench_receive(tx, rx, size, res, frame);
		if (res->received + res->sent != before)
			last_progress = time_us();
		else if (time_us() - last_progress > BENCH_STALL_US)
			break;
	}
	res->us = time_us() - start;
	if (res->us) {
		res->frames_per_s = (u64)res->received * 1000000 / res->us;
		res->bytes_per_s = res->frames_per_s * size;
	}
	if (igbvf_tx_wait(tx))
		return -ETIMEDOUT;
	if (res->received < frames)
		return pr_err(-ETIMEDOUT, "bench stalled: %u of %u frames sent, %u received\n",
			      res->sent, frames, res->received);
	return res->bad ? -EIO : 0;
}
