/* A Linux guest's start (vmm/linux_guest.c). */
#ifndef VMM_LINUX_GUEST_H
#define VMM_LINUX_GUEST_H

#include <moat/boot_info.h>
#include "vmm/vmm.h"

/* The kernel and initrd the guest's configuration names exist and the kernel is a bzImage
 * moat can start; otherwise the reason is logged. */
int linux_guest_check(struct guest *g, const struct boot_info *bi, u64 *size);
/* Copies kernel, initrd, command line, zero page and boot GDT into the guest's RAM (set up
 * already) and fills the entry state; refuses a guest too small for them, saying why. */
int linux_guest_load(struct guest *g, const struct boot_info *bi, struct vcpu_boot_state *bs);

#endif
