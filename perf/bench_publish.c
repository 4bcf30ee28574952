/*
 * bench_publish.c - incidents/s published to Redis Streams.
 *
 * Ours: cep_publisher (batch 128, pipelined) publishing ~300-byte incident
 * messages.  Peers: the same messages through raw hiredis 0.14, pipelined
 * the same way (batch k+1 written before the replies of batch k are read)
 * with nothing else around it: the upper bound of the client library; and
 * redis-benchmark (issue 7's peer) sending the same XADD, fields and
 * payload with -P 128 from its own process: the server's own rate.
 *
 * The Redis server comes from the driver: CEPTOR_BENCH_REDIS_URL (perf/run.sh
 * starts one).  Without it the benchmark says so and exits 0.  Each run
 * publishes BENCH_MSGS messages to a fresh stream that is deleted afterwards;
 * the figure is the median of BENCH_REPS runs (a few seconds in all).
 *
 * Output: ROW\t<what>\t<ours>\t<peer>\t<ours/peer>\t<command>
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/publish.h"

#define BENCH_MSGS 100000
#define BENCH_REPS 3
#define BATCH 128

static char json[300];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The flat fields of an incident message; about 300 bytes in all. */
static void fields(int i, char *id, size_t idsize, const char **fv)
{
	snprintf(id, idsize, "P2-2026-%06d", i);
	fv[0] = "id";         fv[1] = id;
	fv[2] = "version";    fv[3] = "1";
	fv[4] = "priority";   fv[5] = "P2";
	fv[6] = "confidence"; fv[7] = "0.82";
	fv[8] = "sector";     fv[9] = "telecom";
	fv[10] = "json";      fv[11] = json;
}

static redisContext *connect_url(const char *url)
{
	struct cep_redis_url u;
	char err[128];
	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "bench_publish: bad URL: %s\n", err);
		exit(1);
	}
	redisContext *c = redisConnect(u.host, u.port);
	if (!c || c->err) {
		fprintf(stderr, "bench_publish: cannot connect to %s\n", url);
		exit(1);
	}
	return c;
}

static void del(redisContext *c, const char *key)
{
	redisReply *r = redisCommand(c, "DEL %s", key);
	if (r)
		freeReplyObject(r);
}

static double run_ours(const char *url, const char *key)
{
	struct cep_publish_config cfg = { .url = url, .batch = BATCH };
	struct cep_publisher *p;
	struct cep_publish_stats st;
	const char *fv[12];
	char id[32];

	if (cep_publisher_create(&cfg, &p)) {
		fprintf(stderr, "bench_publish: publisher create failed\n");
		exit(1);
	}
	double t0 = now_s();
	for (int i = 0; i < BENCH_MSGS; i++) {
		fields(i, id, sizeof id, fv);
		cep_publisher_add(p, key, fv, 12);
	}
	int rc = cep_publisher_flush(p);
	double dt = now_s() - t0;
	cep_publisher_stats(p, &st);
	if (rc || st.acked != BENCH_MSGS) {
		fprintf(stderr, "bench_publish: only %llu of %d acknowledged "
				"(%s)\n", (unsigned long long)st.acked,
			BENCH_MSGS, st.last_error);
		exit(1);
	}
	cep_publisher_destroy(p);
	return BENCH_MSGS / dt;
}

static int read_replies(redisContext *c, int n)
{
	for (int i = 0; i < n; i++) {
		redisReply *r;
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return -1;
		freeReplyObject(r);
	}
	return 0;
}

static double run_peer(redisContext *c, const char *key)
{
	const char *argv[15];
	const char **fv = argv + 3;
	char id[32];
	int pending = 0, done;

	argv[0] = "XADD";
	argv[1] = key;
	argv[2] = "*";
	double t0 = now_s();
	for (int i = 0; i < BENCH_MSGS;) {
		int n = BENCH_MSGS - i < BATCH ? BENCH_MSGS - i : BATCH;
		for (int k = 0; k < n; k++, i++) {
			fields(i, id, sizeof id, fv);
			redisAppendCommandArgv(c, 15, argv, NULL);
		}
		do {
			if (redisBufferWrite(c, &done) != REDIS_OK)
				goto fail;
		} while (!done);
		if (read_replies(c, pending))
			goto fail;
		pending = n;
	}
	if (read_replies(c, pending))
		goto fail;
	return BENCH_MSGS / (now_s() - t0);
fail:
	fprintf(stderr, "bench_publish: peer: %s\n", c->errstr);
	exit(1);
}

/*
 * redis-benchmark -P BATCH XADD with the same fields and payload (the id
 * fixed: redis-benchmark repeats one command); its "requests per second"
 * figure, or 0 when it is not installed or said nothing we can read.
 */
static double run_redis_benchmark(const char *url, const char *key)
{
	struct cep_redis_url u;
	char err[128], cmd[1024], line[512];
	double rate = 0;

	if (cep_redis_url_parse(url, &u, err, sizeof err))
		return 0;
	snprintf(cmd, sizeof cmd,
		 "redis-benchmark -h %s -p %d -n %d -P %d -q "
		 "XADD %s '*' id P2-2026-000001 version 1 priority P2 "
		 "confidence 0.82 sector telecom json '%s' 2>/dev/null",
		 u.host, u.port, BENCH_MSGS, BATCH, key, json);
	FILE *f = popen(cmd, "r");
	if (!f)
		return 0;
	/* "XADD ...: 312500.00 requests per second, p50=..." (the line may
	 * be repainted with carriage returns first). */
	while (fgets(line, sizeof line, f)) {
		char *rps = strstr(line, " requests per second");
		if (!rps)
			continue;
		char *start = rps;
		while (start > line && start[-1] != ' ')
			start--;
		rate = strtod(start, NULL);
	}
	pclose(f);
	return rate;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *url = getenv("CEPTOR_BENCH_REDIS_URL");
	double ours[BENCH_REPS], peer[BENCH_REPS], rb[BENCH_REPS];
	char key[64];

	(void)argc;
	if (!url || !*url) {
		fprintf(stderr, "bench_publish: CEPTOR_BENCH_REDIS_URL is not "
				"set (perf/run.sh starts a redis-server); "
				"skipped\n");
		return 0;
	}
	memset(json, 'x', sizeof json - 1);
	memcpy(json, "{\"id\":\"P2-2026-000000\",\"title\":\"scan\",\"p\":\"", 44);
	json[235] = '\0'; /* ~300 bytes of names and values in all */
	snprintf(key, sizeof key, "ceptor-bench:{publish}:%ld", (long)getpid());

	redisContext *c = connect_url(url);
	for (int r = 0; r < BENCH_REPS; r++) {
		del(c, key);
		ours[r] = run_ours(url, key);
		del(c, key);
		peer[r] = run_peer(c, key);
		del(c, key);
		rb[r] = run_redis_benchmark(url, key);
	}
	del(c, key);
	redisFree(c);
	qsort(ours, BENCH_REPS, sizeof *ours, cmp_double);
	qsort(peer, BENCH_REPS, sizeof *peer, cmp_double);
	qsort(rb, BENCH_REPS, sizeof *rb, cmp_double);
	double o = ours[BENCH_REPS / 2], p = peer[BENCH_REPS / 2];
	double b = rb[BENCH_REPS / 2];
	printf("ROW\tXADD ~300 B incident messages, batch %d, pipelined\t"
	       "%.0f k msg/s\t%.0f k msg/s\t%.2f\t%s (peer: raw hiredis "
	       "0.14 pipelined XADD)\n",
	       BATCH, o / 1e3, p / 1e3, o / p, argv[0]);
	if (b > 0)
		printf("ROW\tXADD ~300 B incident messages against redis-benchmark "
		       "-P %d (goal: at least 0.7)\t%.0f k msg/s\t%.0f k msg/s\t%.2f\t"
		       "%s (peer: redis-benchmark -P %d -n %d XADD, same fields)\n",
		       BATCH, o / 1e3, b / 1e3, o / b, argv[0], BATCH, BENCH_MSGS);
	else
		fprintf(stderr, "bench_publish: redis-benchmark not found or "
				"unreadable: no row against it\n");
	return 0;
}
