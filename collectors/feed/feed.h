/*
 * feed.h - the feed collector: files of observations and reports turned
 * into events.
 *
 * This first slice reads JSON Lines events, the format `--dump` of every
 * collector writes, which is how tests and exercises inject exact events and
 * how one ceptor hands events to another.  Shadowserver-style CSV reports,
 * indicator lists, operator reports and upstream Redis streams join it with
 * the collectors issue; each will be one more reader with this signature.
 *
 * A bad line is reported as "FILE:LINE: reason" (the first
 * CEP_FEED_REPORT_MAX of a file; the others only counted), counted as
 * malformed, and skipped; the rest of the file is read.  Events are handed to the sink
 * in batches of CEP_COLLECTOR_BATCH.
 *
 * Thread safety: a call owns its file and its sink for its duration; calls
 * on different files may run on different threads.
 */
#ifndef CEPTOR_COLLECTORS_FEED_H
#define CEPTOR_COLLECTORS_FEED_H

#include <stdint.h>
#include <stdio.h>

#include "ceptor/collector.h"

struct cep_feed_stats {
	uint64_t read;      /* data rows (non-blank lines) */
	uint64_t decoded;   /* rows that became events */
	uint64_t malformed; /* rows reported and skipped */
	uint64_t bytes;     /* bytes of input */
	uint64_t files;     /* files opened */
	uint64_t files_failed;
};

/* Malformed lines reported per file; the rest are only counted. */
#define CEP_FEED_REPORT_MAX 10

/*
 * cep_feed_read_jsonl - read one JSON Lines file ("-" is standard input).
 * Each event keeps the fields it carries; the source's defaults fill the
 * unset ones (cep_source_stamp), and its name is used only where the event
 * names no source.  @diag receives the per-line errors (NULL: stderr).
 * Returns 0 when the file was read to its end (even with bad lines),
 * -errno when it could not be opened or read, or the sink's negative error.
 */
int cep_feed_read_jsonl(const char *path, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag);

#endif /* CEPTOR_COLLECTORS_FEED_H */
