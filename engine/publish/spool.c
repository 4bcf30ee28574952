/*
 * spool.c - see spool.h for the file layout and the policies.
 *
 * Reading goes through one window buffer (rbuf) filled with pread(2), so a
 * replay costs about one system call per 256 KiB rather than two per record.
 * Writing goes through an append buffer (wbuf) written with pwrite(2) at the
 * known end of the file; the file is not opened O_APPEND because open()
 * may cut a damaged tail, and the end is then ours to track.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "lib/log.h"
#include "publish/spool.h"

#define SPOOL_MAGIC "CEPSPOOL"
#define SPOOL_VERSION 1u
#define READ_WINDOW (256u << 10)
#define WRITE_FLUSH (1u << 20)

struct cep_spool {
	int fd;
	char *path;
	uint64_t max_bytes;
	uint64_t file_bytes;   /* bytes written to the file */
	uint64_t head;         /* first record not yet consumed */
	uint64_t mark;         /* end of the record being replayed */
	char *wbuf;            /* records appended, not yet written */
	size_t wlen, wcap;
	uint64_t refused;
	int full_reported;
	int open_damage;
	uint64_t open_damage_off;
	int replay_damage;
	/* Read window: rbuf holds file bytes [boff, boff + blen). */
	char *rbuf;
	size_t rcap, blen;
	uint64_t boff;
	/* One record's strings, NUL-terminated, for the callback. */
	char *sbuf;
	size_t scap;
	const char **argv;
	size_t *argvlen;
	size_t acap;
};

/* --- CRC-32 ----------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t cep_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* --- little helpers ------------------------------------------------------ */

static void put32(char *p, uint32_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)((v >> 24) & 0xff);
}

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	       (uint32_t)u[3] << 24;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	char *b = realloc(*buf, n);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

static int write_all(int fd, const char *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int write_header(struct cep_spool *s)
{
	char h[CEP_SPOOL_HEADER];
	memcpy(h, SPOOL_MAGIC, 8);
	put32(h + 8, SPOOL_VERSION);
	put32(h + 12, 0);
	int rc = write_all(s->fd, h, sizeof h, 0);
	if (rc == 0)
		s->file_bytes = s->head = CEP_SPOOL_HEADER;
	return rc;
}

static int flush_wbuf(struct cep_spool *s)
{
	if (!s->wlen)
		return 0;
	int rc = write_all(s->fd, s->wbuf, s->wlen, s->file_bytes);
	if (rc)
		return rc;
	s->file_bytes += s->wlen;
	s->wlen = 0;
	s->blen = 0; /* the read window may now be stale */
	return 0;
}

/*
 * Make file bytes [off, off + need) available; returns how many of them are
 * (fewer at the end of the file) and points *p at them, or -errno.
 */
static ssize_t view(struct cep_spool *s, uint64_t off, size_t need,
		    const char **p)
{
	if (off >= s->boff && off + need <= s->boff + s->blen) {
		*p = s->rbuf + (off - s->boff);
		return (ssize_t)need;
	}
	size_t want = need > READ_WINDOW ? need : READ_WINDOW;
	if (grow(&s->rbuf, &s->rcap, want))
		return -ENOMEM;
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(s->fd, s->rbuf + got, want - got,
				  (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			s->blen = 0;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	s->boff = off;
	s->blen = got;
	*p = s->rbuf;
	return (ssize_t)(got < need ? got : need);
}

/* Split one checked payload into the argv arrays; 0 or -CEP_EMALFORMED. */
static int split(struct cep_spool *s, const char *pl, uint32_t len,
		 size_t *argc_out)
{
	if (len < 4)
		return -CEP_EMALFORMED;
	uint32_t argc = get32(pl);
	if (argc == 0 || argc > CEP_SPOOL_MAX_ARGS)
		return -CEP_EMALFORMED;
	if (argc > s->acap) {
		const char **a = realloc(s->argv, argc * sizeof *a);
		if (!a)
			return -ENOMEM;
		s->argv = a;
		size_t *l = realloc(s->argvlen, argc * sizeof *l);
		if (!l)
			return -ENOMEM;
		s->argvlen = l;
		s->acap = argc;
	}
	if (grow(&s->sbuf, &s->scap, (size_t)len + argc))
		return -ENOMEM;
	size_t pos = 4, out = 0;
	for (uint32_t i = 0; i < argc; i++) {
		if (len - pos < 4)
			return -CEP_EMALFORMED;
		uint32_t n = get32(pl + pos);
		pos += 4;
		if (len - pos < n)
			return -CEP_EMALFORMED;
		memcpy(s->sbuf + out, pl + pos, n);
		s->sbuf[out + n] = '\0';
		s->argvlen[i] = n;
		/* Pointers are set below: sbuf does not move after grow(). */
		pos += n;
		out += n + 1;
	}
	if (pos != len)
		return -CEP_EMALFORMED;
	out = 0;
	for (uint32_t i = 0; i < argc; i++) {
		s->argv[i] = s->sbuf + out;
		out += s->argvlen[i] + 1;
	}
	*argc_out = argc;
	return 0;
}

/*
 * Walk the records from byte offset `from` (a record boundary: the header's
 * end or a consumed mark).  fn may be NULL (a scan).  *good_end receives
 * the end of the last good record (0 when even the header is bad).
 */
static int walk(struct cep_spool *s, uint64_t from, cep_spool_replay_fn fn,
		void *arg, struct cep_spool_replay_result *res,
		uint64_t *good_end)
{
	const char *p;
	uint64_t end = s->file_bytes;
	ssize_t n;

	memset(res, 0, sizeof *res);
	*good_end = 0;
	s->blen = 0;
	n = view(s, 0, CEP_SPOOL_HEADER, &p);
	if (n < 0)
		return (int)n;
	if ((size_t)n < CEP_SPOOL_HEADER || memcmp(p, SPOOL_MAGIC, 8) ||
	    get32(p + 8) != SPOOL_VERSION) {
		res->damage = (size_t)n < CEP_SPOOL_HEADER ? -CEP_ETRUNCATED
							   : -CEP_EMALFORMED;
		res->bad_offset = 0;
		return 0;
	}
	uint64_t off = from > CEP_SPOOL_HEADER ? from : CEP_SPOOL_HEADER;
	*good_end = off;
	while (off < end) {
		if (end - off < 8) {
			res->damage = -CEP_ETRUNCATED;
			break;
		}
		n = view(s, off, 8, &p);
		if (n < 0)
			return (int)n;
		if (n < 8) {
			res->damage = -CEP_ETRUNCATED;
			break;
		}
		uint32_t len = get32(p), crc = get32(p + 4);
		if (len > CEP_SPOOL_MAX_RECORD) {
			res->damage = -CEP_EMALFORMED;
			break;
		}
		if (end - off - 8 < len) {
			res->damage = -CEP_ETRUNCATED;
			break;
		}
		n = view(s, off + 8, len, &p);
		if (n < 0)
			return (int)n;
		if ((size_t)n < len) {
			res->damage = -CEP_ETRUNCATED;
			break;
		}
		if (cep_crc32(0, p, len) != crc) {
			res->damage = -CEP_EMALFORMED;
			break;
		}
		size_t argc;
		int rc = split(s, p, len, &argc);
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			res->damage = rc;
			break;
		}
		if (fn) {
			s->mark = off + 8 + (uint64_t)len;
			rc = fn(arg, argc, s->argv, s->argvlen);
			if (rc < 0)
				return rc;
		}
		res->records++;
		off += 8 + (uint64_t)len;
		*good_end = off;
	}
	if (res->damage)
		res->bad_offset = off;
	return 0;
}

static void report_damage(const struct cep_spool *s, int damage, uint64_t off)
{
	cep_error("spool %s: %s record at byte offset %llu; it and every "
		  "record after it are given up",
		  s->path,
		  damage == -CEP_ETRUNCATED ? "torn (truncated)" : "corrupt",
		  (unsigned long long)off);
}

/* Copy the whole file to PATH.corrupt-UNIXTIME for a human to look at. */
static void copy_aside(struct cep_spool *s)
{
	char dst[4096];
	snprintf(dst, sizeof dst, "%s.corrupt-%lld", s->path,
		 (long long)time(NULL));
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		cep_error("spool %s: cannot keep a copy as %s: %s", s->path,
			  dst, strerror(errno));
		return;
	}
	char buf[65536];
	uint64_t off = 0;
	for (;;) {
		ssize_t r = pread(s->fd, buf, sizeof buf, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (write_all(out, buf, (size_t)r, off))
			break;
		off += (uint64_t)r;
	}
	fsync(out);
	close(out);
	cep_error("spool %s: damaged file copied to %s", s->path, dst);
}

/* Keep only the records before good_end. */
static int cut(struct cep_spool *s, uint64_t good_end)
{
	if (good_end < CEP_SPOOL_HEADER) {
		if (ftruncate(s->fd, 0))
			return -errno;
		int rc = write_header(s);
		if (rc)
			return rc;
	} else {
		if (ftruncate(s->fd, (off_t)good_end))
			return -errno;
		s->file_bytes = good_end;
		if (s->head > good_end)
			s->head = good_end;
	}
	s->blen = 0;
	if (fdatasync(s->fd))
		return -errno;
	return 0;
}

/* --- public functions ----------------------------------------------------- */

int cep_spool_open(const char *dir, uint64_t max_bytes, struct cep_spool **out)
{
	struct cep_spool *s;
	struct stat st;
	int rc;

	*out = NULL;
	if (!dir || !*dir)
		return -EINVAL;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->max_bytes = max_bytes;
	size_t plen = strlen(dir) + sizeof "/" CEP_SPOOL_FILE;
	s->path = malloc(plen);
	if (!s->path) {
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(s->path, plen, "%s/%s", dir, CEP_SPOOL_FILE);
	s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	if (fstat(s->fd, &st)) {
		rc = -errno;
		goto fail;
	}
	s->file_bytes = (uint64_t)st.st_size;
	if (s->file_bytes == 0) {
		rc = write_header(s);
		if (rc)
			goto fail;
	} else {
		struct cep_spool_replay_result res;
		uint64_t good_end;
		s->head = CEP_SPOOL_HEADER;
		rc = walk(s, CEP_SPOOL_HEADER, NULL, NULL, &res, &good_end);
		if (rc)
			goto fail;
		if (res.damage) {
			s->open_damage = res.damage;
			s->open_damage_off = res.bad_offset;
			report_damage(s, res.damage, res.bad_offset);
			copy_aside(s);
			rc = cut(s, good_end);
			if (rc)
				goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	cep_spool_close(s);
	return rc;
}

int cep_spool_append(struct cep_spool *s, size_t argc,
		     const char *const *argv, const size_t *argvlen)
{
	if (argc == 0 || argc > CEP_SPOOL_MAX_ARGS)
		return -EINVAL;
	uint64_t plen = 4;
	for (size_t i = 0; i < argc; i++)
		plen += 4 + (uint64_t)argvlen[i];
	if (plen > CEP_SPOOL_MAX_RECORD)
		return -EINVAL;
	size_t rec = 8 + (size_t)plen;
	if (s->max_bytes && cep_spool_bytes(s) + rec > s->max_bytes) {
		s->refused++;
		if (!s->full_reported) {
			s->full_reported = 1;
			cep_error("spool %s is FULL (%llu bytes, ceiling %llu): "
				  "messages are being LOST from now on until "
				  "Redis is back and the spool is replayed",
				  s->path,
				  (unsigned long long)cep_spool_bytes(s),
				  (unsigned long long)s->max_bytes);
		}
		return -ENOSPC;
	}
	if (grow(&s->wbuf, &s->wcap, s->wlen + rec))
		return -ENOMEM;
	char *p = s->wbuf + s->wlen;
	char *pl = p + 8;
	size_t pos = 4;
	put32(pl, (uint32_t)argc);
	for (size_t i = 0; i < argc; i++) {
		put32(pl + pos, (uint32_t)argvlen[i]);
		memcpy(pl + pos + 4, argv[i], argvlen[i]);
		pos += 4 + argvlen[i];
	}
	put32(p, (uint32_t)plen);
	put32(p + 4, cep_crc32(0, pl, (size_t)plen));
	s->wlen += rec;
	if (s->wlen >= WRITE_FLUSH)
		return flush_wbuf(s);
	return 0;
}

int cep_spool_sync(struct cep_spool *s)
{
	int rc = flush_wbuf(s);
	if (rc)
		return rc;
	if (fdatasync(s->fd))
		return -errno;
	return 0;
}

int cep_spool_replay(struct cep_spool *s, cep_spool_replay_fn fn, void *arg,
		     struct cep_spool_replay_result *res)
{
	struct cep_spool_replay_result local;
	uint64_t good_end;
	int rc;

	if (!res)
		res = &local;
	rc = flush_wbuf(s);
	if (rc)
		return rc;
	rc = walk(s, s->head, fn, arg, res, &good_end);
	s->mark = 0;
	if (rc == 0 && res->damage) {
		s->replay_damage = res->damage;
		report_damage(s, res->damage, res->bad_offset);
	}
	return rc;
}

uint64_t cep_spool_replay_mark(const struct cep_spool *s)
{
	return s->mark;
}

void cep_spool_consume(struct cep_spool *s, uint64_t mark)
{
	if (mark < s->head || mark > s->file_bytes) {
		cep_error("spool %s: consume to %llu outside [%llu, %llu]",
			  s->path, (unsigned long long)mark,
			  (unsigned long long)s->head,
			  (unsigned long long)s->file_bytes);
		abort(); /* a mark we never handed out: a bug */
	}
	s->head = mark;
}

int cep_spool_truncate(struct cep_spool *s)
{
	s->wlen = 0;
	if (s->replay_damage)
		copy_aside(s);
	int rc = cut(s, 0);
	if (rc)
		return rc;
	s->replay_damage = 0;
	s->full_reported = 0;
	return 0;
}

uint64_t cep_spool_bytes(const struct cep_spool *s)
{
	return s->file_bytes + s->wlen;
}

int cep_spool_pending(const struct cep_spool *s)
{
	return cep_spool_bytes(s) > s->head;
}

uint64_t cep_spool_refused(const struct cep_spool *s)
{
	return s->refused;
}

int cep_spool_open_damage(const struct cep_spool *s, uint64_t *offset)
{
	if (offset)
		*offset = s->open_damage_off;
	return s->open_damage;
}

const char *cep_spool_path(const struct cep_spool *s)
{
	return s->path;
}

void cep_spool_close(struct cep_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		if (flush_wbuf(s))
			cep_error("spool %s: %zu buffered bytes could not be "
				  "written at close", s->path, s->wlen);
		close(s->fd); /* releases the flock */
	}
	free(s->path);
	free(s->wbuf);
	free(s->rbuf);
	free(s->sbuf);
	free(s->argv);
	free(s->argvlen);
	free(s);
}
