/* What hypervisor code needs from its surroundings when it runs inside a host unit test:
 * logging goes to stderr (and is counted, so tests can assert an error was reported). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <moat/log.h>
#include <moat/errno.h>
#include "host_shim.h"

int log_level = LOG_DEBUG;
int shim_errors_logged;
int shim_warnings_logged;
char shim_last_log[512];
char shim_first_error[512];

/* Every line logged since shim_log_clear(), for tests that look for one among many. */
static char history[1 << 16];
static size_t history_len;

static void remember(const char *line)
{
	size_t n = strlen(line);

	if (history_len + n + 1 >= sizeof(history))
		history_len = 0;
	memcpy(history + history_len, line, n + 1);
	history_len += n;
}

void shim_log_clear(void)
{
	history_len = 0;
	history[0] = 0;
}

bool shim_log_seen(const char *needle)
{
	return strstr(history, needle) != NULL;
}

void log_printf(int level, const char *tag, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (level == LOG_WARN)
		shim_warnings_logged++;
	n = snprintf(shim_last_log, sizeof(shim_last_log), "%s: ", tag);
	va_start(ap, fmt);
	vsnprintf(shim_last_log + n, sizeof(shim_last_log) - (size_t)n, fmt, ap);
	va_end(ap);
	remember(shim_last_log);
	if (getenv("UNIT_VERBOSE"))
		fputs(shim_last_log, stderr);
}

int log_error(int err, const char *tag, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	shim_errors_logged++;
	n = snprintf(shim_last_log, sizeof(shim_last_log), "%s: error: %s:%d: [%d] ", tag, file,
		     line, err);
	va_start(ap, fmt);
	vsnprintf(shim_last_log + n, sizeof(shim_last_log) - (size_t)n, fmt, ap);
	va_end(ap);
	if (shim_errors_logged == 1)
		snprintf(shim_first_error, sizeof(shim_first_error), "%s", shim_last_log);
	remember(shim_last_log);
	if (getenv("UNIT_VERBOSE"))
		fputs(shim_last_log, stderr);
	return err;
}
