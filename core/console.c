/* Console multiplexer. */
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/spinlock.h>

static struct console_out outputs[CONSOLE_MAX_OUTPUTS];
static unsigned nr_outputs;
static spinlock_t console_lock = SPINLOCK_INIT;

int console_add(const struct console_out *out)
{
	if (nr_outputs >= CONSOLE_MAX_OUTPUTS)
		return -ENOSPC;
	outputs[nr_outputs++] = *out;
	return 0;
}

void console_write_unlocked(const char *s, size_t n)
{
	for (unsigned i = 0; i < nr_outputs; i++)
		outputs[i].write(outputs[i].ctx, s, n);
}

void console_write(const char *s, size_t n)
{
	spin_lock(&console_lock);
	console_write_unlocked(s, n);
	spin_unlock(&console_lock);
}
