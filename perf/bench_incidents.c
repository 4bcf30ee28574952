/*
 * bench_incidents.c - the incident stage at scale (issue 5: "signals/s
 * through cross-check and ranking with 1M open entities, and memory per
 * open incident"; issue 7 row 9: "bytes per tracked key and per open
 * incident").
 *
 * Three figures:
 *
 * 1. Signals per second through cep_incidents_signal() with 1,000,000
 *    incidents open, with cep_incidents_tick() and cep_incidents_collect()
 *    (drained 256 at a time, as engine/loop.c publishes) every 4,096
 *    signals.  The table is first filled with one signal for each of 1M
 *    distinct entities; then a stream in which 80 % of the signals hit an
 *    open entity and 20 % open a new one.  Entities are addresses that a
 *    detection rule (no group key: the table takes the event's src_ip)
 *    and a correlation rule ("src_ip=A") both speak about, so that the
 *    two rules join; (rule, key) pairs of a correlation grouped by two
 *    fields; and domains from a feed.  Every entity hears from four of
 *    twelve upstreams (collectors and operators' reporters), each signal
 *    with its own reliability, credibility and level, so the per-upstream
 *    evidence, the rescore and the rate limit are exercised.  Event time
 *    moves 1 us per signal (a live engine at 1M signals/s); the argument
 *    changes it.
 *    Peer: the same stream through a plain single-owner open-addressing
 *    table of fixed-size records, pre-sized, inline, linear probing, that
 *    only finds the entity (same hash, full key compared) and updates
 *    counters and times: the physical limit of "find it and update it".
 *    The signals are built outside the timed part, a batch of 4,096 at a
 *    time in a buffer that stays in cache, as the detection stage hands
 *    them over.  Opening an incident touches fresh memory, so its page
 *    faults are part of ours; the peer's table is faulted in beforehand.
 *
 * 2. Memory per open incident: what the allocator holds (jemalloc's
 *    stats.allocated, which the bench flavour links; else the resident set)
 *    after opening the 1M incidents, less what it held before, divided by
 *    1M.  Peer: sizeof(struct cep_incident), the record itself.
 *
 * 3. Memory per tracked correlation key: a value_count rule over 1M
 *    distinct group keys (one value each) through cep_detect;
 *    cep_detect_stats mem_bytes / keys_live.  Peer: the goal of issue 7,
 *    128 bytes.
 *
 * Rounds alternate ours and peer over the same stream (a round is cut
 * after ROUND_NS of ours, and the peer takes the same prefix); the rate is
 * the median of REPS rounds.  Memory ratios are ours/peer: lower is better.
 *
 * Output: ROW<TAB>what<TAB>ours<TAB>peer<TAB>ratio<TAB>command (perf/run.sh);
 * progress on stderr.
 * Usage: bench_incidents [NS_PER_SIGNAL]   (event time between two
 *        signals; default 1000: the stream runs at 1M signals/s)
 *        bench_incidents --keys            (figure 3 alone: a few seconds)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/detect.h"
#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "ceptor/rule.h"
#include "ceptor/signal.h"
#include "core/match.h"

#define NENT 1000000u      /* entities opened before measuring */
#define BATCH 4096         /* signals between two collects */
#define ROOM 256           /* incidents per collect call (COLLECT_ROOM) */
#define ROUND_BATCHES 64   /* 262,144 signals per round */
#define REPS 5
#define ROUND_NS 2000000000ll /* at most 2 s of ours per round */
#define NEW_PCT 20         /* share of the stream that opens an entity */
#define NRULES 4
#define NUP 12             /* upstreams in all */
#define UP_PER_ENT 4       /* upstreams that speak about one entity */
#define PEER_SLOTS (1u << 21)
#define NKEYS 1000000u     /* correlation groups for the per-key figure */
#define KEY_GOAL 128       /* issue 7: bytes per tracked key */
#define T0 1767225600000000000ULL /* 2026-01-01, ns */
#define STEP_NS 1000ULL    /* event time per signal: 1M signals/s */

#define CMD "build/bench/perf/bench_incidents"

/* jemalloc's control interface, when the binary links jemalloc (the bench
 * flavour does); weak, so that another allocator falls back to the RSS. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
	    size_t newlen) __attribute__((weak));

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_incidents: %s\n", what);
	exit(1);
}

/* Bytes the allocator has handed out (jemalloc), or 0 without jemalloc. */
static size_t heap_bytes(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof epoch, a = 0;

	if (!mallctl)
		return 0;
	/* Statistics are cached per epoch: advance it to refresh them. */
	if (mallctl("epoch", &epoch, &sz, &epoch, sz))
		return 0;
	sz = sizeof a;
	if (mallctl("stats.allocated", &a, &sz, NULL, 0))
		return 0;
	return a;
}

static size_t rss_bytes(void)
{
	unsigned long size, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- the stream ---------------------------------------------------------- */

static const struct {
	const char *id, *title;
	uint8_t origin, corr, type, keyed;
} rules[NRULES] = {
	{ "ceptor-c2-contact", "Contact with a known C2 address",
	  CEP_SIGNAL_DETECTION, CEP_CORR_NONE, CEP_TYPE_C2, 0 },
	{ "ceptor-port-scan", "TCP port scan",
	  CEP_SIGNAL_CORRELATION, CEP_CORR_VALUE_COUNT, CEP_TYPE_SCAN, 1 },
	{ "ceptor-ssh-brute-force", "SSH brute force",
	  CEP_SIGNAL_CORRELATION, CEP_CORR_EVENT_COUNT, CEP_TYPE_BRUTE_FORCE, 1 },
	{ "feed-sinkhole-domain", "Domain seen by a sinkhole",
	  CEP_SIGNAL_DETECTION, CEP_CORR_NONE, CEP_TYPE_SINKHOLE, 0 },
};

/* The first four are collectors (the upstream is the source); the others
 * are operators reporting through one feed collector (the reporter). */
static const char *const upstreams[NUP] = {
	"pcap-edge-1", "flow-core", "feed-sinkhole", "feed-abuse",
	"op-telecom-a", "op-telecom-b", "op-power-a", "op-water-a",
	"op-rail-a", "op-finance-a", "op-medical-a", "op-gov-a",
};

/* One signal of the stream, compact; the signal is built from it. */
struct sdesc {
	uint32_t ent;
	uint8_t up, rel, cred, level;
	uint8_t sector, tlp, rule, pad;
};

/*
 * Entity e, by e % 4: 0 and 1 an address, 10.x.y.z from e, that both the
 * C2 detection (no group key: the table takes the event's src_ip) and the
 * port-scan correlation ("src_ip=A") speak about, so that they join one
 * incident; 2 the SSH brute force's (rule, "src_ip=A,dst_port=22"), which
 * is no single entity; 3 a sinkholed domain from a feed (its indicator).
 * The rule of an address entity is chosen per signal (d->rule).
 */
static void fill_signal(struct cep_signal *s, const struct sdesc *d,
			uint64_t ts)
{
	uint32_t e = d->ent;
	unsigned r = d->rule;
	struct cep_event *ev = &s->ev;

	memset(s, 0, sizeof *s);
	strcpy(s->rule_id, rules[r].id);
	strcpy(s->title, rules[r].title);
	s->origin = rules[r].origin;
	s->corr = rules[r].corr;
	s->type = rules[r].type;
	s->level = d->level;
	s->first_ts = ts - 1000000ULL * (e % 60);
	s->last_ts = ts;
	s->count = 1 + e % 50;
	ev->ts = ts;
	ev->kind = r == 3 ? CEP_KIND_FEED : CEP_KIND_PACKET;
	ev->sector = d->sector;
	ev->reliability = d->rel;
	ev->credibility = d->cred;
	ev->tlp = d->tlp;
	if (r != 3) {
		ev->src_af = ev->dst_af = CEP_AF_INET;
		ev->src_ip[0] = 10;
		ev->src_ip[1] = (uint8_t)(e >> 16);
		ev->src_ip[2] = (uint8_t)(e >> 8);
		ev->src_ip[3] = (uint8_t)e;
		ev->dst_ip[0] = 192, ev->dst_ip[1] = 0, ev->dst_ip[2] = 2;
		ev->dst_ip[3] = 1;
		ev->proto = 6;
		ev->dst_port = r == 2 ? 22 : (uint16_t)(1 + e % 1024);
	} else {
		snprintf(ev->indicator, sizeof ev->indicator,
			 "d%u.sinkholed.example", e);
	}
	if (r == 1)
		snprintf(s->key, sizeof s->key, "src_ip=10.%u.%u.%u",
			 (e >> 16) & 255, (e >> 8) & 255, e & 255);
	else if (r == 2)
		snprintf(s->key, sizeof s->key, "src_ip=10.%u.%u.%u,dst_port=22",
			 (e >> 16) & 255, (e >> 8) & 255, e & 255);
	if (d->up < 4) {
		strcpy(ev->source, upstreams[d->up]);
	} else {
		strcpy(ev->source, "feed-reports");
		strcpy(ev->reporter, upstreams[d->up]);
	}
}

/* A signal about entity e from one of its upstreams, graded at random. */
static void make_desc(struct sdesc *d, uint32_t e)
{
	d->ent = e;
	d->rule = (uint8_t)(e % 4 < 2 ? rnd(2) : e % 4);
	d->up = (uint8_t)((e * 5u + rnd(UP_PER_ENT)) % NUP);
	d->rel = (uint8_t)(1 + rnd(6));
	d->cred = (uint8_t)(1 + rnd(6));
	d->level = (uint8_t)(CEP_LEVEL_LOW + rnd(4));
	d->sector = (uint8_t)rnd(CEP_SECTOR_COUNT);
	d->tlp = (uint8_t)(1 + rnd(4));
	d->pad = 0;
}

/* ---- the peer: find the entity, update a fixed-size record ------------- */

struct peer_rec {
	uint64_t hash; /* 0: empty */
	char rule_id[CEP_RULE_ID_MAX];
	uint8_t keylen;
	char key[CEP_SIGNAL_KEY_MAX];
	uint8_t severity, tlp, dirty;
	uint32_t version;
	uint32_t upstreams; /* a bit per upstream (by hash) */
	uint64_t first_seen, last_seen, count, evidence;
};

struct peer {
	struct peer_rec *slots;
	uint32_t mask;
	size_t count;
	uint32_t *dirty;
	size_t ndirty, dirty_cap;
};

static void peer_init(struct peer *p)
{
	p->slots = calloc(PEER_SLOTS, sizeof *p->slots);
	p->mask = PEER_SLOTS - 1;
	p->count = 0;
	p->dirty_cap = 1u << 16;
	p->dirty = malloc(p->dirty_cap * sizeof *p->dirty);
	p->ndirty = 0;
	if (!p->slots || !p->dirty)
		die("out of memory for the peer table");
}

/*
 * The entity as bytes, as the limit would take it: the address itself
 * (binary) for a detection keyed by its event's address or a group key
 * that is only "src_ip=A" (the event carries A), the group key for any
 * other, else the indicator, else the source.  No text is formatted.
 */
static size_t peer_key(const struct cep_signal *s, char *k)
{
	size_t n;

	if (s->ev.src_af && (!s->key[0] || (!strncmp(s->key, "src_ip=", 7) &&
					    !strchr(s->key, ',')))) {
		k[0] = 'A';
		k[1] = (char)s->ev.src_af;
		memcpy(k + 2, s->ev.src_ip, 16);
		return 18;
	}
	if (s->key[0]) {
		n = strnlen(s->key, CEP_SIGNAL_KEY_MAX - 2);
		k[0] = 'K';
		memcpy(k + 1, s->key, n);
		return n + 1;
	}
	k[0] = s->ev.indicator[0] ? 'I' : 'S';
	n = s->ev.indicator[0] ? strnlen(s->ev.indicator, 63) :
				 strnlen(s->ev.source, 23);
	memcpy(k + 1, s->ev.indicator[0] ? s->ev.indicator : s->ev.source, n);
	return n + 1;
}

static void peer_signal(struct peer *p, const struct cep_signal *s)
{
	char k[CEP_SIGNAL_KEY_MAX];
	size_t klen = peer_key(s, k);
	/* Only a (rule, key) entity has the rule in its identity. */
	uint64_t seed = k[0] == 'K' ? cep__hash_bytes(s->rule_id,
						      strlen(s->rule_id), 0) : 0;
	uint64_t h = cep__hash_bytes(k, klen, seed) | 1;
	const char *up = s->ev.reporter[0] ? s->ev.reporter : s->ev.source;
	uint32_t i = (uint32_t)h & p->mask;
	struct peer_rec *r;

	for (;; i = (i + 1) & p->mask) {
		r = &p->slots[i];
		if (!r->hash) {
			if (p->count + 1 > (size_t)p->mask)
				die("peer table full");
			r->hash = h;
			strcpy(r->rule_id, s->rule_id);
			r->keylen = (uint8_t)klen;
			memcpy(r->key, k, klen);
			r->first_seen = s->first_ts;
			p->count++;
			break;
		}
		if (r->hash == h && r->keylen == klen &&
		    memcmp(r->key, k, klen) == 0 &&
		    (k[0] != 'K' || strcmp(r->rule_id, s->rule_id) == 0))
			break;
	}
	if (s->first_ts < r->first_seen)
		r->first_seen = s->first_ts;
	if (s->last_ts > r->last_seen)
		r->last_seen = s->last_ts;
	if (s->count > r->count)
		r->count = s->count;
	if (s->level > r->severity)
		r->severity = s->level;
	if (s->ev.tlp > r->tlp)
		r->tlp = s->ev.tlp;
	r->upstreams |= 1u << (cep__hash_bytes(up, strlen(up), 0) & 31);
	r->evidence++;
	if (!r->dirty) {
		if (p->ndirty == p->dirty_cap)
			die("peer dirty list full");
		r->dirty = 1;
		p->dirty[p->ndirty++] = i;
	}
}

/* Hands out the changed records: clears their mark and bumps their
 * version, as cep_incidents_collect() does. */
static size_t peer_collect(struct peer *p)
{
	for (size_t j = 0; j < p->ndirty; j++) {
		struct peer_rec *r = &p->slots[p->dirty[j]];

		r->dirty = 0;
		r->version++;
	}
	size_t done = p->ndirty;

	p->ndirty = 0;
	return done;
}

/* ---- ours -------------------------------------------------------------- */

static size_t ours_collect(struct cep_incidents *t)
{
	static struct cep_incident *out[ROOM];
	size_t done = 0;
	int n;

	while ((n = cep_incidents_collect(t, out, ROOM)) > 0)
		done += (size_t)n;
	if (n < 0)
		die("cep_incidents_collect failed");
	return done;
}

/* ---- running a stream ------------------------------------------------ */

static struct cep_signal batch[BATCH];
static uint64_t step_ns = STEP_NS; /* event time between two signals */

/* What one run of the stream did. */
struct run_res {
	size_t signals;   /* signals handed in */
	size_t out;       /* incidents (records) handed out by collect */
	int64_t ns;       /* time in the calls */
	int64_t ns_out;   /* of which in tick + collect */
};

/*
 * Runs descriptors d[0..n) through ours (t) or the peer (p), BATCH at a
 * time with a collect after each batch; only the calls are timed.  ts is
 * the event time of the first signal, the others step_ns apart.  Stops
 * after the batch that passes limit_ns of measured time (0: no limit).
 */
static struct run_res run(struct cep_incidents *t, struct peer *p,
			  const struct sdesc *d, size_t n, uint64_t ts,
			  int64_t limit_ns)
{
	struct run_res r = { 0 };

	for (size_t b = 0; b < n && (!limit_ns || r.ns < limit_ns);
	     b += BATCH) {
		size_t m = n - b < BATCH ? n - b : BATCH;
		int64_t t0, t1;

		for (size_t i = 0; i < m; i++)
			fill_signal(&batch[i], &d[b + i], ts + (b + i) * step_ns);
		t0 = now_ns();
		if (t) {
			for (size_t i = 0; i < m; i++)
				if (cep_incidents_signal(t, &batch[i]))
					die("cep_incidents_signal failed");
			t1 = now_ns();
			/* Before each publish round, as the engine does. */
			if (cep_incidents_tick(t, batch[m - 1].last_ts) < 0)
				die("cep_incidents_tick failed");
			r.out += ours_collect(t);
		} else {
			for (size_t i = 0; i < m; i++)
				peer_signal(p, &batch[i]);
			t1 = now_ns();
			r.out += peer_collect(p);
		}
		int64_t t2 = now_ns();
		r.ns += t2 - t0;
		r.ns_out += t2 - t1;
		r.signals += m;
	}
	return r;
}

static int dbl_cmp(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static void fmt_rate(double r, char *buf, size_t size)
{
	if (r >= 1e6)
		snprintf(buf, size, "%.2f M sig/s", r / 1e6);
	else
		snprintf(buf, size, "%.0f k sig/s", r / 1e3);
}

/* ---- bytes per tracked key ----------------------------------------- */

static const char key_rules[] =
	"title: TCP SYN\n"
	"id: bench-syn\n"
	"level: informational\n"
	"logsource: {product: ceptor, category: packet}\n"
	"detection:\n"
	"  syn:\n"
	"    proto: 6\n"
	"    tcp_flags: 2\n"
	"  condition: syn\n"
	"---\n"
	"title: TCP port scan\n"
	"id: bench-port-scan\n"
	"level: high\n"
	"type: scan\n"
	"correlation:\n"
	"  type: value_count\n"
	"  rules: [bench-syn]\n"
	"  group-by: [src_ip]\n"
	"  timespan: 1h\n"
	"  condition: {field: dst_port, gte: 100}\n";

/* Opens NKEYS groups (one SYN from each of NKEYS addresses within one
 * second of event time, under a one-hour window) and reports the window
 * state per group: self-accounted and as the allocator saw it. */
static void key_bytes(void)
{
	char dir[] = "/tmp/ceptor-bench-incidents-XXXXXX", path[256];
	const char *dirs[1] = { path };
	struct cep_detect_config cfg = {
		.max_keys = 2 * NKEYS,
		.mem_ceiling = (size_t)8 << 30,
	};
	struct cep_ruleset *rs = NULL;
	struct cep_detect_stats st;
	struct cep_signal sig[8];
	struct cep_detect *d;
	struct cep_event ev;
	size_t h0, h1, r0, r1;
	int64_t t0, t1;
	FILE *f;

	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof path, "%s/rules.yml", dir);
	if (!(f = fopen(path, "w")))
		die("cannot write the rule file");
	fputs(key_rules, f);
	fclose(f);
	if (cep_ruleset_compile(dirs, 1, stderr, &rs))
		die("the port-scan rule does not compile");
	unlink(path);
	rmdir(dir);

	h0 = heap_bytes();
	r0 = rss_bytes();
	if (cep_detect_create(rs, &cfg, &d))
		die("cep_detect_create");
	memset(&ev, 0, sizeof ev);
	ev.kind = CEP_KIND_PACKET;
	ev.proto = 6;
	ev.tcp_flags = 2;
	ev.src_af = ev.dst_af = CEP_AF_INET;
	ev.dst_ip[0] = 192, ev.dst_ip[1] = 0, ev.dst_ip[2] = 2, ev.dst_ip[3] = 1;
	ev.src_port = 40000;
	strcpy(ev.source, "bench");
	t0 = now_ns();
	for (uint32_t i = 0; i < NKEYS; i++) {
		ev.ts = T0 + (uint64_t)i * 1000;
		ev.src_ip[0] = 10;
		ev.src_ip[1] = (uint8_t)(i >> 16);
		ev.src_ip[2] = (uint8_t)(i >> 8);
		ev.src_ip[3] = (uint8_t)i;
		ev.dst_port = (uint16_t)(1 + i % 1024);
		cep_detect_event(d, &ev, sig, 8);
	}
	t1 = now_ns();
	cep_detect_stats(d, &st);
	h1 = heap_bytes();
	r1 = rss_bytes();
	if (st.keys_live == 0)
		die("no correlation group was opened");
	double per = (double)st.mem_bytes / (double)st.keys_live;

	fprintf(stderr, "bench_incidents: %u SYNs from distinct sources into "
		"one value_count rule: %.2f M ev/s; %llu groups live, %llu "
		"evicted, mem_bytes %.1f MB = %.1f B per group; allocator %.1f B "
		"per group, RSS %.1f B per group\n", NKEYS,
		(double)NKEYS * 1e3 / (double)(t1 - t0),
		(unsigned long long)st.keys_live,
		(unsigned long long)st.keys_evicted, (double)st.mem_bytes / 1e6,
		per, h0 || h1 ? ((double)h1 - (double)h0) / (double)st.keys_live
			      : 0.0,
		((double)r1 - (double)r0) / (double)st.keys_live);
	printf("ROW\tmemory per tracked correlation key (value_count, 1M "
	       "groups, 1 value each; ratio ours/peer, lower is better)\t"
	       "%.0f B/key\tgoal %d B/key\t%.2f\t" CMD "\n", per, KEY_GOAL,
	       per / KEY_GOAL);
	fflush(stdout);
	cep_detect_destroy(d);
	cep_ruleset_destroy(rs);
}

int main(int argc, char **argv)
{
	struct cep_incidents_config cfg = { 0 };
	struct cep_incidents *t;
	struct peer p;
	struct sdesc *d;
	size_t nround = (size_t)ROUND_BATCHES * BATCH;
	size_t nd = NENT > nround ? NENT : nround;
	double ours[REPS], peer[REPS], o, q;
	uint32_t next_new = NENT;
	uint64_t ts = T0 + 3600ULL * 1000000000ULL;
	size_t h0, h1, r0, r1;
	struct run_res pop;
	char a[32], b[32];

	if (argc > 1 && !strcmp(argv[1], "--keys")) {
		key_bytes();
		return 0;
	}
	if (argc > 1)
		step_ns = strtoull(argv[1], NULL, 10);
	if (!(d = malloc(nd * sizeof *d)))
		die("out of memory");

	/* Open the 1M entities, one signal each, collecting as the engine
	 * does; measure what the table holds afterwards. */
	for (uint32_t e = 0; e < NENT; e++)
		make_desc(&d[e], e);
	h0 = heap_bytes();
	r0 = rss_bytes();
	if (cep_incidents_create(&cfg, &t))
		die("cep_incidents_create");
	pop = run(t, NULL, d, NENT, ts, 0);
	ts += (uint64_t)NENT * step_ns;
	h1 = heap_bytes();
	r1 = rss_bytes();
	if (cep_incidents_count(t) != NENT)
		die("the table did not open one incident per entity");
	fprintf(stderr, "bench_incidents: opened %u incidents at %.2f M sig/s; "
		"sizeof(struct cep_incident) %zu B; allocator +%.1f MB "
		"(%.1f B per incident), RSS +%.1f MB (%.1f B per incident)\n",
		NENT, (double)NENT * 1e3 / (double)pop.ns,
		sizeof(struct cep_incident), ((double)h1 - (double)h0) / 1e6,
		((double)h1 - (double)h0) / NENT,
		((double)r1 - (double)r0) / 1e6,
		((double)r1 - (double)r0) / NENT);
	{
		double per = h0 || h1 ? ((double)h1 - (double)h0) / NENT :
					((double)r1 - (double)r0) / NENT;

		printf("ROW\tmemory per open incident (1M open, %s; ratio "
		       "ours/peer, lower is better)\t%.0f B/incident\t"
		       "sizeof(struct cep_incident) %zu B\t%.2f\t" CMD "\n",
		       h0 || h1 ? "jemalloc stats.allocated" : "RSS", per,
		       sizeof(struct cep_incident),
		       per / (double)sizeof(struct cep_incident));
		fflush(stdout);
	}

	peer_init(&p);
	run(NULL, &p, d, NENT, T0 + 3600ULL * 1000000000ULL, 0);
	if (p.count != NENT)
		die("the peer did not open one record per entity");

	/* The measured stream: rounds alternate ours and peer over the same
	 * signals; every round brings its own new entities.  A round is
	 * ROUND_BATCHES batches, or fewer when ours passes ROUND_NS (the peer
	 * then takes the same prefix). */
	for (int rep = 0; rep < REPS; rep++) {
		size_t before = cep_incidents_count(t), pbefore = p.count;
		uint32_t first_new = next_new;
		struct run_res ro, rp;
		size_t fresh = 0;

		for (size_t i = 0; i < nround; i++)
			make_desc(&d[i], rnd(100) < NEW_PCT ? next_new++ :
							    rnd(NENT));
		ro = run(t, NULL, d, nround, ts, ROUND_NS);
		rp = run(NULL, &p, d, ro.signals, ts, 0);
		ts += (uint64_t)nround * step_ns;
		for (size_t i = 0; i < ro.signals; i++)
			fresh += d[i].ent >= first_new;
		if (cep_incidents_count(t) - before != fresh ||
		    p.count - pbefore != fresh)
			die("ours and the peer disagree on the new entities");
		ours[rep] = (double)ro.signals * 1e9 / (double)ro.ns;
		peer[rep] = (double)rp.signals * 1e9 / (double)rp.ns;
		fprintf(stderr, "bench_incidents: round %d: %zu signals (%zu new "
			"entities, %zu open): ours %.0f ns/signal (%.0f in "
			"signal, %.0f in tick+collect; %zu handed out), peer "
			"%.0f ns/signal (%zu handed out)\n", rep + 1, ro.signals,
			fresh, cep_incidents_count(t), 1e9 / ours[rep],
			(double)(ro.ns - ro.ns_out) / (double)ro.signals,
			(double)ro.ns_out / (double)ro.signals, ro.out,
			1e9 / peer[rep], rp.out);
	}
	qsort(ours, REPS, sizeof ours[0], dbl_cmp);
	qsort(peer, REPS, sizeof peer[0], dbl_cmp);
	o = ours[REPS / 2];
	q = peer[REPS / 2];
	fmt_rate(o, a, sizeof a);
	fmt_rate(q, b, sizeof b);
	fprintf(stderr, "bench_incidents: median: ours %.0f ns per signal, "
		"peer %.0f ns\n", 1e9 / o, 1e9 / q);
	printf("ROW\tincidents: signals through cep_incidents_signal + collect "
	       "every %u, 1M open entities (80 %% existing, 20 %% new)\t%s\t"
	       "open-addressing find+update %s\t%.2f\t" CMD "\n", BATCH, a, b,
	       o / q);
	fflush(stdout);
	cep_incidents_destroy(t);
	free(p.slots);
	free(p.dirty);
	free(d);

	key_bytes();
	return 0;
}
