/*
 * test_sectors.c - the sector interdependency model: loading (every
 * problem with its line), blast radius, impact prediction, restoration
 * order and the system-class mapping.
 *
 * Small graphs are written here with every sector listed (the loader
 * insists) and only the edges a test is about; the default file is
 * rules/sectors.yml, read from the top of the tree where tests/run.sh runs.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "core/sectors.h"

#define N CEP_SECTOR_COUNT
#define DEFAULT_FILE "rules/sectors.yml"

/* What the loader said about text, as one string (caller frees). */
static char *diag_of(const char *text, int *rc, struct cep_sectors **g)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	*rc = cep_sectors_parse(text, strlen(text), "test.yml", f, g);
	fclose(f);
	return out;
}

#define ck_diag_has(diag, s)                                                   \
	ck_assert_msg(strstr((diag), (s)) != NULL,                             \
		      "expected \"%s\" in:\n%s", (s), (diag))

/*
 * A whole sectors file: every sector with K 1 (or k[s] when set), the
 * edges in needs[s] (YAML lines under "needs:"), every system class run by
 * telecom.
 */
static char *graph_text(const double k[N], const char *const needs[N],
			const char *extra)
{
	static char buf[16384];
	size_t used = 0;
	used += (size_t)snprintf(buf + used, sizeof buf - used,
				 "version: 1\n%ssectors:\n", extra ? extra : "");
	for (int s = 1; s < N; s++) {
		used += (size_t)snprintf(buf + used, sizeof buf - used,
					 "  %s:\n    criticality: %g\n",
					 cep_sector_name(s),
					 k && k[s] > 0 ? k[s] : 1.0);
		if (needs && needs[s])
			used += (size_t)snprintf(buf + used, sizeof buf - used,
						 "    needs:\n%s", needs[s]);
	}
	used += (size_t)snprintf(buf + used, sizeof buf - used, "systems:\n");
	for (int sys = 1; sys < CEP_SYSTEM_COUNT; sys++)
		used += (size_t)snprintf(buf + used, sizeof buf - used,
					 "  %s: [telecom]\n", cep_system_name(sys));
	ck_assert_uint_lt(used, sizeof buf);
	return buf;
}

static struct cep_sectors *graph(const double k[N], const char *const needs[N],
				 const char *extra)
{
	int rc;
	struct cep_sectors *g = NULL;
	char *diag = diag_of(graph_text(k, needs, extra), &rc, &g);
	ck_assert_msg(rc == 0, "test graph rejected:\n%s", diag);
	free(diag);
	return g;
}

static struct cep_sectors *default_graph(void)
{
	struct cep_sectors *g = NULL;
	ck_assert_int_eq(cep_sectors_load(DEFAULT_FILE, stderr, &g), 0);
	return g;
}

/* The hit for sector s in h[0..n), or NULL. */
static const struct cep_sectors_hit *find(const struct cep_sectors_hit *h,
					  int n, int s)
{
	for (int i = 0; i < n; i++)
		if (h[i].sector == s)
			return &h[i];
	return NULL;
}

/* --- loading ------------------------------------------------------------- */

START_TEST(sectors_default_file_loads_with_every_sector_weighted)
{
	struct cep_sectors *g = default_graph();
	for (int s = 1; s < N; s++) {
		double k = cep_sectors_criticality(g, s);
		double b = cep_sectors_blast(g, s);
		ck_assert(k > 0 && k <= 1);
		ck_assert(b >= 0.5 && b <= 1);
	}
	ck_assert_double_eq_tol(cep_sectors_threshold(g), 0.05, 1e-12);
	cep_sectors_destroy(g);
}
END_TEST

static const char bad_file[] =
	"version: 1\n"                                         /* 1 */
	"sectors:\n"                                           /* 2 */
	"  telecom:\n"                                         /* 3 */
	"    criticality: 1.5\n"                               /* 4 */
	"  finance:\n"                                         /* 5 */
	"    criticality: 0.9\n"                               /* 6 */
	"    needs:\n"                                         /* 7 */
	"      telecom: { weight: 0.9, delay: -1h }\n"         /* 8 */
	"      electricity: { weight: 0 }\n"                   /* 9 */
	"      telecom: { weight: 0.5 }\n"                     /* 10 */
	"  narnia:\n"                                          /* 11 */
	"    criticality: 0.5\n"                               /* 12 */
	"  water:\n"                                           /* 13 */
	"    criticality: 0.9\n"                               /* 14 */
	"    needs:\n"                                         /* 15 */
	"      plumbing: { weight: 0.5, delay: 1h }\n"         /* 16 */
	"      electricity: { weight: 0.5, delay: soon }\n"    /* 17 */
	"systems:\n"                                           /* 18 */
	"  banking_core: [finance, atlantis]\n"                /* 19 */
	"  teleportation: [telecom]\n";                        /* 20 */

START_TEST(sectors_loader_reports_every_problem_with_its_line)
{
	int rc;
	struct cep_sectors *g = (struct cep_sectors *)1;
	char *d = diag_of(bad_file, &rc, &g);

	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_assert_ptr_null(g);
	ck_diag_has(d, "test.yml:4: criticality 1.5 is out of range");
	ck_diag_has(d, "test.yml:8: delay must not be negative");
	ck_diag_has(d, "test.yml:9: weight 0 is out of range");
	ck_diag_has(d, "test.yml:10: finance needs telecom twice (first at line 8)");
	ck_diag_has(d, "test.yml:11: unknown sector \"narnia\"");
	ck_diag_has(d, "test.yml:16: unknown sector \"plumbing\"");
	ck_diag_has(d, "test.yml:17: delay must be a duration");
	ck_diag_has(d, "test.yml:2: sector aviation missing");
	ck_diag_has(d, "test.yml:2: sector logistics missing");
	ck_diag_has(d, "test.yml:19: unknown sector \"atlantis\"");
	ck_diag_has(d, "test.yml:20: unknown system class \"teleportation\"");
	ck_diag_has(d, "test.yml:18: system class trading missing");
	free(d);
}
END_TEST

START_TEST(sectors_loader_rejects_self_dependency_duplicate_sector_and_syntax)
{
	int rc;
	struct cep_sectors *g;
	const char *needs[N] = {
		[CEP_SECTOR_WATER] = "      water: { weight: 0.5 }\n",
	};
	char *d = diag_of(graph_text(NULL, needs, NULL), &rc, &g);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_diag_has(d, "water cannot need itself");
	free(d);

	char twice[16384];
	snprintf(twice, sizeof twice, "%s", graph_text(NULL, NULL, NULL));
	char *at = strstr(twice, "systems:");
	memmove(at + 32, at, strlen(at) + 1);
	memcpy(at, "  gas:\n    criticality: 0.3    \n", 32);
	d = diag_of(twice, &rc, &g);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_diag_has(d, "sector gas defined twice (first at line ");
	free(d);

	d = diag_of("sectors: [unclosed\n", &rc, &g);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_diag_has(d, "test.yml:2: ");
	free(d);

	d = diag_of(graph_text(NULL, NULL, "threshold: 0\nbogus: 1\n"), &rc, &g);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_diag_has(d, "test.yml:2: threshold 0 is out of range");
	ck_diag_has(d, "test.yml:3: unknown key \"bogus\"");
	free(d);
}
END_TEST

START_TEST(sectors_load_of_a_missing_file_returns_errno)
{
	struct cep_sectors *g = (struct cep_sectors *)1;
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_int_eq(cep_sectors_load("/nonexistent/sectors.yml", devnull, &g),
			 -ENOENT);
	ck_assert_ptr_null(g);
	fclose(devnull);
	cep_sectors_destroy(NULL);
}
END_TEST

/* --- blast radius -------------------------------------------------------- */

START_TEST(sectors_electricity_and_telecom_have_the_largest_blast_radius)
{
	struct cep_sectors *g = default_graph();
	double e = cep_sectors_blast(g, CEP_SECTOR_ELECTRICITY);
	double t = cep_sectors_blast(g, CEP_SECTOR_TELECOM);
	for (int s = 1; s < N; s++) {
		if (s == CEP_SECTOR_ELECTRICITY || s == CEP_SECTOR_TELECOM)
			continue;
		ck_assert_msg(cep_sectors_blast(g, s) < e && cep_sectors_blast(g, s) < t,
			      "%s B %.3f not below electricity %.3f and telecom %.3f",
			      cep_sector_name(s), cep_sectors_blast(g, s), e, t);
	}
	/* The widest-reaching sector has B = 1; one nothing needs, the floor. */
	ck_assert_double_eq_tol(fmax(e, t), 1.0, 1e-12);
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_MEDICAL), 0.5, 1e-12);
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_UNKNOWN), 0.5, 1e-12);
	ck_assert_double_eq_tol(cep_sectors_criticality(g, CEP_SECTOR_UNKNOWN), 0.5, 1e-12);
	ck_assert_double_eq_tol(cep_sectors_criticality(g, 200), 0.5, 1e-12);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_blast_grows_with_downstream_reach_and_criticality)
{
	/* telecom -> finance (K 1), telecom -> rail (K 0.2): telecom reaches
	 * 1.2, gas -> rail reaches 0.2, everything else nothing. */
	const double k[N] = { [CEP_SECTOR_RAIL] = 0.2 };
	const char *needs[N] = {
		[CEP_SECTOR_FINANCE] = "      telecom: { weight: 1, delay: 0 }\n",
		[CEP_SECTOR_RAIL] = "      telecom: { weight: 1, delay: 0 }\n"
				    "      gas: { weight: 1, delay: 0 }\n",
	};
	struct cep_sectors *g = graph(k, needs, "blast_floor: 0.2\n");
	ck_assert_double_eq_tol(cep_sectors_reach(g, CEP_SECTOR_TELECOM), 1.2, 1e-9);
	ck_assert_double_eq_tol(cep_sectors_reach(g, CEP_SECTOR_GAS), 0.2, 1e-9);
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_TELECOM), 1.0, 1e-9);
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_GAS),
				0.2 + 0.8 * 0.2 / 1.2, 1e-9);
	ck_assert_double_eq_tol(cep_sectors_blast(g, CEP_SECTOR_WATER), 0.2, 1e-9);
	cep_sectors_destroy(g);
}
END_TEST

/* --- impact prediction --------------------------------------------------- */

START_TEST(sectors_electricity_outage_reaches_water_medical_and_the_rest)
{
	struct cep_sectors *g = default_graph();
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	int n = cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, h, CEP_SECTORS_MAX);

	ck_assert_int_eq(n, N - 2); /* every sector but itself and unknown */
	ck_assert_ptr_null(find(h, n, CEP_SECTOR_ELECTRICITY));
	const struct cep_sectors_hit *w = find(h, n, CEP_SECTOR_WATER);
	const struct cep_sectors_hit *m = find(h, n, CEP_SECTOR_MEDICAL);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(m);
	ck_assert(w->strength >= 0.8 && w->delay_s > 0);
	ck_assert(m->strength >= 0.5);
	/* Sorted by impact, then delay. */
	for (int i = 1; i < n; i++) {
		ck_assert(h[i - 1].impact >= h[i].impact - 1e-12);
		if (fabs(h[i - 1].impact - h[i].impact) < 1e-12)
			ck_assert_uint_le(h[i - 1].delay_s, h[i].delay_s);
		ck_assert_double_eq_tol(h[i].impact,
					h[i].strength * cep_sectors_criticality(g, h[i].sector),
					1e-12);
	}
	/* A sector nothing depends on spreads nowhere; unknown neither. */
	ck_assert_int_eq(cep_sectors_impact(g, CEP_SECTOR_MEDICAL, h, CEP_SECTORS_MAX), 0);
	ck_assert_int_eq(cep_sectors_impact(g, CEP_SECTOR_UNKNOWN, h, CEP_SECTORS_MAX), 0);
	/* max bounds what is written. */
	ck_assert_int_eq(cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, h, 3), 3);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_delays_add_and_strengths_multiply_along_a_path)
{
	const char *needs[N] = {
		[CEP_SECTOR_TELECOM] = "      electricity: { weight: 0.8, delay: 1h }\n",
		[CEP_SECTOR_FINANCE] = "      telecom: { weight: 0.5, delay: 1h30m }\n",
	};
	struct cep_sectors *g = graph(NULL, needs, NULL);
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	int n = cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, h, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, 2);
	const struct cep_sectors_hit *f = find(h, n, CEP_SECTOR_FINANCE);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->delay_s, 3600 + 5400);
	ck_assert_double_eq_tol(f->strength, 0.4, 1e-12);
	ck_assert_uint_eq(f->hops, 2);
	ck_assert_uint_eq(f->via, CEP_SECTOR_TELECOM);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_strongest_path_wins_and_ties_go_to_the_sooner)
{
	/* water: direct 0.3 @ 1h, or via telecom 0.9 * 0.9 = 0.81 @ 5h;
	 * medical: two paths of 0.5, @ 2h direct and @ 1h via gas. */
	const char *needs[N] = {
		[CEP_SECTOR_TELECOM] = "      electricity: { weight: 0.9, delay: 2h }\n",
		[CEP_SECTOR_WATER] = "      electricity: { weight: 0.3, delay: 1h }\n"
				     "      telecom: { weight: 0.9, delay: 3h }\n",
		[CEP_SECTOR_GAS] = "      electricity: { weight: 1, delay: 30m }\n",
		[CEP_SECTOR_MEDICAL] = "      electricity: { weight: 0.5, delay: 2h }\n"
				       "      gas: { weight: 0.5, delay: 30m }\n",
	};
	struct cep_sectors *g = graph(NULL, needs, NULL);
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	int n = cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, h, CEP_SECTORS_MAX);
	const struct cep_sectors_hit *w = find(h, n, CEP_SECTOR_WATER);
	ck_assert_ptr_nonnull(w);
	ck_assert_double_eq_tol(w->strength, 0.81, 1e-12);
	ck_assert_uint_eq(w->delay_s, 5 * 3600);
	ck_assert_uint_eq(w->via, CEP_SECTOR_TELECOM);
	const struct cep_sectors_hit *m = find(h, n, CEP_SECTOR_MEDICAL);
	ck_assert_ptr_nonnull(m);
	ck_assert_double_eq_tol(m->strength, 0.5, 1e-12);
	ck_assert_uint_eq(m->delay_s, 3600);
	ck_assert_uint_eq(m->via, CEP_SECTOR_GAS);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_cycles_terminate_with_each_sector_once)
{
	/* A ring of weight-1 edges through every sector, and a back edge. */
	static const int order[] = {
		CEP_SECTOR_TELECOM, CEP_SECTOR_FINANCE, CEP_SECTOR_AVIATION,
		CEP_SECTOR_RAIL, CEP_SECTOR_ELECTRICITY, CEP_SECTOR_GAS,
		CEP_SECTOR_GOVERNMENT, CEP_SECTOR_MEDICAL, CEP_SECTOR_WATER,
		CEP_SECTOR_LOGISTICS,
	};
	static char lines[N][128];
	const char *needs[N] = { 0 };
	for (int i = 0; i < N - 1; i++) {
		int to = order[(i + 1) % (N - 1)], from = order[i];
		snprintf(lines[to], sizeof lines[to],
			 "      %s: { weight: 1, delay: 1h }\n%s",
			 cep_sector_name(from),
			 to == CEP_SECTOR_TELECOM
				 ? "      finance: { weight: 1, delay: 0 }\n" : "");
		needs[to] = lines[to];
	}
	struct cep_sectors *g = graph(NULL, needs, NULL);
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	int n = cep_sectors_impact(g, CEP_SECTOR_TELECOM, h, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, N - 2);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_ne(h[i].sector, CEP_SECTOR_TELECOM);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(h[i].sector, h[j].sector);
		ck_assert_double_eq_tol(h[i].strength, 1.0, 1e-12);
	}
	/* Everything at strength 1: sorted by delay, 1h per hop. */
	ck_assert_uint_eq(h[0].sector, CEP_SECTOR_FINANCE);
	ck_assert_uint_eq(h[n - 1].sector, CEP_SECTOR_LOGISTICS);
	ck_assert_uint_eq(h[n - 1].delay_s, 9 * 3600);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_paths_below_the_threshold_are_cut)
{
	/* 0.3 -> 0.09 -> 0.027: the third hop falls below 0.05. */
	const char *needs[N] = {
		[CEP_SECTOR_FINANCE] = "      telecom: { weight: 0.3, delay: 0 }\n",
		[CEP_SECTOR_RAIL] = "      finance: { weight: 0.3, delay: 0 }\n",
		[CEP_SECTOR_WATER] = "      rail: { weight: 0.3, delay: 0 }\n",
	};
	struct cep_sectors *g = graph(NULL, needs, NULL);
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	int n = cep_sectors_impact(g, CEP_SECTOR_TELECOM, h, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, 2);
	ck_assert_ptr_nonnull(find(h, n, CEP_SECTOR_RAIL));
	ck_assert_ptr_null(find(h, n, CEP_SECTOR_WATER));
	cep_sectors_destroy(g);

	/* The file's threshold moves the cut. */
	g = graph(NULL, needs, "threshold: 0.1\n");
	n = cep_sectors_impact(g, CEP_SECTOR_TELECOM, h, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(h[0].sector, CEP_SECTOR_FINANCE);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_spread_from_several_keeps_the_strongest_source)
{
	struct cep_sectors *g = default_graph();
	struct cep_sectors_hit both[CEP_SECTORS_MAX], e[CEP_SECTORS_MAX],
		t[CEP_SECTORS_MAX];
	uint32_t set = CEP_SECTOR_BIT(CEP_SECTOR_ELECTRICITY) |
		       CEP_SECTOR_BIT(CEP_SECTOR_TELECOM);
	int n = cep_sectors_spread(g, set, both, CEP_SECTORS_MAX);
	int ne = cep_sectors_impact(g, CEP_SECTOR_ELECTRICITY, e, CEP_SECTORS_MAX);
	int nt = cep_sectors_impact(g, CEP_SECTOR_TELECOM, t, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, N - 3);
	for (int i = 0; i < n; i++) {
		const struct cep_sectors_hit *a = find(e, ne, both[i].sector);
		const struct cep_sectors_hit *b = find(t, nt, both[i].sector);
		double best = fmax(a ? a->strength : 0, b ? b->strength : 0);
		ck_assert_double_eq_tol(both[i].strength, best, 1e-12);
	}
	cep_sectors_destroy(g);
}
END_TEST

/* --- restoration --------------------------------------------------------- */

START_TEST(sectors_restoration_ranks_the_sector_that_relieves_most_first)
{
	/* electricity feeds finance, rail, water; gas feeds water weakly.
	 * Restoring electricity relieves finance + rail + (water 0.9 -> 0.2);
	 * restoring gas relieves nothing (electricity still hits water). */
	const char *needs[N] = {
		[CEP_SECTOR_FINANCE] = "      electricity: { weight: 1, delay: 0 }\n",
		[CEP_SECTOR_RAIL] = "      electricity: { weight: 0.5, delay: 0 }\n",
		[CEP_SECTOR_WATER] = "      electricity: { weight: 0.9, delay: 0 }\n"
				     "      gas: { weight: 0.2, delay: 0 }\n",
	};
	struct cep_sectors *g = graph(NULL, needs, NULL);
	struct cep_sectors_relief r[CEP_SECTORS_MAX];
	uint32_t down = CEP_SECTOR_BIT(CEP_SECTOR_GAS) |
			CEP_SECTOR_BIT(CEP_SECTOR_ELECTRICITY);
	int n = cep_sectors_restoration(g, down, r, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(r[0].sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_double_eq_tol(r[0].relief, 1.0 + 0.5 + (0.9 - 0.2), 1e-9);
	ck_assert_uint_eq(r[1].sector, CEP_SECTOR_GAS);
	ck_assert_double_eq_tol(r[1].relief, 0.0, 1e-9);
	ck_assert_double_eq_tol(r[1].impact, 0.2, 1e-9);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_restoration_with_the_default_file_puts_electricity_before_water)
{
	struct cep_sectors *g = default_graph();
	struct cep_sectors_relief r[CEP_SECTORS_MAX];
	uint32_t down = CEP_SECTOR_BIT(CEP_SECTOR_WATER) |
			CEP_SECTOR_BIT(CEP_SECTOR_ELECTRICITY) |
			CEP_SECTOR_BIT(CEP_SECTOR_MEDICAL);
	int n = cep_sectors_restoration(g, down, r, CEP_SECTORS_MAX);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(r[0].sector, CEP_SECTOR_ELECTRICITY);
	for (int i = 0; i < n; i++)
		ck_assert(r[i].relief >= 0);
	/* Medical feeds nothing: restoring it relieves no other sector. */
	ck_assert_uint_eq(r[2].sector, CEP_SECTOR_MEDICAL);
	ck_assert_double_eq_tol(r[2].relief, 0.0, 1e-12);
	cep_sectors_destroy(g);
}
END_TEST

/* --- systems and helpers ------------------------------------------------- */

START_TEST(sectors_system_classes_map_to_the_sectors_that_run_them)
{
	struct cep_sectors *g = default_graph();
	uint32_t m;
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_BANKING_CORE, &m), 1);
	ck_assert_uint_eq(m, CEP_SECTOR_BIT(CEP_SECTOR_FINANCE));
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_WATER_CONTROL, &m), 1);
	ck_assert_uint_eq(m, CEP_SECTOR_BIT(CEP_SECTOR_WATER));
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_PLANT_CONTROL, &m), 2);
	ck_assert_uint_eq(m, CEP_SECTOR_BIT(CEP_SECTOR_ELECTRICITY) |
				     CEP_SECTOR_BIT(CEP_SECTOR_GAS));
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_AIR_TRAFFIC_CONTROL, &m), 1);
	ck_assert_uint_eq(m, CEP_SECTOR_BIT(CEP_SECTOR_AVIATION));
	for (int sys = 1; sys < CEP_SYSTEM_COUNT; sys++)
		ck_assert_int_ge(cep_sectors_for_system(g, sys, &m), 1);
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_NONE, &m), -CEP_EUNKNOWN);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(cep_sectors_for_system(g, CEP_SYSTEM_COUNT, &m), -CEP_EUNKNOWN);
	cep_sectors_destroy(g);
}
END_TEST

START_TEST(sectors_lists_and_delays_read_and_print)
{
	uint32_t set;
	const char *bad;
	char buf[32];
	ck_assert_int_eq(cep_sectors_parse_list("water,telecom", &set, &bad), 0);
	ck_assert_uint_eq(set, CEP_SECTOR_BIT(CEP_SECTOR_WATER) |
				       CEP_SECTOR_BIT(CEP_SECTOR_TELECOM));
	const char *text = "water,unknown";
	ck_assert_int_eq(cep_sectors_parse_list(text, &set, &bad), -CEP_EUNKNOWN);
	ck_assert_ptr_eq(bad, text + 6);
	ck_assert_int_eq(cep_sectors_parse_list("water,", &set, &bad), -CEP_EUNKNOWN);
	ck_assert_str_eq(cep_sectors_format_delay(0, buf, sizeof buf), "0");
	ck_assert_str_eq(cep_sectors_format_delay(5400, buf, sizeof buf), "1h30m");
	ck_assert_str_eq(cep_sectors_format_delay(2 * 86400 + 45, buf, sizeof buf), "2d45s");
}
END_TEST

static Suite *sectors_suite(void)
{
	Suite *s = suite_create("sectors");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, sectors_default_file_loads_with_every_sector_weighted);
	tcase_add_test(tc, sectors_loader_reports_every_problem_with_its_line);
	tcase_add_test(tc, sectors_loader_rejects_self_dependency_duplicate_sector_and_syntax);
	tcase_add_test(tc, sectors_load_of_a_missing_file_returns_errno);
	tcase_add_test(tc, sectors_electricity_and_telecom_have_the_largest_blast_radius);
	tcase_add_test(tc, sectors_blast_grows_with_downstream_reach_and_criticality);
	tcase_add_test(tc, sectors_electricity_outage_reaches_water_medical_and_the_rest);
	tcase_add_test(tc, sectors_delays_add_and_strengths_multiply_along_a_path);
	tcase_add_test(tc, sectors_strongest_path_wins_and_ties_go_to_the_sooner);
	tcase_add_test(tc, sectors_cycles_terminate_with_each_sector_once);
	tcase_add_test(tc, sectors_paths_below_the_threshold_are_cut);
	tcase_add_test(tc, sectors_spread_from_several_keeps_the_strongest_source);
	tcase_add_test(tc, sectors_restoration_ranks_the_sector_that_relieves_most_first);
	tcase_add_test(tc, sectors_restoration_with_the_default_file_puts_electricity_before_water);
	tcase_add_test(tc, sectors_system_classes_map_to_the_sectors_that_run_them);
	tcase_add_test(tc, sectors_lists_and_delays_read_and_print);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sectors_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
