/*
 * window.h - correlation window state owned by one worker (internal to
 * engine/core).
 *
 * One struct cep__window holds the open groups of every correlation rule
 * of a rule set: a group is one (correlation rule, group-by key) pair, and
 * holds what the rule's type needs over the last `timespan` of event time:
 * distinct values (value_count, corroboration, temporal: the rules seen),
 * one entry per event with its amount (event_count, value_sum, value_avg,
 * alert_clear, backoff), the latest start of each prefix of the rule list
 * (temporal_ordered), or the count of unanswered A events (absence).
 *
 *   reorder buffer: one entry per event    table[]: {hash low 32, index}
 *   {event, its (slot, mask) pairs}          | open addressing, linear
 *   run[]  ring, events that came in order   | probing, backward-shift
 *   heap[] 4-ary min-heap, the others        | delete; never touches a
 *     | released in (ts, bytes) order        | group to grow or delete
 *     | once watermark - lateness passes     v
 *     v                                    pool of 96-byte group records
 *   feed(rule, event, which refs) ------>  (32-bit indices, chunks that
 *                                           never move):
 *   chain FIFO: a correlation's             slot keylen ref flags key[24]
 *   own alerts, fed to the ones that        LRU links, due-list links
 *   refer to it                             first_ts last_ts peak
 *                                           one inline value {val, ts}
 *                                           ext --> (only when needed)
 *                                             more values: hash set over
 *                                             a time list, or a FIFO of
 *                                             (ts, amount); the kept event
 *                                             (packed); a long key; steps
 *
 * Time: every event reaches the groups in event-time order (ties broken by
 * the event's bytes; one event feeds its correlations in slot order),
 * because events wait in the reorder buffer until the watermark minus the
 * lateness passes them.  So a group's state after each event, and every
 * signal, depends only on the events that arrived within the lateness,
 * not on their arrival order.  Groups close in order of their due time
 * (then rule slot, then update order); a sweep to time T closes every
 * group due before T.
 *
 * A value set is an open-addressing table of node indices over a node
 * array kept in time order by an intrusive list, so that values older than
 * the window fall off the front in O(1) each; a rule whose every event is
 * a new value keeps a FIFO instead.  Value arrays, the pool and the reorder
 * buffer grow by doubling (the pool, past its first chunks, by fixed
 * chunks); nothing is allocated per event once they have reached their
 * working size.  A group keeps an event (for the signal it may owe at
 * close) only when it can owe one: absence, rules with an upper bound, and
 * lower-bound rules once fired.
 *
 * Limits: max_keys groups per rule and mem_ceiling bytes in all; a new
 * group that would cross either evicts the rule's group due soonest or the
 * least recently updated group of all, which is counted and still emits
 * its final signal when it owes one and the queue has room (an absence or
 * alert_clear group evicted emits nothing).  mem_bytes counts every byte
 * allocated for groups as the allocator sized it: table, pool chunks (free
 * records too), value arrays, kept events.  The reorder buffer holds at
 * most max_held events; when full, its oldest entry is released early and
 * counted (held_forced); its bytes are held_bytes.
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

/*
 * A ring of signals waiting for the caller.  Its size is fixed while
 * events flow (a full queue drops and counts); `grow` is set only while a
 * reload closes the groups of changed rules (cep__window_migrate()), when
 * every final signal owed must be kept and the queue doubles instead.
 */
struct cep__sigq {
	struct cep_signal *buf;
	unsigned cap, head, count;
	bool grow;
};

/* cep__sigq_grow - double q's capacity, keeping its order; false on OOM. */
bool cep__sigq_grow(struct cep__sigq *q);

static inline bool cep__sigq_room(const struct cep__sigq *q)
{
	return q->count < q->cap || q->grow;
}

/* cep__sigq_push - a slot to fill at the tail, or NULL when full. */
static inline struct cep_signal *cep__sigq_push(struct cep__sigq *q)
{
	struct cep_signal *s;

	if (q->count == q->cap && !(q->grow && cep__sigq_grow(q)))
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
	uint32_t max_held;
};

struct cep__window_stats {
	uint64_t keys_live, keys_evicted, keys_expired;
	uint64_t values_overflow, signals_dropped, nomem;
	uint64_t mem_bytes;     /* groups: table, pool, values, kept events */
	uint64_t held_bytes;    /* the reorder buffer's arrays */
	uint64_t held;          /* events in the reorder buffer now */
	uint64_t held_forced;   /* released early: the buffer was full */
	uint64_t chain_dropped; /* chained alerts lost to a full chain queue */
};

struct cep__window;

/* Returns 0 and a new window set for @rs (borrowed), or -ENOMEM. */
int cep__window_create(const struct cep_ruleset *rs,
		       const struct cep__window_limits *lim,
		       struct cep__window **out);
/* Frees every group and held entry without signals; NULL is accepted. */
void cep__window_destroy(struct cep__window *w);

/* One correlation an event feeds: bit p of mask is set when the event
 * matched the rule refs[p] of the correlation in slot @slot. */
struct cep__window_feed {
	uint32_t slot;
	uint64_t mask;
};

/*
 * cep__window_hold - buffer @ev (copied once) for the @n correlations
 * @feeds names (one pair per slot; reordered in place to slot order).
 * When the buffer is full, its oldest entry is released first (counted);
 * that may push signals onto @q.  Returns false when that release passed
 * @ev (its ts is below the new floor): @ev can no longer reach the windows
 * in order, so it is not held, and the caller counts it late.
 */
bool cep__window_hold(struct cep__window *w, const struct cep_event *ev,
		      struct cep__window_feed *feeds, uint32_t n,
		      struct cep__sigq *q);

/*
 * cep__window_advance - release, in event-time order, the held entries
 * whose ts is below @release_below, closing before each the groups due
 * before its ts; then close the groups due before @sweep_below.  Stops
 * early, leaving the rest for the next call, when @q is nearly full, so
 * that no signal is lost to a slow caller.
 */
void cep__window_advance(struct cep__window *w, uint64_t release_below,
			 uint64_t sweep_below, struct cep__sigq *q);

/* cep__window_floor - the ts of the last released entry (0 before any):
 * an event older than this can no longer be placed in order. */
uint64_t cep__window_floor(const struct cep__window *w);

/*
 * cep__window_close_all - end of input: release every held entry, close
 * the groups due before @now as expired, then close the rest (an absence
 * or alert_clear window that did not end emits nothing).  Stops while @q
 * lacks room; returns true when nothing is left.
 */
bool cep__window_close_all(struct cep__window *w, uint64_t now,
			   struct cep__sigq *q);

void cep__window_stats(const struct cep__window *w,
		       struct cep__window_stats *out);

/* cep__window_limits - the limits @w was created with (after defaults). */
void cep__window_limits(const struct cep__window *w,
			struct cep__window_limits *out);

/* What cep__window_migrate() did. */
struct cep__window_migration {
	uint64_t groups_kept;   /* groups moved to the new window set */
	uint64_t groups_closed; /* groups of changed or removed rules closed */
	uint64_t held_kept;     /* events moved (for the kept correlations) */
	uint64_t held_flushed;  /* events fed to the closing windows (one
				   that feeds both kinds counts in both) */
};

#define CEP__WINDOW_NOSLOT UINT32_MAX

/*
 * cep__window_migrate - a reload: move into @nw (a window set just made by
 * cep__window_create() for the new rule set, still empty) the state of
 * every correlation the reload keeps, then close what is left in @old.
 * @map: for each slot of @old's rule set, the slot of the same correlation
 *       in the new set, or CEP__WINDOW_NOSLOT for one that changed or went.
 *       A kept correlation must mean exactly what it meant (same compiled
 *       hash, hence the same refs in the same order and the same group-by
 *       fields), since groups and held entries move as they are.
 * @now: the event-time bound below which groups are due (the detect
 *       stage's sweep bound, watermark minus lateness).
 * @q: the signal queue, which grows for the final signals (q->grow is set
 *     for the call).
 *
 * Kept groups move whole, with their value sets, due order, LRU position
 * and fired/emitted state; nothing is copied value by value, only each
 * group's record is copied into @nw's pool and its table hash recomputed
 * (it is seeded with the slot).  The (slot, mask) pairs of held events
 * that feed kept correlations move with a copy of the event, renumbered
 * and put in the new slot order, and the release
 * floor carries over, so an event within the lateness reaches the kept
 * windows in event-time order across the swap, exactly once.  Then, in
 * @old: the held entries of changed or removed correlations are fed to
 * their windows at once (they can no longer wait), groups due before @now
 * close as expired and the rest close as at end of input (a final signal
 * where one is owed; absence and alert_clear windows that did not run out
 * emit nothing, as at flush).  @old is left empty; destroy it.  The
 * cumulative counters of @old carry over to @nw.
 *
 * Returns 0 and fills @out (may be NULL), or -ENOMEM, in which case
 * neither window set has changed.
 */
int cep__window_migrate(struct cep__window *old, struct cep__window *nw,
			const uint32_t *map, uint64_t now, struct cep__sigq *q,
			struct cep__window_migration *out);

/*
 * The event a group keeps for a signal it may owe, packed: word 0 is a
 * bitmap of the event's non-zero 8-byte words, which follow in order.  An
 * IPv4 packet event from a tap packs to 11 words (88 bytes), not 33.
 */
#define CEP__WINDOW_PACK_WORDS (1 + CEP_EVENT_SIZE / 8)

/* cep__window_pack_event - pack @ev into @out; returns the words written. */
size_t cep__window_pack_event(const struct cep_event *ev,
			      uint64_t out[CEP__WINDOW_PACK_WORDS]);
/* cep__window_unpack_event - the event @in packs, byte for byte, into @ev. */
void cep__window_unpack_event(const uint64_t *in, struct cep_event *ev);

#endif /* CEPTOR_CORE_WINDOW_H */
