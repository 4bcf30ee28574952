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
#include "ceptor/signal.h"
#include "core/index.h"
#include "core/match.h"

/* Values equal the public enum cep_corr_type (signal.h), which signals carry. */
enum cep__corr_type {
	CEP__CORR_NONE = CEP_CORR_NONE, /* a detection rule */
	CEP__CORR_VALUE_COUNT = CEP_CORR_VALUE_COUNT,
	CEP__CORR_EVENT_COUNT = CEP_CORR_EVENT_COUNT,
	CEP__CORR_VALUE_SUM = CEP_CORR_VALUE_SUM,
	CEP__CORR_VALUE_AVG = CEP_CORR_VALUE_AVG,
	CEP__CORR_TEMPORAL = CEP_CORR_TEMPORAL,
	CEP__CORR_TEMPORAL_ORDERED = CEP_CORR_TEMPORAL_ORDERED,
	CEP__CORR_ABSENCE = CEP_CORR_ABSENCE,
	CEP__CORR_ALERT_CLEAR = CEP_CORR_ALERT_CLEAR,
	CEP__CORR_BACKOFF = CEP_CORR_BACKOFF,
	CEP__CORR_CORROBORATION = CEP_CORR_CORROBORATION,
};

#define CEP__GROUP_BY_MAX 4
#define CEP__COND_MAX 6
/* A correlation refers to at most this many rules: the detection stage
 * passes "which of them matched" as a bit mask. */
#define CEP__CORR_REFS_MAX 64

struct cep__bound {
	uint8_t op; /* CEP__OP_EQ, _NEQ, _LT, _LTE, _GT, _GTE */
	uint64_t v;
};

/* One `aliases` entry: group-by name @name means field @field in the
 * events of rule @rule (an id or name, bound in the resolve pass). */
struct cep__alias {
	char *name, *rule; /* owned */
	uint8_t field;
	unsigned line;
};

struct cep__corr {
	uint8_t ngroup;
	uint8_t group[CEP__GROUP_BY_MAX]; /* group-by field ids */
	int16_t field;                    /* value field (value_count,
					     value_sum/avg, ...), or -1 */
	uint8_t nbound;
	bool upward;   /* only gt/gte: fire as soon as the bound holds */
	bool generate; /* Sigma `generate`: referenced rules emit too */
	bool has_cond; /* the rule wrote a condition */
	struct cep__bound bound[CEP__COND_MAX]; /* all must hold */
	uint64_t timespan;  /* ns */
	uint32_t *refs;     /* referenced rule indices, in written order; owned */
	uint32_t nrefs;
	uint32_t slot;      /* 0 .. ncorr-1: index of its window state */
	/* alert_clear: alert when the count reaches `alert`, clear when it
	 * falls to `clear`.  backoff: first alert at `alert`, then at each
	 * `factor` times the last threshold. */
	uint64_t alert, clear, factor;
	/* aliases: gname[i] is the alias written for group-by i, or NULL for
	 * a plain field; after resolve, rfield (nrefs x ngroup, or NULL when
	 * no alias is used) gives the field of group-by i in the events of
	 * refs[p] at rfield[p * ngroup + i]. */
	char *gname[CEP__GROUP_BY_MAX];   /* owned */
	struct cep__alias *aliases;       /* owned */
	uint32_t naliases;
	uint8_t *rfield;                  /* owned */
	unsigned line;                    /* of the correlation map */
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
	/* Sigma and ceptor metadata, kept for cep_ruleset_rule() (rule.c). */
	char **falsepositives;
	uint32_t nfalsepositives;
	uint16_t sectors;   /* bit (1 << enum cep_sector) per `sectors` token */
	uint32_t systems;   /* bit (1 << enum cep_system) per `systems` token */
	uint8_t tlp_lower;  /* enum cep_tlp `tlp_lower_to`, or 0 */
	uint16_t kinds;     /* bit (1 << kind) of the kinds it sees; 0 = all */
	uint32_t *corrs;   /* rule indices of correlations fed; owned */
	uint32_t ncorrs;
	struct cep__corr corr;
	/* A hash of the rule's compiled meaning (rule.c, finish()): its id,
	 * detection, correlation, level and type, and for a correlation the
	 * hashes of the rules it refers to; not its title, description, tags,
	 * file or line, nor its place in the set.  A reload keeps the window
	 * state of a correlation whose id and hash are unchanged (detect.h). */
	uint64_t hash;
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
	struct cep__index *index; /* candidates per event (index.h); owned */
	size_t nskipped; /* rules left out by skip_unsupported (rule.c) */
};

/* cep__rule_sigid - the id signals carry: `id`, else `name`. */
static inline const char *cep__rule_sigid(const struct cep__rule *r)
{
	return r->id ? r->id : r->name;
}

#endif /* CEPTOR_CORE_RULE_PRIV_H */
