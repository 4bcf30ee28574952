/*
 * test_flow.c - the NetFlow v5/v9 and IPFIX decoder on hand-built export
 * packets, the capture reader on hand-written pcaps of export traffic, and
 * the UDP listener on loopback.
 *
 * Every packet is built here, field by field, by the small writer below;
 * nothing is read from disk but what the tests write into their own
 * temporary directory.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/flow/flow.h"
#include "tests/lib/tmpdir.h"

/* --- packet writer ------------------------------------------------------------ */

struct pkt {
	uint8_t b[8192];
	size_t n;
};

static void u8(struct pkt *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void u16(struct pkt *p, unsigned v) { u8(p, v >> 8); u8(p, v); }
static void u32(struct pkt *p, uint32_t v) { u16(p, v >> 16); u16(p, v & 0xffff); }
static void u64(struct pkt *p, uint64_t v) { u32(p, (uint32_t)(v >> 32)); u32(p, (uint32_t)v); }
static void ip4(struct pkt *p, const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	memcpy(p->b + p->n, &a, 4);
	p->n += 4;
}
static void ip6(struct pkt *p, const char *s)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, s, &a), 1);
	memcpy(p->b + p->n, &a, 16);
	p->n += 16;
}
/* Patch a 16-bit length at @at. */
static void set16(struct pkt *p, size_t at, unsigned v)
{
	p->b[at] = (uint8_t)(v >> 8);
	p->b[at + 1] = (uint8_t)v;
}
/* Open a set: returns where its length goes; close with set_end(). */
static size_t set_begin(struct pkt *p, unsigned id)
{
	size_t at = p->n;

	u16(p, id);
	u16(p, 0);
	return at;
}
static void set_end(struct pkt *p, size_t at)
{
	set16(p, at + 2, (unsigned)(p->n - at));
}

#define EXPORT_SECS 1700000000u
#define UPTIME_MS 100000u

static void v9_header(struct pkt *p, unsigned count, uint32_t seq,
		      uint32_t source)
{
	p->n = 0;
	u16(p, 9);
	u16(p, count);
	u32(p, UPTIME_MS);
	u32(p, EXPORT_SECS);
	u32(p, seq);
	u32(p, source);
}
static void ipfix_header(struct pkt *p, uint32_t seq, uint32_t domain)
{
	p->n = 0;
	u16(p, 10);
	u16(p, 0); /* length, patched by ipfix_end() */
	u32(p, EXPORT_SECS);
	u32(p, seq);
	u32(p, domain);
}
static void ipfix_end(struct pkt *p)
{
	set16(p, 2, (unsigned)p->n);
}

/* v5 header and records: @n records, flow i from 10.0.0.(i+1). */
static void v5_packet(struct pkt *p, unsigned n, uint32_t seq)
{
	p->n = 0;
	u16(p, 5);
	u16(p, n);
	u32(p, UPTIME_MS);
	u32(p, EXPORT_SECS);
	u32(p, 500000000); /* .5 s */
	u32(p, seq);
	u8(p, 0);
	u8(p, 7); /* engine 0/7 */
	u16(p, 0);
	for (unsigned i = 0; i < n; i++) {
		char a[32];

		snprintf(a, sizeof a, "10.0.0.%u", i + 1);
		ip4(p, a);
		ip4(p, "192.0.2.1");
		ip4(p, "0.0.0.0");
		u16(p, 1);
		u16(p, 2);
		u32(p, 10 + i);      /* packets */
		u32(p, 1000 + i);    /* octets */
		u32(p, 40000 + i);   /* First: 60 s before the export */
		u32(p, 90000);       /* Last */
		u16(p, i == 1 ? 0 : 1234);
		u16(p, i == 1 ? 0x0303 : 80); /* ICMP: unreachable/port */
		u8(p, 0);
		u8(p, 0x12);
		u8(p, i == 1 ? 1 : 6);
		u8(p, 0);
		u16(p, 0);
		u16(p, 0);
		u8(p, 0);
		u8(p, 0);
		u16(p, 0);
	}
}

/* --- decoder harness ------------------------------------------------------------ */

#define MAXEV 1024

struct collect {
	struct cep_event ev[MAXEV];
	unsigned n, calls, max_batch;
};

static int collect_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct collect *c = arg;

	c->calls++;
	if (n > c->max_batch)
		c->max_batch = n;
	for (unsigned i = 0; i < n && c->n < MAXEV; i++)
		c->ev[c->n++] = ev[i];
	return (int)n;
}

struct harness {
	struct collect c;
	struct cep_flow_stats st;
	struct cep_source src;
	struct cep_sink sink;
	struct cep_flow_decoder *dec;
	char *diag_text;
	size_t diag_len;
	FILE *diag;
};

static struct harness *h_new(void)
{
	struct harness *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	cep_source_init(&h->src, "test-flow");
	h->sink = (struct cep_sink){ collect_fn, &h->c };
	h->diag = open_memstream(&h->diag_text, &h->diag_len);
	ck_assert_ptr_nonnull(h->diag);
	ck_assert_int_eq(cep_flow_decoder_create(&h->src, &h->sink, &h->st,
						 h->diag, &h->dec), 0);
	return h;
}

static void h_free(struct harness *h)
{
	cep_flow_decoder_destroy(h->dec);
	fclose(h->diag);
	free(h->diag_text);
	free(h);
}

/* What the decoder reported so far. */
static const char *h_diag(struct harness *h)
{
	fflush(h->diag);
	return h->diag_text ? h->diag_text : "";
}

static void h_feed_from(struct harness *h, const char *addr,
			const struct pkt *p)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);

	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	ck_assert_int_eq(cep_flow_decode(h->dec, (struct sockaddr *)&ss, p->b,
					 p->n, 0), 0);
	ck_assert_int_eq(cep_flow_decoder_flush(h->dec, 0), 0);
}

static void h_feed(struct harness *h, const struct pkt *p)
{
	h_feed_from(h, "192.0.2.200", p);
}

static const char *ip_text(const struct cep_event *ev, int dst)
{
	static char buf[2][CEP_IP_STRLEN];

	return cep_ip_format(dst ? ev->dst_af : ev->src_af,
			     dst ? ev->dst_ip : ev->src_ip, buf[dst]);
}

static uint64_t ms(uint64_t v)
{
	return v * 1000000ull;
}

/* A v9/IPFIX IPv4 template: src, dst, sport, dport, proto, flags,
 * packets, bytes (8 bytes), first switched. */
static void tmpl_v4(struct pkt *p, unsigned id)
{
	u16(p, id);
	u16(p, 9);
	u16(p, 8); u16(p, 4);
	u16(p, 12); u16(p, 4);
	u16(p, 7); u16(p, 2);
	u16(p, 11); u16(p, 2);
	u16(p, 4); u16(p, 1);
	u16(p, 6); u16(p, 1);
	u16(p, 2); u16(p, 4);
	u16(p, 1); u16(p, 8);
	u16(p, 22); u16(p, 4);
}
#define REC_V4_LEN 30

static void rec_v4(struct pkt *p, const char *src, unsigned sport,
		   unsigned pkts, uint32_t first)
{
	ip4(p, src);
	ip4(p, "198.51.100.7");
	u16(p, sport);
	u16(p, 443);
	u8(p, 6);
	u8(p, 0x1b);
	u32(p, pkts);
	u64(p, pkts * 100ull);
	u32(p, first);
}

/* --- v5 ------------------------------------------------------------------------ */

START_TEST(v5_records_become_flow_events_with_header_time_arithmetic)
{
	struct harness *h = h_new();
	struct pkt p;

	v5_packet(&p, 3, 0);
	h_feed(h, &p);
	ck_assert_uint_eq(h->c.n, 3);
	ck_assert_uint_eq(h->st.read, 3);
	ck_assert_uint_eq(h->st.decoded, 3);
	ck_assert_uint_eq(h->st.malformed, 0);

	const struct cep_event *e = &h->c.ev[0];
	ck_assert_int_eq(e->kind, CEP_KIND_FLOW);
	ck_assert_int_eq(e->type, CEP_TYPE_TRAFFIC);
	ck_assert_str_eq(ip_text(e, 0), "10.0.0.1");
	ck_assert_str_eq(ip_text(e, 1), "192.0.2.1");
	ck_assert_uint_eq(e->src_port, 1234);
	ck_assert_uint_eq(e->dst_port, 80);
	ck_assert_uint_eq(e->proto, 6);
	ck_assert_uint_eq(e->tcp_flags, 0x12);
	ck_assert_uint_eq(e->packets, 10);
	ck_assert_uint_eq(e->bytes, 1000);
	ck_assert_str_eq(e->source, "test-flow");
	ck_assert_uint_eq(e->seq, 1);
	/* boot = export (1700000000.5 s) - uptime 100 s; start = boot + 40 s */
	ck_assert_uint_eq(e->ts, ms(1700000000500ull - 100000 + 40000));
	ck_assert_uint_eq(h->c.ev[2].ts, ms(1700000000500ull - 100000 + 40002));

	/* ICMP: type and code from the destination port, no ports. */
	e = &h->c.ev[1];
	ck_assert_uint_eq(e->proto, 1);
	ck_assert_uint_eq(e->icmp_type, 3);
	ck_assert_uint_eq(e->icmp_code, 3);
	ck_assert_uint_eq(e->src_port, 0);
	ck_assert_uint_eq(e->dst_port, 0);
	h_free(h);
}
END_TEST

START_TEST(v5_a_record_count_beyond_the_packet_is_reported_and_the_whole_records_kept)
{
	struct harness *h = h_new();
	struct pkt p;

	v5_packet(&p, 3, 0);
	p.n -= 10; /* the third record is cut */
	h_feed(h, &p);
	ck_assert_uint_eq(h->c.n, 2);
	ck_assert_uint_eq(h->st.malformed, 1);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "announces 3 records"));
	ck_assert_ptr_nonnull(strstr(h_diag(h), "exporter 192.0.2.200 v5"));
	h_free(h);
}
END_TEST

START_TEST(v5_sequence_gaps_count_lost_flows_and_a_restart_does_not)
{
	struct harness *h = h_new();
	struct pkt p;

	v5_packet(&p, 2, 100);
	h_feed(h, &p);     /* next expected: 102 */
	v5_packet(&p, 2, 107);
	h_feed(h, &p);     /* 5 flows lost */
	v5_packet(&p, 2, 109);
	h_feed(h, &p);     /* in order */
	ck_assert_uint_eq(h->st.lost_flows, 5);
	v5_packet(&p, 2, 3);
	h_feed(h, &p);     /* backwards: a restart, resynchronised */
	ck_assert_uint_eq(h->st.lost_flows, 5);
	v5_packet(&p, 1, 6);
	h_feed(h, &p);     /* 1 lost after the restart */
	ck_assert_uint_eq(h->st.lost_flows, 6);
	h_free(h);
}
END_TEST

/* --- v9 ------------------------------------------------------------------------ */

START_TEST(v9_template_and_data_in_sets_that_are_not_4_byte_aligned)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	v9_header(&p, 4, 0, 1);
	s = set_begin(&p, 0);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	/* Two records: 4 + 60 = 64 bytes; then one of 34 bytes, unaligned,
	 * followed at once by the next set (softflowd does this). */
	s = set_begin(&p, 300);
	rec_v4(&p, "10.1.0.1", 1001, 5, 90000);
	rec_v4(&p, "10.1.0.2", 1002, 6, 91000);
	set_end(&p, s);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.1.0.3", 1003, 7, 92000);
	set_end(&p, s);
	ck_assert_uint_eq((p.n - s) % 4, 2);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.1.0.4", 1004, 8, 93000);
	u8(&p, 0); /* two bytes of padding inside the set */
	u8(&p, 0);
	set_end(&p, s);
	h_feed(h, &p);

	ck_assert_uint_eq(h->st.malformed, 0);
	ck_assert_uint_eq(h->st.templates, 1);
	ck_assert_uint_eq(h->c.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct cep_event *e = &h->c.ev[i];
		char want[32];

		snprintf(want, sizeof want, "10.1.0.%u", i + 1);
		ck_assert_str_eq(ip_text(e, 0), want);
		ck_assert_str_eq(ip_text(e, 1), "198.51.100.7");
		ck_assert_uint_eq(e->src_port, 1001 + i);
		ck_assert_uint_eq(e->dst_port, 443);
		ck_assert_uint_eq(e->packets, 5 + i);
		ck_assert_uint_eq(e->bytes, (5 + i) * 100);
		ck_assert_uint_eq(e->tcp_flags, 0x1b);
		/* boot = 1700000000 s - 100 s; start = boot + FIRST_SWITCHED */
		ck_assert_uint_eq(e->ts, ms(1700000000000ull - UPTIME_MS +
					    90000 + 1000 * i));
	}
	h_free(h);
}
END_TEST

START_TEST(v9_options_template_records_are_counted_not_emitted)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	v9_header(&p, 2, 0, 1);
	s = set_begin(&p, 1);
	u16(&p, 257);
	u16(&p, 4);  /* scope: system (1), 4 bytes */
	u16(&p, 8);  /* options: sampling interval 34 (4), algorithm 35 (1)...*/
	u16(&p, 1); u16(&p, 4);
	u16(&p, 34); u16(&p, 4);
	u16(&p, 35); u16(&p, 1);
	set_end(&p, s);
	s = set_begin(&p, 257);
	u32(&p, 1); u32(&p, 100); u8(&p, 2);
	u32(&p, 2); u32(&p, 10); u8(&p, 1);
	u8(&p, 0); u8(&p, 0); /* padding */
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.options_templates, 1);
	ck_assert_uint_eq(h->st.options_records, 2);
	ck_assert_uint_eq(h->st.read, 0);
	ck_assert_uint_eq(h->c.n, 0);
	ck_assert_uint_eq(h->st.malformed, 0);
	h_free(h);
}
END_TEST

START_TEST(v9_sequence_counts_packets)
{
	struct harness *h = h_new();
	struct pkt p;

	v9_header(&p, 0, 10, 1);
	h_feed(h, &p);
	v9_header(&p, 0, 11, 1);
	h_feed(h, &p);
	v9_header(&p, 0, 15, 1);
	h_feed(h, &p); /* 12, 13, 14 lost */
	ck_assert_uint_eq(h->st.lost_packets, 3);
	ck_assert_uint_eq(h->st.lost_flows, 0);
	/* Another source id of the same exporter has its own sequence. */
	v9_header(&p, 0, 500, 2);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.lost_packets, 3);
	ck_assert_uint_eq(h->st.exporters, 2);
	h_free(h);
}
END_TEST

START_TEST(data_before_its_template_is_buffered_and_replayed)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	v9_header(&p, 1, 0, 1);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.2.0.1", 2001, 3, 95000);
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->c.n, 0);
	ck_assert_uint_eq(h->st.pending, 1);

	v9_header(&p, 1, 1, 1);
	s = set_begin(&p, 0);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.replayed, 1);
	ck_assert_uint_eq(h->c.n, 1);
	ck_assert_str_eq(ip_text(&h->c.ev[0], 0), "10.2.0.1");
	/* The replayed set keeps its own packet's header times. */
	ck_assert_uint_eq(h->c.ev[0].ts, ms(1700000000000ull - UPTIME_MS + 95000));
	ck_assert_uint_eq(h->st.no_template, 0);
	h_free(h);
}
END_TEST

START_TEST(pending_sets_beyond_the_bound_and_at_the_end_count_as_no_template)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	for (unsigned i = 0; i < CEP_FLOW_PENDING_SETS + 3; i++) {
		v9_header(&p, 1, i, 1);
		s = set_begin(&p, 400 + i % 2);
		rec_v4(&p, "10.3.0.1", 3000 + i, 1, 90000);
		set_end(&p, s);
		h_feed(h, &p);
	}
	ck_assert_uint_eq(h->st.pending, CEP_FLOW_PENDING_SETS + 3);
	ck_assert_uint_eq(h->st.no_template, 3);
	/* Template 400 arrives: its sets still held are decoded. */
	v9_header(&p, 1, 100, 1);
	s = set_begin(&p, 0);
	tmpl_v4(&p, 400);
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->c.n, CEP_FLOW_PENDING_SETS / 2);
	ck_assert_uint_eq(cep_flow_decoder_flush(h->dec, 1), 0);
	ck_assert_uint_eq(h->st.no_template, 3 + CEP_FLOW_PENDING_SETS / 2);
	h_free(h);
}
END_TEST

START_TEST(two_exporters_with_the_same_template_id_are_kept_apart)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	/* Exporter A: template 300 = the IPv4 layout. */
	v9_header(&p, 1, 0, 0);
	s = set_begin(&p, 0);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	h_feed_from(h, "192.0.2.10", &p);
	/* Exporter B (IPv6): template 300 = dst port, src port, proto. */
	v9_header(&p, 1, 0, 0);
	s = set_begin(&p, 0);
	u16(&p, 300); u16(&p, 3);
	u16(&p, 11); u16(&p, 2);
	u16(&p, 7); u16(&p, 2);
	u16(&p, 4); u16(&p, 1);
	set_end(&p, s);
	h_feed_from(h, "2001:db8::10", &p);

	v9_header(&p, 1, 1, 0);
	s = set_begin(&p, 300);
	u16(&p, 53); u16(&p, 4444); u8(&p, 17);
	set_end(&p, s);
	h_feed_from(h, "2001:db8::10", &p);
	v9_header(&p, 1, 1, 0);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.4.0.1", 4001, 2, 90000);
	set_end(&p, s);
	h_feed_from(h, "192.0.2.10", &p);

	ck_assert_uint_eq(h->st.malformed, 0);
	ck_assert_uint_eq(h->st.exporters, 2);
	ck_assert_uint_eq(h->c.n, 2);
	ck_assert_uint_eq(h->c.ev[0].dst_port, 53);
	ck_assert_uint_eq(h->c.ev[0].src_port, 4444);
	ck_assert_uint_eq(h->c.ev[0].proto, 17);
	ck_assert_uint_eq(h->c.ev[1].src_port, 4001);
	ck_assert_str_eq(ip_text(&h->c.ev[1], 0), "10.4.0.1");
	h_free(h);
}
END_TEST

/* --- IPFIX ---------------------------------------------------------------------- */

START_TEST(ipfix_variable_length_and_enterprise_fields_are_walked)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 7);
	s = set_begin(&p, 2);
	u16(&p, 256); u16(&p, 8);
	u16(&p, 27); u16(&p, 16);            /* sourceIPv6Address */
	u16(&p, 0x8000 | 100); u16(&p, 4); u32(&p, 29305); /* enterprise */
	u16(&p, 82); u16(&p, 0xffff);        /* interfaceName, variable */
	u16(&p, 28); u16(&p, 16);            /* destinationIPv6Address */
	u16(&p, 0x8000 | 7); u16(&p, 0xffff); u32(&p, 9); /* enterprise var */
	u16(&p, 4); u16(&p, 1);              /* protocol */
	u16(&p, 2); u16(&p, 2);              /* packets, reduced size */
	u16(&p, 152); u16(&p, 8);            /* flowStartMilliseconds */
	set_end(&p, s);
	s = set_begin(&p, 256);
	/* Record 1: a 3-byte name (1-byte prefix), 300 bytes (3-byte). */
	ip6(&p, "2001:db8::1");
	u32(&p, 0xdeadbeef);
	u8(&p, 3); u8(&p, 'e'); u8(&p, 't'); u8(&p, 'h');
	ip6(&p, "2001:db8::2");
	u8(&p, 255); u16(&p, 300);
	memset(p.b + p.n, 0xee, 300);
	p.n += 300;
	u8(&p, 58);
	u16(&p, 9);
	u64(&p, 1700000001234ull);
	/* Record 2: empty variable fields. */
	ip6(&p, "2001:db8::3");
	u32(&p, 0);
	u8(&p, 0);
	ip6(&p, "2001:db8::4");
	u8(&p, 0);
	u8(&p, 17);
	u16(&p, 1);
	u64(&p, 1700000005000ull);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);

	ck_assert_uint_eq(h->st.malformed, 0);
	ck_assert_uint_eq(h->c.n, 2);
	ck_assert_str_eq(ip_text(&h->c.ev[0], 0), "2001:db8::1");
	ck_assert_str_eq(ip_text(&h->c.ev[0], 1), "2001:db8::2");
	ck_assert_uint_eq(h->c.ev[0].proto, 58);
	ck_assert_uint_eq(h->c.ev[0].packets, 9);
	ck_assert_uint_eq(h->c.ev[0].ts, ms(1700000001234ull));
	ck_assert_str_eq(ip_text(&h->c.ev[1], 1), "2001:db8::4");
	ck_assert_uint_eq(h->c.ev[1].proto, 17);
	ck_assert_uint_eq(h->c.ev[1].ts, ms(1700000005000ull));
	h_free(h);
}
END_TEST

START_TEST(ipfix_options_give_system_init_time_for_uptime_stamps)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 3);
	u16(&p, 500); u16(&p, 2); u16(&p, 1);
	u16(&p, 143); u16(&p, 4);  /* scope: meteringProcessId */
	u16(&p, 160); u16(&p, 8);  /* systemInitTimeMilliseconds */
	set_end(&p, s);
	s = set_begin(&p, 500);
	u32(&p, 1);
	u64(&p, 1690000000000ull);
	set_end(&p, s);
	s = set_begin(&p, 2);
	u16(&p, 600); u16(&p, 3);
	u16(&p, 8); u16(&p, 4);
	u16(&p, 22); u16(&p, 4);   /* flowStartSysUpTime */
	u16(&p, 21); u16(&p, 4);   /* flowEndSysUpTime */
	set_end(&p, s);
	s = set_begin(&p, 600);
	ip4(&p, "10.5.0.1");
	u32(&p, 5000);
	u32(&p, 9000);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.options_templates, 1);
	ck_assert_uint_eq(h->st.options_records, 1);
	ck_assert_uint_eq(h->c.n, 1);
	ck_assert_uint_eq(h->c.ev[0].ts, ms(1690000005000ull));
	h_free(h);
}
END_TEST

START_TEST(ipfix_template_withdrawals_over_udp_are_counted_and_ignored)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	tmpl_v4(&p, 300);
	tmpl_v4(&p, 301);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.templates, 2);

	/* One spoofed datagram withdrawing one template, every data
	 * template and every options template, then data for both. */
	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	u16(&p, 301); u16(&p, 0);
	u16(&p, 2); u16(&p, 0);
	set_end(&p, s);
	s = set_begin(&p, 3);
	u16(&p, 3); u16(&p, 0);
	set_end(&p, s);
	s = set_begin(&p, 301);
	rec_v4(&p, "10.6.0.1", 1, 1, 0);
	set_end(&p, s);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.6.0.2", 2, 1, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.withdrawals, 3);
	ck_assert_uint_eq(h->st.malformed, 0);
	ck_assert_uint_eq(h->st.pending, 0);
	ck_assert_uint_eq(h->c.n, 2);
	ck_assert_str_eq(ip_text(&h->c.ev[0], 0), "10.6.0.1");
	ck_assert_str_eq(ip_text(&h->c.ev[1], 0), "10.6.0.2");
	h_free(h);
}
END_TEST

static void ipfix_header_at(struct pkt *p, uint32_t seq, uint32_t domain,
			    uint32_t secs)
{
	ipfix_header(p, seq, domain);
	p->b[4] = (uint8_t)(secs >> 24);
	p->b[5] = (uint8_t)(secs >> 16);
	p->b[6] = (uint8_t)(secs >> 8);
	p->b[7] = (uint8_t)secs;
}

/* An IPFIX message at export time @secs with one record of template 300. */
static void ipfix_data_at(struct harness *h, uint32_t secs, const char *src)
{
	struct pkt p;
	size_t s;

	ipfix_header_at(&p, 0, 1, secs);
	s = set_begin(&p, 300);
	rec_v4(&p, src, 1, 1, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
}

static void ipfix_template_at(struct harness *h, uint32_t secs)
{
	struct pkt p;
	size_t s;

	ipfix_header_at(&p, 0, 1, secs);
	s = set_begin(&p, 2);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
}

START_TEST(templates_expire_after_their_lifetime_of_export_time_unrefreshed)
{
	struct harness *h = h_new();
	const uint32_t t0 = EXPORT_SECS, life = CEP_FLOW_TEMPLATE_LIFETIME;

	ipfix_template_at(h, t0);
	ipfix_data_at(h, t0 + life, "10.12.0.1");      /* just alive */
	ipfix_data_at(h, t0 - 86400, "10.12.0.2");     /* a clock set back */
	ck_assert_uint_eq(h->c.n, 2);
	ck_assert_uint_eq(h->st.templates_expired, 0);

	/* A refresh restarts the lifetime. */
	ipfix_template_at(h, t0 + life);
	ipfix_data_at(h, t0 + 2 * life, "10.12.0.3");
	ck_assert_uint_eq(h->c.n, 3);

	/* One second too late: the template is gone, its data waits. */
	ipfix_data_at(h, t0 + 2 * life + 1, "10.12.0.4");
	ck_assert_uint_eq(h->st.templates_expired, 1);
	ck_assert_uint_eq(h->c.n, 3);
	ck_assert_uint_eq(h->st.pending, 1);
	ipfix_template_at(h, t0 + 2 * life + 2);
	ck_assert_uint_eq(h->st.replayed, 1);
	ck_assert_uint_eq(h->c.n, 4);
	ck_assert_str_eq(ip_text(&h->c.ev[3], 0), "10.12.0.4");
	h_free(h);
}
END_TEST

static int count_exporters(void *arg, const struct cep_flow_exporter_info *i)
{
	(void)i;
	(*(unsigned *)arg)++;
	return 0;
}

static void addr_of(char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255,
		 i & 255);
}

START_TEST(an_exporter_flood_evicts_the_least_recently_heard_within_budget)
{
	struct harness *h = h_new();
	const unsigned flood = 2 * CEP_FLOW_MAX_EXPORTERS + 100;
	unsigned known = 0;
	char a[32];
	struct pkt p;
	size_t s;

	ipfix_template_at(h, EXPORT_SECS);
	for (unsigned i = 0; i < flood; i++) {
		/* Spoofed exporters, each with a template. */
		ipfix_header(&p, 0, i);
		s = set_begin(&p, 2);
		tmpl_v4(&p, 300 + i % 100);
		set_end(&p, s);
		ipfix_end(&p);
		addr_of(a, sizeof a, i);
		h_feed_from(h, a, &p);
		/* The real exporter keeps talking, and keeps its template. */
		if (i % 512 == 0)
			ipfix_data_at(h, EXPORT_SECS, "10.13.0.1");
	}
	ck_assert_uint_eq(h->st.exporters, flood + 1);
	ck_assert_uint_eq(h->st.exporters_evicted,
			  flood + 1 - CEP_FLOW_MAX_EXPORTERS);
	ck_assert_int_eq(cep_flow_decoder_exporters(h->dec, count_exporters,
						    &known), 0);
	ck_assert_uint_eq(known, CEP_FLOW_MAX_EXPORTERS);
	ck_assert_uint_le(h->st.memory_peak, CEP_FLOW_MEMORY_MAX);
	ck_assert_uint_eq(h->st.decoded, flood / 512 + 1);
	ck_assert_uint_eq(h->st.pending, 0);
	ck_assert_uint_eq(h->st.unsupported, 0);

	/* A new exporter is still taken. */
	v5_packet(&p, 2, 0);
	h_feed_from(h, "198.51.100.99", &p);
	ck_assert_uint_eq(h->st.decoded, flood / 512 + 3);
	cep_flow_decoder_destroy(h->dec);
	h->dec = NULL;
	ck_assert_uint_eq(h->st.memory, 0);
	h_free(h);
}
END_TEST

START_TEST(a_template_flood_stays_within_the_memory_budget)
{
	struct harness *h = h_new();
	/* Each exporter fills its template table with the widest templates;
	 * enough exporters for twice the budget. */
	const size_t per = CEP_FLOW_MAX_TEMPLATES * (size_t)CEP_FLOW_MAX_FIELDS *
			   4;
	const unsigned exporters = (unsigned)(2 * CEP_FLOW_MEMORY_MAX / per) + 1;
	char a[32];
	struct pkt p;

	for (unsigned x = 0; x < exporters; x++) {
		addr_of(a, sizeof a, x);
		for (unsigned t = 0; t < CEP_FLOW_MAX_TEMPLATES;) {
			ipfix_header(&p, 0, 1);
			size_t s = set_begin(&p, 2);
			for (unsigned k = 0; k < 7 && t < CEP_FLOW_MAX_TEMPLATES;
			     k++, t++) {
				u16(&p, 256 + t);
				u16(&p, CEP_FLOW_MAX_FIELDS);
				for (unsigned f = 0; f < CEP_FLOW_MAX_FIELDS; f++) {
					u16(&p, 210); /* paddingOctets */
					u16(&p, 4);
				}
			}
			set_end(&p, s);
			ipfix_end(&p);
			h_feed_from(h, a, &p);
		}
	}
	ck_assert_uint_eq(h->st.templates,
			  (uint64_t)exporters * CEP_FLOW_MAX_TEMPLATES);
	ck_assert_uint_le(h->st.memory_peak, CEP_FLOW_MEMORY_MAX);
	ck_assert_uint_ge(h->st.memory_peak, CEP_FLOW_MEMORY_MAX - 2 * per);
	ck_assert_uint_gt(h->st.exporters_evicted, exporters / 3);
	ck_assert_uint_eq(h->st.over_budget, 0);
	ck_assert_uint_eq(h->st.malformed, 0);
	cep_flow_decoder_destroy(h->dec);
	h->dec = NULL;
	ck_assert_uint_eq(h->st.memory, 0);
	h_free(h);
}
END_TEST

static int lost_by_domain(void *arg, const struct cep_flow_exporter_info *i)
{
	uint64_t *lost = arg;

	ck_assert_uint_eq(i->version, 10);
	ck_assert_uint_lt(i->domain, 3);
	lost[i->domain] = i->lost;
	return 0;
}

START_TEST(ipfix_sequence_counts_data_records_per_domain)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.7.0.1", 1, 1, 0);
	rec_v4(&p, "10.7.0.2", 2, 1, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);      /* records 0, 1: next is 2 */
	ipfix_header(&p, 2, 1);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.7.0.3", 3, 1, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);      /* in order: next is 3 */
	ck_assert_uint_eq(h->st.lost_flows, 0);
	ipfix_header(&p, 10, 1);
	ipfix_end(&p);
	h_feed(h, &p);      /* 7 records lost */
	ck_assert_uint_eq(h->st.lost_flows, 7);
	/* Domain 2 of the same exporter starts its own count. */
	ipfix_header(&p, 1000, 2);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.lost_flows, 7);

	uint64_t lost[3] = { 0 };
	ck_assert_int_eq(cep_flow_decoder_exporters(h->dec, lost_by_domain,
						    lost), 0);
	ck_assert_uint_eq(lost[1], 7);
	ck_assert_uint_eq(lost[2], 0);
	h_free(h);
}
END_TEST

/* --- damage ---------------------------------------------------------------------- */

START_TEST(a_set_running_past_the_packet_is_reported_with_its_offset_and_work_goes_on)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	v9_header(&p, 2, 0, 1);
	s = set_begin(&p, 0);
	tmpl_v4(&p, 300);
	set_end(&p, s);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.8.0.1", 1, 1, 90000);
	set_end(&p, s);
	set16(&p, s + 2, 200); /* claims more than the packet holds */
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 1);
	ck_assert_uint_eq(h->c.n, 0);
	char want[96];
	snprintf(want, sizeof want, "set 300 of length 200 runs past the end "
		 "of the packet at byte %zu", s);
	ck_assert_msg(strstr(h_diag(h), want), "diag: %s", h_diag(h));
	ck_assert_ptr_nonnull(strstr(h_diag(h), "exporter 192.0.2.200 v9 domain 1"));

	/* The template survived: the next packet decodes. */
	v9_header(&p, 1, 1, 1);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.8.0.2", 2, 1, 90000);
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->c.n, 1);
	h_free(h);
}
END_TEST

START_TEST(a_truncated_template_and_a_short_record_are_malformed)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	v9_header(&p, 1, 0, 1);
	s = set_begin(&p, 0);
	u16(&p, 300); u16(&p, 9); /* 9 fields announced, 2 given */
	u16(&p, 8); u16(&p, 4);
	u16(&p, 12); u16(&p, 4);
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 1);
	ck_assert_uint_eq(h->st.templates, 0);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "template 300 with 9 fields "
				     "runs past the end of its set at byte 24"));

	/* IPFIX: a variable-length field whose length runs past its set. */
	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	u16(&p, 256); u16(&p, 1);
	u16(&p, 82); u16(&p, 0xffff);
	set_end(&p, s);
	s = set_begin(&p, 256);
	u8(&p, 5); u8(&p, 'a'); u8(&p, 'b'); u8(&p, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 2);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "record of template 256 runs "
				     "past the end of its set"));

	/* Unknown versions and runts. */
	p.n = 0;
	u16(&p, 7);
	u16(&p, 0);
	h_feed(h, &p);
	p.n = 1;
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 4);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "version 7 is not"));
	h_free(h);
}
END_TEST

START_TEST(every_prefix_and_every_corruption_of_a_packet_decodes_within_it)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	tmpl_v4(&p, 300);
	u16(&p, 301); u16(&p, 2);
	u16(&p, 82); u16(&p, 0xffff);
	u16(&p, 0x8000 | 1); u16(&p, 0xffff); u32(&p, 1);
	set_end(&p, s);
	s = set_begin(&p, 3);
	u16(&p, 302); u16(&p, 2); u16(&p, 1);
	u16(&p, 143); u16(&p, 4);
	u16(&p, 160); u16(&p, 8);
	set_end(&p, s);
	s = set_begin(&p, 300);
	rec_v4(&p, "10.9.0.1", 1, 1, 0);
	set_end(&p, s);
	s = set_begin(&p, 301);
	u8(&p, 2); u8(&p, 'x'); u8(&p, 'y'); u8(&p, 255); u16(&p, 1); u8(&p, 9);
	set_end(&p, s);
	ipfix_end(&p);
	/* Each prefix in a fresh heap copy: ASan sees any read past it. */
	for (size_t n = 0; n <= p.n; n++) {
		uint8_t *b = malloc(n ? n : 1);

		memcpy(b, p.b, n);
		cep_flow_decode(h->dec, NULL, b, n, 0);
		free(b);
	}
	/* Every single-byte corruption. */
	for (size_t i = 0; i < p.n; i++) {
		for (unsigned v = 0; v < 256; v += 51) {
			uint8_t *b = malloc(p.n);

			memcpy(b, p.b, p.n);
			b[i] ^= (uint8_t)(v | 1);
			cep_flow_decode(h->dec, NULL, b, p.n, 0);
			free(b);
		}
	}
	ck_assert_uint_gt(h->st.decoded, 0);
	ck_assert_uint_gt(h->st.malformed, 0);
	ck_assert_uint_le(h->c.max_batch, CEP_COLLECTOR_BATCH);
	h_free(h);
}
END_TEST

START_TEST(templates_no_set_could_hold_and_v9_length_65535_are_malformed)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	/* 256 fields of 65534 bytes: no set could ever hold a record. */
	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 2);
	u16(&p, 256); u16(&p, CEP_FLOW_MAX_FIELDS);
	for (unsigned f = 0; f < CEP_FLOW_MAX_FIELDS; f++) {
		u16(&p, 210);
		u16(&p, 0xfffe);
	}
	/* The largest record a set holds, and one byte more. */
	u16(&p, 257); u16(&p, 1); u16(&p, 210); u16(&p, CEP_FLOW_RECORD_MAX);
	u16(&p, 258); u16(&p, 1); u16(&p, 210);
	u16(&p, CEP_FLOW_RECORD_MAX + 1);
	set_end(&p, s);
	s = set_begin(&p, 256);
	u32(&p, 0);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 2);
	ck_assert_uint_eq(h->st.templates, 1);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "template 256 describes records "
				     "of at least 16776704 bytes, more than a "
				     "set holds (65515) at byte 20"));
	ck_assert_ptr_nonnull(strstr(h_diag(h), "template 258 describes records "
				     "of at least 65516 bytes"));
	/* Its data is not dropped unseen: it waits for a usable template. */
	ck_assert_uint_eq(h->st.pending, 1);

	/* v9 has no variable-length fields: 65535 is no length. */
	v9_header(&p, 1, 0, 1);
	s = set_begin(&p, 0);
	u16(&p, 300); u16(&p, 2);
	u16(&p, 8); u16(&p, 4);
	u16(&p, 82); u16(&p, 0xffff);
	tmpl_v4(&p, 301);
	set_end(&p, s);
	s = set_begin(&p, 300);
	ip4(&p, "10.14.0.1");
	u8(&p, 1); u8(&p, 'x');
	set_end(&p, s);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 3);
	ck_assert_uint_eq(h->st.templates, 2); /* 301 after it is learned */
	ck_assert_uint_eq(h->st.pending, 2);
	ck_assert_uint_eq(h->c.n, 0);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "template 300: field 2 has "
				     "length 65535, which v9 cannot encode at "
				     "byte 24"));
	h_free(h);
}
END_TEST

START_TEST(ipfix_options_templates_need_a_scope_count_within_their_fields)
{
	struct harness *h = h_new();
	struct pkt p;
	size_t s;

	ipfix_header(&p, 0, 1);
	s = set_begin(&p, 3);
	u16(&p, 500); u16(&p, 2); u16(&p, 0);   /* no scope */
	u16(&p, 143); u16(&p, 4);
	u16(&p, 160); u16(&p, 8);
	u16(&p, 501); u16(&p, 2); u16(&p, 3);   /* 3 scopes of 2 fields */
	u16(&p, 143); u16(&p, 4);
	u16(&p, 160); u16(&p, 8);
	u16(&p, 502); u16(&p, 2); u16(&p, 2);   /* all fields scope: fine */
	u16(&p, 143); u16(&p, 4);
	u16(&p, 160); u16(&p, 8);
	set_end(&p, s);
	ipfix_end(&p);
	h_feed(h, &p);
	ck_assert_uint_eq(h->st.malformed, 2);
	ck_assert_uint_eq(h->st.options_templates, 1);
	ck_assert_ptr_nonnull(strstr(h_diag(h), "options template 500: scope "
				     "field count 0 is not within 1..2 at byte "
				     "20"));
	ck_assert_ptr_nonnull(strstr(h_diag(h), "options template 501: scope "
				     "field count 3 is not within 1..2 at byte "
				     "34"));
	h_free(h);
}
END_TEST

/* --- capture files ------------------------------------------------------------- */

static char tmp[1024];

/* Write one capture of @linktype holding a UDP datagram with @payload from
 * @src (v4 or v6) wrapped for that link type. */
static void write_capture(const char *path, int linktype, const char *src,
			  const struct pkt *payload, unsigned copies)
{
	pcap_t *dead = pcap_open_dead(linktype, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	uint8_t f[9000];
	size_t n = 0, ipstart;
	int v6 = strchr(src, ':') != NULL;

	ck_assert_ptr_nonnull(d);
	memset(f, 0, sizeof f);
	switch (linktype) {
	case DLT_EN10MB:
		f[12] = 0x81; /* one 802.1Q tag */
		f[13] = 0x00;
		f[15] = 5;
		f[16] = v6 ? 0x86 : 0x08;
		f[17] = v6 ? 0xdd : 0x00;
		n = 18;
		break;
	case DLT_LINUX_SLL:
		f[14] = v6 ? 0x86 : 0x08;
		f[15] = v6 ? 0xdd : 0x00;
		n = 16;
		break;
	case DLT_NULL: {
		uint32_t fam = v6 ? 30 : 2;
		memcpy(f, &fam, 4);
		n = 4;
		break;
	}
	default:
		n = 0;
	}
	ipstart = n;
	size_t udp = v6 ? 40 : 20, total = udp + 8 + payload->n;
	if (v6) {
		f[n] = 0x60;
		f[n + 4] = (uint8_t)((total - 40) >> 8);
		f[n + 5] = (uint8_t)(total - 40);
		f[n + 6] = 17;
		inet_pton(AF_INET6, src, f + n + 8);
		inet_pton(AF_INET6, "2001:db8::99", f + n + 24);
	} else {
		f[n] = 0x45;
		f[n + 2] = (uint8_t)(total >> 8);
		f[n + 3] = (uint8_t)total;
		f[n + 9] = 17;
		inet_pton(AF_INET, src, f + n + 12);
		inet_pton(AF_INET, "192.0.2.99", f + n + 16);
	}
	n += udp;
	f[n] = 0x80; f[n + 1] = 0x01;   /* ports */
	f[n + 2] = 0x08; f[n + 3] = 0x07;
	f[n + 4] = (uint8_t)((payload->n + 8) >> 8);
	f[n + 5] = (uint8_t)(payload->n + 8);
	n += 8;
	memcpy(f + n, payload->b, payload->n);
	n += payload->n;
	(void)ipstart;
	for (unsigned i = 0; i < copies; i++) {
		struct pcap_pkthdr hd = { .caplen = (bpf_u_int32)n,
					  .len = (bpf_u_int32)n };
		hd.ts.tv_sec = 1700000000 + i;
		pcap_dump((u_char *)d, &hd, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

START_TEST(captures_of_every_link_type_and_both_families_decode)
{
	static const struct {
		int lt;
		const char *src;
	} cases[] = {
		{ DLT_EN10MB, "192.0.2.31" }, { DLT_EN10MB, "2001:db8::31" },
		{ DLT_LINUX_SLL, "192.0.2.32" }, { DLT_RAW, "2001:db8::33" },
		{ DLT_NULL, "192.0.2.34" }, { DLT_NULL, "2001:db8::34" },
	};
	struct pkt p;
	char path[1200];

	v5_packet(&p, 3, 0);
	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct collect *c = calloc(1, sizeof *c);
		struct cep_sink sink = { collect_fn, c };
		struct cep_flow_stats st;

		memset(&st, 0, sizeof st);
		snprintf(path, sizeof path, "%s/lt%u.pcap", tmp, k);
		write_capture(path, cases[k].lt, cases[k].src, &p, 2);
		ck_assert_int_eq(cep_flow_read_pcap(path, NULL, &sink, &st,
						    stderr), 0);
		ck_assert_msg(c->n == 6, "case %u: %u events", k, c->n);
		ck_assert_uint_eq(st.packets, 2);
		ck_assert_uint_eq(st.exporters, 1);
		ck_assert_uint_eq(st.unsupported, 0);
		/* The same sequence number twice is a step back, not a gap. */
		ck_assert_uint_eq(st.lost_flows, 0);
		free(c);
	}
}
END_TEST

START_TEST(a_damaged_export_packet_in_a_capture_names_the_file_and_offset)
{
	struct pkt p;
	char path[1200];
	struct collect *c = calloc(1, sizeof *c);
	struct cep_sink sink = { collect_fn, c };
	struct cep_flow_stats st;
	char *text = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&text, &len);

	memset(&st, 0, sizeof st);
	v5_packet(&p, 2, 0);
	p.b[3] = 9; /* announces 9 records */
	snprintf(path, sizeof path, "%s/bad.pcap", tmp);
	write_capture(path, DLT_RAW, "192.0.2.40", &p, 2);
	ck_assert_int_eq(cep_flow_read_pcap(path, NULL, &sink, &st, diag), 0);
	fclose(diag);
	ck_assert_uint_eq(st.malformed, 2);
	ck_assert_uint_eq(c->n, 4);
	/* The second packet record starts after the 24-byte file header,
	 * one 16-byte record header and the first packet. */
	char want[1400];
	snprintf(want, sizeof want, "%s: byte offset %zu: exporter 192.0.2.40 "
		 "v5 domain 7: v5 header announces 9 records", path,
		 (size_t)24 + 16 + 28 + p.n);
	ck_assert_msg(strstr(text, want), "diag: %s", text);

	/* A missing file is an error that names it. */
	snprintf(path, sizeof path, "%s/none.pcap", tmp);
	ck_assert_int_eq(cep_flow_read_pcap(path, NULL, &sink, &st, stderr),
			 -ENOENT);
	ck_assert_uint_eq(st.files_failed, 1);
	free(text);
	free(c);
}
END_TEST

/* --- UDP ----------------------------------------------------------------------- */

struct listener {
	const char *addr;
	struct collect c;
	struct cep_sink sink;
	struct cep_flow_stats st;
	volatile int port;
	int rc;
};

static void *listen_thread(void *arg)
{
	struct listener *l = arg;

	l->rc = cep_flow_listen(l->addr, NULL, &l->sink, &l->st, stderr,
				&l->port);
	return NULL;
}

static void listen_and_send(const char *addr, int family, const char *to)
{
	struct listener *l = calloc(1, sizeof *l);
	pthread_t th;
	struct pkt p;
	int fd;

	l->addr = addr;
	l->sink = (struct cep_sink){ collect_fn, &l->c };
	cep_flow_stop_reset();
	ck_assert_int_eq(pthread_create(&th, NULL, listen_thread, l), 0);
	/* Wait for the bind, not for a time: the port appears, or the
	 * thread has failed (rc set and the port left 0). */
	while (__atomic_load_n(&l->port, __ATOMIC_ACQUIRE) == 0 && !l->rc)
		usleep(1000);
	ck_assert_int_eq(l->rc, 0);

	fd = socket(family, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)l->port);
		inet_pton(AF_INET6, to, &s6->sin6_addr);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)l->port);
		inet_pton(AF_INET, to, &s4->sin_addr);
		sl = sizeof *s4;
	}
	for (uint32_t i = 0; i < 10; i++) {
		v5_packet(&p, 3, i * 3);
		ck_assert_int_eq(sendto(fd, p.b, p.n, 0, (struct sockaddr *)&ss,
					sl), (ssize_t)p.n);
	}
	close(fd);
	/* Loopback does not lose these ten: wait until all are decoded. */
	while (__atomic_load_n(&l->st.decoded, __ATOMIC_RELAXED) < 30)
		usleep(1000);
	cep_flow_stop();
	pthread_join(th, NULL);
	ck_assert_int_eq(l->rc, 0);
	ck_assert_uint_eq(l->c.n, 30);
	ck_assert_uint_eq(l->st.packets, 10);
	ck_assert_uint_eq(l->st.lost_flows, 0);
	ck_assert_uint_eq(l->st.exporters, 1);
	ck_assert_uint_eq(l->st.socket_drops, 0);
	cep_flow_stop_reset();
	free(l);
}

START_TEST(the_udp_listener_decodes_ipv4_export_packets)
{
	listen_and_send("127.0.0.1:0", AF_INET, "127.0.0.1");
}
END_TEST

START_TEST(the_udp_listener_decodes_ipv6_export_packets)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&s6, sizeof s6) == 0;

	if (fd >= 0)
		close(fd);
	if (!ok) {
		printf("notice: no IPv6 loopback; IPv6 listener test skipped\n");
		return;
	}
	listen_and_send("[::1]:0", AF_INET6, "::1");
}
END_TEST

START_TEST(listen_addresses_parse_and_bad_ones_are_refused)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	ck_assert_int_eq(cep_flow_parse_addr("127.0.0.1:2055", &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(cep_flow_parse_addr(":4739", &ss, &sl), 0);
	ck_assert_int_eq(cep_flow_parse_addr("[::1]:9995", &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(cep_flow_parse_addr("::1:9995", &ss, &sl), -EINVAL);
	ck_assert_int_eq(cep_flow_parse_addr("127.0.0.1", &ss, &sl), -EINVAL);
	ck_assert_int_eq(cep_flow_parse_addr("127.0.0.1:70000", &ss, &sl), -EINVAL);
	ck_assert_int_eq(cep_flow_parse_addr("host:80", &ss, &sl), -EINVAL);
	ck_assert_int_eq(cep_flow_listen("nonsense", NULL, NULL, NULL, stderr,
					 NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flow");
	TCase *v5 = tcase_create("v5"), *v9 = tcase_create("v9");
	TCase *ipfix = tcase_create("ipfix"), *dmg = tcase_create("damage");
	TCase *io = tcase_create("io");
	SRunner *sr;
	int failed;

	snprintf(tmp, sizeof tmp, "%s/ceptor-test-flow.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("test_flow: mkdtemp");
		return 1;
	}
	tcase_add_test(v5, v5_records_become_flow_events_with_header_time_arithmetic);
	tcase_add_test(v5, v5_a_record_count_beyond_the_packet_is_reported_and_the_whole_records_kept);
	tcase_add_test(v5, v5_sequence_gaps_count_lost_flows_and_a_restart_does_not);
	suite_add_tcase(s, v5);
	tcase_add_test(v9, v9_template_and_data_in_sets_that_are_not_4_byte_aligned);
	tcase_add_test(v9, v9_options_template_records_are_counted_not_emitted);
	tcase_add_test(v9, v9_sequence_counts_packets);
	tcase_add_test(v9, data_before_its_template_is_buffered_and_replayed);
	tcase_add_test(v9, pending_sets_beyond_the_bound_and_at_the_end_count_as_no_template);
	tcase_add_test(v9, two_exporters_with_the_same_template_id_are_kept_apart);
	suite_add_tcase(s, v9);
	tcase_add_test(ipfix, ipfix_variable_length_and_enterprise_fields_are_walked);
	tcase_add_test(ipfix, ipfix_options_give_system_init_time_for_uptime_stamps);
	tcase_add_test(ipfix, ipfix_template_withdrawals_over_udp_are_counted_and_ignored);
	tcase_add_test(ipfix, templates_expire_after_their_lifetime_of_export_time_unrefreshed);
	tcase_add_test(ipfix, ipfix_sequence_counts_data_records_per_domain);
	suite_add_tcase(s, ipfix);
	tcase_add_test(dmg, a_set_running_past_the_packet_is_reported_with_its_offset_and_work_goes_on);
	tcase_add_test(dmg, a_truncated_template_and_a_short_record_are_malformed);
	tcase_add_test(dmg, every_prefix_and_every_corruption_of_a_packet_decodes_within_it);
	tcase_add_test(dmg, templates_no_set_could_hold_and_v9_length_65535_are_malformed);
	tcase_add_test(dmg, ipfix_options_templates_need_a_scope_count_within_their_fields);
	tcase_add_test(dmg, an_exporter_flood_evicts_the_least_recently_heard_within_budget);
	tcase_add_test(dmg, a_template_flood_stays_within_the_memory_budget);
	tcase_set_timeout(dmg, 60);
	suite_add_tcase(s, dmg);
	tcase_add_test(io, captures_of_every_link_type_and_both_families_decode);
	tcase_add_test(io, a_damaged_export_packet_in_a_capture_names_the_file_and_offset);
	tcase_add_test(io, the_udp_listener_decodes_ipv4_export_packets);
	tcase_add_test(io, the_udp_listener_decodes_ipv6_export_packets);
	tcase_add_test(io, listen_addresses_parse_and_bad_ones_are_refused);
	tcase_set_timeout(io, 60);
	suite_add_tcase(s, io);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cep_test_rmtree(tmp);
	return failed ? 1 : 0;
}
