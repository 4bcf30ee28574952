/*
 * test_corr.c - correlation types through cep_detect: value_sum, value_avg,
 * temporal, temporal_ordered, chaining, aliases, ceptor's absence,
 * alert_clear, backoff and corroboration; event time with an allowed
 * lateness (late events, out-of-order arrival, when windows close); and a
 * replay check: the same stream in order and shuffled within the lateness
 * gives the same signals, byte for byte.
 *
 * Every test writes four detection rules (syn, ack, flow, report) and the
 * correlation under test into one file, then feeds events that read as the
 * traffic they describe: "a SYN from .7 at second 3".
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/detect.h"
#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/rule.h"
#include "ceptor/signal.h"

#define SEC 1000000000ULL
#define T0 (1714521600ULL * SEC) /* 2024-05-01T00:00:00Z */
#define AT(s) (T0 + (uint64_t)(s) * SEC)
#define MAXSIG 4096

static char tmpdir[64];
static char path[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ceptor-corr-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof path, "%s/rules.yml", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

static const char base_rules[] =
	"title: TCP SYN\n"
	"name: syn\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  sel: {proto: 6, tcp_flags: 2}\n"
	"  condition: sel\n"
	"---\n"
	"title: TCP ACK\n"
	"name: ack\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  sel: {proto: 6, tcp_flags: 16}\n"
	"  condition: sel\n"
	"---\n"
	"title: TCP flow\n"
	"name: flow\n"
	"logsource: {product: ceptor, category: flow}\n"
	"detection:\n"
	"  sel: {proto: 6}\n"
	"  condition: sel\n"
	"---\n"
	"title: Scan report\n"
	"name: report\n"
	"logsource: {product: ceptor, category: feed}\n"
	"detection:\n"
	"  sel: {type: scan}\n"
	"  condition: sel\n"
	"---\n";

static void write_rules(const char *more)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s%s", base_rules, more);
	fclose(f);
}

/* The base rules plus @more; the compile must succeed. */
static struct cep_ruleset *rules(const char *more)
{
	struct cep_ruleset *rs = NULL;
	const char *paths[1] = { path };

	write_rules(more);
	ck_assert_int_eq(cep_ruleset_compile(paths, 1, stderr, &rs), 0);
	return rs;
}

/* The base rules plus @more must fail, with @msg on line @line. */
static void rejects(const char *more, unsigned line, const char *msg)
{
	struct cep_ruleset *rs = NULL;
	const char *paths[1] = { path };
	char *buf = NULL, want[256];
	size_t len = 0;
	FILE *diag = open_memstream(&buf, &len);

	write_rules(more);
	ck_assert_int_eq(cep_ruleset_compile(paths, 1, diag, &rs),
			 -CEP_ERULE);
	fclose(diag);
	snprintf(want, sizeof want, "%s:%u: ", path, line);
	ck_assert_msg(strstr(buf, want) && strstr(buf, msg),
		      "want %s...%s, got: %s", want, msg, buf);
	free(buf);
}

/* Lines of the correlation document, counted after the base rules. */
static unsigned base_lines(void)
{
	unsigned n = 0;

	for (const char *p = base_rules; *p; p++)
		n += *p == '\n';
	return n;
}

struct run {
	struct cep_ruleset *rs;
	struct cep_detect *d;
	struct cep_signal sig[MAXSIG];
	unsigned n;
};

static struct run *start(const char *more, uint64_t lateness)
{
	struct run *r = calloc(1, sizeof *r);
	struct cep_detect_config cfg = { .lateness = lateness };

	ck_assert_ptr_nonnull(r);
	r->rs = rules(more);
	ck_assert_int_eq(cep_detect_create(r->rs, &cfg, &r->d), 0);
	return r;
}

static void stop(struct run *r)
{
	cep_detect_destroy(r->d);
	cep_ruleset_destroy(r->rs);
	free(r);
}

static unsigned put(struct run *r, struct cep_event ev)
{
	unsigned before = r->n;

	ck_assert_uint_lt(r->n, MAXSIG);
	r->n += cep_detect_event(r->d, &ev, r->sig + r->n, MAXSIG - r->n);
	return r->n - before;
}

static unsigned finish(struct run *r)
{
	unsigned before = r->n, k;

	while ((k = cep_detect_flush(r->d, r->sig + r->n, MAXSIG - r->n)) > 0)
		r->n += k;
	return r->n - before;
}

static struct cep_detect_stats stats(const struct run *r)
{
	struct cep_detect_stats st;

	cep_detect_stats(r->d, &st);
	return st;
}

static void ip4(uint8_t *ip, uint8_t *af, unsigned a, unsigned b,
		unsigned last)
{
	*af = CEP_AF_INET;
	ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = 2;
	ip[3] = (uint8_t)last;
}

/* A TCP segment with @flags from 192.0.2.src to 10.0.2.1:port at second s. */
static struct cep_event pkt(unsigned src, unsigned flags, unsigned port,
			    double s)
{
	struct cep_event ev;

	memset(&ev, 0, sizeof ev);
	ev.ts = T0 + (uint64_t)(s * (double)SEC);
	ev.kind = CEP_KIND_PACKET;
	ev.proto = 6;
	ev.tcp_flags = (uint8_t)flags;
	ip4(ev.src_ip, &ev.src_af, 192, 0, src);
	ip4(ev.dst_ip, &ev.dst_af, 10, 0, 1);
	ev.src_port = 40000;
	ev.dst_port = (uint16_t)port;
	ev.packets = 1;
	ev.bytes = 60;
	return ev;
}

static struct cep_event syn(unsigned src, double s)
{
	return pkt(src, 2, 80, s);
}

static struct cep_event ack(unsigned src, double s)
{
	return pkt(src, 16, 80, s);
}

/* A TCP flow record from 192.0.2.src with these totals at second s. */
static struct cep_event flow(unsigned src, uint64_t bytes, uint64_t packets,
			     double s)
{
	struct cep_event ev = pkt(src, 0, 443, s);

	ev.kind = CEP_KIND_FLOW;
	ev.bytes = bytes;
	ev.packets = packets;
	return ev;
}

/* A UDP packet that no rule matches: it only moves event time. */
static struct cep_event tick(double s)
{
	struct cep_event ev = pkt(1, 0, 53, s);

	ev.proto = 17;
	return ev;
}

/* A scan report from feed @source about 10.0.2.dst at second s. */
static struct cep_event report(const char *source, unsigned dst, double s)
{
	struct cep_event ev;

	memset(&ev, 0, sizeof ev);
	ev.ts = T0 + (uint64_t)(s * (double)SEC);
	ev.kind = CEP_KIND_FEED;
	ev.type = CEP_TYPE_SCAN;
	ip4(ev.src_ip, &ev.src_af, 198, 51, 9);
	ip4(ev.dst_ip, &ev.dst_af, 10, 0, dst);
	snprintf(ev.source, sizeof ev.source, "%s", source);
	ev.count = 1;
	return ev;
}

/* --- Sigma types ----------------------------------------------------------- */

static const char three_syns[] =
	"title: Three SYNs\n"
	"id: three-syns\n"
	"correlation:\n"
	"  type: event_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 10s\n"
	"  condition: {gte: 3}\n";

START_TEST(event_count_fires_exactly_at_the_threshold_at_the_window_edge)
{
	struct run *r = start(three_syns, 0);

	ck_assert_uint_eq(put(r, syn(7, 0)), 0);
	ck_assert_uint_eq(put(r, syn(7, 5)), 0);
	/* 10 s after the first: still inside (now - seen <= timespan). */
	ck_assert_uint_eq(put(r, syn(7, 10)), 1);
	ck_assert_str_eq(r->sig[0].rule_id, "three-syns");
	ck_assert_str_eq(r->sig[0].key, "src_ip=192.0.2.7");
	ck_assert_uint_eq(r->sig[0].count, 3);
	ck_assert_uint_eq(r->sig[0].kind, CEP_SIGNAL_ALERT);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_EVENT_COUNT);
	ck_assert_uint_eq(r->sig[0].first_ts, AT(0));
	ck_assert_uint_eq(r->sig[0].last_ts, AT(10));
	stop(r);
}
END_TEST

START_TEST(event_count_one_event_outside_the_window_does_not_count)
{
	struct run *r = start(three_syns, 0);

	put(r, syn(8, 0));
	put(r, syn(8, 5));
	/* 10.5 s after the first: it has left the window. */
	ck_assert_uint_eq(put(r, syn(8, 10.5)), 0);
	ck_assert_uint_eq(finish(r), 0);
	stop(r);
}
END_TEST

static const char exfil_sum[] =
	"title: Exfiltration volume\n"
	"id: exfil\n"
	"correlation:\n"
	"  type: value_sum\n"
	"  rules: [flow]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 60s\n"
	"  condition: {field: bytes, gte: 1000}\n";

START_TEST(value_sum_fires_when_the_sum_of_bytes_reaches_the_bound)
{
	struct run *r = start(exfil_sum, 0);

	ck_assert_uint_eq(put(r, flow(7, 400, 4, 0)), 0);
	ck_assert_uint_eq(put(r, flow(7, 599, 5, 10)), 0);
	ck_assert_uint_eq(put(r, flow(7, 1, 1, 20)), 1);
	ck_assert_uint_eq(r->sig[0].count, 1000);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_VALUE_SUM);
	/* More bytes: the final signal carries the peak sum at close. */
	put(r, flow(7, 500, 1, 30));
	ck_assert_uint_eq(finish(r), 1);
	ck_assert_uint_eq(r->sig[1].final, 1);
	ck_assert_uint_eq(r->sig[1].count, 1500);
	stop(r);
}
END_TEST

START_TEST(value_sum_forgets_amounts_that_left_the_window)
{
	struct run *r = start(
		"title: Packet burst\n"
		"id: burst\n"
		"correlation:\n"
		"  type: value_sum\n"
		"  rules: [flow]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 10s\n"
		"  condition: {field: packets, gt: 100}\n", 0);

	put(r, flow(7, 1, 60, 0));
	/* 11 s later the first 60 packets are gone: 41 + 50 = 91. */
	put(r, flow(7, 1, 41, 11));
	ck_assert_uint_eq(put(r, flow(7, 1, 50, 12)), 0);
	ck_assert_uint_eq(put(r, flow(7, 1, 10, 13)), 1);
	ck_assert_uint_eq(r->sig[0].count, 101);
	stop(r);
}
END_TEST

START_TEST(value_avg_tests_the_average_rounded_down)
{
	struct run *r = start(
		"title: Large flows on average\n"
		"id: avg\n"
		"correlation:\n"
		"  type: value_avg\n"
		"  rules: [flow]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 60s\n"
		"  condition: {field: bytes, gt: 500}\n", 0);

	ck_assert_uint_eq(put(r, flow(7, 100, 1, 0)), 0);
	ck_assert_uint_eq(put(r, flow(7, 901, 1, 1)), 0);  /* avg 500 */
	ck_assert_uint_eq(put(r, flow(7, 503, 1, 2)), 1);  /* 1504/3 = 501 */
	ck_assert_uint_eq(r->sig[0].count, 501);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_VALUE_AVG);
	stop(r);
}
END_TEST

START_TEST(value_avg_with_an_upper_bound_is_judged_at_close)
{
	struct run *r = start(
		"title: Small flows\n"
		"id: small\n"
		"correlation:\n"
		"  type: value_avg\n"
		"  rules: [flow]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 60s\n"
		"  condition: {field: count, lte: 0}\n", 0);

	ck_assert_uint_eq(put(r, flow(7, 10, 1, 0)), 0);
	ck_assert_uint_eq(finish(r), 1);
	ck_assert_uint_eq(r->sig[0].final, 1);
	ck_assert_uint_eq(r->sig[0].count, 0);
	stop(r);
}
END_TEST

static const char recon[] =
	"title: SYN, ACK and a flow from one host\n"
	"id: recon\n"
	"correlation:\n"
	"  type: temporal\n"
	"  rules: [syn, ack, flow]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 30s\n";

START_TEST(temporal_fires_when_every_rule_was_seen_in_any_order)
{
	struct run *r = start(recon, 0);

	ck_assert_uint_eq(put(r, flow(7, 1, 1, 0)), 0);
	ck_assert_uint_eq(put(r, ack(7, 1)), 0);
	ck_assert_uint_eq(put(r, ack(7, 2)), 0); /* a repeat adds nothing */
	ck_assert_uint_eq(put(r, syn(7, 30)), 1);
	ck_assert_uint_eq(r->sig[0].count, 3);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_TEMPORAL);
	/* Another host: the flow is 31 s before the SYN, too old. */
	put(r, flow(9, 1, 1, 100));
	put(r, ack(9, 110));
	ck_assert_uint_eq(put(r, syn(9, 131)), 0);
	stop(r);
}
END_TEST

START_TEST(temporal_condition_counts_distinct_rules)
{
	struct run *r = start(
		"title: Two of three\n"
		"id: two\n"
		"correlation:\n"
		"  type: temporal\n"
		"  rules: [syn, ack, flow]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 30s\n"
		"  condition: {gte: 2}\n", 0);

	ck_assert_uint_eq(put(r, syn(7, 0)), 0);
	ck_assert_uint_eq(put(r, syn(7, 1)), 0);
	ck_assert_uint_eq(put(r, flow(7, 1, 1, 2)), 1);
	ck_assert_uint_eq(r->sig[0].count, 2);
	stop(r);
}
END_TEST

static const char syn_then_ack[] =
	"title: SYN then ACK\n"
	"id: ordered\n"
	"correlation:\n"
	"  type: temporal_ordered\n"
	"  rules: [syn, ack]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 10s\n";

START_TEST(temporal_ordered_fires_only_in_the_written_order)
{
	struct run *r = start(syn_then_ack, 0);

	ck_assert_uint_eq(put(r, ack(7, 0)), 0);
	ck_assert_uint_eq(put(r, syn(7, 1)), 0);
	ck_assert_uint_eq(put(r, ack(7, 11)), 1); /* 10 s after the SYN */
	ck_assert_uint_eq(r->sig[0].count, 2);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_TEMPORAL_ORDERED);
	/* first_ts: the start of the chain in order, not the stray ACK. */
	ck_assert_uint_eq(r->sig[0].first_ts, AT(1));
	/* Another host: ACK before SYN only, then a SYN with no ACK. */
	put(r, ack(8, 20));
	put(r, syn(8, 21));
	ck_assert_uint_eq(finish(r), 0);
	stop(r);
}
END_TEST

START_TEST(temporal_ordered_sorts_out_of_order_arrival_within_lateness)
{
	/* The SYN (t=10) arrives after the ACK (t=12), 2 s late. */
	struct run *r = start(syn_then_ack, 5 * SEC);
	struct cep_detect_stats st;

	ck_assert_uint_eq(put(r, ack(7, 12)), 0);
	ck_assert_uint_eq(put(r, syn(7, 10)), 0);
	/* Nothing comes out before the watermark is 5 s past them. */
	ck_assert_uint_eq(put(r, tick(16)), 0);
	ck_assert_uint_eq(put(r, tick(17.5)), 1);
	ck_assert_str_eq(r->sig[0].rule_id, "ordered");
	ck_assert_uint_eq(r->sig[0].last_ts, AT(12));
	st = stats(r);
	ck_assert_uint_eq(st.events_late, 0);
	stop(r);

	/* Without lateness the SYN is late: counted, no signal. */
	r = start(syn_then_ack, 0);
	put(r, ack(7, 12));
	put(r, syn(7, 10));
	ck_assert_uint_eq(finish(r), 0);
	st = stats(r);
	ck_assert_uint_eq(st.events_late, 1);
	stop(r);
}
END_TEST

/* --- lateness and windows ------------------------------------------------ */

START_TEST(late_event_within_lateness_counts_and_beyond_is_ignored)
{
	struct run *r = start(three_syns, 5 * SEC);
	struct cep_detect_stats st;

	put(r, syn(7, 20));
	put(r, syn(7, 25)); /* watermark 25: on time back to 20 */
	put(r, syn(7, 19.9)); /* late: 5.1 s behind */
	put(r, syn(7, 21));   /* within: 4 s behind */
	st = stats(r);
	ck_assert_uint_eq(st.events_late, 1);
	ck_assert_uint_eq(st.watermark, AT(25));
	ck_assert_uint_eq(r->n, 0); /* held until the watermark passes */
	put(r, syn(1, 26.5)); /* releases 20 and 21: 2 of 3 */
	ck_assert_uint_eq(r->n, 0);
	put(r, syn(1, 31)); /* releases 25: the third of src .7 */
	ck_assert_uint_eq(r->n, 1);
	ck_assert_uint_eq(r->sig[0].count, 3);
	ck_assert_uint_eq(r->sig[0].first_ts, AT(20));
	ck_assert_uint_eq(r->sig[0].last_ts, AT(25));
	stop(r);
}
END_TEST

START_TEST(late_event_still_gives_its_detection_signal)
{
	struct run *r = start(
		"title: Lone ACKs\n"
		"id: acks\n"
		"correlation:\n"
		"  type: event_count\n"
		"  rules: [ack]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 10s\n"
		"  condition: {gte: 2}\n", 0);

	/* syn is not referenced, so it emits on its own, late or not. */
	put(r, syn(7, 100));
	ck_assert_uint_eq(put(r, syn(7, 50)), 1);
	ck_assert_uint_eq(r->sig[1].origin, CEP_SIGNAL_DETECTION);
	ck_assert_uint_eq(stats(r).events_late, 1);
	stop(r);
}
END_TEST

START_TEST(window_closes_only_when_watermark_minus_lateness_passes_its_end)
{
	struct run *r = start(three_syns, 5 * SEC);

	put(r, syn(7, 0));
	put(r, syn(7, 1));
	put(r, syn(7, 2));
	put(r, syn(7, 3)); /* count 4 after the fire at 3 */
	put(r, syn(1, 10)); /* watermark 10: releases 0..3 -> fire */
	ck_assert_uint_eq(r->n, 1);
	/* Group .7 ends at 3 + 10 = 13; watermark - lateness must pass it. */
	put(r, syn(1, 18));
	ck_assert_uint_eq(r->n, 1);
	ck_assert_uint_eq(stats(r).keys_live, 2);
	put(r, syn(1, 18.5)); /* 13.5 > 13: closes with the final count */
	ck_assert_uint_eq(r->n, 2);
	ck_assert_uint_eq(r->sig[1].final, 1);
	ck_assert_uint_eq(r->sig[1].count, 4);
	stop(r);
}
END_TEST

/* --- chaining, aliases, generate ----------------------------------------- */

static const char chained[] =
	"title: Many SYNs\n"
	"name: many_syns\n"
	"correlation:\n"
	"  type: event_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 10s\n"
	"  condition: {gte: 3}\n"
	"---\n"
	"title: Many SYNs, then an ACK\n"
	"id: brute-then-in\n"
	"level: critical\n"
	"correlation:\n"
	"  type: temporal_ordered\n"
	"  rules: [many_syns, ack]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 60s\n";

START_TEST(chained_correlation_feeds_on_the_inner_one)
{
	struct run *r = start(chained, 0);

	/* An ACK alone, then SYNs that fire the inner rule, then an ACK. */
	put(r, ack(7, 0));
	put(r, syn(7, 1));
	put(r, syn(7, 2));
	ck_assert_uint_eq(put(r, syn(7, 3)), 0); /* inner: does not emit */
	ck_assert_uint_eq(put(r, ack(7, 50)), 1);
	ck_assert_str_eq(r->sig[0].rule_id, "brute-then-in");
	ck_assert_uint_eq(r->sig[0].level, CEP_LEVEL_CRITICAL);
	ck_assert_uint_eq(r->sig[0].count, 2);
	ck_assert_uint_eq(r->sig[0].first_ts, AT(3)); /* the inner alert */
	/* Another host: SYNs only, the inner one fires, the outer not. */
	put(r, syn(9, 100));
	put(r, syn(9, 101));
	put(r, syn(9, 102));
	ck_assert_uint_eq(finish(r), 0);
	stop(r);
}
END_TEST

START_TEST(chained_inner_correlation_emits_when_the_outer_says_generate)
{
	char text[2048];
	struct run *r;

	snprintf(text, sizeof text, "%s  generate: true\n", chained);
	r = start(text, 0);
	put(r, syn(7, 1));
	put(r, syn(7, 2));
	ck_assert_uint_eq(put(r, syn(7, 3)), 1);
	ck_assert_str_eq(r->sig[0].rule_id, "many_syns");
	/* generate also makes the detection rule ack emit. */
	ck_assert_uint_eq(put(r, ack(7, 4)), 2);
	ck_assert_uint_eq(r->sig[1].origin, CEP_SIGNAL_DETECTION);
	ck_assert_str_eq(r->sig[2].rule_id, "brute-then-in");
	stop(r);
}
END_TEST

START_TEST(aliases_group_different_fields_of_different_rules)
{
	/* A host that scans out (src_ip of SYNs) and that a feed reports
	 * as scanned (dst_ip of reports): one group per host. */
	struct run *r = start(
		"title: Host scans and is reported\n"
		"id: both-ways\n"
		"correlation:\n"
		"  type: temporal\n"
		"  rules: [syn, report]\n"
		"  group-by: [host]\n"
		"  timespan: 60s\n"
		"  aliases:\n"
		"    host:\n"
		"      syn: src_ip\n"
		"      report: dst_ip\n", 0);
	struct cep_event rep = report("shadow", 7, 5);

	/* A report about 10.0.2.7; a SYN from 10.0.2.7 (not 192.0.2.7). */
	struct cep_event s = syn(1, 10);

	s.src_ip[0] = 10, s.src_ip[1] = 0, s.src_ip[3] = 7;
	ck_assert_uint_eq(put(r, syn(7, 0)), 0); /* 192.0.2.7: other host */
	ck_assert_uint_eq(put(r, rep), 0);
	ck_assert_uint_eq(put(r, s), 1);
	ck_assert_str_eq(r->sig[0].key, "host=10.0.2.7");
	stop(r);
}
END_TEST

/* --- ceptor extensions ------------------------------------------------------ */

static const char unanswered[] =
	"title: SYN never answered\n"
	"id: unanswered\n"
	"correlation:\n"
	"  type: absence\n"
	"  rules: [syn, ack]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 30s\n";

START_TEST(absence_fires_when_the_window_of_a_ends_without_b)
{
	struct run *r = start(unanswered, 0);

	put(r, syn(7, 0));
	put(r, syn(8, 0));
	put(r, syn(7, 10));  /* a second A in the same window */
	put(r, ack(8, 29));  /* .8 answered in time */
	ck_assert_uint_eq(put(r, tick(30)), 0); /* at the edge */
	ck_assert_uint_eq(put(r, tick(30.5)), 1);
	ck_assert_str_eq(r->sig[0].key, "src_ip=192.0.2.7");
	ck_assert_uint_eq(r->sig[0].kind, CEP_SIGNAL_ABSENCE);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_ABSENCE);
	ck_assert_uint_eq(r->sig[0].final, 0);
	ck_assert_uint_eq(r->sig[0].count, 2);
	ck_assert_uint_eq(r->sig[0].ev.ts, AT(0)); /* the A that opened it */
	ck_assert_uint_eq(r->sig[0].last_ts, AT(10));
	stop(r);
}
END_TEST

START_TEST(absence_b_after_the_window_does_not_answer_and_flush_proves_nothing)
{
	struct run *r = start(unanswered, 0);

	put(r, syn(7, 0));
	ck_assert_uint_eq(put(r, ack(7, 31)), 1); /* too late */
	ck_assert_uint_eq(r->sig[0].kind, CEP_SIGNAL_ABSENCE);
	/* A window still open at the end of input has not ended. */
	put(r, syn(9, 40));
	ck_assert_uint_eq(finish(r), 0);
	stop(r);
}
END_TEST

/* A live engine whose input pauses advances event time itself: the
 * absence fires, and held events reach their windows, without more input. */
START_TEST(advance_without_events_fires_absence_and_releases_held_events)
{
	struct run *r = start(unanswered, 2000000000ull); /* 2 s lateness */

	put(r, syn(7, 0));
	put(r, syn(8, 1));
	put(r, ack(8, 3));
	/* syn(7, 0) has reached its window; the two within 2 s wait */
	ck_assert_uint_eq(stats(r).held, 2);
	/* Not yet: the window ends at 30 s, plus 2 s lateness. */
	r->n += cep_detect_advance(r->d, AT(31), r->sig + r->n, MAXSIG - r->n);
	ck_assert_uint_eq(r->n, 0);
	ck_assert_uint_eq(stats(r).held, 0); /* released into the windows */
	r->n += cep_detect_advance(r->d, AT(33), r->sig + r->n, MAXSIG - r->n);
	ck_assert_uint_eq(r->n, 1);
	ck_assert_str_eq(r->sig[0].key, "src_ip=192.0.2.7");
	ck_assert_uint_eq(r->sig[0].kind, CEP_SIGNAL_ABSENCE);
	/* Time never goes back; an event behind it is late. */
	r->n += cep_detect_advance(r->d, AT(5), r->sig + r->n, MAXSIG - r->n);
	put(r, syn(9, 20));
	ck_assert_uint_eq(stats(r).events_late, 1);
	stop(r);
}
END_TEST

static const char flood[] =
	"title: SYN flood\n"
	"id: flood\n"
	"correlation:\n"
	"  type: alert_clear\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 10s\n"
	"  condition: {alert: 5, clear: 2}\n";

START_TEST(alert_clear_alerts_once_and_clears_at_the_clear_level)
{
	struct run *r = start(flood, 0);

	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(put(r, syn(7, i)), 0);
	ck_assert_uint_eq(put(r, syn(7, 4)), 1);
	ck_assert_uint_eq(r->sig[0].kind, CEP_SIGNAL_ALERT);
	ck_assert_uint_eq(r->sig[0].count, 5);
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_ALERT_CLEAR);
	/* Above alert again: no second alert before a clear. */
	ck_assert_uint_eq(put(r, syn(7, 5)), 0);
	/* At 14.5 only 5 and 14.5 are in the window: 2 <= clear. */
	ck_assert_uint_eq(put(r, syn(7, 14.5)), 1);
	ck_assert_uint_eq(r->sig[1].kind, CEP_SIGNAL_CLEAR);
	ck_assert_uint_eq(r->sig[1].count, 2);
	/* It may alert again, and clears when it goes quiet. */
	for (int i = 0; i < 4; i++)
		put(r, syn(7, 15 + i));
	ck_assert_uint_eq(r->n, 3);
	ck_assert_uint_eq(r->sig[2].kind, CEP_SIGNAL_ALERT);
	ck_assert_uint_eq(put(r, tick(28)), 0); /* 18 + 10: the edge */
	ck_assert_uint_eq(put(r, tick(28.5)), 1);
	ck_assert_uint_eq(r->sig[3].kind, CEP_SIGNAL_CLEAR);
	ck_assert_uint_eq(r->sig[3].count, 0);
	stop(r);
}
END_TEST

START_TEST(backoff_alerts_at_n_then_n_times_m_then_n_times_m_squared)
{
	struct run *r = start(
		"title: SYN storm\n"
		"id: storm\n"
		"correlation:\n"
		"  type: backoff\n"
		"  rules: [syn]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 60s\n"
		"  condition: {gte: 2, factor: 3}\n", 0);
	uint64_t want[] = { 2, 6, 18 };

	for (int i = 0; i < 20; i++)
		put(r, syn(7, i));
	ck_assert_uint_eq(r->n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(r->sig[i].count, want[i]);
		ck_assert_uint_eq(r->sig[i].corr, CEP_CORR_BACKOFF);
	}
	ck_assert_uint_eq(finish(r), 1);
	ck_assert_uint_eq(r->sig[3].final, 1);
	ck_assert_uint_eq(r->sig[3].count, 20);
	stop(r);
}
END_TEST

START_TEST(corroboration_needs_k_distinct_sources_about_one_entity)
{
	struct run *r = start(
		"title: Scan seen by three feeds\n"
		"id: corroborated\n"
		"correlation:\n"
		"  type: corroboration\n"
		"  rules: [report]\n"
		"  group-by: [dst_ip]\n"
		"  timespan: 1h\n"
		"  condition: {gte: 3}\n", 0);

	ck_assert_uint_eq(put(r, report("shadow", 7, 0)), 0);
	ck_assert_uint_eq(put(r, report("shadow", 7, 1)), 0); /* same one */
	ck_assert_uint_eq(put(r, report("cert-x", 7, 2)), 0);
	ck_assert_uint_eq(put(r, report("cert-y", 8, 3)), 0); /* other host */
	ck_assert_uint_eq(put(r, report("cert-y", 7, 4)), 1);
	ck_assert_uint_eq(r->sig[0].count, 3);
	ck_assert_str_eq(r->sig[0].key, "dst_ip=10.0.2.7");
	ck_assert_uint_eq(r->sig[0].corr, CEP_CORR_CORROBORATION);
	stop(r);
}
END_TEST

/* --- compile errors --------------------------------------------------------- */

static const struct {
	const char *text;
	unsigned line; /* in the correlation document, 1-based */
	const char *msg;
} bad[] = {
	{ "title: x\nid: x\ncorrelation:\n  type: absence\n"
	  "  rules: [syn, ack, flow]\n  group-by: [src_ip]\n"
	  "  timespan: 10s\n", 3, "exactly two" },
	{ "title: x\nid: x\ncorrelation:\n  type: alert_clear\n"
	  "  rules: [syn]\n  timespan: 10s\n"
	  "  condition: {alert: 5, clear: 5}\n", 7, "clear below alert" },
	{ "title: x\nid: x\ncorrelation:\n  type: value_sum\n"
	  "  rules: [flow]\n  timespan: 10s\n"
	  "  condition: {field: source, gt: 5}\n", 7, "number field" },
	{ "title: x\nid: x\ncorrelation:\n  type: backoff\n"
	  "  rules: [syn]\n  timespan: 10s\n"
	  "  condition: {lt: 5}\n", 7, "backoff takes one bound" },
	{ "title: x\nname: a\ncorrelation:\n  type: temporal\n"
	  "  rules: [b, syn]\n  timespan: 10s\n---\n"
	  "title: y\nname: b\ncorrelation:\n  type: temporal\n"
	  "  rules: [a, ack]\n  timespan: 10s\n", 3, "refers back to itself" },
	{ "title: x\nid: x\ncorrelation:\n  type: temporal\n"
	  "  rules: [syn, ack]\n  group-by: [host]\n  timespan: 10s\n"
	  "  aliases:\n    host: {syn: src_ip, flow: dst_ip}\n", 9,
	  "does not refer to" },
	{ "title: x\nid: x\ncorrelation:\n  type: temporal\n"
	  "  rules: [syn, ack]\n  group-by: [host]\n  timespan: 10s\n"
	  "  aliases:\n    host: {syn: src_ip}\n", 3,
	  "gives no field for rule 'ack'" },
	{ "title: x\nid: x\ncorrelation:\n  type: value_percentile\n"
	  "  rules: [flow]\n  timespan: 10s\n"
	  "  condition: {field: bytes, gt: 5}\n", 4, "not supported yet" },
};

START_TEST(correlation_errors_name_file_and_line)
{
	rejects(bad[_i].text, base_lines() + bad[_i].line, bad[_i].msg);
}
END_TEST

START_TEST(rule_info_names_every_correlation_type)
{
	struct cep_ruleset *rs = rules(chained);
	struct cep_rule_info info;
	size_t n = cep_ruleset_count(rs);

	ck_assert_int_eq(cep_ruleset_rule(rs, n - 1, &info), 0);
	ck_assert_str_eq(info.kind, "temporal_ordered");
	ck_assert_int_eq(info.emits, 1);
	ck_assert_int_eq(cep_ruleset_rule(rs, n - 2, &info), 0);
	ck_assert_str_eq(info.kind, "event_count");
	ck_assert_int_eq(info.emits, 0); /* chained, no generate */
	cep_ruleset_destroy(rs);
}
END_TEST

/* --- replay ------------------------------------------------------------------ */

static const char mixed[] =
	"title: Three SYNs\nid: m-count\ncorrelation:\n  type: event_count\n"
	"  rules: [syn]\n  group-by: [src_ip]\n  timespan: 10s\n"
	"  condition: {gte: 3}\n---\n"
	"title: Bytes\nid: m-sum\ncorrelation:\n  type: value_sum\n"
	"  rules: [flow]\n  group-by: [src_ip]\n  timespan: 20s\n"
	"  condition: {field: bytes, gte: 3000}\n---\n"
	"title: Avg\nid: m-avg\ncorrelation:\n  type: value_avg\n"
	"  rules: [flow]\n  group-by: [src_ip]\n  timespan: 20s\n"
	"  condition: {field: bytes, gte: 900}\n---\n"
	"title: Ordered\nid: m-ord\ncorrelation:\n  type: temporal_ordered\n"
	"  rules: [syn, ack, flow]\n  group-by: [src_ip]\n  timespan: 15s\n---\n"
	"title: Unanswered\nid: m-abs\ncorrelation:\n  type: absence\n"
	"  rules: [syn, ack]\n  group-by: [src_ip]\n  timespan: 8s\n---\n"
	"title: Flood\nid: m-flood\ncorrelation:\n  type: alert_clear\n"
	"  rules: [syn]\n  group-by: [src_ip]\n  timespan: 10s\n"
	"  condition: {alert: 4, clear: 1}\n---\n"
	"title: Storm\nid: m-storm\ncorrelation:\n  type: backoff\n"
	"  rules: [ack]\n  group-by: [src_ip]\n  timespan: 30s\n"
	"  condition: {gte: 2, factor: 2}\n---\n"
	"title: Feeds\nid: m-corr\ncorrelation:\n  type: corroboration\n"
	"  rules: [report]\n  group-by: [dst_ip]\n  timespan: 30s\n"
	"  condition: {gte: 2}\n---\n"
	"title: Range\nid: m-range\ncorrelation:\n  type: value_count\n"
	"  rules: [syn, ack]\n  group-by: [src_ip]\n  timespan: 1s\n"
	"  condition: {field: dst_port, gt: 1, lte: 3}\n---\n"
	"title: Chain\nid: m-chain\ncorrelation:\n  type: temporal\n"
	"  rules: [m-count, m-abs]\n  group-by: [src_ip]\n  timespan: 30s\n"
	"  generate: true\n";

#define NEV 3000

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* A random stream over ~10 minutes from 6 hosts, in time order. */
static void stream(struct cep_event *ev, uint32_t seed)
{
	static const char *const feeds[] = { "a", "b", "c" };
	uint64_t t = AT(0);

	for (int i = 0; i < NEV; i++) {
		unsigned h = 1 + rnd(&seed) % 6, what = rnd(&seed) % 10;
		double s;

		/* 1..400 ms apart: no two events share a ts, so the L = 0 run
		 * (ties in arrival order) sorts like the others. */
		t += (1 + rnd(&seed) % 400) * (SEC / 1000);
		s = (double)(t - T0) / (double)SEC;
		if (what < 4)
			ev[i] = pkt(h, 2, 1 + rnd(&seed) % 5, s);
		else if (what < 6)
			ev[i] = pkt(h, 16, 1 + rnd(&seed) % 5, s);
		else if (what < 9)
			ev[i] = flow(h, rnd(&seed) % 2000, 1, s);
		else
			ev[i] = report(feeds[rnd(&seed) % 3], h, s);
		ev[i].ts = t; /* exact, not through a double */
		ev[i].seq = (uint32_t)i;
	}
}

START_TEST(replay_shuffled_within_lateness_gives_identical_signals)
{
	static struct cep_event in[NEV], shuffled[NEV];
	static uint64_t arrive[NEV];
	const uint64_t lateness = 3 * SEC;
	struct run *a, *b;
	uint32_t seed = 1000u + (uint32_t)_i;
	unsigned sigs;

	stream(in, seed);
	/* Each event is delayed by less than the lateness, then delivered
	 * in order of arrival: none trails the newest by more than that. */
	for (int i = 0; i < NEV; i++) {
		arrive[i] = in[i].ts + (rnd(&seed) % 2999) * (SEC / 1000);
		shuffled[i] = in[i];
	}
	for (int i = 1; i < NEV; i++)
		for (int j = i; j > 0 && arrive[j - 1] > arrive[j]; j--) {
			uint64_t ta = arrive[j];
			struct cep_event te = shuffled[j];

			arrive[j] = arrive[j - 1], arrive[j - 1] = ta;
			shuffled[j] = shuffled[j - 1], shuffled[j - 1] = te;
		}
	ck_assert_int_ne(memcmp(in, shuffled, sizeof in), 0);

	a = start(mixed, lateness);
	b = start(mixed, lateness);
	for (int i = 0; i < NEV; i++) {
		put(a, in[i]);
		put(b, shuffled[i]);
	}
	finish(a);
	finish(b);
	ck_assert_uint_eq(stats(b).events_late, 0);
	ck_assert_uint_eq(stats(a).signals_dropped, 0);
	sigs = a->n;
	ck_assert_uint_gt(sigs, 50); /* the stream exercises the rules */
	ck_assert_uint_eq(b->n, sigs);
	for (unsigned i = 0; i < sigs; i++)
		ck_assert_msg(!memcmp(&a->sig[i], &b->sig[i], sizeof a->sig[i]),
			      "signal %u differs: %s/%s vs %s/%s", i,
			      a->sig[i].rule_id, a->sig[i].key,
			      b->sig[i].rule_id, b->sig[i].key);
	/* Every correlation type had something to say. */
	for (int t = CEP_CORR_VALUE_COUNT; t < CEP_CORR_COUNT; t++) {
		bool seen = false;

		for (unsigned i = 0; i < sigs; i++)
			seen |= a->sig[i].corr == t;
		ck_assert_msg(seen || t == CEP_CORR_EVENT_COUNT ||
			      t == CEP_CORR_TEMPORAL,
			      "no signal of correlation type %d", t);
	}
	stop(a);
	stop(b);
}
END_TEST

START_TEST(replay_in_order_with_and_without_lateness_agrees)
{
	static struct cep_event in[NEV];
	struct run *a, *b;

	stream(in, 77);
	a = start(mixed, 0);
	b = start(mixed, 3 * SEC);
	for (int i = 0; i < NEV; i++) {
		put(a, in[i]);
		put(b, in[i]);
	}
	finish(a);
	finish(b);
	ck_assert_uint_eq(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++)
		ck_assert(!memcmp(&a->sig[i], &b->sig[i], sizeof a->sig[i]));
	stop(a);
	stop(b);
}
END_TEST

static Suite *corr_suite(void)
{
	Suite *s = suite_create("corr");
	TCase *tc = tcase_create("types");
	TCase *tl = tcase_create("time");
	TCase *tr = tcase_create("replay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, event_count_fires_exactly_at_the_threshold_at_the_window_edge);
	tcase_add_test(tc, event_count_one_event_outside_the_window_does_not_count);
	tcase_add_test(tc, value_sum_fires_when_the_sum_of_bytes_reaches_the_bound);
	tcase_add_test(tc, value_sum_forgets_amounts_that_left_the_window);
	tcase_add_test(tc, value_avg_tests_the_average_rounded_down);
	tcase_add_test(tc, value_avg_with_an_upper_bound_is_judged_at_close);
	tcase_add_test(tc, temporal_fires_when_every_rule_was_seen_in_any_order);
	tcase_add_test(tc, temporal_condition_counts_distinct_rules);
	tcase_add_test(tc, temporal_ordered_fires_only_in_the_written_order);
	tcase_add_test(tc, chained_correlation_feeds_on_the_inner_one);
	tcase_add_test(tc, chained_inner_correlation_emits_when_the_outer_says_generate);
	tcase_add_test(tc, aliases_group_different_fields_of_different_rules);
	tcase_add_test(tc, absence_fires_when_the_window_of_a_ends_without_b);
	tcase_add_test(tc, absence_b_after_the_window_does_not_answer_and_flush_proves_nothing);
	tcase_add_test(tc, advance_without_events_fires_absence_and_releases_held_events);
	tcase_add_test(tc, alert_clear_alerts_once_and_clears_at_the_clear_level);
	tcase_add_test(tc, backoff_alerts_at_n_then_n_times_m_then_n_times_m_squared);
	tcase_add_test(tc, corroboration_needs_k_distinct_sources_about_one_entity);
	tcase_add_loop_test(tc, correlation_errors_name_file_and_line, 0,
			    (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, rule_info_names_every_correlation_type);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_add_test(tl, temporal_ordered_sorts_out_of_order_arrival_within_lateness);
	tcase_add_test(tl, late_event_within_lateness_counts_and_beyond_is_ignored);
	tcase_add_test(tl, late_event_still_gives_its_detection_signal);
	tcase_add_test(tl, window_closes_only_when_watermark_minus_lateness_passes_its_end);
	suite_add_tcase(s, tl);

	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_add_loop_test(tr, replay_shuffled_within_lateness_gives_identical_signals, 0, 4);
	tcase_add_test(tr, replay_in_order_with_and_without_lateness_agrees);
	tcase_set_timeout(tr, 60);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(corr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
