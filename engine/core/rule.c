/*
 * rule.c - the rule compiler: YAML documents -> struct cep_ruleset.
 *
 * The compiler runs in three passes:
 *
 *   1 files    every path is expanded (a directory gives its .yml and .yaml
 *              files sorted by name) and every file is loaded with libyaml's
 *              document API, one document at a time;
 *   2 rules    each document compiles on its own: metadata, logsource, the
 *              detection (predicates, selections, condition program) or the
 *              correlation (type, group-by, timespan, bounds); references to
 *              other rules are only recorded, with their line;
 *   3 resolve  ids and names are checked for duplicates, correlation
 *              references are bound to rule indices, who emits is decided,
 *              correlation levels default, and the by-kind lists are built.
 *
 * An error never stops a pass: it is written as "FILE:LINE: message" and
 * counted, and the rule that has it is still kept until the end, so that
 * references to it do not produce a second, misleading error.  Only when the
 * count is zero is the rule set handed out; otherwise it is freed whole.
 */
#include "ceptor/rule.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "core/match.h"
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
};

/* Growable arrays of one detection under construction. */
struct dbuild {
	struct cep__detection *d;
	size_t cpreds, cgroups, csels, cset, cprog;
};

static void diag(struct cctx *c, const char *file, unsigned line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void diag(struct cctx *c, const char *file, unsigned line,
		 const char *fmt, ...)
{
	va_list ap;

	if (line)
		fprintf(c->diag, "%s:%u: ", file, line);
	else
		fprintf(c->diag, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(c->diag, fmt, ap);
	va_end(ap);
	fputc('\n', c->diag);
	c->nerr++;
}

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

#define ERR(c, node, ...) diag((c), (c)->file, line_of(node), __VA_ARGS__)

/* Grows *parr (an array of elsize-byte elements) so that index n fits. */
static bool grow_arr(struct cctx *c, void *parr, size_t elsize, size_t n,
		     size_t *cap)
{
	void *arr, *p;
	size_t nc;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 8;
	memcpy(&arr, parr, sizeof arr);
	p = realloc(arr, nc * elsize);
	if (!p) {
		c->oom = true;
		return false;
	}
	memcpy(parr, &p, sizeof p);
	*cap = nc;
	return true;
}

#define GROW(c, arr, n, cap) grow_arr((c), &(arr), sizeof *(arr), (n), &(cap))

static char *xstrdup(struct cctx *c, const char *s)
{
	char *p = strdup(s);

	if (!p)
		c->oom = true;
	return p;
}

/* --- YAML helpers --------------------------------------------------------- */

static yaml_node_t *node_at(struct cctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		       (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n)
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

static bool parse_bool(const char *s, bool *out)
{
	if (!s)
		return false;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* A scalar string attribute: copied, at most max bytes (0: any). */
static void get_str(struct cctx *c, yaml_node_t *v, const char *what,
		    size_t max, char **out)
{
	const char *s = scalar(v);

	if (!s) {
		ERR(c, v, "%s must be a string", what);
		return;
	}
	if (max && strlen(s) > max) {
		ERR(c, v, "%s is longer than %zu bytes", what, max);
		return;
	}
	free(*out);
	*out = xstrdup(c, s);
}

/* --- detection ---------------------------------------------------------- */

static bool parse_cidr(const char *s, struct cep__prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t len;
	int af;

	if (alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(p, 0, sizeof *p);
	af = cep_ip_parse(buf, p->addr);
	if (af != CEP_AF_INET && af != CEP_AF_INET6)
		return false;
	len = af == CEP_AF_INET ? 32 : 128;
	if (slash) {
		uint64_t max = len;

		if (strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		    !parse_u64(slash + 1, &len) || len > max)
			return false;
	}
	p->af = (uint8_t)af;
	p->len = (uint8_t)len;
	/* Host bits are cleared so that the match is one masked compare. */
	for (unsigned bit = (unsigned)len; bit < 128; bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

static const char *op_name(int op)
{
	static const char *const names[] = {
		[CEP__OP_EQ] = "eq", [CEP__OP_NEQ] = "neq",
		[CEP__OP_LT] = "lt", [CEP__OP_LTE] = "lte",
		[CEP__OP_GT] = "gt", [CEP__OP_GTE] = "gte",
		[CEP__OP_CIDR] = "cidr",
	};
	return names[op];
}

/* Parses one value of predicate (f, op); false after reporting an error. */
static bool parse_value(struct cctx *c, int f, int op, yaml_node_t *vn,
			union cep__value *v)
{
	const struct cep__field *fd = cep__field_get(f);
	const char *s = scalar(vn);
	uint64_t x;
	bool b;
	int t;

	if (!s) {
		ERR(c, vn, "a value of '%s' must be a scalar", fd->name);
		return false;
	}
	if (is_null(vn)) {
		if (op != CEP__OP_EQ && op != CEP__OP_NEQ) {
			ERR(c, vn, "null cannot be compared with |%s",
			    op_name(op));
			return false;
		}
		/* null stands for "not set": 0, "" or no address. */
		if (fd->cls == CEP__FC_TEXT)
			return (v->text = xstrdup(c, "")) != NULL;
		if (fd->cls == CEP__FC_IP)
			memset(&v->ip, 0, sizeof v->ip);
		else
			v->num = 0;
		return true;
	}
	switch (fd->cls) {
	case CEP__FC_IP:
		if (op == CEP__OP_CIDR) {
			if (!parse_cidr(s, &v->ip)) {
				ERR(c, vn, "bad CIDR '%s' for '%s'", s,
				    fd->name);
				return false;
			}
			return true;
		}
		memset(&v->ip, 0, sizeof v->ip);
		t = cep_ip_parse(s, v->ip.addr);
		if (t != CEP_AF_INET && t != CEP_AF_INET6) {
			ERR(c, vn, "'%s' is not an IP address for '%s'%s", s,
			    fd->name,
			    strchr(s, '/') ? " (use |cidr for a network)" : "");
			return false;
		}
		v->ip.af = (uint8_t)t;
		v->ip.len = t == CEP_AF_INET ? 32 : 128;
		return true;
	case CEP__FC_TEXT:
		return (v->text = xstrdup(c, s)) != NULL;
	case CEP__FC_BOOL:
		if (!parse_bool(s, &b)) {
			ERR(c, vn, "'%s' is not a boolean for '%s'", s,
			    fd->name);
			return false;
		}
		v->num = b;
		return true;
	case CEP__FC_TOKEN:
		t = fd->parse(s);
		if (t < 0) {
			ERR(c, vn, "'%s' is not a %s token", s, fd->name);
			return false;
		}
		v->num = (uint64_t)t;
		return true;
	default:
		if (!parse_u64(s, &x) || x > fd->max) {
			ERR(c, vn, "'%s' is not a number in 0..%llu for '%s'",
			    s, (unsigned long long)fd->max, fd->name);
			return false;
		}
		v->num = x;
		return true;
	}
}

/* Sigma modifiers this slice does not implement yet (rules/LANGUAGE.md). */
static const char *const planned_mods[] = {
	"contains", "startswith", "endswith", "re", "base64", "base64offset",
	"utf16le", "utf16be", "utf16", "wide", "windash", "exists", "cased",
	"expand", "fieldref", "minute", "hour", "day", "week", "month",
	"year", "i", "m", "s", NULL
};

static void compile_pred(struct cctx *c, struct dbuild *b, yaml_node_t *kn,
			 yaml_node_t *vn, uint32_t *npreds)
{
	struct cep__detection *d = b->d;
	const char *key = scalar(kn);
	char buf[256], *mod, *save = NULL;
	yaml_node_t *items[1] = { vn };
	yaml_node_t **vals = items;
	struct cep__pred p = { 0 };
	size_t nvals = 1;
	bool ok = true;
	int f, op = CEP__OP_EQ;

	if (!key || strlen(key) >= sizeof buf) {
		ERR(c, kn, "a field name must be a short string");
		return;
	}
	strcpy(buf, key);
	mod = strchr(buf, '|');
	if (mod)
		*mod++ = '\0';
	f = cep__field_lookup(buf);
	if (f < 0) {
		ERR(c, kn, "unknown field '%s'", buf);
		return;
	}
	for (char *m = mod ? strtok_r(mod, "|", &save) : NULL; m;
	     m = strtok_r(NULL, "|", &save)) {
		int nop = 0;

		if (!strcmp(m, "all")) {
			p.all = 1;
			continue;
		}
		if (!strcmp(m, "cidr")) nop = CEP__OP_CIDR;
		else if (!strcmp(m, "neq")) nop = CEP__OP_NEQ;
		else if (!strcmp(m, "lt")) nop = CEP__OP_LT;
		else if (!strcmp(m, "lte")) nop = CEP__OP_LTE;
		else if (!strcmp(m, "gt")) nop = CEP__OP_GT;
		else if (!strcmp(m, "gte")) nop = CEP__OP_GTE;
		if (!nop) {
			bool planned = false;

			for (int i = 0; planned_mods[i]; i++)
				planned |= !strcmp(planned_mods[i], m);
			ERR(c, kn, planned ? "modifier '%s' is not supported yet"
					   : "unknown modifier '%s'", m);
			return;
		}
		if (op != CEP__OP_EQ) {
			ERR(c, kn, "modifiers '%s' and '%s' conflict",
			    op_name(op), m);
			return;
		}
		op = nop;
	}
	switch (cep__field_get(f)->cls) {
	case CEP__FC_IP:
		if (op != CEP__OP_EQ && op != CEP__OP_NEQ && op != CEP__OP_CIDR)
			ok = false;
		break;
	case CEP__FC_NUM:
	case CEP__FC_TOKEN:
		ok = op != CEP__OP_CIDR;
		break;
	default:
		ok = op == CEP__OP_EQ || op == CEP__OP_NEQ;
		break;
	}
	if (!ok) {
		ERR(c, kn, "modifier '%s' does not apply to field '%s'",
		    op_name(op), buf);
		return;
	}
	if (vn->type == YAML_SEQUENCE_NODE) {
		nvals = (size_t)(vn->data.sequence.items.top -
				 vn->data.sequence.items.start);
		if (nvals == 0) {
			ERR(c, vn, "empty value list for '%s'", buf);
			return;
		}
		vals = calloc(nvals, sizeof *vals);
		if (!vals) {
			c->oom = true;
			return;
		}
		for (size_t i = 0; i < nvals; i++)
			vals[i] = node_at(c, vn->data.sequence.items.start[i]);
	} else if (vn->type != YAML_SCALAR_NODE) {
		ERR(c, vn, "the value of '%s' must be a scalar or a list", buf);
		return;
	}
	p.field = (uint8_t)f;
	p.op = (uint8_t)op;
	p.nvals = (uint32_t)nvals;
	p.vals = calloc(nvals, sizeof *p.vals);
	if (!p.vals) {
		c->oom = true;
		ok = false;
	}
	for (size_t i = 0; ok && i < nvals; i++)
		ok = parse_value(c, f, op, vals[i], &p.vals[i]);
	if (vals != items)
		free(vals);
	if (ok && GROW(c, d->preds, d->npreds, b->cpreds)) {
		d->preds[d->npreds++] = p;
		(*npreds)++;
		return;
	}
	if (p.vals && cep__field_get(f)->cls == CEP__FC_TEXT)
		for (size_t i = 0; i < nvals; i++)
			free(p.vals[i].text);
	free(p.vals);
}

static void compile_group(struct cctx *c, struct dbuild *b, yaml_node_t *map)
{
	struct cep__detection *d = b->d;
	struct cep__group g = { d->npreds, 0 };
	yaml_node_t *k, *v;

	if (map->data.mapping.pairs.top == map->data.mapping.pairs.start) {
		ERR(c, map, "empty map in a selection");
		return;
	}
	FOR_PAIRS(c, map, k, v)
		compile_pred(c, b, k, v, &g.n);
	if (GROW(c, d->groups, d->ngroups, b->cgroups))
		d->groups[d->ngroups++] = g;
}

static void compile_selection(struct cctx *c, struct dbuild *b,
			      yaml_node_t *kn, yaml_node_t *v)
{
	struct cep__detection *d = b->d;
	const char *name = scalar(kn);
	struct cep__selection sel;

	for (uint32_t i = 0; i < d->nsels; i++)
		if (!strcmp(d->sels[i].name, name)) {
			ERR(c, kn, "duplicate selection '%s'", name);
			return;
		}
	if (d->nsels == CEP__MAX_SELECTIONS) {
		ERR(c, kn, "more than %d selections", CEP__MAX_SELECTIONS);
		return;
	}
	sel.name = xstrdup(c, name);
	sel.first = d->ngroups;
	if (!sel.name)
		return;
	if (v->type == YAML_MAPPING_NODE) {
		compile_group(c, b, v);
	} else if (v->type == YAML_SEQUENCE_NODE &&
		   v->data.sequence.items.top > v->data.sequence.items.start) {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *m = node_at(c, *it);

			if (m->type != YAML_MAPPING_NODE)
				ERR(c, m, "selection '%s': list items must be "
				    "maps (keyword lists are not supported)",
				    name);
			else
				compile_group(c, b, m);
		}
	} else {
		ERR(c, v, "selection '%s' must be a map or a list of maps",
		    name);
	}
	sel.n = d->ngroups - sel.first;
	if (GROW(c, d->sels, d->nsels, b->csels))
		d->sels[d->nsels++] = sel;
	else
		free(sel.name);
}

/* --- condition: recursive descent to postfix -------------------------------- */

enum { T_END, T_LP, T_RP, T_PIPE, T_WORD };

struct cparse {
	struct cctx *c;
	struct dbuild *b;
	yaml_node_t *node;
	const char *s;
	size_t pos, tokpos;
	int tt;
	char tok[128];
	unsigned nest; /* open parentheses and nots: bounds the recursion */
	bool failed;
};

static void lex(struct cparse *p)
{
	const char *s = p->s;
	size_t n = 0;

	while (isspace((unsigned char)s[p->pos]))
		p->pos++;
	p->tokpos = p->pos;
	switch (s[p->pos]) {
	case '\0': p->tt = T_END; strcpy(p->tok, "end"); return;
	case '(': p->tt = T_LP; p->pos++; strcpy(p->tok, "("); return;
	case ')': p->tt = T_RP; p->pos++; strcpy(p->tok, ")"); return;
	case '|': p->tt = T_PIPE; p->pos++; strcpy(p->tok, "|"); return;
	}
	while (s[p->pos] && !isspace((unsigned char)s[p->pos]) &&
	       !strchr("()|", s[p->pos])) {
		if (n + 1 < sizeof p->tok)
			p->tok[n++] = s[p->pos];
		p->pos++;
	}
	p->tok[n] = '\0';
	p->tt = T_WORD;
}

static void cerr(struct cparse *p, const char *fmt, const char *arg)
{
	char msg[256];

	if (p->failed)
		return;
	p->failed = true;
	snprintf(msg, sizeof msg, fmt, arg);
	ERR(p->c, p->node, "condition: %s (character %zu)", msg,
	    p->tokpos + 1);
}

static bool is_word(const struct cparse *p, const char *w)
{
	return p->tt == T_WORD && !strcmp(p->tok, w);
}

static bool is_keyword(const char *w)
{
	return !strcmp(w, "and") || !strcmp(w, "or") || !strcmp(w, "not") ||
	       !strcmp(w, "of") || !strcmp(w, "them");
}

static void emit(struct cparse *p, int op, uint32_t arg, uint32_t n)
{
	struct cep__detection *d = p->b->d;

	if (p->failed || !GROW(p->c, d->prog, d->nprog, p->b->cprog)) {
		p->failed = true;
		return;
	}
	d->prog[d->nprog++] = (struct cep__insn){ (uint8_t)op, arg, n };
}

static void parse_or(struct cparse *p);

static void parse_quantifier(struct cparse *p, int op)
{
	struct cep__detection *d = p->b->d;
	uint32_t first = d->nsetlist;

	lex(p); /* "of" */
	if (!is_word(p, "of")) {
		cerr(p, "expected 'of' but found '%s'", p->tok);
		return;
	}
	lex(p);
	if (p->tt != T_WORD || (is_keyword(p->tok) && !is_word(p, "them"))) {
		cerr(p, "expected a selection pattern or 'them' but found '%s'",
		     p->tok);
		return;
	}
	for (uint32_t i = 0; i < d->nsels; i++) {
		const char *name = d->sels[i].name;
		bool hit = is_word(p, "them") ? name[0] != '_' :
						fnmatch(p->tok, name, 0) == 0;

		if (!hit)
			continue;
		if (!GROW(p->c, d->setlist, d->nsetlist, p->b->cset)) {
			p->failed = true;
			return;
		}
		d->setlist[d->nsetlist++] = i;
	}
	if (d->nsetlist == first) {
		cerr(p, "'%s' names no selection", p->tok);
		return;
	}
	emit(p, op, first, d->nsetlist - first);
	lex(p);
}

static void parse_atom(struct cparse *p)
{
	struct cep__detection *d = p->b->d;

	if (p->failed)
		return;
	if (p->tt == T_LP) {
		if (++p->nest > CEP__MAX_STACK) {
			cerr(p, "%s", "parentheses nest too deep");
			return;
		}
		lex(p);
		parse_or(p);
		p->nest--;
		if (p->tt != T_RP)
			cerr(p, "expected ')' but found '%s'", p->tok);
		else
			lex(p);
		return;
	}
	if (p->tt == T_PIPE) {
		cerr(p, "%s", "aggregations ('| count() ...') are not "
		     "supported; use a correlation rule");
		return;
	}
	if (p->tt != T_WORD || is_keyword(p->tok)) {
		cerr(p, "unexpected '%s'", p->tok);
		return;
	}
	if (is_word(p, "1") || is_word(p, "any") || is_word(p, "all")) {
		int op = is_word(p, "all") ? CEP__I_ALL : CEP__I_ANY;
		struct cparse peek = *p;

		lex(&peek);
		if (is_word(&peek, "of")) {
			parse_quantifier(p, op);
			return;
		}
	}
	for (uint32_t i = 0; i < d->nsels; i++)
		if (!strcmp(d->sels[i].name, p->tok)) {
			emit(p, CEP__I_SEL, i, 0);
			lex(p);
			return;
		}
	cerr(p, "undefined selection '%s'", p->tok);
}

static void parse_not(struct cparse *p)
{
	if (is_word(p, "not")) {
		if (++p->nest > CEP__MAX_STACK) {
			cerr(p, "%s", "'not' nests too deep");
			return;
		}
		lex(p);
		parse_not(p);
		p->nest--;
		emit(p, CEP__I_NOT, 0, 0);
		return;
	}
	parse_atom(p);
}

static void parse_and(struct cparse *p)
{
	parse_not(p);
	while (!p->failed && is_word(p, "and")) {
		lex(p);
		parse_not(p);
		emit(p, CEP__I_AND, 0, 0);
	}
}

static void parse_or(struct cparse *p)
{
	parse_and(p);
	while (!p->failed && is_word(p, "or")) {
		lex(p);
		parse_and(p);
		emit(p, CEP__I_OR, 0, 0);
	}
}

static bool compile_one_condition(struct cctx *c, struct dbuild *b,
				  yaml_node_t *n)
{
	struct cparse p = { .c = c, .b = b, .node = n, .s = scalar(n) };

	if (!p.s) {
		ERR(c, n, "condition must be a string or a list of strings");
		return false;
	}
	lex(&p);
	if (p.tt == T_END) {
		ERR(c, n, "condition is empty");
		return false;
	}
	parse_or(&p);
	if (!p.failed && p.tt == T_PIPE)
		cerr(&p, "%s", "aggregations ('| count() ...') are not "
		     "supported; use a correlation rule");
	else if (!p.failed && p.tt != T_END)
		cerr(&p, "unexpected '%s'", p.tok);
	return !p.failed;
}

static void compile_condition(struct cctx *c, struct dbuild *b,
			      yaml_node_t *n)
{
	struct cep__detection *d = b->d;
	unsigned depth = 0, max = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		/* Sigma 1.0: a list of conditions, any of which may hold. */
		yaml_node_item_t *it = n->data.sequence.items.start;

		if (it == n->data.sequence.items.top) {
			ERR(c, n, "condition is empty");
			return;
		}
		for (; it < n->data.sequence.items.top; it++) {
			struct cparse p = { .c = c, .b = b, .node = n };

			if (!compile_one_condition(c, b, node_at(c, *it)))
				return;
			if (it > n->data.sequence.items.start)
				emit(&p, CEP__I_OR, 0, 0);
		}
	} else if (!compile_one_condition(c, b, n)) {
		return;
	}
	for (uint32_t i = 0; i < d->nprog; i++) {
		uint8_t op = d->prog[i].op;

		if (op == CEP__I_SEL || op == CEP__I_ANY || op == CEP__I_ALL)
			depth++;
		else if (op == CEP__I_AND || op == CEP__I_OR)
			depth--;
		if (depth > max)
			max = depth;
	}
	if (max > CEP__MAX_STACK)
		ERR(c, n, "condition nests deeper than %d", CEP__MAX_STACK);
}

static void compile_detection(struct cctx *c, struct cep__rule *r,
			      yaml_node_t *at, yaml_node_t *n)
{
	struct dbuild b = { .d = &r->det };
	yaml_node_t *k, *v, *cond = NULL;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "detection must be a map of selections and a "
		    "condition");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		const char *name = scalar(k);

		if (!name) {
			ERR(c, k, "selection names must be strings");
		} else if (!strcmp(name, "condition")) {
			cond = v;
		} else if (!strcmp(name, "timeframe")) {
			ERR(c, k, "timeframe is not supported; use a "
			    "correlation rule with a timespan");
		} else {
			compile_selection(c, &b, k, v);
		}
	}
	if (!cond)
		ERR(c, at, "detection has no condition");
	else if (r->det.nsels == 0)
		ERR(c, at, "detection has no selections");
	else
		compile_condition(c, &b, cond);
}

/* --- correlation ---------------------------------------------------------- */

static bool parse_timespan(const char *s, uint64_t *ns)
{
	static const struct { char unit; uint64_t mult; } units[] = {
		{ 's', 1000000000ULL }, { 'm', 60000000000ULL },
		{ 'h', 3600000000000ULL }, { 'd', 86400000000000ULL },
	};
	char num[24];
	size_t n = s ? strlen(s) : 0;
	uint64_t v;

	if (n < 2 || n - 1 >= sizeof num)
		return false;
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	if (!isdigit((unsigned char)num[0]) || !parse_u64(num, &v) || v == 0)
		return false;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s[n - 1] == units[i].unit) {
			if (v > UINT64_MAX / units[i].mult)
				return false;
			*ns = v * units[i].mult;
			return true;
		}
	return false;
}

static void add_ref(struct cctx *c, yaml_node_t *n)
{
	const char *s = scalar(n);

	if (!s || !*s) {
		ERR(c, n, "a correlation's rules must be rule ids or names");
		return;
	}
	if (!GROW(c, c->refs, c->nrefs, c->crefs))
		return;
	c->refs[c->nrefs] = (struct pref){ (uint32_t)c->rs->nrules,
					   xstrdup(c, s), c->file,
					   line_of(n) };
	if (c->refs[c->nrefs].target)
		c->nrefs++;
}

/* Calls fn on a scalar node, or on each item of a sequence node. */
static void each_item(struct cctx *c, yaml_node_t *n,
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

static void ref_item(struct cctx *c, yaml_node_t *n, void *arg)
{
	(void)arg;
	add_ref(c, n);
}

static void group_item(struct cctx *c, yaml_node_t *n, void *arg)
{
	struct cep__corr *k = arg;
	const char *s = scalar(n);
	int f = s ? cep__field_lookup(s) : -1;

	if (f < 0) {
		ERR(c, n, "unknown group-by field '%s'", s ? s : "");
		return;
	}
	if (k->ngroup == CEP__GROUP_BY_MAX) {
		ERR(c, n, "more than %d group-by fields", CEP__GROUP_BY_MAX);
		return;
	}
	k->group[k->ngroup++] = (uint8_t)f;
}

static void compile_corr_condition(struct cctx *c, struct cep__corr *k,
				   yaml_node_t *n)
{
	yaml_node_t *kn, *v;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "correlation condition must be a map such as "
		    "{gte: 10}");
		return;
	}
	k->upward = true;
	FOR_PAIRS(c, n, kn, v) {
		const char *key = scalar(kn), *s = scalar(v);
		static const char *const ops[] = { "eq", "neq", "lt", "lte",
						   "gt", "gte" };
		static const uint8_t opv[] = { CEP__OP_EQ, CEP__OP_NEQ,
					       CEP__OP_LT, CEP__OP_LTE,
					       CEP__OP_GT, CEP__OP_GTE };
		int op = -1;
		uint64_t x;

		if (key && !strcmp(key, "field")) {
			int f = s ? cep__field_lookup(s) : -1;

			if (f < 0)
				ERR(c, v, "unknown correlation field '%s'",
				    s ? s : "");
			else
				k->field = (int16_t)f;
			continue;
		}
		for (int i = 0; key && i < 6; i++)
			if (!strcmp(key, ops[i]))
				op = opv[i];
		if (op < 0) {
			ERR(c, kn, "unknown correlation condition '%s'",
			    key ? key : "");
			continue;
		}
		if (!parse_u64(s, &x)) {
			ERR(c, v, "'%s' needs a whole number", key);
			continue;
		}
		if (k->nbound == CEP__COND_MAX) {
			ERR(c, kn, "too many bounds in a condition");
			continue;
		}
		k->bound[k->nbound++] = (struct cep__bound){ (uint8_t)op, x };
		if (op != CEP__OP_GT && op != CEP__OP_GTE)
			k->upward = false;
	}
	if (k->nbound == 0)
		ERR(c, n, "correlation condition needs one of gt, gte, lt, "
		    "lte, eq, neq");
}

static void compile_correlation(struct cctx *c, struct cep__rule *r,
				yaml_node_t *at, yaml_node_t *n)
{
	struct cep__corr *k = &r->corr;
	yaml_node_t *kn, *v, *cond = NULL, *type = NULL, *rules = NULL;
	yaml_node_t *ts = NULL;
	size_t keylen = 0;
	bool gen;

	k->field = -1;
	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "correlation must be a map");
		return;
	}
	FOR_PAIRS(c, n, kn, v) {
		const char *key = scalar(kn);

		if (!key)
			ERR(c, kn, "correlation keys must be strings");
		else if (!strcmp(key, "type"))
			type = v;
		else if (!strcmp(key, "rules"))
			rules = v;
		else if (!strcmp(key, "group-by"))
			each_item(c, v, group_item, k);
		else if (!strcmp(key, "timespan"))
			ts = v;
		else if (!strcmp(key, "condition"))
			cond = v;
		else if (!strcmp(key, "generate")) {
			if (!parse_bool(scalar(v), &gen))
				ERR(c, v, "generate must be true or false");
			else
				k->generate = gen;
		} else if (!strcmp(key, "aliases"))
			ERR(c, kn, "correlation aliases are not supported yet");
		else
			ERR(c, kn, "unknown correlation attribute '%s'", key);
	}
	if (!type) {
		ERR(c, at, "correlation has no type");
	} else if (scalar(type) && !strcmp(scalar(type), "value_count")) {
		r->corr_type = CEP__CORR_VALUE_COUNT;
	} else if (scalar(type) && !strcmp(scalar(type), "event_count")) {
		r->corr_type = CEP__CORR_EVENT_COUNT;
	} else {
		const char *t = scalar(type) ? scalar(type) : "";
		bool planned = !strcmp(t, "temporal") ||
			       !strcmp(t, "temporal_ordered") ||
			       !strncmp(t, "value_", 6);

		ERR(c, type, planned ? "correlation type '%s' is not "
		    "supported yet" : "unknown correlation type '%s'", t);
	}
	if (!rules)
		ERR(c, at, "correlation has no rules");
	else if (rules->type == YAML_SEQUENCE_NODE &&
		 rules->data.sequence.items.top ==
			 rules->data.sequence.items.start)
		ERR(c, rules, "correlation rules list is empty");
	else
		each_item(c, rules, ref_item, NULL);
	if (!ts)
		ERR(c, at, "correlation has no timespan");
	else if (!parse_timespan(scalar(ts), &k->timespan))
		ERR(c, ts, "bad timespan '%s' (a number then s, m, h or d)",
		    scalar(ts) ? scalar(ts) : "");
	if (!cond) {
		ERR(c, at, "correlation has no condition");
	} else {
		compile_corr_condition(c, k, cond);
		if (r->corr_type == CEP__CORR_VALUE_COUNT && k->field < 0)
			ERR(c, cond, "value_count needs a field in its "
			    "condition");
		if (r->corr_type == CEP__CORR_EVENT_COUNT && k->field >= 0)
			ERR(c, cond, "event_count takes no field");
	}
	for (unsigned i = 0; i < k->ngroup; i++)
		keylen += cep__field_format_max(k->group[i]) + 1;
	if (keylen > CEP_SIGNAL_KEY_MAX)
		ERR(c, at, "group-by key could exceed %d bytes",
		    CEP_SIGNAL_KEY_MAX - 1);
}

/* --- rule documents ------------------------------------------------------- */

static void compile_logsource(struct cctx *c, struct cep__rule *r,
			      yaml_node_t *n)
{
	yaml_node_t *k, *v;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "logsource must be a map");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		const char *key = scalar(k);

		if (!key)
			continue;
		if (!strcmp(key, "product"))
			get_str(c, v, "logsource product", 0, &r->ls_product);
		else if (!strcmp(key, "category"))
			get_str(c, v, "logsource category", 0,
				&r->ls_category);
		else if (!strcmp(key, "service"))
			get_str(c, v, "logsource service", 0, &r->ls_service);
	}
	/* Our own product (or none): the category is an event kind and
	 * restricts the rule to it.  Another product's logsource is kept for
	 * reference and restricts nothing. */
	if (r->ls_category &&
	    (!r->ls_product || !strcmp(r->ls_product, "ceptor"))) {
		int kind = cep_kind_parse(r->ls_category);

		if (kind <= 0)
			ERR(c, n, "logsource category '%s' is not an event "
			    "kind", r->ls_category);
		else
			r->kind = (int16_t)kind;
	}
}

static void compile_tags(struct cctx *c, struct cep__rule *r, yaml_node_t *n)
{
	size_t cap = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "tags must be a list");
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		const char *s = scalar(node_at(c, *it));

		if (!s) {
			ERR(c, node_at(c, *it), "a tag must be a string");
			continue;
		}
		if (GROW(c, r->tags, r->ntags, cap) &&
		    (r->tags[r->ntags] = xstrdup(c, s)))
			r->ntags++;
	}
}

static void rule_fini(struct cep__rule *r)
{
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->description);
	free(r->status);
	for (uint32_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->ls_product);
	free(r->ls_category);
	free(r->ls_service);
	cep__detection_fini(&r->det);
	free(r->corrs);
	free(r->corr.refs);
}

static void compile_doc(struct cctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	yaml_node_t *k, *v, *detection = NULL, *correlation = NULL;
	yaml_node_t *dkey = NULL, *ckey = NULL;
	struct cep__rule r = { 0 };
	struct rmeta meta = { 0, 0 };
	bool b;
	int t;

	if (is_null(root))
		return; /* an empty document, e.g. a trailing "---" */
	if (root->type != YAML_MAPPING_NODE) {
		ERR(c, root, "a rule must be a YAML map");
		return;
	}
	r.file = c->file;
	r.line = line_of(root);
	r.kind = -1;
	FOR_PAIRS(c, root, k, v) {
		const char *key = scalar(k), *s = scalar(v);

		if (!key) {
			ERR(c, k, "rule attributes must be strings");
		} else if (!strcmp(key, "title")) {
			get_str(c, v, "title", CEP_RULE_TITLE_MAX - 1, &r.title);
		} else if (!strcmp(key, "id")) {
			get_str(c, v, "id", CEP_RULE_ID_MAX - 1, &r.id);
			meta.id_line = line_of(v);
		} else if (!strcmp(key, "name")) {
			get_str(c, v, "name", CEP_RULE_ID_MAX - 1, &r.name);
			meta.name_line = line_of(v);
		} else if (!strcmp(key, "description")) {
			get_str(c, v, "description", 0, &r.description);
		} else if (!strcmp(key, "status")) {
			if (!s || (strcmp(s, "stable") && strcmp(s, "test") &&
				   strcmp(s, "experimental") &&
				   strcmp(s, "deprecated") &&
				   strcmp(s, "unsupported")))
				ERR(c, v, "unknown status '%s'", s ? s : "");
			else
				get_str(c, v, "status", 0, &r.status);
		} else if (!strcmp(key, "level")) {
			t = s ? cep_level_parse(s) : -1;
			if (t <= 0)
				ERR(c, v, "unknown level '%s'", s ? s : "");
			else
				r.level = (uint8_t)t, r.level_set = true;
		} else if (!strcmp(key, "type")) {
			t = s ? cep_type_parse(s) : -1;
			if (t <= 0)
				ERR(c, v, "unknown type '%s'", s ? s : "");
			else
				r.type = (uint8_t)t, r.type_set = true;
		} else if (!strcmp(key, "sector")) {
			t = s ? cep_sector_parse(s) : -1;
			if (t < 0)
				ERR(c, v, "unknown sector '%s'", s ? s : "");
			else
				r.sector = (uint8_t)t;
		} else if (!strcmp(key, "tags")) {
			compile_tags(c, &r, v);
		} else if (!strcmp(key, "logsource")) {
			compile_logsource(c, &r, v);
		} else if (!strcmp(key, "detection")) {
			detection = v;
			dkey = k;
		} else if (!strcmp(key, "correlation")) {
			correlation = v;
			ckey = k;
		} else if (!strcmp(key, "generate")) {
			if (!parse_bool(s, &b))
				ERR(c, v, "generate must be true or false");
			else
				r.generate = b;
		} else if (!strcmp(key, "action")) {
			ERR(c, k, "'action' documents (global, repeat) are not "
			    "supported");
		}
		/* Other Sigma attributes (author, date, references, ...) are
		 * documentation and are accepted as they are. */
	}
	if (!r.title)
		ERR(c, root, "rule has no title");
	if (!r.id && !r.name)
		ERR(c, root, "rule has neither an id nor a name");
	if (detection && correlation)
		ERR(c, ckey, "a rule has either a detection or a "
		    "correlation, not both");
	else if (detection)
		compile_detection(c, &r, dkey, detection);
	else if (correlation)
		compile_correlation(c, &r, ckey, correlation);
	else
		ERR(c, root, "rule has no detection (or correlation)");
	if (r.corr_type != CEP__CORR_NONE)
		r.corr.generate |= r.generate;
	else if (!r.level_set)
		r.level = CEP_LEVEL_MEDIUM;
	/* Kept even when it has errors, so that references to it resolve. */
	if (!GROW(c, c->rs->rules, c->rs->nrules, c->crules)) {
		rule_fini(&r);
		return;
	}
	/* crules only grows with rules, so meta fits by construction. */
	{
		struct rmeta *m = realloc(c->meta, c->crules * sizeof *m);

		if (!m) {
			c->oom = true;
			rule_fini(&r);
			return;
		}
		c->meta = m;
	}
	c->meta[c->rs->nrules] = meta;
	c->rs->rules[c->rs->nrules++] = r;
}

/* --- files ---------------------------------------------------------------- */

static void compile_file(struct cctx *c, const char *path)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");

	if (!f) {
		diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
		fclose(f);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	c->file = path;
	for (;;) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			diag(c, path, (unsigned)parser.problem_mark.line + 1,
			     "YAML: %s%s%s",
			     parser.problem ? parser.problem : "error",
			     parser.context ? " " : "",
			     parser.context ? parser.context : "");
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		c->doc = &doc;
		compile_doc(c);
		c->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;
	return (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".yaml"));
}

static void add_file(struct cctx *c, char *path)
{
	if (!path) {
		c->oom = true;
		return;
	}
	if (!GROW(c, c->rs->files, c->rs->nfiles, c->cfiles)) {
		free(path);
		return;
	}
	c->rs->files[c->rs->nfiles++] = path;
}

static void collect(struct cctx *c, const char *path)
{
	struct stat st;
	struct dirent *de;
	size_t first = c->rs->nfiles;
	DIR *dir;

	if (stat(path, &st) != 0) {
		diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(c, strdup(path));
		return;
	}
	dir = opendir(path);
	if (!dir) {
		diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		char *full;

		if (!yaml_name(de->d_name))
			continue;
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
			full = NULL;
		add_file(c, full);
	}
	closedir(dir);
	qsort(c->rs->files + first, c->rs->nfiles - first, sizeof(char *),
	      cmp_str);
}

/* --- pass 3 --------------------------------------------------------------- */

static bool add_u32(struct cctx *c, uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *p;

	for (uint32_t i = 0; i < *n; i++)
		if ((*arr)[i] == v)
			return true;
	p = realloc(*arr, (*n + 1) * sizeof *p);
	if (!p) {
		c->oom = true;
		return false;
	}
	p[(*n)++] = v;
	*arr = p;
	return true;
}

static void check_duplicates(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct cep__rule *r = &rs->rules[i];

		for (size_t j = 0; j < i; j++) {
			struct cep__rule *o = &rs->rules[j];

			if (r->id && o->id && !strcmp(r->id, o->id))
				diag(c, r->file, c->meta[i].id_line,
				     "duplicate id '%s' (first at %s:%u)",
				     r->id, o->file, c->meta[j].id_line);
			if (r->name && o->name && !strcmp(r->name, o->name))
				diag(c, r->file, c->meta[i].name_line,
				     "duplicate name '%s' (first at %s:%u)",
				     r->name, o->file, c->meta[j].name_line);
		}
	}
}

static void resolve(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	check_duplicates(c);
	for (size_t i = 0; i < c->nrefs; i++) {
		struct pref *p = &c->refs[i];
		struct cep__rule *corr = &rs->rules[p->rule];
		size_t j;

		for (j = 0; j < rs->nrules; j++)
			if (rs->rules[j].id && !strcmp(rs->rules[j].id,
						       p->target))
				break;
		if (j == rs->nrules)
			for (j = 0; j < rs->nrules; j++)
				if (rs->rules[j].name &&
				    !strcmp(rs->rules[j].name, p->target))
					break;
		if (j == rs->nrules) {
			diag(c, p->file, p->line,
			     "correlation references unknown rule '%s'",
			     p->target);
			continue;
		}
		if (rs->rules[j].corr_type != CEP__CORR_NONE) {
			diag(c, p->file, p->line,
			     "'%s' is a correlation rule; chaining correlations "
			     "is not supported yet", p->target);
			continue;
		}
		if (!add_u32(c, &corr->corr.refs, &corr->corr.nrefs,
			     (uint32_t)j) ||
		    !add_u32(c, &rs->rules[j].corrs, &rs->rules[j].ncorrs,
			     p->rule))
			return;
	}
}

static int finish(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct cep__rule *r = &rs->rules[i];

		if (r->corr_type == CEP__CORR_NONE) {
			r->emits = r->ncorrs == 0 || r->generate;
			for (uint32_t j = 0; j < r->ncorrs; j++)
				r->emits |= rs->rules[r->corrs[j]].corr.generate;
			continue;
		}
		r->emits = true;
		r->corr.slot = rs->ncorr++;
		if (!r->level_set || !r->type_set) {
			/* Defaults from the most severe referenced rule. */
			int best = -1;

			for (uint32_t j = 0; j < r->corr.nrefs; j++) {
				struct cep__rule *d = &rs->rules[r->corr.refs[j]];

				if (best < 0 || d->level > rs->rules[best].level)
					best = (int)r->corr.refs[j];
			}
			if (!r->level_set)
				r->level = best < 0 ? CEP_LEVEL_MEDIUM :
						      rs->rules[best].level;
			if (!r->type_set && best >= 0)
				r->type = rs->rules[best].type;
		}
	}
	rs->corr_rules = calloc(rs->ncorr ? rs->ncorr : 1, sizeof(uint32_t));
	if (!rs->corr_rules)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].corr_type != CEP__CORR_NONE)
			rs->corr_rules[rs->rules[i].corr.slot] = (uint32_t)i;
	for (int k = 0; k < CEP_KIND_COUNT; k++) {
		rs->by_kind[k] = calloc(rs->nrules ? rs->nrules : 1,
					sizeof(uint32_t));
		if (!rs->by_kind[k])
			return -ENOMEM;
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct cep__rule *r = &rs->rules[i];

			if (r->corr_type == CEP__CORR_NONE &&
			    (r->kind < 0 || (k > 0 && r->kind == k)))
				rs->by_kind[k][rs->nby_kind[k]++] = (uint32_t)i;
		}
	}
	return 0;
}

/* --- public --------------------------------------------------------------- */

int cep_ruleset_compile(const char *const *dirs, size_t ndirs, FILE *diagf,
			struct cep_ruleset **out)
{
	struct cctx c = { .diag = diagf ? diagf : stderr };
	int rc = 0;

	c.rs = calloc(1, sizeof *c.rs);
	if (!c.rs)
		return -ENOMEM;
	for (size_t i = 0; i < ndirs && !c.oom; i++)
		collect(&c, dirs[i]);
	for (size_t i = 0; i < c.rs->nfiles && !c.oom; i++)
		compile_file(&c, c.rs->files[i]);
	if (!c.oom)
		resolve(&c);
	if (!c.oom && c.nerr == 0)
		rc = finish(&c);
	if (c.oom)
		rc = -ENOMEM;
	else if (rc == 0 && c.nerr)
		rc = -CEP_ERULE;
	for (size_t i = 0; i < c.nrefs; i++)
		free(c.refs[i].target);
	free(c.refs);
	free(c.meta);
	if (rc) {
		cep_ruleset_destroy(c.rs);
		return rc;
	}
	*out = c.rs;
	return 0;
}

void cep_ruleset_destroy(struct cep_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_fini(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	for (int k = 0; k < CEP_KIND_COUNT; k++)
		free(rs->by_kind[k]);
	free(rs->corr_rules);
	free(rs);
}

size_t cep_ruleset_count(const struct cep_ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

int cep_ruleset_rule(const struct cep_ruleset *rs, size_t i,
		     struct cep_rule_info *out)
{
	static const char *const kinds[] = {
		[CEP__CORR_NONE] = "detection",
		[CEP__CORR_VALUE_COUNT] = "value_count",
		[CEP__CORR_EVENT_COUNT] = "event_count",
	};
	const struct cep__rule *r;

	if (!rs || i >= rs->nrules)
		return -ERANGE;
	r = &rs->rules[i];
	out->id = r->id ? r->id : "";
	out->name = r->name ? r->name : "";
	out->title = r->title;
	out->file = r->file;
	out->line = r->line;
	out->kind = kinds[r->corr_type];
	out->level = r->level;
	out->type = r->type;
	out->emits = r->emits;
	return 0;
}
