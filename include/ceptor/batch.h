/*
 * batch.h - the batching front every collector fills its events through.
 *
 * A collector decodes straight into the next free record of a batch, then
 * commits it; the batch stamps the record with the source (collector.h)
 * and hands the whole batch to the sink when it is full, or when the
 * collector flushes it (at the end of the input, on a time-out, after a
 * burst):
 *
 *   ev[0] ev[1] ... ev[n-1] | ev[n]            ... ev[CEP_COLLECTOR_BATCH-1]
 *   committed, waiting      | cep_batch_slot(): being filled
 *                           |
 *   cep_batch_commit(): stamp ev[n], n++; full -> cep_batch_flush()
 *   cep_batch_flush():  sink->fn(sink->arg, ev, n); n = 0
 *
 * A slot that is filled but not committed (a record that failed to decode)
 * is simply filled again by the next cep_batch_slot(): nothing to undo.
 *
 * Ownership: the batch is the caller's storage (16 KiB: keep it off small
 * stacks); the source and the sink are borrowed from cep_batch_init() for
 * the batch's life.  The sink borrows the records only for its call
 * (collector.h), so a record's slot is free again once the flush returns.
 *
 * Counting: the sink returns how many events it accepted; the rest of the
 * batch was refused (dropped by the sink's overflow policy and counted by
 * it too).  The batch adds them to accepted and refused, and the refused
 * ones also to the collector's own counter when it gave one, so that the
 * collector's statistics show them at once.
 *
 * Errors: a negative return from the sink is an error after which the
 * collector stops (a closed pipe, a ring torn down).  The batch keeps the
 * first one in err: later flushes do not call the sink again and return
 * it, so a collector may check the result of its last flush only.  The
 * events of the failed batch, and any committed after it, are neither
 * accepted nor refused: they are dropped with the error.
 *
 * Thread safety: a batch belongs to one thread, the one that calls the
 * sink; it has no locks and no atomics.
 */
#ifndef CEPTOR_BATCH_H
#define CEPTOR_BATCH_H

#include <stdint.h>
#include <string.h>

#include "ceptor/collector.h"

struct cep_batch {
	struct cep_event ev[CEP_COLLECTOR_BATCH];
	unsigned n;                   /* committed records waiting */
	int err;                      /* the sink's first error, or 0 */
	/*
	 * Set after cep_batch_init() for a collector that relays records
	 * made elsewhere (JSON Lines): a record whose source is already set
	 * keeps it; the source's defaults still fill what is unset.
	 */
	int keep_source;
	const struct cep_source *src; /* borrowed; NULL: no stamping */
	const struct cep_sink *sink;  /* borrowed */
	uint64_t *refused_ctr;        /* borrowed; the collector's, or NULL */
	uint64_t accepted;            /* events the sink accepted */
	uint64_t refused;             /* events the sink refused */
};

/*
 * cep_batch_init - an empty batch in @b that stamps with @src (may be NULL:
 * records go out as filled) and flushes into @sink.  @refused_ctr, when
 * not NULL, is the collector's counter of refused events: each flush adds
 * to it.  All three are borrowed for the batch's life.  There is nothing
 * to finish: flush what waits and drop the storage.
 */
void cep_batch_init(struct cep_batch *b, const struct cep_source *src,
		    const struct cep_sink *sink, uint64_t *refused_ctr);

/*
 * cep_batch_flush - hand the waiting records to the sink, if any.
 * Returns 0 (also when nothing waited), or the sink's negative error, now
 * or from an earlier flush (see Errors above).
 */
int cep_batch_flush(struct cep_batch *b);

/*
 * cep_batch_slot - the next free record, zeroed, for the caller to fill.
 * Borrowed: valid until the next cep_batch_commit() or cep_batch_flush().
 */
static inline struct cep_event *cep_batch_slot(struct cep_batch *b)
{
	struct cep_event *ev = &b->ev[b->n];

	memset(ev, 0, sizeof *ev);
	return ev;
}

/*
 * cep_batch_slot_raw - the same record, not zeroed: for a filler that
 * writes the whole record itself (cep_pcap_decode() starts with a memset),
 * on a path where a second memset per packet shows.
 */
static inline struct cep_event *cep_batch_slot_raw(struct cep_batch *b)
{
	return &b->ev[b->n];
}

/* cep__batch_stamp_keep - cep_source_stamp() for keep_source (batch.c). */
void cep__batch_stamp_keep(const struct cep_source *src, struct cep_event *ev);

/*
 * cep_batch_commit - the slot is complete: stamp it with the source and
 * count it as waiting; a full batch is flushed.  Returns 0, or the sink's
 * negative error (from this flush or an earlier one).
 */
static inline int cep_batch_commit(struct cep_batch *b)
{
	struct cep_event *ev = &b->ev[b->n];

	if (b->src && b->keep_source)
		cep__batch_stamp_keep(b->src, ev);
	else if (b->src)
		cep_source_stamp(b->src, ev);
	if (++b->n == CEP_COLLECTOR_BATCH)
		return cep_batch_flush(b);
	return b->err;
}

#endif /* CEPTOR_BATCH_H */
