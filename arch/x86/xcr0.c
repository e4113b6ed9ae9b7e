/* XCR0 on the CPUs that run guests (arch/x86/xcr0.h). */
#include <moat/x86_regs.h>
#include "arch/x86/cpu.h"
#include "arch/x86/xcr0.h"

static bool xsave_enabled(void)
{
	return read_cr4() & CR4_OSXSAVE;
}

void xcr0_cpu_init(void)
{
	if ((cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_XSAVE) && !xsave_enabled())
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

u64 xcr0_supported(void)
{
	struct cpuid_regs r;

	if (!xsave_enabled())
		return 0;
	r = cpuid(CPUID_LEAF_XSAVE, 0);
	return ((u64)r.edx << 32) | r.eax;
}

void xcr0_write(u64 val)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

void xcr0_reset(void)
{
	if (xsave_enabled())
		xcr0_write(XCR0_X87);
}
