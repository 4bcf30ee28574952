/*
 * ring.h - a single-producer single-consumer ring of struct cep_event
 * records in POSIX shared memory.
 *
 * What it is for.  A collector (the producer) hands normalised events to
 * ceptord (the consumer) through one ring per collector.  The ring lives in
 * a POSIX shared-memory segment, so the collector may be a thread of ceptord
 * or a process of its own that crashes and restarts without taking the
 * engine down: records the producer has committed stay in the segment and
 * the consumer reads them even after the producer was SIGKILLed.
 *
 * Layout of the segment (offsets in bytes; every group starts on its own
 * 128-byte pair of cache lines, because the adjacent-line prefetcher of x86
 * drags lines in pairs and would otherwise make neighbours share):
 *
 *       0 +------------------------------------------------------------+
 *         | magic "CEPRING1" | version | record_size | capacity | off  |
 *         |   written once by cep_ring_create(), read-only afterwards  |
 *     128 +------------------------------------------------------------+
 *         | tail (records committed) | dropped | closed | producer pid   |
 *         | heartbeat | reporting | producer counters | their run base |
 *         |   written by the producer only (the counters and the       |
 *         |   heartbeat about once a second, tail once per batch)      |
 *     256 +------------------------------------------------------------+
 *         | head (records consumed)                                    |
 *         |   written by the consumer only                             |
 *     384 +------------------------------------------------------------+
 *         | consumer sleeping flag, consumer futex word                |
 *         |   slow path only: set by the consumer before it sleeps     |
 *     512 +------------------------------------------------------------+
 *         | producer sleeping flag, producer futex word                |
 *         |   slow path only: set by the producer before it sleeps     |
 *     640 +------------------------------------------------------------+
 *         | record[0]     struct cep_event, 256 bytes, line-aligned    |
 *         | record[1]                                                  |
 *         | ...           the record at position p (counted from       |
 *         | record[cap-1] creation) sits in record[p & (cap - 1)]      |
 *         +------------------------------------------------------------+
 *
 * head and tail count records since creation (64 bits, they never wrap in
 * practice); tail - head records are in the ring.  The producer copies
 * records into the free slots and then publishes them with one store of
 * tail, so a batch costs one cross-core cache-line transfer, not one per
 * record.  Each side keeps a private copy of the other side's index and
 * reads the shared one only when its copy says the ring is full (producer)
 * or empty (consumer), as DPDK's ring does.  The layout version
 * (CEP_RING_VERSION) and the record size are checked on attach, so a
 * collector built against another struct cep_event is refused with a clear
 * reason instead of reading garbage.
 *
 * Waiting.  The consumer waits with cep_ring_wait(): it spins briefly, then
 * announces that it sleeps and sleeps on a futex word in the segment (a
 * shared futex, so it works between processes).  The producer makes no
 * system call on the fast path: after publishing it looks at the sleeping
 * flag and calls FUTEX_WAKE only when the consumer announced it sleeps.  A
 * producer blocking on a full ring (CEP_OVERFLOW_BLOCK) does the mirror
 * image, except that once asleep it waits for a quarter of the ring to be
 * free, so that a consumer slower than its producer wakes it once per
 * quarter ring rather than once per batch.  Waking a thread on the other core costs tens of microseconds
 * (DESIGN.md section 10), so hand records over in batches.
 *
 * Who may call what.  One producer and one consumer, each a single thread at
 * a time, possibly in different processes, each with its own handle from
 * cep_ring_create(), cep_ring_open() or cep_ring_attach() (one handle may
 * also serve both roles in one process).
 *   producer only:  cep_ring_reopen(), cep_ring_enqueue_burst(),
 *                   cep_ring_enqueue_bulk(), cep_ring_enqueue_policy(),
 *                   cep_ring_close(), cep_ring_producer_report()
 *   consumer only:  cep_ring_dequeue_burst(), cep_ring_dequeue_bulk(),
 *                   cep_ring_wait()
 *   anyone, any time: cep_ring_stats() (a snapshot, not a synchronisation),
 *                   cep_ring_producer_state(), also through a handle from
 *                   cep_ring_attach_readonly()
 * Two producers (or two consumers) at once corrupt the ring; nothing
 * detects it.
 *
 * Producer restarts.  The usual arrangement is a long-running consumer
 * (ceptord, which makes the ring with cep_ring_open() so that records
 * survive its own restart too) and collector processes that come and go:
 * each attaches with cep_ring_attach(), calls cep_ring_reopen() before its
 * first enqueue, and calls cep_ring_close() at the end of its input.  The
 * next producer continues at the committed tail, so the consumer reads
 * every record of the old producer before any of the new one, and sees
 * the stream open again after the reopen.  A producer that attaches after
 * the previous one died without closing may skip the reopen, but calling
 * it costs nothing and records its pid.
 *
 * Producer counters and liveness.  Besides what goes through the ring, a
 * producer publishes what happened before its records were made: packets
 * its capture saw (libpcap's ps_recv), packets the kernel and the interface
 * dropped (ps_drop, ps_ifdrop), input it could not decode.  It calls
 * cep_ring_producer_report() about once a second with its own running
 * totals; the ring keeps totals since its creation, across producers, so
 * they never go backwards: each producer's lifetime starts at its
 * cep_ring_reopen() (or its first report), and its counts are added to what
 * the producers before it left.  Every report and every reopen also stores
 * a heartbeat (wall-clock time), so that cep_ring_producer_state() can tell
 * a live producer from a hung one (no report for CEP_RING_STALE_MS), a dead
 * one (its pid is gone and it never closed) and one that finished.
 *
 * Ownership.  A handle belongs to the thread(s) that use it; release it with
 * cep_ring_destroy(), which unmaps but leaves the segment in place.  The
 * segment lives until cep_ring_unlink() and the last unmap.  Enqueued
 * records are copied: the caller's array is borrowed for the call only, and
 * records refused by a full ring stay with the caller.
 *
 * How it fails.  Functions that return int return a negative errno or
 * -CEP_E* code (error.h).  create, open and attach also leave a one-line
 * reason for the calling thread in cep_ring_last_error().  Enqueue and
 * dequeue do not fail: they move fewer records.  A producer that dies without
 * cep_ring_close() leaves the stream open; the consumer sees no more records
 * and should use a timeout in cep_ring_wait() to notice (and may ask
 * cep_ring_producer_state() whether the producer still lives: a hint, as
 * pids are reused and differ between pid namespaces).  A consumer that
 * dies leaves a CEP_OVERFLOW_BLOCK producer waiting for room forever (it
 * keeps its heartbeat going while it waits, so it reads as alive).
 */
#ifndef CEPTOR_RING_H
#define CEPTOR_RING_H

#include <stdint.h>

#include "ceptor/collector.h"
#include "ceptor/event.h"

/* Layout version of the shared segment; bump on any change of the layout.
 * 2: producer counters, heartbeat and reporting flag in the producer group. */
#define CEP_RING_VERSION 2u
/* Largest capacity accepted, in records (4 GiB of 256-byte records). */
#define CEP_RING_CAPACITY_MAX (1u << 24)

/* A mapped ring: opaque; one per process per role (see above). */
struct cep_ring;

/*
 * cep_ring_create - create the segment @name, map it and initialise an empty
 * ring of @capacity records.
 * @name: a POSIX shm name ("/ceptor-pcap0"); the leading '/' is added when
 *        missing; no other '/' is allowed.
 * @capacity: a power of two, 2 .. CEP_RING_CAPACITY_MAX.
 * @out: receives a new handle; release with cep_ring_destroy().
 * An existing segment of that name is unlinked first and replaced (anyone
 * still mapping the old one keeps the old one).  The segment is made with
 * mode 0600.
 * Returns 0, -EINVAL (bad name or capacity), or the negative errno of
 * shm_open/ftruncate/mmap (-EACCES, -ENOMEM, -ENOSPC, ...);
 * cep_ring_last_error() then says which step failed.
 */
int cep_ring_create(const char *name, uint32_t capacity,
		    struct cep_ring **out);

/*
 * cep_ring_open - map the ring @name, creating it when it does not exist:
 * the consumer's call, for a ring that outlives both of its ends.
 * @name: as for cep_ring_create().
 * @capacity: as for cep_ring_create(); an existing ring must have exactly
 *            this capacity.
 * @out: receives a new handle; release with cep_ring_destroy().
 * @created: may be NULL; receives 1 when the segment was made by this
 *           call, 0 when an existing ring was mapped.
 * An existing compatible ring is used as it is: the records it holds, its
 * counters and its closed flag are kept, so records committed before a
 * consumer restart are read after it.  An existing segment is never
 * replaced nor modified, even when it is refused.  A new one is made as by
 * cep_ring_create() (mode 0600).
 * Returns 0; -EINVAL (bad name or capacity); -CEP_EVERSION when the
 * segment exists but is not a ring of this build (magic, layout version,
 * record size, as for cep_ring_attach()) or has another capacity;
 * -CEP_EMALFORMED when its header is inconsistent; or the negative errno of
 * shm_open/fstat/ftruncate/mmap.  On every failure cep_ring_last_error()
 * gives the reason, for example "ring /x exists with capacity 1024, not
 * 4096; it is kept as it is (...)".  A segment still being initialised by
 * another process's create reads as "not initialised yet" (-CEP_EVERSION):
 * retry.
 */
int cep_ring_open(const char *name, uint32_t capacity, struct cep_ring **out,
		  int *created);

/*
 * cep_ring_attach - map the existing ring @name.
 * @out: receives a new handle; release with cep_ring_destroy().
 * Returns 0; -EINVAL (bad name); -ENOENT (no such segment); -CEP_EVERSION
 * when the segment is not a ring of this build: wrong magic (not a ceptor
 * ring, or not yet initialised), another layout version, or another record
 * size; -CEP_EMALFORMED when the header is a ring's but its capacity is not
 * a power of two or does not fit the segment's size; or the negative errno
 * of shm_open/fstat/mmap.  On every failure cep_ring_last_error() gives the
 * reason, for example "ring /x: record size 192, this build expects 256".
 */
int cep_ring_attach(const char *name, struct cep_ring **out);

/*
 * cep_ring_attach_readonly - map the existing ring @name for looking only:
 * the handle serves cep_ring_stats() and nothing else (any other call
 * faults on the read-only mapping).  Needs only read permission on the
 * segment, and cannot disturb the producer or the consumer.  For
 * monitoring tools (ceptorctl status --ring).  Returns and fails as
 * cep_ring_attach() does (-EACCES without read permission).
 */
int cep_ring_attach_readonly(const char *name, struct cep_ring **out);

/*
 * cep_ring_destroy - unmap the ring and free the handle.  Accepts NULL.
 * The segment itself stays (see cep_ring_unlink()).
 */
void cep_ring_destroy(struct cep_ring *r);

/*
 * cep_ring_unlink - remove the name @name; mapped handles stay valid.
 * Returns 0, -EINVAL (bad name), -ENOENT, or another negative errno.
 */
int cep_ring_unlink(const char *name);

/*
 * cep_ring_last_error - why the last cep_ring_create(), cep_ring_open() or
 * cep_ring_attach() of the calling thread failed.  Returns a thread-local
 * string, "" when nothing failed yet; valid until this thread's next
 * create, open or attach.
 */
const char *cep_ring_last_error(void);

/*
 * cep_ring_reopen - producer: take over the ring as its new producer, so
 * that the stream is open again after a previous producer's
 * cep_ring_close().  Call it right after cep_ring_attach() and before the
 * first enqueue, and only when no other producer is running (one producer
 * at a time: nothing detects two).  Clears the closed flag, records the
 * calling process's pid (cep_ring_stats().producer_pid), stores a
 * heartbeat and starts this producer's lifetime for the producer counters
 * (see cep_ring_producer_report()).  The new records
 * continue at the committed tail: the consumer gets every record of the old
 * producer before those of the new one, and cep_ring_wait() returns records
 * again even if it had returned -CEP_ECLOSED.  Harmless on a ring that is
 * not closed.  Returns 0.
 */
int cep_ring_reopen(struct cep_ring *r);

/*
 * cep_ring_enqueue_burst - producer: copy up to @n records from @ev into the
 * ring and publish them together.  Returns the number copied, 0 .. n (0
 * when the ring is full or n is 0).  Never blocks, no system call unless
 * the consumer is asleep.
 */
unsigned cep_ring_enqueue_burst(struct cep_ring *r, const struct cep_event *ev,
				unsigned n);

/*
 * cep_ring_enqueue_bulk - producer: copy all @n records or none.  Returns
 * n, or 0 when fewer than n slots are free.
 */
unsigned cep_ring_enqueue_bulk(struct cep_ring *r, const struct cep_event *ev,
			       unsigned n);

/*
 * cep_ring_dequeue_burst - consumer: copy up to @n records into @out and
 * free their slots.  Returns the number copied, 0 .. n (0 when the ring is
 * empty).  Never blocks.
 */
unsigned cep_ring_dequeue_burst(struct cep_ring *r, struct cep_event *out,
				unsigned n);

/*
 * cep_ring_dequeue_bulk - consumer: copy exactly @n records or none.
 * Returns n, or 0 when fewer than n records are in the ring.
 */
unsigned cep_ring_dequeue_bulk(struct cep_ring *r, struct cep_event *out,
			       unsigned n);

/*
 * cep_ring_enqueue_policy - producer: enqueue @n records under a collector's
 * overflow policy (collector.h).
 * CEP_OVERFLOW_BLOCK: waits (spins briefly, then sleeps on the futex until
 * the consumer frees slots) until all n are in; returns n.  While it
 * sleeps it wakes once a second to store a heartbeat, so a producer held
 * up by a slow consumer does not read as hung.
 * CEP_OVERFLOW_DROP: enqueues what fits, adds the others to the ring's drop
 * counter (cep_ring_stats().dropped) and returns the number accepted,
 * 0 .. n.  Records not accepted stay with the caller.
 * Returns -EINVAL for an unknown policy or n > INT_MAX.
 */
int cep_ring_enqueue_policy(struct cep_ring *r, const struct cep_event *ev,
			    unsigned n, enum cep_overflow policy);

/*
 * cep_ring_wait - consumer: wait until records are available.
 * @timeout_ms: < 0 waits without limit, 0 only looks, > 0 waits at most
 *              that long (after a spin of a few microseconds).
 * Returns the number of records available (> 0); 0 when the timeout
 * passed with the ring still empty; -CEP_ECLOSED when the producer closed
 * the ring and every record has been dequeued (at once, without waiting).
 * -CEP_ECLOSED is a state, not an end: after a new producer's
 * cep_ring_reopen() the next calls wait and return records again, so a
 * consumer that outlives its producers keeps calling, sleeping between
 * calls while the ring is closed.  Signals do not end the wait early.
 */
int cep_ring_wait(struct cep_ring *r, int timeout_ms);

/*
 * cep_ring_close - producer: mark the end of the stream and wake the
 * consumer.  Records already enqueued are still delivered; this producer
 * enqueues nothing afterwards (a later producer starts with
 * cep_ring_reopen()).  Closing twice is harmless.
 */
void cep_ring_close(struct cep_ring *r);

/*
 * What a producer counts before its records reach the ring.  The names are
 * libpcap's (struct pcap_stat); other producers fill what applies and
 * leave the rest 0.
 */
struct cep_ring_producer_counters {
	uint64_t captured;     /* packets (records) its input delivered to it:
				  ps_recv for a capture, rows read for a feed */
	uint64_t kernel_drops; /* dropped by the kernel for want of buffer
				  space: ps_drop */
	uint64_t if_drops;     /* dropped by the interface or its driver:
				  ps_ifdrop */
	uint64_t malformed;    /* input it could not decode, skipped */
};

/*
 * cep_ring_producer_report - producer: publish this producer's counters
 * and a heartbeat.  Call it about once a second, also while no input
 * arrives (an idle tap), and once more before cep_ring_close() so that the
 * final counts are in.
 * @c: this producer's own running totals since its start, as libpcap's
 *     pcap_stats() gives them (the caller widens libpcap's 32-bit fields);
 *     borrowed for the call.
 * The ring adds them to the totals the producers before this one left
 * (cep_ring_stats().producer), so the totals count since the ring's
 * creation and never go backwards.  A field that is smaller than in this
 * producer's previous report is taken as a counter that restarted from
 * zero (a reopened capture handle, a 32-bit counter that wrapped): what
 * was counted before stays in the totals and the new value is added on
 * top.  This producer's lifetime starts at its cep_ring_reopen(), or, on a
 * handle that never reopened, at its first report (which then also
 * records the pid).  Never blocks, no system call but clock_gettime().
 */
void cep_ring_producer_report(struct cep_ring *r,
			      const struct cep_ring_producer_counters *c);

struct cep_ring_stats {
	uint64_t enqueued; /* records committed since creation (the tail) */
	uint64_t dequeued; /* records consumed since creation (the head) */
	uint64_t dropped;  /* records refused under CEP_OVERFLOW_DROP */
	uint32_t capacity; /* slots */
	uint32_t used;     /* enqueued - dequeued at the time of the snapshot */
	int closed;        /* 1 after cep_ring_close(), 0 after a reopen */
	int producer_pid;  /* process of the producer that last took the ring
			      over (reopen, or a first report), 0 if none */
	int producer_reports; /* 1 once that producer reported its counters */
	int64_t heartbeat_ns; /* wall-clock time (CLOCK_REALTIME, ns since
				 1970) of that producer's last reopen, report
				 or wait for room; 0 if none */
	/* Producer counters of every producer since the ring's creation. */
	struct cep_ring_producer_counters producer;
	/* The same for the current (or last) producer's lifetime only: what
	 * its own reports said, restarts of its counters included. */
	struct cep_ring_producer_counters producer_run;
};

/*
 * cep_ring_stats - a snapshot of the counters; may run on any thread or
 * process at any time.  The fields are read one by one, so they are each
 * exact but not taken at the same instant; the producer counters are at
 * least as new as heartbeat_ns says, and, when closed is 1, include the
 * closing producer's last report.
 */
void cep_ring_stats(const struct cep_ring *r, struct cep_ring_stats *st);

/* A producer that reported before and has been silent this long (in
 * milliseconds) reads as CEP_RING_PRODUCER_STALE. */
#define CEP_RING_STALE_MS 5000

enum cep_ring_producer_state {
	CEP_RING_PRODUCER_NONE = 0, /* no producer took the ring over yet */
	CEP_RING_PRODUCER_ALIVE,    /* its process exists, and it reported
				       within CEP_RING_STALE_MS or never
				       reports */
	CEP_RING_PRODUCER_STALE,    /* its process exists but stopped
				       reporting: hung, or stopped */
	CEP_RING_PRODUCER_CLOSED,   /* it closed the ring: its input ended */
	CEP_RING_PRODUCER_DEAD,     /* its process is gone, ring not closed */
};

/*
 * cep_ring_producer_state - judge the producer of a snapshot @st at the
 * wall-clock time @now_ns (CLOCK_REALTIME, ns; 0: now).  Asks the kernel
 * whether st->producer_pid exists (kill(pid, 0)): a hint only, as pids are
 * reused and differ between pid namespaces.  Any thread.  Returns an enum
 * cep_ring_producer_state.
 */
int cep_ring_producer_state(const struct cep_ring_stats *st, int64_t now_ns);

/* cep_ring_producer_state_name - "none", "alive", "stale", "closed",
 * "dead"; "?" for anything else.  A static string. */
const char *cep_ring_producer_state_name(int state);

#endif /* CEPTOR_RING_H */
