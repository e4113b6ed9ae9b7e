/* Host-test stand-in for arch/x86/io.h (found first through -iquote tests/unit/cf8_io in
 * cf8.cflags): port I/O goes to the CF8/CFC model of test_cf8.c. */
#ifndef ARCH_X86_IO_H
#define ARCH_X86_IO_H

#include <moat/types.h>

u32 cf8_model_in(u16 port, unsigned width);
void cf8_model_out(u16 port, unsigned width, u32 v);

static inline void outb(u16 port, u8 v)
{
	cf8_model_out(port, 1, v);
}
static inline void outw(u16 port, u16 v)
{
	cf8_model_out(port, 2, v);
}
static inline void outl(u16 port, u32 v)
{
	cf8_model_out(port, 4, v);
}
static inline u8 inb(u16 port)
{
	return (u8)cf8_model_in(port, 1);
}
static inline u16 inw(u16 port)
{
	return (u16)cf8_model_in(port, 2);
}
static inline u32 inl(u16 port)
{
	return cf8_model_in(port, 4);
}

#endif
