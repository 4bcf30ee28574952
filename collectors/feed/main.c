/*
 * ceptor-feed - read observation feeds and reports into events.
 *
 *   ceptor-feed --format jsonl FILE... [--dump | --stats | --ring NAME]
 *
 * "-" reads standard input.  Without --ring the events go to standard
 * output as JSON Lines (--dump, the default) or are only counted (--stats:
 * one JSON object with the counters at the end).  With --ring they go into
 * the ring ceptord made: the collector attaches, takes the ring over with
 * cep_ring_reopen() (an earlier ceptor-feed may have closed it), and
 * closes it when its input ends; --overflow says what happens when the
 * ring is full (block, the default: wait for ceptord; drop: count and go
 * on).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "ceptor/sink.h"
#include "collectors/feed/feed.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-feed --format FORMAT [options] FILE... (- for stdin)\n"
		"\n"
		"  --format jsonl       JSON Lines events (the --dump format); more\n"
		"                       formats arrive with the feed collector\n"
		"  --dump               print events as JSON Lines (default)\n"
		"  --stats              decode only; print counters as JSON at the end\n"
		"  --ring NAME          feed a running ceptord through its ring\n"
		"  --source NAME        instance name stamped on events (default feed)\n"
		"  --reliability A..F   default source reliability (default F)\n"
		"  --credibility 1..6   default information credibility (default 6)\n"
		"  --tlp MARK           default TLP (default AMBER)\n"
		"  --sector SECTOR      default sector (default unknown)\n"
		"  --overflow block|drop  when the ring is full (default block)\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n");
}

int main(int argc, char **argv)
{
	enum { O_FORMAT = 256, O_DUMP, O_STATS, O_RING, O_SOURCE, O_REL, O_CRED,
	       O_TLP, O_SECTOR, O_OVERFLOW, O_VERSION };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "dump", no_argument, NULL, O_DUMP },
		{ "stats", no_argument, NULL, O_STATS },
		{ "ring", required_argument, NULL, O_RING },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "reliability", required_argument, NULL, O_REL },
		{ "credibility", required_argument, NULL, O_CRED },
		{ "tlp", required_argument, NULL, O_TLP },
		{ "sector", required_argument, NULL, O_SECTOR },
		{ "overflow", required_argument, NULL, O_OVERFLOW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const source_keys[] = {
		[O_SOURCE - O_SOURCE] = "name", [O_REL - O_SOURCE] = "reliability",
		[O_CRED - O_SOURCE] = "credibility", [O_TLP - O_SOURCE] = "tlp",
		[O_SECTOR - O_SOURCE] = "sector",
		[O_OVERFLOW - O_SOURCE] = "overflow",
	};
	const char *format = NULL, *ring_name = NULL;
	int stats_only = 0, c;
	struct cep_source src;

	cep_source_init(&src, "feed");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_FORMAT: format = optarg; break;
		case O_DUMP: stats_only = 0; break;
		case O_STATS: stats_only = 1; break;
		case O_RING: ring_name = optarg; break;
		case O_SOURCE: case O_REL: case O_CRED: case O_TLP: case O_SECTOR:
		case O_OVERFLOW:
			if (cep_source_set(&src, source_keys[c - O_SOURCE], optarg)) {
				fprintf(stderr, "ceptor-feed: bad --%s value \"%s\"\n",
					c == O_SOURCE ? "source"
					: source_keys[c - O_SOURCE], optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case O_VERSION: printf("ceptor-feed %s\n", CEPTOR_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!format || optind >= argc) {
		fprintf(stderr, "ceptor-feed: %s\n",
			!format ? "--format is required" : "no input file (use - for stdin)");
		usage(stderr);
		return 2;
	}
	if (strcmp(format, "jsonl") != 0) {
		fprintf(stderr, "ceptor-feed: format \"%s\" is not supported yet; "
			"this build reads jsonl\n", format);
		return 2;
	}

	struct cep_dump_sink dump = { .out = stdout };
	struct cep_count_sink count = { 0 };
	struct cep_ring_sink rs = { .overflow = src.overflow };
	struct cep_sink sink = { cep_dump_sink_fn, &dump };
	if (stats_only) {
		sink = (struct cep_sink){ cep_count_sink_fn, &count };
	} else if (ring_name) {
		/* Attach, then take the ring over from a producer that may
		 * have closed it (an earlier ceptor-feed). */
		int rc = cep_ring_attach(ring_name, &rs.ring);
		if (rc == 0)
			rc = cep_ring_reopen(rs.ring);
		if (rc) {
			fprintf(stderr, "ceptor-feed: cannot attach ring %s: %s\n",
				ring_name, *cep_ring_last_error()
				? cep_ring_last_error() : cep_strerror(rc));
			cep_ring_destroy(rs.ring);
			return 1;
		}
		sink = (struct cep_sink){ cep_ring_sink_fn, &rs };
	}

	struct cep_feed_stats st = { 0 };
	int failed = 0;
	for (int i = optind; i < argc; i++) {
		int rc = cep_feed_read_jsonl(argv[i], &src, &sink, &st, stderr);
		if (rc && rc != -ENOENT && rc != -EACCES && rc != -EISDIR)
			fprintf(stderr, "ceptor-feed: %s: %s\n", argv[i], cep_strerror(rc));
		failed += rc != 0;
	}
	if (rs.ring) {
		cep_ring_close(rs.ring);
		cep_ring_destroy(rs.ring);
	}
	fflush(stdout);
	if (stats_only)
		printf("{\"read\":%llu,\"decoded\":%llu,\"malformed\":%llu,\"bytes\":%llu,"
		       "\"files\":%llu,\"files_failed\":%llu}\n",
		       (unsigned long long)st.read, (unsigned long long)st.decoded,
		       (unsigned long long)st.malformed, (unsigned long long)st.bytes,
		       (unsigned long long)st.files, (unsigned long long)st.files_failed);
	if (st.malformed)
		fprintf(stderr, "ceptor-feed: %llu malformed rows skipped\n",
			(unsigned long long)st.malformed);
	/* Non-zero only when nothing at all could be read. */
	return failed == argc - optind ? 1 : 0;
}
