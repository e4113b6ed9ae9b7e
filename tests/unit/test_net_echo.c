/* The ARP / ICMP echo responder of moat's test guests (guests/lib/net_echo.c) against
 * frames it did not build: ARP and ICMP echo frames captured from Linux (kernel 6.18,
 * busybox 1.35 `ping -s 56 / 0 / 1 / 1400` between two veth interfaces, 52:54:00:12:56:10
 * = 10.16.0.2 asking 52:54:00:12:56:11 = 10.16.0.3, read with an AF_PACKET socket) with
 * Linux's own answers to them, the RFC 1071 example, and those frames broken one field at
 * a time. The responder plays 10.16.0.3 with Linux's MAC, so its answers must be Linux's
 * byte for byte (the IPv4 identification set to Linux's: every other field is
 * determined). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guests/lib/net_echo.h"

/* Linux's ARP request: who has 10.16.0.3, tell 10.16.0.2 */
static const char arp_request[] =
	"ffffffffffff525400125610080600010800060400015254001256100a1000020000000000000a10"
	"0003";
/* and the answer of the Linux that has it */
static const char arp_reply_linux[] =
	"525400125610525400125611080600010800060400025254001256110a1000035254001256100a10"
	"0002";
/* ping -s 56: echo request id 0x34c8 seq 0 (DF set), and Linux's reply */
static const char echo56[] =
	"525400125611525400125610080045000054fef740004001278d0a1000020a100003080036f534c8"
	"0000d343b8fe00000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000";
static const char echo56_reply_linux[] =
	"52540012561052540012561108004500005428b8000040013dcd0a1000030a10000200003ef534c8"
	"0000d343b8fe00000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000";
/* ping -s 0: the shortest echo (a 42-byte frame, padded to 60 on the wire) */
static const char echo0[] =
	"52540012561152540012561008004500001c02964000400124270a1000020a1000030800c21b35e4"
	"0000";
static const char echo0_reply_linux[] =
	"52540012561052540012561108004500001c2d7e00004001393f0a1000030a1000020000ca1b35e4"
	"0000";
/* ping -s 1: an odd ICMP length (RFC 1071: the last byte padded with zero) */
static const char echo1[] =
	"52540012561152540012561008004500001d02c74000400123f50a1000020a10000308009be74118"
	"00001b";
static const char echo1_reply_linux[] =
	"52540012561052540012561108004500001ded0c0000400179af0a1000030a1000020000a3e74118"
	"00001b";
/* ping -s 1400: a 1442-byte frame; the captured frames continue with zeros to 1442 bytes */
static const char echo1400_head[] =
	"525400125611525400125610080045000594035d400040011de80a1000020a1000030800dc694161"
	"0000af302b0400000000";
static const char echo1400_reply_linux_head[] =
	"525400125610525400125611080045000594eeda00004001726a0a1000030a1000020000e4694161"
	"0000af302b0400000000";

static const u8 linux_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x56, 0x11};
static const u8 linux_ip[IPV4_ALEN] = {10, 16, 0, 3};
static struct net_echo ne;
static u8 in[2048], out[2048], want[2048];

static unsigned unhex(const char *hex, u8 *buf)
{
	unsigned n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		buf[n++] = (u8)v;
	}
	return n;
}

/* The captured head of a frame whose remaining bytes (to len) are zero. */
static unsigned unhex_zero_filled(const char *hex, u8 *buf, unsigned len)
{
	unsigned n = unhex(hex, buf);

	memset(buf + n, 0, len - n);
	return len;
}

/* The Internet checksum written independently of the one under test: 32-bit sum of
 * little steps, folded at the end. */
static u16 ref_checksum(const u8 *p, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (u16)~sum;
}

/* Rewrites the IPv4 header checksum of the frame in `in` after a field was changed, so
 * that only the field under test is wrong. */
static void fix_ip_checksum(void)
{
	unsigned hlen = (in[ETH_HLEN] & 0xf) * 4;
	u16 c;

	in[ETH_HLEN + IPV4_CHECKSUM] = in[ETH_HLEN + IPV4_CHECKSUM + 1] = 0;
	c = ref_checksum(in + ETH_HLEN, hlen);
	in[ETH_HLEN + IPV4_CHECKSUM] = (u8)(c >> 8);
	in[ETH_HLEN + IPV4_CHECKSUM + 1] = (u8)c;
}

static void fix_icmp_checksum(unsigned hlen, unsigned icmp_len)
{
	u8 *icmp = in + ETH_HLEN + hlen;
	u16 c;

	icmp[ICMP_CHECKSUM] = icmp[ICMP_CHECKSUM + 1] = 0;
	c = ref_checksum(icmp, icmp_len);
	icmp[ICMP_CHECKSUM] = (u8)(c >> 8);
	icmp[ICMP_CHECKSUM + 1] = (u8)c;
}

static int setup(void **state)
{
	memset(&ne, 0, sizeof(ne));
	memcpy(ne.mac, linux_mac, ETH_ALEN);
	memcpy(ne.ip, linux_ip, IPV4_ALEN);
	return 0;
}

static unsigned answer(unsigned len, enum net_drop *why)
{
	memset(out, 0xcc, sizeof(out));
	return net_echo_answer(&ne, in, len, out, sizeof(out), why);
}

static void expect_drop(unsigned len, enum net_drop reason)
{
	enum net_drop why = NET_ANSWERED;
	u32 before = ne.dropped[reason];

	assert_int_equal(answer(len, &why), 0);
	if (why != reason)
		fail_msg("dropped as %s, expected %s", net_drop_name(why), net_drop_name(reason));
	assert_int_equal(ne.dropped[reason], before + 1);
	assert_int_equal(out[0], 0xcc); /* nothing written */
}

/* RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement), so
 * the checksum is 220d; with it appended the data checks to zero. */
static void test_checksum_rfc1071(void **state)
{
	u8 d[10] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
	u8 odd[3] = {0xab, 0xcd, 0x12};

	assert_int_equal(inet_checksum(d, 8), 0x220d);
	assert_int_equal(inet_checksum(d, 10), 0);
	assert_int_equal(ref_checksum(d, 8), 0x220d);
	/* an odd length: the last byte is the high half of a word padded with zero */
	assert_int_equal(inet_checksum(odd, 3), (u16) ~(0xabcd + 0x1200));
	assert_int_equal(inet_checksum(odd, 0), 0xffff);
}

/* Every checksum Linux wrote checks to zero. */
static void test_checksum_linux_frames(void **state)
{
	const char *const frames[] = {echo56, echo56_reply_linux, echo0, echo0_reply_linux,
				      echo1,  echo1_reply_linux};

	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		unsigned n = unhex(frames[i], in);

		assert_int_equal(inet_checksum(in + ETH_HLEN, IPV4_HLEN_MIN), 0);
		assert_int_equal(
			inet_checksum(in + ETH_HLEN + IPV4_HLEN_MIN, n - ETH_HLEN - IPV4_HLEN_MIN),
			0);
	}
	unhex_zero_filled(echo1400_head, in, 1442);
	assert_int_equal(inet_checksum(in + ETH_HLEN + IPV4_HLEN_MIN, 1442 - 34), 0);
}

static void test_ipv4_parse(void **state)
{
	static const char *const bad[] = {"",	       "1.2.3",	    "1.2.3.4.5",  "256.1.1.1",
					  "1.2.3.256", "01.2.3.4",  "1..2.3",	  "1.2.3.4 ",
					  " 1.2.3.4",  "a.b.c.d",   "1234.1.1.1", "1.2.3.",
					  "1.2.3.-4",  "1.2.3.4/24"};
	u8 ip[IPV4_ALEN];

	assert_true(ipv4_parse("10.16.0.3", ip));
	assert_memory_equal(ip, linux_ip, IPV4_ALEN);
	assert_true(ipv4_parse("0.0.0.0", ip));
	assert_true(ipv4_parse("255.255.255.255", ip));
	assert_int_equal(ip[3], 255);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipv4_parse(bad[i], ip))
			fail_msg("\"%s\" parsed as an address", bad[i]);
}

static void test_arp_request_answered_as_linux(void **state)
{
	enum net_drop why;
	unsigned n = unhex(arp_request, in), w = unhex(arp_reply_linux, want);

	assert_int_equal(answer(n, &why), w);
	assert_int_equal(why, NET_ANSWERED);
	assert_memory_equal(out, want, w);
	assert_int_equal(ne.arp_answered, 1);
	/* padded to 60 bytes with a 4-byte FCS, as the NIC may hand it over */
	memset(in + n, 0, 64 - n);
	assert_int_equal(answer(64, &why), w);
	assert_memory_equal(out, want, w);
}

/* One echo request, answered exactly as Linux answered it. */
static void expect_echo_as_linux(const char *req, const char *reply, unsigned len,
				 unsigned wire_len)
{
	enum net_drop why;
	unsigned n = len ? unhex_zero_filled(req, in, len) : unhex(req, in);
	unsigned w = len ? unhex_zero_filled(reply, want, len) : unhex(reply, want);
	u32 answered = ne.echo_answered;

	memset(in + n, 0, wire_len > n ? wire_len - n : 0); /* padding and FCS */
	ne.next_id = (u16)(want[ETH_HLEN + IPV4_ID] << 8 | want[ETH_HLEN + IPV4_ID + 1]);
	assert_int_equal(answer(wire_len > n ? wire_len : n, &why), w);
	if (why != NET_ANSWERED)
		fail_msg("dropped as %s", net_drop_name(why));
	assert_memory_equal(out, want, w);
	assert_int_equal(ne.echo_answered, answered + 1);
	assert_int_equal(ne.last_echo_id, in[ETH_HLEN + 24] << 8 | in[ETH_HLEN + 25]);
	assert_int_equal(ne.last_echo_seq, in[ETH_HLEN + 26] << 8 | in[ETH_HLEN + 27]);
}

static void test_echo_answered_as_linux(void **state)
{
	expect_echo_as_linux(echo56, echo56_reply_linux, 0, 0);
	expect_echo_as_linux(echo56, echo56_reply_linux, 0, 98 + 4);
	expect_echo_as_linux(echo0, echo0_reply_linux, 0, 64);
	expect_echo_as_linux(echo1, echo1_reply_linux, 0, 64);
	expect_echo_as_linux(echo1400_head, echo1400_reply_linux_head, 1442, 1442 + 4);
	assert_int_equal(ne.echo_answered, 5);
}

/* IP options (4 bytes: NOP NOP NOP EOL) are skipped; the reply has none. */
static void test_echo_with_options(void **state)
{
	enum net_drop why;
	unsigned n = unhex(echo56, in), w = unhex(echo56_reply_linux, want);

	memmove(in + ETH_HLEN + 24, in + ETH_HLEN + 20, n - ETH_HLEN - 20);
	memcpy(in + ETH_HLEN + 20, "\x01\x01\x01\x00", 4);
	in[ETH_HLEN] = 0x46;
	in[ETH_HLEN + IPV4_TOTAL_LEN + 1] += 4;
	fix_ip_checksum();
	ne.next_id = 0x28b8;
	assert_int_equal(answer(n + 4, &why), w);
	assert_int_equal(why, NET_ANSWERED);
	assert_memory_equal(out, want, w);
}

static void test_ethernet_malformed(void **state)
{
	unsigned n = unhex(echo56, in);

	expect_drop(0, NET_DROP_SHORT);
	expect_drop(ETH_HLEN - 1, NET_DROP_SHORT);
	in[5] ^= 1; /* another station's MAC */
	expect_drop(n, NET_DROP_NOT_FOR_US);
	memset(in, 0xff, ETH_ALEN); /* an echo to broadcast is not answered */
	expect_drop(n, NET_DROP_NOT_FOR_US);
	n = unhex(echo56, in);
	in[ETH_ALEN] |= 1; /* multicast source */
	expect_drop(n, NET_DROP_SOURCE_MAC);
	memset(in + ETH_ALEN, 0, ETH_ALEN);
	expect_drop(n, NET_DROP_SOURCE_MAC);
	memcpy(in + ETH_ALEN, linux_mac, ETH_ALEN); /* our own frame back */
	expect_drop(n, NET_DROP_SOURCE_MAC);
	n = unhex(echo56, in);
	in[12] = 0x81; /* an 802.1Q tag */
	in[13] = 0x00;
	expect_drop(n, NET_DROP_ETHERTYPE);
	in[12] = 0x86; /* IPv6 */
	in[13] = 0xdd;
	expect_drop(n, NET_DROP_ETHERTYPE);
}

static void test_arp_malformed(void **state)
{
	unsigned n = unhex(arp_request, in);
	u8 *a = in + ETH_HLEN;

	expect_drop(n - 1, NET_DROP_SHORT);
	expect_drop(ETH_HLEN, NET_DROP_SHORT);
	a[ARP_HTYPE + 1] = 6; /* IEEE 802 */
	expect_drop(n, NET_DROP_ARP_FORMAT);
	n = unhex(arp_request, in);
	a[ARP_PTYPE] = 0x86;
	a[ARP_PTYPE + 1] = 0xdd;
	expect_drop(n, NET_DROP_ARP_FORMAT);
	n = unhex(arp_request, in);
	a[ARP_HLEN] = 8;
	expect_drop(n, NET_DROP_ARP_FORMAT);
	n = unhex(arp_request, in);
	a[ARP_PLEN] = 16;
	expect_drop(n, NET_DROP_ARP_FORMAT);
	/* Linux's reply, sent to us: replies are not answered */
	n = unhex(arp_reply_linux, in);
	memcpy(in, linux_mac, ETH_ALEN);
	memcpy(in + ETH_ALEN, "\x52\x54\x00\x12\x56\x10", ETH_ALEN);
	expect_drop(n, NET_DROP_ARP_OP);
	n = unhex(arp_request, in);
	a[ARP_OPER + 1] = 3; /* RARP request */
	expect_drop(n, NET_DROP_ARP_OP);
	n = unhex(arp_request, in);
	a[ARP_SHA] |= 1; /* multicast sender */
	expect_drop(n, NET_DROP_ARP_SENDER);
	n = unhex(arp_request, in);
	memcpy(a + ARP_SHA, linux_mac, ETH_ALEN);
	expect_drop(n, NET_DROP_ARP_SENDER);
	n = unhex(arp_request, in);
	memset(a + ARP_SPA, 0, IPV4_ALEN); /* a probe (RFC 5227): not answered */
	expect_drop(n, NET_DROP_ARP_SENDER);
	memset(a + ARP_SPA, 0xff, IPV4_ALEN);
	expect_drop(n, NET_DROP_ARP_SENDER);
	memcpy(a + ARP_SPA, linux_ip, IPV4_ALEN); /* someone claims our address */
	expect_drop(n, NET_DROP_ARP_SENDER);
	n = unhex(arp_request, in);
	a[ARP_TPA + 3] = 4;
	expect_drop(n, NET_DROP_ARP_NOT_OURS);
	assert_int_equal(ne.arp_answered, 0);
}

static void test_ipv4_malformed(void **state)
{
	unsigned n = unhex(echo56, in);
	u8 *ip = in + ETH_HLEN;

	expect_drop(ETH_HLEN + IPV4_HLEN_MIN - 1, NET_DROP_SHORT);
	ip[IPV4_VER_IHL] = 0x65;
	expect_drop(n, NET_DROP_IP_VERSION);
	ip[IPV4_VER_IHL] = 0x44; /* header shorter than 20 bytes */
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_HLEN);
	n = unhex(echo56, in);
	ip[IPV4_TOTAL_LEN + 1] = 40; /* 60-byte header in a 40-byte datagram */
	ip[IPV4_VER_IHL] = 0x4f;
	expect_drop(n, NET_DROP_IP_HLEN);
	n = unhex(echo56, in);
	ip[IPV4_TOTAL_LEN + 1] = 19;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_HLEN);
	n = unhex(echo56, in);
	expect_drop(n - 1, NET_DROP_IP_LENGTH); /* truncated */
	ip[IPV4_TOTAL_LEN] = 0xff;
	ip[IPV4_TOTAL_LEN + 1] = 0xff;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_LENGTH);
	n = unhex(echo56, in);
	ip[IPV4_CHECKSUM + 1] ^= 0x40;
	expect_drop(n, NET_DROP_IP_CHECKSUM);
	n = unhex(echo56, in);
	ip[IPV4_TTL] = 1; /* any other header byte changed, checksum not */
	expect_drop(n, NET_DROP_IP_CHECKSUM);
	n = unhex(echo56, in);
	ip[IPV4_FLAGS_FRAG] = 0x80; /* the reserved flag */
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_FLAGS);
	ip[IPV4_FLAGS_FRAG] = 0x20; /* more fragments: the first fragment */
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_FRAGMENT);
	ip[IPV4_FLAGS_FRAG] = 0x00; /* the last fragment, offset 8 bytes */
	ip[IPV4_FLAGS_FRAG + 1] = 0x01;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_FRAGMENT);
	n = unhex(echo56, in);
	ip[IPV4_DST + 3] = 4;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_NOT_OURS);
	memset(ip + IPV4_DST, 0xff, IPV4_ALEN); /* to broadcast, at our MAC */
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_NOT_OURS);
	static const u8 bad_src[][IPV4_ALEN] = {{0, 0, 0, 0},	      {127, 0, 0, 1},
						{224, 0, 0, 1},	      {240, 0, 0, 1},
						{255, 255, 255, 255}, {10, 16, 0, 3}};
	for (unsigned i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		n = unhex(echo56, in);
		memcpy(ip + IPV4_SRC, bad_src[i], IPV4_ALEN);
		fix_ip_checksum();
		expect_drop(n, NET_DROP_IP_SOURCE);
	}
	n = unhex(echo56, in);
	ip[IPV4_PROTOCOL] = 17;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_IP_PROTOCOL);
	assert_int_equal(ne.echo_answered, 0);
}

static void test_icmp_malformed(void **state)
{
	unsigned n = unhex(echo56, in);
	u8 *ip = in + ETH_HLEN, *icmp = ip + IPV4_HLEN_MIN;

	icmp[ICMP_CHECKSUM + 1] ^= 1;
	expect_drop(n, NET_DROP_ICMP_CHECKSUM);
	n = unhex(echo56, in);
	icmp[40] = 0x5a; /* the data changed, checksum not */
	expect_drop(n, NET_DROP_ICMP_CHECKSUM);
	n = unhex(echo56, in);
	icmp[ICMP_TYPE] = ICMP_ECHO_REPLY; /* a reply is not answered */
	fix_icmp_checksum(IPV4_HLEN_MIN, n - ETH_HLEN - IPV4_HLEN_MIN);
	expect_drop(n, NET_DROP_ICMP_TYPE);
	icmp[ICMP_TYPE] = 13; /* timestamp */
	fix_icmp_checksum(IPV4_HLEN_MIN, n - ETH_HLEN - IPV4_HLEN_MIN);
	expect_drop(n, NET_DROP_ICMP_TYPE);
	icmp[ICMP_TYPE] = ICMP_ECHO_REQUEST;
	icmp[ICMP_CODE] = 1;
	fix_icmp_checksum(IPV4_HLEN_MIN, n - ETH_HLEN - IPV4_HLEN_MIN);
	expect_drop(n, NET_DROP_ICMP_TYPE);
	/* 7 bytes of ICMP: shorter than an echo header */
	n = unhex(echo0, in);
	ip[IPV4_TOTAL_LEN + 1] = IPV4_HLEN_MIN + 7;
	fix_ip_checksum();
	expect_drop(n, NET_DROP_ICMP_LENGTH);
	/* a reply that does not fit the caller's buffer */
	n = unhex(echo56, in);
	{
		enum net_drop why;

		assert_int_equal(net_echo_answer(&ne, in, n, out, n - 1, &why), 0);
		assert_int_equal(why, NET_DROP_REPLY_SIZE);
	}
	assert_int_equal(ne.echo_answered, 0);
}

/* Every truncation of every captured frame is dropped, never answered from bytes past
 * its end; the whole frame is answered. */
static void test_every_truncation(void **state)
{
	const char *const frames[] = {arp_request, echo56, echo0, echo1};

	for (unsigned f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
		unsigned n = unhex(frames[f], in);
		enum net_drop why;

		for (unsigned len = 0; len < n; len++) {
			u8 *copy = malloc(len ? len : 1); /* ASan sees any read past len */

			memcpy(copy, in, len);
			assert_int_equal(net_echo_answer(&ne, copy, len, out, sizeof(out), &why),
					 0);
			assert_int_not_equal(why, NET_ANSWERED);
			free(copy);
		}
		assert_int_not_equal(net_echo_answer(&ne, in, n, out, sizeof(out), &why), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_checksum_linux_frames),
		cmocka_unit_test(test_ipv4_parse),
		cmocka_unit_test_setup(test_arp_request_answered_as_linux, setup),
		cmocka_unit_test_setup(test_echo_answered_as_linux, setup),
		cmocka_unit_test_setup(test_echo_with_options, setup),
		cmocka_unit_test_setup(test_ethernet_malformed, setup),
		cmocka_unit_test_setup(test_arp_malformed, setup),
		cmocka_unit_test_setup(test_ipv4_malformed, setup),
		cmocka_unit_test_setup(test_icmp_malformed, setup),
		cmocka_unit_test_setup(test_every_truncation, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
