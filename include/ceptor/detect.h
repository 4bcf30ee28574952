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
 * most max_held events) and reaches the windows in ts order once the
 * watermark minus L has passed it; a window closes only when the watermark
 * minus L passes its end.  An event with ts < watermark - L is late: its
 * detection signals still go out, but it feeds no correlation and is
 * counted (events_late).  Hence any arrival order in which no event is
 * more than L behind the newest one gives exactly the signals of the
 * sorted order, at the price of correlation signals coming out once the
 * watermark is L past their event.  With L = 0 nothing waits, and any
 * event older than the newest one is late.  A watermark moves with
 * events, or when the caller says time has passed (cep_detect_advance(): a
 * live engine whose input pauses, so that the last L of it, due windows and
 * absence rules are not held back until more input or a flush).
 *
 * Signals that do not fit in the caller's array wait in a small internal
 * queue and come out first on the next call; a detection signal that finds
 * the queue full is dropped and counted (stats.signals_dropped).
 *
 * Reload (cep_detect_reload()): the object switches to a new rule set
 * between two events, keeping the window state of every correlation rule
 * whose id and compiled meaning are unchanged, together with the rules it
 * refers to (a hash computed by the compiler: detection, correlation,
 * level, type, and the referenced rules' hashes; not title, description,
 * tags, file or line).  For those rules nothing is lost or counted twice:
 * open groups, their values, fired/emitted state and reorder-buffer
 * entries move over, and the watermark and release floor stay, so a
 * threshold that straddles the swap fires once, in the same place as
 * without the reload, whatever the lateness.  A correlation that changed
 * or went away is closed as at end of input: its held events are fed to
 * its old windows, groups already due expire, the others emit their final
 * signal where one is owed (absence and alert_clear windows that did not
 * run out emit nothing, as at flush); a changed rule then starts fresh,
 * with the events that come after the swap.  Detection rules keep no
 * state: the new set applies from the next event.
 *
 * Thread safety: a cep_detect is owned by one worker thread; no call may run
 * concurrently on the same object.  Several cep_detect objects may share one
 * rule set, which must outlive them (or, after cep_detect_reload(), the
 * set it switched to; the old set is no longer used).
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
	uint32_t max_held;   /* events in the reorder buffer, one copy
				each with every correlation it feeds
				(65536) */
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
	uint64_t held;            /* events in the reorder buffer now */
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
 * cep_detect_advance - event time has reached @ts without an event: move
 * the watermark there (never back), release the held events it passes and
 * close the windows now due, as an event at @ts would.  For a live engine
 * whose input paused; an offline run never calls it, so replays stay
 * exact.  Returns the signals written to out[0..n), at most max; call
 * cep_detect_drain() for the rest.
 */
unsigned cep_detect_advance(struct cep_detect *d, uint64_t ts,
			    struct cep_signal *out, unsigned max);

/*
 * cep_detect_flush - end of input: close every open window and emit the
 * final signals.  Call repeatedly until it returns 0; each call writes up to
 * max signals.  Afterwards the object is empty and may take new events.
 */
unsigned cep_detect_flush(struct cep_detect *d, struct cep_signal *out,
			  unsigned max);

/* What a reload changed: rules by their id (`id`, else `name`). */
struct cep_detect_reload_stats {
	uint32_t kept;          /* correlations kept with their windows */
	uint32_t changed;       /* correlations whose meaning changed */
	uint32_t added;         /* correlations new in the set */
	uint32_t removed;       /* correlations no longer in the set */
	uint64_t groups_kept;   /* open groups carried over */
	uint64_t groups_closed; /* groups of changed or removed correlations */
	uint64_t held_kept;     /* held events carried over (for the kept
				   correlations they feed) */
	uint64_t held_flushed;  /* held events fed to the windows that
				   closed (one feeding both kinds counts in
				   both) */
};

/*
 * cep_detect_reload - switch @d to the rule set @rs between two events
 * (see "Reload" above).
 * @rs: borrowed; must outlive @d (or its next reload).  The set @d used
 *      until now is not touched again once this returns: the caller may
 *      free it (after whatever grace period its other readers need).
 * @st: what changed; may be NULL.
 * The final signals of closed groups wait in @d's queue, which grows for
 * them so that none is dropped; take them with cep_detect_drain() (or the
 * next cep_detect_event() hands them out first).
 * Returns 0, -EINVAL for a NULL @rs, or -ENOMEM, in which case @d still
 * runs the old set with its state intact.
 */
int cep_detect_reload(struct cep_detect *d, const struct cep_ruleset *rs,
		      struct cep_detect_reload_stats *st);

/*
 * cep_detect_drain - hand out queued signals without feeding an event or
 * closing a window.  Returns how many were written to out[0..n).
 */
unsigned cep_detect_drain(struct cep_detect *d, struct cep_signal *out,
			  unsigned max);

/* How two rule sets differ, rule by rule (detections and correlations). */
struct cep_detect_diff {
	size_t unchanged, changed, added, removed;
};

/*
 * cep_detect_diff - compare @old and @new by rule id and compiled hash, as
 * a reload would.  Only reads both sets; may run on any thread that may
 * read them.  Returns 0 or -ENOMEM.
 */
int cep_detect_diff(const struct cep_ruleset *old,
		    const struct cep_ruleset *nw, struct cep_detect_diff *out);

/* cep_detect_stats - copy the counters into *out. */
void cep_detect_stats(const struct cep_detect *d,
		      struct cep_detect_stats *out);

#endif /* CEPTOR_DETECT_H */
