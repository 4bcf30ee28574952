/*
 * fuzz_pcapng.c - libFuzzer target: the input as a whole pcapng file,
 * walked from memory by our block walker and every packet decoded.
 *
 * What must hold besides no sanitizer report: every packet the walker
 * returns lies inside the input; the walk ends (each block moves the
 * offset forward by at least 12 bytes); a framing error is sticky; and
 * every packet decodes or is refused with a documented code.
 *
 * Build (or `make fuzz`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude -Iengine \
 *     -D_GNU_SOURCE tests/fuzz/fuzz_pcapng.c collectors/pcap/pcapng.c \
 *     collectors/pcap/pcap_decode.c -o fuzz_pcapng
 *   ./fuzz_pcapng tests/fuzz/corpus/pcapng
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/pcap/pcap_decode.h"
#include "collectors/pcap/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cep_pcapng r;
	struct cep_pcapng_pkt pkt;
	struct cep_event ev;
	uint8_t *buf;
	size_t steps = 0;
	int rc;

	/* An exact-size copy: any read past the end is an ASan report. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	cep_pcapng_init_mem(&r, buf, size);
	while ((rc = cep_pcapng_next(&r, &pkt)) > 0) {
		if (++steps > size / 12 + 1)
			abort(); /* more packets than blocks could hold */
		if (rc == CEP_PCAPNG_BAD)
			continue;
		if (pkt.data < buf || pkt.caplen > size ||
		    pkt.data + pkt.caplen > buf + size)
			abort();
		if (pkt.wirelen < pkt.caplen)
			abort();
		rc = cep_pcap_decode(pkt.data, pkt.caplen, pkt.wirelen,
				     pkt.linktype, &ev);
		if (rc != 0 && rc != -CEP_EMALFORMED &&
		    rc != -EPROTONOSUPPORT)
			abort();
	}
	if (rc != 0 && rc != -CEP_EMALFORMED && rc != -CEP_ETRUNCATED &&
	    rc != -ENOMEM)
		abort();
	if (cep_pcapng_next(&r, &pkt) != rc)
		abort(); /* the end, or the damage, stays */
	cep_pcapng_fini(&r);
	free(buf);
	return 0;
}
