/*
 * rule_detect.c - the rule compiler's detection part: selections of field
 * predicates with Sigma modifiers, keyword lists, and the condition,
 * compiled to the flat arrays of match.h (rule_compile.h says how the
 * compiler is split).
 *
 * One field key (`name|mod|mod: values`) becomes one predicate:
 *
 *   name   -> a ceptor field: directly for our own logsource, through the
 *             logsource mapping (fieldmap.h) for another product's
 *   mods   -> an operator (contains, re, cidr, lt, exists, fieldref, ...),
 *             flags (all, cased, neq) and value transformations applied in
 *             the written order (windash, base64, base64offset, utf16*)
 *   values -> parsed for the field's class; text becomes plain literals
 *             (folded to lower case) or, when a wildcard is left, complete
 *             patterns; transformations add their variants as more values
 *
 * A field that a mapping declares constant (a firewall's `action`) folds at
 * compile time: a true predicate is dropped from its map, a false one drops
 * the map from its selection.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "core/fieldmap.h"
#include "core/match.h"
#include "core/rule_compile.h"
#include "core/rule_priv.h"

/* --- values ---------------------------------------------------------------- */

static bool parse_cidr(const char *s, struct cep__prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t len;
	int af;

	if (alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(p, 0, sizeof *p);
	af = cep_ip_parse(buf, p->addr);
	if (af != CEP_AF_INET && af != CEP_AF_INET6)
		return false;
	len = af == CEP_AF_INET ? 32 : 128;
	if (slash) {
		uint64_t max = len;

		if (strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		    !cep__rc_parse_u64(slash + 1, &len) || len > max)
			return false;
	}
	p->af = (uint8_t)af;
	p->len = (uint8_t)len;
	/* Host bits are cleared so that the match is one masked compare. */
	for (unsigned bit = (unsigned)len; bit < 128; bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

static const char *op_name(int op)
{
	static const char *const names[] = {
		[CEP__OP_EQ] = "eq", [CEP__OP_NEQ] = "neq",
		[CEP__OP_LT] = "lt", [CEP__OP_LTE] = "lte",
		[CEP__OP_GT] = "gt", [CEP__OP_GTE] = "gte",
		[CEP__OP_CIDR] = "cidr", [CEP__OP_CONTAINS] = "contains",
		[CEP__OP_STARTSWITH] = "startswith",
		[CEP__OP_ENDSWITH] = "endswith", [CEP__OP_RE] = "re",
		[CEP__OP_EXISTS] = "exists", [CEP__OP_FIELDREF] = "fieldref",
	};
	return names[op];
}

/* Parses value s of a non-text field f for op; false after an error at
 * node vn. */
static bool parse_value(struct cctx *c, int f, int op, yaml_node_t *vn,
			const char *s, union cep__value *v)
{
	const struct cep__field *fd = cep__field_get(f);
	uint64_t x;
	bool b;
	int t;

	switch (fd->cls) {
	case CEP__FC_IP:
		if (op == CEP__OP_CIDR) {
			if (!parse_cidr(s, &v->ip)) {
				ERR(c, vn, "bad CIDR '%s' for '%s'", s,
				    fd->name);
				return false;
			}
			return true;
		}
		memset(&v->ip, 0, sizeof v->ip);
		t = cep_ip_parse(s, v->ip.addr);
		if (t != CEP_AF_INET && t != CEP_AF_INET6) {
			ERR(c, vn, "'%s' is not an IP address for '%s'%s", s,
			    fd->name,
			    strchr(s, '/') ? " (use |cidr for a network)" : "");
			return false;
		}
		v->ip.af = (uint8_t)t;
		v->ip.len = t == CEP_AF_INET ? 32 : 128;
		return true;
	case CEP__FC_BOOL:
		if (!cep__rc_parse_bool(s, &b)) {
			ERR(c, vn, "'%s' is not a boolean for '%s'", s,
			    fd->name);
			return false;
		}
		v->num = b;
		return true;
	case CEP__FC_TOKEN:
		t = fd->parse(s);
		if (t < 0) {
			ERR(c, vn, "'%s' is not a %s token", s, fd->name);
			return false;
		}
		v->num = (uint64_t)t;
		return true;
	default:
		if (!cep__rc_parse_u64(s, &x) || x > fd->max) {
			ERR(c, vn, "'%s' is not a number in 0..%llu for '%s'",
			    s, (unsigned long long)fd->max, fd->name);
			return false;
		}
		v->num = x;
		return true;
	}
}

/* --- Sigma strings and their transformations --------------------------------- */

/*
 * A string value on its way through the modifiers: either a canonical Sigma
 * pattern (pat: every literal `\`, `*`, `?` escaped, wildcards bare) or raw
 * bytes (after an encoding, which may hold NULs).
 */
struct sval {
	char *b;
	size_t n;
	bool pat;
};

struct svals {
	struct sval *v;
	size_t n, cap;
};

static void svals_fini(struct svals *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].b);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Appends b[0..n) (copied); false on no memory. */
static bool svals_add(struct cctx *c, struct svals *l, const char *b, size_t n,
		      bool pat)
{
	char *p;

	if (!GROW(c, l->v, l->n, l->cap))
		return false;
	p = malloc(n + 1);
	if (!p) {
		c->oom = true;
		return false;
	}
	memcpy(p, b, n);
	p[n] = '\0';
	l->v[l->n++] = (struct sval){ p, n, pat };
	return true;
}

/* A growable byte buffer for building one value. */
struct sbuf {
	char *b;
	size_t n, cap;
	bool oom;
};

static void sb_put(struct sbuf *s, const char *p, size_t n)
{
	if (s->oom)
		return;
	/* Values come from one YAML scalar; anything near SIZE_MAX is a bug. */
	if (n > (SIZE_MAX >> 2) - s->n) {
		s->oom = true;
		return;
	}
	if (s->n + n + 1 > s->cap) {
		size_t nc = (s->n + n + 1) * 2;
		char *q = realloc(s->b, nc);

		if (!q) {
			s->oom = true;
			return;
		}
		s->b = q;
		s->cap = nc;
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
	s->b[s->n] = '\0';
}

static void sb_putc(struct sbuf *s, char ch)
{
	sb_put(s, &ch, 1);
}

/* Sigma's escape rules (specification, "Escape Character"): `\` escapes
 * `*`, `?` and `\`; any other backslash is itself.  Writes the canonical
 * pattern of raw into out. */
static void sigma_canon(const char *raw, struct sbuf *out)
{
	for (const char *p = raw; *p; p++) {
		if (*p == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
			sb_putc(out, '\\');
			sb_putc(out, p[1]);
			p++;
		} else if (*p == '\\') {
			sb_put(out, "\\\\", 2);
		} else {
			sb_putc(out, *p);
		}
	}
}

/* Does canonical pattern p hold a wildcard? */
static bool pat_wild(const char *p)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '*' || *p == '?')
			return true;
	}
	return false;
}

/* Canonical pattern (no wildcards) -> its literal bytes. */
static void pat_unescape(const char *p, struct sbuf *out)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		sb_putc(out, *p);
	}
}

/* Literal bytes -> canonical pattern. */
static void lit_escape(const char *b, size_t n, struct sbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\\' || b[i] == '*' || b[i] == '?')
			sb_putc(out, '\\');
		sb_putc(out, b[i]);
	}
}

enum xform {
	XF_WINDASH = 1, XF_BASE64, XF_BASE64OFFSET, XF_UTF16LE, XF_UTF16BE,
	XF_UTF16,
};

static const char *xf_name(int x)
{
	static const char *const names[] = {
		[XF_WINDASH] = "windash", [XF_BASE64] = "base64",
		[XF_BASE64OFFSET] = "base64offset", [XF_UTF16LE] = "utf16le",
		[XF_UTF16BE] = "utf16be", [XF_UTF16] = "utf16",
	};
	return names[x];
}

static void b64(const unsigned char *in, size_t n, struct sbuf *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63],
			      tab[(v >> 6) & 63], tab[v & 63] };
		sb_put(out, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], '=', '=' };
		sb_put(out, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63],
			      tab[(v >> 6) & 63], '=' };
		sb_put(out, q, 4);
	}
}

/* UTF-8 -> UTF-16 (le, be, or with a little-endian BOM). */
static bool utf16(const unsigned char *s, size_t n, int x, struct sbuf *out)
{
	if (x == XF_UTF16)
		sb_put(out, "\xff\xfe", 2);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		unsigned extra;
		unsigned char u[4];

		if (s[i] < 0x80)
			cp = s[i], extra = 0;
		else if ((s[i] & 0xe0) == 0xc0)
			cp = s[i] & 0x1f, extra = 1;
		else if ((s[i] & 0xf0) == 0xe0)
			cp = s[i] & 0x0f, extra = 2;
		else if ((s[i] & 0xf8) == 0xf0)
			cp = s[i] & 0x07, extra = 3;
		else
			return false;
		for (unsigned k = 1; k <= extra; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		i += extra + 1;
		if (cp >= 0x10000) {
			uint32_t hi = 0xd800 + ((cp - 0x10000) >> 10);
			uint32_t lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);

			u[0] = (unsigned char)hi, u[1] = (unsigned char)(hi >> 8);
			u[2] = (unsigned char)lo, u[3] = (unsigned char)(lo >> 8);
			if (x == XF_UTF16BE) {
				unsigned char t = u[0];
				u[0] = u[1], u[1] = t;
				t = u[2], u[2] = u[3], u[3] = t;
			}
			sb_put(out, (char *)u, 4);
			continue;
		}
		u[0] = (unsigned char)cp, u[1] = (unsigned char)(cp >> 8);
		if (x == XF_UTF16BE) {
			unsigned char t = u[0];
			u[0] = u[1], u[1] = t;
		}
		sb_put(out, (char *)u, 2);
	}
	return true;
}

static bool is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* The dashes windash substitutes for each other. */
static const char *const dashes[] = { "-", "/", "\xe2\x80\x93",
				      "\xe2\x80\x94", "\xe2\x80\x95" };
#define NDASH 5
#define WINDASH_MAX 4 /* positions per value: 5^4 = 625 variants */

/*
 * windash, as pySigma does it: a `-` or `/` that starts a word (a non-word
 * character or the start before it, a word character after it) becomes each
 * of - / en dash, em dash and horizontal bar, in every combination.
 */
static bool windash(struct cctx *c, yaml_node_t *vn, const struct sval *in,
		    struct svals *out)
{
	size_t pos[WINDASH_MAX + 1], npos = 0, total = 1;
	const char *p = in->b;

	for (size_t i = 0; i < in->n; i++) {
		if ((p[i] == '-' || p[i] == '/') &&
		    (i == 0 || !is_word_char(p[i - 1])) && i + 1 < in->n &&
		    is_word_char(p[i + 1])) {
			if (npos == WINDASH_MAX) {
				ERR(c, vn, "windash: more than %d flag dashes "
				    "in one value", WINDASH_MAX);
				return false;
			}
			pos[npos++] = i;
		}
	}
	for (size_t i = 0; i < npos; i++)
		total *= NDASH;
	for (size_t v = 0; v < total; v++) {
		struct sbuf sb = { 0 };
		size_t digit = v, last = 0;

		for (size_t i = 0; i < npos; i++) {
			sb_put(&sb, p + last, pos[i] - last);
			sb_put(&sb, dashes[digit % NDASH],
			       strlen(dashes[digit % NDASH]));
			digit /= NDASH;
			last = pos[i] + 1;
		}
		sb_put(&sb, p + last, in->n - last);
		if (sb.oom || !svals_add(c, out, sb.b ? sb.b : "", sb.n,
					 in->pat)) {
			c->oom |= sb.oom;
			free(sb.b);
			return false;
		}
		free(sb.b);
	}
	return true;
}

/* The raw bytes of v: its literal when it is a pattern without wildcards;
 * false after an error when it has wildcards. */
static bool sval_bytes(struct cctx *c, yaml_node_t *vn, const struct sval *v,
		       int x, struct sbuf *out)
{
	if (!v->pat) {
		sb_put(out, v->b, v->n);
		return true;
	}
	if (pat_wild(v->b)) {
		ERR(c, vn, "%s: a value with wildcards cannot be encoded",
		    xf_name(x));
		return false;
	}
	pat_unescape(v->b, out);
	if (!out->b)
		sb_put(out, "", 0);
	return true;
}

/*
 * base64offset (pySigma's definition): the value shifted by 0, 1 and 2
 * bytes inside a longer base64 text, each encoding cut to the characters
 * that do not depend on the neighbouring bytes.
 */
static bool b64offset(struct cctx *c, const char *b, size_t n,
		      struct svals *out)
{
	static const size_t start[3] = { 0, 2, 3 };
	static const size_t cut_end[3] = { 0, 3, 2 };

	for (size_t i = 0; i < 3; i++) {
		struct sbuf raw = { 0 }, enc = { 0 };
		size_t cut = cut_end[(n + i) % 3], len;
		bool ok;

		sb_put(&raw, "  ", i);
		sb_put(&raw, b, n);
		b64((const unsigned char *)raw.b, raw.n, &enc);
		len = enc.n > start[i] + cut ? enc.n - start[i] - cut : 0;
		ok = !raw.oom && !enc.oom &&
		     svals_add(c, out, enc.b ? enc.b + start[i] : "", len, false);
		c->oom |= raw.oom || enc.oom;
		free(raw.b);
		free(enc.b);
		if (!ok)
			return false;
	}
	return true;
}

/* Applies transformation x to every value of in, into out. */
static bool transform(struct cctx *c, yaml_node_t *vn, int x,
		      const struct svals *in, struct svals *out)
{
	for (size_t i = 0; i < in->n; i++) {
		struct sbuf raw = { 0 }, enc = { 0 };
		bool ok = true;

		if (x == XF_WINDASH) {
			if (!windash(c, vn, &in->v[i], out))
				return false;
			continue;
		}
		if (!sval_bytes(c, vn, &in->v[i], x, &raw)) {
			free(raw.b);
			return false;
		}
		switch (x) {
		case XF_BASE64:
			b64((const unsigned char *)raw.b, raw.n, &enc);
			ok = !enc.oom && svals_add(c, out, enc.b ? enc.b : "",
						   enc.n, false);
			break;
		case XF_BASE64OFFSET:
			ok = b64offset(c, raw.b ? raw.b : "", raw.n, out);
			break;
		default:
			if (!utf16((const unsigned char *)(raw.b ? raw.b : ""),
				   raw.n, x, &enc)) {
				ERR(c, vn, "%s: the value is not valid UTF-8",
				    xf_name(x));
				ok = false;
				break;
			}
			ok = !enc.oom && svals_add(c, out, enc.b ? enc.b : "",
						   enc.n, false);
			break;
		}
		c->oom |= raw.oom || enc.oom;
		free(raw.b);
		free(enc.b);
		if (!ok)
			return false;
	}
	return true;
}

/* --- predicates ------------------------------------------------------------ */

/* What the modifiers of one field key say. */
struct mods {
	int op;            /* CEP__OP_*, EQ when none */
	bool all, cased, neq;
	unsigned re;       /* CEP__RE_* */
	bool re_sub;       /* an i/m/s was given */
	uint8_t xf[8];     /* transformations, in order */
	unsigned nxf;
	bool encoded;      /* base64 or base64offset among them */
};

enum pres { P_FAIL, P_ADDED, P_TRUE, P_FALSE };

/* Parses the modifier list m (modified in place); false after an error. */
static bool parse_mods(struct cctx *c, yaml_node_t *kn, char *m,
		       struct mods *md)
{
	static const char *const time_mods[] = {
		"minute", "hour", "day", "week", "month", "year", NULL
	};
	static const struct { const char *name; int op; } ops[] = {
		{ "contains", CEP__OP_CONTAINS }, { "startswith", CEP__OP_STARTSWITH },
		{ "endswith", CEP__OP_ENDSWITH }, { "re", CEP__OP_RE },
		{ "cidr", CEP__OP_CIDR }, { "lt", CEP__OP_LT },
		{ "lte", CEP__OP_LTE }, { "gt", CEP__OP_GT },
		{ "gte", CEP__OP_GTE }, { "exists", CEP__OP_EXISTS },
		{ "fieldref", CEP__OP_FIELDREF },
	};
	static const struct { const char *name; int xf; } xfs[] = {
		{ "windash", XF_WINDASH }, { "base64", XF_BASE64 },
		{ "base64offset", XF_BASE64OFFSET }, { "utf16le", XF_UTF16LE },
		{ "wide", XF_UTF16LE }, { "utf16be", XF_UTF16BE },
		{ "utf16", XF_UTF16 },
	};
	char *save = NULL;

	md->op = CEP__OP_EQ;
	for (char *t = m ? strtok_r(m, "|", &save) : NULL; t;
	     t = strtok_r(NULL, "|", &save)) {
		size_t i;
		int nop = 0;

		if (!strcmp(t, "all")) {
			md->all = true;
			continue;
		}
		if (!strcmp(t, "cased")) {
			md->cased = true;
			continue;
		}
		if (!strcmp(t, "neq")) {
			md->neq = true;
			continue;
		}
		if (!strcmp(t, "i") || !strcmp(t, "m") || !strcmp(t, "s")) {
			if (md->op != CEP__OP_RE) {
				ERR(c, kn, "modifier '%s' needs 're' before it",
				    t);
				return false;
			}
			md->re |= t[0] == 'i' ? CEP__RE_I :
				  t[0] == 'm' ? CEP__RE_M : CEP__RE_S;
			md->re_sub = true;
			continue;
		}
		for (i = 0; i < sizeof xfs / sizeof xfs[0]; i++)
			if (!strcmp(t, xfs[i].name))
				break;
		if (i < sizeof xfs / sizeof xfs[0]) {
			if (md->nxf == sizeof md->xf) {
				ERR(c, kn, "too many modifiers");
				return false;
			}
			md->xf[md->nxf++] = (uint8_t)xfs[i].xf;
			md->encoded |= xfs[i].xf == XF_BASE64 ||
				       xfs[i].xf == XF_BASE64OFFSET;
			continue;
		}
		for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
			if (!strcmp(t, ops[i].name))
				nop = ops[i].op;
		if (nop) {
			if (md->op != CEP__OP_EQ) {
				ERR(c, kn, "modifiers '%s' and '%s' conflict",
				    op_name(md->op), t);
				return false;
			}
			md->op = nop;
			continue;
		}
		if (!strcmp(t, "expand")) {
			UNSUP(c, kn, "modifier 'expand' is not supported: its "
			      "placeholders need a pipeline to fill them in");
			return false;
		}
		for (i = 0; time_mods[i]; i++)
			if (!strcmp(t, time_mods[i]))
				break;
		if (time_mods[i]) {
			UNSUP(c, kn, "time modifier '%s' is not supported: "
			      "event time cannot be matched", t);
			return false;
		}
		ERR(c, kn, "unknown modifier '%s'", t);
		return false;
	}
	if (md->neq) {
		if (md->op == CEP__OP_EQ) {
			md->op = CEP__OP_NEQ;
			md->neq = false;
		} else if (md->op >= CEP__OP_LT && md->op <= CEP__OP_GTE) {
			ERR(c, kn, "modifiers '%s' and 'neq' conflict",
			    op_name(md->op));
			return false;
		}
	}
	return true;
}

/* Checks that the modifiers suit field class cls (0: keywords). */
static bool check_mods(struct cctx *c, yaml_node_t *kn, const char *name,
		       int cls, const struct mods *md)
{
	int op = md->op;
	bool text = cls == 0 || cls == CEP__FC_TEXT, ok;

	switch (cls) {
	case CEP__FC_IP:
		ok = op == CEP__OP_EQ || op == CEP__OP_NEQ ||
		     op == CEP__OP_CIDR || op == CEP__OP_EXISTS ||
		     op == CEP__OP_FIELDREF;
		break;
	case CEP__FC_NUM:
	case CEP__FC_TOKEN:
		ok = op <= CEP__OP_GTE || op == CEP__OP_EXISTS ||
		     op == CEP__OP_FIELDREF;
		break;
	case CEP__FC_BOOL:
		ok = op == CEP__OP_EQ || op == CEP__OP_NEQ ||
		     op == CEP__OP_EXISTS || op == CEP__OP_FIELDREF;
		break;
	case 0: /* keywords */
		ok = op == CEP__OP_EQ || op == CEP__OP_CONTAINS ||
		     op == CEP__OP_STARTSWITH || op == CEP__OP_ENDSWITH ||
		     op == CEP__OP_RE || op == CEP__OP_NEQ;
		break;
	default:
		ok = (op >= CEP__OP_CONTAINS || op == CEP__OP_EQ ||
		      op == CEP__OP_NEQ);
		break;
	}
	if (!ok) {
		ERR(c, kn, "modifier '%s' does not apply to %s%s%s",
		    op_name(op), cls ? "field '" : "keywords", cls ? name : "",
		    cls ? "'" : "");
		return false;
	}
	if (md->nxf && (!text || (op != CEP__OP_EQ && op != CEP__OP_NEQ &&
				  op != CEP__OP_CONTAINS &&
				  op != CEP__OP_STARTSWITH &&
				  op != CEP__OP_ENDSWITH))) {
		ERR(c, kn, "modifier '%s' applies to text values only",
		    xf_name(md->xf[0]));
		return false;
	}
	if (md->cased && !text && op != CEP__OP_FIELDREF) {
		ERR(c, kn, "modifier 'cased' applies to text fields only");
		return false;
	}
	if (md->cased && op == CEP__OP_RE) {
		ERR(c, kn, "modifier 'cased' does not apply to 're' (regular "
		    "expressions are case-sensitive; use 're|i' to ignore case)");
		return false;
	}
	/* `neq|all` is accepted: "differs from every value" already is an
	 * AND over the values. */
	if (md->all && op == CEP__OP_EXISTS) {
		ERR(c, kn, "modifier 'all' does not apply to 'exists'");
		return false;
	}
	return true;
}

/*
 * Resolves a rule's field name: a ceptor field id (>= 0), or -1 after
 * reporting.  *mf is set when the name came through the mapping (it may be
 * a constant: mf->field < 0).
 */
static int resolve_field(struct cctx *c, yaml_node_t *kn, const char *name,
			 const struct cep__fmap_field **mf)
{
	int f;

	*mf = NULL;
	if (!c->foreign) {
		f = cep__field_lookup(name);
		if (f < 0)
			ERR(c, kn, "unknown field '%s'", name);
		return f;
	}
	*mf = cep__fmap_field(c->ls, c->nls, name);
	if (!*mf) {
		UNSUP(c, kn, "field '%s' (logsource %s) has no ceptor mapping",
		      name, c->lsdesc);
		return -1;
	}
	return (*mf)->field;
}

/* The value list of a key: the node itself or the items of a sequence. */
static bool value_nodes(struct cctx *c, yaml_node_t *vn, const char *name,
			yaml_node_t ***vals, size_t *n, yaml_node_t **one)
{
	*vals = one;
	*n = 1;
	one[0] = vn;
	if (vn->type == YAML_SEQUENCE_NODE) {
		*n = (size_t)(vn->data.sequence.items.top -
			      vn->data.sequence.items.start);
		if (*n == 0) {
			ERR(c, vn, "empty value list for '%s'", name);
			return false;
		}
		*vals = calloc(*n, sizeof **vals);
		if (!*vals) {
			c->oom = true;
			return false;
		}
		for (size_t i = 0; i < *n; i++) {
			(*vals)[i] = node_at(c, vn->data.sequence.items.start[i]);
			if ((*vals)[i]->type != YAML_SCALAR_NODE) {
				ERR(c, (*vals)[i], "a value of '%s' must be a "
				    "scalar", name);
				free(*vals);
				return false;
			}
		}
		return true;
	}
	if (vn->type != YAML_SCALAR_NODE) {
		ERR(c, vn, "the value of '%s' must be a scalar or a list", name);
		return false;
	}
	return true;
}

/* A mapped field's value: converted through its table, or as written;
 * NULL after reporting a value the mapping has no conversion for. */
static const char *map_value(struct cctx *c, yaml_node_t *vn,
			     const char *name,
			     const struct cep__fmap_field *mf, const char *s)
{
	const struct cep__field *fd;
	union cep__value v;
	uint64_t x;
	bool b;

	if (!mf || !mf->nvals)
		return s;
	for (uint32_t i = 0; i < mf->nvals; i++)
		if (!strcasecmp(mf->vals[i].from, s))
			return mf->vals[i].to;
	/* A value already in ceptor's form passes (proto: 6). */
	fd = cep__field_get(mf->field);
	switch (fd->cls) {
	case CEP__FC_NUM:
		if (cep__rc_parse_u64(s, &x) && x <= fd->max)
			return s;
		break;
	case CEP__FC_TOKEN:
		if (fd->parse(s) >= 0)
			return s;
		break;
	case CEP__FC_BOOL:
		if (cep__rc_parse_bool(s, &b))
			return s;
		break;
	case CEP__FC_IP:
		if (cep_ip_parse(s, v.ip.addr) > 0)
			return s;
		break;
	default:
		return s;
	}
	UNSUP(c, vn, "value '%s' of '%s' (logsource %s) has no ceptor mapping",
	      s, name, c->lsdesc);
	return NULL;
}

/* A constant-mapped field: folds the predicate to true or false. */
static enum pres const_pred(struct cctx *c, yaml_node_t *kn,
			    const char *name,
			    const struct cep__fmap_field *mf,
			    const struct mods *md, yaml_node_t **vals,
			    size_t nvals)
{
	bool any = false, every = true;

	if ((md->op != CEP__OP_EQ && md->op != CEP__OP_NEQ) || md->nxf ||
	    md->cased) {
		UNSUP(c, kn, "field '%s' (logsource %s) is a constant in "
		      "ceptor's mapping and takes plain values only", name,
		      c->lsdesc);
		return P_FAIL;
	}
	for (size_t i = 0; i < nvals; i++) {
		const char *s = scalar(vals[i]);
		uint32_t j;

		for (j = 0; j < mf->nvals; j++)
			if (!strcasecmp(mf->vals[j].from, s))
				break;
		if (j == mf->nvals) {
			UNSUP(c, vals[i], "value '%s' of '%s' (logsource %s) "
			      "has no ceptor mapping", s, name, c->lsdesc);
			return P_FAIL;
		}
		any |= mf->vals[j].truth;
		every &= mf->vals[j].truth;
	}
	if (md->op == CEP__OP_NEQ)
		return any ? P_FALSE : P_TRUE;
	return (md->all ? every : any) ? P_TRUE : P_FALSE;
}

/* Folds s[0..n) to ASCII lower case in place. */
static void fold(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/* Text values: Sigma strings through the transformations into p->vals. */
static bool text_values(struct cctx *c, yaml_node_t **vals, size_t nvals,
			const struct mods *md, struct cep__pred *p)
{
	struct svals cur = { 0 };
	bool wild = false, ok = true;
	size_t k;

	for (size_t i = 0; ok && i < nvals; i++) {
		struct sbuf sb = { 0 };
		const char *s = scalar(vals[i]);

		/* null in a text list stands for the empty (unset) field. */
		sigma_canon(is_null(vals[i]) ? "" : s, &sb);
		ok = !sb.oom && svals_add(c, &cur, sb.b ? sb.b : "", sb.n, true);
		c->oom |= sb.oom;
		free(sb.b);
	}
	for (unsigned x = 0; ok && x < md->nxf; x++) {
		struct svals next = { 0 };

		ok = transform(c, vals[0], md->xf[x], &cur, &next);
		svals_fini(&cur);
		cur = next;
	}
	for (k = 0; ok && k < cur.n; k++) {
		if (!cur.v[k].pat && memchr(cur.v[k].b, '\0', cur.v[k].n)) {
			ERR(c, vals[0], "%s: the encoded value holds NUL "
			    "bytes, which no text field can; combine it with "
			    "base64 or base64offset", xf_name(md->xf[0]));
			ok = false;
		}
		wild |= cur.v[k].pat && pat_wild(cur.v[k].b);
	}
	if (ok) {
		p->vals = calloc(cur.n, sizeof *p->vals);
		ok = p->vals != NULL;
		c->oom |= !ok;
	}
	for (k = 0; ok && k < cur.n; k++) {
		struct sval *v = &cur.v[k];
		struct sbuf sb = { 0 };

		if (wild) {
			if (md->op == CEP__OP_CONTAINS || md->op == CEP__OP_ENDSWITH)
				sb_putc(&sb, '*');
			if (v->pat)
				sb_put(&sb, v->b, v->n);
			else
				lit_escape(v->b, v->n, &sb);
			if (md->op == CEP__OP_CONTAINS ||
			    md->op == CEP__OP_STARTSWITH)
				sb_putc(&sb, '*');
		} else {
			if (v->pat)
				pat_unescape(v->b, &sb);
			else
				sb_put(&sb, v->b, v->n);
			if (!sb.b)
				sb_put(&sb, "", 0);
			if (!(p->flags & CEP__PF_CASED))
				fold(sb.b ? sb.b : "", sb.n);
		}
		if (!sb.b)
			sb_put(&sb, "", 0);
		if (sb.oom) {
			c->oom = true;
			free(sb.b);
			ok = false;
			break;
		}
		p->vals[p->nvals++].text = sb.b;
	}
	if (wild)
		p->flags |= CEP__PF_WILD;
	svals_fini(&cur);
	return ok;
}

/* Regular expressions: compiled here, once. */
static bool regex_values(struct cctx *c, yaml_node_t **vals, size_t nvals,
			 const struct mods *md, struct cep__pred *p)
{
	p->vals = calloc(nvals, sizeof *p->vals);
	if (!p->vals) {
		c->oom = true;
		return false;
	}
	for (size_t i = 0; i < nvals; i++) {
		char err[200];
		int rc = cep__regex_compile(scalar(vals[i]), md->re,
					    &p->vals[i].re, err, sizeof err);

		if (rc == -ENOMEM) {
			c->oom = true;
			return false;
		}
		if (rc) {
			ERR(c, vals[i], "bad regular expression '%s': %s",
			    scalar(vals[i]), err);
			return false;
		}
		p->nvals++;
	}
	return true;
}

/* Values of numbers, tokens, flags and addresses (and exists/fieldref). */
static bool other_values(struct cctx *c, int f, const char *name,
			 const struct cep__fmap_field *mf, yaml_node_t **vals,
			 size_t nvals, const struct mods *md,
			 struct cep__pred *p)
{
	const struct cep__field *fd = f >= 0 ? cep__field_get(f) : NULL;

	p->vals = calloc(nvals, sizeof *p->vals);
	if (!p->vals) {
		c->oom = true;
		return false;
	}
	for (size_t i = 0; i < nvals; i++) {
		union cep__value *v = &p->vals[p->nvals];
		const char *s = scalar(vals[i]);
		bool b;

		if (md->op == CEP__OP_EXISTS) {
			if (nvals != 1 || !cep__rc_parse_bool(s, &b)) {
				ERR(c, vals[i], "exists takes true or false");
				return false;
			}
			v->num = b;
		} else if (md->op == CEP__OP_FIELDREF) {
			const struct cep__fmap_field *omf;
			int g = resolve_field(c, vals[i], s, &omf);

			if (g < 0) {
				if (omf)
					UNSUP(c, vals[i], "fieldref to '%s', a "
					      "constant in ceptor's mapping", s);
				return false;
			}
			if (cep__field_get(g)->cls != cep__field_get(p->field)->cls ||
			    cep__field_get(g)->parse !=
				    cep__field_get(p->field)->parse) {
				ERR(c, vals[i], "fieldref: '%s' and '%s' hold "
				    "different kinds of value", name, s);
				return false;
			}
			v->num = (uint64_t)g;
		} else if (is_null(vals[i])) {
			if (md->op != CEP__OP_EQ && md->op != CEP__OP_NEQ) {
				ERR(c, vals[i], "null cannot be compared with "
				    "|%s", op_name(md->op));
				return false;
			}
			/* null stands for "not set": 0 or no address. */
			memset(v, 0, sizeof *v);
		} else {
			s = map_value(c, vals[i], name, mf, s);
			if (!s || !parse_value(c, f, md->op, vals[i], s, v))
				return false;
		}
		p->nvals++;
	}
	(void)fd;
	return true;
}

/* Builds the predicate (f OP vals) and appends it to the detection. */
static enum pres add_pred(struct cctx *c, struct dbuild *b, int f,
			  bool keywords, const char *name,
			  const struct cep__fmap_field *mf,
			  const struct mods *md, yaml_node_t **vals,
			  size_t nvals)
{
	struct cep__detection *d = b->d;
	struct cep__pred p = { 0 };
	int cls = keywords ? 0 : cep__field_get(f)->cls;
	bool ok;

	p.field = keywords ? CEP__FIELD_ANY_TEXT : (uint8_t)f;
	p.op = (uint8_t)md->op;
	p.all = md->all;
	if (md->cased || md->encoded)
		p.flags |= CEP__PF_CASED;
	if (md->neq)
		p.flags |= CEP__PF_NEG;
	if (md->op == CEP__OP_RE)
		ok = regex_values(c, vals, nvals, md, &p);
	else if ((cls == 0 || cls == CEP__FC_TEXT) &&
		 md->op != CEP__OP_EXISTS && md->op != CEP__OP_FIELDREF)
		ok = text_values(c, vals, nvals, md, &p);
	else
		ok = other_values(c, f, name, mf, vals, nvals, md, &p);
	if (ok && GROW(c, d->preds, d->npreds, b->cpreds)) {
		d->preds[d->npreds++] = p;
		return P_ADDED;
	}
	cep__pred_values_fini(&p);
	free(p.vals);
	return P_FAIL;
}

/*
 * Compiles one key (`field|mods`, or `|mods` for keywords: name NULL) and
 * its value node into a predicate of the group being built.
 */
static enum pres compile_pred(struct cctx *c, struct dbuild *b,
			      yaml_node_t *kn, const char *key,
			      yaml_node_t *vn)
{
	char buf[256], *mod;
	yaml_node_t *one[1], **vals = NULL;
	const struct cep__fmap_field *mf = NULL;
	struct mods md = { 0 };
	size_t nvals = 0;
	enum pres r;
	bool keywords;
	int f = -1, cls;

	if (!key || strlen(key) >= sizeof buf) {
		ERR(c, kn, "a field name must be a short string");
		return P_FAIL;
	}
	strcpy(buf, key);
	mod = strchr(buf, '|');
	if (mod)
		*mod++ = '\0';
	keywords = buf[0] == '\0';
	if (!parse_mods(c, kn, mod, &md))
		return P_FAIL;
	if (keywords) {
		if (c->foreign) {
			int allow = -1;

			for (unsigned i = 0; i < c->nls && allow < 0; i++)
				allow = c->ls[i]->keywords;
			if (allow != 1) {
				UNSUP(c, kn, "keyword search (logsource %s) has "
				      "no ceptor mapping", c->lsdesc);
				return P_FAIL;
			}
		}
		if (md.op == CEP__OP_EQ)
			md.op = CEP__OP_CONTAINS; /* keywords are found anywhere */
		cls = 0;
	} else {
		f = resolve_field(c, kn, buf, &mf);
		if (f < 0 && !(mf && mf->field < 0))
			return P_FAIL;
		cls = f >= 0 ? cep__field_get(f)->cls : CEP__FC_TEXT;
	}
	if (!check_mods(c, kn, keywords ? "" : buf, cls, &md))
		return P_FAIL;
	if (!value_nodes(c, vn, keywords ? "keywords" : buf, &vals, &nvals, one))
		return P_FAIL;
	if (mf && mf->field < 0) {
		r = const_pred(c, kn, buf, mf, &md, vals, nvals);
		if (vals != one)
			free(vals);
		return r;
	}
	/* Encodings make several variants of each value.  With `all`, each
	 * original value needs one of its own variants: value i becomes a
	 * predicate of its own, ORing its variants (the group ANDs them). */
	if (md.all && md.nxf && nvals > 1) {
		r = P_ADDED;
		md.all = false;
		for (size_t i = 0; i < nvals && r == P_ADDED; i++)
			r = add_pred(c, b, f, keywords, buf, mf, &md, vals + i, 1);
		if (vals != one)
			free(vals);
		return r;
	}
	r = add_pred(c, b, f, keywords, buf, mf, &md, vals, nvals);
	if (vals != one)
		free(vals);
	return r;
}

/* Drops the predicates from index first on (a group that cannot match or
 * that failed). */
static void drop_preds(struct cep__detection *d, uint32_t first)
{
	while (d->npreds > first) {
		struct cep__pred *p = &d->preds[--d->npreds];

		cep__pred_values_fini(p);
		free(p->vals);
	}
}

static void compile_group(struct cctx *c, struct dbuild *b, yaml_node_t *map)
{
	struct cep__detection *d = b->d;
	struct cep__group g = { d->npreds, 0 };
	yaml_node_t *k, *v;
	bool dead = false;

	if (map->data.mapping.pairs.top == map->data.mapping.pairs.start) {
		ERR(c, map, "empty map in a selection");
		return;
	}
	FOR_PAIRS(c, map, k, v)
		dead |= compile_pred(c, b, k, scalar(k), v) == P_FALSE;
	if (dead) {
		/* A constant made the map false: it can never match. */
		drop_preds(d, g.first);
		return;
	}
	g.n = d->npreds - g.first;
	if (GROW(c, d->groups, d->ngroups, b->cgroups))
		d->groups[d->ngroups++] = g;
}

/* A keyword list: one predicate over every text field. */
static void compile_keywords(struct cctx *c, struct dbuild *b,
			     yaml_node_t *list)
{
	struct cep__detection *d = b->d;
	struct cep__group g = { d->npreds, 0 };

	if (compile_pred(c, b, list, "", list) != P_ADDED)
		return;
	g.n = d->npreds - g.first;
	if (GROW(c, d->groups, d->ngroups, b->cgroups))
		d->groups[d->ngroups++] = g;
}

static void compile_selection(struct cctx *c, struct dbuild *b,
			      yaml_node_t *kn, yaml_node_t *v)
{
	struct cep__detection *d = b->d;
	const char *name = scalar(kn);
	struct cep__selection sel;

	for (uint32_t i = 0; i < d->nsels; i++)
		if (!strcmp(d->sels[i].name, name)) {
			ERR(c, kn, "duplicate selection '%s'", name);
			return;
		}
	if (d->nsels == CEP__MAX_SELECTIONS) {
		ERR(c, kn, "more than %d selections", CEP__MAX_SELECTIONS);
		return;
	}
	sel.name = xstrdup(c, name);
	sel.first = d->ngroups;
	if (!sel.name)
		return;
	if (v->type == YAML_MAPPING_NODE) {
		compile_group(c, b, v);
	} else if (v->type == YAML_SEQUENCE_NODE &&
		   v->data.sequence.items.top > v->data.sequence.items.start) {
		yaml_node_item_t *it = v->data.sequence.items.start;
		bool maps = node_at(c, *it)->type == YAML_MAPPING_NODE;

		for (; it < v->data.sequence.items.top; it++) {
			yaml_node_t *m = node_at(c, *it);

			if ((m->type == YAML_MAPPING_NODE) != maps ||
			    (!maps && m->type != YAML_SCALAR_NODE)) {
				ERR(c, m, "selection '%s': a list holds either "
				    "maps or keywords (plain strings), not both",
				    name);
				maps = true; /* compile no keywords after this */
				break;
			}
			if (maps)
				compile_group(c, b, m);
		}
		if (!maps)
			compile_keywords(c, b, v);
	} else if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		/* A single keyword. */
		compile_keywords(c, b, v);
	} else {
		ERR(c, v, "selection '%s' must be a map, a list of maps or a "
		    "list of keywords", name);
	}
	sel.n = d->ngroups - sel.first;
	if (GROW(c, d->sels, d->nsels, b->csels))
		d->sels[d->nsels++] = sel;
	else
		free(sel.name);
}

/* --- condition: recursive descent to postfix -------------------------------- */

enum { T_END, T_LP, T_RP, T_PIPE, T_WORD };

struct cparse {
	struct cctx *c;
	struct dbuild *b;
	yaml_node_t *node;
	const char *s;
	size_t pos, tokpos;
	int tt;
	char tok[128];
	unsigned nest; /* open parentheses and nots: bounds the recursion */
	bool failed;
};

static void lex(struct cparse *p)
{
	const char *s = p->s;
	size_t n = 0;

	while (isspace((unsigned char)s[p->pos]))
		p->pos++;
	p->tokpos = p->pos;
	switch (s[p->pos]) {
	case '\0': p->tt = T_END; strcpy(p->tok, "end"); return;
	case '(': p->tt = T_LP; p->pos++; strcpy(p->tok, "("); return;
	case ')': p->tt = T_RP; p->pos++; strcpy(p->tok, ")"); return;
	case '|': p->tt = T_PIPE; p->pos++; strcpy(p->tok, "|"); return;
	}
	while (s[p->pos] && !isspace((unsigned char)s[p->pos]) &&
	       !strchr("()|", s[p->pos])) {
		if (n + 1 < sizeof p->tok)
			p->tok[n++] = s[p->pos];
		p->pos++;
	}
	p->tok[n] = '\0';
	p->tt = T_WORD;
}

static void cerr(struct cparse *p, const char *fmt, const char *arg)
{
	char msg[256];

	if (p->failed)
		return;
	p->failed = true;
	snprintf(msg, sizeof msg, fmt, arg);
	ERR(p->c, p->node, "condition: %s (character %zu)", msg,
	    p->tokpos + 1);
}

static bool is_word(const struct cparse *p, const char *w)
{
	return p->tt == T_WORD && !strcmp(p->tok, w);
}

static bool is_keyword(const char *w)
{
	return !strcmp(w, "and") || !strcmp(w, "or") || !strcmp(w, "not") ||
	       !strcmp(w, "of") || !strcmp(w, "them");
}

static void emit(struct cparse *p, int op, uint32_t arg, uint32_t n)
{
	struct cep__detection *d = p->b->d;

	if (p->failed || !GROW(p->c, d->prog, d->nprog, p->b->cprog)) {
		p->failed = true;
		return;
	}
	d->prog[d->nprog++] = (struct cep__insn){ (uint8_t)op, arg, n };
}

static void parse_or(struct cparse *p);

static void parse_quantifier(struct cparse *p, int op)
{
	struct cep__detection *d = p->b->d;
	uint32_t first = d->nsetlist;

	lex(p); /* "of" */
	if (!is_word(p, "of")) {
		cerr(p, "expected 'of' but found '%s'", p->tok);
		return;
	}
	lex(p);
	if (p->tt != T_WORD || (is_keyword(p->tok) && !is_word(p, "them"))) {
		cerr(p, "expected a selection pattern or 'them' but found '%s'",
		     p->tok);
		return;
	}
	for (uint32_t i = 0; i < d->nsels; i++) {
		const char *name = d->sels[i].name;
		bool hit = is_word(p, "them") ? name[0] != '_' :
						fnmatch(p->tok, name, 0) == 0;

		if (!hit)
			continue;
		if (!GROW(p->c, d->setlist, d->nsetlist, p->b->cset)) {
			p->failed = true;
			return;
		}
		d->setlist[d->nsetlist++] = i;
	}
	if (d->nsetlist == first) {
		cerr(p, "'%s' names no selection", p->tok);
		return;
	}
	emit(p, op, first, d->nsetlist - first);
	lex(p);
}

static void parse_atom(struct cparse *p)
{
	struct cep__detection *d = p->b->d;

	if (p->failed)
		return;
	if (p->tt == T_LP) {
		if (++p->nest > CEP__MAX_STACK) {
			cerr(p, "%s", "parentheses nest too deep");
			return;
		}
		lex(p);
		parse_or(p);
		p->nest--;
		if (p->tt != T_RP)
			cerr(p, "expected ')' but found '%s'", p->tok);
		else
			lex(p);
		return;
	}
	if (p->tt == T_PIPE) {
		cerr(p, "%s", "aggregations ('| count() ...') are not "
		     "supported; use a correlation rule");
		return;
	}
	if (p->tt != T_WORD || is_keyword(p->tok)) {
		cerr(p, "unexpected '%s'", p->tok);
		return;
	}
	if (is_word(p, "1") || is_word(p, "any") || is_word(p, "all")) {
		int op = is_word(p, "all") ? CEP__I_ALL : CEP__I_ANY;
		struct cparse peek = *p;

		lex(&peek);
		if (is_word(&peek, "of")) {
			parse_quantifier(p, op);
			return;
		}
	}
	for (uint32_t i = 0; i < d->nsels; i++)
		if (!strcmp(d->sels[i].name, p->tok)) {
			emit(p, CEP__I_SEL, i, 0);
			lex(p);
			return;
		}
	cerr(p, "undefined selection '%s'", p->tok);
}

static void parse_not(struct cparse *p)
{
	if (is_word(p, "not")) {
		if (++p->nest > CEP__MAX_STACK) {
			cerr(p, "%s", "'not' nests too deep");
			return;
		}
		lex(p);
		parse_not(p);
		p->nest--;
		emit(p, CEP__I_NOT, 0, 0);
		return;
	}
	parse_atom(p);
}

static void parse_and(struct cparse *p)
{
	parse_not(p);
	while (!p->failed && is_word(p, "and")) {
		lex(p);
		parse_not(p);
		emit(p, CEP__I_AND, 0, 0);
	}
}

static void parse_or(struct cparse *p)
{
	parse_and(p);
	while (!p->failed && is_word(p, "or")) {
		lex(p);
		parse_and(p);
		emit(p, CEP__I_OR, 0, 0);
	}
}

static bool compile_one_condition(struct cctx *c, struct dbuild *b,
				  yaml_node_t *n)
{
	struct cparse p = { .c = c, .b = b, .node = n, .s = scalar(n) };

	if (!p.s) {
		ERR(c, n, "condition must be a string or a list of strings");
		return false;
	}
	lex(&p);
	if (p.tt == T_END) {
		ERR(c, n, "condition is empty");
		return false;
	}
	parse_or(&p);
	if (!p.failed && p.tt == T_PIPE)
		cerr(&p, "%s", "aggregations ('| count() ...') are not "
		     "supported; use a correlation rule");
	else if (!p.failed && p.tt != T_END)
		cerr(&p, "unexpected '%s'", p.tok);
	return !p.failed;
}

static bool compile_condition(struct cctx *c, struct dbuild *b,
			      yaml_node_t *n)
{
	struct cep__detection *d = b->d;
	unsigned depth = 0, max = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		/* Sigma 1.0: a list of conditions, any of which may hold. */
		yaml_node_item_t *it = n->data.sequence.items.start;

		if (it == n->data.sequence.items.top) {
			ERR(c, n, "condition is empty");
			return false;
		}
		for (; it < n->data.sequence.items.top; it++) {
			struct cparse p = { .c = c, .b = b, .node = n };

			if (!compile_one_condition(c, b, node_at(c, *it)))
				return false;
			if (it > n->data.sequence.items.start)
				emit(&p, CEP__I_OR, 0, 0);
		}
	} else if (!compile_one_condition(c, b, n)) {
		return false;
	}
	for (uint32_t i = 0; i < d->nprog; i++) {
		uint8_t op = d->prog[i].op;

		if (op == CEP__I_SEL || op == CEP__I_ANY || op == CEP__I_ALL)
			depth++;
		else if (op == CEP__I_AND || op == CEP__I_OR)
			depth--;
		if (depth > max)
			max = depth;
	}
	/* One slot stays free for the logsource conditions. */
	if (max > CEP__MAX_STACK - 1) {
		ERR(c, n, "condition nests deeper than %d", CEP__MAX_STACK - 1);
		return false;
	}
	return true;
}

/*
 * A mapped logsource's `match` conditions (fieldmap.h), ANDed to the whole
 * condition as one more selection.  Its name cannot be written in a
 * condition, so no rule can refer to it or collide with it.
 */
static void logsource_conditions(struct cctx *c, struct dbuild *b,
				 yaml_node_t *at)
{
	struct cep__detection *d = b->d;
	struct cep__selection sel = { NULL, d->ngroups, 1 };
	struct cep__group g = { d->npreds, 0 };
	struct cparse p = { .c = c, .b = b, .node = at };

	for (unsigned i = 0; i < c->nls; i++) {
		const struct cep__fmap_entry *e = c->ls[i];

		for (uint32_t j = 0; j < e->nconds; j++) {
			struct cep__pred q = { .field = (uint8_t)e->conds[j].field,
					       .op = CEP__OP_EQ, .nvals = 1 };

			q.vals = calloc(1, sizeof *q.vals);
			if (!q.vals) {
				c->oom = true;
				return;
			}
			if (cep__field_get(q.field)->cls == CEP__FC_TEXT) {
				q.vals[0].text = xstrdup(c, e->conds[j].value);
				if (q.vals[0].text)
					fold(q.vals[0].text,
					     strlen(q.vals[0].text));
			} else if (!parse_value(c, q.field, CEP__OP_EQ, at,
						e->conds[j].value, &q.vals[0])) {
				free(q.vals);
				return;
			}
			if (!GROW(c, d->preds, d->npreds, b->cpreds)) {
				cep__pred_values_fini(&q);
				free(q.vals);
				return;
			}
			d->preds[d->npreds++] = q;
		}
	}
	/* A logsource of several kinds: the rule's single `kind` filter (the
	 * index's pre-filter) cannot say it, so a predicate does. */
	for (unsigned i = 0; i < c->nls; i++) {
		uint16_t kinds = c->ls[i]->kinds;
		struct cep__pred q = { .op = CEP__OP_EQ };

		if (!kinds)
			continue;
		if (!(kinds & (kinds - 1)))
			break; /* one kind: the rule's kind filter has it */
		q.field = (uint8_t)cep__field_lookup("kind");
		q.vals = calloc(CEP_KIND_COUNT, sizeof *q.vals);
		if (!q.vals) {
			c->oom = true;
			return;
		}
		for (int k = 1; k < CEP_KIND_COUNT; k++)
			if (kinds & (1u << k))
				q.vals[q.nvals++].num = (uint64_t)k;
		if (!GROW(c, d->preds, d->npreds, b->cpreds)) {
			free(q.vals);
			return;
		}
		d->preds[d->npreds++] = q;
		break;
	}
	if (d->npreds == g.first)
		return;
	if (d->nsels == CEP__MAX_SELECTIONS) {
		ERR(c, at, "more than %d selections", CEP__MAX_SELECTIONS - 1);
		return;
	}
	g.n = d->npreds - g.first;
	sel.name = xstrdup(c, "(logsource)");
	if (!sel.name || !GROW(c, d->groups, d->ngroups, b->cgroups) ||
	    !GROW(c, d->sels, d->nsels, b->csels)) {
		free(sel.name);
		return;
	}
	d->groups[d->ngroups++] = g;
	d->sels[d->nsels] = sel;
	emit(&p, CEP__I_SEL, d->nsels++, 0);
	emit(&p, CEP__I_AND, 0, 0);
}

void cep__rc_detection(struct cctx *c, struct cep__rule *r, yaml_node_t *at,
		       yaml_node_t *n)
{
	struct dbuild b = { .d = &r->det };
	yaml_node_t *k, *v, *cond = NULL;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "detection must be a map of selections and a "
		    "condition");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		const char *name = scalar(k);

		if (!name) {
			ERR(c, k, "selection names must be strings");
		} else if (!strcmp(name, "condition")) {
			cond = v;
		} else if (!strcmp(name, "timeframe")) {
			UNSUP(c, k, "timeframe is not supported; use a "
			      "correlation rule with a timespan");
		} else {
			compile_selection(c, &b, k, v);
		}
	}
	if (!cond)
		ERR(c, at, "detection has no condition");
	else if (r->det.nsels == 0)
		ERR(c, at, "detection has no selections");
	else if (compile_condition(c, &b, cond))
		logsource_conditions(c, &b, cond);
}

