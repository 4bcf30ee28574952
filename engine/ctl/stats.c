/*
 * stats.c - `ceptorctl stats`: the incident statistics ceptord keeps in
 * Redis (engine/publish/stats.h has the keys), read back and summed over a
 * range of hourly or daily buckets.
 *
 * Every count is the SCARD of one bucket key.  The keys follow from the
 * vocabulary (sectors, causes, types), so each bucket is asked for in one
 * pipeline instead of scanning the keyspace.  One Redis node only: against
 * a Redis Cluster the buckets spread over the shards (one hash tag per
 * bucket) and cluster routing is not here yet, as for the publisher.  An
 * incident lies in exactly one hour and one day bucket, so the sums over
 * buckets count each incident once.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ctl/ctl.h"
#include "publish/stats.h"

#define NCAUSE (CEP_CAUSE_COUNT) /* none (0) .. disaster */
#define NTYPE (CEP_TYPE_COUNT)   /* none (0) .. traffic */
#define NSECTOR (CEP_SECTOR_COUNT)

struct sums {
	unsigned long long all, attributed;
	unsigned long long sector[NSECTOR], cause[NCAUSE], type[NTYPE];
	unsigned long long attr[NSECTOR][NSECTOR]; /* [from][to] */
};

static int usage(const char *why, const char *arg)
{
	fprintf(stderr, "ceptorctl: stats: ");
	fprintf(stderr, why, arg);
	fprintf(stderr, "\nTry 'ceptorctl --help'.\n");
	return 2;
}

static const char *cause_tok(int c)
{
	return c ? cep_cause_name(c) : "none";
}

static const char *type_tok(int t)
{
	return t ? cep_type_name(t) : "none";
}

/* Parse YYYY-MM-DD[THH[:MM[:SS]]][Z] as UTC. */
static int parse_until(const char *s, time_t *out)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof tm);
	if (!(e = strptime(s, "%Y-%m-%d", &tm)))
		return -1;
	if (*e == 'T' || *e == ' ') {
		const char *f = strptime(e + 1, "%H:%M:%S", &tm);
		if (!f)
			f = strptime(e + 1, "%H:%M", &tm);
		if (!f)
			f = strptime(e + 1, "%H", &tm);
		if (!f)
			return -1;
		e = f;
	}
	if (*e == 'Z')
		e++;
	if (*e)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Queue one SCARD of bucket's key sub. */
static void ask(redisContext *c, const char *bucket, const char *sub)
{
	char key[CEP_STATS_KEY_MAX];
	snprintf(key, sizeof key, "ceptor:{stats:%s}:%s", bucket, sub);
	redisAppendCommand(c, "SCARD %s", key);
}

/* Read one SCARD reply; -1 when the connection failed. */
static long long answer(redisContext *c, int *bad)
{
	redisReply *r = NULL;
	long long v = 0;

	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
		*bad = 1;
		return 0;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_ERROR && !*bad) {
		fprintf(stderr, "ceptorctl: stats: Redis: %s\n", r->str);
		*bad = 2;
	}
	freeReplyObject(r);
	return v;
}

/* Sum one bucket into *s; returns its total, or -1 on a broken
 * connection. */
static long long read_bucket(redisContext *c, const char *bucket,
			     struct sums *s)
{
	char sub[64];
	int bad = 0;
	long long all;

	ask(c, bucket, "all");
	ask(c, bucket, "attributed");
	for (int i = 0; i < NSECTOR; i++) {
		snprintf(sub, sizeof sub, "sector:%s", cep_sector_name(i));
		ask(c, bucket, sub);
	}
	for (int i = 0; i < NCAUSE; i++) {
		snprintf(sub, sizeof sub, "cause:%s", cause_tok(i));
		ask(c, bucket, sub);
	}
	for (int i = 0; i < NTYPE; i++) {
		snprintf(sub, sizeof sub, "type:%s", type_tok(i));
		ask(c, bucket, sub);
	}
	for (int a = 0; a < NSECTOR; a++)
		for (int b = 0; b < NSECTOR; b++) {
			snprintf(sub, sizeof sub, "attributed:%s:%s",
				 cep_sector_name(a), cep_sector_name(b));
			ask(c, bucket, sub);
		}
	all = answer(c, &bad);
	s->all += (unsigned long long)all;
	s->attributed += (unsigned long long)answer(c, &bad);
	for (int i = 0; i < NSECTOR; i++)
		s->sector[i] += (unsigned long long)answer(c, &bad);
	for (int i = 0; i < NCAUSE; i++)
		s->cause[i] += (unsigned long long)answer(c, &bad);
	for (int i = 0; i < NTYPE; i++)
		s->type[i] += (unsigned long long)answer(c, &bad);
	for (int a = 0; a < NSECTOR; a++)
		for (int b = 0; b < NSECTOR; b++)
			s->attr[a][b] += (unsigned long long)answer(c, &bad);
	return bad == 1 ? -1 : all;
}

static void print_json_map(const char *name, const unsigned long long *v,
			   int n, const char *(*tok)(int))
{
	int first = 1;
	printf(",\"%s\":{", name);
	for (int i = 0; i < n; i++)
		if (v[i]) {
			printf("%s\"%s\":%llu", first ? "" : ",", tok(i), v[i]);
			first = 0;
		}
	printf("}");
}

static void print_table_map(const char *name, const unsigned long long *v,
			    int n, const char *(*tok)(int))
{
	printf("\nby %s\n", name);
	for (int i = 0; i < n; i++)
		if (v[i])
			printf("  %-16s %8llu\n", tok(i), v[i]);
}

int cep_ctl_stats(const char *url, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hours", required_argument, NULL, 'H' },
		{ "days", required_argument, NULL, 'D' },
		{ "until", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "redis", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long n = 24;
	int hour = 1, json = 0, o, unit_given = 0;
	time_t until = time(NULL);
	char *end;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+jr:h", opts, NULL)) != -1) {
		switch (o) {
		case 'H':
		case 'D':
			if (unit_given++)
				return usage("%s", "give --hours or --days, once");
			hour = o == 'H';
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > (hour ? 24 * 400 : 3650))
				return usage("bad number of buckets '%s'", optarg);
			break;
		case 'u':
			if (parse_until(optarg, &until))
				return usage("--until wants YYYY-MM-DD[THH[:MM[:SS]]][Z], "
					     "not '%s'", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			url = optarg;
			break;
		case 'h':
			printf("usage: ceptorctl stats [--hours N | --days N] "
			       "[--until TIME] [--json] [--redis URL]\n");
			return 0;
		default:
			return usage("%s", "bad option");
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);

	struct cep_redis_url u;
	redisContext *c = NULL;
	char err[160];
	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: bad Redis URL: %s\n", err);
		return 2;
	}
	if (cep_redis_connect(&u, 2000, 10000, &c, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: cannot use Redis at %s:%d: %s\n",
			u.host, u.port, err);
		return 1;
	}

	struct sums *s = calloc(1, sizeof *s);
	long long *series = calloc((size_t)n, sizeof *series);
	char (*names)[24] = calloc((size_t)n, sizeof *names);
	int rc = 0;
	if (!s || !series || !names) {
		fprintf(stderr, "ceptorctl: stats: out of memory\n");
		rc = 1;
		goto out;
	}
	uint64_t step = hour ? 3600ull : 86400ull;
	uint64_t last = (uint64_t)until / step * step;
	for (long i = 0; i < n; i++) {
		uint64_t t = last - (uint64_t)(n - 1 - i) * step;
		cep_stats_bucket(t * 1000000000ull, hour, names[i],
				 sizeof names[i]);
		series[i] = read_bucket(c, names[i], s);
		if (series[i] < 0) {
			fprintf(stderr, "ceptorctl: stats: Redis: %s\n",
				c->errstr[0] ? c->errstr : "no reply");
			rc = 1;
			goto out;
		}
	}

	if (json) {
		printf("{\"unit\":\"%s\",\"buckets\":%ld,\"from\":\"%s\","
		       "\"to\":\"%s\",\"incidents\":%llu",
		       hour ? "hour" : "day", n, names[0] + 2,
		       names[n - 1] + 2, s->all);
		print_json_map("sector", s->sector, NSECTOR, cep_sector_name);
		print_json_map("cause", s->cause, NCAUSE, cause_tok);
		print_json_map("type", s->type, NTYPE, type_tok);
		printf(",\"attributed\":%llu,\"attributed_by\":[", s->attributed);
		int first = 1;
		for (int a = 0; a < NSECTOR; a++)
			for (int b = 0; b < NSECTOR; b++)
				if (s->attr[a][b]) {
					printf("%s{\"outage\":\"%s\",\"failed\":"
					       "\"%s\",\"count\":%llu}",
					       first ? "" : ",",
					       cep_sector_name(a),
					       cep_sector_name(b), s->attr[a][b]);
					first = 0;
				}
		printf("],\"series\":[");
		first = 1;
		for (long i = 0; i < n; i++)
			if (series[i]) {
				printf("%s{\"bucket\":\"%s\",\"incidents\":%lld}",
				       first ? "" : ",", names[i] + 2, series[i]);
				first = 0;
			}
		printf("]}\n");
		goto out;
	}
	printf("incidents per %s, %ld %s buckets %s .. %s (UTC, by first "
	       "seen): %llu\n", hour ? "hour" : "day", n,
	       hour ? "hourly" : "daily", names[0] + 2, names[n - 1] + 2,
	       s->all);
	print_table_map("sector", s->sector, NSECTOR, cep_sector_name);
	print_table_map("cause", s->cause, NCAUSE, cause_tok);
	print_table_map("type", s->type, NTYPE, type_tok);
	printf("\nIT failures attributed to another sector's outage: %llu\n",
	       s->attributed);
	for (int a = 0; a < NSECTOR; a++)
		for (int b = 0; b < NSECTOR; b++)
			if (s->attr[a][b])
				printf("  %-12s -> %-12s %8llu\n",
				       cep_sector_name(a), cep_sector_name(b),
				       s->attr[a][b]);
	printf("\nby %s\n", hour ? "hour" : "day");
	for (long i = 0; i < n; i++)
		if (series[i])
			printf("  %-16s %8lld\n", names[i] + 2, series[i]);
out:
	free(s);
	free(series);
	free(names);
	redisFree(c);
	return rc;
}
