/*
 * test_window.c - correlation windows through cep_detect: value_count and
 * event_count thresholds, the sliding window on event time, final signals,
 * flush, and the key budget and memory ceiling; then how the state is
 * kept (engine/core/window.h): the packed event a group keeps is the event
 * byte for byte, signals carry the whole event that made them, mem_bytes
 * is what the allocator holds and stays under the ceiling, a tracked key
 * costs at most 128 bytes, the reorder buffer holds an event once, long
 * keys, and duplicate events.
 *
 * Events are filled directly (a SYN from src to dst_port at second t), so
 * that each test reads as the traffic it describes.
 */
#include <check.h>
#include <inttypes.h>
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
#include "core/window.h"

#define SEC 1000000000ULL
#define T0 (1714521600ULL * SEC) /* 2024-05-01T00:00:00Z */

static char tmpdir[64];
static char path[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ceptor-window-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof path, "%s/rules.yml", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

static const char syn_rule[] =
	"title: TCP SYN\n"
	"id: syn\n"
	"level: informational\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  syn:\n"
	"    proto: 6\n"
	"    tcp_flags: 2\n"
	"  condition: syn\n"
	"---\n";

/* The SYN rule plus a correlation over it with the given body. */
static struct cep_ruleset *ruleset(const char *correlation)
{
	struct cep_ruleset *rs = NULL;
	const char *paths[1] = { path };
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s"
		"title: TCP port scan\n"
		"id: portscan\n"
		"level: high\n"
		"type: scan\n"
		"correlation:\n%s", syn_rule, correlation);
	fclose(f);
	ck_assert_int_eq(cep_ruleset_compile(paths, 1, stderr, &rs), 0);
	return rs;
}

/* @text as the whole rule file. */
static struct cep_ruleset *rules_text(const char *text)
{
	struct cep_ruleset *rs = NULL;
	const char *paths[1] = { path };
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(cep_ruleset_compile(paths, 1, stderr, &rs), 0);
	return rs;
}

static struct cep_ruleset *portscan(unsigned gte, const char *timespan)
{
	char body[512];

	snprintf(body, sizeof body,
		 "  type: value_count\n"
		 "  rules: [syn]\n"
		 "  group-by: [src_ip]\n"
		 "  timespan: %s\n"
		 "  condition: {field: dst_port, gte: %u}\n", timespan, gte);
	return ruleset(body);
}

static struct cep_event syn(unsigned src, unsigned port, uint64_t t)
{
	struct cep_event ev;

	memset(&ev, 0, sizeof ev);
	ev.ts = t;
	ev.kind = CEP_KIND_PACKET;
	ev.proto = 6;
	ev.tcp_flags = 2;
	ev.src_af = ev.dst_af = CEP_AF_INET;
	ev.src_ip[0] = 192, ev.src_ip[1] = 0, ev.src_ip[2] = 2;
	ev.src_ip[3] = (uint8_t)src;
	ev.dst_ip[0] = 10, ev.dst_ip[1] = 0, ev.dst_ip[2] = 0;
	ev.dst_ip[3] = 1;
	ev.src_port = 40000;
	ev.dst_port = (uint16_t)port;
	return ev;
}

/* Feeds one SYN; returns the signals it produced (at most 8). */
static unsigned feed(struct cep_detect *d, unsigned src, unsigned port,
		     uint64_t t, struct cep_signal *out)
{
	struct cep_signal tmp[8];
	struct cep_event ev = syn(src, port, t);

	return cep_detect_event(d, &ev, out ? out : tmp, 8);
}

/* Feeds ports first..first+n-1 from src at one per second from t; returns
 * the signals produced in total and keeps the last one in *last. */
static unsigned scan(struct cep_detect *d, unsigned src, unsigned first,
		     unsigned n, uint64_t t, struct cep_signal *last)
{
	struct cep_signal sig[8];
	unsigned total = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned got = feed(d, src, first + i, t + i * SEC, sig);

		if (got && last)
			*last = sig[got - 1];
		total += got;
	}
	return total;
}

static unsigned flush_all(struct cep_detect *d, struct cep_signal *last)
{
	struct cep_signal sig[8];
	unsigned total = 0, n;

	while ((n = cep_detect_flush(d, sig, 8)) > 0) {
		if (last)
			*last = sig[n - 1];
		total += n;
	}
	return total;
}

START_TEST(value_count_fires_exactly_at_the_threshold)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_signal sig;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 19, T0, NULL), 0);
	ck_assert_uint_eq(feed(d, 7, 2000, T0 + 19 * SEC, &sig), 1);
	ck_assert_uint_eq(sig.origin, CEP_SIGNAL_CORRELATION);
	ck_assert_str_eq(sig.rule_id, "portscan");
	ck_assert_str_eq(sig.title, "TCP port scan");
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.7");
	ck_assert_uint_eq(sig.level, CEP_LEVEL_HIGH);
	ck_assert_uint_eq(sig.type, CEP_TYPE_SCAN);
	ck_assert_uint_eq(sig.count, 20);
	ck_assert_uint_eq(sig.final, 0);
	ck_assert_uint_eq(sig.first_ts, T0);
	ck_assert_uint_eq(sig.last_ts, T0 + 19 * SEC);
	ck_assert_uint_eq(sig.ev.dst_port, 2000);
	/* Further ports do not fire again while the window is open. */
	ck_assert_uint_eq(scan(d, 7, 3000, 5, T0 + 20 * SEC, NULL), 0);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.events, 25);
	ck_assert_uint_eq(st.matches, 25);
	ck_assert_uint_eq(st.signals, 1);
	ck_assert_uint_eq(st.keys_live, 1);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(value_count_one_below_the_threshold_never_fires)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 19, T0, NULL), 0);
	/* Repeats of ports already seen add nothing. */
	ck_assert_uint_eq(scan(d, 7, 1000, 19, T0 + 20 * SEC, NULL), 0);
	ck_assert_uint_eq(flush_all(d, NULL), 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(value_count_groups_by_key_separately)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 10, T0, NULL), 0);
	ck_assert_uint_eq(scan(d, 8, 1010, 10, T0 + 10 * SEC, NULL), 0);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_live, 2);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(value_outside_the_timespan_does_not_count)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	/* Ports 1..10 at T0+0..9s, then 11..20 at T0+70..79s: port 1 is
	 * 70 s old by then, so no 60 s window holds 20 ports. */
	ck_assert_uint_eq(scan(d, 7, 1, 10, T0, NULL), 0);
	ck_assert_uint_eq(scan(d, 7, 11, 10, T0 + 70 * SEC, NULL), 0);
	cep_detect_destroy(d);

	/* The same ports with the second burst 50 s later: within. */
	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1, 10, T0, NULL), 0);
	ck_assert_uint_eq(scan(d, 7, 11, 10, T0 + 50 * SEC, &sig), 1);
	ck_assert_uint_eq(sig.count, 20);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(window_slides_values_out_one_by_one)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	/* One new port every 5 s: at most 13 are within any 60 s, so the
	 * scan below threshold never fires though 40 ports are probed. */
	for (unsigned i = 0; i < 40; i++)
		ck_assert_uint_eq(feed(d, 7, 100 + i, T0 + i * 5 * SEC, NULL),
				  0);
	/* Then one new port a second from T0+196 s: the 5 s ports age out
	 * as the burst goes on, and the 9th burst port makes 11 + 9 = 20. */
	ck_assert_uint_eq(scan(d, 7, 500, 8, T0 + 196 * SEC, NULL), 0);
	ck_assert_uint_eq(feed(d, 7, 600, T0 + 204 * SEC, &sig), 1);
	ck_assert_uint_eq(sig.count, 20);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(final_signal_carries_the_final_count_at_flush)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_signal sig;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 25, T0, &sig), 1);
	ck_assert_uint_eq(sig.count, 20);
	ck_assert_uint_eq(flush_all(d, &sig), 1);
	ck_assert_uint_eq(sig.final, 1);
	ck_assert_uint_eq(sig.count, 25);
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.7");
	ck_assert_uint_eq(sig.first_ts, T0);
	ck_assert_uint_eq(sig.last_ts, T0 + 24 * SEC);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_live, 0);
	ck_assert_uint_eq(cep_detect_flush(d, &sig, 1), 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(no_final_signal_when_the_count_did_not_grow)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 20, T0, NULL), 1);
	ck_assert_uint_eq(scan(d, 7, 1000, 20, T0 + 20 * SEC, NULL), 0);
	ck_assert_uint_eq(flush_all(d, NULL), 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(window_closes_when_event_time_moves_past_it)
{
	struct cep_ruleset *rs = portscan(20, "60s");
	struct cep_detect *d;
	struct cep_signal sig[8];
	struct cep_detect_stats st;
	unsigned n;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1000, 22, T0, NULL), 1);
	/* Last SYN of src 7 at T0+21 s; an unrelated SYN at T0+81 s is
	 * exactly 60 s later (still open), at T0+82 s it is closed. */
	ck_assert_uint_eq(feed(d, 9, 80, T0 + 81 * SEC, sig), 0);
	n = feed(d, 9, 80, T0 + 82 * SEC, sig);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(sig[0].final, 1);
	ck_assert_uint_eq(sig[0].count, 22);
	ck_assert_str_eq(sig[0].key, "src_ip=192.0.2.7");
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_expired, 1);
	ck_assert_uint_eq(st.keys_live, 1); /* src 9 */
	/* src 7 starts over in a new window. */
	ck_assert_uint_eq(scan(d, 7, 1000, 20, T0 + 90 * SEC, sig), 1);
	ck_assert_uint_eq(sig[0].count, 20);
	ck_assert_uint_eq(sig[0].first_ts, T0 + 90 * SEC);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(flush_closes_every_window_in_batches_of_max)
{
	struct cep_ruleset *rs = portscan(5, "60s");
	struct cep_detect *d;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	/* One scan after the other: events arrive in time order. */
	for (unsigned src = 1; src <= 3; src++)
		ck_assert_uint_eq(scan(d, src, 1, 6, T0 + src * 10 * SEC, NULL),
				  1);
	ck_assert_uint_eq(cep_detect_flush(d, &sig, 1), 1);
	ck_assert_uint_eq(sig.final, 1);
	ck_assert_uint_eq(sig.count, 6);
	ck_assert_uint_eq(cep_detect_flush(d, &sig, 1), 1);
	ck_assert_uint_eq(cep_detect_flush(d, &sig, 1), 1);
	ck_assert_uint_eq(cep_detect_flush(d, &sig, 1), 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(keys_over_the_budget_evict_the_oldest_and_are_counted)
{
	struct cep_ruleset *rs = portscan(3, "60s");
	struct cep_detect_config cfg = { .max_keys = 4 };
	struct cep_detect *d;
	struct cep_detect_stats st;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	/* src 1 fires and grows, then is the oldest when the budget bites. */
	ck_assert_uint_eq(scan(d, 1, 1, 4, T0, NULL), 1);
	for (unsigned src = 2; src <= 4; src++)
		ck_assert_uint_eq(feed(d, src, 80, T0 + 5 * SEC, NULL), 0);
	/* The 5th key evicts src 1, which still owes its final signal. */
	ck_assert_uint_eq(feed(d, 5, 80, T0 + 6 * SEC, &sig), 1);
	ck_assert_uint_eq(sig.final, 1);
	ck_assert_uint_eq(sig.count, 4);
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.1");
	for (unsigned src = 6; src <= 10; src++)
		feed(d, src, 80, T0 + 7 * SEC, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_live, 4);
	ck_assert_uint_eq(st.keys_evicted, 6);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(memory_ceiling_bounds_window_state)
{
	struct cep_ruleset *rs = portscan(1000, "1h");
	struct cep_detect_config cfg = { .mem_ceiling = 64 * 1024 };
	struct cep_detect *d;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	for (unsigned src = 1; src <= 200; src++)
		scan(d, src, 1, 20, T0 + src * 20 * SEC, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_gt(st.keys_evicted, 0);
	ck_assert_uint_le(st.mem_bytes, 64 * 1024);
	ck_assert_uint_eq(st.keys_live + st.keys_evicted, 200);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(distinct_values_per_group_are_capped_and_counted)
{
	struct cep_ruleset *rs = portscan(8, "60s");
	struct cep_detect_config cfg = { .max_values = 8 };
	struct cep_detect *d;
	struct cep_detect_stats st;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1, 20, T0, &sig), 1);
	ck_assert_uint_eq(sig.count, 8);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.values_overflow, 12);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(event_count_fires_at_the_threshold_of_events)
{
	struct cep_ruleset *rs = ruleset("  type: event_count\n"
					 "  rules: [syn]\n"
					 "  group-by: [src_ip, dst_port]\n"
					 "  timespan: 10s\n"
					 "  condition: {gte: 5}\n");
	struct cep_detect *d;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	/* Same port, every event counts; one per 3 s: never 5 in 10 s. */
	for (unsigned i = 0; i < 10; i++)
		ck_assert_uint_eq(feed(d, 7, 22, T0 + i * 3 * SEC, NULL), 0);
	/* Then 5 within a second. */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(feed(d, 7, 22, T0 + 40 * SEC, NULL), 0);
	ck_assert_uint_eq(feed(d, 7, 22, T0 + 40 * SEC, &sig), 1);
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.7,dst_port=22");
	ck_assert_uint_ge(sig.count, 5);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(upper_bound_condition_is_judged_when_the_window_closes)
{
	struct cep_ruleset *rs = ruleset("  type: value_count\n"
					 "  rules: [syn]\n"
					 "  group-by: [src_ip]\n"
					 "  timespan: 60s\n"
					 "  condition: {field: dst_port, gte: 2, lt: 4}\n");
	struct cep_detect *d;
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 1, 1, 3, T0, NULL), 0); /* 3: in range */
	ck_assert_uint_eq(scan(d, 2, 1, 5, T0 + 10 * SEC, NULL), 0); /* 5 */
	ck_assert_uint_eq(scan(d, 3, 1, 1, T0 + 20 * SEC, NULL), 0); /* 1 */
	ck_assert_uint_eq(flush_all(d, &sig), 1);
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.1");
	ck_assert_uint_eq(sig.count, 3);
	ck_assert_uint_eq(sig.final, 1);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(signals_beyond_max_wait_for_the_next_call)
{
	struct cep_ruleset *rs = portscan(2, "60s");
	struct cep_detect *d;
	struct cep_signal sig[2];

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(feed(d, 7, 1, T0, NULL), 0);
	{
		struct cep_event ev = syn(7, 2, T0 + SEC);

		ck_assert_uint_eq(cep_detect_event(d, &ev, sig, 0), 0);
	}
	/* The queued signal comes out with the next event. */
	ck_assert_uint_eq(feed(d, 8, 1, T0 + 2 * SEC, sig), 1);
	ck_assert_str_eq(sig[0].rule_id, "portscan");
	ck_assert_uint_eq(sig[0].count, 2);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(default_portscan_rule_detects_a_scan_of_20_ports)
{
	const char *r = getenv("ROOT");
	char dir[600];
	const char *dirs[1] = { dir };
	struct cep_ruleset *rs = NULL;
	struct cep_detect *d;
	struct cep_signal sig;

	snprintf(dir, sizeof dir, "%s/rules/default", r && *r ? r : ".");
	ck_assert_int_eq(cep_ruleset_compile(dirs, 1, stderr, &rs), 0);
	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(scan(d, 7, 1, 19, T0, NULL), 0);
	ck_assert_uint_eq(feed(d, 7, 5000, T0 + 30 * SEC, &sig), 1);
	ck_assert_str_eq(sig.rule_id, "ceptor-portscan-tcp");
	ck_assert_str_eq(sig.title, "TCP port scan");
	ck_assert_uint_eq(sig.level, CEP_LEVEL_HIGH);
	ck_assert_uint_eq(sig.type, CEP_TYPE_SCAN);
	ck_assert_uint_eq(sig.count, 20);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST


/* --- how the state is kept ---------------------------------------------- */

/* jemalloc's control interface, when the test links jemalloc (the release
 * flavour does; the sanitizer flavours do not). */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
	    size_t newlen) __attribute__((weak));

/* Bytes this thread holds from the allocator, exactly (jemalloc's
 * per-thread counters; stats.allocated lags by what thread caches hold),
 * or 0 without jemalloc. */
static uint64_t allocated(void)
{
	uint64_t in = 0, out = 0;
	size_t sz = sizeof in;

	if (!mallctl || mallctl("thread.allocated", &in, &sz, NULL, 0) ||
	    mallctl("thread.deallocated", &out, &sz, NULL, 0))
		return 0;
	return in - out;
}

/* A SYN with every kind of field set, as a signal must carry it: text
 * fields, grades, marking, recipients, flags; @tag changes the detail
 * so that two events of one scan differ. */
static struct cep_event rich(unsigned src, unsigned port, uint64_t t,
			     unsigned tag)
{
	struct cep_event ev = syn(src, port, t);

	ev.bytes = 60 + tag;
	ev.packets = 1;
	ev.count = tag;
	ev.sector = CEP_SECTOR_FINANCE;
	ev.reliability = CEP_REL_B;
	ev.credibility = 2;
	ev.tlp = CEP_TLP_RED;
	ev.vlan = 42;
	ev.system = CEP_SYSTEM_BANKING_CORE;
	ev.flags = CEP_EV_EXERCISE | CEP_EV_MAY_SPREAD;
	cep_event_set_recipients(&ev, 1u << CEP_SECTOR_FINANCE |
					      1u << CEP_SECTOR_TELECOM);
	ev.seq = 1000 + tag;
	snprintf(ev.source, sizeof ev.source, "tap-east-7");
	snprintf(ev.reporter, sizeof ev.reporter, "op-finance-a");
	snprintf(ev.indicator, sizeof ev.indicator, "c2.example.net");
	snprintf(ev.name, sizeof ev.name, "mirai-%u", tag);
	snprintf(ev.report_id, sizeof ev.report_id, "R-%u", tag);
	return ev;
}

static unsigned feed_ev(struct cep_detect *d, const struct cep_event *ev,
			struct cep_signal *out)
{
	struct cep_signal tmp[8];

	return cep_detect_event(d, ev, out ? out : tmp, 8);
}

static void assert_same_event(const struct cep_event *a,
			      const struct cep_event *b)
{
	ck_assert_int_eq(memcmp(a, b, sizeof *a), 0);
}

START_TEST(packed_event_unpacks_to_the_same_bytes)
{
	uint64_t buf[CEP__WINDOW_PACK_WORDS], rng = 0x9e3779b97f4a7c15ULL;
	struct cep_event ev, back;
	size_t n;

	/* Nothing set: the bitmap alone. */
	memset(&ev, 0, sizeof ev);
	ck_assert_uint_eq(cep__window_pack_event(&ev, buf), 1);
	memset(&back, 0xaa, sizeof back);
	cep__window_unpack_event(buf, &back);
	assert_same_event(&ev, &back);
	/* A packet as collectors make it: a few words, not 32. */
	ev = rich(7, 443, T0, 3);
	n = cep__window_pack_event(&ev, buf);
	ck_assert_uint_lt(n, 24);
	cep__window_unpack_event(buf, &back);
	assert_same_event(&ev, &back);
	/* Every byte set. */
	memset(&ev, 0xff, sizeof ev);
	ck_assert_uint_eq(cep__window_pack_event(&ev, buf), CEP__WINDOW_PACK_WORDS);
	cep__window_unpack_event(buf, &back);
	assert_same_event(&ev, &back);
	/* Random bytes, with runs of zero words, and zero bytes inside
	 * non-zero words. */
	for (unsigned k = 0; k < 2000; k++) {
		unsigned char *p = (unsigned char *)&ev;

		for (size_t i = 0; i < sizeof ev; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			p[i] = (rng >> 11) % 3 ? 0 : (unsigned char)(rng >> 3);
		}
		n = cep__window_pack_event(&ev, buf);
		ck_assert_uint_le(n, CEP__WINDOW_PACK_WORDS);
		cep__window_unpack_event(buf, &back);
		assert_same_event(&ev, &back);
	}
}
END_TEST

/* The alert carries the event that crossed the bound; the final signal,
 * made when the window closes long after, the last event of the group,
 * which the group kept packed once it had fired. */
START_TEST(signals_carry_the_whole_event_that_made_them)
{
	struct cep_ruleset *rs = portscan(3, "60s");
	struct cep_detect *d;
	struct cep_event ev[5];
	struct cep_signal sig[8];

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	for (unsigned i = 0; i < 5; i++) {
		ev[i] = rich(7, 100 + i, T0 + i * SEC, i);
		ck_assert_uint_eq(feed_ev(d, &ev[i], sig), i == 2);
		if (i == 2)
			assert_same_event(&sig[0].ev, &ev[2]);
	}
	ck_assert_uint_eq(flush_all(d, &sig[0]), 1);
	ck_assert_uint_eq(sig[0].final, 1);
	ck_assert_uint_eq(sig[0].count, 5);
	ck_assert_str_eq(sig[0].key, "src_ip=192.0.2.7");
	assert_same_event(&sig[0].ev, &ev[4]);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* An upper bound is judged at close: every group keeps its last event. */
START_TEST(upper_bound_signal_at_close_carries_the_last_event)
{
	struct cep_ruleset *rs = ruleset("  type: value_count\n"
					 "  rules: [syn]\n"
					 "  group-by: [src_ip]\n"
					 "  timespan: 60s\n"
					 "  condition: {field: dst_port, lt: 4}\n");
	struct cep_detect *d;
	struct cep_event ev[3];
	struct cep_signal sig;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	for (unsigned i = 0; i < 3; i++) {
		ev[i] = rich(9, 10 + i, T0 + i * SEC, 7 + i);
		ck_assert_uint_eq(feed_ev(d, &ev[i], NULL), 0);
	}
	ck_assert_uint_eq(flush_all(d, &sig), 1);
	ck_assert_uint_eq(sig.count, 3);
	assert_same_event(&sig.ev, &ev[2]);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

static const char absence_rules[] =
	"title: TCP SYN\n"
	"id: syn\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  s: {proto: 6, tcp_flags: 2}\n"
	"  condition: s\n"
	"---\n"
	"title: TCP ACK\n"
	"id: ack\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  a: {proto: 6, tcp_flags: 16}\n"
	"  condition: a\n"
	"---\n"
	"title: SYN never answered\n"
	"id: unanswered\n"
	"level: medium\n"
	"correlation:\n"
	"  type: absence\n"
	"  rules: [syn, ack]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 30s\n";

/* An absence signal is about the A that opened the window: it carries
 * that event whole, not a later A of the same key. */
START_TEST(absence_signal_carries_the_first_a_whole)
{
	struct cep_ruleset *rs = rules_text(absence_rules);
	struct cep_detect *d;
	struct cep_event a1 = rich(5, 80, T0, 1), a2 = rich(5, 81, T0 + 5 * SEC, 2);
	struct cep_event later = syn(6, 80, T0 + 40 * SEC);
	struct cep_signal sig[8];
	unsigned n;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(feed_ev(d, &a1, NULL), 0);
	ck_assert_uint_eq(feed_ev(d, &a2, NULL), 0);
	n = feed_ev(d, &later, sig);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(sig[0].kind, CEP_SIGNAL_ABSENCE);
	ck_assert_uint_eq(sig[0].count, 2);
	ck_assert_str_eq(sig[0].key, "src_ip=192.0.2.5");
	assert_same_event(&sig[0].ev, &a1);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* Absence groups keep the A that opened them: under a ceiling that state
 * too sheds the oldest groups, after every event (it went over by the
 * kept event before). */
START_TEST(absence_groups_hold_the_memory_ceiling)
{
	struct cep_ruleset *rs = rules_text(absence_rules);
	struct cep_detect_config cfg = { .mem_ceiling = 64 * 1024 };
	struct cep_detect *d;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	for (unsigned src = 0; src < 5000; src++) {
		struct cep_event ev = syn(src % 250, 80, T0 + src * 1000);

		ev.src_ip[1] = (uint8_t)(src / 250);
		feed_ev(d, &ev, NULL);
		cep_detect_stats(d, &st);
		ck_assert_uint_le(st.mem_bytes, cfg.mem_ceiling);
	}
	ck_assert_uint_gt(st.keys_evicted, 0);
	ck_assert_uint_eq(st.keys_live + st.keys_evicted, 5000);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* A full reorder buffer releases its oldest event early; an event older
 * than the one released can no longer reach the windows in order, so it
 * is late (counted, not fed), not fed after a newer one. */
START_TEST(event_passed_by_a_forced_release_is_late)
{
	struct cep_ruleset *rs = portscan(3, "1h");
	struct cep_detect_config cfg = { .lateness = 60 * SEC, .max_held = 2 };
	struct cep_detect *d;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	feed(d, 1, 1, T0 + 10 * SEC, NULL);
	feed(d, 1, 2, T0 + 20 * SEC, NULL);
	/* Full: the event at 10 s goes; 30 s is held. */
	feed(d, 1, 3, T0 + 30 * SEC, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.held_forced, 1);
	ck_assert_uint_eq(st.events_late, 0);
	/* 15 s is within the lateness and after the floor (10 s), but the
	 * room it needs releases the event at 20 s first. */
	feed(d, 1, 4, T0 + 15 * SEC, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.held_forced, 2);
	ck_assert_uint_eq(st.events_late, 1);
	ck_assert_uint_eq(st.held, 1);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* A fired group evicted by the key budget still owes its final signal,
 * with the last event it saw. */
START_TEST(evicted_group_signal_carries_its_last_event)
{
	struct cep_ruleset *rs = portscan(2, "60s");
	struct cep_detect_config cfg = { .max_keys = 1 };
	struct cep_detect *d;
	struct cep_event ev[3], other = rich(2, 80, T0 + 10 * SEC, 9);
	struct cep_signal sig;
	struct cep_detect_stats st;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	for (unsigned i = 0; i < 3; i++) {
		ev[i] = rich(1, 1 + i, T0 + i * SEC, i);
		feed_ev(d, &ev[i], NULL);
	}
	ck_assert_uint_eq(feed_ev(d, &other, &sig), 1);
	ck_assert_uint_eq(sig.final, 1);
	ck_assert_uint_eq(sig.count, 3);
	ck_assert_str_eq(sig.key, "src_ip=192.0.2.1");
	assert_same_event(&sig.ev, &ev[2]);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_evicted, 1);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* Groups whose value sets grow (each a scan of up to 60 ports) under a
 * small ceiling: after every event the state is within it, and every
 * group opened is live or was evicted (none expired: the window is an
 * hour). */
START_TEST(memory_ceiling_holds_after_every_event)
{
	struct cep_ruleset *rs = portscan(100000, "1h");
	struct cep_detect_config cfg = { .mem_ceiling = 128 * 1024 };
	struct cep_detect *d;
	struct cep_detect_stats st;
	uint64_t t = T0;

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	for (unsigned src = 0; src < 2000; src++) {
		struct cep_event ev = syn(src % 250, 0, 0);

		ev.src_ip[2] = (uint8_t)(src / 250);
		for (unsigned p = 0; p <= src % 60; p++) {
			ev.ts = t += 1000;
			ev.dst_port = (uint16_t)(1 + p);
			feed_ev(d, &ev, NULL);
			cep_detect_stats(d, &st);
			ck_assert_uint_le(st.mem_bytes, cfg.mem_ceiling);
		}
	}
	cep_detect_stats(d, &st);
	ck_assert_uint_gt(st.keys_evicted, 1000);
	ck_assert_uint_eq(st.keys_live + st.keys_evicted, 2000);
	ck_assert_uint_eq(st.keys_expired, 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* One-value groups, one new source per event, under ceilings swept across
 * the points where the table doubles: the window keeps about as many
 * groups as fit, evicting the oldest, and never empties itself because
 * the table and the pool (which no eviction frees) came near the ceiling
 * (it did: a ceiling just above a doubling evicted every group at every
 * event from then on). */
START_TEST(memory_ceiling_near_a_table_doubling_keeps_the_window)
{
	struct cep_ruleset *rs = portscan(1000, "1h");
	struct cep_detect_stats st;

	for (size_t ceiling = 32 * 1024; ceiling <= 192 * 1024;
	     ceiling += 2 * 1024) {
		struct cep_detect_config cfg = { .mem_ceiling = ceiling };
		struct cep_detect *d;
		uint64_t least = UINT64_MAX;

		ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
		for (unsigned src = 0; src < 4000; src++) {
			struct cep_event ev = syn(src % 250, 80, T0 + src * SEC);

			ev.src_ip[1] = (uint8_t)(src / 250);
			feed_ev(d, &ev, NULL);
			cep_detect_stats(d, &st);
			ck_assert_uint_le(st.mem_bytes, ceiling);
			if (src >= 1000 && st.keys_live < least)
				least = st.keys_live;
		}
		/* 96-byte records, an 8-byte slot at most 3/4 full, and the
		 * rest of the fixed part: a quarter of ceiling / 128 at the
		 * very least, not one. */
		ck_assert_msg(least >= ceiling / 512,
			      "ceiling %zu: down to %" PRIu64 " groups",
			      ceiling, least);
		cep_detect_destroy(d);
	}
	cep_ruleset_destroy(rs);
}
END_TEST

/* mem_bytes counts what the allocator really holds for the state: the
 * table, the pool's chunks, value sets, kept events.  With lateness 0 the
 * reorder buffer holds one event at a time, so after the first event
 * nothing else grows; no signal is queued (they are all drained). */
START_TEST(mem_bytes_is_what_the_allocator_holds)
{
	struct cep_ruleset *rs = portscan(3, "1h");
	struct cep_detect *d;
	struct cep_detect_stats s0, s1, s2;
	struct cep_event ev = syn(1, 1, T0);
	uint64_t a0, a1, a2;

	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	feed_ev(d, &ev, NULL);
	cep_detect_stats(d, &s0);
	a0 = allocated();
	/* 20,000 groups: a third with one value, a third with two, a third
	 * fired (three or more values, and a kept event). */
	for (unsigned g = 0; g < 20000; g++) {
		ev.src_ip[1] = (uint8_t)(g >> 8);
		ev.src_ip[3] = (uint8_t)g;
		for (unsigned p = 0; p <= g % 3 + (g % 3 == 2) * 2; p++) {
			ev.ts += 1000;
			ev.dst_port = (uint16_t)(1 + p);
			feed_ev(d, &ev, NULL);
		}
	}
	cep_detect_stats(d, &s1);
	a1 = allocated();
	ck_assert_uint_eq(s1.keys_live, 20000); /* g = 1 is the first one */
	ck_assert_uint_gt(s1.mem_bytes, s0.mem_bytes + 20000 * 96);
	if (a0 && a1) {
		/* To the byte: every allocation is counted at the size the
		 * allocator gave it. */
		ck_assert_uint_eq(a1 - a0, s1.mem_bytes - s0.mem_bytes);
	} else {
		fprintf(stderr, "test_window: not linked with jemalloc: "
			"mem_bytes not checked against the allocator\n");
	}
	/* Closing every group gives back all but the pool and table. */
	ck_assert_uint_gt(flush_all(d, NULL), 0);
	cep_detect_stats(d, &s2);
	a2 = allocated();
	ck_assert_uint_eq(s2.keys_live, 0);
	ck_assert_uint_lt(s2.mem_bytes, s1.mem_bytes);
	if (a1 && a2)
		ck_assert_uint_eq(a1 - a2, s1.mem_bytes - s2.mem_bytes);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* Issue 7: at most 128 bytes per tracked key, everything counted (the
 * table, the pool), for the groups a scan of many sources opens: one
 * value each, not fired. */
START_TEST(one_value_groups_cost_at_most_128_bytes_a_key)
{
	struct cep_ruleset *rs = portscan(100, "1h");
	struct cep_detect_config cfg = { .max_keys = 1000000 };
	struct cep_detect *d;
	struct cep_detect_stats st;
	struct cep_event ev = syn(0, 80, T0);

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	for (unsigned i = 0; i < 300000; i++) {
		ev.ts = T0 + i * 1000ULL;
		ev.src_ip[0] = 10;
		ev.src_ip[1] = (uint8_t)(i >> 16);
		ev.src_ip[2] = (uint8_t)(i >> 8);
		ev.src_ip[3] = (uint8_t)i;
		feed_ev(d, &ev, NULL);
	}
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.keys_live, 300000);
	ck_assert_uint_le(st.mem_bytes / st.keys_live, 128);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

static const char three_rules[] =
	"title: TCP SYN\n"
	"id: syn\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  s: {proto: 6, tcp_flags: 2}\n"
	"  condition: s\n"
	"---\n"
	"title: A\n"
	"id: twice\n"
	"correlation:\n"
	"  type: event_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 60s\n"
	"  condition: {gte: 2}\n"
	"---\n"
	"title: B\n"
	"id: once\n"
	"correlation:\n"
	"  type: event_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip, dst_port]\n"
	"  timespan: 60s\n"
	"  condition: {gte: 1}\n"
	"---\n"
	"title: C\n"
	"id: ports\n"
	"correlation:\n"
	"  type: value_count\n"
	"  rules: [syn]\n"
	"  group-by: [dst_ip]\n"
	"  timespan: 60s\n"
	"  condition: {field: dst_port, gte: 3}\n";

/* An event that feeds three correlations waits once. */
START_TEST(reorder_buffer_holds_an_event_once_whatever_it_feeds)
{
	struct cep_ruleset *rs = rules_text(three_rules);
	struct cep_detect_config cfg = { .lateness = 10 * SEC };
	struct cep_detect *d;
	struct cep_detect_stats st;
	struct cep_event ev = syn(1, 80, T0);

	ck_assert_int_eq(cep_detect_create(rs, &cfg, &d), 0);
	feed_ev(d, &ev, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.held, 1);
	ev.ts += SEC;
	feed_ev(d, &ev, NULL);
	cep_detect_stats(d, &st);
	ck_assert_uint_eq(st.held, 2);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

/* Two copies of one event (a tap that sees a packet twice): each copy
 * feeds its correlations in turn, so lateness changes nothing: "once"
 * fires on the first copy, "twice" on the second, in that order. */
START_TEST(duplicate_events_give_the_signals_of_no_lateness)
{
	struct cep_ruleset *rs = rules_text(three_rules);
	struct cep_detect_config late = { .lateness = 10 * SEC };
	const struct cep_detect_config *cfgs[2] = { NULL, &late };
	struct cep_event ev = syn(4, 22, T0);

	for (unsigned c = 0; c < 2; c++) {
		struct cep_detect *d;
		struct cep_signal sig[8], got[8];
		unsigned n = 0, k;

		ck_assert_int_eq(cep_detect_create(rs, cfgs[c], &d), 0);
		for (unsigned i = 0; i < 2; i++) {
			k = feed_ev(d, &ev, sig);
			for (unsigned j = 0; j < k; j++)
				got[n++] = sig[j];
		}
		while ((k = cep_detect_flush(d, sig, 8)) > 0)
			for (unsigned j = 0; j < k && n < 8; j++)
				got[n++] = sig[j];
		ck_assert_uint_ge(n, 2);
		ck_assert_str_eq(got[0].rule_id, "once");
		ck_assert_uint_eq(got[0].final, 0);
		ck_assert_str_eq(got[1].rule_id, "twice");
		ck_assert_uint_eq(got[1].final, 0);
		cep_detect_destroy(d);
	}
	cep_ruleset_destroy(rs);
}
END_TEST

/* Keys longer than a group record holds inline: two IPv6 addresses (34
 * bytes), or an indicator of 60 characters; they group apart and format
 * as usual.  Two destinations (or indicators) that differ in their last
 * byte, alternating: two groups, each firing at its third event. */
START_TEST(long_keys_group_apart_and_format)
{
	static const char *const body[2] = {
		"  type: event_count\n"
		"  rules: [syn]\n"
		"  group-by: [src_ip, dst_ip]\n"
		"  timespan: 60s\n"
		"  condition: {gte: 3}\n",
		"  type: event_count\n"
		"  rules: [syn]\n"
		"  group-by: [indicator]\n"
		"  timespan: 60s\n"
		"  condition: {gte: 3}\n",
	};
	char want[2][CEP_SIGNAL_KEY_MAX];

	for (unsigned b = 0; b < 2; b++) {
		struct cep_ruleset *rs = ruleset(body[b]);
		struct cep_detect *d;
		struct cep_detect_stats st;
		struct cep_signal sig;
		struct cep_event ev = syn(1, 80, T0);
		unsigned fired = 0;

		ev.src_af = ev.dst_af = CEP_AF_INET6;
		ck_assert_int_eq(cep_ip_parse("2001:db8::7", ev.src_ip), 6);
		memset(ev.indicator, 'x', 60);
		ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
		for (unsigned i = 0; i < 6; i++) {
			ck_assert_int_eq(cep_ip_parse(i % 2 ? "2001:db8:1::2" :
						      "2001:db8:1::1",
						      ev.dst_ip), 6);
			ev.indicator[59] = i % 2 ? 'y' : 'x';
			ev.ts = T0 + i * SEC;
			if (b == 0)
				snprintf(want[i % 2], sizeof want[0],
					 "src_ip=2001:db8::7,dst_ip=2001:db8:1::%u",
					 1 + i % 2);
			else
				snprintf(want[i % 2], sizeof want[0],
					 "indicator=%s", ev.indicator);
			if (feed_ev(d, &ev, &sig)) {
				fired++;
				ck_assert_uint_eq(sig.count, 3);
				ck_assert_str_eq(sig.key, want[i % 2]);
			}
		}
		ck_assert_uint_eq(fired, 2);
		cep_detect_stats(d, &st);
		ck_assert_uint_eq(st.keys_live, 2);
		cep_detect_destroy(d);
		cep_ruleset_destroy(rs);
	}
}
END_TEST

static Suite *window_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("value_count");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, value_count_fires_exactly_at_the_threshold);
	tcase_add_test(tc, value_count_one_below_the_threshold_never_fires);
	tcase_add_test(tc, value_count_groups_by_key_separately);
	tcase_add_test(tc, value_outside_the_timespan_does_not_count);
	tcase_add_test(tc, window_slides_values_out_one_by_one);
	tcase_add_test(tc, final_signal_carries_the_final_count_at_flush);
	tcase_add_test(tc, no_final_signal_when_the_count_did_not_grow);
	tcase_add_test(tc, window_closes_when_event_time_moves_past_it);
	tcase_add_test(tc, flush_closes_every_window_in_batches_of_max);
	tcase_add_test(tc, keys_over_the_budget_evict_the_oldest_and_are_counted);
	tcase_add_test(tc, memory_ceiling_bounds_window_state);
	tcase_add_test(tc, distinct_values_per_group_are_capped_and_counted);
	tcase_add_test(tc, event_count_fires_at_the_threshold_of_events);
	tcase_add_test(tc, upper_bound_condition_is_judged_when_the_window_closes);
	tcase_add_test(tc, signals_beyond_max_wait_for_the_next_call);
	tcase_add_test(tc, default_portscan_rule_detects_a_scan_of_20_ports);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, packed_event_unpacks_to_the_same_bytes);
	tcase_add_test(tc, signals_carry_the_whole_event_that_made_them);
	tcase_add_test(tc, upper_bound_signal_at_close_carries_the_last_event);
	tcase_add_test(tc, absence_signal_carries_the_first_a_whole);
	tcase_add_test(tc, absence_groups_hold_the_memory_ceiling);
	tcase_add_test(tc, event_passed_by_a_forced_release_is_late);
	tcase_add_test(tc, evicted_group_signal_carries_its_last_event);
	tcase_add_test(tc, memory_ceiling_holds_after_every_event);
	tcase_add_test(tc, memory_ceiling_near_a_table_doubling_keeps_the_window);
	tcase_add_test(tc, mem_bytes_is_what_the_allocator_holds);
	tcase_add_test(tc, one_value_groups_cost_at_most_128_bytes_a_key);
	tcase_add_test(tc, reorder_buffer_holds_an_event_once_whatever_it_feeds);
	tcase_add_test(tc, duplicate_events_give_the_signals_of_no_lateness);
	tcase_add_test(tc, long_keys_group_apart_and_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(window_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
