/*
 * config.c - ceptord's YAML configuration (see config.h).
 *
 * The file is loaded as a libyaml document and walked node by node, so that
 * every value keeps the line it came from for error messages.  Unknown keys
 * are errors: a misspelt key that is silently ignored is how a collector
 * ends up with the wrong TLP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ceptor/error.h"
#include "lib/config.h"
#include "lib/log.h"

struct loader {
	const char *path;
	FILE *diag;
	yaml_document_t doc;
	int errors;
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

int cep_config_set_str(char **dst, const char *s)
{
	char *copy = NULL;
	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int push_str(char ***arr, size_t *n, const char *s)
{
	char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
	if (!grown)
		return -ENOMEM;
	*arr = grown;
	if (!(grown[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

void cep_config_init(struct cep_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cep_config_set_str(&cfg->redis_url, "redis://127.0.0.1:6379");
	cfg->spool_max_bytes = 1ull << 30;
	cfg->agreed = 0x7ffu; /* every sector, until `agreements:` says */
	cfg->ring_capacity = 1u << 16;
	cfg->max_keys = 1u << 20;
	cfg->state_max_bytes = 1ull << 30;
	cfg->lateness_ns = 2000000000ull;
	cfg->reorder_max = 1u << 16;
	cfg->publish_batch = 128;
	cfg->publish_interval_ms = 1000;
	cfg->publish_prompt = 1;
	cfg->cluster_wait_replicas = -1;
	cfg->stats_hours = 8 * 24;
	cfg->stats_days = 400;
	cfg->log_level = CEP_LOG_INFO;
	snprintf(cfg->site, sizeof cfg->site, "%s", "site");
}

int cep_config_add_rule_dir(struct cep_config *cfg, const char *dir)
{
	return push_str(&cfg->rule_dirs, &cfg->nrule_dirs, dir);
}

static struct cep_config_input *new_input(struct cep_config *cfg, int kind)
{
	struct cep_config_input *grown =
		realloc(cfg->inputs, (cfg->ninputs + 1) * sizeof *grown);
	if (!grown)
		return NULL;
	cfg->inputs = grown;
	struct cep_config_input *in = &grown[cfg->ninputs++];
	memset(in, 0, sizeof *in);
	in->kind = kind;
	char name[24];
	snprintf(name, sizeof name, "%s%zu",
		 cep_config_input_kind_name(kind),
		 cfg->ninputs - 1);
	cep_source_init(&in->src, name);
	return in;
}

const char *cep_config_input_kind_name(int kind)
{
	switch (kind) {
	case CEP_INPUT_PCAP: return "pcap";
	case CEP_INPUT_FEED: return "feed";
	case CEP_INPUT_RING: return "ring";
	case CEP_INPUT_FLOW: return "flow";
	default: return "?";
	}
}

int cep_config_feed_format_ok(const char *name)
{
	static const char *const names[] = {
		"jsonl", "csv-shadowserver", "csv", "iplist", "report", "redis",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

int cep_config_add_input(struct cep_config *cfg, int kind, const char *format,
			 const char *file)
{
	struct cep_config_input *in = new_input(cfg, kind);
	if (!in)
		return -ENOMEM;
	if (format)
		snprintf(in->format, sizeof in->format, "%s", format);
	if (kind == CEP_INPUT_RING)
		return cep_config_set_str(&in->ring, file);
	return push_str(&in->files, &in->nfiles, file);
}

static void input_fini(struct cep_config_input *in)
{
	for (size_t i = 0; i < in->nfiles; i++)
		free(in->files[i]);
	free(in->files);
	free(in->bpf);
	free(in->ring);
	free(in->live);
}

void cep_config_fini(struct cep_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->redis_url);
	free(cfg->spool_dir);
	free(cfg->reporter_secret);
	free(cfg->alert_command);
	for (size_t i = 0; i < cfg->nrule_dirs; i++)
		free(cfg->rule_dirs[i]);
	free(cfg->rule_dirs);
	for (size_t i = 0; i < cfg->nrule_mappings; i++)
		free(cfg->rule_mappings[i]);
	free(cfg->rule_mappings);
	free(cfg->sectors_path);
	free(cfg->metrics_addr);
	for (size_t i = 0; i < cfg->ninputs; i++)
		input_fini(&cfg->inputs[i]);
	free(cfg->inputs);
	memset(cfg, 0, sizeof *cfg);
}

int cep_config_parse_listen(const char *s, char host[CEP_CONFIG_HOST_MAX],
			    uint16_t *port, int *loopback, char *err,
			    size_t errsize)
{
	const char *colon, *h = s, *hend;
	unsigned char a[16];
	char *end;
	unsigned long p;

	if (*s == '[') {
		h = s + 1;
		hend = strchr(h, ']');
		colon = hend && hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		hend = colon;
		/* An unbracketed IPv6 address is ambiguous with its port. */
		if (colon && memchr(s, ':', (size_t)(colon - s)))
			colon = NULL;
	}
	if (!colon || hend == h) {
		snprintf(err, errsize, "want ADDR:PORT (127.0.0.1:9464, "
			 "[::1]:9464), not \"%s\"", s);
		return -EINVAL;
	}
	if ((size_t)(hend - h) >= CEP_CONFIG_HOST_MAX) {
		snprintf(err, errsize, "\"%.*s\" is not an IP address",
			 (int)(hend - h), h);
		return -EINVAL;
	}
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p < 1 || p > 65535 ||
	    colon[1] == '-' || colon[1] == '+') {
		snprintf(err, errsize, "port must be a number from 1 to 65535, "
			 "not \"%s\"", colon + 1);
		return -EINVAL;
	}
	*port = (uint16_t)p;
	if (!strcmp(host, "localhost"))
		snprintf(host, CEP_CONFIG_HOST_MAX, "127.0.0.1");
	if (*s != '[' && inet_pton(AF_INET, host, a) == 1) {
		*loopback = a[0] == 127;
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char v6lo[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		*loopback = !memcmp(a, v6lo, 16) ||
			    (!memcmp(a, mapped, 12) && a[12] == 127);
		return 0;
	}
	snprintf(err, errsize, "\"%s\" is not an IP address (IPv4, [IPv6] or "
		 "localhost; names are not looked up)", host);
	return -EINVAL;
}

/* ---- node helpers ----------------------------------------------------- */

static const char *scalar(struct loader *l, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_SCALAR_NODE) {
		problem(l, n, "%s must be a single value", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int get_u64(struct loader *l, yaml_node_t *n, const char *key,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = scalar(l, n, key);
	char *end;
	if (!s)
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	/* Sizes may carry a binary suffix: 64k, 512M, 2G. */
	if (end != s) {
		int shift = 0;
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: break;
		}
		if (shift) {
			end++;
			if (v > (ULLONG_MAX >> shift))
				errno = ERANGE; /* reported below */
			else
				v <<= shift;
		}
	}
	if (end == s || *end || errno || v < min || v > max) {
		problem(l, n, "%s must be a number from %llu to %llu, not \"%s\"", key,
			(unsigned long long)min, (unsigned long long)max, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* A duration: 0, or a whole number followed by ms, s, m or h. */
static int get_duration(struct loader *l, yaml_node_t *n, const char *key,
			uint64_t max, uint64_t *out)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ms", 1000000ull }, { "s", 1000000000ull },
		{ "m", 60000000000ull }, { "h", 3600000000000ull },
	};
	const char *s = scalar(l, n, key);
	unsigned long long v;
	char *end;

	if (!s)
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && !errno && *s != '-') {
		if (v == 0 && !*end) {
			*out = 0;
			return 0;
		}
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (!strcmp(end, units[i].unit) &&
			    v <= max / units[i].ns) {
				*out = v * units[i].ns;
				return 0;
			}
	}
	problem(l, n, "%s must be 0 or a duration such as 500ms, 2s, 1m "
		"(at most %llu s), not \"%s\"", key,
		(unsigned long long)(max / 1000000000ull), s);
	return -1;
}

static void str_list(struct loader *l, yaml_node_t *n, const char *key,
		     char ***arr, size_t *count)
{
	if (n && n->type == YAML_SCALAR_NODE) {
		push_str(arr, count, (const char *)n->data.scalar.value);
		return;
	}
	if (!n || n->type != YAML_SEQUENCE_NODE) {
		problem(l, n, "%s must be a value or a list of values", key);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		const char *s = scalar(l, e, key);
		if (s)
			push_str(arr, count, s);
	}
}

/* The collector keys that describe its source (cep_source_set()), and what
 * each expects, for the error message. */
static const char *const source_keys[][2] = {
	{ "name", "a name of at most 23 characters" },
	{ "reliability", "one of A..F" },
	{ "credibility", "one of 1..6" },
	{ "tlp", "one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED" },
	{ "sector", "one of telecom, finance, aviation, rail, electricity, gas, "
		    "government, medical, water, logistics, unknown" },
	{ "overflow", "block or drop" },
	{ "recipients", "a list of sectors (the recipients of its TLP:RED "
			"events)" },
};

static const char *source_key_expect(const char *key)
{
	for (size_t i = 0; i < sizeof source_keys / sizeof source_keys[0]; i++)
		if (strcmp(source_keys[i][0], key) == 0)
			return source_keys[i][1];
	return NULL;
}

static bool is_source_key(const char *key)
{
	return source_key_expect(key) != NULL;
}

#define MAP_FOR_EACH(l, map, k, v)                                             \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;           \
	     p_ < (map)->data.mapping.pairs.top &&                             \
	     ((k) = yaml_document_get_node(&(l)->doc, p_->key),                \
	     (v) = yaml_document_get_node(&(l)->doc, p_->value), 1);           \
	     p_++)

static const char *key_name(yaml_node_t *k)
{
	return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value
						: "";
}

/* ---- sections ---------------------------------------------------------- */

/* The top-level keys, for the message about one that is not; the test
 * deploy_config checks that this names every key load_root() takes. */
#define ROOT_KEYS "site, redis, spool, spool_max, rules, rules_watch, "    \
	"sectors, rules_mapping, rules_skip_unsupported, ring_capacity, "  \
	"max_keys, state_max, lateness, reorder_max, publish_batch, "      \
	"publish_interval_ms, publish_prompt, stats_hours, stats_days, "   \
	"log, log_level, "                                                 \
	"metrics, metrics_public, agreements, reporter_secret, "            \
	"cluster_wait_replicas, cluster_wait_ms, "                          \
	"alert_syslog, alert_command, alert_priority, alert_timeout, "     \
	"collectors"

static void load_input(struct loader *l, struct cep_config *cfg,
		       yaml_node_t *m)
{
	yaml_node_t *k, *v;
	const char *kind = NULL;

	if (m->type != YAML_MAPPING_NODE) {
		problem(l, m, "each collector must be a mapping");
		return;
	}
	MAP_FOR_EACH(l, m, k, v)
		if (strcmp(key_name(k), "kind") == 0)
			kind = scalar(l, v, "kind");
	int ik = !kind ? 0 : strcmp(kind, "pcap") == 0 ? CEP_INPUT_PCAP :
			 strcmp(kind, "feed") == 0 ? CEP_INPUT_FEED :
			 strcmp(kind, "ring") == 0 ? CEP_INPUT_RING :
			 strcmp(kind, "flow") == 0 ? CEP_INPUT_FLOW : -1;
	if (ik <= 0) {
		problem(l, m, "collector kind must be pcap, flow, feed or ring, not \"%s\"",
			kind ? kind : "(missing)");
		return;
	}
	struct cep_config_input *in = new_input(cfg, ik);
	if (!in) {
		problem(l, m, "out of memory");
		return;
	}
	if (ik == CEP_INPUT_FEED)
		snprintf(in->format, sizeof in->format, "jsonl");
	MAP_FOR_EACH(l, m, k, v) {
		const char *key = key_name(k);
		const char *s;
		if (strcmp(key, "kind") == 0)
			continue;
		if (strcmp(key, "files") == 0) {
			str_list(l, v, key, &in->files, &in->nfiles);
		} else if (strcmp(key, "filter") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&in->bpf, s);
		} else if (strcmp(key, "format") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!cep_config_feed_format_ok(s))
					problem(l, v, "format must be one of %s, not \"%s\"",
						CEP_CONFIG_FEED_FORMATS, s);
				else
					snprintf(in->format, sizeof in->format, "%s", s);
			}
		} else if (strcmp(key, "ring") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&in->ring, s);
		} else if (strcmp(key, "interface") == 0 && ik == CEP_INPUT_PCAP) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&in->live, s);
		} else if (strcmp(key, "listen") == 0 && ik == CEP_INPUT_FLOW) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&in->live, s);
		} else if (strcmp(key, "recipients") == 0 && v &&
			   v->type == YAML_SEQUENCE_NODE) {
			/* A list: joined, then read like the one-line form. */
			char **items = NULL, joined[512] = "";
			size_t n = 0, len = 0;
			str_list(l, v, key, &items, &n);
			for (size_t i = 0; i < n; i++) {
				len += (size_t)snprintf(joined + len, len < sizeof joined ?
							sizeof joined - len : 0,
							"%s%s", i ? "," : "", items[i]);
				free(items[i]);
			}
			free(items);
			if (len >= sizeof joined ||
			    cep_source_set(&in->src, key, joined))
				problem(l, v, "%s must be %s", key,
					source_key_expect(key));
		} else if (is_source_key(key)) {
			if ((s = scalar(l, v, key)) && cep_source_set(&in->src, key, s))
				problem(l, v, "%s must be %s, not \"%s\"", key,
					source_key_expect(key), s);
		} else {
			problem(l, k, "unknown collector key \"%s\" (a %s "
				"collector takes kind, name, reliability, "
				"credibility, tlp, sector, overflow, files, filter, "
				"format, ring%s)", key, kind,
				ik == CEP_INPUT_PCAP ? ", interface" :
				ik == CEP_INPUT_FLOW ? ", listen" : "");
		}
	}
	if (ik == CEP_INPUT_RING && !in->ring)
		problem(l, m, "a ring collector needs ring: NAME");
}

/* metrics: off | ADDR:PORT.  Whether a non-loopback address is allowed
 * depends on metrics_public, which may come later in the file: see
 * check_metrics(). */
static void load_metrics(struct loader *l, struct cep_config *cfg,
			 yaml_node_t *v)
{
	char host[CEP_CONFIG_HOST_MAX], err[160];
	const char *s = scalar(l, v, "metrics");
	uint16_t port;
	int lo;

	if (!s)
		return;
	if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no") ||
	    !strcmp(s, "none")) {
		cep_config_set_str(&cfg->metrics_addr, NULL);
		cfg->metrics_line = 0;
		return;
	}
	if (cep_config_parse_listen(s, host, &port, &lo, err, sizeof err)) {
		problem(l, v, "metrics must be off or ADDR:PORT: %s", err);
		return;
	}
	cep_config_set_str(&cfg->metrics_addr, s);
	cfg->metrics_line = (unsigned)v->start_mark.line + 1;
}

/* The endpoint has no authentication: beyond loopback only when the file
 * says so in as many words. */
static void check_metrics(struct loader *l, struct cep_config *cfg)
{
	char host[CEP_CONFIG_HOST_MAX], err[160];
	uint16_t port;
	int lo = 1;

	if (!cfg->metrics_addr || !cfg->metrics_line || cfg->metrics_public)
		return;
	if (cep_config_parse_listen(cfg->metrics_addr, host, &port, &lo, err,
				    sizeof err) || lo)
		return;
	fprintf(l->diag, "%s:%u: metrics address %s is not a loopback address; "
		"the endpoint has no authentication: add `metrics_public: true` "
		"to serve it beyond this host\n", l->path, cfg->metrics_line,
		host);
	l->errors++;
}

static void load_root(struct loader *l, struct cep_config *cfg,
		      yaml_node_t *root)
{
	yaml_node_t *k, *v;
	uint64_t u;

	if (!root) /* an empty file: all defaults */
		return;
	if (root->type != YAML_MAPPING_NODE) {
		problem(l, root, "the configuration must be a mapping");
		return;
	}
	MAP_FOR_EACH(l, root, k, v) {
		const char *key = key_name(k);
		const char *s;
		if (strcmp(key, "site") == 0) {
			if ((s = scalar(l, v, key)) &&
			    (size_t)snprintf(cfg->site, sizeof cfg->site, "%s", s) >= sizeof cfg->site)
				problem(l, v, "site is longer than %zu characters",
					sizeof cfg->site - 1);
		} else if (strcmp(key, "redis") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&cfg->redis_url,
						   strcmp(s, "none") == 0 ? NULL : s);
		} else if (strcmp(key, "spool") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&cfg->spool_dir, s);
		} else if (strcmp(key, "agreements") == 0) {
			char **items = NULL;
			size_t n = 0;
			str_list(l, v, key, &items, &n);
			cfg->agreed = 0;
			cfg->agreements_set = 1;
			for (size_t i = 0; i < n; i++) {
				int sct = !strcmp(items[i], "unknown") ? 0 :
					  cep_sector_parse(items[i]);
				if (sct < 0)
					problem(l, v, "agreements: \"%s\" is not a "
						"sector (telecom, finance, aviation, rail, "
						"electricity, gas, government, medical, "
						"water, logistics, unknown)", items[i]);
				else
					cfg->agreed |= 1u << sct;
				free(items[i]);
			}
			free(items);
		} else if (strcmp(key, "reporter_secret") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&cfg->reporter_secret, s);
		} else if (strcmp(key, "spool_max") == 0) {
			if (!get_u64(l, v, key, 1 << 20, UINT64_MAX >> 1, &u))
				cfg->spool_max_bytes = u;
		} else if (strcmp(key, "rules") == 0) {
			str_list(l, v, key, &cfg->rule_dirs, &cfg->nrule_dirs);
		} else if (strcmp(key, "sectors") == 0) {
			if ((s = scalar(l, v, key))) {
				cfg->sectors_off = strcmp(s, "none") == 0;
				cep_config_set_str(&cfg->sectors_path,
						   cfg->sectors_off ? NULL : s);
				cfg->sectors_line = (unsigned)v->start_mark.line + 1;
			}
		} else if (strcmp(key, "rules_mapping") == 0) {
			str_list(l, v, key, &cfg->rule_mappings, &cfg->nrule_mappings);
		} else if (strcmp(key, "rules_skip_unsupported") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "true") || !strcmp(s, "yes"))
					cfg->rules_skip_unsupported = 1;
				else if (!strcmp(s, "false") || !strcmp(s, "no"))
					cfg->rules_skip_unsupported = 0;
				else
					problem(l, v, "rules_skip_unsupported must be "
						"true or false, not \"%s\"", s);
			}
		} else if (strcmp(key, "alert_syslog") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "true") || !strcmp(s, "yes"))
					cfg->alert_syslog = 1;
				else if (!strcmp(s, "false") || !strcmp(s, "no"))
					cfg->alert_syslog = 0;
				else
					problem(l, v, "alert_syslog must be true or "
						"false, not \"%s\"", s);
			}
		} else if (strcmp(key, "alert_command") == 0) {
			if ((s = scalar(l, v, key)))
				cep_config_set_str(&cfg->alert_command, s[0] ? s : NULL);
		} else if (strcmp(key, "alert_priority") == 0) {
			if ((s = scalar(l, v, key))) {
				const char *d = s[0] == 'P' ? s + 1 : s;
				if (d[0] >= '1' && d[0] <= '5' && !d[1])
					cfg->alert_priority = (unsigned)(d[0] - '0');
				else
					problem(l, v, "alert_priority must be one of "
						"P1..P5, not \"%s\"", s);
			}
		} else if (strcmp(key, "alert_timeout") == 0) {
			if (!get_duration(l, v, key, 3600000000000ull, &u))
				cfg->alert_timeout_ns = u;
		} else if (strcmp(key, "rules_watch") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "true") || !strcmp(s, "yes"))
					cfg->rules_watch = 1;
				else if (!strcmp(s, "false") || !strcmp(s, "no"))
					cfg->rules_watch = 0;
				else
					problem(l, v, "rules_watch must be true or "
						"false, not \"%s\"", s);
			}
		} else if (strcmp(key, "ring_capacity") == 0) {
			if (!get_u64(l, v, key, 64, 1u << 24, &u)) {
				if (u & (u - 1))
					problem(l, v, "ring_capacity must be a power of two");
				else
					cfg->ring_capacity = (uint32_t)u;
			}
		} else if (strcmp(key, "max_keys") == 0) {
			if (!get_u64(l, v, key, 16, UINT32_MAX, &u))
				cfg->max_keys = (uint32_t)u;
		} else if (strcmp(key, "state_max") == 0) {
			if (!get_u64(l, v, key, 1 << 20, UINT64_MAX >> 1, &u))
				cfg->state_max_bytes = u;
		} else if (strcmp(key, "lateness") == 0) {
			if (!get_duration(l, v, key, 86400000000000ull, &u))
				cfg->lateness_ns = u;
		} else if (strcmp(key, "reorder_max") == 0) {
			if (!get_u64(l, v, key, 16, UINT32_MAX, &u))
				cfg->reorder_max = (uint32_t)u;
		} else if (strcmp(key, "publish_batch") == 0) {
			if (!get_u64(l, v, key, 1, 65536, &u))
				cfg->publish_batch = (uint32_t)u;
		} else if (strcmp(key, "publish_interval_ms") == 0) {
			if (!get_u64(l, v, key, 1, 3600000, &u))
				cfg->publish_interval_ms = (uint32_t)u;
		} else if (strcmp(key, "publish_prompt") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "true") || !strcmp(s, "yes"))
					cfg->publish_prompt = 1;
				else if (!strcmp(s, "false") || !strcmp(s, "no"))
					cfg->publish_prompt = 0;
				else
					problem(l, v, "publish_prompt must be true or "
						"false, not \"%s\"", s);
			}
		} else if (strcmp(key, "cluster_wait_replicas") == 0) {
			if (!get_u64(l, v, key, 0, 16, &u))
				cfg->cluster_wait_replicas = (int32_t)u;
		} else if (strcmp(key, "cluster_wait_ms") == 0) {
			if (!get_u64(l, v, key, 1, 60000, &u))
				cfg->cluster_wait_ms = (uint32_t)u;
		} else if (strcmp(key, "stats_hours") == 0) {
			if (!get_u64(l, v, key, 0, 24 * 3650, &u))
				cfg->stats_hours = (uint32_t)u;
		} else if (strcmp(key, "stats_days") == 0) {
			if (!get_u64(l, v, key, 0, 3650 * 10, &u))
				cfg->stats_days = (uint32_t)u;
		} else if (strcmp(key, "metrics") == 0) {
			load_metrics(l, cfg, v);
		} else if (strcmp(key, "metrics_public") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "true") || !strcmp(s, "yes"))
					cfg->metrics_public = 1;
				else if (!strcmp(s, "false") || !strcmp(s, "no"))
					cfg->metrics_public = 0;
				else
					problem(l, v, "metrics_public must be true "
						"or false, not \"%s\"", s);
			}
		} else if (strcmp(key, "log") == 0) {
			if ((s = scalar(l, v, key))) {
				if (!strcmp(s, "stderr"))
					cfg->log_syslog = 0;
				else if (!strcmp(s, "syslog"))
					cfg->log_syslog = 1;
				else
					problem(l, v, "log must be stderr or syslog, "
						"not \"%s\"", s);
			}
		} else if (strcmp(key, "log_level") == 0) {
			int level;
			if ((s = scalar(l, v, key))) {
				if ((level = cep_log_level_parse(s)) < 0)
					problem(l, v, "log_level must be one of %s, "
						"not \"%s\"", CEP_LOG_LEVEL_NAMES, s);
				else
					cfg->log_level = level;
			}
		} else if (strcmp(key, "collectors") == 0) {
			if (v->type != YAML_SEQUENCE_NODE) {
				problem(l, v, "collectors must be a list");
				continue;
			}
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				load_input(l, cfg, yaml_document_get_node(&l->doc, *it));
		} else {
			problem(l, k, "unknown key \"%s\" (expected one of %s)",
				key, ROOT_KEYS);
		}
	}
}

int cep_config_load(struct cep_config *cfg, const char *path, FILE *diag)
{
	struct loader l = { .path = path, .diag = diag ? diag : stderr };
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (!f) {
		rc = -errno;
		fprintf(l.diag, "%s: cannot open: %s\n", path, strerror(errno));
		return rc;
	}
	cep_config_set_str(&cfg->path, path);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		fprintf(l.diag, "%s:%zu: %s\n", path, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "YAML syntax error");
		rc = -CEP_ECONFIG;
		goto out;
	}
	load_root(&l, cfg, yaml_document_get_root_node(&l.doc));
	check_metrics(&l, cfg);
	yaml_document_delete(&l.doc);
	if (l.errors)
		rc = -CEP_ECONFIG;
out:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
