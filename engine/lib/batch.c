/*
 * batch.c - the collectors' batching front (include/ceptor/batch.h).
 */
#include "ceptor/batch.h"

void cep_batch_init(struct cep_batch *b, const struct cep_source *src,
		    const struct cep_sink *sink, uint64_t *refused_ctr)
{
	b->n = 0;
	b->err = 0;
	b->keep_source = 0;
	b->src = src;
	b->sink = sink;
	b->refused_ctr = refused_ctr;
	b->accepted = 0;
	b->refused = 0;
}

int cep_batch_flush(struct cep_batch *b)
{
	unsigned n = b->n;
	int rc;

	if (n == 0)
		return b->err;
	b->n = 0;
	if (b->err)
		return b->err; /* the sink failed before: drop, never retry */
	rc = b->sink->fn(b->sink->arg, b->ev, n);
	if (rc < 0) {
		b->err = rc;
		return rc;
	}
	b->accepted += (unsigned)rc;
	if ((unsigned)rc < n) {
		b->refused += n - (unsigned)rc;
		if (b->refused_ctr)
			*b->refused_ctr += n - (unsigned)rc;
	}
	return 0;
}

void cep__batch_stamp_keep(const struct cep_source *src, struct cep_event *ev)
{
	char own[sizeof ev->source];

	if (!ev->source[0]) {
		cep_source_stamp(src, ev);
		return;
	}
	memcpy(own, ev->source, sizeof own);
	cep_source_stamp(src, ev);
	memcpy(ev->source, own, sizeof own);
}
