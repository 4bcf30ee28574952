/*
 * window.h - correlation window state owned by one worker (internal to
 * engine/core).
 *
 * One struct cep__window holds the open groups of every correlation rule
 * of a rule set: a group is one (correlation rule, group-by key) pair, and
 * holds the distinct values of the rule's field (value_count) or one entry
 * per event (event_count) seen in the last `timespan` of event time.
 *
 *   table[]  open addressing, linear probing, backward-shift delete
 *     |
 *     +-> group ----------------------------------------------+
 *         | hash, slot, key bytes (group-by values, encoded)  |
 *         | first_ts, last_ts, peak, emitted, fired, last_ev  |
 *         | rule LRU links  (per correlation rule, by update)  |
 *         | global LRU links (all groups, by update)           |
 *         | value set: slots[] -> nodes[] {val, ts, LRU links} |
 *         +----------------------------------------------------+
 *
 * A value set is itself an open-addressing table of node indices over a
 * node array kept in time order by an intrusive list, so that values older
 * than the window fall off the front in O(1) each.  Node arrays and slot
 * arrays grow by doubling; nothing is allocated per event once a group's
 * set has reached its working size.
 *
 * Limits: max_keys groups per rule and mem_ceiling bytes in all; a new
 * group that would cross either evicts the least recently updated group
 * (of the rule, or of all rules), which is counted and still emits its
 * final signal when it owes one and the queue has room.
 *
 * Thread safety: none; one worker owns the object (detect.h).
 */
#ifndef CEPTOR_CORE_WINDOW_H
#define CEPTOR_CORE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceptor/signal.h"
#include "core/rule_priv.h"

/* A fixed ring of signals waiting for the caller. */
struct cep__sigq {
	struct cep_signal *buf;
	unsigned cap, head, count;
};

static inline bool cep__sigq_room(const struct cep__sigq *q)
{
	return q->count < q->cap;
}

/* cep__sigq_push - a slot to fill at the tail, or NULL when full. */
static inline struct cep_signal *cep__sigq_push(struct cep__sigq *q)
{
	struct cep_signal *s;

	if (q->count == q->cap)
		return NULL;
	s = &q->buf[(q->head + q->count) % q->cap];
	q->count++;
	return s;
}

/* cep__sigq_drain - move up to max signals to out; returns how many. */
static inline unsigned cep__sigq_drain(struct cep__sigq *q,
				       struct cep_signal *out, unsigned max)
{
	unsigned n = 0;

	while (q->count && n < max) {
		out[n++] = q->buf[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	return n;
}

struct cep__window_limits {
	size_t max_keys;
	size_t mem_ceiling;
	uint32_t max_values;
};

struct cep__window_stats {
	uint64_t keys_live, keys_evicted, keys_expired;
	uint64_t values_overflow, signals_dropped, nomem;
	uint64_t mem_bytes;
};

struct cep__window;

/* Returns 0 and a new window set for @rs (borrowed), or -ENOMEM. */
int cep__window_create(const struct cep_ruleset *rs,
		       const struct cep__window_limits *lim,
		       struct cep__window **out);
/* Frees every group without signals; NULL is accepted. */
void cep__window_destroy(struct cep__window *w);

/*
 * cep__window_update - count @ev, which a detection rule feeding correlation
 * rule @corr matched.  May push the rule's signal (condition now true) or a
 * final signal (a group closed to make room) onto @q.
 */
void cep__window_update(struct cep__window *w, const struct cep__rule *corr,
			const struct cep_event *ev, struct cep__sigq *q);

/* cep__window_expire - close the groups whose window ended before event
 * time @now, while @q has room for their final signals. */
void cep__window_expire(struct cep__window *w, uint64_t now,
			struct cep__sigq *q);

/* cep__window_close_all - close groups while @q has room; returns true
 * when none is left open. */
bool cep__window_close_all(struct cep__window *w, struct cep__sigq *q);

void cep__window_stats(const struct cep__window *w,
		       struct cep__window_stats *out);

#endif /* CEPTOR_CORE_WINDOW_H */
