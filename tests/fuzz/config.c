/* The guest configuration parser (vmm/config.c): the input is the text of moat.conf or
 * of config= (which the command line hands over with ';' for line breaks). */
#include <stdlib.h>
#include <moat/string.h>
#include "vmm/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_config cfg;
	char *text = malloc(size ? size : 1);
	char dev[48];

	memcpy(text, data, size);
	memset(&cfg, 0, sizeof(cfg));
	config_parse(&cfg, "fuzz", text, size);
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
		for (u32 d = 0; d < g->nr_devices; d++)
			config_device_str(&g->devices[d], dev, sizeof(dev));
	}
	free(text);
	return 0;
}
