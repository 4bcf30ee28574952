/*
 * file.c - small whole-file reads, and where ceptor keeps its state
 * (file.h).
 */
#include "lib/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int cep_file_read(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, k;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (!f)
		return -errno;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (max && cap > max + 1)
				cap = max + 1;
			if (!(nb = realloc(buf, cap + 1))) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (max && n > max) {
			rc = -EFBIG;
			break;
		}
	} while (k > 0);
	if (!rc && ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

void cep_file_default_spool(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (geteuid() == 0)
		snprintf(buf, size, "/var/lib/ceptor/spool");
	else if (state && *state)
		snprintf(buf, size, "%s/ceptor/spool", state);
	else
		snprintf(buf, size, "%s/.local/state/ceptor/spool",
			 home ? home : ".");
}
