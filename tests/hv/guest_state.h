/* What the test image keeps per guest (struct guest holds no test state): what a guest
 * announced through the test hypercalls, and what the forged-interrupt judge counted. */
#ifndef TESTS_HV_GUEST_STATE_H
#define TESTS_HV_GUEST_STATE_H

#include <moat/types.h>
#include "vmm/vmm.h"

struct test_guest_state {
	bool expect_stop; /* the guest announced an access that must stop it */
	u64 expect_stop_gpa;
	u64 expect_stop_stamp; /* GPA of the guest's TSC stamp before that access, or 0 */
	u64 expect_dma_faults; /* DMA attacks the guest announced (HC_EXPECT_DMA_FAULT) */
	/* Forged interrupt messages it announced (tests/hv/irq_forge.c): [0] remappable format,
	 * [1] compatibility format; address 0: none. */
	u32 forge_addr[2], forge_data[2];
	u8 forge_vector;       /* vector counted for the compatibility-format one, 0: none */
	u64 forge_compat_hits; /* deliveries at that vector */
	/* Interrupt faults the IOMMU attributed to its devices, by reason - IRQ_FAULT_FIRST
	 * (VT-d 0x20..0x27), and the interrupt index of the last one of each reason. */
	u64 irq_faults[8];
	u32 irq_fault_index[8];
};

/* The state of guest g (by its ID: the configured guests and one transient guest). */
struct test_guest_state *test_state(const struct guest *g);
/* Forgets the state of guest ID `id` (a transient guest reuses an ID). */
void test_state_reset(u32 id);

/* tests/hv/hypercalls.c: the test range of the hypercall ABI. */
s64 test_hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2);
/* A stop the guest announced with a TSC stamp: the ticks from its stamp to the handler. */
void test_npf_ticks(struct guest *g, u64 gpa, u64 now);

#endif
