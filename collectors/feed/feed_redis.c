/*
 * feed_redis.c - an upstream ceptor's incident stream (feed.h, FORMATS.md).
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT]/STREAMKEY
 *
 * A council-level ceptor reads the sector ceptors' streams with XREAD
 * (COUNT 256), from opts->start_id ("0" by default) or from the id kept in
 * opts->state_path, until the stream is drained; with opts->follow it then
 * blocks for new entries (BLOCK CEP_FEED_POLL_MS at a time, so that
 * opts->stop is seen) and reconnects when Redis goes away.  The stream key
 * is the rest of the URL after the first '/', verbatim
 * ("ceptor:{electricity}:incidents").
 *
 * Each entry is one incident message as engine/core/incident.c publishes
 * it: flat fields (id, version, status, priority, confidence, sector,
 * title, tlp, first_seen, last_seen, ...) and "json" with the whole
 * incident.  Both are read, json last, and each entry becomes one event of
 * kind incident: report_id is the incident id (so that versions of one
 * incident share it), ts its last_seen, type, sector, tlp, count as the
 * incident has them, src_ip its entity, name its rule, indicator the
 * entity of an indicator-keyed incident, reporter the upstream site, and
 * credibility graded from its confidence.  An entry without an id or a
 * time is malformed ("KEY:ID: reason").
 *
 * With "?group=NAME[&consumer=NAME]" after the key, the stream is read
 * as that consumer group instead (XREADGROUP; the group is created at the
 * stream's start when missing; the consumer defaults to the host name):
 * each batch is acknowledged (XACK) once handed to the sink, and a
 * consumer that comes back first reads again what it was given and did
 * not acknowledge.  Several council engines may then share one stream,
 * and "&skip_site=NAME" leaves out the entries site NAME published (a
 * council reading the stream its own incidents also go to);
 * and the group's lag shows in `ceptorctl status`.  No state file then:
 * the group is the position.
 *
 * The state file holds the last id read, written (write, fsync, rename)
 * after each batch was handed to the sink, so a restart goes on after it
 * and nothing is lost; at worst the last batch is read twice, which the
 * (incident id, version) pair lets a consumer see.
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"
#include "lib/json.h"

#define XREAD_COUNT 256
#define ID_MAX 64

struct url {
	char host[256];
	int port;
	char user[64];
	char pass[128];
	char key[256];
	char group[64];    /* ?group=NAME: read as this consumer group */
	char consumer[64]; /* &consumer=NAME (default: the host's name) */
	char skip_site[64]; /* &skip_site=NAME: entries this site published
			     * are not read (a council reading the stream it
			     * also writes to) */
};

/* The URL as messages show it: never the credentials. */
static void url_shown(const char *url, char *buf, size_t size)
{
	const char *rest = strncmp(url, "redis://", 8) == 0 ? url + 8 : url;
	const char *slash = strchr(rest, '/');
	const char *at = NULL;

	for (const char *q = rest; *q && (!slash || q < slash); q++)
		if (*q == '@')
			at = q;
	if (at)
		snprintf(buf, size, "%.*s***@%s", (int)(rest - url), url, at + 1);
	else
		snprintf(buf, size, "%s", url);
}

static int url_parse(const char *s, struct url *u, const char **why)
{
	const char *slash, *at = NULL, *hend, *port = NULL;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (strncmp(s, "redis://", 8) != 0)
		return *why = "wants redis://HOST:PORT/STREAMKEY", -EINVAL;
	s += 8;
	slash = strchr(s, '/');
	if (!slash || !slash[1])
		return *why = "names no stream key (redis://HOST:PORT/STREAMKEY)",
		       -EINVAL;
	const char *query = strchr(slash + 1, '?');
	size_t kl = query ? (size_t)(query - slash - 1) : strlen(slash + 1);
	if (!kl || kl >= sizeof u->key)
		return *why = "bad stream key", -EINVAL;
	memcpy(u->key, slash + 1, kl);
	for (const char *p = query; p && *p;) {
		p++; /* past '?' or '&' */
		size_t n = strcspn(p, "&");
		char *dst = !strncmp(p, "group=", 6) ? u->group
			    : !strncmp(p, "consumer=", 9) ? u->consumer
			    : !strncmp(p, "skip_site=", 10) ? u->skip_site : NULL;
		size_t skip = dst == u->group ? 6 : dst == u->consumer ? 9 : 10;
		if (!dst || n <= skip || n - skip >= sizeof u->group)
			return *why = "the query takes group=NAME, consumer=NAME "
				      "and skip_site=NAME", -EINVAL;
		memcpy(dst, p + skip, n - skip);
		p += n;
	}
	if (u->consumer[0] && !u->group[0])
		return *why = "consumer= needs group=", -EINVAL;
	if (u->group[0] && !u->consumer[0] &&
	    gethostname(u->consumer, sizeof u->consumer - 1))
		snprintf(u->consumer, sizeof u->consumer, "ceptor-feed");
	for (const char *q = s; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		if (!colon)
			return *why = "credentials need USER:PASSWORD@", -EINVAL;
		size_t ul = (size_t)(colon - s), pl = (size_t)(at - colon - 1);
		if (ul >= sizeof u->user || pl >= sizeof u->pass)
			return *why = "user name or password too long", -EINVAL;
		memcpy(u->user, s, ul);
		memcpy(u->pass, colon + 1, pl);
		s = at + 1;
	}
	const char *host = s;
	if (*s == '[') {
		host = s + 1;
		hend = memchr(host, ']', (size_t)(slash - host));
		if (!hend)
			return *why = "IPv6 address without ']'", -EINVAL;
		if (hend + 1 < slash && hend[1] == ':')
			port = hend + 2;
	} else {
		hend = memchr(s, ':', (size_t)(slash - s));
		if (hend)
			port = hend + 1;
		else
			hend = slash;
	}
	if (hend == host || (size_t)(hend - host) >= sizeof u->host)
		return *why = "bad host", -EINVAL;
	memcpy(u->host, host, (size_t)(hend - host));
	if (port) {
		uint64_t v;
		if (cep__feed_uint(port, (size_t)(slash - port), 65535, &v) || !v)
			return *why = "bad port", -EINVAL;
		u->port = (int)v;
	}
	return 0;
}

static redisContext *connect_to(const struct url *u, char *why, size_t size)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout(u->host, u->port, tv);

	if (!c) {
		snprintf(why, size, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(why, size, "%s", c->errstr);
		redisFree(c);
		return NULL;
	}
	/* Longer than any BLOCK we send, so a live server always answers
	 * first.  Set after connecting: hiredis 0.14 forgets it otherwise. */
	tv.tv_sec = 5 + CEP_FEED_POLL_MS / 1000;
	redisSetTimeout(c, tv);
	if (u->pass[0]) {
		redisReply *r = u->user[0]
			? redisCommand(c, "AUTH %s %s", u->user, u->pass)
			: redisCommand(c, "AUTH %s", u->pass);
		int ok = r && r->type != REDIS_REPLY_ERROR;
		snprintf(why, size, "AUTH: %s", r && r->str ? r->str : c->errstr);
		freeReplyObject(r);
		if (!ok) {
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

/* ---- state ------------------------------------------------------------- */

static void state_load(const char *path, char id[ID_MAX])
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char buf[ID_MAX];

	if (!f)
		return;
	if (fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0])
			memcpy(id, buf, ID_MAX);
	}
	fclose(f);
}

static int state_save(const char *path, const char *id)
{
	char tmp[4096];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(id);
	if (write(fd, id, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    fsync(fd))
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path))
		rc = -errno;
	return rc;
}

/* ---- one entry --------------------------------------------------------- */

struct inc {
	const char *why;
	uint64_t first_seen;
	int have_ts;
};

/* Confidence [0,1] graded onto Admiralty credibility 1..5. */
static uint8_t credibility_of(double c)
{
	return c >= 0.9 ? 1 : c >= 0.7 ? 2 : c >= 0.5 ? 3 : c >= 0.3 ? 4 : 5;
}

static void field(struct cep__feed_out *out, struct cep_event *ev,
		  struct inc *x, const char *k, size_t kn, const char *v,
		  size_t vn)
{
	char buf[128];
	int rc;

	if (vn >= sizeof buf)
		vn = sizeof buf - 1;
	memcpy(buf, v, vn);
	buf[vn] = '\0';
#define KEY(s) cep__feed_ieq(k, kn, s)
	if (KEY("id")) {
		if (cep_event_set_text(ev->report_id, sizeof ev->report_id, buf))
			x->why = "incident id longer than the report_id field";
	} else if (KEY("last_seen")) {
		if (cep__feed_time(buf, vn, &ev->ts) == 0)
			x->have_ts = 1;
		else
			x->why = "bad last_seen";
	} else if (KEY("first_seen")) {
		if (cep__feed_time(buf, vn, &x->first_seen))
			x->why = "bad first_seen";
	} else if (KEY("sector")) {
		rc = cep_sector_parse(buf);
		ev->sector = rc > 0 ? (uint8_t)rc : 0;
	} else if (KEY("type")) {
		rc = cep_type_parse(buf);
		ev->type = rc > 0 ? (uint8_t)rc : 0;
	} else if (KEY("tlp")) {
		/* An unknown marking is taken as the strictest. */
		rc = cep_tlp_parse(buf);
		ev->tlp = rc > 0 ? (uint8_t)rc : CEP_TLP_RED;
	} else if (KEY("entity")) {
		rc = cep_ip_parse(buf, ev->src_ip);
		ev->src_af = rc > 0 ? (uint8_t)rc : 0;
	} else if (KEY("count")) {
		uint64_t c;
		if (cep__feed_uint(buf, vn, UINT64_MAX, &c) == 0)
			ev->count = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	} else if (KEY("rule")) {
		cep__feed_set_cut(out, ev->name, sizeof ev->name, buf, vn);
	} else if (KEY("key")) {
		if (vn > 10 && strncmp(buf, "indicator=", 10) == 0 &&
		    vn - 10 < sizeof ev->indicator)
			memcpy(ev->indicator, buf + 10, vn - 10 + 1);
	} else if (KEY("site")) {
		cep__feed_set_cut(out, ev->reporter, sizeof ev->reporter, buf, vn);
	} else if (KEY("confidence")) {
		char *end;
		double c = strtod(buf, &end);
		if (end != buf && c >= 0 && c <= 1)
			ev->credibility = credibility_of(c);
	} else if (KEY("exercise")) {
		if (strcmp(buf, "true") == 0)
			ev->flags |= CEP_EV_EXERCISE;
	}
#undef KEY
}

static void json_fields(struct cep__feed_out *out, struct cep_event *ev,
			struct inc *x, const char *text, size_t len)
{
	struct cep_json_reader jr;
	struct cep_json_value k, v;
	char kb[32], vb[128];
	int rc;

	cep_json_reader_init(&jr, text, len);
	while ((rc = cep_json_next(&jr, &k, &v)) > 0) {
		if (cep_json_unescape(&k, kb, sizeof kb) < 0)
			continue;
		if (v.type == CEP_JSON_STRING) {
			int n = cep_json_unescape(&v, vb, sizeof vb);
			if (n >= 0)
				field(out, ev, x, kb, strlen(kb), vb, (size_t)n);
		} else if (v.type == CEP_JSON_NUMBER || v.type == CEP_JSON_TRUE ||
			   v.type == CEP_JSON_FALSE) {
			field(out, ev, x, kb, strlen(kb), v.p, v.len);
		}
	}
	if (rc < 0)
		x->why = "the json field is not a JSON object";
}

static int entry(struct cep__feed_out *out, const redisReply *e,
		 const char *skip_site)
{
	const redisReply *kv;
	struct inc x = { 0 };
	const char *json = NULL;
	size_t json_len = 0;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY) {
		cep__feed_bad(out, 0, "unexpected XREAD entry shape");
		return 0;
	}
	const char *id = e->element[0]->str;
	kv = e->element[1];
	struct cep_event *ev = cep_batch_slot(&out->batch);
	ev->kind = CEP_KIND_INCIDENT;
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		const redisReply *k = kv->element[i], *v = kv->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		out->st->bytes += k->len + v->len;
		if (cep__feed_ieq(k->str, k->len, "json")) {
			json = v->str;
			json_len = v->len;
			continue;
		}
		field(out, ev, &x, k->str, k->len, v->str, v->len);
	}
	if (json)
		json_fields(out, ev, &x, json, json_len);
	if (!x.have_ts && x.first_seen) {
		ev->ts = x.first_seen;
		x.have_ts = 1;
	}
	if (!x.why && !ev->report_id[0])
		x.why = "no incident id";
	if (!x.why && !x.have_ts)
		x.why = "no last_seen or first_seen";
	if (x.why) {
		cep__feed_bad(out, 0, "%s: %s", id, x.why);
		return 0;
	}
	if (skip_site[0] && !strcmp(ev->reporter, skip_site)) {
		out->st->skipped++; /* our own: never read back */
		return 0;
	}
	return cep__feed_emit(out);
}

/* ---- the reader -------------------------------------------------------- */

/*
 * "$" means "what arrives from now on"; it is turned into the stream's last
 * id once, so that entries added between two XREADs are not missed.
 * Returns 0, or -CEP_EREDIS when the connection failed.
 */
static int resolve_now(redisContext *c, const char *key, char id[ID_MAX])
{
	redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT 1", key);

	if (!r)
		return -CEP_EREDIS;
	snprintf(id, ID_MAX, "0-0");
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements >= 1 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[0]->element[0]->len < ID_MAX)
		memcpy(id, r->element[0]->element[0]->str,
		       r->element[0]->element[0]->len + 1);
	freeReplyObject(r);
	return 0;
}

/* XACK the ids of @entries (one command per batch). */
static void ack(redisContext *c, const struct url *u, const redisReply *entries,
		const char *url, FILE *diag)
{
	size_t n = entries->elements, k = 0;
	const char **argv = calloc(n + 3, sizeof *argv);

	if (!argv)
		return;
	argv[k++] = "XACK";
	argv[k++] = u->key;
	argv[k++] = u->group;
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = entries->element[i];
		if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
		    e->element[0]->type == REDIS_REPLY_STRING)
			argv[k++] = e->element[0]->str;
	}
	redisReply *r = redisCommandArgv(c, (int)k, argv, NULL);
	if (!r || r->type == REDIS_REPLY_ERROR)
		fprintf(diag, "%s: XACK failed: %s (entries will be read again)\n",
			url, r ? r->str : c->errstr);
	freeReplyObject(r);
	free(argv);
}

static int stopped(const struct cep_feed_opts *opts)
{
	return opts->stop && __atomic_load_n(opts->stop, __ATOMIC_RELAXED);
}

int cep__feed_redis(const char *url, const struct cep_feed_opts *opts,
		    const struct cep_source *src, const struct cep_sink *sink,
		    struct cep_feed_stats *st, FILE *diag)
{
	struct cep__feed_out *out;
	char id[ID_MAX], why[160];
	const char *bad;
	struct url u;
	redisContext *c = NULL;
	int rc, warned = 0, joined = 0;
	char shown[512];

	/* Parse the URL itself; messages name it without its credentials. */
	rc = url_parse(url, &u, &bad);
	url_shown(url, shown, sizeof shown);
	url = shown;
	if (rc) {
		fprintf(diag, "%s: %s\n", url, bad);
		st->files_failed++;
		return rc;
	}
	snprintf(id, sizeof id, "%s", opts->start_id ? opts->start_id : "0");
	state_load(opts->state_path, id);
	if (!(out = malloc(sizeof *out)))
		return -ENOMEM;
	cep__feed_out_init(out, u.key, src, sink, st, diag);
	st->files++;
	for (;;) {
		if (stopped(opts)) {
			rc = 0;
			break;
		}
		if (opts->tick)
			opts->tick(opts->tick_arg);
		if (!c && !(c = connect_to(&u, why, sizeof why))) {
			if (!warned++)
				fprintf(diag, "%s: cannot connect: %s%s\n", url, why,
					opts->follow ? "; trying again" : "");
			if (!opts->follow) {
				st->files_failed++;
				rc = -CEP_EREDIS;
				break;
			}
			usleep(CEP_FEED_POLL_MS * 1000);
			continue;
		}
		if (u.group[0] && !joined) {
			/* The group, created at the stream's start if new; a
			 * (re)connected consumer first reads back what it was
			 * given and did not acknowledge ("0"), then new
			 * entries (">"). */
			redisReply *g = redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM",
						     u.key, u.group);
			int ok = g && (g->type != REDIS_REPLY_ERROR ||
				       !strncmp(g->str, "BUSYGROUP", 9));
			if (!ok)
				fprintf(diag, "%s: XGROUP CREATE failed: %s\n", url,
					g ? g->str : c->errstr);
			freeReplyObject(g);
			if (!ok) {
				redisFree(c);
				c = NULL;
				rc = -CEP_EREDIS;
				if (opts->follow)
					continue;
				break;
			}
			joined = 1;
			snprintf(id, sizeof id, "0");
		}
		if (!u.group[0] && strcmp(id, "$") == 0 && resolve_now(c, u.key, id)) {
			redisFree(c);
			c = NULL;
			continue;
		}
		int pending = u.group[0] && strcmp(id, ">") != 0;
		redisReply *r =
			u.group[0] && opts->follow && !pending
			? redisCommand(c, "XREADGROUP GROUP %s %s COUNT %d BLOCK %d "
				       "STREAMS %s >", u.group, u.consumer,
				       XREAD_COUNT, CEP_FEED_POLL_MS, u.key)
			: u.group[0]
			? redisCommand(c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s",
				       u.group, u.consumer, XREAD_COUNT, u.key, id)
			: opts->follow
			? redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS %s %s",
				       XREAD_COUNT, CEP_FEED_POLL_MS, u.key, id)
			: redisCommand(c, "XREAD COUNT %d STREAMS %s %s",
				       XREAD_COUNT, u.key, id);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			fprintf(diag, "%s: XREAD failed: %s\n", url,
				r ? r->str : c->errstr);
			int gone = !r;
			freeReplyObject(r);
			redisFree(c);
			c = NULL;
			joined = 0;
			if (opts->follow && gone) {
				warned = 0;
				continue;
			}
			rc = -CEP_EREDIS;
			break;
		}
		warned = 0;
		const redisReply *got_entries = r->type == REDIS_REPLY_ARRAY &&
			r->elements && r->element[0]->type == REDIS_REPLY_ARRAY &&
			r->element[0]->elements == 2 ? r->element[0]->element[1] : NULL;
		if (pending && (!got_entries || got_entries->elements == 0)) {
			/* Read back everything it had: now the new ones. */
			freeReplyObject(r);
			snprintf(id, sizeof id, ">");
			continue;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
			freeReplyObject(r);
			if (opts->follow)
				continue; /* nothing new within the block */
			rc = 0;
			break; /* drained */
		}
		const redisReply *entries = r->element[0]->type == REDIS_REPLY_ARRAY &&
			r->element[0]->elements == 2 ? r->element[0]->element[1] : NULL;
		rc = 0;
		for (size_t i = 0; entries && i < entries->elements && !rc; i++) {
			const redisReply *e = entries->element[i];
			st->read++;
			/* A pending entry deleted since has no fields: nothing
			 * to read, only to acknowledge. */
			if (!(pending && e->type == REDIS_REPLY_ARRAY &&
			      e->elements == 2 && e->element[1]->type != REDIS_REPLY_ARRAY))
				rc = entry(out, e, u.skip_site);
			if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
			    e->element[0]->type == REDIS_REPLY_STRING &&
			    e->element[0]->len < ID_MAX && (!u.group[0] || pending))
				memcpy(id, e->element[0]->str, e->element[0]->len + 1);
		}
		size_t got = entries ? entries->elements : 0;
		if (!rc)
			rc = cep_batch_flush(&out->batch);
		/* Handed to the sink (the ring): acknowledged.  A crash before
		 * this reads them again (at least once). */
		if (!rc && u.group[0] && got)
			ack(c, &u, entries, url, diag);
		freeReplyObject(r);
		if (rc)
			break;
		if (opts->state_path && got && !u.group[0] &&
		    (rc = state_save(opts->state_path, id))) {
			fprintf(diag, "%s: cannot save the stream position: %s\n",
				opts->state_path, strerror(-rc));
			rc = 0;
		}
		if (!got && !opts->follow)
			break;
	}
	if (rc == 0)
		rc = cep_batch_flush(&out->batch);
	if (c)
		redisFree(c);
	free(out);
	return rc;
}
