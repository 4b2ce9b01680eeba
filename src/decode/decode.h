/* decode.h - from a captured frame to the innermost IP/TCP/UDP packet.
 *
 * Owns: decode_pkt (a view into the caller's frame: nothing is copied or
 * allocated) and the list of skip reasons.  Implements the "Packets and
 * flows" part of ../shared/spec/FEATURES.md: link types Ethernet (any number
 * of 802.1Q/802.1ad tags, MPLS), Linux SLL v1/v2, raw IP, BSD null/loopback;
 * IPv4 with options, IPv6 with extension headers; tunnels IP-in-IP, GRE,
 * VXLAN, Geneve and GTP-U up to 8 deep.  Sizes come from header fields, never
 * from the captured length, so they do not depend on the snap length. */
#ifndef SNITCH_DECODE_H
#define SNITCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link types (DLT_* values of libpcap; repeated so the decoder does not
 * depend on pcap headers). */
enum {
    LINK_NULL = 0, LINK_ETHERNET = 1, LINK_RAW = 12, LINK_RAW_BSD = 14,
    LINK_RAW_OBSD = 101, LINK_LOOP = 108, LINK_SLL = 113, LINK_IPV4 = 228,
    LINK_IPV6 = 229, LINK_SLL2 = 276
};

typedef enum decode_status {
    DECODE_OK = 0,
    DECODE_FRAGMENT,     /* non-first IP fragment (skipped, counted) */
    DECODE_LINKTYPE,     /* link type not supported */
    DECODE_NOT_IP,       /* frame carries no IP (ARP, LLC, PPPoE, ...) */
    DECODE_OTHER_PROTO,  /* IP, but neither TCP nor UDP (ICMP, ESP, ...) */
    DECODE_MALFORMED,    /* a header is truncated or inconsistent */
    DECODE_TUNNEL,       /* tunnel whose inner packet is not IP, cannot be
                            decoded, or nests deeper than 8 */
    DECODE_NSTATUS
} decode_status;

/* Short stable name of a status, for summaries ("fragment", ...). */
const char *decode_status_name(decode_status s);

#define DECODE_MAX_TUNNELS 8

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08,
       TCP_ACK = 0x10 };

typedef struct decode_pkt {
    uint8_t family;        /* 4 or 6, of the innermost IP header */
    uint8_t proto;         /* 6 (TCP) or 17 (UDP) */
    uint8_t tcp_flags;     /* TCP_* bits (0 for UDP) */
    uint8_t tunnels;       /* tunnel layers opened to get here */
    uint8_t src[16];       /* IPv4 addresses use the first 4 bytes, rest 0 */
    uint8_t dst[16];
    uint16_t sport, dport;
    uint32_t ip_len;       /* packet size: IPv4 total length, or IPv6
                              payload length + 40 (captured IP length when
                              the field is 0) */
    uint32_t pay_len;      /* transport payload size from the headers */
    uint32_t seq;          /* TCP sequence number */
    const uint8_t *payload;/* captured transport payload (inside frame) */
    uint32_t payload_cap;  /* bytes of it actually captured */
} decode_pkt;

/* Decode one frame of the given link type.  On DECODE_OK *out describes the
 * innermost TCP/UDP packet; on any other status *out is unspecified.
 * Never reads outside data[0..caplen). */
decode_status decode_packet(int linktype, const uint8_t *data, size_t caplen,
                            decode_pkt *out);

#endif
