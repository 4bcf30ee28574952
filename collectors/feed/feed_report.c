/*
 * feed_report.c - operator IT-failure reports, JSON (DESIGN.md section 4;
 * the schema is in FORMATS.md).
 *
 * An input holds one report object, or several one after another (JSON
 * Lines, or pretty-printed objects back to back).  Each report is one event
 * of kind report.  Reports may be fragmentary: only what a report says is
 * set.  A report with the report_id of an earlier one updates it: its event
 * carries the earlier reports' fields where it says nothing itself (struct
 * cep_feed_reports).
 *
 * damage_likely: a report may say it; when it does not, it is derived from
 * the trigger, because DESIGN.md counts an attack that was only detected
 * as an incident only where damage is likely: serious_failure,
 * damage_detected and secondary_damage set it, attack_detected (and no
 * trigger) leave it false.
 *
 * Text the event record has no room for (contacts, actions, parties
 * notified, free text, hardware and versions) is checked to be JSON and
 * otherwise stays in the report; the affected software's name becomes the
 * event's name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"
#include "lib/json.h"

/* What a report said, bit by bit, so that an update overrides only that. */
enum {
	R_TS = 1 << 0, R_TYPE = 1 << 1, R_SECTOR = 1 << 2, R_SYSTEM = 1 << 3,
	R_TRIGGER = 1 << 4, R_REPORTER = 1 << 5, R_NAME = 1 << 6,
	R_INDICATOR = 1 << 7, R_SRC = 1 << 8, R_DST = 1 << 9, R_TLP = 1 << 10,
	R_REL = 1 << 11, R_CRED = 1 << 12, R_DAMAGE = 1 << 13,
	R_SPREAD = 1 << 14, R_EXERCISE = 1 << 15, R_RECIPIENTS = 1 << 16,
};

struct report_entry {
	struct cep_event ev;
	uint32_t said;
};

struct cep_feed_reports {
	size_t n, next;
	struct report_entry e[CEP_FEED_REPORTS_MAX];
};

struct cep_feed_reports *cep_feed_reports_create(void)
{
	return calloc(1, sizeof(struct cep_feed_reports));
}

void cep_feed_reports_destroy(struct cep_feed_reports *t)
{
	free(t);
}

static struct report_entry *reports_find(struct cep_feed_reports *t,
					 const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].ev.report_id, id) == 0)
			return &t->e[i];
	return NULL;
}

/* A slot for a new id: the oldest is forgotten when the table is full. */
static struct report_entry *reports_add(struct cep_feed_reports *t)
{
	struct report_entry *e = &t->e[t->next];

	t->next = (t->next + 1) % CEP_FEED_REPORTS_MAX;
	if (t->n < CEP_FEED_REPORTS_MAX)
		t->n++;
	return e;
}

/* ---- one report -------------------------------------------------------- */

struct rd {
	struct cep_event ev;
	uint32_t said;
	const char *why;       /* static reason */
	char field[32];        /* the member it is about */
	const char *at;        /* where in the text, for the line */
};

static int fail(struct rd *r, const char *field,
		const struct cep_json_value *v, const char *why)
{
	snprintf(r->field, sizeof r->field, "%s", field);
	r->why = why;
	r->at = v ? v->p : NULL;
	return -CEP_EMALFORMED;
}

static int str(struct rd *r, const char *field, const struct cep_json_value *v,
	       char *buf, size_t size)
{
	if (v->type != CEP_JSON_STRING)
		return fail(r, field, v, "must be a string");
	int rc = cep_json_unescape(v, buf, size);
	if (rc == -CEP_ETOOLONG)
		return fail(r, field, v, "is longer than its field");
	if (rc < 0)
		return fail(r, field, v, "has a bad escape");
	return 0;
}

static int token(struct rd *r, const char *field,
		 const struct cep_json_value *v, int (*parse)(const char *),
		 uint8_t *out)
{
	char buf[40];
	int rc;

	if ((rc = str(r, field, v, buf, sizeof buf)))
		return rc;
	if ((rc = parse(buf)) < 0)
		return fail(r, field, v, "is not a known token");
	*out = (uint8_t)rc;
	return 0;
}

static int boolean(struct rd *r, const char *field,
		   const struct cep_json_value *v, uint32_t bit)
{
	if (v->type != CEP_JSON_TRUE && v->type != CEP_JSON_FALSE)
		return fail(r, field, v, "must be true or false");
	if (v->type == CEP_JSON_TRUE)
		r->ev.flags |= bit;
	else
		r->ev.flags &= ~bit;
	return 0;
}

static int cause_parse(const char *s)
{
	for (int i = 1; i < CEP_CAUSE_COUNT; i++)
		if (strcmp(s, cep_cause_name(i)) == 0)
			return i;
	return -CEP_EUNKNOWN;
}

static int address(struct rd *r, const char *field,
		   const struct cep_json_value *v, uint8_t ip[16], uint8_t *af)
{
	char buf[CEP_IP_STRLEN];
	int rc;

	if ((rc = str(r, field, v, buf, sizeof buf)))
		return rc;
	if ((rc = cep_ip_parse(buf, ip)) < 0)
		return fail(r, field, v, "is not an IPv4 or IPv6 address");
	*af = (uint8_t)rc;
	return 0;
}

/* Walk a nested object's members; a bad member fails the report. */
static int nested(struct rd *r, const char *field,
		  const struct cep_json_value *v, struct cep_json_reader *jr)
{
	if (v->type != CEP_JSON_OBJECT)
		return fail(r, field, v, "must be a string or an object");
	cep_json_reader_init(jr, v->p, v->len);
	return 0;
}

static int next_member(struct rd *r, const char *field,
		       struct cep_json_reader *jr, struct cep_json_value *k,
		       struct cep_json_value *v)
{
	int rc = cep_json_next(jr, k, v);
	if (rc < 0) {
		snprintf(r->field, sizeof r->field, "%s", field);
		r->why = jr->err;
		r->at = jr->base + jr->err_off;
	}
	return rc;
}

static int reporter(struct rd *r, const struct cep_json_value *v)
{
	struct cep_json_reader jr;
	struct cep_json_value k, m;
	int rc;

	if (v->type == CEP_JSON_STRING) {
		r->said |= R_REPORTER;
		return str(r, "reporter", v, r->ev.reporter, sizeof r->ev.reporter);
	}
	if ((rc = nested(r, "reporter", v, &jr)))
		return rc;
	while ((rc = next_member(r, "reporter", &jr, &k, &m)) > 0) {
		if (cep_json_key_is(&k, "org") ||
		    cep_json_key_is(&k, "organisation") ||
		    cep_json_key_is(&k, "organization")) {
			if ((rc = str(r, "reporter.org", &m, r->ev.reporter,
				      sizeof r->ev.reporter)))
				return rc;
			r->said |= R_REPORTER;
		}
	}
	return rc;
}

static int sys(struct rd *r, struct cep__feed_out *out,
	       const struct cep_json_value *v)
{
	struct cep_json_reader jr;
	struct cep_json_value k, m;
	int rc;

	if (v->type == CEP_JSON_STRING) {
		r->said |= R_SYSTEM;
		return token(r, "system", v, cep_system_parse, &r->ev.system);
	}
	if ((rc = nested(r, "system", v, &jr)))
		return rc;
	while ((rc = next_member(r, "system", &jr, &k, &m)) > 0) {
		if (cep_json_key_is(&k, "class")) {
			if ((rc = token(r, "system.class", &m, cep_system_parse,
					&r->ev.system)))
				return rc;
			r->said |= R_SYSTEM;
		} else if (cep_json_key_is(&k, "software")) {
			char name[128];
			if ((rc = str(r, "system.software", &m, name, sizeof name)))
				return rc;
			cep__feed_set_cut(out, r->ev.name, sizeof r->ev.name, name,
					  strlen(name));
			r->said |= R_NAME;
		}
	}
	return rc;
}

static int cause(struct rd *r, const struct cep_json_value *v)
{
	struct cep_json_reader jr;
	struct cep_json_value k, m, class_v = { 0 };
	uint8_t class = 0;
	int rc;

	if (v->type == CEP_JSON_STRING) {
		r->said |= R_TYPE;
		return token(r, "cause", v, cep_type_parse, &r->ev.type);
	}
	if ((rc = nested(r, "cause", v, &jr)))
		return rc;
	while ((rc = next_member(r, "cause", &jr, &k, &m)) > 0) {
		if (cep_json_key_is(&k, "class")) {
			if ((rc = token(r, "cause.class", &m, cause_parse, &class)))
				return rc;
			class_v = m;
		} else if (cep_json_key_is(&k, "type")) {
			if ((rc = token(r, "cause.type", &m, cep_type_parse,
					&r->ev.type)))
				return rc;
			r->said |= R_TYPE;
		}
	}
	if (rc < 0)
		return rc;
	if (class && r->ev.type && cep_type_cause(r->ev.type) != class)
		return fail(r, "cause.class", &class_v,
			    "does not match cause.type");
	return 0;
}

static int member(struct rd *r, struct cep__feed_out *out,
		  const struct cep_json_value *k, const struct cep_json_value *v)
{
	char buf[64];
	int rc;

#define KEY(s) cep_json_key_is(k, s)
	if (KEY("report_id")) {
		return str(r, "report_id", v, r->ev.report_id,
			   sizeof r->ev.report_id);
	} else if (KEY("ts") || KEY("reported_at") || KEY("time")) {
		if ((rc = str(r, "ts", v, buf, sizeof buf)))
			return rc;
		if (cep__feed_time(buf, strlen(buf), &r->ev.ts))
			return fail(r, "ts", v, "is not an RFC 3339 time");
		r->said |= R_TS;
	} else if (KEY("reporter")) {
		return reporter(r, v);
	} else if (KEY("sector")) {
		/* "unknown" parses to 0, which is what unset means. */
		if ((rc = token(r, "sector", v, cep_sector_parse, &r->ev.sector)))
			return rc;
		r->said |= R_SECTOR;
	} else if (KEY("system")) {
		return sys(r, out, v);
	} else if (KEY("cause")) {
		return cause(r, v);
	} else if (KEY("type")) {
		r->said |= R_TYPE;
		return token(r, "type", v, cep_type_parse, &r->ev.type);
	} else if (KEY("trigger")) {
		r->said |= R_TRIGGER;
		return token(r, "trigger", v, cep_trigger_parse, &r->ev.trigger);
	} else if (KEY("damage_likely")) {
		r->said |= R_DAMAGE;
		return boolean(r, "damage_likely", v, CEP_EV_DAMAGE_LIKELY);
	} else if (KEY("may_spread")) {
		r->said |= R_SPREAD;
		return boolean(r, "may_spread", v, CEP_EV_MAY_SPREAD);
	} else if (KEY("exercise")) {
		r->said |= R_EXERCISE;
		return boolean(r, "exercise", v, CEP_EV_EXERCISE);
	} else if (KEY("src_ip")) {
		r->said |= R_SRC;
		return address(r, "src_ip", v, r->ev.src_ip, &r->ev.src_af);
	} else if (KEY("dst_ip")) {
		r->said |= R_DST;
		return address(r, "dst_ip", v, r->ev.dst_ip, &r->ev.dst_af);
	} else if (KEY("indicator")) {
		r->said |= R_INDICATOR;
		return str(r, "indicator", v, r->ev.indicator,
			   sizeof r->ev.indicator);
	} else if (KEY("tlp")) {
		r->said |= R_TLP;
		return token(r, "tlp", v, cep_tlp_parse, &r->ev.tlp);
	} else if (KEY("recipients")) {
		uint32_t set;
		if (cep_event_parse_sectors(v, &set))
			return fail(r, "recipients", v,
				    "must be a list of sector tokens");
		cep_event_set_recipients(&r->ev, set);
		r->said |= R_RECIPIENTS;
	} else if (KEY("reliability")) {
		r->said |= R_REL;
		return token(r, "reliability", v, cep_reliability_parse,
			     &r->ev.reliability);
	} else if (KEY("credibility")) {
		r->said |= R_CRED;
		return token(r, "credibility", v, cep_credibility_parse,
			     &r->ev.credibility);
	}
#undef KEY
	/* actions, notified, text, contacts and anything newer: kept in the
	 * report, not in the event. */
	return 0;
}

/* Copy the fields @said from @from into @to. */
static void overlay(struct cep_event *to, const struct cep_event *from,
		    uint32_t said)
{
	if (said & R_TS) to->ts = from->ts;
	if (said & R_TYPE) to->type = from->type;
	if (said & R_SECTOR) to->sector = from->sector;
	if (said & R_SYSTEM) to->system = from->system;
	if (said & R_TRIGGER) to->trigger = from->trigger;
	if (said & R_REPORTER)
		memcpy(to->reporter, from->reporter, sizeof to->reporter);
	if (said & R_NAME) memcpy(to->name, from->name, sizeof to->name);
	if (said & R_INDICATOR)
		memcpy(to->indicator, from->indicator, sizeof to->indicator);
	if (said & R_SRC) {
		memcpy(to->src_ip, from->src_ip, 16);
		to->src_af = from->src_af;
	}
	if (said & R_DST) {
		memcpy(to->dst_ip, from->dst_ip, 16);
		to->dst_af = from->dst_af;
	}
	if (said & R_TLP) to->tlp = from->tlp;
	if (said & R_REL) to->reliability = from->reliability;
	if (said & R_CRED) to->credibility = from->credibility;
	static const struct { uint32_t said, bit; } flags[] = {
		{ R_DAMAGE, CEP_EV_DAMAGE_LIKELY },
		{ R_SPREAD, CEP_EV_MAY_SPREAD },
		{ R_EXERCISE, CEP_EV_EXERCISE },
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (said & flags[i].said)
			to->flags = (to->flags & ~flags[i].bit) |
				    (from->flags & flags[i].bit);
	if (said & R_RECIPIENTS)
		cep_event_set_recipients(to, cep_event_recipients(from));
}

static uint64_t line_of(const char *base, const char *at, uint64_t first)
{
	uint64_t line = first;

	for (const char *p = base; p < at; p++)
		line += *p == '\n';
	return line;
}

static int report(struct cep__feed_out *out, struct cep_feed_reports *t,
		  const char *text, size_t len, uint64_t line)
{
	struct cep_json_reader jr;
	struct cep_json_value k, v;
	struct rd r;
	int rc;

	memset(&r, 0, sizeof r);
	cep_json_reader_init(&jr, text, len);
	while ((rc = cep_json_next(&jr, &k, &v)) > 0)
		if ((rc = member(&r, out, &k, &v)))
			break;
	if (rc < 0) {
		if (!r.why) /* the top-level reader failed */
			cep__feed_bad(out, line_of(text, jr.base + jr.err_off, line),
				      "report: %s", jr.err);
		else if (r.at)
			cep__feed_bad(out, line_of(text, r.at, line),
				      "field \"%s\" %s", r.field, r.why);
		else
			cep__feed_bad(out, line, "field \"%s\" %s", r.field,
				      r.why);
		return 0;
	}

	struct cep_event *ev = cep_batch_slot(&out->batch);
	uint32_t said = r.said;
	struct report_entry *e = NULL;
	if (r.ev.report_id[0] && (e = reports_find(t, r.ev.report_id))) {
		*ev = e->ev;
		said |= e->said;
	}
	overlay(ev, &r.ev, r.said);
	memcpy(ev->report_id, r.ev.report_id, sizeof ev->report_id);
	ev->kind = CEP_KIND_REPORT;
	if (!(said & R_TS)) {
		cep__feed_bad(out, line, "report has no time (\"ts\")");
		return 0;
	}
	if (!(said & R_DAMAGE)) {
		ev->flags &= ~CEP_EV_DAMAGE_LIKELY;
		if (ev->trigger == CEP_TRIGGER_SERIOUS_FAILURE ||
		    ev->trigger == CEP_TRIGGER_DAMAGE_DETECTED ||
		    ev->trigger == CEP_TRIGGER_SECONDARY_DAMAGE)
			ev->flags |= CEP_EV_DAMAGE_LIKELY;
	}
	if (ev->report_id[0]) {
		if (!e)
			e = reports_add(t);
		e->ev = *ev;
		e->said = said;
	}
	return cep__feed_emit(out);
}

static int parse_text(struct cep__feed_out *out, struct cep_feed_reports *t,
		      struct cep_feed_stats *st, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	uint64_t line = 1;
	int rc;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
				   *p == '\n')) {
			line += *p == '\n';
			p++;
		}
		if (p >= end)
			return 0;
		st->read++;
		if (*p != '{') {
			cep__feed_bad(out, line, "a report must be a JSON object");
			while (p < end && *p != '\n')
				p++; /* go on at the next line */
			continue;
		}
		const char *q = cep_json_object_end(p, end);
		if (!q) {
			cep__feed_bad(out, line, "report object is not closed");
			return 0;
		}
		if ((rc = report(out, t, p, (size_t)(q - p), line)))
			return rc;
		line = line_of(p, q, line);
		p = q;
	}
}

int cep__feed_parse_report(struct cep__feed_in *in, struct cep__feed_out *out,
			   const struct cep_feed_opts *opts)
{
	struct cep_feed_reports *t = opts->reports, *own = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *line;
	size_t n;
	int rc;

	if (!t && !(t = own = cep_feed_reports_create()))
		return -ENOMEM;
	/* Reports are small and may span lines: gather the whole input,
	 * keeping its line breaks so that errors name the right line. */
	while ((rc = cep__feed_line(in, &line, &n)) > 0) {
		if (len + n + 1 > CEP_FEED_REPORT_INPUT_MAX) {
			fprintf(out->diag, "%s: larger than %d bytes; not a "
				"report file\n", in->name,
				CEP_FEED_REPORT_INPUT_MAX);
			rc = -CEP_EMALFORMED;
			goto out;
		}
		if (len + n + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			while (ncap < len + n + 1)
				ncap *= 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		memcpy(buf + len, line, n);
		len += n;
		buf[len++] = '\n';
	}
	if (rc < 0) {
		fprintf(out->diag, "%s:%llu: read error\n", in->name,
			(unsigned long long)in->lineno);
		goto out;
	}
	rc = parse_text(out, t, in->st, buf ? buf : "", len);
out:
	free(buf);
	cep_feed_reports_destroy(own);
	return rc;
}
