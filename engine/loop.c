/*
 * loop.c - ceptord's engine (see loop.h for the picture).
 *
 * The core thread owns the detection state and the incident table, so
 * neither needs a lock.  Everything that crosses threads goes through the
 * rings, in bursts: one dequeue takes up to CORE_BURST records, and the
 * consumer only sleeps after a round in which no ring had anything.
 *
 * Status.  About once a second the core thread writes the status document
 * (loop.h) from what it owns and from ring snapshots; it never reads a
 * hosted thread's private counters while the thread runs.  A hosted
 * thread publishes them instead as its ring's producer counters
 * (cep_ring_producer_report()), as a collector process does, and its
 * final counts become readable once the core has seen its ring closed
 * (the ring's A3/R3 pair orders them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "ceptor/detect.h"
#include "ceptor/error.h"
#include "ceptor/incident.h"
#include "ceptor/publish.h"
#include "ceptor/ring.h"
#include "ceptor/rule.h"
#include "ceptor/sink.h"
#include "core/sectors.h"
#include "core/share.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/pseudonym.h"
#include "alert.h"
#include "outbox.h"
#include "loop.h"
#include "metrics.h"
#include "publish/latency.h"
#include "publish/stats.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

#define CORE_BURST 256     /* records per dequeue */
#define SIGNAL_ROOM 64     /* signals taken per detect call */
#define COLLECT_ROOM 256   /* incidents taken per collect call */
#define IDLE_WAIT_MS 10    /* sleep on one ring when all were empty */
#define MERGE_WAIT_MS 200  /* live: an input quiet this long holds no one */
#define ADVANCE_MS 1000    /* live: event time moves on after this quiet */
#define ORPHAN_WARN_MS 2000   /* --once: say that a ring waits for a producer */
#define ORPHAN_END_MS 10000   /* --once: a ring nobody feeds ends after this */
#define REPORT_MS 1000     /* hosted threads' producer reports */
#define STATUS_BASE 4096   /* status document bytes, besides the inputs */
#define STATUS_INPUT 1536  /* status document bytes per input */

struct input {
	const struct cep_config_input *cfg;
	char ring_name[64];
	struct cep_ring *cons;   /* the core's end */
	struct cep_ring *prod;   /* the hosted thread's end, or NULL */
	pthread_t thread;
	int thread_started;
	int finished;            /* closed and drained */
	int idle_closed;         /* drained and closed, a new producer may come */
	int rc;                  /* the hosted reader's first error */
	struct cep_input_counts counts;
	struct cep_ring_sink sink;
	const struct cep_engine_hooks *hooks;
	uint64_t reported_ms;    /* hosted thread: its last producer report */
	/* The core's side: records dequeued and not yet processed, in ring
	 * order; the merge takes them in event-time order across inputs. */
	struct cep_event *pend;  /* CORE_BURST records */
	unsigned npend, pos;
	uint64_t data_ms;        /* monotonic ms when it last had records */
	uint64_t last_ts;        /* newest event time taken from it */
	uint64_t orphan_ms;      /* --once: since when its ring has had no
				    live producer (0: it has one) */
	int orphan_warned;
};

/* The status document's writer; the core thread's. */
struct status {
	char *path;              /* SPOOL/status.json, or NULL: none */
	char *tmp;               /* SPOOL/.status.json.PID.tmp */
	char *buf;
	size_t size;
	int64_t started_ns;      /* wall clock at create */
	uint64_t started_ms;     /* monotonic clock at create */
	uint64_t last_ms;        /* monotonic time of the last write */
	uint64_t last_events;    /* events and acked messages at that write, */
	uint64_t last_acked;     /* for the rates */
	double events_rate;
	double publish_rate;
	int failing;             /* the last write failed (reported once) */
};

/* One compiled rule set as the engine runs it: published through RCU
 * (cep_engine.rules_pub), immutable once published.  A reloaded set brings
 * the sector graph loaded with it; the core takes the graph out at the
 * swap (it is the core's alone from then on, see cep_engine.sectors). */
struct rules_gen {
	struct cep_ruleset *rs;
	struct cep_sectors *sectors; /* until swapped in; then NULL */
	uint64_t generation;     /* 1 for the set compiled at start */
	int64_t loaded_ns;       /* wall clock when it went live */
	size_t count;            /* rules in it */
};

/* What the status document says about reloads; written by the reload
 * thread (failures) and the core (swaps), under `lock`. */
struct rules_info {
	uint64_t reloads;           /* sets swapped in since start */
	uint64_t failures;          /* sets rejected (compile errors, OOM) */
	char last_error[4096];      /* the last rejection's FILE:LINE lines */
	struct cep_detect_diff diff;          /* last reload, rule by rule */
	struct cep_detect_reload_stats last;  /* last reload, windows */
};

/*
 * The reload path (loop.h, "Reload").  The reload thread compiles; the core
 * swaps.  Hand-over, both ways through one-slot mailboxes:
 *   pending: the reload thread stores a compiled set (R1, release), the
 *            core takes it between two dequeue rounds (A1, acquire), so
 *            the core sees the set fully built;
 *   retired: the core stores the set it swapped out, after its last use
 *            (R2, release), the reload thread takes it (A2, acquire),
 *            waits for an RCU grace period and frees it.
 * So at most one set is in flight, and the reload thread never compiles
 * while an older set is still waiting to be freed.
 */
struct reloader {
	pthread_t thread;
	int started;
	int wake_fd;                 /* eventfd: SIGHUP, the core, stop */
	int watch_fd;                /* inotify on the rule dirs, or -1 */
	_Atomic(struct rules_gen *) pending;
	_Atomic(struct rules_gen *) retired;
	atomic_int quit;
	atomic_int status_now;       /* ask the core for a status write */
	pthread_mutex_t lock;
	struct rules_info info;
};

/* Analyst feedback (`ceptorctl feedback`): SPOOL/feedback.jsonl, read
 * from off on the status tick; applied lines are remembered in
 * SPOOL/feedback.pos, the overrides they give in SPOOL/reliability.json. */
struct feedback {
	char *log;               /* SPOOL/feedback.jsonl, or NULL: none */
	char *pos;               /* SPOOL/feedback.pos */
	char *rel;               /* SPOOL/reliability.json */
	uint64_t off;            /* bytes of log applied */
	uint64_t last_ms;        /* the last look */
};

struct cep_engine {
	const struct cep_config *cfg;
	const struct cep_engine_hooks *hooks;
	/* The running set.  The core thread is the only updater and reads
	 * cur directly; any other reader goes through rules_pub under
	 * rcu_read_lock(). */
	struct rules_gen *cur;
	struct rules_gen *rules_pub;
	struct reloader rl;
	struct cep_detect *detect;
	struct cep_incidents *incidents;
	/* The publisher, owned by its thread behind the outbox (NULL with
	 * --redis none); e->pub holds it only until the outbox takes it. */
	struct cep_outbox *ob;
	/* Reporter names become keyed pseudonyms as events leave their
	 * rings (lib/pseudonym.h): nothing downstream sees a raw name. */
	struct cep_pseudonym *pseudonym;
	struct cep_alert *alert; /* the P1/P2 second channel, or NULL */
	/* The sector graph the incidents borrow (NULL: fixed tables).  Read
	 * only on the core thread (scoring, prediction), so a reload swaps it
	 * there between two rounds and the core frees the old one at once:
	 * unlike the rule set, no other thread ever sees it, so it needs no
	 * RCU grace period. */
	struct cep_sectors *sectors;
	struct cep_publisher *pub;
	struct cep_stats *stats;  /* NULL: no statistics (no Redis, or off) */
	struct input *inputs;
	size_t ninputs;
	struct cep_engine_stats st;
	int publish_failed;
	struct status status;
	struct feedback fb;
	struct cep_metrics *metrics; /* the /metrics endpoint, or NULL */
	uint64_t metrics_ms;     /* monotonic time of its last snapshot */
	uint64_t event_ms;       /* monotonic ms of the last event processed */
	uint64_t event_ts;       /* the largest event time processed */
	uint64_t idle_ts;        /* live: where advance_idle() moved event
				  * time to while the inputs were quiet */
	uint64_t advanced_ms;    /* the last idle advance of event time */
	int collect_failed;      /* the last round could not save the id
				    counters: rounds wait for the interval */
	/* Ingest to acknowledged (loop.h): the publisher thread records, the
	 * core reads snapshots for the status and the metrics. */
	struct cep_latency lat;
	struct cep_latency_snap lat_snap; /* the core's copy, for status and
					     metrics (7 KiB: not on the stack) */
};

static int status_init(struct cep_engine *e);
static int feedback_init(struct cep_engine *e);
static void feedback_poll(struct cep_engine *e);
static int reloader_start(struct cep_engine *e);
static void reloader_stop(struct cep_engine *e);

/* The reload thread's eventfd, for the SIGHUP handler; -1 without an
 * engine.  A reload asked for before the thread runs waits in
 * reload_requested. */
static atomic_int reload_fd = -1;
static atomic_int reload_requested;

void cep_engine_reload(void)
{
	uint64_t one = 1;
	int fd = atomic_load_explicit(&reload_fd, memory_order_relaxed);

	/* Relaxed: the flag carries no data; the eventfd only wakes. */
	atomic_store_explicit(&reload_requested, 1, memory_order_relaxed);
	if (fd >= 0 && write(fd, &one, sizeof one) < 0) {
		/* A full counter still wakes the reader: nothing to do. */
	}
}

/* Set by a signal handler or any thread, read by the core and the input
 * threads.  Relaxed is enough: it only needs to be seen eventually, and
 * nothing else is published through it.  The hooks' stop is remembered
 * here so that the signal handler can reach it. */
static atomic_int stop_requested;
static void (*stop_hook)(void);

void cep_engine_stop(void)
{
	atomic_store_explicit(&stop_requested, 1, memory_order_relaxed);
	if (stop_hook)
		stop_hook();
}

static bool stopping(void)
{
	return atomic_load_explicit(&stop_requested, memory_order_relaxed);
}

static uint64_t now_ms(void)
{
	return cep_clock_mono_ms();
}

static int64_t wall_ns(void)
{
	return (int64_t)cep_clock_wall_ns();
}

/* ---- hosted collectors ---------------------------------------------- */

/* A hosted thread's counters as producer counters of its ring: events it
 * made plus records it skipped count as captured. */
static void report_hosted(struct input *in)
{
	struct cep_ring_producer_counters c = {
		.captured = in->sink.accepted + in->sink.dropped +
			    in->counts.malformed,
		.kernel_drops = in->counts.kernel_drops,
		.if_drops = in->counts.if_drops,
		.malformed = in->counts.malformed,
	};

	/* A live capture counts what it saw itself (pcap_stats()). */
	if (in->counts.captured)
		c.captured = in->counts.captured;
	cep_ring_producer_report(in->prod, &c);
	in->reported_ms = now_ms();
}

/* The hosted thread's sink: the ring sink, and a producer report about
 * once a second (a clock read per batch, not per event). */
static int hosted_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct input *in = arg;
	int rc = cep_ring_sink_fn(&in->sink, ev, n);

	if (now_ms() - in->reported_ms >= REPORT_MS)
		report_hosted(in);
	return rc;
}

static void *input_thread(void *arg)
{
	struct input *in = arg;
	const struct cep_config_input *c = in->cfg;
	struct cep_sink sink = { hosted_sink_fn, in };

	report_hosted(in);
	for (size_t i = 0; i < c->nfiles && !stopping(); i++) {
		int rc = in->hooks->read(c, c->files[i], &sink, &in->counts);
		if (rc && !in->rc)
			in->rc = rc;
		report_hosted(in); /* the file's malformed records are in */
	}
	/* A live input (an interface, a UDP listener) runs after the files
	 * until the engine stops; the hook gets c->live itself as its path. */
	if (c->live && !stopping()) {
		int rc = in->hooks->read(c, c->live, &sink, &in->counts);
		if (rc && !in->rc)
			in->rc = rc;
		report_hosted(in);
	}
	/* The end of this input's stream; the core drains what is left.  The
	 * last report above comes before the close, so whoever sees the ring
	 * closed sees the final counts. */
	cep_ring_close(in->prod);
	return NULL;
}

static int input_open(struct cep_engine *e, struct input *in, size_t idx)
{
	const struct cep_config_input *c = in->cfg;
	int rc;

	if (c->kind == CEP_INPUT_RING) {
		/* A collector process's ring is opened, never replaced: what it
		 * committed before this engine started is still there. */
		int created = 0;
		snprintf(in->ring_name, sizeof in->ring_name, "%s", c->ring);
		rc = cep_ring_open(in->ring_name, e->cfg->ring_capacity, &in->cons,
				   &created);
		if (rc) {
			cep_error("cannot open ring %s for input %s: %s", in->ring_name,
				  c->src.name, *cep_ring_last_error() ?
				  cep_ring_last_error() : cep_strerror(rc));
			return rc;
		}
		cep_info("%s ring %s for collector %s", created ? "created" :
			 "reopened", in->ring_name, c->src.name);
		return 0;
	}
	snprintf(in->ring_name, sizeof in->ring_name, "/ceptord-%ld-%zu",
		 (long)getpid(), idx);
	rc = cep_ring_create(in->ring_name, e->cfg->ring_capacity, &in->cons);
	if (rc) {
		cep_error("cannot create ring %s for input %s: %s", in->ring_name,
			  c->src.name, cep_strerror(rc));
		return rc;
	}
	if ((rc = cep_ring_attach(in->ring_name, &in->prod))) {
		cep_error("cannot attach ring %s: %s", in->ring_name, cep_strerror(rc));
		return rc;
	}
	/* Both ends are mapped; the name is no longer needed, and removing it
	 * now means a crash leaves nothing behind in /dev/shm. */
	cep_ring_unlink(in->ring_name);
	in->ring_name[0] = '\0';
	in->sink.ring = in->prod;
	in->sink.overflow = c->src.overflow;
	in->hooks = e->hooks;
	if ((rc = pthread_create(&in->thread, NULL, input_thread, in))) {
		cep_error("cannot start collector thread: %s", strerror(rc));
		return -rc;
	}
	in->thread_started = 1;
	return 0;
}

/* Wait for a hosted thread to end.  A thread blocked on a full ring needs
 * the consumer, so records are drained (and discarded: the engine is
 * stopping) until the thread closes its end. */
static void join_input(struct input *in)
{
	struct cep_event sink[CORE_BURST];

	if (!in->thread_started)
		return;
	while (cep_ring_wait(in->cons, 10) != -CEP_ECLOSED)
		cep_ring_dequeue_burst(in->cons, sink, CORE_BURST);
	pthread_join(in->thread, NULL);
	in->thread_started = 0;
}

/* ---- create / destroy ------------------------------------------------ */

static int ensure_dir(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return -EINVAL;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int cep_engine_load_sectors(const struct cep_config *cfg, FILE *diag,
			    struct cep_sectors **out, const char **used)
{
	const char *path = cfg->sectors_path;
	int rc;

	*out = NULL;
	if (used)
		*used = NULL;
	if (!diag)
		diag = stderr;
	if (cfg->sectors_off)
		return 0;
	/* The default is optional: a tree without the file runs on the
	 * fixed tables.  One that exists must load, like an explicit one. */
	if (!path) {
		if (access(CEP_SECTORS_DEFAULT_PATH, F_OK) != 0)
			return 0;
		path = CEP_SECTORS_DEFAULT_PATH;
	}
	rc = cep_sectors_load(path, diag, out);
	if (rc) {
		if (cfg->sectors_line && cfg->path)
			fprintf(diag, "%s:%u: sectors: %s does not load: %s\n",
				cfg->path, cfg->sectors_line, path, cep_strerror(rc));
		else
			fprintf(diag, "%s: the sector graph%s does not load: %s\n",
				path, cfg->sectors_path ? " (--sectors)" : "",
				cep_strerror(rc));
		return rc;
	}
	if (used)
		*used = path;
	return 0;
}

int cep_engine_compile_rules(const struct cep_config *cfg, FILE *diag,
			     struct cep_ruleset **out)
{
	struct cep_rule_options o = {
		.skip_unsupported = cfg->rules_skip_unsupported != 0,
		.mapping = (const char *const *)cfg->rule_mappings,
		.nmapping = cfg->nrule_mappings,
	};

	return cep_ruleset_compile_opts((const char *const *)cfg->rule_dirs,
					cfg->nrule_dirs, &o, diag, out);
}

int cep_engine_create(const struct cep_config *cfg,
		      const struct cep_engine_hooks *hooks,
		      struct cep_engine **out)
{
	struct cep_engine *e = calloc(1, sizeof *e);
	int rc = -ENOMEM;

	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->hooks = hooks;
	cep_latency_init(&e->lat);
	e->rl.wake_fd = e->rl.watch_fd = -1;
	pthread_mutex_init(&e->rl.lock, NULL);
	stop_hook = hooks->stop;
	atomic_store_explicit(&stop_requested, 0, memory_order_relaxed);

	if (cfg->nrule_dirs == 0) {
		cep_error("no rule directories: give --rules DIR or rules: in the config");
		rc = -CEP_ECONFIG;
		goto fail;
	}
	if (!(e->cur = calloc(1, sizeof *e->cur))) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = cep_engine_compile_rules(cfg, stderr, &e->cur->rs);
	if (rc)
		goto fail;
	e->cur->generation = 1;
	e->cur->loaded_ns = wall_ns();
	e->cur->count = cep_ruleset_count(e->cur->rs);
	rcu_assign_pointer(e->rules_pub, e->cur);

	struct cep_detect_config dc = {
		.max_keys = cfg->max_keys,
		.mem_ceiling = cfg->state_max_bytes,
		.lateness = cfg->lateness_ns,
		.max_held = cfg->reorder_max,
	};
	if ((rc = cep_detect_create(e->cur->rs, &dc, &e->detect)))
		goto fail;

	const char *graph = NULL;
	if ((rc = cep_engine_load_sectors(cfg, stderr, &e->sectors, &graph)))
		goto fail;
	if (graph)
		cep_info("sector graph %s: criticality, blast radius and impact "
			 "prediction", graph);
	else
		cep_info("no sector graph: fixed criticality and blast radius, "
			 "no impact prediction");

	char state[4096];
	struct cep_incidents_config ic = { .sectors = e->sectors };
	if (cfg->spool_dir) {
		if ((rc = ensure_dir(cfg->spool_dir))) {
			cep_error("cannot create spool directory %s: %s",
				  cfg->spool_dir, cep_strerror(rc));
			goto fail;
		}
		snprintf(state, sizeof state, "%s/incident-ids", cfg->spool_dir);
		ic.state_path = state;
	}
	char perr[512];
	if (!(e->pseudonym = cep_pseudonym_create(cfg->reporter_secret,
						  cfg->spool_dir, perr,
						  sizeof perr))) {
		cep_error("%s%s", perr, cfg->reporter_secret && cfg->path ?
			  " (reporter_secret in the config)" : "");
		rc = -EINVAL;
		goto fail;
	}
	if (cfg->alert_syslog || cfg->alert_command) {
		struct cep_alert_config ac = {
			.syslog = cfg->alert_syslog,
			.command = cfg->alert_command,
			.max_priority = cfg->alert_priority,
			.timeout_ms = (unsigned)(cfg->alert_timeout_ns / 1000000u),
		};
		if ((rc = cep_alert_create(&ac, &e->alert)))
			goto fail;
	}
	if ((rc = status_init(e)))
		goto fail;
	if (cfg->metrics_addr &&
	    (rc = cep_metrics_create(cfg->metrics_addr, cfg->ninputs,
				     &e->metrics)))
		goto fail;
	if ((rc = cep_incidents_create(&ic, &e->incidents)))
		goto fail;
	if ((rc = feedback_init(e)))
		goto fail;

	if (cfg->redis_url) {
		struct cep_publish_config pc = {
			.url = cfg->redis_url,
			.spool_dir = cfg->spool_dir,
			.batch = cfg->publish_batch,
			.spool_max_bytes = cfg->spool_max_bytes,
			.wait_replicas = cfg->cluster_wait_replicas < 0 ? 0
					 : cfg->cluster_wait_replicas
						 ? cfg->cluster_wait_replicas
						 : -1,
			.wait_timeout_ms = (int)cfg->cluster_wait_ms,
			.latency = &e->lat,
		};
		if ((rc = cep_publisher_create(&pc, &e->pub))) {
			cep_error("cannot start the publisher for %s: %s",
				  cfg->redis_url, cep_strerror(rc));
			goto fail;
		}
		/* From here the publisher belongs to its own thread. */
		rc = cep_outbox_create(e->pub, &e->ob);
		if (rc)
			cep_publisher_destroy(e->pub);
		e->pub = NULL; /* the outbox's now, or gone */
		if (rc)
			goto fail;
		if (cfg->stats_hours || cfg->stats_days) {
			struct cep_stats_config sc = {
				.site = cfg->site,
				.hour_ttl_s = cfg->stats_hours * 3600u,
				.day_ttl_s = cfg->stats_days * 86400u,
			};
			if ((rc = cep_stats_create(&sc, &e->stats)))
				goto fail;
		}
	}

	if (cfg->ninputs && !(e->inputs = calloc(cfg->ninputs, sizeof *e->inputs))) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < cfg->ninputs; i++) {
		e->inputs[i].cfg = &cfg->inputs[i];
		e->ninputs++;
		e->inputs[i].pend = malloc(CORE_BURST * sizeof *e->inputs[i].pend);
		if (!e->inputs[i].pend) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = input_open(e, &e->inputs[i], i)))
			goto fail;
	}
	if ((rc = reloader_start(e)))
		goto fail;
	*out = e;
	return 0;
fail:
	cep_engine_stop();
	cep_engine_destroy(e);
	return rc;
}

void cep_engine_destroy(struct cep_engine *e)
{
	if (!e)
		return;
	cep_metrics_destroy(e->metrics); /* joins the server thread */
	reloader_stop(e);
	for (size_t i = 0; i < e->ninputs; i++) {
		struct input *in = &e->inputs[i];
		join_input(in);
		cep_ring_destroy(in->prod);
		cep_ring_destroy(in->cons);
		free(in->pend);
		/* A collector process's ring keeps its name: the collector may
		 * still be writing (its records wait for the next ceptord, see
		 * loop.h), or may start before the next ceptord does. */
	}
	free(e->inputs);
	free(e->status.path);
	free(e->status.tmp);
	free(e->status.buf);
	free(e->fb.log);
	free(e->fb.pos);
	free(e->fb.rel);
	cep_outbox_destroy(e->ob); /* flushes what is left, then the publisher */
	cep_stats_destroy(e->stats);
	cep_incidents_destroy(e->incidents);
	cep_pseudonym_destroy(e->pseudonym);
	cep_alert_destroy(e->alert);
	cep_sectors_destroy(e->sectors);
	stop_hook = NULL;
	cep_detect_destroy(e->detect);
	if (e->cur)
		cep_ruleset_destroy(e->cur->rs);
	free(e->cur);
	pthread_mutex_destroy(&e->rl.lock);
	free(e);
}

void cep_engine_stats(const struct cep_engine *e, struct cep_engine_stats *st)
{
	*st = e->st;
}

/* ---- the core ---------------------------------------------------------- */

static void take_signals(struct cep_engine *e, const struct cep_signal *sig,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		size_t before = cep_incidents_count(e->incidents);
		if (cep_incidents_signal(e->incidents, &sig[i]))
			cep_error("out of memory joining a signal; it is lost");
		e->st.incidents += cep_incidents_count(e->incidents) - before;
	}
	e->st.signals += n;
}

/* Records from another process are input like any other: terminate every
 * text field and bring every token into range before anything reads them.
 * An unknown TLP is taken as the strictest. */
static void sanitize(struct cep_event *ev)
{
	ev->source[sizeof ev->source - 1] = '\0';
	ev->reporter[sizeof ev->reporter - 1] = '\0';
	ev->indicator[sizeof ev->indicator - 1] = '\0';
	ev->name[sizeof ev->name - 1] = '\0';
	ev->report_id[sizeof ev->report_id - 1] = '\0';
	if (ev->kind >= CEP_KIND_COUNT)
		ev->kind = CEP_KIND_NONE;
	if (ev->type >= CEP_TYPE_COUNT)
		ev->type = CEP_TYPE_NONE;
	if (ev->sector >= CEP_SECTOR_COUNT)
		ev->sector = CEP_SECTOR_UNKNOWN;
	if (ev->reliability >= CEP_REL_COUNT)
		ev->reliability = CEP_REL_F;
	if (ev->credibility > CEP_CRED_MAX)
		ev->credibility = CEP_CRED_MAX;
	if (ev->tlp >= CEP_TLP_COUNT)
		ev->tlp = CEP_TLP_RED;
	if (ev->system >= CEP_SYSTEM_COUNT)
		ev->system = CEP_SYSTEM_NONE;
	if (ev->trigger >= CEP_TRIGGER_COUNT)
		ev->trigger = CEP_TRIGGER_NONE;
	if (ev->src_af != CEP_AF_INET && ev->src_af != CEP_AF_INET6)
		ev->src_af = CEP_AF_NONE;
	if (ev->dst_af != CEP_AF_INET && ev->dst_af != CEP_AF_INET6)
		ev->dst_af = CEP_AF_NONE;
}

/* Grading a source is the engine operator's judgement, not the collector's:
 * events from a collector process take the configured name, reliability
 * and credibility.  Their marking is the stricter of theirs and the
 * configured one (a larger value is stricter), and the configured sector
 * applies where they name none. */
static void stamp_ring_source(const struct cep_source *src, struct cep_event *ev)
{
	memcpy(ev->source, src->name, sizeof ev->source);
	ev->reliability = src->reliability;
	ev->credibility = src->credibility;
	if (ev->tlp < src->tlp)
		ev->tlp = src->tlp;
	if (!ev->sector)
		ev->sector = src->sector;
	if (!cep_event_recipients(ev))
		cep_event_set_recipients(ev, src->recipients);
}

/* Takes the @k signals in @sig and, when the array came back full, every
 * signal still queued in the detect stage: none waits for the next event. */
static void take_all(struct cep_engine *e, struct cep_signal sig[SIGNAL_ROOM],
		     unsigned k)
{
	while (k) {
		take_signals(e, sig, k);
		k = k == SIGNAL_ROOM ? cep_detect_drain(e->detect, sig, SIGNAL_ROOM)
				     : 0;
	}
}

static void process(struct cep_engine *e, const struct cep_event *ev,
		    unsigned n)
{
	struct cep_signal sig[SIGNAL_ROOM];
	uint64_t ts = e->event_ts;

	for (unsigned i = 0; i < n; i++) {
		take_all(e, sig, cep_detect_event(e->detect, &ev[i], sig,
						  SIGNAL_ROOM));
		if (ev[i].ts > ts)
			ts = ev[i].ts;
	}
	e->st.events += n;
	e->event_ts = ts;
	e->event_ms = now_ms();
}

/*
 * A live engine whose inputs went quiet: event time moves on with the
 * clock from the last event, so held events, due windows and absence rules
 * are not held back until more input comes.  Never under --once (replays
 * stay exact), never before the first event.
 */
static void advance_idle(struct cep_engine *e, uint64_t now)
{
	struct cep_signal sig[SIGNAL_ROOM];

	if (e->cfg->once || !e->event_ts || now - e->event_ms < ADVANCE_MS ||
	    now - e->advanced_ms < ADVANCE_MS / 4)
		return;
	e->advanced_ms = now;
	/* Never past what could still be on its way: event time moves by the
	 * quiet time less the allowed lateness, so a record a collector is
	 * still batching is not made late by the advance itself. */
	uint64_t quiet = (now - e->event_ms) * 1000000ull;
	if (quiet <= e->cfg->lateness_ns)
		return;
	e->idle_ts = e->event_ts + quiet - e->cfg->lateness_ns;
	take_all(e, sig, cep_detect_advance(e->detect, e->idle_ts, sig,
					    SIGNAL_ROOM));
}

/* Takes the next records of @in from its ring into its pending buffer,
 * reporters pseudonymised.  Returns how many. */
static unsigned refill(struct cep_engine *e, struct input *in, uint64_t now)
{
	unsigned n = cep_ring_dequeue_burst(in->cons, in->pend, CORE_BURST);

	if (n && in->cfg->kind == CEP_INPUT_RING)
		for (unsigned k = 0; k < n; k++) {
			sanitize(&in->pend[k]);
			stamp_ring_source(&in->cfg->src, &in->pend[k]);
		}
	for (unsigned k = 0; k < n; k++)
		if (in->pend[k].reporter[0])
			cep_pseudonym_apply(e->pseudonym, in->pend[k].reporter,
					    sizeof in->pend[k].reporter);
	in->npend = n;
	in->pos = 0;
	if (n) {
		in->data_ms = now;
		for (unsigned k = 0; k < n; k++)
			if (in->pend[k].ts > in->last_ts)
				in->last_ts = in->pend[k].ts;
	}
	return n;
}

/*
 * --once: a ring input whose producer never came or died without closing
 * it would hold the run forever.  After ORPHAN_WARN_MS say so; after
 * ORPHAN_END_MS without a live producer, end the input (what its producer
 * committed was already read).  Returns true when it ends.
 */
static bool orphaned(struct cep_engine *e, struct input *in, uint64_t now)
{
	struct cep_ring_stats rs;
	int ps;

	(void)e;
	if (in->cfg->kind != CEP_INPUT_RING)
		return false;
	cep_ring_stats(in->cons, &rs);
	ps = cep_ring_producer_state(&rs, 0);
	if (ps != CEP_RING_PRODUCER_NONE && ps != CEP_RING_PRODUCER_DEAD) {
		in->orphan_ms = 0;
		return false;
	}
	if (!in->orphan_ms)
		in->orphan_ms = now;
	if (now - in->orphan_ms >= ORPHAN_WARN_MS && !in->orphan_warned) {
		in->orphan_warned = 1;
		cep_warn("input %s: ring %s has %s producer; --once waits %d s "
			 "for one", in->cfg->src.name, in->ring_name,
			 ps == CEP_RING_PRODUCER_DEAD ? "a dead" : "no",
			 ORPHAN_END_MS / 1000);
	}
	if (now - in->orphan_ms < ORPHAN_END_MS)
		return false;
	cep_warn("input %s: no live producer on ring %s; ending it",
		 in->cfg->src.name, in->ring_name);
	return true;
}

/* How long (ms) the oldest pending record of any input has waited. */
static uint64_t oldest_wait(const struct cep_engine *e, uint64_t now)
{
	uint64_t w = 0;

	for (size_t i = 0; i < e->ninputs; i++) {
		const struct input *in = &e->inputs[i];

		if (in->pos < in->npend && now - in->data_ms > w)
			w = now - in->data_ms;
	}
	return w;
}

/*
 * Processes pending records of every input in event-time order: the input
 * with the oldest head goes, up to the next input's head, until one input
 * runs dry (it must be refilled first: its next record may be the oldest)
 * or the oldest head reaches @below (an input with nothing pending may
 * still send records from its newest time on).  Returns the records
 * processed.
 */
static unsigned merge(struct cep_engine *e, uint64_t below)
{
	unsigned done = 0;

	while (done < 4 * CORE_BURST) {
		struct input *min = NULL;
		uint64_t limit = below == UINT64_MAX ? UINT64_MAX : below - 1;

		for (size_t i = 0; i < e->ninputs; i++) {
			struct input *in = &e->inputs[i];
			uint64_t ts;

			if (in->pos == in->npend)
				continue;
			ts = in->pend[in->pos].ts;
			if (!min || ts < min->pend[min->pos].ts) {
				if (min && min->pend[min->pos].ts < limit)
					limit = min->pend[min->pos].ts;
				min = in;
			} else if (ts < limit) {
				limit = ts;
			}
		}
		if (!min || min->pend[min->pos].ts >= below)
			break;
		unsigned run = 1;
		while (min->pos + run < min->npend &&
		       min->pend[min->pos + run].ts <= limit)
			run++;
		process(e, &min->pend[min->pos], run);
		min->pos += run;
		done += run;
		if (min->pos == min->npend)
			break;
	}
	return done;
}

/* Where the latency of a message of this version counts from (loop.h,
 * "Ingest to acknowledged"): the event time of its newest evidence, for a
 * version that evidence made (a close is made by the passage of time or
 * an analyst) of a real incident (an exercise's events are retimed) in a
 * live run (an offline one replays old times); 0: not measured. */
static uint64_t origin_of(const struct cep_engine *e,
			  const struct cep_incident *inc)
{
	if (e->cfg->once || inc->exercise || inc->status == CEP_INCIDENT_CLOSED)
		return 0;
	return inc->last_seen;
}

static void emit(struct cep_engine *e, const struct cep_incident *inc,
		 const char *stream, const char *json)
{
	if (e->cfg->stdout_json) {
		char line[CEP_INCIDENT_JSON_MAX + 128];
		int len = cep_incident_to_json(inc, e->cfg->site, stream, line,
					       sizeof line - 1);
		if (len > 0) {
			line[len++] = '\n';
			fwrite(line, 1, (size_t)len, stdout);
		}
	}
	if (e->ob) {
		struct cep_incident_fieldbuf fb;
		const char *fv[2 * CEP_INCIDENT_FIELDS];
		size_t nfv = cep_incident_fields(inc, json, &fb, fv);
		if (cep_outbox_add_at(e->ob, stream, fv, nfv, origin_of(e, inc)))
			cep_error("cannot queue incident %s for %s", inc->id, stream);
	}
	e->st.messages++;
}

/* One advisory: impact entry k of the incident, to its sector's
 * advisories stream. */
static void emit_advisory(struct cep_engine *e, const struct cep_incident *inc,
			  size_t k)
{
	char stream[CEP_STREAM_KEY_MAX], json[CEP_ADVISORY_JSON_MAX];

	cep_incident_advisory_stream(inc, inc->impact[k].sector, stream,
				     sizeof stream);
	if (e->cfg->stdout_json) {
		int len = cep_incident_advisory_json(inc, k, e->cfg->site, stream,
						     json, sizeof json - 1);
		if (len > 0) {
			json[len++] = '\n';
			fwrite(json, 1, (size_t)len, stdout);
		}
	}
	if (e->ob) {
		struct cep_advisory_fieldbuf fb;
		const char *fv[2 * CEP_ADVISORY_FIELDS];
		if (cep_incident_advisory_json(inc, k, e->cfg->site, NULL, json,
					       sizeof json) < 0) {
			cep_error("advisory of %s for %s does not fit a message",
				  inc->id, stream);
			return;
		}
		size_t nfv = cep_incident_advisory_fields(inc, k, json, &fb, fv);
		if (cep_outbox_add(e->ob, stream, fv, nfv))
			cep_error("cannot queue the advisory of %s for %s", inc->id,
				  stream);
	}
	e->st.messages++;
	e->st.advisories++;
}

/* The incident to another sector's incidents stream. */
static void emit_sector(struct cep_engine *e, const struct cep_incident *inc,
			int sector, const char *json)
{
	char stream[CEP_STREAM_KEY_MAX];

	cep_incident_sector_stream(inc, sector, stream, sizeof stream);
	emit(e, inc, stream, json);
}

/* The statistics' commands, through the outbox like the messages. */
static int stats_cmd(void *arg, const char *const *argv, size_t argc)
{
	return cep_outbox_add_cmd(arg, argv, argc);
}

/* A publisher that lost messages, or failed otherwise than by Redis being
 * away (which the spool covers), makes the run fail. */
static void publish_check(struct cep_engine *e)
{
	struct cep_outbox_stats os;

	cep_outbox_stats(e->ob, &os);
	if (os.pub.lost || (os.last_rc && os.last_rc != -CEP_EREDIS))
		e->publish_failed = 1;
}

/* The engine's event time: the newest event processed, or where a live
 * engine's idle advance moved it. */
static uint64_t event_now(const struct cep_engine *e)
{
	return e->idle_ts > e->event_ts ? e->idle_ts : e->event_ts;
}

/* Live, with publish_prompt: whether a round now would hand out anything
 * (loop.h, "Publishing").  O(1), asked after every batch.  A round that
 * could not save the id counters leaves the next ones to the interval, so
 * that a full disk is not retried (and logged) at every batch. */
static bool publish_due(const struct cep_engine *e)
{
	return !e->cfg->once && e->cfg->publish_prompt && !e->collect_failed &&
	       cep_incidents_due(e->incidents, event_now(e));
}

/* Publish what changed since the last round (loop.h, "Sharing"): the
 * incident's own sector stream, the council's summary stream, the
 * predicted sectors' incident streams and, for a new prediction, their
 * advisories; each new incident's statistics (publish/stats.h: every
 * outage of the batch is noted before any incident is counted, so that an
 * IT failure handed out before its cause in the same batch is attributed
 * all the same); then flush (pipelined, one fsync). */
static void publish(struct cep_engine *e)
{
	struct cep_incident *inc[COLLECT_ROOM];
	char json[CEP_INCIDENT_JSON_MAX], stream[CEP_STREAM_KEY_MAX];
	int n;

	/* Event time closes quiet incidents and releases held updates; live,
	 * it moves on with the clock while the inputs are quiet, or an update
	 * held by the rate limit would wait for the next event. */
	cep_incidents_tick(e->incidents, event_now(e));
	while ((n = cep_incidents_collect(e->incidents, inc, COLLECT_ROOM)) > 0) {
		if (e->stats)
			for (int i = 0; i < n; i++)
				cep_stats_note(e->stats, inc[i]);
		for (int i = 0; i < n; i++) {
			const struct cep_incident *c = inc[i];
			if (e->metrics)
				cep_metrics_note_incident(e->metrics, c);
			if (cep_incident_to_json(c, e->cfg->site, NULL, json,
						 sizeof json) < 0) {
				cep_error("incident %s does not fit a message", c->id);
				continue;
			}
			struct cep_share_plan plan;
			cep_share_plan(c, e->sectors, e->cfg->agreed, &plan);
			/* Its own sector first, then the council, then the
			 * predicted sectors (below) and those that run its
			 * system class. */
			uint32_t to = plan.incidents;
			if (to & CEP_SECTOR_BIT(c->sector)) {
				cep_incident_stream(c, stream, sizeof stream);
				emit(e, c, stream, json);
				to &= ~CEP_SECTOR_BIT(c->sector);
			}
			if (e->stats && cep_stats_record(e->stats, stats_cmd, e->ob, c) < 0)
				cep_error("cannot queue the statistics of %s",
					  c->id);
			if (plan.council) {
				cep_incident_council_stream(c, stream, sizeof stream);
				emit(e, c, stream, json);
			}
			/* Predicted sectors in the prediction's order, then
			 * those that run its system class. */
			for (uint8_t j = 0; j < c->nimpact; j++) {
				uint32_t bit = CEP_SECTOR_BIT(c->impact[j].sector);
				if (to & bit) {
					to &= ~bit;
					emit_sector(e, c, c->impact[j].sector, json);
				}
			}
			for (int sct = 0; sct < CEP_SECTOR_COUNT; sct++)
				if (to & CEP_SECTOR_BIT(sct))
					emit_sector(e, c, sct, json);
			for (int sct = 0; sct < CEP_SECTOR_COUNT; sct++)
				e->st.withheld += (plan.withheld >> sct) & 1u;
			/* P1/P2 also leave on the second channel, whatever
			 * the marking: it reaches the centre's own staff. */
			cep_alert_post(e->alert, c, json);
			if (c->advise)
				for (uint8_t k = 0; k < c->nimpact; k++)
					if (plan.advisories &
					    CEP_SECTOR_BIT(c->impact[k].sector))
						emit_advisory(e, c, k);
		}
	}
	e->collect_failed = n < 0;
	if (n < 0) {
		cep_error("cannot save incident id counters: %s; not publishing "
			  "until they can be saved", cep_strerror(n));
		e->publish_failed = 1;
	}
	if (e->cfg->stdout_json)
		fflush(stdout);
	if (e->ob) {
		/* One hand-off per round; the publisher thread talks to Redis
		 * (and logs its problems) while the core goes on. */
		cep_outbox_flush(e->ob);
		publish_check(e);
	}
}

/* ---- reload ---------------------------------------------------------- */

#define WATCH_DEBOUNCE_MS 200  /* quiet time after the last rule-file change */
#define RELOAD_POLL_MS 500     /* the reload thread's longest sleep */

static void gen_destroy(struct rules_gen *g)
{
	if (!g)
		return;
	cep_ruleset_destroy(g->rs);
	cep_sectors_destroy(g->sectors);
	free(g);
}

static void wake(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof one) < 0) {
		/* The counter is full: the reader wakes anyway. */
	}
}

/* Sleep until woken or @ms pass (-1: until woken); clears the eventfd.
 * Returns the poll() revents of the watch fd. */
static short reload_sleep(struct reloader *rl, int ms)
{
	struct pollfd p[2] = { { rl->wake_fd, POLLIN, 0 },
			       { rl->watch_fd, POLLIN, 0 } };
	uint64_t v;

	if (poll(p, rl->watch_fd >= 0 ? 2 : 1, ms) <= 0)
		return 0;
	if ((p[0].revents & POLLIN) && read(rl->wake_fd, &v, sizeof v) < 0) {
		/* EAGAIN: another reader took it; nothing to do. */
	}
	return rl->watch_fd >= 0 ? p[1].revents : 0;
}

/* Drains inotify; true when a rule file (*.yml, *.yaml) or a watched
 * directory itself changed. */
static bool watch_drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			size_t len = ev->len ? strlen(ev->name) : 0;

			if (!ev->len || (len > 4 && !strcmp(ev->name + len - 4, ".yml")) ||
			    (len > 5 && !strcmp(ev->name + len - 5, ".yaml")))
				hit = true;
			p += sizeof *ev + ev->len;
		}
	}
	return hit;
}

/* Compile the rule dirs; on success hand the set to the core and free
 * the one it retires.  On failure record the errors; the running set
 * stays.  The reload thread's. */
static void reload_once(struct cep_engine *e)
{
	struct reloader *rl = &e->rl;
	struct cep_ruleset *rs = NULL;
	struct cep_detect_diff df = { 0 };
	struct rules_gen *g, *old;
	char *text = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&text, &len);
	int rc;

	cep_info("reloading rules from %zu rule director%s", e->cfg->nrule_dirs,
		 e->cfg->nrule_dirs == 1 ? "y" : "ies");
	rc = cep_engine_compile_rules(e->cfg, diag ? diag : stderr, &rs);
	/* The sector graph comes again with the rules, and a broken one
	 * rejects the reload whole, as a broken rule does. */
	struct cep_sectors *graph = NULL;
	if (!rc) {
		rc = cep_engine_load_sectors(e->cfg, diag ? diag : stderr, &graph,
					     NULL);
		if (rc) {
			cep_ruleset_destroy(rs);
			rs = NULL;
		}
	}
	if (diag)
		fclose(diag);
	if (rc) {
		char *line, *save = NULL;

		pthread_mutex_lock(&rl->lock);
		rl->info.failures++;
		snprintf(rl->info.last_error, sizeof rl->info.last_error, "%s",
			 text && *text ? text : cep_strerror(rc));
		len = strlen(rl->info.last_error);
		while (len && rl->info.last_error[len - 1] == '\n')
			rl->info.last_error[--len] = '\0';
		pthread_mutex_unlock(&rl->lock);
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			cep_error("reload: %s", line);
		cep_error("reload rejected (%s); the running rules stay",
			  cep_strerror(rc));
		free(text);
		atomic_store_explicit(&rl->status_now, 1, memory_order_relaxed);
		return;
	}
	free(text);
	/* A reader of the published set, off the core: compare. */
	rcu_read_lock();
	struct rules_gen *cur = rcu_dereference(e->rules_pub);
	rc = cep_detect_diff(cur->rs, rs, &df);
	rcu_read_unlock();
	if (rc || !(g = calloc(1, sizeof *g))) {
		cep_ruleset_destroy(rs);
		cep_sectors_destroy(graph);
		pthread_mutex_lock(&rl->lock);
		rl->info.failures++;
		snprintf(rl->info.last_error, sizeof rl->info.last_error,
			 "out of memory");
		pthread_mutex_unlock(&rl->lock);
		cep_error("reload rejected: out of memory; the running rules stay");
		atomic_store_explicit(&rl->status_now, 1, memory_order_relaxed);
		return;
	}
	g->rs = rs;
	g->sectors = graph;
	g->count = cep_ruleset_count(rs);
	pthread_mutex_lock(&rl->lock);
	rl->info.diff = df;
	pthread_mutex_unlock(&rl->lock);
	/* R1: pairs with A1 in swap_rules(). */
	atomic_store_explicit(&rl->pending, g, memory_order_release);
	/* Until the core has swapped (it runs a swap check every round, at
	 * least every IDLE_WAIT_MS), or the engine stops. */
	for (;;) {
		/* A2: pairs with R2 in swap_rules(): the core is done with it. */
		old = atomic_exchange_explicit(&rl->retired, NULL,
					       memory_order_acquire);
		if (old) {
			/* Other readers of rules_pub (none but this thread and
			 * the core today) may still hold it: a grace period. */
			synchronize_rcu();
			gen_destroy(old);
			return;
		}
		if (atomic_load_explicit(&rl->quit, memory_order_relaxed))
			return; /* reloader_stop() frees what is in flight */
		reload_sleep(rl, RELOAD_POLL_MS);
	}
}

static void *reload_thread(void *arg)
{
	struct cep_engine *e = arg;
	struct reloader *rl = &e->rl;
	uint64_t due = 0; /* a watched change waits until then (ms) */

	rcu_register_thread();
	while (!atomic_load_explicit(&rl->quit, memory_order_relaxed)) {
		int ms = RELOAD_POLL_MS;
		uint64_t now = now_ms();

		if (due)
			ms = due > now ? (int)(due - now) : 0;
		if (reload_sleep(rl, ms) & POLLIN && watch_drain(rl->watch_fd))
			due = now_ms() + WATCH_DEBOUNCE_MS;
		if (atomic_load_explicit(&rl->quit, memory_order_relaxed))
			break;
		if (due && now_ms() >= due) {
			due = 0;
			atomic_store_explicit(&reload_requested, 1,
					      memory_order_relaxed);
		}
		if (atomic_exchange_explicit(&reload_requested, 0,
					     memory_order_relaxed))
			reload_once(e);
	}
	rcu_unregister_thread();
	return NULL;
}

static int reloader_start(struct cep_engine *e)
{
	struct reloader *rl = &e->rl;
	int rc;

	/* One eventfd for the life of the process: the SIGHUP handler may
	 * run on any thread at any time, so the descriptor it writes to is
	 * never closed (and so never reused for something else). */
	static int wake_fd_kept = -1;
	if (wake_fd_kept < 0)
		wake_fd_kept = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rl->wake_fd = wake_fd_kept;
	if (rl->wake_fd < 0)
		return -errno;
	if (e->cfg->rules_watch) {
		rl->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (rl->watch_fd < 0)
			return -errno;
		for (size_t i = 0; i < e->cfg->nrule_dirs; i++) {
			const char *d = e->cfg->rule_dirs[i];
			struct stat st;
			char parent[4096];

			/* A file: watch its directory (editors replace files). */
			if (!stat(d, &st) && !S_ISDIR(st.st_mode)) {
				const char *slash = strrchr(d, '/');
				snprintf(parent, sizeof parent, "%.*s",
					 slash ? (int)(slash - d) : 1,
					 slash ? d : ".");
				d = parent[0] ? parent : "/";
			}
			if (inotify_add_watch(rl->watch_fd, d, IN_CLOSE_WRITE |
					      IN_MOVED_TO | IN_MOVED_FROM |
					      IN_CREATE | IN_DELETE) < 0)
				cep_warn("rules_watch: cannot watch %s: %s", d,
					 strerror(errno));
		}
		cep_info("watching the rule directories for changes");
	}
	if ((rc = pthread_create(&rl->thread, NULL, reload_thread, e)))
		return -rc;
	rl->started = 1;
	atomic_store_explicit(&reload_fd, rl->wake_fd, memory_order_relaxed);
	/* A SIGHUP that came before the thread ran. */
	if (atomic_load_explicit(&reload_requested, memory_order_relaxed))
		wake(rl->wake_fd);
	return 0;
}

static void reloader_stop(struct cep_engine *e)
{
	struct reloader *rl = &e->rl;

	atomic_store_explicit(&reload_fd, -1, memory_order_relaxed);
	if (rl->started) {
		atomic_store_explicit(&rl->quit, 1, memory_order_relaxed);
		wake(rl->wake_fd);
		pthread_join(rl->thread, NULL);
		rl->started = 0;
	}
	/* The thread is joined (and the core no longer runs): what is still
	 * in the mailboxes is ours, and the join already ordered it; relaxed
	 * is enough. */
	gen_destroy(atomic_exchange_explicit(&rl->pending, NULL,
					     memory_order_relaxed));
	gen_destroy(atomic_exchange_explicit(&rl->retired, NULL,
					     memory_order_relaxed));
	/* wake_fd stays open: see reloader_start(). */
	if (rl->watch_fd >= 0)
		close(rl->watch_fd);
	rl->wake_fd = rl->watch_fd = -1;
}

/* The core thread, between two dequeue rounds (no event is in the detect
 * stage): switch to a compiled set the reload thread left in pending. */
static void swap_rules(struct cep_engine *e)
{
	struct reloader *rl = &e->rl;
	struct cep_detect_reload_stats st;
	struct cep_signal sig[SIGNAL_ROOM];
	struct rules_gen *g, *old;
	unsigned n;
	int rc;

	/* A1: pairs with R1 in reload_once(). */
	g = atomic_exchange_explicit(&rl->pending, NULL, memory_order_acquire);
	if (!g)
		return;
	rc = cep_detect_reload(e->detect, g->rs, &st);
	if (rc) {
		pthread_mutex_lock(&rl->lock);
		rl->info.failures++;
		snprintf(rl->info.last_error, sizeof rl->info.last_error,
			 "cannot switch the windows to the new rules: %s",
			 cep_strerror(rc));
		pthread_mutex_unlock(&rl->lock);
		cep_error("reload rejected: cannot switch the windows to the "
			  "new rules: %s; the running rules stay", cep_strerror(rc));
		old = g; /* the new set goes back to be freed */
	} else {
		/* The final signals of closed groups, before any new event. */
		while ((n = cep_detect_drain(e->detect, sig, SIGNAL_ROOM)) > 0)
			take_signals(e, sig, n);
		/* The graph is the core's alone (cep_engine.sectors): switch
		 * the incidents to the new one, then free the old one here. */
		struct cep_sectors *old_graph = e->sectors;
		e->sectors = g->sectors;
		g->sectors = NULL;
		cep_incidents_set_sectors(e->incidents, e->sectors);
		cep_sectors_destroy(old_graph);
		old = e->cur;
		g->generation = old->generation + 1;
		g->loaded_ns = wall_ns();
		rcu_assign_pointer(e->rules_pub, g);
		e->cur = g;
		pthread_mutex_lock(&rl->lock);
		rl->info.reloads++;
		rl->info.last = st;
		pthread_mutex_unlock(&rl->lock);
		cep_info("rules reloaded: generation %llu, %zu rules; "
			 "correlations kept %u, changed %u, added %u, removed %u; "
			 "groups kept %llu, closed %llu",
			 (unsigned long long)g->generation, g->count, st.kept,
			 st.changed, st.added, st.removed,
			 (unsigned long long)st.groups_kept,
			 (unsigned long long)st.groups_closed);
	}
	/* R2: pairs with A2 in reload_once(); the core never looks at old
	 * again. */
	atomic_store_explicit(&rl->retired, old, memory_order_release);
	wake(rl->wake_fd);
	atomic_store_explicit(&rl->status_now, 1, memory_order_relaxed);
}

/* ---- status ---------------------------------------------------------- */

static int status_init(struct cep_engine *e)
{
	struct status *w = &e->status;
	const char *dir = e->cfg->spool_dir;
	size_t n;

	w->started_ns = wall_ns();
	w->started_ms = now_ms();
	if (!dir)
		return 0; /* no state directory: no status document */
	n = strlen(dir) + sizeof "/." CEP_STATUS_FILE ".4294967295.tmp";
	w->path = malloc(n);
	w->tmp = malloc(n);
	w->size = STATUS_BASE + STATUS_INPUT * e->cfg->ninputs;
	w->buf = malloc(w->size);
	if (!w->path || !w->tmp || !w->buf)
		return -ENOMEM;
	snprintf(w->path, n, "%s/%s", dir, CEP_STATUS_FILE);
	snprintf(w->tmp, n, "%s/.%s.%ld.tmp", dir, CEP_STATUS_FILE,
		 (long)getpid());
	return 0;
}

/*
 * The engine's counters as they stand: the core's own, plus what the
 * inputs report.  While the engine runs, the counters that cep_engine_run()
 * adds up at the end are taken from the rings (drops, hosted inputs'
 * malformed records) and from hosted inputs that have finished (errors:
 * their thread's state is ours to read once the core saw the ring closed).
 */
static void live_stats(const struct cep_engine *e, struct cep_engine_stats *st)
{
	struct cep_detect_stats ds;

	*st = e->st;
	st->dropped = st->malformed = st->input_errors = 0;
	for (size_t i = 0; i < e->ninputs; i++) {
		const struct input *in = &e->inputs[i];
		struct cep_ring_stats rs;

		cep_ring_stats(in->cons, &rs);
		st->dropped += rs.dropped;
		if (in->cfg->kind == CEP_INPUT_RING || !in->finished) {
			if (in->cfg->kind != CEP_INPUT_RING)
				st->malformed += rs.producer.malformed;
			continue;
		}
		st->malformed += in->counts.malformed;
		st->input_errors += in->counts.failed_files;
		if (in->rc && !in->counts.failed_files)
			st->input_errors++;
	}
	cep_detect_stats(e->detect, &ds);
	st->keys_evicted = ds.keys_evicted;
	st->signals_dropped = ds.signals_dropped;
	st->events_late = ds.events_late;
}

static void jw_counters(struct cep_jw *w,
			const struct cep_ring_producer_counters *c)
{
	cep_jw_u64(w, "captured", c->captured);
	cep_jw_u64(w, "kernel_drops", c->kernel_drops);
	cep_jw_u64(w, "if_drops", c->if_drops);
	cep_jw_u64(w, "malformed", c->malformed);
}

static void jw_time(struct cep_jw *w, const char *key, int64_t ns)
{
	char t[CEP_TIME_STRLEN];

	cep_jw_str(w, key, ns > 0 ? cep_time_format((uint64_t)ns, t) : "");
}

static void jw_input(struct cep_jw *w, const struct input *in, int64_t now)
{
	const struct cep_config_input *c = in->cfg;
	struct cep_ring_stats rs;
	int ps;

	cep_ring_stats(in->cons, &rs);
	ps = cep_ring_producer_state(&rs, now);
	/* A hosted thread lives as long as we do; its heartbeat only says
	 * when it last read something (standard input may be quiet). */
	if (c->kind != CEP_INPUT_RING)
		ps = rs.closed ? CEP_RING_PRODUCER_CLOSED
			       : CEP_RING_PRODUCER_ALIVE;
	cep_jw_open(w, NULL, '{');
	cep_jw_str(w, "name", c->src.name);
	cep_jw_str(w, "kind", cep_config_input_kind_name(c->kind));
	if (c->kind == CEP_INPUT_RING) {
		cep_jw_str(w, "ring", in->ring_name);
	} else {
		cep_jw_str(w, "ring", "");
		cep_jw_str(w, "overflow", c->src.overflow == CEP_OVERFLOW_DROP
						  ? "drop" : "block");
	}
	cep_jw_str(w, "state", in->finished      ? "finished"
			       : in->idle_closed ? "waiting"
						 : "open");
	cep_jw_u64(w, "ring_capacity", rs.capacity);
	cep_jw_u64(w, "ring_used", rs.used);
	cep_jw_double(w, "fill_pct", 100.0 * rs.used / rs.capacity, 1);
	cep_jw_u64(w, "enqueued", rs.enqueued);
	cep_jw_u64(w, "dequeued", rs.dequeued);
	cep_jw_u64(w, "ring_drops", rs.dropped);
	cep_jw_open(w, "producer", '{');
	cep_jw_u64(w, "pid", rs.producer_pid > 0 ? (uint64_t)rs.producer_pid
						 : 0);
	cep_jw_str(w, "state", cep_ring_producer_state_name(ps));
	cep_jw_bool(w, "alive", ps == CEP_RING_PRODUCER_ALIVE);
	cep_jw_bool(w, "reports", rs.producer_reports);
	jw_time(w, "heartbeat", rs.heartbeat_ns);
	cep_jw_u64(w, "heartbeat_age_ms",
		   rs.heartbeat_ns > 0 && now > rs.heartbeat_ns
			   ? (uint64_t)(now - rs.heartbeat_ns) / 1000000
			   : 0);
	jw_counters(w, &rs.producer);
	cep_jw_open(w, "run", '{');
	jw_counters(w, &rs.producer_run);
	cep_jw_close(w, '}');
	cep_jw_close(w, '}');
	cep_jw_close(w, '}');
}

/* Ingest to acknowledged (loop.h): the publisher's histogram, read
 * without a lock (publish/latency.h). */
static void jw_latency(struct cep_engine *e, struct cep_jw *w)
{
	struct cep_latency_snap *s = &e->lat_snap;

	cep_latency_snapshot(&e->lat, s);
	cep_jw_open(w, "ingest_to_ack", '{');
	cep_jw_u64(w, "measured", s->count);
	cep_jw_u64(w, "refused", s->refused);
	cep_jw_double(w, "p50_ms", cep_latency_quantile(s, 0.50) / 1e6, 3);
	cep_jw_double(w, "p99_ms", cep_latency_quantile(s, 0.99) / 1e6, 3);
	cep_jw_double(w, "p999_ms", cep_latency_quantile(s, 0.999) / 1e6, 3);
	cep_jw_double(w, "max_ms", s->max_ns / 1e6, 3);
	cep_jw_double(w, "mean_ms", s->count ? s->sum_ns / 1e6 / (double)s->count
					     : 0.0, 3);
	cep_jw_close(w, '}');
}

/* The running rule set and the reloads; the core thread's. */
static void jw_rules(struct cep_engine *e, struct cep_jw *w)
{
	struct reloader *rl = &e->rl;
	const struct rules_gen *g;

	cep_jw_open(w, "rules", '{');
	rcu_read_lock();
	g = rcu_dereference(e->rules_pub);
	cep_jw_u64(w, "generation", g->generation);
	jw_time(w, "loaded_at", g->loaded_ns);
	cep_jw_u64(w, "count", g->count);
	rcu_read_unlock();
	cep_jw_bool(w, "watch", e->cfg->rules_watch);
	pthread_mutex_lock(&rl->lock);
	cep_jw_u64(w, "reloads", rl->info.reloads);
	cep_jw_u64(w, "reload_failures", rl->info.failures);
	cep_jw_str(w, "last_error", rl->info.last_error);
	cep_jw_open(w, "last_reload", '{');
	cep_jw_u64(w, "unchanged", rl->info.diff.unchanged);
	cep_jw_u64(w, "changed", rl->info.diff.changed);
	cep_jw_u64(w, "added", rl->info.diff.added);
	cep_jw_u64(w, "removed", rl->info.diff.removed);
	cep_jw_u64(w, "groups_kept", rl->info.last.groups_kept);
	cep_jw_u64(w, "groups_closed", rl->info.last.groups_closed);
	cep_jw_u64(w, "held_kept", rl->info.last.held_kept);
	cep_jw_close(w, '}');
	pthread_mutex_unlock(&rl->lock);
	cep_jw_close(w, '}');
}

static void jw_document(struct cep_engine *e, struct cep_jw *w,
			const char *state, int64_t now, uint64_t mono)
{
	const struct status *sw = &e->status;
	struct cep_engine_stats st;
	struct cep_detect_stats ds;

	if (!strcmp(state, "stopped"))
		st = e->st; /* cep_engine_run() has added everything up */
	else
		live_stats(e, &st);
	cep_detect_stats(e->detect, &ds);

	cep_jw_begin(w);
	cep_jw_u64(w, "schema", CEP_STATUS_SCHEMA);
	cep_jw_str(w, "program", "ceptord");
	cep_jw_str(w, "version", CEPTOR_VERSION);
	cep_jw_u64(w, "pid", (uint64_t)getpid());
	cep_jw_str(w, "state", state);
	cep_jw_str(w, "site", e->cfg->site);
	cep_jw_str(w, "config", e->cfg->path ? e->cfg->path : "");
	cep_jw_str(w, "spool", e->cfg->spool_dir ? e->cfg->spool_dir : "");
	jw_time(w, "started", sw->started_ns);
	jw_time(w, "now", now);
	cep_jw_u64(w, "now_ms", (uint64_t)(now / 1000000));
	cep_jw_double(w, "uptime_s", (mono - sw->started_ms) / 1000.0, 3);
	cep_jw_u64(w, "interval_ms", CEP_STATUS_INTERVAL_MS);

	cep_jw_open(w, "engine", '{');
	cep_jw_u64(w, "events", st.events);
	cep_jw_double(w, "events_per_s", sw->events_rate, 1);
	cep_jw_u64(w, "dropped", st.dropped);
	cep_jw_u64(w, "malformed", st.malformed);
	cep_jw_u64(w, "signals", st.signals);
	cep_jw_u64(w, "incidents", st.incidents);
	cep_jw_u64(w, "incidents_open", cep_incidents_count(e->incidents));
	cep_jw_u64(w, "messages", st.messages);
	cep_jw_u64(w, "input_errors", st.input_errors);
	cep_jw_u64(w, "keys_evicted", st.keys_evicted);
	cep_jw_u64(w, "signals_dropped", st.signals_dropped);
	cep_jw_u64(w, "events_late", st.events_late);
	cep_jw_u64(w, "withheld", st.withheld);
	cep_jw_close(w, '}');
	if (e->alert) {
		struct cep_alert_stats as;
		cep_alert_stats(e->alert, &as);
		cep_jw_open(w, "alerts", '{');
		cep_jw_u64(w, "sent", as.sent);
		cep_jw_u64(w, "failed", as.failed);
		cep_jw_u64(w, "dropped", as.dropped);
		cep_jw_close(w, '}');
	}

	cep_jw_open(w, "inputs", '[');
	for (size_t i = 0; i < e->ninputs; i++)
		jw_input(w, &e->inputs[i], now);
	cep_jw_close(w, ']');

	cep_jw_open(w, "detect", '{');
	cep_jw_u64(w, "events", ds.events);
	cep_jw_u64(w, "matches", ds.matches);
	cep_jw_u64(w, "signals", ds.signals);
	cep_jw_u64(w, "signals_dropped", ds.signals_dropped);
	cep_jw_u64(w, "keys_live", ds.keys_live);
	cep_jw_u64(w, "keys_evicted", ds.keys_evicted);
	cep_jw_u64(w, "keys_expired", ds.keys_expired);
	cep_jw_u64(w, "values_overflow", ds.values_overflow);
	cep_jw_u64(w, "mem_bytes", ds.mem_bytes);
	cep_jw_close(w, '}');

	jw_rules(e, w);

	cep_jw_open(w, "publisher", '{');
	cep_jw_bool(w, "enabled", e->ob != NULL);
	if (e->ob) {
		struct cep_outbox_stats os;

		cep_outbox_stats(e->ob, &os);
		cep_jw_u64(w, "outbox_bytes", os.queued_bytes);
		cep_jw_bool(w, "connected", os.pub.connected);
		cep_jw_u64(w, "published", os.pub.acked);
		cep_jw_double(w, "published_per_s", sw->publish_rate, 1);
		cep_jw_u64(w, "sent", os.pub.sent);
		cep_jw_u64(w, "spooled", os.pub.spooled);
		cep_jw_u64(w, "replayed", os.pub.replayed);
		cep_jw_u64(w, "spool_bytes", os.pub.spool_bytes);
		cep_jw_u64(w, "errors", os.pub.errors);
		cep_jw_u64(w, "lost", os.pub.lost);
		cep_jw_u64(w, "disconnects", os.pub.disconnects);
		cep_jw_bool(w, "cluster", os.pub.cluster);
		if (os.pub.cluster) {
			cep_jw_u64(w, "masters", os.pub.masters);
			cep_jw_u64(w, "at_risk", os.pub.at_risk);
			cep_jw_u64(w, "redirects", os.pub.redirects);
			cep_jw_u64(w, "asks", os.pub.asks);
		}
		cep_jw_str(w, "last_error", os.pub.last_error);
		jw_latency(e, w);
	}
	cep_jw_close(w, '}');
}

/* Write the whole document to a temporary file, then rename it over the
 * old one: a reader sees the old document or the new one, never a mix.
 * Not fsync'd: the status is a view, the next write replaces it. */
static int status_put(const struct status *w, const char *doc, size_t len)
{
	int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, doc + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)k;
	}
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(w->tmp, w->path))
		rc = -errno;
	if (rc)
		unlink(w->tmp);
	return rc;
}

/* Write the status document (state "running" or "stopped"); the core
 * thread's, once a second and at the end. */
static void status_write(struct cep_engine *e, const char *state)
{
	struct status *w = &e->status;
	uint64_t mono = now_ms(), acked = 0;
	int64_t now = wall_ns();
	struct cep_jw jw;
	int len, rc;

	if (!w->path)
		return;
	if (e->ob) {
		struct cep_outbox_stats os;
		cep_outbox_stats(e->ob, &os);
		acked = os.pub.acked;
	}
	if (w->last_ms && mono > w->last_ms) {
		double dt = (mono - w->last_ms) / 1000.0;
		w->events_rate = (e->st.events - w->last_events) / dt;
		w->publish_rate = (acked - w->last_acked) / dt;
	}
	w->last_ms = mono;
	w->last_events = e->st.events;
	w->last_acked = acked;

	for (;;) {
		cep_jw_init(&jw, w->buf, w->size);
		jw_document(e, &jw, state, now, mono);
		len = cep_jw_end(&jw);
		if (len >= 0)
			break;
		/* Long names or errors: grow (rarely, never per event). */
		char *grown = realloc(w->buf, w->size * 2);
		if (!grown) {
			rc = -ENOMEM;
			goto fail;
		}
		w->buf = grown;
		w->size *= 2;
	}
	w->buf[len] = '\n';
	rc = status_put(w, w->buf, (size_t)len + 1);
	if (rc)
		goto fail;
	if (w->failing)
		cep_info("status: writing %s again", w->path);
	w->failing = 0;
	return;
fail:
	if (!w->failing)
		cep_warn("status: cannot write %s: %s (ceptorctl status will "
			 "call it stale)", w->path, cep_strerror(rc));
	w->failing = 1;
}

/* Hand the metrics endpoint a snapshot (metrics.h); the core thread's, on
 * the status tick and at the start and the end. */
static void metrics_write(struct cep_engine *e, int stopped)
{
	struct cep_metrics_snapshot *s = cep_metrics_snapshot(e->metrics);
	struct cep_engine_stats st;
	struct cep_detect_stats ds;
	int64_t now = wall_ns();

	e->metrics_ms = now_ms();
	live_stats(e, &st);
	cep_detect_stats(e->detect, &ds);
	s->started_ns = e->status.started_ns;
	s->uptime_s = (e->metrics_ms - e->status.started_ms) / 1000.0;
	s->stopping = stopped;
	s->events = st.events;
	s->events_late = st.events_late;
	s->signals = st.signals;
	s->signals_dropped = st.signals_dropped;
	s->matches = ds.matches;
	s->messages = st.messages;
	s->advisories = st.advisories;
	s->input_errors = st.input_errors;
	s->keys_live = ds.keys_live;
	s->keys_evicted = ds.keys_evicted;
	s->state_bytes = ds.mem_bytes;
	s->rules = e->cur->count;
	s->rules_generation = e->cur->generation;
	s->rules_loaded_ns = e->cur->loaded_ns;
	pthread_mutex_lock(&e->rl.lock);
	s->reloads = e->rl.info.reloads;
	s->reload_failures = e->rl.info.failures;
	pthread_mutex_unlock(&e->rl.lock);
	s->publisher_enabled = e->ob != NULL;
	cep_latency_snapshot(&e->lat, &e->lat_snap);
	s->latency = &e->lat_snap;
	memset(&s->pub, 0, sizeof s->pub);
	if (e->ob) {
		struct cep_outbox_stats os;
		cep_outbox_stats(e->ob, &os);
		s->pub = os.pub;
	}
	for (size_t i = 0; i < e->ninputs && i < s->ninputs; i++) {
		const struct input *in = &e->inputs[i];
		struct cep_metrics_input *mi = &s->inputs[i];
		struct cep_ring_stats rs;
		int ps;

		cep_ring_stats(in->cons, &rs);
		ps = in->cfg->kind != CEP_INPUT_RING
			     ? (rs.closed ? CEP_RING_PRODUCER_CLOSED
					  : CEP_RING_PRODUCER_ALIVE)
			     : cep_ring_producer_state(&rs, now);
		mi->name = in->cfg->src.name;
		mi->kind = cep_config_input_kind_name(in->cfg->kind);
		mi->events = rs.dequeued;
		mi->ring_drops = rs.dropped;
		mi->kernel_drops = rs.producer.kernel_drops;
		mi->if_drops = rs.producer.if_drops;
		mi->malformed = rs.producer.malformed;
		mi->ring_capacity = rs.capacity;
		mi->ring_used = rs.used;
		mi->producer_alive = ps == CEP_RING_PRODUCER_ALIVE;
	}
	if (cep_metrics_emit(e->metrics))
		cep_warn("metrics: out of memory rendering; scrapes get the "
			 "previous numbers");
}

/* ---- analyst feedback ------------------------------------------------ */

#define FEEDBACK_READ_MAX (1u << 20) /* bytes of new lines per look */
#define FEEDBACK_LINE_MAX 1024       /* longer lines are skipped */

static char *spool_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Read a whole small file into a new NUL-terminated buffer; NULL and
 * *err = errno on failure. */
static char *slurp(const char *path, size_t *len, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0, n = 0;

	*err = 0;
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t c = cap ? cap * 2 : 8192;
			char *b = realloc(buf, c);
			if (!b) {
				*err = ENOMEM;
				goto fail;
			}
			buf = b;
			cap = c;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Replace path with text atomically (tmp, fsync, rename). */
static int put_file(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int rc = -errno;
			close(fd);
			unlink(tmp);
			return rc;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		int rc = -errno;
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path)) {
		int rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

static void json_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* SPOOL/reliability.json: {"upstream": "B", ...}, every override. */
static int save_reliability(struct cep_engine *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *name;
	int grade;

	if (!f)
		return -ENOMEM;
	fputs("{", f);
	for (size_t i = 0;
	     (grade = cep_incidents_override(e->incidents, i, &name)) != CEP_REL_NONE;
	     i++) {
		fputs(i ? ",\n " : "\n ", f);
		json_escaped(f, name);
		fprintf(f, ": \"%s\"", cep_reliability_name(grade));
	}
	fputs("\n}\n", f);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	int rc = put_file(e->fb.rel, text, len);
	free(text);
	return rc;
}

static int save_pos(struct cep_engine *e)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%llu\n",
			 (unsigned long long)e->fb.off);
	return put_file(e->fb.pos, text, (size_t)n);
}

static int load_reliability(struct cep_engine *e)
{
	struct cep_json_reader r;
	struct cep_json_value k, v;
	char name[CEP_INCIDENT_UPSTREAM_MAX], g[8];
	size_t len;
	int err, rc, n = 0;
	char *text = slurp(e->fb.rel, &len, &err);

	if (!text) {
		if (err == ENOENT)
			return 0;
		cep_error("cannot read %s: %s", e->fb.rel, strerror(err));
		return -err;
	}
	cep_json_reader_init(&r, text, len);
	while ((rc = cep_json_next(&r, &k, &v)) == 1) {
		int grade;
		if (v.type != CEP_JSON_STRING ||
		    cep_json_unescape(&k, name, sizeof name) < 0 ||
		    cep_json_unescape(&v, g, sizeof g) < 0 ||
		    (grade = cep_reliability_parse(g)) <= CEP_REL_NONE) {
			cep_warn("%s: skipping a malformed entry", e->fb.rel);
			continue;
		}
		if (cep_incidents_set_reliability(e->incidents, name, grade) == 0)
			n++;
	}
	if (rc < 0) {
		cep_error("%s: malformed at byte %zu: %s", e->fb.rel,
			  r.err_off, r.err);
		free(text);
		return -CEP_EMALFORMED;
	}
	free(text);
	if (n)
		cep_info("analyst feedback: %d reliability override%s from %s",
			 n, n == 1 ? "" : "s", e->fb.rel);
	return 0;
}

static int feedback_init(struct cep_engine *e)
{
	const char *dir = e->cfg->spool_dir;
	size_t len;
	int err;

	if (!dir)
		return 0;
	e->fb.log = spool_path(dir, "feedback.jsonl");
	e->fb.pos = spool_path(dir, "feedback.pos");
	e->fb.rel = spool_path(dir, "reliability.json");
	if (!e->fb.log || !e->fb.pos || !e->fb.rel)
		return -ENOMEM;
	/* Overrides apply before any event. */
	int rc = load_reliability(e);
	if (rc)
		return rc;
	char *text = slurp(e->fb.pos, &len, &err);
	if (text) {
		e->fb.off = strtoull(text, NULL, 10);
		free(text);
	} else if (err != ENOENT) {
		cep_error("cannot read %s: %s", e->fb.pos, strerror(err));
		return -err;
	}
	return 0;
}

/* Apply one line of feedback.jsonl; returns 1 when it changed overrides. */
static int feedback_apply(struct cep_engine *e, const char *line, size_t len)
{
	struct cep_json_reader r;
	struct cep_json_value k, v;
	char id[CEP_INCIDENT_ID_MAX] = "", verdict[32] = "";

	cep_json_reader_init(&r, line, len);
	while (cep_json_next(&r, &k, &v) == 1) {
		if (v.type != CEP_JSON_STRING)
			continue;
		if (cep_json_key_is(&k, "id") &&
		    cep_json_unescape(&v, id, sizeof id) < 0)
			id[0] = '\0';
		else if (cep_json_key_is(&k, "verdict") &&
			 cep_json_unescape(&v, verdict, sizeof verdict) < 0)
			verdict[0] = '\0';
	}
	int dir = !strcmp(verdict, "confirmed")	     ? -1
		  : !strcmp(verdict, "false-positive") ? 1
						       : 0;
	if (!id[0] || !dir) {
		cep_warn("feedback: skipping a malformed line in %s", e->fb.log);
		return 0;
	}
	struct cep_incident *inc = cep_incidents_find_id(e->incidents, id);
	if (!inc) {
		cep_warn("feedback: %s %s: no such incident in the table; "
			 "skipped", id, verdict);
		return 0;
	}
	int changed = 0;
	for (uint32_t i = 0; i < inc->nsources; i++) {
		const struct cep_incident_source *src = &inc->sources[i];
		if (!src->supports)
			continue;
		int cur = cep_incidents_reliability(e->incidents, src->name);
		if (!cur)
			cur = src->reliability;
		int next = cep_rel_step(cur, dir);
		if (next == cur && (cur < CEP_REL_A || cur > CEP_REL_E)) {
			cep_info("feedback: %s: an upstream with reliability %s "
				 "is not moved", id,
				 cur ? cep_reliability_name(cur) : "unset");
			continue;
		}
		if (cep_incidents_set_reliability(e->incidents, src->name, next))
			continue;
		changed = 1;
		/* A reporter's name stays on site: not logged. */
		cep_info("feedback: %s %s: %s reliability %s -> %s", id, verdict,
			 src->reporter ? "a reporter's" : src->name,
			 cep_reliability_name(cur), cep_reliability_name(next));
	}
	if (dir > 0) {
		int rc = cep_incidents_close_id(e->incidents, id);
		if (rc)
			cep_error("feedback: cannot close %s: %s", id,
				  cep_strerror(rc));
	}
	return changed;
}

/* New lines of SPOOL/feedback.jsonl, on the status tick.  Overrides are
 * saved before the position, so a crash in between applies a line twice
 * at worst, never loses one. */
static void feedback_poll(struct cep_engine *e)
{
	struct stat st;
	int fd = open(e->fb.log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) || (uint64_t)st.st_size == e->fb.off) {
		close(fd);
		return;
	}
	if ((uint64_t)st.st_size < e->fb.off) {
		cep_warn("feedback: %s shrank; reading it from the start",
			 e->fb.log);
		e->fb.off = 0;
	}
	uint64_t want = (uint64_t)st.st_size - e->fb.off;
	size_t n = want > FEEDBACK_READ_MAX ? FEEDBACK_READ_MAX : (size_t)want;
	char *buf = malloc(n + 1);
	ssize_t got = buf ? pread(fd, buf, n, (off_t)e->fb.off) : -1;
	close(fd);
	if (got <= 0) {
		free(buf);
		return;
	}
	size_t used = 0;
	int changed = 0;
	for (;;) {
		char *nl = memchr(buf + used, '\n', (size_t)got - used);
		if (!nl)
			break; /* a line still being written: next time */
		size_t len = (size_t)(nl - (buf + used));
		if (len > FEEDBACK_LINE_MAX)
			cep_warn("feedback: skipping a line of %zu bytes", len);
		else if (len)
			changed |= feedback_apply(e, buf + used, len);
		used += len + 1;
	}
	if (!used && (size_t)got == FEEDBACK_READ_MAX) {
		/* One line longer than a read: skip it whole. */
		used = (size_t)got;
	}
	free(buf);
	int rc;
	if (changed && (rc = save_reliability(e)))
		cep_error("feedback: cannot save %s: %s", e->fb.rel,
			  cep_strerror(rc));
	e->fb.off += used;
	if (used && (rc = save_pos(e)))
		cep_error("feedback: cannot save %s: %s", e->fb.pos,
			  cep_strerror(rc));
}

int cep_engine_run(struct cep_engine *e)
{
	struct cep_signal sig[SIGNAL_ROOM];
	uint64_t last_publish = now_ms();
	size_t rotate = 0;
	unsigned n;

	/* The core reads the published rule set (status) under
	 * rcu_read_lock(): it is an RCU reader thread. */
	rcu_register_thread();
	status_write(e, "running");
	if (e->metrics)
		metrics_write(e, 0);
	for (;;) {
		size_t open = 0;
		int progressed = 0;

		/* Every input with nothing pending takes its next records.
		 * One that is still open but has none holds the merge back
		 * (its next record may be the oldest), so that the order of
		 * events across inputs, and with it every window, does not
		 * depend on thread timing: always offline (--once), and live
		 * while the input was busy in the last MERGE_WAIT_MS. */
		uint64_t now = now_ms();
		struct input *held_by = NULL;

		/* Records older than every holding input's newest time can go
		 * (an input's records come in time order; its next one is not
		 * older than its last); a live hold also ends once the oldest
		 * waiting record has waited MERGE_WAIT_MS: the detect stage's
		 * lateness places what comes after. */
		uint64_t below = UINT64_MAX;

		for (size_t i = 0; i < e->ninputs; i++) {
			struct input *in = &e->inputs[i];
			if (in->finished)
				continue;
			open++;
			if (in->pos < in->npend || refill(e, in, now)) {
				in->orphan_ms = 0;
				continue;
			}
			if (cep_ring_wait(in->cons, 0) == -CEP_ECLOSED) {
				/* A collector process may be followed by another on
				 * the same ring; only --once ends with the stream.
				 * Drained and closed: check once more for records
				 * committed just before the close. */
				if (refill(e, in, now))
					continue;
				if (e->cfg->once || in->cfg->kind != CEP_INPUT_RING) {
					in->finished = 1;
					open--;
					continue;
				}
				in->idle_closed = 1;
				continue;
			}
			in->idle_closed = 0;
			if (e->cfg->once && orphaned(e, in, now)) {
				in->finished = 1;
				open--;
				continue;
			}
			if (e->cfg->once || now - in->data_ms < MERGE_WAIT_MS) {
				held_by = in;
				if (in->last_ts < below)
					below = in->last_ts;
			}
		}
		if (held_by && !e->cfg->once && oldest_wait(e, now) >= MERGE_WAIT_MS)
			below = UINT64_MAX;
		if (merge(e, held_by ? below : UINT64_MAX))
			progressed = 1;
		if (stopping() || (e->cfg->once && open == 0))
			break;
		/* Between two rounds nothing is in flight: swap here.  Relaxed
		 * peek; swap_rules() takes the set with acquire. */
		if (atomic_load_explicit(&e->rl.pending, memory_order_relaxed))
			swap_rules(e);
		if (!progressed) {
			/* Nothing to do: sleep on the ring the merge waits for,
			 * else on one ring (rotating), so an idle engine costs
			 * nothing and a busy one never sleeps. */
			struct input *in = held_by;
			for (size_t k = 0; k < e->ninputs && !in; k++) {
				struct input *c = &e->inputs[(rotate + k) % e->ninputs];
				if (!c->finished && !c->idle_closed)
					in = c;
			}
			rotate++;
			/* A closed ring answers at once; sleep instead. */
			if (in)
				cep_ring_wait(in->cons, IDLE_WAIT_MS);
			else
				usleep(IDLE_WAIT_MS * 1000);
		}
		now = now_ms();
		advance_idle(e, now);
		/* Analyst feedback, at the status tick's pace. */
		if (e->fb.log && now - e->fb.last_ms >= CEP_STATUS_INTERVAL_MS) {
			e->fb.last_ms = now;
			feedback_poll(e);
		}
		if (now - last_publish >= e->cfg->publish_interval_ms ||
		    publish_due(e)) {
			publish(e);
			last_publish = now;
		}
		/* On the same tick, at its own pace: never per event. */
		if (e->status.path &&
		    (now - e->status.last_ms >= CEP_STATUS_INTERVAL_MS ||
		     atomic_exchange_explicit(&e->rl.status_now, 0,
					      memory_order_relaxed)))
			status_write(e, "running");
		if (e->metrics && now - e->metrics_ms >= CEP_STATUS_INTERVAL_MS)
			metrics_write(e, 0);
	}

	/* Stopped (or --once done): everything still pending or on its way
	 * is processed, still in event-time order across inputs, without
	 * waiting for anyone: hosted threads return at the stop and close
	 * their rings, collector processes keep what they commit later for
	 * the next engine. */
	for (uint64_t t0 = now_ms();;) {
		int pending = 0, hosted_open = 0;
		uint64_t now = now_ms();

		for (size_t i = 0; i < e->ninputs; i++) {
			struct input *in = &e->inputs[i];

			if (in->pos < in->npend || refill(e, in, now))
				pending = 1;
			else if (in->cfg->kind != CEP_INPUT_RING &&
				 cep_ring_wait(in->cons, 0) != -CEP_ECLOSED)
				hosted_open = 1;
		}
		if (pending) {
			merge(e, UINT64_MAX);
			continue;
		}
		if (!hosted_open || now - t0 > 10000)
			break;
		usleep(1000);
	}

	/* Close every window: the final counts become signals. */
	while ((n = cep_detect_flush(e->detect, sig, SIGNAL_ROOM)) > 0)
		take_signals(e, sig, n);
	/* The end: every update still held by the rate limit goes out. */
	cep_incidents_flush(e->incidents);
	publish(e);

	for (size_t i = 0; i < e->ninputs; i++) {
		struct input *in = &e->inputs[i];
		struct cep_ring_stats rs;
		join_input(in);
		cep_ring_stats(in->cons, &rs);
		e->st.dropped += rs.dropped;
		e->st.malformed += in->counts.malformed;
		e->st.input_errors += in->counts.failed_files;
		/* A reader that failed without a failed file (a bad filter, a
		 * sink error) still failed. */
		if (in->rc && !in->counts.failed_files)
			e->st.input_errors++;
	}
	struct cep_detect_stats ds;
	cep_detect_stats(e->detect, &ds);
	e->st.keys_evicted = ds.keys_evicted;
	e->st.signals_dropped = ds.signals_dropped;
	e->st.events_late = ds.events_late;
	cep_alert_drain(e->alert); /* its counters in the last status */
	if (e->ob) {
		/* Everything handed over is delivered or spooled before the
		 * run ends (and before its last status says so). */
		cep_outbox_drain(e->ob);
		publish_check(e);
	}
	status_write(e, "stopped");
	if (e->metrics)
		metrics_write(e, 1);
	rcu_unregister_thread();
	return e->publish_failed ? -CEP_EREDIS : 0;
}
