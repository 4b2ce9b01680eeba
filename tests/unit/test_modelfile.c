/* test_modelfile.c - unit tests for src/model/modelfile.c.
 *
 * Valid files round-trip; every damaged variant is refused with a message
 * that says what and where: every truncation and every single-byte flip of
 * a small file, and hostile files whose checksum is recomputed after the
 * damage (a seal), so the structural checks behind the checksum are tested
 * on their own.  Files for mf_read_path go to a mkdtemp dir.
 *
 *   test_modelfile --write-seeds DIR   writes the fuzz_modelfile seeds */
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"
#include "model/modelfile.h"

static char tmpdir[256];

static int has(const char *s, const char *sub)
{
    return s && strstr(s, sub) != NULL;
}

static int starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Recompute the trailing SHA-256 of a file image in place, as a forger
 * would: the parse then has to catch the damage structurally. */
static void seal(uint8_t *p, size_t len)
{
    unsigned olen = 0;
    if (len < 32 || EVP_Digest(p, len - 32, p + len - 32, &olen, EVP_sha256(), NULL) != 1)
        abort();
}

/* Start a hand-made file: magic, version, section count. */
static void raw_header(mf_buf *b, uint32_t version, uint32_t nsec)
{
    mf_put_bytes(b, MF_MAGIC, 8);
    mf_put_u32(b, version);
    mf_put_u32(b, nsec);
}

/* Append a placeholder checksum and seal. */
static void raw_finish(mf_buf *b)
{
    uint8_t zero[32] = { 0 };
    mf_put_bytes(b, zero, sizeof zero);
    if (b->oom)
        abort();
    seal(b->p, b->len);
}

static int stream_agrees(const uint8_t *p, size_t len);

/* Parse and expect failure with sub in the message; the output must be
 * left empty so a caller's mf_file_free is harmless.  The streaming reader
 * must refuse the same bytes (stream_agrees). */
static int parse_fails_with(const uint8_t *p, size_t len, const char *sub, snitch_err *e)
{
    if (!stream_agrees(p, len)) {
        fprintf(stderr, "    mf_stream disagrees with mf_parse (%zu bytes)\n", len);
        return 0;
    }
    mf_file f;
    memset(e, 0, sizeof *e);
    memset(&f, 0xa5, sizeof f);
    int rc = mf_parse(p, len, &f, e);
    int ok = rc == -1 && f.raw == NULL && f.sec == NULL && f.nsec == 0 && e->msg[0] != '\0'
             && (!sub || has(e->msg, sub));
    if (rc == 0)
        mf_file_free(&f);
    if (!ok)
        fprintf(stderr, "    rc %d, message \"%s\", wanted \"%s\"\n", rc, e->msg, sub ? sub : "");
    return ok;
}

static const uint8_t frst_bytes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0xff, 0x80 };

/* META + FRST + an empty section + one with a space in its tag. */
static void build_sample(mf_buf *out)
{
    mf_buf meta = { 0 };
    mf_put_str(&meta, "forest");
    mf_put_u32(&meta, 2);
    mf_put_str(&meta, "bytes_up");
    mf_put_str(&meta, "bytes_down");
    mf_section s[4] = {
        { MF_TAG('M', 'E', 'T', 'A'), meta.p, meta.len },
        { MF_TAG('F', 'R', 'S', 'T'), frst_bytes, sizeof frst_bytes },
        { MF_TAG('E', 'M', 'P', 'T'), NULL, 0 },
        { MF_TAG('x', ' ', '~', '!'), (const uint8_t *)"z", 1 },
    };
    if (mf_build(s, 4, out) != 0)
        abort();
    mf_buf_free(&meta);
}

static void test_roundtrip(void)
{
    mf_buf b = { 0 };
    build_sample(&b);
    CHECK(!b.oom);
    CHECK(memcmp(b.p, "SNITCHM\x1a", 8) == 0);
    CHECK_EQ_INT(b.p[8], 1);
    CHECK_EQ_INT(b.p[12], 4);

    mf_file f;
    snitch_err e = { { 0 } };
    CHECK_EQ_INT(mf_parse(b.p, b.len, &f, &e), 0);
    CHECK_EQ_INT(f.version, MF_VERSION);
    CHECK_EQ_INT(f.nsec, 4);
    CHECK_EQ_INT(f.rawlen, b.len);
    CHECK(f.raw != b.p);            /* a copy */
    const mf_section *m = mf_find(&f, MF_TAG('M', 'E', 'T', 'A'));
    CHECK(m != NULL);
    if (m) {
        mf_cur c = { .p = m->data, .len = m->len };
        char *kind = mf_get_str(&c, 64);
        uint32_t n = mf_get_u32(&c);
        char *a = mf_get_str(&c, 64), *bb = mf_get_str(&c, 64);
        CHECK(!c.bad);
        CHECK_EQ_INT(c.off, c.len);
        CHECK_EQ_STR(kind, "forest");
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_STR(a, "bytes_up");
        CHECK_EQ_STR(bb, "bytes_down");
        free(kind);
        free(a);
        free(bb);
    }
    const mf_section *fr = mf_find(&f, MF_TAG('F', 'R', 'S', 'T'));
    CHECK(fr && fr->len == sizeof frst_bytes && memcmp(fr->data, frst_bytes, fr->len) == 0);
    CHECK(fr && fr->data > f.raw && fr->data + fr->len <= f.raw + f.rawlen);
    const mf_section *em = mf_find(&f, MF_TAG('E', 'M', 'P', 'T'));
    CHECK(em && em->len == 0);
    const mf_section *sp = mf_find(&f, MF_TAG('x', ' ', '~', '!'));
    CHECK(sp && sp->len == 1 && sp->data[0] == 'z');
    CHECK(mf_find(&f, MF_TAG('N', 'O', 'N', 'E')) == NULL);
    /* order is kept */
    CHECK_EQ_INT(f.sec[0].tag, MF_TAG('M', 'E', 'T', 'A'));
    CHECK_EQ_INT(f.sec[3].tag, MF_TAG('x', ' ', '~', '!'));
    mf_file_free(&f);
    CHECK(f.raw == NULL && f.sec == NULL && f.nsec == 0);
    mf_file_free(&f);               /* twice is harmless */
    CHECK(mf_find(NULL, 0) == NULL);

    /* rebuilding the parsed sections gives the same bytes (canonical) */
    CHECK_EQ_INT(mf_parse(b.p, b.len, &f, &e), 0);
    mf_buf b2 = { 0 };
    CHECK_EQ_INT(mf_build(f.sec, f.nsec, &b2), 0);
    CHECK(b2.len == b.len && memcmp(b2.p, b.p, b.len) == 0);
    mf_buf_free(&b2);
    mf_file_free(&f);
    mf_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);

    /* no sections at all: 48 bytes */
    CHECK_EQ_INT(mf_build(NULL, 0, &b), 0);
    CHECK_EQ_INT(b.len, 48);
    CHECK_EQ_INT(mf_parse(b.p, b.len, &f, &e), 0);
    CHECK_EQ_INT(f.nsec, 0);
    CHECK(mf_find(&f, MF_TAG('M', 'E', 'T', 'A')) == NULL);
    mf_file_free(&f);

    /* mf_build appends: the second file starts where the first ended */
    size_t first = b.len;
    mf_section one = { MF_TAG('O', 'N', 'E', '1'), (const uint8_t *)"abc", 3 };
    CHECK_EQ_INT(mf_build(&one, 1, &b), 0);
    CHECK_EQ_INT(mf_parse(b.p + first, b.len - first, &f, &e), 0);
    CHECK(f.nsec == 1 && f.sec[0].len == 3 && memcmp(f.sec[0].data, "abc", 3) == 0);
    mf_file_free(&f);
    mf_buf_free(&b);

    /* the largest legal count */
    mf_section many[64];
    for (int i = 0; i < 64; i++) {
        many[i].tag = MF_TAG('S', 'C', '0' + i / 10, '0' + i % 10);
        many[i].data = (const uint8_t *)"q";
        many[i].len = (size_t)(i % 2);
    }
    CHECK_EQ_INT(mf_build(many, 64, &b), 0);
    CHECK_EQ_INT(mf_parse(b.p, b.len, &f, &e), 0);
    CHECK_EQ_INT(f.nsec, 64);
    mf_file_free(&f);
    mf_buf_free(&b);
}

static uint32_t f32bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

static uint64_t f64bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

static float f32of(uint32_t u)
{
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static double f64of(uint64_t u)
{
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void test_put_get(void)
{
    mf_buf b = { 0 };
    mf_put_u8(&b, 0);
    mf_put_u8(&b, 0xff);
    mf_put_u32(&b, 0x04030201u);
    mf_put_u32(&b, UINT32_MAX);
    mf_put_u64(&b, 0x0807060504030201ull);
    mf_put_u64(&b, UINT64_MAX);
    mf_put_u64(&b, (uint64_t)1 << 63);
    mf_put_f32(&b, -0.0f);
    mf_put_f32(&b, f32of(0x7fc12345u));       /* quiet NaN with payload */
    mf_put_f32(&b, f32of(0xff800001u));       /* signalling NaN, sign set */
    mf_put_f32(&b, FLT_TRUE_MIN);
    mf_put_f32(&b, -INFINITY);
    mf_put_f64(&b, -0.0);
    mf_put_f64(&b, f64of(0x7ff8000000000badull));
    mf_put_f64(&b, f64of(0xfff0000000000001ull));
    mf_put_f64(&b, DBL_MAX);
    mf_put_f64(&b, 0.1);
    mf_put_str(&b, "");
    mf_put_str(&b, "h\xc3\xa9llo");
    mf_put_bytes(&b, "raw", 3);
    mf_put_bytes(&b, NULL, 0);
    CHECK(!b.oom);

    /* little-endian on the wire, whatever the host */
    static const uint8_t head[] = { 0x00, 0xff, 0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff,
                                    1, 2, 3, 4, 5, 6, 7, 8 };
    CHECK(b.len > sizeof head && memcmp(b.p, head, sizeof head) == 0);
    /* -0.0f is 00 00 00 80 */
    CHECK(b.p[34] == 0 && b.p[35] == 0 && b.p[36] == 0 && b.p[37] == 0x80);

    mf_cur c = { .p = b.p, .len = b.len };
    CHECK_EQ_INT(mf_get_u8(&c), 0);
    CHECK_EQ_INT(mf_get_u8(&c), 0xff);
    CHECK_EQ_INT(mf_get_u32(&c), 0x04030201u);
    CHECK_EQ_INT(mf_get_u32(&c), UINT32_MAX);
    CHECK(mf_get_u64(&c) == 0x0807060504030201ull);
    CHECK(mf_get_u64(&c) == UINT64_MAX);
    CHECK(mf_get_u64(&c) == (uint64_t)1 << 63);
    CHECK_EQ_INT(f32bits(mf_get_f32(&c)), 0x80000000u);
    CHECK_EQ_INT(f32bits(mf_get_f32(&c)), 0x7fc12345u);
    CHECK_EQ_INT(f32bits(mf_get_f32(&c)), 0xff800001u);
    CHECK(mf_get_f32(&c) == FLT_TRUE_MIN);
    CHECK(mf_get_f32(&c) == -INFINITY);
    CHECK(f64bits(mf_get_f64(&c)) == 0x8000000000000000ull);
    CHECK(f64bits(mf_get_f64(&c)) == 0x7ff8000000000badull);
    CHECK(f64bits(mf_get_f64(&c)) == 0xfff0000000000001ull);
    CHECK(mf_get_f64(&c) == DBL_MAX);
    CHECK(mf_get_f64(&c) == 0.1);
    char *s0 = mf_get_str(&c, 0);
    char *s1 = mf_get_str(&c, 6);
    CHECK_EQ_STR(s0, "");
    CHECK_EQ_STR(s1, "h\xc3\xa9llo");
    free(s0);
    free(s1);
    const uint8_t *r = mf_get_bytes(&c, 3);
    CHECK(r && memcmp(r, "raw", 3) == 0);
    CHECK(!c.bad);
    CHECK_EQ_INT(c.off, b.len);
    CHECK(mf_get_bytes(&c, 0) != NULL);     /* zero bytes at the end is fine */
    CHECK(!c.bad);

    /* past the end: 0 and bad, and bad stays set */
    CHECK_EQ_INT(mf_get_u8(&c), 0);
    CHECK(c.bad);
    CHECK_EQ_INT(c.off, b.len);
    c.off = 0;
    CHECK_EQ_INT(mf_get_u8(&c), 0);         /* sticky even with bytes left */
    CHECK(mf_get_bytes(&c, 0) == NULL);

    /* every getter at every short remainder */
    for (size_t left = 0; left < 8; left++) {
        mf_cur d = { .p = b.p, .len = left };
        if (left < 4) {
            CHECK_EQ_INT(mf_get_u32(&d), 0);
            CHECK(d.bad && d.off == 0);
            d.bad = 0;
            CHECK(mf_get_f32(&d) == 0.0f && d.bad);
            d.bad = 0;
        }
        CHECK(mf_get_u64(&d) == 0 && d.bad && d.off == 0);
        d.bad = 0;
        CHECK(mf_get_f64(&d) == 0.0 && d.bad);
        d.bad = 0;
        CHECK(mf_get_bytes(&d, left + 1) == NULL && d.bad);
    }
    mf_cur z = { .p = NULL, .len = 0 };
    CHECK(mf_get_bytes(&z, 0) != NULL && !z.bad);
    CHECK_EQ_INT(mf_get_u8(&z), 0);
    CHECK(z.bad);
    mf_cur huge = { .p = b.p, .len = b.len, .off = 0, .bad = 0 };
    CHECK(mf_get_bytes(&huge, SIZE_MAX) == NULL && huge.bad);
    mf_cur past = { .p = b.p, .len = 4, .off = 9, .bad = 0 };         /* a broken cursor is not trusted */
    CHECK_EQ_INT(mf_get_u8(&past), 0);
    CHECK(past.bad);
    mf_buf_free(&b);
}

/* A cursor over one u32 length plus the given bytes. */
static char *str_from(uint32_t n, const void *bytes, size_t blen, size_t max_len, int *bad)
{
    mf_buf b = { 0 };
    mf_put_u32(&b, n);
    mf_put_bytes(&b, bytes, blen);
    mf_cur c = { .p = b.p, .len = b.len };
    char *s = mf_get_str(&c, max_len);
    *bad = c.bad;
    mf_buf_free(&b);
    return s;
}

static void test_get_str_limits(void)
{
    int bad;
    char *s = str_from(5, "hello", 5, 5, &bad);
    CHECK_EQ_STR(s, "hello");
    CHECK(!bad);
    free(s);
    CHECK(str_from(5, "hello", 5, 4, &bad) == NULL && bad);            /* over max_len */
    CHECK(str_from(5, "he\0lo", 5, 64, &bad) == NULL && bad);          /* embedded NUL */
    CHECK(str_from(4, "abc\0", 4, 64, &bad) == NULL && bad);           /* trailing NUL too */
    CHECK(str_from(10, "abc", 3, 64, &bad) == NULL && bad);            /* overrun */
    CHECK(str_from(UINT32_MAX, "abc", 3, SIZE_MAX, &bad) == NULL && bad);
    s = str_from(0, NULL, 0, 0, &bad);
    CHECK_EQ_STR(s, "");
    CHECK(!bad);
    free(s);
    /* the length itself cut short */
    static const uint8_t two[2] = { 1, 0 };
    mf_cur c = { .p = two, .len = 2, .off = 0, .bad = 0 };
    CHECK(mf_get_str(&c, 64) == NULL && c.bad);
    /* a failed string read leaves the cursor where it was */
    mf_buf lb = { 0 };
    mf_put_u8(&lb, 9);
    mf_put_str(&lb, "toolong");
    mf_cur lc = { .p = lb.p, .len = lb.len, .off = 1, .bad = 0 };
    CHECK(mf_get_str(&lc, 3) == NULL && lc.bad && lc.off == 1);
    mf_buf_free(&lb);
    /* a string after a failed read is not attempted */
    mf_buf b = { 0 };
    mf_put_str(&b, "ok");
    mf_cur d = { .p = b.p, .len = b.len, .off = 0, .bad = 1 };
    CHECK(mf_get_str(&d, 64) == NULL);
    mf_buf_free(&b);
}

static void test_build_refuses(void)
{
    mf_buf b = { 0 };
    mf_put_u8(&b, 7);               /* a prefix that must survive a refusal */
    mf_section s[2] = {
        { MF_TAG('A', 'A', 'A', 'A'), (const uint8_t *)"x", 1 },
        { MF_TAG('A', 'A', 'A', 'A'), (const uint8_t *)"y", 1 },
    };
    CHECK_EQ_INT(mf_build(s, 2, &b), -1);                  /* duplicate */
    s[1].tag = MF_TAG('A', 'A', 'A', 0x7f);
    CHECK_EQ_INT(mf_build(s, 2, &b), -1);                  /* bad tag */
    s[1].tag = MF_TAG('B', 'B', 'B', 'B');
    s[1].data = NULL;
    CHECK_EQ_INT(mf_build(s, 2, &b), -1);                  /* NULL data, len 1 */
    mf_section many[65];
    for (int i = 0; i < 65; i++)
        many[i] = (mf_section){ MF_TAG('T', 'A', '0' + i / 10, '0' + i % 10), NULL, 0 };
    CHECK_EQ_INT(mf_build(many, 65, &b), -1);              /* too many */
    CHECK_EQ_INT(b.len, 1);
    CHECK(!b.oom);
    b.oom = 1;                                             /* a failed buffer */
    CHECK_EQ_INT(mf_build(s, 1, &b), -1);
    mf_buf_free(&b);
    CHECK(!b.oom);
}

static void test_truncation(void)
{
    mf_buf b = { 0 };
    build_sample(&b);
    snitch_err e;
    int bad = 0;
    for (size_t len = 0; len < b.len; len++) {
        /* an exact-size copy, so ASan sees any read past the cut */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, b.p, len);
        if (!parse_fails_with(p, len, NULL, &e))
            bad++;
        else if (len < 48 && !has(e.msg, "truncated"))
            bad++;
        else if (len >= 48 && !has(e.msg, "checksum mismatch"))
            bad++;      /* the last 32 bytes are taken as a checksum: wrong */
        free(p);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(parse_fails_with(NULL, 0, "truncated", &e));
    CHECK(parse_fails_with(b.p, 47, "truncated: 47 bytes", &e));
    mf_buf_free(&b);
}

static void test_byte_flips(void)
{
    mf_section s[2] = {
        { MF_TAG('M', 'E', 'T', 'A'), (const uint8_t *)"ab", 2 },
        { MF_TAG('F', 'R', 'S', 'T'), (const uint8_t *)"\x01\x02\x03", 3 },
    };
    mf_buf b = { 0 };
    CHECK_EQ_INT(mf_build(s, 2, &b), 0);
    static const uint8_t masks[] = { 0x01, 0x20, 0x80, 0xff };
    int bad = 0;
    snitch_err e;
    for (size_t pos = 0; pos < b.len; pos++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            b.p[pos] ^= masks[k];
            const char *want = pos < 8 ? "not a snitch model file"
                             : pos < 12 ? "model format version"
                             : "checksum mismatch (file damaged)";
            if (!parse_fails_with(b.p, b.len, want, &e)) {
                fprintf(stderr, "    flip 0x%02x at %zu\n", masks[k], pos);
                bad++;
            }
            b.p[pos] ^= masks[k];
        }
    }
    CHECK_EQ_INT(bad, 0);
    mf_file f;
    CHECK_EQ_INT(mf_parse(b.p, b.len, &f, &e), 0);     /* restored intact */
    mf_file_free(&f);
    mf_buf_free(&b);
}

static void test_magic_version(void)
{
    mf_buf b = { 0 };
    build_sample(&b);
    snitch_err e;
    uint8_t *p = malloc(b.len);
    memcpy(p, b.p, b.len);
    p[0] = 'X';
    CHECK(parse_fails_with(p, b.len, "not a snitch model file", &e));
    CHECK(parse_fails_with((const uint8_t *)"hello", 5, "not a snitch model file", &e));
    CHECK(parse_fails_with((const uint8_t *)"SNITCH", 6, "truncated", &e));
    memcpy(p, b.p, b.len);
    p[8] = 2;
    seal(p, b.len);
    CHECK(parse_fails_with(p, b.len, "model format version 2", &e));
    CHECK(has(e.msg, "this snitch reads 1") && has(e.msg, "newer") && has(e.msg, "offset 8"));
    p[8] = 0;
    seal(p, b.len);
    CHECK(parse_fails_with(p, b.len, "model format version 0", &e));
    CHECK(has(e.msg, "this snitch reads 1") && has(e.msg, "older"));
    p[8] = 1;
    p[11] = 0x80;                   /* high byte: version 2^31 + 1 */
    seal(p, b.len);
    CHECK(parse_fails_with(p, b.len, "model format version 2147483649", &e));
    free(p);
    mf_buf_free(&b);
}

static void test_length_overflow(void)
{
    static const uint64_t lens[] = { UINT64_MAX, UINT64_MAX - 11, UINT64_MAX - 27,
                                     (uint64_t)1 << 63, (uint64_t)1 << 32, 5 };
    snitch_err e;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        /* one section claiming lens[i] bytes with 4 present */
        mf_buf b = { 0 };
        raw_header(&b, 1, 1);
        mf_put_u32(&b, MF_TAG('F', 'R', 'S', 'T'));
        mf_put_u64(&b, lens[i]);
        mf_put_bytes(&b, "abcd", 4);
        raw_finish(&b);
        CHECK(parse_fails_with(b.p, b.len, "overruns", &e));
        CHECK(has(e.msg, "'FRST' at offset 16") && has(e.msg, "4 bytes left"));
        mf_buf_free(&b);

        /* the same after a valid first section */
        raw_header(&b, 1, 2);
        mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
        mf_put_u64(&b, 2);
        mf_put_bytes(&b, "ok", 2);
        mf_put_u32(&b, MF_TAG('F', 'R', 'S', 'T'));
        mf_put_u64(&b, lens[i]);
        mf_put_bytes(&b, "abcd", 4);
        raw_finish(&b);
        CHECK(parse_fails_with(b.p, b.len, "overruns", &e));
        CHECK(has(e.msg, "at offset 30"));
        mf_buf_free(&b);
    }
    /* a length that would swallow the checksum too */
    mf_buf b = { 0 };
    raw_header(&b, 1, 1);
    mf_put_u32(&b, MF_TAG('F', 'R', 'S', 'T'));
    mf_put_u64(&b, 32);
    raw_finish(&b);
    CHECK(parse_fails_with(b.p, b.len, "overruns", &e));
    mf_buf_free(&b);
    /* more sections announced than present: header cut by the checksum */
    raw_header(&b, 1, 3);
    mf_put_u32(&b, MF_TAG('A', 'A', 'A', 'A'));
    mf_put_u64(&b, 0);
    mf_put_u32(&b, MF_TAG('B', 'B', 'B', 'B'));
    mf_put_u64(&b, 0);
    raw_finish(&b);
    CHECK(parse_fails_with(b.p, b.len, "section 2 header at offset 40 is truncated", &e));
    mf_buf_free(&b);
}

static void test_duplicate_tags(void)
{
    mf_buf b = { 0 };
    raw_header(&b, 1, 3);
    mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
    mf_put_u64(&b, 1);
    mf_put_u8(&b, 'x');
    mf_put_u32(&b, MF_TAG('F', 'R', 'S', 'T'));
    mf_put_u64(&b, 0);
    mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
    mf_put_u64(&b, 0);
    raw_finish(&b);
    snitch_err e;
    CHECK(parse_fails_with(b.p, b.len, "section 'META' at offset 41 duplicates the one at offset 16", &e));
    mf_buf_free(&b);
}

static void test_too_many_sections(void)
{
    snitch_err e;
    static const uint32_t counts[] = { 65, 1000, UINT32_MAX };
    for (size_t i = 0; i < 3; i++) {
        mf_buf b = { 0 };
        raw_header(&b, 1, counts[i]);
        for (uint32_t k = 0; k < 65; k++) {
            mf_put_u32(&b, MF_TAG('S', 'C', '0' + k / 10, '0' + k % 10));
            mf_put_u64(&b, 0);
        }
        raw_finish(&b);
        CHECK(parse_fails_with(b.p, b.len, "at most 64 allowed", &e));
        CHECK(has(e.msg, "(offset 12)"));
        mf_buf_free(&b);
    }
}

static void test_bad_tags(void)
{
    static const uint8_t bads[] = { 0x00, 0x09, 0x1f, 0x7f, 0x80, 0xff };
    snitch_err e;
    int bad = 0;
    for (int pos = 0; pos < 4; pos++) {
        for (size_t k = 0; k < sizeof bads; k++) {
            uint8_t t[4] = { 'F', 'R', 'S', 'T' };
            t[pos] = bads[k];
            mf_buf b = { 0 };
            raw_header(&b, 1, 1);
            mf_put_bytes(&b, t, 4);
            mf_put_u64(&b, 0);
            raw_finish(&b);
            if (!parse_fails_with(b.p, b.len, "are not four printable ASCII characters", &e)
                || !has(e.msg, "section 0 at offset 16"))
                bad++;
            mf_section s = { MF_TAG(t[0], t[1], t[2], t[3]), NULL, 0 };
            mf_buf o = { 0 };
            if (mf_build(&s, 1, &o) != -1)
                bad++;
            mf_buf_free(&o);
            mf_buf_free(&b);
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_trailing(void)
{
    mf_buf b = { 0 };
    raw_header(&b, 1, 1);
    mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
    mf_put_u64(&b, 2);
    mf_put_bytes(&b, "ok", 2);
    mf_put_bytes(&b, "junk!", 5);
    raw_finish(&b);
    snitch_err e;
    CHECK(parse_fails_with(b.p, b.len, "5 trailing bytes at offset 30", &e));
    mf_buf_free(&b);
    /* zero sections, one stray byte */
    raw_header(&b, 1, 0);
    mf_put_u8(&b, 0);
    raw_finish(&b);
    CHECK(parse_fails_with(b.p, b.len, "1 trailing bytes at offset 16", &e));
    mf_buf_free(&b);
}

/* Write n bytes to tmpdir/name; returns the path (static storage). */
static const char *write_tmp(const char *name, const void *p, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
    return path;
}

static void test_read_path(void)
{
    char path[600];
    mf_file f;
    snitch_err e;

    snprintf(path, sizeof path, "%s/missing.snm", tmpdir);
    CHECK_EQ_INT(mf_read_path(path, &f, &e), -1);
    CHECK(starts(e.msg, path) && has(e.msg, strerror(ENOENT)));
    CHECK(f.raw == NULL && f.nsec == 0);

    CHECK_EQ_INT(mf_read_path(tmpdir, &f, &e), -1);
    CHECK(starts(e.msg, tmpdir) && has(e.msg, strerror(EISDIR)));

    const char *p = write_tmp("empty.snm", "", 0);
    snprintf(path, sizeof path, "%s", p);
    CHECK_EQ_INT(mf_read_path(path, &f, &e), -1);
    CHECK(starts(e.msg, path) && has(e.msg, ": truncated: 0 bytes"));

    p = write_tmp("text.snm", "hello world\n", 12);
    snprintf(path, sizeof path, "%s", p);
    CHECK_EQ_INT(mf_read_path(path, &f, &e), -1);
    CHECK(starts(e.msg, path) && has(e.msg, "not a snitch model file"));

    mf_buf b = { 0 };
    build_sample(&b);
    p = write_tmp("good.snm", b.p, b.len);
    snprintf(path, sizeof path, "%s", p);
    CHECK_EQ_INT(mf_read_path(path, &f, &e), 0);
    CHECK(f.nsec == 4 && f.rawlen == b.len && memcmp(f.raw, b.p, b.len) == 0);
    mf_file_free(&f);

    b.p[20] ^= 1;
    p = write_tmp("damaged.snm", b.p, b.len);
    snprintf(path, sizeof path, "%s", p);
    CHECK_EQ_INT(mf_read_path(path, &f, &e), -1);
    CHECK(starts(e.msg, path) && has(e.msg, "checksum mismatch (file damaged)"));
    mf_buf_free(&b);

    /* unreadable (skipped as root, who can read anything) */
    if (geteuid() != 0) {
        p = write_tmp("noperm.snm", "x", 1);
        snprintf(path, sizeof path, "%s", p);
        chmod(path, 0);
        CHECK_EQ_INT(mf_read_path(path, &f, &e), -1);
        CHECK(starts(e.msg, path) && has(e.msg, strerror(EACCES)));
    }
}

/* The streaming reader (mf_stream) accepts exactly the images mf_parse
 * accepts, and announces the same sections with the same bytes: read
 * through windows of 1, 5 and 64 bytes and the default, in pieces of 1 to
 * 7 bytes that straddle the window's edges, every other section left half
 * read (the next call skips the rest). */
static int stream_agrees(const uint8_t *p, size_t len)
{
    mf_file f;
    snitch_err e;
    int ok = mf_parse(p, len, &f, &e) == 0;
    const char *path = write_tmp("stream.snm", p, len);
    static const size_t wins[] = { 1, 5, 64, 0 };
    int agree = 1;
    for (size_t w = 0; w < sizeof wins / sizeof wins[0]; w++) {
        mf_stream *s = mf_stream_open(path, wins[w]);
        int acc = 0;
        size_t i = 0;
        if (s) {
            uint32_t tag;
            uint64_t l;
            int r;
            while ((r = mf_stream_next(s, &tag, &l)) == 1) {
                if (ok && (i >= f.nsec || tag != f.sec[i].tag || l != f.sec[i].len)) {
                    agree = 0;
                    break;
                }
                mf_cur c;
                mf_stream_cursor(s, &c);
                if (c.len != l || c.off != 0 || c.bad)
                    agree = 0;
                size_t want = i % 2 ? (size_t)l / 2 : (size_t)l, step = 1;
                while (c.off < want) {
                    size_t n = want - c.off < step ? want - c.off : step, at = c.off;
                    const uint8_t *b = mf_get_bytes(&c, n);
                    if (!b) {
                        agree &= !ok;   /* only a damaged file runs short */
                        break;
                    }
                    if (ok && memcmp(b, f.sec[i].data + at, n) != 0)
                        agree = 0;
                    step = step % 7 + 1;
                }
                /* past the end: refused, and the cursor stays put */
                if (ok && !c.bad && want == l) {
                    CHECK(mf_get_u8(&c) == 0 && c.bad && c.off == l);
                }
                i++;
            }
            acc = r == 0 && mf_stream_finish(s) == 0;
            mf_stream_close(s);
        }
        if (acc != ok || (acc && i != f.nsec))
            agree = 0;
    }
    if (ok)
        mf_file_free(&f);
    return agree;
}

static void test_stream(void)
{
    mf_buf b = { 0 };
    build_sample(&b);
    CHECK(stream_agrees(b.p, b.len));
    /* every cut and every flip is refused by both (parse_fails_with asks) */
    snitch_err e;
    for (size_t cut = 0; cut < b.len; cut++)
        CHECK(parse_fails_with(b.p, cut, NULL, &e));
    for (size_t pos = 0; pos < b.len; pos++) {
        b.p[pos] ^= 0x10;
        CHECK(parse_fails_with(b.p, b.len, NULL, &e));
        b.p[pos] ^= 0x10;
    }
    /* sealed flips: some get past both, and the two must still agree */
    int agree = 1, accepted = 0;
    for (size_t pos = 0; pos + 32 < b.len; pos++) {
        mf_buf c = { 0 };
        mf_put_bytes(&c, b.p, b.len);
        c.p[pos] ^= 0x01;
        seal(c.p, c.len);
        mf_file f;
        if (mf_parse(c.p, c.len, &f, &e) == 0) {
            accepted++;
            mf_file_free(&f);
        }
        agree &= stream_agrees(c.p, c.len);
        mf_buf_free(&c);
    }
    CHECK(agree);
    CHECK(accepted > 0);
    /* one byte more after the checksum */
    mf_buf x = { 0 };
    mf_put_bytes(&x, b.p, b.len);
    mf_put_u8(&x, 0);
    CHECK(parse_fails_with(x.p, x.len, NULL, &e));
    mf_buf_free(&x);
    /* only regular files: a directory, a character device, nothing */
    CHECK(mf_stream_open(tmpdir, 0) == NULL);
    CHECK(mf_stream_open("/dev/zero", 0) == NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/missing.snm", tmpdir);
    CHECK(mf_stream_open(path, 0) == NULL);
    /* a cursor of an earlier section reads no more once the next is announced */
    const char *p = write_tmp("stream.snm", b.p, b.len);
    mf_stream *s = mf_stream_open(p, 1);
    CHECK(s != NULL);
    if (s) {
        uint32_t tag;
        uint64_t l;
        CHECK(mf_stream_next(s, &tag, &l) == 1 && tag == MF_TAG('M', 'E', 'T', 'A'));
        mf_cur c;
        mf_stream_cursor(s, &c);
        CHECK(mf_get_u32(&c) == 6 && !c.bad);
        CHECK(mf_stream_next(s, &tag, &l) == 1 && tag == MF_TAG('F', 'R', 'S', 'T'));
        CHECK(mf_get_u8(&c) == 0 && c.bad);
        /* finishing early: sections left unannounced are a no */
        CHECK(mf_stream_finish(s) == -1);
        mf_stream_close(s);
    }
    mf_buf_free(&b);
}

static void cleanup_tmp(void)
{
    static const char *names[] = { "empty.snm", "text.snm", "good.snm", "damaged.snm",
                                   "noperm.snm", "stream.snm" };
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

/* ---- fuzz seeds ---- */

/* fuzz_modelfile's input: ctl, nfeat, nclasses, then the file image. */
static int write_seed(const char *dir, const char *name, uint8_t ctl, uint8_t nfeat,
                      uint8_t ncls, const mf_buf *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t h[3] = { ctl, nfeat, ncls };
    int ok = fwrite(h, 1, 3, f) == 3 && fwrite(file->p, 1, file->len, f) == file->len;
    if (fclose(f) != 0 || !ok) {
        perror(path);
        return -1;
    }
    return 0;
}

static int write_seeds(const char *dir)
{
    int rc = 0;
    mf_buf b = { 0 };

    if (mf_build(NULL, 0, &b) != 0)
        return 1;
    rc |= write_seed(dir, "empty", 0, 0, 0, &b);
    mf_buf_free(&b);

    build_sample(&b);
    rc |= write_seed(dir, "sample", 0, 2, 2, &b);
    rc |= write_seed(dir, "sample_reseal", 1, 2, 2, &b);
    mf_buf_free(&b);

    /* META as src/model/model.h lays it out: kind, label mode, feature
     * names, class names, training rows, description */
    mf_buf meta = { 0 };
    mf_put_u32(&meta, 1);
    mf_put_str(&meta, "sni");
    mf_put_u32(&meta, 3);
    mf_put_str(&meta, "pkt_count");
    mf_put_str(&meta, "bytes_mean");
    mf_put_str(&meta, "iat_std");
    mf_put_u32(&meta, 2);
    mf_put_str(&meta, "benign");
    mf_put_str(&meta, "tor");
    mf_put_u64(&meta, 120000);
    mf_put_str(&meta, "trees=200 seed=1 window=60s");
    mf_section ms = { MF_TAG('M', 'E', 'T', 'A'), meta.p, meta.len };
    if (mf_build(&ms, 1, &b) != 0)
        return 1;
    rc |= write_seed(dir, "meta_only", 2, 3, 2, &b);
    mf_buf_free(&b);

    /* META with a valid FRST (layout in src/forest/forest.c): one tree,
     * a root split on feature 0 and two pure leaves */
    mf_buf fr = { 0 };
    mf_put_u32(&fr, 1);         /* layout version */
    mf_put_u32(&fr, 3);         /* nfeat */
    mf_put_u32(&fr, 2);         /* nclasses */
    mf_put_u32(&fr, 1);         /* trees */
    mf_put_u32(&fr, 0);         /* max_depth */
    mf_put_u32(&fr, 0);         /* max_features: sqrt */
    mf_put_u32(&fr, 1);         /* max_features used */
    mf_put_u32(&fr, 1);         /* min_samples_leaf */
    mf_put_u8(&fr, 0);          /* balanced */
    mf_put_u64(&fr, 42);        /* seed */
    mf_put_u32(&fr, 3);         /* nodes */
    mf_put_u32(&fr, 0);         /* root: feature 0 <= 1.5, children 1 and 2 */
    mf_put_f32(&fr, 1.5f);
    mf_put_u32(&fr, 1);
    mf_put_u32(&fr, 2);
    mf_put_u32(&fr, 10);
    mf_put_f64(&fr, 10.0);
    mf_put_f64(&fr, 0.5);
    for (int i = 0; i < 2; i++) {   /* leaves */
        mf_put_u32(&fr, UINT32_MAX);
        mf_put_f32(&fr, 0.0f);
        mf_put_u32(&fr, 0);
        mf_put_u32(&fr, 0);
        mf_put_u32(&fr, 5);
        mf_put_f64(&fr, 5.0);
        mf_put_f64(&fr, 0.0);
    }
    for (uint32_t i = 0; i < 2; i++) {   /* leaf distributions */
        mf_put_u32(&fr, 1);
        mf_put_u32(&fr, i);
        mf_put_f64(&fr, 1.0);
    }
    rc |= write_seed(dir, "frst_raw", 0, 3, 2, &fr);
    mf_section two[2] = { ms, { MF_TAG('F', 'R', 'S', 'T'), fr.p, fr.len } };
    if (mf_build(two, 2, &b) != 0)
        return 1;
    rc |= write_seed(dir, "meta_frst", 3, 3, 2, &b);
    mf_buf_free(&b);
    mf_buf_free(&fr);
    mf_buf_free(&meta);

    /* every number type in one section */
    mf_buf nums = { 0 };
    mf_put_u8(&nums, 0xff);
    mf_put_u32(&nums, UINT32_MAX);
    mf_put_u64(&nums, UINT64_MAX);
    mf_put_f32(&nums, f32of(0x7fc12345u));
    mf_put_f64(&nums, f64of(0x7ff8000000000badull));
    mf_put_str(&nums, "n\xc3\xa9");
    mf_section ns = { MF_TAG('N', 'U', 'M', 'S'), nums.p, nums.len };
    if (mf_build(&ns, 1, &b) != 0)
        return 1;
    rc |= write_seed(dir, "numbers", 5, 0, 0, &b);
    mf_buf_free(&b);
    mf_buf_free(&nums);

    /* 64 sections */
    mf_section many[64];
    for (int i = 0; i < 64; i++)
        many[i] = (mf_section){ MF_TAG('S', 'C', '0' + i / 10, '0' + i % 10),
                                (const uint8_t *)"\x02\0\0\0hi", (size_t)(i % 3) * 3 };
    if (mf_build(many, 64, &b) != 0)
        return 1;
    rc |= write_seed(dir, "many_sections", 1, 0, 0, &b);
    mf_buf_free(&b);

    /* hostile shapes, valid checksums: they reach the structural checks */
    raw_header(&b, 1, 1);
    mf_put_u32(&b, MF_TAG('F', 'R', 'S', 'T'));
    mf_put_u64(&b, UINT64_MAX - 11);
    mf_put_bytes(&b, "abcd", 4);
    raw_finish(&b);
    rc |= write_seed(dir, "len_overflow", 1, 1, 1, &b);
    mf_buf_free(&b);

    raw_header(&b, 1, 2);
    mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
    mf_put_u64(&b, 0);
    mf_put_u32(&b, MF_TAG('M', 'E', 'T', 'A'));
    mf_put_u64(&b, 1);
    mf_put_bytes(&b, "x!!", 3);
    raw_finish(&b);
    rc |= write_seed(dir, "dup_trailing", 1, 0, 0, &b);
    mf_buf_free(&b);

    raw_header(&b, 2, 0);
    raw_finish(&b);
    rc |= write_seed(dir, "version2", 0, 0, 0, &b);
    mf_buf_free(&b);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/snitch-mf-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_roundtrip);
    RUN(test_put_get);
    RUN(test_get_str_limits);
    RUN(test_build_refuses);
    RUN(test_truncation);
    RUN(test_byte_flips);
    RUN(test_magic_version);
    RUN(test_length_overflow);
    RUN(test_duplicate_tags);
    RUN(test_too_many_sections);
    RUN(test_bad_tags);
    RUN(test_trailing);
    RUN(test_read_path);
    RUN(test_stream);
    cleanup_tmp();
    return check_summary();
}
