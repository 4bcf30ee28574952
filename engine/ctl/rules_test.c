/*
 * rules_test.c - `ceptorctl rules test DIR CASES...`: unit tests for rules.
 *
 * A case file (rules/LANGUAGE.md, "Testing rules") lists cases; each case
 * gives events and the signals and incidents that must (and must not)
 * come out of them.  The events go through the same stages as in ceptord,
 * in the same order (engine/loop.c): the rule set compiled once by
 * cep_ruleset_compile(), then per case a fresh cep_detect and cep_incidents
 * (so cases do not see each other's windows), cep_detect_event() per event
 * with every signal handed to cep_incidents_signal(), cep_detect_flush() at
 * the end of the events (the end of input closes every window, as
 * `ceptord --once` does), and cep_incidents_collect() for the incidents.
 * Nothing here re-implements matching, windows or incidents.
 *
 * A case file is read whole with libyaml and checked before anything runs:
 * a malformed one is reported as FILE:LINE: message and counts as failed.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ceptor/detect.h"
#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "ceptor/rule.h"
#include "ceptor/signal.h"
#include "ctl/ctl.h"
#include "lib/file.h"

#define SIG_ROOM 64
#define INC_ROOM 64
#define DEFAULT_T0 "2026-01-01T00:00:00Z"
#define DEFAULT_SOURCE "rules-test"
#define REPEAT_MAX 1000000
#define SHOW_MAX 8 /* signals or incidents listed under a failed check */

/* --- what a case file says ----------------------------------------------- */

struct range {
	bool set;
	uint64_t min, max;
};

enum { EXP_SIGNAL = 1, EXP_INCIDENT };

struct expect {
	int what;          /* EXP_SIGNAL or EXP_INCIDENT */
	char *rule;        /* rule id (or name) the signal/incident carries */
	char *key;         /* group key, or NULL for any */
	struct range count;
	struct range times; /* how many signals/incidents must match */
	int final;         /* signals: -1 any, 0 or 1 */
	unsigned line;
};

struct tcase {
	char *name;
	unsigned line;
	struct cep_event *ev;
	size_t nev, cev;
	struct expect *ex;
	size_t nex, cex;
};

/* What a case produced, kept for the checks. */
struct seen {
	char rule[CEP_RULE_ID_MAX];
	char key[CEP_SIGNAL_KEY_MAX];
	char id[CEP_INCIDENT_ID_MAX]; /* incidents */
	uint64_t count;
	int final;
};

struct seenv {
	struct seen *v;
	size_t n, cap;
};

/* The parse of one case file. */
struct cfile {
	const char *path;
	char dir[4096];
	yaml_document_t doc;
	unsigned nerr;
	struct tcase *cases;
	size_t ncases, ccases;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(2);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

#define GROW(arr, n, cap)                                                    \
	do {                                                                 \
		if ((n) == (cap)) {                                          \
			(cap) = (cap) ? 2 * (cap) : 8;                       \
			(arr) = xrealloc((arr), (cap) * sizeof *(arr));      \
		}                                                            \
	} while (0)

static void cf_err(struct cfile *f, const yaml_node_t *n, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static void cf_err(struct cfile *f, const yaml_node_t *n, const char *fmt,
		   ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", f->path,
		n ? (unsigned)n->start_mark.line + 1 : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	f->nerr++;
}

static yaml_node_t *node(struct cfile *f, int id)
{
	return yaml_document_get_node(&f->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		       (const char *)n->data.scalar.value : NULL;
}

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* N, or {min: N, max: M} (either may be missing). */
static bool parse_range(struct cfile *f, yaml_node_t *n, const char *what,
			struct range *r)
{
	uint64_t v;

	r->set = true;
	r->min = 0;
	r->max = UINT64_MAX;
	if (n->type == YAML_SCALAR_NODE) {
		if (!parse_u64(scalar(n), &v)) {
			cf_err(f, n, "%s: a whole number, or {min: N, max: M}",
			       what);
			return false;
		}
		r->min = r->max = v;
		return true;
	}
	if (n->type != YAML_MAPPING_NODE) {
		cf_err(f, n, "%s: a whole number, or {min: N, max: M}", what);
		return false;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(f, p->key));
		yaml_node_t *vn = node(f, p->value);

		if (!k || (strcmp(k, "min") && strcmp(k, "max"))) {
			cf_err(f, node(f, p->key), "%s: only min and max", what);
			return false;
		}
		if (!parse_u64(scalar(vn), &v)) {
			cf_err(f, vn, "%s.%s: a whole number", what, k);
			return false;
		}
		if (!strcmp(k, "min"))
			r->min = v;
		else
			r->max = v;
	}
	if (r->min > r->max) {
		cf_err(f, n, "%s: min is above max", what);
		return false;
	}
	return true;
}

static bool in_range(const struct range *r, uint64_t v)
{
	return !r->set || (v >= r->min && v <= r->max);
}

static void range_str(const struct range *r, char *buf, size_t size)
{
	if (r->min == r->max)
		snprintf(buf, size, "%" PRIu64, r->min);
	else if (r->max == UINT64_MAX)
		snprintf(buf, size, ">= %" PRIu64, r->min);
	else if (r->min == 0)
		snprintf(buf, size, "<= %" PRIu64, r->max);
	else
		snprintf(buf, size, "%" PRIu64 "..%" PRIu64, r->min, r->max);
}

/* --- events ------------------------------------------------------------- */

struct evctx {
	struct cfile *f;
	struct tcase *tc;
	const char *source; /* default source name */
	uint64_t next_ts;   /* for events without ts */
	uint64_t step;      /* ns between events without ts */
};

/* Finishes and appends one event parsed from JSON text. */
static bool add_event_json(struct evctx *x, const yaml_node_t *at,
			   const char *json, size_t len, const char *where)
{
	struct tcase *tc = x->tc;
	struct cep_event ev;
	char err[256];
	int rc = cep_event_from_json(json, len, &ev, err, sizeof err);

	if (rc) {
		cf_err(x->f, at, "%s: %s", where, err);
		return false;
	}
	if (!ev.ts)
		ev.ts = x->next_ts;
	x->next_ts = ev.ts + x->step;
	if (!ev.source[0])
		cep_event_set_text(ev.source, sizeof ev.source, x->source);
	GROW(tc->ev, tc->nev, tc->cev);
	tc->ev[tc->nev++] = ev;
	return true;
}

/* Events as JSON Lines text: a block scalar or a file's content. */
static bool add_jsonl(struct evctx *x, const yaml_node_t *at, const char *text,
		      const char *what)
{
	unsigned lineno = 0;
	bool ok = true;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char where[4200];

		lineno++;
		if (strspn(p, " \t\r") < len) {
			snprintf(where, sizeof where, "%s line %u", what, lineno);
			ok &= add_event_json(x, at, p, len, where);
		}
		p += len + (nl ? 1 : 0);
	}
	return ok;
}

/* Appends s to a JSON string under construction, escaped. */
static void json_str(char **buf, size_t *n, size_t *cap, const char *s)
{
	for (;; s++) {
		char tmp[8];
		const char *add = tmp;

		if (!*s)
			break;
		if (*s == '"' || *s == '\\')
			snprintf(tmp, sizeof tmp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)*s);
		else
			tmp[0] = *s, tmp[1] = '\0';
		for (; *add; add++) {
			GROW(*buf, *n, *cap);
			(*buf)[(*n)++] = *add;
		}
	}
}

static void json_raw(char **buf, size_t *n, size_t *cap, const char *s)
{
	for (; *s; s++) {
		GROW(*buf, *n, *cap);
		(*buf)[(*n)++] = *s;
	}
}

/* Replaces $n and $n+K in s by the repetition number i (+K). */
static void expand(const char *s, uint64_t i, char *out, size_t size)
{
	size_t o = 0;

	while (*s && o + 24 < size) {
		if (s[0] == '$' && s[1] == 'n') {
			uint64_t v = i, k;
			char *end;

			s += 2;
			if (*s == '+' && s[1] >= '0' && s[1] <= '9') {
				k = strtoull(s + 1, &end, 10);
				v += k;
				s = end;
			}
			o += (size_t)snprintf(out + o, size - o, "%" PRIu64, v);
			continue;
		}
		out[o++] = *s++;
	}
	out[o] = '\0';
}

static bool plain_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* One event written as a YAML mapping of event fields (JSON is a YAML
 * mapping too), with `repeat: N` and $n templates. */
static bool add_event_map(struct evctx *x, yaml_node_t *m)
{
	uint64_t repeat = 1;
	bool ok = true;

	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(x->f, p->key));
		yaml_node_t *v = node(x->f, p->value);

		if (!k || !scalar(v)) {
			cf_err(x->f, v, "an event is a flat map of field: value");
			return false;
		}
		if (!strcmp(k, "repeat") &&
		    (!parse_u64(scalar(v), &repeat) || repeat == 0 ||
		     repeat > REPEAT_MAX)) {
			cf_err(x->f, v, "repeat: a number in 1..%d", REPEAT_MAX);
			return false;
		}
	}
	for (uint64_t i = 0; ok && i < repeat; i++) {
		char *buf = NULL;
		size_t n = 0, cap = 0;
		bool first = true;

		json_raw(&buf, &n, &cap, "{");
		for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
		     p < m->data.mapping.pairs.top; p++) {
			const char *k = scalar(node(x->f, p->key));
			yaml_node_t *v = node(x->f, p->value);
			char val[1024];
			bool plain = v->data.scalar.style ==
				     YAML_PLAIN_SCALAR_STYLE;

			if (!strcmp(k, "repeat"))
				continue;
			expand(scalar(v), i, val, sizeof val);
			json_raw(&buf, &n, &cap, first ? "\"" : ",\"");
			first = false;
			json_str(&buf, &n, &cap, k);
			json_raw(&buf, &n, &cap, "\":");
			/* YAML's types: a plain integer or boolean is one in
			 * JSON too; anything quoted stays a string. */
			if (plain && (plain_number(val) || !strcmp(val, "true") ||
				      !strcmp(val, "false"))) {
				json_raw(&buf, &n, &cap, val);
			} else {
				json_raw(&buf, &n, &cap, "\"");
				json_str(&buf, &n, &cap, val);
				json_raw(&buf, &n, &cap, "\"");
			}
		}
		json_raw(&buf, &n, &cap, "}");
		ok = add_event_json(x, m, buf, n, "event");
		free(buf);
	}
	return ok;
}

static bool add_events(struct evctx *x, yaml_node_t *v)
{
	bool ok = true;

	if (v->type == YAML_SCALAR_NODE)
		return add_jsonl(x, v, scalar(v), "events");
	if (v->type != YAML_SEQUENCE_NODE) {
		cf_err(x->f, v, "events: JSON Lines text, or a list of events");
		return false;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(x->f, *it);

		if (e->type == YAML_MAPPING_NODE)
			ok &= add_event_map(x, e);
		else if (e->type == YAML_SCALAR_NODE)
			ok &= add_event_json(x, e, scalar(e), strlen(scalar(e)),
					     "event");
		else {
			cf_err(x->f, e, "an event is a map or a JSON string");
			ok = false;
		}
	}
	return ok;
}

static bool add_events_file(struct evctx *x, yaml_node_t *v)
{
	const char *name = scalar(v);
	char path[8192], what[8300];
	size_t len;
	char *text;
	bool ok;
	int rc;

	if (!name || !*name) {
		cf_err(x->f, v, "events_file: a path");
		return false;
	}
	if (name[0] == '/')
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "%s/%s", x->f->dir, name);
	if ((rc = cep_file_read(path, 0, &text, &len))) {
		cf_err(x->f, v, "events_file: cannot read %s: %s", path,
		       strerror(-rc));
		return false;
	}
	if (strlen(text) != len) {
		cf_err(x->f, v, "events_file: %s holds a NUL byte", path);
		free(text);
		return false;
	}
	snprintf(what, sizeof what, "%s", path);
	ok = add_jsonl(x, v, text, what);
	free(text);
	return ok;
}

/* --- expectations ------------------------------------------------------- */

static bool parse_expect(struct cfile *f, struct tcase *tc, yaml_node_t *m)
{
	struct expect e = { .final = -1, .line = line_of(m) };
	bool ok = true;

	if (m->type != YAML_MAPPING_NODE) {
		cf_err(f, m, "an expectation is a map: {signal: RULE, ...} or "
		       "{incident: RULE, ...}");
		return false;
	}
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     ok && p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(f, p->key), *v = node(f, p->value);
		const char *k = scalar(kn), *s = scalar(v);

		if (!k) {
			cf_err(f, kn, "a key must be a word");
			ok = false;
		} else if (!strcmp(k, "signal") || !strcmp(k, "incident")) {
			if (e.what || !s || !*s) {
				cf_err(f, v, "one of signal: RULE or incident: "
				       "RULE, naming a rule id");
				ok = false;
			} else {
				e.what = !strcmp(k, "signal") ? EXP_SIGNAL :
								EXP_INCIDENT;
				e.rule = xstrdup(s);
			}
		} else if (!strcmp(k, "key")) {
			if (!s) {
				cf_err(f, v, "key: the group key, e.g. "
				       "src_ip=192.0.2.7 (\"\" for none)");
				ok = false;
			} else {
				free(e.key);
				e.key = xstrdup(s);
			}
		} else if (!strcmp(k, "count")) {
			ok = parse_range(f, v, "count", &e.count);
		} else if (!strcmp(k, "times")) {
			ok = parse_range(f, v, "times", &e.times);
		} else if (!strcmp(k, "final")) {
			if (!s || (strcmp(s, "true") && strcmp(s, "false"))) {
				cf_err(f, v, "final: true or false");
				ok = false;
			}
			e.final = s && !strcmp(s, "true");
		} else {
			cf_err(f, kn, "unknown key '%s' (signal, incident, key, "
			       "count, times, final)", k);
			ok = false;
		}
	}
	if (ok && !e.what) {
		cf_err(f, m, "an expectation names signal: RULE or incident: "
		       "RULE");
		ok = false;
	}
	if (ok && e.what == EXP_INCIDENT && e.final >= 0) {
		cf_err(f, m, "final applies to signals only");
		ok = false;
	}
	if (!ok) {
		free(e.rule);
		free(e.key);
		return false;
	}
	if (!e.times.set) {
		e.times.set = true;
		e.times.min = 1;
		e.times.max = UINT64_MAX;
	}
	GROW(tc->ex, tc->nex, tc->cex);
	tc->ex[tc->nex++] = e;
	return true;
}

/* `absent:` items are expectations with times: 0. */
static bool parse_expect_list(struct cfile *f, struct tcase *tc,
			      yaml_node_t *v, bool absent)
{
	bool ok = true;

	if (v->type != YAML_SEQUENCE_NODE) {
		cf_err(f, v, "%s: a list", absent ? "absent" : "expect");
		return false;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		size_t before = tc->nex;

		if (!parse_expect(f, tc, node(f, *it))) {
			ok = false;
			continue;
		}
		if (absent && tc->nex > before) {
			tc->ex[before].times.min = 0;
			tc->ex[before].times.max = 0;
		}
	}
	return ok;
}

/* --- cases -------------------------------------------------------------- */

static void case_fini(struct tcase *tc)
{
	for (size_t i = 0; i < tc->nex; i++) {
		free(tc->ex[i].rule);
		free(tc->ex[i].key);
	}
	free(tc->ex);
	free(tc->ev);
	free(tc->name);
}

static bool parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	if (!s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	if (!strcmp(end, "ms"))
		*ns = (uint64_t)(v * 1e6);
	else if (!strcmp(end, "s"))
		*ns = (uint64_t)(v * 1e9);
	else if (!strcmp(end, "m"))
		*ns = (uint64_t)(v * 60e9);
	else
		return false;
	return true;
}

static void parse_case(struct cfile *f, yaml_node_t *m)
{
	struct tcase tc = { .line = line_of(m) };
	struct evctx x = { .f = f, .tc = &tc, .source = DEFAULT_SOURCE,
			   .step = 1000000000ULL };
	yaml_node_t *events = NULL, *events_file = NULL;
	unsigned nerr = f->nerr;

	if (m->type != YAML_MAPPING_NODE) {
		cf_err(f, m, "a case is a map with name, events and expect");
		return;
	}
	cep_time_parse(DEFAULT_T0, strlen(DEFAULT_T0), &x.next_ts);
	/* Settings first, whatever their order in the file. */
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(f, p->key), *v = node(f, p->value);
		const char *k = scalar(kn), *s = scalar(v);

		if (!k) {
			cf_err(f, kn, "a key must be a word");
		} else if (!strcmp(k, "name")) {
			if (!s || !*s)
				cf_err(f, v, "name: a line of text");
			else
				tc.name = xstrdup(s);
		} else if (!strcmp(k, "source")) {
			if (!s || strlen(s) >= sizeof tc.ev->source)
				cf_err(f, v, "source: a collector name under "
				       "%zu bytes", sizeof tc.ev->source);
			else
				x.source = s;
		} else if (!strcmp(k, "start")) {
			if (!s || cep_time_parse(s, strlen(s), &x.next_ts))
				cf_err(f, v, "start: an RFC 3339 time");
		} else if (!strcmp(k, "step")) {
			if (!parse_duration(s, &x.step))
				cf_err(f, v, "step: a duration such as 100ms, "
				       "2s or 1m");
		} else if (!strcmp(k, "events")) {
			events = v;
		} else if (!strcmp(k, "events_file")) {
			events_file = v;
		} else if (strcmp(k, "expect") && strcmp(k, "absent")) {
			cf_err(f, kn, "unknown key '%s' (name, source, start, "
			       "step, events, events_file, expect, absent)", k);
		}
	}
	if (!tc.name)
		cf_err(f, m, "a case needs a name");
	if (!events && !events_file)
		cf_err(f, m, "a case needs events or events_file");
	if (events_file)
		add_events_file(&x, events_file);
	if (events)
		add_events(&x, events);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(f, p->key));

		if (k && (!strcmp(k, "expect") || !strcmp(k, "absent")))
			parse_expect_list(f, &tc, node(f, p->value),
					  !strcmp(k, "absent"));
	}
	if (f->nerr == nerr && tc.nex == 0)
		cf_err(f, m, "a case needs at least one expect or absent item");
	if (f->nerr != nerr) {
		case_fini(&tc);
		return;
	}
	GROW(f->cases, f->ncases, f->ccases);
	f->cases[f->ncases++] = tc;
}

/* Reads a case file: a map with `cases:`, or a list of cases. */
static void load_file(struct cfile *f)
{
	yaml_parser_t parser;
	yaml_node_t *root, *cases = NULL;
	FILE *fp = fopen(f->path, "r");
	const char *slash = strrchr(f->path, '/');

	snprintf(f->dir, sizeof f->dir, "%.*s",
		 slash ? (int)(slash - f->path) : 1, slash ? f->path : ".");
	if (!fp) {
		fprintf(stderr, "%s: %s\n", f->path, strerror(errno));
		f->nerr++;
		return;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &f->doc)) {
		fprintf(stderr, "%s:%zu: YAML: %s\n", f->path,
			parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "syntax error");
		f->nerr++;
		yaml_parser_delete(&parser);
		fclose(fp);
		memset(&f->doc, 0, sizeof f->doc);
		return;
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	root = yaml_document_get_root_node(&f->doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			const char *k = scalar(node(f, p->key));

			if (k && !strcmp(k, "cases"))
				cases = node(f, p->value);
			else if (!k || (strcmp(k, "title") &&
					strcmp(k, "description")))
				cf_err(f, node(f, p->key), "unknown key '%s' "
				       "(cases, title, description)",
				       k ? k : "?");
		}
	} else {
		cases = root;
	}
	if (!cases || cases->type != YAML_SEQUENCE_NODE) {
		cf_err(f, cases ? cases : root, "no list of cases (write "
		       "`cases:` followed by a list)");
		return;
	}
	for (yaml_node_item_t *it = cases->data.sequence.items.start;
	     it < cases->data.sequence.items.top; it++)
		parse_case(f, node(f, *it));
}

/* --- running ------------------------------------------------------------ */

static void seen_add(struct seenv *sv, const char *rule, const char *key,
		     const char *id, uint64_t count, int final)
{
	struct seen *s;

	GROW(sv->v, sv->n, sv->cap);
	s = &sv->v[sv->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->rule, sizeof s->rule, "%s", rule);
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->id, sizeof s->id, "%s", id ? id : "");
	s->count = count;
	s->final = final;
}

static int take(struct cep_incidents *inc, const struct cep_signal *sig,
		unsigned n, struct seenv *sigs)
{
	for (unsigned i = 0; i < n; i++) {
		seen_add(sigs, sig[i].rule_id, sig[i].key, NULL, sig[i].count,
			 sig[i].final);
		if (cep_incidents_signal(inc, &sig[i]))
			return -ENOMEM;
	}
	return 0;
}

/* Runs the events of tc; fills sigs and incs.  Returns 0 or -errno. */
static int run_events(const struct cep_ruleset *rs, const struct tcase *tc,
		      struct seenv *sigs, struct seenv *incs)
{
	struct cep_signal *sig = xrealloc(NULL, SIG_ROOM * sizeof *sig);
	struct cep_incident *got[INC_ROOM];
	struct cep_incidents *inc = NULL;
	struct cep_detect *d = NULL;
	unsigned n;
	int rc, k;

	if ((rc = cep_detect_create(rs, NULL, &d)) ||
	    (rc = cep_incidents_create(NULL, &inc)))
		goto done;
	for (size_t i = 0; i < tc->nev; i++) {
		n = cep_detect_event(d, &tc->ev[i], sig, SIG_ROOM);
		if ((rc = take(inc, sig, n, sigs)))
			goto done;
	}
	while ((n = cep_detect_flush(d, sig, SIG_ROOM)) > 0)
		if ((rc = take(inc, sig, n, sigs)))
			goto done;
	while ((k = cep_incidents_collect(inc, got, INC_ROOM)) > 0)
		for (int i = 0; i < k; i++)
			seen_add(incs, got[i]->rule_id, got[i]->key,
				 got[i]->id, got[i]->count, 0);
	rc = k < 0 ? k : 0;
done:
	cep_incidents_destroy(inc);
	cep_detect_destroy(d);
	free(sig);
	return rc;
}

static bool seen_matches(const struct expect *e, const struct seen *s)
{
	return !strcmp(s->rule, e->rule) && (!e->key || !strcmp(s->key, e->key)) &&
	       in_range(&e->count, s->count) &&
	       (e->final < 0 || s->final == e->final);
}

static void describe(const struct expect *e, char *buf, size_t size)
{
	char c[64], t[64];
	int n;

	range_str(&e->times, t, sizeof t);
	n = snprintf(buf, size, "%s %s", e->what == EXP_SIGNAL ? "signal" :
			"incident", e->rule);
	if (e->key && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " key=%s",
			      *e->key ? e->key : "\"\"");
	if (e->count.set && n >= 0 && (size_t)n < size) {
		range_str(&e->count, c, sizeof c);
		n += snprintf(buf + n, size - (size_t)n, " count %s", c);
	}
	if (e->final >= 0 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " final=%s",
			      e->final ? "true" : "false");
	if (n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", times %s", t);
}

/* Checks every expectation; prints why a failed one failed. */
static bool check(const struct cfile *f, const struct tcase *tc,
		  const struct seenv *sigs, const struct seenv *incs,
		  bool verbose, FILE *out)
{
	bool pass = true;

	for (size_t i = 0; i < tc->nex; i++) {
		const struct expect *e = &tc->ex[i];
		const struct seenv *sv = e->what == EXP_SIGNAL ? sigs : incs;
		uint64_t hits = 0;
		char what[512];

		for (size_t j = 0; j < sv->n; j++)
			hits += seen_matches(e, &sv->v[j]);
		if (in_range(&e->times, hits))
			continue;
		pass = false;
		describe(e, what, sizeof what);
		fprintf(out, "      %s:%u: expected %s; found %" PRIu64 "\n", f->path,
		       e->line, what, hits);
		/* What the rule did produce, to show how far off it is. */
		unsigned shown = 0;

		for (size_t j = 0; j < sv->n && shown < SHOW_MAX; j++) {
			const struct seen *s = &sv->v[j];

			if (strcmp(s->rule, e->rule))
				continue;
			fprintf(out, "        got %s %s%s%s key=%s count %" PRIu64 "%s\n",
			       e->what == EXP_SIGNAL ? "signal" : "incident",
			       *s->id ? s->id : "", *s->id ? " " : "", s->rule,
			       *s->key ? s->key : "\"\"", s->count,
			       s->final ? " final" : "");
			shown++;
		}
		if (!shown)
			fprintf(out, "        no %s of rule %s at all\n",
			       e->what == EXP_SIGNAL ? "signal" : "incident",
			       e->rule);
	}
	if (verbose) {
		for (size_t j = 0; j < sigs->n; j++)
			fprintf(out, "      signal   %s key=%s count %" PRIu64 "%s\n",
			       sigs->v[j].rule, sigs->v[j].key,
			       sigs->v[j].count,
			       sigs->v[j].final ? " final" : "");
		for (size_t j = 0; j < incs->n; j++)
			fprintf(out, "      incident %s %s key=%s count %" PRIu64 "\n",
			       incs->v[j].id, incs->v[j].rule, incs->v[j].key,
			       incs->v[j].count);
	}
	return pass;
}

/* --- files and the command ---------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands a directory into its *.yml / *.yaml files, sorted. */
static void collect_paths(const char *arg, char ***paths, size_t *n,
			  size_t *cap)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	size_t first = *n;

	if (stat(arg, &st) || !S_ISDIR(st.st_mode)) {
		GROW(*paths, *n, *cap);
		(*paths)[(*n)++] = xstrdup(arg);
		return;
	}
	dir = opendir(arg);
	if (!dir) {
		GROW(*paths, *n, *cap);
		(*paths)[(*n)++] = xstrdup(arg); /* reported when opened */
		return;
	}
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		char *p;

		if (de->d_name[0] == '.' ||
		    !((len > 4 && !strcmp(de->d_name + len - 4, ".yml")) ||
		      (len > 5 && !strcmp(de->d_name + len - 5, ".yaml"))))
			continue;
		p = xrealloc(NULL, strlen(arg) + len + 2);
		sprintf(p, "%s/%s", arg, de->d_name);
		GROW(*paths, *n, *cap);
		(*paths)[(*n)++] = p;
	}
	closedir(dir);
	qsort(*paths + first, *n - first, sizeof **paths, name_cmp);
}

static const char usage[] =
	"usage: ceptorctl rules test [-v] RULES CASES...\n"
	"  RULES  a rule directory or file, compiled as ceptord would\n"
	"  CASES  case files, or directories of *.yml case files\n"
	"  -v     list every signal and incident of every case\n";

int cep_ctl_rules_test(int argc, char **argv)
{
	struct cep_ruleset *rs = NULL;
	char **paths = NULL;
	size_t npaths = 0, cpaths = 0;
	unsigned ncases = 0, passed = 0, badfiles = 0;
	bool verbose = false;
	const char *rules;
	int a = 0, rc;

	if (a < argc && (!strcmp(argv[a], "-v") || !strcmp(argv[a], "--verbose"))) {
		verbose = true;
		a++;
	}
	if (a < argc && (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc - a < 2) {
		fputs(usage, stderr);
		return 2;
	}
	rules = argv[a++];
	rc = cep_ruleset_compile(&rules, 1, stderr, &rs);
	if (rc) {
		fprintf(stderr, "ceptorctl: rules test: %s: %s\n", rules,
			cep_strerror(rc));
		return 2;
	}
	for (; a < argc; a++)
		collect_paths(argv[a], &paths, &npaths, &cpaths);
	if (!npaths)
		fprintf(stderr, "ceptorctl: rules test: no case files\n");
	for (size_t i = 0; i < npaths; i++) {
		struct cfile f = { .path = paths[i] };

		load_file(&f);
		if (f.nerr) {
			printf("FAIL  %s: %u error%s in the case file\n",
			       f.path, f.nerr, f.nerr == 1 ? "" : "s");
			badfiles++;
		}
		for (size_t c = 0; !f.nerr && c < f.ncases; c++) {
			struct tcase *tc = &f.cases[c];
			struct seenv sigs = { 0 }, incs = { 0 };
			bool pass;

			ncases++;
			rc = run_events(rs, tc, &sigs, &incs);
			if (rc) {
				printf("FAIL  %s:%u: %s: cannot run: %s\n",
				       f.path, tc->line, tc->name,
				       cep_strerror(rc));
				pass = false;
			} else {
				/* The verdict line comes first, the reasons
				 * under it. */
				char *out = NULL;
				size_t olen = 0;
				FILE *mem = open_memstream(&out, &olen);

				pass = check(&f, tc, &sigs, &incs, verbose,
					     mem ? mem : stdout);
				if (mem)
					fclose(mem);
				printf("%s  %s:%u: %s (%zu events, %zu signals, "
				       "%zu incidents)\n", pass ? "PASS" : "FAIL",
				       f.path, tc->line, tc->name, tc->nev,
				       sigs.n, incs.n);
				if (out)
					fputs(out, stdout);
				free(out);
			}
			passed += pass;
			free(sigs.v);
			free(incs.v);
		}
		for (size_t c = 0; c < f.ncases; c++)
			case_fini(&f.cases[c]);
		free(f.cases);
		if (f.doc.nodes.start)
			yaml_document_delete(&f.doc);
		free(paths[i]);
	}
	free(paths);
	cep_ruleset_destroy(rs);
	printf("rules test: %u case%s, %u passed, %u failed", ncases,
	       ncases == 1 ? "" : "s", passed, ncases - passed);
	if (badfiles)
		printf(", %u bad case file%s", badfiles,
		       badfiles == 1 ? "" : "s");
	printf("\n");
	if (fflush(stdout))
		return 1;
	return passed == ncases && !badfiles && npaths ? 0 : 1;
}
