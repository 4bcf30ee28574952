/*
 * rule_corr.c - the rule compiler's correlation part: Sigma correlation
 * rules (type, rules, group-by, aliases, timespan, condition, generate) and
 * ceptor's extensions (absence, alert_clear, backoff, corroboration)
 * compiled into struct cep__corr (rule_compile.h says how the compiler is
 * split).
 *
 * Two steps: cep__rc_correlation() compiles one document, recording its
 * references by name; cep__rc_corr_resolve() runs in the resolve pass, once
 * every reference is bound to a rule index, and checks what needs the
 * referenced rules: how many there are per type, the default condition of
 * temporal and absence rules, the per-rule fields of aliases, and that
 * chains of correlations do not loop.
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
	if (!isdigit((unsigned char)num[0]) || !cep__rc_parse_u64(num, &v) || v == 0)
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

static void ref_item(struct cctx *c, yaml_node_t *n, void *arg)
{
	(void)arg;
	add_ref(c, n);
}

/* Group-by names are kept as nodes until the aliases are known: a name is
 * an alias when `aliases` defines it, a field otherwise. */
struct gnames {
	yaml_node_t *n[CEP__GROUP_BY_MAX];
	unsigned count;
	bool over;
};

static void group_item(struct cctx *c, yaml_node_t *n, void *arg)
{
	struct gnames *g = arg;

	if (!scalar(n)) {
		ERR(c, n, "group-by names must be strings");
		return;
	}
	if (g->count == CEP__GROUP_BY_MAX) {
		if (!g->over)
			ERR(c, n, "more than %d group-by fields",
			    CEP__GROUP_BY_MAX);
		g->over = true;
		return;
	}
	g->n[g->count++] = n;
}

static const struct cep__alias *alias_find(const struct cep__corr *k,
					   const char *name)
{
	for (uint32_t i = 0; i < k->naliases; i++)
		if (!strcmp(k->aliases[i].name, name))
			return &k->aliases[i];
	return NULL;
}

/* aliases: {alias: {rule: field, ...}, ...} */
static void compile_aliases(struct cctx *c, struct cep__corr *k,
			    yaml_node_t *n)
{
	yaml_node_t *an, *am, *rn, *fn;
	size_t cap = 0;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "aliases must be a map of alias: {rule: field}");
		return;
	}
	FOR_PAIRS(c, n, an, am) {
		const char *alias = scalar(an);

		if (!alias || !*alias || am->type != YAML_MAPPING_NODE) {
			ERR(c, an, "alias must name a map of rule: field");
			continue;
		}
		if (cep__field_lookup(alias) >= 0) {
			ERR(c, an, "alias '%s' is already a field name", alias);
			continue;
		}
		for (yaml_node_pair_t *q = am->data.mapping.pairs.start;
		     q < am->data.mapping.pairs.top; q++) {
			const char *rule, *field;
			int f;

			rn = node_at(c, q->key);
			fn = node_at(c, q->value);
			rule = scalar(rn);
			field = scalar(fn);
			f = field ? cep__field_lookup(field) : -1;
			if (!rule || !*rule) {
				ERR(c, rn, "alias entries are rule: field");
				continue;
			}
			if (f < 0 || f == CEP__FIELD_ANY_TEXT) {
				UNSUP(c, fn, "unknown field '%s' in alias '%s': "
				      "it has no ceptor mapping",
				      field ? field : "", alias);
				continue;
			}
			if (!GROW(c, k->aliases, k->naliases, cap))
				return;
			k->aliases[k->naliases] = (struct cep__alias){
				xstrdup(c, alias), xstrdup(c, rule),
				(uint8_t)f, line_of(rn) };
			k->naliases++;
		}
	}
}

static void resolve_groups(struct cctx *c, struct cep__corr *k,
			   const struct gnames *g)
{
	for (unsigned i = 0; i < g->count; i++) {
		const char *s = scalar(g->n[i]);
		const struct cep__alias *a = alias_find(k, s);
		int f = a ? a->field : cep__field_lookup(s);

		if (f < 0) {
			UNSUP(c, g->n[i], "unknown group-by field '%s': it has "
			      "no ceptor mapping and is not an alias", s);
			continue;
		}
		for (unsigned j = 0; j < k->ngroup; j++)
			if ((k->gname[j] && a && !strcmp(k->gname[j], s)) ||
			    (!k->gname[j] && !a && k->group[j] == f))
				ERR(c, g->n[i], "group-by '%s' is listed twice",
				    s);
		if (a && !(k->gname[k->ngroup] = xstrdup(c, s)))
			return;
		k->group[k->ngroup++] = (uint8_t)f;
	}
}

static bool number(struct cctx *c, yaml_node_t *v, const char *key,
		   uint64_t *x)
{
	if (cep__rc_parse_u64(scalar(v), x))
		return true;
	ERR(c, v, "'%s' needs a whole number", key);
	return false;
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
	k->has_cond = true;
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

			if (f < 0 || f == CEP__FIELD_ANY_TEXT)
				UNSUP(c, v, "unknown correlation field '%s': it "
				      "has no ceptor mapping", s ? s : "");
			else
				k->field = (int16_t)f;
			continue;
		}
		if (key && !strcmp(key, "alert")) {
			if (number(c, v, key, &x))
				k->alert = x;
			continue;
		}
		if (key && !strcmp(key, "clear")) {
			if (number(c, v, key, &x))
				k->clear = x;
			continue;
		}
		if (key && !strcmp(key, "factor")) {
			if (number(c, v, key, &x))
				k->factor = x;
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
		if (!number(c, v, key, &x))
			continue;
		if (k->nbound == CEP__COND_MAX) {
			ERR(c, kn, "too many bounds in a condition");
			continue;
		}
		k->bound[k->nbound++] = (struct cep__bound){ (uint8_t)op, x };
		if (op != CEP__OP_GT && op != CEP__OP_GTE)
			k->upward = false;
	}
}

static const struct {
	const char *name;
	uint8_t type;
} corr_types[] = {
	{ "value_count", CEP__CORR_VALUE_COUNT },
	{ "event_count", CEP__CORR_EVENT_COUNT },
	{ "value_sum", CEP__CORR_VALUE_SUM },
	{ "value_avg", CEP__CORR_VALUE_AVG },
	{ "temporal", CEP__CORR_TEMPORAL },
	{ "temporal_ordered", CEP__CORR_TEMPORAL_ORDERED },
	{ "absence", CEP__CORR_ABSENCE },
	{ "alert_clear", CEP__CORR_ALERT_CLEAR },
	{ "backoff", CEP__CORR_BACKOFF },
	{ "corroboration", CEP__CORR_CORROBORATION },
};

const char *cep__corr_type_name(int type)
{
	for (size_t i = 0; i < sizeof corr_types / sizeof corr_types[0]; i++)
		if (corr_types[i].type == type)
			return corr_types[i].name;
	return "detection";
}

/* What each type needs from its condition; reported at the condition (or
 * at the correlation when there is none). */
static void check_condition(struct cctx *c, struct cep__rule *r,
			    yaml_node_t *at, yaml_node_t *cond)
{
	struct cep__corr *k = &r->corr;
	yaml_node_t *where = cond ? cond : at;
	uint8_t t = r->corr_type;
	bool needs_field = t == CEP__CORR_VALUE_COUNT ||
			   t == CEP__CORR_VALUE_SUM ||
			   t == CEP__CORR_VALUE_AVG;
	bool may_field = needs_field || t == CEP__CORR_ALERT_CLEAR ||
			 t == CEP__CORR_BACKOFF ||
			 t == CEP__CORR_CORROBORATION;
	bool optional = t == CEP__CORR_TEMPORAL ||
			t == CEP__CORR_TEMPORAL_ORDERED ||
			t == CEP__CORR_ABSENCE;
	const char *name = cep__corr_type_name(t);

	if (!cond && !optional) {
		ERR(c, at, "correlation has no condition");
		return;
	}
	if (needs_field && k->field < 0)
		ERR(c, where, "%s needs a field in its condition", name);
	if (!may_field && k->field >= 0)
		ERR(c, where, "%s takes no field", name);
	if ((t == CEP__CORR_VALUE_SUM || t == CEP__CORR_VALUE_AVG) &&
	    k->field >= 0 && cep__field_get(k->field)->cls != CEP__FC_NUM)
		ERR(c, where, "%s needs a number field (bytes, packets, "
		    "count, ...), not '%s'", name,
		    cep__field_get(k->field)->name);
	if (t == CEP__CORR_CORROBORATION && k->field < 0)
		k->field = (int16_t)cep__field_lookup("source");
	if (t == CEP__CORR_ALERT_CLEAR) {
		if (k->nbound || !k->alert)
			ERR(c, where, "alert_clear takes {alert: N, clear: M} "
			    "with M < N, and no other bound");
		else if (k->clear >= k->alert)
			ERR(c, where, "alert_clear needs clear below alert");
		return;
	}
	if (k->alert || k->clear)
		ERR(c, where, "alert and clear belong to alert_clear");
	if (t == CEP__CORR_BACKOFF) {
		if (k->nbound != 1 || !k->upward || !k->bound[0].v)
			ERR(c, where, "backoff takes one bound, gte or gt, "
			    "above 0 (and a factor)");
		else
			k->alert = k->bound[0].v +
				   (k->bound[0].op == CEP__OP_GT);
		if (!k->factor)
			k->factor = 2;
		else if (k->factor < 2)
			ERR(c, where, "backoff factor must be 2 or more");
		return;
	}
	if (k->factor)
		ERR(c, where, "factor belongs to backoff");
	if (cond && k->nbound == 0)
		ERR(c, cond, "correlation condition needs one of gt, gte, lt, "
		    "lte, eq, neq");
}

void cep__rc_correlation(struct cctx *c, struct cep__rule *r,
			 yaml_node_t *at, yaml_node_t *n)
{
	struct cep__corr *k = &r->corr;
	yaml_node_t *kn, *v, *cond = NULL, *type = NULL, *rules = NULL;
	yaml_node_t *ts = NULL, *aliases = NULL;
	struct gnames groups = { .count = 0 };
	unsigned unsup0 = c->rule_unsup;
	bool gen;

	k->field = -1;
	k->line = line_of(at);
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
			each_item(c, v, group_item, &groups);
		else if (!strcmp(key, "timespan"))
			ts = v;
		else if (!strcmp(key, "condition"))
			cond = v;
		else if (!strcmp(key, "generate")) {
			if (!cep__rc_parse_bool(scalar(v), &gen))
				ERR(c, v, "generate must be true or false");
			else
				k->generate = gen;
		} else if (!strcmp(key, "aliases"))
			aliases = v;
		else
			ERR(c, kn, "unknown correlation attribute '%s'", key);
	}
	if (!type) {
		ERR(c, at, "correlation has no type");
	} else {
		const char *t = scalar(type) ? scalar(type) : "";

		for (size_t i = 0; i < sizeof corr_types / sizeof corr_types[0];
		     i++)
			if (!strcmp(t, corr_types[i].name))
				r->corr_type = corr_types[i].type;
		if (r->corr_type == CEP__CORR_NONE && !strcmp(t, "value_percentile"))
			UNSUP(c, type, "correlation type '%s' is not supported "
			      "yet", t);
		else if (r->corr_type == CEP__CORR_NONE)
			ERR(c, type, "unknown correlation type '%s'", t);
	}
	if (!rules)
		ERR(c, at, "correlation has no rules");
	else if (rules->type == YAML_SEQUENCE_NODE &&
		 rules->data.sequence.items.top ==
			 rules->data.sequence.items.start)
		ERR(c, rules, "correlation rules list is empty");
	else
		each_item(c, rules, ref_item, NULL);
	if (aliases)
		compile_aliases(c, k, aliases);
	resolve_groups(c, k, &groups);
	if (!ts)
		ERR(c, at, "correlation has no timespan");
	else if (!parse_timespan(scalar(ts), &k->timespan))
		ERR(c, ts, "bad timespan '%s' (a number then s, m, h or d)",
		    scalar(ts) ? scalar(ts) : "");
	if (cond)
		compile_corr_condition(c, k, cond);
	/* A rule skipped as unsupported needs no further complaint. */
	if (r->corr_type != CEP__CORR_NONE && c->rule_unsup == unsup0)
		check_condition(c, r, at, cond);
}

/* --- resolve (pass 3) ------------------------------------------------------ */

static bool names_rule(const struct cep__rule *r, const char *s)
{
	return (r->id && !strcmp(r->id, s)) || (r->name && !strcmp(r->name, s));
}

/* Builds rfield and checks that every alias covers every referenced rule
 * and that the key still fits in a signal. */
static void resolve_aliases(struct cctx *c, struct cep__rule *r)
{
	const struct cep_ruleset *rs = c->rs;
	struct cep__corr *k = &r->corr;
	size_t keymax = 0;
	bool any = false;

	for (unsigned i = 0; i < k->ngroup; i++)
		any |= k->gname[i] != NULL;
	for (uint32_t a = 0; a < k->naliases; a++) {
		uint32_t p;

		for (p = 0; p < k->nrefs; p++)
			if (names_rule(&rs->rules[k->refs[p]],
				       k->aliases[a].rule))
				break;
		if (p == k->nrefs)
			cep__rc_diag(c, r->file, k->aliases[a].line,
				     "alias '%s' names rule '%s', which the "
				     "correlation does not refer to",
				     k->aliases[a].name, k->aliases[a].rule);
	}
	if (any && k->nrefs) {
		k->rfield = calloc((size_t)k->nrefs * k->ngroup, 1);
		if (!k->rfield) {
			c->oom = true;
			return;
		}
	}
	for (unsigned i = 0; i < k->ngroup; i++) {
		size_t m = cep__field_format_max(k->group[i]);

		for (uint32_t p = 0; p < k->nrefs && k->rfield; p++) {
			const struct cep__rule *t = &rs->rules[k->refs[p]];
			uint8_t f = k->group[i];

			if (k->gname[i]) {
				uint32_t a;

				for (a = 0; a < k->naliases; a++)
					if (!strcmp(k->aliases[a].name,
						    k->gname[i]) &&
					    names_rule(t, k->aliases[a].rule))
						break;
				if (a == k->naliases) {
					cep__rc_diag(c, r->file, k->line,
						     "alias '%s' gives no field "
						     "for rule '%s'", k->gname[i],
						     cep__rule_sigid(t));
					continue;
				}
				f = k->aliases[a].field;
				if (cep__field_format_max(f) -
					    strlen(cep__field_get(f)->name) +
					    strlen(k->gname[i]) > m)
					m = cep__field_format_max(f) -
					    strlen(cep__field_get(f)->name) +
					    strlen(k->gname[i]);
			}
			k->rfield[p * k->ngroup + i] = f;
		}
		keymax += m + 1;
	}
	if (keymax > CEP_SIGNAL_KEY_MAX)
		cep__rc_diag(c, r->file, k->line,
			     "group-by key could exceed %d bytes",
			     CEP_SIGNAL_KEY_MAX - 1);
}

/* True when following references from rule @i reaches rule @target. */
static bool reaches(const struct cep_ruleset *rs, uint32_t i,
		    uint32_t target, unsigned depth)
{
	const struct cep__corr *k = &rs->rules[i].corr;

	if (depth > rs->nrules)
		return true; /* only a loop can be this deep */
	for (uint32_t p = 0; p < k->nrefs; p++) {
		uint32_t j = k->refs[p];

		if (rs->rules[j].corr_type == CEP__CORR_NONE)
			continue;
		if (j == target || reaches(rs, j, target, depth + 1))
			return true;
	}
	return false;
}

void cep__rc_corr_resolve(struct cctx *c)
{
	const struct cep_ruleset *rs = c->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct cep__rule *r = &rs->rules[i];
		struct cep__corr *k = &r->corr;
		uint8_t t = r->corr_type;
		const char *name = cep__corr_type_name(t);

		if (t == CEP__CORR_NONE)
			continue;
		if (k->nrefs > CEP__CORR_REFS_MAX)
			cep__rc_diag(c, r->file, k->line, "a correlation may "
				     "refer to at most %d rules",
				     CEP__CORR_REFS_MAX);
		if ((t == CEP__CORR_TEMPORAL ||
		     t == CEP__CORR_TEMPORAL_ORDERED) && k->nrefs < 2)
			cep__rc_diag(c, r->file, k->line, "%s needs at least "
				     "two different rules", name);
		if (t == CEP__CORR_ABSENCE && k->nrefs != 2)
			cep__rc_diag(c, r->file, k->line, "absence needs "
				     "exactly two different rules: A, then "
				     "the B that must follow it");
		if (!k->has_cond && (t == CEP__CORR_TEMPORAL ||
				     t == CEP__CORR_TEMPORAL_ORDERED ||
				     t == CEP__CORR_ABSENCE)) {
			/* temporal: every rule; absence: one unanswered A. */
			k->bound[0] = (struct cep__bound){
				CEP__OP_GTE,
				t == CEP__CORR_ABSENCE ? 1 : k->nrefs };
			k->nbound = 1;
			k->upward = true;
		}
		resolve_aliases(c, r);
		if (reaches(rs, (uint32_t)i, (uint32_t)i, 0))
			cep__rc_diag(c, r->file, k->line, "correlation '%s' "
				     "refers back to itself through a chain "
				     "of correlations", cep__rule_sigid(r));
	}
}

void cep__rc_corr_fini(struct cep__corr *k)
{
	for (unsigned i = 0; i < CEP__GROUP_BY_MAX; i++)
		free(k->gname[i]);
	for (uint32_t i = 0; i < k->naliases; i++) {
		free(k->aliases[i].name);
		free(k->aliases[i].rule);
	}
	free(k->aliases);
	free(k->rfield);
	free(k->refs);
}
