/* The table of drivers moat runs for functions it keeps, bound by vendor:device, and the
 * interrupt each bound function gets: its first MSI-X entry (else its MSI), sent through an
 * interrupt remapping entry that only its own requester ID may use, to CPU 0. A function
 * whose interrupt does not arrive when its driver makes it raise one is served from a
 * periodic timer on CPU 0 instead, and the log says so once. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/iommu.h>
#include <moat/log.h>
#include <moat/msi.h>
#include <moat/pci_driver.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include <moat/time.h>
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "pci/internal.h"

#define PCI_MAX_BOUND 8
/* How long a software-raised cause may take to arrive (the device's interrupt moderation
 * is off; QEMU delivers at once). */
#define IRQ_TEST_US 50000

extern const struct pci_driver igb_pf_driver;

static const struct pci_driver *const drivers[] = {&igb_pf_driver};

struct pci_bound {
	struct pci_dev *dev;
	const struct pci_driver *drv;
	int vector;
	struct iommu_irq irq;
	bool remapped, polled;
	bool deferred; /* its driver holds work back for later (no interrupt will come) */
	u32 fired;     /* interrupts not served yet */
	u64 irqs, services, events;
};

static struct pci_bound bound[PCI_MAX_BOUND];
static unsigned nr_bound;
static bool irqs_set_up, waiting;
static int timer_vector = -1;
static u32 timer_period_us; /* 0: CPU 0's timer is off */

void pci_drivers_probe(void)
{
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		struct pci_dev *d = pci_dev_at(i);

		for (unsigned k = 0; k < ARRAY_SIZE(drivers); k++) {
			const struct pci_driver *drv = drivers[k];

			if (d->vendor != drv->vendor || d->device != drv->device)
				continue;
			if (nr_bound == PCI_MAX_BOUND) {
				pr_warn("%04x:%02x:%02x.%x: more than %u functions for moat's "
					"drivers; left alone\n",
					d->seg, d->bus, d->dev, d->fn, PCI_MAX_BOUND);
				break;
			}
			if (drv->probe(d))
				break;
			bound[nr_bound++] = (struct pci_bound){.dev = d, .drv = drv, .vector = -1};
			break;
		}
	}
}

static void bound_irq(struct trap_frame *f, void *ctx)
{
	struct pci_bound *b = ctx;

	(void)f;
	__atomic_fetch_add(&b->fired, 1, __ATOMIC_RELAXED);
	b->irqs++;
}

/* The message the function sends: through its own remapping entry to CPU 0, or in
 * compatibility format where nothing remaps interrupts. */
static int irq_message(struct pci_bound *b, u32 *addr, u32 *data)
{
	struct pci_dev *d = b->dev;
	struct iommu_irq_cfg cfg = {.dest_apic_id = cpu_data[0].apic_id, .vector = (u8)b->vector};
	int err;

	if (!iommu_irq_remapping()) {
		*addr = (u32)(FIELD_PREP(MSI_ADDR_BASE, MSI_ADDR_BASE_VAL) |
			      FIELD_PREP(MSI_ADDR_DEST_ID, cpu_data[0].apic_id));
		*data = (u32)FIELD_PREP(MSI_DATA_VECTOR, b->vector);
		return 0;
	}
	err = iommu_irq_alloc(d->seg, d->rid, d->rid, &b->irq);
	if (err)
		return pr_err(err, "%04x:%02x:%02x.%x: no interrupt remapping entry\n", d->seg,
			      d->bus, d->dev, d->fn);
	err = iommu_irq_program(&b->irq, &cfg);
	if (err) {
		iommu_irq_free(&b->irq);
		return pr_err(err, "%04x:%02x:%02x.%x: programming IRTE %u failed\n", d->seg,
			      d->bus, d->dev, d->fn, b->irq.index);
	}
	b->remapped = true;
	*addr = b->irq.msi_addr;
	*data = b->irq.msi_data;
	return 0;
}

/* Entry 0 of the MSI-X table, unmasked, then MSI-X on (INTx off). */
static int msix_program(struct pci_dev *d, u32 addr, u32 data)
{
	const struct pci_bar *bar = &d->bar[d->msix.table_bir];
	u64 entry;
	u16 ctrl;

	if (d->msix.table_bir >= PCI_NR_BARS || !bar->base || !bar->size ||
	    d->msix.table_offset + MSIX_ENTRY_SIZE > bar->size)
		return pr_err(-ENODEV, "%04x:%02x:%02x.%x: MSI-X table outside BAR%u\n", d->seg,
			      d->bus, d->dev, d->fn, d->msix.table_bir);
	entry = bar->base + d->msix.table_offset;
	mmio_write32(entry + 4 * MSIX_ENTRY_CTRL, MSIX_ENTRY_CTRL_MASKED);
	mmio_write32(entry + 4 * MSIX_ENTRY_ADDR_LO, addr);
	mmio_write32(entry + 4 * MSIX_ENTRY_ADDR_HI, 0);
	mmio_write32(entry + 4 * MSIX_ENTRY_DATA, data);
	mmio_write32(entry + 4 * MSIX_ENTRY_CTRL, 0);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	ctrl = pci_read16(d, d->cap_msix + 2);
	pci_write16(d, d->cap_msix + 2, (u16)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK));
	return 0;
}

/* One message, no multiple-message vectors. */
static int msi_program(struct pci_dev *d, u32 addr, u32 data)
{
	u16 ctrl = pci_read16(d, d->cap_msi + 2);

	pci_write32(d, d->cap_msi + MSI_REG_ADDR_LO, addr);
	if (ctrl & MSI_CTRL_64BIT) {
		pci_write32(d, d->cap_msi + MSI_REG_ADDR_HI, 0);
		pci_write16(d, d->cap_msi + MSI_REG_DATA_64, (u16)data);
	} else {
		pci_write16(d, d->cap_msi + MSI_REG_DATA_32, (u16)data);
	}
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	pci_write16(d, d->cap_msi + 2, (u16)((ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE));
	return 0;
}

static int irq_route(struct pci_bound *b)
{
	struct pci_dev *d = b->dev;
	bool msix = d->cap_msix && d->msix.table_size;
	u32 addr = 0, data = 0;
	int err;

	if (!msix && !d->cap_msi)
		return -ENODEV;
	b->vector = irq_alloc_vector(bound_irq, b);
	if (b->vector < 0)
		return pr_err(b->vector, "%04x:%02x:%02x.%x: no vector on CPU 0\n", d->seg, d->bus,
			      d->dev, d->fn);
	err = irq_message(b, &addr, &data);
	if (!err)
		err = msix ? msix_program(d, addr, data) : msi_program(d, addr, data);
	if (TEST_HOOK_PRESENT(pci_irq_withheld) && test_hooks->pci_irq_withheld())
		return 0;
	if (!err && b->drv->irq_enable)
		err = b->drv->irq_enable(d, msix);
	return err;
}

/* Whether the interrupt arrives: the driver makes the device raise it, CPU 0 takes
 * interrupts for a bounded while. */
static bool irq_arrives(struct pci_bound *b)
{
	if (!b->drv->irq_test)
		return false;
	__atomic_store_n(&b->fired, 0, __ATOMIC_RELAXED);
	b->drv->irq_test(b->dev);
	return WAIT_US((irq_window(), __atomic_load_n(&b->fired, __ATOMIC_RELAXED)), IRQ_TEST_US);
}

static void irq_init_one(struct pci_bound *b)
{
	struct pci_dev *d = b->dev;
	int err = irq_route(b);

	if (!err && irq_arrives(b)) {
		if (b->remapped)
			pr_info("%04x:%02x:%02x.%x (%s): events through %s, IRTE %u (source ID "
				"%04x verified), vector %#x on CPU 0\n",
				d->seg, d->bus, d->dev, d->fn, b->drv->name,
				d->cap_msix ? "MSI-X entry 0" : "MSI", b->irq.index, d->rid,
				b->vector);
		else
			pr_info("%04x:%02x:%02x.%x (%s): events through %s, vector %#x on CPU 0 "
				"(no interrupt remapping)\n",
				d->seg, d->bus, d->dev, d->fn, b->drv->name,
				d->cap_msix ? "MSI-X entry 0" : "MSI", b->vector);
		b->drv->service(d);
		return;
	}
	b->polled = true;
	if (err)
		pr_warn("%04x:%02x:%02x.%x (%s): no interrupt of its own (%d): served every %u us "
			"from CPU 0's timer\n",
			d->seg, d->bus, d->dev, d->fn, b->drv->name, err, b->drv->poll_us);
	else
		pr_warn("%04x:%02x:%02x.%x (%s): the device did not deliver the interrupt it was "
			"made to raise (%s, vector %#x) within %u ms: served every %u us from CPU "
			"0's timer\n",
			d->seg, d->bus, d->dev, d->fn, b->drv->name,
			d->cap_msix ? "MSI-X entry 0" : "MSI", b->vector, IRQ_TEST_US / 1000,
			b->drv->poll_us);
}

static void timer_tick(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
}

void pci_drivers_irq_init(void)
{
	if (irqs_set_up)
		return;
	irqs_set_up = true;
	for (unsigned i = 0; i < nr_bound; i++)
		irq_init_one(&bound[i]);
	/* CPU 0's timer vector as well, held from now on like the functions' own: the vectors
	 * of guests' devices come and go beside moat's, which are all taken before the guests
	 * start (vmm_run counts the free ones before and after). */
	if (nr_bound && timer_vector < 0)
		timer_vector = irq_alloc_vector(timer_tick, NULL);
}

/* CPU 0's periodic timer runs while a function is polled or has work its driver held back
 * (a rate limit): no interrupt comes for that. */
static void timer_update(void)
{
	u32 period = 0;
	int err;

	for (unsigned i = 0; i < nr_bound && waiting; i++)
		if ((bound[i].polled || bound[i].deferred) &&
		    (!period || bound[i].drv->poll_us < period))
			period = bound[i].drv->poll_us;
	if (period == timer_period_us)
		return;
	if (timer_vector < 0)
		timer_vector = irq_alloc_vector(timer_tick, NULL);
	if (timer_vector < 0) {
		pr_err(timer_vector, "no vector for CPU 0's timer: polled functions are served "
				     "only when another event wakes it\n");
		return;
	}
	timer_period_us = period;
	if (!period) {
		apic_timer_stop((u8)timer_vector);
		return;
	}
	err = apic_timer_periodic((u8)timer_vector, period);
	if (err)
		pr_err(err, "no timer on CPU 0: polled functions are served only when another "
			    "event wakes it\n");
}

void pci_drivers_wait_begin(void)
{
	pci_drivers_irq_init();
	waiting = true;
	timer_update();
}

void pci_drivers_wait_end(void)
{
	waiting = false;
	timer_update();
	for (unsigned i = 0; i < nr_bound; i++) {
		const struct pci_bound *b = &bound[i];
		const struct pci_dev *d = b->dev;

		pr_info("%04x:%02x:%02x.%x (%s): %llu interrupts, served %llu times (%s), %llu "
			"events\n",
			d->seg, d->bus, d->dev, d->fn, b->drv->name, (unsigned long long)b->irqs,
			(unsigned long long)b->services, b->polled ? "timer" : "on interrupt",
			(unsigned long long)b->events);
	}
}

unsigned pci_drivers_service(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr_bound; i++) {
		struct pci_bound *b = &bound[i];
		unsigned got;

		if (!b->polled && !b->deferred &&
		    !__atomic_exchange_n(&b->fired, 0, __ATOMIC_RELAXED))
			continue;
		got = b->drv->service(b->dev);
		b->deferred = b->drv->deferred && b->drv->deferred(b->dev);
		b->services++;
		b->events += got;
		n += got;
	}
	if (waiting)
		timer_update();
	return n;
}
