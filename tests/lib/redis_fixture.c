/*
 * redis_fixture.c - see redis_fixture.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_fixture.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cep_test_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(fd);
	return ntohs(a.sin_port);
}

static void print_log_tail(const struct cep_test_redis *r)
{
	char buf[2048];
	int fd = open(r->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- tail of %s ---\n%s\n---\n", r->log, buf);
	}
}

/* 1 when the server answers PING with PONG, 0 otherwise. */
static int pings(int port)
{
	struct timeval tv = { 0, 200000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	int ok = 0;
	if (c && !c->err) {
		redisSetTimeout(c, tv);
		redisReply *rep = redisCommand(c, "PING");
		ok = rep && rep->type == REDIS_REPLY_STATUS &&
		     !strcmp(rep->str, "PONG");
		if (rep)
			freeReplyObject(rep);
	}
	if (c)
		redisFree(c);
	return ok;
}

int cep_test_redis_start(struct cep_test_redis *r)
{
	char port[16];
	pid_t parent = getpid();

	if (!r->dir[0]) {
		snprintf(r->dir, sizeof r->dir, "/tmp/ceptor-redis-XXXXXX");
		if (!mkdtemp(r->dir)) {
			int e = -errno;
			fprintf(stderr, "redis fixture: mkdtemp: %s\n",
				strerror(errno));
			r->dir[0] = '\0';
			return e;
		}
		r->owned_dir = 1;
	}
	if (!r->port) {
		int p = cep_test_free_port();
		if (p < 0)
			return p;
		r->port = p;
	}
	snprintf(port, sizeof port, "%d", r->port);
	snprintf(r->log, sizeof r->log, "%s/redis.log", r->dir);
	snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%d", r->port);

	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The child dies with the test process, whatever happens. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (fd < 0 || nul < 0)
			_exit(127);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		const char *argv[] = {
			"redis-server", "--port", port, "--bind", "127.0.0.1",
			"--save", "", "--daemonize", "no", "--dir", r->dir,
			"--appendonly", r->persist ? "yes" : "no",
			"--appendfsync", "always", "--protected-mode", "no",
			NULL
		};
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "redis fixture: exec redis-server: %s\n",
			strerror(errno));
		_exit(127);
	}
	r->pid = pid;
	double deadline = now_s() + 5.0;
	while (now_s() < deadline) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			r->pid = 0;
			fprintf(stderr, "redis fixture: redis-server on port "
					"%d exited during start\n", r->port);
			print_log_tail(r);
			return -ECHILD;
		}
		if (pings(r->port))
			return 0;
		sleep_ms(20);
	}
	fprintf(stderr, "redis fixture: redis-server on port %d did not "
			"answer PING within 5 s\n", r->port);
	print_log_tail(r);
	cep_test_redis_kill(r);
	return -ETIMEDOUT;
}

int cep_test_redis_use(struct cep_test_redis *r)
{
	const char *env = getenv("CEPTOR_TEST_REDIS_URL");
	if (env && *env) {
		memset(r, 0, sizeof *r);
		snprintf(r->url, sizeof r->url, "%s", env);
		return 0;
	}
	return cep_test_redis_start(r);
}

void cep_test_redis_kill(struct cep_test_redis *r)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGKILL);
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void cep_test_redis_stop(struct cep_test_redis *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		double deadline = now_s() + 3.0;
		int reaped = 0;
		while (now_s() < deadline) {
			pid_t w = waitpid(r->pid, NULL, WNOHANG);
			if (w == r->pid || (w < 0 && errno == ECHILD)) {
				reaped = 1;
				break;
			}
			sleep_ms(10);
		}
		if (!reaped)
			cep_test_redis_kill(r);
		r->pid = 0;
	}
	if (r->owned_dir && r->dir[0]) {
		nftw(r->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		r->dir[0] = '\0';
		r->owned_dir = 0;
	}
}
