/*
 * test_sigma.c - Sigma compatibility: the logsource mapping that lets rules
 * written for Zeek, DNS and firewall logs run on ceptor's events, the
 * tolerant loading of third-party packs (skip_unsupported), and conformance
 * against the Sigma specification's examples and SigmaHQ's network rules.
 *
 * The conformance tests read $CEPTOR_SHARED_DATA/sigma (tests/run.sh sets
 * it when ../shared/data exists) and print "notice: ... skipped" without
 * it.  Each prints its counts, so a run shows what loads and what does not.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceptor/detect.h"
#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/rule.h"
#include "ceptor/signal.h"

/* SigmaHQ network rules that must load (with skip_unsupported, no error):
 * every rule whose fields the built-in mapping covers.  Raise it when the
 * mapping grows; a drop is a regression. */
#define SIGMAHQ_NETWORK_MIN_LOADED 28

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ceptor-sigma-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s/rule.yml", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/map.yml", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Compiles paths with options; the set or NULL, diagnostics in *diag. */
static struct cep_ruleset *compile(const char *const *paths, size_t n,
				   const struct cep_rule_options *o, int *rc,
				   char **diag)
{
	struct cep_ruleset *rs = NULL;
	size_t len;
	FILE *d = open_memstream(diag, &len);

	ck_assert_ptr_nonnull(d);
	*rc = cep_ruleset_compile_opts(paths, n, o, d, &rs);
	fclose(d);
	return rs;
}

/* Compiles yaml as tmpdir/rule.yml. */
static struct cep_ruleset *compile_yaml(const char *yaml,
					const struct cep_rule_options *o,
					int *rc, char **diag)
{
	char path[128];
	const char *paths[1] = { path };

	write_file("rule.yml", yaml);
	snprintf(path, sizeof path, "%s/rule.yml", tmpdir);
	return compile(paths, 1, o, rc, diag);
}

/* Compiles yaml, failing the test if it does not compile. */
static struct cep_ruleset *must_compile(const char *yaml)
{
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = compile_yaml(yaml, NULL, &rc, &diag);
	ck_assert_msg(rc == 0, "compile failed (%d): %s", rc, diag);
	free(diag);
	return rs;
}

static bool fires(const struct cep_ruleset *rs, const char *json)
{
	struct cep_signal sig[4];
	struct cep_detect *d;
	struct cep_event ev;
	char err[256];
	unsigned n;

	ck_assert_msg(cep_event_from_json(json, strlen(json), &ev, err,
					  sizeof err) == 0,
		      "bad test event %s: %s", json, err);
	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	n = cep_detect_event(d, &ev, sig, 4);
	cep_detect_destroy(d);
	return n > 0;
}

/* --- the mapping ----------------------------------------------------------- */

START_TEST(sigma_zeek_dns_query_is_the_indicator)
{
	struct cep_ruleset *rs = must_compile(
		"title: Tor proxy\nid: tor\n"
		"logsource: {product: zeek, service: dns}\n"
		"detection:\n"
		"  selection:\n    query|endswith: ['.onion', '.tor2web.io']\n"
		"  condition: selection\n");

	ck_assert(fires(rs, "{\"kind\":\"feed\",\"indicator\":\"x.onion\"}"));
	ck_assert(fires(rs, "{\"kind\":\"packet\",\"indicator\":\"A.TOR2WEB.IO\"}"));
	ck_assert(!fires(rs, "{\"kind\":\"feed\",\"indicator\":\"onion.example\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(sigma_unmapped_field_is_an_error_naming_field_and_logsource)
{
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = compile_yaml("title: Mining\nid: mining\n"
			  "logsource:\n  product: zeek\n  service: dns\n"
			  "detection:\n"
			  "  selection:\n    query|endswith: '.pool'\n"
			  "  exclude:\n    answers: 127.0.0.1\n"
			  "  condition: selection and not exclude\n",
			  NULL, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_int_eq(rc, -CEP_ERULE);
	ck_assert_msg(strstr(diag, "rule.yml:10: field 'answers' (logsource "
			     "product=zeek service=dns) has no ceptor mapping"),
		      "%s", diag);
	free(diag);
}
END_TEST

START_TEST(sigma_unknown_logsource_is_reported)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = compile_yaml("title: Proc\nid: proc\n"
			  "logsource:\n  product: windows\n"
			  "  category: process_creation\n"
			  "detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n"
			  "  condition: sel\n", &o, &rc, &diag);
	ck_assert_msg(rs, "%s", diag);
	ck_assert_msg(strstr(diag, "rule.yml:4: warning: logsource "
			     "product=windows category=process_creation has no "
			     "ceptor mapping; rule skipped"), "%s", diag);
	ck_assert_uint_eq(cep_ruleset_count(rs), 0);
	ck_assert_uint_eq(cep_ruleset_skipped(rs), 1);
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

START_TEST(sigma_protocol_names_convert_and_unknown_ones_are_reported)
{
	struct cep_ruleset *rs = must_compile(
		"title: Cleartext\nid: clear\n"
		"logsource: {category: firewall}\n"
		"detection:\n"
		"  sel:\n    Protocol: tcp\n    DestinationPort: [21, 23]\n"
		"  condition: sel\n");
	char *diag;
	int rc;

	ck_assert(fires(rs, "{\"kind\":\"flow\",\"proto\":6,\"dst_port\":23}"));
	ck_assert(!fires(rs, "{\"kind\":\"flow\",\"proto\":17,\"dst_port\":23}"));
	/* firewall logs are connections: packets and flows, not feed rows */
	ck_assert(!fires(rs, "{\"kind\":\"feed\",\"proto\":6,\"dst_port\":23}"));
	cep_ruleset_destroy(rs);
	rs = compile_yaml("title: Odd\nid: odd\n"
			  "logsource: {category: firewall}\n"
			  "detection:\n  sel:\n    proto: carrier-pigeon\n"
			  "  condition: sel\n", NULL, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_msg(strstr(diag, "rule.yml:6: value 'carrier-pigeon' of "
			     "'proto' (logsource category=firewall) has no "
			     "ceptor mapping"), "%s", diag);
	free(diag);
}
END_TEST

START_TEST(sigma_firewall_action_is_a_constant_of_what_was_seen)
{
	struct cep_ruleset *allow = must_compile(
		"title: A\nid: a\nlogsource: {category: firewall}\n"
		"detection:\n  sel:\n    dst_port: 23\n"
		"  allow1:\n    action: [forward, accept]\n"
		"  allow2:\n    blocked: 'false'\n"
		"  condition: sel and 1 of allow*\n");
	struct cep_ruleset *drop = must_compile(
		"title: D\nid: d\nlogsource: {category: firewall}\n"
		"detection:\n  sel:\n    dst_port: 23\n    action: drop\n"
		"  condition: sel\n");

	ck_assert(fires(allow, "{\"kind\":\"packet\",\"dst_port\":23}"));
	ck_assert(!fires(allow, "{\"kind\":\"packet\",\"dst_port\":22}"));
	/* ceptor never sees dropped traffic: the rule cannot match */
	ck_assert(!fires(drop, "{\"kind\":\"packet\",\"dst_port\":23}"));
	cep_ruleset_destroy(allow);
	cep_ruleset_destroy(drop);
}
END_TEST

START_TEST(sigma_zeek_rdp_logsource_adds_its_own_conditions)
{
	struct cep_ruleset *rs = must_compile(
		"title: RDP public\nid: rdp\n"
		"logsource: {product: zeek, service: rdp}\n"
		"detection:\n  selection:\n    id.orig_h|cidr:\n"
		"      - '10.0.0.0/8'\n      - '192.168.0.0/16'\n"
		"  condition: not selection\n");

	ck_assert(fires(rs, "{\"kind\":\"flow\",\"proto\":6,\"dst_port\":3389,"
			    "\"src_ip\":\"198.51.100.7\"}"));
	ck_assert(!fires(rs, "{\"kind\":\"flow\",\"proto\":6,\"dst_port\":3389,"
			     "\"src_ip\":\"10.1.1.1\"}"));
	/* not RDP: the logsource's conditions do not hold */
	ck_assert(!fires(rs, "{\"kind\":\"flow\",\"proto\":6,\"dst_port\":443,"
			     "\"src_ip\":\"198.51.100.7\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(sigma_keywords_need_a_logsource_that_allows_them)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = must_compile("title: K\nid: k\nlogsource: {product: cisco, "
			  "service: aaa}\ndetection:\n  keywords:\n"
			  "    - 'show running-config'\n  condition: keywords\n");
	ck_assert(fires(rs, "{\"kind\":\"report\",\"name\":\"Show Running-Config\"}"));
	cep_ruleset_destroy(rs);
	rs = compile_yaml("title: K\nid: k\nlogsource: {category: firewall}\n"
			  "detection:\n  keywords:\n    - 'deny'\n"
			  "  condition: keywords\n", &o, &rc, &diag);
	ck_assert_msg(rs && strstr(diag, "rule.yml:6: warning: keyword search "
				   "(logsource category=firewall) has no "
				   "ceptor mapping"), "%s", diag);
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

START_TEST(sigma_mapping_file_extends_the_built_in_table)
{
	char map[128];
	const char *maps[1] = { map };
	struct cep_rule_options o = { .mapping = maps, .nmapping = 1 };
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	snprintf(map, sizeof map, "%s/map.yml", tmpdir);
	write_file("map.yml",
		   "- logsource: {product: zeek, service: http}\n"
		   "  kinds: [packet]\n"
		   "  fields:\n    host: indicator\n");
	rs = compile_yaml("title: H\nid: h\n"
			  "logsource: {product: zeek, service: http}\n"
			  "detection:\n  sel:\n    host|endswith: '.top'\n"
			  "    id.resp_p: 80\n  condition: sel\n",
			  &o, &rc, &diag);
	ck_assert_msg(rs, "%s", diag);
	ck_assert(fires(rs, "{\"kind\":\"packet\",\"indicator\":\"a.top\","
			    "\"dst_port\":80}"));
	ck_assert(!fires(rs, "{\"kind\":\"flow\",\"indicator\":\"a.top\","
			     "\"dst_port\":80}"));
	cep_ruleset_destroy(rs);
	free(diag);
	/* A broken mapping file is reported like a broken rule. */
	write_file("map.yml", "- logsource: {product: x}\n"
			      "  fields:\n    a: no_such_field\n");
	rs = compile_yaml("title: H\nid: h\ndetection:\n  sel:\n"
			  "    dst_port: 1\n  condition: sel\n", &o, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_msg(strstr(diag, "map.yml:3: mapping: unknown ceptor field "
			     "'no_such_field'"), "%s", diag);
	free(diag);
}
END_TEST

START_TEST(sigma_correlation_over_a_skipped_rule_is_skipped_too)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = compile_yaml("title: Base\nid: base\n"
			  "logsource: {product: zeek, service: http}\n"
			  "detection:\n  sel:\n    method: PUT\n"
			  "  condition: sel\n"
			  "---\n"
			  "title: Many\nid: many\n"
			  "correlation:\n  type: event_count\n  rules: [base]\n"
			  "  group-by: [src_ip]\n  timespan: 1m\n"
			  "  condition: {gte: 5}\n"
			  "---\n"
			  "title: Kept\nid: kept\ndetection:\n  sel:\n"
			  "    dst_port: 22\n  condition: sel\n", &o, &rc, &diag);
	ck_assert_msg(rs, "%s", diag);
	ck_assert_msg(strstr(diag, "rule.yml:13: warning: correlation "
			     "references 'base', a rule that was skipped"),
		      "%s", diag);
	ck_assert_uint_eq(cep_ruleset_count(rs), 1);
	ck_assert_uint_eq(cep_ruleset_skipped(rs), 2);
	ck_assert(fires(rs, "{\"dst_port\":22}"));
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

START_TEST(sigma_structural_errors_still_reject_under_skip_unsupported)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	static const char *const bad[] = {
		/* no title */
		"id: x\nlogsource: {category: dns}\ndetection:\n"
		"  sel:\n    query: a\n  condition: sel\n",
		/* no condition */
		"title: T\nid: x\nlogsource: {category: dns}\ndetection:\n"
		"  sel:\n    query: a\n",
		/* an undefined selection */
		"title: T\nid: x\nlogsource: {category: dns}\ndetection:\n"
		"  sel:\n    query: a\n  condition: sel and other\n",
		/* an unknown modifier */
		"title: T\nid: x\nlogsource: {category: dns}\ndetection:\n"
		"  sel:\n    query|between: a\n  condition: sel\n",
		/* a bad status */
		"title: T\nid: x\nstatus: shiny\nlogsource: {category: dns}\n"
		"detection:\n  sel:\n    query: a\n  condition: sel\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cep_ruleset *rs;
		char *diag;
		int rc;

		rs = compile_yaml(bad[i], &o, &rc, &diag);
		ck_assert_msg(!rs && rc == -CEP_ERULE, "sample %zu loaded: %s",
			      i, diag);
		free(diag);
	}
}
END_TEST

/* --- conformance ------------------------------------------------------------ */

static const char *shared(void)
{
	const char *d = getenv("CEPTOR_SHARED_DATA");

	return d && *d ? d : NULL;
}

struct paths {
	char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_yml(const char *dir, struct paths *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *full;
		struct stat st;
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		ck_assert_int_ge(asprintf(&full, "%s/%s", dir, de->d_name), 0);
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			find_yml(full, out);
			free(full);
			continue;
		}
		if (len < 5 || strcmp(de->d_name + len - 4, ".yml")) {
			free(full);
			continue;
		}
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->v = realloc(out->v, out->cap * sizeof *out->v);
			ck_assert_ptr_nonnull(out->v);
		}
		out->v[out->n++] = full;
	}
	closedir(d);
	qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Every diagnostic line is a skip warning with a known reason. */
static bool only_known_skips(const char *diag, const char **bad)
{
	static const char *const reasons[] = {
		"has no ceptor mapping", "not supported",
		"is a constant in ceptor's mapping", "a rule that was skipped",
		NULL
	};

	for (const char *l = diag; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char line[1024];
		bool known = false;

		snprintf(line, sizeof line, "%.*s", (int)len, l);
		if (strstr(line, ": warning: ") &&
		    strstr(line, "; rule skipped"))
			for (int i = 0; reasons[i]; i++)
				known |= strstr(line, reasons[i]) != NULL;
		if (!known) {
			*bad = l;
			return false;
		}
		l += len + (nl ? 1 : 0);
	}
	return true;
}

START_TEST(sigmahq_network_rules_load_or_are_skipped_with_a_reason)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	struct paths files = { 0 };
	size_t loaded = 0, skipped = 0;
	char dir[1024];

	if (!shared()) {
		printf("notice: CEPTOR_SHARED_DATA not set; SigmaHQ network "
		       "rules conformance skipped\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/sigma/sigmahq/rules/network", shared());
	find_yml(dir, &files);
	ck_assert_msg(files.n > 0, "no rules under %s", dir);
	for (size_t i = 0; i < files.n; i++) {
		const char *paths[1] = { files.v[i] };
		struct cep_ruleset *rs;
		const char *bad = NULL;
		char *diag;
		int rc;

		rs = compile(paths, 1, &o, &rc, &diag);
		ck_assert_msg(rc == 0, "%s did not compile:\n%s", files.v[i],
			      diag);
		ck_assert_msg(only_known_skips(diag, &bad),
			      "%s: unexpected diagnostic: %s", files.v[i], bad);
		loaded += cep_ruleset_count(rs);
		skipped += cep_ruleset_skipped(rs);
		if (cep_ruleset_skipped(rs))
			printf("skipped: %s", diag);
		else
			printf("loaded: %s\n", files.v[i] + strlen(dir) + 1);
		cep_ruleset_destroy(rs);
		free(diag);
	}
	printf("SigmaHQ network rules: %zu files, %zu loaded, %zu skipped\n",
	       files.n, loaded, skipped);
	ck_assert_uint_eq(loaded + skipped, files.n);
	ck_assert_msg(loaded >= SIGMAHQ_NETWORK_MIN_LOADED,
		      "only %zu SigmaHQ network rules load (floor %d)", loaded,
		      SIGMAHQ_NETWORK_MIN_LOADED);
	paths_free(&files);
}
END_TEST

/* Correlation types another part of the compiler may not have yet. */
static bool pending_reason(const char *diag)
{
	return strstr(diag, "unknown rule") || strstr(diag, "not supported") ||
	       strstr(diag, "unknown correlation type") ||
	       strstr(diag, "unknown group-by field") ||
	       strstr(diag, "unknown field");
}

START_TEST(sigma_specification_examples_compile)
{
	struct cep_rule_options o = { .skip_unsupported = true };
	struct paths files = { 0 };
	size_t loaded = 0, skipped = 0, pending = 0;
	char dir[1024];

	if (!shared()) {
		printf("notice: CEPTOR_SHARED_DATA not set; Sigma specification "
		       "examples skipped\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/sigma/specification/tests", shared());
	find_yml(dir, &files);
	ck_assert_msg(files.n > 0, "no examples under %s", dir);
	for (size_t i = 0; i < files.n; i++) {
		const char *paths[1] = { files.v[i] };
		const char *name = files.v[i] + strlen(dir) + 1, *bad = NULL;
		bool corr = strstr(name, "/correlation/") != NULL;
		struct cep_ruleset *rs;
		char *diag;
		int rc;

		rs = compile(paths, 1, &o, &rc, &diag);
		if (corr && rc != 0 && pending_reason(diag)) {
			/* The examples name rules they do not include, and some
			 * use correlation types still being added. */
			printf("pending: %s: %s", name, diag);
			pending++;
		} else {
			ck_assert_msg(rc == 0, "%s did not compile:\n%s", name,
				      diag);
			ck_assert_msg(only_known_skips(diag, &bad),
				      "%s: unexpected diagnostic: %s", name, bad);
			loaded += cep_ruleset_count(rs);
			skipped += cep_ruleset_skipped(rs);
			printf("%s: %s%s", cep_ruleset_skipped(rs) ? "skipped" :
				"loaded", name, cep_ruleset_skipped(rs) ? ": " : "\n");
			if (cep_ruleset_skipped(rs))
				printf("%s", diag);
		}
		cep_ruleset_destroy(rs);
		free(diag);
	}
	printf("Sigma specification examples: %zu files, %zu loaded, "
	       "%zu skipped, %zu pending\n", files.n, loaded, skipped, pending);
	/* The ECS DNS example maps (dns.question.name is the indicator). */
	ck_assert_uint_ge(loaded, 1);
	paths_free(&files);
}
END_TEST

static Suite *sigma_suite(void)
{
	Suite *s = suite_create("sigma");
	TCase *tm = tcase_create("mapping");
	TCase *tc = tcase_create("conformance");

	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, sigma_zeek_dns_query_is_the_indicator);
	tcase_add_test(tm, sigma_unmapped_field_is_an_error_naming_field_and_logsource);
	tcase_add_test(tm, sigma_unknown_logsource_is_reported);
	tcase_add_test(tm, sigma_protocol_names_convert_and_unknown_ones_are_reported);
	tcase_add_test(tm, sigma_firewall_action_is_a_constant_of_what_was_seen);
	tcase_add_test(tm, sigma_zeek_rdp_logsource_adds_its_own_conditions);
	tcase_add_test(tm, sigma_keywords_need_a_logsource_that_allows_them);
	tcase_add_test(tm, sigma_mapping_file_extends_the_built_in_table);
	tcase_add_test(tm, sigma_correlation_over_a_skipped_rule_is_skipped_too);
	tcase_add_test(tm, sigma_structural_errors_still_reject_under_skip_unsupported);
	suite_add_tcase(s, tm);

	tcase_add_test(tc, sigmahq_network_rules_load_or_are_skipped_with_a_reason);
	tcase_add_test(tc, sigma_specification_examples_compile);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sigma_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
