/*
 * feed.c - the feed collector's dispatch, its line source and its batching
 * event front (feed.h, feed_priv.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"
#include "lib/clock.h"

#define PROGRESS_STEP (256 * 1024)
#define READ_CHUNK (64 * 1024)

/* ---- formats ----------------------------------------------------------- */

static const char *const format_names[CEP_FEED_FORMAT_COUNT] = {
	[CEP_FEED_NONE] = "", [CEP_FEED_JSONL] = "jsonl",
	[CEP_FEED_CSV] = "csv-shadowserver", [CEP_FEED_IPLIST] = "iplist",
	[CEP_FEED_REPORT] = "report", [CEP_FEED_REDIS] = "redis",
};

int cep_feed_format_parse(const char *name)
{
	if (!name)
		return -CEP_EUNKNOWN;
	for (int i = 1; i < CEP_FEED_FORMAT_COUNT; i++)
		if (strcmp(name, format_names[i]) == 0)
			return i;
	if (strcmp(name, "csv") == 0)
		return CEP_FEED_CSV;
	return -CEP_EUNKNOWN;
}

const char *cep_feed_format_name(int format)
{
	if (format < 0 || format >= CEP_FEED_FORMAT_COUNT)
		return "?";
	return format_names[format];
}

static cep__feed_parse_fn parser_of(int format)
{
	switch (format) {
	case CEP_FEED_JSONL: return cep__feed_parse_jsonl;
	case CEP_FEED_CSV: return cep__feed_parse_csv;
	case CEP_FEED_IPLIST: return cep__feed_parse_iplist;
	case CEP_FEED_REPORT: return cep__feed_parse_report;
	default: return NULL;
	}
}

/* Reports gather their whole input, which has its own, larger bound; a
 * report may be one minified line. */
static size_t line_max_of(cep__feed_parse_fn parse)
{
	return parse == cep__feed_parse_report ? CEP_FEED_REPORT_INPUT_MAX
					       : CEP_FEED_LINE_MAX;
}

static const struct cep_feed_opts no_opts;

int cep_feed_read(int format, const char *path,
		  const struct cep_feed_opts *opts,
		  const struct cep_source *src, const struct cep_sink *sink,
		  struct cep_feed_stats *st, FILE *diag)
{
	struct stat sb;

	if (!opts)
		opts = &no_opts;
	if (!diag)
		diag = stderr;
	if (format == CEP_FEED_REDIS)
		return cep__feed_redis(path, opts, src, sink, st, diag);
	cep__feed_parse_fn parse = parser_of(format);
	if (!parse) {
		fprintf(diag, "%s: unknown feed format %d\n", path, format);
		return -EINVAL;
	}
	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return cep__feed_dir(path, parse, opts, src, sink, st, diag);
	return cep__feed_file(path, parse, opts, src, sink, st, diag);
}

int cep_feed_parse(int format, const char *name, const char *buf,
		   size_t len, const struct cep_feed_opts *opts,
		   const struct cep_source *src, const struct cep_sink *sink,
		   struct cep_feed_stats *st, FILE *diag)
{
	cep__feed_parse_fn parse = parser_of(format);
	struct cep__feed_in in;
	struct cep__feed_out *out;

	if (!parse)
		return -EINVAL;
	if (!opts)
		opts = &no_opts;
	if (!diag)
		diag = stderr;
	/* The batch is 16 KiB; keep it off small (fuzzer) stacks. */
	out = malloc(sizeof *out);
	if (!out)
		return -ENOMEM;
	memset(&in, 0, sizeof in);
	in.name = name;
	in.p = buf;
	in.end = buf + len;
	in.total = len;
	in.mtime = cep_clock_wall_ns();
	in.opts = opts;
	in.st = st;
	in.out = out;
	in.line_max = line_max_of(parse);
	cep__feed_out_init(out, name, src, sink, st, diag);
	st->files++;
	int rc = parse(&in, out, opts);
	if (rc == 0)
		rc = cep_batch_flush(&out->batch);
	free(out);
	return rc;
}

int cep__feed_file(const char *path, cep__feed_parse_fn parse,
		   const struct cep_feed_opts *opts,
		   const struct cep_source *src, const struct cep_sink *sink,
		   struct cep_feed_stats *st, FILE *diag)
{
	int is_stdin = strcmp(path, "-") == 0;
	struct cep__feed_in in;
	struct cep__feed_out *out;
	struct stat sb;
	int rc;

	memset(&in, 0, sizeof in);
	in.name = is_stdin ? "<stdin>" : path;
	in.f = is_stdin ? stdin : fopen(path, "rb");
	if (!in.f) {
		rc = -errno;
		fprintf(diag, "%s: cannot open: %s\n", path, strerror(errno));
		st->files_failed++;
		return rc;
	}
	if (fstat(fileno(in.f), &sb) == 0 && S_ISREG(sb.st_mode)) {
		in.regular = 1;
		in.total = (uint64_t)sb.st_size;
		in.mtime = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
			   (uint64_t)sb.st_mtim.tv_nsec;
	} else {
		in.mtime = cep_clock_wall_ns();
	}
	in.opts = opts;
	in.st = st;
	out = malloc(sizeof *out);
	if (!out) {
		if (!is_stdin)
			fclose(in.f);
		return -ENOMEM;
	}
	in.out = out;
	in.line_max = line_max_of(parse);
	cep__feed_out_init(out, in.name, src, sink, st, diag);
	st->files++;
	rc = parse(&in, out, opts);
	if (rc == 0)
		rc = cep_batch_flush(&out->batch);
	if (rc == -CEP_EMALFORMED)
		st->files_failed++;
	if (opts->progress)
		opts->progress(opts->progress_arg, in.name, in.done,
			       in.total ? in.total : in.done);
	free(in.line);
	free(in.rbuf);
	free(out);
	if (!is_stdin)
		fclose(in.f);
	return rc;
}

/* ---- the line source --------------------------------------------------- */

/* Refill the read buffer.  Returns the bytes read, 0 at the end, -EIO. */
static ssize_t refill(struct cep__feed_in *in)
{
	ssize_t got;

	if (!in->rbuf && !(in->rbuf = malloc(READ_CHUNK)))
		return -ENOMEM;
	/* read(2), not fread(): a pipe's lines are handed out as they come,
	 * not when a whole chunk has arrived.  Before a read that would wait
	 * (a pipe or terminal with nothing more yet), the events gathered so
	 * far go to the sink: a live stream never sits in a half-full batch. */
	if (!in->regular && in->out && in->out->batch.n) {
		struct pollfd pfd = { .fd = fileno(in->f), .events = POLLIN };

		if (poll(&pfd, 1, 0) == 0) {
			int rc = cep_batch_flush(&in->out->batch);

			if (rc < 0)
				return rc;
		}
	}
	do
		got = read(fileno(in->f), in->rbuf, READ_CHUNK);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -EIO;
	in->rpos = 0;
	in->rlen = (size_t)got;
	return got;
}

/*
 * Read the next line of a file into in->line, NUL-terminated, keeping at
 * most @max bytes of content and a CRLF.  Returns 1 with *n the bytes the
 * line took in the file (its break included) and *kept 0 when it was too
 * long to keep; 0 at the end; -EIO or -ENOMEM.  A longer line is read
 * through to its break and dropped as it goes: what is buffered stays
 * bounded however long the line is.
 */
static int file_line(struct cep__feed_in *in, size_t max, size_t *n,
		     int *kept)
{
	size_t len = 0, took = 0;
	int keep = 1;

	for (;;) {
		if (in->rpos == in->rlen) {
			ssize_t got = refill(in);
			if (got < 0)
				return (int)got;
			if (got == 0)
				break;
		}
		const char *p = in->rbuf + in->rpos;
		size_t avail = in->rlen - in->rpos;
		const char *nl = memchr(p, '\n', avail);
		size_t k = nl ? (size_t)(nl - p) + 1 : avail;

		in->rpos += k;
		took += k;
		if (keep && len + k > max + 2) {
			keep = 0; /* more than max bytes before any CRLF */
		} else if (keep) {
			if (len + k + 1 > in->cap) {
				size_t cap = in->cap ? in->cap : 4096;
				while (cap < len + k + 1)
					cap *= 2;
				if (cap > max + 3)
					cap = max + 3;
				char *b = realloc(in->line, cap);
				if (!b)
					return -ENOMEM;
				in->line = b;
				in->cap = cap;
			}
			memcpy(in->line + len, p, k);
			len += k;
		}
		if (nl)
			break;
	}
	if (took == 0)
		return 0;
	if (keep)
		in->line[len] = '\0';
	*n = took;
	*kept = keep;
	return 1;
}

int cep__feed_line(struct cep__feed_in *in, const char **line, size_t *len)
{
	size_t max = in->line_max ? in->line_max : CEP_FEED_LINE_MAX;
	size_t n, content;
	int kept, rc;

	for (;;) {
		if (in->f) {
			rc = file_line(in, max, &n, &kept);
			if (rc <= 0)
				return rc;
			*line = in->line;
		} else {
			if (in->p >= in->end)
				return 0;
			const char *nl = memchr(in->p, '\n',
						(size_t)(in->end - in->p));
			n = nl ? (size_t)(nl - in->p) + 1
			       : (size_t)(in->end - in->p);
			*line = in->p;
			in->p += n;
			kept = 1;
		}
		in->lineno++;
		in->done += n;
		in->st->bytes += n;
		if (in->opts->progress && in->done >= in->next_progress) {
			in->next_progress = in->done + PROGRESS_STEP;
			in->opts->progress(in->opts->progress_arg, in->name,
					   in->done, in->total);
		}
		content = n;
		if (kept) {
			if (content && (*line)[content - 1] == '\n')
				content--;
			if (content && (*line)[content - 1] == '\r')
				content--;
		}
		if (kept && content <= max) {
			*len = content;
			return 1;
		}
		/* Never handed to a parser: it is counted and reported here,
		 * and the next line takes its place. */
		if (in->out)
			cep__feed_bad(in->out, in->lineno, "line longer than "
				      "%zu bytes; skipped", max);
		else
			in->st->malformed++;
	}
}

/* ---- the event front --------------------------------------------------- */

void cep__feed_out_init(struct cep__feed_out *o, const char *name,
			const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag)
{
	o->st = st;
	o->diag = diag ? diag : stderr;
	o->name = name;
	o->bad = 0;
	cep_batch_init(&o->batch, src, sink, NULL);
}

int cep__feed_emit(struct cep__feed_out *o)
{
	o->st->decoded++;
	return cep_batch_commit(&o->batch);
}

int cep__feed_bad(struct cep__feed_out *o, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	o->st->malformed++;
	/* Reported once per row up to a limit, then only counted: a broken
	 * file must not flood the log. */
	if (++o->bad > CEP_FEED_REPORT_MAX)
		return 0;
	if (line)
		fprintf(o->diag, "%s:%llu: ", o->name, (unsigned long long)line);
	else
		fprintf(o->diag, "%s: ", o->name);
	va_start(ap, fmt);
	vfprintf(o->diag, fmt, ap);
	va_end(ap);
	fputc('\n', o->diag);
	if (o->bad == CEP_FEED_REPORT_MAX)
		fprintf(o->diag, "%s: further malformed rows are counted, "
			"not shown\n", o->name);
	return 0;
}

void cep__feed_set_cut(struct cep__feed_out *o, char *dst, size_t size,
		       const char *s, size_t n)
{
	if (n >= size) {
		n = size - 1;
		/* Back up over UTF-8 continuation bytes so that the cut
		 * never splits a character. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		o->st->cut++;
	}
	memcpy(dst, s, n);
	memset(dst + n, 0, size - n);
}

/* ---- text helpers ------------------------------------------------------ */

int cep__feed_ieq(const char *a, size_t an, const char *b)
{
	return strlen(b) == an && strncasecmp(a, b, an) == 0;
}

void cep__feed_trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

int cep__feed_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -CEP_EMALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -CEP_EMALFORMED;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -CEP_EMALFORMED;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int cep__feed_time(const char *s, size_t n, uint64_t *ts)
{
	static const char *const utc[] = { "+00:00", "+0000", "+00", " UTC",
					   "UTC" };
	char buf[48];

	if (n < 19 || n >= sizeof buf - 1)
		return -CEP_EMALFORMED;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++) {
		size_t k = strlen(utc[i]);
		if (n > 19 && n - k >= 19 && strcmp(buf + n - k, utc[i]) == 0) {
			n -= k;
			buf[n++] = 'Z';
			buf[n] = '\0';
			break;
		}
	}
	return cep_time_parse(buf, n, ts);
}

int cep__feed_ip(const char *s, size_t n, uint8_t out[16])
{
	char buf[CEP_IP_STRLEN];

	if (n == 0 || n >= sizeof buf)
		return -CEP_EMALFORMED;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return cep_ip_parse(buf, out);
}

/* ---- the readers by format --------------------------------------------- */

int cep_feed_read_jsonl(const char *path, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag)
{
	return cep_feed_read(CEP_FEED_JSONL, path, NULL, src, sink, st, diag);
}

int cep_feed_read_csv(const char *path, const struct cep_source *src,
		      const struct cep_sink *sink, struct cep_feed_stats *st,
		      FILE *diag)
{
	return cep_feed_read(CEP_FEED_CSV, path, NULL, src, sink, st, diag);
}

int cep_feed_read_iplist(const char *path, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_feed_stats *st, FILE *diag)
{
	return cep_feed_read(CEP_FEED_IPLIST, path, NULL, src, sink, st, diag);
}

int cep_feed_read_report(const char *path, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_feed_stats *st, FILE *diag)
{
	return cep_feed_read(CEP_FEED_REPORT, path, NULL, src, sink, st, diag);
}

int cep_feed_read_redis(const char *url, const struct cep_source *src,
			const struct cep_sink *sink, struct cep_feed_stats *st,
			FILE *diag)
{
	return cep_feed_read(CEP_FEED_REDIS, url, NULL, src, sink, st, diag);
}
