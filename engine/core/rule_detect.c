/*
 * rule_detect.c - the rule compiler's detection part: selections of field
 * predicates with Sigma modifiers, and the condition, compiled to the flat
 * arrays of match.h (rule_compile.h says how the compiler is split).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "core/match.h"
#include "core/rule_compile.h"
#include "core/rule_priv.h"

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
		    !cep__rc_parse_u64(slash + 1, &len) || len > max)
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
		if (!cep__rc_parse_bool(s, &b)) {
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
		if (!cep__rc_parse_u64(s, &x) || x > fd->max) {
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

void cep__rc_detection(struct cctx *c, struct cep__rule *r, yaml_node_t *at,
		       yaml_node_t *n)
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

