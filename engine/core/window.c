/*
 * window.c - per-worker correlation windows (see window.h for the layout).
 *
 * Semantics (rules/LANGUAGE.md, "Windows" and "Correlation types"):
 * - Entries reach the groups in event-time order (the reorder buffer), so
 *   "now" below is the ts of the entry being fed, and never goes back.
 * - A value counts while now - seen <= timespan, where seen is the last
 *   time that value (or event) was seen.
 * - A group is due at last_ts + timespan (absence: first_ts + timespan, the
 *   end of the A's window) and closes when a sweep passes its due time,
 *   at flush, or when it is evicted.
 * - Lower-bound conditions (gt/gte only) fire once, when they first hold;
 *   the close then emits final=1 with the peak if it grew since.  Upper
 *   bounds (lt, lte, eq, neq) are judged at close on the peak.
 *   alert_clear alerts and clears on each event and clears at close;
 *   backoff alerts at each threshold; absence fires at close only.
 * - A correlation's own alerts (not finals, not clears) feed the
 *   correlations that refer to it, at the time of the alert, through a
 *   FIFO so that nothing is re-entered while a group is being changed.
 */
#include "core/window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/match.h"

#define NIL UINT32_MAX
#define NOTS UINT64_MAX /* temporal_ordered: no chain for this prefix */
#define CHAIN_MAX 64

struct vnode {
	uint64_t val, ts;
	uint64_t amt;        /* value_sum/avg: the event's amount */
	uint32_t prev, next; /* time-ordered list; next doubles as free list */
};

struct vset {
	struct vnode *nodes;
	uint32_t *slots;     /* node indices, NIL when empty */
	uint32_t ncap, nused, freelist;
	uint32_t scap;       /* power of two, or 0 before the first value */
	uint32_t count;
	uint32_t head, tail; /* oldest, newest */
	uint64_t sum;        /* of amt over the live nodes (mod 2^64) */
};

struct group {
	struct group *rprev, *rnext; /* this rule's groups, by due time */
	struct group *gprev, *gnext; /* all groups, oldest update first */
	uint64_t hash;
	uint32_t slot;   /* the correlation rule's slot */
	uint32_t keylen;
	uint32_t extra;   /* bytes after the key: alignment and steps */
	uint64_t first_ts, last_ts;
	uint64_t due;     /* closes when a sweep passes this time */
	uint64_t seq;     /* the synthetic value of each event */
	uint64_t cur;     /* the count the condition tests, now */
	uint64_t peak;    /* largest count this window reached */
	uint64_t emitted; /* count carried by the last signal */
	uint64_t next_at; /* backoff: the count of the next alert */
	uint64_t *steps;  /* temporal_ordered: per prefix, its latest start */
	uint8_t ref;      /* which referenced rule last_ev matched */
	bool fired;       /* alerted at least once */
	bool alerted;     /* alert_clear: alerted and not cleared since */
	struct cep_event last_ev; /* absence: the A that opened the window */
	struct vset set;
	uint8_t key[];
};

struct rstate {
	struct group *head, *tail;
	size_t live;
};

/* An event waiting in the reorder buffer for one correlation. */
struct held {
	struct cep_event ev;
	uint64_t mask;
	uint32_t slot;
};

/* A heap slot: the entry's ts beside its index, so that most comparisons
 * touch only the heap array. */
struct hslot {
	uint64_t ts;
	uint32_t idx;
};

/* A correlation's alert on its way to the correlations that refer to it. */
struct chained {
	struct cep_event ev; /* ts is the time of the alert */
	uint32_t rule;       /* the inner correlation's rule index */
};

enum why { EXPIRED, EVICTED, FLUSHED, ANSWERED };

struct cep__window {
	const struct cep_ruleset *rs;
	struct cep__window_limits lim;
	struct group **table;
	size_t cap, count; /* cap is a power of two */
	struct group *ghead, *gtail;
	struct rstate *rules; /* by correlation slot */
	struct cep__window_stats st;
	/* No group is due before this: a lower bound on the heads' due
	 * times, so that a sweep costs a pass over the rules only when
	 * something is due, not on every event. */
	uint64_t next_due;
	/* Reorder buffer: pool[] entries, free[] their free indices, heap[]
	 * a binary min-heap over them. */
	struct held *pool;
	uint32_t *free;
	struct hslot *heap;
	uint32_t nheld, hcap;
	uint64_t floor; /* ts of the last entry released */
	struct chained chain[CHAIN_MAX];
	unsigned chead, nchain;
};

/* t + span, saturating: a timespan may be as long as the caller likes. */
static uint64_t due_at(uint64_t t, uint64_t span)
{
	return t > UINT64_MAX - span ? UINT64_MAX : t + span;
}

/* --- value sets ------------------------------------------------------------ */

static void lru_unlink(struct vset *s, uint32_t i)
{
	struct vnode *n = &s->nodes[i];

	if (n->prev != NIL)
		s->nodes[n->prev].next = n->next;
	else
		s->head = n->next;
	if (n->next != NIL)
		s->nodes[n->next].prev = n->prev;
	else
		s->tail = n->prev;
}

static void lru_append(struct vset *s, uint32_t i)
{
	struct vnode *n = &s->nodes[i];

	n->prev = s->tail;
	n->next = NIL;
	if (s->tail != NIL)
		s->nodes[s->tail].next = i;
	else
		s->head = i;
	s->tail = i;
}

/* Returns the node index of val or NIL; *slotp gets its slot, or the empty
 * slot where it would go. */
static uint32_t vset_find(const struct vset *s, uint64_t val, uint32_t *slotp)
{
	uint32_t mask = s->scap - 1;
	uint32_t i = (uint32_t)cep__hash_u64(val) & mask;

	while (s->slots[i] != NIL) {
		if (s->nodes[s->slots[i]].val == val) {
			*slotp = i;
			return s->slots[i];
		}
		i = (i + 1) & mask;
	}
	*slotp = i;
	return NIL;
}

static void vset_remove_slot(struct vset *s, uint32_t i)
{
	uint32_t mask = s->scap - 1, j = i;

	s->slots[i] = NIL;
	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (s->slots[j] == NIL)
			return;
		k = (uint32_t)cep__hash_u64(s->nodes[s->slots[j]].val) & mask;
		/* Move j back to i unless its home k lies cyclically in
		 * (i, j], where the probe from k would still reach it. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		s->slots[i] = s->slots[j];
		s->slots[j] = NIL;
		i = j;
	}
}

static bool vset_grow_slots(struct vset *s)
{
	uint32_t ncap = s->scap ? s->scap * 2 : 16;
	uint32_t *slots = malloc((size_t)ncap * sizeof *slots);
	uint32_t *old = s->slots;
	uint32_t slot;

	if (!slots)
		return false;
	memset(slots, 0xff, (size_t)ncap * sizeof *slots);
	s->slots = slots;
	s->scap = ncap;
	for (uint32_t i = s->head; i != NIL; i = s->nodes[i].next) {
		vset_find(s, s->nodes[i].val, &slot);
		s->slots[slot] = i;
	}
	free(old);
	return true;
}

static bool vset_node(struct vset *s, uint32_t *idx)
{
	if (s->freelist != NIL) {
		*idx = s->freelist;
		s->freelist = s->nodes[*idx].next;
		return true;
	}
	if (s->nused == s->ncap) {
		uint32_t ncap = s->ncap ? s->ncap * 2 : 8;
		struct vnode *n = realloc(s->nodes, (size_t)ncap * sizeof *n);

		if (!n)
			return false;
		s->nodes = n;
		s->ncap = ncap;
	}
	*idx = s->nused++;
	return true;
}

/* Drops the values last seen before cutoff. */
static void vset_expire(struct vset *s, uint64_t cutoff)
{
	while (s->head != NIL && s->nodes[s->head].ts < cutoff) {
		uint32_t i = s->head, slot;

		s->sum -= s->nodes[i].amt;
		vset_find(s, s->nodes[i].val, &slot);
		vset_remove_slot(s, slot);
		lru_unlink(s, i);
		s->nodes[i].next = s->freelist;
		s->freelist = i;
		s->count--;
	}
}

static void vset_touch(struct cep__window *w, struct vset *s, uint64_t val,
		       uint64_t ts, uint64_t amt)
{
	uint32_t slot, i = s->scap ? vset_find(s, val, &slot) : NIL;

	if (i != NIL) {
		if (ts > s->nodes[i].ts)
			s->nodes[i].ts = ts;
		lru_unlink(s, i);
		lru_append(s, i);
		return;
	}
	if (s->count >= w->lim.max_values) {
		w->st.values_overflow++;
		return;
	}
	if ((uint64_t)(s->count + 1) * 4 > (uint64_t)s->scap * 3 &&
	    !vset_grow_slots(s)) {
		w->st.nomem++;
		return;
	}
	if (!vset_node(s, &i)) {
		w->st.nomem++;
		return;
	}
	s->nodes[i].val = val;
	s->nodes[i].ts = ts;
	s->nodes[i].amt = amt;
	s->sum += amt;
	vset_find(s, val, &slot);
	s->slots[slot] = i;
	lru_append(s, i);
	s->count++;
}

/* --- groups --------------------------------------------------------------- */

static size_t group_bytes(const struct group *g)
{
	return sizeof *g + g->keylen + g->extra +
	       (size_t)g->set.ncap * sizeof(struct vnode)
	       + (size_t)g->set.scap * sizeof(uint32_t);
}

static const struct cep__rule *slot_rule(const struct cep__window *w,
					 uint32_t slot)
{
	return &w->rs->rules[w->rs->corr_rules[slot]];
}

static bool bounds_hold(const struct cep__corr *k, uint64_t n)
{
	for (unsigned i = 0; i < k->nbound; i++) {
		uint64_t v = k->bound[i].v;
		bool ok;

		switch (k->bound[i].op) {
		case CEP__OP_GT: ok = n > v; break;
		case CEP__OP_GTE: ok = n >= v; break;
		case CEP__OP_LT: ok = n < v; break;
		case CEP__OP_LTE: ok = n <= v; break;
		case CEP__OP_NEQ: ok = n != v; break;
		default: ok = n == v; break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* The group-by field i of events that matched refs[ref]. */
static int group_field(const struct cep__corr *k, unsigned ref, unsigned i)
{
	return k->rfield ? k->rfield[ref * k->ngroup + i] : k->group[i];
}

/* "name=value,..." with alias names where the rule wrote an alias. */
static void format_key(const struct cep__corr *k, const struct group *g,
		       char *key, size_t size)
{
	size_t len = 0;

	for (unsigned i = 0; i < k->ngroup; i++) {
		char tmp[CEP_SIGNAL_KEY_MAX];
		const char *v = tmp;
		int f = group_field(k, g->ref, i), n;

		n = cep__field_format(&g->last_ev, f, tmp, sizeof tmp);
		if (n < 0)
			break;
		if (k->gname[i])
			v = strchr(tmp, '=') + 1;
		/* The compiler checked that the longest key fits. */
		n = snprintf(key + len, size - len, "%s%s%s%s", i ? "," : "",
			     k->gname[i] ? k->gname[i] : "",
			     k->gname[i] ? "=" : "", v);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
}

static void fill_signal(const struct cep__rule *r, const struct group *g,
			uint64_t count, bool final, uint8_t kind,
			struct cep_signal *s)
{
	memset(s, 0, sizeof *s);
	/* Lengths were checked by the compiler: id, title and the longest
	 * possible key fit. */
	snprintf(s->rule_id, sizeof s->rule_id, "%s", cep__rule_sigid(r));
	snprintf(s->title, sizeof s->title, "%s", r->title);
	format_key(&r->corr, g, s->key, sizeof s->key);
	s->origin = CEP_SIGNAL_CORRELATION;
	s->level = r->level;
	s->type = r->type;
	s->tlp_lower = r->tlp_lower;
	s->final = final;
	s->kind = kind;
	s->corr = r->corr_type;
	s->first_ts = g->first_ts;
	s->last_ts = g->last_ts;
	s->count = count;
	s->ev = g->last_ev;
}

static void chain_push(struct cep__window *w, uint32_t rule,
		       const struct cep_event *ev, uint64_t t)
{
	struct chained *c;

	if (w->nchain == CHAIN_MAX) {
		w->st.chain_dropped++;
		return;
	}
	c = &w->chain[(w->chead + w->nchain++) % CHAIN_MAX];
	c->ev = *ev;
	c->ev.ts = t;
	c->rule = rule;
}

/* A signal of rule r about g: to the caller when r emits, and, when it is
 * an alert, to the correlations that refer to r, at event time t. */
static void emit(struct cep__window *w, const struct cep__rule *r,
		 const struct group *g, uint64_t count, bool final,
		 uint8_t kind, uint64_t t, struct cep__sigq *q)
{
	if (r->emits) {
		struct cep_signal *s = cep__sigq_push(q);

		if (s)
			fill_signal(r, g, count, final, kind, s);
		else
			w->st.signals_dropped++;
	}
	if (!final && kind != CEP_SIGNAL_CLEAR && r->ncorrs)
		chain_push(w, w->rs->corr_rules[g->slot], &g->last_ev, t);
}

static void list_unlink(struct cep__window *w, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	if (g->rprev) g->rprev->rnext = g->rnext; else rs->head = g->rnext;
	if (g->rnext) g->rnext->rprev = g->rprev; else rs->tail = g->rprev;
	if (g->gprev) g->gprev->gnext = g->gnext; else w->ghead = g->gnext;
	if (g->gnext) g->gnext->gprev = g->gprev; else w->gtail = g->gprev;
}

static void rlist_append(struct cep__window *w, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	g->rnext = NULL;
	g->rprev = rs->tail;
	if (rs->tail) rs->tail->rnext = g; else rs->head = g;
	rs->tail = g;
}

static void glist_append(struct cep__window *w, struct group *g)
{
	g->gnext = NULL;
	g->gprev = w->gtail;
	if (w->gtail) w->gtail->gnext = g; else w->ghead = g;
	w->gtail = g;
}

/* After an update: to the tail of the global LRU list, and of its rule's
 * list when its due time moved (it is then the latest due of its rule,
 * since entries arrive in time order). */
static void touch(struct cep__window *w, struct group *g, bool moved)
{
	struct rstate *rs = &w->rules[g->slot];

	if (g->gprev) g->gprev->gnext = g->gnext; else w->ghead = g->gnext;
	if (g->gnext) g->gnext->gprev = g->gprev; else w->gtail = g->gprev;
	glist_append(w, g);
	if (!moved)
		return;
	if (g->rprev) g->rprev->rnext = g->rnext; else rs->head = g->rnext;
	if (g->rnext) g->rnext->rprev = g->rprev; else rs->tail = g->rprev;
	rlist_append(w, g);
}

static void table_remove(struct cep__window *w, struct group *g)
{
	size_t mask = w->cap - 1, i = g->hash & mask, j;

	while (w->table[i] != g)
		i = (i + 1) & mask;
	w->table[i] = NULL;
	for (j = i;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!w->table[j])
			break;
		k = w->table[j]->hash & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		w->table[i] = w->table[j];
		w->table[j] = NULL;
		i = j;
	}
	w->count--;
}

/* Closes g: emits what it owes onto q (counted when q is full) and frees it. */
static void group_close(struct cep__window *w, struct group *g, enum why why,
			struct cep__sigq *q)
{
	const struct cep__rule *r = slot_rule(w, g->slot);
	const struct cep__corr *k = &r->corr;

	switch (r->corr_type) {
	case CEP__CORR_ABSENCE:
		/* Only a window that ran out in event time proves absence. */
		if (why == EXPIRED && bounds_hold(k, g->cur))
			emit(w, r, g, g->cur, false, CEP_SIGNAL_ABSENCE, g->due,
			     q);
		break;
	case CEP__CORR_ALERT_CLEAR:
		/* Idle for a whole timespan: the count is 0. */
		if (why == EXPIRED && g->alerted)
			emit(w, r, g, 0, false, CEP_SIGNAL_CLEAR, g->due, q);
		break;
	default:
		if (why == ANSWERED)
			break;
		if (k->upward ? g->fired && g->peak > g->emitted :
				bounds_hold(k, g->peak))
			emit(w, r, g, g->peak, true, CEP_SIGNAL_ALERT,
			     g->last_ts, q);
		break;
	}
	table_remove(w, g);
	list_unlink(w, g);
	w->rules[g->slot].live--;
	w->st.keys_live--;
	w->st.mem_bytes -= group_bytes(g);
	free(g->set.nodes);
	free(g->set.slots);
	free(g);
}

static bool table_grow(struct cep__window *w)
{
	size_t ncap = w->cap * 2;
	struct group **t = calloc(ncap, sizeof *t);

	if (!t)
		return false;
	for (size_t i = 0; i < w->cap; i++) {
		struct group *g = w->table[i];
		size_t j;

		if (!g)
			continue;
		for (j = g->hash & (ncap - 1); t[j]; j = (j + 1) & (ncap - 1))
			;
		t[j] = g;
	}
	free(w->table);
	w->st.mem_bytes += (ncap - w->cap) * sizeof *t;
	w->table = t;
	w->cap = ncap;
	return true;
}

static struct group *group_find(struct cep__window *w, uint64_t hash,
				uint32_t slot, const uint8_t *key, size_t len)
{
	size_t mask = w->cap - 1;

	for (size_t i = hash & mask; w->table[i]; i = (i + 1) & mask) {
		struct group *g = w->table[i];

		if (g->hash == hash && g->slot == slot && g->keylen == len &&
		    memcmp(g->key, key, len) == 0)
			return g;
	}
	return NULL;
}

static struct group *group_new(struct cep__window *w, uint64_t hash,
			       const struct cep__rule *r, const uint8_t *key,
			       size_t len, struct cep__sigq *q)
{
	uint32_t slot = r->corr.slot;
	struct rstate *rs = &w->rules[slot];
	size_t off = (sizeof(struct group) + len + 7) & ~(size_t)7;
	size_t nsteps = r->corr_type == CEP__CORR_TEMPORAL_ORDERED ?
				r->corr.nrefs : 0;
	size_t need = off + nsteps * sizeof(uint64_t);
	struct group *g;
	size_t i;

	/* Make room first: the rule's own budget, then the global one. */
	if (rs->live >= w->lim.max_keys && rs->head) {
		group_close(w, rs->head, EVICTED, q);
		w->st.keys_evicted++;
	}
	while (w->ghead && w->st.mem_bytes + need > w->lim.mem_ceiling) {
		group_close(w, w->ghead, EVICTED, q);
		w->st.keys_evicted++;
	}
	if ((w->count + 1) * 4 > w->cap * 3 && !table_grow(w))
		return NULL;
	g = calloc(1, need);
	if (!g)
		return NULL;
	g->hash = hash;
	g->slot = slot;
	g->keylen = (uint32_t)len;
	g->extra = (uint32_t)(need - sizeof *g - len);
	memcpy(g->key, key, len);
	g->set.head = g->set.tail = g->set.freelist = NIL;
	if (nsteps) {
		g->steps = (uint64_t *)((char *)g + off);
		for (i = 0; i < nsteps; i++)
			g->steps[i] = NOTS;
	}
	g->next_at = r->corr.alert;
	for (i = hash & (w->cap - 1); w->table[i]; i = (i + 1) & (w->cap - 1))
		;
	w->table[i] = g;
	w->count++;
	rlist_append(w, g);
	glist_append(w, g);
	rs->live++;
	w->st.keys_live++;
	w->st.mem_bytes += need;
	return g;
}

/* --- feeding ---------------------------------------------------------------- */

static size_t key_of(const struct cep__corr *k, const struct cep_event *ev,
		     unsigned ref, uint8_t *key)
{
	size_t len = 0;

	for (unsigned i = 0; i < k->ngroup; i++)
		len += cep__field_encode(ev, group_field(k, ref, i), key + len);
	return len;
}

static struct group *lookup(struct cep__window *w, const struct cep__rule *r,
			    const struct cep_event *ev, unsigned ref,
			    uint64_t *hashp, uint8_t *key, size_t *lenp,
			    struct cep__sigq *q)
{
	const struct cep__corr *k = &r->corr;
	struct group *g;

	*lenp = key_of(k, ev, ref, key);
	*hashp = cep__hash_bytes(key, *lenp, k->slot);
	g = group_find(w, *hashp, k->slot, key, *lenp);
	if (g && g->due < ev->ts) {
		/* Due, and not swept yet (the queue was full). */
		group_close(w, g, EXPIRED, q);
		w->st.keys_expired++;
		g = NULL;
	}
	return g;
}

/* temporal_ordered: the event matched refs[i]; returns how many rules of
 * the list, from the first, have now been seen in order within the span. */
static uint64_t ordered_step(const struct cep__corr *k, struct group *g,
			     unsigned i, uint64_t now)
{
	uint64_t done = 0;

	for (uint32_t j = 0; j < k->nrefs; j++)
		if (g->steps[j] != NOTS && now - g->steps[j] > k->timespan)
			g->steps[j] = NOTS;
	/* steps[j]: the latest start of a chain refs[0..j] seen in order;
	 * the latest start leaves the most time for the rest. */
	if (i == 0)
		g->steps[0] = now;
	else if (g->steps[i - 1] != NOTS &&
		 (g->steps[i] == NOTS || g->steps[i - 1] > g->steps[i]))
		g->steps[i] = g->steps[i - 1];
	for (uint32_t j = 0; j < k->nrefs; j++)
		if (g->steps[j] != NOTS)
			done = j + 1;
	return done;
}

/* absence: a B for this key answers the open window; it closes quietly. */
static void answer(struct cep__window *w, const struct cep__rule *r,
		   const struct cep_event *ev, struct cep__sigq *q)
{
	uint8_t key[CEP__GROUP_BY_MAX * CEP__FIELD_ENC_MAX];
	uint64_t hash;
	size_t len;
	struct group *g = lookup(w, r, ev, 1, &hash, key, &len, q);

	if (g)
		group_close(w, g, ANSWERED, q);
}

/* One event (of refs[ref]) into its group of correlation r. */
static void update(struct cep__window *w, const struct cep__rule *r,
		   const struct cep_event *ev, unsigned ref,
		   struct cep__sigq *q)
{
	const struct cep__corr *k = &r->corr;
	uint8_t key[CEP__GROUP_BY_MAX * CEP__FIELD_ENC_MAX];
	uint64_t hash, now = ev->ts, val, amt = 0;
	size_t len, before;
	struct group *g = lookup(w, r, ev, ref, &hash, key, &len, q);
	bool fresh = !g;

	if (!g) {
		g = group_new(w, hash, r, key, len, q);
		if (!g) {
			w->st.nomem++;
			return;
		}
		g->first_ts = g->last_ts = now;
		g->last_ev = *ev;
		g->ref = (uint8_t)ref;
	}
	if (r->corr_type == CEP__CORR_ABSENCE) {
		/* The window is the first A's; later As only add to it. */
		g->cur++;
		g->peak = g->cur;
		g->last_ts = now;
		if (fresh) {
			g->due = due_at(now, k->timespan);
			if (g->due < w->next_due)
				w->next_due = g->due;
		}
		touch(w, g, false);
		return;
	}
	before = group_bytes(g);
	switch (r->corr_type) {
	case CEP__CORR_TEMPORAL_ORDERED:
		g->cur = ordered_step(k, g, ref, now);
		/* Signals start at the first event of the chain in order. */
		if (g->cur)
			g->first_ts = g->steps[g->cur - 1];
		break;
	default:
		if (r->corr_type == CEP__CORR_TEMPORAL)
			val = ref;
		else if (k->field >= 0 && r->corr_type != CEP__CORR_VALUE_SUM &&
			 r->corr_type != CEP__CORR_VALUE_AVG)
			val = cep__field_value64(ev, k->field);
		else
			val = ++g->seq;
		if (r->corr_type == CEP__CORR_VALUE_SUM ||
		    r->corr_type == CEP__CORR_VALUE_AVG)
			amt = cep__field_num(ev, k->field);
		vset_expire(&g->set, now > k->timespan ? now - k->timespan : 0);
		vset_touch(w, &g->set, val, now, amt);
		if (r->corr_type == CEP__CORR_VALUE_SUM)
			g->cur = g->set.sum;
		else if (r->corr_type == CEP__CORR_VALUE_AVG)
			g->cur = g->set.count ? g->set.sum / g->set.count : 0;
		else
			g->cur = g->set.count;
		break;
	}
	w->st.mem_bytes += group_bytes(g) - before;
	if (now > g->last_ts)
		g->last_ts = now;
	g->last_ev = *ev;
	g->ref = (uint8_t)ref;
	g->due = due_at(g->last_ts, k->timespan);
	if (fresh && g->due < w->next_due)
		w->next_due = g->due;
	if (g->cur > g->peak)
		g->peak = g->cur;
	touch(w, g, true);
	switch (r->corr_type) {
	case CEP__CORR_ALERT_CLEAR:
		if (!g->alerted && g->cur >= k->alert) {
			emit(w, r, g, g->cur, false, CEP_SIGNAL_ALERT, now, q);
			g->alerted = g->fired = true;
			g->emitted = g->cur;
		} else if (g->alerted && g->cur <= k->clear) {
			emit(w, r, g, g->cur, false, CEP_SIGNAL_CLEAR, now, q);
			g->alerted = false;
		}
		break;
	case CEP__CORR_BACKOFF:
		if (g->cur >= g->next_at) {
			emit(w, r, g, g->cur, false, CEP_SIGNAL_ALERT, now, q);
			g->fired = true;
			g->emitted = g->cur;
			/* Skip the thresholds this count already passed. */
			while (g->next_at <= g->cur)
				g->next_at = g->next_at > UINT64_MAX / k->factor ?
						     UINT64_MAX :
						     g->next_at * k->factor;
		}
		break;
	default:
		if (k->upward && !g->fired && bounds_hold(k, g->cur)) {
			emit(w, r, g, g->cur, false, CEP_SIGNAL_ALERT, now, q);
			g->fired = true;
			g->emitted = g->cur;
		}
		break;
	}
	/* A set that grew may have crossed the ceiling: shed other groups. */
	while (w->st.mem_bytes > w->lim.mem_ceiling && w->ghead != g) {
		group_close(w, w->ghead, EVICTED, q);
		w->st.keys_evicted++;
	}
}

/* One entry: the event matched the rules refs[p] for each bit p of mask. */
static void feed(struct cep__window *w, const struct cep__rule *r,
		 const struct cep_event *ev, uint64_t mask,
		 struct cep__sigq *q)
{
	switch (r->corr_type) {
	case CEP__CORR_TEMPORAL:
		/* Each rule the event matched is one more kind seen. */
		for (unsigned p = 0; p < 64; p++)
			if (mask >> p & 1)
				update(w, r, ev, p, q);
		break;
	case CEP__CORR_TEMPORAL_ORDERED:
		/* Later steps first, so that one event is not two steps. */
		for (unsigned p = 64; p-- > 0;)
			if (mask >> p & 1)
				update(w, r, ev, p, q);
		break;
	case CEP__CORR_ABSENCE:
		/* An event that is both B and A answers the earlier A and
		 * then waits for its own B. */
		if (mask & 2)
			answer(w, r, ev, q);
		if (mask & 1)
			update(w, r, ev, 0, q);
		break;
	default:
		/* One event counts once; its group comes from the first rule
		 * it matched (which matters only with aliases). */
		update(w, r, ev, (unsigned)__builtin_ctzll(mask), q);
		break;
	}
}

static unsigned ref_pos(const struct cep__corr *k, uint32_t rule)
{
	for (unsigned p = 0; p < k->nrefs; p++)
		if (k->refs[p] == rule)
			return p;
	/* The compiler links both ways: o refers to rule, rule feeds o. */
	fprintf(stderr, "window.c: rule %u feeds a correlation that does not "
		"refer to it\n", rule);
	abort();
}

/* Feeds the alerts of inner correlations to the outer ones, in order. */
static void chain_drain(struct cep__window *w, struct cep__sigq *q)
{
	while (w->nchain) {
		struct chained c = w->chain[w->chead];
		const struct cep__rule *in = &w->rs->rules[c.rule];

		w->chead = (w->chead + 1) % CHAIN_MAX;
		w->nchain--;
		for (uint32_t j = 0; j < in->ncorrs; j++) {
			const struct cep__rule *o = &w->rs->rules[in->corrs[j]];

			feed(w, o, &c.ev, 1ULL << ref_pos(&o->corr, c.rule), q);
		}
	}
}

/* Closes, in order of due time (then slot), the groups due before now,
 * while q has room. */
static void sweep(struct cep__window *w, uint64_t now, struct cep__sigq *q)
{
	uint64_t next;

	if (now <= w->next_due)
		return;
	for (;;) {
		struct group *best = NULL;

		for (uint32_t slot = 0; slot < w->rs->ncorr; slot++) {
			struct group *g = w->rules[slot].head;

			if (g && g->due < now && (!best || g->due < best->due))
				best = g;
		}
		if (!best || !cep__sigq_room(q))
			break;
		group_close(w, best, EXPIRED, q);
		w->st.keys_expired++;
		chain_drain(w, q);
	}
	next = UINT64_MAX;
	for (uint32_t slot = 0; slot < w->rs->ncorr; slot++) {
		struct group *g = w->rules[slot].head;

		if (g && g->due < next)
			next = g->due;
	}
	w->next_due = next;
}

/* --- reorder buffer --------------------------------------------------------- */

static int held_cmp(const struct cep__window *w, const struct hslot *a,
		    const struct hslot *b)
{
	const struct held *x, *y;
	int c;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	x = &w->pool[a->idx];
	y = &w->pool[b->idx];
	c = memcmp(&x->ev, &y->ev, sizeof x->ev);
	if (c)
		return c;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static void heap_up(struct cep__window *w, uint32_t i)
{
	struct hslot *h = w->heap, t;

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (held_cmp(w, &h[p], &h[i]) <= 0)
			break;
		t = h[p], h[p] = h[i], h[i] = t;
		i = p;
	}
}

static void heap_down(struct cep__window *w, uint32_t i)
{
	struct hslot *h = w->heap, t;
	uint32_t n = w->nheld;

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;

		if (l < n && held_cmp(w, &h[l], &h[m]) < 0)
			m = l;
		if (l + 1 < n && held_cmp(w, &h[l + 1], &h[m]) < 0)
			m = l + 1;
		if (m == i)
			return;
		t = h[m], h[m] = h[i], h[i] = t;
		i = m;
	}
}

static bool held_grow(struct cep__window *w)
{
	uint32_t ncap = w->hcap ? w->hcap * 2 : 64;
	struct held *pool;
	struct hslot *heap;
	uint32_t *fr;

	if (ncap > w->lim.max_held)
		ncap = w->lim.max_held;
	if (ncap <= w->hcap)
		return false;
	pool = realloc(w->pool, (size_t)ncap * sizeof *pool);
	if (!pool)
		return false;
	w->pool = pool;
	fr = realloc(w->free, (size_t)ncap * sizeof *fr);
	if (!fr)
		return false;
	w->free = fr;
	heap = realloc(w->heap, (size_t)ncap * sizeof *heap);
	if (!heap)
		return false;
	w->heap = heap;
	/* Free indices are a stack; the new ones go on it. */
	for (uint32_t i = w->hcap; i < ncap; i++)
		w->free[i - w->nheld] = i;
	w->hcap = ncap;
	return true;
}

/* Releases the oldest held entry: sweep to its time, then feed it. */
static void release_top(struct cep__window *w, struct cep__sigq *q)
{
	uint32_t idx = w->heap[0].idx;
	const struct held *h = &w->pool[idx];

	w->heap[0] = w->heap[--w->nheld];
	heap_down(w, 0);
	sweep(w, h->ev.ts, q);
	if (h->ev.ts > w->floor)
		w->floor = h->ev.ts;
	feed(w, slot_rule(w, h->slot), &h->ev, h->mask, q);
	chain_drain(w, q);
	/* The entry is free only now: feeding never holds. */
	w->free[w->hcap - w->nheld - 1] = idx;
}

/* Room for whatever one release may push (an alert, a few chained ones,
 * the closes of one sweep step): stop early rather than drop. */
static bool release_room(const struct cep__sigq *q)
{
	unsigned margin;

	if (q->grow)
		return true;
	margin = q->cap / 4 < 16 ? (q->cap / 4 ? q->cap / 4 : 1) : 16;

	return q->cap - q->count >= margin;
}

/* --- public (internal) ------------------------------------------------------ */

int cep__window_create(const struct cep_ruleset *rs,
		       const struct cep__window_limits *lim,
		       struct cep__window **out)
{
	struct cep__window *w = calloc(1, sizeof *w);

	if (!w)
		return -ENOMEM;
	w->rs = rs;
	w->lim = *lim;
	if (w->lim.max_held == 0)
		w->lim.max_held = 1;
	w->cap = 1024;
	w->next_due = UINT64_MAX;
	w->table = calloc(w->cap, sizeof *w->table);
	w->rules = calloc(rs->ncorr ? rs->ncorr : 1, sizeof *w->rules);
	if (!w->table || !w->rules) {
		cep__window_destroy(w);
		return -ENOMEM;
	}
	w->st.mem_bytes = w->cap * sizeof *w->table;
	*out = w;
	return 0;
}

void cep__window_destroy(struct cep__window *w)
{
	if (!w)
		return;
	while (w->ghead) {
		struct group *g = w->ghead;

		w->ghead = g->gnext;
		free(g->set.nodes);
		free(g->set.slots);
		free(g);
	}
	free(w->table);
	free(w->rules);
	free(w->pool);
	free(w->free);
	free(w->heap);
	free(w);
}

void cep__window_hold(struct cep__window *w, uint32_t slot, uint64_t mask,
		      const struct cep_event *ev, struct cep__sigq *q)
{
	uint32_t idx;

	if (w->nheld == w->hcap && !held_grow(w)) {
		if (w->nheld == 0) {
			w->st.nomem++;
			return;
		}
		/* Full: the oldest goes now, and events older than it will
		 * count as late (cep__window_floor()). */
		release_top(w, q);
		w->st.held_forced++;
	}
	idx = w->free[w->hcap - w->nheld - 1];
	w->pool[idx].ev = *ev;
	w->pool[idx].mask = mask;
	w->pool[idx].slot = slot;
	w->heap[w->nheld++] = (struct hslot){ ev->ts, idx };
	heap_up(w, w->nheld - 1);
}

void cep__window_advance(struct cep__window *w, uint64_t release_below,
			 uint64_t sweep_below, struct cep__sigq *q)
{
	while (w->nheld && w->heap[0].ts < release_below) {
		if (!release_room(q))
			return;
		release_top(w, q);
	}
	/* Never sweep past an entry still held: it is fed first. */
	if (w->nheld && w->heap[0].ts < sweep_below)
		sweep_below = w->heap[0].ts;
	sweep(w, sweep_below, q);
}

uint64_t cep__window_floor(const struct cep__window *w)
{
	return w->floor;
}

bool cep__window_close_all(struct cep__window *w, uint64_t now,
			   struct cep__sigq *q)
{
	while (w->nheld) {
		if (!release_room(q))
			return false;
		release_top(w, q);
	}
	sweep(w, now, q);
	if (w->next_due < now)
		return false; /* the queue filled up */
	while (w->ghead) {
		if (!cep__sigq_room(q))
			return false;
		group_close(w, w->ghead, FLUSHED, q);
		w->st.keys_expired++;
	}
	w->floor = 0;
	w->next_due = UINT64_MAX;
	return true;
}

void cep__window_stats(const struct cep__window *w,
		       struct cep__window_stats *out)
{
	*out = w->st;
	out->held = w->nheld;
}

/* --- reload ----------------------------------------------------------------- */

void cep__window_limits(const struct cep__window *w,
			struct cep__window_limits *out)
{
	*out = w->lim;
}

bool cep__sigq_grow(struct cep__sigq *q)
{
	unsigned ncap = q->cap ? q->cap * 2 : 16;
	struct cep_signal *buf;

	if (ncap <= q->cap)
		return false;
	buf = malloc((size_t)ncap * sizeof *buf);
	if (!buf)
		return false;
	for (unsigned i = 0; i < q->count; i++)
		buf[i] = q->buf[(q->head + i) % q->cap];
	free(q->buf);
	q->buf = buf;
	q->cap = ncap;
	q->head = 0;
	return true;
}

static bool kept(const uint32_t *map, uint32_t slot)
{
	return map[slot] != CEP__WINDOW_NOSLOT;
}

int cep__window_migrate(struct cep__window *old, struct cep__window *nw,
			const uint32_t *map, uint64_t now, struct cep__sigq *q,
			struct cep__window_migration *out)
{
	struct cep__window_migration m = { 0 };
	struct group **table = NULL;
	struct held *pool = NULL;
	struct hslot *heap = NULL;
	uint32_t *fr = NULL, nmove = 0, hcap = 0;
	size_t ngroups = 0, cap = nw->cap;
	bool grow = q->grow;

	/* 1. Everything that may fail, before anything moves. */
	for (struct group *g = old->ghead; g; g = g->gnext)
		ngroups += kept(map, g->slot);
	for (uint32_t i = 0; i < old->nheld; i++)
		nmove += kept(map, old->pool[old->heap[i].idx].slot);
	while ((ngroups + 1) * 4 > cap * 3)
		cap *= 2;
	if (cap > nw->cap && !(table = calloc(cap, sizeof *table)))
		return -ENOMEM;
	if (nmove > nw->hcap) {
		hcap = old->hcap; /* at least nmove, at most what old had */
		pool = malloc((size_t)hcap * sizeof *pool);
		heap = malloc((size_t)hcap * sizeof *heap);
		fr = malloc((size_t)hcap * sizeof *fr);
		if (!pool || !heap || !fr) {
			free(table);
			free(pool);
			free(heap);
			free(fr);
			return -ENOMEM;
		}
	}
	if (table) {
		free(nw->table);
		nw->st.mem_bytes += (cap - nw->cap) * sizeof *table;
		nw->table = table;
		nw->cap = cap;
	}
	if (pool) {
		/* nw is fresh: nothing held yet, every index is free. */
		free(nw->pool);
		free(nw->heap);
		free(nw->free);
		nw->pool = pool;
		nw->heap = heap;
		nw->free = fr;
		nw->hcap = hcap;
		for (uint32_t i = 0; i < hcap; i++)
			nw->free[i] = hcap - 1 - i;
	}

	/* 2. Kept groups: out of old's table and update-ordered list into
	 * nw's (in the same order, so LRU eviction goes on as before), then
	 * each kept rule's due-ordered list, renumbering the slot.  The table
	 * hash is seeded with the slot, so it is computed again. */
	for (struct group *g = old->ghead, *next; g; g = next) {
		size_t i, bytes;

		next = g->gnext;
		if (!kept(map, g->slot))
			continue;
		if (g->gprev) g->gprev->gnext = g->gnext; else old->ghead = g->gnext;
		if (g->gnext) g->gnext->gprev = g->gprev; else old->gtail = g->gprev;
		table_remove(old, g);
		g->hash = cep__hash_bytes(g->key, g->keylen, map[g->slot]);
		for (i = g->hash & (nw->cap - 1); nw->table[i];
		     i = (i + 1) & (nw->cap - 1))
			;
		nw->table[i] = g;
		nw->count++;
		glist_append(nw, g);
		bytes = group_bytes(g);
		old->st.keys_live--;
		old->st.mem_bytes -= bytes;
		nw->st.keys_live++;
		nw->st.mem_bytes += bytes;
		m.groups_kept++;
	}
	for (uint32_t s = 0; s < old->rs->ncorr; s++) {
		struct group *g, *next;

		if (!kept(map, s))
			continue;
		for (g = old->rules[s].head; g; g = next) {
			next = g->rnext;
			g->slot = map[s];
			rlist_append(nw, g);
		}
		nw->rules[map[s]].live = old->rules[s].live;
		old->rules[s].head = old->rules[s].tail = NULL;
		old->rules[s].live = 0;
	}
	nw->next_due = UINT64_MAX;
	for (uint32_t s = 0; s < nw->rs->ncorr; s++)
		if (nw->rules[s].head && nw->rules[s].head->due < nw->next_due)
			nw->next_due = nw->rules[s].head->due;

	/* 3. Held entries: kept ones move, the rest stay and are compacted;
	 * their pool entries go back on old's free stack. */
	{
		uint32_t n = old->nheld, k = 0, j = old->hcap - n;

		for (uint32_t i = 0; i < n; i++) {
			struct hslot hs = old->heap[i];
			const struct held *h = &old->pool[hs.idx];
			uint32_t idx;

			if (!kept(map, h->slot)) {
				old->heap[k++] = hs;
				continue;
			}
			idx = nw->free[nw->hcap - nw->nheld - 1];
			nw->pool[idx] = *h;
			nw->pool[idx].slot = map[h->slot];
			nw->heap[nw->nheld++] = (struct hslot){ hs.ts, idx };
			heap_up(nw, nw->nheld - 1);
			old->free[j++] = hs.idx;
			m.held_kept++;
		}
		old->nheld = k;
		for (uint32_t i = k / 2; i-- > 0;)
			heap_down(old, i);
		m.held_flushed = k;
	}
	nw->floor = old->floor;

	/* 4. What is left in old closes now. */
	m.groups_closed = old->st.keys_live;
	q->grow = true;
	cep__window_close_all(old, now, q);
	q->grow = grow;
	nw->st.keys_evicted += old->st.keys_evicted;
	nw->st.keys_expired += old->st.keys_expired;
	nw->st.values_overflow += old->st.values_overflow;
	nw->st.signals_dropped += old->st.signals_dropped;
	nw->st.nomem += old->st.nomem;
	nw->st.held_forced += old->st.held_forced;
	nw->st.chain_dropped += old->st.chain_dropped;
	if (out)
		*out = m;
	return 0;
}
