/* AMD64 Virtual Machine Control Block (APM Vol. 2, appendix B) and the SVM definitions
 * around it. Only arch/x86/svm includes this. */
#ifndef ARCH_X86_SVM_VMCB_H
#define ARCH_X86_SVM_VMCB_H

#include <moat/bits.h>
#include <moat/types.h>

/* CPUID.8000000Ah:EDX (CPUID_LEAF_SVM) */
#define SVM_FEAT_NP BIT(0)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_VMCB_CLEAN BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)
#define SVM_FEAT_DECODE_ASSISTS BIT(7)

/* MSRs */
#define MSR_VM_CR 0xc0010114
#define VM_CR_SVMDIS BIT(4)
#define MSR_VM_HSAVE_PA 0xc0010117

/* Intercept vector 3 (VMCB offset 0x0c) */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_SMI BIT(2)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_VINTR BIT(4)
#define SVM_INTERCEPT_RDPMC BIT(15)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_IRET BIT(20)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_HLT BIT(24)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_TASK_SWITCH BIT(29)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
/* Intercept vector 4 (VMCB offset 0x10) */
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_RDTSCP BIT(7)
#define SVM_INTERCEPT_ICEBP BIT(8)
#define SVM_INTERCEPT_WBINVD BIT(9)
#define SVM_INTERCEPT_MONITOR BIT(10)
#define SVM_INTERCEPT_MWAIT BIT(11)
#define SVM_INTERCEPT_MWAIT_COND BIT(12)
#define SVM_INTERCEPT_XSETBV BIT(13)

/* Exception intercepts (offset 0x008): one bit per vector */
#define SVM_EXCP_DB BIT(1)
#define SVM_EXCP_AC BIT(17)
#define SVM_EXCP_INTERCEPTS (SVM_EXCP_DB | SVM_EXCP_AC)

/* TLB control */
#define SVM_TLB_NOTHING 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* V_INTR field (offset 0x60) */
#define SVM_VINTR_TPR GENMASK(7, 0)
#define SVM_VINTR_IRQ BIT(8)
#define SVM_VINTR_PRIO GENMASK(19, 16)
#define SVM_VINTR_IGN_TPR BIT(20)
#define SVM_VINTR_MASKING BIT(24)
#define SVM_VINTR_VECTOR GENMASK(39, 32)

/* Interrupt state (offset 0x68) */
#define SVM_INT_SHADOW BIT(0) /* the guest is in an STI / MOV SS shadow */

/* Nested paging control (offset 0x90) */
#define SVM_NP_ENABLE BIT(0)

/* EVENTINJ / EXITINTINFO */
#define SVM_EVT_VECTOR GENMASK(7, 0)
#define SVM_EVT_TYPE GENMASK(10, 8)
#define SVM_EVT_TYPE_INTR 0
#define SVM_EVT_TYPE_NMI 2
#define SVM_EVT_TYPE_EXCEPTION 3
#define SVM_EVT_TYPE_SOFT 4
#define SVM_EVT_EV BIT(11)
#define SVM_EVT_VALID BIT(31)
#define SVM_EVT_ERROR GENMASK(63, 32)

/* Exit codes */
#define SVM_EXIT_CR0_WRITE 0x10 /* CRn: 0x10 + n */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_RDTSCP 0x87
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_MWAIT_COND 0x8c
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu

/* IOIO EXITINFO1 */
#define SVM_IOIO_IN BIT(0)
#define SVM_IOIO_STR BIT(2)
#define SVM_IOIO_REP BIT(3)
#define SVM_IOIO_SIZE GENMASK(6, 4) /* one-hot: 1, 2, 4 bytes */
#define SVM_IOIO_PORT GENMASK(31, 16)

/* CRn write EXITINFO1 with decode assists (APM Vol. 2 15.33.1) */
#define SVM_CR_INFO_MOV BIT(63) /* a MOV to CRn (not LMSW/CLTS) */
#define SVM_CR_INFO_GPR GENMASK(3, 0)

/* NPF EXITINFO1 */
#define SVM_NPF_P BIT(0)
#define SVM_NPF_RW BIT(1)
#define SVM_NPF_US BIT(2)
#define SVM_NPF_RSV BIT(3)
#define SVM_NPF_ID BIT(4)
#define SVM_NPF_FINAL BIT(32)
#define SVM_NPF_WALK BIT(33)

/* Segment attributes (the packed VMCB form of descriptor bits 8-15 and 52-55) */
#define SVM_SEG_TYPE GENMASK(3, 0)
#define SVM_SEG_S BIT(4)
#define SVM_SEG_DPL GENMASK(6, 5)
#define SVM_SEG_P BIT(7)
#define SVM_SEG_L BIT(9)
#define SVM_SEG_DB BIT(10)
#define SVM_SEG_G BIT(11)

#define SVM_IOPM_SIZE (12 * KiB)
#define SVM_MSRPM_SIZE (8 * KiB)

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};
SIZE_CHECK(struct vmcb_seg, 16);

struct vmcb_control {
	u16 cr_read, cr_write; /* 0x000 */
	u16 dr_read, dr_write; /* 0x004 */
	u32 exceptions;	       /* 0x008 */
	u32 intercept3;	       /* 0x00c */
	u32 intercept4;	       /* 0x010 */
	u32 intercept5;	       /* 0x014 */
	u8 reserved0[0x3c - 0x18];
	u16 pause_filter_thresh; /* 0x03c */
	u16 pause_filter_count;	 /* 0x03e */
	u64 iopm_pa;		 /* 0x040 */
	u64 msrpm_pa;		 /* 0x048 */
	u64 tsc_offset;		 /* 0x050 */
	u32 asid;		 /* 0x058 */
	u8 tlb_control;		 /* 0x05c */
	u8 reserved1[3];
	u64 vintr;	      /* 0x060 */
	u64 interrupt_shadow; /* 0x068 */
	u64 exitcode;	      /* 0x070 */
	u64 exitinfo1;	      /* 0x078 */
	u64 exitinfo2;	      /* 0x080 */
	u64 exitintinfo;      /* 0x088 */
	u64 np_control;	      /* 0x090 */
	u64 avic_apic_bar;    /* 0x098 */
	u64 ghcb_pa;	      /* 0x0a0 */
	u64 eventinj;	      /* 0x0a8 */
	u64 ncr3;	      /* 0x0b0 */
	u64 virt_ext;	      /* 0x0b8 */
	u32 clean;	      /* 0x0c0 */
	u32 reserved2;
	u64 next_rip; /* 0x0c8 */
	u8 insn_len;  /* 0x0d0 */
	u8 insn_bytes[15];
	u8 reserved3[0x400 - 0xe0];
};
SIZE_CHECK(struct vmcb_control, 0x400);

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x400 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;	/* 0x460 */
	u8 reserved0[0x4cb - 0x4a0];
	u8 cpl; /* 0x4cb */
	u32 reserved1;
	u64 efer; /* 0x4d0 */
	u8 reserved2[0x548 - 0x4d8];
	u64 cr4;    /* 0x548 */
	u64 cr3;    /* 0x550 */
	u64 cr0;    /* 0x558 */
	u64 dr7;    /* 0x560 */
	u64 dr6;    /* 0x568 */
	u64 rflags; /* 0x570 */
	u64 rip;    /* 0x578 */
	u8 reserved3[0x5d8 - 0x580];
	u64 rsp;				     /* 0x5d8 */
	u64 s_cet, ssp, isst_addr;		     /* 0x5e0 */
	u64 rax;				     /* 0x5f8 */
	u64 star, lstar, cstar, sfmask;		     /* 0x600 */
	u64 kernel_gs_base;			     /* 0x620 */
	u64 sysenter_cs, sysenter_esp, sysenter_eip; /* 0x628 */
	u64 cr2;				     /* 0x640 */
	u8 reserved4[0x668 - 0x648];
	u64 g_pat;  /* 0x668 */
	u64 dbgctl; /* 0x670 */
	u8 reserved5[0x1000 - 0x400 - 0x278];
};
SIZE_CHECK(struct vmcb_save, 0xc00);

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};
SIZE_CHECK(struct vmcb, 4096);

#define VMCB_CHECK(field, off)                                                                     \
	_Static_assert(__builtin_offsetof(struct vmcb, field) == (off), #field " offset")
VMCB_CHECK(control.iopm_pa, 0x040);
VMCB_CHECK(control.asid, 0x058);
VMCB_CHECK(control.exitcode, 0x070);
VMCB_CHECK(control.np_control, 0x090);
VMCB_CHECK(control.eventinj, 0x0a8);
VMCB_CHECK(control.ncr3, 0x0b0);
VMCB_CHECK(control.next_rip, 0x0c8);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4cb);
VMCB_CHECK(save.efer, 0x4d0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5d8);
VMCB_CHECK(save.rax, 0x5f8);
VMCB_CHECK(save.kernel_gs_base, 0x620);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);

/* The VMCB fields VMRUN's consistency checks look at (APM 15.5.1), captured before each
 * VMRUN: after a failed one the save area no longer holds them (QEMU writes the host's
 * state there). */
struct svm_entry_state {
	u64 efer, cr0, cr3, cr4, dr6, dr7, ncr3, eventinj;
	u32 intercept4, asid;
	u16 cs_attrib;
};

/* The backend's per-vCPU state. */
struct svm_vcpu {
	struct svm_entry_state entry;
	struct vmcb *vmcb; /* identity mapped: virtual == physical */
	u8 *iopm;
	u8 *msrpm;
	/* The guest's GPRs while it is out, indexed by enum vmm_reg (vmm/backend.h, RAX..R15;
	 * the RSP slot unused: RSP lives in the VMCB). svm_vmrun() relays RAX through the
	 * VMCB, the others VMRUN does not switch. */
	u64 gpr[16];
	u64 watchdog_us; /* guest time budget per entry, 0 = off */
	u64 deadline;	 /* TSC of a VMM_EXIT_TIMER, 0 = none */
	bool watchdog_fired;
	bool nmi_masked; /* an injected NMI's handler runs: IRET intercepted until it ends */
};

/* VMCB set-up shared with the host unit tests. */
void svm_entry_capture(const struct vmcb *vmcb, struct svm_entry_state *st);
/* Names the consistency checks `st` fails, space-separated, into buf; returns how many. */
unsigned svm_entry_problems(const struct svm_entry_state *st, u64 phys_mask, char *buf,
			    size_t size);
void svm_vmcb_init(struct vmcb *vmcb, u64 iopm_pa, u64 msrpm_pa, u32 asid, u64 ncr3);
void svm_msrpm_set(u8 *msrpm, u32 msr, bool read, bool write);
bool svm_msrpm_get(const u8 *msrpm, u32 msr, bool write);
void svm_iopm_set(u8 *iopm, u16 port, bool intercept);

/* arch/x86/svm/svm_entry.asm */
void svm_vmrun(u64 vmcb_pa, u64 *gprs, u64 host_save_pa);

#endif
