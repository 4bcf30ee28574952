/*
 * publish.c - the Redis Streams publisher (see include/ceptor/publish.h).
 *
 * Each message is formatted once, at add(), as the RESP bytes of its XADD
 * command and appended to the arena; the index `ents` records where each
 * one starts.  Consecutive messages are contiguous, so a whole batch leaves
 * with one send(2) loop straight from the arena, and hiredis is used only
 * to connect and to parse replies (redisGetReply).  Writing ourselves with
 * MSG_NOSIGNAL also means a Redis that dies can never raise SIGPIPE, so the
 * module changes no process-wide signal setting.
 *
 * The queue, as indices into ents:
 *
 *   0 .. acked_i        replies read; reclaimed by compact()
 *   acked_i .. sent_i   written, replies pending (at most two batches)
 *   sent_i .. nent      copied, not written
 *
 * batch_start is the first index of the batch written last: pump() reads
 * replies only up to it, so one batch is always travelling while Redis
 * answers the one before (the pipelining of DESIGN.md section 10).
 *
 * Outage path: conn_lost() moves every unacknowledged entry to the spool in
 * order, except entries that came from the spool itself (they are still in
 * the file, past the spool's head).  From then on the order rests on one
 * rule: while the spool holds an unconsumed record, it is the queue.  Each
 * pump first appends what add() queued to the spool, behind the older
 * records, and then (connected) replays the spool from its head; only when
 * a replay has had every record acknowledged is the spool truncated and
 * does direct sending resume.  A replay entry carries its record's spool
 * mark, and read_replies() consumes the spool up to it as the reply arrives,
 * so a replay cut short by an outage resumes at the first unacknowledged
 * record: the only repeats are the at-least-once resends of the (at most
 * two) batches in flight when the connection broke.
 *
 * Reconnects back off: after each failed attempt the wait doubles, from
 * reconnect_ms up to BACKOFF_MAX_MS, and a success resets it.  This matters
 * because the engine flushes on its core thread, and an attempt can block
 * for connect_ms.
 *
 * Redis Cluster (CLUSTER.md).  The first connect asks CLUSTER SLOTS; a
 * cluster turns p->cluster on, and transfer() becomes cluster_transfer():
 * synchronous rounds over one connection per master (struct node), where
 * each entry carries its hash slot (computed at enqueue) and a `done` mark,
 * because replies from several masters come in any order.  acked_i then
 * advances over the prefix of done entries, which is what consumes the
 * spool and keeps the cursors above meaning what they say: between two
 * rounds nothing is in flight.  "Connected" means the slot map is loaded;
 * an outage (cluster_lost) spools exactly like conn_lost().  Everything
 * else - the spool, its replay, refusals, the stats - is shared with the
 * single-node path.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ceptor/error.h"
#include "ceptor/publish.h"
#include "lib/log.h"
#include "lib/clock.h"
#include "publish/cluster.h"
#include "publish/latency.h"
#include "publish/spool.h"

#define DEFAULT_BATCH 128u
#define DEFAULT_CONNECT_MS 200
#define DEFAULT_COMMAND_MS 5000
#define DEFAULT_RECONNECT_MS 1000
#define BACKOFF_MAX_MS 30000
#define DEFAULT_SPOOL_MAX (1ull << 30)
/* The first string of a spooled raw command: a stream key is never empty
 * (cep_publisher_add() refuses one), so an empty one tells the two apart. */
#define RAW_MARK ""
/* Cluster mode: the default WAIT (replicas, timeout), the pause between
 * attempts of a round that ran into trouble (doubled up to the longest),
 * and the attempts a round makes on redirections alone before it pauses
 * too (a MOVED/ASK ping-pong must not spin). */
#define DEFAULT_WAIT_REPLICAS 1
#define DEFAULT_WAIT_MS 100
#define RETRY_FIRST_MS 20
#define RETRY_MAX_MS 500
#define REDIRECT_ROUNDS 5
/* After a WAIT that came short, the next WAIT to that master is sent this
 * much later; batches meanwhile are at risk at once. */
#define WAIT_RETRY_MS 1000
/* ent.slot of a command without a key: any master takes it. */
#define NO_SLOT 0xffffu

struct ent {
	size_t off;          /* start of the RESP command in the arena */
	size_t len;
	uint64_t origin_ns;  /* wall clock its latency counts from; 0: none
			      * (commands, replays, cep_publisher_add()) */
	uint64_t spool_mark; /* 0: a new message; else it came from the spool
			      * (never spool it again) and its reply consumes
			      * the spool up to this mark */
	uint16_t slot;       /* the hash slot of its key; NO_SLOT: keyless */
	uint16_t ask;        /* cluster: CEP_CLUSTER_NO_NODE, or the node an
			      * ASK redirection named, for the next attempt
			      * only */
	uint8_t raw;         /* a command of its own (cep_publisher_add_cmd),
			      * not an XADD: spooled behind an empty first
			      * string (RAW_MARK) */
	uint8_t done;        /* cluster: 0 no reply yet, 1 accepted, 2
			      * refused; single mode leaves it 0 */
};

/* Cluster mode: one master.  The arrays are the scratch of one attempt of
 * a round: q holds the entries routed here, as index << 1 | asking. */
struct node {
	redisContext *c;     /* NULL until needed, and after a failure */
	char *out;           /* the attempt's bytes, written in one go */
	size_t olen, ocap;
	size_t *q;
	size_t nq, qcap;
	int sent;            /* the attempt's bytes went out */
	int wait;            /* a WAIT follows them */
	int down_logged;     /* its loss was logged; cleared on reconnect */
	int unreplicated;    /* no WAIT this time: the last one came short
			      * less than WAIT_RETRY_MS ago, so the batch is
			      * at risk without asking (and without waiting
			      * wait_ms for replicas that are not there) */
	uint64_t wait_short_ns; /* when a WAIT last came short; 0: never */
	long long wait_got;  /* what it answered */
};

struct cep_publisher {
	struct cep_redis_url url;
	char where[300];          /* "host:port" for messages */
	redisContext *c;          /* NULL while disconnected */
	struct cep_spool *spool;  /* NULL without spool_dir */
	unsigned batch;
	int connect_ms, command_ms, reconnect_ms;
	int backoff_ms;           /* wait before the next attempt */
	int attempted;
	uint64_t last_attempt_ns;

	char *arena;
	size_t alen, acap;
	struct ent *ents;
	size_t nent, ecap;
	size_t acked_i, sent_i, batch_start;

	int spool_dirty;          /* appended since the last fsync */
	int io_err;               /* first spool I/O error since last flush */
	int outage_reported;      /* the connect failure was logged */
	int loss_reported;        /* a loss was logged during this outage */
	char refusal_logged[128]; /* the last error reply written to stderr */
	uint64_t lost_mark, errors_mark;

	/* Scratch for turning an entry back into strings for the spool. */
	const char **sargv;
	size_t *sargvlen;
	size_t scap;

	/* Redis Cluster (detected at the first connect; CLUSTER.md). */
	int mode_known;           /* the first connect asked CLUSTER SLOTS */
	int cluster;              /* routing by slot, p->c unused */
	int cl_up;                /* the slot map is loaded: "connected" */
	int map_stale;            /* refresh before the next attempt */
	int map_refresh_soon;     /* a MOVED came: refresh after the round */
	struct cep_cluster_map map;
	struct node *nodes;       /* beside map.nodes, same indices */
	size_t nnodes;
	unsigned masters;         /* masters serving slots in the map */
	int wait_replicas;        /* 0: no WAIT */
	int wait_ms;
	char wait_cmd[96];        /* WAIT's RESP bytes */
	size_t wait_len;
	char cl_why[640];         /* the latest trouble of a round */

	struct cep_latency *lat;  /* borrowed; NULL: not measured */
	struct cep_publish_stats st;
};

/* --- URL -------------------------------------------------------------------- */

static int url_fail(char *err, size_t errsize, const char *why)
{
	if (err && errsize)
		snprintf(err, errsize, "%s", why);
	return -CEP_ECONFIG;
}

static int parse_num(const char *s, size_t n, long max, long *out)
{
	long v = 0;
	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int cep_redis_url_parse(const char *url, struct cep_redis_url *out,
			char *err, size_t errsize)
{
	const char *s, *end, *slash, *at, *host, *hend, *port = NULL;
	long v;

	memset(out, 0, sizeof *out);
	out->port = 6379;
	if (!url || !*url)
		return url_fail(err, errsize, "empty URL");
	s = url;
	if (!strncmp(s, "redis://", 8))
		s += 8;
	else if (strstr(s, "://"))
		return url_fail(err, errsize,
				"only redis:// is supported (hiredis 0.14 has "
				"no TLS, so no rediss://)");
	end = s + strlen(s);
	slash = strchr(s, '/');
	if (!slash)
		slash = end;
	at = NULL;
	for (const char *q = s; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		if (!colon)
			return url_fail(err, errsize,
					"credentials need a ':' "
					"(redis://:PASSWORD@HOST or "
					"redis://USER:PASSWORD@HOST)");
		size_t ul = (size_t)(colon - s), pl = (size_t)(at - colon - 1);
		if (ul >= sizeof out->user || pl >= sizeof out->pass)
			return url_fail(err, errsize,
					"user name or password too long");
		memcpy(out->user, s, ul);
		memcpy(out->pass, colon + 1, pl);
		s = at + 1;
	}
	if (*s == '[') {
		host = s + 1;
		hend = memchr(host, ']', (size_t)(slash - host));
		if (!hend)
			return url_fail(err, errsize, "IPv6 address without ']'");
		if (hend + 1 < slash) {
			if (hend[1] != ':')
				return url_fail(err, errsize,
						"expected ':PORT' after ']'");
			port = hend + 2;
		}
	} else {
		host = s;
		hend = slash;
		const char *colon = NULL;
		int ncolon = 0;
		for (const char *q = s; q < slash; q++)
			if (*q == ':') {
				colon = q;
				ncolon++;
			}
		if (ncolon > 1)
			return url_fail(err, errsize,
					"an IPv6 address needs brackets: "
					"redis://[::1]:6379");
		if (colon) {
			hend = colon;
			port = colon + 1;
		}
	}
	if (hend == host)
		return url_fail(err, errsize, "no host");
	if ((size_t)(hend - host) >= sizeof out->host)
		return url_fail(err, errsize, "host name too long");
	memcpy(out->host, host, (size_t)(hend - host));
	for (const char *q = out->host; *q; q++)
		if (*q == ' ' || *q == '@' || *q == '/' || *q == '?')
			return url_fail(err, errsize, "bad character in host");
	if (port) {
		if (parse_num(port, (size_t)(slash - port), 65535, &v) || v < 1)
			return url_fail(err, errsize,
					"port must be a number 1..65535");
		out->port = (int)v;
	}
	if (slash < end && slash[1]) {
		if (parse_num(slash + 1, (size_t)(end - slash - 1), INT_MAX, &v))
			return url_fail(err, errsize,
					"database must be a number (/0, /1 ...)");
		out->db = (int)v;
	}
	return 0;
}

/* --- small helpers --------------------------------------------------------- */

static uint64_t now_ns(void)
{
	return cep_clock_mono_ns();
}

static struct timeval ms_tv(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	return tv;
}

static void set_error(struct cep_publisher *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct cep_publisher *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->st.last_error, sizeof p->st.last_error, fmt, ap);
	va_end(ap);
}

static int grow(void **buf, size_t *cap, size_t elem, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *b = realloc(*buf, n * elem);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

static char *put_uint(char *p, size_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_bulk(char *p, const char *s, size_t n)
{
	*p++ = '$';
	p = put_uint(p, n);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

static int send_all(int fd, const char *b, size_t len)
{
	while (len) {
		ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

/* --- the queue ------------------------------------------------------------ */

/*
 * Append XADD argv[0] * argv[1] argv[2] ... to the queue, or, when raw, the
 * command argv[0] argv[1] ... as it is.  argvlen may be NULL
 * (NUL-terminated strings).
 */
static int enqueue(struct cep_publisher *p, size_t argc,
		   const char *const *argv, const size_t *argvlen,
		   uint64_t spool_mark, int raw, uint64_t origin_ns)
{
	size_t need = 1 + 20 + 2 + (1 + 20 + 2 + 4 + 2) + (1 + 20 + 2 + 1 + 2);
	for (size_t i = 0; i < argc; i++)
		need += 1 + 20 + 2 + (argvlen ? argvlen[i] : strlen(argv[i])) +
			2;
	if (grow((void **)&p->arena, &p->acap, 1, p->alen + need) ||
	    grow((void **)&p->ents, &p->ecap, sizeof *p->ents, p->nent + 1))
		return -ENOMEM;
	char *start = p->arena + p->alen, *w = start;
	*w++ = '*';
	w = put_uint(w, raw ? argc : argc + 2);
	*w++ = '\r';
	*w++ = '\n';
	if (raw) {
		for (size_t i = 0; i < argc; i++)
			w = put_bulk(w, argv[i],
				     argvlen ? argvlen[i] : strlen(argv[i]));
	} else {
		w = put_bulk(w, "XADD", 4);
		w = put_bulk(w, argv[0], argvlen ? argvlen[0] : strlen(argv[0]));
		w = put_bulk(w, "*", 1);
		for (size_t i = 1; i < argc; i++)
			w = put_bulk(w, argv[i],
				     argvlen ? argvlen[i] : strlen(argv[i]));
	}
	struct ent *e = &p->ents[p->nent];
	size_t k = raw ? 1 : 0; /* the key: XADD's stream, a command's
				 * first argument (SADD KEY ..., EXPIRE KEY) */
	e->off = p->alen;
	e->len = (size_t)(w - start);
	e->spool_mark = spool_mark;
	e->origin_ns = origin_ns;
	e->raw = (uint8_t)raw;
	e->done = 0;
	e->ask = CEP_CLUSTER_NO_NODE;
	e->slot = k < argc ? (uint16_t)cep_cluster_key_slot(
				     argv[k], argvlen ? argvlen[k]
						      : strlen(argv[k]))
			   : NO_SLOT;
	p->nent++;
	p->alen += (size_t)(w - start);
	return 0;
}

/* Read back the strings of an entry into sargv: stream, fields... for an
 * XADD; RAW_MARK, then the command's words, for a raw command. */
static int entry_strings(struct cep_publisher *p, const struct ent *e,
			 size_t *argc_out)
{
	const char *q = p->arena + e->off, *end = q + e->len;
	size_t n = 0, argc;

	if (*q++ != '*')
		abort();
	while (*q != '\r')
		n = n * 10 + (size_t)(*q++ - '0');
	q += 2;
	argc = e->raw ? n + 1 : n - 2; /* raw: add the mark; XADD: drop XADD
					* and "*" */
	if (argc > p->scap) {
		const char **a = realloc(p->sargv, argc * sizeof *a);
		if (!a)
			return -ENOMEM;
		p->sargv = a;
		size_t *l = realloc(p->sargvlen, argc * sizeof *l);
		if (!l)
			return -ENOMEM;
		p->sargvlen = l;
		p->scap = argc;
	}
	size_t k = 0;
	if (e->raw) {
		p->sargv[k] = RAW_MARK;
		p->sargvlen[k] = 0;
		k++;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		if (q >= end || *q++ != '$')
			abort(); /* we wrote it: a broken invariant */
		while (*q != '\r')
			len = len * 10 + (size_t)(*q++ - '0');
		q += 2;
		if (e->raw || i == 1 || i >= 3) {
			p->sargv[k] = q;
			p->sargvlen[k] = len;
			k++;
		}
		q += len + 2;
	}
	*argc_out = argc;
	return 0;
}

static void report_loss(struct cep_publisher *p, const char *why)
{
	if (p->loss_reported)
		return;
	p->loss_reported = 1;
	cep_error("publisher: messages for Redis at %s are being LOST: %s",
		  p->where, why);
}

/* Move entries [from, nent) to the spool (or count them lost); empty the
 * queue. */
static void spool_queue(struct cep_publisher *p, size_t from)
{
	for (size_t i = from; i < p->nent; i++) {
		const struct ent *e = &p->ents[i];
		size_t argc;
		int rc;

		if (e->spool_mark || e->done)
			continue; /* still in the spool; or answered (cluster
				   * rounds answer out of order) */
		if (!p->spool) {
			p->st.lost++;
			report_loss(p, "Redis is unreachable and no spool "
				       "directory is configured");
			continue;
		}
		rc = entry_strings(p, e, &argc);
		if (rc == 0)
			rc = cep_spool_append(p->spool, argc, p->sargv,
					      p->sargvlen);
		if (rc == 0) {
			p->st.spooled++;
			p->spool_dirty = 1;
			continue;
		}
		p->st.lost++;
		if (rc == -ENOSPC) {
			set_error(p, "spool full: message lost");
			continue; /* the spool has said so loudly */
		}
		if (!p->io_err)
			p->io_err = rc;
		set_error(p, "spool %s: %s", cep_spool_path(p->spool),
			  cep_strerror(rc));
		report_loss(p, p->st.last_error);
	}
	p->alen = 0;
	p->nent = p->acked_i = p->sent_i = p->batch_start = 0;
}

/* Slide the unacknowledged part of the queue to the front. */
static void compact(struct cep_publisher *p)
{
	if (p->acked_i == 0)
		return;
	if (p->acked_i == p->nent) {
		p->alen = 0;
		p->nent = p->acked_i = p->sent_i = p->batch_start = 0;
		return;
	}
	if (p->acked_i < p->nent / 2)
		return; /* not worth a move yet; amortised O(1) per message */
	size_t base = p->ents[p->acked_i].off, keep = p->nent - p->acked_i;
	memmove(p->arena, p->arena + base, p->alen - base);
	p->alen -= base;
	memmove(p->ents, p->ents + p->acked_i, keep * sizeof *p->ents);
	for (size_t i = 0; i < keep; i++)
		p->ents[i].off -= base;
	p->sent_i -= p->acked_i;
	p->batch_start = p->batch_start > p->acked_i
				 ? p->batch_start - p->acked_i : 0;
	p->nent = keep;
	p->acked_i = 0;
}

/* --- the connection -------------------------------------------------------- */

static void conn_lost(struct cep_publisher *p, const char *why)
{
	set_error(p, "connection to Redis at %s lost: %s", p->where, why);
	if (!p->outage_reported) {
		p->outage_reported = 1;
		cep_warn("publisher: %s; spooling until it is back",
			 p->st.last_error);
	}
	p->st.disconnects++;
	redisFree(p->c);
	p->c = NULL;
	p->last_attempt_ns = now_ns();
	spool_queue(p, p->acked_i);
}

/* One command, unpipelined, its reply in *out (release with
 * freeReplyObject); 0, -CEP_EREDIS (the connection failed) or -ENOMEM. */
static int command(redisContext *c, int argc, const char **argv,
		   redisReply **out, char *why, size_t whysize)
{
	char *cmd = NULL;
	redisReply *r = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, NULL);

	*out = NULL;
	if (len < 0) {
		snprintf(why, whysize, "out of memory");
		return -ENOMEM;
	}
	/* send_all, not redisCommand: MSG_NOSIGNAL keeps SIGPIPE away. */
	int w = send_all(c->fd, cmd, (size_t)len);
	free(cmd);
	if (w) {
		snprintf(why, whysize, "%s", strerror(-w));
		return -CEP_EREDIS;
	}
	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
		snprintf(why, whysize, "%s",
			 c->errstr[0] ? c->errstr : "no reply");
		return -CEP_EREDIS;
	}
	*out = r;
	return 0;
}

/* One command at connect time (AUTH, SELECT); 0, -CEP_EREDIS or -ENOMEM. */
static int connect_command(redisContext *c, int argc, const char **argv,
			   char *why, size_t whysize)
{
	redisReply *r;
	int rc = command(c, argc, argv, &r, why, whysize);

	if (rc)
		return rc;
	rc = -CEP_EREDIS;
	if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, whysize, "%s %s", argv[0], r->str);
	else
		rc = 0;
	freeReplyObject(r);
	return rc;
}

int cep_redis_connect(const struct cep_redis_url *u, int connect_timeout_ms,
		      int command_timeout_ms, struct redisContext **out,
		      char *err, size_t errsize)
{
	char why[160];
	redisContext *c;
	int rc;

	*out = NULL;
	if (connect_timeout_ms <= 0 || command_timeout_ms <= 0) {
		snprintf(why, sizeof why, "timeouts must be positive");
		rc = -EINVAL;
		goto out;
	}
	c = redisConnectWithTimeout(u->host, u->port, ms_tv(connect_timeout_ms));
	if (!c) {
		snprintf(why, sizeof why, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = -CEP_EREDIS;
	if (c->err) {
		snprintf(why, sizeof why, "%s", c->errstr);
		goto fail;
	}
	/* hiredis 0.14 forgets the command timeout with every new socket
	 * (redisReconnect included), so it is set after every connect. */
	if (redisSetTimeout(c, ms_tv(command_timeout_ms)) != REDIS_OK) {
		snprintf(why, sizeof why, "cannot set the timeout: %s",
			 c->errstr);
		goto fail;
	}
	redisEnableKeepAlive(c);
	if (u->pass[0]) {
		/* Redis 6 ACL form with a user, the classic form without. */
		const char *av[3] = { "AUTH", u->user, u->pass };
		int ac = 3;
		if (!u->user[0]) {
			av[1] = u->pass;
			ac = 2;
		}
		rc = connect_command(c, ac, av, why, sizeof why);
		if (rc)
			goto fail;
	}
	if (u->db) {
		char db[16];
		snprintf(db, sizeof db, "%d", u->db);
		const char *av[2] = { "SELECT", db };
		rc = connect_command(c, 2, av, why, sizeof why);
		if (rc)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	redisFree(c);
out:
	if (err && errsize)
		snprintf(err, errsize, "%s", why);
	return rc;
}

/* --- Redis Cluster ----------------------------------------------------------- */

/* Messages queued before the queue moves: `batch` for a single Redis; in
 * cluster mode `batch` per master, since a round spreads over the masters
 * and waits for the slowest, so each should get a batch's worth. */
static size_t round_size(const struct cep_publisher *p)
{
	return p->cluster && p->masters > 1 ? (size_t)p->batch * p->masters
					    : p->batch;
}

static void refused(struct cep_publisher *p, const redisReply *r);

/* Entry e was just acknowledged: its latency, when it has an origin (a
 * replayed entry has none: the spool does not keep it). */
static void note_latency(struct cep_publisher *p, const struct ent *e)
{
	if (p->lat && e->origin_ns)
		cep_latency_record_since(p->lat, e->origin_ns, cep_clock_wall_ns());
}

static int connected(const struct cep_publisher *p)
{
	return p->cluster ? p->cl_up : p->c != NULL;
}

static void node_drop(struct node *n)
{
	redisFree(n->c);
	n->c = NULL;
}

/* Give every node of the map its slot in p->nodes. */
static int nodes_fit(struct cep_publisher *p)
{
	if (p->nnodes >= p->map.nnodes)
		return 0;
	struct node *a = realloc(p->nodes, p->map.cap * sizeof *a);
	if (!a)
		return -ENOMEM;
	memset(a + p->nnodes, 0, (p->map.cap - p->nnodes) * sizeof *a);
	p->nodes = a;
	p->nnodes = p->map.cap;
	return 0;
}

static int node_connect(struct cep_publisher *p, size_t n, char *why,
			size_t whysize)
{
	struct cep_redis_url u = p->url;
	const struct cep_cluster_addr *a = &p->map.nodes[n];

	snprintf(u.host, sizeof u.host, "%s", a->host);
	u.port = a->port;
	u.db = 0; /* a cluster has database 0 only */
	int rc = cep_redis_connect(&u, p->connect_ms, p->command_ms,
				   &p->nodes[n].c, why, whysize);
	if (rc == 0 && p->nodes[n].down_logged) {
		p->nodes[n].down_logged = 0;
		cep_info("publisher: cluster node %s:%d answers again", a->host,
			 a->port);
	}
	return rc;
}

/* A master failed us (connect, write or read): say so once until it
 * answers again; the rounds retry and read the map again meanwhile. */
static void node_down(struct cep_publisher *p, size_t ni, const char *why)
{
	snprintf(p->cl_why, sizeof p->cl_why, "%s:%d: %s",
		 p->map.nodes[ni].host, p->map.nodes[ni].port, why);
	p->map_stale = 1;
	if (p->nodes[ni].down_logged)
		return;
	p->nodes[ni].down_logged = 1;
	cep_warn("publisher: cluster master %s; retrying and reading the "
		 "slot map again", p->cl_why);
}

/* Say which masters serve slots now, when that changed. */
static void map_changed(const struct cep_publisher *p, const uint16_t *old)
{
	char list[512];
	size_t len = 0;
	unsigned masters = 0;

	if (!memcmp(old, p->map.slot_node, sizeof p->map.slot_node))
		return;
	list[0] = 0;
	for (size_t n = 0; n < p->map.nnodes; n++)
		for (size_t s = 0; s < CEP_CLUSTER_SLOTS; s++)
			if (p->map.slot_node[s] == n) {
				masters++;
				if (len < sizeof list - 1)
					len += (size_t)snprintf(
						list + len, sizeof list - len,
						" %s:%d", p->map.nodes[n].host,
						p->map.nodes[n].port);
				break;
			}
	cep_info("publisher: the cluster's slot map changed: %u masters:%s",
		 masters, list);
}

/* Distinct masters serving slots: the node list also keeps nodes that no
 * longer do. */
static unsigned count_masters(const struct cep_cluster_map *m)
{
	unsigned n = 0;
	for (size_t i = 0; i < m->nnodes; i++)
		for (size_t s = 0; s < CEP_CLUSTER_SLOTS; s++)
			if (m->slot_node[s] == i) {
				n++;
				break;
			}
	return n;
}

/* Ask c for CLUSTER SLOTS and load the answer.  Returns 0; 1 when the
 * node says it is no cluster (an error reply); -CEP_EREDIS when the
 * connection failed; -EPROTO, -ENOMEM, -ENOSPC (cep_cluster_map_load). */
static int map_load_from(struct cep_publisher *p, redisContext *c,
			 const char *host, char *why, size_t whysize)
{
	const char *av[2] = { "CLUSTER", "SLOTS" };
	redisReply *r;
	int rc = command(c, 2, av, &r, why, whysize);

	if (rc)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whysize, "CLUSTER SLOTS: %s", r->str);
		freeReplyObject(r);
		return 1;
	}
	rc = cep_cluster_map_load(&p->map, r, host, why, whysize);
	freeReplyObject(r);
	if (rc == 0)
		rc = nodes_fit(p);
	if (rc == 0)
		p->masters = count_masters(&p->map);
	return rc;
}

static int map_read(struct cep_publisher *p, char *why, size_t whysize);

/*
 * Read the slot map again from any node that answers: the masters already
 * connected first, then every node of the map, then the URL's node.  The
 * search ends once command_timeout_ms has gone by, so that a frozen
 * cluster (every node accepting connections but answering nothing) costs
 * one timeout, not one per node.
 * Returns 0, or -CEP_EREDIS with the last reason in why.
 */
static int map_refresh(struct cep_publisher *p, char *why, size_t whysize)
{
	uint16_t *old = malloc(sizeof p->map.slot_node);
	int rc = -ENOMEM;

	if (old) {
		memcpy(old, p->map.slot_node, sizeof p->map.slot_node);
		rc = map_read(p, why, whysize);
		if (rc == 0)
			map_changed(p, old);
		free(old);
	}
	return rc;
}

/* map_refresh()'s work: ask the candidates in turn. */
static int map_read(struct cep_publisher *p, char *why, size_t whysize)
{
	uint64_t start = now_ns(), limit = (uint64_t)p->command_ms * 1000000ull;

	snprintf(why, whysize, "no node of the cluster answers");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->map.nnodes && i < p->nnodes; i++) {
			if ((pass == 0) != (p->nodes[i].c != NULL))
				continue;
			if (now_ns() - start >= limit)
				return -CEP_EREDIS;
			if (!p->nodes[i].c && node_connect(p, i, why, whysize))
				continue;
			/* A load may grow p->nodes: index it afresh. */
			int rc = map_load_from(p, p->nodes[i].c,
					       p->map.nodes[i].host, why,
					       whysize);
			if (rc == 0)
				return 0;
			if (rc == -CEP_EREDIS)
				node_drop(&p->nodes[i]);
		}
	redisContext *c;
	if (now_ns() - start < limit &&
	    cep_redis_connect(&p->url, p->connect_ms, p->command_ms, &c, why,
			      whysize) == 0) {
		int rc = map_load_from(p, c, p->url.host, why, whysize);
		redisFree(c);
		if (rc == 0)
			return 0;
	}
	return -CEP_EREDIS;
}

/* The first connect: is this a cluster node?  Called with p->c up.
 * Returns 0 (the mode is known; in cluster mode p->c is closed and the map
 * is loaded) or -CEP_EREDIS. */
static int detect_mode(struct cep_publisher *p, char *why, size_t whysize)
{
	int rc = map_load_from(p, p->c, p->url.host, why, whysize);

	if (rc == 1) {
		p->mode_known = 1; /* a single Redis: "cluster support disabled" */
		return 0;
	}
	if (rc == -CEP_EREDIS) {
		redisFree(p->c);
		p->c = NULL;
		return rc;
	}
	redisFree(p->c);
	p->c = NULL;
	if (rc) {
		/* A cluster node whose map cannot be read: not usable yet. */
		p->cluster = 1;
		p->mode_known = 1;
		return -CEP_EREDIS;
	}
	p->cluster = 1;
	p->mode_known = 1;
	p->cl_up = 1;
	snprintf(p->where, sizeof p->where, "%s:%d (cluster)", p->url.host,
		 p->url.port);
	cep_info("publisher: Redis at %s is a cluster node: %u masters, "
		 "routing by hash slot%s", p->where, p->masters,
		 p->wait_replicas ? ", WAIT after each batch" : "");
	return 0;
}

/* The cluster is out of reach (a round ran out of time, or no node gave a
 * map): like conn_lost(), everything unanswered goes to the spool. */
static void cluster_lost(struct cep_publisher *p, const char *why)
{
	set_error(p, "Redis at %s: %s", p->where, why);
	if (!p->outage_reported) {
		p->outage_reported = 1;
		cep_warn("publisher: %s; spooling until it is back",
			 p->st.last_error);
	}
	p->st.disconnects++;
	p->cl_up = 0;
	p->map_stale = 1;
	p->last_attempt_ns = now_ns();
	spool_queue(p, p->acked_i);
}

/* The value of an XADD entry's field (its first occurrence), or NULL. */
static const char *entry_field(const struct cep_publisher *p,
			       const struct ent *e, const char *name,
			       size_t *len)
{
	const char *q = p->arena + e->off, *end = q + e->len;
	size_t n = 0, nl = strlen(name);

	if (e->raw)
		return NULL;
	q++;
	while (*q != '\r')
		n = n * 10 + (size_t)(*q++ - '0');
	q += 2;
	const char *prev = NULL;
	size_t prevlen = 0;
	for (size_t i = 0; i < n && q < end; i++) {
		size_t l = 0;
		q++;
		while (*q != '\r')
			l = l * 10 + (size_t)(*q++ - '0');
		q += 2;
		/* XADD KEY * F V F V: fields at 3, 5 ...; values follow. */
		if (i >= 4 && i % 2 == 0 && prev && prevlen == nl &&
		    !memcmp(prev, name, nl)) {
			*len = l;
			return q;
		}
		prev = q;
		prevlen = l;
		q += l + 2;
	}
	return NULL;
}

/*
 * WAIT said fewer replicas than asked have the batch: count the entries
 * the node accepted in this attempt and name the incidents, once per batch.
 */
static void at_risk(struct cep_publisher *p, size_t ni, long long got,
		    const char *why)
{
	const struct node *n = &p->nodes[ni];
	char line[4096];
	size_t len = 0, count = 0, shown = 0;

	for (size_t k = 0; k < n->nq; k++) {
		const struct ent *e = &p->ents[n->q[k] >> 1];
		size_t il = 0, vl = 0;
		if (e->done != 1)
			continue;
		count++;
		const char *id = entry_field(p, e, "id", &il);
		const char *ver = entry_field(p, e, "version", &vl);
		if (!ver) {
			ver = "?";
			vl = 1;
		}
		if (!id || len + il + vl + 8 >= sizeof line)
			continue;
		len += (size_t)snprintf(line + len, sizeof line - len, " %.*s/%.*s",
					(int)il, id, (int)vl, ver);
		shown++;
	}
	if (!count)
		return;
	p->st.at_risk += count;
	set_error(p, "at risk: %s", why);
	cep_warn("publisher: %s:%d: %s for a batch of %zu; at risk (counted, "
		 "not resent), %zu named (id/version):%s%s",
		 p->map.nodes[ni].host, p->map.nodes[ni].port, why, count,
		 shown, line, got < 0 ? " (WAIT unanswered)" : "");
}

/* Route every unanswered entry to its master's q; 1 when some entry has
 * no master in the map. */
static int route(struct cep_publisher *p)
{
	int unroutable = 0;
	uint16_t any = CEP_CLUSTER_NO_NODE;

	for (size_t i = 0; i < p->nnodes; i++)
		p->nodes[i].nq = p->nodes[i].olen = 0;
	for (size_t s = 0; s < CEP_CLUSTER_SLOTS; s++)
		if (p->map.slot_node[s] != CEP_CLUSTER_NO_NODE) {
			any = p->map.slot_node[s];
			break;
		}
	for (size_t i = p->acked_i; i < p->nent; i++) {
		struct ent *e = &p->ents[i];
		uint16_t t;
		int asking = 0;
		if (e->done)
			continue;
		if (e->ask != CEP_CLUSTER_NO_NODE) {
			t = e->ask;
			e->ask = CEP_CLUSTER_NO_NODE; /* once */
			asking = 1;
		} else {
			t = e->slot == NO_SLOT ? any : p->map.slot_node[e->slot];
		}
		if (t == CEP_CLUSTER_NO_NODE || t >= p->nnodes) {
			/* No master, or one whose node slot could not be
			 * allocated (nodes_fit failed): retried later. */
			unroutable = 1;
			continue;
		}
		struct node *n = &p->nodes[t];
		if (grow((void **)&n->q, &n->qcap, sizeof *n->q, n->nq + 1))
			abort(); /* small; see the note in cluster_transfer */
		n->q[n->nq++] = i << 1 | (size_t)asking;
	}
	return unroutable;
}

static const char ASKING_CMD[] = "*1\r\n$6\r\nASKING\r\n";

/* Connect when needed and write node ni's batch (and its WAIT); 1 when it
 * could not (the node's entries stay unanswered), 0 when written. */
static int node_send(struct cep_publisher *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	char why[160];

	n->sent = n->wait = n->unreplicated = 0;
	if (!n->c && node_connect(p, ni, why, sizeof why)) {
		node_down(p, ni, why);
		return 1;
	}
	size_t need = p->wait_len;
	for (size_t k = 0; k < n->nq; k++)
		need += p->ents[n->q[k] >> 1].len + sizeof ASKING_CMD;
	if (grow((void **)&n->out, &n->ocap, 1, need))
		abort();
	n->olen = 0;
	for (size_t k = 0; k < n->nq; k++) {
		const struct ent *e = &p->ents[n->q[k] >> 1];
		if (n->q[k] & 1) {
			memcpy(n->out + n->olen, ASKING_CMD,
			       sizeof ASKING_CMD - 1);
			n->olen += sizeof ASKING_CMD - 1;
		}
		memcpy(n->out + n->olen, p->arena + e->off, e->len);
		n->olen += e->len;
	}
	if (p->wait_replicas && n->wait_short_ns &&
	    now_ns() - n->wait_short_ns < WAIT_RETRY_MS * 1000000ull) {
		n->unreplicated = 1;
	} else if (p->wait_replicas) {
		memcpy(n->out + n->olen, p->wait_cmd, p->wait_len);
		n->olen += p->wait_len;
		n->wait = 1;
	}
	int rc = send_all(n->c->fd, n->out, n->olen);
	if (rc) {
		node_drop(n);
		node_down(p, ni, strerror(-rc));
		return 1;
	}
	p->st.sent += n->nq;
	n->sent = 1;
	return 0;
}

/* Error replies that say "not now" rather than "not this": a server
 * loading its data set after a restart, running a long script, or a
 * cluster without a quorum.  The message is kept and sent again. */
static bool transient(const redisReply *r)
{
	static const char *const now_not[] = {
		"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN",
	};
	for (size_t i = 0; i < sizeof now_not / sizeof now_not[0]; i++) {
		size_t n = strlen(now_not[i]);
		if (r->len >= n && !strncmp(r->str, now_not[i], n) &&
		    (r->len == n || r->str[n] == ' '))
			return true;
	}
	return false;
}

/* One reply to entry e from node ni.  Returns 1 when the entry needs a
 * pause before its next attempt (CLUSTERDOWN, TRYAGAIN ...), else 0. */
static int classify(struct cep_publisher *p, size_t ni, struct ent *e,
		    const redisReply *r)
{
	char host[256];
	unsigned slot;
	int ask, port;

	if (r->type != REDIS_REPLY_ERROR) {
		e->done = 1;
		if (e->raw)
			p->st.commands++;
		else
			p->st.acked++;
		if (e->spool_mark)
			p->st.replayed++;
		note_latency(p, e);
		return 0;
	}
	if (cep_cluster_redirect_parse(r->str, r->len, &ask, &slot, host,
				       sizeof host, &port) == 0) {
		if (!host[0])
			snprintf(host, sizeof host, "%s", p->map.nodes[ni].host);
		int t = cep_cluster_map_node(&p->map, host, port);
		if (t < 0 || nodes_fit(p)) {
			snprintf(p->cl_why, sizeof p->cl_why,
				 "cannot follow %.*s", (int)r->len, r->str);
			p->map_stale = 1;
			return 1;
		}
		p->st.redirects++;
		if (ask) {
			p->st.asks++;
			e->ask = (uint16_t)t;
		} else {
			/* Resend there at once; read the whole map once the
			 * round is over (one MOVED rarely comes alone). */
			p->map.slot_node[slot] = (uint16_t)t;
			p->map_refresh_soon = 1;
		}
		return 0;
	}
	if (transient(r)) {
		snprintf(p->cl_why, sizeof p->cl_why, "%s:%d: %.*s",
			 p->map.nodes[ni].host, p->map.nodes[ni].port,
			 (int)r->len, r->str);
		p->map_stale = 1;
		return 1;
	}
	e->done = 2;
	refused(p, r);
	return 0;
}

/* Read node ni's replies: one per entry (after ASKING's), then WAIT's.
 * Returns 1 when something needs a pause before the next attempt. */
static int node_read(struct cep_publisher *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	int trouble = 0;
	redisReply *r = NULL;
	char why_io[128];
	size_t k;

	for (k = 0; k < n->nq; k++) {
		struct ent *e = &p->ents[n->q[k] >> 1];
		if (n->q[k] & 1) {
			if (redisGetReply(n->c, (void **)&r) != REDIS_OK || !r)
				goto io;
			freeReplyObject(r); /* ASKING's +OK */
		}
		if (redisGetReply(n->c, (void **)&r) != REDIS_OK || !r)
			goto io;
		trouble |= classify(p, ni, e, r);
		freeReplyObject(r);
	}
	if (n->wait) {
		if (redisGetReply(n->c, (void **)&r) != REDIS_OK || !r)
			goto io;
		if (r->type == REDIS_REPLY_INTEGER &&
		    r->integer >= p->wait_replicas)
			n->wait_short_ns = 0;
		if (r->type != REDIS_REPLY_INTEGER ||
		    r->integer < p->wait_replicas) {
			char why[96];
			n->wait_short_ns = now_ns();
			n->wait_got = r->type == REDIS_REPLY_INTEGER
					      ? r->integer : 0;
			if (r->type == REDIS_REPLY_INTEGER)
				snprintf(why, sizeof why,
					 "WAIT %d %d: %lld replicas",
					 p->wait_replicas, p->wait_ms,
					 r->integer);
			else
				snprintf(why, sizeof why, "WAIT: %.*s",
					 r->type == REDIS_REPLY_ERROR
						 ? (int)r->len : 0,
					 r->type == REDIS_REPLY_ERROR ? r->str
								      : "");
			at_risk(p, ni, r->type == REDIS_REPLY_INTEGER
					       ? r->integer : -1, why);
		}
		freeReplyObject(r);
	}
	if (n->unreplicated) {
		char why[96];
		snprintf(why, sizeof why, "WAIT %d %d: %lld replicas less than "
			 "%d ms ago (not asked again yet)", p->wait_replicas,
			 p->wait_ms, n->wait_got, WAIT_RETRY_MS);
		at_risk(p, ni, n->wait_got, why);
	}
	return trouble;
io:
	if (n->c->err == REDIS_ERR_IO &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		snprintf(why_io, sizeof why_io, "no reply within %d ms",
			 p->command_ms);
	else
		snprintf(why_io, sizeof why_io, "%s",
			 n->c->errstr[0] ? n->c->errstr : "no reply");
	/* Accepted but never confirmed by WAIT: as much at risk. */
	if (n->wait) {
		n->nq = k;
		at_risk(p, ni, -1, "connection lost before WAIT answered");
	}
	node_drop(n);
	node_down(p, ni, why_io);
	return 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Deliver every entry of the queue to the cluster, in rounds of attempts:
 * each attempt routes the unanswered entries (in queue order) to their
 * masters, writes every master's batch before reading any reply, then
 * reads them all.  Redirections are followed at the next attempt; a
 * connection error, CLUSTERDOWN or TRYAGAIN pauses (20 ms, doubling to
 * 500 ms) and reads the map again.  Entries of one slot share a master
 * and an attempt, and a failure leaves them unanswered from the first
 * that failed on, so they are resent in order.  A round that has not
 * delivered everything within command_timeout_ms is an outage
 * (cluster_lost: the rest goes to the spool).  Returns 0 or -CEP_EREDIS.
 *
 * The node arrays grow by a handful of indices at most (they are reused
 * round after round); failing to grow them aborts like a broken invariant
 * rather than threading -ENOMEM through the retry loop.
 */
static int cluster_transfer(struct cep_publisher *p)
{
	uint64_t start = now_ns();
	int pause = RETRY_FIRST_MS;
	char why[160];

	p->sent_i = p->nent;
	for (unsigned attempt = 1;; attempt++) {
		int trouble = 0;
		if (p->map_stale && map_refresh(p, why, sizeof why) == 0)
			p->map_stale = p->map_refresh_soon = 0;
		if (route(p)) {
			trouble = 1;
			p->map_stale = 1;
			snprintf(p->cl_why, sizeof p->cl_why,
				 "a hash slot has no master");
		}
		for (size_t i = 0; i < p->nnodes; i++)
			if (p->nodes[i].nq && node_send(p, i)) {
				trouble = 1;
				p->map_stale = 1;
			}
		for (size_t i = 0; i < p->nnodes; i++)
			if (p->nodes[i].nq && p->nodes[i].sent)
				trouble |= node_read(p, i);
		while (p->acked_i < p->nent && p->ents[p->acked_i].done) {
			if (p->ents[p->acked_i].spool_mark)
				cep_spool_consume(p->spool,
						  p->ents[p->acked_i].spool_mark);
			p->acked_i++;
		}
		if (p->acked_i == p->nent)
			break;
		if (now_ns() - start >= (uint64_t)p->command_ms * 1000000ull) {
			cluster_lost(p, p->cl_why);
			return -CEP_EREDIS;
		}
		if (trouble || attempt >= REDIRECT_ROUNDS) {
			sleep_ms(pause);
			pause = pause * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
							 : pause * 2;
		}
	}
	if (p->map_refresh_soon && map_refresh(p, why, sizeof why) == 0)
		p->map_refresh_soon = 0;
	compact(p);
	return 0;
}

/* The wait after a failed attempt: double it, up to BACKOFF_MAX_MS (or
 * reconnect_ms when that is longer: a long interval is never shortened). */
static int next_backoff(const struct cep_publisher *p)
{
	int cap = p->reconnect_ms > BACKOFF_MAX_MS ? p->reconnect_ms
						   : BACKOFF_MAX_MS;
	if (p->reconnect_ms < 0)
		return p->reconnect_ms;
	return p->backoff_ms >= cap / 2 ? cap : p->backoff_ms * 2;
}

static int try_connect(struct cep_publisher *p)
{
	char why[160];
	int rc;

	p->attempted = 1;
	if (p->cluster) {
		rc = map_refresh(p, why, sizeof why);
		if (rc == 0)
			p->cl_up = 1;
	} else {
		rc = cep_redis_connect(&p->url, p->connect_ms, p->command_ms,
				       &p->c, why, sizeof why);
		if (rc == 0 && !p->mode_known)
			rc = detect_mode(p, why, sizeof why);
	}
	/* From the end of the attempt: a slow failure must not eat the
	 * wait that follows it. */
	p->last_attempt_ns = now_ns();
	if (rc == 0) {
		p->backoff_ms = p->reconnect_ms;
		if (p->outage_reported)
			cep_info("publisher: connected to Redis at %s again",
				 p->where);
		p->outage_reported = 0;
		p->loss_reported = 0;
		return 0;
	}
	p->backoff_ms = next_backoff(p);
	p->st.disconnects++;
	set_error(p, "cannot connect to Redis at %s: %s", p->where, why);
	if (!p->outage_reported) {
		p->outage_reported = 1;
		cep_warn("publisher: %s; %s", p->st.last_error,
			 p->spool ? "spooling until it is back"
				  : "no spool: messages will be lost");
	}
	return rc == -ENOMEM ? rc : -CEP_EREDIS;
}

static int reconnect_due(const struct cep_publisher *p)
{
	if (!p->attempted || p->reconnect_ms < 0)
		return 1;
	return now_ns() - p->last_attempt_ns >=
	       (uint64_t)p->backoff_ms * 1000000ull;
}

/* Write every unsent entry; on failure the connection is dropped. */
static int send_unsent(struct cep_publisher *p)
{
	if (p->sent_i == p->nent)
		return 0;
	size_t first = p->ents[p->sent_i].off;
	size_t last = p->ents[p->nent - 1].off + p->ents[p->nent - 1].len;
	int rc = send_all(p->c->fd, p->arena + first, last - first);
	if (rc) {
		char why[64];
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			snprintf(why, sizeof why, "write blocked for %d ms",
				 p->command_ms);
		else
			snprintf(why, sizeof why, "%s", strerror(-rc));
		conn_lost(p, why);
		return -CEP_EREDIS;
	}
	p->st.sent += p->nent - p->sent_i;
	p->batch_start = p->sent_i;
	p->sent_i = p->nent;
	return 0;
}

static void refused(struct cep_publisher *p, const redisReply *r)
{
	p->st.errors++;
	set_error(p, "Redis refused a command: %.*s", (int)r->len, r->str);
	if (strcmp(p->refusal_logged, p->st.last_error)) {
		snprintf(p->refusal_logged, sizeof p->refusal_logged, "%s",
			 p->st.last_error);
		cep_error("publisher: %s (message dropped; further refusals "
			  "like it are only counted)", p->st.last_error);
	}
}

/* Read replies until acked_i reaches upto. */
static int read_replies(struct cep_publisher *p, size_t upto)
{
	while (p->acked_i < upto) {
		redisReply *r = NULL;
		if (redisGetReply(p->c, (void **)&r) != REDIS_OK || !r) {
			char why[128];
			if (p->c->err == REDIS_ERR_IO &&
			    (errno == EAGAIN || errno == EWOULDBLOCK))
				snprintf(why, sizeof why,
					 "no reply within %d ms", p->command_ms);
			else
				snprintf(why, sizeof why, "%s",
					 p->c->errstr[0] ? p->c->errstr
							 : "no reply");
			conn_lost(p, why);
			return -CEP_EREDIS;
		}
		uint64_t mark = p->ents[p->acked_i].spool_mark;
		if (r->type == REDIS_REPLY_ERROR && transient(r)) {
			/* Not a verdict on the message: the server cannot
			 * take writes yet.  An outage like any other: spool
			 * from here and try again after the back-off. */
			char why[128];
			snprintf(why, sizeof why, "%.100s", r->str);
			freeReplyObject(r);
			conn_lost(p, why);
			return -CEP_EREDIS;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			refused(p, r);
		} else {
			if (p->ents[p->acked_i].raw)
				p->st.commands++;
			else
				p->st.acked++;
			if (mark)
				p->st.replayed++;
			note_latency(p, &p->ents[p->acked_i]);
		}
		freeReplyObject(r);
		p->acked_i++;
		/* Delivered or refused, the record is done with: a later
		 * replay starts after it.  Replies come in order, so the
		 * marks only move forward. */
		if (mark)
			cep_spool_consume(p->spool, mark);
	}
	compact(p);
	return 0;
}

/* Send what is queued and read replies: all of them when final, else all
 * but those of the batch just sent. */
static int transfer(struct cep_publisher *p, int final)
{
	if (p->cluster)
		return cluster_transfer(p);
	int rc = send_unsent(p);
	if (rc)
		return rc;
	return read_replies(p, final ? p->nent : p->batch_start);
}

static int replay_record(void *arg, size_t argc, const char *const *argv,
			 const size_t *argvlen)
{
	struct cep_publisher *p = arg;
	int rc;
	if (argc >= 2 && argvlen[0] == 0) {
		/* A raw command behind its mark. */
		rc = enqueue(p, argc - 1, argv + 1, argvlen + 1,
			     cep_spool_replay_mark(p->spool), 1, 0);
		if (rc)
			return rc;
		if (p->nent - p->sent_i >= round_size(p))
			return transfer(p, 0);
		return 0;
	}
	if (argc < 3 || argc % 2 == 0)
		return 0; /* not a message we wrote: skip it (the next
			   * record's mark consumes it, or the truncate) */
	rc = enqueue(p, argc, argv, argvlen,
			 cep_spool_replay_mark(p->spool), 0, 0);
	if (rc)
		return rc;
	if (p->nent - p->sent_i >= round_size(p))
		return transfer(p, 0);
	return 0;
}

/*
 * Replay the spool from its head, in order, and truncate it once every
 * record is acknowledged.  Returns 0 then; otherwise a negative code, and
 * the spool still holds every record not acknowledged, in order (the
 * connection may be gone).
 */
static int replay(struct cep_publisher *p)
{
	struct cep_spool_replay_result res;
	uint64_t before = p->st.replayed;
	int rc;

	if (p->nent != 0)
		abort(); /* pump() spools the queue before a replay */
	rc = cep_spool_replay(p->spool, replay_record, p, &res);
	if (rc == 0) {
		rc = transfer(p, 1);
	} else if (connected(p)) {
		/* The spool could not be read (I/O error, no memory) with
		 * Redis up.  The records queued before the error are still
		 * delivered: their replies consume them, so the next pump's
		 * replay starts after them instead of sending them twice. */
		if (!p->io_err)
			p->io_err = rc;
		set_error(p, "spool replay failed: %s", cep_strerror(rc));
		transfer(p, 1);
	}
	if (rc)
		return rc;
	rc = cep_spool_truncate(p->spool);
	if (rc) {
		/* Every record is consumed, so the spool is not pending and
		 * direct sending may resume; the next outage appends behind
		 * the consumed records and its replay starts at the head. */
		set_error(p, "spool truncate failed: %s", cep_strerror(rc));
		if (!p->io_err)
			p->io_err = rc;
		return rc;
	}
	if (res.records)
		cep_info("publisher: replayed %llu spooled messages to %s "
			 "(%llu acknowledged)",
			 (unsigned long long)res.records, p->where,
			 (unsigned long long)(p->st.replayed - before));
	return 0;
}

/*
 * Move the queue along: reconnect (throttled) when disconnected, replay the
 * spool while it holds anything, then send and read replies.  Never fails:
 * problems end in the spool, the counters and last_error.
 */
static void pump(struct cep_publisher *p, int final)
{
	if (!connected(p)) {
		if (p->spool)
			spool_queue(p, 0);
		if (!reconnect_due(p) || try_connect(p)) {
			if (!p->spool)
				spool_queue(p, 0); /* counts them lost */
			return;
		}
	}
	if (p->spool && cep_spool_pending(p->spool)) {
		/* While the spool holds records, newer messages go behind
		 * them rather than past them.  None of the queue was sent:
		 * the spool only fills when the queue is moved into it. */
		if (p->sent_i != p->acked_i)
			abort();
		spool_queue(p, p->acked_i);
		if (replay(p))
			return;
	}
	transfer(p, final);
}

/* --- public functions ----------------------------------------------------- */

int cep_publisher_create(const struct cep_publish_config *cfg,
			 struct cep_publisher **out)
{
	struct cep_publisher *p;
	char why[160];
	int rc;

	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	rc = cep_redis_url_parse(cfg->url, &p->url, why, sizeof why);
	if (rc) {
		cep_error("publisher: bad Redis URL \"%s\": %s",
			  cfg->url && !strchr(cfg->url, '@') ? cfg->url : "...",
			  why);
		goto fail;
	}
	if (cfg->connect_timeout_ms < 0 || cfg->command_timeout_ms < 0) {
		cep_error("publisher: timeouts must not be negative");
		rc = -CEP_ECONFIG;
		goto fail;
	}
	snprintf(p->where, sizeof p->where,
		 strchr(p->url.host, ':') ? "[%s]:%d" : "%s:%d", p->url.host,
		 p->url.port);
	p->batch = cfg->batch ? cfg->batch : DEFAULT_BATCH;
	p->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
						: DEFAULT_CONNECT_MS;
	p->command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms
						: DEFAULT_COMMAND_MS;
	p->reconnect_ms = cfg->reconnect_ms ? cfg->reconnect_ms
					    : DEFAULT_RECONNECT_MS;
	p->backoff_ms = p->reconnect_ms;
	p->lat = cfg->latency;
	cep_cluster_map_init(&p->map);
	p->wait_replicas = cfg->wait_replicas < 0 ? 0
			   : cfg->wait_replicas   ? cfg->wait_replicas
						  : DEFAULT_WAIT_REPLICAS;
	p->wait_ms = cfg->wait_timeout_ms > 0 ? cfg->wait_timeout_ms
					      : DEFAULT_WAIT_MS;
	if (p->wait_replicas && p->wait_ms >= p->command_ms) {
		cep_error("publisher: the WAIT timeout (%d ms) must be shorter "
			  "than the command timeout (%d ms)", p->wait_ms,
			  p->command_ms);
		rc = -CEP_ECONFIG;
		goto fail;
	}
	{
		char r[16], t[16];
		int rl = snprintf(r, sizeof r, "%d", p->wait_replicas);
		int tl = snprintf(t, sizeof t, "%d", p->wait_ms);
		p->wait_len = (size_t)snprintf(
			p->wait_cmd, sizeof p->wait_cmd,
			"*3\r\n$4\r\nWAIT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", rl,
			r, tl, t);
	}
	if (cfg->spool_dir) {
		rc = cep_spool_open(cfg->spool_dir,
				    cfg->spool_max_bytes ? cfg->spool_max_bytes
							 : DEFAULT_SPOOL_MAX,
				    &p->spool);
		if (rc) {
			cep_error("publisher: cannot open the spool in %s: %s",
				  cfg->spool_dir,
				  rc == -EBUSY ? "another publisher holds it"
					       : cep_strerror(rc));
			goto fail;
		}
	}
	pump(p, 1);
	if (p->spool && p->spool_dirty) {
		cep_spool_sync(p->spool);
		p->spool_dirty = 0;
	}
	*out = p;
	return 0;
fail:
	cep_publisher_destroy(p);
	return rc;
}

int cep_publisher_add(struct cep_publisher *p, const char *stream,
		      const char *const *fv, size_t nfv)
{
	return cep_publisher_add_at(p, stream, fv, nfv, 0);
}

int cep_publisher_add_at(struct cep_publisher *p, const char *stream,
			 const char *const *fv, size_t nfv, uint64_t origin_ns)
{
	if (!stream || !*stream || !fv || nfv == 0 || nfv % 2 ||
	    nfv >= CEP_SPOOL_MAX_ARGS)
		return -EINVAL;
	for (size_t i = 0; i < nfv; i++)
		if (!fv[i])
			return -EINVAL;

	/* argv = stream, fv...: on the stack for the usual message sizes. */
	const char *stackv[65];
	const char **argv = stackv;
	if (nfv + 1 > sizeof stackv / sizeof *stackv) {
		argv = malloc((nfv + 1) * sizeof *argv);
		if (!argv)
			return -ENOMEM;
	}
	argv[0] = stream;
	memcpy(argv + 1, fv, nfv * sizeof *fv);
	int rc = enqueue(p, nfv + 1, argv, NULL, 0, 0, origin_ns);
	if (argv != stackv)
		free(argv);
	if (rc)
		return rc;
	if (p->nent - p->sent_i >= round_size(p))
		pump(p, 0);
	return 0;
}

int cep_publisher_add_cmd(struct cep_publisher *p, const char *const *argv,
			  size_t argc)
{
	if (!argv || argc == 0 || argc >= CEP_SPOOL_MAX_ARGS || !argv[0] ||
	    !*argv[0])
		return -EINVAL;
	for (size_t i = 0; i < argc; i++)
		if (!argv[i])
			return -EINVAL;
	int rc = enqueue(p, argc, argv, NULL, 0, 1, 0);
	if (rc)
		return rc;
	if (p->nent - p->sent_i >= round_size(p))
		pump(p, 0);
	return 0;
}

int cep_publisher_flush(struct cep_publisher *p)
{
	int rc = 0;

	pump(p, 1);
	if (p->spool && p->spool_dirty) {
		int s = cep_spool_sync(p->spool);
		p->spool_dirty = 0;
		if (s) {
			set_error(p, "spool %s: fsync failed: %s",
				  cep_spool_path(p->spool), cep_strerror(s));
			if (!p->io_err)
				p->io_err = s;
		}
	}
	if (p->io_err)
		rc = p->io_err;
	else if (p->st.lost != p->lost_mark || p->st.errors != p->errors_mark)
		rc = -CEP_EREDIS;
	p->io_err = 0;
	p->lost_mark = p->st.lost;
	p->errors_mark = p->st.errors;
	return rc;
}

void cep_publisher_stats(const struct cep_publisher *p,
			 struct cep_publish_stats *st)
{
	*st = p->st;
	st->spool_bytes = p->spool ? cep_spool_bytes(p->spool) : 0;
	st->connected = connected(p);
	st->cluster = p->cluster;
	st->masters = p->cluster ? p->masters : 0;
}

void cep_publisher_destroy(struct cep_publisher *p)
{
	if (!p)
		return;
	if (p->c)
		redisFree(p->c);
	for (size_t i = 0; i < p->nnodes; i++) {
		redisFree(p->nodes[i].c);
		free(p->nodes[i].out);
		free(p->nodes[i].q);
	}
	free(p->nodes);
	cep_cluster_map_fini(&p->map);
	cep_spool_close(p->spool);
	free(p->arena);
	free(p->ents);
	free(p->sargv);
	free(p->sargvlen);
	free(p);
}
