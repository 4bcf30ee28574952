/*
 * fuzz_event.c - libFuzzer target for the event record's JSON codec
 * (include/ceptor/event.h): cep_event_from_json() and, for every input it
 * accepts, cep_event_to_json().
 *
 * Every JSON Lines row that ceptor-feed reads and every line an upstream
 * ceptor hands over goes through cep_event_from_json(), so it must take any
 * bytes: no crash, no read outside [line, line + len), no sanitizer report,
 * and a clean error code with a NUL-terminated reason.  On top of that the
 * header promises two round trips, checked here on every accepted input:
 *
 *   read -> write -> read  gives the same record (byte for byte);
 *   write -> read -> write gives the same text.
 *
 * A broken promise aborts, which libFuzzer reports as a crash with the input
 * that caused it (tests/fuzz/README.md says how to replay it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_event: %s\n  first:  %s\n  second: %s\n", what,
		a ? a : "", b ? b : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cep_event ev, again;
	char err[160], json[CEP_EVENT_JSON_MAX], json2[CEP_EVENT_JSON_MAX];
	int rc, len, len2;

	/* The reason buffer is pre-filled so that a reason without its NUL
	 * shows up as a read past the end in strlen() below. */
	memset(err, 'x', sizeof err);
	rc = cep_event_from_json((const char *)data, size, &ev, err, sizeof err);
	if (rc) {
		if (rc != -CEP_EMALFORMED && rc != -CEP_EUNKNOWN &&
		    rc != -CEP_ETOOLONG)
			broken("cep_event_from_json returned an undocumented code",
			       cep_strerror(rc), NULL);
		if (strnlen(err, sizeof err) == sizeof err)
			broken("the error reason is not NUL-terminated", NULL, NULL);
		if (err[0] == '\0')
			broken("an error without a reason", cep_strerror(rc), NULL);
		return 0;
	}

	/* A small buffer must be refused, never overrun. */
	char tiny[8];
	if (cep_event_to_json(&ev, tiny, sizeof tiny) >= 0)
		broken("cep_event_to_json fitted an event into 8 bytes", NULL, NULL);

	len = cep_event_to_json(&ev, json, sizeof json);
	if (len < 0 || (size_t)len >= sizeof json)
		broken("an accepted event does not fit CEP_EVENT_JSON_MAX", NULL, NULL);
	if (strlen(json) != (size_t)len)
		broken("cep_event_to_json's length is not the text's", json, NULL);

	rc = cep_event_from_json(json, (size_t)len, &again, err, sizeof err);
	if (rc)
		broken("the writer's own output does not read back", json, err);
	if (memcmp(&ev, &again, sizeof ev) != 0) {
		len2 = cep_event_to_json(&again, json2, sizeof json2);
		broken("read -> write -> read changed the record", json,
		       len2 >= 0 ? json2 : "(unwritable)");
	}
	len2 = cep_event_to_json(&again, json2, sizeof json2);
	if (len2 != len || memcmp(json, json2, (size_t)len) != 0)
		broken("write -> read -> write changed the text", json, json2);
	return 0;
}
