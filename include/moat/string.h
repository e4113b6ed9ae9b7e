#ifndef MOAT_STRING_H
#define MOAT_STRING_H

#include <moat/types.h>
#include <stdarg.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
size_t strlcpy(char *d, const char *s, size_t size);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* Formats why a check refused its input into `why` and returns `err` (a negative errno). */
int refuse(int err, char *why, size_t size, const char *fmt, ...) __printf(4, 5);

/* Parses an unsigned number (decimal, 0x hex) at *s; advances *s. Returns -EINVAL if none,
 * -ERANGE on overflow. Suffixes K, M, G multiply when allow_suffix is set. */
int parse_u64(const char **s, u64 *out, bool allow_suffix);

#endif
