/* Emulated MMIO (vmm/mmio.c): the MOV decoder on the input's bytes as they are, and a
 * nested page fault on an MSI-X page emulated end to end: the instruction is fetched
 * through the guest's own page tables, which are guest RAM the input fills.
 *   byte 0: how many instruction bytes follow (0..15); then those bytes;
 *   then CR3 (8 bytes), RIP (8), the faulting GPA's offset into the trapped page (2),
 *   the guest's registers (16 x 8); the rest is guest RAM from GPA 0 (up to 64 KiB).
 * A decoded instruction must fit the bytes given and name one of the 16 registers. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "vmm/exits.h"
#include "vmm/mmio.h"
#include "vmm/msix.h"
#include "fuzz.h"

#define RAM_SIZE 0x10000
#define MSIX_PAGE 0xc0004000ULL

static struct guest g;
static struct vdev dev;
static u64 regs[VMM_REG_NR];

/* What vmm/vlapic.c needs from the rest of moat. */
void vcpu_kick(struct vcpu *v) {}
u64 tsc_hz(void)
{
	return 2000000000ULL;
}
u64 time_us(void)
{
	return 0;
}

struct vdev *msix_region(struct guest *gst, u64 gpa)
{
	return gpa >= MSIX_PAGE && gpa < MSIX_PAGE + 0x1000 ? &dev : NULL;
}

u32 msix_mmio_read(struct guest *gst, struct vdev *v, u64 gpa)
{
	if (gpa & 3)
		abort(); /* the emulation takes aligned 32-bit accesses only */
	return 0xfee01000;
}

void msix_mmio_write(struct guest *gst, struct vdev *v, u64 gpa, u32 val)
{
	if (gpa & 3)
		abort();
}

void vflr_settle(struct guest *gst, struct vdev *v)
{
	if (v != &dev)
		abort();
}

int guest_stop(struct guest *gst, enum vmm_exit_reason why, const char *fmt, ...)
{
	gst->state = GUEST_STOPPED;
	return -EFAULT;
}

static u64 f_get(struct vcpu *v, enum vmm_reg r)
{
	if ((unsigned)r >= VMM_REG_NR)
		abort();
	return regs[r];
}

static void f_set(struct vcpu *v, enum vmm_reg r, u64 val)
{
	if ((unsigned)r >= VMM_REG_NR)
		abort();
	regs[r] = val;
}

static const struct vmm_backend fake = {.name = "fake", .get_reg = f_get, .set_reg = f_set};
const struct vmm_backend *vmm_be = &fake;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};
	u8 code[MMIO_INSN_MAX];
	unsigned n = fin_u8(&f) % (MMIO_INSN_MAX + 1);
	struct mmio_insn in;
	struct vmm_exit e;
	u8 *ram, *insn;
	size_t got;

	/* The decoder sees exactly n bytes: a heap copy of that size. */
	got = fin_bytes(&f, code, n);
	insn = malloc(got ? got : 1);
	memcpy(insn, code, got);
	if (mmio_decode(insn, (unsigned)got, &in) == 0 && (in.len > got || in.reg >= 16))
		abort();
	free(insn);

	memset(&g, 0, sizeof(g));
	memset(&e, 0, sizeof(e));
	regs[VMM_REG_CR3] = fin_u64(&f);
	e.reason = VMM_EXIT_NPF;
	e.rip = fin_u64(&f);
	e.npf.gpa = MSIX_PAGE + fin_u16(&f) % 0x1000;
	for (unsigned r = 0; r < 16; r++)
		regs[r] = fin_u64(&f);
	ram = calloc(1, RAM_SIZE);
	fin_bytes(&f, ram, RAM_SIZE);
	g.ram_hpa = (u64)(uintptr_t)ram;
	g.ram_size = RAM_SIZE;
	g.state = GUEST_RUNNING;
	g.vcpu[0].guest = &g;
	vmm_mmio_npf(&g.vcpu[0], &e);
	free(ram);
	return 0;
}
