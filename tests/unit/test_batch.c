/*
 * test_batch.c - the collectors' batching front (ceptor/batch.h): slots
 * come zeroed, commits stamp with the source, a full batch goes to the
 * sink by itself, flushes hand over the rest, refused events are counted,
 * and a sink error sticks.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/batch.h"
#include "ceptor/event.h"

/* A sink that records what it is given and answers as told. */
struct probe {
	unsigned calls;
	unsigned sizes[8];
	struct cep_event last[CEP_COLLECTOR_BATCH];
	int accept;     /* events accepted per call; -1: all */
	int fail_with;  /* a negative error to return, or 0 */
};

static int probe_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct probe *p = arg;

	if (p->calls < 8)
		p->sizes[p->calls] = n;
	p->calls++;
	memcpy(p->last, ev, n * sizeof *ev);
	if (p->fail_with)
		return p->fail_with;
	if (p->accept >= 0 && (unsigned)p->accept < n)
		return p->accept;
	return (int)n;
}

struct fixture {
	struct cep_batch b;
	struct probe probe;
	struct cep_sink sink;
	struct cep_source src;
	uint64_t refused; /* the collector's own counter */
};

static struct fixture *fixture(void)
{
	struct fixture *f = calloc(1, sizeof *f);

	ck_assert_ptr_nonnull(f);
	f->probe.accept = -1;
	f->sink.fn = probe_fn;
	f->sink.arg = &f->probe;
	ck_assert_int_eq(cep_source_init(&f->src, "unit"), 0);
	f->src.tlp = CEP_TLP_GREEN;
	cep_batch_init(&f->b, &f->src, &f->sink, &f->refused);
	return f;
}

/* Fill and commit one event whose seq is @seq; returns the commit's rc. */
static int put(struct fixture *f, uint32_t seq)
{
	struct cep_event *ev = cep_batch_slot(&f->b);

	ev->seq = seq;
	ev->kind = CEP_KIND_PACKET;
	return cep_batch_commit(&f->b);
}

START_TEST(batch_slot_is_zeroed_even_after_a_filled_slot_was_dropped)
{
	struct fixture *f = fixture();
	struct cep_event *ev = cep_batch_slot(&f->b);
	static const struct cep_event zero;

	memset(ev, 0xa5, sizeof *ev); /* filled, then not committed */
	ev = cep_batch_slot(&f->b);
	ck_assert_int_eq(memcmp(ev, &zero, sizeof zero), 0);
	ck_assert_uint_eq(f->b.n, 0);
	free(f);
}
END_TEST

START_TEST(batch_commit_stamps_with_the_source_and_keeps_set_fields)
{
	struct fixture *f = fixture();
	struct cep_event *ev = cep_batch_slot(&f->b);

	ev->tlp = CEP_TLP_RED; /* the input said; the default must not win */
	memcpy(ev->source, "other", 6);
	ck_assert_int_eq(cep_batch_commit(&f->b), 0);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_uint_eq(f->probe.calls, 1);
	ck_assert_str_eq(f->probe.last[0].source, "unit");
	ck_assert_uint_eq(f->probe.last[0].tlp, CEP_TLP_RED);
	ck_assert_uint_eq(f->probe.last[0].reliability, CEP_REL_F);
	ck_assert_uint_eq(f->probe.last[0].credibility, CEP_CRED_MAX);
	free(f);
}
END_TEST

START_TEST(batch_keep_source_keeps_an_events_own_source_only)
{
	struct fixture *f = fixture();
	struct cep_event *ev;

	f->b.keep_source = 1;
	ev = cep_batch_slot(&f->b);
	memcpy(ev->source, "relayed", 8);
	cep_batch_commit(&f->b);
	cep_batch_slot(&f->b); /* no source of its own */
	cep_batch_commit(&f->b);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_str_eq(f->probe.last[0].source, "relayed");
	ck_assert_uint_eq(f->probe.last[0].tlp, CEP_TLP_GREEN);
	ck_assert_str_eq(f->probe.last[1].source, "unit");
	free(f);
}
END_TEST

START_TEST(batch_without_a_source_leaves_events_as_filled)
{
	struct fixture *f = fixture();

	cep_batch_init(&f->b, NULL, &f->sink, NULL);
	put(f, 7);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_str_eq(f->probe.last[0].source, "");
	ck_assert_uint_eq(f->probe.last[0].tlp, 0);
	ck_assert_uint_eq(f->probe.last[0].seq, 7);
	free(f);
}
END_TEST

START_TEST(batch_commit_hands_over_a_full_batch_in_order)
{
	struct fixture *f = fixture();

	for (uint32_t i = 1; i < CEP_COLLECTOR_BATCH; i++) {
		ck_assert_int_eq(put(f, i), 0);
		ck_assert_uint_eq(f->probe.calls, 0);
	}
	ck_assert_int_eq(put(f, CEP_COLLECTOR_BATCH), 0);
	ck_assert_uint_eq(f->probe.calls, 1);
	ck_assert_uint_eq(f->probe.sizes[0], CEP_COLLECTOR_BATCH);
	ck_assert_uint_eq(f->b.n, 0);
	for (unsigned i = 0; i < CEP_COLLECTOR_BATCH; i++)
		ck_assert_uint_eq(f->probe.last[i].seq, i + 1);
	ck_assert_uint_eq(f->b.accepted, CEP_COLLECTOR_BATCH);
	free(f);
}
END_TEST

START_TEST(batch_flush_hands_over_the_rest_and_skips_an_empty_batch)
{
	struct fixture *f = fixture();

	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_uint_eq(f->probe.calls, 0);
	put(f, 1);
	put(f, 2);
	put(f, 3);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_uint_eq(f->probe.calls, 1);
	ck_assert_uint_eq(f->probe.sizes[0], 3);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0);
	ck_assert_uint_eq(f->probe.calls, 1);
	free(f);
}
END_TEST

START_TEST(batch_counts_what_the_sink_refuses_in_both_counters)
{
	struct fixture *f = fixture();

	f->probe.accept = 40;
	for (uint32_t i = 0; i < CEP_COLLECTOR_BATCH + 10; i++)
		ck_assert_int_eq(put(f, i), 0);
	ck_assert_int_eq(cep_batch_flush(&f->b), 0); /* 10 waiting, all in */
	ck_assert_uint_eq(f->probe.calls, 2);
	ck_assert_uint_eq(f->b.accepted, 40 + 10);
	ck_assert_uint_eq(f->b.refused, CEP_COLLECTOR_BATCH - 40);
	ck_assert_uint_eq(f->refused, CEP_COLLECTOR_BATCH - 40);
	ck_assert_int_eq(f->b.err, 0);
	free(f);
}
END_TEST

START_TEST(batch_sink_error_is_returned_and_sticks)
{
	struct fixture *f = fixture();

	f->probe.fail_with = -EIO;
	put(f, 1);
	ck_assert_int_eq(cep_batch_flush(&f->b), -EIO);
	ck_assert_uint_eq(f->probe.calls, 1);
	/* The sink is never called again; commits and flushes say why. */
	f->probe.fail_with = 0;
	ck_assert_int_eq(put(f, 2), -EIO);
	ck_assert_int_eq(cep_batch_flush(&f->b), -EIO);
	ck_assert_int_eq(cep_batch_flush(&f->b), -EIO);
	ck_assert_uint_eq(f->probe.calls, 1);
	/* Failed events are neither accepted nor refused. */
	ck_assert_uint_eq(f->b.accepted, 0);
	ck_assert_uint_eq(f->b.refused, 0);
	ck_assert_uint_eq(f->refused, 0);
	free(f);
}
END_TEST

START_TEST(batch_sink_error_on_a_full_batch_comes_back_from_the_commit)
{
	struct fixture *f = fixture();

	f->probe.fail_with = -EPIPE;
	for (uint32_t i = 1; i < CEP_COLLECTOR_BATCH; i++)
		ck_assert_int_eq(put(f, i), 0);
	ck_assert_int_eq(put(f, CEP_COLLECTOR_BATCH), -EPIPE);
	ck_assert_int_eq(f->b.err, -EPIPE);
	/* The batch stays usable storage: slots stay in bounds. */
	for (uint32_t i = 0; i < 2 * CEP_COLLECTOR_BATCH; i++)
		ck_assert_int_eq(put(f, i), -EPIPE);
	ck_assert_uint_eq(f->probe.calls, 1);
	free(f);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, batch_slot_is_zeroed_even_after_a_filled_slot_was_dropped);
	tcase_add_test(tc, batch_commit_stamps_with_the_source_and_keeps_set_fields);
	tcase_add_test(tc, batch_keep_source_keeps_an_events_own_source_only);
	tcase_add_test(tc, batch_without_a_source_leaves_events_as_filled);
	tcase_add_test(tc, batch_commit_hands_over_a_full_batch_in_order);
	tcase_add_test(tc, batch_flush_hands_over_the_rest_and_skips_an_empty_batch);
	tcase_add_test(tc, batch_counts_what_the_sink_refuses_in_both_counters);
	tcase_add_test(tc, batch_sink_error_is_returned_and_sticks);
	tcase_add_test(tc, batch_sink_error_on_a_full_batch_comes_back_from_the_commit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(batch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
