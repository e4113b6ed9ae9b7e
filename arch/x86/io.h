/* Port I/O and MMIO accessors. MMIO accessors are exactly the width they name: VT-d and
 * other devices fault (or QEMU crashes) on a wrong-width access. */
#ifndef ARCH_X86_IO_H
#define ARCH_X86_IO_H

#include <moat/types.h>

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u8 mmio_read8(u64 a)
{
	return *(volatile u8 *)(uintptr_t)a;
}
static inline u16 mmio_read16(u64 a)
{
	return *(volatile u16 *)(uintptr_t)a;
}
static inline u32 mmio_read32(u64 a)
{
	return *(volatile u32 *)(uintptr_t)a;
}
static inline u64 mmio_read64(u64 a)
{
	return *(volatile u64 *)(uintptr_t)a;
}
static inline void mmio_write8(u64 a, u8 v)
{
	*(volatile u8 *)(uintptr_t)a = v;
}
static inline void mmio_write16(u64 a, u16 v)
{
	*(volatile u16 *)(uintptr_t)a = v;
}
static inline void mmio_write32(u64 a, u32 v)
{
	*(volatile u32 *)(uintptr_t)a = v;
}
static inline void mmio_write64(u64 a, u64 v)
{
	*(volatile u64 *)(uintptr_t)a = v;
}

#endif
