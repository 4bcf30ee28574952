/*
 * flow_input.c - where export packets come from (flow.h): capture files of
 * export traffic, read through libpcap, and a UDP socket read in recvmmsg()
 * bursts.  Both hand each UDP payload, with its sender, to one decoder.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/flow/flow.h"
#include "lib/bytes.h"
#include "lib/clock.h"
#include "lib/log.h"

#define READ_BUFSIZE (1u << 18)
#define LISTEN_BURST 64
#define LISTEN_DGRAM 65536
#define LISTEN_POLL_MS 100
#define LISTEN_RCVBUF (64 << 20)

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

static volatile sig_atomic_t stop_requested;

void cep_flow_stop(void)
{
	stop_requested = 1;
}

void cep_flow_stop_reset(void)
{
	stop_requested = 0;
}

static void say(FILE *diag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(FILE *diag, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (diag)
		fprintf(diag, "%s\n", line);
	else
		cep_error("%s", line);
}

/* --- frames -------------------------------------------------------------- */

/*
 * Find the UDP payload in an IP packet at @p (@n bytes captured): fill
 * @from with the source address and @off/@len with the payload.  Returns
 * 0, or -1 for anything else (not UDP, a fragment, cut short).
 */
static int ip_udp(const uint8_t *p, size_t n, size_t base,
		  struct sockaddr_storage *from, size_t *off, size_t *len)
{
	size_t h, end;
	unsigned next;

	if (n < 1)
		return -1;
	memset(from, 0, sizeof *from);
	if (p[0] >> 4 == 4) {
		struct sockaddr_in *s4 = (void *)from;

		if (n < 20 || (p[0] & 15) < 5)
			return -1;
		h = (size_t)(p[0] & 15) * 4;
		/* Fragments are not reassembled: MF set or an offset. */
		if (p[9] != 17 || (cep_be16(p + 6) & 0x3fff) || n < h + 8)
			return -1;
		end = cep_be16(p + 2);
		if (end < h + 8 || end > n)
			end = n; /* total length 0 (TSO) or cut by snaplen */
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p + 12, 4);
		s4->sin_port = htons(cep_be16(p + h));
	} else if (p[0] >> 4 == 6) {
		struct sockaddr_in6 *s6 = (void *)from;

		if (n < 40)
			return -1;
		next = p[6];
		h = 40;
		end = 40 + (size_t)cep_be16(p + 4);
		if (end > n || end == 40)
			end = n;
		for (;;) {
			if (next == 0 || next == 43 || next == 60) {
				if (h + 8 > n)
					return -1;
				next = p[h];
				h += ((size_t)p[h + 1] + 1) * 8;
			} else if (next == 51) {
				if (h + 8 > n)
					return -1;
				next = p[h];
				h += ((size_t)p[h + 1] + 2) * 4;
			} else {
				break;
			}
		}
		if (next != 17 || n < h + 8)
			return -1;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p + 8, 16);
		s6->sin6_port = htons(cep_be16(p + h));
	} else {
		return -1;
	}
	size_t ulen = cep_be16(p + h + 4);

	if (ulen < 8 || h + ulen > end)
		ulen = end - h; /* UDP length 0 (jumbograms) or cut short */
	*off = base + h + 8;
	*len = ulen - 8;
	return 0;
}

/* The IP packet inside a frame of @linktype; -1 when there is none. */
static int frame_udp(const uint8_t *p, size_t n, int linktype,
		     struct sockaddr_storage *from, size_t *off, size_t *len)
{
	size_t l2;
	unsigned et;

	switch (linktype) {
	case DLT_EN10MB:
		if (n < 14)
			return -1;
		l2 = 14;
		et = cep_be16(p + 12);
		while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) &&
		       n >= l2 + 4) {
			et = cep_be16(p + l2 + 2);
			l2 += 4;
		}
		if (et != 0x0800 && et != 0x86dd)
			return -1;
		break;
	case DLT_LINUX_SLL:
		if (n < 16 || (cep_be16(p + 14) != 0x0800 && cep_be16(p + 14) != 0x86dd))
			return -1;
		l2 = 16;
		break;
	case 276: /* DLT_LINUX_SLL2 */
		if (n < 20 || (cep_be16(p) != 0x0800 && cep_be16(p) != 0x86dd))
			return -1;
		l2 = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		l2 = 4; /* the family word; the IP version says the rest */
		break;
	case DLT_RAW:
	case 14:  /* DLT_RAW on some BSDs */
	case 101: /* LINKTYPE_RAW */
	case 228: /* DLT_IPV4 */
	case 229: /* DLT_IPV6 */
		l2 = 0;
		break;
	default:
		return -1;
	}
	if (n < l2)
		return -1;
	return ip_udp(p + l2, n - l2, l2, from, off, len);
}

/* --- capture files ----------------------------------------------------------- */

int cep_flow_read_pcap(const char *path, const struct cep_source *src,
		       const struct cep_sink *sink, struct cep_flow_stats *st,
		       FILE *diag)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct cep_flow_decoder *dec = NULL;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t nread = 0;
	char *iobuf = NULL;
	pcap_t *p;
	FILE *fp;
	long off;
	int linktype, rc, seekable = 0;

	if (strcmp(path, "-") == 0) {
		fp = stdin;
	} else {
		fp = fopen(path, "rb");
		if (!fp) {
			rc = -errno;
			say(diag, "%s: cannot open: %s", path, strerror(errno));
			st->files_failed++;
			return rc;
		}
		iobuf = malloc(READ_BUFSIZE);
		if (iobuf)
			setvbuf(fp, iobuf, _IOFBF, READ_BUFSIZE);
		seekable = fseek(fp, 0, SEEK_SET) == 0;
	}
	errbuf[0] = '\0';
	p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		say(diag, "%s: not a capture libpcap can read: %s", path,
		    errbuf);
		if (fp != stdin)
			fclose(fp);
		free(iobuf);
		st->files_failed++;
		return -CEP_EMALFORMED;
	}
	st->files++;
	rc = cep_flow_decoder_create(src, sink, st, diag, &dec);
	if (rc < 0)
		goto out;
	linktype = pcap_datalink(p) & 0x03FFFFFF;
	off = seekable ? ftell(fp) : -1;
	for (;;) {
		struct sockaddr_storage from;
		size_t poff, plen;

		rc = pcap_next_ex(p, &hdr, &data);
		if (rc != 1)
			break;
		nread++;
		if (frame_udp(data, hdr->caplen, linktype, &from, &poff,
			      &plen) < 0) {
			st->unsupported++;
		} else {
			uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000000ull +
				      (uint64_t)hdr->ts.tv_usec;

			/* Reports name the packet record's offset. */
			cep_flow_decoder_origin(dec, path, off);
			rc = cep_flow_decode(dec, (struct sockaddr *)&from,
					     data + poff, plen, ts);
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
		say(diag, "%s: cannot read past byte offset %ld (packet %llu): "
		    "%s; keeping the %llu packets before it", path, off,
		    (unsigned long long)nread + 1, pcap_geterr(p),
		    (unsigned long long)nread);
	}
	rc = cep_flow_decoder_flush(dec, 1);
out:
	cep_flow_decoder_destroy(dec);
	pcap_close(p); /* closes fp too */
	free(iobuf);
	return rc;
}

/* --- UDP ------------------------------------------------------------------------ */

int cep_flow_parse_addr(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof host)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;
	if (s[0] != '[' && strchr(host, ':'))
		return -EINVAL; /* an IPv6 address needs its brackets */
	if (s[0] == '[') {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (hl == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof *s4;
	}
	return 0;
}

/* The socket: bound, with a large receive buffer and drop counting. */
static int listen_socket(const char *addr, FILE *diag, volatile int *bound)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, zero = 0, sz = LISTEN_RCVBUF, rc;

	if (cep_flow_parse_addr(addr, &ss, &sl) < 0) {
		say(diag, "--listen %s: not ADDR:PORT, [V6ADDR]:PORT or :PORT",
		    addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		say(diag, "--listen %s: socket: %s", addr, strerror(errno));
		return rc;
	}
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* As root the buffer may pass net.core.rmem_max; else it is capped. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		say(diag, "--listen %s: bind: %s", addr, strerror(errno));
		close(fd);
		return rc;
	}
	if (bound) {
		struct sockaddr_storage got;
		socklen_t gl = sizeof got;
		int port = 0;

		if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
			port = ntohs(got.ss_family == AF_INET6
				     ? ((struct sockaddr_in6 *)&got)->sin6_port
				     : ((struct sockaddr_in *)&got)->sin_port);
		/* A1: pairs with the acquire load of whoever waits for it. */
		__atomic_store_n(bound, port, __ATOMIC_RELEASE);
	}
	return fd;
}

struct burst {
	struct mmsghdr msg[LISTEN_BURST];
	struct iovec iov[LISTEN_BURST];
	struct sockaddr_storage from[LISTEN_BURST];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[LISTEN_BURST];
	uint8_t data[LISTEN_BURST][LISTEN_DGRAM];
};

int cep_flow_listen(const char *addr, const struct cep_source *src,
		    const struct cep_sink *sink, struct cep_flow_stats *st,
		    FILE *diag, volatile int *bound)
{
	return cep_flow_listen_tick(addr, src, sink, st, diag, bound, NULL,
				    NULL);
}

int cep_flow_listen_tick(const char *addr, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_flow_stats *st, FILE *diag,
			 volatile int *bound, void (*tick)(void *arg),
			 void *tick_arg)
{
	struct cep_flow_decoder *dec = NULL;
	struct burst *b = NULL;
	int fd, rc;

	fd = listen_socket(addr, diag, bound);
	if (fd < 0)
		return fd;
	st->files++;
	rc = cep_flow_decoder_create(src, sink, st, diag, &dec);
	if (rc < 0)
		goto out;
	b = malloc(sizeof *b);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	while (!stop_requested) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n;

		if (tick)
			tick(tick_arg);
		n = poll(&pfd, 1, LISTEN_POLL_MS);
		if (n <= 0) {
			/* Quiet (or a signal): hand over what is gathered. */
			rc = cep_flow_decoder_flush(dec, 0);
			if (rc < 0)
				goto out;
			continue;
		}
		for (int i = 0; i < LISTEN_BURST; i++) {
			b->iov[i] = (struct iovec){ b->data[i], LISTEN_DGRAM };
			b->msg[i].msg_hdr = (struct msghdr){
				.msg_name = &b->from[i],
				.msg_namelen = sizeof b->from[i],
				.msg_iov = &b->iov[i],
				.msg_iovlen = 1,
				.msg_control = b->ctl[i].buf,
				.msg_controllen = sizeof b->ctl[i].buf,
			};
		}
		n = recvmmsg(fd, b->msg, LISTEN_BURST, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			rc = -errno;
			say(diag, "--listen %s: recvmmsg: %s", addr,
			    strerror(errno));
			goto out;
		}
		uint64_t ts = cep_clock_wall_ns();
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &b->msg[i].msg_hdr;

			/* The kernel's count of datagrams dropped on this
			 * socket so far rides along with each datagram. */
			for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c;
			     c = CMSG_NXTHDR(m, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SO_RXQ_OVFL) {
					uint32_t drops;

					memcpy(&drops, CMSG_DATA(c), sizeof drops);
					st->socket_drops = drops;
				}
			}
			rc = cep_flow_decode(dec, (struct sockaddr *)&b->from[i],
					     b->data[i], b->msg[i].msg_len, ts);
			if (rc < 0)
				goto out;
		}
		rc = cep_flow_decoder_flush(dec, 0);
		if (rc < 0)
			goto out;
	}
	rc = cep_flow_decoder_flush(dec, 1);
out:
	cep_flow_decoder_destroy(dec);
	free(b);
	close(fd);
	return rc;
}
