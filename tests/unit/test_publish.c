/*
 * test_publish.c - the Redis Streams publisher against a real redis-server:
 * order and fields, pipelining, spooling through outages, refusals, URLs.
 */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/publish.h"
#include "lib/clock.h"
#include "publish/cluster.h"
#include "publish/latency.h"
#include "tests/lib/redis_fixture.h"
#include "tests/lib/tmpdir.h"

static char spool_dir[64];

static void setup(void)
{
	cep_test_tmpdir(spool_dir, sizeof spool_dir, "ceptor-pubspool");
}

static void teardown(void)
{
	cep_test_rmtree(spool_dir);
}

static redisContext *connect_url(const char *url)
{
	struct cep_redis_url u;
	ck_assert_int_eq(cep_redis_url_parse(url, &u, NULL, 0), 0);
	redisContext *c = redisConnect(u.host, u.port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->err, 0);
	return c;
}

static void unique_stream(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "ceptor-test:{publish}:%ld:%s", (long)getpid(),
		 what);
}

/* A message: id=N, version=1, title with spaces, a ~300-byte json. */
static void add_msg(struct cep_publisher *p, const char *stream, int n)
{
	char id[32], json[320];
	snprintf(id, sizeof id, "%d", n);
	int len = snprintf(json, sizeof json,
			   "{\"id\":\"P2-2026-%06d\",\"title\":\"scan from "
			   "198.51.100.7 against telecom\",\"pad\":\"",
			   n);
	while (len < 300)
		json[len++] = 'x';
	json[len++] = '"';
	json[len++] = '}';
	json[len] = '\0';
	const char *fv[] = { "id", id, "version", "1", "title",
			     "Scan \xe2\x80\x94 telecom core", "json", json };
	ck_assert_int_eq(cep_publisher_add(p, stream, fv, 8), 0);
}

/*
 * Read the stream back and return the "id" field of each entry in order
 * (caller frees); *n receives the count.  Checks every entry's other fields.
 */
static int *read_ids(const char *url, const char *stream, size_t *n)
{
	redisContext *c = connect_url(url);
	redisReply *r = redisCommand(c, "XRANGE %s - +", stream);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	int *ids = calloc(r->elements + 1, sizeof *ids);
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *e = r->element[i];
		ck_assert_int_eq((int)e->elements, 2);
		redisReply *f = e->element[1];
		ck_assert_int_eq((int)f->elements, 8);
		ck_assert_str_eq(f->element[0]->str, "id");
		ids[i] = atoi(f->element[1]->str);
		ck_assert_str_eq(f->element[2]->str, "version");
		ck_assert_str_eq(f->element[3]->str, "1");
		ck_assert_str_eq(f->element[4]->str, "title");
		ck_assert_str_eq(f->element[5]->str,
				 "Scan \xe2\x80\x94 telecom core");
		ck_assert_str_eq(f->element[6]->str, "json");
		ck_assert_int_eq((int)f->element[7]->len, 302);
	}
	*n = r->elements;
	freeReplyObject(r);
	redisFree(c);
	return ids;
}

static void del_key(const char *url, const char *key)
{
	redisContext *c = connect_url(url);
	redisReply *r = redisCommand(c, "DEL %s", key);
	if (r)
		freeReplyObject(r);
	redisFree(c);
}

static struct cep_publish_config config(const char *url, const char *spool)
{
	struct cep_publish_config cfg = {
		.url = url,
		.spool_dir = spool,
		.batch = 16,
		.connect_timeout_ms = 500,
		.command_timeout_ms = 2000,
		.reconnect_ms = -1,
	};
	return cfg;
}

START_TEST(publisher_xadds_messages_in_order_with_every_field)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char stream[96];
	size_t n;

	ck_assert_int_eq(cep_test_redis_use(&r), 0);
	unique_stream(stream, sizeof stream, "order");
	struct cep_publish_config cfg = config(r.url, NULL);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 300; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.sent, 300);
	ck_assert_uint_eq(st.acked, 300);
	ck_assert_uint_eq(st.spooled, 0);
	ck_assert_int_eq(st.connected, 1);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, 300);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(ids[i], i);
	free(ids);
	del_key(r.url, stream);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_pipelines_many_batches_and_delivers_each_message_once)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char stream[96];
	size_t n;
	const int total = 20000;

	ck_assert_int_eq(cep_test_redis_use(&r), 0);
	unique_stream(stream, sizeof stream, "pipeline");
	struct cep_publish_config cfg = config(r.url, spool_dir);
	cfg.batch = 128;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < total; i++) {
		add_msg(p, stream, i);
		/* Pipelined: never more than two batches wait for replies. */
		if (i % 1000 == 999) {
			cep_publisher_stats(p, &st);
			ck_assert_uint_le(st.sent - st.acked, 2 * 128);
			ck_assert_uint_ge(st.acked, (uint64_t)(i + 1) - 3 * 128);
		}
	}
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.acked, (uint64_t)total);
	ck_assert_uint_eq(st.spooled, 0);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, (size_t)total);
	for (int i = 0; i < total; i++)
		ck_assert_int_eq(ids[i], i);
	free(ids);
	del_key(r.url, stream);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_spools_while_redis_is_down_and_a_new_publisher_replays_in_order)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64], stream[96];
	size_t n;

	r.port = cep_test_free_port();
	ck_assert_int_gt(r.port, 0);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
	unique_stream(stream, sizeof stream, "down-at-create");
	struct cep_publish_config cfg = config(url, spool_dir);

	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 500; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.spooled, 500);
	ck_assert_uint_eq(st.acked, 0);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_int_eq(st.connected, 0);
	ck_assert_uint_gt(st.spool_bytes, 500 * 300);
	cep_publisher_destroy(p);

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.replayed, 500);
	ck_assert_uint_eq(st.spool_bytes, 16);
	/* New messages follow the replayed ones. */
	for (int i = 500; i < 520; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, 520);
	for (int i = 0; i < 520; i++)
		ck_assert_int_eq(ids[i], i);
	free(ids);
	cep_test_redis_stop(&r);
}
END_TEST

/* A message added with an origin time has its latency (origin to reply)
 * recorded when Redis acknowledges it; one without, a command, or one
 * replayed from the spool (which does not keep the origin) has none; an
 * origin in the future is refused, not recorded. */
START_TEST(publisher_records_the_ack_latency_of_timed_messages_only)
{
	struct cep_test_redis r = { 0 }, down = { 0 };
	struct cep_publisher *p;
	struct cep_latency *lat = malloc(sizeof *lat);
	struct cep_latency_snap *s = malloc(sizeof *s);
	char stream[96], set[100], url[64], id[16];
	const char *fv[] = { "id", id, "version", "1" };
	const char *cmd[] = { "SADD", set, "x" };

	ck_assert_ptr_nonnull(lat);
	ck_assert_ptr_nonnull(s);
	cep_latency_init(lat);
	ck_assert_int_eq(cep_test_redis_use(&r), 0);
	unique_stream(stream, sizeof stream, "latency");
	snprintf(set, sizeof set, "%s:set", stream);
	struct cep_publish_config cfg = config(r.url, NULL);
	cfg.latency = lat;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	uint64_t before = cep_clock_wall_ns();
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "%d", i);
		ck_assert_int_eq(cep_publisher_add_at(p, stream, fv, 4,
						      before - 5000000), 0);
	}
	for (int i = 20; i < 30; i++) {
		snprintf(id, sizeof id, "%d", i);
		ck_assert_int_eq(cep_publisher_add(p, stream, fv, 4), 0);
	}
	snprintf(id, sizeof id, "future");
	ck_assert_int_eq(cep_publisher_add_at(p, stream, fv, 4,
					      before + 60000000000ull), 0);
	ck_assert_int_eq(cep_publisher_add_cmd(p, cmd, 3), 0);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	uint64_t after = cep_clock_wall_ns();
	cep_publisher_destroy(p);
	cep_latency_snapshot(lat, s);
	ck_assert_uint_eq(s->count, 20);
	ck_assert_uint_eq(s->refused, 1);
	ck_assert_uint_ge(cep_latency_quantile(s, 0.5), 5000000);
	ck_assert_uint_le(s->max_ns, after - before + 5000000);
	del_key(r.url, stream);
	del_key(r.url, set);

	/* Spooled while Redis is away, then replayed: not measured. */
	down.port = cep_test_free_port();
	ck_assert_int_gt(down.port, 0);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", down.port);
	cfg = config(url, spool_dir);
	cfg.latency = lat;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "s%d", i);
		ck_assert_int_eq(cep_publisher_add_at(p, stream, fv, 4,
						      cep_clock_wall_ns()), 0);
	}
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_destroy(p);
	ck_assert_int_eq(cep_test_redis_start(&down), 0);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	struct cep_publish_stats st;
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.replayed, 5);
	cep_publisher_destroy(p);
	cep_latency_snapshot(lat, s);
	ck_assert_uint_eq(s->count, 20);
	cep_test_redis_stop(&down);
	cep_test_redis_stop(&r);
	free(lat);
	free(s);
}
END_TEST

/* Commands of any kind ride in the same queue: spooled in order with the
 * XADDs while Redis is down, replayed by the next publisher, and each
 * reaches Redis (RPUSH shows the order and that none came twice). */
START_TEST(publisher_spools_and_replays_commands_in_order_with_the_xadds)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64], stream[96], list[96];
	size_t n;

	r.port = cep_test_free_port();
	ck_assert_int_gt(r.port, 0);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
	unique_stream(stream, sizeof stream, "cmd-stream");
	unique_stream(list, sizeof list, "cmd-list");
	struct cep_publish_config cfg = config(url, spool_dir);

	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	const char *bad[] = { "", "x" };
	ck_assert_int_eq(cep_publisher_add_cmd(p, bad, 2), -EINVAL);
	ck_assert_int_eq(cep_publisher_add_cmd(p, bad, 0), -EINVAL);
	for (int i = 0; i < 40; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", i);
		const char *cmd[] = { "RPUSH", list, v };
		add_msg(p, stream, i);
		ck_assert_int_eq(cep_publisher_add_cmd(p, cmd, 3), 0);
	}
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.spooled, 80);
	ck_assert_uint_eq(st.lost, 0);
	cep_publisher_destroy(p);

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.replayed, 80);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.spool_bytes, 16);
	const char *last[] = { "RPUSH", list, "40" };
	ck_assert_int_eq(cep_publisher_add_cmd(p, last, 3), 0);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.acked, 40);    /* XADDs */
	ck_assert_uint_eq(st.commands, 41); /* the rest */
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, 40);
	free(ids);
	redisContext *c = connect_url(r.url);
	redisReply *l = redisCommand(c, "LRANGE %s 0 -1", list);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->elements, 41);
	for (size_t i = 0; i < l->elements; i++)
		ck_assert_int_eq(atoi(l->element[i]->str), (int)i);
	freeReplyObject(l);
	redisFree(c);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_replays_the_spool_on_flush_once_redis_is_back)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64], stream[96];
	size_t n;

	r.port = cep_test_free_port();
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
	unique_stream(stream, sizeof stream, "back");
	struct cep_publish_config cfg = config(url, spool_dir);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 300; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	for (int i = 300; i < 500; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_int_eq(st.connected, 1);
	ck_assert_uint_eq(st.spool_bytes, 16);
	ck_assert_uint_eq(st.lost, 0);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, 500);
	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(ids[i], i);
	free(ids);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_loses_no_message_when_redis_is_killed_mid_run)
{
	struct cep_test_redis r = { .persist = 1 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char stream[96];
	size_t n;
	const int total = 10000;

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	unique_stream(stream, sizeof stream, "killed");
	struct cep_publish_config cfg = config(r.url, spool_dir);
	cfg.batch = 64;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < total; i++) {
		if (i == 4000)
			cep_test_redis_kill(&r); /* batches are in flight */
		if (i == 7000) {
			ck_assert_int_eq(cep_publisher_flush(p), 0);
			ck_assert_int_eq(cep_test_redis_start(&r), 0);
		}
		add_msg(p, stream, i);
	}
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_ge(st.disconnects, 1);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_gt(st.spooled, 0);
	ck_assert_uint_eq(st.spool_bytes, 16);
	cep_publisher_destroy(p);

	/* At least once; exactly once after the consumer's dedup by id. */
	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_ge(n, (size_t)total);
	ck_assert_uint_le(n, (size_t)total + 2 * 64);
	char *seen = calloc((size_t)total, 1);
	int last_first = -1, distinct = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ge(ids[i], 0);
		ck_assert_int_lt(ids[i], total);
		if (seen[ids[i]])
			continue;
		seen[ids[i]] = 1;
		distinct++;
		/* First sightings keep the publishing order. */
		ck_assert_int_gt(ids[i], last_first);
		last_first = ids[i];
	}
	ck_assert_int_eq(distinct, total);
	free(seen);
	free(ids);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_counts_an_error_reply_once_and_does_not_retry_it)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char good[96], bad[96];
	size_t n;

	ck_assert_int_eq(cep_test_redis_use(&r), 0);
	unique_stream(good, sizeof good, "good");
	unique_stream(bad, sizeof bad, "string-key");
	redisContext *c = connect_url(r.url);
	redisReply *rep = redisCommand(c, "SET %s notastream", bad);
	freeReplyObject(rep);
	redisFree(c);

	struct cep_publish_config cfg = config(r.url, spool_dir);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 40; i++)
		add_msg(p, i % 10 == 5 ? bad : good, i);
	ck_assert_int_eq(cep_publisher_flush(p), -CEP_EREDIS);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.errors, 4);
	ck_assert_uint_eq(st.acked, 36);
	ck_assert_ptr_nonnull(strstr(st.last_error, "WRONGTYPE"));
	/* Not retried: the next flush has nothing left to report. */
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.sent, 40);
	ck_assert_uint_eq(st.spooled, 0);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, good, &n);
	ck_assert_uint_eq(n, 36);
	free(ids);
	del_key(r.url, good);
	del_key(r.url, bad);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_without_spool_counts_lost_messages)
{
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64];

	snprintf(url, sizeof url, "redis://127.0.0.1:%d", cep_test_free_port());
	struct cep_publish_config cfg = config(url, NULL);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 40; i++)
		add_msg(p, "ceptor-test:lost", i);
	ck_assert_int_eq(cep_publisher_flush(p), -CEP_EREDIS);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.lost, 40);
	ck_assert_uint_ge(st.disconnects, 1);
	ck_assert_ptr_nonnull(strstr(st.last_error, "cannot connect"));
	cep_publisher_destroy(p);
}
END_TEST

START_TEST(publisher_tries_to_reconnect_at_most_once_per_interval)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64];

	r.port = cep_test_free_port();
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
	struct cep_publish_config cfg = config(url, spool_dir);
	cfg.reconnect_ms = 60000;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < 1000; i++)
		add_msg(p, "ceptor-test:throttle", i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.disconnects, 1); /* the attempt at create only */
	ck_assert_uint_eq(st.spooled, 1000);
	/* Redis is back, but the next attempt is not due for a minute. */
	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_int_eq(st.connected, 0);
	ck_assert_uint_eq(st.acked, 0);
	cep_publisher_destroy(p);
	cep_test_redis_stop(&r);
}
END_TEST

/* A Redis that stops answering (SIGSTOP) must cost a timeout, not a hang,
 * also after a reconnect: hiredis 0.14 drops the timeout on new sockets. */
START_TEST(publisher_times_out_on_a_frozen_redis_also_after_a_reconnect)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char stream[96];
	size_t n;

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	unique_stream(stream, sizeof stream, "frozen");
	struct cep_publish_config cfg = config(r.url, spool_dir);
	cfg.command_timeout_ms = 300;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	int next = 0;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 50; i++)
			add_msg(p, stream, next++);
		ck_assert_int_eq(cep_publisher_flush(p), 0);
		kill(r.pid, SIGSTOP);
		for (int i = 0; i < 50; i++)
			add_msg(p, stream, next++);
		time_t t0 = time(NULL);
		ck_assert_int_eq(cep_publisher_flush(p), 0);
		ck_assert_int_le((int)(time(NULL) - t0), 3);
		cep_publisher_stats(p, &st);
		ck_assert_uint_ge(st.disconnects, (uint64_t)round + 1);
		ck_assert_uint_gt(st.spool_bytes, 16);
		kill(r.pid, SIGCONT);
		ck_assert_int_eq(cep_publisher_flush(p), 0);
		cep_publisher_stats(p, &st);
		ck_assert_int_eq(st.connected, 1);
		ck_assert_uint_eq(st.spool_bytes, 16);
	}
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	char seen[200] = { 0 };
	int distinct = 0;
	for (size_t i = 0; i < n; i++)
		if (!seen[ids[i]]++)
			distinct++;
	ck_assert_int_eq(distinct, next);
	free(ids);
	cep_test_redis_stop(&r);
}
END_TEST

/*
 * The killer of a replay: watches the stream from its own connection and
 * SIGKILLs the server (by the PID the fixture started) once `at` entries
 * are in, which only a replay can have put there.
 */
struct replay_killer {
	const char *url, *stream;
	pid_t pid;
	long at;
	int killed;
};

static void *kill_when_stream_reaches(void *arg)
{
	struct replay_killer *k = arg;
	struct cep_redis_url u;
	if (cep_redis_url_parse(k->url, &u, NULL, 0))
		return NULL;
	redisContext *c = redisConnect(u.host, u.port);
	if (!c || c->err) {
		redisFree(c);
		return NULL;
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		redisReply *r = redisCommand(c, "XLEN %s", k->stream);
		long n = r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer
							       : -1;
		if (r)
			freeReplyObject(r);
		if (n >= k->at) {
			kill(k->pid, SIGKILL);
			k->killed = 1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (n < 0 || t.tv_sec - t0.tv_sec > 20)
			break;
	}
	redisFree(c);
	return NULL;
}

START_TEST(publisher_keeps_the_order_when_redis_dies_during_a_replay)
{
	struct cep_test_redis r = { .persist = 1 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char url[64], stream[96];
	size_t n;
	const int spooled = 5000, total = 6000;
	const unsigned batch = 16;

	/* 5000 messages spooled while Redis is down. */
	r.port = cep_test_free_port();
	ck_assert_int_gt(r.port, 0);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
	unique_stream(stream, sizeof stream, "killed-in-replay");
	struct cep_publish_config cfg = config(url, spool_dir);
	cfg.batch = batch;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 0; i < spooled; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_uint_eq(st.spooled, (uint64_t)spooled);

	/* Redis comes back and is killed while the flush replays. */
	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	struct replay_killer k = { .url = r.url, .stream = stream,
				   .pid = r.pid, .at = 1000 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, kill_when_stream_reaches,
					&k), 0);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	pthread_join(th, NULL);
	ck_assert_msg(k.killed, "the replay never reached 1000 entries");
	cep_test_redis_kill(&r); /* reap it */
	cep_publisher_stats(p, &st);
	ck_assert_int_eq(st.connected, 0);
	/* Cut short: some records acknowledged, the rest still spooled.  Redis
	 * held 1000 entries when it died, but the replies of up to two
	 * pipelined batches were still unread then. */
	ck_assert_uint_ge(st.replayed, 1000 - 2 * batch);
	ck_assert_uint_lt(st.replayed, (uint64_t)spooled);
	ck_assert_uint_gt(st.spool_bytes, 16);

	/* Newer messages arrive while Redis is down again. */
	for (int i = spooled; i < total - 500; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);

	/* Redis is back: the rest of the replay, and messages added on the
	 * way, before and after the flush that reconnects. */
	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	for (int i = total - 500; i < total; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_int_eq(st.connected, 1);
	ck_assert_uint_eq(st.spool_bytes, 16);
	ck_assert_uint_eq(st.lost, 0);
	/* Every message went through the spool once, and the resumed replay
	 * sent no acknowledged record again: the only repeats are what was in
	 * flight when Redis died, at most two batches. */
	ck_assert_uint_le(st.replayed, (uint64_t)total + 2 * batch);
	cep_publisher_destroy(p);

	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_ge(n, (size_t)total);
	ck_assert_uint_le(n, (size_t)total + 2 * batch);
	char *seen = calloc((size_t)total, 1);
	int expect = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ge(ids[i], 0);
		ck_assert_int_lt(ids[i], total);
		if (seen[ids[i]])
			continue;
		seen[ids[i]] = 1;
		/* First appearances come exactly in add() order. */
		ck_assert_int_eq(ids[i], expect);
		expect++;
	}
	ck_assert_int_eq(expect, total);
	free(seen);
	free(ids);
	cep_test_redis_stop(&r);
}
END_TEST

/* Against a closed port, attempts back off: 50, 100, 200, 400, 800 ms... */
START_TEST(publisher_backs_off_exponentially_between_reconnect_attempts)
{
	struct cep_publisher *p;
	struct cep_publish_stats st;
	struct timespec t0, t;
	char url[64];

	snprintf(url, sizeof url, "redis://127.0.0.1:%d", cep_test_free_port());
	struct cep_publish_config cfg = config(url, spool_dir);
	cfg.reconnect_ms = 50;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int i = 0;
	do {
		add_msg(p, "ceptor-test:backoff", i++);
		ck_assert_int_eq(cep_publisher_flush(p), 0);
		struct timespec ms = { 0, 2000000 };
		nanosleep(&ms, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
			 (t.tv_nsec - t0.tv_nsec) / 1000000 < 1600);
	cep_publisher_stats(p, &st);
	/* Attempts at about 0, 50, 150, 350, 750 and 1550 ms: six.  A fixed
	 * 50 ms interval would have made about 32. */
	ck_assert_uint_ge(st.disconnects, 4);
	ck_assert_uint_le(st.disconnects, 7);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.spooled, (uint64_t)i);
	cep_publisher_destroy(p);
}
END_TEST

/* The shared connection setup: AUTH and SELECT, and a refused AUTH. */
START_TEST(redis_connect_authenticates_selects_and_reports_a_refusal)
{
	struct cep_test_redis r = { 0 };
	struct cep_redis_url u;
	redisContext *c = NULL;
	char err[160], url[128];

	ck_assert_int_eq(cep_test_redis_start(&r), 0);
	redisContext *admin = connect_url(r.url);
	redisReply *rep = redisCommand(admin, "CONFIG SET requirepass s3cret");
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_ne(rep->type, REDIS_REPLY_ERROR);
	freeReplyObject(rep);
	redisFree(admin);

	snprintf(url, sizeof url, "redis://:s3cret@127.0.0.1:%d/3", r.port);
	ck_assert_int_eq(cep_redis_url_parse(url, &u, NULL, 0), 0);
	ck_assert_int_eq(cep_redis_connect(&u, 200, 1000, &c, err, sizeof err),
			 0);
	ck_assert_ptr_nonnull(c);
	rep = redisCommand(c, "CLIENT INFO");
	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_nonnull(strstr(rep->str, " db=3 "));
	freeReplyObject(rep);
	redisFree(c);

	snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", r.port);
	ck_assert_int_eq(cep_redis_url_parse(url, &u, NULL, 0), 0);
	c = (redisContext *)&c;
	ck_assert_int_eq(cep_redis_connect(&u, 200, 1000, &c, err, sizeof err),
			 -CEP_EREDIS);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "AUTH"));
	cep_test_redis_stop(&r);

	ck_assert_int_eq(cep_redis_connect(&u, 200, 1000, &c, err, sizeof err),
			 -CEP_EREDIS);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(publisher_refuses_a_bad_url_with_econfig)
{
	static const char *const bad[] = {
		"", "redis://", "redis://host:0", "redis://host:99999",
		"http://host:6379", "rediss://host:6379", "redis://::1:6379",
		"redis://host:12a", "redis://host:6379/x", "redis://user@host",
		"redis://[::1:6379",
	};
	struct cep_publisher *p = (struct cep_publisher *)&p;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct cep_publish_config cfg = config(bad[i], NULL);
		ck_assert_msg(cep_publisher_create(&cfg, &p) == -CEP_ECONFIG,
			      "accepted \"%s\"", bad[i]);
		ck_assert_ptr_null(p);
	}
}
END_TEST

START_TEST(redis_url_parse_reads_every_part)
{
	struct cep_redis_url u;
	char err[128];
	ck_assert_int_eq(cep_redis_url_parse("redis://bob:s3cret@[::1]:6380/2",
					     &u, err, sizeof err), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 2);
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.pass, "s3cret");
	ck_assert_int_eq(cep_redis_url_parse("localhost:7000", &u, NULL, 0), 0);
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_int_eq(u.port, 7000);
	ck_assert_int_eq(u.db, 0);
	ck_assert_int_eq(cep_redis_url_parse("redis://:pw@h", &u, NULL, 0), 0);
	ck_assert_int_eq(u.port, 6379);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_int_eq(cep_redis_url_parse("redis://h:0", &u, err, sizeof err),
			 -CEP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "port"));
}
END_TEST

START_TEST(publisher_destroy_accepts_null)
{
	cep_publisher_destroy(NULL);
}
END_TEST


/* --- Redis Cluster routing (publish/cluster.h) ----------------------------- */

static unsigned slot_of(const char *key)
{
	return cep_cluster_key_slot(key, strlen(key));
}

START_TEST(cluster_crc16_matches_the_specification_vector)
{
	/* The Redis Cluster specification's test vector (CRC16/XMODEM). */
	ck_assert_uint_eq(cep_cluster_crc16("123456789", 9), 0x31C3);
	ck_assert_uint_eq(cep_cluster_crc16("", 0), 0);
	ck_assert_uint_eq(cep_cluster_crc16("A", 1), 0x58E5);
	/* Slots that redis-cli CLUSTER KEYSLOT gives for the same keys. */
	ck_assert_uint_eq(slot_of("123456789"), 0x31C3);
	ck_assert_uint_eq(slot_of("foo"), 12182);
	ck_assert_uint_eq(slot_of("bar"), 5061);
	ck_assert_uint_eq(slot_of("ceptor:{finance}:incidents"),
			  slot_of("finance"));
}
END_TEST

static void expect_tag(const char *key, const char *want)
{
	size_t off, n;
	cep_cluster_hash_tag(key, strlen(key), &off, &n);
	ck_assert_msg(n == strlen(want) && !memcmp(key + off, want, n),
		      "tag of \"%s\": \"%.*s\", want \"%s\"", key, (int)n,
		      key + off, want);
}

START_TEST(cluster_hash_tag_is_the_first_braces_when_not_empty)
{
	expect_tag("ceptor:{finance}:incidents", "finance");
	expect_tag("{user1000}.following", "user1000");
	expect_tag("foo{bar}{zap}", "bar");       /* the first { ... } */
	expect_tag("foo{{bar}}zap", "{bar");      /* first '{', next '}' */
	expect_tag("foo{}{bar}", "foo{}{bar}");   /* empty: the whole key */
	expect_tag("foo{bar", "foo{bar");         /* no '}': the whole key */
	expect_tag("foo}bar{", "foo}bar{");       /* '}' before '{' only */
	expect_tag("nobraces", "nobraces");
	expect_tag("{x}", "x");
	/* A sector's streams share a slot; two sectors need not. */
	ck_assert_uint_eq(slot_of("ceptor:{finance}:incidents"),
			  slot_of("ceptor:{finance}:advisories"));
	ck_assert_uint_eq(slot_of("ceptor-exercise:{finance}:incidents"),
			  slot_of("ceptor:{finance}:incidents"));
	ck_assert_uint_eq(slot_of("{user1000}.following"),
			  slot_of("{user1000}.followers"));
	ck_assert_uint_ne(slot_of("ceptor:{finance}:incidents"),
			  slot_of("ceptor:{telecom}:incidents"));
}
END_TEST

/* Parse RESP bytes into a reply with hiredis's own reader. */
static redisReply *parse_resp(const char *resp)
{
	redisReader *rd = redisReaderCreate();
	void *r = NULL;
	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
	ck_assert_int_eq(redisReaderGetReply(rd, &r), REDIS_OK);
	ck_assert_ptr_nonnull(r);
	redisReaderFree(rd);
	return r;
}

/* A CLUSTER SLOTS reply of Redis 7.0 for a 3-master, 3-replica cluster
 * (ids shortened), with slots 16000..16383 left unassigned and the third
 * master announcing an empty host. */
static const char CANNED_SLOTS[] =
	"*3\r\n"
	"*4\r\n:0\r\n:5460\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$2\r\nm1\r\n*0\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30004\r\n$2\r\nr1\r\n*0\r\n"
	"*4\r\n:5461\r\n:10922\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30002\r\n$2\r\nm2\r\n*0\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30005\r\n$2\r\nr2\r\n*0\r\n"
	"*3\r\n:10923\r\n:15999\r\n"
	"*4\r\n$0\r\n\r\n:30003\r\n$2\r\nm3\r\n*0\r\n";

START_TEST(cluster_map_loads_masters_and_slot_ranges_from_cluster_slots)
{
	struct cep_cluster_map m;
	char err[160];
	redisReply *r = parse_resp(CANNED_SLOTS);

	cep_cluster_map_init(&m);
	ck_assert_int_eq(cep_cluster_map_load(&m, r, "10.0.0.9", err, sizeof err),
			 0);
	ck_assert_uint_eq(m.nnodes, 3); /* masters only */
	ck_assert_str_eq(m.nodes[0].host, "127.0.0.1");
	ck_assert_int_eq(m.nodes[0].port, 30001);
	ck_assert_int_eq(m.nodes[1].port, 30002);
	/* The empty host is the node that answered. */
	ck_assert_str_eq(m.nodes[2].host, "10.0.0.9");
	ck_assert_int_eq(m.nodes[2].port, 30003);
	ck_assert_int_eq(m.nodes[0].replicas, 1);
	ck_assert_int_eq(m.nodes[2].replicas, 0);
	ck_assert_uint_eq(m.slot_node[0], 0);
	ck_assert_uint_eq(m.slot_node[5460], 0);
	ck_assert_uint_eq(m.slot_node[5461], 1);
	ck_assert_uint_eq(m.slot_node[10922], 1);
	ck_assert_uint_eq(m.slot_node[10923], 2);
	ck_assert_uint_eq(m.slot_node[15999], 2);
	ck_assert_uint_eq(m.slot_node[16000], CEP_CLUSTER_NO_NODE);
	ck_assert_uint_eq(m.slot_node[16383], CEP_CLUSTER_NO_NODE);
	ck_assert_uint_eq(m.slot_node[slot_of("foo")], 2);   /* 12182 */
	ck_assert_uint_eq(m.slot_node[slot_of("bar")], 0);   /* 5061 */

	/* A later map: nodes keep their indices, a new one is appended,
	 * slots follow the new map. */
	redisReply *r2 = parse_resp("*1\r\n*3\r\n:0\r\n:16383\r\n"
				    "*3\r\n$9\r\n127.0.0.1\r\n:30006\r\n$2\r\nm4\r\n");
	ck_assert_int_eq(cep_cluster_map_load(&m, r2, NULL, err, sizeof err), 0);
	ck_assert_uint_eq(m.nnodes, 4);
	ck_assert_int_eq(m.nodes[3].port, 30006);
	ck_assert_uint_eq(m.slot_node[0], 3);
	ck_assert_uint_eq(m.slot_node[16383], 3);
	ck_assert_int_eq(cep_cluster_map_node(&m, "127.0.0.1", 30002), 1);
	freeReplyObject(r2);
	freeReplyObject(r);
	cep_cluster_map_fini(&m);
}
END_TEST

START_TEST(cluster_map_refuses_a_reply_of_another_shape_and_keeps_the_old_map)
{
	struct cep_cluster_map m;
	char err[160];
	redisReply *good = parse_resp(CANNED_SLOTS);
	const char *bad[] = {
		"-ERR This instance has cluster support disabled\r\n",
		":5\r\n",
		"*1\r\n*2\r\n:0\r\n:100\r\n",                 /* no master */
		"*1\r\n*3\r\n:100\r\n:0\r\n*2\r\n$1\r\nh\r\n:1\r\n", /* last < first */
		"*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n", /* slot range */
		"*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:70000\r\n", /* port */
		"*2\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nn\r\n:7\r\n$3\r\nbad\r\n",
	};

	cep_cluster_map_init(&m);
	ck_assert_int_eq(cep_cluster_map_load(&m, good, NULL, err, sizeof err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		redisReply *r = parse_resp(bad[i]);
		err[0] = 0;
		ck_assert_int_eq(cep_cluster_map_load(&m, r, NULL, err, sizeof err),
				 -EPROTO);
		ck_assert_msg(strstr(err, "CLUSTER SLOTS") != NULL,
			      "reason for reply %zu: \"%s\"", i, err);
		freeReplyObject(r);
		/* The old map stands: no node added, slots unchanged. */
		ck_assert_uint_eq(m.nnodes, 3);
		ck_assert_uint_eq(m.slot_node[0], 0);
		ck_assert_uint_eq(m.slot_node[16000], CEP_CLUSTER_NO_NODE);
	}
	freeReplyObject(good);
	cep_cluster_map_fini(&m);
}
END_TEST

START_TEST(cluster_redirect_parse_reads_moved_and_ask)
{
	char host[64];
	unsigned slot;
	int ask, port;
	const char *m = "MOVED 3999 127.0.0.1:6381";
	ck_assert_int_eq(cep_cluster_redirect_parse(m, strlen(m), &ask, &slot,
						    host, sizeof host, &port), 0);
	ck_assert_int_eq(ask, 0);
	ck_assert_uint_eq(slot, 3999);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 6381);
	const char *a = "ASK 16383 ::1:7002";
	ck_assert_int_eq(cep_cluster_redirect_parse(a, strlen(a), &ask, &slot,
						    host, sizeof host, &port), 0);
	ck_assert_int_eq(ask, 1);
	ck_assert_uint_eq(slot, 16383);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 7002);
	const char *e = "MOVED 12 :7000"; /* empty host: the sender's */
	ck_assert_int_eq(cep_cluster_redirect_parse(e, strlen(e), &ask, &slot,
						    host, sizeof host, &port), 0);
	ck_assert_str_eq(host, "");
	const char *no[] = { "ERR wrong type", "MOVED 16384 h:1", "MOVED x h:1",
			     "ASK 1 h", "ASK 1 h:0", "MOVED 1 h:99999",
			     "CLUSTERDOWN The cluster is down" };
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert_msg(cep_cluster_redirect_parse(no[i], strlen(no[i]),
							 &ask, &slot, host,
							 sizeof host, &port) ==
				      -EINVAL,
			      "\"%s\" parsed", no[i]);
}
END_TEST

START_TEST(publisher_against_a_single_redis_stays_in_single_mode)
{
	struct cep_test_redis r = { 0 };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	char stream[96];

	ck_assert_int_eq(cep_test_redis_use(&r), 0);
	unique_stream(stream, sizeof stream, "single-mode");
	del_key(r.url, stream);
	struct cep_publish_config cfg = config(r.url, spool_dir);
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	for (int i = 1; i <= 40; i++)
		add_msg(p, stream, i);
	ck_assert_int_eq(cep_publisher_flush(p), 0);
	cep_publisher_stats(p, &st);
	ck_assert_int_eq(st.cluster, 0);
	ck_assert_uint_eq(st.masters, 0);
	ck_assert_uint_eq(st.acked, 40);
	ck_assert_uint_eq(st.at_risk, 0);
	ck_assert_uint_eq(st.redirects, 0);
	ck_assert_int_eq(st.connected, 1);
	size_t n;
	int *ids = read_ids(r.url, stream, &n);
	ck_assert_uint_eq(n, 40);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ids[i], (int)i + 1);
	free(ids);
	cep_publisher_destroy(p);
	del_key(r.url, stream);
	cep_test_redis_stop(&r);
}
END_TEST

START_TEST(publisher_refuses_a_wait_timeout_not_below_the_command_timeout)
{
	struct cep_publisher *p = NULL;
	struct cep_publish_config cfg = config("redis://127.0.0.1:1", NULL);
	cfg.wait_timeout_ms = cfg.command_timeout_ms;
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), -CEP_ECONFIG);
	ck_assert_ptr_null(p);
	cfg.wait_replicas = -1; /* no WAIT: no constraint */
	ck_assert_int_eq(cep_publisher_create(&cfg, &p), 0);
	cep_publisher_destroy(p);
}
END_TEST

static Suite *publish_suite(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, publisher_xadds_messages_in_order_with_every_field);
	tcase_add_test(tc, publisher_pipelines_many_batches_and_delivers_each_message_once);
	tcase_add_test(tc, publisher_spools_while_redis_is_down_and_a_new_publisher_replays_in_order);
	tcase_add_test(tc, publisher_replays_the_spool_on_flush_once_redis_is_back);
	tcase_add_test(tc, publisher_loses_no_message_when_redis_is_killed_mid_run);
	tcase_add_test(tc, publisher_counts_an_error_reply_once_and_does_not_retry_it);
	tcase_add_test(tc, publisher_without_spool_counts_lost_messages);
	tcase_add_test(tc, publisher_tries_to_reconnect_at_most_once_per_interval);
	tcase_add_test(tc, publisher_times_out_on_a_frozen_redis_also_after_a_reconnect);
	tcase_add_test(tc, publisher_keeps_the_order_when_redis_dies_during_a_replay);
	tcase_add_test(tc, publisher_backs_off_exponentially_between_reconnect_attempts);
	tcase_add_test(tc, redis_connect_authenticates_selects_and_reports_a_refusal);
	tcase_add_test(tc, publisher_refuses_a_bad_url_with_econfig);
	tcase_add_test(tc, redis_url_parse_reads_every_part);
	tcase_add_test(tc, publisher_destroy_accepts_null);
	tcase_add_test(tc, publisher_spools_and_replays_commands_in_order_with_the_xadds);
	tcase_add_test(tc, publisher_against_a_single_redis_stays_in_single_mode);
	tcase_add_test(tc, publisher_refuses_a_wait_timeout_not_below_the_command_timeout);
	tcase_add_test(tc, publisher_records_the_ack_latency_of_timed_messages_only);
	suite_add_tcase(s, tc);

	TCase *cl = tcase_create("cluster");
	tcase_add_test(cl, cluster_crc16_matches_the_specification_vector);
	tcase_add_test(cl, cluster_hash_tag_is_the_first_braces_when_not_empty);
	tcase_add_test(cl, cluster_map_loads_masters_and_slot_ranges_from_cluster_slots);
	tcase_add_test(cl, cluster_map_refuses_a_reply_of_another_shape_and_keeps_the_old_map);
	tcase_add_test(cl, cluster_redirect_parse_reads_moved_and_ask);
	suite_add_tcase(s, cl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(publish_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
