/*
 * ceptorctl.c - the operator tool.
 *
 *   ceptorctl [--redis URL] tail [--sector S[,S]]... [--priority PN]
 *             [--tlp MARK] [--count N] [--json] [--exercise] [--follow]
 *             [--group NAME [--consumer NAME] [--ack]]
 *   ceptorctl [--redis URL] exercise run SCENARIO.yml [--speed X] [--json]
 *             (engine/ctl/exercise.c)
 *   ceptorctl rules check DIR|FILE...
 *   ceptorctl status [-c CONFIG | --spool DIR] [--json]
 *   ceptorctl status --ring NAME [--json]
 *   ceptorctl reload [-c CONFIG | --spool DIR] [--wait | --no-wait]
 *   ceptorctl feedback [-c CONFIG | --spool DIR] ID confirmed|false-positive
 *             (engine/ctl/feedback.c)
 *
 * tail reads the incident streams ceptor:{SECTOR}:incidents (every sector
 * and "unknown", or the one named), keeps the latest version of each
 * incident (the publisher delivers at least once and every update is a new
 * message, so one id appears many times), ranks them the way analysts read
 * them (priority class P1 first, then confidence, then most recently seen)
 * and prints a table, or with --json each incident's `json` field verbatim,
 * one per line.  Only the newest TAIL_SCAN_MIN..MAX messages of each stream
 * are read: tail shows what is current, not the archive.  Filters (--sector
 * lists, --priority, --tlp) apply before ranking; ANSI colour (P1 bold red,
 * P2 red, P3 yellow, P4 plain, P5 dim) only when stdout is a terminal and
 * NO_COLOR is unset.
 *
 * tail --follow prints the table, then goes on with XREAD BLOCK from the
 * newest entry of each stream it read, one line (or JSON document) per new
 * message, ranked within each read, each (id, version) once in a run: an
 * incident lands on several streams (its sector, the predicted ones).
 * tail --group reads with XREADGROUP as --consumer (default USER@HOST),
 * creating the group on each stream from its start (XGROUP CREATE ... 0
 * MKSTREAM) when missing: first the consumer's own pending entries (id 0,
 * so what a reader was shown but did not acknowledge comes back), then new
 * ones (">"), then with --follow blocks for more.  Only --ack acknowledges:
 * XACK of every entry whose (id, version) was shown, on each stream it was
 * read from; entries a filter hid stay pending.
 *
 * status reads the document ceptord rewrites about once a second in its
 * state directory (SPOOL/status.json; its schema is in engine/loop.h) and
 * prints the inputs (ring fill, drops, the producers' own counters and
 * liveness), the engine's counters and the publisher's state; --json
 * prints the document as it is.  With --ring it attaches read-only to one
 * ring's shared memory instead, which works without ceptord.
 *
 * reload finds ceptord's pid in its status document, sends it SIGHUP, and
 * (unless --no-wait) watches the document until rules.generation grows
 * (the new set runs) or rules.reload_failures grows (it was rejected: the
 * FILE:LINE errors are printed), for at most --timeout seconds.
 *
 * Exit status: 0 done; 1 Redis or the rules failed, or (status) ceptord is
 * not running, or (reload) the new rules were rejected or not seen; 2 usage error or a command that is not available yet;
 * 3 (status) ceptord runs but its status is stale, or a ring's producer
 * is not alive.
 */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ceptor/ring.h"
#include "ceptor/rule.h"
#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/hash.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "loop.h"
#include "lib/clock.h"

#define CEPTORCTL_VERSION "0.1.0-dev"
#define DEFAULT_URL "redis://127.0.0.1:6379"
#define DEFAULT_COUNT 20
#define TAIL_SCAN_MIN 1000
#define TAIL_SCAN_MAX 100000

static const char usage_text[] =
	"usage: ceptorctl [--redis URL] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  tail [--sector S[,S...]]... [--priority PN] [--tlp MARK] [--count N]\n"
	"       [--json] [--exercise] [--follow] [--group NAME [--consumer NAME]\n"
	"       [--ack]] [--redis URL]\n"
	"        the latest version of each incident, ranked (P1 first, then\n"
	"        confidence, then last seen), coloured by priority on a\n"
	"        terminal (not when piped or NO_COLOR is set); --json prints\n"
	"        each incident's JSON document on its own line.  S is one of\n"
	"        telecom finance aviation rail electricity gas government\n"
	"        medical water logistics unknown council; default: every\n"
	"        sector.  --priority P2: that class or more urgent; --tlp\n"
	"        AMBER: that marking or less strict.  N defaults to 20.\n"
	"        --exercise reads the ceptor-exercise: streams.  --follow then\n"
	"        prints each new version as it is published, once per (id,\n"
	"        version).  --group reads as a consumer of a Redis consumer\n"
	"        group (created on each stream if missing, from the start):\n"
	"        first this consumer's pending entries, then new ones; only\n"
	"        --ack acknowledges (XACK) what was shown.  The consumer\n"
	"        defaults to USER@HOST.\n"
	"  exercise run SCENARIO.yml [--speed X] [--json] [--keep] [--redis URL]\n"
	"        replay a scenario through ceptord and the collectors, marked\n"
	"        exercise (ceptor-exercise: streams only), and report each\n"
	"        expected incident or advisory seen or missed, with priority\n"
	"        and delay (tests/scenarios/README.md).  Exit 0: all met; 1:\n"
	"        one missed or the run failed; 2: bad scenario (FILE:LINE).\n"
	"  rules check [--skip-unsupported] [--mapping FILE] [--strict] DIR|FILE...\n"
	"        compile the rules; print \"N rules OK\" or FILE:LINE errors\n"
	"        and exit 1.  Warns (FILE:LINE: warning:) about rules that can\n"
	"        never match and group-by fields without bound; --strict makes\n"
	"        warnings fail too.  --skip-unsupported leaves out third-party\n"
	"        rules using what ceptor cannot map or run, saying why;\n"
	"        --mapping adds a logsource field mapping (rules/LANGUAGE.md).\n"
	"  status [-c CONFIG | --spool DIR] [--json]   (with -c, or --redis\n"
	"      before the command: also the incident streams' consumer groups,\n"
	"      their lag and entries trimmed before they read them)\n"
	"        ceptord's health from the status it writes every second to\n"
	"        its state directory (the spool: --spool DIR, else spool: in\n"
	"        CONFIG, else ceptord's default): each input's ring fill, ring\n"
	"        drops, the producer's captured, kernel and interface drops,\n"
	"        malformed input, and whether it is alive; the engine's\n"
	"        counters; the publisher.  --json prints the status document\n"
	"        as it is (schema in engine/loop.h).\n"
	"        Exit 0: running; 1: not running (no status file, or it says\n"
	"        stopped, or its process is gone); 3: running but the status\n"
	"        is stale (older than 5 s).\n"
	"  status --ring NAME [--json]\n"
	"        look at one shared-memory ring directly (read-only), without\n"
	"        ceptord.  Exit 0: its producer is alive or closed the ring;\n"
	"        1: no such ring; 3: no producer, or it is stale or dead.\n"
	"  reload [-c CONFIG | --spool DIR] [--no-wait] [--timeout S]\n"
	"        make a running ceptord compile its rule directories again and\n"
	"        swap them in (SIGHUP to the pid in its status); windows of\n"
	"        unchanged correlations carry over.  Waits (default; at most S\n"
	"        seconds, 10) for the outcome: prints the new generation and\n"
	"        rule count and exits 0, or prints the FILE:LINE errors of a\n"
	"        rejected set (the running one stays) and exits 1.\n"
	"  impact [--sectors FILE] [--what-if S[,S...]] [--down S1,S2...] [--json]\n"
	"        the sector interdependency model (default rules/sectors.yml):\n"
	"        each sector's criticality K, blast radius B and reach;\n"
	"        --what-if: the sectors an outage of S would spread to, with\n"
	"        strength, impact and expected delay; --down: the sectors now\n"
	"        out, ranked by the downstream impact restoring each alone\n"
	"        relieves.  Exit 1 and FILE:LINE errors on a bad sectors file.\n"
	"  graph [--sectors FILE] [--highlight S,...] [-o FILE.dot|.svg|.png]\n"
	"        the interdependency graph as Graphviz DOT (stdout by default);\n"
	"        --highlight marks sectors as out and colours their predicted\n"
	"        spread; .svg and .png are rendered by Graphviz's dot.\n"
	"  feedback [-c CONFIG | --spool DIR] INCIDENT-ID confirmed|false-positive\n"
	"        an analyst's verdict: appended to the spool's feedback.jsonl,\n"
	"        which ceptord applies within seconds: the upstreams that\n"
	"        supported the incident move one reliability grade better\n"
	"        (confirmed) or worse (false-positive, which also closes it),\n"
	"        kept in the spool's reliability.json.  Exit 1: malformed id or\n"
	"        no spool directory.\n"
	"  stats [--hours N | --days N] [--until TIME] [--json] [--redis URL]\n"
	"        incidents by sector, cause and type over the last N hourly\n"
	"        (default 24) or daily buckets up to TIME (default now; UTC\n"
	"        YYYY-MM-DD[THH]), and the IT failures attributed to another\n"
	"        sector's outage, from the statistics ceptord keeps in Redis.\n"
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

/* Room for one more element in the array *v of *cap (doubling from
 * first); ceptorctl gives up when memory does. */
static void *room(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return v;
	size_t c = *cap ? *cap * 2 : first;
	void *nv = realloc(v, c * size);
	if (!nv) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(1);
	}
	*cap = c;
	return nv;
}

static void push(struct incidents *all, const struct incident *in)
{
	all->v = room(all->v, all->n, &all->cap, sizeof *all->v, 256);
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

/* Read the newest `scan` messages of one stream (newest: when not NULL,
 * receives the newest entry id; left alone for an empty stream).  0, or -1
 * when the connection failed (a wrong-type key is reported and skipped). */
static int read_stream(redisContext *c, const char *key, long scan,
		       struct incidents *all, char *newest)
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
			/* XREVRANGE: the first entry is the newest, where
			 * --follow goes on from. */
			if (newest && i == 0)
				snprintf(newest, 48, "%s", e->element[0]->str);
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

static const char *pri_color(int pclass);

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

static void print_table(const struct incident *v, size_t n, int color)
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
		const char *sgr = color ? pri_color(v[i].pclass) : "";

		fputs(sgr, stdout);
		for (int c = 0; c < C_COUNT; c++)
			cell(col_value(&v[i], c, tmp), width[c],
			     c == C_COUNT - 1);
		fputs(*sgr ? "\033[0m\n" : "\n", stdout);
	}
}

/* --- tail: filters, colour, consumer groups, following ------------------ */

struct tail_opts {
	int pmax;            /* --priority: this class or more urgent */
	int tlpmax;          /* --tlp: this marking or less strict; 0 any */
	int json, color, ack, follow;
	long count;
	const char *group, *consumer;
};

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
	(void)sig;
	tail_stop = 1;
}

/* Whether the filters let the message through. */
static int tail_keep(const struct tail_opts *o, const struct incident *in)
{
	if (in->pclass > o->pmax)
		return 0;
	if (o->tlpmax) {
		int t = in->tlp ? cep_tlp_parse(in->tlp) : -1;

		/* An unknown marking is taken as RED: never shown by
		 * mistake to a reader who asked for less strict ones. */
		if (t <= 0)
			t = CEP_TLP_RED;
		if (t > o->tlpmax)
			return 0;
	}
	return 1;
}

/* ANSI SGR per class: P1 bold red, P2 red, P3 yellow, P4 plain, P5 dim. */
static const char *pri_color(int pclass)
{
	switch (pclass) {
	case 1: return "\033[1;31m";
	case 2: return "\033[31m";
	case 3: return "\033[33m";
	case 4: return "";
	default: return "\033[2m";
	}
}

/* One line per message for the streaming modes (--group, --follow). */
static void print_line(const struct tail_opts *o, const struct incident *in)
{
	char tmp[COL_TMP];
	const char *c = o->color ? pri_color(in->pclass) : "";

	if (o->json) {
		print_json(in);
		return;
	}
	printf("%s%-20s %-3s v%-3lld %-11s %4.2f %-12s %-15s %s%s\n", c,
	       in->id, in->priority ? in->priority : "-", in->version,
	       in->sector ? in->sector : "-", in->conf,
	       in->tlp ? in->tlp : "-",
	       entity_of(in, tmp) ? tmp : "-", in->title ? in->title : "",
	       *c ? "\033[0m" : "");
}

/* Stream entries as read by XREAD / XREADGROUP. */
struct entry {
	struct incident in;
	size_t key;       /* index into the key list */
	char eid[48];     /* the stream entry id */
	int shown;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entries_push(struct entries *all, const struct entry *e)
{
	all->v = room(all->v, all->n, &all->cap, sizeof *all->v, 64);
	all->v[all->n++] = *e;
}

static void entries_clear(struct entries *all)
{
	for (size_t i = 0; i < all->n; i++)
		incident_free(&all->v[i].in);
	all->n = 0;
}

/*
 * One XREAD (group NULL) or XREADGROUP over the keys from ids[] (updated
 * to the last entry read per key, except the group's ">").  block_ms 0:
 * no BLOCK.  Returns 0, or -1 after printing why.
 */
static int read_entries(redisContext *c, const struct tail_opts *o,
			char keys[][64], size_t nkeys, char ids[][48],
			int block_ms, struct entries *out)
{
	const char **av = calloc(10 + 2 * nkeys, sizeof *av);
	char count[24], block[24];
	size_t a = 0;
	redisReply *r;

	if (!av) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(1);
	}
	snprintf(count, sizeof count, "%ld", o->count > 1000 ? o->count : 1000);
	snprintf(block, sizeof block, "%d", block_ms);
	if (o->group) {
		av[a++] = "XREADGROUP";
		av[a++] = "GROUP";
		av[a++] = o->group;
		av[a++] = o->consumer;
	} else {
		av[a++] = "XREAD";
	}
	av[a++] = "COUNT";
	av[a++] = count;
	if (block_ms > 0) {
		av[a++] = "BLOCK";
		av[a++] = block;
	}
	av[a++] = "STREAMS";
	for (size_t k = 0; k < nkeys; k++)
		av[a++] = keys[k];
	for (size_t k = 0; k < nkeys; k++)
		av[a++] = ids[k];
	r = redisCommandArgv(c, (int)a, av, NULL);
	free(av);
	if (!r) {
		fprintf(stderr, "ceptorctl: tail: %s\n", c->errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "ceptorctl: tail: %s\n", r->str);
		freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;
	     i++) {
		const redisReply *st = r->element[i];
		size_t k;

		if (st->type != REDIS_REPLY_ARRAY || st->elements != 2)
			continue;
		for (k = 0; k < nkeys && strcmp(keys[k], st->element[0]->str);
		     k++)
			;
		if (k == nkeys)
			continue;
		for (size_t j = 0; j < st->element[1]->elements; j++) {
			const redisReply *e = st->element[1]->element[j];
			struct entry en;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			if (strcmp(ids[k], ">"))
				snprintf(ids[k], 48, "%s", e->element[0]->str);
			memset(&en, 0, sizeof en);
			en.key = k;
			snprintf(en.eid, sizeof en.eid, "%s",
				 e->element[0]->str);
			/* A pending entry that was deleted has no fields:
			 * it is still acknowledged with the others. */
			if (e->element[1]->type != REDIS_REPLY_ARRAY ||
			    incident_from_fields(&en.in, e->element[1]))
				memset(&en.in, 0, sizeof en.in);
			entries_push(out, &en);
		}
	}
	freeReplyObject(r);
	return 0;
}

/*
 * (id, version) pairs shown in this run: a hash set (open addressing over
 * indices), so that a `tail --follow` running for days checks each message
 * in constant time.
 */
struct seen {
	char **id;
	long long *ver;
	size_t n, cap;
	uint32_t *slot;   /* index + 1 into id/ver; 0 empty */
	size_t nslot;     /* a power of two, at least twice n */
};

static size_t seen_home(const struct seen *s, const char *id, long long ver)
{
	return cep_hash_bytes(id, strlen(id), (uint64_t)ver) & (s->nslot - 1);
}

static bool seen_has(const struct seen *s, const char *id, long long ver)
{
	if (!s->nslot)
		return false;
	for (size_t i = seen_home(s, id, ver); s->slot[i];
	     i = (i + 1) & (s->nslot - 1)) {
		size_t k = s->slot[i] - 1;
		if (s->ver[k] == ver && !strcmp(s->id[k], id))
			return true;
	}
	return false;
}

static void seen_place(struct seen *s, size_t k)
{
	size_t i = seen_home(s, s->id[k], s->ver[k]);
	while (s->slot[i])
		i = (i + 1) & (s->nslot - 1);
	s->slot[i] = (uint32_t)(k + 1);
}

/* Adds in's (id, version); 1 when new, 0 when it was there. */
static int seen_add(struct seen *s, const struct incident *in)
{
	if (seen_has(s, in->id, in->version))
		return 0;
	if ((s->n + 1) * 2 > s->nslot) {
		size_t ns = s->nslot ? s->nslot * 2 : 128;
		free(s->slot);
		if (!(s->slot = calloc(ns, sizeof *s->slot))) {
			fprintf(stderr, "ceptorctl: out of memory\n");
			exit(1);
		}
		s->nslot = ns;
		for (size_t k = 0; k < s->n; k++)
			seen_place(s, k);
	}
	size_t cap = s->cap; /* the two arrays grow together */
	s->id = room(s->id, s->n, &cap, sizeof *s->id, 64);
	s->ver = room(s->ver, s->n, &s->cap, sizeof *s->ver, 64);
	s->id[s->n] = strdup(in->id);
	if (!s->id[s->n]) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(1);
	}
	s->ver[s->n] = in->version;
	seen_place(s, s->n++);
	return 1;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->id[i]);
	free(s->id);
	free(s->ver);
	free(s->slot);
}

static int cmp_entry_rank(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (!x->in.id || !y->in.id)
		return !x->in.id - !y->in.id;
	return cmp_rank(&x->in, &y->in);
}

/* XACK the entries marked shown (and their copies on other streams:
 * the same (id, version)); 0 or -1. */
static int ack_entries(redisContext *c, const struct tail_opts *o,
		       char keys[][64], const struct entries *all,
		       struct seen *shown)
{
	for (size_t i = 0; i < all->n; i++) {
		const struct entry *e = &all->v[i];
		int ack = e->shown || !e->in.id;

		if (!ack)
			ack = seen_has(shown, e->in.id, e->in.version);
		if (!ack)
			continue;
		redisReply *r = redisCommand(c, "XACK %s %s %s", keys[e->key],
					     o->group, e->eid);
		if (!r) {
			fprintf(stderr, "ceptorctl: tail: XACK: %s\n",
				c->errstr);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/*
 * Print one batch: de-duplicated by (id, version) against what this run
 * showed, filtered, ranked; XACK with --ack.  Returns the number shown, or
 * -1 when Redis failed.
 */
static long show_batch(redisContext *c, const struct tail_opts *o,
		       char keys[][64], struct entries *all, struct seen *seen,
		       int table)
{
	struct seen now = { 0 };
	long shown = 0;

	if (all->n) /* an empty batch may have no array at all */
		qsort(all->v, all->n, sizeof *all->v, cmp_entry_rank);
	for (size_t i = 0; i < all->n; i++) {
		struct entry *e = &all->v[i];

		if (!e->in.id || !tail_keep(o, &e->in) ||
		    !seen_add(seen, &e->in))
			continue;
		if (table && o->count && shown >= o->count)
			continue;
		e->shown = 1;
		seen_add(&now, &e->in);
		if (!table || o->json)
			print_line(o, &e->in);
		shown++;
	}
	if (table && !o->json && shown) {
		struct incident *v = calloc((size_t)shown, sizeof *v);
		size_t n = 0;

		if (!v) {
			fprintf(stderr, "ceptorctl: out of memory\n");
			exit(1);
		}
		for (size_t i = 0; i < all->n; i++)
			if (all->v[i].shown)
				v[n++] = all->v[i].in; /* borrowed */
		print_table(v, n, o->color);
		free(v);
	}
	fflush(stdout);
	if (o->ack && o->group && ack_entries(c, o, keys, all, &now))
		shown = -1;
	seen_free(&now);
	return shown;
}

/* XGROUP CREATE key group 0 MKSTREAM on each key; an existing group is
 * fine.  0 or -1. */
static int create_groups(redisContext *c, const char *group, char keys[][64],
			 size_t nkeys)
{
	for (size_t k = 0; k < nkeys; k++) {
		redisReply *r = redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM",
					     keys[k], group);
		if (!r) {
			fprintf(stderr, "ceptorctl: tail: %s\n", c->errstr);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9)) {
			fprintf(stderr, "ceptorctl: tail: XGROUP CREATE %s %s: "
					"%s\n", keys[k], group, r->str);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* --group and/or --follow. */
static int tail_stream(redisContext *c, const struct tail_opts *o,
		       char keys[][64], size_t nkeys, char ids[][48])
{
	struct entries all = { 0 };
	struct seen seen = { 0 };
	struct sigaction sa;
	int rc = 0, table = !o->follow;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tail_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o->group) {
		if (create_groups(c, o->group, keys, nkeys))
			return 1;
		/* First what this consumer was given before and did not
		 * acknowledge, then what is new. */
		for (size_t k = 0; k < nkeys; k++)
			snprintf(ids[k], 48, "0");
		if (read_entries(c, o, keys, nkeys, ids, 0, &all))
			return 1;
		for (size_t k = 0; k < nkeys; k++)
			snprintf(ids[k], 48, ">");
		if (read_entries(c, o, keys, nkeys, ids, 0, &all))
			return 1;
		long n = show_batch(c, o, keys, &all, &seen, table);
		entries_clear(&all);
		if (n < 0)
			rc = 1;
		else if (n == 0 && table && !o->json)
			printf("no new incidents for group %s\n", o->group);
	}
	while (o->follow && !tail_stop && rc == 0) {
		if (read_entries(c, o, keys, nkeys, ids, 1000, &all)) {
			rc = tail_stop ? 0 : 1;
			break;
		}
		if (show_batch(c, o, keys, &all, &seen, 0) < 0)
			rc = 1;
		entries_clear(&all);
	}
	entries_clear(&all);
	free(all.v);
	seen_free(&seen);
	if (fflush(stdout))
		rc = 1;
	return rc;
}

/* Add "a,b,c" to the sector list; -1 on an unknown sector. */
static int add_sectors(const char *arg, const char **list, size_t *n,
		       size_t max)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "unknown") && strcmp(t, "council") &&
		    cep_sector_parse(t) < 0) {
			usage_error("tail: unknown sector '%s' (telecom "
				    "finance aviation rail electricity gas "
				    "government medical water logistics "
				    "unknown council)", t);
			return -1;
		}
		const char *name = !strcmp(t, "unknown") ? "unknown"
				   : !strcmp(t, "council") ? "council"
				   : cep_sector_name(cep_sector_parse(t));
		size_t i;

		for (i = 0; i < *n && strcmp(list[i], name); i++)
			;
		if (i == *n && *n < max)
			list[(*n)++] = name;
	}
	return 0;
}

static int cmd_tail(const char *url, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sector", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "redis", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "consumer", required_argument, NULL, 'C' },
		{ "follow", no_argument, NULL, 'f' },
		{ "priority", required_argument, NULL, 'p' },
		{ "tlp", required_argument, NULL, 't' },
		{ "ack", no_argument, NULL, 'a' },
		{ "exercise", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sectors[CEP_SECTOR_COUNT + 1];
	size_t nsectors = 0;
	struct tail_opts o = { .pmax = 99 };
	long count = DEFAULT_COUNT;
	int o_, exercise = 0, count_set = 0;
	char *end, consumer[128];

	optind = 1;
	while ((o_ = getopt_long(argc, argv, "+s:n:jr:g:C:fp:t:axh", opts,
				 NULL)) != -1) {
		switch (o_) {
		case 's':
			if (add_sectors(optarg, sectors, &nsectors,
					CEP_SECTOR_COUNT + 1))
				return 2;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count < 1 || count > 1000000)
				return usage_error("tail: --count needs a "
						   "number 1..1000000, not "
						   "'%s'", optarg);
			count_set = 1;
			break;
		case 'j': o.json = 1; break;
		case 'r': url = optarg; break;
		case 'g': o.group = optarg; break;
		case 'C': o.consumer = optarg; break;
		case 'f': o.follow = 1; break;
		case 'a': o.ack = 1; break;
		case 'x': exercise = 1; break;
		case 'p':
			o.pmax = priority_class(optarg);
			if (o.pmax < 1 || o.pmax > 5 || optarg[0] != 'P' ||
			    optarg[2])
				return usage_error("tail: --priority wants P1..P5 "
						   "(that class or more urgent), "
						   "not '%s'", optarg);
			break;
		case 't':
			o.tlpmax = cep_tlp_parse(optarg);
			if (o.tlpmax <= 0)
				return usage_error("tail: --tlp wants CLEAR, "
						   "GREEN, AMBER, AMBER+STRICT or "
						   "RED, not '%s'", optarg);
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
	if (o.ack && !o.group)
		return usage_error("tail: %s", "--ack needs --group (only a "
						  "consumer group acknowledges)");
	if (o.consumer && !o.group)
		return usage_error("tail: %s", "--consumer needs --group");
	if (!o.consumer) {
		const char *user = getenv("USER");
		char host[64] = "localhost";

		gethostname(host, sizeof host - 1);
		host[sizeof host - 1] = '\0';
		snprintf(consumer, sizeof consumer, "%s@%s",
			 user && *user ? user : "ceptorctl", host);
		o.consumer = consumer;
	}
	o.count = o.group && !count_set ? 0 : count;
	{
		const char *nc = getenv("NO_COLOR");

		o.color = isatty(STDOUT_FILENO) && !(nc && *nc) && !o.json;
	}

	const char *prefix = exercise ? "ceptor-exercise" : "ceptor";
	char keys[CEP_SECTOR_COUNT + 1][64];
	char ids[CEP_SECTOR_COUNT + 1][48];
	size_t nkeys = 0;
	if (nsectors) {
		for (size_t i = 0; i < nsectors; i++)
			snprintf(keys[nkeys++], sizeof keys[0],
				 "%s:{%s}:incidents", prefix, sectors[i]);
	} else {
		for (int s = 0; s < CEP_SECTOR_COUNT; s++)
			snprintf(keys[nkeys++], sizeof keys[0],
				 "%s:{%s}:incidents", prefix,
				 s ? cep_sector_name(s) : "unknown");
	}
	/* --follow goes on from the newest entry the table read of each
	 * stream; a stream that had none is read from its start, so that
	 * nothing published between the two reads is missed. */
	for (size_t k = 0; k < nkeys; k++)
		snprintf(ids[k], sizeof ids[0], "0-0");

	redisContext *c = connect_redis(url);
	if (!c)
		return 1;
	int rc = 0;
	if (o.group) {
		rc = tail_stream(c, &o, keys, nkeys, ids);
		redisFree(c);
		return rc;
	}

	long scan = count * 50;
	scan = scan < TAIL_SCAN_MIN ? TAIL_SCAN_MIN
				    : scan > TAIL_SCAN_MAX ? TAIL_SCAN_MAX : scan;
	struct incidents all = { 0 };
	for (size_t k = 0; k < nkeys && rc == 0; k++)
		if (read_stream(c, keys[k], scan, &all, o.follow ? ids[k] : NULL))
			rc = 1;

	if (rc == 0) {
		struct seen seen = { 0 };
		size_t kept = 0;

		/* Every version is remembered as shown, so that following
		 * prints only what is newer. */
		for (size_t i = 0; i < all.n; i++)
			seen_add(&seen, &all.v[i]);
		dedup(&all);
		for (size_t i = 0; i < all.n; i++) {
			if (tail_keep(&o, &all.v[i]))
				all.v[kept++] = all.v[i];
			else
				incident_free(&all.v[i]);
		}
		all.n = kept;
		if (all.n)
			qsort(all.v, all.n, sizeof *all.v, cmp_rank);
		size_t shown = all.n < (size_t)count ? all.n : (size_t)count;
		if (o.json) {
			for (size_t i = 0; i < shown; i++)
				print_json(&all.v[i]);
		} else if (shown) {
			print_table(all.v, shown, o.color);
			if (shown < all.n)
				printf("(%zu of %zu incidents; --count N for "
				       "more)\n", shown, all.n);
		} else {
			printf("no incidents in %s\n",
			       nsectors == 1 ? keys[0]
			       : exercise ? "ceptor-exercise:{*}:incidents"
					  : "ceptor:{*}:incidents");
		}
		fflush(stdout);
		if (o.follow) {
			/* tail_stream() keeps its own set: hand it ours. */
			struct entries none = { 0 };
			struct sigaction sa;

			memset(&sa, 0, sizeof sa);
			sa.sa_handler = tail_on_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGINT, &sa, NULL);
			sigaction(SIGTERM, &sa, NULL);
			while (!tail_stop && rc == 0) {
				if (read_entries(c, &o, keys, nkeys, ids, 1000,
						 &none)) {
					rc = tail_stop ? 0 : 1;
					break;
				}
				if (show_batch(c, &o, keys, &none, &seen, 0) < 0)
					rc = 1;
				entries_clear(&none);
			}
			entries_clear(&none);
			free(none.v);
		}
		seen_free(&seen);
	}
	redisFree(c);
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
	if (!strcmp(argv[1], "test"))
		return cep_ctl_rules_test(argc - 2, argv + 2);
	if (strcmp(argv[1], "check"))
		return usage_error("rules: unknown subcommand '%s'", argv[1]);
	struct cep_rule_options ro = { 0 };
	const char *maps[16];
	const char *dirs[256];
	size_t ndirs = 0;
	int strict = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--skip-unsupported")) {
			ro.skip_unsupported = true;
		} else if (!strcmp(argv[i], "--strict")) {
			strict = 1;
		} else if (!strcmp(argv[i], "--mapping")) {
			if (i + 1 == argc || ro.nmapping == 16)
				return usage_error("rules check: %s",
						   "--mapping FILE (at most 16)");
			maps[ro.nmapping++] = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("rules check: unknown option '%s'",
					   argv[i]);
		} else if (ndirs < 256) {
			dirs[ndirs++] = argv[i];
		}
	}
	if (!ndirs)
		return usage_error("rules check: %s",
				   "name at least one rule directory or file");
	ro.mapping = maps;
	struct cep_ruleset *rs = NULL;
	int rc = cep_ruleset_compile_opts(dirs, ndirs, &ro, stderr, &rs);
	if (rc) {
		fprintf(stderr, "ceptorctl: rules check: %s\n",
			cep_strerror(rc));
		return 1;
	}
	int warnings = cep_ruleset_lint(rs, stderr);
	printf("%zu rules OK", cep_ruleset_count(rs));
	if (cep_ruleset_skipped(rs))
		printf(", %zu skipped (unsupported)", cep_ruleset_skipped(rs));
	if (warnings)
		printf(", %d warning%s", warnings, warnings == 1 ? "" : "s");
	printf("\n");
	cep_ruleset_destroy(rs);
	return strict && warnings ? 1 : 0;
}

/* --- status ---------------------------------------------------------------- */

/*
 * ceptord's status document (engine/loop.h has its schema), read back.  The
 * reader of json.h walks one object; these helpers look members up by name
 * in an object span and walk the objects of an array span.
 */

#define STATUS_MAX (4u << 20)   /* larger than any status document */
#define STATUS_STALE_MS 5000    /* older than this: stale (5 intervals) */

enum { ST_OK = 0, ST_NOT_RUNNING = 1, ST_USAGE = 2, ST_STALE = 3 };


static int64_t wall_ms(void)
{
	return (int64_t)(cep_clock_wall_ns() / 1000000);
}

/* 1 when process @pid exists (a hint: pids are reused). */
static int pid_alive(uint64_t pid)
{
	if (pid == 0 || pid > INT32_MAX)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* "1h02m03s", "4m05s", "7.2s". */
static const char *duration(double s, char *buf, size_t size)
{
	unsigned long t = s > 0 ? (unsigned long)s : 0;

	if (t >= 3600)
		snprintf(buf, size, "%luh%02lum%02lus", t / 3600, t / 60 % 60,
			 t % 60);
	else if (t >= 60)
		snprintf(buf, size, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, size, "%.1fs", s > 0 ? s : 0);
	return buf;
}

/* "512 B", "18.0 KiB", "3.2 MiB", "1.0 GiB". */
static const char *bytes(uint64_t b, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)b);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
	return buf;
}

enum { I_NAME, I_KIND, I_STATE, I_FILL, I_ENQ, I_RDROP, I_CAPT, I_KDROP,
       I_IFDROP, I_BAD, I_PROD, I_COUNT };
#define ICELL 64

/* One table row of an input object (ceptord's inputs[] or --ring's). */
static void input_row(struct cep_json_span in, char cells[I_COUNT][ICELL])
{
	struct cep_json_span prod = cep_json_get_sub(in, "producer", CEP_JSON_OBJECT);
	char state[16], tmp[32];
	uint64_t pid = cep_json_get_u64(prod, "pid");

	cep_json_get_str(in, "name", cells[I_NAME], ICELL);
	cep_json_get_str(in, "kind", cells[I_KIND], ICELL);
	cep_json_get_str(in, "state", cells[I_STATE], ICELL);
	snprintf(cells[I_FILL], ICELL, "%llu/%llu %.1f%%",
		 (unsigned long long)cep_json_get_u64(in, "ring_used"),
		 (unsigned long long)cep_json_get_u64(in, "ring_capacity"),
		 cep_json_get_double(in, "fill_pct"));
	snprintf(cells[I_ENQ], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(in, "enqueued"));
	snprintf(cells[I_RDROP], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(in, "ring_drops"));
	snprintf(cells[I_CAPT], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(prod, "captured"));
	snprintf(cells[I_KDROP], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(prod, "kernel_drops"));
	snprintf(cells[I_IFDROP], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(prod, "if_drops"));
	snprintf(cells[I_BAD], ICELL, "%llu",
		 (unsigned long long)cep_json_get_u64(prod, "malformed"));
	cep_json_get_str(prod, "state", state, sizeof state);
	if (!strcmp(state, "none") || !state[0]) {
		snprintf(cells[I_PROD], ICELL, "none");
	} else {
		int n = snprintf(cells[I_PROD], ICELL, "%s", state);
		if (pid)
			n += snprintf(cells[I_PROD] + n, ICELL - (size_t)n,
				      " pid %llu", (unsigned long long)pid);
		/* The heartbeat's age matters only while it should beat. */
		if (cep_json_get_bool(prod, "reports") && n < ICELL &&
		    (!strcmp(state, "alive") || !strcmp(state, "stale")))
			snprintf(cells[I_PROD] + n, ICELL - (size_t)n,
				 ", beat %s ago",
				 duration(cep_json_get_u64(prod, "heartbeat_age_ms") /
						  1000.0,
					  tmp, sizeof tmp));
	}
}

/* The inputs table: fill, ring drops (drop policy), the producer's own
 * counters and whether it lives. */
static void print_inputs(const struct cep_json_span *rows, size_t n)
{
	static const char *const head[I_COUNT] = {
		"INPUT", "KIND", "STATE", "FILL", "ENQUEUED", "RING DROPS",
		"CAPTURED", "KERNEL DROPS", "IF DROPS", "MALFORMED", "PRODUCER"
	};
	char (*cells)[I_COUNT][ICELL] = calloc(n ? n : 1, sizeof *cells);
	size_t width[I_COUNT];

	if (!cells) {
		fprintf(stderr, "ceptorctl: out of memory\n");
		exit(1);
	}
	for (int c = 0; c < I_COUNT; c++)
		width[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		input_row(rows[i], cells[i]);
		for (int c = 0; c < I_COUNT; c++)
			if (u8len(cells[i][c]) > width[c])
				width[c] = u8len(cells[i][c]);
	}
	for (int c = 0; c < I_COUNT; c++)
		cell(head[c], width[c], c == I_COUNT - 1);
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < I_COUNT; c++)
			cell(cells[i][c], width[c], c == I_COUNT - 1);
		putchar('\n');
	}
	if (n == 0)
		printf("(no inputs)\n");
	free(cells);
}

static void print_status(struct cep_json_span doc, const char *path, const char *verdict,
			 int64_t age_ms)
{
	struct cep_json_span eng = cep_json_get_sub(doc, "engine", CEP_JSON_OBJECT);
	struct cep_json_span det = cep_json_get_sub(doc, "detect", CEP_JSON_OBJECT);
	struct cep_json_span pub = cep_json_get_sub(doc, "publisher", CEP_JSON_OBJECT);
	struct cep_json_span arr = cep_json_get_sub(doc, "inputs", CEP_JSON_ARRAY);
	struct cep_json_span *rows = NULL, obj;
	char version[32], started[40], now[40], site[64], err[160], t1[32],
		t2[32];
	size_t n = 0, cap = 0, pos = 0;

	cep_json_get_str(doc, "version", version, sizeof version);
	printf("ceptord %s, pid %llu: %s; up %s, status written %s ago\n",
	       version, (unsigned long long)cep_json_get_u64(doc, "pid"), verdict,
	       duration(cep_json_get_double(doc, "uptime_s"), t1, sizeof t1),
	       duration(age_ms / 1000.0, t2, sizeof t2));
	printf("  started %s, status of %s, site %s\n  %s\n\n",
	       short_time(cep_json_get_str(doc, "started", started, sizeof started), t1),
	       short_time(cep_json_get_str(doc, "now", now, sizeof now), t2),
	       cep_json_get_str(doc, "site", site, sizeof site), path);

	while (arr.len && cep_json_array_next(arr, &pos, &obj) == 1) {
		rows = room(rows, n, &cap, sizeof *rows, 8);
		rows[n++] = obj;
	}
	print_inputs(rows, n);
	free(rows);

	printf("\nengine     events %llu (%.1f/s), signals %llu, incidents %llu "
	       "(%llu open), messages %llu\n"
	       "           dropped %llu, malformed %llu, input errors %llu\n",
	       (unsigned long long)cep_json_get_u64(eng, "events"),
	       cep_json_get_double(eng, "events_per_s"),
	       (unsigned long long)cep_json_get_u64(eng, "signals"),
	       (unsigned long long)cep_json_get_u64(eng, "incidents"),
	       (unsigned long long)cep_json_get_u64(eng, "incidents_open"),
	       (unsigned long long)cep_json_get_u64(eng, "messages"),
	       (unsigned long long)cep_json_get_u64(eng, "dropped"),
	       (unsigned long long)cep_json_get_u64(eng, "malformed"),
	       (unsigned long long)cep_json_get_u64(eng, "input_errors"));
	struct cep_json_span rul = cep_json_get_sub(doc, "rules", CEP_JSON_OBJECT);
	if (rul.len) {
		char last[160];

		printf("rules      %llu rules, generation %llu; reloads %llu, "
		       "rejected %llu%s\n",
		       (unsigned long long)cep_json_get_u64(rul, "count"),
		       (unsigned long long)cep_json_get_u64(rul, "generation"),
		       (unsigned long long)cep_json_get_u64(rul, "reloads"),
		       (unsigned long long)cep_json_get_u64(rul, "reload_failures"),
		       cep_json_get_bool(rul, "watch") ? "; watching the rule directories"
					   : "");
		if (*cep_json_get_str(rul, "last_error", last, sizeof last))
			printf("           last rejection: %s\n", last);
	}
	printf("detect     keys live %llu, evicted %llu, expired %llu; "
	       "late %llu, signals dropped %llu; state %s\n",
	       (unsigned long long)cep_json_get_u64(det, "keys_live"),
	       (unsigned long long)cep_json_get_u64(det, "keys_evicted"),
	       (unsigned long long)cep_json_get_u64(det, "keys_expired"),
	       (unsigned long long)cep_json_get_u64(eng, "events_late"),
	       (unsigned long long)cep_json_get_u64(det, "signals_dropped"),
	       bytes(cep_json_get_u64(det, "mem_bytes"), t1, sizeof t1));
	if (!cep_json_get_bool(pub, "enabled")) {
		printf("publisher  none (--redis none)\n");
		return;
	}
	printf("publisher  %s, published %llu (%.1f/s), spool %s "
	       "(spooled %llu, replayed %llu), errors %llu, lost %llu\n",
	       cep_json_get_bool(pub, "connected") ? "connected" : "DISCONNECTED",
	       (unsigned long long)cep_json_get_u64(pub, "published"),
	       cep_json_get_double(pub, "published_per_s"),
	       bytes(cep_json_get_u64(pub, "spool_bytes"), t1, sizeof t1),
	       (unsigned long long)cep_json_get_u64(pub, "spooled"),
	       (unsigned long long)cep_json_get_u64(pub, "replayed"),
	       (unsigned long long)cep_json_get_u64(pub, "errors"),
	       (unsigned long long)cep_json_get_u64(pub, "lost"));
	if (*cep_json_get_str(pub, "last_error", err, sizeof err))
		printf("           last error: %s\n", err);
	struct cep_json_span lat = cep_json_get_sub(pub, "ingest_to_ack",
						    CEP_JSON_OBJECT);
	if (cep_json_get_u64(lat, "measured"))
		printf("           ingest to ack: p50 %.3f ms, p99 %.3f ms, "
		       "p99.9 %.3f ms, max %.3f ms over %llu messages\n",
		       cep_json_get_double(lat, "p50_ms"),
		       cep_json_get_double(lat, "p99_ms"),
		       cep_json_get_double(lat, "p999_ms"),
		       cep_json_get_double(lat, "max_ms"),
		       (unsigned long long)cep_json_get_u64(lat, "measured"));
}

/* --ring NAME: the ring's own view, without ceptord. */
static int status_ring(const char *name, int json)
{
	struct cep_ring *r;
	struct cep_ring_stats rs;
	struct cep_jw w;
	char buf[2048], t[CEP_TIME_STRLEN];
	int64_t now;
	int rc, ps;

	rc = cep_ring_attach_readonly(name, &r);
	if (rc) {
		fprintf(stderr, "ceptorctl: status: %s\n",
			*cep_ring_last_error() ? cep_ring_last_error()
					       : cep_strerror(rc));
		return ST_NOT_RUNNING;
	}
	cep_ring_stats(r, &rs);
	cep_ring_destroy(r);
	now = wall_ms() * 1000000;
	ps = cep_ring_producer_state(&rs, now);

	/* The same fields as an input of ceptord's status document. */
	cep_jw_init(&w, buf, sizeof buf);
	cep_jw_begin(&w);
	cep_jw_str(&w, "name", name);
	cep_jw_str(&w, "kind", "ring");
	cep_jw_str(&w, "ring", name);
	cep_jw_str(&w, "state", rs.closed ? "closed" : "open");
	cep_jw_u64(&w, "ring_capacity", rs.capacity);
	cep_jw_u64(&w, "ring_used", rs.used);
	cep_jw_double(&w, "fill_pct", 100.0 * rs.used / rs.capacity, 1);
	cep_jw_u64(&w, "enqueued", rs.enqueued);
	cep_jw_u64(&w, "dequeued", rs.dequeued);
	cep_jw_u64(&w, "ring_drops", rs.dropped);
	cep_jw_open(&w, "producer", '{');
	cep_jw_u64(&w, "pid", rs.producer_pid > 0 ? (uint64_t)rs.producer_pid
						  : 0);
	cep_jw_str(&w, "state", cep_ring_producer_state_name(ps));
	cep_jw_bool(&w, "alive", ps == CEP_RING_PRODUCER_ALIVE);
	cep_jw_bool(&w, "reports", rs.producer_reports);
	cep_jw_str(&w, "heartbeat", rs.heartbeat_ns > 0
		   ? cep_time_format((uint64_t)rs.heartbeat_ns, t) : "");
	cep_jw_u64(&w, "heartbeat_age_ms",
		   rs.heartbeat_ns > 0 && now > rs.heartbeat_ns
			   ? (uint64_t)(now - rs.heartbeat_ns) / 1000000 : 0);
	cep_jw_u64(&w, "captured", rs.producer.captured);
	cep_jw_u64(&w, "kernel_drops", rs.producer.kernel_drops);
	cep_jw_u64(&w, "if_drops", rs.producer.if_drops);
	cep_jw_u64(&w, "malformed", rs.producer.malformed);
	cep_jw_open(&w, "run", '{');
	cep_jw_u64(&w, "captured", rs.producer_run.captured);
	cep_jw_u64(&w, "kernel_drops", rs.producer_run.kernel_drops);
	cep_jw_u64(&w, "if_drops", rs.producer_run.if_drops);
	cep_jw_u64(&w, "malformed", rs.producer_run.malformed);
	cep_jw_close(&w, '}');
	cep_jw_close(&w, '}');
	if (cep_jw_end(&w) < 0) {
		fprintf(stderr, "ceptorctl: status: ring name too long\n");
		return ST_NOT_RUNNING;
	}
	if (json) {
		puts(buf);
	} else {
		struct cep_json_span row = { buf, strlen(buf) };
		print_inputs(&row, 1);
	}
	return ps == CEP_RING_PRODUCER_ALIVE || ps == CEP_RING_PRODUCER_CLOSED
		       ? ST_OK : ST_STALE;
}

static int cmd_status(const char *url_given, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 's' },
		{ "ring", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *spool = NULL, *ring = NULL;
	char dir[4096], path[4200], state[16], *groups_url = NULL;
	int json = 0, o, err, rc;
	unsigned long long maxlen = 0;
	size_t len;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 's': spool = optarg; break;
		case 'R': ring = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return usage_error("status: %s", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("status: unexpected argument '%s'",
				   argv[optind]);
	if (config && spool)
		return usage_error("status: %s", "give -c CONFIG or --spool "
						 "DIR, not both");
	if (ring)
		return status_ring(ring, json);

	if (spool) {
		snprintf(dir, sizeof dir, "%s", spool);
	} else {
		struct cep_config cfg;

		cep_config_init(&cfg);
		if (config && cep_config_load(&cfg, config, stderr)) {
			cep_config_fini(&cfg);
			return ST_NOT_RUNNING;
		}
		if (cfg.spool_dir)
			snprintf(dir, sizeof dir, "%s", cfg.spool_dir);
		else
			cep_file_default_spool(dir, sizeof dir);
		/* The consumer groups of the Redis the config publishes to. */
		if (config && cfg.redis_url && !url_given)
			groups_url = strdup(cfg.redis_url);
		cep_config_fini(&cfg);
	}
	if (url_given && !groups_url)
		groups_url = strdup(url_given);
	snprintf(path, sizeof path, "%s/" CEP_STATUS_FILE, dir);

	char *text;
	err = -cep_file_read(path, STATUS_MAX, &text, &len);
	if (err) {
		if (err == ENOENT)
			fprintf(stderr, "ceptorctl: status: ceptord is not "
					"running or has no state dir at %s "
					"(no %s)\n", dir, CEP_STATUS_FILE);
		else
			fprintf(stderr, "ceptorctl: status: cannot read %s: "
					"%s\n", path, strerror(err));
		return ST_NOT_RUNNING;
	}
	struct cep_json_span doc = { text, len };
	struct cep_json_reader r;
	struct cep_json_value k, v;
	cep_json_reader_init(&r, text, len);
	while ((rc = cep_json_next(&r, &k, &v)) == 1)
		;
	if (rc < 0 || !cep_json_get_u64(doc, "pid")) {
		fprintf(stderr, "ceptorctl: status: %s is not a ceptord status "
				"document (%s at byte %zu)\n", path,
			rc < 0 ? r.err : "no pid", rc < 0 ? r.err_off : 0);
		free(text);
		return ST_NOT_RUNNING;
	}

	/* How old, and is its writer still there? */
	uint64_t pid = cep_json_get_u64(doc, "pid"), interval = cep_json_get_u64(doc, "interval_ms");
	int64_t age = wall_ms() - (int64_t)cep_json_get_u64(doc, "now_ms");
	int64_t stale_ms = interval * 5 > STATUS_STALE_MS
				   ? (int64_t)interval * 5 : STATUS_STALE_MS;
	char verdict[160], t[32];
	if (age < 0)
		age = 0; /* another clock, or a clock step: not stale */
	cep_json_get_str(doc, "state", state, sizeof state);
	if (strcmp(state, "running")) {
		snprintf(verdict, sizeof verdict, "STOPPED (its last status)");
		fprintf(stderr, "ceptorctl: status: ceptord is not running: "
				"pid %llu stopped %s ago\n",
			(unsigned long long)pid,
			duration(age / 1000.0, t, sizeof t));
		rc = ST_NOT_RUNNING;
	} else if (!pid_alive(pid)) {
		snprintf(verdict, sizeof verdict, "NOT RUNNING (it ended "
			 "without a final status)");
		fprintf(stderr, "ceptorctl: status: ceptord is not running: "
				"pid %llu is gone and left no final status "
				"(killed or crashed?)\n",
			(unsigned long long)pid);
		rc = ST_NOT_RUNNING;
	} else if (age > stale_ms) {
		snprintf(verdict, sizeof verdict, "STALE (no status for %s: "
			 "hung or overloaded?)",
			 duration(age / 1000.0, t, sizeof t));
		fprintf(stderr, "ceptorctl: status: stale: %s was written %s "
				"ago (ceptord writes it every %llu ms)\n",
			path, duration(age / 1000.0, t, sizeof t),
			(unsigned long long)interval);
		rc = ST_STALE;
	} else {
		snprintf(verdict, sizeof verdict, "running");
		rc = ST_OK;
	}
	if (json && groups_url) {
		/* The document with one more member: "consumer_groups". */
		size_t end = len;
		while (end && text[end - 1] != '}')
			end--;
		if (end) {
			fwrite(text, 1, end - 1, stdout);
			fputs(",\"consumer_groups\":", stdout);
			if (cep_ctl_lag(groups_url, maxlen, true, stdout) < 0)
				fputs("null", stdout);
			fputs("}\n", stdout);
		}
	} else if (json) {
		fputs(text, stdout);
	} else {
		print_status(doc, path, verdict, age);
		if (groups_url)
			cep_ctl_lag(groups_url, maxlen, false, stdout);
	}
	free(groups_url);
	free(text);
	if (fflush(stdout) && rc == ST_OK)
		rc = ST_NOT_RUNNING;
	return rc;
}

/* --- reload ---------------------------------------------------------------- */

#define RELOAD_POLL_MS 50

/* What reload reads from the status document, each poll. */
struct rstatus {
	uint64_t pid, generation, failures, count;
	char state[16];
	char *text; /* the document, to free */
	struct cep_json_span rules;
};

/* Reads and checks the status document; 0, or -1 after saying why. */
static int rstatus_read(const char *path, struct rstatus *st)
{
	struct cep_json_span doc;
	int err;
	size_t len;

	memset(st, 0, sizeof *st);
	err = -cep_file_read(path, STATUS_MAX, &st->text, &len);
	if (err) {
		fprintf(stderr, "ceptorctl: reload: cannot read %s: %s (is "
				"ceptord running with this spool?)\n", path,
			strerror(err));
		return -1;
	}
	doc.p = st->text;
	doc.len = len;
	st->pid = cep_json_get_u64(doc, "pid");
	cep_json_get_str(doc, "state", st->state, sizeof st->state);
	st->rules = cep_json_get_sub(doc, "rules", CEP_JSON_OBJECT);
	if (!st->pid || !st->rules.len) {
		fprintf(stderr, "ceptorctl: reload: %s is not the status of a "
				"ceptord that can reload (no pid or rules)\n",
			path);
		free(st->text);
		st->text = NULL;
		return -1;
	}
	st->generation = cep_json_get_u64(st->rules, "generation");
	st->failures = cep_json_get_u64(st->rules, "reload_failures");
	st->count = cep_json_get_u64(st->rules, "count");
	return 0;
}

static int cmd_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *spool = NULL;
	char dir[4096], path[4200];
	struct rstatus st0, st;
	int wait = 1, o;
	double timeout = 10;
	int64_t deadline;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 's': spool = optarg; break;
		case 'w': wait = 1; break;
		case 'n': wait = 0; break;
		case 't':
			timeout = strtod(optarg, NULL);
			if (!(timeout > 0 && timeout <= 3600))
				return usage_error("reload: --timeout wants 0 < "
						   "S <= 3600, not '%s'", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return usage_error("reload: %s", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("reload: unexpected argument '%s'",
				   argv[optind]);
	if (config && spool)
		return usage_error("reload: %s", "give -c CONFIG or --spool "
						 "DIR, not both");
	if (spool) {
		snprintf(dir, sizeof dir, "%s", spool);
	} else {
		struct cep_config cfg;

		cep_config_init(&cfg);
		if (config && cep_config_load(&cfg, config, stderr)) {
			cep_config_fini(&cfg);
			return 1;
		}
		if (cfg.spool_dir)
			snprintf(dir, sizeof dir, "%s", cfg.spool_dir);
		else
			cep_file_default_spool(dir, sizeof dir);
		cep_config_fini(&cfg);
	}
	snprintf(path, sizeof path, "%s/" CEP_STATUS_FILE, dir);

	if (rstatus_read(path, &st0))
		return 1;
	if (strcmp(st0.state, "running") || !pid_alive(st0.pid)) {
		fprintf(stderr, "ceptorctl: reload: ceptord is not running "
				"(pid %llu, status %s)\n",
			(unsigned long long)st0.pid, st0.state);
		free(st0.text);
		return 1;
	}
	if (kill((pid_t)st0.pid, SIGHUP)) {
		fprintf(stderr, "ceptorctl: reload: cannot signal pid %llu: "
				"%s\n", (unsigned long long)st0.pid,
			strerror(errno));
		free(st0.text);
		return 1;
	}
	if (!wait) {
		printf("reload requested from ceptord pid %llu (generation "
		       "%llu now)\n", (unsigned long long)st0.pid,
		       (unsigned long long)st0.generation);
		free(st0.text);
		return 0;
	}
	deadline = wall_ms() + (int64_t)(timeout * 1000);
	while (wall_ms() < deadline) {
		struct timespec ts = { 0, RELOAD_POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
		/* A document being replaced is never half written (rename),
		 * but a missing one is read again on the next poll. */
		if (access(path, R_OK) || rstatus_read(path, &st))
			continue;
		if (st.pid != st0.pid || strcmp(st.state, "running")) {
			fprintf(stderr, "ceptorctl: reload: ceptord pid %llu "
					"stopped before it answered\n",
				(unsigned long long)st0.pid);
			free(st.text);
			free(st0.text);
			return 1;
		}
		if (st.generation > st0.generation) {
			struct cep_json_span last = cep_json_get_sub(st.rules, "last_reload",
						CEP_JSON_OBJECT);

			printf("rules reloaded: generation %llu, %llu rules "
			       "(unchanged %llu, changed %llu, added %llu, "
			       "removed %llu; window groups kept %llu, closed "
			       "%llu)\n",
			       (unsigned long long)st.generation,
			       (unsigned long long)st.count,
			       (unsigned long long)cep_json_get_u64(last, "unchanged"),
			       (unsigned long long)cep_json_get_u64(last, "changed"),
			       (unsigned long long)cep_json_get_u64(last, "added"),
			       (unsigned long long)cep_json_get_u64(last, "removed"),
			       (unsigned long long)cep_json_get_u64(last, "groups_kept"),
			       (unsigned long long)cep_json_get_u64(last, "groups_closed"));
			free(st.text);
			free(st0.text);
			return 0;
		}
		if (st.failures > st0.failures) {
			char *err = malloc(STATUS_MAX);

			if (err)
				cep_json_get_str(st.rules, "last_error", err, STATUS_MAX);
			fprintf(stderr, "ceptorctl: reload: rejected; ceptord "
					"keeps generation %llu (%llu rules):\n%s\n",
				(unsigned long long)st.generation,
				(unsigned long long)st.count, err ? err : "");
			free(err);
			free(st.text);
			free(st0.text);
			return 1;
		}
		free(st.text);
	}
	fprintf(stderr, "ceptorctl: reload: no outcome in %s within %.0f s "
			"(ceptord pid %llu got SIGHUP)\n", path, timeout,
		(unsigned long long)st0.pid);
	free(st0.text);
	return 1;
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
	const char *url_given = url && *url ? url : NULL; /* not the default */
	int o;

	cep_log_init("ceptorctl", CEP_LOG_WARN);
	if (!url || !*url)
		url = DEFAULT_URL;
	/* '+': stop at the command, whose own options follow it. */
	while ((o = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			url = url_given = optarg;
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
					 "reload, feedback, exercise)");
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "tail"))
		return cmd_tail(url, argc, argv);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(url_given, argc, argv);
	if (!strcmp(cmd, "reload"))
		return cmd_reload(argc, argv);
	if (!strcmp(cmd, "impact"))
		return cep_ctl_impact(argc - 1, argv + 1);
	if (!strcmp(cmd, "graph"))
		return cep_ctl_graph(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return cep_ctl_stats(url, argc, argv);
	if (!strcmp(cmd, "feedback"))
		return cep_ctl_feedback(argc, argv);
	if (!strcmp(cmd, "exercise"))
		return cep_ctl_exercise(url, argc, argv);
	if (!strcmp(cmd, "help"))
		return fputs(usage_text, stdout), 0;
	return usage_error("unknown command '%s'", cmd);
}
