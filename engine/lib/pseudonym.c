/*
 * pseudonym.c - keyed reporter pseudonyms (see pseudonym.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/hmac.h"
#include "lib/log.h"
#include "lib/pseudonym.h"

#define SECRET_MAX 4096
#define GENERATED 32
#define CACHE 256 /* entries, a power of two */
#define NAME_MAX_LEN 64

struct cache_ent {
	char raw[NAME_MAX_LEN];
	char shown[40];
};

struct cep_pseudonym {
	uint8_t secret[SECRET_MAX];
	size_t len;
	struct cache_ent cache[CACHE];
};

static int read_secret(struct cep_pseudonym *p, const char *path, char *err,
		       size_t errsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errsize, "%s: cannot read the reporter secret: %s",
			 path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		cep_warn("%s: the reporter secret may be read by group or others "
			 "(chmod 600 it)", path);
	n = read(fd, p->secret, sizeof p->secret);
	close(fd);
	if (n < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (n > 0 && (p->secret[n - 1] == '\n' || p->secret[n - 1] == '\r'))
		n--;
	if (n < CEP_PSEUDONYM_MIN_SECRET) {
		snprintf(err, errsize, "%s: the reporter secret has %zd bytes; at "
			 "least %d are needed (for example: head -c 32 "
			 "/dev/urandom | base64 > FILE)", path, n,
			 CEP_PSEUDONYM_MIN_SECRET);
		return -1;
	}
	p->len = (size_t)n;
	return 0;
}

static int random_secret(struct cep_pseudonym *p, char *err, size_t errsize)
{
	if (getrandom(p->secret, GENERATED, 0) != GENERATED) {
		snprintf(err, errsize, "cannot draw a reporter secret: %s",
			 strerror(errno));
		return -1;
	}
	p->len = GENERATED;
	return 0;
}

/* SPOOL/reporter.key: read it, or create it (O_EXCL, so two starts never
 * write two secrets) with a fresh random secret. */
static int spool_secret(struct cep_pseudonym *p, const char *dir, char *err,
			size_t errsize)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, CEP_PSEUDONYM_KEY_FILE);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return read_secret(p, path, err, errsize);
		snprintf(err, errsize, "%s: cannot create the reporter secret: %s",
			 path, strerror(errno));
		return -1;
	}
	if (random_secret(p, err, errsize)) {
		close(fd);
		unlink(path);
		return -1;
	}
	bool ok = write(fd, p->secret, p->len) == (ssize_t)p->len &&
		  fsync(fd) == 0;
	close(fd);
	if (!ok) {
		snprintf(err, errsize, "%s: cannot write the reporter secret",
			 path);
		unlink(path);
		return -1;
	}
	cep_info("%s: new reporter secret (keep it with the site's backups: "
		 "pseudonyms follow it)", path);
	return 0;
}

struct cep_pseudonym *cep_pseudonym_create(const char *secret_path,
					   const char *spool_dir, char *err,
					   size_t errsize)
{
	struct cep_pseudonym *p = calloc(1, sizeof *p);
	int rc;

	if (!p) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (secret_path) {
		rc = read_secret(p, secret_path, err, errsize);
	} else if (spool_dir) {
		rc = spool_secret(p, spool_dir, err, errsize);
	} else {
		rc = random_secret(p, err, errsize);
		if (!rc)
			cep_warn("no reporter_secret and no spool: reporter "
				 "pseudonyms change at every start");
	}
	if (rc) {
		cep_pseudonym_destroy(p);
		return NULL;
	}
	return p;
}

void cep_pseudonym_destroy(struct cep_pseudonym *p)
{
	if (!p)
		return;
	memset(p->secret, 0, sizeof p->secret);
	free(p);
}

char *cep_pseudonym_apply(struct cep_pseudonym *p, char *name, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[CEP_SHA256_LEN];
	size_t len = strnlen(name, size);

	if (!len || size < sizeof CEP_PSEUDONYM_PREFIX + 32)
		return name;
	struct cache_ent *c = &p->cache[cep_hash_bytes(name, len, 0) & (CACHE - 1)];
	if (len < sizeof c->raw && !memcmp(c->raw, name, len) && !c->raw[len]) {
		memcpy(name, c->shown, sizeof c->shown);
		return name;
	}
	cep_hmac_sha256(p->secret, p->len, name, len, mac);
	if (len < sizeof c->raw) {
		memcpy(c->raw, name, len);
		c->raw[len] = '\0';
	} else {
		c->raw[0] = '\0';
	}
	char *o = c->shown;
	memcpy(o, CEP_PSEUDONYM_PREFIX, sizeof CEP_PSEUDONYM_PREFIX - 1);
	o += sizeof CEP_PSEUDONYM_PREFIX - 1;
	for (int i = 0; i < 16; i++) {
		*o++ = hex[mac[i] >> 4];
		*o++ = hex[mac[i] & 15];
	}
	*o = '\0';
	memcpy(name, c->shown, (size_t)(o - c->shown) + 1);
	return name;
}
