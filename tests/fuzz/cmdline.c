/* The command line: the UEFI loader's LoadOptions (UCS-2) and moat.cmd conversions and
 * key=value lookups (boot/efi/efi_text.c), and the hypervisor's own lookups
 * (core/cmdline.c) on what they produce. The first byte picks the conversion and the
 * output capacity. */
#include <stdlib.h>
#include <moat/boot_info.h>
#include <moat/cmdline.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "boot/efi/convert.h"
#include "fuzz.h"

static const char *const keys[] = {
	"config", "acpi.override", "serial", "console",	  "loglevel", "exit",
	"fbcon",  "sriov.numvfs",  "image",  "acpi.dump", "",	      "=",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, value[64];
	size_t cap;
	u8 *in;
	int len;

	if (size < 1)
		return 0;
	cap = 1 + (data[0] >> 1) % BOOT_CMDLINE_MAX;
	line = malloc(cap);
	in = malloc(size - 1 ? size - 1 : 1);
	memcpy(in, data + 1, size - 1);
	if (data[0] & 1)
		len = efi_cmdline_from_ucs2(in, size - 1, line, cap);
	else
		len = efi_cmdline_from_text((const char *)in, size - 1, line, cap);
	free(in);
	if (len == -EILSEQ) {
		free(line);
		return 0;
	}
	if (len < 0 && len != -E2BIG)
		abort();
	if (strnlen(line, cap) == cap)
		abort();
	cmdline_set(line);
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int a = efi_cmdline_value(line, keys[i], value, sizeof(value));
		int b;

		if (a >= 0 && strnlen(value, sizeof(value)) == sizeof(value))
			abort();
		efi_cmdline_has(line, keys[i]);
		b = cmdline_get(keys[i], value, sizeof(value));
		if (b >= 0 && strnlen(value, sizeof(value)) == sizeof(value))
			abort();
		cmdline_has(keys[i]);
	}
	free(line);
	return 0;
}
