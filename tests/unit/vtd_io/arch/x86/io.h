/* Host-test stand-in for arch/x86/io.h (found first through -iquote tests/unit/vtd_io in
 * vtd_units.cflags): the VT-d driver's MMIO goes to the register model (vtd_model.c).
 * Port I/O has no model here: code that uses it does not link into these tests. */
#ifndef ARCH_X86_IO_H
#define ARCH_X86_IO_H

#include <moat/types.h>

u32 vm_read32(u64 a);
u64 vm_read64(u64 a);
void vm_write32(u64 a, u32 v);
void vm_write64(u64 a, u64 v);

static inline u32 mmio_read32(u64 a)
{
	return vm_read32(a);
}
static inline u64 mmio_read64(u64 a)
{
	return vm_read64(a);
}
static inline void mmio_write32(u64 a, u32 v)
{
	vm_write32(a, v);
}
static inline void mmio_write64(u64 a, u64 v)
{
	vm_write64(a, v);
}

#endif
