/* State shared by the files of the VMX backend. */
#ifndef ARCH_X86_VMX_VMX_H
#define ARCH_X86_VMX_VMX_H

#include <moat/types.h>
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/vmx_caps.h"
#include "vmm/vmm.h"

/* What probe() found and decided, the same for every CPU. */
struct vmx_config {
	struct vmx_caps caps;
	u32 revision;	     /* VMCS / VMXON region revision identifier */
	u32 ctl[VMX_CTL_NR]; /* control values computed at probe */
	u32 max_msr_list;    /* recommended maximum entries of an MSR area (A.6) */
	bool vpid, unrestricted, invept_single, invvpid_single, load_pat;
	unsigned ept_max_leaf;
};

extern struct vmx_config vmx_cfg;

/* Per physical CPU (percpu->arch_virt). */
struct vmx_cpu {
	u64 vmxon_pa;
	u64 current_vmcs; /* physical address of the VMCS loaded on this CPU, 0 if none */
};

/* Guest general-purpose registers in enum vmm_reg order (RAX..R15; the RSP slot is unused:
 * RSP lives in the VMCS) and the host RSP last written to this VMCS, which vmx_entry.asm
 * rewrites only when the entry's RSP differs (0: not written yet). vmx_entry.asm depends on
 * this layout. */
struct vmx_gprs {
	u64 r[VMM_NR_GPRS]; /* by enum vmm_reg; RSP lives in the VMCS */
	u64 host_rsp;
};

STATIC_ASSERT(__builtin_offsetof(struct vmx_gprs, host_rsp) == VMM_NR_GPRS * 8,
	      "vmx_entry.asm: HOST_RSP_SLOT");

#define VMX_CPU_NONE (~0u)
#define VMX_TIMER_UNSET (~0ull)

/* An entry of a VM-entry/VM-exit MSR area (24.7.2) */
struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __packed;

struct vmx_vcpu {
	struct vmx_gprs gprs; /* must stay first: vmx_enter() takes a pointer to it */
	u64 cr2;
	u64 vmcs_pa;
	u8 *msr_bitmap;			 /* 4 KiB */
	u8 *io_bitmap;			 /* 8 KiB: A (ports 0-0x7fff) then B */
	struct vmx_msr_entry *msr_guest; /* entry load and exit store area: one page */
	struct vmx_msr_entry *msr_host;	 /* exit load area: one page */
	u8 *vapic;			 /* virtual-APIC page: the guest's TPR (CR8) */
	u32 nr_msr_switch;
	u64 eptp;
	u16 vpid;	     /* 0: VPID not used */
	unsigned active_cpu; /* CPU where the VMCS is active, VMX_CPU_NONE when clear */
	bool launched;
	u32 watchdog_ticks;	/* 0: no watchdog */
	u64 deadline;		/* TSC of a VMM_EXIT_TIMER, 0: none */
	bool timer_on;		/* the VMCS's pin-based preemption-timer control */
	u64 timer_value;	/* the VMCS's preemption-timer value, VMX_TIMER_UNSET if none */
	bool timer_is_deadline; /* the preemption timer of this entry serves the deadline */
	u64 exits;
	bool flush_pending; /* nested tables changed while the VMCS was elsewhere */
	/* the last exit's interruption information, qualification and instruction length:
	 * a reflected #DB is built from them */
	u32 exit_reason;
	u32 exit_intr_info;
	u64 exit_qual;
	u32 exit_insn_len;
};

/* vmx_entry.asm: enters the guest with VMLAUNCH (launched = 0) or VMRESUME, returns 0
 * after a VM exit with the guest GPRs saved, or the RFLAGS of a failed VM-entry
 * instruction (CF: VMfailInvalid, ZF: VMfailValid). */
u64 vmx_enter(struct vmx_gprs *gprs, u64 launched);
void vmx_exit_stub(void);

/* vmx_cpu.c */
int vmx_probe(struct vmm_caps *caps);
int vmx_cpu_init(void);

/* vmx_vcpu.c */
int vmx_vcpu_load_slow(struct vmx_vcpu *vv);
void vmx_vcpu_unload(struct vmx_vcpu *vv);
void vmx_vcpu_put_slow(struct vmx_vcpu *vv);
/* INVEPT for the vCPU's EPTP and INVVPID for its VPID (29.4.3). */
void vmx_vcpu_flush(struct vmx_vcpu *vv);
int vmx_vcpu_create(struct vcpu *v);
void vmx_vcpu_destroy(struct vcpu *v);
/* Both entry states of backend.h; VCPU_BOOT_REAL needs unrestricted guest. */
int vmx_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *s);

/* vmx_cr.c: the backend's write_cr */
int vmx_write_cr(struct vcpu *v, unsigned cr, u64 val);

/* vmx_msr.c */
void vmx_msr_intercept(struct vcpu *v, u32 msr, bool read, bool write);
void vmx_io_intercept(struct vcpu *v, u16 port, bool intercept);

/* vmx_exit.c */
void vmx_decode_exit(struct vmx_vcpu *vv, struct vmm_exit *e);
void vmx_dump(struct vcpu *v);

static inline struct vmx_vcpu *to_vmx(struct vcpu *v)
{
	return v->arch;
}

/* Makes vv's VMCS current on this CPU (vmx_vcpu_load_slow); at once when it is already:
 * a VMCS current here is active here. */
static inline int vmx_vcpu_load(struct vmx_vcpu *vv)
{
	const struct vmx_cpu *vc = this_cpu()->arch_virt;

	if (vc && vc->current_vmcs == vv->vmcs_pa)
		return 0;
	return vmx_vcpu_load_slow(vv);
}

/* After an access from another CPU than the vCPU's own: the VMCS is cleared again, so that
 * its own CPU can load it. */
static inline void vmx_vcpu_put(struct vcpu *v)
{
	if (this_cpu()->index != v->cpu)
		vmx_vcpu_put_slow(to_vmx(v));
}

#endif
