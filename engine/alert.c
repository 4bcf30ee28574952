/*
 * alert.c - the second channel for P1/P2 incidents (see alert.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "lib/clock.h"
#include "lib/log.h"

extern char **environ;

#define LOG_FAILURES_MAX 10 /* failures logged one by one, then quietly */

struct msg {
	char id[CEP_INCIDENT_ID_MAX];
	char title[CEP_RULE_TITLE_MAX];
	char sector[16];
	char status[12];
	uint32_t version;
	uint8_t priority;
	double confidence;
	char *json;
};

struct cep_alert {
	struct cep_alert_config cfg;
	char *command;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct msg q[CEP_ALERT_QUEUE_MAX];
	size_t head, n;  /* ring of queued messages */
	bool stop;
	bool busy;                 /* a message is being sent */
	pthread_cond_t idle;       /* signalled when the queue runs dry */
	struct cep_alert_stats st; /* under lock */
};

/* Runs the command with @m's JSON on its stdin; 0 when it exits 0 in
 * time. */
static int run_command(const struct cep_alert *a, const struct msg *m)
{
	char e_id[64], e_ver[32], e_pri[32], e_sec[48];
	int fds[2], status = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	snprintf(e_id, sizeof e_id, "CEPTOR_ID=%s", m->id);
	snprintf(e_ver, sizeof e_ver, "CEPTOR_VERSION=%u", m->version);
	snprintf(e_pri, sizeof e_pri, "CEPTOR_PRIORITY=P%u", m->priority);
	snprintf(e_sec, sizeof e_sec, "CEPTOR_SECTOR=%s", m->sector);
	size_t nenv = 0;
	while (environ && environ[nenv])
		nenv++;
	char **env = calloc(nenv + 5, sizeof *env);
	if (!env) {
		close(fds[0]);
		close(fds[1]);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(environ[i], "CEPTOR_", 7) != 0)
			env[k++] = environ[i];
	env[k++] = e_id, env[k++] = e_ver, env[k++] = e_pri, env[k++] = e_sec;
	char *argv[] = { "sh", "-c", a->command, NULL };
	/* Its own process group (a timeout kills the whole pipeline it
	 * starts), default SIGPIPE and an empty mask (ceptord ignores the
	 * one and blocks others), and only stdin, stdout and stderr open:
	 * none of ceptord's sockets or files. */
	posix_spawnattr_t at;
	sigset_t def, none;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
				      POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	close(fds[0]);
	if (rc) {
		close(fds[1]);
		return -rc;
	}
	/* The document and a newline.  It fits a pipe's buffer (64 KiB on
	 * Linux), so the write never waits for a command that does not read
	 * it; one that exits first gets EPIPE, not ours to report (SIGPIPE
	 * is blocked for this write and discarded below). */
	_Static_assert(CEP_INCIDENT_JSON_MAX < 65536,
		       "an incident document must fit a pipe's buffer");
	size_t len = strlen(m->json);
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	const char *p = m->json;
	while (len) {
		ssize_t w = write(fds[1], p, len);
		if (w <= 0)
			break;
		p += w, len -= (size_t)w;
	}
	if (!len && write(fds[1], "\n", 1) < 0) {
		/* Closed early: the exit status says whether it mattered. */
	}
	close(fds[1]);
	struct timespec ts;
	while (sigtimedwait(&pipe_set, NULL, &(struct timespec){ 0, 0 }) > 0) {
		/* A SIGPIPE raised while blocked is discarded here. */
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	uint64_t deadline = cep_clock_mono_ms() + a->cfg.timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (cep_clock_mono_ms() >= deadline) {
			kill(-pid, SIGKILL); /* the group: sh and what it started */
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = 10 * 1000 * 1000;
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static void send_one(struct cep_alert *a, struct msg *m)
{
	int failed = 0;

	if (a->cfg.syslog)
		syslog(LOG_DAEMON | (m->priority == 1 ? LOG_ALERT : LOG_CRIT),
		       "P%u %s v%u %s %s: %s (confidence %.2f)", m->priority,
		       m->id, m->version, m->status, m->sector, m->title,
		       m->confidence);
	if (a->command) {
		int rc = run_command(a, m);
		if (rc) {
			failed = 1;
			pthread_mutex_lock(&a->lock);
			uint64_t nf = ++a->st.failed;
			pthread_mutex_unlock(&a->lock);
			if (nf <= LOG_FAILURES_MAX)
				cep_warn("alert command for %s v%u %s%s", m->id,
					 m->version,
					 rc == -ETIMEDOUT ? "timed out" :
					 rc == -ECHILD ? "failed" : strerror(-rc),
					 nf == LOG_FAILURES_MAX ?
					 " (further failures are only counted)" : "");
		}
	}
	if (!failed) {
		pthread_mutex_lock(&a->lock);
		a->st.sent++;
		pthread_mutex_unlock(&a->lock);
	}
}

static void *alert_main(void *arg)
{
	struct cep_alert *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->n && !a->stop) {
			pthread_cond_broadcast(&a->idle);
			pthread_cond_wait(&a->cond, &a->lock);
		}
		if (!a->n)
			break; /* stopping, and nothing left */
		struct msg m = a->q[a->head];
		a->head = (a->head + 1) % CEP_ALERT_QUEUE_MAX;
		a->n--;
		a->busy = true;
		pthread_mutex_unlock(&a->lock);
		send_one(a, &m);
		free(m.json);
		pthread_mutex_lock(&a->lock);
		a->busy = false;
	}
	pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int cep_alert_create(const struct cep_alert_config *cfg, struct cep_alert **out)
{
	struct cep_alert *a = calloc(1, sizeof *a);
	int rc;

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (!a->cfg.max_priority || a->cfg.max_priority > 5)
		a->cfg.max_priority = 2;
	if (!a->cfg.timeout_ms)
		a->cfg.timeout_ms = 10000;
	if (cfg->command && !(a->command = strdup(cfg->command))) {
		free(a);
		return -ENOMEM;
	}
	a->cfg.command = a->command;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_cond_init(&a->idle, NULL);
	if (a->cfg.syslog)
		openlog("ceptord", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if ((rc = pthread_create(&a->thread, NULL, alert_main, a))) {
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->cond);
		pthread_cond_destroy(&a->idle);
		free(a->command);
		free(a);
		return -rc;
	}
	*out = a;
	return 0;
}

void cep_alert_destroy(struct cep_alert *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	pthread_cond_destroy(&a->idle);
	free(a->command);
	free(a);
}

bool cep_alert_post(struct cep_alert *a, const struct cep_incident *inc,
		    const char *json)
{
	struct msg m;

	if (!a || inc->exercise || !inc->priority ||
	    inc->priority > a->cfg.max_priority)
		return false;
	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "%s", inc->id);
	snprintf(m.title, sizeof m.title, "%s", inc->title);
	snprintf(m.sector, sizeof m.sector, "%s", cep_sector_name(inc->sector));
	snprintf(m.status, sizeof m.status, "%s",
		 cep_incident_status_name(inc->status));
	m.version = inc->version;
	m.priority = inc->priority;
	m.confidence = inc->confidence;
	if (!(m.json = strdup(json)))
		return false;
	pthread_mutex_lock(&a->lock);
	if (a->n == CEP_ALERT_QUEUE_MAX) {
		/* The oldest goes: the newest version of an incident says
		 * more than an older one. */
		free(a->q[a->head].json);
		a->head = (a->head + 1) % CEP_ALERT_QUEUE_MAX;
		a->n--;
		a->st.dropped++;
	}
	a->q[(a->head + a->n) % CEP_ALERT_QUEUE_MAX] = m;
	a->n++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return true;
}

void cep_alert_drain(struct cep_alert *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	while (a->n || a->busy)
		pthread_cond_wait(&a->idle, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

void cep_alert_stats(struct cep_alert *a, struct cep_alert_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	*out = a->st;
	pthread_mutex_unlock(&a->lock);
}
