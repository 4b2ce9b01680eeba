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
 * loads again and saves to the same bytes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "model/model.h"

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
    model_free(m);
    free(img);
    return 0;
}
