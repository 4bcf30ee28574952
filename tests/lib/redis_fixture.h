/*
 * redis_fixture.h - a real redis-server for tests, on a free loopback port.
 *
 * cep_test_redis_start() runs `redis-server` as a child process (fork and
 * exec, never a shell) in a fresh temporary directory that also holds its
 * log, and waits, bounded to about 5 s, until it answers PING.  The child
 * asks the kernel to kill it if the test process dies (PR_SET_PDEATHSIG),
 * so a test that fails half-way never leaves a server behind.  Processes are
 * only ever signalled by the PID the fixture started: never pkill/killall.
 *
 * The struct may be set up before start:
 *   - port != 0: use that port (to restart a server where a publisher
 *     expects it); 0: find a free one by binding 127.0.0.1:0.
 *   - dir[0] != 0: reuse that directory (after cep_test_redis_kill(), the
 *     data written with persist survives into the restarted server).
 *   - persist: run with appendonly yes, appendfsync always, so that every
 *     write Redis acknowledged survives a SIGKILL.
 *
 * cep_test_redis_use() is for tests that only need some Redis: when the
 * environment names one in CEPTOR_TEST_REDIS_URL (the suite runner starts
 * one) it is used, and stop() leaves it alone; tests that kill their server
 * must call start() instead.  Tests sharing a server use unique keys.
 *
 * Works inside a libcheck fixture (setup/teardown) and in CK_FORK children.
 * Functions return 0 or a negative errno; a failure also prints a reason
 * (with the server log's tail) to stderr.
 */
#ifndef CEPTOR_TEST_REDIS_FIXTURE_H
#define CEPTOR_TEST_REDIS_FIXTURE_H

#include <sys/types.h>

struct cep_test_redis {
	int port;
	pid_t pid;        /* 0 when not ours or not running */
	int persist;
	int owned_dir;    /* dir was created by the fixture */
	char url[96];     /* "redis://127.0.0.1:PORT" */
	char dir[256];
	char log[300];
};

/* Start a server (see above).  Returns 0, -ETIMEDOUT, or -errno. */
int cep_test_redis_start(struct cep_test_redis *r);

/* Use CEPTOR_TEST_REDIS_URL when set, else start one.  Returns as start. */
int cep_test_redis_use(struct cep_test_redis *r);

/* SIGKILL the server and reap it, keeping dir and port for a restart with
 * cep_test_redis_start(): the crash of a test.  No-op when not running. */
void cep_test_redis_kill(struct cep_test_redis *r);

/* SIGTERM, wait (bounded, about 3 s), SIGKILL if needed, reap; remove the
 * directory when the fixture created it.  Accepts a server that is not
 * running or not ours (then does nothing). */
void cep_test_redis_stop(struct cep_test_redis *r);

/* A free loopback TCP port (bound to 127.0.0.1:0 and released), or -errno. */
int cep_test_free_port(void);

#endif /* CEPTOR_TEST_REDIS_FIXTURE_H */
