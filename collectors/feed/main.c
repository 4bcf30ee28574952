/*
 * ceptor-feed - read observation feeds, indicator lists, operator reports
 * and upstream ceptors' streams into events.
 *
 *   ceptor-feed --format FORMAT [options] INPUT... [--dump|--stats|--ring NAME]
 *
 * An INPUT is a file, "-" for standard input, a directory (its files in
 * name order; with --watch also the ones that arrive later, each once), or
 * for --format redis a redis://HOST:PORT/STREAMKEY URL.  Without --ring the
 * events go to standard output as JSON Lines (--dump, the default) or are
 * only counted (--stats: one JSON object with the counters at the end).
 * The common collector options come from cli.h.  SIGINT and SIGTERM end
 * --watch and --follow cleanly (what was read is handed over first).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/cli.h"
#include "ceptor/error.h"
#include "collectors/feed/feed.h"
#include "lib/clock.h"

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-feed --format FORMAT [options] INPUT...\n"
		"\n"
		"INPUT is a file, - (standard input), a directory, or for redis\n"
		"redis://HOST:PORT/STREAMKEY.  Formats (collectors/feed/FORMATS.md):\n"
		"  jsonl             JSON Lines events (the --dump format)\n"
		"  csv-shadowserver  Shadowserver-style CSV reports\n"
		"  iplist            one IP, CIDR or domain per line\n"
		"  report            operator IT-failure reports (JSON)\n"
		"  redis             an upstream ceptor's incident stream\n"
		"\n"
		"  --format FORMAT      the input format (required)\n"
		"  --report TYPE        csv: the report type of every input\n"
		"                       (default: from the file name, else the header)\n"
		"  --watch, --follow    directories: keep watching for new files;\n"
		"                       redis: keep reading new entries\n"
		"  --state PATH         what was read already (directories: default\n"
		"                       DIR/.ceptor-feed.state with --watch; redis: the\n"
		"                       last id)\n"
		"  --start ID           redis: read after this id (default 0; $ = new)\n");
	cep_cli_usage(out, "feed");
}

/* A progress line for large files, only on a terminal. */
struct progress {
	int shown;
	uint64_t last_ms; /* cep_clock_mono_ms() of the line last shown */
};

static void progress(void *arg, const char *name, uint64_t done,
		     uint64_t total)
{
	struct progress *p = arg;
	uint64_t now;

	if (total < 8u << 20)
		return;
	if (done >= total) {
		if (p->shown)
			fprintf(stderr, "\r\033[K");
		p->shown = 0;
		return;
	}
	now = cep_clock_mono_ms();
	if (p->shown && now - p->last_ms < 250)
		return;
	p->last_ms = now;
	p->shown = 1;
	fprintf(stderr, "\rceptor-feed: %s %3u%% (%.1f of %.1f MB)\033[K", name,
		(unsigned)(done * 100 / total), done / 1e6, total / 1e6);
}

int main(int argc, char **argv)
{
	enum { O_FORMAT = 256, O_REPORT, O_WATCH, O_STATE, O_START };
	static const struct option opts[] = {
		CEP_CLI_OPTIONS,
		{ "format", required_argument, NULL, O_FORMAT },
		{ "report", required_argument, NULL, O_REPORT },
		{ "watch", no_argument, NULL, O_WATCH },
		{ "follow", no_argument, NULL, O_WATCH },
		{ "state", required_argument, NULL, O_STATE },
		{ "start", required_argument, NULL, O_START },
		{ NULL, 0, NULL, 0 },
	};
	struct cep_feed_opts fo = { .stop = &stop };
	struct progress prog = { 0 };
	struct cep_cli cli;
	int format = 0, c, rc;

	cep_cli_init(&cli, "ceptor-feed", "feed");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_FORMAT:
			format = cep_feed_format_parse(optarg);
			if (format < 0) {
				fprintf(stderr, "ceptor-feed: unknown format \"%s\" "
					"(jsonl, csv-shadowserver, iplist, report, "
					"redis)\n", optarg);
				return 2;
			}
			break;
		case O_REPORT:
			if (!cep_feed_csv_report_known(optarg)) {
				fprintf(stderr, "ceptor-feed: unknown report type "
					"\"%s\" (see FORMATS.md)\n", optarg);
				return 2;
			}
			fo.csv_report = optarg;
			break;
		case O_WATCH: fo.follow = 1; break;
		case O_STATE: fo.state_path = optarg; break;
		case O_START: fo.start_id = optarg; break;
		default:
			rc = cep_cli_option(&cli, c, optarg, usage);
			if (rc <= 0)
				return rc < 0 ? 2 : 0;
		}
	}
	if (format <= 0 || optind >= argc) {
		fprintf(stderr, "ceptor-feed: %s\n", format <= 0
			? "--format is required"
			: "no input (use - for standard input)");
		usage(stderr);
		return 2;
	}
	/* A watcher's events should show as they come, not when a stdio
	 * buffer fills. */
	if (fo.follow && cli.mode == CEP_CLI_DUMP)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (isatty(STDERR_FILENO)) {
		fo.progress = progress;
		fo.progress_arg = &prog;
	}
	fo.reports = format == CEP_FEED_REPORT ? cep_feed_reports_create() : NULL;
	if (format == CEP_FEED_REPORT && !fo.reports) {
		fprintf(stderr, "ceptor-feed: out of memory\n");
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cep_cli_open(&cli)) {
		cep_feed_reports_destroy(fo.reports);
		return 1;
	}

	struct cep_feed_stats st = { 0 };
	int failed = 0;
	cep_cli_counters(&cli, &st.read, NULL, &st.malformed);
	fo.tick = cep_cli_tick_fn;
	fo.tick_arg = &cli;
	for (int i = optind; i < argc && !stop; i++) {
		rc = cep_feed_read(format, argv[i], &fo, &cli.src, &cli.sink, &st,
				   stderr);
		/* Open failures and unusable files were named by the reader. */
		if (rc && rc != -ENOENT && rc != -EACCES && rc != -EISDIR &&
		    rc != -CEP_EMALFORMED && rc != -CEP_EREDIS && rc != -EINVAL)
			fprintf(stderr, "ceptor-feed: %s: %s\n", argv[i],
				cep_strerror(rc));
		failed += rc != 0;
	}
	cep_cli_close(&cli);
	cep_feed_reports_destroy(fo.reports);
	if (cli.mode == CEP_CLI_STATS)
		printf("{\"read\":%llu,\"decoded\":%llu,\"malformed\":%llu,"
		       "\"bytes\":%llu,\"files\":%llu,\"files_failed\":%llu,"
		       "\"cut\":%llu,\"skipped\":%llu}\n",
		       (unsigned long long)st.read, (unsigned long long)st.decoded,
		       (unsigned long long)st.malformed,
		       (unsigned long long)st.bytes, (unsigned long long)st.files,
		       (unsigned long long)st.files_failed,
		       (unsigned long long)st.cut, (unsigned long long)st.skipped);
	if (cli.mode == CEP_CLI_RING && cep_cli_dropped(&cli))
		fprintf(stderr, "ceptor-feed: %llu events dropped (ring full)\n",
			cep_cli_dropped(&cli));
	if (st.malformed)
		fprintf(stderr, "ceptor-feed: %llu malformed rows skipped\n",
			(unsigned long long)st.malformed);
	fflush(stdout);
	/* Non-zero only when nothing at all could be read. */
	return failed == argc - optind ? 1 : 0;
}
