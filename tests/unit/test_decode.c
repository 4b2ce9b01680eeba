/* test_decode.c - unit tests for src/decode/decode.c: every link type,
 * VLAN/MPLS/ISL, IPv4 and IPv6 header cases, TCP/UDP sizes, each tunnel kind
 * and their nesting, every prefix of valid frames, random damage.  Frames are
 * built by the small helpers below and decoded from exact-size heap copies,
 * so ASan/valgrind see any read past the captured bytes.
 *
 * `test_decode --write-seeds DIR` writes the seed corpus of
 * fuzz/fuzz_decode.c (format described there) instead of testing. */
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

/* ------------------------------------------------------------ builders */

typedef struct frame {
    uint8_t b[8192];
    size_t n;
} frame;

#define AUTO (-1)   /* length field computed from what was appended */

static void put8(frame *f, unsigned v)
{
    if (f->n >= sizeof f->b) {
        fprintf(stderr, "test frame overflow\n");
        abort();
    }
    f->b[f->n++] = (uint8_t)v;
}
static void put16(frame *f, unsigned v) { put8(f, v >> 8 & 0xff); put8(f, v & 0xff); }
static void put32(frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static void fill(frame *f, unsigned v, size_t n) { while (n--) put8(f, v); }
static void set16(frame *f, size_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}
/* n payload bytes "abcd...z" repeated */
static void data(frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(f, 'a' + i % 26);
}

/* Ethernet II header; type may be a TPID followed by vlan() tags. */
static void eth(frame *f, unsigned type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    for (int i = 0; i < 12; i++)
        put8(f, macs[i]);
    put16(f, type);
}
static void vlan(frame *f, unsigned vid, unsigned next)
{
    put16(f, vid);
    put16(f, next);
}

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* IPv4 header with ihl words (options are NOPs) and the flags/offset
 * field frag; returns its offset for ip4_end. */
static size_t ip4x(frame *f, unsigned proto, uint32_t src, uint32_t dst, unsigned ihl,
                   unsigned frag)
{
    size_t at = f->n;
    put8(f, 0x40 | (ihl & 15));
    put8(f, 0);
    put16(f, 0);            /* total length, set by ip4_end */
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, src);
    put32(f, dst);
    if (ihl > 5)
        fill(f, 1, (ihl - 5) * 4);
    return at;
}
static size_t ip4(frame *f, unsigned proto, uint32_t src, uint32_t dst)
{
    return ip4x(f, proto, src, dst, 5, 0);
}
static void ip4_end(frame *f, size_t at, long tot)
{
    set16(f, at + 2, tot == AUTO ? (unsigned)(f->n - at) : (unsigned)tot);
}

/* IPv6 addresses 2001:db8::<net>:<host> */
static void addr6(uint8_t a[16], unsigned net, unsigned host)
{
    static const uint8_t pre[4] = {0x20, 0x01, 0x0d, 0xb8};
    memset(a, 0, 16);
    memcpy(a, pre, 4);
    a[12] = (uint8_t)(net >> 8);
    a[13] = (uint8_t)net;
    a[14] = (uint8_t)(host >> 8);
    a[15] = (uint8_t)host;
}
static size_t ip6(frame *f, unsigned nxt, unsigned net)
{
    size_t at = f->n;
    uint8_t a[16];
    put32(f, 0x60000000);
    put16(f, 0);            /* payload length, set by ip6_end */
    put8(f, nxt);
    put8(f, 64);
    addr6(a, net, 1);
    for (int i = 0; i < 16; i++)
        put8(f, a[i]);
    addr6(a, net, 2);
    for (int i = 0; i < 16; i++)
        put8(f, a[i]);
    return at;
}
static void ip6_end(frame *f, size_t at, long plen)
{
    set16(f, at + 4, plen == AUTO ? (unsigned)(f->n - at - 40) : (unsigned)plen);
}
/* Hop-by-hop or destination options: (len8 + 1) * 8 bytes, one PadN. */
static void ext_opts(frame *f, unsigned nxt, unsigned len8)
{
    put8(f, nxt);
    put8(f, len8);
    put8(f, 1);
    put8(f, len8 * 8 + 4);
    fill(f, 0, len8 * 8 + 4);
}
static void ext_routing(frame *f, unsigned nxt, unsigned len8)
{
    put8(f, nxt);
    put8(f, len8);
    put8(f, 0);             /* type 0 */
    put8(f, len8 / 2);      /* segments left */
    fill(f, 0x2a, 4 + len8 * 8);
}
static void ext_frag(frame *f, unsigned nxt, unsigned offset, int more)
{
    put8(f, nxt);
    put8(f, 0);
    put16(f, offset << 3 | (more ? 1 : 0));
    put32(f, 0xabcd);
}
static void ext_ah(frame *f, unsigned nxt, unsigned len4)
{
    put8(f, nxt);
    put8(f, len4);
    put16(f, 0);
    fill(f, 0x55, (len4 + 2) * 4 - 4);
}

/* TCP header with doff words (options are NOPs). */
static void tcp(frame *f, unsigned sport, unsigned dport, uint32_t seq, unsigned flags,
                unsigned doff)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, seq);
    put32(f, 0x10203040);   /* ack */
    put8(f, (doff & 15) << 4);
    put8(f, flags);
    put16(f, 65535);
    put32(f, 0);            /* checksum, urgent pointer */
    if (doff > 5)
        fill(f, 1, (doff - 5) * 4);
}
static size_t udp(frame *f, unsigned sport, unsigned dport)
{
    size_t at = f->n;
    put16(f, sport);
    put16(f, dport);
    put16(f, 0);            /* length, set by udp_end */
    put16(f, 0);
    return at;
}
static void udp_end(frame *f, size_t at, long len)
{
    set16(f, at + 4, len == AUTO ? (unsigned)(f->n - at) : (unsigned)len);
}

/* GRE: flags as given; every optional field the decoder must skip (C|R,
 * K, S, 0x0080) is written as 4 bytes.  Routing entries are not. */
static void gre(frame *f, unsigned flags, unsigned proto)
{
    put16(f, flags);
    put16(f, proto);
    if (flags & 0xC000)
        put32(f, 0xC5C50000);
    if (flags & 0x2000)
        put32(f, 0x4b455920);
    if (flags & 0x1000)
        put32(f, 7);
    if (flags & 0x0080)
        put32(f, 9);
}
static void vxlan(frame *f, unsigned flags)
{
    put8(f, flags);
    fill(f, 0, 3);
    put32(f, 0x00123400);   /* VNI 0x001234, reserved */
}
static void geneve(frame *f, unsigned ver, unsigned optwords, unsigned proto)
{
    put8(f, ver << 6 | optwords);
    put8(f, 0);
    put16(f, proto);
    put32(f, 0x00abcd00);
    fill(f, 0x77, optwords * 4);
}
/* GTP-U header: flags byte (0x30 = version 1, PT 1), message type, then
 * the length (set by gtpu_end) and TEID. */
static size_t gtpu(frame *f, unsigned flags, unsigned type)
{
    size_t at = f->n;
    put8(f, flags);
    put8(f, type);
    put16(f, 0);
    put32(f, 0x11223344);
    return at;
}
static void gtpu_end(frame *f, size_t at) { set16(f, at + 2, (unsigned)(f->n - at - 8)); }

/* Linux cooked headers */
static void sll(frame *f, unsigned proto)
{
    put16(f, 0);            /* to us */
    put16(f, 1);            /* ARPHRD_ETHER */
    put16(f, 6);
    fill(f, 0x0c, 8);
    put16(f, proto);
}
static void sll2(frame *f, unsigned proto)
{
    put16(f, proto);
    put16(f, 0);
    put32(f, 3);            /* ifindex */
    put16(f, 1);
    put8(f, 0);
    put8(f, 6);
    fill(f, 0x0c, 8);
}
static void null_le(frame *f, uint32_t fam)
{
    put8(f, fam & 0xff);
    put8(f, fam >> 8 & 0xff);
    put8(f, fam >> 16 & 0xff);
    put8(f, fam >> 24);
}

/* An IPv4 TCP packet 10.0.0.1:40000 -> 10.0.0.2:443, seq 1000, PSH|ACK,
 * with pay payload bytes; the innermost packet of most tests. */
static void tcp4(frame *f, size_t pay)
{
    size_t ip = ip4(f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(f, 40000, 443, 1000, TCP_PSH | TCP_ACK, 5);
    data(f, pay);
    ip4_end(f, ip, AUTO);
}
/* An IPv6 UDP packet 2001:db8::net:1 -> ::net:2, 5353 -> 53, pay bytes. */
static void udp6(frame *f, unsigned net, size_t pay)
{
    size_t ip = ip6(f, 17, net);
    size_t u = udp(f, 5353, 53);
    data(f, pay);
    udp_end(f, u, AUTO);
    ip6_end(f, ip, AUTO);
}

/* ------------------------------------------------------------ decoding */

static decode_pkt P;      /* result of the last dec() */
static long POFF;         /* payload offset in the frame, -1 when not OK */

/* Decode the first len bytes of f from an exact-size heap copy. */
static decode_status decn(int lt, const frame *f, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        abort();
    memcpy(c, f->b, len);
    memset(&P, 0xA5, sizeof P);
    decode_status st = decode_packet(lt, c, len, &P);
    POFF = -1;
    CHECK((unsigned)st < DECODE_NSTATUS);
    if (st == DECODE_OK) {
        CHECK(P.payload >= c && P.payload <= c + len);
        CHECK(P.payload_cap <= len);
        if (P.payload >= c && P.payload <= c + len) {
            POFF = (long)(P.payload - c);
            CHECK((size_t)POFF + P.payload_cap <= len);
        }
        CHECK(P.family == 4 || P.family == 6);
        CHECK(P.proto == 6 || P.proto == 17);
        CHECK(P.tunnels <= DECODE_MAX_TUNNELS);
        P.payload = NULL;     /* points into freed memory */
    }
    free(c);
    return st;
}
static decode_status dec(int lt, const frame *f) { return decn(lt, f, f->n); }

static int is4(const uint8_t a[16], uint32_t v)
{
    uint8_t e[16] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return memcmp(a, e, 16) == 0;
}
static int is6(const uint8_t a[16], unsigned net, unsigned host)
{
    uint8_t e[16];
    addr6(e, net, host);
    return memcmp(a, e, 16) == 0;
}

/* The tcp4() packet with pay bytes, payload at offset off, tunnels deep. */
#define CHECK_TCP4(pay, off, tun) do { \
    CHECK_EQ_INT(P.family, 4); CHECK_EQ_INT(P.proto, 6); \
    CHECK(is4(P.src, V4(10, 0, 0, 1))); CHECK(is4(P.dst, V4(10, 0, 0, 2))); \
    CHECK_EQ_INT(P.sport, 40000); CHECK_EQ_INT(P.dport, 443); \
    CHECK_EQ_INT(P.seq, 1000); CHECK_EQ_INT(P.tcp_flags, TCP_PSH | TCP_ACK); \
    CHECK_EQ_INT(P.ip_len, 40 + (pay)); CHECK_EQ_INT(P.pay_len, (pay)); \
    CHECK_EQ_INT(POFF, (off)); CHECK_EQ_INT(P.payload_cap, (pay)); \
    CHECK_EQ_INT(P.tunnels, (tun)); } while (0)
/* The udp6() packet of net with pay bytes. */
#define CHECK_UDP6(net, pay, off, tun) do { \
    CHECK_EQ_INT(P.family, 6); CHECK_EQ_INT(P.proto, 17); \
    CHECK(is6(P.src, (net), 1)); CHECK(is6(P.dst, (net), 2)); \
    CHECK_EQ_INT(P.sport, 5353); CHECK_EQ_INT(P.dport, 53); \
    CHECK_EQ_INT(P.seq, 0); CHECK_EQ_INT(P.tcp_flags, 0); \
    CHECK_EQ_INT(P.ip_len, 48 + (pay)); CHECK_EQ_INT(P.pay_len, (pay)); \
    CHECK_EQ_INT(POFF, (off)); CHECK_EQ_INT(P.payload_cap, (pay)); \
    CHECK_EQ_INT(P.tunnels, (tun)); } while (0)

/* ------------------------------------------------------------ link layer */

static void test_status_names(void)
{
    CHECK_EQ_STR(decode_status_name(DECODE_OK), "ok");
    CHECK_EQ_STR(decode_status_name(DECODE_FRAGMENT), "fragment");
    CHECK_EQ_STR(decode_status_name(DECODE_LINKTYPE), "link_type");
    CHECK_EQ_STR(decode_status_name(DECODE_NOT_IP), "not_ip");
    CHECK_EQ_STR(decode_status_name(DECODE_OTHER_PROTO), "other_proto");
    CHECK_EQ_STR(decode_status_name(DECODE_MALFORMED), "malformed");
    CHECK_EQ_STR(decode_status_name(DECODE_TUNNEL), "tunnel");
    CHECK_EQ_STR(decode_status_name(DECODE_NSTATUS), "?");
    CHECK_EQ_STR(decode_status_name((decode_status)-1), "?");
}

static void test_eth_ipv4_tcp(void)
{
    frame f = {0};
    eth(&f, 0x0800);
    tcp4(&f, 5);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_TCP4(5, 54, 0);
    for (int i = 4; i < 16; i++)
        CHECK(P.src[i] == 0 && P.dst[i] == 0);
    CHECK(memcmp(f.b + 54, "abcde", 5) == 0);
}

static void test_eth_ipv6_udp(void)
{
    frame f = {0};
    eth(&f, 0x86DD);
    udp6(&f, 7, 12);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_UDP6(7, 12, 62, 0);
}

static void test_vlan_tags(void)
{
    static const unsigned tpids[][3] = {
        {0x8100}, {0x88A8, 0x8100}, {0x88A8, 0x8100, 0x8100}, {0x8100, 0x8100, 0x8100},
        {0x9100}, {0x9200}, {0x88A8, 0x9200, 0x8100},
    };
    static const int ntags[] = {1, 2, 3, 3, 1, 1, 3};
    for (size_t t = 0; t < sizeof ntags / sizeof ntags[0]; t++) {
        frame f = {0};
        eth(&f, tpids[t][0]);
        for (int i = 0; i < ntags[t]; i++)
            vlan(&f, 100 + i, i + 1 < ntags[t] ? tpids[t][i + 1] : 0x0800);
        tcp4(&f, 3);
        CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
        CHECK_TCP4(3, 54 + 4 * ntags[t], 0);
    }
    frame f = {0};
    eth(&f, 0x88A8);
    vlan(&f, 1, 0x8100);
    vlan(&f, 2, 0x86DD);
    udp6(&f, 3, 4);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_UDP6(3, 4, 14 + 8 + 48, 0);
    /* tag cut off; tagged ARP */
    frame g = {0};
    eth(&g, 0x8100);
    put16(&g, 5);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_MALFORMED);
    put16(&g, 0x0806);
    fill(&g, 0, 28);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_NOT_IP);
}

static void mpls_label(frame *f, unsigned label, int bottom)
{
    put32(f, (uint32_t)label << 12 | (bottom ? 0x100u : 0) | 64);
}

static void test_mpls(void)
{
    frame f = {0};
    eth(&f, 0x8847);
    mpls_label(&f, 16, 1);
    tcp4(&f, 8);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_TCP4(8, 58, 0);

    frame g = {0};
    eth(&g, 0x8847);
    mpls_label(&g, 16, 0);
    mpls_label(&g, 17, 0);
    mpls_label(&g, 18, 1);
    udp6(&g, 9, 2);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_OK);
    CHECK_UDP6(9, 2, 26 + 48, 0);

    frame h = {0};          /* multicast MPLS under a VLAN tag */
    eth(&h, 0x8100);
    vlan(&h, 7, 0x8848);
    mpls_label(&h, 20, 1);
    tcp4(&h, 1);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &h), DECODE_OK);
    CHECK_TCP4(1, 62, 0);

    /* Only 0x45 is taken as IPv4 after the stack (like dpkt): options
     * make it "not IP"; so does a pseudowire control word. */
    frame o = {0};
    eth(&o, 0x8847);
    mpls_label(&o, 16, 1);
    size_t ip = ip4x(&o, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 6, 0);
    tcp(&o, 1, 2, 3, TCP_ACK, 5);
    ip4_end(&o, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &o), DECODE_NOT_IP);
    frame pw = {0};
    eth(&pw, 0x8847);
    mpls_label(&pw, 16, 1);
    put32(&pw, 0);
    eth(&pw, 0x0800);
    tcp4(&pw, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &pw), DECODE_NOT_IP);

    /* stack cut before its bottom, or nothing after it */
    frame c = {0};
    eth(&c, 0x8847);
    mpls_label(&c, 16, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &c), DECODE_MALFORMED);
    frame e = {0};
    eth(&e, 0x8847);
    mpls_label(&e, 16, 1);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &e), DECODE_MALFORMED);

    /* dpkt (and so the reference) reads at most 24 labels and then looks
     * at the next byte even without a bottom-of-stack bit. */
    for (int nl = 23; nl <= 25; nl++) {
        frame m = {0};
        eth(&m, 0x8847);
        for (int i = 0; i < nl; i++)
            mpls_label(&m, 16 + i, 0);
        tcp4(&m, 2);
        /* 23: the IPv4 header's first word is taken as the 24th label */
        CHECK_EQ_INT(dec(LINK_ETHERNET, &m), nl == 24 ? DECODE_OK : DECODE_NOT_IP);
        if (nl == 24)
            CHECK_TCP4(2, 14 + 96 + 40, 0);
    }
}

/* Cisco ISL header (26 bytes) in front of a whole Ethernet frame */
static void isl(frame *f, unsigned dst0)
{
    put8(f, dst0);
    put32(f, 0x000c0000);
    put8(f, 0);             /* type: Ethernet */
    fill(f, 0x0c, 6);
    put16(f, 1500);         /* length (<= 1500) */
    put8(f, 0xaa); put8(f, 0xaa); put8(f, 3);
    put8(f, 0); put8(f, 0); put8(f, 0x0c);
    put16(f, 10 << 1);      /* VLAN 10 */
    put16(f, 0);
    put16(f, 0);
}

static void test_not_ip(void)
{
    frame a = {0};
    eth(&a, 0x0806);
    fill(&a, 0, 28);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &a), DECODE_NOT_IP);
    frame l = {0};            /* 802.3 length + LLC/SNAP carrying IP */
    eth(&l, 46);
    put8(&l, 0xaa); put8(&l, 0xaa); put8(&l, 3);
    put8(&l, 0); put8(&l, 0); put8(&l, 0); put16(&l, 0x0800);
    tcp4(&l, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &l), DECODE_NOT_IP);
    l.b[12] = 1500 >> 8;
    l.b[13] = 1500 & 0xff;
    CHECK_EQ_INT(dec(LINK_ETHERNET, &l), DECODE_NOT_IP);
    frame p = {0};            /* PPPoE session with PPP IPv4 */
    eth(&p, 0x8864);
    put16(&p, 0x1100);
    put16(&p, 0x0001);
    put16(&p, 42);
    put16(&p, 0x0021);
    tcp4(&p, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &p), DECODE_NOT_IP);
    p.b[13] = 0x63;           /* discovery */
    CHECK_EQ_INT(dec(LINK_ETHERNET, &p), DECODE_NOT_IP);
    frame s = {0};
    eth(&s, 0x0800);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &s, 13), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &s, 0), DECODE_MALFORMED);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &s), DECODE_MALFORMED);
}

/* ISL: dpkt opens it (so the reference does); ordinary 802.3 frames to
 * other Cisco addresses (CDP 01:00:0c:cc:cc:cc) stay LLC. */
static void test_isl(void)
{
    frame f = {0};
    isl(&f, 0x01);
    eth(&f, 0x8100);
    vlan(&f, 10, 0x0800);
    tcp4(&f, 6);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_TCP4(6, 26 + 18 + 40, 0);
    frame g = {0};
    isl(&g, 0x03);
    eth(&g, 0x86DD);
    udp6(&g, 1, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_OK);
    CHECK_UDP6(1, 0, 40 + 48, 0);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &g, 30), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &g, 20), DECODE_MALFORMED);
    g.b[4] = 0xcc;
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_NOT_IP);
}

static void test_sll(void)
{
    frame f = {0};
    sll(&f, 0x0800);
    tcp4(&f, 9);
    CHECK_EQ_INT(dec(LINK_SLL, &f), DECODE_OK);
    CHECK_TCP4(9, 56, 0);
    CHECK_EQ_INT(decn(LINK_SLL, &f, 15), DECODE_MALFORMED);
    f.b[14] = 0x08; f.b[15] = 0x06;
    CHECK_EQ_INT(dec(LINK_SLL, &f), DECODE_NOT_IP);
    frame g = {0};
    sll(&g, 0x86DD);
    udp6(&g, 2, 3);
    CHECK_EQ_INT(dec(LINK_SLL, &g), DECODE_OK);
    CHECK_UDP6(2, 3, 16 + 48, 0);

    frame h = {0};
    sll2(&h, 0x0800);
    tcp4(&h, 9);
    CHECK_EQ_INT(dec(LINK_SLL2, &h), DECODE_OK);
    CHECK_TCP4(9, 60, 0);
    CHECK_EQ_INT(decn(LINK_SLL2, &h, 19), DECODE_MALFORMED);
    /* v2 has the protocol in front; v1 at byte 14 */
    CHECK_EQ_INT(dec(LINK_SLL, &h), DECODE_NOT_IP);
    frame k = {0};
    sll2(&k, 0x86DD);
    udp6(&k, 4, 1);
    CHECK_EQ_INT(dec(LINK_SLL2, &k), DECODE_OK);
    CHECK_UDP6(4, 1, 20 + 48, 0);
    k.b[0] = 0x08; k.b[1] = 0x06;
    CHECK_EQ_INT(dec(LINK_SLL2, &k), DECODE_NOT_IP);
}

static void test_raw(void)
{
    static const int lts[] = {LINK_RAW, LINK_RAW_BSD, LINK_RAW_OBSD};
    for (int i = 0; i < 3; i++) {
        frame f = {0};
        tcp4(&f, 4);
        CHECK_EQ_INT(dec(lts[i], &f), DECODE_OK);
        CHECK_TCP4(4, 40, 0);
        frame g = {0};
        udp6(&g, 5, 6);
        CHECK_EQ_INT(dec(lts[i], &g), DECODE_OK);
        CHECK_UDP6(5, 6, 48, 0);
        g.b[0] = 0x55;        /* version 5 */
        CHECK_EQ_INT(dec(lts[i], &g), DECODE_NOT_IP);
        CHECK_EQ_INT(decn(lts[i], &g, 0), DECODE_NOT_IP);
    }
    frame f = {0};
    tcp4(&f, 4);
    CHECK_EQ_INT(dec(LINK_IPV4, &f), DECODE_OK);
    CHECK_TCP4(4, 40, 0);
    frame g = {0};
    udp6(&g, 5, 6);
    CHECK_EQ_INT(dec(LINK_IPV6, &g), DECODE_OK);
    CHECK_UDP6(5, 6, 48, 0);
    /* the link type, not the nibble, says which version: an IPv6 packet
     * given as LINK_IPV4 is a (bad) IPv4 header with IHL 0 */
    CHECK_EQ_INT(dec(LINK_IPV4, &g), DECODE_MALFORMED);
}

static void test_null_loop(void)
{
    /* DLT_NULL: host byte order of the writer, either one */
    static const uint32_t fam6[] = {10, 23, 24, 28, 30};
    frame f = {0};
    null_le(&f, 2);
    tcp4(&f, 7);
    CHECK_EQ_INT(dec(LINK_NULL, &f), DECODE_OK);
    CHECK_TCP4(7, 44, 0);
    frame b = {0};
    put32(&b, 2);
    tcp4(&b, 7);
    CHECK_EQ_INT(dec(LINK_NULL, &b), DECODE_OK);
    CHECK_TCP4(7, 44, 0);
    CHECK_EQ_INT(dec(LINK_LOOP, &b), DECODE_OK);     /* DLT_LOOP: big-endian */
    CHECK_TCP4(7, 44, 0);
    CHECK_EQ_INT(dec(LINK_LOOP, &f), DECODE_NOT_IP); /* 0x02000000 */
    for (int i = 0; i < 5; i++) {
        frame le = {0}, be = {0};
        null_le(&le, fam6[i]);
        udp6(&le, 1, 2);
        put32(&be, fam6[i]);
        udp6(&be, 1, 2);
        CHECK_EQ_INT(dec(LINK_NULL, &le), DECODE_OK);
        CHECK_UDP6(1, 2, 52, 0);
        CHECK_EQ_INT(dec(LINK_NULL, &be), DECODE_OK);
        CHECK_UDP6(1, 2, 52, 0);
        CHECK_EQ_INT(dec(LINK_LOOP, &be), DECODE_OK);
        CHECK_UDP6(1, 2, 52, 0);
        CHECK_EQ_INT(dec(LINK_LOOP, &le), DECODE_NOT_IP);
    }
    /* unknown families; the family, not the nibble, picks the version */
    frame u = {0};
    null_le(&u, 7);
    tcp4(&u, 0);
    CHECK_EQ_INT(dec(LINK_NULL, &u), DECODE_NOT_IP);
    u.b[0] = 0;
    CHECK_EQ_INT(dec(LINK_NULL, &u), DECODE_NOT_IP);
    u.b[0] = 24;
    CHECK_EQ_INT(dec(LINK_NULL, &u), DECODE_MALFORMED);
    frame v = {0};
    null_le(&v, 2);
    udp6(&v, 1, 0);
    CHECK_EQ_INT(dec(LINK_NULL, &v), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_NULL, &f, 3), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_LOOP, &b, 0), DECODE_MALFORMED);
}

static void test_linktype_unknown(void)
{
    static const int lts[] = {105, 127, 2, 9, 147, 9999, -1};
    frame f = {0};
    eth(&f, 0x0800);
    tcp4(&f, 1);
    for (size_t i = 0; i < sizeof lts / sizeof lts[0]; i++) {
        CHECK_EQ_INT(dec(lts[i], &f), DECODE_LINKTYPE);
        CHECK_EQ_INT(decn(lts[i], &f, 0), DECODE_LINKTYPE);
    }
}

/* ------------------------------------------------------------ IPv4 */

static void test_ipv4_options(void)
{
    for (unsigned ihl = 5; ihl <= 15; ihl++) {
        frame f = {0};
        eth(&f, 0x0800);
        size_t ip = ip4x(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), ihl, 0);
        tcp(&f, 40000, 443, 1000, TCP_PSH | TCP_ACK, 5);
        data(&f, 10);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
        CHECK_EQ_INT(P.ip_len, ihl * 4 + 30);
        CHECK_EQ_INT(P.pay_len, 10);
        CHECK_EQ_INT(POFF, 14 + ihl * 4 + 20);
        CHECK_EQ_INT(P.payload_cap, 10);
        CHECK_EQ_INT(P.sport, 40000);
        CHECK(is4(P.dst, V4(10, 0, 0, 2)));
    }
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        frame f = {0};
        eth(&f, 0x0800);
        size_t ip = ip4x(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), ihl, 0);
        tcp(&f, 40000, 443, 1000, TCP_ACK, 5);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_MALFORMED);
    }
}

static void test_ipv4_lengths(void)
{
    /* total length 0 (segmentation offload): the captured IP length */
    frame f = {0};
    eth(&f, 0x0800);
    size_t ip = ip4(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(&f, 40000, 443, 1000, TCP_PSH | TCP_ACK, 8);
    data(&f, 3000);
    ip4_end(&f, ip, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 20 + 32 + 3000);
    CHECK_EQ_INT(P.pay_len, 3000);
    CHECK_EQ_INT(P.payload_cap, 3000);
    CHECK_EQ_INT(POFF, 14 + 52);
    frame u = {0};
    ip = ip4(&u, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    size_t ud = udp(&u, 1, 2);
    data(&u, 30);
    udp_end(&u, ud, AUTO);
    ip4_end(&u, ip, 0);
    CHECK_EQ_INT(dec(LINK_RAW, &u), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 58);
    CHECK_EQ_INT(P.pay_len, 30);

    /* cut by the snap length: sizes still from the headers */
    frame c = {0};
    eth(&c, 0x0800);
    tcp4(&c, 1400);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &c, 96), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 1440);
    CHECK_EQ_INT(P.pay_len, 1400);
    CHECK_EQ_INT(P.payload_cap, 96 - 54);
    CHECK_EQ_INT(POFF, 54);
    CHECK_EQ_INT(P.seq, 1000);
    frame cu = {0};
    eth(&cu, 0x0800);
    ip = ip4(&cu, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    ud = udp(&cu, 1, 2);
    data(&cu, 1000);
    udp_end(&cu, ud, AUTO);
    ip4_end(&cu, ip, AUTO);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &cu, 64), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 1028);
    CHECK_EQ_INT(P.pay_len, 1000);
    CHECK_EQ_INT(P.payload_cap, 64 - 42);

    /* shorter than captured (Ethernet padding): the slice ends at it */
    frame a = {0};
    eth(&a, 0x0800);
    ip = ip4(&a, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(&a, 40000, 443, 1000, TCP_ACK, 5);
    ip4_end(&a, ip, AUTO);
    fill(&a, 0, 6);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &a), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 40);
    CHECK_EQ_INT(P.pay_len, 0);
    CHECK_EQ_INT(P.payload_cap, 0);
    CHECK_EQ_INT(POFF, 54);
    frame p = {0};
    eth(&p, 0x0800);
    ip = ip4(&p, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    ud = udp(&p, 1, 2);
    data(&p, 4);
    udp_end(&p, ud, AUTO);
    ip4_end(&p, ip, AUTO);
    fill(&p, 0, 14);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &p), DECODE_OK);
    CHECK_EQ_INT(P.pay_len, 4);
    CHECK_EQ_INT(P.payload_cap, 4);

    /* too short: header cut, options cut, total length below the TCP
     * header */
    frame t = {0};
    tcp4(&t, 0);
    CHECK_EQ_INT(decn(LINK_RAW, &t, 19), DECODE_MALFORMED);
    frame o = {0};
    ip = ip4x(&o, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 15, 0);
    tcp(&o, 1, 2, 3, TCP_ACK, 5);
    ip4_end(&o, ip, AUTO);
    CHECK_EQ_INT(decn(LINK_RAW, &o, 30), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_RAW, &o, 60), DECODE_MALFORMED);
    CHECK_EQ_INT(dec(LINK_RAW, &o), DECODE_OK);
    ip4_end(&t, 0, 39);
    CHECK_EQ_INT(dec(LINK_RAW, &t), DECODE_MALFORMED);
    ip4_end(&t, 0, 10);
    CHECK_EQ_INT(dec(LINK_RAW, &t), DECODE_MALFORMED);
}

static void test_ipv4_fragments(void)
{
    static const struct { unsigned field; decode_status st; } cases[] = {
        {0x0001, DECODE_FRAGMENT}, {0x2000 | 185, DECODE_FRAGMENT}, {0x1fff, DECODE_FRAGMENT},
        {0x4000 | 3, DECODE_FRAGMENT}, {0x1000, DECODE_FRAGMENT},
        {0x2000, DECODE_OK},        /* first fragment (MF, offset 0) */
        {0x4000, DECODE_OK},        /* DF */
        {0x8000, DECODE_OK},        /* reserved bit */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame f = {0};
        eth(&f, 0x0800);
        size_t ip = ip4x(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 5, cases[i].field);
        tcp(&f, 40000, 443, 1000, TCP_PSH | TCP_ACK, 5);
        data(&f, 100);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_ETHERNET, &f), cases[i].st);
        if (cases[i].st == DECODE_OK)
            CHECK_TCP4(100, 54, 0);
    }
    /* a fragment is a fragment whatever it carries */
    frame g = {0};
    size_t ip = ip4x(&g, 1, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 5, 0x0010);
    fill(&g, 0, 16);
    ip4_end(&g, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &g), DECODE_FRAGMENT);
    g.b[7] = 0;
    CHECK_EQ_INT(dec(LINK_RAW, &g), DECODE_OTHER_PROTO);
}

static void test_tcp_header(void)
{
    /* data offset below 5 words */
    for (unsigned doff = 0; doff < 5; doff++) {
        frame f = {0};
        size_t ip = ip4(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
        tcp(&f, 1, 2, 3, TCP_ACK, doff);
        data(&f, 20);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_MALFORMED);
    }
    /* options cut by the capture: decoded, sizes from the headers */
    frame o = {0};
    eth(&o, 0x0800);
    size_t ip = ip4(&o, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(&o, 40000, 443, 0xfffffffe, TCP_SYN | TCP_ACK, 15);
    data(&o, 100);
    ip4_end(&o, ip, AUTO);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &o, 14 + 20 + 30), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 180);
    CHECK_EQ_INT(P.pay_len, 100);
    CHECK_EQ_INT(P.payload_cap, 0);
    CHECK_EQ_INT(POFF, 64);
    CHECK_EQ_INT(P.seq, 0xfffffffe);
    CHECK_EQ_INT(P.tcp_flags, TCP_SYN | TCP_ACK);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &o, 14 + 20 + 20), DECODE_OK);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &o, 14 + 20 + 19), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &o, 14 + 20 + 60 + 7), DECODE_OK);
    CHECK_EQ_INT(P.payload_cap, 7);
    CHECK_EQ_INT(POFF, 14 + 80);

    /* pure ACK, SYN with options, SYN with data, FIN, RST, all flag bits */
    static const struct { unsigned flags, doff, pay; } t[] = {
        {TCP_ACK, 5, 0}, {TCP_SYN, 10, 0}, {TCP_SYN, 8, 10}, {TCP_FIN | TCP_ACK, 5, 0},
        {TCP_RST, 5, 0}, {0xff, 5, 1}, {0, 5, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        frame f = {0};
        ip = ip4(&f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
        tcp(&f, 40000, 443, (uint32_t)i, t[i].flags, t[i].doff);
        data(&f, t[i].pay);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OK);
        CHECK_EQ_INT(P.tcp_flags, t[i].flags);
        CHECK_EQ_INT(P.pay_len, t[i].pay);
        CHECK_EQ_INT(P.payload_cap, t[i].pay);
        CHECK_EQ_INT(P.ip_len, 20 + t[i].doff * 4 + t[i].pay);
        CHECK_EQ_INT(P.seq, i);
        CHECK_EQ_INT(POFF, 20 + t[i].doff * 4);
    }
    /* IP length shorter than IP + TCP header: payload 0, not negative */
    frame s = {0};
    ip = ip4(&s, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(&s, 40000, 443, 1, TCP_ACK, 8);
    ip4_end(&s, ip, 40);
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 40);
    CHECK_EQ_INT(P.pay_len, 0);
    CHECK_EQ_INT(P.payload_cap, 0);
    CHECK_EQ_INT(POFF, 40);
}

static void test_udp_length(void)
{
    /* {UDP length field, captured payload bytes, expected pay_len} */
    static const long t[][3] = {
        {18, 10, 10}, {108, 10, 100}, {8, 10, 0}, {3, 10, 0}, {0, 5, 0}, {65535, 0, 65527},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        frame f = {0};
        size_t ip = ip4(&f, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
        size_t u = udp(&f, 1000, 2000);
        data(&f, (size_t)t[i][1]);
        udp_end(&f, u, t[i][0]);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OK);
        CHECK_EQ_INT(P.pay_len, t[i][2]);
        CHECK_EQ_INT(P.payload_cap, t[i][1]);
        CHECK_EQ_INT(P.ip_len, 28 + t[i][1]);
        CHECK_EQ_INT(POFF, 28);
        CHECK_EQ_INT(P.sport, 1000);
        CHECK_EQ_INT(P.dport, 2000);
    }
    frame s = {0};
    size_t ip = ip4(&s, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    fill(&s, 0, 7);
    ip4_end(&s, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_MALFORMED);
}

static void test_other_proto(void)
{
    static const unsigned protos[] = {1, 2, 50, 51, 132, 0, 255};
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        frame f = {0};
        size_t ip = ip4(&f, protos[i], V4(10, 0, 0, 1), V4(10, 0, 0, 2));
        fill(&f, 0x45, 40);
        ip4_end(&f, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OTHER_PROTO);
    }
}

/* ------------------------------------------------------------ IPv6 */

static void test_ipv6_ext_chain(void)
{
    frame f = {0};
    eth(&f, 0x86DD);
    size_t ip = ip6(&f, 0, 3);
    ext_opts(&f, 43, 0);      /* hop-by-hop, 8 bytes */
    ext_routing(&f, 60, 2);   /* routing, 24 bytes */
    ext_opts(&f, 6, 1);       /* destination options, 16 bytes */
    tcp(&f, 40000, 443, 77, TCP_ACK | TCP_PSH, 8);
    data(&f, 30);
    ip6_end(&f, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_EQ_INT(P.family, 6);
    CHECK_EQ_INT(P.proto, 6);
    CHECK(is6(P.src, 3, 1));
    CHECK(is6(P.dst, 3, 2));
    CHECK_EQ_INT(P.ip_len, 40 + 48 + 32 + 30);
    CHECK_EQ_INT(P.pay_len, 30);
    CHECK_EQ_INT(P.payload_cap, 30);
    CHECK_EQ_INT(POFF, 14 + 40 + 48 + 32);
    CHECK_EQ_INT(P.seq, 77);

    /* AH (24 bytes) before UDP */
    frame a = {0};
    ip = ip6(&a, 51, 4);
    ext_ah(&a, 17, 4);
    size_t u = udp(&a, 5353, 53);
    data(&a, 9);
    udp_end(&a, u, AUTO);
    ip6_end(&a, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &a), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 40 + 24 + 17);
    CHECK_EQ_INT(P.pay_len, 9);
    CHECK_EQ_INT(POFF, 64 + 8);

    /* ESP (encrypted), ICMPv6, no next header, ESP after hop-by-hop */
    static const unsigned other[] = {50, 58, 59};
    for (int i = 0; i < 3; i++) {
        frame o = {0};
        ip = ip6(&o, other[i], 1);
        fill(&o, 0, 32);
        ip6_end(&o, ip, AUTO);
        CHECK_EQ_INT(dec(LINK_IPV6, &o), DECODE_OTHER_PROTO);
    }
    frame e = {0};
    ip = ip6(&e, 0, 1);
    ext_opts(&e, 50, 0);
    fill(&e, 0, 32);
    ip6_end(&e, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &e), DECODE_OTHER_PROTO);
}

static void test_ipv6_fragments(void)
{
    /* first fragment (offset 0, M) of a TCP packet: decoded, the fragment
     * header is not payload */
    frame f = {0};
    size_t ip = ip6(&f, 44, 5);
    ext_frag(&f, 6, 0, 1);
    tcp(&f, 40000, 443, 5, TCP_ACK, 5);
    data(&f, 100);
    ip6_end(&f, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &f), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 40 + 8 + 120);
    CHECK_EQ_INT(P.pay_len, 100);
    CHECK_EQ_INT(POFF, 68);
    f.b[43] = 0;              /* atomic fragment: offset 0, no M */
    CHECK_EQ_INT(dec(LINK_IPV6, &f), DECODE_OK);
    f.b[42] = 0x05;           /* offset 160 */
    f.b[43] = 0x01;
    CHECK_EQ_INT(dec(LINK_IPV6, &f), DECODE_FRAGMENT);
    f.b[42] = 0;
    f.b[43] = 0x08;           /* offset 1, last */
    CHECK_EQ_INT(dec(LINK_IPV6, &f), DECODE_FRAGMENT);

    /* fragment header after hop-by-hop; non-first fragment of ESP */
    frame g = {0};
    ip = ip6(&g, 0, 5);
    ext_opts(&g, 44, 0);
    ext_frag(&g, 17, 3, 0);
    fill(&g, 0, 20);
    ip6_end(&g, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &g), DECODE_FRAGMENT);
    g.b[48] = 50;
    CHECK_EQ_INT(dec(LINK_IPV6, &g), DECODE_FRAGMENT);
}

static void test_ipv6_lengths(void)
{
    /* payload length 0: the captured length */
    frame z = {0};
    eth(&z, 0x86DD);
    size_t ip = ip6(&z, 0, 8);
    ext_opts(&z, 6, 0);
    tcp(&z, 40000, 443, 1, TCP_ACK, 5);
    data(&z, 500);
    ip6_end(&z, ip, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &z), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 40 + 8 + 20 + 500);
    CHECK_EQ_INT(P.pay_len, 500);
    CHECK_EQ_INT(P.payload_cap, 500);

    /* snap length cut */
    frame c = {0};
    eth(&c, 0x86DD);
    udp6(&c, 2, 1200);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &c, 80), DECODE_OK);
    CHECK_EQ_INT(P.ip_len, 1248);
    CHECK_EQ_INT(P.pay_len, 1200);
    CHECK_EQ_INT(P.payload_cap, 80 - 62);

    /* trailer after the packet */
    frame t = {0};
    eth(&t, 0x86DD);
    udp6(&t, 2, 3);
    fill(&t, 0xee, 10);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &t), DECODE_OK);
    CHECK_UDP6(2, 3, 62, 0);

    /* truncated: fixed header, extension headers, AH */
    CHECK_EQ_INT(decn(LINK_ETHERNET, &t, 14 + 39), DECODE_MALFORMED);
    frame e = {0};
    ip = ip6(&e, 0, 1);
    ext_opts(&e, 43, 1);
    ext_routing(&e, 44, 0);
    ext_frag(&e, 51, 0, 0);
    ext_ah(&e, 6, 1);
    tcp(&e, 1, 2, 3, TCP_ACK, 5);
    ip6_end(&e, ip, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &e), DECODE_OK);
    CHECK_EQ_INT(POFF, 40 + 16 + 8 + 8 + 12 + 20);
    static const size_t cuts[] = {41, 50, 60, 70, 78, 85, 90, 103};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK_EQ_INT(decn(LINK_IPV6, &e, cuts[i]), DECODE_MALFORMED);
    /* a payload length that ends inside an extension header */
    ip6_end(&e, 0, 20);
    CHECK_EQ_INT(dec(LINK_IPV6, &e), DECODE_MALFORMED);
}

/* ------------------------------------------------------------ tunnels */

static void test_ip_in_ip(void)
{
    /* 4in4 */
    frame a = {0};
    eth(&a, 0x0800);
    size_t o = ip4(&a, 4, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    tcp4(&a, 20);
    ip4_end(&a, o, AUTO);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &a), DECODE_OK);
    CHECK_TCP4(20, 14 + 20 + 40, 1);
    /* 6in4 */
    frame b = {0};
    o = ip4(&b, 41, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    udp6(&b, 6, 5);
    ip4_end(&b, o, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &b), DECODE_OK);
    CHECK_UDP6(6, 5, 20 + 48, 1);
    /* 4in6, after a hop-by-hop header */
    frame c = {0};
    o = ip6(&c, 0, 99);
    ext_opts(&c, 4, 0);
    tcp4(&c, 11);
    ip6_end(&c, o, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &c), DECODE_OK);
    CHECK_TCP4(11, 48 + 40, 1);
    /* 6in6 */
    frame d = {0};
    o = ip6(&d, 41, 99);
    udp6(&d, 6, 0);
    ip6_end(&d, o, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &d), DECODE_OK);
    CHECK_UDP6(6, 0, 40 + 48, 1);

    /* inner sizes do not depend on the outer length fields */
    ip4_end(&a, 14, 0);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &a), DECODE_OK);
    CHECK_TCP4(20, 74, 1);

    /* inner packet truncated, broken, fragment, ICMP */
    CHECK_EQ_INT(decn(LINK_RAW, &b, 20 + 39), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &a, 14 + 20 + 19), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &a, 14 + 20 + 30), DECODE_TUNNEL);
    frame e = {0};
    o = ip4(&e, 4, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    size_t in = ip4x(&e, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 4, 0);
    fill(&e, 0, 20);
    ip4_end(&e, in, AUTO);
    ip4_end(&e, o, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_TUNNEL);
    e.b[20] = 0x45;
    e.b[26] = 0x00;
    e.b[27] = 0x10;           /* inner non-first fragment */
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_FRAGMENT);
    e.b[27] = 0;
    e.b[29] = 1;              /* inner ICMP */
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_OTHER_PROTO);
    e.b[29] = 6;
    e.b[40 + 12] = 0x30;      /* inner TCP data offset 3 */
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_TUNNEL);
    e.b[52] = 0x50;
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_OK);
    e.b[7] = 0x20;            /* outer non-first fragment */
    CHECK_EQ_INT(dec(LINK_RAW, &e), DECODE_FRAGMENT);
}

static void test_gre(void)
{
    /* {flags, optional bytes} of GRE v0 headers that are opened; 0x0080
     * and R are read the way dpkt reads them (see decode.c) */
    static const unsigned flags[][2] = {
        {0, 0}, {0x8000, 4}, {0x2000, 4}, {0x1000, 4}, {0xB000, 12}, {0x0080, 4},
        {0x3080, 12}, {0x0800, 0}, {0x0700, 0},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        frame f = {0};
        eth(&f, 0x0800);
        size_t o = ip4(&f, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        gre(&f, flags[i][0], 0x0800);
        tcp4(&f, 12);
        ip4_end(&f, o, AUTO);
        CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
        CHECK_TCP4(12, 14 + 20 + 4 + (long)flags[i][1] + 40, 1);
        /* truncated inside the optional fields: malformed outer packet */
        if (flags[i][1])
            CHECK_EQ_INT(decn(LINK_ETHERNET, &f, 14 + 20 + 4 + flags[i][1] - 1), DECODE_MALFORMED);
    }
    /* IPv6 in GRE over IPv6 */
    frame v = {0};
    size_t o = ip6(&v, 47, 50);
    gre(&v, 0x2000, 0x86DD);
    udp6(&v, 51, 7);
    ip6_end(&v, o, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &v), DECODE_OK);
    CHECK_UDP6(51, 7, 40 + 8 + 48, 1);
    CHECK_EQ_INT(decn(LINK_IPV6, &v, 43), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_IPV6, &v, 48 + 30), DECODE_TUNNEL);

    /* transparent Ethernet with a VLAN tag; with ARP inside */
    frame t = {0};
    o = ip4(&t, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    gre(&t, 0x2000, 0x6558);
    eth(&t, 0x8100);
    vlan(&t, 3, 0x0800);
    tcp4(&t, 2);
    ip4_end(&t, o, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &t), DECODE_OK);
    CHECK_TCP4(2, 20 + 8 + 18 + 40, 1);
    t.b[28 + 16] = 0x08;
    t.b[28 + 17] = 0x06;
    CHECK_EQ_INT(dec(LINK_RAW, &t), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_RAW, &t, 28 + 10), DECODE_TUNNEL);

    /* RFC 1701 routing: checksum/offset, source route entries up to a
     * null one (dpkt opens these) */
    frame r = {0};
    o = ip4(&r, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    gre(&r, 0x4000, 0x0800);
    put16(&r, 0x0800); put8(&r, 0); put8(&r, 8); fill(&r, 9, 8);
    put16(&r, 0x0800); put8(&r, 4); put8(&r, 4); fill(&r, 9, 4);
    put32(&r, 0);
    tcp4(&r, 5);
    ip4_end(&r, o, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &r), DECODE_OK);
    CHECK_TCP4(5, 20 + 8 + 12 + 8 + 4 + 40, 1);
    CHECK_EQ_INT(decn(LINK_RAW, &r, 20 + 8 + 12 + 8 + 3), DECODE_MALFORMED);
    CHECK_EQ_INT(decn(LINK_RAW, &r, 20 + 8 + 10), DECODE_MALFORMED);

    /* not opened: version 1 (PPTP), other protocols; too short */
    static const unsigned bad[][2] = {{0x0001, 0x0800}, {0x3081, 0x880B}, {0x0004, 0x0800},
                                      {0, 0x880B}, {0, 0x0806}, {0, 0x22EB}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame f = {0};
        o = ip4(&f, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        put16(&f, bad[i][0]);
        put16(&f, bad[i][1]);
        fill(&f, 0, 12);
        tcp4(&f, 1);
        ip4_end(&f, o, AUTO);
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_TUNNEL);
    }
    frame s = {0};
    o = ip4(&s, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    fill(&s, 0, 3);
    ip4_end(&s, o, AUTO);
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_MALFORMED);
}

/* Outer IPv4 UDP to port dport; returns {ip, udp} offsets for outer_end. */
static void outer_udp(frame *f, unsigned dport, size_t at[2])
{
    at[0] = ip4(f, 17, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    at[1] = udp(f, 51000, dport);
}
static void outer_end(frame *f, const size_t at[2])
{
    udp_end(f, at[1], AUTO);
    ip4_end(f, at[0], AUTO);
}
/* the packet is the outer UDP packet itself, payload ulen - 8 */
#define CHECK_OUTER_UDP(dp, ulen) do { \
    CHECK_EQ_INT(P.family, 4); CHECK_EQ_INT(P.proto, 17); \
    CHECK(is4(P.src, V4(192, 0, 2, 1))); CHECK_EQ_INT(P.dport, (dp)); \
    CHECK_EQ_INT(P.sport, 51000); CHECK_EQ_INT(P.tunnels, 0); \
    CHECK_EQ_INT(P.pay_len, (ulen) - 8); } while (0)

static void test_vxlan(void)
{
    size_t at[2];
    frame f = {0};
    eth(&f, 0x0800);
    outer_udp(&f, 4789, at);
    vxlan(&f, 0x08);
    eth(&f, 0x0800);
    tcp4(&f, 30);
    outer_end(&f, at);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_TCP4(30, 14 + 28 + 8 + 14 + 40, 1);

    /* I flag clear: an ordinary UDP packet */
    f.b[42] = 0x00;
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_OK);
    CHECK_OUTER_UDP(4789, 8 + 8 + 14 + 70);
    CHECK_EQ_INT(POFF, 42);
    CHECK_EQ_INT(P.payload_cap, 8 + 14 + 70);
    f.b[42] = 0x08;
    /* VXLAN header cut: ordinary UDP; inner frame cut: tunnel */
    CHECK_EQ_INT(decn(LINK_ETHERNET, &f, 42 + 7), DECODE_OK);
    CHECK_EQ_INT(P.tunnels, 0);
    CHECK_EQ_INT(P.dport, 4789);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &f, 42 + 8 + 10), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &f, 42 + 8 + 14 + 10), DECODE_TUNNEL);
    /* inner ARP */
    f.b[50 + 12] = 0x08;
    f.b[50 + 13] = 0x06;
    CHECK_EQ_INT(dec(LINK_ETHERNET, &f), DECODE_TUNNEL);

    /* VLAN-tagged IPv6 inside, over IPv6 */
    frame g = {0};
    size_t o = ip6(&g, 17, 70);
    size_t u = udp(&g, 51000, 4789);
    vxlan(&g, 0x0c);
    eth(&g, 0x8100);
    vlan(&g, 9, 0x86DD);
    udp6(&g, 71, 33);
    udp_end(&g, u, AUTO);
    ip6_end(&g, o, AUTO);
    CHECK_EQ_INT(dec(LINK_IPV6, &g), DECODE_OK);
    CHECK_UDP6(71, 33, 48 + 8 + 18 + 48, 1);

    /* only the destination port counts */
    frame s = {0};
    at[0] = ip4(&s, 17, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    at[1] = udp(&s, 4789, 12345);
    vxlan(&s, 0x08);
    eth(&s, 0x0800);
    tcp4(&s, 0);
    outer_end(&s, at);
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_OK);
    CHECK_EQ_INT(P.tunnels, 0);
    CHECK_EQ_INT(P.sport, 4789);
    CHECK_EQ_INT(P.dport, 12345);
}

static void test_geneve(void)
{
    size_t at[2];
    frame f = {0};
    outer_udp(&f, 6081, at);
    geneve(&f, 0, 2, 0x6558);
    eth(&f, 0x0800);
    tcp4(&f, 4);
    outer_end(&f, at);
    CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OK);
    CHECK_TCP4(4, 28 + 16 + 14 + 40, 1);

    frame i4 = {0};             /* IP directly, no options */
    outer_udp(&i4, 6081, at);
    geneve(&i4, 0, 0, 0x0800);
    tcp4(&i4, 4);
    outer_end(&i4, at);
    CHECK_EQ_INT(dec(LINK_RAW, &i4), DECODE_OK);
    CHECK_TCP4(4, 28 + 8 + 40, 1);
    i4.b[36] = 0x55;          /* inner version 5 */
    CHECK_EQ_INT(dec(LINK_RAW, &i4), DECODE_TUNNEL);

    frame i6 = {0};
    outer_udp(&i6, 6081, at);
    geneve(&i6, 0, 63, 0x86DD);
    udp6(&i6, 12, 1);
    outer_end(&i6, at);
    CHECK_EQ_INT(dec(LINK_RAW, &i6), DECODE_OK);
    CHECK_UDP6(12, 1, 28 + 8 + 252 + 48, 1);
    /* options run past the packet: tunnel; header cut: plain UDP */
    CHECK_EQ_INT(decn(LINK_RAW, &i6, 28 + 8 + 100), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_RAW, &i6, 28 + 7), DECODE_OK);
    CHECK_OUTER_UDP(6081, 8 + 8 + 252 + 49);

    /* version 1: plain UDP; unknown protocol type: tunnel */
    frame v = {0};
    outer_udp(&v, 6081, at);
    geneve(&v, 1, 0, 0x0800);
    tcp4(&v, 4);
    outer_end(&v, at);
    CHECK_EQ_INT(dec(LINK_RAW, &v), DECODE_OK);
    CHECK_OUTER_UDP(6081, 8 + 8 + 44);
    v.b[28] = 0;
    v.b[30] = 0x88;
    v.b[31] = 0x47;
    CHECK_EQ_INT(dec(LINK_RAW, &v), DECODE_TUNNEL);
}

static void test_gtpu(void)
{
    size_t at[2];
    /* plain G-PDU */
    frame f = {0};
    outer_udp(&f, 2152, at);
    size_t g = gtpu(&f, 0x30, 255);
    tcp4(&f, 8);
    gtpu_end(&f, g);
    outer_end(&f, at);
    CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OK);
    CHECK_TCP4(8, 28 + 8 + 40, 1);
    /* echo request, error indication, end marker, GTPv2, PT 0: plain UDP */
    static const unsigned other[][2] = {{0x30, 1}, {0x32, 2}, {0x30, 26}, {0x30, 254},
                                        {0x48, 255}, {0x20, 255}};
    for (int i = 0; i < 6; i++) {
        f.b[28] = (uint8_t)other[i][0];
        f.b[29] = (uint8_t)other[i][1];
        CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_OK);
        CHECK_OUTER_UDP(2152, 8 + 8 + 48);
    }
    f.b[28] = 0x30;
    f.b[29] = 255;
    CHECK_EQ_INT(decn(LINK_RAW, &f, 28 + 7), DECODE_OK);
    CHECK_EQ_INT(P.tunnels, 0);
    f.b[36] = 0x00;           /* not IP inside */
    CHECK_EQ_INT(dec(LINK_RAW, &f), DECODE_TUNNEL);

    /* sequence number present (S): 12-byte header */
    frame s = {0};
    outer_udp(&s, 2152, at);
    g = gtpu(&s, 0x32, 255);
    put16(&s, 77); put8(&s, 0); put8(&s, 0);
    udp6(&s, 20, 100);
    gtpu_end(&s, g);
    outer_end(&s, at);
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_OK);
    CHECK_UDP6(20, 100, 28 + 12 + 48, 1);
    CHECK_EQ_INT(decn(LINK_RAW, &s, 28 + 11), DECODE_TUNNEL);
    s.b[28 + 11] = 0x85;      /* next extension type, ignored without E */
    CHECK_EQ_INT(dec(LINK_RAW, &s), DECODE_OK);
    CHECK_UDP6(20, 100, 28 + 12 + 48, 1);

    /* extension headers (E): PDU session container, then a 8-byte one */
    frame e = {0};
    eth(&e, 0x0800);
    outer_udp(&e, 2152, at);
    g = gtpu(&e, 0x34, 255);
    put16(&e, 0); put8(&e, 0); put8(&e, 0x85);
    put8(&e, 1); put8(&e, 0x10); put8(&e, 0x05); put8(&e, 0xc0);
    put8(&e, 2); fill(&e, 0, 6); put8(&e, 0);
    tcp4(&e, 1);
    gtpu_end(&e, g);
    outer_end(&e, at);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &e), DECODE_OK);
    CHECK_TCP4(1, 14 + 28 + 12 + 12 + 40, 1);
    /* extension chain cut, or an extension of length 0 */
    CHECK_EQ_INT(decn(LINK_ETHERNET, &e, 14 + 28 + 12 + 6), DECODE_TUNNEL);
    CHECK_EQ_INT(decn(LINK_ETHERNET, &e, 14 + 28 + 12), DECODE_TUNNEL);
    e.b[14 + 28 + 16] = 0;
    CHECK_EQ_INT(dec(LINK_ETHERNET, &e), DECODE_TUNNEL);
}

/* Open one tunnel layer of the given kind around an inner packet of IP
 * version iv (0..7: IPIP, GRE, GRE-TEB, VXLAN, Geneve, Geneve-TEB, GTP-U,
 * outer IPv6); push what must be closed. */
typedef struct open_layer {
    int kind;
    size_t ip, udp, gtp;
} open_layer;

static void layer_open(frame *f, int kind, int iv, open_layer *l)
{
    unsigned ethtype = iv == 4 ? 0x0800 : 0x86DD;
    l->kind = kind;
    l->udp = l->gtp = 0;
    switch (kind) {
    case 0:
        l->ip = ip4(f, iv == 4 ? 4 : 41, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        break;
    case 1:
    case 2:
        l->ip = ip4(f, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        gre(f, 0x2000, kind == 1 ? ethtype : 0x6558);
        if (kind == 2)
            eth(f, ethtype);
        break;
    case 3:
        l->ip = ip4(f, 17, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        l->udp = udp(f, 51000, 4789);
        vxlan(f, 0x08);
        eth(f, ethtype);
        break;
    case 4:
    case 5:
        l->ip = ip4(f, 17, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        l->udp = udp(f, 51000, 6081);
        geneve(f, 0, 1, kind == 4 ? ethtype : 0x6558);
        if (kind == 5)
            eth(f, ethtype);
        break;
    case 6:
        l->ip = ip4(f, 17, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        l->udp = udp(f, 51000, 2152);
        l->gtp = gtpu(f, 0x30, 255);
        break;
    default:
        l->ip = ip6(f, iv == 4 ? 4 : 41, 200);
        break;
    }
}
static void layer_close(frame *f, const open_layer *l)
{
    if (l->gtp)
        gtpu_end(f, l->gtp);
    if (l->udp)
        udp_end(f, l->udp, AUTO);
    if (l->kind == 7)
        ip6_end(f, l->ip, AUTO);
    else
        ip4_end(f, l->ip, AUTO);
}
/* n layers of kinds[i % nk] around an IPv4 TCP packet, into f */
static void nested(frame *f, int n, const int *kinds, int nk)
{
    open_layer ls[16];
    for (int i = 0; i < n; i++) {
        int next_kind = i + 1 < n ? kinds[(i + 1) % nk] : -1;
        layer_open(f, kinds[i % nk], next_kind == 7 ? 6 : 4, &ls[i]);
    }
    tcp4(f, 10);
    for (int i = n; i-- > 0;)
        layer_close(f, &ls[i]);
}

static void test_nesting(void)
{
    static const int ipip[] = {0};
    static const int mixed[] = {1, 3, 7, 4, 6, 2, 0, 5};
    for (int n = 1; n <= 9; n++) {
        frame f = {0};
        nested(&f, n, ipip, 1);
        CHECK_EQ_INT(dec(LINK_RAW, &f), n <= 8 ? DECODE_OK : DECODE_TUNNEL);
        if (n <= 8)
            CHECK_TCP4(10, 20 * n + 40, n);
        frame m = {0};
        nested(&m, n, mixed, 8);
        CHECK_EQ_INT(dec(LINK_RAW, &m), n <= 8 ? DECODE_OK : DECODE_TUNNEL);
        if (n <= 8) {
            CHECK_EQ_INT(P.tunnels, n);
            CHECK_EQ_INT(P.ip_len, 50);
            CHECK_EQ_INT(P.pay_len, 10);
            CHECK_EQ_INT(POFF, (long)m.n - 10);
            CHECK(is4(P.src, V4(10, 0, 0, 1)));
        }
    }
    /* GTP-U in VXLAN in GRE, over Ethernet */
    static const int gvg[] = {1, 3, 6};
    frame g = {0};
    eth(&g, 0x0800);
    nested(&g, 3, gvg, 3);
    CHECK_EQ_INT(dec(LINK_ETHERNET, &g), DECODE_OK);
    CHECK_TCP4(10, 14 + (20 + 8) + (28 + 8 + 14) + (28 + 8) + 40, 3);
}

/* ------------------------------------------------------------ robustness */

/* Frames used by the prefix and damage tests. */
static int sample_frames(frame *fs, int *lts)
{
    int n = 0;
    static const int gvg[] = {1, 3, 6};
    static const int teb[] = {2, 5, 7};
    frame *f;

    f = &fs[n]; lts[n++] = LINK_ETHERNET;
    eth(f, 0x0800); tcp4(f, 20);

    f = &fs[n]; lts[n++] = LINK_ETHERNET;
    eth(f, 0x88A8); vlan(f, 1, 0x8100); vlan(f, 2, 0x86DD);
    size_t ip = ip6(f, 0, 3);
    ext_opts(f, 44, 0); ext_frag(f, 43, 0, 1); ext_routing(f, 17, 2);
    size_t u = udp(f, 5353, 53); data(f, 17); udp_end(f, u, AUTO); ip6_end(f, ip, AUTO);

    f = &fs[n]; lts[n++] = LINK_SLL2;
    sll2(f, 0x0800); nested(f, 3, teb, 3);

    f = &fs[n]; lts[n++] = LINK_NULL;
    null_le(f, 2); nested(f, 3, gvg, 3);

    f = &fs[n]; lts[n++] = LINK_ETHERNET;
    eth(f, 0x8847); mpls_label(f, 1, 0); mpls_label(f, 2, 1); udp6(f, 4, 9);

    f = &fs[n]; lts[n++] = LINK_SLL;
    sll(f, 0x0800);
    size_t at[2];
    outer_udp(f, 2152, at);
    size_t g = gtpu(f, 0x36, 255);
    put16(f, 1); put8(f, 0); put8(f, 0x85);
    put8(f, 1); put8(f, 0); put8(f, 1); put8(f, 0);
    udp6(f, 5, 11);
    gtpu_end(f, g); outer_end(f, at);

    f = &fs[n]; lts[n++] = LINK_RAW;
    ip = ip4(f, 47, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
    gre(f, 0xC000, 0x0800);
    put16(f, 0x0800); put8(f, 0); put8(f, 4); fill(f, 1, 4); put32(f, 0);
    tcp4(f, 3); ip4_end(f, ip, AUTO);

    f = &fs[n]; lts[n++] = LINK_ETHERNET;
    isl(f, 1); eth(f, 0x0800); tcp4(f, 1);
    return n;
}

static int tunnel_port(unsigned p) { return p == 4789 || p == 6081 || p == 2152; }

/* Every prefix 0..len of each frame: never a bad read (ASan, valgrind);
 * once the headers are all there the result is the full frame's with a
 * shorter payload_cap; before that no packet, or the outer UDP packet
 * of a tunnel header that is not complete yet. */
static void test_prefixes(void)
{
    static frame fs[8];
    int lts[8];
    memset(fs, 0, sizeof fs);
    int nf = sample_frames(fs, lts);
    for (int i = 0; i < nf; i++) {
        CHECK_EQ_INT(dec(lts[i], &fs[i]), DECODE_OK);
        decode_pkt full = P;
        long hdr = POFF;
        CHECK(hdr > 0);
        for (size_t len = 0; len <= fs[i].n; len++) {
            decode_status st = decn(lts[i], &fs[i], len);
            if ((long)len >= hdr) {
                CHECK_EQ_INT(st, DECODE_OK);
                CHECK_EQ_INT(POFF, hdr);
                CHECK_EQ_INT(P.payload_cap, (long)len - hdr);
                CHECK(memcmp(P.src, full.src, 16) == 0 && memcmp(P.dst, full.dst, 16) == 0);
                CHECK(P.sport == full.sport && P.dport == full.dport && P.proto == full.proto);
                CHECK(P.ip_len == full.ip_len && P.pay_len == full.pay_len);
                CHECK(P.tunnels == full.tunnels && P.seq == full.seq);
            } else if (st == DECODE_OK) {
                CHECK(P.tunnels < full.tunnels && P.proto == 17 && tunnel_port(P.dport));
            } else {
                CHECK(st == DECODE_MALFORMED || st == DECODE_TUNNEL ||
                      (st == DECODE_NOT_IP && len == 0 && lts[i] == LINK_RAW));
            }
        }
    }
}

/* Random byte changes, insertions and cuts of the sample frames under
 * every link type: decn() checks the invariants of each result. */
static void test_damage(void)
{
    static frame fs[8];
    int lts[8];
    static const int all_lts[] = {LINK_ETHERNET, LINK_NULL, LINK_LOOP, LINK_RAW, LINK_SLL,
                                  LINK_SLL2, LINK_IPV4, LINK_IPV6};
    memset(fs, 0, sizeof fs);
    int nf = sample_frames(fs, lts);
    uint32_t r = 12345;
#define RND() (r = r * 1103515245u + 12345u, r >> 8)
    int counts[DECODE_NSTATUS] = {0};
    for (int round = 0; round < 20000; round++) {
        frame f = fs[round % nf];
        int lt = round % 5 ? lts[round % nf] : all_lts[RND() % 8];
        int nmut = 1 + RND() % 4;
        for (int k = 0; k < nmut && f.n; k++) {
            size_t at = RND() % f.n;
            switch (RND() % 4) {
            case 0: f.b[at] = (uint8_t)RND(); break;
            case 1: f.b[at] ^= (uint8_t)(1u << RND() % 8); break;
            case 2: f.n = at; break;
            default:
                if (f.n < sizeof f.b) {
                    memmove(f.b + at + 1, f.b + at, f.n - at);
                    f.b[at] = (uint8_t)RND();
                    f.n++;
                }
            }
        }
        decode_status st = dec(lt, &f);
        CHECK((unsigned)st < DECODE_NSTATUS);
        if ((unsigned)st < DECODE_NSTATUS)
            counts[st]++;
    }
#undef RND
    /* the damage reaches every outcome except an unknown link type */
    for (int s = 0; s < DECODE_NSTATUS; s++)
        if (s != DECODE_LINKTYPE)
            CHECK(counts[s] > 0);
}

/* ------------------------------------------------------------ fuzz seeds */

/* A TLS ClientHello record offering TLS 1.3 with server_name sni. */
static void client_hello(frame *f, const char *sni)
{
    size_t n = strlen(sni);
    size_t rec = f->n;
    put8(f, 22); put16(f, 0x0301); put16(f, 0);
    size_t hs = f->n;
    put8(f, 1); put8(f, 0); put16(f, 0);
    put16(f, 0x0303);
    fill(f, 0x42, 32);
    put8(f, 0);                         /* session id */
    put16(f, 4); put16(f, 0x1301); put16(f, 0x1302);
    put8(f, 1); put8(f, 0);
    put16(f, (unsigned)(9 + n + 7));    /* extensions */
    put16(f, 0); put16(f, (unsigned)(n + 5)); put16(f, (unsigned)(n + 3));
    put8(f, 0); put16(f, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        put8(f, (unsigned char)sni[i]);
    put16(f, 43); put16(f, 3); put8(f, 2); put16(f, 0x0304);
    set16(f, hs + 2, (unsigned)(f->n - hs - 4));
    set16(f, rec + 3, (unsigned)(f->n - rec - 5));
}

/* One fuzz record: length (2 bytes), time step, frame. */
static void record(frame *seed, const frame *pkt, unsigned dt)
{
    put16(seed, (unsigned)pkt->n);
    put8(seed, dt);
    for (size_t i = 0; i < pkt->n; i++)
        put8(seed, pkt->b[i]);
}

/* link header for the fuzz link index li (see fuzz_decode.c's table) */
static void link_hdr(frame *f, int li, int v6)
{
    unsigned et = v6 ? 0x86DD : 0x0800;
    switch (li) {
    case 0: eth(f, et); break;
    case 1: sll(f, et); break;
    case 2: sll2(f, et); break;
    case 3: null_le(f, v6 ? 30 : 2); break;
    case 4: put32(f, v6 ? 24 : 2); break;
    default: break;         /* raw */
    }
}

/* A TCP segment of a conversation client 10.0.0.1:40000 <-> 10.0.0.2:443
 * (dir 1 = server to client), with link header li, inside tunnel kind
 * tun (-1: none). */
static size_t conv_seg(frame *f, int li, int tun, int dir, uint32_t seq, unsigned flags,
                       const char *sni, size_t pay)
{
    open_layer l;
    link_hdr(f, li, tun == 7);
    if (tun >= 0)
        layer_open(f, tun, 4, &l);
    size_t ip = dir ? ip4(f, 6, V4(10, 0, 0, 2), V4(10, 0, 0, 1))
                    : ip4(f, 6, V4(10, 0, 0, 1), V4(10, 0, 0, 2));
    tcp(f, dir ? 443 : 40000, dir ? 40000 : 443, seq, flags, flags & TCP_SYN ? 8 : 5);
    size_t start = f->n;
    if (sni)
        client_hello(f, sni);
    data(f, pay);
    size_t n = f->n - start;
    ip4_end(f, ip, AUTO);
    if (tun >= 0)
        layer_close(f, &l);
    return n;
}

/* A TLS conversation: handshake, ClientHello, data both ways, FIN. */
static void conversation(frame *seed, int li, int tun, const char *sni, unsigned dt)
{
    static const struct { int dir; unsigned flags; int hello; size_t pay; } steps[] = {
        {0, TCP_SYN, 0, 0}, {1, TCP_SYN | TCP_ACK, 0, 0}, {0, TCP_ACK, 0, 0},
        {0, TCP_PSH | TCP_ACK, 1, 0}, {1, TCP_PSH | TCP_ACK, 0, 300}, {0, TCP_ACK, 0, 0},
        {0, TCP_PSH | TCP_ACK, 0, 50}, {1, TCP_FIN | TCP_ACK, 0, 0}, {0, TCP_FIN | TCP_ACK, 0, 0},
    };
    uint32_t seq[2] = {1000, 5000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        frame p = {0};
        int d = steps[i].dir;
        size_t n = conv_seg(&p, li, tun, d, seq[d], steps[i].flags,
                            steps[i].hello ? sni : NULL, steps[i].pay);
        seq[d] += (uint32_t)n + ((steps[i].flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
        record(seed, &p, dt + (unsigned)i % 3);
    }
}

static int write_seed(const char *dir, const char *name, const frame *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(f->b, 1, f->n, fp) != f->n || fclose(fp) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* Seeds: selector byte (link index | options << 4), then records. */
static int write_seeds(const char *dir)
{
    int bad = 0;
    frame s;
    static const int gvg[] = {1, 3, 6};

    memset(&s, 0, sizeof s); put8(&s, 0x00);
    conversation(&s, 0, -1, "www.example.com", 0x41);
    bad |= write_seed(dir, "eth_tls_conversation", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x01 | 0x10 | 0x20);  /* window, all packets */
    conversation(&s, 1, -1, "video.example.net", 0x01);
    bad |= write_seed(dir, "sll_tls_window", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x02 | 0x80);  /* min_flows 2, active timeout */
    conversation(&s, 2, 2, "a.example.org", 0x81);     /* 1 s steps */
    conversation(&s, 2, 2, "a.example.org", 0x42);     /* ms steps */
    bad |= write_seed(dir, "sll2_gre_teb_two_flows", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x03 | 0x40);
    conversation(&s, 3, 3, "vx.example.com", 0xc1);
    bad |= write_seed(dir, "null_vxlan_backwards_time", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x05);
    conversation(&s, 5, 6, "gtp.example.com", 0x42);
    bad |= write_seed(dir, "raw_gtpu_conversation", &s);

    /* single frames (for the whole-input decode) and small UDP flows */
    frame p;
    size_t at[2];
    memset(&s, 0, sizeof s); put8(&s, 0x00);
    eth(&s, 0x88A8); vlan(&s, 1, 0x8100); vlan(&s, 2, 0x86DD);
    size_t ip = ip6(&s, 0, 3);
    ext_opts(&s, 43, 0); ext_routing(&s, 60, 2); ext_opts(&s, 6, 1);
    tcp(&s, 40000, 443, 1, TCP_ACK, 5); data(&s, 8); ip6_end(&s, ip, AUTO);
    bad |= write_seed(dir, "frame_eth_qinq_ipv6_ext", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x00);
    eth(&s, 0x0800); nested(&s, 3, gvg, 3);
    bad |= write_seed(dir, "frame_eth_gtpu_vxlan_gre", &s);
    memset(&s, 0, sizeof s); put8(&s, 0x00);
    eth(&s, 0x8847); mpls_label(&s, 1, 0); mpls_label(&s, 2, 1);
    ip = ip4x(&s, 17, V4(10, 0, 0, 1), V4(10, 0, 0, 2), 7, 0x2000);
    size_t u = udp(&s, 5000, 53);
    data(&s, 20); udp_end(&s, u, AUTO); ip4_end(&s, ip, AUTO);
    bad |= write_seed(dir, "frame_mpls_ipv4_opts_udp", &s);

    memset(&s, 0, sizeof s); put8(&s, 0x06);
    for (int i = 0; i < 6; i++) {
        memset(&p, 0, sizeof p);
        outer_udp(&p, 6081, at);
        geneve(&p, 0, 2, 0x86DD);
        size_t in = ip6(&p, 17, 1);
        if (i % 2) {            /* server to client: swap the addresses */
            uint8_t tmp[16];
            memcpy(tmp, p.b + in + 8, 16);
            memmove(p.b + in + 8, p.b + in + 24, 16);
            memcpy(p.b + in + 24, tmp, 16);
        }
        u = i % 2 ? udp(&p, 443, 50000) : udp(&p, 50000, 443);
        put8(&p, 0xc0 | (i == 0 ? 0x00 : 0x40)); put32(&p, 1); put8(&p, 8);
        fill(&p, 0x33, 8); put8(&p, 0); data(&p, 40);
        udp_end(&p, u, AUTO); ip6_end(&p, in, AUTO); outer_end(&p, at);
        record(&s, &p, 0x50 + (unsigned)i);
    }
    bad |= write_seed(dir, "raw_geneve_quic_like_udp", &s);

    memset(&s, 0, sizeof s); put8(&s, 0x04);
    for (int i = 0; i < 5; i++) {
        memset(&p, 0, sizeof p);
        put32(&p, 2);
        ip = ip4(&p, 41, V4(192, 0, 2, 1), V4(192, 0, 2, 2));
        udp6(&p, (unsigned)i % 2, 20 + (size_t)i);
        ip4_end(&p, ip, i == 3 ? 0 : AUTO);
        record(&s, &p, 0x80 | 61);     /* 61 s apart: idle timeout after two */
    }
    bad |= write_seed(dir, "loop_6in4_udp_idle", &s);

    memset(&s, 0, sizeof s); put8(&s, 0x08 | 0x30);
    for (int i = 0; i < 10; i++) {    /* 8 SYNs (evictions), 2 RSTs */
        int k = i < 8 ? i : (i - 8) * 7;
        memset(&p, 0, sizeof p);
        ip = ip4(&p, 6, V4(10, 0, 0, (unsigned)(1 + k % 3)), V4(10, 0, 1, 1));
        tcp(&p, 1000 + (unsigned)k, 443, 7, i < 8 ? TCP_SYN : TCP_RST | TCP_ACK, 5);
        ip4_end(&p, ip, AUTO);
        record(&s, &p, 0x01);
    }
    bad |= write_seed(dir, "ipv4_syn_rst_eviction", &s);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    RUN(test_status_names);
    RUN(test_eth_ipv4_tcp);
    RUN(test_eth_ipv6_udp);
    RUN(test_vlan_tags);
    RUN(test_mpls);
    RUN(test_not_ip);
    RUN(test_isl);
    RUN(test_sll);
    RUN(test_raw);
    RUN(test_null_loop);
    RUN(test_linktype_unknown);
    RUN(test_ipv4_options);
    RUN(test_ipv4_lengths);
    RUN(test_ipv4_fragments);
    RUN(test_tcp_header);
    RUN(test_udp_length);
    RUN(test_other_proto);
    RUN(test_ipv6_ext_chain);
    RUN(test_ipv6_fragments);
    RUN(test_ipv6_lengths);
    RUN(test_ip_in_ip);
    RUN(test_gre);
    RUN(test_vxlan);
    RUN(test_geneve);
    RUN(test_gtpu);
    RUN(test_nesting);
    RUN(test_prefixes);
    RUN(test_damage);
    return check_summary();
}
