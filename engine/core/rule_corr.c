/*
 * rule_corr.c - the rule compiler's correlation part: Sigma correlation
 * rules (type, rules, group-by, timespan, condition) compiled into struct
 * cep__corr (rule_compile.h says how the compiler is split).
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
		if (!cep__rc_parse_u64(s, &x)) {
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

void cep__rc_correlation(struct cctx *c, struct cep__rule *r,
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
			if (!cep__rc_parse_bool(scalar(v), &gen))
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

