/*
 * impact.c - `ceptorctl impact` and `ceptorctl graph`: the sector
 * interdependency model (engine/core/sectors.h) for operators.
 *
 *   ceptorctl impact [--sectors FILE] [--what-if S[,S...]] [--down S,S...]
 *                    [--json]
 *   ceptorctl graph  [--sectors FILE] [--highlight S,...] [--redis URL]
 *                    [-o FILE]
 *
 * impact answers the two questions of a large outage: "what will this
 * spread to, and when" (--what-if) and "we have these sectors down: which
 * one do we bring back first" (--down, ranked by the downstream impact
 * that restoring it alone relieves; the measure is in sectors.h).  With
 * neither it prints each sector's K, B and reach, which is also how an
 * edited sectors file is checked: problems come out as FILE:LINE.
 *
 * graph writes the graph as Graphviz DOT: an edge u -> v means "an outage
 * of u spreads to v", labelled with its weight and delay; nodes are sized
 * and shaded by criticality; --highlight marks sectors as out (red) and
 * shades their predicted spread (orange, by strength) with the strongest
 * paths drawn in red.  --redis URL takes the highlight from the current
 * incidents instead (or as well): every sector with an open outage
 * incident (one that carries an impact prediction) in its stream
 * ceptor:{SECTOR}:incidents is out, and each sector's node names its open
 * incidents (count and most urgent class).  -o FILE.svg or FILE.png pipes
 * the DOT through Graphviz's `dot`, which must be on PATH.
 *
 * Nothing here computes a model figure itself: every number comes from
 * the cep_sectors_* queries, so the tool shows exactly what the engine uses.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "core/sectors.h"
#include "ctl/ctl.h"
#include "lib/json.h"

#define N CEP_SECTOR_COUNT
#define JSON_ROOM 65536

static int usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "ceptorctl %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ceptorctl --help'.\n");
	return 2;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when it is not. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
			     bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	*missing = false;
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int load(const char *path, struct cep_sectors **g)
{
	int rc = cep_sectors_load(path, stderr, g);
	if (rc == -CEP_ECONFIG)
		fprintf(stderr, "ceptorctl: %s: the sectors file has problems\n",
			path);
	return rc;
}

static int parse_set(const char *cmd, const char *opt, const char *text,
		     uint32_t *set)
{
	const char *bad;
	if (cep_sectors_parse_list(text, set, &bad) == 0 && *set)
		return 0;
	fprintf(stderr, "ceptorctl %s: %s: unknown sector at \"%s\" (one of "
		"telecom finance aviation rail electricity gas government "
		"medical water logistics, comma-separated)\n", cmd, opt,
		bad ? bad : text);
	return 2;
}

/* "electricity, telecom" into buf. */
static const char *set_text(uint32_t set, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int s = 1; s < N; s++)
		if (set & CEP_SECTOR_BIT(s)) {
			int n = snprintf(buf + used, size - used, "%s%s",
					 used ? ", " : "", cep_sector_name(s));
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
	return buf;
}

/*
 * The path to a hit sector, from the source it was reached from:
 * "electricity > telecom > finance".
 */
static const char *path_text(const struct cep_sectors_hit *hits, int n,
			     uint32_t sources, int sector, char *buf,
			     size_t size)
{
	int via[N], chain[N], len = 0;

	for (int s = 0; s < N; s++)
		via[s] = -1;
	for (int i = 0; i < n; i++)
		via[hits[i].sector] = hits[i].via;
	for (int s = sector; len < N; s = via[s]) {
		chain[len++] = s;
		if ((sources & CEP_SECTOR_BIT(s)) || via[s] < 0)
			break;
	}
	size_t used = 0;
	buf[0] = '\0';
	for (int i = len - 1; i >= 0; i--) {
		int k = snprintf(buf + used, size - used, "%s%s",
				 i == len - 1 ? "" : " > ",
				 cep_sector_name(chain[i]));
		if (k < 0 || (size_t)k >= size - used)
			break;
		used += (size_t)k;
	}
	return buf;
}

/* --- impact: text -------------------------------------------------------- */

static void print_table(const struct cep_sectors *g)
{
	int order[N], n = 0;

	for (int s = 1; s < N; s++)
		order[n++] = s;
	/* By blast radius, widest first; a stable insertion sort of nine. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cep_sectors_blast(g, order[j]) >
					   cep_sectors_blast(g, order[j - 1]); j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	printf("%-12s %5s %5s %6s %8s\n", "sector", "K", "B", "reach",
	       "reaches");
	for (int i = 0; i < n; i++) {
		struct cep_sectors_hit h[CEP_SECTORS_MAX];
		int s = order[i];
		printf("%-12s %5.2f %5.2f %6.2f %8d\n", cep_sector_name(s),
		       cep_sectors_criticality(g, s), cep_sectors_blast(g, s),
		       cep_sectors_reach(g, s),
		       cep_sectors_impact(g, s, h, CEP_SECTORS_MAX));
	}
	printf("K criticality; B blast radius; reach = sum of strength x K "
	       "over the sectors reached (strength >= %.2f)\n",
	       cep_sectors_threshold(g));
}

static void print_spread(const struct cep_sectors_hit *h, int n,
			 uint32_t sources)
{
	char delay[32], path[256];

	if (n == 0) {
		printf("  (no other sector is reached)\n");
		return;
	}
	printf("  %-12s %8s %6s %7s  %s\n", "sector", "strength", "impact",
	       "delay", "path");
	for (int i = 0; i < n; i++)
		printf("  %-12s %8.2f %6.2f %7s  %s\n",
		       cep_sector_name(h[i].sector), h[i].strength, h[i].impact,
		       cep_sectors_format_delay(h[i].delay_s, delay, sizeof delay),
		       path_text(h, n, sources, h[i].sector, path, sizeof path));
}

/* --- impact: JSON -------------------------------------------------------- */

static void json_set(struct cep_jw *w, const char *key, uint32_t set)
{
	cep_jw_open(w, key, '[');
	for (int s = 1; s < N; s++)
		if (set & CEP_SECTOR_BIT(s))
			cep_jw_str(w, NULL, cep_sector_name(s));
	cep_jw_close(w, ']');
}

static void json_spread(struct cep_jw *w, const char *key,
			const struct cep_sectors_hit *h, int n,
			uint32_t sources)
{
	char delay[32], path[256];

	cep_jw_open(w, key, '[');
	for (int i = 0; i < n; i++) {
		cep_jw_open(w, NULL, '{');
		cep_jw_str(w, "sector", cep_sector_name(h[i].sector));
		cep_jw_double(w, "strength", h[i].strength, 4);
		cep_jw_double(w, "impact", h[i].impact, 4);
		cep_jw_u64(w, "delay_s", h[i].delay_s);
		cep_jw_str(w, "delay", cep_sectors_format_delay(h[i].delay_s, delay,
								sizeof delay));
		cep_jw_str(w, "via", cep_sector_name(h[i].via));
		cep_jw_u64(w, "hops", h[i].hops);
		cep_jw_str(w, "path", path_text(h, n, sources, h[i].sector, path,
						sizeof path));
		cep_jw_close(w, '}');
	}
	cep_jw_close(w, ']');
}

int cep_ctl_impact(int argc, char **argv)
{
	const char *path = CEP_SECTORS_DEFAULT_PATH;
	uint32_t what_if = 0, down = 0;
	bool json = false;
	struct cep_sectors *g = NULL;
	int rc;

	for (int i = 0; i < argc; i++) {
		const char *v;
		bool missing;
		if ((v = opt_value(argc, argv, &i, "--sectors", &missing))) {
			path = v;
		} else if (!missing &&
			   (v = opt_value(argc, argv, &i, "--what-if", &missing))) {
			if ((rc = parse_set("impact", "--what-if", v, &what_if)))
				return rc;
		} else if (!missing &&
			   (v = opt_value(argc, argv, &i, "--down", &missing))) {
			if ((rc = parse_set("impact", "--down", v, &down)))
				return rc;
		} else if (missing) {
			return usage("impact", "%s needs a value", argv[i]);
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: ceptorctl impact [--sectors FILE] "
			       "[--what-if S[,S...]] [--down S1,S2...] [--json]\n");
			return 0;
		} else {
			return usage("impact", "unknown argument '%s'", argv[i]);
		}
	}
	if (load(path, &g))
		return 1;

	struct cep_sectors_hit wh[CEP_SECTORS_MAX], dh[CEP_SECTORS_MAX];
	struct cep_sectors_relief rr[CEP_SECTORS_MAX + 1];
	int nw = what_if ? cep_sectors_spread(g, what_if, wh, CEP_SECTORS_MAX) : 0;
	int nd = down ? cep_sectors_spread(g, down, dh, CEP_SECTORS_MAX) : 0;
	int nr = down ? cep_sectors_restoration(g, down, rr, CEP_SECTORS_MAX + 1)
		      : 0;
	char buf[256];

	if (json) {
		char *out = malloc(JSON_ROOM);
		struct cep_jw w;
		if (!out) {
			cep_sectors_destroy(g);
			fprintf(stderr, "ceptorctl: out of memory\n");
			return 1;
		}
		cep_jw_init(&w, out, JSON_ROOM);
		cep_jw_begin(&w);
		cep_jw_str(&w, "sectors_file", path);
		cep_jw_double(&w, "threshold", cep_sectors_threshold(g), 4);
		if (!what_if && !down) {
			cep_jw_open(&w, "sectors", '[');
			for (int s = 1; s < N; s++) {
				struct cep_sectors_hit h[CEP_SECTORS_MAX];
				cep_jw_open(&w, NULL, '{');
				cep_jw_str(&w, "sector", cep_sector_name(s));
				cep_jw_double(&w, "criticality",
					      cep_sectors_criticality(g, s), 4);
				cep_jw_double(&w, "blast", cep_sectors_blast(g, s), 4);
				cep_jw_double(&w, "reach", cep_sectors_reach(g, s), 4);
				cep_jw_u64(&w, "reaches",
					   (uint64_t)cep_sectors_impact(g, s, h,
							CEP_SECTORS_MAX));
				cep_jw_close(&w, '}');
			}
			cep_jw_close(&w, ']');
		}
		if (what_if) {
			json_set(&w, "what_if", what_if);
			json_spread(&w, "spread", wh, nw, what_if);
		}
		if (down) {
			json_set(&w, "down", down);
			cep_jw_open(&w, "restore", '[');
			for (int i = 0; i < nr; i++) {
				cep_jw_open(&w, NULL, '{');
				cep_jw_u64(&w, "rank", (uint64_t)i + 1);
				cep_jw_str(&w, "sector", cep_sector_name(rr[i].sector));
				cep_jw_double(&w, "relief", rr[i].relief, 4);
				cep_jw_double(&w, "impact", rr[i].impact, 4);
				cep_jw_close(&w, '}');
			}
			cep_jw_close(&w, ']');
			json_spread(&w, "affected", dh, nd, down);
		}
		rc = cep_jw_end(&w);
		if (rc < 0)
			fprintf(stderr, "ceptorctl: JSON output too long\n");
		else
			printf("%s\n", out);
		free(out);
		cep_sectors_destroy(g);
		return rc < 0 ? 1 : 0;
	}

	if (!what_if && !down)
		print_table(g);
	if (what_if) {
		printf("an outage of %s would spread to (strongest path each; "
		       "cut below %.2f):\n", set_text(what_if, buf, sizeof buf),
		       cep_sectors_threshold(g));
		print_spread(wh, nw, what_if);
	}
	if (down) {
		if (what_if)
			printf("\n");
		printf("down: %s\nrestore first (relief: the downstream impact, "
		       "on sectors that are up, that restoring it alone "
		       "removes):\n", set_text(down, buf, sizeof buf));
		printf("  %4s  %-12s %6s %10s\n", "rank", "sector", "relief",
		       "own-impact");
		for (int i = 0; i < nr; i++)
			printf("  %4d  %-12s %6.2f %10.2f\n", i + 1,
			       cep_sector_name(rr[i].sector), rr[i].relief,
			       rr[i].impact);
		printf("sectors hit meanwhile:\n");
		print_spread(dh, nd, down);
	}
	cep_sectors_destroy(g);
	return 0;
}

/* --- graph ---------------------------------------------------------------- */

/* A colour between two, t in [0, 1], as "#rrggbb". */
static const char *blend(unsigned from, unsigned to, double t, char *buf)
{
	unsigned c[3];
	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	for (int i = 0; i < 3; i++) {
		int sh = 16 - 8 * i;
		double a = (from >> sh) & 0xff, b = (to >> sh) & 0xff;
		c[i] = (unsigned)(a + (b - a) * t + 0.5);
	}
	snprintf(buf, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
	return buf;
}

/* What the streams say of one sector: its open incidents. */
struct open_note {
	unsigned open;  /* open (not closed) incidents, latest versions */
	int best;       /* most urgent class among them, 1..5; 0: none */
};

/* Whether the incident document @json (len bytes) has a non-empty
 * "impact" member: an outage whose spread the engine predicted. */
static bool has_impact(const char *json, size_t len)
{
	struct cep_json_reader r;
	struct cep_json_value k, v;

	cep_json_reader_init(&r, json, len);
	while (cep_json_next(&r, &k, &v) == 1)
		if (cep_json_key_is(&k, "impact"))
			return v.type == CEP_JSON_ARRAY && v.len > 2;
	return false;
}

#define STREAM_READ 2000

/*
 * Reads the latest STREAM_READ messages of each sector's incident stream
 * (newest first, so the first message of an id is its latest version),
 * counts each sector's own open incidents into notes[] and adds to *out
 * the sectors with an open outage incident.  Copies of an incident in
 * predicted sectors' streams are skipped (their `sector` is another).
 * Returns 0, or 1 with the problem printed.
 */
static int current_incidents(const char *url, uint32_t *out,
			     struct open_note notes[N])
{
	struct cep_redis_url u;
	redisContext *c = NULL;
	char err[160], key[64];
	static char seen[STREAM_READ][24];
	size_t nseen;

	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "ceptorctl graph: bad Redis URL: %s\n", err);
		return 1;
	}
	if (cep_redis_connect(&u, 2000, 10000, &c, err, sizeof err)) {
		fprintf(stderr, "ceptorctl graph: cannot use Redis at %s:%d: %s\n",
			u.host, u.port, err);
		return 1;
	}
	for (int s = 1; s < N; s++) {
		/* Only a sector's own incidents count in its stream (copies in
		 * predicted sectors' streams are skipped below), so versions of
		 * one id are all in one stream: dedup per stream. */
		nseen = 0;
		snprintf(key, sizeof key, "ceptor:{%s}:incidents", cep_sector_name(s));
		redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT %d", key,
					     STREAM_READ);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "ceptorctl graph: Redis: %s: %s\n", key,
				r ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return 1;
		}
		for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
			redisReply *m = r->element[i];
			if (m->type != REDIS_REPLY_ARRAY || m->elements != 2 ||
			    m->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			redisReply *f = m->element[1];
			const char *id = NULL, *status = "", *prio = "", *sector = "";
			const redisReply *json = NULL;
			for (size_t j = 0; j + 1 < f->elements; j += 2) {
				const char *name = f->element[j]->str;
				redisReply *val = f->element[j + 1];
				if (!name || val->type != REDIS_REPLY_STRING)
					continue;
				if (!strcmp(name, "id"))
					id = val->str;
				else if (!strcmp(name, "status"))
					status = val->str;
				else if (!strcmp(name, "priority"))
					prio = val->str;
				else if (!strcmp(name, "sector"))
					sector = val->str;
				else if (!strcmp(name, "json"))
					json = val;
			}
			if (!id || strcmp(sector, cep_sector_name(s)) != 0)
				continue;
			bool dup = false;
			for (size_t k = 0; k < nseen && !dup; k++)
				dup = !strcmp(seen[k], id);
			if (dup)
				continue; /* an older version */
			snprintf(seen[nseen++], sizeof seen[0], "%s", id);
			if (!strcmp(status, "closed"))
				continue;
			notes[s].open++;
			int p = prio[0] == 'P' ? prio[1] - '0' : 0;
			if (p >= 1 && p <= 5 && (!notes[s].best || p < notes[s].best))
				notes[s].best = p;
			if (json && has_impact(json->str, json->len))
				*out |= CEP_SECTOR_BIT(s);
		}
		freeReplyObject(r);
	}
	redisFree(c);
	return 0;
}

static void write_dot(FILE *f, const struct cep_sectors *g, uint32_t hl,
		      const struct open_note *notes)
{
	struct cep_sectors_hit h[CEP_SECTORS_MAX];
	const struct cep_sectors_edge *e;
	size_t ne = cep_sectors_edges(g, &e);
	int nh = hl ? cep_sectors_spread(g, hl, h, CEP_SECTORS_MAX) : 0;
	const struct cep_sectors_hit *hit_of[N] = { NULL };
	char colour[8], delay[32], set[256];

	for (int i = 0; i < nh; i++)
		hit_of[h[i].sector] = &h[i];
	fprintf(f, "digraph ceptor_sectors {\n");
	fprintf(f, "  graph [rankdir=LR, fontname=\"Helvetica\", "
		   "labelloc=t, label=\"ceptor sector interdependencies: "
		   "u -> v means an outage of u spreads to v (weight / delay)%s%s\"];\n",
		hl ? "\\nout: " : "", hl ? set_text(hl, set, sizeof set) : "");
	fprintf(f, "  node [shape=circle, style=filled, fixedsize=true, "
		   "fontname=\"Helvetica\", fontsize=10];\n");
	fprintf(f, "  edge [fontname=\"Helvetica\", fontsize=8, "
		   "color=\"#888888\", fontcolor=\"#555555\"];\n");
	for (int s = 1; s < N; s++) {
		double k = cep_sectors_criticality(g, s);
		double width = 0.9 + 0.7 * k;
		fprintf(f, "  \"%s\" [width=%.2f, label=\"%s\\nK %.2f  B %.2f",
			cep_sector_name(s), width, cep_sector_name(s), k,
			cep_sectors_blast(g, s));
		if (notes && notes[s].open)
			fprintf(f, "\\n%u open%s%.0d", notes[s].open,
				notes[s].best ? ", P" : "", notes[s].best);
		if (hl & CEP_SECTOR_BIT(s)) {
			fprintf(f, "\\nOUT\", fillcolor=\"#d62728\", "
				   "fontcolor=white, penwidth=3];\n");
		} else if (hit_of[s]) {
			fprintf(f, "\\nhit %.2f @ %s\", fillcolor=\"%s\", "
				   "penwidth=2];\n", hit_of[s]->strength,
				cep_sectors_format_delay(hit_of[s]->delay_s, delay,
							 sizeof delay),
				blend(0xfff5eb, 0xfd8d3c, hit_of[s]->strength,
				      colour));
		} else {
			fprintf(f, "\", fillcolor=\"%s\"];\n",
				blend(0xeff3ff, 0x6baed6, k, colour));
		}
	}
	for (size_t i = 0; i < ne; i++) {
		bool on_path = hit_of[e[i].to] && hit_of[e[i].to]->via == e[i].from;
		fprintf(f, "  \"%s\" -> \"%s\" [label=\"%.2g / %s\", "
			   "penwidth=%.1f%s];\n",
			cep_sector_name(e[i].from), cep_sector_name(e[i].to),
			e[i].weight,
			cep_sectors_format_delay(e[i].delay_s, delay, sizeof delay),
			0.5 + 2.5 * e[i].weight,
			on_path ? ", color=\"#d62728\", fontcolor=\"#d62728\"" : "");
	}
	fprintf(f, "}\n");
}

static bool on_path(const char *prog)
{
	const char *p = getenv("PATH");
	char buf[4096];

	if (!p || !*p)
		p = "/usr/bin:/bin";
	while (*p) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && len + strlen(prog) + 2 < sizeof buf) {
			snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Pipes the DOT through `dot -TFORMAT -o out`; returns 0 or 1. */
static int render(const struct cep_sectors *g, uint32_t hl,
		  const struct open_note *notes, const char *fmt,
		  const char *out)
{
	int fds[2], status;
	pid_t pid;

	if (!on_path("dot")) {
		fprintf(stderr, "ceptorctl graph: Graphviz's dot is not "
			"installed (apt-get install graphviz); write FILE.dot "
			"instead\n");
		return 1;
	}
	if (pipe(fds) < 0) {
		perror("ceptorctl graph: pipe");
		return 1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		perror("ceptorctl graph: fork");
		close(fds[0]);
		close(fds[1]);
		return 1;
	}
	if (pid == 0) {
		char tflag[16];
		snprintf(tflag, sizeof tflag, "-T%s", fmt);
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", tflag, "-o", out, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	/* dot may die before reading it all: a write error, not a signal. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *f = fdopen(fds[1], "w");
	if (f) {
		write_dot(f, g, hl, notes);
		fclose(f);
	} else {
		close(fds[1]);
	}
	signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!f || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "ceptorctl graph: dot failed to write %s\n", out);
		return 1;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cep_ctl_graph(int argc, char **argv)
{
	const char *path = CEP_SECTORS_DEFAULT_PATH, *out = NULL, *url = NULL;
	uint32_t hl = 0;
	struct open_note notes_buf[N], *notes = NULL;
	struct cep_sectors *g = NULL;
	int rc;

	for (int i = 0; i < argc; i++) {
		const char *v;
		bool missing;
		if ((v = opt_value(argc, argv, &i, "--sectors", &missing))) {
			path = v;
		} else if (!missing &&
			   (v = opt_value(argc, argv, &i, "--highlight", &missing))) {
			if ((rc = parse_set("graph", "--highlight", v, &hl)))
				return rc;
		} else if (!missing &&
			   (v = opt_value(argc, argv, &i, "-o", &missing))) {
			out = v;
		} else if (!missing &&
			   (v = opt_value(argc, argv, &i, "--redis", &missing))) {
			url = v;
		} else if (missing) {
			return usage("graph", "%s needs a value", argv[i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: ceptorctl graph [--sectors FILE] "
			       "[--highlight S,...] [--redis URL]\n"
			       "                       [-o FILE.dot|.svg|.png]\n");
			return 0;
		} else {
			return usage("graph", "unknown argument '%s'", argv[i]);
		}
	}
	const char *fmt = !out || ends_with(out, ".dot") || ends_with(out, ".gv")
				  ? "dot"
			  : ends_with(out, ".svg") ? "svg"
			  : ends_with(out, ".png") ? "png"
						   : NULL;
	if (!fmt)
		return usage("graph", "-o %s: the name must end in .dot, .svg or "
				      ".png", out);
	if (url) {
		memset(notes_buf, 0, sizeof notes_buf);
		notes = notes_buf;
		if (current_incidents(url, &hl, notes))
			return 1;
	}
	if (load(path, &g))
		return 1;
	if (strcmp(fmt, "dot")) {
		rc = render(g, hl, notes, fmt, out);
	} else if (!out || !strcmp(out, "-")) {
		write_dot(stdout, g, hl, notes);
		rc = fflush(stdout) ? 1 : 0;
	} else {
		FILE *f = fopen(out, "w");
		if (!f) {
			fprintf(stderr, "ceptorctl graph: %s: %s\n", out,
				strerror(errno));
			rc = 1;
		} else {
			write_dot(f, g, hl, notes);
			rc = fclose(f) ? 1 : 0;
			if (rc)
				fprintf(stderr, "ceptorctl graph: %s: write "
					"failed\n", out);
		}
	}
	cep_sectors_destroy(g);
	return rc;
}
