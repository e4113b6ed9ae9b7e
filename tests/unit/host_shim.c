/* What hypervisor code needs from its surroundings when it runs inside a host unit test:
 * logging goes to stderr (and is counted, so tests can assert an error was reported). */
#include <stdarg.h>
#include <stdio.h>
#include <moat/log.h>
#include <moat/errno.h>
#include "host_shim.h"

int log_level = LOG_DEBUG;
int shim_errors_logged;
int shim_warnings_logged;
char shim_last_log[512];
char shim_first_error[512];

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
	if (getenv("UNIT_VERBOSE"))
		fputs(shim_last_log, stderr);
	return err;
}
