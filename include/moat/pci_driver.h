/* Drivers moat itself runs for PCI functions it keeps (today the 82576 PF), bound by
 * vendor:device from one table in pci/driver.c. The PCI layer gives each bound function
 * an interrupt of its own (MSI-X entry 0, else MSI) through an interrupt remapping entry
 * to CPU 0; when the function does not deliver it, a periodic timer on CPU 0 stands in. */
#ifndef MOAT_PCI_DRIVER_H
#define MOAT_PCI_DRIVER_H

#include <moat/pci.h>

struct pci_driver {
	const char *name;
	u16 vendor, device;
	/* Takes the function (after SR-IOV is enabled on it); 0: bound, moat drives it. */
	int (*probe)(struct pci_dev *d);
	/* Routes the device's events to its first MSI-X entry (msix) or its MSI. */
	int (*irq_enable)(struct pci_dev *d, bool msix);
	/* Makes the device raise that interrupt now (a cause set by software), so that the
	 * PCI layer sees whether it arrives. */
	void (*irq_test)(struct pci_dev *d);
	/* Serves the device's events on CPU 0 after its interrupt or a timer tick; returns
	 * the number of events handled. */
	unsigned (*service)(struct pci_dev *d);
	/* Whether the driver held work back (e.g. a rate limit) that no interrupt will announce:
	 * CPU 0's timer then calls service again every poll_us until it is done. Optional. */
	bool (*deferred)(struct pci_dev *d);
	/* How often CPU 0 serves the device when its interrupt does not arrive or work waits. */
	u32 poll_us;
};

/* Binds every function the table names (pci_init, after SR-IOV). */
void pci_drivers_probe(void);
/* Gives each bound function its interrupt (after the IOMMU is up) and checks it arrives;
 * otherwise says so once and serves it from CPU 0's timer, whose vector it takes too.
 * Once only. */
void pci_drivers_irq_init(void);
/* On CPU 0 while it waits for events: arms the timer if a bound function needs one /
 * stops it. */
void pci_drivers_wait_begin(void);
void pci_drivers_wait_end(void);
/* On CPU 0: serves every bound function whose interrupt came or whose timer tick is due;
 * returns the number of events handled. */
unsigned pci_drivers_service(void);

#endif
