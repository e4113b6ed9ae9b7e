/* Suite `vf` as a ping target: with the word vf.ip=<a.b.c.d> on its command line, a guest
 * answers ARP requests for that address and ICMP echo requests to it on its VF
 * (guests/lib/net_echo.c checks every frame), so that another driver on the same wire (a
 * Linux guest's igbvf) can ping it. Once vf.echoes=<n> echo requests (default 100) were
 * answered it goes on answering until none has come for vf.quiet=<s> seconds (default 10:
 * the pinger may have more rounds, e.g. after reloading its driver), and it stops at
 * vf.seconds=<s> (default 60) in any case; then it reports
 *
 *   vf: vf-ping-answered   at least n echo requests answered in time, each reply sent
 *
 * with the line `vf ping: answered <n> echo requests and <k> ARP requests as <ip> ...`
 * and the frames not answered by reason. */
#include <moat/errno.h>
#include <moat/igbvf.h>
#include "guests/lib/guest.h"
#include "guests/lib/net_echo.h"
#include "guests/lib/vf_dev.h"

#define PING_DEFAULT_ECHOES 100
#define PING_DEFAULT_SECONDS 60
#define PING_DEFAULT_QUIET 10
#define PING_MAX_SECONDS 3600

static u8 rx_frame[IGBVF_BUF_SIZE], tx_frame[IGBVF_BUF_SIZE];

static struct {
	struct net_echo ne;
	char ip_text[16];
	u32 echoes, seconds, quiet;
	u32 rx_errors, tx_failed;
	int tx_err;
} ping;

bool vf_ping_configured(void)
{
	return guest_arg("vf.ip", ping.ip_text, sizeof(ping.ip_text));
}

/* A decimal word of the command line between 1 and max; def when absent. */
static bool arg_u32(const char *key, u32 def, u32 max, u32 *out)
{
	char text[12];
	u64 v = 0;

	*out = def;
	if (!guest_arg(key, text, sizeof(text)))
		return true;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (u64)(*p - '0');
		if (v > max)
			return false;
	}
	if (!text[0] || !v)
		return false;
	*out = (u32)v;
	return true;
}

static int send_reply(struct igbvf *drv, const u8 *f, unsigned len)
{
	u64 deadline = vf_now_us() + IGBVF_TX_TIMEOUT_US;
	int err;

	while ((err = igbvf_xmit(drv, f, (u16)(f[ETH_TYPE_OFF] << 8 | f[ETH_TYPE_OFF + 1]),
				 f + ETH_HLEN, len - ETH_HLEN)) == -EBUSY) {
		igbvf_tx_clean(drv);
		if (vf_now_us() > deadline)
			return -ETIMEDOUT;
	}
	return err;
}

/* Polls the VF: every frame gets its answer or is counted as not answered. */
static void answer_until(struct igbvf *drv, u64 deadline_us)
{
	u64 last_echo = vf_now_us(), quiet_us = (u64)ping.quiet * 1000000;

	while (vf_now_us() < deadline_us &&
	       (ping.ne.echo_answered < ping.echoes || vf_now_us() - last_echo < quiet_us)) {
		u32 answered = ping.ne.echo_answered;
		int len = igbvf_recv(drv, rx_frame, sizeof(rx_frame));
		enum net_drop why;
		unsigned n;
		int err;

		if (len < 0)
			ping.rx_errors++;
		if (len <= 0) {
			igbvf_tx_clean(drv);
			continue;
		}
		n = net_echo_answer(&ping.ne, rx_frame, (unsigned)len, tx_frame, sizeof(tx_frame),
				    &why);
		if (n && (err = send_reply(drv, tx_frame, n)) != 0) {
			ping.tx_failed++;
			ping.tx_err = err;
		}
		if (ping.ne.echo_answered != answered)
			last_echo = vf_now_us();
	}
}

static void print_drops(void)
{
	char list[NET_DROPS * 28] = "";
	unsigned n = 0;

	for (unsigned r = NET_ANSWERED + 1; r < NET_DROPS; r++)
		if (ping.ne.dropped[r] && n < sizeof(list))
			n += (unsigned)snprintf(list + n, sizeof(list) - n, " %s %u",
						net_drop_name((enum net_drop)r),
						ping.ne.dropped[r]);
	guest_printf("vf ping: frames not answered:%s\n", n ? list : " none");
}

static void test_ping_answered(struct igbvf *drv)
{
	const u8 *ip = ping.ne.ip;
	u64 t0;
	bool words;
	int err;

	test_begin("vf", "vf-ping-answered");
	if (!drv) {
		test_skip("VF queues not up (see vf-dma-tx)");
		test_end();
		return;
	}
	words = ipv4_parse(ping.ip_text, ping.ne.ip) &&
		arg_u32("vf.echoes", PING_DEFAULT_ECHOES, 1000000, &ping.echoes) &&
		arg_u32("vf.seconds", PING_DEFAULT_SECONDS, PING_MAX_SECONDS, &ping.seconds) &&
		arg_u32("vf.quiet", PING_DEFAULT_QUIET, PING_MAX_SECONDS, &ping.quiet);
	check(words,
	      "command line \"%s\": vf.ip=<a.b.c.d> [vf.echoes=<1..1000000>] "
	      "[vf.seconds=<1..%u>] [vf.quiet=<1..%u>]",
	      guest_cmdline_get(), PING_MAX_SECONDS, PING_MAX_SECONDS);
	if (!words) {
		test_end();
		return;
	}
	memcpy(ping.ne.mac, drv->mac, ETH_ALEN);
	ping.ne.next_id = (u16)guest_rdtsc();
	guest_printf("vf ping: answering ARP and ICMP echo as %u.%u.%u.%u: at least %u echo "
		     "requests, until %u s without one after them or %u s in all\n",
		     ip[0], ip[1], ip[2], ip[3], ping.echoes, ping.quiet, ping.seconds);
	t0 = vf_now_us();
	answer_until(drv, t0 + (u64)ping.seconds * 1000000);
	err = igbvf_tx_wait(drv); /* the last reply has left before the queues go down */
	guest_printf("vf ping: answered %u echo requests (the last id %#x seq %u) and %u ARP "
		     "requests as %u.%u.%u.%u in %llu ms\n",
		     ping.ne.echo_answered, ping.ne.last_echo_id, ping.ne.last_echo_seq,
		     ping.ne.arp_answered, ip[0], ip[1], ip[2], ip[3],
		     (unsigned long long)((vf_now_us() - t0) / 1000));
	print_drops();
	check(ping.ne.echo_answered >= ping.echoes, "%u of %u echo requests answered in %u s",
	      ping.ne.echo_answered, ping.echoes, ping.seconds);
	check(ping.ne.arp_answered > 0, "no ARP request for %u.%u.%u.%u answered", ip[0], ip[1],
	      ip[2], ip[3]);
	check(!ping.tx_failed, "%u replies not sent (%d): %s", ping.tx_failed, ping.tx_err,
	      drv->last_error);
	check(!ping.rx_errors, "%u receive errors", ping.rx_errors);
	check(err == 0, "the last reply not written back (%d): %s", err, drv->last_error);
	test_end();
}

void vf_ping_suite(void)
{
	struct igbvf *drv = vf_suite_open();

	test_ping_answered(drv);
	if (drv)
		igbvf_down(drv);
}
