/*
 * cli.c - the collector binaries' shared command line (cli.h).
 *
 * The heartbeat wrapper sits between the collector and the ring sink and
 * costs one coarse clock read per batch (a few nanoseconds, no system call
 * through the vDSO); cep_ring_producer_report() runs at most once a
 * second.  It runs on the collector's thread, the ring's one producer.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "ceptor/cli.h"
#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "lib/clock.h"

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
	case CEP_CLI_O_EXERCISE:
		cli->exercise = 1;
		return 1;
	case CEP_CLI_O_RETIME: {
		char *end;

		cli->retime_speed = 1.0;
		if (arg) {
			cli->retime_speed = strtod(arg, &end);
			if (end == arg || *end ||
			    !(cli->retime_speed > 0 && cli->retime_speed <= 1e6)) {
				fprintf(stderr, "%s: bad --retime value \"%s\" "
						"(a speed: 0 < SPEED <= 1000000)\n",
					cli->prog, arg);
				return -1;
			}
		}
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
		"  --exercise           mark every event as an exercise (ceptord then\n"
		"                       publishes to ceptor-exercise: streams only)\n"
		"  --retime[=SPEED]     move event times to now: the first event takes\n"
		"                       the current time, later ones their distance\n"
		"                       from it divided by SPEED (default 1)\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n",
		source_name);
}

/* Milliseconds of CLOCK_MONOTONIC_COARSE (ticks of a few ms: plenty for
 * a once-a-second report); never 0, which means "never reported". */
static int64_t now_ms(void)
{
	return (int64_t)cep_clock_coarse_ms() + 1;
}

static uint64_t ctr(const uint64_t *p)
{
	return p ? *p : 0;
}

static void report(struct cep_cli *cli, int64_t now)
{
	struct cep_ring_producer_counters c = {
		.captured = cli->ctr_read ? *cli->ctr_read : cli->ring.accepted,
		.kernel_drops = ctr(cli->ctr_kernel_drops),
		.malformed = ctr(cli->ctr_malformed),
	};

	cep_ring_producer_report(cli->ring.ring, &c);
	cli->last_report_ms = now;
}

static int beats(const struct cep_cli *cli)
{
	return cli->mode == CEP_CLI_RING && !cli->self_report &&
	       cli->ring.ring;
}

void cep_cli_tick(struct cep_cli *cli)
{
	int64_t now;

	if (!beats(cli))
		return;
	now = now_ms();
	if (now - cli->last_report_ms >= CEP_CLI_REPORT_MS)
		report(cli, now);
}

void cep_cli_tick_fn(void *cli)
{
	cep_cli_tick(cli);
}

void cep_cli_counters(struct cep_cli *cli, const uint64_t *read,
		      const uint64_t *kernel_drops, const uint64_t *malformed)
{
	cli->ctr_read = read;
	cli->ctr_kernel_drops = kernel_drops;
	cli->ctr_malformed = malformed;
}

/* --ring without self_report: the ring sink, then a heartbeat when due.
 * The counters are read after the batch went in, so the events of this
 * batch are in captured when captured counts accepted events. */
static int beat_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct cep_cli *cli = arg;
	int rc = cep_ring_sink_fn(&cli->ring, ev, n);

	cep_cli_tick(cli);
	return rc;
}

/* --retime: wait until the wall clock reaches ts, beating meanwhile (a
 * collector process must not look dead to ceptorctl status while it
 * paces a replay). */
static void wait_until(struct cep_cli *cli, uint64_t ts)
{
	for (;;) {
		uint64_t now = cep_clock_wall_ns();
		uint64_t left = ts > now ? ts - now : 0;
		struct timespec d;

		if (!left)
			return;
		if (left > 200000000u)
			left = 200000000u;
		d.tv_sec = 0;
		d.tv_nsec = (long)left;
		nanosleep(&d, NULL);
		cep_cli_tick(cli);
	}
}

/* --exercise, --retime: change a copy of each batch and hand it on; with
 * --retime, each event goes on when its new time comes (the part of the
 * batch before it is handed on first). */
static int mark_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct cep_cli *cli = arg;
	struct cep_event copy[CEP_COLLECTOR_BATCH];
	unsigned done = 0, k = 0;
	int accepted = 0, rc;

	while (done < n) {
		struct cep_event *e = &copy[k];

		*e = ev[done++];
		if (cli->exercise)
			e->flags |= CEP_EV_EXERCISE;
		if (cli->retime_speed > 0) {
			uint64_t now = cep_clock_wall_ns();

			if (!e->ts) {
				e->ts = now;
			} else {
				if (!cli->retime_ev0) {
					cli->retime_ev0 = e->ts;
					cli->retime_wall0 = now;
				}
				/* Signed: an input out of order has events
				 * before its first one. */
				double d = ((double)e->ts -
					    (double)cli->retime_ev0) /
					   cli->retime_speed;
				double t = (double)cli->retime_wall0 + d;

				e->ts = t > 0 ? (uint64_t)t : 1;
			}
			if (e->ts > now) {
				if (k) {
					rc = cli->inner.fn(cli->inner.arg,
							   copy, k);
					if (rc < 0)
						return rc;
					accepted += rc;
					copy[0] = *e;
					k = 0;
					e = &copy[0];
				}
				wait_until(cli, e->ts);
			}
		}
		if (++k == CEP_COLLECTOR_BATCH || done == n) {
			rc = cli->inner.fn(cli->inner.arg, copy, k);
			if (rc < 0)
				return rc;
			accepted += rc;
			k = 0;
		}
	}
	return accepted;
}

static int open_sink(struct cep_cli *cli);

int cep_cli_open(struct cep_cli *cli)
{
	int rc = open_sink(cli);

	if (rc == 0 && (cli->exercise || cli->retime_speed > 0)) {
		cli->inner = cli->sink;
		cli->sink = (struct cep_sink){ mark_sink_fn, cli };
	}
	return rc;
}

static int open_sink(struct cep_cli *cli)
{
	cli->dump.out = stdout;
	cli->ring.overflow = cli->src.overflow;
	switch (cli->mode) {
	case CEP_CLI_STATS:
		cli->sink = (struct cep_sink){ cep_count_sink_fn, &cli->count };
		return 0;
	case CEP_CLI_RING: {
		int rc = cep_ring_attach(cli->ring_name, &cli->ring.ring);

		/* ceptord may be creating the ring right now (the name exists,
		 * the header is not written yet): give it up to 2 s. */
		for (int i = 0; i < 40 && rc == -CEP_EVERSION &&
				strstr(cep_ring_last_error(), "not initialised yet");
		     i++) {
			usleep(50000);
			rc = cep_ring_attach(cli->ring_name, &cli->ring.ring);
		}
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
		if (cli->self_report) {
			cli->sink = (struct cep_sink){ cep_ring_sink_fn,
						       &cli->ring };
			return 0;
		}
		/* Reports from the start, so that status shows the counters
		 * (zero) rather than a producer that never reports. */
		cli->sink = (struct cep_sink){ beat_sink_fn, cli };
		report(cli, now_ms());
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
	if (beats(cli))
		report(cli, now_ms());
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
