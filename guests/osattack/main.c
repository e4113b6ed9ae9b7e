/* The `osattack` guest: a misbehaving OS guest. moat starts it as a Linux kernel (kernel=,
 * scripts/mkbzimage.py), so it gets what an OS guest gets: a virtual local APIC, the virtual
 * IOAPIC, the UART, the MSR and port policy. It then does what a broken or hostile kernel
 * could: IPIs (fixed, NMI, INIT, SIPI) to APIC IDs that are not its own through the xAPIC
 * page and the x2APIC ICR, its APIC page moved, an IOAPIC entry aimed at a foreign CPU with
 * the UART's pin raised, MSRs and ports it was not given; last it panics with a triple
 * fault. Each test fails if the attack reached anything; the run's host-side checks
 * (tests/emu/os_attack.py) add that moat logged the dropped messages and that the guests
 * beside it ran to their end (docs/linux-guest.md "A misbehaving OS guest"). */
#include <moat/x86_regs.h>
#include "guests/lib/guest.h"

#define VEC_NMI 2
#define VEC_GP 13
#define WRMSR_LEN 2
#define RDMSR_LEN 2

#define LAPIC_BASE 0xfee00000ULL
#define LAPIC_ID 0x020
#define LAPIC_ID_XAPIC GENMASK(31, 24)
#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE BIT(8)
#define LAPIC_ESR 0x280
#define LAPIC_IRR 0x200
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_ICR_DEST_XAPIC GENMASK(31, 24)

/* ICR (SDM 11.6.1) */
#define ICR_VECTOR GENMASK(7, 0)
#define ICR_MODE GENMASK(10, 8)
#define ICR_LOGICAL BIT(11)
#define ICR_ASSERT BIT(14)
#define ICR_SHORTHAND GENMASK(19, 18)
#define ICR_X2_DEST GENMASK(63, 32)
#define MODE_FIXED 0
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_SIPI 6
#define SH_ALL_BUT_SELF 3

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR GENMASK(51, 12)
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830
#define CPUID_1_ECX_X2APIC BIT(21)

#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_RTE_VECTOR GENMASK(7, 0)
#define IOAPIC_RTE_MASKED BIT(16)
#define IOAPIC_RTE_DEST GENMASK(31, 24) /* of the high half */

#define COM1 0x3f8
#define UART_IER 1
#define UART_IER_THRI BIT(1)
#define UART_MCR 4
#define UART_MCR_OUT2 BIT(3)
#define UART_IRQ 4

#define TEST_VECTOR GUEST_IRQ_BASE
#define SIPI_PAGE 0x9a /* the start-up vector: page 0x9a000, low RAM */

/* MMIO as Linux does it: a 32-bit MOV through a register (moat's decoder takes what Linux
 * emits, not the compiler's absolute-address forms). */
static u32 mmio_read(u64 gpa)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(gpa) : "memory");
	return v;
}

static void mmio_write(u64 gpa, u32 v)
{
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(gpa) : "memory");
}

static u32 lapic_read(u32 off)
{
	return mmio_read(LAPIC_BASE + off);
}

static void lapic_write(u32 off, u32 v)
{
	mmio_write(LAPIC_BASE + off, v);
}

static u32 own_xapic_id(void)
{
	return (u32)FIELD_GET(LAPIC_ID_XAPIC, lapic_read(LAPIC_ID));
}

/* Whether the IRR holds the test vector: a "foreign" IPI that came back to this vCPU. */
static bool test_vector_pending(void)
{
	return lapic_read(LAPIC_IRR + 0x10 * (TEST_VECTOR / 32)) & BIT(TEST_VECTOR % 32);
}

static const u32 modes[] = {MODE_FIXED, MODE_NMI, MODE_INIT, MODE_SIPI};

static u32 icr_low(u32 mode)
{
	u32 vec = mode == MODE_FIXED ? TEST_VECTOR : mode == MODE_SIPI ? SIPI_PAGE : 0;

	return (u32)(FIELD_PREP(ICR_MODE, mode) | FIELD_PREP(ICR_VECTOR, vec) | ICR_ASSERT);
}

/* Every destination but its own: physical IDs 0-7 and 0x80 (moat gives this guest one
 * vCPU), logical 0xfe (every cluster bit but bit 0), and "all excluding self". Each of
 * fixed, NMI, INIT, SIPI. The vCPU runs on (an INIT that reached it would reset it, an NMI
 * would arrive at its handler as an unexpected exception) and nothing lands in its IRR. */
static void test_xapic_ipis(void)
{
	static const u32 phys[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x80};
	u32 self, sent = 0;

	test_begin("osattack", "xapic-ipis-to-foreign-cpus-dropped");
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff);
	self = own_xapic_id();
	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		for (unsigned i = 0; i < ARRAY_SIZE(phys); i++) {
			if (phys[i] == self)
				continue;
			lapic_write(LAPIC_ICR_HI, (u32)FIELD_PREP(LAPIC_ICR_DEST_XAPIC, phys[i]));
			lapic_write(LAPIC_ICR_LO, icr_low(modes[m]));
			sent++;
		}
		lapic_write(LAPIC_ICR_HI, (u32)FIELD_PREP(LAPIC_ICR_DEST_XAPIC, 0xfe));
		lapic_write(LAPIC_ICR_LO, icr_low(modes[m]) | ICR_LOGICAL);
		sent++;
		/* "all excluding self" with no other vCPU is no error: moat does not count it */
		lapic_write(LAPIC_ICR_HI, 0);
		lapic_write(LAPIC_ICR_LO,
			    icr_low(modes[m]) | (u32)FIELD_PREP(ICR_SHORTHAND, SH_ALL_BUT_SELF));
	}
	check(own_xapic_id() == self, "the APIC ID changed from %u to %u (reset by an INIT?)", self,
	      own_xapic_id());
	check(!test_vector_pending(), "a fixed IPI to another CPU came back as vector %#x",
	      TEST_VECTOR);
	check(lapic_read(LAPIC_SVR) & LAPIC_SVR_ENABLE, "the APIC was reset (SVR %#x)",
	      lapic_read(LAPIC_SVR));
	guest_printf("osattack: %u IPIs to destinations not mine through the xAPIC ICR, APIC "
		     "ID %u\n",
		     sent, self);
	test_end();
}

/* IA32_APIC_BASE pointing elsewhere (over RAM or another device): #GP, the page stays. */
static void test_apic_base_moved(void)
{
	static const u64 targets[] = {0xfeb00000ULL, 0xfec00000ULL, 0x200000ULL};
	u64 base = guest_rdmsr(MSR_APIC_BASE);
	u32 self = own_xapic_id();

	test_begin("osattack", "apic-base-move-refused");
	for (unsigned i = 0; i < ARRAY_SIZE(targets); i++) {
		u64 to = (base & ~APIC_BASE_ADDR) | targets[i];
		int gp;

		expect_fault(VEC_GP, WRMSR_LEN);
		guest_wrmsr(MSR_APIC_BASE, to);
		gp = fault_seen();
		check(gp == 1, "moving the APIC page to %#llx: #GP taken %d times",
		      (unsigned long long)targets[i], gp);
	}
	check(guest_rdmsr(MSR_APIC_BASE) == base, "IA32_APIC_BASE %#llx, was %#llx",
	      (unsigned long long)guest_rdmsr(MSR_APIC_BASE), (unsigned long long)base);
	check((base & APIC_BASE_ADDR) == LAPIC_BASE, "the APIC page at %#llx",
	      (unsigned long long)(base & APIC_BASE_ADDR));
	check(own_xapic_id() == self && lapic_read(LAPIC_SVR) & LAPIC_SVR_ENABLE,
	      "the APIC page no longer answers at %#llx", LAPIC_BASE);
	test_end();
}

/* The x2APIC ICR: one 64-bit write, 32-bit destinations. */
static void test_x2apic_ipis(void)
{
	static const u32 dests[] = {1, 2, 3, 7, 0xff, 0x100, 0xfffffffeU};
	u32 r[4], self, sent = 0;

	test_begin("osattack", "x2apic-ipis-to-foreign-cpus-dropped");
	guest_cpuid(1, 0, r);
	if (!(r[2] & CPUID_1_ECX_X2APIC)) {
		test_skip("CPUID offers no x2APIC");
		test_end();
		return;
	}
	guest_wrmsr(MSR_APIC_BASE,
		    guest_rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	self = (u32)guest_rdmsr(MSR_X2APIC_ID);
	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		for (unsigned i = 0; i < ARRAY_SIZE(dests); i++) {
			if (dests[i] == self)
				continue;
			guest_wrmsr(MSR_X2APIC_ICR,
				    FIELD_PREP(ICR_X2_DEST, dests[i]) | icr_low(modes[m]));
			sent++;
		}
		guest_wrmsr(MSR_X2APIC_ICR,
			    icr_low(modes[m]) | FIELD_PREP(ICR_SHORTHAND, SH_ALL_BUT_SELF));
	}
	check((u32)guest_rdmsr(MSR_X2APIC_ID) == self, "the x2APIC ID changed from %u to %u", self,
	      (u32)guest_rdmsr(MSR_X2APIC_ID));
	check(guest_rdmsr(MSR_APIC_BASE) & APIC_BASE_X2APIC, "no longer in x2APIC mode (reset?)");
	check(!(guest_rdmsr(0x800 + (LAPIC_IRR >> 4) + TEST_VECTOR / 32) & BIT(TEST_VECTOR % 32)),
	      "a fixed IPI to another CPU came back as vector %#x", TEST_VECTOR);
	guest_printf("osattack: %u IPIs to destinations not mine through the x2APIC ICR\n", sent);
	test_end();
}

static void ioapic_write(u32 reg, u32 val)
{
	mmio_write(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write(IOAPIC_BASE + IOAPIC_WIN, val);
}

static u32 ioapic_read(u32 reg)
{
	mmio_write(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read(IOAPIC_BASE + IOAPIC_WIN);
}

/* The UART's pin routed to APIC ID 5 (not this guest's), then raised: the transmitter is
 * empty, so THRE with IER.ETBEI and MCR.OUT2 asserts IRQ 4 at once. moat drops the message
 * (tests/emu/os_attack.py reads its line); nothing reaches this vCPU either. */
static void test_ioapic_foreign(void)
{
	u64 t0;

	test_begin("osattack", "ioapic-foreign-destination-dropped");
	ioapic_write(IOAPIC_REDTBL(UART_IRQ) + 1, (u32)FIELD_PREP(IOAPIC_RTE_DEST, 5));
	ioapic_write(IOAPIC_REDTBL(UART_IRQ), (u32)FIELD_PREP(IOAPIC_RTE_VECTOR, TEST_VECTOR));
	check(ioapic_read(IOAPIC_REDTBL(UART_IRQ) + 1) == FIELD_PREP(IOAPIC_RTE_DEST, 5),
	      "the entry's destination reads %#x", ioapic_read(IOAPIC_REDTBL(UART_IRQ) + 1));
	guest_outb(COM1 + UART_MCR, UART_MCR_OUT2);
	guest_outb(COM1 + UART_IER, UART_IER_THRI);
	__asm__ volatile("sti");
	t0 = guest_rdtsc();
	while (guest_rdtsc() - t0 < (u64)guest_info.tsc_khz * 20)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	guest_outb(COM1 + UART_IER, 0);
	guest_outb(COM1 + UART_MCR, 0);
	ioapic_write(IOAPIC_REDTBL(UART_IRQ), IOAPIC_RTE_MASKED);
	check(!guest_irq_count[0], "the UART's interrupt for APIC ID 5 arrived here %llu times",
	      (unsigned long long)guest_irq_count[0]);
	test_end();
}

/* MSRs outside moat's policy table (vmm/msr.c): #GP both ways, as on a CPU without them;
 * the host's values are never read or written. */
static void test_msrs_not_given(void)
{
	static const u32 msrs[] = {
		0xc0010114, /* VM_CR: SVM's lock */
		0xc0010117, /* VM_HSAVE_PA: the host save area */
		0x480,	    /* VMX_BASIC */
		0x3a,	    /* FEATURE_CONTROL (write) */
		0x1d9,	    /* DEBUGCTL */
		0x10b,	    /* FLUSH_CMD */
		0xc0000104, /* AMD TSC_RATIO */
		0x186,	    /* PERFEVTSEL0 */
	};

	test_begin("osattack", "msrs-not-given-gp");
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
		int rd = 1, wr;

		if (msrs[i] != 0x3a) {
			expect_fault(VEC_GP, RDMSR_LEN);
			(void)guest_rdmsr(msrs[i]);
			rd = fault_seen();
		}
		expect_fault(VEC_GP, WRMSR_LEN);
		guest_wrmsr(msrs[i], 0);
		wr = fault_seen();
		check(rd == 1 && wr == 1, "MSR %#x: #GP on read %d, on write %d times", msrs[i], rd,
		      wr);
	}
	test_end();
}

/* Ports moat does not give an OS guest: reads float (all-ones), writes go nowhere. The
 * host's PCI I/O BARs (QEMU puts them from 0xc000), the IDE and DMA controllers, the
 * PIC's ports and the second UART. */
static void test_ports_not_given(void)
{
	static const u16 ports[] = {0xc000, 0xc040, 0xc080, 0x1f0, 0x1f7, 0x170,
				    0x0d,   0x2f8,  0x2fd,  0x3f0, 0x4d0};

	test_begin("osattack", "ports-not-given-read-all-ones");
	for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
		u8 b;
		u32 l;

		guest_outb(ports[i], 0);
		b = guest_inb(ports[i]);
		l = guest_inl(ports[i] & ~3);
		check(b == 0xff && l == 0xffffffffU, "port %#x reads %#x, %#x", ports[i], b, l);
	}
	test_end();
}

void guest_main(void)
{
	static const struct {
		u16 limit;
		u64 base;
	} __packed no_idt = {0, 0};

	guest_map_mmio(LAPIC_BASE, 4096);
	guest_map_mmio(IOAPIC_BASE, 4096);
	test_xapic_ipis();
	test_apic_base_moved();
	test_msrs_not_given();
	test_ports_not_given();
	test_x2apic_ipis();
	test_ioapic_foreign();
	test_plan();
	/* A kernel's panic at its worst: no IDT left, a fault, a triple fault. moat stops this
	 * guest alone (the run's checks: moat's line for its end, the others' results). */
	guest_printf("osattack: panicking with a triple fault\n");
	__asm__ volatile("lidt %0; ud2" ::"m"(no_idt));
}
