/*
 * test_rule.c - the rule compiler (rule.h) and the detection matcher, seen
 * through cep_ruleset_compile() and cep_detect_event().
 *
 * Bad-rule fixtures live in tests/rules/; each test names the exact
 * FILE:LINE it expects, so that a wrong line is a failure, not a pass.
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

static char root[512];
static char tmpdir[64];

static void setup(void)
{
	const char *r = getenv("ROOT");

	snprintf(root, sizeof root, "%s", r && *r ? r : ".");
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ceptor-rule-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s/rule.yml", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Compiles paths; returns the rule set or NULL, diagnostics in *diag. */
static struct cep_ruleset *compile_paths(const char *const *paths, size_t n,
					 int *rc, char **diag)
{
	struct cep_ruleset *rs = NULL;
	size_t len;
	FILE *d = open_memstream(diag, &len);

	ck_assert_ptr_nonnull(d);
	*rc = cep_ruleset_compile(paths, n, d, &rs);
	fclose(d);
	return rs;
}

/* Compiles one fixture under tests/rules/. */
static struct cep_ruleset *compile_fixture(const char *name, int *rc,
					   char **diag, char *path,
					   size_t size)
{
	const char *paths[1] = { path };

	snprintf(path, size, "%s/tests/rules/%s", root, name);
	return compile_paths(paths, 1, rc, diag);
}

/* Writes yaml to a file in the test's directory and compiles that
 * directory; fails the test when it does not compile. */
static struct cep_ruleset *compile_text(const char *yaml)
{
	char path[128], *diag;
	const char *dirs[1] = { tmpdir };
	struct cep_ruleset *rs;
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/rule.yml", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(yaml, f);
	fclose(f);
	rs = compile_paths(dirs, 1, &rc, &diag);
	ck_assert_msg(rc == 0, "compile failed (%d): %s", rc, diag);
	free(diag);
	return rs;
}

static void event(struct cep_event *ev, const char *json)
{
	char err[256];
	int rc = cep_event_from_json(json, strlen(json), ev, err, sizeof err);

	ck_assert_msg(rc == 0, "bad test event %s: %s", json, err);
}

/* Does the one-rule set rs emit a detection signal for this event? */
static bool fires(const struct cep_ruleset *rs, const char *json)
{
	struct cep_detect *d;
	struct cep_signal sig[4];
	struct cep_event ev;
	unsigned n;

	event(&ev, json);
	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	n = cep_detect_event(d, &ev, sig, 4);
	if (n)
		ck_assert_uint_eq(sig[0].origin, CEP_SIGNAL_DETECTION);
	cep_detect_destroy(d);
	return n > 0;
}

/* A detection rule around the given detection block. */
static struct cep_ruleset *rule_with(const char *detection)
{
	char yaml[2048];

	snprintf(yaml, sizeof yaml,
		 "title: Test rule\n"
		 "id: test-rule\n"
		 "level: low\n"
		 "type: scan\n"
		 "detection:\n%s", detection);
	return compile_text(yaml);
}

static const struct cep_rule_info *find_rule(const struct cep_ruleset *rs,
					     const char *id,
					     struct cep_rule_info *info)
{
	for (size_t i = 0; i < cep_ruleset_count(rs); i++) {
		ck_assert_int_eq(cep_ruleset_rule(rs, i, info), 0);
		if (!strcmp(info->id, id))
			return info;
	}
	return NULL;
}

/* --- compiling ------------------------------------------------------------- */

START_TEST(rule_default_pack_compiles_with_portscan_correlation)
{
	char path[600], *diag;
	const char *dirs[1] = { path };
	struct cep_rule_info info;
	struct cep_ruleset *rs;
	int rc;

	snprintf(path, sizeof path, "%s/rules/default", root);
	rs = compile_paths(dirs, 1, &rc, &diag);
	ck_assert_msg(rc == 0, "default pack: %s", diag);
	ck_assert_uint_ge(cep_ruleset_count(rs), 4);
	ck_assert_ptr_nonnull(find_rule(rs, "ceptor-portscan-tcp", &info));
	ck_assert_str_eq(info.kind, "value_count");
	ck_assert_str_eq(info.title, "TCP port scan");
	ck_assert_int_eq(info.level, CEP_LEVEL_HIGH);
	ck_assert_int_eq(info.type, CEP_TYPE_SCAN);
	ck_assert_int_eq(info.emits, 1);
	ck_assert_ptr_nonnull(strstr(info.file, "portscan.yml"));
	ck_assert_ptr_nonnull(find_rule(rs, "ceptor-tcp-syn", &info));
	ck_assert_str_eq(info.kind, "detection");
	ck_assert_int_eq(info.emits, 0); /* generate: false by default */
	ck_assert_uint_eq(info.line, 6);
	ck_assert_ptr_nonnull(find_rule(rs, "ceptor-telnet-attempt", &info));
	ck_assert_int_eq(info.emits, 1);
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

START_TEST(rule_accepts_a_single_file_as_a_path)
{
	char path[600], *diag;
	const char *paths[1] = { path };
	struct cep_ruleset *rs;
	int rc;

	snprintf(path, sizeof path, "%s/rules/default/telnet.yml", root);
	rs = compile_paths(paths, 1, &rc, &diag);
	ck_assert_msg(rc == 0, "%s", diag);
	ck_assert_uint_eq(cep_ruleset_count(rs), 1);
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

/* One error class per fixture: the file, the line, and what is said. */
static const struct {
	const char *file;
	unsigned line;
	const char *text;
} errors[] = {
	{ "unknown_field.yml", 8, "unknown field 'dst_prot'" },
	{ "bad_modifier.yml", 6, "modifier 'contains' is not supported yet" },
	{ "bad_modifier.yml", 8, "unknown modifier 'between'" },
	{ "bad_cidr.yml", 7, "bad CIDR '10.0.0.0/33'" },
	{ "bad_condition.yml", 6, "condition: unexpected 'end'" },
	{ "undefined_selection.yml", 6, "undefined selection 'filter'" },
	{ "missing_condition.yml", 3, "detection has no condition" },
	{ "missing_detection.yml", 1, "rule has no detection" },
	{ "unknown_ref.yml", 14, "unknown rule 'no-such-rule'" },
	{ "duplicate_id.yml", 9, "duplicate id 'bad-dup'" },
	{ "bad_values.yml", 3, "unknown level 'severe'" },
	{ "bad_values.yml", 6, "'70000' is not a number" },
	{ "bad_values.yml", 7, "'parcel' is not a kind token" },
	{ "bad_values.yml", 8, "use |cidr" },
	{ "yaml_syntax.yml", 6, "YAML:" },
};

START_TEST(rule_error_is_reported_with_file_and_line)
{
	char path[600], want[700], *diag;
	struct cep_ruleset *rs;
	int rc;

	rs = compile_fixture(errors[_i].file, &rc, &diag, path, sizeof path);
	ck_assert_ptr_null(rs);
	ck_assert_int_eq(rc, -CEP_ERULE);
	snprintf(want, sizeof want, "%s:%u: ", path, errors[_i].line);
	ck_assert_msg(strstr(diag, want), "want '%s' in:\n%s", want, diag);
	ck_assert_msg(strstr(strstr(diag, want), errors[_i].text),
		      "want '%s' after '%s' in:\n%s", errors[_i].text, want,
		      diag);
	free(diag);
}
END_TEST

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(rule_reports_every_error_of_a_file_not_just_the_first)
{
	char path[600], *diag;
	struct cep_ruleset *rs;
	int rc;

	rs = compile_fixture("bad_values.yml", &rc, &diag, path, sizeof path);
	ck_assert_ptr_null(rs);
	ck_assert_uint_eq(count_lines(diag), 4);
	free(diag);
}
END_TEST

START_TEST(rule_reports_errors_of_every_file)
{
	char a[600], b[600], *diag;
	const char *paths[2] = { a, b };
	struct cep_ruleset *rs;
	int rc;

	snprintf(a, sizeof a, "%s/tests/rules/unknown_field.yml", root);
	snprintf(b, sizeof b, "%s/tests/rules/bad_cidr.yml", root);
	rs = compile_paths(paths, 2, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_int_eq(rc, -CEP_ERULE);
	ck_assert_ptr_nonnull(strstr(diag, "unknown_field.yml:8: "));
	ck_assert_ptr_nonnull(strstr(diag, "bad_cidr.yml:7: "));
	free(diag);
}
END_TEST

START_TEST(rule_set_with_one_bad_file_is_rejected_whole)
{
	char path[600], *diag;
	const char *dirs[1] = { path };
	struct cep_ruleset *rs = (struct cep_ruleset *)&rs; /* untouched? */
	int rc;
	size_t len;
	FILE *d;

	snprintf(path, sizeof path, "%s/tests/rules/one-bad", root);
	d = open_memstream(&diag, &len);
	rc = cep_ruleset_compile(dirs, 1, d, &rs);
	fclose(d);
	ck_assert_int_eq(rc, -CEP_ERULE);
	ck_assert_ptr_eq(rs, (struct cep_ruleset *)&rs);
	ck_assert_ptr_nonnull(strstr(diag, "one-bad/b_bad.yml:14: bad timespan"));
	ck_assert_uint_eq(count_lines(diag), 1);
	free(diag);
}
END_TEST

START_TEST(rule_missing_path_is_an_error_naming_it)
{
	const char *paths[1] = { "/nonexistent/ceptor-rules" };
	char *diag;
	int rc;

	ck_assert_ptr_null(compile_paths(paths, 1, &rc, &diag));
	ck_assert_int_eq(rc, -CEP_ERULE);
	ck_assert_ptr_nonnull(strstr(diag, "/nonexistent/ceptor-rules: "));
	free(diag);
}
END_TEST

/* --- matching -------------------------------------------------------------- */

START_TEST(match_equality_on_numbers_and_tokens)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    kind: packet\n"
					   "    proto: 6\n"
					   "    dst_port: 23\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"kind\":\"packet\",\"proto\":6,\"dst_port\":23}"));
	ck_assert(!fires(rs, "{\"kind\":\"packet\",\"proto\":6,\"dst_port\":24}"));
	ck_assert(!fires(rs, "{\"kind\":\"flow\",\"proto\":6,\"dst_port\":23}"));
	ck_assert(!fires(rs, "{\"kind\":\"packet\",\"proto\":17,\"dst_port\":23}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_value_list_is_any_of_and_list_of_maps_is_or)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    - dst_port: [22, 23, 3389]\n"
					   "      proto: 6\n"
					   "    - proto: 1\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"proto\":6,\"dst_port\":22}"));
	ck_assert(fires(rs, "{\"proto\":6,\"dst_port\":3389}"));
	ck_assert(!fires(rs, "{\"proto\":6,\"dst_port\":80}"));
	ck_assert(fires(rs, "{\"proto\":1}"));
	ck_assert(!fires(rs, "{\"proto\":17,\"dst_port\":22}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_cidr_ipv4_and_ipv6_prefixes)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    dst_ip|cidr:\n"
					   "      - 10.0.0.0/8\n"
					   "      - 192.0.2.128/25\n"
					   "      - 2001:db8::/32\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"dst_ip\":\"10.200.1.1\"}"));
	ck_assert(fires(rs, "{\"dst_ip\":\"192.0.2.200\"}"));
	ck_assert(!fires(rs, "{\"dst_ip\":\"192.0.2.127\"}"));
	ck_assert(!fires(rs, "{\"dst_ip\":\"11.0.0.1\"}"));
	ck_assert(fires(rs, "{\"dst_ip\":\"2001:db8:1::5\"}"));
	ck_assert(!fires(rs, "{\"dst_ip\":\"2001:db9::5\"}"));
	ck_assert(!fires(rs, "{\"src_ip\":\"10.0.0.1\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_ip_equality_compares_the_address)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    src_ip: [192.0.2.7, '2001:db8::7']\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"src_ip\":\"192.0.2.7\"}"));
	ck_assert(fires(rs, "{\"src_ip\":\"2001:db8::7\"}"));
	ck_assert(!fires(rs, "{\"src_ip\":\"192.0.2.8\"}"));
	ck_assert(!fires(rs, "{}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_numeric_comparisons)
{
	struct cep_ruleset *rs = rule_with("  big:\n"
					   "    bytes|gte: 1000\n"
					   "    dst_port|lt: 1024\n"
					   "  tiny:\n"
					   "    bytes|lte: 10\n"
					   "    packets|gt: 5\n"
					   "  condition: big or tiny\n");

	ck_assert(fires(rs, "{\"bytes\":1000,\"dst_port\":1023}"));
	ck_assert(!fires(rs, "{\"bytes\":999,\"dst_port\":80}"));
	ck_assert(!fires(rs, "{\"bytes\":5000,\"dst_port\":1024}"));
	ck_assert(fires(rs, "{\"bytes\":10,\"packets\":6}"));
	ck_assert(!fires(rs, "{\"bytes\":10,\"packets\":5}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_neq_means_different_from_every_value)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    proto: 6\n"
					   "    dst_port|neq: [80, 443]\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"proto\":6,\"dst_port\":22}"));
	ck_assert(!fires(rs, "{\"proto\":6,\"dst_port\":80}"));
	ck_assert(!fires(rs, "{\"proto\":6,\"dst_port\":443}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_not_and_precedence_of_and_over_or)
{
	/* a or b and not c  ==  a or (b and (not c)) */
	struct cep_ruleset *rs = rule_with("  a:\n"
					   "    proto: 1\n"
					   "  b:\n"
					   "    proto: 6\n"
					   "  c:\n"
					   "    dst_port: 443\n"
					   "  condition: a or b and not c\n");

	ck_assert(fires(rs, "{\"proto\":1,\"dst_port\":443}"));
	ck_assert(fires(rs, "{\"proto\":6,\"dst_port\":80}"));
	ck_assert(!fires(rs, "{\"proto\":6,\"dst_port\":443}"));
	ck_assert(!fires(rs, "{\"proto\":17}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_one_of_and_all_of_patterns)
{
	struct cep_ruleset *one = rule_with("  sel_ssh:\n"
					    "    dst_port: 22\n"
					    "  sel_rdp:\n"
					    "    dst_port: 3389\n"
					    "  tcp:\n"
					    "    proto: 6\n"
					    "  condition: 1 of sel_* and tcp\n");
	struct cep_ruleset *all = rule_with("  sel_tcp:\n"
					    "    proto: 6\n"
					    "  sel_syn:\n"
					    "    tcp_flags: 2\n"
					    "  _unused:\n"
					    "    proto: 99\n"
					    "  condition: all of them\n");

	ck_assert(fires(one, "{\"proto\":6,\"dst_port\":3389}"));
	ck_assert(fires(one, "{\"proto\":6,\"dst_port\":22}"));
	ck_assert(!fires(one, "{\"proto\":17,\"dst_port\":22}"));
	ck_assert(!fires(one, "{\"proto\":6,\"dst_port\":80}"));
	/* `them` leaves out _unused, which would never match. */
	ck_assert(fires(all, "{\"proto\":6,\"tcp_flags\":2}"));
	ck_assert(!fires(all, "{\"proto\":6,\"tcp_flags\":18}"));
	cep_ruleset_destroy(one);
	cep_ruleset_destroy(all);
}
END_TEST

START_TEST(match_text_wildcards_ignore_case_and_flags_are_booleans)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    indicator: '*.Evil.example'\n"
					   "    fragment: true\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"indicator\":\"a.b.evil.EXAMPLE\","
			    "\"fragment\":true}"));
	ck_assert(!fires(rs, "{\"indicator\":\"a.b.evil.EXAMPLE\"}"));
	ck_assert(!fires(rs, "{\"indicator\":\"evil.example.org\","
			     "\"fragment\":true}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_token_comparisons_follow_vocabulary_order)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    tlp|gte: AMBER\n"
					   "    type: [malware, c2]\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"tlp\":\"RED\",\"type\":\"c2\"}"));
	ck_assert(fires(rs, "{\"tlp\":\"AMBER\",\"type\":\"malware\"}"));
	ck_assert(!fires(rs, "{\"tlp\":\"GREEN\",\"type\":\"c2\"}"));
	ck_assert(!fires(rs, "{\"tlp\":\"RED\",\"type\":\"scan\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_logsource_category_restricts_to_that_kind)
{
	struct cep_ruleset *rs = compile_text("title: Flows only\n"
					      "id: flows-only\n"
					      "logsource:\n"
					      "  product: ceptor\n"
					      "  category: flow\n"
					      "detection:\n"
					      "  sel:\n"
					      "    proto: 6\n"
					      "  condition: sel\n");

	ck_assert(fires(rs, "{\"kind\":\"flow\",\"proto\":6}"));
	ck_assert(!fires(rs, "{\"kind\":\"packet\",\"proto\":6}"));
	ck_assert(!fires(rs, "{\"proto\":6}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_signal_carries_the_rule_and_the_event)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    dst_port: 23\n"
					   "  condition: sel\n");
	struct cep_detect *d;
	struct cep_signal sig;
	struct cep_event ev;

	event(&ev, "{\"ts\":\"2024-05-01T00:00:01Z\",\"dst_port\":23,"
		   "\"src_ip\":\"192.0.2.1\"}");
	ck_assert_int_eq(cep_detect_create(rs, NULL, &d), 0);
	ck_assert_uint_eq(cep_detect_event(d, &ev, &sig, 1), 1);
	ck_assert_str_eq(sig.rule_id, "test-rule");
	ck_assert_str_eq(sig.title, "Test rule");
	ck_assert_str_eq(sig.key, "");
	ck_assert_uint_eq(sig.level, CEP_LEVEL_LOW);
	ck_assert_uint_eq(sig.type, CEP_TYPE_SCAN);
	ck_assert_uint_eq(sig.count, 1);
	ck_assert_uint_eq(sig.first_ts, ev.ts);
	ck_assert_int_eq(memcmp(&sig.ev, &ev, sizeof ev), 0);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}
END_TEST

static const char corr_yaml[] =
	"title: SYN\n"
	"id: syn\n"
	"level: low\n"
	"type: scan\n"
	"detection:\n"
	"  sel:\n"
	"    tcp_flags: 2\n"
	"  condition: sel\n"
	"---\n"
	"title: Any TCP\n"
	"name: any_tcp\n"
	"level: medium\n"
	"type: intrusion\n"
	"%s"
	"detection:\n"
	"  sel:\n"
	"    proto: 6\n"
	"  condition: sel\n"
	"---\n"
	"title: Many ports\n"
	"id: many-ports\n"
	"correlation:\n"
	"  type: value_count\n"
	"  rules: [syn, any_tcp]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 5m\n"
	"  condition: {field: dst_port, gte: 3}\n";

START_TEST(correlation_defaults_level_and_type_to_its_most_severe_rule)
{
	char yaml[2048];
	struct cep_rule_info info;
	struct cep_ruleset *rs;

	snprintf(yaml, sizeof yaml, corr_yaml, "");
	rs = compile_text(yaml);
	ck_assert_ptr_nonnull(find_rule(rs, "many-ports", &info));
	ck_assert_int_eq(info.level, CEP_LEVEL_MEDIUM);
	ck_assert_int_eq(info.type, CEP_TYPE_INTRUSION);
	/* Referenced by name as well as by id; neither emits by default. */
	ck_assert_ptr_nonnull(find_rule(rs, "syn", &info));
	ck_assert_int_eq(info.emits, 0);
	ck_assert_int_eq(cep_ruleset_rule(rs, 1, &info), 0);
	ck_assert_str_eq(info.name, "any_tcp");
	ck_assert_int_eq(info.emits, 0);
	ck_assert(!fires(rs, "{\"proto\":6,\"tcp_flags\":2}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(correlation_rule_with_generate_true_also_emits)
{
	char yaml[2048];
	struct cep_rule_info info;
	struct cep_ruleset *rs;

	snprintf(yaml, sizeof yaml, corr_yaml, "generate: true\n");
	rs = compile_text(yaml);
	ck_assert_int_eq(cep_ruleset_rule(rs, 1, &info), 0);
	ck_assert_int_eq(info.emits, 1);
	ck_assert(fires(rs, "{\"proto\":6}"));
	cep_ruleset_destroy(rs);
}
END_TEST

static Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tc = tcase_create("compile");
	TCase *tm = tcase_create("match");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rule_default_pack_compiles_with_portscan_correlation);
	tcase_add_test(tc, rule_accepts_a_single_file_as_a_path);
	tcase_add_loop_test(tc, rule_error_is_reported_with_file_and_line, 0,
			    (int)(sizeof errors / sizeof errors[0]));
	tcase_add_test(tc, rule_reports_every_error_of_a_file_not_just_the_first);
	tcase_add_test(tc, rule_reports_errors_of_every_file);
	tcase_add_test(tc, rule_set_with_one_bad_file_is_rejected_whole);
	tcase_add_test(tc, rule_missing_path_is_an_error_naming_it);
	tcase_add_test(tc, correlation_defaults_level_and_type_to_its_most_severe_rule);
	tcase_add_test(tc, correlation_rule_with_generate_true_also_emits);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, match_equality_on_numbers_and_tokens);
	tcase_add_test(tm, match_value_list_is_any_of_and_list_of_maps_is_or);
	tcase_add_test(tm, match_cidr_ipv4_and_ipv6_prefixes);
	tcase_add_test(tm, match_ip_equality_compares_the_address);
	tcase_add_test(tm, match_numeric_comparisons);
	tcase_add_test(tm, match_neq_means_different_from_every_value);
	tcase_add_test(tm, match_not_and_precedence_of_and_over_or);
	tcase_add_test(tm, match_one_of_and_all_of_patterns);
	tcase_add_test(tm, match_text_wildcards_ignore_case_and_flags_are_booleans);
	tcase_add_test(tm, match_token_comparisons_follow_vocabulary_order);
	tcase_add_test(tm, match_logsource_category_restricts_to_that_kind);
	tcase_add_test(tm, match_signal_carries_the_rule_and_the_event);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
