/* vsnprintf for the hypervisor and guests: %d %i %u %x %X %o %p %s %c %%, flags "-0+ #",
 * width and precision (also "*"), length modifiers hh h l ll z j t. */
#include <moat/string.h>

struct out {
	char *buf;
	size_t size, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_padding(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_number(struct out *o, u64 v, bool neg, unsigned base, bool upper, int width,
		       int prec, bool left, bool zero, char sign_char)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len, pad;

	if (v == 0 && prec != 0)
		tmp[n++] = '0';
	while (v) {
		/* cppcheck-suppress zerodivcond ; base is 8, 10 or 16 */
		tmp[n++] = digits[v % base];
		v /= base;
	}
	len = n > prec ? n : prec;
	if (neg || sign_char)
		len++;
	pad = width > len ? width - len : 0;
	if (!left && !(zero && prec < 0))
		put_padding(o, ' ', pad);
	if (neg)
		put(o, '-');
	else if (sign_char)
		put(o, sign_char);
	if (!left && zero && prec < 0)
		put_padding(o, '0', pad);
	put_padding(o, '0', prec - n);
	while (n)
		put(o, tmp[--n]);
	if (left)
		put_padding(o, ' ', pad);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		bool left = false, zero = false, alt = false;
		char sign_char = 0;
		int width = 0, prec = -1, lmod = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (;;) {
			fmt++;
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else if (*fmt == '+')
				sign_char = '+';
			else if (*fmt == '#')
				alt = true;
			else if (*fmt == ' ')
				sign_char = sign_char ? sign_char : ' ';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		for (;; fmt++) {
			if (*fmt == 'h')
				lmod--;
			else if (*fmt == 'l')
				lmod++;
			else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
				lmod = 2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = lmod >= 1 ? (lmod >= 2 ? va_arg(ap, long long) : va_arg(ap, long))
					  : va_arg(ap, int);
			if (lmod == -1)
				v = (short)v;
			else if (lmod <= -2)
				v = (signed char)v;
			put_number(&o, v < 0 ? -(u64)v : (u64)v, v < 0, 10, false, width, prec,
				   left, zero, sign_char);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			u64 v = lmod >= 1 ? (lmod >= 2 ? va_arg(ap, unsigned long long)
						       : va_arg(ap, unsigned long))
					  : va_arg(ap, unsigned int);
			unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;

			if (lmod == -1)
				v = (u16)v;
			else if (lmod <= -2)
				v = (u8)v;
			if (alt && base == 16 && v) {
				put(&o, '0');
				put(&o, *fmt);
				width = width > 2 ? width - 2 : 0;
			}
			put_number(&o, v, false, base, *fmt == 'X', width, prec, left, zero, 0);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (u64)(uintptr_t)va_arg(ap, void *), false, 16, false, 0, -1,
				   false, false, 0);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len;

			if (!s)
				s = "(null)";
			len = (int)strnlen(s, prec < 0 ? (size_t)-1 : (size_t)prec);
			if (!left)
				put_padding(&o, ' ', width - len);
			for (int i = 0; i < len; i++)
				put(&o, s[i]);
			if (left)
				put_padding(&o, ' ', width - len);
			break;
		}
		case 'c':
			if (!left)
				put_padding(&o, ' ', width - 1);
			put(&o, (char)va_arg(ap, int));
			if (left)
				put_padding(&o, ' ', width - 1);
			break;
		case '%': put(&o, '%'); break;
		case 0: fmt--; break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = 0;
	return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int refuse(int err, char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return err;
}
