/* Configuration mechanism #1 (ports 0xCF8/0xCFC): segment 0, the first 256 bytes only.
 * The address port is shared by every CPU: selecting a register and reaching it through
 * the data port is one critical section (moat's own accesses and every guest's virtual
 * configuration space end up here on machines without ECAM), with interrupts off so that
 * a handler on the same CPU cannot come between the two ports. */
#include <moat/spinlock.h>
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "pci/internal.h"

#define CF8_ADDRESS 0xcf8
#define CF8_DATA 0xcfc
#define CF8_ENABLE BIT(31)
#define CF8_RID GENMASK(23, 8)
#define CF8_REG GENMASK(7, 2)
#define CF8_CFG_SIZE 256

static spinlock_t cf8_lock = SPINLOCK_INIT;

static void cf8_select(u16 rid, u16 off)
{
	outl(CF8_ADDRESS,
	     (u32)(CF8_ENABLE | FIELD_PREP(CF8_RID, rid) | FIELD_PREP(CF8_REG, off >> 2)));
}

static u32 cf8_read(void *ctx, u16 seg, u16 rid, u16 off, unsigned width)
{
	u16 port = CF8_DATA + (off & 3);
	u64 flags = irq_save();
	u32 v;

	spin_lock(&cf8_lock);
	cf8_select(rid, off);
	if (width == 1)
		v = inb(port);
	else if (width == 2)
		v = inw(port);
	else
		v = inl(port);
	spin_unlock(&cf8_lock);
	irq_restore(flags);
	return v;
}

static void cf8_write(void *ctx, u16 seg, u16 rid, u16 off, unsigned width, u32 val)
{
	u16 port = CF8_DATA + (off & 3);
	u64 flags = irq_save();

	spin_lock(&cf8_lock);
	cf8_select(rid, off);
	if (width == 1)
		outb(port, (u8)val);
	else if (width == 2)
		outw(port, (u16)val);
	else
		outl(port, val);
	spin_unlock(&cf8_lock);
	irq_restore(flags);
}

static u16 cf8_space_size(void *ctx, u16 seg, u8 bus)
{
	return seg == 0 ? CF8_CFG_SIZE : 0;
}

const struct pci_cfg_ops pci_cf8_ops = {
	.name = "CF8/CFC",
	.read = cf8_read,
	.write = cf8_write,
	.space_size = cf8_space_size,
};
