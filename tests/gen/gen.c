/*
 * ceptor-gen - deterministic test captures.
 *
 *   ceptor-gen scan OUT.pcap [--src IP] [--dst IP] [--ports N]
 *                            [--start-port P] [--noise N] [--seed S]
 *   ceptor-gen mix OUT.pcap --packets N [--seed S]
 *   (scan and mix also take --time-offset SECONDS: added to every time)
 *   ceptor-gen linktypes DIR
 *
 * Every byte of the output is a function of the arguments: a seeded
 * splitmix64 PRNG picks sizes, hosts and orders, and timestamps start at
 * 2023-11-14T22:13:20Z and advance by PRNG-drawn gaps, never by the clock.
 * Files are written with libpcap's pcap_dump (microsecond pcap).
 *
 * scan:  a TCP SYN scan from --src (default 192.0.2.66) to --ports distinct
 *        ports (default 100, from --start-port, default 1, in shuffled
 *        order) of --dst (default 198.51.100.10), interleaved with --noise
 *        (default 200) ordinary packets among 10.0.0.0/24 hosts, each source
 *        of which only talks to ports 53, 80 and 443.
 * mix:   TCP 80 %, UDP 15 %, ICMP 5 %; IPv4 85 %, IPv6 15 %; 10 % 802.1Q
 *        tagged; frame sizes bimodal between 60 and 1514 bytes, mean about
 *        586 bytes.  What the benchmarks read.
 * linktypes: one small capture per encapsulation the decoder knows, with
 *        exactly the packets listed in linktypes() below; tests/unit/
 *        test_pcap.c checks the decoded fields against that list.  Among
 *        them tunnels.pcap (IPIP, 6in4, 6in6, 4in6, GRE with options and
 *        Ethernet inside, AH), fcs.pcap (a link-type field with FCS bits,
 *        written by hand since libpcap's writer cannot), and pcapng files
 *        written by hand in both byte orders with several sections and
 *        interfaces (multi-le/multi-be.pcapng, badif.pcapng).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/gen/gen.h"

#define BASE_SEC 1700000000
#define MAXPKT 2048

/* --- PRNG ------------------------------------------------------------------ */

static uint64_t rng_state;
/* --time-offset: seconds added to every time stamp of scan and mix. */
static uint64_t time_offset;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* --- writer ---------------------------------------------------------------- */

struct writer {
	pcap_t *dead;
	pcap_dumper_t *d;
	const char *path;
	uint64_t ts_us; /* microseconds since BASE_SEC */
	unsigned count;
};

static int writer_open(struct writer *w, const char *path, int linktype,
		       int snaplen)
{
	memset(w, 0, sizeof *w);
	w->path = path;
	w->dead = pcap_open_dead(linktype, snaplen);
	if (!w->dead) {
		fprintf(stderr, "ceptor-gen: pcap_open_dead failed\n");
		return -1;
	}
	w->d = pcap_dump_open(w->dead, path);
	if (!w->d) {
		fprintf(stderr, "ceptor-gen: %s: %s\n", path,
			pcap_geterr(w->dead));
		pcap_close(w->dead);
		return -1;
	}
	return 0;
}

static void writer_put(struct writer *w, const uint8_t *pkt, uint32_t caplen,
		       uint32_t wirelen, unsigned gap_us)
{
	struct pcap_pkthdr h;

	w->ts_us += gap_us;
	h.ts.tv_sec = (time_t)(BASE_SEC + time_offset + w->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(w->ts_us % 1000000);
	h.caplen = caplen;
	h.len = wirelen;
	pcap_dump((u_char *)w->d, &h, pkt);
	w->count++;
}

static int writer_close(struct writer *w, const char *what)
{
	int rc = pcap_dump_flush(w->d);

	pcap_dump_close(w->d);
	pcap_close(w->dead);
	if (rc != 0) {
		fprintf(stderr, "ceptor-gen: %s: write failed\n", w->path);
		return -1;
	}
	fprintf(stderr, "ceptor-gen: wrote %s: %u packets (%s)\n", w->path,
		w->count, what);
	return 0;
}

/* --- packet building -------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t eth(uint8_t *p, unsigned ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, ethertype);
	return 14;
}

/* A VLAN tag: TPID already written by the caller as the previous type. */
static size_t vlan(uint8_t *p, unsigned vid, unsigned next_type)
{
	put16(p, vid & 0x0fff);
	put16(p + 2, next_type);
	return 4;
}

static void ip4_checksum(uint8_t *ip, size_t ihl)
{
	uint32_t sum = 0;

	ip[10] = ip[11] = 0;
	for (size_t i = 0; i < ihl; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
}

/* IPv4 header with @optwords 32-bit words of NOP options. */
static size_t ip4(uint8_t *p, const char *src, const char *dst, int proto,
		  size_t total, unsigned frag, unsigned optwords)
{
	size_t ihl = 20 + 4 * (size_t)optwords;

	memset(p, 0, ihl);
	p[0] = (uint8_t)(0x40 | (ihl / 4));
	put16(p + 2, (unsigned)total);
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	memset(p + 20, 1, ihl - 20); /* NOP options */
	ip4_checksum(p, ihl);
	return ihl;
}

static size_t ip6(uint8_t *p, const char *src, const char *dst, int nh,
		  size_t payload)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (unsigned)payload);
	p[6] = (uint8_t)nh;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	return 40;
}

static size_t tcp(uint8_t *p, unsigned sport, unsigned dport, unsigned flags)
{
	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = 5 << 4;
	p[13] = (uint8_t)flags;
	put16(p + 14, 64240);
	return 20;
}

static size_t udp(uint8_t *p, unsigned sport, unsigned dport, size_t len)
{
	memset(p, 0, 8);
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, (unsigned)len);
	return 8;
}

static size_t icmp(uint8_t *p, unsigned type, unsigned code)
{
	memset(p, 0, 8);
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)code;
	return 8;
}

/* Transport header for proto with @payload zero bytes after it. */
static size_t l4(uint8_t *p, int proto, unsigned sport, unsigned dport,
		 unsigned flags_or_type, unsigned code, size_t payload)
{
	size_t n;

	if (proto == 6)
		n = tcp(p, sport, dport, flags_or_type);
	else if (proto == 17)
		n = udp(p, sport, dport, 8 + payload);
	else
		n = icmp(p, flags_or_type, code);
	memset(p + n, 0, payload);
	return n + payload;
}

static size_t l4_hdr_len(int proto)
{
	return proto == 6 ? 20 : 8;
}

/*
 * A whole IP packet (v4 or v6 by the address text) of transport @proto
 * with @payload bytes of payload.  Returns its length.
 */
static size_t ip_pkt(uint8_t *p, const char *src, const char *dst, int proto,
		     unsigned sport, unsigned dport, unsigned flags_or_type,
		     unsigned code, size_t payload)
{
	size_t l4len = l4_hdr_len(proto) + payload;

	if (strchr(src, ':')) {
		int nh = proto == 1 ? 58 : proto;
		size_t h = ip6(p, src, dst, nh, l4len);

		return h + l4(p + h, nh, sport, dport, flags_or_type, code,
			      payload);
	}
	size_t h = ip4(p, src, dst, proto, 20 + l4len, 0, 0);
	return h + l4(p + h, proto, sport, dport, flags_or_type, code,
		      payload);
}

/* Pad an Ethernet frame to its 60-byte minimum. */
static size_t pad60(uint8_t *p, size_t n)
{
	if (n < 60) {
		memset(p + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

/* --- scan -------------------------------------------------------------------- */

static int cmd_scan(const char *out, const char *src, const char *dst,
		    unsigned nports, unsigned start, unsigned noise)
{
	struct writer w;
	uint8_t pkt[MAXPKT];
	uint16_t *ports;
	unsigned left_scan = nports, left_noise = noise, i = 0;

	if (nports == 0 || start + nports - 1 > 65535) {
		fprintf(stderr, "ceptor-gen: scan: ports %u from %u do not fit "
			"1..65535\n", nports, start);
		return 2;
	}
	ports = malloc(nports * sizeof *ports);
	if (!ports)
		return 1;
	for (unsigned k = 0; k < nports; k++)
		ports[k] = (uint16_t)(start + k);
	for (unsigned k = nports - 1; k > 0; k--) { /* Fisher-Yates */
		unsigned j = rnd_below(k + 1);
		uint16_t t = ports[k];

		ports[k] = ports[j];
		ports[j] = t;
	}
	if (writer_open(&w, out, DLT_EN10MB, 65535)) {
		free(ports);
		return 1;
	}
	while (left_scan + left_noise > 0) {
		size_t n = eth(pkt, 0x0800);

		if (left_scan && rnd_below(left_scan + left_noise) < left_scan) {
			n += ip_pkt(pkt + n, src, dst, 6,
				    40000 + rnd_below(20000), ports[i++], 0x02,
				    0, 0);
			left_scan--;
		} else {
			static const unsigned svc[3] = { 53, 80, 443 };
			char a[32], b[32];
			unsigned host = 1 + rnd_below(50), port = svc[rnd_below(3)];

			snprintf(a, sizeof a, "10.0.0.%u", host);
			snprintf(b, sizeof b, "10.0.0.%u", 100 + rnd_below(50));
			if (port == 53)
				n += ip_pkt(pkt + n, a, b, 17, 30000 + host,
					    53, 0, 0, 40);
			else
				n += ip_pkt(pkt + n, a, b, 6, 30000 + host,
					    port, 0x18, 0, rnd_below(1000));
			left_noise--;
		}
		n = pad60(pkt, n);
		writer_put(&w, pkt, (uint32_t)n, (uint32_t)n,
			   100 + rnd_below(900));
	}
	free(ports);
	char what[160];
	snprintf(what, sizeof what, "SYN scan %s -> %s, %u ports from %u, %u "
		 "noise packets", src, dst, nports, start, noise);
	return writer_close(&w, what) ? 1 : 0;
}

/* --- mix --------------------------------------------------------------------- */

static size_t mix_frame_size(void)
{
	unsigned r = rnd_below(100);

	if (r < 51)
		return 60 + rnd_below(31);       /* acks, DNS: mean 75 */
	if (r < 70)
		return 100 + rnd_below(901);     /* mean 550 */
	return 1400 + rnd_below(115);            /* full segments: mean 1457 */
}

static int cmd_mix(const char *out, unsigned long long npkts)
{
	struct writer w;
	uint8_t pkt[MAXPKT];

	if (writer_open(&w, out, DLT_EN10MB, 65535))
		return 1;
	for (unsigned long long k = 0; k < npkts; k++) {
		size_t frame = mix_frame_size(), n, hdr;
		unsigned r = rnd_below(100), v6 = rnd_below(100) < 15;
		unsigned tagged = rnd_below(100) < 10;
		int proto = r < 80 ? 6 : r < 95 ? 17 : 1;
		char a[48], b[48];
		unsigned ha = rnd_below(256), hb = rnd_below(256);

		if (v6) {
			snprintf(a, sizeof a, "2001:db8::%x", ha + 1);
			snprintf(b, sizeof b, "2001:db8:1::%x", hb + 1);
		} else {
			snprintf(a, sizeof a, "10.%u.%u.%u", ha & 7, ha, hb);
			snprintf(b, sizeof b, "172.16.%u.%u", hb, ha);
		}
		if (tagged) {
			n = eth(pkt, 0x8100);
			n += vlan(pkt + n, 1 + rnd_below(4094),
				  v6 ? 0x86dd : 0x0800);
		} else {
			n = eth(pkt, v6 ? 0x86dd : 0x0800);
		}
		hdr = n + (v6 ? 40 : 20) + l4_hdr_len(proto);
		size_t payload = frame > hdr ? frame - hdr : 0;
		static const unsigned tflags[4] = { 0x10, 0x18, 0x02, 0x12 };
		n += ip_pkt(pkt + n, a, b, proto, 1024 + rnd_below(64000),
			    rnd_below(4) ? 443 : 80,
			    proto == 6 ? tflags[rnd_below(4)] : 8, 0, payload);
		n = pad60(pkt, n);
		writer_put(&w, pkt, (uint32_t)n, (uint32_t)n,
			   1 + rnd_below(20));
	}
	return writer_close(&w, "mixed traffic") ? 1 : 0;
}

/* --- linktypes ------------------------------------------------------------------ */

static char path_buf[4096];

static const char *in_dir(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
	return path_buf;
}

/* One file holding the given packets; wirelen = caplen unless @wire. */
#define PUT(w, pkt, n) writer_put(w, pkt, (uint32_t)(n), (uint32_t)(n), 10)

static int lt_ether(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n, h;

	if (writer_open(&w, in_dir(dir, "ether.pcap"), DLT_EN10MB, 65535))
		return -1;
	/* 1: TCP SYN 192.0.2.1:40000 -> 198.51.100.2:443 */
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "198.51.100.2", 6, 40000, 443, 0x02,
		    0, 0);
	PUT(&w, p, pad60(p, n));
	/* 2: UDP with one word of IPv4 options (IHL 6) 5353 -> 53 */
	n = eth(p, 0x0800);
	h = ip4(p + n, "192.0.2.1", "198.51.100.2", 17, 24 + 8 + 20, 0, 1);
	n += h + l4(p + n + h, 17, 5353, 53, 0, 0, 20);
	PUT(&w, p, pad60(p, n));
	/* 3: ICMP echo request */
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "198.51.100.2", 1, 0, 0, 8, 0, 32);
	PUT(&w, p, pad60(p, n));
	/* 4: ARP: no IP at all */
	n = eth(p, 0x0806);
	memset(p + n, 0, 28);
	PUT(&w, p, pad60(p, n + 28));
	return writer_close(&w, "Ethernet: TCP SYN, UDP with IP options, "
			    "ICMP echo, ARP");
}

static int lt_vlan(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;

	if (writer_open(&w, in_dir(dir, "vlan.pcap"), DLT_EN10MB, 65535))
		return -1;
	n = eth(p, 0x8100);
	n += vlan(p + n, 100, 0x0800);
	n += ip_pkt(p + n, "10.0.0.1", "10.0.0.2", 6, 1234, 80, 0x12, 0, 0);
	PUT(&w, p, pad60(p, n));
	if (writer_close(&w, "802.1Q VLAN 100, TCP SYN-ACK"))
		return -1;

	if (writer_open(&w, in_dir(dir, "qinq.pcap"), DLT_EN10MB, 65535))
		return -1;
	n = eth(p, 0x88a8);
	n += vlan(p + n, 200, 0x8100);
	n += vlan(p + n, 300, 0x0800);
	n += ip_pkt(p + n, "10.1.1.1", "10.2.2.2", 17, 1000, 2000, 0, 0, 10);
	PUT(&w, p, pad60(p, n));
	return writer_close(&w, "802.1ad 200 + 802.1Q 300 (QinQ), UDP");
}

static int lt_sll(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;

	if (writer_open(&w, in_dir(dir, "sll.pcap"), DLT_LINUX_SLL, 65535))
		return -1;
	memset(p, 0, 16);
	put16(p, 0);       /* packet type: to us */
	put16(p + 2, 1);   /* ARPHRD_ETHER */
	put16(p + 4, 6);   /* address length */
	p[6] = 0x02;
	put16(p + 14, 0x0800);
	n = 16 + ip_pkt(p + 16, "172.16.0.1", "172.16.0.2", 6, 22, 50000,
			0x18, 0, 48);
	PUT(&w, p, n);
	if (writer_close(&w, "Linux SLL, TCP PSH-ACK"))
		return -1;

	if (writer_open(&w, in_dir(dir, "sll2.pcap"), DLT_LINUX_SLL2, 65535))
		return -1;
	memset(p, 0, 20);
	put16(p, 0x86dd);  /* protocol */
	p[7] = 2;          /* interface index */
	put16(p + 8, 1);   /* ARPHRD_ETHER */
	p[11] = 6;         /* address length */
	n = 20 + ip_pkt(p + 20, "2001:db8::1", "2001:db8::2", 17, 546, 547,
			0, 0, 30);
	PUT(&w, p, n);
	return writer_close(&w, "Linux SLL2, IPv6 UDP");
}

static int lt_raw(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;

	if (writer_open(&w, in_dir(dir, "raw4.pcap"), DLT_RAW, 65535))
		return -1;
	n = ip_pkt(p, "203.0.113.5", "203.0.113.6", 17, 123, 123, 0, 0, 48);
	PUT(&w, p, n);
	if (writer_close(&w, "raw IP, IPv4 UDP"))
		return -1;

	if (writer_open(&w, in_dir(dir, "raw6.pcap"), DLT_RAW, 65535))
		return -1;
	n = ip_pkt(p, "2001:db8::a", "2001:db8::b", 6, 8080, 443, 0x11, 0, 0);
	PUT(&w, p, n);
	if (writer_close(&w, "raw IP, IPv6 TCP FIN-ACK"))
		return -1;

	if (writer_open(&w, in_dir(dir, "ipv4.pcap"), DLT_IPV4, 65535))
		return -1;
	n = ip_pkt(p, "203.0.113.7", "203.0.113.8", 1, 0, 0, 3, 3, 28);
	PUT(&w, p, n);
	if (writer_close(&w, "LINKTYPE_IPV4, ICMP port unreachable"))
		return -1;

	if (writer_open(&w, in_dir(dir, "null.pcap"), DLT_NULL, 65535))
		return -1;
	uint32_t af = 2; /* host byte order, as BSD loopback writes it */
	memcpy(p, &af, 4);
	n = 4 + ip_pkt(p + 4, "127.0.0.1", "127.0.0.1", 17, 9999, 8888, 0, 0,
		       4);
	PUT(&w, p, n);
	af = 30; /* AF_INET6 on Darwin */
	memcpy(p, &af, 4);
	n = 4 + ip_pkt(p + 4, "::1", "::1", 1, 0, 0, 128, 0, 8);
	PUT(&w, p, n);
	return writer_close(&w, "BSD loopback, IPv4 UDP and IPv6 ICMPv6");
}

/* An IPv6 extension header of @len bytes (a multiple of 8). */
static size_t ext6(uint8_t *p, int nh, size_t len)
{
	memset(p, 0, len);
	p[0] = (uint8_t)nh;
	p[1] = (uint8_t)(len / 8 - 1);
	if (len > 2)
		p[2] = 1; /* PadN */
	if (len > 3)
		p[3] = (uint8_t)(len - 4);
	return len;
}

static size_t frag6(uint8_t *p, int nh, unsigned offset, int more)
{
	memset(p, 0, 8);
	p[0] = (uint8_t)nh;
	put16(p + 2, (offset & 0xfff8) | (more ? 1 : 0));
	put16(p + 4, 0xcafe);
	put16(p + 6, 0xbabe);
	return 8;
}

static int lt_frag(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n, ip;

	if (writer_open(&w, in_dir(dir, "ipv6ext.pcap"), DLT_EN10MB, 65535))
		return -1;
	/* 1: hop-by-hop, dest opts, routing (24), fragment (first, M) + UDP */
	n = eth(p, 0x86dd);
	ip = n;
	n += ip6(p + n, "2001:db8::1", "2001:db8::2", 0, 8 + 8 + 24 + 8 + 16);
	n += ext6(p + n, 60, 8);
	n += ext6(p + n, 43, 8);
	n += ext6(p + n, 44, 24);
	n += frag6(p + n, 17, 0, 1);
	n += l4(p + n, 17, 4000, 53, 0, 0, 8);
	PUT(&w, p, n);
	/* 2: hop-by-hop + fragment at offset 1480, last: no ports */
	n = ip = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8::1", "2001:db8::2", 0, 8 + 8 + 64);
	n += ext6(p + n, 44, 8);
	n += frag6(p + n, 17, 1480, 0);
	memset(p + n, 0xab, 64);
	n += 64;
	PUT(&w, p, n);
	/* 3: destination options, then ESP: the walk stops at 50 */
	n = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8::3", "2001:db8::4", 60, 8 + 24);
	n += ext6(p + n, 50, 8);
	memset(p + n, 0x5a, 24);
	n += 24;
	PUT(&w, p, n);
	(void)ip;
	if (writer_close(&w, "IPv6 extension headers, fragments, ESP"))
		return -1;

	if (writer_open(&w, in_dir(dir, "frag4.pcap"), DLT_EN10MB, 65535))
		return -1;
	n = eth(p, 0x0800);
	n += ip4(p + n, "192.0.2.10", "192.0.2.20", 17, 20 + 8 + 32, 0x2000,
		 0);
	n += l4(p + n, 17, 7000, 8000, 0, 0, 32);
	PUT(&w, p, n);
	n = eth(p, 0x0800);
	n += ip4(p + n, "192.0.2.10", "192.0.2.20", 17, 20 + 40, 185, 0);
	memset(p + n, 0xcd, 40);
	n += 40;
	PUT(&w, p, n);
	return writer_close(&w, "IPv4 fragments: first (MF) and last");
}

static int lt_icmp6(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;

	if (writer_open(&w, in_dir(dir, "icmp6.pcap"), DLT_EN10MB, 65535))
		return -1;
	n = eth(p, 0x86dd);
	n += ip_pkt(p + n, "fe80::1", "ff02::1", 1, 0, 0, 128, 0, 16);
	PUT(&w, p, n);
	n = eth(p, 0x86dd);
	n += ip_pkt(p + n, "fe80::1", "ff02::1:ff00:2", 1, 0, 0, 135, 0, 16);
	PUT(&w, p, n);
	n = eth(p, 0x86dd);
	n += ip_pkt(p + n, "2001:db8::1", "2001:db8::2", 1, 0, 0, 1, 4, 48);
	PUT(&w, p, n);
	return writer_close(&w, "ICMPv6 echo, neighbour solicitation, "
			    "port unreachable");
}

static int lt_trunc(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;

	if (writer_open(&w, in_dir(dir, "trunc.pcap"), DLT_EN10MB, 44))
		return -1;
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 6, 1111, 2222, 0x02, 0,
		    20);
	/* 1: cut inside TCP: ports, no flags */
	writer_put(&w, p, 44, (uint32_t)n, 10);
	/* 2: cut inside the IPv4 header: proto, no addresses */
	writer_put(&w, p, 26, (uint32_t)n, 10);
	if (writer_close(&w, "snaplen 44: cut in TCP, cut in IPv4"))
		return -1;

	if (writer_open(&w, in_dir(dir, "malformed.pcap"), DLT_EN10MB, 65535))
		return -1;
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 17, 1, 2, 0, 0, 10);
	n = pad60(p, n);
	p[14] = 0x55; /* IP version 5 */
	PUT(&w, p, n);
	p[14] = 0x43; /* IHL 3 */
	PUT(&w, p, n);
	p[14] = 0x45;
	put16(p + 16, 10); /* total length 10 < header */
	PUT(&w, p, n);
	put16(p + 16, 38);
	put16(p + 12, 0x86dd); /* says IPv6, is IPv4 */
	PUT(&w, p, n);
	put16(p + 12, 0x0800); /* and finally a good one */
	PUT(&w, p, n);
	return writer_close(&w, "4 malformed IP packets, then a good one");
}

static int lt_corrupt(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT];
	size_t n;
	FILE *f;
	long off;

	if (writer_open(&w, in_dir(dir, "corrupt.pcap"), DLT_EN10MB, 65535))
		return -1;
	for (unsigned k = 0; k < 3; k++) {
		n = eth(p, 0x0800);
		n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 17, 1000 + k, 53,
			    0, 0, 20);
		PUT(&w, p, n);
	}
	if (writer_close(&w, "3 good packets"))
		return -1;
	f = fopen(path_buf, "ab");
	if (!f)
		return -1;
	off = ftell(f);
	/* A record header in the writer's byte order that claims 200 bytes
	 * of which only 50 follow. */
	uint32_t rec[4] = { BASE_SEC + 1, 0, 200, 200 };
	memset(p, 0x77, 50);
	if (fwrite(rec, sizeof rec, 1, f) != 1 || fwrite(p, 50, 1, f) != 1) {
		fclose(f);
		return -1;
	}
	if (fclose(f))
		return -1;
	fprintf(stderr, "ceptor-gen: appended to %s a record claiming 200 "
		"bytes with 50 left, at byte offset %ld\n", path_buf, off);
	return 0;
}

/* --- tunnels, AH, FCS ---------------------------------------------------------- */

/* An IPsec AH header of 24 bytes (12-byte ICV) before @nh. */
static size_t ah(uint8_t *p, int nh)
{
	memset(p, 0, 24);
	p[0] = (uint8_t)nh;
	p[1] = 24 / 4 - 2;
	put16(p + 4, 0);
	p[7] = 0x42; /* SPI */
	p[11] = 1;   /* sequence number */
	memset(p + 12, 0xa5, 12);
	return 24;
}

/* A GRE header with @flags (C 0x8000, K 0x2000, S 0x1000, version in the
 * low 3 bits) for @proto; optional fields follow in RFC 2890 order. */
static size_t gre(uint8_t *p, unsigned flags, unsigned proto)
{
	size_t n = 4;

	put16(p, flags);
	put16(p + 2, proto);
	if (flags & 0x8000) { /* checksum + reserved1 */
		put16(p + n, 0xbeef);
		put16(p + n + 2, 0);
		n += 4;
	}
	if (flags & 0x2000) { /* key */
		put16(p + n, 0x0001);
		put16(p + n + 2, 0x0002);
		n += 4;
	}
	if (flags & 0x1000) { /* sequence number */
		put16(p + n, 0);
		put16(p + n + 2, 7);
		n += 4;
	}
	return n;
}

/* An IPv4 header for @proto whose payload of @inner bytes the caller
 * writes after it. */
static size_t outer4(uint8_t *p, const char *src, const char *dst, int proto,
		     size_t inner)
{
	return ip4(p, src, dst, proto, 20 + inner, 0, 0);
}

static int lt_tunnel(const char *dir)
{
	struct writer w;
	uint8_t p[MAXPKT], in[MAXPKT];
	size_t n, k, g;

	if (writer_open(&w, in_dir(dir, "tunnels.pcap"), DLT_EN10MB, 65535))
		return -1;
	/* 1: IPv4-in-IPv4: TCP SYN 10.0.0.1:1111 -> 10.0.0.2:80 */
	k = ip_pkt(in, "10.0.0.1", "10.0.0.2", 6, 1111, 80, 0x02, 0, 0);
	n = eth(p, 0x0800);
	n += outer4(p + n, "192.0.2.1", "192.0.2.2", 4, k);
	memcpy(p + n, in, k);
	PUT(&w, p, pad60(p, n + k));
	/* 2: IPv6-in-IPv4 (6in4): UDP 2001:db8::1:5000 -> 2001:db8::2:53 */
	k = ip_pkt(in, "2001:db8::1", "2001:db8::2", 17, 5000, 53, 0, 0, 12);
	n = eth(p, 0x0800);
	n += outer4(p + n, "192.0.2.1", "192.0.2.2", 41, k);
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 3: IPv6-in-IPv6: TCP SYN 2001:db8::a:2222 -> 2001:db8::b:22 */
	k = ip_pkt(in, "2001:db8::a", "2001:db8::b", 6, 2222, 22, 0x02, 0, 0);
	n = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8:ffff::1", "2001:db8:ffff::2", 41, k);
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 4: IPv4-in-IPv6: ICMP echo 10.1.0.1 -> 10.1.0.2 */
	k = ip_pkt(in, "10.1.0.1", "10.1.0.2", 1, 0, 0, 8, 0, 16);
	n = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8:ffff::1", "2001:db8:ffff::2", 4, k);
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 5: GRE, no options, IPv4: TCP 10.2.0.1:3333 -> 10.2.0.2:443 PSH-ACK */
	k = ip_pkt(in, "10.2.0.1", "10.2.0.2", 6, 3333, 443, 0x18, 0, 10);
	n = eth(p, 0x0800);
	g = gre(p + 14 + 20, 0, 0x0800);
	n += outer4(p + n, "198.51.100.1", "198.51.100.2", 47, g + k);
	n += g;
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 6: GRE with checksum, key and sequence number, IPv6:
	 *    UDP 2001:db8:2::1:4444 -> 2001:db8:2::2:4789 */
	k = ip_pkt(in, "2001:db8:2::1", "2001:db8:2::2", 17, 4444, 4789, 0, 0,
		   8);
	n = eth(p, 0x0800);
	g = gre(p + 14 + 20, 0xB000, 0x86dd);
	n += outer4(p + n, "198.51.100.1", "198.51.100.2", 47, g + k);
	n += g;
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 7: GRE with a key, transparent Ethernet bridging: an inner frame
	 *    tagged 802.1Q 77 carrying UDP 10.3.0.1:5555 -> 10.3.0.2:8080 */
	k = eth(in, 0x8100);
	k += vlan(in + k, 77, 0x0800);
	k += ip_pkt(in + k, "10.3.0.1", "10.3.0.2", 17, 5555, 8080, 0, 0, 4);
	n = eth(p, 0x0800);
	g = gre(p + 14 + 20, 0x2000, 0x6558);
	n += outer4(p + n, "198.51.100.1", "198.51.100.2", 47, g + k);
	n += g;
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 8: GRE version 1 (PPTP, key present, PPP 0x880b): outer view */
	n = eth(p, 0x0800);
	g = gre(p + 14 + 20, 0x2001, 0x880b);
	n += outer4(p + n, "198.51.100.3", "198.51.100.4", 47, g + 16);
	n += g;
	memset(p + n, 0xff, 16);
	PUT(&w, p, pad60(p, n + 16));
	/* 9: GRE with a sequence number carrying ERSPAN (0x88be): outer */
	n = eth(p, 0x0800);
	g = gre(p + 14 + 20, 0x1000, 0x88be);
	n += outer4(p + n, "198.51.100.5", "198.51.100.6", 47, g + 40);
	n += g;
	memset(p + n, 0x11, 40);
	PUT(&w, p, n + 40);
	/* 10: IPv4-in-IPv4 cut 10 bytes into the inner header: outer view,
	 *     truncated */
	k = ip_pkt(in, "10.0.0.1", "10.0.0.2", 6, 1111, 80, 0x02, 0, 0);
	n = eth(p, 0x0800);
	n += outer4(p + n, "192.0.2.1", "192.0.2.2", 4, k);
	memcpy(p + n, in, k);
	writer_put(&w, p, (uint32_t)(n + 10), (uint32_t)(n + k), 10);
	/* 11: protocol 4 with an IPv6 packet inside: outer view */
	k = ip_pkt(in, "2001:db8::1", "2001:db8::2", 17, 1, 2, 0, 0, 0);
	n = eth(p, 0x0800);
	n += outer4(p + n, "192.0.2.3", "192.0.2.4", 4, k);
	memcpy(p + n, in, k);
	PUT(&w, p, n + k);
	/* 12: IPv4 with AH before TCP 192.0.2.5:1234 -> 192.0.2.6:80 SYN */
	n = eth(p, 0x0800);
	n += ip4(p + n, "192.0.2.5", "192.0.2.6", 51, 20 + 24 + 20, 0, 0);
	n += ah(p + n, 6);
	n += tcp(p + n, 1234, 80, 0x02);
	PUT(&w, p, n);
	/* 13: IPv6, AH, destination options, UDP 2001:db8::5:7 -> ::6:8 */
	n = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8::5", "2001:db8::6", 51, 24 + 8 + 8);
	n += ah(p + n, 60);
	n += ext6(p + n, 17, 8);
	n += udp(p + n, 7, 8, 8);
	PUT(&w, p, n);
	/* 14: GRE in GRE: UDP 10.9.0.1:9 -> 10.9.0.2:99 two tunnels deep */
	k = ip_pkt(in, "10.9.0.1", "10.9.0.2", 17, 9, 99, 0, 0, 4);
	{
		uint8_t mid[MAXPKT];
		size_t m, mg;

		mg = gre(mid + 20, 0, 0x0800);
		m = outer4(mid, "192.0.2.9", "192.0.2.10", 47, mg + k);
		m += mg;
		memcpy(mid + m, in, k);
		m += k;
		n = eth(p, 0x0800);
		g = gre(p + 14 + 20, 0, 0x0800);
		n += outer4(p + n, "198.51.100.1", "198.51.100.2", 47, g + m);
		n += g;
		memcpy(p + n, mid, m);
		n += m;
	}
	PUT(&w, p, n);
	/* 15: IPv6, shim6 (140) extension header, TCP 2001:db8::5:7 -> ::6:8 */
	n = eth(p, 0x86dd);
	n += ip6(p + n, "2001:db8::5", "2001:db8::6", 140, 8 + 20);
	n += ext6(p + n, 6, 8);
	n += tcp(p + n, 7, 8, 0x10);
	PUT(&w, p, n);
	return writer_close(&w, "tunnels: IPIP, 6in4, 6in6, 4in6, GRE (plain, "
			    "C+K+S, TEB, v1, ERSPAN), cut and mismatched "
			    "inner headers, AH in v4 and v6, GRE in GRE, shim6");
}

/* A classic pcap file written by hand, so that the link-type field may
 * carry FCS and reserved bits that libpcap's writer would not write. */
static FILE *raw_pcap_open(const char *path, uint32_t linktype_field,
			   uint32_t snaplen)
{
	uint32_t h[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, snaplen,
			  linktype_field };
	FILE *f = fopen(path, "wb");

	if (!f)
		return NULL;
	if (fwrite(h, sizeof h, 1, f) != 1) {
		fclose(f);
		return NULL;
	}
	return f;
}

static int raw_pcap_put(FILE *f, const uint8_t *pkt, uint32_t caplen,
			uint32_t wirelen, uint32_t usec)
{
	uint32_t rec[4] = { BASE_SEC, usec, caplen, wirelen };

	return fwrite(rec, sizeof rec, 1, f) == 1 &&
	       fwrite(pkt, caplen, 1, f) == 1 ? 0 : -1;
}

static int lt_fcs(const char *dir)
{
	uint8_t p[MAXPKT];
	size_t n;
	FILE *f;
	int bad = 0;

	/* Ethernet with a 4-byte FCS: FCS len 2 (16-bit words), P set. */
	f = raw_pcap_open(in_dir(dir, "fcs.pcap"), 0x24000001u, 65535);
	if (!f)
		return -1;
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 17, 1000, 2000, 0, 0, 4);
	n = pad60(p, n);
	memcpy(p + n, "\xde\xad\xbe\xef", 4); /* the FCS */
	/* 1: the whole frame and its FCS: 64 bytes captured and on the wire */
	bad |= raw_pcap_put(f, p, (uint32_t)n + 4, (uint32_t)n + 4, 1);
	/* 2: cut at 42 bytes (the UDP header's end), 64 on the wire */
	bad |= raw_pcap_put(f, p, 42, (uint32_t)n + 4, 2);
	/* 3: the frame and the first 2 FCS bytes: 62 of 64 */
	bad |= raw_pcap_put(f, p, (uint32_t)n + 2, (uint32_t)n + 4, 3);
	bad |= fclose(f) != 0;
	/* Reserved bits 16..25 set, no FCS: still Ethernet. */
	f = raw_pcap_open(in_dir(dir, "reserved.pcap"), 0x00ff0001u, 65535);
	if (!f)
		return -1;
	bad |= raw_pcap_put(f, p, (uint32_t)n, (uint32_t)n, 1);
	bad |= fclose(f) != 0;
	if (bad)
		return -1;
	fprintf(stderr, "ceptor-gen: wrote fcs.pcap (Ethernet + FCS, 3 "
		"packets) and reserved.pcap (reserved link-type bits)\n");
	return 0;
}

/* --- pcapng, written by hand --------------------------------------------------- */

/* A block being built in either byte order. */
struct ngblock {
	uint8_t b[MAXPKT + 256];
	size_t n;
	int be;
};

static void ng_u32(struct ngblock *k, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		k->b[k->n + (size_t)i] =
			(uint8_t)(v >> (k->be ? 24 - 8 * i : 8 * i));
	k->n += 4;
}

static void ng_u16(struct ngblock *k, unsigned v)
{
	k->b[k->n + (k->be ? 0 : 1)] = (uint8_t)(v >> 8);
	k->b[k->n + (k->be ? 1 : 0)] = (uint8_t)v;
	k->n += 2;
}

static void ng_bytes(struct ngblock *k, const void *p, size_t len)
{
	memcpy(k->b + k->n, p, len);
	k->n += len;
	while (k->n % 4)
		k->b[k->n++] = 0;
}

static void ng_opt(struct ngblock *k, unsigned code, const void *v,
		   size_t len)
{
	ng_u16(k, code);
	ng_u16(k, (unsigned)len);
	ng_bytes(k, v, len);
}

static void ng_start(struct ngblock *k, uint32_t type, int be)
{
	k->n = 0;
	k->be = be;
	ng_u32(k, type);
	ng_u32(k, 0); /* length, patched by ng_end() */
}

static int ng_end(struct ngblock *k, FILE *f)
{
	size_t total = k->n + 4, at = k->n;

	k->n = 4;
	ng_u32(k, (uint32_t)total);
	k->n = at;
	ng_u32(k, (uint32_t)total);
	return fwrite(k->b, k->n, 1, f) == 1 ? 0 : -1;
}

static int ng_shb(FILE *f, int be)
{
	struct ngblock k;

	ng_start(&k, 0x0A0D0D0A, be);
	ng_u32(&k, 0x1A2B3C4D);
	ng_u16(&k, 1);
	ng_u16(&k, 0);
	ng_u32(&k, 0xffffffff); /* section length unknown */
	ng_u32(&k, 0xffffffff);
	ng_opt(&k, 4, "ceptor-gen", 10); /* shb_userappl */
	ng_u32(&k, 0);                   /* opt_endofopt */
	return ng_end(&k, f);
}

/* An IDB; @tsresol < 0 leaves the default, @fcslen 0 none. */
static int ng_idb(FILE *f, int be, unsigned linktype, uint32_t snaplen,
		  int tsresol, int64_t tsoffset, unsigned fcslen)
{
	struct ngblock k;

	ng_start(&k, 1, be);
	ng_u16(&k, linktype);
	ng_u16(&k, 0);
	ng_u32(&k, snaplen);
	ng_opt(&k, 2, "ceptor0", 7); /* if_name */
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;

		ng_opt(&k, 9, &r, 1);
	}
	if (tsoffset) {
		uint64_t v = (uint64_t)tsoffset;

		ng_u16(&k, 14);
		ng_u16(&k, 8);
		ng_u32(&k, be ? (uint32_t)(v >> 32) : (uint32_t)v);
		ng_u32(&k, be ? (uint32_t)v : (uint32_t)(v >> 32));
	}
	if (fcslen) {
		uint8_t v = (uint8_t)fcslen;

		ng_opt(&k, 13, &v, 1);
	}
	ng_u32(&k, 0);
	return ng_end(&k, f);
}

static int ng_epb(FILE *f, int be, uint32_t ifid, uint64_t ts,
		  const uint8_t *pkt, uint32_t caplen, uint32_t wirelen)
{
	struct ngblock k;

	ng_start(&k, 6, be);
	ng_u32(&k, ifid);
	ng_u32(&k, (uint32_t)(ts >> 32));
	ng_u32(&k, (uint32_t)ts);
	ng_u32(&k, caplen);
	ng_u32(&k, wirelen);
	ng_bytes(&k, pkt, caplen);
	ng_opt(&k, 1, "epb", 3); /* opt_comment */
	ng_u32(&k, 0);
	return ng_end(&k, f);
}

static int ng_spb(FILE *f, int be, const uint8_t *pkt, uint32_t len)
{
	struct ngblock k;

	ng_start(&k, 3, be);
	ng_u32(&k, len);
	ng_bytes(&k, pkt, len);
	return ng_end(&k, f);
}

/* The obsolete Packet Block (type 2). */
static int ng_pb(FILE *f, int be, unsigned ifid, uint64_t ts,
		 const uint8_t *pkt, uint32_t len)
{
	struct ngblock k;

	ng_start(&k, 2, be);
	ng_u16(&k, ifid);
	ng_u16(&k, 0); /* drops count */
	ng_u32(&k, (uint32_t)(ts >> 32));
	ng_u32(&k, (uint32_t)ts);
	ng_u32(&k, len);
	ng_u32(&k, len);
	ng_bytes(&k, pkt, len);
	return ng_end(&k, f);
}

/* A block the walker must skip: an NRB, an ISB or a custom block. */
static int ng_other(FILE *f, int be, uint32_t type)
{
	struct ngblock k;

	ng_start(&k, type, be);
	ng_u32(&k, 0);
	ng_u32(&k, 0x12345678);
	return ng_end(&k, f);
}

/*
 * multi-le.pcapng / multi-be.pcapng: two sections, the second in the other
 * byte order; packets 1..7 (test_pcap.c checks each):
 *  section 1: if0 Ethernet (us), if1 raw IP (ns, +100 s offset),
 *             if2 Ethernet with a 4-byte FCS (2^-10 s)
 *   1 EPB if0  TCP SYN 192.0.2.1:40000 -> 198.51.100.2:443, BASE_SEC + 5 us
 *   2 EPB if1  UDP 2001:db8::1:546 -> 2001:db8::2:547, BASE_SEC + 7 ns + 100 s
 *   3 EPB if2  UDP 192.0.2.1:1000 -> 192.0.2.2:2000 + FCS, BASE_SEC + 0.5 s
 *   4 SPB      ICMP echo 192.0.2.1 -> 192.0.2.2 (if0, no time stamp)
 *   5 PB  if1  UDP 203.0.113.5:123 -> 203.0.113.6:123, BASE_SEC + 9 ns + 100 s
 *  section 2: if0 Linux SLL (ms)
 *   6 EPB if0  TCP 172.16.0.1:22 -> 172.16.0.2:50000, BASE_SEC + 250 ms
 *   7 EPB if0  UDP 172.16.0.1:53 -> 172.16.0.2:40000, BASE_SEC + 251 ms
 * with an NRB, an ISB and a custom block among them.
 */
static int ng_multi(const char *path, int be)
{
	uint8_t p[MAXPKT];
	size_t n;
	FILE *f = fopen(path, "wb");
	int bad = 0;

	if (!f)
		return -1;
	bad |= ng_shb(f, be);
	bad |= ng_idb(f, be, 1, 0, -1, 0, 0);
	bad |= ng_idb(f, be, 101, 65535, 9, 100, 0);
	bad |= ng_other(f, be, 4); /* NRB */
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "198.51.100.2", 6, 40000, 443, 0x02,
		    0, 0);
	n = pad60(p, n);
	bad |= ng_epb(f, be, 0, (uint64_t)BASE_SEC * 1000000u + 5, p,
		      (uint32_t)n, (uint32_t)n);
	n = ip_pkt(p, "2001:db8::1", "2001:db8::2", 17, 546, 547, 0, 0, 30);
	bad |= ng_epb(f, be, 1, (uint64_t)BASE_SEC * 1000000000u + 7, p,
		      (uint32_t)n, (uint32_t)n);
	bad |= ng_idb(f, be, 1, 0, 0x80 | 10, 0, 4);
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 17, 1000, 2000, 0, 0, 4);
	n = pad60(p, n);
	memcpy(p + n, "\xde\xad\xbe\xef", 4);
	bad |= ng_epb(f, be, 2, (uint64_t)BASE_SEC * 1024u + 512, p,
		      (uint32_t)n + 4, (uint32_t)n + 4);
	bad |= ng_other(f, be, 5); /* ISB */
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 1, 0, 0, 8, 0, 16);
	bad |= ng_spb(f, be, p, (uint32_t)n);
	n = ip_pkt(p, "203.0.113.5", "203.0.113.6", 17, 123, 123, 0, 0, 48);
	bad |= ng_pb(f, be, 1, (uint64_t)BASE_SEC * 1000000000u + 9, p,
		     (uint32_t)n);
	bad |= ng_other(f, be, 0x40000BAD); /* custom, copyable */

	be = !be;
	bad |= ng_shb(f, be);
	bad |= ng_idb(f, be, 113, 65535, 3, 0, 0);
	memset(p, 0, 16);
	put16(p + 2, 1);
	put16(p + 4, 6);
	put16(p + 14, 0x0800);
	n = 16 + ip_pkt(p + 16, "172.16.0.1", "172.16.0.2", 6, 22, 50000,
			0x18, 0, 8);
	bad |= ng_epb(f, be, 0, (uint64_t)BASE_SEC * 1000u + 250, p,
		      (uint32_t)n, (uint32_t)n);
	n = 16 + ip_pkt(p + 16, "172.16.0.1", "172.16.0.2", 17, 53, 40000,
			0, 0, 8);
	bad |= ng_epb(f, be, 0, (uint64_t)BASE_SEC * 1000u + 251, p,
		      (uint32_t)n, (uint32_t)n);
	bad |= fclose(f) != 0;
	if (bad)
		return -1;
	fprintf(stderr, "ceptor-gen: wrote %s: 7 packets in 2 sections "
		"(%s, then %s)\n", path, be ? "little-endian" : "big-endian",
		be ? "big-endian" : "little-endian");
	return 0;
}

/* badif.pcapng: EPB if0, EPB of an undeclared interface 3, EPB if0. */
static int ng_badif(const char *path)
{
	uint8_t p[MAXPKT];
	size_t n;
	FILE *f = fopen(path, "wb");
	int bad = 0;

	if (!f)
		return -1;
	bad |= ng_shb(f, 0);
	bad |= ng_idb(f, 0, 1, 0, -1, 0, 0);
	n = eth(p, 0x0800);
	n += ip_pkt(p + n, "192.0.2.1", "192.0.2.2", 17, 1, 2, 0, 0, 4);
	n = pad60(p, n);
	for (uint32_t ifid = 0; ifid < 3; ifid++)
		bad |= ng_epb(f, 0, ifid == 1 ? 3 : 0,
			      (uint64_t)BASE_SEC * 1000000u + ifid, p,
			      (uint32_t)n, (uint32_t)n);
	bad |= fclose(f) != 0;
	if (bad)
		return -1;
	fprintf(stderr, "ceptor-gen: wrote %s: 3 packet blocks, the second "
		"of an undeclared interface\n", path);
	return 0;
}

static int lt_pcapng(const char *dir)
{
	if (ng_multi(in_dir(dir, "multi-le.pcapng"), 0) ||
	    ng_multi(in_dir(dir, "multi-be.pcapng"), 1) ||
	    ng_badif(in_dir(dir, "badif.pcapng")))
		return -1;
	return 0;
}

static int cmd_linktypes(const char *dir)
{
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "ceptor-gen: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (lt_ether(dir) || lt_vlan(dir) || lt_sll(dir) || lt_raw(dir) ||
	    lt_frag(dir) || lt_icmp6(dir) || lt_trunc(dir) ||
	    lt_corrupt(dir) || lt_tunnel(dir) || lt_fcs(dir) ||
	    lt_pcapng(dir))
		return 1;
	return 0;
}

/* --- command line ---------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-gen scan OUT.pcap [--src IP] [--dst IP] [--ports N]\n"
		"                  [--start-port P] [--noise N] [--seed S]\n"
		"                  [--time-offset SECONDS]\n"
		"       ceptor-gen mix OUT.pcap --packets N [--seed S] [--time-offset S]\n"
		"       ceptor-gen linktypes DIR\n");
}

static int num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *out > max || s[0] == '-') {
		fprintf(stderr, "ceptor-gen: bad number \"%s\"\n", s);
		return -1;
	}
	return 0;
}

/*
 * Commands that live in their own file (tests/gen/gen_*.c): each takes the
 * whole argv (argv[1] is its name) and returns the exit status.
 */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} ext_cmds[] = {
	/* one line per command: { "name", gen_name_main }, */
	{ "flows", gen_flow_main },
	{ "feeds", gen_feed_main },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	const char *src = "192.0.2.66", *dst = "198.51.100.10";
	unsigned long long ports = 100, start = 1, noise = 200, seed = 1;
	unsigned long long packets = 0, toff = 0;
	int have_packets = 0;
	uint8_t tmp[16];

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && ext_cmds[i].name; i++)
		if (!strcmp(argv[1], ext_cmds[i].name))
			return ext_cmds[i].fn(argc, argv);
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	/* Options come in pairs: --name value. */
	for (int i = 3; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (!v) {
			fprintf(stderr, "ceptor-gen: %s needs a value\n", o);
			return 2;
		}
		if (!strcmp(o, "--src"))
			src = v;
		else if (!strcmp(o, "--dst"))
			dst = v;
		else if (!strcmp(o, "--ports"))
			bad = num(v, 65535, &ports);
		else if (!strcmp(o, "--start-port"))
			bad = num(v, 65535, &start);
		else if (!strcmp(o, "--noise"))
			bad = num(v, 100000000, &noise);
		else if (!strcmp(o, "--seed"))
			bad = num(v, UINT64_MAX, &seed);
		else if (!strcmp(o, "--time-offset"))
			bad = num(v, 100000000, &toff);
		else if (!strcmp(o, "--packets"))
			bad = num(v, 1000000000, &packets), have_packets = 1;
		else {
			fprintf(stderr, "ceptor-gen: unknown option %s\n", o);
			usage(stderr);
			return 2;
		}
		if (bad)
			return 2;
	}
	rng_state = seed;
	time_offset = toff;
	if (!strcmp(argv[1], "scan")) {
		if (inet_pton(AF_INET, src, tmp) != 1 ||
		    inet_pton(AF_INET, dst, tmp) != 1) {
			fprintf(stderr, "ceptor-gen: scan takes IPv4 "
				"addresses\n");
			return 2;
		}
		if (start == 0)
			start = 1;
		return cmd_scan(argv[2], src, dst, (unsigned)ports,
				(unsigned)start, (unsigned)noise);
	}
	if (!strcmp(argv[1], "mix")) {
		if (!have_packets) {
			fprintf(stderr, "ceptor-gen: mix needs --packets N\n");
			return 2;
		}
		return cmd_mix(argv[2], packets);
	}
	if (!strcmp(argv[1], "linktypes"))
		return cmd_linktypes(argv[2]);
	fprintf(stderr, "ceptor-gen: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
