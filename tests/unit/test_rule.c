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
#include <sys/stat.h>
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

/* --- Sigma modifiers ------------------------------------------------------- */

/* Compiles yaml with options; returns the rule set or NULL, diagnostics in
 * *diag (free it). */
static struct cep_ruleset *compile_opts(const char *yaml,
					const struct cep_rule_options *o,
					int *rc, char **diag)
{
	char path[128];
	const char *dirs[1] = { tmpdir };
	struct cep_ruleset *rs = NULL;
	size_t len;
	FILE *f, *d;

	snprintf(path, sizeof path, "%s/rule.yml", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(yaml, f);
	fclose(f);
	d = open_memstream(diag, &len);
	ck_assert_ptr_nonnull(d);
	*rc = cep_ruleset_compile_opts(dirs, 1, o, d, &rs);
	fclose(d);
	return rs;
}

/* The error a detection block alone produces (test rule around it). */
static char *detection_error(const char *detection)
{
	char yaml[2048], *diag;
	struct cep_ruleset *rs;
	int rc;

	snprintf(yaml, sizeof yaml,
		 "title: Test rule\nid: test-rule\ndetection:\n%s", detection);
	rs = compile_opts(yaml, NULL, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_int_eq(rc, -CEP_ERULE);
	return diag;
}

START_TEST(match_contains_startswith_endswith_and_the_empty_string)
{
	struct cep_ruleset *c = rule_with("  sel:\n"
					  "    indicator|contains: EVIL\n"
					  "  condition: sel\n");
	struct cep_ruleset *sw = rule_with("  sel:\n"
					   "    indicator|startswith: 'api.'\n"
					   "  condition: sel\n");
	struct cep_ruleset *ew = rule_with("  sel:\n"
					   "    indicator|endswith: '.onion'\n"
					   "  condition: sel\n");
	struct cep_ruleset *empty = rule_with("  sel:\n"
					      "    name: ''\n"
					      "  condition: sel\n");
	struct cep_ruleset *cempty = rule_with("  sel:\n"
					       "    name|contains: ''\n"
					       "  condition: sel\n");

	ck_assert(fires(c, "{\"indicator\":\"an.evil.example\"}"));
	ck_assert(fires(c, "{\"indicator\":\"evil\"}"));
	ck_assert(!fires(c, "{\"indicator\":\"ev.il\"}"));
	ck_assert(fires(sw, "{\"indicator\":\"API.telegram.org\"}"));
	ck_assert(!fires(sw, "{\"indicator\":\"x.api.telegram.org\"}"));
	ck_assert(fires(ew, "{\"indicator\":\"abc.ONION\"}"));
	ck_assert(!fires(ew, "{\"indicator\":\"abc.onion.to\"}"));
	ck_assert(!fires(ew, "{\"indicator\":\"onion\"}"));
	ck_assert(fires(empty, "{\"indicator\":\"x\"}"));
	ck_assert(!fires(empty, "{\"name\":\"x\"}"));
	ck_assert(fires(cempty, "{\"name\":\"x\"}"));
	ck_assert(fires(cempty, "{\"indicator\":\"x\"}"));
	cep_ruleset_destroy(c);
	cep_ruleset_destroy(sw);
	cep_ruleset_destroy(ew);
	cep_ruleset_destroy(empty);
	cep_ruleset_destroy(cempty);
}
END_TEST

START_TEST(match_wildcards_and_their_escapes_inside_modifier_values)
{
	struct cep_ruleset *w = rule_with("  sel:\n"
					  "    indicator|contains: 'a*c'\n"
					  "  condition: sel\n");
	struct cep_ruleset *lit = rule_with("  sel:\n"
					    "    indicator|contains: 'a\\*c'\n"
					    "  condition: sel\n");
	struct cep_ruleset *bs = rule_with("  sel:\n"
					   "    name|endswith: 'C:\\'\n"
					   "  condition: sel\n");
	struct cep_ruleset *q = rule_with("  sel:\n"
					  "    name|startswith: 'ab\\?'\n"
					  "  condition: sel\n");

	ck_assert(fires(w, "{\"indicator\":\"xxabbbcxx\"}"));
	ck_assert(!fires(w, "{\"indicator\":\"xxa*\"}"));
	ck_assert(fires(lit, "{\"indicator\":\"xa*cx\"}"));
	ck_assert(!fires(lit, "{\"indicator\":\"xabcx\"}"));
	/* A trailing plain backslash stays a backslash: the implied `*` of
	 * endswith must not become an escaped one. */
	ck_assert(fires(bs, "{\"name\":\"dir c:\\\\\"}"));
	ck_assert(!fires(bs, "{\"name\":\"dir c:\\\\x\"}"));
	ck_assert(fires(q, "{\"name\":\"ab?cd\"}"));
	ck_assert(!fires(q, "{\"name\":\"abxcd\"}"));
	cep_ruleset_destroy(w);
	cep_ruleset_destroy(lit);
	cep_ruleset_destroy(bs);
	cep_ruleset_destroy(q);
}
END_TEST

START_TEST(match_contains_all_needs_every_value)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    indicator|contains|all:\n"
					   "      - seed\n"
					   "      - .nkn.org\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"indicator\":\"seed3.nkn.org\"}"));
	ck_assert(!fires(rs, "{\"indicator\":\"x.nkn.org\"}"));
	ck_assert(!fires(rs, "{\"indicator\":\"seed.example\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_cased_compares_case_and_default_ignores_it)
{
	struct cep_ruleset *cased = rule_with("  sel:\n"
					      "    name|cased: Emotet\n"
					      "  condition: sel\n");
	struct cep_ruleset *ccont = rule_with("  sel:\n"
					      "    name|contains|cased: Tet\n"
					      "  condition: sel\n");
	struct cep_ruleset *plain = rule_with("  sel:\n"
					      "    name: Emotet\n"
					      "  condition: sel\n");

	ck_assert(fires(cased, "{\"name\":\"Emotet\"}"));
	ck_assert(!fires(cased, "{\"name\":\"emotet\"}"));
	ck_assert(fires(ccont, "{\"name\":\"EmoTet\"}"));
	ck_assert(!fires(ccont, "{\"name\":\"Emotet\"}"));
	ck_assert(fires(plain, "{\"name\":\"EMOTET\"}"));
	cep_ruleset_destroy(cased);
	cep_ruleset_destroy(ccont);
	cep_ruleset_destroy(plain);
}
END_TEST

START_TEST(match_re_is_case_sensitive_unless_i_and_takes_m_and_s)
{
	struct cep_ruleset *re = rule_with("  sel:\n"
					   "    indicator|re: '^[a-z0-9]{16}\\.onion$'\n"
					   "  condition: sel\n");
	struct cep_ruleset *ri = rule_with("  sel:\n"
					   "    name|re|i: '^emo(tet|crypt)$'\n"
					   "  condition: sel\n");
	struct cep_ruleset *rm = rule_with("  sel:\n"
					   "    name|re|m: '^b$'\n"
					   "  condition: sel\n");
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    name|re|s: 'a.b'\n"
					   "  condition: sel\n");
	char *diag;

	ck_assert(fires(re, "{\"indicator\":\"abcdefgh12345678.onion\"}"));
	ck_assert(!fires(re, "{\"indicator\":\"ABCDEFGH12345678.onion\"}"));
	ck_assert(!fires(re, "{\"indicator\":\"abcdefgh1234567.onion\"}"));
	ck_assert(fires(ri, "{\"name\":\"EmoCrypt\"}"));
	ck_assert(!fires(ri, "{\"name\":\"emotets\"}"));
	ck_assert(fires(rm, "{\"name\":\"a\\nb\\nc\"}"));
	ck_assert(!fires(rm, "{\"name\":\"ab\"}"));
	ck_assert(fires(rs, "{\"name\":\"a\\nb\"}"));
	ck_assert(fires(rs, "{\"name\":\"axb\"}"));
	ck_assert(!fires(rm, "{\"name\":\"a\\nbc\"}"));
	cep_ruleset_destroy(re);
	cep_ruleset_destroy(ri);
	cep_ruleset_destroy(rm);
	cep_ruleset_destroy(rs);
	diag = detection_error("  sel:\n    name|re: 'a(b'\n  condition: sel\n");
	ck_assert_msg(strstr(diag, "rule.yml:5: bad regular expression 'a(b'"),
		      "%s", diag);
	free(diag);
	diag = detection_error("  sel:\n    name|i: 'x'\n  condition: sel\n");
	ck_assert_msg(strstr(diag, "modifier 'i' needs 're'"), "%s", diag);
	free(diag);
}
END_TEST

START_TEST(match_exists_true_and_false)
{
	struct cep_ruleset *yes = rule_with("  sel:\n"
					    "    indicator|exists: true\n"
					    "    src_ip|exists: true\n"
					    "  condition: sel\n");
	struct cep_ruleset *no = rule_with("  sel:\n"
					   "    dst_port|exists: false\n"
					   "  condition: sel\n");

	ck_assert(fires(yes, "{\"indicator\":\"x\",\"src_ip\":\"::1\"}"));
	ck_assert(!fires(yes, "{\"indicator\":\"x\"}"));
	ck_assert(!fires(yes, "{\"src_ip\":\"192.0.2.1\"}"));
	ck_assert(fires(no, "{\"src_port\":80}"));
	ck_assert(!fires(no, "{\"dst_port\":80}"));
	cep_ruleset_destroy(yes);
	cep_ruleset_destroy(no);
}
END_TEST

START_TEST(match_fieldref_compares_two_fields_of_the_event)
{
	struct cep_ruleset *eq = rule_with("  sel:\n"
					   "    src_port|fieldref: dst_port\n"
					   "  ip:\n"
					   "    src_ip|fieldref: dst_ip\n"
					   "  condition: sel or ip\n");
	struct cep_ruleset *ne = rule_with("  sel:\n"
					   "    name|fieldref|neq: indicator\n"
					   "  condition: sel\n");
	char *diag;

	ck_assert(fires(eq, "{\"src_port\":53,\"dst_port\":53}"));
	ck_assert(!fires(eq, "{\"src_port\":53,\"dst_port\":54}"));
	ck_assert(fires(eq, "{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.1\","
			    "\"src_port\":1}"));
	ck_assert(!fires(eq, "{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\","
			     "\"src_port\":1}"));
	ck_assert(fires(ne, "{\"name\":\"a\",\"indicator\":\"b\"}"));
	ck_assert(!fires(ne, "{\"name\":\"Same\",\"indicator\":\"same\"}"));
	cep_ruleset_destroy(eq);
	cep_ruleset_destroy(ne);
	diag = detection_error("  sel:\n    src_port|fieldref: src_ip\n"
			       "  condition: sel\n");
	ck_assert_msg(strstr(diag, "hold different kinds of value"), "%s", diag);
	free(diag);
}
END_TEST

START_TEST(match_base64_and_the_three_base64offset_encodings)
{
	struct cep_ruleset *b64 = rule_with("  sel:\n"
					    "    indicator|base64: secret\n"
					    "  condition: sel\n");
	struct cep_ruleset *off = rule_with("  sel:\n"
					    "    indicator|base64offset|contains: "
					    "'http://'\n"
					    "  condition: sel\n");
	struct cep_ruleset *wide = rule_with("  sel:\n"
					     "    indicator|wide|base64offset|"
					     "contains: cmd\n"
					     "  condition: sel\n");
	char *diag;

	ck_assert(fires(b64, "{\"indicator\":\"c2VjcmV0\"}"));
	/* base64 is case-sensitive even though strings are not. */
	ck_assert(!fires(b64, "{\"indicator\":\"C2VJCMV0\"}"));
	/* "http://x.io" after 0, 1 and 2 bytes of other text. */
	ck_assert(fires(off, "{\"indicator\":\"aHR0cDovL3guaW8=\"}"));
	ck_assert(fires(off, "{\"indicator\":\"YWh0dHA6Ly94Lmlv\"}"));
	ck_assert(fires(off, "{\"indicator\":\"YWJodHRwOi8veC5pbw==\"}"));
	ck_assert(!fires(off, "{\"indicator\":\"aHR0cHM6Ly94Lmlv\"}"));
	ck_assert(fires(wide, "{\"indicator\":\"YwBtAGQA\"}"));
	ck_assert(fires(wide, "{\"indicator\":\"YQBjAG0AZAA=\"}"));
	ck_assert(fires(wide, "{\"indicator\":\"YQBiAGMAbQBkAA==\"}"));
	ck_assert(!fires(wide, "{\"indicator\":\"Y21k\"}"));
	cep_ruleset_destroy(b64);
	cep_ruleset_destroy(off);
	cep_ruleset_destroy(wide);
	diag = detection_error("  sel:\n    name|wide: cmd\n  condition: sel\n");
	ck_assert_msg(strstr(diag, "NUL bytes"), "%s", diag);
	free(diag);
	diag = detection_error("  sel:\n    name|base64: 'a*'\n"
			       "  condition: sel\n");
	ck_assert_msg(strstr(diag, "wildcards cannot be encoded"), "%s", diag);
	free(diag);
}
END_TEST

START_TEST(match_windash_takes_every_dash_variant)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    name|windash|contains: ' -enc '\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"name\":\"ps -enc x\"}"));
	ck_assert(fires(rs, "{\"name\":\"ps /enc x\"}"));
	ck_assert(fires(rs, "{\"name\":\"ps \xe2\x80\x93" "enc x\"}"));
	ck_assert(fires(rs, "{\"name\":\"ps \xe2\x80\x94" "enc x\"}"));
	ck_assert(fires(rs, "{\"name\":\"ps \xe2\x80\x95" "enc x\"}"));
	ck_assert(!fires(rs, "{\"name\":\"ps +enc x\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(match_keywords_search_every_text_field)
{
	struct cep_ruleset *any = rule_with("  keywords:\n"
					    "    - 'BGP_AUTH_FAILED'\n"
					    "    - 'missing MD5'\n"
					    "  condition: keywords\n");
	struct cep_ruleset *all = rule_with("  keywords:\n"
					    "    '|all':\n"
					    "      - ':179'\n"
					    "      - 'bgp_auth'\n"
					    "  condition: keywords\n");

	ck_assert(fires(any, "{\"name\":\"x BGP_AUTH_FAILED y\"}"));
	ck_assert(fires(any, "{\"reporter\":\"peer Missing md5 digest\"}"));
	ck_assert(!fires(any, "{\"indicator\":\"bgp ok\"}"));
	/* each keyword may be found in a different field */
	ck_assert(fires(all, "{\"indicator\":\"10.0.0.1:179\","
			     "\"name\":\"BGP_AUTH_FAILED\"}"));
	ck_assert(!fires(all, "{\"name\":\"BGP_AUTH_FAILED\"}"));
	cep_ruleset_destroy(any);
	cep_ruleset_destroy(all);
}
END_TEST

START_TEST(match_neq_combines_with_contains_and_cidr)
{
	struct cep_ruleset *rs = rule_with("  sel:\n"
					   "    indicator|contains|neq:\n"
					   "      - google\n"
					   "      - bing\n"
					   "    src_ip|cidr|neq: 10.0.0.0/8\n"
					   "  condition: sel\n");

	ck_assert(fires(rs, "{\"indicator\":\"evil.example\","
			    "\"src_ip\":\"192.0.2.1\"}"));
	ck_assert(!fires(rs, "{\"indicator\":\"www.google.com\","
			     "\"src_ip\":\"192.0.2.1\"}"));
	ck_assert(!fires(rs, "{\"indicator\":\"evil.example\","
			     "\"src_ip\":\"10.1.2.3\"}"));
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(rule_expand_is_an_error_or_a_skip_with_its_reason)
{
	static const char yaml[] =
		"title: Placeholder\nid: ph\ndetection:\n"
		"  sel:\n    src_ip|expand: '%Servers%'\n  condition: sel\n"
		"---\n"
		"title: Fine\nid: fine\ndetection:\n"
		"  sel:\n    dst_port: 22\n  condition: sel\n";
	struct cep_rule_options o = { .skip_unsupported = true };
	struct cep_ruleset *rs;
	char *diag;
	int rc;

	rs = compile_opts(yaml, NULL, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_msg(strstr(diag, "rule.yml:5: modifier 'expand' is not "
			     "supported"), "%s", diag);
	free(diag);
	rs = compile_opts(yaml, &o, &rc, &diag);
	ck_assert_msg(rs, "%s", diag);
	ck_assert_msg(strstr(diag, "rule.yml:5: warning: modifier 'expand' is "
			     "not supported") && strstr(diag, "; rule skipped"),
		      "%s", diag);
	ck_assert_uint_eq(cep_ruleset_count(rs), 1);
	ck_assert_uint_eq(cep_ruleset_skipped(rs), 1);
	cep_ruleset_destroy(rs);
	free(diag);
}
END_TEST

START_TEST(rule_keeps_sectors_systems_tlp_and_sigma_attributes)
{
	struct cep_ruleset *rs = compile_text(
		"title: SCADA write\n"
		"id: scada-write\n"
		"status: experimental\n"
		"level: high\n"
		"type: tampering\n"
		"sectors: [electricity, water]\n"
		"systems: [plant_control, water_control]\n"
		"tlp_lower_to: GREEN\n"
		"tags: [attack.t0855]\n"
		"falsepositives: [maintenance windows]\n"
		"logsource: {product: ceptor, category: packet}\n"
		"detection:\n  sel:\n    dst_port: 502\n  condition: sel\n");
	struct cep_rule_info info;

	ck_assert_int_eq(cep_ruleset_rule(rs, 0, &info), 0);
	ck_assert_str_eq(info.status, "experimental");
	ck_assert_uint_eq(info.sectors, (1u << CEP_SECTOR_ELECTRICITY) |
					(1u << CEP_SECTOR_WATER));
	ck_assert_uint_eq(info.systems, (1u << CEP_SYSTEM_PLANT_CONTROL) |
					(1u << CEP_SYSTEM_WATER_CONTROL));
	ck_assert_int_eq(info.tlp_lower_to, CEP_TLP_GREEN);
	ck_assert_uint_eq(info.ntags, 1);
	ck_assert_str_eq(info.tags[0], "attack.t0855");
	ck_assert_uint_eq(info.nfalsepositives, 1);
	ck_assert_str_eq(info.falsepositives[0], "maintenance windows");
	ck_assert_uint_eq(info.kinds, 1u << CEP_KIND_PACKET);
	ck_assert_str_eq(info.ls_category, "packet");
	cep_ruleset_destroy(rs);
}
END_TEST

START_TEST(rule_unknown_system_and_tlp_are_errors)
{
	char *diag;
	struct cep_ruleset *rs;
	int rc;

	rs = compile_opts("title: T\nid: t\nsystems: [toaster]\n"
			  "tlp_lower_to: BLUE\n"
			  "detection:\n  sel:\n    dst_port: 1\n  condition: sel\n",
			  NULL, &rc, &diag);
	ck_assert_ptr_null(rs);
	ck_assert_msg(strstr(diag, "rule.yml:3: unknown system 'toaster'"),
		      "%s", diag);
	ck_assert_msg(strstr(diag, "rule.yml:4: unknown TLP 'BLUE'"), "%s",
		      diag);
	free(diag);
}
END_TEST

/* A directory without rule files (only subdirectories, as SigmaHQ's
 * rules/network/ is) compiles to nothing, cleanly. */
START_TEST(rule_directory_without_rule_files_adds_nothing)
{
	char sub[160], *diag;
	const char *dirs[1] = { tmpdir };
	struct cep_ruleset *rs;
	int rc;

	snprintf(sub, sizeof sub, "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	rs = compile_paths(dirs, 1, &rc, &diag);
	rmdir(sub);
	ck_assert_msg(rc == 0, "%s", diag);
	ck_assert_uint_eq(cep_ruleset_count(rs), 0);
	free(diag);
	cep_ruleset_destroy(rs);
}
END_TEST

/* rules check's warnings: impossible detections and churning group-bys,
 * and silence about rules that are fine. */
START_TEST(rule_lint_warns_about_never_matching_and_unbounded_groups)
{
	struct cep_ruleset *rs = compile_text(
		"title: two protocols at once\n"
		"id: lint-proto\n"
		"detection:\n"
		"  sel: {proto: 6, dst_port: 22}\n"
		"  both: {proto: 6}\n"
		"  udp: {proto: 17}\n"
		"  condition: both and udp\n"
		"---\n"
		"title: flow selection under a packet logsource\n"
		"id: lint-kind\n"
		"logsource: {product: ceptor, category: packet}\n"
		"detection:\n"
		"  sel: {kind: flow}\n"
		"  condition: sel\n"
		"---\n"
		"title: a selection and its negation\n"
		"id: lint-not\n"
		"detection:\n"
		"  sel: {proto: 6}\n"
		"  condition: sel and not sel\n"
		"---\n"
		"title: fine\n"
		"id: lint-fine\n"
		"detection:\n"
		"  a: {proto: [6, 17], dst_port: 53}\n"
		"  b: {proto: 6}\n"
		"  condition: a and b and not 1 of c*\n"
		"  c1: {dst_port: 80}\n"
		"---\n"
		"title: per source port\n"
		"id: lint-churn\n"
		"correlation:\n"
		"  type: event_count\n"
		"  rules: [lint-fine]\n"
		"  group-by: [src_ip, src_port]\n"
		"  timespan: 1m\n"
		"  condition: {gte: 3}\n"
		"---\n"
		"title: answers from amplifier ports\n"
		"id: lint-amp\n"
		"detection:\n"
		"  dns: {proto: 17, src_port: 53}\n"
		"  ntp: {proto: 17, src_port: [123, 19]}\n"
		"  condition: dns or ntp\n"
		"---\n"
		"title: per amplifier port\n"
		"id: lint-amp-port\n"
		"correlation:\n"
		"  type: value_count\n"
		"  rules: [lint-amp]\n"
		"  group-by: [dst_ip, src_port]\n"
		"  timespan: 1m\n"
		"  condition: {gte: 3, field: src_ip}\n"
		"---\n"
		"title: per source\n"
		"id: lint-entity\n"
		"correlation:\n"
		"  type: event_count\n"
		"  rules: [lint-fine]\n"
		"  group-by: [src_ip]\n"
		"  timespan: 1m\n"
		"  condition: {gte: 3}\n");
	char *out;
	size_t len;
	FILE *d = open_memstream(&out, &len);

	int n = cep_ruleset_lint(rs, d);

	fclose(d);
	ck_assert_msg(n == 4, "%d warnings:\n%s", n, out);
	ck_assert_ptr_nonnull(strstr(out, "rule.yml:1: warning: rule lint-proto can never match"));
	ck_assert_ptr_nonnull(strstr(out, "rule lint-kind can never match"));
	ck_assert_ptr_nonnull(strstr(out, "rule lint-not can never match"));
	ck_assert_ptr_nonnull(strstr(out, "rule lint-churn groups by 'src_port'"));
	ck_assert_ptr_null(strstr(out, "lint-fine"));
	ck_assert_ptr_null(strstr(out, "lint-entity"));
	ck_assert_ptr_null(strstr(out, "lint-amp"));
	free(out);
	cep_ruleset_destroy(rs);
}
END_TEST

static Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tc = tcase_create("compile");
	TCase *tm = tcase_create("match");
	TCase *ts = tcase_create("sigma");

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

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, match_contains_startswith_endswith_and_the_empty_string);
	tcase_add_test(ts, match_wildcards_and_their_escapes_inside_modifier_values);
	tcase_add_test(ts, match_contains_all_needs_every_value);
	tcase_add_test(ts, match_cased_compares_case_and_default_ignores_it);
	tcase_add_test(ts, match_re_is_case_sensitive_unless_i_and_takes_m_and_s);
	tcase_add_test(ts, match_exists_true_and_false);
	tcase_add_test(ts, match_fieldref_compares_two_fields_of_the_event);
	tcase_add_test(ts, match_base64_and_the_three_base64offset_encodings);
	tcase_add_test(ts, match_windash_takes_every_dash_variant);
	tcase_add_test(ts, match_keywords_search_every_text_field);
	tcase_add_test(ts, match_neq_combines_with_contains_and_cidr);
	tcase_add_test(ts, rule_expand_is_an_error_or_a_skip_with_its_reason);
	tcase_add_test(ts, rule_keeps_sectors_systems_tlp_and_sigma_attributes);
	tcase_add_test(ts, rule_unknown_system_and_tlp_are_errors);
	tcase_add_test(ts, rule_lint_warns_about_never_matching_and_unbounded_groups);
	tcase_add_test(ts, rule_directory_without_rule_files_adds_nothing);
	suite_add_tcase(s, ts);
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
