/* The product's test hooks: none (include/moat/test_hooks.h). */
#include <moat/test_hooks.h>

const struct test_hooks *const test_hooks __weak = NULL;
