/* test_tls.c - unit tests for src/proto/tls.c: ClientHello parsing, TLS
 * record walking and TCP stream reassembly, on hand-built byte vectors.
 * Expected values follow ref_extract.py (parse_client_hello_body,
 * try_client_hello, stream_add, Extractor.tls). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/tls.h"

/* ---------------------------------------------------------------- builders */

/* A growable byte buffer; tests abort on allocation failure. */
typedef struct bbuf {
    uint8_t *p;
    size_t n, cap;
} bbuf;

static void bb_put(bbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p)
            abort();
        b->cap = c;
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void bb_u8(bbuf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    bb_put(b, &c, 1);
}

static void bb_u16(bbuf *b, unsigned v)
{
    bb_u8(b, v >> 8);
    bb_u8(b, v);
}

static void bb_u24(bbuf *b, unsigned v)
{
    bb_u8(b, v >> 16);
    bb_u16(b, v);
}

static void bb_fill(bbuf *b, unsigned v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bb_u8(b, v);
}

static void bb_free(bbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Extension with an explicit body. */
static void ext_raw(bbuf *e, unsigned type, const void *body, size_t n)
{
    bb_u16(e, type);
    bb_u16(e, (unsigned)n);
    bb_put(e, body, n);
}

/* server_name extension with one host_name entry whose declared length is
 * name_len (normally n). */
static void ext_sni_len(bbuf *e, const void *name, size_t n, unsigned name_len)
{
    bb_u16(e, 0);
    bb_u16(e, (unsigned)(n + 5));
    bb_u16(e, (unsigned)(n + 3));
    bb_u8(e, 0);
    bb_u16(e, name_len);
    bb_put(e, name, n);
}

static void ext_sni(bbuf *e, const char *name)
{
    ext_sni_len(e, name, strlen(name), (unsigned)strlen(name));
}

static void ext_versions(bbuf *e, const unsigned *v, size_t n)
{
    bb_u16(e, 43);
    bb_u16(e, (unsigned)(1 + 2 * n));
    bb_u8(e, (unsigned)(2 * n));
    for (size_t i = 0; i < n; i++)
        bb_u16(e, v[i]);
}

/* ClientHello body: version, random, 32-byte session id, 3 cipher suites,
 * null compression, then the extension block `ext` (omitted if NULL). */
static void hello_body(bbuf *b, unsigned version, const bbuf *ext)
{
    bb_u16(b, version);
    bb_fill(b, 0x5a, 32);           /* random */
    bb_u8(b, 32);
    bb_fill(b, 0x11, 32);           /* session id */
    bb_u16(b, 6);
    bb_u16(b, 0x1301);
    bb_u16(b, 0x1302);
    bb_u16(b, 0xc02f);
    bb_u8(b, 1);
    bb_u8(b, 0);
    if (ext) {
        bb_u16(b, (unsigned)ext->n);
        bb_put(b, ext->p, ext->n);
    }
}

/* Handshake message: type, 24-bit length, body. */
static void handshake(bbuf *h, unsigned type, const bbuf *body)
{
    bb_u8(h, type);
    bb_u24(h, (unsigned)body->n);
    bb_put(h, body->p, body->n);
}

/* TLS handshake records carrying hs, cut at the given record body sizes
 * (the last record takes the rest). */
static void records(bbuf *r, const bbuf *hs, const size_t *cuts, size_t ncuts)
{
    size_t p = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t n = i < ncuts ? cuts[i] : hs->n - p;
        bb_u8(r, 22);
        bb_u8(r, 3);
        bb_u8(r, 1);
        bb_u16(r, (unsigned)n);
        bb_put(r, hs->p + p, n);
        p += n;
    }
}

/* A full single-record ClientHello stream with the given SNI (NULL: no
 * server_name extension). */
static void simple_stream(bbuf *r, const char *sni)
{
    bbuf e = {0}, b = {0}, h = {0};
    bb_u16(&e, 0x0a0a);             /* a GREASE extension first */
    bb_u16(&e, 0);
    if (sni)
        ext_sni(&e, sni);
    ext_raw(&e, 23, NULL, 0);
    hello_body(&b, 0x0303, &e);
    handshake(&h, 1, &b);
    records(r, &h, NULL, 0);
    bb_free(&e);
    bb_free(&b);
    bb_free(&h);
}

/* Parse a body whose extension block is e (convenience). */
static int parse_exts(const bbuf *e, tls_hello *out)
{
    bbuf b = {0};
    hello_body(&b, 0x0303, e);
    int rc = tls_parse_client_hello(b.p, b.n, out);
    bb_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- parsing */

static void test_plain_sni(void)
{
    bbuf r = {0};
    simple_stream(&r, "WwW.Example.COM");
    tls_hello h;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &h), TLS_DONE);
    CHECK_EQ_INT(h.has_sni, 1);
    CHECK_EQ_STR(h.sni, "www.example.com");
    CHECK_EQ_INT(h.sni_len, 15);
    CHECK_EQ_INT(h.legacy_version, 0x0303);
    CHECK_EQ_INT(h.max_version, 0x0303);
    CHECK_EQ_INT(h.ech, 0);
    tls_hello_free(&h);
    CHECK(h.sni == NULL);
    bb_free(&r);
}

static void test_sni_after_long_extension_list(void)
{
    /* Like a post-quantum Chrome hello: many extensions, a 1200-byte
     * key_share, server_name last; the record is > 1 MSS. */
    bbuf e = {0}, b = {0}, h = {0}, r = {0};
    for (unsigned i = 0; i < 28; i++) {
        uint8_t body[16];
        memset(body, (int)i, sizeof body);
        ext_raw(&e, 0x1000 + i, body, i % 16);
    }
    bbuf ks = {0};
    bb_fill(&ks, 0xab, 1200);
    ext_raw(&e, 51, ks.p, ks.n);
    ext_sni(&e, "Post-Quantum.example.ORG");
    hello_body(&b, 0x0303, &e);
    handshake(&h, 1, &b);
    records(&r, &h, NULL, 0);
    CHECK(r.n > 1460);

    tls_hello out;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &out), TLS_DONE);
    CHECK_EQ_STR(out.sni, "post-quantum.example.org");
    tls_hello_free(&out);

    /* The same through the stream in 1460-byte segments. */
    tls_stream *s = tls_stream_new();
    CHECK(s != NULL);
    uint32_t seq = 1000;
    tls_state st = TLS_NEED;
    for (size_t p = 0; p < r.n; p += 1460) {
        size_t n = r.n - p < 1460 ? r.n - p : 1460;
        CHECK_EQ_INT(st, TLS_NEED);
        st = tls_stream_add(s, seq + (uint32_t)p, 0, r.p + p, n, &out);
    }
    CHECK_EQ_INT(st, TLS_DONE);
    CHECK_EQ_STR(out.sni, "post-quantum.example.org");
    tls_hello_free(&out);
    tls_stream_free(s);
    bb_free(&ks);
    bb_free(&e);
    bb_free(&b);
    bb_free(&h);
    bb_free(&r);
}

static void test_zero_length_sni(void)
{
    bbuf e = {0};
    ext_sni(&e, "");
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.has_sni, 1);     /* a host_name entry, just empty */
    CHECK_EQ_INT(h.sni_len, 0);
    CHECK_EQ_STR(h.sni, "");
    tls_hello_free(&h);
    bb_free(&e);
}

static void test_empty_extension_list(void)
{
    bbuf e = {0};                   /* extensions length 0 */
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.has_sni, 0);
    CHECK_EQ_STR(h.sni, "");
    CHECK_EQ_INT(h.legacy_version, 0x0303);
    CHECK_EQ_INT(h.max_version, 0x0303);
    tls_hello_free(&h);

    /* No extensions field at all (TLS 1.0 style hello). */
    bbuf b = {0};
    hello_body(&b, 0x0301, NULL);
    CHECK_EQ_INT(tls_parse_client_hello(b.p, b.n, &h), 0);
    CHECK_EQ_INT(h.has_sni, 0);
    CHECK_EQ_STR(h.sni, "");
    CHECK_EQ_INT(h.max_version, 0x0301);
    tls_hello_free(&h);
    bb_free(&b);
}

static void test_no_server_name(void)
{
    bbuf r = {0};
    simple_stream(&r, NULL);
    tls_hello h;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &h), TLS_DONE);
    CHECK_EQ_INT(h.has_sni, 0);
    CHECK_EQ_STR(h.sni, "");
    CHECK_EQ_INT(h.sni_len, 0);
    tls_hello_free(&h);
    bb_free(&r);
}

static void test_first_server_name_decides(void)
{
    /* A server_name extension whose only entry is not host_name: the
     * reference returns '' there, ignoring a later server_name. */
    bbuf e = {0};
    bb_u16(&e, 0);
    bb_u16(&e, 2 + 3 + 4);
    bb_u16(&e, 3 + 4);
    bb_u8(&e, 7);                   /* unknown name type */
    bb_u16(&e, 4);
    bb_put(&e, "abcd", 4);
    ext_sni(&e, "later.example");
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.has_sni, 0);
    CHECK_EQ_STR(h.sni, "");
    tls_hello_free(&h);

    /* An unknown entry before a host_name entry is skipped. */
    bbuf f = {0};
    bb_u16(&f, 0);
    bb_u16(&f, 2 + 3 + 2 + 3 + 5);
    bb_u16(&f, 3 + 2 + 3 + 5);
    bb_u8(&f, 9);
    bb_u16(&f, 2);
    bb_put(&f, "zz", 2);
    bb_u8(&f, 0);
    bb_u16(&f, 5);
    bb_put(&f, "HoSt1", 5);
    CHECK_EQ_INT(parse_exts(&f, &h), 0);
    CHECK_EQ_INT(h.has_sni, 1);
    CHECK_EQ_STR(h.sni, "host1");
    tls_hello_free(&h);
    bb_free(&e);
    bb_free(&f);
}

static void test_oversize_name_length(void)
{
    /* Name length 0xffff in a short body: the name runs to the end of the
     * whole body (including the bytes after the extension). */
    bbuf e = {0};
    ext_sni_len(&e, "abc", 3, 0xffff);
    ext_raw(&e, 0x4142, "XY", 2);   /* bytes 'A','B',0,2,'X','Y' follow */
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.has_sni, 1);
    CHECK_EQ_INT(h.sni_len, 9);
    CHECK(memcmp(h.sni, "abcab\0\2xy", 9) == 0);
    tls_hello_free(&h);

    /* Extension length far beyond the extension block: clamped to it, so
     * the entry header must still fit in the block. */
    bbuf f = {0};
    bb_u16(&f, 0);
    bb_u16(&f, 0xfff0);
    bb_u16(&f, 0xffff);
    bb_u8(&f, 0);
    bb_u16(&f, 0x0100);
    bb_put(&f, "Short", 5);
    CHECK_EQ_INT(parse_exts(&f, &h), 0);
    CHECK_EQ_INT(h.has_sni, 1);
    CHECK_EQ_STR(h.sni, "short");
    tls_hello_free(&h);

    /* Entry header cut by the end of the block: no host_name. */
    bbuf g = {0};
    bb_u16(&g, 0);
    bb_u16(&g, 4);
    bb_u16(&g, 2);
    bb_u8(&g, 0);
    bb_u8(&g, 0);
    CHECK_EQ_INT(parse_exts(&g, &h), 0);
    CHECK_EQ_INT(h.has_sni, 0);
    tls_hello_free(&h);
    bb_free(&e);
    bb_free(&f);
    bb_free(&g);
}

static void test_oversize_fixed_lengths(void)
{
    /* Session id length past the end: no SNI, still parsed. */
    bbuf b = {0};
    bb_u16(&b, 0x0303);
    bb_fill(&b, 0, 32);
    bb_u8(&b, 200);
    bb_fill(&b, 0, 10);
    tls_hello h;
    CHECK_EQ_INT(tls_parse_client_hello(b.p, b.n, &h), 0);
    CHECK_EQ_INT(h.has_sni, 0);
    CHECK_EQ_STR(h.sni, "");
    CHECK_EQ_INT(h.legacy_version, 0x0303);
    tls_hello_free(&h);

    /* Extensions length larger than what is left: clamped, SNI found. */
    bbuf e = {0}, c = {0};
    ext_sni(&e, "clamped.test");
    hello_body(&c, 0x0303, &e);
    c.p[c.n - e.n - 2] = 0xff;
    c.p[c.n - e.n - 1] = 0xff;
    CHECK_EQ_INT(tls_parse_client_hello(c.p, c.n, &h), 0);
    CHECK_EQ_STR(h.sni, "clamped.test");
    tls_hello_free(&h);

    /* Empty and one-byte bodies. */
    CHECK_EQ_INT(tls_parse_client_hello(b.p, 0, &h), 0);
    CHECK_EQ_INT(h.legacy_version, 0);
    CHECK_EQ_INT(h.max_version, 0);
    CHECK_EQ_STR(h.sni, "");
    tls_hello_free(&h);
    CHECK_EQ_INT(tls_parse_client_hello(b.p, 1, &h), 0);
    CHECK_EQ_INT(h.legacy_version, 0);
    tls_hello_free(&h);
    bb_free(&b);
    bb_free(&c);
    bb_free(&e);
}

static void test_nul_in_sni(void)
{
    bbuf e = {0};
    ext_sni_len(&e, "A\0B", 3, 3);
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.sni_len, 3);
    CHECK(memcmp(h.sni, "a\0b", 4) == 0);
    tls_hello_free(&h);
    bb_free(&e);
}

/* SNI bytes in, expected decoded bytes out (Python's
 * bytes.lower().decode('utf-8', 'replace').encode('utf-8')). */
static void check_utf8(const char *in, size_t n, const char *want, size_t wn)
{
    bbuf e = {0};
    ext_sni_len(&e, in, n, (unsigned)n);
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.sni_len, wn);
    CHECK(h.sni_len == wn && memcmp(h.sni, want, wn) == 0);
    tls_hello_free(&h);
    bb_free(&e);
}

#define FFFD "\xef\xbf\xbd"

static void test_utf8_replacement(void)
{
    check_utf8("\xe2\x82\x41", 3, FFFD "a", 4);             /* truncated seq */
    check_utf8("\xed\xa0\x80", 3, FFFD FFFD FFFD, 9);      /* surrogate */
    check_utf8("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 12); /* > 10FFFF */
    check_utf8("\xc0\xaf", 2, FFFD FFFD, 6);               /* overlong */
    check_utf8("\xe0\x80\x80", 3, FFFD FFFD FFFD, 9);      /* overlong 3 */
    check_utf8("\xf0\x90\x80", 3, FFFD, 3);                /* cut at end */
    check_utf8("\xe2\x82", 2, FFFD, 3);
    check_utf8("\xff" "A", 2, FFFD "a", 4);
    check_utf8("\x80\xbf", 2, FFFD FFFD, 6);               /* lone conts */
    check_utf8("\xf0\x9f\x98\x80Z", 5, "\xf0\x9f\x98\x80z", 5);  /* valid */
    check_utf8("M\xc3\x9cNCHEN.de", 10, "m\xc3\x9cnchen.de", 10); /* Ü kept */
    check_utf8("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf", 4);    /* U+10FFFF */
    check_utf8("\xed\x9f\xbf", 3, "\xed\x9f\xbf", 3);            /* U+D7FF */
}

static void test_supported_versions(void)
{
    bbuf e = {0};
    unsigned v[] = {0x1a1a, 0x0304, 0x0303, 0xfafa};
    ext_versions(&e, v, 4);
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.legacy_version, 0x0303);
    CHECK_EQ_INT(h.max_version, 0x0304);
    tls_hello_free(&h);

    /* Only GREASE: falls back to legacy_version. */
    bbuf f = {0};
    unsigned g[] = {0x0a0a, 0x8a8a};
    ext_versions(&f, g, 2);
    CHECK_EQ_INT(parse_exts(&f, &h), 0);
    CHECK_EQ_INT(h.max_version, 0x0303);
    tls_hello_free(&h);

    /* 0x0a1a is not GREASE (its bytes differ), so it is the highest. */
    bbuf k = {0};
    unsigned d[] = {0x0a1a, 0x0304};
    ext_versions(&k, d, 2);
    CHECK_EQ_INT(parse_exts(&k, &h), 0);
    CHECK_EQ_INT(h.max_version, 0x0a1a);
    tls_hello_free(&h);

    /* After the server_name extension: still seen (the walk goes on). */
    bbuf m = {0};
    unsigned w[] = {0x0304};
    ext_sni(&m, "a.b");
    ext_versions(&m, w, 1);
    CHECK_EQ_INT(parse_exts(&m, &h), 0);
    CHECK_EQ_STR(h.sni, "a.b");
    CHECK_EQ_INT(h.max_version, 0x0304);
    tls_hello_free(&h);

    /* A list length beyond the extension is clamped to it. */
    bbuf n = {0};
    bb_u16(&n, 43);
    bb_u16(&n, 3);
    bb_u8(&n, 0xfe);
    bb_u16(&n, 0x0304);
    bb_u16(&n, 0x0305);             /* next extension's type, not a version */
    bb_u16(&n, 0);
    CHECK_EQ_INT(parse_exts(&n, &h), 0);
    CHECK_EQ_INT(h.max_version, 0x0304);
    tls_hello_free(&h);
    bb_free(&e);
    bb_free(&f);
    bb_free(&k);
    bb_free(&m);
    bb_free(&n);
}

static void test_ech(void)
{
    bbuf e = {0};
    ext_sni(&e, "public.example");
    ext_raw(&e, 0xfe0d, "\0\0\1\0\1", 5);
    tls_hello h;
    CHECK_EQ_INT(parse_exts(&e, &h), 0);
    CHECK_EQ_INT(h.ech, 1);
    CHECK_EQ_STR(h.sni, "public.example");
    tls_hello_free(&h);

    bbuf f = {0};
    ext_raw(&f, 0xfe0c, "x", 1);    /* a neighbouring type is not ECH */
    CHECK_EQ_INT(parse_exts(&f, &h), 0);
    CHECK_EQ_INT(h.ech, 0);
    tls_hello_free(&h);
    bb_free(&e);
    bb_free(&f);
}

/* ---------------------------------------------------------------- records */

static void test_two_records_every_split(void)
{
    bbuf e = {0}, b = {0}, h = {0};
    ext_sni(&e, "Split.Example");
    hello_body(&b, 0x0303, &e);
    handshake(&h, 1, &b);
    int bad = 0;
    for (size_t k = 0; k <= h.n; k++) {
        bbuf r = {0};
        records(&r, &h, &k, 1);
        tls_hello out;
        tls_state st = tls_try_records(r.p, r.n, &out);
        if (st != TLS_DONE || strcmp(out.sni, "split.example") != 0)
            bad++;
        if (st == TLS_DONE)
            tls_hello_free(&out);
        /* Without the second record: the message is incomplete. */
        if (k < h.n && tls_try_records(r.p, 5 + k, &out) != TLS_NEED)
            bad++;
        bb_free(&r);
    }
    CHECK_EQ_INT(bad, 0);

    /* Many tiny records (1 byte each). */
    size_t cuts[400];
    for (size_t i = 0; i < h.n && i < 400; i++)
        cuts[i] = 1;
    bbuf r = {0};
    records(&r, &h, cuts, h.n < 400 ? h.n - 1 : 400);
    tls_hello out;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &out), TLS_DONE);
    CHECK_EQ_STR(out.sni, "split.example");
    tls_hello_free(&out);
    bb_free(&r);
    bb_free(&e);
    bb_free(&b);
    bb_free(&h);
}

static void test_truncated_every_prefix(void)
{
    bbuf r = {0};
    simple_stream(&r, "Prefix.test");
    /* Every strict prefix of the record stream: NEED (not FAIL, not a
     * crash); the full one: DONE. */
    int bad = 0;
    for (size_t n = 0; n < r.n; n++) {
        tls_hello h;
        if (tls_try_records(r.p, n, &h) != TLS_NEED)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);

    /* Every prefix of the body given as the whole body: parses (return 0);
     * the SNI is either none or a prefix of the name. */
    const uint8_t *body = r.p + 9;
    size_t blen = r.n - 9;
    int seen_full = 0, seen_partial = 0;
    bad = 0;
    for (size_t n = 0; n <= blen; n++) {
        tls_hello h;
        if (tls_parse_client_hello(body, n, &h) != 0) {
            bad++;
            continue;
        }
        if (h.has_sni) {
            if (memcmp(h.sni, "prefix.test", h.sni_len) != 0)
                bad++;
            if (h.sni_len == 11)
                seen_full = 1;
            else
                seen_partial = 1;
        } else if (h.sni_len != 0) {
            bad++;
        }
        tls_hello_free(&h);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(seen_full);
    CHECK(seen_partial);        /* a cut name is truncated, not dropped */

    /* The same prefixes through a stream, each as one segment. */
    bad = 0;
    for (size_t n = 1; n < r.n; n++) {
        tls_stream *s = tls_stream_new();
        tls_hello h;
        if (tls_stream_add(s, 7, 0, r.p, n, &h) != TLS_NEED)
            bad++;
        tls_stream_free(s);
    }
    CHECK_EQ_INT(bad, 0);
    bb_free(&r);
}

static void test_not_tls(void)
{
    const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    tls_hello h;
    CHECK_EQ_INT(tls_try_records((const uint8_t *)http, strlen(http), &h), TLS_FAIL);
    tls_stream *s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 1, 0, (const uint8_t *)http, strlen(http), &h),
                 TLS_FAIL);
    CHECK_EQ_INT(tls_stream_state(s), TLS_FAIL);
    /* Sticky: a valid hello afterwards changes nothing. */
    bbuf r = {0};
    simple_stream(&r, "x.y");
    CHECK_EQ_INT(tls_stream_add(s, 1, 0, r.p, r.n, &h), TLS_FAIL);
    tls_stream_free(s);

    /* Record version major byte 2 (SSLv2-ish): FAIL. */
    r.p[1] = 2;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &h), TLS_FAIL);
    r.p[1] = 3;
    r.p[0] = 23;                    /* application data */
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &h), TLS_FAIL);
    /* Fewer than 5 bytes cannot be judged yet. */
    CHECK_EQ_INT(tls_try_records((const uint8_t *)http, 4, &h), TLS_NEED);
    bb_free(&r);
}

static void test_not_client_hello(void)
{
    bbuf e = {0}, b = {0}, h = {0}, r = {0};
    ext_sni(&e, "server.hello");
    hello_body(&b, 0x0303, &e);
    handshake(&h, 2, &b);           /* ServerHello */
    records(&r, &h, NULL, 0);
    tls_hello out;
    CHECK_EQ_INT(tls_try_records(r.p, r.n, &out), TLS_FAIL);
    /* Known from the first body byte, before the message is complete. */
    CHECK_EQ_INT(tls_try_records(r.p, 6, &out), TLS_NEED);  /* record cut */
    bbuf r1 = {0};
    size_t one = 1;
    records(&r1, &h, &one, 1);
    CHECK_EQ_INT(tls_try_records(r1.p, 6, &out), TLS_FAIL);
    /* An empty first record does not decide anything. */
    bbuf r0 = {0};
    size_t zero = 0;
    records(&r0, &h, &zero, 1);
    CHECK_EQ_INT(tls_try_records(r0.p, 5, &out), TLS_NEED);
    CHECK_EQ_INT(tls_try_records(r0.p, r0.n, &out), TLS_FAIL);
    bb_free(&e);
    bb_free(&b);
    bb_free(&h);
    bb_free(&r);
    bb_free(&r1);
    bb_free(&r0);
}

/* ---------------------------------------------------------------- streams */

static void test_segments_out_of_order(void)
{
    bbuf r = {0};
    simple_stream(&r, "Reorder.Example.NET");
    size_t a = 40, b = 90;          /* three segments [0,a) [a,b) [b,n) */
    CHECK(r.n > b + 10);
    const uint32_t isn = 0x12345678;
    tls_stream *s = tls_stream_new();
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(tls_stream_add(s, isn, 1, NULL, 0, &h), TLS_NEED);   /* SYN */
    /* Third segment first, then the first one, then a retransmission of
     * the third, then an overlapping segment covering [a-10, b-5). */
    CHECK_EQ_INT(tls_stream_add(s, isn + 1 + (uint32_t)b, 0, r.p + b, r.n - b, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, isn + 1, 0, r.p, a, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, isn + 1 + (uint32_t)b, 0, r.p + b, r.n - b, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, isn + 1 + (uint32_t)a - 10, 0, r.p + a - 10,
                                b - 5 - (a - 10), &h), TLS_NEED);
    CHECK(h.sni == NULL);
    /* The middle segment closes the gap. */
    CHECK_EQ_INT(tls_stream_add(s, isn + 1 + (uint32_t)a, 0, r.p + a, b - a, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "reorder.example.net");
    CHECK_EQ_INT(tls_stream_state(s), TLS_DONE);
    tls_hello_free(&h);
    /* Done is sticky and does not touch out again. */
    CHECK_EQ_INT(tls_stream_add(s, isn + 1, 0, r.p, r.n, &h), TLS_DONE);
    CHECK(h.sni == NULL);
    tls_stream_free(s);
    bb_free(&r);
}

static void test_syn_base(void)
{
    bbuf r = {0};
    simple_stream(&r, "syn.base");
    /* ISN just below the wrap: offsets wrap around 2^32. */
    const uint32_t isn = 0xfffffff0u;
    tls_stream *s = tls_stream_new();
    tls_hello h;
    CHECK_EQ_INT(tls_stream_add(s, isn, 1, NULL, 0, &h), TLS_NEED);
    /* Data at the ISN itself (before ISN+1) is ignored... */
    CHECK_EQ_INT(tls_stream_add(s, isn, 0, r.p, r.n, &h), TLS_NEED);
    /* ...and not counted towards the 128 KiB limit, however much. */
    static uint8_t junk[1000];
    for (uint32_t i = 1; i <= 200; i++)
        CHECK_EQ_INT(tls_stream_add(s, isn - i * 1000, 0, junk, sizeof junk, &h), TLS_NEED);
    /* ...data from ISN+1 is the stream, split across the wrap. */
    CHECK_EQ_INT(tls_stream_add(s, isn + 1, 0, r.p, 30, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, isn + 31, 0, r.p + 30, r.n - 30, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "syn.base");
    tls_hello_free(&h);
    tls_stream_free(s);

    /* Data on the SYN itself starts at ISN+1. */
    s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 500, 1, r.p, 20, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 521, 0, r.p + 20, r.n - 20, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "syn.base");
    tls_hello_free(&h);
    tls_stream_free(s);

    /* A data segment before the SYN sets the base; the late SYN then
     * does not move it, and its seq+1 lands before the base. */
    s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 1000, 0, r.p, 5, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 989, 1, r.p, r.n, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_state(s), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 1005, 0, r.p + 5, r.n - 5, &h), TLS_DONE);
    tls_hello_free(&h);
    tls_stream_free(s);
    bb_free(&r);
}

static void test_no_syn(void)
{
    bbuf r = {0};
    simple_stream(&r, "no.syn");
    tls_stream *s = tls_stream_new();
    tls_hello h;
    /* The first data segment given sets the base. */
    CHECK_EQ_INT(tls_stream_add(s, 77777, 0, r.p, 50, &h), TLS_NEED);
    /* A segment before it is ignored (even if it would fit). */
    CHECK_EQ_INT(tls_stream_add(s, 77777 - 5, 0, r.p, 55, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 77777 + 50, 0, r.p + 50, r.n - 50, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "no.syn");
    tls_hello_free(&h);
    tls_stream_free(s);

    /* Joining mid-stream: the first segment seen is not a record start. */
    s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 5, 0, r.p + 3, r.n - 3, &h), TLS_FAIL);
    tls_stream_free(s);
    bb_free(&r);
}

static void test_longer_retransmission_rewrites(void)
{
    /* Two records; the first is consumed, then a longer segment at offset
     * 0 with other content arrives: like the reference, its bytes win for
     * the part it supplies, so the records are read again. */
    bbuf e1 = {0}, e2 = {0}, b1 = {0}, b2 = {0}, h1 = {0}, h2 = {0};
    bbuf r1 = {0}, r2 = {0};
    ext_sni(&e1, "aaaa.example");
    ext_sni(&e2, "bbbb.example");
    hello_body(&b1, 0x0303, &e1);
    hello_body(&b2, 0x0303, &e2);
    handshake(&h1, 1, &b1);
    handshake(&h2, 1, &b2);
    size_t cut = h1.n - 4;          /* SNI in the first record */
    records(&r1, &h1, &cut, 1);
    records(&r2, &h2, &cut, 1);
    size_t l1 = 5 + cut;            /* end of the first record */
    tls_stream *s = tls_stream_new();
    tls_hello h;
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, r1.p, l1, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, r2.p, l1 + 2, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, (uint32_t)l1 + 2, 0, r2.p + l1 + 2, r2.n - l1 - 2, &h),
                 TLS_DONE);
    CHECK_EQ_STR(h.sni, "bbbb.example");
    tls_hello_free(&h);
    tls_stream_free(s);

    /* A segment starting inside an earlier one but at a new, smaller
     * offset than a later one supplies the bytes past the earlier one:
     * {0:[0,10) of r1, 20:[20,n) of r1} then {5:[5,n) of r2}. */
    s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, r1.p, 10, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 20, 0, r1.p + 20, r1.n - 20, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 5, 0, r2.p + 5, r2.n - 5, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "bbbb.example");
    tls_hello_free(&h);
    tls_stream_free(s);

    /* Whereas an equal-length one at a known offset is ignored. */
    s = tls_stream_new();
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, r1.p, r1.n - 1, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, r2.p, r2.n - 1, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, (uint32_t)r2.n - 1, 0, r2.p + r2.n - 1, 1, &h), TLS_DONE);
    CHECK_EQ_STR(h.sni, "aaaa.example");
    tls_hello_free(&h);
    tls_stream_free(s);
    bb_free(&e1);
    bb_free(&e2);
    bb_free(&b1);
    bb_free(&b2);
    bb_free(&h1);
    bb_free(&h2);
    bb_free(&r1);
    bb_free(&r2);
}

static void test_max_bytes(void)
{
    /* Segments beyond a gap pile up: more than 128 KiB stored -> FAIL. */
    static uint8_t junk[1000];
    memset(junk, 0x16, sizeof junk);
    tls_stream *s = tls_stream_new();
    tls_hello h;
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, (const uint8_t *)"\x16\x03\x01\x40\x00", 5, &h),
                 TLS_NEED);
    size_t total = 5;
    tls_state st = TLS_NEED;
    uint32_t off = 100;
    while (st == TLS_NEED && total <= TLS_STREAM_MAX_BYTES + 1000) {
        size_t n = total + sizeof junk <= TLS_STREAM_MAX_BYTES ? sizeof junk
                   : TLS_STREAM_MAX_BYTES - total;
        if (n == 0)
            break;
        st = tls_stream_add(s, off, 0, junk, n, &h);
        total += n;
        off += 1000;
    }
    /* Exactly the limit is still fine. */
    CHECK_EQ_INT(total, TLS_STREAM_MAX_BYTES);
    CHECK_EQ_INT(st, TLS_NEED);
    /* A retransmission (not stored) does not count... */
    CHECK_EQ_INT(tls_stream_add(s, 100, 0, junk, 10, &h), TLS_NEED);
    /* ...one more stored byte does. */
    CHECK_EQ_INT(tls_stream_add(s, off, 0, junk, 1, &h), TLS_FAIL);
    CHECK_EQ_INT(tls_stream_state(s), TLS_FAIL);
    tls_stream_free(s);

    /* Counting is cumulative: a longer copy at the same offset counts in
     * full again. */
    s = tls_stream_new();
    static uint8_t big[70000];
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, big, 60000, &h), TLS_FAIL);  /* not TLS */
    tls_stream_free(s);
    s = tls_stream_new();
    /* One record of 0xffff bytes holding a ClientHello header: it can't
     * complete within these segments. */
    memcpy(big, "\x16\x03\x01\xff\xff\x01\x00\xff\xfb", 9);
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, big, 60000, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, big, 65000, &h), TLS_NEED);
    CHECK_EQ_INT(tls_stream_add(s, 0, 0, big, 65001, &h), TLS_FAIL);
    tls_stream_free(s);
}

/* The reference's reassembly, literally: all segments (longest per offset)
 * reassembled from scratch on every call, then tls_try_records. */
typedef struct naive_seg {
    uint32_t off;
    size_t len;
    uint8_t *d;
} naive_seg;

typedef struct naive {
    int has_base;
    uint32_t base;
    size_t nbytes;
    naive_seg segs[256];
    size_t n;
    tls_state state;
} naive;

static int naive_cmp(const void *a, const void *b)
{
    const naive_seg *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static tls_state naive_add(naive *m, uint32_t seq, int syn, const uint8_t *d,
                           size_t len, tls_hello *out)
{
    if (m->state != TLS_NEED)
        return m->state;
    if (syn) {
        if (!m->has_base) {
            m->base = seq + 1;
            m->has_base = 1;
        }
        seq++;
    }
    if (!len)
        return TLS_NEED;
    if (!m->has_base) {
        m->base = seq;
        m->has_base = 1;
    }
    uint32_t rel = seq - m->base;
    if (rel >= 0x80000000u)
        return TLS_NEED;
    size_t i;
    for (i = 0; i < m->n && m->segs[i].off != rel; i++)
        ;
    if (i == m->n || m->segs[i].len < len) {
        if (i == m->n) {
            if (m->n == 256)
                abort();
            m->n++;
        } else {
            free(m->segs[i].d);
        }
        m->segs[i].off = rel;
        m->segs[i].len = len;
        m->segs[i].d = malloc(len);
        memcpy(m->segs[i].d, d, len);
        m->nbytes += len;
    }
    if (m->nbytes > TLS_STREAM_MAX_BYTES)
        return m->state = TLS_FAIL;
    qsort(m->segs, m->n, sizeof m->segs[0], naive_cmp);
    bbuf buf = {0};
    size_t cur = 0;
    for (i = 0; i < m->n; i++) {
        naive_seg *g = &m->segs[i];
        if (g->off > cur)
            break;
        if (g->off + g->len > cur) {
            bb_put(&buf, g->d + (cur - g->off), g->off + g->len - cur);
            cur = g->off + g->len;
        }
    }
    tls_state st = buf.n ? tls_try_records(buf.p, buf.n, out) : TLS_NEED;
    bb_free(&buf);
    m->state = st;
    return st;
}

static void naive_free(naive *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->segs[i].d);
}

static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_stream_matches_naive_reassembly(void)
{
    /* Random segmentations, orders, retransmissions (some with other
     * content), overlaps and stray segments: the incremental stream must
     * agree with the literal reassembly at every step. */
    bbuf good = {0};
    simple_stream(&good, "Random.Order.Example");
    uint32_t x = 12345;
    int bad = 0, done = 0;
    for (int iter = 0; iter < 3000; iter++) {
        bbuf alt = {0};
        bb_put(&alt, good.p, good.n);
        for (int k = 0; k < 3; k++)     /* a differing copy for retransmits */
            alt.p[rng_next(&x) % alt.n] ^= (uint8_t)(1 + rng_next(&x) % 255);
        uint32_t isn = rng_next(&x);
        int syn = rng_next(&x) % 2;
        tls_stream *s = tls_stream_new();
        naive m;
        memset(&m, 0, sizeof m);
        tls_hello h1, h2;
        if (syn) {
            tls_stream_add(s, isn, 1, NULL, 0, &h1);
            naive_add(&m, isn, 1, NULL, 0, &h2);
        }
        for (int ev = 0; ev < 60 && m.n < 250; ev++) {
            size_t off = rng_next(&x) % (good.n + 20);
            size_t len = 1 + rng_next(&x) % (rng_next(&x) % 2 ? 8 : 200);
            const bbuf *src = rng_next(&x) % 5 ? &good : &alt;
            if (off >= src->n)
                off = src->n - 1;
            if (len > src->n - off)
                len = src->n - off;
            uint32_t seq = isn + 1 + (uint32_t)off;
            if (rng_next(&x) % 20 == 0)
                seq = isn - rng_next(&x) % 50;      /* before the start */
            memset(&h1, 0, sizeof h1);
            memset(&h2, 0, sizeof h2);
            tls_state a = tls_stream_add(s, seq, 0, src->p + off, len, &h1);
            tls_state b = naive_add(&m, seq, 0, src->p + off, len, &h2);
            if (a != b)
                bad++;
            if (h1.sni || h2.sni) {
                if (!h1.sni || !h2.sni || h1.sni_len != h2.sni_len
                    || memcmp(h1.sni, h2.sni, h1.sni_len) != 0)
                    bad++;
                done++;
                tls_hello_free(&h1);
                tls_hello_free(&h2);
            }
            if (a != TLS_NEED)
                break;
        }
        tls_stream_free(s);
        naive_free(&m);
        bb_free(&alt);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(done > 100);
    bb_free(&good);
}

static void test_many_tiny_segments(void)
{
    /* One byte per segment, in order, into a large (several-record)
     * hello: must finish and agree with the one-shot parse. */
    bbuf e = {0}, b = {0}, h = {0}, r = {0};
    bbuf pad = {0};
    bb_fill(&pad, 0, 40000);
    ext_raw(&e, 21, pad.p, pad.n);
    ext_sni(&e, "tiny.segments");
    hello_body(&b, 0x0303, &e);
    handshake(&h, 1, &b);
    size_t cuts[3] = {16384, 16384, 1};
    records(&r, &h, cuts, 3);
    tls_stream *s = tls_stream_new();
    tls_hello out;
    tls_state st = TLS_NEED;
    size_t i;
    for (i = 0; i < r.n && st == TLS_NEED; i++)
        st = tls_stream_add(s, 3000000000u + (uint32_t)i, 0, r.p + i, 1, &out);
    CHECK_EQ_INT(st, TLS_DONE);
    CHECK_EQ_INT(i, r.n);
    CHECK_EQ_STR(out.sni, "tiny.segments");
    tls_hello_free(&out);
    tls_stream_free(s);

    /* And in reverse order after the first byte (the first sets the base). */
    s = tls_stream_new();
    st = tls_stream_add(s, 9, 0, r.p, 1, &out);
    for (i = r.n - 1; i >= 1 && st == TLS_NEED; i--)
        st = tls_stream_add(s, 9 + (uint32_t)i, 0, r.p + i, 1, &out);
    CHECK_EQ_INT(st, TLS_DONE);
    CHECK_EQ_STR(out.sni, "tiny.segments");
    tls_hello_free(&out);
    tls_stream_free(s);
    bb_free(&pad);
    bb_free(&e);
    bb_free(&b);
    bb_free(&h);
    bb_free(&r);
}

int main(void)
{
    RUN(test_plain_sni);
    RUN(test_sni_after_long_extension_list);
    RUN(test_zero_length_sni);
    RUN(test_empty_extension_list);
    RUN(test_no_server_name);
    RUN(test_first_server_name_decides);
    RUN(test_oversize_name_length);
    RUN(test_oversize_fixed_lengths);
    RUN(test_nul_in_sni);
    RUN(test_utf8_replacement);
    RUN(test_supported_versions);
    RUN(test_ech);
    RUN(test_two_records_every_split);
    RUN(test_truncated_every_prefix);
    RUN(test_not_tls);
    RUN(test_not_client_hello);
    RUN(test_segments_out_of_order);
    RUN(test_syn_base);
    RUN(test_no_syn);
    RUN(test_longer_retransmission_rewrites);
    RUN(test_max_bytes);
    RUN(test_stream_matches_naive_reassembly);
    RUN(test_many_tiny_segments);
    return check_summary();
}
