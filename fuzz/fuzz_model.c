/* fuzz_model.c - libFuzzer target for model_load_image (model/model.c):
 * META, and behind it the NNET (nn/net.c) and ENSM sections, recursively.
 *
 * Input: [ctl] [image].  ctl bit 0: recompute the trailing SHA-256 of the
 * image before loading, so damage gets past the checksum.  (Ensemble
 * members carry checksums of their own, which damage inside a member
 * breaks; the seed corpus holds small valid models, a network and an
 * ensemble, whose bytes the fuzzer mutates.)
 *
 * Checked, aborting on any violation: a refused image leaves a message
 * that starts with the name given; an accepted model has consistent
 * shapes, predicts probabilities in 0..1 summing to 1 (for a row of
 * zeros and a row from the input's bytes) or refuses with an error
 * (weights that overflow), and saves to an image that
 * loads again and saves to the same bytes.  The image is also written to a
 * file and read front to back (model_load_streamed, through a window of 1
 * to 64 bytes): a model it gives must be one model_load_image accepts, with
 * the same shape and bit-identical predictions. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "forest/forest.h"
#include "model/model.h"

#include <stdio.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_model(model *m, const uint8_t *data, size_t size)
{
    CHECK(m->nfeat >= 1 && m->nclasses >= 1);
    if (m->nfeat > 4096 || m->nclasses > 4096)
        return;     /* valid but too big to predict cheaply here */
    size_t k = m->nclasses;
    float *x = calloc(2 * m->nfeat, sizeof *x);
    double *p = calloc(2 * k, sizeof *p);
    CHECK(x && p);
    for (size_t i = 0; i < m->nfeat; i++)
        x[m->nfeat + i] = (float)data[i % size] - 100.0f;
    snitch_err e;
    if (model_predict_proba(m, x, 2, p, 1, &e) == 0) {
        for (int r = 0; r < 2; r++) {
            double s = 0;
            for (size_t j = 0; j < k; j++) {
                double v = p[r * k + j];
                CHECK(v >= 0 && v <= 1 + 1e-6);
                s += v;
            }
            CHECK(s > 1 - 1e-4 && s < 1 + 1e-4);
        }
    }
    free(x);
    free(p);
    mf_buf b = {0}, b2 = {0};
    if (model_save(m, &b, &e) == 0) {
        model *m2 = model_load_image(b.p, b.len, "again", &e);
        CHECK(m2 != NULL);
        CHECK(model_save(m2, &b2, &e) == 0);
        CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
        model_free(m2);
    }
    mf_buf_free(&b);
    mf_buf_free(&b2);
}

/* The file the streamed load reads: one per process, rewritten per input. */
static const char *stream_path(void)
{
    static char path[512];
    if (!path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/fuzz_model-%ld.snm", t && *t ? t : "/tmp", (long)getpid());
    }
    return path;
}

static void check_streamed(const uint8_t *img, size_t len, const model *m, size_t window)
{
    FILE *f = fopen(stream_path(), "wb");
    CHECK(f && fwrite(img, 1, len, f) == len && fclose(f) == 0);
    model *s = model_load_streamed(stream_path(), MODEL_LOAD_LEAN, window);
    unlink(stream_path());
    if (!s)
        return;
    CHECK(m != NULL && m->kind == MODEL_FOREST && s->kind == MODEL_FOREST);
    CHECK(s->nfeat == m->nfeat && s->nclasses == m->nclasses && forest_is_lean(s->forest));
    for (size_t i = 0; i < m->nfeat; i++)
        CHECK(!strcmp(s->feat[i], m->feat[i]));
    for (size_t i = 0; i < m->nclasses; i++)
        CHECK(!strcmp(s->classes[i], m->classes[i]));
    if (m->nfeat <= 4096 && m->nclasses <= 4096) {
        size_t k = m->nclasses;
        float *x = calloc(2 * m->nfeat, sizeof *x);
        double *p1 = calloc(2 * k, sizeof *p1), *p2 = calloc(2 * k, sizeof *p2);
        CHECK(x && p1 && p2);
        for (size_t i = 0; i < m->nfeat; i++)
            x[m->nfeat + i] = (float)img[i % len] - 100.0f;
        snitch_err e;
        CHECK(model_predict_proba((model *)m, x, 2, p1, 1, &e) == 0);
        CHECK(model_predict_proba(s, x, 2, p2, 1, &e) == 0);
        CHECK(memcmp(p1, p2, 2 * k * sizeof *p1) == 0);
        free(x);
        free(p1);
        free(p2);
    }
    model_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    size_t len = size - 1;
    uint8_t *img = malloc(len);
    if (!img)
        return 0;
    memcpy(img, data + 1, len);
    if ((ctl & 1) && len >= 32) {
        unsigned olen = 0;
        if (EVP_Digest(img, len - 32, img + len - 32, &olen, EVP_sha256(), NULL) != 1)
            abort();
    }
    snitch_err e;
    e.msg[0] = 0;
    model *m = model_load_image(img, len, "fuzz.snm", &e);
    if (!m)
        CHECK(strncmp(e.msg, "fuzz.snm", 8) == 0);
    else
        check_model(m, img, len);
    check_streamed(img, len, m, (size_t)(ctl >> 1) % 64 + 1);
    model_free(m);
    free(img);
    return 0;
}
