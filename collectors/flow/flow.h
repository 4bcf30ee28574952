/*
 * flow.h - the flow collector: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX
 * (RFC 7011) export packets -> flow events.
 *
 * Three layers, each usable on its own (ceptord hosts the last two as a
 * thread; the fuzzer and the unit tests drive the first directly):
 *
 *   UDP socket (recvmmsg) --.
 *                           +--> cep_flow_decode(dec, exporter, payload)
 *   pcap of export packets -'        |  per exporter: templates, sequence,
 *   (cep_flow_read_pcap)             |  pending sets; one record -> one event
 *                                    v
 *                          batch[CEP_COLLECTOR_BATCH] --> sink->fn()
 *
 * The decoder keeps one state per exporter, keyed by (exporter address,
 * NetFlow version, source id / observation domain; for v5 engine type and
 * id).  Each holds its template cache (data and options templates, learned,
 * refreshed by a template with the same id, expired when not refreshed for
 * CEP_FLOW_TEMPLATE_LIFETIME; IPFIX withdrawals are counted and ignored,
 * see below), its expected next sequence number, its system init time (from an
 * options record carrying systemInitTimeMilliseconds) and a small FIFO of
 * data sets that arrived before their template.  Two exporters using the
 * same template id never see each other's templates.
 *
 * All of that holds for the templates themselves; withdrawals, though, are
 * not honoured: the decoder only ever sees UDP (the listener, and the UDP
 * datagrams of a capture), where RFC 7011 §8.4 has templates time out
 * rather than be withdrawn, and where one spoofed datagram could wipe a
 * real exporter's templates.  Withdrawal records (field count 0) are
 * counted in withdrawals and ignored.  A template not refreshed for
 * CEP_FLOW_TEMPLATE_LIFETIME seconds of its exporter's export time is
 * forgotten when its exporter's packets show it (templates_expired); its
 * data then waits for the next refresh like data before any template.
 *
 * Sets are walked by their stated length, never by alignment: softflowd's
 * v9 sets are not padded to 4 bytes, and padding at the end of a set (fewer
 * bytes left than the smallest record) is skipped.  Variable-length IPFIX
 * fields (length 65535, with a 1- or 3-byte length prefix) are walked;
 * enterprise-specific fields are skipped by their length.  Options data
 * records are not flows: they are counted (options_records) and only read
 * for systemInitTimeMilliseconds.
 *
 * Sequence gaps are counted per exporter and summed in the stats:
 *   v5     flow_sequence counts flows           -> lost_flows
 *   v9     sequence counts export packets       -> lost_packets
 *   IPFIX  sequence counts data records         -> lost_flows
 * A jump backwards (an exporter restart, reordering) resynchronises without
 * counting.  An IPFIX message that held a set the decoder could not count
 * (no template yet) also resynchronises.
 *
 * Data before its template: the set is copied into the exporter's pending
 * FIFO (CEP_FLOW_PENDING_SETS sets, CEP_FLOW_PENDING_BYTES bytes at most)
 * with the header fields its times need, and replayed when a template with
 * its id arrives.  A set pushed out of a full FIFO, and every set still
 * pending at cep_flow_decoder_flush(), is counted in no_template (sets, not
 * records: their records cannot be counted without the template).
 *
 * Event fields: kind flow, type traffic, src_ip/dst_ip (v4 or v6),
 * src_port/dst_port, proto, tcp_flags, bytes (octets), packets, vlan when
 * the record has vlanId, seq (the decoder's record number, from 1).  For
 * ICMP and ICMPv6 the ports stay 0 and icmp_type/icmp_code are set, from
 * icmpTypeCode{IPv4,IPv6} or icmpType/Code elements, else from a non-zero
 * source port byte-swapped (some Cisco exporters), else from the
 * destination port (type << 8 | code, as v5 and softflowd carry it): the
 * order nfdump applies.
 *
 * ts is the flow's start (nfdump's "first seen"), in UTC, to the
 * millisecond the exporters give:
 *   v5     boot = unix_secs*1000 + unix_nsecs/1e6 - sysUptime (ms);
 *          start = boot + First, less 2^32 ms when First > Last (a wrap),
 *          and less 2^32 ms again when Last exceeds sysUptime by more
 *          than 100 s (a wrap after the flow ended; nfdump's rule)
 *   v9     boot = unix_secs*1000 - sysUptime; start = boot + FIRST_SWITCHED
 *          (element 22), or flowStartMilliseconds/Seconds when present
 *   IPFIX  flowStartMilliseconds (152), flowStartSeconds (150),
 *          flowStartMicro/Nanoseconds (154/156, NTP format),
 *          flowStartDeltaMicroseconds (158, before the export time),
 *          flowStartSysUpTime (22) + systemInitTimeMilliseconds (160, from
 *          the record or from the exporter's options data); in that order
 * and when the record carries none of these, the export time of its packet.
 *
 * Damage: a header, set or template that does not fit or contradicts
 * itself is counted in malformed (once per damaged packet header, set or
 * template record) and reported on one line that names where it came from
 * (the file and byte offset of the packet, or the exporter's address), the
 * exporter and domain, and the byte offset within the export packet; only
 * the first CEP_FLOW_REPORT_MAX damages of a decoder are reported, the rest
 * counted.  Decoding goes on with the next set or packet.
 *
 * Memory: the decoder grows its exporter table (doubling) as exporters
 * appear, and allocates a
 * template (and an exporter's pending FIFO) when it is first learned; never
 * per record.  The number of exporters and of templates per exporter is
 * bounded (CEP_FLOW_MAX_EXPORTERS, CEP_FLOW_MAX_TEMPLATES); past the bound
 * packets or templates are counted and refused, never allocated.
 *
 * Budget: everything a decoder holds (its exporter table and exporters,
 * templates, pending FIFOs) is counted in bytes against
 * CEP_FLOW_MEMORY_MAX and shown in the memory / memory_peak gauges.  An
 * exporter not yet known when the table is full, or an allocation that
 * would pass the budget, evicts the least recently heard exporter (not
 * the one at hand) with its templates and pending sets
 * (exporters_evicted; its pending sets count as no_template); what still
 * does not fit is refused (over_budget).  A template whose smallest
 * record could not fit in any set (CEP_FLOW_RECORD_MAX), a v9 field of
 * length 65535 (v9 has no variable-length encoding) and an IPFIX options
 * template whose scope field count is 0 or more than its field count are
 * malformed, reported with their offset, and not learned.
 *
 * Thread safety: a decoder, its stats and its sink belong to one thread.
 * cep_flow_stop() is the one function that may be called from any thread
 * or a signal handler.  Stats may be read from another thread while a
 * reader runs; each counter is a naturally aligned 64-bit word written by
 * the collector thread only, so a reader sees each one whole (approximate
 * across counters).
 */
#ifndef CEPTOR_COLLECTORS_FLOW_H
#define CEPTOR_COLLECTORS_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ceptor/collector.h"

#define CEP_FLOW_MAX_EXPORTERS 4096  /* (address, domain) pairs per decoder */
#define CEP_FLOW_MAX_TEMPLATES 512   /* templates per exporter */
#define CEP_FLOW_MAX_FIELDS 256      /* fields per template */
#define CEP_FLOW_PENDING_SETS 16     /* data sets waiting for a template */
#define CEP_FLOW_PENDING_BYTES 16384 /* ... and their bytes, per exporter */
#define CEP_FLOW_REPORT_MAX 10       /* damages reported per decoder */
#define CEP_FLOW_MEMORY_MAX (64u << 20) /* bytes of state per decoder */
#define CEP_FLOW_TEMPLATE_LIFETIME 1800 /* s of export time, unrefreshed */
#define CEP_FLOW_RECORD_MAX (65535 - 4 - 16) /* a set's content, at most */

/* Counters, accumulated over every call given the same struct.  Zero it
 * once before the first call. */
struct cep_flow_stats {
	uint64_t read;             /* flow data records found */
	uint64_t decoded;          /* flow records handed to the sink */
	uint64_t malformed;        /* damaged headers, sets, templates */
	uint64_t bytes;            /* bytes of export payload */
	uint64_t packets;          /* export packets (UDP payloads) */
	uint64_t templates;        /* template records learned or refreshed */
	uint64_t options_templates;/* ... of which options templates */
	uint64_t withdrawals;      /* IPFIX template withdrawals */
	uint64_t options_records;  /* options data records (not flows) */
	uint64_t no_template;      /* data sets dropped: template never came */
	uint64_t pending;          /* data sets buffered for a template */
	uint64_t replayed;         /* ... and decoded when it came */
	uint64_t lost_flows;       /* v5 and IPFIX sequence gaps, in records */
	uint64_t lost_packets;     /* v9 sequence gaps, in export packets */
	uint64_t exporters;        /* distinct exporters (address, domain) */
	uint64_t unsupported;      /* other versions, non-UDP frames, limits */
	uint64_t socket_drops;     /* datagrams the kernel dropped (--listen) */
	uint64_t refused;          /* events the sink did not accept */
	uint64_t files;            /* capture files opened */
	uint64_t files_failed;     /* capture files that could not be opened */
	uint64_t errors;           /* capture files that broke part-way */
	uint64_t exporters_evicted;/* least recently heard, to make room */
	uint64_t templates_expired;/* not refreshed within their lifetime */
	uint64_t over_budget;      /* templates, pending sets refused: memory */
	uint64_t memory;           /* bytes decoders hold now (a gauge) */
	uint64_t memory_peak;      /* the most they held at once */
};

struct cep_flow_decoder;

/*
 * cep_flow_decoder_create - a decoder with an empty exporter table.
 * @src:  stamps every event (name and defaults); borrowed for the
 *        decoder's life; may be NULL.
 * @sink: receives the events in batches of up to CEP_COLLECTOR_BATCH;
 *        borrowed for the decoder's life.
 * @st:   counters; borrowed for the decoder's life; updated, not reset.
 * @diag: where damage reports go; NULL sends them through cep_log (stderr).
 * Returns 0 and *out (release with cep_flow_decoder_destroy()), or -ENOMEM.
 */
int cep_flow_decoder_create(const struct cep_source *src,
			    const struct cep_sink *sink,
			    struct cep_flow_stats *st, FILE *diag,
			    struct cep_flow_decoder **out);

/*
 * cep_flow_decoder_destroy - free the decoder and its templates.  Events
 * still in its batch are lost: call cep_flow_decoder_flush() first.
 * Accepts NULL.
 */
void cep_flow_decoder_destroy(struct cep_flow_decoder *dec);

/*
 * cep_flow_decoder_origin - name what the next packets come from in damage
 * reports: @what (a file name, borrowed until the next call) and @offset
 * (the byte offset of the packet in it, or -1 when there is none).  NULL
 * @what names the exporter only.
 */
void cep_flow_decoder_origin(struct cep_flow_decoder *dec, const char *what,
			     long long offset);

/*
 * cep_flow_decode - decode one export packet (a whole UDP payload).
 * @exporter:    the sender's address (AF_INET or AF_INET6; the port is
 *               ignored); NULL is taken as 0.0.0.0.
 * @payload:     borrowed for the call only.
 * @recv_ts_ns:  when it arrived (ns since the epoch); used only for damage
 *               reports' sake today, kept for exporters without clocks.
 * Events go into the decoder's batch; a full batch goes to the sink.
 * Returns 0 (also for a damaged packet: it is counted and reported), or
 * the sink's negative error, after which the caller should stop.
 */
int cep_flow_decode(struct cep_flow_decoder *dec,
		    const struct sockaddr *exporter, const uint8_t *payload,
		    size_t len, uint64_t recv_ts_ns);

/*
 * cep_flow_decoder_flush - hand the batch to the sink now.  With
 * @drop_pending, also count every pending data set as no_template and
 * forget it (at the end of the input).  Returns 0 or the sink's error.
 */
int cep_flow_decoder_flush(struct cep_flow_decoder *dec, int drop_pending);

/* One exporter's state, as cep_flow_decoder_exporters() shows it. */
struct cep_flow_exporter_info {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];        /* network order; IPv4 in the first 4 */
	uint16_t version;        /* 5, 9 or 10 */
	uint32_t domain;         /* source id, domain, or v5 engine type<<8|id */
	uint32_t templates;      /* templates cached now */
	uint64_t packets;        /* export packets */
	uint64_t records;        /* flow records */
	uint64_t lost;           /* sequence gap: flows (v5, IPFIX), packets (v9) */
};

/*
 * cep_flow_decoder_exporters - call @fn once per known exporter, in no
 * particular order.  Stops early and returns fn's value when it is not 0.
 */
int cep_flow_decoder_exporters(const struct cep_flow_decoder *dec,
			       int (*fn)(void *arg,
					 const struct cep_flow_exporter_info *),
			       void *arg);

/*
 * cep_flow_read_pcap - decode every export packet of a capture file.
 * @path: pcap or pcapng through libpcap ("-" is standard input); link
 *        types Ethernet (with 802.1Q/QinQ tags), Linux SLL and SLL2, raw
 *        IP, BSD loopback NULL/LOOP; IPv4 and IPv6 (extension headers
 *        walked) carrying UDP.  Other frames, and IP fragments, are counted
 *        as unsupported.  The UDP source address is the exporter; every
 *        UDP datagram is taken as an export packet whatever its port.
 * One decoder serves the whole file; its pending sets are counted as
 * no_template at the end.  A file that breaks part-way is reported with
 * its byte offset (as ceptor-pcap does) and the packets before it kept.
 * Returns 0 when the file was opened (damage is counted and reported),
 * -errno or -CEP_EMALFORMED when it could not be opened or is not a
 * capture (counted in files_failed, reported), -ENOMEM, or the sink's
 * negative error.
 */
int cep_flow_read_pcap(const char *path, const struct cep_source *src,
		       const struct cep_sink *sink, struct cep_flow_stats *st,
		       FILE *diag);

/*
 * cep_flow_listen - receive export packets on UDP @addr ("ADDR:PORT",
 * "[V6ADDR]:PORT" or ":PORT" for every IPv4 address; port 0 picks a free
 * one) until cep_flow_stop() is called.  The socket gets a large receive
 * buffer and SO_RXQ_OVFL, so that datagrams the kernel dropped show up in
 * st->socket_drops; datagrams are read in recvmmsg() bursts and the batch
 * is handed to the sink after every burst, or after 100 ms of quiet.
 * @bound: when not NULL, receives the port actually bound (host order)
 *         before the first packet is read (for port 0); it is written
 *         with a release store so another thread may poll it.
 * Returns 0 after a stop; -EINVAL for an address that does not parse,
 * -errno when the socket cannot be made or bound (reported), or the
 * sink's negative error.
 */
int cep_flow_listen(const char *addr, const struct cep_source *src,
		    const struct cep_sink *sink, struct cep_flow_stats *st,
		    FILE *diag, volatile int *bound);

/*
 * cep_flow_listen_tick - cep_flow_listen() that also calls @tick(@tick_arg)
 * on the listening thread after every burst and every quiet poll, so at
 * least every 100 ms: for a heartbeat that must come from the thread that
 * calls the sink (cep_cli_tick_fn()).  @tick may be NULL.
 */
int cep_flow_listen_tick(const char *addr, const struct cep_source *src,
			 const struct cep_sink *sink,
			 struct cep_flow_stats *st, FILE *diag,
			 volatile int *bound, void (*tick)(void *arg),
			 void *tick_arg);

/*
 * cep_flow_stop - make cep_flow_listen() and cep_flow_read_pcap() return
 * after the packet or burst at hand.  Async-signal-safe, any thread.
 * cep_flow_stop_reset() re-arms them (not async-signal-safe).
 */
void cep_flow_stop(void);
void cep_flow_stop_reset(void);

/*
 * cep_flow_stats_json - write the counters as one JSON object (no newline)
 * into buf.  Returns the length, or -ENOSPC.
 */
int cep_flow_stats_json(const struct cep_flow_stats *st, char *buf,
			size_t size);

/*
 * cep_flow_parse_addr - "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" into a
 * socket address.  Returns 0, or -EINVAL.
 */
int cep_flow_parse_addr(const char *s, struct sockaddr_storage *ss,
			socklen_t *len);

#endif /* CEPTOR_COLLECTORS_FLOW_H */
