/*
 * fuzz_pcap.c - libFuzzer target: one captured frame through the decoder.
 *
 *   input = [selector byte] [frame bytes...]
 *
 * The selector picks the link type among those cep_pcap_decode() knows
 * (selector % the number of them), so one corpus covers every link layer;
 * the rest is the frame, captured whole (caplen = wire length).  The
 * decoder must read nothing outside the frame (ASan), do nothing undefined
 * (UBSan), and keep its contract on every input: a decoded event is a
 * packet event of one packet, its addresses have a family, and it never
 * reports more bytes than the wire length it was given.
 *
 * Build (or `make fuzz`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude -Iengine \
 *     -D_GNU_SOURCE tests/fuzz/fuzz_pcap.c collectors/pcap/pcap_decode.c \
 *     -o fuzz_pcap
 *   ./fuzz_pcap tests/fuzz/corpus/pcap
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/pcap/pcap_decode.h"

static const int linktypes[] = {
	1,   /* Ethernet */
	0,   /* BSD loopback, host order */
	108, /* OpenBSD loopback */
	12,  /* raw IP */
	101, /* LINKTYPE_RAW */
	228, /* IPv4 */
	229, /* IPv6 */
	113, /* Linux SLL */
	276, /* Linux SLL2 */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cep_event ev;
	uint8_t *frame;
	uint32_t len;
	int lt, rc;

	if (size < 1 || size > 65536 + 1)
		return 0;
	lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
	len = (uint32_t)(size - 1);
	/* An exact-size copy: any read past the frame is an ASan report. */
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, len);
	rc = cep_pcap_decode(frame, len, len, lt, &ev);
	if (rc == 0) {
		if (ev.kind != CEP_KIND_PACKET || ev.packets != 1 ||
		    ev.bytes != len)
			abort();
		if ((ev.src_af != CEP_AF_NONE && ev.src_af != CEP_AF_INET &&
		     ev.src_af != CEP_AF_INET6) ||
		    (ev.dst_af != CEP_AF_NONE && ev.dst_af != CEP_AF_INET &&
		     ev.dst_af != CEP_AF_INET6))
			abort();
	} else if (rc != -CEP_EMALFORMED) {
		abort(); /* every listed link type is supported */
	}
	free(frame);
	return 0;
}
