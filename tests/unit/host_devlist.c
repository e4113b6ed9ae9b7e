/* The PCI device list for host tests of code that walks it (pci_for_each_dev, lookups by
 * BDF): tests fill host_devs[0..host_nr_devs). */
#include "host_devlist.h"

struct pci_dev host_devs[HOST_MAX_DEVS];
unsigned host_nr_devs;

unsigned pci_dev_count(void)
{
	return host_nr_devs;
}

struct pci_dev *pci_dev_at(unsigned i)
{
	return i < host_nr_devs ? &host_devs[i] : NULL;
}

struct pci_dev *pci_find_bdf(u16 seg, u8 bus, u8 dev, u8 fn)
{
	for (unsigned i = 0; i < host_nr_devs; i++)
		if (host_devs[i].present && host_devs[i].seg == seg && host_devs[i].bus == bus &&
		    host_devs[i].dev == dev && host_devs[i].fn == fn)
			return &host_devs[i];
	return NULL;
}
