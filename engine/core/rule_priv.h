/*
 * rule_priv.h - the layout of a compiled rule set, shared by the compiler
 * (rule.c), the detection stage (detect.c) and the windows (window.c).
 *
 * Everything here is written once by cep_ruleset_compile() and only read
 * afterwards; see rule.h for the ownership and threading contract.
 */
#ifndef CEPTOR_CORE_RULE_PRIV_H
#define CEPTOR_CORE_RULE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "ceptor/event.h"
#include "core/match.h"

enum cep__corr_type {
	CEP__CORR_NONE = 0, /* a detection rule */
	CEP__CORR_VALUE_COUNT,
	CEP__CORR_EVENT_COUNT,
};

#define CEP__GROUP_BY_MAX 4
#define CEP__COND_MAX 6

struct cep__bound {
	uint8_t op; /* CEP__OP_EQ, _NEQ, _LT, _LTE, _GT, _GTE */
	uint64_t v;
};

struct cep__corr {
	uint8_t ngroup;
	uint8_t group[CEP__GROUP_BY_MAX]; /* group-by field ids */
	int16_t field;                    /* value_count field, or -1 */
	uint8_t nbound;
	bool upward;   /* only gt/gte: fire as soon as the bound holds */
	bool generate; /* Sigma `generate`: referenced rules emit too */
	struct cep__bound bound[CEP__COND_MAX]; /* all must hold */
	uint64_t timespan;  /* ns */
	uint32_t *refs;     /* detection rule indices, owned */
	uint32_t nrefs;
	uint32_t slot;      /* 0 .. ncorr-1: index of its window state */
};

struct cep__rule {
	char *id, *name, *title, *description, *status; /* owned; may be NULL */
	char **tags;
	uint32_t ntags;
	char *ls_product, *ls_category, *ls_service; /* logsource, kept */
	const char *file; /* borrowed from cep_ruleset.files */
	unsigned line;
	uint8_t corr_type; /* enum cep__corr_type */
	uint8_t level;     /* enum cep_level */
	uint8_t type;      /* enum cep_type */
	uint8_t sector;    /* enum cep_sector, or 0 */
	int16_t kind;      /* logsource kind filter, or -1 for every kind */
	bool level_set, type_set;
	bool generate;     /* its own `generate: true` */
	bool emits;        /* produces signals of its own */
	struct cep__detection det;
	uint32_t *corrs;   /* rule indices of correlations fed; owned */
	uint32_t ncorrs;
	struct cep__corr corr;
};

struct cep_ruleset {
	struct cep__rule *rules;
	size_t nrules;
	char **files;
	size_t nfiles;
	/* by_kind[k]: detection rules that may match an event of kind k;
	 * k == 0 (no kind) holds only the rules without a kind filter. */
	uint32_t *by_kind[CEP_KIND_COUNT];
	uint32_t nby_kind[CEP_KIND_COUNT];
	uint32_t *corr_rules; /* slot -> rule index */
	uint32_t ncorr;
};

/* cep__rule_sigid - the id signals carry: `id`, else `name`. */
static inline const char *cep__rule_sigid(const struct cep__rule *r)
{
	return r->id ? r->id : r->name;
}

#endif /* CEPTOR_CORE_RULE_PRIV_H */
