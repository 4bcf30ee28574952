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
 *   cep_cli_counters(&cli, &st.read, NULL, &st.malformed);
 *   ... read inputs into &cli.sink, calling cep_cli_tick(&cli) when idle ...
 *   cep_cli_close(&cli);
 *
 * The common options are listed by cep_cli_usage() for the binary's help
 * text.  Their getopt codes start at CEP_CLI_OPT_BASE, clear of any short
 * option letter.
 *
 * Heartbeats.  With --ring, the sink is a thin wrapper around the ring sink
 * that publishes the producer's counters and a heartbeat
 * (cep_ring_producer_report()) when the ring is taken over, at most once a
 * second as batches pass, and once more before the ring is closed, so that
 * `ceptorctl status` shows the collector alive with its counts.  What it
 * publishes: captured is the collector's own count of records read, when
 * it gave one with cep_cli_counters(), else the events the ring accepted;
 * kernel_drops and malformed are the collector's, when given, else 0.  A
 * collector that sits idle (a quiet UDP port, a watched directory) calls
 * cep_cli_tick() from its wait loop so that it keeps beating without
 * batches; nothing else beats for it: the ring is single-producer, so
 * only the thread that enqueues may report, and there is no heartbeat
 * thread.  A binary that reports its counters itself (ceptor-pcap, which
 * has libpcap's) sets self_report before cep_cli_open(): the sink is then
 * the plain ring sink and cep_cli_tick() does nothing.
 *
 * Exercises (DESIGN.md section 7).  --exercise marks every event the
 * collector hands on with CEP_EV_EXERCISE, whatever its input says, so that
 * ceptord publishes what it leads to on the ceptor-exercise: streams only.
 * --retime[=SPEED] moves event times to the present, for replaying old
 * inputs into a live ceptord (which treats events far behind its clock as
 * late): the first event takes the wall-clock time at which it passes,
 * and every later one its recorded distance from that first event divided
 * by SPEED (scenario seconds per wall second; default 1), so a replay at
 * speed 60 packs an hour of input into a minute; each event is handed on
 * when its new time comes (the replay is paced: the engine sees live
 * input, never events from its future), with heartbeats while waiting.
 * An event without a time takes the current time.  Inputs should be in
 * time order: an event earlier than the first one gets a time in the past.
 * Both work on a copy of each batch, in the sink wrapper, so every
 * collector and every sink (--dump too) gets them.
 *
 * Thread safety: one struct cep_cli per process, used by one thread (the
 * one that reads the inputs and calls the sink).
 */
#ifndef CEPTOR_CLI_H
#define CEPTOR_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "ceptor/collector.h"
#include "ceptor/sink.h"

/* Heartbeats with --ring: at most one report per this many milliseconds. */
#define CEP_CLI_REPORT_MS 1000

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
	CEP_CLI_O_EXERCISE,
	CEP_CLI_O_RETIME,
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
	{ "help", no_argument, NULL, CEP_CLI_O_HELP },                       \
	{ "exercise", no_argument, NULL, CEP_CLI_O_EXERCISE },               \
	{ "retime", optional_argument, NULL, CEP_CLI_O_RETIME }

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
	/* Set before cep_cli_open(): the binary calls
	 * cep_ring_producer_report() itself; no heartbeat wrapper. */
	int self_report;
	/* Private to cli.c: the heartbeat wrapper's state. */
	const uint64_t *ctr_read, *ctr_kernel_drops, *ctr_malformed;
	int64_t last_report_ms; /* CLOCK_MONOTONIC; 0: never */
	/* --exercise and --retime: the wrapper between the collector and the
	 * sink chosen above (inner), and the retime anchor. */
	int exercise;
	double retime_speed;   /* 0: no --retime */
	struct cep_sink inner;
	uint64_t retime_ev0;   /* the first event's own time; 0: none yet */
	uint64_t retime_wall0; /* the wall clock when it passed */
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
 * made (waiting up to 2 s while ceptord is still writing its header) and
 * take it over with cep_ring_reopen() (an earlier collector may have
 * closed it).  --dump, --stats and --ring choose one sink: the last
 * one given wins.  Returns 0, or -1 after printing why (exit 1).
 */
int cep_cli_open(struct cep_cli *cli);

/*
 * cep_cli_counters - what the heartbeats publish, from the collector's own
 * counters: @read (records read from the input: packets, flow records,
 * rows; published as captured), @kernel_drops (input the kernel dropped
 * before the collector saw it, such as UDP datagrams) and @malformed
 * (input skipped as damaged).  Each is borrowed until cep_cli_close() and
 * read only by the calling thread, at report time; any may be NULL (0 is
 * published; for @read, the events the ring accepted).  Call it before the
 * first event, at any time after cep_cli_init().
 */
void cep_cli_counters(struct cep_cli *cli, const uint64_t *read,
		      const uint64_t *kernel_drops, const uint64_t *malformed);

/*
 * cep_cli_tick - publish the counters and a heartbeat if the last report
 * is CEP_CLI_REPORT_MS old or older.  For a collector's idle loop: call it
 * at least every second or so while no input arrives (calling it more
 * often is cheap: one clock read).  Only the thread that calls the sink may
 * call it.  Does nothing without --ring, or with self_report set.
 * cep_cli_tick_fn() is the same with a void pointer, for callbacks
 * (struct cep_feed_opts.tick, cep_flow_listen_tick()).
 */
void cep_cli_tick(struct cep_cli *cli);
void cep_cli_tick_fn(void *cli);

/* cep_cli_close - flush stdout, publish the final counters (--ring without
 * self_report), and close and release the ring. */
void cep_cli_close(struct cep_cli *cli);

/* cep_cli_dropped - events the ring sink dropped (overflow drop). */
unsigned long long cep_cli_dropped(const struct cep_cli *cli);

#endif /* CEPTOR_CLI_H */
