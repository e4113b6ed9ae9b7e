/* Hypercalls (docs/hypercalls.md). Every guest pointer is checked against the guest's RAM
 * before use; bad numbers and arguments get a negative errno in RAX. */
#define LOG_TAG "vmm"
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/hypercall.h>
#include <moat/log.h>
#include <moat/ratelimit.h>
#include <moat/tap.h>
#include <moat/test_hooks.h>
#include <moat/string.h>
#include <moat/time.h>
#include "vmm/exits.h"

/* Refusals of hypercalls made at CPL > 0 logged per guest and window; the rest counted. */
#define HC_REFUSED_LOG_BURST 4
#define HC_REFUSED_LOG_WINDOW_US 10000000ULL

static s64 hc_console_write(struct guest *g, u64 gpa, u64 len)
{
	const char *s;

	if (len > HC_CONSOLE_MAX)
		return -E2BIG;
	s = guest_ptr(g, gpa, len);
	if (!s)
		return -EFAULT;
	for (u64 i = 0; i < len; i++)
		vmm_console_putc(g, s[i]);
	return (s64)len;
}

/* "suite: id", and for a skip optionally " # SKIP reason": the printed line must parse as
 * exactly the status that is counted. */
static bool report_text_valid(const char *text, u64 status)
{
	const char *colon = strchr(text, ':'), *hash = strchr(text, '#');

	if (!colon || colon == text || colon[1] != ' ' || !colon[2])
		return false;
	if (!hash)
		return true;
	return status == HC_TEST_SKIP && hash > colon + 2 && hash[-1] == ' ' &&
	       !strncmp(hash, "# SKIP ", 7) && hash[7] && !strchr(hash + 1, '#');
}

/* "1..N" with N decimal (at most 9 digits). */
static bool plan_parse(const char *text, u64 *n)
{
	unsigned digits = 0;

	if (strncmp(text, "1..", 3))
		return false;
	*n = 0;
	for (const char *p = text + 3; *p; p++, digits++) {
		if (*p < '0' || *p > '9' || digits == 9)
			return false;
		*n = *n * 10 + (u64)(*p - '0');
	}
	return digits > 0;
}

/* The guest's plan: what it announces and what moat received must agree, or a result
 * vanished (a report moat refused, such as a skip reason with a second '#'): that is a
 * failure of the guest, counted in the summary. */
static s64 hc_report_plan(struct guest *g, const char *text)
{
	u64 planned, got = g->results[0] + g->results[1] + g->results[2];
	char line[HC_REPORT_MAX + CFG_NAME_MAX + 120];
	int n;

	if (!plan_parse(text, &planned))
		return -EINVAL;
	vmm_console_flush(g);
	n = snprintf(line, sizeof(line), "[%s] %s\n", g->cfg.name, text);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	if (planned == got)
		return 0;
	g->results[HC_TEST_FAIL]++;
	n = snprintf(line, sizeof(line),
		     "[%s] not ok %llu - guest: results-complete\n[%s] # it announced %llu "
		     "results, moat received %llu (a report refused or lost)\n",
		     g->cfg.name, (unsigned long long)(got + 1), g->cfg.name,
		     (unsigned long long)planned, (unsigned long long)got);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	tap_count(TAP_FAIL);
	return 0;
}

/* The guest's TAP line is printed here, so that the line and the count in the summary
 * come from one place: "[<guest>] ok N - <suite>: <id>". */
static s64 hc_report(struct guest *g, u64 status, u64 gpa, u64 len)
{
	static const char *const verdict[] = {"ok", "not ok", "ok"};
	char text[HC_REPORT_MAX + 1], line[HC_REPORT_MAX + CFG_NAME_MAX + 40];
	const char *s;
	int n;

	if (status > HC_TEST_PLAN)
		return -EINVAL;
	if (len == 0 || len > HC_REPORT_MAX)
		return -E2BIG;
	s = guest_ptr(g, gpa, len);
	if (!s)
		return -EFAULT;
	for (u64 i = 0; i < len; i++) {
		text[i] = s[i];
		if ((u8)text[i] < 0x20 || (u8)text[i] >= 0x7f)
			return -EINVAL;
	}
	text[len] = 0;
	if (status == HC_TEST_PLAN)
		return hc_report_plan(g, text);
	if (!report_text_valid(text, status))
		return -EINVAL;
	vmm_console_flush(g);
	g->results[status]++;
	n = snprintf(line, sizeof(line), "[%s] %s %llu - %s%s\n", g->cfg.name, verdict[status],
		     (unsigned long long)(g->results[0] + g->results[1] + g->results[2]), text,
		     status == HC_TEST_SKIP && !strchr(text, '#') ? " # SKIP no reason given" : "");
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	tap_count(status == HC_TEST_PASS ? TAP_PASS : status == HC_TEST_FAIL ? TAP_FAIL : TAP_SKIP);
	return 0;
}

/* The ABI puts no alignment on the guest's buffer: results are built here and copied. */
static s64 hc_get_info(struct vcpu *v, u64 gpa)
{
	struct guest *g = v->guest;
	void *dst = guest_ptr(g, gpa, sizeof(struct moat_guest_info));
	struct moat_guest_info info;

	if (!dst)
		return -EFAULT;
	memset(&info, 0, sizeof(info));
	info.id = g->id;
	info.cpu = v->cpu;
	info.ram_size = g->ram_size;
	strlcpy(info.name, g->cfg.name, sizeof(info.name));
	info.tsc_khz = (u32)(tsc_hz() / 1000);
	info.nr_devices = MIN(g->cfg.nr_devices, (u32)ARRAY_SIZE(info.devices));
	for (u32 i = 0; i < info.nr_devices; i++) {
		const struct cfg_device *d = &g->cfg.devices[i];

		info.devices[i] = (struct moat_guest_device){
			d->segment, d->bus, d->dev, d->fn, d->kind == CFG_DEV_VF, d->vf};
	}
	memcpy(dst, &info, sizeof(info));
	return 0;
}

/* The configuration line's cmdline= (empty without one), with its NUL. */
static s64 hc_get_cmdline(struct guest *g, u64 gpa, u64 size)
{
	size_t len = strlen(g->cfg.cmdline);
	char *dst;

	if (size < len + 1)
		return -ERANGE;
	dst = guest_ptr(g, gpa, len + 1);
	if (!dst)
		return -EFAULT;
	memcpy(dst, g->cfg.cmdline, len + 1);
	return (s64)len;
}

/* Hypercalls are the guest kernel's: made at CPL > 0 (the guest's user space), they are
 * refused with -EPERM before anything is looked at, counted, and logged rate-limited; the
 * guest goes on. */
static bool refused_at_cpl(struct vcpu *v, const struct vmm_exit *e, u64 nr)
{
	struct guest *g = v->guest;
	unsigned cpl = vmm_be->get_cpl(v), dropped;

	if (cpl == 0)
		return false;
	__atomic_fetch_add(&g->hc_refused_cpl, 1, __ATOMIC_RELAXED); /* several vCPUs */
	if (!g->hc_refused_log.window_us)
		g->hc_refused_log = (struct ratelimit){.window_us = HC_REFUSED_LOG_WINDOW_US,
						       .burst = HC_REFUSED_LOG_BURST};
	if (!ratelimit_allow(&g->hc_refused_log, time_us(), &dropped))
		return true;
	if (dropped)
		pr_warn("guest %s: %u more hypercalls from CPL > 0 refused, not logged\n",
			g->cfg.name, dropped);
	pr_warn("guest %s: hypercall %llu from CPL %u at rip %#llx refused (-EPERM)\n", g->cfg.name,
		(unsigned long long)nr, cpl, (unsigned long long)e->rip);
	return true;
}

int vmm_handle_hypercall(struct vcpu *v, const struct vmm_exit *e)
{
	struct guest *g = v->guest;
	u64 nr = v->gpr[VMM_REG_RAX];
	u64 a0 = v->gpr[VMM_REG_RDI], a1 = v->gpr[VMM_REG_RSI], a2 = v->gpr[VMM_REG_RDX];
	s64 ret;

	if (refused_at_cpl(v, e, nr)) {
		v->gpr[VMM_REG_RAX] = (u64)-EPERM;
		vmm_be->skip_instruction(v, e);
		return 0;
	}
	__atomic_fetch_add(&g->hypercalls, 1, __ATOMIC_RELAXED); /* several vCPUs */
	switch (nr) {
	case HC_CONSOLE_WRITE: ret = hc_console_write(g, a0, a1); break;
	case HC_REPORT: ret = hc_report(g, a0, a1, a2); break;
	case HC_GET_INFO: ret = hc_get_info(v, a0); break;
	case HC_GET_CMDLINE: ret = hc_get_cmdline(g, a0, a1); break;
	case HC_SHUTDOWN:
		vmm_console_flush(g);
		if (guest_end(g, GUEST_DONE))
			pr_info("guest %s shut down (code %llu)\n", g->cfg.name,
				(unsigned long long)a0);
		ret = 0;
		break;
	default:
		/* The test range exists only in the test image (tests/hv/hypercalls.c). */
		ret = nr >= HC_TEST_FIRST && nr <= HC_TEST_LAST && TEST_HOOK_PRESENT(hypercall)
			      ? test_hooks->hypercall(v, nr, a0, a1, a2)
			      : -ENOSYS;
		break;
	}
	if (ret < 0)
		pr_debug("guest %s: hypercall %llu -> %lld\n", g->cfg.name, (unsigned long long)nr,
			 (long long)ret);
	v->gpr[VMM_REG_RAX] = (u64)ret;
	vmm_be->skip_instruction(v, e);
	return 0;
}
