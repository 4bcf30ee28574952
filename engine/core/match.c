/*
 * match.c - field accessors and the detection matcher.
 *
 * The matcher is deliberately plain: a predicate reads one field with a
 * switch, compares it with its value list, and the condition program
 * combines selections on a bool stack.  What makes it cheap is upstream:
 * detect.c only offers a rule the events of the kind its logsource names,
 * and each selection is evaluated at most once per event.  The compiled form
 * (match.h) is laid out so that an index over EQ/CIDR predicates can replace
 * the loop later without touching the compiler.
 */
#include "core/match.h"
#include "lib/hash.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"

/* Field ids, in the order of the table below. */
enum {
	F_KIND, F_TYPE, F_SECTOR, F_RELIABILITY, F_CREDIBILITY, F_TLP,
	F_SYSTEM, F_TRIGGER,
	F_SRC_IP, F_DST_IP,
	F_SRC_PORT, F_DST_PORT, F_PROTO, F_BYTES, F_PACKETS, F_TCP_FLAGS,
	F_VLAN, F_ICMP_TYPE, F_ICMP_CODE, F_COUNT,
	F_SOURCE, F_REPORTER, F_INDICATOR, F_NAME, F_REPORT_ID,
	F_FRAGMENT, F_TRUNCATED, F_EXERCISE, F_MAY_SPREAD, F_DAMAGE_LIKELY,
	F_TUNNEL,
	F_NFIELDS
};

#define TOK(n, count, p, t) { n, CEP__FC_TOKEN, (count) - 1, p, t }
#define NUM(n, m) { n, CEP__FC_NUM, m, NULL, NULL }

static const struct cep__field fields[F_NFIELDS] = {
	[F_KIND] = TOK("kind", CEP_KIND_COUNT, cep_kind_parse, cep_kind_name),
	[F_TYPE] = TOK("type", CEP_TYPE_COUNT, cep_type_parse, cep_type_name),
	[F_SECTOR] = TOK("sector", CEP_SECTOR_COUNT, cep_sector_parse,
			 cep_sector_name),
	[F_RELIABILITY] = TOK("reliability", CEP_REL_COUNT,
			      cep_reliability_parse, cep_reliability_name),
	[F_CREDIBILITY] = TOK("credibility", CEP_CRED_MAX + 1,
			      cep_credibility_parse, cep_credibility_name),
	[F_TLP] = TOK("tlp", CEP_TLP_COUNT, cep_tlp_parse, cep_tlp_name),
	[F_SYSTEM] = TOK("system", CEP_SYSTEM_COUNT, cep_system_parse,
			 cep_system_name),
	[F_TRIGGER] = TOK("trigger", CEP_TRIGGER_COUNT, cep_trigger_parse,
			  cep_trigger_name),
	[F_SRC_IP] = { "src_ip", CEP__FC_IP, 0, NULL, NULL },
	[F_DST_IP] = { "dst_ip", CEP__FC_IP, 0, NULL, NULL },
	[F_SRC_PORT] = NUM("src_port", UINT16_MAX),
	[F_DST_PORT] = NUM("dst_port", UINT16_MAX),
	[F_PROTO] = NUM("proto", UINT8_MAX),
	[F_BYTES] = NUM("bytes", UINT64_MAX),
	[F_PACKETS] = NUM("packets", UINT64_MAX),
	[F_TCP_FLAGS] = NUM("tcp_flags", UINT8_MAX),
	[F_VLAN] = NUM("vlan", UINT16_MAX),
	[F_ICMP_TYPE] = NUM("icmp_type", UINT8_MAX),
	[F_ICMP_CODE] = NUM("icmp_code", UINT8_MAX),
	[F_COUNT] = NUM("count", UINT32_MAX),
	[F_SOURCE] = { "source", CEP__FC_TEXT, 0, NULL, NULL },
	[F_REPORTER] = { "reporter", CEP__FC_TEXT, 0, NULL, NULL },
	[F_INDICATOR] = { "indicator", CEP__FC_TEXT, 0, NULL, NULL },
	[F_NAME] = { "name", CEP__FC_TEXT, 0, NULL, NULL },
	[F_REPORT_ID] = { "report_id", CEP__FC_TEXT, 0, NULL, NULL },
	[F_FRAGMENT] = { "fragment", CEP__FC_BOOL, 1, NULL, NULL },
	[F_TRUNCATED] = { "truncated", CEP__FC_BOOL, 1, NULL, NULL },
	[F_EXERCISE] = { "exercise", CEP__FC_BOOL, 1, NULL, NULL },
	[F_MAY_SPREAD] = { "may_spread", CEP__FC_BOOL, 1, NULL, NULL },
	[F_DAMAGE_LIKELY] = { "damage_likely", CEP__FC_BOOL, 1, NULL, NULL },
	[F_TUNNEL] = { "tunnel", CEP__FC_BOOL, 1, NULL, NULL },
};

int cep__field_lookup(const char *name)
{
	for (int f = 0; f < F_NFIELDS; f++)
		if (strcmp(fields[f].name, name) == 0)
			return f;
	return -1;
}

const struct cep__field *cep__field_get(int f)
{
	return &fields[f];
}

uint64_t cep__field_num(const struct cep_event *ev, int f)
{
	switch (f) {
	case F_KIND: return ev->kind;
	case F_TYPE: return ev->type;
	case F_SECTOR: return ev->sector;
	case F_RELIABILITY: return ev->reliability;
	case F_CREDIBILITY: return ev->credibility;
	case F_TLP: return ev->tlp;
	case F_SYSTEM: return ev->system;
	case F_TRIGGER: return ev->trigger;
	case F_SRC_PORT: return ev->src_port;
	case F_DST_PORT: return ev->dst_port;
	case F_PROTO: return ev->proto;
	case F_BYTES: return ev->bytes;
	case F_PACKETS: return ev->packets;
	case F_TCP_FLAGS: return ev->tcp_flags;
	case F_VLAN: return ev->vlan;
	case F_ICMP_TYPE: return ev->icmp_type;
	case F_ICMP_CODE: return ev->icmp_code;
	case F_COUNT: return ev->count;
	case F_FRAGMENT: return !!(ev->flags & CEP_EV_FRAGMENT);
	case F_TRUNCATED: return !!(ev->flags & CEP_EV_TRUNCATED);
	case F_EXERCISE: return !!(ev->flags & CEP_EV_EXERCISE);
	case F_MAY_SPREAD: return !!(ev->flags & CEP_EV_MAY_SPREAD);
	case F_DAMAGE_LIKELY: return !!(ev->flags & CEP_EV_DAMAGE_LIKELY);
	case F_TUNNEL: return !!(ev->flags & CEP_EV_TUNNEL);
	default: return 0;
	}
}

int cep__field_ip(const struct cep_event *ev, int f, const uint8_t **ip)
{
	if (f == F_SRC_IP) {
		*ip = ev->src_ip;
		return ev->src_af;
	}
	*ip = ev->dst_ip;
	return ev->dst_af;
}

const char *cep__field_text(const struct cep_event *ev, int f)
{
	switch (f) {
	case F_SOURCE: return ev->source;
	case F_REPORTER: return ev->reporter;
	case F_INDICATOR: return ev->indicator;
	case F_NAME: return ev->name;
	case F_REPORT_ID: return ev->report_id;
	default: return "";
	}
}

/* Text fields are NUL-padded but a record from another process might not
 * be terminated; never read past the field. */
static size_t text_len(const struct cep_event *ev, int f, const char **s)
{
	size_t size;

	switch (f) {
	case F_SOURCE: size = sizeof ev->source; break;
	case F_REPORTER: size = sizeof ev->reporter; break;
	case F_INDICATOR: size = sizeof ev->indicator; break;
	case F_NAME: size = sizeof ev->name; break;
	default: size = sizeof ev->report_id; break;
	}
	*s = cep__field_text(ev, f);
	return strnlen(*s, size);
}

static size_t ip_len(int af)
{
	return af == CEP_AF_INET ? 4 : af == CEP_AF_INET6 ? 16 : 0;
}

size_t cep__field_encode(const struct cep_event *ev, int f, uint8_t *buf)
{
	const uint8_t *ip;
	const char *s;
	uint64_t v;
	size_t n;
	int af;

	switch (fields[f].cls) {
	case CEP__FC_IP:
		af = cep__field_ip(ev, f, &ip);
		n = ip_len(af);
		buf[0] = (uint8_t)af;
		memcpy(buf + 1, ip, n);
		return 1 + n;
	case CEP__FC_TEXT:
		n = text_len(ev, f, &s);
		buf[0] = (uint8_t)n;
		memcpy(buf + 1, s, n);
		return 1 + n;
	default:
		v = cep__field_num(ev, f);
		memcpy(buf, &v, sizeof v);
		return sizeof v;
	}
}

/* The engine's hashes are the project's (lib/hash.h); these names stay for
 * the core's callers. */
uint64_t cep__hash_u64(uint64_t x)
{
	return cep_hash_u64(x);
}

uint64_t cep__hash_bytes(const void *p, size_t n, uint64_t seed)
{
	return cep_hash_bytes(p, n, seed);
}

uint64_t cep__field_value64(const struct cep_event *ev, int f)
{
	uint8_t buf[CEP__FIELD_ENC_MAX];
	size_t n;

	if (fields[f].cls != CEP__FC_IP && fields[f].cls != CEP__FC_TEXT)
		return cep__field_num(ev, f);
	n = cep__field_encode(ev, f, buf);
	return cep__hash_bytes(buf, n, 0);
}

int cep__field_format(const struct cep_event *ev, int f, char *buf,
		      size_t size)
{
	char ipbuf[CEP_IP_STRLEN];
	const uint8_t *ip;
	const char *s;
	uint64_t v;
	size_t n;
	int len, af;

	switch (fields[f].cls) {
	case CEP__FC_IP:
		af = cep__field_ip(ev, f, &ip);
		len = snprintf(buf, size, "%s=%s", fields[f].name,
			       cep_ip_format(af, ip, ipbuf));
		break;
	case CEP__FC_TEXT:
		n = text_len(ev, f, &s);
		len = snprintf(buf, size, "%s=%.*s", fields[f].name, (int)n, s);
		break;
	case CEP__FC_TOKEN:
		len = snprintf(buf, size, "%s=%s", fields[f].name,
			       fields[f].tname((int)cep__field_num(ev, f)));
		break;
	case CEP__FC_BOOL:
		len = snprintf(buf, size, "%s=%s", fields[f].name,
			       cep__field_num(ev, f) ? "true" : "false");
		break;
	default:
		v = cep__field_num(ev, f);
		len = snprintf(buf, size, "%s=%llu", fields[f].name,
			       (unsigned long long)v);
		break;
	}
	return len < 0 || (size_t)len >= size ? -1 : len;
}

size_t cep__field_format_max(int f)
{
	size_t n = strlen(fields[f].name) + 1;

	switch (fields[f].cls) {
	case CEP__FC_IP: return n + CEP_IP_STRLEN - 1;
	case CEP__FC_TEXT: return n + 63;
	case CEP__FC_TOKEN: return n + 24;
	case CEP__FC_BOOL: return n + 5;
	default: return n + 20;
	}
}

/* --- matching ------------------------------------------------------------ */

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline bool char_eq(char a, char b, bool cased)
{
	return cased ? a == b : lower(a) == lower(b);
}

bool cep__text_match_case(const char *pat, const char *s, bool cased)
{
	const char *star = NULL, *resume = NULL;

	/* Iterative wildcard match with one backtrack point: linear in the
	 * common case, never recursive. */
	while (*s) {
		char pc = *pat;
		bool lit = false;

		if (pc == '\\' && (pat[1] == '*' || pat[1] == '?' ||
				   pat[1] == '\\')) {
			pc = pat[1];
			lit = true;
		}
		if (!lit && pc == '*') {
			star = ++pat;
			resume = s;
			continue;
		}
		if (pc && ((!lit && pc == '?') || char_eq(pc, *s, cased))) {
			pat += lit ? 2 : 1;
			s++;
			continue;
		}
		if (!star)
			return false;
		pat = star;
		s = ++resume;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool cep__text_match(const char *pat, const char *s)
{
	return cep__text_match_case(pat, s, false);
}

/* --- regular expressions (PCRE2) ----------------------------------------- */

/*
 * pcre2_match() needs a match block.  One per thread, made on the thread's
 * first regex test and freed by the key's destructor when the thread ends,
 * keeps the match path free of per-event allocation while letting any
 * number of workers share one compiled rule set.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key;
static _Thread_local pcre2_match_data *tl_md;

static void md_destroy(void *p)
{
	pcre2_match_data_free(p);
}

static void md_key_init(void)
{
	if (pthread_key_create(&md_key, md_destroy) != 0)
		abort(); /* only fails when the process is out of keys */
}

static pcre2_match_data *match_block(void)
{
	if (!tl_md) {
		pthread_once(&md_once, md_key_init);
		tl_md = pcre2_match_data_create(1, NULL);
		if (tl_md)
			pthread_setspecific(md_key, tl_md);
	}
	return tl_md;
}

int cep__regex_compile(const char *src, unsigned flags, struct cep__regex *re,
		       char *err, size_t errsize)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *code;
	int ec;

	if (flags & CEP__RE_I)
		opts |= PCRE2_CASELESS;
	if (flags & CEP__RE_M)
		opts |= PCRE2_MULTILINE;
	if (flags & CEP__RE_S)
		opts |= PCRE2_DOTALL;
	code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, opts, &ec,
			     &off, NULL);
	if (!code) {
		if (ec == PCRE2_ERROR_NOMEMORY)
			return -ENOMEM;
		pcre2_get_error_message(ec, msg, sizeof msg);
		snprintf(err, errsize, "%s at offset %zu", (char *)msg,
			 (size_t)off);
		return -CEP_EMALFORMED;
	}
	/* The JIT is an optimisation: where it is missing the interpreter
	 * runs the same expression. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	re->src = strdup(src);
	if (!re->src) {
		pcre2_code_free(code);
		return -ENOMEM;
	}
	re->code = code;
	return 0;
}

void cep__regex_fini(struct cep__regex *re)
{
	pcre2_code_free(re->code);
	free(re->src);
	re->code = NULL;
	re->src = NULL;
}

static bool regex_test(const struct cep__regex *re, const char *s, size_t n)
{
	pcre2_match_data *md = match_block();

	if (!md)
		return false; /* no memory for this thread's block: no match */
	return pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

/* --- predicates ---------------------------------------------------------- */

static bool prefix_has(const struct cep__prefix *p, int af, const uint8_t *ip)
{
	unsigned full, rest;

	if (p->af != af)
		return false;
	if (af == CEP_AF_NONE)
		return true; /* null matches a missing address */
	full = p->len / 8;
	rest = p->len % 8;
	if (memcmp(p->addr, ip, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((ip[full] & mask) != p->addr[full])
			return false;
	}
	return true;
}

/* s[0..n) against the literal lit (already folded unless cased). */
static bool lit_eq(const char *s, const char *lit, size_t m, bool cased)
{
	if (cased)
		return memcmp(s, lit, m) == 0;
	for (size_t i = 0; i < m; i++)
		if (lower(s[i]) != lit[i])
			return false;
	return true;
}

/* One text test of field text s[0..n) (NUL-terminated at n). */
static bool text_test(const struct cep__pred *p, const union cep__value *v,
		      const char *s, size_t n)
{
	bool cased = p->flags & CEP__PF_CASED;
	size_t m;

	if (p->op == CEP__OP_RE)
		return regex_test(&v->re, s, n);
	if (p->flags & CEP__PF_WILD)
		return cep__text_match_case(v->text, s, cased);
	m = strlen(v->text);
	switch (p->op) {
	case CEP__OP_CONTAINS:
		for (size_t i = 0; i + m <= n; i++)
			if (lit_eq(s + i, v->text, m, cased))
				return true;
		return false;
	case CEP__OP_STARTSWITH:
		return n >= m && lit_eq(s, v->text, m, cased);
	case CEP__OP_ENDSWITH:
		return n >= m && lit_eq(s + n - m, v->text, m, cased);
	default: /* EQ, NEQ */
		return n == m && lit_eq(s, v->text, m, cased);
	}
}

/* Copies text field f into tmp (NUL-terminated); returns its length. */
static size_t text_copy(const struct cep_event *ev, int f, char tmp[72])
{
	const char *s;
	size_t n = text_len(ev, f, &s);

	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return n;
}

static bool field_is_set(const struct cep_event *ev, int f)
{
	const uint8_t *ip;
	const char *s;

	switch (fields[f].cls) {
	case CEP__FC_IP:
		return cep__field_ip(ev, f, &ip) != CEP_AF_NONE;
	case CEP__FC_TEXT:
		return text_len(ev, f, &s) > 0;
	default:
		return cep__field_num(ev, f) != 0;
	}
}

static bool fieldref_test(const struct cep__pred *p, int g,
			  const struct cep_event *ev)
{
	const uint8_t *a, *b;
	char ta[72], tb[72];
	size_t na, nb;
	int fa, fb;

	/* An unset field equals nothing, not even another unset one. */
	if (!field_is_set(ev, p->field) || !field_is_set(ev, g))
		return false;
	switch (fields[p->field].cls) {
	case CEP__FC_IP:
		fa = cep__field_ip(ev, p->field, &a);
		fb = cep__field_ip(ev, g, &b);
		return fa == fb && memcmp(a, b, ip_len(fa)) == 0;
	case CEP__FC_TEXT:
		na = text_copy(ev, p->field, ta);
		nb = text_copy(ev, g, tb);
		if (na != nb)
			return false;
		for (size_t i = 0; i < na; i++)
			if (!char_eq(ta[i], tb[i], p->flags & CEP__PF_CASED))
				return false;
		return true;
	default:
		return cep__field_num(ev, p->field) == cep__field_num(ev, g);
	}
}

/* The text fields keywords search, in the order they are tried. */
static const uint8_t text_fields[] = {
	F_INDICATOR, F_NAME, F_SOURCE, F_REPORTER, F_REPORT_ID,
};

/* One value test, without the NEQ / CEP__PF_NEG inversion. */
static bool value_test(const struct cep__pred *p, const union cep__value *v,
		       const struct cep_event *ev)
{
	const uint8_t *ip;
	char tmp[72];
	uint64_t x;
	size_t n;
	int af;

	if (p->field == CEP__FIELD_ANY_TEXT) {
		for (size_t i = 0; i < sizeof text_fields; i++) {
			n = text_copy(ev, text_fields[i], tmp);
			if (text_test(p, v, tmp, n))
				return true;
		}
		return false;
	}
	if (p->op == CEP__OP_EXISTS)
		return field_is_set(ev, p->field) == (v->num != 0);
	if (p->op == CEP__OP_FIELDREF)
		return fieldref_test(p, (int)v->num, ev);
	switch (fields[p->field].cls) {
	case CEP__FC_IP:
		af = cep__field_ip(ev, p->field, &ip);
		return prefix_has(&v->ip, af, ip);
	case CEP__FC_TEXT:
		n = text_copy(ev, p->field, tmp);
		return text_test(p, v, tmp, n);
	default:
		x = cep__field_num(ev, p->field);
		switch (p->op) {
		case CEP__OP_LT: return x < v->num;
		case CEP__OP_LTE: return x <= v->num;
		case CEP__OP_GT: return x > v->num;
		case CEP__OP_GTE: return x >= v->num;
		default: return x == v->num;
		}
	}
}

bool cep__pred_match(const struct cep__pred *p, const struct cep_event *ev)
{
	bool neg = p->op == CEP__OP_NEQ || (p->flags & CEP__PF_NEG);
	bool any = false;

	for (uint32_t i = 0; i < p->nvals; i++) {
		bool hit = value_test(p, &p->vals[i], ev);

		if (p->all && !hit && !neg)
			return false;
		if (hit) {
			any = true;
			if (!p->all || neg)
				break;
		}
	}
	if (neg)
		return !any; /* different from every value */
	return p->all ? true : any;
}

static bool selection_match(const struct cep__detection *d, uint32_t s,
			    const struct cep_event *ev)
{
	const struct cep__selection *sel = &d->sels[s];

	for (uint32_t g = sel->first; g < sel->first + sel->n; g++) {
		const struct cep__group *grp = &d->groups[g];
		uint32_t i;

		for (i = grp->first; i < grp->first + grp->n; i++)
			if (!cep__pred_match(&d->preds[i], ev))
				break;
		if (i == grp->first + grp->n)
			return true;
	}
	return false;
}

/* Selection results, each computed at most once per event. */
struct memo {
	uint64_t done, val;
};

static bool sel_value(const struct cep__detection *d, struct memo *m,
		      uint32_t s, const struct cep_event *ev)
{
	uint64_t bit = 1ULL << s;

	if (!(m->done & bit)) {
		m->done |= bit;
		if (selection_match(d, s, ev))
			m->val |= bit;
	}
	return (m->val & bit) != 0;
}

bool cep__detection_match(const struct cep__detection *d,
			  const struct cep_event *ev)
{
	bool stack[CEP__MAX_STACK];
	struct memo m = { 0, 0 };
	unsigned sp = 0;

	for (uint32_t pc = 0; pc < d->nprog; pc++) {
		const struct cep__insn *in = &d->prog[pc];
		bool r;

		switch (in->op) {
		case CEP__I_SEL:
			stack[sp++] = sel_value(d, &m, in->arg, ev);
			break;
		case CEP__I_AND:
			sp--;
			stack[sp - 1] = stack[sp - 1] && stack[sp];
			break;
		case CEP__I_OR:
			sp--;
			stack[sp - 1] = stack[sp - 1] || stack[sp];
			break;
		case CEP__I_NOT:
			stack[sp - 1] = !stack[sp - 1];
			break;
		case CEP__I_ANY:
		case CEP__I_ALL:
			r = in->op == CEP__I_ALL;
			for (uint32_t i = 0; i < in->n; i++) {
				bool v = sel_value(d, &m,
						   d->setlist[in->arg + i], ev);
				if (v != r) {
					r = v;
					break;
				}
			}
			stack[sp++] = r;
			break;
		default:
			abort(); /* the compiler emits no other opcode */
		}
	}
	return sp == 1 && stack[0];
}

void cep__pred_values_fini(struct cep__pred *p)
{
	bool text = p->field == CEP__FIELD_ANY_TEXT ||
		    fields[p->field].cls == CEP__FC_TEXT;

	if (!p->vals)
		return;
	for (uint32_t v = 0; v < p->nvals; v++) {
		if (p->op == CEP__OP_RE)
			cep__regex_fini(&p->vals[v].re);
		else if (text && p->op != CEP__OP_EXISTS &&
			 p->op != CEP__OP_FIELDREF)
			free(p->vals[v].text);
	}
}

void cep__detection_fini(struct cep__detection *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->npreds; i++) {
		cep__pred_values_fini(&d->preds[i]);
		free(d->preds[i].vals);
	}
	for (uint32_t i = 0; i < d->nsels; i++)
		free(d->sels[i].name);
	free(d->preds);
	free(d->groups);
	free(d->sels);
	free(d->setlist);
	free(d->prog);
	memset(d, 0, sizeof *d);
}
