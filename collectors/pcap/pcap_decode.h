/*
 * pcap_decode.h - one captured packet -> one struct cep_event.
 *
 * The decoder is a pure function of the captured bytes.  It walks the link
 * layer, any VLAN tags, the IP header (and IPv6 extension headers), any
 * tunnel, and the first bytes of the transport header, and fills the
 * normalised fields a rule can match on: addresses, ports, protocol, TCP
 * flags, ICMP type and code, the outermost VLAN id, fragment, truncation
 * and tunnel flags.
 *
 *   link            VLAN tags (0..n)      network              transport
 *   Ethernet  ----> 0x8100/0x88a8/     -> IPv4 (IHL opts, AH) -> TCP  ports flags
 *   Linux SLL  ---'  0x9100/0x9200        IPv6 -> hop/rt/dst/   UDP  ports
 *   Linux SLL2 --'                          frag/AH/mob/HIP/    SCTP, DCCP, UDPLite
 *   NULL/LOOP ---------------------------> shim6 (ESP stops)   ICMP/ICMPv6 type code
 *   RAW / IPV4 / IPV6 --------------------> (by version)       others: proto only
 *                                             |
 *              tunnels: IP-in-IP (4), IPv6-in-IPv4/IPv6 (41), GRE (47: with
 *              checksum, key, sequence, routing; IPv4, IPv6 or Ethernet
 *              inside) -> the inner IP packet, again, up to 4 levels deep
 *
 * Tunnels: the event carries the innermost addresses, protocol and ports,
 * because those are what detection rules are about (the outer ones name
 * the tunnel end points), and CEP_PCAP_EV_TUNNEL.  When the inner header is
 * cut by the capture length the event keeps the outer view and is
 * truncated; when it is not the IP version announced (or not IP at all)
 * it keeps the outer view.  GRE version 1 (PPTP), ERSPAN and other GRE
 * payloads keep the outer view: proto 47 and the outer addresses.
 *
 * Supported link types (DLT or LINKTYPE values: both are accepted; only
 * the low 16 bits are the type, see CEP_PCAP_LINKTYPE_MASK): DLT_EN10MB
 * (1), DLT_NULL (0), DLT_LOOP (108), DLT_RAW (12, 14 and LINKTYPE_RAW
 * 101), DLT_IPV4 (228), DLT_IPV6 (229), DLT_LINUX_SLL (113),
 * DLT_LINUX_SLL2 (276).  A trailing Ethernet FCS is removed by the reader
 * (pcap_reader.h) before decoding, not here.
 *
 * Fragments are counted, not reassembled: a fragment sets CEP_EV_FRAGMENT;
 * the first fragment carries ports when they are present, later fragments
 * carry none.  A header cut short by the capture length sets
 * CEP_EV_TRUNCATED and keeps every field parsed before the cut.
 *
 * Bounds: the decoder reads pkt[0 .. caplen) and nothing else, whatever the
 * header fields claim.  It never allocates and keeps no state.
 *
 * Thread safety: a pure function; any thread, any number at once.
 */
#ifndef CEPTOR_PCAP_DECODE_H
#define CEPTOR_PCAP_DECODE_H

#include <stdint.h>

#include "ceptor/event.h"

/*
 * The link-type field of a pcap file header (draft-ietf-opsawg-pcap,
 * "LinkType and additional information"):
 *
 *    31   28 27 26 25          16 15                 0
 *   +-------+--+--+--------------+--------------------+
 *   |FCS len|R |P |  reserved    |  link type         |
 *   +-------+--+--+--------------+--------------------+
 *
 * Only the low 16 bits are the link type; readers must ignore R and the
 * reserved bits.  When P (0x04000000) is set, FCS len is the length of the
 * frame check sequence at the end of every packet, in 16-bit units (2 for
 * Ethernet's 4 bytes).  0x0FFFFFFF would keep P and R in the type, so a
 * file that declares its FCS would not decode; libpcap masks with
 * 0x03FFFFFF (LT_LINKTYPE) and keeps the reserved bits.
 */
#define CEP_PCAP_LINKTYPE_MASK 0x0000FFFF
#define CEP_PCAP_FCS_PRESENT 0x04000000u
/* FCS bytes announced by a link-type field (0 when P is not set). */
#define CEP_PCAP_FCS_BYTES(field) \
	(((uint32_t)(field) & CEP_PCAP_FCS_PRESENT) \
		 ? (((uint32_t)(field) >> 28) & 0xF) * 2 : 0)

/* Set on events of tunnelled packets (their addresses are the inner ones). */
#define CEP_PCAP_EV_TUNNEL CEP_EV_TUNNEL

/*
 * cep_pcap_linktype_supported - whether cep_pcap_decode() knows @linktype
 * (after masking).  Returns 1 or 0.
 */
int cep_pcap_linktype_supported(int linktype);

/*
 * cep_pcap_decode - decode one packet.
 * @pkt, @caplen: the captured bytes (borrowed; only read during the call).
 * @wirelen:      the length on the wire; becomes ev->bytes.
 * @linktype:     the capture's link type (DLT_*; FCS bits are masked).
 * @ev:           filled from zero: kind packet, type traffic, packets 1,
 *                bytes, and whatever the headers give.  ts, seq and the
 *                source fields are left 0 for the caller to set.
 *
 * Returns 0 when the packet was decoded, including a packet cut short by
 * caplen (CEP_EV_TRUNCATED set) and a packet that carries no IP at all (ARP,
 * LLDP: only kind, type, bytes, packets and vlan are set);
 * -CEP_EMALFORMED when the IP layer is not decodable at all (an IP version
 * that disagrees with the link layer or is neither 4 nor 6, an IPv4 IHL
 * below 5, an IPv4 total length above 0 but below its header length; a
 * total length of 0, which Linux captures of TSO/GSO packets carry, means
 * "as captured" and decodes); *ev then holds
 * whatever was parsed and should be counted, not emitted;
 * -EPROTONOSUPPORT when @linktype is not one of those listed above.
 */
int cep_pcap_decode(const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
		    int linktype, struct cep_event *ev);

#endif /* CEPTOR_PCAP_DECODE_H */
