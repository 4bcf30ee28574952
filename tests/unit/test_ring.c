/*
 * test_ring.c - the shared-memory SPSC ring: layout checks on attach, burst
 * and bulk semantics, wrap-around, overflow policies, waiting and closing,
 * opening a ring that outlives its consumer, producers that follow one
 * another (reopen), the collectors ceptor-pcap and ceptor-feed as such
 * producers (found in $CEPTOR_BIN, else in build/<flavour>/bin next to
 * this binary, or build/bin), records surviving a SIGKILLed producer
 * process, producer counters and liveness (reports, reopens, a dead
 * producer, a blocked one), and threaded tests that also run under
 * ThreadSanitizer (make tsan).
 *
 * Every segment is named "/cep-test-ring-<runner pid>-<tag>"; the
 * unchecked teardown, which runs in the runner process, unlinks whatever a
 * failed test left behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "lib/ring_priv.h"

static pid_t runner_pid;
static char bin_dir[PATH_MAX - 64];

extern char **environ;

static const char *ring_name(const char *tag)
{
	static char name[96];

	snprintf(name, sizeof name, "/cep-test-ring-%ld-%s", (long)runner_pid,
		 tag);
	return name;
}

static void unlink_leftovers(void)
{
	char prefix[64], path[300];
	struct dirent *de;
	DIR *d = opendir("/dev/shm");

	if (d == NULL)
		return;
	snprintf(prefix, sizeof prefix, "cep-test-ring-%ld-", (long)runner_pid);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(path, sizeof path, "/%s", de->d_name);
			shm_unlink(path);
		}
	}
	closedir(d);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A record whose every checked field derives from its sequence number. */
static void make_event(struct cep_event *ev, uint32_t seq)
{
	memset(ev, 0, sizeof *ev);
	ev->seq = seq;
	ev->ts = (uint64_t)seq * 1000003u;
	ev->count = ~seq;
	ev->kind = CEP_KIND_PACKET;
	snprintf(ev->indicator, sizeof ev->indicator, "rec-%u", seq);
}

static void fill(struct cep_event *ev, unsigned n, uint32_t first_seq)
{
	for (unsigned i = 0; i < n; i++)
		make_event(&ev[i], first_seq + i);
}

/* 1 when ev is exactly the record make_event() gives for seq. */
static int is_event(const struct cep_event *ev, uint32_t seq)
{
	struct cep_event want;

	make_event(&want, seq);
	return memcmp(ev, &want, sizeof want) == 0;
}

/* Map a segment's header directly, as a foreign process would. */
static struct cep_ring_shm *map_header(const char *name)
{
	int fd = shm_open(name, O_RDWR, 0);
	void *p;

	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, sizeof(struct cep_ring_shm), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

static void unmap_header(struct cep_ring_shm *shm)
{
	munmap(shm, sizeof *shm);
}

/* --- create, attach, layout checks ---------------------------------------- */

START_TEST(ring_create_then_attach_shares_records)
{
	const char *name = ring_name("roundtrip");
	struct cep_ring *prod, *cons;
	struct cep_event in[5], out[8];
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 64, &prod), 0);
	ck_assert_int_eq(cep_ring_attach(name, &cons), 0);
	fill(in, 5, 100);
	ck_assert_uint_eq(cep_ring_enqueue_burst(prod, in, 5), 5);

	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.capacity, 64);
	ck_assert_uint_eq(st.enqueued, 5);
	ck_assert_uint_eq(st.dequeued, 0);
	ck_assert_uint_eq(st.used, 5);
	ck_assert_int_eq(st.closed, 0);

	ck_assert_int_eq(cep_ring_wait(cons, 0), 5);
	ck_assert_uint_eq(cep_ring_dequeue_burst(cons, out, 8), 5);
	for (unsigned i = 0; i < 5; i++)
		ck_assert(is_event(&out[i], 100 + i));
	cep_ring_stats(prod, &st);
	ck_assert_uint_eq(st.dequeued, 5);
	ck_assert_uint_eq(st.used, 0);

	cep_ring_destroy(cons);
	cep_ring_destroy(prod);
	cep_ring_destroy(NULL);
	ck_assert_int_eq(cep_ring_unlink(name), 0);
	ck_assert_int_eq(cep_ring_attach(name, &cons), -ENOENT);
}
END_TEST

START_TEST(ring_attach_to_missing_segment_fails_with_enoent)
{
	struct cep_ring *r = (struct cep_ring *)1;

	ck_assert_int_eq(cep_ring_attach(ring_name("missing"), &r), -ENOENT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "does not exist"));
}
END_TEST

START_TEST(ring_name_without_slash_names_the_same_segment)
{
	const char *name = ring_name("noslash");
	struct cep_ring *a, *b;

	ck_assert_int_eq(cep_ring_create(name + 1, 8, &a), 0);
	ck_assert_int_eq(cep_ring_attach(name, &b), 0);
	cep_ring_destroy(b);
	cep_ring_destroy(a);
	ck_assert_int_eq(cep_ring_unlink(name + 1), 0);
	ck_assert_int_eq(cep_ring_create("/a/b", 8, &a), -EINVAL);
	ck_assert_int_eq(cep_ring_create("", 8, &a), -EINVAL);
}
END_TEST

START_TEST(ring_create_refuses_capacity_not_power_of_two)
{
	const char *name = ring_name("badcap");
	struct cep_ring *r;

	ck_assert_int_eq(cep_ring_create(name, 0, &r), -EINVAL);
	ck_assert_int_eq(cep_ring_create(name, 1, &r), -EINVAL);
	ck_assert_int_eq(cep_ring_create(name, 100, &r), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "power of two"));
	ck_assert_int_eq(cep_ring_create(name, CEP_RING_CAPACITY_MAX * 2, &r),
			 -EINVAL);
	ck_assert_int_eq(cep_ring_attach(name, &r), -ENOENT);
}
END_TEST

START_TEST(ring_create_replaces_an_existing_segment)
{
	const char *name = ring_name("replace");
	struct cep_ring *old, *fresh, *att;
	struct cep_event ev;
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 8, &old), 0);
	make_event(&ev, 1);
	ck_assert_uint_eq(cep_ring_enqueue_burst(old, &ev, 1), 1);
	ck_assert_int_eq(cep_ring_create(name, 16, &fresh), 0);
	ck_assert_int_eq(cep_ring_attach(name, &att), 0);
	cep_ring_stats(att, &st);
	ck_assert_uint_eq(st.capacity, 16);
	ck_assert_uint_eq(st.enqueued, 0);
	/* The old mapping still works on its own, unlinked segment. */
	cep_ring_stats(old, &st);
	ck_assert_uint_eq(st.enqueued, 1);
	cep_ring_destroy(att);
	cep_ring_destroy(fresh);
	cep_ring_destroy(old);
	cep_ring_unlink(name);
}
END_TEST

/* Create a ring, change one header field as another build would have
 * written it, and return what attach says. */
static int attach_after_poke(const char *tag, size_t off, uint64_t val,
			     int width)
{
	const char *name = ring_name(tag);
	struct cep_ring *r, *bad = (struct cep_ring *)1;
	struct cep_ring_shm *shm;
	int err;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	shm = map_header(name);
	if (width == 8)
		memcpy((char *)shm + off, &val, 8);
	else {
		uint32_t v32 = (uint32_t)val;
		memcpy((char *)shm + off, &v32, 4);
	}
	unmap_header(shm);
	err = cep_ring_attach(name, &bad);
	if (err)
		ck_assert_ptr_null(bad);
	else
		cep_ring_destroy(bad);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
	return err;
}

START_TEST(ring_attach_with_wrong_magic_fails_with_eversion)
{
	ck_assert_int_eq(attach_after_poke("magic", 0, 0x1122334455667788ull, 8),
			 -CEP_EVERSION);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "not a ceptor ring"));
}
END_TEST

START_TEST(ring_attach_with_wrong_version_fails_with_eversion)
{
	char want[64];

	ck_assert_int_eq(attach_after_poke("version", 8, CEP_RING_VERSION + 1, 4),
			 -CEP_EVERSION);
	snprintf(want, sizeof want, "layout version %u", CEP_RING_VERSION + 1);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), want));
}
END_TEST

START_TEST(ring_attach_refuses_a_version_1_ring_without_producer_counters)
{
	ck_assert_int_eq(attach_after_poke("version1", 8, 1, 4), -CEP_EVERSION);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "layout version 1"));
}
END_TEST

START_TEST(ring_attach_with_wrong_record_size_fails_with_eversion)
{
	ck_assert_int_eq(attach_after_poke("recsize", 12, 192, 4),
			 -CEP_EVERSION);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "record size 192"));
}
END_TEST

START_TEST(ring_attach_with_capacity_beyond_segment_fails_with_emalformed)
{
	ck_assert_int_eq(attach_after_poke("bigcap", 16, 1024, 4),
			 -CEP_EMALFORMED);
	ck_assert_int_eq(attach_after_poke("oddcap", 16, 6, 4),
			 -CEP_EMALFORMED);
}
END_TEST

START_TEST(ring_attach_to_a_too_small_segment_fails_with_eversion)
{
	const char *name = ring_name("small");
	struct cep_ring *r;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	close(fd);
	ck_assert_int_eq(cep_ring_attach(name, &r), -CEP_EVERSION);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "too small"));
	shm_unlink(name);
}
END_TEST

/* --- open: attach or create, never replace -------------------------------- */

START_TEST(ring_open_creates_a_missing_ring_and_says_so)
{
	const char *name = ring_name("opennew");
	struct cep_ring *r, *att;
	struct cep_ring_stats st;
	int created = -1;

	ck_assert_int_eq(cep_ring_open(name, 32, &r, &created), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_str_eq(cep_ring_last_error(), "");
	ck_assert_int_eq(cep_ring_attach(name, &att), 0);
	cep_ring_stats(att, &st);
	ck_assert_uint_eq(st.capacity, 32);
	ck_assert_uint_eq(st.enqueued, 0);
	cep_ring_destroy(att);
	cep_ring_destroy(r);
	/* created may be NULL */
	ck_assert_int_eq(cep_ring_open(name, 32, &r, NULL), 0);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_open_keeps_the_records_of_an_existing_ring)
{
	const char *name = ring_name("openkeep");
	struct cep_ring *first, *prod, *again;
	struct cep_event in[5], out[8];
	int created = -1;

	/* A consumer makes the ring, a producer fills it, the consumer goes
	 * away (an engine restart) and opens the ring again. */
	ck_assert_int_eq(cep_ring_open(name, 16, &first, &created), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	fill(in, 5, 70);
	ck_assert_uint_eq(cep_ring_enqueue_burst(prod, in, 5), 5);
	ck_assert_uint_eq(cep_ring_dequeue_burst(first, out, 2), 2);
	cep_ring_destroy(first);

	ck_assert_int_eq(cep_ring_open(name, 16, &again, &created), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(cep_ring_wait(again, 0), 3);
	ck_assert_uint_eq(cep_ring_dequeue_burst(again, out, 8), 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(is_event(&out[i], 72 + i));
	cep_ring_destroy(again);
	cep_ring_destroy(prod);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_open_refuses_another_capacity_and_keeps_the_ring)
{
	const char *name = ring_name("opencap");
	struct cep_ring *r, *bad = (struct cep_ring *)1;
	struct cep_event ev;
	struct cep_ring_stats st;
	int created = -1;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	make_event(&ev, 9);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, &ev, 1), 1);
	ck_assert_int_eq(cep_ring_open(name, 64, &bad, &created),
			 -CEP_EVERSION);
	ck_assert_ptr_null(bad);
	ck_assert_int_eq(created, 0);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "capacity 8, not 64"));
	ck_assert_int_eq(cep_ring_open(name, 100, &bad, NULL), -EINVAL);
	/* Still the same segment, record and all. */
	ck_assert_int_eq(cep_ring_attach(name, &bad), 0);
	cep_ring_stats(bad, &st);
	ck_assert_uint_eq(st.capacity, 8);
	ck_assert_uint_eq(st.enqueued, 1);
	cep_ring_destroy(bad);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_open_refuses_an_incompatible_ring_without_replacing_it)
{
	const char *name = ring_name("openver");
	struct cep_ring *r, *bad = (struct cep_ring *)1;
	struct cep_ring_shm *shm;
	uint32_t v;
	int created = -1;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	shm = map_header(name);
	v = 192;
	memcpy(&shm->info.record_size, &v, sizeof v);
	ck_assert_int_eq(cep_ring_open(name, 8, &bad, &created),
			 -CEP_EVERSION);
	ck_assert_ptr_null(bad);
	ck_assert_int_eq(created, 0);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "record size 192"));
	v = CEP_RING_VERSION + 7;
	memcpy(&shm->info.version, &v, sizeof v);
	ck_assert_int_eq(cep_ring_open(name, 8, &bad, NULL), -CEP_EVERSION);
	ck_assert_ptr_nonnull(strstr(cep_ring_last_error(), "layout version"));
	/* The segment was neither replaced nor touched. */
	ck_assert_uint_eq(shm->info.version, CEP_RING_VERSION + 7);
	ck_assert_uint_eq(shm->info.record_size, 192);
	ck_assert_uint_eq(shm->info.magic, CEP_RING_MAGIC);
	unmap_header(shm);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- burst, bulk, wrap-around ----------------------------------------------- */

START_TEST(ring_enqueue_burst_when_full_takes_none)
{
	const char *name = ring_name("full");
	struct cep_ring *r;
	struct cep_event ev[12];
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	fill(ev, 12, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev, 6), 6);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev + 6, 6), 2);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev + 8, 4), 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev, 0), 0);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.used, 8);
	ck_assert_uint_eq(st.dropped, 0);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_dequeue_burst_when_empty_takes_none)
{
	const char *name = ring_name("empty");
	struct cep_ring *r;
	struct cep_event ev[4];

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, ev, 4), 0);
	ck_assert_int_eq(cep_ring_wait(r, 0), 0);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_bulk_moves_all_or_nothing)
{
	const char *name = ring_name("bulk");
	struct cep_ring *r;
	struct cep_event in[8], out[8];

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	fill(in, 8, 40);
	ck_assert_uint_eq(cep_ring_enqueue_bulk(r, in, 5), 5);
	ck_assert_uint_eq(cep_ring_enqueue_bulk(r, in + 5, 4), 0);
	ck_assert_uint_eq(cep_ring_enqueue_bulk(r, in + 5, 3), 3);
	ck_assert_uint_eq(cep_ring_enqueue_bulk(r, in, 1), 0);

	ck_assert_uint_eq(cep_ring_dequeue_bulk(r, out, 9), 0);
	ck_assert_uint_eq(cep_ring_dequeue_bulk(r, out, 6), 6);
	ck_assert_uint_eq(cep_ring_dequeue_bulk(r, out + 6, 3), 0);
	ck_assert_uint_eq(cep_ring_dequeue_bulk(r, out + 6, 2), 2);
	for (unsigned i = 0; i < 8; i++)
		ck_assert(is_event(&out[i], 40 + i));
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_wraps_around_many_laps_keeping_order_and_content)
{
	const char *name = ring_name("wrap");
	struct cep_ring *r;
	struct cep_event in[13], out[13];
	uint32_t next_in = 0, next_out = 0;
	unsigned n, k, sizes[] = { 3, 7, 1, 13, 5, 8, 2 };

	ck_assert_int_eq(cep_ring_create(name, 16, &r), 0);
	/* Batches of sizes prime to the capacity put every seam of the
	 * wrap-around in the middle of a batch sooner or later. */
	for (unsigned i = 0; next_out < 16 * 2000; i++) {
		n = sizes[i % 7];
		fill(in, n, next_in);
		k = cep_ring_enqueue_burst(r, in, n);
		next_in += k;
		n = sizes[(i + 3) % 7];
		k = cep_ring_dequeue_burst(r, out, n);
		for (unsigned j = 0; j < k; j++)
			ck_assert_msg(is_event(&out[j], next_out + j),
				      "record %u damaged or out of order",
				      next_out + j);
		next_out += k;
	}
	ck_assert_uint_ge(next_in, next_out);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_enqueue_makes_no_wake_call_while_consumer_is_awake)
{
	const char *name = ring_name("nowake");
	struct cep_ring *r;
	struct cep_ring_shm *shm;
	struct cep_event ev[4];

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	shm = map_header(name);
	fill(ev, 4, 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev, 4), 4);
		ck_assert_uint_eq(cep_ring_dequeue_burst(r, ev, 4), 4);
	}
	/* The futex words are bumped only before a FUTEX_WAKE. */
	ck_assert_uint_eq(shm->cons_wait.futex, 0);
	ck_assert_uint_eq(shm->prod_wait.futex, 0);
	unmap_header(shm);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- overflow policies ------------------------------------------------------ */

START_TEST(ring_drop_policy_counts_what_does_not_fit)
{
	const char *name = ring_name("drop");
	struct cep_ring *r;
	struct cep_event in[16], out[16];
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	fill(in, 16, 0);
	ck_assert_int_eq(cep_ring_enqueue_policy(r, in, 5, CEP_OVERFLOW_DROP),
			 5);
	ck_assert_int_eq(
		cep_ring_enqueue_policy(r, in + 5, 5, CEP_OVERFLOW_DROP), 3);
	ck_assert_int_eq(
		cep_ring_enqueue_policy(r, in + 10, 6, CEP_OVERFLOW_DROP), 0);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.dropped, 2 + 6);
	ck_assert_uint_eq(st.enqueued, 8);
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, out, 16), 8);
	for (unsigned i = 0; i < 8; i++)
		ck_assert(is_event(&out[i], i));
	ck_assert_int_eq(cep_ring_enqueue_policy(r, in, 1, 7), -EINVAL);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

struct drain_arg {
	struct cep_ring *r;
	uint32_t expect;   /* records the producer will send */
	uint32_t got;      /* records read in order */
	int bad;           /* first wrong sequence number + 1, or 0 */
	int closed_seen;   /* 1 when wait returned -CEP_ECLOSED */
	useconds_t pause;  /* sleep between bursts: a slow consumer */
	unsigned max_burst;
};

static void *drain(void *p)
{
	struct drain_arg *a = p;
	struct cep_event out[128];
	unsigned seed = 7, want, k;
	int n;

	for (;;) {
		n = cep_ring_wait(a->r, 10000);
		if (n == -CEP_ECLOSED) {
			a->closed_seen = 1;
			break;
		}
		if (n <= 0)
			break;
		want = 1 + (unsigned)rand_r(&seed) % a->max_burst;
		k = cep_ring_dequeue_burst(a->r, out, want);
		for (unsigned i = 0; i < k; i++) {
			if (!a->bad && !is_event(&out[i], a->got))
				a->bad = (int)a->got + 1;
			a->got++;
		}
		if (a->pause)
			usleep(a->pause);
	}
	return NULL;
}

START_TEST(ring_block_policy_waits_for_the_consumer_and_loses_nothing)
{
	const char *name = ring_name("block");
	struct cep_ring *r;
	struct cep_event in[50];
	struct cep_ring_stats st;
	struct drain_arg a = { .expect = 3000, .pause = 200, .max_burst = 7 };
	pthread_t th;

	ck_assert_int_eq(cep_ring_create(name, 16, &r), 0);
	a.r = r;
	ck_assert_int_eq(pthread_create(&th, NULL, drain, &a), 0);
	/* Batches larger than the ring go in by pieces. */
	for (uint32_t seq = 0; seq < a.expect; seq += 50) {
		fill(in, 50, seq);
		ck_assert_int_eq(
			cep_ring_enqueue_policy(r, in, 50, CEP_OVERFLOW_BLOCK),
			50);
	}
	cep_ring_close(r);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.bad, 0);
	ck_assert_uint_eq(a.got, a.expect);
	ck_assert_int_eq(a.closed_seen, 1);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.enqueued, a.expect);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

struct fill_arg {
	struct cep_ring *r;
	uint32_t n;
};

static void *block_fill(void *p)
{
	struct fill_arg *a = p;
	struct cep_event ev[128];

	fill(ev, a->n, 0);
	cep_ring_enqueue_policy(a->r, ev, a->n, CEP_OVERFLOW_BLOCK);
	return NULL;
}

/* A producer asleep on a full ring is woken once a quarter of the ring is
 * free, not for each record the consumer takes (one FUTEX_WAKE then, and
 * none before). */
START_TEST(ring_sleeping_producer_wakes_at_a_quarter_ring_not_per_record)
{
	const char *name = ring_name("lowmark");
	struct cep_ring *r;
	struct cep_ring_shm *shm;
	struct cep_ring_stats st;
	struct cep_event ev[64];
	struct fill_arg a = { .n = 64 + 8 };
	pthread_t th;
	int slept = 0;

	ck_assert_int_eq(cep_ring_create(name, 64, &r), 0);
	shm = map_header(name);
	a.r = r;
	ck_assert_int_eq(pthread_create(&th, NULL, block_fill, &a), 0);
	/* Wait until it has filled the ring and gone to sleep. */
	for (int i = 0; i < 5000 && !slept; i++) {
		usleep(1000);
		slept = __atomic_load_n(&shm->prod_wait.sleeping, __ATOMIC_ACQUIRE);
	}
	ck_assert_int_eq(slept, 1);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.enqueued, 64);
	/* One record at a time up to 15 free slots: no wake-up. */
	for (int i = 0; i < 15; i++)
		ck_assert_uint_eq(cep_ring_dequeue_burst(r, ev, 1), 1);
	usleep(50000);
	ck_assert_uint_eq(__atomic_load_n(&shm->prod_wait.futex, __ATOMIC_ACQUIRE), 0);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.enqueued, 64);
	/* The 16th (a quarter of 64) wakes it, and the last 8 go in. */
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, ev, 1), 1);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(__atomic_load_n(&shm->prod_wait.futex, __ATOMIC_ACQUIRE), 1);
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.enqueued, 72);
	unmap_header(shm);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- producer counters and liveness ---------------------------------------- */

static struct cep_ring_producer_counters pc(uint64_t captured, uint64_t kdrop,
					     uint64_t ifdrop, uint64_t bad)
{
	struct cep_ring_producer_counters c = { captured, kdrop, ifdrop, bad };
	return c;
}

#define ck_assert_counters(got, a, b, c, d)                                  \
	do {                                                                 \
		ck_assert_uint_eq((got).captured, (a));                      \
		ck_assert_uint_eq((got).kernel_drops, (b));                  \
		ck_assert_uint_eq((got).if_drops, (c));                      \
		ck_assert_uint_eq((got).malformed, (d));                     \
	} while (0)

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

START_TEST(ring_producer_report_reaches_the_consumer_with_pid_and_heartbeat)
{
	const char *name = ring_name("report");
	struct cep_ring *prod, *cons;
	struct cep_ring_producer_counters c = pc(1000, 7, 3, 2);
	struct cep_ring_stats st;
	int64_t before, after;

	ck_assert_int_eq(cep_ring_create(name, 8, &cons), 0);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	cep_ring_stats(cons, &st);
	ck_assert_int_eq(st.producer_pid, 0);
	ck_assert_int_eq(st.heartbeat_ns, 0);
	ck_assert_int_eq(st.producer_reports, 0);
	ck_assert_counters(st.producer, 0, 0, 0, 0);

	before = wall_ns();
	cep_ring_producer_report(prod, &c);
	after = wall_ns();
	cep_ring_stats(cons, &st);
	ck_assert_counters(st.producer, 1000, 7, 3, 2);
	ck_assert_counters(st.producer_run, 1000, 7, 3, 2);
	/* A handle that never reopened starts its lifetime at this report. */
	ck_assert_int_eq(st.producer_pid, getpid());
	ck_assert_int_eq(st.producer_reports, 1);
	ck_assert_int_ge(st.heartbeat_ns, before);
	ck_assert_int_le(st.heartbeat_ns, after);

	/* Later reports replace this producer's share, they do not add. */
	c = pc(1500, 9, 3, 2);
	cep_ring_producer_report(prod, &c);
	cep_ring_stats(cons, &st);
	ck_assert_counters(st.producer, 1500, 9, 3, 2);
	cep_ring_destroy(prod);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_producer_counters_add_up_across_reopens_and_never_go_back)
{
	const char *name = ring_name("reportreopen");
	struct cep_ring *cons, *first, *second;
	struct cep_ring_producer_counters c;
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_open(name, 8, &cons, NULL), 0);
	ck_assert_int_eq(cep_ring_attach(name, &first), 0);
	ck_assert_int_eq(cep_ring_reopen(first), 0);
	c = pc(100, 5, 1, 4);
	cep_ring_producer_report(first, &c);
	cep_ring_close(first);
	cep_ring_destroy(first);

	/* A restarted collector counts from zero again (libpcap does). */
	ck_assert_int_eq(cep_ring_attach(name, &second), 0);
	ck_assert_int_eq(cep_ring_reopen(second), 0);
	cep_ring_stats(cons, &st);
	ck_assert_counters(st.producer, 100, 5, 1, 4);
	ck_assert_counters(st.producer_run, 0, 0, 0, 0);
	ck_assert_int_eq(st.producer_reports, 0);
	ck_assert_int_eq(st.closed, 0);

	c = pc(30, 2, 0, 0);
	cep_ring_producer_report(second, &c);
	cep_ring_stats(cons, &st);
	ck_assert_counters(st.producer, 130, 7, 1, 4);
	ck_assert_counters(st.producer_run, 30, 2, 0, 0);
	ck_assert_int_eq(st.producer_reports, 1);

	/* The engine reopening its end keeps the totals too. */
	cep_ring_destroy(cons);
	ck_assert_int_eq(cep_ring_open(name, 8, &cons, NULL), 0);
	cep_ring_stats(cons, &st);
	ck_assert_counters(st.producer, 130, 7, 1, 4);
	cep_ring_destroy(second);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_producer_counter_that_restarts_from_zero_keeps_the_totals)
{
	const char *name = ring_name("reportwrap");
	struct cep_ring *r;
	struct cep_ring_producer_counters c;
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	ck_assert_int_eq(cep_ring_reopen(r), 0);
	c = pc(50, 10, 0, 1);
	cep_ring_producer_report(r, &c);
	/* The capture handle was opened again: its counters start over. */
	c = pc(20, 10, 0, 0);
	cep_ring_producer_report(r, &c);
	cep_ring_stats(r, &st);
	ck_assert_counters(st.producer, 70, 10, 0, 1);
	ck_assert_counters(st.producer_run, 70, 10, 0, 1);
	c = pc(25, 12, 0, 0);
	cep_ring_producer_report(r, &c);
	cep_ring_stats(r, &st);
	ck_assert_counters(st.producer, 75, 12, 0, 1);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_producer_state_tells_none_alive_stale_and_closed)
{
	const char *name = ring_name("pstate");
	struct cep_ring *r;
	struct cep_ring_producer_counters c = pc(1, 0, 0, 0);
	struct cep_ring_stats st;
	int64_t later;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	cep_ring_stats(r, &st);
	ck_assert_int_eq(cep_ring_producer_state(&st, 0), CEP_RING_PRODUCER_NONE);
	ck_assert_int_eq(cep_ring_reopen(r), 0);
	cep_ring_stats(r, &st);
	ck_assert_int_eq(cep_ring_producer_state(&st, 0),
			 CEP_RING_PRODUCER_ALIVE);
	/* A producer that never reports is not judged by its heartbeat. */
	later = st.heartbeat_ns + (int64_t)(CEP_RING_STALE_MS + 1000) * 1000000;
	ck_assert_int_eq(cep_ring_producer_state(&st, later),
			 CEP_RING_PRODUCER_ALIVE);
	cep_ring_producer_report(r, &c);
	cep_ring_stats(r, &st);
	later = st.heartbeat_ns + (int64_t)(CEP_RING_STALE_MS + 1000) * 1000000;
	ck_assert_int_eq(cep_ring_producer_state(&st, later),
			 CEP_RING_PRODUCER_STALE);
	ck_assert_int_eq(cep_ring_producer_state(&st, st.heartbeat_ns + 1000),
			 CEP_RING_PRODUCER_ALIVE);
	cep_ring_close(r);
	cep_ring_stats(r, &st);
	ck_assert_int_eq(cep_ring_producer_state(&st, later),
			 CEP_RING_PRODUCER_CLOSED);
	ck_assert_str_eq(cep_ring_producer_state_name(CEP_RING_PRODUCER_NONE),
			 "none");
	ck_assert_str_eq(cep_ring_producer_state_name(CEP_RING_PRODUCER_ALIVE),
			 "alive");
	ck_assert_str_eq(cep_ring_producer_state_name(CEP_RING_PRODUCER_STALE),
			 "stale");
	ck_assert_str_eq(cep_ring_producer_state_name(CEP_RING_PRODUCER_CLOSED),
			 "closed");
	ck_assert_str_eq(cep_ring_producer_state_name(CEP_RING_PRODUCER_DEAD),
			 "dead");
	ck_assert_str_eq(cep_ring_producer_state_name(99), "?");
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_producer_that_died_without_closing_reads_as_dead)
{
	const char *name = ring_name("pdead");
	struct cep_ring *r;
	struct cep_ring_stats st;
	int status;
	pid_t pid;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cep_ring *child;
		struct cep_ring_producer_counters c = pc(42, 1, 0, 0);

		if (cep_ring_attach(name, &child) || cep_ring_reopen(child))
			_exit(3);
		cep_ring_producer_report(child, &c);
		_exit(0); /* no close: a crash, as far as the ring can tell */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cep_ring_stats(r, &st);
	ck_assert_int_eq(st.producer_pid, pid);
	ck_assert_counters(st.producer, 42, 1, 0, 0);
	ck_assert_int_eq(cep_ring_producer_state(&st, 0), CEP_RING_PRODUCER_DEAD);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

static void exit_on_fault(int sig)
{
	(void)sig;
	_exit(42);
}

START_TEST(ring_attach_readonly_reads_the_stats_and_cannot_write)
{
	const char *name = ring_name("readonly");
	struct cep_ring *r, *ro;
	struct cep_event ev[3];
	struct cep_ring_producer_counters c = pc(9, 1, 0, 0);
	struct cep_ring_stats st;
	int status;
	pid_t pid;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	fill(ev, 3, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, ev, 3), 3);
	cep_ring_producer_report(r, &c);
	ck_assert_int_eq(cep_ring_attach_readonly(name, &ro), 0);
	cep_ring_stats(ro, &st);
	ck_assert_uint_eq(st.enqueued, 3);
	ck_assert_uint_eq(st.used, 3);
	ck_assert_counters(st.producer, 9, 1, 0, 0);
	ck_assert_int_eq(st.producer_pid, getpid());

	/* A monitoring tool's handle cannot disturb the ring: any write
	 * faults. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = exit_on_fault };
		struct cep_event out[3];

		/* Our own handler, also under AddressSanitizer's. */
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		cep_ring_dequeue_burst(ro, out, 3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 42,
		      "a write through a read-only handle did not fault");
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.dequeued, 0);
	cep_ring_destroy(ro);
	ck_assert_int_eq(cep_ring_attach_readonly(ring_name("nothere"), &ro),
			 -ENOENT);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- waiting and closing ---------------------------------------------------- */

START_TEST(ring_wait_times_out_when_nothing_arrives)
{
	const char *name = ring_name("timeout");
	struct cep_ring *r;
	uint64_t t0;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	t0 = now_ms();
	ck_assert_int_eq(cep_ring_wait(r, 50), 0);
	ck_assert_uint_ge(now_ms() - t0, 49);
	ck_assert_uint_lt(now_ms() - t0, 2000);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

struct waiter_arg {
	struct cep_ring *r;
	int rc;
};

static void *wait_forever(void *p)
{
	struct waiter_arg *a = p;

	a->rc = cep_ring_wait(a->r, -1);
	return NULL;
}

START_TEST(ring_wait_sleeps_until_the_producer_enqueues)
{
	const char *name = ring_name("wake");
	struct cep_ring *prod, *cons;
	struct cep_ring_shm *shm;
	struct waiter_arg a = { .rc = -1 };
	struct cep_event ev[3];
	pthread_t th;

	ck_assert_int_eq(cep_ring_create(name, 8, &prod), 0);
	ck_assert_int_eq(cep_ring_attach(name, &cons), 0);
	shm = map_header(name);
	a.r = cons;
	ck_assert_int_eq(pthread_create(&th, NULL, wait_forever, &a), 0);
	/* Give the consumer time to spin out and go to sleep. */
	for (int i = 0; i < 200 && !__atomic_load_n(&shm->cons_wait.sleeping,
						      __ATOMIC_RELAXED);
	     i++)
		usleep(1000);
	ck_assert_uint_eq(__atomic_load_n(&shm->cons_wait.sleeping,
					  __ATOMIC_RELAXED),
			  1);
	fill(ev, 3, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(prod, ev, 3), 3);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.rc, 3);
	ck_assert_uint_eq(
		__atomic_load_n(&shm->cons_wait.futex, __ATOMIC_RELAXED), 1);
	unmap_header(shm);
	cep_ring_destroy(cons);
	cep_ring_destroy(prod);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_wait_after_close_returns_eclosed_once_drained)
{
	const char *name = ring_name("close");
	struct cep_ring *r;
	struct cep_event in[3], out[3];
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	fill(in, 3, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(r, in, 3), 3);
	cep_ring_close(r);
	cep_ring_close(r);
	cep_ring_stats(r, &st);
	ck_assert_int_eq(st.closed, 1);
	ck_assert_int_eq(cep_ring_wait(r, -1), 3);
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, out, 2), 2);
	ck_assert_int_eq(cep_ring_wait(r, 0), 1);
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, out + 2, 2), 1);
	ck_assert_int_eq(cep_ring_wait(r, 0), -CEP_ECLOSED);
	ck_assert_int_eq(cep_ring_wait(r, -1), -CEP_ECLOSED);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(is_event(&out[i], i));
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_close_wakes_a_sleeping_consumer)
{
	const char *name = ring_name("closewake");
	struct cep_ring *r;
	struct waiter_arg a = { .rc = 0 };
	pthread_t th;

	ck_assert_int_eq(cep_ring_create(name, 8, &r), 0);
	a.r = r;
	ck_assert_int_eq(pthread_create(&th, NULL, wait_forever, &a), 0);
	usleep(20000);
	cep_ring_close(r);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.rc, -CEP_ECLOSED);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- producer restarts (reopen) ------------------------------------------- */

START_TEST(ring_reopen_by_a_new_producer_delivers_after_the_old_one_closed)
{
	const char *name = ring_name("reopen");
	struct cep_ring *cons, *old, *fresh;
	struct cep_event in[8], out[8];
	struct cep_ring_stats st;

	ck_assert_int_eq(cep_ring_open(name, 8, &cons, NULL), 0);
	ck_assert_int_eq(cep_ring_attach(name, &old), 0);
	ck_assert_int_eq(cep_ring_reopen(old), 0);
	fill(in, 3, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(old, in, 3), 3);
	cep_ring_close(old);
	cep_ring_destroy(old);
	ck_assert_int_eq(cep_ring_wait(cons, 0), 3);
	ck_assert_uint_eq(cep_ring_dequeue_burst(cons, out, 8), 3);
	ck_assert_int_eq(cep_ring_wait(cons, 0), -CEP_ECLOSED);

	/* A second producer takes over the same ring. */
	ck_assert_int_eq(cep_ring_attach(name, &fresh), 0);
	ck_assert_int_eq(cep_ring_reopen(fresh), 0);
	cep_ring_stats(cons, &st);
	ck_assert_int_eq(st.closed, 0);
	ck_assert_int_eq(st.producer_pid, (int)getpid());
	ck_assert_int_eq(cep_ring_wait(cons, 0), 0); /* open and empty */
	fill(in, 4, 3);
	ck_assert_uint_eq(cep_ring_enqueue_burst(fresh, in, 4), 4);
	ck_assert_int_eq(cep_ring_wait(cons, 0), 4);
	ck_assert_uint_eq(cep_ring_dequeue_burst(cons, out + 3, 5), 4);
	for (unsigned i = 0; i < 7; i++)
		ck_assert(is_event(&out[i], i));
	cep_ring_close(fresh);
	ck_assert_int_eq(cep_ring_wait(cons, 0), -CEP_ECLOSED);
	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.enqueued, 7);
	ck_assert_uint_eq(st.dequeued, 7);
	cep_ring_destroy(fresh);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ring_wait_sleeps_again_after_a_reopen_until_records_arrive)
{
	const char *name = ring_name("reopenwake");
	struct cep_ring *cons, *prod;
	struct cep_ring_shm *shm;
	struct waiter_arg a = { .rc = -1 };
	struct cep_event ev[2];
	pthread_t th;

	ck_assert_int_eq(cep_ring_create(name, 8, &cons), 0);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	shm = map_header(name);
	cep_ring_close(prod);
	ck_assert_int_eq(cep_ring_wait(cons, -1), -CEP_ECLOSED);
	ck_assert_int_eq(cep_ring_reopen(prod), 0);
	a.r = cons;
	ck_assert_int_eq(pthread_create(&th, NULL, wait_forever, &a), 0);
	/* The consumer does not answer "closed" any more: it goes to sleep. */
	for (int i = 0; i < 2000 && !__atomic_load_n(&shm->cons_wait.sleeping,
						       __ATOMIC_RELAXED);
	     i++)
		usleep(1000);
	ck_assert_uint_eq(__atomic_load_n(&shm->cons_wait.sleeping,
					  __ATOMIC_RELAXED),
			  1);
	fill(ev, 2, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(prod, ev, 2), 2);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.rc, 2);
	unmap_header(shm);
	cep_ring_destroy(prod);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

#define RESTART_RECORDS 20000u

/*
 * The child: a whole collector process.  Attach, reopen, tell the parent
 * through @fd that the ring is ours, send @count records from @first under
 * the block policy, close, exit.
 */
static void __attribute__((noreturn))
produce_and_close(const char *name, int fd, uint32_t first, uint32_t count)
{
	struct cep_ring *r;
	struct cep_event batch[50];
	char ready = 'r';
	uint32_t seq = first, k;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(5);
	if (cep_ring_attach(name, &r) || cep_ring_reopen(r))
		_exit(2);
	if (write(fd, &ready, 1) != 1)
		_exit(4);
	while (seq < first + count) {
		k = first + count - seq < 50 ? first + count - seq : 50;
		fill(batch, k, seq);
		if (cep_ring_enqueue_policy(r, batch, k, CEP_OVERFLOW_BLOCK) !=
		    (int)k)
			_exit(3);
		seq += k;
	}
	cep_ring_close(r);
	cep_ring_destroy(r);
	_exit(0);
}

/* Start a producer process and return once it has reopened the ring. */
static pid_t start_producer(const char *name, uint32_t first, uint32_t count)
{
	int fds[2];
	char ready = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		produce_and_close(name, fds[1], first, count);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ready, 1), 1);
	ck_assert_int_eq(ready, 'r');
	close(fds[0]);
	return pid;
}

/* Consume, as a consumer that believes -CEP_ECLOSED, until the stream
 * says closed; returns the next expected sequence number. */
static uint32_t consume_until_closed(struct cep_ring *r, uint32_t expect)
{
	struct cep_event out[64];
	unsigned k;
	int n;

	while ((n = cep_ring_wait(r, 10000)) != -CEP_ECLOSED) {
		ck_assert_int_gt(n, 0);
		k = cep_ring_dequeue_burst(r, out, 64);
		for (unsigned i = 0; i < k; i++, expect++)
			ck_assert_msg(is_event(&out[i], expect),
				      "record %u damaged or out of order",
				      expect);
	}
	return expect;
}

START_TEST(ring_sequential_producer_processes_each_deliver_everything)
{
	const char *name = ring_name("restart");
	struct cep_ring *cons;
	struct cep_ring_stats st;
	uint32_t got;
	int status;
	pid_t pid;

	/* A small ring: each producer blocks on it many times, so both run
	 * while the consumer reads.  The counts are checked before waitpid():
	 * a producer stuck on a full ring dies with this test process. */
	ck_assert_int_eq(cep_ring_open(name, 64, &cons, NULL), 0);
	pid = start_producer(name, 0, RESTART_RECORDS);
	got = consume_until_closed(cons, 0);
	ck_assert_uint_eq(got, RESTART_RECORDS);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pid = start_producer(name, RESTART_RECORDS, RESTART_RECORDS);
	got = consume_until_closed(cons, got);
	ck_assert_uint_eq(got, 2 * RESTART_RECORDS);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.enqueued, 2 * RESTART_RECORDS);
	ck_assert_uint_eq(st.dequeued, 2 * RESTART_RECORDS);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_int_eq(st.closed, 1);
	ck_assert_int_eq(st.producer_pid, pid);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

/* --- collectors as producers --------------------------------------------------- */

/* Put the path of the collector binary @name in @path; fail the test when
 * it is missing. */
static char *collector(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%s", bin_dir, name);
	ck_assert_msg(access(path, X_OK) == 0,
		      "%s not found (set CEPTOR_BIN to the directory holding "
		      "the binaries)", path);
	return path;
}

/* Run @argv with stdout and stderr into @out (NUL-terminated, may be
 * NULL); give it 20 s.  Returns the exit status; *pid gets its pid. */
static int run(char *const argv[], pid_t *pid, char *out, size_t outsize)
{
	char log[] = "/tmp/cep-test-ring-out.XXXXXX";
	posix_spawn_file_actions_t fa;
	int fd = mkstemp(log), status = 0;
	ssize_t n;
	pid_t p;

	ck_assert_int_ge(fd, 0);
	unlink(log);
	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	ck_assert_int_eq(posix_spawn(&p, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2000 && waitpid(p, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(p, &status, WNOHANG) == 0) {
		kill(p, SIGKILL);
		waitpid(p, &status, 0);
		ck_abort_msg("%s did not finish within 20 s", argv[0]);
	}
	if (out) {
		n = pread(fd, out, outsize - 1, 0);
		out[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	*pid = p;
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Make a unique file from the template @path (mkstemp()). */
static void temp_file(char *path)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* A JSON Lines feed of @n events (ceptor-feed fills the defaults). */
static const char *write_feed(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "{\"indicator\":\"feed-%u\"}\n", i);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* A pcap file (Ethernet) of one UDP packet. */
static const char *write_pcap(const char *path)
{
	static const uint32_t hdr[6] = { 0xa1b2c3d4u, 0x00040002u, 0, 0,
					 65535, 1 };
	uint32_t rec[4] = { 1700000000u, 0, 42, 42 };
	uint8_t pkt[42] = { 0 };
	FILE *f = fopen(path, "wb");

	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[17] = 28;   /* total length */
	pkt[23] = 17;   /* UDP */
	pkt[26] = 192; pkt[29] = 1;
	pkt[30] = 192; pkt[33] = 2;
	pkt[35] = 53;   /* source port */
	pkt[37] = 53;   /* destination port */
	pkt[39] = 8;    /* UDP length */
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(hdr, sizeof hdr, 1, f), 1);
	ck_assert_int_eq(fwrite(rec, sizeof rec, 1, f), 1);
	ck_assert_int_eq(fwrite(pkt, sizeof pkt, 1, f), 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Dequeue until the ring says closed; returns the number of records. */
static unsigned drain_closed(struct cep_ring *r)
{
	struct cep_event out[64];
	unsigned got = 0;
	int n;

	while ((n = cep_ring_wait(r, 5000)) != -CEP_ECLOSED) {
		ck_assert_int_gt(n, 0);
		got += cep_ring_dequeue_burst(r, out, 64);
	}
	return got;
}

START_TEST(collectors_one_after_another_reopen_the_ring_and_all_records_arrive)
{
	const char *name = ring_name("collectors");
	char feed[] = "/tmp/cep-test-ring-feed.XXXXXX";
	char pcap[] = "/tmp/cep-test-ring-pcap.XXXXXX";
	char bin_feed[PATH_MAX], bin_pcap[PATH_MAX];
	struct cep_ring *cons;
	struct cep_ring_stats st;
	pid_t pid;

	temp_file(feed);
	temp_file(pcap);
	write_feed(feed, 5);
	write_pcap(pcap);
	collector("ceptor-feed", bin_feed);
	collector("ceptor-pcap", bin_pcap);
	ck_assert_int_eq(cep_ring_open(name, 64, &cons, NULL), 0);
	char *const feed_argv[] = { bin_feed, "--format", "jsonl",
				    "--ring", (char *)name, feed, NULL };
	char *const pcap_argv[] = { bin_pcap, "-r", pcap, "--ring",
				    (char *)name, NULL };

	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(run(feed_argv, &pid, NULL, 0), 0);
		cep_ring_stats(cons, &st);
		ck_assert_int_eq(st.producer_pid, pid);
		ck_assert_uint_eq(drain_closed(cons), 5);
		ck_assert_int_eq(run(pcap_argv, &pid, NULL, 0), 0);
		cep_ring_stats(cons, &st);
		ck_assert_int_eq(st.producer_pid, pid);
		ck_assert_uint_eq(drain_closed(cons), 1);
	}
	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.dequeued, 2 * (5 + 1));
	unlink(feed);
	unlink(pcap);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ceptor_feed_overflow_drop_counts_what_a_full_ring_refuses)
{
	const char *name = ring_name("feeddrop");
	char feed[] = "/tmp/cep-test-ring-feed.XXXXXX";
	char bin[PATH_MAX];
	struct cep_ring *cons;
	struct cep_ring_stats st;
	char out[1024];
	pid_t pid;

	collector("ceptor-feed", bin);
	temp_file(feed);
	write_feed(feed, 7);
	/* No one consumes: under block the collector would wait forever. */
	ck_assert_int_eq(cep_ring_create(name, 4, &cons), 0);
	char *const drop[] = { bin, "--format", "jsonl",
			       "--overflow", "drop", "--ring", (char *)name,
			       feed, NULL };
	ck_assert_int_eq(run(drop, &pid, NULL, 0), 0);
	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.enqueued, 4);
	ck_assert_uint_eq(st.dropped, 3);

	char *const bad[] = { bin, "--format", "jsonl", "--overflow",
			      "sideways", feed, NULL };
	ck_assert_int_eq(run(bad, &pid, out, sizeof out), 2);
	ck_assert_ptr_nonnull(strstr(out, "--overflow"));
	unlink(feed);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

START_TEST(ceptor_feed_says_why_it_cannot_attach_a_ring)
{
	const char *name = ring_name("feedmissing");
	char bin[PATH_MAX];
	char out[1024];
	pid_t pid;

	collector("ceptor-feed", bin);
	char *const argv[] = { bin, "--format", "jsonl", "--ring",
			       (char *)name, "-", NULL };
	ck_assert_int_eq(run(argv, &pid, out, sizeof out), 1);
	ck_assert_msg(strstr(out, "does not exist"), "no reason in: %s", out);
}
END_TEST

/* --- producer death ----------------------------------------------------------- */

/* The child: attach by name, enqueue forever, report each commit. */
static void __attribute__((noreturn)) produce_forever(const char *name, int fd)
{
	struct cep_ring *r;
	struct cep_event batch[64];
	unsigned seed = (unsigned)getpid(), k;
	uint32_t seq = 0;

	/* Never outlive a test process that failed or timed out. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(5);
	if (cep_ring_attach(name, &r))
		_exit(2);
	for (;;) {
		k = 1 + (unsigned)rand_r(&seed) % 64;
		fill(batch, k, seq);
		if (cep_ring_enqueue_policy(r, batch, k, CEP_OVERFLOW_BLOCK) !=
		    (int)k)
			_exit(3);
		seq += k;
		if (write(fd, &seq, sizeof seq) != sizeof seq)
			_exit(4);
	}
}

START_TEST(ring_keeps_committed_records_when_the_producer_is_killed)
{
	const char *name = ring_name("kill");
	struct cep_ring *r, *again;
	struct cep_event out[64];
	struct cep_ring_stats st;
	uint32_t expect = 0, reported = 0, v;
	int fds[2], status, n;
	unsigned k;
	pid_t pid;

	ck_assert_int_eq(cep_ring_create(name, 1024, &r), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		produce_forever(name, fds[1]);
	}
	close(fds[1]);

	/* Consume while the producer runs, then kill it mid-stream. */
	while (expect < 200000) {
		n = cep_ring_wait(r, 5000);
		ck_assert_int_gt(n, 0);
		k = cep_ring_dequeue_burst(r, out, 64);
		for (unsigned i = 0; i < k; i++, expect++)
			ck_assert_msg(is_event(&out[i], expect),
				      "record %u damaged or out of order",
				      expect);
	}
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	while (read(fds[0], &v, sizeof v) == sizeof v)
		reported = v;
	close(fds[0]);

	/* Every committed record is still there, once, in order. */
	while ((n = cep_ring_wait(r, 0)) > 0) {
		k = cep_ring_dequeue_burst(r, out, 64);
		for (unsigned i = 0; i < k; i++, expect++)
			ck_assert_msg(is_event(&out[i], expect),
				      "record %u damaged or out of order",
				      expect);
	}
	ck_assert_int_eq(n, 0); /* empty, and not closed */
	cep_ring_stats(r, &st);
	ck_assert_uint_eq(st.enqueued, expect);
	ck_assert_uint_eq(st.dequeued, expect);
	ck_assert_uint_ge(expect, reported);
	/* The batch that crossed 200000 may have been killed before its
	 * report; every earlier one was reported. */
	ck_assert_uint_ge(reported + 64, 200000);

	/* A restarted producer continues at the committed tail. */
	ck_assert_int_eq(cep_ring_attach(name, &again), 0);
	fill(out, 10, expect);
	ck_assert_int_eq(cep_ring_enqueue_policy(again, out, 10,
						 CEP_OVERFLOW_BLOCK),
			 10);
	ck_assert_uint_eq(cep_ring_dequeue_burst(r, out, 64), 10);
	for (unsigned i = 0; i < 10; i++)
		ck_assert(is_event(&out[i], expect + i));
	cep_ring_destroy(again);
	cep_ring_destroy(r);
	cep_ring_unlink(name);
}
END_TEST

/* --- producer counters under concurrency ------------------------------------- */

struct block_arg {
	struct cep_ring *r;
	const struct cep_event *ev;
	unsigned n;
	int rc;
};

static void *enqueue_blocking(void *p)
{
	struct block_arg *b = p;

	b->rc = cep_ring_enqueue_policy(b->r, b->ev, b->n, CEP_OVERFLOW_BLOCK);
	return NULL;
}

START_TEST(ring_blocked_producer_keeps_its_heartbeat_going)
{
	const char *name = ring_name("blockbeat");
	struct cep_ring *prod, *cons;
	struct cep_event in[12], out[12];
	struct cep_ring_stats st;
	struct block_arg b = { .n = 4, .rc = -1 };
	int64_t first;
	pthread_t th;
	int beat = 0;

	ck_assert_int_eq(cep_ring_create(name, 8, &cons), 0);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	ck_assert_int_eq(cep_ring_reopen(prod), 0);
	fill(in, 12, 0);
	ck_assert_uint_eq(cep_ring_enqueue_burst(prod, in, 8), 8);
	cep_ring_stats(cons, &st);
	first = st.heartbeat_ns;

	/* The producer blocks on the full ring in its own thread.  It beats
	 * once as it parks; it must keep beating while it stays blocked: two
	 * later heartbeats at least a second apart, at most 10 s in all. */
	b.r = prod;
	b.ev = in + 8;
	ck_assert_int_eq(pthread_create(&th, NULL, enqueue_blocking, &b), 0);
	int64_t last = first, t2 = 0, t3 = 0;
	for (int i = 0; i < 1000 && beat < 3; i++) {
		usleep(10000);
		cep_ring_stats(cons, &st);
		ck_assert_uint_eq(st.used, 8); /* still blocked */
		if (st.heartbeat_ns > last) {
			last = st.heartbeat_ns;
			beat++;
			if (beat == 2)
				t2 = last;
			else if (beat == 3)
				t3 = last;
		}
	}
	ck_assert_msg(beat == 3, "a producer blocked on a full ring stopped "
			    "beating (%d heartbeats)", beat);
	ck_assert_msg(t3 - t2 >= 900000000, "heartbeats %lld ns apart",
		      (long long)(t3 - t2));
	ck_assert_int_eq(cep_ring_producer_state(&st, 0),
			 CEP_RING_PRODUCER_ALIVE);
	ck_assert_uint_eq(cep_ring_dequeue_burst(cons, out, 12), 8);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(b.rc, 4);
	ck_assert_uint_eq(cep_ring_dequeue_burst(cons, out, 12), 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert(is_event(&out[i], 8 + i));
	cep_ring_destroy(prod);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

#define REPORTS 200000u

static void *reporter(void *p)
{
	struct cep_ring *r = p;

	cep_ring_reopen(r);
	for (uint64_t i = 1; i <= REPORTS; i++) {
		struct cep_ring_producer_counters c = pc(i, i / 2, i / 3,
							 i / 5);
		cep_ring_producer_report(r, &c);
	}
	cep_ring_close(r);
	return NULL;
}

START_TEST(ring_producer_reports_seen_concurrently_only_grow)
{
	const char *name = ring_name("reportrace");
	struct cep_ring *prod, *cons;
	struct cep_ring_stats st;
	struct cep_ring_producer_counters prev = { 0 };
	pthread_t th;
	unsigned snapshots = 0;

	ck_assert_int_eq(cep_ring_create(name, 8, &cons), 0);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, reporter, prod), 0);
	do {
		cep_ring_stats(cons, &st);
		ck_assert_uint_ge(st.producer.captured, prev.captured);
		ck_assert_uint_ge(st.producer.kernel_drops, prev.kernel_drops);
		ck_assert_uint_ge(st.producer.if_drops, prev.if_drops);
		ck_assert_uint_ge(st.producer.malformed, prev.malformed);
		ck_assert_uint_le(st.producer_run.captured, st.producer.captured);
		prev = st.producer;
		snapshots++;
	} while (!st.closed);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	/* closed was seen: the last report is in the same snapshot. */
	ck_assert_counters(st.producer, REPORTS, REPORTS / 2, REPORTS / 3,
			   REPORTS / 5);
	ck_assert_uint_gt(snapshots, 0);
	cep_ring_destroy(prod);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

/* --- stress ------------------------------------------------------------------- */

#define STRESS_RECORDS 2000000u

struct stress_prod {
	struct cep_ring *r;
	uint32_t count;
	int rc;
};

static void *stress_producer(void *p)
{
	struct stress_prod *a = p;
	struct cep_event batch[97];
	unsigned seed = 12345, k;
	uint32_t seq = 0;

	while (seq < a->count) {
		k = 1 + (unsigned)rand_r(&seed) % 97;
		if (k > a->count - seq)
			k = a->count - seq;
		fill(batch, k, seq);
		/* Alternate burst + block so both paths see a full ring. */
		if (seq & 1) {
			a->rc = cep_ring_enqueue_policy(a->r, batch, k,
							CEP_OVERFLOW_BLOCK);
			if (a->rc != (int)k)
				return NULL;
			seq += k;
		} else {
			seq += cep_ring_enqueue_burst(a->r, batch, k);
		}
	}
	cep_ring_close(a->r);
	a->rc = 0;
	return NULL;
}

START_TEST(ring_stress_threads_move_two_million_records_in_order)
{
	const char *name = ring_name("stress");
	struct cep_ring *prod, *cons;
	struct stress_prod pa = { .count = STRESS_RECORDS, .rc = -1 };
	struct drain_arg ca = { .expect = STRESS_RECORDS, .max_burst = 97 };
	struct cep_ring_stats st;
	pthread_t pt, ct;

	/* Two handles, as a producer and a consumer process would have. */
	ck_assert_int_eq(cep_ring_create(name, 256, &cons), 0);
	ck_assert_int_eq(cep_ring_attach(name, &prod), 0);
	pa.r = prod;
	ca.r = cons;
	ck_assert_int_eq(pthread_create(&ct, NULL, drain, &ca), 0);
	ck_assert_int_eq(pthread_create(&pt, NULL, stress_producer, &pa), 0);
	ck_assert_int_eq(pthread_join(pt, NULL), 0);
	ck_assert_int_eq(pthread_join(ct, NULL), 0);
	ck_assert_int_eq(pa.rc, 0);
	ck_assert_msg(ca.bad == 0, "record %d damaged or out of order",
		      ca.bad - 1);
	ck_assert_uint_eq(ca.got, STRESS_RECORDS);
	ck_assert_int_eq(ca.closed_seen, 1);
	cep_ring_stats(cons, &st);
	ck_assert_uint_eq(st.enqueued, STRESS_RECORDS);
	ck_assert_uint_eq(st.dequeued, STRESS_RECORDS);
	ck_assert_uint_eq(st.dropped, 0);
	cep_ring_destroy(prod);
	cep_ring_destroy(cons);
	cep_ring_unlink(name);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("core");
	TCase *slow = tcase_create("concurrency");
	TCase *bins = tcase_create("collectors");

	tcase_add_unchecked_fixture(tc, NULL, unlink_leftovers);
	tcase_add_test(tc, ring_create_then_attach_shares_records);
	tcase_add_test(tc, ring_attach_to_missing_segment_fails_with_enoent);
	tcase_add_test(tc, ring_name_without_slash_names_the_same_segment);
	tcase_add_test(tc, ring_create_refuses_capacity_not_power_of_two);
	tcase_add_test(tc, ring_create_replaces_an_existing_segment);
	tcase_add_test(tc, ring_attach_with_wrong_magic_fails_with_eversion);
	tcase_add_test(tc, ring_attach_with_wrong_version_fails_with_eversion);
	tcase_add_test(tc,
		       ring_attach_refuses_a_version_1_ring_without_producer_counters);
	tcase_add_test(tc,
		       ring_attach_with_wrong_record_size_fails_with_eversion);
	tcase_add_test(
		tc, ring_attach_with_capacity_beyond_segment_fails_with_emalformed);
	tcase_add_test(tc,
		       ring_attach_to_a_too_small_segment_fails_with_eversion);
	tcase_add_test(tc, ring_open_creates_a_missing_ring_and_says_so);
	tcase_add_test(tc, ring_open_keeps_the_records_of_an_existing_ring);
	tcase_add_test(tc, ring_open_refuses_another_capacity_and_keeps_the_ring);
	tcase_add_test(tc,
		       ring_open_refuses_an_incompatible_ring_without_replacing_it);
	tcase_add_test(tc, ring_enqueue_burst_when_full_takes_none);
	tcase_add_test(tc, ring_dequeue_burst_when_empty_takes_none);
	tcase_add_test(tc, ring_bulk_moves_all_or_nothing);
	tcase_add_test(tc,
		       ring_wraps_around_many_laps_keeping_order_and_content);
	tcase_add_test(tc,
		       ring_enqueue_makes_no_wake_call_while_consumer_is_awake);
	tcase_add_test(tc, ring_drop_policy_counts_what_does_not_fit);
	tcase_add_test(tc,
		       ring_sleeping_producer_wakes_at_a_quarter_ring_not_per_record);
	tcase_add_test(tc, ring_wait_times_out_when_nothing_arrives);
	tcase_add_test(tc, ring_wait_after_close_returns_eclosed_once_drained);
	tcase_add_test(tc,
		       ring_reopen_by_a_new_producer_delivers_after_the_old_one_closed);
	tcase_add_test(tc,
		       ring_producer_report_reaches_the_consumer_with_pid_and_heartbeat);
	tcase_add_test(tc,
		       ring_producer_counters_add_up_across_reopens_and_never_go_back);
	tcase_add_test(tc,
		       ring_producer_counter_that_restarts_from_zero_keeps_the_totals);
	tcase_add_test(tc, ring_producer_state_tells_none_alive_stale_and_closed);
	tcase_add_test(tc, ring_producer_that_died_without_closing_reads_as_dead);
	tcase_add_test(tc, ring_attach_readonly_reads_the_stats_and_cannot_write);
	suite_add_tcase(s, tc);

	/* Generous limits: ThreadSanitizer makes these several times slower;
	 * a lost wake-up shows as a timeout. */
	tcase_set_timeout(slow, 120);
	tcase_add_unchecked_fixture(slow, NULL, unlink_leftovers);
	tcase_add_test(slow,
		       ring_block_policy_waits_for_the_consumer_and_loses_nothing);
	tcase_add_test(slow, ring_wait_sleeps_until_the_producer_enqueues);
	tcase_add_test(slow, ring_close_wakes_a_sleeping_consumer);
	tcase_add_test(slow,
		       ring_wait_sleeps_again_after_a_reopen_until_records_arrive);
	tcase_add_test(slow,
		       ring_sequential_producer_processes_each_deliver_everything);
	tcase_add_test(slow,
		       ring_keeps_committed_records_when_the_producer_is_killed);
	tcase_add_test(slow, ring_blocked_producer_keeps_its_heartbeat_going);
	tcase_add_test(slow, ring_producer_reports_seen_concurrently_only_grow);
	tcase_add_test(slow, ring_stress_threads_move_two_million_records_in_order);
	suite_add_tcase(s, slow);

	tcase_set_timeout(bins, 60);
	tcase_add_unchecked_fixture(bins, NULL, unlink_leftovers);
	tcase_add_test(bins,
		       collectors_one_after_another_reopen_the_ring_and_all_records_arrive);
	tcase_add_test(bins,
		       ceptor_feed_overflow_drop_counts_what_a_full_ring_refuses);
	tcase_add_test(bins, ceptor_feed_says_why_it_cannot_attach_a_ring);
	suite_add_tcase(s, bins);
	return s;
}

/* $CEPTOR_BIN, else build/<flavour>/tests/test_ring -> build/<flavour>/bin
 * (build/bin for the release flavour). */
static void find_bin_dir(void)
{
	char exe[PATH_MAX - 128], probe[PATH_MAX];
	const char *env = getenv("CEPTOR_BIN");
	ssize_t n;

	if (env && *env) {
		snprintf(bin_dir, sizeof bin_dir, "%.*s",
			 (int)sizeof bin_dir - 1, env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(bin_dir, sizeof bin_dir, "%s/../bin", dirname(exe));
	snprintf(probe, sizeof probe, "%s/ceptor-feed", bin_dir);
	if (access(probe, X_OK))
		snprintf(bin_dir, sizeof bin_dir, "%s/../../bin", exe);
}

int main(void)
{
	SRunner *sr;
	int failed;

	runner_pid = getpid();
	find_bin_dir();
	sr = srunner_create(ring_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
