/* The self-test runner of the test image: every SELFTEST in link order, one TAP line each. */
#define LOG_TAG "moat"
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/spinlock.h>
#include <moat/string.h>
#include "tests/hv/selftest.h"

extern const struct selftest __start_selftests[], __stop_selftests[];

#define MAX_SELFTESTS 512

static spinlock_t tap_lock = SPINLOCK_INIT;
static unsigned tap_number;

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

void selftest_run_all(void)
{
	static const struct selftest *order[MAX_SELFTESTS];
	size_t n = LINKER_ARRAY_COUNT(__start_selftests, __stop_selftests);

	if (n > MAX_SELFTESTS) {
		pr_err(-E2BIG, "%zu self-tests, room for %u: the rest do not run\n", n,
		       MAX_SELFTESTS);
		n = MAX_SELFTESTS;
	}
	/* Stable insertion sort by order: link order within one order value. */
	for (size_t i = 0; i < n; i++) {
		size_t k = i;

		for (; k > 0 && order[k - 1]->order > __start_selftests[i].order; k--)
			order[k] = order[k - 1];
		order[k] = &__start_selftests[i];
	}
	for (size_t i = 0; i < n; i++) {
		const struct selftest *t = order[i];
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
