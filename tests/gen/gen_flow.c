/*
 * gen_flow.c - ceptor-gen flows: a capture of many multi-packet flows, the
 * input a flow exporter (softflowd) turns into NetFlow/IPFIX export
 * packets for the flow collector's tests and benchmark.
 *
 *   ceptor-gen flows OUT.pcap [--flows N] [--seed S]
 *
 * N flows (default 500): TCP 60 %, UDP 25 %, ICMP 10 %, ICMPv6 5 %;
 * IPv6 for a quarter of the TCP and UDP flows; 1 to 40 packets each, of
 * 60 to 1,500 bytes, spaced 1 to 800 ms apart; flow starts spread over
 * 120 s.  TCP flows open with SYN, carry ACK/PSH, and end with FIN.  Every
 * flow has its own 5-tuple, so an exporter makes exactly one record per
 * flow (unless it splits long flows).  Packets are written in time order,
 * Ethernet, microsecond pcap; timestamps start at 2023-11-14T22:13:20Z.
 * Every byte is a function of the arguments (splitmix64).
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gen/gen.h"

#define BASE_SEC 1700000000ull

static uint64_t state;

static uint64_t rnd(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct gflow {
	int v6, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	unsigned npkts;
};

struct gpkt {
	uint64_t ts_us;
	uint32_t flow, idx;
	uint16_t size;
};

static int by_time(const void *a, const void *b)
{
	const struct gpkt *x = a, *y = b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return x->flow < y->flow ? -1 : x->flow > y->flow;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One Ethernet frame of @size bytes (at least the headers) for packet
 * @idx of flow @f; returns its length. */
static size_t frame(uint8_t *p, const struct gflow *f, unsigned idx,
		    size_t size)
{
	size_t l3 = 14, ip = f->v6 ? 40 : 20, l4;
	int proto = f->proto;

	l4 = proto == 6 ? 20 : 8;
	if (size < l3 + ip + l4)
		size = l3 + ip + l4;
	memset(p, 0, size);
	p[5] = 1;
	p[11] = 2;
	put16(p + 12, f->v6 ? 0x86dd : 0x0800);
	uint8_t *h = p + l3, *t = h + ip;
	size_t iplen = size - l3;

	if (f->v6) {
		h[0] = 0x60;
		put16(h + 4, (unsigned)(iplen - 40));
		h[6] = (uint8_t)proto;
		h[7] = 64;
		memcpy(h + 8, f->src, 16);
		memcpy(h + 24, f->dst, 16);
	} else {
		h[0] = 0x45;
		put16(h + 2, (unsigned)iplen);
		put16(h + 4, idx);
		h[8] = 64;
		h[9] = (uint8_t)proto;
		memcpy(h + 12, f->src, 4);
		memcpy(h + 16, f->dst, 4);
		unsigned sum = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (unsigned)(h[i] << 8 | h[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(h + 10, ~sum & 0xffff);
	}
	if (proto == 6) {
		put16(t, f->sport);
		put16(t + 2, f->dport);
		t[12] = 5 << 4;
		t[13] = idx == 0 ? 0x02 : idx + 1 == f->npkts ? 0x11 : 0x18;
	} else if (proto == 17) {
		put16(t, f->sport);
		put16(t + 2, f->dport);
		put16(t + 4, (unsigned)(iplen - ip));
	} else {
		t[0] = proto == 1 ? 8 : 128; /* echo request */
	}
	return size;
}

int gen_flow_main(int argc, char **argv)
{
	unsigned long long nflows = 500, seed = 1;
	const char *out;

	if (argc < 3) {
		fprintf(stderr, "usage: ceptor-gen flows OUT.pcap [--flows N] "
			"[--seed S]\n");
		return 2;
	}
	out = argv[2];
	for (int i = 3; i < argc; i++) {
		char *end;
		unsigned long long v;

		if (i + 1 >= argc) {
			fprintf(stderr, "ceptor-gen: %s needs a value\n", argv[i]);
			return 2;
		}
		v = strtoull(argv[i + 1], &end, 10);
		if (*end || end == argv[i + 1]) {
			fprintf(stderr, "ceptor-gen: bad value \"%s\"\n",
				argv[i + 1]);
			return 2;
		}
		if (!strcmp(argv[i], "--flows") && v >= 1 && v <= 1000000)
			nflows = v;
		else if (!strcmp(argv[i], "--seed"))
			seed = v;
		else {
			fprintf(stderr, "ceptor-gen flows: unknown option or "
				"value out of range: %s %s\n", argv[i],
				argv[i + 1]);
			return 2;
		}
		i++;
	}
	state = seed;

	struct gflow *fl = calloc(nflows, sizeof *fl);
	size_t cap = nflows * 40, np = 0;
	struct gpkt *pk = calloc(cap, sizeof *pk);

	if (!fl || !pk) {
		fprintf(stderr, "ceptor-gen: out of memory\n");
		free(fl);
		free(pk);
		return 1;
	}
	for (unsigned long long k = 0; k < nflows; k++) {
		struct gflow *f = &fl[k];
		unsigned r = below(100);

		f->proto = r < 60 ? 6 : r < 85 ? 17 : r < 95 ? 1 : 58;
		f->v6 = f->proto == 58 || ((f->proto == 6 || f->proto == 17) &&
					   below(4) == 0);
		/* The flow number is in the addresses: each 5-tuple is new. */
		if (f->v6) {
			static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
			memcpy(f->src, a, 16);
			memcpy(f->dst, a, 16);
			f->dst[5] = 1;
			f->src[13] = (uint8_t)(k >> 16);
			f->src[14] = (uint8_t)(k >> 8);
			f->src[15] = (uint8_t)k;
			f->dst[15] = (uint8_t)(1 + below(200));
		} else {
			f->src[0] = 10;
			f->src[1] = (uint8_t)(k >> 16);
			f->src[2] = (uint8_t)(k >> 8);
			f->src[3] = (uint8_t)k;
			f->dst[0] = 192;
			f->dst[1] = 0;
			f->dst[2] = 2;
			f->dst[3] = (uint8_t)(1 + below(200));
		}
		f->sport = (uint16_t)(1024 + below(60000));
		f->dport = (uint16_t)(below(3) == 0 ? 53 : below(2) ? 443 : 80);
		f->npkts = 1 + below(40);
		uint64_t t = (uint64_t)below(120000) * 1000 + below(1000);
		for (unsigned i = 0; i < f->npkts; i++) {
			pk[np].ts_us = t;
			pk[np].flow = (uint32_t)k;
			pk[np].idx = i;
			pk[np].size = (uint16_t)(60 + below(1441));
			np++;
			t += (uint64_t)(1 + below(800)) * 1000 + below(1000);
		}
	}
	qsort(pk, np, sizeof *pk, by_time);

	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, out) : NULL;

	if (!d) {
		fprintf(stderr, "ceptor-gen: %s: %s\n", out,
			dead ? pcap_geterr(dead) : "pcap_open_dead failed");
		if (dead)
			pcap_close(dead);
		free(fl);
		free(pk);
		return 1;
	}
	for (size_t i = 0; i < np; i++) {
		uint8_t buf[1600];
		struct pcap_pkthdr h;
		size_t n = frame(buf, &fl[pk[i].flow], pk[i].idx, pk[i].size);

		h.ts.tv_sec = (time_t)(BASE_SEC + pk[i].ts_us / 1000000);
		h.ts.tv_usec = (suseconds_t)(pk[i].ts_us % 1000000);
		h.caplen = h.len = (uint32_t)n;
		pcap_dump((u_char *)d, &h, buf);
	}
	int rc = pcap_dump_flush(d);

	pcap_dump_close(d);
	pcap_close(dead);
	free(fl);
	free(pk);
	if (rc) {
		fprintf(stderr, "ceptor-gen: %s: write failed\n", out);
		return 1;
	}
	fprintf(stderr, "ceptor-gen: wrote %s: %zu packets in %llu flows\n",
		out, np, nflows);
	return 0;
}
