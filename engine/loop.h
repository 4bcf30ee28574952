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
 *   core thread: dequeue bursts -> cep_detect_event -> cep_incidents_signal
 *                every publish interval (and at the end):
 *                cep_incidents_collect -> --stdout JSON Lines and/or
 *                cep_publisher_add (sector stream + council stream)
 *                -> cep_publisher_flush
 *
 * Every input has its own single-producer ring, so hosted threads and
 * external processes look the same to the core, and a collector process
 * that dies leaves the events it committed in its ring.  The core never
 * blocks a collector: it only dequeues.  Collectors with the "block" policy
 * wait for room; "drop" ones count what did not fit.
 *
 * With `once`, the engine runs until every input has closed its ring and
 * every record has been dequeued, then closes all windows (final signals),
 * publishes, flushes and returns.  Without it, it runs until
 * cep_engine_stop() (SIGINT, SIGTERM) and then does the same.
 *
 * Thread safety: create, run and destroy on one thread; cep_engine_stop()
 * from anywhere, including a signal handler.
 */
#ifndef CEPTOR_ENGINE_LOOP_H
#define CEPTOR_ENGINE_LOOP_H

#include <stdint.h>

#include "lib/config.h"

struct cep_engine;

struct cep_engine_stats {
	uint64_t events;        /* events dequeued from all rings */
	uint64_t dropped;       /* events the "drop" inputs could not enqueue */
	uint64_t malformed;     /* input records reported and skipped */
	uint64_t signals;       /* signals from the correlation core */
	uint64_t incidents;     /* incidents opened */
	uint64_t messages;      /* messages published (or printed) */
	uint64_t input_errors;  /* inputs that failed to open or read */
};

/*
 * cep_engine_create - compile the rules, open the publisher and the state,
 * create the rings and start the hosted collector threads.
 * @cfg: borrowed; must outlive the engine.
 * Returns 0 and *out; -CEP_ERULE (errors printed as FILE:LINE), -CEP_ECONFIG
 * (printed), or another negative error, with everything undone.
 */
int cep_engine_create(const struct cep_config *cfg, struct cep_engine **out);

/*
 * cep_engine_run - the core loop (see above).  Returns 0, or a negative
 * error when publishing failed in a way that loses messages (no spool).
 */
int cep_engine_run(struct cep_engine *e);

/* cep_engine_stop - ask the loop to finish; async-signal-safe. */
void cep_engine_stop(void);

/* cep_engine_stats - copy the counters. */
void cep_engine_stats(const struct cep_engine *e, struct cep_engine_stats *st);

/* cep_engine_destroy - join threads, unlink rings, free; accepts NULL. */
void cep_engine_destroy(struct cep_engine *e);

#endif /* CEPTOR_ENGINE_LOOP_H */
