/* fuzz_modelfile.c - libFuzzer target for src/model/modelfile.c.
 *
 * Input: [ctl] [nfeat] [nclasses] [file image].  ctl bit 0: recompute the
 * trailing SHA-256 of the image before parsing, so that random damage gets
 * past the checksum and the section walk behind it is what is fuzzed; bits
 * 1-7 seed the plan of typed reads (below).  nfeat and nclasses are what
 * forest_load is told to expect.
 *
 * Checked, aborting on any violation: a failed parse leaves the output
 * empty and says why; a successful one has its sections in order, inside
 * the image, back to back, with unique tags that mf_find returns, and
 * rebuilding them with mf_build gives the image byte for byte (the layout
 * is canonical).  Each section is then read by an mf_cur with a mix of
 * getters chosen by a small PRNG; every value is compared with a direct
 * little-endian decode, the cursor never passes its end, and once bad it
 * stays bad and moves no more.
 *
 * forest_load then gets the FRST section of a valid file, or the whole
 * image when it is not a valid container (so the forest layout is also
 * fuzzed without the container around it).  A forest it accepts must
 * predict probabilities in 0 .. 1 summing to 1, and what it saves must
 * load again and save to the same bytes.
 *
 * The image is also written to a file and read front to back by mf_stream
 * (through a window of 1 to 64 bytes, in reads of 1 to 9 bytes): it must
 * accept exactly when mf_parse does, with the same sections and bytes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "forest/forest.h"
#include "model/modelfile.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t next(uint32_t *s)
{
    /* xorshift32: any nonzero state */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void read_section(const mf_section *sec, uint32_t seed)
{
    mf_cur c = { .p = sec->data, .len = sec->len };
    uint32_t s = seed | 1;
    /* every step either consumes a byte, fails, or is a zero-length read;
     * the bound only stops a long run of the last kind */
    for (size_t step = 0; step < sec->len + 8 && !c.bad; step++) {
        size_t off = c.off;
        const uint8_t *at = sec->data + off;
        size_t left = sec->len - off;
        switch (next(&s) % 7) {
        case 0: {
            uint8_t v = mf_get_u8(&c);
            CHECK(c.bad ? v == 0 && left < 1 : left >= 1 && v == at[0]);
            break;
        }
        case 1: {
            uint32_t v = mf_get_u32(&c);
            CHECK(c.bad ? v == 0 && left < 4 : left >= 4 && v == le(at, 4));
            break;
        }
        case 2: {
            uint64_t v = mf_get_u64(&c);
            CHECK(c.bad ? v == 0 && left < 8 : left >= 8 && v == le(at, 8));
            break;
        }
        case 3: {
            float v = mf_get_f32(&c);
            uint32_t u;
            memcpy(&u, &v, 4);
            CHECK(c.bad ? u == 0 && left < 4 : left >= 4 && u == le(at, 4));
            break;
        }
        case 4: {
            double v = mf_get_f64(&c);
            uint64_t u;
            memcpy(&u, &v, 8);
            CHECK(c.bad ? u == 0 && left < 8 : left >= 8 && u == le(at, 8));
            break;
        }
        case 5: {
            size_t max = next(&s) % 64;
            char *str = mf_get_str(&c, max);
            if (str) {
                CHECK(!c.bad && left >= 4);
                size_t n = (size_t)le(at, 4);
                CHECK(n <= max && strlen(str) == n && memcmp(str, at + 4, n) == 0);
                CHECK(c.off == off + 4 + n);
                free(str);
            } else {
                CHECK(c.bad);
            }
            break;
        }
        default: {
            size_t n = next(&s) % 16;
            const uint8_t *p = mf_get_bytes(&c, n);
            CHECK(c.bad ? p == NULL && left < n : p == at && c.off == off + n);
            break;
        }
        }
        CHECK(c.off <= c.len);
        if (c.bad) {
            CHECK(c.off == off);
            /* sticky: nothing more is read, even zero bytes */
            CHECK(mf_get_u8(&c) == 0 && mf_get_bytes(&c, 0) == NULL);
            CHECK(mf_get_str(&c, 64) == NULL && c.off == off);
        }
    }
}

static void try_forest(const uint8_t *p, size_t len, size_t nfeat, int ncls)
{
    snitch_err e;
    e.msg[0] = '\0';
    forest *m = forest_load(p, len, nfeat, ncls, 0, &e);
    if (!m) {
        CHECK(e.msg[0] != '\0');
        snitch_err e2 = { "" };
        forest *lean = forest_load(p, len, nfeat, ncls, FOREST_LOAD_LEAN, &e2);
        CHECK(lean == NULL && strcmp(e.msg, e2.msg) == 0);
        forest_free(lean);
        return;
    }
    CHECK(forest_nfeatures(m) == nfeat && forest_nclasses(m) == ncls);
    /* two rows: one from the section's bytes, one all NaN (compares false
     * with every threshold) */
    float x[2 * 255];
    double proba[2 * 255];
    for (size_t i = 0; i < nfeat; i++) {
        x[i] = (float)(p[i % len]) - 128.0f;
        x[nfeat + i] = NAN;
    }
    forest_predict_proba(m, x, 2, proba, 1);
    for (int r = 0; r < 2; r++) {
        double sum = 0;
        for (int k = 0; k < ncls; k++) {
            double v = proba[r * ncls + k];
            CHECK(v >= 0 && v <= 1 + 1e-9);
            sum += v;
        }
        CHECK(sum > 1 - 1e-6 && sum < 1 + 1e-6);
    }
    /* A lean load accepts the same input and answers the same, walking
     * the rows both in lanes (2 rows) and one at a time. */
    forest *lean = forest_load(p, len, nfeat, ncls, FOREST_LOAD_LEAN, &e);
    CHECK(lean != NULL);
    if (lean) {
        double pl[2 * 255];
        forest_predict_proba(lean, x, 2, pl, 1);
        CHECK(memcmp(pl, proba, 2 * (size_t)ncls * sizeof *pl) == 0);
        forest_predict_proba(lean, x + nfeat, 1, pl, 1);
        CHECK(memcmp(pl, proba + ncls, (size_t)ncls * sizeof *pl) == 0);
        forest_free(lean);
    }
    double imp[255];
    forest_importances(m, imp);
    /* Saving is not byte-identical to the input (forest_load accepts a
     * leaf threshold of -0.0, saved as 0.0), so check that what is saved
     * loads again and saves to the same bytes. */
    mf_buf b = { 0 }, b2 = { 0 };
    forest_save(m, &b);
    if (!b.oom) {
        forest *m2 = forest_load(b.p, b.len, nfeat, ncls, 0, &e);
        CHECK(m2 != NULL);
        forest_save(m2, &b2);
        if (!b2.oom)
            CHECK(b2.len == b.len && memcmp(b2.p, b.p, b.len) == 0);
        forest_free(m2);
    }
    mf_buf_free(&b);
    mf_buf_free(&b2);
    forest_free(m);
}

static const char *stream_path(void)
{
    static char path[512];
    if (!path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/fuzz_modelfile-%ld.snm", t && *t ? t : "/tmp",
                 (long)getpid());
    }
    return path;
}

/* f: mf_parse's result, NULL when it refused the image. */
static void check_stream(const uint8_t *img, size_t len, const mf_file *f, uint8_t ctl)
{
    FILE *fp = fopen(stream_path(), "wb");
    CHECK(fp && fwrite(img, 1, len, fp) == len && fclose(fp) == 0);
    mf_stream *s = mf_stream_open(stream_path(), (size_t)(ctl >> 2) % 64 + 1);
    int acc = 0;
    size_t i = 0;
    if (s) {
        uint32_t tag, st = ctl | 1u;
        uint64_t l;
        int r;
        while ((r = mf_stream_next(s, &tag, &l)) == 1) {
            CHECK(!f || (i < f->nsec && tag == f->sec[i].tag && l == f->sec[i].len));
            mf_cur c;
            mf_stream_cursor(s, &c);
            size_t want = next(&st) % 3 ? (size_t)l : (size_t)l / 2;
            while (c.off < want) {
                size_t n = next(&st) % 9 + 1, at = c.off;
                if (n > want - c.off)
                    n = want - c.off;
                const uint8_t *b = mf_get_bytes(&c, n);
                if (!b) {
                    CHECK(!f);      /* only a damaged file runs short */
                    break;
                }
                CHECK(!f || memcmp(b, f->sec[i].data + at, n) == 0);
            }
            i++;
        }
        acc = r == 0 && mf_stream_finish(s) == 0;
        mf_stream_close(s);
    }
    unlink(stream_path());
    CHECK(acc == (f != NULL));
    CHECK(!acc || i == f->nsec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t ctl = data[0];
    size_t len = size - 3;
    /* an exact-size copy, so ASan catches a read past the image */
    uint8_t *img = malloc(len ? len : 1);
    if (!img)
        return 0;
    memcpy(img, data + 3, len);
    if ((ctl & 1) && len >= 32) {
        unsigned olen = 0;
        if (EVP_Digest(img, len - 32, img + len - 32, &olen, EVP_sha256(), NULL) != 1)
            abort();
    }

    mf_file f;
    snitch_err e;
    e.msg[0] = '\0';
    if (mf_parse(img, len, &f, &e) != 0) {
        CHECK(e.msg[0] != '\0');
        CHECK(f.raw == NULL && f.sec == NULL && f.nsec == 0);
        mf_file_free(&f);
        check_stream(img, len, NULL, ctl);
        if (len)
            try_forest(img, len, data[1], data[2]);
        free(img);
        return 0;
    }
    CHECK(f.rawlen == len && f.version == MF_VERSION && f.nsec <= 64);
    CHECK(memcmp(f.raw, img, len) == 0);
    size_t off = 16;
    for (size_t i = 0; i < f.nsec; i++) {
        const mf_section *sec = &f.sec[i];
        CHECK(sec->data == f.raw + off + 12 && sec->len <= len - 32 - off - 12);
        CHECK(le(f.raw + off, 4) == sec->tag && le(f.raw + off + 4, 8) == sec->len);
        CHECK(mf_find(&f, sec->tag) == sec);
        off += 12 + sec->len;
    }
    CHECK(off == len - 32);
    check_stream(img, len, &f, ctl);

    mf_buf b = { 0 };
    if (mf_build(f.sec, f.nsec, &b) == 0)
        CHECK(b.len == len && memcmp(b.p, img, len) == 0);
    else
        CHECK(b.oom);
    mf_buf_free(&b);

    for (size_t i = 0; i < f.nsec; i++)
        read_section(&f.sec[i], (uint32_t)(ctl >> 1) << 8 | (uint32_t)i);
    const mf_section *fr = mf_find(&f, MF_TAG('F', 'R', 'S', 'T'));
    if (fr && fr->len)
        try_forest(fr->data, fr->len, data[1], data[2]);

    mf_file_free(&f);
    free(img);
    return 0;
}
