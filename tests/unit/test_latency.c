/*
 * test_latency.c - the ingest-to-acknowledged histogram: buckets, known
 * percentiles, exact Prometheus counts, plausibility, and a reader that
 * snapshots while the writer records (run under ThreadSanitizer too).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "publish/latency.h"

#define US 1000ull
#define MS 1000000ull

static struct cep_latency *fresh(void)
{
	struct cep_latency *h = malloc(sizeof *h);
	ck_assert_ptr_nonnull(h);
	cep_latency_init(h);
	return h;
}

START_TEST(latency_buckets_tile_the_range_within_three_percent)
{
	ck_assert_uint_eq(cep_latency_bucket_low(0), 0);
	for (unsigned i = 0; i < CEP_LATENCY_BUCKETS; i++) {
		uint64_t lo = cep_latency_bucket_low(i), hi = cep_latency_bucket_high(i);
		ck_assert_uint_le(lo, hi);
		ck_assert_uint_eq(cep_latency_bucket_of(lo), i);
		ck_assert_uint_eq(cep_latency_bucket_of(hi), i);
		if (i + 1 < CEP_LATENCY_BUCKETS)
			ck_assert_uint_eq(hi + 1, cep_latency_bucket_low(i + 1));
		/* Below 64 us one bucket per microsecond; above, a bucket is
		 * at most 1/32 of its smallest value wide. */
		if (i < CEP_LATENCY_LINEAR)
			ck_assert_uint_eq(lo, hi);
		else
			ck_assert_uint_le((hi - lo + 1) * 32, lo);
	}
	/* The top bucket reaches past an hour; larger values land in it. */
	ck_assert_uint_ge(cep_latency_bucket_high(CEP_LATENCY_BUCKETS - 1),
			  CEP_LATENCY_MAX_NS / US);
	ck_assert_uint_eq(cep_latency_bucket_of(UINT64_MAX / 2),
			  CEP_LATENCY_BUCKETS - 1);
}
END_TEST

START_TEST(latency_quantiles_of_known_inputs)
{
	struct cep_latency *h = fresh();
	struct cep_latency_snap s;

	/* 98 messages at 1 ms, 2 at 10 ms: p50 and p98 are 1 ms, p99 and the
	 * max 10 ms, each reported at most 3.2 % high, never low. */
	for (int i = 0; i < 98; i++)
		cep_latency_record(h, 1 * MS);
	cep_latency_record(h, 10 * MS);
	cep_latency_record(h, 10 * MS);
	cep_latency_snapshot(h, &s);
	ck_assert_uint_eq(s.count, 100);
	ck_assert_uint_eq(s.sum_ns, 98 * MS + 20 * MS);
	ck_assert_uint_eq(s.max_ns, 10 * MS);
	uint64_t p50 = cep_latency_quantile(&s, 0.50);
	uint64_t p98 = cep_latency_quantile(&s, 0.98);
	uint64_t p99 = cep_latency_quantile(&s, 0.99);
	ck_assert_uint_ge(p50, 1 * MS);
	ck_assert_uint_le(p50, 1 * MS + 32 * US);
	ck_assert_uint_eq(p98, p50);
	/* p99 falls in the 10 ms bucket, whose top is clamped to the max. */
	ck_assert_uint_eq(p99, 10 * MS);
	ck_assert_uint_eq(cep_latency_quantile(&s, 0.999), 10 * MS);
	ck_assert_uint_eq(cep_latency_quantile(&s, 1.0), 10 * MS);

	/* 1 .. 1000 us, each once: p50 is the 500th value, p99 the 990th,
	 * both within their bucket's width. */
	struct cep_latency *u = fresh();
	for (uint64_t v = 1; v <= 1000; v++)
		cep_latency_record(u, v * US);
	cep_latency_snapshot(u, &s);
	p50 = cep_latency_quantile(&s, 0.50);
	p99 = cep_latency_quantile(&s, 0.99);
	ck_assert_uint_eq(p50, (cep_latency_bucket_high(cep_latency_bucket_of(500)) +
				1) * US - 1);
	ck_assert_uint_ge(p50, 500 * US);
	ck_assert_uint_le(p50, 516 * US);
	ck_assert_uint_ge(p99, 990 * US);
	ck_assert_uint_le(p99, 1000 * US);
	/* Below 64 us the answer is exact to the microsecond. */
	struct cep_latency *e = fresh();
	for (int i = 0; i < 60; i++)
		cep_latency_record(e, 20 * US + 400);
	for (int i = 0; i < 40; i++)
		cep_latency_record(e, 50 * US);
	cep_latency_snapshot(e, &s);
	ck_assert_uint_eq(cep_latency_quantile(&s, 0.5), 21 * US - 1);
	ck_assert_uint_eq(cep_latency_quantile(&s, 0.9), 50 * US);
	free(h);
	free(u);
	free(e);
}
END_TEST

START_TEST(latency_of_nothing_is_zero)
{
	struct cep_latency *h = fresh();
	struct cep_latency_snap s;

	cep_latency_snapshot(h, &s);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_uint_eq(cep_latency_quantile(&s, 0.99), 0);
	free(h);
}
END_TEST

START_TEST(latency_counts_are_exact_at_the_prometheus_bounds)
{
	struct cep_latency *h = fresh();
	struct cep_latency_snap s;

	ck_assert_uint_eq(cep_latency_le_ns[3], 1 * MS);
	cep_latency_record(h, 1 * MS);     /* le="0.001": on the bound */
	cep_latency_record(h, 1 * MS + 1); /* le="0.002" */
	cep_latency_record(h, 0);          /* le="0.0001" */
	cep_latency_record(h, 61000 * MS); /* past 60 s: +Inf only */
	cep_latency_snapshot(h, &s);
	ck_assert_uint_eq(s.le[0], 1);
	ck_assert_uint_eq(s.le[3], 1);
	ck_assert_uint_eq(s.le[4], 1);
	ck_assert_uint_eq(s.le[CEP_LATENCY_LE], 1);
	uint64_t total = 0;
	for (unsigned i = 0; i <= CEP_LATENCY_LE; i++)
		total += s.le[i];
	ck_assert_uint_eq(total, s.count);
	free(h);
}
END_TEST

START_TEST(latency_since_refuses_future_and_stale_origins)
{
	struct cep_latency *h = fresh();
	struct cep_latency_snap s;
	const uint64_t now = 1800000000ull * 1000000000ull;

	cep_latency_record_since(h, now - 3 * MS, now);          /* 3 ms */
	cep_latency_record_since(h, now + 1, now);               /* future */
	cep_latency_record_since(h, now - CEP_LATENCY_MAX_NS - 1, now); /* stale */
	cep_latency_record_since(h, now - CEP_LATENCY_MAX_NS, now); /* an hour */
	cep_latency_snapshot(h, &s);
	ck_assert_uint_eq(s.count, 2);
	ck_assert_uint_eq(s.refused, 2);
	ck_assert_uint_eq(s.max_ns, CEP_LATENCY_MAX_NS);
	ck_assert_uint_ge(cep_latency_quantile(&s, 0.5), 3 * MS);
	ck_assert_uint_le(cep_latency_quantile(&s, 0.5), 3 * MS + 96 * US);
	free(h);
}
END_TEST

#define WRITES 200000

static atomic_int writer_done;

static void *writer(void *arg)
{
	struct cep_latency *h = arg;

	for (uint64_t i = 0; i < WRITES; i++)
		cep_latency_record(h, (i % 5000) * US);
	atomic_store(&writer_done, 1);
	return NULL;
}

START_TEST(latency_snapshots_during_recording_never_go_back)
{
	struct cep_latency *h = fresh();
	struct cep_latency_snap *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	pthread_t t;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	atomic_store(&writer_done, 0);
	cep_latency_snapshot(h, a);
	ck_assert_int_eq(pthread_create(&t, NULL, writer, h), 0);
	int snaps = 0;
	while (!atomic_load(&writer_done) || snaps < 2) {
		cep_latency_snapshot(h, b);
		ck_assert_uint_le(b->count, WRITES);
		ck_assert_uint_ge(b->count, a->count);
		for (unsigned i = 0; i < CEP_LATENCY_BUCKETS; i++)
			ck_assert_uint_ge(b->bucket[i], a->bucket[i]);
		ck_assert_uint_le(cep_latency_quantile(b, 0.99), 5000 * US);
		struct cep_latency_snap *x = a;
		a = b;
		b = x;
		snaps++;
	}
	pthread_join(t, NULL);
	cep_latency_snapshot(h, b);
	ck_assert_uint_eq(b->count, WRITES);
	ck_assert_uint_eq(b->max_ns, 4999 * US);
	free(a);
	free(b);
	free(h);
}
END_TEST

static Suite *latency_suite(void)
{
	Suite *s = suite_create("latency");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, latency_buckets_tile_the_range_within_three_percent);
	tcase_add_test(tc, latency_quantiles_of_known_inputs);
	tcase_add_test(tc, latency_of_nothing_is_zero);
	tcase_add_test(tc, latency_counts_are_exact_at_the_prometheus_bounds);
	tcase_add_test(tc, latency_since_refuses_future_and_stale_origins);
	tcase_add_test(tc, latency_snapshots_during_recording_never_go_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(latency_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
