/*
 * bench_pcapread.c - the floor under ceptor-pcap's offline rate: libpcap
 * reading a capture with pcap_next_ex() and touching nothing, the same
 * file set-up as cep_pcap_read_file() (our FILE, a 256 KiB stdio buffer,
 * nanosecond precision) so that only the decode and the batching differ.
 *
 *   bench_pcapread FILE    prints "packets seconds" on stdout
 *
 * perf/bench_pcap.sh runs it; perf/run.sh also runs every bench_* binary
 * without arguments, which prints a note on stderr and exits 0.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct timespec t0, t1;
	unsigned long long n = 0, bytes = 0;
	pcap_t *p;
	FILE *fp;
	static char iobuf[1 << 18];

	if (argc != 2) {
		fprintf(stderr, "bench_pcapread: run by perf/bench_pcap.sh "
			"with a capture file; nothing to do alone\n");
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fp = fopen(argv[1], "rb");
	if (!fp) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
	p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fprintf(stderr, "%s: %s\n", argv[1], errbuf);
		return 1;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += h->caplen; /* so the loop is not optimised away */
	}
	pcap_close(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%llu %.6f\n", n,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr, "bench_pcapread: %llu packets, %llu bytes\n", n, bytes);
	return 0;
}
