/*
 * latency.c - the log-linear latency histogram (see latency.h).
 */
#include "publish/latency.h"

const uint64_t cep_latency_le_ns[CEP_LATENCY_LE] = {
	100000,     250000,     500000,      1000000,     2000000,
	5000000,    10000000,   25000000,    50000000,    100000000,
	250000000,  500000000,  1000000000,  2500000000,  5000000000,
	10000000000, 30000000000, 60000000000,
};

void cep_latency_init(struct cep_latency *h)
{
	for (unsigned i = 0; i < CEP_LATENCY_BUCKETS; i++)
		atomic_init(&h->bucket[i], 0);
	for (unsigned i = 0; i <= CEP_LATENCY_LE; i++)
		atomic_init(&h->le[i], 0);
	atomic_init(&h->sum_ns, 0);
	atomic_init(&h->max_ns, 0);
	atomic_init(&h->refused, 0);
}

unsigned cep_latency_bucket_of(uint64_t us)
{
	if (us < CEP_LATENCY_LINEAR)
		return (unsigned)us;
	unsigned k = 63u - (unsigned)__builtin_clzll(us);
	if (k > CEP_LATENCY_TOP_BIT)
		return CEP_LATENCY_BUCKETS - 1;
	unsigned sub = (unsigned)(us >> (k - CEP_LATENCY_SUB_BITS)) -
		       (1u << CEP_LATENCY_SUB_BITS);
	return CEP_LATENCY_LINEAR +
	       (k - CEP_LATENCY_SUB_BITS - 1) * (1u << CEP_LATENCY_SUB_BITS) + sub;
}

uint64_t cep_latency_bucket_low(unsigned i)
{
	if (i < CEP_LATENCY_LINEAR)
		return i;
	unsigned j = i - CEP_LATENCY_LINEAR;
	unsigned k = CEP_LATENCY_SUB_BITS + 1 + j / (1u << CEP_LATENCY_SUB_BITS);
	uint64_t s = j % (1u << CEP_LATENCY_SUB_BITS);
	return ((1ull << CEP_LATENCY_SUB_BITS) + s) << (k - CEP_LATENCY_SUB_BITS);
}

uint64_t cep_latency_bucket_high(unsigned i)
{
	if (i < CEP_LATENCY_LINEAR)
		return i;
	unsigned j = i - CEP_LATENCY_LINEAR;
	unsigned k = CEP_LATENCY_SUB_BITS + 1 + j / (1u << CEP_LATENCY_SUB_BITS);
	return cep_latency_bucket_low(i) + (1ull << (k - CEP_LATENCY_SUB_BITS)) - 1;
}

/* One writer: a relaxed load and store is the increment (latency.h). */
static void bump(_Atomic uint64_t *c, uint64_t by)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
			      memory_order_relaxed);
}

void cep_latency_record(struct cep_latency *h, uint64_t ns)
{
	unsigned i = 0;

	bump(&h->bucket[cep_latency_bucket_of(ns / 1000)], 1);
	while (i < CEP_LATENCY_LE && ns > cep_latency_le_ns[i])
		i++;
	bump(&h->le[i], 1);
	bump(&h->sum_ns, ns);
	if (ns > atomic_load_explicit(&h->max_ns, memory_order_relaxed))
		atomic_store_explicit(&h->max_ns, ns, memory_order_relaxed);
}

void cep_latency_record_since(struct cep_latency *h, uint64_t origin_ns,
			      uint64_t now_ns)
{
	if (now_ns < origin_ns || now_ns - origin_ns > CEP_LATENCY_MAX_NS) {
		bump(&h->refused, 1);
		return;
	}
	cep_latency_record(h, now_ns - origin_ns);
}

void cep_latency_snapshot(const struct cep_latency *h,
			  struct cep_latency_snap *out)
{
	/* Relaxed: each counter is independent and only grows (latency.h). */
	out->count = 0;
	for (unsigned i = 0; i < CEP_LATENCY_BUCKETS; i++) {
		out->bucket[i] = atomic_load_explicit(&h->bucket[i],
						      memory_order_relaxed);
		out->count += out->bucket[i];
	}
	for (unsigned i = 0; i <= CEP_LATENCY_LE; i++)
		out->le[i] = atomic_load_explicit(&h->le[i], memory_order_relaxed);
	out->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
	out->max_ns = atomic_load_explicit(&h->max_ns, memory_order_relaxed);
	out->refused = atomic_load_explicit(&h->refused, memory_order_relaxed);
}

uint64_t cep_latency_quantile(const struct cep_latency_snap *s, double q)
{
	if (!s->count)
		return 0;
	if (q > 1)
		q = 1;
	/* The rank of the value asked for: ceil(q * count), at least 1. */
	double r = q * (double)s->count;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < CEP_LATENCY_BUCKETS; i++) {
		seen += s->bucket[i];
		if (seen >= rank) {
			uint64_t v = (cep_latency_bucket_high(i) + 1) * 1000 - 1;
			return v < s->max_ns ? v : s->max_ns;
		}
	}
	return s->max_ns;
}
