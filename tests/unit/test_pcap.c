/*
 * test_pcap.c - the pcap decoder and reader against generated captures,
 * tcpdump's and the pcapng conformance set's files, and tcpdump itself.
 *
 * main() generates the captures once with ceptor-gen (found in $CEPTOR_BIN,
 * else next to this binary's flavour: build/<flavour>/bin or build/bin)
 * into a temporary directory that is removed at the end.  ceptor-pcap, run
 * to check its exit status, is taken from the same directory.  The shared
 * reference data is found at $CEPTOR_SHARED_DATA or ../shared/data from the
 * repository root; without it the conformance test prints a notice and
 * passes.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/pcap/pcap_decode.h"
#include "collectors/pcap/pcap_reader.h"
#include "collectors/pcap/pcapng.h"
#include "collectors/pcap/privdrop.h"

/* Directory names stay well below PATH_MAX so that composed paths fit. */
#define DIRMAX 1024

static char gen_bin[DIRMAX];
static char pcap_bin[DIRMAX];
static char tmpdir[DIRMAX];
static char shared[DIRMAX];

/* --- helpers --------------------------------------------------------------- */

#define MAXEV 512

struct collect {
	struct cep_event ev[MAXEV];
	unsigned n;
	unsigned calls;
	unsigned max_batch;
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

static const char *gen_path(const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return p;
}

/* Read a generated file into a fresh collector; returns the reader's rc. */
static int read_gen(const char *name, struct collect *c,
		    struct cep_pcap_stats *st)
{
	struct cep_source src;
	struct cep_sink sink = { collect_fn, c };

	memset(c, 0, sizeof *c);
	memset(st, 0, sizeof *st);
	cep_source_init(&src, "test");
	return cep_pcap_read_file(gen_path(name), NULL, &src, &sink, st);
}

static void ck_ip(int af, const uint8_t *ip, int want_af, const char *want)
{
	uint8_t w[16] = { 0 };

	ck_assert_int_eq(af, want_af);
	ck_assert_int_eq(inet_pton(want_af == 4 ? AF_INET : AF_INET6, want, w),
			 1);
	ck_assert_mem_eq(ip, w, want_af == 4 ? 4 : 16);
}

static void ck_flow(const struct cep_event *ev, int af, const char *src,
		    const char *dst, int proto, unsigned sport, unsigned dport)
{
	ck_assert_int_eq(ev->kind, CEP_KIND_PACKET);
	ck_assert_int_eq(ev->type, CEP_TYPE_TRAFFIC);
	ck_assert_uint_eq(ev->packets, 1);
	ck_ip(ev->src_af, ev->src_ip, af, src);
	ck_ip(ev->dst_af, ev->dst_ip, af, dst);
	ck_assert_int_eq(ev->proto, proto);
	ck_assert_uint_eq(ev->src_port, sport);
	ck_assert_uint_eq(ev->dst_port, dport);
}

/* --- decoding generated link types ------------------------------------------- */

START_TEST(ethernet_packets_decode_to_addresses_ports_and_flags)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ether.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 4);
	ck_flow(&c.ev[0], 4, "192.0.2.1", "198.51.100.2", 6, 40000, 443);
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0x02);
	ck_assert_uint_eq(c.ev[0].bytes, 60);
	ck_assert_uint_eq(c.ev[0].vlan, 0);
	ck_assert_uint_eq(c.ev[0].flags, 0);
	ck_assert_str_eq(c.ev[0].source, "test");
}
END_TEST

START_TEST(ipv4_options_are_skipped_by_the_header_length)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ether.pcap", &c, &st), 0);
	ck_flow(&c.ev[1], 4, "192.0.2.1", "198.51.100.2", 17, 5353, 53);
	ck_assert_uint_eq(c.ev[1].flags, 0);
}
END_TEST

START_TEST(icmp_sets_type_and_code_and_no_ports)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ether.pcap", &c, &st), 0);
	ck_flow(&c.ev[2], 4, "192.0.2.1", "198.51.100.2", 1, 0, 0);
	ck_assert_uint_eq(c.ev[2].icmp_type, 8);
	ck_assert_uint_eq(c.ev[2].icmp_code, 0);
	ck_assert_int_eq(read_gen("ipv4.pcap", &c, &st), 0);
	ck_flow(&c.ev[0], 4, "203.0.113.7", "203.0.113.8", 1, 0, 0);
	ck_assert_uint_eq(c.ev[0].icmp_type, 3);
	ck_assert_uint_eq(c.ev[0].icmp_code, 3);
}
END_TEST

START_TEST(a_frame_without_ip_is_a_bare_packet_event)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ether.pcap", &c, &st), 0);
	ck_assert_int_eq(c.ev[3].kind, CEP_KIND_PACKET);
	ck_assert_int_eq(c.ev[3].src_af, 0);
	ck_assert_int_eq(c.ev[3].proto, 0);
	ck_assert_uint_eq(c.ev[3].bytes, 60);
	ck_assert_uint_eq(st.decoded, 4);
	ck_assert_uint_eq(st.malformed, 0);
}
END_TEST

START_TEST(an_8021q_tag_gives_its_vlan_id)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("vlan.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_flow(&c.ev[0], 4, "10.0.0.1", "10.0.0.2", 6, 1234, 80);
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0x12);
	ck_assert_uint_eq(c.ev[0].vlan, 100);
}
END_TEST

START_TEST(qinq_keeps_the_outermost_vlan_id)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("qinq.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_flow(&c.ev[0], 4, "10.1.1.1", "10.2.2.2", 17, 1000, 2000);
	ck_assert_uint_eq(c.ev[0].vlan, 200);
}
END_TEST

START_TEST(linux_cooked_v1_and_v2_decode)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("sll.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_flow(&c.ev[0], 4, "172.16.0.1", "172.16.0.2", 6, 22, 50000);
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0x18);
	ck_assert_int_eq(read_gen("sll2.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_flow(&c.ev[0], 6, "2001:db8::1", "2001:db8::2", 17, 546, 547);
}
END_TEST

START_TEST(raw_ip_link_types_decode_by_version)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("raw4.pcap", &c, &st), 0);
	ck_flow(&c.ev[0], 4, "203.0.113.5", "203.0.113.6", 17, 123, 123);
	ck_assert_int_eq(read_gen("raw6.pcap", &c, &st), 0);
	ck_flow(&c.ev[0], 6, "2001:db8::a", "2001:db8::b", 6, 8080, 443);
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0x11);
}
END_TEST

START_TEST(bsd_loopback_decodes_both_families)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("null.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_flow(&c.ev[0], 4, "127.0.0.1", "127.0.0.1", 17, 9999, 8888);
	ck_flow(&c.ev[1], 6, "::1", "::1", 58, 0, 0);
	ck_assert_uint_eq(c.ev[1].icmp_type, 128);
}
END_TEST

START_TEST(ipv6_extension_headers_are_walked_to_the_transport)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ipv6ext.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 3);
	/* hop-by-hop, dest opts, routing, first fragment, UDP */
	ck_flow(&c.ev[0], 6, "2001:db8::1", "2001:db8::2", 17, 4000, 53);
	ck_assert_uint_eq(c.ev[0].flags, CEP_EV_FRAGMENT);
	/* a later fragment: protocol known, no ports */
	ck_flow(&c.ev[1], 6, "2001:db8::1", "2001:db8::2", 17, 0, 0);
	ck_assert_uint_eq(c.ev[1].flags, CEP_EV_FRAGMENT);
	/* ESP ends the walk */
	ck_flow(&c.ev[2], 6, "2001:db8::3", "2001:db8::4", 50, 0, 0);
	ck_assert_uint_eq(c.ev[2].flags, 0);
	ck_assert_uint_eq(st.fragments, 2);
}
END_TEST

START_TEST(ipv4_first_fragment_has_ports_and_later_ones_do_not)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("frag4.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_flow(&c.ev[0], 4, "192.0.2.10", "192.0.2.20", 17, 7000, 8000);
	ck_assert_uint_eq(c.ev[0].flags, CEP_EV_FRAGMENT);
	ck_flow(&c.ev[1], 4, "192.0.2.10", "192.0.2.20", 17, 0, 0);
	ck_assert_uint_eq(c.ev[1].flags, CEP_EV_FRAGMENT);
	ck_assert_uint_eq(st.fragments, 2);
}
END_TEST

START_TEST(icmpv6_sets_type_and_code)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("icmp6.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_flow(&c.ev[0], 6, "fe80::1", "ff02::1", 58, 0, 0);
	ck_assert_uint_eq(c.ev[0].icmp_type, 128);
	ck_flow(&c.ev[1], 6, "fe80::1", "ff02::1:ff00:2", 58, 0, 0);
	ck_assert_uint_eq(c.ev[1].icmp_type, 135);
	ck_flow(&c.ev[2], 6, "2001:db8::1", "2001:db8::2", 58, 0, 0);
	ck_assert_uint_eq(c.ev[2].icmp_type, 1);
	ck_assert_uint_eq(c.ev[2].icmp_code, 4);
}
END_TEST

START_TEST(a_header_cut_by_snaplen_is_truncated_and_keeps_what_was_parsed)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("trunc.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_flow(&c.ev[0], 4, "192.0.2.1", "192.0.2.2", 6, 1111, 2222);
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0); /* byte 13 was cut */
	ck_assert_uint_eq(c.ev[0].flags, CEP_EV_TRUNCATED);
	ck_assert_uint_eq(c.ev[0].bytes, 74); /* the wire length */
	ck_assert_int_eq(c.ev[1].proto, 6);
	ck_assert_int_eq(c.ev[1].src_af, 0);
	ck_assert_uint_eq(c.ev[1].flags, CEP_EV_TRUNCATED);
	ck_assert_uint_eq(st.truncated, 2);
}
END_TEST

START_TEST(malformed_ip_is_counted_and_not_emitted)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("malformed.pcap", &c, &st), 0);
	ck_assert_uint_eq(st.read, 5);
	ck_assert_uint_eq(st.malformed, 4);
	ck_assert_uint_eq(st.decoded, 1);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.ev[0].seq, 5);
	ck_flow(&c.ev[0], 4, "192.0.2.1", "192.0.2.2", 17, 1, 2);
}
END_TEST

START_TEST(fcs_bits_in_the_link_type_are_masked)
{
	uint8_t pkt[64] = { 0 };
	struct cep_event ev;

	pkt[12] = 0x08; /* IPv4 */
	pkt[14] = 0x45;
	pkt[17] = 40;
	pkt[23] = 6;
	pkt[26] = 192; pkt[27] = 0; pkt[28] = 2; pkt[29] = 1;
	pkt[30] = 192; pkt[31] = 0; pkt[32] = 2; pkt[33] = 2;
	pkt[34] = 0x04; pkt[35] = 0xd2; /* sport 1234 */
	/* FCS length 2 (16-bit words) with the FCS-present bit, Ethernet */
	ck_assert_int_eq(cep_pcap_decode(pkt, 60, 64, 0x24000001, &ev), 0);
	ck_flow(&ev, 4, "192.0.2.1", "192.0.2.2", 6, 1234, 0);
	ck_assert_int_eq(cep_pcap_decode(pkt, 60, 64, 105, &ev),
			 -EPROTONOSUPPORT);
}
END_TEST

/* An Ethernet + IPv4 + TCP SYN from 192.0.2.1:40000 to 198.51.100.2:443,
 * with the IPv4 total length @tot; returns the frame length. */
static uint32_t syn_frame(uint8_t pkt[64], unsigned tot)
{
	memset(pkt, 0, 64);
	pkt[12] = 0x08; /* IPv4 */
	pkt[14] = 0x45;
	pkt[16] = (uint8_t)(tot >> 8);
	pkt[17] = (uint8_t)tot;
	pkt[22] = 64;   /* TTL */
	pkt[23] = 6;    /* TCP */
	pkt[26] = 192; pkt[27] = 0; pkt[28] = 2; pkt[29] = 1;
	pkt[30] = 198; pkt[31] = 51; pkt[32] = 100; pkt[33] = 2;
	pkt[34] = 0x9c; pkt[35] = 0x40; /* sport 40000 */
	pkt[36] = 0x01; pkt[37] = 0xbb; /* dport 443 */
	pkt[46] = 0x50; /* data offset 5 */
	pkt[47] = 0x02; /* SYN */
	return 54;
}

START_TEST(an_ipv4_total_length_of_zero_from_tso_means_the_captured_length)
{
	uint8_t pkt[64];
	struct cep_event ev;
	uint32_t n = syn_frame(pkt, 0);

	ck_assert_int_eq(cep_pcap_decode(pkt, n, 9014, 1, &ev), 0);
	ck_flow(&ev, 4, "192.0.2.1", "198.51.100.2", 6, 40000, 443);
	ck_assert_uint_eq(ev.tcp_flags, 0x02);
	ck_assert_uint_eq(ev.flags, 0);
	ck_assert_uint_eq(ev.bytes, 9014);
	/* A length above 0 but below the header is still malformed. */
	syn_frame(pkt, 19);
	ck_assert_int_eq(cep_pcap_decode(pkt, n, n, 1, &ev), -CEP_EMALFORMED);
	syn_frame(pkt, 1);
	ck_assert_int_eq(cep_pcap_decode(pkt, n, n, 1, &ev), -CEP_EMALFORMED);
	syn_frame(pkt, 40);
	ck_assert_int_eq(cep_pcap_decode(pkt, n, n, 1, &ev), 0);
	ck_assert_uint_eq(ev.tcp_flags, 0x02);
}
END_TEST

START_TEST(timestamps_and_sequence_numbers_are_stamped)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("ether.pcap", &c, &st), 0);
	/* ceptor-gen starts at 1700000000 s and steps 10 us per packet */
	ck_assert_uint_eq(c.ev[0].ts, 1700000000000010000ull);
	ck_assert_uint_eq(c.ev[1].ts, 1700000000000020000ull);
	for (unsigned i = 0; i < c.n; i++)
		ck_assert_uint_eq(c.ev[i].seq, i + 1);
	ck_assert_int_eq(c.ev[0].reliability, CEP_REL_F);
	ck_assert_int_eq(c.ev[0].tlp, CEP_TLP_AMBER);
}
END_TEST

/* --- bounds ---------------------------------------------------------------------- */

/* Decode every prefix of every packet of @path from a buffer of exactly that
 * size, so that AddressSanitizer sees any read past caplen. */
static unsigned decode_prefixes(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned tried = 0;
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (!p)
		return 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		for (uint32_t len = 0; len <= h->caplen; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			struct cep_event ev;
			int rc;

			ck_assert_ptr_nonnull(copy);
			memcpy(copy, d, len);
			rc = cep_pcap_decode(len ? copy : copy + 1, len, h->len,
					     pcap_datalink(p), &ev);
			ck_assert(rc == 0 || rc == -CEP_EMALFORMED ||
				  rc == -EPROTONOSUPPORT);
			if (rc == 0 && len < h->caplen)
				ck_assert_uint_eq(ev.bytes, h->len);
			free(copy);
			tried++;
		}
	}
	pcap_close(p);
	return tried;
}

START_TEST(every_prefix_of_every_packet_decodes_within_caplen)
{
	static const char *const names[] = {
		"ether.pcap", "vlan.pcap", "qinq.pcap", "sll.pcap",
		"sll2.pcap", "raw4.pcap", "raw6.pcap", "ipv4.pcap",
		"null.pcap", "ipv6ext.pcap", "frag4.pcap", "icmp6.pcap",
		"trunc.pcap", "malformed.pcap",
	};
	unsigned tried = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		tried += decode_prefixes(gen_path(names[i]));
	ck_assert_uint_gt(tried, 1000);
	if (shared[0]) {
		static const char *const td[] = {
			"td_802.1ad_QinQ.pcap", "td_ipv6-bad-version.pcap",
			"td_esp_truncated.pcap", "td_tcp_rst_data-trunc.pcap",
			"td_ipv4_invalid_total_length.pcap",
			"td_icmpv6-length-zero.pcapng",
		};
		char p[PATH_MAX];

		for (size_t i = 0; i < sizeof td / sizeof td[0]; i++) {
			snprintf(p, sizeof p, "%s/pcap/%s", shared, td[i]);
			ck_assert_msg(decode_prefixes(p) > 0,
				      "%s: no packet decoded (missing or "
				      "unreadable?)", p);
		}
	}
}
END_TEST

/* --- reader ---------------------------------------------------------------------- */

/* Run the reader with stderr captured into @err. */
static int read_capturing_stderr(const char *path, const char *bpf,
				 struct collect *c, struct cep_pcap_stats *st,
				 char *err, size_t errsize)
{
	char log[PATH_MAX];
	struct cep_sink sink = { collect_fn, c };
	int fd, saved, rc;
	ssize_t n;

	memset(c, 0, sizeof *c);
	memset(st, 0, sizeof *st);
	snprintf(log, sizeof log, "%s/stderr.XXXXXX", tmpdir);
	fd = mkstemp(log);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	dup2(fd, 2);
	rc = cep_pcap_read_file(path, bpf, NULL, &sink, st);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, err, errsize - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(log);
	return rc;
}

START_TEST(a_corrupt_record_is_reported_with_file_and_offset_and_earlier_packets_kept)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[2048], want[64];
	const char *path = gen_path("corrupt.pcap");
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_uint_eq(st.read, 3);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.files, 1);
	ck_assert_ptr_nonnull(strstr(err, path));
	/* the broken record: a 16-byte header and 50 of its 200 bytes */
	snprintf(want, sizeof want, "byte offset %lld ",
		 (long long)sb.st_size - 16 - 50);
	ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
	ck_assert_ptr_eq(strchr(err, '\n'), strrchr(err, '\n')); /* one line */
}
END_TEST

/* Write a pcap file header (microseconds, Ethernet) and, when @corrupt, a
 * first record that claims 200 bytes of which 50 follow. */
static const char *write_capture(const char *name, int corrupt)
{
	static const uint32_t hdr[6] = { 0xa1b2c3d4u, 0x00040002u, 0, 0,
					 65535, 1 };
	uint32_t rec[4] = { 1700000000u, 0, 200, 200 };
	uint8_t body[50];
	const char *path = gen_path(name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(hdr, sizeof hdr, 1, f), 1);
	if (corrupt) {
		memset(body, 0x77, sizeof body);
		ck_assert_int_eq(fwrite(rec, sizeof rec, 1, f), 1);
		ck_assert_int_eq(fwrite(body, sizeof body, 1, f), 1);
	}
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(a_corrupt_first_record_reads_nothing_and_counts_as_a_failed_read)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[2048];
	const char *path = write_capture("corrupt-first.pcap", 1);

	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), 0);
	ck_assert_uint_eq(st.read, 0);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.files_failed, 0);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(cep_pcap_read_failed(&st), 1);

	/* An empty but valid capture is no failure. */
	path = write_capture("empty.pcap", 0);
	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), 0);
	ck_assert_uint_eq(st.read, 0);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_int_eq(cep_pcap_read_failed(&st), 0);

	/* Nor is a run that read packets, even if another file failed. */
	memset(&st, 0, sizeof st);
	st.read = 1;
	st.errors = 1;
	st.files_failed = 1;
	ck_assert_int_eq(cep_pcap_read_failed(&st), 0);
	st.read = 0;
	st.errors = 0;
	ck_assert_int_eq(cep_pcap_read_failed(&st), 1); /* open failed */
}
END_TEST

/* Run ceptor-pcap --stats on the -r files of @args; its exit status. */
static int run_ceptor_pcap(const char *args)
{
	char cmd[2 * PATH_MAX];
	int rc;

	ck_assert_msg(access(pcap_bin, X_OK) == 0,
		      "%s not found (set CEPTOR_BIN to the directory holding "
		      "ceptor-pcap)", pcap_bin);
	snprintf(cmd, sizeof cmd, "'%s' --stats %s >/dev/null 2>&1", pcap_bin,
		 args);
	rc = system(cmd);
	ck_assert(rc != -1 && WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

START_TEST(ceptor_pcap_exits_1_when_a_corrupt_first_record_leaves_nothing_read)
{
	char args[3 * PATH_MAX], bad[PATH_MAX];

	snprintf(args, sizeof args, "-r '%s'",
		 write_capture("corrupt-first.pcap", 1));
	ck_assert_int_eq(run_ceptor_pcap(args), 1);
	snprintf(args, sizeof args, "-r '%s'", write_capture("empty.pcap", 0));
	ck_assert_int_eq(run_ceptor_pcap(args), 0);
	/* One good file among broken ones: something was read. */
	snprintf(bad, sizeof bad, "%s", gen_path("corrupt-first.pcap"));
	snprintf(args, sizeof args, "-r '%s' -r '%s'", bad,
		 gen_path("ether.pcap"));
	ck_assert_int_eq(run_ceptor_pcap(args), 0);
}
END_TEST

START_TEST(a_missing_file_fails_with_enoent_and_a_message_naming_it)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[1024];
	const char *path = gen_path("no-such.pcap");

	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), -ENOENT);
	ck_assert_uint_eq(st.files_failed, 1);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(a_file_that_is_not_a_capture_is_malformed)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[1024];
	const char *path = gen_path("not-a-capture.txt");
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("hello, this is not a capture file at all\n", f);
	fclose(f);
	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), -CEP_EMALFORMED);
	ck_assert_uint_eq(st.files_failed, 1);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(a_bpf_filter_selects_the_scan_packets_only)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[1024];

	ck_assert_int_eq(read_capturing_stderr(gen_path("scan.pcap"),
					       "tcp and src host 192.0.2.66",
					       &c, &st, err, sizeof err), 0);
	ck_assert_uint_eq(st.read, 100);
	for (unsigned i = 0; i < c.n; i++)
		ck_assert_uint_eq(c.ev[i].tcp_flags, 0x02);
	ck_assert_int_eq(read_capturing_stderr(gen_path("scan.pcap"),
					       "tcp and nonsense((", &c, &st,
					       err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "filter"));
}
END_TEST

START_TEST(batches_never_exceed_the_collector_batch)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("scan.pcap", &c, &st), 0);
	ck_assert_uint_eq(st.read, 300);
	ck_assert_uint_eq(c.n, 300);
	ck_assert_uint_eq(c.max_batch, CEP_COLLECTOR_BATCH);
	ck_assert_uint_eq(c.calls, (300 + CEP_COLLECTOR_BATCH - 1) /
					   CEP_COLLECTOR_BATCH);
	for (unsigned i = 1; i < c.n; i++)
		ck_assert_uint_ge(c.ev[i].ts, c.ev[i - 1].ts);
}
END_TEST

/* --- generator ------------------------------------------------------------------- */

/* --- tunnels, AH, FCS (tunnels.pcap, fcs.pcap: see tests/gen/gen.c) -------------- */

static void ck_tunnel(const struct cep_event *ev, int tunnelled)
{
	ck_assert_uint_eq(ev->flags & CEP_PCAP_EV_TUNNEL,
			  tunnelled ? CEP_PCAP_EV_TUNNEL : 0);
}

START_TEST(tunnels_give_the_inner_addresses_ports_and_protocol)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("tunnels.pcap", &c, &st), 0);
	ck_assert_uint_eq(st.read, 15);
	ck_assert_uint_eq(st.malformed, 0);
	ck_assert_uint_eq(c.n, 15);
	ck_flow(&c.ev[0], 4, "10.0.0.1", "10.0.0.2", 6, 1111, 80); /* IPIP */
	ck_assert_uint_eq(c.ev[0].tcp_flags, 0x02);
	ck_flow(&c.ev[1], 6, "2001:db8::1", "2001:db8::2", 17, 5000, 53);
	ck_flow(&c.ev[2], 6, "2001:db8::a", "2001:db8::b", 6, 2222, 22);
	ck_flow(&c.ev[3], 4, "10.1.0.1", "10.1.0.2", 1, 0, 0); /* 4in6 */
	ck_assert_uint_eq(c.ev[3].icmp_type, 8);
	ck_flow(&c.ev[4], 4, "10.2.0.1", "10.2.0.2", 6, 3333, 443); /* GRE */
	ck_assert_uint_eq(c.ev[4].tcp_flags, 0x18);
	/* GRE with checksum, key and sequence number around IPv6 */
	ck_flow(&c.ev[5], 6, "2001:db8:2::1", "2001:db8:2::2", 17, 4444, 4789);
	/* GRE bridging an Ethernet frame with an inner VLAN tag: the event's
	 * VLAN is the outermost one, and the outer frame had none. */
	ck_flow(&c.ev[6], 4, "10.3.0.1", "10.3.0.2", 17, 5555, 8080);
	ck_assert_uint_eq(c.ev[6].vlan, 0);
	/* GRE in GRE: the innermost packet */
	ck_flow(&c.ev[13], 4, "10.9.0.1", "10.9.0.2", 17, 9, 99);
	for (unsigned i = 0; i < 7; i++) {
		ck_tunnel(&c.ev[i], 1);
		ck_assert_uint_eq(c.ev[i].flags & CEP_EV_TRUNCATED, 0);
	}
	ck_tunnel(&c.ev[13], 1);
	/* bytes stay the outer frame's wire length */
	ck_assert_uint_eq(c.ev[0].bytes, 14 + 20 + 20 + 20);
}
END_TEST

START_TEST(gre_payloads_that_are_not_ip_keep_the_outer_view)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("tunnels.pcap", &c, &st), 0);
	/* PPTP's GRE version 1 and ERSPAN */
	ck_flow(&c.ev[7], 4, "198.51.100.3", "198.51.100.4", 47, 0, 0);
	ck_flow(&c.ev[8], 4, "198.51.100.5", "198.51.100.6", 47, 0, 0);
	ck_tunnel(&c.ev[7], 0);
	ck_tunnel(&c.ev[8], 0);
}
END_TEST

START_TEST(a_cut_or_mismatched_inner_header_keeps_the_outer_view)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("tunnels.pcap", &c, &st), 0);
	/* IPIP whose inner header is cut after 10 bytes */
	ck_flow(&c.ev[9], 4, "192.0.2.1", "192.0.2.2", 4, 0, 0);
	ck_assert_uint_eq(c.ev[9].flags & CEP_EV_TRUNCATED, CEP_EV_TRUNCATED);
	ck_tunnel(&c.ev[9], 0);
	/* protocol 4 announcing IPv4, carrying IPv6: not decoded, not
	 * malformed either: the outer packet is sound */
	ck_flow(&c.ev[10], 4, "192.0.2.3", "192.0.2.4", 4, 0, 0);
	ck_tunnel(&c.ev[10], 0);
}
END_TEST

START_TEST(ipsec_ah_and_shim6_are_walked_to_the_transport)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("tunnels.pcap", &c, &st), 0);
	ck_flow(&c.ev[11], 4, "192.0.2.5", "192.0.2.6", 6, 1234, 80);
	ck_assert_uint_eq(c.ev[11].tcp_flags, 0x02);
	ck_flow(&c.ev[12], 6, "2001:db8::5", "2001:db8::6", 17, 7, 8);
	ck_flow(&c.ev[14], 6, "2001:db8::5", "2001:db8::6", 6, 7, 8);
	/* ev[13] is the GRE-in-GRE packet between them: tunnelled */
	ck_assert_uint_eq(c.ev[11].flags, 0);
	ck_assert_uint_eq(c.ev[12].flags, 0);
	ck_assert_uint_eq(c.ev[13].flags, CEP_EV_TUNNEL);
	ck_assert_uint_eq(c.ev[14].flags, 0);
}
END_TEST

START_TEST(an_fcs_announced_by_the_link_type_is_removed_from_the_length)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_uint_eq(CEP_PCAP_FCS_BYTES(0x24000001u), 4);
	ck_assert_uint_eq(CEP_PCAP_FCS_BYTES(0x20000001u), 0); /* no P bit */
	ck_assert_uint_eq(CEP_PCAP_FCS_BYTES(0x14000001u), 2);
	ck_assert_int_eq(read_gen("fcs.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_uint_eq(st.fcs_stripped, 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_flow(&c.ev[i], 4, "192.0.2.1", "192.0.2.2", 17, 1000, 2000);
		ck_assert_uint_eq(c.ev[i].bytes, 60);
		ck_assert_uint_eq(c.ev[i].flags, 0);
	}
	ck_assert_uint_eq(st.bytes, 3 * 60);
	/* Bits 16..25 are reserved: readers ignore them. */
	ck_assert_int_eq(read_gen("reserved.pcap", &c, &st), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(st.unsupported, 0);
	ck_flow(&c.ev[0], 4, "192.0.2.1", "192.0.2.2", 17, 1000, 2000);
	ck_assert_uint_eq(st.fcs_stripped, 0);
}
END_TEST

/* --- pcapng (multi-le/multi-be.pcapng, badif.pcapng: see tests/gen/gen.c) --------- */

#define BASE_NS 1700000000000000000ull

static void ck_multi(const struct collect *c, const struct cep_pcap_stats *st)
{
	ck_assert_uint_eq(st->read, 7);
	ck_assert_uint_eq(st->decoded, 7);
	ck_assert_uint_eq(st->errors, 0);
	ck_assert_uint_eq(c->n, 7);
	/* section 1: Ethernet in microseconds */
	ck_flow(&c->ev[0], 4, "192.0.2.1", "198.51.100.2", 6, 40000, 443);
	ck_assert_uint_eq(c->ev[0].ts, BASE_NS + 5000);
	/* raw IP, nanoseconds, if_tsoffset 100 s */
	ck_flow(&c->ev[1], 6, "2001:db8::1", "2001:db8::2", 17, 546, 547);
	ck_assert_uint_eq(c->ev[1].ts, BASE_NS + 100000000000ull + 7);
	/* Ethernet with if_fcslen 4, 2^-10 s units */
	ck_flow(&c->ev[2], 4, "192.0.2.1", "192.0.2.2", 17, 1000, 2000);
	ck_assert_uint_eq(c->ev[2].ts, BASE_NS + 500000000ull);
	ck_assert_uint_eq(c->ev[2].bytes, 60);
	/* an SPB: interface 0, the time of the packet before it */
	ck_flow(&c->ev[3], 4, "192.0.2.1", "192.0.2.2", 1, 0, 0);
	ck_assert_uint_eq(c->ev[3].ts, c->ev[2].ts);
	/* the obsolete Packet Block on interface 1 */
	ck_flow(&c->ev[4], 4, "203.0.113.5", "203.0.113.6", 17, 123, 123);
	ck_assert_uint_eq(c->ev[4].ts, BASE_NS + 100000000000ull + 9);
	/* section 2, the other byte order: Linux SLL in milliseconds */
	ck_flow(&c->ev[5], 4, "172.16.0.1", "172.16.0.2", 6, 22, 50000);
	ck_assert_uint_eq(c->ev[5].ts, BASE_NS + 250000000ull);
	ck_flow(&c->ev[6], 4, "172.16.0.1", "172.16.0.2", 17, 53, 40000);
	ck_assert_uint_eq(c->ev[6].ts, BASE_NS + 251000000ull);
	for (unsigned i = 0; i < 7; i++)
		ck_assert_uint_eq(c->ev[i].seq, i + 1);
}

START_TEST(pcapng_sections_of_both_byte_orders_give_every_packet_with_its_interface)
{
	struct collect c;
	struct cep_pcap_stats st;

	ck_assert_int_eq(read_gen("multi-le.pcapng", &c, &st), 0);
	ck_multi(&c, &st);
	ck_assert_uint_eq(st.fcs_stripped, 1);
	ck_assert_int_eq(read_gen("multi-be.pcapng", &c, &st), 0);
	ck_multi(&c, &st);
}
END_TEST

START_TEST(libpcap_alone_stops_where_our_walker_goes_on)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	long n = 0;
	pcap_t *p = pcap_open_offline(gen_path("multi-le.pcapng"), errbuf);

	/* The reason for the walker: libpcap refuses the second link type. */
	ck_assert_ptr_nonnull(p);
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	ck_assert_int_lt(n, 7);
}
END_TEST

START_TEST(a_bpf_filter_is_compiled_for_each_pcapng_link_type)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[2048];

	/* UDP on Ethernet, raw IP (twice: EPB and PB) and Linux SLL */
	ck_assert_int_eq(read_capturing_stderr(gen_path("multi-be.pcapng"),
					       "udp", &c, &st, err, sizeof err),
			 0);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_uint_eq(c.ev[0].src_port, 546);
	ck_assert_uint_eq(c.ev[1].src_port, 1000);
	ck_assert_uint_eq(c.ev[2].src_port, 123);
	ck_assert_uint_eq(c.ev[3].src_port, 53);
	ck_assert_int_eq(read_capturing_stderr(gen_path("multi-be.pcapng"),
					       "no such (filter", &c, &st, err,
					       sizeof err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad filter"));
}
END_TEST

/* The offset of the @k-th block (from 0) of a little-endian pcapng file. */
static long block_offset(const char *path, unsigned k)
{
	FILE *f = fopen(path, "rb");
	long off = 0;
	uint8_t h[8];

	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < k; i++) {
		ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
		if (fread(h, 8, 1, f) != 1) {
			off = LONG_MAX;
			break;
		}
		off += (long)(h[4] | h[5] << 8 | h[6] << 16 |
			      (uint32_t)h[7] << 24);
	}
	fclose(f);
	return off;
}

START_TEST(an_unusable_pcapng_packet_block_is_counted_and_named_by_offset)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[2048], want[64];
	const char *path = gen_path("badif.pcapng");

	ck_assert_int_eq(read_capturing_stderr(path, NULL, &c, &st, err,
					       sizeof err), 0);
	ck_assert_uint_eq(st.read, 3);
	ck_assert_uint_eq(st.decoded, 2);
	ck_assert_uint_eq(st.malformed, 1);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(c.ev[1].seq, 3);
	/* SHB, IDB, EPB, then the bad one */
	snprintf(want, sizeof want, "byte offset %ld:", block_offset(path, 3));
	ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "interface 3"));
}
END_TEST

START_TEST(a_pcapng_file_cut_inside_a_block_keeps_the_packets_before_it)
{
	struct collect c;
	struct cep_pcap_stats st;
	char err[2048], want[64], cmd[3 * PATH_MAX];
	char src[PATH_MAX], cut[PATH_MAX];
	struct stat sb;
	long last = 0, off;

	/* Cut the file 10 bytes into its last block (the 7th packet); the
	 * second section is big-endian, so find the block from the end: its
	 * trailing length is the file's last word. */
	snprintf(src, sizeof src, "%s", gen_path("multi-le.pcapng"));
	ck_assert_int_eq(stat(src, &sb), 0);
	{
		FILE *f = fopen(src, "rb");
		uint8_t t[4];

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fseek(f, -4, SEEK_END), 0);
		ck_assert_int_eq(fread(t, 4, 1, f), 1);
		fclose(f);
		off = (long)((uint32_t)t[0] << 24 | t[1] << 16 | t[2] << 8 |
			     t[3]);
		last = (long)sb.st_size - off;
	}
	snprintf(cut, sizeof cut, "%s", gen_path("cut.pcapng"));
	snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s'", last + 10, src,
		 cut);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(read_capturing_stderr(cut, NULL, &c, &st, err,
					       sizeof err), 0);
	ck_assert_uint_eq(c.n, 6);
	ck_assert_uint_eq(st.errors, 1);
	snprintf(want, sizeof want, "byte offset %ld ", last);
	ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
	ck_assert_ptr_nonnull(strstr(err, "keeping the 6 packets"));
	ck_assert_ptr_eq(strchr(err, '\n'), strrchr(err, '\n')); /* one line */
}
END_TEST

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	struct stat sb;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fstat(fileno(f), &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)sb.st_size, f),
			 (size_t)sb.st_size);
	fclose(f);
	*len = (size_t)sb.st_size;
	return buf;
}

START_TEST(every_prefix_of_a_pcapng_file_walks_cleanly_from_memory)
{
	size_t len;
	uint8_t *buf = slurp(gen_path("multi-be.pcapng"), &len);
	unsigned full = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct cep_pcapng r;
		struct cep_pcapng_pkt pkt;
		unsigned n = 0;
		int rc;
		/* A copy of exactly cut bytes, so that ASan sees overreads. */
		uint8_t *copy = malloc(cut ? cut : 1);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, cut);
		cep_pcapng_init_mem(&r, copy, cut);
		while ((rc = cep_pcapng_next(&r, &pkt)) == 1) {
			ck_assert(pkt.data >= copy &&
				  pkt.data + pkt.caplen <= copy + cut);
			n++;
		}
		ck_assert_uint_le(n, 7);
		/* A clean end only at a block boundary; else a cut. */
		ck_assert(rc == 0 || rc == -CEP_ETRUNCATED);
		ck_assert_int_eq(cep_pcapng_next(&r, &pkt), rc); /* sticky */
		if (cut == len) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(r.sections, 2);
		}
		full += n == 7;
		cep_pcapng_fini(&r);
		free(copy);
	}
	ck_assert_uint_ge(full, 1);
	free(buf);
}
END_TEST

START_TEST(pcapng_and_pcap_on_standard_input_read_like_files)
{
	char cmd[4 * PATH_MAX], ng[PATH_MAX];
	FILE *f;
	unsigned long long n1 = 0, n2 = 0;

	snprintf(ng, sizeof ng, "%s", gen_path("multi-be.pcapng"));
	snprintf(cmd, sizeof cmd, "'%s' --stats -r - < '%s' 2>/dev/null && "
		 "'%s' --stats -r - < '%s' 2>/dev/null", pcap_bin, ng, pcap_bin,
		 gen_path("tunnels.pcap"));
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "{\"read\":%llu%*[^\n]\n", &n1), 1);
	ck_assert_int_eq(fscanf(f, "{\"read\":%llu", &n2), 1);
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_uint_eq(n1, 7);
	ck_assert_uint_eq(n2, 15);
}
END_TEST

/* --- privileges and the command line ------------------------------------------- */

START_TEST(root_drops_to_an_unprivileged_user_with_no_capability_left)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "test_pcap: notice: not root; privilege drop "
			"test skipped\n");
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256];
		unsigned long long prm = 1, eff = 1;
		int rc = cep_priv_drop(NULL, err, sizeof err);

		if (rc != 1) {
			fprintf(stderr, "drop: %d %s\n", rc, err);
			_exit(10);
		}
		if (getuid() == 0 || geteuid() == 0 || getgid() == 0)
			_exit(11);
		if (cep_priv_caps(&prm, &eff) || prm || eff)
			_exit(12);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(13);
		if (setuid(0) == 0)
			_exit(14);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(an_unknown_user_is_refused)
{
	char err[256] = "";

	if (geteuid() != 0) {
		fprintf(stderr, "test_pcap: notice: not root; skipped\n");
		return;
	}
	/* Nothing changes before the user is found, so this process keeps
	 * its privileges. */
	ck_assert_int_eq(cep_priv_drop("no-such-user-ceptor-test", err,
				       sizeof err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no-such-user-ceptor-test"));
	ck_assert_int_eq(geteuid(), 0);
}
END_TEST

static int run_status(const char *args)
{
	char cmd[2 * PATH_MAX];
	int rc;

	snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>&1", pcap_bin, args);
	rc = system(cmd);
	ck_assert(rc != -1 && WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

START_TEST(bad_capture_settings_are_usage_errors)
{
	ck_assert_int_eq(run_status("-i lo --snaplen 0"), 2);
	ck_assert_int_eq(run_status("-i lo --buffer-size 4X"), 2);
	ck_assert_int_eq(run_status("-i lo --timeout -5"), 2);
	ck_assert_int_eq(run_status("-i lo --no-such-option"), 2);
	ck_assert_int_eq(run_status("-i no-such-iface0 --stats"), 1);
	ck_assert_int_eq(run_status("--help"), 0);
}
END_TEST

START_TEST(stats_name_the_fcs_and_drop_counters)
{
	char cmd[2 * PATH_MAX], line[1024];
	FILE *f;

	snprintf(cmd, sizeof cmd, "'%s' --stats -r '%s' 2>/dev/null", pcap_bin,
		 gen_path("fcs.pcap"));
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_ptr_nonnull(strstr(line, "\"read\":3,"));
	ck_assert_ptr_nonnull(strstr(line, "\"decoded\":3,"));
	ck_assert_ptr_nonnull(strstr(line, "\"bytes\":180,"));
	ck_assert_ptr_nonnull(strstr(line, "\"fcs_stripped\":3,"));
	ck_assert_ptr_nonnull(strstr(line, "\"ring_drops\":0"));
}
END_TEST

START_TEST(the_scan_capture_has_one_source_on_many_ports_and_quiet_noise)
{
	struct collect c;
	struct cep_pcap_stats st;
	static uint8_t seen[65536];
	unsigned distinct = 0, scan = 0;
	uint8_t scanner[4] = { 192, 0, 2, 66 };

	ck_assert_int_eq(read_gen("scan.pcap", &c, &st), 0);
	memset(seen, 0, sizeof seen);
	for (unsigned i = 0; i < c.n; i++) {
		const struct cep_event *ev = &c.ev[i];

		if (memcmp(ev->src_ip, scanner, 4) == 0) {
			scan++;
			ck_assert_uint_eq(ev->tcp_flags, 0x02);
			if (!seen[ev->dst_port]++)
				distinct++;
		} else {
			/* noise talks to 53, 80, 443 only */
			ck_assert(ev->dst_port == 53 || ev->dst_port == 80 ||
				  ev->dst_port == 443);
		}
	}
	ck_assert_uint_eq(scan, 100);
	ck_assert_uint_eq(distinct, 100);
	ck_assert_uint_eq(seen[1], 1);
	ck_assert_uint_eq(seen[100], 1);
}
END_TEST

static int files_equal(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

START_TEST(the_generator_is_deterministic_for_a_seed)
{
	char cmd[3 * PATH_MAX], a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof a, "%s/mix-a.pcap", tmpdir);
	snprintf(b, sizeof b, "%s/mix-b.pcap", tmpdir);
	snprintf(cmd, sizeof cmd, "'%s' mix '%s' --packets 2000 --seed 7 "
		 "2>/dev/null && '%s' mix '%s' --packets 2000 --seed 7 "
		 "2>/dev/null", gen_bin, a, gen_bin, b);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(files_equal(a, b));
	snprintf(cmd, sizeof cmd, "'%s' mix '%s' --packets 2000 --seed 8 "
		 "2>/dev/null", gen_bin, b);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(!files_equal(a, b));
}
END_TEST

/* --- conformance ----------------------------------------------------------------- */

static long libpcap_count(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	long n = 0;
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (!p)
		return 0;
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	return n;
}

static int is_capture_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".pcap")) ||
	       (n > 7 && !strcmp(name + n - 7, ".pcapng"));
}

/* Packets tcpdump printed in its expected output (lines "  N  date ..."). */
static long tcpdump_expected(const char *dir, const char *name)
{
	char p[PATH_MAX], line[4096];
	long n = 0;
	FILE *f;
	const char *dot = strrchr(name, '.');

	snprintf(p, sizeof p, "%s/expected/%.*s.tcpdump.out", dir,
		 (int)(dot - name), name);
	f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long k;
		int year;

		if (sscanf(line, " %lu %d-", &k, &year) == 2 && year > 1900)
			n++;
	}
	fclose(f);
	return n;
}

/* tcpdump's files: as many packets as libpcap returns and as tcpdump
 * printed; every packet counted once. */
static void conform_td(const char *dir, unsigned *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX], err[4096];
		struct collect c;
		struct cep_pcap_stats st;
		long want;

		if (e->d_name[0] == '.' || !is_capture_name(e->d_name))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		read_capturing_stderr(p, NULL, &c, &st, err, sizeof err);
		ck_assert_msg(st.read == (uint64_t)libpcap_count(p),
			      "%s: we read %llu packets, libpcap %ld", p,
			      (unsigned long long)st.read, libpcap_count(p));
		want = tcpdump_expected(dir, e->d_name);
		ck_assert_msg(want < 0 || st.read == (uint64_t)want,
			      "%s: we read %llu packets, tcpdump printed %ld",
			      p, (unsigned long long)st.read, want);
		ck_assert_uint_eq(st.read, st.decoded + st.malformed +
						   st.unsupported);
		(*files)++;
	}
	closedir(d);
}

/* The packet blocks a pcapng-test-generator .txt lists (EPB, SPB, PB). */
static long txt_packets(const char *txt)
{
	char line[512], kind[8];
	long n = 0, k;
	FILE *f = fopen(txt, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, " %7[A-Z]: %ld", kind, &k) == 2 &&
		    (!strcmp(kind, "EPB") || !strcmp(kind, "SPB") ||
		     !strcmp(kind, "PB")))
			n += k;
	fclose(f);
	return n;
}

static void conform_ng(const char *dir, unsigned *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX], txt[PATH_MAX], err[4096];
		struct stat sb;
		struct collect c;
		struct cep_pcap_stats st;
		size_t n = strlen(e->d_name);
		long want;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &sb))
			continue;
		if (S_ISDIR(sb.st_mode)) {
			conform_ng(p, files);
			continue;
		}
		if (n < 8 || strcmp(e->d_name + n - 7, ".pcapng"))
			continue;
		snprintf(txt, sizeof txt, "%s/%.*s.txt", dir, (int)(n - 7),
			 e->d_name);
		want = txt_packets(txt);
		ck_assert_msg(want >= 0, "%s: no .txt beside it", p);
		ck_assert_int_eq(read_capturing_stderr(p, NULL, &c, &st, err,
						       sizeof err), 0);
		ck_assert_msg(st.read == (uint64_t)want && st.errors == 0 &&
			      st.malformed == 0,
			      "%s: read %llu (malformed %llu, errors %llu), "
			      "its .txt lists %ld: %s", p,
			      (unsigned long long)st.read,
			      (unsigned long long)st.malformed,
			      (unsigned long long)st.errors, want, err);
		ck_assert_uint_eq(st.read, st.decoded + st.unsupported);
		(*files)++;
	}
	closedir(d);
}

START_TEST(every_tcpdump_capture_reads_as_many_packets_as_libpcap_and_tcpdump)
{
	char dir[PATH_MAX];
	unsigned files = 0;

	if (!shared[0]) {
		fprintf(stderr, "test_pcap: notice: shared data not found "
			"(set CEPTOR_SHARED_DATA); conformance skipped\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/pcap", shared);
	conform_td(dir, &files);
	ck_assert_uint_ge(files, 10);
}
END_TEST

START_TEST(every_pcapng_conformance_file_gives_the_packets_its_txt_lists)
{
	char dir[PATH_MAX];
	unsigned files = 0;

	if (!shared[0]) {
		fprintf(stderr, "test_pcap: notice: shared data not found "
			"(set CEPTOR_SHARED_DATA); pcapng conformance "
			"skipped\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/pcap/pcapng-test-generator", shared);
	conform_ng(dir, &files);
	ck_assert_uint_ge(files, 48); /* 24 files in each byte order */
}
END_TEST

START_TEST(tcpdump_counts_the_same_packets_as_we_read)
{
	char cmd[2 * PATH_MAX];
	struct collect c;
	struct cep_pcap_stats st;
	FILE *f;
	unsigned long lines = 0;

	if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_pcap: notice: tcpdump not installed; "
			"comparison skipped\n");
		return;
	}
	snprintf(cmd, sizeof cmd, "tcpdump -r '%s' -n 2>/dev/null | wc -l",
		 gen_path("scan.pcap"));
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &lines), 1);
	pclose(f);
	ck_assert_int_eq(read_gen("scan.pcap", &c, &st), 0);
	ck_assert_uint_eq(st.read, lines);
}
END_TEST

/* --- setup ----------------------------------------------------------------------- */

static void find_paths(void)
{
	char exe[DIRMAX - 64], root[DIRMAX - 64];
	const char *env = getenv("CEPTOR_BIN");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	exe[n > 0 ? n : 0] = '\0';
	if (env && *env) {
		snprintf(gen_bin, sizeof gen_bin, "%.900s/ceptor-gen", env);
		snprintf(pcap_bin, sizeof pcap_bin, "%.900s/ceptor-pcap", env);
	} else {
		/* build/<flavour>/tests/test_pcap -> build/<flavour>/bin, or
		 * build/bin for the release flavour. */
		char *dir = dirname(exe);

		snprintf(gen_bin, sizeof gen_bin, "%s/../bin/ceptor-gen", dir);
		snprintf(pcap_bin, sizeof pcap_bin, "%s/../bin/ceptor-pcap",
			 dir);
		if (access(gen_bin, X_OK)) {
			snprintf(gen_bin, sizeof gen_bin,
				 "%s/../../bin/ceptor-gen", dir);
			snprintf(pcap_bin, sizeof pcap_bin,
				 "%s/../../bin/ceptor-pcap", dir);
		}
	}
	env = getenv("CEPTOR_SHARED_DATA");
	if (env && *env) {
		snprintf(shared, sizeof shared, "%.900s", env);
	} else if (getcwd(root, sizeof root)) {
		/* The tests run from the repository root. */
		snprintf(shared, sizeof shared, "%s/../shared/data", root);
	}
	if (shared[0] && access(shared, R_OK))
		shared[0] = '\0';
}

static int generate(void)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof cmd, "'%s' linktypes '%s' 2>/dev/null && "
		 "'%s' scan '%s/scan.pcap' --ports 100 --noise 200 "
		 "2>/dev/null", gen_bin, tmpdir, gen_bin, tmpdir);
	return system(cmd);
}

int main(void)
{
	Suite *s = suite_create("pcap");
	TCase *dec = tcase_create("decode");
	TCase *rd = tcase_create("reader");
	TCase *gen = tcase_create("generator");
	TCase *conf = tcase_create("conformance");
	SRunner *sr;
	int failed;

	find_paths();
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%.900s/ceptor-test-pcap.XXXXXX",
		 t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("test_pcap: mkdtemp");
		return 1;
	}
	if (generate() != 0) {
		fprintf(stderr, "test_pcap: cannot run %s (set CEPTOR_BIN to "
			"the directory holding ceptor-gen)\n", gen_bin);
		return 1;
	}

	tcase_add_test(dec, ethernet_packets_decode_to_addresses_ports_and_flags);
	tcase_add_test(dec, ipv4_options_are_skipped_by_the_header_length);
	tcase_add_test(dec, icmp_sets_type_and_code_and_no_ports);
	tcase_add_test(dec, a_frame_without_ip_is_a_bare_packet_event);
	tcase_add_test(dec, an_8021q_tag_gives_its_vlan_id);
	tcase_add_test(dec, qinq_keeps_the_outermost_vlan_id);
	tcase_add_test(dec, linux_cooked_v1_and_v2_decode);
	tcase_add_test(dec, raw_ip_link_types_decode_by_version);
	tcase_add_test(dec, bsd_loopback_decodes_both_families);
	tcase_add_test(dec, ipv6_extension_headers_are_walked_to_the_transport);
	tcase_add_test(dec, ipv4_first_fragment_has_ports_and_later_ones_do_not);
	tcase_add_test(dec, icmpv6_sets_type_and_code);
	tcase_add_test(dec, a_header_cut_by_snaplen_is_truncated_and_keeps_what_was_parsed);
	tcase_add_test(dec, malformed_ip_is_counted_and_not_emitted);
	tcase_add_test(dec, fcs_bits_in_the_link_type_are_masked);
	tcase_add_test(dec, an_ipv4_total_length_of_zero_from_tso_means_the_captured_length);
	tcase_add_test(dec, timestamps_and_sequence_numbers_are_stamped);
	tcase_add_test(dec, every_prefix_of_every_packet_decodes_within_caplen);
	tcase_add_test(dec, tunnels_give_the_inner_addresses_ports_and_protocol);
	tcase_add_test(dec, gre_payloads_that_are_not_ip_keep_the_outer_view);
	tcase_add_test(dec, a_cut_or_mismatched_inner_header_keeps_the_outer_view);
	tcase_add_test(dec, ipsec_ah_and_shim6_are_walked_to_the_transport);
	tcase_add_test(dec, an_fcs_announced_by_the_link_type_is_removed_from_the_length);
	tcase_set_timeout(dec, 60);
	suite_add_tcase(s, dec);

	tcase_add_test(rd, a_corrupt_record_is_reported_with_file_and_offset_and_earlier_packets_kept);
	tcase_add_test(rd, a_corrupt_first_record_reads_nothing_and_counts_as_a_failed_read);
	tcase_add_test(rd, ceptor_pcap_exits_1_when_a_corrupt_first_record_leaves_nothing_read);
	tcase_add_test(rd, a_missing_file_fails_with_enoent_and_a_message_naming_it);
	tcase_add_test(rd, a_file_that_is_not_a_capture_is_malformed);
	tcase_add_test(rd, a_bpf_filter_selects_the_scan_packets_only);
	tcase_add_test(rd, batches_never_exceed_the_collector_batch);
	tcase_add_test(rd, pcapng_sections_of_both_byte_orders_give_every_packet_with_its_interface);
	tcase_add_test(rd, libpcap_alone_stops_where_our_walker_goes_on);
	tcase_add_test(rd, a_bpf_filter_is_compiled_for_each_pcapng_link_type);
	tcase_add_test(rd, an_unusable_pcapng_packet_block_is_counted_and_named_by_offset);
	tcase_add_test(rd, a_pcapng_file_cut_inside_a_block_keeps_the_packets_before_it);
	tcase_add_test(rd, every_prefix_of_a_pcapng_file_walks_cleanly_from_memory);
	tcase_add_test(rd, pcapng_and_pcap_on_standard_input_read_like_files);
	tcase_add_test(rd, root_drops_to_an_unprivileged_user_with_no_capability_left);
	tcase_add_test(rd, an_unknown_user_is_refused);
	tcase_add_test(rd, bad_capture_settings_are_usage_errors);
	tcase_add_test(rd, stats_name_the_fcs_and_drop_counters);
	tcase_set_timeout(rd, 60);
	suite_add_tcase(s, rd);

	tcase_add_test(gen, the_scan_capture_has_one_source_on_many_ports_and_quiet_noise);
	tcase_add_test(gen, the_generator_is_deterministic_for_a_seed);
	tcase_set_timeout(gen, 60);
	suite_add_tcase(s, gen);

	tcase_add_test(conf, every_tcpdump_capture_reads_as_many_packets_as_libpcap_and_tcpdump);
	tcase_add_test(conf, every_pcapng_conformance_file_gives_the_packets_its_txt_lists);
	tcase_add_test(conf, tcpdump_counts_the_same_packets_as_we_read);
	tcase_set_timeout(conf, 60);
	suite_add_tcase(s, conf);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_pcap: could not remove %s\n", tmpdir);
	return failed ? 1 : 0;
}
