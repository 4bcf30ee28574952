/*
 * metrics.c - the Prometheus endpoint (see metrics.h for the picture).
 *
 * Rendering.  The text is built with one growing buffer and three helpers:
 * family() writes the HELP and TYPE lines, sample() one line; label values
 * are escaped as the exposition format says (backslash, double quote,
 * newline).  Families come in a fixed order and every family has its HELP
 * and TYPE even when it has no sample yet (no input, no error), so a
 * dashboard never meets a name that comes and goes.
 *
 * The open-incident table.  Keys are 64-bit hashes of incident ids (0 is
 * the empty slot; a hash of 0 is stored as 1), values the last published
 * priority.  Linear probing at a load of at most 1/2, deletion by backward
 * shift, so no tombstones.  A closed version removes its incident; a
 * reopened one adds it again.  Two ids with the same 64-bit hash would
 * share a slot; at the few thousand open incidents a site has, that is
 * about one chance in 10^12.
 *
 * The server.  One thread, poll() on the listening socket and an eventfd
 * that destroy() writes.  Each connection is non-blocking and every wait
 * on it is a poll() bounded by what is left of CEP_METRICS_IO_MS that also
 * watches the eventfd, so destroy() never waits for a client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "metrics.h"
#include "publish/latency.h"

#ifndef CEPTOR_VERSION
#define CEPTOR_VERSION "0.1.0"
#endif

#define TEXT_START 16384   /* first size of a rendering buffer */
#define OPEN_START 256     /* first size of the open-incident table */

/* A growing text; failed is set once an append could not grow it. */
struct text {
	char *buf;
	size_t len, size;
	int failed;
};

struct cep_metrics {
	/* The core thread's. */
	struct cep_metrics_snapshot snap;
	struct text render;              /* the next text, being built */
	uint64_t created[CEP_METRICS_PRIORITIES];
	uint64_t open[CEP_METRICS_PRIORITIES];
	uint64_t versions[3];            /* by status: open, updated, closed */
	uint64_t *keys;                  /* open incidents: id hash, 0 empty */
	uint8_t *prio;                   /* their published priority, 1..5 */
	size_t nkeys, nslots;
	int table_failed;                /* -ENOMEM reported once */

	/* Shared: the published text, under lock. */
	pthread_mutex_t lock;
	char *text;                      /* NULL until the first emit */
	size_t text_len, text_size;
	/* Counted by the server thread, read by the core when it renders:
	 * relaxed both ways, a count with no data behind it. */
	atomic_uint_fast64_t scrapes;
	atomic_uint_fast64_t refused;    /* 4xx answers */

	/* The server thread's. */
	int lfd;                         /* listening socket */
	int wake_fd;                     /* eventfd: stop */
	pthread_t thread;
	int started;
	char *copy;                      /* its copy of the text */
	size_t copy_size;
	char req[CEP_METRICS_REQUEST_MAX + 1];
};

/* ---- rendering -------------------------------------------------------- */

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->size - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *grown = realloc(t->buf, t->size * 2);
		if (!grown) {
			t->failed = 1;
			return;
		}
		t->buf = grown;
		t->size *= 2;
	}
}

/* A label value, escaped: \\ for backslash, \" for a quote, \n for a
 * newline (exposition format 0.0.4). */
static void put_label(struct text *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			put(t, "\\\\");
		else if (*v == '"')
			put(t, "\\\"");
		else if (*v == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *v);
	}
}

static void family(struct text *t, const char *name, const char *type,
		   const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u64(struct text *t, const char *name, uint64_t v)
{
	put(t, "%s %llu\n", name, (unsigned long long)v);
}

static void sample_f(struct text *t, const char *name, double v)
{
	put(t, "%s %.3f\n", name, v);
}

/* A family with one sample and no labels: its HELP, TYPE and value. */
static void counter(struct text *t, const char *name, uint64_t v,
		    const char *help)
{
	family(t, name, "counter", help);
	sample_u64(t, name, v);
}

static void gauge(struct text *t, const char *name, uint64_t v,
		  const char *help)
{
	family(t, name, "gauge", help);
	sample_u64(t, name, v);
}

/* name{label="value"} v */
static void sample_l(struct text *t, const char *name, const char *label,
		     const char *value, uint64_t v)
{
	put(t, "%s{%s=\"", name, label);
	put_label(t, value);
	put(t, "\"} %llu\n", (unsigned long long)v);
}

/* name{input="...",kind="..."[,extra="..."]} v, for the per-input
 * families; extra may be NULL. */
static void sample_in(struct text *t, const char *name,
		      const struct cep_metrics_input *in, const char *extra,
		      const char *extra_v, const char *value)
{
	put(t, "%s{input=\"", name);
	put_label(t, in->name);
	put(t, "\",kind=\"");
	put_label(t, in->kind);
	if (extra)
		put(t, "\",%s=\"%s", extra, extra_v);
	put(t, "\"} %s\n", value);
}

static const char *u64s(char b[24], uint64_t v)
{
	snprintf(b, 24, "%llu", (unsigned long long)v);
	return b;
}

static void render_inputs(struct text *t, const struct cep_metrics_snapshot *s)
{
	char b[24];

	family(t, "ceptor_input_events_total", "counter",
	       "Events the engine took from the input's ring.");
	for (size_t i = 0; i < s->ninputs; i++)
		sample_in(t, "ceptor_input_events_total", &s->inputs[i], NULL,
			  NULL, u64s(b, s->inputs[i].events));
	family(t, "ceptor_input_drops_total", "counter",
	       "Events lost before the engine, by where: ring (refused under "
	       "the drop policy), kernel and interface (the capture's own "
	       "counters).");
	for (size_t i = 0; i < s->ninputs; i++) {
		const struct cep_metrics_input *in = &s->inputs[i];
		sample_in(t, "ceptor_input_drops_total", in, "where", "ring",
			  u64s(b, in->ring_drops));
		sample_in(t, "ceptor_input_drops_total", in, "where", "kernel",
			  u64s(b, in->kernel_drops));
		sample_in(t, "ceptor_input_drops_total", in, "where",
			  "interface", u64s(b, in->if_drops));
	}
	family(t, "ceptor_input_malformed_total", "counter",
	       "Input records the collector reported and skipped.");
	for (size_t i = 0; i < s->ninputs; i++)
		sample_in(t, "ceptor_input_malformed_total", &s->inputs[i],
			  NULL, NULL, u64s(b, s->inputs[i].malformed));
	family(t, "ceptor_input_ring_fill_ratio", "gauge",
	       "Records waiting in the input's ring over its capacity (0..1).");
	for (size_t i = 0; i < s->ninputs; i++) {
		const struct cep_metrics_input *in = &s->inputs[i];
		snprintf(b, sizeof b, "%.6f",
			 in->ring_capacity ? (double)in->ring_used /
						     (double)in->ring_capacity
					   : 0.0);
		sample_in(t, "ceptor_input_ring_fill_ratio", in, NULL, NULL, b);
	}
	family(t, "ceptor_input_ring_capacity", "gauge",
	       "Slots in the input's ring.");
	for (size_t i = 0; i < s->ninputs; i++)
		sample_in(t, "ceptor_input_ring_capacity", &s->inputs[i], NULL,
			  NULL, u64s(b, s->inputs[i].ring_capacity));
	family(t, "ceptor_input_producer_alive", "gauge",
	       "1 when a producer (hosted thread or collector process) feeds "
	       "the input's ring now.");
	for (size_t i = 0; i < s->ninputs; i++)
		sample_in(t, "ceptor_input_producer_alive", &s->inputs[i], NULL,
			  NULL, s->inputs[i].producer_alive ? "1" : "0");
}

static void render_incidents(struct text *t, const struct cep_metrics *m)
{
	static const char *const status[3] = { "open", "updated", "closed" };
	static const char *const prio[CEP_METRICS_PRIORITIES] = {
		"P1", "P2", "P3", "P4", "P5",
	};

	family(t, "ceptor_incidents_open", "gauge",
	       "Incidents whose last published version is not closed, by its "
	       "priority.");
	for (int i = 0; i < CEP_METRICS_PRIORITIES; i++)
		sample_l(t, "ceptor_incidents_open", "priority", prio[i],
			 m->open[i]);
	family(t, "ceptor_incidents_created_total", "counter",
	       "Incidents published for the first time, by priority.");
	for (int i = 0; i < CEP_METRICS_PRIORITIES; i++)
		sample_l(t, "ceptor_incidents_created_total", "priority",
			 prio[i], m->created[i]);
	family(t, "ceptor_incident_versions_total", "counter",
	       "Incident versions published, by status.");
	for (int i = 0; i < 3; i++)
		sample_l(t, "ceptor_incident_versions_total", "status",
			 status[i], m->versions[i]);
}

/* Ingest to acknowledged as a Prometheus histogram: the exact counts at
 * the fixed bounds (cep_latency_le_ns), made cumulative; +Inf and _count
 * are their total, so the series agree with each other. */
static void render_latency(struct text *t, const struct cep_latency_snap *l)
{
	const char *name = "ceptor_ingest_to_ack_seconds";
	uint64_t cum = 0;

	family(t, name, "histogram",
	       "Seconds from the ingest of an incident message's newest "
	       "evidence (its event time) to Redis acknowledging its XADD; "
	       "live runs, first deliveries only.");
	for (unsigned i = 0; i < CEP_LATENCY_LE; i++) {
		cum += l ? l->le[i] : 0;
		put(t, "%s_bucket{le=\"%.9g\"} %llu\n", name,
		    cep_latency_le_ns[i] / 1e9, (unsigned long long)cum);
	}
	cum += l ? l->le[CEP_LATENCY_LE] : 0;
	put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	put(t, "%s_sum %.9f\n", name, l ? l->sum_ns / 1e9 : 0.0);
	put(t, "%s_count %llu\n", name, (unsigned long long)cum);
	counter(t, "ceptor_ingest_to_ack_refused_total", l ? l->refused : 0,
		"Acknowledged incident messages whose evidence time was in the "
		"future or over an hour old: left out of the histogram.");
}

static void render(struct text *t, const struct cep_metrics *m)
{
	const struct cep_metrics_snapshot *s = &m->snap;
	const struct cep_publish_stats *ps = &s->pub;

	t->len = 0;
	t->failed = 0;
	t->buf[0] = '\0';

	gauge(t, "ceptor_up", !s->stopping,
		"1 while ceptord runs; 0 in the last rendering at shutdown.");
	family(t, "ceptor_build_info", "gauge", "ceptord's version.");
	put(t, "ceptor_build_info{version=\"%s\"} 1\n", CEPTOR_VERSION);
	family(t, "ceptor_start_time_seconds", "gauge",
	       "When the engine started, Unix time.");
	sample_f(t, "ceptor_start_time_seconds", s->started_ns / 1e9);
	family(t, "ceptor_uptime_seconds", "gauge",
	       "Seconds since the engine started.");
	sample_f(t, "ceptor_uptime_seconds", s->uptime_s);

	counter(t, "ceptor_events_total", s->events,
		"Events the engine took from all rings.");
	counter(t, "ceptor_events_late_total", s->events_late,
		"Events later than the allowed lateness: they fed no "
		"correlation window.");
	counter(t, "ceptor_input_errors_total", s->input_errors,
		"Inputs that failed to open or read.");
	render_inputs(t, s);

	counter(t, "ceptor_rule_matches_total", s->matches,
		"Detection rule hits: (event, detection rule) matches, all "
		"rules together.");
	counter(t, "ceptor_signals_total", s->signals,
		"Signals (rule and correlation hits) handed to the incident "
		"table.");
	counter(t, "ceptor_signals_dropped_total", s->signals_dropped,
		"Signals lost to a full detect queue.");
	gauge(t, "ceptor_correlation_groups", s->keys_live,
		"Correlation groups (rule, key) open now.");
	counter(t, "ceptor_correlation_groups_evicted_total", s->keys_evicted,
		"Correlation groups evicted at the state ceiling (max_keys, "
		"state_max).");
	gauge(t, "ceptor_correlation_state_bytes", s->state_bytes,
		"Window state held, in bytes.");

	render_incidents(t, m);
	counter(t, "ceptor_messages_total", s->messages,
		"Messages (incident versions to each of their streams, and "
		"advisories) handed to the publisher or --stdout.");
	counter(t, "ceptor_advisories_total", s->advisories,
		"Advisories to predicted sectors among those messages.");

	gauge(t, "ceptor_publisher_enabled", s->publisher_enabled,
		"1 when ceptord publishes to Redis (0: --redis none).");
	counter(t, "ceptor_publish_acked_total", ps->acked,
		"XADDs Redis accepted (spool replays included).");
	counter(t, "ceptor_publish_sent_total", ps->sent,
		"XADDs and commands written to Redis (resends included).");
	counter(t, "ceptor_publish_lost_total", ps->lost,
		"Messages neither delivered nor spooled.");
	counter(t, "ceptor_spool_appended_total", ps->spooled,
		"Messages appended to the outage spool.");
	counter(t, "ceptor_spool_replayed_total", ps->replayed,
		"Spool records Redis accepted on replay.");
	gauge(t, "ceptor_spool_bytes", ps->spool_bytes,
		"Size of the spool file (0 once replayed and truncated).");
	gauge(t, "ceptor_redis_connected", ps->connected ? 1 : 0,
		"1 while the publisher has a Redis connection.");
	counter(t, "ceptor_redis_errors_total", ps->errors,
		"XADDs and commands Redis refused with an error reply.");
	counter(t, "ceptor_redis_disconnects_total", ps->disconnects,
		"Redis connections lost or refused (each is followed by "
		"reconnect attempts).");
	render_latency(t, s->latency);
	family(t, "ceptor_publish_last_error_info", "gauge",
	       "The publisher's latest problem, as a label; no sample while "
	       "there is none.");
	if (ps->last_error[0])
		sample_l(t, "ceptor_publish_last_error_info", "error",
			 ps->last_error, 1);

	family(t, "ceptor_rules_loaded", "gauge", "Rules in the running set.");
	sample_u64(t, "ceptor_rules_loaded", s->rules);
	gauge(t, "ceptor_rules_generation", s->rules_generation,
		"The running rule set's generation (1 at start, +1 per reload "
		"swapped in).");
	family(t, "ceptor_rules_loaded_timestamp_seconds", "gauge",
	       "When the running rule set went live, Unix time.");
	sample_f(t, "ceptor_rules_loaded_timestamp_seconds",
		 s->rules_loaded_ns / 1e9);
	counter(t, "ceptor_rules_reloads_total", s->reloads,
		"Rule sets swapped in by a reload.");
	counter(t, "ceptor_rules_reload_failures_total", s->reload_failures,
		"Rule sets a reload rejected (compile errors).");

	counter(t, "ceptor_metrics_scrapes_total", atomic_load_explicit(&m->scrapes, memory_order_relaxed),
		"GET /metrics answered with 200 before this rendering.");
	counter(t, "ceptor_metrics_refused_total", atomic_load_explicit(&m->refused, memory_order_relaxed),
		"Requests to the metrics endpoint answered with an error.");
}

int cep_metrics_emit(struct cep_metrics *m)
{
	struct text *t = &m->render;
	char *old;
	size_t old_size;

	if (!t->buf) {
		if (!(t->buf = malloc(TEXT_START)))
			return -ENOMEM;
		t->size = TEXT_START;
	}
	render(t, m);
	if (t->failed)
		return -ENOMEM;
	/* Swap: the rendered buffer becomes the published text, the old one
	 * (NULL the first time) the next rendering's buffer. */
	pthread_mutex_lock(&m->lock);
	old = m->text;
	old_size = m->text_size;
	m->text = t->buf;
	m->text_len = t->len;
	m->text_size = t->size;
	pthread_mutex_unlock(&m->lock);
	t->buf = old;
	t->size = old_size;
	t->len = 0;
	return 0;
}

struct cep_metrics_snapshot *cep_metrics_snapshot(struct cep_metrics *m)
{
	return &m->snap;
}

/* ---- open incidents --------------------------------------------------- */

static uint64_t id_key(const char *id)
{
	uint64_t h = cep_hash_bytes(id, strlen(id), 0);
	return h ? h : 1;
}

/* The slot of k, or the empty slot where it would go. */
static size_t slot_of(const struct cep_metrics *m, uint64_t k)
{
	size_t i = (size_t)k & (m->nslots - 1);

	while (m->keys[i] && m->keys[i] != k)
		i = (i + 1) & (m->nslots - 1);
	return i;
}

static int grow_table(struct cep_metrics *m)
{
	size_t n = m->nslots ? m->nslots * 2 : OPEN_START;
	uint64_t *keys = calloc(n, sizeof *keys);
	uint8_t *prio = calloc(n, 1);
	uint64_t *old_keys = m->keys;
	uint8_t *old_prio = m->prio;
	size_t old_n = m->nslots;

	if (!keys || !prio) {
		free(keys);
		free(prio);
		return -ENOMEM;
	}
	m->keys = keys;
	m->prio = prio;
	m->nslots = n;
	for (size_t i = 0; i < old_n; i++)
		if (old_keys[i]) {
			size_t j = slot_of(m, old_keys[i]);
			m->keys[j] = old_keys[i];
			m->prio[j] = old_prio[i];
		}
	free(old_keys);
	free(old_prio);
	return 0;
}

/* Remove slot i; later entries of its run move back (backward shift). */
static void remove_slot(struct cep_metrics *m, size_t i)
{
	size_t mask = m->nslots - 1, j = i;

	m->keys[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->keys[j])
			return;
		size_t home = (size_t)m->keys[j] & mask;
		/* j's entry may move to i when its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->prio[i] = m->prio[j];
			m->keys[j] = 0;
			i = j;
		}
	}
}

int cep_metrics_note_incident(struct cep_metrics *m,
			      const struct cep_incident *inc)
{
	int p = inc->priority >= 1 && inc->priority <= CEP_METRICS_PRIORITIES
			? inc->priority : CEP_METRICS_PRIORITIES;
	int closed = inc->status == CEP_INCIDENT_CLOSED;
	uint64_t k = id_key(inc->id);
	size_t i;

	if (inc->version == 1)
		m->created[p - 1]++;
	m->versions[closed ? 2 : inc->status == CEP_INCIDENT_UPDATED ? 1 : 0]++;

	if (m->nslots) {
		i = slot_of(m, k);
		if (m->keys[i]) {
			m->open[m->prio[i] - 1]--;
			if (closed) {
				remove_slot(m, i);
				m->nkeys--;
			} else {
				m->prio[i] = (uint8_t)p;
				m->open[p - 1]++;
			}
			return 0;
		}
	}
	if (closed)
		return 0;
	if ((m->nkeys + 1) * 2 > m->nslots && grow_table(m)) {
		if (!m->table_failed)
			cep_error("metrics: out of memory: ceptor_incidents_open "
				  "misses incident %s", inc->id);
		m->table_failed = 1;
		return -ENOMEM;
	}
	i = slot_of(m, k);
	m->keys[i] = k;
	m->prio[i] = (uint8_t)p;
	m->nkeys++;
	m->open[p - 1]++;
	return 0;
}

/* ---- the server ------------------------------------------------------- */

/* Wait for fd to be ready for ev, or for the stop eventfd, until
 * deadline (monotonic ms).  Returns 1 ready, 0 timed out or stopping. */
static int wait_fd(const struct cep_metrics *m, int fd, short ev,
		   uint64_t deadline)
{
	for (;;) {
		uint64_t now = cep_clock_mono_ms();
		struct pollfd p[2] = { { fd, ev, 0 }, { m->wake_fd, POLLIN, 0 } };
		int n;

		if (now >= deadline)
			return 0;
		n = poll(p, 2, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[1].revents)
			return 0;
		return 1;
	}
}

static int send_all(const struct cep_metrics *m, int fd, const char *b,
		    size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t k = send(fd, b, len, MSG_NOSIGNAL);
		if (k > 0) {
			b += k;
			len -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(m, fd, POLLOUT, deadline))
			continue;
		return -1;
	}
	return 0;
}

static void answer(struct cep_metrics *m, int fd, int code, const char *why,
		   const char *body, size_t len, int head_only,
		   uint64_t deadline)
{
	char h[256];
	int n;

	n = snprintf(h, sizeof h,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n\r\n",
		     code, why,
		     code == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				 : "text/plain; charset=utf-8",
		     len, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (code >= 400)
		atomic_fetch_add_explicit(&m->refused, 1, memory_order_relaxed);
	if (send_all(m, fd, h, (size_t)n, deadline) == 0 && !head_only)
		send_all(m, fd, body, len, deadline);
}

static void refuse(struct cep_metrics *m, int fd, int code, const char *why,
		   uint64_t deadline)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", code, why);

	answer(m, fd, code, why, body, (size_t)n, 0, deadline);
}

/* Read the request head (up to the blank line); returns its length, -1
 * for a client that went away or was too slow, -2 when it is too long. */
static ssize_t read_head(struct cep_metrics *m, int fd, uint64_t deadline)
{
	size_t len = 0;

	for (;;) {
		ssize_t k = recv(fd, m->req + len, CEP_METRICS_REQUEST_MAX - len, 0);
		if (k > 0) {
			len += (size_t)k;
			m->req[len] = '\0';
			if (strstr(m->req, "\r\n\r\n") || strstr(m->req, "\n\n"))
				return (ssize_t)len;
			if (len == CEP_METRICS_REQUEST_MAX)
				return -2;
			continue;
		}
		if (k == 0)
			return -1;
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(m, fd, POLLIN, deadline))
			continue;
		return -1;
	}
}

static void serve_one(struct cep_metrics *m, int fd)
{
	uint64_t deadline = cep_clock_mono_ms() + CEP_METRICS_IO_MS;
	char method[16], target[256], version[16];
	ssize_t len = read_head(m, fd, deadline);
	size_t n;

	if (len == -2) {
		refuse(m, fd, 431, "Request Header Fields Too Large", deadline);
		return;
	}
	if (len < 0)
		return;
	/* The request line: METHOD SP TARGET SP HTTP/1.x */
	if (sscanf(m->req, "%15[A-Z] %255[^ \r\n] %15[^\r\n]", method, target,
		   version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		refuse(m, fd, 400, "Bad Request", deadline);
		return;
	}
	char *q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (strcmp(target, "/metrics") != 0) {
		refuse(m, fd, 404, "Not Found", deadline);
		return;
	}
	int head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET") != 0) {
		refuse(m, fd, 405, "Method Not Allowed", deadline);
		return;
	}
	/* Copy the text out, then send without the lock. */
	int ready = 0;
	pthread_mutex_lock(&m->lock);
	n = m->text_len;
	if (m->text && n > m->copy_size) {
		char *grown = realloc(m->copy, n);
		if (grown) {
			m->copy = grown;
			m->copy_size = n;
		}
	}
	if (m->text && n <= m->copy_size) {
		if (n)
			memcpy(m->copy, m->text, n);
		ready = 1;
	}
	pthread_mutex_unlock(&m->lock);
	if (!ready) {
		refuse(m, fd, 503, "Service Unavailable", deadline);
		return;
	}
	atomic_fetch_add_explicit(&m->scrapes, 1, memory_order_relaxed);
	answer(m, fd, 200, "OK", m->copy, n, head, deadline);
}

static void *serve(void *arg)
{
	struct cep_metrics *m = arg;

	for (;;) {
		struct pollfd p[2] = { { m->lfd, POLLIN, 0 },
				       { m->wake_fd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			cep_error("metrics: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* the client gave up, or out of fds: next */
		serve_one(m, fd);
		/* Say we are done writing, then close: the client reads the
		 * whole answer before it sees the end. */
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

static int listen_on(const char *addr, int *out)
{
	char host[CEP_CONFIG_HOST_MAX], err[160];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int lo, fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (cep_config_parse_listen(addr, host, &port, &lo, err, sizeof err)) {
		cep_error("metrics: %s", err);
		return -EINVAL;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof *s4;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16))
		goto fail;
	*out = fd;
	if (!lo)
		cep_warn("metrics: serving %s beyond this host "
			 "(metrics_public): the endpoint has no authentication",
			 addr);
	else
		cep_info("metrics: serving http://%s/metrics", addr);
	return 0;
fail:;
	int rc = -errno;
	cep_error("metrics: cannot listen on %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int cep_metrics_create(const char *addr, size_t ninputs,
		       struct cep_metrics **out)
{
	struct cep_metrics *m = calloc(1, sizeof *m);
	int rc = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->lfd = m->wake_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->snap.ninputs = ninputs;
	if (ninputs && !(m->snap.inputs = calloc(ninputs,
						  sizeof *m->snap.inputs)))
		goto fail;
	if ((rc = listen_on(addr, &m->lfd)))
		goto fail;
	if ((m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = -pthread_create(&m->thread, NULL, serve, m)))
		goto fail;
	m->started = 1;
	*out = m;
	return 0;
fail:
	cep_metrics_destroy(m);
	return rc;
}

void cep_metrics_destroy(struct cep_metrics *m)
{
	uint64_t one = 1;

	if (!m)
		return;
	if (m->started) {
		if (write(m->wake_fd, &one, sizeof one) < 0)
			cep_error("metrics: cannot wake the server thread: %s",
				  strerror(errno));
		pthread_join(m->thread, NULL);
	}
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	pthread_mutex_destroy(&m->lock);
	free(m->render.buf);
	free(m->text);
	free(m->copy);
	free(m->keys);
	free(m->prio);
	free(m->snap.inputs);
	free(m);
}
