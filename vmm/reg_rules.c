/* Architectural rules for guest writes to EFER and XCR0 (vmm/reg_rules.h). */
#include <moat/errno.h>
#include <moat/x86_regs.h>
#include "vmm/reg_rules.h"

#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

int vmm_efer_write(u64 cur, u64 cr0, u64 val, u64 *out)
{
	if (val & ~(u64)EFER_GUEST_WRITABLE)
		return -EINVAL;
	if ((cr0 & CR0_PG) && ((val ^ cur) & EFER_LME))
		return -EINVAL;
	*out = (val & ~(u64)EFER_LMA) | (cur & EFER_LMA);
	return 0;
}

static bool all_or_none(u64 val, u64 mask)
{
	return (val & mask) == 0 || (val & mask) == mask;
}

int vmm_xcr0_check(u32 index, u64 val, u64 supported)
{
	if (index != 0 || !(val & XCR0_X87) || (val & ~supported))
		return -EINVAL;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return -EINVAL;
	if (!all_or_none(val, XCR0_MPX) || !all_or_none(val, XCR0_AVX512) ||
	    !all_or_none(val, XCR0_TILE))
		return -EINVAL;
	if ((val & XCR0_AVX512) && !(val & XCR0_AVX))
		return -EINVAL;
	return 0;
}
