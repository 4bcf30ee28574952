/*
 * detect.c - the per-worker detection stage (contract in detect.h).
 *
 * For each event: advance the event-time watermark and close the windows it
 * ended, offer the event to the detection rules of its kind, queue a signal
 * for each emitting rule that matched, and feed each matched rule's
 * correlations (once per correlation, even when two of its rules matched
 * the same event).  Everything the call produces goes through one signal
 * queue, so the caller's array size never decides what is lost.
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
	uint64_t matches, signals, dropped;
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
	d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->rs = rs;
	d->q.cap = c.queue ? c.queue : 256;
	d->q.buf = calloc(d->q.cap, sizeof *d->q.buf);
	d->fed = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *d->fed);
	if (!d->q.buf || !d->fed) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = cep__window_create(rs, &lim, &d->win);
	if (rc)
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
	free(d->q.buf);
	free(d->fed);
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
	s->first_ts = s->last_ts = ev->ts;
	s->count = 1;
	s->ev = *ev;
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
	unsigned kind = ev->kind < CEP_KIND_COUNT ? ev->kind : 0;
	const uint32_t *cand = rs->by_kind[kind];
	uint32_t ncand = rs->nby_kind[kind];

	d->evno++;
	if (ev->ts > d->watermark) {
		d->watermark = ev->ts;
		cep__window_expire(d->win, d->watermark, &d->q);
	}
	for (uint32_t i = 0; i < ncand; i++) {
		const struct cep__rule *r = &rs->rules[cand[i]];

		if (!cep__detection_match(&r->det, ev))
			continue;
		d->matches++;
		if (r->emits)
			detection_signal(d, r, ev);
		for (uint32_t j = 0; j < r->ncorrs; j++) {
			const struct cep__rule *c = &rs->rules[r->corrs[j]];

			if (d->fed[c->corr.slot] == d->evno)
				continue;
			d->fed[c->corr.slot] = d->evno;
			cep__window_update(d->win, c, ev, &d->q);
		}
	}
	return drain(d, out, max);
}

unsigned cep_detect_flush(struct cep_detect *d, struct cep_signal *out,
			  unsigned max)
{
	unsigned n = drain(d, out, max);

	while (n < max) {
		bool done = cep__window_close_all(d->win, &d->q);
		n += drain(d, out + n, max - n);
		if (done && d->q.count == 0)
			break;
	}
	if (n == 0)
		d->watermark = 0; /* empty again: a new input may start over */
	return n;
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
}
