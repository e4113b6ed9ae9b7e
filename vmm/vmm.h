/* Guests and vCPUs as the core and the backends see them. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <moat/iommu.h>
#include <moat/pci.h>
#include <moat/pgtable.h>
#include <moat/ratelimit.h>
#include <moat/spinlock.h>
#include <moat/types.h>
#include "vmm/backend.h"
#include "vmm/config.h"
#include "vmm/cpuid.h"
#include "vmm/msr.h"
#include "vmm/vioapic.h"
#include "vmm/vlapic.h"
#include "vmm/vpit.h"
#include "vmm/vuart.h"
#include "vmm/vpm.h"
#include "vmm/vreset.h"
#include "vmm/vrtc.h"

enum guest_state {
	GUEST_CREATED,
	GUEST_RUNNING,
	GUEST_DONE,    /* shut down through the hypercall */
	GUEST_STOPPED, /* stopped by the hypervisor (fault, watchdog, unhandled exit) */
};

#define GUEST_CONSOLE_LINE 256

/* Guest-physical window where assigned devices' BARs appear (above the guest's RAM). */
#define VDEV_MMIO_BASE 0xc0000000ULL
#define VDEV_MMIO_END 0xfec00000ULL /* the I/O APIC's page and the local APIC's above */
#define VDEV_MAX_RIDS 8

#define VMSIX_MAX 8 /* MSI-X entries emulated per device (an 82576 VF has 3) */

struct vmsix_vec {
	struct guest *g;
	u8 vector; /* the guest's vector, as checked when the entry last went live */
	/* OS guests: the entry's message, delivered through the guest's virtual local APICs */
	bool to_vlapic;
	struct vlapic_msg msg;
	u64 messages; /* messages that arrived on its host vector while the guest owned it */
};

/* A device's MSI-X state: the guest's table and Message Control bits, and per entry the
 * interrupt remapping entry and host vector that carry it while it is unmasked. */
struct vmsix {
	u16 nr;			 /* entries emulated: the table size, at most VMSIX_MAX */
	bool enabled, fmask;	 /* the guest's MSI-X Enable and Function Mask */
	u32 entry[VMSIX_MAX][4]; /* address low, address high, data, vector control */
	bool live[VMSIX_MAX];	 /* the physical entry is unmasked, through irq[] */
	bool have_irq[VMSIX_MAX];
	struct iommu_irq irq[VMSIX_MAX];
	int host_vector[VMSIX_MAX]; /* 0 when none */
	u32 cpu[VMSIX_MAX];	    /* the physical CPU its IRTE last targeted */
	struct vmsix_vec vec[VMSIX_MAX];
};

/* Where a guest's function level reset of its device stands (vmm/vflr.c). */
enum vflr_state {
	VFLR_IDLE = 0,
	VFLR_RESETTING, /* initiated in hardware; the 100 ms the spec requires not yet over */
};

/* A device assigned to a guest, as the guest sees it at 00:(slot).0. */
struct vdev {
	struct pci_dev *pdev;
	u16 rids[VDEV_MAX_RIDS]; /* the requester IDs its DMA carries: its own, then aliases */
	unsigned nr_rids;
	u64 bar_gpa[PCI_NR_BARS];     /* guest-physical base of each implemented BAR, 0 if none */
	bool bar_sizing[PCI_NR_BARS]; /* the guest wrote all-ones to this BAR register */
	u16 command;		      /* the guest's view: memory decode and bus master only */
	bool attached;		      /* in the guest's IOMMU domain */
	struct vmsix msix;
	/* Its vCPUs' config and MSI-X table accesses, one at a time (vmm/vflr.h) */
	spinlock_t lock;
	/* A function level reset the guest initiated (vmm/vflr.c) */
	enum vflr_state flr_state;
	u64 flr_done_us; /* VFLR_RESETTING: no request reaches the function before this */
	u32 flrs, flrs_failed;
	struct ratelimit flr_log;
	/* Its BAR pages in the guest's nested tables (vmm/vbar.c): only while the guest's
	 * Memory Space Enable is on and no reset of its own is in progress */
	bool bars_mapped;
	u64 bar_off_reads, bar_off_writes; /* accesses answered by moat meanwhile */
	struct ratelimit bar_off_log;
};

/* Where a vCPU of an OS guest is (its application processors wait for a start-up IPI). */
enum vcpu_run_state {
	VCPU_RUN = 0,
	VCPU_WAIT_SIPI, /* after INIT: runs nothing until a start-up IPI */
};

/* What a nested page fault hit: the emulated pages, a BAR unmapped while its decode is off
 * or its function resets, or nothing moat emulates (the guest stops). */
enum npf_target { NPF_LOCAL_APIC, NPF_MSIX, NPF_IOAPIC, NPF_BAR, NPF_UNMAPPED, NPF_TARGET_NR };

struct vcpu {
	struct guest *guest;
	u32 index;  /* in its guest: also its APIC ID */
	u32 cpu;    /* physical CPU index (cpu_data[]) */
	void *arch; /* backend control block */
	u64 *gpr;   /* the guest's RAX..R15 by enum vmm_reg, RSP excepted (vmm/backend.h) */
	enum vcpu_run_state run_state;
	struct vlapic lapic; /* OS guests only (guest_is_os()) */
	struct vcpu_msrs msrs;
	struct cpuid_ctx cpuid; /* its CPUID as the guest sees it (vcpu_cpuid_init()) */
	/* statistics, counted on the vCPU's own CPU: guest_exits() sums them */
	u64 exits[VMM_EXIT_NR];
	u64 npfs[NPF_TARGET_NR]; /* nested page faults by what they hit (vmm/mmio.c) */
	u64 halts_blocked;	 /* HLTs that waited host-side for an interrupt (OS guests) */
	u64 irqs_injected;	 /* interrupts of its virtual LAPIC injected (OS guests) */
	bool nmi_pending;	 /* an NMI sent to it, not yet injected (OS guests) */
	bool window_asked;	 /* an interrupt window asked for since it was last turned off */
	/* Nested TLB flushes (vmm/npt_flush.c): in guest mode now, and the guest's
	 * npt_gen its CPU last flushed for */
	bool in_guest;
	u32 npt_gen_seen;
};

struct guest {
	u32 id; /* 1.. : also the ASID / VPID tag */
	struct guest_config cfg;
	u64 ram_hpa; /* host-physical base of the guest's RAM (GPA 0), 2 MiB aligned */
	u64 ram_size;
	struct pgtable npt; /* nested tables GPA -> HPA */
	u32 npt_gen;	    /* bumped when a translation leaves npt (vmm/npt_flush.c) */
	u64 npt_flush_timeouts;
	/* vcpu[0] is the boot CPU; moat's own guests have exactly one. */
	struct vcpu vcpu[CFG_MAX_VCPUS];
	u32 nr_vcpus;
	u32 vcpus_left;	 /* vCPU threads not yet past their loop: the last one ends the guest */
	u32 vcpus_stuck; /* OS guests: vCPUs halted with interrupts off or waiting for a SIPI */
	enum guest_state state; /* changed atomically: the first end wins (guest_end()) */
	char stop_reason[128];
	u64 stop_gpa; /* for a nested page fault stop */
	enum vmm_exit_reason stop_exit;
	/* statistics */
	u64 io_denied;
	u64 msr_denied;
	u64 hypercalls;
	u64 results[3]; /* guest-reported pass/fail/skip */
	/* hypercalls refused because the guest made them at CPL > 0, and their log lines */
	u64 hc_refused_cpl;
	struct ratelimit hc_refused_log;
	/* virtual COM1 (vmm/vuart.c) and the console line it feeds (vmm/guest_console.c) */
	struct vuart uart;
	spinlock_t con_lock;
	char con[GUEST_CONSOLE_LINE];
	u32 con_len;
	/* virtual PCI config address register (CF8) */
	u32 pci_addr;
	/* platform devices on ports (vmm/platform.c), shared by its vCPUs under the lock */
	spinlock_t platform_lock;
	u64 platform_tsc; /* the latest TSC the devices saw: their time never goes back */
	struct vpit pit;
	struct vpm pm;
	struct vreset reset;
	struct vrtc rtc;
	const char *ended_by; /* the power-off or reset request that ended it, else NULL */
	/* the I/O APIC of an OS guest (vmm/vioapic.c) */
	struct vioapic ioapic;
	/* assigned devices (vmm/assign.c) */
	struct vdev dev[CFG_MAX_DEVICES];
	u32 nr_dev;
	struct iommu_domain *domain; /* DMA of its devices: exactly its RAM */
	u64 bar_refused;	     /* BAR writes away from the device's window */
	u64 cfg_refused;	     /* config writes to functions the guest does not have */
	u64 dma_faults;		     /* faults its domain had when it was destroyed */
	u64 msix_refused;	     /* MSI-X entries unmasked with a bad address or data */
	u64 msix_nowhere;   /* OS guests: device interrupts whose message named none of its vCPUs */
	u64 irq_pending[4]; /* guest vectors raised by its devices, not yet injected */
	u64 irqs_injected;
	u64 watchdog_us;
	u64 run_us; /* from first entry to the end */
};

extern const struct vmm_backend *vmm_be;
extern struct vmm_caps vmm_caps;

#define VMM_MAX_GUESTS CFG_MAX_GUESTS
extern struct guest vmm_guests[VMM_MAX_GUESTS];
extern u32 vmm_nr_guests;
/* Free host vectors before the guests and once they have ended (vmm_run). */
extern unsigned vmm_vectors_free[2];
extern u32 vmm_nr_bad_config, vmm_nr_no_cpu, vmm_nr_failed, vmm_nr_refused;

/* A guest's life in vmm/vmm.c, also used by the test image's transient guests
 * (tests/hv/transient.c): built from its configuration and image, run on this CPU until it
 * ends, its statistics printed, torn down. */
struct boot_info;
int guest_create(const struct boot_info *bi, struct guest *g);
void vcpu_loop(struct vcpu *v);
void guest_stats(const struct guest *g);
void guest_destroy(struct guest *g);

/* A guest that runs an operating system (a kernel= line): it gets the virtual platform
 * (local APICs, timers, ACPI power-off), moat's own test guests do not need it. */
static inline bool guest_is_os(const struct guest *g)
{
	return g->cfg.kernel[0] != 0;
}

/* Exits of reason r, summed over the guest's vCPUs. */
static inline u64 guest_exits(const struct guest *g, enum vmm_exit_reason r)
{
	u64 n = 0;

	for (u32 i = 0; i < CFG_MAX_VCPUS; i++)
		n += g->vcpu[i].exits[r];
	return n;
}

/* Nested page faults on target t, summed over the guest's vCPUs. */
static inline u64 guest_npfs(const struct guest *g, enum npf_target t)
{
	u64 n = 0;

	for (u32 i = 0; i < CFG_MAX_VCPUS; i++)
		n += g->vcpu[i].npfs[t];
	return n;
}

const char *npf_target_name(enum npf_target t);

/* Makes vCPU v leave the guest soon (an IPI to its CPU) so that its run loop sees new
 * interrupts or events; nothing when called on v's own CPU. Any CPU. */
void vcpu_kick(struct vcpu *v);

/* Guest-physical to host-virtual: NULL unless [gpa, gpa+len) lies inside the guest's RAM
 * (the hypervisor identity-maps RAM, so the host-physical address is the pointer). */
static inline void *guest_ptr(struct guest *g, u64 gpa, u64 len)
{
	if (gpa >= g->ram_size || len > g->ram_size - gpa)
		return NULL;
	return (void *)(uintptr_t)(g->ram_hpa + gpa);
}

#endif
