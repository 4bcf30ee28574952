/*
 * cli.c - the collector binaries' shared command line (cli.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ceptor/cli.h"
#include "ceptor/error.h"
#include "ceptor/ring.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

void cep_cli_init(struct cep_cli *cli, const char *prog,
		  const char *source_name)
{
	memset(cli, 0, sizeof(*cli));
	cli->prog = prog;
	cep_source_init(&cli->src, source_name);
	cli->mode = CEP_CLI_DUMP;
}

int cep_cli_option(struct cep_cli *cli, int opt, const char *arg,
		   void (*usage)(FILE *out))
{
	static const char *const keys[] = {
		[CEP_CLI_O_SOURCE - CEP_CLI_O_SOURCE] = "name",
		[CEP_CLI_O_REL - CEP_CLI_O_SOURCE] = "reliability",
		[CEP_CLI_O_CRED - CEP_CLI_O_SOURCE] = "credibility",
		[CEP_CLI_O_TLP - CEP_CLI_O_SOURCE] = "tlp",
		[CEP_CLI_O_SECTOR - CEP_CLI_O_SOURCE] = "sector",
		[CEP_CLI_O_OVERFLOW - CEP_CLI_O_SOURCE] = "overflow",
	};

	switch (opt) {
	case CEP_CLI_O_DUMP:
		cli->mode = CEP_CLI_DUMP;
		return 1;
	case CEP_CLI_O_STATS:
		cli->mode = CEP_CLI_STATS;
		return 1;
	case CEP_CLI_O_RING:
		cli->mode = CEP_CLI_RING;
		cli->ring_name = arg;
		return 1;
	case CEP_CLI_O_SOURCE: case CEP_CLI_O_REL: case CEP_CLI_O_CRED:
	case CEP_CLI_O_TLP: case CEP_CLI_O_SECTOR: case CEP_CLI_O_OVERFLOW: {
		const char *key = keys[opt - CEP_CLI_O_SOURCE];

		if (cep_source_set(&cli->src, key, arg)) {
			fprintf(stderr, "%s: bad --%s value \"%s\"\n", cli->prog,
				opt == CEP_CLI_O_SOURCE ? "source" : key, arg);
			return -1;
		}
		if (opt == CEP_CLI_O_OVERFLOW)
			cli->overflow_set = 1;
		return 1;
	}
	case CEP_CLI_O_VERSION:
		printf("%s %s\n", cli->prog, CEPTOR_VERSION);
		return 0;
	case CEP_CLI_O_HELP:
	case 'h':
		if (usage)
			usage(stdout);
		return 0;
	default:
		if (usage)
			usage(stderr);
		return -1;
	}
}

void cep_cli_usage(FILE *out, const char *source_name)
{
	fprintf(out,
		"  --dump               print events as JSON Lines on stdout (default)\n"
		"  --stats              decode only; print counters as one JSON object\n"
		"  --ring NAME          feed a running ceptord through its ring\n"
		"  --source NAME        instance name stamped on events (default %s)\n"
		"  --reliability A..F   default source reliability (default F)\n"
		"  --credibility 1..6   default information credibility (default 6)\n"
		"  --tlp MARK           default TLP: CLEAR GREEN AMBER AMBER+STRICT RED\n"
		"                       (default AMBER)\n"
		"  --sector SECTOR      default sector (default unknown)\n"
		"  --overflow block|drop  when the ring is full\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n",
		source_name);
}

int cep_cli_open(struct cep_cli *cli)
{
	cli->dump.out = stdout;
	cli->ring.overflow = cli->src.overflow;
	switch (cli->mode) {
	case CEP_CLI_STATS:
		cli->sink = (struct cep_sink){ cep_count_sink_fn, &cli->count };
		return 0;
	case CEP_CLI_RING: {
		int rc = cep_ring_attach(cli->ring_name, &cli->ring.ring);

		if (rc == 0)
			rc = cep_ring_reopen(cli->ring.ring);
		if (rc) {
			fprintf(stderr, "%s: cannot attach ring %s: %s\n",
				cli->prog, cli->ring_name,
				*cep_ring_last_error() ? cep_ring_last_error()
						       : cep_strerror(rc));
			cep_ring_destroy(cli->ring.ring);
			cli->ring.ring = NULL;
			return -1;
		}
		cli->sink = (struct cep_sink){ cep_ring_sink_fn, &cli->ring };
		return 0;
	}
	default:
		cli->sink = (struct cep_sink){ cep_dump_sink_fn, &cli->dump };
		return 0;
	}
}

void cep_cli_close(struct cep_cli *cli)
{
	fflush(stdout);
	if (cli->ring.ring) {
		cep_ring_close(cli->ring.ring);
		cep_ring_destroy(cli->ring.ring);
		cli->ring.ring = NULL;
	}
}

unsigned long long cep_cli_dropped(const struct cep_cli *cli)
{
	return (unsigned long long)cli->ring.dropped;
}
