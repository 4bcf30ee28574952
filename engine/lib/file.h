/*
 * file.h - small whole-file reads, and where ceptor keeps its state.
 *
 *   cep_file_read()          a whole file into one NUL-terminated buffer
 *   cep_file_default_spool() the spool directory when nothing names one
 *
 * Thread safety: any thread (getenv() aside: call before starting threads
 * that change the environment, which ceptor never does).
 */
#ifndef CEPTOR_LIB_FILE_H
#define CEPTOR_LIB_FILE_H

#include <stddef.h>

/*
 * cep_file_read - read @path whole into *out (malloc'd, NUL-terminated;
 * the caller frees it) and its length into *len.  @max bounds the size:
 * a larger file is refused with -EFBIG (0: no bound).  Returns 0, -errno
 * from opening or reading (-EIO for a read error), or -ENOMEM.
 */
int cep_file_read(const char *path, size_t max, char **out, size_t *len);

/*
 * cep_file_default_spool - the spool directory (state: incident id
 * counters, undelivered messages, status.json) when neither the command
 * line nor the configuration names one: /var/lib/ceptor/spool for root,
 * else $XDG_STATE_HOME/ceptor/spool, else ~/.local/state/ceptor/spool.
 * ceptord, ceptorctl and ceptor-web all follow it, so that they meet.
 */
void cep_file_default_spool(char *buf, size_t size);

#endif
