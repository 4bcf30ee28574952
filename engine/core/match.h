/*
 * match.h - the compiled form of a detection and the matcher that runs it
 * (internal to engine/core).
 *
 * A detection compiles to four flat arrays, so that an index can be built
 * straight from them (an exact-value hash over EQ predicates, a prefix trie
 * over CIDR predicates, a multi-pattern matcher over the literals of text
 * predicates) without changing the compiler.  Predicates are data: a field,
 * an operator, flags and a value list holding every precomputed form
 * (folded literals, compiled regexes, decoded variants):
 *
 *   preds[]   field OP value-list          (one leaf test on one field)
 *   groups[]  preds[first .. first+n)      ANDed: one map of a selection
 *   sels[]    groups[first .. first+n)     ORed: a named selection
 *   prog[]    postfix program over sels    the `condition`
 *
 * A predicate's values are ORed (EQ, LT.., CIDR), or ANDed with `|all`;
 * NEQ is true when the field differs from every value.  The program runs on
 * a small bool stack (depth checked at compile time) and evaluates each
 * selection at most once per event.
 *
 * The field table maps the event's JSON names (event.h) to typed accessors;
 * the window code uses the same accessors to build group keys and values.
 *
 * Thread safety: everything here reads only; a compiled detection is
 * immutable and may be matched from any number of threads at once.  The one
 * piece of state is a per-thread PCRE2 match block for `re` predicates,
 * allocated on a thread's first regex match, not per event.
 */
#ifndef CEPTOR_CORE_MATCH_H
#define CEPTOR_CORE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceptor/event.h"

/* How a field's value is compared. */
enum cep__fclass {
	CEP__FC_NUM = 1, /* unsigned integer */
	CEP__FC_TOKEN,   /* vocabulary token stored as its small integer */
	CEP__FC_BOOL,    /* one bit of cep_event.flags */
	CEP__FC_IP,      /* address with its family */
	CEP__FC_TEXT,    /* NUL-terminated text, Sigma wildcards, no case */
};

struct cep__field {
	const char *name;           /* JSON name */
	uint8_t cls;                /* enum cep__fclass */
	uint64_t max;               /* NUM/TOKEN: largest storable value */
	int (*parse)(const char *); /* TOKEN: token -> value */
	const char *(*tname)(int);  /* TOKEN: value -> token */
};

/* cep__field_lookup - the field id of a JSON name, or -1. */
int cep__field_lookup(const char *name);
/* cep__field_get - the descriptor of field id @f (0 <= f < count). */
const struct cep__field *cep__field_get(int f);

/* Typed reads of field @f of @ev; each is valid only for its class. */
uint64_t cep__field_num(const struct cep_event *ev, int f); /* NUM/TOKEN/BOOL */
int cep__field_ip(const struct cep_event *ev, int f, const uint8_t **ip);
const char *cep__field_text(const struct cep_event *ev, int f);

/* cep__field_encode - append a binary, comparable form of the value to buf
 * (at least CEP__FIELD_ENC_MAX bytes); returns the bytes written. */
#define CEP__FIELD_ENC_MAX 72
size_t cep__field_encode(const struct cep_event *ev, int f, uint8_t *buf);
/* cep__field_value64 - the value as 64 bits: the number itself, or a hash of
 * an address or text (distinct counting compares these). */
uint64_t cep__field_value64(const struct cep_event *ev, int f);
/* cep__field_format - "name=value" into buf; returns the length written or
 * -1 when it does not fit. */
int cep__field_format(const struct cep_event *ev, int f, char *buf,
		      size_t size);
/* The longest text cep__field_format() can produce for field f. */
size_t cep__field_format_max(int f);

uint64_t cep__hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t cep__hash_u64(uint64_t x);

/* --- compiled detection -------------------------------------------------- */

/*
 * Predicate operators.  Values are ORed unless the predicate has `all`
 * (then every value must hold); CEP__PF_NEG and NEQ make the predicate true
 * when no value holds.  New operators are added at the end only: the index
 * (index.c) and saved benchmarks read these numbers.
 *
 *   EQ          equality.  Numbers and tokens by value, addresses by address
 *               (a full-length prefix), text by the Sigma value (see TEXT).
 *   NEQ         the field differs from every value (EQ, inverted).
 *   LT LTE GT GTE  numeric order (tokens in vocabulary order); one value
 *               each, ORed/ANDed like the rest.
 *   CIDR        the address lies in one of the prefixes.
 *   CONTAINS    text: the value occurs anywhere in the field.
 *   STARTSWITH  text: the field begins with the value.
 *   ENDSWITH    text: the field ends with the value.
 *   RE          text: vals[i].re is a compiled PCRE2 expression (Sigma `re`
 *               with its i/m/s flags baked in) that must find a match.
 *   EXISTS      one value, vals[0].num: 1 = the field is set, 0 = it is not
 *               ("set": non-zero number or token, true flag, non-empty
 *               text, an address of either family).
 *   FIELDREF    vals[i].num is another field id of the same class: equal to
 *               that field of the same event (text: case rules as for EQ).
 *               Both fields must be set: an unset field equals nothing.
 *
 * TEXT values (EQ NEQ CONTAINS STARTSWITH ENDSWITH on text fields, and
 * keywords): when the predicate does not have CEP__PF_WILD, every
 * vals[i].text is a plain literal (Sigma escapes removed, folded to ASCII
 * lower case unless CEP__PF_CASED), so an index may hash EQ values and feed
 * CONTAINS/STARTSWITH/ENDSWITH values to a multi-pattern matcher as they
 * are.  With CEP__PF_WILD at least one value has a `*`/`?` wildcard, and
 * every vals[i].text is then a complete Sigma pattern for
 * cep__text_match_case() with the operator's implied `*` already added
 * (contains `x` is `*x*`), each literal backslash written `\\`; such a
 * predicate can only be verified by running it.  Encoding modifiers
 * (base64, base64offset, utf16*, windash) have already been applied: their
 * variants are further values of the same predicate, so they too are plain
 * literals (base64 output is always CEP__PF_CASED).
 *
 * Keywords (a Sigma list of plain strings) compile to predicates whose
 * field is CEP__FIELD_ANY_TEXT: each value is tested against every text
 * field of the event, and holds when any one of them matches.
 */
enum cep__op {
	CEP__OP_EQ = 1,
	CEP__OP_NEQ,
	CEP__OP_LT,
	CEP__OP_LTE,
	CEP__OP_GT,
	CEP__OP_GTE,
	CEP__OP_CIDR,
	CEP__OP_CONTAINS,
	CEP__OP_STARTSWITH,
	CEP__OP_ENDSWITH,
	CEP__OP_RE,
	CEP__OP_EXISTS,
	CEP__OP_FIELDREF,
};

/* cep__pred.flags */
#define CEP__PF_CASED 0x01 /* text compares case-sensitively (`cased`) */
#define CEP__PF_WILD  0x02 /* text values are Sigma patterns, see above */
#define CEP__PF_NEG   0x04 /* true when no value holds (`neq` with an op) */

/* The pseudo field id of keyword predicates: every text field. */
#define CEP__FIELD_ANY_TEXT 0xff

struct cep__prefix {
	uint8_t af;  /* CEP_AF_*; CEP_AF_NONE stands for "no address" (null) */
	uint8_t len; /* prefix length in bits */
	uint8_t addr[16];
};

/* A compiled regular expression: its source (owned) and the pcre2_code
 * (owned, opaque here so that only match.c sees PCRE2). */
struct cep__regex {
	char *src;
	void *code;
};

union cep__value {
	uint64_t num;            /* NUM, TOKEN, BOOL; EXISTS; FIELDREF field id */
	struct cep__prefix ip;   /* IP (EQ compares a full-length prefix) */
	char *text;              /* TEXT: literal or pattern, owned (see above) */
	struct cep__regex re;    /* RE */
};

struct cep__pred {
	uint8_t field;  /* field id, or CEP__FIELD_ANY_TEXT */
	uint8_t op;     /* enum cep__op */
	uint8_t all;    /* 1: values ANDed (`|all`) */
	uint8_t flags;  /* CEP__PF_* */
	uint32_t nvals;
	union cep__value *vals; /* owned */
};

/*
 * A group with n == 0 predicates is always true, and a selection with
 * n == 0 groups is always false: the compiler folds predicates that a
 * logsource mapping makes constant (rules/LANGUAGE.md, "Mapping") that way.
 */
struct cep__group {
	uint32_t first, n; /* preds[first .. first+n), ANDed */
};

struct cep__selection {
	char *name;        /* owned */
	uint32_t first, n; /* groups[first .. first+n), ORed */
};

enum cep__insn_op {
	CEP__I_SEL = 1, /* push sels[arg] */
	CEP__I_AND,
	CEP__I_OR,
	CEP__I_NOT,
	CEP__I_ANY,     /* push OR of sels named by setlist[arg .. arg+n) */
	CEP__I_ALL,     /* push AND of the same */
};

struct cep__insn {
	uint8_t op;
	uint32_t arg, n;
};

#define CEP__MAX_SELECTIONS 64
#define CEP__MAX_STACK 64

struct cep__detection {
	struct cep__pred *preds;
	uint32_t npreds;
	struct cep__group *groups;
	uint32_t ngroups;
	struct cep__selection *sels;
	uint32_t nsels;
	uint32_t *setlist;
	uint32_t nsetlist;
	struct cep__insn *prog;
	uint32_t nprog;
};

/* cep__detection_match - true when @ev satisfies the detection. */
bool cep__detection_match(const struct cep__detection *d,
			  const struct cep_event *ev);
/* cep__pred_match - one predicate on one event. */
bool cep__pred_match(const struct cep__pred *p, const struct cep_event *ev);
/* cep__detection_fini - free what the detection owns (not d itself). */
void cep__detection_fini(struct cep__detection *d);
/* cep__text_match - Sigma wildcard match (*, ?, backslash escapes), ASCII
 * case-insensitive. */
bool cep__text_match(const char *pat, const char *s);
/* cep__text_match_case - the same, case-sensitive when @cased. */
bool cep__text_match_case(const char *pat, const char *s, bool cased);

/* A Sigma `re` flag set: CEP__RE_I (caseless), _M (multi-line), _S (dot
 * matches newline). */
#define CEP__RE_I 0x01
#define CEP__RE_M 0x02
#define CEP__RE_S 0x04
/* cep__regex_compile - compile @src into @re (taking a copy of src).
 * Returns 0, or -CEP_EMALFORMED with the reason and the offset in @err,
 * or -ENOMEM.  Matching needs no allocation per event: each thread keeps
 * one match block, made on its first regex match and freed at thread exit. */
int cep__regex_compile(const char *src, unsigned flags, struct cep__regex *re,
		       char *err, size_t errsize);
/* cep__regex_fini - free what @re owns; a zeroed @re is accepted. */
void cep__regex_fini(struct cep__regex *re);
/* cep__pred_values_fini - free what the values of @p own (not p->vals). */
void cep__pred_values_fini(struct cep__pred *p);

#endif /* CEPTOR_CORE_MATCH_H */
