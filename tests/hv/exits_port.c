/* The test image's exit counter port (MOAT_TEST_EXITS_PORT, include/moat/hypercall.h): a
 * byte a guest writes there makes moat print that guest's exits so far by reason, summed
 * over its vCPUs, at that moment:
 *
 *   vmm: exits <guest>: mark <byte>: <reason>=<n> ...
 *   vmm: npfs <guest>: mark <byte>: <target>=<n> ...
 *
 * the second line splitting the nested page faults by what they hit (vmm/mmio.c: the local
 * APIC page, an MSI-X table, the IOAPIC, a BAR unmapped while its decode is off, nothing).
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
	n = 0;
	for (unsigned t = 0; t < NPF_TARGET_NR; t++) {
		u64 nr = guest_npfs(g, (enum npf_target)t);

		if (nr)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
				      npf_target_name((enum npf_target)t), (unsigned long long)nr);
	}
	pr_info("npfs %s: mark %u:%s\n", g->cfg.name, *val & 0xff, n ? buf : " none");
	return true;
}
