/*
 * incident.c - joining signals into incidents, scoring and numbering them
 * (include/ceptor/incident.h).
 *
 * The table is a plain open-addressing hash (linear probing, power-of-two
 * size, load factor at most 1/2) over an array of incidents owned by the
 * core thread.  It is never shared, so it needs no RCU or locks; the
 * incidents are allocated in chunks that never move, so handed-out pointers
 * stay valid while the table grows.
 *
 * Keying (incident.h).  A slot holds the current incident of an entity
 * (hashed as ("", entity)) or of a (rule id, key) that names no entity.
 * When the horizon has passed, a new incident takes over the slot and the
 * old one is marked superseded: it stays in the array (its pointers stay
 * valid) but is no longer found, and a rehash skips it.
 *
 * Lifecycle and rate limit.  The table keeps its own event clock (`now`,
 * the newest event time seen) and a lower bound of the earliest time any
 * open incident may close (`next_close`), so that a tick with nothing to
 * close does not walk the table.  A dirty incident is either ready (new,
 * or its class or status changed: due now) or held until its hold ends.
 * The ready ones wait in a heap by the order they became dirty, the held
 * ones in a heap by the end of their hold, so that collect looks only at
 * what is due: with many incidents held it no longer walks them all at
 * every call (a million held made each signal cost 10 us).  Collect hands
 * out in the order incidents became dirty, as the single list it replaces
 * did.  A held incident whose class changes moves to the ready heap and
 * leaves its held entry behind, skipped when it comes up (stale).  So
 * cep_incidents_due(), which the engine asks after every batch of events,
 * is O(1): the ready heap is not empty, or the earliest hold has ended (at
 * worst a stale entry makes one round for nothing, and collect drops it).
 *
 * Id counters.  A new id must be on disk before it leaves, and an fsync
 * costs milliseconds, so the file reserves numbers ahead: it records
 * `saved`, and the table hands out numbers below it without writing.  A
 * save that comes less than ID_SAVE_MS after the previous one multiplies
 * the reserve by ID_RESERVE_GROWTH (up to ID_RESERVE_MAX), a quiet spell
 * of ID_CALM_MS sets it back to 1: a site that opens an incident now and
 * then writes the exact next number as before, one that opens hundreds a
 * second fsyncs about once a second, not once per publish round.  Numbers
 * reserved but not given are released at a clean end
 * (cep_incidents_destroy() writes the exact counters); after a crash they
 * are skipped, never reused.
 *
 * Confidence (the model is in incident.h).  Each incident keeps, per
 * upstream, only values that do not depend on the order evidence came in:
 * the best grades, the latest supporting and contradicting event times,
 * the strongest contradiction.  rescore() recomputes the whole model from
 * them at every change, walking the upstreams in name order (they are kept
 * sorted), so the same set of evidence gives the same double, bit for bit.
 * That costs O(sources) per signal (a division per aged upstream with the
 * default P = 2) and no allocation.
 * The analyst's reliability overrides live in a small table; each source
 * entry caches its lookup under the table's generation, so a lookup runs
 * only after the table changed.
 *
 * The sector graph is borrowed and only read, on the table's thread: the
 * engine swaps it between two rounds and frees the old one itself
 * (engine/loop.c), so nothing here needs to guard it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "core/match.h"
#include "core/sectors.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"

/* ---- the model's weights (README, "How confidence and priority are
 * computed") ----------------------------------------------------------- */

/* Admiralty reliability A..F; F ("cannot be judged") sits at an even
 * chance, above "usually not reliable" (D) and "unreliable" (E). */
static const double rel_weight[CEP_REL_COUNT] = {
	0.5, 1.0, 0.8, 0.6, 0.4, 0.2, 0.5,
};
/* Credibility 1 (confirmed) .. 6 (cannot be judged). */
static const double cred_weight[CEP_CRED_MAX + 1] = {
	0.5, 0.95, 0.8, 0.6, 0.4, 0.2, 0.5,
};
static const double severity_weight[CEP_LEVEL_COUNT] = {
	0.1, 0.1, 0.25, 0.5, 0.75, 1.0,
};
/* Sector criticality and blast radius when the table has no sector graph
 * (unit tests, `ceptorctl rules test`): electricity and telecom feed almost
 * everything, so their outages spread furthest.  K is the same as in
 * rules/sectors.yml. */
static const double crit_weight[CEP_SECTOR_COUNT] = {
	[CEP_SECTOR_UNKNOWN] = 0.5, [CEP_SECTOR_TELECOM] = 1.0,
	[CEP_SECTOR_FINANCE] = 0.9, [CEP_SECTOR_AVIATION] = 0.8,
	[CEP_SECTOR_RAIL] = 0.7, [CEP_SECTOR_ELECTRICITY] = 1.0,
	[CEP_SECTOR_GAS] = 0.8, [CEP_SECTOR_GOVERNMENT] = 0.7,
	[CEP_SECTOR_MEDICAL] = 0.9, [CEP_SECTOR_WATER] = 0.9,
	[CEP_SECTOR_LOGISTICS] = 0.6,
};
static const double blast_weight[CEP_SECTOR_COUNT] = {
	[CEP_SECTOR_UNKNOWN] = 0.5, [CEP_SECTOR_TELECOM] = 1.0,
	[CEP_SECTOR_FINANCE] = 0.8, [CEP_SECTOR_AVIATION] = 0.6,
	[CEP_SECTOR_RAIL] = 0.6, [CEP_SECTOR_ELECTRICITY] = 1.0,
	[CEP_SECTOR_GAS] = 0.7, [CEP_SECTOR_GOVERNMENT] = 0.6,
	[CEP_SECTOR_MEDICAL] = 0.6, [CEP_SECTOR_WATER] = 0.7,
	[CEP_SECTOR_LOGISTICS] = 0.5,
};
static const double priority_floor[4] = { 0.5, 0.3, 0.15, 0.05 };

int cep_incident_priority_of(double score)
{
	for (int i = 0; i < 4; i++)
		if (score >= priority_floor[i])
			return i + 1;
	return 5;
}

const char *cep_incident_status_name(int status)
{
	switch (status) {
	case CEP_INCIDENT_OPEN: return "open";
	case CEP_INCIDENT_UPDATED: return "updated";
	case CEP_INCIDENT_CLOSED: return "closed";
	default: return "?";
	}
}

/* ---- the table -------------------------------------------------------- */

#define CHUNK 1024 /* incidents per allocation; they never move */

struct rel_override {
	char name[CEP_INCIDENT_UPSTREAM_MAX];
	uint8_t grade;
};

/* A binary min-heap of (key, incident index). */
struct dent {
	uint64_t key;
	size_t idx;
};

struct dheap {
	struct dent *v;
	size_t n, cap;
};

static int dheap_push(struct dheap *h, uint64_t key, size_t idx)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct dent *v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	for (i = h->n++; i > 0 && h->v[(i - 1) / 2].key > key; i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i].key = key;
	h->v[i].idx = idx;
	return 0;
}

static struct dent dheap_pop(struct dheap *h)
{
	struct dent top = h->v[0], last = h->v[--h->n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
			c++;
		if (h->v[c].key >= last.key)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* Ids are numbered per (year, class): the year is part of the id, so a
 * late event from an earlier year continues that year's numbers and can
 * never repeat an id. */
struct year_counters {
	int year;
	uint32_t next[5];  /* next number per class */
	uint32_t saved[5]; /* what the state file says: numbers below it may
			      be given without writing */
};

#define ID_SAVE_MS 1000        /* saves closer than this grow the reserve */
#define ID_CALM_MS 10000       /* a pause this long shrinks it back to 1 */
#define ID_RESERVE_GROWTH 16u  /* 1, 16, 256, 4096: three quick saves */
#define ID_RESERVE_MAX 4096u

struct cep_incidents {
	struct cep_incident **chunks;
	size_t nchunks;
	size_t count;
	uint32_t *slots;  /* 0 empty, else index + 1 */
	size_t nslots;    /* power of two */
	/* Dirty incidents (mark_dirty()): ready ones by dirty_seq, held ones
	 * by the end of their hold (a held one may also have a stale entry). */
	struct dheap ready, held;
	uint64_t dirty_seq;  /* the next incident's dirty_seq */
	size_t *pick;        /* collect: indices of what it hands out */
	size_t pick_cap;
	char *state_path;
	struct year_counters *years; /* one entry per year seen */
	size_t nyears;
	bool counters_dirty;
	uint32_t reserve;     /* numbers each save reserves ahead, per class */
	uint64_t saved_ms;    /* monotonic time of the last save; 0: none */
	struct rel_override *overrides; /* analyst feedback, by upstream */
	size_t noverrides, overrides_cap;
	uint32_t override_gen;  /* bumped at every change of overrides */
	const struct cep_sectors *sectors; /* borrowed; NULL: fixed tables */
	uint64_t horizon, close_after, min_update, max_update; /* ns */
	uint64_t now;        /* the newest event time seen */
	uint64_t next_close; /* no open incident closes before it */
	/* Prefix lengths some block incident has (bit n: /n), so that an
	 * address looks only for blocks that exist; never cleared, so at
	 * worst a length is looked up in vain. */
	uint8_t blocks4[5], blocks6[17];
	bool flushing;       /* cep_incidents_flush(): hold nothing */
};

static struct cep_incident *at(const struct cep_incidents *t, size_t i)
{
	return &t->chunks[i / CHUNK][i % CHUNK];
}

/* Signals of one incident share rule id and key, or an entity (hashed with
 * an empty rule id); the key's hash is seeded with the rule id's, the same
 * hash the windows use. */
static uint64_t hash_of(const char *rule_id, const char *key)
{
	return cep__hash_bytes(key, strlen(key),
			       cep__hash_bytes(rule_id, strlen(rule_id), 0));
}

static uint64_t hash_inc(const struct cep_incident *inc)
{
	return inc->entity[0] ? hash_of("", inc->entity)
			      : hash_of(inc->rule_id, inc->key);
}

static struct year_counters *year_find(struct cep_incidents *t, int year,
				       bool add)
{
	for (size_t i = 0; i < t->nyears; i++)
		if (t->years[i].year == year)
			return &t->years[i];
	if (!add)
		return NULL;
	struct year_counters *y = realloc(t->years, (t->nyears + 1) * sizeof *y);
	if (!y)
		return NULL;
	t->years = y;
	y = &t->years[t->nyears++];
	y->year = year;
	for (int i = 0; i < 5; i++)
		y->next[i] = y->saved[i] = 1;
	return y;
}

/* The state file: a header line, then "YEAR N1 N2 N3 N4 N5" per year. */
static int load_state(struct cep_incidents *t)
{
	FILE *f = fopen(t->state_path, "r");
	int rc = 0, year;
	uint32_t n[5];

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fscanf(f, "ceptor-incident-ids %d", &year) != 1 || year != 2)
		rc = -CEP_EMALFORMED;
	while (!rc) {
		int got = fscanf(f, "%d %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32
				 " %" SCNu32, &year, &n[0], &n[1], &n[2], &n[3], &n[4]);
		if (got == EOF)
			break;
		struct year_counters *y = got == 6 ? year_find(t, year, true) : NULL;
		if (!y) {
			rc = got == 6 ? -ENOMEM : -CEP_EMALFORMED;
			break;
		}
		memcpy(y->next, n, sizeof n);
		memcpy(y->saved, n, sizeof n);
	}
	fclose(f);
	if (rc == -CEP_EMALFORMED)
		cep_error("%s: not an incident id state file; move it away to "
			  "start numbering afresh", t->state_path);
	return rc;
}

/* Write to a temporary file, fsync, rename: a crash leaves the old or the
 * new counters, never a torn file.  The file holds `saved`, each class's
 * number past those given and reserved (see the top). */
static int save_state(struct cep_incidents *t)
{
	char tmp[4096];
	int fd, rc = 0;

	if (!t->state_path || !t->counters_dirty)
		return 0;
	/* The next save's reserve, from the pace of the saves. */
	uint64_t now_ms = cep_clock_mono_ms();
	if (t->saved_ms && now_ms - t->saved_ms < ID_SAVE_MS)
		t->reserve = t->reserve >= ID_RESERVE_MAX / ID_RESERVE_GROWTH
				     ? ID_RESERVE_MAX
				     : ID_RESERVE_GROWTH * t->reserve;
	else if (!t->saved_ms || now_ms - t->saved_ms >= ID_CALM_MS)
		t->reserve = 1;
	t->saved_ms = now_ms;
	snprintf(tmp, sizeof tmp, "%s.tmp", t->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	fprintf(f, "ceptor-incident-ids 2\n");
	for (size_t i = 0; i < t->nyears; i++) {
		const struct year_counters *y = &t->years[i];
		fprintf(f, "%d %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
			" %" PRIu32 "\n", y->year, y->saved[0], y->saved[1],
			y->saved[2], y->saved[3], y->saved[4]);
	}
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = -errno;
	fclose(f);
	if (!rc && rename(tmp, t->state_path) != 0)
		rc = -errno;
	if (!rc)
		t->counters_dirty = false;
	return rc;
}

int cep_incidents_create(const struct cep_incidents_config *cfg,
			 struct cep_incidents **out)
{
	struct cep_incidents *t = calloc(1, sizeof *t);
	int rc = -ENOMEM;

	if (!t)
		return -ENOMEM;
	t->nslots = 1024;
	if (!(t->slots = calloc(t->nslots, sizeof *t->slots)))
		goto fail;
	t->horizon = CEP_INCIDENT_HORIZON_NS;
	t->close_after = CEP_INCIDENT_CLOSE_AFTER_NS;
	t->min_update = CEP_INCIDENT_MIN_UPDATE_NS;
	t->max_update = CEP_INCIDENT_MAX_UPDATE_NS;
	t->next_close = UINT64_MAX;
	t->reserve = 1;
	if (cfg) {
		t->sectors = cfg->sectors;
		if (cfg->horizon_ns)
			t->horizon = cfg->horizon_ns;
		if (cfg->close_after_ns)
			t->close_after = cfg->close_after_ns;
		if (cfg->min_update_interval_ns)
			t->min_update = cfg->min_update_interval_ns;
		if (cfg->max_update_interval_ns)
			t->max_update = cfg->max_update_interval_ns;
		if (t->max_update < t->min_update)
			t->max_update = t->min_update;
	}
	if (cfg && cfg->state_path) {
		if (!(t->state_path = strdup(cfg->state_path)))
			goto fail;
		if ((rc = load_state(t)))
			goto fail;
	}
	*out = t;
	return 0;
fail:
	cep_incidents_destroy(t);
	return rc;
}

void cep_incidents_destroy(struct cep_incidents *t)
{
	if (!t)
		return;
	/* Release the numbers reserved and not given: the file gets the
	 * exact counters, so a clean restart numbers on without a gap. */
	bool reserved = false;
	for (size_t i = 0; i < t->nyears; i++)
		for (int c = 0; c < 5; c++)
			if (t->years[i].saved[c] > t->years[i].next[c]) {
				t->years[i].saved[c] = t->years[i].next[c];
				reserved = true;
			}
	if (reserved) {
		t->counters_dirty = true;
		int rc = save_state(t);
		if (rc)
			cep_warn("%s: cannot write the exact id counters (%s); "
				 "the reserved numbers are skipped",
				 t->state_path, cep_strerror(rc));
	}
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	free(t->ready.v);
	free(t->held.v);
	free(t->pick);
	free(t->years);
	free(t->overrides);
	free(t->state_path);
	free(t);
}

void cep_incidents_set_sectors(struct cep_incidents *t,
			       const struct cep_sectors *g)
{
	t->sectors = g;
}

size_t cep_incidents_count(const struct cep_incidents *t)
{
	return t->count;
}

static int grow_slots(struct cep_incidents *t)
{
	size_t n = t->nslots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->count; i++) {
		struct cep_incident *inc = at(t, i);
		if (inc->superseded)
			continue;
		size_t h = hash_inc(inc) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = (uint32_t)(i + 1);
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

/* Due now whatever its hold: new, or a change of class or status (or a
 * flush). */
static bool due_now(const struct cep_incidents *t,
		    const struct cep_incident *inc)
{
	return t->flushing || !inc->version ||
	       inc->priority != inc->pub_priority ||
	       (inc->status == CEP_INCIDENT_CLOSED) != inc->pub_closed;
}

/* The event time its hold ends (saturating). */
static uint64_t hold_end(const struct cep_incident *inc)
{
	return inc->pub_ts > UINT64_MAX - inc->hold_ns ? UINT64_MAX
						       : inc->pub_ts + inc->hold_ns;
}

static int mark_dirty(struct cep_incidents *t, size_t idx)
{
	struct cep_incident *inc = at(t, idx);
	int rc;

	if (inc->dirty) {
		/* Held, and now due at once: to the ready heap; its held
		 * entry goes stale. */
		if (inc->held && due_now(t, inc)) {
			if ((rc = dheap_push(&t->ready, inc->dirty_seq, idx)))
				return rc;
			inc->held = false;
		}
		return 0;
	}
	inc->dirty_seq = t->dirty_seq;
	inc->held = !due_now(t, inc);
	rc = inc->held ? dheap_push(&t->held, hold_end(inc), idx)
		       : dheap_push(&t->ready, inc->dirty_seq, idx);
	if (rc)
		return rc;
	t->dirty_seq++;
	inc->dirty = true;
	return 0;
}

/* ---- confidence --------------------------------------------------------- */

static double rel_w(int rel)
{
	return rel_weight[rel > 0 && rel < CEP_REL_COUNT ? rel : 0];
}

static double cred_w(int cred)
{
	return cred_weight[cred > 0 && cred <= CEP_CRED_MAX ? cred : 0];
}

/* d(a) = (1 + a / TAU)^-P, a = ref - ts in seconds; evidence at or after
 * the reference is not aged. */
static double decay_of(uint64_t ref, uint64_t ts)
{
	if (ts >= ref)
		return 1.0;
	double y = 1.0 + (double)(ref - ts) / 1e9 / CEP_INCIDENT_DECAY_TAU_S;
	/* The default P = 2 spares the per-source pow(). */
	return CEP_INCIDENT_DECAY_P == 2.0 ? 1.0 / (y * y)
					   : pow(y, -CEP_INCIDENT_DECAY_P);
}

/* The credibility agreement alone earns: "confirmed by other sources" (1)
 * from three independent upstreams, "probably true" (2) from two, nothing
 * (CEP_CRED_MAX + 1, worse than any grade) from one. */
static int agreement_cred(uint32_t agreeing)
{
	return agreeing >= 3 ? 1 : agreeing == 2 ? 2 : CEP_CRED_MAX + 1;
}

/* What one upstream puts into the model, as of the incident's reference. */
struct term {
	double weight;   /* R(rel_used) * C(cred_used); 0 if it only contradicts */
	double decay;    /* of its support */
	double decayed;  /* e_u = weight * decay */
	double cdecay;   /* of its contradiction */
	double cdecayed; /* k_u = contra_weight * cdecay */
};

static void term_of(const struct cep_incident *inc,
		    const struct cep_incident_source *src, struct term *tm)
{
	tm->weight = tm->decay = tm->decayed = 0;
	tm->cdecay = tm->cdecayed = 0;
	if (src->supports) {
		tm->weight = rel_w(src->rel_used) * cred_w(src->cred_used);
		tm->decay = decay_of(inc->last_seen, src->last_ts);
		tm->decayed = tm->weight * tm->decay;
	}
	if (src->contradictions) {
		tm->cdecay = decay_of(inc->last_seen, src->contra_ts);
		tm->cdecayed = src->contra_weight * tm->cdecay;
	}
}

/* The reliability an upstream is judged by: the analyst's override, else
 * the best its evidence carried.  The lookup is cached per entry under the
 * overrides' generation. */
static uint8_t override_of(const struct cep_incidents *t, const char *name)
{
	for (size_t i = 0; i < t->noverrides; i++)
		if (strcmp(t->overrides[i].name, name) == 0)
			return t->overrides[i].grade;
	return 0;
}

static void rescore(const struct cep_incidents *t, struct cep_incident *inc)
{
	uint32_t agreeing = 0;
	for (uint32_t i = 0; i < inc->nsources; i++)
		agreeing += inc->sources[i].supports;
	int lift = agreement_cred(agreeing);

	double miss = 1.0, hold = 1.0;
	uint8_t best = 0;
	for (uint32_t i = 0; i < inc->nsources; i++) {
		struct cep_incident_source *src = &inc->sources[i];
		if (src->override_gen != t->override_gen) {
			src->override_rel = override_of(t, src->name);
			src->override_gen = t->override_gen;
		}
		src->rel_used = src->override_rel ? src->override_rel : src->reliability;
		int own = src->credibility ? src->credibility : CEP_CRED_MAX + 1;
		int cred = own < lift ? own : lift;
		/* One upstream alone keeps its own grade, unset included. */
		src->cred_used = cred > CEP_CRED_MAX ? src->credibility : (uint8_t)cred;
		if (src->supports && src->cred_used &&
		    (!best || src->cred_used < best))
			best = src->cred_used;

		struct term tm;
		term_of(inc, src, &tm);
		miss *= 1.0 - tm.decayed;
		hold *= 1.0 - tm.cdecayed;
	}
	inc->agreeing = (uint8_t)agreeing;
	inc->credibility = best;
	inc->support = 1.0 - miss;
	inc->contradiction = 1.0 - hold;
	inc->confidence = inc->support * hold;
	int sev = inc->severity < CEP_LEVEL_COUNT ? inc->severity : 0;
	int sec = inc->sector < CEP_SECTOR_COUNT ? inc->sector : 0;
	double k = t->sectors ? cep_sectors_criticality(t->sectors, sec)
			      : crit_weight[sec];
	double b = t->sectors ? cep_sectors_blast(t->sectors, sec)
			      : blast_weight[sec];
	inc->score = severity_weight[sev] * inc->confidence * k * b;
	inc->priority = (uint8_t)cep_incident_priority_of(inc->score);
}

/* An incident with no sector whose evidence names a critical-system class
 * takes the first sector (event.h order) that runs that class; only the
 * graph knows which do. */
static void sector_from_system(const struct cep_incidents *t,
			       struct cep_incident *inc, const struct cep_event *ev)
{
	uint32_t mask;

	if (!inc->system && ev->system && ev->system < CEP_SYSTEM_COUNT)
		inc->system = ev->system;
	if (inc->sector != CEP_SECTOR_UNKNOWN || !inc->system || !t->sectors ||
	    cep_sectors_for_system(t->sectors, inc->system, &mask) <= 0)
		return;
	for (int s = 1; s < CEP_SECTOR_COUNT; s++)
		if (mask & CEP_SECTOR_BIT(s)) {
			inc->sector = (uint8_t)s;
			inc->advised = 0; /* predict again from the new sector */
			return;
		}
}

/* "op-" and 32 lower-case hex digits: a keyed pseudonym. */
static bool is_pseudonym(const char *name)
{
	if (strncmp(name, "op-", 3) != 0)
		return false;
	for (int i = 3; i < 35; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[35] == '\0';
}

/* The upstream key of an event: who originally said it. */
static const char *upstream_of(const struct cep_event *ev)
{
	return ev->reporter[0] ? ev->reporter : ev->source;
}

/* The entry of upstream name, inserted at its sorted place when absent;
 * NULL when the incident has no room left (the caller counts the drop). */
static struct cep_incident_source *source_entry(struct cep_incident *inc,
						const char *name)
{
	uint32_t i = 0;
	int cmp = 1;
	for (; i < inc->nsources; i++) {
		cmp = strncmp(inc->sources[i].name, name, CEP_INCIDENT_UPSTREAM_MAX);
		if (cmp >= 0)
			break;
	}
	if (i < inc->nsources && cmp == 0)
		return &inc->sources[i];
	if (inc->nsources == CEP_INCIDENT_MAX_SOURCES)
		return NULL;
	memmove(&inc->sources[i + 1], &inc->sources[i],
		(inc->nsources - i) * sizeof inc->sources[0]);
	inc->nsources++;
	struct cep_incident_source *src = &inc->sources[i];
	memset(src, 0, sizeof *src);
	/* Both event fields are NUL-terminated and shorter than the key. */
	snprintf(src->name, sizeof src->name, "%s", name);
	src->override_gen = UINT32_MAX; /* look the override up at rescore */
	return src;
}

static void count_drop(struct cep_incident *inc)
{
	if (inc->dropped_sources < UINT16_MAX)
		inc->dropped_sources++;
}

/* A supporting signal: the upstream keeps its best grades and its latest
 * time; `counted` says whether the signal is new evidence (a window's
 * final signal refreshes the upstream but is not counted twice). */
static void add_support(struct cep_incident *inc, const struct cep_signal *s,
			bool counted)
{
	const struct cep_event *ev = &s->ev;
	struct cep_incident_source *src = source_entry(inc, upstream_of(ev));
	if (!src) {
		count_drop(inc); /* the confidence is saturated long before */
		return;
	}
	if (counted)
		src->signals++;
	src->supports = 1;
	if (ev->reporter[0])
		src->reporter = 1;
	if (ev->reliability && (!src->reliability || ev->reliability < src->reliability))
		src->reliability = ev->reliability;
	if (ev->credibility && (!src->credibility || ev->credibility < src->credibility))
		src->credibility = ev->credibility;
	if (s->last_ts > src->last_ts)
		src->last_ts = s->last_ts;
}

static int contradict(struct cep_incident *inc, const char *upstream,
		      double weight, uint64_t ts)
{
	struct cep_incident_source *src = source_entry(inc, upstream);
	if (!src) {
		count_drop(inc);
		return -ENOSPC;
	}
	if (src->contradictions < UINT16_MAX)
		src->contradictions++;
	if (weight > src->contra_weight)
		src->contra_weight = weight;
	if (ts > src->contra_ts)
		src->contra_ts = ts;
	if (ts > inc->last_seen)
		inc->last_seen = ts;
	return 0;
}

int cep_incidents_set_reliability(struct cep_incidents *t,
				  const char *upstream, int grade)
{
	if (grade < CEP_REL_NONE || grade >= CEP_REL_COUNT)
		return -EINVAL;
	if (strlen(upstream) >= CEP_INCIDENT_UPSTREAM_MAX)
		return -CEP_ETOOLONG;
	size_t i = 0;
	while (i < t->noverrides && strcmp(t->overrides[i].name, upstream) != 0)
		i++;
	if (grade == CEP_REL_NONE) {
		if (i == t->noverrides)
			return 0;
		t->overrides[i] = t->overrides[--t->noverrides];
	} else {
		if (i == t->noverrides) {
			if (t->noverrides == t->overrides_cap) {
				size_t cap = t->overrides_cap ? t->overrides_cap * 2 : 16;
				struct rel_override *o =
					realloc(t->overrides, cap * sizeof *o);
				if (!o)
					return -ENOMEM;
				t->overrides = o;
				t->overrides_cap = cap;
			}
			snprintf(t->overrides[i].name, sizeof t->overrides[i].name,
				 "%s", upstream);
			t->noverrides++;
		}
		t->overrides[i].grade = (uint8_t)grade;
	}
	/* Entries start at UINT32_MAX; the generation never takes it. */
	if (++t->override_gen == UINT32_MAX)
		t->override_gen = 0;
	return 0;
}

int cep_incidents_reliability(const struct cep_incidents *t,
			      const char *upstream)
{
	return override_of(t, upstream);
}

int cep_incidents_override(const struct cep_incidents *t, size_t i,
			   const char **name)
{
	if (i >= t->noverrides)
		return CEP_REL_NONE;
	*name = t->overrides[i].name;
	return t->overrides[i].grade;
}

int cep_rel_step(int grade, int dir)
{
	if (grade < CEP_REL_A || grade > CEP_REL_E)
		return grade;
	if (dir < 0 && grade > CEP_REL_A)
		return grade - 1;
	if (dir > 0 && grade < CEP_REL_E)
		return grade + 1;
	return grade;
}

static struct cep_incident *find_id(const struct cep_incidents *t,
				    const char *id, size_t *idx)
{
	if (!id || !id[0])
		return NULL;
	for (size_t i = t->count; i-- > 0;) {
		struct cep_incident *inc = at(t, i);
		if (strcmp(inc->id, id) == 0) {
			*idx = i;
			return inc;
		}
	}
	return NULL;
}

struct cep_incident *cep_incidents_find_id(struct cep_incidents *t,
					   const char *id)
{
	size_t idx;
	return find_id(t, id, &idx);
}

int cep_incidents_close_id(struct cep_incidents *t, const char *id)
{
	size_t idx;
	struct cep_incident *inc = find_id(t, id, &idx);
	if (!inc)
		return -ENOENT;
	inc->status = CEP_INCIDENT_CLOSED;
	rescore(t, inc);
	return mark_dirty(t, idx);
}

static int year_of(uint64_t ts)
{
	time_t sec = (time_t)(ts / 1000000000u);
	struct tm tm;
	gmtime_r(&sec, &tm);
	return tm.tm_year + 1900;
}

static int assign_id(struct cep_incidents *t, struct cep_incident *inc)
{
	int year = year_of(inc->first_seen);
	struct year_counters *y = year_find(t, year, true);
	if (!y)
		return -ENOMEM;
	int c = inc->priority - 1;
	uint32_t n = y->next[c]++;
	if (y->next[c] > y->saved[c]) {
		/* Past the reserve: the next save reserves again. */
		y->saved[c] = y->next[c] + t->reserve - 1;
		t->counters_dirty = true;
	}
	snprintf(inc->id, sizeof inc->id, "P%u-%04d-%06" PRIu32,
		 (unsigned)inc->priority, year, n);
	return 0;
}

/* A detection rule without group-by leaves the key empty; its entity is
 * then the event's network block when its indicator is one (an indicator
 * list's CIDR entry), else its source address, else its indicator, else
 * for an operator report the operator's system, else the report, else its
 * source, so that hits about different hosts stay different incidents. */
static void entity_key(const struct cep_signal *s, char key[CEP_SIGNAL_KEY_MAX])
{
	char ip[CEP_IP_STRLEN];
	const struct cep_event *ev = &s->ev;

	if (s->key[0])
		memcpy(key, s->key, CEP_SIGNAL_KEY_MAX);
	else if (ev->indicator[0] && strchr(ev->indicator, '/') &&
		 (ev->kind == CEP_KIND_INTEL || !ev->src_af))
		snprintf(key, CEP_SIGNAL_KEY_MAX, "indicator=%s", ev->indicator);
	else if (ev->src_af)
		snprintf(key, CEP_SIGNAL_KEY_MAX, "src_ip=%s",
			 cep_ip_format(ev->src_af, ev->src_ip, ip));
	else if (ev->indicator[0])
		snprintf(key, CEP_SIGNAL_KEY_MAX, "indicator=%s", ev->indicator);
	else if (ev->report_id[0] && ev->reporter[0] && ev->system && ev->name[0])
		/* An operator's system (its class and software): its reports,
		 * whatever their ids, are one incident (the report's own id
		 * still joins, see lookup_wider()). */
		snprintf(key, CEP_SIGNAL_KEY_MAX, "reporter=%s,system=%s/%s",
			 ev->reporter, cep_system_name(ev->system), ev->name);
	else if (ev->report_id[0])
		/* An operator report with no address: the report is the entity
		 * (its updates join it; other operators' reports stay apart). */
		snprintf(key, CEP_SIGNAL_KEY_MAX, "report_id=%s", ev->report_id);
	else
		snprintf(key, CEP_SIGNAL_KEY_MAX, "source=%s", ev->source);
}

/* "A/LEN" with A an address and LEN its prefix length, host bits cleared,
 * into addr and *len; the family (4 or 6), or 0 when v is no block. */
static int parse_block(const char *v, uint8_t addr[16], unsigned *len)
{
	char ip[CEP_IP_STRLEN];
	const char *slash = strchr(v, '/');
	char *end;

	if (!slash || (size_t)(slash - v) >= sizeof ip || !slash[1])
		return 0;
	memcpy(ip, v, (size_t)(slash - v));
	ip[slash - v] = '\0';
	int af = cep_ip_parse(ip, addr);
	unsigned long n = strtoul(slash + 1, &end, 10);
	unsigned max = af == 4 ? 32 : 128;
	if ((af != 4 && af != 6) || *end || slash[1] < '0' || slash[1] > '9' ||
	    n > max)
		return 0;
	for (unsigned b = (unsigned)n; b < max; b++)
		addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	*len = (unsigned)n;
	return af;
}

static void block_entity(int af, const uint8_t addr[16], unsigned len,
			 char ent[CEP_SIGNAL_KEY_MAX])
{
	char ip[CEP_IP_STRLEN];
	int caf = af == 4 ? CEP_AF_INET : CEP_AF_INET6;

	if (len == (af == 4 ? 32u : 128u))
		snprintf(ent, CEP_SIGNAL_KEY_MAX, "ip:%s", cep_ip_format(caf, addr, ip));
	else
		snprintf(ent, CEP_SIGNAL_KEY_MAX, "prefix:%s/%u",
			 cep_ip_format(caf, addr, ip), len);
}

/* The value of @field in the two-field key "a=x,b=y" into out; false when
 * the key has another shape or lacks the field. */
static bool pair_value(const char *key, const char *field, char *out,
		       size_t size)
{
	const char *comma = strchr(key, ',');
	size_t flen = strlen(field);

	if (!comma || strchr(comma + 1, ','))
		return false;
	for (const char *p = key; p; p = p == key ? comma + 1 : NULL) {
		if (!strncmp(p, field, flen) && p[flen] == '=') {
			const char *v = p + flen + 1;
			size_t n = p == key ? (size_t)(comma - v) : strlen(v);
			if (!n || n >= size)
				return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

/*
 * The entity a key names, in normal form (incident.h, "Keying"), into ent;
 * "" when it names none (several fields, or a field that is no entity).
 * An address or block is parsed and written again, so that every spelling
 * of one is one entity.
 */
static void entity_of(const char *key, char ent[CEP_SIGNAL_KEY_MAX])
{
	char field[16], ip[CEP_IP_STRLEN], rep[CEP_SIGNAL_KEY_MAX], sys[64];
	uint8_t addr[16];
	const char *eq = strchr(key, '=');
	size_t flen = eq ? (size_t)(eq - key) : 0;
	const char *v = eq ? eq + 1 : NULL;
	unsigned len;
	int af;

	ent[0] = '\0';
	if (pair_value(key, "reporter", rep, sizeof rep) &&
	    pair_value(key, "system", sys, sizeof sys)) {
		snprintf(ent, CEP_SIGNAL_KEY_MAX, "system:%.63s@%.55s", sys, rep);
		return;
	}
	if (!eq || flen == 0 || flen >= sizeof field || strchr(key, ',') || !v[0])
		return;
	memcpy(field, key, flen);
	field[flen] = '\0';
	bool address = !strcmp(field, "src_ip") || !strcmp(field, "dst_ip") ||
		       !strcmp(field, "addr");
	if (address || !strcmp(field, "indicator") || !strcmp(field, "prefix")) {
		af = cep_ip_parse(v, addr);
		if (af == 4 || af == 6) {
			snprintf(ent, CEP_SIGNAL_KEY_MAX, "ip:%s",
				 cep_ip_format(af == 4 ? CEP_AF_INET : CEP_AF_INET6,
					       addr, ip));
			return;
		}
		if ((af = parse_block(v, addr, &len))) {
			block_entity(af, addr, len, ent);
			return;
		}
		if (strcmp(field, "indicator") != 0)
			return; /* not an address after all: per rule */
		int n = snprintf(ent, CEP_SIGNAL_KEY_MAX, "indicator:%s", v);
		for (int i = (int)sizeof "indicator:" - 1;
		     i < n && i < CEP_SIGNAL_KEY_MAX; i++)
			if (ent[i] >= 'A' && ent[i] <= 'Z')
				ent[i] = (char)(ent[i] - 'A' + 'a');
	} else if (!strcmp(field, "report_id")) {
		snprintf(ent, CEP_SIGNAL_KEY_MAX, "report:%s", v);
	}
}

/* The current incident of entity ent, or when ent is "", of (rule_id,
 * key), among exercise incidents when ex is 1, others when 0, either when
 * -1 (an exercise never joins real evidence, nor the reverse); NULL when
 * none.  *slot is where it is or where it would go, *idx its index. */
static struct cep_incident *lookup(const struct cep_incidents *t,
				   const char *rule_id, const char *key,
				   const char *ent, int ex, size_t *slot,
				   size_t *idx)
{
	size_t i = (ent[0] ? hash_of("", ent) : hash_of(rule_id, key)) &
		   (t->nslots - 1);
	for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
		struct cep_incident *c = at(t, t->slots[i] - 1);
		bool hit = ent[0] ? strcmp(c->entity, ent) == 0
				  : !c->entity[0] && strcmp(c->rule_id, rule_id) == 0 &&
				    strcmp(c->key, key) == 0;
		if (hit && (ex < 0 || c->exercise == ex)) {
			*slot = i;
			*idx = t->slots[i] - 1;
			return c;
		}
	}
	*slot = i;
	return NULL;
}

/* Whether inc is current for evidence at ts: not past the horizon. */
static bool within(const struct cep_incidents *t,
		   const struct cep_incident *inc, uint64_t ts)
{
	return ts <= inc->last_seen || ts - inc->last_seen <= t->horizon;
}

/*
 * A signal about an address that has no incident of its own joins the
 * incident of the most specific network block holding it (an indicator
 * list's CIDR entry), when one is current; a signal about an operator's
 * system joins its report's incident when that report already has one
 * (a first fragment that named no system).  Returns the incident found,
 * with ent, *slot and *idx set to it, or NULL leaving them alone.
 */
static struct cep_incident *lookup_wider(const struct cep_incidents *t,
					 const struct cep_signal *s, int ex,
					 char ent[CEP_SIGNAL_KEY_MAX],
					 size_t *slot, size_t *idx)
{
	char alt[CEP_SIGNAL_KEY_MAX];
	struct cep_incident *inc;
	size_t sl, ix;

	if (!strncmp(ent, "system:", 7) && s->ev.report_id[0]) {
		snprintf(alt, sizeof alt, "report:%s", s->ev.report_id);
		inc = lookup(t, s->rule_id, "", alt, ex, &sl, &ix);
		if (inc && within(t, inc, s->last_ts)) {
			memcpy(ent, alt, CEP_SIGNAL_KEY_MAX);
			*slot = sl, *idx = ix;
			return inc;
		}
		return NULL;
	}
	if (strncmp(ent, "ip:", 3) != 0)
		return NULL;
	uint8_t addr[16], net[16];
	int af = cep_ip_parse(ent + 3, addr);
	const uint8_t *lens = af == 4 ? t->blocks4 : t->blocks6;
	for (int len = af == 4 ? 31 : 127; len >= 0; len--) {
		if (!(lens[len / 8] & (1u << (len % 8))))
			continue;
		memcpy(net, addr, sizeof net);
		for (int b = len; b < (af == 4 ? 32 : 128); b++)
			net[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		block_entity(af, net, (unsigned)len, alt);
		inc = lookup(t, s->rule_id, "", alt, ex, &sl, &ix);
		if (inc && within(t, inc, s->last_ts)) {
			memcpy(ent, alt, CEP_SIGNAL_KEY_MAX);
			*slot = sl, *idx = ix;
			return inc;
		}
	}
	return NULL;
}

int cep_incidents_contradict(struct cep_incidents *t, const char *rule_id,
			     const char *key, const char *upstream,
			     double weight, uint64_t ts)
{
	char ent[CEP_SIGNAL_KEY_MAX];
	size_t slot, idx;

	entity_of(key, ent);
	struct cep_incident *inc = lookup(t, rule_id, key, ent, -1, &slot, &idx);
	if (!(weight >= 0.0 && weight <= 1.0)) /* NaN too */
		return -EINVAL;
	if (inc && ent[0]) {
		/* The entity's incident, if rule_id contributed to it. */
		uint8_t i = 0;
		while (i < inc->nrules && strcmp(inc->rules[i].id, rule_id) != 0)
			i++;
		if (i == inc->nrules)
			inc = NULL;
	}
	if (!inc)
		return -ENOENT;
	int rc = contradict(inc, upstream, weight, ts);
	if (rc)
		return rc;
	if (inc->version > 0 && inc->status != CEP_INCIDENT_CLOSED)
		inc->status = CEP_INCIDENT_UPDATED;
	rescore(t, inc);
	return mark_dirty(t, idx);
}

/* Record rule of signal s (with its key for this incident) among the
 * contributors and take rule_id, title, key and type from the most severe,
 * the first among equals. */
static void add_rule(struct cep_incident *inc, const struct cep_signal *s,
		     const char *key, bool counted)
{
	uint8_t i = 0;
	while (i < inc->nrules && strcmp(inc->rules[i].id, s->rule_id) != 0)
		i++;
	if (i == inc->nrules) {
		if (inc->nrules == CEP_INCIDENT_MAX_RULES) {
			if (inc->dropped_rules < UINT16_MAX)
				inc->dropped_rules++;
			return;
		}
		struct cep_incident_rule *r = &inc->rules[inc->nrules++];
		memset(r, 0, sizeof *r);
		memcpy(r->id, s->rule_id, sizeof r->id);
		r->id[sizeof r->id - 1] = '\0';
		memcpy(r->title, s->title, sizeof r->title);
		r->title[sizeof r->title - 1] = '\0';
		memcpy(r->key, key, sizeof r->key);
		r->type = s->type ? s->type : s->ev.type;
	}
	struct cep_incident_rule *r = &inc->rules[i];
	if (counted)
		r->signals++;
	if (s->level > r->level)
		r->level = s->level;
	uint8_t lead = 0;
	for (uint8_t k = 1; k < inc->nrules; k++)
		if (inc->rules[k].level > inc->rules[lead].level)
			lead = k;
	if (lead == inc->lead && inc->rule_id[0])
		return;
	inc->lead = lead;
	r = &inc->rules[lead];
	memcpy(inc->rule_id, r->id, sizeof inc->rule_id);
	memcpy(inc->title, r->title, sizeof inc->title);
	memcpy(inc->key, r->key, sizeof inc->key);
	inc->type = r->type;
}

/* A new incident for s at index idx of slot (taking over the slot from a
 * superseded one, if any); -ENOMEM when the table cannot grow. */
static int open_incident(struct cep_incidents *t, const struct cep_signal *s,
			 const char *key, const char *ent, size_t slot,
			 size_t *idx)
{
	if (t->count == t->nchunks * CHUNK) {
		struct cep_incident **c =
			realloc(t->chunks, (t->nchunks + 1) * sizeof *c);
		if (!c)
			return -ENOMEM;
		t->chunks = c;
		if (!(c[t->nchunks] = calloc(CHUNK, sizeof **c)))
			return -ENOMEM;
		t->nchunks++;
	}
	*idx = t->count++;
	struct cep_incident *inc = at(t, *idx);
	memset(inc, 0, sizeof *inc);
	memcpy(inc->entity, ent, sizeof inc->entity);
	inc->status = CEP_INCIDENT_OPEN;
	inc->first_seen = s->first_ts;
	inc->sector = s->ev.sector;
	inc->entity_af = s->ev.src_af;
	memcpy(inc->entity_ip, s->ev.src_ip, sizeof inc->entity_ip);
	if (!strncmp(ent, "ip:", 3)) {
		/* The entity's own address, whichever side it was on. */
		int af = cep_ip_parse(ent + 3, inc->entity_ip);
		inc->entity_af = af == 4 ? CEP_AF_INET : CEP_AF_INET6;
	} else if (!strncmp(ent, "prefix:", 7)) {
		/* A block: its addresses find it (lookup_wider()). */
		unsigned len;
		int af = parse_block(ent + 7, inc->entity_ip, &len);
		inc->entity_af = 0;
		uint8_t *lens = af == 4 ? t->blocks4 : t->blocks6;
		lens[len / 8] |= (uint8_t)(1u << (len % 8));
	}
	inc->exercise = (s->ev.flags & CEP_EV_EXERCISE) != 0;
	add_rule(inc, s, key, false);
	t->slots[slot] = (uint32_t)(*idx + 1);
	return 0;
}

int cep_incidents_signal(struct cep_incidents *t, const struct cep_signal *s)
{
	char key[CEP_SIGNAL_KEY_MAX], ent[CEP_SIGNAL_KEY_MAX];
	entity_key(s, key);
	entity_of(key, ent);
	size_t slot, idx = 0;
	int ex = (s->ev.flags & CEP_EV_EXERCISE) != 0;
	struct cep_incident *inc = lookup(t, s->rule_id, key, ent, ex, &slot, &idx);
	int rc;

	if ((!inc || !within(t, inc, s->last_ts)) && s->kind != CEP_SIGNAL_CLEAR) {
		size_t wslot, widx;
		struct cep_incident *w = lookup_wider(t, s, ex, ent, &wslot, &widx);
		if (w)
			inc = w, slot = wslot, idx = widx;
	}

	if (s->last_ts > t->now)
		t->now = s->last_ts;
	/* Past the horizon the entity's incident is over: evidence opens a
	 * new one (and a clear has nothing to clear). */
	if (inc && s->last_ts > inc->last_seen &&
	    s->last_ts - inc->last_seen > t->horizon) {
		if (s->kind == CEP_SIGNAL_CLEAR)
			return 0;
		inc->superseded = true;
		inc = NULL;
	}

	/* alert_clear: the condition went away.  The incident it raised is
	 * closed (and republished), and the clear's upstream contradicts it
	 * with the weight of its own grades; a clear with no incident says
	 * nothing. */
	if (s->kind == CEP_SIGNAL_CLEAR) {
		if (!inc)
			return 0;
		const char *up = upstream_of(&s->ev);
		uint8_t rel = override_of(t, up);
		double w = rel_w(rel ? rel : s->ev.reliability) *
			   cred_w(s->ev.credibility);
		(void)contradict(inc, up, w, s->last_ts); /* a drop is counted */
		if (s->ev.reporter[0]) {
			struct cep_incident_source *src = source_entry(inc, up);
			if (src)
				src->reporter = 1;
		}
		inc->status = CEP_INCIDENT_CLOSED;
		rescore(t, inc);
		return mark_dirty(t, idx);
	}
	if (!inc) {
		if ((t->count + 1) * 2 > t->nslots) {
			if (grow_slots(t))
				return -ENOMEM;
			return cep_incidents_signal(t, s);
		}
		if ((rc = open_incident(t, s, key, ent, slot, &idx)))
			return rc;
		inc = at(t, idx);
	} else if (inc->status == CEP_INCIDENT_CLOSED) {
		/* Evidence within the horizon reopens it. */
		inc->status = inc->version > 0 ? CEP_INCIDENT_UPDATED
					       : CEP_INCIDENT_OPEN;
	} else if (inc->version > 0) {
		inc->status = CEP_INCIDENT_UPDATED;
	}
	if (s->first_ts < inc->first_seen)
		inc->first_seen = s->first_ts;
	if (s->last_ts > inc->last_seen)
		inc->last_seen = s->last_ts;
	if (inc->last_seen + t->close_after < t->next_close)
		t->next_close = inc->last_seen + t->close_after;
	if (s->count > inc->count)
		inc->count = s->count;
	if (s->level > inc->severity)
		inc->severity = s->level;
	/* The strictest marking of the evidence wins, each piece's marking
	 * lowered first where its rule says it may be (tlp_lower_to), but
	 * never a RED one: only its source can release that. */
	uint8_t tlp = s->ev.tlp;
	if (s->tlp_lower && tlp > s->tlp_lower && tlp != CEP_TLP_RED)
		tlp = s->tlp_lower;
	if (tlp > inc->tlp)
		inc->tlp = tlp;
	if (s->ev.tlp == CEP_TLP_RED) {
		/* Each RED piece may go only where its own source said (its
		 * named recipients, else its own sector): the incident, to
		 * where all of them agree. */
		uint16_t to = (uint16_t)cep_event_recipients(&s->ev);
		if (!to)
			to = (uint16_t)(1u << s->ev.sector);
		inc->red_to = inc->red_to & CEP_INCIDENT_RED_SET
				      ? (uint16_t)(inc->red_to & (to | CEP_INCIDENT_RED_SET))
				      : (uint16_t)(to | CEP_INCIDENT_RED_SET);
	}
	/* A window's final signal updates its count; it is not new evidence,
	 * unless it is all there is (a condition with only upper bounds, such
	 * as `lt: 5`, can only be judged when its window closes). */
	bool counted = !s->final || inc->evidence == 0;
	if (counted)
		inc->evidence++;
	add_rule(inc, s, key, counted);
	sector_from_system(t, inc, &s->ev);
	/* Either way it is its upstream's latest word: the decay of that
	 * upstream restarts from it. */
	add_support(inc, s, counted);
	rescore(t, inc);
	return mark_dirty(t, idx);
}

int cep_incidents_tick(struct cep_incidents *t, uint64_t now)
{
	int closed = 0;

	if (now > t->now)
		t->now = now;
	if (t->now < t->next_close)
		return 0;
	t->next_close = UINT64_MAX;
	for (size_t i = 0; i < t->count; i++) {
		struct cep_incident *inc = at(t, i);
		if (inc->superseded || inc->status == CEP_INCIDENT_CLOSED)
			continue;
		uint64_t due = inc->last_seen + t->close_after;
		if (due >= t->now) {
			if (due < t->next_close)
				t->next_close = due;
			continue;
		}
		uint8_t was = inc->status;
		inc->status = CEP_INCIDENT_CLOSED;
		if (mark_dirty(t, i)) {
			inc->status = was;
			t->next_close = 0; /* try again at the next tick */
			return -ENOMEM;
		}
		closed++;
	}
	return closed;
}

void cep_incidents_flush(struct cep_incidents *t)
{
	t->flushing = true;
}

bool cep_incidents_due(const struct cep_incidents *t, uint64_t now)
{
	if (now < t->now)
		now = t->now;
	/* A hold ends at its key in the held heap.  Closing is left to the
	 * rounds at publish_interval_ms: tick() walks the whole table to
	 * close, and a close is no news that waits on a latency goal. */
	return t->flushing || t->ready.n ||
	       (t->held.n && t->held.v[0].key <= now);
}

/*
 * Whether an incident of type @type is an outage that can spill into the
 * sectors that depend on the hit one: denial of service, loss of power or
 * communications, facility damage, disasters, and the IT failures operators
 * report (misconfiguration, defect, maintenance, outsourcing, management).
 * A scan, a C2 contact or a vulnerability says nothing about spill-over.
 */
static bool outage_type(int type)
{
	switch (type) {
	case CEP_TYPE_DOS: case CEP_TYPE_POWER_LOSS: case CEP_TYPE_COMM_LOSS:
	case CEP_TYPE_FACILITY_DAMAGE: case CEP_TYPE_EARTHQUAKE:
	case CEP_TYPE_FLOOD: case CEP_TYPE_LIGHTNING: case CEP_TYPE_FIRE:
	case CEP_TYPE_MISCONFIG: case CEP_TYPE_DEFECT: case CEP_TYPE_MAINTENANCE:
	case CEP_TYPE_OUTSOURCING: case CEP_TYPE_MGMT_FAILURE:
		return true;
	default:
		return false;
	}
}

/* The prediction, at first publication and when the class rises (the
 * priority number falls); see incident.h, "Predicted impact". */
static void predict(const struct cep_incidents *t, struct cep_incident *inc)
{
	struct cep_sectors_hit hit[CEP_SECTORS_MAX];
	int n;

	inc->advise = 0;
	if (inc->advised && inc->priority >= inc->advised)
		return;
	inc->advised = inc->priority;
	inc->nimpact = 0;
	if (!t->sectors || !outage_type(inc->type))
		return;
	n = cep_sectors_impact(t->sectors, inc->sector, hit, CEP_SECTORS_MAX);
	for (int i = 0; i < n && inc->nimpact < CEP_INCIDENT_IMPACT_MAX; i++) {
		struct cep_incident_impact *im = &inc->impact[inc->nimpact];
		if (hit[i].sector == CEP_SECTOR_UNKNOWN || hit[i].sector == inc->sector)
			continue;
		im->sector = hit[i].sector;
		im->via = hit[i].via;
		im->hops = hit[i].hops;
		im->delay_s = hit[i].delay_s;
		im->strength = hit[i].strength;
		im->impact = hit[i].impact;
		inc->nimpact++;
	}
	inc->advise = inc->nimpact > 0;
}

/* Whether a changed incident may go out now (incident.h, "Rate limit"). */
static bool due(const struct cep_incidents *t, const struct cep_incident *inc)
{
	return due_now(t, inc) || t->now >= hold_end(inc);
}

/* The hold after this publication: reset by a change of class or status,
 * or by a calm spell; doubled for an incident that changes at every
 * chance. */
static void rate_published(const struct cep_incidents *t,
			   struct cep_incident *inc)
{
	bool calm = !inc->version || inc->priority != inc->pub_priority ||
		    (inc->status == CEP_INCIDENT_CLOSED) != inc->pub_closed ||
		    t->now < inc->pub_ts || t->now - inc->pub_ts >= 2 * inc->hold_ns;
	if (calm)
		inc->hold_ns = t->min_update;
	else
		inc->hold_ns = inc->hold_ns > t->max_update / 2 ? t->max_update
							       : 2 * inc->hold_ns;
	inc->pub_ts = t->now;
	inc->pub_priority = inc->priority;
	inc->pub_closed = inc->status == CEP_INCIDENT_CLOSED;
}

int cep_incidents_collect(struct cep_incidents *t, struct cep_incident **out,
			  size_t max)
{
	size_t n = 0, i;
	int rc = 0;

	if (max > t->pick_cap) {
		size_t *p = realloc(t->pick, max * sizeof *p);
		if (!p)
			return -ENOMEM;
		t->pick = p;
		t->pick_cap = max;
	}
	/* Holds that ended (all of them on a flush) make their incidents
	 * ready; stale entries (published or made ready since) are dropped. */
	while (t->held.n && (t->flushing || t->held.v[0].key <= t->now)) {
		struct dent d = dheap_pop(&t->held);
		struct cep_incident *inc = at(t, d.idx);
		if (!inc->dirty || !inc->held || hold_end(inc) != d.key)
			continue;
		if ((rc = dheap_push(&t->ready, inc->dirty_seq, d.idx))) {
			/* Put it back: nothing is lost, only later. */
			dheap_push(&t->held, d.key, d.idx);
			return rc;
		}
		inc->held = false;
	}
	/* The due ones, in the order they became dirty.  One that is no
	 * longer due (its class changed back within its hold) is held
	 * again. */
	while (n < max && t->ready.n) {
		struct dent d = dheap_pop(&t->ready);
		struct cep_incident *inc = at(t, d.idx);
		if (due(t, inc)) {
			t->pick[n] = d.idx;
			out[n++] = inc;
			continue;
		}
		if ((rc = dheap_push(&t->held, hold_end(inc), d.idx))) {
			/* Where it was (the room is there): a later call. */
			dheap_push(&t->ready, d.key, d.idx);
			break;
		}
		inc->held = true;
	}
	/* Numbers are given out here, at first publication, so that the
	 * class in the id is the one the first reader sees. */
	for (i = 0; i < n && !rc; i++)
		if (!out[i]->id[0])
			rc = assign_id(t, out[i]);
	if (!rc)
		rc = save_state(t);
	if (rc) {
		/* Back to the ready heap as they were: a later call retries
		 * (at worst with numbers given out and not yet saved). */
		for (i = 0; i < n; i++)
			dheap_push(&t->ready, out[i]->dirty_seq, t->pick[i]);
		return rc;
	}
	for (i = 0; i < n; i++) {
		struct cep_incident *inc = out[i];
		rate_published(t, inc);
		inc->dirty = false;
		inc->version++;
		predict(t, inc);
	}
	if (n < max)
		t->flushing = false; /* all that was held went out */
	return (int)n;
}

/* ---- sharing ------------------------------------------------------------ */

static const char *prefix_of(const struct cep_incident *inc)
{
	return inc->exercise ? "ceptor-exercise" : "ceptor";
}

void cep_incident_stream(const struct cep_incident *inc, char *buf,
			 size_t size)
{
	snprintf(buf, size, "%s:{%s}:incidents", prefix_of(inc),
		 cep_sector_name(inc->sector));
}

void cep_incident_council_stream(const struct cep_incident *inc, char *buf,
				 size_t size)
{
	snprintf(buf, size, "%s:{council}:incidents", prefix_of(inc));
}

void cep_incident_sector_stream(const struct cep_incident *inc, int sector,
				char *buf, size_t size)
{
	snprintf(buf, size, "%s:{%s}:incidents", prefix_of(inc),
		 cep_sector_name(sector));
}

void cep_incident_advisory_stream(const struct cep_incident *inc, int sector,
				  char *buf, size_t size)
{
	snprintf(buf, size, "%s:{%s}:advisories", prefix_of(inc),
		 cep_sector_name(sector));
}

/* first_seen + delay, the expected time of arrival of an impact. */
static uint64_t expected_at(const struct cep_incident *inc,
			    const struct cep_incident_impact *im)
{
	return inc->first_seen + (uint64_t)im->delay_s * 1000000000ull;
}

static void write_impact(struct cep_jw *w, const struct cep_incident *inc)
{
	char tmp[CEP_TIME_STRLEN];

	cep_jw_open(w, "impact", '[');
	for (uint8_t i = 0; i < inc->nimpact; i++) {
		const struct cep_incident_impact *im = &inc->impact[i];
		cep_jw_open(w, NULL, '{');
		cep_jw_str(w, "sector", cep_sector_name(im->sector));
		cep_jw_double(w, "strength", im->strength, 4);
		cep_jw_double(w, "impact", im->impact, 4);
		cep_jw_u64(w, "delay_s", im->delay_s);
		cep_jw_str(w, "expected_at", cep_time_format(expected_at(inc, im), tmp));
		cep_jw_str(w, "via", cep_sector_name(im->via));
		cep_jw_u64(w, "hops", im->hops);
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
}

/*
 * The explanation: the model's terms, every upstream's numbers, and its
 * share of the confidence.  Shares split the noisy-OR in proportion to each
 * upstream's -ln(1 - e_u), the one split that is additive for it: the
 * support shares sum to S, the contradiction shares to -S * X, so all of
 * them sum to the confidence.
 */

/*
 * The name an upstream is published under.  An operator (reporter) is
 * never named outside the site: ceptord replaces reporters by keyed
 * pseudonyms ("op-" + hex, lib/pseudonym.h) before detection, and those
 * are published as they are, so one reporter is recognisable across
 * incidents.  Any other reporter name (a caller that did not pseudonymise)
 * is shown as "reporter-N", N its place among this incident's reporters
 * (stable: upstreams are kept sorted).
 */
static const char *shown_name(const struct cep_incident *inc, uint32_t i,
			      char *buf, size_t size)
{
	unsigned n = 0;
	const char *name = inc->sources[i].name;

	if (!inc->sources[i].reporter || is_pseudonym(name))
		return name;
	for (uint32_t k = 0; k <= i; k++)
		n += inc->sources[k].reporter;
	snprintf(buf, size, "reporter-%u", n);
	return buf;
}

static void write_explanation(struct cep_jw *w, const struct cep_incident *inc,
			      const struct term *tm, double lmiss, double lhold)
{
	char tmp[CEP_TIME_STRLEN];

	cep_jw_open(w, "explanation", '{');
	cep_jw_str(w, "model", "noisy-or");
	cep_jw_str(w, "reference", cep_time_format(inc->last_seen, tmp));
	cep_jw_double(w, "decay_tau_s", CEP_INCIDENT_DECAY_TAU_S, 0);
	cep_jw_double(w, "decay_p", CEP_INCIDENT_DECAY_P, 2);
	cep_jw_u64(w, "agreeing", inc->agreeing);
	cep_jw_str(w, "credibility", cep_credibility_name(inc->credibility));
	cep_jw_double(w, "support", inc->support, 4);
	cep_jw_double(w, "contradiction", inc->contradiction, 4);
	cep_jw_double(w, "confidence", inc->confidence, 4);
	if (inc->dropped_sources)
		cep_jw_u64(w, "dropped_sources", inc->dropped_sources);
	cep_jw_open(w, "sources", '[');
	for (uint32_t i = 0; i < inc->nsources; i++) {
		const struct cep_incident_source *s = &inc->sources[i];
		const struct term *t = &tm[i];
		cep_jw_open(w, NULL, '{');
		char shown[32];
		cep_jw_str(w, "upstream", shown_name(inc, i, shown, sizeof shown));
		if (s->supports) {
			double share = lmiss < 0 ? inc->support * log1p(-t->decayed) / lmiss : 0;
			cep_jw_str(w, "reliability", cep_reliability_name(s->rel_used));
			if (s->override_rel)
				cep_jw_bool(w, "reliability_override", true);
			cep_jw_str(w, "credibility", cep_credibility_name(s->cred_used));
			cep_jw_str(w, "own_credibility", cep_credibility_name(s->credibility));
			cep_jw_u64(w, "signals", s->signals);
			cep_jw_double(w, "weight", t->weight, 4);
			cep_jw_str(w, "last_evidence", cep_time_format(s->last_ts, tmp));
			cep_jw_double(w, "age_s", s->last_ts < inc->last_seen ?
				      (double)(inc->last_seen - s->last_ts) / 1e9 : 0, 3);
			cep_jw_double(w, "decay", t->decay, 4);
			cep_jw_double(w, "decayed", t->decayed, 4);
			cep_jw_double(w, "share", share, 4);
		}
		if (s->contradictions) {
			double share = lhold < 0 ? inc->support * inc->contradiction *
				log1p(-t->cdecayed) / lhold : 0;
			cep_jw_u64(w, "contradictions", s->contradictions);
			cep_jw_double(w, "against", s->contra_weight, 4);
			cep_jw_str(w, "last_contradiction", cep_time_format(s->contra_ts, tmp));
			cep_jw_double(w, "against_decayed", t->cdecayed, 4);
			cep_jw_double(w, "against_share", -share, 4);
		}
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
	cep_jw_close(w, '}');
}

int cep_incident_to_json(const struct cep_incident *inc, const char *site,
			 const char *stream, char *buf, size_t size)
{
	struct cep_jw w;
	char tmp[CEP_TIME_STRLEN > CEP_IP_STRLEN ? CEP_TIME_STRLEN : CEP_IP_STRLEN];
	char prio[4];

	prio[0] = 'P';
	prio[1] = (char)('0' + inc->priority % 10);
	prio[2] = '\0';
	cep_jw_init(&w, buf, size);
	cep_jw_begin(&w);
	if (stream)
		cep_jw_str(&w, "stream", stream);
	cep_jw_str(&w, "id", inc->id);
	cep_jw_u64(&w, "version", inc->version);
	cep_jw_str(&w, "status", cep_incident_status_name(inc->status));
	cep_jw_str(&w, "priority", prio);
	cep_jw_double(&w, "score", inc->score, 4);
	cep_jw_double(&w, "confidence", inc->confidence, 3);
	cep_jw_str(&w, "severity", cep_level_name(inc->severity));
	cep_jw_str(&w, "sector", cep_sector_name(inc->sector));
	if (inc->system)
		cep_jw_str(&w, "system", cep_system_name(inc->system));
	cep_jw_str(&w, "type", cep_type_name(inc->type));
	cep_jw_str(&w, "cause", cep_cause_name(cep_type_cause(inc->type)));
	cep_jw_str(&w, "title", inc->title);
	cep_jw_str(&w, "rule", inc->rule_id);
	cep_jw_str(&w, "key", inc->key);
	if (inc->entity_af)
		cep_jw_str(&w, "entity", cep_ip_format(inc->entity_af, inc->entity_ip, tmp));
	else if (!strncmp(inc->entity, "prefix:", 7))
		cep_jw_str(&w, "entity", inc->entity + 7);
	if (inc->entity[0])
		cep_jw_str(&w, "entity_key", inc->entity);
	cep_jw_open(&w, "rules", '[');
	for (uint8_t i = 0; i < inc->nrules; i++) {
		cep_jw_open(&w, NULL, '{');
		cep_jw_str(&w, "rule", inc->rules[i].id);
		cep_jw_str(&w, "severity", cep_level_name(inc->rules[i].level));
		cep_jw_u64(&w, "signals", inc->rules[i].signals);
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	if (inc->dropped_rules)
		cep_jw_u64(&w, "dropped_rules", inc->dropped_rules);
	cep_jw_u64(&w, "count", inc->count);
	cep_jw_str(&w, "tlp", cep_tlp_name(inc->tlp));
	cep_jw_str(&w, "first_seen", cep_time_format(inc->first_seen, tmp));
	cep_jw_str(&w, "last_seen", cep_time_format(inc->last_seen, tmp));
	cep_jw_u64(&w, "evidence", inc->evidence);
	struct term tm[CEP_INCIDENT_MAX_SOURCES];
	double lmiss = 0, lhold = 0; /* sums of ln(1 - e_u), ln(1 - k_u) */
	for (uint32_t i = 0; i < inc->nsources; i++) {
		term_of(inc, &inc->sources[i], &tm[i]);
		lmiss += log1p(-tm[i].decayed);
		lhold += log1p(-tm[i].cdecayed);
	}
	cep_jw_open(&w, "sources", '[');
	for (uint32_t i = 0; i < inc->nsources; i++) {
		const struct cep_incident_source *s = &inc->sources[i];
		cep_jw_open(&w, NULL, '{');
		char shown[32];
		cep_jw_str(&w, "name", shown_name(inc, i, shown, sizeof shown));
		cep_jw_str(&w, "reliability", cep_reliability_name(s->reliability));
		cep_jw_str(&w, "credibility", cep_credibility_name(s->credibility));
		cep_jw_u64(&w, "signals", s->signals);
		cep_jw_double(&w, "weight", tm[i].weight, 3);
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	write_explanation(&w, inc, tm, lmiss, lhold);
	write_impact(&w, inc);
	if (site)
		cep_jw_str(&w, "site", site);
	if (inc->exercise)
		cep_jw_bool(&w, "exercise", true);
	return cep_jw_end(&w);
}

size_t cep_incident_fields(const struct cep_incident *inc, const char *json,
			   struct cep_incident_fieldbuf *fb,
			   const char *fv[2 * CEP_INCIDENT_FIELDS])
{
	size_t n = 0;

	snprintf(fb->version, sizeof fb->version, "%" PRIu32, inc->version);
	fb->priority[0] = 'P';
	fb->priority[1] = (char)('0' + inc->priority % 10);
	fb->priority[2] = '\0';
	snprintf(fb->confidence, sizeof fb->confidence, "%.3f", inc->confidence);
	cep_time_format(inc->first_seen, fb->first_seen);
	cep_time_format(inc->last_seen, fb->last_seen);
	snprintf(fb->sources, sizeof fb->sources, "%" PRIu32, inc->nsources);
	snprintf(fb->evidence, sizeof fb->evidence, "%" PRIu64, inc->evidence);
#define FIELD(k, v) (fv[n++] = (k), fv[n++] = (v))
	FIELD("id", inc->id);
	FIELD("version", fb->version);
	FIELD("status", cep_incident_status_name(inc->status));
	FIELD("priority", fb->priority);
	FIELD("confidence", fb->confidence);
	FIELD("severity", cep_level_name(inc->severity));
	FIELD("sector", cep_sector_name(inc->sector));
	FIELD("title", inc->title);
	FIELD("tlp", cep_tlp_name(inc->tlp));
	FIELD("first_seen", fb->first_seen);
	FIELD("last_seen", fb->last_seen);
	FIELD("sources", fb->sources);
	FIELD("evidence", fb->evidence);
	FIELD("json", json);
#undef FIELD
	return n;
}

int cep_incident_advisory_json(const struct cep_incident *inc, size_t k,
			       const char *site, const char *stream, char *buf,
			       size_t size)
{
	const struct cep_incident_impact *im = &inc->impact[k];
	char tmp[CEP_TIME_STRLEN];
	char prio[4] = { 'P', (char)('0' + inc->priority % 10), '\0', '\0' };
	struct cep_jw w;

	if (k >= inc->nimpact)
		return -EINVAL;
	cep_jw_init(&w, buf, size);
	cep_jw_begin(&w);
	if (stream)
		cep_jw_str(&w, "stream", stream);
	cep_jw_str(&w, "kind", "advisory");
	cep_jw_str(&w, "id", inc->id);
	cep_jw_u64(&w, "version", inc->version);
	cep_jw_str(&w, "sector", cep_sector_name(im->sector));
	cep_jw_str(&w, "source_sector", cep_sector_name(inc->sector));
	cep_jw_double(&w, "strength", im->strength, 4);
	cep_jw_double(&w, "impact", im->impact, 4);
	cep_jw_u64(&w, "delay_s", im->delay_s);
	cep_jw_str(&w, "expected_at", cep_time_format(expected_at(inc, im), tmp));
	cep_jw_str(&w, "via", cep_sector_name(im->via));
	cep_jw_u64(&w, "hops", im->hops);
	cep_jw_str(&w, "priority", prio);
	cep_jw_str(&w, "title", inc->title);
	cep_jw_str(&w, "tlp", cep_tlp_name(inc->tlp));
	cep_jw_str(&w, "type", cep_type_name(inc->type));
	cep_jw_str(&w, "first_seen", cep_time_format(inc->first_seen, tmp));
	if (site)
		cep_jw_str(&w, "site", site);
	if (inc->exercise)
		cep_jw_bool(&w, "exercise", true);
	return cep_jw_end(&w);
}

size_t cep_incident_advisory_fields(const struct cep_incident *inc, size_t k,
				    const char *json,
				    struct cep_advisory_fieldbuf *fb,
				    const char *fv[2 * CEP_ADVISORY_FIELDS])
{
	const struct cep_incident_impact *im = &inc->impact[k];
	size_t n = 0;

	snprintf(fb->version, sizeof fb->version, "%" PRIu32, inc->version);
	fb->priority[0] = 'P';
	fb->priority[1] = (char)('0' + inc->priority % 10);
	fb->priority[2] = '\0';
	snprintf(fb->strength, sizeof fb->strength, "%.4f", im->strength);
	cep_time_format(expected_at(inc, im), fb->expected_at);
#define FIELD(k, v) (fv[n++] = (k), fv[n++] = (v))
	FIELD("id", inc->id);
	FIELD("version", fb->version);
	FIELD("sector", cep_sector_name(im->sector));
	FIELD("source_sector", cep_sector_name(inc->sector));
	FIELD("strength", fb->strength);
	FIELD("expected_at", fb->expected_at);
	FIELD("priority", fb->priority);
	FIELD("title", inc->title);
	FIELD("tlp", cep_tlp_name(inc->tlp));
	FIELD("json", json);
#undef FIELD
	return n;
}
