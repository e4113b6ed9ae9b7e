/* What the CPU's VMX capability MSRs allow, and the pure computations on them: execution
 * controls from allowed-0/allowed-1 settings, CR0/CR4 fixed bits, preemption-timer ticks.
 * Nothing here touches hardware, so the host unit tests run it on recorded MSR values. */
#ifndef ARCH_X86_VMX_VMX_CAPS_H
#define ARCH_X86_VMX_VMX_CAPS_H

#include <moat/types.h>

enum vmx_ctl { VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY, VMX_CTL_NR };

struct vmx_caps {
	u64 basic;
	u64 ctl[VMX_CTL_NR]; /* allowed settings: true-control MSRs where the CPU has them */
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid; /* 0 without the secondary controls */
};

/* One control field: what moat needs, would like, and must not have. */
struct vmx_ctl_req {
	u32 want;     /* required: an unsupported bit is an error naming it */
	u32 optional; /* taken where allowed */
	u32 forbid;   /* must stay 0: a CPU that forces one on is an error */
};

const char *vmx_ctl_name(enum vmx_ctl c);
/* Name of bit `bit` of control field c ("enable EPT"), or NULL for an unnamed bit. */
const char *vmx_ctl_bit_name(enum vmx_ctl c, unsigned bit);
/* Computes the value of control field c from its allowed settings `allowed` (low half:
 * allowed-0, high half: allowed-1). Bits the CPU requires are forced on, unsupported
 * optional bits dropped. -ENOTSUP (logged, naming the control and bit) when a wanted
 * bit is not allowed or a forbidden bit is forced. */
int vmx_ctl_compute(enum vmx_ctl c, u64 allowed, const struct vmx_ctl_req *req, u32 *out);
/* Whether bit(s) `bits` of control c may be set. */
bool vmx_ctl_allows(const struct vmx_caps *caps, enum vmx_ctl c, u32 bits);

/* CR0/CR4 with the VMX fixed bits applied (23.8): fixed0 bits forced on, bits clear in
 * fixed1 forced off. With unrestricted guest, CR0.PE and CR0.PG are left as given. */
u64 vmx_fix_cr0(const struct vmx_caps *caps, u64 cr0, bool unrestricted);
u64 vmx_fix_cr4(const struct vmx_caps *caps, u64 cr4);
/* A guest's CR0.CD and CR0.NW live in the read shadow only: VM entry and exit leave them as
 * they are in the CPU (Bochs; KVM never lets them into the real CR0 either), so a guest's
 * INIT value 0x60000010 would otherwise disable caching for the host after its exits. */
#define VMX_CR0_SHADOW_ONLY (CR0_CD | CR0_NW)
/* The guest/host mask of CR0 (bits whose guest writes exit) and the real CR0 for a guest
 * CR0 value. */
u64 vmx_guest_cr0_mask(const struct vmx_caps *caps, bool unrestricted);
u64 vmx_guest_cr0_real(const struct vmx_caps *caps, u64 cr0, bool unrestricted);
/* A guest's MOV to CR0/CR4 on bits the host owns: the value the real register takes
 * (*real), a fault the guest gets, or a change VMX cannot express. */
enum vmx_cr_write {
	VMX_CR_APPLY,
	VMX_CR_FAULT,	    /* #GP(0) in the guest */
	VMX_CR_UNSUPPORTED, /* clearing CR0.PE/PG that VMX fixes without unrestricted guest */
};
enum vmx_cr_write vmx_cr0_write(const struct vmx_caps *caps, bool unrestricted, u64 cur, u64 val,
				u64 *real);
enum vmx_cr_write vmx_cr4_write(const struct vmx_caps *caps, u64 val, u64 *real);

/* Preemption-timer value for `us` microseconds at a TSC of tsc_hz (the timer counts down
 * once every 2^IA32_VMX_MISC[4:0] TSC ticks); saturates at the 32-bit field, at least 1. */
u32 vmx_preempt_ticks(const struct vmx_caps *caps, u64 tsc_hz, u64 us);
/* Preemption-timer value that expires no earlier than `delta` TSC ticks after the entry
 * (rounded up, plus one count for the phase of the divided TSC); 0 for a deadline already
 * reached (an exit before the first guest instruction, 26.7.4); saturates. */
u32 vmx_preempt_ticks_tsc(const struct vmx_caps *caps, u64 delta);
/* EFER after the guest's CR0 became `cr0`: EFER.LMA follows CR0.PG while EFER.LME is set
 * (SDM Vol. 3A 10.8.5). */
u64 vmx_efer_for_cr0(u64 efer, u64 cr0);

/* Exit reason and VM-instruction error names for dumps ("EPT violation"). */
const char *vmx_exit_name(u32 basic_reason);
const char *vmx_insn_error_name(u32 err);

#endif
