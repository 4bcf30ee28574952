/*
 * index.c - the rule index (contract and picture in index.h).
 *
 * Build: each detection rule's condition is folded into an anchor set
 * (struct aset), the rule is filed under each of its atoms, and the atoms
 * become one hash table of posting lists, a literal filter (and, for short
 * literals, an Aho-Corasick automaton) per text field, and a prefix trie
 * per address field and family.  Lookup: hash each indexed field of the
 * event once, scan the lowercased text fields, walk the tries, mark the
 * rules found in a two-level bitmap, add the rules that have no anchor,
 * and read the bitmap out in rule order.
 *
 * The cost model that picks a group's anchor is a rough probability that
 * a random event hits the atom (a port is rarer than a protocol, a /24 is
 * rarer than a /8, a long literal is rarer than a short one).  It only
 * decides how many false candidates reach the matcher, never a result.
 */
#include "core/index.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/match.h"
#include "core/rule_priv.h"

/* --- atoms and anchor sets (build time only) ------------------------------- */

enum atom_type {
	A_NUM = 1, /* (field, number): NUM, TOKEN, BOOL */
	A_TEXT,    /* (field, lowercased exact text) */
	A_IP,      /* (field, family, length, masked prefix) */
	A_LIT,     /* (field, lowercased literal) for the automaton */
};

struct atom {
	uint8_t type;  /* enum atom_type */
	uint8_t field;
	uint8_t af, len; /* A_IP */
	uint8_t addr[16]; /* A_IP: the prefix, host bits clear */
	uint64_t key;  /* hashed atoms: the table key */
	char *lit;     /* A_LIT: owned */
	double cost;
};

/* A necessary condition: the rule can only match if one atom is hit. */
struct aset {
	bool unanch;   /* no usable anchor: a candidate for every event */
	double cost;   /* sum of the atoms' costs */
	struct atom *v;
	size_t n, cap;
};

#define LIT_MIN_COST 1e-6

static void aset_fini(struct aset *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].lit);
	free(a->v);
	memset(a, 0, sizeof *a);
}

static void aset_unanch(struct aset *a)
{
	aset_fini(a);
	a->unanch = true;
}

static int aset_push(struct aset *a, const struct atom *at)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct atom *v = realloc(a->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = *at;
	if (at->lit && !(a->v[a->n].lit = strdup(at->lit)))
		return -ENOMEM;
	a->n++;
	a->cost += at->cost;
	return 0;
}

/* dst |= src (OR).  src is left as it was. */
static int aset_union(struct aset *dst, const struct aset *src)
{
	if (dst->unanch || src->unanch) {
		aset_unanch(dst);
		return 0;
	}
	for (size_t i = 0; i < src->n; i++)
		if (aset_push(dst, &src->v[i]))
			return -ENOMEM;
	return 0;
}

static int aset_copy(struct aset *dst, const struct aset *src)
{
	memset(dst, 0, sizeof *dst);
	dst->unanch = src->unanch;
	if (!src->unanch && aset_union(dst, src)) {
		aset_fini(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Is a cheaper (more selective) than b?  Unanchorable is the dearest. */
static bool aset_better(const struct aset *a, const struct aset *b)
{
	if (a->unanch)
		return false;
	if (b->unanch)
		return true;
	return a->cost < b->cost;
}

/* --- atom keys: the same function at build and at lookup ------------------ */

enum { TAG_NUM = 1, TAG_TEXT, TAG_IP };

static inline uint64_t nonzero(uint64_t k)
{
	return k ? k : 1; /* 0 marks an empty table slot */
}

/* splitmix64's finaliser, here so that it inlines (cep__hash_u64 is the
 * same function in match.c). */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A hash of n bytes, eight at a time: the index hashes every text field
 * of every event, and a byte-at-a-time hash is a chain of n multiplies. */
static inline uint64_t hash_text(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = mix(seed ^ n), w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b, n);
	return mix(h ^ w);
}

static inline uint64_t key_num(unsigned field, uint64_t v)
{
	return nonzero(mix(v ^ mix(((uint64_t)TAG_NUM << 32) | field)));
}

static inline uint64_t key_text(unsigned field, const char *s, size_t n)
{
	return nonzero(hash_text(s, n, ((uint64_t)TAG_TEXT << 32) | field));
}

/* The key of (field, af, len, addr masked to len). */
static inline uint64_t key_ip(unsigned field, unsigned af, unsigned len,
			      const uint8_t *addr)
{
	uint8_t buf[16];
	unsigned full = len / 8, rest = len % 8, n = full;

	memcpy(buf, addr, full);
	if (rest)
		buf[n++] = addr[full] & (uint8_t)(0xff << (8 - rest));
	return nonzero(hash_text(buf, n, ((uint64_t)TAG_IP << 32) |
					 (field << 16) | (af << 8) | len));
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* --- cost model --------------------------------------------------------- */

static double field_cost(unsigned field, uint64_t v)
{
	const struct cep__field *fd = cep__field_get((int)field);

	switch (fd->cls) {
	case CEP__FC_BOOL:
		return 0.5;
	case CEP__FC_TOKEN:
		return strcmp(fd->name, "kind") ? 0.15 : 0.6;
	default:
		if (v == 0)
			return 0.5; /* null, or a zero most events carry */
		if (!strcmp(fd->name, "proto"))
			return 0.3;
		if (!strcmp(fd->name, "tcp_flags"))
			return 0.25;
		if (!strncmp(fd->name, "icmp_", 5) || !strcmp(fd->name, "vlan"))
			return 0.1;
		return 0.01; /* ports, sizes, counts */
	}
}

static double prefix_cost(unsigned af, unsigned len)
{
	if (af == CEP_AF_NONE)
		return 0.3;
	if (af == CEP_AF_INET6)
		len = len / 4; /* an IPv6 /64 is about as wide as a v4 /16 */
	return fmax(pow(2.0, -(double)len / 2.0), 1e-5);
}

/* --- from predicates to atoms ------------------------------------------- */

/*
 * Reads a Sigma pattern (the escapes of cep__text_match()) into its literal
 * characters, lowercased.  Sets *wild when it has a wildcard; the longest
 * run of literals between wildcards goes to run[0..*runlen), and with no
 * wildcard the whole text goes to exact[0..*exlen).  Buffers hold n bytes;
 * characters past them are dropped, which only shortens a literal (still
 * necessary) or, for exact text, makes it unusable (*exlen = SIZE_MAX).
 */
static void pattern_scan(const char *pat, char *exact, size_t *exlen,
			 char *run, size_t *runlen, size_t n, bool *wild)
{
	char cur[256];
	size_t clen = 0, ex = 0;

	*wild = false;
	*runlen = 0;
	for (const char *p = pat;; p++) {
		char c = *p;
		bool lit = false;

		if (c == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
			c = *++p;
			lit = true;
		}
		if (c == '\0' || (!lit && (c == '*' || c == '?'))) {
			if (clen > *runlen) {
				memcpy(run, cur, clen);
				*runlen = clen;
			}
			clen = 0;
			if (c == '\0')
				break;
			*wild = true;
			continue;
		}
		c = (char)lower((unsigned char)c);
		if (clen < sizeof cur && clen + 1 < n)
			cur[clen++] = c; /* room for run's NUL */
		if (ex < n)
			exact[ex] = c;
		ex++;
	}
	*exlen = ex <= n ? ex : SIZE_MAX;
}

#define LIT_MAX 128

/* The atom of one value of predicate p; false when it has none.  An A_LIT
 * atom's literal is written to run[LIT_MAX], which the caller owns. */
static bool value_atom(const struct cep__pred *p, const union cep__value *v,
		       struct atom *at, char *run)
{
	const struct cep__field *fd = cep__field_get(p->field);
	char exact[LIT_MAX];
	size_t exlen, runlen;
	bool wild;

	memset(at, 0, sizeof *at);
	at->field = p->field;
	switch (fd->cls) {
	case CEP__FC_NUM:
	case CEP__FC_TOKEN:
	case CEP__FC_BOOL:
		if (p->op != CEP__OP_EQ)
			return false;
		at->type = A_NUM;
		at->key = key_num(p->field, v->num);
		at->cost = field_cost(p->field, v->num);
		return true;
	case CEP__FC_IP:
		if (p->op != CEP__OP_EQ && p->op != CEP__OP_CIDR)
			return false;
		at->type = A_IP;
		at->af = v->ip.af;
		at->len = v->ip.af == CEP_AF_NONE ? 0 : v->ip.len;
		if ((at->af == CEP_AF_INET && at->len > 32) ||
		    (at->af == CEP_AF_INET6 && at->len > 128) ||
		    (at->af != CEP_AF_NONE && at->af != CEP_AF_INET &&
		     at->af != CEP_AF_INET6))
			return false;
		at->key = key_ip(p->field, at->af, at->len, v->ip.addr);
		for (unsigned b = 0; b < at->len && at->af; b++)
			if (v->ip.addr[b / 8] & (0x80u >> (b % 8)))
				at->addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		at->cost = prefix_cost(at->af, at->len);
		return true;
	case CEP__FC_TEXT:
		if (!v->text)
			return false;
		if (!(p->flags & CEP__PF_WILD)) {
			/* A plain literal (match.h): escapes already removed. */
			exlen = strlen(v->text);
			if (exlen >= sizeof exact)
				return false;
			for (size_t i = 0; i <= exlen; i++)
				exact[i] = run[i] =
					(char)lower((unsigned char)v->text[i]);
			runlen = exlen;
			wild = p->op != CEP__OP_EQ; /* contains, starts, ends */
		} else {
				pattern_scan(v->text, exact, &exlen, run, &runlen,
				     LIT_MAX, &wild);
		}
		if (!wild) {
			if (exlen == SIZE_MAX)
				return false;
			at->type = A_TEXT;
			at->key = key_text(p->field, exact, exlen);
			at->cost = 1e-4;
			return true;
		}
		if (runlen == 0)
			return false;
		run[runlen] = '\0';
		at->type = A_LIT;
		at->lit = run; /* aset_push copies it */
		at->cost = fmax(pow(0.25, (double)runlen), LIT_MIN_COST);
		return true;
	default:
		return false;
	}
}

/* The anchor set of one predicate. */
static int pred_aset(const struct cep__pred *p, struct aset *out)
{
	char run[LIT_MAX];
	struct atom at;
	int best = -1;
	double bcost = 0;

	memset(out, 0, sizeof *out);
	/* Only ops whose truth implies "the field equals / lies in / contains
	 * one of the values" anchor; anything else, including ops added after
	 * this file was written, negated ones, and keywords (any text field),
	 * is a candidate for every event. */
	if ((p->flags & CEP__PF_NEG) || p->field == CEP__FIELD_ANY_TEXT) {
		out->unanch = true;
		return 0;
	}
	switch (p->op) {
	case CEP__OP_EQ:
	case CEP__OP_CIDR:
		break;
	case CEP__OP_CONTAINS:
	case CEP__OP_STARTSWITH:
	case CEP__OP_ENDSWITH:
		if (cep__field_get(p->field)->cls == CEP__FC_TEXT)
			break;
		/* fall through */
	default:
		out->unanch = true;
		return 0;
	}
	if (!p->all) {
		/* Values ORed: every value is an atom. */
		for (uint32_t i = 0; i < p->nvals; i++) {
			if (!value_atom(p, &p->vals[i], &at, run)) {
				aset_unanch(out);
				return 0;
			}
			if (aset_push(out, &at))
				return -ENOMEM;
		}
		return 0;
	}
	/* Values ANDed: any one of them is necessary; take the cheapest. */
	for (uint32_t i = 0; i < p->nvals; i++)
		if (value_atom(p, &p->vals[i], &at, run) &&
		    (best < 0 || at.cost < bcost)) {
			best = (int)i;
			bcost = at.cost;
		}
	if (best < 0) {
		out->unanch = true;
		return 0;
	}
	value_atom(p, &p->vals[best], &at, run);
	return aset_push(out, &at);
}

/* The anchor set of a selection: OR over its groups of each group's most
 * selective predicate. */
static int sel_aset(const struct cep__detection *d, uint32_t s,
		    struct aset *out)
{
	const struct cep__selection *sel = &d->sels[s];

	memset(out, 0, sizeof *out);
	for (uint32_t g = sel->first; g < sel->first + sel->n; g++) {
		const struct cep__group *grp = &d->groups[g];
		struct aset best = { .unanch = true }, cur;

		for (uint32_t i = grp->first; i < grp->first + grp->n; i++) {
			if (pred_aset(&d->preds[i], &cur))
				goto oom;
			if (aset_better(&cur, &best)) {
				aset_fini(&best);
				best = cur;
			} else {
				aset_fini(&cur);
			}
		}
		if (aset_union(out, &best)) {
			aset_fini(&best);
			goto oom;
		}
		aset_fini(&best);
		if (out->unanch)
			return 0;
	}
	return 0;
oom:
	aset_fini(out);
	return -ENOMEM;
}

/* Folds two stack entries into a (AND when and_op, else OR); b is freed. */
static int fold(struct aset *a, struct aset *b, bool and_op)
{
	int rc = 0;

	if (and_op) {
		if (aset_better(b, a)) {
			aset_fini(a);
			*a = *b;
			memset(b, 0, sizeof *b);
		}
	} else {
		rc = aset_union(a, b);
	}
	aset_fini(b);
	return rc;
}

/* The anchor set of a whole detection, by running its condition program
 * over anchor sets instead of booleans. */
static int detection_aset(const struct cep__detection *d, struct aset *out)
{
	struct aset stack[CEP__MAX_STACK], *sels;
	unsigned sp = 0;
	int rc = -ENOMEM;

	memset(out, 0, sizeof *out);
	sels = calloc(d->nsels ? d->nsels : 1, sizeof *sels);
	if (!sels)
		return -ENOMEM;
	for (uint32_t s = 0; s < d->nsels; s++)
		if (sel_aset(d, s, &sels[s]))
			goto done;
	for (uint32_t pc = 0; pc < d->nprog; pc++) {
		const struct cep__insn *in = &d->prog[pc];
		bool and_op;

		switch (in->op) {
		case CEP__I_SEL:
			if (sp == CEP__MAX_STACK || in->arg >= d->nsels)
				goto unknown;
			if (aset_copy(&stack[sp++], &sels[in->arg]))
				goto done;
			break;
		case CEP__I_AND:
		case CEP__I_OR:
			if (sp < 2)
				goto unknown;
			sp--;
			if (fold(&stack[sp - 1], &stack[sp],
				 in->op == CEP__I_AND))
				goto done;
			break;
		case CEP__I_NOT:
			if (sp < 1)
				goto unknown;
			aset_unanch(&stack[sp - 1]);
			break;
		case CEP__I_ANY:
		case CEP__I_ALL:
			if (sp == CEP__MAX_STACK)
				goto unknown;
			and_op = in->op == CEP__I_ALL;
			memset(&stack[sp], 0, sizeof stack[sp]);
			/* ALL over nothing is true: no anchor. */
			stack[sp].unanch = and_op;
			for (uint32_t i = 0; i < in->n; i++) {
				struct aset t;
				uint32_t s = d->setlist[in->arg + i];

				if (s >= d->nsels)
					goto unknown_push;
				if (aset_copy(&t, &sels[s]))
					goto done_push;
				if (i == 0 && and_op) {
					stack[sp] = t;
					continue;
				}
				if (fold(&stack[sp], &t, and_op))
					goto done_push;
			}
			sp++;
			break;
		default:
			goto unknown;
		}
	}
	if (sp != 1)
		goto unknown;
	*out = stack[0];
	sp = 0;
	rc = 0;
	goto done;
unknown_push:
	sp++;
unknown:
	/* A program this file does not understand: no anchor. */
	out->unanch = true;
	rc = 0;
	goto done;
done_push:
	sp++;
done:
	while (sp)
		aset_fini(&stack[--sp]);
	for (uint32_t s = 0; s < d->nsels; s++)
		aset_fini(&sels[s]);
	free(sels);
	return rc;
}

/* --- the built index ---------------------------------------------------- */

/*
 * Where the time goes at lookup is memory, not instructions: a few lookups
 * per event, each of which may miss the cache.  So every structure puts a
 * small, dense summary in front of the large one, and the summary answers
 * "nothing here" for most events:
 *
 *   hashed atoms   a bitmap of 16 bits per key (key >> bshift) before the
 *                  open-addressing table; most fields' values have no atom
 *   prefix tries   popcount-compressed 8-bit-stride nodes of 72 bytes (two
 *                  256-bit maps and two bases) instead of 256 entries, so
 *                  the upper levels of a trie of thousands of prefixes fit
 *                  in L1/L2 cache
 *   literals       literals of GRAM bytes or more: each is filed under one
 *                  of its GRAM-byte substrings (the one fewest other
 *                  literals share); the text's substrings are tested in a
 *                  bitmap of 32 bits per literal, and only a set bit leads
 *                  to the literals themselves, compared in full.  Shorter
 *                  literals keep a (small) Aho-Corasick automaton.
 *
 * Per event that is an L1 bit test per number field, per address family
 * level and per text position, and a cold read only for a value that is
 * (or collides with) an atom.
 */

struct slot {
	uint64_t key; /* 0: empty */
	uint32_t off, n; /* ix->post[off .. off+n) */
};

struct ipkey {
	uint8_t field, af, len;
};

/* An Aho-Corasick automaton over the short literals of one text field, as
 * a DFA on a compressed alphabet: cls[] maps a byte to its class (0: a
 * byte no literal contains; upper case maps like lower case), delta[] is
 * nstates x nclasses. */
struct ac {
	uint8_t cls[256];
	uint32_t nclasses, nstates;
	uint32_t *delta;
	uint32_t *out_off, *out_n; /* the literals ending here: rules */
	uint32_t *dict;            /* next state on the failure chain with
				      output, or 0 */
};

/* The substring length of the literal filter; shorter literals go to the
 * automaton.  Four bytes load as one 32-bit word. */
#define GRAM 4

/* A literal of GRAM bytes or more: the GRAM bytes at goff are its gram. */
struct llit {
	uint32_t gram;     /* pool[toff + goff ..] loaded as a word */
	uint8_t len, goff; /* len < LIT_MAX */
	uint32_t toff;     /* its text: pool[toff .. toff+len) */
	uint32_t poff, pn; /* its rules: ix->post[poff .. poff+pn) */
};

/* A bitmap word and the number of bits set in the words before it. */
struct lword {
	uint64_t bits;
	uint32_t rank;
};

/*
 * The literal filter of one text field.  Bit h of the bitmap is set when
 * some literal's gram hashes to h; the r-th set bit's literals are
 * lit[bstart[r] .. bstart[r+1]).  A literal occurring at position s of the
 * text has its gram at s + goff, so testing every position finds it.
 */
struct lfilt {
	uint32_t shift;  /* 32 - log2(bitmap bits) */
	uint32_t minlen; /* the shortest literal: shorter texts skip it all */
	struct lword *w;
	uint32_t *bstart;
	struct llit *lit;
	uint32_t nlit;
	char *pool;
};

/* Everything looked up in one text field of the event. */
struct tfield {
	uint8_t field;
	bool exact; /* has hashed A_TEXT atoms */
	bool has_lf, has_ac;
	struct lfilt lf;
	struct ac ac;
};

/* A compressed trie node: byte b of the address (at this node's level)
 * has rules when bit b of p[] is set, they are pent[pbase + rank], the
 * number of bits set in p[] below b; it has a child when bit b of c[] is
 * set, node[cbase + rank in c[]].  A node's children are consecutive, and
 * so are its posting entries. */
struct cnode {
	uint64_t p[4], c[4];
	uint32_t pbase, cbase;
};

struct pent {
	uint32_t off, n; /* ix->tpost[off .. off+n) */
};

#define MAX_FIELDS 256

struct cep__index {
	uint32_t nrules;
	uint32_t nl0, nl1; /* bitmap words */
	int16_t *kind;     /* per rule: logsource kind, -1 for any */
	const void **pf;   /* per rule: PF_LINES addresses of its compiled
			      form, NULL-terminated, prefetched (never read
			      here) when it is a candidate */
	uint32_t *unanch[CEP_KIND_COUNT];
	uint32_t nunanch[CEP_KIND_COUNT];
	/* Hashed atoms: the summary bitmap, then the table.  Every posting
	 * list (the table's, the literals') is a run of post[]. */
	uint64_t *bloom;
	unsigned bshift;
	struct slot *tab;
	uint64_t mask;
	uint32_t *post;
	size_t npost, cpost; /* build time */
	uint8_t numf[MAX_FIELDS];
	uint32_t nnumf;
	struct ipkey *ipk; /* null-address atoms only (hashed) */
	uint32_t nipk;
	struct tfield *tf; /* text fields with atoms, by field id */
	uint32_t ntf;
	/* Prefix tries, one per (field, family), 8-bit strides: a prefix
	 * ending in a stride is expanded to the 2^(8 - len % 8) bytes it
	 * covers there (a /20 sets 16 bits of a third-level node), so a
	 * lookup is at most 4 (IPv4) or 16 (IPv6) nodes and finds every
	 * prefix that covers the address on its way down. */
	struct trie {
		uint8_t field, af;
		uint32_t root;
		uint64_t *top; /* IPv4: a bit per /16 the walk finds
				  anything in (8 KB); clear: skip the walk */
	} tries[8];
	uint32_t ntries;
	struct cnode *node;
	struct pent *pent;
	uint32_t *tpost;
	uint32_t nnodes, npent, ntpost;
	size_t cnodes, cpent, ctpost; /* build time */
	struct cep__index_stats st;
};

struct cep__index_scratch {
	uint32_t nl0, nl1;
	uint64_t *l0, *l1;
	uint32_t *cand;
};

/* A (key, rule) pair waiting to become a posting. */
struct pair {
	uint64_t key;
	uint32_t rule;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* A literal waiting for its filter or automaton. */
struct litrule {
	uint8_t field;
	char *lit; /* borrowed from the rule's aset */
	uint32_t rule;
};

struct ipitem {
	uint8_t field, af, len;
	uint8_t addr[16];
	uint32_t rule;
};

struct builder {
	struct pair *pairs;
	size_t npairs, cpairs;
	struct ipitem *ips;
	size_t nips, cips;
	struct litrule *lits;
	size_t nlits, clits;
	bool numf[MAX_FIELDS], textf[MAX_FIELDS];
	struct aset *asets; /* per rule */
};

/* p (of *cap elements of sz bytes) grown to hold at least need: p itself
 * when it does, or a new array (then *cap is updated), or NULL when out of
 * memory (p is still valid). */
static void *resize(void *p, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap ? *cap : 16;
	void *v;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if (!(v = realloc(p, c * sz)))
		return NULL;
	*cap = c;
	return v;
}

/* Makes room for need elements in array a with capacity field cap. */
#define ROOM(a, cap, need)                                                   \
	do {                                                                 \
		void *v_ = resize((a), &(cap), (need), sizeof *(a));         \
		if (!v_)                                                     \
			goto oom;                                            \
		(a) = v_;                                                    \
	} while (0)

/* Appends rule r to ix->post. */
static int post_push(struct cep__index *ix, uint32_t r)
{
	ROOM(ix->post, ix->cpost, ix->npost + 1);
	ix->post[ix->npost++] = r;
	return 0;
oom:
	return -ENOMEM;
}

static int add_pair(struct builder *b, uint64_t key, uint32_t rule)
{
	ROOM(b->pairs, b->cpairs, b->npairs + 1);
	b->pairs[b->npairs++] = (struct pair){ key, rule };
	return 0;
oom:
	return -ENOMEM;
}

static int add_lit(struct builder *b, uint8_t field, char *lit,
		   uint32_t rule)
{
	ROOM(b->lits, b->clits, b->nlits + 1);
	b->lits[b->nlits++] = (struct litrule){ field, lit, rule };
	return 0;
oom:
	return -ENOMEM;
}

static int add_ipkey(struct cep__index *ix, const struct atom *at)
{
	struct ipkey *v;

	for (uint32_t i = 0; i < ix->nipk; i++)
		if (ix->ipk[i].field == at->field && ix->ipk[i].af == at->af &&
		    ix->ipk[i].len == at->len)
			return 0;
	v = realloc(ix->ipk, (ix->nipk + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	ix->ipk = v;
	ix->ipk[ix->nipk++] = (struct ipkey){ at->field, at->af, at->len };
	return 0;
}

/* Builds the hash table of postings and its summary bitmap from the
 * pairs; their postings open ix->post. */
static int build_table(struct cep__index *ix, struct builder *b)
{
	size_t nkeys = 0, cap = 16, bits = 64;
	unsigned lg = 6;

	if (b->npairs) /* qsort's pointer may not be NULL, even for 0 */
		qsort(b->pairs, b->npairs, sizeof *b->pairs, pair_cmp);
	for (size_t i = 0; i < b->npairs; i++)
		if (i == 0 || b->pairs[i].key != b->pairs[i - 1].key)
			nkeys++;
	while (cap < nkeys * 2)
		cap *= 2;
	while (bits < nkeys * 16 && lg < 32) {
		bits *= 2;
		lg++;
	}
	ix->tab = calloc(cap, sizeof *ix->tab);
	ix->bloom = calloc(bits / 64, sizeof *ix->bloom);
	if (!ix->tab || !ix->bloom)
		return -ENOMEM;
	ROOM(ix->post, ix->cpost, b->npairs + 1);
	ix->mask = cap - 1;
	ix->bshift = 64 - lg;
	for (size_t i = 0; i < b->npairs;) {
		uint64_t key = b->pairs[i].key, h = key & ix->mask;
		uint64_t bit = key >> ix->bshift;
		uint32_t off = (uint32_t)ix->npost;

		for (; i < b->npairs && b->pairs[i].key == key; i++)
			if (ix->npost == off ||
			    ix->post[ix->npost - 1] != b->pairs[i].rule)
				ix->post[ix->npost++] = b->pairs[i].rule;
		while (ix->tab[h].key)
			h = (h + 1) & ix->mask;
		ix->tab[h] = (struct slot){ key, off,
					    (uint32_t)ix->npost - off };
		ix->bloom[bit >> 6] |= 1ULL << (bit & 63);
	}
	ix->st.atoms = (uint32_t)nkeys;
	ix->st.bytes += cap * sizeof *ix->tab + bits / 8;
	return 0;
oom:
	return -ENOMEM;
}

static int lit_cmp(const void *a, const void *b)
{
	const struct litrule *x = a, *y = b;
	int c;

	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	c = strcmp(x->lit, y->lit);
	if (c)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Builds the automaton of lits[0..n) (one field, sorted by literal), whose
 * postings are appended to ix->post. */
static int build_ac(struct ac *a, const struct litrule *lits, size_t n,
		    struct cep__index *ix)
{
	uint32_t *go = NULL, *fail = NULL, *queue = NULL;
	uint32_t states = 1, cstates = 64, nc;
	size_t total = 1;
	int rc = -ENOMEM;

	memset(a->cls, 0, sizeof a->cls);
	a->nclasses = 1;
	for (size_t i = 0; i < n; i++)
		for (const unsigned char *p = (const unsigned char *)lits[i].lit;
		     *p; p++) {
			if (!a->cls[*p])
				a->cls[*p] = (uint8_t)a->nclasses++;
			total++;
		}
	/* Upper case reaches the automaton lowercased already; map it to the
	 * same class anyway, so that either form finds the literal. */
	for (int c = 'A'; c <= 'Z'; c++)
		a->cls[c] = a->cls[c - 'A' + 'a'];
	nc = a->nclasses;
	if (cstates < total)
		cstates = (uint32_t)total;
	go = calloc((size_t)cstates * nc, sizeof *go);
	a->out_off = calloc(cstates, sizeof *a->out_off);
	a->out_n = calloc(cstates, sizeof *a->out_n);
	if (!go || !a->out_off || !a->out_n)
		goto done;
	/* The trie; 0 in go[] means "no edge" (the root is never a child).
	 * Equal literals are adjacent, so each literal's rules form one run of
	 * postings at its final state. */
	for (size_t i = 0; i < n; i++) {
		uint32_t s = 0;

		for (const unsigned char *p = (const unsigned char *)lits[i].lit;
		     *p; p++) {
			uint32_t *e = &go[(size_t)s * nc + a->cls[*p]];

			if (!*e)
				*e = states++;
			s = *e;
		}
		if (a->out_n[s] == 0)
			a->out_off[s] = (uint32_t)ix->npost;
		else if (a->out_off[s] + a->out_n[s] != ix->npost)
			abort(); /* sorted input keeps a literal's rules adjacent */
		if (a->out_n[s] && ix->post[ix->npost - 1] == lits[i].rule)
			continue;
		if (post_push(ix, lits[i].rule))
			goto done;
		a->out_n[s]++;
	}
	a->nstates = states;
	fail = calloc(states, sizeof *fail);
	queue = calloc(states, sizeof *queue);
	a->dict = calloc(states, sizeof *a->dict);
	if (!fail || !queue || !a->dict)
		goto done;
	/* Breadth first: turn the trie into the DFA in place.  A missing edge
	 * of s takes the edge of fail(s), which is already final. */
	uint32_t qh = 0, qt = 0;

	for (uint32_t c = 0; c < nc; c++)
		if (go[c])
			queue[qt++] = go[c]; /* fail = root, dict = 0 */
	while (qh < qt) {
		uint32_t s = queue[qh++];

		for (uint32_t c = 0; c < nc; c++) {
			uint32_t *e = &go[(size_t)s * nc + c];
			uint32_t f = go[(size_t)fail[s] * nc + c];

			if (*e) {
				fail[*e] = f;
				a->dict[*e] = a->out_n[f] ? f : a->dict[f];
				queue[qt++] = *e;
			} else {
				*e = f;
			}
		}
	}
	a->delta = go;
	go = NULL;
	ix->st.ac_states += states;
	ix->st.bytes += (size_t)states * (nc + 3) * sizeof(uint32_t);
	rc = 0;
done:
	free(go);
	free(fail);
	free(queue);
	return rc;
}

static void ac_fini(struct ac *a)
{
	free(a->delta);
	free(a->out_off);
	free(a->out_n);
	free(a->dict);
}

static inline uint32_t load_gram(const char *p)
{
	uint32_t g;

	memcpy(&g, p, sizeof g);
	return g;
}

static inline uint32_t gram_hash(uint32_t g, uint32_t shift)
{
	return (g * 0x9e3779b1u) >> shift; /* Fibonacci hashing */
}

/* A gram of literal `lit` at offset `off`, for choosing each literal's. */
struct gpos {
	uint32_t g, lit, off;
};

static int gpos_cmp(const void *a, const void *b)
{
	const struct gpos *x = a, *y = b;

	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	if (x->lit != y->lit)
		return x->lit < y->lit ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int u64_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Builds the literal filter of lits[0..n) (one field, sorted by literal,
 * each at least GRAM bytes), whose postings are appended to ix->post. */
static int build_lf(struct lfilt *lf, const struct litrule *lits, size_t n,
		    struct cep__index *ix)
{
	struct llit *u = NULL;
	struct gpos *gp = NULL;
	uint32_t *best = NULL;
	uint64_t *order = NULL;
	size_t nu = 0, pool = 0, ngp = 0, bits = 512;
	unsigned lg = 9;
	int rc = -ENOMEM;

	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(lits[i].lit, lits[i - 1].lit)) {
			size_t len = strlen(lits[i].lit);

			nu++;
			pool += len;
			ngp += len - GRAM + 1;
		}
	u = calloc(nu, sizeof *u);
	lf->pool = malloc(pool);
	gp = malloc(ngp * sizeof *gp);
	best = malloc(nu * sizeof *best);
	order = malloc(nu * sizeof *order);
	if (!u || !lf->pool || !gp || !best || !order)
		goto done;
	/* The distinct literals, their text, their rules, their grams. */
	pool = 0;
	ngp = 0;
	lf->minlen = UINT32_MAX;
	for (size_t i = 0, k = SIZE_MAX; i < n; i++) {
		if (i == 0 || strcmp(lits[i].lit, lits[i - 1].lit)) {
			size_t len = strlen(lits[i].lit);

			u[++k].len = (uint8_t)len;
			u[k].toff = (uint32_t)pool;
			u[k].poff = (uint32_t)ix->npost;
			memcpy(lf->pool + pool, lits[i].lit, len);
			for (size_t p = 0; p + GRAM <= len; p++)
				gp[ngp++] = (struct gpos){
					load_gram(lf->pool + pool + p),
					(uint32_t)k, (uint32_t)p };
			pool += len;
			if (len < lf->minlen)
				lf->minlen = (uint32_t)len;
		} else if (ix->post[ix->npost - 1] == lits[i].rule) {
			continue;
		}
		if (post_push(ix, lits[i].rule))
			goto done;
		u[k].pn++;
	}
	/* Each literal's gram: the one the fewest other literals contain,
	 * the earliest of those.  A literal's repeats of a gram count once. */
	qsort(gp, ngp, sizeof *gp, gpos_cmp);
	for (size_t k = 0; k < nu; k++)
		best[k] = UINT32_MAX;
	for (size_t i = 0; i < ngp;) {
		size_t j = i, cnt = 0;

		for (; j < ngp && gp[j].g == gp[i].g; j++)
			if (j == i || gp[j].lit != gp[j - 1].lit)
				cnt++;
		for (; i < j; i++) {
			struct llit *l = &u[gp[i].lit];

			if (i > 0 && gp[i].lit == gp[i - 1].lit &&
			    gp[i].g == gp[i - 1].g)
				continue; /* a later repeat of the gram */
			if (cnt < best[gp[i].lit] ||
			    (cnt == best[gp[i].lit] && gp[i].off < l->goff)) {
				best[gp[i].lit] = (uint32_t)cnt;
				l->goff = (uint8_t)gp[i].off;
				l->gram = gp[i].g;
			}
		}
	}
	/* The bitmap: 32 bits per literal keeps it mostly clear. */
	while (bits < nu * 32 && lg < 24) {
		bits *= 2;
		lg++;
	}
	lf->shift = 32 - lg;
	lf->nlit = (uint32_t)nu;
	lf->w = calloc(bits / 64, sizeof *lf->w);
	lf->bstart = malloc((nu + 1) * sizeof *lf->bstart);
	lf->lit = malloc(nu * sizeof *lf->lit);
	if (!lf->w || !lf->bstart || !lf->lit)
		goto done;
	for (size_t k = 0; k < nu; k++)
		order[k] = (uint64_t)gram_hash(u[k].gram, lf->shift) << 32 | k;
	qsort(order, nu, sizeof *order, u64_cmp);
	for (size_t k = 0, r = 0; k < nu; k++) {
		uint32_t h = (uint32_t)(order[k] >> 32);

		lf->lit[k] = u[(uint32_t)order[k]];
		if (k == 0 || h != (uint32_t)(order[k - 1] >> 32)) {
			lf->w[h >> 6].bits |= 1ULL << (h & 63);
			lf->bstart[r++] = (uint32_t)k;
		}
	}
	for (size_t w = 0, r = 0; w < bits / 64; w++) {
		lf->w[w].rank = (uint32_t)r;
		r += (size_t)__builtin_popcountll(lf->w[w].bits);
		if (w + 1 == bits / 64)
			lf->bstart[r] = (uint32_t)nu;
	}
	ix->st.bytes += bits / 4 + nu * (sizeof *lf->lit + 4) + pool;
	rc = 0;
done:
	free(u);
	free(gp);
	free(best);
	free(order);
	return rc;
}

static void lf_fini(struct lfilt *lf)
{
	free(lf->w);
	free(lf->bstart);
	free(lf->lit);
	free(lf->pool);
}

/* Builds, per text field with atoms, its filter and automaton from
 * b->lits; their postings follow the table's in ix->post. */
static int build_text(struct cep__index *ix, struct builder *b)
{
	struct litrule *lng = NULL, *shrt = NULL;
	bool has[MAX_FIELDS];
	size_t i = 0;
	int rc = -ENOMEM;

	memcpy(has, b->textf, sizeof has);
	if (b->nlits)
		qsort(b->lits, b->nlits, sizeof *b->lits, lit_cmp);
	for (size_t j = 0; j < b->nlits; j++)
		has[b->lits[j].field] = true;
	for (unsigned f = 0; f < MAX_FIELDS; f++)
		ix->ntf += has[f];
	ix->tf = calloc(ix->ntf ? ix->ntf : 1, sizeof *ix->tf);
	lng = malloc((b->nlits ? b->nlits : 1) * sizeof *lng);
	shrt = malloc((b->nlits ? b->nlits : 1) * sizeof *shrt);
	if (!ix->tf || !lng || !shrt)
		goto done;
	for (unsigned f = 0, k = 0; f < MAX_FIELDS; f++) {
		struct tfield *t = &ix->tf[k];
		size_t nl = 0, ns = 0;

		if (!has[f])
			continue;
		k++;
		t->field = (uint8_t)f;
		t->exact = b->textf[f];
		/* Split the field's literals; each part stays sorted. */
		for (; i < b->nlits && b->lits[i].field == f; i++) {
			if (strlen(b->lits[i].lit) >= GRAM)
				lng[nl++] = b->lits[i];
			else
				shrt[ns++] = b->lits[i];
		}
		if (nl && (rc = build_lf(&t->lf, lng, nl, ix)))
			goto done;
		t->has_lf = nl > 0;
		if (ns && (rc = build_ac(&t->ac, shrt, ns, ix)))
			goto done;
		t->has_ac = ns > 0;
		rc = -ENOMEM;
	}
	ix->st.literals = (uint32_t)b->nlits;
	rc = 0;
done:
	free(lng);
	free(shrt);
	return rc;
}

static int add_ip(struct builder *b, const struct atom *at, uint32_t rule)
{
	ROOM(b->ips, b->cips, b->nips + 1);
	b->ips[b->nips].field = at->field;
	b->ips[b->nips].af = at->af;
	b->ips[b->nips].len = at->len;
	memcpy(b->ips[b->nips].addr, at->addr, 16);
	b->ips[b->nips++].rule = rule;
	return 0;
oom:
	return -ENOMEM;
}

/* Items sort by trie, then address, then length, so that a node's items
 * are one run and so are each of its children's. */
static int ipitem_cmp(const void *a, const void *b)
{
	const struct ipitem *x = a, *y = b;
	int c;

	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	if ((c = memcmp(x->addr, y->addr, 16)))
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* The level (stride) of the trie where a prefix of len bits ends. */
static inline unsigned end_level(unsigned len)
{
	return len ? (len - 1) / 8 : 0;
}

static int new_nodes(struct cep__index *ix, uint32_t n, uint32_t *first)
{
	ROOM(ix->node, ix->cnodes, (size_t)ix->nnodes + n);
	memset(ix->node + ix->nnodes, 0, n * sizeof *ix->node);
	*first = ix->nnodes;
	ix->nnodes += n;
	return 0;
oom:
	return -ENOMEM;
}

/*
 * Fills node `nd` at `level` from it[lo..hi): the items that end at this
 * level give its postings, those that end deeper its children (built
 * recursively).  Items ending above this level belong to an ancestor and
 * are skipped.
 */
static int build_cnode(struct cep__index *ix, const struct ipitem *it,
		       size_t lo, size_t hi, unsigned level, uint32_t nd)
{
	uint64_t *bp = NULL; /* byte << 32 | rule */
	size_t nbp = 0, cbp = 0;
	uint64_t p[4] = { 0 }, c[4] = { 0 };
	uint32_t pbase = ix->npent, cbase = 0, nchild = 0;
	int rc = -ENOMEM;

	for (size_t i = lo; i < hi; i++) {
		unsigned span, first;

		if (end_level(it[i].len) != level)
			continue;
		span = 1u << (8 - (it[i].len - level * 8));
		first = it[i].addr[level] & (uint8_t)~(span - 1);
		ROOM(bp, cbp, nbp + span);
		for (unsigned e = 0; e < span; e++)
			bp[nbp++] = (uint64_t)(first + e) << 32 | it[i].rule;
	}
	if (nbp)
		qsort(bp, nbp, sizeof *bp, u64_cmp);
	for (size_t i = 0; i < nbp; i++) {
		unsigned byte = (unsigned)(bp[i] >> 32);

		if (i && bp[i] == bp[i - 1])
			continue;
		if (!(p[byte >> 6] & (1ULL << (byte & 63)))) {
			p[byte >> 6] |= 1ULL << (byte & 63);
			ROOM(ix->pent, ix->cpent, (size_t)ix->npent + 1);
			ix->pent[ix->npent++] = (struct pent){ ix->ntpost, 0 };
		}
		ROOM(ix->tpost, ix->ctpost, (size_t)ix->ntpost + 1);
		ix->tpost[ix->ntpost++] = (uint32_t)bp[i];
		ix->pent[ix->npent - 1].n++;
	}
	/* Children: the bytes that items ending deeper go through. */
	for (size_t i = lo; i < hi; i++) {
		unsigned byte = it[i].addr[level];

		if (end_level(it[i].len) > level &&
		    !(c[byte >> 6] & (1ULL << (byte & 63)))) {
			c[byte >> 6] |= 1ULL << (byte & 63);
			nchild++;
		}
	}
	if (nchild && new_nodes(ix, nchild, &cbase))
		goto done;
	memcpy(ix->node[nd].p, p, sizeof p);
	memcpy(ix->node[nd].c, c, sizeof c);
	ix->node[nd].pbase = pbase;
	ix->node[nd].cbase = cbase;
	/* Items sharing this level's byte are one run (sorted by address). */
	for (size_t i = lo, k = 0; i < hi;) {
		size_t j = i;
		bool deeper = false;

		for (; j < hi && it[j].addr[level] == it[i].addr[level]; j++)
			deeper |= end_level(it[j].len) > level;
		if (deeper &&
		    (rc = build_cnode(ix, it, i, j, level + 1,
				      cbase + (uint32_t)k++)))
			goto done;
		i = j;
	}
	rc = 0;
	goto done;
oom:
	rc = -ENOMEM;
done:
	free(bp);
	return rc;
}

static inline bool bit256(const uint64_t *m, unsigned b)
{
	return m[b >> 6] & (1ULL << (b & 63));
}

static inline uint32_t rank256(const uint64_t *m, unsigned w, uint64_t bit);

/* The /16 summary of an IPv4 trie: bit a.b is set when the walk for
 * a.b.x.y marks a rule at the first two levels or goes on to a third. */
static int build_top(struct cep__index *ix, struct trie *t)
{
	const struct cnode *r = &ix->node[t->root];

	if (!(t->top = calloc(65536 / 64, sizeof *t->top)))
		return -ENOMEM;
	for (unsigned a = 0; a < 256; a++) {
		const struct cnode *c;

		if (bit256(r->p, a)) {
			for (unsigned w = 0; w < 4; w++)
				t->top[a * 4 + w] = ~0ULL;
			continue;
		}
		if (!bit256(r->c, a))
			continue;
		c = &ix->node[r->cbase + rank256(r->c, a >> 6,
						 1ULL << (a & 63))];
		for (unsigned w = 0; w < 4; w++)
			t->top[a * 4 + w] = c->p[w] | c->c[w];
	}
	ix->st.bytes += 65536 / 8;
	return 0;
}

/* Builds the prefix tries from b->ips (see struct cep__index). */
static int build_tries(struct cep__index *ix, struct builder *b)
{
	if (b->nips)
		qsort(b->ips, b->nips, sizeof *b->ips, ipitem_cmp);
	for (size_t i = 0; i < b->nips;) {
		size_t j = i;
		struct trie *t;

		while (j < b->nips && b->ips[j].field == b->ips[i].field &&
		       b->ips[j].af == b->ips[i].af)
			j++;
		if (ix->ntries == sizeof ix->tries / sizeof *ix->tries)
			abort(); /* two address fields, two families */
		t = &ix->tries[ix->ntries++];
		t->field = b->ips[i].field;
		t->af = b->ips[i].af;
		if (new_nodes(ix, 1, &t->root) ||
		    build_cnode(ix, b->ips, i, j, 0, t->root) ||
		    (t->af == CEP_AF_INET && build_top(ix, t)))
			return -ENOMEM;
		i = j;
	}
	ix->st.trie_nodes = ix->nnodes;
	ix->st.bytes += (size_t)ix->nnodes * sizeof *ix->node +
			(size_t)ix->npent * sizeof *ix->pent;
	return 0;
}

static bool admits(int16_t rkind, unsigned k)
{
	return rkind < 0 || (k > 0 && rkind == (int)k);
}

/*
 * A candidate is handed to cep__detection_match() at once, and its
 * compiled form is a chain of small allocations (the rule, its program,
 * selections, groups, predicates, values, texts) that a rule set of
 * thousands keeps out of cache: matching one cold rule is a string of
 * dependent misses.  The index knows the addresses (a rule set is
 * immutable, and the index lives and dies with it), so it asks for all of
 * them at once when it hands the rule out.  Only prefetch hints are issued:
 * nothing here reads through these pointers at lookup time.
 */
#define PF_LINES 12
#define PF_CANDIDATES 32 /* more candidates than this: do not bother */

static void pf_add(const void **pf, unsigned *n, const void *p)
{
	if (!p || *n == PF_LINES - 1)
		return;
	for (unsigned i = 0; i < *n; i++)
		if ((uintptr_t)pf[i] >> 6 == (uintptr_t)p >> 6)
			return;
	pf[(*n)++] = p;
}

static void pf_rule(const void **pf, const struct cep__rule *r)
{
	const struct cep__detection *d = &r->det;
	unsigned n = 0;

	pf_add(pf, &n, r);
	pf_add(pf, &n, d);
	pf_add(pf, &n, (const char *)d + sizeof *d - 1);
	pf_add(pf, &n, d->prog);
	pf_add(pf, &n, d->sels);
	pf_add(pf, &n, d->groups);
	pf_add(pf, &n, d->preds);
	for (uint32_t i = 0; i < d->npreds && i < 2; i++) {
		const struct cep__pred *p = &d->preds[i];

		pf_add(pf, &n, p->vals);
		if (p->nvals && p->field != CEP__FIELD_ANY_TEXT &&
		    cep__field_get(p->field)->cls == CEP__FC_TEXT &&
		    (p->op == CEP__OP_EQ || p->op == CEP__OP_NEQ ||
		     p->op == CEP__OP_CONTAINS ||
		     p->op == CEP__OP_STARTSWITH ||
		     p->op == CEP__OP_ENDSWITH))
			pf_add(pf, &n, p->vals[0].text);
	}
	pf_add(pf, &n, cep__rule_sigid(r)); /* the signal copies these */
	pf_add(pf, &n, r->title);
}

int cep__index_build(const struct cep_ruleset *rs, struct cep__index **out)
{
	struct builder b = { 0 };
	struct cep__index *ix;
	int rc = -ENOMEM;

	ix = calloc(1, sizeof *ix);
	if (!ix)
		return -ENOMEM;
	ix->nrules = (uint32_t)rs->nrules;
	ix->nl0 = (ix->nrules + 63) / 64;
	ix->nl1 = (ix->nl0 + 63) / 64;
	ix->kind = calloc(ix->nrules ? ix->nrules : 1, sizeof *ix->kind);
	ix->pf = calloc((size_t)(ix->nrules ? ix->nrules : 1) * PF_LINES,
			sizeof *ix->pf);
	b.asets = calloc(ix->nrules ? ix->nrules : 1, sizeof *b.asets);
	if (!ix->kind || !ix->pf || !b.asets)
		goto fail;
	for (int k = 0; k < CEP_KIND_COUNT; k++)
		if (!(ix->unanch[k] = calloc(ix->nrules ? ix->nrules : 1,
					     sizeof(uint32_t))))
			goto fail;

	for (uint32_t i = 0; i < ix->nrules; i++) {
		const struct cep__rule *r = &rs->rules[i];
		struct aset *a = &b.asets[i];

		ix->kind[i] = r->kind;
		if (r->corr_type != CEP__CORR_NONE)
			continue;
		ix->st.rules++;
		pf_rule(ix->pf + (size_t)i * PF_LINES, r);
		if (detection_aset(&r->det, a))
			goto fail;
		if (a->unanch) {
			ix->st.unanchored++;
			for (unsigned k = 0; k < CEP_KIND_COUNT; k++)
				if (admits(r->kind, k))
					ix->unanch[k][ix->nunanch[k]++] = i;
			continue;
		}
		for (size_t j = 0; j < a->n; j++) {
			const struct atom *at = &a->v[j];

			switch (at->type) {
			case A_LIT:
				rc = add_lit(&b, at->field, at->lit, i);
				break;
			case A_IP:
				if (at->af != CEP_AF_NONE) {
					rc = add_ip(&b, at, i);
					break;
				}
				rc = add_ipkey(ix, at);
				if (!rc)
					rc = add_pair(&b, at->key, i);
				break;
			default:
				if (at->type == A_NUM)
					b.numf[at->field] = true;
				else
					b.textf[at->field] = true;
				rc = add_pair(&b, at->key, i);
				break;
			}
			if (rc)
				goto fail;
		}
	}
	rc = -ENOMEM;
	for (unsigned f = 0; f < MAX_FIELDS; f++)
		if (b.numf[f])
			ix->numf[ix->nnumf++] = (uint8_t)f;
	if (build_table(ix, &b) || build_text(ix, &b) || build_tries(ix, &b))
		goto fail;
	ix->st.bytes += ix->npost * sizeof *ix->post +
			(size_t)ix->ntpost * sizeof *ix->tpost;
	rc = 0;
	*out = ix;
	ix = NULL;
fail:
	for (uint32_t i = 0; b.asets && i < rs->nrules; i++)
		aset_fini(&b.asets[i]);
	free(b.asets);
	free(b.pairs);
	free(b.lits);
	free(b.ips);
	cep__index_destroy(ix);
	return rc;
}

void cep__index_destroy(struct cep__index *ix)
{
	if (!ix)
		return;
	for (int k = 0; k < CEP_KIND_COUNT; k++)
		free(ix->unanch[k]);
	for (uint32_t i = 0; ix->tf && i < ix->ntf; i++) {
		ac_fini(&ix->tf[i].ac);
		lf_fini(&ix->tf[i].lf);
	}
	free(ix->tf);
	free(ix->kind);
	free(ix->pf);
	free(ix->bloom);
	free(ix->tab);
	free(ix->post);
	free(ix->ipk);
	for (uint32_t i = 0; i < ix->ntries; i++)
		free(ix->tries[i].top);
	free(ix->node);
	free(ix->pent);
	free(ix->tpost);
	free(ix);
}

int cep__index_scratch_create(const struct cep__index *ix,
			      struct cep__index_scratch **out)
{
	struct cep__index_scratch *s = calloc(1, sizeof *s);

	if (!s)
		return -ENOMEM;
	s->nl0 = ix->nl0;
	s->nl1 = ix->nl1;
	s->l0 = calloc(ix->nl0 ? ix->nl0 : 1, sizeof *s->l0);
	s->l1 = calloc(ix->nl1 ? ix->nl1 : 1, sizeof *s->l1);
	s->cand = calloc(ix->nrules ? ix->nrules : 1, sizeof *s->cand);
	if (!s->l0 || !s->l1 || !s->cand) {
		cep__index_scratch_destroy(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void cep__index_scratch_destroy(struct cep__index_scratch *s)
{
	if (!s)
		return;
	free(s->l0);
	free(s->l1);
	free(s->cand);
	free(s);
}

void cep__index_stats(const struct cep__index *ix,
		      struct cep__index_stats *out)
{
	*out = ix->st;
}

/* --- lookup ------------------------------------------------------------- */

static inline void mark(struct cep__index_scratch *s, uint32_t r)
{
	s->l0[r >> 6] |= 1ULL << (r & 63);
	s->l1[r >> 12] |= 1ULL << ((r >> 6) & 63);
}

/* Marks the rules of a posting list that admit event kind k. */
static inline void mark_list(const struct cep__index *ix,
			     struct cep__index_scratch *s, const uint32_t *post,
			     uint32_t off, uint32_t n, unsigned k)
{
	for (uint32_t i = off; i < off + n; i++) {
		uint32_t r = post[i];

		if (admits(ix->kind[r], k))
			mark(s, r);
	}
}

static inline void probe(const struct cep__index *ix,
			 struct cep__index_scratch *s, uint64_t key,
			 unsigned k)
{
	uint64_t b = key >> ix->bshift, h = key & ix->mask;

	if (!(ix->bloom[b >> 6] & (1ULL << (b & 63))))
		return; /* no atom has this key: most values */
	for (;;) {
		const struct slot *sl = &ix->tab[h];

		if (sl->key == key) {
			mark_list(ix, s, ix->post, sl->off, sl->n, k);
			return;
		}
		if (!sl->key)
			return;
		h = (h + 1) & ix->mask;
	}
}

/* The number of bits of the 256-bit map m below bit `bit` of word w. */
static inline uint32_t rank256(const uint64_t *m, unsigned w, uint64_t bit)
{
	uint32_t r = (uint32_t)__builtin_popcountll(m[w] & (bit - 1));

	for (unsigned i = 0; i < w; i++)
		r += (uint32_t)__builtin_popcountll(m[i]);
	return r;
}

static void trie_lookup(const struct cep__index *ix,
			struct cep__index_scratch *s, const struct trie *t,
			const uint8_t *ip, unsigned k)
{
	const struct cnode *nd = &ix->node[t->root];
	unsigned levels = t->af == CEP_AF_INET ? 4 : 16;

	for (unsigned l = 0; l < levels; l++) {
		unsigned w = ip[l] >> 6;
		uint64_t bit = 1ULL << (ip[l] & 63);

		if (nd->p[w] & bit) {
			const struct pent *e =
				&ix->pent[nd->pbase + rank256(nd->p, w, bit)];

			mark_list(ix, s, ix->tpost, e->off, e->n, k);
		}
		if (!(nd->c[w] & bit))
			return;
		nd = &ix->node[nd->cbase + rank256(nd->c, w, bit)];
	}
}

/* Finds the long literals of one field in low[0..len) (lowercased). */
static void lf_scan(const struct cep__index *ix, struct cep__index_scratch *s,
		    const struct lfilt *lf, const char *low, size_t len,
		    unsigned k)
{
	for (size_t p = 0; p + GRAM <= len; p++) {
		uint32_t g = load_gram(low + p), h = gram_hash(g, lf->shift);
		const struct lword *w = &lf->w[h >> 6];
		uint64_t bit = 1ULL << (h & 63);
		uint32_t r;

		if (!(w->bits & bit))
			continue;
		r = w->rank + (uint32_t)__builtin_popcountll(w->bits &
							     (bit - 1));
		for (uint32_t i = lf->bstart[r]; i < lf->bstart[r + 1]; i++) {
			const struct llit *l = &lf->lit[i];

			if (l->gram != g || p < l->goff ||
			    p - l->goff + l->len > len ||
			    memcmp(low + p - l->goff, lf->pool + l->toff,
				   l->len))
				continue;
			mark_list(ix, s, ix->post, l->poff, l->pn, k);
		}
	}
}

static void ac_scan(const struct cep__index *ix, struct cep__index_scratch *s,
		    const struct ac *a, const char *low, size_t len,
		    unsigned k)
{
	uint32_t st = 0;

	for (size_t j = 0; j < len; j++) {
		st = a->delta[(size_t)st * a->nclasses +
			      a->cls[(unsigned char)low[j]]];
		for (uint32_t d = a->out_n[st] ? st : a->dict[st]; d;
		     d = a->dict[d])
			mark_list(ix, s, ix->post, a->out_off[d], a->out_n[d], k);
	}
}

uint32_t cep__index_candidates(const struct cep__index *ix,
			       struct cep__index_scratch *s,
			       const struct cep_event *ev,
			       const uint32_t **out)
{
	unsigned k = ev->kind < CEP_KIND_COUNT ? ev->kind : 0;
	const uint8_t *ip = NULL;
	uint32_t n = 0;
	int af = 0;

	for (uint32_t i = 0; i < ix->nnumf; i++)
		probe(ix, s, key_num(ix->numf[i],
				     cep__field_num(ev, ix->numf[i])), k);
	for (uint32_t i = 0; i < ix->ntf; i++) {
		const struct tfield *t = &ix->tf[i];
		uint8_t buf[CEP__FIELD_ENC_MAX];
		char low[CEP__FIELD_ENC_MAX];
		size_t len = cep__field_encode(ev, t->field, buf) - 1;

		for (size_t j = 0; j < len; j++)
			low[j] = (char)lower(buf[1 + j]);
		if (t->exact)
			probe(ix, s, key_text(t->field, low, len), k);
		if (t->has_lf && len >= t->lf.minlen)
			lf_scan(ix, s, &t->lf, low, len, k);
		if (t->has_ac)
			ac_scan(ix, s, &t->ac, low, len, k);
	}
	for (uint32_t i = 0; i < ix->nipk; i++) {
		const struct ipkey *p = &ix->ipk[i];

		if (cep__field_ip(ev, p->field, &ip) == p->af)
			probe(ix, s, key_ip(p->field, p->af, p->len, ip), k);
	}
	for (uint32_t i = 0; i < ix->ntries; i++) {
		const struct trie *t = &ix->tries[i];

		/* Tries are sorted by field: read each address once. */
		if (i == 0 || t->field != t[-1].field)
			af = cep__field_ip(ev, t->field, &ip);
		if (af != t->af)
			continue;
		if (t->top) {
			unsigned x = (unsigned)ip[0] << 8 | ip[1];

			if (!(t->top[x >> 6] & (1ULL << (x & 63))))
				continue; /* most addresses */
		}
		trie_lookup(ix, s, t, ip, k);
	}
	for (uint32_t i = 0; i < ix->nunanch[k]; i++)
		mark(s, ix->unanch[k][i]);

	/* Read the bitmap out in rule order, clearing what was set. */
	for (uint32_t w1 = 0; w1 < s->nl1; w1++) {
		uint64_t x = s->l1[w1];

		s->l1[w1] = 0;
		while (x) {
			uint32_t w0 = w1 * 64 + (uint32_t)__builtin_ctzll(x);
			uint64_t y = s->l0[w0];

			x &= x - 1;
			s->l0[w0] = 0;
			while (y) {
				s->cand[n++] = w0 * 64 +
					       (uint32_t)__builtin_ctzll(y);
				y &= y - 1;
			}
		}
	}
	for (uint32_t i = 0; i < n && i < PF_CANDIDATES; i++)
		for (const void **p = ix->pf + (size_t)s->cand[i] * PF_LINES;
		     *p; p++)
			__builtin_prefetch(*p);
	*out = s->cand;
	return n;
}
