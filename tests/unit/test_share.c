/*
 * test_share.c - who may see an incident (engine/core/share.h): marking,
 * concerned sectors (own, predicted, system class), handling
 * arrangements, TLP:RED recipients.  The streams themselves are the
 * sharing integration scenario's business.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/incident.h"
#include "core/sectors.h"
#include "core/share.h"

#define B(s) CEP_SECTOR_BIT(CEP_SECTOR_##s)
#define ALL 0x7ffu

static struct cep_sectors *graph(void)
{
	struct cep_sectors *g = NULL;
	ck_assert_int_eq(cep_sectors_load("rules/sectors.yml", stderr, &g), 0);
	return g;
}

/* An electricity outage predicted to reach telecom and water. */
static struct cep_incident outage(int tlp)
{
	struct cep_incident inc;
	memset(&inc, 0, sizeof inc);
	inc.sector = CEP_SECTOR_ELECTRICITY;
	inc.tlp = (uint8_t)tlp;
	inc.nimpact = 2;
	inc.impact[0].sector = CEP_SECTOR_TELECOM;
	inc.impact[1].sector = CEP_SECTOR_WATER;
	return inc;
}

START_TEST(share_green_goes_to_every_concerned_sector_and_the_council)
{
	struct cep_incident inc = outage(CEP_TLP_GREEN);
	struct cep_share_plan p;

	cep_share_plan(&inc, NULL, B(ELECTRICITY), &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY) | B(TELECOM) | B(WATER));
	ck_assert(p.council);
	ck_assert_uint_eq(p.withheld, 0);
	/* Early warnings need an arrangement, whatever the marking. */
	ck_assert_uint_eq(p.advisories, 0);
	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.advisories, B(TELECOM) | B(WATER));
}
END_TEST

START_TEST(share_amber_goes_only_to_sectors_under_an_arrangement)
{
	struct cep_share_plan p;
	struct cep_incident inc = outage(CEP_TLP_AMBER);

	cep_share_plan(&inc, NULL, B(ELECTRICITY) | B(WATER) | B(FINANCE), &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY) | B(WATER));
	ck_assert_uint_eq(p.withheld, B(TELECOM));
	ck_assert_uint_eq(p.advisories, B(WATER));
	ck_assert(p.council);
	/* Its own sector always gets it: the arrangement governs where
	 * else it goes. */
	cep_share_plan(&inc, NULL, B(WATER), &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY) | B(WATER));
	ck_assert_uint_eq(p.withheld, B(TELECOM));
}
END_TEST

/* TLP 2.0: AMBER+STRICT stays within the recipient organisation. */
START_TEST(share_amber_strict_stays_in_its_own_sector)
{
	struct cep_share_plan p;
	struct cep_incident inc = outage(CEP_TLP_AMBER_STRICT);

	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY));
	ck_assert(!p.council);
	ck_assert_uint_eq(p.advisories, 0);
}
END_TEST

START_TEST(share_a_system_class_reaches_the_sectors_that_run_it)
{
	struct cep_sectors *g = graph();
	struct cep_incident inc;
	struct cep_share_plan p;

	memset(&inc, 0, sizeof inc);
	inc.sector = CEP_SECTOR_ELECTRICITY; /* a SCADA product advisory */
	inc.system = CEP_SYSTEM_PLANT_CONTROL;
	inc.tlp = CEP_TLP_GREEN;
	cep_share_plan(&inc, g, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY) | B(GAS));
	inc.system = CEP_SYSTEM_BANKING_CORE;
	inc.sector = CEP_SECTOR_FINANCE;
	cep_share_plan(&inc, g, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(FINANCE));
	/* Without a graph there is no class map: its own sector. */
	inc.system = CEP_SYSTEM_REMOTE_MONITORING;
	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(FINANCE));
	cep_share_plan(&inc, g, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(FINANCE) | B(GAS) | B(WATER));
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(share_red_goes_only_to_the_named_recipients)
{
	struct cep_incident inc = outage(CEP_TLP_RED);
	struct cep_share_plan p;

	/* No RED evidence recorded (a caller's own incident): its own sector
	 * only; never the council, predicted sectors or advisories. */
	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(ELECTRICITY));
	ck_assert(!p.council);
	ck_assert_uint_eq(p.advisories, 0);
	inc.red_to = (uint16_t)(B(FINANCE) | B(RAIL) | CEP_INCIDENT_RED_SET);
	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.incidents, B(FINANCE) | B(RAIL));
	ck_assert(!p.council);
	/* A named recipient without an arrangement gets nothing. */
	cep_share_plan(&inc, NULL, B(FINANCE), &p);
	ck_assert_uint_eq(p.incidents, B(FINANCE));
	ck_assert_uint_eq(p.withheld, B(RAIL));
	/* Pieces that name no common recipient: nowhere. */
	inc.red_to = (uint16_t)CEP_INCIDENT_RED_SET;
	cep_share_plan(&inc, NULL, ALL, &p);
	ck_assert_uint_eq(p.incidents, 0);
	ck_assert_uint_eq(p.withheld, B(ELECTRICITY));
}
END_TEST

static Suite *share_suite(void)
{
	Suite *s = suite_create("share");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, share_green_goes_to_every_concerned_sector_and_the_council);
	tcase_add_test(tc, share_amber_goes_only_to_sectors_under_an_arrangement);
	tcase_add_test(tc, share_amber_strict_stays_in_its_own_sector);
	tcase_add_test(tc, share_a_system_class_reaches_the_sectors_that_run_it);
	tcase_add_test(tc, share_red_goes_only_to_the_named_recipients);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(share_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
