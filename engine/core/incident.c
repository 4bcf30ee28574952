/*
 * incident.c - joining signals into incidents, scoring and numbering them
 * (include/ceptor/incident.h).
 *
 * The table is a plain open-addressing hash (linear probing, power-of-two
 * size, load factor at most 1/2) over an array of incidents owned by the
 * core thread.  It is never shared, so it needs no RCU or locks; the
 * incidents are allocated in chunks that never move, so handed-out pointers
 * stay valid while the table grows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "core/match.h"
#include "lib/json.h"
#include "lib/log.h"

/* ---- the model's weights (README, "How confidence and priority are
 * computed") ----------------------------------------------------------- */

/* Admiralty reliability A..F; F ("cannot be judged") sits at an even
 * chance, above "usually not reliable" (D) and "unreliable" (E). */
static const double rel_weight[CEP_REL_COUNT] = {
	0.5, 1.0, 0.8, 0.6, 0.4, 0.2, 0.5,
};
/* Credibility 1 (confirmed) .. 6 (cannot be judged). */
static const double cred_weight[CEP_CRED_MAX + 1] = {
	0.5, 0.95, 0.8, 0.6, 0.4, 0.2, 0.5,
};
static const double severity_weight[CEP_LEVEL_COUNT] = {
	0.1, 0.1, 0.25, 0.5, 0.75, 1.0,
};
/* Sector criticality and blast radius until rules/sectors.yml and the
 * interdependency graph replace them: electricity and telecom feed almost
 * everything, so their outages spread furthest. */
static const double crit_weight[CEP_SECTOR_COUNT] = {
	[CEP_SECTOR_UNKNOWN] = 0.5, [CEP_SECTOR_TELECOM] = 1.0,
	[CEP_SECTOR_FINANCE] = 0.9, [CEP_SECTOR_AVIATION] = 0.8,
	[CEP_SECTOR_RAIL] = 0.7, [CEP_SECTOR_ELECTRICITY] = 1.0,
	[CEP_SECTOR_GAS] = 0.8, [CEP_SECTOR_GOVERNMENT] = 0.7,
	[CEP_SECTOR_MEDICAL] = 0.9, [CEP_SECTOR_WATER] = 0.9,
	[CEP_SECTOR_LOGISTICS] = 0.6,
};
static const double blast_weight[CEP_SECTOR_COUNT] = {
	[CEP_SECTOR_UNKNOWN] = 0.5, [CEP_SECTOR_TELECOM] = 1.0,
	[CEP_SECTOR_FINANCE] = 0.8, [CEP_SECTOR_AVIATION] = 0.6,
	[CEP_SECTOR_RAIL] = 0.6, [CEP_SECTOR_ELECTRICITY] = 1.0,
	[CEP_SECTOR_GAS] = 0.7, [CEP_SECTOR_GOVERNMENT] = 0.6,
	[CEP_SECTOR_MEDICAL] = 0.6, [CEP_SECTOR_WATER] = 0.7,
	[CEP_SECTOR_LOGISTICS] = 0.5,
};
static const double priority_floor[4] = { 0.5, 0.3, 0.15, 0.05 };

int cep_incident_priority_of(double score)
{
	for (int i = 0; i < 4; i++)
		if (score >= priority_floor[i])
			return i + 1;
	return 5;
}

const char *cep_incident_status_name(int status)
{
	switch (status) {
	case CEP_INCIDENT_OPEN: return "open";
	case CEP_INCIDENT_UPDATED: return "updated";
	case CEP_INCIDENT_CLOSED: return "closed";
	default: return "?";
	}
}

/* ---- the table -------------------------------------------------------- */

#define CHUNK 1024 /* incidents per allocation; they never move */

/* Ids are numbered per (year, class): the year is part of the id, so a
 * late event from an earlier year continues that year's numbers and can
 * never repeat an id. */
struct year_counters {
	int year;
	uint32_t next[5];  /* next number per class */
};

struct cep_incidents {
	struct cep_incident **chunks;
	size_t nchunks;
	size_t count;
	uint32_t *slots;  /* 0 empty, else index + 1 */
	size_t nslots;    /* power of two */
	size_t *dirty;    /* indices of dirty incidents, each once */
	size_t ndirty, dirty_cap;
	char *state_path;
	struct year_counters *years; /* one entry per year seen */
	size_t nyears;
	bool counters_dirty;
};

static struct cep_incident *at(const struct cep_incidents *t, size_t i)
{
	return &t->chunks[i / CHUNK][i % CHUNK];
}

/* Signals of one incident share rule id and key; the key's hash is seeded
 * with the rule id's, the same hash the windows use. */
static uint64_t hash_of(const char *rule_id, const char *key)
{
	return cep__hash_bytes(key, strlen(key),
			       cep__hash_bytes(rule_id, strlen(rule_id), 0));
}

static struct year_counters *year_find(struct cep_incidents *t, int year,
				       bool add)
{
	for (size_t i = 0; i < t->nyears; i++)
		if (t->years[i].year == year)
			return &t->years[i];
	if (!add)
		return NULL;
	struct year_counters *y = realloc(t->years, (t->nyears + 1) * sizeof *y);
	if (!y)
		return NULL;
	t->years = y;
	y = &t->years[t->nyears++];
	y->year = year;
	for (int i = 0; i < 5; i++)
		y->next[i] = 1;
	return y;
}

/* The state file: a header line, then "YEAR N1 N2 N3 N4 N5" per year. */
static int load_state(struct cep_incidents *t)
{
	FILE *f = fopen(t->state_path, "r");
	int rc = 0, year;
	uint32_t n[5];

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fscanf(f, "ceptor-incident-ids %d", &year) != 1 || year != 2)
		rc = -CEP_EMALFORMED;
	while (!rc) {
		int got = fscanf(f, "%d %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32
				 " %" SCNu32, &year, &n[0], &n[1], &n[2], &n[3], &n[4]);
		if (got == EOF)
			break;
		struct year_counters *y = got == 6 ? year_find(t, year, true) : NULL;
		if (!y) {
			rc = got == 6 ? -ENOMEM : -CEP_EMALFORMED;
			break;
		}
		memcpy(y->next, n, sizeof n);
	}
	fclose(f);
	if (rc == -CEP_EMALFORMED)
		cep_error("%s: not an incident id state file; move it away to "
			  "start numbering afresh", t->state_path);
	return rc;
}

/* Write to a temporary file, fsync, rename: a crash leaves the old or the
 * new counters, never a torn file. */
static int save_state(struct cep_incidents *t)
{
	char tmp[4096];
	int fd, rc = 0;

	if (!t->state_path || !t->counters_dirty)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", t->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	fprintf(f, "ceptor-incident-ids 2\n");
	for (size_t i = 0; i < t->nyears; i++) {
		const struct year_counters *y = &t->years[i];
		fprintf(f, "%d %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
			" %" PRIu32 "\n", y->year, y->next[0], y->next[1],
			y->next[2], y->next[3], y->next[4]);
	}
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = -errno;
	fclose(f);
	if (!rc && rename(tmp, t->state_path) != 0)
		rc = -errno;
	if (!rc)
		t->counters_dirty = false;
	return rc;
}

int cep_incidents_create(const struct cep_incidents_config *cfg,
			 struct cep_incidents **out)
{
	struct cep_incidents *t = calloc(1, sizeof *t);
	int rc = -ENOMEM;

	if (!t)
		return -ENOMEM;
	t->nslots = 1024;
	if (!(t->slots = calloc(t->nslots, sizeof *t->slots)))
		goto fail;
	if (cfg && cfg->state_path) {
		if (!(t->state_path = strdup(cfg->state_path)))
			goto fail;
		if ((rc = load_state(t)))
			goto fail;
	}
	*out = t;
	return 0;
fail:
	cep_incidents_destroy(t);
	return rc;
}

void cep_incidents_destroy(struct cep_incidents *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	free(t->dirty);
	free(t->years);
	free(t->state_path);
	free(t);
}

size_t cep_incidents_count(const struct cep_incidents *t)
{
	return t->count;
}

static int grow_slots(struct cep_incidents *t)
{
	size_t n = t->nslots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->count; i++) {
		struct cep_incident *inc = at(t, i);
		size_t h = hash_of(inc->rule_id, inc->key) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = (uint32_t)(i + 1);
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

static int mark_dirty(struct cep_incidents *t, size_t idx)
{
	struct cep_incident *inc = at(t, idx);
	if (inc->dirty)
		return 0;
	if (t->ndirty == t->dirty_cap) {
		size_t cap = t->dirty_cap ? t->dirty_cap * 2 : 256;
		size_t *d = realloc(t->dirty, cap * sizeof *d);
		if (!d)
			return -ENOMEM;
		t->dirty = d;
		t->dirty_cap = cap;
	}
	t->dirty[t->ndirty++] = idx;
	inc->dirty = true;
	return 0;
}

static double source_weight(const struct cep_incident_source *s)
{
	int r = s->reliability < CEP_REL_COUNT ? s->reliability : 0;
	int c = s->credibility <= CEP_CRED_MAX ? s->credibility : 0;
	return rel_weight[r] * cred_weight[c];
}

static void rescore(struct cep_incident *inc)
{
	double miss = 1.0;
	for (uint32_t i = 0; i < inc->nsources; i++)
		miss *= 1.0 - source_weight(&inc->sources[i]);
	inc->confidence = 1.0 - miss;
	int sev = inc->severity < CEP_LEVEL_COUNT ? inc->severity : 0;
	int sec = inc->sector < CEP_SECTOR_COUNT ? inc->sector : 0;
	inc->score = severity_weight[sev] * inc->confidence * crit_weight[sec] *
		     blast_weight[sec];
	inc->priority = (uint8_t)cep_incident_priority_of(inc->score);
}

/* Join the signal's source: a source already present keeps the better of
 * its grades and never counts twice. */
static void add_source(struct cep_incident *inc, const struct cep_event *ev)
{
	for (uint32_t i = 0; i < inc->nsources; i++) {
		struct cep_incident_source *s = &inc->sources[i];
		if (strcmp(s->name, ev->source) != 0)
			continue;
		s->signals++;
		if (ev->reliability && (!s->reliability || ev->reliability < s->reliability))
			s->reliability = ev->reliability;
		if (ev->credibility && (!s->credibility || ev->credibility < s->credibility))
			s->credibility = ev->credibility;
		return;
	}
	if (inc->nsources == CEP_INCIDENT_MAX_SOURCES)
		return; /* the confidence is saturated long before this */
	struct cep_incident_source *s = &inc->sources[inc->nsources++];
	memcpy(s->name, ev->source, sizeof s->name);
	s->reliability = ev->reliability;
	s->credibility = ev->credibility;
	s->signals = 1;
}

static int year_of(uint64_t ts)
{
	time_t sec = (time_t)(ts / 1000000000u);
	struct tm tm;
	gmtime_r(&sec, &tm);
	return tm.tm_year + 1900;
}

static int assign_id(struct cep_incidents *t, struct cep_incident *inc)
{
	int year = year_of(inc->first_seen);
	struct year_counters *y = year_find(t, year, true);
	if (!y)
		return -ENOMEM;
	uint32_t n = y->next[inc->priority - 1]++;
	t->counters_dirty = true;
	snprintf(inc->id, sizeof inc->id, "P%u-%04d-%06" PRIu32,
		 (unsigned)inc->priority, year, n);
	return 0;
}

/* A detection rule without group-by leaves the key empty; its entity is
 * then the event's source address (or its indicator, or its source), so
 * that hits about different hosts stay different incidents. */
static void entity_key(const struct cep_signal *s, char key[CEP_SIGNAL_KEY_MAX])
{
	char ip[CEP_IP_STRLEN];

	if (s->key[0])
		memcpy(key, s->key, CEP_SIGNAL_KEY_MAX);
	else if (s->ev.src_af)
		snprintf(key, CEP_SIGNAL_KEY_MAX, "src_ip=%s",
			 cep_ip_format(s->ev.src_af, s->ev.src_ip, ip));
	else if (s->ev.indicator[0])
		snprintf(key, CEP_SIGNAL_KEY_MAX, "indicator=%s", s->ev.indicator);
	else if (s->ev.report_id[0])
		/* An operator report with no address: the report is the entity
		 * (its updates join it; other operators' reports stay apart). */
		snprintf(key, CEP_SIGNAL_KEY_MAX, "report_id=%s", s->ev.report_id);
	else
		snprintf(key, CEP_SIGNAL_KEY_MAX, "source=%s", s->ev.source);
}

int cep_incidents_signal(struct cep_incidents *t, const struct cep_signal *s)
{
	char key[CEP_SIGNAL_KEY_MAX];
	entity_key(s, key);
	uint64_t h = hash_of(s->rule_id, key);
	size_t slot = h & (t->nslots - 1);
	struct cep_incident *inc = NULL;
	size_t idx = 0;

	while (t->slots[slot]) {
		idx = t->slots[slot] - 1;
		struct cep_incident *c = at(t, idx);
		if (strcmp(c->rule_id, s->rule_id) == 0 && strcmp(c->key, key) == 0) {
			inc = c;
			break;
		}
		slot = (slot + 1) & (t->nslots - 1);
	}
	/* alert_clear: the condition went away.  The incident it raised is
	 * closed (and republished); a clear with no incident says nothing. */
	if (s->kind == CEP_SIGNAL_CLEAR) {
		if (!inc)
			return 0;
		inc->status = CEP_INCIDENT_CLOSED;
		if (s->last_ts > inc->last_seen)
			inc->last_seen = s->last_ts;
		return mark_dirty(t, idx);
	}
	if (!inc) {
		if ((t->count + 1) * 2 > t->nslots) {
			if (grow_slots(t))
				return -ENOMEM;
			return cep_incidents_signal(t, s);
		}
		if (t->count == t->nchunks * CHUNK) {
			struct cep_incident **c =
				realloc(t->chunks, (t->nchunks + 1) * sizeof *c);
			if (!c)
				return -ENOMEM;
			t->chunks = c;
			if (!(c[t->nchunks] = calloc(CHUNK, sizeof **c)))
				return -ENOMEM;
			t->nchunks++;
		}
		idx = t->count++;
		inc = at(t, idx);
		memset(inc, 0, sizeof *inc);
		memcpy(inc->rule_id, s->rule_id, sizeof inc->rule_id);
		memcpy(inc->title, s->title, sizeof inc->title);
		memcpy(inc->key, key, sizeof inc->key);
		inc->status = CEP_INCIDENT_OPEN;
		inc->first_seen = s->first_ts;
		inc->sector = s->ev.sector;
		inc->type = s->type ? s->type : s->ev.type;
		inc->entity_af = s->ev.src_af;
		memcpy(inc->entity_ip, s->ev.src_ip, sizeof inc->entity_ip);
		inc->exercise = (s->ev.flags & CEP_EV_EXERCISE) != 0;
		t->slots[slot] = (uint32_t)(idx + 1);
	} else if (inc->version > 0) {
		inc->status = CEP_INCIDENT_UPDATED;
	}
	if (s->first_ts < inc->first_seen)
		inc->first_seen = s->first_ts;
	if (s->last_ts > inc->last_seen)
		inc->last_seen = s->last_ts;
	if (s->count > inc->count)
		inc->count = s->count;
	if (s->level > inc->severity)
		inc->severity = s->level;
	if (s->ev.tlp > inc->tlp)
		inc->tlp = s->ev.tlp; /* strictest marking wins */
	/* A window's final signal updates its count; it is not new evidence,
	 * unless it is all there is (a condition with only upper bounds, such
	 * as `lt: 5`, can only be judged when its window closes). */
	if (!s->final || inc->evidence == 0) {
		inc->evidence++;
		add_source(inc, &s->ev);
	}
	rescore(inc);
	return mark_dirty(t, idx);
}

int cep_incidents_collect(struct cep_incidents *t, struct cep_incident **out,
			  size_t max)
{
	size_t n = t->ndirty < max ? t->ndirty : max;
	int rc;

	/* Numbers are given out here, at first publication, so that the
	 * class in the id is the one the first reader sees. */
	for (size_t i = 0; i < n; i++) {
		struct cep_incident *inc = at(t, t->dirty[i]);
		if (!inc->id[0] && (rc = assign_id(t, inc)))
			return rc;
	}
	if ((rc = save_state(t)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct cep_incident *inc = at(t, t->dirty[i]);
		inc->dirty = false;
		inc->version++;
		out[i] = inc;
	}
	if (n) {
		memmove(t->dirty, t->dirty + n, (t->ndirty - n) * sizeof *t->dirty);
		t->ndirty -= n;
	}
	return (int)n;
}

/* ---- sharing ------------------------------------------------------------ */

static const char *prefix_of(const struct cep_incident *inc)
{
	return inc->exercise ? "ceptor-exercise" : "ceptor";
}

void cep_incident_stream(const struct cep_incident *inc, char *buf,
			 size_t size)
{
	snprintf(buf, size, "%s:{%s}:incidents", prefix_of(inc),
		 cep_sector_name(inc->sector));
}

void cep_incident_council_stream(const struct cep_incident *inc, char *buf,
				 size_t size)
{
	snprintf(buf, size, "%s:{council}:incidents", prefix_of(inc));
}

int cep_incident_to_json(const struct cep_incident *inc, const char *site,
			 const char *stream, char *buf, size_t size)
{
	struct cep_jw w;
	char tmp[CEP_TIME_STRLEN > CEP_IP_STRLEN ? CEP_TIME_STRLEN : CEP_IP_STRLEN];
	char prio[4];

	prio[0] = 'P';
	prio[1] = (char)('0' + inc->priority % 10);
	prio[2] = '\0';
	cep_jw_init(&w, buf, size);
	cep_jw_begin(&w);
	if (stream)
		cep_jw_str(&w, "stream", stream);
	cep_jw_str(&w, "id", inc->id);
	cep_jw_u64(&w, "version", inc->version);
	cep_jw_str(&w, "status", cep_incident_status_name(inc->status));
	cep_jw_str(&w, "priority", prio);
	cep_jw_double(&w, "score", inc->score, 4);
	cep_jw_double(&w, "confidence", inc->confidence, 3);
	cep_jw_str(&w, "severity", cep_level_name(inc->severity));
	cep_jw_str(&w, "sector", cep_sector_name(inc->sector));
	cep_jw_str(&w, "type", cep_type_name(inc->type));
	cep_jw_str(&w, "cause", cep_cause_name(cep_type_cause(inc->type)));
	cep_jw_str(&w, "title", inc->title);
	cep_jw_str(&w, "rule", inc->rule_id);
	cep_jw_str(&w, "key", inc->key);
	if (inc->entity_af)
		cep_jw_str(&w, "entity", cep_ip_format(inc->entity_af, inc->entity_ip, tmp));
	cep_jw_u64(&w, "count", inc->count);
	cep_jw_str(&w, "tlp", cep_tlp_name(inc->tlp));
	cep_jw_str(&w, "first_seen", cep_time_format(inc->first_seen, tmp));
	cep_jw_str(&w, "last_seen", cep_time_format(inc->last_seen, tmp));
	cep_jw_u64(&w, "evidence", inc->evidence);
	cep_jw_open(&w, "sources", '[');
	for (uint32_t i = 0; i < inc->nsources; i++) {
		const struct cep_incident_source *s = &inc->sources[i];
		cep_jw_open(&w, NULL, '{');
		cep_jw_str(&w, "name", s->name);
		cep_jw_str(&w, "reliability", cep_reliability_name(s->reliability));
		cep_jw_str(&w, "credibility", cep_credibility_name(s->credibility));
		cep_jw_u64(&w, "signals", s->signals);
		cep_jw_double(&w, "weight", source_weight(s), 3);
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	if (site)
		cep_jw_str(&w, "site", site);
	if (inc->exercise)
		cep_jw_bool(&w, "exercise", true);
	return cep_jw_end(&w);
}

size_t cep_incident_fields(const struct cep_incident *inc, const char *json,
			   struct cep_incident_fieldbuf *fb,
			   const char *fv[2 * CEP_INCIDENT_FIELDS])
{
	size_t n = 0;

	snprintf(fb->version, sizeof fb->version, "%" PRIu32, inc->version);
	fb->priority[0] = 'P';
	fb->priority[1] = (char)('0' + inc->priority % 10);
	fb->priority[2] = '\0';
	snprintf(fb->confidence, sizeof fb->confidence, "%.3f", inc->confidence);
	cep_time_format(inc->first_seen, fb->first_seen);
	cep_time_format(inc->last_seen, fb->last_seen);
	snprintf(fb->sources, sizeof fb->sources, "%" PRIu32, inc->nsources);
	snprintf(fb->evidence, sizeof fb->evidence, "%" PRIu64, inc->evidence);
#define FIELD(k, v) (fv[n++] = (k), fv[n++] = (v))
	FIELD("id", inc->id);
	FIELD("version", fb->version);
	FIELD("status", cep_incident_status_name(inc->status));
	FIELD("priority", fb->priority);
	FIELD("confidence", fb->confidence);
	FIELD("severity", cep_level_name(inc->severity));
	FIELD("sector", cep_sector_name(inc->sector));
	FIELD("title", inc->title);
	FIELD("tlp", cep_tlp_name(inc->tlp));
	FIELD("first_seen", fb->first_seen);
	FIELD("last_seen", fb->last_seen);
	FIELD("sources", fb->sources);
	FIELD("evidence", fb->evidence);
	FIELD("json", json);
#undef FIELD
	return n;
}
