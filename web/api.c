/*
 * api.c - the JSON documents of ceptor-web (api.h has the contract).
 *
 * Reading incidents, in one Redis round trip:
 *
 *   XREVRANGE ceptor:{unknown}:incidents + - COUNT 2000   \
 *   XREVRANGE ceptor:{telecom}:incidents + - COUNT 2000    > pipelined
 *   ...                                                   /
 *   -> one struct msg per entry, pointing into the replies (no copies)
 *   -> sort by (id, version desc), keep the first of each id
 *   -> drop closed ones; parse the survivors' `json` (score, type, impact)
 *   -> rank, write the document, remember it for CEP_WEBAPI_CACHE_MS
 *
 * The same incident sits in several streams (its sector's and each
 * predicted sector's); the dedup by id folds them together.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "core/sectors.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/json.h"
#include "web/api.h"

#define STATUS_MAX (4u << 20) /* larger than any status document */
#define JSON_TYPE "application/json; charset=utf-8"

/* One stream entry: its flat fields, borrowed from the reply. */
struct msg {
	const char *id, *status, *priority, *confidence, *severity, *sector;
	const char *title, *tlp, *first_seen, *last_seen, *sources, *evidence;
	const char *json;
	size_t json_len;
	long long version;
};

struct impact {
	int sector;
	int via;          /* the sector before it on its path */
	double strength;
	uint32_t delay_s;
	char expected_at[40];
};

/* An open incident as listed: its latest message and what its document
 * adds. */
struct row {
	const struct msg *m;
	int pclass;
	double conf, score;
	uint64_t last_ts;
	char type[32];
	int nimpact;
	struct impact impact[CEP_SECTORS_MAX];
};

/* The last incidents read, shared by /api/incidents and /api/graph. */
struct snapshot {
	uint64_t at_ms;            /* monotonic; 0: never read */
	int status;                /* 200, or 503 with error */
	char error[640];
	char *json;                /* the /api/incidents document */
	size_t len;
	unsigned hit[CEP_SECTOR_COUNT];       /* open incidents in each */
	unsigned predicted[CEP_SECTOR_COUNT]; /* open incidents predicting */
	/* path[u] has bit v when a prediction's path takes the edge u -> v */
	uint32_t path[CEP_SECTOR_COUNT];
};

struct cep_webapi {
	struct cep_redis_url url;
	char redis_name[280];
	redisContext *rc;
	const char *spool;
	const struct cep_sectors *graph;
	struct snapshot snap;
};

/* --- JSON helpers -------------------------------------------------------- */

/*
 * Write a document with @fn into a new buffer, growing it until it fits.
 * Returns the buffer (the caller frees it) and its length, or NULL.
 */
typedef void (*write_fn)(struct cep_jw *w, const void *ctx);

static char *render(write_fn fn, const void *ctx, size_t *len)
{
	for (size_t cap = 16384; cap <= (64u << 20); cap *= 2) {
		struct cep_jw w;
		char *buf = malloc(cap);
		int n;

		if (!buf)
			return NULL;
		cep_jw_init(&w, buf, cap);
		fn(&w, ctx);
		n = cep_jw_end(&w);
		if (n >= 0) {
			*len = (size_t)n;
			return buf;
		}
		free(buf);
	}
	return NULL;
}

struct error_ctx {
	const char *error;
};

static void write_error(struct cep_jw *w, const void *ctx)
{
	const struct error_ctx *e = ctx;

	cep_jw_begin(w);
	cep_jw_str(w, "error", e->error);
}

/* Answer @status with {"error": @error}. */
static void respond_error(struct cep_http_response *res, int status,
			  const char *error)
{
	struct error_ctx e = { error };

	res->owned = render(write_error, &e, &res->len);
	res->body = res->owned;
	res->status = res->owned ? status : 500;
	res->content_type = JSON_TYPE;
}


/* --- incidents: reading ------------------------------------------------- */

int cep_webapi_create(const char *redis_url, const char *spool,
		      const struct cep_sectors *graph,
		      struct cep_webapi **out, char *err, size_t errsize)
{
	struct cep_webapi *a;

	*out = NULL;
	a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errsize, "out of memory");
		return -ENOMEM;
	}
	if (cep_redis_url_parse(redis_url, &a->url, err, errsize)) {
		free(a);
		return -CEP_ECONFIG;
	}
	snprintf(a->redis_name, sizeof a->redis_name,
		 strchr(a->url.host, ':') ? "[%s]:%d" : "%s:%d", a->url.host,
		 a->url.port);
	a->spool = spool;
	a->graph = graph;
	*out = a;
	return 0;
}

const char *cep_webapi_redis_name(const struct cep_webapi *a)
{
	return a->redis_name;
}

void cep_webapi_destroy(struct cep_webapi *a)
{
	if (!a)
		return;
	if (a->rc)
		redisFree(a->rc);
	free(a->snap.json);
	free(a);
}

/* "P1" -> 1, "2" -> 2, anything else sorts last. */
static int priority_class(const char *p)
{
	if (!p)
		return 99;
	if (*p == 'P' || *p == 'p')
		p++;
	if (*p < '0' || *p > '9')
		return 99;
	return (int)strtol(p, NULL, 10);
}

/* Take the flat fields of one stream entry; 0, or -1 when it has no id
 * (not an incident message). */
static int msg_from_fields(struct msg *m, const redisReply *f)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		const redisReply *k = f->element[i], *v = f->element[i + 1];
		static const struct {
			const char *name;
			size_t off;
		} fields[] = {
			{ "id", offsetof(struct msg, id) },
			{ "status", offsetof(struct msg, status) },
			{ "priority", offsetof(struct msg, priority) },
			{ "confidence", offsetof(struct msg, confidence) },
			{ "severity", offsetof(struct msg, severity) },
			{ "sector", offsetof(struct msg, sector) },
			{ "title", offsetof(struct msg, title) },
			{ "tlp", offsetof(struct msg, tlp) },
			{ "first_seen", offsetof(struct msg, first_seen) },
			{ "last_seen", offsetof(struct msg, last_seen) },
			{ "sources", offsetof(struct msg, sources) },
			{ "evidence", offsetof(struct msg, evidence) },
			{ "json", offsetof(struct msg, json) },
		};

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, "version")) {
			m->version = strtoll(v->str, NULL, 10);
			continue;
		}
		if (!strcmp(k->str, "json"))
			m->json_len = v->len;
		for (size_t j = 0; j < sizeof fields / sizeof *fields; j++) {
			const char **dst =
				(const char **)((char *)m + fields[j].off);
			if (!strcmp(k->str, fields[j].name) && !*dst)
				*dst = v->str;
		}
	}
	return m->id ? 0 : -1;
}

/* By id, then newest version first. */
static int cmp_id_version(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return (x->version < y->version) - (x->version > y->version);
}

/* Priority class first, then score, confidence, the most recently seen,
 * and the id, so that the order is total and stable between reads. */
static int cmp_rank(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->pclass != y->pclass)
		return x->pclass < y->pclass ? -1 : 1;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->conf != y->conf)
		return x->conf > y->conf ? -1 : 1;
	if (x->last_ts != y->last_ts)
		return x->last_ts > y->last_ts ? -1 : 1;
	return strcmp(x->m->id, y->m->id);
}

/* What the incident's document adds to its flat fields. */
static void row_from_json(struct row *r)
{
	struct cep_json_span doc = { r->m->json, r->m->json_len }, arr, obj;
	char name[32];
	size_t pos = 0;

	r->score = 0;
	r->type[0] = '\0';
	r->nimpact = 0;
	if (!doc.p)
		return;
	r->score = cep_json_get_double(doc, "score");
	cep_json_get_str(doc, "type", r->type, sizeof r->type);
	arr = cep_json_get_sub(doc, "impact", CEP_JSON_ARRAY);
	while (r->nimpact < CEP_SECTORS_MAX &&
	       cep_json_array_next(arr, &pos, &obj) == 1) {
		struct impact *im = &r->impact[r->nimpact];
		im->sector = cep_sector_parse(cep_json_get_str(obj, "sector", name,
						   sizeof name));
		if (im->sector <= 0 || im->sector >= CEP_SECTOR_COUNT)
			continue;
		im->via = cep_sector_parse(cep_json_get_str(obj, "via", name,
						sizeof name));
		im->strength = cep_json_get_double(obj, "strength");
		im->delay_s = (uint32_t)cep_json_get_u64(obj, "delay_s");
		cep_json_get_str(obj, "expected_at", im->expected_at,
		     sizeof im->expected_at);
		r->nimpact++;
	}
}

struct incidents_ctx {
	const struct row *rows;
	size_t n, messages, closed, streams;
	const char *redis;
};

static void write_incidents(struct cep_jw *w, const void *ctx)
{
	const struct incidents_ctx *c = ctx;
	char now[40];

	cep_jw_begin(w);
	cep_jw_str(w, "generated", cep_time_format(cep_clock_wall_ns(), now));
	cep_jw_str(w, "redis", c->redis);
	cep_jw_u64(w, "streams", c->streams);
	cep_jw_u64(w, "messages", c->messages);
	cep_jw_u64(w, "open", c->n);
	cep_jw_u64(w, "closed", c->closed);
	cep_jw_open(w, "incidents", '[');
	for (size_t i = 0; i < c->n && i < CEP_WEBAPI_MAX_SHOWN; i++) {
		const struct row *r = &c->rows[i];
		const struct msg *m = r->m;

		cep_jw_open(w, NULL, '{');
		cep_jw_u64(w, "rank", i + 1);
		cep_jw_str(w, "id", m->id);
		cep_jw_u64(w, "version", m->version > 0
						 ? (uint64_t)m->version : 0);
		cep_jw_str(w, "status", m->status ? m->status : "");
		cep_jw_str(w, "priority", m->priority ? m->priority : "");
		cep_jw_double(w, "score", r->score, 4);
		cep_jw_double(w, "confidence", r->conf, 4);
		cep_jw_str(w, "severity", m->severity ? m->severity : "");
		cep_jw_str(w, "sector", m->sector ? m->sector : "");
		cep_jw_str(w, "type", r->type);
		cep_jw_str(w, "title", m->title ? m->title : "");
		cep_jw_str(w, "tlp", m->tlp ? m->tlp : "");
		cep_jw_str(w, "first_seen", m->first_seen ? m->first_seen : "");
		cep_jw_str(w, "last_seen", m->last_seen ? m->last_seen : "");
		cep_jw_u64(w, "sources",
			   m->sources ? strtoull(m->sources, NULL, 10) : 0);
		cep_jw_u64(w, "evidence",
			   m->evidence ? strtoull(m->evidence, NULL, 10) : 0);
		cep_jw_open(w, "impact", '[');
		for (int k = 0; k < r->nimpact; k++) {
			const struct impact *im = &r->impact[k];
			cep_jw_open(w, NULL, '{');
			cep_jw_str(w, "sector", cep_sector_name(im->sector));
			cep_jw_double(w, "strength", im->strength, 4);
			cep_jw_u64(w, "delay_s", im->delay_s);
			cep_jw_str(w, "expected_at", im->expected_at);
			cep_jw_str(w, "via", im->via > 0 ? cep_sector_name(im->via)
							 : "");
			cep_jw_close(w, '}');
		}
		cep_jw_close(w, ']');
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
}

static int redis_ready(struct cep_webapi *a, char *err, size_t errsize)
{
	if (a->rc)
		return 0;
	return cep_redis_connect(&a->url, 1000, 2000, &a->rc, err, errsize);
}

static void redis_drop(struct cep_webapi *a)
{
	if (a->rc)
		redisFree(a->rc);
	a->rc = NULL;
}

/* Read the streams and build a new snapshot into *s (freed by the caller
 * before).  Sets s->status. */
static void snapshot_read(struct cep_webapi *a, struct snapshot *s)
{
	redisReply *replies[CEP_SECTOR_COUNT] = { 0 };
	struct msg *msgs = NULL;
	struct row *rows = NULL;
	size_t nmsg = 0, cap = 0, nrows = 0, closed = 0;
	char err[200], count[24];
	int nkeys = CEP_SECTOR_COUNT;

	s->status = 503;
	if (redis_ready(a, err, sizeof err)) {
		snprintf(s->error, sizeof s->error, "Redis at %s: %s",
			 a->redis_name, err);
		return;
	}
	snprintf(count, sizeof count, "%d", CEP_WEBAPI_SCAN);
	for (int k = 0; k < nkeys; k++) {
		char key[64];
		snprintf(key, sizeof key, "ceptor:{%s}:incidents",
			 k ? cep_sector_name(k) : "unknown");
		const char *av[] = { "XREVRANGE", key, "+", "-", "COUNT",
				     count };
		if (redisAppendCommandArgv(a->rc, 6, av, NULL) != REDIS_OK)
			goto redis_failed;
	}
	for (int k = 0; k < nkeys; k++) {
		void *r;
		if (redisGetReply(a->rc, &r) != REDIS_OK)
			goto redis_failed;
		replies[k] = r;
	}

	for (int k = 0; k < nkeys; k++) {
		const redisReply *r = replies[k];
		/* A key of another type answers WRONGTYPE: not ours. */
		if (r->type != REDIS_REPLY_ARRAY)
			continue;
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			if (nmsg == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct msg *v = realloc(msgs, ncap * sizeof *v);
				if (!v)
					goto nomem;
				msgs = v;
				cap = ncap;
			}
			if (msg_from_fields(&msgs[nmsg], e->element[1]) == 0)
				nmsg++;
		}
	}

	/* The latest version of each id; closed ones leave the list. */
	if (nmsg)
		qsort(msgs, nmsg, sizeof *msgs, cmp_id_version);
	rows = calloc(nmsg ? nmsg : 1, sizeof *rows);
	if (!rows)
		goto nomem;
	for (size_t i = 0; i < nmsg; i++) {
		const struct msg *m = &msgs[i];
		if (i && !strcmp(msgs[i - 1].id, m->id))
			continue;
		if (m->status && !strcmp(m->status, "closed")) {
			closed++;
			continue;
		}
		struct row *r = &rows[nrows++];
		r->m = m;
		r->pclass = priority_class(m->priority ? m->priority : m->id);
		r->conf = m->confidence ? strtod(m->confidence, NULL) : 0;
		if (!m->last_seen ||
		    cep_time_parse(m->last_seen, strlen(m->last_seen),
				   &r->last_ts))
			r->last_ts = 0;
		row_from_json(r);
	}
	if (nrows)
		qsort(rows, nrows, sizeof *rows, cmp_rank);

	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		int own = r->m->sector ? cep_sector_parse(r->m->sector) : -1;
		uint32_t seen = 0;
		if (own >= 0 && own < CEP_SECTOR_COUNT)
			s->hit[own]++;
		for (int k = 0; k < r->nimpact; k++) {
			int sec = r->impact[k].sector;
			int via = r->impact[k].via;
			if (!(seen & CEP_SECTOR_BIT(sec)))
				s->predicted[sec]++;
			seen |= CEP_SECTOR_BIT(sec);
			if (via > 0 && via < CEP_SECTOR_COUNT)
				s->path[via] |= CEP_SECTOR_BIT(sec);
		}
	}
	struct incidents_ctx ctx = { rows, nrows, nmsg, closed,
				     (size_t)nkeys, a->redis_name };
	s->json = render(write_incidents, &ctx, &s->len);
	if (!s->json)
		goto nomem;
	s->status = 200;
	goto done;

redis_failed:
	snprintf(s->error, sizeof s->error, "Redis at %s: %s", a->redis_name,
		 a->rc->errstr[0] ? a->rc->errstr : "connection lost");
	redis_drop(a);
	goto done;
nomem:
	snprintf(s->error, sizeof s->error, "out of memory");
done:
	free(rows);
	free(msgs);
	for (int k = 0; k < nkeys; k++)
		if (replies[k])
			freeReplyObject(replies[k]);
}

/* The current snapshot: the cached one while it is fresh. */
static const struct snapshot *snapshot(struct cep_webapi *a)
{
	uint64_t now = cep_clock_mono_ms();
	struct snapshot *s = &a->snap;

	if (s->at_ms && now - s->at_ms < CEP_WEBAPI_CACHE_MS)
		return s;
	free(s->json);
	memset(s, 0, sizeof *s);
	snapshot_read(a, s);
	s->at_ms = now ? now : 1;
	return s;
}

void cep_webapi_incidents(struct cep_webapi *a, struct cep_http_response *res)
{
	const struct snapshot *s = snapshot(a);

	if (s->status != 200) {
		respond_error(res, s->status, s->error);
		return;
	}
	res->owned = malloc(s->len ? s->len : 1);
	if (!res->owned) {
		res->status = 500;
		return;
	}
	memcpy(res->owned, s->json, s->len);
	res->body = res->owned;
	res->len = s->len;
	res->status = 200;
	res->content_type = JSON_TYPE;
}

/* --- graph ---------------------------------------------------------------- */

struct graph_ctx {
	const struct cep_sectors *g;
	const struct snapshot *s;
};

static const char *sector_state(const struct snapshot *s, int sec)
{
	if (s->status == 200 && s->hit[sec])
		return "hit";
	if (s->status == 200 && s->predicted[sec])
		return "predicted";
	return "none";
}

static void write_graph(struct cep_jw *w, const void *ctx)
{
	const struct graph_ctx *c = ctx;
	const struct cep_sectors_edge *edges;
	size_t nedges = cep_sectors_edges(c->g, &edges);
	char delay[32];

	cep_jw_begin(w);
	cep_jw_double(w, "threshold", cep_sectors_threshold(c->g), 3);
	cep_jw_str(w, "incidents_error",
		   c->s->status == 200 ? "" : c->s->error);
	cep_jw_open(w, "sectors", '[');
	for (int sec = 1; sec < CEP_SECTOR_COUNT; sec++) {
		cep_jw_open(w, NULL, '{');
		cep_jw_str(w, "name", cep_sector_name(sec));
		cep_jw_double(w, "criticality",
			      cep_sectors_criticality(c->g, sec), 3);
		cep_jw_double(w, "blast", cep_sectors_blast(c->g, sec), 3);
		cep_jw_str(w, "state", sector_state(c->s, sec));
		cep_jw_u64(w, "incidents", c->s->hit[sec]);
		cep_jw_u64(w, "predicted_by", c->s->predicted[sec]);
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
	cep_jw_open(w, "edges", '[');
	for (size_t i = 0; i < nedges; i++) {
		const struct cep_sectors_edge *e = &edges[i];
		bool spread = c->s->status == 200 &&
			      (c->s->path[e->from] & CEP_SECTOR_BIT(e->to));

		cep_jw_open(w, NULL, '{');
		cep_jw_str(w, "from", cep_sector_name(e->from));
		cep_jw_str(w, "to", cep_sector_name(e->to));
		cep_jw_double(w, "weight", e->weight, 3);
		cep_jw_u64(w, "delay_s", e->delay_s);
		cep_jw_str(w, "delay", cep_sectors_format_delay(
					       e->delay_s, delay, sizeof delay));
		/* On the strongest path of an open incident's prediction. */
		cep_jw_bool(w, "spread", spread);
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
	for (int pass = 0; pass < 2; pass++) {
		cep_jw_open(w, pass ? "predicted" : "hit", '[');
		for (int sec = 1; sec < CEP_SECTOR_COUNT; sec++)
			if (!strcmp(sector_state(c->s, sec),
				    pass ? "predicted" : "hit"))
				cep_jw_str(w, NULL, cep_sector_name(sec));
		cep_jw_close(w, ']');
	}
}

void cep_webapi_graph(struct cep_webapi *a, struct cep_http_response *res)
{
	struct graph_ctx ctx = { a->graph, snapshot(a) };

	res->owned = render(write_graph, &ctx, &res->len);
	res->body = res->owned;
	res->status = res->owned ? 200 : 500;
	res->content_type = JSON_TYPE;
}

/* --- status --------------------------------------------------------------- */

struct status_ctx {
	struct cep_json_span doc;
	const char *path;
	bool stale, running;
	uint64_t age_ms;
};

static void write_status(struct cep_jw *w, const void *ctx)
{
	const struct status_ctx *c = ctx;
	struct cep_json_span engine = cep_json_get_sub(c->doc, "engine", CEP_JSON_OBJECT);
	struct cep_json_span pub = cep_json_get_sub(c->doc, "publisher", CEP_JSON_OBJECT);
	struct cep_json_span inputs = cep_json_get_sub(c->doc, "inputs", CEP_JSON_ARRAY), in;
	char buf[256];
	size_t pos = 0;

	cep_jw_begin(w);
	cep_jw_str(w, "file", c->path);
	cep_jw_str(w, "state", cep_json_get_str(c->doc, "state", buf, sizeof buf));
	cep_jw_bool(w, "running", c->running);
	cep_jw_bool(w, "stale", c->stale);
	cep_jw_u64(w, "age_ms", c->age_ms);
	cep_jw_u64(w, "pid", cep_json_get_u64(c->doc, "pid"));
	cep_jw_str(w, "site", cep_json_get_str(c->doc, "site", buf, sizeof buf));
	cep_jw_str(w, "version", cep_json_get_str(c->doc, "version", buf, sizeof buf));
	cep_jw_str(w, "now", cep_json_get_str(c->doc, "now", buf, sizeof buf));
	cep_jw_u64(w, "uptime_s", cep_json_get_u64(c->doc, "uptime_s"));
	cep_jw_open(w, "engine", '{');
	cep_jw_u64(w, "events", cep_json_get_u64(engine, "events"));
	cep_jw_double(w, "events_per_s", cep_json_get_double(engine, "events_per_s"), 1);
	cep_jw_u64(w, "dropped", cep_json_get_u64(engine, "dropped"));
	cep_jw_u64(w, "malformed", cep_json_get_u64(engine, "malformed"));
	cep_jw_u64(w, "incidents", cep_json_get_u64(engine, "incidents"));
	cep_jw_u64(w, "incidents_open", cep_json_get_u64(engine, "incidents_open"));
	cep_jw_u64(w, "messages", cep_json_get_u64(engine, "messages"));
	cep_jw_close(w, '}');
	cep_jw_open(w, "publisher", '{');
	cep_jw_bool(w, "enabled", cep_json_get_bool(pub, "enabled"));
	cep_jw_bool(w, "connected", cep_json_get_bool(pub, "connected"));
	cep_jw_u64(w, "published", cep_json_get_u64(pub, "published"));
	cep_jw_u64(w, "spooled", cep_json_get_u64(pub, "spooled"));
	cep_jw_close(w, '}');
	cep_jw_open(w, "inputs", '[');
	while (cep_json_array_next(inputs, &pos, &in) == 1) {
		struct cep_json_span prod = cep_json_get_sub(in, "producer", CEP_JSON_OBJECT);

		cep_jw_open(w, NULL, '{');
		cep_jw_str(w, "name", cep_json_get_str(in, "name", buf, sizeof buf));
		cep_jw_str(w, "kind", cep_json_get_str(in, "kind", buf, sizeof buf));
		cep_jw_str(w, "ring", cep_json_get_str(in, "ring", buf, sizeof buf));
		cep_jw_str(w, "state", cep_json_get_str(in, "state", buf, sizeof buf));
		cep_jw_u64(w, "events", cep_json_get_u64(in, "enqueued"));
		cep_jw_u64(w, "drops", cep_json_get_u64(in, "ring_drops") +
					       cep_json_get_u64(prod, "kernel_drops") +
					       cep_json_get_u64(prod, "if_drops"));
		cep_jw_double(w, "fill_pct", cep_json_get_double(in, "fill_pct"), 1);
		cep_jw_str(w, "producer",
			   cep_json_get_str(prod, "state", buf, sizeof buf));
		cep_jw_bool(w, "alive", c->running && cep_json_get_bool(prod, "alive"));
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
}

void cep_webapi_status(struct cep_webapi *a, struct cep_http_response *res)
{
	char path[4096], msg[4200], state[32];
	struct status_ctx ctx = { { NULL, 0 }, path, false, false, 0 };
	struct cep_json_reader r;
	struct cep_json_value k, v;
	size_t len = 0;
	int err, rc;
	char *text;

	snprintf(path, sizeof path, "%s/status.json", a->spool);
	err = -cep_file_read(path, STATUS_MAX, &text, &len);
	if (err) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(err));
		respond_error(res, 503, msg);
		return;
	}
	/* Check the whole document once, so that a broken file is named
	 * rather than shown as zeros. */
	cep_json_reader_init(&r, text, len);
	while ((rc = cep_json_next(&r, &k, &v)) == 1)
		;
	if (rc < 0) {
		snprintf(msg, sizeof msg, "%s: offset %zu: %s", path,
			 r.err_off, r.err);
		respond_error(res, 503, msg);
		free(text);
		return;
	}
	ctx.doc.p = text;
	ctx.doc.len = len;
	uint64_t now_ms = cep_clock_wall_ns() / 1000000;
	uint64_t doc_ms = cep_json_get_u64(ctx.doc, "now_ms");
	ctx.age_ms = now_ms > doc_ms ? now_ms - doc_ms : 0;
	ctx.stale = ctx.age_ms > CEP_WEBAPI_STALE_MS;
	ctx.running = !strcmp(cep_json_get_str(ctx.doc, "state", state, sizeof state),
			      "running") &&
		      !ctx.stale;
	res->owned = render(write_status, &ctx, &res->len);
	res->body = res->owned;
	res->status = res->owned ? 200 : 500;
	res->content_type = JSON_TYPE;
	free(text);
}
