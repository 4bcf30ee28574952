/*
 * fieldmap.c - the Sigma logsource mapping: its YAML reader, its lookup and
 * the built-in table (contract and format in fieldmap.h; what the table
 * says, and why, in rules/LANGUAGE.md, "Mapping").
 */
#include "core/fieldmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ceptor/event.h"
#include "core/match.h"
#include "core/rule_compile.h"

/*
 * The built-in table.  It maps the log sources of SigmaHQ's network rules
 * (rules/network: dns, firewall, zeek, cisco, juniper, huawei, fortinet) as
 * far as ceptor's normalised events carry the same facts, and no further:
 * a field ceptor does not have (a DNS answer, an HTTP user agent, an SMB
 * path) is left out on purpose, so that a rule using it is reported, not
 * loaded to never match.
 */
const char cep__fmap_builtin[] =
	"# Names that mean the same in every mapped network logsource.\n"
	"- logsource: {}\n"
	"  fields:\n"
	"    src_ip: src_ip\n"
	"    SourceIp: src_ip\n"
	"    source.ip: src_ip\n"
	"    dst_ip: dst_ip\n"
	"    DestinationIp: dst_ip\n"
	"    destination.ip: dst_ip\n"
	"    src_port: src_port\n"
	"    SourcePort: src_port\n"
	"    source.port: src_port\n"
	"    dst_port: dst_port\n"
	"    DestinationPort: dst_port\n"
	"    destination.port: dst_port\n"
	"    proto: &proto\n"
	"      field: proto\n"
	"      values: {icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50,\n"
	"               ah: 51, icmpv6: 58, ipv6-icmp: 58, sctp: 132}\n"
	"    Protocol: *proto\n"
	"    network.transport: *proto\n"
	"\n"
	"# DNS query logs: the queried name is ceptor's indicator.\n"
	"- logsource: {category: dns}\n"
	"  fields: &dns\n"
	"    query: indicator\n"
	"    QueryName: indicator\n"
	"    dns.question.name: indicator\n"
	"- logsource: {category: network, service: dns}\n"
	"  fields: *dns\n"
	"- logsource: {product: zeek, service: dns}\n"
	"  fields: *dns\n"
	"\n"
	"# Firewall logs: connections, which ceptor sees as packets and flows.\n"
	"# ceptor has no action field: what a tap or an exporter saw was let\n"
	"# through, so the allowing actions are true and the blocking ones false.\n"
	"- logsource: {category: firewall}\n"
	"  kinds: [packet, flow]\n"
	"  fields:\n"
	"    action:\n"
	"      const: {accept: true, allow: true, allowed: true, forward: true,\n"
	"              pass: true, permit: true, '2': true,\n"
	"              drop: false, deny: false, denied: false, reject: false,\n"
	"              block: false, blocked: false}\n"
	"    blocked:\n"
	"      const: {'false': true, 'true': false}\n"
	"\n"
	"# Zeek: connection ids in every log.\n"
	"- logsource: {product: zeek}\n"
	"  fields:\n"
	"    id.orig_h: src_ip\n"
	"    id.resp_h: dst_ip\n"
	"    id.orig_p: src_port\n"
	"    id.resp_p: dst_port\n"
	"- logsource: {product: zeek, service: conn}\n"
	"  kinds: [packet, flow]\n"
	"- logsource: {product: zeek, service: rdp}\n"
	"  kinds: [packet, flow]\n"
	"  match: {proto: 6, dst_port: 3389}\n"
	"\n"
	"# Network devices' own logs: no fields ceptor has, but keyword searches\n"
	"# over the event's text (a syslog line fed in as a report or a feed).\n"
	"- logsource: {product: cisco}\n"
	"  keywords: true\n"
	"- logsource: {product: juniper}\n"
	"  keywords: true\n"
	"- logsource: {product: huawei}\n"
	"  keywords: true\n"
	"- logsource: {product: fortigate}\n"
	"  keywords: true\n";

/* --- reading --------------------------------------------------------------- */

static const char *file_name(struct cctx *c, const char *path)
{
	struct cep__fmap *m = &c->map;
	char *p;

	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i], path))
			return m->files[i];
	if (!GROW(c, m->files, m->nfiles, m->cfiles))
		return NULL;
	p = xstrdup(c, path);
	if (p)
		m->files[m->nfiles++] = p;
	return p;
}

static void entry_fini(struct cep__fmap_entry *e)
{
	free(e->product);
	free(e->category);
	free(e->service);
	for (uint32_t i = 0; i < e->nfields; i++) {
		struct cep__fmap_field *f = &e->fields[i];

		for (uint32_t j = 0; j < f->nvals; j++) {
			free(f->vals[j].from);
			free(f->vals[j].to);
		}
		free(f->vals);
		free(f->sigma);
	}
	free(e->fields);
	for (uint32_t i = 0; i < e->nconds; i++)
		free(e->conds[i].value);
	free(e->conds);
}

static void read_logsource(struct cctx *c, struct cep__fmap_entry *e,
			   yaml_node_t *n)
{
	yaml_node_t *k, *v;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "mapping: logsource must be a map");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		const char *key = scalar(k);

		if (key && !strcmp(key, "product"))
			cep__rc_get_str(c, v, "logsource product", 0, &e->product);
		else if (key && !strcmp(key, "category"))
			cep__rc_get_str(c, v, "logsource category", 0,
					&e->category);
		else if (key && !strcmp(key, "service"))
			cep__rc_get_str(c, v, "logsource service", 0, &e->service);
		else
			ERR(c, k, "mapping: unknown logsource key '%s'",
			    key ? key : "");
	}
}

static void read_kind(struct cctx *c, yaml_node_t *n, void *arg)
{
	struct cep__fmap_entry *e = arg;
	const char *s = scalar(n);
	int k = s ? cep_kind_parse(s) : -1;

	if (k <= 0)
		ERR(c, n, "mapping: '%s' is not an event kind", s ? s : "");
	else
		e->kinds |= (uint16_t)(1u << k);
}

/* A value conversion table: {sigma value: ceptor value or truth}. */
static void read_values(struct cctx *c, struct cep__fmap_field *f,
			yaml_node_t *n, bool konst)
{
	yaml_node_t *k, *v;
	size_t cap = 0;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "mapping: %s must be a map of values",
		    konst ? "const" : "values");
		return;
	}
	FOR_PAIRS(c, n, k, v) {
		struct cep__fmap_value fv = { 0 };
		const char *from = scalar(k), *to = scalar(v);

		if (!from || !to) {
			ERR(c, k, "mapping: value conversions must be scalars");
			continue;
		}
		if (konst && !cep__rc_parse_bool(to, &fv.truth)) {
			ERR(c, v, "mapping: a const value must be true or false");
			continue;
		}
		fv.from = xstrdup(c, from);
		fv.to = konst ? NULL : xstrdup(c, to);
		if (!fv.from || (!konst && !fv.to) ||
		    !GROW(c, f->vals, f->nvals, cap)) {
			free(fv.from);
			free(fv.to);
			return;
		}
		f->vals[f->nvals++] = fv;
	}
}

static void read_field(struct cctx *c, struct cep__fmap_entry *e,
		       yaml_node_t *k, yaml_node_t *v, size_t *cap)
{
	struct cep__fmap_field f = { .field = -1 };
	const char *name = scalar(k), *target = scalar(v);
	yaml_node_t *fk, *fv, *values = NULL, *konst = NULL;

	if (!name || !*name) {
		ERR(c, k, "mapping: a field name must be a string");
		return;
	}
	if (v->type == YAML_MAPPING_NODE) {
		target = NULL;
		FOR_PAIRS(c, v, fk, fv) {
			const char *key = scalar(fk);

			if (key && !strcmp(key, "field"))
				target = scalar(fv);
			else if (key && !strcmp(key, "values"))
				values = fv;
			else if (key && !strcmp(key, "const"))
				konst = fv;
			else
				ERR(c, fk, "mapping: unknown key '%s' (field, "
				    "values or const)", key ? key : "");
		}
		if (konst && (target || values)) {
			ERR(c, v, "mapping: '%s' is either a const or a field",
			    name);
			return;
		}
		if (!konst && !target) {
			ERR(c, v, "mapping: '%s' needs a field or a const", name);
			return;
		}
	} else if (!target) {
		ERR(c, v, "mapping: '%s' must map to a field name or a map",
		    name);
		return;
	}
	if (target) {
		f.field = (int16_t)cep__field_lookup(target);
		if (f.field < 0) {
			ERR(c, v, "mapping: unknown ceptor field '%s'", target);
			return;
		}
	}
	f.sigma = xstrdup(c, name);
	if (!f.sigma)
		return;
	if (values || konst)
		read_values(c, &f, values ? values : konst, konst != NULL);
	if (!GROW(c, e->fields, e->nfields, *cap)) {
		struct cep__fmap_entry tmp = { .fields = &f, .nfields = 1 };

		entry_fini(&tmp); /* frees f's parts; tmp.fields is not owned */
		return;
	}
	e->fields[e->nfields++] = f;
}

static void read_fields(struct cctx *c, struct cep__fmap_entry *e,
			yaml_node_t *v, size_t *cap)
{
	yaml_node_t *fk, *fv;

	if (v->type != YAML_MAPPING_NODE) {
		ERR(c, v, "mapping: fields must be a map");
		return;
	}
	FOR_PAIRS(c, v, fk, fv)
		read_field(c, e, fk, fv, cap);
}

static void read_match(struct cctx *c, struct cep__fmap_entry *e,
		       yaml_node_t *v, size_t *cap)
{
	yaml_node_t *fk, *fv;

	if (v->type != YAML_MAPPING_NODE) {
		ERR(c, v, "mapping: match must be a map");
		return;
	}
	FOR_PAIRS(c, v, fk, fv) {
		const char *fs = scalar(fk), *vs = scalar(fv);
		int f = fs ? cep__field_lookup(fs) : -1;

		if (f < 0 || !vs) {
			ERR(c, fk, "mapping: match needs ceptor field: value "
			    "pairs");
			continue;
		}
		if (!GROW(c, e->conds, e->nconds, *cap))
			return;
		e->conds[e->nconds].field = (int16_t)f;
		e->conds[e->nconds].value = xstrdup(c, vs);
		if (e->conds[e->nconds].value)
			e->nconds++;
	}
}

static void read_entry(struct cctx *c, yaml_node_t *n)
{
	struct cep__fmap *m = &c->map;
	struct cep__fmap_entry e = { .keywords = -1 };
	yaml_node_t *k, *v, *ls = NULL;
	size_t cfields = 0, cconds = 0;
	bool b;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "mapping: an entry must be a map");
		return;
	}
	e.file = file_name(c, c->file);
	e.line = line_of(n);
	e.order = (unsigned)m->n;
	FOR_PAIRS(c, n, k, v) {
		const char *key = scalar(k);

		if (!key) {
			ERR(c, k, "mapping: keys must be strings");
		} else if (!strcmp(key, "logsource")) {
			ls = v;
			read_logsource(c, &e, v);
		} else if (!strcmp(key, "kinds")) {
			each_item(c, v, read_kind, &e);
		} else if (!strcmp(key, "keywords")) {
			if (!cep__rc_parse_bool(scalar(v), &b))
				ERR(c, v, "mapping: keywords must be true or "
				    "false");
			else
				e.keywords = b;
		} else if (!strcmp(key, "fields")) {
			read_fields(c, &e, v, &cfields);
		} else if (!strcmp(key, "match")) {
			read_match(c, &e, v, &cconds);
		} else {
			ERR(c, k, "mapping: unknown key '%s'", key);
		}
	}
	if (!ls)
		ERR(c, n, "mapping: entry has no logsource");
	if (!GROW(c, m->e, m->n, m->cap)) {
		entry_fini(&e);
		return;
	}
	m->e[m->n++] = e;
}

void cep__fmap_load(struct cctx *c, const char *path, const char *text)
{
	const char *ofile = c->file;
	yaml_document_t *odoc = c->doc;
	yaml_parser_t parser;
	FILE *f = NULL;

	if (!text) {
		f = fopen(path, "rb");
		if (!f) {
			cep__rc_diag(c, path, 0, "cannot open: %s",
				     strerror(errno));
			return;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
		if (f)
			fclose(f);
		return;
	}
	if (f)
		yaml_parser_set_input_file(&parser, f);
	else
		yaml_parser_set_input_string(&parser, (const unsigned char *)text,
					     strlen(text));
	c->file = file_name(c, path);
	for (; c->file;) {
		yaml_document_t doc;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			cep__rc_diag(c, path,
				     (unsigned)parser.problem_mark.line + 1,
				     "YAML: %s", parser.problem ? parser.problem
								: "error");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break;
		}
		c->doc = &doc;
		if (root->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = root->data.sequence.items.start;
			     it < root->data.sequence.items.top; it++)
				read_entry(c, node_at(c, *it));
		} else if (!is_null(root)) {
			read_entry(c, root);
		}
		c->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (f)
		fclose(f);
	c->file = ofile;
	c->doc = odoc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cep__fmap_load_path(struct cctx *c, const char *path)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *dir;

	if (stat(path, &st) != 0) {
		cep__rc_diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		cep__fmap_load(c, path, NULL);
		return;
	}
	dir = opendir(path);
	if (!dir) {
		cep__rc_diag(c, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		char *full;

		if (de->d_name[0] == '.' ||
		    !((len > 4 && !strcmp(de->d_name + len - 4, ".yml")) ||
		      (len > 5 && !strcmp(de->d_name + len - 5, ".yaml"))))
			continue;
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0) {
			c->oom = true;
			break;
		}
		if (!GROW(c, names, n, cap)) {
			free(full);
			break;
		}
		names[n++] = full;
	}
	closedir(dir);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		cep__fmap_load(c, names[i], NULL);
		free(names[i]);
	}
	free(names);
}

void cep__fmap_fini(struct cep__fmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		entry_fini(&m->e[i]);
	free(m->e);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	memset(m, 0, sizeof *m);
}

/* --- lookup ---------------------------------------------------------------- */

/* -1: the entry does not apply; else how many keys it matched. */
static int applies(const struct cep__fmap_entry *e, const char *product,
		   const char *category, const char *service)
{
	int keys = 0;

	if (e->product && (!product || strcasecmp(e->product, product)))
		return -1;
	if (e->category && (!category || strcasecmp(e->category, category)))
		return -1;
	if (e->service && (!service || strcasecmp(e->service, service)))
		return -1;
	keys += e->product != NULL;
	keys += e->category != NULL;
	keys += e->service != NULL;
	return keys;
}

unsigned cep__fmap_select(const struct cep__fmap *m, const char *product,
			  const char *category, const char *service,
			  const struct cep__fmap_entry **out, unsigned max)
{
	int score[64];
	unsigned n = 0;
	bool keyed = false;

	if (max > 64)
		max = 64;
	/* Later entries first, so that a stable insertion by score keeps
	 * extensions ahead of the built-in table among equals. */
	for (size_t i = m->n; i-- > 0 && n < max;) {
		int s = applies(&m->e[i], product, category, service);
		unsigned j;

		if (s < 0)
			continue;
		keyed |= s > 0;
		for (j = n; j > 0 && score[j - 1] < s; j--) {
			out[j] = out[j - 1];
			score[j] = score[j - 1];
		}
		out[j] = &m->e[i];
		score[j] = s;
		n++;
	}
	return keyed ? n : 0;
}

const struct cep__fmap_field *
cep__fmap_field(const struct cep__fmap_entry *const *e, unsigned n,
		const char *name)
{
	for (unsigned i = 0; i < n; i++)
		for (uint32_t j = 0; j < e[i]->nfields; j++)
			if (!strcmp(e[i]->fields[j].sigma, name))
				return &e[i]->fields[j];
	return NULL;
}
