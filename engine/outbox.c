/*
 * outbox.c - the core -> publisher thread hand-off (see outbox.h).
 *
 * A record in a buffer:  u8 kind (0 XADD, 1 command) | u64 origin (ns,
 * 0: none) | u32 argc | argc x (u32 len | len bytes | NUL).  For an XADD
 * argv[0] is the stream.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptor/error.h"
#include "lib/log.h"
#include "outbox.h"

#define ARGS_MAX 256

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct cep_outbox {
	struct cep_publisher *pub;   /* the thread's */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* something handed over, or stop */
	pthread_cond_t idle;         /* the thread finished a round */
	struct buf open;             /* the core's */
	struct buf handed;           /* under lock */
	struct buf spare;            /* under lock: a drained buffer to reuse */
	bool stop, busy;
	uint64_t handed_gen, done_gen; /* under lock: rounds handed, flushed */
	struct cep_outbox_stats st;  /* under lock */
};

static int grow(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64 * 1024;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put_u32(struct buf *b, uint32_t v)
{
	memcpy(b->p + b->len, &v, 4);
	b->len += 4;
}

static int put_record(struct buf *b, uint8_t kind, uint64_t origin,
		      const char *first, const char *const *argv, size_t argc)
{
	size_t total = 1 + 8 + 4, n = argc + (first ? 1 : 0);

	if (n > ARGS_MAX)
		return -EINVAL;
	if (first)
		total += 4 + strlen(first) + 1;
	for (size_t i = 0; i < argc; i++) {
		if (!argv[i])
			return -EINVAL;
		total += 4 + strlen(argv[i]) + 1;
	}
	if (grow(b, total))
		return -ENOMEM;
	b->p[b->len++] = kind;
	memcpy(b->p + b->len, &origin, 8);
	b->len += 8;
	put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *s = first ? (i == 0 ? first : argv[i - 1]) : argv[i];
		size_t len = strlen(s);
		put_u32(b, (uint32_t)len);
		memcpy(b->p + b->len, s, len + 1);
		b->len += len + 1;
	}
	return 0;
}

#define KIND_XADD 0
#define KIND_CMD 1

/* Hands the records of @b of one kind to the publisher, in order; returns
 * how many. */
static size_t unpack(struct cep_publisher *pub, const struct buf *b,
		     uint8_t want)
{
	const char *argv[ARGS_MAX];
	size_t off = 0, done = 0;

	while (off < b->len) {
		uint8_t kind = b->p[off++];
		uint64_t origin;
		uint32_t n;
		memcpy(&origin, b->p + off, 8);
		off += 8;
		memcpy(&n, b->p + off, 4);
		off += 4;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t len;
			memcpy(&len, b->p + off, 4);
			off += 4;
			argv[i] = (const char *)b->p + off;
			off += len + 1;
		}
		if (kind != want)
			continue;
		done++;
		int rc = kind == KIND_XADD ? cep_publisher_add_at(pub, argv[0], argv + 1,
								  n - 1, origin)
					   : cep_publisher_add_cmd(pub, argv, n);
		if (rc)
			cep_error("publisher: cannot queue %s %s: %s",
				  kind == KIND_XADD ? "a message for" : "the command",
				  argv[0], cep_strerror(rc));
	}
	return done;
}

static void *outbox_main(void *arg)
{
	struct cep_outbox *o = arg;
	int logged_rc = 0;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		if (!o->handed.len && !o->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += OUTBOX_RETRY_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&o->cond, &o->lock, &ts);
		}
		bool stopping = o->stop;
		struct buf take = o->handed;
		uint64_t gen = o->handed_gen;
		o->handed = o->spare;
		o->handed.len = 0;
		o->spare = (struct buf){ 0 };
		o->busy = true;
		pthread_mutex_unlock(&o->lock);

		/* The round's messages first, with a flush of their own, then
		 * its commands (statistics) with another: a message's
		 * acknowledgement, and so its latency, never waits behind the
		 * statistics.  Also with nothing new: a spool waits for its
		 * replay, a lost connection for its next attempt (the
		 * publisher's back-off decides when). */
		unpack(o->pub, &take, KIND_XADD);
		int rc = cep_publisher_flush(o->pub);
		if (unpack(o->pub, &take, KIND_CMD)) {
			int rc2 = cep_publisher_flush(o->pub);
			if (!rc)
				rc = rc2;
		}
		struct cep_publish_stats ps;
		cep_publisher_stats(o->pub, &ps);
		if (rc && rc != logged_rc)
			cep_warn("publishing: %s (%s)", cep_strerror(rc), ps.last_error);
		logged_rc = rc;

		pthread_mutex_lock(&o->lock);
		o->st.pub = ps;
		o->st.last_rc = rc;
		o->st.queued_bytes = o->handed.len;
		take.len = 0;
		if (!o->spare.p)
			o->spare = take;
		else
			free(take.p);
		o->busy = false;
		o->done_gen = gen;
		pthread_cond_broadcast(&o->idle);
		if (stopping && !o->handed.len)
			break;
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

int cep_outbox_create(struct cep_publisher *pub, struct cep_outbox **out)
{
	struct cep_outbox *o = calloc(1, sizeof *o);
	int rc;

	if (!o)
		return -ENOMEM;
	o->pub = pub;
	cep_publisher_stats(pub, &o->st.pub);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	pthread_cond_init(&o->idle, NULL);
	if ((rc = pthread_create(&o->thread, NULL, outbox_main, o))) {
		pthread_mutex_destroy(&o->lock);
		pthread_cond_destroy(&o->cond);
		pthread_cond_destroy(&o->idle);
		free(o);
		return -rc;
	}
	*out = o;
	return 0;
}

int cep_outbox_add(struct cep_outbox *o, const char *stream,
		   const char *const *fv, size_t nfv)
{
	return cep_outbox_add_at(o, stream, fv, nfv, 0);
}

int cep_outbox_add_at(struct cep_outbox *o, const char *stream,
		      const char *const *fv, size_t nfv, uint64_t origin_ns)
{
	if (!stream || !*stream || !fv || !nfv || nfv % 2)
		return -EINVAL;
	return put_record(&o->open, KIND_XADD, origin_ns, stream, fv, nfv);
}

int cep_outbox_add_cmd(struct cep_outbox *o, const char *const *argv,
		       size_t argc)
{
	if (!argv || !argc || !argv[0])
		return -EINVAL;
	return put_record(&o->open, KIND_CMD, 0, NULL, argv, argc);
}

void cep_outbox_flush(struct cep_outbox *o)
{
	if (!o->open.len)
		return;
	pthread_mutex_lock(&o->lock);
	if (!o->handed.len) {
		/* The usual case: swap whole buffers. */
		struct buf t = o->handed;
		o->handed = o->open;
		o->open = t;
		o->open.len = 0;
	} else if (!grow(&o->handed, o->open.len)) {
		/* The thread is still busy with an older round. */
		memcpy(o->handed.p + o->handed.len, o->open.p, o->open.len);
		o->handed.len += o->open.len;
		o->open.len = 0;
	} /* else: out of memory; the records stay open for the next round */
	o->handed_gen++;
	o->st.queued_bytes = o->handed.len;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

void cep_outbox_drain(struct cep_outbox *o)
{
	if (!o)
		return;
	cep_outbox_flush(o);
	pthread_mutex_lock(&o->lock);
	uint64_t want = o->handed_gen;
	while (o->done_gen < want || o->handed.len || o->busy) {
		pthread_cond_signal(&o->cond);
		pthread_cond_wait(&o->idle, &o->lock);
	}
	pthread_mutex_unlock(&o->lock);
}

void cep_outbox_stats(struct cep_outbox *o, struct cep_outbox_stats *out)
{
	pthread_mutex_lock(&o->lock);
	*out = o->st;
	out->queued_bytes = o->handed.len + o->open.len;
	pthread_mutex_unlock(&o->lock);
}

void cep_outbox_destroy(struct cep_outbox *o)
{
	if (!o)
		return;
	cep_outbox_flush(o);
	pthread_mutex_lock(&o->lock);
	o->stop = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	pthread_join(o->thread, NULL);
	cep_publisher_destroy(o->pub);
	free(o->open.p);
	free(o->handed.p);
	free(o->spare.p);
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->cond);
	pthread_cond_destroy(&o->idle);
	free(o);
}
