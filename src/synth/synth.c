/* synth.c - deterministic synthetic capture of TLS-over-TCP flows.
 *
 * How it works: flows start at Poisson times.  When a flow starts, all of
 * its packets are generated at once (a list of small descriptors: time,
 * direction, flags, seq, ack, payload length) from the flow's own PRNG
 * stream, seeded from (seed, flow number), so a flow does not depend on how
 * the others interleave.  Active flows sit in a min-heap keyed by the time
 * of their next packet; popping the heap writes the capture in timestamp
 * order.  Frames are only built when written: payload bytes come from one
 * pre-generated random block, with the bytes that must be real (the
 * ClientHello, the ServerHello, every TLS record header) laid over it.
 *
 * Class behaviour (RTT, server time, rounds, request/response sizes, think
 * time, bandwidth, server flight size, ClientHello profile mix) comes from
 * the class number alone, so a class means the same thing in every capture;
 * flows draw around it with per-flow noise, and a minority of flows borrow
 * another class's behaviour, which keeps classes overlapping.
 *
 * All state lives in a synth_ctx made per call: no globals. */
#include "synth/synth.h"
#include "synth/synth_ex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* ------------------------------------------------------------ constants */

#define EPOCH_NS     (1700000000ull * 1000000000ull)
#define FLOW_RATE    200.0          /* new flows per second, on average */
#define BLOCK_SIZE   (1u << 20)     /* random filler block (power of 2) */
#define BLOCK_SLACK  2048           /* a segment read may run past the end */
#define EXPL_MAX     2048           /* explicit stream prefix (ClientHello) */
#define HOSTS4       4096
#define HOSTS6       1024
#define RING         256            /* finished tuples kept for reuse */
#define MAX_FRAME    1600
#define PROGRESS_EVERY 65536u

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

enum { C = 0, S = 1 };              /* direction: client->server, back */

/* Rates of the variety the header promises (per flow). */
#define P_IPV6      0.15
#define P_QINQ      0.03
#define P_VLAN      0.10
#define P_MIDSTREAM 0.03
#define P_REUSE     0.02
#define P_CH_2SEG   0.10
#define P_CH_2REC   0.05
#define P_RETRANS   0.03
#define P_SWAP      0.02
/* Share of flows that behave like another class (overlap between classes;
 * tuned so a Random Forest on the 42 features lands near 85-90 %). */
#define P_BORROW    0.10

/* ------------------------------------------------------------------ PRNG */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* xoshiro256** seeded through splitmix64 from (seed, stream, index): one
 * independent stream per purpose and per flow. */
static void rng_seed(rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = mix64(seed + 0x9E3779B97F4A7C15ull) ^
                 mix64(stream * 0xD1B54A32D192ED03ull + index);
    for (int i = 0; i < 4; i++) {
        x += 0x9E3779B97F4A7C15ull;
        r->s[i] = mix64(x);
    }
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Uniform in [0, n), n <= 2^32 (multiply-shift; bias irrelevant here). */
static inline uint32_t rng_below(rng *r, uint64_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static inline double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static inline double rng_range(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

/* Log-uniform in [lo, hi): class parameters spread over decades. */
static double rng_logu(rng *r, double lo, double hi)
{
    return lo * exp(rng_unit(r) * log(hi / lo));
}

static double rng_normal(rng *r)
{
    double u1 = 1.0 - rng_unit(r);      /* (0, 1] */
    double u2 = rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double rng_lognorm(rng *r, double median, double sigma)
{
    return median * exp(sigma * rng_normal(r));
}

static double rng_exp(rng *r, double mean)
{
    return -mean * log(1.0 - rng_unit(r));
}

static inline uint64_t ms_ns(double ms)
{
    return ms <= 0 ? 0 : (uint64_t)(ms * 1e6);
}

static inline uint64_t us_ns(double us)
{
    return us <= 0 ? 0 : (uint64_t)(us * 1e3);
}

/* ----------------------------------------------------------- class names */

static const char *const SYL[24] = {
    "ka", "be", "to", "mi", "ve", "ra", "lo", "ru", "ni", "sa", "de", "po",
    "la", "fi", "mo", "nu", "ze", "ta", "ri", "go", "le", "vu", "ma", "so"
};
static const char *const TLD[4] = { "com", "net", "org", "io" };
static const char *const PFX[8] = {
    "www", "cdn", "api", "img", "static", "media", "app", "edge"
};

/* The registered domain (syllables + TLD) alone is distinct per class, so
 * even eTLD+1 labeling keeps classes apart; the host prefix is decoration.
 * Domains with n syllables are an affine bijection of k onto the
 * 4 * 24^n (TLD, syllables) tuples; n grows from 3 as k runs past each
 * block, and names of different n differ in length.  A = 7919 is prime and
 * coprime with 2 and 3, so k -> (A*k + B) mod m is a bijection; B makes
 * class 0 "www.kabeto.com".  Never change these tables: names are stable. */
void synth_class_sni(unsigned k, char *buf, unsigned bufsz)
{
    if (!buf || bufsz == 0)
        return;
    uint64_t kk = k, m = 4ull * 24 * 24 * 24;
    unsigned n = 3;
    while (kk >= m) {
        kk -= m;
        m *= 24;
        n++;
    }
    uint64_t x = (kk * 7919u + 4704u) % m;
    char dom[40];
    unsigned len = 0;
    unsigned tld = (unsigned)(x % 4);
    x /= 4;
    for (unsigned i = 0; i < n; i++) {
        const char *s = SYL[x % 24];
        x /= 24;
        dom[len++] = s[0];
        dom[len++] = s[1];
    }
    dom[len] = '\0';
    snprintf(buf, bufsz, "%s.%s.%s", PFX[k % 8], dom, TLD[tld]);
}

/* ------------------------------------------------------ class behaviour */

typedef struct class_params {
    double rtt_ms;        /* median round-trip time */
    double proc_ms;       /* median server time per request */
    double rounds;        /* median request/response rounds */
    double req_b;         /* median request plaintext bytes */
    double resp_b;        /* median response plaintext bytes */
    double resp_sigma;    /* spread of response sizes (log) */
    double small_p;       /* share of tiny responses (redirects, 304s) */
    double think_ms;      /* mean pause between rounds */
    double bw_mbps;       /* server -> client rate */
    double cert_b;        /* encrypted server flight (cert chain etc.) */
    double ticket_p;      /* server sends session tickets */
    double client_close_p;/* the client closes first */
    unsigned ack_every;   /* the client ACKs every 1st or 2nd segment */
    double prof[4];       /* cumulative ClientHello profile weights */
} class_params;

static void class_params_of(unsigned k, class_params *cp)
{
    rng r;
    rng_seed(&r, 0x736e69746368ull, 2, k);  /* never the user's seed */
    cp->rtt_ms = rng_logu(&r, 4, 150);
    cp->proc_ms = rng_logu(&r, 0.3, 40);
    cp->rounds = rng_logu(&r, 1, 20);
    cp->req_b = rng_logu(&r, 50, 1200);
    cp->resp_b = rng_logu(&r, 100, 20000);
    cp->resp_sigma = rng_range(&r, 0.4, 1.2);
    cp->small_p = rng_range(&r, 0, 0.35);
    cp->think_ms = rng_logu(&r, 15, 4000);
    cp->bw_mbps = rng_logu(&r, 5, 300);
    cp->cert_b = rng_range(&r, 1500, 6000);
    cp->ticket_p = rng_unit(&r);
    cp->client_close_p = rng_range(&r, 0.2, 0.9);
    cp->ack_every = rng_unit(&r) < 0.4 ? 1 : 2;
    double w[4], sum = 0;
    for (int i = 0; i < 4; i++) {
        w[i] = rng_unit(&r);
        w[i] *= w[i];
        sum += w[i];
    }
    double acc = 0;
    for (int i = 0; i < 4; i++) {
        acc += w[i] / sum;
        cp->prof[i] = acc;
    }
    cp->prof[3] = 1.0;
}

/* ---------------------------------------------------------------- flows */

typedef struct pkt {
    uint64_t ts;          /* ns since the Unix epoch */
    uint32_t seq, ack;
    uint16_t len;         /* TCP payload bytes */
    uint8_t dir, flags;
} pkt;

typedef struct rec {      /* a TLS record header in a byte stream */
    uint32_t off;         /* stream offset (from ISN+1) of its first byte */
    uint16_t len;         /* body length */
    uint8_t type;
} rec;

typedef struct tuple {    /* what a reused 5-tuple carries over */
    unsigned cls;
    int v6, ntags;
    uint16_t tag[2];
    uint8_t cip[16], sip[16];
    uint16_t cport;
    uint8_t cmac[6];
} tuple;

typedef struct flow {
    uint64_t id;
    tuple tp;
    int handshake;
    uint32_t isn[2];
    uint32_t tsbase[2];
    uint16_t ipid[2];
    uint8_t ttl[2];
    uint16_t win[2];
    uint32_t flowlabel;
    uint32_t salt[2];     /* filler position per direction */
    uint16_t mss;         /* max payload per segment */
    uint8_t wscale[2];
    uint64_t t0, rtt;
    uint32_t last_tsval[2];  /* writer: newest TSval written per side */
    uint8_t expl[2][EXPL_MAX]; /* real bytes at the start of each stream */
    uint32_t expl_len[2];
    rec *recs[2];
    size_t nrec[2], caprec[2];
    pkt *pk;
    size_t npk, cappk, next;
    uint64_t bytes;       /* bytes this flow adds to the file */
    struct flow *free_next;
} flow;

/* Scratch state while a flow's packets are generated. */
typedef struct fgen {
    flow *f;
    rng *r;
    const class_params *cp;
    int oom;              /* stop: out of memory, or */
    int too_long;         /* a ClientHello longer than one segment */
    uint32_t snd[2];      /* absolute next sequence number to send */
    uint32_t seen[2];     /* ack value this side puts in its packets */
    uint32_t lay[2];      /* stream offset up to which records are laid */
    uint64_t tlast[2];    /* time of the newest packet of each side */
    uint64_t rtt;         /* ns */
    double bw_bps;
    unsigned cwnd[2];
} fgen;

typedef struct synth_ctx {
    const synth_config *cfg;
    rng r;                /* flow start times */
    rng ring_r;           /* which old tuple a full ring forgets */
    uint8_t *block;
    flow *freelist;
    flow **heap;
    size_t nheap, capheap;
    tuple ring[RING];
    unsigned nring;
    uint16_t port4[HOSTS4], port6[HOSTS6];
    pcap_t *pd;
    pcap_dumper_t *dump;
    FILE *fp, *truth;
    synth_stats st;
    uint64_t committed;   /* file bytes of every flow started so far */
    uint8_t frame[MAX_FRAME];
} synth_ctx;

/* Append a packet.  A side's packets must leave it in the order their
 * sequence numbers were assigned: one scheduled before a packet this side
 * already sends later (typically behind an ACK that trails) is pushed just
 * after it.  Returns the time used (sets g->oom when out of memory). */
static uint64_t add_pkt(fgen *g, uint64_t ts, int dir, uint8_t flags,
                        uint32_t seq, uint32_t ack, uint32_t len)
{
    flow *f = g->f;
    if (ts < g->tlast[dir])
        ts = g->tlast[dir] + 2000;
    g->tlast[dir] = ts;
    if (array_grow((void **)&f->pk, &f->cappk, f->npk + 1, sizeof *f->pk)) {
        g->oom = 1;
        return ts;
    }
    pkt *p = &f->pk[f->npk++];
    p->ts = ts;
    p->seq = seq;
    p->ack = ack;
    p->len = (uint16_t)len;
    p->dir = (uint8_t)dir;
    p->flags = flags;
    return ts;
}

/* Lay one TLS record header of `type` with a body of len bytes at the end
 * of direction d's stream (the body bytes stay filler). */
static void lay_record(fgen *g, int d, uint8_t type, uint32_t len)
{
    flow *f = g->f;
    if (array_grow((void **)&f->recs[d], &f->caprec[d], f->nrec[d] + 1,
                   sizeof *f->recs[d])) {
        g->oom = 1;
        return;
    }
    rec *r = &f->recs[d][f->nrec[d]++];
    r->off = g->lay[d];
    r->len = (uint16_t)len;
    r->type = type;
    g->lay[d] += 5 + len;
}

/* Application data of n plaintext bytes: TLS 1.3 records of at most 2^14
 * plaintext bytes, each 17 bytes longer (inner type + AEAD tag). */
static void lay_appdata(fgen *g, int d, uint32_t n)
{
    while (n > 0) {
        uint32_t k = n > 16384 ? 16384 : n;
        lay_record(g, d, 23, k + 17);
        n -= k;
    }
}

static inline uint32_t stream_off(const flow *f, int d, uint32_t seq)
{
    return seq - f->isn[d] - 1;
}

/* Transmit everything laid but not yet sent in direction d, starting at t:
 * MSS-sized segments paced by the flow's rate and, in slow start, by the
 * congestion window (a new window one RTT after the previous one began).
 * The receiver ACKs every second segment (the client, depending on the
 * class, every one) and the last; the capture point
 * is the client, so the client's ACKs follow closely and the server's come
 * one RTT later.  With ack_last 0 the final segment is not ACKed alone
 * (the receiver answers with data right away).  Returns the time of the
 * last data segment. */
static uint64_t tx(fgen *g, int d, uint64_t t, int ack_last)
{
    flow *f = g->f;
    rng *r = g->r;
    int o = !d;
    uint32_t n = g->lay[d] - stream_off(f, d, g->snd[d]);
    uint64_t last = t, burst_start = t;
    unsigned inflight = 0, unacked = 0;
    while (n > 0 && !g->oom) {
        uint32_t len = n < f->mss ? n : f->mss;
        n -= len;
        t = add_pkt(g, t, d, TH_ACK | (n == 0 ? TH_PSH : 0), g->snd[d],
                    g->seen[d], len);
        g->snd[d] += len;
        last = t;
        unacked++;
        inflight++;
        unsigned every = d == S ? g->cp->ack_every : 2;
        if (unacked >= every || (n == 0 && ack_last)) {
            uint64_t at = d == S ? t + us_ns(rng_range(r, 15, 120))
                                 : t + g->rtt + us_ns(rng_range(r, 20, 150));
            g->seen[o] = g->snd[d];
            add_pkt(g, at, o, TH_ACK, g->snd[o], g->seen[o], 0);
            unacked = 0;
        }
        if (n > 0) {
            double gap_s = (len + 78) * 8.0 / g->bw_bps;
            uint64_t nt = t + (uint64_t)(gap_s * 1e9 * rng_range(r, 0.85, 1.3));
            if (inflight >= g->cwnd[d]) {
                uint64_t window = burst_start + g->rtt;
                if (nt < window)
                    nt = window + us_ns(rng_range(r, 5, 60));
                burst_start = nt;
                inflight = 0;
                if (g->cwnd[d] < 1024)
                    g->cwnd[d] *= 2;
            }
            t = nt;
        }
    }
    g->seen[o] = g->snd[d];
    return last;
}

/* ------------------------------------------------------------ ClientHello */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
    int bad;              /* overflow: the caller fails the flow */
} bytes;

static void put8(bytes *b, unsigned v)
{
    if (b->n + 1 > b->cap) {
        b->bad = 1;
        return;
    }
    b->p[b->n++] = (uint8_t)v;
}

static void put16(bytes *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void putn(bytes *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->bad = 1;
        return;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void putrand(bytes *b, rng *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, (unsigned)rng_next(r) >> 24);
}

static void put16s(bytes *b, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put16(b, v[i]);
}

/* Patch the big-endian length field of `width` bytes at mark with the
 * number of bytes written after it. */
static void patch(bytes *b, size_t mark, int width)
{
    if (b->bad)
        return;
    size_t v = b->n - mark - (size_t)width;
    for (int i = width - 1; i >= 0; i--) {
        b->p[mark + (size_t)i] = (uint8_t)v;
        v >>= 8;
    }
}

static size_t open_len(bytes *b, int width)
{
    size_t m = b->n;
    for (int i = 0; i < width; i++)
        put8(b, 0);
    return m;
}

static unsigned grease(rng *r)
{
    unsigned g = rng_below(r, 16);
    return (g << 12) | 0x0a00 | (g << 4) | 0x0a;
}

static void ext_sni(bytes *b, const char *sni)
{
    size_t n = strlen(sni);
    put16(b, 0x0000);
    put16(b, (unsigned)(n + 5));
    put16(b, (unsigned)(n + 3));
    put8(b, 0);
    put16(b, (unsigned)n);
    putn(b, sni, n);
}

static void ext_empty(bytes *b, unsigned type)
{
    put16(b, type);
    put16(b, 0);
}

static void ext_list16(bytes *b, unsigned type, const uint16_t *v, size_t n,
                       unsigned first)
{
    size_t cnt = n + (first ? 1 : 0);
    put16(b, type);
    put16(b, (unsigned)(2 + 2 * cnt));
    put16(b, (unsigned)(2 * cnt));
    if (first)
        put16(b, first);
    put16s(b, v, n);
}

static void ext_alpn(bytes *b, int with_http11)
{
    put16(b, 0x0010);
    size_t m = open_len(b, 2), l = open_len(b, 2);
    put8(b, 2);
    putn(b, "h2", 2);
    if (with_http11) {
        put8(b, 8);
        putn(b, "http/1.1", 8);
    }
    patch(b, l, 2);
    patch(b, m, 2);
}

static void ext_key_share(bytes *b, rng *r, unsigned grease_group, int p256)
{
    put16(b, 0x0033);
    size_t m = open_len(b, 2), l = open_len(b, 2);
    if (grease_group) {
        put16(b, grease_group);
        put16(b, 1);
        put8(b, 0);
    }
    put16(b, 0x001d);
    put16(b, 32);
    putrand(b, r, 32);
    if (p256) {
        put16(b, 0x0017);
        put16(b, 65);
        put8(b, 4);
        putrand(b, r, 64);
    }
    patch(b, l, 2);
    patch(b, m, 2);
}

static void ext_versions(bytes *b, unsigned grease_v)
{
    put16(b, 0x002b);
    put16(b, grease_v ? 7 : 5);
    put8(b, grease_v ? 6 : 4);
    if (grease_v)
        put16(b, grease_v);
    put16(b, 0x0304);
    put16(b, 0x0303);
}

static void ext_raw(bytes *b, unsigned type, const uint8_t *v, size_t n)
{
    put16(b, type);
    put16(b, (unsigned)n);
    putn(b, v, n);
}

static const uint16_t CS_CHROME[] = {
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035
};
static const uint16_t CS_FIREFOX[] = {
    0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030,
    0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035
};
static const uint16_t CS_OPENSSL[] = {
    0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa,
    0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067,
    0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d,
    0x003c, 0x0035, 0x002f, 0x00ff
};
static const uint16_t CS_APP[] = {
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8,
    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035
};
static const uint16_t SIG_SHORT[] = {
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601
};
static const uint16_t SIG_FIREFOX[] = {
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
    0x0203, 0x0201
};
static const uint16_t SIG_OPENSSL[] = {
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804,
    0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201,
    0x0302, 0x0202, 0x0402, 0x0502, 0x0602
};
static const uint16_t GRP_3[] = { 0x001d, 0x0017, 0x0018 };
static const uint16_t GRP_FIREFOX[] = {
    0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101
};
static const uint16_t GRP_OPENSSL[] = { 0x001d, 0x0017, 0x001e, 0x0019, 0x0018 };

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* One ClientHello handshake message (type 1 + length + body) shaped like a
 * common client: 0 Chromium, 1 Firefox, 2 OpenSSL/curl, 3 mobile app.
 * Chromium and Firefox pad to 512 bytes like the real ones; the others do
 * not, so their length follows the SNI. */
static void build_client_hello(bytes *b, rng *r, int prof, const char *sni,
                               const uint8_t *sid, unsigned sidlen)
{
    static const uint8_t ec_pf[] = { 1, 0 }, ec_pf3[] = { 3, 0, 1, 2 };
    static const uint8_t reneg[] = { 0 }, status[] = { 1, 0, 0, 0, 0 };
    static const uint8_t psk[] = { 1, 1 }, cc[] = { 2, 0, 2 };
    static const uint8_t alps[] = { 0, 3, 2, 'h', '2' }, rsl[] = { 0x40, 1 };
    static const uint8_t dc[] = { 0, 8, 4, 3, 5, 3, 6, 3, 2, 3 };
    static const uint8_t one0[] = { 0 };
    size_t start = b->n;
    put8(b, 1);
    size_t hl = open_len(b, 3);
    put16(b, 0x0303);
    putrand(b, r, 32);
    put8(b, sidlen);
    putn(b, sid, sidlen);
    size_t cl = open_len(b, 2);
    switch (prof) {
    case 0: put16(b, grease(r)); put16s(b, CS_CHROME, N_(CS_CHROME)); break;
    case 1: put16s(b, CS_FIREFOX, N_(CS_FIREFOX)); break;
    case 2: put16s(b, CS_OPENSSL, N_(CS_OPENSSL)); break;
    default: put16s(b, CS_APP, N_(CS_APP)); break;
    }
    patch(b, cl, 2);
    put8(b, 1);
    put8(b, 0);
    size_t el = open_len(b, 2);
    int pad = 0;
    switch (prof) {
    case 0: {
        unsigned g1 = grease(r), g2 = grease(r);
        ext_empty(b, g1);
        ext_sni(b, sni);
        ext_empty(b, 0x0017);
        ext_raw(b, 0xff01, reneg, sizeof reneg);
        ext_list16(b, 0x000a, GRP_3, N_(GRP_3), g1);
        ext_raw(b, 0x000b, ec_pf, sizeof ec_pf);
        ext_empty(b, 0x0023);
        ext_alpn(b, 1);
        ext_raw(b, 0x0005, status, sizeof status);
        ext_list16(b, 0x000d, SIG_SHORT, N_(SIG_SHORT), 0);
        ext_empty(b, 0x0012);
        ext_key_share(b, r, g1, 0);
        ext_raw(b, 0x002d, psk, sizeof psk);
        ext_versions(b, grease(r));
        ext_raw(b, 0x001b, cc, sizeof cc);
        ext_raw(b, 0x4469, alps, sizeof alps);
        if (g2 == g1)
            g2 ^= 0x1010;
        ext_raw(b, g2, one0, sizeof one0);
        pad = 1;
        break;
    }
    case 1:
        ext_sni(b, sni);
        ext_empty(b, 0x0017);
        ext_raw(b, 0xff01, reneg, sizeof reneg);
        ext_list16(b, 0x000a, GRP_FIREFOX, N_(GRP_FIREFOX), 0);
        ext_raw(b, 0x000b, ec_pf, sizeof ec_pf);
        ext_empty(b, 0x0023);
        ext_alpn(b, 1);
        ext_raw(b, 0x0005, status, sizeof status);
        ext_raw(b, 0x0022, dc, sizeof dc);
        ext_key_share(b, r, 0, 1);
        ext_versions(b, 0);
        ext_list16(b, 0x000d, SIG_FIREFOX, N_(SIG_FIREFOX), 0);
        ext_raw(b, 0x002d, psk, sizeof psk);
        ext_raw(b, 0x001c, rsl, sizeof rsl);
        pad = 1;
        break;
    case 2:
        ext_sni(b, sni);
        ext_raw(b, 0x000b, ec_pf3, sizeof ec_pf3);
        ext_list16(b, 0x000a, GRP_OPENSSL, N_(GRP_OPENSSL), 0);
        ext_empty(b, 0x0023);
        ext_alpn(b, 1);
        ext_empty(b, 0x0016);
        ext_empty(b, 0x0017);
        ext_list16(b, 0x000d, SIG_OPENSSL, N_(SIG_OPENSSL), 0);
        ext_versions(b, 0);
        ext_raw(b, 0x002d, psk, sizeof psk);
        ext_key_share(b, r, 0, 0);
        break;
    default:
        ext_sni(b, sni);
        ext_empty(b, 0x0017);
        ext_raw(b, 0xff01, reneg, sizeof reneg);
        ext_list16(b, 0x000a, GRP_3, N_(GRP_3), 0);
        ext_raw(b, 0x000b, ec_pf, sizeof ec_pf);
        ext_empty(b, 0x0023);
        ext_alpn(b, 0);
        ext_list16(b, 0x000d, SIG_SHORT, N_(SIG_SHORT), 0);
        ext_key_share(b, r, 0, 0);
        ext_raw(b, 0x002d, psk, sizeof psk);
        ext_versions(b, 0);
        break;
    }
    if (pad) {
        /* The padding extension (RFC 7685) fills the message up to 512
         * bytes; longer hellos get none. */
        size_t cur = b->n - start;
        if (cur + 4 <= 512) {
            size_t n = 512 - cur - 4;
            put16(b, 0x0015);
            put16(b, (unsigned)n);
            for (size_t i = 0; i < n; i++)
                put8(b, 0);
        }
    }
    patch(b, el, 2);
    patch(b, hl, 3);
}

/* Wrap handshake bytes hs[0..n) in one TLS record, or in two when split
 * (at a random byte, as some stacks and middleboxes do). */
static void put_hs_records(bytes *b, rng *r, const uint8_t *hs, size_t n,
                           unsigned version, int split)
{
    size_t cut = split && n > 1 ? 1 + rng_below(r, n - 1) : n;
    put8(b, 22);
    put16(b, version);
    put16(b, (unsigned)cut);
    putn(b, hs, cut);
    if (cut < n) {
        put8(b, 22);
        put16(b, version);
        put16(b, (unsigned)(n - cut));
        putn(b, hs + cut, n - cut);
    }
}

/* TLS 1.3 ServerHello (version, random, echoed session id, suite,
 * supported_versions, x25519 key_share) and the compatibility
 * ChangeCipherSpec record: the only real server bytes. */
static void build_server_hello(bytes *b, rng *r, const uint8_t *sid,
                               unsigned sidlen, unsigned suite)
{
    put8(b, 22);
    put16(b, 0x0303);
    size_t rl = open_len(b, 2);
    put8(b, 2);
    size_t hl = open_len(b, 3);
    put16(b, 0x0303);
    putrand(b, r, 32);
    put8(b, sidlen);
    putn(b, sid, sidlen);
    put16(b, suite);
    put8(b, 0);
    size_t el = open_len(b, 2);
    put16(b, 0x002b);
    put16(b, 2);
    put16(b, 0x0304);
    put16(b, 0x0033);
    put16(b, 36);
    put16(b, 0x001d);
    put16(b, 32);
    putrand(b, r, 32);
    patch(b, el, 2);
    patch(b, hl, 3);
    patch(b, rl, 2);
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    putn(b, ccs, sizeof ccs);
}

/* ------------------------------------------------------ flow generation */

static void gen_handshake(fgen *g, uint64_t *tp, const char *sni, int prof,
                          int split_seg, int split_rec)
{
    flow *f = g->f;
    rng *r = g->r;
    uint64_t t = *tp;
    t = add_pkt(g, t, C, TH_SYN, f->isn[C], 0, 0);
    g->snd[C] = f->isn[C] + 1;
    t += g->rtt;
    t = add_pkt(g, t, S, TH_SYN | TH_ACK, f->isn[S], g->snd[C], 0);
    g->snd[S] = f->isn[S] + 1;
    g->seen[S] = g->snd[C];
    g->seen[C] = g->snd[S];
    t += us_ns(rng_range(r, 30, 150));
    t = add_pkt(g, t, C, TH_ACK, g->snd[C], g->seen[C], 0);
    t += us_ns(rng_lognorm(r, 300, 0.8));

    /* ClientHello: the first bytes of the client's stream, real. */
    uint8_t sid[32], hs[EXPL_MAX];
    unsigned sidlen = prof == 3 && rng_unit(r) < 0.5 ? 0 : 32;
    for (unsigned i = 0; i < sidlen; i++)
        sid[i] = (uint8_t)(rng_next(r) >> 56);
    bytes hb = { hs, 0, sizeof hs, 0 };
    build_client_hello(&hb, r, prof, sni, sid, sidlen);
    bytes cb = { f->expl[C], 0, EXPL_MAX, 0 };
    put_hs_records(&cb, r, hs, hb.n, 0x0301, split_rec);
    if (hb.bad || cb.bad || cb.n > f->mss) {
        g->oom = g->too_long = 1;   /* not with the names we make */
        return;
    }
    uint32_t chl = (uint32_t)cb.n;
    f->expl_len[C] = chl;
    g->lay[C] = chl;
    if (split_seg && chl > 1) {
        uint32_t cut = 1 + rng_below(r, chl - 1);
        t = add_pkt(g, t, C, TH_ACK, g->snd[C], g->seen[C], cut);
        t += us_ns(rng_range(r, 20, 400));
        t = add_pkt(g, t, C, TH_ACK | TH_PSH, g->snd[C] + cut, g->seen[C],
                    chl - cut);
    } else {
        t = add_pkt(g, t, C, TH_ACK | TH_PSH, g->snd[C], g->seen[C], chl);
    }
    g->snd[C] += chl;
    g->seen[S] = g->snd[C];

    /* Server flight: ServerHello + CCS (real), then the encrypted
     * EncryptedExtensions/Certificate/CertificateVerify/Finished as
     * opaque application-data records of a class-typical size. */
    bytes sb = { f->expl[S], 0, EXPL_MAX, 0 };
    build_server_hello(&sb, r, sid, sidlen, rng_unit(r) < 0.8 ? 0x1301 : 0x1302);
    f->expl_len[S] = (uint32_t)sb.n;
    g->lay[S] = (uint32_t)sb.n;
    double cert = rng_lognorm(r, g->cp->cert_b, 0.12);
    lay_appdata(g, S, (uint32_t)fmin(fmax(cert, 600), 30000));
    t += g->rtt + ms_ns(rng_lognorm(r, 1.0, 0.7));
    t = tx(g, S, t, 1);

    /* Client: CCS + Finished in one segment. */
    t += ms_ns(rng_lognorm(r, 0.8, 0.6));
    lay_record(g, C, 20, 1);
    lay_record(g, C, 23, 53);
    t = tx(g, C, t, 0);
    t += us_ns(rng_range(r, 20, 300));
    *tp = t;
}

/* The whole packet list of one flow, from t0. */
static void gen_flow(fgen *g, uint64_t t0, const char *sni, int midstream,
                     int prof, int split_seg, int split_rec)
{
    flow *f = g->f;
    rng *r = g->r;
    const class_params *cp = g->cp;
    uint64_t t = t0;
    int tickets = 0;
    if (!midstream) {
        gen_handshake(g, &t, sni, prof, split_seg, split_rec);
        tickets = rng_unit(r) < cp->ticket_p;
    } else {
        /* Seen mid-stream: both streams are already far along and the
         * capture starts with a client request at a record boundary. */
        for (int d = 0; d < 2; d++) {
            uint32_t off = 2000 + rng_below(r, 200000);
            g->snd[d] = f->isn[d] + 1 + off;
            g->lay[d] = off;
        }
        g->seen[C] = g->snd[S];
        g->seen[S] = g->snd[C];
        for (int d = 0; d < 2; d++)
            g->cwnd[d] = 40;
    }
    if (g->oom)
        return;

    double rounds_med = cp->rounds * exp(0.3 * rng_normal(r));
    unsigned rounds = (unsigned)fmin(fmax(rng_lognorm(r, rounds_med, 0.5), 1), 300);
    if (midstream && rounds > 1)
        rounds = 1 + rng_below(r, rounds);
    double think = cp->think_ms * exp(0.3 * rng_normal(r));
    double proc = cp->proc_ms * exp(0.3 * rng_normal(r));
    for (unsigned i = 0; i < rounds && !g->oom; i++) {
        if (i > 0)
            t += ms_ns(fmin(rng_exp(r, think), 30000));
        double q = fmin(fmax(rng_lognorm(r, cp->req_b, 0.35), 30), 60000);
        lay_appdata(g, C, (uint32_t)q);
        double sp = rng_lognorm(r, proc, 0.5);
        uint64_t tl = tx(g, C, t, sp > 40);
        if (tickets) {
            /* TLS 1.3 NewSessionTickets, sent after the client's
             * Finished: they lead the first response. */
            unsigned nt = 1 + rng_below(r, 2);
            for (unsigned k = 0; k < nt; k++)
                lay_record(g, S, 23, 200 + rng_below(r, 80));
            tickets = 0;
        }
        double a;
        if (rng_unit(r) < cp->small_p)
            a = rng_range(r, 20, 400);
        else
            a = fmin(fmax(rng_lognorm(r, cp->resp_b, cp->resp_sigma), 50), 4e6);
        lay_appdata(g, S, (uint32_t)a);
        t = tx(g, S, tl + g->rtt + ms_ns(sp), 1);
    }
    if (g->oom)
        return;

    /* Orderly close, FIN from both sides and the last ACK. */
    t += ms_ns(fmin(rng_exp(r, think * 0.5), 30000));
    if (rng_unit(r) < cp->client_close_p) {
        t = add_pkt(g, t, C, TH_FIN | TH_ACK, g->snd[C], g->seen[C], 0);
        g->snd[C]++;
        g->seen[S] = g->snd[C];
        t += g->rtt + us_ns(rng_range(r, 10, 200));
        t = add_pkt(g, t, S, TH_FIN | TH_ACK, g->snd[S], g->seen[S], 0);
        g->snd[S]++;
        g->seen[C] = g->snd[S];
        t += us_ns(rng_range(r, 15, 120));
        t = add_pkt(g, t, C, TH_ACK, g->snd[C], g->seen[C], 0);
    } else {
        t = add_pkt(g, t, S, TH_FIN | TH_ACK, g->snd[S], g->seen[S], 0);
        g->snd[S]++;
        g->seen[C] = g->snd[S];
        t += us_ns(rng_lognorm(r, 200, 1.0));
        t = add_pkt(g, t, C, TH_FIN | TH_ACK, g->snd[C], g->seen[C], 0);
        g->snd[C]++;
        g->seen[S] = g->snd[C];
        t += g->rtt + us_ns(rng_range(r, 10, 200));
        t = add_pkt(g, t, S, TH_ACK, g->snd[S], g->seen[S], 0);
    }
}

/* Stable insertion sort by time: the list is nearly sorted already (only
 * ACKs that trail the next segment are out of place). */
static void sort_pkts(pkt *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (p[i].ts >= p[i - 1].ts)
            continue;
        pkt x = p[i];
        size_t j = i;
        while (j > 0 && p[j - 1].ts > x.ts) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
}

static int is_hello_seg(const flow *f, const pkt *p)
{
    return p->dir == C && f->handshake &&
           stream_off(f, C, p->seq) < f->expl_len[C];
}

/* One data segment sent a second time, halfway to the next packet of the
 * flow (a spurious retransmission; sometimes a ClientHello segment). */
static void add_retransmission(fgen *g)
{
    flow *f = g->f;
    size_t n = f->npk, pick = n, seen = 0;
    int want_hello = f->handshake && rng_unit(g->r) < 0.3;
    for (size_t i = 0; i + 1 < n; i++) {
        /* A 1-byte segment sent again looks like a keep-alive probe to
         * tshark, which then reports a reassembly error: skip those. */
        if (f->pk[i].len <= 1 || (want_hello && !is_hello_seg(f, &f->pk[i])))
            continue;
        if (rng_below(g->r, ++seen) == 0)
            pick = i;
    }
    if (pick == n)
        return;
    if (array_grow((void **)&f->pk, &f->cappk, n + 1, sizeof *f->pk)) {
        g->oom = 1;
        return;
    }
    pkt x = f->pk[pick];
    x.ts += (f->pk[pick + 1].ts - x.ts) / 2;
    memmove(&f->pk[pick + 2], &f->pk[pick + 1], (n - pick - 1) * sizeof *f->pk);
    f->pk[pick + 1] = x;
    f->npk++;
}

/* Two consecutive data segments of one direction arrive in the wrong order
 * (contents swapped, times kept).  Never the ClientHello's: tshark does not
 * reassemble out-of-order segments by default, and the checks use it. */
static void add_swap(fgen *g)
{
    flow *f = g->f;
    size_t pick = f->npk, seen = 0;
    for (size_t i = 0; i + 1 < f->npk; i++) {
        pkt *a = &f->pk[i], *b = &f->pk[i + 1];
        if (a->len == 0 || b->len == 0 || a->dir != b->dir ||
            is_hello_seg(f, a) || is_hello_seg(f, b))
            continue;
        if (rng_below(g->r, ++seen) == 0)
            pick = i;
    }
    if (pick == f->npk)
        return;
    pkt *a = &f->pk[pick], *b = &f->pk[pick + 1];
    pkt x = *a;
    a->seq = b->seq; a->ack = b->ack; a->len = b->len; a->flags = b->flags;
    b->seq = x.seq; b->ack = x.ack; b->len = x.len; b->flags = x.flags;
}

static size_t frame_len(const flow *f, const pkt *p)
{
    return 14 + 4 * (size_t)f->tp.ntags + (f->tp.v6 ? 40 : 20) +
           ((p->flags & TH_SYN) ? 40 : 32) + p->len;
}

/* --------------------------------------------------------- frame writer */

static inline void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Internet checksum (RFC 1071) accumulated in native byte order, 32 bits
 * at a time; fold() finishes it.  Native order is fine: the result is
 * stored back in native order. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        sum += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n) {
        uint8_t t[2] = { p[0], 0 };
        uint16_t w;
        memcpy(&w, t, 2);
        sum += w;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Payload of segment p: filler, then the real prefix and record headers
 * that fall inside it. */
static void fill_payload(const synth_ctx *c, const flow *f, const pkt *p,
                         uint8_t *out)
{
    int d = p->dir;
    uint32_t a = stream_off(f, d, p->seq), len = p->len, b = a + len;
    memcpy(out, c->block + ((f->salt[d] + a) & (BLOCK_SIZE - 1)), len);
    if (a < f->expl_len[d]) {
        uint32_t e = f->expl_len[d] < b ? f->expl_len[d] : b;
        memcpy(out, f->expl[d] + a, e - a);
    }
    const rec *rs = f->recs[d];
    size_t lo = 0, hi = f->nrec[d];
    while (lo < hi) {   /* first record whose header ends after a */
        size_t mid = (lo + hi) / 2;
        if (rs[mid].off + 5 <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < f->nrec[d] && rs[i].off < b; i++) {
        uint8_t h[5] = { rs[i].type, 3, 3, (uint8_t)(rs[i].len >> 8),
                         (uint8_t)rs[i].len };
        for (uint32_t k = 0; k < 5; k++) {
            uint32_t o = rs[i].off + k;
            if (o >= a && o < b)
                out[o - a] = h[k];
        }
    }
}

static size_t build_frame(synth_ctx *c, flow *f, const pkt *p)
{
    uint8_t *b = c->frame;
    int d = p->dir;
    const tuple *tp = &f->tp;
    static const uint8_t gw_mac[6] = { 0x02, 0x53, 0x4e, 0x49, 0x54, 0x43 };
    memcpy(b, d == C ? gw_mac : tp->cmac, 6);
    memcpy(b + 6, d == C ? tp->cmac : gw_mac, 6);
    size_t at = 12;
    if (tp->ntags == 2) {
        be16(b + at, 0x88a8);
        be16(b + at + 2, tp->tag[0]);
        at += 4;
    }
    if (tp->ntags >= 1) {
        be16(b + at, 0x8100);
        be16(b + at + 2, tp->tag[1]);
        at += 4;
    }
    be16(b + at, tp->v6 ? 0x86dd : 0x0800);
    at += 2;

    int syn = (p->flags & TH_SYN) != 0;
    unsigned thl = syn ? 40 : 32;
    unsigned tcplen = thl + p->len;
    uint8_t *ip = b + at;
    const uint8_t *src = d == C ? tp->cip : tp->sip;
    const uint8_t *dst = d == C ? tp->sip : tp->cip;
    uint64_t ps;          /* pseudo-header sum */
    uint8_t *tcp;
    if (tp->v6) {
        be32(ip, 0x60000000u | f->flowlabel);
        be16(ip + 4, tcplen);
        ip[6] = 6;
        ip[7] = f->ttl[d];
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        tcp = ip + 40;
        uint8_t ph[8] = { 0, 0, (uint8_t)(tcplen >> 8), (uint8_t)tcplen, 0, 0, 0, 6 };
        ps = csum_add(csum_add(0, ip + 8, 32), ph, 8);
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        be16(ip + 2, 20 + tcplen);
        be16(ip + 4, f->ipid[d]++);
        be16(ip + 6, 0x4000);      /* DF */
        ip[8] = f->ttl[d];
        ip[9] = 6;
        ip[10] = ip[11] = 0;
        memcpy(ip + 12, src + 12, 4);
        memcpy(ip + 16, dst + 12, 4);
        uint16_t ck = csum_fold(csum_add(0, ip, 20));
        memcpy(ip + 10, &ck, 2);
        tcp = ip + 20;
        uint8_t ph[4] = { 0, 6, (uint8_t)(tcplen >> 8), (uint8_t)tcplen };
        ps = csum_add(csum_add(0, ip + 12, 8), ph, 4);
    }
    be16(tcp, d == C ? tp->cport : 443);
    be16(tcp + 2, d == C ? 443 : tp->cport);
    be32(tcp + 4, p->seq);
    be32(tcp + 8, p->ack);
    tcp[12] = (uint8_t)((thl / 4) << 4);
    tcp[13] = p->flags;
    be16(tcp + 14, syn ? (d == C ? 64240 : 65160) : f->win[d]);
    tcp[16] = tcp[17] = tcp[18] = tcp[19] = 0;
    /* TCP timestamps: a 1 kHz clock per side.  The client (the capture
     * point) echoes the newest server TSval it has seen; the server echoes
     * the client clock one RTT ago, which is the newest it can have seen
     * (exactly the SYN's on the SYN-ACK). */
    uint64_t el = p->ts - f->t0;
    uint32_t tsval = f->tsbase[d] + (uint32_t)(el / 1000000u);
    uint32_t tsecr = d == C ? f->last_tsval[S] : f->tsbase[C] +
        (uint32_t)((el > f->rtt ? el - f->rtt : 0) / 1000000u);
    f->last_tsval[d] = tsval;
    uint8_t *opt = tcp + 20;
    if (syn) {
        opt[0] = 2; opt[1] = 4; be16(opt + 2, f->mss + 12u);    /* MSS */
        opt[4] = 4; opt[5] = 2;                                  /* SACK ok */
        opt[6] = 8; opt[7] = 10; be32(opt + 8, tsval); be32(opt + 12, tsecr);
        opt[16] = 1;                                             /* NOP */
        opt[17] = 3; opt[18] = 3; opt[19] = f->wscale[d];        /* WS */
    } else {
        opt[0] = 1; opt[1] = 1;
        opt[2] = 8; opt[3] = 10; be32(opt + 4, tsval); be32(opt + 8, tsecr);
    }
    if (p->len)
        fill_payload(c, f, p, tcp + thl);
    uint16_t ck = csum_fold(csum_add(ps, tcp, tcplen));
    memcpy(tcp + 16, &ck, 2);
    return (size_t)(tcp + tcplen - b);
}

/* ----------------------------------------------------------------- heap */

static int heap_less(const flow *a, const flow *b)
{
    uint64_t ta = a->pk[a->next].ts, tb = b->pk[b->next].ts;
    return ta < tb || (ta == tb && a->id < b->id);
}

static void heap_down(synth_ctx *c, size_t i)
{
    flow **h = c->heap;
    size_t n = c->nheap;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && heap_less(h[l], h[m]))
            m = l;
        if (l + 1 < n && heap_less(h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        flow *x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

static int heap_push(synth_ctx *c, flow *f)
{
    if (array_grow((void **)&c->heap, &c->capheap, c->nheap + 1, sizeof *c->heap))
        return -1;
    size_t i = c->nheap++;
    c->heap[i] = f;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(c->heap[i], c->heap[p]))
            break;
        flow *x = c->heap[i];
        c->heap[i] = c->heap[p];
        c->heap[p] = x;
        i = p;
    }
    return 0;
}

/* ------------------------------------------------------- flow lifecycle */

static void flow_free(flow *f)
{
    if (!f)
        return;
    free(f->pk);
    free(f->recs[0]);
    free(f->recs[1]);
    free(f);
}

static flow *flow_get(synth_ctx *c)
{
    flow *f = c->freelist;
    if (f) {
        c->freelist = f->free_next;
    } else {
        f = calloc(1, sizeof *f);
        if (!f)
            return NULL;
    }
    f->npk = f->next = 0;
    f->last_tsval[0] = f->last_tsval[1] = 0;
    f->nrec[0] = f->nrec[1] = 0;
    f->expl_len[0] = f->expl_len[1] = 0;
    f->free_next = NULL;
    return f;
}

static void flow_put(synth_ctx *c, flow *f)
{
    f->free_next = c->freelist;
    c->freelist = f;
}

/* A fresh 5-tuple: client host and ephemeral port (per-host counters
 * stepping by 1..8, so no two live flows share a tuple), server address
 * of the class, link-layer tags. */
static void new_tuple(synth_ctx *c, rng *r, unsigned cls, tuple *tp)
{
    memset(tp, 0, sizeof *tp);
    tp->cls = cls;
    tp->v6 = rng_unit(r) < P_IPV6;
    double u = rng_unit(r);
    static const uint16_t vids[] = { 10, 20, 30, 100, 200, 301, 1024 };
    if (u < P_QINQ) {
        tp->ntags = 2;
        tp->tag[0] = (uint16_t)(1000 + 1000 * rng_below(r, 3));
        tp->tag[1] = vids[rng_below(r, N_(vids))];
    } else if (u < P_QINQ + P_VLAN) {
        tp->ntags = 1;
        tp->tag[1] = vids[rng_below(r, N_(vids))];
    }
    unsigned rep = rng_below(r, 4);
    uint32_t sv = (uint32_t)(((uint64_t)cls * 4 + rep) % 0xFFFFEu) + 1;
    uint16_t *port;
    if (tp->v6) {
        unsigned h = rng_below(r, HOSTS6);
        static const uint8_t cpre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0 };
        static const uint8_t spre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 0, 0 };
        memcpy(tp->cip, cpre, 8);
        tp->cip[8] = 0x10;
        tp->cip[14] = (uint8_t)(h >> 8);
        tp->cip[15] = (uint8_t)(h + 1);
        memcpy(tp->sip, spre, 8);
        be32(tp->sip + 12, sv);
        tp->sip[8] = 0x53;
        port = &c->port6[h];
        tp->cmac[4] = 0x66;
        tp->cmac[5] = (uint8_t)h;
        tp->cmac[3] = (uint8_t)(h >> 8);
    } else {
        unsigned h = rng_below(r, HOSTS4);
        tp->cip[12] = 10;                       /* 10.1.x.y, y 1..250 */
        tp->cip[13] = 1;
        tp->cip[14] = (uint8_t)(h / 250);
        tp->cip[15] = (uint8_t)(h % 250 + 1);
        be32(tp->sip + 12, 0xAC100000u | sv);   /* 172.16.0.0/12 */
        port = &c->port4[h];
        tp->cmac[4] = (uint8_t)(h >> 8);
        tp->cmac[5] = (uint8_t)h;
    }
    tp->cmac[0] = 0x02;
    tp->cmac[1] = 0x00;
    tp->cmac[2] = 0x5e;
    if (*port == 0)
        *port = (uint16_t)(32768 + rng_below(r, 28232));
    *port = (uint16_t)(*port + 1 + rng_below(r, 8));
    if (*port < 32768 || *port > 60999)
        *port = (uint16_t)(32768 + (*port % 8));
    tp->cport = *port;
}

static void ip_text(const tuple *tp, int server, char *buf, size_t n)
{
    const uint8_t *a = server ? tp->sip : tp->cip;
    if (tp->v6)
        inet_ntop(AF_INET6, a, buf, (socklen_t)n);
    else
        inet_ntop(AF_INET, a + 12, buf, (socklen_t)n);
}

/* Start flow number id at t0: pick its kind, generate its packets, write
 * its truth row, queue it.  Returns 0 or -1 (out of memory / truth I/O). */
static int flow_start(synth_ctx *c, uint64_t id, uint64_t t0, snitch_err *e)
{
    const synth_config *cfg = c->cfg;
    rng r;
    rng_seed(&r, cfg->seed, 1, id);
    flow *f = flow_get(c);
    if (!f)
        return err_set(e, "out of memory");
    f->id = id;
    unsigned cls = rng_below(&r, cfg->classes);
    int midstream = rng_unit(&r) < P_MIDSTREAM;
    int reuse = rng_unit(&r) < P_REUSE;
    if (reuse && !midstream && c->nring > 0) {
        /* Same client, port and server as a flow that closed earlier
         * (and so the same class): a new SYN on an old tuple. */
        unsigned k = rng_below(&r, c->nring);
        f->tp = c->ring[k];
        c->ring[k] = c->ring[--c->nring];
        cls = f->tp.cls;
    } else {
        new_tuple(c, &r, cls, &f->tp);
    }
    f->handshake = !midstream;
    int split_seg = rng_unit(&r) < P_CH_2SEG;
    int split_rec = rng_unit(&r) < P_CH_2REC;
    int retrans = rng_unit(&r) < P_RETRANS;
    int swap = rng_unit(&r) < P_SWAP;

    unsigned bcls = cls;
    if (cfg->classes > 1 && rng_unit(&r) < P_BORROW)
        bcls = (cls + 1 + rng_below(&r, cfg->classes - 1)) % cfg->classes;
    class_params cp;
    class_params_of(bcls, &cp);
    double pu = rng_unit(&r);
    int prof = 0;
    while (prof < 3 && pu >= cp.prof[prof])
        prof++;

    for (int d = 0; d < 2; d++) {
        f->isn[d] = (uint32_t)rng_next(&r);
        f->tsbase[d] = (uint32_t)rng_next(&r);
        f->ipid[d] = (uint16_t)rng_next(&r);
        f->salt[d] = (uint32_t)rng_next(&r);
    }
    f->ttl[C] = 64;
    f->ttl[S] = (uint8_t)(50 + rng_below(&r, 10));
    f->win[C] = (uint16_t)(500 + rng_below(&r, 20));
    f->win[S] = (uint16_t)(230 + rng_below(&r, 300));
    f->wscale[C] = 7;
    f->wscale[S] = (uint8_t)(7 + rng_below(&r, 3));
    f->flowlabel = (uint32_t)rng_next(&r) & 0xFFFFF;
    f->mss = f->tp.v6 ? 1428 : 1448;
    f->t0 = t0;

    fgen g;
    memset(&g, 0, sizeof g);
    g.f = f;
    g.r = &r;
    g.cp = &cp;
    double rtt_ms = fmax(rng_lognorm(&r, cp.rtt_ms, 0.3), 0.2);
    g.rtt = ms_ns(rtt_ms);
    f->rtt = g.rtt;
    g.bw_bps = rng_lognorm(&r, cp.bw_mbps, 0.35) * 1e6;
    g.cwnd[C] = g.cwnd[S] = 10;

    char sni[64];
    synth_class_sni(cls, sni, sizeof sni);
    gen_flow(&g, t0, sni, midstream, prof, split_seg, split_rec);
    if (!g.oom)
        sort_pkts(f->pk, f->npk);
    if (!g.oom && retrans)
        add_retransmission(&g);
    if (!g.oom && swap)
        add_swap(&g);
    if (g.oom || f->npk == 0) {
        flow_put(c, f);
        if (g.too_long)
            return err_set(e, "synth: the ClientHello for '%s' does not fit "
                           "one segment", sni);
        return err_set(e, "out of memory");
    }
    f->bytes = 0;
    for (size_t i = 0; i < f->npk; i++)
        f->bytes += 16 + frame_len(f, &f->pk[i]);
    c->committed += f->bytes;

    if (c->truth) {
        char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
        ip_text(&f->tp, 0, cip, sizeof cip);
        ip_text(&f->tp, 1, sip, sizeof sip);
        fprintf(c->truth, "%llu,%s,%u,%s,443,6,%s,%u,%zu,%d\n",
                (unsigned long long)id, cip, f->tp.cport, sip,
                midstream ? "" : sni, cls, f->npk, f->handshake);
    }
    if (heap_push(c, f)) {
        flow_put(c, f);
        return err_set(e, "out of memory");
    }
    c->st.flows++;
    return 0;
}

/* ------------------------------------------------------------ the writer */

static void ctx_free(synth_ctx *c)
{
    for (size_t i = 0; i < c->nheap; i++)
        flow_free(c->heap[i]);
    free(c->heap);
    while (c->freelist) {
        flow *f = c->freelist;
        c->freelist = f->free_next;
        flow_free(f);
    }
    free(c->block);
    if (c->dump)
        pcap_dump_close(c->dump);   /* closes c->fp */
    else if (c->fp)
        fclose(c->fp);
    if (c->pd)
        pcap_close(c->pd);
    if (c->truth)
        fclose(c->truth);
}

static int io_err(snitch_err *e, const char *path, int err)
{
    return err_set(e, "cannot write '%s': %s", path,
                   err ? strerror(err) : "write error");
}

static int write_packet(synth_ctx *c, flow *f)
{
    const pkt *p = &f->pk[f->next];
    size_t n = build_frame(c, f, p);
    struct pcap_pkthdr h;
    if (c->cfg->nanosecond) {
        h.ts.tv_sec = (time_t)(p->ts / 1000000000u);
        h.ts.tv_usec = (suseconds_t)(p->ts % 1000000000u);
    } else {
        uint64_t us = (p->ts + 500) / 1000;   /* round to nearest us */
        h.ts.tv_sec = (time_t)(us / 1000000u);
        h.ts.tv_usec = (suseconds_t)(us % 1000000u);
    }
    h.caplen = h.len = (bpf_u_int32)n;
    pcap_dump((u_char *)c->dump, &h, c->frame);
    c->st.packets++;
    c->st.bytes += 16 + n;
    return 0;
}

int synth_write_ex(const synth_config *cfg, const char *path,
                   synth_progress_fn progress, void *arg,
                   synth_stats *out, snitch_err *e)
{
    if (!cfg || !path)
        return err_set(e, "synth: no configuration or output path");
    if (cfg->classes < 1)
        return err_set(e, "synth: the number of classes must be at least 1");

    synth_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, "out of memory");
    c->cfg = cfg;
    int rc = -1;
    c->block = malloc(BLOCK_SIZE + BLOCK_SLACK);
    if (!c->block) {
        err_set(e, "out of memory");
        goto done;
    }
    {
        rng br;
        rng_seed(&br, cfg->seed, 3, 0);
        for (size_t i = 0; i < BLOCK_SIZE + BLOCK_SLACK; i += 8) {
            uint64_t v = rng_next(&br);
            memcpy(c->block + i, &v, 8);
        }
    }
    rng_seed(&c->r, cfg->seed, 4, 0);
    rng_seed(&c->ring_r, cfg->seed, 5, 0);

    c->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
        cfg->nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (!c->pd) {
        err_set(e, "out of memory");
        goto done;
    }
    c->fp = fopen(path, "wb");
    if (!c->fp) {
        io_err(e, path, errno);
        goto done;
    }
    setvbuf(c->fp, NULL, _IOFBF, 1 << 20);
    c->dump = pcap_dump_fopen(c->pd, c->fp);
    if (!c->dump) {
        err_set(e, "cannot write '%s': %s", path, pcap_geterr(c->pd));
        goto done;    /* ctx_free closes c->fp */
    }
    c->st.bytes = 24;
    c->committed = 24;
    if (cfg->truth_path) {
        c->truth = fopen(cfg->truth_path, "w");
        if (!c->truth) {
            io_err(e, cfg->truth_path, errno);
            goto done;
        }
        setvbuf(c->truth, NULL, _IOFBF, 1 << 16);
        fputs("flow,client_ip,client_port,server_ip,server_port,proto,sni,"
              "class,packets,handshake\n", c->truth);
    }

    /* Merge loop.  Before writing a packet at time t, every flow starting
     * at or before t is started, so each flow's first packet lands in
     * start order.  New flows stop once both bounds are met (flow count,
     * and bytes, counted when a flow is generated, so the open flows still
     * finish and the file ends at least that large). */
    uint64_t next_start = EPOCH_NS, started = 0;
    for (;;) {
        int more = started < cfg->flows ||
                   (cfg->target_bytes && c->committed < cfg->target_bytes);
        if (more && (c->nheap == 0 || c->heap[0]->pk[c->heap[0]->next].ts >= next_start)) {
            if (flow_start(c, started, next_start, e))
                goto done;
            started++;
            next_start += (uint64_t)(rng_exp(&c->r, 1.0 / FLOW_RATE) * 1e9) + 1;
            continue;
        }
        if (c->nheap == 0)
            break;
        flow *f = c->heap[0];
        write_packet(c, f);
        if (++f->next == f->npk) {
            /* Finished (FINs both ways): its tuple may come back later. */
            if (c->nring < RING)
                c->ring[c->nring++] = f->tp;
            else
                c->ring[rng_below(&c->ring_r, RING)] = f->tp;
            c->heap[0] = c->heap[--c->nheap];
            flow_put(c, f);
        }
        if (c->nheap)
            heap_down(c, 0);
        if ((c->st.packets & 1023) == 0) {
            if (ferror(c->fp)) {
                io_err(e, path, errno);
                goto done;
            }
            if (c->truth && ferror(c->truth)) {
                io_err(e, cfg->truth_path, errno);
                goto done;
            }
            if (progress && (c->st.packets % PROGRESS_EVERY) == 0)
                progress(&c->st, arg);
        }
    }

    if (pcap_dump_flush(c->dump) != 0 || ferror(c->fp)) {
        io_err(e, path, errno);
        goto done;
    }
    if (c->truth) {
        FILE *t = c->truth;
        c->truth = NULL;
        if (fflush(t) != 0 || ferror(t)) {
            int err = errno;
            fclose(t);
            io_err(e, cfg->truth_path, err);
            goto done;
        }
        if (fclose(t) != 0) {
            io_err(e, cfg->truth_path, errno);
            goto done;
        }
    }
    if (out)
        *out = c->st;
    rc = 0;
done:
    ctx_free(c);
    free(c);
    return rc;
}

int synth_write(const synth_config *cfg, const char *path, snitch_err *e)
{
    return synth_write_ex(cfg, path, NULL, NULL, NULL, e);
}
