/*
 * test_window.c - correlation windows through cep_detect: value_count and
 * event_count thresholds, the sliding window on event time, final signals,
 * flush, and the key budget and memory ceiling.
 *
 * Events are filled directly (a SYN from src to dst_port at second t), so
 * that each test reads as the traffic it describes.
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
