/* The hypervisor driving 82576 VFs itself on CPU 0 (lib/igbvf.c with host-physical DMA
 * through a domain that maps only the driver's memory): the native side of the passthrough
 * tests and of the benchmark's native-vs-guest comparison. */
#ifndef PCI_PF_IGBVF_NATIVE_H
#define PCI_PF_IGBVF_NATIVE_H

#include <moat/igbvf.h>
#include <moat/pci.h>
#include "pci/pf/igb.h"

struct igbvf_native {
	struct pci_dev *pdev;
	struct igbvf drv;
	u16 saved_command;
	bool attached; /* its driver memory given to its DMA (iommu_own_dma_map) */
};

/* Takes a free VF of pf (owner nobody -> hypervisor), turns on its memory decode and bus
 * mastering with its DMA confined to its driver memory, binds the driver and does
 * the reset handshake. */
int igbvf_native_open(struct igbvf_native *n, struct igb_pf *pf, unsigned vf_index);
/* Queues off, VF reset, memory decode and bus mastering off, DMA blocked (detached), owner
 * back to nobody. */
void igbvf_native_close(struct igbvf_native *n);

struct igbvf_bench_result {
	unsigned sent, received, bad; /* bad: wrong source, order, length or payload */
	u64 us;
	u64 frames_per_s, bytes_per_s;
};

/* Sends `frames` frames of `size` bytes (Ethernet header included, 60..1514) from tx to rx
 * through the NIC's internal switch, receiving as it goes (never more in flight than the
 * receive ring holds), and checks every frame's sequence number and payload. */
int igbvf_bench(struct igbvf *tx, struct igbvf *rx, unsigned frames, unsigned size,
		struct igbvf_bench_result *res);

#endif
