/* The interface between the vendor-neutral VMM core (vmm/) and a virtualization backend
 * (arch/x86/svm, arch/x86/vmx). The core never touches a VMCB or VMCS; a backend never
 * decides policy: it reports every exit, decoded into a normalized reason, and the core
 * answers it through the operations below.
 *
 * Threading: every vCPU operation runs on the physical CPU that owns the vCPU, after
 * cpu_init() on that CPU. probe() runs once on the boot CPU.
 *
 * Guest entry state (vcpu_reset): 64-bit long mode, paging on with the given CR3 (guest
 * physical), CS a flat 64-bit code segment (selector 0x08, or the boot state's cs), DS/ES/SS/
 * FS/GS flat data (0x10, or the boot state's ds),
 * CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA|NXE, RFLAGS = 0x2 (interrupts off),
 * GDTR limit 0 unless the boot state names a GDT, IDTR limit 0 (the guest loads its own),
 * all other GPRs zero except RDI and RSI.
 *
 * Hypercalls: the backend reports VMMCALL (SVM) and VMCALL (VMX) alike as
 * VMM_EXIT_HYPERCALL; a backend that can intercept the other vendor's instruction as #UD
 * may treat it as a hypercall too. Guests choose the instruction by CPUID vendor. Both
 * instructions exit at any CPL: the core refuses them unless get_cpl() is 0. */
#ifndef VMM_BACKEND_H
#define VMM_BACKEND_H

#include <moat/pgtable.h>
#include <moat/types.h>

struct vcpu;

enum vmm_exit_reason {
	VMM_EXIT_NONE = 0,
	VMM_EXIT_CPUID,
	VMM_EXIT_IO,
	VMM_EXIT_MSR_READ,
	VMM_EXIT_MSR_WRITE,
	VMM_EXIT_HLT,
	VMM_EXIT_HYPERCALL,
	VMM_EXIT_NPF,	   /* nested page fault (EPT violation/misconfig, NPF) */
	VMM_EXIT_EXT_INTR, /* a physical interrupt arrived while the guest ran */
	VMM_EXIT_NMI,
	VMM_EXIT_EXCEPTION,  /* an intercepted guest exception */
	VMM_EXIT_SHUTDOWN,   /* triple fault / shutdown */
	VMM_EXIT_WATCHDOG,   /* the budget given to set_watchdog() ran out */
	VMM_EXIT_INVALID,    /* entry failed: invalid guest state / VMCB / VMCS */
	VMM_EXIT_UNHANDLED,  /* anything else: see raw */
	VMM_EXIT_VIRT_INSN,  /* a VMX/SVM instruction (not the hypercall): the guest gets #UD */
	VMM_EXIT_CR_WRITE,   /* MOV to a control register the backend owns bits of */
	VMM_EXIT_INSN,	     /* an instruction the core answers by policy: see exit.insn */
	VMM_EXIT_IRQ_WINDOW, /* the guest can take an interrupt now (asked by irq_window()) */
	VMM_EXIT_TIMER,	     /* the TSC reached the deadline given to set_deadline() */
	VMM_EXIT_XSETBV,     /* XSETBV: XCR index in ECX, value in EDX:EAX */
	VMM_EXIT_NR
};

/* Instructions behind VMM_EXIT_INSN. */
enum vmm_insn {
	VMM_INSN_WBINVD,
	VMM_INSN_INVD,
	VMM_INSN_MONITOR,
	VMM_INSN_MWAIT,
	VMM_INSN_RDPMC,
	VMM_INSN_RDTSCP,
};

/* Access kinds of a nested page fault (bit set = that kind of access faulted). */
#define VMM_NPF_READ BIT(0)
#define VMM_NPF_WRITE BIT(1)
#define VMM_NPF_EXEC BIT(2)
#define VMM_NPF_PRESENT BIT(3) /* the GPA was mapped, but not for this access */
#define VMM_NPF_WALK BIT(4)    /* during the guest's own page-table walk */

struct vmm_exit {
	enum vmm_exit_reason reason;
	u32 insn_len;	  /* length of the exiting instruction, 0 if unknown */
	u64 raw;	  /* backend exit code (SVM EXITCODE, VMX basic exit reason) */
	u64 info1, info2; /* backend qualification (EXITINFO1/2, qualification/GPA) */
	u64 rip;	  /* guest RIP of the exiting instruction */
	union {
		struct {
			u32 leaf, subleaf;
		} cpuid;
		struct {
			u16 port;
			u8 size; /* 1, 2, 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u32 index;
			u64 value; /* MSR write: EDX:EAX */
		} msr;
		struct {
			u64 gpa;
			u32 access; /* VMM_NPF_* */
		} npf;
		struct {
			u8 vector;
			bool has_error;
			u32 error;
			u64 cr2; /* #PF only */
		} exc;
		enum vmm_insn insn;
		struct {
			u8 nr;	/* CR0, CR4, ... */
			u8 gpr; /* enum vmm_reg of the source register */
		} cr;
		u64 words[2]; /* all of the above, for clearing */
	};
};
STATIC_ASSERT(sizeof(struct vmm_exit) == __builtin_offsetof(struct vmm_exit, words) + 16,
	      "vmm_exit.words covers the union");

enum vmm_reg {
	VMM_REG_RAX,
	VMM_REG_RCX,
	VMM_REG_RDX,
	VMM_REG_RBX,
	VMM_REG_RSP,
	VMM_REG_RBP,
	VMM_REG_RSI,
	VMM_REG_RDI,
	VMM_REG_R8,
	VMM_REG_R9,
	VMM_REG_R10,
	VMM_REG_R11,
	VMM_REG_R12,
	VMM_REG_R13,
	VMM_REG_R14,
	VMM_REG_R15,
	VMM_REG_RIP,
	VMM_REG_RFLAGS,
	VMM_REG_CR0,
	VMM_REG_CR2,
	VMM_REG_CR3,
	VMM_REG_CR4,
	VMM_REG_EFER,
	VMM_REG_PAT, /* the guest's IA32_PAT (SVM: g_PAT; VMX: the VMCS's, with PAT switching) */
	VMM_REG_NR
};

/* The general-purpose registers a backend keeps in memory while the guest is out, indexed
 * by enum vmm_reg from RAX to R15 (struct vcpu.gpr); the RSP slot is unused: RSP lives in
 * the VMCB / VMCS (get_reg/set_reg). */
#define VMM_NR_GPRS 16

enum vcpu_boot_mode {
	VCPU_BOOT_LONG = 0, /* the 64-bit entry state described at the top of this file */
	/* The state after INIT and a start-up IPI (SDM Vol. 3 9.1.1, 11.6.1): real mode,
	 * CS selector `cs` with base cs << 4, IP `rip`, CR0 0x60000010, EFER 0, RFLAGS 0x2,
	 * paging off, every other register as after INIT. */
	VCPU_BOOT_REAL,
};

struct vcpu_boot_state {
	enum vcpu_boot_mode mode;
	u64 rip;
	u64 rsp;
	u64 cr3; /* guest-physical */
	u64 rdi; /* first argument for the guest's entry */
	u64 rsi; /* second argument (Linux: the zero page) */
	/* A GDT the guest already has (Linux's boot protocol: __BOOT_CS, __BOOT_DS), with the
	 * selectors to load from it; limit 0: no GDT, selectors 0x08 and 0x10. */
	u64 gdt_base;
	u16 gdt_limit;
	u16 cs, ds;
};

/* What a backend offers; filled by probe(). */
struct vmm_caps {
	const char *name;		 /* "svm", "vmx" */
	const struct pt_format *npt_fmt; /* nested page-table entry format */
	unsigned npt_levels;		 /* 4 */
	unsigned npt_max_leaf;		 /* 1: 2 MiB, 2: 1 GiB */
	u32 nr_asids;			 /* ASIDs / VPIDs available (0 = none) */
	u32 max_guests;			 /* how many guests can have their own tag */
	u32 hypercall_insn;		 /* VMM_HC_*: told to guests in CPUID 0x40000001 */
	u32 guest_features;		 /* VMM_GUEST_*: CPU features it lets guests use */
};

/* CPU features a guest is offered only when part of moat supports them (vmm/cpuid.c): the
 * backend (vmm_caps.guest_features) or, for OS guests, the virtual local APIC. */
/* XSETBV exits and the core checks XCR0 against vmm_guest_xcr0() (vmm/cpuid.h) */
#define VMM_GUEST_XSAVE BIT(0)
#define VMM_GUEST_PCID BIT(1)	      /* CR4.PCIDE may be set */
#define VMM_GUEST_INVPCID BIT(2)      /* INVPCID runs (VMX: "enable INVPCID") */
#define VMM_GUEST_X2APIC BIT(3)	      /* the virtual LAPIC's x2APIC mode */
#define VMM_GUEST_TSC_DEADLINE BIT(4) /* the virtual LAPIC's TSC-deadline timer */
#define VMM_GUEST_ARAT BIT(5)	      /* its timer runs in every C-state */

#define VMM_CR_APPLIED 0
#define VMM_CR_FAULT 1

#define VMM_HC_UNKNOWN 0 /* guests fall back to the CPU vendor */
#define VMM_HC_VMMCALL 1
#define VMM_HC_VMCALL 2

struct vmm_backend {
	const char *name;
	/* Detects the feature on this machine; -ENODEV (with a logged reason) if absent. */
	int (*probe)(struct vmm_caps *caps);
	/* Turns virtualization on for the calling CPU. */
	int (*cpu_init)(void);
	/* Allocates the vCPU's control block (v->arch) for guest v->guest, using the guest's
	 * nested table root v->guest->npt.root and tag v->guest->id, and points v->gpr at its
	 * VMM_NR_GPRS registers: the core reads and writes RAX..R15 but RSP there directly
	 * between exit and entry (get_reg/set_reg give the same values). */
	int (*vcpu_create)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	/* Puts the vCPU in the entry state above. */
	int (*vcpu_reset)(struct vcpu *v, const struct vcpu_boot_state *s);
	/* Enters the guest and returns at the next exit, decoded into *e. 0, or a negative
	 * errno if the CPU refused to enter (e->reason is then VMM_EXIT_INVALID). */
	int (*run)(struct vcpu *v, struct vmm_exit *e);
	u64 (*get_reg)(struct vcpu *v, enum vmm_reg r);
	void (*set_reg)(struct vcpu *v, enum vmm_reg r, u64 val);
	/* The guest's current privilege level (0-3) at the last exit. A backend that cannot
	 * read it answers 3, so that privileged requests are refused. */
	unsigned (*get_cpl)(struct vcpu *v);
	/* Queues an event for the next entry. */
	int (*inject_exception)(struct vcpu *v, u8 vector, bool has_error, u32 error);
	/* -EBUSY where can_inject() is false (both backends). */
	int (*inject_interrupt)(struct vcpu *v, u8 vector);
	/* Asks for a VMM_EXIT_IRQ_WINDOW exit as soon as the guest can take an external
	 * interrupt (RFLAGS.IF set, no STI / MOV SS shadow, no event being delivered); off:
	 * no such exit. One exit per request: the backend withdraws it at that exit. */
	void (*irq_window)(struct vcpu *v, bool on);
	/* Whether an interrupt injected now is delivered at the next entry (IF set, no
	 * shadow, no event queued). */
	bool (*can_inject)(struct vcpu *v);
	/* Queues an NMI for the next entry; -EBUSY if another event is queued, the guest's NMI
	 * handler has not returned (IRET) yet, or it sits in an STI / MOV SS shadow (try again
	 * at a later exit); -ENOTSUP where the CPU cannot (VMX without virtual NMIs). */
	int (*inject_nmi)(struct vcpu *v);
	/* Forces a VMM_EXIT_TIMER exit once the TSC reaches `tsc` while the guest runs (0:
	 * none), independent of the watchdog. A deadline already past exits at once. It fires
	 * once (disarmed with that exit), never before the TSC reached it. */
	void (*set_deadline)(struct vcpu *v, u64 tsc);
	/* A guest's MOV to control register `cr` (a VMM_EXIT_CR_WRITE): VMM_CR_APPLIED,
	 * VMM_CR_FAULT when the architecture makes it #GP(0) (the core injects it), or a
	 * negative errno when the backend cannot emulate it. NULL: never such an exit. */
	int (*write_cr)(struct vcpu *v, unsigned cr, u64 val);
	/* Advances RIP past the instruction that caused exit e. */
	void (*skip_instruction)(struct vcpu *v, const struct vmm_exit *e);
	/* After a change to the guest's nested tables. */
	void (*flush_nested_tlb)(struct vcpu *v);
	/* Arms the watchdog: if the guest runs budget_us microseconds without an exit the
	 * backend forces one and reports VMM_EXIT_WATCHDOG. 0 disarms. */
	void (*set_watchdog)(struct vcpu *v, u64 budget_us);
	/* Whether guest accesses to an MSR / an I/O port exit (true) or go to the hardware. */
	void (*msr_intercept)(struct vcpu *v, u32 msr, bool read, bool write);
	void (*io_intercept)(struct vcpu *v, u16 port, bool intercept);
	/* Logs the backend's view of the vCPU (control block fields) for an unhandled exit. */
	void (*dump)(struct vcpu *v);
};

/* Implemented by the backends; the core picks the first present one whose probe()
 * succeeds (weak: a build may lack one). Every I/O port and MSR is intercepted after
 * vcpu_create() until the core opens it with io_intercept()/msr_intercept(). */
extern const struct vmm_backend svm_backend __attribute__((weak));
extern const struct vmm_backend vmx_backend __attribute__((weak));

const char *vmm_exit_name(enum vmm_exit_reason r);
const char *vmm_reg_name(enum vmm_reg r);

#endif
