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
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "core/fieldmap.h"
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

void cep__rc_unsupported(struct cctx *c, const char *file, unsigned line,
			 const char *fmt, ...)
{
	va_list ap;

	if (!c->skip_unsupported) {
		char msg[512];

		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		cep__rc_diag(c, file, line, "%s", msg);
		return;
	}
	if (line)
		fprintf(c->diag, "%s:%u: warning: ", file, line);
	else
		fprintf(c->diag, "%s: warning: ", file);
	va_start(ap, fmt);
	vfprintf(c->diag, fmt, ap);
	va_end(ap);
	fputs("; rule skipped\n", c->diag);
	c->rule_unsup++;
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
		/* definition and custom keys are documentation. */
	}
}

/*
 * Decides how the rule's field names are read (before its detection
 * compiles).  Our own product, or no product with an event kind as the
 * category (or no logsource at all): ceptor's field names, and the category
 * restricts the rule to that kind.  Anything else goes through the Sigma
 * logsource mapping (fieldmap.h); a logsource it does not know is
 * unsupported.
 */
static void bind_logsource(struct cctx *c, struct cep__rule *r,
			   yaml_node_t *ls)
{
	bool ours = r->ls_product && !strcasecmp(r->ls_product, "ceptor");
	int kind = r->ls_category ? cep_kind_parse(r->ls_category) : -1;
	size_t len = 0;

	c->foreign = false;
	c->nls = 0;
	c->lsdesc[0] = '\0';
	if (ours || (!r->ls_product && !r->ls_service &&
		     (!r->ls_category || kind > 0))) {
		if (!r->ls_category)
			return;
		if (kind <= 0) {
			ERR(c, ls, "logsource category '%s' is not an event "
			    "kind", r->ls_category);
			return;
		}
		r->kind = (int16_t)kind;
		r->kinds = (uint16_t)(1u << kind);
		return;
	}
	c->foreign = true;
	if (r->ls_product)
		len += (size_t)snprintf(c->lsdesc + len, sizeof c->lsdesc - len,
					"product=%.48s", r->ls_product);
	if (r->ls_category)
		len += (size_t)snprintf(c->lsdesc + len, sizeof c->lsdesc - len,
					"%scategory=%.48s", len ? " " : "",
					r->ls_category);
	if (r->ls_service)
		snprintf(c->lsdesc + len, sizeof c->lsdesc - len,
			 "%sservice=%.48s", len ? " " : "", r->ls_service);
	c->nls = cep__fmap_select(&c->map, r->ls_product, r->ls_category,
				  r->ls_service, c->ls,
				  sizeof c->ls / sizeof c->ls[0]);
	if (!c->nls) {
		UNSUP(c, ls, "logsource %s has no ceptor mapping", c->lsdesc);
		return;
	}
	for (unsigned i = 0; i < c->nls; i++)
		if (c->ls[i]->kinds) {
			r->kinds = c->ls[i]->kinds;
			break;
		}
	if (r->kinds && !(r->kinds & (r->kinds - 1)))
		r->kind = (int16_t)__builtin_ctz(r->kinds);
}

/* A token list attribute (`sectors`, `systems`) into a bit set. */
struct tokset {
	const char *what;
	int (*parse)(const char *);
	uint32_t bits;
};

static void token_item(struct cctx *c, yaml_node_t *n, void *arg)
{
	struct tokset *t = arg;
	const char *s = scalar(n);
	int v = s ? t->parse(s) : -1;

	if (v <= 0)
		ERR(c, n, "unknown %s '%s'", t->what, s ? s : "");
	else
		t->bits |= 1u << v;
}

static void compile_strlist(struct cctx *c, yaml_node_t *n, const char *what,
			    char ***list, uint32_t *count)
{
	size_t cap = 0;

	if (n->type == YAML_SCALAR_NODE && is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "%s must be a list", what);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		const char *s = scalar(node_at(c, *it));

		if (!s) {
			ERR(c, node_at(c, *it), "%s must be strings", what);
			continue;
		}
		if (GROW(c, *list, *count, cap) &&
		    ((*list)[*count] = xstrdup(c, s)))
			(*count)++;
	}
}

static void compile_tags(struct cctx *c, struct cep__rule *r, yaml_node_t *n)
{
	compile_strlist(c, n, "tags", &r->tags, &r->ntags);
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
	for (uint32_t i = 0; i < r->nfalsepositives; i++)
		free(r->falsepositives[i]);
	free(r->falsepositives);
	cep__detection_fini(&r->det);
	free(r->corrs);
	cep__rc_corr_fini(&r->corr); /* rule_corr.c: refs, aliases */
}

static void skip_name(struct cctx *c, const char *name)
{
	char *p;

	if (!GROW(c, c->skipped, c->nskipped, c->cskipped))
		return;
	p = xstrdup(c, name);
	if (p)
		c->skipped[c->nskipped++] = p;
}

static bool was_skipped(const struct cctx *c, const char *name)
{
	for (size_t i = 0; i < c->nskipped; i++)
		if (!strcmp(c->skipped[i], name))
			return true;
	return false;
}

static void compile_doc(struct cctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	yaml_node_t *k, *v, *detection = NULL, *correlation = NULL;
	yaml_node_t *dkey = NULL, *ckey = NULL, *ls = NULL;
	struct cep__rule r = { 0 };
	struct rmeta meta = { 0, 0 };
	size_t nrefs0 = c->nrefs;
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
		} else if (!strcmp(key, "sector") && s) {
			t = cep_sector_parse(s);
			if (t < 0)
				ERR(c, v, "unknown sector '%s'", s);
			else
				r.sector = (uint8_t)t, r.sectors |= (uint16_t)(1u << t);
		} else if (!strcmp(key, "sector") || !strcmp(key, "sectors")) {
			struct tokset ts = { "sector", cep_sector_parse, 0 };

			each_item(c, v, token_item, &ts);
			r.sectors |= (uint16_t)ts.bits;
			if (!r.sector && ts.bits)
				r.sector = (uint8_t)__builtin_ctz(ts.bits);
		} else if (!strcmp(key, "systems") || !strcmp(key, "system")) {
			struct tokset ts = { "system", cep_system_parse, 0 };

			each_item(c, v, token_item, &ts);
			r.systems |= ts.bits;
		} else if (!strcmp(key, "tlp_lower_to")) {
			t = s ? cep_tlp_parse(s) : -1;
			if (t <= 0)
				ERR(c, v, "unknown TLP '%s' for tlp_lower_to",
				    s ? s : "");
			else
				r.tlp_lower = (uint8_t)t;
		} else if (!strcmp(key, "falsepositives")) {
			compile_strlist(c, v, "falsepositives", &r.falsepositives,
					&r.nfalsepositives);
		} else if (!strcmp(key, "tags")) {
			compile_tags(c, &r, v);
		} else if (!strcmp(key, "logsource")) {
			ls = v;
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
			UNSUP(c, k, "'action' documents (global, repeat) are "
			      "not supported");
		} else if (!strcmp(key, "filter")) {
			UNSUP(c, k, "Sigma filter documents are not supported "
			      "yet");
		}
		/* Other Sigma attributes (author, date, references, ...) are
		 * documentation and are accepted as they are. */
	}
	if (!r.title)
		ERR(c, root, "rule has no title");
	if (!r.id && !r.name) {
		/* Sigma makes both optional; signals and incidents need a
		 * name: FILE-STEM:LINE, stable while the file does not move. */
		const char *base = strrchr(c->file, '/');
		char id[CEP_RULE_ID_MAX];
		size_t stem;

		base = base ? base + 1 : c->file;
		stem = strcspn(base, ".");
		snprintf(id, sizeof id, "%.*s:%u", (int)(stem > 48 ? 48 : stem),
			 base, line_of(root));
		r.id = xstrdup(c, id);
	}
	if (detection && correlation)
		ERR(c, ckey, "a rule has either a detection or a "
		    "correlation, not both");
	else if (detection) {
		bind_logsource(c, &r, ls ? ls : root);
		if (!c->rule_unsup)
			cep__rc_detection(c, &r, dkey, detection);
	}
	else if (correlation)
		cep__rc_correlation(c, &r, ckey, correlation);
	else if (!c->rule_unsup)
		ERR(c, root, "rule has no detection (or correlation)");
	if (r.corr_type != CEP__CORR_NONE)
		r.corr.generate |= r.generate;
	else if (!r.level_set)
		r.level = CEP_LEVEL_MEDIUM;
	if (c->rule_unsup) {
		/* skip_unsupported: left out, but remembered so that a
		 * correlation over it is skipped too rather than failing. */
		c->rule_unsup = 0;
		c->nskiprules++;
		while (c->nrefs > nrefs0)
			free(c->refs[--c->nrefs].target);
		if (r.id)
			skip_name(c, r.id);
		if (r.name)
			skip_name(c, r.name);
		rule_fini(&r);
		return;
	}
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
	if (c->rs->nfiles > first) /* a directory without rule files: none */
		qsort(c->rs->files + first, c->rs->nfiles - first,
		      sizeof(char *), cmp_str);
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

static bool rule_known(const struct cep_ruleset *rs, const char *name)
{
	for (size_t j = 0; j < rs->nrules; j++)
		if ((rs->rules[j].id && !strcmp(rs->rules[j].id, name)) ||
		    (rs->rules[j].name && !strcmp(rs->rules[j].name, name)))
			return true;
	return false;
}

/*
 * skip_unsupported: a correlation whose rules include a skipped one is
 * skipped as well (it could never count what it was written to count), and
 * the rule array is compacted before references are bound to indices.
 */
static void drop_skipped_correlations(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;
	uint32_t *remap;
	bool *drop;
	size_t n = 0, k = 0;

	drop = calloc(rs->nrules ? rs->nrules : 1, sizeof *drop);
	remap = calloc(rs->nrules ? rs->nrules : 1, sizeof *remap);
	if (!drop || !remap) {
		c->oom = true;
		goto out;
	}
	for (size_t i = 0; i < c->nrefs; i++) {
		struct pref *p = &c->refs[i];

		if (drop[p->rule] || rule_known(rs, p->target) ||
		    !was_skipped(c, p->target))
			continue;
		cep__rc_unsupported(c, p->file, p->line, "correlation "
				    "references '%s', a rule that was skipped",
				    p->target);
		c->rule_unsup = 0;
		drop[p->rule] = true;
		c->nskiprules++;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		if (drop[i]) {
			rule_fini(&rs->rules[i]);
			continue;
		}
		remap[i] = (uint32_t)n;
		rs->rules[n] = rs->rules[i];
		c->meta[n++] = c->meta[i];
	}
	rs->nrules = n;
	for (size_t i = 0; i < c->nrefs; i++) {
		if (drop[c->refs[i].rule]) {
			free(c->refs[i].target);
			continue;
		}
		c->refs[i].rule = remap[c->refs[i].rule];
		c->refs[k++] = c->refs[i];
	}
	c->nrefs = k;
out:
	free(drop);
	free(remap);
}

static void resolve(struct cctx *c)
{
	struct cep_ruleset *rs = c->rs;

	if (c->nskipped)
		drop_skipped_correlations(c);
	if (c->oom)
		return;
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
		/* A correlation may refer to a correlation (chaining): its
		 * signals feed the outer one; rule_corr.c checks for loops. */
		if (!add_u32(c, &corr->corr.refs, &corr->corr.nrefs,
			     (uint32_t)j) ||
		    !add_u32(c, &rs->rules[j].corrs, &rs->rules[j].ncorrs,
			     p->rule))
			return;
	}
	/* rule_corr.c: what needs the bound references (counts per type,
	 * default conditions, aliases, chain loops). */
	cep__rc_corr_resolve(c);
}

/*
 * The compiled-form hash (rule_priv.h, cep__rule.hash): what a reload
 * compares to decide whether a correlation's window state still means the
 * same thing.  It covers everything that decides which events a rule
 * matches and how a correlation counts them, and what its signals say
 * about severity (level, type); it leaves out what only describes the rule
 * (title, description, status, tags, file, line) and where it sits in the
 * set, so that moving a rule to another file or renaming its title keeps
 * its windows.  A correlation takes in the hashes of the rules it refers
 * to, by content and not by index, so a change to a referenced rule
 * changes the correlation too.
 */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	return cep__hash_bytes(p, n, h);
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof v);
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	/* The length first, so that ("ab", "c") and ("a", "bc") differ. */
	size_t n = s ? strlen(s) : SIZE_MAX;

	h = mix_u64(h, n);
	return s ? mix(h, s, n) : h;
}

static uint64_t pred_hash(uint64_t h, const struct cep__pred *p)
{
	int cls = p->field == CEP__FIELD_ANY_TEXT ? CEP__FC_TEXT :
						    cep__field_get(p->field)->cls;

	h = mix_u64(h, (uint64_t)p->field << 24 | (uint64_t)p->op << 16 |
			       (uint64_t)p->all << 8 | p->flags);
	h = mix_u64(h, p->nvals);
	for (uint32_t i = 0; i < p->nvals; i++) {
		const union cep__value *v = &p->vals[i];

		if (p->op == CEP__OP_RE)
			h = mix_str(h, v->re.src);
		else if (p->op == CEP__OP_EXISTS || p->op == CEP__OP_FIELDREF)
			h = mix_u64(h, v->num);
		else if (cls == CEP__FC_IP)
			h = mix(h, &v->ip, sizeof v->ip);
		else if (cls == CEP__FC_TEXT)
			h = mix_str(h, v->text);
		else
			h = mix_u64(h, v->num);
	}
	return h;
}

static uint64_t detection_hash(uint64_t h, const struct cep__detection *d)
{
	h = mix_u64(h, d->npreds);
	for (uint32_t i = 0; i < d->npreds; i++)
		h = pred_hash(h, &d->preds[i]);
	h = mix_u64(h, d->ngroups);
	for (uint32_t i = 0; i < d->ngroups; i++)
		h = mix_u64(h, (uint64_t)d->groups[i].first << 32 |
				       d->groups[i].n);
	/* Selection names do not matter, only what the program does. */
	h = mix_u64(h, d->nsels);
	for (uint32_t i = 0; i < d->nsels; i++)
		h = mix_u64(h, (uint64_t)d->sels[i].first << 32 | d->sels[i].n);
	h = mix_u64(h, d->nsetlist);
	for (uint32_t i = 0; i < d->nsetlist; i++)
		h = mix_u64(h, d->setlist[i]);
	h = mix_u64(h, d->nprog);
	for (uint32_t i = 0; i < d->nprog; i++)
		h = mix_u64(mix_u64(h, d->prog[i].op),
			    (uint64_t)d->prog[i].arg << 32 | d->prog[i].n);
	return h;
}

static uint64_t rule_hash(struct cep_ruleset *rs, uint32_t i)
{
	struct cep__rule *r = &rs->rules[i];
	const struct cep__corr *k = &r->corr;
	uint64_t h = 0x63657074u; /* "cept" */

	if (r->hash)
		return r->hash;
	h = mix_str(h, cep__rule_sigid(r));
	h = mix_u64(h, (uint64_t)r->corr_type << 32 | (uint64_t)r->level << 24 |
			       (uint64_t)r->type << 16 | (uint16_t)r->kind);
	h = mix_u64(h, (uint64_t)r->kinds << 1 | r->generate);
	if (r->corr_type == CEP__CORR_NONE) {
		h = detection_hash(h, &r->det);
	} else {
		h = mix_u64(h, (uint64_t)k->ngroup << 32 | (uint16_t)k->field);
		for (unsigned g = 0; g < k->ngroup; g++) {
			h = mix_u64(h, k->group[g]);
			h = mix_str(h, k->gname[g]);
		}
		h = mix_u64(h, (uint64_t)k->nbound << 3 | k->upward << 2 |
				       k->generate << 1 | k->has_cond);
		for (unsigned b = 0; b < k->nbound; b++)
			h = mix_u64(mix_u64(h, k->bound[b].op), k->bound[b].v);
		h = mix_u64(mix_u64(h, k->timespan), k->alert);
		h = mix_u64(mix_u64(h, k->clear), k->factor);
		/* Referenced rules by content, in written order (their
		 * position is the bit a window keeps).  Chains have no loops:
		 * the compiler rejected them (rule_corr.c). */
		h = mix_u64(h, k->nrefs);
		for (uint32_t j = 0; j < k->nrefs; j++)
			h = mix_u64(h, rule_hash(rs, k->refs[j]));
		if (k->rfield)
			h = mix(h, k->rfield, (size_t)k->nrefs * k->ngroup);
	}
	/* 0 means "not computed yet" above. */
	r->hash = h ? h : 1;
	return r->hash;
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
		/* Chaining: a correlation that feeds another one emits only
		 * when one of those says generate, like a detection rule. */
		r->emits = r->ncorrs == 0;
		for (uint32_t j = 0; j < r->ncorrs; j++)
			r->emits |= rs->rules[r->corrs[j]].corr.generate;
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
	for (size_t i = 0; i < rs->nrules; i++)
		rule_hash(rs, (uint32_t)i);
	for (int k = 0; k < CEP_KIND_COUNT; k++) {
		rs->by_kind[k] = calloc(rs->nrules ? rs->nrules : 1,
					sizeof(uint32_t));
		if (!rs->by_kind[k])
			return -ENOMEM;
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct cep__rule *r = &rs->rules[i];

			if (r->corr_type == CEP__CORR_NONE &&
			    (!r->kinds || (k > 0 && (r->kinds & (1u << k)))))
				rs->by_kind[k][rs->nby_kind[k]++] = (uint32_t)i;
		}
	}
	return cep__index_build(rs, &rs->index);
}

/* --- public --------------------------------------------------------------- */

int cep_ruleset_compile(const char *const *dirs, size_t ndirs, FILE *diagf,
			struct cep_ruleset **out)
{
	return cep_ruleset_compile_opts(dirs, ndirs, NULL, diagf, out);
}

int cep_ruleset_compile_opts(const char *const *dirs, size_t ndirs,
			     const struct cep_rule_options *opts, FILE *diagf,
			     struct cep_ruleset **out)
{
	struct cctx c = { .diag = diagf ? diagf : stderr };
	int rc = 0;

	c.rs = calloc(1, sizeof *c.rs);
	if (!c.rs)
		return -ENOMEM;
	c.skip_unsupported = opts && opts->skip_unsupported;
	if (!opts || !opts->no_builtin_mapping)
		cep__fmap_load(&c, CEP__FMAP_BUILTIN_NAME, cep__fmap_builtin);
	for (size_t i = 0; opts && i < opts->nmapping && !c.oom; i++)
		cep__fmap_load_path(&c, opts->mapping[i]);
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
	for (size_t i = 0; i < c.nskipped; i++)
		free(c.skipped[i]);
	free(c.skipped);
	cep__fmap_fini(&c.map);
	c.rs->nskipped = c.nskiprules;
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
	cep__index_destroy(rs->index);
	free(rs);
}

size_t cep_ruleset_count(const struct cep_ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

size_t cep_ruleset_skipped(const struct cep_ruleset *rs)
{
	return rs ? rs->nskipped : 0;
}

int cep_ruleset_rule(const struct cep_ruleset *rs, size_t i,
		     struct cep_rule_info *out)
{
	static const char *const kinds[] = {
		[CEP__CORR_NONE] = "detection",
		[CEP__CORR_VALUE_COUNT] = "value_count",
		[CEP__CORR_EVENT_COUNT] = "event_count",
		/* rule_corr.c's types, in enum cep_corr_type order. */
		[CEP__CORR_VALUE_SUM] = "value_sum",
		[CEP__CORR_VALUE_AVG] = "value_avg",
		[CEP__CORR_TEMPORAL] = "temporal",
		[CEP__CORR_TEMPORAL_ORDERED] = "temporal_ordered",
		[CEP__CORR_ABSENCE] = "absence",
		[CEP__CORR_ALERT_CLEAR] = "alert_clear",
		[CEP__CORR_BACKOFF] = "backoff",
		[CEP__CORR_CORROBORATION] = "corroboration",
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
	out->status = r->status ? r->status : "";
	out->description = r->description ? r->description : "";
	out->tags = (const char *const *)r->tags;
	out->ntags = r->ntags;
	out->falsepositives = (const char *const *)r->falsepositives;
	out->nfalsepositives = r->nfalsepositives;
	out->ls_product = r->ls_product ? r->ls_product : "";
	out->ls_category = r->ls_category ? r->ls_category : "";
	out->ls_service = r->ls_service ? r->ls_service : "";
	out->sectors = r->sectors;
	out->systems = r->systems;
	out->tlp_lower_to = r->tlp_lower;
	out->kinds = r->kinds;
	return 0;
}
