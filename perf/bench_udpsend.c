/*
 * bench_udpsend.c - replay the UDP payloads of a capture to a loopback
 * port as fast as the kernel takes them: the common sender that
 * perf/bench_flow.sh points at nfcapd and at ceptor-flow --listen, so that
 * both receive the same datagrams from the same exporter addresses.
 *
 *   bench_udpsend FILE ADDR:PORT [ROUNDS]
 *
 * Reads every UDP datagram of FILE (pcap or pcapng; Ethernet, Linux SLL,
 * raw IP; IPv4 only, unfragmented) into memory first, then sends the
 * payloads in file order, ROUNDS times (default 1), to the IPv4 ADDR:PORT.
 * Each distinct IPv4 source address of the capture gets its own socket
 * bound to that address when it is a loopback address (127.0.0.0/8), so
 * that the receiver sees one exporter per source as in the capture;
 * other sources share one unbound socket.  Consecutive datagrams of one
 * source go out together with sendmmsg().  Nothing paces the sender: on a
 * full receive queue the kernel drops, and the receiver's own counters
 * say how many it got.
 *
 * Prints on stdout "DATAGRAMS BYTES T0 T1": the datagrams and payload
 * bytes sent and the wall-clock (CLOCK_REALTIME) seconds of the first and
 * after the last send, so a script can time a receiver from T0.  Exit 1
 * when the capture cannot be read or the address does not parse.  Run
 * without arguments (as perf/run.sh does) it prints a note and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 1024
#define BURST 64

struct dgram {
	uint32_t src; /* network order */
	uint32_t off; /* into the payload arena */
	uint32_t len;
	int sock;     /* index into socks[] */
};

static struct dgram *dg;
static size_t ndg, capdg;
static uint8_t *arena;
static size_t narena, caparena;

static uint32_t srcs[MAX_SOURCES];
static int socks[MAX_SOURCES + 1]; /* the last: the unbound socket */
static int nsrc;

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 1024;
	while (n < need)
		n *= 2;
	p = realloc(p, n * elem);
	if (!p) {
		fprintf(stderr, "bench_udpsend: out of memory\n");
		exit(1);
	}
	*cap = n;
	return p;
}

/* The IPv4 header of a frame of link type @dlt, or NULL. */
static const uint8_t *ip_of(int dlt, const uint8_t *d, uint32_t len,
			    uint32_t *left)
{
	uint32_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		off = 12;
		if (len < 14)
			return NULL;
		type = (uint16_t)(d[off] << 8 | d[off + 1]);
		while ((type == 0x8100 || type == 0x88a8) && off + 6 <= len) {
			off += 4;
			type = (uint16_t)(d[off] << 8 | d[off + 1]);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return NULL;
		type = (uint16_t)(d[14] << 8 | d[15]);
		off = 16;
		break;
	case DLT_RAW:
	case 228: /* DLT_IPV4 */
		type = 0x0800;
		off = 0;
		break;
	default:
		return NULL;
	}
	if (type != 0x0800 || off + 20 > len)
		return NULL;
	*left = len - off;
	return d + off;
}

static int load(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int dlt, rc;

	if (!p) {
		fprintf(stderr, "bench_udpsend: %s\n", errbuf);
		return -1;
	}
	dlt = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		uint32_t left, ihl, tot;
		const uint8_t *ip = ip_of(dlt, d, h->caplen, &left);

		if (!ip || (ip[0] >> 4) != 4 || ip[9] != 17)
			continue;
		ihl = (uint32_t)(ip[0] & 15) * 4;
		tot = (uint32_t)(ip[2] << 8 | ip[3]);
		if ((ip[6] & 0x3f) || ip[7]) /* a fragment */
			continue;
		if (tot > left)
			tot = left;
		if (ihl < 20 || ihl + 8 > tot)
			continue;
		dg = grow(dg, &capdg, ndg + 1, sizeof *dg);
		arena = grow(arena, &caparena, narena + tot - ihl - 8, 1);
		memcpy(&dg[ndg].src, ip + 12, 4);
		dg[ndg].off = (uint32_t)narena;
		dg[ndg].len = tot - ihl - 8;
		memcpy(arena + narena, ip + ihl + 8, dg[ndg].len);
		narena += dg[ndg].len;
		ndg++;
	}
	if (rc == -1)
		fprintf(stderr, "bench_udpsend: %s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return 0;
}

static int sock_for(uint32_t src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int i, fd, sz = 8 << 20;

	for (i = 0; i < nsrc; i++)
		if (srcs[i] == src)
			return i;
	if ((ntohl(src) >> 24) != 127 || nsrc == MAX_SOURCES)
		return MAX_SOURCES;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return MAX_SOURCES;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	sa.sin_addr.s_addr = src;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return MAX_SOURCES;
	}
	srcs[nsrc] = src;
	socks[nsrc] = fd;
	return nsrc++;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct mmsghdr msg[BURST];
	struct iovec iov[BURST];
	unsigned long long sent = 0, bytes = 0;
	long rounds = 1;
	char host[64], *colon, *end;
	double t0, t1;

	if (argc < 3) {
		fprintf(stderr, "bench_udpsend: run by perf/bench_flow.sh "
			"(FILE ADDR:PORT [ROUNDS]); nothing to do alone\n");
		return 0;
	}
	snprintf(host, sizeof host, "%s", argv[2]);
	colon = strrchr(host, ':');
	if (!colon)
		goto bad_addr;
	*colon = '\0';
	to.sin_port = htons((uint16_t)strtoul(colon + 1, &end, 10));
	if (*end || inet_pton(AF_INET, host, &to.sin_addr) != 1)
		goto bad_addr;
	if (argc > 3 && (rounds = strtol(argv[3], &end, 10)) < 1) {
		fprintf(stderr, "bench_udpsend: bad ROUNDS \"%s\"\n", argv[3]);
		return 1;
	}
	if (load(argv[1]))
		return 1;
	if (ndg == 0) {
		fprintf(stderr, "bench_udpsend: %s: no IPv4 UDP datagram\n",
			argv[1]);
		return 1;
	}
	socks[MAX_SOURCES] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (socks[MAX_SOURCES] < 0) {
		perror("bench_udpsend: socket");
		return 1;
	}
	for (size_t i = 0; i < ndg; i++)
		dg[i].sock = sock_for(dg[i].src);

	t0 = wall();
	for (long r = 0; r < rounds; r++) {
		for (size_t i = 0; i < ndg;) {
			int s = dg[i].sock, n = 0;

			while (i + (size_t)n < ndg && n < BURST &&
			       dg[i + (size_t)n].sock == s) {
				const struct dgram *g = &dg[i + (size_t)n];

				iov[n] = (struct iovec){ arena + g->off, g->len };
				msg[n].msg_hdr = (struct msghdr){
					.msg_name = &to,
					.msg_namelen = sizeof to,
					.msg_iov = &iov[n],
					.msg_iovlen = 1,
				};
				n++;
			}
			for (int k = 0; k < n;) {
				int got = sendmmsg(socks[s], msg + k,
						   (unsigned)(n - k), 0);
				if (got < 0) {
					if (errno == EINTR || errno == ENOBUFS ||
					    errno == EAGAIN)
						continue;
					perror("bench_udpsend: sendmmsg");
					return 1;
				}
				for (int j = 0; j < got; j++)
					bytes += iov[k + j].iov_len;
				k += got;
				sent += (unsigned long long)got;
			}
			i += (size_t)n;
		}
	}
	t1 = wall();
	printf("%llu %llu %.6f %.6f\n", sent, bytes, t0, t1);
	fprintf(stderr, "bench_udpsend: %llu datagrams (%zu per round, %d "
		"exporter sockets), %llu bytes in %.3f s\n", sent, ndg, nsrc,
		bytes, t1 - t0);
	return 0;

bad_addr:
	fprintf(stderr, "bench_udpsend: bad address \"%s\" (IPV4:PORT)\n",
		argv[2]);
	return 1;
}
