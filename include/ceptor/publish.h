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
 * later message until a reconnect succeeds.  Reconnects are never tried per
 * message: after a failed attempt the next one waits `reconnect_ms`, and
 * each further failure doubles the wait, up to 30 s (or reconnect_ms when
 * that is longer); a successful connect resets it to reconnect_ms.
 *
 * Order.  While the spool holds a record not yet delivered, it is the
 * queue: newer messages are appended to it behind the older ones, never
 * sent past them.  After a reconnect, and when a publisher is created over
 * a spool left by an earlier run, the spool is replayed in order; each
 * record is marked delivered as Redis acknowledges it, and the file is
 * truncated once every record is.  Only then do messages go straight to
 * Redis again.  A replay cut short by another outage leaves the records not
 * yet acknowledged in the spool, in order, and the next replay resumes at
 * the first of them.  The order of the messages of one publisher is
 * therefore kept across outages: the first appearance of each message in
 * the stream comes in add() order.
 *
 * Delivery is at least once.  A message whose reply was not read when the
 * connection broke (at most two batches) may have reached Redis and is sent
 * again; nothing else is sent twice.  The replay position lives in memory,
 * so a publisher created over a spool left by a crashed process replays
 * that file from its first record.  Redis 7.0 has no idempotent XADD, so
 * consumers drop repeats by the message's own identity (the incident's `id`
 * and `version` fields).
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
 * publishers are independent.  add() and flush() block: for up to
 * command_timeout_ms on a Redis that stops answering, and for up to
 * connect_timeout_ms on each reconnect attempt.  ceptord calls them on its
 * core thread until the publisher gets a thread of its own, which is why
 * the connect timeout is short by default and the attempts back off: a
 * dead local Redis, refusing connections, costs almost nothing, and an
 * unreachable remote one at most 200 ms per attempt, ever more rarely.  The module changes no process-wide state:
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
 * Redis Cluster (engine/publish/CLUSTER.md).  The URL may name any node of
 * a cluster: the first connect asks CLUSTER SLOTS, and when that succeeds
 * the publisher routes each message by the hash slot of its key (the stream
 * for an XADD, the first argument for a command: CRC16 of the hash tag mod
 * 16384), with one connection per master.  The queue then moves in rounds
 * of `batch` messages per master: every master's share is written before
 * any reply is read, and a round ends when every message has its reply.  MOVED is followed at once (and
 * the whole map read again after the round), ASK once with ASKING; a lost
 * connection, CLUSTERDOWN or TRYAGAIN pauses (20 ms doubling to 500 ms)
 * and reads the map again from any node.  A round that cannot deliver
 * everything within command_timeout_ms is an outage: what is unanswered
 * goes to the spool as above, and the spool is replayed through the
 * cluster once a node gives a map again.  Order: the messages of one key
 * share a slot, hence a master and an attempt; a failure leaves them
 * unanswered from the first that failed on, and they are resent in add()
 * order.  After each master's batch the publisher sends WAIT
 * wait_replicas wait_timeout_ms; a reply lower than wait_replicas (or no
 * reply) makes the batch's accepted messages "at risk": counted in
 * stats.at_risk and logged once per batch with their incidents' id and
 * version; for a second after a short WAIT, that master's batches are at
 * risk without asking (a master without replicas costs wait_timeout_ms
 * once a second, not per batch).  They are not resent: the master accepted them, a resend would
 * be another copy on the same master with the same replication risk, and a
 * replica that stays away would make every batch a resend (CLUSTER.md).
 *
 * Latency.  A message added with cep_publisher_add_at() carries the wall
 * clock time its latency counts from; when its XADD reply arrives (the
 * first delivery, not a replay from the spool, which does not keep it), the
 * publisher records reply time minus that time in the configuration's
 * histogram (publish/latency.h), on the thread that reads the reply.
 *
 * Limits.  No TLS (hiredis 0.14 has none).  In cluster mode a database
 * other than 0 in the URL is refused by the cluster (SELECT), and a round
 * waits for its slowest master.
 */
#ifndef CEPTOR_PUBLISH_H
#define CEPTOR_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct cep_publisher;
struct cep_latency; /* publish/latency.h */
/* hiredis's connection (typedef'd redisContext there); declared here, not
 * included, so that users of the publisher do not need hiredis headers. */
struct redisContext;

struct cep_publish_config {
	/* "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" or "HOST:PORT"; the
	 * port defaults to 6379, HOST may be a bracketed IPv6 address. */
	const char *url;
	/* Directory of the spool file (created if missing); NULL: no spool,
	 * and messages that cannot be delivered are lost (counted). */
	const char *spool_dir;
	unsigned batch;           /* messages per pipelined batch; 0 = 128 */
	int connect_timeout_ms;   /* 0 = 200; bounds each connect attempt */
	int command_timeout_ms;   /* 0 = 5000; bounds every read and write */
	int reconnect_ms;         /* the first wait between attempts, doubled
				   * after each failure up to 30 s, reset on
				   * success; 0 = 1000; negative = try on
				   * every add/flush pump, no backoff */
	uint64_t spool_max_bytes; /* spool file ceiling; 0 = 1 GiB */
	/* Redis Cluster only (ignored by a single Redis): */
	int wait_replicas;        /* WAIT for this many replicas after each
				   * batch to a master; 0 = 1; negative = no
				   * WAIT */
	int wait_timeout_ms;      /* WAIT's timeout; 0 = 100; must be below
				   * the command timeout */
	/* Where acknowledged messages added with an origin time record their
	 * latency (see "Latency"); borrowed, must outlive the publisher, and
	 * the publisher's thread is its one writer.  NULL: not measured. */
	struct cep_latency *latency;
};

struct cep_publish_stats {
	uint64_t sent;        /* XADDs and commands written to a connection
			       * (resends too) */
	uint64_t acked;       /* XADDs Redis accepted (replayed ones too) */
	uint64_t commands;    /* other commands (cep_publisher_add_cmd) Redis
			       * accepted (replayed ones too) */
	uint64_t spooled;     /* messages and commands appended to the spool */
	uint64_t replayed;    /* spool records Redis accepted on replay */
	uint64_t errors;      /* XADDs and commands Redis refused with an
			       * error reply */
	uint64_t lost;        /* messages and commands neither delivered
			       * nor spooled */
	uint64_t disconnects; /* connections lost or refused (cluster: the
			       * outages, not each node's) */
	uint64_t at_risk;     /* cluster: messages and commands accepted by a
			       * master whose WAIT reported fewer replicas
			       * than wait_replicas (or never answered) */
	uint64_t redirects;   /* cluster: MOVED and ASK replies followed */
	uint64_t asks;        /* cluster: of which ASK */
	uint64_t spool_bytes; /* current size of the spool file */
	int connected;        /* 1 when a connection is up (cluster: the slot
			       * map is loaded and no outage is declared) */
	int cluster;          /* 1 when the URL's node is a cluster node */
	unsigned masters;     /* cluster: masters serving slots in the map */
	char last_error[128]; /* the latest problem, "" when none */
};

/*
 * cep_publisher_create - parse the URL, open the spool, connect, replay.
 * @cfg: borrowed for the call; its strings are copied.
 * @out: receives a new publisher; release with cep_publisher_destroy().
 * An unreachable Redis is not an error: the publisher starts disconnected
 * and spools.  When the spool holds records from an earlier run and Redis is
 * reachable, they are replayed (in order) before create() returns.
 * Whether Redis is a cluster is found out at the first successful connect.
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
 * cep_publisher_add_at - cep_publisher_add() for a message whose latency
 * is measured from @origin_ns (wall clock, ns since the Unix epoch) to its
 * XADD reply, into the configuration's histogram (see "Latency"); 0 is
 * not measured.  Returns as cep_publisher_add().
 */
int cep_publisher_add_at(struct cep_publisher *p, const char *stream,
			 const char *const *fv, size_t nfv, uint64_t origin_ns);

/*
 * cep_publisher_add_cmd - queue one Redis command of any kind (SADD, EXPIRE
 * ...), argv[0] being the command's name; copied.  It travels in the same
 * queue as the XADDs, in add order, and an outage spools and replays it
 * like them (in the spool it is a record whose first string is empty, which
 * no stream key is).  Delivery is at least once, so the command should be
 * idempotent (SADD, HSETNX, EXPIRE are; INCR is not).  An error reply is a
 * refusal, as for an XADD: counted, the first one written to stderr.  The
 * reply itself is discarded.
 * Returns 0 once queued; -EINVAL for argc 0 (or >= 4096), a NULL or empty
 * argv[0] or a NULL string; -ENOMEM.
 */
int cep_publisher_add_cmd(struct cep_publisher *p, const char *const *argv,
			  size_t argc);

/*
 * cep_publisher_flush - write every queued message and read every reply.
 * On a connection failure the unacknowledged messages go to the spool, which
 * is then fsync'd (once per flush, not per record).  If Redis is down a
 * reconnect is attempted first when the backoff (see reconnect_ms) allows.
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

/*
 * cep_redis_connect - open a synchronous hiredis connection to *u, ready
 * for commands: connected within connect_timeout_ms, command timeout set,
 * TCP keepalive on, AUTH sent when u has a password (with the user name
 * when it has one, the Redis 6 ACL form), SELECT sent when u->db != 0.
 * The command timeout is set after connecting, and must be set again after
 * any redisReconnect(), because hiredis 0.14 forgets it with every new
 * socket; this is why callers should connect again through this function
 * rather than reconnect the context.  AUTH and SELECT are written with
 * send(MSG_NOSIGNAL), so a Redis that dies meanwhile raises no SIGPIPE.
 * @u: borrowed for the call.
 * @connect_timeout_ms, @command_timeout_ms: both > 0.
 * @out: receives a new context; release with redisFree().  NULL on failure.
 * @err, @errsize: on failure, a one-line reason without the address
 * ("Connection refused", "AUTH WRONGPASS ..."); may be NULL.
 * Blocks for up to connect_timeout_ms plus, with AUTH or SELECT, up to
 * command_timeout_ms per command.  Any thread; nothing shared is touched.
 * Returns 0; -CEP_EREDIS when Redis cannot be reached or refuses AUTH or
 * SELECT; -EINVAL for a timeout <= 0; -ENOMEM.
 */
int cep_redis_connect(const struct cep_redis_url *u, int connect_timeout_ms,
		      int command_timeout_ms, struct redisContext **out,
		      char *err, size_t errsize);

#endif /* CEPTOR_PUBLISH_H */
