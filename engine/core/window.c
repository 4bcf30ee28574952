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
 *
 * Memory (issue 7: bytes per tracked key).  A group is one 96-byte record
 * in a pool of chunks that never move, named by a 32-bit index; what only
 * some groups need lives in a separate `ext` block made on first need:
 *
 * - The event a signal carries.  A signal made while an event is being fed
 *   carries that event; only a signal made when the group closes needs one
 *   kept, and only some groups can owe one: absence (the A that opened the
 *   window), a rule with an upper bound (judged at close), and a
 *   lower-bound rule's group once it has fired (its final signal).  Those
 *   keep the last event fed (absence: the first A), packed without its
 *   zero words (cep__window_pack_event()); the others keep none.
 * - Values: one value lives in the record; a second moves them to ext, as
 *   a hash set over a time-ordered list (distinct values), or as a FIFO of
 *   (ts, amount) for the rules whose every event is a new value
 *   (event_count, value_sum, value_avg, and alert_clear/backoff without a
 *   field), which need no hashing at all.
 * - A key longer than KEY_INLINE bytes, temporal_ordered's steps and
 *   backoff's next threshold.
 *
 * Nothing else is stored that can be derived: the due time comes from
 * last_ts (absence: first_ts) and the rule's timespan, the count from the
 * values, and "the peak grew since the last alert" is a flag (at each
 * alert of a lower-bound or backoff rule the count is the peak: a smaller
 * peak would have alerted earlier).
 *
 * mem_bytes counts what is allocated for groups, as the allocator sized
 * it (malloc_usable_size): the table, the pool's chunks (free records
 * included), and every ext block, value array and kept event.  The
 * reorder buffer is bounded by max_held and counted apart (held_bytes).
 */
#include "core/window.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/match.h"

#define NIL UINT32_MAX
#define NOTS UINT64_MAX /* temporal_ordered: no chain for this prefix */
#define CHAIN_MAX 64
#define KEY_INLINE 24   /* key bytes held in the record itself */
#define KEY_MAX (CEP__GROUP_BY_MAX * CEP__FIELD_ENC_MAX)

/* The group pool: chunk 0 holds POOL_FIRST records, chunk k (1 .. 7)
 * POOL_FIRST << (k - 1), so that a small rule set stays small; every
 * later chunk holds POOL_CHUNK, so that a large one grows by 768 KiB
 * steps rather than by doubling. */
#define POOL_FIRST 64u
#define POOL_SMALL 8u
#define POOL_SMALL_END (POOL_FIRST << (POOL_SMALL - 1)) /* 8192 records */
#define POOL_CHUNK 8192u

/* --- memory accounting ------------------------------------------------------ */

/* Not const void *: GCC would then take the call for a read of memory
 * just allocated (-Wmaybe-uninitialized). */
static size_t msize(void *p)
{
	return p ? malloc_usable_size(p) : 0;
}

/* realloc(p, n), counting the change in *bytes; NULL (p kept) on OOM. */
static void *acct_realloc(uint64_t *bytes, void *p, size_t n)
{
	size_t before = msize(p);
	void *q = realloc(p, n);

	if (!q)
		return NULL;
	*bytes -= before;
	*bytes += msize(q);
	return q;
}

static void acct_free(uint64_t *bytes, void *p)
{
	*bytes -= msize(p);
	free(p);
}

/* --- the packed event ------------------------------------------------------- */

size_t cep__window_pack_event(const struct cep_event *ev,
			      uint64_t out[CEP__WINDOW_PACK_WORDS])
{
	const unsigned char *p = (const unsigned char *)ev;
	uint64_t map = 0;
	size_t n = 1;

	for (unsigned i = 0; i < CEP_EVENT_SIZE / 8; i++) {
		uint64_t x;

		memcpy(&x, p + 8 * i, sizeof x);
		if (x) {
			map |= 1ULL << i;
			out[n++] = x;
		}
	}
	out[0] = map;
	return n;
}

void cep__window_unpack_event(const uint64_t *in, struct cep_event *ev)
{
	unsigned char *p = (unsigned char *)ev;
	uint64_t map = in[0];
	size_t n = 1;

	memset(ev, 0, sizeof *ev);
	while (map) {
		unsigned i = (unsigned)__builtin_ctzll(map);

		memcpy(p + 8 * i, &in[n++], sizeof in[0]);
		map &= map - 1;
	}
}

/* --- records ---------------------------------------------------------------- */

/* A distinct value: a node of a set's time-ordered list. */
struct vnode {
	uint64_t val, ts;
	uint32_t prev, next; /* time-ordered list; next doubles as free list */
};

/* Distinct values: an open-addressing table of node indices over a node
 * array kept in time order by an intrusive list. */
struct vset {
	struct vnode *nodes;
	uint32_t *slots;     /* node indices, NIL when empty */
	uint32_t ncap, nused, freelist;
	uint32_t scap;       /* power of two, or 0 before the first value */
	uint32_t count;
	uint32_t head, tail; /* oldest, newest */
};

/* Rules whose every event is a new value: the events in arrival order. */
struct tick {
	uint64_t ts, amt;
};

struct fifo {
	struct tick *buf;
	uint32_t cap, head, count; /* cap is a power of two */
	uint64_t sum;              /* of amt over the live entries (mod 2^64) */
};

/* What only some groups need (see the top of the file). */
struct gext {
	union {
		struct vset set;  /* G_BIG, distinct values */
		struct fifo fifo; /* G_BIG, every event a value */
	} v;
	uint64_t *ev;     /* the kept event, packed; NULL when none */
	uint64_t next_at; /* backoff: the count of the next alert */
	uint64_t tail[];  /* a key longer than KEY_INLINE, then the steps */
};

enum {
	G_FIRED = 1 << 0,   /* alerted at least once */
	G_ALERTED = 1 << 1, /* alert_clear: alerted and not cleared since */
	G_GROWN = 1 << 2,   /* the peak grew since the last alert */
	G_ONE = 1 << 3,     /* u.one holds a value */
	G_BIG = 1 << 4,     /* the values are in ext->v */
};

struct group {
	/* What a lookup compares, in the first 32 bytes: records are 96
	 * bytes apart, so these never straddle a cache line. */
	uint32_t slot;   /* the correlation rule's slot */
	uint16_t keylen;
	uint8_t ref;     /* which referenced rule the last event matched */
	uint8_t flags;   /* G_* */
	uint8_t key[KEY_INLINE]; /* the key, unless longer (then in ext) */
	uint32_t gprev, gnext; /* all groups, oldest update first */
	uint32_t rprev, rnext; /* this rule's groups, by due time */
	uint64_t first_ts, last_ts;
	uint64_t peak;   /* largest count this window reached */
	struct gext *ext;
	union {
		struct {
			uint64_t a;  /* the value, or (every event a value)
					the amount */
			uint64_t ts; /* when it was last seen */
		} one;
		uint64_t cur; /* absence: the As seen */
	} u;
};

_Static_assert(sizeof(struct group) == 96, "a group record is 96 bytes");

/* How a rule's events become values. */
enum vmode { V_FIELD, V_REF, V_EVENT };

struct rstate {
	uint32_t head, tail; /* groups by due time */
	uint32_t live;
	uint8_t type;        /* enum cep__corr_type */
	uint8_t vmode;       /* enum vmode */
	bool upward;
	uint64_t span;
	const struct cep__rule *r;
};

/* A correlation a held event feeds: bit p of mask for each rule refs[p]
 * it matched, and the table hash of the group its first lookup will name
 * (see first_ref()), computed when the event arrives: the release then
 * need not hash, and can warm up the table slot and the group ahead. */
struct feed {
	uint64_t mask;
	uint32_t slot;
	uint32_t hint;
};

/* An event waiting in the reorder buffer with the correlations it feeds,
 * in slot order: the first HELD_INLINE in the entry, the rest (rare) in a
 * list in xfeed[]. */
#define HELD_INLINE 4

struct held {
	struct cep_event ev;
	uint32_t n, done; /* feeds in all, and fed already */
	uint32_t more;    /* feeds HELD_INLINE.. : list head in xfeed[] */
	struct feed in[HELD_INLINE];
};

struct xfeed {
	struct feed f;
	uint32_t next;
};

/* A heap or run slot: the entry's ts beside its index, so that most
 * comparisons touch only this array. */
struct hslot {
	uint64_t ts;
	uint32_t idx;
};

/* A table slot: the group's index and the low 32 bits of its hash, so
 * that a probe touches a group only when the hash matches, and growing
 * or deleting never touches one. */
struct tslot {
	uint32_t hash;
	uint32_t idx; /* NIL: empty */
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
	struct tslot *table;
	size_t cap, count; /* cap is a power of two */
	uint32_t ghead, gtail;
	struct rstate *rules; /* by correlation slot */
	struct cep__window_stats st;
	/* No group is due before this: a lower bound on the heads' due
	 * times, so that a sweep costs a pass over the rules only when
	 * something is due, not on every event. */
	uint64_t next_due;
	/* The group pool: pused records handed out so far, pcap in the
	 * chunks allocated, pfree a list of freed ones (through gnext). */
	struct group **chunk;
	uint32_t nchunk, chunk_cap;
	size_t chunk_bytes; /* the chunks' own, as counted in mem_bytes */
	uint32_t pused, pcap, pfree;
	/* Reorder buffer: pool[] entries, free[] their free indices; an
	 * entry waits in run[] (a ring in release order, where events that
	 * arrive in order go) or heap[] (a 4-ary min-heap for the others). */
	struct held *pool;
	uint32_t *free;
	struct hslot *run, *heap;
	uint32_t nheld, hcap, rhead, nrun, nheap;
	struct xfeed *xfeed;
	uint32_t xcap, xused, xfree, nx;
	/* The hash a lookup of (slot, ref) may take instead of hashing: the
	 * hint of the feed being released (when on). */
	struct {
		bool on;
		uint32_t slot, ref, hash;
	} hint;
	uint64_t floor; /* ts of the last entry released */
	struct chained chain[CHAIN_MAX];
	unsigned chead, nchain;
};

/* t + span, saturating: a timespan may be as long as the caller likes. */
static uint64_t due_at(uint64_t t, uint64_t span)
{
	return t > UINT64_MAX - span ? UINT64_MAX : t + span;
}

static struct group *grp(const struct cep__window *w, uint32_t i)
{
	unsigned k;

	if (i >= POOL_SMALL_END) {
		i -= POOL_SMALL_END;
		return &w->chunk[POOL_SMALL + i / POOL_CHUNK][i % POOL_CHUNK];
	}
	if (i < POOL_FIRST)
		return &w->chunk[0][i];
	k = 32u - (unsigned)__builtin_clz(i / POOL_FIRST);
	return &w->chunk[k][i - (POOL_FIRST << (k - 1))];
}

static uint32_t chunk_records(uint32_t k)
{
	if (k == 0)
		return POOL_FIRST;
	return k < POOL_SMALL ? POOL_FIRST << (k - 1) : POOL_CHUNK;
}

/* Bytes a new record costs now: a chunk when none is free. */
static size_t pool_need(const struct cep__window *w)
{
	if (w->pfree != NIL || w->pused < w->pcap)
		return 0;
	return (size_t)chunk_records(w->nchunk) * sizeof(struct group);
}

static bool pool_add_chunk(struct cep__window *w)
{
	uint32_t n = chunk_records(w->nchunk);
	struct group *c;

	if ((uint64_t)w->pcap + n >= NIL)
		return false;
	if (w->nchunk == w->chunk_cap) {
		uint32_t ncap = w->chunk_cap ? w->chunk_cap * 2 : 16;
		struct group **a = acct_realloc(&w->st.mem_bytes, w->chunk,
						(size_t)ncap * sizeof *a);

		if (!a)
			return false;
		w->chunk = a;
		w->chunk_cap = ncap;
	}
	c = malloc((size_t)n * sizeof *c);
	if (!c)
		return false;
	w->st.mem_bytes += msize(c);
	w->chunk_bytes += msize(c);
	w->chunk[w->nchunk++] = c;
	w->pcap += n;
	return true;
}

/* A free record's index, or NIL on OOM. */
static uint32_t pool_take(struct cep__window *w)
{
	uint32_t i = w->pfree;

	if (i != NIL) {
		w->pfree = grp(w, i)->gnext;
		return i;
	}
	if (w->pused == w->pcap && !pool_add_chunk(w))
		return NIL;
	return w->pused++;
}

static void pool_put(struct cep__window *w, uint32_t i)
{
	grp(w, i)->gnext = w->pfree;
	w->pfree = i;
}

static const uint8_t *gkey(const struct group *g)
{
	return g->keylen > KEY_INLINE ? (const uint8_t *)g->ext->tail : g->key;
}

static uint64_t *gsteps(const struct group *g)
{
	size_t off = g->keylen > KEY_INLINE ? ((size_t)g->keylen + 7) / 8 : 0;

	return g->ext->tail + off;
}

static uint64_t gdue(const struct cep__window *w, const struct group *g)
{
	const struct rstate *rs = &w->rules[g->slot];

	return due_at(rs->type == CEP__CORR_ABSENCE ? g->first_ts : g->last_ts,
		      rs->span);
}

/* Every byte a group holds outside its record. */
static size_t ext_bytes(const struct cep__window *w, const struct group *g)
{
	struct gext *x = g->ext;
	size_t n;

	if (!x)
		return 0;
	n = msize(x) + msize(x->ev);
	if (g->flags & G_BIG) {
		if (w->rules[g->slot].vmode == V_EVENT)
			n += msize(x->v.fifo.buf);
		else
			n += msize(x->v.set.nodes) + msize(x->v.set.slots);
	}
	return n;
}

static void ext_free(struct cep__window *w, struct group *g)
{
	struct gext *x = g->ext;

	if (!x)
		return;
	if (g->flags & G_BIG) {
		if (w->rules[g->slot].vmode == V_EVENT) {
			acct_free(&w->st.mem_bytes, x->v.fifo.buf);
		} else {
			acct_free(&w->st.mem_bytes, x->v.set.nodes);
			acct_free(&w->st.mem_bytes, x->v.set.slots);
		}
	}
	acct_free(&w->st.mem_bytes, x->ev);
	acct_free(&w->st.mem_bytes, x);
	g->ext = NULL;
}

/* g->ext, made empty when g has none yet; NULL on OOM. */
static struct gext *ext_of(struct cep__window *w, struct group *g)
{
	if (!g->ext) {
		g->ext = calloc(1, sizeof *g->ext);
		if (g->ext)
			w->st.mem_bytes += msize(g->ext);
	}
	return g->ext;
}

/* Keeps a packed copy of ev as g's event (counted as nomem when it cannot:
 * a signal it would have carried is then dropped and counted). */
static void keep_event(struct cep__window *w, struct group *g,
		       const struct cep_event *ev)
{
	uint64_t buf[CEP__WINDOW_PACK_WORDS];
	size_t n = cep__window_pack_event(ev, buf) * sizeof buf[0];
	struct gext *x = ext_of(w, g);

	if (!x) {
		w->st.nomem++;
		return;
	}
	if (msize(x->ev) < n) {
		uint64_t *p = acct_realloc(&w->st.mem_bytes, x->ev, n);

		if (!p) {
			w->st.nomem++;
			acct_free(&w->st.mem_bytes, x->ev);
			x->ev = NULL;
			return;
		}
		x->ev = p;
	}
	memcpy(x->ev, buf, n);
}

/* g's kept event in *tmp, or NULL when it has none. */
static const struct cep_event *kept_event(const struct group *g,
					  struct cep_event *tmp)
{
	if (!g->ext || !g->ext->ev)
		return NULL;
	cep__window_unpack_event(g->ext->ev, tmp);
	return tmp;
}

/* --- distinct values ------------------------------------------------------- */

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

static bool vset_grow_slots(struct cep__window *w, struct vset *s)
{
	uint32_t ncap = s->scap ? s->scap * 2 : 8;
	uint32_t *slots = malloc((size_t)ncap * sizeof *slots);
	uint32_t *old = s->slots;
	uint32_t slot;

	if (!slots)
		return false;
	w->st.mem_bytes += msize(slots);
	memset(slots, 0xff, (size_t)ncap * sizeof *slots);
	s->slots = slots;
	s->scap = ncap;
	for (uint32_t i = s->head; i != NIL; i = s->nodes[i].next) {
		vset_find(s, s->nodes[i].val, &slot);
		s->slots[slot] = i;
	}
	acct_free(&w->st.mem_bytes, old);
	return true;
}

static bool vset_node(struct cep__window *w, struct vset *s, uint32_t *idx)
{
	if (s->freelist != NIL) {
		*idx = s->freelist;
		s->freelist = s->nodes[*idx].next;
		return true;
	}
	if (s->nused == s->ncap) {
		uint32_t ncap = s->ncap ? s->ncap * 2 : 4;
		struct vnode *n = acct_realloc(&w->st.mem_bytes, s->nodes,
					       (size_t)ncap * sizeof *n);

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

/* Adds val, or refreshes it; false only when it had to be added and
 * memory ran out (counted). */
static bool vset_touch(struct cep__window *w, struct vset *s, uint64_t val,
		       uint64_t ts)
{
	uint32_t slot, i = s->scap ? vset_find(s, val, &slot) : NIL;

	if (i != NIL) {
		if (ts > s->nodes[i].ts)
			s->nodes[i].ts = ts;
		lru_unlink(s, i);
		lru_append(s, i);
		return true;
	}
	if (s->count >= w->lim.max_values) {
		w->st.values_overflow++;
		return true;
	}
	if (((uint64_t)s->count + 1) * 4 > (uint64_t)s->scap * 3 &&
	    !vset_grow_slots(w, s)) {
		w->st.nomem++;
		return false;
	}
	if (!vset_node(w, s, &i)) {
		w->st.nomem++;
		return false;
	}
	s->nodes[i].val = val;
	s->nodes[i].ts = ts;
	vset_find(s, val, &slot);
	s->slots[slot] = i;
	lru_append(s, i);
	s->count++;
	return true;
}

/* The group's distinct values: one inline, more in ext->v.set. */
static void values_touch(struct cep__window *w, struct group *g, uint64_t val,
			 uint64_t ts)
{
	struct vset *s;

	if (g->flags & G_BIG) {
		vset_touch(w, &g->ext->v.set, val, ts);
		return;
	}
	if (g->flags & G_ONE && g->u.one.a == val) {
		if (ts > g->u.one.ts)
			g->u.one.ts = ts;
		return;
	}
	if ((g->flags & G_ONE ? 1u : 0u) >= w->lim.max_values) {
		w->st.values_overflow++;
		return;
	}
	if (!(g->flags & G_ONE)) {
		g->u.one.a = val;
		g->u.one.ts = ts;
		g->flags |= G_ONE;
		return;
	}
	/* A second value: both move to a set, the inline one first (it was
	 * seen earlier). */
	if (!ext_of(w, g)) {
		w->st.nomem++;
		return;
	}
	s = &g->ext->v.set;
	memset(s, 0, sizeof *s);
	s->head = s->tail = s->freelist = NIL;
	if (!vset_touch(w, s, g->u.one.a, g->u.one.ts)) {
		acct_free(&w->st.mem_bytes, s->nodes);
		acct_free(&w->st.mem_bytes, s->slots);
		memset(s, 0, sizeof *s);
		return;
	}
	g->flags = (uint8_t)((g->flags & ~G_ONE) | G_BIG);
	vset_touch(w, s, val, ts);
}

static void values_expire(struct group *g, uint64_t cutoff)
{
	if (g->flags & G_BIG)
		vset_expire(&g->ext->v.set, cutoff);
	else if (g->flags & G_ONE && g->u.one.ts < cutoff)
		g->flags &= (uint8_t)~G_ONE;
}

static uint64_t values_count(const struct group *g)
{
	if (g->flags & G_BIG)
		return g->ext->v.set.count;
	return g->flags & G_ONE ? 1 : 0;
}

/* --- every event a value ----------------------------------------------------- */

static bool fifo_push(struct cep__window *w, struct fifo *f, uint64_t ts,
		      uint64_t amt)
{
	if (f->count == f->cap) {
		uint32_t ncap = f->cap ? f->cap * 2 : 4;
		struct tick *b = malloc((size_t)ncap * sizeof *b);

		if (!b)
			return false;
		w->st.mem_bytes += msize(b);
		for (uint32_t i = 0; i < f->count; i++)
			b[i] = f->buf[(f->head + i) & (f->cap - 1)];
		acct_free(&w->st.mem_bytes, f->buf);
		f->buf = b;
		f->cap = ncap;
		f->head = 0;
	}
	f->buf[(f->head + f->count) & (f->cap - 1)] = (struct tick){ ts, amt };
	f->count++;
	f->sum += amt;
	return true;
}

static void events_push(struct cep__window *w, struct group *g, uint64_t ts,
			uint64_t amt)
{
	uint32_t count = g->flags & G_BIG ? g->ext->v.fifo.count :
					    (g->flags & G_ONE ? 1u : 0u);
	struct fifo *f;

	if (count >= w->lim.max_values) {
		w->st.values_overflow++;
		return;
	}
	if (!(g->flags & (G_ONE | G_BIG))) {
		g->u.one.a = amt;
		g->u.one.ts = ts;
		g->flags |= G_ONE;
		return;
	}
	if (g->flags & G_ONE) {
		if (!ext_of(w, g)) {
			w->st.nomem++;
			return;
		}
		f = &g->ext->v.fifo;
		memset(f, 0, sizeof *f);
		if (!fifo_push(w, f, g->u.one.ts, g->u.one.a)) {
			w->st.nomem++;
			return;
		}
		g->flags = (uint8_t)((g->flags & ~G_ONE) | G_BIG);
	}
	if (!fifo_push(w, &g->ext->v.fifo, ts, amt))
		w->st.nomem++;
}

static void events_expire(struct group *g, uint64_t cutoff)
{
	struct fifo *f;

	if (!(g->flags & G_BIG)) {
		if (g->flags & G_ONE && g->u.one.ts < cutoff)
			g->flags &= (uint8_t)~G_ONE;
		return;
	}
	f = &g->ext->v.fifo;
	while (f->count && f->buf[f->head].ts < cutoff) {
		f->sum -= f->buf[f->head].amt;
		f->head = (f->head + 1) & (f->cap - 1);
		f->count--;
	}
}

static uint64_t events_count(const struct group *g)
{
	if (g->flags & G_BIG)
		return g->ext->v.fifo.count;
	return g->flags & G_ONE ? 1 : 0;
}

static uint64_t events_sum(const struct group *g)
{
	if (g->flags & G_BIG)
		return g->ext->v.fifo.sum;
	return g->flags & G_ONE ? g->u.one.a : 0;
}

/* --- groups --------------------------------------------------------------- */

static const struct cep__rule *slot_rule(const struct cep__window *w,
					 uint32_t slot)
{
	return w->rules[slot].r;
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

/* "name=value,..." of ev (which matched refs[ref]), with alias names where
 * the rule wrote an alias. */
static void format_key(const struct cep__corr *k, const struct cep_event *ev,
		       unsigned ref, char *key, size_t size)
{
	size_t len = 0;

	for (unsigned i = 0; i < k->ngroup; i++) {
		char tmp[CEP_SIGNAL_KEY_MAX];
		const char *v = tmp;
		int f = group_field(k, ref, i), n;

		n = cep__field_format(ev, f, tmp, sizeof tmp);
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
			const struct cep_event *ev, uint64_t count, bool final,
			uint8_t kind, struct cep_signal *s)
{
	memset(s, 0, sizeof *s);
	/* Lengths were checked by the compiler: id, title and the longest
	 * possible key fit. */
	snprintf(s->rule_id, sizeof s->rule_id, "%s", cep__rule_sigid(r));
	snprintf(s->title, sizeof s->title, "%s", r->title);
	format_key(&r->corr, ev, g->ref, s->key, sizeof s->key);
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
	s->ev = *ev;
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

/* A signal of rule r about g, carrying ev (the event being fed, or the
 * group's kept one): to the caller when r emits, and, when it is an
 * alert, to the correlations that refer to r, at event time t. */
static void emit(struct cep__window *w, const struct cep__rule *r,
		 const struct group *g, const struct cep_event *ev,
		 uint64_t count, bool final, uint8_t kind, uint64_t t,
		 struct cep__sigq *q)
{
	if (r->emits) {
		struct cep_signal *s = cep__sigq_push(q);

		if (s)
			fill_signal(r, g, ev, count, final, kind, s);
		else
			w->st.signals_dropped++;
	}
	if (!final && kind != CEP_SIGNAL_CLEAR && r->ncorrs)
		chain_push(w, w->rs->corr_rules[g->slot], ev, t);
}

/* A signal owed at close, with the group's kept event; when memory ran
 * out keeping it, the signal is dropped and counted. */
static void emit_kept(struct cep__window *w, const struct cep__rule *r,
		      const struct group *g, uint64_t count, bool final,
		      uint8_t kind, uint64_t t, struct cep__sigq *q)
{
	struct cep_event tmp;
	const struct cep_event *ev = kept_event(g, &tmp);

	if (ev)
		emit(w, r, g, ev, count, final, kind, t, q);
	else
		w->st.signals_dropped++;
}

static void glist_unlink(struct cep__window *w, struct group *g)
{
	if (g->gprev != NIL) grp(w, g->gprev)->gnext = g->gnext;
	else w->ghead = g->gnext;
	if (g->gnext != NIL) grp(w, g->gnext)->gprev = g->gprev;
	else w->gtail = g->gprev;
}

static void glist_append(struct cep__window *w, uint32_t i, struct group *g)
{
	g->gnext = NIL;
	g->gprev = w->gtail;
	if (w->gtail != NIL) grp(w, w->gtail)->gnext = i;
	else w->ghead = i;
	w->gtail = i;
}

static void rlist_unlink(struct cep__window *w, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	if (g->rprev != NIL) grp(w, g->rprev)->rnext = g->rnext;
	else rs->head = g->rnext;
	if (g->rnext != NIL) grp(w, g->rnext)->rprev = g->rprev;
	else rs->tail = g->rprev;
}

static void rlist_append(struct cep__window *w, uint32_t i, struct group *g)
{
	struct rstate *rs = &w->rules[g->slot];

	g->rnext = NIL;
	g->rprev = rs->tail;
	if (rs->tail != NIL) grp(w, rs->tail)->rnext = i;
	else rs->head = i;
	rs->tail = i;
}

/* After an update: to the tail of the global LRU list, and of its rule's
 * list when its due time moved (it is then the latest due of its rule,
 * since entries arrive in time order). */
static void touch(struct cep__window *w, uint32_t i, struct group *g,
		  bool moved)
{
	if (w->gtail != i) {
		glist_unlink(w, g);
		glist_append(w, i, g);
	}
	if (moved && w->rules[g->slot].tail != i) {
		rlist_unlink(w, g);
		rlist_append(w, i, g);
	}
}

/* Only the low 32 bits of a group's hash are used: the table holds them,
 * and the table's index mask never has more. */
static uint32_t key_hash(const uint8_t *key, size_t len, uint32_t slot)
{
	return (uint32_t)cep__hash_bytes(key, len, slot);
}

static void table_put(struct tslot *t, size_t cap, uint32_t hash,
		      uint32_t idx)
{
	size_t mask = cap - 1, i = hash & mask;

	while (t[i].idx != NIL)
		i = (i + 1) & mask;
	t[i].hash = hash;
	t[i].idx = idx;
}

static void table_remove(struct cep__window *w, uint32_t idx, uint32_t hash)
{
	size_t mask = w->cap - 1, i = hash & mask, j;

	while (w->table[i].idx != idx)
		i = (i + 1) & mask;
	w->table[i].idx = NIL;
	for (j = i;;) {
		size_t k;

		j = (j + 1) & mask;
		if (w->table[j].idx == NIL)
			break;
		k = w->table[j].hash & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		w->table[i] = w->table[j];
		w->table[j].idx = NIL;
		i = j;
	}
	w->count--;
}

static struct tslot *table_alloc(size_t cap)
{
	struct tslot *t = malloc(cap * sizeof *t);

	if (t)
		memset(t, 0xff, cap * sizeof *t);
	return t;
}

/* Closes g: emits what it owes onto q (counted when q is full) and frees it. */
static void group_close(struct cep__window *w, uint32_t i, enum why why,
			struct cep__sigq *q)
{
	struct group *g = grp(w, i);
	struct rstate *rs = &w->rules[g->slot];
	const struct cep__rule *r = rs->r;
	const struct cep__corr *k = &r->corr;

	switch (rs->type) {
	case CEP__CORR_ABSENCE:
		/* Only a window that ran out in event time proves absence. */
		if (why == EXPIRED && bounds_hold(k, g->u.cur))
			emit_kept(w, r, g, g->u.cur, false, CEP_SIGNAL_ABSENCE,
				  gdue(w, g), q);
		break;
	case CEP__CORR_ALERT_CLEAR:
		/* Idle for a whole timespan: the count is 0. */
		if (why == EXPIRED && g->flags & G_ALERTED)
			emit_kept(w, r, g, 0, false, CEP_SIGNAL_CLEAR,
				  gdue(w, g), q);
		break;
	default:
		if (why == ANSWERED)
			break;
		if (rs->upward ? (g->flags & G_FIRED && g->flags & G_GROWN) :
				 bounds_hold(k, g->peak))
			emit_kept(w, r, g, g->peak, true, CEP_SIGNAL_ALERT,
				  g->last_ts, q);
		break;
	}
	table_remove(w, i, key_hash(gkey(g), g->keylen, g->slot));
	glist_unlink(w, g);
	rlist_unlink(w, g);
	rs->live--;
	w->st.keys_live--;
	ext_free(w, g);
	pool_put(w, i);
}

static bool table_grow(struct cep__window *w)
{
	size_t ncap = w->cap * 2;
	struct tslot *t = table_alloc(ncap);

	if (!t)
		return false;
	w->st.mem_bytes += msize(t);
	for (size_t i = 0; i < w->cap; i++)
		if (w->table[i].idx != NIL)
			table_put(t, ncap, w->table[i].hash, w->table[i].idx);
	acct_free(&w->st.mem_bytes, w->table);
	w->table = t;
	w->cap = ncap;
	return true;
}

/*
 * What mem_bytes holds that no eviction frees: the table, the rule states,
 * the pool's chunks and their array (an evicted record only goes back to
 * the pool).  Evicting helps only while other groups hold bytes of their
 * own, or while the new group would need a chunk or a bigger table; past
 * that it would empty the window at every event without ever getting
 * under the ceiling.
 */
static size_t fixed_bytes(const struct cep__window *w)
{
	return msize(w->table) + msize(w->rules) + msize(w->chunk) +
	       w->chunk_bytes;
}

/* What the table grows by when one more group comes in: it doubles past
 * three quarters full. */
static size_t grow_need(const struct cep__window *w)
{
	return (w->count + 1) * 4 > w->cap * 3 ? w->cap * sizeof *w->table : 0;
}

static uint32_t group_find(const struct cep__window *w, uint32_t hash,
			   uint32_t slot, const uint8_t *key, size_t len)
{
	size_t mask = w->cap - 1;

	for (size_t i = hash & mask; w->table[i].idx != NIL;
	     i = (i + 1) & mask) {
		const struct group *g;

		if (w->table[i].hash != hash)
			continue;
		g = grp(w, w->table[i].idx);
		if (g->slot == slot && g->keylen == len &&
		    memcmp(gkey(g), key, len) == 0)
			return w->table[i].idx;
	}
	return NIL;
}

static uint32_t group_new(struct cep__window *w, uint32_t hash,
			  const struct cep__rule *r, const uint8_t *key,
			  size_t len, struct cep__sigq *q)
{
	uint32_t slot = r->corr.slot;
	struct rstate *rs = &w->rules[slot];
	size_t nsteps = rs->type == CEP__CORR_TEMPORAL_ORDERED ?
				r->corr.nrefs : 0;
	size_t keyext = len > KEY_INLINE ? (len + 7) / 8 * 8 : 0;
	size_t xbytes = keyext || nsteps || rs->type == CEP__CORR_BACKOFF ?
				sizeof(struct gext) + keyext + nsteps * 8 : 0;
	struct group *g;
	struct gext *x = NULL;
	uint32_t i;

	/* Make room first: the rule's own budget, then the global one. */
	if (rs->live >= w->lim.max_keys && rs->head != NIL) {
		group_close(w, rs->head, EVICTED, q);
		w->st.keys_evicted++;
	}
	/* The table's growth counts as well: a ceiling just above a
	 * doubling must stop the doubling, not empty the window.  The
	 * fixed part is looked up only at the ceiling (malloc_usable_size
	 * three times is not for every new group). */
	size_t fixed = SIZE_MAX;
	while (w->ghead != NIL &&
	       w->st.mem_bytes + pool_need(w) + grow_need(w) + xbytes >
		       w->lim.mem_ceiling) {
		if (fixed == SIZE_MAX)
			fixed = fixed_bytes(w);
		if (w->st.mem_bytes <= fixed && !pool_need(w) && !grow_need(w))
			break;
		group_close(w, w->ghead, EVICTED, q);
		w->st.keys_evicted++;
	}
	if (grow_need(w) && !table_grow(w))
		return NIL;
	if (xbytes) {
		x = calloc(1, xbytes);
		if (!x)
			return NIL;
	}
	i = pool_take(w);
	if (i == NIL) {
		free(x);
		return NIL;
	}
	g = grp(w, i);
	memset(g, 0, sizeof *g);
	g->slot = slot;
	g->keylen = (uint16_t)len;
	g->ext = x;
	if (x) {
		w->st.mem_bytes += msize(x);
		x->next_at = r->corr.alert;
	}
	memcpy(len > KEY_INLINE ? (uint8_t *)x->tail : g->key, key, len);
	for (size_t s = 0; s < nsteps; s++)
		gsteps(g)[s] = NOTS;
	table_put(w->table, w->cap, hash, i);
	w->count++;
	rlist_append(w, i, g);
	glist_append(w, i, g);
	rs->live++;
	w->st.keys_live++;
	return i;
}

/* A group's state grew (a value, a kept event) and may have crossed the
 * ceiling: evict the least recently updated other groups while they hold
 * bytes of their own (fixed_bytes()). */
static void shed(struct cep__window *w, uint32_t i, struct cep__sigq *q)
{
	if (w->st.mem_bytes <= w->lim.mem_ceiling)
		return;
	size_t floor = fixed_bytes(w) + ext_bytes(w, grp(w, i));

	while (w->st.mem_bytes > w->lim.mem_ceiling && w->ghead != i &&
	       w->st.mem_bytes > floor) {
		group_close(w, w->ghead, EVICTED, q);
		w->st.keys_evicted++;
	}
}

/* --- feeding ---------------------------------------------------------------- */

/* The key: each group-by value, addresses and text as
 * cep__field_encode() writes them (self-delimiting: family or length
 * first), numbers as LEB128, so that a port or a token takes one to three
 * bytes rather than eight.  Only equality of keys matters. */
static size_t key_of(const struct cep__corr *k, const struct cep_event *ev,
		     unsigned ref, uint8_t *key)
{
	size_t len = 0;

	for (unsigned i = 0; i < k->ngroup; i++) {
		int f = group_field(k, ref, i);
		uint8_t cls = cep__field_get(f)->cls;
		uint64_t v;

		if (cls == CEP__FC_IP || cls == CEP__FC_TEXT) {
			len += cep__field_encode(ev, f, key + len);
			continue;
		}
		v = cep__field_num(ev, f);
		while (v >= 0x80) {
			key[len++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		key[len++] = (uint8_t)v;
	}
	return len;
}

static uint32_t lookup(struct cep__window *w, const struct cep__rule *r,
		       const struct cep_event *ev, unsigned ref,
		       uint32_t *hashp, uint8_t *key, size_t *lenp,
		       struct cep__sigq *q)
{
	const struct cep__corr *k = &r->corr;
	uint32_t i;

	*lenp = key_of(k, ev, ref, key);
	if (w->hint.on && w->hint.slot == k->slot && w->hint.ref == ref)
		*hashp = w->hint.hash;
	else
		*hashp = key_hash(key, *lenp, k->slot);
	w->hint.on = false;
	i = group_find(w, *hashp, k->slot, key, *lenp);
	if (i != NIL && gdue(w, grp(w, i)) < ev->ts) {
		/* Due, and not swept yet (the queue was full). */
		group_close(w, i, EXPIRED, q);
		w->st.keys_expired++;
		i = NIL;
	}
	return i;
}

/* temporal_ordered: the event matched refs[i]; returns how many rules of
 * the list, from the first, have now been seen in order within the span. */
static uint64_t ordered_step(const struct cep__corr *k, uint64_t *steps,
			     unsigned i, uint64_t now)
{
	uint64_t done = 0;

	for (uint32_t j = 0; j < k->nrefs; j++)
		if (steps[j] != NOTS && now - steps[j] > k->timespan)
			steps[j] = NOTS;
	/* steps[j]: the latest start of a chain refs[0..j] seen in order;
	 * the latest start leaves the most time for the rest. */
	if (i == 0)
		steps[0] = now;
	else if (steps[i - 1] != NOTS &&
		 (steps[i] == NOTS || steps[i - 1] > steps[i]))
		steps[i] = steps[i - 1];
	for (uint32_t j = 0; j < k->nrefs; j++)
		if (steps[j] != NOTS)
			done = j + 1;
	return done;
}

/* absence: a B for this key answers the open window; it closes quietly. */
static void answer(struct cep__window *w, const struct cep__rule *r,
		   const struct cep_event *ev, struct cep__sigq *q)
{
	uint8_t key[KEY_MAX];
	uint32_t hash;
	size_t len;
	uint32_t i = lookup(w, r, ev, 1, &hash, key, &len, q);

	if (i != NIL)
		group_close(w, i, ANSWERED, q);
}

/* One event (of refs[ref]) into its group of correlation r. */
static void update(struct cep__window *w, const struct cep__rule *r,
		   const struct cep_event *ev, unsigned ref,
		   struct cep__sigq *q)
{
	const struct cep__corr *k = &r->corr;
	struct rstate *rs = &w->rules[k->slot];
	uint8_t key[KEY_MAX];
	uint32_t hash;
	uint64_t now = ev->ts, cur, due;
	size_t len;
	uint32_t i = lookup(w, r, ev, ref, &hash, key, &len, q);
	bool fresh = i == NIL;
	struct group *g;

	if (fresh) {
		i = group_new(w, hash, r, key, len, q);
		if (i == NIL) {
			w->st.nomem++;
			return;
		}
		g = grp(w, i);
		g->first_ts = g->last_ts = now;
		g->ref = (uint8_t)ref;
	}
	g = grp(w, i);
	if (rs->type == CEP__CORR_ABSENCE) {
		/* The window is the first A's; later As only add to it. */
		if (fresh)
			keep_event(w, g, ev);
		g->u.cur++;
		g->peak = g->u.cur;
		g->last_ts = now;
		if (fresh && gdue(w, g) < w->next_due)
			w->next_due = gdue(w, g);
		touch(w, i, g, false);
		shed(w, i, q);
		return;
	}
	if (rs->type == CEP__CORR_TEMPORAL_ORDERED) {
		cur = ordered_step(k, gsteps(g), ref, now);
		/* Signals start at the first event of the chain in order. */
		if (cur)
			g->first_ts = gsteps(g)[cur - 1];
	} else if (rs->vmode == V_EVENT) {
		bool amounts = rs->type == CEP__CORR_VALUE_SUM ||
			       rs->type == CEP__CORR_VALUE_AVG;

		events_expire(g, now > k->timespan ? now - k->timespan : 0);
		events_push(w, g, now, amounts ? cep__field_num(ev, k->field) : 0);
		if (rs->type == CEP__CORR_VALUE_SUM)
			cur = events_sum(g);
		else if (rs->type == CEP__CORR_VALUE_AVG)
			cur = events_count(g) ? events_sum(g) / events_count(g) :
						0;
		else
			cur = events_count(g);
	} else {
		uint64_t val = rs->vmode == V_REF ?
				       ref : cep__field_value64(ev, k->field);

		values_expire(g, now > k->timespan ? now - k->timespan : 0);
		values_touch(w, g, val, now);
		cur = values_count(g);
	}
	if (now > g->last_ts)
		g->last_ts = now;
	g->ref = (uint8_t)ref;
	due = due_at(g->last_ts, k->timespan);
	if (fresh && due < w->next_due)
		w->next_due = due;
	if (cur > g->peak) {
		g->peak = cur;
		g->flags |= G_GROWN;
	}
	touch(w, i, g, true);
	switch (rs->type) {
	case CEP__CORR_ALERT_CLEAR:
		if (!(g->flags & G_ALERTED) && cur >= k->alert) {
			emit(w, r, g, ev, cur, false, CEP_SIGNAL_ALERT, now, q);
			g->flags |= G_ALERTED | G_FIRED;
			g->flags &= (uint8_t)~G_GROWN;
		} else if (g->flags & G_ALERTED && cur <= k->clear) {
			emit(w, r, g, ev, cur, false, CEP_SIGNAL_CLEAR, now, q);
			g->flags &= (uint8_t)~G_ALERTED;
		}
		break;
	case CEP__CORR_BACKOFF:
		if (cur >= g->ext->next_at) {
			uint64_t *next = &g->ext->next_at;

			emit(w, r, g, ev, cur, false, CEP_SIGNAL_ALERT, now, q);
			g->flags |= G_FIRED;
			g->flags &= (uint8_t)~G_GROWN;
			/* Skip the thresholds this count already passed. */
			while (*next <= cur)
				*next = *next > UINT64_MAX / k->factor ?
						UINT64_MAX : *next * k->factor;
		}
		break;
	default:
		if (rs->upward && !(g->flags & G_FIRED) && bounds_hold(k, cur)) {
			emit(w, r, g, ev, cur, false, CEP_SIGNAL_ALERT, now, q);
			g->flags |= G_FIRED;
			g->flags &= (uint8_t)~G_GROWN;
		}
		break;
	}
	/* A group that may owe a signal at close keeps the event it would
	 * carry: the last one. */
	if (!rs->upward || g->flags & G_FIRED)
		keep_event(w, g, ev);
	shed(w, i, q);
}

/* The ref of the first lookup feed() makes for mask. */
static unsigned first_ref(uint8_t type, uint64_t mask)
{
	switch (type) {
	case CEP__CORR_TEMPORAL_ORDERED:
		return 63u - (unsigned)__builtin_clzll(mask);
	case CEP__CORR_ABSENCE:
		return mask & 2 ? 1 : 0;
	default:
		return (unsigned)__builtin_ctzll(mask);
	}
}

/* One event into correlation r: it matched the rules refs[p] for each
 * bit p of mask. */
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
		uint32_t best = NIL;
		uint64_t bdue = 0;

		for (uint32_t slot = 0; slot < w->rs->ncorr; slot++) {
			uint32_t i = w->rules[slot].head;
			uint64_t d;

			if (i == NIL)
				continue;
			d = gdue(w, grp(w, i));
			if (d < now && (best == NIL || d < bdue)) {
				best = i;
				bdue = d;
			}
		}
		if (best == NIL || !cep__sigq_room(q))
			break;
		group_close(w, best, EXPIRED, q);
		w->st.keys_expired++;
		chain_drain(w, q);
	}
	next = UINT64_MAX;
	for (uint32_t slot = 0; slot < w->rs->ncorr; slot++) {
		uint32_t i = w->rules[slot].head;

		if (i != NIL && gdue(w, grp(w, i)) < next)
			next = gdue(w, grp(w, i));
	}
	w->next_due = next;
}

/* --- reorder buffer --------------------------------------------------------- */

/* Release order: ts, then the event's bytes.  Identical events are
 * interchangeable. */
static int held_cmp(const struct cep__window *w, const struct hslot *a,
		    const struct hslot *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(&w->pool[a->idx].ev, &w->pool[b->idx].ev,
		      sizeof(struct cep_event));
}

static void heap_up(struct cep__window *w, uint32_t i)
{
	struct hslot *h = w->heap, t;

	while (i > 0) {
		uint32_t p = (i - 1) / 4;

		if (held_cmp(w, &h[p], &h[i]) <= 0)
			break;
		t = h[p], h[p] = h[i], h[i] = t;
		i = p;
	}
}

static void heap_down(struct cep__window *w, uint32_t i)
{
	struct hslot *h = w->heap, t;
	uint32_t n = w->nheap;

	for (;;) {
		uint32_t c = 4 * i + 1, m = i;

		for (uint32_t j = c; j < c + 4 && j < n; j++)
			if (held_cmp(w, &h[j], &h[m]) < 0)
				m = j;
		if (m == i)
			return;
		t = h[m], h[m] = h[i], h[i] = t;
		i = m;
	}
}

static uint32_t run_at(const struct cep__window *w, uint32_t k)
{
	uint32_t i = w->rhead + k;

	return i >= w->hcap ? i - w->hcap : i;
}

/* Puts held entry idx in release order: at the end of the run when it
 * comes after everything there (events arriving in order), else in the
 * heap. */
static void held_insert(struct cep__window *w, uint32_t idx)
{
	struct hslot s = { w->pool[idx].ev.ts, idx };

	if (w->nrun == 0 ||
	    held_cmp(w, &w->run[run_at(w, w->nrun - 1)], &s) <= 0) {
		w->run[run_at(w, w->nrun++)] = s;
		return;
	}
	w->heap[w->nheap++] = s;
	heap_up(w, w->nheap - 1);
}

/* The next entry to release: the smaller of the run's head and the heap's
 * top; *in_run says which. */
static struct hslot held_top(const struct cep__window *w, bool *in_run)
{
	*in_run = w->nheap == 0 ||
		  (w->nrun && held_cmp(w, &w->run[w->rhead], &w->heap[0]) <= 0);
	return *in_run ? w->run[w->rhead] : w->heap[0];
}

static void held_pop(struct cep__window *w, bool in_run)
{
	if (in_run) {
		w->rhead = run_at(w, 1);
		w->nrun--;
		return;
	}
	w->heap[0] = w->heap[--w->nheap];
	heap_down(w, 0);
}

static bool held_grow(struct cep__window *w)
{
	uint32_t ncap = w->hcap ? w->hcap * 2 : 64;
	struct held *pool;
	struct hslot *heap, *run;
	uint32_t *fr;

	if (ncap > w->lim.max_held)
		ncap = w->lim.max_held;
	if (ncap <= w->hcap)
		return false;
	pool = acct_realloc(&w->st.held_bytes, w->pool,
			    (size_t)ncap * sizeof *pool);
	if (!pool)
		return false;
	w->pool = pool;
	fr = acct_realloc(&w->st.held_bytes, w->free, (size_t)ncap * sizeof *fr);
	if (!fr)
		return false;
	w->free = fr;
	heap = acct_realloc(&w->st.held_bytes, w->heap,
			    (size_t)ncap * sizeof *heap);
	if (!heap)
		return false;
	w->heap = heap;
	run = malloc((size_t)ncap * sizeof *run);
	if (!run)
		return false;
	w->st.held_bytes += msize(run);
	for (uint32_t k = 0; k < w->nrun; k++)
		run[k] = w->run[run_at(w, k)];
	acct_free(&w->st.held_bytes, w->run);
	w->run = run;
	w->rhead = 0;
	/* Free indices are a stack; the new ones go on it. */
	for (uint32_t i = w->hcap; i < ncap; i++)
		w->free[i - w->nheld] = i;
	w->hcap = ncap;
	return true;
}

/* The feeds of an entry of n that go to xfeed[]. */
static uint32_t xfeeds(uint32_t n)
{
	return n > HELD_INLINE ? n - HELD_INLINE : 0;
}

/* Room in xfeed[] for need more. */
static bool xfeed_reserve(struct cep__window *w, uint32_t need)
{
	uint32_t ncap = w->xcap ? w->xcap : 16;
	struct xfeed *x;

	if (w->xcap - w->nx >= need)
		return true;
	while (ncap - w->nx < need)
		ncap *= 2;
	x = acct_realloc(&w->st.held_bytes, w->xfeed, (size_t)ncap * sizeof *x);
	if (!x)
		return false;
	w->xfeed = x;
	w->xcap = ncap;
	return true;
}

static uint32_t xfeed_take(struct cep__window *w)
{
	uint32_t i = w->xfree;

	w->nx++;
	if (i != NIL) {
		w->xfree = w->xfeed[i].next;
		return i;
	}
	return w->xused++;
}

static void xfeed_put(struct cep__window *w, uint32_t i)
{
	w->xfeed[i].next = w->xfree;
	w->xfree = i;
	w->nx--;
}

/* The hint of feeding ev to correlation slot with mask (struct feed). */
static uint32_t feed_hint(const struct cep__window *w,
			  const struct cep_event *ev, uint32_t slot,
			  uint64_t mask)
{
	const struct rstate *rs = &w->rules[slot];
	uint8_t key[KEY_MAX];
	size_t len = key_of(&rs->r->corr, ev, first_ref(rs->type, mask), key);

	return key_hash(key, len, slot);
}

/* Stores x as the j-th feed of h (j counts from 0 in slot order; *link
 * is where the list of those past HELD_INLINE goes on). */
static void held_put(struct cep__window *w, struct held *h, uint32_t j,
		     struct feed x, uint32_t **link)
{
	uint32_t k;

	if (j < HELD_INLINE) {
		h->in[j] = x;
		return;
	}
	k = xfeed_take(w);
	w->xfeed[k].f = x;
	**link = k;
	*link = &w->xfeed[k].next;
}

/* Entry idx gets the feeds f[0..n), in slot order; xfeed_reserve() made
 * room. */
static void held_set(struct cep__window *w, uint32_t idx,
		     const struct feed *f, uint32_t n)
{
	struct held *h = &w->pool[idx];
	uint32_t *link = &h->more;

	h->n = n;
	h->done = 0;
	for (uint32_t j = 0; j < n; j++)
		held_put(w, h, j, f[j], &link);
	*link = NIL;
}

/* Entry idx (its event set) gets the correlations p[0..n), in slot order,
 * with their hints; xfeed_reserve() made room. */
static void held_link(struct cep__window *w, uint32_t idx,
		      const struct cep__window_feed *p, uint32_t n)
{
	struct held *h = &w->pool[idx];
	uint32_t *link = &h->more;

	h->n = n;
	h->done = 0;
	for (uint32_t j = 0; j < n; j++)
		held_put(w, h, j,
			 (struct feed){ p[j].mask, p[j].slot,
					feed_hint(w, &h->ev, p[j].slot,
						  p[j].mask) },
			 &link);
	*link = NIL;
}

/* The next feed of h, taken off it. */
static struct feed held_next(struct cep__window *w, struct held *h)
{
	struct feed f;
	uint32_t k;

	if (h->done < HELD_INLINE)
		return h->in[h->done++];
	k = h->more;
	f = w->xfeed[k].f;
	h->more = w->xfeed[k].next;
	xfeed_put(w, k);
	h->done++;
	return f;
}

/* Takes the feeds h is still waiting for off it, into out[]; returns how
 * many. */
static uint32_t held_rest(struct cep__window *w, struct held *h,
			  struct feed *out)
{
	uint32_t n = 0;

	while (h->done < h->n)
		out[n++] = held_next(w, h);
	return n;
}

/* Feeds the oldest entry to the first correlation it is waiting for,
 * after sweeping to its time; the entry leaves when that was its last. */
static void release_one(struct cep__window *w, struct cep__sigq *q)
{
	bool in_run;
	struct hslot t = held_top(w, &in_run);
	struct held *h = &w->pool[t.idx];
	struct feed f = held_next(w, h);
	bool last = h->done == h->n;

	if (last) {
		held_pop(w, in_run);
		w->nheld--;
	}
	sweep(w, h->ev.ts, q);
	if (h->ev.ts > w->floor)
		w->floor = h->ev.ts;
	w->hint.on = true;
	w->hint.slot = f.slot;
	w->hint.ref = first_ref(w->rules[f.slot].type, f.mask);
	w->hint.hash = f.hint;
	feed(w, slot_rule(w, f.slot), &h->ev, f.mask, q);
	w->hint.on = false;
	chain_drain(w, q);
	/* The entry is free only now: feeding never holds. */
	if (last)
		w->free[w->hcap - w->nheld - 1] = t.idx;
}

/* Releases a whole entry: the oldest, or one the same as it. */
static void release_entry(struct cep__window *w, struct cep__sigq *q)
{
	uint32_t before = w->nheld;

	while (w->nheld == before)
		release_one(w, q);
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

/* Entries ahead in the run (events that came in order), at which
 * prefetch_ahead() warms up: the entry itself, then its feeds' table
 * slots, then the groups those slots name. */
#define PF_ENTRY 24
#define PF_SLOT 16
#define PF_GROUP 8

static void prefetch_ahead(const struct cep__window *w)
{
	size_t mask = w->cap - 1;
	const struct held *h;

	if (w->nrun <= PF_ENTRY)
		return;
	h = &w->pool[w->run[run_at(w, PF_ENTRY)].idx];
	for (size_t k = 0; k < sizeof *h; k += 64)
		__builtin_prefetch((const char *)h + k);
	h = &w->pool[w->run[run_at(w, PF_SLOT)].idx];
	for (uint32_t j = h->done; j < h->n && j < HELD_INLINE; j++)
		__builtin_prefetch(&w->table[h->in[j].hint & mask]);
	h = &w->pool[w->run[run_at(w, PF_GROUP)].idx];
	for (uint32_t j = h->done; j < h->n && j < HELD_INLINE; j++) {
		size_t i = h->in[j].hint & mask;

		for (; w->table[i].idx != NIL; i = (i + 1) & mask) {
			if (w->table[i].hash == h->in[j].hint) {
				const char *g = (const char *)grp(w, w->table[i].idx);

				__builtin_prefetch(g);
				__builtin_prefetch(g + 64);
				break;
			}
		}
	}
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
	w->ghead = w->gtail = w->pfree = w->xfree = NIL;
	w->table = table_alloc(w->cap);
	w->rules = malloc((rs->ncorr ? rs->ncorr : 1) * sizeof *w->rules);
	if (!w->table || !w->rules) {
		free(w->table);
		free(w->rules);
		free(w);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < rs->ncorr; s++) {
		const struct cep__rule *r = &rs->rules[rs->corr_rules[s]];
		struct rstate *st = &w->rules[s];

		st->head = st->tail = NIL;
		st->live = 0;
		st->r = r;
		st->type = r->corr_type;
		st->upward = r->corr.upward;
		st->span = r->corr.timespan;
		if (r->corr_type == CEP__CORR_TEMPORAL)
			st->vmode = V_REF;
		else if (r->corr.field >= 0 &&
			 r->corr_type != CEP__CORR_VALUE_SUM &&
			 r->corr_type != CEP__CORR_VALUE_AVG)
			st->vmode = V_FIELD;
		else
			st->vmode = V_EVENT;
	}
	w->st.mem_bytes = msize(w->table) + msize(w->rules);
	*out = w;
	return 0;
}

void cep__window_destroy(struct cep__window *w)
{
	if (!w)
		return;
	for (uint32_t i = w->ghead; i != NIL;) {
		struct group *g = grp(w, i);

		i = g->gnext;
		ext_free(w, g);
	}
	for (uint32_t k = 0; k < w->nchunk; k++)
		free(w->chunk[k]);
	free(w->chunk);
	free(w->table);
	free(w->rules);
	free(w->pool);
	free(w->free);
	free(w->heap);
	free(w->run);
	free(w->xfeed);
	free(w);
}

bool cep__window_hold(struct cep__window *w, const struct cep_event *ev,
		      struct cep__window_feed *feeds, uint32_t n,
		      struct cep__sigq *q)
{
	uint32_t idx;

	if (n == 0)
		return true;
	/* Slot order: an event feeds its correlations one after the other,
	 * the lowest slot first.  n is small (the correlations one event
	 * feeds). */
	for (uint32_t i = 1; i < n; i++) {
		struct cep__window_feed f = feeds[i];
		uint32_t j = i;

		for (; j > 0 && feeds[j - 1].slot > f.slot; j--)
			feeds[j] = feeds[j - 1];
		feeds[j] = f;
	}
	if (w->nheld == w->hcap && !held_grow(w)) {
		if (w->nheld == 0) {
			w->st.nomem++;
			return true;
		}
		/* Full: the oldest goes now, and events older than it will
		 * count as late (cep__window_floor()), this one too. */
		release_entry(w, q);
		w->st.held_forced++;
		if (ev->ts < w->floor)
			return false;
	}
	if (!xfeed_reserve(w, xfeeds(n))) {
		w->st.nomem++;
		return true;
	}
	idx = w->free[w->hcap - w->nheld - 1];
	w->nheld++;
	w->pool[idx].ev = *ev;
	held_link(w, idx, feeds, n);
	held_insert(w, idx);
	return true;
}

void cep__window_advance(struct cep__window *w, uint64_t release_below,
			 uint64_t sweep_below, struct cep__sigq *q)
{
	bool in_run;

	while (w->nheld && held_top(w, &in_run).ts < release_below) {
		if (!release_room(q))
			return;
		prefetch_ahead(w);
		release_one(w, q);
	}
	/* Never sweep past an entry still held: it is fed first. */
	if (w->nheld && held_top(w, &in_run).ts < sweep_below)
		sweep_below = held_top(w, &in_run).ts;
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
		prefetch_ahead(w);
		release_one(w, q);
	}
	sweep(w, now, q);
	if (w->next_due < now)
		return false; /* the queue filled up */
	while (w->ghead != NIL) {
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

/* The held entries of w in release order of their containers: the run
 * first, then the heap's array; k-th of them. */
static uint32_t held_nth(const struct cep__window *w, uint32_t k)
{
	return k < w->nrun ? w->run[run_at(w, k)].idx : w->heap[k - w->nrun].idx;
}

int cep__window_migrate(struct cep__window *old, struct cep__window *nw,
			const uint32_t *map, uint64_t now, struct cep__sigq *q,
			struct cep__window_migration *out)
{
	struct cep__window_migration m = { 0 };
	struct tslot *table = NULL;
	uint32_t *newidx = NULL, nmove = 0, xneed = 0;
	struct feed *fa = NULL, *fb = NULL, *fs = NULL;
	size_t ngroups = 0, cap = nw->cap;
	bool grow = q->grow;

	/* 1. Everything that may fail, before anything moves. */
	for (uint32_t i = old->ghead; i != NIL; i = grp(old, i)->gnext)
		ngroups += kept(map, grp(old, i)->slot);
	for (uint32_t k = 0; k < old->nheld; k++) {
		const struct held *h = &old->pool[held_nth(old, k)];
		uint32_t n = 0;

		for (uint32_t j = h->done; j < h->n && j < HELD_INLINE; j++)
			n += kept(map, h->in[j].slot);
		for (uint32_t x = h->more; x != NIL; x = old->xfeed[x].next)
			n += kept(map, old->xfeed[x].f.slot);
		nmove += n > 0;
		xneed += xfeeds(n);
	}
	while ((ngroups + 1) * 4 > cap * 3)
		cap *= 2;
	if (cap > nw->cap && !(table = table_alloc(cap)))
		goto nomem;
	if (old->pused && !(newidx = malloc((size_t)old->pused * sizeof *newidx)))
		goto nomem;
	/* An entry feeds each correlation once: ncorr feeds at most, split
	 * into those that move (fb) and those that stay (fs). */
	if (old->rs->ncorr && !(fa = malloc(3 * old->rs->ncorr * sizeof *fa)))
		goto nomem;
	if (fa) { /* no arithmetic on NULL when there is no correlation */
		fb = fa + old->rs->ncorr;
		fs = fb + old->rs->ncorr;
	}
	while (nw->pcap < ngroups)
		if (!pool_add_chunk(nw))
			goto nomem;
	while (nw->hcap < nmove)
		if (!held_grow(nw))
			goto nomem;
	if (!xfeed_reserve(nw, xneed))
		goto nomem;
	if (table) {
		nw->st.mem_bytes += msize(table);
		acct_free(&nw->st.mem_bytes, nw->table);
		nw->table = table;
		nw->cap = cap;
	}

	/* 2. Kept groups: out of old's table and update-ordered list into
	 * nw's (in the same order, so LRU eviction goes on as before), then
	 * each kept rule's due-ordered list, renumbering the slot.  The table
	 * hash is seeded with the slot, so it is computed again. */
	for (uint32_t i = old->ghead, next; i != NIL; i = next) {
		struct group *g = grp(old, i), *ng;
		uint32_t j;
		size_t bytes;

		next = g->gnext;
		if (!kept(map, g->slot))
			continue;
		glist_unlink(old, g);
		table_remove(old, i, (uint32_t)key_hash(gkey(g), g->keylen,
							 g->slot));
		bytes = ext_bytes(old, g);
		j = pool_take(nw); /* reserved above: cannot fail */
		ng = grp(nw, j);
		*ng = *g;
		ng->slot = map[g->slot];
		newidx[i] = j;
		table_put(nw->table, nw->cap,
			  (uint32_t)key_hash(gkey(ng), ng->keylen, ng->slot), j);
		nw->count++;
		glist_append(nw, j, ng);
		old->st.keys_live--;
		old->st.mem_bytes -= bytes;
		nw->st.keys_live++;
		nw->st.mem_bytes += bytes;
		m.groups_kept++;
	}
	for (uint32_t s = 0; s < old->rs->ncorr; s++) {
		uint32_t i, next;

		if (!kept(map, s))
			continue;
		for (i = old->rules[s].head; i != NIL; i = next) {
			next = grp(old, i)->rnext;
			rlist_append(nw, newidx[i], grp(nw, newidx[i]));
			grp(old, i)->ext = NULL; /* moved with the record */
			pool_put(old, i);
		}
		nw->rules[map[s]].live = old->rules[s].live;
		old->rules[s].head = old->rules[s].tail = NIL;
		old->rules[s].live = 0;
	}
	nw->next_due = UINT64_MAX;
	for (uint32_t s = 0; s < nw->rs->ncorr; s++)
		if (nw->rules[s].head != NIL &&
		    gdue(nw, grp(nw, nw->rules[s].head)) < nw->next_due)
			nw->next_due = gdue(nw, grp(nw, nw->rules[s].head));

	/* 3. Held entries: the feeds of kept correlations move, renumbered,
	 * put in the new slot order and hinted again (the hash is seeded
	 * with the slot), with a copy of their event; the others stay, and
	 * an entry left with none leaves old's run or heap (both are
	 * compacted in place, the heap then rebuilt). */
	{
		uint32_t nrun = 0, nheap = 0, n = old->nheld;

		for (uint32_t k = 0; k < n; k++) {
			uint32_t idx = held_nth(old, k), nb = 0, ns = 0;
			struct held *h = &old->pool[idx];
			uint32_t na = held_rest(old, h, fa);

			for (uint32_t a = 0; a < na; a++) {
				uint32_t b;

				if (!kept(map, fa[a].slot)) {
					fs[ns++] = fa[a];
					continue;
				}
				/* Insertion sort: the new slot order. */
				for (b = nb++; b > 0 && fb[b - 1].slot > map[fa[a].slot]; b--)
					fb[b] = fb[b - 1];
				fb[b] = (struct feed){
					fa[a].mask, map[fa[a].slot],
					feed_hint(nw, &h->ev, map[fa[a].slot],
						  fa[a].mask) };
			}
			if (nb) {
				uint32_t j = nw->free[nw->hcap - nw->nheld - 1];

				nw->nheld++;
				nw->pool[j].ev = h->ev;
				held_set(nw, j, fb, nb);
				held_insert(nw, j);
				m.held_kept++;
			}
			/* The xfeed[] nodes held_rest() freed are enough. */
			held_set(old, idx, fs, ns);
			if (ns) {
				struct hslot s = { h->ev.ts, idx };

				if (k < old->nrun)
					old->run[run_at(old, nrun++)] = s;
				else
					old->heap[nheap++] = s;
				m.held_flushed++;
			} else {
				old->nheld--;
				old->free[old->hcap - old->nheld - 1] = idx;
			}
		}
		old->nrun = nrun;
		old->nheap = nheap;
		for (uint32_t i = nheap / 4 + 1; i-- > 0;)
			if (i < nheap)
				heap_down(old, i);
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
	free(newidx);
	free(fa);
	if (out)
		*out = m;
	return 0;
nomem:
	free(table);
	free(newidx);
	free(fa);
	return -ENOMEM;
}
