/* Guest port I/O: the devices of the table below (COM1, vmm/vuart.c; the platform devices,
 * vmm/platform.c), the PCI configuration mechanism #1 (CF8/CFC) onto the guest's virtual
 * config space, and everything else denied (reads all-ones, writes dropped, counted). */
#define LOG_TAG "vmm"
#include <moat/console.h>
#include <moat/log.h>
#include <moat/string.h>
#include <moat/test_hooks.h>
#include "vmm/exits.h"
#include "vmm/platform.h"
#include "vmm/vpci.h"
#include "vmm/vuart.h"

/* PCI configuration mechanism #1 */
#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

/* Devices on port ranges, sorted by port (found by binary search): an access wholly
 * inside a range goes to its handler, which returns false for one its device does not
 * have. */
static const struct port_device {
	u16 first, last;
	bool (*io)(struct guest *g, u16 port, bool in, u8 size, u32 *val);
} port_devices[] = {
	{VPIT_PORT_FIRST, VPIT_PORT_CW, platform_pit_io},
	{VPIT_PORT_61, VPIT_PORT_61, platform_pit_io},
	{VRESET_KBC_PORT, VRESET_KBC_PORT, platform_kbc_io},
	{VRTC_INDEX_PORT, VRTC_DATA_PORT, platform_rtc_io},
	{VUART_BASE, VUART_BASE + VUART_PORTS - 1, vuart_io},
	{VPM_PORT_FIRST, VPM_PORT_LAST, platform_pm_io},
	{VRESET_CF9_PORT, VRESET_CF9_PORT, platform_cf9_io},
};

static const struct port_device *port_device(u16 port)
{
	unsigned lo = 0, hi = ARRAY_SIZE(port_devices);

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (port < port_devices[mid].first)
			hi = mid;
		else if (port > port_devices[mid].last)
			lo = mid + 1;
		else
			return &port_devices[mid];
	}
	return NULL;
}

static bool io_emulated(struct guest *g, const struct vmm_exit *e, u32 *val)
{
	u16 port = e->io.port;
	const struct port_device *d = port_device(port);

	if (d && port + e->io.size - 1 <= d->last)
		return d->io(g, port, e->io.in, e->io.size, val);

	if (port == PCI_CONF_ADDR && e->io.size == 4) {
		if (e->io.in)
			*val = g->pci_addr;
		else
			g->pci_addr = *val & (PCI_ADDR_ENABLE | GENMASK(23, 2));
		return true;
	}
	if (port >= PCI_CONF_DATA && port < PCI_CONF_DATA + 4 &&
	    (port - PCI_CONF_DATA) + e->io.size <= 4) {
		if (!(g->pci_addr & PCI_ADDR_ENABLE))
			*val = 0xffffffff; /* no configuration cycle: the bus floats */
		else if (e->io.in)
			*val = vpci_read(g, vpci_addr_bdf(g->pci_addr),
					 vpci_addr_reg(g->pci_addr) + (port - PCI_CONF_DATA),
					 e->io.size);
		else
			vpci_write(g, vpci_addr_bdf(g->pci_addr),
				   vpci_addr_reg(g->pci_addr) + (port - PCI_CONF_DATA), e->io.size,
				   *val);
		return true;
	}
	return false;
}

/* The test image's ports (tests/hv/exits_port.c); none in the product. */
static bool io_test_port(struct vcpu *v, const struct vmm_exit *e, u32 *val)
{
	return TEST_HOOK_PRESENT(guest_port_io) &&
	       test_hooks->guest_port_io(v, e->io.port, e->io.in, e->io.size, val);
}

int vmm_handle_io(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	u64 rax = v->gpr[VMM_REG_RAX];
	u32 mask = e->io.size == 4 ? 0xffffffff : (1u << (e->io.size * 8)) - 1;
	u32 val = (u32)rax & mask;

	if (e->io.string || !(io_emulated(g, e, &val) || io_test_port(v, e, &val))) {
		__atomic_fetch_add(&g->io_denied, 1, __ATOMIC_RELAXED); /* several vCPUs */
		pr_debug("guest %s: %s%s port %#x denied\n", g->cfg.name,
			 e->io.string ? "string " : "", e->io.in ? "in from" : "out to",
			 e->io.port);
		val = 0xffffffff;
	}
	if (e->io.in && !e->io.string) {
		if (e->io.size == 4)
			rax = val; /* a 32-bit destination zero-extends */
		else
			rax = (rax & ~(u64)mask) | (val & mask);
		v->gpr[VMM_REG_RAX] = rax;
	}
	vmm_be->skip_instruction(v, e);
	return 0;
}
