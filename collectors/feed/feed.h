/*
 * feed.h - the feed collector: observation feeds, indicator lists, operator
 * reports and upstream ceptors turned into events.
 *
 * Formats (FORMATS.md documents each one, with the CSV mapping table and
 * the report schema):
 *
 *   jsonl             JSON Lines events, what every collector's --dump
 *                     writes; read back unchanged (kind as written)
 *   csv-shadowserver  Shadowserver-style CSV reports (drone, sinkhole,
 *                     darknet, honeypot, scan_*), columns found by header
 *                     name; one event per data row (kind feed)
 *   iplist            one IP, CIDR or domain per line, # and ; comments
 *                     (kind intel)
 *   report            operator IT-failure reports, JSON (DESIGN.md
 *                     section 4); updates merge by report_id (kind report)
 *   redis             an upstream ceptor's incident stream, read with XREAD
 *                     from redis://HOST:PORT/STREAMKEY (kind incident)
 *
 * Every reader has the same shape: (path, source, sink, stats, diag).  The
 * path is a file, "-" for standard input, a directory (every regular file
 * in it, in name order; watched for new ones with opts.follow), or for
 * redis a URL.  cep_feed_parse() runs the same parsers over a memory buffer,
 * for the fuzz targets and the unit tests.
 *
 * Bad input is never fatal: a bad row is reported on @diag as
 * "FILE:LINE: reason" (the first CEP_FEED_REPORT_MAX per file; the others
 * only counted), counted as malformed, and skipped; the rest is read.
 * Events reach the sink in batches of CEP_COLLECTOR_BATCH; nothing is
 * allocated per row.
 *
 * Thread safety: a call owns its input, its sink, its stats and its opts
 * for its duration; calls on different inputs may run on different threads
 * (ceptord hosts each feed as a thread).  A struct cep_feed_reports may be
 * shared by consecutive calls of one thread only.
 */
#ifndef CEPTOR_COLLECTORS_FEED_H
#define CEPTOR_COLLECTORS_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ceptor/collector.h"

enum cep_feed_format {
	CEP_FEED_NONE = 0,
	CEP_FEED_JSONL,
	CEP_FEED_CSV,    /* "csv-shadowserver" */
	CEP_FEED_IPLIST,
	CEP_FEED_REPORT,
	CEP_FEED_REDIS,
	CEP_FEED_FORMAT_COUNT
};

struct cep_feed_stats {
	uint64_t read;      /* data rows, list entries, reports, stream entries */
	uint64_t decoded;   /* of those, the ones that became events */
	uint64_t malformed; /* reported and skipped */
	uint64_t bytes;     /* bytes of input */
	uint64_t files;     /* files (or streams) opened */
	uint64_t files_failed; /* could not be opened, or unusable as a whole */
	uint64_t cut;       /* events whose name was cut, or whose over-long
			     * indicator was left out, to fit the record */
	uint64_t skipped;   /* files of a directory already read before */
};

/* Malformed rows reported per file; the rest are only counted. */
#define CEP_FEED_REPORT_MAX 10

/* The longest CSV record (a quoted field may span lines) and report. */
#define CEP_FEED_CSV_RECORD_MAX (64 * 1024)
#define CEP_FEED_REPORT_INPUT_MAX (16 * 1024 * 1024)

/* How often, at most, a follow loop looks at opts.stop (milliseconds). */
#define CEP_FEED_POLL_MS 500

struct cep_feed_reports;

/*
 * Options; a zeroed struct (or NULL where a pointer is taken) means the
 * defaults given here.
 */
struct cep_feed_opts {
	/* csv-shadowserver: the report type of every input ("scan_telnet");
	 * NULL: from the file name, else from the header. */
	const char *csv_report;
	/* Directories: where the names of the files already read are kept
	 * (NULL: DIR/.ceptor-feed.state when following, none otherwise).
	 * redis: where the last id read is kept (NULL: nowhere). */
	const char *state_path;
	/* redis: the id to read after ("0": everything, the default; "$":
	 * only what arrives from now on).  A state file wins over it. */
	const char *start_id;
	/* Directories: keep watching for new files (inotify); redis: keep
	 * reading new entries.  Both end when *stop becomes non-zero. */
	int follow;
	const volatile int *stop; /* read with __atomic_load_n (relaxed) */
	/* Called about every 256 KiB of a file and at its end, with the file
	 * size (0 when unknown, as for a pipe).  For a progress line. */
	void (*progress)(void *arg, const char *name, uint64_t done,
			 uint64_t total);
	void *progress_arg;
	/* Called by the follow loops (directories, redis) on the reading
	 * thread each time they wake, so at least every CEP_FEED_POLL_MS
	 * while nothing arrives: for a heartbeat (cep_cli_tick_fn()). */
	void (*tick)(void *arg);
	void *tick_arg;
	/* report: the table updates merge into; NULL: one per call. */
	struct cep_feed_reports *reports;
};

/*
 * cep_feed_format_parse - a format's value from its name ("jsonl",
 * "csv-shadowserver" (also "csv"), "iplist", "report", "redis").
 * Returns the enum cep_feed_format value (> 0) or -CEP_EUNKNOWN.
 * cep_feed_format_name - the canonical name; "" for 0, "?" out of range.
 */
int cep_feed_format_parse(const char *name);
const char *cep_feed_format_name(int format);

/*
 * cep_feed_read - read one input of @format into @sink.
 * @path: a file, "-" (standard input), a directory, or for redis a URL.
 * @opts: may be NULL (defaults).
 * @diag: per-row and per-file messages; NULL: stderr.
 * Each event keeps what its input says; the source's defaults fill the
 * rest (cep_source_stamp), and its name is used only where the input
 * names no source (a jsonl event keeps its own).
 * Returns 0 when the input was read to its end (even with bad rows; a
 * directory even when some of its files failed, which are counted in
 * files_failed), -errno when it could not be opened or read,
 * -CEP_EMALFORMED when a file was unusable as a whole (a CSV without a
 * header), -CEP_EREDIS when Redis failed, -EINVAL for a bad format or URL,
 * or the sink's negative error, which stops the read.
 */
int cep_feed_read(int format, const char *path,
		  const struct cep_feed_opts *opts,
		  const struct cep_source *src, const struct cep_sink *sink,
		  struct cep_feed_stats *st, FILE *diag);

/*
 * cep_feed_parse - the parser of a file format (not redis) over a buffer.
 * @name: the name used in messages and, for csv-shadowserver, to tell the
 *        report type (as a file name would).
 * Same results as cep_feed_read() on a file holding @buf; borrows @buf.
 */
int cep_feed_parse(int format, const char *name, const char *buf,
		   size_t len, const struct cep_feed_opts *opts,
		   const struct cep_source *src, const struct cep_sink *sink,
		   struct cep_feed_stats *st, FILE *diag);

/*
 * The readers by format, with default options; each is cep_feed_read()
 * with that format and NULL opts.
 */
int cep_feed_read_jsonl(const char *path, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag);
int cep_feed_read_csv(const char *path, const struct cep_source *src,
		      const struct cep_sink *sink, struct cep_feed_stats *st,
		      FILE *diag);
int cep_feed_read_iplist(const char *path, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_feed_stats *st, FILE *diag);
int cep_feed_read_report(const char *path, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_feed_stats *st, FILE *diag);
int cep_feed_read_redis(const char *url, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag);

/*
 * Operator reports that update each other (same report_id) are merged: the
 * event of an update carries what the earlier reports said and the update
 * did not change.  The table remembers the last CEP_FEED_REPORTS_MAX
 * report ids (the oldest is forgotten first).
 * cep_feed_reports_create - returns a new table, or NULL without memory;
 * release it with cep_feed_reports_destroy(), which accepts NULL.
 */
#define CEP_FEED_REPORTS_MAX 4096
struct cep_feed_reports *cep_feed_reports_create(void);
void cep_feed_reports_destroy(struct cep_feed_reports *t);

/*
 * cep_feed_csv_report_known - whether @name is a report type the CSV
 * reader maps (for the --report option's check).
 */
int cep_feed_csv_report_known(const char *name);

#endif /* CEPTOR_COLLECTORS_FEED_H */
