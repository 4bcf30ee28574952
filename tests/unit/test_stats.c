/*
 * test_stats.c - incident statistics (engine/publish/stats.h): buckets,
 * the identity an incident is counted by, and the attribution rule for IT
 * failures following another sector's outage.  What reaches Redis is the
 * stats integration scenario's business.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "publish/stats.h"

#define S 1000000000ull
#define T0 (1772438400ull * S) /* 2026-03-02T08:00:00Z */

static struct cep_incident outage(int sector, int to, uint32_t delay_s)
{
	struct cep_incident inc;
	memset(&inc, 0, sizeof inc);
	strcpy(inc.rule_id, "report");
	strcpy(inc.key, "report_id=EL-1");
	inc.version = 1;
	inc.sector = (uint8_t)sector;
	inc.type = CEP_TYPE_POWER_LOSS;
	inc.first_seen = inc.last_seen = T0;
	inc.nimpact = 1;
	inc.impact[0].sector = (uint8_t)to;
	inc.impact[0].delay_s = delay_s;
	inc.impact[0].impact = 0.5;
	return inc;
}

static struct cep_incident failure(int sector, int type, uint64_t at)
{
	struct cep_incident inc;
	memset(&inc, 0, sizeof inc);
	strcpy(inc.rule_id, "report");
	strcpy(inc.key, "report_id=X");
	inc.version = 1;
	inc.sector = (uint8_t)sector;
	inc.type = (uint8_t)type;
	inc.first_seen = inc.last_seen = at;
	return inc;
}

START_TEST(stats_buckets_are_the_utc_hour_and_day_of_first_seen)
{
	char b[24];
	ck_assert_str_eq(cep_stats_bucket(T0 + 3599 * S, 1, b, sizeof b),
			 "h:2026030208");
	ck_assert_str_eq(cep_stats_bucket(T0 + 3600 * S, 1, b, sizeof b),
			 "h:2026030209");
	ck_assert_str_eq(cep_stats_bucket(T0, 0, b, sizeof b), "d:20260302");
}
END_TEST

START_TEST(stats_identity_ignores_the_id_and_follows_rule_key_and_time)
{
	struct cep_incident a = outage(CEP_SECTOR_ELECTRICITY,
				       CEP_SECTOR_TELECOM, 7200);
	struct cep_incident b = a;
	char ia[17], ib[17];
	strcpy(a.id, "P1-2026-000001");
	strcpy(b.id, "P1-2026-000002");
	b.version = 3;
	ck_assert_str_eq(cep_stats_identity("s", &a, ia),
			 cep_stats_identity("s", &b, ib));
	b.first_seen++;
	ck_assert_str_ne(cep_stats_identity("s", &a, ia),
			 cep_stats_identity("s", &b, ib));
	b = a;
	strcpy(b.key, "report_id=EL-2");
	ck_assert_str_ne(cep_stats_identity("s", &a, ia),
			 cep_stats_identity("s", &b, ib));
	ck_assert_str_ne(cep_stats_identity("s", &a, ia),
			 cep_stats_identity("t", &a, ib));
}
END_TEST

START_TEST(stats_attributes_an_it_failure_inside_the_predicted_window)
{
	struct cep_stats *s;
	ck_assert_int_eq(cep_stats_create(NULL, &s), 0);
	struct cep_incident o = outage(CEP_SECTOR_ELECTRICITY,
				       CEP_SECTOR_TELECOM, 7200);
	struct cep_incident f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_COMM_LOSS,
					T0 + 600 * S);
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1); /* no outage yet */
	cep_stats_note(s, &o);
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_ELECTRICITY);
	/* At the end of the window (delay + slack) and just past it. */
	f.first_seen = T0 + (7200ull + CEP_STATS_ATTRIB_SLACK_S) * S;
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_ELECTRICITY);
	f.first_seen += S;
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	/* A later version of the outage, seen later, stretches the window. */
	o.last_seen = T0 + 86400 * S;
	o.version = 2;
	cep_stats_note(s, &o);
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_ELECTRICITY);
	/* Before the outage: not caused by it. */
	f.first_seen = T0 - S;
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	cep_stats_destroy(s);
}
END_TEST

START_TEST(stats_attributes_only_it_failures_of_a_predicted_other_sector)
{
	struct cep_stats *s;
	ck_assert_int_eq(cep_stats_create(NULL, &s), 0);
	struct cep_incident o = outage(CEP_SECTOR_ELECTRICITY,
				       CEP_SECTOR_TELECOM, 7200);
	cep_stats_note(s, &o);
	uint64_t at = T0 + 600 * S;
	struct cep_incident f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_MISCONFIG, at);
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_ELECTRICITY);
	f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_SCAN, at); /* cyber */
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_FLOOD, at); /* no IT effect */
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	f = failure(CEP_SECTOR_WATER, CEP_TYPE_COMM_LOSS, at); /* not predicted */
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	f = failure(CEP_SECTOR_ELECTRICITY, CEP_TYPE_DEFECT, at); /* own sector */
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_COMM_LOSS, at);
	f.exercise = 1;
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	/* An exercise outage attributes nothing. */
	cep_stats_destroy(s);
	ck_assert_int_eq(cep_stats_create(NULL, &s), 0);
	o.exercise = 1;
	cep_stats_note(s, &o);
	f.exercise = 0;
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	cep_stats_destroy(s);
}
END_TEST

START_TEST(stats_names_the_outage_with_the_strongest_impact)
{
	struct cep_stats *s;
	ck_assert_int_eq(cep_stats_create(NULL, &s), 0);
	struct cep_incident a = outage(CEP_SECTOR_ELECTRICITY,
				       CEP_SECTOR_FINANCE, 7200);
	struct cep_incident b = outage(CEP_SECTOR_TELECOM, CEP_SECTOR_FINANCE,
				       3600);
	strcpy(b.key, "report_id=TC-1");
	b.impact[0].impact = 0.8;
	cep_stats_note(s, &a);
	cep_stats_note(s, &b);
	struct cep_incident f = failure(CEP_SECTOR_FINANCE, CEP_TYPE_DEFECT,
					T0 + 60 * S);
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_TELECOM);
	cep_stats_destroy(s);
}
END_TEST

START_TEST(stats_forgets_the_oldest_outage_past_the_table_size)
{
	struct cep_stats *s;
	ck_assert_int_eq(cep_stats_create(NULL, &s), 0);
	struct cep_incident o = outage(CEP_SECTOR_ELECTRICITY,
				       CEP_SECTOR_TELECOM, 7200);
	cep_stats_note(s, &o);
	for (int i = 0; i < CEP_STATS_OUTAGES; i++) {
		struct cep_incident x = outage(CEP_SECTOR_GAS, CEP_SECTOR_WATER,
					       60);
		snprintf(x.key, sizeof x.key, "report_id=G-%d", i);
		cep_stats_note(s, &x);
	}
	struct cep_incident f = failure(CEP_SECTOR_TELECOM, CEP_TYPE_COMM_LOSS,
					T0 + 60 * S);
	ck_assert_int_eq(cep_stats_attribution(s, &f), -1);
	f.sector = CEP_SECTOR_WATER;
	ck_assert_int_eq(cep_stats_attribution(s, &f), CEP_SECTOR_GAS);
	cep_stats_destroy(s);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, stats_buckets_are_the_utc_hour_and_day_of_first_seen);
	tcase_add_test(tc, stats_identity_ignores_the_id_and_follows_rule_key_and_time);
	tcase_add_test(tc, stats_attributes_an_it_failure_inside_the_predicted_window);
	tcase_add_test(tc, stats_attributes_only_it_failures_of_a_predicted_other_sector);
	tcase_add_test(tc, stats_names_the_outage_with_the_strongest_impact);
	tcase_add_test(tc, stats_forgets_the_oldest_outage_past_the_table_size);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
