/*
 * exercise.c - `ceptorctl exercise run SCENARIO.yml`: a functional
 * exercise through the real pipeline (DESIGN.md section 7).
 *
 * A scenario (format in tests/scenarios/README.md) is a timeline of inputs,
 * each at an offset in scenario seconds (JSON Lines events, feed files with
 * a format, operator reports, pcaps, flow-export pcaps), a time scale
 * (speed: scenario seconds per wall second) and the incidents and
 * advisories it expects.  The run:
 *
 *   ceptorctl                       ceptord (live, generated config)
 *   ---------                       ------------------------------------
 *   parse + check the scenario
 *   write TMP/ceptor.yml  -------->  one `kind: ring` input per scenario
 *   start ceptord, wait for          input (/ceptor-ex-PID-N), spool TMP,
 *   its status "running"             publish_interval_ms 100
 *   t0 = Redis TIME
 *   at t0 + offset / speed:
 *     ceptor-feed|pcap|flow FILE --ring /ceptor-ex-PID-N --exercise
 *                                --retime=SPEED   (collector processes)
 *   XREAD BLOCK the ceptor-exercise:{S}:incidents and :advisories streams
 *   from t0 (every sector and unknown), until the inputs have ended and
 *   every expectation is met (then one more wall second for stragglers),
 *   or scenario time passes `end`
 *   SIGTERM ceptord (by pid), wait; read once more (what it flushed on
 *   the way out); unlink the rings, remove TMP
 *   report: each expectation seen or missed, with the priority and delay
 *   seen; the extras; exit 0 all met, 1 not, 2 bad scenario or usage
 *
 * Exercise marking.  Every collector runs with --exercise, which sets
 * CEP_EV_EXERCISE on every event, so every incident the run causes is an
 * exercise incident and ceptord publishes it under ceptor-exercise: only;
 * ceptord also keeps exercise incidents out of its statistics.  Nothing
 * the run starts writes to ceptor: keys.
 *
 * Event time.  The live engine places events by their own time and treats
 * those far behind its clock as late, so recorded inputs are retimed by
 * the collector (--retime=SPEED, include/ceptor/cli.h): an input's first
 * event takes the wall-clock time it is read at (the input's scaled
 * offset), later ones their recorded distance from it divided by the speed,
 * and each is handed to the ring when its new time comes.  Inputs should
 * therefore be in time order.  Times inside the incidents are wall-clock
 * times of the run.
 *
 * Delay.  A message's scenario time is (its stream entry id's milliseconds
 * - t0) x speed; its delay is that minus the offset of the input the
 * expectation names in `after` (default: the first input).
 *
 * Matching.  Incident messages count on the stream of their own sector
 * (the copies on predicted sectors' streams and the council's are the same
 * incident); advisories on the advised sector's stream.  Messages are
 * de-duplicated by (stream, id, version).  An expectation is met by any
 * version whose sector, type and title match, whose priority class is the
 * one asked or more urgent, and whose delay is within `within`.  Messages
 * no expectation matches (priority and delay aside) are extras.
 *
 * Not thread-safe (one run per process); children are stopped by pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "ceptor/collector.h"
#include "ceptor/event.h"
#include "ceptor/publish.h"
#include "ctl/ctl.h"
#include "lib/clock.h"
#include "lib/json.h"

#define EX_MAX_INPUTS 64
#define EX_MAX_EXPECT 128
#define EX_BLOCK_MS 100
#define EX_GRACE_MS 1000   /* wall time for stragglers after all is met */
#define EX_START_MS 15000  /* ceptord's start-up, at most */
#define EX_STOP_MS 15000   /* ceptord's shutdown after SIGTERM, at most */
#define EX_DEFAULT_TAIL 60 /* scenario s watched past the last input */

enum ex_format { F_JSONL, F_CSV, F_IPLIST, F_REPORT, F_PCAP, F_FLOW };
static const char *const format_names[] = {
	[F_JSONL] = "jsonl", [F_CSV] = "csv-shadowserver",
	[F_IPLIST] = "iplist", [F_REPORT] = "report", [F_PCAP] = "pcap",
	[F_FLOW] = "flow",
};
#define EX_FORMATS "jsonl, csv-shadowserver, iplist, report, pcap, flow"

struct ex_input {
	char name[24];
	double at;          /* scenario seconds */
	int format;         /* enum ex_format */
	char *file;         /* resolved against the scenario's directory */
	char *report_type;  /* csv-shadowserver: --report TYPE */
	char *src[4];       /* reliability, credibility, tlp, sector; or NULL */
	size_t line;
	pid_t pid;          /* 0: not started */
	int done, status;   /* waitpid() status once done */
};

static const char *const src_keys[4] = { "reliability", "credibility", "tlp",
					 "sector" };

struct ex_expect {
	size_t line;
	int advisory;        /* 0 incident, 1 advisory */
	char sector[16];
	char type[24];       /* "" any */
	char *title;         /* case-insensitive substring; NULL any */
	char source_sector[16];
	int pclass;          /* this class or more urgent; 5 any */
	double within;       /* scenario seconds; < 0: no limit */
	int after;           /* input index */
	char *label;
	/* The outcome. */
	int met;
	long best;           /* message index: the first that met it, else
				the closest (matched, best class); -1 none */
};

struct ex_msg {
	int advisory;
	char sector[16];     /* the stream's sector */
	char id[32], priority[8], type[24], source_sector[16];
	char *title;
	long long version;
	int pclass;
	uint64_t entry_ms;
	int at_stop;         /* published after SIGTERM */
	int matched;         /* some expectation matched it */
};

struct ex_run {
	const char *path;
	char *name, *description;
	double speed, end;
	int end_set;
	char **rules;
	size_t nrules;
	char *sectors;
	struct ex_input in[EX_MAX_INPUTS];
	size_t nin;
	struct ex_expect ex[EX_MAX_EXPECT];
	size_t nex;
	int errors;
	/* The run. */
	struct ex_msg *msg;
	size_t nmsg, capmsg;
	uint64_t t0_ms;
	char tmp[PATH_MAX];
	pid_t ceptord;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p) {
		fprintf(stderr, "ceptorctl: exercise: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		fprintf(stderr, "ceptorctl: exercise: out of memory\n");
		exit(1);
	}
	return p;
}

/* --- the scenario ------------------------------------------------------- */

struct yl {
	struct ex_run *r;
	yaml_document_t doc;
	char dir[PATH_MAX]; /* the scenario's directory, for relative paths */
};

static void bad(struct yl *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct yl *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%zu: ", y->r->path,
		n ? (size_t)n->start_mark.line + 1 : 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	y->r->errors++;
}

static yaml_node_t *node(struct yl *y, int i)
{
	return yaml_document_get_node(&y->doc, i);
}

static const char *scalar(struct yl *y, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_SCALAR_NODE) {
		bad(y, n, "%s must be a single value", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* "90", "90s", "1.5m", "2h", "500ms", "1h30m": scenario seconds; -1 when
 * bad.  A bare number is seconds and must stand alone. */
static double seconds(const char *s)
{
	double total = 0;
	int parts = 0;

	while (*s) {
		char *end;
		double v;

		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno || !(v >= 0) || v > 1e9 || *s == '+')
			return -1;
		parts++;
		if (!*end && parts == 1)
			return v;
		if (!strncmp(end, "ms", 2)) {
			v /= 1000;
			end += 2;
		} else if (*end == 's') {
			end++;
		} else if (*end == 'm') {
			v *= 60;
			end++;
		} else if (*end == 'h') {
			v *= 3600;
			end++;
		} else if (*end == 'd') {
			v *= 86400;
			end++;
		} else {
			return -1;
		}
		total += v;
		s = end;
	}
	return parts ? total : -1;
}

static double get_seconds(struct yl *y, yaml_node_t *n, const char *key)
{
	const char *s = scalar(y, n, key);
	double v;

	if (!s)
		return -1;
	v = seconds(s);
	if (v < 0)
		bad(y, n, "%s must be a time in scenario seconds (90, 90s, "
			  "1.5m, 2h, 1h30m, 500ms), not \"%s\"", key, s);
	return v;
}

/* A path relative to the scenario's directory (absolute ones stay). */
static char *resolve(struct yl *y, const char *p)
{
	char buf[2 * PATH_MAX + 2];

	if (p[0] == '/' || !y->dir[0])
		return xstrdup(p);
	snprintf(buf, sizeof buf, "%s/%s", y->dir, p);
	return xstrdup(buf);
}

static int sector_ok(const char *s)
{
	return !strcmp(s, "unknown") || cep_sector_parse(s) > 0;
}

#define MAP_EACH(y, m, k, v)                                                 \
	for (yaml_node_pair_t *p_ = (m)->data.mapping.pairs.start;           \
	     p_ < (m)->data.mapping.pairs.top &&                             \
	     ((k) = node(y, p_->key), (v) = node(y, p_->value), 1);          \
	     p_++)

static const char *kname(yaml_node_t *k)
{
	return k && k->type == YAML_SCALAR_NODE
		       ? (const char *)k->data.scalar.value : "";
}

static void load_input(struct yl *y, yaml_node_t *m)
{
	struct ex_run *r = y->r;
	struct ex_input *in;
	yaml_node_t *k, *v;
	const char *s;
	int have_at = 0, have_format = 0;

	if (m->type != YAML_MAPPING_NODE) {
		bad(y, m, "each input must be a mapping (at, format, file, ...)");
		return;
	}
	if (r->nin == EX_MAX_INPUTS) {
		bad(y, m, "more than %d inputs", EX_MAX_INPUTS);
		return;
	}
	in = &r->in[r->nin++];
	in->line = m->start_mark.line + 1;
	snprintf(in->name, sizeof in->name, "input-%zu", r->nin);
	MAP_EACH(y, m, k, v) {
		const char *key = kname(k);
		int si = -1;

		for (int i = 0; i < 4; i++)
			if (!strcmp(key, src_keys[i]))
				si = i;
		if (!strcmp(key, "name")) {
			if (!(s = scalar(y, v, key)))
				continue;
			if (strlen(s) >= sizeof in->name || !*s ||
			    strspn(s, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
				    != strlen(s))
				bad(y, v, "name must be 1..%zu letters, digits, "
					  "'-', '_' or '.', not \"%s\"",
				    sizeof in->name - 1, s);
			else
				snprintf(in->name, sizeof in->name, "%s", s);
		} else if (!strcmp(key, "at")) {
			in->at = get_seconds(y, v, key);
			have_at = 1;
		} else if (!strcmp(key, "format")) {
			if (!(s = scalar(y, v, key)))
				continue;
			have_format = 1;
			in->format = -1;
			for (int f = 0; f <= F_FLOW; f++)
				if (!strcmp(s, format_names[f]))
					in->format = f;
			if (!strcmp(s, "csv"))
				in->format = F_CSV;
			if (in->format < 0)
				bad(y, v, "format must be one of %s, not \"%s\"",
				    EX_FORMATS, s);
		} else if (!strcmp(key, "file")) {
			if ((s = scalar(y, v, key))) {
				free(in->file);
				in->file = resolve(y, s);
				if (access(in->file, R_OK))
					bad(y, v, "file %s: %s", in->file,
					    strerror(errno));
			}
		} else if (!strcmp(key, "report")) {
			if ((s = scalar(y, v, key))) {
				free(in->report_type);
				in->report_type = xstrdup(s);
			}
		} else if (si >= 0) {
			if (!(s = scalar(y, v, key)))
				continue;
			free(in->src[si]);
			in->src[si] = xstrdup(s);
			struct cep_source probe;

			cep_source_init(&probe, "probe");
			if (cep_source_set(&probe, key, s))
				bad(y, v, "bad %s \"%s\"", key, s);
		} else {
			bad(y, k, "unknown input key \"%s\" (name, at, format, "
				  "file, report, reliability, credibility, tlp, "
				  "sector)", key);
		}
	}
	if (!have_at)
		bad(y, m, "input %s has no at: (its offset)", in->name);
	if (!have_format)
		bad(y, m, "input %s has no format: (%s)", in->name, EX_FORMATS);
	if (!in->file)
		bad(y, m, "input %s has no file:", in->name);
	if (in->report_type && in->format != F_CSV)
		bad(y, m, "report: is for format csv-shadowserver only");
}

/* Expectations refer to inputs by name: resolved after all are read. */
struct pending_after {
	size_t ex;
	yaml_node_t *n;
};

static void load_expect(struct yl *y, yaml_node_t *m,
			struct pending_after *pa, size_t *npa)
{
	struct ex_run *r = y->r;
	struct ex_expect *e;
	yaml_node_t *k, *v;
	const char *s;
	int kinds = 0;

	if (m->type != YAML_MAPPING_NODE) {
		bad(y, m, "each expectation must be a mapping (incident: or "
			  "advisory: SECTOR, ...)");
		return;
	}
	if (r->nex == EX_MAX_EXPECT) {
		bad(y, m, "more than %d expectations", EX_MAX_EXPECT);
		return;
	}
	e = &r->ex[r->nex++];
	e->line = m->start_mark.line + 1;
	e->pclass = 5;
	e->within = -1;
	e->best = -1;
	MAP_EACH(y, m, k, v) {
		const char *key = kname(k);

		if (!strcmp(key, "incident") || !strcmp(key, "advisory")) {
			kinds++;
			e->advisory = key[0] == 'a';
			if (!(s = scalar(y, v, key)))
				continue;
			if (!sector_ok(s))
				bad(y, v, "unknown sector \"%s\"", s);
			else
				snprintf(e->sector, sizeof e->sector, "%s", s);
		} else if (!strcmp(key, "type")) {
			if (!(s = scalar(y, v, key)))
				continue;
			if (cep_type_parse(s) < 0)
				bad(y, v, "unknown type \"%s\"", s);
			else
				snprintf(e->type, sizeof e->type, "%s", s);
		} else if (!strcmp(key, "title")) {
			if ((s = scalar(y, v, key))) {
				free(e->title);
				e->title = xstrdup(s);
			}
		} else if (!strcmp(key, "source_sector")) {
			if (!(s = scalar(y, v, key)))
				continue;
			if (!sector_ok(s))
				bad(y, v, "unknown sector \"%s\"", s);
			else
				snprintf(e->source_sector,
					 sizeof e->source_sector, "%s", s);
		} else if (!strcmp(key, "priority")) {
			if (!(s = scalar(y, v, key)))
				continue;
			if ((s[0] == 'P' || s[0] == 'p') && s[1] >= '1' &&
			    s[1] <= '5' && !s[2])
				e->pclass = s[1] - '0';
			else
				bad(y, v, "priority must be P1..P5 (that class "
					  "or more urgent), not \"%s\"", s);
		} else if (!strcmp(key, "within")) {
			e->within = get_seconds(y, v, key);
		} else if (!strcmp(key, "after")) {
			pa[*npa].ex = r->nex - 1;
			pa[(*npa)++].n = v;
		} else if (!strcmp(key, "name")) {
			if ((s = scalar(y, v, key))) {
				free(e->label);
				e->label = xstrdup(s);
			}
		} else {
			bad(y, k, "unknown expectation key \"%s\" (incident, "
				  "advisory, type, title, source_sector, "
				  "priority, within, after, name)", key);
		}
	}
	if (kinds != 1)
		bad(y, m, "an expectation needs exactly one of incident: "
			  "SECTOR or advisory: SECTOR");
	if (e->source_sector[0] && !e->advisory)
		bad(y, m, "source_sector: is for advisories only");
}

static void load_root(struct yl *y, yaml_node_t *root)
{
	struct ex_run *r = y->r;
	struct pending_after pa[EX_MAX_EXPECT];
	size_t npa = 0;
	yaml_node_t *k, *v;
	const char *s;

	if (!root || root->type != YAML_MAPPING_NODE) {
		bad(y, root, "a scenario is a mapping (name, speed, inputs, "
			     "expect)");
		return;
	}
	MAP_EACH(y, root, k, v) {
		const char *key = kname(k);

		if (!strcmp(key, "name") || !strcmp(key, "description")) {
			if (!(s = scalar(y, v, key)))
				continue;
			char **dst = key[0] == 'n' ? &r->name : &r->description;
			free(*dst);
			*dst = xstrdup(s);
		} else if (!strcmp(key, "speed")) {
			if (!(s = scalar(y, v, key)))
				continue;
			char *end;
			double sp = strtod(s, &end);
			if (end == s || *end || !(sp > 0 && sp <= 1e6))
				bad(y, v, "speed must be scenario seconds per "
					  "wall second, 0 < speed <= 1000000, "
					  "not \"%s\"", s);
			else
				r->speed = sp;
		} else if (!strcmp(key, "end")) {
			r->end = get_seconds(y, v, key);
			r->end_set = 1;
		} else if (!strcmp(key, "rules")) {
			yaml_node_t *seq = v;
			if (v->type == YAML_SCALAR_NODE) {
				r->rules = realloc(r->rules, (r->nrules + 1) *
							     sizeof *r->rules);
				if (!r->rules)
					exit(1);
				r->rules[r->nrules++] = resolve(
					y, (const char *)v->data.scalar.value);
				continue;
			}
			if (seq->type != YAML_SEQUENCE_NODE) {
				bad(y, v, "rules must be a directory or a list");
				continue;
			}
			for (yaml_node_item_t *it = seq->data.sequence.items.start;
			     it < seq->data.sequence.items.top; it++) {
				if (!(s = scalar(y, node(y, *it), key)))
					continue;
				r->rules = realloc(r->rules, (r->nrules + 1) *
							     sizeof *r->rules);
				if (!r->rules)
					exit(1);
				r->rules[r->nrules++] = resolve(y, s);
			}
		} else if (!strcmp(key, "sectors")) {
			if ((s = scalar(y, v, key))) {
				free(r->sectors);
				r->sectors = strcmp(s, "none") ? resolve(y, s)
							       : xstrdup(s);
			}
		} else if (!strcmp(key, "inputs") || !strcmp(key, "expect")) {
			if (v->type != YAML_SEQUENCE_NODE) {
				bad(y, v, "%s must be a list", key);
				continue;
			}
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				if (key[0] == 'i')
					load_input(y, node(y, *it));
				else
					load_expect(y, node(y, *it), pa, &npa);
			}
		} else {
			bad(y, k, "unknown key \"%s\" (name, description, speed, "
				  "end, rules, sectors, inputs, expect)", key);
		}
	}
	if (!r->nin)
		bad(y, root, "the scenario has no inputs");
	for (size_t i = 0; i < r->nin; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->in[i].name, r->in[j].name))
				bad(y, root, "two inputs are named %s (lines "
					     "%zu and %zu)", r->in[i].name,
				    r->in[j].line, r->in[i].line);
	for (size_t i = 0; i < npa; i++) {
		struct ex_expect *e = &r->ex[pa[i].ex];
		size_t j;

		if (!(s = scalar(y, pa[i].n, "after")))
			continue;
		for (j = 0; j < r->nin && strcmp(r->in[j].name, s); j++)
			;
		if (j == r->nin)
			bad(y, pa[i].n, "after: names no input (\"%s\")", s);
		else
			e->after = (int)j;
	}
}

static int scenario_load(struct ex_run *r)
{
	struct yl y = { .r = r };
	yaml_parser_t parser;
	FILE *f = fopen(r->path, "rb");
	const char *slash;

	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", r->path,
			strerror(errno));
		return -1;
	}
	slash = strrchr(r->path, '/');
	if (slash)
		snprintf(y.dir, sizeof y.dir, "%.*s",
			 (int)(slash - r->path ? slash - r->path : 1), r->path);
	r->speed = 1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &y.doc)) {
		fprintf(stderr, "%s:%zu: %s\n", r->path,
			(size_t)parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	load_root(&y, yaml_document_get_root_node(&y.doc));
	yaml_document_delete(&y.doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r->errors ? -1 : 0;
}

/* --- the pipeline ------------------------------------------------------- */

/* The directory of this binary: the collectors and ceptord are beside it. */
static void bin_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0) {
		snprintf(buf, size, ".");
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

static void ring_name(const struct ex_run *r, size_t i, char *buf,
		      size_t size)
{
	(void)r;
	snprintf(buf, size, "/ceptor-ex-%ld-%zu", (long)getpid(), i);
}

/* The project's rules/NAME: in the working directory, else beside the
 * build (BIN/../../rules/NAME, the tree's layout); NULL when neither. */
static char *default_rules_path(const char *bin, const char *name)
{
	char buf[PATH_MAX + 64];

	snprintf(buf, sizeof buf, "rules/%s", name);
	if (!access(buf, R_OK))
		return xstrdup(buf);
	snprintf(buf, sizeof buf, "%s/../../rules/%s", bin, name);
	if (!access(buf, R_OK))
		return xstrdup(buf);
	return NULL;
}

static int write_config(struct ex_run *r, const char *url, const char *bin,
			char *cfg, size_t size)
{
	FILE *f;

	snprintf(cfg, size, "%s/ceptor.yml", r->tmp);
	f = fopen(cfg, "w");
	if (!f) {
		fprintf(stderr, "ceptorctl: exercise: cannot write %s: %s\n",
			cfg, strerror(errno));
		return -1;
	}
	fprintf(f, "# generated by ceptorctl exercise run %s\n", r->path);
	fprintf(f, "site: exercise\nredis: \"%s\"\nspool: \"%s/spool\"\n", url,
		r->tmp);
	/* Without rules: or sectors: in the scenario, the project's own,
	 * found where ceptord's defaults would not look when ceptorctl runs
	 * outside the tree. */
	if (!r->nrules) {
		char *d = default_rules_path(bin, "default");

		if (!d) {
			fprintf(stderr, "ceptorctl: exercise: no rules: in %s "
					"and no rules/default here or beside "
					"%s\n", r->path, bin);
			fclose(f);
			return -1;
		}
		r->rules = malloc(sizeof *r->rules);
		if (!r->rules)
			exit(1);
		r->rules[r->nrules++] = d;
	}
	if (!r->sectors)
		r->sectors = default_rules_path(bin, "sectors.yml");
	fprintf(f, "rules:\n");
	for (size_t i = 0; i < r->nrules; i++)
		fprintf(f, "  - \"%s\"\n", r->rules[i]);
	if (r->sectors)
		fprintf(f, "sectors: \"%s\"\n", r->sectors);
	/* Messages within 100 ms, and correlation signals 500 ms after
	 * their events: the delays a scenario measures are the pipeline's,
	 * not the publisher's round. */
	fprintf(f, "publish_interval_ms: 100\nlateness: 500ms\n"
		   "stats_hours: 0\nstats_days: 0\ncollectors:\n");
	for (size_t i = 0; i < r->nin; i++) {
		char ring[64];

		ring_name(r, i, ring, sizeof ring);
		fprintf(f, "  - kind: ring\n    name: \"%s\"\n    ring: \"%s\"\n"
			   "    overflow: block\n", r->in[i].name, ring);
		for (int k = 0; k < 4; k++)
			if (r->in[i].src[k])
				fprintf(f, "    %s: \"%s\"\n", src_keys[k],
					r->in[i].src[k]);
	}
	if (fclose(f)) {
		fprintf(stderr, "ceptorctl: exercise: cannot write %s\n", cfg);
		return -1;
	}
	return 0;
}

/* Start argv with stdout and stderr appended to log; the child's pid, or
 * -1 after saying why. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "ceptorctl: exercise: fork: %s\n",
			strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_RDONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

/* The last lines of a log, indented, on stderr. */
static void show_log(const char *log)
{
	char line[512], ring[8][512];
	size_t n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		snprintf(ring[n++ % 8], sizeof ring[0], "%s", line);
	fclose(f);
	for (size_t i = n > 8 ? n - 8 : 0; i < n; i++)
		fprintf(stderr, "    %s", ring[i % 8]);
}

static int start_input(struct ex_run *r, size_t i, const char *bin,
		       char *speed)
{
	struct ex_input *in = &r->in[i];
	char prog[PATH_MAX + 32], ring[64], log[PATH_MAX + 64];
	char *argv[16];
	int a = 0;

	ring_name(r, i, ring, sizeof ring);
	snprintf(log, sizeof log, "%s/%s.log", r->tmp, in->name);
	if (in->format == F_PCAP || in->format == F_FLOW) {
		snprintf(prog, sizeof prog, "%s/%s", bin,
			 in->format == F_PCAP ? "ceptor-pcap" : "ceptor-flow");
		argv[a++] = prog;
		argv[a++] = "-r";
		argv[a++] = in->file;
	} else {
		snprintf(prog, sizeof prog, "%s/ceptor-feed", bin);
		argv[a++] = prog;
		argv[a++] = "--format";
		argv[a++] = (char *)format_names[in->format];
		if (in->report_type) {
			argv[a++] = "--report";
			argv[a++] = in->report_type;
		}
		argv[a++] = in->file;
	}
	argv[a++] = "--ring";
	argv[a++] = ring;
	argv[a++] = "--source";
	argv[a++] = in->name;
	argv[a++] = "--exercise";
	argv[a++] = speed;
	argv[a] = NULL;
	in->pid = spawn(argv, log);
	return in->pid > 0 ? 0 : -1;
}

/* Wait until ceptord's status says running, it dies, or time runs out. */
static int wait_ready(struct ex_run *r)
{
	char path[PATH_MAX + 32], buf[256];
	uint64_t deadline = cep_clock_mono_ms() + EX_START_MS;
	int status;

	snprintf(path, sizeof path, "%s/spool/status.json", r->tmp);
	while (cep_clock_mono_ms() < deadline && !interrupted) {
		FILE *f = fopen(path, "r");

		if (f) {
			size_t n = fread(buf, 1, sizeof buf - 1, f);

			fclose(f);
			buf[n] = '\0';
			if (strstr(buf, "\"state\":\"running\""))
				return 0;
		}
		if (waitpid(r->ceptord, &status, WNOHANG) == r->ceptord) {
			r->ceptord = 0;
			fprintf(stderr, "ceptorctl: exercise: ceptord ended "
					"at start (status %d):\n",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -1;
		}
		usleep(20000);
	}
	fprintf(stderr, "ceptorctl: exercise: ceptord did not start within "
			"%d s\n", EX_START_MS / 1000);
	return -1;
}

/* SIGTERM, wait (SIGKILL past EX_STOP_MS); 0 when it exited 0. */
static int stop_pid(pid_t pid)
{
	uint64_t deadline = cep_clock_mono_ms() + EX_STOP_MS;
	int status = 0;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (cep_clock_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(20000);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* --- reading the exercise streams --------------------------------------- */

#define EX_NKEYS (2 * CEP_SECTOR_COUNT)

struct streams {
	char key[EX_NKEYS][64];
	char last[EX_NKEYS][48];
	int advisory[EX_NKEYS];
	char sector[EX_NKEYS][16];
};

static void streams_init(struct streams *st, uint64_t t0_ms)
{
	for (int s = 0; s < CEP_SECTOR_COUNT; s++)
		for (int a = 0; a < 2; a++) {
			int k = 2 * s + a;
			const char *name = s ? cep_sector_name(s) : "unknown";

			snprintf(st->key[k], sizeof st->key[k],
				 "ceptor-exercise:{%s}:%s", name,
				 a ? "advisories" : "incidents");
			snprintf(st->last[k], sizeof st->last[k], "%llu-0",
				 (unsigned long long)(t0_ms ? t0_ms - 1 : 0));
			st->advisory[k] = a;
			snprintf(st->sector[k], sizeof st->sector[k], "%s",
				 name);
		}
}

static void field(const redisReply *f, const char *name, char *dst,
		  size_t size)
{
	dst[0] = '\0';
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING &&
		    !strcmp(f->element[i]->str, name)) {
			snprintf(dst, size, "%s", f->element[i + 1]->str);
			return;
		}
}

/* A top-level string member of a JSON document. */
static void json_member(const char *json, const char *name, char *dst,
			size_t size)
{
	struct cep_json_reader rd;
	struct cep_json_value k, v;

	dst[0] = '\0';
	cep_json_reader_init(&rd, json, strlen(json));
	while (cep_json_next(&rd, &k, &v) == 1)
		if (cep_json_key_is(&k, name) && v.type == CEP_JSON_STRING) {
			if (cep_json_unescape(&v, dst, size) < 0)
				dst[0] = '\0';
			return;
		}
}

static void take(struct ex_run *r, const struct streams *st, int k,
		 const redisReply *e, int at_stop)
{
	const redisReply *f = e->element[1];
	char sector[16], version[24], title[512];
	struct ex_msg *m;
	char *json = NULL;

	field(f, "sector", sector, sizeof sector);
	/* An incident counts on its own sector's stream only. */
	if (strcmp(sector, st->sector[k]))
		return;
	if (r->nmsg == r->capmsg) {
		r->capmsg = r->capmsg ? 2 * r->capmsg : 64;
		r->msg = realloc(r->msg, r->capmsg * sizeof *r->msg);
		if (!r->msg)
			exit(1);
	}
	m = &r->msg[r->nmsg];
	memset(m, 0, sizeof *m);
	m->advisory = st->advisory[k];
	snprintf(m->sector, sizeof m->sector, "%s", sector);
	field(f, "id", m->id, sizeof m->id);
	field(f, "priority", m->priority, sizeof m->priority);
	field(f, "source_sector", m->source_sector, sizeof m->source_sector);
	field(f, "version", version, sizeof version);
	field(f, "title", title, sizeof title);
	m->version = strtoll(version, NULL, 10);
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(f->element[i]->str, "json"))
			json = f->element[i + 1]->str;
	if (json)
		json_member(json, "type", m->type, sizeof m->type);
	if (!m->id[0])
		return;
	/* At least once: a repeat of (stream, id, version) is dropped. */
	for (size_t i = 0; i < r->nmsg; i++)
		if (r->msg[i].advisory == m->advisory &&
		    r->msg[i].version == m->version &&
		    !strcmp(r->msg[i].id, m->id) &&
		    !strcmp(r->msg[i].sector, m->sector))
			return;
	m->title = xstrdup(title);
	m->pclass = m->priority[0] == 'P' ? atoi(m->priority + 1) : 9;
	m->entry_ms = strtoull(e->element[0]->str, NULL, 10);
	m->at_stop = at_stop;
	r->nmsg++;
}

/* One XREAD over every stream; 0, or -1 when Redis failed. */
static int read_streams(struct ex_run *r, redisContext *c,
			struct streams *st, int block_ms, int at_stop)
{
	const char *argv[6 + 2 * EX_NKEYS];
	char block[24];
	int a = 0;
	redisReply *rep;

	argv[a++] = "XREAD";
	argv[a++] = "COUNT";
	argv[a++] = "1000";
	if (block_ms > 0) {
		snprintf(block, sizeof block, "%d", block_ms);
		argv[a++] = "BLOCK";
		argv[a++] = block;
	}
	argv[a++] = "STREAMS";
	for (int k = 0; k < EX_NKEYS; k++)
		argv[a++] = st->key[k];
	for (int k = 0; k < EX_NKEYS; k++)
		argv[a++] = st->last[k];
	rep = redisCommandArgv(c, a, argv, NULL);
	if (!rep) {
		fprintf(stderr, "ceptorctl: exercise: Redis: %s\n", c->errstr);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "ceptorctl: exercise: XREAD: %s\n", rep->str);
		freeReplyObject(rep);
		return -1;
	}
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements;
	     i++) {
		const redisReply *s = rep->element[i];
		int k;

		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2)
			continue;
		for (k = 0; k < EX_NKEYS && strcmp(st->key[k],
						   s->element[0]->str); k++)
			;
		if (k == EX_NKEYS)
			continue;
		for (size_t j = 0; j < s->element[1]->elements; j++) {
			const redisReply *e = s->element[1]->element[j];

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			snprintf(st->last[k], sizeof st->last[k], "%s",
				 e->element[0]->str);
			take(r, st, k, e, at_stop);
		}
	}
	freeReplyObject(rep);
	return 0;
}

/* --- judging ------------------------------------------------------------ */

static double msg_time(const struct ex_run *r, const struct ex_msg *m)
{
	return ((double)m->entry_ms - (double)r->t0_ms) / 1000.0 * r->speed;
}

static double delay_of(const struct ex_run *r, const struct ex_expect *e,
		       const struct ex_msg *m)
{
	return msg_time(r, m) - r->in[e->after].at;
}

/* Sector, type, title, source sector: priority and time aside. */
static int matches(const struct ex_expect *e, const struct ex_msg *m)
{
	if (e->advisory != m->advisory || strcmp(e->sector, m->sector))
		return 0;
	if (e->type[0] && strcmp(e->type, m->type))
		return 0;
	if (e->source_sector[0] && strcmp(e->source_sector, m->source_sector))
		return 0;
	return !e->title || strcasestr(m->title, e->title);
}

static int meets(const struct ex_run *r, const struct ex_expect *e,
		 const struct ex_msg *m)
{
	return matches(e, m) && m->pclass <= e->pclass &&
	       (e->within < 0 || delay_of(r, e, m) <= e->within);
}

static void judge(struct ex_run *r)
{
	for (size_t i = 0; i < r->nex; i++) {
		struct ex_expect *e = &r->ex[i];

		e->met = 0;
		e->best = -1;
		for (size_t j = 0; j < r->nmsg; j++) {
			struct ex_msg *m = &r->msg[j];

			if (!matches(e, m))
				continue;
			m->matched = 1;
			if (e->met)
				continue;
			if (meets(r, e, m)) {
				e->met = 1;
				e->best = (long)j;
			} else if (e->best < 0 ||
				   m->pclass < r->msg[e->best].pclass) {
				e->best = (long)j;
			}
		}
	}
}

static size_t met_count(const struct ex_run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nex; i++)
		n += r->ex[i].met;
	return n;
}

/* What the expectation asks, in words. */
static void describe(const struct ex_expect *e, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s %s", e->advisory ? "advisory"
							 : "incident", e->sector);

	if (e->source_sector[0] && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " from %s", e->source_sector);
	if (e->type[0] && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " type %s", e->type);
	if (e->title && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " title \"%s\"", e->title);
	if (e->pclass < 5 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " P%d or higher", e->pclass);
	if (e->within >= 0 && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, " within %.0fs", e->within);
}

static void print_text(const struct ex_run *r)
{
	char what[512];
	size_t extras = 0;

	printf("exercise: %s (%s), speed %g\n", r->name ? r->name : r->path,
	       r->path, r->speed);
	for (size_t i = 0; i < r->nin; i++) {
		const struct ex_input *in = &r->in[i];
		int ok = in->done && WIFEXITED(in->status) &&
			 WEXITSTATUS(in->status) == 0;

		printf("  input   %-16s at %6.0fs  %s %s%s\n", in->name, in->at,
		       format_names[in->format], in->file,
		       !in->pid ? "  (not started)"
		       : ok     ? ""
				: "  (collector FAILED)");
	}
	for (size_t i = 0; i < r->nex; i++) {
		const struct ex_expect *e = &r->ex[i];
		const struct ex_msg *m = e->best >= 0 ? &r->msg[e->best] : NULL;

		describe(e, what, sizeof what);
		printf("  %-7s %s%s%s%s", e->met ? "seen" : "missed",
		       e->label ? e->label : "", e->label ? ": " : "", what,
		       e->after ? " after " : "");
		if (e->after)
			printf("%s", r->in[e->after].name);
		if (!m) {
			printf(" -- nothing matched\n");
			continue;
		}
		printf(" -- %s %s v%lld after %.0fs%s%s\n", m->id,
		       m->priority, m->version, delay_of(r, e, m),
		       m->at_stop ? " (at stop)" : "",
		       e->met ? ""
		       : m->pclass > e->pclass ? " (priority too low)"
					       : " (too late)");
	}
	for (size_t j = 0; j < r->nmsg; j++)
		extras += !r->msg[j].matched;
	if (extras)
		printf("  extras (%zu messages no expectation matched):\n",
		       extras);
	for (size_t j = 0; j < r->nmsg; j++) {
		const struct ex_msg *m = &r->msg[j];

		if (m->matched)
			continue;
		printf("  extra   %s %s%s%s %s %s v%lld %s \"%s\" at %.0fs%s\n",
		       m->advisory ? "advisory" : "incident", m->sector,
		       m->source_sector[0] ? " from " : "", m->source_sector,
		       m->type[0] ? m->type : "-", m->id, m->version,
		       m->priority, m->title, msg_time(r, m),
		       m->at_stop ? " (at stop)" : "");
	}
	printf("result: %zu of %zu expectations met%s\n", met_count(r), r->nex,
	       met_count(r) == r->nex ? "" : " -- FAILED");
}

static void print_json(const struct ex_run *r)
{
	size_t size = 4096 + r->nmsg * 1024 + r->nex * 1024 + r->nin * 1024;
	char *buf = xalloc(size);
	struct cep_jw w;

	cep_jw_init(&w, buf, size);
	cep_jw_begin(&w);
	cep_jw_str(&w, "scenario", r->path);
	cep_jw_str(&w, "name", r->name ? r->name : "");
	cep_jw_double(&w, "speed", r->speed, 3);
	cep_jw_bool(&w, "passed", met_count(r) == r->nex);
	cep_jw_u64(&w, "met", met_count(r));
	cep_jw_u64(&w, "expected", r->nex);
	cep_jw_open(&w, "inputs", '[');
	for (size_t i = 0; i < r->nin; i++) {
		const struct ex_input *in = &r->in[i];

		cep_jw_open(&w, NULL, '{');
		cep_jw_str(&w, "name", in->name);
		cep_jw_double(&w, "at", in->at, 3);
		cep_jw_str(&w, "format", format_names[in->format]);
		cep_jw_str(&w, "file", in->file);
		cep_jw_bool(&w, "started", in->pid > 0);
		cep_jw_bool(&w, "ok", in->done && WIFEXITED(in->status) &&
					      WEXITSTATUS(in->status) == 0);
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	cep_jw_open(&w, "expectations", '[');
	for (size_t i = 0; i < r->nex; i++) {
		const struct ex_expect *e = &r->ex[i];
		const struct ex_msg *m = e->best >= 0 ? &r->msg[e->best] : NULL;

		cep_jw_open(&w, NULL, '{');
		cep_jw_u64(&w, "line", e->line);
		if (e->label)
			cep_jw_str(&w, "name", e->label);
		cep_jw_str(&w, "kind", e->advisory ? "advisory" : "incident");
		cep_jw_str(&w, "sector", e->sector);
		if (e->source_sector[0])
			cep_jw_str(&w, "source_sector", e->source_sector);
		if (e->type[0])
			cep_jw_str(&w, "type", e->type);
		if (e->title)
			cep_jw_str(&w, "title", e->title);
		cep_jw_u64(&w, "priority_at_least", (uint64_t)e->pclass);
		if (e->within >= 0)
			cep_jw_double(&w, "within_s", e->within, 3);
		cep_jw_str(&w, "after", r->in[e->after].name);
		cep_jw_str(&w, "outcome", e->met ? "seen" : "missed");
		if (m) {
			cep_jw_str(&w, "id", m->id);
			cep_jw_u64(&w, "version", (uint64_t)m->version);
			cep_jw_str(&w, "priority", m->priority);
			cep_jw_double(&w, "delay_s", delay_of(r, e, m), 3);
			cep_jw_str(&w, "title_seen", m->title);
			cep_jw_bool(&w, "at_stop", m->at_stop);
		}
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	cep_jw_open(&w, "extras", '[');
	for (size_t j = 0; j < r->nmsg; j++) {
		const struct ex_msg *m = &r->msg[j];

		if (m->matched)
			continue;
		cep_jw_open(&w, NULL, '{');
		cep_jw_str(&w, "kind", m->advisory ? "advisory" : "incident");
		cep_jw_str(&w, "sector", m->sector);
		if (m->source_sector[0])
			cep_jw_str(&w, "source_sector", m->source_sector);
		cep_jw_str(&w, "id", m->id);
		cep_jw_u64(&w, "version", (uint64_t)m->version);
		cep_jw_str(&w, "priority", m->priority);
		cep_jw_str(&w, "type", m->type);
		cep_jw_str(&w, "title", m->title);
		cep_jw_double(&w, "at_s", msg_time(r, m), 3);
		cep_jw_bool(&w, "at_stop", m->at_stop);
		cep_jw_close(&w, '}');
	}
	cep_jw_close(&w, ']');
	if (cep_jw_end(&w) < 0)
		fprintf(stderr, "ceptorctl: exercise: report too large\n");
	else
		puts(buf);
	free(buf);
}

/* --- the run ------------------------------------------------------------ */

static uint64_t redis_time_ms(redisContext *c)
{
	redisReply *rep = redisCommand(c, "TIME");
	uint64_t ms = 0;

	if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2)
		ms = strtoull(rep->element[0]->str, NULL, 10) * 1000 +
		     strtoull(rep->element[1]->str, NULL, 10) / 1000;
	if (rep)
		freeReplyObject(rep);
	return ms;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(struct ex_run *r, int keep)
{
	for (size_t i = 0; i < r->nin; i++) {
		char ring[64];

		if (r->in[i].pid > 0 && !r->in[i].done) {
			stop_pid(r->in[i].pid);
			r->in[i].done = 1;
		}
		ring_name(r, i, ring, sizeof ring);
		shm_unlink(ring);
	}
	if (!r->tmp[0])
		return;
	if (keep) {
		fprintf(stderr, "ceptorctl: exercise: kept %s\n", r->tmp);
		return;
	}
	/* The directory is ours (mkdtemp): its files, then itself. */
	nftw(r->tmp, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Run the pipeline; 0, or -1 when it could not be run. */
static int run(struct ex_run *r, const char *url, int keep)
{
	char bin[PATH_MAX], prog[PATH_MAX + 32], cfg[PATH_MAX + 32];
	char log[PATH_MAX + 32], speed[64], err[160];
	struct cep_redis_url u;
	struct streams st;
	redisContext *c = NULL;
	double last_at = 0, max_within = 0;
	uint64_t met_since = 0;
	int rc = -1;

	if (cep_redis_url_parse(url, &u, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: exercise: bad Redis URL: %s\n", err);
		return -1;
	}
	if (cep_redis_connect(&u, 2000, 5000, &c, err, sizeof err)) {
		fprintf(stderr, "ceptorctl: exercise: cannot use Redis at "
				"%s:%d: %s\n", u.host, u.port, err);
		return -1;
	}
	snprintf(r->tmp, sizeof r->tmp, "%s/ceptor-exercise.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	if (!mkdtemp(r->tmp)) {
		fprintf(stderr, "ceptorctl: exercise: mkdtemp: %s\n",
			strerror(errno));
		r->tmp[0] = '\0';
		goto out;
	}
	bin_dir(bin, sizeof bin);
	if (write_config(r, url, bin, cfg, sizeof cfg))
		goto out;
	snprintf(prog, sizeof prog, "%s/ceptord", bin);
	snprintf(log, sizeof log, "%s/ceptord.log", r->tmp);
	snprintf(speed, sizeof speed, "--retime=%.17g", r->speed);
	{
		char *const argv[] = { prog, "-c", cfg, NULL };

		r->ceptord = spawn(argv, log);
	}
	if (r->ceptord <= 0)
		goto out;
	if (wait_ready(r)) {
		show_log(log);
		goto out;
	}

	for (size_t i = 0; i < r->nin; i++)
		last_at = r->in[i].at > last_at ? r->in[i].at : last_at;
	for (size_t i = 0; i < r->nex; i++) {
		double w = r->ex[i].within >= 0 ? r->ex[i].within
						 : EX_DEFAULT_TAIL;
		double t = r->in[r->ex[i].after].at + w;

		max_within = t > max_within ? t : max_within;
	}
	if (!r->end_set)
		r->end = (max_within > last_at ? max_within : last_at) +
			 (r->nex ? 0 : EX_DEFAULT_TAIL);

	r->t0_ms = redis_time_ms(c);
	if (!r->t0_ms) {
		fprintf(stderr, "ceptorctl: exercise: Redis TIME failed\n");
		goto out;
	}
	streams_init(&st, r->t0_ms);
	uint64_t mono0 = cep_clock_mono_ms();

	for (;;) {
		double now = (double)(cep_clock_mono_ms() - mono0) / 1000.0 *
			     r->speed;
		double next = -1;
		int running = 0, status;

		if (interrupted) {
			fprintf(stderr, "ceptorctl: exercise: interrupted\n");
			break;
		}
		for (size_t i = 0; i < r->nin; i++) {
			struct ex_input *in = &r->in[i];

			if (!in->pid && in->at <= now &&
			    start_input(r, i, bin, speed))
				goto out;
			if (!in->pid && (next < 0 || in->at < next))
				next = in->at;
			if (in->pid > 0 && !in->done &&
			    waitpid(in->pid, &in->status, WNOHANG) == in->pid) {
				in->done = 1;
				if (!WIFEXITED(in->status) ||
				    WEXITSTATUS(in->status)) {
					snprintf(log, sizeof log, "%s/%s.log",
						 r->tmp, in->name);
					fprintf(stderr, "ceptorctl: exercise: "
							"collector for %s "
							"failed:\n", in->name);
					show_log(log);
				}
			}
			running += !in->pid || !in->done;
		}
		if (waitpid(r->ceptord, &status, WNOHANG) == r->ceptord) {
			r->ceptord = 0;
			fprintf(stderr, "ceptorctl: exercise: ceptord ended "
					"during the run:\n");
			snprintf(log, sizeof log, "%s/ceptord.log", r->tmp);
			show_log(log);
			goto out;
		}
		judge(r);
		if (!running) {
			if (met_count(r) == r->nex && r->nex) {
				if (!met_since)
					met_since = cep_clock_mono_ms();
				if (cep_clock_mono_ms() - met_since >=
				    EX_GRACE_MS)
					break;
			}
			if (now >= r->end)
				break;
		}
		int block = EX_BLOCK_MS;
		if (next >= 0) {
			double ms = (next - now) / r->speed * 1000.0;

			if (ms < block)
				block = ms < 1 ? 1 : (int)ms;
		}
		if (read_streams(r, c, &st, block, 0))
			goto out;
	}
	{
		pid_t pid = r->ceptord;

		r->ceptord = 0;
		if (stop_pid(pid)) {
			fprintf(stderr, "ceptorctl: exercise: ceptord did not "
					"stop cleanly:\n");
			snprintf(log, sizeof log, "%s/ceptord.log", r->tmp);
			show_log(log);
		}
	}
	/* What ceptord published on its way out (final windows). */
	if (read_streams(r, c, &st, 0, 1))
		goto out;
	judge(r);
	rc = interrupted ? -1 : 0;
out:
	if (r->ceptord > 0)
		stop_pid(r->ceptord);
	r->ceptord = 0;
	cleanup(r, keep);
	if (c)
		redisFree(c);
	return rc;
}

static const char usage_text[] =
	"usage: ceptorctl exercise run SCENARIO.yml [--redis URL] [--speed X]\n"
	"                              [--json] [--keep]\n"
	"  Replays the scenario's inputs through ceptord and the collectors\n"
	"  (marked exercise: ceptor-exercise: streams only) and reports each\n"
	"  expected incident or advisory as seen or missed, with its priority\n"
	"  and delay, and the extras.  --speed overrides the scenario's time\n"
	"  scale (scenario seconds per wall second); --keep leaves the run's\n"
	"  directory (config, logs).  Exit 0: every expectation met; 1: not,\n"
	"  or the run failed; 2: a bad scenario (FILE:LINE) or usage.\n"
	"  Scenario format: tests/scenarios/README.md.\n";

int cep_ctl_exercise(const char *url, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redis", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ex_run *r;
	struct sigaction sa;
	double speed = 0;
	int json = 0, keep = 0, o, rc;
	char *end;

	if (argc < 2 || strcmp(argv[1], "run")) {
		fputs(argc >= 2 && !strcmp(argv[1], "--help") ? usage_text : "",
		      stdout);
		if (argc >= 2 && !strcmp(argv[1], "--help"))
			return 0;
		fprintf(stderr, "ceptorctl: exercise: which? 'run "
				"SCENARIO.yml'\n%s", usage_text);
		return 2;
	}
	argc--;
	argv++;
	/* 0, not 1: glibc then sets up again and permutes, so that options
	 * may follow the scenario file (main() parsed with '+'). */
	optind = 0;
	while ((o = getopt_long(argc, argv, "r:s:jkh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': url = optarg; break;
		case 's':
			speed = strtod(optarg, &end);
			if (end == optarg || *end || !(speed > 0 && speed <= 1e6)) {
				fprintf(stderr, "ceptorctl: exercise: --speed "
						"wants 0 < X <= 1000000, not "
						"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'k': keep = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "ceptorctl: exercise run: give one scenario "
				"file\n%s", usage_text);
		return 2;
	}
	r = xalloc(sizeof *r);
	r->path = argv[optind];
	if (scenario_load(r)) {
		rc = 2;
		goto done;
	}
	if (speed > 0)
		r->speed = speed;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (run(r, url, keep)) {
		rc = 1;
		goto done;
	}
	if (json)
		print_json(r);
	else
		print_text(r);
	rc = met_count(r) == r->nex ? 0 : 1;
	if (fflush(stdout))
		rc = 1;
done:
	for (size_t i = 0; i < r->nin; i++) {
		free(r->in[i].file);
		free(r->in[i].report_type);
		for (int k = 0; k < 4; k++)
			free(r->in[i].src[k]);
	}
	for (size_t i = 0; i < r->nex; i++) {
		free(r->ex[i].title);
		free(r->ex[i].label);
	}
	for (size_t i = 0; i < r->nmsg; i++)
		free(r->msg[i].title);
	for (size_t i = 0; i < r->nrules; i++)
		free(r->rules[i]);
	free(r->rules);
	free(r->sectors);
	free(r->name);
	free(r->description);
	free(r->msg);
	free(r);
	return rc;
}
