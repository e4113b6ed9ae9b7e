/* Console multiplexer: every line goes to every active output. */
#ifndef MOAT_CONSOLE_H
#define MOAT_CONSOLE_H

#include <moat/types.h>

struct console_out {
	const char *name;
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
};

#define CONSOLE_MAX_OUTPUTS 4

int console_add(const struct console_out *out);
/* Writes under the console lock (whole lines from different CPUs never interleave). */
void console_write(const char *s, size_t n);
/* For panic/exception paths: writes without taking the lock. */
void console_write_unlocked(const char *s, size_t n);

#endif
