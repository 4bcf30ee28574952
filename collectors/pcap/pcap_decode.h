/*
 * pcap_decode.h - one captured packet -> one struct cep_event.
 *
 * The decoder is a pure function of the captured bytes.  It walks the link
 * layer, any VLAN tags, the IP header (and IPv6 extension headers) and the
 * first bytes of the transport header, and fills the normalised fields a
 * rule can match on: addresses, ports, protocol, TCP flags, ICMP type and
 * code, the outermost VLAN id, fragment and truncation flags.
 *
 *   link            VLAN tags (0..n)      network            transport
 *   Ethernet  ----> 0x8100/0x88a8/0x9100 -> IPv4 (IHL opts) -> TCP  ports flags
 *   Linux SLL  ---'                       IPv6 -> hop/rt/    UDP  ports
 *   Linux SLL2 --'                          dst/frag/AH ->   SCTP, DCCP, UDPLite
 *   NULL/LOOP ---------------------------> (by AF)           ICMP/ICMPv6 type code
 *   RAW / IPV4 / IPV6 --------------------> (by version)     others: proto only
 *
 * Supported link types (DLT values as libpcap reports them; the FCS bits
 * (CEP_PCAP_LINKTYPE_MASK) are masked off): DLT_EN10MB (1), DLT_NULL (0), DLT_LOOP
 * (108), DLT_RAW (12, 14 and LINKTYPE_RAW 101), DLT_IPV4 (228), DLT_IPV6
 * (229), DLT_LINUX_SLL (113), DLT_LINUX_SLL2 (276).
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
 * The mask that strips the FCS bits from a pcap link-type field: the FCS
 * length (0xF0000000), the reserved bit and the FCS-present bit
 * (0x04000000).  libpcap uses the same mask (LT_LINKTYPE); 0x0FFFFFFF would
 * leave the FCS-present bit in place.
 */
#define CEP_PCAP_LINKTYPE_MASK 0x03FFFFFF

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
