/* Guest port I/O: a virtual COM1 whose output is relayed line by line as "[<guest>] ...",
 * the PCI configuration mechanism #1 (CF8/CFC) onto the guest's virtual config space, the
 * platform devices of the table below, and everything else denied (reads all-ones, writes
 * dropped, counted). */
#define LOG_TAG "vmm"
#include <moat/console.h>
#include <moat/log.h>
#include <moat/string.h>
#include "vmm/exits.h"
#include "vmm/platform.h"
#include "vmm/vpci.h"

/* 16550 UART registers (offsets from COM1_BASE) */
#define COM1_BASE 0x3f8
#define COM_THR 0 /* DLAB=0 write */
#define COM_RBR 0 /* DLAB=0 read */
#define COM_DLL 0 /* DLAB=1 */
#define COM_IER 1
#define COM_DLM 1 /* DLAB=1 */
#define COM_IIR 2
#define COM_IIR_NONE 0x01
#define COM_LCR 3
#define COM_LCR_DLAB BIT(7)
#define COM_MCR 4
#define COM_LSR 5
#define COM_LSR_THRE BIT(5)
#define COM_LSR_TEMT BIT(6)
#define COM_MSR 6
#define COM_SCR 7

/* PCI configuration mechanism #1 */
#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

/* Results reach the summary only through the REPORT hypercall, which prints the guest's
 * TAP line itself: a console line that looks like one is marked so that no parser counts
 * it as a result. */
static bool looks_like_tap(const char *s, u32 len)
{
	u32 skip = len >= 4 && !strncmp(s, "not ", 4) ? 4 : 0;

	return len - skip >= 3 && !strncmp(s + skip, "ok ", 3);
}

void vmm_console_flush(struct guest *g)
{
	char line[GUEST_CONSOLE_LINE + CFG_NAME_MAX + 32];
	int n;

	if (!g->con_len)
		return;
	n = snprintf(line, sizeof(line), "[%s] %s%.*s\n", g->cfg.name,
		     looks_like_tap(g->con, g->con_len) ? "# console, not a result: " : "",
		     (int)g->con_len, g->con);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	g->con_len = 0;
}

void vmm_console_putc(struct guest *g, char c)
{
	if (c == '\n') {
		vmm_console_flush(g);
		return;
	}
	if (c == '\r')
		return;
	/* Control characters would let a guest forge or garble the hypervisor's lines. */
	if ((u8)c < 0x20 || (u8)c >= 0x7f)
		c = '?';
	g->con[g->con_len++] = c;
	if (g->con_len == GUEST_CONSOLE_LINE - 1)
		vmm_console_flush(g);
}

static u32 com_read(struct guest *g, u16 reg)
{
	bool dlab = g->com_lcr & COM_LCR_DLAB;

	switch (reg) {
	case COM_RBR: return dlab ? g->com_dll & 0xff : 0;
	case COM_IER: return dlab ? g->com_dll >> 8 : g->com_ier;
	case COM_IIR: return COM_IIR_NONE;
	case COM_LCR: return g->com_lcr;
	case COM_MCR: return g->com_mcr;
	case COM_LSR: return COM_LSR_THRE | COM_LSR_TEMT;
	case COM_MSR: return 0;
	default: return g->com_scr;
	}
}

static void com_write(struct guest *g, u16 reg, u8 val)
{
	bool dlab = g->com_lcr & COM_LCR_DLAB;

	switch (reg) {
	case COM_THR:
		if (dlab)
			g->com_dll = (u16)((g->com_dll & 0xff00) | val);
		else
			vmm_console_putc(g, (char)val);
		break;
	case COM_IER:
		if (dlab)
			g->com_dll = (u16)((g->com_dll & 0xff) | (val << 8));
		else
			g->com_ier = val & 0x0f;
		break;
	case COM_LCR: g->com_lcr = val; break;
	case COM_MCR: g->com_mcr = val & 0x1f; break;
	case COM_SCR: g->com_scr = val; break;
	default: break; /* FCR, LSR, MSR: nothing to do */
	}
}

/* Devices on port ranges: an access wholly inside a range goes to its handler, which
 * returns false for one its device does not have. */
static const struct port_device {
	u16 first, last;
	bool (*io)(struct guest *g, u16 port, bool in, u8 size, u32 *val);
} port_devices[] = {
	{VPIT_PORT_FIRST, VPIT_PORT_CW, platform_pit_io},
	{VPIT_PORT_61, VPIT_PORT_61, platform_pit_io},
	{VRESET_KBC_PORT, VRESET_KBC_PORT, platform_kbc_io},
	{VRTC_INDEX_PORT, VRTC_DATA_PORT, platform_rtc_io},
	{VPM_PORT_FIRST, VPM_PORT_LAST, platform_pm_io},
	{VRESET_CF9_PORT, VRESET_CF9_PORT, platform_cf9_io},
};

static bool io_emulated(struct guest *g, const struct vmm_exit *e, u32 *val)
{
	u16 port = e->io.port;

	for (unsigned i = 0; i < ARRAY_SIZE(port_devices); i++) {
		const struct port_device *d = &port_devices[i];

		if (port >= d->first && port + e->io.size - 1 <= d->last)
			return d->io(g, port, e->io.in, e->io.size, val);
	}

	if (port >= COM1_BASE && port < COM1_BASE + 8 && e->io.size == 1) {
		if (e->io.in)
			*val = com_read(g, port - COM1_BASE);
		else
			com_write(g, port - COM1_BASE, (u8)*val);
		return true;
	}
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

int vmm_handle_io(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	u64 rax = vmm_be->get_reg(v, VMM_REG_RAX);
	u32 mask = e->io.size == 4 ? 0xffffffff : (1u << (e->io.size * 8)) - 1;
	u32 val = (u32)rax & mask;

	if (e->io.string || !io_emulated(g, e, &val)) {
		g->io_denied++;
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
		vmm_be->set_reg(v, VMM_REG_RAX, rax);
	}
	vmm_be->skip_instruction(v, e);
	return 0;
}
