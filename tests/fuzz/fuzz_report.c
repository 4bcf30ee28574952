/*
 * fuzz_report.c - libFuzzer target for the operator report reader.
 *
 * The input is the report text, parsed in memory by cep_feed_parse() with
 * a fresh merge table per input (so a run is reproducible).  Besides the
 * sanitizers, it checks that no more events come out than reports went
 * in, and that every event writes as JSON that reads back.
 *
 * Seeds: tests/fuzz/corpus/report/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceptor/event.h"
#include "collectors/feed/feed.h"

static int check(void *arg, const struct cep_event *ev, unsigned n)
{
	char buf[CEP_EVENT_JSON_MAX];
	struct cep_event back;

	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		if (ev[i].kind != CEP_KIND_REPORT)
			abort();
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

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	cep_source_init(&src, "fuzz");
	cep_feed_parse(CEP_FEED_REPORT, "fuzz.json", (const char *)data, size,
		       NULL, &src, &sink, &st, null);
	if (st.decoded + st.malformed > st.read)
		abort();
	return 0;
}
