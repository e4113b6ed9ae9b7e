/* An ARP (RFC 826) and ICMP echo (RFC 792) responder for one IPv4 address on one Ethernet
 * interface: it looks at a received frame, validates every field it depends on, and builds
 * the answer. No state but its address and counters; no I/O (guests/lib/vf_ping.c drives
 * it with the VF, tests/unit/test_net_echo.c with captured and malformed frames). */
#ifndef GUESTS_LIB_NET_ECHO_H
#define GUESTS_LIB_NET_ECHO_H

#include <moat/bits.h>
#include <moat/igbvf.h>
#include <moat/types.h>

#define IPV4_ALEN 4

/* Ethernet II header: destination, source, type (big-endian) */
#define ETH_TYPE_OFF 12
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETH_ADDR_GROUP BIT(0) /* first octet: multicast or broadcast */

/* ARP for IPv4 over Ethernet (RFC 826), after the Ethernet header */
#define ARP_HTYPE 0 /* hardware type: 1 Ethernet */
#define ARP_HTYPE_ETHERNET 1
#define ARP_PTYPE 2 /* protocol type: the IPv4 ethertype */
#define ARP_HLEN 4  /* hardware address length: 6 */
#define ARP_PLEN 5  /* protocol address length: 4 */
#define ARP_OPER 6
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_SHA 8  /* sender hardware address */
#define ARP_SPA 14 /* sender protocol address */
#define ARP_THA 18 /* target hardware address */
#define ARP_TPA 24 /* target protocol address */
#define ARP_LEN 28

/* IPv4 header (RFC 791 3.1) */
#define IPV4_VER_IHL 0
#define IPV4_VERSION GENMASK(7, 4)
#define IPV4_IHL GENMASK(3, 0) /* header length in 32-bit words, 5..15 */
#define IPV4_TOS 1
#define IPV4_TOTAL_LEN 2
#define IPV4_ID 4
#define IPV4_FLAGS_FRAG 6
#define IPV4_FLAG_RESERVED BIT(15)
#define IPV4_FLAG_DF BIT(14)
#define IPV4_FLAG_MF BIT(13)
#define IPV4_FRAG_OFFSET GENMASK(12, 0)
#define IPV4_TTL 8
#define IPV4_PROTOCOL 9
#define IPV4_PROTO_ICMP 1
#define IPV4_CHECKSUM 10
#define IPV4_SRC 12
#define IPV4_DST 16
#define IPV4_HLEN_MIN 20
#define IPV4_TTL_DEFAULT 64 /* RFC 1700's recommended TTL, as Linux uses */

/* ICMP echo and echo reply (RFC 792) */
#define ICMP_TYPE 0
#define ICMP_CODE 1
#define ICMP_CHECKSUM 2
#define ICMP_ECHO_ID 4
#define ICMP_ECHO_SEQ 6
#define ICMP_ECHO_HLEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

/* Why a frame got no answer (counted per reason). */
enum net_drop {
	NET_ANSWERED,
	NET_DROP_SHORT,		/* shorter than its headers */
	NET_DROP_NOT_FOR_US,	/* Ethernet destination neither ours nor (for ARP) broadcast */
	NET_DROP_SOURCE_MAC,	/* Ethernet source multicast, zero or ours */
	NET_DROP_ETHERTYPE,	/* neither IPv4 nor ARP (VLAN tags, IPv6, ...) */
	NET_DROP_ARP_FORMAT,	/* not Ethernet / IPv4 with 6- and 4-byte addresses */
	NET_DROP_ARP_OP,	/* not a request */
	NET_DROP_ARP_SENDER,	/* sender hardware or protocol address unusable */
	NET_DROP_ARP_NOT_OURS,	/* asks for another address */
	NET_DROP_IP_VERSION,	/* not version 4 */
	NET_DROP_IP_HLEN,	/* header length below 20 bytes or past the total length */
	NET_DROP_IP_LENGTH,	/* total length past the frame */
	NET_DROP_IP_CHECKSUM,	/* header checksum wrong */
	NET_DROP_IP_FLAGS,	/* the reserved flag set */
	NET_DROP_IP_FRAGMENT,	/* a fragment (MF or an offset): not reassembled */
	NET_DROP_IP_NOT_OURS,	/* destination another address (broadcast included) */
	NET_DROP_IP_SOURCE,	/* source 0, broadcast, multicast, loopback, class E or ours */
	NET_DROP_IP_PROTOCOL,	/* not ICMP */
	NET_DROP_ICMP_LENGTH,	/* shorter than an echo header */
	NET_DROP_ICMP_CHECKSUM, /* ICMP checksum wrong */
	NET_DROP_ICMP_TYPE,	/* not an echo request with code 0 */
	NET_DROP_REPLY_SIZE,	/* the caller's reply buffer is too small */
	NET_DROPS
};

struct net_echo {
	u8 mac[ETH_ALEN];
	u8 ip[IPV4_ALEN];
	u16 next_id; /* IPv4 identification of the next echo reply */
	u32 arp_answered, echo_answered;
	u32 dropped[NET_DROPS];
	u16 last_echo_id, last_echo_seq; /* of the last echo request answered */
};

/* The Internet checksum (RFC 1071): the one's complement of the one's complement sum of
 * the 16-bit big-endian words of p (an odd last byte padded with zero). Over data that
 * holds a correct checksum it is 0. */
u16 inet_checksum(const u8 *p, unsigned len);

/* "a.b.c.d" (decimal, 0..255 each, no leading zeros beyond a lone 0) -> ip. */
bool ipv4_parse(const char *s, u8 ip[IPV4_ALEN]);

/* The answer to frame (len bytes as received: padding and a trailing FCS may follow the
 * packet) in reply: an ARP reply or an ICMP echo reply, a whole Ethernet frame without
 * padding or FCS. Returns its length, or 0 with the reason in *why (counted in
 * ne->dropped). */
unsigned net_echo_answer(struct net_echo *ne, const u8 *frame, unsigned len, u8 *reply,
			 unsigned size, enum net_drop *why);

/* A short name of a drop reason for diagnostics. */
const char *net_drop_name(enum net_drop why);

#endif
