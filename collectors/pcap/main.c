/*
 * ceptor-pcap - turn captured packets into events.
 *
 *   ceptor-pcap -r FILE [-r FILE...] [-f BPF] [--dump | --stats | --ring NAME]
 *   ceptor-pcap -i IFACE [-f BPF] [capture options] [--dump | --stats | --ring NAME]
 *
 * Files (pcap or pcapng, "-" for standard input) are read in the order
 * given; a file that cannot be opened or that breaks part-way is reported
 * on stderr and the next one is read.  Live capture runs until SIGINT or
 * SIGTERM.  Events go to standard output as JSON Lines (--dump, the
 * default), are only counted (--stats: one JSON object with the counters at
 * the end), or go into a running ceptord's ring (--ring).  The common
 * options (--dump, --stats, --ring, --source, ...) are those of every
 * collector (ceptor/cli.h).
 *
 * Live capture: the interface is opened (TPACKET_V3 unless --immediate),
 * the filter set, and then, when running as root, the process becomes
 * --user (default ceptor, else nobody) and keeps no capability
 * (privdrop.h); --no-drop keeps root.  The ring is attached before, so its
 * shared memory needs no privilege afterwards.  Once a second and at the
 * end the capture's counters (libpcap's ps_recv, ps_drop, ps_ifdrop and
 * the malformed count) go to the ring (cep_ring_producer_report()), where
 * ceptord and `ceptorctl status` show them.  At the end one summary line
 * goes to stderr: packets read, kernel and interface drops, ring drops.
 *
 * Exit status: 0 when at least one packet was read, or when nothing failed
 * (an empty but valid capture is fine; a live capture stopped by a signal);
 * 1 when no packet was read and an input failed to open or broke (a valid
 * file header followed by a corrupt first record, for one:
 * cep_pcap_read_failed()), when the capture could not start or the
 * privileges could not be dropped, or when the ring or standard output
 * failed; 2 on a usage error (unknown option, bad value, bad filter).
 *
 * With --ring the collector attaches to the ring ceptord made and takes it
 * over with cep_ring_reopen(), so it may follow an earlier ceptor-pcap
 * that closed the same ring; it closes the ring when its input ends.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/cli.h"
#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "collectors/pcap/pcap_reader.h"
#include "collectors/pcap/privdrop.h"
#include "lib/log.h"

#define MAX_FILES 256

enum {
	O_SNAPLEN = 0x100,
	O_NO_PROMISC,
	O_BUFFER_SIZE,
	O_IMMEDIATE,
	O_TIMEOUT,
	O_USER,
	O_NO_DROP,
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-pcap -r FILE [-r FILE...] [options]\n"
		"       ceptor-pcap -i IFACE [capture options] [options]\n"
		"\n"
		"  -r FILE              read a pcap or pcapng file (repeatable; - for stdin)\n"
		"  -i IFACE             capture live from IFACE until SIGINT/SIGTERM\n"
		"  -f BPF               only packets matching the filter (tcpdump syntax)\n"
		"capture options (-i):\n"
		"  --snaplen N          bytes kept per packet (default %d)\n"
		"  --no-promisc         do not put the interface in promiscuous mode\n"
		"  --buffer-size BYTES  kernel capture buffer, K/M/G suffixes allowed\n"
		"                       (default %d MiB)\n"
		"  --immediate          hand over each packet at once (TPACKET_V2;\n"
		"                       default: TPACKET_V3 blocks, for throughput)\n"
		"  --timeout MS         longest wait before a partly filled block is\n"
		"                       handed over (default %d)\n"
		"  --user NAME          user to become after opening the interface when\n"
		"                       running as root (default %s, else %s)\n"
		"  --no-drop            keep root's privileges\n"
		"common options:\n",
		CEP_PCAP_SNAPLEN_DEFAULT, CEP_PCAP_BUFFER_DEFAULT >> 20,
		CEP_PCAP_TIMEOUT_DEFAULT, CEP_PRIV_USER, CEP_PRIV_USER_FALLBACK);
	cep_cli_usage(out, "pcap");
	fprintf(out,
		"  (--overflow defaults to block for files, drop for live capture)\n");
}

static void on_signal(int sig)
{
	(void)sig;
	cep_pcap_stop();
}

/* A positive int with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, int allow_suffix, int *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (allow_suffix && *end) {
		unsigned shift = *end == 'K' || *end == 'k' ? 10
				 : *end == 'M' || *end == 'm' ? 20
				 : *end == 'G' || *end == 'g' ? 30 : 0;

		if (!shift || end[1])
			return -1;
		if (v > (unsigned long long)INT_MAX >> shift)
			return -1;
		v <<= shift;
		end++;
	}
	if (*end || v == 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static void print_stats(const struct cep_pcap_stats *st,
			unsigned long long ring_drops, int live)
{
	printf("{\"read\":%llu,\"decoded\":%llu,\"malformed\":%llu,"
	       "\"truncated\":%llu,\"fragments\":%llu,\"bytes\":%llu,"
	       "\"files\":%llu,\"files_failed\":%llu,\"errors\":%llu,"
	       "\"unsupported\":%llu,\"fcs_stripped\":%llu,"
	       "\"refused\":%llu,\"ring_drops\":%llu",
	       (unsigned long long)st->read, (unsigned long long)st->decoded,
	       (unsigned long long)st->malformed,
	       (unsigned long long)st->truncated,
	       (unsigned long long)st->fragments,
	       (unsigned long long)st->bytes, (unsigned long long)st->files,
	       (unsigned long long)st->files_failed,
	       (unsigned long long)st->errors,
	       (unsigned long long)st->unsupported,
	       (unsigned long long)st->fcs_stripped,
	       (unsigned long long)st->refused, ring_drops);
	if (live)
		printf(",\"captured\":%llu,\"kernel_drops\":%llu,"
		       "\"if_drops\":%llu",
		       (unsigned long long)st->captured,
		       (unsigned long long)st->kernel_drops,
		       (unsigned long long)st->if_drops);
	printf("}\n");
}

/*
 * Live --dump: flush each batch, so that a reader of the output (a person,
 * a pipe, a test) sees events within the batch time-out instead of once
 * 64 KiB have gathered.  One write(2) per batch, not per event.
 */
static int dump_flush_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	int rc = cep_dump_sink_fn(arg, ev, n);

	if (rc >= 0 && fflush(stdout) != 0)
		return -EIO;
	return rc;
}

/* What the live callbacks need. */
struct live_ctx {
	struct cep_cli *cli;
	const char *user;
	int no_drop;
};

static void report_counters(struct cep_ring *ring,
			    const struct cep_pcap_stats *st)
{
	struct cep_ring_producer_counters c = {
		.captured = st->captured ? st->captured : st->read,
		.kernel_drops = st->kernel_drops,
		.if_drops = st->if_drops,
		.malformed = st->malformed,
	};

	if (ring)
		cep_ring_producer_report(ring, &c);
}

static void live_report(void *arg, const struct cep_pcap_stats *st)
{
	struct live_ctx *ctx = arg;

	report_counters(ctx->cli->ring.ring, st);
}

static int live_opened(void *arg)
{
	struct live_ctx *ctx = arg;
	char err[256];
	int rc;

	if (ctx->no_drop)
		return 0;
	rc = cep_priv_drop(ctx->user, err, sizeof err);
	if (rc < 0) {
		cep_error("cannot drop privileges: %s", err);
		return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CEP_CLI_OPTIONS,
		{ "snaplen", required_argument, NULL, O_SNAPLEN },
		{ "no-promisc", no_argument, NULL, O_NO_PROMISC },
		{ "buffer-size", required_argument, NULL, O_BUFFER_SIZE },
		{ "immediate", no_argument, NULL, O_IMMEDIATE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "user", required_argument, NULL, O_USER },
		{ "no-drop", no_argument, NULL, O_NO_DROP },
		{ NULL, 0, NULL, 0 },
	};
	static char outbuf[1 << 16];
	const char *files[MAX_FILES];
	const char *iface = NULL, *bpf = NULL;
	int nfiles = 0, c, rc, status = 0;
	struct cep_cli cli;
	struct cep_pcap_live lv;
	struct live_ctx ctx = { .cli = &cli };
	struct cep_pcap_stats st;

	cep_log_init("ceptor-pcap", CEP_LOG_INFO);
	cep_cli_init(&cli, "ceptor-pcap", "pcap");
	cep_pcap_live_init(&lv, NULL);
	while ((c = getopt_long(argc, argv, "hr:i:f:", opts, NULL)) != -1) {
		const char *bad = NULL;

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
		case O_SNAPLEN:
			if (parse_size(optarg, 0, &lv.snaplen))
				bad = "snaplen";
			break;
		case O_NO_PROMISC: lv.promisc = 0; break;
		case O_BUFFER_SIZE:
			if (parse_size(optarg, 1, &lv.buffer_size))
				bad = "buffer-size";
			break;
		case O_IMMEDIATE: lv.immediate = 1; break;
		case O_TIMEOUT:
			if (parse_size(optarg, 0, &lv.timeout_ms))
				bad = "timeout";
			break;
		case O_USER: ctx.user = optarg; break;
		case O_NO_DROP: ctx.no_drop = 1; break;
		default:
			rc = cep_cli_option(&cli, c, optarg, usage);
			if (rc <= 0)
				return rc < 0 ? 2 : 0;
		}
		if (bad) {
			fprintf(stderr, "ceptor-pcap: bad --%s value \"%s\"\n",
				bad, optarg);
			return 2;
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
	/* A live tap must never stall on a full ring (DESIGN.md 2.1). */
	if (iface && !cli.overflow_set)
		cli.src.overflow = CEP_OVERFLOW_DROP;
	cli.self_report = 1; /* libpcap's counters, by report_counters() */
	if (cep_cli_open(&cli))
		return 1;
	if (cli.mode == CEP_CLI_DUMP)
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: a wait ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	memset(&st, 0, sizeof st);
	if (iface) {
		lv.iface = iface;
		lv.bpf = bpf;
		lv.opened = live_opened;
		lv.report = live_report;
		lv.arg = &ctx;
		/* The dump sink itself, under an --exercise / --retime
		 * wrapper when there is one. */
		if (cli.mode == CEP_CLI_DUMP)
			(cli.inner.fn ? &cli.inner : &cli.sink)->fn =
				dump_flush_fn;
		rc = cep_pcap_read_live(&lv, &cli.src, &cli.sink, &st);
		if (rc == -EINVAL)
			status = 2;
		else if (rc < 0)
			status = 1;
	} else {
		for (int i = 0; i < nfiles; i++) {
			uint64_t failed_before = st.files_failed;

			rc = cep_pcap_read_file(files[i], bpf, &cli.src,
						&cli.sink, &st);
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
		report_counters(cli.ring.ring, &st);
	}
	if (cli.mode == CEP_CLI_STATS)
		print_stats(&st, cep_cli_dropped(&cli), iface != NULL);
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "ceptor-pcap: writing standard output: %s\n",
			strerror(errno));
		status = 1;
	}
	cep_cli_close(&cli);
	if (iface)
		cep_info("%s: %llu packets read, %llu decoded, %llu malformed; "
			 "dropped: %llu by the kernel, %llu by the interface, "
			 "%llu by the ring", iface,
			 (unsigned long long)st.read,
			 (unsigned long long)st.decoded,
			 (unsigned long long)st.malformed,
			 (unsigned long long)st.kernel_drops,
			 (unsigned long long)st.if_drops,
			 cep_cli_dropped(&cli));
	else if (st.malformed || st.errors || st.refused)
		fprintf(stderr, "ceptor-pcap: %llu packets read, %llu "
			"malformed, %llu damaged files, %llu events refused\n",
			(unsigned long long)st.read,
			(unsigned long long)st.malformed,
			(unsigned long long)st.errors,
			(unsigned long long)st.refused);
	return status;
}
