/*
 * detect.c - the per-worker detection stage (contract in detect.h).
 *
 * For each event: advance the event-time watermark, offer the event to
 * the detection rules that can match it, queue a signal for each emitting
 * rule that matched, and note for each correlation those rules feed which
 * of its rules matched (once per correlation, even when two of its rules
 * matched the same event).  Unless the event is late, it then waits in the
 * windows' reorder buffer, one copy with the list of its correlations, and
 * the buffer releases, in event-time order, what the watermark minus the
 * lateness has passed (window.h).  Everything the call produces goes through one signal queue,
 * so the caller's array size never decides what is lost.
 *
 * Time, per cep_detect (one worker): the watermark W is the largest ts
 * seen; with lateness L, an event whose ts is below W - L (or below the
 * last released entry, after a forced release) is late: it is counted and
 * matched, but feeds no correlation.  With L = 0, W itself is the bound
 * and entries are released at once.
 */
#include "ceptor/detect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/rule.h"
#include "core/match.h"
#include "core/rule_priv.h"
#include "core/window.h"

struct cep_detect {
	const struct cep_ruleset *rs;
	struct cep__window *win;
	struct cep__sigq q;
	uint64_t *fed;  /* per correlation slot: the last event number fed */
	uint64_t evno;  /* events seen, numbering them from 1 */
	uint64_t watermark;
	uint64_t lateness; /* ns (detect.h) */
	uint64_t matches, signals, dropped, late;
	/* This event's correlations: pend[0..npend), and per slot its index
	 * in pend (valid when fed[slot] == evno). */
	struct cep__window_feed *pend;
	uint32_t *pidx, npend;
	bool late_now; /* this event is late: feed no correlation */
	struct cep__index_scratch *ixs; /* the index's candidate set */
};

int cep_detect_create(const struct cep_ruleset *rs,
		      const struct cep_detect_config *cfg,
		      struct cep_detect **out)
{
	struct cep_detect_config c = { 0 };
	struct cep__window_limits lim;
	struct cep_detect *d;
	int rc;

	if (!rs)
		return -EINVAL;
	if (cfg)
		c = *cfg;
	lim.max_keys = c.max_keys ? c.max_keys : 100000;
	lim.mem_ceiling = c.mem_ceiling ? c.mem_ceiling : (size_t)256 << 20;
	lim.max_values = c.max_values ? c.max_values : 65536;
	lim.max_held = c.max_held ? c.max_held : 65536;
	d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->rs = rs;
	d->lateness = c.lateness;
	d->q.cap = c.queue ? c.queue : 256;
	d->q.buf = calloc(d->q.cap, sizeof *d->q.buf);
	d->fed = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *d->fed);
	d->pend = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *d->pend);
	d->pidx = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *d->pidx);
	if (!d->q.buf || !d->fed || !d->pend || !d->pidx) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = cep__window_create(rs, &lim, &d->win);
	if (rc)
		goto fail;
	if ((rc = cep__index_scratch_create(rs->index, &d->ixs)))
		goto fail;
	*out = d;
	return 0;
fail:
	cep_detect_destroy(d);
	return rc;
}

void cep_detect_destroy(struct cep_detect *d)
{
	if (!d)
		return;
	cep__window_destroy(d->win);
	cep__index_scratch_destroy(d->ixs);
	free(d->q.buf);
	free(d->fed);
	free(d->pend);
	free(d->pidx);
	free(d);
}

static void detection_signal(struct cep_detect *d, const struct cep__rule *r,
			     const struct cep_event *ev)
{
	struct cep_signal *s = cep__sigq_push(&d->q);

	if (!s) {
		d->dropped++;
		return;
	}
	memset(s, 0, sizeof *s);
	/* The compiler bounded id and title to these sizes. */
	strcpy(s->rule_id, cep__rule_sigid(r));
	strcpy(s->title, r->title);
	s->origin = CEP_SIGNAL_DETECTION;
	s->level = r->level;
	s->type = r->type;
	s->tlp_lower = r->tlp_lower;
	s->first_ts = s->last_ts = ev->ts;
	s->count = 1;
	s->ev = *ev;
}

/* Rule r matched: note it for each correlation it feeds, as the bit of
 * its place in that correlation's rules. */
static void correlate(struct cep_detect *d, const struct cep__rule *r)
{
	const struct cep_ruleset *rs = d->rs;
	uint32_t ri = (uint32_t)(r - rs->rules);

	if (d->late_now)
		return;
	for (uint32_t j = 0; j < r->ncorrs; j++) {
		const struct cep__corr *k = &rs->rules[r->corrs[j]].corr;
		uint32_t p = 0;

		while (k->refs[p] != ri)
			p++;
		if (d->fed[k->slot] != d->evno) {
			d->fed[k->slot] = d->evno;
			d->pidx[k->slot] = d->npend;
			d->pend[d->npend++] =
				(struct cep__window_feed){ k->slot, 0 };
		}
		d->pend[d->pidx[k->slot]].mask |= 1ULL << p;
	}
}

/* The event-time bounds now: entries below *release are fed, groups due
 * before *sweep close, and an event below *sweep is late. */
static void bounds(const struct cep_detect *d, uint64_t *release,
		   uint64_t *sweep)
{
	uint64_t w = d->watermark, l = d->lateness;

	if (l == 0) {
		*release = w == UINT64_MAX ? w : w + 1;
		*sweep = w;
	} else {
		*release = *sweep = w > l ? w - l : 0;
	}
}

static unsigned drain(struct cep_detect *d, struct cep_signal *out,
		      unsigned max)
{
	unsigned n = cep__sigq_drain(&d->q, out, max);

	d->signals += n;
	return n;
}

unsigned cep_detect_event(struct cep_detect *d, const struct cep_event *ev,
			  struct cep_signal *out, unsigned max)
{
	const struct cep_ruleset *rs = d->rs;
	const uint32_t *cand;
	uint32_t ncand;
	uint64_t release, sweep;

	d->evno++;
	if (ev->ts > d->watermark)
		d->watermark = ev->ts;
	bounds(d, &release, &sweep);
	d->late_now = ev->ts < sweep || ev->ts < cep__window_floor(d->win);
	d->late += d->late_now;
	d->npend = 0;
	/* The index hands out, in rule order, the rules of the event's kind
	 * that can match it; the others cannot (index.h). */
	ncand = cep__index_candidates(rs->index, d->ixs, ev, &cand);
	for (uint32_t i = 0; i < ncand; i++) {
		const struct cep__rule *r = &rs->rules[cand[i]];

		if (!cep__detection_match(&r->det, ev))
			continue;
		d->matches++;
		if (r->emits)
			detection_signal(d, r, ev);
		correlate(d, r);
	}
	/* A full reorder buffer releases its oldest entry to make room: if
	 * that was newer than this event, this one is late after all. */
	if (!cep__window_hold(d->win, ev, d->pend, d->npend, &d->q))
		d->late++;
	cep__window_advance(d->win, release, sweep, &d->q);
	return drain(d, out, max);
}

unsigned cep_detect_advance(struct cep_detect *d, uint64_t ts,
			    struct cep_signal *out, unsigned max)
{
	uint64_t release, sweep;

	if (ts > d->watermark)
		d->watermark = ts;
	bounds(d, &release, &sweep);
	cep__window_advance(d->win, release, sweep, &d->q);
	return drain(d, out, max);
}

unsigned cep_detect_flush(struct cep_detect *d, struct cep_signal *out,
			  unsigned max)
{
	unsigned n = drain(d, out, max);

	while (n < max) {
		bool done = cep__window_close_all(d->win, d->watermark, &d->q);
		n += drain(d, out + n, max - n);
		if (done && d->q.count == 0)
			break;
	}
	if (n == 0)
		d->watermark = 0; /* empty again: a new input may start over */
	return n;
}

/* --- reload ----------------------------------------------------------------- */

/* Rules of a set by their signal id: an open-addressing table of rule
 * indices, for matching the rules of two sets in O(n). */
struct idtab {
	uint32_t *slot; /* rule index + 1; 0 is empty */
	size_t mask;
};

static uint64_t id_hash(const char *id)
{
	return cep__hash_bytes(id, strlen(id), 0);
}

static int idtab_build(struct idtab *t, const struct cep_ruleset *rs)
{
	size_t cap = 16;

	while (cap < rs->nrules * 2)
		cap *= 2;
	t->slot = calloc(cap, sizeof *t->slot);
	if (!t->slot)
		return -ENOMEM;
	t->mask = cap - 1;
	for (size_t i = 0; i < rs->nrules; i++) {
		size_t j = id_hash(cep__rule_sigid(&rs->rules[i])) & t->mask;

		while (t->slot[j])
			j = (j + 1) & t->mask;
		t->slot[j] = (uint32_t)i + 1;
	}
	return 0;
}

/* The rule of @rs with signal id @id, or NULL.  Ids are unique in a set
 * (the compiler rejects duplicates). */
static const struct cep__rule *idtab_find(const struct idtab *t,
					  const struct cep_ruleset *rs,
					  const char *id)
{
	for (size_t j = id_hash(id) & t->mask; t->slot[j];
	     j = (j + 1) & t->mask) {
		const struct cep__rule *r = &rs->rules[t->slot[j] - 1];

		if (!strcmp(cep__rule_sigid(r), id))
			return r;
	}
	return NULL;
}

static bool same_meaning(const struct cep__rule *a, const struct cep__rule *b)
{
	return a && b && a->hash == b->hash && a->corr_type == b->corr_type;
}

int cep_detect_diff(const struct cep_ruleset *old,
		    const struct cep_ruleset *nw, struct cep_detect_diff *out)
{
	struct idtab t;
	size_t found = 0;

	memset(out, 0, sizeof *out);
	if (idtab_build(&t, old))
		return -ENOMEM;
	for (size_t i = 0; i < nw->nrules; i++) {
		const struct cep__rule *r = &nw->rules[i];
		const struct cep__rule *o = idtab_find(&t, old,
						       cep__rule_sigid(r));

		if (!o) {
			out->added++;
			continue;
		}
		found++;
		if (same_meaning(o, r))
			out->unchanged++;
		else
			out->changed++;
	}
	out->removed = old->nrules - found;
	free(t.slot);
	return 0;
}

int cep_detect_reload(struct cep_detect *d, const struct cep_ruleset *rs,
		      struct cep_detect_reload_stats *st)
{
	const struct cep_ruleset *old = d->rs;
	struct cep_detect_reload_stats s = { 0 };
	struct cep__window_migration m;
	struct cep__window_limits lim;
	struct cep__window *win = NULL;
	struct cep__index_scratch *ixs = NULL;
	uint64_t *fed = NULL;
	struct cep__window_feed *pend = NULL;
	uint32_t *pidx = NULL, *map = NULL;
	uint64_t release, sweep;
	struct idtab t = { 0 };
	int rc = -ENOMEM;

	if (!rs)
		return -EINVAL;
	/* Everything that can fail comes first: on failure d is untouched. */
	cep__window_limits(d->win, &lim);
	fed = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *fed);
	pend = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *pend);
	pidx = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *pidx);
	map = malloc((old->ncorr ? old->ncorr : 1) * sizeof *map);
	if (!fed || !pend || !pidx || !map || idtab_build(&t, rs))
		goto fail;
	if ((rc = cep__window_create(rs, &lim, &win)) ||
	    (rc = cep__index_scratch_create(rs->index, &ixs)))
		goto fail;

	/* Old slot -> new slot for the correlations that mean the same. */
	for (uint32_t slot = 0; slot < old->ncorr; slot++) {
		const struct cep__rule *o = &old->rules[old->corr_rules[slot]];
		const struct cep__rule *n = idtab_find(&t, rs,
						       cep__rule_sigid(o));

		map[slot] = CEP__WINDOW_NOSLOT;
		if (!n || n->corr_type == CEP__CORR_NONE) {
			s.removed++;
		} else if (same_meaning(o, n)) {
			map[slot] = n->corr.slot;
			s.kept++;
		} else {
			s.changed++;
		}
	}
	s.added = rs->ncorr - s.kept - s.changed;

	bounds(d, &release, &sweep);
	if ((rc = cep__window_migrate(d->win, win, map, sweep, &d->q, &m)))
		goto fail;
	s.groups_kept = m.groups_kept;
	s.groups_closed = m.groups_closed;
	s.held_kept = m.held_kept;
	s.held_flushed = m.held_flushed;

	cep__window_destroy(d->win);
	cep__index_scratch_destroy(d->ixs);
	free(d->fed);
	free(d->pend);
	free(d->pidx);
	d->rs = rs;
	d->win = win;
	d->ixs = ixs;
	d->fed = fed;
	d->pend = pend;
	d->pidx = pidx;
	d->npend = 0;
	free(map);
	free(t.slot);
	if (st)
		*st = s;
	return 0;
fail:
	cep__window_destroy(win);
	cep__index_scratch_destroy(ixs);
	free(fed);
	free(pend);
	free(pidx);
	free(map);
	free(t.slot);
	return rc ? rc : -ENOMEM;
}

unsigned cep_detect_drain(struct cep_detect *d, struct cep_signal *out,
			  unsigned max)
{
	return drain(d, out, max);
}

void cep_detect_stats(const struct cep_detect *d,
		      struct cep_detect_stats *out)
{
	struct cep__window_stats w;

	cep__window_stats(d->win, &w);
	memset(out, 0, sizeof *out);
	out->events = d->evno;
	out->matches = d->matches;
	out->signals = d->signals;
	out->signals_dropped = d->dropped + w.signals_dropped;
	out->keys_live = w.keys_live;
	out->keys_evicted = w.keys_evicted;
	out->keys_expired = w.keys_expired;
	out->values_overflow = w.values_overflow;
	out->mem_bytes = w.mem_bytes;
	out->events_late = d->late;
	out->held = w.held;
	out->held_forced = w.held_forced;
	out->chain_dropped = w.chain_dropped;
	out->watermark = d->watermark;
}
