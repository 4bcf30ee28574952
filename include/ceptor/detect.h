/*
 * detect.h - the per-worker detection stage: one event in, signals out.
 *
 * A struct cep_detect runs a compiled rule set (rule.h) over a stream of
 * events.  For each event it finds the detection rules that match (stage 1,
 * "match"), feeds the correlation rules that count those matches per group
 * over a window of event time (stage 2, "correlate"), and returns signals
 * (signal.h): one per emitting detection rule that matched, and one when a
 * correlation condition becomes true for a group, plus a `final` one when
 * that group's window closes with a count that grew since; absence and
 * alert_clear rules also emit kind ABSENCE and CLEAR signals.
 *
 *   event --> candidate rules --> match each candidate rule
 *                                     | emits? ----------------> signal
 *                                     | late? -> counted, no correlation
 *                                     v
 *                             reorder buffer: held until watermark -
 *                             lateness passes them, then in ts order
 *                                     v
 *                             correlation windows (window.c):
 *                             open-addressing table (rule, group key)
 *                               -> group: distinct-value set, LRU links
 *                                     | condition true / window closed
 *                                     v
 *                                   signal queue --> caller's out[]
 *
 * Window state is bounded: at most max_keys groups per correlation rule and
 * mem_ceiling bytes in all; when a new group would cross either limit the
 * oldest group (least recently updated) is evicted and counted.  Windows
 * close on event time, never on wall-clock time, so a replay gives the same
 * signals as the live run.
 *
 * Event time: each cep_detect keeps one watermark, the largest ts it has
 * seen (reset by a complete flush).  With an allowed lateness L, an event
 * with ts >= watermark - L is on time: it waits in a reorder buffer (at
 * most max_held entries) and reaches the windows in ts order once the
 * watermark minus L has passed it; a window closes only when the watermark
 * minus L passes its end.  An event with ts < watermark - L is late: its
 * detection signals still go out, but it feeds no correlation and is
 * counted (events_late).  Hence any arrival order in which no event is
 * more than L behind the newest one gives exactly the signals of the
 * sorted order, at the price of correlation signals coming out once the
 * watermark is L past their event.  With L = 0 nothing waits, and any
 * event older than the newest one is late.  A watermark only moves with
 * events: when input pauses, the last L of it waits for more input or a
 * flush.
 *
 * Signals that do not fit in the caller's array wait in a small internal
 * queue and come out first on the next call; a detection signal that finds
 * the queue full is dropped and counted (stats.signals_dropped).
 *
 * Thread safety: a cep_detect is owned by one worker thread; no call may run
 * concurrently on the same object.  Several cep_detect objects may share one
 * rule set, which must outlive them.
 */
#ifndef CEPTOR_DETECT_H
#define CEPTOR_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "ceptor/event.h"
#include "ceptor/signal.h"

struct cep_ruleset;
struct cep_detect;

/* Limits; a zero member takes its default, except lateness (0 is none). */
struct cep_detect_config {
	size_t max_keys;     /* groups per correlation rule (100000) */
	size_t mem_ceiling;  /* bytes of window state in all (256 MiB) */
	uint32_t max_values; /* distinct values kept per group (65536) */
	unsigned queue;      /* signals held between calls (256) */
	uint64_t lateness;   /* ns an event may trail the watermark (0) */
	uint32_t max_held;   /* reorder buffer entries, each an event copy
				per correlation it feeds (65536) */
};

struct cep_detect_stats {
	uint64_t events;          /* events seen */
	uint64_t matches;         /* (event, detection rule) matches */
	uint64_t signals;         /* signals handed to the caller */
	uint64_t signals_dropped; /* detection signals lost to a full queue */
	uint64_t keys_live;       /* correlation groups now open */
	uint64_t keys_evicted;    /* groups evicted by max_keys / mem_ceiling */
	uint64_t keys_expired;    /* groups closed because their window ended */
	uint64_t values_overflow; /* values refused because a group was full */
	uint64_t mem_bytes;       /* window state now held, in bytes */
	uint64_t events_late;     /* events too late for correlation */
	uint64_t held;            /* reorder buffer entries now held */
	uint64_t held_forced;     /* released before their time: buffer full */
	uint64_t chain_dropped;   /* chained alerts lost (chain queue full) */
	uint64_t watermark;       /* largest event time seen, ns */
};

/*
 * cep_detect_create - make the detection state for one worker.
 * @rs: borrowed; must outlive the cep_detect.
 * @cfg: limits; NULL takes every default.
 * Returns 0 and a new object in *out (release with cep_detect_destroy()),
 * -EINVAL for a NULL rule set, or -ENOMEM.
 */
int cep_detect_create(const struct cep_ruleset *rs,
		      const struct cep_detect_config *cfg,
		      struct cep_detect **out);

/* cep_detect_destroy - free the state; open windows are discarded without
 * signals (call cep_detect_flush() first to get them).  NULL is accepted. */
void cep_detect_destroy(struct cep_detect *d);

/*
 * cep_detect_event - run matching and correlation for one event.
 * @ev: borrowed for the call; signals carry their own copy.
 * @out, @max: room for signals.
 * Returns how many signals were written to out[0..n), at most max; signals
 * beyond max stay queued for the next call.  Never fails: bad input cannot
 * reach here (events are already validated), and limits are counted.
 */
unsigned cep_detect_event(struct cep_detect *d, const struct cep_event *ev,
			  struct cep_signal *out, unsigned max);

/*
 * cep_detect_flush - end of input: close every open window and emit the
 * final signals.  Call repeatedly until it returns 0; each call writes up to
 * max signals.  Afterwards the object is empty and may take new events.
 */
unsigned cep_detect_flush(struct cep_detect *d, struct cep_signal *out,
			  unsigned max);

/* cep_detect_stats - copy the counters into *out. */
void cep_detect_stats(const struct cep_detect *d,
		      struct cep_detect_stats *out);

#endif /* CEPTOR_DETECT_H */
