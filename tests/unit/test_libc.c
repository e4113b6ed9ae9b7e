/* moat's freestanding printf and string helpers, against the host C library's behaviour.
 * The moat versions are renamed (tests/unit/libc.cflags) so both can be called here. */
#include <moat/string.h> /* declares the moat_* names through the renaming macros */
#undef memset
#undef memcpy
#undef memmove
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strstr
#undef strlcpy
#undef vsnprintf
#undef snprintf
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <moat/errno.h>

#define CMP(...)                                                                                   \
	do {                                                                                       \
		char a[128], b[128];                                                               \
		int na = moat_snprintf(a, sizeof(a), __VA_ARGS__);                                 \
		int nb = snprintf(b, sizeof(b), __VA_ARGS__);                                      \
		assert_string_equal(a, b);                                                         \
		assert_int_equal(na, nb);                                                          \
	} while (0)

static void test_printf_matches_libc(void **state)
{
	CMP("%d %i %u", -42, 17, 4000000000u);
	CMP("%x %X %o", 0xdeadbeefu, 0xabcu, 8u);
	CMP("%#x %#llx %#06x %#x", 0x1fu, 0xfed90000ULL, 0x2au, 0u);
	CMP("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	CMP("%lld %llu %llx", -9223372036854775807LL - 1, 18446744073709551615ULL, ~0ULL);
	CMP("%zu %ld %lu", (size_t)12345, -7L, 7UL);
	CMP("%hhx %hx", 0x1ff, 0x1ffff);
	CMP("%s|%10s|%-10s|%.3s", "abc", "right", "left", "truncate");
	CMP("%c%c%%", 'o', 'k');
	CMP("%.5d %8.3x", 42, 0xab);
	CMP("%*d|%-*d|%.*s", 6, 1, 6, 2, 2, "xyz");
	CMP("%016llx", 0x200000ULL);
	CMP("%04x:%02x:%02x.%x", 0u, 1u, 0x10u, 2u);
	(void)state;
}

static void test_printf_truncation(void **state)
{
	char buf[8];

	assert_int_equal(moat_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(moat_snprintf(NULL, 0, "%d", 12345), 5);
	assert_int_equal(moat_snprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	(void)state;
}

static void test_string_helpers(void **state)
{
	char d[16];

	assert_int_equal(moat_strlcpy(d, "hello world, long", 6), 17);
	assert_string_equal(d, "hello");
	assert_int_equal(moat_strcmp("abc", "abd") < 0, 1);
	assert_int_equal(moat_strncmp("abcx", "abcy", 3), 0);
	assert_string_equal(moat_strchr("a=b", 0x3d), "=b");
	assert_null(moat_strchr("abc", 0x7a));
	strcpy(d, "abcdef");
	moat_memmove(d + 1, d, 5);
	assert_string_equal(d, "aabcde");
	strcpy(d, "abcdef");
	moat_memmove(d, d + 1, 5);
	assert_memory_equal(d, "bcdeff", 6);
	assert_int_equal(moat_strnlen("abc", 2), 2);
	assert_string_equal(moat_strstr("group 3 (reason)", "3 ("), "3 (reason)");
	assert_null(moat_strstr("abc", "abd"));
	assert_string_equal(moat_strstr("abc", ""), "abc");
	assert_null(moat_strstr("", "a"));
	(void)state;
}

static void test_parse_u64(void **state)
{
	const char *s;
	u64 v;

	s = "0x1f,rest";
	assert_int_equal(parse_u64(&s, &v, false), 0);
	assert_int_equal(v, 0x1f);
	assert_string_equal(s, ",rest");
	s = "512M";
	assert_int_equal(parse_u64(&s, &v, true), 0);
	assert_int_equal(v, 512ULL << 20);
	s = "2G";
	assert_int_equal(parse_u64(&s, &v, false), 0);
	assert_int_equal(v, 2);
	s = "x12";
	assert_int_equal(parse_u64(&s, &v, false), -EINVAL);
	s = "18446744073709551616";
	assert_int_equal(parse_u64(&s, &v, false), -ERANGE);
	s = "17179869184G";
	assert_int_equal(parse_u64(&s, &v, true), -ERANGE);
	s = "0x";
	assert_int_equal(parse_u64(&s, &v, false), 0); /* "0" then "x" left */
	assert_int_equal(v, 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printf_matches_libc),
		cmocka_unit_test(test_printf_truncation),
		cmocka_unit_test(test_string_helpers),
		cmocka_unit_test(test_parse_u64),
	};
	return cmocka_run_group_tests_name("libc", tests, NULL, NULL);
}
