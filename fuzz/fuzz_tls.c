/* fuzz_tls.c - libFuzzer target for src/proto/tls.c.
 *
 * The input is used three ways: as a ClientHello body
 * (tls_parse_client_hello), as a client byte stream (tls_try_records), and
 * cut into TCP segments for a tls_stream.  The segment plan comes from a
 * trailer at the END of the input, so a seed that is a plain record stream
 * also works for the first two uses:
 *
 *   payload ... | isn (4 bytes, big endian) | nseg x 4 control bytes | nseg
 *
 * Each control entry is off_hi, off_lo, len, flags: the segment is
 * payload[off % (plen+1) ...] of length len (times 16 if flags & 8),
 * clipped; flags & 1: sent with SYN (seq one lower, as a SYN's data starts
 * at seq+1); flags & 2: seq moved back by flags >> 4 (before the start);
 * flags & 4: one byte of the copy altered (a retransmission with other
 * content).  Segments are copied into exact-size buffers so ASan sees any
 * read past them.
 *
 * The stream is checked against a naive model of the reference's
 * reassembly (every segment kept, the prefix rebuilt on every call); any
 * difference in state or SNI aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tls.h"

#define FUZZ_MAX_SEGS 32

typedef struct fuzz_seg {
    uint32_t off;
    size_t len;
    uint8_t *d;
} fuzz_seg;

typedef struct fuzz_model {
    int has_base;
    uint32_t base;
    size_t nbytes;
    fuzz_seg segs[FUZZ_MAX_SEGS];
    size_t n;
    tls_state state;
} fuzz_model;

static int fuzz_seg_cmp(const void *a, const void *b)
{
    const fuzz_seg *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* ref_extract.py Extractor.tls + stream_add, literally.  Returns -1 when
 * out of memory (the comparison is then skipped). */
static int fuzz_model_add(fuzz_model *m, uint32_t seq, int syn,
                          const uint8_t *d, size_t len, tls_hello *out,
                          tls_state *res)
{
    *res = m->state;
    if (m->state != TLS_NEED)
        return 0;
    if (syn) {
        if (!m->has_base) {
            m->base = seq + 1;
            m->has_base = 1;
        }
        seq++;
    }
    if (!len)
        return 0;
    if (!m->has_base) {
        m->base = seq;
        m->has_base = 1;
    }
    uint32_t rel = seq - m->base;
    if (rel >= 0x80000000u)
        return 0;
    size_t i;
    for (i = 0; i < m->n && m->segs[i].off != rel; i++)
        ;
    if (i == m->n || m->segs[i].len < len) {
        uint8_t *c = malloc(len);
        if (!c)
            return -1;
        memcpy(c, d, len);
        if (i == m->n)
            m->n++;
        else
            free(m->segs[i].d);
        m->segs[i] = (fuzz_seg){ .off = rel, .len = len, .d = c };
        m->nbytes += len;
    }
    if (m->nbytes > TLS_STREAM_MAX_BYTES) {
        *res = m->state = TLS_FAIL;
        return 0;
    }
    qsort(m->segs, m->n, sizeof m->segs[0], fuzz_seg_cmp);
    size_t cur = 0;
    for (i = 0; i < m->n; i++) {
        if (m->segs[i].off > cur)
            break;
        if (m->segs[i].off + m->segs[i].len > cur)
            cur = m->segs[i].off + m->segs[i].len;
    }
    if (!cur)
        return 0;
    uint8_t *buf = malloc(cur);
    if (!buf)
        return -1;
    cur = 0;
    for (i = 0; i < m->n; i++) {
        fuzz_seg *g = &m->segs[i];
        if (g->off > cur)
            break;
        if (g->off + g->len > cur) {
            memcpy(buf + cur, g->d + (cur - g->off), g->off + g->len - cur);
            cur = g->off + g->len;
        }
    }
    *res = m->state = tls_try_records(buf, cur, out);
    free(buf);
    return 0;
}

static void fuzz_model_free(fuzz_model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->segs[i].d);
}

static int fuzz_same_sni(const tls_hello *a, const tls_hello *b)
{
    if (!a->sni || !b->sni)
        return !a->sni && !b->sni;
    return a->has_sni == b->has_sni && a->sni_len == b->sni_len
           && memcmp(a->sni, b->sni, a->sni_len) == 0
           && a->legacy_version == b->legacy_version
           && a->max_version == b->max_version && a->ech == b->ech;
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t nseg = data[size - 1] % FUZZ_MAX_SEGS + 1;
    if (size < 1 + 4 * nseg + 4)
        return;
    const uint8_t *ctl = data + size - 1 - 4 * nseg;
    const uint8_t *ib = ctl - 4;
    uint32_t isn = ((uint32_t)ib[0] << 24) | ((uint32_t)ib[1] << 16)
                   | ((uint32_t)ib[2] << 8) | ib[3];
    size_t plen = (size_t)(ib - data);

    tls_stream *s = tls_stream_new();
    if (!s)
        return;
    fuzz_model m;
    memset(&m, 0, sizeof m);
    int model_ok = 1;
    for (size_t i = 0; i < nseg; i++) {
        const uint8_t *c = ctl + 4 * i;
        size_t off = (((size_t)c[0] << 8) | c[1]) % (plen + 1);
        size_t len = (size_t)c[2] * (c[3] & 8 ? 16 : 1);
        if (len > plen - off)
            len = plen - off;
        int syn = c[3] & 1;
        uint32_t seq = isn + 1 + (uint32_t)off - (uint32_t)syn;
        if (c[3] & 2)
            seq -= c[3] >> 4;
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            break;
        if (len)
            memcpy(copy, data + off, len);
        if ((c[3] & 4) && len)
            copy[c[1] % len] ^= 0x20;

        tls_hello h1, h2;
        memset(&h1, 0, sizeof h1);
        memset(&h2, 0, sizeof h2);
        tls_state a = tls_stream_add(s, seq, syn, copy, len, &h1);
        if (a != tls_stream_state(s))
            abort();
        tls_state b;
        if (model_ok && fuzz_model_add(&m, seq, syn, copy, len, &h2, &b) < 0)
            model_ok = 0;
        /* The model's extra allocations may fail where ours did not; only
         * compare while both ran fully. */
        if (model_ok && (a != b || !fuzz_same_sni(&h1, &h2)))
            abort();
        tls_hello_free(&h1);
        tls_hello_free(&h2);
        free(copy);
    }
    fuzz_model_free(&m);
    tls_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tls_hello h;
    if (tls_parse_client_hello(data, size, &h) == 0) {
        if (!h.sni || h.sni[h.sni_len] != '\0' || (!h.has_sni && h.sni_len))
            abort();
        tls_hello_free(&h);
    }
    if (tls_try_records(data, size, &h) == TLS_DONE)
        tls_hello_free(&h);

    /* The whole input as one segment must agree with the one-shot walk. */
    tls_stream *s = tls_stream_new();
    if (s) {
        tls_hello h2;
        tls_stream_add(s, 0, 1, NULL, 0, &h);       /* SYN: base 1 */
        tls_state a = tls_stream_add(s, 1, 0, data, size, &h);
        tls_state b = size ? tls_try_records(data, size, &h2) : TLS_NEED;
        if (a != b)
            abort();
        if (a == TLS_DONE) {
            if (h.sni_len != h2.sni_len || memcmp(h.sni, h2.sni, h.sni_len) != 0)
                abort();
            tls_hello_free(&h);
            tls_hello_free(&h2);
        }
        tls_stream_free(s);
    }

    fuzz_stream(data, size);
    return 0;
}
