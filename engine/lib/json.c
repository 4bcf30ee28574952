/*
 * json.c - the flat JSON reader and writer of json.h.
 *
 * The reader validates what it walks (strings, numbers, literals, and the
 * bracket balance of nested values) and never reads past `end`.  It does not
 * allocate; strings are decoded only when the caller asks, into the caller's
 * buffer.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "lib/json.h"

static void skip_ws(struct cep_json_reader *r)
{
	while (r->p < r->end &&
	       (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int fail(struct cep_json_reader *r, const char *why)
{
	r->err = why;
	r->err_off = (size_t)(r->p - r->base);
	r->state = 2;
	return -CEP_EMALFORMED;
}

/* Scan a string whose opening quote is at r->p; leaves r->p after the
 * closing quote. */
static int scan_string(struct cep_json_reader *r, struct cep_json_value *v)
{
	r->p++;
	v->type = CEP_JSON_STRING;
	v->p = r->p;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;
		if (c == '"') {
			v->len = (size_t)(r->p - v->p);
			r->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(r, "control character in string");
		if (c == '\\') {
			r->p++;
			if (r->p >= r->end)
				break;
		}
		r->p++;
	}
	return fail(r, "unterminated string");
}

static int scan_number(struct cep_json_reader *r, struct cep_json_value *v)
{
	const char *s = r->p;
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return fail(r, "bad number");
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number fraction");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number exponent");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	v->type = CEP_JSON_NUMBER;
	v->p = s;
	v->len = (size_t)(r->p - s);
	return 0;
}

static int scan_literal(struct cep_json_reader *r, struct cep_json_value *v,
			const char *lit, int type)
{
	size_t n = strlen(lit);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return fail(r, "unexpected character");
	v->type = type;
	v->p = r->p;
	v->len = n;
	r->p += n;
	return 0;
}

/* Nesting deeper than this is refused: no legitimate record needs it, and
 * a bound keeps hostile input from costing more than a linear scan. */
#define JSON_MAX_DEPTH 64

static int scan_value(struct cep_json_reader *r, struct cep_json_value *v);

static int scan_nested(struct cep_json_reader *r, struct cep_json_value *v)
{
	char stack[JSON_MAX_DEPTH];
	int depth = 0;
	const char *start = r->p;

	for (;;) {
		skip_ws(r);
		if (r->p >= r->end)
			return fail(r, "unterminated object or array");
		char c = *r->p;
		if (c == '{' || c == '[') {
			if (depth == JSON_MAX_DEPTH)
				return fail(r, "nesting too deep");
			stack[depth++] = c == '{' ? '}' : ']';
			r->p++;
			continue;
		}
		if (c == '}' || c == ']') {
			if (depth == 0 || stack[depth - 1] != c)
				return fail(r, "mismatched bracket");
			r->p++;
			if (--depth == 0)
				break;
			continue;
		}
		if (c == ',' || c == ':') {
			r->p++;
			continue;
		}
		struct cep_json_value tmp;
		int rc = scan_value(r, &tmp);
		if (rc)
			return rc;
	}
	v->type = *start == '{' ? CEP_JSON_OBJECT : CEP_JSON_ARRAY;
	v->p = start;
	v->len = (size_t)(r->p - start);
	return 0;
}

static int scan_value(struct cep_json_reader *r, struct cep_json_value *v)
{
	skip_ws(r);
	if (r->p >= r->end)
		return fail(r, "value expected");
	switch (*r->p) {
	case '"':
		return scan_string(r, v);
	case '{':
	case '[':
		return scan_nested(r, v);
	case 't':
		return scan_literal(r, v, "true", CEP_JSON_TRUE);
	case 'f':
		return scan_literal(r, v, "false", CEP_JSON_FALSE);
	case 'n':
		return scan_literal(r, v, "null", CEP_JSON_NULL);
	default:
		return scan_number(r, v);
	}
}

void cep_json_reader_init(struct cep_json_reader *r, const char *text,
			  size_t len)
{
	r->base = text;
	r->p = text;
	r->end = text + len;
	r->state = 0;
	r->err = NULL;
	r->err_off = 0;
}

int cep_json_next(struct cep_json_reader *r, struct cep_json_value *key,
		  struct cep_json_value *val)
{
	int rc;

	if (r->state == 2)
		return r->err ? -CEP_EMALFORMED : 0;
	skip_ws(r);
	if (r->state == 0) {
		if (r->p >= r->end || *r->p != '{')
			return fail(r, "object expected");
		r->p++;
		r->state = 1;
		skip_ws(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			goto done;
		}
	} else {
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			goto done;
		}
		if (r->p >= r->end || *r->p != ',')
			return fail(r, "',' or '}' expected");
		r->p++;
		skip_ws(r);
	}
	if (r->p >= r->end || *r->p != '"')
		return fail(r, "member name expected");
	if ((rc = scan_string(r, key)))
		return rc;
	skip_ws(r);
	if (r->p >= r->end || *r->p != ':')
		return fail(r, "':' expected");
	r->p++;
	if ((rc = scan_value(r, val)))
		return rc;
	return 1;
done:
	skip_ws(r);
	if (r->p != r->end)
		return fail(r, "text after the object");
	r->state = 2;
	return 0;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

int cep_json_unescape(const struct cep_json_value *v, char *buf, size_t size)
{
	const char *p = v->p, *end = v->p + v->len;
	size_t n = 0;

	if (size == 0)
		return -CEP_ETOOLONG;
	/* Most text has no escape: one copy. */
	if (!memchr(p, '\\', v->len)) {
		if (v->len >= size)
			return -CEP_ETOOLONG;
		memcpy(buf, p, v->len);
		buf[v->len] = 0;
		return (int)v->len;
	}
	while (p < end) {
		char out[4];
		size_t k = 1;
		if (*p != '\\') {
			out[0] = *p++;
		} else {
			if (++p >= end)
				return -CEP_EMALFORMED;
			char e = *p++;
			switch (e) {
			case '"': out[0] = '"'; break;
			case '\\': out[0] = '\\'; break;
			case '/': out[0] = '/'; break;
			case 'b': out[0] = '\b'; break;
			case 'f': out[0] = '\f'; break;
			case 'n': out[0] = '\n'; break;
			case 'r': out[0] = '\r'; break;
			case 't': out[0] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (end - p < 4 || hex4(p, &cp))
					return -CEP_EMALFORMED;
				p += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (end - p < 6 || p[0] != '\\' ||
					    p[1] != 'u' || hex4(p + 2, &lo) ||
					    lo < 0xDC00 || lo > 0xDFFF)
						return -CEP_EMALFORMED;
					p += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					return -CEP_EMALFORMED;
				}
				if (cp == 0)
					return -CEP_EMALFORMED; /* NUL cannot live in C text */
				if (cp < 0x80) {
					out[0] = (char)cp;
				} else if (cp < 0x800) {
					out[0] = (char)(0xC0 | (cp >> 6));
					out[1] = (char)(0x80 | (cp & 0x3F));
					k = 2;
				} else if (cp < 0x10000) {
					out[0] = (char)(0xE0 | (cp >> 12));
					out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
					out[2] = (char)(0x80 | (cp & 0x3F));
					k = 3;
				} else {
					out[0] = (char)(0xF0 | (cp >> 18));
					out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
					out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
					out[3] = (char)(0x80 | (cp & 0x3F));
					k = 4;
				}
				break;
			}
			default:
				return -CEP_EMALFORMED;
			}
		}
		if (n + k >= size)
			return -CEP_ETOOLONG;
		memcpy(buf + n, out, k);
		n += k;
	}
	buf[n] = '\0';
	return (int)n;
}

bool cep_json_key_is(const struct cep_json_value *key, const char *s)
{
	size_t n = strlen(s);
	return key->len == n && memcmp(key->p, s, n) == 0;
}

int cep_json_to_u64(const struct cep_json_value *v, uint64_t *out)
{
	uint64_t x = 0;
	if (v->type != CEP_JSON_NUMBER || v->len == 0)
		return -CEP_EMALFORMED;
	for (size_t i = 0; i < v->len; i++) {
		char c = v->p[i];
		if (c < '0' || c > '9')
			return -CEP_EMALFORMED;
		uint64_t d = (uint64_t)(c - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -CEP_EMALFORMED;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* ---- writer ---------------------------------------------------------- */

static inline void put(struct cep_jw *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n >= w->size) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc_(struct cep_jw *w, char c)
{
	if (w->overflow || w->len + 1 >= w->size) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = c;
}

void cep_jw_init(struct cep_jw *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->overflow = size == 0;
	w->need_comma = false;
}

void cep_jw_begin(struct cep_jw *w)
{
	putc_(w, '{');
	w->need_comma = false;
}

/* Bytes that JSON strings must escape: '"', '\\' and the controls. */
static inline bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* Whether any byte of the 8 in v needs escaping, by the classic "has a
 * byte less than n / equal to c" bit tricks: exact as a yes/no answer,
 * which is all that is asked.  Most values have nothing to escape, so they
 * are checked a word at a time. */
static inline bool word_needs_escape(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t quote = v ^ (ones * '"'), bslash = v ^ (ones * '\\');
	uint64_t lt20 = (v - ones * 0x20) & ~v;
	uint64_t q = (quote - ones) & ~quote;
	uint64_t b = (bslash - ones) & ~bslash;
	return ((lt20 | q | b) & high) != 0;
}

void cep_jw_quote(struct cep_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0; /* start of the pending run of plain bytes */
	size_t i = 0;

	putc_(w, '"');
	for (;;) {
		/* Skip whole words of plain bytes. */
		while (i + 8 <= n) {
			uint64_t v;
			memcpy(&v, s + i, 8);
			if (word_needs_escape(v))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i++];
		if (!needs_escape(c))
			continue;
		put(w, s + run, i - 1 - run);
		run = i;
		char esc[6] = { '\\', 0 };
		switch (c) {
		case '"': esc[1] = '"'; put(w, esc, 2); break;
		case '\\': esc[1] = '\\'; put(w, esc, 2); break;
		case '\n': esc[1] = 'n'; put(w, esc, 2); break;
		case '\r': esc[1] = 'r'; put(w, esc, 2); break;
		case '\t': esc[1] = 't'; put(w, esc, 2); break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(w, esc, 6);
		}
	}
	put(w, s + run, n - run);
	putc_(w, '"');
}

void cep_jw_key(struct cep_jw *w, const char *key)
{
	if (w->need_comma)
		putc_(w, ',');
	w->need_comma = true;
	if (key) {
		/* Keys are the program's own names: no escaping needed. */
		putc_(w, '"');
		put(w, key, strlen(key));
		put(w, "\":", 2);
	}
}

void cep_jw_str(struct cep_jw *w, const char *key, const char *s)
{
	cep_jw_key(w, key);
	cep_jw_quote(w, s, strlen(s));
}

/* Decimal digits of v, written backwards from end; returns the start.
 * printf's machinery costs several times more on the --dump path. */
static char *u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void cep_jw_u64(struct cep_jw *w, const char *key, uint64_t v)
{
	char tmp[24];
	char *p = u64_digits(v, tmp + sizeof tmp);
	cep_jw_key(w, key);
	put(w, p, (size_t)(tmp + sizeof tmp - p));
}

void cep_jw_double(struct cep_jw *w, const char *key, double v, int prec)
{
	char tmp[64];
	if (!isfinite(v))
		v = 0; /* JSON has no NaN or infinity */
	int n = snprintf(tmp, sizeof tmp, "%.*f", prec, v);
	cep_jw_key(w, key);
	put(w, tmp, (size_t)n);
}

void cep_jw_bool(struct cep_jw *w, const char *key, bool v)
{
	cep_jw_key(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void cep_jw_open(struct cep_jw *w, const char *key, char bracket)
{
	cep_jw_key(w, key);
	putc_(w, bracket);
	w->need_comma = false;
}

void cep_jw_close(struct cep_jw *w, char bracket)
{
	putc_(w, bracket);
	w->need_comma = true;
}

int cep_jw_end(struct cep_jw *w)
{
	putc_(w, '}');
	if (w->overflow) {
		if (w->size)
			w->buf[0] = '\0';
		return -ENOSPC;
	}
	w->buf[w->len] = '\0';
	return (int)w->len;
}

/* --- looking members up (json.h) ----------------------------------------- */

/* The value of member @key of the object @obj; 1 when found. */
int cep_json_find(struct cep_json_span obj, const char *key,
		  struct cep_json_value *v)
{
	struct cep_json_reader r;
	struct cep_json_value k;

	cep_json_reader_init(&r, obj.p, obj.len);
	while (cep_json_next(&r, &k, v) == 1)
		if (cep_json_key_is(&k, key))
			return 1;
	return 0;
}

uint64_t cep_json_get_u64(struct cep_json_span obj, const char *key)
{
	struct cep_json_value v;
	uint64_t u = 0;

	if (cep_json_find(obj, key, &v) && v.type == CEP_JSON_NUMBER &&
	    cep_json_to_u64(&v, &u))
		u = 0;
	return u;
}

double cep_json_get_double(struct cep_json_span obj, const char *key)
{
	struct cep_json_value v;
	char tmp[64];

	if (!cep_json_find(obj, key, &v) || v.type != CEP_JSON_NUMBER ||
	    v.len >= sizeof tmp)
		return 0;
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = '\0';
	return strtod(tmp, NULL);
}

bool cep_json_get_bool(struct cep_json_span obj, const char *key)
{
	struct cep_json_value v;

	return cep_json_find(obj, key, &v) && v.type == CEP_JSON_TRUE;
}

/* The string member @key into buf ("" when missing or not a string). */
const char *cep_json_get_str(struct cep_json_span obj, const char *key,
			     char *buf, size_t size)
{
	struct cep_json_value v;

	buf[0] = '\0';
	if (cep_json_find(obj, key, &v) && v.type == CEP_JSON_STRING &&
	    cep_json_unescape(&v, buf, size) < 0)
		buf[0] = '\0';
	return buf;
}

/* The nested object or array @key; len 0 when missing. */
struct cep_json_span cep_json_get_sub(struct cep_json_span obj, const char *key,
				      int type)
{
	struct cep_json_value v;
	struct cep_json_span s = { NULL, 0 };

	if (cep_json_find(obj, key, &v) && v.type == type) {
		s.p = v.p;
		s.len = v.len;
	}
	return s;
}

/*
 * The next object of the array @arr, from the cursor *pos (start at 0).
 * Returns 1 and *obj; 0 at the end; -1 when the array holds something
 * other than objects or is cut short.
 */
const char *cep_json_object_end(const char *s, const char *end)
{
	int depth = 0, in_str = 0;

	for (const char *p = s; p < end; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
		} else if (*p == '"') {
			in_str = 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

int cep_json_array_next(struct cep_json_span arr, size_t *pos,
			struct cep_json_span *obj)
{
	const char *p = arr.p + (*pos ? *pos : 1), *end = arr.p + arr.len;
	const char *q;

	if (!arr.len)
		return 0;
	while (p < end && (*p == ',' || *p == ' ' || *p == '\n' ||
			   *p == '\t' || *p == '\r'))
		p++;
	if (p >= end || *p == ']')
		return 0;
	if (*p != '{' || !(q = cep_json_object_end(p, end)))
		return -1;
	obj->p = p;
	obj->len = (size_t)(q - p);
	*pos = (size_t)(q - arr.p);
	return 1;
}
