/*
 * flow_decode.c - NetFlow v5/v9 and IPFIX export packets -> events
 * (flow.h).
 *
 * A template is compiled once, when it is learned, into an array of
 * (length, meaning) pairs: the meaning says which event field (or which
 * time source) the element feeds, or that it is skipped.  Decoding a
 * record is then one pass over that array; a template without
 * variable-length fields has one fixed record length, checked once per
 * record, so its inner loop reads without further bounds checks.
 *
 * Exporters are allocated one by one and found through one
 * open-addressing table of pointers (linear probing, kept at most half
 * full, doubled when needed up to twice the maximum number of exporters,
 * never shrunk; removal shifts the following entries back, so no
 * tombstones).  They are also on one LRU list, most recently heard first:
 *
 *   lru -> [e] <-> [e] <-> ... <-> [e] <- lru_tail   (evicted from here)
 *
 * Every byte the decoder allocates goes through mem_add()/mem_sub(), so the
 * budget (CEP_FLOW_MEMORY_MAX) is checked before an allocation, never
 * discovered after it.
 * Templates of an exporter live in a small array searched linearly from
 * the last hit: an exporter rarely has more than a handful.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/batch.h"
#include "ceptor/error.h"
#include "collectors/flow/flow.h"
#include "lib/bytes.h"
#include "lib/hash.h"
#include "lib/log.h"

#define EX_SLOTS_MAX (2 * CEP_FLOW_MAX_EXPORTERS)
#define EX_SLOTS_MIN 16
#define VARLEN 0xFFFF
#define NTP_UNIX_OFFSET 2208988800ull

/* What an element of a template feeds. */
enum what {
	W_SKIP = 0,
	W_BYTES,
	W_PKTS,
	W_PROTO,
	W_TCPF,
	W_SPORT,
	W_DPORT,
	W_SRC4,
	W_DST4,
	W_SRC6,
	W_DST6,
	W_FIRST_UP,   /* 22: FIRST_SWITCHED / flowStartSysUpTime, ms */
	W_START_S,    /* 150 */
	W_START_MS,   /* 152 */
	W_START_NTP,  /* 154, 156: NTP timestamps */
	W_START_DUS,  /* 158: microseconds before the export time */
	W_SYSINIT,    /* 160: systemInitTimeMilliseconds */
	W_ICMP_TC,    /* 32, 139 */
	W_ICMP_T,     /* 176, 178 */
	W_ICMP_C,     /* 177, 179 */
	W_VLAN,       /* 58 */
};

struct field {
	uint16_t len;  /* bytes, or VARLEN */
	uint8_t what;  /* enum what */
};

struct tmpl {
	uint16_t id;
	uint16_t nfields;
	uint8_t options; /* an options template: its records are not flows */
	uint8_t varlen;  /* has a variable-length field */
	uint32_t min_len; /* record length, variable fields at 1 byte */
	uint32_t heard;  /* export time (s) it was last learned or refreshed */
	struct field *f;
};

/* What a data set needs from its packet's header to give times. */
struct hctx {
	uint32_t secs;   /* v5/v9 unix_secs, IPFIX export time */
	uint32_t nsecs;  /* v5 unix_nsecs */
	uint32_t uptime; /* v5/v9 sysUptime, ms */
};

/* A data set waiting for its template, in an exporter's pending FIFO. */
struct pend {
	uint16_t set_id;
	uint16_t len;   /* bytes of set content (after the 4-byte header) */
	struct hctx ctx;
};
#define PEND_ALIGN(n) (((n) + 7u) & ~7u)

struct exporter {
	struct exporter *newer, *older; /* the LRU list */
	uint32_t hash;
	uint8_t family;   /* 4 or 6 */
	uint16_t version;
	uint32_t domain;
	uint8_t addr[16];
	uint8_t seq_valid;
	uint32_t seq_next;
	uint64_t sysinit_ms; /* from options data; 0 unknown */
	uint32_t ntmpl, cap, last;
	struct tmpl *tmpl;
	uint8_t *pend;       /* CEP_FLOW_PENDING_BYTES, allocated when needed */
	uint32_t pend_used, pend_n;
	uint64_t packets, records, lost;
};

struct cep_flow_decoder {
	struct cep_flow_stats *st;
	FILE *diag;
	const char *origin;
	long long origin_off;
	unsigned reported;
	uint32_t seq;
	struct exporter **ex;     /* slots entries, at most half used */
	unsigned nex, slots;
	struct exporter *lru, *lru_tail; /* most, least recently heard */
	size_t mem;               /* bytes held, against CEP_FLOW_MEMORY_MAX */
	/* The packet at hand, for damage reports. */
	const struct exporter *cur;
	char cur_addr[CEP_IP_STRLEN + 8];
	struct cep_batch batch; /* stamps, counts refused, flushes */
};

/* --- small helpers --------------------------------------------------------- */

static void damage(struct cep_flow_decoder *d, size_t off, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

/*
 * Count one damage and report it (the first CEP_FLOW_REPORT_MAX of the
 * decoder): where the packet came from, which exporter, and the byte
 * offset within the export packet.
 */
static void damage(struct cep_flow_decoder *d, size_t off, const char *fmt,
		   ...)
{
	char why[256], where[512];
	va_list ap;

	d->st->malformed++;
	if (d->reported >= CEP_FLOW_REPORT_MAX)
		return;
	d->reported++;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (d->origin && d->origin_off >= 0)
		snprintf(where, sizeof where, "%s: byte offset %lld: exporter %s",
			 d->origin, d->origin_off, d->cur_addr);
	else if (d->origin)
		snprintf(where, sizeof where, "%s: exporter %s", d->origin,
			 d->cur_addr);
	else
		snprintf(where, sizeof where, "exporter %s", d->cur_addr);
	if (d->cur)
		snprintf(where + strlen(where), sizeof where - strlen(where),
			 " %s domain %u",
			 d->cur->version == 10 ? "IPFIX"
			 : d->cur->version == 9 ? "v9" : "v5",
			 (unsigned)d->cur->domain);
	if (d->diag)
		fprintf(d->diag, "%s: %s at byte %zu of the export packet\n",
			where, why, off);
	else
		cep_error("%s: %s at byte %zu of the export packet", where, why,
			  off);
	if (d->reported == CEP_FLOW_REPORT_MAX) {
		if (d->diag)
			fprintf(d->diag, "%s: further damage is counted, not "
				"shown\n", d->origin ? d->origin : "flow");
		else
			cep_error("%s: further damage is counted, not shown",
				  d->origin ? d->origin : "flow");
	}
}

/*
 * The batch's slot @ev (cep_batch_slot()) holds a flow record: finish it
 * and commit it.  A sink error stays in d->batch.err, which the record
 * loops check.
 */
static inline void ev_commit(struct cep_flow_decoder *d, struct cep_event *ev)
{
	ev->kind = CEP_KIND_FLOW;
	ev->type = CEP_TYPE_TRAFFIC;
	ev->seq = ++d->seq;
	if (ev->proto == 1 || ev->proto == 58) {
		/* ICMP carries type and code, not ports: in the destination
		 * port (type << 8 | code), or byte-swapped in the source port
		 * by some exporters; explicit elements were applied already. */
		if (!ev->icmp_type && !ev->icmp_code) {
			uint16_t tc = ev->src_port ? (uint16_t)(ev->src_port >> 8 |
								ev->src_port << 8)
						   : ev->dst_port;
			ev->icmp_type = (uint8_t)(tc >> 8);
			ev->icmp_code = (uint8_t)tc;
		}
		ev->src_port = ev->dst_port = 0;
	}
	d->st->decoded++;
	cep_batch_commit(&d->batch);
}

/* --- memory ----------------------------------------------------------------- */

static void mem_add(struct cep_flow_decoder *d, size_t n)
{
	d->mem += n;
	d->st->memory += n;
	if (d->st->memory > d->st->memory_peak)
		d->st->memory_peak = d->st->memory;
}

static void mem_sub(struct cep_flow_decoder *d, size_t n)
{
	d->mem -= n;
	d->st->memory -= n;
}

static void ex_evict(struct cep_flow_decoder *d, struct exporter *e);

/*
 * Make room for @n more bytes, evicting the least recently heard exporters
 * other than @keep.  Returns 1 when they fit in the budget, else 0.
 */
static int mem_room(struct cep_flow_decoder *d, const struct exporter *keep,
		    size_t n)
{
	while (d->mem + n > CEP_FLOW_MEMORY_MAX) {
		if (!d->lru_tail || d->lru_tail == keep)
			return 0;
		ex_evict(d, d->lru_tail);
	}
	return 1;
}

/* --- exporters -------------------------------------------------------------- */

static uint32_t ex_hash(int family, const uint8_t *addr, uint16_t version,
			uint32_t domain)
{
	uint64_t h = cep_hash_bytes(addr, family == 6 ? 16 : 4, 0);

	return (uint32_t)cep_hash_u64(h ^ ((uint64_t)version << 32 | domain));
}

/* Double the exporter table; the exporters stay where they are. */
static int ex_grow(struct cep_flow_decoder *d)
{
	unsigned slots = d->slots * 2;
	struct exporter **t = calloc(slots, sizeof *t);

	if (!t)
		return -1;
	for (unsigned k = 0; k < d->slots; k++) {
		struct exporter *e = d->ex[k];

		if (!e)
			continue;
		uint32_t i = e->hash & (slots - 1);
		while (t[i])
			i = (i + 1) & (slots - 1);
		t[i] = e;
	}
	free(d->ex);
	mem_add(d, (slots - d->slots) * sizeof *t);
	d->ex = t;
	d->slots = slots;
	return 0;
}

static void lru_unlink(struct cep_flow_decoder *d, struct exporter *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		d->lru = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		d->lru_tail = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct cep_flow_decoder *d, struct exporter *e)
{
	e->newer = NULL;
	e->older = d->lru;
	if (d->lru)
		d->lru->newer = e;
	else
		d->lru_tail = e;
	d->lru = e;
}

/* Free an exporter's templates and pending FIFO (not the exporter). */
static void ex_clear(struct cep_flow_decoder *d, struct exporter *e)
{
	for (uint32_t k = 0; k < e->ntmpl; k++) {
		free(e->tmpl[k].f);
		mem_sub(d, e->tmpl[k].nfields * sizeof(struct field));
	}
	free(e->tmpl);
	mem_sub(d, e->cap * sizeof(struct tmpl));
	if (e->pend) {
		free(e->pend);
		mem_sub(d, CEP_FLOW_PENDING_BYTES);
	}
	e->tmpl = NULL;
	e->pend = NULL;
	e->ntmpl = e->cap = 0;
}

/*
 * Forget exporter @e: out of the table (the entries after it in its probe
 * run shift back, so that lookups need no tombstones), off the LRU list,
 * freed.  Its pending sets count as no_template.
 */
static void ex_evict(struct cep_flow_decoder *d, struct exporter *e)
{
	unsigned mask = d->slots - 1;
	uint32_t i = e->hash & mask, j;

	while (d->ex[i] != e)
		i = (i + 1) & mask;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!d->ex[j])
			break;
		uint32_t home = d->ex[j]->hash & mask;
		/* The entry at j may move to the hole at i unless its home
		 * lies cyclically in (i, j]. */
		int stays = i <= j ? (home > i && home <= j)
				   : (home > i || home <= j);
		if (!stays) {
			d->ex[i] = d->ex[j];
			i = j;
		}
	}
	d->ex[i] = NULL;
	lru_unlink(d, e);
	d->st->no_template += e->pend_n;
	ex_clear(d, e);
	free(e);
	mem_sub(d, sizeof *e);
	d->nex--;
	d->st->exporters_evicted++;
}

/*
 * The exporter for this packet, made on first sight, now the most recently
 * heard.  A new one past CEP_FLOW_MAX_EXPORTERS or the budget takes the
 * place of the least recently heard.  NULL when memory runs out.
 */
static struct exporter *ex_get(struct cep_flow_decoder *d, int family,
			       const uint8_t *addr, uint16_t version,
			       uint32_t domain)
{
	uint32_t h = ex_hash(family, addr, version, domain);
	uint32_t i = h & (d->slots - 1);
	unsigned n = family == 6 ? 16 : 4;

	for (;; i = (i + 1) & (d->slots - 1)) {
		struct exporter *e = d->ex[i];

		if (!e)
			break;
		if (e->hash == h && e->family == family &&
		    e->version == version && e->domain == domain &&
		    memcmp(e->addr, addr, n) == 0) {
			if (d->lru != e) {
				lru_unlink(d, e);
				lru_push(d, e);
			}
			return e;
		}
	}
	while (d->nex >= CEP_FLOW_MAX_EXPORTERS && d->lru_tail)
		ex_evict(d, d->lru_tail);
	if (!mem_room(d, NULL, sizeof(struct exporter))) {
		d->st->over_budget++;
		return NULL;
	}
	if ((d->nex + 1) * 2 > d->slots) {
		if (d->slots >= EX_SLOTS_MAX || ex_grow(d) < 0)
			return NULL;
	}
	struct exporter *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	mem_add(d, sizeof *e);
	i = h & (d->slots - 1);
	while (d->ex[i])
		i = (i + 1) & (d->slots - 1);
	d->ex[i] = e;
	e->hash = h;
	e->family = (uint8_t)family;
	e->version = version;
	e->domain = domain;
	memcpy(e->addr, addr, n);
	lru_push(d, e);
	d->nex++;
	d->st->exporters++;
	return e;
}

static struct tmpl *tmpl_find(struct exporter *e, uint16_t id)
{
	if (e->last < e->ntmpl && e->tmpl[e->last].id == id)
		return &e->tmpl[e->last];
	for (uint32_t i = 0; i < e->ntmpl; i++)
		if (e->tmpl[i].id == id) {
			e->last = i;
			return &e->tmpl[i];
		}
	return NULL;
}

static void tmpl_remove(struct cep_flow_decoder *d, struct exporter *e,
			uint32_t i)
{
	free(e->tmpl[i].f);
	mem_sub(d, e->tmpl[i].nfields * sizeof(struct field));
	e->tmpl[i] = e->tmpl[--e->ntmpl];
	e->last = 0;
}

/* Has template @t gone unrefreshed too long by export time @now?  Export
 * times that go backwards (an exporter restart) expire nothing. */
static int tmpl_expired(const struct tmpl *t, uint32_t now)
{
	int64_t age = (int32_t)(now - t->heard);

	return age > CEP_FLOW_TEMPLATE_LIFETIME;
}

/* Forget the templates of @e that expired by export time @now. */
static void tmpl_sweep(struct cep_flow_decoder *d, struct exporter *e,
		       uint32_t now)
{
	for (uint32_t i = 0; i < e->ntmpl;) {
		if (tmpl_expired(&e->tmpl[i], now)) {
			tmpl_remove(d, e, i);
			d->st->templates_expired++;
		} else {
			i++;
		}
	}
}

/* The template a data set of @e names, unless it expired by @now. */
static struct tmpl *tmpl_current(struct cep_flow_decoder *d,
				 struct exporter *e, uint16_t id, uint32_t now)
{
	struct tmpl *t = tmpl_find(e, id);

	if (t && tmpl_expired(t, now)) {
		tmpl_remove(d, e, (uint32_t)(t - e->tmpl));
		d->st->templates_expired++;
		return NULL;
	}
	return t;
}

/* --- records ------------------------------------------------------------------ */

/* The meaning of element @type (enterprise 0) at length @len. */
static uint8_t element_what(uint16_t type, uint16_t len)
{
	int num = len >= 1 && len <= 8;

	switch (type) {
	case 1: case 85: return num ? W_BYTES : W_SKIP;
	case 2: case 86: return num ? W_PKTS : W_SKIP;
	case 4: return num ? W_PROTO : W_SKIP;
	case 6: return num ? W_TCPF : W_SKIP;
	case 7: return num ? W_SPORT : W_SKIP;
	case 11: return num ? W_DPORT : W_SKIP;
	case 8: return len == 4 ? W_SRC4 : W_SKIP;
	case 12: return len == 4 ? W_DST4 : W_SKIP;
	case 27: return len == 16 ? W_SRC6 : W_SKIP;
	case 28: return len == 16 ? W_DST6 : W_SKIP;
	case 22: return num ? W_FIRST_UP : W_SKIP;
	case 150: return num ? W_START_S : W_SKIP;
	case 152: return num ? W_START_MS : W_SKIP;
	case 154: case 156: return len == 8 ? W_START_NTP : W_SKIP;
	case 158: return num ? W_START_DUS : W_SKIP;
	case 160: return num ? W_SYSINIT : W_SKIP;
	case 32: case 139: return num ? W_ICMP_TC : W_SKIP;
	case 176: case 178: return num ? W_ICMP_T : W_SKIP;
	case 177: case 179: return num ? W_ICMP_C : W_SKIP;
	case 58: return num ? W_VLAN : W_SKIP;
	default: return W_SKIP;
	}
}

/* The time sources one record carried. */
struct rtime {
	uint8_t have; /* bits: 1 start ms, 2 start s, 4 ntp, 8 delta, 16 uptime */
	uint64_t start_ns;    /* from 152, 150, 154/156 */
	uint64_t delta_us;
	uint64_t first_up;
	uint64_t sysinit;     /* from the record itself */
};

/*
 * Decode one record of template @t at @p (at most @rem bytes) into @ev (or
 * only read it, for options records: @ev NULL).  Returns the record's
 * length, or 0 when a variable-length field runs past @rem.
 */
static size_t record(const struct tmpl *t, const uint8_t *p, size_t rem,
		     struct cep_event *ev, struct rtime *rt)
{
	size_t off = 0;

	for (unsigned i = 0; i < t->nfields; i++) {
		const struct field *f = &t->f[i];
		size_t len = f->len;

		if (len == VARLEN) {
			if (off + 1 > rem)
				return 0;
			len = p[off++];
			if (len == 255) {
				if (off + 2 > rem)
					return 0;
				len = cep_be16(p + off);
				off += 2;
			}
			if (off + len > rem)
				return 0;
			off += len;
			continue; /* variable fields feed nothing we keep */
		}
		if (t->varlen && off + len > rem)
			return 0;
		const uint8_t *v = p + off;

		off += len;
		if (f->what == W_SKIP)
			continue;
		if (!ev) {
			if (f->what == W_SYSINIT)
				rt->sysinit = cep_be_n(v, (unsigned)len);
			continue;
		}
		switch (f->what) {
		case W_BYTES: ev->bytes = cep_be_n(v, (unsigned)len); break;
		case W_PKTS: ev->packets = cep_be_n(v, (unsigned)len); break;
		case W_PROTO: ev->proto = (uint8_t)cep_be_n(v, (unsigned)len); break;
		case W_TCPF: ev->tcp_flags = (uint8_t)cep_be_n(v, (unsigned)len); break;
		case W_SPORT: ev->src_port = (uint16_t)cep_be_n(v, (unsigned)len); break;
		case W_DPORT: ev->dst_port = (uint16_t)cep_be_n(v, (unsigned)len); break;
		case W_SRC4:
			memcpy(ev->src_ip, v, 4);
			ev->src_af = CEP_AF_INET;
			break;
		case W_DST4:
			memcpy(ev->dst_ip, v, 4);
			ev->dst_af = CEP_AF_INET;
			break;
		case W_SRC6:
			memcpy(ev->src_ip, v, 16);
			ev->src_af = CEP_AF_INET6;
			break;
		case W_DST6:
			memcpy(ev->dst_ip, v, 16);
			ev->dst_af = CEP_AF_INET6;
			break;
		case W_FIRST_UP:
			rt->first_up = cep_be_n(v, (unsigned)len);
			rt->have |= 16;
			break;
		case W_START_S:
			rt->start_ns = cep_be_n(v, (unsigned)len) * 1000000000ull;
			rt->have |= 2;
			break;
		case W_START_MS:
			rt->start_ns = cep_be_n(v, (unsigned)len) * 1000000ull;
			rt->have |= 1;
			break;
		case W_START_NTP: {
			uint64_t secs = cep_be32(v), frac = cep_be32(v + 4);

			secs = secs >= NTP_UNIX_OFFSET ? secs - NTP_UNIX_OFFSET : 0;
			rt->start_ns = secs * 1000000000ull +
				       ((frac * 1000000000ull) >> 32);
			rt->have |= 4;
			break;
		}
		case W_START_DUS:
			rt->delta_us = cep_be_n(v, (unsigned)len);
			rt->have |= 8;
			break;
		case W_SYSINIT:
			rt->sysinit = cep_be_n(v, (unsigned)len);
			break;
		case W_ICMP_TC: {
			uint16_t tc = (uint16_t)cep_be_n(v, (unsigned)len);

			ev->icmp_type = (uint8_t)(tc >> 8);
			ev->icmp_code = (uint8_t)tc;
			ev->dst_port = tc;
			break;
		}
		case W_ICMP_T: ev->icmp_type = (uint8_t)cep_be_n(v, (unsigned)len); break;
		case W_ICMP_C: ev->icmp_code = (uint8_t)cep_be_n(v, (unsigned)len); break;
		case W_VLAN: ev->vlan = (uint16_t)(cep_be_n(v, (unsigned)len) & 0xfff); break;
		}
	}
	return off;
}

/* A v9 or IPFIX record's start time, in ns (flow.h gives the order). */
static uint64_t start_time(const struct exporter *e, const struct hctx *c,
			   const struct rtime *rt)
{
	if (rt->have & 7)
		return rt->start_ns;
	if (rt->have & 8) {
		uint64_t exp_us = (uint64_t)c->secs * 1000000ull;

		return (exp_us > rt->delta_us ? exp_us - rt->delta_us : 0) * 1000ull;
	}
	if (rt->have & 16) {
		if (e->version == 9) {
			uint64_t boot = (uint64_t)c->secs * 1000ull - c->uptime;

			return (boot + rt->first_up) * 1000000ull;
		}
		uint64_t init = rt->sysinit ? rt->sysinit : e->sysinit_ms;

		if (init)
			return (init + rt->first_up) * 1000000ull;
	}
	return (uint64_t)c->secs * 1000000000ull;
}

/*
 * Decode the records of one data set with its template.  @p, @len: the set
 * content after its header; @base: its offset in the packet (reports).
 * Returns the number of records (flows and options), or -1 after damage.
 */
static long data_set(struct cep_flow_decoder *d, struct exporter *e,
		     const struct tmpl *t, const uint8_t *p, size_t len,
		     size_t base, const struct hctx *c)
{
	size_t off = 0;
	long n = 0;

	while (len - off >= t->min_len && !d->batch.err) {
		struct rtime rt = { 0 };
		size_t used;

		if (t->options) {
			used = record(t, p + off, len - off, NULL, &rt);
			if (used == 0)
				goto overrun;
			if (rt.sysinit)
				e->sysinit_ms = rt.sysinit;
			d->st->options_records++;
		} else {
			struct cep_event *ev = cep_batch_slot(&d->batch);

			used = record(t, p + off, len - off, ev, &rt);
			if (used == 0)
				goto overrun;
			ev->ts = start_time(e, c, &rt);
			d->st->read++;
			e->records++;
			ev_commit(d, ev);
		}
		off += used;
		n++;
	}
	return n;
overrun:
	damage(d, base + off, "record of template %u runs past the end of its "
	       "set (%zu bytes left)", t->id, len - off);
	return -1;
}

/* --- pending data sets --------------------------------------------------------- */

static void pend_drop_oldest(struct cep_flow_decoder *d, struct exporter *e)
{
	struct pend *h = (struct pend *)e->pend;
	uint32_t sz = PEND_ALIGN((uint32_t)sizeof *h + h->len);

	memmove(e->pend, e->pend + sz, e->pend_used - sz);
	e->pend_used -= sz;
	e->pend_n--;
	d->st->no_template++;
}

/* Keep a data set whose template has not come yet, pushing the oldest out
 * of a full FIFO; a set too large for the FIFO is counted and dropped. */
static void pend_push(struct cep_flow_decoder *d, struct exporter *e,
		      uint16_t id, const uint8_t *p, size_t len,
		      const struct hctx *c)
{
	uint32_t sz = PEND_ALIGN((uint32_t)(sizeof(struct pend) + len));

	if (sz > CEP_FLOW_PENDING_BYTES) {
		d->st->no_template++;
		return;
	}
	if (!e->pend) {
		if (!mem_room(d, e, CEP_FLOW_PENDING_BYTES)) {
			d->st->over_budget++;
			d->st->no_template++;
			return;
		}
		e->pend = malloc(CEP_FLOW_PENDING_BYTES);
		if (!e->pend) {
			d->st->no_template++;
			return;
		}
		mem_add(d, CEP_FLOW_PENDING_BYTES);
	}
	while (e->pend_n == CEP_FLOW_PENDING_SETS ||
	       e->pend_used + sz > CEP_FLOW_PENDING_BYTES)
		pend_drop_oldest(d, e);
	struct pend h = { .set_id = id, .len = (uint16_t)len, .ctx = *c };

	memcpy(e->pend + e->pend_used, &h, sizeof h);
	memcpy(e->pend + e->pend_used + sizeof h, p, len);
	e->pend_used += sz;
	e->pend_n++;
	d->st->pending++;
}

/* Decode, in arrival order, the pending sets that template @t serves. */
static void pend_replay(struct cep_flow_decoder *d, struct exporter *e,
			const struct tmpl *t)
{
	uint32_t off = 0;

	while (off < e->pend_used) {
		struct pend h;

		memcpy(&h, e->pend + off, sizeof h);
		uint32_t sz = PEND_ALIGN((uint32_t)sizeof h + h.len);

		if (h.set_id != t->id) {
			off += sz;
			continue;
		}
		d->st->replayed++;
		data_set(d, e, t, e->pend + off + sizeof h, h.len, 0, &h.ctx);
		memmove(e->pend + off, e->pend + off + sz,
			e->pend_used - off - sz);
		e->pend_used -= sz;
		e->pend_n--;
	}
}

/* --- templates --------------------------------------------------------------- */

/*
 * Learn (or refresh) template @id from its @n field specifiers at @p.  The
 * caller has checked that they fit.  @ipfix: specifiers may carry an
 * enterprise number.  @now: the packet's export time.  Returns 0 or -1
 * (limits, budget, damage: counted, damage reported at @base).
 */
static int tmpl_learn(struct cep_flow_decoder *d, struct exporter *e,
		      uint16_t id, unsigned n, const uint8_t *p, int ipfix,
		      int options, size_t base, uint32_t now)
{
	struct field *f;
	uint32_t min_len = 0;
	uint8_t varlen = 0;
	size_t off = 0;

	if (n > CEP_FLOW_MAX_FIELDS) {
		damage(d, base, "template %u has %u fields, more than %d", id,
		       n, CEP_FLOW_MAX_FIELDS);
		return -1;
	}
	/* Check the whole template before anything is allocated for it. */
	for (unsigned i = 0; i < n; i++) {
		uint16_t type = cep_be16(p + off), len = cep_be16(p + off + 2);

		off += ipfix && (type & 0x8000) ? 8 : 4;
		if (len == VARLEN && !ipfix) {
			damage(d, base, "template %u: field %u has length 65535, "
			       "which v9 cannot encode", id, i + 1);
			return -1;
		}
		min_len += len == VARLEN ? 1 : len;
	}
	if (min_len == 0) {
		damage(d, base, "template %u describes records of 0 bytes", id);
		return -1;
	}
	if (min_len > CEP_FLOW_RECORD_MAX) {
		/* No set could hold one: its data would vanish unseen. */
		damage(d, base, "template %u describes records of at least %u "
		       "bytes, more than a set holds (%d)", id, min_len,
		       CEP_FLOW_RECORD_MAX);
		return -1;
	}
	struct tmpl *t = tmpl_find(e, id);
	size_t need = n * sizeof *f;

	if (!t) {
		tmpl_sweep(d, e, now);
		if (e->ntmpl >= CEP_FLOW_MAX_TEMPLATES) {
			d->st->unsupported++;
			return -1;
		}
		if (e->ntmpl == e->cap)
			need += (e->cap ? e->cap : 4) * sizeof(struct tmpl);
	}
	if (!mem_room(d, e, need)) {
		d->st->over_budget++;
		return -1;
	}
	f = malloc(n * sizeof *f);
	if (!f) {
		d->st->unsupported++;
		return -1;
	}
	if (!t && e->ntmpl == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 4;
		struct tmpl *nt = realloc(e->tmpl, sizeof *nt * cap);

		if (!nt) {
			free(f);
			d->st->unsupported++;
			return -1;
		}
		mem_add(d, (cap - e->cap) * sizeof *nt);
		e->tmpl = nt;
		e->cap = cap;
	}
	mem_add(d, n * sizeof *f);
	off = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t type = cep_be16(p + off), len = cep_be16(p + off + 2);
		int enterprise = ipfix && (type & 0x8000);

		off += enterprise ? 8 : 4;
		f[i].len = len;
		if (len == VARLEN) {
			varlen = 1;
			f[i].what = W_SKIP;
		} else {
			f[i].what = enterprise ? W_SKIP : element_what(type, len);
		}
	}
	if (!t) {
		t = &e->tmpl[e->ntmpl++];
	} else {
		free(t->f);
		mem_sub(d, t->nfields * sizeof *f);
	}
	t->id = id;
	t->nfields = (uint16_t)n;
	t->options = (uint8_t)options;
	t->varlen = varlen;
	t->min_len = min_len;
	t->heard = now;
	t->f = f;
	d->st->templates++;
	if (options)
		d->st->options_templates++;
	if (e->pend_n)
		pend_replay(d, e, t);
	return 0;
}

/* Bytes of @n field specifiers at @p (IPFIX: enterprise numbers), or 0
 * when they do not fit in @rem. */
static size_t spec_len(const uint8_t *p, size_t rem, unsigned n, int ipfix)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		if (off + 4 > rem)
			return 0;
		off += ipfix && (p[off] & 0x80) ? 8 : 4;
	}
	return off <= rem ? off : 0;
}

/* A (data) template set: v9 id 0, IPFIX id 2. */
static void template_set(struct cep_flow_decoder *d, struct exporter *e,
			 const uint8_t *p, size_t len, size_t base, int ipfix,
			 uint32_t now)
{
	size_t off = 0;

	while (len - off >= 4) {
		uint16_t id = cep_be16(p + off), n = cep_be16(p + off + 2);

		if (n == 0 && ipfix) {
			/* A withdrawal: not over UDP (flow.h). */
			d->st->withdrawals++;
			off += 4;
			continue;
		}
		if (n == 0 && id == 0)
			return; /* v9 padding */
		if (id < 256) {
			damage(d, base + off, "template id %u is below 256", id);
			return;
		}
		size_t sl = spec_len(p + off + 4, len - off - 4, n, ipfix);

		if (n == 0 || sl == 0) {
			damage(d, base + off, "template %u with %u fields runs "
			       "past the end of its set", id, n);
			return;
		}
		tmpl_learn(d, e, id, n, p + off + 4, ipfix, 0, base + off, now);
		off += 4 + sl;
	}
}

/* An options template set: v9 id 1, IPFIX id 3. */
static void options_set(struct cep_flow_decoder *d, struct exporter *e,
			const uint8_t *p, size_t len, size_t base, int ipfix,
			uint32_t now)
{
	size_t off = 0;

	while (len - off >= (ipfix ? 4u : 6u)) {
		uint16_t id = cep_be16(p + off);
		unsigned n, nscope = 1;
		size_t hdr, sl;

		if (ipfix) {
			uint16_t count = cep_be16(p + off + 2);

			if (count == 0) {
				/* A withdrawal: not over UDP (flow.h). */
				d->st->withdrawals++;
				off += 4;
				continue;
			}
			if (len - off < 6)
				break;
			n = count;
			nscope = cep_be16(p + off + 4);
			hdr = 6;
		} else {
			uint16_t scope = cep_be16(p + off + 2);
			uint16_t opts = cep_be16(p + off + 4);

			if (id == 0 && scope == 0 && opts == 0)
				return; /* padding */
			if (scope % 4 || opts % 4) {
				damage(d, base + off, "options template %u: "
				       "scope length %u or option length %u is "
				       "not a multiple of 4", id, scope, opts);
				return;
			}
			n = (scope + opts) / 4u;
			hdr = 6;
		}
		if (id < 256) {
			damage(d, base + off, "options template id %u is below "
			       "256", id);
			return;
		}
		sl = spec_len(p + off + hdr, len - off - hdr, n, ipfix);
		if (n == 0 || sl == 0) {
			damage(d, base + off, "options template %u with %u "
			       "fields runs past the end of its set", id, n);
			return;
		}
		if (nscope == 0 || nscope > n) {
			/* RFC 7011 3.4.2.2: at least one scope field, and
			 * no more than there are fields. */
			damage(d, base + off, "options template %u: scope field "
			       "count %u is not within 1..%u", id, nscope, n);
		} else {
			tmpl_learn(d, e, id, n, p + off + hdr, ipfix, 1,
				   base + off, now);
		}
		off += hdr + sl;
	}
}

/* --- packets ---------------------------------------------------------------- */

static void v5_packet(struct cep_flow_decoder *d, const uint8_t *p, size_t len,
		      int family, const uint8_t *addr)
{
	if (len < 24) {
		damage(d, 0, "v5 header needs 24 bytes, the packet has %zu", len);
		return;
	}
	unsigned count = cep_be16(p + 2);
	struct hctx c = { .uptime = cep_be32(p + 4), .secs = cep_be32(p + 8),
			  .nsecs = cep_be32(p + 12) };
	uint32_t seq = cep_be32(p + 16);
	struct exporter *e = ex_get(d, family, addr, 5,
				    (uint32_t)p[20] << 8 | p[21]);

	if (!e) {
		d->st->unsupported++;
		return;
	}
	d->cur = e;
	e->packets++;
	if (count > 30 || 24 + (size_t)count * 48 > len) {
		damage(d, 2, "v5 header announces %u records, the packet "
		       "holds %zu", count, (len - 24) / 48);
		if (count > (len - 24) / 48)
			count = (unsigned)((len - 24) / 48);
	}
	if (e->seq_valid) {
		uint32_t gap = seq - e->seq_next;

		if (gap && gap < 0x80000000u) {
			e->lost += gap;
			d->st->lost_flows += gap;
		}
	}
	e->seq_valid = 1;
	e->seq_next = seq + count;

	uint64_t boot = (uint64_t)c.secs * 1000ull + c.nsecs / 1000000u -
			c.uptime;
	for (unsigned i = 0; i < count && !d->batch.err; i++) {
		const uint8_t *r = p + 24 + (size_t)i * 48;
		struct cep_event *ev = cep_batch_slot(&d->batch);
		uint32_t first = cep_be32(r + 24), last = cep_be32(r + 28);

		memcpy(ev->src_ip, r, 4);
		memcpy(ev->dst_ip, r + 4, 4);
		ev->src_af = ev->dst_af = CEP_AF_INET;
		ev->packets = cep_be32(r + 16);
		ev->bytes = cep_be32(r + 20);
		ev->src_port = cep_be16(r + 32);
		ev->dst_port = cep_be16(r + 34);
		ev->tcp_flags = r[37];
		ev->proto = r[38];
		/* First > Last: the uptime wrapped between them.  Last far
		 * beyond the header's uptime: it wrapped after the flow ended
		 * (nfdump's rule, 100 s of slack for Cisco bug CSCei12353). */
		uint64_t start = first > last ? boot - 0x100000000ull + first
					      : boot + first;

		if (last > c.uptime && last - c.uptime > 100000)
			start -= 0x100000000ull;
		ev->ts = start * 1000000ull;
		d->st->read++;
		e->records++;
		ev_commit(d, ev);
	}
}

/* Walk the sets of a v9 packet or an IPFIX message from @off to @end. */
static long walk_sets(struct cep_flow_decoder *d, struct exporter *e,
		      const uint8_t *p, size_t off, size_t end, int ipfix,
		      const struct hctx *c, int *uncounted)
{
	long records = 0;

	while (end - off >= 4 && !d->batch.err) {
		uint16_t id = cep_be16(p + off), slen = cep_be16(p + off + 2);

		if (slen < 4 || slen > end - off) {
			damage(d, off, "set %u of length %u %s", id, slen,
			       slen < 4 ? "is shorter than its header"
					: "runs past the end of the packet");
			*uncounted = 1;
			return records;
		}
		const uint8_t *s = p + off + 4;
		size_t sl = slen - 4u, base = off + 4;

		if (id == (ipfix ? 2 : 0)) {
			template_set(d, e, s, sl, base, ipfix, c->secs);
		} else if (id == (ipfix ? 3 : 1)) {
			options_set(d, e, s, sl, base, ipfix, c->secs);
		} else if (id >= 256) {
			struct tmpl *t = tmpl_current(d, e, id, c->secs);

			if (t) {
				long n = data_set(d, e, t, s, sl, base, c);

				if (n < 0)
					*uncounted = 1;
				else
					records += n;
			} else {
				pend_push(d, e, id, s, sl, c);
				*uncounted = 1;
			}
		} else {
			d->st->unsupported++; /* reserved set ids */
		}
		off += slen;
	}
	return records;
}

static void v9_packet(struct cep_flow_decoder *d, const uint8_t *p, size_t len,
		      int family, const uint8_t *addr)
{
	if (len < 20) {
		damage(d, 0, "v9 header needs 20 bytes, the packet has %zu", len);
		return;
	}
	struct hctx c = { .uptime = cep_be32(p + 4), .secs = cep_be32(p + 8) };
	uint32_t seq = cep_be32(p + 12);
	struct exporter *e = ex_get(d, family, addr, 9, cep_be32(p + 16));
	int uncounted = 0;

	if (!e) {
		d->st->unsupported++;
		return;
	}
	d->cur = e;
	e->packets++;
	if (e->seq_valid) {
		uint32_t gap = seq - e->seq_next;

		if (gap && gap < 0x80000000u) {
			e->lost += gap;
			d->st->lost_packets += gap;
		}
	}
	e->seq_valid = 1;
	e->seq_next = seq + 1;
	walk_sets(d, e, p, 20, len, 0, &c, &uncounted);
}

static void ipfix_packet(struct cep_flow_decoder *d, const uint8_t *p,
			 size_t len, int family, const uint8_t *addr)
{
	if (len < 16) {
		damage(d, 0, "IPFIX header needs 16 bytes, the packet has %zu",
		       len);
		return;
	}
	size_t mlen = cep_be16(p + 2);
	struct hctx c = { .secs = cep_be32(p + 4) };
	uint32_t seq = cep_be32(p + 8);
	struct exporter *e = ex_get(d, family, addr, 10, cep_be32(p + 12));
	int uncounted = 0;

	if (!e) {
		d->st->unsupported++;
		return;
	}
	d->cur = e;
	e->packets++;
	if (mlen < 16 || mlen > len) {
		damage(d, 2, "message length %zu %s", mlen, mlen < 16
		       ? "is shorter than the header"
		       : "is longer than the datagram");
		if (mlen < 16) {
			e->seq_valid = 0;
			return;
		}
		mlen = len;
		uncounted = 1;
	}
	if (e->seq_valid) {
		uint32_t gap = seq - e->seq_next;

		if (gap && gap < 0x80000000u) {
			e->lost += gap;
			d->st->lost_flows += gap;
		}
	}
	long n = walk_sets(d, e, p, 16, mlen, 1, &c, &uncounted);

	e->seq_valid = !uncounted;
	e->seq_next = seq + (uint32_t)n;
}

int cep_flow_decode(struct cep_flow_decoder *d, const struct sockaddr *exporter,
		    const uint8_t *payload, size_t len, uint64_t recv_ts_ns)
{
	uint8_t addr[16] = { 0 };
	int family = 4;

	(void)recv_ts_ns;
	if (d->batch.err)
		return d->batch.err;
	if (exporter && exporter->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)exporter;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
			family = 6;
		}
	} else if (exporter && exporter->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)exporter;

		memcpy(addr, &s4->sin_addr, 4);
	}
	cep_ip_format(family, addr, d->cur_addr);
	d->cur = NULL;
	d->st->packets++;
	d->st->bytes += len;
	if (len < 2) {
		damage(d, 0, "export packet of %zu bytes has no version", len);
		return 0;
	}
	switch (cep_be16(payload)) {
	case 5: v5_packet(d, payload, len, family, addr); break;
	case 9: v9_packet(d, payload, len, family, addr); break;
	case 10: ipfix_packet(d, payload, len, family, addr); break;
	default:
		damage(d, 0, "version %u is not NetFlow v5, v9 or IPFIX",
		       cep_be16(payload));
	}
	return d->batch.err;
}

/* --- the decoder ---------------------------------------------------------------- */

int cep_flow_decoder_create(const struct cep_source *src,
			    const struct cep_sink *sink,
			    struct cep_flow_stats *st, FILE *diag,
			    struct cep_flow_decoder **out)
{
	struct cep_flow_decoder *d = calloc(1, sizeof *d);

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->slots = EX_SLOTS_MIN;
	d->ex = calloc(d->slots, sizeof *d->ex);
	if (!d->ex) {
		free(d);
		return -ENOMEM;
	}
	cep_batch_init(&d->batch, src, sink, &st->refused);
	d->st = st;
	mem_add(d, sizeof *d + d->slots * sizeof *d->ex);
	d->diag = diag;
	d->origin_off = -1;
	strcpy(d->cur_addr, "?");
	*out = d;
	return 0;
}

void cep_flow_decoder_destroy(struct cep_flow_decoder *d)
{
	if (!d)
		return;
	for (struct exporter *e = d->lru, *next; e; e = next) {
		next = e->older;
		ex_clear(d, e);
		free(e);
		mem_sub(d, sizeof *e);
	}
	mem_sub(d, sizeof *d + d->slots * sizeof *d->ex);
	free(d->ex);
	free(d);
}

void cep_flow_decoder_origin(struct cep_flow_decoder *d, const char *what,
			     long long offset)
{
	d->origin = what;
	d->origin_off = offset;
}

int cep_flow_decoder_flush(struct cep_flow_decoder *d, int drop_pending)
{
	if (drop_pending) {
		for (struct exporter *e = d->lru; e; e = e->older) {
			if (!e->pend_n)
				continue;
			d->st->no_template += e->pend_n;
			e->pend_n = 0;
			e->pend_used = 0;
		}
	}
	return cep_batch_flush(&d->batch);
}

int cep_flow_decoder_exporters(const struct cep_flow_decoder *d,
			       int (*fn)(void *arg,
					 const struct cep_flow_exporter_info *),
			       void *arg)
{
	for (const struct exporter *e = d->lru; e; e = e->older) {
		struct cep_flow_exporter_info info;
		int rc;

		memset(&info, 0, sizeof info);
		info.family = e->family == 6 ? AF_INET6 : AF_INET;
		memcpy(info.addr, e->addr, sizeof info.addr);
		info.version = e->version;
		info.domain = e->domain;
		info.templates = e->ntmpl;
		info.packets = e->packets;
		info.records = e->records;
		info.lost = e->lost;
		rc = fn(arg, &info);
		if (rc)
			return rc;
	}
	return 0;
}

int cep_flow_stats_json(const struct cep_flow_stats *st, char *buf,
			size_t size)
{
	int n = snprintf(buf, size,
		"{\"read\":%llu,\"decoded\":%llu,\"malformed\":%llu,"
		"\"bytes\":%llu,\"packets\":%llu,\"templates\":%llu,"
		"\"options_templates\":%llu,\"withdrawals\":%llu,"
		"\"options_records\":%llu,\"no_template\":%llu,"
		"\"pending\":%llu,\"replayed\":%llu,\"lost_flows\":%llu,"
		"\"lost_packets\":%llu,\"exporters\":%llu,"
		"\"unsupported\":%llu,\"socket_drops\":%llu,\"refused\":%llu,"
		"\"files\":%llu,\"files_failed\":%llu,\"errors\":%llu,"
		"\"exporters_evicted\":%llu,\"templates_expired\":%llu,"
		"\"over_budget\":%llu,\"memory\":%llu,\"memory_peak\":%llu}",
		(unsigned long long)st->read, (unsigned long long)st->decoded,
		(unsigned long long)st->malformed,
		(unsigned long long)st->bytes, (unsigned long long)st->packets,
		(unsigned long long)st->templates,
		(unsigned long long)st->options_templates,
		(unsigned long long)st->withdrawals,
		(unsigned long long)st->options_records,
		(unsigned long long)st->no_template,
		(unsigned long long)st->pending,
		(unsigned long long)st->replayed,
		(unsigned long long)st->lost_flows,
		(unsigned long long)st->lost_packets,
		(unsigned long long)st->exporters,
		(unsigned long long)st->unsupported,
		(unsigned long long)st->socket_drops,
		(unsigned long long)st->refused,
		(unsigned long long)st->files,
		(unsigned long long)st->files_failed,
		(unsigned long long)st->errors,
		(unsigned long long)st->exporters_evicted,
		(unsigned long long)st->templates_expired,
		(unsigned long long)st->over_budget,
		(unsigned long long)st->memory,
		(unsigned long long)st->memory_peak);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
