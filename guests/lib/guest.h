/* The freestanding runtime of moat's test guests. */
#ifndef GUESTS_LIB_GUEST_H
#define GUESTS_LIB_GUEST_H

#include <moat/bits.h>
#include <moat/errno.h>
#include <moat/hypercall.h>
#include <moat/string.h>
#include <moat/types.h>

/* Pushed by guests/lib/arch.asm for every exception. */
struct guest_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

extern struct moat_guest_info guest_info;
extern char __image_start[], __image_end[];

/* Provided by each guest. */
void guest_main(void);

long hypercall(u64 nr, u64 a0, u64 a1, u64 a2);
/* Whether moat serves the test range of hypercalls (the test image does, the product
 * answers -ENOSYS). A test that needs one reports itself skipped with this reason: */
bool guest_test_hypercalls(void);
#define NO_TEST_HYPERCALLS "the product image has no test hypercalls"
void guest_printf(const char *fmt, ...) __printf(1, 2);
void __noreturn guest_shutdown(u64 code);

/* The guest's command line (the configuration's cmdline=, at most GUEST_CMDLINE_MAX - 1
 * characters; empty without one) and the value of its word `key=value` (false when absent
 * or longer than size - 1). */
#define GUEST_CMDLINE_MAX 512
const char *guest_cmdline_get(void);
bool guest_arg(const char *key, char *val, size_t size);

/* Device interrupts: vectors GUEST_IRQ_BASE.. GUEST_IRQ_BASE + GUEST_NR_IRQS - 1 count
 * themselves here (moat injects them: no EOI). */
#define GUEST_IRQ_BASE 0x40
#define GUEST_NR_IRQS 4
extern volatile u64 guest_irq_count[GUEST_NR_IRQS];
/* Replaces the counting stub of one of those vectors by `entry` (an interrupt gate). */
void guest_set_irq_gate(unsigned vector, void (*entry)(void));

/* Whether this image was linked as an OS guest (guests/lib/os_guest.ld: moat starts it
 * from a bzImage, with the virtual platform: local APIC, IOAPIC, ...). */
static inline bool guest_is_os_image(void)
{
	extern char __os_guest_image[] __attribute__((weak));

	return __os_guest_image != NULL;
}

/* The test image prints this guest's exits so far by reason, `vmm: exits <guest>: mark
 * <mark>: ...` (MOAT_TEST_EXITS_PORT); the write is one I/O exit. */
static inline void guest_exits_mark(u8 mark)
{
	__asm__ volatile("outb %0, %1" ::"a"(mark), "Nd"((u16)MOAT_TEST_EXITS_PORT) : "memory");
}

/* Tests: test_begin(), check()s, test_end() reports "<suite>: <id>" through the hypervisor.
 * A failed check records the first failure's line and message, printed as a "# " line. */
void test_begin(const char *suite, const char *id);
void test_fail(int line, const char *fmt, ...) __printf(2, 3);
void test_skip(const char *reason);
void test_end(void);
/* The TAP plan "1..N": the number of results this guest reported (every test_end). moat
 * fails the run when it received another number. guest_shutdown() announces it; a guest
 * that expects to be stopped announces it before. */
void test_plan(void);
#define check(cond, fmt, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__LINE__, "check failed: %s: " fmt, #cond, ##__VA_ARGS__);       \
	} while (0)

/* An exception the running test expects: the handler records it and resumes at
 * rip + skip (skip 0: the handler `fix` must make the instruction succeed on retry). */
struct expected_exception {
	int vector; /* -1: none expected */
	u32 skip;
	void (*fix)(struct guest_frame *f);
	volatile int seen; /* how many were taken */
	volatile u64 error, cr2, rip;
};
extern struct expected_exception guest_expect;

/* Expects `vector` from the next instruction, resumed `len` bytes further on. */
static inline void expect_fault(int vector, u32 len)
{
	guest_expect = (struct expected_exception){.vector = vector, .skip = len};
}

/* How many expected exceptions were taken; expects none from here on. */
static inline int fault_seen(void)
{
	int seen = guest_expect.seen;

	guest_expect.vector = -1;
	return seen;
}

/* The guest's own page tables: 4 KiB pages for the first 2 MiB, 2 MiB pages above. */
u64 *guest_pte_4k(u64 gpa);
void guest_map_2m(u64 gpa);
/* Device memory between 1 and 4 GiB, uncached, with 2 MiB pages. */
void guest_map_mmio(u64 gpa, u64 size);
static inline void guest_invlpg(u64 va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

static inline void guest_cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* rdmsr/wrmsr are 2 bytes: after an expected #GP the guest resumes past them, and a read
 * that faulted returns 0. */
static inline u64 guest_rdmsr(u32 msr)
{
	u32 lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	return (u64)hi << 32 | lo;
}

static inline void guest_wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline void guest_outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline u8 guest_inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void guest_outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline u16 guest_inw(u16 port)
{
	u16 v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void guest_outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline u32 guest_inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 guest_rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

/* The `cpu` suite every guest runs. */
void cpu_suite(void);
/* Suite `platform`: the PIT, the ACPI PM timer and the CMOS RTC moat emulates. */
void platform_suite(void);
/* The `vf` suite: the guest's 82576 VF through passthrough (guests/lib/vf_suite.c). */
void vf_suite(void);
/* The data path measurement between two guests' VFs, one direction (bench guest). */
void vf_dataplane_bench(void);
/* Suite vf's first tests (vf-probe, vf-reset-mailbox, vf-dma-tx): the VF's driver with its
 * queues up, or NULL. */
struct igbvf;
struct igbvf *vf_suite_open(void);
/* The guest's word vf.ip=: answer ARP and ICMP echo there (guests/lib/vf_ping.c). */
bool vf_ping_configured(void);
void vf_ping_suite(void);

#endif
