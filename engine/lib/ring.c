/*
 * ring.c - the shared-memory SPSC ring of event records (see
 * include/ceptor/ring.h for the contract and the picture of the segment,
 * engine/lib/ring_priv.h for the structure behind the picture).
 *
 * Memory ordering.  Every pair below is labelled at both ends in the code.
 *
 *   R1 / A1  The producer copies records into slots, then stores tail with
 *            release (R1).  The consumer loads tail with acquire (A1) before
 *            it reads those slots, so it never reads a record half-written.
 *   R2 / A2  The consumer copies records out of slots, then stores head with
 *            release (R2).  The producer loads head with acquire (A2) before
 *            it overwrites those slots, so it never overwrites a record the
 *            consumer is still reading.
 *   R3 / A3  The producer stores closed with release (R3) after its last
 *            tail; a consumer that loads closed == 1 with acquire (A3) and
 *            then loads tail sees the final tail.
 *   R4 / A3  A new producer's cep_ring_reopen() stores closed = 0 with
 *            release (R4) before its first tail (R1).  A consumer that
 *            sees one of its records through A1 loads closed afterwards
 *            and reads 0, so it does not report the old producer's close
 *            after the new producer's records; the records of the old
 *            producer all come first, since tail only grows.
 *   R0 / A0  cep_ring_create() stores the magic last, with release (R0);
 *            cep_ring_attach() loads it with acquire (A0) before trusting the
 *            other header fields.  (Across processes the shm_open() and
 *            mmap() system calls order this anyway; the pair documents it.)
 *   F1 / F2  No lost wake-up for a sleeping consumer (Dekker): the consumer
 *            stores sleeping = 1, full barrier F1, loads tail; the producer
 *            stores tail, full barrier F2, loads sleeping.  With a full
 *            barrier between each side's store and load, at least one side
 *            sees the other's store: either the consumer sees the new
 *            records and does not sleep, or the producer sees the flag and
 *            bumps the futex word and calls FUTEX_WAKE.  The consumer read
 *            the futex word before storing the flag, so a bump that follows
 *            the flag makes its FUTEX_WAIT return at once.
 *   F3 / F4  The same for a producer sleeping on a full ring: it stores
 *            sleeping = 1, F3, loads head; the consumer stores head, F4,
 *            loads sleeping.
 *   R5 / A5  The producer stores its counters (and, at a take-over, their
 *            run base and its pid), then the heartbeat with release (R5);
 *            cep_ring_stats() loads the heartbeat with acquire (A5) before
 *            the counters, so the counters it returns are at least as new
 *            as the heartbeat it returns.  The same stats load closed with
 *            acquire first (A3 again), so a snapshot that says closed holds
 *            the closing producer's last report (made before its R3).
 *
 * liburcu 0.13 has no uatomic_load()/uatomic_store() taking a memory order,
 * so acquire and release are spelled with CMM_LOAD_SHARED/CMM_STORE_SHARED
 * and liburcu's barriers (LOAD_ACQUIRE/STORE_RELEASE below).  On x86, which
 * is TSO (loads are not reordered with other loads nor with later stores,
 * stores not with other stores), those barriers are compiler barriers: the
 * fast path has no fence but the F1..F4 full barriers, one per batch.
 * ThreadSanitizer does not understand liburcu's inline-assembly barriers,
 * so under it the same macros map to the __atomic builtins of the same
 * orders, which it does understand.
 *
 * Caching.  Each side keeps in its handle a copy of the other side's index
 * (the producer's copy of head, the consumer's copy of tail) and loads the
 * shared one only when its copy says the ring is full or empty, as DPDK's
 * ring does; the line holding the other side's index crosses cores once per
 * refresh instead of once per call.  Each side reads its own index from the
 * segment with a relaxed load: only that side writes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <urcu/arch.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

#include "ceptor/error.h"
#include "ceptor/ring.h"
#include "lib/ring_priv.h"
#include "lib/clock.h"

/* --- memory-ordering vocabulary ------------------------------------------ */

#if defined(__SANITIZE_THREAD__)
#define RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RING_TSAN 1
#endif
#endif

#ifdef RING_TSAN
#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* GCC refuses atomic_thread_fence under TSan; a sequentially consistent
 * read-modify-write is a full barrier on the hardware as well. */
static unsigned ring_tsan_fence;
#define FULL_BARRIER()                                                       \
	((void)__atomic_fetch_add(&ring_tsan_fence, 0, __ATOMIC_SEQ_CST))
#define XCHG(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define INC(p) ((void)__atomic_fetch_add((p), 1, __ATOMIC_SEQ_CST))
#else
/*
 * An acquire load must keep later loads and stores after it; a release
 * store must keep earlier loads and stores before it.  liburcu's
 * cmm_smp_rmb() orders loads only and cmm_smp_wmb() stores only, which is
 * all TSO needs; elsewhere only cmm_smp_mb() covers load-to-store order.
 */
#if defined(__x86_64__) || defined(__i386__)
#define ACQUIRE_BARRIER() cmm_smp_rmb()
#define RELEASE_BARRIER() cmm_smp_wmb()
#else
#define ACQUIRE_BARRIER() cmm_smp_mb()
#define RELEASE_BARRIER() cmm_smp_mb()
#endif
#define LOAD_RELAXED(p) CMM_LOAD_SHARED(*(p))
#define STORE_RELAXED(p, v) CMM_STORE_SHARED(*(p), (v))
#define LOAD_ACQUIRE(p)                                                      \
	__extension__({                                                      \
		__typeof__(*(p)) v__ = CMM_LOAD_SHARED(*(p));                \
		ACQUIRE_BARRIER();                                           \
		v__;                                                         \
	})
#define STORE_RELEASE(p, v)                                                  \
	do {                                                                 \
		RELEASE_BARRIER();                                           \
		CMM_STORE_SHARED(*(p), (v));                                 \
	} while (0)
#define FULL_BARRIER() cmm_smp_mb()
#define XCHG(p, v) uatomic_xchg((p), (v))
#define INC(p) uatomic_inc(p)
#endif

/* Polls of the other side's index before sleeping: tens of microseconds,
 * less than a futex round trip across cores (DESIGN.md section 10). */
#define RING_SPIN 1024

/* Longest name accepted, '/' included (NAME_MAX of /dev/shm, less slack). */
#define RING_NAME_MAX 240

struct cep_ring {
	struct cep_ring_shm *shm;
	struct cep_event *rec; /* record[0] inside the mapping */
	size_t map_size;
	uint32_t capacity;
	uint32_t mask;
	/* Used by the producer thread only. */
	_Alignas(CEP_CACHE_LINE) struct {
		uint64_t head_cache; /* a value shm->cons.head had; <= head */
		int took_over;       /* this handle started a producer
					lifetime (reopen or first report) */
		/* The shared totals are base + last, field by field: base is
		 * what the producers before this one left, plus what this one
		 * counted before a counter of its own restarted; last is its
		 * latest report. */
		uint64_t base[CEP_RING_PCOUNTERS];
		uint64_t last[CEP_RING_PCOUNTERS];
	} prod;
	/* Used by the consumer thread only. */
	_Alignas(CEP_CACHE_LINE) struct {
		uint64_t tail_cache; /* a value shm->prod.tail had; <= tail */
	} cons;
};

static _Thread_local char last_error[256];

__attribute__((format(printf, 1, 2))) static void set_error(const char *fmt,
							     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

const char *cep_ring_last_error(void)
{
	return last_error;
}

/* Turn a ring name into the shm_open() path "/name"; 0 or -EINVAL. */
static int shm_path(const char *name, char path[RING_NAME_MAX + 1])
{
	const char *p;

	if (name == NULL) {
		set_error("ring name missing");
		return -EINVAL;
	}
	p = name[0] == '/' ? name + 1 : name;
	if (*p == '\0' || strchr(p, '/') || strlen(p) >= RING_NAME_MAX) {
		set_error("ring name '%s' is not a valid shm name", name);
		return -EINVAL;
	}
	snprintf(path, RING_NAME_MAX + 1, "/%s", p);
	return 0;
}

static size_t segment_size(uint32_t capacity)
{
	return sizeof(struct cep_ring_shm) +
	       (size_t)capacity * sizeof(struct cep_event);
}

static int new_handle(struct cep_ring_shm *shm, size_t map_size,
		      struct cep_ring **out)
{
	struct cep_ring *r = aligned_alloc(CEP_CACHE_LINE, sizeof *r);

	if (r == NULL) {
		set_error("out of memory for a ring handle");
		return -ENOMEM;
	}
	memset(r, 0, sizeof *r);
	r->shm = shm;
	r->rec = (struct cep_event *)((char *)shm + shm->info.records_off);
	r->map_size = map_size;
	r->capacity = shm->info.capacity;
	r->mask = r->capacity - 1;
	/*
	 * Relaxed: any value the index ever had is a valid cache; the caches
	 * are refreshed with A1/A2 before they are trusted for more.
	 */
	r->prod.head_cache = LOAD_RELAXED(&shm->cons.head);
	r->cons.tail_cache = LOAD_RELAXED(&shm->prod.tail);
	*out = r;
	return 0;
}

/* 0, or -EINVAL with the reason when @capacity is not a valid capacity. */
static int check_capacity(const char *path, uint32_t capacity)
{
	if (capacity < 2 || capacity > CEP_RING_CAPACITY_MAX ||
	    (capacity & (capacity - 1))) {
		set_error("ring %s: capacity %u is not a power of two in 2..%u",
			  path, capacity, CEP_RING_CAPACITY_MAX);
		return -EINVAL;
	}
	return 0;
}

/*
 * Create the segment @path, which must not exist (O_EXCL), and initialise
 * an empty ring in it.  Returns 0, -EEXIST when the name is taken (nothing
 * is touched then), or another negative errno; on a failure after the
 * segment was made, the segment is removed again.
 */
static int make_segment(const char *path, uint32_t capacity,
			struct cep_ring **out)
{
	struct cep_ring_shm *shm = MAP_FAILED;
	size_t size = segment_size(capacity);
	int fd, err;

	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		err = -errno;
		set_error("ring %s: shm_open: %s", path, strerror(errno));
		return err;
	}
	/*
	 * Reserve the pages now: on tmpfs a plain ftruncate() would defer the
	 * shortage to a SIGBUS in whichever process first touches the slot.
	 */
	err = posix_fallocate(fd, 0, (off_t)size);
	if (err) {
		set_error("ring %s: cannot reserve %zu bytes: %s", path, size,
			  strerror(err));
		err = -err;
		goto fail;
	}
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		err = -errno;
		set_error("ring %s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;

	/* The pages come zeroed: head, tail, counters and flags start at 0. */
	shm->info.version = CEP_RING_VERSION;
	shm->info.record_size = sizeof(struct cep_event);
	shm->info.capacity = capacity;
	shm->info.records_off = sizeof(struct cep_ring_shm);
	STORE_RELEASE(&shm->info.magic, CEP_RING_MAGIC); /* R0: pairs with A0 in
							    cep_ring_attach() */
	err = new_handle(shm, size, out);
	if (err)
		goto fail;
	return 0;

fail:
	if (shm != MAP_FAILED)
		munmap(shm, size);
	if (fd >= 0)
		close(fd);
	shm_unlink(path);
	return err;
}

int cep_ring_create(const char *name, uint32_t capacity, struct cep_ring **out)
{
	char path[RING_NAME_MAX + 1];
	int err;

	*out = NULL;
	last_error[0] = '\0';
	err = shm_path(name, path);
	if (err)
		return err;
	err = check_capacity(path, capacity);
	if (err)
		return err;
	if (shm_unlink(path) && errno != ENOENT) {
		err = -errno;
		set_error("ring %s: cannot replace the old segment: %s", path,
			  strerror(errno));
		return err;
	}
	return make_segment(path, capacity, out);
}

int cep_ring_open(const char *name, uint32_t capacity, struct cep_ring **out,
		  int *created)
{
	char path[RING_NAME_MAX + 1];
	int err;

	*out = NULL;
	if (created)
		*created = 0;
	last_error[0] = '\0';
	err = shm_path(name, path);
	if (err)
		return err;
	err = check_capacity(path, capacity);
	if (err)
		return err;
	/*
	 * Attach first, create when missing.  When another process creates
	 * the name between our two attempts, O_EXCL makes us lose cleanly
	 * and we attach to its ring; two rounds are enough unless the name
	 * is being created and unlinked in a loop.
	 */
	for (int round = 0; round < 2; round++) {
		err = cep_ring_attach(path, out);
		if (err == 0) {
			if ((*out)->capacity == capacity)
				return 0;
			set_error("ring %s exists with capacity %u, not %u; "
				  "it is kept as it is (drain it and remove "
				  "it to change the capacity)",
				  path, (*out)->capacity, capacity);
			cep_ring_destroy(*out);
			*out = NULL;
			return -CEP_EVERSION;
		}
		if (err != -ENOENT)
			return err; /* attach said why; the segment is kept */
		err = make_segment(path, capacity, out);
		if (err == 0) {
			last_error[0] = '\0'; /* forget attach's "does not exist" */
			if (created)
				*created = 1;
			return 0;
		}
		if (err != -EEXIST)
			return err;
	}
	return err;
}

static int attach(const char *name, bool readonly, struct cep_ring **out)
{
	char path[RING_NAME_MAX + 1];
	struct cep_ring_shm *shm = MAP_FAILED;
	struct stat st;
	size_t size = 0;
	uint64_t magic;
	uint32_t cap;
	int fd, err;

	*out = NULL;
	last_error[0] = '\0';
	err = shm_path(name, path);
	if (err)
		return err;
	fd = shm_open(path, readonly ? O_RDONLY : O_RDWR, 0);
	if (fd < 0) {
		err = -errno;
		if (errno == ENOENT)
			set_error("ring %s does not exist", path);
		else
			set_error("ring %s: shm_open: %s", path,
				  strerror(errno));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		set_error("ring %s: fstat: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < sizeof(struct cep_ring_shm)) {
		set_error("ring %s: segment of %lld bytes is too small for a "
			  "ring header (%zu bytes): not a ceptor ring, or not "
			  "initialised yet",
			  path, (long long)st.st_size,
			  sizeof(struct cep_ring_shm));
		err = -CEP_EVERSION;
		goto fail;
	}
	size = (size_t)st.st_size;
	shm = mmap(NULL, size, readonly ? PROT_READ : PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		err = -errno;
		set_error("ring %s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;

	magic = LOAD_ACQUIRE(&shm->info.magic); /* A0: pairs with R0 in
						   cep_ring_create() */
	if (magic != CEP_RING_MAGIC) {
		set_error("ring %s: bad magic %016llx: not a ceptor ring, or "
			  "not initialised yet",
			  path, (unsigned long long)magic);
		err = -CEP_EVERSION;
		goto fail;
	}
	if (shm->info.version != CEP_RING_VERSION) {
		set_error("ring %s: layout version %u, this build reads "
			  "version %u",
			  path, shm->info.version, CEP_RING_VERSION);
		err = -CEP_EVERSION;
		goto fail;
	}
	if (shm->info.record_size != sizeof(struct cep_event)) {
		set_error("ring %s: record size %u, this build expects %zu",
			  path, shm->info.record_size,
			  sizeof(struct cep_event));
		err = -CEP_EVERSION;
		goto fail;
	}
	cap = shm->info.capacity;
	if (cap < 2 || cap > CEP_RING_CAPACITY_MAX || (cap & (cap - 1)) ||
	    shm->info.records_off != sizeof(struct cep_ring_shm) ||
	    size < segment_size(cap)) {
		set_error("ring %s: capacity %u and records offset %u do not "
			  "fit a segment of %zu bytes",
			  path, cap, shm->info.records_off, size);
		err = -CEP_EMALFORMED;
		goto fail;
	}
	err = new_handle(shm, size, out);
	if (err)
		goto fail;
	return 0;

fail:
	if (shm != MAP_FAILED)
		munmap(shm, size);
	if (fd >= 0)
		close(fd);
	return err;
}

int cep_ring_attach(const char *name, struct cep_ring **out)
{
	return attach(name, false, out);
}

int cep_ring_attach_readonly(const char *name, struct cep_ring **out)
{
	return attach(name, true, out);
}

void cep_ring_destroy(struct cep_ring *r)
{
	if (r == NULL)
		return;
	munmap(r->shm, r->map_size);
	free(r);
}

int cep_ring_unlink(const char *name)
{
	char path[RING_NAME_MAX + 1];
	int err = shm_path(name, path);

	if (err)
		return err;
	return shm_unlink(path) ? -errno : 0;
}

/* --- producer counters and heartbeat ---------------------------------------- */

/* The heartbeat's clock: wall-clock time, which means the same in every
 * process of the machine and reads as a date in a status report. */
static int64_t wall_ns(void)
{
	return (int64_t)cep_clock_wall_ns();
}

static void counters_to_array(const struct cep_ring_producer_counters *c,
			      uint64_t v[CEP_RING_PCOUNTERS])
{
	v[0] = c->captured;
	v[1] = c->kernel_drops;
	v[2] = c->if_drops;
	v[3] = c->malformed;
}

static void counters_from_array(struct cep_ring_producer_counters *c,
				const uint64_t v[CEP_RING_PCOUNTERS])
{
	c->captured = v[0];
	c->kernel_drops = v[1];
	c->if_drops = v[2];
	c->malformed = v[3];
}

/* Store a heartbeat; the producer's last store of a report or take-over. */
static void beat(struct cep_ring *r)
{
	STORE_RELEASE(&r->shm->prod.heartbeat_ns, wall_ns()); /* R5: pairs
					with A5 in cep_ring_stats() */
}

/*
 * Start this handle's producer lifetime: its counters are added to the
 * totals as they stand now.  Only the producer writes any of these fields,
 * and we are the producer, so the loads are relaxed; the stores are
 * relaxed because readers only take snapshots, published together by the
 * heartbeat's R5.
 */
static void take_over(struct cep_ring *r)
{
	struct cep_ring_shm *shm = r->shm;

	for (int i = 0; i < CEP_RING_PCOUNTERS; i++) {
		uint64_t total = LOAD_RELAXED(&shm->prod.counters[i]);

		r->prod.base[i] = total;
		r->prod.last[i] = 0;
		STORE_RELAXED(&shm->prod.run_base[i], total);
	}
	STORE_RELAXED(&shm->prod.reporting, 0u);
	STORE_RELAXED(&shm->prod.pid, (uint32_t)getpid());
	beat(r);
	r->prod.took_over = 1;
}

void cep_ring_producer_report(struct cep_ring *r,
			      const struct cep_ring_producer_counters *c)
{
	struct cep_ring_shm *shm = r->shm;
	uint64_t v[CEP_RING_PCOUNTERS];

	if (!r->prod.took_over)
		take_over(r);
	counters_to_array(c, v);
	for (int i = 0; i < CEP_RING_PCOUNTERS; i++) {
		/* A counter that went back restarted from zero: keep what it
		 * had counted, so the totals never go backwards. */
		if (v[i] < r->prod.last[i])
			r->prod.base[i] += r->prod.last[i];
		r->prod.last[i] = v[i];
		/* Relaxed: published by the heartbeat's R5 below. */
		STORE_RELAXED(&shm->prod.counters[i], r->prod.base[i] + v[i]);
	}
	/* Relaxed: published by R5 as well. */
	STORE_RELAXED(&shm->prod.reporting, 1u);
	beat(r);
}

/* --- sleeping and waking --------------------------------------------------- */

static long futex(uint32_t *word, int op, uint32_t val,
		  const struct timespec *rel)
{
	/* Not FUTEX_PRIVATE_FLAG: the sleeper and the waker may be different
	 * processes, and the kernel must key the word by the shared page. */
	return syscall(SYS_futex, word, op, val, rel, NULL, 0);
}

/*
 * Wake the other side if it announced that it sleeps.  The caller has
 * stored its index and issued its full barrier (F2 or F4) just before.
 */
static void wake(struct cep_ring_waiter *w)
{
	/*
	 * Relaxed: ordered after our index store by the caller's F2/F4; a
	 * sleeper that sets the flag later sees our index after its F1/F3.
	 * The exchange (a full barrier) lets one waker, not each, pay the
	 * system call.
	 */
	if (LOAD_RELAXED(&w->sleeping) == 0 || XCHG(&w->sleeping, 0) == 0)
		return;
	INC(&w->futex);
	futex(&w->futex, FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * Sleep on @w unless @ready(r) holds once the flag is up.  Returns after a
 * wake-up, the timeout @rel (NULL: none), a signal or a spurious return:
 * the caller re-checks.
 */
static void park(struct cep_ring *r, struct cep_ring_waiter *w,
		 bool (*ready)(struct cep_ring *), const struct timespec *rel)
{
	/*
	 * Relaxed: the kernel compares the word again; read before the flag
	 * goes up, so any bump by a waker that saw the flag differs from it.
	 */
	uint32_t seq = LOAD_RELAXED(&w->futex);

	/* Relaxed: published by the full barrier that follows. */
	STORE_RELAXED(&w->sleeping, 1u);
	FULL_BARRIER(); /* F1: pairs with F2 in publish_tail() (consumer);
			   F3: pairs with F4 in publish_head() (producer) */
	if (!ready(r))
		futex(&w->futex, FUTEX_WAIT, seq, rel);
	/* Relaxed: the flag only saves the other side a system call. */
	STORE_RELAXED(&w->sleeping, 0u);
}

/* --- producer --------------------------------------------------------------- */

/* Free slots, refreshing the copy of head when it says fewer than @want. */
static uint32_t prod_room(struct cep_ring *r, uint64_t tail, unsigned want)
{
	uint64_t used = tail - r->prod.head_cache;

	if (used > r->capacity || r->capacity - used < want) {
		r->prod.head_cache = LOAD_ACQUIRE(&r->shm->cons.head);
		/* A2: pairs with R2 in publish_head() */
		used = tail - r->prod.head_cache;
	}
	return r->capacity - (uint32_t)used;
}

static void publish_tail(struct cep_ring *r, uint64_t tail)
{
	STORE_RELEASE(&r->shm->prod.tail, tail); /* R1: pairs with A1 in
						    cons_avail() */
	FULL_BARRIER(); /* F2: pairs with F1 in park() */
	wake(&r->shm->cons_wait);
}

static unsigned enqueue(struct cep_ring *r, const struct cep_event *ev,
			unsigned n, bool bulk)
{
	/* Relaxed: only the producer writes tail, and we are the producer. */
	uint64_t tail = LOAD_RELAXED(&r->shm->prod.tail);
	uint32_t room = prod_room(r, tail, n), idx, first;

	if (n > room) {
		if (bulk)
			return 0;
		n = room;
	}
	if (n == 0)
		return 0;
	idx = (uint32_t)tail & r->mask;
	first = r->capacity - idx < n ? r->capacity - idx : n;
	memcpy(&r->rec[idx], ev, first * sizeof *ev);
	memcpy(&r->rec[0], ev + first, (n - first) * sizeof *ev);
	publish_tail(r, tail + n);
	return n;
}

unsigned cep_ring_enqueue_burst(struct cep_ring *r, const struct cep_event *ev,
				unsigned n)
{
	return enqueue(r, ev, n, false);
}

unsigned cep_ring_enqueue_bulk(struct cep_ring *r, const struct cep_event *ev,
			       unsigned n)
{
	return enqueue(r, ev, n, true);
}

/* What a sleeping producer waits for: a quarter of the ring free. */
static uint32_t room_low(const struct cep_ring *r)
{
	return r->capacity / 4 ? r->capacity / 4 : 1;
}

static bool prod_ready(struct cep_ring *r)
{
	/* Relaxed: only the producer writes tail, and we are the producer. */
	return prod_room(r, LOAD_RELAXED(&r->shm->prod.tail), room_low(r)) >=
	       room_low(r);
}

/*
 * Wait until a slot is free: spin while the consumer frees any, then sleep
 * on prod_wait until a quarter of the ring is free (publish_head() wakes
 * at that mark).  The sleep ends once a second for a heartbeat, so that a
 * producer held up by a slow consumer reads as alive, not hung.
 */
static void wait_for_room(struct cep_ring *r)
{
	static const struct timespec heartbeat = { 1, 0 };

	for (int i = 0; i < RING_SPIN; i++) {
		/* Relaxed: only the producer writes tail. */
		if (prod_room(r, LOAD_RELAXED(&r->shm->prod.tail), 1) > 0)
			return;
		caa_cpu_relax();
	}
	while (!prod_ready(r)) {
		beat(r);
		park(r, &r->shm->prod_wait, prod_ready, &heartbeat);
	}
}

int cep_ring_enqueue_policy(struct cep_ring *r, const struct cep_event *ev,
			    unsigned n, enum cep_overflow policy)
{
	unsigned done;
	uint64_t dropped;

	if (n > INT_MAX)
		return -EINVAL;
	switch (policy) {
	case CEP_OVERFLOW_BLOCK:
		done = enqueue(r, ev, n, false);
		while (done < n) {
			wait_for_room(r);
			done += enqueue(r, ev + done, n - done, false);
		}
		return (int)n;
	case CEP_OVERFLOW_DROP:
		done = enqueue(r, ev, n, false);
		if (done < n) {
			/* Relaxed: only the producer writes the counter;
			 * readers take a snapshot and order nothing by it. */
			dropped = LOAD_RELAXED(&r->shm->prod.dropped);
			STORE_RELAXED(&r->shm->prod.dropped,
				      dropped + (n - done));
		}
		return (int)done;
	}
	return -EINVAL;
}

void cep_ring_close(struct cep_ring *r)
{
	STORE_RELEASE(&r->shm->prod.closed, 1u); /* R3: pairs with A3 in
						    closed_and_empty() */
	FULL_BARRIER(); /* F2: pairs with F1 in park(); closed is part of
			   the consumer's ready check like tail */
	wake(&r->shm->cons_wait);
}

int cep_ring_reopen(struct cep_ring *r)
{
	/*
	 * The pid, the heartbeat and the run base of the counters are advice
	 * for humans and for a consumer probing whether the producer lives
	 * (cep_ring_stats(), cep_ring_producer_state()); they order nothing
	 * of the records.  take_over() publishes them with R5.
	 */
	take_over(r);
	/*
	 * R4: pairs with A3 in closed_and_empty() and cons_ready().  Stored
	 * before this producer's first tail, so R1 in publish_tail() carries
	 * it as well: a consumer whose A1 sees a record of the new producer
	 * then loads closed (it does, in cep_ring_wait()) and reads 0, and
	 * never reports the old producer's close after the new one's
	 * records.  A consumer that still reads the old 1 has not seen those
	 * records yet either, so its -CEP_ECLOSED is the state before the
	 * reopen.
	 */
	STORE_RELEASE(&r->shm->prod.closed, 0u);
	/*
	 * No wake-up: a consumer sleeps only on an open, empty ring, and
	 * reopening adds no record; the first enqueue wakes it (F2).  The
	 * producer's own cached head is refreshed by A2 when it says full.
	 */
	return 0;
}

/* --- consumer --------------------------------------------------------------- */

/* Records available, refreshing the copy of tail when it says fewer than
 * @want. */
static uint64_t cons_avail(struct cep_ring *r, uint64_t head, unsigned want)
{
	uint64_t avail = r->cons.tail_cache - head;

	if (avail > r->capacity || avail < want) {
		r->cons.tail_cache = LOAD_ACQUIRE(&r->shm->prod.tail);
		/* A1: pairs with R1 in publish_tail() */
		avail = r->cons.tail_cache - head;
	}
	return avail;
}

static void publish_head(struct cep_ring *r, uint64_t head)
{
	uint64_t tail;

	STORE_RELEASE(&r->shm->cons.head, head); /* R2: pairs with A2 in
						    prod_room() */
	FULL_BARRIER(); /* F4: pairs with F3 in park() */
	/* Relaxed: only saves a read of tail while nobody sleeps. */
	if (LOAD_RELAXED(&r->shm->prod_wait.sleeping) == 0)
		return;
	/*
	 * A sleeping producer waits for room_low free slots (prod_ready()),
	 * so waking it for fewer would only put it back to sleep: one wake-up
	 * per quarter ring, not one per batch (they cost tens of microseconds
	 * each on this machine, 5 % of an end-to-end run).  Relaxed: the
	 * producer sleeps only after publishing its tail, so this reads its
	 * last tail or, stale, a smaller one, which only wakes it early.
	 * If there is too little room now, the producer saw at most as much
	 * (it read this head or an older one after raising its flag, F3), and
	 * the dequeues that make the room will wake it.
	 */
	tail = LOAD_RELAXED(&r->shm->prod.tail);
	if (r->capacity - (tail - head) >= room_low(r))
		wake(&r->shm->prod_wait);
}

static unsigned dequeue(struct cep_ring *r, struct cep_event *out, unsigned n,
			bool bulk)
{
	/* Relaxed: only the consumer writes head, and we are the consumer. */
	uint64_t head = LOAD_RELAXED(&r->shm->cons.head);
	uint64_t avail = cons_avail(r, head, n);
	uint32_t idx, first;

	if (n > avail) {
		if (bulk)
			return 0;
		n = (unsigned)avail;
	}
	if (n == 0)
		return 0;
	idx = (uint32_t)head & r->mask;
	first = r->capacity - idx < n ? r->capacity - idx : n;
	memcpy(out, &r->rec[idx], first * sizeof *out);
	memcpy(out + first, &r->rec[0], (n - first) * sizeof *out);
	publish_head(r, head + n);
	return n;
}

unsigned cep_ring_dequeue_burst(struct cep_ring *r, struct cep_event *out,
				unsigned n)
{
	return dequeue(r, out, n, false);
}

unsigned cep_ring_dequeue_bulk(struct cep_ring *r, struct cep_event *out,
			       unsigned n)
{
	return dequeue(r, out, n, true);
}

static bool closed_and_empty(struct cep_ring *r, uint64_t head)
{
	if (!LOAD_ACQUIRE(&r->shm->prod.closed)) /* A3: pairs with R3 in
						    cep_ring_close() */
		return false;
	return cons_avail(r, head, 1) == 0;
}

static bool cons_ready(struct cep_ring *r)
{
	/* Relaxed: only the consumer writes head, and we are the consumer. */
	uint64_t head = LOAD_RELAXED(&r->shm->cons.head);

	return cons_avail(r, head, 1) > 0 ||
	       LOAD_ACQUIRE(&r->shm->prod.closed); /* A3: pairs with R3 */
}

static int64_t now_ns(void)
{
	return (int64_t)cep_clock_mono_ns();
}

int cep_ring_wait(struct cep_ring *r, int timeout_ms)
{
	/* Relaxed: only the consumer writes head, and we are the consumer. */
	uint64_t head = LOAD_RELAXED(&r->shm->cons.head), avail;
	int64_t deadline = 0, left;
	struct timespec rel;

	for (int i = 0;; i++) {
		avail = cons_avail(r, head, 1);
		if (avail > 0)
			return (int)avail;
		if (closed_and_empty(r, head))
			return -CEP_ECLOSED;
		if (timeout_ms == 0)
			return 0;
		if (i == RING_SPIN)
			break;
		caa_cpu_relax();
	}
	if (timeout_ms > 0)
		deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		if (timeout_ms > 0) {
			left = deadline - now_ns();
			if (left <= 0)
				return 0;
			rel.tv_sec = left / 1000000000;
			rel.tv_nsec = left % 1000000000;
		}
		park(r, &r->shm->cons_wait, cons_ready,
		     timeout_ms > 0 ? &rel : NULL);
		avail = cons_avail(r, head, 1);
		if (avail > 0)
			return (int)avail;
		if (closed_and_empty(r, head))
			return -CEP_ECLOSED;
	}
}

void cep_ring_stats(const struct cep_ring *r, struct cep_ring_stats *st)
{
	const struct cep_ring_shm *shm = r->shm;
	uint64_t total[CEP_RING_PCOUNTERS], run[CEP_RING_PCOUNTERS];
	uint64_t head, tail;

	/*
	 * closed and the heartbeat first, with acquire, so that the counters
	 * read after them are at least that new.
	 */
	st->closed = LOAD_ACQUIRE(&shm->prod.closed) != 0; /* A3: pairs with
						R3 in cep_ring_close() */
	st->heartbeat_ns = LOAD_ACQUIRE(&shm->prod.heartbeat_ns); /* A5: pairs
						with R5 in beat() */
	/*
	 * Relaxed from here on: a snapshot for humans and tests; nothing is
	 * read through these values.  head is read before tail, so on the
	 * usual TSO machine tail >= head; the clamps keep used sane
	 * elsewhere.  A run base newer than the totals (a take-over between
	 * the loads) is clamped the same way.
	 */
	for (int i = 0; i < CEP_RING_PCOUNTERS; i++) {
		uint64_t base = LOAD_RELAXED(&shm->prod.run_base[i]);

		total[i] = LOAD_RELAXED(&shm->prod.counters[i]);
		run[i] = total[i] >= base ? total[i] - base : 0;
	}
	counters_from_array(&st->producer, total);
	counters_from_array(&st->producer_run, run);
	st->producer_reports = LOAD_RELAXED(&shm->prod.reporting) != 0;
	st->producer_pid = (int)LOAD_RELAXED(&shm->prod.pid);
	head = LOAD_RELAXED(&shm->cons.head);
	tail = LOAD_RELAXED(&shm->prod.tail);

	st->enqueued = tail;
	st->dequeued = head;
	st->dropped = LOAD_RELAXED(&r->shm->prod.dropped);
	st->capacity = r->capacity;
	if (tail < head)
		st->used = 0;
	else if (tail - head > r->capacity)
		st->used = r->capacity;
	else
		st->used = (uint32_t)(tail - head);
}

int cep_ring_producer_state(const struct cep_ring_stats *st, int64_t now_ns)
{
	if (st->closed)
		return CEP_RING_PRODUCER_CLOSED;
	if (st->producer_pid <= 0 && st->heartbeat_ns == 0)
		return CEP_RING_PRODUCER_NONE;
	/* EPERM: it exists but belongs to someone else; still alive. */
	if (st->producer_pid > 0 && kill((pid_t)st->producer_pid, 0) &&
	    errno == ESRCH)
		return CEP_RING_PRODUCER_DEAD;
	if (now_ns == 0)
		now_ns = wall_ns();
	if (st->producer_reports &&
	    now_ns - st->heartbeat_ns > (int64_t)CEP_RING_STALE_MS * 1000000)
		return CEP_RING_PRODUCER_STALE;
	return CEP_RING_PRODUCER_ALIVE;
}

const char *cep_ring_producer_state_name(int state)
{
	switch (state) {
	case CEP_RING_PRODUCER_NONE: return "none";
	case CEP_RING_PRODUCER_ALIVE: return "alive";
	case CEP_RING_PRODUCER_STALE: return "stale";
	case CEP_RING_PRODUCER_CLOSED: return "closed";
	case CEP_RING_PRODUCER_DEAD: return "dead";
	}
	return "?";
}
