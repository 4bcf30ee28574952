/*
 * latency.h - a fixed-memory latency histogram: one thread records, any
 * thread reads percentiles.
 *
 * What it is for.  ceptord measures, for each incident message Redis
 * acknowledges, the time from the ingest of the newest evidence behind
 * that message version to the XADD reply (engine/loop.h, "Ingest to
 * acknowledged").  The publisher thread records one value per reply; the
 * core thread reads p50 / p99 / p99.9 / max for the status document and
 * exact bucket counts for the Prometheus histogram, once a second.
 *
 * Design.  Log-linear buckets in microseconds, as HdrHistogram lays them
 * out with two significant binary digits more:
 *
 *   index 0 .. 63          one bucket per microsecond, 0 .. 63 us (exact)
 *   index 64 + 32 (k - 6) + s   for 2^k <= v < 2^(k+1), k = 6 .. 31:
 *                          32 buckets per power of two, each 2^(k-5) us
 *                          wide, s = the five bits below the leading one
 *
 * so a value is known to within 1/32 (3.1 %) of itself, from 1 us to 71
 * minutes, in CEP_LATENCY_BUCKETS counters (7 KiB).  Beside them: exact
 * counts at the fixed Prometheus bounds (cep_latency_le_ns[]), the sum, the
 * largest value, and the values refused as implausible.
 *
 *   writer (one thread)          readers (any thread)
 *   cep_latency_record_since()   cep_latency_snapshot() -> a plain copy
 *     relaxed load + store          relaxed loads; percentiles come from
 *     of each counter it bumps      the copy (cep_latency_quantile())
 *
 * Memory order.  Every counter is written by the one recording thread
 * only, so it needs no read-modify-write: a relaxed load and a relaxed
 * store.  A reader's relaxed loads see each counter at some recent value;
 * the counters are independent and each only grows, so a snapshot is a
 * histogram of a slightly fuzzy moment, never a torn value (64-bit atomics)
 * and never a count that goes back.  The snapshot's count is the sum of
 * the buckets it read, so its percentiles are consistent with itself; its
 * sum and max may include a value or two that its buckets do not.
 *
 * Plausibility.  cep_latency_record_since() takes two wall-clock times and
 * records their difference only when it lies in [0, CEP_LATENCY_MAX_NS]:
 * an origin in the future (a collector whose clock runs ahead) or more than
 * an hour back (a replayed capture, a stale record) is counted in
 * `refused` and left out, so that such input cannot pass for latency.
 *
 * Threads: init and record on the writing thread (init before any reader
 * looks); snapshot from any thread at any time; the snap functions on the
 * caller's copy.  Nothing allocates, nothing fails.
 */
#ifndef CEPTOR_PUBLISH_LATENCY_H
#define CEPTOR_PUBLISH_LATENCY_H

#include <stdatomic.h>
#include <stdint.h>

#define CEP_LATENCY_SUB_BITS 5
#define CEP_LATENCY_LINEAR 64     /* exact buckets below 2^(SUB_BITS + 1) */
#define CEP_LATENCY_TOP_BIT 31    /* values up to 2^32 - 1 us */
#define CEP_LATENCY_BUCKETS \
	(CEP_LATENCY_LINEAR + \
	 (CEP_LATENCY_TOP_BIT - CEP_LATENCY_SUB_BITS) * (1 << CEP_LATENCY_SUB_BITS))
/* The longest latency taken as real: an hour.  Longer is not a live
 * measurement (see "Plausibility"). */
#define CEP_LATENCY_MAX_NS (3600ull * 1000000000)

/* The Prometheus bucket bounds (le), ns: 100 us .. 60 s. */
#define CEP_LATENCY_LE 18
extern const uint64_t cep_latency_le_ns[CEP_LATENCY_LE];

struct cep_latency {
	_Atomic uint64_t bucket[CEP_LATENCY_BUCKETS];
	_Atomic uint64_t le[CEP_LATENCY_LE + 1]; /* values in (le[i-1], le[i]];
						    the last: above every bound */
	_Atomic uint64_t sum_ns;
	_Atomic uint64_t max_ns;
	_Atomic uint64_t refused; /* outside [0, CEP_LATENCY_MAX_NS] */
};

/* A reader's copy. */
struct cep_latency_snap {
	uint64_t bucket[CEP_LATENCY_BUCKETS];
	uint64_t le[CEP_LATENCY_LE + 1];
	uint64_t count;  /* sum of bucket[] */
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t refused;
};

/* cep_latency_init - all counters to 0 (the caller's storage). */
void cep_latency_init(struct cep_latency *h);

/* cep_latency_record - count one latency of @ns (clamped to the top
 * bucket past 2^32 us).  cep_latency_record_since - count now_ns -
 * origin_ns when it is in [0, CEP_LATENCY_MAX_NS], else count it refused.
 * The writing thread only. */
void cep_latency_record(struct cep_latency *h, uint64_t ns);
void cep_latency_record_since(struct cep_latency *h, uint64_t origin_ns,
			      uint64_t now_ns);

/* cep_latency_snapshot - copy the counters into *out (any thread). */
void cep_latency_snapshot(const struct cep_latency *h,
			  struct cep_latency_snap *out);

/* cep_latency_quantile - the @q quantile (0 < q <= 1) of a snapshot, ns:
 * the highest value of the bucket that holds the ceil(q * count)-th
 * smallest value, but not above max_ns.  So the true value is at most the
 * answer and less than 3.2 % below it (less than 1 us below 64 us).  0 for
 * an empty snapshot. */
uint64_t cep_latency_quantile(const struct cep_latency_snap *s, double q);

/* cep_latency_bucket_of - the bucket index of @us microseconds;
 * cep_latency_bucket_low - the smallest value (us) of bucket @i, and
 * cep_latency_bucket_high - its largest. */
unsigned cep_latency_bucket_of(uint64_t us);
uint64_t cep_latency_bucket_low(unsigned i);
uint64_t cep_latency_bucket_high(unsigned i);

#endif /* CEPTOR_PUBLISH_LATENCY_H */
