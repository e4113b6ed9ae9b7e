/* The PCI device list of host_devlist.c, for tests of code that walks it. */
#ifndef TESTS_HOST_DEVLIST_H
#define TESTS_HOST_DEVLIST_H

#include <moat/pci.h>

#define HOST_MAX_DEVS 32
extern struct pci_dev host_devs[HOST_MAX_DEVS];
extern unsigned host_nr_devs;

#endif
