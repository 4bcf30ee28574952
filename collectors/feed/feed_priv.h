/*
 * feed_priv.h - what the feed readers share: a line source over a file or a
 * memory buffer, and an event front that counts and reports bad rows around
 * the collectors' batch (ceptor/batch.h), which stamps and hands over.
 *
 * Every file format is a parse function over a struct cep__feed_in that
 * writes through a struct cep__feed_out; feed.c opens files, standard input
 * or buffers and calls it.  The line source hands out lines without their
 * line break (LF or CRLF), numbered from 1; a memory line borrows the
 * buffer, a file line borrows the source's line buffer, valid until the
 * next call.  A line longer than the source's line_max (CEP_FEED_LINE_MAX,
 * or CEP_FEED_REPORT_INPUT_MAX for reports) is never buffered whole: it is
 * reported "NAME:LINE: line longer than N bytes; skipped", counted as
 * malformed, read through to its line break and skipped, and the next line
 * is handed out in its place (its number tells that one was skipped).
 *
 * Thread safety: both structs belong to the one call that made them.
 */
#ifndef CEPTOR_COLLECTORS_FEED_PRIV_H
#define CEPTOR_COLLECTORS_FEED_PRIV_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "ceptor/batch.h"
#include "collectors/feed/feed.h"

/* The longest line a feed file may have, without its line break. */
#define CEP_FEED_LINE_MAX (1024 * 1024)

struct cep__feed_out;

struct cep__feed_in {
	const char *name;      /* for messages: the path or "<stdin>" */
	FILE *f;               /* file input, or NULL for memory */
	const char *p, *end;   /* memory input */
	char *line;            /* line buffer (file input) */
	size_t cap;
	char *rbuf;            /* read buffer (file input), and what it holds */
	size_t rpos, rlen;
	size_t line_max;       /* longer lines are skipped; 0: CEP_FEED_LINE_MAX */
	struct cep__feed_out *out; /* where skipped lines are reported */
	uint64_t lineno;       /* of the line last returned */
	uint64_t done;         /* bytes consumed */
	uint64_t total;        /* file size, 0 when unknown */
	int regular;           /* a regular file (never waits for more) */
	uint64_t mtime;        /* file modification time (ns), else the time
				* the read began: the time of undated lists */
	uint64_t next_progress;
	const struct cep_feed_opts *opts;
	struct cep_feed_stats *st;
};

/*
 * cep__feed_line - the next line no longer than in->line_max.  Returns 1
 * and sets *line (not NUL-terminated for memory input; file lines are) and
 * *len; 0 at the end; -EIO on a read error.
 */
int cep__feed_line(struct cep__feed_in *in, const char **line, size_t *len);

struct cep__feed_out {
	struct cep_feed_stats *st;
	FILE *diag;
	const char *name;      /* for messages */
	unsigned bad;          /* rows reported in this file */
	/* Parsers fill cep_batch_slot(&out->batch) and call
	 * cep__feed_emit(); jsonl sets batch.keep_source. */
	struct cep_batch batch;
};

void cep__feed_out_init(struct cep__feed_out *o, const char *name,
			const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag);

/*
 * cep__feed_emit - the slot is complete: count it as decoded and commit
 * it (stamped with the source; a full batch goes to the sink).  Returns 0
 * or the sink's negative error.
 */
int cep__feed_emit(struct cep__feed_out *o);

/*
 * cep__feed_bad - count a malformed row and report "NAME:LINE: reason"
 * (up to CEP_FEED_REPORT_MAX per file, then once that the rest are only
 * counted).  @line 0 leaves the line number out.  Returns 0, so that a
 * parser may skip the row with "return cep__feed_bad(...);".
 */
int cep__feed_bad(struct cep__feed_out *o, uint64_t line, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

/*
 * cep__feed_set_cut - copy @s[0..n) into a text field; a value too long is
 * cut at a UTF-8 character boundary and counted in st->cut.
 */
void cep__feed_set_cut(struct cep__feed_out *o, char *dst, size_t size,
		       const char *s, size_t n);

/*
 * cep__feed_csv_scanned - bytes the CSV record layer has looked at on this
 * thread, summed over every parse: a test hook, so that tests can check
 * that the work stays linear in the input whatever its quotes do.
 */
extern _Thread_local uint64_t cep__feed_csv_scanned;

/* A parser of one file format (feed_jsonl.c, feed_csv.c, ...). */
typedef int (*cep__feed_parse_fn)(struct cep__feed_in *in,
				  struct cep__feed_out *out,
				  const struct cep_feed_opts *opts);

int cep__feed_parse_jsonl(struct cep__feed_in *in, struct cep__feed_out *out,
			  const struct cep_feed_opts *opts);
int cep__feed_parse_csv(struct cep__feed_in *in, struct cep__feed_out *out,
			const struct cep_feed_opts *opts);
int cep__feed_parse_iplist(struct cep__feed_in *in, struct cep__feed_out *out,
			   const struct cep_feed_opts *opts);
int cep__feed_parse_report(struct cep__feed_in *in, struct cep__feed_out *out,
			   const struct cep_feed_opts *opts);

/* One file (or "-") through @parse; feed.c. */
int cep__feed_file(const char *path, cep__feed_parse_fn parse,
		   const struct cep_feed_opts *opts,
		   const struct cep_source *src, const struct cep_sink *sink,
		   struct cep_feed_stats *st, FILE *diag);

/* A directory: each file once, watched with opts->follow; feed_dir.c. */
int cep__feed_dir(const char *dir, cep__feed_parse_fn parse,
		  const struct cep_feed_opts *opts,
		  const struct cep_source *src, const struct cep_sink *sink,
		  struct cep_feed_stats *st, FILE *diag);

/* An upstream ceptor's stream; feed_redis.c. */
int cep__feed_redis(const char *url, const struct cep_feed_opts *opts,
		    const struct cep_source *src, const struct cep_sink *sink,
		    struct cep_feed_stats *st, FILE *diag);

/* Small text helpers shared by the parsers (feed.c). */
int cep__feed_ieq(const char *a, size_t an, const char *b);
void cep__feed_trim(const char **s, size_t *n);
/* A decimal number of at most @max, no sign; 0 or -CEP_EMALFORMED. */
int cep__feed_uint(const char *s, size_t n, uint64_t max, uint64_t *out);
/* A time as feeds write it: RFC 3339, or "YYYY-MM-DD HH:MM:SS" with an
 * optional "Z", "+00", "+0000", "+00:00" or " UTC"; UTC.  0 or error. */
int cep__feed_time(const char *s, size_t n, uint64_t *ts);
/* Parse an address from a span; returns 4, 6 or -CEP_EMALFORMED. */
int cep__feed_ip(const char *s, size_t n, uint8_t out[16]);

#endif /* CEPTOR_COLLECTORS_FEED_PRIV_H */
