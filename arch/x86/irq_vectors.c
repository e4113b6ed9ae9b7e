/* Interrupt vectors 32..255: the handler of each, and the allocator of [0x30, 0xef] (its
 * declarations are in arch/x86/trap.h). A vector is one number for every CPU: handed out
 * here, it must be free on all of them. */
#define LOG_TAG "trap"
#include <moat/errno.h>
#include <moat/spinlock.h>
#include "arch/x86/trap.h"

static struct {
	irq_handler_t fn;
	void *ctx;
} irq_table[256];
static spinlock_t irq_table_lock = SPINLOCK_INIT;

int irq_register(unsigned vector, irq_handler_t fn, void *ctx)
{
	int ret = 0;

	if (vector < VEC_FIRST_IRQ || vector >= ARRAY_SIZE(irq_table))
		return -EINVAL;
	spin_lock(&irq_table_lock);
	if (irq_table[vector].fn) {
		ret = -EBUSY;
	} else {
		irq_table[vector].ctx = ctx;
		irq_table[vector].fn = fn;
	}
	spin_unlock(&irq_table_lock);
	return ret;
}

int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	for (unsigned v = IRQ_POOL_FIRST; v <= IRQ_POOL_LAST; v++)
		if (irq_register(v, fn, ctx) == 0)
			return (int)v;
	return -ENOSPC;
}

int irq_set_handler(u8 vector, irq_handler_t fn, void *ctx)
{
	int ret = 0;

	spin_lock(&irq_table_lock);
	if (!irq_table[vector].fn) {
		ret = -ENOENT;
	} else {
		irq_table[vector].ctx = ctx;
		irq_table[vector].fn = fn;
	}
	spin_unlock(&irq_table_lock);
	return ret;
}

void irq_free_vector(u8 vector)
{
	spin_lock(&irq_table_lock);
	irq_table[vector].fn = NULL;
	irq_table[vector].ctx = NULL;
	spin_unlock(&irq_table_lock);
}

unsigned irq_vectors_free(void)
{
	unsigned n = 0;

	for (unsigned v = IRQ_POOL_FIRST; v <= IRQ_POOL_LAST; v++)
		n += !__atomic_load_n(&irq_table[v].fn, __ATOMIC_RELAXED);
	return n;
}

bool irq_call(struct trap_frame *f)
{
	irq_handler_t fn = irq_table[f->vector & 0xff].fn;

	if (!fn)
		return false;
	fn(f, irq_table[f->vector & 0xff].ctx);
	return true;
}
