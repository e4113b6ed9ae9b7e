/* Levelled logging onto the console (see include/moat/log.h). */
#include <moat/console.h>
#include <moat/log.h>
#include <moat/errno.h>
#include <moat/string.h>

int log_level = LOG_INFO;

#define LOG_LINE_MAX 512

static void emit(const char *tag, const char *fmt, va_list ap, const char *prefix)
{
	char buf[LOG_LINE_MAX];
	int n = snprintf(buf, sizeof(buf), "%s: %s", tag, prefix);

	if (n < 0 || n >= (int)sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	n = (int)strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && n < (int)sizeof(buf) - 1) {
		buf[n++] = '\n';
		buf[n] = 0;
	}
	console_write(buf, (size_t)n);
}

void log_printf(int level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	emit(tag, fmt, ap, "");
	va_end(ap);
}

int log_error(int err, const char *tag, const char *file, int line, const char *fmt, ...)
{
	char prefix[96];
	const char *base = file;
	va_list ap;

	for (const char *p = file; *p; p++)
		if (*p == '/')
			base = p + 1;
	snprintf(prefix, sizeof(prefix), "error: %s:%d: [%s] ", base, line, err_name(err));
	va_start(ap, fmt);
	emit(tag, fmt, ap, prefix);
	va_end(ap);
	return err;
}
