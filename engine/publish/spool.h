/*
 * spool.h - the publisher's append-only outage file.
 *
 * When Redis cannot be reached, the publisher appends each message to one
 * file, SPOOL_DIR/ceptor.spool, and replays it, in order, once Redis is
 * back.  A message is a list of byte strings: argv[0] is the stream key,
 * then field, value, field, value ...; or, for a command that is not an
 * XADD (cep_publisher_add_cmd), an empty argv[0] and then the command's
 * words.
 *
 * Layout (all integers little-endian):
 *
 *   0  +----------+---------+----------+
 *      | CEPSPOOL | version | reserved |    16-byte file header
 *  16  +----------+---------+----------+---------------------------+
 *      | len u32  | crc u32 | payload (len bytes)                  |  record
 *      +----------+---------+--------------------------------------+
 *      | len u32  | crc u32 | payload ...                          |
 *
 *   payload = argc u32, then argc times (length u32, bytes)
 *   crc     = CRC-32 (IEEE, as zlib) of the payload
 *
 * Durability.  Appends are buffered in memory and written and fdatasync'd
 * by cep_spool_sync(), which the publisher calls once per flush: a crash
 * loses at most the records appended since the last sync, never more, and
 * at most the last record is torn.
 *
 * Damage.  Reading stops at the first record whose length runs past the end
 * of the file (a torn tail, -CEP_ETRUNCATED) or whose checksum or payload
 * does not match (-CEP_EMALFORMED); the byte offset of that record is
 * reported on stderr and in the result.  The records after it cannot be
 * found reliably (a bad length hides where the next one starts), so they
 * are given up.  cep_spool_open() scans the file: when it finds damage it
 * copies the whole file to ceptor.spool.corrupt-UNIXTIME for inspection and
 * cuts the live file back to its last good record, so that new records are
 * reachable again.
 *
 * Ceiling.  A record that would take the file past max_bytes is refused
 * (-ENOSPC) and counted; the first refusal after each truncation is
 * reported on stderr.  Refusing the newest rather than dropping the oldest
 * keeps the file append-only and the replay order simple: the spool holds
 * an unbroken prefix of the outage, and the stderr line says when the gap
 * started.
 *
 * Consumption.  The spool keeps a head: the offset of the first record not
 * yet delivered.  A replay starts at the head, and the caller moves the
 * head past each record once Redis has acknowledged it (cep_spool_consume()
 * with the mark of that record), so a replay cut short by an outage resumes
 * at the first unacknowledged record instead of sending the delivered ones
 * again.  Consumed records keep their bytes (and count against the ceiling)
 * until cep_spool_truncate() empties the file.  The head lives in memory
 * only: a new process replays the file from its first record.
 *
 * Locking.  The file is held with flock(LOCK_EX | LOCK_NB): two publishers
 * (two processes, or two in one process) never share a spool.
 *
 * Threads: one thread at a time per spool.
 */
#ifndef CEPTOR_PUBLISH_SPOOL_H
#define CEPTOR_PUBLISH_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define CEP_SPOOL_FILE "ceptor.spool"
#define CEP_SPOOL_HEADER 16u
#define CEP_SPOOL_MAX_ARGS 4096u
#define CEP_SPOOL_MAX_RECORD (64u << 20)

struct cep_spool;

/*
 * cep_spool_open - open (creating if needed) DIR/ceptor.spool.
 * @dir: created with mode 0700 when missing (one level).
 * @max_bytes: file size ceiling, header included; 0 means no ceiling.
 * @out: receives a new spool; release with cep_spool_close().
 * Returns 0; -EBUSY when the file is locked by another spool; -errno.
 */
int cep_spool_open(const char *dir, uint64_t max_bytes, struct cep_spool **out);

/*
 * cep_spool_append - add one record (buffered until cep_spool_sync()).
 * @argv, @argvlen, @argc: the strings (argv[0] is the stream); borrowed.
 * Returns 0; -ENOSPC when the ceiling refuses it (counted in refused);
 * -EINVAL when argc is 0 or over CEP_SPOOL_MAX_ARGS, or the record would
 * exceed CEP_SPOOL_MAX_RECORD; -ENOMEM; -errno from write(2).
 */
int cep_spool_append(struct cep_spool *s, size_t argc,
		     const char *const *argv, const size_t *argvlen);

/* cep_spool_sync - write the buffered records and fdatasync.
 * Returns 0 or -errno. */
int cep_spool_sync(struct cep_spool *s);

/*
 * Called once per record, in file order.  The strings are NUL-terminated
 * as well as counted and are borrowed until the callback returns.  Return 0
 * to go on, or a negative value to stop the replay with that value.
 */
typedef int (*cep_spool_replay_fn)(void *arg, size_t argc,
				   const char *const *argv,
				   const size_t *argvlen);

struct cep_spool_replay_result {
	uint64_t records;     /* records handed to the callback */
	int damage;           /* 0, -CEP_ETRUNCATED or -CEP_EMALFORMED */
	uint64_t bad_offset;  /* offset of the first bad record, if damage */
};

/*
 * cep_spool_replay - hand every good record from the head on to fn, in
 * order.  Buffered appends are written first.  @res may be NULL.  The head
 * does not move by itself: see cep_spool_consume().
 * Returns 0 when the replay reached the end of the good records (damage,
 * if any, is in *res and on stderr); fn's negative value when fn stopped
 * it; -ENOMEM or -errno.
 */
int cep_spool_replay(struct cep_spool *s, cep_spool_replay_fn fn, void *arg,
		     struct cep_spool_replay_result *res);

/*
 * cep_spool_replay_mark - inside a replay callback, the offset just past the
 * record being handed over (0 outside a replay).  Keep it with the record
 * and give it to cep_spool_consume() once the record is delivered.
 */
uint64_t cep_spool_replay_mark(const struct cep_spool *s);

/*
 * cep_spool_consume - the records before @mark are delivered: the next
 * replay starts at @mark.  Marks must be given in replay order; a mark
 * behind the head or past the end of the file is a bug and aborts.
 */
void cep_spool_consume(struct cep_spool *s, uint64_t mark);

/*
 * cep_spool_truncate - forget every record (they were all delivered, or
 * given up after damage), and put the head back at the first record.
 * If the last replay met damage, the file is first copied aside as for
 * open.  Returns 0 or -errno.
 */
int cep_spool_truncate(struct cep_spool *s);

/* cep_spool_bytes - the file size including buffered records. */
uint64_t cep_spool_bytes(const struct cep_spool *s);

/* cep_spool_pending - 1 when the spool holds at least one record that is
 * not consumed yet (buffered appends included). */
int cep_spool_pending(const struct cep_spool *s);

/* cep_spool_refused - records refused by the ceiling since open. */
uint64_t cep_spool_refused(const struct cep_spool *s);

/* cep_spool_open_damage - the damage found by open: 0 or a negative code,
 * with *offset set to the first bad record's offset. */
int cep_spool_open_damage(const struct cep_spool *s, uint64_t *offset);

/* cep_spool_path - the spool file's path; borrowed, valid until close. */
const char *cep_spool_path(const struct cep_spool *s);

/* cep_spool_close - write buffered records (no fsync), unlock, free.
 * Accepts NULL. */
void cep_spool_close(struct cep_spool *s);

/* cep_crc32 - CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
uint32_t cep_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* CEPTOR_PUBLISH_SPOOL_H */
