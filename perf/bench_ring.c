/*
 * bench_ring.c - event records per second through the shared-memory ring
 * between two processes, against a bare memcpy of the same bytes in one
 * thread (the physical limit of moving 256-byte records).
 *
 * For each row the parent process is the producer and a forked child,
 * attached by name like a real collector, is the consumer; the consumer
 * checks every sequence number, so a fast wrong ring cannot win.  A run
 * lasts RUN_NS, each figure is the median of REPS runs, and the whole
 * program takes a few seconds.  Placement on the two vCPUs changes from
 * run to run (DESIGN.md section 10), hence the median.
 *
 * Output: one line per row,
 *   ROW <what> <ours> <peer> <ratio ours/peer> <command>
 * separated by tabs, for perf/run.sh to format.
 *
 * Usage: bench_ring [batch32|single]   (default: every row)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/ring.h"

#define RUN_NS 300000000ll /* 0.3 s per run */
#define REPS 3
#define CAPACITY 1024
#define MAX_BATCH 32

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The child: drain the ring until the producer closes it; exit 0 when every
 * record arrived in order. */
static void __attribute__((noreturn)) consume(const char *name, unsigned batch)
{
	struct cep_event out[MAX_BATCH];
	struct cep_ring *r;
	uint32_t expect = 0;
	unsigned k;
	int n;

	if (cep_ring_attach(name, &r)) {
		fprintf(stderr, "bench_ring: %s\n", cep_ring_last_error());
		_exit(2);
	}
	while ((n = cep_ring_wait(r, 10000)) > 0) {
		k = cep_ring_dequeue_burst(r, out, batch);
		for (unsigned i = 0; i < k; i++)
			if (out[i].seq != expect++)
				_exit(3);
	}
	cep_ring_destroy(r);
	_exit(n == -CEP_ECLOSED ? 0 : 4);
}

/* Records per second from this process to a child, in batches of @batch. */
static double ring_rate(const char *name, unsigned batch)
{
	struct cep_event ev[MAX_BATCH];
	struct cep_ring *r;
	uint64_t sent = 0;
	int64_t t0, t1;
	int status;
	pid_t pid;

	if (cep_ring_create(name, CAPACITY, &r)) {
		fprintf(stderr, "bench_ring: %s\n", cep_ring_last_error());
		exit(1);
	}
	memset(ev, 0, sizeof ev);
	pid = fork();
	if (pid < 0) {
		perror("bench_ring: fork");
		exit(1);
	}
	if (pid == 0)
		consume(name, batch);

	t0 = now_ns();
	for (;;) {
		for (int i = 0; i < 1024; i++) {
			for (unsigned j = 0; j < batch; j++)
				ev[j].seq = (uint32_t)(sent + j);
			cep_ring_enqueue_policy(r, ev, batch,
						CEP_OVERFLOW_BLOCK);
			sent += batch;
		}
		if (now_ns() - t0 >= RUN_NS)
			break;
	}
	cep_ring_close(r);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_ring: consumer failed (status %d)\n",
			status);
		exit(1);
	}
	t1 = now_ns();
	cep_ring_destroy(r);
	cep_ring_unlink(name);
	return (double)sent * 1e9 / (double)(t1 - t0);
}

/* Records per second copied by memcpy, @batch at a time, into a buffer the
 * size of the ring: the same bytes, one copy, one core. */
static double memcpy_rate(unsigned batch)
{
	static struct cep_event src[MAX_BATCH], dst[CAPACITY];
	uint64_t copied = 0;
	unsigned pos = 0;
	int64_t t0 = now_ns();

	for (;;) {
		for (int i = 0; i < 1024; i++) {
			src[0].seq = (uint32_t)copied;
			memcpy(&dst[pos], src, batch * sizeof *src);
			/* Keep the copy: the compiler may not drop it. */
			__asm__ __volatile__("" : : "r"(dst) : "memory");
			pos = (pos + batch) % CAPACITY;
			copied += batch;
		}
		if (now_ns() - t0 >= RUN_NS)
			break;
	}
	return (double)copied * 1e9 / (double)(now_ns() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double v[REPS])
{
	qsort(v, REPS, sizeof *v, cmp_double);
	return v[REPS / 2];
}

static void row(const char *prog, const char *key, const char *what,
		unsigned batch)
{
	char name[64];
	double ours[REPS], peer[REPS], o, p;

	snprintf(name, sizeof name, "/cep-bench-ring-%ld", (long)getpid());
	for (int i = 0; i < REPS; i++) {
		ours[i] = ring_rate(name, batch);
		peer[i] = memcpy_rate(batch);
	}
	o = median(ours);
	p = median(peer);
	printf("ROW\t%s\t%.1f M ev/s\tmemcpy %.1f M ev/s\t%.2f\t%s %s\n", what,
	       o / 1e6, p / 1e6, o / p, prog, key);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *prog = "build/bench/perf/bench_ring";

	if (only && strcmp(only, "batch32") && strcmp(only, "single")) {
		fprintf(stderr, "usage: %s [batch32|single]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!only || !strcmp(only, "batch32"))
		row(prog, "batch32", "ring 2-process batch 32", 32);
	if (!only || !strcmp(only, "single"))
		row(prog, "single", "ring 2-process single record", 1);
	return 0;
}
