/*
 * rule_compile.h - what the parts of the rule compiler share (internal to
 * engine/core): the compile context, diagnostics and YAML helpers.
 *
 * The compiler is split by what it compiles:
 *   rule.c         files, documents, metadata, resolve, the public API
 *   rule_detect.c  detection: predicates, modifiers, selections, condition
 *   rule_corr.c    correlation: types, group-by, timespan, condition
 *   fieldmap.c     Sigma logsource mapping: other products' field names
 * Each part reports errors with ERR() ("FILE:LINE: message", counted) and
 * never stops at the first one; see rule.c for the passes.
 *
 * Thread safety: a struct cctx belongs to one compile call.
 */
#ifndef CEPTOR_CORE_RULE_COMPILE_H
#define CEPTOR_CORE_RULE_COMPILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/fieldmap.h"
#include "core/rule_priv.h"

/* A correlation's reference to another rule, bound in pass 3. */
struct pref {
	uint32_t rule; /* index of the correlation rule */
	char *target;  /* id or name, owned */
	const char *file;
	unsigned line;
};

/* Where a rule's id and name were written, for duplicate diagnostics. */
struct rmeta {
	unsigned id_line, name_line;
};

struct cctx {
	FILE *diag;
	unsigned nerr;
	bool oom;
	const char *file;     /* the file being compiled */
	yaml_document_t *doc; /* the document being compiled */
	struct cep_ruleset *rs;
	size_t crules, cfiles;
	struct rmeta *meta;   /* parallel to rs->rules, capacity crules */
	struct pref *refs;
	size_t nrefs, crefs;
	/* Sigma compatibility (rule.c, rule_detect.c, fieldmap.c). */
	bool skip_unsupported; /* cep_rule_options.skip_unsupported */
	unsigned rule_unsup;   /* unsupported features in the current rule */
	struct cep__fmap map;  /* logsource mapping, built-in + extensions */
	/* The current rule's logsource: native (ceptor field names) or the
	 * mapping entries that apply, most specific first. */
	bool foreign;
	const struct cep__fmap_entry *ls[16];
	unsigned nls;
	char lsdesc[192];      /* "product=zeek service=dns", for messages */
	char **skipped;        /* ids and names of rules left out */
	size_t nskipped, cskipped;
	unsigned nskiprules;
};

/* Growable arrays of one detection under construction. */
struct dbuild {
	struct cep__detection *d;
	size_t cpreds, cgroups, csels, cset, cprog;
};

void cep__rc_diag(struct cctx *c, const char *file, unsigned line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

#define ERR(c, node, ...) cep__rc_diag((c), (c)->file, line_of(node), __VA_ARGS__)

/*
 * cep__rc_unsupported - a rule uses something ceptor cannot do (a field with
 * no mapping, a modifier like `expand`).  Normally an error; with
 * skip_unsupported a "FILE:LINE: warning: ...; rule skipped" line, and the
 * rule is left out of the set (rule.c counts it).
 */
void cep__rc_unsupported(struct cctx *c, const char *file, unsigned line,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define UNSUP(c, node, ...) \
	cep__rc_unsupported((c), (c)->file, line_of(node), __VA_ARGS__)

/* Grows *parr (an array of elsize-byte elements) so that index n fits;
 * false (and c->oom) when memory runs out. */
bool cep__rc_grow(struct cctx *c, void *parr, size_t elsize, size_t n,
		  size_t *cap);
#define GROW(c, arr, n, cap) cep__rc_grow((c), &(arr), sizeof *(arr), (n), &(cap))

static inline char *xstrdup(struct cctx *c, const char *s)
{
	char *p = strdup(s);

	if (!p)
		c->oom = true;
	return p;
}

static inline yaml_node_t *node_at(struct cctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static inline const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		       (const char *)n->data.scalar.value : NULL;
}

static inline bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* Calls fn for each (key, value) pair of a mapping node. */
#define FOR_PAIRS(c, map, k, v)                                              \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;         \
	     p_ < (map)->data.mapping.pairs.top &&                            \
	     ((k) = node_at((c), p_->key), (v) = node_at((c), p_->value), 1); \
	     p_++)

/* "true"/"yes"/"false"/"no" (any case); false for anything else. */
bool cep__rc_parse_bool(const char *s, bool *out);
/* A whole unsigned number, decimal or 0x hex; false when it is not. */
bool cep__rc_parse_u64(const char *s, uint64_t *out);
/* A scalar string attribute: copied into *out, at most max bytes (0: any). */
void cep__rc_get_str(struct cctx *c, yaml_node_t *v, const char *what,
		     size_t max, char **out);
/* Calls fn on a scalar node, or on each item of a sequence node. */
static inline void each_item(struct cctx *c, yaml_node_t *n,
		      void (*fn)(struct cctx *, yaml_node_t *, void *),
		      void *arg)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		fn(c, n, arg);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++)
		fn(c, node_at(c, *it), arg);
}

/* rule_detect.c: compile r's `detection` map @n (@at: its key, for lines). */
void cep__rc_detection(struct cctx *c, struct cep__rule *r, yaml_node_t *at,
		       yaml_node_t *n);
/* rule_corr.c: compile r's `correlation` map @n. */
void cep__rc_correlation(struct cctx *c, struct cep__rule *r,
			 yaml_node_t *at, yaml_node_t *n);
/* rule_corr.c: the correlation checks that need bound references (pass 3,
 * after every reference is bound). */
void cep__rc_corr_resolve(struct cctx *c);
/* rule_corr.c: free what a struct cep__corr owns. */
void cep__rc_corr_fini(struct cep__corr *k);
/* rule_corr.c: "value_count", ..., or "detection" for CEP__CORR_NONE. */
const char *cep__corr_type_name(int type);

#endif /* CEPTOR_CORE_RULE_COMPILE_H */
