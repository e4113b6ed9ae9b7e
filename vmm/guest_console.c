/* A guest's console line: what it writes to its UART (vmm/vuart.c) or through the PUTS
 * hypercall, relayed to moat's console line by line as "[<guest>] ...", sanitized. */
#define LOG_TAG "vmm"
#include <moat/console.h>
#include <moat/spinlock.h>
#include <moat/string.h>
#include "vmm/exits.h"

/* Results reach the summary only through the REPORT hypercall, which prints the guest's
 * TAP line itself: a console line that looks like one is marked so that no parser counts
 * it as a result. */
static bool looks_like_tap(const char *s, u32 len)
{
	u32 skip = len >= 4 && !strncmp(s, "not ", 4) ? 4 : 0;

	return len - skip >= 3 && !strncmp(s + skip, "ok ", 3);
}

static void flush_locked(struct guest *g)
{
	char line[GUEST_CONSOLE_LINE + CFG_NAME_MAX + 32];
	int n;

	if (!g->con_len)
		return;
	n = snprintf(line, sizeof(line), "[%s] %s%.*s\n", g->cfg.name,
		     looks_like_tap(g->con, g->con_len) ? "# console, not a result: " : "",
		     (int)g->con_len, g->con);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	g->con_len = 0;
}

/* The line is shared by the guest's vCPUs (its UART, the console hypercall, the guest's
 * end on any of them): under its own lock, so that no race takes con_len past the line. */
void vmm_console_flush(struct guest *g)
{
	spin_lock(&g->con_lock);
	flush_locked(g);
	spin_unlock(&g->con_lock);
}

void vmm_console_putc(struct guest *g, char c)
{
	if (c == '\r')
		return;
	/* Control characters would let a guest forge or garble the hypervisor's lines. */
	if (c != '\n' && ((u8)c < 0x20 || (u8)c >= 0x7f))
		c = '?';
	spin_lock(&g->con_lock);
	if (c != '\n')
		g->con[g->con_len++] = c;
	if (c == '\n' || g->con_len >= GUEST_CONSOLE_LINE - 1)
		flush_locked(g);
	spin_unlock(&g->con_lock);
}
