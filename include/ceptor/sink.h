/*
 * sink.h - the sinks every collector binary offers: JSON Lines (--dump),
 * counting only (--stats) and a shared-memory ring (--ring NAME).
 *
 * Each is a struct cep_sink (collector.h) whose arg is the matching state
 * struct below, owned by the caller.  They take whole batches and never
 * allocate per event.
 *
 * Thread safety: one sink state per thread.
 */
#ifndef CEPTOR_SINK_H
#define CEPTOR_SINK_H

#include <stdint.h>
#include <stdio.h>

#include "ceptor/collector.h"

struct cep_ring;

/* --dump: one JSON object per line on out (buffered by stdio). */
struct cep_dump_sink {
	FILE *out;
	uint64_t written;
};
/* Returns n, or -EIO when out fails (a closed pipe, a full disk). */
int cep_dump_sink_fn(void *arg, const struct cep_event *ev, unsigned n);

/* --stats: count and discard. */
struct cep_count_sink {
	uint64_t events;
};
int cep_count_sink_fn(void *arg, const struct cep_event *ev, unsigned n);

/* --ring: enqueue with the source's overflow policy (collector.h). */
struct cep_ring_sink {
	struct cep_ring *ring; /* borrowed; attached by the caller */
	int overflow;          /* enum cep_overflow */
	uint64_t accepted;
	uint64_t dropped;
};
/* Returns the number accepted (all n under CEP_OVERFLOW_BLOCK). */
int cep_ring_sink_fn(void *arg, const struct cep_event *ev, unsigned n);

#endif /* CEPTOR_SINK_H */
