/* Host-test stand-in for arch/x86/io.h (found first through -iquote tests/unit/igb_io in
 * igb.cflags): the PF driver's register accesses go to the register model of test_igb.c,
 * which gives the mailbox's ownership bits their hardware behaviour. */
#ifndef ARCH_X86_IO_H
#define ARCH_X86_IO_H

#include <moat/types.h>

u32 igb_model_read32(u64 a);
void igb_model_write32(u64 a, u32 v);

static inline u32 mmio_read32(u64 a)
{
	return igb_model_read32(a);
}
static inline void mmio_write32(u64 a, u32 v)
{
	igb_model_write32(a, v);
}

#endif
