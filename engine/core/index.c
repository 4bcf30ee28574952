/*
 * index.c - the rule index (contract and picture in index.h).
 *
 * Build: each detection rule's condition is folded into an anchor set
 * (struct aset), the rule is filed under each of its atoms, and the atoms
 * become one hash table of posting lists plus one Aho-Corasick automaton
 * per text field.  Lookup: hash each indexed field of the event once, walk
 * the automata over the lowercased text fields, mark the rules found in a
 * two-level bitmap, add the rules that have no anchor, and read the bitmap
 * out in rule order.
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

static inline uint64_t key_num(unsigned field, uint64_t v)
{
	return nonzero(cep__hash_u64(v ^ cep__hash_u64(
		((uint64_t)TAG_NUM << 32) | field)));
}

static inline uint64_t key_text(unsigned field, const char *s, size_t n)
{
	return nonzero(cep__hash_bytes(s, n, ((uint64_t)TAG_TEXT << 32) | field));
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
	return nonzero(cep__hash_bytes(buf, n, ((uint64_t)TAG_IP << 32) |
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

struct slot {
	uint64_t key; /* 0: empty */
	uint32_t off, n; /* ix->post[off .. off+n) */
};

struct ipkey {
	uint8_t field, af, len;
};

/* An Aho-Corasick automaton over one text field, as a DFA on a compressed
 * alphabet: cls[] maps a lowercased byte to its class (0: a byte no
 * literal contains), delta[] is nstates x nclasses. */
struct ac {
	uint8_t field;
	uint8_t cls[256];
	uint32_t nclasses, nstates;
	uint32_t *delta;
	uint32_t *out_off, *out_n; /* the literals ending here: rules */
	uint32_t *dict;            /* next state on the failure chain with
				      output, or 0 */
};

#define MAX_FIELDS 256

struct cep__index {
	uint32_t nrules;
	uint32_t nl0, nl1; /* bitmap words */
	int16_t *kind;     /* per rule: logsource kind, -1 for any */
	uint32_t *unanch[CEP_KIND_COUNT];
	uint32_t nunanch[CEP_KIND_COUNT];
	struct slot *tab;
	uint64_t mask;
	uint32_t *post;
	uint8_t numf[MAX_FIELDS], textf[MAX_FIELDS];
	uint32_t nnumf, ntextf;
	struct ipkey *ipk; /* null-address atoms only (hashed) */
	uint32_t nipk;
	/* Prefix tries, one per (field, family): 8-bit strides, prefixes
	 * expanded to their stride (a /20 fills 16 entries of the third
	 * level).  Entry e = node * 256 + byte: its rules in tpost[ent[e].off
	 * .. +ent[e].n), its child node ent[e].child (0: none; node 0 is a
	 * root, never a child).  One entry is one read per level. */
	struct trie { uint8_t field, af, depth; uint32_t root; } tries[8];
	uint32_t ntries;
	struct tentry { uint32_t child, off, n; } *ent;
	uint32_t *tpost;
	uint32_t nnodes;
	struct ac *ac;
	uint32_t nac;
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

/* A literal waiting for its automaton. */
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

static int add_pair(struct builder *b, uint64_t key, uint32_t rule)
{
	if (b->npairs == b->cpairs) {
		size_t cap = b->cpairs ? b->cpairs * 2 : 64;
		struct pair *v = realloc(b->pairs, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		b->pairs = v;
		b->cpairs = cap;
	}
	b->pairs[b->npairs++] = (struct pair){ key, rule };
	return 0;
}

static int add_lit(struct builder *b, uint8_t field, char *lit,
		   uint32_t rule)
{
	if (b->nlits == b->clits) {
		size_t cap = b->clits ? b->clits * 2 : 16;
		struct litrule *v = realloc(b->lits, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		b->lits = v;
		b->clits = cap;
	}
	b->lits[b->nlits++] = (struct litrule){ field, lit, rule };
	return 0;
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
	/* Longest prefixes first: no reason beyond a stable order. */
	ix->ipk[ix->nipk++] = (struct ipkey){ at->field, at->af, at->len };
	return 0;
}

/* Builds the hash table of postings from the sorted pairs. */
static int build_table(struct cep__index *ix, struct builder *b)
{
	size_t nkeys = 0, cap = 16, np = 0;

	if (b->npairs) /* qsort's pointer may not be NULL, even for 0 */
		qsort(b->pairs, b->npairs, sizeof *b->pairs, pair_cmp);
	for (size_t i = 0; i < b->npairs; i++)
		if (i == 0 || b->pairs[i].key != b->pairs[i - 1].key)
			nkeys++;
	while (cap < nkeys * 2)
		cap *= 2;
	ix->tab = calloc(cap, sizeof *ix->tab);
	ix->post = malloc((b->npairs ? b->npairs : 1) * sizeof *ix->post);
	if (!ix->tab || !ix->post)
		return -ENOMEM;
	ix->mask = cap - 1;
	for (size_t i = 0; i < b->npairs;) {
		uint64_t key = b->pairs[i].key;
		uint64_t h = key & ix->mask;
		uint32_t off = (uint32_t)np;

		for (; i < b->npairs && b->pairs[i].key == key; i++)
			if (np == off || ix->post[np - 1] != b->pairs[i].rule)
				ix->post[np++] = b->pairs[i].rule;
		while (ix->tab[h].key)
			h = (h + 1) & ix->mask;
		ix->tab[h] = (struct slot){ key, off, (uint32_t)np - off };
	}
	ix->st.atoms = (uint32_t)nkeys;
	return 0;
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
 * postings are appended to *post. */
static int build_ac(struct ac *a, const struct litrule *lits, size_t n,
		    uint32_t **post, size_t *npost, size_t *cpost)
{
	uint32_t *go = NULL, *fail = NULL, *queue = NULL;
	uint32_t states = 1, cstates = 64, nc;
	size_t total = 1;
	int rc = -ENOMEM;

	memset(a->cls, 0, sizeof a->cls);
	a->field = lits[0].field;
	a->nclasses = 1;
	for (size_t i = 0; i < n; i++)
		for (const unsigned char *p = (const unsigned char *)lits[i].lit;
		     *p; p++) {
			if (!a->cls[*p])
				a->cls[*p] = (uint8_t)a->nclasses++;
			total++;
		}
	/* Upper case reaches the automaton lowercased already; map it to the
	 * same class so the lookup need not lower before indexing cls[]. */
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
			a->out_off[s] = (uint32_t)*npost;
		else if (a->out_off[s] + a->out_n[s] != *npost)
			abort(); /* sorted input keeps a literal's rules adjacent */
		if (a->out_n[s] && (*post)[*npost - 1] == lits[i].rule)
			continue;
		if (*npost == *cpost) {
			size_t cap = *cpost ? *cpost * 2 : 64;
			uint32_t *v = realloc(*post, cap * sizeof *v);

			if (!v)
				goto done;
			*post = v;
			*cpost = cap;
		}
		(*post)[(*npost)++] = lits[i].rule;
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

/* Builds every automaton from b->lits; their postings follow the table's
 * in ix->post. */
static int build_acs(struct cep__index *ix, struct builder *b)
{
	size_t npost = 0, cpost = 0, off;
	uint32_t *post = NULL;
	int rc = 0;

	if (!b->nlits)
		return 0;
	qsort(b->lits, b->nlits, sizeof *b->lits, lit_cmp);
	for (size_t i = 0; i < b->nlits; i++)
		if (i == 0 || b->lits[i].field != b->lits[i - 1].field)
			ix->nac++;
	ix->ac = calloc(ix->nac, sizeof *ix->ac);
	if (!ix->ac)
		return -ENOMEM;
	off = b->npairs; /* the table's postings come first */
	npost = 0;
	for (size_t i = 0, k = 0; i < b->nlits; k++) {
		size_t j = i;

		while (j < b->nlits && b->lits[j].field == b->lits[i].field)
			j++;
		if ((rc = build_ac(&ix->ac[k], &b->lits[i], j - i, &post,
				   &npost, &cpost)))
			goto done;
		ix->st.ac_states += ix->ac[k].nstates;
		i = j;
	}
	/* Append the automata's postings to ix->post and rebase. */
	uint32_t *v = realloc(ix->post, (off + npost) * sizeof *v);

	if (!v) {
		rc = -ENOMEM;
		goto done;
	}
	ix->post = v;
	memcpy(ix->post + off, post, npost * sizeof *post);
	for (uint32_t k = 0; k < ix->nac; k++)
		for (uint32_t s = 0; s < ix->ac[k].nstates; s++)
			ix->ac[k].out_off[s] += (uint32_t)off;
	ix->st.literals = (uint32_t)b->nlits;
done:
	free(post);
	return rc;
}

static int add_ip(struct builder *b, const struct atom *at, uint32_t rule)
{
	if (b->nips == b->cips) {
		size_t cap = b->cips ? b->cips * 2 : 16;
		struct ipitem *v = realloc(b->ips, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		b->ips = v;
		b->cips = cap;
	}
	b->ips[b->nips].field = at->field;
	b->ips[b->nips].af = at->af;
	b->ips[b->nips].len = at->len;
	memcpy(b->ips[b->nips].addr, at->addr, 16);
	b->ips[b->nips++].rule = rule;
	return 0;
}

/* A new trie node, its 256 entries empty; returns its number or -1. */
static int64_t trie_node(struct cep__index *ix, uint32_t *cap)
{
	if (ix->nnodes == *cap) {
		uint32_t c = *cap ? *cap * 2 : 16;
		struct tentry *v = realloc(ix->ent, (size_t)c * 256 * sizeof *v);

		if (!v)
			return -1;
		ix->ent = v;
		*cap = c;
	}
	memset(ix->ent + (size_t)ix->nnodes * 256, 0, 256 * sizeof *ix->ent);
	return ix->nnodes++;
}

/* An (entry, rule) pair of the tries, before sorting. */
static int tpair_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Builds the prefix tries from b->ips (see struct cep__index). */
static int build_tries(struct cep__index *ix, struct builder *b)
{
	uint64_t *tp = NULL; /* entry << 32 | rule */
	size_t ntp = 0, ctp = 0;
	uint32_t cap = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < b->nips; i++) {
		const struct ipitem *it = &b->ips[i];
		struct trie *t = NULL;
		unsigned level, bits, span;
		uint32_t node;

		for (uint32_t k = 0; k < ix->ntries; k++)
			if (ix->tries[k].field == it->field &&
			    ix->tries[k].af == it->af)
				t = &ix->tries[k];
		if (!t) {
			int64_t r;

			if (ix->ntries == sizeof ix->tries / sizeof *ix->tries)
				abort(); /* two address fields, two families */
			if ((r = trie_node(ix, &cap)) < 0)
				goto done;
			t = &ix->tries[ix->ntries++];
			*t = (struct trie){ it->field, it->af, 0, (uint32_t)r };
		}
		/* The prefix ends in stride `level`, covering `bits` of its 8
		 * bits: it fills 2^(8 - bits) entries there. */
		level = it->len ? (it->len - 1u) / 8 : 0;
		bits = it->len - level * 8;
		span = 1u << (8 - bits);
		node = t->root;
		for (unsigned l = 0; l < level; l++) {
			size_t e = (size_t)node * 256 + it->addr[l];

			if (!ix->ent[e].child) {
				int64_t r = trie_node(ix, &cap);

				if (r < 0)
					goto done;
				/* trie_node may move ix->ent: index again. */
				ix->ent[e].child = (uint32_t)r;
			}
			node = ix->ent[e].child;
		}
		if (t->depth < level + 1)
			t->depth = (uint8_t)(level + 1);
		for (unsigned e = 0; e < span; e++) {
			uint64_t entry = (uint64_t)node * 256 +
					 (it->addr[level] & (uint8_t)~(span - 1)) + e;

			if (ntp == ctp) {
				size_t c = ctp ? ctp * 2 : 64;
				uint64_t *v = realloc(tp, c * sizeof *v);

				if (!v)
					goto done;
				tp = v;
				ctp = c;
			}
			tp[ntp++] = entry << 32 | it->rule;
		}
	}
	if (ntp)
		qsort(tp, ntp, sizeof *tp, tpair_cmp);
	ix->tpost = malloc((ntp ? ntp : 1) * sizeof *ix->tpost);
	if (!ix->tpost)
		goto done;
	for (size_t i = 0, np = 0; i < ntp; i++) {
		uint64_t e = tp[i] >> 32;

		if (i && tp[i] == tp[i - 1])
			continue;
		if (!ix->ent[e].n)
			ix->ent[e].off = (uint32_t)np;
		ix->tpost[np++] = (uint32_t)tp[i];
		ix->ent[e].n++;
	}
	ix->st.trie_nodes = ix->nnodes;
	rc = 0;
done:
	free(tp);
	return rc;
}

static bool admits(int16_t rkind, unsigned k)
{
	return rkind < 0 || (k > 0 && rkind == (int)k);
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
	b.asets = calloc(ix->nrules ? ix->nrules : 1, sizeof *b.asets);
	if (!ix->kind || !b.asets)
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
	for (unsigned f = 0; f < MAX_FIELDS; f++) {
		if (b.numf[f])
			ix->numf[ix->nnumf++] = (uint8_t)f;
		if (b.textf[f])
			ix->textf[ix->ntextf++] = (uint8_t)f;
	}
	if (build_table(ix, &b) || build_acs(ix, &b) || build_tries(ix, &b))
		goto fail;
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
	for (uint32_t i = 0; ix->ac && i < ix->nac; i++)
		ac_fini(&ix->ac[i]);
	free(ix->ac);
	free(ix->kind);
	free(ix->tab);
	free(ix->post);
	free(ix->ipk);
	free(ix->ent);
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
	uint64_t h = key & ix->mask;

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

uint32_t cep__index_candidates(const struct cep__index *ix,
			       struct cep__index_scratch *s,
			       const struct cep_event *ev,
			       const uint32_t **out)
{
	unsigned k = ev->kind < CEP_KIND_COUNT ? ev->kind : 0;
	uint8_t buf[CEP__FIELD_ENC_MAX];
	uint32_t n = 0;

	for (uint32_t i = 0; i < ix->nnumf; i++)
		probe(ix, s, key_num(ix->numf[i],
				     cep__field_num(ev, ix->numf[i])), k);
	for (uint32_t i = 0; i < ix->ntextf; i++) {
		size_t len = cep__field_encode(ev, ix->textf[i], buf) - 1;
		char low[CEP__FIELD_ENC_MAX];

		for (size_t j = 0; j < len; j++)
			low[j] = (char)lower(buf[1 + j]);
		probe(ix, s, key_text(ix->textf[i], low, len), k);
	}
	for (uint32_t i = 0; i < ix->nipk; i++) {
		const struct ipkey *p = &ix->ipk[i];
		const uint8_t *ip;
		int af = cep__field_ip(ev, p->field, &ip);

		if (af == p->af)
			probe(ix, s, key_ip(p->field, p->af, p->len, ip), k);
	}
	for (uint32_t i = 0; i < ix->ntries; i++) {
		const struct trie *t = &ix->tries[i];
		const uint8_t *ip;
		uint32_t node = t->root;

		if (cep__field_ip(ev, t->field, &ip) != t->af)
			continue;
		for (unsigned l = 0; l < t->depth; l++) {
			const struct tentry *e = &ix->ent[(size_t)node * 256 +
							   ip[l]];

			if (e->n)
				mark_list(ix, s, ix->tpost, e->off, e->n, k);
			if (!(node = e->child))
				break;
		}
	}
	for (uint32_t i = 0; i < ix->nac; i++) {
		const struct ac *a = &ix->ac[i];
		size_t len = cep__field_encode(ev, a->field, buf) - 1;
		uint32_t st = 0;

		for (size_t j = 1; j <= len; j++) {
			st = a->delta[(size_t)st * a->nclasses + a->cls[buf[j]]];
			for (uint32_t d = a->out_n[st] ? st : a->dict[st]; d;
			     d = a->dict[d])
				mark_list(ix, s, ix->post, a->out_off[d],
					  a->out_n[d], k);
		}
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
	*out = s->cand;
	return n;
}
