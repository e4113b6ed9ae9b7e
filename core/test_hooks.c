/* The product's test hooks: none (include/moat/test_hooks.h). Alone in its file: a user in
 * the same file could fold the NULL that the test image replaces. */
#include <moat/test_hooks.h>

const struct test_hooks *const test_hooks __weak = NULL;
