/*
 * pcap_decode.c - link layer -> VLAN -> IP -> transport, by hand.
 *
 * Every step checks the bytes it needs against `end` (pkt + caplen) before
 * it reads them; when they are missing, the step sets CEP_EV_TRUNCATED and
 * returns what it has.  Multi-byte fields are read with explicit byte loads
 * (no casts of the packet pointer), so alignment never matters and UBSan
 * has nothing to say.
 */
#include "collectors/pcap/pcap_decode.h"

#include <errno.h>
#include <string.h>

#include "ceptor/error.h"
#include "lib/bytes.h"

/* Link types by number, so the decoder does not depend on which DLT_*
 * macros the installed pcap headers define. */
#define LT_NULL 0
#define LT_EN10MB 1
#define LT_RAW_A 12
#define LT_RAW_B 14
#define LT_RAW 101
#define LT_LOOP 108
#define LT_LINUX_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_LINUX_SLL2 276

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_8021Q 0x8100
#define ETH_8021AD 0x88A8
#define ETH_QINQ_OLD1 0x9100
#define ETH_QINQ_OLD2 0x9200
#define ETH_TEB 0x6558 /* transparent Ethernet bridging: GRE carries a frame */

/* IP protocol and IPv6 next-header numbers. */
#define P_HOPOPTS 0
#define P_ICMP 1
#define P_IPIP 4
#define P_TCP 6
#define P_UDP 17
#define P_DCCP 33
#define P_IPV6 41
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_GRE 47
#define P_AH 51
#define P_ICMPV6 58
#define P_DSTOPTS 60
#define P_MOBILITY 135
#define P_SCTP 132
#define P_UDPLITE 136
#define P_HIP 139
#define P_SHIM6 140

/* Tunnels inside tunnels are decoded this deep; deeper ones keep the view
 * of the last level reached.  Each level consumes at least 20 bytes, so
 * the bound is about time on hostile input, not memory. */
#define TUNNEL_DEPTH_MAX 4

static int decode_ipv4(const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev, int depth);
static int decode_ipv6(const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev, int depth);

int cep_pcap_linktype_supported(int linktype)
{
	switch (linktype & CEP_PCAP_LINKTYPE_MASK) {
	case LT_NULL: case LT_EN10MB: case LT_RAW_A: case LT_RAW_B:
	case LT_RAW: case LT_LOOP: case LT_LINUX_SLL: case LT_IPV4:
	case LT_IPV6: case LT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

/* Ports, flags, ICMP type/code of the transport header at p. */
static void decode_l4(const uint8_t *p, const uint8_t *end,
		      struct cep_event *ev)
{
	size_t have = (size_t)(end - p);
	size_t need;

	switch (ev->proto) {
	case P_TCP:
		need = 20;
		break;
	case P_UDP: case P_UDPLITE:
		need = 8;
		break;
	case P_SCTP: case P_DCCP:
		need = 12;
		break;
	case P_ICMP: case P_ICMPV6:
		need = 4;
		if (have >= 2) {
			ev->icmp_type = p[0];
			ev->icmp_code = p[1];
		}
		if (have < need)
			ev->flags |= CEP_EV_TRUNCATED;
		return;
	default:
		return;
	}
	if (have >= 4) {
		ev->src_port = cep_be16(p);
		ev->dst_port = cep_be16(p + 2);
	}
	if (ev->proto == P_TCP && have >= 14)
		ev->tcp_flags = p[13];
	if (have < need)
		ev->flags |= CEP_EV_TRUNCATED;
}

/*
 * The IP packet at p, carried by a tunnel (IP-in-IP, IPv6-in-IPv4/IPv6,
 * GRE).  The event takes the inner addresses, protocol and ports, which are
 * what rules ask about, and CEP_PCAP_EV_TUNNEL.  When the inner header is
 * not all there, or is not the IP version the outer header announced, the
 * event keeps the outer view (truncated in the first case).
 */
static int decode_inner(const uint8_t *p, const uint8_t *end,
			struct cep_event *ev, int version, int depth)
{
	struct cep_event outer;
	size_t need = version == 4 ? 20 : 40;
	int rc;

	if (depth >= TUNNEL_DEPTH_MAX)
		return 0;
	if ((size_t)(end - p) < need) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	outer = *ev;
	memset(ev->src_ip, 0, sizeof ev->src_ip);
	memset(ev->dst_ip, 0, sizeof ev->dst_ip);
	ev->src_af = ev->dst_af = CEP_AF_NONE;
	ev->src_port = ev->dst_port = 0;
	ev->tcp_flags = ev->icmp_type = ev->icmp_code = 0;
	rc = version == 4 ? decode_ipv4(p, end, ev, depth + 1)
			  : decode_ipv6(p, end, ev, depth + 1);
	if (rc < 0) {
		*ev = outer;
		return 0;
	}
	ev->flags |= CEP_PCAP_EV_TUNNEL;
	return 0;
}

/*
 * GRE (RFC 2784, with RFC 2890's key and sequence number, and RFC 1701's
 * routing field): find the payload after the optional fields and decode it
 * when it is IPv4, IPv6 or an Ethernet frame (transparent bridging).
 * Other payloads (PPTP's enhanced GRE, ERSPAN, MPLS...) keep the outer view.
 */
static int decode_gre(const uint8_t *p, const uint8_t *end,
		      struct cep_event *ev, int depth)
{
	size_t have = (size_t)(end - p), len = 4;
	unsigned fl, type;

	if (have < 4) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	fl = cep_be16(p);
	type = cep_be16(p + 2);
	if ((fl & 0x0007) != 0)
		return 0; /* version 1 is PPTP: PPP inside, not decoded */
	if (fl & 0xC000) /* checksum or routing present: checksum + offset */
		len += 4;
	if (fl & 0x2000) /* key */
		len += 4;
	if (fl & 0x1000) /* sequence number */
		len += 4;
	if (fl & 0x4000) {
		/* Source route entries: af (2), offset (1), length (1), then
		 * length bytes; the list ends with an entry of length 0. */
		for (;;) {
			if (have < len + 4) {
				ev->flags |= CEP_EV_TRUNCATED;
				return 0;
			}
			unsigned srelen = p[len + 3];

			len += 4 + srelen;
			if (srelen == 0)
				break;
		}
	}
	if (have < len) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	p += len;
	if (type == ETH_IPV4)
		return decode_inner(p, end, ev, 4, depth);
	if (type == ETH_IPV6)
		return decode_inner(p, end, ev, 6, depth);
	if (type == ETH_TEB) {
		if (end - p < 14) {
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		type = cep_be16(p + 12);
		p += 14;
		/* Inner VLAN tags: the event keeps the outermost id. */
		while (type == ETH_8021Q || type == ETH_8021AD ||
		       type == ETH_QINQ_OLD1 || type == ETH_QINQ_OLD2) {
			if (end - p < 4) {
				ev->flags |= CEP_EV_TRUNCATED;
				return 0;
			}
			type = cep_be16(p + 2);
			p += 4;
		}
		if (type == ETH_IPV4)
			return decode_inner(p, end, ev, 4, depth);
		if (type == ETH_IPV6)
			return decode_inner(p, end, ev, 6, depth);
	}
	return 0;
}

/* What follows the IP header(s): a tunnel, or a transport header. */
static int decode_next(const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev, int depth)
{
	switch (ev->proto) {
	case P_IPIP:
		return decode_inner(p, end, ev, 4, depth);
	case P_IPV6:
		return decode_inner(p, end, ev, 6, depth);
	case P_GRE:
		return decode_gre(p, end, ev, depth);
	default:
		decode_l4(p, end, ev);
		return 0;
	}
}

static int decode_ipv4(const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev, int depth)
{
	size_t have = (size_t)(end - p);
	unsigned ihl, tot, frag;

	if (have < 1) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	if ((p[0] >> 4) != 4)
		return -CEP_EMALFORMED;
	ihl = (unsigned)(p[0] & 0x0f) * 4;
	if (ihl < 20)
		return -CEP_EMALFORMED;
	if (have >= 4) {
		/*
		 * 0 is what Linux captures show for a TSO/GSO super-packet
		 * whose length the NIC fills in later; like Wireshark, take the
		 * captured bytes then.  Nothing below reads tot: the walk is
		 * bounded by the capture, not by the header's claims.
		 */
		tot = cep_be16(p + 2);
		if (tot != 0 && tot < ihl)
			return -CEP_EMALFORMED;
	}
	if (have >= 10)
		ev->proto = p[9];
	if (have >= 16) {
		memcpy(ev->src_ip, p + 12, 4);
		ev->src_af = CEP_AF_INET;
	}
	if (have >= 20) {
		memcpy(ev->dst_ip, p + 16, 4);
		ev->dst_af = CEP_AF_INET;
	}
	if (have < ihl) {
		ev->flags |= CEP_EV_TRUNCATED;
		/* The fragment field sits in the fixed part; read it anyway. */
		if (have >= 8 && (cep_be16(p + 6) & 0x3fff))
			ev->flags |= CEP_EV_FRAGMENT;
		return 0;
	}
	frag = cep_be16(p + 6);
	if (frag & 0x3fff) { /* MF set, or a non-zero offset */
		ev->flags |= CEP_EV_FRAGMENT;
		if (frag & 0x1fff)
			return 0; /* not the first fragment: no transport header */
	}
	p += ihl;
	/* IPsec AH (RFC 4302) before the transport: its length is counted in
	 * 32-bit words minus 2, so each one is at least 8 bytes. */
	while (ev->proto == P_AH) {
		size_t len;

		if (end - p < 2) {
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		len = ((size_t)p[1] + 2) * 4;
		ev->proto = p[0];
		if ((size_t)(end - p) < len) {
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		p += len;
	}
	return decode_next(p, end, ev, depth);
}

static int decode_ipv6(const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev, int depth)
{
	size_t have = (size_t)(end - p);
	unsigned nh;

	if (have < 1) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	if ((p[0] >> 4) != 6)
		return -CEP_EMALFORMED;
	if (have >= 7)
		ev->proto = p[6];
	if (have >= 24) {
		memcpy(ev->src_ip, p + 8, 16);
		ev->src_af = CEP_AF_INET6;
	}
	if (have >= 40) {
		memcpy(ev->dst_ip, p + 24, 16);
		ev->dst_af = CEP_AF_INET6;
	}
	if (have < 40) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	nh = p[6];
	p += 40;
	/* Each extension header is at least 8 bytes long, so the walk ends. */
	for (;;) {
		size_t len;

		ev->proto = (uint8_t)nh;
		if (nh != P_HOPOPTS && nh != P_ROUTING && nh != P_DSTOPTS &&
		    nh != P_FRAGMENT && nh != P_AH && nh != P_MOBILITY &&
		    nh != P_HIP && nh != P_SHIM6)
			break; /* upper layer, ESP, no-next-header or unknown */
		have = (size_t)(end - p);
		if (have < 2) {
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		if (nh == P_FRAGMENT) {
			unsigned off;

			if (have < 8) {
				ev->flags |= CEP_EV_TRUNCATED;
				ev->proto = p[0];
				return 0;
			}
			off = cep_be16(p + 2);
			ev->flags |= CEP_EV_FRAGMENT;
			if (off & 0xfff8) { /* not the first fragment */
				ev->proto = p[0];
				return 0;
			}
			len = 8;
		} else if (nh == P_AH) {
			len = ((size_t)p[1] + 2) * 4;
		} else {
			len = ((size_t)p[1] + 1) * 8;
		}
		nh = p[0];
		if (have < len) {
			ev->proto = (uint8_t)nh;
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		p += len;
	}
	return decode_next(p, end, ev, depth);
}

/* Dispatch on an ethertype after any VLAN tags; non-IP decodes to nothing. */
static int decode_ethertype(unsigned type, const uint8_t *p,
			    const uint8_t *end, struct cep_event *ev)
{
	int vlan_seen = 0;

	while (type == ETH_8021Q || type == ETH_8021AD ||
	       type == ETH_QINQ_OLD1 || type == ETH_QINQ_OLD2) {
		if (end - p < 4) {
			ev->flags |= CEP_EV_TRUNCATED;
			return 0;
		}
		if (!vlan_seen) {
			ev->vlan = cep_be16(p) & 0x0fff;
			vlan_seen = 1;
		}
		type = cep_be16(p + 2);
		p += 4;
	}
	if (type == ETH_IPV4)
		return decode_ipv4(p, end, ev, 0);
	if (type == ETH_IPV6)
		return decode_ipv6(p, end, ev, 0);
	return 0;
}

/* IP version from the first nibble, for link types without a type field. */
static int decode_raw(const uint8_t *p, const uint8_t *end,
		      struct cep_event *ev, int want)
{
	int v;

	if (p >= end) {
		ev->flags |= CEP_EV_TRUNCATED;
		return 0;
	}
	v = p[0] >> 4;
	if (want && v != want)
		return -CEP_EMALFORMED;
	if (v == 4)
		return decode_ipv4(p, end, ev, 0);
	if (v == 6)
		return decode_ipv6(p, end, ev, 0);
	return -CEP_EMALFORMED;
}

/* BSD address families as they appear in DLT_NULL / DLT_LOOP headers. */
static int decode_null(uint32_t af, const uint8_t *p, const uint8_t *end,
		       struct cep_event *ev)
{
	switch (af) {
	case 2:
		return decode_ipv4(p, end, ev, 0);
	case 10: case 24: case 28: case 30:
		return decode_ipv6(p, end, ev, 0);
	default:
		return 0;
	}
}

int cep_pcap_decode(const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
		    int linktype, struct cep_event *ev)
{
	const uint8_t *end = pkt + caplen;
	uint32_t af;

	memset(ev, 0, sizeof(*ev));
	ev->kind = CEP_KIND_PACKET;
	ev->type = CEP_TYPE_TRAFFIC;
	ev->bytes = wirelen;
	ev->packets = 1;

	switch (linktype & CEP_PCAP_LINKTYPE_MASK) {
	case LT_EN10MB:
		if (caplen < 14)
			break;
		return decode_ethertype(cep_be16(pkt + 12), pkt + 14, end, ev);
	case LT_LINUX_SLL:
		if (caplen < 16)
			break;
		return decode_ethertype(cep_be16(pkt + 14), pkt + 16, end, ev);
	case LT_LINUX_SLL2:
		if (caplen < 20)
			break;
		return decode_ethertype(cep_be16(pkt), pkt + 20, end, ev);
	case LT_RAW_A: case LT_RAW_B: case LT_RAW:
		return decode_raw(pkt, end, ev, 0);
	case LT_IPV4:
		return decode_raw(pkt, end, ev, 4);
	case LT_IPV6:
		return decode_raw(pkt, end, ev, 6);
	case LT_NULL:
		if (caplen < 4)
			break;
		/* Host byte order of the writer: a family fits in 16 bits,
		 * so a value that does not was written the other way round. */
		af = cep_le32(pkt);
		if (af > 0xffff)
			af = __builtin_bswap32(af);
		return decode_null(af, pkt + 4, end, ev);
	case LT_LOOP:
		if (caplen < 4)
			break;
		af = __builtin_bswap32(cep_le32(pkt));
		return decode_null(af, pkt + 4, end, ev);
	default:
		return -EPROTONOSUPPORT;
	}
	ev->flags |= CEP_EV_TRUNCATED; /* the link header itself is cut */
	return 0;
}
