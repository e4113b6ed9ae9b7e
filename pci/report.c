/* The lspci-like listing: one line per function, then its BARs, windows and capabilities.
 *   pci: 0000:01:00.0 8086:10c9 class 020000 rev 01 hdr 0 owner none
 *   pci:   bar0 mem32 0xfe800000 size 0x20000
 *   pci:   caps pm@40 msi@50 msix@70(10 vectors, table 3:0x0, pba 3:0x2000) pcie@a0(endpoint ...)
 * tests/emu/matrix.py compares the first line of each function with QEMU's `info pci`. */
#define LOG_TAG "pci"
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"

static const char *port_type_name(u8 t)
{
	switch (t) {
	case PCIE_TYPE_ENDPOINT: return "endpoint";
	case PCIE_TYPE_LEGACY_ENDPOINT: return "legacy-endpoint";
	case PCIE_TYPE_RC_INTEGRATED: return "rc-integrated";
	case PCIE_TYPE_RC_EVENT_COLLECTOR: return "rc-event-collector";
	case PCIE_TYPE_ROOT_PORT: return "root-port";
	case PCIE_TYPE_UPSTREAM: return "upstream-port";
	case PCIE_TYPE_DOWNSTREAM: return "downstream-port";
	case PCIE_TYPE_PCIE_TO_PCI: return "pcie-to-pci";
	case PCIE_TYPE_PCI_TO_PCIE: return "pci-to-pcie";
	default: return "unknown";
	}
}

#define APPEND(buf, n, ...)                                                                        \
	do {                                                                                       \
		if ((size_t)(n) < sizeof(buf))                                                     \
			(n) += snprintf((buf) + (n), sizeof(buf) - (size_t)(n), __VA_ARGS__);      \
	} while (0)

static void print_caps(const struct pci_dev *d)
{
	char s[320];
	int n = 0;

	s[0] = 0;
	if (d->cap_pm)
		APPEND(s, n, " pm@%x", d->cap_pm);
	if (d->cap_msi)
		APPEND(s, n, " msi@%x(%u vectors%s)", d->cap_msi, d->msi_vectors,
		       d->msi_64bit ? ", 64-bit" : "");
	if (d->cap_msix)
		APPEND(s, n, " msix@%x(%u vectors, table %u:%#x, pba %u:%#x)", d->cap_msix,
		       d->msix.table_size, d->msix.table_bir, d->msix.table_offset, d->msix.pba_bir,
		       d->msix.pba_offset);
	if (d->cap_pcie)
		APPEND(s, n, " pcie@%x(%s, link gen%u x%u of gen%u x%u%s)", d->cap_pcie,
		       port_type_name(d->pcie.port_type), d->pcie.link_speed, d->pcie.link_width,
		       d->pcie.max_link_speed, d->pcie.max_link_width,
		       d->pcie.ari_forwarding ? ", ari-forwarding" : "");
	if (d->ecap_aer)
		APPEND(s, n, " aer@%x", d->ecap_aer);
	if (d->ecap_acs)
		APPEND(s, n, " acs@%x(cap %#x ctrl %#x)", d->ecap_acs, d->acs.cap, d->acs.ctrl);
	if (d->ecap_ari)
		APPEND(s, n, " ari@%x", d->ecap_ari);
	if (d->ecap_sriov)
		APPEND(s, n, " sriov@%x", d->ecap_sriov);
	if (d->cap_list_broken)
		APPEND(s, n, " (list cut: malformed)");
	if (n)
		pr_info("  caps%s\n", s);
}

static void print_window(const char *name, const struct pci_window *w)
{
	if (pci_window_open(w))
		pr_info("  %s window %#llx-%#llx\n", name, (unsigned long long)w->base,
			(unsigned long long)w->limit);
}

static void print_dev(const struct pci_dev *d)
{
	char owner[16];

	pr_info("%04x:%02x:%02x.%x %04x:%04x class %06x rev %02x hdr %u%s%s owner %s\n", d->seg,
		d->bus, d->dev, d->fn, d->vendor, d->device, d->class, d->revision, d->header_type,
		d->multifunction ? " multifunction" : "", d->is_vf ? " vf" : "",
		pci_owner_name(&d->owner, owner, sizeof(owner)));
	if (d->subsys_vendor || d->subsys_id || d->irq_pin)
		pr_info("  subsystem %04x:%04x irq pin %c\n", d->subsys_vendor, d->subsys_id,
			d->irq_pin ? 'A' + d->irq_pin - 1 : '-');
	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		if (d->bar[b].type != PCI_BAR_NONE)
			pr_info("  bar%u %s %#llx size %#llx\n", b, pci_bar_type_name(&d->bar[b]),
				(unsigned long long)d->bar[b].base,
				(unsigned long long)d->bar[b].size);
	if (d->header_type == 1) {
		pr_info("  bridge buses %02x-%02x (primary %02x)\n", d->secondary, d->subordinate,
			d->primary);
		print_window("io", &d->io_window);
		print_window("mem", &d->mem_window);
		print_window(d->pref_64bit ? "pref64" : "pref", &d->pref_window);
	}
	print_caps(d);
}

void pci_print_devices(void)
{
	unsigned shown = 0;

	for (unsigned i = 0; i < pci_dev_count(); i++) {
		const struct pci_dev *d = pci_dev_at(i);

		if (d->present) {
			print_dev(d);
			shown++;
		}
	}
	pr_info("%u functions listed\n", shown);
}
