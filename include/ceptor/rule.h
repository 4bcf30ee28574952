/*
 * rule.h - the rule language's compiler: YAML rule files in, an immutable
 * compiled rule set out.
 *
 * Rules are Sigma-style YAML (rules/LANGUAGE.md is the reference): detection
 * rules that test one event, and correlation rules (Sigma correlation format,
 * value_count and event_count for now) that count what detection rules
 * matched, per group, over a window of event time.  cep_ruleset_compile()
 * reads every *.yml / *.yaml file of the given directories (sorted by name)
 * and every path that names a file, and either returns a complete rule set or
 * rejects the whole input: there is no partially loaded rule set.
 *
 * Design: the compiled set is one allocation tree, built once and never
 * written again.
 *
 *   cep_ruleset
 *     rules[]          detection and correlation rules, in file order
 *       detection      predicates -> AND groups -> selections (OR of groups)
 *                      -> a postfix condition program over selections
 *       corrs[]        the correlation rules this detection feeds
 *       correlation    type, group-by fields, value field, timespan, bounds
 *     by_kind[kind][]  detection rules that can match an event of that kind
 *                      (logsource pre-filter; rules without one are in all)
 *
 * Nothing in it changes after compile, and it holds no per-worker state
 * (windows live in struct cep_detect), so it may be shared read-only by any
 * number of threads and, later, published through RCU: its address and the
 * strings it hands out stay valid until cep_ruleset_destroy().
 *
 * Errors: every problem found is written to the diagnostics stream as one
 * line "FILE:LINE: message" (LINE is 1-based, from the YAML node that is at
 * fault; "PATH: message" when there is no line, e.g. a file that cannot be
 * opened).  Compilation continues after an error so that one run reports all
 * of them, across all files.
 *
 * Thread safety: cep_ruleset_compile() keeps no global state and may run on
 * any thread (a reload compiles off the hot path).  The accessors only read.
 */
#ifndef CEPTOR_RULE_H
#define CEPTOR_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cep_ruleset;

/*
 * cep_ruleset_compile - compile rule files into a rule set.
 * @dirs, @ndirs: directories (their *.yml and *.yaml files, sorted by name,
 *                not recursive) or single rule files, in load order.
 * @diag: where "FILE:LINE: message" lines go; NULL means stderr.
 * @out: receives the new rule set on success; untouched on failure.
 * Returns 0; -CEP_ERULE after writing every error to @diag (the input is
 * rejected whole); -ENOMEM.  Returns a new rule set; release it with
 * cep_ruleset_destroy().
 */
int cep_ruleset_compile(const char *const *dirs, size_t ndirs, FILE *diag,
			struct cep_ruleset **out);

/*
 * Options for compiling rules that are not ceptor's own.
 *
 * skip_unsupported: third-party packs (SigmaHQ's, a vendor's) use fields
 * and features ceptor cannot match.  With this set, such a rule (a field the
 * logsource mapping has no ceptor field for, a value it cannot convert, a
 * modifier such as `expand`, a keyword search on a logsource without text)
 * is reported as "FILE:LINE: warning: ...; rule skipped" and left out, a
 * correlation that references a skipped rule is left out the same way, and
 * the rest is compiled as usual: every other error still rejects the whole
 * set.  Without it (cep_ruleset_compile()), each such problem is an error.
 *
 * mapping, nmapping: files, or directories of *.yml / *.yaml files, that
 * extend the built-in Sigma logsource mapping (rules/LANGUAGE.md,
 * "Mapping"); their entries win over built-in ones that are as specific.
 * no_builtin_mapping: start from an empty mapping instead.
 */
struct cep_rule_options {
	bool skip_unsupported;
	bool no_builtin_mapping;
	const char *const *mapping;
	size_t nmapping;
};

/*
 * cep_ruleset_compile_opts - cep_ruleset_compile() with options; @opts NULL
 * is the same as cep_ruleset_compile().  Returns as cep_ruleset_compile();
 * with skip_unsupported, a set where every rule was skipped is still a
 * (empty) rule set.
 */
int cep_ruleset_compile_opts(const char *const *dirs, size_t ndirs,
			     const struct cep_rule_options *opts, FILE *diag,
			     struct cep_ruleset **out);

/*
 * cep_ruleset_lint - warnings `ceptorctl rules check` prints about a rule
 * set that compiled: detection rules that can never match (contradictory
 * values in one map, a kind the logsource excludes, a condition false for
 * every selection outcome) and correlations grouped by a field that takes
 * a new value with almost every event.  Lines "FILE:LINE: warning: ..." go
 * to @diag (NULL: stderr).  Returns the number of warnings.
 */
int cep_ruleset_lint(const struct cep_ruleset *rs, FILE *diag);

/* cep_ruleset_skipped - how many rules skip_unsupported left out. */
size_t cep_ruleset_skipped(const struct cep_ruleset *rs);

/* cep_ruleset_destroy - free a rule set; NULL is accepted.  No cep_detect
 * created from it may be used afterwards. */
void cep_ruleset_destroy(struct cep_ruleset *rs);

/* cep_ruleset_count - the number of rules, detection and correlation. */
size_t cep_ruleset_count(const struct cep_ruleset *rs);

/* What `ceptorctl rules check` and the reload log print about one rule. */
struct cep_rule_info {
	const char *id;     /* the rule's `id`, or "" */
	const char *name;   /* the rule's `name`, or "" */
	const char *title;
	const char *file;   /* the file it came from */
	unsigned line;      /* 1-based line where its document starts */
	const char *kind;   /* "detection", "value_count" or "event_count" */
	int level;          /* enum cep_level (signal.h) */
	int type;           /* enum cep_type it detects, or 0 */
	int emits;          /* 1 when it produces signals of its own */
	/* Sigma attributes, kept as written ("" or 0 when absent). */
	const char *status;       /* stable, test, experimental, ... */
	const char *description;
	const char *const *tags;  /* ntags strings */
	size_t ntags;
	const char *const *falsepositives; /* nfalsepositives strings */
	size_t nfalsepositives;
	const char *ls_product;   /* logsource as written */
	const char *ls_category;
	const char *ls_service;
	/* ceptor's own: whom it concerns and how far it may be shared. */
	uint32_t sectors;  /* bit (1u << enum cep_sector) per `sectors` token */
	uint32_t systems;  /* bit (1u << enum cep_system) per `systems` token */
	int tlp_lower_to;  /* enum cep_tlp its signals may be lowered to, or 0 */
	uint32_t kinds;    /* bit (1u << enum cep_kind) it sees; 0 = every kind */
};

/*
 * cep_ruleset_rule - describe rule @i (0 <= i < cep_ruleset_count()).
 * The strings are borrowed from the rule set; valid until it is destroyed.
 * Returns 0 or -ERANGE.
 */
int cep_ruleset_rule(const struct cep_ruleset *rs, size_t i,
		     struct cep_rule_info *out);

#endif /* CEPTOR_RULE_H */
