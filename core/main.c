/* kmain: the common C entry of both boot paths. */
#define LOG_TAG "moat"
#include <moat/boot_info.h>
#include <moat/boot_steps.h>
#include <moat/cmdline.h>
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include <moat/tap.h>
#include <moat/test_hooks.h>
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/serial.h"
#include "arch/x86/trap.h"
#include "core/boot_report.h"
#include "core/end.h"
#include "core/fbcon.h"

/* A private copy: the loader's structure lives in memory moat will reuse. */
static struct boot_info boot_info;
static struct uart16550 com;
static u8 bsp_ist[3 * IST_STACK_SIZE] __aligned(16);

extern char __image_start[], __image_end[];

const struct boot_info *boot_info_get(void)
{
	return &boot_info;
}

const struct boot_module *boot_module_find(const struct boot_info *bi, const char *name)
{
	for (u32 i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}

static void serial_console_write(void *ctx, const char *s, size_t n)
{
	uart16550_write(ctx, s, n);
}

/* serial=<spec>|off: the primary UART (default COM1 at 115200); console=mmio:<spec> adds a
 * memory-mapped one (console=pci:<BDF> a PCI card, after enumeration: core/console_pci.c). */
static void console_init(void)
{
	char arg[48];
	u8 space = UART_PIO, shift = 0;
	u64 base = 0x3f8;
	u32 baud = 115200;
	bool bad = false;

	if (cmdline_get("serial", arg, sizeof(arg)) >= 0 && strcmp(arg, "off")) {
		bad = uart_parse_spec(arg, &space, &base, &shift, &baud) != 0;
		if (bad) {
			space = UART_PIO;
			base = 0x3f8;
			baud = 115200;
		}
	}
	if (cmdline_get("serial", arg, sizeof(arg)) < 0 || strcmp(arg, "off")) {
		if (uart16550_init(&com, space, base, shift, baud) == 0)
			console_add(&(struct console_out){"serial", serial_console_write, &com});
	}
	if (bad)
		pr_err(-EINVAL,
		       "serial=%s is not <port>[,<baud>] or mmio:<addr>[:<shift>][,<baud>]: "
		       "COM1 at 115200 instead\n",
		       arg);
}

/* A memory-mapped UART needs moat's page tables (its page mapped uncached). */
static void console_mmio_init(void)
{
	static struct uart16550 mmio_uart;
	char arg[48];
	u8 space, shift;
	u64 base;
	u32 baud;

	if (cmdline_get("console", arg, sizeof(arg)) >= 0 && !strncmp(arg, "mmio:", 5)) {
		if (uart_parse_spec(arg, &space, &base, &shift, &baud) || space != UART_MMIO)
			pr_err(-EINVAL, "console=%s: not mmio:<addr>[:<shift>][,<baud>]\n", arg);
		else if (paging_map_mmio(base, PAGE_SIZE) ||
			 uart16550_init(&mmio_uart, space, base, shift, baud))
			pr_err(-ENODEV, "console=%s: no UART answers there\n", arg);
		else
			console_add(&(struct console_out){"mmio-uart", serial_console_write,
							  &mmio_uart});
	}
}

static void loglevel_init(void)
{
	static const char *const names[] = {"err", "warn", "info", "debug"};
	char arg[16];

	if (cmdline_get("loglevel", arg, sizeof(arg)) < 0)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(arg, names[i]))
			log_level = (int)i;
}

static int memory_init(void)
{
	struct pmm_range holes[] = {
		{(u64)(uintptr_t)__image_start, (u64)(uintptr_t)__image_end},
		{boot_info.trampoline, boot_info.trampoline ? boot_info.trampoline + PAGE_SIZE : 0},
	};
	int err;

	/* Below 1 MiB only the AP trampoline is ever taken from the allocator. */
	err = pmm_init(&hv_pmm, boot_info.mem, boot_info.nr_mem, holes, ARRAY_SIZE(holes),
		       PAGE_SIZE);
	if (err)
		return pr_err(err, "building the page allocator from the memory map failed\n");
	return paging_init(&boot_info);
}

static const char set_up_failed[] = "not ok 1 - moat: machine-set-up\n"
				    "# the loader's hand-over or memory set-up failed (see above): "
				    "no guest can run\n";

void kmain(const struct boot_info *bi)
{
	char arg[8];
	int err;

	memcpy(&boot_info, bi, sizeof(boot_info));
	cmdline_set(boot_info.cmdline);
	console_init();
	loglevel_init();
	cpu_data[0].index = 0;
	cpu_data[0].online = true;
	cpu_data[0].stack_top = 0;
	cpu_local_init(&cpu_data[0], (u64)(uintptr_t)bsp_ist);
	idt_init();
	nr_cpus_online = 1;

	pr_info("moat hypervisor starting (%s boot), command line \"%s\"\n",
		boot_method_name(boot_info.method), boot_info.cmdline);
	if (boot_info.entry_errors & BOOT_ENTRY_BAD_MAGIC)
		boot_step_done(BOOT_STEP_ENTRY,
			       pr_err(-EINVAL,
				      "started through the multiboot2 entry with %#x in EAX, not "
				      "the bootloader's magic: no memory map, no command line\n",
				      boot_info.entry_magic));
	if (boot_info.boot_problem[0])
		pr_err(-EINVAL, "what the %s loader handed over: %s\n",
		       boot_method_name(boot_info.method), boot_info.boot_problem);

	if (TEST_HOOK_PRESENT(memory_set_up_fails) && test_hooks->memory_set_up_fails())
		err = boot_step_done(BOOT_STEP_MEMORY,
				     pr_err(-ENOMEM, "test: memory set-up fails\n"));
	else
		err = boot_step_done(BOOT_STEP_MEMORY, memory_init());
	if (!err && (cmdline_get("fbcon", arg, sizeof(arg)) < 0 || strcmp(arg, "off")))
		fbcon_init(&boot_info.fb);
	if (!err)
		console_mmio_init();

	/* Fail closed: without memory nothing else can be set up, and no guest runs: a failure
	 * of the run, never an empty pass (no configuration was even read to count guests). */
	if (!err && !boot_step_error(BOOT_STEP_ENTRY)) {
		boot_subsystems_init(&boot_info);
		boot_report(&boot_info);
		/* the test image's self-tests need a machine that was set up */
		TEST_HOOK(after_guests);
	} else {
		console_write(set_up_failed, sizeof(set_up_failed) - 1);
		tap_count(TAP_FAIL);
	}
	moat_finish();
}
