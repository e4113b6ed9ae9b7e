/* tests/hv/irq_forge.c: the canary entry (owner, programming, counting, release), announced
 * forgeries (address checks, the counted compatibility-format vector) and interrupt faults
 * attributed to the guest whose domain holds the requester ID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/trap.h"
#include "tests/hv/guest_state.h"
#include "tests/hv/irq_forge.h"
#include "host_shim.h"

struct guest vmm_guests[VMM_MAX_GUESTS];
u32 vmm_nr_guests;

/* ---- fakes: one remapping unit, a vector table */
static iommu_fault_cb fault_cb;
static bool fake_ir;
static irq_handler_t vec_fn[256];
static void *vec_ctx[256];
static bool irte_used[4];
static struct iommu_irq_cfg programmed;
static u16 allocated_sid;

void iommu_set_fault_callback(iommu_fault_cb cb, void *ctx)
{
	fault_cb = cb;
}
bool iommu_irq_remapping(void)
{
	return fake_ir;
}
int iommu_irq_alloc(u16 seg, u16 sid, u16 pf_sid, struct iommu_irq *irq)
{
	for (u16 i = 0; i < 4; i++)
		if (!irte_used[i]) {
			irte_used[i] = true;
			irq->index = i;
			irq->sid = sid;
			allocated_sid = sid;
			return 0;
		}
	return -ENOSPC;
}
int iommu_irq_program(struct iommu_irq *irq, const struct iommu_irq_cfg *cfg)
{
	programmed = *cfg;
	return 0;
}
void iommu_irq_free(struct iommu_irq *irq)
{
	irte_used[irq->index] = false;
}
int irq_register(unsigned vector, irq_handler_t fn, void *ctx)
{
	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (vec_fn[vector])
		return -EBUSY;
	vec_fn[vector] = fn;
	vec_ctx[vector] = ctx;
	return 0;
}
int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	for (unsigned v = 0x30; v <= 0xef; v++)
		if (!irq_register(v, fn, ctx))
			return (int)v;
	return -ENOSPC;
}
void irq_free_vector(u8 vector)
{
	vec_fn[vector] = NULL;
	vec_ctx[vector] = NULL;
}
u32 apic_id(void)
{
	return 7;
}

static void hypervisor_handler(struct trap_frame *f, void *ctx) {}

static void fire(u8 vector)
{
	struct trap_frame f = {0};

	assert_non_null(vec_fn[vector]);
	vec_fn[vector](&f, vec_ctx[vector]);
}

/* ---- guest "a" has VF 01:10.4 of PF 01:00.0; guest "b" has no device */
static struct pci_dev pf = {.seg = 0, .rid = 0x0100};
static struct pci_dev vf = {.seg = 0, .rid = 0x0184, .is_vf = true, .pf = &pf};
static struct iommu_domain *dom_a = (struct iommu_domain *)0x1000;
static struct iommu_domain *dom_b = (struct iommu_domain *)0x2000;

static int setup(void **state)
{
	memset(vmm_guests, 0, sizeof(vmm_guests));
	memset(vec_fn, 0, sizeof(vec_fn));
	memset(vec_ctx, 0, sizeof(vec_ctx));
	memset(irte_used, 0, sizeof(irte_used));
	memset(&irq_canary, 0, sizeof(irq_canary));
	fault_cb = NULL;
	fake_ir = true;
	vmm_nr_guests = 2;
	for (u32 id = 0; id <= VMM_MAX_GUESTS + 1; id++)
		test_state_reset(id);
	vmm_guests[0].id = 1;
	vmm_guests[1].id = 2;
	strcpy(vmm_guests[0].cfg.name, "a");
	vmm_guests[0].nr_dev = 1;
	vmm_guests[0].dev[0].pdev = &vf;
	vmm_guests[0].domain = dom_a;
	strcpy(vmm_guests[1].cfg.name, "b");
	vmm_guests[1].domain = dom_b;
	return 0;
}

static void test_handle_decode(void **state)
{
	assert_int_equal(irq_forge_handle(0xfee00010), 0);
	assert_int_equal(irq_forge_handle(0xfee00030), 1);
	assert_int_equal(irq_forge_handle(0xfeeffff0), 0x7fff);
	assert_int_equal(irq_forge_handle(0xfee00014), 0x8000);
	assert_int_equal(irq_forge_handle(0xfee0003c), 0x8001); /* SHV set: still handle 1 */
}

/* The canary: the PF of the first VF, present, to the hypervisor's CPU; what reaches its
 * vector is counted; disarming frees entry and vector and keeps the count. */
static void test_canary(void **state)
{
	assert_int_equal(irq_forge_arm(), 0);
	assert_true(irq_canary.armed);
	assert_int_equal(irq_canary.irq.index, 0);
	assert_int_equal(allocated_sid, 0x0100);
	assert_int_equal(programmed.dest_apic_id, 7);
	assert_int_equal(programmed.vector, irq_canary.vector);
	assert_false(programmed.level);
	fire(irq_canary.vector);
	fire(irq_canary.vector);
	assert_int_equal(irq_canary.hits, 2);
	irq_forge_disarm();
	assert_false(irq_canary.armed);
	assert_false(irte_used[0]);
	assert_null(vec_fn[irq_canary.vector]);
	assert_int_equal(irq_canary.hits, 2);
}

/* No canary without a VF to aim from or without interrupt remapping; faults are still
 * attributed. */
static void test_no_canary(void **state)
{
	vmm_guests[0].nr_dev = 0;
	assert_int_equal(irq_forge_arm(), 0);
	assert_false(irq_canary.armed);
	assert_non_null(fault_cb);
	vmm_guests[0].nr_dev = 1;
	fake_ir = false;
	assert_int_equal(irq_forge_arm(), 0);
	assert_false(irq_canary.armed);
}

static void test_fault_attribution(void **state)
{
	struct iommu_fault f = {.sid = 0x0184,
				.reason = IRQ_FAULT_SID,
				.interrupt = true,
				.addr = 3,
				.domain = dom_a};
	struct guest *a = &vmm_guests[0], *b = &vmm_guests[1];

	irq_forge_arm();
	fault_cb(&f, NULL);
	assert_int_equal(test_state(a)->irq_faults[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 1);
	assert_int_equal(test_state(a)->irq_fault_index[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 3);
	f.reason = IRQ_FAULT_COMPAT;
	f.addr = 0;
	fault_cb(&f, NULL);
	assert_int_equal(test_state(a)->irq_faults[IRQ_FAULT_COMPAT - IRQ_FAULT_FIRST], 1);
	assert_int_equal(test_state(a)->irq_fault_index[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 3);
	/* A DMA fault, a source without a domain, another guest's domain. */
	f.interrupt = false;
	f.reason = 0x5;
	fault_cb(&f, NULL);
	f.interrupt = true;
	f.reason = IRQ_FAULT_SID;
	f.domain = NULL;
	fault_cb(&f, NULL);
	assert_int_equal(test_state(a)->irq_faults[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 1);
	f.domain = dom_b;
	fault_cb(&f, NULL);
	assert_int_equal(test_state(b)->irq_faults[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 1);
	assert_int_equal(test_state(a)->irq_faults[IRQ_FAULT_SID - IRQ_FAULT_FIRST], 1);
	irq_forge_disarm();
}

static void test_expect(void **state)
{
	struct guest *a = &vmm_guests[0];

	assert_int_equal(irq_forge_expect(a, 0xfed00010, 1), -EINVAL);
	assert_int_equal(irq_forge_expect(a, 0x1fee00010ULL, 1), -EINVAL);
	assert_int_equal(irq_forge_expect(a, 0xfee00010, 1), 0);
	assert_int_equal(test_state(a)->forge_addr[0], 0xfee00010);
	assert_int_equal(test_state(a)->forge_data[0], 1);
	assert_int_equal(test_state(a)->forge_vector, 0);
	/* Compatibility format: the vector it names is counted, on whichever CPU. */
	assert_int_equal(irq_forge_expect(a, 0xfee03000, 0x05), -EBUSY);
	vec_fn[0x40] = hypervisor_handler;
	assert_int_equal(irq_forge_expect(a, 0xfee03000, 0x40), -EBUSY);
	assert_int_equal(test_state(a)->forge_addr[1], 0);
	assert_int_equal(irq_forge_expect(a, 0xfee03000, 0xee), 0);
	assert_int_equal(test_state(a)->forge_addr[1], 0xfee03000);
	assert_int_equal(test_state(a)->forge_vector, 0xee);
	assert_int_equal(irq_forge_compat_hits(a), 0);
	fire(0xee);
	assert_int_equal(irq_forge_compat_hits(a), 1);
	irq_forge_disarm();
	assert_null(vec_fn[0xee]);
	assert_int_equal(irq_forge_compat_hits(a), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_handle_decode, setup),
		cmocka_unit_test_setup(test_canary, setup),
		cmocka_unit_test_setup(test_no_canary, setup),
		cmocka_unit_test_setup(test_fault_attribution, setup),
		cmocka_unit_test_setup(test_expect, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
