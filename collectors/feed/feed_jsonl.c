/*
 * feed_jsonl.c - JSON Lines events, the --dump format (feed.h).
 *
 * Each non-blank line is one event as cep_event_from_json() reads it; the
 * event keeps its own source name when it has one.
 */
#include <string.h>

#include "collectors/feed/feed_priv.h"

int cep__feed_parse_jsonl(struct cep__feed_in *in, struct cep__feed_out *out,
			  const struct cep_feed_opts *opts)
{
	const char *line;
	size_t len;
	int rc;

	(void)opts;
	out->batch.keep_source = 1;
	while ((rc = cep__feed_line(in, &line, &len)) > 0) {
		const char *s = line;
		size_t n = len;

		cep__feed_trim(&s, &n);
		if (n == 0)
			continue; /* blank lines are not rows */
		in->st->read++;
		struct cep_event *ev = cep_batch_slot(&out->batch);
		char err[160];
		if (cep_event_from_json(line, len, ev, err, sizeof err)) {
			cep__feed_bad(out, in->lineno, "%s", err);
			continue;
		}
		if ((rc = cep__feed_emit(out)))
			return rc;
	}
	if (rc < 0)
		fprintf(out->diag, "%s:%llu: read error\n", in->name,
			(unsigned long long)in->lineno);
	return rc;
}
