/* Hypervisor command line. */
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/string.h>
#include <moat/boot_info.h>

static char cmdline[BOOT_CMDLINE_MAX];

void cmdline_set(const char *s)
{
	strlcpy(cmdline, s, sizeof(cmdline));
}

int cmdline_get(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		const char *w = p, *end;

		while (*w == ' ' || *w == '\t')
			w++;
		end = w;
		while (*end && *end != ' ' && *end != '\t')
			end++;
		if ((size_t)(end - w) >= klen && !strncmp(w, key, klen) &&
		    (w + klen == end || w[klen] == '=')) {
			const char *v = w + klen + (w + klen < end ? 1 : 0);
			size_t vlen = (size_t)(end - v);

			if (size) {
				size_t n = vlen < size - 1 ? vlen : size - 1;

				memcpy(buf, v, n);
				buf[n] = 0;
			}
			return (int)vlen;
		}
		p = end;
	}
	return -ENOENT;
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key, NULL, 0) >= 0;
}
