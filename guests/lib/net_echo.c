/* ARP (RFC 826) and ICMP echo (RFC 792) answers for one IPv4 address. Every field the
 * answer depends on is checked before anything is built; what is not answered is counted
 * by reason. Fragments are not reassembled (dropped); IP options are accepted and not
 * echoed (RFC 1122 3.2.2.6 makes echoing Record Route / Timestamp a SHOULD). */
#include <moat/string.h>
#include "guests/lib/net_echo.h"

static const u8 eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const u8 ipv4_zero[IPV4_ALEN];

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

u16 inet_checksum(const u8 *p, unsigned len)
{
	u32 sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (u32)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

bool ipv4_parse(const char *s, u8 ip[IPV4_ALEN])
{
	for (unsigned i = 0; i < IPV4_ALEN; i++) {
		unsigned v = 0, digits = 0;

		if (i && *s++ != '.')
			return false;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits == 3 || (digits == 1 && v == 0))
				return false;
			v = v * 10 + (unsigned)(*s - '0');
		}
		if (!digits || v > 255)
			return false;
		ip[i] = (u8)v;
	}
	return *s == 0;
}

static bool mac_unicast(const u8 *mac)
{
	static const u8 zero[ETH_ALEN];

	return !(mac[0] & ETH_ADDR_GROUP) && memcmp(mac, zero, ETH_ALEN);
}

/* RFC 1122 3.2.1.3: a source that cannot be a host's own address is discarded. */
static bool ipv4_source_valid(const struct net_echo *ne, const u8 *ip)
{
	return memcmp(ip, ipv4_zero, IPV4_ALEN) && ip[0] != 127 && ip[0] < 224 &&
	       memcmp(ip, ne->ip, IPV4_ALEN);
}

static enum net_drop answer_arp(struct net_echo *ne, const u8 *f, unsigned len, u8 *r,
				unsigned size, unsigned *out)
{
	const u8 *a = f + ETH_HLEN;
	u8 *ra = r + ETH_HLEN;

	if (len < ETH_HLEN + ARP_LEN)
		return NET_DROP_SHORT;
	if (get16(a + ARP_HTYPE) != ARP_HTYPE_ETHERNET || get16(a + ARP_PTYPE) != ETHERTYPE_IPV4 ||
	    a[ARP_HLEN] != ETH_ALEN || a[ARP_PLEN] != IPV4_ALEN)
		return NET_DROP_ARP_FORMAT;
	if (get16(a + ARP_OPER) != ARP_OP_REQUEST)
		return NET_DROP_ARP_OP;
	if (!mac_unicast(a + ARP_SHA) || !memcmp(a + ARP_SHA, ne->mac, ETH_ALEN) ||
	    !ipv4_source_valid(ne, a + ARP_SPA))
		return NET_DROP_ARP_SENDER;
	if (memcmp(a + ARP_TPA, ne->ip, IPV4_ALEN))
		return NET_DROP_ARP_NOT_OURS;
	if (size < ETH_HLEN + ARP_LEN)
		return NET_DROP_REPLY_SIZE;
	/* RFC 826, "Packet Reception": swap the sender into the target fields, put our
	 * addresses in the sender fields, opcode reply, back to the requester. */
	memcpy(r, a + ARP_SHA, ETH_ALEN);
	memcpy(r + ETH_ALEN, ne->mac, ETH_ALEN);
	put16(r + ETH_TYPE_OFF, ETHERTYPE_ARP);
	memcpy(ra, a, ARP_OPER);
	put16(ra + ARP_OPER, ARP_OP_REPLY);
	memcpy(ra + ARP_SHA, ne->mac, ETH_ALEN);
	memcpy(ra + ARP_SPA, ne->ip, IPV4_ALEN);
	memcpy(ra + ARP_THA, a + ARP_SHA, ETH_ALEN);
	memcpy(ra + ARP_TPA, a + ARP_SPA, IPV4_ALEN);
	*out = ETH_HLEN + ARP_LEN;
	ne->arp_answered++;
	return NET_ANSWERED;
}

/* The IPv4 header of an echo request: whole, version 4, its checksum right, not a
 * fragment, to our address from a usable source, carrying ICMP. *hlen and *total are its
 * header and total lengths. */
static enum net_drop check_ipv4(const struct net_echo *ne, const u8 *ip, unsigned avail,
				unsigned *hlen, unsigned *total)
{
	u16 frag;

	if (avail < IPV4_HLEN_MIN)
		return NET_DROP_SHORT;
	if (FIELD_GET(IPV4_VERSION, ip[IPV4_VER_IHL]) != 4)
		return NET_DROP_IP_VERSION;
	*hlen = (unsigned)FIELD_GET(IPV4_IHL, ip[IPV4_VER_IHL]) * 4;
	*total = get16(ip + IPV4_TOTAL_LEN);
	if (*hlen < IPV4_HLEN_MIN || *hlen > *total)
		return NET_DROP_IP_HLEN;
	if (*total > avail)
		return NET_DROP_IP_LENGTH;
	if (inet_checksum(ip, *hlen))
		return NET_DROP_IP_CHECKSUM;
	frag = get16(ip + IPV4_FLAGS_FRAG);
	if (frag & IPV4_FLAG_RESERVED)
		return NET_DROP_IP_FLAGS;
	if ((frag & IPV4_FLAG_MF) || FIELD_GET(IPV4_FRAG_OFFSET, frag))
		return NET_DROP_IP_FRAGMENT;
	if (memcmp(ip + IPV4_DST, ne->ip, IPV4_ALEN))
		return NET_DROP_IP_NOT_OURS;
	if (!ipv4_source_valid(ne, ip + IPV4_SRC))
		return NET_DROP_IP_SOURCE;
	if (ip[IPV4_PROTOCOL] != IPV4_PROTO_ICMP)
		return NET_DROP_IP_PROTOCOL;
	return NET_ANSWERED;
}

static enum net_drop answer_echo(struct net_echo *ne, const u8 *f, unsigned len, u8 *r,
				 unsigned size, unsigned *out)
{
	const u8 *ip = f + ETH_HLEN, *icmp;
	u8 *rip = r + ETH_HLEN, *ricmp = rip + IPV4_HLEN_MIN;
	unsigned hlen, total, icmp_len;
	enum net_drop why;

	if (memcmp(f, ne->mac, ETH_ALEN))
		return NET_DROP_NOT_FOR_US; /* no broadcast or multicast echo */
	why = check_ipv4(ne, ip, len - ETH_HLEN, &hlen, &total);
	if (why != NET_ANSWERED)
		return why;
	icmp = ip + hlen;
	icmp_len = total - hlen;
	if (icmp_len < ICMP_ECHO_HLEN)
		return NET_DROP_ICMP_LENGTH;
	if (inet_checksum(icmp, icmp_len))
		return NET_DROP_ICMP_CHECKSUM;
	if (icmp[ICMP_TYPE] != ICMP_ECHO_REQUEST || icmp[ICMP_CODE] != 0)
		return NET_DROP_ICMP_TYPE;
	if (size < ETH_HLEN + IPV4_HLEN_MIN + icmp_len)
		return NET_DROP_REPLY_SIZE;

	memcpy(r, f + ETH_ALEN, ETH_ALEN);
	memcpy(r + ETH_ALEN, ne->mac, ETH_ALEN);
	put16(r + ETH_TYPE_OFF, ETHERTYPE_IPV4);
	/* RFC 792: the reply swaps the addresses and carries the request's identifier,
	 * sequence number and data; its type is 0 and its checksum covers the ICMP message. */
	memset(rip, 0, IPV4_HLEN_MIN);
	rip[IPV4_VER_IHL] = (u8)(FIELD_PREP(IPV4_VERSION, 4) | FIELD_PREP(IPV4_IHL, 5));
	rip[IPV4_TOS] = ip[IPV4_TOS];
	put16(rip + IPV4_TOTAL_LEN, (u16)(IPV4_HLEN_MIN + icmp_len));
	put16(rip + IPV4_ID, ne->next_id++);
	rip[IPV4_TTL] = IPV4_TTL_DEFAULT;
	rip[IPV4_PROTOCOL] = IPV4_PROTO_ICMP;
	memcpy(rip + IPV4_SRC, ne->ip, IPV4_ALEN);
	memcpy(rip + IPV4_DST, ip + IPV4_SRC, IPV4_ALEN);
	put16(rip + IPV4_CHECKSUM, inet_checksum(rip, IPV4_HLEN_MIN));
	memmove(ricmp, icmp, icmp_len);
	ricmp[ICMP_TYPE] = ICMP_ECHO_REPLY;
	put16(ricmp + ICMP_CHECKSUM, 0);
	put16(ricmp + ICMP_CHECKSUM, inet_checksum(ricmp, icmp_len));
	*out = ETH_HLEN + IPV4_HLEN_MIN + icmp_len;
	ne->echo_answered++;
	ne->last_echo_id = get16(icmp + ICMP_ECHO_ID);
	ne->last_echo_seq = get16(icmp + ICMP_ECHO_SEQ);
	return NET_ANSWERED;
}

unsigned net_echo_answer(struct net_echo *ne, const u8 *frame, unsigned len, u8 *reply,
			 unsigned size, enum net_drop *why)
{
	unsigned out = 0;
	u16 type;

	if (len < ETH_HLEN)
		*why = NET_DROP_SHORT;
	else if (memcmp(frame, ne->mac, ETH_ALEN) && memcmp(frame, eth_broadcast, ETH_ALEN))
		*why = NET_DROP_NOT_FOR_US;
	else if (!mac_unicast(frame + ETH_ALEN) || !memcmp(frame + ETH_ALEN, ne->mac, ETH_ALEN))
		*why = NET_DROP_SOURCE_MAC;
	else if ((type = get16(frame + ETH_TYPE_OFF)) == ETHERTYPE_ARP)
		*why = answer_arp(ne, frame, len, reply, size, &out);
	else if (type == ETHERTYPE_IPV4)
		*why = answer_echo(ne, frame, len, reply, size, &out);
	else
		*why = NET_DROP_ETHERTYPE;
	if (*why != NET_ANSWERED) {
		ne->dropped[*why]++;
		return 0;
	}
	return out;
}

const char *net_drop_name(enum net_drop why)
{
	static const char *const names[NET_DROPS] = {
		[NET_ANSWERED] = "answered",
		[NET_DROP_SHORT] = "short",
		[NET_DROP_NOT_FOR_US] = "not-for-us",
		[NET_DROP_SOURCE_MAC] = "source-mac",
		[NET_DROP_ETHERTYPE] = "ethertype",
		[NET_DROP_ARP_FORMAT] = "arp-format",
		[NET_DROP_ARP_OP] = "arp-op",
		[NET_DROP_ARP_SENDER] = "arp-sender",
		[NET_DROP_ARP_NOT_OURS] = "arp-not-ours",
		[NET_DROP_IP_VERSION] = "ip-version",
		[NET_DROP_IP_HLEN] = "ip-header-length",
		[NET_DROP_IP_LENGTH] = "ip-length",
		[NET_DROP_IP_CHECKSUM] = "ip-checksum",
		[NET_DROP_IP_FLAGS] = "ip-flags",
		[NET_DROP_IP_FRAGMENT] = "ip-fragment",
		[NET_DROP_IP_NOT_OURS] = "ip-not-ours",
		[NET_DROP_IP_SOURCE] = "ip-source",
		[NET_DROP_IP_PROTOCOL] = "ip-protocol",
		[NET_DROP_ICMP_LENGTH] = "icmp-length",
		[NET_DROP_ICMP_CHECKSUM] = "icmp-checksum",
		[NET_DROP_ICMP_TYPE] = "icmp-type",
		[NET_DROP_REPLY_SIZE] = "reply-size",
	};

	return (unsigned)why < NET_DROPS ? names[why] : "?";
}
