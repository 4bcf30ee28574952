/*
 * test_feed.c - the feed collector's readers: RFC 4180 records and the
 * Shadowserver mapping, indicator lists, operator reports and their
 * updates, directories read once, and an upstream ceptor's Redis stream.
 */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "collectors/feed/feed.h"
#include "collectors/feed/feed_priv.h"
#include "tests/lib/redis_fixture.h"
#include "tests/lib/tmpdir.h"

#define MAXEV 64

/* What a test's sink received. */
struct got {
	struct cep_event ev[MAXEV];
	unsigned n;
};

/* A sink error for the next parse to meet; 0: the sink accepts. */
static int sink_fails_with;

static int collect(void *arg, const struct cep_event *ev, unsigned n)
{
	struct got *g = arg;

	if (sink_fails_with)
		return sink_fails_with;
	for (unsigned i = 0; i < n && g->n < MAXEV; i++)
		g->ev[g->n++] = ev[i];
	return (int)n;
}

struct run {
	struct got got;
	struct cep_feed_stats st;
	char diag[4096];
	int rc;
};

/* Parse @text as @format named @name; diag lines land in r->diag. */
static void parse(struct run *r, int format, const char *name,
		  const char *text, const struct cep_feed_opts *opts)
{
	struct cep_source src;
	struct cep_sink sink = { collect, &r->got };

	memset(r, 0, sizeof *r);
	cep_source_init(&src, "test");
	FILE *diag = fmemopen(r->diag, sizeof r->diag - 1, "w");
	ck_assert_ptr_nonnull(diag);
	r->rc = cep_feed_parse(format, name, text, strlen(text), opts, &src,
			       &sink, &r->st, diag);
	fclose(diag);
}

static const char *ip(const struct cep_event *ev, int dst)
{
	static char buf[2][CEP_IP_STRLEN];
	return dst ? cep_ip_format(ev->dst_af, ev->dst_ip, buf[1])
		   : cep_ip_format(ev->src_af, ev->src_ip, buf[0]);
}

static uint64_t ts_of(const char *s)
{
	uint64_t ts = 0;
	ck_assert_int_eq(cep_time_parse(s, strlen(s), &ts), 0);
	return ts;
}

/* ---- formats ----------------------------------------------------------- */

START_TEST(format_names_parse_to_their_values_and_back)
{
	ck_assert_int_eq(cep_feed_format_parse("jsonl"), CEP_FEED_JSONL);
	ck_assert_int_eq(cep_feed_format_parse("csv-shadowserver"), CEP_FEED_CSV);
	ck_assert_int_eq(cep_feed_format_parse("csv"), CEP_FEED_CSV);
	ck_assert_int_eq(cep_feed_format_parse("iplist"), CEP_FEED_IPLIST);
	ck_assert_int_eq(cep_feed_format_parse("report"), CEP_FEED_REPORT);
	ck_assert_int_eq(cep_feed_format_parse("redis"), CEP_FEED_REDIS);
	ck_assert_int_eq(cep_feed_format_parse("xml"), -CEP_EUNKNOWN);
	ck_assert_str_eq(cep_feed_format_name(CEP_FEED_CSV), "csv-shadowserver");
	ck_assert_int_eq(cep_feed_csv_report_known("scan_ssh"), 1);
	ck_assert_int_eq(cep_feed_csv_report_known("botnet_drone"), 1);
	ck_assert_int_eq(cep_feed_csv_report_known("weather"), 0);
}
END_TEST

/* ---- CSV --------------------------------------------------------------- */

START_TEST(csv_quoted_fields_keep_commas_and_doubled_quotes)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "botnet_drone.csv",
	      "timestamp,ip,cc_ip,infection,cc_dns\n"
	      "2024-01-01 00:00:00,192.0.2.1,198.51.100.1,\"a,b\",\"x\"\"y\"\"z\"\n",
	      NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].name, "a,b");
	ck_assert_str_eq(r.got.ev[0].indicator, "x\"y\"z");
}
END_TEST

START_TEST(csv_crlf_and_a_field_spanning_lines_make_one_record)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "botnet_drone.csv",
	      "timestamp,ip,cc_ip,infection,note\r\n"
	      "2024-01-01 00:00:00,192.0.2.1,198.51.100.1,zeus,\"one\r\ntwo\"\r\n"
	      "2024-01-01 00:00:01,192.0.2.2,198.51.100.1,zeus\r\n",
	      NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 2);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].name, "zeus");
	/* The short row is on line 4: the record before it took two. */
	ck_assert_ptr_nonnull(strstr(r.diag, "botnet_drone.csv:4: 4 fields, "
					     "the header has 5"));
}
END_TEST

START_TEST(csv_columns_are_found_by_name_in_any_order)
{
	struct run a, b;
	parse(&a, CEP_FEED_CSV, "darknet.csv",
	      "timestamp,ip,port,dst_port,protocol,count,tag,extra\n"
	      "2024-01-01 00:00:00,192.0.2.1,40000,23,tcp,7,mirai,zzz\n", NULL);
	parse(&b, CEP_FEED_CSV, "darknet.csv",
	      "tag,other,count,protocol,dst_port,port,ip,timestamp\n"
	      "mirai,1,7,tcp,23,40000,192.0.2.1,2024-01-01 00:00:00\n", NULL);
	ck_assert_uint_eq(a.got.n, 1);
	ck_assert_uint_eq(b.got.n, 1);
	ck_assert_mem_eq(&a.got.ev[0], &b.got.ev[0], sizeof a.got.ev[0]);
	const struct cep_event *ev = &a.got.ev[0];
	ck_assert_int_eq(ev->kind, CEP_KIND_FEED);
	ck_assert_int_eq(ev->type, CEP_TYPE_SCAN);
	ck_assert_str_eq(ip(ev, 0), "192.0.2.1");
	ck_assert_uint_eq(ev->src_port, 40000);
	ck_assert_uint_eq(ev->dst_port, 23);
	ck_assert_uint_eq(ev->proto, 6);
	ck_assert_uint_eq(ev->count, 7);
	ck_assert_str_eq(ev->name, "mirai");
	ck_assert_str_eq(ev->source, "test");
}
END_TEST

START_TEST(csv_bad_rows_are_reported_with_their_line_and_skipped)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "feed.csv",
	      "timestamp,ip,cc_ip,infection\n"
	      "2024-01-01 00:00:00,192.0.2.1,198.51.100.1,zeus\n"
	      "yesterday,192.0.2.2,198.51.100.1,zeus\n"
	      "2024-01-01 00:00:02,192.0.2.300,198.51.100.1,zeus\n"
	      "2024-01-01 00:00:03,192.0.2.4,198.51.100.1\n"
	      "2024-01-01 00:00:04,192.0.2.5,198.51.100.1,\"open\n",
	      NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 5);
	ck_assert_uint_eq(r.st.decoded, 1);
	ck_assert_uint_eq(r.st.malformed, 4);
	ck_assert_ptr_nonnull(strstr(r.diag, "feed.csv:3: bad timestamp"));
	ck_assert_ptr_nonnull(strstr(r.diag, "feed.csv:4: bad address"));
	ck_assert_ptr_nonnull(strstr(r.diag, "feed.csv:5: 3 fields"));
	ck_assert_ptr_nonnull(strstr(r.diag, "feed.csv:6: unterminated quoted"));
}
END_TEST

START_TEST(csv_without_a_header_or_a_known_type_is_unusable)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "botnet_drone.csv", "\n\n", NULL);
	ck_assert_int_eq(r.rc, -CEP_EMALFORMED);
	parse(&r, CEP_FEED_CSV, "data.csv", "a,b\n1,2\n", NULL);
	ck_assert_int_eq(r.rc, -CEP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(r.diag, "data.csv:1: cannot tell the report"));
	ck_assert_uint_eq(r.got.n, 0);
	/* A report type named in the file but a header without the host. */
	parse(&r, CEP_FEED_CSV, "darknet.csv", "timestamp,port\n", NULL);
	ck_assert_int_eq(r.rc, -CEP_EMALFORMED);
}
END_TEST

START_TEST(csv_report_type_comes_from_option_then_name_then_header)
{
	static const char text[] = "timestamp,ip,cc_ip,dst_port,count\n"
				   "2024-01-01 00:00:00,192.0.2.1,198.51.100.1,80,2\n";
	struct cep_feed_opts o = { .csv_report = "darknet" };
	struct run r;

	parse(&r, CEP_FEED_CSV, "whatever.csv", text, NULL);
	ck_assert_int_eq(r.got.ev[0].type, CEP_TYPE_C2); /* header: cc_ip */
	parse(&r, CEP_FEED_CSV, "2024-01-01-sinkhole_http-asn.csv", text, NULL);
	ck_assert_int_eq(r.got.ev[0].type, CEP_TYPE_SINKHOLE);
	parse(&r, CEP_FEED_CSV, "2024-01-01-sinkhole_http-asn.csv", text, &o);
	ck_assert_int_eq(r.got.ev[0].type, CEP_TYPE_SCAN);
	/* scan_* reports are exposed services, named after the service. */
	parse(&r, CEP_FEED_CSV, "2024-01-01-scan_rdp-asn.csv",
	      "timestamp,ip,port,protocol\n2024-01-01 00:00:00,192.0.2.9,3389,tcp\n",
	      NULL);
	ck_assert_int_eq(r.got.ev[0].type, CEP_TYPE_VULN);
	ck_assert_str_eq(r.got.ev[0].name, "rdp");
	ck_assert_uint_eq(r.got.ev[0].src_port, 3389);
}
END_TEST

START_TEST(csv_timestamps_with_any_utc_suffix_are_the_same_instant)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "darknet.csv",
	      "timestamp,ip,dst_port\n"
	      "2024-02-03 04:05:06,192.0.2.1,1\n"
	      "2024-02-03 04:05:06Z,192.0.2.1,1\n"
	      "2024-02-03 04:05:06+00,192.0.2.1,1\n"
	      "2024-02-03 04:05:06+00:00,192.0.2.1,1\n"
	      "2024-02-03 04:05:06 UTC,192.0.2.1,1\n"
	      "2024-02-03T04:05:06Z,192.0.2.1,1\n", NULL);
	ck_assert_uint_eq(r.got.n, 6);
	for (unsigned i = 0; i < r.got.n; i++)
		ck_assert_uint_eq(r.got.ev[i].ts, ts_of("2024-02-03T04:05:06Z"));
}
END_TEST

START_TEST(csv_amplification_victim_is_the_destination)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "ddos_amplification.csv",
	      "timestamp,ip,protocol,dst_port,tag,src_port,count,bytes\n"
	      "2024-01-01 00:00:00,192.0.2.77,udp,123,ntp,80,15,2700\n", NULL);
	ck_assert_uint_eq(r.got.n, 1);
	const struct cep_event *ev = &r.got.ev[0];
	ck_assert_int_eq(ev->type, CEP_TYPE_DOS);
	ck_assert_int_eq(ev->src_af, 0);
	ck_assert_str_eq(ip(ev, 1), "192.0.2.77");
	ck_assert_uint_eq(ev->dst_port, 80);
	ck_assert_uint_eq(ev->src_port, 123);
	ck_assert_uint_eq(ev->proto, 17);
	ck_assert_uint_eq(ev->count, 15);
	ck_assert_uint_eq(ev->bytes, 2700);
	ck_assert_str_eq(ev->name, "ntp");
}
END_TEST

START_TEST(csv_long_names_are_cut_and_long_indicators_left_out)
{
	struct run r;
	char text[512];

	/* 22 ASCII bytes then a 3-byte character straddling the limit. */
	snprintf(text, sizeof text,
		 "timestamp,ip,cc_ip,infection,cc_dns\n"
		 "2024-01-01 00:00:00,192.0.2.1,198.51.100.1,"
		 "abcdefghijklmnopqrstuv\xe2\x82\xac,%s.example\n",
		 "a-label-that-is-long-enough-to-overflow-the-indicator-field-x");
	parse(&r, CEP_FEED_CSV, "botnet_drone.csv", text, NULL);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].name, "abcdefghijklmnopqrstuv");
	ck_assert_str_eq(r.got.ev[0].indicator, "");
	ck_assert_uint_eq(r.st.cut, 2);
}
END_TEST

START_TEST(csv_sector_names_map_onto_ceptor_sectors)
{
	struct run r;
	parse(&r, CEP_FEED_CSV, "darknet.csv",
	      "timestamp,ip,sector\n"
	      "2024-01-01 00:00:00,192.0.2.1,Communications\n"
	      "2024-01-01 00:00:00,192.0.2.1,Energy\n"
	      "2024-01-01 00:00:00,192.0.2.1,Information Technology\n", NULL);
	ck_assert_uint_eq(r.got.n, 3);
	ck_assert_int_eq(r.got.ev[0].sector, CEP_SECTOR_TELECOM);
	ck_assert_int_eq(r.got.ev[1].sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_int_eq(r.got.ev[2].sector, CEP_SECTOR_UNKNOWN);
}
END_TEST

START_TEST(csv_a_failing_sink_stops_the_read)
{
	struct run r;
	sink_fails_with = -EIO;
	parse(&r, CEP_FEED_CSV, "darknet.csv",
	      "timestamp,ip\n2024-01-01 00:00:00,192.0.2.1\n", NULL);
	sink_fails_with = 0;
	ck_assert_int_eq(r.rc, -EIO);
}
END_TEST

/* A row of darknet.csv at second @i from 192.0.2.(i % 250 + 1). */
static size_t darknet_row(char *buf, size_t size, unsigned i)
{
	return (size_t)snprintf(buf, size, "2024-01-01 00:00:%02u,192.0.2.%u,%u\n",
				i % 60, i % 250 + 1, i);
}

START_TEST(csv_an_open_quote_costs_work_linear_in_the_input)
{
	/* Quotes left open, each followed by more blank lines than a record
	 * may hold (each a byte of the record), then good rows: the reviewer's
	 * 14-second file, scaled to a test. */
	enum { OPENS = 3, BLANKS = CEP_FEED_CSV_RECORD_MAX + 100 };
	size_t cap = (size_t)OPENS * (BLANKS + 64) + 4096, n = 0;
	char *text = malloc(cap);
	struct run *r = malloc(sizeof *r);
	unsigned line = 1, opened[OPENS];

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(r);
	n += (size_t)snprintf(text + n, cap - n, "timestamp,ip,dst_port\n");
	for (unsigned k = 0; k < OPENS; k++) {
		n += darknet_row(text + n, cap - n, k);
		line++;
		n += (size_t)snprintf(text + n, cap - n,
				      "2024-01-01 00:00:00,192.0.2.9,\"x\n");
		opened[k] = ++line;
		memset(text + n, '\n', BLANKS);
		n += BLANKS;
		line += BLANKS;
	}
	n += darknet_row(text + n, cap - n, 99);
	text[n] = '\0';

	uint64_t before = cep__feed_csv_scanned;
	parse(r, CEP_FEED_CSV, "darknet.csv", text, NULL);
	uint64_t scanned = cep__feed_csv_scanned - before;

	ck_assert_int_eq(r->rc, 0);
	ck_assert_uint_lt(scanned, 4 * (uint64_t)n);
	/* Each open record is reported where it began, once, and reading
	 * resynchronises after it: every good row is kept. */
	ck_assert_uint_eq(r->got.n, OPENS + 1);
	ck_assert_uint_eq(r->got.ev[OPENS].dst_port, 99);
	ck_assert_uint_eq(r->st.malformed, OPENS);
	ck_assert_uint_eq(r->st.read, 2 * OPENS + 1);
	for (unsigned k = 0; k < OPENS; k++) {
		char want[96];
		snprintf(want, sizeof want, "darknet.csv:%u: record longer than "
			 "%d bytes", opened[k], CEP_FEED_CSV_RECORD_MAX);
		ck_assert_ptr_nonnull(strstr(r->diag, want));
	}
	free(r);
	free(text);
}
END_TEST

START_TEST(csv_a_quote_that_closes_lines_later_makes_one_record)
{
	struct run r;
	uint64_t before = cep__feed_csv_scanned;
	static const char text[] =
		"timestamp,ip,cc_ip,infection,note\n"
		"2024-01-01 00:00:00,192.0.2.1,198.51.100.1,zeus,\"a\n"
		"\n"
		"b,\"\"c\"\"\n"
		"d\"\n"
		"2024-01-01 00:00:01,192.0.2.2,198.51.100.1,zeus,\"open\n";

	parse(&r, CEP_FEED_CSV, "botnet_drone.csv", text, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].name, "zeus");
	ck_assert_uint_eq(r.st.read, 2);
	ck_assert_ptr_nonnull(strstr(r.diag, "botnet_drone.csv:6: unterminated "
				     "quoted field"));
	/* A record's first line is split, then scanned when a quote stays
	 * open; each later byte is scanned once; the record split once. */
	ck_assert_uint_le(cep__feed_csv_scanned - before, 3 * sizeof text);
}
END_TEST

/* Write @text, then @long_len bytes of 'x', then @tail into @path. */
static void write_long_line_file(const char *path, const char *text,
				 size_t long_len, const char *tail)
{
	FILE *f = fopen(path, "w");
	char chunk[4096];

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	memset(chunk, 'x', sizeof chunk);
	for (size_t left = long_len; left;) {
		size_t k = left < sizeof chunk ? left : sizeof chunk;
		ck_assert_uint_eq(fwrite(chunk, 1, k, f), k);
		left -= k;
	}
	fputs(tail, f);
	fclose(f);
}

static int read_file(const char *path, int format, struct run *r)
{
	struct cep_source src;
	struct cep_sink sink = { collect, &r->got };

	memset(r, 0, sizeof *r);
	cep_source_init(&src, "test");
	FILE *diag = fmemopen(r->diag, sizeof r->diag - 1, "w");
	r->rc = cep_feed_read(format, path, NULL, &src, &sink, &r->st, diag);
	fclose(diag);
	return r->rc;
}

START_TEST(a_line_longer_than_the_limit_is_reported_and_skipped_unbuffered)
{
	char dir[256], path[300], want[128];
	struct run r;

	cep_test_tmpdir(dir, sizeof dir, "ceptor-feedlong");
	snprintf(path, sizeof path, "%s/list.txt", dir);
	snprintf(want, sizeof want, "list.txt:2: line longer than %d bytes; "
		 "skipped", CEP_FEED_LINE_MAX);
	/* 3 MiB of one line between two good ones. */
	write_long_line_file(path, "192.0.2.1\n", 3u << 20, "\n192.0.2.3\n");
	ck_assert_int_eq(read_file(path, CEP_FEED_IPLIST, &r), 0);
	ck_assert_uint_eq(r.got.n, 2);
	ck_assert_str_eq(r.got.ev[0].indicator, "192.0.2.1");
	ck_assert_str_eq(r.got.ev[1].indicator, "192.0.2.3");
	ck_assert_uint_eq(r.st.malformed, 1);
	ck_assert_uint_eq(r.st.bytes, 10 + (3u << 20) + 1 + 10);
	ck_assert_ptr_nonnull(strstr(r.diag, want));

	/* The same line with no break at the end of the file. */
	write_long_line_file(path, "192.0.2.1\n", 3u << 20, "");
	ck_assert_int_eq(read_file(path, CEP_FEED_IPLIST, &r), 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_uint_eq(r.st.malformed, 1);
	ck_assert_ptr_nonnull(strstr(r.diag, want));

	/* A line of exactly the limit, CRLF-ended, is still a line. */
	write_long_line_file(path, "", CEP_FEED_LINE_MAX, "\r\n");
	ck_assert_int_eq(read_file(path, CEP_FEED_IPLIST, &r), 0);
	ck_assert_uint_eq(r.st.malformed, 1); /* not a list entry */
	ck_assert_ptr_null(strstr(r.diag, "line longer"));

	/* Inside an open CSV record, the skipped line ends the record. */
	snprintf(path, sizeof path, "%s/darknet.csv", dir);
	write_long_line_file(path, "timestamp,ip,dst_port\n"
			     "2024-01-01 00:00:00,192.0.2.1,\"open\n",
			     3u << 20, "\n2024-01-01 00:00:01,192.0.2.2,7\n");
	ck_assert_int_eq(read_file(path, CEP_FEED_CSV, &r), 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_uint_eq(r.got.ev[0].dst_port, 7);
	ck_assert_uint_eq(r.st.malformed, 2);
	ck_assert_ptr_nonnull(strstr(r.diag, "darknet.csv:3: line longer"));
	ck_assert_ptr_nonnull(strstr(r.diag, "darknet.csv:2: record longer"));

	/* Memory input has the same limit. */
	char *text = malloc((3u << 20) + 64);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "192.0.2.1\n");
	memset(text + 10, 'x', 3u << 20);
	strcpy(text + 10 + (3u << 20), "\n192.0.2.3\n");
	parse(&r, CEP_FEED_IPLIST, "mem.txt", text, NULL);
	ck_assert_uint_eq(r.got.n, 2);
	ck_assert_uint_eq(r.st.malformed, 1);
	ck_assert_ptr_nonnull(strstr(r.diag, "mem.txt:2: line longer"));
	free(text);
	cep_test_rmtree(dir);
}
END_TEST

/* ---- indicator lists --------------------------------------------------- */

START_TEST(iplist_entries_are_canonical_and_comments_ignored)
{
	struct run r;
	parse(&r, CEP_FEED_IPLIST, "lists/drop.txt",
	      "# comment\n; comment\n\n"
	      "192.0.2.1\n"
	      "2001:DB8:0::1 # why\n"
	      "198.51.100.0/24 ; SBL1\n"
	      "WWW.Example.COM.\n"
	      "10.0.0.1/8\n"
	      "300.1.1.1\n"
	      "a b\n", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 7);
	ck_assert_uint_eq(r.got.n, 4);
	ck_assert_uint_eq(r.st.malformed, 3);
	ck_assert_int_eq(r.got.ev[0].kind, CEP_KIND_INTEL);
	ck_assert_str_eq(r.got.ev[0].indicator, "192.0.2.1");
	ck_assert_str_eq(r.got.ev[1].indicator, "2001:db8::1");
	ck_assert_str_eq(r.got.ev[2].indicator, "198.51.100.0/24");
	ck_assert_str_eq(ip(&r.got.ev[2], 0), "198.51.100.0");
	ck_assert_str_eq(r.got.ev[3].indicator, "www.example.com");
	ck_assert_int_eq(r.got.ev[3].src_af, 0);
	ck_assert_str_eq(r.got.ev[3].name, "drop");
	ck_assert_ptr_nonnull(strstr(r.diag, "lists/drop.txt:8: host bits set"));
	ck_assert_ptr_nonnull(strstr(r.diag, "lists/drop.txt:10: more than one"));
}
END_TEST

/* ---- operator reports -------------------------------------------------- */

START_TEST(report_update_carries_what_the_earlier_report_said)
{
	struct run r;
	parse(&r, CEP_FEED_REPORT, "r.json",
	      "{\"report_id\":\"A-1\",\"ts\":\"2024-01-01T00:00:00Z\","
	      "\"reporter\":{\"org\":\"Grid Co\",\"contacts\":{\"phone\":\"1\","
	      "\"fax\":\"2\"}},\"sector\":\"electricity\",\"trigger\":"
	      "\"attack_detected\",\"cause\":{\"class\":\"cyber\",\"type\":"
	      "\"intrusion\"}}\n"
	      "{\"report_id\":\"A-1\",\"ts\":\"2024-01-01T01:00:00Z\","
	      "\"trigger\":\"damage_detected\",\"system\":{\"class\":"
	      "\"plant_control\",\"software\":\"SCADA-X\"}}\n", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.got.n, 2);
	const struct cep_event *a = &r.got.ev[0], *b = &r.got.ev[1];
	ck_assert_int_eq(a->kind, CEP_KIND_REPORT);
	ck_assert_str_eq(a->report_id, "A-1");
	ck_assert_int_eq(a->flags & CEP_EV_DAMAGE_LIKELY, 0);
	ck_assert_int_eq(a->system, CEP_SYSTEM_NONE);
	ck_assert_str_eq(b->report_id, "A-1");
	ck_assert_str_eq(b->reporter, "Grid Co");
	ck_assert_int_eq(b->sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_int_eq(b->type, CEP_TYPE_INTRUSION);
	ck_assert_int_eq(b->trigger, CEP_TRIGGER_DAMAGE_DETECTED);
	ck_assert_int_eq(b->system, CEP_SYSTEM_PLANT_CONTROL);
	ck_assert_str_eq(b->name, "SCADA-X");
	ck_assert_uint_eq(b->ts, ts_of("2024-01-01T01:00:00Z"));
	ck_assert_int_ne(b->flags & CEP_EV_DAMAGE_LIKELY, 0);
}
END_TEST

START_TEST(report_damage_likely_follows_the_trigger_unless_said)
{
	struct run r;
	parse(&r, CEP_FEED_REPORT, "r.json",
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"trigger\":\"attack_detected\"}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"trigger\":\"attack_detected\","
	      "\"damage_likely\":true}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"trigger\":\"serious_failure\"}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"trigger\":\"secondary_damage\","
	      "\"damage_likely\":false}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\"}\n", NULL);
	ck_assert_uint_eq(r.got.n, 5);
	ck_assert_int_eq(r.got.ev[0].flags & CEP_EV_DAMAGE_LIKELY, 0);
	ck_assert_int_ne(r.got.ev[1].flags & CEP_EV_DAMAGE_LIKELY, 0);
	ck_assert_int_ne(r.got.ev[2].flags & CEP_EV_DAMAGE_LIKELY, 0);
	ck_assert_int_eq(r.got.ev[3].flags & CEP_EV_DAMAGE_LIKELY, 0);
	ck_assert_int_eq(r.got.ev[4].flags & CEP_EV_DAMAGE_LIKELY, 0);
}
END_TEST

START_TEST(report_errors_name_the_line_inside_a_pretty_printed_report)
{
	struct run r;
	parse(&r, CEP_FEED_REPORT, "r.json",
	      "{\"ts\":\"2024-01-01T00:00:00Z\"}\n"
	      "{\n"
	      "  \"ts\": \"2024-01-01T00:00:00Z\",\n"
	      "  \"sector\": \"electricity\",\n"
	      "  \"trigger\": \"coffee_spilled\"\n"
	      "}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"report_id\":"
	      "\"this-id-is-far-too-long\"}\n"
	      "{\"ts\":\"2024-01-01T00:00:00Z\",\"sector\":\"gas\"}\n", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 4);
	ck_assert_uint_eq(r.got.n, 2);
	ck_assert_int_eq(r.got.ev[1].sector, CEP_SECTOR_GAS);
	ck_assert_ptr_nonnull(strstr(r.diag, "r.json:5: field \"trigger\""));
	ck_assert_ptr_nonnull(strstr(r.diag, "r.json:7: field \"report_id\" is "
					     "longer"));
}
END_TEST

START_TEST(report_updates_merge_across_inputs_through_a_shared_table)
{
	struct cep_feed_opts o = { .reports = cep_feed_reports_create() };
	struct run r;

	ck_assert_ptr_nonnull(o.reports);
	parse(&r, CEP_FEED_REPORT, "first.json",
	      "{\"report_id\":\"B-2\",\"ts\":\"2024-01-01T00:00:00Z\","
	      "\"sector\":\"medical\",\"may_spread\":true}", &o);
	ck_assert_uint_eq(r.got.n, 1);
	parse(&r, CEP_FEED_REPORT, "second.json",
	      "{\"report_id\":\"B-2\",\"ts\":\"2024-01-02T00:00:00Z\","
	      "\"type\":\"malware\"}", &o);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_int_eq(r.got.ev[0].sector, CEP_SECTOR_MEDICAL);
	ck_assert_int_eq(r.got.ev[0].type, CEP_TYPE_MALWARE);
	ck_assert_int_ne(r.got.ev[0].flags & CEP_EV_MAY_SPREAD, 0);
	/* Without the table the second input stands alone. */
	parse(&r, CEP_FEED_REPORT, "second.json",
	      "{\"report_id\":\"B-2\",\"ts\":\"2024-01-02T00:00:00Z\","
	      "\"type\":\"malware\"}", NULL);
	ck_assert_int_eq(r.got.ev[0].sector, CEP_SECTOR_UNKNOWN);
	cep_feed_reports_destroy(o.reports);
}
END_TEST

/* ---- directories ------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int read_dir(const char *dir, const char *state, struct run *r)
{
	struct cep_feed_opts o = { .state_path = state };
	struct cep_source src;
	struct cep_sink sink = { collect, &r->got };

	memset(r, 0, sizeof *r);
	cep_source_init(&src, "test");
	FILE *diag = fmemopen(r->diag, sizeof r->diag - 1, "w");
	r->rc = cep_feed_read(CEP_FEED_IPLIST, dir, &o, &src, &sink, &r->st,
			      diag);
	fclose(diag);
	return r->rc;
}

START_TEST(directory_files_are_read_once_across_restarts)
{
	char dir[256], state[300];
	struct run r;

	cep_test_tmpdir(dir, sizeof dir, "ceptor-feeddir");
	snprintf(state, sizeof state, "%s/.state", dir);
	write_file(dir, "a.txt", "192.0.2.1\n");
	write_file(dir, "b.txt", "192.0.2.2\n192.0.2.3\n");
	write_file(dir, ".hidden", "192.0.2.9\n");
	write_file(dir, "c.txt.part", "192.0.2.9\n");
	ck_assert_int_eq(read_dir(dir, state, &r), 0);
	ck_assert_uint_eq(r.got.n, 3);
	ck_assert_uint_eq(r.st.files, 2);
	ck_assert_str_eq(r.got.ev[0].indicator, "192.0.2.1"); /* name order */

	/* A restart reads only what is new. */
	write_file(dir, "c.txt", "192.0.2.4\n");
	ck_assert_int_eq(read_dir(dir, state, &r), 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].indicator, "192.0.2.4");
	ck_assert_uint_eq(r.st.skipped, 2);

	/* A file replaced by a different one of the same name is new. */
	write_file(dir, "a.txt", "192.0.2.5\n192.0.2.6\n");
	ck_assert_int_eq(read_dir(dir, state, &r), 0);
	ck_assert_uint_eq(r.got.n, 2);

	/* Without a state every file is read every time. */
	ck_assert_int_eq(read_dir(dir, NULL, &r), 0);
	ck_assert_uint_eq(r.got.n, 5);
	cep_test_rmtree(dir);
}
END_TEST

/* ---- Redis ------------------------------------------------------------- */

static struct cep_test_redis redis;

static void redis_setup(void)
{
	memset(&redis, 0, sizeof redis);
	ck_assert_int_eq(cep_test_redis_use(&redis), 0);
}

static void redis_teardown(void)
{
	cep_test_redis_stop(&redis);
}

START_TEST(redis_incidents_become_events_of_kind_incident)
{
	char key[128], url[256], state[300], dir[256];
	struct cep_feed_opts o = { 0 };
	struct cep_source src;
	struct run r;

	snprintf(key, sizeof key, "ceptor:{electricity}:incidents:test%d",
		 (int)getpid());
	snprintf(url, sizeof url, "%s/%s", redis.url, key);
	const char *colon = strrchr(redis.url, ':');
	ck_assert_ptr_nonnull(colon);
	redisContext *c = redisConnect("127.0.0.1", atoi(colon + 1));
	ck_assert(c && !c->err);
	freeReplyObject(redisCommand(c, "DEL %s", key));
	for (int v = 1; v <= 2; v++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"id\":\"P1-2026-000042\",\"version\":%d,\"status\":"
			 "\"open\",\"priority\":\"P1\",\"confidence\":0.950,"
			 "\"severity\":\"high\",\"sector\":\"electricity\","
			 "\"type\":\"scan\",\"rule\":\"ceptor-portscan-tcp\","
			 "\"key\":\"src_ip=192.0.2.66\",\"entity\":\"192.0.2.66\","
			 "\"count\":%d,\"tlp\":\"AMBER\",\"first_seen\":"
			 "\"2026-01-01T00:00:00.000000Z\",\"last_seen\":"
			 "\"2026-01-01T00:0%d:00.000000Z\",\"evidence\":1,"
			 "\"sources\":[],\"site\":\"tokyo-grid\"}", v, 10 * v, v);
		redisReply *rep = redisCommand(c,
			"XADD %s * id P1-2026-000042 version %d status open "
			"priority P1 confidence 0.950 sector electricity json %s",
			key, v, json);
		ck_assert(rep && rep->type == REDIS_REPLY_STRING);
		freeReplyObject(rep);
	}
	freeReplyObject(redisCommand(c, "XADD %s * note no-id", key));

	cep_test_tmpdir(dir, sizeof dir, "ceptor-feedredis");
	snprintf(state, sizeof state, "%s/last-id", dir);
	o.state_path = state;
	struct cep_sink sink = { collect, &r.got };
	memset(&r, 0, sizeof r);
	cep_source_init(&src, "council");
	FILE *diag = fmemopen(r.diag, sizeof r.diag - 1, "w");
	r.rc = cep_feed_read(CEP_FEED_REDIS, url, &o, &src, &sink, &r.st, diag);
	fclose(diag);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 3);
	ck_assert_uint_eq(r.got.n, 2);
	ck_assert_uint_eq(r.st.malformed, 1);
	const struct cep_event *ev = &r.got.ev[1];
	ck_assert_int_eq(ev->kind, CEP_KIND_INCIDENT);
	ck_assert_int_eq(ev->type, CEP_TYPE_SCAN);
	ck_assert_int_eq(ev->sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_str_eq(ev->report_id, "P1-2026-000042");
	ck_assert_str_eq(ip(ev, 0), "192.0.2.66");
	ck_assert_uint_eq(ev->count, 20);
	ck_assert_uint_eq(ev->ts, ts_of("2026-01-01T00:02:00Z"));
	ck_assert_str_eq(ev->name, "ceptor-portscan-tcp");
	ck_assert_str_eq(ev->reporter, "tokyo-grid");
	ck_assert_int_eq(ev->credibility, 1);
	ck_assert_str_eq(ev->source, "council");
	ck_assert_ptr_nonnull(strstr(r.diag, "no incident id"));

	/* Read again with the state: nothing new; then one new entry. */
	memset(&r, 0, sizeof r);
	r.rc = cep_feed_read(CEP_FEED_REDIS, url, &o, &src, &sink, &r.st, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.st.read, 0);
	freeReplyObject(redisCommand(c, "XADD %s * id P2-2026-000001 "
				     "last_seen 2026-01-02T00:00:00Z sector gas",
				     key));
	memset(&r, 0, sizeof r);
	r.rc = cep_feed_read(CEP_FEED_REDIS, url, &o, &src, &sink, &r.st, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.ev[0].report_id, "P2-2026-000001");
	ck_assert_int_eq(r.got.ev[0].sector, CEP_SECTOR_GAS);

	freeReplyObject(redisCommand(c, "DEL %s", key));
	redisFree(c);
	cep_test_rmtree(dir);
}
END_TEST

START_TEST(redis_bad_urls_and_dead_servers_fail_cleanly)
{
	struct cep_source src;
	struct run r;
	struct cep_sink sink = { collect, &r.got };
	int port = cep_test_free_port();
	char url[128];

	ck_assert_int_gt(port, 0);
	cep_source_init(&src, "council");
	memset(&r, 0, sizeof r);
	FILE *null = fopen("/dev/null", "w");
	ck_assert_int_eq(cep_feed_read(CEP_FEED_REDIS, "redis://127.0.0.1:6379",
				       NULL, &src, &sink, &r.st, null), -EINVAL);
	ck_assert_int_eq(cep_feed_read(CEP_FEED_REDIS, "http://x/y", NULL, &src,
				       &sink, &r.st, null), -EINVAL);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/k", port);
	ck_assert_int_eq(cep_feed_read(CEP_FEED_REDIS, url, NULL, &src, &sink,
				       &r.st, null), -CEP_EREDIS);
	fclose(null);
}
END_TEST

static Suite *feed_suite(void)
{
	Suite *s = suite_create("feed");
	TCase *tc = tcase_create("parsers");

	tcase_add_test(tc, format_names_parse_to_their_values_and_back);
	tcase_add_test(tc, csv_quoted_fields_keep_commas_and_doubled_quotes);
	tcase_add_test(tc, csv_crlf_and_a_field_spanning_lines_make_one_record);
	tcase_add_test(tc, csv_columns_are_found_by_name_in_any_order);
	tcase_add_test(tc, csv_bad_rows_are_reported_with_their_line_and_skipped);
	tcase_add_test(tc, csv_without_a_header_or_a_known_type_is_unusable);
	tcase_add_test(tc, csv_report_type_comes_from_option_then_name_then_header);
	tcase_add_test(tc, csv_timestamps_with_any_utc_suffix_are_the_same_instant);
	tcase_add_test(tc, csv_amplification_victim_is_the_destination);
	tcase_add_test(tc, csv_long_names_are_cut_and_long_indicators_left_out);
	tcase_add_test(tc, csv_sector_names_map_onto_ceptor_sectors);
	tcase_add_test(tc, csv_a_failing_sink_stops_the_read);
	tcase_add_test(tc, csv_an_open_quote_costs_work_linear_in_the_input);
	tcase_add_test(tc, csv_a_quote_that_closes_lines_later_makes_one_record);
	tcase_add_test(tc, a_line_longer_than_the_limit_is_reported_and_skipped_unbuffered);
	tcase_add_test(tc, iplist_entries_are_canonical_and_comments_ignored);
	tcase_add_test(tc, report_update_carries_what_the_earlier_report_said);
	tcase_add_test(tc, report_damage_likely_follows_the_trigger_unless_said);
	tcase_add_test(tc, report_errors_name_the_line_inside_a_pretty_printed_report);
	tcase_add_test(tc, report_updates_merge_across_inputs_through_a_shared_table);
	tcase_add_test(tc, directory_files_are_read_once_across_restarts);
	suite_add_tcase(s, tc);

	TCase *tr = tcase_create("redis");
	tcase_add_checked_fixture(tr, redis_setup, redis_teardown);
	tcase_set_timeout(tr, 30);
	tcase_add_test(tr, redis_incidents_become_events_of_kind_incident);
	tcase_add_test(tr, redis_bad_urls_and_dead_servers_fail_cleanly);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(feed_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
