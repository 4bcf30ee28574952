/*
 * rule.c - the rule compiler: YAML documents -> struct cep_ruleset.
 *
 * The compiler runs in three passes:
 *
 *   1 files    every path is expanded (a directory gives its .yml and .yaml
 *              files sorted by name) and every file is loaded with libyaml's
 *              document API, one document at a time;
 *   2 rules    each document compiles on its own: metadata, logsource, the
 *              detection (predicates, selections, condition program) or the
 *              correlation (type, group-by, timespan, bounds); references to
 *              other rules are only recorded, with their line;
 *   3 resolve  ids and names are checked for duplicates, correlation
 *              references are bound to rule indices, who emits is decided,
 *              correlation levels default, and the by-kind lists are built.
 *
 * An error never stops a pass: it is written as "FILE:LINE: message" and
 * counted, and the rule that has it is still kept until the end, so that
 * references to it do not produce a second, misleading error.  Only when the
 * count is zero is the rule set handed out; otherwise it is freed whole.
 */
#include "ceptor/rule.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "core/match.h"
#include "core/rule_compile.h"
#include "core/rule_priv.h"

/* --- shared helpers (rule_compile.h) ------------------------------------- */

void cep__rc_diag(struct cctx *c, const char *file, unsigned line,
		 const char *fmt, ...)
{
	va_list ap;

	if (line)
		fprintf(c->diag, "%s:%u: ", file, line);
	else
		fprintf(c->diag, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(c->diag, fmt, ap);
	va_end(ap);
	fputc('\n', c->diag);
	c->nerr++;
}

bool cep__rc_grow(struct cctx *c, void *parr, size_t elsize, size_t n,
		     size_t *cap)
{
	void *arr, *p;
	size_t nc;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 8;
	memcpy(&arr, parr, sizeof arr);
	p = realloc(arr, nc * elsize);
	if (!p) {
		c->oom = true;
		return false;
	}
	memcpy(parr, &p, sizeof p);
	*cap = nc;
	return true;
}

bool cep__rc_parse_bool(const char *s, bool *out)
{
	if (!s)
		return false;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*out = false;
		return true;
	}
	return false;
}

bool cep__rc_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* A scalar string attribute: copied, at most max bytes (0: any). */
void cep__rc_get_str(struct cctx *c, yaml_node_t *v, const char *what,
		    size_t max, char **out)
{
	const char *s = scalar(v);

	if (!s) {
		ERR(c, v, "%s must be a string", what);
		return;
	}
	if (max && strlen(s) > max) {
		ERR(c, v, "%s is longer than %zu bytes", what, max);
		return;
	}
	free(*out);
	*out = xstrdup(c, s);
}

/* --- rule documents ------------------------------------------------------- */

static void compile_logsource(struct cctx *c, struct cep__rule *r,
			      yaml_node_t *n)
{
	yaml_node_t *k, *v;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "logsource must be a map");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		const char *key = scalar(k);

		if (!key)
			continue;
		if (!strcmp(key, "product"))
			cep__rc_get_str(c, v, "logsource product", 0, &r->ls_product);
		else if (!strcmp(key, "category"))
			cep__rc_get_str(c, v, "logsource category", 0,
				&r->ls_category);
		else if (!strcmp(key, "service"))
			cep__rc_get_str(c, v, "logsource service", 0, &r->ls_service);
	}
	/* Our own product (or none): the category is an event kind and
	 * restricts the rule to it.  Another product's logsource is kept for
	 * reference and restricts nothing. */
	if (r->ls_category &&
	    (!r->ls_product || !strcmp(r->ls_product, "ceptor"))) {
		int kind = cep_kind_parse(r->ls_category);

		if (kind <= 0)
			ERR(c, n, "logsource category '%s' is not an event "
			    "kind", r->ls_category);
		else
			r->kind = (int16_t)kind;
	}
}

static void compile_tags(struct cctx *c, struct cep__rule *r, yaml_node_t *n)
{
	size_t cap = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "tags must be a list");
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		const char *s = scalar(node_at(c, *it));

		if (!s) {
			ERR(c, node_at(c, *it), "a tag must be a string");
			continue;
		}
		if (GROW(c, r->tags, r->ntags, cap) &&
		    (r->tags[r->ntags] = xstrdup(c, s)))
			r->ntags++;
	}
}

static void rule_fini(struct cep__rule *r)
{
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->description);
	free(r->status);
	for (uint32_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->ls_product);
	free(r->ls_category);
	free(r->ls_service);
	cep__detection_fini(&r->det);
	free(r->corrs);
	free(r->corr.refs);
}

static void compile_doc(struct cctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	yaml_node_t *k, *v, *detection = NULL, *correlation = NULL;
	yaml_node_t *dkey = NULL, *ckey = NULL;
	struct cep__rule r = { 0 };
	struct rmeta meta = { 0, 0 };
	bool b;
	int t;

	if (is_null(root))
		return; /* an empty document, e.g. a trailing "---" */
	if (root->type != YAML_MAPPING_NODE) {
		ERR(c, root, "a rule must be a YAML map");
		return;
	}
	r.file = c->file;
	r.line = line_of(root);
	r.kind = -1;
	FOR_PAIRS(c, root, k, v) {
		const char *key = scalar(k), *s = scalar(v);

		if (!key) {
			ERR(c, k, "rule attributes must be strings");
		} else if (!strcmp(key, "title")) {
			cep__rc_get_str(c, v, "title", CEP_RULE_TITLE_MAX - 1, &r.title);
		} else if (!strcmp(key, "id")) {
			cep__rc_get_str(c, v, "id", CEP_RULE_ID_MAX - 1, &r.id);
			meta.id_line = line_of(v);
		} else if (!strcmp(key, "name")) {
			cep__rc_get_str(c, v, "name", CEP_RULE_ID_MAX - 1, &r.name);
			meta.name_line = line_of(v);
		} else if (!strcmp(key, "description")) {
			cep__rc_get_str(c, v, "description", 0, &r.description);
		} else if (!strcmp(key, "status")) {
			if (!s || (strcmp(s, "stable") && strcmp(s, "test") &&
				   strcmp(s, "experimental") &&
				   strcmp(s, "deprecated") &&
				   strcmp(s, "unsupported")))
				ERR(c, v, "unknown status '%s'", s ? s : "");
			else
				cep__rc_get_str(c, v, "status", 0, &r.status);
		} else if (!strcmp(key, "level")) {
			t = s ? cep_level_parse(s) : -1;
			if (t <= 0)
				ERR(c, v, "unknown level '%s'", s ? s : "");
			else
				r.level = (uint8_t)t, r.level_set = true;
		} else if (!strcmp(key, "type")) {
			t = s ? cep_type_parse(s) : -1;
			if (t <= 0)
				ERR(c, v, "unknown type '%s'", s ? s : "");
			else
				r.type = (uint8_t)t, r.type_set = true;
		} else if (!strcmp(key, "sector")) {
			t = s ? cep_sector_parse(s) : -1;
			if (t < 0)
				ERR(c, v, "unknown sector '%s'", s ? s : "");
			else
				r.sector = (uint8_t)t;
		} else if (!strcmp(key, "tags")) {
			compile_tags(c, &r, v);
		} else if (!strcmp(key, "logsource")) {
			compile_logsource(c, &r, v);
		} else if (!strcmp(key, "detection")) {
			detection = v;
			dkey = k;
		} else if (!strcmp(key, "correlation")) {
			correlation = v;
			ckey = k;
		} else if (!strcmp(key, "generate")) {
			if (!cep__rc_parse_bool(s, &b))
				ERR(c, v, "generate must be true or false");
			else
				r.generate = b;
		} else if (!strcmp(key, "action")) {
			ERR(c, k, "'action' documents (global, repeat) are not "
			    "supported");
		}
		/* Other Sigma attributes (author, date, references, ...) are
		 * documentation and are accepted as they are. */
	}
	if (!r.title)
		ERR(c, root, "rule has no title");
	if (!r.id && !r.name)
		ERR(c, root, "rule has neither an id nor a name");
	if (detection && correlation)
		ERR(c, ckey, "a rule has either a detection or a "
		    "correlation, not both");
	else if (detection)
		cep__rc_detection(c, &r, dkey, detection);
	else if (correlation)
		cep__rc_correlation(c, &r, ckey, correlation);
	else
		ERR(c, root, "rule has no detection (or correlation)");
	if (r.corr_type != CEP__CORR_NONE)
		r.corr.generate |= r.generate;
	else if (!r.level_set)
		r.level = CEP_LEVEL_MEDIUM;
	/* Kept even when it has errors, so that references to it resolve. */
	if (!GROW(c, c->rs->rules, c->rs->nrules, c->crules)) {
		rule_fini(&r);
		return;
	}
	/* crules only grows with rules, so meta fits by construction. */
	{
		struct rmeta *m = realloc(c->meta, c->crules * sizeof *m);

		if (!m) {
			c->oom = true;
			rule_fini(&r);
			return;
		}
		c->meta = m;
	}
	c->meta[c->rs->nrules] = meta;
	c->rs->rules[c->rs->nrules++] = r;
}

/* --- files ---------------------------------------------------------------- */

static void compile_file(struct cctx *c, const char *path)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");

	if (!f) {
		cep__rc_diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
		fclose(f);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	c->file = path;
	for (;;) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			cep__rc_diag(c, path, (unsigned)parser.problem_mark.line + 1,
			     "YAML: %s%s%s",
			     parser.problem ? parser.problem : "error",
			     parser.context ? " " : "",
			     parser.context ? parser.context : "");
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		c->doc = &doc;
		compile_doc(c);
		c->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;
	return (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".yaml"));
}

static void add_file(struct cctx *c, char *path)
{
	if (!path) {
		c->oom = true;
		return;
	}
	if (!GROW(c, c->rs->files, c->rs->nfiles, c->cfiles)) {
		free(path);
		return;
	}
	c->rs->files[c->rs->nfiles++] = path;
}

static void collect(struct cctx *c, const char *path)
{
	struct stat st;
	struct dirent *de;
	size_t first = c->rs->nfiles;
	DIR *dir;

	if (stat(path, &st) != 0) {
		cep__rc_diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(c, strdup(path));
		return;
	}
	dir = opendir(path);
	if (!dir) {
		cep__rc_diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		char *full;

		if (!yaml_name(de->d_name))
			continue;
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
			full = NULL;
		add_file(c, full);
	}
	closedir(dir);
	qsort(c->rs->files + first, c->rs->nfiles - first, sizeof(char *),
	      cmp_str);
}

/* --- pass 3 --------------------------------------------------------------- */

static bool add_u32(struct cctx *c, uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *p;

	for (uint32_t i = 0; i < *n; i++)
		if ((*arr)[i] == v)
			return true;
	p = realloc(*arr, (*n + 1) * sizeof *p);
	if (!p) {
		c->oom = true;
		return false;
	}
	p[(*n)++] = v;
	*arr = p;
	return true;
}

static void check_duplicates(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct cep__rule *r = &rs->rules[i];

		for (size_t j = 0; j < i; j++) {
			struct cep__rule *o = &rs->rules[j];

			if (r->id && o->id && !strcmp(r->id, o->id))
				cep__rc_diag(c, r->file, c->meta[i].id_line,
				     "duplicate id '%s' (first at %s:%u)",
				     r->id, o->file, c->meta[j].id_line);
			if (r->name && o->name && !strcmp(r->name, o->name))
				cep__rc_diag(c, r->file, c->meta[i].name_line,
				     "duplicate name '%s' (first at %s:%u)",
				     r->name, o->file, c->meta[j].name_line);
		}
	}
}

static void resolve(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	check_duplicates(c);
	for (size_t i = 0; i < c->nrefs; i++) {
		struct pref *p = &c->refs[i];
		struct cep__rule *corr = &rs->rules[p->rule];
		size_t j;

		for (j = 0; j < rs->nrules; j++)
			if (rs->rules[j].id && !strcmp(rs->rules[j].id,
						       p->target))
				break;
		if (j == rs->nrules)
			for (j = 0; j < rs->nrules; j++)
				if (rs->rules[j].name &&
				    !strcmp(rs->rules[j].name, p->target))
					break;
		if (j == rs->nrules) {
			cep__rc_diag(c, p->file, p->line,
			     "correlation references unknown rule '%s'",
			     p->target);
			continue;
		}
		if (rs->rules[j].corr_type != CEP__CORR_NONE) {
			cep__rc_diag(c, p->file, p->line,
			     "'%s' is a correlation rule; chaining correlations "
			     "is not supported yet", p->target);
			continue;
		}
		if (!add_u32(c, &corr->corr.refs, &corr->corr.nrefs,
			     (uint32_t)j) ||
		    !add_u32(c, &rs->rules[j].corrs, &rs->rules[j].ncorrs,
			     p->rule))
			return;
	}
}

static int finish(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct cep__rule *r = &rs->rules[i];

		if (r->corr_type == CEP__CORR_NONE) {
			r->emits = r->ncorrs == 0 || r->generate;
			for (uint32_t j = 0; j < r->ncorrs; j++)
				r->emits |= rs->rules[r->corrs[j]].corr.generate;
			continue;
		}
		r->emits = true;
		r->corr.slot = rs->ncorr++;
		if (!r->level_set || !r->type_set) {
			/* Defaults from the most severe referenced rule. */
			int best = -1;

			for (uint32_t j = 0; j < r->corr.nrefs; j++) {
				struct cep__rule *d = &rs->rules[r->corr.refs[j]];

				if (best < 0 || d->level > rs->rules[best].level)
					best = (int)r->corr.refs[j];
			}
			if (!r->level_set)
				r->level = best < 0 ? CEP_LEVEL_MEDIUM :
						      rs->rules[best].level;
			if (!r->type_set && best >= 0)
				r->type = rs->rules[best].type;
		}
	}
	rs->corr_rules = calloc(rs->ncorr ? rs->ncorr : 1, sizeof(uint32_t));
	if (!rs->corr_rules)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].corr_type != CEP__CORR_NONE)
			rs->corr_rules[rs->rules[i].corr.slot] = (uint32_t)i;
	for (int k = 0; k < CEP_KIND_COUNT; k++) {
		rs->by_kind[k] = calloc(rs->nrules ? rs->nrules : 1,
					sizeof(uint32_t));
		if (!rs->by_kind[k])
			return -ENOMEM;
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct cep__rule *r = &rs->rules[i];

			if (r->corr_type == CEP__CORR_NONE &&
			    (r->kind < 0 || (k > 0 && r->kind == k)))
				rs->by_kind[k][rs->nby_kind[k]++] = (uint32_t)i;
		}
	}
	return 0;
}

/* --- public --------------------------------------------------------------- */

int cep_ruleset_compile(const char *const *dirs, size_t ndirs, FILE *diagf,
			struct cep_ruleset **out)
{
	struct cctx c = { .diag = diagf ? diagf : stderr };
	int rc = 0;

	c.rs = calloc(1, sizeof *c.rs);
	if (!c.rs)
		return -ENOMEM;
	for (size_t i = 0; i < ndirs && !c.oom; i++)
		collect(&c, dirs[i]);
	for (size_t i = 0; i < c.rs->nfiles && !c.oom; i++)
		compile_file(&c, c.rs->files[i]);
	if (!c.oom)
		resolve(&c);
	if (!c.oom && c.nerr == 0)
		rc = finish(&c);
	if (c.oom)
		rc = -ENOMEM;
	else if (rc == 0 && c.nerr)
		rc = -CEP_ERULE;
	for (size_t i = 0; i < c.nrefs; i++)
		free(c.refs[i].target);
	free(c.refs);
	free(c.meta);
	if (rc) {
		cep_ruleset_destroy(c.rs);
		return rc;
	}
	*out = c.rs;
	return 0;
}

void cep_ruleset_destroy(struct cep_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_fini(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	for (int k = 0; k < CEP_KIND_COUNT; k++)
		free(rs->by_kind[k]);
	free(rs->corr_rules);
	free(rs);
}

size_t cep_ruleset_count(const struct cep_ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

int cep_ruleset_rule(const struct cep_ruleset *rs, size_t i,
		     struct cep_rule_info *out)
{
	static const char *const kinds[] = {
		[CEP__CORR_NONE] = "detection",
		[CEP__CORR_VALUE_COUNT] = "value_count",
		[CEP__CORR_EVENT_COUNT] = "event_count",
	};
	const struct cep__rule *r;

	if (!rs || i >= rs->nrules)
		return -ERANGE;
	r = &rs->rules[i];
	out->id = r->id ? r->id : "";
	out->name = r->name ? r->name : "";
	out->title = r->title;
	out->file = r->file;
	out->line = r->line;
	out->kind = kinds[r->corr_type];
	out->level = r->level;
	out->type = r->type;
	out->emits = r->emits;
	return 0;
}
