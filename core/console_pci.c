/* console=pci:<BB:DD.F>[,<baud>]: a PCI/PCIe serial card (16550-compatible at BAR 0, I/O or
 * memory space) as one more console, once PCI enumeration has found it. */
#define LOG_TAG "moat"
#include <moat/cmdline.h>
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pci.h>
#include <moat/string.h>
#include "arch/x86/paging.h"
#include "arch/x86/serial.h"
#include "core/console_pci.h"

static struct uart16550 pci_uart;

static void pci_uart_write(void *ctx, const char *s, size_t n)
{
	uart16550_write(ctx, s, n);
}

/* "BB:DD.F" or "SSSS:BB:DD.F", then an optional ",<baud>". */
static int parse_pci_spec(const char *p, u16 *seg, u8 *bus, u8 *dev, u8 *fn, u32 *baud)
{
	u64 v[4];
	unsigned n = 0;

	*seg = 0;
	*baud = 115200;
	for (;;) {
		const char *start = p;

		if (n == 4 || !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				(*p >= 'A' && *p <= 'F')))
			return -EINVAL;
		v[n] = 0;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		       (*p >= 'A' && *p <= 'F')) {
			v[n] = v[n] * 16 + (u64)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
			if (p - start > 4)
				return -EINVAL;
			p++;
		}
		n++;
		if (*p == ':' || (*p == '.' && n >= 2)) {
			p++;
			continue;
		}
		break;
	}
	if (n == 4) {
		*seg = (u16)v[0];
		memmove(v, v + 1, 3 * sizeof(v[0]));
		n = 3;
	}
	if (n != 3 || v[0] > 0xff || v[1] > 0x1f || v[2] > 7)
		return -EINVAL;
	*bus = (u8)v[0];
	*dev = (u8)v[1];
	*fn = (u8)v[2];
	if (*p == ',') {
		u64 b;

		p++;
		if (parse_u64(&p, &b, false) || !b || b > 115200 || 115200 % b)
			return -EINVAL;
		*baud = (u32)b;
	}
	return *p ? -EINVAL : 0;
}

int console_pci_init(void)
{
	char arg[48];
	u16 seg, cmd;
	u8 bus, dev, fn;
	u32 baud;
	struct pci_dev *d;
	const struct pci_bar *bar;
	int err;

	if (cmdline_get("console", arg, sizeof(arg)) < 0 || strncmp(arg, "pci:", 4))
		return 0;
	if (parse_pci_spec(arg + 4, &seg, &bus, &dev, &fn, &baud))
		return pr_err(-EINVAL, "console=%s: not pci:[SSSS:]BB:DD.F[,<baud>]\n", arg);
	d = pci_find_bdf(seg, bus, dev, fn);
	if (!d)
		return pr_err(-ENODEV, "console=%s: no such PCI function\n", arg);
	bar = &d->bar[0];
	if (!bar->size || !bar->base)
		return pr_err(-ENODEV, "console=%s: BAR 0 is not implemented or not assigned\n",
			      arg);
	err = pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0);
	if (err)
		return pr_err(err, "console=%s: the function belongs to someone else\n", arg);
	cmd = pci_read16(d, PCI_COMMAND);
	cmd |= bar->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	pci_write16(d, PCI_COMMAND, cmd);
	if (bar->type == PCI_BAR_IO) {
		err = uart16550_init(&pci_uart, UART_PIO, bar->base, 0, baud);
	} else {
		err = paging_map_mmio(bar->base, PAGE_SIZE);
		if (!err)
			err = uart16550_init(&pci_uart, UART_MMIO, bar->base, 0, baud);
	}
	if (err)
		return pr_err(err, "console=%s: no 16550 answers at BAR 0 (%#llx)\n", arg,
			      (unsigned long long)bar->base);
	err = console_add(&(struct console_out){"pci-uart", pci_uart_write, &pci_uart});
	if (err)
		return pr_err(err, "console=%s: no console slot left\n", arg);
	pr_info("console on PCI serial %04x:%02x:%02x.%x (%s %#llx, %u baud)\n", seg, bus, dev, fn,
		bar->type == PCI_BAR_IO ? "I/O" : "MMIO", (unsigned long long)bar->base, baud);
	return 0;
}
