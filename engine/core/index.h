/*
 * index.h - the rule index: which detection rules an event could possibly
 * match, found without looking at every rule (internal to engine/core).
 *
 * DESIGN.md 2.3 asks that the cost of matching per event grow far slower
 * than the number of rules.  The index does it by deriving, at compile time,
 * a *necessary condition* for each detection rule: a set of anchor atoms
 * such that the rule can only match an event that hits at least one of
 * them.  Per event, only the rules whose atoms it hits (plus the rules that
 * have no usable anchor, "unanchorable") are handed to the full matcher,
 * cep__detection_match().  The index never decides a match on its own, so
 * a false candidate costs time, never a wrong signal.
 *
 * Anchors come from the condition program (match.h):
 *
 *   SEL s       OR over the groups of s; a group (an AND of predicates)
 *               contributes the atoms of its most selective predicate
 *   a AND b     the cheaper of a and b (either is necessary)
 *   a OR b      the union; unanchorable if either side is
 *   NOT a, NEQ, LT.., unknown ops, text with no literal  -> unanchorable
 *
 * Atoms, and the structure each lives in:
 *
 *   (field, number)           NUM/TOKEN/BOOL EQ   \ one open-addressing table
 *   (field, text)             text EQ, no wildcard > of 64-bit atom hashes
 *   (field, null address)     address EQ null     /  -> posting lists, behind
 *                                                    a 16-bit-per-key bitmap
 *   (field, af, prefix/len)   address EQ / |cidr: a prefix trie per (field,
 *                             family) with 8-bit strides and popcount-
 *                             compressed 72-byte nodes; a prefix fills the
 *                             2^(8 - len % 8) bytes of its last stride, so
 *                             a lookup is at most 4 (IPv4) or 16 (IPv6)
 *                             steps, whatever the lengths used; an IPv4 trie
 *                             has a bitmap of the /16s it holds anything for
 *   (field, literal)          text EQ with wildcards (the longest literal
 *                             run), contains/startswith/endswith (the
 *                             literal), over the lowercased value: literals
 *                             of 4 bytes or more are filed under one 4-byte
 *                             substring each, tested per text position in a
 *                             bitmap and then compared in full; shorter ones
 *                             go to an Aho-Corasick automaton per field
 *
 * Each structure puts a small bitmap in front of the large one, so a value
 * that has no atom (most of them) costs an L1 bit test, not a cache miss.
 * The index also prefetches the compiled form of each candidate it hands
 * out (addresses recorded at build time; the matcher reads them next).
 *
 * Hash collisions between atoms only merge posting lists, that is, add
 * candidates; they cannot lose one.  Text atoms are lowercased on both
 * sides, which keeps them necessary for `cased` predicates too.
 *
 * Candidates are collected in a per-worker two-level bitmap (a bit per
 * rule, a bit per 64 rules), which removes duplicates and hands the rules
 * out in rule order, the order of the plain loop, so signals come out in
 * the same order as without the index.  Only the words touched are
 * cleared, so nothing per event is proportional to the number of rules.
 *
 * Ownership and threads: an index is built once per rule set (rule.c's
 * finish()) and is immutable afterwards; any number of threads may look
 * up in it at once.  A scratch belongs to one worker (struct cep_detect).
 * No call allocates per event.
 */
#ifndef CEPTOR_CORE_INDEX_H
#define CEPTOR_CORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "ceptor/event.h"

struct cep_ruleset;
struct cep__index;
struct cep__index_scratch;

/* What the index made of a rule set, for tests and `rules check -v`. */
struct cep__index_stats {
	uint32_t rules;        /* detection rules indexed */
	uint32_t unanchored;   /* of those, candidates for every event */
	uint32_t atoms;        /* distinct hashed atoms */
	uint32_t literals;     /* text literals, all fields */
	uint32_t ac_states;    /* Aho-Corasick states (short literals only) */
	uint32_t trie_nodes;   /* prefix trie nodes (72 bytes each) */
	size_t bytes;          /* what lookups read: tables, filters, nodes */
};

/*
 * cep__index_build - build the index of rs's detection rules.
 * @rs: borrowed during the call; the index keeps the addresses of each
 *      detection rule's compiled form, for prefetch hints only (never read
 *      through), so it must be destroyed with rs, as rule.c does.
 * Returns 0 and a new index in *out (release with cep__index_destroy()),
 * or -ENOMEM.
 */
int cep__index_build(const struct cep_ruleset *rs, struct cep__index **out);

/* cep__index_destroy - free an index; NULL is accepted. */
void cep__index_destroy(struct cep__index *ix);

/*
 * cep__index_scratch_create - per-worker candidate state for @ix.
 * Returns 0 and a new scratch in *out (release with
 * cep__index_scratch_destroy()), or -ENOMEM.  It may only be used with the
 * index it was made for.
 */
int cep__index_scratch_create(const struct cep__index *ix,
			      struct cep__index_scratch **out);

/* cep__index_scratch_destroy - free a scratch; NULL is accepted. */
void cep__index_scratch_destroy(struct cep__index_scratch *s);

/*
 * cep__index_candidates - the detection rules @ev may match.
 * Returns the number of candidates and points *out at their rule indices,
 * ascending and without repeats, each a detection rule whose logsource kind
 * admits ev->kind (the by_kind filter).  Every rule of the set that matches
 * @ev is among them.  The array is borrowed from @s: valid until the next
 * call with @s.  Never fails and never allocates.
 */
uint32_t cep__index_candidates(const struct cep__index *ix,
			       struct cep__index_scratch *s,
			       const struct cep_event *ev,
			       const uint32_t **out);

/* cep__index_stats - describe the index. */
void cep__index_stats(const struct cep__index *ix,
		      struct cep__index_stats *out);

#endif /* CEPTOR_CORE_INDEX_H */
