/* x86-64 paging-structure entries (SDM Vol. 3A 4.5): the hypervisor's own tables and, with
 * the user bit on every level, AMD nested page tables. */
#ifndef ARCH_X86_PT_X86_H
#define ARCH_X86_PT_X86_H

#include <moat/pgtable.h>

/* Paging-structure entry */
#define X86_PTE_P BIT(0)
#define X86_PTE_RW BIT(1)
#define X86_PTE_US BIT(2)
#define X86_PTE_PWT BIT(3)
#define X86_PTE_PCD BIT(4)
#define X86_PTE_A BIT(5)
#define X86_PTE_D BIT(6)
#define X86_PTE_PS BIT(7)     /* level 1/2: large page */
#define X86_PTE_PAT_4K BIT(7) /* level 0 */
#define X86_PTE_G BIT(8)
#define X86_PTE_PAT_LARGE BIT(12)
#define X86_PTE_RSVD_2M GENMASK(20, 13) /* a 2 MiB leaf, between PAT and the address */
#define X86_PTE_RSVD_1G GENMASK(29, 13) /* a 1 GiB leaf */
#define X86_PTE_ADDR_4K GENMASK(51, 12)
#define X86_PTE_ADDR_2M GENMASK(51, 21)
#define X86_PTE_ADDR_1G GENMASK(51, 30)
#define X86_PTE_NX BIT(63)

extern const struct pt_format pt_format_x86; /* hypervisor tables, a guest's own tables */
extern const struct pt_format pt_format_npt; /* AMD NPT: U=1 everywhere */

#endif
