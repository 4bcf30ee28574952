/*
 * ceptord - the engine.  This file is the composition root: it reads the
 * configuration and the command line, and hands them to the engine loop
 * (loop.c) together with the readers of the hosted collectors; it is the
 * only file of the engine that knows which collectors exist.
 *
 *   ceptord -c deploy/ceptor.yml
 *   ceptord --once --rules rules/default --pcap capture.pcap --redis none --stdout
 *
 * SIGHUP reloads the rules and the sector graph (engine/loop.h, "Reload");
 * SIGINT and SIGTERM
 * stop the engine after draining the rings.
 *
 * Exit status: 0 on success; 1 when the run failed (rules, config, inputs,
 * or messages that could be neither delivered nor spooled); 2 on usage
 * errors.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/rule.h"
#include "collectors/feed/feed.h"
#include "collectors/flow/flow.h"
#include "collectors/pcap/pcap_reader.h"
#include "core/sectors.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/log.h"
#include "loop.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptord [-c FILE] [options]\n"
		"\n"
		"  -c, --config FILE     YAML configuration (see deploy/ceptor.yml)\n"
		"      --once            drain the offline inputs, flush, publish, exit\n"
		"      --rules DIR       rule directory or file (repeatable)\n"
		"      --pcap FILE       a pcap or pcapng capture (repeatable)\n"
		"      --flow-pcap FILE  a capture of NetFlow/IPFIX exports (repeatable)\n"
		"      --feed FMT:FILE   a feed input (repeatable; FILE - is stdin): FMT is\n"
		"                        jsonl, csv-shadowserver, iplist, report (a file or\n"
		"                        a directory) or redis (redis://HOST:PORT/STREAM)\n"
		"      --ring NAME       a ring that a collector process feeds (repeatable)\n"
		"      --sectors FILE    the sector interdependency graph, or none (default\n"
		"                        from config, else rules/sectors.yml if it exists)\n"
		"      --redis URL       redis://HOST:PORT, or none (default from config,\n"
		"                        else redis://127.0.0.1:6379)\n"
		"      --spool DIR       where undeliverable messages wait (and the\n"
		"                        incident id counters live)\n"
		"      --stdout          print every message as JSON Lines on stdout\n"
		"      --metrics ADDR:PORT  serve Prometheus metrics at\n"
		"                        http://ADDR:PORT/metrics (a loopback address,\n"
		"                        e.g. 127.0.0.1:9464), or off (default: config)\n"
		"      --metrics-public  allow a non-loopback --metrics address\n"
		"      --check           validate the configuration and rules, then exit\n"
		"      --log-level L     error, warn, info (the default) or debug\n"
		"                        (default from config: log_level)\n"
		"      --syslog          log to syslog (daemon facility) instead of\n"
		"                        stderr (default from config: log)\n"
		"  -v, --verbose         more log lines (repeatable); -q only errors\n"
		"  -h, --help            this text\n"
		"      --version         print the version\n");
}

/* Set when the engine stops: readers that follow their input return.
 * Written once by stop_inputs(), read by the feed threads: atomically. */
static volatile int stopping;
/* --once: inputs are read to their end and not followed. */
static int once_mode;

/* A hosted live capture's counters, about once a second on its thread:
 * the engine's producer report for its ring takes them from here. */
struct live_counts {
	struct cep_input_counts *c;
	uint64_t malformed0; /* what the input's files counted before */
};

static void live_report(void *arg, const struct cep_pcap_stats *st)
{
	struct live_counts *lc = arg;

	lc->c->captured = st->captured;
	lc->c->kernel_drops = st->kernel_drops;
	lc->c->if_drops = st->if_drops;
	lc->c->malformed = lc->malformed0 + st->malformed;
}

/* The hosted collectors: one file of an input into the engine's sink. */
static int read_input(const struct cep_config_input *in, const char *path,
		      const struct cep_sink *sink, struct cep_input_counts *c)
{
	struct cep_sink s = *sink;
	int rc;

	if (in->kind == CEP_INPUT_PCAP) {
		struct cep_pcap_stats st = { 0 };
		if (path == in->live) {
			struct cep_pcap_live lv;
			struct live_counts lc = { c, c->malformed };

			cep_pcap_live_init(&lv, path);
			lv.bpf = in->bpf;
			lv.report = live_report;
			lv.arg = &lc;
			rc = cep_pcap_read_live(&lv, &in->src, &s, &st);
			live_report(&lc, &st);
			return rc;
		} else {
			rc = cep_pcap_read_file(path, in->bpf, &in->src, &s, &st);
		}
		c->malformed += st.malformed;
		c->failed_files += st.files_failed;
		return rc;
	}
	if (in->kind == CEP_INPUT_FLOW) {
		struct cep_flow_stats st = { 0 };
		if (path == in->live)
			rc = cep_flow_listen(path, &in->src, &s, &st, stderr, NULL);
		else
			rc = cep_flow_read_pcap(path, &in->src, &s, &st, stderr);
		c->malformed += st.malformed;
		c->failed_files += st.files_failed;
		return rc;
	}
	struct cep_feed_stats st = { 0 };
	struct cep_feed_opts fo = { .stop = &stopping };
	/* Offline runs read what is there; a daemon follows watched
	 * directories and upstream streams until it stops. */
	fo.follow = !once_mode;
	rc = cep_feed_read(cep_feed_format_parse(in->format), path, &fo,
			   &in->src, &s, &st, stderr);
	c->malformed += st.malformed;
	c->failed_files += st.files_failed;
	return rc;
}

static void stop_inputs(void)
{
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	cep_pcap_stop();
	cep_flow_stop();
}

static const struct cep_engine_hooks hooks = {
	.read = read_input,
	.stop = stop_inputs,
};

static void on_signal(int sig)
{
	(void)sig;
	cep_engine_stop();
}

/* SIGHUP: compile the rules again and swap them in (engine/loop.h,
 * "Reload"); the engine's reload thread does the work. */
static void on_hangup(int sig)
{
	(void)sig;
	cep_engine_reload();
}

/* Where the spool (and the id counters) go when nothing says: a system
 * directory for root, the user's state directory otherwise. */
static void default_spool(struct cep_config *cfg)
{
	char path[4096];

	if (cfg->spool_dir)
		return;
	cep_file_default_spool(path, sizeof path);
	cep_config_set_str(&cfg->spool_dir, path);
}

int main(int argc, char **argv)
{
	enum { O_ONCE = 256, O_RULES, O_PCAP, O_FLOWPCAP, O_FEED, O_RING, O_REDIS,
	       O_SPOOL, O_STDOUT, O_CHECK, O_VERSION, O_SECTORS, O_METRICS,
	       O_METRICS_PUBLIC, O_LOGLEVEL, O_SYSLOG };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, O_ONCE },
		{ "rules", required_argument, NULL, O_RULES },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "flow-pcap", required_argument, NULL, O_FLOWPCAP },
		{ "feed", required_argument, NULL, O_FEED },
		{ "ring", required_argument, NULL, O_RING },
		{ "sectors", required_argument, NULL, O_SECTORS },
		{ "redis", required_argument, NULL, O_REDIS },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "stdout", no_argument, NULL, O_STDOUT },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "metrics-public", no_argument, NULL, O_METRICS_PUBLIC },
		{ "check", no_argument, NULL, O_CHECK },
		{ "log-level", required_argument, NULL, O_LOGLEVEL },
		{ "syslog", no_argument, NULL, O_SYSLOG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	/* Command-line inputs and outputs override the file, so they are
	 * collected first and applied after it is read. */
	struct cep_config cli;
	const char *config_path = NULL, *redis = NULL, *spool = NULL;
	const char *sectors = NULL, *metrics = NULL;
	int metrics_public = 0;
	int check = 0, once = 0, to_stdout = 0;
	/* Logging: --log-level replaces the config's log_level, and -v / -q
	 * move from whichever applies; --syslog or `log: syslog` says where. */
	int log_level = -1, log_more = 0, log_quiet = 0, log_syslog = 0;
	int c, rc, status = 0;

	memset(&cli, 0, sizeof cli);
	cep_log_init("ceptord", CEP_LOG_INFO);
	while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case O_ONCE: once = once_mode = 1; break;
		case O_RULES: cep_config_add_rule_dir(&cli, optarg); break;
		case O_PCAP: cep_config_add_input(&cli, CEP_INPUT_PCAP, NULL, optarg); break;
		case O_FLOWPCAP: cep_config_add_input(&cli, CEP_INPUT_FLOW, NULL, optarg); break;
		case O_FEED: {
			const char *colon = strchr(optarg, ':');
			if (!colon || colon == optarg || !colon[1]) {
				fprintf(stderr, "ceptord: --feed wants FORMAT:FILE, not \"%s\"\n", optarg);
				return 2;
			}
			char fmt[24];
			snprintf(fmt, sizeof fmt, "%.*s", (int)(colon - optarg), optarg);
			if (cep_feed_format_parse(fmt) <= 0) {
				fprintf(stderr, "ceptord: --feed format \"%s\" is not "
					"one of %s\n", fmt, CEP_CONFIG_FEED_FORMATS);
				return 2;
			}
			cep_config_add_input(&cli, CEP_INPUT_FEED, fmt, colon + 1);
			break;
		}
		case O_RING: cep_config_add_input(&cli, CEP_INPUT_RING, NULL, optarg); break;
		case O_REDIS: redis = optarg; break;
		case O_SPOOL: spool = optarg; break;
		case O_SECTORS: sectors = optarg; break;
		case O_STDOUT: to_stdout = 1; break;
		case O_METRICS: metrics = optarg; break;
		case O_METRICS_PUBLIC: metrics_public = 1; break;
		case O_CHECK: check = 1; break;
		case O_LOGLEVEL:
			if ((log_level = cep_log_level_parse(optarg)) < 0) {
				fprintf(stderr, "ceptord: --log-level must be one "
					"of %s, not \"%s\"\n",
					CEP_LOG_LEVEL_NAMES, optarg);
				cep_config_fini(&cli);
				return 2;
			}
			break;
		case O_SYSLOG: log_syslog = 1; break;
		case 'v': log_more++; break;
		case 'q': log_quiet = 1; break;
		case 'h': usage(stdout); cep_config_fini(&cli); return 0;
		case O_VERSION: printf("ceptord %s\n", CEPTOR_VERSION); cep_config_fini(&cli); return 0;
		default: usage(stderr); cep_config_fini(&cli); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ceptord: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		cep_config_fini(&cli);
		return 2;
	}

	struct cep_config cfg;
	cep_config_init(&cfg);
	if (config_path && (rc = cep_config_load(&cfg, config_path, stderr))) {
		status = 1;
		goto out;
	}
	cep_log_set_level(log_quiet ? CEP_LOG_ERROR :
			  (log_level >= 0 ? log_level : cfg.log_level) + log_more);
	/* --check answers the operator at the terminal, wherever the
	 * daemon logs. */
	if ((log_syslog || cfg.log_syslog) && !check)
		cep_log_syslog(true);
	cep_debug("configuration %s: %zu rule directories, %zu collectors; "
		  "logging to %s", config_path ? config_path : "(none)",
		  cfg.nrule_dirs, cfg.ninputs,
		  (log_syslog || cfg.log_syslog) && !check ? "syslog" : "stderr");
	/* The command line's rules replace the file's. */
	if (cli.nrule_dirs) {
		for (size_t i = 0; i < cfg.nrule_dirs; i++)
			free(cfg.rule_dirs[i]);
		free(cfg.rule_dirs);
		cfg.rule_dirs = cli.rule_dirs;
		cfg.nrule_dirs = cli.nrule_dirs;
		cli.rule_dirs = NULL;
		cli.nrule_dirs = 0;
	}
	/* Inputs on the command line replace the file's collectors. */
	if (cli.ninputs) {
		struct cep_config old = { .inputs = cfg.inputs,
					  .ninputs = cfg.ninputs };
		cfg.inputs = NULL;
		cfg.ninputs = 0;
		cep_config_fini(&old);
	}
	for (size_t i = 0; i < cli.ninputs; i++) {
		struct cep_config_input *in = &cli.inputs[i];
		const char *what = in->kind == CEP_INPUT_RING ? in->ring : in->files[0];
		if (cep_config_add_input(&cfg, in->kind, in->format[0] ? in->format : NULL,
					 what)) {
			status = 1;
			goto out;
		}
	}
	if (redis)
		cep_config_set_str(&cfg.redis_url, strcmp(redis, "none") == 0 ? NULL : redis);
	if (spool)
		cep_config_set_str(&cfg.spool_dir, spool);
	if (sectors) {
		cfg.sectors_off = strcmp(sectors, "none") == 0;
		cep_config_set_str(&cfg.sectors_path, cfg.sectors_off ? NULL : sectors);
		cfg.sectors_line = 0; /* the command line's, not the file's */
	}
	if (metrics_public)
		cfg.metrics_public = 1;
	if (metrics) {
		char host[CEP_CONFIG_HOST_MAX], err[160];
		uint16_t port;
		int lo = 1, off = !strcmp(metrics, "off") || !strcmp(metrics, "none");

		if (!off && cep_config_parse_listen(metrics, host, &port, &lo,
						    err, sizeof err)) {
			fprintf(stderr, "ceptord: --metrics: %s\n", err);
			status = 2;
			goto out;
		}
		if (!off && !lo && !cfg.metrics_public) {
			fprintf(stderr, "ceptord: --metrics %s is not a loopback "
				"address; the endpoint has no authentication: add "
				"--metrics-public to serve it beyond this host\n",
				metrics);
			status = 2;
			goto out;
		}
		cep_config_set_str(&cfg.metrics_addr, off ? NULL : metrics);
		cfg.metrics_line = 0; /* the command line's */
	}
	default_spool(&cfg);
	cep_debug("redis %s, spool %s, %zu inputs after the command line",
		  cfg.redis_url && !strchr(cfg.redis_url, '@') ? cfg.redis_url :
		  cfg.redis_url ? "(URL with credentials)" : "none",
		  cfg.spool_dir, cfg.ninputs);
	cfg.once = once;
	cfg.stdout_json = to_stdout;

	if (check) {
		struct cep_ruleset *rs = NULL;
		struct cep_sectors *graph = NULL;
		const char *used = NULL;
		/* Both are checked, so that every error shows in one run. */
		if (cep_engine_load_sectors(&cfg, stderr, &graph, &used))
			status = 1;
		if (cfg.nrule_dirs == 0) {
			fprintf(stderr, "ceptord: no rule directories configured\n");
			status = 1;
		} else if (cep_engine_compile_rules(&cfg, stderr, &rs)) {
			status = 1;
		} else if (!status) {
			printf("configuration OK: %zu rules, %zu inputs, sector "
			       "graph %s\n", cep_ruleset_count(rs), cfg.ninputs,
			       used ? used : "none (fixed tables)");
		}
		cep_ruleset_destroy(rs);
		cep_sectors_destroy(graph);
		goto out;
	}
	if (once && cfg.ninputs == 0) {
		fprintf(stderr, "ceptord: --once needs at least one input "
			"(--pcap, --feed, --ring, or collectors: in the config)\n");
		status = 2;
		goto out;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hangup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* ceptord cannot give up root for one thread: a live capture parses
	 * hostile packets with the engine's privileges.  Say so once. */
	for (size_t i = 0; i < cfg.ninputs; i++)
		if (cfg.inputs[i].kind == CEP_INPUT_PCAP && cfg.inputs[i].live &&
		    geteuid() == 0) {
			cep_warn("input %s captures live inside ceptord running "
				 "as root; prefer ceptor-pcap -i --ring (it drops "
				 "root once the interface is open) or run ceptord "
				 "as a user with CAP_NET_RAW only",
				 cfg.inputs[i].src.name);
			break;
		}

	struct cep_engine *e;
	if ((rc = cep_engine_create(&cfg, &hooks, &e))) {
		status = 1;
		goto out;
	}
	rc = cep_engine_run(e);
	struct cep_engine_stats st;
	cep_engine_stats(e, &st);
	cep_engine_destroy(e);
	cep_info("%llu events, %llu signals, %llu incidents, %llu messages, "
		 "%llu malformed input records skipped",
		 (unsigned long long)st.events, (unsigned long long)st.signals,
		 (unsigned long long)st.incidents, (unsigned long long)st.messages,
		 (unsigned long long)st.malformed);
	if (st.dropped)
		cep_warn("%llu events dropped by inputs with the drop policy",
			 (unsigned long long)st.dropped);
	if (st.keys_evicted)
		cep_warn("%llu correlation groups evicted at the state ceiling "
			 "(max_keys, state_max)", (unsigned long long)st.keys_evicted);
	if (st.signals_dropped)
		cep_warn("%llu signals dropped: the correlation queue was full",
			 (unsigned long long)st.signals_dropped);
	if (st.events_late)
		cep_warn("%llu events arrived later than the allowed lateness and "
			 "fed no correlation window (lateness in the config)",
			 (unsigned long long)st.events_late);
	if (rc)
		status = 1;
	/* Inputs that could not be read at all make the run a failure only
	 * when nothing was read. */
	if (st.input_errors && st.events == 0)
		status = 1;
out:
	cep_config_fini(&cfg);
	cep_config_fini(&cli);
	return status;
}
