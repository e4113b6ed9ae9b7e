/* The guest configuration parser (vmm/config.c): the input is the text of moat.conf or
 * of config= (which the command line hands over with ';' for line breaks). The built-in
 * configuration is generated too, from CPUs and a PF taken from the input's first bytes,
 * into a buffer of the size asked for, and parsed back. And the UEFI loader's scan of the
 * same text for the files it must load (efi_config_file: kernel=, initrd=). */
#include <stdlib.h>
#include <moat/string.h>
#include "boot/efi/convert.h"
#include "vmm/config.h"
#include "fuzz.h"

static void builtin(const uint8_t *data, size_t size)
{
	static struct vmm_config cfg;
	struct fin f = {data, size};
	u32 cpus[4];
	struct cfg_device pf = {.kind = CFG_DEV_BDF};
	size_t cap = fin_u8(&f) % 200, n;
	unsigned nr = fin_u8(&f) % 5;
	bool with_pf = fin_u8(&f) & 1;
	char *buf = malloc(cap ? cap : 1);

	for (unsigned i = 0; i < 4; i++)
		cpus[i] = fin_u8(&f);
	pf.segment = fin_u16(&f);
	pf.bus = fin_u8(&f);
	pf.dev = fin_u8(&f) & 31;
	pf.fn = fin_u8(&f) & 7;
	n = config_builtin(buf, cap, cpus, nr, with_pf ? &pf : NULL);
	if (cap && (n >= cap || strnlen(buf, cap) != n))
		abort(); /* the length returned is not what was written */
	memset(&cfg, 0, sizeof(cfg));
	if (cap)
		config_parse(&cfg, "builtin", buf, n);
	free(buf);
}

/* Whether CPU c of guest i is named again by it or by another valid guest. */
static bool cpu_taken(const struct vmm_config *cfg, u32 i, u32 c)
{
	u32 cpu = cfg->guests[i].cpus[c];

	for (u32 j = 0; j < cfg->nr_guests; j++)
		for (u32 k = 0; (j == i || cfg->guests[j].valid) && k < cfg->guests[j].nr_cpus; k++)
			if ((j != i || k != c) && cfg->guests[j].cpus[k] == cpu)
				return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_config cfg;
	char *text = malloc(size ? size : 1);
	char dev[48];

	builtin(data, size);
	memcpy(text, data, size);
	memset(&cfg, 0, sizeof(cfg));
	config_parse(&cfg, "fuzz", text, size);
	for (unsigned n = 0; n < 4; n++) {
		size_t cap = 1 + (n * 37) % 64;
		char *out = malloc(cap);
		int len = efi_config_file(text, size, n, out, cap);

		if (len >= 0 && ((size_t)len >= cap || strnlen(out, cap) != (size_t)len))
			abort();
		free(out);
	}
	if (cfg.nr_guests > CFG_MAX_GUESTS)
		abort();
	for (u32 i = 0; i < cfg.nr_guests; i++) {
		const struct guest_config *g = &cfg.guests[i];

		if (strnlen(g->name, sizeof(g->name)) == sizeof(g->name) ||
		    strnlen(g->image, sizeof(g->image)) == sizeof(g->image) ||
		    g->nr_devices > CFG_MAX_DEVICES)
			abort();
		if (g->valid && (g->memory < CFG_MIN_MEMORY || g->memory > CFG_MAX_MEMORY))
			abort();
		if (g->nr_cpus > CFG_MAX_VCPUS || (g->valid && !g->nr_cpus) ||
		    (g->valid && g->nr_cpus > 1 && !g->kernel[0]))
			abort();
		for (u32 c = 0; g->valid && c < g->nr_cpus; c++)
			if (g->cpus[c] == 0 || g->cpus[c] > 63 || cpu_taken(&cfg, i, c))
				abort(); /* a valid guest's CPU is its own */
		for (u32 d = 0; d < g->nr_devices; d++)
			config_device_str(&g->devices[d], dev, sizeof(dev));
	}
	free(text);
	return 0;
}
