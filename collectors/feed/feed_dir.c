/*
 * feed_dir.c - directories of feed files, read once each and watched for
 * new ones (feed.h).
 *
 * The regular files of the directory are read in name order.  Names that
 * start with '.' or end in ".tmp", ".part" or "~" are skipped: they are
 * hidden or still being written; a writer should write elsewhere (or under
 * such a name) and rename into place.
 *
 * With opts->follow (or an explicit opts->state_path) every file read to
 * its end is recorded in a state file, by name, size and modification
 * time, so that a restart does not read it again and a file replaced by a
 * new one of the same name is read again.  The default state file is
 * DIR/.ceptor-feed.state.  A line is appended (and fdatasync'd) after each
 * file, once its events were handed to the sink; a crash in the middle of
 * a file therefore reads that file again (at least once, never lost).
 * When the state cannot be written (a read-only directory) this is said
 * once and the files are still read.
 *
 * Watching (opts->follow) uses inotify for files closed after writing
 * (IN_CLOSE_WRITE) or moved in (IN_MOVED_TO); the watch is set before the
 * first scan, so a file that arrives during the scan is not missed (the
 * state keeps it from being read twice).  The loop wakes at least every
 * CEP_FEED_POLL_MS to look at opts->stop.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"
#include "lib/hash.h"

#define STATE_NAME ".ceptor-feed.state"

/* The set of files already read: an open-addressing table of key strings
 * (in memory only: the state file holds the keys, not their hashes). */
struct done {
	char **slot;
	size_t nslots, n;
};

static int done_has(const struct done *d, const char *key)
{
	if (!d->nslots)
		return 0;
	for (size_t i = cep_hash_str(key, 0) & (d->nslots - 1); d->slot[i];
	     i = (i + 1) & (d->nslots - 1))
		if (strcmp(d->slot[i], key) == 0)
			return 1;
	return 0;
}

static int done_add(struct done *d, const char *key)
{
	if ((d->n + 1) * 2 > d->nslots) {
		size_t ns = d->nslots ? d->nslots * 2 : 64;
		char **s = calloc(ns, sizeof *s);
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < d->nslots; i++) {
			if (!d->slot[i])
				continue;
			size_t j = cep_hash_str(d->slot[i], 0) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = d->slot[i];
		}
		free(d->slot);
		d->slot = s;
		d->nslots = ns;
	}
	char *k = strdup(key);
	if (!k)
		return -ENOMEM;
	size_t i = cep_hash_str(key, 0) & (d->nslots - 1);
	while (d->slot[i])
		i = (i + 1) & (d->nslots - 1);
	d->slot[i] = k;
	d->n++;
	return 0;
}

static void done_fini(struct done *d)
{
	for (size_t i = 0; i < d->nslots; i++)
		free(d->slot[i]);
	free(d->slot);
}

struct dirctx {
	const char *dir;
	cep__feed_parse_fn parse;
	const struct cep_feed_opts *opts;
	const struct cep_source *src;
	const struct cep_sink *sink;
	struct cep_feed_stats *st;
	FILE *diag;
	struct done done;
	FILE *state;          /* append; NULL without state */
	const char *state_base; /* its name, when it lives in dir */
};

static int skip_name(const struct dirctx *x, const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.' || !n || name[n - 1] == '~')
		return 1;
	if ((n > 4 && strcmp(name + n - 4, ".tmp") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".part") == 0))
		return 1;
	return x->state_base && strcmp(name, x->state_base) == 0;
}

/* Read one file of the directory unless it was read before.  Returns 0,
 * or a sink's (or memory) error that ends the whole directory. */
static int one(struct dirctx *x, const char *name)
{
	char path[4096], key[4200];
	struct stat sb;
	int rc;

	if (skip_name(x, name) || strchr(name, '\n'))
		return 0;
	if (snprintf(path, sizeof path, "%s/%s", x->dir, name) >= (int)sizeof path)
		return 0;
	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return 0;
	snprintf(key, sizeof key, "%" PRIu64 " %lld.%09ld %s",
		 (uint64_t)sb.st_size, (long long)sb.st_mtim.tv_sec,
		 sb.st_mtim.tv_nsec, name);
	if (done_has(&x->done, key)) {
		x->st->skipped++;
		return 0;
	}
	rc = cep__feed_file(path, x->parse, x->opts, x->src, x->sink, x->st,
			    x->diag);
	switch (rc) {
	case 0:
	case -CEP_EMALFORMED:
		break; /* read (or unusable): done with it */
	case -ENOENT:
	case -EACCES:
	case -EISDIR:
		return 0; /* gone or not ours: not recorded, maybe later */
	default:
		return rc;
	}
	if ((rc = done_add(&x->done, key)))
		return rc;
	if (x->state) {
		fprintf(x->state, "%s\n", key);
		if (fflush(x->state) || fdatasync(fileno(x->state))) {
			fprintf(x->diag, "%s: cannot record progress: %s\n",
				x->dir, strerror(errno));
			fclose(x->state);
			x->state = NULL;
		}
	}
	return 0;
}

static int skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int scan(struct dirctx *x)
{
	struct dirent **list;
	int n = scandir(x->dir, &list, skip_entry, alphasort), rc = 0;

	if (n < 0) {
		rc = -errno;
		fprintf(x->diag, "%s: cannot list: %s\n", x->dir, strerror(errno));
		x->st->files_failed++;
		return rc;
	}
	for (int i = 0; i < n; i++) {
		if (!rc)
			rc = one(x, list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return rc;
}

static int watch(struct dirctx *x, int fd)
{
	char buf[16 * 1024] __attribute__((aligned(8)));
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	while (!(x->opts->stop &&
		 __atomic_load_n(x->opts->stop, __ATOMIC_RELAXED))) {
		if (x->opts->tick)
			x->opts->tick(x->opts->tick_arg);
		int pr = poll(&pfd, 1, CEP_FEED_POLL_MS);
		if (pr < 0 && errno != EINTR)
			return -errno;
		if (pr <= 0)
			continue;
		ssize_t got = read(fd, buf, sizeof buf);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t off = 0; off < got;) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(buf + off);
			off += (ssize_t)(sizeof *ev + ev->len);
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: look at everything. */
				if ((rc = scan(x)))
					return rc;
				continue;
			}
			if (ev->len && !(ev->mask & IN_ISDIR) &&
			    (rc = one(x, ev->name)))
				return rc;
		}
	}
	return 0;
}

int cep__feed_dir(const char *dir, cep__feed_parse_fn parse,
		  const struct cep_feed_opts *opts,
		  const struct cep_source *src, const struct cep_sink *sink,
		  struct cep_feed_stats *st, FILE *diag)
{
	struct dirctx x = {
		.dir = dir, .parse = parse, .opts = opts, .src = src,
		.sink = sink, .st = st, .diag = diag,
	};
	char path[4096];
	const char *state = opts->state_path;
	int fd = -1, rc = 0;

	if (!state && opts->follow) {
		snprintf(path, sizeof path, "%s/%s", dir, STATE_NAME);
		state = path;
	}
	if (state) {
		const char *slash = strrchr(state, '/');
		size_t dl = strlen(dir);
		/* The state file is not a feed file, should it live here. */
		if (slash && (size_t)(slash - state) == dl &&
		    strncmp(state, dir, dl) == 0)
			x.state_base = slash + 1;
		else if (!slash)
			x.state_base = state;
		FILE *f = fopen(state, "r");
		if (f) {
			char line[4300];
			while (fgets(line, sizeof line, f)) {
				line[strcspn(line, "\n")] = '\0';
				if (line[0] && (rc = done_add(&x.done, line)))
					break;
			}
			fclose(f);
		}
		if (!rc && !(x.state = fopen(state, "a")))
			fprintf(diag, "%s: cannot write: %s; files will be "
				"read again after a restart\n", state,
				strerror(errno));
	}
	if (!rc && opts->follow) {
		fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0 || inotify_add_watch(fd, dir, IN_CLOSE_WRITE |
						IN_MOVED_TO) < 0) {
			rc = -errno;
			fprintf(diag, "%s: cannot watch: %s\n", dir, strerror(errno));
			st->files_failed++;
		}
	}
	if (!rc)
		rc = scan(&x);
	if (!rc && fd >= 0)
		rc = watch(&x, fd);
	if (fd >= 0)
		close(fd);
	if (x.state)
		fclose(x.state);
	done_fini(&x.done);
	return rc;
}
