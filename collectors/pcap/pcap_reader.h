/*
 * pcap_reader.h - capture files and live interfaces -> batches of events.
 *
 * The reader is the loop around cep_pcap_decode(): it opens a pcap or
 * pcapng file (or a live interface) through libpcap, applies an optional
 * BPF filter, and for every packet decodes one struct cep_event straight
 * into a batch that lives on the reader's stack:
 *
 *   pcap_next_ex() --> cep_pcap_decode() --> batch[CEP_COLLECTOR_BATCH]
 *        ^                  | ts, seq,              | full, or at the end
 *        |                  | cep_source_stamp()    v  of the file
 *        +------------------+                  sink->fn(arg, batch, n)
 *
 * No allocation happens per packet: libpcap's own buffer is read in place
 * and copied field by field into the batch before the next pcap_next_ex().
 * Files are opened with nanosecond timestamp precision, so pcap-ns and
 * pcapng files keep their full precision and microsecond files are scaled.
 *
 * Event fields set here: everything cep_pcap_decode() sets, plus ts (the
 * capture time in ns), seq (the packet's number among all packets read
 * into the same stats struct, starting at 1; malformed packets use up a
 * number but are not emitted), and the source's name and defaults.
 *
 * Damage: a file that cannot be opened (missing, unreadable, not a capture)
 * produces one error line naming the file and libpcap's (or the system's)
 * reason.  A file that breaks part-way (a record header claiming more bytes
 * than remain, a bad pcapng block, a pcapng interface with another link
 * type, which libpcap refuses) produces one error line naming the file, the
 * byte offset of the record that could not be read, and libpcap's reason;
 * every packet before it has been delivered and the call still returns 0.
 * The offset is ftell() of the capture's FILE after the last packet that was
 * read (after the file header when there was none), that is the first byte
 * of the block or record libpcap failed on.  It is -1 when the input is not
 * seekable (standard input).
 *
 * Error lines go through cep_log() (engine/lib/log.h), hence to stderr.
 * Packets are never reported one by one: they are counted in the stats.
 *
 * Thread safety: one call runs on one thread and uses only its arguments;
 * several calls on distinct arguments may run at once.  The sink is called
 * on the calling thread.  cep_pcap_stop() is the one function that may be
 * called from another thread or from a signal handler.
 */
#ifndef CEPTOR_PCAP_READER_H
#define CEPTOR_PCAP_READER_H

#include <stdint.h>

#include "ceptor/collector.h"

/* Counters, accumulated over every call that is given the same struct.
 * Zero it once before the first call. */
struct cep_pcap_stats {
	uint64_t read;         /* packets libpcap returned (after the filter) */
	uint64_t decoded;      /* packets decoded and handed to the sink */
	uint64_t malformed;    /* packets cep_pcap_decode() refused */
	uint64_t unsupported;  /* packets of a link type we cannot decode */
	uint64_t truncated;    /* decoded packets with CEP_EV_TRUNCATED */
	uint64_t fragments;    /* decoded packets with CEP_EV_FRAGMENT */
	uint64_t bytes;        /* wire bytes of the packets read */
	uint64_t files;        /* files (or interfaces) opened */
	uint64_t files_failed; /* files that could not be opened */
	uint64_t errors;       /* files that broke part-way */
	uint64_t refused;      /* events the sink did not accept */
};

/*
 * cep_pcap_read_file - read one capture file to its end.
 * @path:  a pcap or pcapng file; "-" reads standard input.
 * @bpf:   a BPF filter expression (tcpdump syntax), or NULL for none.
 * @src:   stamps every event (name and defaults); borrowed; may be NULL.
 * @sink:  receives the events in batches of up to CEP_COLLECTOR_BATCH.
 * @st:    counters; updated, not reset.
 *
 * Returns 0 when the file was opened, whether or not it was read to the
 * end (damage is reported on stderr and counted in st->errors);
 * -ENOENT, -EACCES or another -errno when the file could not be opened;
 * -CEP_EMALFORMED when it is not a capture libpcap can read (both counted
 * in st->files_failed and reported on stderr);
 * -EINVAL when @bpf does not compile for the file's link type (reported);
 * the sink's negative return when the sink failed (reading stops).
 */
int cep_pcap_read_file(const char *path, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st);

/*
 * cep_pcap_read_live - capture from @iface until cep_pcap_stop() is called.
 * Opens the interface in immediate mode with a full snap length; batches
 * are flushed when full, when libpcap's 100 ms timeout passes without a
 * packet, and at the end.  Arguments as for cep_pcap_read_file().
 *
 * Returns 0 after a stop; -EPERM when capturing is not permitted (needs
 * CAP_NET_RAW), -ENODEV when there is no such interface, -EINVAL for a bad
 * filter, -EIO for another libpcap failure (each reported on stderr), or
 * the sink's negative return.
 */
int cep_pcap_read_live(const char *iface, const char *bpf,
		       const struct cep_source *src, struct cep_sink *sink,
		       struct cep_pcap_stats *st);

/*
 * cep_pcap_read_failed - whether a run that accumulated @st read nothing
 * because of damage: no packet was read at all, and at least one input
 * could not be opened (files_failed) or broke part-way (errors), for
 * example a file whose valid header is followed by a corrupt first record.
 * Returns 1 or 0; 0 for an empty but valid capture, and 0 as soon as one
 * packet was read, whatever else failed.  ceptor-pcap exits 1 on 1.
 */
int cep_pcap_read_failed(const struct cep_pcap_stats *st);

/*
 * cep_pcap_stop - ask the running cep_pcap_read_live() (and any file being
 * read by cep_pcap_read_file()) to stop after the current packet.
 * Async-signal-safe; callable from any thread.
 */
void cep_pcap_stop(void);

#endif /* CEPTOR_PCAP_READER_H */
