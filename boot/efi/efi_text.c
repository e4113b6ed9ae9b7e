/* Command lines for moat from UEFI load options (UCS-2) or from the moat.cmd file. */
#include <moat/errno.h>
#include "boot/efi/convert.h"

/* Builds a line with blanks collapsed and trimmed. */
struct line {
	char *out;
	size_t cap, len;
	bool blank, cut;
};

static void line_append(struct line *l, char c)
{
	if (l->len + 1 >= l->cap) {
		l->cut = true;
		return;
	}
	l->out[l->len++] = c;
}

static void line_put(struct line *l, char c)
{
	if (c == ' ') {
		l->blank = l->len > 0;
		return;
	}
	if (l->cut)
		return;
	if (l->blank) {
		l->blank = false;
		line_append(l, ' ');
	}
	line_append(l, c);
}

static int line_finish(struct line *l)
{
	while (l->len && l->out[l->len - 1] == ' ')
		l->len--;
	l->out[l->len] = '\0';
	return l->cut ? -E2BIG : (int)l->len;
}

static bool is_text(u32 c)
{
	return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Drops a first word ending in ".efi": the UEFI shell passes the image name as argv[0]. */
static void drop_image_name(struct line *l)
{
	size_t w = 0, i;

	while (w < l->len && l->out[w] != ' ')
		w++;
	if (w < 4 || l->out[w - 4] != '.' || lower(l->out[w - 3]) != 'e' ||
	    lower(l->out[w - 2]) != 'f' || lower(l->out[w - 1]) != 'i')
		return;
	if (w < l->len)
		w++;
	for (i = w; i < l->len; i++)
		l->out[i - w] = l->out[i];
	l->len -= w;
}

static u32 ucs2_at(const u8 *p, size_t i)
{
	return (u32)p[2 * i] | (u32)p[2 * i + 1] << 8;
}

int efi_cmdline_from_ucs2(const void *opts, size_t size, char *out, size_t cap)
{
	struct line l = {.out = out, .cap = cap};
	size_t n = size / 2, i, end;
	int ret;

	if (!cap)
		return -E2BIG;
	out[0] = '\0';
	if (size % 2)
		return -EILSEQ;
	for (end = 0; end < n && ucs2_at(opts, end); end++)
		if (!is_text(ucs2_at(opts, end)))
			return -EILSEQ;
	for (i = 0; i < end; i++) {
		u32 c = ucs2_at(opts, i);

		line_put(&l, c < 0x20 ? ' ' : (char)c);
	}
	ret = line_finish(&l);
	drop_image_name(&l);
	line_finish(&l);
	return ret < 0 ? ret : (int)l.len;
}

int efi_cmdline_from_text(const char *text, size_t len, char *out, size_t cap)
{
	struct line l = {.out = out, .cap = cap};
	bool line_start = true, comment = false;

	if (!cap)
		return -E2BIG;
	out[0] = '\0';
	for (size_t i = 0; i < len && text[i]; i++)
		if (!is_text((u8)text[i]))
			return -EILSEQ;
	for (size_t i = 0; i < len && text[i]; i++) {
		char c = text[i];

		if (c == '\n' || c == '\r') {
			line_start = true;
			comment = false;
			line_put(&l, ' ');
			continue;
		}
		if (line_start && c == '#')
			comment = true;
		if (c != ' ' && c != '\t')
			line_start = false;
		if (!comment)
			line_put(&l, c == '\t' ? ' ' : c);
	}
	return line_finish(&l);
}

bool efi_cmdline_has(const char *cmdline, const char *word)
{
	for (const char *p = cmdline; *p; p++) {
		const char *a = p, *b = word;

		if (p != cmdline && p[-1] != ' ')
			continue;
		while (*b && *a == *b) {
			a++;
			b++;
		}
		if (!*b && (!*a || *a == ' '))
			return true;
	}
	return false;
}

int efi_cmdline_value(const char *cmdline, const char *key, char *out, size_t cap)
{
	for (const char *p = cmdline; *p; p++) {
		const char *a = p, *b = key;
		size_t n = 0;

		if (p != cmdline && p[-1] != ' ')
			continue;
		while (*b && *a == *b) {
			a++;
			b++;
		}
		if (*b || *a != '=')
			continue;
		for (a++; *a && *a != ' '; a++) {
			if (n + 1 >= cap)
				return -E2BIG;
			out[n++] = *a;
		}
		out[n] = 0;
		return (int)n;
	}
	return -ENOENT;
}

static bool config_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r' || c == ';';
}

static bool config_key_at(const char *text, size_t len, size_t i, const char *key)
{
	size_t k = 0;

	if (i && !config_sep(text[i - 1]))
		return false;
	while (key[k] && i + k < len && text[i + k] == key[k])
		k++;
	return !key[k];
}

int efi_config_file(const char *text, size_t len, unsigned n, char *out, size_t cap)
{
	static const char *const keys[] = {"kernel=", "initrd="};
	bool quoted = false;

	for (size_t i = 0; i < len && text[i]; i++) {
		/* a quoted value (a guest's command line) names no file; a line ends a quote */
		quoted = text[i] == '"' ? !quoted : text[i] == '\n' ? false : quoted;
		for (unsigned k = 0; k < 2 && !quoted; k++) {
			size_t v = i + 7, o = 0;

			if (!config_key_at(text, len, i, keys[k]))
				continue;
			if (n--)
				continue;
			for (; v < len && text[v] && !config_sep(text[v]); v++) {
				if (o + 1 >= cap)
					return -E2BIG;
				out[o++] = text[v];
			}
			out[o] = 0;
			return (int)o;
		}
	}
	return -ENOENT;
}
