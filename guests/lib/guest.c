/* Guest runtime: GDT, IDT, own page tables, COM1 console, hypercalls, TAP reporting. */
#include <moat/x86_desc.h>
#include <moat/x86_regs.h>
#include "guests/lib/guest.h"

#define COM1 0x3f8
#define COM_LSR 5
#define COM_LSR_THRE BIT(5)
#define COM_WAIT_SPINS 100000
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_PS BIT(7)

struct moat_guest_info guest_info;
struct expected_exception guest_expect = {.vector = -1};
u64 guest_boot_id;

static u64 gdt[3] = {0, 0x00af9a000000ffffULL, 0x00cf92000000ffffULL};
static struct idt_gate idt[GUEST_IRQ_BASE + GUEST_NR_IRQS] __aligned(16);
volatile u64 guest_irq_count[GUEST_NR_IRQS];
static u64 pml4[512] __aligned(4096), pdpt[512] __aligned(4096), pd[512] __aligned(4096);
static u64 pt0[512] __aligned(4096);
static u64 pd_mmio[3][512] __aligned(4096); /* 1-4 GiB: device BARs only */
static long (*hc_insn)(u64, u64, u64, u64);

extern const u64 guest_exc_stubs[32];
extern const u64 guest_irq_stubs[GUEST_NR_IRQS];
long hc_vmmcall(u64 nr, u64 a0, u64 a1, u64 a2);
long hc_vmcall(u64 nr, u64 a0, u64 a1, u64 a2);
void guest_load_segments(void);
void guest_lib_start(u64 id);
void guest_exception(struct guest_frame *f);

long hypercall(u64 nr, u64 a0, u64 a1, u64 a2)
{
	return hc_insn(nr, a0, a1, a2);
}

bool guest_test_hypercalls(void)
{
	static int present = -1;

	if (present < 0)
		present = hypercall(HC_ECHO, 1, 0, 0) != -ENOSYS;
	return present;
}

static void com_putc(char c)
{
	for (int i = 0; i < COM_WAIT_SPINS && !(guest_inb(COM1 + COM_LSR) & COM_LSR_THRE); i++)
		__asm__ volatile("pause");
	guest_outb(COM1, (u8)c);
}

static void guest_puts(const char *s)
{
	for (; *s; s++)
		com_putc(*s);
}

void guest_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	guest_puts(buf);
}

void guest_shutdown(u64 code)
{
	test_plan();
	for (;;)
		hypercall(HC_SHUTDOWN, code, 0, 0);
}

/* ---- tests */
static struct {
	char name[96];
	bool failed, skipped;
	char diag[200];
} cur;
static unsigned results_reported; /* test_end()s, whether moat took the report or not */

void test_begin(const char *suite, const char *id)
{
	memset(&cur, 0, sizeof(cur));
	snprintf(cur.name, sizeof(cur.name), "%s: %s", suite, id);
}

void test_fail(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cur.failed)
		return;
	cur.failed = true;
	n = snprintf(cur.diag, sizeof(cur.diag), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(cur.diag + n, sizeof(cur.diag) - (size_t)n, fmt, ap);
	va_end(ap);
}

void test_skip(const char *reason)
{
	cur.skipped = true;
	snprintf(cur.name + strlen(cur.name), sizeof(cur.name) - strlen(cur.name), " # SKIP %s",
		 reason);
}

void test_end(void)
{
	u64 st = cur.failed ? HC_TEST_FAIL : cur.skipped ? HC_TEST_SKIP : HC_TEST_PASS;
	long r = hypercall(HC_REPORT, st, (u64)(uintptr_t)cur.name, strlen(cur.name));

	results_reported++;
	if (r)
		guest_printf("# reporting '%s' failed: %ld\n", cur.name, r);
	if (cur.failed)
		guest_printf("# %s\n", cur.diag);
}

void test_plan(void)
{
	char plan[16];
	long r;

	snprintf(plan, sizeof(plan), "1..%u", results_reported);
	r = hypercall(HC_REPORT, HC_TEST_PLAN, (u64)(uintptr_t)plan, strlen(plan));
	if (r)
		guest_printf("# announcing the plan %s failed: %ld\n", plan, r);
}

/* ---- exceptions */
/* The guest's command line (its configuration line's cmdline=, HC_GET_CMDLINE), fetched
 * once: blank-separated words, key=value. */
static char guest_cmdline[GUEST_CMDLINE_MAX];

const char *guest_cmdline_get(void)
{
	static bool fetched;

	if (!fetched &&
	    hypercall(HC_GET_CMDLINE, (u64)(uintptr_t)guest_cmdline, sizeof(guest_cmdline), 0) < 0)
		guest_cmdline[0] = 0;
	fetched = true;
	return guest_cmdline;
}

bool guest_arg(const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = guest_cmdline_get(), *end; *p; p = end) {
		while (*p == ' ')
			p++;
		for (end = p; *end && *end != ' '; end++)
			;
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;

			if (n >= size)
				return false;
			memcpy(val, p + klen + 1, n);
			val[n] = 0;
			return true;
		}
	}
	return false;
}

static u64 read_cr2(void)
{
	u64 v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void guest_exception(struct guest_frame *f)
{
	struct expected_exception *x = &guest_expect;

	if (x->vector == (int)f->vector) {
		x->seen++;
		x->error = f->error;
		x->rip = f->rip;
		x->cr2 = f->vector == 14 ? read_cr2() : 0;
		if (x->fix)
			x->fix(f);
		f->rip += x->skip;
		return;
	}
	guest_printf("# unexpected exception %llu error %#llx at rip %#llx cr2 %#llx\n",
		     (unsigned long long)f->vector, (unsigned long long)f->error,
		     (unsigned long long)f->rip, (unsigned long long)read_cr2());
	test_fail(0, "unexpected exception %llu at rip %#llx", (unsigned long long)f->vector,
		  (unsigned long long)f->rip);
	test_end();
	guest_shutdown(2);
}

/* ---- set-up */
u64 *guest_pte_4k(u64 gpa)
{
	return gpa < 2 * MiB ? &pt0[gpa >> 12] : NULL;
}

void guest_map_2m(u64 gpa)
{
	gpa = ALIGN_DOWN(gpa, 2 * MiB);
	if (gpa < GiB)
		pd[gpa >> 21] = gpa | PTE_P | PTE_RW | PTE_PS;
	guest_invlpg(gpa);
}

void guest_map_mmio(u64 gpa, u64 size)
{
	for (u64 a = ALIGN_DOWN(gpa, 2 * MiB); a < gpa + size && a < 4 * GiB; a += 2 * MiB) {
		u64 *pd_hi;

		if (a < GiB)
			continue;
		pd_hi = pd_mmio[a / GiB - 1];
		pdpt[a / GiB] = (u64)(uintptr_t)pd_hi | PTE_P | PTE_RW;
		pd_hi[(a % GiB) >> 21] = a | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT;
		guest_invlpg(a);
	}
}

static void paging_init(void)
{
	u64 cr0;

	pml4[0] = (u64)(uintptr_t)pdpt | PTE_P | PTE_RW;
	pdpt[0] = (u64)(uintptr_t)pd | PTE_P | PTE_RW;
	pd[0] = (u64)(uintptr_t)pt0 | PTE_P | PTE_RW;
	/* Page 0 stays unmapped in the guest's own tables (NULL faults). */
	for (u64 i = 1; i < 512; i++)
		pt0[i] = (i << 12) | PTE_P | PTE_RW;
	for (u64 a = 2 * MiB; a < guest_info.ram_size && a < GiB; a += 2 * MiB)
		pd[a >> 21] = a | PTE_P | PTE_RW | PTE_PS;
	__asm__ volatile("mov %0, %%cr3" ::"r"((u64)(uintptr_t)pml4) : "memory");
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_WP));
}

static void idt_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = {sizeof(idt) - 1, (u64)(uintptr_t)idt};

	for (int i = 0; i < GUEST_IRQ_BASE + GUEST_NR_IRQS; i++) {
		u64 a = i < 32		      ? guest_exc_stubs[i]
			: i >= GUEST_IRQ_BASE ? guest_irq_stubs[i - GUEST_IRQ_BASE]
					      : 0;

		if (a)
			idt[i] = idt_gate_make(a, 0x08, 0, GATE_INTERRUPT);
	}
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void guest_set_irq_gate(unsigned vector, void (*entry)(void))
{
	if (vector < GUEST_IRQ_BASE || vector >= GUEST_IRQ_BASE + GUEST_NR_IRQS)
		return;
	idt[vector] = idt_gate_make((u64)(uintptr_t)entry, 0x08, 0, GATE_INTERRUPT);
}

static void gdt_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed gdtr = {sizeof(gdt) - 1, (u64)(uintptr_t)gdt};

	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	guest_load_segments();
}

/* moat names its hypercall instruction in CPUID 0x40000001 ECX; without that, the vendor
 * decides (AMD: VMMCALL, Intel: VMCALL). */
static void hypercall_init(void)
{
	u32 r[4];
	char vendor[13];

	guest_cpuid(MOAT_CPUID_INFO, 0, r);
	if (r[2] == MOAT_HC_INSN_VMMCALL || r[2] == MOAT_HC_INSN_VMCALL) {
		hc_insn = r[2] == MOAT_HC_INSN_VMMCALL ? hc_vmmcall : hc_vmcall;
		return;
	}
	guest_cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	hc_insn = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine") ? hc_vmmcall
										     : hc_vmcall;
}

void guest_lib_start(u64 id)
{
	guest_boot_id = id;
	gdt_init();
	idt_init();
	hypercall_init();
	if (hypercall(HC_GET_INFO, (u64)(uintptr_t)&guest_info, 0, 0) || !guest_info.ram_size) {
		guest_puts("# cannot get the guest info\n");
		guest_shutdown(1);
	}
	paging_init();
	guest_printf("guest %s (id %u) on cpu %u, %llu MiB RAM, image [%p, %p)\n", guest_info.name,
		     guest_info.id, guest_info.cpu, (unsigned long long)(guest_info.ram_size >> 20),
		     __image_start, __image_end);
	guest_main();
	guest_shutdown(0);
}
