/* The test image's exit counter port (MOAT_TEST_EXITS_PORT, include/moat/hypercall.h): a
 * byte a guest writes there makes moat print that guest's exits so far by reason, summed
 * over its vCPUs, at that moment:
 *
 *   vmm: exits <guest>: mark <byte>: <reason>=<n> ...
 *
 * Any guest can write a port, an unmodified OS too (Linux: /dev/port), so two marks give
 * the exits of what the guest did between them (docs/performance.md; the write itself is
 * one I/O exit, counted in the line it causes). The product denies the port like any
 * other: it links none of this. */
#define LOG_TAG "vmm"
#include <moat/hypercall.h>
#include <moat/log.h>
#include <moat/string.h>
#include "tests/hv/hv.h"
#include "vmm/vmm.h"

#define EXITS_LINE_MAX 400

bool test_exits_port(struct vcpu *v, u16 port, bool in, u8 size, u32 *val)
{
	const struct guest *g = v->guest;
	char buf[EXITS_LINE_MAX];
	int n = 0;

	if (port != MOAT_TEST_EXITS_PORT || size != 1)
		return false;
	if (in) {
		*val = 0xff;
		return true;
	}
	for (unsigned r = 1; r < VMM_EXIT_NR && n < (int)sizeof(buf); r++) {
		u64 nr = guest_exits(g, (enum vmm_exit_reason)r);

		if (nr)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      vmm_exit_name((enum vmm_exit_reason)r),
				      (unsigned long long)nr);
	}
	pr_info("exits %s: mark %u:%s\n", g->cfg.name, *val & 0xff, n ? buf : " none");
	return true;
}
