/*
 * rule_lint.c - warnings about a compiled rule set (`ceptorctl rules
 * check`): rules that can never match, and correlations whose group-by
 * grows without bound.
 *
 * Never matches.  A detection is decided in two steps, both exact for what
 * they look at and silent about what they cannot judge:
 *   1 a map of a selection (an AND group) is impossible when two of its
 *     predicates say `field == a` and `field == b` with no value in common
 *     (plain EQ on a number, token, flag or address field), or when a
 *     `kind` predicate names no kind the rule's logsource lets through;
 *     a selection is impossible when every one of its maps is;
 *   2 the condition program is then run over every true/false assignment
 *     of the possible selections (impossible ones stay false); an
 *     assignment counts only if the selections it makes true can hold
 *     together (two single-map selections forcing `field == a` and
 *     `field == b` with nothing in common cannot).  If no assignment makes
 *     the condition true, the rule can never match.  With more than
 *     LINT_MAX_SELS possible selections the enumeration is skipped.
 *
 * Unbounded group-by.  A correlation grouped by a field whose values change
 * with every connection (src_port, bytes, packets, count) opens one group
 * per distinct value: the per-rule key budget (max_keys) then evicts groups
 * before their windows end.  A field that every referenced detection pins
 * to a few values (`src_port: [53, 123]` in every map) is bounded.
 *
 * Warnings are lines "FILE:LINE: warning: rule ID: message" on @diag.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ceptor/event.h"
#include "ceptor/rule.h"
#include "core/match.h"
#include "core/rule_priv.h"

#define LINT_MAX_SELS 16

/* Whether predicates p and q (same field, both plain EQ) share a value. */
static bool eq_overlap(const struct cep__pred *p, const struct cep__pred *q)
{
	const struct cep__field *fd = cep__field_get(p->field);

	for (uint32_t i = 0; i < p->nvals; i++)
		for (uint32_t j = 0; j < q->nvals; j++) {
			const union cep__value *a = &p->vals[i], *b = &q->vals[j];

			if (fd->cls == CEP__FC_IP) {
				if (a->ip.af == b->ip.af &&
				    !memcmp(a->ip.addr, b->ip.addr, 16))
					return true;
			} else if (a->num == b->num) {
				return true;
			}
		}
	return false;
}

/* A plain EQ test on a field whose values compare as numbers/addresses. */
static bool plain_eq(const struct cep__pred *p)
{
	int cls;

	if (p->op != CEP__OP_EQ || p->flags || p->all ||
	    p->field == CEP__FIELD_ANY_TEXT)
		return false;
	cls = cep__field_get(p->field)->cls;
	return cls != CEP__FC_TEXT;
}

static bool group_possible(const struct cep__rule *r,
			   const struct cep__group *g)
{
	const struct cep__detection *d = &r->det;
	int kind_field = cep__field_lookup("kind");

	for (uint32_t i = 0; i < g->n; i++) {
		const struct cep__pred *p = &d->preds[g->first + i];

		if (!plain_eq(p))
			continue;
		/* kind == x where the logsource lets no x through */
		if (p->field == kind_field && (r->kind >= 0 || r->kinds)) {
			bool any = false;

			for (uint32_t v = 0; v < p->nvals; v++) {
				uint64_t k = p->vals[v].num;

				any |= r->kinds ? (k < 16 && (r->kinds >> k) & 1)
						: (int64_t)k == r->kind;
			}
			if (!any)
				return false;
		}
		for (uint32_t j = i + 1; j < g->n; j++) {
			const struct cep__pred *q = &d->preds[g->first + j];

			if (q->field == p->field && plain_eq(q) &&
			    !eq_overlap(p, q))
				return false;
		}
	}
	return true;
}

/* Runs the condition with selection values from bit mask @m. */
static bool eval(const struct cep__detection *d, uint32_t m)
{
	bool stack[CEP__MAX_STACK];
	unsigned sp = 0;

	for (uint32_t k = 0; k < d->nprog; k++) {
		const struct cep__insn *in = &d->prog[k];
		bool r;

		switch (in->op) {
		case CEP__I_SEL:
			stack[sp++] = (m >> in->arg) & 1;
			break;
		case CEP__I_AND:
			sp--;
			stack[sp - 1] = stack[sp - 1] && stack[sp];
			break;
		case CEP__I_OR:
			sp--;
			stack[sp - 1] = stack[sp - 1] || stack[sp];
			break;
		case CEP__I_NOT:
			stack[sp - 1] = !stack[sp - 1];
			break;
		default: /* ANY, ALL */
			r = in->op == CEP__I_ALL;
			for (uint32_t i = 0; i < in->n; i++) {
				bool v = (m >> d->setlist[in->arg + i]) & 1;

				if (v != r) {
					r = v;
					break;
				}
			}
			stack[sp++] = r;
			break;
		}
	}
	return sp == 1 && stack[0];
}

/*
 * Whether the selections true in @m can hold together: a selection with a
 * single map forces each of its plain EQ predicates, and two forced
 * predicates on one field must share a value.
 */
static bool consistent(const struct cep__detection *d, uint32_t m)
{
	for (uint32_t a = 0; a < d->nsels; a++) {
		const struct cep__selection *sa = &d->sels[a];

		if (!((m >> a) & 1) || sa->n != 1)
			continue;
		for (uint32_t b = a + 1; b < d->nsels; b++) {
			const struct cep__selection *sb = &d->sels[b];
			const struct cep__group *ga = &d->groups[sa->first];
			const struct cep__group *gb = &d->groups[sb->first];

			if (!((m >> b) & 1) || sb->n != 1)
				continue;
			for (uint32_t i = 0; i < ga->n; i++) {
				const struct cep__pred *p = &d->preds[ga->first + i];

				if (!plain_eq(p))
					continue;
				for (uint32_t j = 0; j < gb->n; j++) {
					const struct cep__pred *q =
						&d->preds[gb->first + j];

					if (q->field == p->field && plain_eq(q) &&
					    !eq_overlap(p, q))
						return false;
				}
			}
		}
	}
	return true;
}

/* Returns true when the detection of @r can never be true. */
static bool never_matches(const struct cep__rule *r)
{
	const struct cep__detection *d = &r->det;
	uint32_t possible = 0, free_sels[LINT_MAX_SELS];
	unsigned nfree = 0;

	if (d->nsels > 32 || d->nprog == 0)
		return false;
	for (uint32_t s = 0; s < d->nsels; s++) {
		const struct cep__selection *sel = &d->sels[s];

		for (uint32_t g = 0; g < sel->n; g++)
			if (group_possible(r, &d->groups[sel->first + g])) {
				possible |= 1u << s;
				break;
			}
		/* A keyword list or an empty selection has no groups to
		 * judge: count it as possible. */
		if (sel->n == 0)
			possible |= 1u << s;
	}
	for (uint32_t s = 0; s < d->nsels; s++)
		if ((possible >> s) & 1) {
			if (nfree == LINT_MAX_SELS)
				return false;
			free_sels[nfree++] = s;
		}
	for (uint32_t a = 0; a < (1u << nfree); a++) {
		uint32_t m = 0;

		for (unsigned i = 0; i < nfree; i++)
			if ((a >> i) & 1)
				m |= 1u << free_sels[i];
		if (eval(d, m) && consistent(d, m))
			return false;
	}
	return true;
}

/* Group-by fields that open one group per connection. */
static const char *const churning[] = {
	"src_port", "bytes", "packets", "count", NULL,
};

/*
 * Whether every map of every selection of detection @r pins field @f to a
 * few values with a plain EQ (a group-by on it is then bounded by them).
 */
static bool pinned(const struct cep__rule *r, int f)
{
	const struct cep__detection *d = &r->det;

	if (r->corr_type != CEP__CORR_NONE || d->ngroups == 0)
		return false;
	for (uint32_t g = 0; g < d->ngroups; g++) {
		const struct cep__group *gr = &d->groups[g];
		bool pin = false;

		for (uint32_t i = 0; i < gr->n && !pin; i++) {
			const struct cep__pred *p = &d->preds[gr->first + i];

			pin = p->field == f && plain_eq(p);
		}
		if (!pin)
			return false;
	}
	return true;
}

static const char *churning_field(const struct cep_ruleset *rs,
				  const struct cep__corr *k)
{
	for (unsigned i = 0; i < k->ngroup; i++) {
		const char *name = cep__field_get(k->group[i])->name;
		bool all_pinned = k->nrefs > 0;

		for (uint32_t j = 0; j < k->nrefs && all_pinned; j++)
			all_pinned = pinned(&rs->rules[k->refs[j]], k->group[i]);
		if (all_pinned)
			continue;
		for (unsigned j = 0; churning[j]; j++)
			if (!strcmp(name, churning[j]))
				return name;
	}
	return NULL;
}

int cep_ruleset_lint(const struct cep_ruleset *rs, FILE *diag)
{
	int n = 0;

	if (!diag)
		diag = stderr;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cep__rule *r = &rs->rules[i];
		const char *f;

		if (r->corr_type == CEP__CORR_NONE) {
			if (never_matches(r)) {
				fprintf(diag, "%s:%u: warning: rule %s can never "
					"match: its condition is false for "
					"every event\n", r->file, r->line,
					cep__rule_sigid(r));
				n++;
			}
			continue;
		}
		if ((f = churning_field(rs, &r->corr))) {
			fprintf(diag, "%s:%u: warning: rule %s groups by '%s', "
				"which takes a new value with almost every "
				"event: its groups are bounded only by max_keys "
				"and will be evicted before their windows end\n",
				r->file, r->line, cep__rule_sigid(r), f);
			n++;
		}
	}
	return n;
}
