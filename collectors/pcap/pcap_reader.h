/*
 * pcap_reader.h - capture files and live interfaces -> batches of events.
 *
 * The reader is the loop around cep_pcap_decode(): it opens a capture file
 * or a live interface, applies an optional BPF filter, and for every packet
 * decodes one struct cep_event straight into a batch that lives on the
 * reader's stack:
 *
 *   classic pcap: pcap_next_ex() ---.
 *   pcapng: cep_pcapng_next() ------+--> FCS strip --> cep_pcap_decode()
 *   live: pcap_next_ex() (TPACKET) -'                   | ts, seq,
 *        ^                                              | cep_source_stamp()
 *        |                                              v
 *        +------------------------------------ batch[CEP_COLLECTOR_BATCH]
 *                                     full, timed out or at the end:
 *                                        sink->fn(arg, batch, n)
 *
 * Which reader: the first four bytes decide.  pcapng goes through our own
 * block walker (pcapng.h), because libpcap stops at an interface whose link
 * type differs from the first one's; classic pcap (either byte order,
 * micro- or nanosecond) goes through libpcap.  A BPF filter is compiled
 * per link type for pcapng files and applied with pcap_offline_filter().
 *
 * No allocation happens per packet: captured bytes are read in place and
 * copied field by field into the batch before the next packet is read.
 * Time stamps keep their full precision (ns).
 *
 * FCS: when the capture says that frames end in a frame check sequence (the
 * pcap header's FCS bits, CEP_PCAP_FCS_BYTES(), or a pcapng interface's
 * if_fcslen), it is removed before decoding: the wire length loses it, and
 * so does the captured length when the FCS was captured.  ev->bytes counts
 * the frame without its FCS, as for a capture that never had one.
 *
 * Event fields set here: everything cep_pcap_decode() sets, plus ts (the
 * capture time in ns), seq (the packet's number among all packets read
 * into the same stats struct, starting at 1; malformed packets use up a
 * number but are not emitted), and the source's name and defaults.
 *
 * Damage: a file that cannot be opened (missing, unreadable, not a capture)
 * produces one error line naming the file and the reason.  A file that
 * breaks part-way produces one error line naming the file, the byte offset
 * of the record or block that could not be read, and the reason; every
 * packet before it has been delivered and the call still returns 0.  For
 * classic pcap the offset is where the previous record ended (-1 when the
 * input is not seekable); for pcapng it is the offset of the bad block.  A
 * pcapng packet block that is well framed but unusable (an undeclared
 * interface, a length beyond its block) is counted as malformed, the first
 * one of a file is reported with its offset, and the walk goes on.
 *
 * Error lines go through cep_log() (engine/lib/log.h), hence to stderr.
 * Packets are never reported one by one: they are counted in the stats.
 *
 * Thread safety: one call runs on one thread and uses only its arguments;
 * several calls on distinct arguments may run at once.  The sink and the
 * live callbacks are called on the calling thread.  cep_pcap_stop() is
 * the one function that may be called from another thread or from a
 * signal handler.
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
	uint64_t fcs_stripped; /* packets whose trailing FCS was removed */
	/* live capture only, from pcap_stats() */
	uint64_t captured;     /* ps_recv: packets the kernel saw for us */
	uint64_t kernel_drops; /* ps_drop: no room in the capture buffer */
	uint64_t if_drops;     /* ps_ifdrop: dropped by the interface/driver */
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

/* Defaults for a tap: whole frames, promiscuous, a 32 MiB kernel buffer,
 * TPACKET_V3 blocks handed over after at most 100 ms. */
#define CEP_PCAP_SNAPLEN_DEFAULT 262144
#define CEP_PCAP_BUFFER_DEFAULT (32 << 20)
#define CEP_PCAP_TIMEOUT_DEFAULT 100

/* How to capture from an interface; set up with cep_pcap_live_init(). */
struct cep_pcap_live {
	const char *iface;
	const char *bpf;     /* tcpdump syntax, or NULL */
	int snaplen;         /* bytes kept per packet */
	int promisc;         /* 1: promiscuous mode */
	int buffer_size;     /* kernel ring, bytes */
	int immediate;       /* 1: each packet at once (TPACKET_V2 in libpcap,
			      * fewer packets per system call) */
	int timeout_ms;      /* 0 < t: longest wait for a buffer to fill */
	/*
	 * Called once, after the interface is open and the filter set and
	 * before the first packet: where the collector drops its privileges.
	 * A non-zero return ends the capture with that code.  May be NULL.
	 */
	int (*opened)(void *arg);
	/*
	 * Called about once a second while packets or time-outs come, and
	 * once at the end, with the counters (pcap_stats() included).  May
	 * be NULL.
	 */
	void (*report)(void *arg, const struct cep_pcap_stats *st);
	void *arg;           /* for opened and report */
};

/* cep_pcap_live_init - @iface with the defaults above and no callbacks. */
void cep_pcap_live_init(struct cep_pcap_live *lv, const char *iface);

/*
 * cep_pcap_read_live - capture as @lv says until cep_pcap_stop() is
 * called.  Batches are flushed when full, when 100 ms of capture time have
 * gathered in one, when libpcap's time-out passes without a packet, and at
 * the end.  Without lv->immediate libpcap uses TPACKET_V3 (packets handed
 * over a block at a time, the fastest mode); with it TPACKET_V2.
 * st->captured, kernel_drops and if_drops come from pcap_stats().
 * Other arguments as for cep_pcap_read_file().
 *
 * Returns 0 after a stop; -EPERM when capturing is not permitted (needs
 * CAP_NET_RAW), -ENODEV when there is no such interface, -EINVAL for a bad
 * filter or setting, -EIO for another libpcap failure (each reported on
 * stderr), lv->opened's non-zero return, or the sink's negative return.
 */
int cep_pcap_read_live(const struct cep_pcap_live *lv,
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
