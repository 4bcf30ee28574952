/*
 * bench_latency.c - issue 7, row 8: event ingest to XADD acknowledged,
 * p50 / p99 / p99.9, at a fixed offered load; goal p99 <= 2 ms at 100,000
 * events/s.
 *
 * The run, for each offered rate (100,000 and 10,000 events/s unless
 * BENCH_LAT_RATES says otherwise):
 *   - ceptord, live (not --once), with the default rule pack (rules/default),
 *     a private spool and one ring input (`kind: ring`, sector telecom), on
 *     the Redis of CEPTOR_BENCH_REDIS_URL (perf/run.sh starts one; alone,
 *     this program starts a redis-server of its own on a free loopback port);
 *   - this process is the collector: it attaches the ring as a collector
 *     process does (ceptor-pcap --ring) and writes the offered rate in one
 *     batch per millisecond for BENCH_LAT_SECONDS (default 15), each event
 *     stamped with the wall clock at the moment its batch is written, as a
 *     live tap stamps packets with their capture time; a batch that finds
 *     the ring full is dropped and counted (a live tap never waits);
 *   - one event in BENCH_LAT_NEW (default 500) is a TCP SYN to port 23 from
 *     an address never used before: the default pack's Telnet rule makes it
 *     a new incident (published to the telecom and council streams); the
 *     rest is background traffic through every rule: TCP segments between
 *     4,096 clients and 256 servers on port 443, one in a hundred a SYN
 *     (it feeds the port-scan and SYN-flood windows without reaching them).
 * ceptord measures the latency itself (status.json, publisher.ingest_to_ack:
 * its log-linear histogram, 3 % buckets, over every incident message of
 * the run); this program reads it once the run has drained, and checks the
 * offered load arrived: events read per second by ceptord between the
 * status written after WARMUP_S and the last one, and the ring's drops.
 * A cross-check that does not rely on ceptord's histogram: the telecom
 * stream's entries, whose ids carry Redis's own clock (ms) at the XADD,
 * minus each message's last_seen (its newest evidence's time).
 *
 * The floor.  On a machine whose two vCPUs the host deschedules, any path
 * that sleeps and wakes has a millisecond tail of its own.  A thread of
 * this program measures it during each run: every FLOOR_TICK_NS it sleeps
 * until its next due time (absolute), sends one PING to the same Redis
 * and records due time to reply.  That is one timer wake and one Redis
 * round trip; ingest to acknowledged has three wakes in series (collector
 * to core, core to publisher thread, publisher to Redis and back), so it
 * cannot be expected below that floor.
 *
 * BENCH_LAT_KEEP=1 keeps the work directory (ceptord's log and spool) and
 * the incident streams.
 *
 * Output: ROW\t<what>\t<ours>\t<peer>\t<ratio>\t<command> (perf/run.sh).
 * The figures depend on what else the two cores do; they are indicative.
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ceptor/ring.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "publish/latency.h"

#define TICK_NS 1000000ull   /* one batch per millisecond */
#define WARMUP_S 2
#define DRAIN_MS 2500        /* after the load: acks, then a status write */
#define BATCH_MAX 8192
#define MAX_RATES 4
#define FLOOR_TICK_NS 5000000ull /* the floor thread's pace: 200 a second */

struct status {
	uint64_t now_ms, events, drops, incidents, published;
	uint64_t measured, refused;
	double p50, p99, p999, max;
	int ok;
};

struct result {
	double offered, achieved;
	uint64_t drops, incidents, sent;
	struct status st;
	double x_p50, x_p99; /* the cross-check, ms; < 0: none */
	uint64_t x_n;
	double f_p50, f_p99, f_p999; /* the floor, ms */
	uint64_t f_n;
};

/* The floor thread (see the top). */
struct floor {
	const char *url;
	atomic_int stop;
	struct cep_latency lat;
};

static void sleep_until(uint64_t mono_ns);

static void *floor_main(void *arg)
{
	struct floor *f = arg;
	redisContext *c = NULL;
	struct cep_redis_url u;
	char err[128];
	struct timeval tv = { 1, 0 };

	if (!cep_redis_url_parse(f->url, &u, err, sizeof err))
		c = redisConnectWithTimeout(u.host, u.port, tv);
	if (!c || c->err) {
		redisFree(c);
		return NULL;
	}
	if (u.pass[0]) {
		redisReply *r = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.pass)
					  : redisCommand(c, "AUTH %s", u.pass);
		if (r)
			freeReplyObject(r);
	}
	uint64_t due = cep_clock_mono_ns();
	while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
		due += FLOOR_TICK_NS;
		sleep_until(due);
		redisReply *r = redisCommand(c, "PING");
		if (!r)
			break;
		freeReplyObject(r);
		uint64_t now = cep_clock_mono_ns();
		cep_latency_record(&f->lat, now > due ? now - due : 0);
		if (now > due + FLOOR_TICK_NS)
			due = now; /* no burst after a long stall */
	}
	redisFree(c);
	return NULL;
}

static pid_t redis_pid, engine_pid;
static char work[256], ring_name[64];

static void cleanup(void)
{
	if (engine_pid > 0) {
		kill(engine_pid, SIGTERM);
		waitpid(engine_pid, NULL, 0);
		engine_pid = 0;
	}
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	if (ring_name[0])
		cep_ring_unlink(ring_name);
	if (work[0] && !getenv("BENCH_LAT_KEEP")) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_latency: cannot remove %s\n", work);
	}
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_latency: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
			       (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void sleep_until(uint64_t mono_ns)
{
	struct timespec ts = { (time_t)(mono_ns / 1000000000u),
			       (long)(mono_ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static redisContext *connect_url(const char *url)
{
	struct cep_redis_url u;
	char err[128];
	struct timeval tv = { 1, 0 };

	if (cep_redis_url_parse(url, &u, err, sizeof err))
		die("bad Redis URL: %s", err);
	redisContext *c = redisConnectWithTimeout(u.host, u.port, tv);
	if (c && !c->err && u.pass[0]) {
		redisReply *r = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.pass)
					  : redisCommand(c, "AUTH %s", u.pass);
		if (r)
			freeReplyObject(r);
	}
	return c;
}

/* A redis-server of our own on a free loopback port (as tests/lib/redis.sh
 * starts one); its URL into url. */
static void start_redis(char *url, size_t size)
{
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (int tries = 0; tries < 20; tries++) {
		int port = 20000 + rand() % 40000;
		char ports[16];
		snprintf(url, size, "redis://127.0.0.1:%d", port);
		redisContext *c = connect_url(url);
		int taken = c && !c->err;
		redisFree(c);
		if (taken)
			continue;
		snprintf(ports, sizeof ports, "%d", port);
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			execlp("redis-server", "redis-server", "--port", ports, "--bind",
			       "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
			       work, (char *)NULL);
			_exit(127);
		}
		redis_pid = pid;
		for (int i = 0; i < 50; i++) {
			sleep_ns(100000000);
			c = connect_url(url);
			if (c && !c->err) {
				redisReply *r = redisCommand(c, "PING");
				int up = r && r->type == REDIS_REPLY_STATUS;
				if (r)
					freeReplyObject(r);
				redisFree(c);
				if (up)
					return;
			} else {
				redisFree(c);
			}
			if (waitpid(pid, NULL, WNOHANG) == pid)
				break; /* the port went in between: another one */
		}
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		redis_pid = 0;
	}
	die("%s", "cannot start a redis-server (is it installed? tools/deps.sh)");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	*len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

/* The fields of SPOOL/status.json this benchmark reads. */
static struct status read_status(const char *path)
{
	struct status s = { 0 };
	size_t len;
	char *text = slurp(path, &len);

	if (!text)
		return s;
	struct cep_json_span doc = { text, len }, in;
	struct cep_json_span eng = cep_json_get_sub(doc, "engine", CEP_JSON_OBJECT);
	struct cep_json_span pub = cep_json_get_sub(doc, "publisher", CEP_JSON_OBJECT);
	struct cep_json_span lat = cep_json_get_sub(pub, "ingest_to_ack",
						    CEP_JSON_OBJECT);
	struct cep_json_span inputs = cep_json_get_sub(doc, "inputs", CEP_JSON_ARRAY);
	size_t pos = 0;

	s.now_ms = cep_json_get_u64(doc, "now_ms");
	s.events = cep_json_get_u64(eng, "events");
	s.incidents = cep_json_get_u64(eng, "incidents");
	s.published = cep_json_get_u64(pub, "published");
	if (cep_json_array_next(inputs, &pos, &in) == 1)
		s.drops = cep_json_get_u64(in, "ring_drops");
	s.measured = cep_json_get_u64(lat, "measured");
	s.refused = cep_json_get_u64(lat, "refused");
	s.p50 = cep_json_get_double(lat, "p50_ms");
	s.p99 = cep_json_get_double(lat, "p99_ms");
	s.p999 = cep_json_get_double(lat, "p999_ms");
	s.max = cep_json_get_double(lat, "max_ms");
	s.ok = s.now_ms != 0 && lat.len != 0;
	free(text);
	return s;
}

/* One event: background traffic, or (new) a Telnet SYN from address
 * number k of 198.18.0.0/15, never used before in this run. */
static void make_event(struct cep_event *ev, uint64_t i, int new_incident,
		       uint64_t k, uint64_t ts)
{
	memset(ev, 0, sizeof *ev);
	ev->ts = ts;
	ev->kind = CEP_KIND_PACKET;
	ev->type = CEP_TYPE_TRAFFIC;
	ev->proto = 6;
	ev->packets = 1;
	ev->src_af = ev->dst_af = CEP_AF_INET;
	ev->seq = (uint32_t)i;
	snprintf(ev->source, sizeof ev->source, "bench-tap");
	if (new_incident) {
		ev->bytes = 60;
		ev->src_ip[0] = 198;
		ev->src_ip[1] = (uint8_t)(18 + ((k >> 16) & 1));
		ev->src_ip[2] = (uint8_t)(k >> 8);
		ev->src_ip[3] = (uint8_t)k;
		ev->dst_ip[0] = 192;
		ev->dst_ip[1] = 0;
		ev->dst_ip[2] = 2;
		ev->dst_ip[3] = (uint8_t)(k % 251 + 1);
		ev->src_port = (uint16_t)(40000 + k % 20000);
		ev->dst_port = 23;
		ev->tcp_flags = 0x02;
		return;
	}
	uint32_t client = (uint32_t)(i * 2654435761u) % 4096, server = (uint32_t)(i % 256);
	ev->bytes = 64 + i % 1400;
	ev->src_ip[0] = 10;
	ev->src_ip[1] = 1;
	ev->src_ip[2] = (uint8_t)(client >> 8);
	ev->src_ip[3] = (uint8_t)client;
	ev->dst_ip[0] = 172;
	ev->dst_ip[1] = 16;
	ev->dst_ip[2] = 0;
	ev->dst_ip[3] = (uint8_t)server;
	ev->src_port = (uint16_t)(32768 + i % 28000);
	ev->dst_port = 443;
	ev->tcp_flags = i % 100 == 0 ? 0x02 : 0x18; /* SYN, else PSH+ACK */
}

static void write_config(const char *path, const char *url, const char *spool)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s", path);
	fprintf(f,
		"site: bench\n"
		"rules: rules/default\n"
		"redis: %s\n"
		"spool: %s\n"
		"collectors:\n"
		"  - kind: ring\n"
		"    name: bench-tap\n"
		"    ring: %s\n"
		"    sector: telecom\n"
		"    reliability: B\n"
		"    credibility: 2\n",
		url, spool, ring_name);
	fclose(f);
}

static void start_engine(const char *bin, const char *cfg, const char *log)
{
	char exe[512];

	snprintf(exe, sizeof exe, "%s/ceptord", bin);
	if (access(exe, X_OK))
		die("%s not found (build it: make FLAVOUR=bench)", exe);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(fd, 2);
		execl(exe, "ceptord", "-c", cfg, (char *)NULL);
		_exit(127);
	}
	engine_pid = pid;
}

/* The cross-check: for each message of the telecom stream, Redis's clock
 * at the XADD (the entry id's milliseconds, rounded up: an upper bound)
 * minus its last_seen; median and p99 in ms into r. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void cross_check(const char *url, struct result *r)
{
	redisContext *c = connect_url(url);
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	char start[64] = "-";

	r->x_p50 = r->x_p99 = -1;
	r->x_n = 0;
	if (!c || c->err) {
		redisFree(c);
		return;
	}
	for (;;) {
		redisReply *rep = redisCommand(c, "XRANGE ceptor:{telecom}:incidents %s + COUNT 1000",
					       start);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
			if (rep)
				freeReplyObject(rep);
			break;
		}
		for (size_t i = 0; i < rep->elements; i++) {
			redisReply *e = rep->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			const char *id = e->element[0]->str;
			redisReply *fv = e->element[1];
			uint64_t ms = strtoull(id, NULL, 10), seen = 0;
			for (size_t k = 0; k + 1 < fv->elements; k += 2)
				if (!strcmp(fv->element[k]->str, "last_seen"))
					cep_time_parse(fv->element[k + 1]->str,
						       fv->element[k + 1]->len, &seen);
			uint64_t upper = (ms + 1) * 1000000ull;
			if (seen && upper > seen) {
				if (n == cap) {
					cap = cap ? 2 * cap : 4096;
					v = realloc(v, cap * sizeof *v);
					if (!v)
						die("%s", "out of memory");
				}
				v[n++] = upper - seen;
			}
			if (i + 1 == rep->elements)
				snprintf(start, sizeof start, "(%s", id);
		}
		size_t got = rep->elements;
		freeReplyObject(rep);
		if (got < 1000)
			break;
	}
	redisReply *d = getenv("BENCH_LAT_KEEP") ? NULL : redisCommand(c, "DEL ceptor:{telecom}:incidents ceptor:{council}:incidents");
	if (d)
		freeReplyObject(d);
	redisFree(c);
	if (n) {
		qsort(v, n, sizeof *v, cmp_u64);
		r->x_p50 = v[(n - 1) / 2] / 1e6;
		r->x_p99 = v[(size_t)((double)(n - 1) * 0.99)] / 1e6;
		r->x_n = n;
	}
	free(v);
}

static void run_one(const char *bin, const char *url, double rate,
		    unsigned seconds, unsigned one_in, struct result *r)
{
	char cfg[320], spool[320], log[320], status[340];
	static struct cep_event batch[BATCH_MAX];
	struct cep_ring *ring = NULL;

	snprintf(ring_name, sizeof ring_name, "/ceptor-bench-lat-%ld",
		 (long)getpid());
	cep_ring_unlink(ring_name);
	snprintf(cfg, sizeof cfg, "%s/ceptor.yml", work);
	snprintf(spool, sizeof spool, "%s/spool-%.0f", work, rate);
	snprintf(log, sizeof log, "%s/ceptord-%.0f.log", work, rate);
	snprintf(status, sizeof status, "%s/status.json", spool);
	write_config(cfg, url, spool);
	start_engine(bin, cfg, log);
	for (int i = 0; i < 500 && !ring; i++) {
		if (cep_ring_attach(ring_name, &ring))
			ring = NULL;
		if (!ring)
			sleep_ns(20000000);
		if (waitpid(engine_pid, NULL, WNOHANG) == engine_pid) {
			engine_pid = 0;
			die("ceptord exited at start; see %s", log);
		}
	}
	if (!ring)
		die("ceptord did not open its ring; see %s", log);
	cep_ring_reopen(ring);
	/* ceptord writes its first status when the core starts. */
	for (int i = 0; i < 250 && !read_status(status).ok; i++)
		sleep_ns(20000000);

	static struct floor fl;
	pthread_t floor_thread;
	fl.url = url;
	atomic_store(&fl.stop, 0);
	cep_latency_init(&fl.lat);
	int floor_started = pthread_create(&floor_thread, NULL, floor_main, &fl) == 0;

	uint64_t start = cep_clock_mono_ns(), end = start + seconds * 1000000000ull;
	uint64_t sent = 0, made = 0, fresh = 0, next_report = start;
	struct status warm = { 0 };
	for (uint64_t tick = 1;; tick++) {
		uint64_t now = cep_clock_mono_ns();
		if (now >= end)
			break;
		uint64_t target = (uint64_t)(rate * (double)(now - start) / 1e9);
		while (sent < target) {
			unsigned n = target - sent > BATCH_MAX ? BATCH_MAX
							       : (unsigned)(target - sent);
			uint64_t ts = cep_clock_wall_ns();
			for (unsigned k = 0; k < n; k++, made++) {
				int fresh_one = made % one_in == one_in / 2;
				make_event(&batch[k], made, fresh_one, fresh, ts);
				fresh += fresh_one;
			}
			cep_ring_enqueue_policy(ring, batch, n, CEP_OVERFLOW_DROP);
			sent += n;
		}
		if (now >= next_report) {
			struct cep_ring_producer_counters pc = { .captured = sent };
			cep_ring_producer_report(ring, &pc);
			next_report = now + 1000000000ull;
		}
		if (!warm.ok && now - start >= WARMUP_S * 1000000000ull)
			warm = read_status(status);
		uint64_t due = start + tick * TICK_NS;
		now = cep_clock_mono_ns();
		if (due > now)
			sleep_ns(due - now);
		else
			tick = (now - start) / TICK_NS; /* late: no burst of ticks */
	}
	struct cep_ring_producer_counters pc = { .captured = sent };
	cep_ring_producer_report(ring, &pc);
	struct status busy = read_status(status);
	cep_ring_close(ring);
	if (floor_started) {
		atomic_store(&fl.stop, 1);
		pthread_join(floor_thread, NULL);
	}
	struct cep_latency_snap fs;
	cep_latency_snapshot(&fl.lat, &fs);
	r->f_n = fs.count;
	r->f_p50 = cep_latency_quantile(&fs, 0.5) / 1e6;
	r->f_p99 = cep_latency_quantile(&fs, 0.99) / 1e6;
	r->f_p999 = cep_latency_quantile(&fs, 0.999) / 1e6;
	sleep_ns(DRAIN_MS * 1000000ull);
	r->st = read_status(status);
	kill(engine_pid, SIGTERM);
	int ws = 0;
	waitpid(engine_pid, &ws, 0);
	engine_pid = 0;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		fprintf(stderr, "bench_latency: ceptord ended with status %d; see %s\n",
			ws, log);
	cep_ring_destroy(ring);
	cep_ring_unlink(ring_name);
	ring_name[0] = '\0';

	r->offered = rate;
	r->sent = sent;
	r->incidents = r->st.incidents;
	r->drops = r->st.drops;
	r->achieved = warm.ok && busy.now_ms > warm.now_ms
			      ? (double)(busy.events - warm.events) * 1000.0 /
					(double)(busy.now_ms - warm.now_ms)
			      : 0;
	cross_check(url, r);
	fprintf(stderr,
		"bench_latency: %.0f ev/s offered for %u s: %llu sent, %llu read "
		"(%.0f/s between the status at %d s and the last), %llu dropped, "
		"%llu incidents, %llu messages acknowledged, %llu measured "
		"(%llu refused): p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max "
		"%.3f ms; cross-check from %llu entry ids: p50 %.3f ms, p99 %.3f ms; "
		"floor (timer wake + PING, %llu samples): p50 %.3f ms, p99 %.3f ms, "
		"p99.9 %.3f ms\n",
		rate, seconds, (unsigned long long)sent,
		(unsigned long long)r->st.events, r->achieved, WARMUP_S,
		(unsigned long long)r->drops, (unsigned long long)r->incidents,
		(unsigned long long)r->st.published,
		(unsigned long long)r->st.measured, (unsigned long long)r->st.refused,
		r->st.p50, r->st.p99, r->st.p999, r->st.max,
		(unsigned long long)r->x_n, r->x_p50, r->x_p99,
		(unsigned long long)r->f_n, r->f_p50, r->f_p99, r->f_p999);
}

static const char *rate_name(double rate, char *buf, size_t size)
{
	if (rate >= 1000)
		snprintf(buf, size, "%.0f k ev/s", rate / 1000);
	else
		snprintf(buf, size, "%.0f ev/s", rate);
	return buf;
}

int main(int argc, char **argv)
{
	const char *bin = getenv("BIN") ? getenv("BIN") : "build/bench/bin";
	const char *url = getenv("CEPTOR_BENCH_REDIS_URL");
	const char *rates_env = getenv("BENCH_LAT_RATES");
	unsigned seconds = getenv("BENCH_LAT_SECONDS") ?
				   (unsigned)atoi(getenv("BENCH_LAT_SECONDS")) : 15;
	unsigned one_in = getenv("BENCH_LAT_NEW") ?
				  (unsigned)atoi(getenv("BENCH_LAT_NEW")) : 500;
	double rates[MAX_RATES];
	struct result res[MAX_RATES];
	size_t nrates = 0;
	char own_url[64], rn[32];

	(void)argc;
	if (seconds < WARMUP_S + 2 || one_in < 2) {
		fprintf(stderr, "bench_latency: BENCH_LAT_SECONDS must be at least "
				"%d and BENCH_LAT_NEW at least 2\n", WARMUP_S + 2);
		return 1;
	}
	for (const char *p = rates_env ? rates_env : "100000 10000";
	     *p && nrates < MAX_RATES;) {
		char *e;
		double v = strtod(p, &e);
		if (e == p)
			break;
		if (v >= 1000 && v <= 2000000)
			rates[nrates++] = v;
		p = e;
	}
	if (!nrates) {
		fprintf(stderr, "bench_latency: BENCH_LAT_RATES names no rate in "
				"1000 .. 2000000\n");
		return 1;
	}
	if (access("rules/default", R_OK)) {
		fprintf(stderr, "bench_latency: run from the source tree's root "
				"(rules/default)\n");
		return 1;
	}
	snprintf(work, sizeof work, "%s/ceptor-bench-lat.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(work)) {
		work[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	if (!url || !*url) {
		start_redis(own_url, sizeof own_url);
		url = own_url;
		fprintf(stderr, "bench_latency: started redis-server %ld at %s\n",
			(long)redis_pid, url);
	}
	for (size_t i = 0; i < nrates; i++)
		run_one(bin, url, rates[i], seconds, one_in, &res[i]);
	cleanup();

	for (size_t i = 0; i < nrates; i++) {
		const struct result *r = &res[i];
		char what[200];
		snprintf(what, sizeof what,
			 "latency ingest to XADD acked, %s offered (%u s, 1 event "
			 "in %u a new incident)",
			 rate_name(r->offered, rn, sizeof rn), seconds, one_in);
		if (!r->st.ok || !r->st.measured) {
			printf("ROW\t%s\tno measurement (see the log)\t-\t-\t%s\n",
			       what, argv[0]);
			continue;
		}
		printf("ROW\t%s: p50\t%.3f ms\t-\t-\t%s\n", what, r->st.p50, argv[0]);
		printf("ROW\t%s: p99 (goal: at most 2 ms; lower is better)\t%.3f ms\t"
		       "goal 2 ms\t%.2f\t%s\n", what, r->st.p99, r->st.p99 / 2.0, argv[0]);
		printf("ROW\t%s: p99.9, max\t%.3f ms, max %.3f ms\t-\t-\t%s\n", what,
		       r->st.p999, r->st.max, argv[0]);
		printf("ROW\t%s: load achieved (events ceptord read per second, "
		       "status.json)\t%.1f k ev/s, %llu dropped, %llu incidents, "
		       "%llu messages measured\toffered %.1f k ev/s\t%.2f\t%s\n",
		       what, r->achieved / 1e3, (unsigned long long)r->drops,
		       (unsigned long long)r->incidents,
		       (unsigned long long)r->st.measured, r->offered / 1e3,
		       r->achieved / r->offered, argv[0]);
		if (r->f_n)
			printf("ROW\t%s: p99 against this machine's floor in the "
			       "same run (a thread's timer wake + one Redis PING)"
			       "\t%.3f ms\tfloor %.3f ms (p50 "
			       "%.3f, p99.9 %.3f)\t%.2f\t%s\n",
			       what, r->st.p99, r->f_p99, r->f_p50, r->f_p999,
			       r->f_p99 > 0 ? r->st.p99 / r->f_p99 : 0, argv[0]);
		if (r->x_n)
			printf("ROW\t%s: cross-check from Redis entry ids (evidence "
			       "time to XADD executed, ms clock, upper bound)\t"
			       "p50 %.1f ms, p99 %.1f ms over %llu messages\t-\t-\t%s\n",
			       what, r->x_p50, r->x_p99, (unsigned long long)r->x_n,
			       argv[0]);
	}
	return 0;
}
