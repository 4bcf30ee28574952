/*
 * sectors.c - the sector interdependency model (see sectors.h).
 *
 * The graph is tiny (ten sectors, at most ninety edges), so it is kept as
 * adjacency matrices and every walk is the O(N^2) form of Dijkstra: no
 * heap, no allocation.  The single-source walks that blast radius needs
 * are done once at load; the queries walk again, which costs well under a
 * microsecond, so nothing has to be cached per query.
 *
 * The file is loaded as a libyaml document and walked node by node, like
 * the configuration (engine/lib/config.c), so every value keeps its line
 * for messages, and every problem is reported before the load fails.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ceptor/error.h"
#include "core/sectors.h"

#define N CEP_SECTOR_COUNT
#define EPS 1e-12
#define DELAY_MAX (366u * 86400u) /* a year: beyond that it is a typo */

struct best {
	double s;       /* strongest path strength, 0: not reached */
	uint32_t d;     /* its delay */
	uint8_t via;
	uint8_t hops;
};

struct cep_sectors {
	double k[N];                 /* criticality; [0] for unknown */
	double r[N];                 /* reach R */
	double b[N];                 /* blast radius B */
	double w[N][N];              /* w[u][v]: outage of u spreads to v */
	uint32_t d[N][N];            /* delay of that edge, seconds */
	double threshold, floor;
	uint32_t systems[CEP_SYSTEM_COUNT];
	size_t nedges;
	struct cep_sectors_edge edges[N * N];
};

static bool known(int sector)
{
	return sector > CEP_SECTOR_UNKNOWN && sector < N;
}

/* --- walking ------------------------------------------------------------- */

/* Is (s, d) a better path than b: stronger, or as strong and sooner? */
static bool better(double s, uint32_t d, const struct best *b)
{
	if (s > b->s + EPS)
		return true;
	return s >= b->s - EPS && d < b->d;
}

/*
 * walk - strongest paths from every sector of sources at once (each starts
 * at strength 1, delay 0), cut below the threshold.  Best-first: the
 * unsettled sector with the strongest (then soonest) path is settled next;
 * since weights are <= 1 and delays >= 0 no later path can beat it.
 */
static void walk(const struct cep_sectors *g, uint32_t sources,
		 struct best out[N])
{
	bool done[N] = { false };

	memset(out, 0, N * sizeof *out);
	for (int s = 1; s < N; s++)
		if (sources & CEP_SECTOR_BIT(s))
			out[s] = (struct best){ 1.0, 0, (uint8_t)s, 0 };
	for (;;) {
		int u = -1;
		for (int v = 1; v < N; v++)
			if (!done[v] && out[v].s > 0 &&
			    (u < 0 || better(out[v].s, out[v].d, &out[u])))
				u = v;
		if (u < 0)
			break;
		done[u] = true;
		for (int v = 1; v < N; v++) {
			if (done[v] || g->w[u][v] <= 0)
				continue;
			double s = out[u].s * g->w[u][v];
			if (s < g->threshold - EPS)
				continue;
			uint64_t d = (uint64_t)out[u].d + g->d[u][v];
			if (d > UINT32_MAX)
				d = UINT32_MAX;
			if (better(s, (uint32_t)d, &out[v]))
				out[v] = (struct best){ s, (uint32_t)d, (uint8_t)u,
							(uint8_t)(out[u].hops + 1) };
		}
	}
}

static int hit_cmp(const void *pa, const void *pb)
{
	const struct cep_sectors_hit *a = pa, *b = pb;
	if (a->impact > b->impact + EPS)
		return -1;
	if (b->impact > a->impact + EPS)
		return 1;
	if (a->delay_s != b->delay_s)
		return a->delay_s < b->delay_s ? -1 : 1;
	return a->sector - b->sector;
}

int cep_sectors_spread(const struct cep_sectors *g, uint32_t sources,
		       struct cep_sectors_hit *out, size_t max)
{
	struct best b[N];
	struct cep_sectors_hit all[N];
	size_t n = 0;

	walk(g, sources, b);
	for (int v = 1; v < N; v++) {
		if ((sources & CEP_SECTOR_BIT(v)) || b[v].s <= 0)
			continue;
		all[n++] = (struct cep_sectors_hit){
			.sector = (uint8_t)v, .via = b[v].via, .hops = b[v].hops,
			.strength = b[v].s, .impact = b[v].s * g->k[v],
			.delay_s = b[v].d,
		};
	}
	qsort(all, n, sizeof all[0], hit_cmp);
	if (n > max)
		n = max;
	if (n)
		memcpy(out, all, n * sizeof all[0]);
	return (int)n;
}

int cep_sectors_impact(const struct cep_sectors *g, int sector,
		       struct cep_sectors_hit *out, size_t max)
{
	if (!known(sector))
		return 0;
	return cep_sectors_spread(g, CEP_SECTOR_BIT(sector), out, max);
}

/* sum over v outside `down` of K(v) * strength of v from `from` */
static double hit_sum(const struct cep_sectors *g, uint32_t from,
		      uint32_t down)
{
	struct best b[N];
	double sum = 0;

	if (!from)
		return 0;
	walk(g, from, b);
	for (int v = 1; v < N; v++)
		if (!(down & CEP_SECTOR_BIT(v)))
			sum += g->k[v] * b[v].s;
	return sum;
}

static int relief_cmp(const void *pa, const void *pb)
{
	const struct cep_sectors_relief *a = pa, *b = pb;
	if (a->relief > b->relief + EPS)
		return -1;
	if (b->relief > a->relief + EPS)
		return 1;
	if (a->impact > b->impact + EPS)
		return -1;
	if (b->impact > a->impact + EPS)
		return 1;
	return a->sector - b->sector;
}

int cep_sectors_restoration(const struct cep_sectors *g, uint32_t down,
			    struct cep_sectors_relief *out, size_t max)
{
	struct cep_sectors_relief all[N];
	size_t n = 0;
	double now = hit_sum(g, down, down);

	for (int s = 1; s < N; s++) {
		if (!(down & CEP_SECTOR_BIT(s)))
			continue;
		uint32_t rest = down & ~CEP_SECTOR_BIT(s);
		double relief = now - hit_sum(g, rest, down);
		all[n++] = (struct cep_sectors_relief){
			.sector = (uint8_t)s,
			.relief = relief > 0 ? relief : 0, /* rounding only */
			.impact = g->r[s],
		};
	}
	qsort(all, n, sizeof all[0], relief_cmp);
	if (n > max)
		n = max;
	if (n)
		memcpy(out, all, n * sizeof all[0]);
	return (int)n;
}

/* --- simple queries ------------------------------------------------------ */

double cep_sectors_criticality(const struct cep_sectors *g, int sector)
{
	return g->k[known(sector) ? sector : 0];
}

double cep_sectors_blast(const struct cep_sectors *g, int sector)
{
	return known(sector) ? g->b[sector] : g->floor;
}

double cep_sectors_reach(const struct cep_sectors *g, int sector)
{
	return known(sector) ? g->r[sector] : 0;
}

double cep_sectors_threshold(const struct cep_sectors *g)
{
	return g->threshold;
}

int cep_sectors_for_system(const struct cep_sectors *g, int system,
			   uint32_t *mask)
{
	*mask = 0;
	if (system <= CEP_SYSTEM_NONE || system >= CEP_SYSTEM_COUNT)
		return -CEP_EUNKNOWN;
	*mask = g->systems[system];
	return __builtin_popcount(*mask);
}

size_t cep_sectors_edges(const struct cep_sectors *g,
			 const struct cep_sectors_edge **edges)
{
	*edges = g->edges;
	return g->nedges;
}

void cep_sectors_destroy(struct cep_sectors *g)
{
	free(g);
}

int cep_sectors_parse_list(const char *text, uint32_t *set, const char **bad)
{
	const char *p = text;

	*set = 0;
	*bad = NULL;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char tok[32];
		int s = -CEP_EUNKNOWN;
		if (len < sizeof tok) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			s = cep_sector_parse(tok);
		}
		if (!known(s)) {
			*bad = p;
			return -CEP_EUNKNOWN;
		}
		*set |= CEP_SECTOR_BIT(s);
		if (!e)
			return 0;
		p = e + 1;
	}
}

char *cep_sectors_format_delay(uint32_t seconds, char *buf, size_t size)
{
	static const struct { uint32_t len; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (seconds == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		uint32_t q = seconds / units[i].len;
		seconds %= units[i].len;
		if (q && used < size) {
			int n = snprintf(buf + used, size - used, "%u%c", q,
					 units[i].unit);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	return buf;
}

/* --- loading ------------------------------------------------------------- */

struct loader {
	const char *path;
	FILE *diag;
	yaml_document_t doc;
	int errors;
	struct cep_sectors *g;
	unsigned sector_line[N];   /* where each sector is defined, 0: not */
	unsigned edge_line[N][N];  /* where each edge is stated, 0: not */
	unsigned system_line[CEP_SYSTEM_COUNT];
};

static void problem(struct loader *l, const yaml_node_t *n, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static void problem(struct loader *l, const yaml_node_t *n, const char *fmt,
		    ...)
{
	va_list ap;
	fprintf(l->diag, "%s:%zu: ", l->path, n ? n->start_mark.line + 1 : 0);
	va_start(ap, fmt);
	vfprintf(l->diag, fmt, ap);
	va_end(ap);
	fputc('\n', l->diag);
	l->errors++;
}

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

/* Pairs of a mapping node; `it` names the iterator so that loops nest. */
#define MAP_FOR_EACH(l, map, it, k, v)                                         \
	for (yaml_node_pair_t *it = (map)->data.mapping.pairs.start;           \
	     it < (map)->data.mapping.pairs.top &&                             \
	     ((k) = yaml_document_get_node(&(l)->doc, it->key),                \
	     (v) = yaml_document_get_node(&(l)->doc, it->value), 1);           \
	     it++)

static const char *key_name(const yaml_node_t *k)
{
	return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value
						: "";
}

static const char *scalar(struct loader *l, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_SCALAR_NODE) {
		problem(l, n, "%s must be a single value", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool is_map(struct loader *l, yaml_node_t *n, const char *what)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return true;
	problem(l, n, "%s must be a mapping", what);
	return false;
}

/* A number in [lo, hi], or (lo, hi] when open_lo. */
static int get_num(struct loader *l, yaml_node_t *n, const char *what,
		   double lo, bool open_lo, double hi, double *out)
{
	const char *s = scalar(l, n, what);
	char *end;
	if (!s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v)) {
		problem(l, n, "%s must be a number, not \"%s\"", what, s);
		return -1;
	}
	if (v > hi || v < lo || (open_lo && v <= lo)) {
		problem(l, n, "%s %s is out of range %c%g, %g]", what, s,
			open_lo ? '(' : '[', lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A delay: 0, or numbers with units s m h d ("90m", "1h30m", "2d"). */
static int get_delay(struct loader *l, yaml_node_t *n, const char *what,
		     uint32_t *out)
{
	const char *s = scalar(l, n, what);
	uint64_t total = 0;
	const char *p = s;
	if (!s)
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '-') {
		problem(l, n, "%s must not be negative (\"%s\")", what, s);
		return -1;
	}
	if (strcmp(p, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!*p)
		goto bad;
	while (*p) {
		char *end;
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned long long v = strtoull(p, &end, 10);
		uint64_t unit;
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: goto bad;
		}
		if (v > DELAY_MAX)
			goto range;
		total += v * unit;
		if (total > DELAY_MAX)
			goto range;
		p = end + 1;
	}
	*out = (uint32_t)total;
	return 0;
bad:
	problem(l, n, "%s must be a duration such as 0, 45m, 2h, 1h30m or 2d, "
		"not \"%s\"", what, s);
	return -1;
range:
	problem(l, n, "%s \"%s\" is longer than a year", what, s);
	return -1;
}

/* needs: { SUPPLIER: { weight: W, delay: D }, ... } under sector `to`. */
static void load_needs(struct loader *l, int to, yaml_node_t *m)
{
	struct cep_sectors *g = l->g;
	yaml_node_t *k, *v;

	if (!is_map(l, m, "needs"))
		return;
	MAP_FOR_EACH(l, m, pm, k, v) {
		const char *name = key_name(k);
		int from = cep_sector_parse(name);
		double w = 0;
		uint32_t d = 0;
		bool have_w = false, ok = true;

		if (!known(from)) {
			problem(l, k, "unknown sector \"%s\" (one of telecom "
				"finance aviation rail electricity gas "
				"government medical water logistics)", name);
			continue;
		}
		if (from == to) {
			problem(l, k, "%s cannot need itself", name);
			continue;
		}
		if (!is_map(l, v, "a dependency"))
			continue;
		yaml_node_t *fk, *fv;
		MAP_FOR_EACH(l, v, pf, fk, fv) {
			const char *f = key_name(fk);
			if (strcmp(f, "weight") == 0) {
				have_w = true;
				if (get_num(l, fv, "weight", 0, true, 1, &w))
					ok = false;
			} else if (strcmp(f, "delay") == 0) {
				if (get_delay(l, fv, "delay", &d))
					ok = false;
			} else if (strcmp(f, "note") == 0) {
				/* free text for people */
			} else {
				problem(l, fk, "unknown key \"%s\" in a dependency "
					"(weight, delay, note)", f);
				ok = false;
			}
		}
		if (!have_w) {
			problem(l, k, "%s needs %s: weight missing",
				cep_sector_name(to), name);
			ok = false;
		}
		if (l->edge_line[from][to]) {
			problem(l, k, "%s needs %s twice (first at line %u)",
				cep_sector_name(to), name, l->edge_line[from][to]);
			continue;
		}
		l->edge_line[from][to] = line_of(k);
		if (!ok)
			continue;
		g->w[from][to] = w;
		g->d[from][to] = d;
		g->edges[g->nedges++] = (struct cep_sectors_edge){
			.from = (uint8_t)from, .to = (uint8_t)to, .weight = w,
			.delay_s = d, .line = line_of(k),
		};
	}
}

static void load_sectors(struct loader *l, yaml_node_t *key, yaml_node_t *m)
{
	yaml_node_t *k, *v;

	if (!is_map(l, m, "sectors"))
		return;
	MAP_FOR_EACH(l, m, pm, k, v) {
		const char *name = key_name(k);
		int s = cep_sector_parse(name);
		bool have_k = false;

		if (!known(s)) {
			problem(l, k, "unknown sector \"%s\" (one of telecom "
				"finance aviation rail electricity gas "
				"government medical water logistics)", name);
			continue;
		}
		if (l->sector_line[s]) {
			problem(l, k, "sector %s defined twice (first at line %u)",
				name, l->sector_line[s]);
			continue;
		}
		l->sector_line[s] = line_of(k);
		if (!is_map(l, v, name))
			continue;
		yaml_node_t *fk, *fv;
		MAP_FOR_EACH(l, v, pf, fk, fv) {
			const char *f = key_name(fk);
			if (strcmp(f, "criticality") == 0) {
				have_k = true;
				get_num(l, fv, "criticality", 0, true, 1,
					&l->g->k[s]);
			} else if (strcmp(f, "needs") == 0) {
				load_needs(l, s, fv);
			} else if (strcmp(f, "note") == 0) {
				/* free text for people */
			} else {
				problem(l, fk, "unknown key \"%s\" in sector %s "
					"(criticality, needs, note)", f, name);
			}
		}
		if (!have_k)
			problem(l, k, "sector %s: criticality missing", name);
	}
	for (int s = 1; s < N; s++)
		if (!l->sector_line[s])
			problem(l, key, "sector %s missing (every sector must "
				"be listed)", cep_sector_name(s));
}

static void add_system_sector(struct loader *l, int sys, yaml_node_t *n)
{
	const char *name = scalar(l, n, "a sector");
	int s;
	if (!name)
		return;
	s = cep_sector_parse(name);
	if (!known(s)) {
		problem(l, n, "unknown sector \"%s\"", name);
		return;
	}
	if (l->g->systems[sys] & CEP_SECTOR_BIT(s)) {
		problem(l, n, "%s listed twice for %s", name,
			cep_system_name(sys));
		return;
	}
	l->g->systems[sys] |= CEP_SECTOR_BIT(s);
}

static void load_systems(struct loader *l, yaml_node_t *key, yaml_node_t *m)
{
	yaml_node_t *k, *v;

	if (!is_map(l, m, "systems"))
		return;
	MAP_FOR_EACH(l, m, pm, k, v) {
		const char *name = key_name(k);
		int sys = cep_system_parse(name);
		if (sys <= 0) {
			problem(l, k, "unknown system class \"%s\"", name);
			continue;
		}
		if (l->system_line[sys]) {
			problem(l, k, "system class %s mapped twice (first at "
				"line %u)", name, l->system_line[sys]);
			continue;
		}
		l->system_line[sys] = line_of(k);
		if (v && v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				add_system_sector(l, sys,
					yaml_document_get_node(&l->doc, *it));
		} else {
			add_system_sector(l, sys, v);
		}
		if (!l->g->systems[sys] && v && v->type == YAML_SEQUENCE_NODE)
			problem(l, k, "system class %s has no sectors", name);
	}
	for (int sys = 1; sys < CEP_SYSTEM_COUNT; sys++)
		if (!l->system_line[sys])
			problem(l, key, "system class %s missing (every class "
				"must name the sectors that run it)",
				cep_system_name(sys));
}

static void load_root(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *k, *v, *sectors = NULL, *systems = NULL;
	yaml_node_t *sectors_key = NULL, *systems_key = NULL;
	double x;

	if (!root) {
		problem(l, NULL, "empty file: sectors and systems missing");
		return;
	}
	if (!is_map(l, root, "the sectors file"))
		return;
	MAP_FOR_EACH(l, root, pr, k, v) {
		const char *key = key_name(k);
		if (strcmp(key, "version") == 0) {
			const char *s = scalar(l, v, key);
			if (s && strcmp(s, "1"))
				problem(l, v, "version %s is not supported "
					"(this ceptor reads version 1)", s);
		} else if (strcmp(key, "threshold") == 0) {
			if (!get_num(l, v, key, 0, true, 1, &x))
				l->g->threshold = x;
		} else if (strcmp(key, "blast_floor") == 0) {
			if (!get_num(l, v, key, 0, false, 1, &x))
				l->g->floor = x;
		} else if (strcmp(key, "unknown_criticality") == 0) {
			if (!get_num(l, v, key, 0, true, 1, &x))
				l->g->k[0] = x;
		} else if (strcmp(key, "sectors") == 0) {
			sectors = v;
			sectors_key = k;
		} else if (strcmp(key, "systems") == 0) {
			systems = v;
			systems_key = k;
		} else {
			problem(l, k, "unknown key \"%s\" (version, threshold, "
				"blast_floor, unknown_criticality, sectors, "
				"systems)", key);
		}
	}
	/* Sectors first: systems and edges refer to them. */
	if (sectors)
		load_sectors(l, sectors_key, sectors);
	else
		problem(l, root, "sectors missing");
	if (systems)
		load_systems(l, systems_key, systems);
	else
		problem(l, root, "systems missing");
}

/* R and B of every sector, from its single-source walk. */
static void compile(struct cep_sectors *g)
{
	double rmax = 0;

	for (int s = 1; s < N; s++) {
		struct best b[N];
		walk(g, CEP_SECTOR_BIT(s), b);
		g->r[s] = 0;
		for (int v = 1; v < N; v++)
			if (v != s)
				g->r[s] += b[v].s * g->k[v];
		if (g->r[s] > rmax)
			rmax = g->r[s];
	}
	for (int s = 1; s < N; s++)
		g->b[s] = rmax > 0 ? g->floor + (1 - g->floor) * g->r[s] / rmax
				   : g->floor;
	g->b[0] = g->floor;
}

int cep_sectors_parse(const char *text, size_t len, const char *name,
		      FILE *diag, struct cep_sectors **out)
{
	struct loader *l = calloc(1, sizeof *l);
	yaml_parser_t parser;
	int rc = 0;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->path = name;
	l->diag = diag ? diag : stderr;
	if (!(l->g = calloc(1, sizeof *l->g))) {
		free(l);
		return -ENOMEM;
	}
	l->g->threshold = CEP_SECTORS_THRESHOLD;
	l->g->floor = CEP_SECTORS_BLAST_FLOOR;
	l->g->k[0] = CEP_SECTORS_UNKNOWN_K;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l->doc)) {
		fprintf(l->diag, "%s:%zu: %s\n", name,
			parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "YAML syntax error");
		rc = -CEP_ECONFIG;
		goto fail;
	}
	load_root(l, yaml_document_get_root_node(&l->doc));
	yaml_document_delete(&l->doc);
	if (l->errors) {
		rc = -CEP_ECONFIG;
		goto fail;
	}
	compile(l->g);
	*out = l->g;
	yaml_parser_delete(&parser);
	free(l);
	return 0;
fail:
	yaml_parser_delete(&parser);
	free(l->g);
	free(l);
	return rc;
}

int cep_sectors_load(const char *path, FILE *diag, struct cep_sectors **out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		fprintf(diag ? diag : stderr, "%s: cannot open: %s\n", path,
			strerror(errno));
		return rc;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *grown = realloc(text, cap = cap ? 2 * cap : 16384);
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			text = grown;
		}
		size_t n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		fprintf(diag ? diag : stderr, "%s: cannot read\n", path);
		goto out;
	}
	rc = cep_sectors_parse(text, len, path, diag, out);
out:
	free(text);
	fclose(f);
	return rc;
}
