/*
 * cli.h - what every collector binary's command line shares: the source
 * options, the choice of sink (--dump, --stats, --ring NAME) and its set-up
 * and tear-down.
 *
 *   static const struct option opts[] = {
 *           CEP_CLI_OPTIONS,
 *           { "listen", required_argument, NULL, 'l' },   // the binary's own
 *           { NULL, 0, NULL, 0 },
 *   };
 *   struct cep_cli cli;
 *   cep_cli_init(&cli, "ceptor-flow", "flow");
 *   while ((c = getopt_long(argc, argv, "hl:", opts, NULL)) != -1) {
 *           switch (c) {
 *           case 'l': ...; break;
 *           default:
 *                   rc = cep_cli_option(&cli, c, optarg, usage);
 *                   if (rc <= 0)
 *                           return rc < 0 ? 2 : 0; // bad value / help shown
 *           }
 *   }
 *   if (cep_cli_open(&cli))           // attaches the ring when --ring
 *           return 1;
 *   ... read inputs into &cli.sink ...
 *   cep_cli_close(&cli);
 *
 * The common options are listed by cep_cli_usage() for the binary's help
 * text.  Their getopt codes start at CEP_CLI_OPT_BASE, clear of any short
 * option letter.
 *
 * Thread safety: one struct cep_cli per process, used by one thread.
 */
#ifndef CEPTOR_CLI_H
#define CEPTOR_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "ceptor/collector.h"
#include "ceptor/sink.h"

enum {
	CEP_CLI_OPT_BASE = 0x1000,
	CEP_CLI_O_DUMP = CEP_CLI_OPT_BASE,
	CEP_CLI_O_STATS,
	CEP_CLI_O_RING,
	CEP_CLI_O_SOURCE,
	CEP_CLI_O_REL,
	CEP_CLI_O_CRED,
	CEP_CLI_O_TLP,
	CEP_CLI_O_SECTOR,
	CEP_CLI_O_OVERFLOW,
	CEP_CLI_O_VERSION,
	CEP_CLI_O_HELP,
};

#define CEP_CLI_OPTIONS                                                      \
	{ "dump", no_argument, NULL, CEP_CLI_O_DUMP },                       \
	{ "stats", no_argument, NULL, CEP_CLI_O_STATS },                     \
	{ "ring", required_argument, NULL, CEP_CLI_O_RING },                 \
	{ "source", required_argument, NULL, CEP_CLI_O_SOURCE },             \
	{ "reliability", required_argument, NULL, CEP_CLI_O_REL },           \
	{ "credibility", required_argument, NULL, CEP_CLI_O_CRED },          \
	{ "tlp", required_argument, NULL, CEP_CLI_O_TLP },                   \
	{ "sector", required_argument, NULL, CEP_CLI_O_SECTOR },             \
	{ "overflow", required_argument, NULL, CEP_CLI_O_OVERFLOW },         \
	{ "version", no_argument, NULL, CEP_CLI_O_VERSION },                 \
	{ "help", no_argument, NULL, CEP_CLI_O_HELP }

enum cep_cli_mode {
	CEP_CLI_DUMP = 0, /* JSON Lines on stdout (the default) */
	CEP_CLI_STATS,    /* count only; the binary prints its counters */
	CEP_CLI_RING,     /* into a running ceptord's ring */
};

struct cep_cli {
	const char *prog;      /* "ceptor-flow", for messages */
	struct cep_source src; /* --source, --reliability, ... applied */
	int mode;              /* enum cep_cli_mode */
	int overflow_set;      /* --overflow was given */
	const char *ring_name; /* --ring */
	struct cep_sink sink;  /* valid after cep_cli_open() */
	struct cep_dump_sink dump;
	struct cep_count_sink count;
	struct cep_ring_sink ring;
};

/* cep_cli_init - defaults: --dump, a source named @source_name. */
void cep_cli_init(struct cep_cli *cli, const char *prog,
		  const char *source_name);

/*
 * cep_cli_option - handle getopt code @opt with @arg.  Prints --help (with
 * @usage, which should call cep_cli_usage()) and --version itself.
 * Returns 1 when the option was taken, 0 after --help or --version (exit
 * 0), -1 after printing an error for a bad value or an unknown option
 * (exit 2).
 */
int cep_cli_option(struct cep_cli *cli, int opt, const char *arg,
		   void (*usage)(FILE *out));

/* cep_cli_usage - the common options' help lines. */
void cep_cli_usage(FILE *out, const char *source_name);

/*
 * cep_cli_open - choose the sink; with --ring attach to the ring ceptord
 * made and take it over with cep_ring_reopen() (an earlier collector may
 * have closed it).  --dump, --stats and --ring choose one sink: the last
 * one given wins.  Returns 0, or -1 after printing why (exit 1).
 */
int cep_cli_open(struct cep_cli *cli);

/* cep_cli_close - flush stdout and close and release the ring. */
void cep_cli_close(struct cep_cli *cli);

/* cep_cli_dropped - events the ring sink dropped (overflow drop). */
unsigned long long cep_cli_dropped(const struct cep_cli *cli);

#endif /* CEPTOR_CLI_H */
