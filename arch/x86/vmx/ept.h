/* EPT paging-structure entries (SDM Vol. 3C 29.3.2) as a format of the shared page-table
 * engine, and the EPT pointer. */
#ifndef ARCH_X86_VMX_EPT_H
#define ARCH_X86_VMX_EPT_H

#include <moat/pgtable.h>

/* EPT entry */
#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_RWX GENMASK(2, 0)
#define EPT_MT GENMASK(5, 3)  /* leaf only */
#define EPT_IGNORE_PAT BIT(6) /* leaf only */
#define EPT_LARGE BIT(7)      /* level 1/2: 2 MiB / 1 GiB page */
#define EPT_A BIT(8)
#define EPT_D BIT(9)
#define EPT_ADDR_4K GENMASK(51, 12)
#define EPT_ADDR_2M GENMASK(51, 21)
#define EPT_ADDR_1G GENMASK(51, 30)
#define EPT_SUPPRESS_VE BIT(63)

/* EPT memory types (29.3.7, the MTRR encodings) */
#define EPT_MT_UC 0
#define EPT_MT_WC 1
#define EPT_MT_WT 4
#define EPT_MT_WP 5
#define EPT_MT_WB 6

extern const struct pt_format pt_format_ept;

/* Largest leaf level the EPT capability MSR allows (0: 4K, 1: 2M, 2: 1G). */
unsigned ept_max_leaf(u64 ept_vpid_cap);
/* Checks the capability MSR offers what moat's EPT needs: 4-level walk and WB tables. */
int ept_check_caps(u64 ept_vpid_cap);
/* EPT pointer for a 4-level table at root_pa, walked with write-back accesses. */
u64 ept_pointer(u64 root_pa);

#endif
