/* Emulated MMIO: the instruction behind a nested page fault on a trapped page, decoded
 * (vmm/mmio.c). MOV forms only, with an optional operand-size prefix (66) and REX prefix:
 *   8B /r      mov r16/32/64, r/m     (load)       8A /r      mov r8, r/m8    (load)
 *   89 /r      mov r/m, r16/32/64     (store)      88 /r      mov r/m8, r8    (store)
 *   C7 /0 iw/id mov r/m, imm16/32     (store)      C6 /0 ib   mov r/m8, imm8  (store)
 * The emulated devices (MSI-X table, IOAPIC, local APIC) take the 32-bit forms only, which
 * is all a driver needs for them (guests/lib offers accessors that emit exactly these;
 * Linux's readl()/writel() are these); a BAR whose memory decode is off (vmm/vbar.h) takes
 * any size, aligned. Anything else stops the guest. */
#ifndef VMM_MMIO_H
#define VMM_MMIO_H

#include "vmm/vmm.h"

#define MMIO_INSN_MAX 15

struct mmio_insn {
	unsigned len;
	u8 size; /* bytes accessed: 1, 2, 4 or 8 */
	bool write;
	bool imm;	/* store of an immediate */
	u8 reg;		/* vmm_reg index of the register (load target / store source) */
	bool high_byte; /* size 1: AH, CH, DH or BH (bits 15:8 of reg) */
	u32 value;	/* the immediate as encoded (imm8, imm16, imm32) */
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
