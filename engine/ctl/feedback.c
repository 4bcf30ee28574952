/*
 * feedback.c - `ceptorctl feedback [-c CONFIG | --spool DIR] INCIDENT-ID
 * confirmed|false-positive`: an analyst's verdict on an incident.
 *
 * The verdict is appended as one JSON line,
 *   {"id":"P2-2026-000001","verdict":"confirmed","at":"2026-...Z"}
 * to SPOOL/feedback.jsonl (O_APPEND, one write per line, so concurrent
 * analysts never interleave); nothing is signalled.  ceptord reads new
 * lines on its status tick (about once a second, engine/loop.c): each
 * upstream that supported the incident moves one Admiralty reliability
 * grade better (confirmed) or worse (false positive), kept in
 * SPOOL/reliability.json, and a false positive closes the incident.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/file.h"

#define FEEDBACK_FILE "feedback.jsonl"

static int fb_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "ceptorctl: feedback: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: ceptorctl feedback [-c CONFIG | --spool DIR] "
			"INCIDENT-ID confirmed|false-positive\n");
	return 2;
}

int cep_ctl_id_valid(const char *id)
{
	/* P<1-5>-<YYYY>-<NNNNNN...>, as incident.c numbers them. */
	if (id[0] != 'P' || id[1] < '1' || id[1] > '5' || id[2] != '-')
		return 0;
	const char *p = id + 3;
	for (int i = 0; i < 4; i++, p++)
		if (*p < '0' || *p > '9')
			return 0;
	if (*p++ != '-')
		return 0;
	size_t n = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		n++;
	return *p == '\0' && n >= 6 && n <= 10;
}

int cep_ctl_feedback(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *spool = NULL;
	char dir[4096], path[4200], line[256], at[32];
	struct stat st;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 's': spool = optarg; break;
		case 'h':
			printf("usage: ceptorctl feedback [-c CONFIG | --spool DIR] "
			       "INCIDENT-ID confirmed|false-positive\n");
			return 0;
		default: return fb_usage("%s", "bad option");
		}
	}
	if (argc - optind != 2)
		return fb_usage("%s", "wants INCIDENT-ID and a verdict");
	if (config && spool)
		return fb_usage("%s", "give -c CONFIG or --spool DIR, not both");
	const char *id = argv[optind], *verdict = argv[optind + 1];
	if (strcmp(verdict, "confirmed") && strcmp(verdict, "false-positive"))
		return fb_usage("verdict '%s': confirmed or false-positive",
				verdict);
	if (!cep_ctl_id_valid(id)) {
		fprintf(stderr, "ceptorctl: feedback: '%s' is no incident id "
				"(P2-2026-000001)\n", id);
		return 1;
	}

	if (spool) {
		snprintf(dir, sizeof dir, "%s", spool);
	} else {
		struct cep_config cfg;

		cep_config_init(&cfg);
		if (config && cep_config_load(&cfg, config, stderr)) {
			cep_config_fini(&cfg);
			return 1;
		}
		if (cfg.spool_dir)
			snprintf(dir, sizeof dir, "%s", cfg.spool_dir);
		else
			cep_file_default_spool(dir, sizeof dir);
		cep_config_fini(&cfg);
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ceptorctl: feedback: no spool directory %s "
				"(is this ceptord's --spool?)\n", dir);
		return 1;
	}

	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	int n = snprintf(line, sizeof line,
			 "{\"id\":\"%s\",\"verdict\":\"%s\",\"at\":\"%s\"}\n",
			 id, verdict, at);
	snprintf(path, sizeof path, "%s/" FEEDBACK_FILE, dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "ceptorctl: feedback: cannot open %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	ssize_t w = write(fd, line, (size_t)n);
	int err = errno;
	if (close(fd) && w == n) {
		w = -1;
		err = errno;
	}
	if (w != n) {
		fprintf(stderr, "ceptorctl: feedback: cannot write %s: %s\n", path,
			w < 0 ? strerror(err) : "short write");
		return 1;
	}
	printf("recorded: %s %s at %s in %s\n", id, verdict, at, path);
	printf("ceptord applies it within a few seconds: the upstreams that "
	       "supported %s move one reliability grade %s%s\n", id,
	       strcmp(verdict, "confirmed") ? "worse" : "better",
	       strcmp(verdict, "confirmed") ? ", and the incident is closed"
					    : "");
	return 0;
}
