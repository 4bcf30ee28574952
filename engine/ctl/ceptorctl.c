/*
 * ceptorctl.c - the operator tool.
 *
 *   ceptorctl [--redis URL] tail [--sector S] [--count N] [--json]
 *   ceptorctl rules check DIR|FILE...
 *   ceptorctl status | reload          (need the control socket: issue 8)
 *
 * tail reads the incident streams ceptor:{SECTOR}:incidents (every sector
 * and "unknown", or the one named), keeps the latest version of each
 * incident (the publisher delivers at least once and every update is a new
 * message, so one id appears many times), ranks them the way analysts read
 * them (priority class P1 first, then confidence, then most recently seen)
 * and prints a table, or with --json each incident's `json` field verbatim,
 * one per line.  Only the newest TAIL_SCAN_MIN..MAX messages of each stream
 * are read: tail shows what is current, not the archive.
 *
 * Exit status: 0 done; 1 Redis or the rules failed; 2 usage error or a
 * command that is not available yet.
 */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ceptor/rule.h"
#include "lib/json.h"
#include "lib/log.h"

#define CEPTORCTL_VERSION "0.1.0-dev"
#define DEFAULT_URL "redis://127.0.0.1:6379"
#define DEFAULT_COUNT 20
#define TAIL_SCAN_MIN 1000
#define TAIL_SCAN_MAX 100000

static const char usage_text[] =
	"usage: ceptorctl [--redis URL] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  tail [--sector S] [--count N] [--json] [--redis URL]\n"
	"        the latest version of each incident, ranked (P1 first, then\n"
	"        confidence, then last seen); --json prints each incident's\n"
	"        JSON document on its own line.  S is one of telecom finance\n"
	"        aviation rail electricity gas government medical water\n"
	"        logistics unknown council; default: every sector.  N defaults\n"
	"        to 20.\n"
	"  rules check DIR|FILE...\n"
	"        compile the rules; print \"N rules OK\" or FILE:LINE errors\n"
	"        and exit 1.\n"
	"  status, reload\n"
	"        talk to a running ceptord (not available yet).\n"
	"\n"
	"options:\n"
	"  --redis URL   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; default\n"
	"                $CEPTOR_REDIS_URL, else " DEFAULT_URL "\n"
	"  -h, --help    this text\n"
	"  --version     the version\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ceptorctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ceptorctl --help'.\n");
	return 2;
}

/* --- tail: reading ------------------------------------------------------- */

struct incident {
	char *id, *status, *priority, *severity, *sector, *title, *tlp;
	char *first_seen, *last_seen, *sources, *evidence, *json;
	char *confidence;
	long long version;
	double conf;
	int pclass;
	uint64_t last_ts;
};

struct incidents {
	struct incident *v;
	size_t n, cap;
};

static char *dup_reply(const redisReply *r)
{
	char *s = malloc(r->len + 1);
	if (!s) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(1);
	}
	memcpy(s, r->str, r->len);
	s[r->len] = '\0';
	return s;
}

static void incident_free(struct incident *in)
{
	char **f[] = { &in->id, &in->status, &in->priority, &in->severity,
		       &in->sector, &in->title, &in->tlp, &in->first_seen,
		       &in->last_seen, &in->sources, &in->evidence, &in->json,
		       &in->confidence };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
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

static void incident_finish(struct incident *in)
{
	in->conf = in->confidence ? strtod(in->confidence, NULL) : 0.0;
	in->pclass = priority_class(in->priority);
	if (!in->priority && in->id)
		in->pclass = priority_class(in->id); /* ids carry the class */
	in->last_ts = 0;
	if (in->last_seen &&
	    cep_time_parse(in->last_seen, strlen(in->last_seen), &in->last_ts))
		in->last_ts = 0;
}

/* Take the flat fields of one stream entry. */
static int incident_from_fields(struct incident *in, const redisReply *f)
{
	memset(in, 0, sizeof *in);
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		const redisReply *k = f->element[i], *v = f->element[i + 1];
		char **dst = NULL;
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, "id"))
			dst = &in->id;
		else if (!strcmp(k->str, "version")) {
			in->version = strtoll(v->str, NULL, 10);
			continue;
		} else if (!strcmp(k->str, "status"))
			dst = &in->status;
		else if (!strcmp(k->str, "priority"))
			dst = &in->priority;
		else if (!strcmp(k->str, "confidence"))
			dst = &in->confidence;
		else if (!strcmp(k->str, "severity"))
			dst = &in->severity;
		else if (!strcmp(k->str, "sector"))
			dst = &in->sector;
		else if (!strcmp(k->str, "title"))
			dst = &in->title;
		else if (!strcmp(k->str, "tlp"))
			dst = &in->tlp;
		else if (!strcmp(k->str, "first_seen"))
			dst = &in->first_seen;
		else if (!strcmp(k->str, "last_seen"))
			dst = &in->last_seen;
		else if (!strcmp(k->str, "sources"))
			dst = &in->sources;
		else if (!strcmp(k->str, "evidence"))
			dst = &in->evidence;
		else if (!strcmp(k->str, "json"))
			dst = &in->json;
		if (dst && !*dst)
			*dst = dup_reply(v);
	}
	if (!in->id) {
		incident_free(in);
		return -1; /* not an incident message */
	}
	incident_finish(in);
	return 0;
}

static void push(struct incidents *all, const struct incident *in)
{
	if (all->n == all->cap) {
		size_t cap = all->cap ? all->cap * 2 : 256;
		struct incident *v = realloc(all->v, cap * sizeof *v);
		if (!v) {
			fprintf(stderr, "ceptorctl: out of memory\n");
			exit(1);
		}
		all->v = v;
		all->cap = cap;
	}
	all->v[all->n++] = *in;
}

static redisContext *connect_redis(const char *url)
{
	struct cep_redis_url u;
	redisContext *c;
	char err[160];

	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: bad Redis URL: %s\n", err);
		exit(2);
	}
	if (cep_redis_connect(&u, 2000, 10000, &c, err, sizeof err)) {
		fprintf(stderr, strchr(u.host, ':')
					? "ceptorctl: cannot use Redis at [%s]:%d: %s\n"
					: "ceptorctl: cannot use Redis at %s:%d: %s\n",
			u.host, u.port, err);
		return NULL;
	}
	return c;
}

/* Read the newest `scan` messages of one stream.  0, or -1 when the
 * connection failed (a wrong-type key is reported and skipped). */
static int read_stream(redisContext *c, const char *key, long scan,
		       struct incidents *all)
{
	char count[24];
	snprintf(count, sizeof count, "%ld", scan);
	const char *av[] = { "XREVRANGE", key, "+", "-", "COUNT", count };
	redisReply *r = redisCommandArgv(c, 6, av, NULL);
	if (!r) {
		fprintf(stderr, "ceptorctl: reading %s: %s\n", key, c->errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "ceptorctl: reading %s: %s\n", key, r->str);
	} else if (r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];
			struct incident in;
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			if (incident_from_fields(&in, e->element[1]) == 0)
				push(all, &in);
		}
	}
	freeReplyObject(r);
	return 0;
}

/* By id, then newest version first. */
static int cmp_id_version(const void *a, const void *b)
{
	const struct incident *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return (x->version < y->version) - (x->version > y->version);
}

/* P1 first, then higher confidence, then the most recently seen. */
static int cmp_rank(const void *a, const void *b)
{
	const struct incident *x = a, *y = b;
	if (x->pclass != y->pclass)
		return x->pclass < y->pclass ? -1 : 1;
	if (x->conf != y->conf)
		return x->conf > y->conf ? -1 : 1;
	if (x->last_ts != y->last_ts)
		return x->last_ts > y->last_ts ? -1 : 1;
	int c = strcmp(y->last_seen ? y->last_seen : "",
		       x->last_seen ? x->last_seen : "");
	return c ? c : strcmp(x->id, y->id);
}

/* Keep the latest version of each id; frees the others. */
static void dedup(struct incidents *all)
{
	size_t out = 0;
	if (!all->n)
		return;
	qsort(all->v, all->n, sizeof *all->v, cmp_id_version);
	for (size_t i = 0; i < all->n; i++) {
		if (out && !strcmp(all->v[out - 1].id, all->v[i].id)) {
			incident_free(&all->v[i]);
			continue;
		}
		all->v[out++] = all->v[i];
	}
	all->n = out;
}

/* --- tail: printing ------------------------------------------------------ */

/* Characters (UTF-8 code points) in s. */
static size_t u8len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Print s in exactly `width` characters: cut with "..." or padded. */
static void cell(const char *s, size_t width, int last)
{
	if (!s || !*s)
		s = "-";
	size_t n = u8len(s);
	if (n > width) {
		size_t keep = width > 3 ? width - 3 : 0, chars = 0;
		const char *p = s;
		while (*p) {
			if (((unsigned char)*p & 0xC0) != 0x80) {
				if (chars == keep)
					break;
				chars++;
			}
			p++;
		}
		fwrite(s, 1, (size_t)(p - s), stdout);
		fputs(width > 3 ? "..." : "", stdout);
		n = width;
	} else {
		fputs(s, stdout);
	}
	if (!last)
		printf("%*s", (int)(width - n + 2), "");
}

/* Write s as a JSON string. */
static void print_json(const struct incident *in)
{
	if (in->json) {
		puts(in->json);
		return;
	}
	/* No document in the message: rebuild one from the flat fields with
	 * the project's JSON writer. */
	static const char *const names[] = { "id", "status", "priority",
		"severity", "sector", "title", "tlp", "first_seen", "last_seen" };
	const char *const values[] = { in->id, in->status, in->priority,
		in->severity, in->sector, in->title, in->tlp, in->first_seen,
		in->last_seen };
	char buf[8192];
	struct cep_jw w;

	cep_jw_init(&w, buf, sizeof buf);
	cep_jw_begin(&w);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		cep_jw_str(&w, names[i], values[i] ? values[i] : "");
	cep_jw_u64(&w, "version", in->version > 0 ? (uint64_t)in->version : 0);
	cep_jw_double(&w, "confidence", in->conf, 3);
	if (cep_jw_end(&w) > 0)
		puts(buf);
}

enum { C_ID, C_PRI, C_SECTOR, C_CONF, C_SEV, C_TITLE, C_ENTITY, C_SOURCES,
       C_EVID, C_FIRST, C_LAST, C_TLP, C_COUNT };

#define COL_TMP 72

/* "2026-11-25T21:43:04.123456Z" as "2026-11-25 21:43:04": a table shows
 * seconds; --json keeps the whole value. */
static const char *short_time(const char *t, char *tmp)
{
	if (!t || strlen(t) < 19)
		return t;
	memcpy(tmp, t, 19);
	tmp[10] = ' ';
	tmp[19] = '\0';
	return tmp;
}

/* The incident's entity (the address or indicator it is about), from its
 * JSON document. */
static const char *entity_of(const struct incident *in, char *tmp)
{
	struct cep_json_reader r;
	struct cep_json_value k, v;

	if (!in->json)
		return NULL;
	cep_json_reader_init(&r, in->json, strlen(in->json));
	while (cep_json_next(&r, &k, &v) == 1)
		if (cep_json_key_is(&k, "entity") && v.type == CEP_JSON_STRING &&
		    cep_json_unescape(&v, tmp, COL_TMP) >= 0)
			return tmp;
	return NULL;
}

static const char *col_value(const struct incident *in, int col, char *tmp)
{
	switch (col) {
	case C_ENTITY: return entity_of(in, tmp);
	case C_ID: return in->id;
	case C_PRI: return in->priority;
	case C_SECTOR: return in->sector;
	case C_CONF:
		if (!in->confidence)
			return NULL;
		snprintf(tmp, 16, "%.2f", in->conf);
		return tmp;
	case C_SEV: return in->severity;
	case C_TITLE: return in->title;
	case C_SOURCES: return in->sources;
	case C_EVID: return in->evidence;
	case C_FIRST: return short_time(in->first_seen, tmp);
	case C_LAST: return short_time(in->last_seen, tmp);
	default: return in->tlp;
	}
}

static void print_table(const struct incident *v, size_t n)
{
	static const char *const head[C_COUNT] = {
		"ID", "PRI", "SECTOR", "CONF", "SEV", "TITLE", "ENTITY",
		"SOURCES", "EVID", "FIRST SEEN", "LAST SEEN", "TLP"
	};
	static const size_t cap[C_COUNT] = { 20, 4, 11, 5, 8, 48, 39, 24, 5,
					     19, 19, 12 };
	size_t width[C_COUNT];
	char tmp[COL_TMP];

	for (int c = 0; c < C_COUNT; c++)
		width[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < C_COUNT; c++) {
			const char *s = col_value(&v[i], c, tmp);
			size_t l = s ? u8len(s) : 1;
			if (l > width[c])
				width[c] = l < cap[c] ? l : cap[c];
		}
	for (int c = 0; c < C_COUNT; c++)
		cell(head[c], width[c], c == C_COUNT - 1);
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < C_COUNT; c++)
			cell(col_value(&v[i], c, tmp), width[c],
			     c == C_COUNT - 1);
		putchar('\n');
	}
}

static int cmd_tail(const char *url, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sector", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "redis", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sector = NULL;
	long count = DEFAULT_COUNT;
	int json = 0, o;
	char *end;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+s:n:jr:h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sector = optarg;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count < 1 || count > 1000000)
				return usage_error("tail: --count needs a "
						   "number 1..1000000, not "
						   "'%s'", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			url = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("tail: %s", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("tail: unexpected argument '%s'",
				   argv[optind]);

	char keys[CEP_SECTOR_COUNT + 1][64];
	size_t nkeys = 0;
	if (sector) {
		if (strcmp(sector, "unknown") && strcmp(sector, "council") &&
		    cep_sector_parse(sector) < 0)
			return usage_error("tail: unknown sector '%s' (telecom "
					   "finance aviation rail electricity "
					   "gas government medical water "
					   "logistics unknown council)",
					   sector);
		snprintf(keys[nkeys++], sizeof keys[0], "ceptor:{%s}:incidents",
			 sector);
	} else {
		for (int s = 0; s < CEP_SECTOR_COUNT; s++)
			snprintf(keys[nkeys++], sizeof keys[0],
				 "ceptor:{%s}:incidents",
				 s ? cep_sector_name(s) : "unknown");
	}

	redisContext *c = connect_redis(url);
	if (!c)
		return 1;
	long scan = count * 50;
	scan = scan < TAIL_SCAN_MIN ? TAIL_SCAN_MIN
				    : scan > TAIL_SCAN_MAX ? TAIL_SCAN_MAX : scan;
	struct incidents all = { 0 };
	int rc = 0;
	for (size_t k = 0; k < nkeys && rc == 0; k++)
		if (read_stream(c, keys[k], scan, &all))
			rc = 1;
	redisFree(c);

	if (rc == 0) {
		dedup(&all);
		qsort(all.v, all.n, sizeof *all.v, cmp_rank);
		size_t shown = all.n < (size_t)count ? all.n : (size_t)count;
		if (json) {
			for (size_t i = 0; i < shown; i++)
				print_json(&all.v[i]);
		} else if (shown) {
			print_table(all.v, shown);
			if (shown < all.n)
				printf("(%zu of %zu incidents; --count N for "
				       "more)\n", shown, all.n);
		} else {
			printf("no incidents in %s\n",
			       sector ? keys[0] : "ceptor:{*}:incidents");
		}
	}
	for (size_t i = 0; i < all.n; i++)
		incident_free(&all.v[i]);
	free(all.v);
	if (fflush(stdout))
		rc = 1;
	return rc;
}

/* --- rules ----------------------------------------------------------------- */

static int cmd_rules(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("rules: which? %s", "'check DIR...'");
	if (!strcmp(argv[1], "test")) {
		fprintf(stderr, "ceptorctl: rules test: not available yet: "
				"needs the rule test runner\n");
		return 2;
	}
	if (strcmp(argv[1], "check"))
		return usage_error("rules: unknown subcommand '%s'", argv[1]);
	if (argc < 3)
		return usage_error("rules check: %s",
				   "name at least one rule directory or file");
	struct cep_ruleset *rs = NULL;
	int rc = cep_ruleset_compile((const char *const *)argv + 2,
				     (size_t)(argc - 2), stderr, &rs);
	if (rc) {
		fprintf(stderr, "ceptorctl: rules check: %s\n",
			cep_strerror(rc));
		return 1;
	}
	printf("%zu rules OK\n", cep_ruleset_count(rs));
	cep_ruleset_destroy(rs);
	return 0;
}

/* --- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redis", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = getenv("CEPTOR_REDIS_URL");
	int o;

	cep_log_init("ceptorctl", CEP_LOG_WARN);
	if (!url || !*url)
		url = DEFAULT_URL;
	/* '+': stop at the command, whose own options follow it. */
	while ((o = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			url = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("ceptorctl %s\n", CEPTORCTL_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'ceptorctl --help'.\n");
			return 2;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command (tail, rules, status, "
					 "reload)");
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "tail"))
		return cmd_tail(url, argc, argv);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc, argv);
	if (!strcmp(cmd, "status") || !strcmp(cmd, "reload")) {
		fprintf(stderr, "ceptorctl: %s: not available yet: needs the "
				"control socket (issue 8)\n", cmd);
		return 2;
	}
	if (!strcmp(cmd, "help"))
		return fputs(usage_text, stdout), 0;
	return usage_error("unknown command '%s'", cmd);
}
