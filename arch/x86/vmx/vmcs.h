/* VMX instructions. Each reports VMfailInvalid / VMfailValid (CF or ZF set) as false. */
#ifndef ARCH_X86_VMX_VMCS_H
#define ARCH_X86_VMX_VMCS_H

#include <moat/types.h>
#include "arch/x86/vmx/vmx_regs.h"

static inline bool vmx_on(u64 pa)
{
	bool fail;

	__asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_ptrld(u64 pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_clear(u64 pa)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmcs_write(enum vmcs_field f, u64 v)
{
	bool fail;

	__asm__ volatile("vmwrite %2, %1; setna %0"
			 : "=qm"(fail)
			 : "r"((u64)f), "rm"(v)
			 : "cc", "memory");
	return !fail;
}

static inline bool vmcs_read_checked(enum vmcs_field f, u64 *v)
{
	bool fail;

	__asm__ volatile("vmread %2, %1; setna %0"
			 : "=qm"(fail), "=rm"(*v)
			 : "r"((u64)f)
			 : "cc", "memory");
	return !fail;
}

/* For fields that exist on every VMX CPU: a failure reads as 0 (VMfailInvalid sets CF,
 * VMfailValid ZF; VMsucceed clears both, 31.2). */
static inline u64 vmcs_read(enum vmcs_field f)
{
	u64 v;

	__asm__ volatile("vmread %2, %0; cmovbe %1, %0"
			 : "=&r"(v)
			 : "r"(0ull), "r"((u64)f)
			 : "cc", "memory");
	return v;
}

struct vmx_inv_desc {
	u64 lo, hi;
};

static inline bool vmx_invept(u64 type, u64 eptp)
{
	struct vmx_inv_desc d = {eptp, 0};
	bool fail;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return !fail;
}

static inline bool vmx_invvpid(u64 type, u16 vpid, u64 gla)
{
	struct vmx_inv_desc d = {vpid, gla};
	bool fail;

	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return !fail;
}

#endif
