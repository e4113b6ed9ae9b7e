/* Guests and vCPUs as the core and the backends see them. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <moat/pgtable.h>
#include <moat/spinlock.h>
#include <moat/types.h>
#include "vmm/backend.h"
#include "vmm/config.h"

enum guest_state {
	GUEST_CREATED,
	GUEST_RUNNING,
	GUEST_DONE,    /* shut down through the hypercall */
	GUEST_STOPPED, /* stopped by the hypervisor (fault, watchdog, unhandled exit) */
};

#define GUEST_CONSOLE_LINE 160

struct vcpu {
	struct guest *guest;
	u32 cpu;    /* physical CPU index (cpu_data[]) */
	void *arch; /* backend control block */
};

struct guest {
	u32 id; /* 1.. : also the ASID / VPID tag */
	struct guest_config cfg;
	u64 ram_hpa; /* host-physical base of the guest's RAM (GPA 0), 2 MiB aligned */
	u64 ram_size;
	struct pgtable npt; /* nested tables GPA -> HPA */
	struct vcpu vcpu;
	enum guest_state state;
	char stop_reason[128];
	u64 stop_gpa; /* for a nested page fault stop */
	enum vmm_exit_reason stop_exit;
	bool expect_stop; /* the guest announced an access that must stop it */
	u64 expect_stop_gpa;
	u64 expect_stop_stamp; /* GPA of the guest's TSC stamp before that access, or 0 */
	/* statistics */
	u64 exits[VMM_EXIT_NR];
	u64 io_denied;
	u64 msr_denied;
	u64 hypercalls;
	u64 results[3]; /* guest-reported pass/fail/skip */
	/* virtual COM1 */
	char con[GUEST_CONSOLE_LINE];
	u32 con_len;
	u8 com_lcr, com_ier, com_scr, com_mcr;
	u16 com_dll;
	/* virtual PCI config address register (CF8) */
	u32 pci_addr;
	u64 watchdog_us;
	u64 run_us; /* from first entry to the end */
};

extern const struct vmm_backend *vmm_be;
extern struct vmm_caps vmm_caps;

#define VMM_MAX_GUESTS CFG_MAX_GUESTS
extern struct guest vmm_guests[VMM_MAX_GUESTS];
extern u32 vmm_nr_guests;
extern u32 vmm_nr_bad_config, vmm_nr_no_cpu, vmm_nr_failed;

int vmm_run_transient(const char *name, const char *image, u64 watchdog_us,
		      void (*tweak)(struct vcpu *v), struct guest *out);

/* Guest-physical to host-virtual: NULL unless [gpa, gpa+len) lies inside the guest's RAM
 * (the hypervisor identity-maps RAM, so the host-physical address is the pointer). */
static inline void *guest_ptr(struct guest *g, u64 gpa, u64 len)
{
	if (gpa >= g->ram_size || len > g->ram_size - gpa)
		return NULL;
	return (void *)(uintptr_t)(g->ram_hpa + gpa);
}

#endif
