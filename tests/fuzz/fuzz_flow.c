/*
 * fuzz_flow.c - libFuzzer target for the NetFlow v5/v9 and IPFIX decoder
 * (collectors/flow/flow.h): cep_flow_decode() on arbitrary export packets.
 *
 * One input is a short conversation with one decoder, so that templates
 * learned from one packet meet the data of the next:
 *
 *   byte 0        bit 0: the exporter is IPv6 (else IPv4); bit 1: a second
 *                 exporter sends every other packet
 *   then repeated [u16 big-endian length][that many bytes] = one packet
 *                 (a short last chunk is taken as it is)
 *
 * A single raw export packet (as in corpus/flow/) is also a valid input:
 * its first bytes read as selector and length, and the rest is a packet.
 * The decoder must take any bytes: no crash, no read outside each packet,
 * no sanitizer report, no leak; its sink must only ever see batches of at
 * most CEP_COLLECTOR_BATCH flow events, and its counters must agree with
 * what the sink saw.  A broken promise aborts.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_flow: %s\n", what);
	abort();
}

static int check_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	uint64_t *seen = arg;

	if (n == 0 || n > CEP_COLLECTOR_BATCH)
		broken("a batch of 0 or more than CEP_COLLECTOR_BATCH events");
	for (unsigned i = 0; i < n; i++)
		if (ev[i].kind != CEP_KIND_FLOW || ev[i].type != CEP_TYPE_TRAFFIC)
			broken("an event that is not kind flow, type traffic");
	*seen += n;
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct cep_flow_decoder *dec;
	struct cep_flow_stats st;
	uint64_t seen = 0;
	struct cep_sink sink = { check_fn, &seen };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr = { htonl(0xc0000201) } };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in b4 = { .sin_family = AF_INET,
				  .sin_addr = { htonl(0xc0000202) } };
	size_t off = 1;
	unsigned k = 0;

	if (size < 1)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	memset(&st, 0, sizeof st);
	if (cep_flow_decoder_create(NULL, &sink, &st, devnull, &dec) < 0)
		return 0;
	while (off < size) {
		size_t len = size - off;

		if (len >= 2) {
			size_t want = (size_t)data[off] << 8 | data[off + 1];

			off += 2;
			len = size - off < want ? size - off : want;
		} else {
			off += len;
			len = 0;
		}
		/* A heap copy of exactly len bytes: ASan sees any overread. */
		uint8_t *pkt = malloc(len ? len : 1);

		if (!pkt)
			break;
		memcpy(pkt, data + off, len);
		const struct sockaddr *from =
			(data[0] & 2) && (k & 1) ? (const struct sockaddr *)&b4
			: (data[0] & 1) ? (const struct sockaddr *)&a6
					: (const struct sockaddr *)&a4;
		cep_flow_decode(dec, from, pkt, len, 0);
		free(pkt);
		off += len;
		k++;
	}
	cep_flow_decoder_flush(dec, 1);
	if (seen != st.decoded || st.decoded > st.read)
		broken("the sink saw another number of events than decoded");
	cep_flow_decoder_destroy(dec);
	return 0;
}
