#ifndef TESTS_HOST_SHIM_H
#define TESTS_HOST_SHIM_H

#include <stdlib.h>

/* Counters of what the code under test logged (see host_shim.c). */
extern int shim_errors_logged;
extern int shim_warnings_logged;
extern char shim_last_log[512];
/* The first error logged since shim_errors_logged was last set to 0. */
extern char shim_first_error[512];
/* Whether a line logged since shim_log_clear() contains needle. */
#include <stdbool.h>
bool shim_log_seen(const char *needle);
void shim_log_clear(void);
/* Pages handed out by host_pages.c and not yet freed. */
extern int host_live_pages;

#endif
