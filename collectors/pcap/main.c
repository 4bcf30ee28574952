/*
 * ceptor-pcap - turn captured packets into events.
 *
 *   ceptor-pcap -r FILE [-r FILE...] [-f BPF] [--dump | --stats | --ring NAME]
 *   ceptor-pcap -i IFACE [-f BPF] [--dump | --stats | --ring NAME]
 *
 * Files (pcap or pcapng, "-" for standard input) are read in the order
 * given; a file that cannot be opened or that breaks part-way is reported
 * on stderr and the next one is read.  Live capture runs until SIGINT or
 * SIGTERM.  Events go to standard output as JSON Lines (--dump, the
 * default), are only counted (--stats: one JSON object with the counters at
 * the end), or go into a running ceptord's ring (--ring).
 *
 * Exit status: 0 when at least one packet was read, or when nothing failed
 * (an empty but valid capture is fine); 1 when no packet was read and an
 * input failed to open or broke (a valid file header followed by a corrupt
 * first record, for one: cep_pcap_read_failed()), or when the ring or
 * standard output failed; 2 on a usage error (unknown option, bad value,
 * bad filter).
 *
 * With --ring the collector attaches to the ring ceptord made and takes it
 * over with cep_ring_reopen(), so it may follow an earlier ceptor-pcap
 * that closed the same ring; it closes the ring when its input ends.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "ceptor/sink.h"
#include "collectors/pcap/pcap_reader.h"
#include "lib/log.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

#define MAX_FILES 256

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-pcap -r FILE [-r FILE...] [options]\n"
		"       ceptor-pcap -i IFACE [options]\n"
		"\n"
		"  -r FILE              read a pcap or pcapng file (repeatable; - for stdin)\n"
		"  -i IFACE             capture live from IFACE until SIGINT/SIGTERM\n"
		"  -f BPF               only packets matching the filter (tcpdump syntax)\n"
		"  --dump               print events as JSON Lines on stdout (default)\n"
		"  --stats              decode only; print counters as one JSON object\n"
		"  --ring NAME          feed a running ceptord through its ring\n"
		"  --source NAME        instance name stamped on events (default pcap)\n"
		"  --reliability A..F   default source reliability (default F)\n"
		"  --credibility 1..6   default information credibility (default 6)\n"
		"  --tlp MARK           default TLP (default AMBER)\n"
		"  --sector SECTOR      default sector (default unknown)\n"
		"  --overflow block|drop  when the ring is full (default: block for\n"
		"                       files, drop for live capture)\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n");
}

static void on_signal(int sig)
{
	(void)sig;
	cep_pcap_stop();
}

static void print_stats(const struct cep_pcap_stats *st)
{
	printf("{\"read\":%llu,\"decoded\":%llu,\"malformed\":%llu,"
	       "\"truncated\":%llu,\"fragments\":%llu,\"bytes\":%llu,"
	       "\"files\":%llu,\"files_failed\":%llu,\"errors\":%llu,"
	       "\"unsupported\":%llu}\n",
	       (unsigned long long)st->read, (unsigned long long)st->decoded,
	       (unsigned long long)st->malformed,
	       (unsigned long long)st->truncated,
	       (unsigned long long)st->fragments,
	       (unsigned long long)st->bytes, (unsigned long long)st->files,
	       (unsigned long long)st->files_failed,
	       (unsigned long long)st->errors,
	       (unsigned long long)st->unsupported);
}

int main(int argc, char **argv)
{
	enum { O_DUMP = 256, O_STATS, O_RING, O_SOURCE, O_REL, O_CRED, O_TLP,
	       O_SECTOR, O_OVERFLOW, O_VERSION };
	static const struct option opts[] = {
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
		[O_SOURCE - O_SOURCE] = "name",
		[O_REL - O_SOURCE] = "reliability",
		[O_CRED - O_SOURCE] = "credibility",
		[O_TLP - O_SOURCE] = "tlp",
		[O_SECTOR - O_SOURCE] = "sector",
		[O_OVERFLOW - O_SOURCE] = "overflow",
	};
	static char outbuf[1 << 16];
	const char *files[MAX_FILES];
	const char *iface = NULL, *bpf = NULL, *ring_name = NULL;
	int nfiles = 0, stats_only = 0, overflow_set = 0, c, rc, status = 0;
	struct cep_source src;
	struct cep_pcap_stats st;

	cep_log_init("ceptor-pcap", CEP_LOG_INFO);
	cep_source_init(&src, "pcap");
	while ((c = getopt_long(argc, argv, "hr:i:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nfiles == MAX_FILES) {
				fprintf(stderr, "ceptor-pcap: more than %d -r "
					"files\n", MAX_FILES);
				return 2;
			}
			files[nfiles++] = optarg;
			break;
		case 'i': iface = optarg; break;
		case 'f': bpf = optarg; break;
		case O_DUMP: stats_only = 0; break;
		case O_STATS: stats_only = 1; break;
		case O_RING: ring_name = optarg; break;
		case O_SOURCE: case O_REL: case O_CRED: case O_TLP:
		case O_SECTOR: case O_OVERFLOW:
			if (cep_source_set(&src, source_keys[c - O_SOURCE],
					   optarg)) {
				fprintf(stderr, "ceptor-pcap: bad --%s value "
					"\"%s\"\n", c == O_SOURCE ? "source"
					: source_keys[c - O_SOURCE], optarg);
				return 2;
			}
			overflow_set |= c == O_OVERFLOW;
			break;
		case 'h': usage(stdout); return 0;
		case O_VERSION:
			printf("ceptor-pcap %s (%s)\n", CEPTOR_VERSION,
			       pcap_lib_version());
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ceptor-pcap: unexpected argument \"%s\" "
			"(files are given with -r)\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((nfiles == 0) == (iface == NULL)) {
		fprintf(stderr, "ceptor-pcap: %s\n", nfiles ?
			"give either -r FILE or -i IFACE, not both" :
			"nothing to read: give -r FILE or -i IFACE");
		usage(stderr);
		return 2;
	}
	if (stats_only && ring_name) {
		fprintf(stderr, "ceptor-pcap: --stats and --ring exclude each "
			"other\n");
		return 2;
	}
	/* A live tap must never stall on a full ring (DESIGN.md 2.1). */
	if (iface && !overflow_set)
		src.overflow = CEP_OVERFLOW_DROP;

	struct cep_dump_sink dump = { .out = stdout };
	struct cep_count_sink count = { 0 };
	struct cep_ring_sink rs = { .overflow = src.overflow };
	struct cep_sink sink = { cep_dump_sink_fn, &dump };
	if (stats_only) {
		sink = (struct cep_sink){ cep_count_sink_fn, &count };
	} else if (ring_name) {
		/* Attach, then take the ring over from a producer that may
		 * have closed it (an earlier ceptor-pcap). */
		rc = cep_ring_attach(ring_name, &rs.ring);
		if (rc == 0)
			rc = cep_ring_reopen(rs.ring);
		if (rc) {
			fprintf(stderr, "ceptor-pcap: cannot attach ring %s: "
				"%s\n", ring_name, *cep_ring_last_error()
				? cep_ring_last_error() : cep_strerror(rc));
			cep_ring_destroy(rs.ring);
			return 1;
		}
		sink = (struct cep_sink){ cep_ring_sink_fn, &rs };
	} else {
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	memset(&st, 0, sizeof st);
	if (iface) {
		rc = cep_pcap_read_live(iface, bpf, &src, &sink, &st);
		if (rc == -EINVAL)
			status = 2;
		else if (rc < 0)
			status = 1;
	} else {
		for (int i = 0; i < nfiles; i++) {
			uint64_t failed_before = st.files_failed;

			rc = cep_pcap_read_file(files[i], bpf, &src, &sink,
						&st);
			if (rc == -EINVAL) { /* the filter: a usage error */
				status = 2;
				break;
			}
			if (rc < 0 && st.files_failed == failed_before) {
				/* Not an open failure: the sink broke. */
				fprintf(stderr, "ceptor-pcap: output failed: "
					"%s\n", cep_strerror(rc));
				status = 1;
				break;
			}
		}
		if (status == 0 && cep_pcap_read_failed(&st))
			status = 1;
	}
	if (rs.ring) {
		cep_ring_close(rs.ring);
		cep_ring_destroy(rs.ring);
	}
	if (stats_only)
		print_stats(&st);
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "ceptor-pcap: writing standard output: %s\n",
			strerror(errno));
		status = 1;
	}
	if (st.malformed || st.errors || st.refused)
		fprintf(stderr, "ceptor-pcap: %llu packets read, %llu "
			"malformed, %llu damaged files, %llu events refused\n",
			(unsigned long long)st.read,
			(unsigned long long)st.malformed,
			(unsigned long long)st.errors,
			(unsigned long long)st.refused);
	return status;
}
