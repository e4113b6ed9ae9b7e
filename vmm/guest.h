/* Guest memory and images (vmm/guest.c). */
#ifndef VMM_GUEST_H
#define VMM_GUEST_H

#include "vmm/vmm.h"

/* Hypervisor-owned memory right after each guest's RAM (canaries). */
#define GUEST_GUARD_SIZE (2 * MiB)

int guest_memory_init(struct guest *g, const struct vmm_caps *caps);
void guest_memory_free(struct guest *g);
void guest_memory_report(const struct guest *g);
int guest_load_image(struct guest *g, const void *image, u64 size, u64 *entry);
int guest_canaries_check(const struct guest *g, char *why, size_t size);

#endif
