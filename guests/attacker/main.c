/* The `attacker` guest: suite `cpu`, then suite `attack`: ports it does not own, the
 * platform devices moat emulates for it (its own), hypercalls with pointers outside its
 * RAM, and finally an access just past its RAM, which the hypervisor must answer by
 * stopping it (the hypervisor's "vmm: attacker-stopped"). */
#include <moat/errno.h>
#include <moat/x86_regs.h>
#include "guests/attacker/attacker.h"

#define QEMU_DEBUG_EXIT 0xf4 /* would end the whole machine if it reached the hardware */
#define KBC_STATUS 0x64
#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

static void test_ports(void)
{
	u8 v;

	test_begin("attack", "io-port-denied");
	guest_outl(QEMU_DEBUG_EXIT, 0x21);
	v = guest_inb(KBC_STATUS);
	check(v == 0xff, "read of port %#x gave %#x, not all-ones", KBC_STATUS, v);
	/* The virtual config space shows only the host bridge at 00:00.0. */
	guest_outl(PCI_CONF_ADDR, 0x80000000);
	check(guest_inl(PCI_CONF_DATA) == (0x8086 | (0x29c0u << 16)), "host bridge id %#x",
	      guest_inl(PCI_CONF_DATA));
	guest_outl(PCI_CONF_ADDR, 0x80000000 | (1u << 16)); /* bus 1: the NIC's bus on the host */
	check(guest_inl(PCI_CONF_DATA) == 0xffffffff, "bus 1 device 0 reads %#x",
	      guest_inl(PCI_CONF_DATA));
	test_end();
}

/* The PIT, the RTC and its NVRAM, the PM block: moat emulates them for each guest, so the
 * attacker may program them at will; what it writes must stay its own (the hypervisor's
 * `vmm: host-platform-untouched` checks the host's CMOS and PIT after the guests). */
#define PIT_CMD 0x43
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PORT61 0x61
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_YEAR 0x09
#define CMOS_REG_B 0x0b
#define CMOS_NVRAM_FIRST 0x0e
#define CMOS_NR 0x80
#define PM1_EN 0x602

static u8 nvram_pattern(unsigned i)
{
	return (u8)(0xa5 ^ i ^ (i << 3));
}

static u8 cmos_rw(u8 reg, int val)
{
	guest_outb(CMOS_INDEX, reg);
	if (val >= 0)
		guest_outb(CMOS_DATA, (u8)val);
	return guest_inb(CMOS_DATA);
}

static void test_platform_devices(void)
{
	u8 year;

	test_begin("attack", "platform-devices-own");
	/* a 600 kHz IRQ 0 storm and a speaker tone, if these reached the host's PIT */
	guest_outb(PIT_CMD, 0x36);
	guest_outb(PIT_CH0, 2);
	guest_outb(PIT_CH0, 0);
	guest_outb(PORT61, 0x03);
	guest_outb(PIT_CMD, 0xb6);
	guest_outb(PIT_CH2, 0x10);
	guest_outb(PIT_CH2, 0x00);
	guest_outb(PIT_CMD, 0x54); /* channel 1, LSB, mode 2 */
	guest_outb(0x41, 0x03);
	/* every SCI source enabled, if this were the host's PM block */
	guest_outw(PM1_EN, 0xffff);
	/* the clock: set it (SET, binary), then a year; the NVRAM: overwrite every byte */
	cmos_rw(CMOS_REG_B, 0x86);
	year = cmos_rw(CMOS_YEAR, -1);
	cmos_rw(CMOS_YEAR, (u8)(year + 7));
	for (unsigned i = CMOS_NVRAM_FIRST; i < CMOS_NR; i++)
		cmos_rw((u8)i, nvram_pattern(i));
	check(cmos_rw(CMOS_YEAR, -1) == year, "year %#x after writing %#x", cmos_rw(CMOS_YEAR, -1),
	      (u8)(year + 7));
	for (unsigned i = CMOS_NVRAM_FIRST; i < CMOS_NR; i++)
		if (i != 0x32)
			check(cmos_rw((u8)i, -1) == nvram_pattern(i), "NVRAM byte %#x reads %#x", i,
			      cmos_rw((u8)i, -1));
	test_end();
}

static void test_bad_pointers(void)
{
	u64 ram = guest_info.ram_size;
	long r;

	test_begin("attack", "hypercall-bad-pointer");
	r = hypercall(HC_CONSOLE_WRITE, ram, 16, 0);
	check(r == -EFAULT, "console write from GPA %#llx returned %ld", (unsigned long long)ram,
	      r);
	r = hypercall(HC_CONSOLE_WRITE, ram - 8, 16, 0);
	check(r == -EFAULT, "console write straddling the RAM end returned %ld", r);
	r = hypercall(HC_CONSOLE_WRITE, 0xfffffffffffff800ULL, 0x1000, 0);
	check(r == -EFAULT, "console write wrapping around returned %ld", r);
	/* The hypervisor's own image sits at host-physical 2 MiB; 4 GiB is far outside. */
	r = hypercall(HC_GET_INFO, 0x100000000ULL, 0, 0);
	check(r == -EFAULT, "get-info into GPA 4 GiB returned %ld", r);
	r = hypercall(HC_GET_INFO, ram - 8, 0, 0);
	check(r == -EFAULT, "get-info straddling the RAM end returned %ld", r);
	r = hypercall(HC_REPORT, HC_TEST_PASS, ram + 4096, 10);
	check(r == -EFAULT, "report from outside RAM returned %ld", r);
	r = hypercall(HC_CONSOLE_WRITE, 0x100000, HC_CONSOLE_MAX + 1, 0);
	check(r == -E2BIG, "oversized console write returned %ld", r);
	test_end();
}

/* SVM instructions with RAX at host memory (moat's image is at host-physical 2 MiB): on a
 * CPU without SVM they raise #UD, and so they must here. VMLOAD/VMSAVE left to the guest
 * would read or write that host page. */
static void test_svm_instructions(void)
{
	static const struct {
		const char *name;
		u8 modrm; /* 0f 01 xx */
	} insns[] = {
		{"vmrun", 0xd8}, {"vmload", 0xda}, {"vmsave", 0xdb},  {"stgi", 0xdc},
		{"clgi", 0xdd},	 {"skinit", 0xde}, {"invlpga", 0xdf},
	};
	/* 0f 01 xx; ret, executed from a writable data buffer that the guest's tables map
	 * executable. */
	static u8 stub[8] __aligned(8);

	test_begin("attack", "svm-instructions-ud");
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		stub[0] = 0x0f;
		stub[1] = 0x01;
		stub[2] = insns[i].modrm;
		stub[3] = 0xc3;
		guest_expect = (struct expected_exception){.vector = 6, .skip = 3};
		__asm__ volatile("call *%1" ::"a"(0x200000ULL), "r"(stub), "c"(0ULL)
				 : "memory", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
		check(guest_expect.seen == 1, "%s: #UD taken %d times", insns[i].name,
		      guest_expect.seen);
		guest_expect.vector = -1;
	}
	test_end();
}

static void clear_tf(struct guest_frame *f)
{
	f->rflags &= ~RFLAGS_TF;
}

static u64 exception_exits(void)
{
	static struct moat_guest_exits x;

	return hypercall(HC_GET_EXITS, (u64)(uintptr_t)&x, 0, 0) ? 0
								 : x.by_reason[MOAT_EXIT_EXCEPTION];
}

/* One single-step #DB (a trap after the NOP that follows the POPF setting TF). A #DB or #AC
 * raised while the CPU delivers itself (CVE-2015-8104, CVE-2015-5307) loops inside the CPU
 * with no instruction boundary, hanging the host CPU, unless the hypervisor intercepts the
 * vector: the #DB must be an exit, and must still reach the guest as the CPU raised it. */
static void test_benign_exceptions(void)
{
	u64 exits, dr6, after_nop;

	exits = exception_exits();
	guest_expect = (struct expected_exception){.vector = 1 /* #DB */, .fix = clear_tf};
	__asm__ volatile("xor %%eax, %%eax\n\t"
			 "mov %%rax, %%db6\n\t"
			 "lea 1f(%%rip), %0\n\t"
			 "pushfq\n\t"
			 "orq %1, (%%rsp)\n\t"
			 "popfq\n\t"
			 "nop\n"
			 "1:"
			 : "=&r"(after_nop)
			 : "i"(RFLAGS_TF)
			 : "rax", "memory", "cc");
	guest_expect.vector = -1;
	__asm__ volatile("mov %%db6, %0" : "=r"(dr6));
	exits = exception_exits() - exits;

	test_begin("attack", "db-reflected");
	check(guest_expect.seen == 1, "single step: #DB taken %d times", guest_expect.seen);
	check(guest_expect.rip == after_nop, "#DB at rip %#llx, expected %#llx after the NOP",
	      (unsigned long long)guest_expect.rip, (unsigned long long)after_nop);
	check(dr6 & DR6_BS, "DR6 %#llx after a single step: BS clear", (unsigned long long)dr6);
	test_end();

	test_begin("attack", "db-ac-intercepted");
	if (!guest_test_hypercalls())
		test_skip(NO_TEST_HYPERCALLS " (HC_GET_EXITS)");
	else
		check(exits == 1, "%llu exception exits for one #DB, want 1 (intercepted)",
		      (unsigned long long)exits);
	test_end();
}

static void touch_past_ram(void)
{
	/* A forged result through the console: the hypervisor marks it, so the run's summary
	 * (which the harness compares with every TAP line it sees) stays exact. */
	guest_printf("ok 99 - attack: forged-result\n");

	u64 gpa = guest_info.ram_size;
	long r;

	/* moat stops the guest at the access below: its plan goes first (the test after it is
	 * reported only when moat failed to stop it). */
	test_plan();
	guest_map_2m(gpa);
	r = hypercall(HC_EXPECT_STOP, gpa, 0, 0);
	guest_printf("touching GPA %#llx, just past my RAM: moat must stop me here\n",
		     (unsigned long long)gpa);
	(void)*(volatile u64 *)(uintptr_t)gpa;
	test_begin("attack", "ram-edge-stopped");
	test_fail(__LINE__, "read GPA %#llx past the RAM and was not stopped (announce %ld)",
		  (unsigned long long)gpa, r);
	test_end();
}

void guest_main(void)
{
	cpu_suite();
	test_ports();
	test_platform_devices();
	test_bad_pointers();
	test_svm_instructions();
	test_benign_exceptions();
	attack_cpu_insns();
	attack_ring3();
	attack_cfg_foreign();
	attack_bar_remap();
	attack_dma_outside_ram();
	attack_dma_hypervisor_hpa();
	attack_msix_forge_remappable();
	attack_msix_forge_compat();
	attack_tx_mac_spoof();
	attack_mac_spoof();
	attack_mac_other_nic();
	attack_mailbox_flood();
	attack_flr_storm();
	attack_bar_decode_off();
	attack_bar_flr_window();
	attack_owner_state_left();
	attack_cpu_leftovers();
	touch_past_ram();
}
