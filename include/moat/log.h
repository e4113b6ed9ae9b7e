/* Logging. Every hypervisor line starts with its subsystem tag ("pci: ", "vtd: ", ...),
 * as the serial output contract requires. A file sets LOG_TAG before including this.
 *
 *   pr_info("found %d units\n", n);        -> "vtd: found 2 units"
 *   pr_err(-EINVAL, "bad DRHD length %u\n", l) -> "vtd: error: dmar.c:88: bad DRHD length 3
 * (-EINVAL)"
 *
 * pr_err returns the error so a caller can write  return pr_err(-EINVAL, ...);
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <moat/types.h>

#ifndef LOG_TAG
#define LOG_TAG "moat"
#endif

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level;

void log_printf(int level, const char *tag, const char *fmt, ...) __printf(3, 4);
int log_error(int err, const char *tag, const char *file, int line, const char *fmt, ...)
	__printf(5, 6);

#define pr_debug(fmt, ...) log_printf(LOG_DEBUG, LOG_TAG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_printf(LOG_INFO, LOG_TAG, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_printf(LOG_WARN, LOG_TAG, "warning: " fmt, ##__VA_ARGS__)
#define pr_err(err, fmt, ...) log_error(err, LOG_TAG, __FILE__, __LINE__, fmt, ##__VA_ARGS__)

#endif
