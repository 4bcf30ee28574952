/*
 * match.h - the compiled form of a detection and the matcher that runs it
 * (internal to engine/core).
 *
 * A detection compiles to four flat arrays, so that a later index can be
 * built straight from them (an exact-value hash over EQ predicates on token
 * and number fields, a prefix trie over CIDR predicates) without changing the
 * compiler:
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
 * immutable and may be matched from any number of threads at once.
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

enum cep__op {
	CEP__OP_EQ = 1,
	CEP__OP_NEQ,
	CEP__OP_LT,
	CEP__OP_LTE,
	CEP__OP_GT,
	CEP__OP_GTE,
	CEP__OP_CIDR,
};

struct cep__prefix {
	uint8_t af;  /* CEP_AF_*; CEP_AF_NONE stands for "no address" (null) */
	uint8_t len; /* prefix length in bits */
	uint8_t addr[16];
};

union cep__value {
	uint64_t num;            /* NUM, TOKEN, BOOL */
	struct cep__prefix ip;   /* IP (EQ compares a full-length prefix) */
	char *text;              /* TEXT: Sigma pattern, owned */
};

struct cep__pred {
	uint8_t field;  /* field id */
	uint8_t op;     /* enum cep__op */
	uint8_t all;    /* 1: values ANDed (`|all`) */
	uint32_t nvals;
	union cep__value *vals; /* owned */
};

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

#endif /* CEPTOR_CORE_MATCH_H */
