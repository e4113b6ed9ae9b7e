/* Hypervisor self-tests, reported as TAP lines on the console:
 *   ok 3 - boot: cpus-online
 *   not ok 4 - boot: memory-map
 *   # boot.c:120: check failed: usable_mib >= expect (usable 12 MiB, expected 1024)
 *   ok 5 - vtd: compat-msi-blocked # SKIP QEMU does not model CFI
 *
 * SELFTEST(fn, "suite", "test-id") registers fn; all run after the guests in link order
 * (the order argument of SELFTEST_ORDER sorts across files: lower first, default 50). The
 * table is the section `selftests`, bounded by the linker's __start_/__stop_ symbols: it
 * exists only in the test image. */
#ifndef MOAT_SELFTEST_H
#define MOAT_SELFTEST_H

#include <moat/tap.h>
#include <moat/types.h>

struct st_ctx {
	bool failed;
	bool skipped;
	char diag[256];
};

struct selftest {
	const char *suite;
	const char *id;
	void (*fn)(struct st_ctx *ctx);
	unsigned long order;
};

#define __SELFTEST(fn, suite, id, order)                                                           \
	static void fn(struct st_ctx *ctx);                                                        \
	static const struct selftest __st_##fn __used __section("selftests")                       \
		__aligned(8) = {suite, id, fn, order};                                             \
	static void fn(struct st_ctx *ctx __unused)
#define SELFTEST_ORDER(fn, suite, id, order) __SELFTEST(fn, suite, id, order)
#define SELFTEST(fn, suite, id) __SELFTEST(fn, suite, id, 50)

void st_fail(struct st_ctx *ctx, const char *file, int line, const char *fmt, ...) __printf(4, 5);
void st_skip(struct st_ctx *ctx, const char *fmt, ...) __printf(2, 3);

/* Records a failure (the first one's location and message are reported) and goes on. */
#define CHECK(ctx, cond, fmt, ...)                                                                 \
	do {                                                                                       \
		if (!(cond))                                                                       \
			st_fail(ctx, __FILE__, __LINE__, "check failed: %s: " fmt, #cond,          \
				##__VA_ARGS__);                                                    \
	} while (0)

/* TAP reporting, for tests that run outside the SELFTEST table. */
void tap_report(const char *suite, const char *id, enum tap_status st, const char *diag);

void selftest_run_all(void);

#endif
