/* Guest configuration parser (docs/configuration.md). */
#define LOG_TAG "config"
#include <moat/bits.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "vmm/config.h"

/* The demo guests, in the order CPUs are given to them: two that exchange frames through
 * their VFs and the attacker. */
static const struct {
	const char *name, *image;
} builtin_guests[CFG_BUILTIN_GUESTS] = {
	{"alpha", "cpu"}, {"beta", "cpu"}, {"attacker", "attacker"}};

size_t config_builtin(char *buf, size_t size, const u32 *cpus, unsigned nr_cpus,
		      const struct cfg_device *pf)
{
	size_t n = 0;

	if (size)
		buf[0] = 0;
	for (unsigned i = 0; i < MIN(nr_cpus, (unsigned)CFG_BUILTIN_GUESTS) && n < size; i++) {
		char dev[40] = "";

		if (pf) {
			struct cfg_device vf = *pf;

			vf.kind = CFG_DEV_VF;
			vf.vf = (u16)i;
			strlcpy(dev, " device=", sizeof(dev));
			config_device_str(&vf, dev + 8, sizeof(dev) - 8);
		}
		n += (size_t)snprintf(buf + n, size - n, "guest %s memory=16M cpu=%u image=%s%s\n",
				      builtin_guests[i].name, cpus[i], builtin_guests[i].image,
				      dev);
	}
	return MIN(n, size ? size - 1 : 0);
}

#define MAX_TOKENS 16
#define LINE_MAX 1024

struct line_ctx {
	struct vmm_config *cfg;
	const char *source;
	u32 line;
};

static int line_error(struct line_ctx *c, const char *fmt, ...) __printf(2, 3);

static int line_error(struct line_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char what[120];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->cfg->last_error, sizeof(c->cfg->last_error), "%s line %u: %s", c->source,
		 c->line, what);
	pr_warn("%s\n", c->cfg->last_error);
	c->cfg->nr_errors++;
	return -EINVAL;
}

static bool is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',' || ch == '\r';
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* A boot module or file name: a name that may also hold dots (vmlinuz-6.1, initrd.gz). */
static bool valid_file_name(const char *s)
{
	if (*s == '.' || strlen(s) >= CFG_IMAGE_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (*p != '.' && !valid_name((char[]){*p, 0}))
			return false;
	return *s != 0;
}

static int parse_hex(const char **p, u32 max_digits, u32 limit, u32 *out)
{
	u32 v = 0, n = 0;

	for (;; n++) {
		char ch = **p;
		u32 d;

		if (ch >= '0' && ch <= '9')
			d = (u32)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (u32)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (u32)(ch - 'A' + 10);
		else
			break;
		if (n == max_digits)
			return -ERANGE;
		v = v * 16 + d;
		(*p)++;
	}
	if (!n || v > limit)
		return -EINVAL;
	*out = v;
	return 0;
}

/* [SSSS:]BB:DD.F[/vfN] */
static int parse_device(const char *s, struct cfg_device *d)
{
	const char *p = s;
	u32 seg = 0, bus, dev, fn, colons = 0;
	u64 vf;

	memset(d, 0, sizeof(*d));
	for (const char *q = s; *q && *q != '/'; q++)
		colons += *q == ':';
	if (colons == 2 && (parse_hex(&p, 4, 0xffff, &seg) || *p++ != ':'))
		return -EINVAL;
	if (parse_hex(&p, 2, 0xff, &bus) || *p++ != ':' || parse_hex(&p, 2, 31, &dev) ||
	    *p++ != '.' || parse_hex(&p, 1, 7, &fn))
		return -EINVAL;
	d->segment = (u16)seg;
	d->bus = (u8)bus;
	d->dev = (u8)dev;
	d->fn = (u8)fn;
	d->kind = CFG_DEV_BDF;
	if (!*p)
		return 0;
	if (strncmp(p, "/vf", 3))
		return -EINVAL;
	p += 3;
	if (parse_u64(&p, &vf, false) || *p || vf > 255)
		return -EINVAL;
	d->kind = CFG_DEV_VF;
	d->vf = (u16)vf;
	return 0;
}

void config_device_str(const struct cfg_device *d, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%04x:%02x:%02x.%x", d->segment, d->bus, d->dev, d->fn);

	if (d->kind == CFG_DEV_VF && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "/vf%u", d->vf);
}

/* <n>s, <n>ms or off; -ERANGE outside 1 ms .. CFG_MAX_WATCHDOG_US */
static int parse_watchdog(const char *val, u64 *us)
{
	const char *p = val;
	u64 n, unit;

	if (!strcmp(val, "off")) {
		*us = 0;
		return 0;
	}
	if (parse_u64(&p, &n, false))
		return -EINVAL;
	if (!strcmp(p, "s"))
		unit = 1000000;
	else if (!strcmp(p, "ms"))
		unit = 1000;
	else
		return -EINVAL;
	if (!n || n > CFG_MAX_WATCHDOG_US / unit)
		return -ERANGE;
	*us = n * unit;
	return 0;
}

/* One CPU of a cpu= list: 1..63 (CPU 0 is the hypervisor's). */
static int parse_cpu(struct line_ctx *c, const char **p, const char *val, u32 *cpu)
{
	u64 n;

	if (parse_u64(p, &n, false))
		return line_error(c,
				  "cpu '%s' is not a number, a list or a range (e.g. 1, 1-2, "
				  "1,3)",
				  val);
	if (n == 0)
		return line_error(c, "cpu 0 belongs to the hypervisor");
	if (n >= 64)
		return line_error(c, "cpu %llu is out of range (at most 63)",
				  (unsigned long long)n);
	*cpu = (u32)n;
	return 0;
}

static int add_cpu(struct line_ctx *c, struct guest_config *g, u32 cpu)
{
	for (u32 i = 0; i < g->nr_cpus; i++)
		if (g->cpus[i] == cpu)
			return line_error(c, "cpu %u is named twice", cpu);
	if (g->nr_cpus == CFG_MAX_VCPUS)
		return line_error(c, "more than %d CPUs for one guest", CFG_MAX_VCPUS);
	g->cpus[g->nr_cpus++] = cpu;
	return 0;
}

/* cpu=N, cpu=A-B or a list of them separated by commas: vCPU i on the i-th CPU named. */
static int parse_cpus(struct line_ctx *c, struct guest_config *g, const char *val)
{
	const char *p = val;

	g->nr_cpus = 0;
	for (;;) {
		u32 first, last;

		if (parse_cpu(c, &p, val, &first))
			return -EINVAL;
		last = first;
		if (*p == '-') {
			p++;
			if (parse_cpu(c, &p, val, &last))
				return -EINVAL;
			if (last < first)
				return line_error(c, "cpu range '%s' runs backwards", val);
		}
		for (u32 cpu = first; cpu <= last; cpu++)
			if (add_cpu(c, g, cpu))
				return -EINVAL;
		if (!*p)
			return 0;
		if (*p++ != ',')
			return line_error(c,
					  "cpu '%s' is not a number, a list or a range (e.g. 1, "
					  "1-2, 1,3)",
					  val);
	}
}

static int parse_field(struct line_ctx *c, struct guest_config *g, const char *tok, u32 *seen)
{
	const char *eq = strchr(tok, '='), *val;
	size_t klen;

	if (!eq || eq == tok)
		return line_error(c, "'%s' is not key=value", tok);
	klen = (size_t)(eq - tok);
	val = eq + 1;
	if (!*val)
		return line_error(c, "'%.*s' has no value", (int)klen, tok);
	if (klen == 6 && !strncmp(tok, "memory", 6)) {
		const char *p = val;
		u64 m;

		if (parse_u64(&p, &m, true) || *p)
			return line_error(c, "memory '%s' is not a size (e.g. 16M)", val);
		if (m < CFG_MIN_MEMORY || m > CFG_MAX_MEMORY || !IS_ALIGNED(m, 2 * MiB))
			return line_error(
				c, "memory '%s' must be a multiple of 2M between 2M and 64G", val);
		g->memory = m;
		*seen |= BIT(0);
	} else if (klen == 3 && !strncmp(tok, "cpu", 3)) {
		if (parse_cpus(c, g, val))
			return -EINVAL;
		*seen |= BIT(1);
	} else if (klen == 5 && !strncmp(tok, "image", 5)) {
		if (!valid_name(val) || strlen(val) >= CFG_IMAGE_MAX)
			return line_error(c, "image '%s' is not a valid image name", val);
		strlcpy(g->image, val, sizeof(g->image));
		*seen |= BIT(2);
	} else if (klen == 8 && !strncmp(tok, "watchdog", 8)) {
		int err = parse_watchdog(val, &g->watchdog_us);

		if (err == -ERANGE)
			return line_error(c, "watchdog '%s' must be between 1ms and %llus (or off)",
					  val, (unsigned long long)(CFG_MAX_WATCHDOG_US / 1000000));
		if (err)
			return line_error(c, "watchdog '%s' is not a time (e.g. 10s, 500ms, off)",
					  val);
	} else if (klen == 6 && !strncmp(tok, "kernel", 6)) {
		if (!valid_file_name(val))
			return line_error(c, "kernel '%s' is not a valid file name", val);
		strlcpy(g->kernel, val, sizeof(g->kernel));
		*seen |= BIT(3);
	} else if (klen == 6 && !strncmp(tok, "initrd", 6)) {
		if (!valid_file_name(val))
			return line_error(c, "initrd '%s' is not a valid file name", val);
		strlcpy(g->initrd, val, sizeof(g->initrd));
		*seen |= BIT(4);
	} else if (klen == 7 && !strncmp(tok, "cmdline", 7)) {
		if (strlen(val) >= CFG_CMDLINE_MAX)
			return line_error(c, "cmdline is longer than %d characters",
					  CFG_CMDLINE_MAX - 1);
		for (const char *p = val; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				return line_error(c,
						  "cmdline holds a byte %#x that is not printable",
						  (u8)*p);
		strlcpy(g->cmdline, val, sizeof(g->cmdline));
		*seen |= BIT(5);
	} else if (klen == 6 && !strncmp(tok, "device", 6)) {
		if (g->nr_devices == CFG_MAX_DEVICES)
			return line_error(c, "more than %d devices", CFG_MAX_DEVICES);
		if (parse_device(val, &g->devices[g->nr_devices]))
			return line_error(c, "device '%s' is not BB:DD.F, SSSS:BB:DD.F or PF/vfN",
					  val);
		g->nr_devices++;
	} else {
		return line_error(c, "unknown key '%.*s'", (int)klen, tok);
	}
	return 0;
}

/* Splits the line (copied into buf, which the tokens point into) at separators; a value
 * opened by '="' runs to the next '"' whatever it holds, and loses its quotes. */
static u32 tokenize(const char *s, size_t len, char *buf, char *tok[], int *err)
{
	u32 n = 0;
	size_t i = 0, o = 0;

	*err = 0;
	if (len >= LINE_MAX) {
		*err = -ERANGE;
		return 0;
	}
	while (i < len) {
		while (i < len && is_sep(s[i]))
			i++;
		if (i == len || s[i] == '#')
			break;
		if (n == MAX_TOKENS) {
			*err = -E2BIG;
			return n;
		}
		tok[n++] = buf + o;
		while (i < len && !is_sep(s[i])) {
			if (s[i] == '"' && i && s[i - 1] == '=') {
				for (i++; i < len && s[i] != '"'; i++)
					buf[o++] = s[i];
				if (i == len) {
					*err = -EILSEQ;
					return n;
				}
				i++;
				continue;
			}
			buf[o++] = s[i++];
		}
		buf[o++] = 0;
	}
	return n;
}

/* A guest runs a moat image (image=, cmdline= optional: HC_GET_CMDLINE) or a Linux kernel
 * (kernel=, with initrd= and cmdline= optional), never both. */
static int check_image_keys(struct line_ctx *c, const struct guest_config *g, u32 seen)
{
	bool image = seen & BIT(2), kernel = seen & BIT(3);

	if (image && kernel)
		return line_error(c, "guest '%s' has both image= and kernel=", g->name);
	if (!image && !kernel)
		return line_error(c, "guest '%s' lacks image= (or kernel= for Linux)", g->name);
	if (image && (seen & BIT(4)))
		return line_error(c, "guest '%s': initrd= goes with kernel=, not image=", g->name);
	return 0;
}

/* cpu=1,3 on a line: commas also separate fields, so the bare numbers and ranges after a
 * cpu= field continue its list ("cpu=1,3" and "cpu=1 3" name CPUs 1 and 3). Advances *i
 * past them; returns the field with its whole list. */
static const char *join_cpu_list(char *tok[], u32 n, u32 *i, char *buf, size_t size)
{
	size_t len = strlcpy(buf, tok[*i], size);

	while (*i + 1 < n && tok[*i + 1][0] >= '0' && tok[*i + 1][0] <= '9' &&
	       !strchr(tok[*i + 1], '=') && len + 1 + strlen(tok[*i + 1]) < size) {
		(*i)++;
		buf[len++] = ',';
		len += strlcpy(buf + len, tok[*i], size - len);
	}
	return buf;
}

/* The first CPU both guests name, or -1. */
static int shared_cpu(const struct guest_config *a, const struct guest_config *b)
{
	for (u32 i = 0; i < a->nr_cpus; i++)
		for (u32 j = 0; j < b->nr_cpus; j++)
			if (a->cpus[i] == b->cpus[j])
				return (int)a->cpus[i];
	return -1;
}

static void parse_line(struct line_ctx *c, const char *s, size_t len)
{
	char buf[LINE_MAX], *tok[MAX_TOKENS];
	struct vmm_config *cfg = c->cfg;
	struct guest_config *g;
	u32 n, seen = 0;
	bool ok = true;
	int err;

	n = tokenize(s, len, buf, tok, &err);
	if (err) {
		if (err == -E2BIG)
			line_error(c, "too many fields");
		else if (err == -EILSEQ)
			line_error(c, "a quoted value has no closing '\"'");
		else
			line_error(c, "the line is longer than %d characters", LINE_MAX - 1);
		if (!n || strcmp(tok[0], "guest"))
			return;
	}
	if (!n)
		return;
	if (strcmp(tok[0], "guest")) {
		line_error(c, "unknown statement '%s' (expected 'guest')", tok[0]);
		return;
	}
	if (cfg->nr_guests == CFG_MAX_GUESTS) {
		line_error(c, "more than %d guests", CFG_MAX_GUESTS);
		return;
	}
	g = &cfg->guests[cfg->nr_guests++];
	memset(g, 0, sizeof(*g));
	g->line = c->line;
	if (n < 2 || strchr(tok[1], '=')) {
		line_error(c, "guest without a name");
		snprintf(g->name, sizeof(g->name), "line%u", c->line);
		return;
	}
	if (!valid_name(tok[1]) || strlen(tok[1]) >= CFG_NAME_MAX) {
		line_error(c, "guest name '%s' is invalid (letters, digits, '-', '_', at most %d)",
			   tok[1], CFG_NAME_MAX - 1);
		snprintf(g->name, sizeof(g->name), "line%u", c->line);
		return;
	}
	strlcpy(g->name, tok[1], sizeof(g->name));
	if (err)
		return;
	for (u32 i = 2; i < n; i++) {
		char cpus[LINE_MAX];
		const char *field = tok[i];

		if (!strncmp(tok[i], "cpu=", 4))
			field = join_cpu_list(tok, n, &i, cpus, sizeof(cpus));
		if (parse_field(c, g, field, &seen))
			ok = false;
	}
	for (u32 i = 0; i + 1 < cfg->nr_guests; i++) {
		struct guest_config *o = &cfg->guests[i];
		int cpu;

		if (!strcmp(o->name, g->name)) {
			line_error(c, "guest '%s' is already defined on line %u", g->name, o->line);
			ok = false;
		} else if (o->valid && (seen & BIT(1)) && (cpu = shared_cpu(o, g)) >= 0) {
			line_error(c, "cpu %d is already given to guest '%s'", cpu, o->name);
			ok = false;
		}
	}
	if (ok && (seen & 3) != 3)
		ok = line_error(c, "guest '%s' lacks %s", g->name,
				!(seen & 1) ? "memory=" : "cpu=") == 0;
	if (ok)
		ok = check_image_keys(c, g, seen) == 0;
	if (ok && g->nr_cpus > 1 && !(seen & BIT(3)))
		ok = line_error(c,
				"guest '%s' has %u CPUs: only an OS guest (kernel=) may have "
				"several, a moat image runs on one",
				g->name, g->nr_cpus) == 0;
	g->valid = ok;
}

u32 config_parse(struct vmm_config *cfg, const char *source, const char *text, size_t len)
{
	struct line_ctx c = {cfg, source, 0};
	size_t i = 0;

	memset(cfg, 0, sizeof(*cfg));
	while (i < len && text[i]) {
		size_t start = i;

		bool quoted = false;

		while (i < len && text[i] && text[i] != '\n' && (quoted || text[i] != ';')) {
			quoted ^= text[i] == '"';
			i++;
		}
		c.line++;
		parse_line(&c, text + start, i - start);
		if (i < len && text[i])
			i++;
	}
	return cfg->nr_errors;
}
