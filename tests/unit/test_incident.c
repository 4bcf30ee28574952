/*
 * test_incident.c - joining signals, confidence, priority, ids, messages.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/incident.h"

static struct cep_signal scan_signal(const char *source, int rel, int cred,
				     uint64_t ts, uint64_t count)
{
	struct cep_signal s;
	memset(&s, 0, sizeof s);
	snprintf(s.rule_id, sizeof s.rule_id, "ceptor-portscan-tcp");
	snprintf(s.title, sizeof s.title, "TCP port scan");
	snprintf(s.key, sizeof s.key, "src_ip=198.51.100.23");
	s.origin = CEP_SIGNAL_CORRELATION;
	s.level = CEP_LEVEL_HIGH;
	s.type = CEP_TYPE_SCAN;
	s.first_ts = ts;
	s.last_ts = ts + 1000;
	s.count = count;
	s.ev.ts = ts;
	s.ev.sector = CEP_SECTOR_TELECOM;
	s.ev.reliability = (uint8_t)rel;
	s.ev.credibility = (uint8_t)cred;
	s.ev.tlp = CEP_TLP_GREEN;
	s.ev.src_af = CEP_AF_INET;
	cep_ip_parse("198.51.100.23", s.ev.src_ip);
	snprintf(s.ev.source, sizeof s.ev.source, "%s", source);
	return s;
}

static struct cep_incidents *table(void)
{
	struct cep_incidents *t;
	ck_assert_int_eq(cep_incidents_create(NULL, &t), 0);
	return t;
}

#define TS_2026 1767225600000000000ull /* 2026-01-01T00:00:00Z */

START_TEST(incident_signals_with_one_key_join_one_incident)
{
	struct cep_incidents *t = table();
	struct cep_signal a = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	struct cep_signal b = scan_signal("tap", CEP_REL_B, 2, TS_2026 + 5, 50);
	ck_assert_int_eq(cep_incidents_signal(t, &a), 0);
	ck_assert_int_eq(cep_incidents_signal(t, &b), 0);
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	struct cep_incident *out[4];
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->evidence, 2);
	ck_assert_uint_eq(out[0]->count, 50);
	ck_assert_uint_eq(out[0]->version, 1);
	ck_assert_uint_eq(out[0]->first_seen, TS_2026);
	ck_assert_uint_eq(out[0]->last_seen, TS_2026 + 5 + 1000);
	/* Nothing changed since: nothing to publish. */
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	snprintf(b.key, sizeof b.key, "src_ip=203.0.113.9");
	ck_assert_int_eq(cep_incidents_signal(t, &b), 0);
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_same_source_repeated_does_not_raise_confidence)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	double one = out[0]->confidence;
	for (int i = 0; i < 10; i++)
		cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	ck_assert_double_eq_tol(out[0]->confidence, one, 1e-12);
	ck_assert_double_eq_tol(one, 0.8 * 0.8, 1e-9);
	ck_assert_uint_eq(out[0]->nsources, 1);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_independent_sources_raise_confidence_within_bounds)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	const char *names[] = { "tap", "flow", "feed", "report", "peer" };
	double last = 0;
	for (int i = 0; i < 5; i++) {
		struct cep_signal s = scan_signal(names[i], CEP_REL_A, 1, TS_2026, 20);
		cep_incidents_signal(t, &s);
		cep_incidents_collect(t, out, 1);
		ck_assert(out[0]->confidence > last);
		ck_assert(out[0]->confidence <= 1.0);
		last = out[0]->confidence;
	}
	ck_assert_uint_eq(out[0]->nsources, 5);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_priority_follows_severity_and_sector)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[2];
	struct cep_signal hi = scan_signal("tap", CEP_REL_A, 1, TS_2026, 20);
	hi.level = CEP_LEVEL_CRITICAL;
	struct cep_signal lo = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);
	lo.level = CEP_LEVEL_LOW;
	lo.ev.sector = CEP_SECTOR_LOGISTICS;
	snprintf(lo.key, sizeof lo.key, "src_ip=203.0.113.1");
	cep_incidents_signal(t, &hi);
	cep_incidents_signal(t, &lo);
	ck_assert_int_eq(cep_incidents_collect(t, out, 2), 2);
	ck_assert_uint_eq(out[0]->priority, 1);
	ck_assert_uint_eq(out[1]->priority, 5);
	ck_assert_str_eq(out[0]->id, "P1-2026-000001");
	ck_assert_str_eq(out[1]->id, "P5-2026-000001");
	ck_assert_int_eq(cep_incident_priority_of(0.5), 1);
	ck_assert_int_eq(cep_incident_priority_of(0.4999), 2);
	ck_assert_int_eq(cep_incident_priority_of(0.0), 5);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_tlp_is_the_strictest_of_the_evidence)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	struct cep_signal b = scan_signal("feed", CEP_REL_B, 2, TS_2026, 20);
	b.ev.tlp = CEP_TLP_AMBER_STRICT;
	cep_incidents_signal(t, &b);
	cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->tlp, CEP_TLP_AMBER_STRICT);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_ids_continue_after_a_restart)
{
	char dir[] = "/tmp/ceptor-incident-XXXXXX", path[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/incident-ids", dir);
	struct cep_incidents_config cfg = { path };
	struct cep_incident *out[1];
	for (int run = 1; run <= 3; run++) {
		struct cep_incidents *t;
		ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
		struct cep_signal s = scan_signal("tap", CEP_REL_A, 1, TS_2026, 20);
		s.level = CEP_LEVEL_CRITICAL;
		cep_incidents_signal(t, &s);
		ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
		char want[32];
		snprintf(want, sizeof want, "P1-2026-%06d", run);
		ck_assert_str_eq(out[0]->id, want);
		cep_incidents_destroy(t);
	}
	/* A damaged state file is refused rather than numbering afresh. */
	FILE *f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	struct cep_incidents *t = NULL;
	ck_assert_int_eq(cep_incidents_create(&cfg, &t), -CEP_EMALFORMED);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(incident_message_has_the_design_fields)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = scan_signal("tap", CEP_REL_B, 2, TS_2026, 42);
	cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	char json[CEP_INCIDENT_JSON_MAX], stream[CEP_STREAM_KEY_MAX];
	ck_assert_int_gt(cep_incident_to_json(out[0], "s1", NULL, json, sizeof json), 0);
	ck_assert_ptr_nonnull(strstr(json, "\"entity\":\"198.51.100.23\""));
	ck_assert_ptr_nonnull(strstr(json, "\"count\":42"));
	ck_assert_ptr_nonnull(strstr(json, "\"cause\":\"cyber\""));
	struct cep_incident_fieldbuf fb;
	const char *fv[2 * CEP_INCIDENT_FIELDS];
	size_t n = cep_incident_fields(out[0], json, &fb, fv);
	ck_assert_uint_eq(n, 2 * CEP_INCIDENT_FIELDS);
	const char *want[] = { "id", "version", "status", "priority", "confidence",
			       "severity", "sector", "title", "tlp", "first_seen",
			       "last_seen", "sources", "evidence", "json" };
	for (size_t i = 0; i < CEP_INCIDENT_FIELDS; i++)
		ck_assert_str_eq(fv[2 * i], want[i]);
	ck_assert_str_eq(fv[2 * 9 + 1], "2026-01-01T00:00:00.000000Z");
	ck_assert_str_eq(fv[2 * 3 + 1], "P2");
	ck_assert_str_eq(fv[2 * 5 + 1], "high");
	ck_assert_str_eq(fv[2 * 6 + 1], "telecom");
	cep_incident_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{telecom}:incidents");
	cep_incident_council_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{council}:incidents");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_exercise_goes_to_exercise_streams)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = scan_signal("drill", CEP_REL_B, 2, TS_2026, 42);
	a.ev.flags |= CEP_EV_EXERCISE;
	cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	char stream[CEP_STREAM_KEY_MAX];
	cep_incident_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor-exercise:{telecom}:incidents");
	cep_incident_council_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor-exercise:{council}:incidents");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_table_grows_past_many_keys)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[256];
	for (int i = 0; i < 5000; i++) {
		struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
		snprintf(s.key, sizeof s.key, "src_ip=10.0.%d.%d", i / 256, i % 256);
		ck_assert_int_eq(cep_incidents_signal(t, &s), 0);
	}
	ck_assert_uint_eq(cep_incidents_count(t), 5000);
	int total = 0, n;
	while ((n = cep_incidents_collect(t, out, 256)) > 0)
		total += n;
	ck_assert_int_eq(total, 5000);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_ids_never_repeat_when_years_interleave)
{
	char dir[] = "/tmp/ceptor-incident-XXXXXX", path[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/incident-ids", dir);
	struct cep_incidents_config cfg = { path };
	struct cep_incident *out[1];
	/* Runs over 2023, 2024, then 2023 again: the third run continues
	 * 2023's numbers instead of reusing them. */
	const uint64_t year_2023 = 1672531200000000000ull, year_2024 = 1704067200000000000ull;
	const uint64_t when[] = { year_2023, year_2023, year_2024, year_2023 };
	const char *want[] = { "P1-2023-000001", "P1-2023-000002", "P1-2024-000001",
			       "P1-2023-000003" };
	for (int run = 0; run < 4; run++) {
		struct cep_incidents *t;
		ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
		struct cep_signal s = scan_signal("tap", CEP_REL_A, 1, when[run], 20);
		s.level = CEP_LEVEL_CRITICAL;
		cep_incidents_signal(t, &s);
		ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
		ck_assert_str_eq(out[0]->id, want[run]);
		cep_incidents_destroy(t);
	}
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(incident_final_signal_updates_count_without_new_evidence)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal first = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	struct cep_signal final = scan_signal("tap", CEP_REL_B, 2, TS_2026, 64);
	final.final = 1;
	cep_incidents_signal(t, &first);
	cep_incidents_signal(t, &final);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->evidence, 1);
	ck_assert_uint_eq(out[0]->count, 64);
	ck_assert_uint_eq(out[0]->sources[0].signals, 1);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_clear_signal_closes_without_evidence_and_alert_reopens)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[2];
	struct cep_signal alert = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	struct cep_signal clear = scan_signal("tap", CEP_REL_B, 2, TS_2026, 3);
	struct cep_signal other = scan_signal("tap", CEP_REL_B, 2, TS_2026, 3);

	clear.kind = CEP_SIGNAL_CLEAR;
	clear.last_ts = TS_2026 + 5000;
	other.kind = CEP_SIGNAL_CLEAR;
	snprintf(other.rule_id, sizeof other.rule_id, "never-alerted");
	cep_incidents_signal(t, &alert);
	ck_assert_int_eq(cep_incidents_collect(t, out, 2), 1);
	ck_assert_int_eq(out[0]->status, CEP_INCIDENT_OPEN);
	/* The clear closes it, republishes it, and adds nothing else. */
	cep_incidents_signal(t, &clear);
	cep_incidents_signal(t, &other);
	ck_assert_int_eq(cep_incidents_collect(t, out, 2), 1);
	ck_assert_int_eq(out[0]->status, CEP_INCIDENT_CLOSED);
	ck_assert_uint_eq(out[0]->evidence, 1);
	ck_assert_uint_eq(out[0]->count, 20);
	ck_assert_uint_eq(out[0]->last_seen, TS_2026 + 5000);
	ck_assert_uint_eq(out[0]->version, 2);
	/* The next alert reopens it. */
	cep_incidents_signal(t, &alert);
	ck_assert_int_eq(cep_incidents_collect(t, out, 2), 1);
	ck_assert_int_eq(out[0]->status, CEP_INCIDENT_UPDATED);
	ck_assert_uint_eq(out[0]->evidence, 2);
	cep_incidents_destroy(t);
}
END_TEST

/* Operator reports carry no address: each report (and its updates) is its
 * own incident, not one per collector. */
START_TEST(incident_reports_without_address_join_by_report_id)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	struct cep_signal a = scan_signal("reports", CEP_REL_B, 2, TS_2026, 1);
	struct cep_signal b = a, a2 = a;

	a.key[0] = b.key[0] = a2.key[0] = '\0';
	a.origin = b.origin = a2.origin = CEP_SIGNAL_DETECTION;
	a.ev.src_af = b.ev.src_af = a2.ev.src_af = 0;
	snprintf(a.ev.report_id, sizeof a.ev.report_id, "R-BANK-1");
	snprintf(a2.ev.report_id, sizeof a2.ev.report_id, "R-BANK-1");
	snprintf(b.ev.report_id, sizeof b.ev.report_id, "R-RAIL-7");
	cep_incidents_signal(t, &a);
	cep_incidents_signal(t, &b);
	cep_incidents_signal(t, &a2);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 2);
	ck_assert_str_eq(out[0]->key, "report_id=R-BANK-1");
	ck_assert_uint_eq(out[0]->evidence, 2);
	ck_assert_str_eq(out[1]->key, "report_id=R-RAIL-7");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_detection_hits_about_different_hosts_stay_apart)
{
	struct cep_incidents *t = table();
	struct cep_signal a = scan_signal("tap", CEP_REL_B, 2, TS_2026, 1);
	a.key[0] = '\0'; /* a detection rule without group-by */
	struct cep_signal b = a;
	cep_ip_parse("192.0.2.99", b.ev.src_ip);
	cep_incidents_signal(t, &a);
	cep_incidents_signal(t, &a);
	cep_incidents_signal(t, &b);
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	struct cep_incident *out[2];
	ck_assert_int_eq(cep_incidents_collect(t, out, 2), 2);
	ck_assert_str_eq(out[0]->key, "src_ip=198.51.100.23");
	ck_assert_str_eq(out[1]->key, "src_ip=192.0.2.99");
	cep_incidents_destroy(t);
}
END_TEST

static Suite *incident_suite(void)
{
	Suite *s = suite_create("incident");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, incident_signals_with_one_key_join_one_incident);
	tcase_add_test(tc, incident_same_source_repeated_does_not_raise_confidence);
	tcase_add_test(tc, incident_independent_sources_raise_confidence_within_bounds);
	tcase_add_test(tc, incident_priority_follows_severity_and_sector);
	tcase_add_test(tc, incident_tlp_is_the_strictest_of_the_evidence);
	tcase_add_test(tc, incident_ids_continue_after_a_restart);
	tcase_add_test(tc, incident_message_has_the_design_fields);
	tcase_add_test(tc, incident_exercise_goes_to_exercise_streams);
	tcase_add_test(tc, incident_table_grows_past_many_keys);
	tcase_add_test(tc, incident_ids_never_repeat_when_years_interleave);
	tcase_add_test(tc, incident_final_signal_updates_count_without_new_evidence);
	tcase_add_test(tc, incident_detection_hits_about_different_hosts_stay_apart);
	tcase_add_test(tc, incident_clear_signal_closes_without_evidence_and_alert_reopens);
	tcase_add_test(tc, incident_reports_without_address_join_by_report_id);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(incident_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
