#ifndef CORE_CONSOLE_PCI_H
#define CORE_CONSOLE_PCI_H

/* Adds the PCI serial card named by console=pci:<BDF> as a console (after pci_init). */
int console_pci_init(void);

#endif
