/* Emulated MMIO: the instruction behind a nested page fault on a trapped page, decoded
 * (vmm/mmio.c). Only 32-bit MOV forms are emulated, which is all a driver needs for an
 * MSI-X table or an IOAPIC, and a BAR whose memory decode is off (guests/lib offers accessors that
 * emit exactly these; Linux's readl()/writel() are these): 8B /r      mov r32, r/m32   (load) 89 /r
 * mov r/m32, r32   (store) C7 /0 id   mov r/m32, imm32 (store) with an optional REX prefix without
 * W. Anything else stops the guest. */
#ifndef VMM_MMIO_H
#define VMM_MMIO_H

#include "vmm/vmm.h"

#define MMIO_INSN_MAX 15

struct mmio_insn {
	unsigned len;
	bool write;
	bool imm;  /* store of an immediate */
	u8 reg;	   /* vmm_reg index of the register (load target / store source) */
	u32 value; /* the immediate */
};

/* Decodes `n` bytes at `code`: 0, or -ENOTSUP for anything outside the forms above. */
int mmio_decode(const u8 *code, unsigned n, struct mmio_insn *out);

/* Guest-virtual to guest-physical through the guest's own 4-level tables at `cr3` (in its
 * RAM): 0, or -EFAULT when the address is not canonical, not mapped, a table lies outside
 * the guest's RAM or an entry sets reserved bits. */
#define GUEST_VA_MASK GENMASK(47, 0)
int guest_va_to_gpa(struct guest *g, u64 cr3, u64 va, u64 *gpa);

/* A nested page fault: emulated when it hits a trapped page of the guest's devices (MSI-X
 * tables, BARs while memory decode is off: vmm/vbar.h) or its IOAPIC (0 = handled, RIP
 * advanced; a BAR page mapped again since the fault: 0, retried). -ENOENT when the GPA is
 * nothing moat emulates. */
int vmm_mmio_npf(struct vcpu *v, const struct vmm_exit *e);

#endif
