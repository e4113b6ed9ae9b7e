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

/* The handler of a vector that must be free (-EBUSY if not) or, `taken`, already have one
 * (-ENOENT if not). */
static int table_set(unsigned vector, irq_handler_t fn, void *ctx, bool taken)
{
	int ret = 0;

	spin_lock(&irq_table_lock);
	if (!irq_table[vector].fn == taken) {
		ret = taken ? -ENOENT : -EBUSY;
	} else {
		irq_table[vector].ctx = ctx;
		irq_table[vector].fn = fn;
	}
	spin_unlock(&irq_table_lock);
	return ret;
}

int irq_register(unsigned vector, irq_handler_t fn, void *ctx)
{
	if (vector < VEC_FIRST_IRQ || vector >= ARRAY_SIZE(irq_table))
		return -EINVAL;
	return table_set(vector, fn, ctx, false);
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
	return table_set(vector, fn, ctx, true);
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
