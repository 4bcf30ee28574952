/*
 * fuzz_csv.c - libFuzzer target for the Shadowserver CSV reader.
 *
 * The first byte picks the file name the reader sees, so that every report
 * profile (and the header-only detection) is reached; the rest is the CSV
 * text, parsed in memory by cep_feed_parse().  Besides the sanitizers, it
 * checks what the reader promises: no more events than rows, and every
 * event writes as JSON that reads back (text fields cut at UTF-8
 * boundaries, never left unterminated).
 *
 * Seeds: tests/fuzz/corpus/csv/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceptor/event.h"
#include "collectors/feed/feed.h"

static const char *const names[] = {
	"botnet_drone.csv", "sinkhole_http_drone.csv", "sinkhole_dns.csv",
	"darknet.csv", "drone_brute_force.csv", "hp_http_scan.csv",
	"ddos_amplification.csv", "ddos_participant.csv",
	"caida_ip_spoofer.csv", "2024-01-01-scan_telnet-asn.csv",
	"sinkhole.csv", "unnamed.csv",
};

static int check(void *arg, const struct cep_event *ev, unsigned n)
{
	char buf[CEP_EVENT_JSON_MAX];
	struct cep_event back;

	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		int len = cep_event_to_json(&ev[i], buf, sizeof buf);
		if (len < 0 || cep_event_from_json(buf, (size_t)len, &back,
						   NULL, 0))
			abort();
	}
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct cep_feed_stats st = { 0 };
	struct cep_sink sink = { check, NULL };
	struct cep_source src;

	if (size < 1)
		return 0;
	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	cep_source_init(&src, "fuzz");
	const char *name = names[data[0] % (sizeof names / sizeof names[0])];
	cep_feed_parse(CEP_FEED_CSV, name, (const char *)data + 1, size - 1,
		       NULL, &src, &sink, &st, null);
	if (st.decoded + st.malformed > st.read)
		abort();
	return 0;
}
