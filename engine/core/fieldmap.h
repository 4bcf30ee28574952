/*
 * fieldmap.h - how Sigma rules written for other products' logs see
 * ceptor's events (internal to the rule compiler).
 *
 * A Sigma rule names its log source (`logsource: product/category/service`)
 * and uses that source's field names: Zeek's `id.orig_h`, a DNS log's
 * `query`, a firewall's `dst_port`.  The mapping says, per log source, which
 * ceptor field (event.h) each such name is, how its values convert (Zeek's
 * proto `tcp` is ceptor's 6), which event kinds the source corresponds to,
 * whether keyword searches make sense on it, and which extra conditions an
 * event must meet to count as that source (Zeek's rdp log: TCP to 3389).
 *
 * The mapping is YAML, in the same files and the same format whether it is
 * the built-in table (fieldmap.c, documented in rules/LANGUAGE.md) or an
 * operator's extension (struct cep_rule_options.mapping):
 *
 *   - logsource: {product: zeek, service: rdp}   # keys that must all match
 *     kinds: [packet, flow]                       # optional kind filter
 *     keywords: false                             # keyword lists allowed?
 *     match: {proto: 6, dst_port: 3389}           # ceptor field: value
 *     fields:
 *       id.orig_h: src_ip                         # Sigma name: ceptor name
 *       proto: {field: proto, values: {tcp: 6}}   # with value conversion
 *       action: {const: {accept: true, drop: false}}  # no field: a constant
 *
 * Lookup: every entry whose logsource keys all equal the rule's (ASCII case
 * ignored) applies; the most specific (most keys) is consulted first, and
 * among equals the one loaded last (extensions before the built-in table).
 * An entry with no keys applies to every mapped logsource but does not by
 * itself make a logsource mapped.
 *
 * Thread safety: one compile call owns a struct cep__fmap.
 */
#ifndef CEPTOR_CORE_FIELDMAP_H
#define CEPTOR_CORE_FIELDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cctx;

/* One value conversion: `from` (a Sigma value) is ceptor's `to`, or, for a
 * constant field, always `truth`. */
struct cep__fmap_value {
	char *from;
	char *to;     /* NULL for a constant field */
	bool truth;
};

struct cep__fmap_field {
	char *sigma;   /* the name rules use */
	int16_t field; /* ceptor field id, or -1: a constant per value */
	struct cep__fmap_value *vals;
	uint32_t nvals;
};

/* An extra condition of a logsource: ceptor field == value. */
struct cep__fmap_cond {
	int16_t field;
	char *value;
};

struct cep__fmap_entry {
	char *product, *category, *service; /* NULL: any */
	const char *file;  /* borrowed from struct cep__fmap.files */
	unsigned line;
	unsigned order;    /* load order, for ties */
	uint16_t kinds;    /* bit (1 << kind); 0 = every kind */
	int8_t keywords;   /* 1 allowed, 0 not, -1 not said */
	struct cep__fmap_field *fields;
	uint32_t nfields;
	struct cep__fmap_cond *conds;
	uint32_t nconds;
};

struct cep__fmap {
	struct cep__fmap_entry *e;
	size_t n, cap;
	char **files;
	size_t nfiles, cfiles;
};

/* The built-in mapping's YAML text and the name its errors carry. */
extern const char cep__fmap_builtin[];
#define CEP__FMAP_BUILTIN_NAME "<built-in mapping>"

/*
 * cep__fmap_load - add the entries of a mapping file (or, when @text is not
 * NULL, of that YAML text, reported under the name @path).  Errors go
 * through the compile context as "FILE:LINE: message" and are counted.
 */
void cep__fmap_load(struct cctx *c, const char *path, const char *text);

/* cep__fmap_load_path - a file, or every *.yml / *.yaml in a directory. */
void cep__fmap_load_path(struct cctx *c, const char *path);

/* cep__fmap_fini - free the table; a zeroed one is accepted. */
void cep__fmap_fini(struct cep__fmap *m);

/*
 * cep__fmap_select - the entries that apply to a logsource, most specific
 * first, into out[0..max).  Returns how many; 0 when no entry with at least
 * one key matches (the logsource is not mapped).
 */
unsigned cep__fmap_select(const struct cep__fmap *m, const char *product,
			  const char *category, const char *service,
			  const struct cep__fmap_entry **out, unsigned max);

/* cep__fmap_field - the first mapping of Sigma field @name in @e[0..n), or
 * NULL. */
const struct cep__fmap_field *
cep__fmap_field(const struct cep__fmap_entry *const *e, unsigned n,
		const char *name);

#endif /* CEPTOR_CORE_FIELDMAP_H */
