/* Self-test runner and TAP counters. */
#define LOG_TAG "moat"
#include <moat/console.h>
#include <moat/log.h>
#include <moat/selftest.h>
#include <moat/spinlock.h>
#include <moat/string.h>

extern const struct selftest __selftests_start[], __selftests_end[];

static spinlock_t tap_lock = SPINLOCK_INIT;
static unsigned tap_number, nr_pass, nr_fail, nr_skip;

void st_fail(struct st_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	const char *base = file;
	va_list ap;
	int n;

	if (ctx->failed)
		return;
	for (const char *p = file; *p; p++)
		if (*p == '/')
			base = p + 1;
	ctx->failed = true;
	n = snprintf(ctx->diag, sizeof(ctx->diag), "%s:%d: ", base, line);
	va_start(ap, fmt);
	vsnprintf(ctx->diag + n, sizeof(ctx->diag) - (size_t)n, fmt, ap);
	va_end(ap);
}

void st_skip(struct st_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	ctx->skipped = true;
	va_start(ap, fmt);
	vsnprintf(ctx->diag, sizeof(ctx->diag), fmt, ap);
	va_end(ap);
}

void tap_count(enum tap_status st)
{
	spin_lock(&tap_lock);
	if (st == TAP_PASS)
		nr_pass++;
	else if (st == TAP_FAIL)
		nr_fail++;
	else
		nr_skip++;
	spin_unlock(&tap_lock);
}

void tap_report(const char *suite, const char *id, enum tap_status st, const char *diag)
{
	char line[400];
	unsigned n;

	spin_lock(&tap_lock);
	n = ++tap_number;
	spin_unlock(&tap_lock);
	tap_count(st);
	if (st == TAP_SKIP)
		snprintf(line, sizeof(line), "ok %u - %s: %s # SKIP %s\n", n, suite, id,
			 diag && *diag ? diag : "no reason given");
	else if (st == TAP_FAIL && diag && *diag)
		snprintf(line, sizeof(line), "not ok %u - %s: %s\n# %s\n", n, suite, id, diag);
	else
		snprintf(line, sizeof(line), "%sok %u - %s: %s\n", st == TAP_FAIL ? "not " : "", n,
			 suite, id);
	console_write(line, strlen(line));
}

void tap_totals(unsigned *passed, unsigned *failed, unsigned *skipped)
{
	spin_lock(&tap_lock);
	*passed = nr_pass;
	*failed = nr_fail;
	*skipped = nr_skip;
	spin_unlock(&tap_lock);
}

void selftest_run_all(void)
{
	size_t n = LINKER_ARRAY_COUNT(__selftests_start, __selftests_end);

	for (size_t i = 0; i < n; i++) {
		const struct selftest *t = &__selftests_start[i];
		struct st_ctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		t->fn(&ctx);
		tap_report(t->suite, t->id,
			   ctx.failed	 ? TAP_FAIL
			   : ctx.skipped ? TAP_SKIP
					 : TAP_PASS,
			   ctx.diag);
	}
}
