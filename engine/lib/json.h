/*
 * json.h - a small JSON reader and writer for flat records.
 *
 * ceptor speaks JSON at its edges: JSON Lines events (--dump, the jsonl
 * feed), incident documents in Redis, operator reports.  None of them needs
 * a DOM.  The reader walks the members of one object in place, without
 * allocating; a nested object or array is handed back as a raw span that the
 * caller may walk with a nested reader or skip.  The writer appends to a
 * caller-owned buffer and tracks overflow instead of failing per call, so a
 * record is written with a straight run of calls and checked once at the end.
 *
 * Thread safety: no shared state; readers and writers are caller-owned.
 */
#ifndef CEPTOR_LIB_JSON_H
#define CEPTOR_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cep_json_type {
	CEP_JSON_STRING = 1,
	CEP_JSON_NUMBER,
	CEP_JSON_TRUE,
	CEP_JSON_FALSE,
	CEP_JSON_NULL,
	CEP_JSON_OBJECT,
	CEP_JSON_ARRAY,
};

/* A value as found in the text: for strings, the span excludes the quotes
 * and is still escaped (see cep_json_unescape); for objects and arrays, the
 * span covers the brackets. */
struct cep_json_value {
	int type;          /* enum cep_json_type */
	const char *p;
	size_t len;
};

struct cep_json_reader {
	const char *base;  /* start of the text, for offsets in errors */
	const char *p;     /* next unread byte */
	const char *end;
	int state;         /* 0 before '{', 1 inside, 2 done */
	const char *err;   /* static reason after a failure */
	size_t err_off;    /* byte offset of the failure from base */
};

/* cep_json_reader_init - read the object in text[0..len). Borrows text. */
void cep_json_reader_init(struct cep_json_reader *r, const char *text,
			  size_t len);

/*
 * cep_json_next - the next member of the object.
 * Returns 1 and fills *key (a string value: escaped span) and *val;
 * 0 at the end of the object (trailing blanks allowed, nothing else);
 * -CEP_EMALFORMED with r->err and r->err_off set.
 */
int cep_json_next(struct cep_json_reader *r, struct cep_json_value *key,
		  struct cep_json_value *val);

/*
 * cep_json_unescape - decode a string span into buf (NUL-terminated).
 * Handles every JSON escape including \uXXXX surrogate pairs (to UTF-8).
 * Returns the decoded length, -CEP_ETOOLONG when it does not fit in size-1
 * bytes, -CEP_EMALFORMED on a bad escape.
 */
int cep_json_unescape(const struct cep_json_value *v, char *buf,
		      size_t size);

/* cep_json_key_is - whether a key span equals the plain (escape-free) s. */
bool cep_json_key_is(const struct cep_json_value *key, const char *s);

/*
 * cep_json_to_u64 - a number value without sign, fraction or exponent.
 * Returns 0 or -CEP_EMALFORMED (also on overflow).
 */
int cep_json_to_u64(const struct cep_json_value *v, uint64_t *out);

/*
 * Writer.  Appends into buf[0..size); on overflow keeps going without
 * writing and sets overflow, so callers check once with cep_json_end().
 */
struct cep_jw {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	bool need_comma;
};

void cep_jw_init(struct cep_jw *w, char *buf, size_t size);
void cep_jw_begin(struct cep_jw *w);                 /* "{" */
/* Keys are written as given: they must be the program's own names, which
 * need no escaping.  Values are always escaped. */
void cep_jw_key(struct cep_jw *w, const char *key);  /* "key": */
void cep_jw_str(struct cep_jw *w, const char *key, const char *s);
void cep_jw_u64(struct cep_jw *w, const char *key, uint64_t v);
void cep_jw_double(struct cep_jw *w, const char *key, double v, int prec);
void cep_jw_bool(struct cep_jw *w, const char *key, bool v);
/* cep_jw_open/close - a nested object ('{') or array ('[') under key
 * (key NULL inside an array). */
void cep_jw_open(struct cep_jw *w, const char *key, char bracket);
void cep_jw_close(struct cep_jw *w, char bracket);
/*
 * cep_jw_end - close the top-level object.  Returns the length written
 * (NUL-terminated), or -ENOSPC when the buffer was too small.
 */
int cep_jw_end(struct cep_jw *w);

/* cep_jw_quote - low-level: append s[0..n) as a quoted JSON string. */
void cep_jw_quote(struct cep_jw *w, const char *s, size_t n);

/*
 * Looking members up in an object that is read more than once (a status
 * document, an incident's JSON): each call scans @obj from its start, so
 * these suit documents of a few kilobytes, not hot paths.  A span is a
 * borrowed [p, p + len) of the caller's text.
 *
 * cep_json_find - the value of member @key; 1 when found, else 0.
 * cep_json_get_u64 / _double / _bool - the member as a number (0 when
 *   missing or of another type) or as true (false otherwise).
 * cep_json_get_str - the string member unescaped into buf; "" when missing,
 *   not a string or too long.  Returns buf.
 * cep_json_get_sub - the nested object or array (@type CEP_JSON_OBJECT or
 *   CEP_JSON_ARRAY) member @key; len 0 when missing.
 * cep_json_array_next - the next object of array @arr from the cursor *pos
 *   (start at 0): 1 and *obj; 0 at the end; -1 when the array holds
 *   something other than objects or is cut short.
 */
struct cep_json_span {
	const char *p;
	size_t len;
};

int cep_json_find(struct cep_json_span obj, const char *key,
		  struct cep_json_value *v);
uint64_t cep_json_get_u64(struct cep_json_span obj, const char *key);
double cep_json_get_double(struct cep_json_span obj, const char *key);
bool cep_json_get_bool(struct cep_json_span obj, const char *key);
const char *cep_json_get_str(struct cep_json_span obj, const char *key,
			     char *buf, size_t size);
struct cep_json_span cep_json_get_sub(struct cep_json_span obj, const char *key,
				      int type);
int cep_json_array_next(struct cep_json_span arr, size_t *pos,
			struct cep_json_span *obj);

/*
 * cep_json_object_end - the end (one past the closing brace) of the object
 * or array that opens at s[0], skipping strings and what they escape; NULL
 * when it does not close before @end.  No validation beyond that: a
 * boundary for splitting a stream of objects, not a parse.
 */
const char *cep_json_object_end(const char *s, const char *end);

#endif /* CEPTOR_LIB_JSON_H */
