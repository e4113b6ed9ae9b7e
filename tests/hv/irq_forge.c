/* Forged interrupt messages from guests' devices: the canary entry, the interrupt faults
 * attributed to guests, and the forgeries guests announce (vmm/irq_forge.h). */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/string.h>
#include "arch/x86/apic.h"
#include "arch/x86/trap.h"
#include "tests/hv/guest_state.h"
#include "tests/hv/irq_forge.h"

struct irq_canary irq_canary;

static void canary_fired(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	__atomic_fetch_add(&irq_canary.hits, 1, __ATOMIC_RELAXED);
	pr_warn("interrupt canary: a message through IRTE %u was delivered\n",
		irq_canary.irq.index);
}

static void compat_fired(struct trap_frame *f, void *ctx)
{
	struct guest *g = ctx;
	struct test_guest_state *t = test_state(g);

	(void)f;
	__atomic_fetch_add(&t->forge_compat_hits, 1, __ATOMIC_RELAXED);
	pr_warn("guest %s: its compatibility-format message was delivered at vector %#x\n",
		g->cfg.name, t->forge_vector);
}

/* Interrupt context, on the CPU that takes fault events. */
static void attribute_fault(const struct iommu_fault *f, void *ctx)
{
	(void)ctx;
	if (!f->interrupt || !f->domain || f->reason < IRQ_FAULT_FIRST ||
	    f->reason >= IRQ_FAULT_FIRST + ARRAY_SIZE(((struct test_guest_state *)0)->irq_faults))
		return;
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct guest *g = &vmm_guests[i];
		struct test_guest_state *t = test_state(g);

		if (g->domain != f->domain)
			continue;
		t->irq_fault_index[f->reason - IRQ_FAULT_FIRST] = (u32)f->addr;
		__atomic_fetch_add(&t->irq_faults[f->reason - IRQ_FAULT_FIRST], 1,
				   __ATOMIC_RELAXED);
	}
}

/* The PF of the first VF a guest has: a function the hypervisor drives and no guest may
 * send interrupts as. */
static const struct pci_dev *canary_owner(void)
{
	for (u32 i = 0; i < vmm_nr_guests; i++)
		for (u32 j = 0; j < vmm_guests[i].nr_dev; j++) {
			const struct pci_dev *d = vmm_guests[i].dev[j].pdev;

			if (d && d->is_vf && d->pf)
				return d->pf;
		}
	return NULL;
}

int irq_forge_arm(void)
{
	const struct pci_dev *pf = canary_owner();
	struct iommu_irq_cfg cfg = {0};
	int err, vec;

	iommu_set_fault_callback(attribute_fault, NULL);
	if (!pf || !iommu_irq_remapping())
		return 0;
	vec = irq_alloc_vector(canary_fired, NULL);
	if (vec < 0)
		return pr_err(vec, "interrupt canary: no vector\n");
	err = iommu_irq_alloc(pf->seg, pf->rid, pf->rid, &irq_canary.irq);
	if (err) {
		irq_free_vector((u8)vec);
		return pr_err(err, "interrupt canary: no remapping entry for %04x\n", pf->rid);
	}
	irq_canary.vector = (u8)vec;
	irq_canary.apic_id = apic_id();
	irq_canary.hits = 0;
	cfg.dest_apic_id = irq_canary.apic_id;
	cfg.vector = irq_canary.vector;
	err = iommu_irq_program(&irq_canary.irq, &cfg);
	if (err) {
		iommu_irq_free(&irq_canary.irq);
		irq_free_vector((u8)vec);
		return pr_err(err, "interrupt canary: IRTE %u not programmed\n",
			      irq_canary.irq.index);
	}
	irq_canary.armed = true;
	pr_info("interrupt canary: IRTE %u of %04x:%02x:%02x.%x (the PF, no guest's) -> vector "
		"%#x on APIC %u\n",
		irq_canary.irq.index, pf->seg, pf->bus, pf->dev, pf->fn, irq_canary.vector,
		irq_canary.apic_id);
	return 0;
}

void irq_forge_disarm(void)
{
	for (u32 i = 0; i < vmm_nr_guests; i++) {
		struct test_guest_state *t = test_state(&vmm_guests[i]);

		if (t->forge_vector)
			irq_free_vector(t->forge_vector);
	}
	if (!irq_canary.armed)
		return;
	iommu_irq_free(&irq_canary.irq);
	irq_free_vector(irq_canary.vector);
	irq_canary.armed = false;
}

u16 irq_forge_handle(u32 addr)
{
	return (u16)(FIELD_GET(MSI_ADDR_HANDLE_LO, addr) | (addr & MSI_ADDR_HANDLE15 ? 0x8000 : 0));
}

int irq_forge_expect(struct guest *g, u64 addr, u64 data)
{
	struct test_guest_state *t = test_state(g);
	bool remappable = addr & MSI_ADDR_IF_REMAPPABLE;
	u8 vector = (u8)FIELD_GET(MSI_DATA_VEC, data);

	if (addr > 0xffffffffULL || FIELD_GET(MSI_WINDOW_ADDR, addr) != MSI_WINDOW_BASE >> 20)
		return -EINVAL;
	if (!remappable && !t->forge_vector) {
		/* Counts what reaches the vector the message names, on any CPU. */
		if (vector < VEC_FIRST_IRQ || irq_register(vector, compat_fired, g))
			return -EBUSY;
		t->forge_vector = vector;
	}
	t->forge_addr[!remappable] = (u32)addr;
	t->forge_data[!remappable] = (u32)data;
	pr_info("guest %s announced a forged %s interrupt message: %#llx <- %#llx\n", g->cfg.name,
		remappable ? "remappable-format" : "compatibility-format", (unsigned long long)addr,
		(unsigned long long)data);
	return 0;
}

u64 irq_forge_compat_hits(const struct guest *g)
{
	return __atomic_load_n(&test_state(g)->forge_compat_hits, __ATOMIC_RELAXED);
}
