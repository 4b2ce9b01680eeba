/* decode.c - link, IP, tunnel and transport headers; see decode.h.
 *
 * The decoder walks one frame from the link header to the innermost TCP or
 * UDP header.  Every read is bounds-checked against the captured bytes.
 * Where the contract leaves a malformed case open, the reference extractor's
 * behaviour is followed (it decodes with dpkt), so that both produce the same
 * flows on damaged captures:
 *  - the IP slice ends at the IP length field (or at the end of the capture
 *    when the field is 0 or larger than what was captured);
 *  - a TCP header needs its 20 fixed bytes in that slice and a data offset
 *    of at least 5 words; options may be cut off by the snap length;
 *  - UDP needs its 8 bytes; the payload bytes are all captured bytes after
 *    it (the UDP length field only gives the payload size). */
#include "decode.h"

#include <string.h>

static const char *const status_names[DECODE_NSTATUS] = {
    [DECODE_OK] = "ok",
    [DECODE_FRAGMENT] = "fragment",
    [DECODE_LINKTYPE] = "link_type",
    [DECODE_NOT_IP] = "not_ip",
    [DECODE_OTHER_PROTO] = "other_proto",
    [DECODE_MALFORMED] = "malformed",
    [DECODE_TUNNEL] = "tunnel",
};

const char *decode_status_name(decode_status s)
{
    return (unsigned)s < DECODE_NSTATUS ? status_names[s] : "?";
}

#define ETH_IP4 0x0800
#define ETH_IP6 0x86DD
#define ETH_TEB 0x6558
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100
#define ETH_QINQ_OLD2 0x9200
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A located IP header: where it starts, how many bytes were captured from
 * there on, and which version the layer below announced (0: read it from
 * the first nibble). */
typedef struct ip_view {
    const uint8_t *p;
    size_t n;
    int version;
} ip_view;

/* Ethernet II with any number of VLAN tags, and MPLS label stacks.  An
 * 802.3 length field (<= 1500) means LLC: no IP, except for Cisco ISL
 * (26-byte header to 01/03:00:0c:00:00, then the whole tagged frame), which
 * dpkt and so the reference open. */
static decode_status ethernet(const uint8_t *p, size_t n, ip_view *ip)
{
    uint16_t type;
    for (;;) {
        if (n < 14)
            return DECODE_MALFORMED;
        type = rd16(p + 12);
        if (type > 1500)
            break;
        if ((p[0] != 0x01 && p[0] != 0x03) || memcmp(p + 1, "\x00\x0c\x00\x00", 4) != 0)
            return DECODE_NOT_IP;
        if (n < 26)
            return DECODE_MALFORMED;
        p += 26;
        n -= 26;
    }
    size_t off = 14;
    while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD ||
           type == ETH_QINQ_OLD2) {
        if (n < off + 4)
            return DECODE_MALFORMED;
        type = rd16(p + off + 2);
        off += 4;
    }
    if (type == ETH_MPLS || type == ETH_MPLS_MC) {
        for (int i = 0;; i++) {
            if (n < off + 4)
                return DECODE_MALFORMED;
            int bottom = p[off + 2] & 1;
            off += 4;
            if (bottom)
                break;
            if (i == 23) /* dpkt stops looking for the bottom here */
                break;
        }
        /* MPLS carries no payload type: like dpkt, take 0x45 as IPv4 and a
         * 6 nibble as IPv6; anything else (pseudowires) is not opened. */
        if (n <= off)
            return DECODE_MALFORMED;
        if (p[off] == 0x45)
            type = ETH_IP4;
        else if ((p[off] & 0xf0) == 0x60)
            type = ETH_IP6;
        else
            return DECODE_NOT_IP;
    }
    if (type != ETH_IP4 && type != ETH_IP6)
        return DECODE_NOT_IP;
    ip->p = p + off;
    ip->n = n - off;
    ip->version = type == ETH_IP4 ? 4 : 6;
    return DECODE_OK;
}

static decode_status link_layer(int linktype, const uint8_t *p, size_t n, ip_view *ip)
{
    uint32_t fam;
    switch (linktype) {
    case LINK_ETHERNET:
        return ethernet(p, n, ip);
    case LINK_RAW:
    case LINK_RAW_BSD:
    case LINK_RAW_OBSD:
        ip->p = p;
        ip->n = n;
        ip->version = 0;
        return DECODE_OK;
    case LINK_IPV4:
    case LINK_IPV6:
        ip->p = p;
        ip->n = n;
        ip->version = linktype == LINK_IPV4 ? 4 : 6;
        return DECODE_OK;
    case LINK_SLL:
    case LINK_SLL2: {
        size_t hl = linktype == LINK_SLL ? 16 : 20;
        if (n < hl)
            return DECODE_MALFORMED;
        uint16_t type = rd16(p + (linktype == LINK_SLL ? 14 : 0));
        if (type != ETH_IP4 && type != ETH_IP6)
            return DECODE_NOT_IP;
        ip->p = p + hl;
        ip->n = n - hl;
        ip->version = type == ETH_IP4 ? 4 : 6;
        return DECODE_OK;
    }
    case LINK_NULL:
    case LINK_LOOP:
        if (n < 4)
            return DECODE_MALFORMED;
        /* DLT_NULL stores the family in the writer's byte order; a value
         * that only makes sense big-endian was written big-endian. */
        fam = rd32le(p);
        if (linktype == LINK_LOOP || fam >= 0x10000)
            fam = rd32(p);
        ip->p = p + 4;
        ip->n = n - 4;
        if (fam == 2)
            ip->version = 4;
        else if (fam == 10 || fam == 23 || fam == 24 || fam == 28 || fam == 30)
            ip->version = 6;
        else
            return DECODE_NOT_IP;
        return DECODE_OK;
    default:
        return DECODE_LINKTYPE;
    }
}

/* Result of one IP layer: either a transport packet (done), or the next
 * inner IP header to decode. */
enum { LAYER_DONE = -1, LAYER_INNER = -2 };

/* Transparent Ethernet inside a tunnel: IP with any VLAN tags.  Anything
 * else inside a valid tunnel header is skipped as DECODE_TUNNEL. */
static decode_status inner_ethernet(const uint8_t *p, size_t n, ip_view *ip)
{
    decode_status s = ethernet(p, n, ip);
    return s == DECODE_OK ? DECODE_OK : DECODE_TUNNEL;
}

static int ip_version_of(const uint8_t *p, size_t n)
{
    return n ? p[0] >> 4 : 0;
}

/* A UDP payload sent to a tunnel port.  Returns 1 with *ip set when it is a
 * tunnelled IP packet, 0 when the tunnel header is not valid (the packet
 * stays an ordinary UDP packet), or -1 (with *why) when it is a tunnel
 * packet that cannot be opened. */
static int udp_tunnel(uint16_t dport, const uint8_t *b, size_t n, ip_view *ip,
                      decode_status *why)
{
    *why = DECODE_TUNNEL;
    if (dport == 4789) { /* VXLAN, RFC 7348: I flag required */
        if (n < 8 || !(b[0] & 0x08))
            return 0;
        return inner_ethernet(b + 8, n - 8, ip) == DECODE_OK ? 1 : -1;
    }
    if (dport == 6081) { /* Geneve, RFC 8926: version 0 */
        if (n < 8 || (b[0] >> 6) != 0)
            return 0;
        size_t hl = 8 + (size_t)(b[0] & 0x3f) * 4;
        uint16_t pt = rd16(b + 2);
        if (hl > n)
            hl = n;
        if (pt == ETH_TEB)
            return inner_ethernet(b + hl, n - hl, ip) == DECODE_OK ? 1 : -1;
        if (pt == ETH_IP4 || pt == ETH_IP6) {
            int v = ip_version_of(b + hl, n - hl);
            if (v != 4 && v != 6)
                return -1;
            ip->p = b + hl;
            ip->n = n - hl;
            ip->version = v;
            return 1;
        }
        return -1;
    }
    /* GTP-U (3GPP TS 29.281): version 1, PT=1; only G-PDU (255) carries
     * user packets; echo, error indication, end marker stay plain UDP. */
    if (n < 8 || (b[0] >> 5) != 1 || !(b[0] & 0x10) || b[1] != 255)
        return 0;
    size_t p = 8;
    if (b[0] & 0x07) { /* E, S or PN: seq, N-PDU and next-extension fields */
        if (n < 12)
            return -1;
        uint8_t nxt = b[11];
        p = 12;
        if (b[0] & 0x04) {
            while (nxt) {
                if (p >= n || b[p] == 0)
                    return -1;
                size_t el = (size_t)b[p] * 4;
                if (p + el > n)
                    return -1;
                nxt = b[p + el - 1];
                p += el;
            }
        }
    }
    int v = ip_version_of(b + p, n - p);
    if (v != 4 && v != 6)
        return -1;
    ip->p = b + p;
    ip->n = n - p;
    ip->version = v;
    return 1;
}

/* GRE version 0 (RFC 2784/2890) with optional checksum, key and sequence
 * number; other versions (PPTP's enhanced GRE) are not opened.  The
 * optional fields are read as dpkt (so the reference) reads them: checksum
 * and offset when C or R is set, key, sequence, a 4-byte acknowledgment when
 * bit 0x0080 is set, then RFC 1701 source route entries up to a null one
 * when R is set. */
static decode_status gre(const uint8_t *b, size_t n, ip_view *ip)
{
    if (n < 4)
        return DECODE_MALFORMED;
    uint16_t flags = rd16(b), proto = rd16(b + 2);
    if ((flags & 7) != 0)
        return DECODE_TUNNEL;
    size_t off = 4;
    if (flags & 0xC000)
        off += 4;
    if (flags & 0x2000)
        off += 4;
    if (flags & 0x1000)
        off += 4;
    if (flags & 0x0080)
        off += 4;
    if (flags & 0x4000) {
        for (;;) {
            if (off + 4 > n)
                return DECODE_MALFORMED;
            size_t sl = b[off + 3];
            off += 4 + sl;
            if (sl == 0)
                break;
        }
    }
    if (off > n)
        return DECODE_MALFORMED;
    if (proto == ETH_TEB)
        return inner_ethernet(b + off, n - off, ip);
    if (proto == ETH_IP4 || proto == ETH_IP6) {
        ip->p = b + off;
        ip->n = n - off;
        ip->version = proto == ETH_IP4 ? 4 : 6;
        return DECODE_OK;
    }
    return DECODE_TUNNEL;
}

/* Transport header inside the IP slice t[0..tn), trans_len = the transport
 * length the IP header announces. */
static int transport(uint8_t proto, const uint8_t *t, size_t tn, long trans_len,
                     decode_pkt *out, ip_view *inner, decode_status *st)
{
    if (proto == 6) {
        if (tn < 20) {
            *st = DECODE_MALFORMED;
            return LAYER_DONE;
        }
        size_t thl = (size_t)(t[12] >> 4) * 4;
        if (thl < 20) {
            *st = DECODE_MALFORMED;
            return LAYER_DONE;
        }
        long pay = trans_len - (long)thl;
        out->proto = 6;
        out->sport = rd16(t);
        out->dport = rd16(t + 2);
        out->seq = rd32(t + 4);
        out->tcp_flags = t[13];
        out->pay_len = pay > 0 ? (uint32_t)pay : 0;
        out->payload = t + (thl < tn ? thl : tn);
        out->payload_cap = thl < tn ? (uint32_t)(tn - thl) : 0;
        *st = DECODE_OK;
        return LAYER_DONE;
    }
    if (proto == 17) {
        if (tn < 8) {
            *st = DECODE_MALFORMED;
            return LAYER_DONE;
        }
        uint16_t dport = rd16(t + 2);
        if (dport == 4789 || dport == 6081 || dport == 2152) {
            decode_status why;
            int r = udp_tunnel(dport, t + 8, tn - 8, inner, &why);
            if (r > 0)
                return LAYER_INNER;
            if (r < 0) {
                *st = why;
                return LAYER_DONE;
            }
        }
        long pay = (long)rd16(t + 4) - 8;
        out->proto = 17;
        out->sport = rd16(t);
        out->dport = dport;
        out->seq = 0;
        out->tcp_flags = 0;
        out->pay_len = pay > 0 ? (uint32_t)pay : 0;
        out->payload = t + 8;
        out->payload_cap = (uint32_t)(tn - 8);
        *st = DECODE_OK;
        return LAYER_DONE;
    }
    if (proto == 4 || proto == 41) {
        int v = proto == 4 ? 4 : 6;
        if (tn < (v == 4 ? 20u : 40u)) {
            *st = DECODE_TUNNEL;
            return LAYER_DONE;
        }
        inner->p = t;
        inner->n = tn;
        inner->version = v;
        return LAYER_INNER;
    }
    if (proto == 47) {
        decode_status s = gre(t, tn, inner);
        if (s == DECODE_OK)
            return LAYER_INNER;
        *st = s;
        return LAYER_DONE;
    }
    *st = DECODE_OTHER_PROTO;
    return LAYER_DONE;
}

static int ipv4(const uint8_t *p, size_t n, decode_pkt *out, ip_view *inner,
                decode_status *st)
{
    if (n < 20) {
        *st = DECODE_MALFORMED;
        return LAYER_DONE;
    }
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    if (hl < 20) {
        *st = DECODE_MALFORMED;
        return LAYER_DONE;
    }
    if (rd16(p + 6) & 0x1fff) {
        *st = DECODE_FRAGMENT;
        return LAYER_DONE;
    }
    size_t tot = rd16(p + 2);
    /* Total length 0 means segmentation offload: the captured length. */
    size_t end = tot ? (tot < n ? tot : n) : n;
    size_t ip_len = tot ? tot : (hl < n ? n : hl);
    const uint8_t *t = p + (hl < end ? hl : end);
    size_t tn = hl < end ? end - hl : 0;
    out->family = 4;
    memset(out->src, 0, 16);
    memset(out->dst, 0, 16);
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    out->ip_len = (uint32_t)ip_len;
    return transport(p[9], t, tn, (long)ip_len - (long)hl, out, inner, st);
}

static int ipv6(const uint8_t *p, size_t n, decode_pkt *out, ip_view *inner,
                decode_status *st)
{
    if (n < 40) {
        *st = DECODE_MALFORMED;
        return LAYER_DONE;
    }
    size_t plen = rd16(p + 4);
    size_t avail = n - 40;
    size_t bn = plen ? (plen < avail ? plen : avail) : avail;
    const uint8_t *b = p + 40;
    uint8_t nxt = p[6];
    size_t ext_len = 0;
    for (;;) {
        size_t el;
        if (nxt == 0 || nxt == 60) { /* hop-by-hop, destination options */
            if (bn < 2)
                goto bad;
            el = ((size_t)b[1] + 1) * 8;
            if (el > bn)
                goto bad;
        } else if (nxt == 43) { /* routing */
            if (bn < 8)
                goto bad;
            el = (size_t)b[1] * 8 + 8;
        } else if (nxt == 44) { /* fragment */
            if (bn < 8)
                goto bad;
            el = 8;
            if (rd16(b + 2) >> 3) {
                *st = DECODE_FRAGMENT;
                return LAYER_DONE;
            }
        } else if (nxt == 51) { /* authentication header */
            if (bn < 12)
                goto bad;
            el = ((size_t)b[1] + 2) * 4;
        } else if (nxt == 50) { /* ESP: the rest is encrypted */
            *st = DECODE_OTHER_PROTO;
            return LAYER_DONE;
        } else {
            break;
        }
        nxt = b[0];
        ext_len += el;
        if (el > bn)
            el = bn;
        b += el;
        bn -= el;
    }
    out->family = 6;
    memcpy(out->src, p + 8, 16);
    memcpy(out->dst, p + 24, 16);
    size_t ip_len = plen ? plen + 40 : 40 + ext_len + bn;
    out->ip_len = (uint32_t)ip_len;
    return transport(nxt, b, bn, (long)ip_len - 40 - (long)ext_len, out, inner, st);
bad:
    *st = DECODE_MALFORMED;
    return LAYER_DONE;
}

decode_status decode_packet(int linktype, const uint8_t *data, size_t caplen,
                            decode_pkt *out)
{
    ip_view ip;
    decode_status st = link_layer(linktype, data, caplen, &ip);
    if (st != DECODE_OK)
        return st;
    for (int depth = 0;; depth++) {
        int v = ip.version ? ip.version : ip_version_of(ip.p, ip.n);
        ip_view inner;
        int r;
        if (v == 4)
            r = ipv4(ip.p, ip.n, out, &inner, &st);
        else if (v == 6)
            r = ipv6(ip.p, ip.n, out, &inner, &st);
        else
            return depth ? DECODE_TUNNEL : DECODE_NOT_IP;
        if (r == LAYER_DONE) {
            if (st == DECODE_OK)
                out->tunnels = (uint8_t)depth;
            else if (depth && st == DECODE_MALFORMED)
                st = DECODE_TUNNEL;
            return st;
        }
        if (depth + 1 > DECODE_MAX_TUNNELS)
            return DECODE_TUNNEL;
        ip = inner;
    }
}
