/*
 * lag.c - consumer groups behind the incident streams, for `ceptorctl
 * status` (ctl.h, cep_ctl_lag).
 *
 * A consumer group reads a stream at its own pace; Redis keeps, per group,
 * how many entries it has read (entries-read) and, when it can tell, how
 * many it has still to read (lag).  An entry removed from the stream
 * (MAXLEN trimming, XDEL) before a group read it is gone for that group,
 * and nobody says so: this is where it is said.  Per stream:
 *
 *   lost = entries-added - length - entries-read     (when > 0)
 *
 * is the number of entries that left the stream before the group reached
 * them; "near" is a group whose lag has reached NEAR_PCT % of the length
 * the stream is trimmed to (stream_maxlen), so that its oldest unread
 * entries are next to go.  Streams without groups are not listed.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ctl/ctl.h"
#include "lib/json.h"

#define NEAR_PCT 80

/* The value of field @name in a flat [name, value, ...] reply, or NULL. */
static const redisReply *field(const redisReply *r, const char *name)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(r->element[i]->str, name))
			return r->element[i + 1];
	return NULL;
}

static bool number(const redisReply *v, long long *out)
{
	if (v && v->type == REDIS_REPLY_INTEGER) {
		*out = v->integer;
		return true;
	}
	return false;
}

/* Whether stream id a ("ms-seq") comes before b. */
static bool id_before(const char *a, const char *b)
{
	unsigned long long am = 0, as = 0, bm = 0, bs = 0;

	sscanf(a, "%llu-%llu", &am, &as);
	sscanf(b, "%llu-%llu", &bm, &bs);
	return am < bm || (am == bm && as < bs);
}

struct group_row {
	char stream[64];
	char group[64];
	long long length, pending, consumers, lag, lost;
	bool lag_known;
	const char *state;
};

static void one_stream(redisContext *c, const char *key, unsigned long long maxlen,
		       struct group_row **rows, size_t *n, size_t *cap)
{
	redisReply *st = redisCommand(c, "XINFO STREAM %s", key);
	redisReply *gr = st && st->type == REDIS_REPLY_ARRAY
				 ? redisCommand(c, "XINFO GROUPS %s", key)
				 : NULL;
	long long length = 0, added = 0;

	number(field(st, "length"), &length);
	bool have_added = number(field(st, "entries-added"), &added);
	const redisReply *fe = field(st, "first-entry");
	const char *first = fe && fe->type == REDIS_REPLY_ARRAY && fe->elements &&
				    fe->element[0]->type == REDIS_REPLY_STRING
			    ? fe->element[0]->str : NULL;
	for (size_t i = 0; gr && gr->type == REDIS_REPLY_ARRAY && i < gr->elements; i++) {
		const redisReply *g = gr->element[i], *name = field(g, "name");
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 16;
			struct group_row *nr = realloc(*rows, nc * sizeof *nr);
			if (!nr)
				break;
			*rows = nr, *cap = nc;
		}
		struct group_row *row = &(*rows)[(*n)++];
		memset(row, 0, sizeof *row);
		snprintf(row->stream, sizeof row->stream, "%s", key);
		snprintf(row->group, sizeof row->group, "%s",
			 name && name->str ? name->str : "?");
		row->length = length;
		number(field(g, "pending"), &row->pending);
		number(field(g, "consumers"), &row->consumers);
		row->lag_known = number(field(g, "lag"), &row->lag);
		/* entries-read is nil when Redis cannot tell (a group that
		 * never read, or one whose position was moved); a group still
		 * at 0-0 has read nothing.  Failing both, a group whose last
		 * delivered entry is older than the stream's first lost
		 * something, how much unknown (-1). */
		long long read = 0;
		const redisReply *ld = field(g, "last-delivered-id");
		bool at_start = ld && ld->str && !strcmp(ld->str, "0-0");
		bool known = number(field(g, "entries-read"), &read) || at_start;
		if (have_added && known && added - length - read > 0)
			row->lost = added - length - read;
		else if (!known && ld && ld->str && first &&
			 id_before(ld->str, first))
			row->lost = -1;
		if (row->lost)
			row->state = "LOST";
		else if (maxlen && row->lag_known &&
			 (unsigned long long)row->lag * 100 >= maxlen * NEAR_PCT)
			row->state = "near trim";
		else if (row->lag_known && row->lag > 0)
			row->state = "behind";
		else if (!row->lag_known)
			row->state = "unknown";
		else
			row->state = "ok";
	}
	if (gr)
		freeReplyObject(gr);
	if (st)
		freeReplyObject(st);
}

int cep_ctl_lag(const char *url, unsigned long long maxlen, bool json,
		FILE *out)
{
	struct cep_redis_url u;
	redisContext *c = NULL;
	char err[160], key[64];
	struct group_row *rows = NULL;
	size_t n = 0, cap = 0;
	int warn = 0;

	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: status: bad Redis URL: %s\n", err);
		return -1;
	}
	if (cep_redis_connect(&u, 1000, 5000, &c, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: status: consumer groups unknown: "
			"cannot use Redis at %s:%d: %s\n", u.host, u.port, err);
		return -1;
	}
	static const char *const prefixes[] = { "ceptor", "ceptor-exercise" };
	static const char *const kinds[] = { "incidents", "advisories" };
	for (size_t p = 0; p < 2; p++)
		for (int s = 0; s < CEP_SECTOR_COUNT + 1; s++)
			for (size_t k = 0; k < 2; k++) {
				const char *sec = s == CEP_SECTOR_COUNT ? "council"
						  : cep_sector_name(s);
				if (s == CEP_SECTOR_COUNT && k == 1)
					continue;
				snprintf(key, sizeof key, "%s:{%s}:%s", prefixes[p],
					 sec[0] ? sec : "unknown", kinds[k]);
				one_stream(c, key, maxlen, &rows, &n, &cap);
			}
	redisFree(c);

	for (size_t i = 0; i < n; i++)
		if (rows[i].lost || !strcmp(rows[i].state, "near trim")) {
			warn = 1;
			if (rows[i].lost > 0)
				fprintf(stderr, "ceptorctl: status: group %s lost %lld "
					"entries of %s: trimmed before it read them\n",
					rows[i].group, rows[i].lost, rows[i].stream);
			else if (rows[i].lost < 0)
				fprintf(stderr, "ceptorctl: status: group %s lost "
					"entries of %s (how many, Redis cannot "
					"tell): trimmed before it read them\n",
					rows[i].group, rows[i].stream);
			else
				fprintf(stderr, "ceptorctl: status: group %s is %lld "
					"entries behind on %s, near the stream's "
					"trim length %llu: its oldest unread entries "
					"go next\n", rows[i].group, rows[i].lag,
					rows[i].stream, maxlen);
		}
	if (json) {
		char buf[512];
		struct cep_jw w;
		fputs("[", out);
		for (size_t i = 0; i < n; i++) {
			cep_jw_init(&w, buf, sizeof buf);
			cep_jw_begin(&w);
			cep_jw_str(&w, "stream", rows[i].stream);
			cep_jw_str(&w, "group", rows[i].group);
			cep_jw_u64(&w, "length", (uint64_t)rows[i].length);
			cep_jw_u64(&w, "consumers", (uint64_t)rows[i].consumers);
			cep_jw_u64(&w, "pending", (uint64_t)rows[i].pending);
			if (rows[i].lag_known)
				cep_jw_u64(&w, "lag", (uint64_t)rows[i].lag);
			if (rows[i].lost >= 0)
				cep_jw_u64(&w, "lost", (uint64_t)rows[i].lost);
			else
				cep_jw_bool(&w, "lost_unknown", true);
			cep_jw_str(&w, "state", rows[i].state);
			if (cep_jw_end(&w) > 0)
				fprintf(out, "%s%s", i ? "," : "", buf);
		}
		fputs("]", out);
	} else if (n) {
		fprintf(out, "\nconsumer groups\n  %-36s %8s  %-16s %7s %7s %7s  %s\n",
			"stream", "length", "group", "pending", "lag", "lost",
			"state");
		for (size_t i = 0; i < n; i++) {
			char lag[24], lost[24];
			if (rows[i].lag_known)
				snprintf(lag, sizeof lag, "%lld", rows[i].lag);
			else
				snprintf(lag, sizeof lag, "?");
			if (rows[i].lost >= 0)
				snprintf(lost, sizeof lost, "%lld", rows[i].lost);
			else
				snprintf(lost, sizeof lost, "?");
			fprintf(out, "  %-36s %8lld  %-16.16s %7lld %7s %7s  %s\n",
				rows[i].stream, rows[i].length, rows[i].group,
				rows[i].pending, lag, lost, rows[i].state);
		}
	} else {
		fprintf(out, "\nconsumer groups: none on the incident streams\n");
	}
	free(rows);
	return warn;
}
