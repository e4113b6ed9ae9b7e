/* The core's exit handling against a fake backend: CPUID filtering, denied and emulated
 * port I/O, the COM1 line relay, the virtual PCI space, MSR filtering, hypercall argument
 * and pointer checks, hypercalls refused at CPL > 0, the test range (served by the test
 * image's tests/hv/hypercalls.c, -ENOSYS without it), and stopping a guest on a nested page
 * fault or an unhandled exit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <moat/console.h>
#include <moat/errno.h>
#include <moat/x86_regs.h>
#include <moat/hypercall.h>
#include <moat/tap.h>
#include <moat/test_hooks.h>
#include "tests/hv/guest_state.h"
#include "vmm/exits.h"
#include "arch/x86/cpu.h"
#include "vmm/platform.h"
#include "host_shim.h"

/* ---- fake backend */
/* The guests here have no assigned devices: the virtual config space never reaches one. */
u16 pci_read16(const struct pci_dev *d, u16 off)
{
	fail();
	return 0;
}
u32 pci_read32(const struct pci_dev *d, u16 off)
{
	fail();
	return 0;
}
void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	fail();
}

u16 msix_ctrl_read(const struct vdev *v, u16 hw)
{
	fail();
	return 0;
}
void msix_ctrl_write(struct guest *g, struct vdev *v, u16 val)
{
	fail();
}
void msix_refresh(struct guest *g, struct vdev *v)
{
	fail();
}
bool vflr_offered(const struct vdev *v)
{
	fail();
	return false;
}
void vflr_start(struct guest *g, struct vdev *v)
{
	fail();
}
void vflr_settle(struct guest *g, struct vdev *v)
{
	fail();
}
int vbar_sync(struct guest *g, struct vdev *v)
{
	fail();
	return 0;
}
u64 tsc_hz(void)
{
	return 2000000000ULL;
}
int vmm_mmio_npf(struct vcpu *v, const struct vmm_exit *e)
{
	return -ENOENT;
}
int virq_halt(struct vcpu *v, const struct vmm_exit *e)
{
	return -ENOENT;
}
/* the virtual LAPIC (vmm/vlapic.c, reached through the MSR table) kicks no vCPU here */
void vcpu_kick(struct vcpu *v) {}
int irq_forge_expect(struct guest *gst, u64 addr, u64 data)
{
	check_expected(addr);
	check_expected(data);
	return (int)mock();
}

/* The test image's hooks; a test clears them to see the product. */
static struct test_hooks hooks;
const struct test_hooks *const test_hooks = &hooks;

static u64 now_us = 1000;
u64 time_us(void)
{
	return now_us;
}

/* arch/x86/xcr0.c on the host: the CPU's XCR0 is a variable */
static u64 cpu_xcr0 = 1, cpu_xcr0_supported = 0x7;
u64 xcr0_supported(void)
{
	return cpu_xcr0_supported;
}
void xcr0_write(u64 val)
{
	cpu_xcr0 = val;
}

static u64 regs[VMM_REG_NR];
static unsigned cpl;
static int skipped, injected_vector = -1, injected_error;

static u64 f_get(struct vcpu *v, enum vmm_reg r)
{
	return regs[r];
}
static void f_set(struct vcpu *v, enum vmm_reg r, u64 val)
{
	regs[r] = val;
}
static unsigned f_cpl(struct vcpu *v)
{
	return cpl;
}
static void f_skip(struct vcpu *v, const struct vmm_exit *e)
{
	skipped++;
	regs[VMM_REG_RIP] = e->rip + e->insn_len;
}
static int f_inject(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	injected_vector = vector;
	injected_error = has_error ? (int)error : -1;
	return 0;
}
static void f_dump(struct vcpu *v) {}
static int cr_result, cr_nr = -1;
static u64 cr_val;
static int f_write_cr(struct vcpu *v, unsigned cr, u64 val)
{
	cr_nr = (int)cr;
	cr_val = val;
	return cr_result;
}

static const struct vmm_backend fake = {
	.name = "fake",
	.get_reg = f_get,
	.set_reg = f_set,
	.get_cpl = f_cpl,
	.skip_instruction = f_skip,
	.inject_exception = f_inject,
	.write_cr = f_write_cr,
	.dump = f_dump,
};
/* A backend that never intercepts control-register writes (SVM). */
static const struct vmm_backend fake_no_cr = {
	.name = "fake-no-cr",
	.get_reg = f_get,
	.set_reg = f_set,
	.get_cpl = f_cpl,
	.skip_instruction = f_skip,
	.inject_exception = f_inject,
	.dump = f_dump,
};
const struct vmm_backend *vmm_be = &fake;
struct vmm_caps vmm_caps = {.hypercall_insn = VMM_HC_VMMCALL};

/* ---- console and TAP counters the handlers use */
static char console[8192];
static size_t console_len;
static unsigned counted[3];

void console_write(const char *s, size_t n)
{
	assert_true(console_len + n < sizeof(console));
	memcpy(console + console_len, s, n);
	console_len += n;
	console[console_len] = 0;
}

void tap_count(enum tap_status st)
{
	counted[st]++;
}

/* ---- a guest with 64 KiB of RAM */
#define RAM_SIZE (64 * 1024)
static struct guest g;
static u8 *ram;

static int setup(void **state)
{
	memset(&g, 0, sizeof(g));
	memset(regs, 0, sizeof(regs));
	cpl = 0;
	ram = calloc(1, RAM_SIZE);
	g.id = 3;
	g.ram_hpa = (u64)(uintptr_t)ram;
	g.ram_size = RAM_SIZE;
	g.state = GUEST_RUNNING;
	strcpy(g.cfg.name, "gst");
	g.vcpu[0].guest = &g;
	g.vcpu[0].cpu = 2;
	g.vcpu[0].gpr = regs;
	vcpu_cpuid_init(&g.vcpu[0]);
	skipped = 0;
	injected_vector = -1;
	cr_nr = -1;
	cr_result = VMM_CR_APPLIED;
	console_len = 0;
	console[0] = 0;
	memset(counted, 0, sizeof(counted));
	test_state_reset(g.id);
	hooks = (struct test_hooks){.hypercall = test_hypercall, .guest_npf = test_npf_ticks};
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

static struct vmm_exit io_exit(u16 port, u8 size, bool in)
{
	struct vmm_exit e = {.reason = VMM_EXIT_IO, .rip = 0x1000, .insn_len = 1};

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	return e;
}

static u64 port_in(u16 port, u8 size, u64 rax_before)
{
	struct vmm_exit e = io_exit(port, size, true);

	regs[VMM_REG_RAX] = rax_before;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	return regs[VMM_REG_RAX];
}

static void port_out(u16 port, u8 size, u32 val)
{
	struct vmm_exit e = io_exit(port, size, false);

	regs[VMM_REG_RAX] = val;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
}

static void test_cpuid(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_CPUID, .rip = 0x2000, .insn_len = 2};
	char sig[13] = {0};

	e.cpuid.leaf = 1;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_false(regs[VMM_REG_RCX] & BIT(5)); /* VMX hidden */
	assert_true(regs[VMM_REG_RCX] & BIT(31)); /* hypervisor present */
	assert_int_equal(regs[VMM_REG_RIP], 0x2002);
	e.cpuid.leaf = 0x80000001;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_false(regs[VMM_REG_RCX] & BIT(2)); /* SVM hidden */
	e.cpuid.leaf = 0x8000000a;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RAX] | regs[VMM_REG_RBX] | regs[VMM_REG_RDX], 0);
	e.cpuid.leaf = MOAT_CPUID_LEAF;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	memcpy(sig, &regs[VMM_REG_RBX], 4);
	memcpy(sig + 4, &regs[VMM_REG_RCX], 4);
	memcpy(sig + 8, &regs[VMM_REG_RDX], 4);
	assert_string_equal(sig, MOAT_CPUID_SIGNATURE);
	assert_int_equal(regs[VMM_REG_RAX], MOAT_CPUID_MAX);
	e.cpuid.leaf = MOAT_CPUID_INFO;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 3);
	assert_int_equal(regs[VMM_REG_RBX], 2);
	assert_int_equal(regs[VMM_REG_RCX], MOAT_HC_INSN_VMMCALL);
	assert_int_equal(guest_exits(&g, VMM_EXIT_CPUID), 5);
}

/* What moat does not offer is not advertised, whatever the host CPU has. */
static void test_cpuid_hides_refused(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_CPUID, .rip = 0x2000, .insn_len = 2};

	e.cpuid.leaf = 1;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_false(regs[VMM_REG_RCX] & BIT(3)); /* MONITOR/MWAIT */
	e.cpuid.leaf = 5;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(
		regs[VMM_REG_RAX] | regs[VMM_REG_RBX] | regs[VMM_REG_RCX] | regs[VMM_REG_RDX], 0);
	e.cpuid.leaf = 0xa;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(
		regs[VMM_REG_RAX] | regs[VMM_REG_RBX] | regs[VMM_REG_RCX] | regs[VMM_REG_RDX], 0);
	e.cpuid.leaf = 7;
	e.cpuid.subleaf = 0;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_false(regs[VMM_REG_RCX] & BIT(22)); /* RDPID */
	e.cpuid.leaf = 0x80000001;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_false(regs[VMM_REG_RDX] & BIT(27));	       /* RDTSCP */
	assert_false(regs[VMM_REG_RCX] & (BIT(23) | BIT(29))); /* core counters, MONITORX */
}

/* The instructions answered by policy: cache flushes are NOPs (skipped), MONITOR, MWAIT and
 * RDTSCP raise #UD, RDPMC #GP(0); the guest runs on, every one counted. */
static void test_insn_policy(void **state)
{
	static const struct {
		enum vmm_insn insn;
		int vector, error; /* -1: none */
		int skips;
	} want[] = {
		{VMM_INSN_WBINVD, -1, -1, 1}, {VMM_INSN_INVD, -1, -1, 1},
		{VMM_INSN_MONITOR, 6, -1, 0}, {VMM_INSN_MWAIT, 6, -1, 0},
		{VMM_INSN_RDTSCP, 6, -1, 0},  {VMM_INSN_RDPMC, 13, 0, 0},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		struct vmm_exit e = {.reason = VMM_EXIT_INSN,
				     .rip = 0x3000,
				     .insn_len = 2,
				     .insn = want[i].insn};

		skipped = 0;
		injected_vector = -1;
		injected_error = -1;
		assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
		assert_int_equal(injected_vector, want[i].vector);
		assert_int_equal(injected_error, want[i].error);
		assert_int_equal(skipped, want[i].skips);
	}
	assert_int_equal(g.state, GUEST_RUNNING);
	assert_int_equal(guest_exits(&g, VMM_EXIT_INSN), ARRAY_SIZE(want));
}

static void test_io_denied(void **state)
{
	/* Reads give all-ones in the accessed width, the rest of RAX kept (32-bit: zeroed). */
	assert_int_equal(port_in(0x64, 1, 0x1122334455667700ULL), 0x11223344556677ffULL);
	assert_int_equal(port_in(0x64, 2, 0x1122334455660000ULL), 0x112233445566ffffULL);
	assert_int_equal(port_in(0x64, 4, 0x1122334455667788ULL), 0xffffffffULL);
	port_out(0xf4, 4, 0x21);
	assert_int_equal(g.io_denied, 4);
	assert_int_equal(skipped, 4);
	assert_int_equal(g.state, GUEST_RUNNING);
	/* A wide access to COM1 is not the UART's: denied too. */
	assert_int_equal(port_in(0x3f8, 2, 0), 0xffff);
	assert_int_equal(g.io_denied, 5);
}

static void test_com1_relay(void **state)
{
	assert_int_equal(port_in(0x3fd, 1, 0) & 0x60, 0x60); /* THR empty */
	for (const char *s = "hello\r\nwor"; *s; s++)
		port_out(0x3f8, 1, (u8)*s);
	assert_string_equal(console, "[gst] hello\n");
	port_out(0x3f8, 1, 0x1b); /* ESC: replaced */
	port_out(0x3f8, 1, 'd');
	port_out(0x3f8, 1, '\n');
	assert_string_equal(console, "[gst] hello\n[gst] wor?d\n");
	/* A line that looks like a TAP result is marked: only REPORT makes results. */
	console_len = 0;
	for (const char *s = "ok 99 - cpu: forged\nnot ok 3 - x: y\nokay\n"; *s; s++)
		port_out(0x3f8, 1, (u8)*s);
	assert_string_equal(console, "[gst] # console, not a result: ok 99 - cpu: forged\n"
				     "[gst] # console, not a result: not ok 3 - x: y\n"
				     "[gst] okay\n");
	/* DLAB: divisor latch, not output. */
	port_out(0x3fb, 1, 0x80);
	port_out(0x3f8, 1, 0x01);
	assert_int_equal(port_in(0x3f8, 1, 0), 0x01);
	port_out(0x3fb, 1, 0x03);
	/* A long line is cut into whole lines, never lost. */
	console_len = 0;
	for (int i = 0; i < 300; i++)
		port_out(0x3f8, 1, 'x');
	port_out(0x3f8, 1, '\n');
	assert_int_equal(strncmp(console, "[gst] x", 7), 0);
	assert_int_equal(console[console_len - 1], '\n');
	assert_int_equal(g.io_denied, 0);
}

/* The platform devices' port table: each range reaches its device; an access that is not
 * the device's is denied as any other. */
static void test_platform_ports(void **state)
{
	platform_init(&g, &(struct platform_time){.tsc = 1000, .hz = 1000000000});
	assert_int_equal(port_in(0x604, 2, 0), 1); /* PM1_CNT.SCI_EN */
	/* a vCPU whose CPU's TSC is behind the last one the devices saw: time stands still */
	g.platform_tsc = rdtsc() + 1000000000000ULL;
	assert_int_equal(port_in(0x608, 4, 0), vpm_timer(&g.pm, g.platform_tsc));
	assert_int_equal(port_in(0x608, 4, 0), vpm_timer(&g.pm, g.platform_tsc));
	port_out(0x43, 1, 0xb0); /* PIT channel 2, mode 0 */
	assert_int_equal(port_in(0x61, 1, 0) & 0x0f, 0);
	port_out(0x61, 1, 0x01);
	assert_int_equal(port_in(0x61, 1, 0) & 0x0f, 1);
	port_out(0x70, 1, 0x0d);
	assert_int_equal(port_in(0x71, 1, 0), 0x80); /* RTC register D: VRT */
	assert_int_equal(g.io_denied, 0);
	assert_int_equal(port_in(0x70, 1, 0), 0xff); /* write-only */
	assert_int_equal(port_in(0x43, 1, 0), 0xff); /* write-only */
	assert_int_equal(port_in(0x40, 2, 0), 0xffff);
	g.io_denied -= 3;
	assert_int_equal(port_in(0x606, 2, 0), 0);
	assert_int_equal(port_in(0x60a, 4, 0), 0xffffffff); /* past the PM block */
	assert_int_equal(g.io_denied, 1);
	assert_int_equal(port_in(0x64, 1, 0), 0xff); /* no 8042 to read */
	assert_int_equal(g.io_denied, 2);
	port_out(0x64, 1, 0xd1);
	port_out(0xcf9, 1, 0x02);
	assert_int_equal(port_in(0xcf9, 1, 0), 0x02);
	assert_int_equal(g.state, GUEST_RUNNING);
	assert_null(g.ended_by);
	port_out(0x604, 2, 0x3401); /* SLP_EN | SLP_TYP 5 | SCI_EN */
	assert_int_equal(g.state, GUEST_DONE);
	assert_string_equal(g.ended_by, "ACPI S5");
	g.state = GUEST_RUNNING;
	port_out(0x64, 1, 0xfe);
	assert_int_equal(g.state, GUEST_DONE);
	assert_string_equal(g.ended_by, "keyboard controller 0x64");
	g.state = GUEST_RUNNING;
	port_out(0xcf9, 1, 0x06);
	assert_int_equal(g.state, GUEST_DONE);
	assert_string_equal(g.ended_by, "reset register 0xcf9");
	assert_int_equal(g.io_denied, 2);
	assert_int_equal(skipped, 21);
}

static void test_vpci(void **state)
{
	port_out(0xcf8, 4, 0x80000000);
	assert_int_equal(port_in(0xcfc, 4, 0), 0x29c08086);
	assert_int_equal(port_in(0xcfe, 2, 0), 0x29c0);
	port_out(0xcf8, 4, 0x80000008);
	assert_int_equal(port_in(0xcfc, 4, 0) >> 8, 0x060000);
	port_out(0xcf8, 4, 0x80010000); /* bus 1 */
	assert_int_equal(port_in(0xcfc, 4, 0), 0xffffffff);
	port_out(0xcf8, 4, 0x80000800); /* 00:01.0 */
	assert_int_equal(port_in(0xcfc, 1, 0), 0xff);
	port_out(0xcf8, 4, 0x00000000); /* enable bit clear */
	assert_int_equal(port_in(0xcfc, 4, 0), 0xffffffff);
	assert_int_equal(port_in(0xcf8, 4, 0), 0);
	assert_int_equal(g.io_denied, 0);
}

static void test_msrs(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_MSR_READ, .rip = 0x3000, .insn_len = 2};

	e.msr.index = 0xc0010117; /* VM_HSAVE_PA */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(injected_error, 0);
	assert_int_equal(skipped, 0);
	injected_vector = -1;
	regs[VMM_REG_EFER] = BIT(12) | BIT(10) | BIT(8) | BIT(11);
	regs[VMM_REG_CR0] = CR0_PE | CR0_PG;
	e.msr.index = 0xc0000080;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], BIT(10) | BIT(8) | BIT(11)); /* no SVME */
	assert_int_equal(injected_vector, -1);
	e.reason = VMM_EXIT_MSR_WRITE;
	e.msr.value = BIT(11); /* leaving long mode: LME cleared under paging */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(g.msr_denied, 2);
	injected_vector = -1;
	e.msr.value = BIT(8) | BIT(11); /* LMA written as 0: the CPU's stays */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, -1);
	assert_int_equal(regs[VMM_REG_EFER], BIT(10) | BIT(8) | BIT(11));
	/* an application processor on its way to long mode: LME with paging off */
	regs[VMM_REG_CR0] = CR0_PE;
	regs[VMM_REG_EFER] = 0;
	e.msr.value = BIT(0) | BIT(8) | BIT(11);
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, -1);
	assert_int_equal(regs[VMM_REG_EFER], BIT(0) | BIT(8) | BIT(11));
	e.msr.value = BIT(12) | BIT(8); /* SVME: virtualization is hidden */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(g.msr_denied, 3);
	regs[VMM_REG_CR0] = 0;
}

/* XSETBV: applied to the CPU when the architecture allows it and the CPU supports it, #GP
 * otherwise, #UD without CR4.OSXSAVE; the instruction is skipped only when applied. */
static void test_xsetbv(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_XSETBV, .rip = 0x3000, .insn_len = 3};
	static const struct {
		u64 cr4, rcx, val;
		int vector; /* -1: applied */
	} cases[] = {
		{CR4_OSXSAVE, 0, XCR0_X87 | XCR0_SSE, -1},
		{CR4_OSXSAVE, 0, XCR0_X87, -1},
		/* supported by the CPU, not offered in the guest's CPUID leaf 0Dh */
		{CR4_OSXSAVE, 0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512, 13},
		{CR4_OSXSAVE, 0, XCR0_X87 | XCR0_AVX, 13},     /* AVX without SSE */
		{CR4_OSXSAVE, 0, XCR0_SSE, 13},		       /* x87 clear */
		{CR4_OSXSAVE, 0, XCR0_X87 | XCR0_BNDREGS, 13}, /* not supported */
		{CR4_OSXSAVE, 1, XCR0_X87, 13},		       /* XCR1 */
		{0, 0, XCR0_X87 | XCR0_SSE, 6},		       /* CR4.OSXSAVE clear */
	};

	vmm_caps.guest_features = VMM_GUEST_XSAVE;
	vcpu_cpuid_init(&g.vcpu[0]); /* a vCPU's CPUID is settled when it is created */
	cpu_xcr0_supported = 0xff;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int before = skipped;

		cpu_xcr0 = 0x1;
		injected_vector = -1;
		regs[VMM_REG_CR4] = cases[i].cr4;
		regs[VMM_REG_RCX] = cases[i].rcx;
		regs[VMM_REG_RAX] = (cases[i].val & 0xffffffff) | 0xdead00000000ull;
		regs[VMM_REG_RDX] = cases[i].val >> 32;
		assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
		assert_int_equal(injected_vector, cases[i].vector);
		assert_int_equal(cpu_xcr0, cases[i].vector < 0 ? cases[i].val : 1);
		assert_int_equal(skipped - before, cases[i].vector < 0 ? 1 : 0);
	}
	/* at CPL 3: #GP */
	cpl = 3;
	injected_vector = -1;
	regs[VMM_REG_CR4] = CR4_OSXSAVE;
	regs[VMM_REG_RCX] = 0;
	regs[VMM_REG_RAX] = XCR0_X87 | XCR0_SSE;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(cpu_xcr0, 1);
	cpl = 0;
	regs[VMM_REG_CR4] = 0;
	/* XSAVE not offered to the guest: nothing is accepted */
	vmm_caps.guest_features = 0;
	vcpu_cpuid_init(&g.vcpu[0]);
	regs[VMM_REG_CR4] = CR4_OSXSAVE;
	regs[VMM_REG_RAX] = XCR0_X87;
	injected_vector = -1;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	regs[VMM_REG_CR4] = 0;
	cpu_xcr0_supported = 0x7;
}

/* An OS guest's IA32_APIC_BASE, TSC deadline and x2APIC MSRs are its vCPU's virtual LAPIC;
 * moat's own guests keep the fixed APIC base. */
static void test_msrs_vlapic(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_MSR_WRITE, .rip = 0x3000, .insn_len = 2};

	strcpy(g.cfg.kernel, "vmlinuz");
	vlapic_reset(&g.vcpu[0].lapic, &g.vcpu[0], 0, true);
	e.msr.index = 0x1b;
	e.msr.value = 0xfee00000 | BIT(11) | BIT(10); /* to x2APIC mode */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, -1);
	assert_int_equal(skipped, 1);
	e.reason = VMM_EXIT_MSR_READ;
	e.msr.index = 0x802; /* x2APIC ID */
	regs[VMM_REG_RAX] = regs[VMM_REG_RDX] = ~0ULL;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0);
	assert_int_equal(regs[VMM_REG_RDX], 0);
	e.msr.index = 0x80b; /* EOI is write-only: #GP */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(skipped, 2);
	injected_vector = -1;
	e.reason = VMM_EXIT_MSR_WRITE;
	e.msr.index = 0x1b;
	e.msr.value = 0xfed00000 | BIT(11) | BIT(10); /* moving the page: #GP */
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(g.msr_denied, 2);
	/* moat's own guests: the fixed xAPIC base, no x2APIC MSRs. */
	g.cfg.kernel[0] = 0;
	injected_vector = -1;
	e.reason = VMM_EXIT_MSR_READ;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RAX], 0xfee00000 | BIT(11) | BIT(8));
	e.msr.index = 0x802;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 13);
}

static long call(u64 nr, u64 a0, u64 a1, u64 a2)
{
	struct vmm_exit e = {.reason = VMM_EXIT_HYPERCALL, .rip = 0x4000, .insn_len = 3};

	regs[VMM_REG_RAX] = nr;
	regs[VMM_REG_RDI] = a0;
	regs[VMM_REG_RSI] = a1;
	regs[VMM_REG_RDX] = a2;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(regs[VMM_REG_RIP], 0x4003);
	return (long)regs[VMM_REG_RAX];
}

static void test_hypercall_pointers(void **state)
{
	struct moat_guest_info *info = (void *)(ram + 0x100);

	assert_int_equal(call(HC_ECHO, 5, 0, 0), 5 ^ HC_ECHO_MAGIC);
	assert_int_equal(call(99, 0, 0, 0), -ENOSYS);
	memcpy(ram + 0x200, "hi\n", 3);
	assert_int_equal(call(HC_CONSOLE_WRITE, 0x200, 3, 0), 3);
	assert_string_equal(console, "[gst] hi\n");
	assert_int_equal(call(HC_CONSOLE_WRITE, RAM_SIZE, 1, 0), -EFAULT);
	assert_int_equal(call(HC_CONSOLE_WRITE, RAM_SIZE - 2, 3, 0), -EFAULT);
	assert_int_equal(call(HC_CONSOLE_WRITE, RAM_SIZE - 3, 3, 0), 3);
	assert_int_equal(call(HC_CONSOLE_WRITE, ~0ULL - 10, 100, 0), -EFAULT);
	assert_int_equal(call(HC_CONSOLE_WRITE, 0, HC_CONSOLE_MAX + 1, 0), -E2BIG);
	assert_int_equal(call(HC_GET_INFO, 0x100, 0, 0), 0);
	assert_int_equal(info->id, 3);
	assert_int_equal(info->cpu, 2);
	assert_int_equal(info->ram_size, RAM_SIZE);
	assert_string_equal(info->name, "gst");
	assert_int_equal(info->tsc_khz, 2000000);
	assert_int_equal(call(HC_GET_INFO, RAM_SIZE - sizeof(*info) + 1, 0, 0), -EFAULT);
	assert_int_equal(call(HC_GET_INFO, 1ULL << 40, 0, 0), -EFAULT);
	assert_int_equal(g.state, GUEST_RUNNING);
}

/* The exit counters by reason, the call itself included; a pointer outside RAM refused. */
static void test_hypercall_get_exits(void **state)
{
	struct moat_guest_exits *x = (void *)(ram + 0x800);

	g.vcpu[0].exits[VMM_EXIT_IO] = 5;
	g.vcpu[0].exits[VMM_EXIT_NPF] = 2;
	assert_int_equal(call(HC_GET_EXITS, 0x800, 0, 0), 0);
	assert_int_equal(x->by_reason[MOAT_EXIT_HYPERCALL], 1);
	assert_int_equal(x->by_reason[MOAT_EXIT_IO], 5);
	assert_int_equal(x->by_reason[MOAT_EXIT_NPF], 2);
	assert_int_equal(x->total, 8);
	assert_int_equal(call(HC_GET_EXITS, 0x800, 0, 0), 0);
	assert_int_equal(x->by_reason[MOAT_EXIT_HYPERCALL], 2);
	assert_int_equal(call(HC_GET_EXITS, RAM_SIZE - sizeof(*x) + 8, 0, 0), -EFAULT);
	/* The ABI's own numbers: an exit moat does not name in the ABI counts as other. */
	g.vcpu[0].exits[VMM_EXIT_UNHANDLED] = 4;
	assert_int_equal(call(HC_GET_EXITS, 0x800, 0, 0), 0);
	assert_int_equal(x->by_reason[MOAT_EXIT_OTHER], 4);
	assert_int_equal(x->by_reason[MOAT_EXIT_VIRT_INSN], 0);
	g.vcpu[0].exits[VMM_EXIT_INSN] = 3;
	assert_int_equal(call(HC_GET_EXITS, 0x800, 0, 0), 0);
	assert_int_equal(x->by_reason[MOAT_EXIT_INSN], 3);
	/* every vCPU counts its own exits; the guest's are their sum */
	g.nr_vcpus = 2;
	g.vcpu[1].exits[VMM_EXIT_IO] = 7;
	g.vcpu[1].exits[VMM_EXIT_HLT] = 1;
	assert_int_equal(call(HC_GET_EXITS, 0x800, 0, 0), 0);
	assert_int_equal(x->by_reason[MOAT_EXIT_IO], 12);
	assert_int_equal(x->by_reason[MOAT_EXIT_HLT], 1);
	assert_int_equal(guest_exits(&g, VMM_EXIT_HYPERCALL), 6);
	assert_int_equal(x->total, 6 + 12 + 2 + 4 + 3 + 1);
}

/* A guest ends once, whichever of its vCPUs ends it: a later stop or shutdown (another
 * vCPU's) changes neither its state nor its reason. */
static void test_first_end_wins(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_SHUTDOWN, .rip = 0x1234};

	g.nr_vcpus = 2;
	g.vcpu[1].guest = &g;
	g.vcpu[1].index = 1;
	assert_int_equal(vmm_handle_exit(&g.vcpu[1], &e), -EFAULT);
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(g.stop_exit, VMM_EXIT_SHUTDOWN);
	assert_int_equal(guest_stop(&g, VMM_EXIT_WATCHDOG, "second"), -EFAULT);
	assert_int_equal(g.stop_exit, VMM_EXIT_SHUTDOWN);
	assert_non_null(strstr(g.stop_reason, "triple fault"));
	assert_false(guest_end(&g, GUEST_DONE));
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(guest_exits(&g, VMM_EXIT_SHUTDOWN), 1);
	assert_int_equal(g.vcpu[0].exits[VMM_EXIT_SHUTDOWN], 0);

	/* a shutdown through the hypercall first: a stop after it is ignored */
	teardown(NULL);
	setup(NULL);
	assert_int_equal(call(HC_SHUTDOWN, 0, 0, 0), 0);
	assert_int_equal(g.state, GUEST_DONE);
	assert_int_equal(guest_stop(&g, VMM_EXIT_HLT, "late"), -EFAULT);
	assert_int_equal(g.state, GUEST_DONE);
	assert_string_equal(g.stop_reason, "");
	/* a guest not yet running can be ended (a vCPU that cannot start) */
	g.state = GUEST_CREATED;
	assert_true(guest_end(&g, GUEST_STOPPED));
	assert_int_equal(g.state, GUEST_STOPPED);
}

/* The product links no tests/hv: every number of the test range is unknown (-ENOSYS) and
 * changes nothing; the product's own hypercalls still work. */
static void test_hypercall_test_range_product(void **state)
{
	static const u64 nrs[] = {HC_ECHO,	HC_EXPECT_STOP, HC_EXPECT_DMA_FAULT,
				  HC_GET_EXITS, HC_TEST_FIRST,	HC_TEST_LAST};
	u8 before[0x100];

	hooks = (struct test_hooks){0};
	g.nr_dev = 1;
	memset(ram + 0x800, 0xa5, sizeof(before));
	memcpy(before, ram + 0x800, sizeof(before));
	for (unsigned i = 0; i < ARRAY_SIZE(nrs); i++)
		assert_int_equal(call(nrs[i], nrs[i] == HC_EXPECT_STOP ? RAM_SIZE : 0x800, 0, 0),
				 -ENOSYS);
	assert_memory_equal(ram + 0x800, before, sizeof(before));
	assert_false(test_state(&g)->expect_stop);
	assert_int_equal(test_state(&g)->expect_dma_faults, 0);
	memcpy(ram + 0x200, "hi\n", 3);
	assert_int_equal(call(HC_CONSOLE_WRITE, 0x200, 3, 0), 3);
	/* With the test image's hook, a number outside the range still does not reach it. */
	hooks.hypercall = test_hypercall;
	assert_int_equal(call(HC_TEST_LAST + 1, 0, 0, 0), -ENOSYS);
	assert_int_equal(call(HC_TEST_FIRST - 1, 0, 0, 0), -ENOSYS);
}

/* EXPECT_DMA_FAULT: a DMA outside RAM is counted; an interrupt message goes to
 * tests/hv/irq_forge.c with its address and data; neither without an assigned device. */
static void test_hypercall_expect_dma_fault(void **state)
{
	assert_int_equal(call(HC_EXPECT_DMA_FAULT, 0, 0, 0), -ENODEV);
	g.nr_dev = 1;
	assert_int_equal(call(HC_EXPECT_DMA_FAULT, 0, 0, 0), 0);
	assert_int_equal(test_state(&g)->expect_dma_faults, 2);
	expect_value(irq_forge_expect, addr, 0xfee00010);
	expect_value(irq_forge_expect, data, 1);
	will_return(irq_forge_expect, 0);
	assert_int_equal(call(HC_EXPECT_DMA_FAULT, 0xfee00010, 1, 0), 0);
	expect_value(irq_forge_expect, addr, 0xfe000000);
	expect_value(irq_forge_expect, data, 0xee);
	will_return(irq_forge_expect, -EINVAL);
	assert_int_equal(call(HC_EXPECT_DMA_FAULT, 0xfe000000, 0xee, 0), -EINVAL);
	assert_int_equal(test_state(&g)->expect_dma_faults, 2);
}

static void test_hypercall_report(void **state)
{
	console_len = 0;
	memcpy(ram + 0x300, "cpu: thing", 10);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 10), 0);
	assert_int_equal(call(HC_REPORT, HC_TEST_FAIL, 0x300, 10), 0);
	assert_string_equal(console, "[gst] ok 1 - cpu: thing\n[gst] not ok 2 - cpu: thing\n");
	assert_int_equal(counted[TAP_PASS], 1);
	assert_int_equal(counted[TAP_FAIL], 1);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 10), -EINVAL); /* not "1..N" */
	assert_int_equal(call(HC_REPORT, 4, 0x300, 10), -EINVAL);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 0), -E2BIG);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, HC_REPORT_MAX + 1), -E2BIG);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, RAM_SIZE - 4, 10), -EFAULT);
	/* Text that would parse as another status than the one counted. */
	memcpy(ram + 0x300, "cpu: x # SKIP y", 15);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 15), -EINVAL);
	assert_int_equal(call(HC_REPORT, HC_TEST_SKIP, 0x300, 15), 0);
	memcpy(ram + 0x300, "cpu: x # foo", 12);
	assert_int_equal(call(HC_REPORT, HC_TEST_SKIP, 0x300, 12), -EINVAL);
	memcpy(ram + 0x300, "cpu: x# SKIP y", 14);
	assert_int_equal(call(HC_REPORT, HC_TEST_SKIP, 0x300, 14), -EINVAL);
	memcpy(ram + 0x300, "cpu: y", 6);
	assert_int_equal(call(HC_REPORT, HC_TEST_SKIP, 0x300, 6), 0);
	assert_non_null(strstr(console, "[gst] ok 4 - cpu: y # SKIP no reason given\n"));
	assert_non_null(strstr(console, "[gst] ok 3 - cpu: x # SKIP y\n"));
	assert_int_equal(counted[TAP_SKIP], 2);
	memcpy(ram + 0x300, ": x", 3);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 3), -EINVAL);
	memcpy(ram + 0x300, "no colon", 8);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 8), -EINVAL);
	memcpy(ram + 0x300, "cpu: a\nok", 9); /* would forge a second TAP line */
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 9), -EINVAL);
	assert_int_equal(counted[TAP_PASS] + counted[TAP_FAIL] + counted[TAP_SKIP], 4);
	assert_int_equal(call(HC_SHUTDOWN, 0, 0, 0), 0);
	assert_int_equal(g.state, GUEST_DONE);
}

/* A skip whose reason holds a second '#' is refused (its line would parse as something
 * else), so it never reaches the summary: the guest's plan, the number of results it
 * reported, then disagrees with what moat received, and that is a failure counted in the
 * summary. A plan that agrees adds nothing; a malformed one is refused. */
static void test_hypercall_plan(void **state)
{
	console_len = 0;
	memcpy(ram + 0x300, "cpu: thing", 10);
	assert_int_equal(call(HC_REPORT, HC_TEST_PASS, 0x300, 10), 0);
	memcpy(ram + 0x300, "1..1", 4);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 4), 0);
	assert_string_equal(console, "[gst] ok 1 - cpu: thing\n[gst] 1..1\n");
	assert_int_equal(counted[TAP_FAIL], 0);
	memcpy(ram + 0x300, "cpu: x # SKIP a # b", 19);
	assert_int_equal(call(HC_REPORT, HC_TEST_SKIP, 0x300, 19), -EINVAL);
	assert_int_equal(counted[TAP_SKIP], 0);
	memcpy(ram + 0x300, "1..2", 4);
	console_len = 0;
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 4), 0);
	assert_string_equal(console, "[gst] 1..2\n[gst] not ok 2 - guest: results-complete\n"
				     "[gst] # it announced 2 results, moat received 1 (a report "
				     "refused or lost)\n");
	assert_int_equal(counted[TAP_FAIL], 1);
	assert_int_equal(g.results[HC_TEST_FAIL], 1);
	/* not a plan */
	memcpy(ram + 0x300, "1..x", 4);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 4), -EINVAL);
	memcpy(ram + 0x300, "2..3", 4);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 4), -EINVAL);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 3), -EINVAL);
	memcpy(ram + 0x300, "1..1234567890", 13);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN, 0x300, 13), -EINVAL);
	assert_int_equal(call(HC_REPORT, HC_TEST_PLAN + 1, 0x300, 4), -EINVAL);
	assert_int_equal(counted[TAP_FAIL], 1);
	(void)state;
}

/* Hypercalls from the guest's user space (CPL 1-3): every number, known or not, gets
 * -EPERM and does nothing; the refusals are counted and the log is rate-limited. */
static void test_hypercall_cpl(void **state)
{
	static const u64 nrs[] = {HC_ECHO,     HC_CONSOLE_WRITE, HC_REPORT,	      HC_GET_INFO,
				  HC_SHUTDOWN, HC_EXPECT_STOP,	 HC_EXPECT_DMA_FAULT, HC_GET_EXITS,
				  0x7fff};
	u8 before[0x100];
	u64 refused = 0;
	int warned = shim_warnings_logged;

	memcpy(ram + 0x200, "from ring 3\n", 12);
	memcpy(ram + 0x300, "attack: forged", 14);
	memset(ram + 0x800, 0xa5, sizeof(before));
	memcpy(before, ram + 0x800, sizeof(before));
	for (cpl = 1; cpl <= 3; cpl++) {
		for (unsigned i = 0; i < ARRAY_SIZE(nrs); i++) {
			u64 a0 = nrs[i] == HC_CONSOLE_WRITE			   ? 0x200
				 : nrs[i] == HC_REPORT				   ? HC_TEST_PASS
				 : nrs[i] == HC_GET_INFO || nrs[i] == HC_GET_EXITS ? 0x800
										   : RAM_SIZE;

			assert_int_equal(call(nrs[i], a0, nrs[i] == HC_REPORT ? 0x300 : 12, 14),
					 -EPERM);
			refused++;
		}
	}
	assert_int_equal(g.hc_refused_cpl, refused);
	assert_int_equal(g.hypercalls, 0);
	assert_int_equal(console_len, 0);
	assert_int_equal(counted[TAP_PASS] + counted[TAP_FAIL] + counted[TAP_SKIP], 0);
	assert_memory_equal(ram + 0x800, before, sizeof(before));
	assert_int_equal(g.state, GUEST_RUNNING);
	assert_false(test_state(&g)->expect_stop);
	assert_int_equal(test_state(&g)->expect_dma_faults, 0);
	assert_int_equal(guest_exits(&g, VMM_EXIT_HYPERCALL), refused);
	/* Four lines in the window; the next window names how many were not logged. */
	assert_int_equal(shim_warnings_logged - warned, 4);
	now_us += 10000000;
	cpl = 3;
	assert_int_equal(call(HC_ECHO, 1, 0, 0), -EPERM);
	assert_int_equal(shim_warnings_logged - warned, 6);
	assert_non_null(strstr(shim_last_log, "hypercall 4096 from CPL 3 at rip 0x4000 refused"));
	/* The guest's kernel goes on as before. */
	cpl = 0;
	assert_int_equal(call(HC_ECHO, 1, 0, 0), 1 ^ HC_ECHO_MAGIC);
	assert_int_equal(call(HC_CONSOLE_WRITE, 0x200, 12, 0), 12);
	assert_string_equal(console, "[gst] from ring 3\n");
	assert_int_equal(g.hc_refused_cpl, refused + 1);
}

static void test_stops(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x5000};

	e.npf.gpa = RAM_SIZE;
	e.npf.access = VMM_NPF_READ;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(g.stop_exit, VMM_EXIT_NPF);
	assert_int_equal(g.stop_gpa, RAM_SIZE);
	assert_non_null(strstr(g.stop_reason, "GPA 0x10000"));

	teardown(NULL);
	setup(NULL);
	e = (struct vmm_exit){.reason = VMM_EXIT_UNHANDLED, .raw = 0x8f};
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(guest_exits(&g, VMM_EXIT_UNHANDLED), 1);
	assert_non_null(strstr(g.stop_reason, "unhandled"));

	teardown(NULL);
	setup(NULL);
	e = (struct vmm_exit){.reason = VMM_EXIT_SHUTDOWN};
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	assert_int_equal(g.stop_exit, VMM_EXIT_SHUTDOWN);

	teardown(NULL);
	setup(NULL);
	e = (struct vmm_exit){.reason = VMM_EXIT_EXT_INTR};
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(g.state, GUEST_RUNNING);
}

/* MOV to CR0/CR4 through the core's dispatch: counted, applied by the backend and the
 * instruction skipped; a #GP(0) the architecture demands injected with RIP unchanged; a
 * write the backend cannot emulate (or a backend without write_cr) stops the guest. */
static void test_cr_write(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_CR_WRITE, .rip = 0x5000, .insn_len = 3};

	e.cr.nr = 0;
	e.cr.gpr = VMM_REG_R9;
	regs[VMM_REG_R9] = 0x80000011;
	cr_result = VMM_CR_APPLIED;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(cr_nr, 0);
	assert_int_equal(cr_val, 0x80000011);
	assert_int_equal(skipped, 1);
	assert_int_equal(regs[VMM_REG_RIP], 0x5003);
	assert_int_equal(injected_vector, -1);

	e.cr.nr = 4;
	e.cr.gpr = VMM_REG_RSP;
	regs[VMM_REG_RSP] = 0x2020;
	regs[VMM_REG_RIP] = 0x5000;
	cr_result = VMM_CR_FAULT;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(cr_nr, 4);
	assert_int_equal(cr_val, 0x2020);
	assert_int_equal(skipped, 1); /* a faulting MOV does not retire */
	assert_int_equal(regs[VMM_REG_RIP], 0x5000);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(injected_error, 0);
	assert_int_equal(guest_exits(&g, VMM_EXIT_CR_WRITE), 2);
	assert_int_equal(g.state, GUEST_RUNNING);
	assert_string_equal(vmm_exit_name(VMM_EXIT_CR_WRITE), "cr-write");

	cr_result = -ENOTSUP;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(g.stop_exit, VMM_EXIT_CR_WRITE);

	teardown(NULL);
	setup(NULL);
	vmm_be = &fake_no_cr;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	vmm_be = &fake;
	assert_int_equal(g.state, GUEST_STOPPED);
	assert_int_equal(skipped, 0);
}

/* An intercepted #DB or #AC goes back to the guest with its error code and the guest runs on;
 * any other exception exit stops it. */
static void test_benign_exception_reflected(void **state)
{
	struct vmm_exit e = {.reason = VMM_EXIT_EXCEPTION, .rip = 0x5000};

	e.exc.vector = 1;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 1);
	assert_int_equal(injected_error, -1);
	e.exc.vector = 17;
	e.exc.has_error = true;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), 0);
	assert_int_equal(injected_vector, 17);
	assert_int_equal(injected_error, 0);
	assert_int_equal(g.state, GUEST_RUNNING);
	assert_int_equal(guest_exits(&g, VMM_EXIT_EXCEPTION), 2);

	injected_vector = -1;
	e.exc.vector = 14;
	assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
	assert_int_equal(injected_vector, -1);
	assert_int_equal(g.state, GUEST_STOPPED);
}

/* EXPECT_STOP with a TSC stamp (the bench guest's NPF timing): the stamp's GPA is kept, the
 * stop happens as announced, and a stamp outside RAM is ignored, not dereferenced. */
static void test_expect_stop_stamp(void **state)
{
	struct vmm_exit hc = {.reason = VMM_EXIT_HYPERCALL, .rip = 0x2000, .insn_len = 3};
	struct vmm_exit e = {.reason = VMM_EXIT_NPF, .rip = 0x5000};
	const u64 stamps[] = {0x100, RAM_SIZE + 8, 0};

	for (unsigned i = 0; i < 3; i++) {
		if (i) {
			teardown(NULL);
			setup(NULL);
		}
		*(u64 *)(ram + 0x100) = 1;
		regs[VMM_REG_RAX] = HC_EXPECT_STOP;
		regs[VMM_REG_RDI] = RAM_SIZE;
		regs[VMM_REG_RSI] = stamps[i];
		assert_int_equal(vmm_handle_exit(&g.vcpu[0], &hc), 0);
		assert_int_equal(regs[VMM_REG_RAX], 0);
		assert_true(test_state(&g)->expect_stop);
		assert_int_equal(test_state(&g)->expect_stop_stamp, stamps[i]);
		e.npf.gpa = RAM_SIZE;
		e.npf.access = VMM_NPF_READ;
		assert_int_equal(vmm_handle_exit(&g.vcpu[0], &e), -EFAULT);
		assert_int_equal(g.state, GUEST_STOPPED);
		assert_int_equal(g.stop_gpa, test_state(&g)->expect_stop_gpa);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cpuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuid_hides_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insn_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_com1_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_platform_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xsetbv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msrs_vlapic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_pointers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_get_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_test_range_product, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_expect_dma_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypercall_cpl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_end_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cr_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_benign_exception_reflected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_stop_stamp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
