/*
 * config.h - ceptord's configuration: the YAML file, then the command line.
 *
 * The file (deploy/ceptor.yml documents every key) says where incidents go
 * (Redis, spool), which rule directories to compile, and which collector
 * instances to host, each with its source description (reliability,
 * credibility, TLP, sector, overflow policy).  The command line adds inputs
 * and overrides outputs; it never needs a file for a one-off run.
 *
 * Errors name the file and line ("ceptor.yml:12: reliability must be one of
 * A..F") and every error in the file is reported, not only the first.
 *
 * Ownership: struct cep_config owns every string and array in it; release
 * with cep_config_fini().  Thread safety: load and edit on one thread before
 * the engine starts; afterwards it is read-only.
 */
#ifndef CEPTOR_LIB_CONFIG_H
#define CEPTOR_LIB_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "ceptor/collector.h"

/* Kinds of collector instance that ceptord can host. */
enum cep_input_kind {
	CEP_INPUT_PCAP = 1, /* capture files (offline) */
	CEP_INPUT_FEED,     /* feed files; format says which */
	CEP_INPUT_RING,     /* a collector process's ring, attached by name */
	CEP_INPUT_FLOW,     /* NetFlow/IPFIX: export captures, or a UDP listener */
};

struct cep_config_input {
	int kind;                 /* enum cep_input_kind */
	struct cep_source src;    /* name and defaults stamped on its events */
	char format[24];          /* feed format: "jsonl" */
	char *bpf;                /* pcap filter, or NULL */
	char **files;             /* inputs, owned */
	size_t nfiles;
	/* A live input, read after the files until the engine stops: pcap
	 * `interface: IFACE`, flow `listen: ADDR:PORT`; NULL for none.  The
	 * engine hands this very pointer to the read hook as its path. */
	char *live;
	char *ring;               /* CEP_INPUT_RING: the ring name */
};

struct cep_config {
	char *path;              /* the file it came from, or NULL */
	char *redis_url;         /* "redis://127.0.0.1:6379", or NULL: none */
	char *spool_dir;         /* where undeliverable messages wait */
	/* Sharing (DESIGN.md section 6, core/share.h): the sectors (bit s)
	 * whose recipients have an agreed handling arrangement, for
	 * AMBER and stricter incidents and early warnings; `agreements:`
	 * lists them.  Without the key, every sector (agreements_set 0). */
	uint32_t agreed;
	int agreements_set;
	/* The second channel for P1/P2 (engine/alert.h): syslog and/or a
	 * command, for classes P1 .. alert_priority (default 2). */
	int alert_syslog;
	char *alert_command;
	unsigned alert_priority;
	uint64_t alert_timeout_ns;
	char *reporter_secret;   /* file with the site secret for reporter
				  * pseudonyms (lib/pseudonym.h); NULL: the
				  * spool's generated reporter.key */
	uint64_t spool_max_bytes;
	char **rule_dirs;
	size_t nrule_dirs;
	int rules_watch;         /* reload when a rule file changes */
	char **rule_mappings;    /* extra logsource field mappings (YAML) */
	size_t nrule_mappings;
	int rules_skip_unsupported; /* third-party packs: skip, don't reject */
	/* The sector interdependency graph (`sectors:`, --sectors): an explicit
	 * file, which must load; NULL: rules/sectors.yml when it exists (else
	 * none); sectors_off (`sectors: none`): none, the fixed tables.  The
	 * engine loads it (cep_engine_load_sectors()); the config only says
	 * where, and on which line of path, so errors can name it. */
	char *sectors_path;
	unsigned sectors_line;   /* of `sectors:` in path; 0: command line */
	int sectors_off;
	struct cep_config_input *inputs;
	size_t ninputs;
	uint32_t ring_capacity;  /* records per ring, a power of two */
	uint32_t max_keys;       /* correlation keys per rule */
	uint64_t state_max_bytes; /* ceiling for all window state */
	uint64_t lateness_ns;    /* how far (ns) an event may trail the
				    newest one and still be correlated */
	uint32_t reorder_max;    /* events held for reordering (entries) */
	uint32_t publish_batch;  /* messages per pipelined batch */
	uint32_t publish_interval_ms; /* the longest a publish round waits
				    (live); the rounds' pace (--once, and
				    live with publish_prompt off) */
	int publish_prompt;      /* live: a round after each batch of events
				    that made something to publish (1, the
				    default), or only every interval (0) */
	int32_t cluster_wait_replicas; /* Redis Cluster: WAIT for this many
				    replicas after each batch (0: no WAIT);
				    -1: the publisher's default (1) */
	uint32_t cluster_wait_ms; /* WAIT's timeout; 0: the default (100) */
	uint32_t stats_hours;    /* hours an hourly statistics bucket is kept */
	uint32_t stats_days;     /* days a daily one is kept (both 0: no
				    statistics; publish/stats.h) */
	int log_syslog;          /* `log: syslog`: lines to syslog (lib/log.h) */
	int log_level;           /* `log_level:`, enum cep_log_level */
	char site[32];           /* this site's name, in incident documents */
	/* The Prometheus endpoint (`metrics:`, --metrics): "ADDR:PORT" to
	 * serve GET /metrics on, NULL: off (the default).  A loopback address
	 * unless metrics_public (`metrics_public: true`, --metrics-public)
	 * says otherwise: the endpoint has no authentication. */
	char *metrics_addr;
	unsigned metrics_line;   /* of `metrics:` in path; 0: command line */
	int metrics_public;
	int stdout_json;         /* --stdout */
	int once;                /* --once */
};

/* cep_config_init - the defaults (documented in deploy/ceptor.yml). */
void cep_config_init(struct cep_config *cfg);

/*
 * cep_config_load - read a YAML file into cfg (on top of what it holds).
 * Every problem is written to diag (NULL: stderr) as "FILE:LINE: reason".
 * Returns 0, -CEP_ECONFIG after reporting the problems, or -errno when the
 * file cannot be read.
 */
int cep_config_load(struct cep_config *cfg, const char *path, FILE *diag);

/*
 * cep_config_add_input - append an input from the command line.
 * @kind: enum cep_input_kind; @format: the feed format or NULL; @file: a
 * file path (or a ring name for CEP_INPUT_RING).  The instance is named
 * after the kind and its position ("pcap0", "feed1").  Returns 0 or -ENOMEM.
 */
int cep_config_add_input(struct cep_config *cfg, int kind, const char *format,
			 const char *file);

/*
 * cep_config_feed_format_ok - whether @name is a feed format ceptor-feed
 * reads (collectors/feed/feed.h; tests/unit/test_config.c checks the two
 * lists agree).  Returns 1 or 0.
 */
#define CEP_CONFIG_FEED_FORMATS "jsonl, csv-shadowserver, iplist, report, redis"
int cep_config_feed_format_ok(const char *name);

/* cep_config_input_kind_name - "pcap", "flow", "feed", "ring" or "?". */
const char *cep_config_input_kind_name(int kind);

/* cep_config_set_str - replace *dst by a copy of s (NULL clears). 0/-ENOMEM */
int cep_config_set_str(char **dst, const char *s);

/* cep_config_add_rule_dir - append a rule directory. 0 or -ENOMEM. */
int cep_config_add_rule_dir(struct cep_config *cfg, const char *dir);

/*
 * cep_config_parse_listen - read a listening address "ADDR:PORT" (ADDR an
 * IPv4 address, a bracketed IPv6 address such as [::1], or localhost; PORT
 * 1..65535; no name lookups).  Fills host (the address as text, without
 * brackets; localhost becomes 127.0.0.1), *port and *loopback (1 when
 * ADDR is a loopback address: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
 * Returns 0, or -EINVAL with a one-line reason in err.
 */
#define CEP_CONFIG_HOST_MAX 46 /* INET6_ADDRSTRLEN */
int cep_config_parse_listen(const char *s, char host[CEP_CONFIG_HOST_MAX],
			    uint16_t *port, int *loopback, char *err,
			    size_t errsize);

/* cep_config_fini - release everything cfg owns; accepts a zeroed cfg. */
void cep_config_fini(struct cep_config *cfg);

#endif /* CEPTOR_LIB_CONFIG_H */
