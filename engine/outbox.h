/*
 * outbox.h - the hand-off between ceptord's core thread and its publisher
 * thread, so that publishing never blocks correlation (DESIGN.md 2.4).
 *
 *   core thread                              publisher thread
 *   cep_outbox_add() / _add_cmd()            (owns the cep_publisher)
 *     copy into the open buffer
 *   cep_outbox_flush()  --- one lock, ---->  takes the handed buffer,
 *     (once per publish round)  one signal   cep_publisher_add() each record,
 *                                            cep_publisher_flush(); also every
 *                                            OUTBOX_RETRY_MS when idle, so a
 *                                            spool is replayed and a lost
 *                                            connection retried without input
 *   cep_outbox_stats()   <-- snapshot ---    after each flush
 *
 * The core never waits for Redis: a connect, a hung server (command
 * timeout), a failover or a spool replay all happen on the publisher
 * thread while the core goes on correlating; what it hands over meanwhile
 * waits in memory (`outbox_bytes` in status) and is appended to the
 * publisher's queue, and so to its spool, in order, as soon as the
 * thread is free.  One hand-off per publish round: no wake-up per message
 * (a cross-core wake costs tens of microseconds here).  A live ceptord
 * runs a round as soon as a batch of events has made something to publish
 * (engine/loop.h, "Publishing"), so rounds may come every millisecond
 * under load; what is handed over while the thread still waits for Redis
 * on the previous round is appended to the same buffer and leaves with
 * one pipelined flush: the thread batches exactly what accumulated while
 * it was busy.
 *
 * Order and delivery are the publisher's (publish.h): at least once, in
 * order per stream; the outbox adds no loss while the process lives
 * (records are copied at add() and only freed once the publisher has
 * them) and reorders nothing among the messages, nor among the commands.
 * Of what one hand-over holds, the messages go first, with a flush of
 * their own, and the commands (statistics: idempotent SADD and EXPIRE)
 * after them with another, so that a message's acknowledgement never
 * waits behind the statistics of its round.  What it holds is in memory only:
 * a ceptord killed (SIGKILL) while the publisher thread waits out a hung
 * server loses what was handed over since, at most the messages of one
 * command timeout (SIGTERM delivers or spools them first).  The buffer
 * has no ceiling of its own; status shows it (outbox_bytes).
 *
 * Thread safety: add, add_cmd, flush, drain and stats from one thread (the
 * core); the publisher thread is private.  Records are copied: the
 * caller's strings are borrowed for the call only.
 */
#ifndef CEPTOR_OUTBOX_H
#define CEPTOR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "ceptor/publish.h"

#define OUTBOX_RETRY_MS 100

struct cep_outbox;

struct cep_outbox_stats {
	struct cep_publish_stats pub; /* as of the publisher's last flush */
	uint64_t queued_bytes;        /* handed over, not yet with the
					 publisher */
	int last_rc;                  /* its last flush: 0 or a negative code */
};

/* cep_outbox_create - start the publisher thread; takes ownership of @pub
 * (destroyed with the outbox).  Returns 0, -ENOMEM or -errno. */
int cep_outbox_create(struct cep_publisher *pub, struct cep_outbox **out);

/* cep_outbox_add - queue an XADD to @stream of the @nfv field/value
 * strings (copied).  cep_outbox_add_at - the same for a message whose
 * latency counts from @origin_ns (cep_publisher_add_at(); 0: not
 * measured).  cep_outbox_add_cmd - queue a command of its own (as
 * cep_publisher_add_cmd).  Return 0, -EINVAL for an empty stream or an
 * odd field count, -ENOMEM.  Nothing leaves before cep_outbox_flush(). */
int cep_outbox_add(struct cep_outbox *o, const char *stream,
		   const char *const *fv, size_t nfv);
int cep_outbox_add_at(struct cep_outbox *o, const char *stream,
		      const char *const *fv, size_t nfv, uint64_t origin_ns);
int cep_outbox_add_cmd(struct cep_outbox *o, const char *const *argv,
		       size_t argc);

/* cep_outbox_flush - hand what was added to the publisher thread (never
 * waits for Redis; takes a lock the thread holds only to swap buffers). */
void cep_outbox_flush(struct cep_outbox *o);

/* cep_outbox_drain - wait until the publisher thread has taken and
 * flushed everything handed over (each flush bounded by the publisher's
 * timeouts).  For the end of a run. */
void cep_outbox_drain(struct cep_outbox *o);

void cep_outbox_stats(struct cep_outbox *o, struct cep_outbox_stats *out);

/* cep_outbox_destroy - hand over what is left, let the thread flush it,
 * stop the thread, destroy the publisher.  NULL is a no-op. */
void cep_outbox_destroy(struct cep_outbox *o);

#endif /* CEPTOR_OUTBOX_H */
