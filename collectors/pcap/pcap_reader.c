/*
 * pcap_reader.c - the pcap_next_ex() loop, batching and damage reports.
 *
 * One struct batch lives on the stack of each read call; events are decoded
 * into it in place and the sink sees it whole.  The file is opened with our
 * own fopen() so that a failure to open has a precise errno, so that the
 * stdio buffer can be made larger than libpcap's default (fewer read(2)s),
 * and so that ftell() gives the offset of a damaged record.
 */
#include "collectors/pcap/pcap_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/pcap/pcap_decode.h"
#include "lib/log.h"

#define READ_BUFSIZE (1u << 18)
#define LIVE_TIMEOUT_MS 100
#define LIVE_SNAPLEN 262144

static volatile sig_atomic_t stop_requested;

void cep_pcap_stop(void)
{
	stop_requested = 1;
}

struct batch {
	struct cep_event ev[CEP_COLLECTOR_BATCH];
	unsigned n;
};

static int flush(struct batch *b, struct cep_sink *sink,
		 struct cep_pcap_stats *st)
{
	int rc;

	if (b->n == 0)
		return 0;
	rc = sink->fn(sink->arg, b->ev, b->n);
	if (rc < 0)
		return rc;
	if ((unsigned)rc < b->n)
		st->refused += b->n - (unsigned)rc;
	b->n = 0;
	return 0;
}

/*
 * Decode one packet into the next slot of the batch and count it; the slot
 * is kept only when the packet decoded.  @nano says whether hdr->ts.tv_usec
 * holds nanoseconds.
 */
static inline void take(struct batch *b, const struct pcap_pkthdr *hdr,
			const uint8_t *data, int linktype, int nano,
			const struct cep_source *src, struct cep_pcap_stats *st)
{
	struct cep_event *ev = &b->ev[b->n];
	int rc;

	st->read++;
	st->bytes += hdr->len;
	rc = cep_pcap_decode(data, hdr->caplen, hdr->len, linktype, ev);
	if (rc < 0) {
		if (rc == -EPROTONOSUPPORT)
			st->unsupported++;
		else
			st->malformed++;
		return;
	}
	ev->ts = (uint64_t)hdr->ts.tv_sec * 1000000000u +
		 (uint64_t)hdr->ts.tv_usec * (nano ? 1u : 1000u);
	ev->seq = (uint32_t)st->read;
	if (src)
		cep_source_stamp(src, ev);
	st->decoded++;
	if (ev->flags & CEP_EV_TRUNCATED)
		st->truncated++;
	if (ev->flags & CEP_EV_FRAGMENT)
		st->fragments++;
	b->n++;
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

int cep_pcap_read_file(const char *path, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct batch b;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t first = st->read;
	pcap_t *p;
	FILE *fp;
	char *iobuf = NULL;
	long off;
	int linktype, rc, seekable = 0;

	b.n = 0;
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
		 * per 256 KiB instead of per 4 KiB.  Freed after pcap_close(). */
		iobuf = malloc(READ_BUFSIZE);
		if (iobuf)
			setvbuf(fp, iobuf, _IOFBF, READ_BUFSIZE);
		/* A seek makes stdio cache the file offset; without it every
		 * ftell() below would cost an lseek(2), a third of the time. */
		seekable = fseek(fp, 0, SEEK_SET) == 0;
	}
	errbuf[0] = '\0';
	p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		cep_error("%s: not a capture libpcap can read: %s", path,
			  errbuf);
		if (fp != stdin)
			fclose(fp);
		free(iobuf);
		st->files_failed++;
		return -CEP_EMALFORMED;
	}
	st->files++;
	rc = set_filter(p, bpf, path);
	if (rc < 0)
		goto out;
	linktype = pcap_datalink(p) & CEP_PCAP_LINKTYPE_MASK;
	if (!cep_pcap_linktype_supported(linktype))
		cep_warn("%s: link type %d (%s) is not decoded; its packets "
			 "are counted as unsupported", path, linktype,
			 pcap_datalink_val_to_name(linktype)
				 ? pcap_datalink_val_to_name(linktype) : "?");

	/* The offset of the next record is where the previous one ended. */
	off = seekable ? ftell(fp) : -1;
	for (;;) {
		rc = pcap_next_ex(p, &hdr, &data);
		if (rc != 1)
			break;
		take(&b, hdr, data, linktype, 1, src, st);
		if (b.n == CEP_COLLECTOR_BATCH) {
			rc = flush(&b, sink, st);
			if (rc < 0)
				goto out;
		}
		if (seekable)
			off = ftell(fp);
		if (stop_requested)
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
	rc = flush(&b, sink, st);
out:
	pcap_close(p); /* closes fp too */
	free(iobuf);
	return rc;
}

int cep_pcap_read_failed(const struct cep_pcap_stats *st)
{
	return st->read == 0 && (st->files_failed > 0 || st->errors > 0);
}

int cep_pcap_read_live(const char *iface, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct batch b;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p;
	int linktype, nano, rc;

	b.n = 0;
	errbuf[0] = '\0';
	p = pcap_create(iface, errbuf);
	if (!p) {
		cep_error("%s: cannot capture: %s", iface, errbuf);
		st->files_failed++;
		return -EIO;
	}
	pcap_set_snaplen(p, LIVE_SNAPLEN);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, LIVE_TIMEOUT_MS);
	pcap_set_immediate_mode(p, 1);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(p);
	if (rc < 0) {
		cep_error("%s: cannot capture: %s%s", iface,
			  pcap_statustostr(rc),
			  rc == PCAP_ERROR_PERM_DENIED
				  ? " (needs root or CAP_NET_RAW)" : "");
		st->files_failed++;
		rc = rc == PCAP_ERROR_PERM_DENIED ? -EPERM
		     : rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
		pcap_close(p);
		return rc;
	}
	if (rc > 0)
		cep_warn("%s: %s", iface, pcap_statustostr(rc));
	st->files++;
	rc = set_filter(p, bpf, iface);
	if (rc < 0)
		goto out;
	nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	linktype = pcap_datalink(p) & CEP_PCAP_LINKTYPE_MASK;
	if (!cep_pcap_linktype_supported(linktype))
		cep_warn("%s: link type %d is not decoded", iface, linktype);
	while (!stop_requested) {
		rc = pcap_next_ex(p, &hdr, &data);
		if (rc == 1) {
			take(&b, hdr, data, linktype, nano, src, st);
			/* A trickle never fills a batch nor lets the timeout
			 * pass; capture time bounds how long events wait. */
			if (b.n < CEP_COLLECTOR_BATCH &&
			    (b.n == 0 || b.ev[b.n - 1].ts - b.ev[0].ts <
						 LIVE_TIMEOUT_MS * 1000000ull))
				continue;
		} else if (rc == 0) {
			/* Timeout: hand over what a quiet link has gathered. */
		} else {
			if (rc == PCAP_ERROR) {
				cep_error("%s: capture failed: %s", iface,
					  pcap_geterr(p));
				st->errors++;
				rc = -EIO;
			} else {
				rc = 0;
			}
			break;
		}
		rc = flush(&b, sink, st);
		if (rc < 0)
			goto out;
	}
	if (rc >= 0)
		rc = flush(&b, sink, st);
	else
		flush(&b, sink, st);
out:
	pcap_close(p);
	return rc;
}
