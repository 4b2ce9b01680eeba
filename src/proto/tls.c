/* tls.c - TLS ClientHello parsing and client-stream reassembly; see tls.h.
 *
 * The behaviour mirrors the reference extractor (ref_extract.py:
 * parse_client_hello_body, try_client_hello, stream_add, Extractor.tls)
 * including its leniency, because our output is compared with it column by
 * column.  The reference rebuilds the whole contiguous prefix and re-parses
 * the records on every segment; here both are kept incrementally (see
 * tls_stream_apply) so many small segments do not cost quadratic time, while
 * giving byte-for-byte the same prefix the reference would build. */
#include "proto/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define TLS_REC_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0x0000
#define TLS_EXT_SUPPORTED_VERSIONS 0x002b
#define TLS_EXT_ECH 0xfe0d
#define TLS_SNI_HOST_NAME 0

static uint16_t tls_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* GREASE values (RFC 8701) are 0x0a0a, 0x1a1a, ... 0xfafa: both bytes equal
 * and of the form 0x?a. */
static int tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---------------------------------------------------------------- UTF-8 */

/* Lower-case ASCII letters and decode UTF-8 the way Python's
 * bytes.lower().decode('utf-8', 'replace') does: every maximal subpart of an
 * ill-formed sequence (a valid start byte followed by as many bytes as are
 * still valid continuations) becomes one U+FFFD, any other invalid byte one
 * U+FFFD each.  Lower-casing first is the same as lower-casing while
 * decoding, since ASCII bytes never occur inside a multi-byte sequence.
 * `o` must hold 3 * n bytes.  Returns the number of bytes written. */
static size_t tls_utf8_lower(const uint8_t *s, size_t n, char *o)
{
    size_t i = 0, k = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            o[k++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            i++;
            continue;
        }
        size_t need;            /* continuation bytes after the start byte */
        uint8_t lo = 0x80, hi = 0xbf;   /* range of the first continuation */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;      /* no overlong forms */
            else if (c == 0xed)
                hi = 0x9f;      /* no surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;      /* no overlong forms */
            else if (c == 0xf4)
                hi = 0x8f;      /* nothing above U+10FFFF */
        } else {
            need = 0;           /* 80-c1, f5-ff never start a character */
        }
        size_t j = i + 1;
        if (need > 0 && j < n && s[j] >= lo && s[j] <= hi) {
            j++;
            while (j - i <= need && j < n && s[j] >= 0x80 && s[j] <= 0xbf)
                j++;
        }
        if (need > 0 && j - i == need + 1) {
            memcpy(o + k, s + i, j - i);
            k += j - i;
        } else {
            o[k++] = (char)0xef;    /* U+FFFD */
            o[k++] = (char)0xbf;
            o[k++] = (char)0xbd;
        }
        i = j;
    }
    return k;
}

/* ---------------------------------------------------------------- hello */

void tls_hello_free(tls_hello *h)
{
    if (!h)
        return;
    free(h->sni);
    memset(h, 0, sizeof *h);
}

/* Highest non-GREASE entry of a supported_versions extension body (1-byte
 * list length, then 2-byte versions); 0 if none.  Tolerates a list length
 * that disagrees with the extension length. */
static uint16_t tls_max_supported(const uint8_t *e, size_t elen)
{
    if (elen < 1)
        return 0;
    size_t end = (size_t)1 + e[0];
    if (end > elen)
        end = elen;
    uint16_t best = 0;
    for (size_t q = 1; q + 2 <= end; q += 2) {
        uint16_t v = tls_be16(e + q);
        if (!tls_is_grease(v) && v > best)
            best = v;
    }
    return best;
}

int tls_parse_client_hello(const uint8_t *b, size_t len, tls_hello *out)
{
    memset(out, 0, sizeof *out);
    if (!b)
        len = 0;
    if (len >= 2)
        out->legacy_version = tls_be16(b);

    const uint8_t *name = NULL;
    size_t name_len = 0;
    uint16_t maxv = 0;
    int sni_seen = 0, sv_seen = 0;

    /* The fixed part: a length that runs past the body means no extensions
     * (the reference returns '' at each of these checks). */
    size_t p = 2 + 32;
    if (len < p + 1)
        goto done;
    p += 1 + (size_t)b[p];                  /* session id */
    if (len < p + 2)
        goto done;
    p += 2 + (size_t)tls_be16(b + p);       /* cipher suites */
    if (len < p + 1)
        goto done;
    p += 1 + (size_t)b[p];                  /* compression methods */
    if (len < p + 2)
        goto done;
    size_t elen = tls_be16(b + p);
    p += 2;
    size_t end = p + elen < len ? p + elen : len;

    /* The reference stops at the first server_name extension; we walk on
     * (same rules) only to pick up the version and ECH fields. */
    while (p + 4 <= end) {
        uint16_t et = tls_be16(b + p);
        size_t el = tls_be16(b + p + 2);
        p += 4;
        size_t xend = p + el < end ? p + el : end;  /* clamped ext body */
        if (et == TLS_EXT_SERVER_NAME && !sni_seen) {
            sni_seen = 1;
            /* The 2-byte server_name_list length is skipped unchecked. */
            size_t q = p + 2;
            while (q + 3 <= xend) {
                uint8_t nt = b[q];
                size_t nl = tls_be16(b + q + 1);
                q += 3;
                if (nt == TLS_SNI_HOST_NAME) {
                    /* Python slice semantics: clamp to the whole body, not
                     * to the extension, so an oversize length gives a
                     * truncated name rather than none. */
                    out->has_sni = 1;
                    name = b + q;
                    name_len = nl < len - q ? nl : len - q;
                    break;
                }
                q += nl;
            }
        } else if (et == TLS_EXT_SUPPORTED_VERSIONS && !sv_seen) {
            sv_seen = 1;
            maxv = tls_max_supported(b + p, xend > p ? xend - p : 0);
        } else if (et == TLS_EXT_ECH) {
            out->ech = 1;
        }
        p += el;
    }

done:
    out->max_version = maxv ? maxv : out->legacy_version;
    if (name_len > (SIZE_MAX - 1) / 3)
        return -1;
    out->sni = malloc(name_len * 3 + 1);
    if (!out->sni) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->sni_len = name ? tls_utf8_lower(name, name_len, out->sni) : 0;
    out->sni[out->sni_len] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- records */

/* Progress through the TLS records at the start of a stream: records before
 * `pos` are consumed and their bodies are in hs.  Keeping this between calls
 * lets the stream parse each record once as the prefix grows. */
typedef struct tls_walk {
    size_t pos;
    uint8_t *hs;
    size_t hs_len, hs_cap;
} tls_walk;

static tls_state tls_walk_records(tls_walk *w, const uint8_t *data, size_t n,
                                  tls_hello *out)
{
    for (;;) {
        if (n - w->pos < 5)
            return TLS_NEED;
        const uint8_t *r = data + w->pos;
        if (r[0] != TLS_REC_HANDSHAKE || r[1] != 3)
            return TLS_FAIL;
        size_t rlen = tls_be16(r + 3);
        if (n - w->pos - 5 < rlen)
            return TLS_NEED;
        if (rlen) {
            void *hs = w->hs;
            if (array_grow(&hs, &w->hs_cap, w->hs_len + rlen, 1) < 0)
                return TLS_FAIL;
            w->hs = hs;
            memcpy(w->hs + w->hs_len, r + 5, rlen);
            w->hs_len += rlen;
        }
        w->pos += 5 + rlen;
        if (w->hs_len >= 1 && w->hs[0] != TLS_HS_CLIENT_HELLO)
            return TLS_FAIL;
        if (w->hs_len >= 4) {
            size_t hlen = ((size_t)w->hs[1] << 16) | ((size_t)w->hs[2] << 8)
                          | w->hs[3];
            if (w->hs_len - 4 >= hlen) {
                if (!out)
                    return TLS_DONE;
                return tls_parse_client_hello(w->hs + 4, hlen, out) < 0
                       ? TLS_FAIL : TLS_DONE;
            }
        }
    }
}

tls_state tls_try_records(const uint8_t *data, size_t len, tls_hello *out)
{
    tls_walk w = {0};
    tls_state st = data ? tls_walk_records(&w, data, len, out) : TLS_NEED;
    free(w.hs);
    return st;
}

/* ---------------------------------------------------------------- stream */

/* One stored segment, identified by its offset from the stream base.  The
 * reference keeps the longest segment per offset; `len` is that length.
 * Bytes are kept (data != NULL) only while the segment lies beyond the
 * contiguous prefix; once merged into it they live in the prefix buffer. */
typedef struct tls_seg {
    uint32_t off;
    uint32_t len;
    uint8_t *data;
} tls_seg;

struct tls_stream {
    tls_state state;
    int has_base;
    uint32_t base;
    size_t nbytes;          /* bytes of all stored segments (cumulative) */

    tls_seg *segs;          /* every offset ever stored */
    size_t nsegs, segs_cap;
    uint32_t *slots;        /* open-addressing map off -> index+1 (0 free) */
    size_t nslots;
    uint32_t *heap;         /* min-heap by off of segments past the prefix */
    size_t nheap, heap_cap;

    /* The contiguous prefix exactly as the reference assembles it, and
     * cov[x] = largest end of a merged segment starting at or before x
     * (so cov is non-decreasing and cov[x] > x). */
    uint8_t *buf;
    uint32_t *cov;
    size_t cur, buf_cap, cov_cap;
    size_t changed;         /* lowest prefix byte rewritten by this call */

    tls_walk walk;
};

tls_stream *tls_stream_new(void)
{
    tls_stream *s = calloc(1, sizeof *s);
    if (s)
        s->state = TLS_NEED;
    return s;
}

/* Drop everything but the state: a finished stream is never used again,
 * and flows can be many. */
static void tls_stream_release(tls_stream *s)
{
    for (size_t i = 0; i < s->nsegs; i++)
        free(s->segs[i].data);
    free(s->segs);
    free(s->slots);
    free(s->heap);
    free(s->buf);
    free(s->cov);
    free(s->walk.hs);
    tls_state st = s->state;
    int has_base = s->has_base;
    uint32_t base = s->base;
    memset(s, 0, sizeof *s);
    s->state = st;
    s->has_base = has_base;
    s->base = base;
}

void tls_stream_free(tls_stream *s)
{
    if (!s)
        return;
    tls_stream_release(s);
    free(s);
}

tls_state tls_stream_state(const tls_stream *s)
{
    return s ? s->state : TLS_FAIL;
}

static tls_state tls_stream_finish(tls_stream *s, tls_state st)
{
    s->state = st;
    tls_stream_release(s);
    return st;
}

static size_t tls_slot_hash(uint32_t off, size_t nslots)
{
    /* Fibonacci hashing; nslots is a power of two. */
    return (size_t)((off * 2654435769u) >> 7) & (nslots - 1);
}

/* Index of the segment stored at off, or -1. */
static long tls_seg_find(const tls_stream *s, uint32_t off)
{
    if (!s->nslots)
        return -1;
    for (size_t h = tls_slot_hash(off, s->nslots);; h = (h + 1) & (s->nslots - 1)) {
        uint32_t v = s->slots[h];
        if (!v)
            return -1;
        if (s->segs[v - 1].off == off)
            return (long)v - 1;
    }
}

static void tls_slot_put(tls_stream *s, uint32_t idx)
{
    size_t h = tls_slot_hash(s->segs[idx].off, s->nslots);
    while (s->slots[h])
        h = (h + 1) & (s->nslots - 1);
    s->slots[h] = idx + 1;
}

/* Add a new (empty) segment record at off; returns its index or -1. */
static long tls_seg_add(tls_stream *s, uint32_t off)
{
    void *segs = s->segs;
    if (array_grow(&segs, &s->segs_cap, s->nsegs + 1, sizeof *s->segs) < 0)
        return -1;
    s->segs = segs;
    if ((s->nsegs + 1) * 2 > s->nslots) {
        /* Keep the map at most half full; rebuild it at twice the size. */
        size_t n = s->nslots ? s->nslots * 2 : 64;
        uint32_t *slots = calloc(n, sizeof *slots);
        if (!slots)
            return -1;
        free(s->slots);
        s->slots = slots;
        s->nslots = n;
        for (size_t i = 0; i < s->nsegs; i++)
            tls_slot_put(s, (uint32_t)i);
    }
    size_t idx = s->nsegs++;
    s->segs[idx] = (tls_seg){ .off = off, .len = 0, .data = NULL };
    tls_slot_put(s, (uint32_t)idx);
    return (long)idx;
}

static int tls_heap_less(const tls_stream *s, size_t a, size_t b)
{
    return s->segs[s->heap[a]].off < s->segs[s->heap[b]].off;
}

static void tls_heap_swap(tls_stream *s, size_t a, size_t b)
{
    uint32_t t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static int tls_heap_push(tls_stream *s, uint32_t idx)
{
    void *heap = s->heap;
    if (array_grow(&heap, &s->heap_cap, s->nheap + 1, sizeof *s->heap) < 0)
        return -1;
    s->heap = heap;
    size_t i = s->nheap++;
    s->heap[i] = idx;
    while (i > 0 && tls_heap_less(s, i, (i - 1) / 2)) {
        tls_heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static uint32_t tls_heap_pop(tls_stream *s)
{
    uint32_t top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && tls_heap_less(s, l, m))
            m = l;
        if (r < s->nheap && tls_heap_less(s, r, m))
            m = r;
        if (m == i)
            break;
        tls_heap_swap(s, i, m);
        i = m;
    }
    return top;
}

/* Merge segment (r, d, L), r <= cur, into the prefix.  In the reference's
 * assembly (offsets in order, each segment adding its bytes beyond the
 * current end) byte x comes from the segment with the smallest offset that
 * covers x.  Segments before r cover exactly [r, E) beyond r, E being the
 * largest end among them (cov[r-1]); so this segment now supplies
 * [max(r, E), its end).  Cost O(L): cov[x] > x stops the cov update by x =
 * end - 1.  Returns -1 when out of memory. */
static int tls_stream_apply(tls_stream *s, size_t r, const uint8_t *d, size_t L)
{
    size_t e = r + L;
    size_t lo = r > 0 && s->cov[r - 1] > r ? s->cov[r - 1] : r;
    size_t hi = e < s->cur ? e : s->cur;
    for (size_t x = lo; x < hi; x++) {
        if (s->buf[x] != d[x - r]) {
            s->buf[x] = d[x - r];
            if (x < s->changed)
                s->changed = x;
        }
    }
    for (size_t x = r; x < s->cur && s->cov[x] < e; x++)
        s->cov[x] = (uint32_t)e;
    if (e > s->cur) {
        void *buf = s->buf, *cov = s->cov;
        if (array_grow(&buf, &s->buf_cap, e, 1) < 0)
            return -1;
        s->buf = buf;
        if (array_grow(&cov, &s->cov_cap, e, sizeof *s->cov) < 0)
            return -1;
        s->cov = cov;
        memcpy(s->buf + s->cur, d + (s->cur - r), e - s->cur);
        for (size_t x = s->cur; x < e; x++)
            s->cov[x] = (uint32_t)e;
        s->cur = e;
    }
    return 0;
}

tls_state tls_stream_add(tls_stream *s, uint32_t seq, int syn,
                         const uint8_t *data, size_t len, tls_hello *out)
{
    if (!s)
        return TLS_FAIL;
    if (s->state != TLS_NEED)
        return s->state;
    /* As Extractor.tls: a SYN fixes the base at ISN+1 (if none yet) and its
     * data starts after the SYN's sequence number. */
    if (syn) {
        if (!s->has_base) {
            s->base = seq + 1;
            s->has_base = 1;
        }
        seq += 1;
    }
    if (!data || len == 0)
        return TLS_NEED;
    if (!s->has_base) {
        s->base = seq;
        s->has_base = 1;
    }
    uint32_t rel = seq - s->base;
    if (rel >= 0x80000000u)
        return TLS_NEED;            /* before the start of the stream */

    long idx = tls_seg_find(s, rel);
    if (idx >= 0 && s->segs[idx].len >= len)
        return TLS_NEED;            /* retransmission: prefix unchanged */
    /* Stored: counted even if it replaces a shorter one, as the reference. */
    if (len > TLS_STREAM_MAX_BYTES - s->nbytes)
        return tls_stream_finish(s, TLS_FAIL);
    s->nbytes += len;
    if (idx < 0 && (idx = tls_seg_add(s, rel)) < 0)
        return tls_stream_finish(s, TLS_FAIL);
    tls_seg *g = &s->segs[idx];
    g->len = (uint32_t)len;

    if (rel > s->cur) {
        /* Past a gap: keep the bytes until the gap is filled. */
        uint8_t *copy = malloc(len);
        if (!copy)
            return tls_stream_finish(s, TLS_FAIL);
        memcpy(copy, data, len);
        if (g->data) {
            free(g->data);          /* already in the heap */
            g->data = copy;
        } else {
            g->data = copy;
            if (tls_heap_push(s, (uint32_t)idx) < 0)
                return tls_stream_finish(s, TLS_FAIL);
        }
        return TLS_NEED;
    }

    s->changed = SIZE_MAX;
    if (tls_stream_apply(s, rel, data, len) < 0)
        return tls_stream_finish(s, TLS_FAIL);
    while (s->nheap && s->segs[s->heap[0]].off <= s->cur) {
        tls_seg *q = &s->segs[tls_heap_pop(s)];
        int rc = tls_stream_apply(s, q->off, q->data, q->len);
        free(q->data);
        q->data = NULL;
        if (rc < 0)
            return tls_stream_finish(s, TLS_FAIL);
    }

    /* Records already consumed stay valid unless a byte in them changed
     * (a longer retransmission with other content); then start over. */
    if (s->changed < s->walk.pos) {
        s->walk.pos = 0;
        s->walk.hs_len = 0;
    }
    tls_state st = tls_walk_records(&s->walk, s->buf, s->cur, out);
    if (st == TLS_NEED)
        return TLS_NEED;
    return tls_stream_finish(s, st);
}

const char *tls_version_name(uint16_t v, char *buf)
{
    switch (v) {
    case 0x0300: return "ssl3.0";
    case 0x0301: return "tls1.0";
    case 0x0302: return "tls1.1";
    case 0x0303: return "tls1.2";
    case 0x0304: return "tls1.3";
    default:
        snprintf(buf, 8, "0x%04x", v);
        return buf;
    }
}
