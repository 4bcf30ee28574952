/*
 * loop.h - ceptord's engine: inputs -> rings -> correlation -> incidents
 * -> Redis.
 *
 *   hosted collector threads           collector processes
 *   (pcap files, feed files)           (ceptor-pcap --ring NAME, ...)
 *            |                                   |
 *            v                                   v
 *     [ shm ring per input ]  <- created here, consumed by the core thread
 *            \___________________  ___________________/
 *                                \/
 *   core thread: dequeue bursts -> merge by event time -> cep_detect_event
 *                -> cep_incidents_signal
 *                after a batch that made something to publish (live), at
 *                the latest every publish interval, and at the end:
 *                cep_incidents_collect -> --stdout JSON Lines and/or
 *                cep_outbox_add (sector stream + council stream +
 *                predicted sectors' incident and advisory streams)
 *                -> cep_outbox_flush: one hand-off per round
 *   publisher thread (outbox.h): cep_publisher_add ... cep_publisher_flush
 *                (pipelined XADD; the replies record ingest to acknowledged)
 *
 * Every input has its own single-producer ring, so hosted threads and
 * external processes look the same to the core, and a collector process
 * that dies leaves the events it committed in its ring.  The core never
 * blocks a collector: it only dequeues.  Collectors with the "block" policy
 * wait for room; "drop" ones count what did not fit.
 *
 * Order across inputs.  The core takes records from every input in event
 * time order (a merge of the inputs' heads): an input that is open but
 * has nothing yet holds the others back, because its next record may be
 * the oldest.  Offline (`once`) it always does, so the windows see the
 * same order whatever the threads' timing and a replay gives the same
 * incidents; live, only while it had records in the last 200 ms, so a
 * quiet input (a feed, an idle tap) never stalls a busy one, and what it
 * sends later is placed by the detect stage's allowed lateness.  Live
 * again, when every input has been quiet for a second, event time moves on
 * with the clock (cep_detect_advance()): held events, due windows and
 * absence rules come out without waiting for more input.
 *
 * With `once`, the engine runs until every input has closed its ring and
 * every record has been dequeued, then closes all windows (final signals),
 * publishes, flushes and returns.  Without it, it runs until
 * cep_engine_stop() (SIGINT, SIGTERM) and then does the same; a collector
 * process that closes its ring may be followed by another on the same ring.
 *
 * Rings that collector processes feed are opened, not replaced: records a
 * collector committed before an engine restart are still read.  Their
 * events are checked (text fields terminated, tokens in range) and take the
 * configured source's name, reliability and credibility (grading a source
 * is the engine operator's call), the stricter of their own and the
 * configured TLP, and the configured sector where they name none.
 *
 * Sharing (DESIGN.md section 6, core/share.h).  Each version of an
 * incident goes to the incidents stream of every sector it concerns (its
 * own, the ones its prediction names (incident.h, "Predicted impact") and
 * the ones that run its critical-system class) and to the council's
 * summary stream; a version that carries a new prediction (the first, and
 * any whose class rose) also puts one advisory per predicted sector on
 * that sector's ceptor:{SECTOR}:advisories stream, in the prediction's
 * order (expected impact, strongest first).  AMBER and stricter, and every
 * advisory, go only to sectors under a handling arrangement (`agreements:`
 * in the config); TLP:RED only to the sectors its sources named as
 * recipients (else its own): no council, no advisories.
 * Exercises use the ceptor-exercise: prefix throughout.  Everything goes
 * through the one publisher (pipelined, spooled when Redis is away), so
 * advisories are at least once like incidents; --stdout prints each
 * message, advisories included, with its stream key.
 *
 * Publishing.  Live (not `once`) and with publish_prompt (the default),
 * the core asks after every round of dequeues, in O(1), whether the
 * incident table has something a collect would hand out
 * (cep_incidents_due(): a new incident, a change the rate limit lets go,
 * a hold that event time has passed), and runs a publish round at once
 * when it has.  Closing quiet incidents is left to the interval's rounds
 * (it walks the incident table).  A round follows a batch (up to 1,024
 * events merged, a ring burst each), never an event, and hands its
 * messages over in one buffer; the publisher thread sends what piled up
 * while it waited for Redis in one pipeline.  Otherwise a round runs every
 * publish_interval_ms, which is also the pace of every round with `once`
 * (offline runs stay independent of timing) or publish_prompt off.  What
 * still waits on the way, by design: correlation signals wait for the
 * allowed lateness (detect.h; detection signals do not wait), updates for
 * the rate limit (incident.h), and live, records of an input for another
 * input that was busy in the last 200 ms (see "Order across inputs").
 * Statistics commands leave after their round's messages, with a flush of
 * their own (outbox.h).  The first save of new incident ids in a while
 * fsyncs on the core thread; busy, saves reserve numbers ahead
 * (incident.h), so that is not paid per round.
 *
 * Ingest to acknowledged.  For every incident message Redis acknowledges
 * (each stream it goes to counts), the publisher records the wall-clock
 * time of the XADD reply minus the message's origin: the event time (`ts`)
 * of the newest evidence of that version (the incident's last_seen).  For
 * a live capture that is the capture time (ceptor-pcap stamps each packet
 * with it), so the figure covers the collector's batching (the capture's
 * buffer timeout), the ring, the merge, detection, correlation and its
 * allowed lateness, the rate limit, the hand-off and the Redis round
 * trip.  Other inputs carry the time their record states: a flow its
 * start (the figure then includes the flow's duration and the exporter's
 * timeout), a feed row or report the time it reports.  Measured only when it can mean
 * that: live runs (never `once`), real incidents (exercise events are
 * retimed), versions that evidence made (not a close), first deliveries
 * (a message replayed from the spool has lost its origin); and only when
 * the difference is plausible, 0 .. 1 h (publish/latency.h): an event
 * stamped in the future or replayed from an old capture is counted as
 * refused instead.  Status: publisher.ingest_to_ack; metrics: the
 * histogram ceptor_ingest_to_ack_seconds.
 *
 * The sector graph (cep_engine_load_sectors()) scores incidents and
 * predicts their impact.  It is loaded at start; a reload loads it again
 * with the rules (a graph that does not load rejects the reload whole) and
 * the core swaps it in with the rules.  Only the core thread ever reads
 * it, so the core frees the old graph itself right after the swap: no RCU.
 *
 * Status.  The engine writes a status document, one JSON object, to
 * SPOOL/status.json (CEP_STATUS_FILE in the spool directory, the engine's
 * state directory; none without one) when cep_engine_run() starts, about
 * once a second while it runs (CEP_STATUS_INTERVAL_MS, on the core
 * thread's publish tick, never per event), and when it returns, with
 * "state": "stopped".  Each write goes to a temporary file in the same
 * directory that is then renamed over the old one, so a reader never sees
 * half a document.  `ceptorctl status` reads it; a write that fails is
 * logged once and retried on the next tick.  Schema (CEP_STATUS_SCHEMA;
 * fields are only ever added):
 *
 *   schema, program ("ceptord"), version, pid, state ("running" |
 *   "stopped"), site, config (file or ""), spool, started, now (RFC 3339
 *   UTC), now_ms (Unix ms of this write), uptime_s, interval_ms,
 *   engine:    events, events_per_s, dropped, malformed, signals,
 *              incidents, incidents_open, messages, input_errors,
 *              keys_evicted, signals_dropped (struct cep_engine_stats, live)
 *   inputs[]:  name, kind (pcap | feed | ring), ring (shm name; "" for a
 *              hosted input), overflow (hosted inputs: drop | block; a
 *              collector process chooses its own), state (open | waiting:
 *              closed, a new producer may come | finished), ring_capacity,
 *              ring_used, fill_pct, enqueued, dequeued, ring_drops (refused
 *              under the drop policy),
 *              producer: pid, state (none | alive | stale | closed | dead,
 *              cep_ring_producer_state()), alive, reports, heartbeat (RFC
 *              3339 or ""), heartbeat_age_ms, captured, kernel_drops,
 *              if_drops, malformed (since the ring's creation), and run:
 *              the same four for the current producer only
 *   detect:    events, matches, signals, signals_dropped, keys_live,
 *              keys_evicted, keys_expired, values_overflow, mem_bytes
 *   publisher: enabled, and with Redis: outbox_bytes, connected,
 *              published (acked), published_per_s, sent, spooled,
 *              replayed, spool_bytes, errors, lost, disconnects, cluster
 *              (and masters, at_risk, redirects, asks), last_error,
 *              ingest_to_ack: measured (messages), refused (implausible),
 *              p50_ms, p99_ms, p999_ms, max_ms, mean_ms (since the start;
 *              see "Ingest to acknowledged")
 *   rules:     generation (1 at start, +1 per set swapped in), loaded_at
 *              (RFC 3339, when this generation went live), count (rules),
 *              watch (rules_watch), reloads (sets swapped in), reload_failures
 *              (sets rejected), last_error (the last rejection's
 *              "FILE:LINE: message" lines, newline-separated, or ""),
 *              last_reload: unchanged, changed, added, removed (rules by
 *              id and compiled hash), groups_kept, groups_closed, held_kept
 *
 * Counts since the ring's creation outlive the engine when a ring input's
 * ring does (cep_ring_open()); the engine and publisher counts are this
 * run's.
 *
 * Metrics.  With cfg->metrics_addr (`metrics:`, --metrics) the engine
 * serves GET /metrics there (metrics.h): on the same tick as the status,
 * and at the start and the end, the core hands the endpoint a snapshot of
 * the same counters plus every incident version it publishes; the
 * endpoint's own thread only ever sends the last rendered text.  The
 * endpoint opens in cep_engine_create() (an address that cannot be bound
 * fails it) and its thread is joined in cep_engine_destroy().
 *
 * Reload.  SIGHUP (cep_engine_reload(), `ceptorctl reload`), or with
 * `rules_watch: true` a change to a *.yml / *.yaml file in a rule
 * directory (inotify, once the files have been quiet for 200 ms), wakes the
 * reload thread, which compiles the rule directories off the core thread.
 * A set with errors is rejected whole: every FILE:LINE error is logged and
 * kept in the status (rules.last_error, rules.reload_failures), and the
 * running set stays.  A set that compiles is handed to the core thread,
 * which switches to it between two dequeue rounds, when no event is half
 * processed (cep_detect_reload(): window state of unchanged correlations
 * carries over, changed and removed ones emit their final signals), so no
 * event is lost or counted twice and ingestion waits only for the swap
 * itself, never for the compile.  The running set is published with
 * rcu_assign_pointer(); readers other than the core read it under
 * rcu_read_lock(); the reload thread frees the old set after a grace
 * period (synchronize_rcu()).  The status is rewritten right after a swap
 * or a rejection, so `ceptorctl reload` sees the outcome at once.
 *
 * Thread safety: create, run and destroy on one thread; cep_engine_stop()
 * and cep_engine_reload() from anywhere, including a signal handler.
 */
#ifndef CEPTOR_ENGINE_LOOP_H
#define CEPTOR_ENGINE_LOOP_H

#include <stdint.h>

#include "ceptor/collector.h"
#include "lib/config.h"

struct cep_engine;

#define CEP_STATUS_FILE "status.json"  /* in the spool directory */
#define CEP_STATUS_SCHEMA 1
#define CEP_STATUS_INTERVAL_MS 1000

/* What reading one input file produced besides events. */
struct cep_input_counts {
	uint64_t malformed;     /* records reported and skipped */
	uint64_t failed_files;  /* files that could not be opened or read */
	/* A live input's own view, kept current by read() while it runs (on
	 * the input's thread): packets the capture saw and what the kernel
	 * and the interface dropped.  0 for inputs that have none. */
	uint64_t captured, kernel_drops, if_drops;
};

/*
 * The engine does not know the collectors: the composition root (main.c)
 * hands it these.  read() reads one file of a hosted input into the sink,
 * on that input's thread; it returns 0 or a negative error (the input then
 * counts as failed).  stop() asks every running read() to return early; it
 * must be async-signal-safe.
 */
struct cep_engine_hooks {
	int (*read)(const struct cep_config_input *in, const char *path,
		    const struct cep_sink *sink, struct cep_input_counts *c);
	void (*stop)(void);
};

struct cep_engine_stats {
	uint64_t events;        /* events dequeued from all rings */
	uint64_t dropped;       /* events the "drop" inputs could not enqueue */
	uint64_t malformed;     /* input records reported and skipped */
	uint64_t signals;       /* signals from the correlation core */
	uint64_t incidents;     /* incidents opened */
	uint64_t messages;      /* messages published (or printed) */
	uint64_t advisories;    /* of which advisories */
	uint64_t input_errors;  /* inputs that failed to open or read */
	uint64_t keys_evicted;  /* correlation groups evicted at the ceiling */
	uint64_t signals_dropped; /* signals lost to a full detect queue */
	uint64_t events_late;   /* events too late for correlation windows */
	uint64_t withheld;      /* incident messages a concerned sector did
				   not get: no handling arrangement */
};

/*
 * cep_engine_create - compile the rules, open the publisher and the state,
 * open the rings and start the hosted collector threads.
 * @cfg: borrowed; must outlive the engine.
 * @hooks: how hosted inputs are read; borrowed, must outlive the engine.
 * Returns 0 and *out; -CEP_ERULE (errors printed as FILE:LINE), -CEP_ECONFIG
 * (printed), or another negative error, with everything undone.
 */
int cep_engine_create(const struct cep_config *cfg,
		      const struct cep_engine_hooks *hooks,
		      struct cep_engine **out);

/*
 * cep_engine_compile_rules - compile the rule directories of @cfg with its
 * rule options (rules_mapping, rules_skip_unsupported), as the engine does
 * at start and on every reload.  Errors (and skips) go to @diag as
 * FILE:LINE lines.  Returns as cep_ruleset_compile_opts().
 */
struct cep_ruleset;
int cep_engine_compile_rules(const struct cep_config *cfg, FILE *diag,
			     struct cep_ruleset **out);

/*
 * cep_engine_load_sectors - load the sector graph @cfg names: its
 * sectors_path, else rules/sectors.yml when that exists (relative to the
 * working directory), else none; none also with sectors_off.  Problems go
 * to @diag as FILE:LINE lines, and an explicit path that does not load is
 * also named by the config's FILE:LINE (or as --sectors).  Sets *out to the
 * graph (release with cep_sectors_destroy()) or NULL for none, and *used
 * (may be NULL) to the path loaded (borrowed from cfg or static) or NULL.
 * Returns 0, or the loader's negative error (-CEP_ECONFIG, -errno).
 */
struct cep_sectors;
int cep_engine_load_sectors(const struct cep_config *cfg, FILE *diag,
			    struct cep_sectors **out, const char **used);

/*
 * cep_engine_run - the core loop (see above).  Returns 0, or a negative
 * error when publishing failed in a way that loses messages (no spool).
 */
int cep_engine_run(struct cep_engine *e);

/* cep_engine_stop - ask the loop to finish; async-signal-safe. */
void cep_engine_stop(void);

/*
 * cep_engine_reload - ask for the rules (and the sector graph) to be loaded
 * again and, when they load, swapped in (see "Reload" above);
 * async-signal-safe (SIGHUP).
 * Returns at once: the outcome shows in the status document's `rules`.
 */
void cep_engine_reload(void);

/* cep_engine_stats - copy the counters. */
void cep_engine_stats(const struct cep_engine *e, struct cep_engine_stats *st);

/* cep_engine_destroy - join threads, free; the engine's own rings are
 * already unlinked, collector processes' rings keep their names; accepts
 * NULL. */
void cep_engine_destroy(struct cep_engine *e);

#endif /* CEPTOR_ENGINE_LOOP_H */
