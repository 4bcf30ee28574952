/*
 * publish.h - the Redis Streams publisher and its outage spool.
 *
 * What it is for.  Every message ceptord produces (an incident version, an
 * advisory) leaves the engine as one XADD to a Redis stream.  The publisher
 * turns cep_publisher_add() calls into pipelined XADDs over one hiredis
 * synchronous connection, and keeps them when Redis is away.
 *
 * Design.  Messages are copied, already formatted as Redis commands, into
 * one growing byte arena with an index of offsets.  The arena is a queue
 * with three cursors:
 *
 *       acked            sent                      queued
 *   ------+----------------+-------------------------+-----------> arena
 *   done  | written, reply |  copied, not yet written |
 *         |   not read     |                          |
 *
 * When `batch` messages are queued they are written in one go, and only then
 * are the replies of the batch before them read: Redis works on batch k
 * while batch k+1 travels (DESIGN.md section 10: 846 k/s pipelined like
 * this against 380 k/s when each batch waits for its own replies).  At most
 * two batches are ever unacknowledged; acknowledged space is reclaimed by
 * sliding the arena down, which costs O(1) per message on average.
 *
 * Outages.  When the connection fails (refused, reset, timed out) every
 * unacknowledged message, in order, is appended to the spool file
 * SPOOL_DIR/ceptor.spool (see the spool section below), and so is every
 * later message until a reconnect succeeds.  Reconnects are attempted at
 * most once per `reconnect_ms`, never per message.  After a reconnect, and
 * when a publisher is created over a spool left by an earlier run, the spool
 * is replayed first, in order, and is truncated only once Redis has
 * acknowledged every record of it; only then do newer messages flow again.
 * The order of the messages of one publisher is therefore kept across
 * outages.
 *
 * Delivery is at least once.  A message whose reply was not read when the
 * connection broke may have reached Redis and is spooled and sent again; a
 * spool replay cut short by a second outage starts again from its first
 * record.  Redis 7.0 has no idempotent XADD, so consumers drop repeats by
 * the message's own identity (the incident's `id` and `version` fields).
 *
 * Refusals.  An error reply to one XADD (WRONGTYPE, an ACL refusal, OOM) is
 * about that message: it is counted in stats.errors, the first one is
 * written to stderr and kept in stats.last_error, and the message is
 * dropped, never retried.  A message that can be neither delivered nor
 * spooled (no spool configured, spool full, disk error) is counted in
 * stats.lost and reported on stderr once per outage.
 *
 * Threads.  A publisher belongs to one thread at a time; no function here
 * may run concurrently with another on the same publisher.  Different
 * publishers are independent.  The module changes no process-wide state:
 * it writes to the socket itself with send(MSG_NOSIGNAL), so a Redis that
 * dies cannot raise SIGPIPE, and hiredis only connects and parses replies.
 *
 * Ownership.  The configuration's strings are copied at create.  add()
 * copies the stream name and the fields; the caller keeps its buffers.
 *
 * Errors.  Functions return 0 or a negative errno / CEP_E* code (error.h).
 * A Redis that cannot be reached is not an error of create() or add(): the
 * messages are spooled and the stats say so.
 *
 * Limits (for now).  One Redis node: Redis Cluster routing (CLUSTER SLOTS,
 * MOVED/ASK, DESIGN.md section 2.4) is not here yet, so against a cluster a
 * MOVED reply counts as a refusal.  No TLS (hiredis 0.14 has none).
 */
#ifndef CEPTOR_PUBLISH_H
#define CEPTOR_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct cep_publisher;

struct cep_publish_config {
	/* "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" or "HOST:PORT"; the
	 * port defaults to 6379, HOST may be a bracketed IPv6 address. */
	const char *url;
	/* Directory of the spool file (created if missing); NULL: no spool,
	 * and messages that cannot be delivered are lost (counted). */
	const char *spool_dir;
	unsigned batch;           /* messages per pipelined batch; 0 = 128 */
	int connect_timeout_ms;   /* 0 = 1000 */
	int command_timeout_ms;   /* 0 = 5000; bounds every read and write */
	int reconnect_ms;         /* least time between attempts; 0 = 1000,
				   * negative = try on every add/flush pump */
	uint64_t spool_max_bytes; /* spool file ceiling; 0 = 1 GiB */
};

struct cep_publish_stats {
	uint64_t sent;        /* XADDs written to a connection (resends too) */
	uint64_t acked;       /* XADDs Redis accepted (replayed ones too) */
	uint64_t spooled;     /* messages appended to the spool */
	uint64_t replayed;    /* spool records Redis accepted on replay */
	uint64_t errors;      /* XADDs Redis refused with an error reply */
	uint64_t lost;        /* messages neither delivered nor spooled */
	uint64_t disconnects; /* connections lost or refused */
	uint64_t spool_bytes; /* current size of the spool file */
	int connected;        /* 1 when a connection is up */
	char last_error[128]; /* the latest problem, "" when none */
};

/*
 * cep_publisher_create - parse the URL, open the spool, connect, replay.
 * @cfg: borrowed for the call; its strings are copied.
 * @out: receives a new publisher; release with cep_publisher_destroy().
 * An unreachable Redis is not an error: the publisher starts disconnected
 * and spools.  When the spool holds records from an earlier run and Redis is
 * reachable, they are replayed (in order) before create() returns.
 * Returns 0; -CEP_ECONFIG for a bad URL or option (a one-line reason goes
 * to stderr); -EBUSY when another process holds the spool; -errno when
 * the spool directory or file cannot be opened; -ENOMEM.
 */
int cep_publisher_create(const struct cep_publish_config *cfg,
			 struct cep_publisher **out);

/*
 * cep_publisher_add - queue one XADD STREAM * FIELD VALUE ...
 * @stream: the stream key; copied.
 * @fv, @nfv: field, value, field, value ...; nfv is even and > 0; copied.
 * When `batch` messages are queued, they are written and the replies of the
 * previous batch are read (this may block up to command_timeout_ms, or
 * connect_timeout_ms when a reconnect is due).
 * Returns 0 once the message is queued, whatever then happens to its
 * delivery (see flush and the stats); -EINVAL for a NULL or empty stream,
 * odd or zero nfv, or a NULL string; -ENOMEM.
 */
int cep_publisher_add(struct cep_publisher *p, const char *stream,
		      const char *const *fv, size_t nfv);

/*
 * cep_publisher_flush - write every queued message and read every reply.
 * On a connection failure the unacknowledged messages go to the spool, which
 * is then fsync'd (once per flush, not per record).  If Redis is down a
 * reconnect is attempted first, subject to reconnect_ms.
 * Returns 0 when every message added so far was acknowledged or is safely
 * in the spool (fsync'd); -CEP_EREDIS when, since the previous flush, some
 * messages were refused by Redis or lost (stats say which); -errno when the
 * spool could not be written or synced.
 */
int cep_publisher_flush(struct cep_publisher *p);

/* cep_publisher_stats - copy the counters into *st. */
void cep_publisher_stats(const struct cep_publisher *p,
			 struct cep_publish_stats *st);

/*
 * cep_publisher_destroy - close the connection and the spool, free all.
 * Accepts NULL.  It does NOT flush: messages still queued or unacknowledged
 * are dropped (counted nowhere), because a destroy must not block on a dead
 * Redis for command_timeout_ms.  Call cep_publisher_flush() first to keep
 * them, which either delivers or spools them.
 */
void cep_publisher_destroy(struct cep_publisher *p);

/*
 * A parsed Redis URL; ceptorctl and tests use the same parser.
 */
struct cep_redis_url {
	char host[256]; /* without IPv6 brackets */
	int port;       /* 1..65535 */
	int db;         /* 0 when absent */
	char user[64];  /* "" when absent */
	char pass[128]; /* "" when absent */
};

/*
 * cep_redis_url_parse - read "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"
 * or "HOST:PORT" into *out.
 * @err, @errsize: on failure, a one-line reason; may be NULL.
 * Returns 0 or -CEP_ECONFIG.
 */
int cep_redis_url_parse(const char *url, struct cep_redis_url *out,
			char *err, size_t errsize);

#endif /* CEPTOR_PUBLISH_H */
