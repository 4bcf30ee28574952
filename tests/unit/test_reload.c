/*
 * test_reload.c - a rule set swapped under a running cep_detect
 * (cep_detect_reload()): what a kept correlation keeps, what a changed or
 * removed one does, that a rejected set changes nothing, and which edits
 * change a rule's compiled hash (cep_detect_diff()).
 *
 * The traffic is a port scan: SYNs from one source to many ports, one per
 * second, against a value_count correlation over a SYN detection.  Each
 * rule set is written as YAML files into a scratch directory, so that the
 * tests read as the rule files an operator would edit.
 */
#include <check.h>
#include <errno.h>
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
#include "tests/lib/tmpdir.h"

#define SEC 1000000000ULL
#define T0 (1714521600ULL * SEC) /* 2024-05-01T00:00:00Z */

static char dir[64];

static void setup(void)
{
	cep_test_tmpdir(dir, sizeof dir, "ceptor-reload");
}

static void teardown(void)
{
	cep_test_rmtree(dir);
}

static const char syn_rule[] =
	"title: TCP SYN\n"
	"id: syn\n"
	"level: informational\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  syn:\n"
	"    proto: 6\n"
	"    tcp_flags: %u\n"
	"  condition: syn\n";

static const char scan_rule[] =
	"title: %s\n"
	"id: portscan\n"
	"level: high\n"
	"type: scan\n"
	"correlation:\n"
	"  type: value_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 60s\n"
	"  condition: {field: dst_port, gte: %u}\n";

static const char telnet_rule[] =
	"title: Telnet\n"
	"id: telnet\n"
	"level: medium\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  t: {proto: 6, dst_port: 23}\n"
	"  condition: t\n";

/* Writes @text (a format with up to two arguments) to dir/@name. */
static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *name)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

/* The SYN rule in a.yml and the scan correlation in b.yml, or (swapped)
 * the other way round, so that the rules' order in the set changes. */
static void write_set(const char *title, unsigned gte, unsigned flags,
		      bool swapped)
{
	char syn[512], scan[512];

	snprintf(syn, sizeof syn, syn_rule, flags);
	snprintf(scan, sizeof scan, scan_rule, title, gte);
	put(swapped ? "b.yml" : "a.yml", syn);
	put(swapped ? "a.yml" : "b.yml", scan);
}

static struct cep_ruleset *compile(void)
{
	const char *dirs[1] = { dir };
	struct cep_ruleset *rs = NULL;

	ck_assert_int_eq(cep_ruleset_compile(dirs, 1, stderr, &rs), 0);
	return rs;
}

static struct cep_ruleset *set(const char *title, unsigned gte,
			       bool swapped)
{
	write_set(title, gte, 2, swapped);
	return compile();
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
	ev.dst_ip[0] = 10, ev.dst_ip[3] = 1;
	ev.src_port = 40000;
	ev.dst_port = (uint16_t)port;
	return ev;
}

/* Every signal, in order, of a run. */
struct log {
	struct cep_signal sig[256];
	unsigned n;
};

static void take(struct log *l, const struct cep_signal *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_lt(l->n, 256);
		l->sig[l->n++] = s[i];
	}
}

/* SYNs from @src to ports first.. at @t + i * step ns, each moved by
 * jitter[i % 4] seconds when @jitter (out of order within the lateness). */
static void scan(struct cep_detect *d, struct log *l, unsigned src,
		 unsigned first, unsigned n, uint64_t t, bool jitter)
{
	static const int jit[4] = { 0, 3, -2, 1 };
	struct cep_signal sig[8];

	for (unsigned i = 0; i < n; i++) {
		int64_t off = jitter ? jit[i % 4] * (int64_t)SEC : 0;
		struct cep_event ev = syn(src, first + i,
					  t + i * SEC + (uint64_t)off);

		take(l, sig, cep_detect_event(d, &ev, sig, 8));
	}
}

static void drain(struct cep_detect *d, struct log *l)
{
	struct cep_signal sig[8];
	unsigned n;

	while ((n = cep_detect_drain(d, sig, 8)) > 0)
		take(l, sig, n);
}

static void flush(struct cep_detect *d, struct log *l)
{
	struct cep_signal sig[8];
	unsigned n;

	while ((n = cep_detect_flush(d, sig, 8)) > 0)
		take(l, sig, n);
}

static unsigned count(const struct log *l, const char *rule, int final)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->sig[i].rule_id, rule) &&
		    (final < 0 || l->sig[i].final == final))
			n++;
	return n;
}

START_TEST(unchanged_rule_fires_once_at_a_threshold_straddling_the_swap)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_ruleset *b;
	struct cep_detect_reload_stats st;
	struct cep_detect *d;
	struct log l = { .n = 0 };

	ck_assert_int_eq(cep_detect_create(a, NULL, &d), 0);
	scan(d, &l, 7, 1000, 10, T0, false);
	/* Another title, the rules in the other file order: same meaning. */
	drop("a.yml");
	drop("b.yml");
	b = set("Port scan (renamed)", 20, true);
	ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
	cep_ruleset_destroy(a); /* the old set is no longer used */
	ck_assert_uint_eq(st.kept, 1);
	ck_assert_uint_eq(st.changed + st.added + st.removed, 0);
	ck_assert_uint_eq(st.groups_kept, 1);
	ck_assert_uint_eq(st.groups_closed, 0);
	drain(d, &l);
	ck_assert_uint_eq(l.n, 0);
	scan(d, &l, 7, 2000, 9, T0 + 20 * SEC, false);
	ck_assert_uint_eq(l.n, 0); /* 19 ports: not yet */
	scan(d, &l, 7, 3000, 5, T0 + 30 * SEC, false);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.sig[0].rule_id, "portscan");
	ck_assert_str_eq(l.sig[0].title, "Port scan (renamed)");
	ck_assert_uint_eq(l.sig[0].count, 20);
	ck_assert_uint_eq(l.sig[0].first_ts, T0);
	ck_assert_uint_eq(l.sig[0].final, 0);
	flush(d, &l);
	ck_assert_uint_eq(count(&l, "portscan", 0), 1);
	ck_assert_uint_eq(count(&l, "portscan", 1), 1);
	ck_assert_uint_eq(l.sig[l.n - 1].count, 24);
	cep_detect_destroy(d);
	cep_ruleset_destroy(b);
}
END_TEST

/* With lateness, events wait in the reorder buffer across the swap: the
 * run with a reload after every few events gives exactly the signals of
 * the run without one. */
START_TEST(reloads_with_lateness_give_the_signals_of_a_run_without)
{
	struct cep_detect_config cfg = { .lateness = 5 * SEC };
	struct cep_ruleset *a = set("TCP port scan", 20, false), *b;
	struct cep_detect *plain, *d;
	struct log want = { .n = 0 }, got = { .n = 0 };
	struct cep_detect_reload_stats st;
	uint64_t held = 0;

	ck_assert_int_eq(cep_detect_create(a, &cfg, &plain), 0);
	for (unsigned k = 0; k < 12; k++)
		scan(plain, &want, 7 + k % 2, 1000 + 8 * k, 8,
		     T0 + k * 10 * SEC, true);
	flush(plain, &want);
	cep_detect_destroy(plain);

	ck_assert_int_eq(cep_detect_create(a, &cfg, &d), 0);
	for (unsigned k = 0; k < 12; k++) {
		scan(d, &got, 7 + k % 2, 1000 + 8 * k, 8,
		     T0 + k * 10 * SEC, true);
		/* The same set again, once written the other way round. */
		b = set("TCP port scan", 20, k % 2);
		ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
		ck_assert_uint_eq(st.kept, 1);
		held += st.held_kept;
		cep_ruleset_destroy(a);
		a = b;
		drain(d, &got);
	}
	flush(d, &got);
	ck_assert_uint_gt(held, 0); /* entries really were in flight */
	ck_assert_uint_eq(got.n, want.n);
	ck_assert_uint_gt(want.n, 2);
	for (unsigned i = 0; i < want.n; i++) {
		ck_assert_str_eq(got.sig[i].rule_id, want.sig[i].rule_id);
		ck_assert_str_eq(got.sig[i].key, want.sig[i].key);
		ck_assert_uint_eq(got.sig[i].count, want.sig[i].count);
		ck_assert_uint_eq(got.sig[i].final, want.sig[i].final);
		ck_assert_uint_eq(got.sig[i].last_ts, want.sig[i].last_ts);
	}
	cep_detect_destroy(d);
	cep_ruleset_destroy(a);
}
END_TEST

START_TEST(changed_rule_closes_its_groups_and_starts_fresh)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_ruleset *b;
	struct cep_detect_reload_stats st;
	struct cep_detect *d;
	struct log l = { .n = 0 };

	ck_assert_int_eq(cep_detect_create(a, NULL, &d), 0);
	scan(d, &l, 7, 1000, 10, T0, false);
	b = set("TCP port scan", 15, false); /* another threshold */
	ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
	cep_ruleset_destroy(a);
	ck_assert_uint_eq(st.changed, 1);
	ck_assert_uint_eq(st.kept, 0);
	ck_assert_uint_eq(st.groups_closed, 1);
	drain(d, &l);
	ck_assert_uint_eq(l.n, 0); /* 10 < 20: the old window owed nothing */
	/* The new rule counts from the swap: 10 old ports do not count. */
	scan(d, &l, 7, 2000, 14, T0 + 40 * SEC, false);
	ck_assert_uint_eq(l.n, 0);
	scan(d, &l, 7, 3000, 1, T0 + 96 * SEC, false);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.sig[0].count, 15);
	ck_assert_uint_eq(l.sig[0].first_ts, T0 + 40 * SEC);
	cep_detect_destroy(d);
	cep_ruleset_destroy(b);
}
END_TEST

static const char rate_rule[] =
	"title: SYN rate\n"
	"id: synrate\n"
	"level: low\n"
	"correlation:\n"
	"  type: event_count\n"
	"  rules: [syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 60s\n"
	"  condition: {gte: %u}\n";

static void write_rate(unsigned gte)
{
	char text[512];

	snprintf(text, sizeof text, rate_rule, gte);
	put("c.yml", text);
}

/* An event waits once in the reorder buffer with every correlation it
 * feeds.  At a swap that keeps one of them (portscan) and changes the
 * other (synrate), each held event splits: the kept feed moves, the other
 * goes to the closing window at once; portscan then fires exactly as in a
 * run without the reload. */
START_TEST(held_event_splits_between_a_kept_and_a_changed_rule)
{
	struct cep_detect_config cfg = { .lateness = 5 * SEC };
	struct cep_ruleset *a, *b;
	struct cep_detect_reload_stats st;
	struct cep_detect *d;
	struct log want = { .n = 0 }, got = { .n = 0 };
	unsigned nscan = 0;

	write_rate(3);
	a = set("TCP port scan", 20, false);
	ck_assert_int_eq(cep_detect_create(a, &cfg, &d), 0);
	scan(d, &want, 7, 1000, 30, T0, false);
	flush(d, &want);
	cep_detect_destroy(d);

	ck_assert_int_eq(cep_detect_create(a, &cfg, &d), 0);
	/* Watermark at 7 s: the SYNs of 0 s and 1 s are fed, 2 s..7 s wait. */
	scan(d, &got, 7, 1000, 8, T0, false);
	write_rate(100);
	b = compile();
	ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
	ck_assert_uint_eq(st.kept, 1);
	ck_assert_uint_eq(st.changed, 1);
	ck_assert_uint_eq(st.held_kept, 6);
	ck_assert_uint_eq(st.held_flushed, 6);
	drain(d, &got);
	/* The old synrate saw all 8 before it closed: alert at 3, final 8. */
	ck_assert_uint_eq(count(&got, "synrate", 0), 1);
	ck_assert_uint_eq(count(&got, "synrate", 1), 1);
	for (unsigned i = 0; i < got.n; i++)
		if (!strcmp(got.sig[i].rule_id, "synrate") && got.sig[i].final)
			ck_assert_uint_eq(got.sig[i].count, 8);
	scan(d, &got, 7, 1008, 22, T0 + 8 * SEC, false);
	flush(d, &got);
	/* portscan: the signals of the run without a reload, in order. */
	for (unsigned i = 0, j = 0; i < want.n; i++) {
		if (strcmp(want.sig[i].rule_id, "portscan"))
			continue;
		while (j < got.n && strcmp(got.sig[j].rule_id, "portscan"))
			j++;
		ck_assert_uint_lt(j, got.n);
		ck_assert_uint_eq(got.sig[j].count, want.sig[i].count);
		ck_assert_uint_eq(got.sig[j].final, want.sig[i].final);
		ck_assert_uint_eq(got.sig[j].first_ts, want.sig[i].first_ts);
		ck_assert_uint_eq(got.sig[j].last_ts, want.sig[i].last_ts);
		j++;
		nscan++;
	}
	ck_assert_uint_eq(nscan, 2); /* alert at 20, final 30 */
	ck_assert_uint_eq(count(&got, "portscan", -1), 2);
	cep_detect_destroy(d);
	cep_ruleset_destroy(a);
	cep_ruleset_destroy(b);
}
END_TEST

START_TEST(removed_rule_emits_the_final_signal_it_owes)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_ruleset *b;
	struct cep_detect_reload_stats st;
	struct cep_detect *d;
	struct log l = { .n = 0 };
	struct cep_signal sig[8];

	ck_assert_int_eq(cep_detect_create(a, NULL, &d), 0);
	scan(d, &l, 7, 1000, 25, T0, false); /* alert at 20, peak 25 */
	scan(d, &l, 9, 1000, 5, T0 + 25 * SEC, false); /* owes nothing */
	ck_assert_uint_eq(l.n, 1);
	drop("b.yml");
	put("c.yml", telnet_rule);
	b = compile();
	ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
	cep_ruleset_destroy(a);
	ck_assert_uint_eq(st.removed, 1);
	ck_assert_uint_eq(st.groups_closed, 2);
	/* A small caller array: the rest waits, nothing is dropped. */
	ck_assert_uint_eq(cep_detect_drain(d, sig, 1), 1);
	ck_assert_str_eq(sig[0].rule_id, "portscan");
	ck_assert_uint_eq(sig[0].final, 1);
	ck_assert_uint_eq(sig[0].count, 25);
	ck_assert_uint_eq(cep_detect_drain(d, sig, 8), 0);
	/* The SYN rule now feeds nothing and emits on its own. */
	scan(d, &l, 7, 5000, 1, T0 + 200 * SEC, false);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.sig[1].rule_id, "syn");
	cep_detect_destroy(d);
	cep_ruleset_destroy(b);
}
END_TEST

START_TEST(rejected_set_leaves_the_running_one_counting)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_ruleset *b = NULL;
	const char *dirs[1] = { dir };
	struct cep_detect *d;
	struct log l = { .n = 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&text, &len);

	ck_assert_int_eq(cep_detect_create(a, NULL, &d), 0);
	scan(d, &l, 7, 1000, 10, T0, false);
	put("c.yml", "title: broken\nid: broken\ndetection:\n  x: {proto: 6}\n"
		     "  condition: nope\n");
	ck_assert_int_eq(cep_ruleset_compile(dirs, 1, diag, &b), -CEP_ERULE);
	fclose(diag);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(text, "c.yml:"));
	free(text);
	scan(d, &l, 7, 2000, 10, T0 + 40 * SEC, false);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.sig[0].count, 20);
	cep_detect_destroy(d);
	cep_ruleset_destroy(a);
}
END_TEST

START_TEST(reload_to_a_null_set_is_refused)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_detect *d;

	ck_assert_int_eq(cep_detect_create(a, NULL, &d), 0);
	ck_assert_int_eq(cep_detect_reload(d, NULL, NULL), -EINVAL);
	cep_detect_destroy(d);
	cep_ruleset_destroy(a);
}
END_TEST

static struct cep_detect_diff diff(const struct cep_ruleset *a,
				   const struct cep_ruleset *b)
{
	struct cep_detect_diff df;

	ck_assert_int_eq(cep_detect_diff(a, b, &df), 0);
	return df;
}

START_TEST(hash_ignores_title_and_file_order_but_not_meaning)
{
	struct cep_ruleset *a = set("TCP port scan", 20, false);
	struct cep_ruleset *b, *c, *e, *f;
	struct cep_detect_diff df;

	drop("a.yml");
	drop("b.yml");
	b = set("Another title", 20, true);
	df = diff(a, b);
	ck_assert_uint_eq(df.unchanged, 2);
	ck_assert_uint_eq(df.changed + df.added + df.removed, 0);

	c = set("TCP port scan", 21, false); /* another threshold */
	df = diff(a, c);
	ck_assert_uint_eq(df.unchanged, 1);
	ck_assert_uint_eq(df.changed, 1);

	/* A change to the referenced detection changes the correlation. */
	write_set("TCP port scan", 20, 18, false);
	e = compile();
	df = diff(a, e);
	ck_assert_uint_eq(df.unchanged, 0);
	ck_assert_uint_eq(df.changed, 2);

	write_set("TCP port scan", 20, 2, false);
	put("c.yml", telnet_rule);
	f = compile();
	df = diff(a, f);
	ck_assert_uint_eq(df.unchanged, 2);
	ck_assert_uint_eq(df.added, 1);
	df = diff(f, a);
	ck_assert_uint_eq(df.removed, 1);

	cep_ruleset_destroy(a);
	cep_ruleset_destroy(b);
	cep_ruleset_destroy(c);
	cep_ruleset_destroy(e);
	cep_ruleset_destroy(f);
}
END_TEST

/* Many groups, some fired, kept across a reload that also adds a rule:
 * every group moves, and eviction order (LRU) still works afterwards. */
START_TEST(many_groups_move_and_the_key_budget_still_evicts_the_oldest)
{
	struct cep_detect_config cfg = { .max_keys = 50 };
	struct cep_ruleset *a = set("TCP port scan", 3, false), *b;
	struct cep_detect_reload_stats st;
	struct cep_detect_stats ds;
	struct cep_detect *d;
	struct log l = { .n = 0 };

	ck_assert_int_eq(cep_detect_create(a, &cfg, &d), 0);
	/* Three rounds within 40 s: every source one port, then the odd
	 * ones two more (they alert). */
	for (unsigned r = 0; r < 3; r++)
		for (unsigned s = 1; s <= 50; s++)
			if (r == 0 || s % 2)
				scan(d, &l, s, 1000 + r, 1,
				     T0 + (r * 50 + s) * SEC / 4, false);
	ck_assert_uint_eq(count(&l, "portscan", 0), 25);
	put("c.yml", telnet_rule);
	b = compile();
	ck_assert_int_eq(cep_detect_reload(d, b, &st), 0);
	cep_ruleset_destroy(a);
	ck_assert_uint_eq(st.groups_kept, 50);
	cep_detect_stats(d, &ds);
	ck_assert_uint_eq(ds.keys_live, 50);
	/* A fired group stays fired: no second alert. */
	scan(d, &l, 1, 2000, 2, T0 + 40 * SEC, false);
	ck_assert_uint_eq(count(&l, "portscan", 0), 25);
	/* One more source: the least recently updated (source 2) goes. */
	scan(d, &l, 51, 1000, 1, T0 + 41 * SEC, false);
	cep_detect_stats(d, &ds);
	ck_assert_uint_eq(ds.keys_evicted, 1);
	ck_assert_uint_eq(ds.keys_live, 50);
	/* Source 2 starts over: 3 new ports alert again. */
	scan(d, &l, 2, 3000, 3, T0 + 42 * SEC, false);
	ck_assert_uint_eq(count(&l, "portscan", 0), 26);
	cep_detect_destroy(d);
	cep_ruleset_destroy(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("reload");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unchanged_rule_fires_once_at_a_threshold_straddling_the_swap);
	tcase_add_test(tc, reloads_with_lateness_give_the_signals_of_a_run_without);
	tcase_add_test(tc, changed_rule_closes_its_groups_and_starts_fresh);
	tcase_add_test(tc, held_event_splits_between_a_kept_and_a_changed_rule);
	tcase_add_test(tc, removed_rule_emits_the_final_signal_it_owes);
	tcase_add_test(tc, rejected_set_leaves_the_running_one_counting);
	tcase_add_test(tc, reload_to_a_null_set_is_refused);
	tcase_add_test(tc, hash_ignores_title_and_file_order_but_not_meaning);
	tcase_add_test(tc, many_groups_move_and_the_key_budget_still_evicts_the_oldest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
