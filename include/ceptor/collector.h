/*
 * collector.h - what every collector shares: its source description and
 * the sink it hands batches of events to.
 *
 * A collector (pcap, flow, feed) turns one kind of input into struct
 * cep_event records.  It never knows where they go: it fills a local batch
 * and hands the whole batch to a struct cep_sink.  The sink is a shared-memory
 * ring (ceptord, or a collector process feeding a running ceptord), a JSON
 * Lines printer (--dump) or a counter (--stats).  Handing over batches, not
 * single events, is what keeps cross-core traffic affordable (DESIGN.md
 * section 10: a wake-up across cores costs tens of microseconds).
 *
 * The source description stamps every event with the instance's name and its
 * defaults: reliability, credibility, TLP and sector apply only where the
 * input itself did not say.
 *
 * Thread safety: a collector instance and its sink belong to one thread.
 */
#ifndef CEPTOR_COLLECTOR_H
#define CEPTOR_COLLECTOR_H

#include <stdint.h>

#include "ceptor/event.h"

/* What a collector does when its ring is full. */
enum cep_overflow {
	CEP_OVERFLOW_BLOCK = 0, /* wait for room: files, feeds, reports */
	CEP_OVERFLOW_DROP,      /* count and drop: live capture, UDP flow */
};

struct cep_source {
	char name[24];        /* instance name, copied into event.source */
	uint8_t reliability;  /* default enum cep_reliability */
	uint8_t credibility;  /* default 1..6 */
	uint8_t tlp;          /* default enum cep_tlp */
	uint8_t sector;       /* default enum cep_sector */
	uint8_t overflow;     /* enum cep_overflow */
	uint16_t recipients;  /* sectors (bit s) named as the recipients of
				 its TLP:RED events that name none; 0: none */
};

/*
 * cep_source_init - a source named @name with ceptor's defaults:
 * reliability F (cannot be judged), credibility 6 (cannot be judged),
 * TLP:AMBER, sector unknown, overflow block.  A name longer than the field
 * returns -CEP_ETOOLONG; otherwise 0.
 */
int cep_source_init(struct cep_source *src, const char *name);

/*
 * cep_source_stamp - apply the source to an event: copy the name into
 * ev->source and fill reliability, credibility, tlp and sector where the
 * event leaves them unset.
 */
void cep_source_stamp(const struct cep_source *src, struct cep_event *ev);

/*
 * cep_source_set - set one property by its configuration name: "name",
 * "reliability" (A..F), "credibility" (1..6), "tlp", "sector", "overflow"
 * (block|drop), "recipients" (sector tokens separated by commas).
 * Collector binaries use it for --source, --reliability...
 * Returns 0, -CEP_EUNKNOWN for an unknown key or value, -CEP_ETOOLONG.
 */
int cep_source_set(struct cep_source *src, const char *key, const char *value);

/*
 * A sink takes a batch of @n events.  It borrows @ev for the duration of the
 * call only.  It returns the number of events it accepted (refused ones were
 * dropped and are counted by the sink), or a negative error, after which
 * the collector stops and reports it.
 */
typedef int (*cep_sink_fn)(void *arg, const struct cep_event *ev, unsigned n);

struct cep_sink {
	cep_sink_fn fn;
	void *arg;
};

/* Events a collector gathers before it calls its sink. */
#define CEP_COLLECTOR_BATCH 64

#endif /* CEPTOR_COLLECTOR_H */
