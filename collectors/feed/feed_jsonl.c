/*
 * feed_jsonl.c - JSON Lines events from a file or standard input (feed.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/feed/feed.h"

/* Hand the batch over; a sink that fails stops the read. */
static int drain(const struct cep_sink *sink, struct cep_event *batch,
		 unsigned *n)
{
	int rc = 0;
	if (*n)
		rc = sink->fn(sink->arg, batch, *n);
	*n = 0;
	return rc < 0 ? rc : 0;
}

int cep_feed_read_jsonl(const char *path, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag)
{
	struct cep_event batch[CEP_COLLECTOR_BATCH];
	unsigned n = 0;
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t len;
	int rc = 0;
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");

	if (!diag)
		diag = stderr;
	if (!f) {
		rc = -errno;
		fprintf(diag, "%s: cannot open: %s\n", path, strerror(errno));
		st->files_failed++;
		return rc;
	}
	st->files++;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		st->bytes += (uint64_t)len;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		size_t skip = strspn(line, " \t");
		if ((size_t)len <= skip)
			continue; /* blank lines are not rows */
		st->read++;
		struct cep_event *ev = &batch[n];
		char err[160];
		int prc = cep_event_from_json(line, (size_t)len, ev, err, sizeof err);
		if (prc) {
			/* Reported once per line up to a limit, then only counted:
			 * a broken file must not flood the log. */
			if (++bad <= CEP_FEED_REPORT_MAX)
				fprintf(diag, "%s:%zu: %s\n", is_stdin ? "<stdin>" : path,
					lineno, err);
			if (bad == CEP_FEED_REPORT_MAX)
				fprintf(diag, "%s: further malformed lines are counted, "
					"not shown\n", is_stdin ? "<stdin>" : path);
			st->malformed++;
			continue;
		}
		char own[sizeof ev->source];
		memcpy(own, ev->source, sizeof own);
		cep_source_stamp(src, ev);
		if (own[0])
			memcpy(ev->source, own, sizeof own);
		st->decoded++;
		if (++n == CEP_COLLECTOR_BATCH && (rc = drain(sink, batch, &n)))
			goto out;
	}
	if (ferror(f)) {
		rc = -EIO;
		fprintf(diag, "%s:%zu: read error\n", path, lineno);
		goto out;
	}
	rc = drain(sink, batch, &n);
out:
	free(line);
	if (!is_stdin)
		fclose(f);
	return rc;
}
