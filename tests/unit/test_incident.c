/*
 * test_incident.c - joining signals, confidence, priority, ids, messages.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/incident.h"
#include "core/sectors.h"

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

static struct cep_incidents *table_horizon(uint64_t horizon_ns)
{
	struct cep_incidents_config cfg = { .horizon_ns = horizon_ns };
	struct cep_incidents *t;
	ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
	return t;
}

static struct cep_sectors *default_graph(void);
static struct cep_incidents *table_with(const struct cep_sectors *g);

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

/* A rule's tlp_lower_to lowers its own evidence's marking before the
 * strictest wins; RED evidence is never lowered, and its recipients are
 * the incident's. */
START_TEST(incident_tlp_lower_to_and_red_recipients)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = scan_signal("feed", CEP_REL_B, 2, TS_2026, 20);
	a.ev.tlp = CEP_TLP_AMBER_STRICT;
	a.tlp_lower = CEP_TLP_GREEN;
	cep_incidents_signal(t, &a);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->tlp, CEP_TLP_GREEN);
	ck_assert_uint_eq(out[0]->red_to, 0);

	struct cep_signal b = scan_signal("tap", CEP_REL_B, 2, TS_2026 + 1, 20);
	b.ev.tlp = CEP_TLP_AMBER; /* no lowering on this rule */
	cep_incidents_signal(t, &b);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->tlp, CEP_TLP_AMBER);

	struct cep_signal c = scan_signal("report", CEP_REL_B, 2, TS_2026 + 2, 20);
	c.ev.tlp = CEP_TLP_RED;
	c.tlp_lower = CEP_TLP_CLEAR;
	cep_event_set_recipients(&c.ev, CEP_SECTOR_BIT(CEP_SECTOR_FINANCE));
	cep_incidents_signal(t, &c);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->tlp, CEP_TLP_RED);
	ck_assert_uint_eq(out[0]->red_to, CEP_SECTOR_BIT(CEP_SECTOR_FINANCE) |
					  CEP_INCIDENT_RED_SET);
	/* A second RED piece naming finance and rail: still finance only
	 * (where both may go); one naming no one (its own sector, telecom):
	 * nowhere. */
	struct cep_signal d = c;
	d.first_ts = d.last_ts = TS_2026 + 3;
	cep_event_set_recipients(&d.ev, CEP_SECTOR_BIT(CEP_SECTOR_FINANCE) |
					CEP_SECTOR_BIT(CEP_SECTOR_RAIL));
	cep_incidents_signal(t, &d);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->red_to, CEP_SECTOR_BIT(CEP_SECTOR_FINANCE) |
					  CEP_INCIDENT_RED_SET);
	struct cep_signal f = c;
	f.first_ts = f.last_ts = TS_2026 + 4;
	cep_event_set_recipients(&f.ev, 0);
	cep_incidents_signal(t, &f);
	cep_incidents_collect(t, out, 1);
	ck_assert_uint_eq(out[0]->red_to, CEP_INCIDENT_RED_SET);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(incident_ids_continue_after_a_restart)
{
	char dir[] = "/tmp/ceptor-incident-XXXXXX", path[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/incident-ids", dir);
	struct cep_incidents_config cfg = { .state_path = path };
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
	struct cep_incidents_config cfg = { .state_path = path };
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

/* An operator's name groups its evidence but never leaves in a message. */
START_TEST(incident_reporters_are_not_named_in_messages)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	static char json[CEP_INCIDENT_JSON_MAX];
	struct cep_signal a = scan_signal("reports", CEP_REL_B, 2, TS_2026, 1);
	struct cep_signal b = a, c = a;

	snprintf(a.ev.reporter, sizeof a.ev.reporter, "Bank of Example");
	snprintf(b.ev.reporter, sizeof b.ev.reporter, "Rail Example Co");
	snprintf(c.ev.source, sizeof c.ev.source, "tap-edge");
	cep_incidents_signal(t, &a);
	cep_incidents_signal(t, &b);
	cep_incidents_signal(t, &c);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->nsources, 3);
	ck_assert_int_gt(cep_incident_to_json(out[0], "s1", NULL, json, sizeof json), 0);
	ck_assert_ptr_null(strstr(json, "Bank of Example"));
	ck_assert_ptr_null(strstr(json, "Rail Example Co"));
	ck_assert_ptr_nonnull(strstr(json, "\"reporter-1\""));
	ck_assert_ptr_nonnull(strstr(json, "\"reporter-2\""));
	ck_assert_ptr_nonnull(strstr(json, "\"tap-edge\""));
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

/* ---- confidence: the properties of incident.h's model ------------------- */

/* The model, written again from the README, to check the engine against. */
static const double R_[] = { 0.5, 1.0, 0.8, 0.6, 0.4, 0.2, 0.5 };
static const double C_[] = { 0.5, 0.95, 0.8, 0.6, 0.4, 0.2, 0.5 };

static double model_decay(double age_s)
{
	return pow(1.0 + age_s / 43200.0, -2.0);
}

#define HOUR 3600000000000ull

/* A port-scan signal from collector `source` relaying `reporter` (or
 * nobody), whose evidence ends at last. */
static struct cep_signal conf_signal(const char *source, const char *reporter,
				     int rel, int cred, uint64_t last)
{
	struct cep_signal s = scan_signal(source, rel, cred, last - 1000, 20);
	if (reporter)
		snprintf(s.ev.reporter, sizeof s.ev.reporter, "%s", reporter);
	return s;
}

static double confidence_of(struct cep_incidents *t)
{
	struct cep_incident *out[1];
	/* The model, not the rate limit, is under test: read every change. */
	cep_incidents_flush(t);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert(out[0]->confidence >= 0.0 && out[0]->confidence <= 1.0);
	return out[0]->confidence;
}

/* xorshift64*: the same seed gives the same case on every machine. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

START_TEST(confidence_rises_strictly_with_each_independent_source)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		struct cep_incidents *t = table();
		uint64_t ref = TS_2026 + 7 * 24 * HOUR;
		/* The first source sets the reference; the others are no later,
		 * so they cannot age what is already there. */
		struct cep_signal s = conf_signal("tap", NULL, 1 + (int)(rnd(&x) % 6),
						  (int)(rnd(&x) % 7), ref);
		cep_incidents_signal(t, &s);
		double last = confidence_of(t);
		for (int i = 1; i < CEP_INCIDENT_MAX_SOURCES; i++) {
			char name[16];
			snprintf(name, sizeof name, "src-%d", i);
			uint64_t age = rnd(&x) % (48 * HOUR);
			s = conf_signal(name, NULL, (int)(rnd(&x) % 7),
					(int)(rnd(&x) % 7), ref - age);
			cep_incidents_signal(t, &s);
			double now = confidence_of(t);
			ck_assert_msg(now > last || (last == 1.0 && now == 1.0),
				      "seed %llu, source %d: %.17g after %.17g",
				      (unsigned long long)seed, i, now, last);
			last = now;
		}
		cep_incidents_destroy(t);
	}
}
END_TEST

START_TEST(confidence_same_source_repeated_is_never_higher)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		struct cep_incidents *t = table();
		uint64_t ref = TS_2026 + 24 * HOUR;
		int rel = 1 + (int)(rnd(&x) % 6), cred = 1 + (int)(rnd(&x) % 6);
		struct cep_signal other = conf_signal("flow", NULL, CEP_REL_C, 3,
						      ref - rnd(&x) % (12 * HOUR));
		struct cep_signal mine = conf_signal("tap", NULL, rel, cred, ref);
		cep_incidents_signal(t, &other);
		cep_incidents_signal(t, &mine);
		double before = confidence_of(t);
		for (int i = 0; i < 20; i++) {
			/* The same source again: no better grades, any time up
			 * to a day later. */
			struct cep_signal again = conf_signal(
				"tap", NULL, rel + (int)(rnd(&x) % (7 - rel)),
				cred + (int)(rnd(&x) % (7 - cred)),
				ref - 12 * HOUR + rnd(&x) % (36 * HOUR));
			cep_incidents_signal(t, &again);
			double now = confidence_of(t);
			ck_assert_msg(now <= before, "seed %llu: %.17g after %.17g",
				      (unsigned long long)seed, now, before);
			before = now;
		}
		cep_incidents_destroy(t);
	}
	/* Alone, a source stays at exactly its own weight. */
	struct cep_incidents *t = table();
	for (int i = 0; i < 10; i++) {
		struct cep_signal s = conf_signal("tap", NULL, CEP_REL_C, 3,
						  TS_2026 + (uint64_t)i * HOUR);
		cep_incidents_signal(t, &s);
		ck_assert_double_eq(confidence_of(t), 0.6 * 0.6);
	}
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_older_evidence_weighs_less_and_fresh_evidence_restarts_it)
{
	double last = 2.0;
	for (int h = 0; h <= 24 * 14; h += 7) {
		struct cep_incidents *t = table();
		uint64_t ref = TS_2026 + 30 * 24 * HOUR;
		struct cep_signal now = conf_signal("tap", NULL, CEP_REL_B, 2, ref);
		struct cep_signal old = conf_signal("feed", NULL, CEP_REL_A, 1,
						    ref - (uint64_t)h * HOUR);
		cep_incidents_signal(t, &now);
		cep_incidents_signal(t, &old);
		double c = confidence_of(t);
		ck_assert_msg(c < last, "%d h: %.17g, younger %.17g", h, c, last);
		/* Two sources agree: both at credibility 2. */
		double want = 1.0 - (1.0 - 0.8 * 0.8) *
			(1.0 - 1.0 * 0.95 * model_decay(h * 3600.0));
		ck_assert_double_eq_tol(c, want, 1e-12);
		last = c;
		/* The old source speaks again: its decay starts afresh. */
		struct cep_signal fresh = conf_signal("feed", NULL, CEP_REL_A, 1, ref);
		cep_incidents_signal(t, &fresh);
		ck_assert_double_eq_tol(confidence_of(t),
					1.0 - (1.0 - 0.64) * (1.0 - 0.95), 1e-12);
		cep_incidents_destroy(t);
	}
}
END_TEST

/* A random set of evidence about one incident: the first signal opens it,
 * the rest (support from a handful of upstreams, some through two
 * collectors, some window finals, clears and explicit contradictions) come
 * in any order. */
enum { ITEM_SIGNAL, ITEM_CONTRADICT };
struct item {
	int what;
	struct cep_signal s;
	char upstream[16];
	double weight;
	uint64_t ts;
};

static int random_case(uint64_t *x, struct item *it, int max, bool finals_and_clears)
{
	static const char *collectors[] = { "tap", "flow", "feed", "relay-1", "relay-2" };
	static const char *reporters[] = { NULL, "Kanto Power", "Tokai Gas", "JP-Rail" };
	uint64_t base = TS_2026 + 90 * 24 * HOUR;
	int n = 1 + (int)(rnd(x) % (unsigned)(max - 1));
	for (int i = 0; i < n; i++) {
		memset(&it[i], 0, sizeof it[i]);
		uint64_t ts = base - rnd(x) % (72 * HOUR);
		if (i > 0 && rnd(x) % 6 == 0) {
			it[i].what = ITEM_CONTRADICT;
			snprintf(it[i].upstream, sizeof it[i].upstream, "%s",
				 collectors[rnd(x) % 5]);
			it[i].weight = (double)(rnd(x) % 1000) / 1000.0;
			it[i].ts = ts;
			continue;
		}
		it[i].what = ITEM_SIGNAL;
		it[i].s = conf_signal(collectors[rnd(x) % 5], reporters[rnd(x) % 4],
				      (int)(rnd(x) % 7), (int)(rnd(x) % 7), ts);
		it[i].s.level = (uint8_t)(1 + rnd(x) % 5);
		it[i].s.count = rnd(x) % 100;
		if (finals_and_clears && i > 0 && rnd(x) % 5 == 0)
			it[i].s.final = 1;
		if (finals_and_clears && i > 0 && rnd(x) % 7 == 0)
			it[i].s.kind = CEP_SIGNAL_CLEAR;
	}
	return n;
}

static void feed_case(struct cep_incidents *t, const struct item *it, int n)
{
	for (int i = 0; i < n; i++) {
		if (it[i].what == ITEM_SIGNAL)
			ck_assert_int_eq(cep_incidents_signal(t, &it[i].s), 0);
		else
			ck_assert_int_eq(cep_incidents_contradict(
				t, "ceptor-portscan-tcp", "src_ip=198.51.100.23",
				it[i].upstream, it[i].weight, it[i].ts), 0);
	}
}

static void shuffle_tail(uint64_t *x, struct item *it, int n)
{
	for (int i = n - 1; i > 1; i--) {
		int j = 1 + (int)(rnd(x) % (unsigned)i);
		struct item tmp = it[i];
		it[i] = it[j];
		it[j] = tmp;
	}
}

START_TEST(confidence_is_the_same_for_any_order_of_arrival)
{
	static struct item it[40];
	for (uint64_t seed = 1; seed <= 500; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		bool extras = seed % 2 == 0;
		int n = random_case(&x, it, 40, extras);
		/* Order-free within the horizon: the evidence spans 72 h. */
		struct cep_incidents *a = table_horizon(7 * 24 * HOUR);
		feed_case(a, it, n);
		struct cep_incident *ia;
		ck_assert_int_eq(cep_incidents_collect(a, &ia, 1), 1);
		char ja[CEP_INCIDENT_JSON_MAX], jb[CEP_INCIDENT_JSON_MAX];
		ck_assert_int_gt(cep_incident_to_json(ia, NULL, NULL, ja, sizeof ja), 0);
		for (int round = 0; round < 8; round++) {
			shuffle_tail(&x, it, n);
			struct cep_incidents *b = table_horizon(7 * 24 * HOUR);
			feed_case(b, it, n);
			struct cep_incident *ib;
			ck_assert_int_eq(cep_incidents_collect(b, &ib, 1), 1);
			/* Bit for bit, not within a tolerance. */
			ck_assert_msg(ia->confidence == ib->confidence,
				      "seed %llu round %d: %.17g vs %.17g",
				      (unsigned long long)seed, round,
				      ia->confidence, ib->confidence);
			ck_assert(ia->support == ib->support);
			ck_assert(ia->contradiction == ib->contradiction);
			ck_assert(ia->score == ib->score);
			ck_assert_uint_eq(ia->priority, ib->priority);
			ck_assert_uint_eq(ia->credibility, ib->credibility);
			ck_assert_uint_eq(ia->agreeing, ib->agreeing);
			ck_assert_uint_eq(ia->nsources, ib->nsources);
			for (uint32_t k = 0; k < ia->nsources; k++) {
				ck_assert_str_eq(ia->sources[k].name, ib->sources[k].name);
				ck_assert_uint_eq(ia->sources[k].rel_used, ib->sources[k].rel_used);
				ck_assert_uint_eq(ia->sources[k].cred_used, ib->sources[k].cred_used);
				ck_assert_uint_eq(ia->sources[k].last_ts, ib->sources[k].last_ts);
			}
			/* Without window finals (counted only when first) and
			 * clears (which close), the whole document is the same. */
			if (!extras) {
				ck_assert_int_gt(cep_incident_to_json(ib, NULL, NULL, jb,
								      sizeof jb), 0);
				ck_assert_str_eq(ja, jb);
			}
			cep_incidents_destroy(b);
		}
		cep_incidents_destroy(a);
	}
}
END_TEST

START_TEST(confidence_stays_a_probability)
{
	static struct item it[40];
	for (uint64_t seed = 1000; seed < 1500; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		int n = random_case(&x, it, 40, true);
		struct cep_incidents *t = table();
		feed_case(t, it, n);
		struct cep_incident *inc;
		ck_assert_int_eq(cep_incidents_collect(t, &inc, 1), 1);
		ck_assert(inc->confidence >= 0.0 && inc->confidence <= 1.0);
		ck_assert(inc->support >= 0.0 && inc->support <= 1.0);
		ck_assert(inc->contradiction >= 0.0 && inc->contradiction < 1.0);
		ck_assert(inc->confidence <= inc->support);
		cep_incidents_destroy(t);
	}
	/* Sixteen of the best sources, at once: close to 1, never past it. */
	struct cep_incidents *t = table();
	for (int i = 0; i < CEP_INCIDENT_MAX_SOURCES; i++) {
		char name[16];
		snprintf(name, sizeof name, "src-%02d", i);
		struct cep_signal s = conf_signal(name, NULL, CEP_REL_A, 1, TS_2026);
		cep_incidents_signal(t, &s);
	}
	double c = confidence_of(t);
	ck_assert(c > 0.999 && c <= 1.0);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_counts_collectors_relaying_one_reporter_once)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	struct cep_signal a = conf_signal("relay-1", "Kanto Power", CEP_REL_B, 3, TS_2026);
	struct cep_signal b = conf_signal("relay-2", "Kanto Power", CEP_REL_C, 2, TS_2026);
	cep_incidents_signal(t, &a);
	cep_incidents_signal(t, &b);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->nsources, 1);
	ck_assert_uint_eq(out[0]->agreeing, 1);
	ck_assert_str_eq(out[0]->sources[0].name, "Kanto Power");
	ck_assert_uint_eq(out[0]->sources[0].signals, 2);
	/* One upstream, its best grades: B and 2. */
	ck_assert_double_eq_tol(out[0]->confidence, 0.8 * 0.8, 1e-12);
	double once = out[0]->confidence;
	/* Another reporter through the same collector is independent. */
	struct cep_signal c = conf_signal("relay-1", "Tokai Gas", CEP_REL_B, 3, TS_2026);
	cep_incidents_signal(t, &c);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->nsources, 2);
	ck_assert(out[0]->confidence > once);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_agreement_lifts_credibility)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	const char *names[] = { "tap", "flow", "feed" };
	/* Credibility 1 needs three independent sources; 2, two. */
	const int want_cred[] = { 4, 2, 1 };
	double miss = 1.0;
	for (int i = 0; i < 3; i++) {
		struct cep_signal s = conf_signal(names[i], NULL, CEP_REL_C, 4, TS_2026);
		cep_incidents_signal(t, &s);
		cep_incidents_flush(t); /* every change, whatever the rate limit */
		ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
		ck_assert_uint_eq(out[0]->credibility, want_cred[i]);
		miss = pow(1.0 - 0.6 * C_[want_cred[i]], i + 1);
		ck_assert_double_eq_tol(out[0]->confidence, 1.0 - miss, 1e-12);
		for (int k = 0; k <= i; k++) {
			ck_assert_uint_eq(out[0]->sources[k].credibility, 4);
			ck_assert_uint_eq(out[0]->sources[k].cred_used, want_cred[i]);
		}
	}
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_contradiction_lowers_it)
{
	struct cep_incidents *t = table();
	struct signal_pair { const char *n; int r, c; } src[] = {
		{ "tap", CEP_REL_B, 2 }, { "flow", CEP_REL_C, 3 },
	};
	for (int i = 0; i < 2; i++) {
		struct cep_signal s = conf_signal(src[i].n, NULL, src[i].r, src[i].c, TS_2026);
		cep_incidents_signal(t, &s);
	}
	double before = confidence_of(t);
	ck_assert_int_eq(cep_incidents_contradict(t, "ceptor-portscan-tcp",
		"src_ip=198.51.100.23", "sinkhole-list", 0.5, TS_2026), 0);
	double after = confidence_of(t);
	ck_assert(after < before);
	ck_assert_double_eq_tol(after, before * (1.0 - 0.5), 1e-12);
	/* The same contradiction again changes nothing; a weaker one from
	 * the same upstream neither. */
	cep_incidents_contradict(t, "ceptor-portscan-tcp", "src_ip=198.51.100.23",
				 "sinkhole-list", 0.5, TS_2026);
	cep_incidents_contradict(t, "ceptor-portscan-tcp", "src_ip=198.51.100.23",
				 "sinkhole-list", 0.1, TS_2026);
	ck_assert_double_eq(confidence_of(t), after);
	/* A clear from one of the sources contradicts with its own weight. */
	struct cep_signal clear = conf_signal("tap", NULL, CEP_REL_B, 2, TS_2026);
	clear.kind = CEP_SIGNAL_CLEAR;
	cep_incidents_signal(t, &clear);
	double cleared = confidence_of(t);
	ck_assert_double_eq_tol(cleared, before * (1.0 - 0.5) * (1.0 - 0.64), 1e-12);
	/* Bad calls change nothing. */
	ck_assert_int_eq(cep_incidents_contradict(t, "ceptor-portscan-tcp",
		"src_ip=198.51.100.23", "x", 1.5, TS_2026), -EINVAL);
	ck_assert_int_eq(cep_incidents_contradict(t, "ceptor-portscan-tcp",
		"src_ip=198.51.100.23", "x", NAN, TS_2026), -EINVAL);
	ck_assert_int_eq(cep_incidents_contradict(t, "no-such-rule",
		"src_ip=198.51.100.23", "x", 0.5, TS_2026), -ENOENT);
	struct cep_incident *out[1];
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 0);
	cep_incidents_destroy(t);
}
END_TEST

/* The number a JSON document gives for "key" after the first occurrence of
 * anchor. */
static double json_number(const char *json, const char *anchor, const char *key)
{
	const char *p = strstr(json, anchor);
	ck_assert_ptr_nonnull(p);
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	p = strstr(p, k);
	ck_assert_ptr_nonnull(p);
	return strtod(p + strlen(k), NULL);
}

START_TEST(feedback_grade_steps_find_by_id_and_close)
{
	/* One Admiralty grade at a time, never past A nor E; unset and F
	 * (cannot be judged) stay. */
	ck_assert_int_eq(cep_rel_step(CEP_REL_C, -1), CEP_REL_B);
	ck_assert_int_eq(cep_rel_step(CEP_REL_C, 1), CEP_REL_D);
	ck_assert_int_eq(cep_rel_step(CEP_REL_A, -1), CEP_REL_A);
	ck_assert_int_eq(cep_rel_step(CEP_REL_B, -1), CEP_REL_A);
	ck_assert_int_eq(cep_rel_step(CEP_REL_E, 1), CEP_REL_E);
	ck_assert_int_eq(cep_rel_step(CEP_REL_D, 1), CEP_REL_E);
	ck_assert_int_eq(cep_rel_step(CEP_REL_F, -1), CEP_REL_F);
	ck_assert_int_eq(cep_rel_step(CEP_REL_NONE, 1), CEP_REL_NONE);

	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	const char *name = NULL;
	struct cep_signal s = conf_signal("tap", NULL, CEP_REL_C, 3, TS_2026);
	ck_assert_int_eq(cep_incidents_signal(t, &s), 0);
	/* No id before the first collect. */
	ck_assert_ptr_null(cep_incidents_find_id(t, "P1-2026-000001"));
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	char id[CEP_INCIDENT_ID_MAX];
	snprintf(id, sizeof id, "%s", out[0]->id);
	ck_assert_ptr_eq(cep_incidents_find_id(t, id), out[0]);
	ck_assert_ptr_null(cep_incidents_find_id(t, "P5-1999-000042"));
	ck_assert_ptr_null(cep_incidents_find_id(t, ""));

	ck_assert_int_eq(cep_incidents_reliability(t, "tap"), CEP_REL_NONE);
	ck_assert_int_eq(cep_incidents_override(t, 0, &name), CEP_REL_NONE);
	ck_assert_int_eq(cep_incidents_set_reliability(t, "tap", CEP_REL_D), 0);
	ck_assert_int_eq(cep_incidents_reliability(t, "tap"), CEP_REL_D);
	ck_assert_int_eq(cep_incidents_override(t, 0, &name), CEP_REL_D);
	ck_assert_str_eq(name, "tap");
	ck_assert_int_eq(cep_incidents_override(t, 1, &name), CEP_REL_NONE);

	/* Closing by id: republished closed, rescored with the override. */
	ck_assert_int_eq(cep_incidents_close_id(t, "P5-1999-000042"), -ENOENT);
	ck_assert_int_eq(cep_incidents_close_id(t, id), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_str_eq(out[0]->id, id);
	ck_assert_int_eq(out[0]->status, CEP_INCIDENT_CLOSED);
	ck_assert_int_eq(out[0]->sources[0].rel_used, CEP_REL_D);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_explanation_lists_every_source_with_its_numbers)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[1];
	uint64_t ref = TS_2026 + 48 * HOUR;
	struct { const char *col, *rep; int r, c; uint64_t age_h; } in[] = {
		{ "tap", NULL, CEP_REL_B, 3, 0 },
		{ "relay-1", "Kanto Power", CEP_REL_C, 2, 6 },
		{ "relay-2", "Kanto Power", CEP_REL_D, 4, 10 },
		{ "feed", NULL, CEP_REL_F, 6, 30 },
	};
	for (int i = 0; i < 4; i++) {
		struct cep_signal s = conf_signal(in[i].col, in[i].rep, in[i].r, in[i].c,
						  ref - in[i].age_h * HOUR);
		cep_incidents_signal(t, &s);
	}
	ck_assert_int_eq(cep_incidents_set_reliability(t, "feed", CEP_REL_E), 0);
	cep_incidents_contradict(t, "ceptor-portscan-tcp", "src_ip=198.51.100.23",
				 "sinkhole-list", 0.3, ref - 2 * HOUR);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	char json[CEP_INCIDENT_JSON_MAX];
	ck_assert_int_gt(cep_incident_to_json(out[0], NULL, NULL, json, sizeof json), 0);

	/* Three upstreams agree: credibility 1 for each.  Sorted by name:
	 * Kanto Power (C, best of 6 h and 10 h ago: 6 h; an operator, so
	 * published as reporter-1), feed (E by the override, 30 h),
	 * sinkhole-list (against only), tap (B, now). */
	struct { const char *name; const char *rel; double w, age_h; } want[] = {
		{ "reporter-1", "C", R_[CEP_REL_C] * C_[1], 6 },
		{ "feed", "E", R_[CEP_REL_E] * C_[1], 30 },
		{ "tap", "B", R_[CEP_REL_B] * C_[1], 0 },
	};
	double miss = 1.0, lsum = 0, e[3];
	for (int i = 0; i < 3; i++) {
		e[i] = want[i].w * model_decay(want[i].age_h * 3600.0);
		miss *= 1.0 - e[i];
		lsum += log1p(-e[i]);
	}
	double k = 0.3 * model_decay(2 * 3600.0);
	double support = 1.0 - miss, conf = support * (1.0 - k);
	ck_assert_double_eq_tol(out[0]->confidence, conf, 1e-12);
	ck_assert_double_eq_tol(out[0]->support, support, 1e-12);
	ck_assert_double_eq_tol(out[0]->contradiction, k, 1e-12);
	ck_assert_uint_eq(out[0]->nsources, 4);
	ck_assert_ptr_nonnull(strstr(json, "\"explanation\":{\"model\":\"noisy-or\""));
	ck_assert_ptr_nonnull(strstr(json, "\"agreeing\":3,\"credibility\":\"1\""));
	ck_assert_double_eq_tol(json_number(json, "\"explanation\"", "confidence"), conf, 5e-5);

	double shares = 0;
	for (int i = 0; i < 3; i++) {
		char anchor[64], head[256], ts[CEP_TIME_STRLEN];
		snprintf(anchor, sizeof anchor, "{\"upstream\":\"%s\"", want[i].name);
		snprintf(head, sizeof head,
			 "{\"upstream\":\"%s\",\"reliability\":\"%s\",%s\"credibility\":\"1\"",
			 want[i].name, want[i].rel,
			 i == 1 ? "\"reliability_override\":true," : "");
		ck_assert_msg(strstr(json, head), "%s not in %s", head, json);
		ck_assert_double_eq_tol(json_number(json, anchor, "weight"), want[i].w, 5e-5);
		ck_assert_double_eq_tol(json_number(json, anchor, "age_s"),
					want[i].age_h * 3600.0, 1e-3);
		ck_assert_double_eq_tol(json_number(json, anchor, "decay"),
					model_decay(want[i].age_h * 3600.0), 5e-5);
		ck_assert_double_eq_tol(json_number(json, anchor, "decayed"), e[i], 5e-5);
		double share = json_number(json, anchor, "share");
		ck_assert_double_eq_tol(share, support * log1p(-e[i]) / lsum, 5e-5);
		shares += share;
		cep_time_format(ref - (uint64_t)want[i].age_h * HOUR, ts);
		char last[96];
		snprintf(last, sizeof last, "\"last_evidence\":\"%s\"", ts);
		ck_assert_ptr_nonnull(strstr(strstr(json, anchor), last));
	}
	const char *against = "{\"upstream\":\"sinkhole-list\",\"contradictions\":1";
	ck_assert_msg(strstr(json, against), "%s", json);
	ck_assert_double_eq_tol(json_number(json, against, "against"), 0.3, 5e-5);
	ck_assert_double_eq_tol(json_number(json, against, "against_decayed"), k, 5e-5);
	double neg = json_number(json, against, "against_share");
	ck_assert_double_eq_tol(neg, -support * k, 5e-5);
	/* The shares add up to the confidence. */
	ck_assert_double_eq_tol(shares + neg, conf, 3e-4);
	/* The flat fields are unchanged: sources counts upstreams. */
	struct cep_incident_fieldbuf fb;
	const char *fv[2 * CEP_INCIDENT_FIELDS];
	cep_incident_fields(out[0], json, &fb, fv);
	ck_assert_str_eq(fv[2 * 11], "sources");
	ck_assert_str_eq(fv[2 * 11 + 1], "4");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_reliability_override_applies_at_the_next_change)
{
	struct cep_incidents *t = table();
	struct cep_signal s = conf_signal("tap", NULL, CEP_REL_B, 2, TS_2026);
	cep_incidents_signal(t, &s);
	ck_assert_double_eq_tol(confidence_of(t), 0.8 * 0.8, 1e-12);
	ck_assert_int_eq(cep_incidents_set_reliability(t, "tap", CEP_REL_E), 0);
	cep_incidents_signal(t, &s);
	ck_assert_double_eq_tol(confidence_of(t), 0.2 * 0.8, 1e-12);
	ck_assert_int_eq(cep_incidents_set_reliability(t, "tap", CEP_REL_NONE), 0);
	cep_incidents_signal(t, &s);
	ck_assert_double_eq_tol(confidence_of(t), 0.8 * 0.8, 1e-12);
	ck_assert_int_eq(cep_incidents_set_reliability(t, "tap", 7), -EINVAL);
	char longname[64];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ck_assert_int_eq(cep_incidents_set_reliability(t, longname, CEP_REL_A),
			 -CEP_ETOOLONG);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(confidence_worst_case_document_fits_and_drops_are_counted)
{
	/* With the widest prediction: electricity reaches every sector. */
	struct cep_sectors *g = default_graph();
	struct cep_incidents *t = table_with(g);
	struct cep_signal s = conf_signal("tap", NULL, CEP_REL_A, 1, TS_2026);
	s.type = CEP_TYPE_POWER_LOSS; /* an outage: predicted to spill over */
	s.ev.sector = CEP_SECTOR_ELECTRICITY;
	s.ev.system = CEP_SYSTEM_WAREHOUSE_MANAGEMENT;
	/* Every text at its longest, all of it escaped as \u00XX. */
	memset(s.rule_id, 1, sizeof s.rule_id - 1);
	memset(s.title, 1, sizeof s.title - 1);
	memset(s.key, 1, sizeof s.key - 1);
	for (int i = 0; i < CEP_INCIDENT_MAX_SOURCES + 3; i++) {
		memset(s.ev.reporter, 1, sizeof s.ev.reporter - 1);
		s.ev.reporter[0] = (char)('A' + i);
		s.kind = CEP_SIGNAL_ALERT;
		cep_incidents_signal(t, &s);
		s.kind = CEP_SIGNAL_CLEAR;
		cep_incidents_signal(t, &s);
	}
	struct cep_incident *out[1];
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->nsources, CEP_INCIDENT_MAX_SOURCES);
	ck_assert_uint_eq(out[0]->dropped_sources, 6);
	static char json[CEP_INCIDENT_JSON_MAX];
	int len = cep_incident_to_json(out[0], "site-with-a-long-name", "stream",
				       json, sizeof json);
	ck_assert_int_gt(len, 0);
	ck_assert_int_lt(len, 24 * 1024);
	ck_assert_ptr_nonnull(strstr(json, "\"dropped_sources\":6"));
	ck_assert_uint_eq(out[0]->nimpact, CEP_INCIDENT_IMPACT_MAX);

	/* An entity's incident: the longest entity and every rule slot with
	 * the longest id, all escaped. */
	struct cep_incidents *e = table_with(g);
	struct cep_signal r = s;
	r.kind = CEP_SIGNAL_ALERT;
	memcpy(r.key, "indicator=", 10);
	for (int i = 0; i < CEP_INCIDENT_MAX_RULES + 2; i++) {
		r.rule_id[0] = (char)('A' + i);
		for (int k = 0; k < CEP_INCIDENT_MAX_SOURCES; k++) {
			r.ev.reporter[0] = (char)('A' + k);
			cep_incidents_signal(e, &r);
		}
	}
	struct cep_incident *eo[1];
	ck_assert_int_eq(cep_incidents_collect(e, eo, 1), 1);
	ck_assert_uint_eq(eo[0]->nrules, CEP_INCIDENT_MAX_RULES);
	ck_assert_uint_eq(eo[0]->dropped_rules, 2 * CEP_INCIDENT_MAX_SOURCES);
	ck_assert_uint_eq(eo[0]->nsources, CEP_INCIDENT_MAX_SOURCES);
	ck_assert_int_eq(eo[0]->entity[0], 'i');
	len = cep_incident_to_json(eo[0], "site-with-a-long-name", "stream",
				   json, sizeof json);
	ck_assert_int_gt(len, 0);
	ck_assert_int_lt(len, 24 * 1024);
	cep_incidents_destroy(e);
	char adv[CEP_ADVISORY_JSON_MAX];
	for (size_t k = 0; k < out[0]->nimpact; k++)
		ck_assert_int_gt(cep_incident_advisory_json(out[0], k,
			"site-with-a-long-name", "ceptor-exercise:{government}:advisories",
			adv, sizeof adv), 0);
	cep_incidents_destroy(t);
	cep_sectors_destroy(g);
}
END_TEST


/* ---- the sector graph: K, B, system classes, predicted impact ---------- */

/* The fixed tables of incident.c, for the sectors these tests use. */
#define FIXED_K_TELECOM 1.0
#define FIXED_B_TELECOM 1.0
#define SEV_HIGH 0.75

/* Every sector with K 1 except telecom (0.3); finance needs telecom, so
 * telecom alone reaches anything (B 1) and the others sit at the floor. */
static struct cep_sectors *small_graph(void)
{
	static char text[8192];
	size_t used = (size_t)snprintf(text, sizeof text,
				       "version: 1\nsectors:\n");
	for (int s = 1; s < CEP_SECTOR_COUNT; s++) {
		used += (size_t)snprintf(text + used, sizeof text - used,
					 "  %s:\n    criticality: %s\n",
					 cep_sector_name(s),
					 s == CEP_SECTOR_TELECOM ? "0.3" : "1");
		if (s == CEP_SECTOR_FINANCE)
			used += (size_t)snprintf(text + used, sizeof text - used,
						 "    needs:\n      telecom: { weight: 1, delay: 30m }\n");
	}
	used += (size_t)snprintf(text + used, sizeof text - used, "systems:\n");
	for (int sys = 1; sys < CEP_SYSTEM_COUNT; sys++)
		used += (size_t)snprintf(text + used, sizeof text - used,
					 "  %s: [%s]\n", cep_system_name(sys),
					 sys == CEP_SYSTEM_PLANT_CONTROL ? "gas, electricity"
									 : "telecom");
	ck_assert_uint_lt(used, sizeof text);
	struct cep_sectors *g = NULL;
	ck_assert_int_eq(cep_sectors_parse(text, used, "small.yml", stderr, &g), 0);
	return g;
}

static struct cep_sectors *default_graph(void)
{
	struct cep_sectors *g = NULL;
	ck_assert_int_eq(cep_sectors_load(CEP_SECTORS_DEFAULT_PATH, stderr, &g), 0);
	return g;
}

static struct cep_incidents *table_with(const struct cep_sectors *g)
{
	struct cep_incidents_config cfg = { .sectors = g };
	struct cep_incidents *t;
	ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
	return t;
}

START_TEST(sectors_score_takes_k_and_b_from_the_graph_else_the_fixed_tables)
{
	struct cep_sectors *g = small_graph();
	struct cep_incidents *fixed = table(), *graphed = table_with(g);
	struct cep_incident *a[1], *b[1];
	struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);

	s.type = CEP_TYPE_DOS; /* an outage: predicted to spill over */
	cep_incidents_signal(fixed, &s);
	cep_incidents_signal(graphed, &s);
	ck_assert_int_eq(cep_incidents_collect(fixed, a, 1), 1);
	ck_assert_int_eq(cep_incidents_collect(graphed, b, 1), 1);
	/* Same evidence, same confidence; only K * B differ. */
	ck_assert_double_eq(a[0]->confidence, b[0]->confidence);
	ck_assert_double_eq_tol(a[0]->score, SEV_HIGH * a[0]->confidence *
				FIXED_K_TELECOM * FIXED_B_TELECOM, 1e-12);
	double k = cep_sectors_criticality(g, CEP_SECTOR_TELECOM);
	double bl = cep_sectors_blast(g, CEP_SECTOR_TELECOM);
	ck_assert_double_eq_tol(k, 0.3, 1e-12);
	ck_assert_double_eq_tol(bl, 1.0, 1e-12);
	ck_assert_double_eq_tol(b[0]->score, SEV_HIGH * b[0]->confidence * k * bl,
				1e-12);
	ck_assert(b[0]->score < a[0]->score);
	ck_assert_int_eq(b[0]->priority, cep_incident_priority_of(b[0]->score));
	/* A sector nothing depends on sits at the floor. */
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_WATER), 0.5, 1e-12);

	/* Without a graph there is no prediction; with one, finance is
	 * predicted from telecom. */
	ck_assert_uint_eq(a[0]->nimpact, 0);
	ck_assert_uint_eq(a[0]->advise, 0);
	ck_assert_uint_eq(b[0]->nimpact, 1);
	ck_assert_uint_eq(b[0]->impact[0].sector, CEP_SECTOR_FINANCE);
	ck_assert_uint_eq(b[0]->impact[0].delay_s, 1800);

	/* Setting the graph on the fixed table takes effect at the next
	 * change. */
	cep_incidents_set_sectors(fixed, g);
	cep_incidents_signal(fixed, &s);
	ck_assert_int_eq(cep_incidents_collect(fixed, a, 1), 1);
	ck_assert_double_eq_tol(a[0]->score, SEV_HIGH * a[0]->confidence * k * bl,
				1e-12);
	cep_incidents_set_sectors(fixed, NULL);
	cep_incidents_signal(fixed, &s);
	ck_assert_int_eq(cep_incidents_collect(fixed, a, 1), 1);
	ck_assert_double_eq_tol(a[0]->score, SEV_HIGH * a[0]->confidence, 1e-12);
	cep_incidents_destroy(fixed);
	cep_incidents_destroy(graphed);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_default_graph_keeps_k_of_the_fixed_tables)
{
	/* The file's K is the table's (rules/sectors.yml says so): adopting
	 * it moves priorities through B only. */
	static const struct { int sector; double k; } fixed[] = {
		{ CEP_SECTOR_TELECOM, 1.0 }, { CEP_SECTOR_FINANCE, 0.9 },
		{ CEP_SECTOR_AVIATION, 0.8 }, { CEP_SECTOR_RAIL, 0.7 },
		{ CEP_SECTOR_ELECTRICITY, 1.0 }, { CEP_SECTOR_GAS, 0.8 },
		{ CEP_SECTOR_GOVERNMENT, 0.7 }, { CEP_SECTOR_MEDICAL, 0.9 },
		{ CEP_SECTOR_WATER, 0.9 }, { CEP_SECTOR_LOGISTICS, 0.6 },
		{ CEP_SECTOR_UNKNOWN, 0.5 },
	};
	struct cep_sectors *g = default_graph();
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		struct cep_incidents *t = table_with(g);
		struct cep_incident *out[1];
		struct cep_signal s = scan_signal("tap", CEP_REL_A, 1, TS_2026, 20);
		s.ev.sector = (uint8_t)fixed[i].sector;
		cep_incidents_signal(t, &s);
		ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
		ck_assert_double_eq_tol(cep_sectors_criticality(g, fixed[i].sector),
					fixed[i].k, 1e-12);
		ck_assert_double_eq_tol(out[0]->score, SEV_HIGH * out[0]->confidence *
					fixed[i].k *
					cep_sectors_blast(g, fixed[i].sector), 1e-12);
		cep_incidents_destroy(t);
	}
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_unknown_sector_takes_the_first_sector_running_the_system)
{
	struct cep_sectors *g = small_graph();
	struct cep_incidents *fixed = table(), *graphed = table_with(g);
	struct cep_incident *out[1];
	struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	char json[CEP_INCIDENT_JSON_MAX], stream[CEP_STREAM_KEY_MAX];

	s.type = CEP_TYPE_COMM_LOSS; /* an outage: predicted to spill over */
	s.ev.sector = CEP_SECTOR_UNKNOWN;
	s.ev.system = CEP_SYSTEM_PLANT_CONTROL; /* gas and electricity */
	cep_incidents_signal(graphed, &s);
	ck_assert_int_eq(cep_incidents_collect(graphed, out, 1), 1);
	/* The first in event.h order, whatever order the file lists. */
	ck_assert_uint_eq(out[0]->sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_uint_eq(out[0]->system, CEP_SYSTEM_PLANT_CONTROL);
	cep_incident_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{electricity}:incidents");
	ck_assert_int_gt(cep_incident_to_json(out[0], NULL, NULL, json, sizeof json), 0);
	ck_assert_ptr_nonnull(strstr(json, "\"system\":\"plant_control\""));
	ck_assert_double_eq_tol(out[0]->score, SEV_HIGH * out[0]->confidence *
				cep_sectors_criticality(g, CEP_SECTOR_ELECTRICITY) *
				cep_sectors_blast(g, CEP_SECTOR_ELECTRICITY), 1e-12);

	/* A known sector is never replaced; without a graph nothing maps. */
	struct cep_signal k = s;
	k.ev.sector = CEP_SECTOR_WATER;
	snprintf(k.key, sizeof k.key, "src_ip=203.0.113.7");
	cep_incidents_signal(graphed, &k);
	ck_assert_int_eq(cep_incidents_collect(graphed, out, 1), 1);
	ck_assert_uint_eq(out[0]->sector, CEP_SECTOR_WATER);
	cep_incidents_signal(fixed, &s);
	ck_assert_int_eq(cep_incidents_collect(fixed, out, 1), 1);
	ck_assert_uint_eq(out[0]->sector, CEP_SECTOR_UNKNOWN);

	/* Evidence that names the system later still moves the incident,
	 * and the prediction starts again from the new sector. */
	struct cep_signal late = s;
	snprintf(late.key, sizeof late.key, "src_ip=203.0.113.8");
	late.ev.system = CEP_SYSTEM_NONE;
	late.ev.sector = CEP_SECTOR_UNKNOWN;
	cep_incidents_signal(graphed, &late);
	ck_assert_int_eq(cep_incidents_collect(graphed, out, 1), 1);
	ck_assert_uint_eq(out[0]->sector, CEP_SECTOR_UNKNOWN);
	ck_assert_uint_eq(out[0]->nimpact, 0);
	late.ev.system = CEP_SYSTEM_NETWORK; /* telecom: finance depends on it */
	late.first_ts = late.last_ts = late.ev.ts = TS_2026 + 5000;
	cep_incidents_signal(graphed, &late);
	cep_incidents_flush(graphed); /* within the rate limit's hold */
	ck_assert_int_eq(cep_incidents_collect(graphed, out, 1), 1);
	ck_assert_uint_eq(out[0]->sector, CEP_SECTOR_TELECOM);
	ck_assert_uint_eq(out[0]->advise, 1);
	ck_assert_uint_eq(out[0]->nimpact, 1);
	cep_incidents_destroy(fixed);
	cep_incidents_destroy(graphed);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_prediction_at_first_publication_and_when_the_class_rises)
{
	struct cep_sectors *g = default_graph();
	struct cep_incidents *t = table_with(g);
	struct cep_incident *out[1];
	struct cep_signal s = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);
	struct cep_sectors_hit hit[CEP_SECTORS_MAX];

	/* A scan in electricity is no outage: nothing spills over. */
	s.ev.sector = CEP_SECTOR_ELECTRICITY;
	snprintf(s.key, sizeof s.key, "src_ip=192.0.2.99");
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->nimpact, 0);
	ck_assert_uint_eq(out[0]->advise, 0);

	s = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);
	s.type = CEP_TYPE_POWER_LOSS;
	s.ev.sector = CEP_SECTOR_ELECTRICITY;
	s.level = CEP_LEVEL_LOW;
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	int n = cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, hit, CEP_SECTORS_MAX);
	ck_assert_int_gt(n, 1);
	ck_assert_uint_eq(out[0]->advise, 1);
	ck_assert_uint_eq(out[0]->nimpact, (unsigned)n);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(out[0]->impact[i].sector, hit[i].sector);
		ck_assert_uint_eq(out[0]->impact[i].delay_s, hit[i].delay_s);
		ck_assert_double_eq(out[0]->impact[i].strength, hit[i].strength);
		ck_assert_uint_ne(out[0]->impact[i].sector, CEP_SECTOR_ELECTRICITY);
		if (i)
			ck_assert(out[0]->impact[i].impact <= out[0]->impact[i - 1].impact);
	}
	uint8_t first = out[0]->priority;

	/* The advisory: its stream, fields and expected time. */
	char stream[CEP_STREAM_KEY_MAX], json[CEP_ADVISORY_JSON_MAX];
	cep_incident_advisory_stream(out[0], out[0]->impact[0].sector, stream,
				     sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{telecom}:advisories");
	cep_incident_sector_stream(out[0], out[0]->impact[0].sector, stream,
				   sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{telecom}:incidents");
	ck_assert_int_gt(cep_incident_advisory_json(out[0], 0, "s1", NULL, json,
						    sizeof json), 0);
	ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"advisory\""));
	ck_assert_ptr_nonnull(strstr(json, "\"source_sector\":\"electricity\""));
	/* 2026-01-01T00:00:00Z + 2h */
	ck_assert_ptr_nonnull(strstr(json, "\"expected_at\":\"2026-01-01T02:00:00"));
	struct cep_advisory_fieldbuf fb;
	const char *fv[2 * CEP_ADVISORY_FIELDS];
	ck_assert_uint_eq(cep_incident_advisory_fields(out[0], 0, json, &fb, fv),
			  2 * CEP_ADVISORY_FIELDS);
	ck_assert_str_eq(fv[0], "id");
	ck_assert_str_eq(fv[1], out[0]->id);
	ck_assert_str_eq(fv[4], "sector");
	ck_assert_str_eq(fv[5], "telecom");
	ck_assert_str_eq(fv[6], "source_sector");
	ck_assert_str_eq(fv[7], "electricity");
	ck_assert_str_eq(fv[10], "expected_at");
	ck_assert_str_eq(fv[11], "2026-01-01T02:00:00.000000Z");
	ck_assert_str_eq(fv[18], "json");
	char doc[CEP_INCIDENT_JSON_MAX];
	ck_assert_int_gt(cep_incident_to_json(out[0], NULL, NULL, doc, sizeof doc), 0);
	ck_assert_ptr_nonnull(strstr(doc, "\"impact\":[{\"sector\":\"telecom\""));

	/* The same class again: the prediction stays in the document, no new
	 * advisories.  (Within the rate limit's hold: released by hand.) */
	cep_incidents_signal(t, &s);
	cep_incidents_flush(t);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(out[0]->priority, first);
	ck_assert_uint_eq(out[0]->advise, 0);
	ck_assert_uint_eq(out[0]->nimpact, (unsigned)n);

	/* A stronger, independent source raises the class: advise again. */
	struct cep_signal hi = scan_signal("sensor-2", CEP_REL_A, 1, TS_2026, 20);
	hi.ev.sector = CEP_SECTOR_ELECTRICITY;
	hi.level = CEP_LEVEL_CRITICAL;
	cep_incidents_signal(t, &hi);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_lt(out[0]->priority, first);
	ck_assert_uint_eq(out[0]->advise, 1);
	ck_assert_uint_eq(out[0]->version, 3);

	/* Exercises advise on exercise streams. */
	struct cep_signal ex = s;
	ex.ev.flags |= CEP_EV_EXERCISE;
	snprintf(ex.key, sizeof ex.key, "src_ip=203.0.113.9");
	cep_incidents_signal(t, &ex);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	cep_incident_advisory_stream(out[0], out[0]->impact[0].sector, stream,
				     sizeof stream);
	ck_assert_str_eq(stream, "ceptor-exercise:{telecom}:advisories");
	cep_incidents_destroy(t);
	cep_sectors_destroy(g);
}
END_TEST

/* ---- entities, horizon, lifecycle, rate limit --------------------------- */

#define MINUTE 60000000000ull
#define C2_ADDR "198.51.100.66"

/* One signal about the C2 address, as rule @rule_id with group key @key
 * (detections leave it empty), from upstream @source (or @reporter). */
static struct cep_signal c2_signal(const char *rule_id, int level,
				   const char *key, const char *source,
				   const char *reporter, int rel, int cred,
				   uint64_t ts)
{
	struct cep_signal s = scan_signal(source, rel, cred, ts, 1);
	snprintf(s.rule_id, sizeof s.rule_id, "%s", rule_id);
	snprintf(s.title, sizeof s.title, "title of %s", rule_id);
	snprintf(s.key, sizeof s.key, "%s", key);
	s.origin = key[0] ? CEP_SIGNAL_CORRELATION : CEP_SIGNAL_DETECTION;
	s.level = (uint8_t)level;
	s.type = CEP_TYPE_C2;
	s.ev.src_af = 0;
	memset(s.ev.src_ip, 0, sizeof s.ev.src_ip);
	if (reporter)
		snprintf(s.ev.reporter, sizeof s.ev.reporter, "%s", reporter);
	return s;
}

/* The sinkhole feed names the C2 as the source address of its row; the
 * flow rule groups the hosts that contact it by dst_ip; the operator's
 * report names it as an indicator.  Three rules, three upstreams. */
static void botnet_signals(struct cep_signal s[3], bool one_upstream)
{
	s[0] = c2_signal("ceptor-feed-sinkhole", CEP_LEVEL_MEDIUM, "",
			 "shadowserver-sinkhole", NULL, CEP_REL_B, 3, TS_2026);
	s[0].ev.src_af = CEP_AF_INET;
	cep_ip_parse(C2_ADDR, s[0].ev.src_ip);
	s[1] = c2_signal("ceptor-flow-c2-contacts", CEP_LEVEL_HIGH,
			 "dst_ip=" C2_ADDR, "flow-edge", NULL, CEP_REL_C, 3,
			 TS_2026 + 10 * MINUTE);
	s[2] = c2_signal("ceptor-report-c2", CEP_LEVEL_HIGH, "", "reports",
			 "Kanto Power", CEP_REL_B, 2, TS_2026 + 20 * MINUTE);
	snprintf(s[2].ev.indicator, sizeof s[2].ev.indicator, C2_ADDR);
	if (one_upstream)
		for (int i = 0; i < 3; i++) {
			snprintf(s[i].ev.source, sizeof s[i].ev.source, "tap");
			s[i].ev.reporter[0] = '\0';
			s[i].ev.reliability = CEP_REL_B;
			s[i].ev.credibility = 3;
		}
}

START_TEST(entity_botnet_c2_seen_by_three_rules_and_upstreams_is_one_incident)
{
	struct cep_signal s[3];
	struct cep_incident *out[4];
	double single_max = 0;

	botnet_signals(s, false);
	for (int i = 0; i < 3; i++) {
		struct cep_incidents *one = table();
		ck_assert_int_eq(cep_incidents_signal(one, &s[i]), 0);
		double c = confidence_of(one);
		single_max = c > single_max ? c : single_max;
		cep_incidents_destroy(one);
	}
	struct cep_incidents *t = table();
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cep_incidents_signal(t, &s[i]), 0);
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	const struct cep_incident *inc = out[0];
	ck_assert_str_eq(inc->entity, "ip:" C2_ADDR);
	ck_assert_uint_eq(inc->agreeing, 3);
	ck_assert_uint_eq(inc->evidence, 3);
	ck_assert_uint_eq(inc->credibility, 1); /* confirmed by other sources */
	ck_assert(inc->confidence > single_max);
	/* The most severe rule leads, the first among equals. */
	ck_assert_uint_eq(inc->nrules, 3);
	ck_assert_str_eq(inc->rule_id, "ceptor-flow-c2-contacts");
	ck_assert_str_eq(inc->title, "title of ceptor-flow-c2-contacts");
	ck_assert_str_eq(inc->key, "dst_ip=" C2_ADDR);
	ck_assert_uint_eq(inc->severity, CEP_LEVEL_HIGH);
	ck_assert_str_eq(inc->rules[0].id, "ceptor-feed-sinkhole");
	ck_assert_uint_eq(inc->rules[0].signals, 1);
	static char json[CEP_INCIDENT_JSON_MAX];
	ck_assert_int_gt(cep_incident_to_json(inc, NULL, NULL, json, sizeof json), 0);
	ck_assert_ptr_nonnull(strstr(json, "\"entity\":\"" C2_ADDR "\""));
	ck_assert_ptr_nonnull(strstr(json, "\"entity_key\":\"ip:" C2_ADDR "\""));
	ck_assert_ptr_nonnull(strstr(json, "\"rules\":[{\"rule\":\"ceptor-feed-sinkhole\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"rule\":\"ceptor-report-c2\",\"severity\":\"high\",\"signals\":1}"));
	/* A contradiction names one of its rules and the entity's key. */
	ck_assert_int_eq(cep_incidents_contradict(t, "ceptor-report-c2",
		"indicator=" C2_ADDR, "analyst", 0.1, TS_2026 + 20 * MINUTE), 0);
	ck_assert_int_eq(cep_incidents_contradict(t, "ceptor-other",
		"src_ip=" C2_ADDR, "analyst", 0.1, TS_2026), -ENOENT);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(entity_the_same_three_signals_from_one_upstream_do_not_raise_it)
{
	struct cep_signal s[3];
	botnet_signals(s, true);
	struct cep_incidents *one = table();
	cep_incidents_signal(one, &s[2]);
	double single = confidence_of(one);
	struct cep_incidents *t = table();
	for (int i = 0; i < 3; i++)
		cep_incidents_signal(t, &s[i]);
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	double joined = confidence_of(t);
	ck_assert_double_eq_tol(joined, single, 1e-12);
	cep_incidents_destroy(one);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(entity_keys_are_normalised)
{
	struct cep_incidents *t = table();
	const char *same[][2] = {
		{ "src_ip=2001:DB8:0::1", "dst_ip=2001:db8::1" },
		{ "indicator=Evil.Example.NET", "indicator=evil.example.net" },
		{ "addr=192.0.2.1", "indicator=192.0.2.1" },
		{ "report_id=KP-1", "report_id=KP-1" },
	};
	const char *want[] = { "ip:2001:db8::1", "indicator:evil.example.net",
			       "ip:192.0.2.1", "report:KP-1" };
	struct cep_incident *out[8];
	for (int i = 0; i < 4; i++) {
		struct cep_signal a = c2_signal("rule-a", CEP_LEVEL_LOW, same[i][0],
						"tap", NULL, CEP_REL_B, 2, TS_2026);
		struct cep_signal b = c2_signal("rule-b", CEP_LEVEL_LOW, same[i][1],
						"feed", NULL, CEP_REL_B, 2, TS_2026);
		cep_incidents_signal(t, &a);
		cep_incidents_signal(t, &b);
	}
	ck_assert_uint_eq(cep_incidents_count(t), 4);
	ck_assert_int_eq(cep_incidents_collect(t, out, 8), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(out[i]->entity, want[i]);
		ck_assert_uint_eq(out[i]->nrules, 2);
		ck_assert_str_eq(out[i]->key, same[i][0]); /* rule-a: first of equals */
	}
	cep_incidents_destroy(t);
}
END_TEST

/* An indicator list's block is an entity: the addresses inside it join
 * its incident (the most specific block wins); an address outside it, or
 * past the horizon, does not; an address with an incident of its own
 * keeps it. */
START_TEST(entity_prefix_blocks_gather_their_addresses)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[8];
	struct cep_signal list = c2_signal("ceptor-intel-list", CEP_LEVEL_MEDIUM,
					   "", "spamhaus-drop", NULL, CEP_REL_B, 2,
					   TS_2026);
	snprintf(list.ev.indicator, sizeof list.ev.indicator, "198.51.100.0/24");
	list.ev.kind = CEP_KIND_INTEL;
	list.ev.src_af = CEP_AF_INET; /* iplist: src_ip is the network */
	cep_ip_parse("198.51.100.0", list.ev.src_ip);
	struct cep_signal wide = list;
	snprintf(wide.ev.indicator, sizeof wide.ev.indicator, "198.51.0.0/16");
	cep_ip_parse("198.51.0.0", wide.ev.src_ip);
	cep_incidents_signal(t, &wide);
	cep_incidents_signal(t, &list);
	ck_assert_uint_eq(cep_incidents_count(t), 2);

	struct cep_signal hit = c2_signal("ceptor-flow-c2-contacts", CEP_LEVEL_HIGH,
					  "dst_ip=198.51.100.77", "flow-edge", NULL,
					  CEP_REL_C, 3, TS_2026 + 10 * MINUTE);
	struct cep_signal other = hit, later = hit, spelled = hit;
	snprintf(other.key, sizeof other.key, "dst_ip=198.51.7.1");
	snprintf(spelled.key, sizeof spelled.key, "prefix=198.51.100.9/24");
	cep_incidents_signal(t, &hit);     /* the /24 */
	cep_incidents_signal(t, &other);   /* only in the /16 */
	cep_incidents_signal(t, &spelled); /* the /24 named with host bits */
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	struct cep_signal outside = hit;
	snprintf(outside.key, sizeof outside.key, "dst_ip=203.0.113.5");
	cep_incidents_signal(t, &outside);
	ck_assert_uint_eq(cep_incidents_count(t), 3);
	later.first_ts = later.last_ts = TS_2026 + 30 * HOUR;
	snprintf(later.key, sizeof later.key, "dst_ip=198.51.100.78");
	cep_incidents_signal(t, &later); /* past the horizon: its own */
	ck_assert_uint_eq(cep_incidents_count(t), 4);

	ck_assert_int_eq(cep_incidents_collect(t, out, 8), 4);
	struct cep_incident *b24 = NULL, *b16 = NULL;
	for (int i = 0; i < 4; i++) {
		if (!strcmp(out[i]->entity, "prefix:198.51.100.0/24"))
			b24 = out[i];
		if (!strcmp(out[i]->entity, "prefix:198.51.0.0/16"))
			b16 = out[i];
	}
	ck_assert_ptr_nonnull(b24);
	ck_assert_ptr_nonnull(b16);
	ck_assert_uint_eq(b24->nrules, 2);
	ck_assert_uint_eq(b24->nsources, 2); /* the list and the flows */
	ck_assert_uint_eq(b16->nrules, 2);
	static char json[CEP_INCIDENT_JSON_MAX];
	ck_assert_int_gt(cep_incident_to_json(b24, NULL, NULL, json, sizeof json), 0);
	ck_assert_ptr_nonnull(strstr(json, "\"entity\":\"198.51.100.0/24\""));

	/* v6 blocks, and a /128 is an address. */
	struct cep_incidents *t6 = table();
	struct cep_signal l6 = c2_signal("ceptor-intel-list", CEP_LEVEL_MEDIUM,
					 "indicator=2001:DB8:AB::/48", "list", NULL,
					 CEP_REL_B, 2, TS_2026);
	struct cep_signal h6 = c2_signal("ceptor-flow-c2-contacts", CEP_LEVEL_HIGH,
					 "src_ip=2001:db8:ab:12::1", "flow", NULL,
					 CEP_REL_C, 3, TS_2026 + MINUTE);
	struct cep_signal a128 = c2_signal("ceptor-intel-list", CEP_LEVEL_MEDIUM,
					   "indicator=2001:db8:cd::1/128", "list",
					   NULL, CEP_REL_B, 2, TS_2026);
	cep_incidents_signal(t6, &l6);
	cep_incidents_signal(t6, &h6);
	cep_incidents_signal(t6, &a128);
	ck_assert_uint_eq(cep_incidents_count(t6), 2);
	ck_assert_int_eq(cep_incidents_collect(t6, out, 8), 2);
	ck_assert_str_eq(out[0]->entity, "prefix:2001:db8:ab::/48");
	ck_assert_uint_eq(out[0]->nrules, 2);
	ck_assert_str_eq(out[1]->entity, "ip:2001:db8:cd::1");
	cep_incidents_destroy(t6);
	cep_incidents_destroy(t);
}
END_TEST

static struct cep_signal report_signal(const char *id, const char *reporter,
				       int system, const char *software,
				       uint64_t ts)
{
	struct cep_signal s = c2_signal("ceptor-report", CEP_LEVEL_HIGH, "",
					"reports", reporter, CEP_REL_B, 2, ts);
	s.type = CEP_TYPE_INTRUSION;
	snprintf(s.ev.report_id, sizeof s.ev.report_id, "%s", id);
	s.ev.system = (uint8_t)system;
	if (software)
		snprintf(s.ev.name, sizeof s.ev.name, "%s", software);
	return s;
}

/* An operator's system (class and software) is an entity: two reports
 * about it are one incident; another operator's, another system, or a
 * report naming no software stay apart; a first fragment without a
 * system and its update that names one stay one incident. */
START_TEST(entity_operator_systems_gather_their_reports)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[8];
	struct cep_signal r1 = report_signal("KP-1", "op-1", CEP_SYSTEM_POWER_MANAGEMENT,
					     "EMS-Pro", TS_2026);
	struct cep_signal r2 = report_signal("KP-2", "op-1", CEP_SYSTEM_POWER_MANAGEMENT,
					     "EMS-Pro", TS_2026 + HOUR);
	struct cep_signal other_op = report_signal("XP-1", "op-2",
		CEP_SYSTEM_POWER_MANAGEMENT, "EMS-Pro", TS_2026 + HOUR);
	struct cep_signal other_sys = report_signal("KP-3", "op-1",
		CEP_SYSTEM_PLANT_CONTROL, "EMS-Pro", TS_2026 + HOUR);
	struct cep_signal bare = report_signal("KP-4", "op-1",
		CEP_SYSTEM_POWER_MANAGEMENT, NULL, TS_2026 + HOUR);
	struct cep_signal frag = report_signal("KP-5", "op-3", 0, NULL, TS_2026);
	struct cep_signal upd = report_signal("KP-5", "op-3", CEP_SYSTEM_PLANT_CONTROL,
					      "PlantCtl", TS_2026 + MINUTE);
	struct cep_signal *all[] = { &r1, &r2, &other_op, &other_sys, &bare,
				     &frag, &upd };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		cep_incidents_signal(t, all[i]);
	ck_assert_uint_eq(cep_incidents_count(t), 5);
	ck_assert_int_eq(cep_incidents_collect(t, out, 8), 5);
	ck_assert_str_eq(out[0]->entity, "system:power_management/EMS-Pro@op-1");
	ck_assert_uint_eq(out[0]->evidence, 2);
	ck_assert_str_eq(out[1]->entity, "system:power_management/EMS-Pro@op-2");
	ck_assert_str_eq(out[2]->entity, "system:plant_control/EMS-Pro@op-1");
	ck_assert_str_eq(out[3]->entity, "report:KP-4");
	ck_assert_str_eq(out[4]->entity, "report:KP-5");
	ck_assert_uint_eq(out[4]->evidence, 2);
	cep_incidents_destroy(t);
}
END_TEST

/* An exercise never joins real evidence, nor the reverse: the same entity
 * makes one incident of each, and each goes to its own streams. */
START_TEST(entity_exercise_and_real_evidence_stay_apart)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	struct cep_signal real = c2_signal("rule-a", CEP_LEVEL_HIGH,
					   "src_ip=192.0.2.7", "tap", NULL,
					   CEP_REL_B, 2, TS_2026);
	struct cep_signal drill = real, real2 = real;
	drill.ev.flags |= CEP_EV_EXERCISE;
	real2.first_ts = real2.last_ts = TS_2026 + MINUTE;
	cep_incidents_signal(t, &real);
	cep_incidents_signal(t, &drill);
	cep_incidents_signal(t, &real2);
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 2);
	ck_assert_uint_eq(out[0]->exercise, 0);
	ck_assert_uint_eq(out[0]->evidence, 2);
	ck_assert_uint_eq(out[1]->exercise, 1);
	ck_assert_uint_eq(out[1]->evidence, 1);
	char stream[128];
	cep_incident_stream(out[1], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor-exercise:{telecom}:incidents");
	cep_incident_stream(out[0], stream, sizeof stream);
	ck_assert_str_eq(stream, "ceptor:{telecom}:incidents");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(entity_multi_field_keys_stay_per_rule_and_key)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[8];
	const char *rules[] = { "rule-a", "rule-b" };
	for (int r = 0; r < 2; r++) {
		struct cep_signal m = c2_signal(rules[r], CEP_LEVEL_HIGH,
			"src_ip=198.51.100.40,dst_port=445", "tap", NULL, CEP_REL_B, 2,
			TS_2026);
		struct cep_signal x = c2_signal(rules[r], CEP_LEVEL_HIGH,
			"", "tap", NULL, CEP_REL_B, 2, TS_2026); /* source=tap */
		cep_incidents_signal(t, &m);
		cep_incidents_signal(t, &m);
		cep_incidents_signal(t, &x);
	}
	/* The single address joins neither of them. */
	struct cep_signal e = c2_signal("rule-a", CEP_LEVEL_HIGH,
		"src_ip=198.51.100.40", "tap", NULL, CEP_REL_B, 2, TS_2026);
	cep_incidents_signal(t, &e);
	ck_assert_uint_eq(cep_incidents_count(t), 5);
	ck_assert_int_eq(cep_incidents_collect(t, out, 8), 5);
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(out[i]->entity, "");
		ck_assert_uint_eq(out[i]->nrules, 1);
	}
	ck_assert_uint_eq(out[0]->evidence, 2);
	ck_assert_str_eq(out[1]->key, "source=tap");
	ck_assert_str_eq(out[4]->entity, "ip:198.51.100.40");
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(entity_join_ends_at_the_horizon)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	struct cep_signal s[3];
	botnet_signals(s, false);

	/* 23 h after the last evidence still joins; 24 h and a bit does not. */
	s[1].first_ts = s[1].last_ts = s[1].ev.ts = s[0].last_ts + 23 * HOUR;
	s[2].first_ts = s[2].last_ts = s[2].ev.ts = s[1].last_ts + 24 * HOUR + 1;
	cep_incidents_signal(t, &s[0]);
	cep_incidents_signal(t, &s[1]);
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	struct cep_incident *first = out[0];
	ck_assert_uint_eq(first->nrules, 2);
	cep_incidents_signal(t, &s[2]);
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_ptr_ne(out[0], first);
	ck_assert_str_ne(out[0]->id, first->id);
	ck_assert_uint_eq(out[0]->version, 1);
	ck_assert_uint_eq(out[0]->status, CEP_INCIDENT_OPEN);
	ck_assert_uint_eq(out[0]->nrules, 1);
	ck_assert_uint_eq(out[0]->first_seen, s[2].first_ts);
	ck_assert_uint_eq(first->evidence, 2); /* the old one is left alone */
	/* A configured horizon: one hour. */
	struct cep_incidents *h = table_horizon(HOUR);
	s[1].first_ts = s[1].last_ts = s[1].ev.ts = s[0].last_ts + HOUR + 1;
	cep_incidents_signal(h, &s[0]);
	cep_incidents_signal(h, &s[1]);
	ck_assert_uint_eq(cep_incidents_count(h), 2);
	cep_incidents_destroy(h);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(lifecycle_closes_after_a_quiet_period_and_evidence_reopens_it)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	uint64_t last = s.last_ts;

	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	char id[CEP_INCIDENT_ID_MAX];
	memcpy(id, out[0]->id, sizeof id);
	ck_assert_int_eq(cep_incidents_tick(t, last + 5 * HOUR), 0);
	ck_assert_int_eq(cep_incidents_tick(t, last + 6 * HOUR), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	ck_assert_int_eq(cep_incidents_tick(t, last + 6 * HOUR + 1), 1);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->status, CEP_INCIDENT_CLOSED);
	ck_assert_uint_eq(out[0]->version, 2);
	/* Published once: later ticks and collects have nothing. */
	ck_assert_int_eq(cep_incidents_tick(t, last + 8 * HOUR), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* Evidence within the horizon reopens it, at once. */
	s.first_ts = s.last_ts = s.ev.ts = last + 9 * HOUR;
	cep_incidents_signal(t, &s);
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->status, CEP_INCIDENT_UPDATED);
	ck_assert_uint_eq(out[0]->version, 3);
	ck_assert_str_eq(out[0]->id, id);
	/* Quiet again, and evidence past the horizon: a new incident. */
	ck_assert_int_eq(cep_incidents_tick(t, s.last_ts + 7 * HOUR), 1);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->status, CEP_INCIDENT_CLOSED);
	s.first_ts = s.last_ts = s.ev.ts = s.last_ts + 25 * HOUR;
	cep_incidents_signal(t, &s);
	ck_assert_uint_eq(cep_incidents_count(t), 2);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->status, CEP_INCIDENT_OPEN);
	ck_assert_uint_eq(out[0]->version, 1);
	ck_assert_str_ne(out[0]->id, id);
	/* A configured quiet period: ten minutes. */
	struct cep_incidents_config cfg = { .close_after_ns = 10 * MINUTE };
	struct cep_incidents *q;
	ck_assert_int_eq(cep_incidents_create(&cfg, &q), 0);
	cep_incidents_signal(q, &s);
	ck_assert_int_eq(cep_incidents_tick(q, s.last_ts + 10 * MINUTE + 1), 1);
	cep_incidents_destroy(q);
	cep_incidents_destroy(t);
}
END_TEST

START_TEST(rate_limit_holds_updates_unless_the_class_changes)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	const uint64_t ms = 1000000;
	struct cep_signal s = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);

	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	uint8_t before = out[0]->priority;
	s.first_ts = s.last_ts = s.ev.ts = TS_2026 + 500 * ms;
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0); /* held */
	s.first_ts = s.last_ts = s.ev.ts = TS_2026 + 900 * ms;
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* A tick moves the clock past the hold: the last state goes out. */
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 1001 * ms), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->version, 2);
	ck_assert_uint_eq(out[0]->evidence, 3);
	/* A stronger source raises the class: out at once. */
	struct cep_signal hi = scan_signal("sensor-2", CEP_REL_A, 1,
					   TS_2026 + 1100 * ms, 20);
	hi.level = CEP_LEVEL_CRITICAL;
	cep_incidents_signal(t, &hi);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_lt(out[0]->priority, before);
	ck_assert_uint_eq(out[0]->version, 3);
	/* The same class again: held, until flushed. */
	hi.first_ts = hi.last_ts = hi.ev.ts = TS_2026 + 1200 * ms;
	cep_incidents_signal(t, &hi);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	cep_incidents_flush(t);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_eq(out[0]->version, 4);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* The flush is over: the next change waits for its hold again. */
	hi.first_ts = hi.last_ts = hi.ev.ts = TS_2026 + 1300 * ms;
	cep_incidents_signal(t, &hi);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* Others are not held back by it. */
	struct cep_signal other = hi;
	snprintf(other.key, sizeof other.key, "src_ip=203.0.113.5");
	cep_incidents_signal(t, &other);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_str_eq(out[0]->key, "src_ip=203.0.113.5");
	cep_incidents_destroy(t);
}
END_TEST

/* Hand-out order is the order incidents became dirty, whether they were
 * held or not, also across partial collects; a held incident that became
 * due at once by a change of class goes out once, not again when its old
 * hold ends. */
START_TEST(collect_hands_out_in_dirty_order_and_once)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	const uint64_t ms = 1000000;
	struct cep_signal a = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);
	struct cep_signal b = a, c = a;

	snprintf(b.key, sizeof b.key, "src_ip=203.0.113.6");
	snprintf(c.key, sizeof c.key, "src_ip=203.0.113.7");
	cep_incidents_signal(t, &a);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	/* a is held (dirty first), then b and c are new. */
	a.first_ts = a.last_ts = a.ev.ts = TS_2026 + 100 * ms;
	cep_incidents_signal(t, &a);
	b.first_ts = b.last_ts = b.ev.ts = TS_2026 + 200 * ms;
	cep_incidents_signal(t, &b);
	c.first_ts = c.last_ts = c.ev.ts = TS_2026 + 300 * ms;
	cep_incidents_signal(t, &c);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_str_eq(out[0]->key, "src_ip=203.0.113.6");
	/* a's hold ends: it goes before c, which became dirty after it. */
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 1001 * ms), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 2);
	ck_assert_str_eq(out[0]->key, a.key);
	ck_assert_uint_eq(out[0]->version, 2);
	ck_assert_str_eq(out[1]->key, "src_ip=203.0.113.7");
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* Held again; a stronger source raises its class: out at once ... */
	a.first_ts = a.last_ts = a.ev.ts = TS_2026 + 1100 * ms;
	cep_incidents_signal(t, &a);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	struct cep_signal hi = scan_signal("sensor-2", CEP_REL_A, 1,
					   TS_2026 + 1200 * ms, 20);
	hi.level = CEP_LEVEL_CRITICAL;
	cep_incidents_signal(t, &hi);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_str_eq(out[0]->key, a.key);
	ck_assert_uint_eq(out[0]->version, 3);
	/* ... and not again when the hold it had ends. */
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 2100 * ms), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	cep_incidents_destroy(t);
}
END_TEST

/* 100,000 identical hits, 1 ms of event time apart, collected as the
 * engine does (after every 1,000 signals, then a flush at the end). */
START_TEST(rate_limit_a_burst_of_100000_hits_is_one_incident_with_few_versions)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[16];
	struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	uint32_t versions = 0, last_version = 0;
	int n;

	for (uint64_t i = 0; i < 100000; i++) {
		s.first_ts = s.last_ts = s.ev.ts = TS_2026 + i * 1000000;
		ck_assert_int_eq(cep_incidents_signal(t, &s), 0);
		if ((i + 1) % 1000)
			continue;
		while ((n = cep_incidents_collect(t, out, 16)) > 0) {
			ck_assert_int_eq(n, 1);
			ck_assert_uint_gt(out[0]->version, last_version);
			last_version = out[0]->version;
			versions++;
		}
	}
	cep_incidents_flush(t);
	while ((n = cep_incidents_collect(t, out, 16)) > 0) {
		versions++;
		ck_assert_uint_eq(out[0]->evidence, 100000);
	}
	ck_assert_uint_eq(cep_incidents_count(t), 1);
	ck_assert_uint_le(versions, 12);
	ck_assert_uint_ge(versions, 2);
	cep_incidents_destroy(t);
}
END_TEST

static unsigned id_number(const char *id)
{
	return (unsigned)strtoul(id + strlen("P1-2026-"), NULL, 10);
}

/* The number of the class a state file gives for 2026. */
static unsigned state_number(const char *path, int cls)
{
	FILE *f = fopen(path, "r");
	unsigned n[5] = { 0 };
	int year = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "ceptor-incident-ids 2 %d %u %u %u %u %u", &year,
				&n[0], &n[1], &n[2], &n[3], &n[4]), 6);
	fclose(f);
	ck_assert_int_eq(year, 2026);
	return n[cls - 1];
}

/* Ids given fast make each save reserve numbers ahead (no fsync per
 * round); a clean end gives the rest back, a crash skips them. */
START_TEST(incident_ids_reserve_ahead_when_given_fast_and_give_the_rest_back)
{
	char dir[] = "/tmp/ceptor-incident-XXXXXX", path[256], crash[300];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/incident-ids", dir);
	snprintf(crash, sizeof crash, "%s/crashed", dir);
	struct cep_incidents_config cfg = { .state_path = path };
	struct cep_incident *out[1];
	struct cep_incidents *t;
	int cls = 0;

	ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
	for (unsigned i = 1; i <= 4; i++) {
		struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
		snprintf(s.key, sizeof s.key, "src_ip=198.51.100.%u", i);
		cep_incidents_signal(t, &s);
		ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
		ck_assert_uint_eq(id_number(out[0]->id), i);
		cls = out[0]->priority;
		/* The first two saves are exact; the third, quickly after,
		 * reserves ahead, and the fourth id needs no save. */
		if (i <= 2)
			ck_assert_uint_eq(state_number(path, cls), i + 1);
	}
	unsigned reserved = state_number(path, cls);
	ck_assert_uint_gt(reserved, 5);
	/* A crash now would leave this file. */
	char cmd[700];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, crash);
	ck_assert_int_eq(system(cmd), 0);
	cep_incidents_destroy(t);
	ck_assert_uint_eq(state_number(path, cls), 5);

	/* A clean restart numbers on without a gap ... */
	ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
	struct cep_signal s = scan_signal("tap", CEP_REL_B, 2, TS_2026, 20);
	snprintf(s.key, sizeof s.key, "src_ip=198.51.100.5");
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(id_number(out[0]->id), 5);
	cep_incidents_destroy(t);
	/* ... and after the crash skips what was reserved, repeating none. */
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", crash, path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(cep_incidents_create(&cfg, &t), 0);
	cep_incidents_signal(t, &s);
	ck_assert_int_eq(cep_incidents_collect(t, out, 1), 1);
	ck_assert_uint_eq(id_number(out[0]->id), reserved);
	cep_incidents_destroy(t);
	unlink(path);
	unlink(crash);
	rmdir(dir);
}
END_TEST

/* cep_incidents_due(), which the engine asks after every batch of events:
 * yes for a new incident, no while its update is held, yes once event
 * time passes the hold or the class changes, no after the collect. */
START_TEST(rate_limit_due_says_when_a_round_would_hand_something_out)
{
	struct cep_incidents *t = table();
	struct cep_incident *out[4];
	const uint64_t ms = 1000000;
	struct cep_signal s = scan_signal("tap", CEP_REL_E, 5, TS_2026, 20);

	ck_assert(!cep_incidents_due(t, TS_2026));
	cep_incidents_signal(t, &s);
	ck_assert(cep_incidents_due(t, TS_2026));
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	uint8_t before = out[0]->priority;
	ck_assert(!cep_incidents_due(t, TS_2026 + 10 * ms));
	s.first_ts = s.last_ts = s.ev.ts = TS_2026 + 500 * ms;
	cep_incidents_signal(t, &s);
	/* Held for 1 s of event time from the publication. */
	ck_assert(!cep_incidents_due(t, TS_2026 + 600 * ms));
	ck_assert(cep_incidents_due(t, TS_2026 + 1001 * ms));
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 1001 * ms), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert(!cep_incidents_due(t, TS_2026 + 1001 * ms));
	/* A held incident whose class rises is due at once. */
	s.first_ts = s.last_ts = s.ev.ts = TS_2026 + 1100 * ms;
	cep_incidents_signal(t, &s);
	ck_assert(!cep_incidents_due(t, TS_2026 + 1100 * ms));
	struct cep_signal hi = scan_signal("sensor-2", CEP_REL_A, 1,
					   TS_2026 + 1200 * ms, 20);
	hi.level = CEP_LEVEL_CRITICAL;
	cep_incidents_signal(t, &hi);
	ck_assert(cep_incidents_due(t, TS_2026 + 1200 * ms));
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert_uint_lt(out[0]->priority, before);
	ck_assert(!cep_incidents_due(t, TS_2026 + 1200 * ms));
	/* The hold the class change cut short ends: its stale entry may
	 * make one round for nothing, which drops it. */
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 5000 * ms), 0);
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 0);
	/* Closing after the quiet period is left to the interval's rounds
	 * (tick walks the table): not due by itself, due once ticked. */
	ck_assert(!cep_incidents_due(t, TS_2026 + 7 * 3600 * 1000 * ms));
	ck_assert_int_eq(cep_incidents_tick(t, TS_2026 + 7 * 3600 * 1000 * ms), 1);
	ck_assert(cep_incidents_due(t, 0));
	ck_assert_int_eq(cep_incidents_collect(t, out, 4), 1);
	ck_assert(!cep_incidents_due(t, 0));
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
	tcase_add_test(tc, incident_tlp_lower_to_and_red_recipients);
	tcase_add_test(tc, incident_ids_continue_after_a_restart);
	tcase_add_test(tc, incident_message_has_the_design_fields);
	tcase_add_test(tc, incident_exercise_goes_to_exercise_streams);
	tcase_add_test(tc, incident_table_grows_past_many_keys);
	tcase_add_test(tc, incident_ids_reserve_ahead_when_given_fast_and_give_the_rest_back);
	tcase_add_test(tc, collect_hands_out_in_dirty_order_and_once);
	tcase_add_test(tc, incident_ids_never_repeat_when_years_interleave);
	tcase_add_test(tc, incident_final_signal_updates_count_without_new_evidence);
	tcase_add_test(tc, incident_detection_hits_about_different_hosts_stay_apart);
	tcase_add_test(tc, incident_clear_signal_closes_without_evidence_and_alert_reopens);
	tcase_add_test(tc, incident_reports_without_address_join_by_report_id);
	tcase_add_test(tc, incident_reporters_are_not_named_in_messages);
	suite_add_tcase(s, tc);
	TCase *conf = tcase_create("confidence");
	tcase_set_timeout(conf, 60);
	tcase_add_test(conf, confidence_rises_strictly_with_each_independent_source);
	tcase_add_test(conf, confidence_same_source_repeated_is_never_higher);
	tcase_add_test(conf, confidence_older_evidence_weighs_less_and_fresh_evidence_restarts_it);
	tcase_add_test(conf, confidence_is_the_same_for_any_order_of_arrival);
	tcase_add_test(conf, confidence_stays_a_probability);
	tcase_add_test(conf, confidence_counts_collectors_relaying_one_reporter_once);
	tcase_add_test(conf, confidence_agreement_lifts_credibility);
	tcase_add_test(conf, confidence_contradiction_lowers_it);
	tcase_add_test(conf, confidence_explanation_lists_every_source_with_its_numbers);
	tcase_add_test(conf, confidence_reliability_override_applies_at_the_next_change);
	tcase_add_test(conf, feedback_grade_steps_find_by_id_and_close);
	tcase_add_test(conf, confidence_worst_case_document_fits_and_drops_are_counted);
	suite_add_tcase(s, conf);
	TCase *sec = tcase_create("sectors");
	tcase_add_test(sec, sectors_score_takes_k_and_b_from_the_graph_else_the_fixed_tables);
	tcase_add_test(sec, sectors_default_graph_keeps_k_of_the_fixed_tables);
	tcase_add_test(sec, sectors_unknown_sector_takes_the_first_sector_running_the_system);
	tcase_add_test(sec, sectors_prediction_at_first_publication_and_when_the_class_rises);
	suite_add_tcase(s, sec);
	TCase *ent = tcase_create("entity");
	tcase_set_timeout(ent, 60);
	tcase_add_test(ent, entity_botnet_c2_seen_by_three_rules_and_upstreams_is_one_incident);
	tcase_add_test(ent, entity_the_same_three_signals_from_one_upstream_do_not_raise_it);
	tcase_add_test(ent, entity_keys_are_normalised);
	tcase_add_test(ent, entity_multi_field_keys_stay_per_rule_and_key);
	tcase_add_test(ent, entity_prefix_blocks_gather_their_addresses);
	tcase_add_test(ent, entity_operator_systems_gather_their_reports);
	tcase_add_test(ent, entity_exercise_and_real_evidence_stay_apart);
	tcase_add_test(ent, entity_join_ends_at_the_horizon);
	tcase_add_test(ent, lifecycle_closes_after_a_quiet_period_and_evidence_reopens_it);
	tcase_add_test(ent, rate_limit_holds_updates_unless_the_class_changes);
	tcase_add_test(ent, rate_limit_a_burst_of_100000_hits_is_one_incident_with_few_versions);
	tcase_add_test(ent, rate_limit_due_says_when_a_round_would_hand_something_out);
	suite_add_tcase(s, ent);
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
