/*
 * metrics.h - ceptord's Prometheus endpoint: GET /metrics in the text
 * exposition format 0.0.4, served on a loopback address (deploy/METRICS.md
 * lists every metric).
 *
 * What it is for.  The NOC watches ceptor with the tools it already has:
 * Prometheus scrapes the numbers the status document (loop.h, "Status")
 * carries, plus incidents by priority, and Grafana draws them
 * (deploy/grafana/ceptor.json).
 *
 * Design.  Two threads and one text:
 *
 *   core thread, once a second (the status tick, never per event)
 *     cep_metrics_snapshot() -> fill the numbers -> cep_metrics_emit():
 *     render the whole text into the core's buffer, then, under `lock`,
 *     swap it with the published one
 *                          |
 *                          v
 *             published text (pointer + length)
 *                          |  under `lock`: copy it out
 *                          v
 *   server thread: poll(listening socket, stop eventfd) -> accept ->
 *     read one request (at most CEP_METRICS_REQUEST_MAX bytes, within
 *     CEP_METRICS_IO_MS) -> answer -> close
 *
 * The server thread never touches engine state: it only ever sees the
 * last rendered text, which it copies out under the mutex and sends after
 * releasing it, so a slow client never holds the core up.  Connections are
 * served one at a time and closed after each answer (HTTP/1.1 with
 * "Connection: close"); a client that does not send its request, or does
 * not read the answer, within CEP_METRICS_IO_MS is dropped.
 *
 * Answers: GET (or HEAD) /metrics -> 200 "text/plain; version=0.0.4";
 * another path -> 404; another method on /metrics -> 405; a request line
 * that does not parse -> 400; a request head over CEP_METRICS_REQUEST_MAX
 * -> 431; before the first emit -> 503.
 *
 * Incidents by priority.  cep_metrics_note_incident() sees every incident
 * version the engine publishes (not every event) and keeps, on the core
 * thread, the open ones' last published priority in a small hash table
 * keyed by incident id: ceptor_incidents_open{priority} is what the
 * analysts' streams say is open now, created_total counts first versions.
 *
 * Threads: create, snapshot, note_incident, emit and destroy on one thread
 * (the core's; create and destroy may run on the thread that made the
 * engine, before and after the core runs).  Errors: 0 or a negative errno.
 */
#ifndef CEPTOR_ENGINE_METRICS_H
#define CEPTOR_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ceptor/publish.h"

#define CEP_METRICS_REQUEST_MAX 8192 /* bytes of request head */
#define CEP_METRICS_IO_MS 2000       /* per connection, to read and write */
#define CEP_METRICS_PRIORITIES 5     /* P1 .. P5 */

struct cep_metrics;
struct cep_incident;
struct cep_latency_snap; /* publish/latency.h */

/* One input as the core sees it; strings borrowed until emit returns. */
struct cep_metrics_input {
	const char *name;
	const char *kind;          /* pcap | flow | feed | ring */
	uint64_t events;           /* records the core took from its ring */
	uint64_t ring_drops;       /* refused under the drop policy */
	uint64_t kernel_drops;     /* the capture's producer report */
	uint64_t if_drops;
	uint64_t malformed;
	uint64_t ring_capacity;
	uint64_t ring_used;
	int producer_alive;        /* 1: a producer feeds it now */
};

/* Everything one rendering says; the core fills it (loop.c). */
struct cep_metrics_snapshot {
	int64_t started_ns;        /* wall clock at the engine's start */
	double uptime_s;
	int stopping;              /* the last emit, at shutdown: up is 0 */
	/* The engine (struct cep_engine_stats and the detect stage). */
	uint64_t events, events_late, signals, signals_dropped, matches;
	uint64_t messages, advisories, input_errors;
	uint64_t keys_live, keys_evicted, state_bytes;
	/* The rule set and its reloads. */
	uint64_t rules, rules_generation, reloads, reload_failures;
	int64_t rules_loaded_ns;
	/* The publisher; enabled 0 (--redis none) leaves pub zeroed. */
	int publisher_enabled;
	struct cep_publish_stats pub;
	/* Ingest to acknowledged (engine/loop.h), a snapshot of the
	 * publisher's histogram; borrowed until emit returns; NULL renders
	 * an empty histogram. */
	const struct cep_latency_snap *latency;
	/* The inputs: ninputs entries, room made by create. */
	size_t ninputs;
	struct cep_metrics_input *inputs;
};

/*
 * cep_metrics_create - bind ADDR:PORT (addr as cep_config_parse_listen()
 * reads it; the caller has checked that a non-loopback one is allowed)
 * and start the server thread.
 * @ninputs: the inputs every snapshot will carry.
 * Returns 0 and a new object in *out (release with cep_metrics_destroy());
 * -EINVAL for an address that does not parse, -errno from socket, bind
 * (-EADDRINUSE) or listen, -ENOMEM.  Every failure is logged once.
 */
int cep_metrics_create(const char *addr, size_t ninputs,
		       struct cep_metrics **out);

/*
 * cep_metrics_snapshot - the snapshot to fill before the next emit;
 * borrowed, valid until destroy.  Its inputs array has room for the
 * ninputs given at create; the other fields keep what the last fill put.
 */
struct cep_metrics_snapshot *cep_metrics_snapshot(struct cep_metrics *m);

/*
 * cep_metrics_note_incident - one incident version is being published:
 * count it, and its priority and status for ceptor_incidents_open.
 * Borrows inc for the call.  Returns 0 or -ENOMEM (the table could not
 * grow; the open gauge then misses it, and says so once in the log).
 */
int cep_metrics_note_incident(struct cep_metrics *m,
			      const struct cep_incident *inc);

/*
 * cep_metrics_emit - render the snapshot and the incident counts, and
 * make the text what the next scrape gets.  Returns 0, or -ENOMEM (the
 * previous text stays published).
 */
int cep_metrics_emit(struct cep_metrics *m);

/* cep_metrics_destroy - stop and join the server thread, close the socket,
 * free; a scrape being answered is cut off.  Accepts NULL. */
void cep_metrics_destroy(struct cep_metrics *m);

#endif /* CEPTOR_ENGINE_METRICS_H */
