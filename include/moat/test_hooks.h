/* Where the test image (tests/hv) reaches into the hypervisor. The product image links
 * nothing of tests/hv: `test_hooks` stays NULL there, so every hook below is off, and no
 * command line or guest can turn one on. The test image links tests/hv/hooks.c, whose
 * definition of `test_hooks` replaces the product's empty (weak) one at link time. */
#ifndef MOAT_TEST_HOOKS_H
#define MOAT_TEST_HOOKS_H

#include <moat/types.h>

struct dmar_drhd;
struct guest;
struct vcpu;

struct test_hooks {
	/* core/main.c: make memory set-up fail (the run must then end as a failure). */
	bool (*memory_set_up_fails)(void);
	/* arch/x86/tsc.c: PIT calibration windows to stall past the counter's wrap. */
	unsigned (*tsc_stalled_windows)(void);
	/* iommu/vtd.c: before moat takes remapping unit `idx` over. */
	void (*vtd_before_takeover)(unsigned idx, const struct dmar_drhd *d);
	/* vmm/vmm.c: right before the guests start, and after every guest has ended. */
	void (*guests_start)(void);
	void (*guests_end)(void);
	/* vmm/hypercall.c: a hypercall number in the test range (HC_TEST_BASE..); returns
	 * the value for RAX. */
	s64 (*hypercall)(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2);
	/* vmm/exit.c: a nested page fault outside the guest's memory is about to stop it; `tsc`
	 * was read on entry to the handler. */
	void (*guest_npf)(struct guest *g, u64 gpa, u64 tsc);
	/* pci/driver.c: whether to leave a bound function's interrupt unrouted at the device, as
	 * if it never raised it (the PCI layer must fall back to CPU 0's timer). */
	bool (*pci_irq_withheld)(void);
	/* core/main.c: after the guests, before the summary line. */
	void (*after_guests)(void);
	/* vmm/port_io.c: a guest's access to a port no device of moat emulates; true if the
	 * test image took it (then it is not denied). */
	bool (*guest_port_io)(struct vcpu *v, u16 port, bool in, u8 size, u32 *val);
};

extern const struct test_hooks *const test_hooks;

/* Calls hook `name` with the arguments if the image has it. */
#define TEST_HOOK(name, ...)                                                                       \
	do {                                                                                       \
		if (test_hooks && test_hooks->name)                                                \
			test_hooks->name(__VA_ARGS__);                                             \
	} while (0)
#define TEST_HOOK_PRESENT(name) (test_hooks && test_hooks->name)

#endif
