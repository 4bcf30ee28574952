/*
 * ceptor-flow - turn NetFlow v5/v9 and IPFIX export packets into events.
 *
 *   ceptor-flow --listen ADDR:PORT [--dump | --stats | --ring NAME] ...
 *   ceptor-flow -r FILE [-r FILE...] [--dump | --stats | --ring NAME] ...
 *
 * --listen receives export packets on UDP (IPv4 "ADDR:PORT" or ":PORT",
 * IPv6 "[ADDR]:PORT") until SIGINT or SIGTERM; -r decodes captures (pcap
 * or pcapng) of export traffic offline, each file with its own template
 * cache.  Events go to standard output as JSON Lines (--dump, the
 * default), are only counted (--stats: one JSON object of counters at the
 * end, "read" counting flow records), or go into a running ceptord's ring
 * (--ring; overflow policy drop for --listen unless --overflow says).
 *
 * Exit status: 0 when the inputs were read (damaged packets are reported
 * on stderr and counted); 1 when no capture could be opened, the socket
 * could not be bound, or the output failed; 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/cli.h"
#include "ceptor/error.h"
#include "collectors/flow/flow.h"
#include "lib/log.h"

#define MAX_FILES 256

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ceptor-flow --listen ADDR:PORT [options]\n"
		"       ceptor-flow -r FILE [-r FILE...] [options]\n"
		"\n"
		"  -l, --listen ADDR:PORT  receive NetFlow v5/v9/IPFIX on UDP\n"
		"                       (\":2055\", \"127.0.0.1:2055\", \"[::1]:4739\")\n"
		"  -r FILE              decode a pcap/pcapng of export packets\n"
		"                       (repeatable; - for stdin)\n");
	cep_cli_usage(out, "flow");
}

static void on_signal(int sig)
{
	(void)sig;
	cep_flow_stop();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CEP_CLI_OPTIONS,
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static char outbuf[1 << 16];
	const char *files[MAX_FILES];
	const char *listen_addr = NULL;
	struct cep_flow_stats st;
	struct cep_cli cli;
	int nfiles = 0, c, rc, status = 0;

	cep_log_init("ceptor-flow", CEP_LOG_INFO);
	cep_cli_init(&cli, "ceptor-flow", "flow");
	while ((c = getopt_long(argc, argv, "hr:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nfiles == MAX_FILES) {
				fprintf(stderr, "ceptor-flow: more than %d -r "
					"files\n", MAX_FILES);
				return 2;
			}
			files[nfiles++] = optarg;
			break;
		case 'l':
			listen_addr = optarg;
			break;
		default:
			rc = cep_cli_option(&cli, c, optarg, usage);
			if (rc <= 0)
				return rc < 0 ? 2 : 0;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ceptor-flow: unexpected argument \"%s\" "
			"(files are given with -r)\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((nfiles == 0) == (listen_addr == NULL)) {
		fprintf(stderr, "ceptor-flow: %s\n", nfiles ?
			"give either -r FILE or --listen ADDR:PORT, not both" :
			"nothing to read: give -r FILE or --listen ADDR:PORT");
		usage(stderr);
		return 2;
	}
	if (listen_addr) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (cep_flow_parse_addr(listen_addr, &ss, &sl) < 0) {
			fprintf(stderr, "ceptor-flow: bad --listen \"%s\": "
				"give ADDR:PORT, [V6ADDR]:PORT or :PORT\n",
				listen_addr);
			return 2;
		}
		/* UDP export must never stall on a full ring (DESIGN 2.1). */
		if (!cli.overflow_set)
			cli.src.overflow = CEP_OVERFLOW_DROP;
	}
	if (cep_cli_open(&cli))
		return 1;
	if (cli.mode == CEP_CLI_DUMP)
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&st, 0, sizeof st);
	cep_cli_counters(&cli, &st.read, &st.socket_drops, &st.malformed);
	if (listen_addr) {
		rc = cep_flow_listen_tick(listen_addr, &cli.src, &cli.sink, &st,
					  NULL, NULL, cep_cli_tick_fn, &cli);
		if (rc < 0) {
			if (st.files)
				fprintf(stderr, "ceptor-flow: output failed: "
					"%s\n", cep_strerror(rc));
			status = 1;
		}
	} else {
		for (int i = 0; i < nfiles; i++) {
			uint64_t failed_before = st.files_failed;

			rc = cep_flow_read_pcap(files[i], &cli.src, &cli.sink,
						&st, NULL);
			if (rc < 0 && st.files_failed == failed_before) {
				fprintf(stderr, "ceptor-flow: output failed: "
					"%s\n", cep_strerror(rc));
				status = 1;
				break;
			}
		}
		if (status == 0 && st.files == 0)
			status = 1;
	}
	cep_cli_close(&cli);
	if (cli.mode == CEP_CLI_STATS) {
		char buf[1024];

		if (cep_flow_stats_json(&st, buf, sizeof buf) > 0)
			printf("%s\n", buf);
	}
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "ceptor-flow: writing standard output: %s\n",
			strerror(errno));
		status = 1;
	}
	if (st.malformed || st.errors || st.refused || cep_cli_dropped(&cli))
		fprintf(stderr, "ceptor-flow: %llu flow records read, %llu "
			"damaged, %llu damaged files, %llu events refused, "
			"%llu dropped at the ring\n",
			(unsigned long long)st.read,
			(unsigned long long)st.malformed,
			(unsigned long long)st.errors,
			(unsigned long long)st.refused, cep_cli_dropped(&cli));
	return status;
}
