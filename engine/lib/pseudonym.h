/*
 * pseudonym.h - keyed reporter pseudonyms (DESIGN.md section 6).
 *
 * An operator that reports an IT failure must be recognisable across
 * incidents (so that agreement is counted per reporter, and analysts see
 * that two reports came from one place) but never nameable outside the
 * site.  ceptord therefore replaces every event's `reporter` with
 *
 *   "op-" + the first 16 bytes, in hex, of HMAC-SHA-256(secret, reporter)
 *
 * as the event leaves its ring, before detection: rules, window keys,
 * incidents, explanations, statistics, Redis, the spool and the logs only
 * ever see the pseudonym.  The raw name exists in the collector's ring and
 * in the input files, both on the site's own machine.
 *
 * The secret is a site secret read from a file (never from the command
 * line, where `ps` would show it): `reporter_secret: FILE` in the config.
 * Without one, ceptord keeps a generated 32-byte secret in
 * SPOOL/reporter.key (mode 0600, created on first start), so pseudonyms are
 * stable across restarts; with no spool either, a random secret lives for
 * the run only and that is logged.  The same secret at two sites gives the
 * same pseudonyms; sites that must not be linkable use different secrets.
 *
 * Thread safety: one instance is used by one thread (ceptord's core).
 * A small cache remembers recent names, so a burst of reports from one
 * operator is hashed once.
 */
#ifndef CEPTOR_LIB_PSEUDONYM_H
#define CEPTOR_LIB_PSEUDONYM_H

#include <stddef.h>

#define CEP_PSEUDONYM_PREFIX "op-"
#define CEP_PSEUDONYM_KEY_FILE "reporter.key"
#define CEP_PSEUDONYM_MIN_SECRET 16 /* bytes */

struct cep_pseudonym;

/*
 * cep_pseudonym_create - the pseudonymiser with the secret in @secret_path
 * (whole file, trailing newline removed), else in SPOOL/reporter.key under
 * @spool_dir (created with 32 random bytes if missing), else a random
 * secret for this run; either path may be NULL.  A secret file shorter than
 * CEP_PSEUDONYM_MIN_SECRET bytes, or unreadable, is an error; one that
 * group or others may read is accepted with a warning.
 * Returns a new object (release with cep_pseudonym_destroy()), or NULL
 * with @err set to a sentence naming the file.
 */
struct cep_pseudonym *cep_pseudonym_create(const char *secret_path,
					   const char *spool_dir, char *err,
					   size_t errsize);
void cep_pseudonym_destroy(struct cep_pseudonym *p);

/*
 * cep_pseudonym_apply - replace the NUL-terminated name in @name (a
 * buffer of @size >= 36 bytes) by its pseudonym; an empty name stays
 * empty.  Returns @name.
 */
char *cep_pseudonym_apply(struct cep_pseudonym *p, char *name, size_t size);

#endif /* CEPTOR_LIB_PSEUDONYM_H */
