/*
 * ring_priv.h - the shared-memory layout of a ring (see the picture in
 * include/ceptor/ring.h).  Only ring.c and the ring's tests include this:
 * everyone else goes through the functions of ring.h.
 *
 * Any change to this structure, to struct cep_event or to the meaning of a
 * field changes the bytes another process sees: bump CEP_RING_VERSION.
 * The one exception is a field placed in a group's padding whose value 0
 * means "not known": cep_ring_create() zeroes the padding, so a segment of
 * an older build reads as "not known" and an older build never reads the
 * field (prod.pid is such a field).
 */
#ifndef CEPTOR_LIB_RING_PRIV_H
#define CEPTOR_LIB_RING_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "ceptor/event.h"
#include "ceptor/ring.h"

/* "CEPRING1" read as a little-endian 64-bit number. */
#define CEP_RING_MAGIC 0x31474e4952504543ull

/*
 * Distance between groups written by different threads: two cache lines,
 * because x86's adjacent-line prefetcher pulls lines in pairs.
 */
#define CEP_RING_GROUP 128

/* Fields of struct cep_ring_producer_counters, kept as an array here. */
#define CEP_RING_PCOUNTERS 4
_Static_assert(sizeof(struct cep_ring_producer_counters) ==
		       CEP_RING_PCOUNTERS * sizeof(uint64_t),
	       "one shared counter per field of cep_ring_producer_counters");

/* Words a sleeper waits on; one pair for each side. */
struct cep_ring_waiter {
	uint32_t sleeping; /* 1: the owner is in, or about to enter, FUTEX_WAIT */
	uint32_t futex;    /* bumped by the other side before FUTEX_WAKE */
};

struct cep_ring_shm {
	/* Written once by cep_ring_create(), read-only afterwards. */
	_Alignas(CEP_RING_GROUP) struct {
		uint64_t magic;       /* CEP_RING_MAGIC, stored last */
		uint32_t version;     /* CEP_RING_VERSION */
		uint32_t record_size; /* sizeof(struct cep_event) */
		uint32_t capacity;    /* slots, a power of two */
		uint32_t records_off; /* offset of record[0] in the segment */
	} info;
	/*
	 * Written by the producer only: tail once per batch, the rest rarely
	 * (the counters and the heartbeat about once a second).  The consumer
	 * loads tail from this group anyway, so the rare fields cost no
	 * extra cache-line transfer on the fast path.
	 */
	_Alignas(CEP_RING_GROUP) struct {
		uint64_t tail;    /* records committed since creation */
		uint64_t dropped; /* records refused under CEP_OVERFLOW_DROP */
		uint32_t closed;  /* 1 after cep_ring_close(), 0 after
				     cep_ring_reopen() */
		uint32_t pid;     /* process of the producer that last took the
				     ring over, 0 when none did */
		int64_t heartbeat_ns; /* CLOCK_REALTIME of the last reopen,
					 report or wait for room; 0: none */
		uint32_t reporting;   /* 1 once the current producer reported */
		uint32_t reserved;    /* 0 */
		/* Producer counters (struct cep_ring_producer_counters, in its
		 * field order): totals since creation, and what the totals were
		 * when the current producer took over. */
		uint64_t counters[CEP_RING_PCOUNTERS];
		uint64_t run_base[CEP_RING_PCOUNTERS];
	} prod;
	/* Written by the consumer only. */
	_Alignas(CEP_RING_GROUP) struct {
		uint64_t head; /* records consumed since creation */
	} cons;
	/* The consumer sleeps here; the producer wakes it. */
	_Alignas(CEP_RING_GROUP) struct cep_ring_waiter cons_wait;
	/* The producer sleeps here when the ring is full; the consumer wakes it. */
	_Alignas(CEP_RING_GROUP) struct cep_ring_waiter prod_wait;
	/* record[0] follows at info.records_off == sizeof(struct cep_ring_shm). */
};

_Static_assert(offsetof(struct cep_ring_shm, info.magic) == 0,
	       "the magic opens the segment");
_Static_assert(offsetof(struct cep_ring_shm, info.version) == 8,
	       "the version follows the magic");
_Static_assert(offsetof(struct cep_ring_shm, info.record_size) == 12,
	       "the record size follows the version");
_Static_assert(offsetof(struct cep_ring_shm, prod) == 128 &&
		       offsetof(struct cep_ring_shm, cons) == 256 &&
		       offsetof(struct cep_ring_shm, cons_wait) == 384 &&
		       offsetof(struct cep_ring_shm, prod_wait) == 512,
	       "the groups sit where ring.h draws them");
_Static_assert(offsetof(struct cep_ring_shm, prod.pid) == 128 + 20,
	       "prod.pid sits in padding older builds left zero");
_Static_assert(offsetof(struct cep_ring_shm, prod.run_base) +
			       sizeof(((struct cep_ring_shm *)0)->prod.run_base) <=
		       256,
	       "the producer's fields fit its group");
_Static_assert(sizeof(struct cep_ring_shm) == 640,
	       "records start at byte 640, as ring.h draws them");
_Static_assert(sizeof(struct cep_ring_shm) % CEP_CACHE_LINE == 0,
	       "records must start on a cache line");

#endif /* CEPTOR_LIB_RING_PRIV_H */
