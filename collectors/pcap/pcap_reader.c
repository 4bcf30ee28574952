/*
 * pcap_reader.c - the read loops (classic pcap, pcapng, live), batching,
 * FCS removal and damage reports.
 *
 * One struct cep_batch (ceptor/batch.h) lives on the stack of each read
 * call; events are decoded into it in place and the sink sees it whole.
 * Files are opened with our own fopen() so that a failure to open has a
 * precise errno, so that the stdio buffer can be made larger than
 * libpcap's default (fewer read(2)s), and so that ftell() gives the offset
 * of a damaged record.
 */
#include "collectors/pcap/pcap_reader.h"

#include <errno.h>
#include <sched.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/batch.h"
#include "ceptor/error.h"
#include "collectors/pcap/pcap_decode.h"
#include "collectors/pcap/pcapng.h"
#include "lib/clock.h"
#include "lib/log.h"

#define READ_BUFSIZE (1u << 18)
/* Distinct link types per pcapng file that get a compiled filter. */
#define MAX_FILTERS 16

/* Set by cep_pcap_stop() from a signal handler or another thread; an
 * atomic (lock-free int), so both are well defined. */
static int stop_requested;
/*
 * The live handle, for pcap_breakloop() from a signal handler or another
 * thread.  cep_pcap_stop() announces itself in live_users before it loads
 * the handle; the capture clears the handle and waits for live_users to
 * drain before pcap_close(), so a stop never touches a closed handle.  A
 * handler that interrupts the closing thread runs to its end first, so the
 * wait cannot deadlock.
 */
static pcap_t *live_handle;
static int live_users;

void cep_pcap_stop(void)
{
	pcap_t *p;

	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&live_users, 1, __ATOMIC_SEQ_CST);
	p = __atomic_load_n(&live_handle, __ATOMIC_SEQ_CST);
	if (p)
		pcap_breakloop(p); /* a flag and an eventfd write(2) */
	__atomic_sub_fetch(&live_users, 1, __ATOMIC_SEQ_CST);
}

/* Withdraws the handle from cep_pcap_stop() before it is closed. */
static void live_handle_clear(void)
{
	__atomic_store_n(&live_handle, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&live_users, __ATOMIC_SEQ_CST))
		sched_yield();
}

/* One packet as the read loops see it, before decoding. */
struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t ts;      /* ns */
	int linktype;
	uint32_t fcslen;  /* bytes of FCS at the end of the frame, or 0 */
};

/*
 * Decode one packet into the next slot of the batch and count it; the slot
 * is committed only when the packet decoded.  Returns 0 or the sink's
 * negative error (when the commit filled the batch).
 */
static inline int take(struct cep_batch *b, const struct frame *f,
		       struct cep_pcap_stats *st)
{
	struct cep_event *ev = cep_batch_slot_raw(b); /* decode zeroes it */
	uint32_t caplen = f->caplen, wirelen = f->wirelen;
	int rc;

	st->read++;
	if (f->fcslen) {
		/* The FCS is the last fcslen bytes on the wire; it was
		 * captured when the capture reaches that far. */
		wirelen = wirelen > f->fcslen ? wirelen - f->fcslen : 0;
		if (caplen > wirelen)
			caplen = wirelen;
		st->fcs_stripped++;
	}
	st->bytes += wirelen;
	rc = cep_pcap_decode(f->data, caplen, wirelen, f->linktype, ev);
	if (rc < 0) {
		if (rc == -EPROTONOSUPPORT)
			st->unsupported++;
		else
			st->malformed++;
		return 0;
	}
	ev->ts = f->ts;
	ev->seq = (uint32_t)st->read;
	st->decoded++;
	if (ev->flags & CEP_EV_TRUNCATED)
		st->truncated++;
	if (ev->flags & CEP_EV_FRAGMENT)
		st->fragments++;
	return cep_batch_commit(b);
}

static int set_filter(pcap_t *p, const char *bpf, const char *what)
{
	struct bpf_program prog;

	if (!bpf || !*bpf)
		return 0;
	if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		cep_error("%s: bad filter \"%s\": %s", what, bpf,
			  pcap_geterr(p));
		return -EINVAL;
	}
	if (pcap_setfilter(p, &prog) < 0) {
		cep_error("%s: cannot set filter \"%s\": %s", what, bpf,
			  pcap_geterr(p));
		pcap_freecode(&prog);
		return -EINVAL;
	}
	pcap_freecode(&prog);
	return 0;
}

static const char *linktype_name(int linktype)
{
	const char *n = pcap_datalink_val_to_name(linktype);

	return n ? n : "?";
}

/* --- classic pcap, through libpcap ---------------------------------------- */

static int read_classic(FILE *fp, int seekable, const char *path,
			const char *bpf, const struct cep_source *src,
			struct cep_sink *sink, struct cep_pcap_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct cep_batch b;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t first = st->read;
	struct frame f;
	pcap_t *p;
	long off;
	int rc, nano;

	cep_batch_init(&b, src, sink, &st->refused);
	errbuf[0] = '\0';
	p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		cep_error("%s: not a capture libpcap can read: %s", path,
			  errbuf);
		if (fp != stdin)
			fclose(fp);
		st->files_failed++;
		return -CEP_EMALFORMED;
	}
	st->files++;
	rc = set_filter(p, bpf, path);
	if (rc < 0)
		goto out;
	nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	f.linktype = pcap_datalink(p) & CEP_PCAP_LINKTYPE_MASK;
	f.fcslen = CEP_PCAP_FCS_BYTES(pcap_datalink_ext(p));
	if (!cep_pcap_linktype_supported(f.linktype))
		cep_warn("%s: link type %d (%s) is not decoded; its packets "
			 "are counted as unsupported", path, f.linktype,
			 linktype_name(f.linktype));

	/* The offset of the next record is where the previous one ended. */
	off = seekable ? ftell(fp) : -1;
	for (;;) {
		rc = pcap_next_ex(p, &hdr, &data);
		if (rc != 1)
			break;
		f.data = data;
		f.caplen = hdr->caplen;
		f.wirelen = hdr->len;
		f.ts = (uint64_t)hdr->ts.tv_sec * 1000000000u +
		       (uint64_t)hdr->ts.tv_usec * (nano ? 1u : 1000u);
		rc = take(&b, &f, st);
		if (rc < 0)
			goto out;
		if (seekable)
			off = ftell(fp);
		if (__atomic_load_n(&stop_requested, __ATOMIC_RELAXED))
			break;
	}
	if (rc == PCAP_ERROR) {
		st->errors++;
		cep_error("%s: cannot read past byte offset %ld (packet %llu): %s; "
			  "keeping the %llu packets before it", path, off,
			  (unsigned long long)(st->read - first + 1),
			  pcap_geterr(p),
			  (unsigned long long)(st->read - first));
	}
	rc = cep_batch_flush(&b);
out:
	pcap_close(p); /* closes fp too */
	return rc;
}

/* --- pcapng, through our walker -------------------------------------------- */

/* BPF programs of one pcapng file, one per link type met. */
struct filters {
	const char *bpf;
	const char *path;
	unsigned n;
	struct {
		int linktype;
		int ok;
		struct bpf_program prog;
	} f[MAX_FILTERS];
};

/*
 * The program for @linktype, compiled on first use.  Returns it, or NULL
 * when it does not compile for this link type (reported once; its packets
 * then match nothing).  *bad is set to -EINVAL when the very first link
 * type of the file already fails: the filter itself is wrong.
 */
static const struct bpf_program *filter_for(struct filters *fs, int linktype,
					    int *bad)
{
	pcap_t *dead;
	unsigned i;

	for (i = 0; i < fs->n; i++)
		if (fs->f[i].linktype == linktype)
			return fs->f[i].ok ? &fs->f[i].prog : NULL;
	if (fs->n == MAX_FILTERS)
		return NULL;
	i = fs->n++;
	fs->f[i].linktype = linktype;
	fs->f[i].ok = 0;
	/* pcapng stores LINKTYPE_ values; libpcap compiles for DLT_ ones,
	 * which differ for raw IP (101 against 12 on Linux) and ATM. */
	dead = pcap_open_dead(linktype == 101 ? DLT_RAW
			      : linktype == 100 ? DLT_ATM_RFC1483 : linktype,
			      CEP_PCAP_SNAPLEN_DEFAULT);
	if (!dead)
		return NULL;
	if (pcap_compile(dead, &fs->f[i].prog, fs->bpf, 1,
			 PCAP_NETMASK_UNKNOWN) == 0) {
		fs->f[i].ok = 1;
	} else {
		cep_error("%s: bad filter \"%s\" for link type %d (%s): %s",
			  fs->path, fs->bpf, linktype, linktype_name(linktype),
			  pcap_geterr(dead));
		if (i == 0)
			*bad = -EINVAL;
	}
	pcap_close(dead);
	return fs->f[i].ok ? &fs->f[i].prog : NULL;
}

static void filters_free(struct filters *fs)
{
	for (unsigned i = 0; i < fs->n; i++)
		if (fs->f[i].ok)
			pcap_freecode(&fs->f[i].prog);
	fs->n = 0;
}

static int read_pcapng(FILE *fp, const char *path, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st)
{
	struct cep_pcapng r;
	struct cep_pcapng_pkt pkt;
	struct filters fs = { .bpf = bpf, .path = path };
	struct cep_batch b;
	struct frame f;
	uint64_t first = st->read, bad = 0;
	int rc, warned_lt = -1;

	cep_batch_init(&b, src, sink, &st->refused);
	st->files++;
	cep_pcapng_init_file(&r, fp);
	for (;;) {
		rc = cep_pcapng_next(&r, &pkt);
		if (rc == CEP_PCAPNG_BAD) {
			if (bad++ == 0)
				cep_error("%s: unusable packet block at byte "
					  "offset %llu: %s; counted as "
					  "malformed", path,
					  (unsigned long long)r.block_off,
					  cep_pcapng_error(&r));
			st->read++;
			st->malformed++;
			continue;
		}
		if (rc != 1)
			break;
		if (bpf && *bpf) {
			const struct bpf_program *prog;
			struct pcap_pkthdr h;

			prog = filter_for(&fs, pkt.linktype, &rc);
			if (rc < 0)
				break;
			h.ts.tv_sec = (time_t)(pkt.ts / 1000000000u);
			h.ts.tv_usec = (suseconds_t)(pkt.ts % 1000000000u / 1000);
			h.caplen = pkt.caplen;
			h.len = pkt.wirelen;
			if (!prog || !pcap_offline_filter(prog, &h, pkt.data))
				continue;
		}
		if (pkt.linktype != warned_lt &&
		    !cep_pcap_linktype_supported(pkt.linktype)) {
			cep_warn("%s: interface %u has link type %d (%s), which "
				 "is not decoded; its packets are counted as "
				 "unsupported", path, pkt.ifid, pkt.linktype,
				 linktype_name(pkt.linktype));
			warned_lt = pkt.linktype;
		}
		f.data = pkt.data;
		f.caplen = pkt.caplen;
		f.wirelen = pkt.wirelen;
		f.ts = pkt.ts;
		f.linktype = pkt.linktype;
		f.fcslen = pkt.fcslen;
		rc = take(&b, &f, st);
		if (rc < 0)
			goto out;
		if (__atomic_load_n(&stop_requested, __ATOMIC_RELAXED)) {
			rc = 0;
			break;
		}
	}
	if (rc == -EINVAL) /* the filter does not compile */
		goto out;
	if (bad > 1)
		cep_error("%s: %llu unusable packet blocks in all", path,
			  (unsigned long long)bad);
	if (rc < 0) {
		st->errors++;
		cep_error("%s: cannot read past byte offset %llu (packet %llu): "
			  "%s; keeping the %llu packets before it", path,
			  (unsigned long long)r.block_off,
			  (unsigned long long)(st->read - first + 1),
			  cep_pcapng_error(&r),
			  (unsigned long long)(st->read - first));
	}
	rc = cep_batch_flush(&b);
out:
	filters_free(&fs);
	cep_pcapng_fini(&r);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* --- files ---------------------------------------------------------------- */

/*
 * Look at the first four bytes and put them back: a seek for a file, the
 * stdio push-back for standard input (glibc keeps all four).  Returns 1 for
 * pcapng, 0 for anything else (libpcap decides), or -errno.
 */
static int sniff_pcapng(FILE *fp, int seekable)
{
	uint8_t m[4];
	size_t got = fread(m, 1, sizeof m, fp);

	if (ferror(fp))
		return -EIO;
	if (seekable) {
		if (fseek(fp, 0, SEEK_SET) != 0)
			return -errno;
	} else {
		for (size_t i = got; i > 0; i--)
			if (ungetc(m[i - 1], fp) == EOF)
				return -EIO;
	}
	return got == 4 && memcmp(m, "\x0A\x0D\x0D\x0A", 4) == 0;
}

int cep_pcap_read_file(const char *path, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st)
{
	FILE *fp;
	char *iobuf = NULL;
	int rc, seekable = 0;

	if (strcmp(path, "-") == 0) {
		fp = stdin;
	} else {
		fp = fopen(path, "rb");
		if (!fp) {
			rc = -errno;
			cep_error("%s: cannot open: %s", path, strerror(errno));
			st->files_failed++;
			return rc;
		}
		/* glibc ignores the size when it allocates the buffer itself
		 * (it takes st_blksize, 4 KiB), so give it ours: one read(2)
		 * per 256 KiB instead of per 4 KiB.  Freed after the close. */
		iobuf = malloc(READ_BUFSIZE);
		if (iobuf)
			setvbuf(fp, iobuf, _IOFBF, READ_BUFSIZE);
		/* A seek makes stdio cache the file offset; without it every
		 * ftell() would cost an lseek(2), a third of the time. */
		seekable = fseek(fp, 0, SEEK_SET) == 0;
	}
	rc = sniff_pcapng(fp, seekable);
	if (rc < 0) {
		cep_error("%s: cannot read: %s", path, strerror(-rc));
		if (fp != stdin)
			fclose(fp);
		free(iobuf);
		st->files_failed++;
		return rc;
	}
	if (rc == 1)
		rc = read_pcapng(fp, path, bpf, src, sink, st);
	else
		rc = read_classic(fp, seekable, path, bpf, src, sink, st);
	free(iobuf); /* both closed fp */
	return rc;
}

int cep_pcap_read_failed(const struct cep_pcap_stats *st)
{
	return st->read == 0 && (st->files_failed > 0 || st->errors > 0);
}

/* --- live ----------------------------------------------------------------- */

void cep_pcap_live_init(struct cep_pcap_live *lv, const char *iface)
{
	memset(lv, 0, sizeof *lv);
	lv->iface = iface;
	lv->snaplen = CEP_PCAP_SNAPLEN_DEFAULT;
	lv->promisc = 1;
	lv->buffer_size = CEP_PCAP_BUFFER_DEFAULT;
	lv->timeout_ms = CEP_PCAP_TIMEOUT_DEFAULT;
}

/* The counters pcap_stats() keeps for the handle, on top of @base. */
static void live_stats(pcap_t *p, const struct cep_pcap_stats *base,
		       struct cep_pcap_stats *st)
{
	struct pcap_stat ps;

	if (pcap_stats(p, &ps) != 0)
		return;
	st->captured = base->captured + ps.ps_recv;
	st->kernel_drops = base->kernel_drops + ps.ps_drop;
	st->if_drops = base->if_drops + ps.ps_ifdrop;
}

static int activate(const struct cep_pcap_live *lv, pcap_t *p)
{
	int rc;

	/* These only fail on a handle that is already active; nanosecond
	 * precision may be unsupported, and then microseconds are scaled. */
	pcap_set_snaplen(p, lv->snaplen);
	pcap_set_promisc(p, lv->promisc);
	pcap_set_timeout(p, lv->timeout_ms);
	pcap_set_immediate_mode(p, lv->immediate);
	pcap_set_buffer_size(p, lv->buffer_size);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(p);
	if (rc < 0) {
		cep_error("%s: cannot capture: %s%s%s%s", lv->iface,
			  pcap_statustostr(rc),
			  rc == PCAP_ERROR || rc == PCAP_ERROR_PERM_DENIED ||
				  rc == PCAP_ERROR_NO_SUCH_DEVICE ? ": " : "",
			  rc == PCAP_ERROR || rc == PCAP_ERROR_PERM_DENIED ||
				  rc == PCAP_ERROR_NO_SUCH_DEVICE
				  ? pcap_geterr(p) : "",
			  rc == PCAP_ERROR_PERM_DENIED
				  ? " (needs root or CAP_NET_RAW)" : "");
		return rc == PCAP_ERROR_PERM_DENIED ? -EPERM
		       : rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
	}
	if (rc > 0)
		cep_warn("%s: %s", lv->iface, pcap_statustostr(rc));
	return 0;
}

int cep_pcap_read_live(const struct cep_pcap_live *lv,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	const struct cep_pcap_stats base = *st;
	struct cep_batch b;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct frame f;
	uint64_t next_report;
	pcap_t *p;
	int nano, rc;

	if (lv->snaplen <= 0 || lv->buffer_size <= 0 || lv->timeout_ms <= 0) {
		cep_error("%s: snaplen, buffer size and timeout must be "
			  "positive", lv->iface);
		return -EINVAL;
	}
	cep_batch_init(&b, src, sink, &st->refused);
	errbuf[0] = '\0';
	p = pcap_create(lv->iface, errbuf);
	if (!p) {
		cep_error("%s: cannot capture: %s", lv->iface, errbuf);
		st->files_failed++;
		return -EIO;
	}
	rc = activate(lv, p);
	if (rc < 0) {
		st->files_failed++;
		pcap_close(p);
		return rc;
	}
	st->files++;
	rc = set_filter(p, lv->bpf, lv->iface);
	if (rc < 0)
		goto out;
	nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	f.linktype = pcap_datalink(p) & CEP_PCAP_LINKTYPE_MASK;
	f.fcslen = 0; /* Linux strips the FCS unless rx-fcs is on; then the
		       * link type says nothing either: see the README */
	if (!cep_pcap_linktype_supported(f.linktype))
		cep_warn("%s: link type %d (%s) is not decoded", lv->iface,
			 f.linktype, linktype_name(f.linktype));
	if (lv->opened) {
		rc = lv->opened(lv->arg);
		if (rc != 0)
			goto out;
	}
	cep_info("%s: capturing, link type %s, snaplen %d, %s, %s, buffer "
		 "%d KiB, uid %u", lv->iface, linktype_name(f.linktype),
		 pcap_snapshot(p), lv->promisc ? "promiscuous" : "not promiscuous",
		 lv->immediate ? "immediate (TPACKET_V2)"
			       : "blocks (TPACKET_V3)",
		 lv->buffer_size >> 10, (unsigned)getuid());
	__atomic_store_n(&live_handle, p, __ATOMIC_SEQ_CST);
	next_report = cep_clock_coarse_ms() + 1000;
	while (!__atomic_load_n(&stop_requested, __ATOMIC_RELAXED)) {
		rc = pcap_next_ex(p, &hdr, &data);
		if (rc == 1) {
			f.data = data;
			f.caplen = hdr->caplen;
			f.wirelen = hdr->len;
			f.ts = (uint64_t)hdr->ts.tv_sec * 1000000000u +
			       (uint64_t)hdr->ts.tv_usec * (nano ? 1u : 1000u);
			rc = take(&b, &f, st);
			if (rc < 0)
				goto out;
			/* A trickle never fills a batch nor lets the timeout
			 * pass; capture time bounds how long events wait.  An
			 * empty batch was just handed over by the commit (or
			 * holds nothing yet): go on to the report check. */
			if (b.n > 0 &&
			    b.ev[b.n - 1].ts - b.ev[0].ts <
				    CEP_PCAP_TIMEOUT_DEFAULT * 1000000ull)
				continue;
		} else if (rc == 0) {
			/* Timeout: hand over what a quiet link has gathered. */
		} else {
			if (rc == PCAP_ERROR) {
				cep_error("%s: capture failed: %s", lv->iface,
					  pcap_geterr(p));
				st->errors++;
				rc = -EIO;
			} else {
				rc = 0; /* PCAP_ERROR_BREAK: a stop */
			}
			break;
		}
		rc = cep_batch_flush(&b);
		if (rc < 0)
			goto out;
		if (lv->report && cep_clock_coarse_ms() >= next_report) {
			live_stats(p, &base, st);
			lv->report(lv->arg, st);
			next_report = cep_clock_coarse_ms() + 1000;
		}
	}
	if (rc >= 0)
		rc = cep_batch_flush(&b);
	else
		cep_batch_flush(&b);
out:
	live_handle_clear();
	live_stats(p, &base, st);
	if (lv->report)
		lv->report(lv->arg, st);
	pcap_close(p);
	return rc;
}
