/*
 * window.c - per-worker correlation windows (see window.h for the layout).
 *
 * Semantics (rules/LANGUAGE.md, "Windows"):
 * - A value counts while now - seen <= timespan, where now is the time of
 *   the event being counted and seen the last time that value was seen.
 * - A group closes when event time moves more than timespan past its last
 *   event, at flush, or when it is evicted.
 * - Lower-bound conditions (gt/gte only) fire once, when they first hold;
 *   the close then emits final=1 with the peak count if it grew since.
 *   Conditions with an upper bound (lt, lte, eq, neq) can only be judged
 *   once the window is over, so they are tested on the peak at close.
 */
#include "core/window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/match.h"

#define NIL UINT32_MAX

struct vnode {
	uint64_t val, ts;
	uint32_t prev, next; /* time-ordered list; next doubles as free list */
};

struct vset {
	struct vnode *nodes;
	uint32_t *slots;     /* node indices, NIL when empty */
	uint32_t ncap, nused, freelist;
	uint32_t scap;       /* power of two, or 0 before the first value */
	uint32_t count;
	uint32_t head, tail; /* oldest, newest */
};

struct group {
	struct group *rprev, *rnext; /* this rule's groups, oldest first */
	struct group *gprev, *gnext; /* all groups, oldest first */
	uint64_t hash;
	uint32_t slot;   /* the correlation rule's slot */
	uint32_t keylen;
	uint64_t first_ts, last_ts;
	uint64_t seq;     /* event_count: the synthetic value of each event */
	uint64_t peak;    /* largest count this window reached */
	uint64_t emitted; /* count carried by the last signal */
	bool fired;
	struct cep_event last_ev;
	struct vset set;
	uint8_t key[];
};

struct rstate {
	struct group *head, *tail;
	size_t live;
};

struct cep__window {
	const struct cep_ruleset *rs;
	struct cep__window_limits lim;
	struct group **table;
	size_t cap, count; /* cap is a power of two */
	struct group *ghead, *gtail;
	struct rstate *rules; /* by correlation slot */
	struct cep__window_stats st;
	/* No group closes before this event time: a lower bound on the
	 * earliest head->last_ts + timespan, so that an event that advances
	 * time costs a sweep over the correlation rules only when something
	 * is due, not on every event. */
	uint64_t next_due;
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

		vset_find(s, s->nodes[i].val, &slot);
		vset_remove_slot(s, slot);
		lru_unlink(s, i);
		s->nodes[i].next = s->freelist;
		s->freelist = i;
		s->count--;
	}
}

static void vset_touch(struct cep__window *w, struct vset *s, uint64_t val,
		       uint64_t ts)
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
	vset_find(s, val, &slot);
	s->slots[slot] = i;
	lru_append(s, i);
	s->count++;
}

/* --- groups --------------------------------------------------------------- */

static size_t group_bytes(const struct group *g)
{
	return sizeof *g + g->keylen + (size_t)g->set.ncap * sizeof(struct vnode)
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

static void fill_signal(const struct cep__rule *r, const struct group *g,
			uint64_t count, bool final, struct cep_signal *s)
{
	size_t len = 0;

	memset(s, 0, sizeof *s);
	/* Lengths were checked by the compiler: id, title and the longest
	 * possible key fit. */
	snprintf(s->rule_id, sizeof s->rule_id, "%s", cep__rule_sigid(r));
	snprintf(s->title, sizeof s->title, "%s", r->title);
	for (unsigned i = 0; i < r->corr.ngroup; i++) {
		int n;

		if (i)
			s->key[len++] = ',';
		n = cep__field_format(&g->last_ev, r->corr.group[i],
				      s->key + len, sizeof s->key - len);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	s->origin = CEP_SIGNAL_CORRELATION;
	s->level = r->level;
	s->type = r->type;
	s->final = final;
	s->first_ts = g->first_ts;
	s->last_ts = g->last_ts;
	s->count = count;
	s->ev = g->last_ev;
}

static void list_unlink(struct cep__window *w, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	if (g->rprev) g->rprev->rnext = g->rnext; else rs->head = g->rnext;
	if (g->rnext) g->rnext->rprev = g->rprev; else rs->tail = g->rprev;
	if (g->gprev) g->gprev->gnext = g->gnext; else w->ghead = g->gnext;
	if (g->gnext) g->gnext->gprev = g->gprev; else w->gtail = g->gprev;
}

static void list_append(struct cep__window *w, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	g->rnext = NULL;
	g->rprev = rs->tail;
	if (rs->tail) rs->tail->rnext = g; else rs->head = g;
	rs->tail = g;
	g->gnext = NULL;
	g->gprev = w->gtail;
	if (w->gtail) w->gtail->gnext = g; else w->ghead = g;
	w->gtail = g;
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
static void group_close(struct cep__window *w, struct group *g,
			struct cep__sigq *q)
{
	const struct cep__rule *r = slot_rule(w, g->slot);
	bool owe = r->corr.upward ? g->fired && g->peak > g->emitted :
				    bounds_hold(&r->corr, g->peak);

	if (owe) {
		struct cep_signal *s = cep__sigq_push(q);

		if (s)
			fill_signal(r, g, g->peak, true, s);
		else
			w->st.signals_dropped++;
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
			       uint32_t slot, const uint8_t *key, size_t len,
			       struct cep__sigq *q)
{
	struct rstate *rs = &w->rules[slot];
	size_t need = sizeof(struct group) + len;
	struct group *g;
	size_t i;

	/* Make room first: the rule's own budget, then the global one. */
	if (rs->live >= w->lim.max_keys && rs->head) {
		group_close(w, rs->head, q);
		w->st.keys_evicted++;
	}
	while (w->ghead && w->st.mem_bytes + need > w->lim.mem_ceiling) {
		group_close(w, w->ghead, q);
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
	memcpy(g->key, key, len);
	g->set.head = g->set.tail = g->set.freelist = NIL;
	for (i = hash & (w->cap - 1); w->table[i]; i = (i + 1) & (w->cap - 1))
		;
	w->table[i] = g;
	w->count++;
	list_append(w, g);
	rs->live++;
	w->st.keys_live++;
	w->st.mem_bytes += need;
	return g;
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
	w->cap = 1024;
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
	free(w);
}

void cep__window_update(struct cep__window *w, const struct cep__rule *corr,
			const struct cep_event *ev, struct cep__sigq *q)
{
	const struct cep__corr *k = &corr->corr;
	uint8_t key[CEP__GROUP_BY_MAX * CEP__FIELD_ENC_MAX];
	uint64_t hash, val, now = ev->ts;
	size_t len = 0, before;
	struct group *g;

	for (unsigned i = 0; i < k->ngroup; i++)
		len += cep__field_encode(ev, k->group[i], key + len);
	hash = cep__hash_bytes(key, len, k->slot);
	g = group_find(w, hash, k->slot, key, len);
	if (g && now > g->last_ts && now - g->last_ts > k->timespan) {
		/* Its window ended and the sweep has not reached it yet. */
		group_close(w, g, q);
		w->st.keys_expired++;
		g = NULL;
	}
	if (!g) {
		g = group_new(w, hash, k->slot, key, len, q);
		if (!g) {
			w->st.nomem++;
			return;
		}
		g->first_ts = g->last_ts = now;
		if (due_at(now, k->timespan) < w->next_due)
			w->next_due = due_at(now, k->timespan);
	}
	before = group_bytes(g);
	val = corr->corr_type == CEP__CORR_EVENT_COUNT ?
		      ++g->seq : cep__field_value64(ev, k->field);
	vset_expire(&g->set, now > k->timespan ? now - k->timespan : 0);
	vset_touch(w, &g->set, val, now);
	w->st.mem_bytes += group_bytes(g) - before;
	if (now > g->last_ts)
		g->last_ts = now;
	if (now < g->first_ts)
		g->first_ts = now;
	g->last_ev = *ev;
	if (g->set.count > g->peak)
		g->peak = g->set.count;
	if (k->upward && !g->fired && bounds_hold(k, g->set.count)) {
		struct cep_signal *s = cep__sigq_push(q);

		if (s) {
			fill_signal(corr, g, g->set.count, false, s);
			g->fired = true;
			g->emitted = g->set.count;
		} else {
			w->st.signals_dropped++;
		}
	}
	list_unlink(w, g);
	list_append(w, g);
	/* A set that grew may have crossed the ceiling: shed other groups. */
	while (w->st.mem_bytes > w->lim.mem_ceiling && w->ghead != g) {
		group_close(w, w->ghead, q);
		w->st.keys_evicted++;
	}
}

void cep__window_expire(struct cep__window *w, uint64_t now,
			struct cep__sigq *q)
{
	uint64_t next = UINT64_MAX;

	if (now <= w->next_due)
		return;
	for (uint32_t slot = 0; slot < w->rs->ncorr; slot++) {
		uint64_t span = slot_rule(w, slot)->corr.timespan;
		struct group *g;

		/* Groups are in update order, which is time order when events
		 * arrive in time order; a late event can only delay a close,
		 * never bring one forward. */
		while ((g = w->rules[slot].head) && now > g->last_ts &&
		       now - g->last_ts > span && cep__sigq_room(q)) {
			group_close(w, g, q);
			w->st.keys_expired++;
		}
		if (g && due_at(g->last_ts, span) < next)
			next = due_at(g->last_ts, span);
	}
	w->next_due = next;
}

bool cep__window_close_all(struct cep__window *w, struct cep__sigq *q)
{
	while (w->ghead) {
		if (!cep__sigq_room(q))
			return false;
		group_close(w, w->ghead, q);
		w->st.keys_expired++;
	}
	return true;
}

void cep__window_stats(const struct cep__window *w,
		       struct cep__window_stats *out)
{
	*out = w->st;
}
